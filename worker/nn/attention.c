/* A transformer encoder layer: multi-head scaled dot-product
 * self-attention, then a position-wise feed-forward network, each with a
 * residual sum and a layer norm after it (post-norm). The projections are
 * GEMMs over all B T rows; attention is two small products per sample and
 * head (hp_nn_gemm_small: at 28 x 28 x 16 OpenBLAS's call and packing cost
 * more than the multiply), reading Q, K, V in place in the (B T, 3D)
 * projection. */
#include "fastmath_int.h"
#include "gemm.h"
#include "layer.h"
#include "layer_arch.h"
#include "simd_int.h"

#include <math.h>
#include <string.h>

typedef struct offs {
    size_t wqkv, bqkv, wo, bo, g1, be1, w1, b1, w2, b2, g2, be2, n;
} offs_t;

static offs_t offsets(const hp_nn_attn_dims_t *d)
{
    size_t D = (size_t)d->D, F = (size_t)d->F;
    offs_t o;
    o.wqkv = 0;
    o.bqkv = o.wqkv + 3 * D * D;
    o.wo = o.bqkv + 3 * D;
    o.bo = o.wo + D * D;
    o.g1 = o.bo + D;
    o.be1 = o.g1 + D;
    o.w1 = o.be1 + D;
    o.b1 = o.w1 + F * D;
    o.w2 = o.b1 + F;
    o.b2 = o.w2 + D * F;
    o.g2 = o.b2 + D;
    o.be2 = o.g2 + D;
    o.n = o.be2 + D;
    return o;
}

size_t hp_nn_attn_nparams(const hp_nn_attn_dims_t *d)
{
    return offsets(d).n;
}

/* cache: qkv (R, 3D), P (B, H, T, T), o (R, D), xh1 (R, D), rs1 (R),
 * h1 (R, D), f (R, F), xh2 (R, D), rs2 (R); R = B T */
size_t hp_nn_attn_cache_size(const hp_nn_attn_dims_t *d)
{
    size_t R = (size_t)d->B * d->T, D = (size_t)d->D;
    return R * 3 * D + (size_t)d->B * d->H * d->T * d->T + 4 * R * D + 2 * R + R * d->F;
}

/* the small products' packing scratch, W */
static size_t small_scratch(const hp_nn_attn_dims_t *d)
{
    int dh = d->D / d->H;
    size_t a = hp_nn_gemm_small_scratch(dh, d->T), b = hp_nn_gemm_small_scratch(d->T, dh);
    return a > b ? a : b;
}

/* scratch: r (R, D), dh1 (R, D), df (R, F), dqkv (R, 3D), dP (T, T), W */
size_t hp_nn_attn_scratch_size(const hp_nn_attn_dims_t *d)
{
    size_t R = (size_t)d->B * d->T, D = (size_t)d->D;
    return 5 * R * D + R * d->F + (size_t)d->T * d->T + small_scratch(d);
}

static float *small_w(float *scratch, const hp_nn_attn_dims_t *d)
{
    size_t R = (size_t)d->B * d->T, D = (size_t)d->D;
    return scratch + 5 * R * D + R * d->F + (size_t)d->T * d->T;
}

static void fill_normal(hp_rng_t *r, float *p, size_t n, double std)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(std * hp_rng_normal(r));
}

void hp_nn_attn_init(float *p, hp_rng_t *r, const hp_nn_attn_dims_t *d)
{
    offs_t o = offsets(d);
    double D = d->D, F = d->F;
    memset(p, 0, sizeof(float) * o.n);
    fill_normal(r, p + o.wqkv, o.bqkv - o.wqkv, sqrt(2.0 / (D + D)));
    fill_normal(r, p + o.wo, o.bo - o.wo, sqrt(2.0 / (D + D)));
    fill_normal(r, p + o.w1, o.b1 - o.w1, sqrt(2.0 / D));
    fill_normal(r, p + o.w2, o.b2 - o.w2, sqrt(2.0 / (D + F)));
    for (int j = 0; j < d->D; j++)
        p[o.g1 + j] = p[o.g2 + j] = 1.0f;
}

typedef struct cache {
    float *qkv, *P, *o, *xh1, *rs1, *h1, *f, *xh2, *rs2;
} cache_t;

static cache_t split(float *c, const hp_nn_attn_dims_t *d)
{
    size_t R = (size_t)d->B * d->T, D = (size_t)d->D;
    cache_t k;
    k.qkv = c;
    k.P = k.qkv + R * 3 * D;
    k.o = k.P + (size_t)d->B * d->H * d->T * d->T;
    k.xh1 = k.o + R * D;
    k.rs1 = k.xh1 + R * D;
    k.h1 = k.rs1 + R;
    k.f = k.h1 + R * D;
    k.xh2 = k.f + R * d->F;
    k.rs2 = k.xh2 + R * D;
    return k;
}

/* separate passes for max, exp and sum, so each vectorizes (a running
 * sum inside the exp loop would keep it scalar) */
HP_NN_INLINE void softmax_rows(float *s, int T)
{
    for (int i = 0; i < T; i++) {
        float *r = s + (size_t)i * T, m = r[0];
        for (int j = 1; j < T; j++)
            m = r[j] > m ? r[j] : m;
        for (int j = 0; j < T; j++)
            r[j] = hp_fexp(r[j] - m);
        float inv = 1.0f / hp_fsum8(r, (size_t)T);
        for (int j = 0; j < T; j++)
            r[j] *= inv;
    }
}

