/* conv2d as im2col + sgemm per sample (or the direct kernels of
 * conv_direct.c, by shape), and maxpool. */
#include "conv_int.h"
#include "fastmath_int.h"
#include "gemm.h"
#include "layer.h"
#include "simd_int.h"

#include <string.h>


void hp_nn_conv2d_dims(hp_nn_conv2d_dims_t *d)
{
    d->Ho = d->H + 2 * d->pad - d->kh + 1;
    d->Wo = d->W + 2 * d->pad - d->kw + 1;
}

/* The im2col here works on a zero-padded copy P (C, Hp, Wp) of one sample
 * and computes the output over the full padded width: out_full (K, Ho, Wp),
 * whose last Wp - Wo columns are discarded. Then row (c, i, j) of the col
 * matrix is ONE contiguous slice of P, P + c Hp Wp + i Wp + j, of length
 * Ho Wp: im2col is kh kw C memcpys instead of kh kw C Ho short rows. The
 * price is (Wp - Wo) / Wo extra GEMM columns; profiling LeNet showed the
 * short-row im2col at a quarter of the step, far more than that.
 *
 * The forward GEMM produces the output transposed, (Ho Wp, K): the long
 * dimension is then M, along which OpenBLAS's small-matrix kernels
 * vectorize, while K (channels) is only 6 or 16 in LeNet (+6% there).
 * The weight gradient is likewise computed as col @ dout^T and added
 * transposed (that orientation timed ~2x faster for these shapes). The
 * input-gradient GEMM transposed, or several samples per GEMM, measured
 * slower, so those stay per sample and untransposed. */
typedef struct geom {
    int Hp, Wp, CKK;
    size_t L, plane, pad_sz; /* L = Ho Wp */
} geom_t;

static geom_t geom(const hp_nn_conv2d_dims_t *d)
{
    geom_t g;
    g.Hp = d->H + 2 * d->pad;
    g.Wp = d->W + 2 * d->pad;
    g.CKK = d->C * d->kh * d->kw;
    g.L = (size_t)d->Ho * g.Wp;
    g.plane = (size_t)g.Hp * g.Wp;
    g.pad_sz = (size_t)d->C * g.plane + (size_t)d->kw; /* slices overrun by kw - 1 */
    return g;
}

/* The direct kernels beat OpenBLAS on every shape measured
 * (engine_step_bench conv: 1-128 channels, 8x8 to 28x28) until one
 * sample's padded input outgrows the core's fast caches: each dw tile
 * streams all of it, and at 32 channels of 34x34 (148 KB) the GEMM path's
 * backward was 20% faster. 128 KB is between the largest shape where
 * direct still won (83 KB) and that one. */
#define DIRECT_MAX_PLANE_FLOATS 32768

hp_nn_conv_algo_t hp_nn_conv2d_pick(const hp_nn_conv2d_dims_t *d)
{
    size_t padded = (size_t)d->C * (size_t)(d->H + 2 * d->pad) * (size_t)(d->W + 2 * d->pad);
    return padded <= DIRECT_MAX_PLANE_FLOATS ? HP_NN_CONV_DIRECT : HP_NN_CONV_GEMM;
}

size_t hp_nn_conv2d_scratch_size(const hp_nn_conv2d_dims_t *d)
{
    geom_t g = geom(d);
    size_t gemm = ((size_t)g.CKK + d->K) * g.L + g.pad_sz + (size_t)g.CKK * d->K;
    size_t direct = hp_nn_conv2d_direct_scratch(d);
    return gemm > direct ? gemm : direct;
}

/* P (C, Hp, Wp) = one sample of in, zero-padded, then the col matrix */
static void im2col(float *col, float *P, const float *in, const hp_nn_conv2d_dims_t *d,
                   const geom_t *g)
{
    memset(P, 0, sizeof(float) * g->pad_sz);
    for (int c = 0; c < d->C; c++)
        for (int y = 0; y < d->H; y++)
            memcpy(P + c * g->plane + (size_t)(y + d->pad) * g->Wp + d->pad,
                   in + ((size_t)c * d->H + y) * d->W, sizeof(float) * (size_t)d->W);
    for (int c = 0; c < d->C; c++)
        for (int i = 0; i < d->kh; i++)
            for (int j = 0; j < d->kw; j++)
                memcpy(col + ((size_t)(c * d->kh + i) * d->kw + j) * g->L,
                       P + c * g->plane + (size_t)i * g->Wp + j, sizeof(float) * g->L);
}

