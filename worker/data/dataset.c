#include "dataset.h"

#include "err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void hp_dataset_fini(hp_dataset_t *ds)
{
    free(ds->x8);
    free(ds->xf);
    free(ds->y);
    free(ds->yt);
    if (ds->feature_names)
        for (size_t i = 0; i < ds->dim; i++)
            free(ds->feature_names[i]);
    free(ds->feature_names);
    memset(ds, 0, sizeof *ds);
}

static void *dup_block(const void *p, size_t bytes, int *fail)
{
    if (!p || *fail)
        return NULL;
    void *q = malloc(bytes ? bytes : 1);
    if (!q) {
        *fail = 1;
        return NULL;
    }
    memcpy(q, p, bytes);
    return q;
}

int hp_dataset_copy(hp_dataset_t *dst, const hp_dataset_t *src, char *err, size_t errlen)
{
    int fail = 0;
    *dst = *src;
    dst->x8 = dup_block(src->x8, src->n * src->dim, &fail);
    dst->xf = dup_block(src->xf, src->n * src->dim * sizeof(float), &fail);
    dst->y = dup_block(src->y, src->n * sizeof(int32_t), &fail);
    dst->yt = dup_block(src->yt, src->n * sizeof(float), &fail);
    dst->feature_names = NULL;
    if (!fail && src->feature_names) {
        dst->feature_names = calloc(src->dim ? src->dim : 1, sizeof(char *));
        fail = !dst->feature_names;
        for (size_t i = 0; !fail && i < src->dim; i++)
            fail = !(dst->feature_names[i] = strdup(src->feature_names[i]));
    }
    if (fail) {
        /* the names array may be partly filled; hp_dataset_fini frees
         * dim entries, so keep its count consistent */
        hp_dataset_fini(dst);
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory copying a dataset of %zu samples",
                       src->n);
    }
    return 0;
}

size_t hp_dataset_bytes(const hp_dataset_t *ds)
{
    size_t b = 0;
    if (ds->x8)
        b += ds->n * ds->dim;
    if (ds->xf)
        b += ds->n * ds->dim * sizeof(float);
    if (ds->y)
        b += ds->n * sizeof(int32_t);
    if (ds->yt)
        b += ds->n * sizeof(float);
    return b;
}

int hp_split_init(hp_split_t *s, const hp_dataset_t *ds, size_t ntest, size_t nval,
                  size_t ntrain, uint64_t seed, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    if (ds->n > UINT32_MAX)
        return hp_errf(err, errlen, HP_ERANGE, "dataset too large (%zu samples)", ds->n);
    if (ntest + nval >= ds->n)
        return hp_errf(err, errlen, HP_EINVAL,
                       "test_size %zu + val_size %zu leave no training samples (dataset has %zu)",
                       ntest, nval, ds->n);
    size_t rest = ds->n - ntest - nval;
    if (ntrain > rest)
        return hp_errf(err, errlen, HP_EINVAL,
                       "train_size %zu is more than the %zu samples left after the held-out splits",
                       ntrain, rest);
    if (ntrain == 0)
        ntrain = rest;
    s->perm = malloc(sizeof(uint32_t) * (ds->n ? ds->n : 1));
    if (!s->perm)
        return hp_errf(err, errlen, HP_ENOMEM, "cannot allocate split");
    for (size_t i = 0; i < ds->n; i++)
        s->perm[i] = (uint32_t)i;
    hp_rng_t r;
    hp_rng_init(&r, seed, 0x5011u);
    hp_rng_shuffle_u32(&r, s->perm, (uint32_t)ds->n);
    s->test = s->perm;
    s->ntest = ntest;
    s->val = s->perm + ntest;
    s->nval = nval;
    s->train = s->perm + ntest + nval;
    s->ntrain = ntrain;
    return 0;
}

void hp_split_fini(hp_split_t *s)
{
    free(s->perm);
    memset(s, 0, sizeof *s);
}

static double feature(const hp_dataset_t *ds, size_t i, size_t j)
{
    return ds->x8 ? (double)ds->x8[i * ds->dim + j] : (double)ds->xf[i * ds->dim + j];
}