HP_NN_SIMD_CLONES
void hp_nn_attn_forward(float *out, float *cache, float *scratch, const float *in,
                        const float *p, const hp_nn_attn_dims_t *d)
{
    offs_t o = offsets(d);
    cache_t c = split(cache, d);
    int T = d->T, D = d->D, H = d->H, dh = D / H, R = d->B * T, D3 = 3 * D;
    float scale = 1.0f / sqrtf((float)dh), *r = scratch, *W = small_w(scratch, d);
    hp_nn_dense_dims_t dq = {R, D, D3}, dd = {R, D, D}, d1 = {R, D, d->F}, d2 = {R, d->F, D};
    hp_nn_dense_forward(c.qkv, in, p + o.wqkv, p + o.bqkv, &dq);
    for (int b = 0; b < d->B; b++)
        for (int h = 0; h < H; h++) {
            const float *q = c.qkv + (size_t)b * T * D3 + h * dh, *k = q + D, *v = q + 2 * D;
            float *P = c.P + ((size_t)b * H + h) * T * T;
            hp_nn_gemm_small(T, T, dh, scale, q, D3, 1, k, 1, D3, P, T, W); /* Q K^T */
            softmax_rows(P, T);
            hp_nn_gemm_small(T, dh, T, 1.0f, P, T, 1, v, D3, 1, c.o + (size_t)b * T * D + h * dh,
                             D, W); /* P V */
        }
    hp_nn_dense_forward(r, c.o, p + o.wo, p + o.bo, &dd);
    for (size_t i = 0; i < (size_t)R * D; i++)
        r[i] += in[i];
    hp_nn_layernorm_forward(c.h1, c.xh1, c.rs1, r, p + o.g1, p + o.be1, R, D);
    hp_nn_dense_forward(c.f, c.h1, p + o.w1, p + o.b1, &d1);
    hp_nn_relu_forward(c.f, c.f, (size_t)R * d->F);
    hp_nn_dense_forward(r, c.f, p + o.w2, p + o.b2, &d2);
    for (size_t i = 0; i < (size_t)R * D; i++)
        r[i] += c.h1[i];
    hp_nn_layernorm_forward(out, c.xh2, c.rs2, r, p + o.g2, p + o.be2, R, D);
}

HP_NN_SIMD_CLONES
void hp_nn_attn_backward(float *din, float *dp, const float *dout, const float *in,
                         const float *cache, float *scratch, const float *p,
                         const hp_nn_attn_dims_t *d)
{
    offs_t o = offsets(d);
    cache_t c = split((float *)cache, d);
    int T = d->T, D = d->D, H = d->H, dh = D / H, R = d->B * T, D3 = 3 * D;
    size_t RD = (size_t)R * D;
    float scale = 1.0f / sqrtf((float)dh);
    float *dr = scratch, *dh1 = dr + RD, *df = dh1 + RD, *dqkv = df + (size_t)R * d->F,
          *dP = dqkv + 3 * RD, *W = small_w(scratch, d);
    hp_nn_dense_dims_t dq = {R, D, D3}, dd = {R, D, D}, d1 = {R, D, d->F}, d2 = {R, d->F, D};
    /* LN2, the FFN and its residual */
    hp_nn_layernorm_backward(dr, dp + o.g2, dp + o.be2, dout, c.xh2, c.rs2, p + o.g2, R, D);
    hp_nn_dense_backward(df, dp + o.w2, dp + o.b2, dr, c.f, p + o.w2, &d2);
    hp_nn_relu_backward(df, df, c.f, (size_t)R * d->F);
    hp_nn_dense_backward(dh1, dp + o.w1, dp + o.b1, df, c.h1, p + o.w1, &d1);
    for (size_t i = 0; i < RD; i++)
        dh1[i] += dr[i];
    /* LN1, then the output projection: d o into dr */
    hp_nn_layernorm_backward(dh1, dp + o.g1, dp + o.be1, dh1, c.xh1, c.rs1, p + o.g1, R, D);
    hp_nn_dense_backward(dr, dp + o.wo, dp + o.bo, dh1, c.o, p + o.wo, &dd);
    /* attention, per sample and head */
    for (int b = 0; b < d->B; b++)
        for (int h = 0; h < H; h++) {
            size_t base = (size_t)b * T * D3 + h * dh;
            const float *q = c.qkv + base, *k = q + D, *v = q + 2 * D;
            const float *P = c.P + ((size_t)b * H + h) * T * T;
            const float *dO = dr + (size_t)b * T * D + h * dh;
            float *dq_ = dqkv + base, *dk = dq_ + D, *dv = dq_ + 2 * D;
            hp_nn_gemm_small(T, T, dh, 1.0f, dO, D, 1, v, 1, D3, dP, T, W); /* dO V^T */
            hp_nn_gemm_small(T, dh, T, 1.0f, P, 1, T, dO, D, 1, dv, D3, W); /* P^T dO */
            for (int i = 0; i < T; i++) {
                float *g = dP + (size_t)i * T;
                const float *pr = P + (size_t)i * T;
                float s = 0.0f;
                for (int j = 0; j < T; j++)
                    s += g[j] * pr[j];
                for (int j = 0; j < T; j++)
                    g[j] = pr[j] * (g[j] - s);
            }
            hp_nn_gemm_small(T, dh, T, scale, dP, T, 1, k, D3, 1, dq_, D3, W); /* dS K */
            hp_nn_gemm_small(T, dh, T, scale, dP, 1, T, q, D3, 1, dk, D3, W); /* dS^T Q */
        }
    hp_nn_dense_backward(din, dp + o.wqkv, dp + o.bqkv, dqkv, in, p + o.wqkv, &dq);
    if (din)
        for (size_t i = 0; i < RD; i++)
            din[i] += dh1[i];
}
