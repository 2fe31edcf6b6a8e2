#include "optim.h"

#include "err.h"

#include <math.h>
#include <stdlib.h>

int hp_opt_init(hp_opt_t *o, const hp_opt_config_t *cfg, size_t n, char *err, size_t errlen)
{
    o->cfg = *cfg;
    o->n = n;
    o->t = 0;
    o->state = calloc(2 * n + 1, sizeof(float));
    if (!o->state)
        return hp_errf(err, errlen, HP_ENOMEM, "cannot allocate optimizer state (%zu floats)", 2 * n);
    o->m = o->state;
    o->v = o->state + n;
    return 0;
}

void hp_opt_fini(hp_opt_t *o)
{
    free(o->state);
    o->state = o->m = o->v = NULL;
}

int hp_opt_step(hp_opt_t *o, float *params, const float *grads, float lr)
{
    /* x * 0 is 0 for finite x and NaN for NaN/Inf: one sum says it all */
    float poison = 0.0f;
    const hp_opt_config_t *c = &o->cfg;
    size_t n = o->n;
    float wd = c->weight_decay;
    float *m = o->m, *v = o->v;
    o->t++;
    switch (c->kind) {
    case HP_OPT_SGD:
        for (size_t i = 0; i < n; i++) {
            poison += grads[i] * 0.0f;
            params[i] -= lr * (grads[i] + wd * params[i]);
        }
        break;
    case HP_OPT_MOMENTUM:
        for (size_t i = 0; i < n; i++) {
            float g = grads[i] + wd * params[i];
            poison += grads[i] * 0.0f;
            m[i] = o->t == 1 ? g : c->momentum * m[i] + g;
            params[i] -= lr * m[i];
        }
        break;
    case HP_OPT_ADAM:
    case HP_OPT_ADAMW: {
        float b1 = c->beta1, b2 = c->beta2;
        float bc1 = 1.0f - (float)pow(b1, (double)o->t);
        float bc2 = 1.0f - (float)pow(b2, (double)o->t);
        float step = lr / bc1, rbc2 = 1.0f / sqrtf(bc2);
        int decoupled = c->kind == HP_OPT_ADAMW;
        for (size_t i = 0; i < n; i++) {
            float g = grads[i];
            poison += g * 0.0f;
            if (decoupled)
                params[i] -= lr * wd * params[i];
            else
                g += wd * params[i];
            m[i] = b1 * m[i] + (1.0f - b1) * g;
            v[i] = b2 * v[i] + (1.0f - b2) * g * g;
            params[i] -= step * m[i] / (sqrtf(v[i]) * rbc2 + c->eps);
        }
        break;
    }
    }
    return poison != 0.0f;
}

double hp_opt_clip(float *grads, size_t n, float max_norm)
{
    if (max_norm <= 0.0f)
        return 0.0; /* off: do not spend a pass over the gradients */
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)grads[i] * grads[i];
    double norm = sqrt(s);
    if (max_norm > 0.0f && norm > max_norm) {
        float k = (float)(max_norm / (norm + 1e-6));
        for (size_t i = 0; i < n; i++)
            grads[i] *= k;
    }
    return norm;
}

float hp_opt_schedule_lr(const hp_sched_t *s, int epoch, long step)
{
    switch (s->kind) {
    case HP_SCHED_STEP:
        return s->lr * powf(s->gamma, (float)(epoch / (s->step_epochs > 0 ? s->step_epochs : 1)));
    case HP_SCHED_COSINE: {
        double f = s->total_steps > 0 ? (double)step / (double)s->total_steps : 0.0;
        if (f > 1.0)
            f = 1.0;
        return (float)(0.5 * s->lr * (1.0 + cos(M_PI * f)));
    }
    case HP_SCHED_CONSTANT:
    default:
        return s->lr;
    }
}