int hp_norm_fit(hp_norm_t *nm, const hp_dataset_t *ds, const uint32_t *idx, size_t n,
                hp_norm_kind_t kind, char *err, size_t errlen)
{
    memset(nm, 0, sizeof *nm);
    nm->kind = kind;
    nm->dim = ds->dim;
    nm->shift = malloc(sizeof(float) * 2 * ds->dim);
    if (!nm->shift)
        return hp_errf(err, errlen, HP_ENOMEM, "cannot allocate normalization");
    nm->scale = nm->shift + ds->dim;
    size_t D = ds->dim;
    int image = ds->x8 != NULL;
    /* the statistics' groups of columns: one per column, but for a
     * sequence (T, F) one per feature, pooled over the time steps, so a
     * step keeps its place in the sequence's pattern (columns j and
     * j + F are the same feature at consecutive steps) */
    size_t ng = !image && ds->seq_f > 0 && D % (size_t)ds->seq_f == 0 ? (size_t)ds->seq_f : D;
    if (kind == HP_NORM_NONE) {
        for (size_t j = 0; j < D; j++) {
            nm->shift[j] = 0.0f;
            nm->scale[j] = 1.0f;
        }
        return 0;
    }
    if (n == 0)
        return hp_errf(err, errlen, HP_EINVAL, "cannot normalize: empty training split");
    if (kind == HP_NORM_STANDARD) {
        if (image) {
            double s = 0, s2 = 0;
            for (size_t k = 0; k < n; k++) {
                const uint8_t *p = ds->x8 + (size_t)idx[k] * D;
                uint64_t a = 0, a2 = 0;
                for (size_t j = 0; j < D; j++) {
                    a += p[j];
                    a2 += (uint64_t)p[j] * p[j];
                }
                s += (double)a;
                s2 += (double)a2;
            }
            double cnt = (double)n * D, mu = s / cnt, var = s2 / cnt - mu * mu;
            float sc = var > 1e-12 ? (float)(1.0 / sqrt(var)) : 1.0f;
            for (size_t j = 0; j < D; j++) {
                nm->shift[j] = (float)mu;
                nm->scale[j] = sc;
            }
        } else {
            for (size_t g = 0; g < ng; g++) {
                double s = 0, s2 = 0;
                for (size_t j = g; j < D; j += ng)
                    for (size_t k = 0; k < n; k++) {
                        double v = feature(ds, idx[k], j);
                        s += v;
                        s2 += v * v;
                    }
                double cnt = (double)n * (double)(D / ng);
                double mu = s / cnt, var = s2 / cnt - mu * mu;
                /* a constant column stays constant (0) instead of dividing by 0 */
                float sc = var > 1e-12 ? (float)(1.0 / sqrt(var)) : 1.0f;
                for (size_t j = g; j < D; j += ng) {
                    nm->shift[j] = (float)mu;
                    nm->scale[j] = sc;
                }
            }
        }
        return 0;
    }
    /* UNIT / CENTER: map [lo, hi] to [0, 1] (then shift by 0.5) */
    for (size_t g = 0; g < ng; g++) {
        double lo = 0, hi = 255;
        if (!image) {
            lo = hi = feature(ds, idx[0], g);
            for (size_t j = g; j < D; j += ng)
                for (size_t k = 0; k < n; k++) {
                    double v = feature(ds, idx[k], j);
                    lo = v < lo ? v : lo;
                    hi = v > hi ? v : hi;
                }
        }
        double range = hi - lo > 1e-12 ? hi - lo : 1.0;
        double sh = kind == HP_NORM_CENTER ? lo + 0.5 * range : lo;
        for (size_t j = g; j < D; j += ng) {
            nm->shift[j] = (float)sh;
            nm->scale[j] = (float)(1.0 / range);
        }
    }
    return 0;
}

void hp_norm_fini(hp_norm_t *nm)
{
    free(nm->shift);
    memset(nm, 0, sizeof *nm);
}

int hp_data_shift(hp_dataset_t *ds, hp_shift_kind_t kind, char *err, size_t errlen)
{
    if (kind == HP_SHIFT_NONE || kind == HP_SHIFT_SAME)
        return 0;
    if (!ds->x8)
        return hp_errf(err, errlen, HP_EINVAL,
                       "shift: needs an image dataset (fashion-mnist), not tabular data");
    size_t D = ds->dim;
    for (size_t i = 0; i < ds->n; i++) {
        uint8_t *p = ds->x8 + i * D;
        if (kind == HP_SHIFT_DARKEN) {
            for (size_t j = 0; j < D; j++)
                p[j] = (uint8_t)((unsigned)p[j] * 2 / 5); /* x 0.4, rounded down */
            continue;
        }
        hp_rng_t r;
        hp_rng_init(&r, 0x5417f7u, i);
        for (size_t j = 0; j < D; j++) {
            double v = (double)p[j] + 0.3 * 255.0 * hp_rng_normal(&r);
            v = v < 0 ? 0 : v > 255 ? 255 : v;
            p[j] = (uint8_t)(v + 0.5 < 255 ? v + 0.5 : 255);
        }
    }
    return 0;
}

