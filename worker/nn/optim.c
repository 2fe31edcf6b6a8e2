#include "optim.h"

#include "err.h"
#include "simd_int.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* The update loops are one plain loop each over restrict pointers, which
 * GCC vectorises whole (sqrt and divide included, with -fno-math-errno).
 * Whether a gradient was not finite is an int OR (|g| <= FLT_MAX fails
 * for NaN and Inf): an integer reduction GCC may reorder, where a float
 * sum (the g * 0 "poison" this replaced) is one it may not, and had to be
 * written in blocks of lanes whose per-block alias checks were a third of
 * the Adam loop. The order of the arithmetic per parameter is that of the
 * scalar code, so results match it bit for bit. Adam, a tenth of an MLP
 * step, gets the AVX-512 clone too (HP_NN_SIMD_CLONES: twice the lanes
 * per divide and square root); the others are memory-bound. */
HP_NN_INLINE int not_finite(float g)
{
    return !(fabsf(g) <= FLT_MAX);
}

HP_NN_CLONES
static int sgd_block(float *restrict p, const float *restrict g, size_t n, float lr, float wd)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        bad |= not_finite(g[i]);
        p[i] -= lr * (g[i] + wd * p[i]);
    }
    return bad;
}

HP_NN_CLONES
static int momentum_block(float *restrict p, const float *restrict g, float *restrict m, size_t n,
                          float lr, float wd, float mu, int first)
{
    int bad = 0;
    /* the first step sets m = g (PyTorch) */
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + wd * p[i];
        bad |= not_finite(g[i]);
        m[i] = first ? gi : mu * m[i] + gi;
        p[i] -= lr * m[i];
    }
    return bad;
}

typedef struct adam_k {
    float b1, b2, step, rbc2, eps, l2, decay; /* decay: lr * wd for AdamW, else 0 */
} adam_k_t;

HP_NN_SIMD_CLONES
static int adam_block(float *restrict p, const float *restrict g, float *restrict m,
                      float *restrict v, size_t n, adam_k_t k)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        float pi = p[i], gi = g[i];
        bad |= not_finite(gi);
        pi -= k.decay * pi; /* AdamW: decoupled (decay 0 otherwise) */
        gi += k.l2 * pi;    /* Adam: L2 on the gradient (l2 0 for AdamW) */
        float mi = k.b1 * m[i] + (1.0f - k.b1) * gi;
        float vi = k.b2 * v[i] + (1.0f - k.b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi - k.step * mi / (sqrtf(vi) * k.rbc2 + k.eps);
    }
    return bad;
}

/* the constants of one step; advances o->t */
typedef struct step_k {
    hp_opt_kind_t kind;
    float lr, wd, mu;
    int first;
    adam_k_t adam;
} step_k_t;

static step_k_t step_begin(hp_opt_t *o, float lr)
{
    const hp_opt_config_t *c = &o->cfg;
    step_k_t k;
    memset(&k, 0, sizeof k);
    k.kind = c->kind;
    k.lr = lr;
    k.wd = c->weight_decay;
    k.mu = c->momentum;
    o->t++;
    k.first = o->t == 1;
    if (c->kind == HP_OPT_ADAM || c->kind == HP_OPT_ADAMW) {
        float b1 = c->beta1, b2 = c->beta2;
        float bc1 = 1.0f - (float)pow(b1, (double)o->t);
        float bc2 = 1.0f - (float)pow(b2, (double)o->t);
        int decoupled = c->kind == HP_OPT_ADAMW;
        k.adam = (adam_k_t){b1,  b2, lr / bc1, 1.0f / sqrtf(bc2), c->eps, decoupled ? 0.0f : k.wd,
                            decoupled ? lr * k.wd : 0.0f};
    }
    return k;
}

/* parameters [i, i + n) */
static int update(hp_opt_t *o, const step_k_t *k, float *params, const float *grads, size_t i,
                  size_t n)
{
    switch (k->kind) {
    case HP_OPT_SGD:
        return sgd_block(params + i, grads + i, n, k->lr, k->wd);
    case HP_OPT_MOMENTUM:
        return momentum_block(params + i, grads + i, o->m + i, n, k->lr, k->wd, k->mu, k->first);
    case HP_OPT_ADAM:
    case HP_OPT_ADAMW:
        return adam_block(params + i, grads + i, o->m + i, o->v + i, n, k->adam);
    }
    return 0;
}

int hp_opt_step(hp_opt_t *o, float *params, const float *grads, float lr)
{
    step_k_t k = step_begin(o, lr);
    return update(o, &k, params, grads, 0, o->n);
}

/* 16 KB of gradients: the zeroing finds them in L1 after the update read
 * them, so it costs no trip to memory (a separate memset of the whole
 * block did) */
#define CHUNK 4096

int hp_opt_step_zero(hp_opt_t *o, float *params, float *grads, float lr)
{
    step_k_t k = step_begin(o, lr);
    for (size_t i = 0; i < o->n; i += CHUNK) {
        size_t n = o->n - i < CHUNK ? o->n - i : CHUNK;
        if (update(o, &k, params, grads, i, n))
            return 1; /* this chunk's gradients and the rest kept, for the diagnosis */
        memset(grads + i, 0, sizeof(float) * n);
    }
    return 0;
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
