/* Strided convolution without bias (im2col + GEMM over groups of
 * samples) and global average pooling: the ResNet's pieces. */
#include "gemm.h"
#include "layer_arch.h"

#include <string.h>

void hp_nn_convs_dims(hp_nn_convs_dims_t *d)
{
    d->Ho = (d->H + 2 * d->pad - d->k) / d->stride + 1;
    d->Wo = (d->W + 2 * d->pad - d->k) / d->stride + 1;
}

/* Samples per GEMM: with a ResNet's few channels (M = K = 16..64) one
 * sample's GEMM is thin, so as many samples share one col matrix as fit
 * in about 1M floats (4 MB): N = G Ho Wo is then thousands wide. */
static int group(const hp_nn_convs_dims_t *d)
{
    size_t col = (size_t)d->C * d->k * d->k * d->Ho * d->Wo;
    int g = (int)((1u << 20) / (col ? col : 1));
    g = g < 1 ? 1 : g;
    return g < d->B ? g : d->B;
}

size_t hp_nn_convs_scratch_size(const hp_nn_convs_dims_t *d)
{
    size_t gL = (size_t)group(d) * d->Ho * d->Wo;
    return ((size_t)d->C * d->k * d->k + d->K) * gL;
}

/* the output columns ox whose input column ox s + j - p is inside the
 * image: [*lo, *hi) */
static void valid_cols(int j, const hp_nn_convs_dims_t *d, int *lo, int *hi)
{
    int s = d->stride, off = j - d->pad, a = 0, b = d->Wo;
    while (a < b && a * s + off < 0)
        a++;
    while (b > a && (b - 1) * s + off >= d->W)
        b--;
    *lo = a;
    *hi = b;
}

/* dst[0..n) = src[0..n) and += for short n (an image row of 7 or 14):
 * whole 8- and 4-float pieces of constant size, which compile to vector
 * moves, where a variable-size memcpy is a libc call and GCC's vectorized
 * add loop leaves most of such a row to its scalar tail */
static inline void copy_row(float *dst, const float *src, int n)
{
    if (n > 16) { /* long enough for the call to pay */
        memcpy(dst, src, sizeof(float) * (size_t)n);
        return;
    }
    /* straight-line: GCC turns a loop of pieces back into a memcpy call */
    int i = 0;
    if (n >= 8)
        memcpy(dst, src, 8 * sizeof(float)), i = 8;
    if (n - i >= 8)
        memcpy(dst + i, src + i, 8 * sizeof(float)), i += 8;
    if (n - i >= 4)
        memcpy(dst + i, src + i, 4 * sizeof(float)), i += 4;
    if (n - i >= 2)
        memcpy(dst + i, src + i, 2 * sizeof(float)), i += 2;
    if (n - i >= 1)
        dst[i] = src[i];
}

static inline void add_row(float *dst, const float *src, int n)
{
    typedef float v4 __attribute__((vector_size(16)));
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        v4 a, b;
        memcpy(&a, dst + i, sizeof a);
        memcpy(&b, src + i, sizeof b);
        a += b;
        memcpy(dst + i, &a, sizeof a);
    }
    for (; i < n; i++)
        dst[i] += src[i];
}

/* col (C k k, G L): column n L + oy Wo + ox of sample n of the group. The
 * valid range of each row is found once, so the copy loops have no
 * bounds tests (and are whole-row pieces at stride 1). */
static void im2col(float *col, const float *in, int G, const hp_nn_convs_dims_t *d)
{
    int k = d->k, s = d->stride, p = d->pad, Ho = d->Ho, Wo = d->Wo, H = d->H, W = d->W;
    size_t L = (size_t)Ho * Wo, GL = (size_t)G * L, isz = (size_t)d->C * H * W;
    for (int j = 0; j < k; j++) {
        int lo, hi;
        valid_cols(j, d, &lo, &hi);
        int off = j - p;
        for (int c = 0; c < d->C; c++)
            for (int i = 0; i < k; i++) {
                float *row = col + ((size_t)(c * k + i) * k + j) * GL;
                for (int n = 0; n < G; n++) {
                    const float *x = in + n * isz + (size_t)c * H * W;
                    float *r = row + n * L;
                    for (int oy = 0; oy < Ho; oy++) {
                        int iy = oy * s + i - p;
                        float *ro = r + (size_t)oy * Wo;
                        if (iy < 0 || iy >= H || lo >= hi) {
                            memset(ro, 0, sizeof(float) * (size_t)Wo);
                            continue;
                        }
                        const float *xr = x + (size_t)iy * W + off;
                        for (int ox = 0; ox < lo; ox++)
                            ro[ox] = 0.0f;
                        if (s == 1)
                            copy_row(ro + lo, xr + lo, hi - lo);
                        else
                            for (int ox = lo; ox < hi; ox++)
                                ro[ox] = xr[ox * s];
                        for (int ox = hi; ox < Wo; ox++)
                            ro[ox] = 0.0f;
                    }
                }
            }
    }
}

