/*
 * optim.h — optimizers, gradient clipping and learning-rate schedules over
 * a model's flat parameter block.
 *
 * Semantics follow PyTorch so results can be compared: `weight_decay` is an
 * L2 term added to the gradient for SGD / momentum / Adam, and decoupled
 * (p -= lr * wd * p) for AdamW; momentum is v = mu v + g, p -= lr v;
 * Adam uses bias-corrected moments.
 *
 *     hp_opt_t o;
 *     hp_opt_init(&o, &cfg, m.nparams, err, errlen);   // allocates m, v once
 *     ... each step:
 *     hp_opt_clip(m.grads, m.nparams, cfg.clip_norm);
 *     if (hp_opt_step(&o, m.params, m.grads, hp_opt_schedule_lr(&sched, epoch, step)))
 *         ... stop: a gradient was not finite ...
 *     hp_opt_fini(&o);
 */
#ifndef HP_NN_OPTIM_H
#define HP_NN_OPTIM_H

#include <stddef.h>

typedef enum hp_opt_kind {
    HP_OPT_SGD,
    HP_OPT_MOMENTUM,
    HP_OPT_ADAM,
    HP_OPT_ADAMW,
} hp_opt_kind_t;

typedef struct hp_opt_config {
    hp_opt_kind_t kind;
    float momentum;     /* HP_OPT_MOMENTUM */
    float beta1, beta2, eps;
    float weight_decay; /* 0 = off */
} hp_opt_config_t;

typedef struct hp_opt {
    hp_opt_config_t cfg;
    size_t n;
    long t;        /* steps taken */
    float *state;  /* one block: m (n) then v (n) */
    float *m, *v;
} hp_opt_t;

/* hp_opt_init allocates zeroed optimizer state for n parameters. */
int hp_opt_init(hp_opt_t *o, const hp_opt_config_t *cfg, size_t n, char *err, size_t errlen);
void hp_opt_fini(hp_opt_t *o); /* safe on zeroed memory */
/* hp_opt_step updates params in place from grads with learning rate lr.
 * Returns 1 if any gradient was NaN or Inf (the update is then poisoned and
 * training must stop), else 0; checked in the same pass to save one trip
 * through memory per step. */
int hp_opt_step(hp_opt_t *o, float *params, const float *grads, float lr);
/* hp_opt_step_zero is hp_opt_step that also zeroes grads in the same pass,
 * so the next step's backward can accumulate into them without a memset
 * of its own (one trip through the gradients instead of two). It works in
 * chunks of 4096 and zeroes each after updating it: when it returns 1,
 * the gradients of the chunk holding the first non-finite one and of all
 * after it are kept, so the caller can still find the layer (parameters
 * up to that chunk are updated, and the update is poisoned as with
 * hp_opt_step). */
int hp_opt_step_zero(hp_opt_t *o, float *params, float *grads, float lr);
/* hp_opt_clip scales grads so their global L2 norm is at most max_norm
 * and returns the norm before clipping; max_norm <= 0 means off: no pass
 * over the gradients, returns 0. */
double hp_opt_clip(float *grads, size_t n, float max_norm);

typedef enum hp_sched_kind {
    HP_SCHED_CONSTANT,
    HP_SCHED_STEP,   /* lr * gamma^(epoch / step_epochs) */
    HP_SCHED_COSINE, /* lr/2 (1 + cos(pi step / total_steps)), per step */
} hp_sched_kind_t;

typedef struct hp_sched {
    hp_sched_kind_t kind;
    float lr;
    int step_epochs;
    float gamma;
    long total_steps;
} hp_sched_t;

/* hp_opt_schedule_lr is the learning rate for a step in an epoch (0-based). */
float hp_opt_schedule_lr(const hp_sched_t *s, int epoch, long step);

#endif