void hp_nn_conv2d_forward(float *out, const float *in, const float *w, const float *b,
                          float *scratch, const hp_nn_conv2d_dims_t *d)
{
    hp_nn_conv2d_forward_algo(hp_nn_conv2d_pick(d), out, in, w, b, scratch, d);
}

void hp_nn_conv2d_forward_algo(hp_nn_conv_algo_t a, float *out, const float *in, const float *w,
                               const float *b, float *scratch, const hp_nn_conv2d_dims_t *d)
{
    if (a == HP_NN_CONV_DIRECT) {
        hp_nn_conv2d_direct_forward(out, in, w, b, scratch, d);
        return;
    }
    geom_t g = geom(d);
    float *col = scratch, *full = col + (size_t)g.CKK * g.L, *P = full + (size_t)d->K * g.L;
    size_t in_sz = (size_t)d->C * d->H * d->W, out_sz = (size_t)d->K * d->Ho * d->Wo;
    for (int n = 0; n < d->B; n++) {
        im2col(col, P, in + n * in_sz, d, &g);
        /* full^T (Ho Wp, K) = col^T (Ho Wp, CKK) @ w^T (CKK, K) */
        hp_nn_gemm(1, 1, (int)g.L, d->K, g.CKK, 1.0f, col, (int)g.L, w, g.CKK, 0.0f, full,
                   d->K);
        float *o = out + n * out_sz;
        for (int k = 0; k < d->K; k++) {
            float bias = b ? b[k] : 0.0f;
            for (int y = 0; y < d->Ho; y++) {
                const float *s = full + ((size_t)y * g.Wp) * d->K + k;
                float *t = o + ((size_t)k * d->Ho + y) * d->Wo;
                for (int x = 0; x < d->Wo; x++)
                    t[x] = s[(size_t)x * d->K] + bias;
            }
        }
    }
}

void hp_nn_conv2d_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                           const float *w, float *scratch, const hp_nn_conv2d_dims_t *d)
{
    hp_nn_conv2d_backward_algo(hp_nn_conv2d_pick(d), din, dw, db, dout, in, w, scratch, d);
}

