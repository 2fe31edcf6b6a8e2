/* model_check.h — whole-model gradient checks shared by the worker suites:
 * a trainer's model is probed with the batch-summed cross-entropy, after
 * mc_prepare has filled a random batch and run the analytic backward.
 *
 *     mc_t mc;
 *     mc_prepare(&t, &mc, 4, seed);          (t from hp_trainer_init)
 *     gc_check(what, op->param[k], op->plen[k], op->grad[k], mc_loss, &mc, ...); */
#ifndef HP_TEST_MODEL_CHECK_H
#define HP_TEST_MODEL_CHECK_H

#include "gradcheck.h"
#include "train.h"

#include <check.h>

/* one training setting "key=value", which must be accepted */
static inline void mc_set(hp_train_config_t *cfg, const char *kv)
{
    char err[512];
    ck_assert_msg(hp_train_config_set_kv(cfg, kv, err, sizeof err) == 0, "%s", err);
}

typedef struct mc {
    hp_trainer_t *t;
    int B;
    hp_rng_t r0; /* the model's rng before the first probe */
} mc_t;

/* the probe: the batch's summed cross-entropy, with the same dropout
 * masks at every call */
static inline double mc_loss(void *p)
{
    mc_t *c = p;
    c->t->model.rng = c->r0;
    hp_nn_set_training(&c->t->model, 1);
    const float *out = hp_nn_forward(&c->t->model, c->B);
    return (double)hp_nn_xent_forward(c->t->probs, out, c->t->labels, c->B, c->t->nout, NULL) *
           c->B;
}

/* a batch of B random inputs (seeded) with labels i % nout,
 * then forward and backward: t's grads are the analytic gradient of
 * mc_loss (scaled by the batch, as the probe is a sum) */
static inline void mc_prepare(hp_trainer_t *t, mc_t *mc, int B, uint64_t seed)
{
    hp_rng_t r;
    hp_rng_init(&r, seed, 1);
    gc_fill(&r, t->model.input, (size_t)B * t->model.in_size, 1.0);
    for (int i = 0; i < B; i++)
        t->labels[i] = i % t->nout;
    *mc = (mc_t){t, B, t->model.rng};
    mc_loss(mc);
    hp_nn_zero_grad(&t->model);
    hp_nn_xent_backward(hp_nn_out_grad(&t->model), t->probs, t->labels, B, t->nout);
    hp_nn_backward(&t->model, B);
    for (size_t i = 0; i < t->model.nparams; i++)
        t->model.grads[i] *= (float)B;
}

#endif
