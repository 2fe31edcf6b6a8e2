/* One optimizer step: forward, loss, backward, NaN/Inf guard, clip, update.
 * Nothing here allocates: every buffer was sized by hp_trainer_init. */
#include "coral.h"
#include "models_int.h"
#include "train.h"

#include "err.h"
#include "gemm.h"
#include "log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static hp_opt_kind_t opt_kind(const char *s)
{
    if (!strcmp(s, "sgd"))
        return HP_OPT_SGD;
    if (!strcmp(s, "momentum"))
        return HP_OPT_MOMENTUM;
    if (!strcmp(s, "adamw"))
        return HP_OPT_ADAMW;
    return HP_OPT_ADAM;
}

static hp_sched_kind_t sched_kind(const char *s)
{
    if (!strcmp(s, "step"))
        return HP_SCHED_STEP;
    if (!strcmp(s, "cosine"))
        return HP_SCHED_COSINE;
    return HP_SCHED_CONSTANT;
}

/* precision bf16 where it pays: a CPU without AVX512_BF16, or whose bf16
 * products are no faster than its fp32 ones, trains in fp32 and says so
 * (HP_BF16=always in the environment uses bf16 wherever it runs, for its
 * numerics or for tests) */
static void use_bf16(hp_trainer_t *t)
{
    const char *env = getenv("HP_BF16");
    int always = env && strcmp(env, "always") == 0;
    double bf = 0, fp = 0;
    if (!hp_nn_bf16_supported()) {
        hp_log_warn("precision bf16: this CPU has no AVX512_BF16 (or this build no bf16 "
                    "kernel); training in fp32");
    } else if (!always && !hp_nn_bf16_faster(&bf, &fp)) {
        hp_log_warn("precision bf16: on this CPU bf16 products are not faster than fp32 ones "
                    "(%.0f vs %.0f GFLOP/s, measured at start); training in fp32 "
                    "(HP_BF16=always uses bf16 anyway)",
                    bf, fp);
    } else if (hp_nn_model_use_bf16(&t->model) < 0) {
        hp_log_warn("precision bf16: no memory for the bf16 packing buffers; training in fp32");
    }
}

int hp_trainer_init(hp_trainer_t *t, const hp_train_config_t *cfg, int c, int h, int w, int nout,
                    hp_task_t task, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->task = task;
    t->nout = nout;
    t->clip_norm = (float)cfg->clip_norm;
    int rc = hp_train_build_model(&t->model, cfg, c, h, w, nout, err, errlen);
    if (rc == 0)
        rc = hp_nn_model_alloc(&t->model, cfg->batch_size, err, errlen);
    if (rc < 0)
        return rc;
    hp_nn_model_init_params(&t->model, cfg->seed, cfg->stream * 4);
    if (strcmp(cfg->precision, "bf16") == 0)
        use_bf16(t);
    hp_opt_config_t oc = {opt_kind(cfg->optimizer), (float)cfg->momentum, (float)cfg->beta1,
                          (float)cfg->beta2, (float)cfg->eps, (float)cfg->weight_decay};
    rc = hp_opt_init(&t->opt, &oc, t->model.nparams, err, errlen);
    if (rc < 0) {
        hp_trainer_fini(t);
        return rc;
    }
    t->sched.kind = sched_kind(cfg->schedule);
    t->sched.lr = (float)cfg->lr;
    t->sched.step_epochs = cfg->step_epochs;
    t->sched.gamma = (float)cfg->gamma;
    size_t B = (size_t)cfg->batch_size;
    size_t bytes = B * sizeof(int32_t) + 2 * B * (size_t)nout * sizeof(float);
    t->block = calloc(1, bytes);
    if (!t->block) {
        hp_trainer_fini(t);
        return hp_errf(err, errlen, HP_ENOMEM, "cannot allocate the loss buffers");
    }
    t->probs = t->block;
    t->targets = t->probs + B * (size_t)nout;
    t->labels = (int32_t *)(t->targets + B * (size_t)nout);
    return 0;
}

void hp_trainer_fini(hp_trainer_t *t)
{
    hp_nn_model_fini(&t->model);
    hp_opt_fini(&t->opt);
    free(t->block);
    t->block = NULL;
}

static float loss_forward(hp_trainer_t *t, const float *out, int B, int *correct)
{
    if (t->task == HP_TASK_CLASSIFY)
        return hp_nn_xent_forward(t->probs, out, t->labels, B, t->nout, correct);
    if (correct)
        *correct = 0;
    return hp_nn_mse_forward(out, t->targets, (size_t)B * t->nout);
}