void hp_nn_conv2d_backward_algo(hp_nn_conv_algo_t a, float *din, float *dw, float *db,
                                const float *dout, const float *in, const float *w,
                                float *scratch, const hp_nn_conv2d_dims_t *d)
{
    if (a == HP_NN_CONV_DIRECT) {
        hp_nn_conv2d_direct_backward(din, dw, db, dout, in, w, scratch, d);
        return;
    }
    geom_t g = geom(d);
    float *col = scratch, *full = col + (size_t)g.CKK * g.L, *P = full + (size_t)d->K * g.L;
    size_t in_sz = (size_t)d->C * d->H * d->W, out_sz = (size_t)d->K * d->Ho * d->Wo;
    for (int n = 0; n < d->B; n++) {
        const float *go = dout + n * out_sz;
        /* dout at full width, zero in the discarded columns so they add nothing */
        for (int k = 0; k < d->K; k++) {
            if (db)
                db[k] += hp_fsum8(go + (size_t)k * d->Ho * d->Wo, (size_t)d->Ho * d->Wo);
            for (int y = 0; y < d->Ho; y++) {
                const float *s = go + ((size_t)k * d->Ho + y) * d->Wo;
                float *t = full + (size_t)k * g.L + (size_t)y * g.Wp;
                for (int x = 0; x < d->Wo; x++)
                    t[x] = s[x];
                for (int x = d->Wo; x < g.Wp; x++)
                    t[x] = 0.0f;
            }
        }
        /* recomputing im2col is cheaper than keeping B of them in memory */
        im2col(col, P, in + n * in_sz, d, &g);
        /* dw (K, CKK) += (col (CKK, L) @ full^T)^T: OpenBLAS runs this
         * orientation about twice as fast for LeNet's shapes (measured) */
        float *tw = P + g.pad_sz;
        hp_nn_gemm(0, 1, g.CKK, d->K, (int)g.L, 1.0f, col, (int)g.L, full, (int)g.L, 0.0f, tw,
                   d->K);
        for (int k = 0; k < d->K; k++)
            for (int r = 0; r < g.CKK; r++)
                dw[(size_t)k * g.CKK + r] += tw[(size_t)r * d->K + k];
        if (!din)
            continue;
        /* dcol (CKK, Ho Wp) = w^T @ full, into col; then scatter-add the
         * slices back into a padded gradient plane and crop it */
        hp_nn_gemm(1, 0, g.CKK, (int)g.L, d->K, 1.0f, w, g.CKK, full, (int)g.L, 0.0f, col,
                   (int)g.L);
        memset(P, 0, sizeof(float) * g.pad_sz);
        for (int c = 0; c < d->C; c++)
            for (int i = 0; i < d->kh; i++)
                for (int j = 0; j < d->kw; j++) {
                    const float *s = col + ((size_t)(c * d->kh + i) * d->kw + j) * g.L;
                    float *t = P + c * g.plane + (size_t)i * g.Wp + j;
                    for (size_t q = 0; q < g.L; q++)
                        t[q] += s[q];
                }
        float *gi = din + n * in_sz;
        for (int c = 0; c < d->C; c++)
            for (int y = 0; y < d->H; y++)
                memcpy(gi + ((size_t)c * d->H + y) * d->W,
                       P + c * g.plane + (size_t)(y + d->pad) * g.Wp + d->pad,
                       sizeof(float) * (size_t)d->W);
    }
}

/* the larger of a, b, or a NaN if either is one (a NaN must propagate);
 * ties keep a, the earlier element in row-major order, which backward
 * relies on */
static inline float pick(float a, float b)
{
    return a != a ? a : !(b <= a) ? b : a;
}

/* The forward pass keeps no argmax: a pure max over windows vectorizes,
 * and backward finds the winner again by comparing with the output. */
void hp_nn_maxpool_forward(float *out, const float *in, const hp_nn_maxpool_dims_t *d)
{
    int k = d->k, W = d->W;
    for (int p = 0; p < d->B * d->C; p++) {
        const float *s = in + (size_t)p * d->H * W;
        float *o = out + (size_t)p * d->Ho * d->Wo;
        for (int y = 0; y < d->Ho; y++) {
            const float *r = s + (size_t)(k * y) * W;
            float *oy = o + (size_t)y * d->Wo;
            if (k == 2) {
                const float *r1 = r + W;
                for (int x = 0; x < d->Wo; x++)
                    oy[x] = pick(pick(r[2 * x], r[2 * x + 1]), pick(r1[2 * x], r1[2 * x + 1]));
                continue;
            }
            for (int x = 0; x < d->Wo; x++) {
                float m = r[k * x];
                for (int i = 0; i < k; i++)
                    for (int j = 0; j < k; j++)
                        m = pick(m, r[(size_t)i * W + k * x + j]);
                oy[x] = m;
            }
        }
    }
}

/* One row pair of a 2x2 pool's backward, 4 windows per step: the pairs
 * of a window row sit in adjacent lanes, so swapping neighbours (an
 * in-lane shuffle) sets each value beside its rival, the comparisons
 * give every lane its own win mask, and the gradient is masked in place
 * with no branch and no deinterleaving. Same decisions as forward's
 * pick(): ties go to the left, then to the top. */