/* din (G samples) += col2im(dcol); din zeroed by the caller */
static void col2im(float *din, const float *col, int G, const hp_nn_convs_dims_t *d)
{
    int k = d->k, s = d->stride, p = d->pad, Ho = d->Ho, Wo = d->Wo, H = d->H, W = d->W;
    size_t L = (size_t)Ho * Wo, GL = (size_t)G * L, isz = (size_t)d->C * H * W;
    for (int j = 0; j < k; j++) {
        int lo, hi;
        valid_cols(j, d, &lo, &hi);
        int off = j - p;
        if (lo >= hi)
            continue;
        for (int c = 0; c < d->C; c++)
            for (int i = 0; i < k; i++) {
                const float *row = col + ((size_t)(c * k + i) * k + j) * GL;
                for (int n = 0; n < G; n++) {
                    float *x = din + n * isz + (size_t)c * H * W;
                    const float *r = row + n * L;
                    for (int oy = 0; oy < Ho; oy++) {
                        int iy = oy * s + i - p;
                        if (iy < 0 || iy >= H)
                            continue;
                        float *xr = x + (size_t)iy * W + off;
                        const float *ro = r + (size_t)oy * Wo;
                        if (s == 1)
                            add_row(xr + lo, ro + lo, hi - lo);
                        else
                            for (int ox = lo; ox < hi; ox++)
                                xr[ox * s] += ro[ox];
                    }
                }
            }
    }
}

void hp_nn_convs_forward(float *out, const float *in, const float *w, float *scratch,
                         const hp_nn_convs_dims_t *d)
{
    int g = group(d), CKK = d->C * d->k * d->k;
    size_t L = (size_t)d->Ho * d->Wo, isz = (size_t)d->C * d->H * d->W, osz = (size_t)d->K * L;
    float *col = scratch, *og = col + (size_t)CKK * g * L;
    for (int n0 = 0; n0 < d->B; n0 += g) {
        int G = d->B - n0 < g ? d->B - n0 : g;
        size_t GL = (size_t)G * L;
        im2col(col, in + n0 * isz, G, d);
        /* og (K, G L) = w (K, CKK) @ col (CKK, G L) */
        hp_nn_gemm(0, 0, d->K, (int)GL, CKK, 1.0f, w, CKK, col, (int)GL, 0.0f, og, (int)GL);
        if (G == 1) {
            memcpy(out + n0 * osz, og, sizeof(float) * osz);
            continue;
        }
        for (int n = 0; n < G; n++)
            for (int kk = 0; kk < d->K; kk++)
                memcpy(out + (n0 + n) * osz + kk * L, og + kk * GL + n * L, sizeof(float) * L);
    }
}

void hp_nn_convs_backward(float *din, float *dw, const float *dout, const float *in,
                          const float *w, float *scratch, const hp_nn_convs_dims_t *d)
{
    int g = group(d), CKK = d->C * d->k * d->k;
    size_t L = (size_t)d->Ho * d->Wo, isz = (size_t)d->C * d->H * d->W, osz = (size_t)d->K * L;
    float *col = scratch, *og = col + (size_t)CKK * g * L;
    if (din)
        memset(din, 0, sizeof(float) * isz * (size_t)d->B);
    for (int n0 = 0; n0 < d->B; n0 += g) {
        int G = d->B - n0 < g ? d->B - n0 : g;
        size_t GL = (size_t)G * L;
        const float *dg = dout + n0 * osz;
        if (G > 1) {
            for (int n = 0; n < G; n++)
                for (int kk = 0; kk < d->K; kk++)
                    memcpy(og + kk * GL + n * L, dout + (n0 + n) * osz + kk * L,
                           sizeof(float) * L);
            dg = og;
        }
        im2col(col, in + n0 * isz, G, d);
        /* dw (K, CKK) += dout (K, G L) @ col^T */
        hp_nn_gemm(0, 1, d->K, CKK, (int)GL, 1.0f, dg, (int)GL, col, (int)GL, 1.0f, dw, CKK);
        if (!din)
            continue;
        /* dcol (CKK, G L) = w^T @ dout, into col (no longer needed) */
        hp_nn_gemm(1, 0, CKK, (int)GL, d->K, 1.0f, w, CKK, dg, (int)GL, 0.0f, col, (int)GL);
        col2im(din + n0 * isz, col, G, d);
    }
}

void hp_nn_gap_forward(float *out, const float *in, int B, int C, int S)
{
    float inv = 1.0f / (float)S;
    for (size_t r = 0; r < (size_t)B * C; r++) {
        const float *x = in + r * S;
        float s = 0.0f;
        for (int i = 0; i < S; i++)
            s += x[i];
        out[r] = s * inv;
    }
}

void hp_nn_gap_backward(float *din, const float *dout, int B, int C, int S)
{
    float inv = 1.0f / (float)S;
    for (size_t r = 0; r < (size_t)B * C; r++) {
        float g = dout[r] * inv;
        float *x = din + r * S;
        for (int i = 0; i < S; i++)
            x[i] = g;
    }
}