/* The batch is converted and normalized in one pass, which is also the
 * copy: uint8 images cannot be viewed as floats in place, and a float copy
 * of the data set would cost 4x its memory. GCC emits an AVX2 copy of the
 * pass beside the baseline one and picks at load time by the CPU (an
 * ifunc), as the engine's kernels do (worker/nn/simd_int.h). */
#define PREFETCH 4

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
void hp_data_gather(float *x, int32_t *y, float *yt, const hp_dataset_t *ds, const uint32_t *idx,
                    int B, const hp_norm_t *nm, const hp_augment_t *aug, hp_rng_t *rng)
{
    size_t D = ds->dim;
    int doaug = aug && ds->x8 && (aug->shift > 0 || aug->flip);
    /* the examples of a shuffled batch are scattered over the data set,
     * each a miss to memory the hardware cannot predict: the rows PREFETCH
     * examples ahead are asked for while this one converts: a batch of
     * 128 Fashion-MNIST images in a shuffled order took 41 us, 17 with
     * this (4, 8 or 16 ahead are alike; the first lines alone, 21) */
    size_t row = ds->xf ? D * sizeof(float) : D;
    const char *base = ds->xf ? (const char *)ds->xf : (const char *)ds->x8;
    for (int b = 0; b < B; b++) {
        size_t i = idx[b];
        float *o = x + (size_t)b * D;
        if (b + PREFETCH < B && base) {
            const char *q = base + (size_t)idx[b + PREFETCH] * row;
            for (size_t off = 0; off < row; off += 64)
                __builtin_prefetch(q + off);
        }
        if (y)
            y[b] = ds->y ? ds->y[i] : 0;
        if (yt)
            yt[b] = ds->yt ? ds->yt[i] : 0.0f;
        if (ds->xf) {
            const float *p = ds->xf + i * D;
            for (size_t j = 0; j < D; j++)
                o[j] = (p[j] - nm->shift[j]) * nm->scale[j];
            continue;
        }
        const uint8_t *p = ds->x8 + i * D;
        if (!doaug) {
            for (size_t j = 0; j < D; j++)
                o[j] = ((float)p[j] - nm->shift[j]) * nm->scale[j];
            continue;
        }
        int dx = 0, dy = 0, flip = 0;
        if (aug->shift > 0) {
            dx = (int)hp_rng_below(rng, (uint64_t)(2 * aug->shift + 1)) - aug->shift;
            dy = (int)hp_rng_below(rng, (uint64_t)(2 * aug->shift + 1)) - aug->shift;
        }
        if (aug->flip)
            flip = (int)hp_rng_below(rng, 2);
        /* per row: the valid source columns form one range, so the inner
         * loops are branch-free (a per-pixel bounds check made augmented
         * batches 5x slower to gather than the training step itself) */
        int w = ds->w, q0, q1;
        if (!flip) { /* source column q - dx */
            q0 = dx > 0 ? dx : 0;
            q1 = dx < 0 ? w + dx : w;
        } else { /* source column w - 1 - q - dx */
            q0 = dx < 0 ? -dx : 0;
            q1 = dx > 0 ? w - dx : w;
        }
        q0 = q0 < w ? q0 : w; /* a shift wider than the image leaves background */
        for (int c = 0; c < ds->c; c++)
            for (int r = 0; r < ds->h; r++) {
                size_t j0 = ((size_t)c * ds->h + r) * w;
                const float *sh = nm->shift + j0, *sc = nm->scale + j0;
                float *orow = o + j0;
                int sr = r - dy;
                if (sr < 0 || sr >= ds->h) { /* background: a raw 0 pixel */
                    for (int q = 0; q < w; q++)
                        orow[q] = -sh[q] * sc[q];
                    continue;
                }
                const uint8_t *prow = p + ((size_t)c * ds->h + sr) * w;
                for (int q = 0; q < q0; q++)
                    orow[q] = -sh[q] * sc[q];
                if (!flip)
                    for (int q = q0; q < q1; q++)
                        orow[q] = ((float)prow[q - dx] - sh[q]) * sc[q];
                else
                    for (int q = q0; q < q1; q++)
                        orow[q] = ((float)prow[w - 1 - q - dx] - sh[q]) * sc[q];
                for (int q = q1 > q0 ? q1 : q0; q < w; q++)
                    orow[q] = -sh[q] * sc[q];
            }
    }
}