int hp_trainer_step(hp_trainer_t *t, int B, float lr, float *loss, int *correct, char *err,
                    size_t errlen)
{
    hp_nn_model_t *m = &t->model;
    hp_nn_set_training(m, 1);
    const float *out = hp_nn_forward(m, B);
    float l = loss_forward(t, out, B, correct);
    long step = t->step + 1;
    if (!isfinite(l)) {
        int at = hp_nn_find_nonfinite_act(m, B);
        if (at >= 0)
            return hp_errf(err, errlen, HP_ENUMERIC,
                           "step %ld: loss is %g; the first non-finite output is in %s", step,
                           (double)l, m->ops[at].name);
        return hp_errf(err, errlen, HP_ENUMERIC,
                       "step %ld: loss is %g though every layer output is finite (bad targets?)",
                       step, (double)l);
    }
    if (loss)
        *loss = l;
    /* the last successful update left the gradients zeroed */
    if (!t->grads_zero)
        hp_nn_zero_grad(m);
    t->grads_zero = 0;
    if (t->task == HP_TASK_CLASSIFY)
        hp_nn_xent_backward(hp_nn_out_grad(m), t->probs, t->labels, B, t->nout);
    else
        hp_nn_mse_backward(hp_nn_out_grad(m), out, t->targets, (size_t)B * t->nout);
    hp_nn_backward(m, B);
    /* the optimizer checks the gradients in its own pass (and clipping
     * sees a non-finite norm); only then do we look for the layer */
    double norm = hp_opt_clip(m->grads, m->nparams, t->clip_norm);
    if (!isfinite(norm) || hp_opt_step_zero(&t->opt, m->params, m->grads, lr)) {
        const char *which = "";
        int bad = hp_nn_find_nonfinite_grad(m, &which);
        HP_ASSERT(bad >= 0);
        return hp_errf(err, errlen, HP_ENUMERIC, "step %ld: non-finite gradient of %s %s", step,
                       m->ops[bad].name, which);
    }
    t->grads_zero = 1;
    t->step = step;
    return 0;
}

float hp_trainer_eval(hp_trainer_t *t, int B, int *correct)
{
    hp_nn_set_training(&t->model, 0);
    const float *out = hp_nn_forward(&t->model, B);
    return loss_forward(t, out, B, correct);
}

void hp_trainer_evaluate(hp_trainer_t *t, int Bmax, const hp_dataset_t *ds, const uint32_t *idx,
                         size_t n, const hp_norm_t *norm, double *loss, double *error)
{
    hp_trainer_evaluate_pred(t, Bmax, ds, idx, n, norm, loss, error, NULL, NULL);
}

void hp_trainer_evaluate_pred(hp_trainer_t *t, int Bmax, const hp_dataset_t *ds,
                              const uint32_t *idx, size_t n, const hp_norm_t *norm, double *loss,
                              double *error, long *pred, double *reg)
{
    double ls = 0;
    long correct = 0;
    if (pred && t->task == HP_TASK_CLASSIFY)
        memset(pred, 0, sizeof *pred * (size_t)t->nout);
    if (t->task != HP_TASK_REGRESS)
        reg = NULL;
    if (reg)
        memset(reg, 0, sizeof *reg * 5 * (size_t)t->nout);
    if (n == 0) {
        *loss = *error = NAN;
        return;
    }
    for (size_t i = 0; i < n; i += (size_t)Bmax) {
        int B = n - i < (size_t)Bmax ? (int)(n - i) : Bmax;
        hp_data_gather(t->model.input, t->labels, t->targets, ds, idx + i, B, norm, NULL, NULL);
        if (t->coral)
            hp_coral_apply(t->coral, t->model.input, B);
        int c = 0;
        hp_nn_set_training(&t->model, 0);
        const float *out = hp_nn_forward(&t->model, B);
        ls += (double)loss_forward(t, out, B, &c) * B;
        correct += c;
        for (int b = 0; reg && b < B; b++)
            for (int k = 0; k < t->nout; k++) {
                double p = out[(size_t)b * (size_t)t->nout + (size_t)k];
                double y = t->targets[(size_t)b * (size_t)t->nout + (size_t)k];
                double *s = reg + 5 * (size_t)k;
                s[0] += p;
                s[1] += y;
                s[2] += p * p;
                s[3] += y * y;
                s[4] += p * y;
            }
        if (pred && t->task == HP_TASK_CLASSIFY)
            for (int b = 0; b < B; b++) { /* the predicted class: the first largest */
                const float *p = t->probs + (size_t)b * (size_t)t->nout;
                int k = 0;
                for (int j = 1; j < t->nout; j++)
                    k = p[j] > p[k] ? j : k;
                pred[k]++;
            }
    }
    *loss = ls / (double)n;
    *error = ds->task == HP_TASK_CLASSIFY ? 1.0 - (double)correct / (double)n : sqrt(*loss);
}
