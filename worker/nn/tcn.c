/* A WaveNet-like residual block: causal dilated convolution, gated
 * tanh x sigmoid unit, 1x1 convolution and the residual sum. The causal
 * convolution is one GEMM over all B T steps of an im2col matrix whose
 * row (b, t) holds the k taps x[b, t - (k - 1 - j) dil] (zeros before the
 * start): k memcpys of D floats per step. */
#include "fastmath_int.h"
#include "gemm.h"
#include "layer.h"
#include "layer_arch.h"
#include "simd_int.h"

#include <math.h>
#include <string.h>

typedef struct offs {
    size_t wc, bc, wr, br, n;
} offs_t;

static offs_t offsets(const hp_nn_tcn_dims_t *d)
{
    size_t D = (size_t)d->D;
    offs_t o;
    o.wc = 0;
    o.bc = o.wc + 2 * D * d->k * D;
    o.wr = o.bc + 2 * D;
    o.br = o.wr + D * D;
    o.n = o.br + D;
    return o;
}

size_t hp_nn_tcn_nparams(const hp_nn_tcn_dims_t *d)
{
    return offsets(d).n;
}

/* cache: col (B T, k D), th, sg, g (B T, D) */
size_t hp_nn_tcn_cache_size(const hp_nn_tcn_dims_t *d)
{
    size_t r = (size_t)d->B * d->T;
    return r * d->k * d->D + 3 * r * d->D;
}

/* scratch: z / dz (B T, 2D), dg (B T, D), dcol (B T, k D) */
size_t hp_nn_tcn_scratch_size(const hp_nn_tcn_dims_t *d)
{
    size_t r = (size_t)d->B * d->T;
    return 3 * r * d->D + r * d->k * d->D;
}

static void fill_normal(hp_rng_t *r, float *p, size_t n, double std)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(std * hp_rng_normal(r));
}

void hp_nn_tcn_init(float *p, hp_rng_t *r, const hp_nn_tcn_dims_t *d)
{
    offs_t o = offsets(d);
    double D = d->D;
    memset(p, 0, sizeof(float) * o.n);
    fill_normal(r, p + o.wc, o.bc - o.wc, sqrt(2.0 / (d->k * D + 2 * D)));
    fill_normal(r, p + o.wr, o.br - o.wr, sqrt(2.0 / (D + D)));
}

/* the gated unit of one step; restrict lets the loop vectorize */
HP_NN_INLINE void gate(float *restrict th, float *restrict sg, float *restrict g,
                       const float *restrict z, int D)
{
    for (int j = 0; j < D; j++)
        th[j] = hp_ftanh(z[j]);
    for (int j = 0; j < D; j++)
        sg[j] = hp_fsigmoid(z[D + j]);
    for (int j = 0; j < D; j++)
        g[j] = th[j] * sg[j];
}

HP_NN_INLINE void gate_backward(float *restrict dz, const float *restrict th,
                                const float *restrict sg, const float *restrict dg, int D)
{
    for (int j = 0; j < D; j++) {
        dz[j] = dg[j] * sg[j] * (1.0f - th[j] * th[j]);
        dz[D + j] = dg[j] * th[j] * sg[j] * (1.0f - sg[j]);
    }
}

HP_NN_SIMD_CLONES
void hp_nn_tcn_forward(float *out, float *cache, float *scratch, const float *in, const float *p,
                       const hp_nn_tcn_dims_t *d)
{
    offs_t o = offsets(d);
    int T = d->T, D = d->D, k = d->k, R = d->B * T, kD = k * D;
    size_t r = (size_t)R;
    float *col = cache, *th = col + r * kD, *sg = th + r * D, *g = sg + r * D, *z = scratch;
    for (int b = 0; b < d->B; b++)
        for (int t = 0; t < T; t++) {
            float *row = col + ((size_t)b * T + t) * kD;
            for (int j = 0; j < k; j++) {
                int ts = t - (k - 1 - j) * d->dil;
                if (ts < 0)
                    memset(row + (size_t)j * D, 0, sizeof(float) * (size_t)D);
                else
                    memcpy(row + (size_t)j * D, in + ((size_t)b * T + ts) * D,
                           sizeof(float) * (size_t)D);
            }
        }
    hp_nn_dense_dims_t dz = {R, kD, 2 * D};
    hp_nn_dense_forward(z, col, p + o.wc, p + o.bc, &dz);
    for (size_t i = 0; i < r; i++)
        gate(th + i * D, sg + i * D, g + i * D, z + i * 2 * D, D);
    /* out = x + g wr^T + br: seed with x + br, GEMM with beta 1 */
    for (size_t i = 0; i < r; i++)
        for (int j = 0; j < D; j++)
            out[i * D + j] = in[i * D + j] + p[o.br + j];
    hp_nn_gemm(0, 1, R, D, D, 1.0f, g, D, p + o.wr, D, 1.0f, out, D);
}

HP_NN_SIMD_CLONES
void hp_nn_tcn_backward(float *din, float *dp, const float *dout, const float *in,
                        const float *cache, float *scratch, const float *p,
                        const hp_nn_tcn_dims_t *d)
{
    (void)in;
    offs_t o = offsets(d);
    int T = d->T, D = d->D, k = d->k, R = d->B * T, kD = k * D;
    size_t r = (size_t)R;
    const float *col = cache, *th = col + r * kD, *sg = th + r * D, *g = sg + r * D;
    float *dz = scratch, *dg = dz + r * 2 * D, *dcol = dg + r * D;
    hp_nn_dense_dims_t dr = {R, D, D};
    hp_nn_dense_backward(dg, dp + o.wr, dp + o.br, dout, g, p + o.wr, &dr);
    for (size_t i = 0; i < r; i++)
        gate_backward(dz + i * 2 * D, th + i * D, sg + i * D, dg + i * D, D);
    hp_nn_dense_dims_t dc = {R, kD, 2 * D};
    hp_nn_dense_backward(din ? dcol : NULL, dp + o.wc, dp + o.bc, dz, col, p + o.wc, &dc);
    if (!din)
        return;
    memcpy(din, dout, sizeof(float) * r * D); /* the residual path */
    for (int b = 0; b < d->B; b++)
        for (int t = 0; t < T; t++) {
            const float *row = dcol + ((size_t)b * T + t) * kD;
            for (int j = 0; j < k; j++) {
                int ts = t - (k - 1 - j) * d->dil;
                if (ts < 0)
                    continue;
                float *x = din + ((size_t)b * T + ts) * D;
                const float *s = row + (size_t)j * D;
                for (int c = 0; c < D; c++)
                    x[c] += s[c];
            }
        }
}