HP_NN_CLONES
static void pool2_backward_rows(float *g0, float *g1, const float *r0, const float *r1,
                                const float *go, int Wo)
{
    typedef hp_v8i v8i;
    const v8i odd = {0, -1, 0, -1, 0, -1, 0, -1};
    int x = 0;
    for (; x + 4 <= Wo; x += 4) {
        hp_v8 a = hp_v8_load(r0 + 2 * x), c = hp_v8_load(r1 + 2 * x);
        hp_v8 as = HP_V8_SHUFFLE(a, 1, 0, 3, 2, 5, 4, 7, 6);
        hp_v8 cs = HP_V8_SHUFFLE(c, 1, 0, 3, 2, 5, 4, 7, 6);
        /* the right element wins if greater, the left unless beaten */
        v8i wa = (odd & (a > as)) | (~odd & ~(as > a));
        v8i wc = (odd & (c > cs)) | (~odd & ~(cs > c));
        hp_v8 m1 = (hp_v8)(((v8i)a & wa) | ((v8i)as & ~wa));
        hp_v8 m2 = (hp_v8)(((v8i)c & wc) | ((v8i)cs & ~wc));
        v8i bot = m2 > m1;
        hp_v8 v = {0};
        memcpy(&v, go + x, 4 * sizeof(float));
        v = HP_V8_SHUFFLE(v, 0, 0, 1, 1, 2, 2, 3, 3);
        hp_v8_store(g0 + 2 * x, (hp_v8)((v8i)v & ~bot & wa));
        hp_v8_store(g1 + 2 * x, (hp_v8)((v8i)v & bot & wc));
    }
    for (; x < Wo; x++) {
        float a = r0[2 * x], b = r0[2 * x + 1], c = r1[2 * x], e = r1[2 * x + 1];
        float sb = b > a ? 1.0f : 0.0f, se = e > c ? 1.0f : 0.0f;
        float m1 = b > a ? b : a, m2 = e > c ? e : c;
        float s2 = m2 > m1 ? 1.0f : 0.0f;
        float v = go[x], top = v * (1.0f - s2), bot = v * s2;
        g0[2 * x] = top * (1.0f - sb);
        g0[2 * x + 1] = top * sb;
        g1[2 * x] = bot * (1.0f - se);
        g1[2 * x + 1] = bot * se;
    }
}

void hp_nn_maxpool_backward(float *din, const float *dout, const float *in,
                            const hp_nn_maxpool_dims_t *d)
{
    int k = d->k, W = d->W;
    if (k == 2) {
        /* replay forward's decisions (same pick order) and write all four
         * window positions: branch-free, and no memset of din */
        if (d->H % 2 || W % 2)
            memset(din, 0, sizeof(float) * (size_t)d->B * d->C * d->H * W);
        for (int p = 0; p < d->B * d->C; p++) {
            const float *s = in + (size_t)p * d->H * W;
            float *g = din + (size_t)p * d->H * W;
            const float *go = dout + (size_t)p * d->Ho * d->Wo;
            for (int y = 0; y < d->Ho; y++) {
                const float *r0 = s + (size_t)(2 * y) * W;
                float *g0 = g + (size_t)(2 * y) * W;
                /* a NaN never reaches backward (the step stops at the
                 * loss), so plain comparisons replay forward's choices */
                pool2_backward_rows(g0, g0 + W, r0, r0 + W, go + (size_t)y * d->Wo, d->Wo);
            }
        }
        return;
    }
    /* any k: replay forward's pick() sequence to find each window's winner */
    memset(din, 0, sizeof(float) * (size_t)d->B * d->C * d->H * W);
    for (int p = 0; p < d->B * d->C; p++) {
        const float *s = in + (size_t)p * d->H * W;
        float *g = din + (size_t)p * d->H * W;
        const float *go = dout + (size_t)p * d->Ho * d->Wo;
        for (int y = 0; y < d->Ho; y++)
            for (int x = 0; x < d->Wo; x++) {
                size_t best = (size_t)(k * y) * W + (size_t)k * x;
                float m = s[best];
                for (int i = 0; i < k; i++)
                    for (int j = 0; j < k; j++) {
                        size_t c = (size_t)(k * y + i) * W + (size_t)k * x + j;
                        if (m == m && !(s[c] <= m)) { /* where pick() takes s[c] */
                            m = s[c];
                            best = c;
                        }
                    }
                g[best] = go[y * d->Wo + x];
            }
    }
}
