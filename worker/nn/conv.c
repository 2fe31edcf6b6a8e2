/* conv2d as im2col + sgemm per sample, and maxpool. */
#include "gemm.h"
#include "layer.h"

#include <string.h>

void hp_nn_conv2d_dims(hp_nn_conv2d_dims_t *d)
{
    d->Ho = d->H + 2 * d->pad - d->kh + 1;
    d->Wo = d->W + 2 * d->pad - d->kw + 1;
}

size_t hp_nn_conv2d_col_size(const hp_nn_conv2d_dims_t *d)
{
    return (size_t)d->C * d->kh * d->kw * (size_t)d->Ho * d->Wo;
}

/* valid output columns x in [*x0, *x1) for kernel column j */
static void xrange(const hp_nn_conv2d_dims_t *d, int j, int *x0, int *x1)
{
    int a = d->pad - j, b = d->W + d->pad - j;
    *x0 = a < 0 ? 0 : a;
    *x1 = b > d->Wo ? d->Wo : b;
    if (*x1 < *x0)
        *x1 = *x0;
}

/* col (C*kh*kw, Ho*Wo) from one sample in (C, H, W) */
static void im2col(float *col, const float *in, const hp_nn_conv2d_dims_t *d)
{
    size_t hw = (size_t)d->Ho * d->Wo;
    for (int c = 0; c < d->C; c++)
        for (int i = 0; i < d->kh; i++)
            for (int j = 0; j < d->kw; j++) {
                float *row = col + ((size_t)(c * d->kh + i) * d->kw + j) * hw;
                const float *src = in + (size_t)c * d->H * d->W;
                int x0, x1;
                xrange(d, j, &x0, &x1);
                for (int y = 0; y < d->Ho; y++) {
                    float *dst = row + (size_t)y * d->Wo;
                    int iy = y + i - d->pad;
                    if (iy < 0 || iy >= d->H) {
                        memset(dst, 0, sizeof(float) * (size_t)d->Wo);
                        continue;
                    }
                    const float *s = src + (size_t)iy * d->W + (j - d->pad);
                    for (int x = 0; x < x0; x++)
                        dst[x] = 0.0f;
                    memcpy(dst + x0, s + x0, sizeof(float) * (size_t)(x1 - x0));
                    for (int x = x1; x < d->Wo; x++)
                        dst[x] = 0.0f;
                }
            }
}

/* din (C, H, W) of one sample = sum of col's entries over their patches */
static void col2im(float *din, const float *col, const hp_nn_conv2d_dims_t *d)
{
    size_t hw = (size_t)d->Ho * d->Wo;
    memset(din, 0, sizeof(float) * (size_t)d->C * d->H * d->W);
    for (int c = 0; c < d->C; c++)
        for (int i = 0; i < d->kh; i++)
            for (int j = 0; j < d->kw; j++) {
                const float *row = col + ((size_t)(c * d->kh + i) * d->kw + j) * hw;
                float *dst = din + (size_t)c * d->H * d->W;
                int x0, x1;
                xrange(d, j, &x0, &x1);
                for (int y = 0; y < d->Ho; y++) {
                    int iy = y + i - d->pad;
                    if (iy < 0 || iy >= d->H)
                        continue;
                    const float *s = row + (size_t)y * d->Wo;
                    float *t = dst + (size_t)iy * d->W + (j - d->pad);
                    for (int x = x0; x < x1; x++)
                        t[x] += s[x];
                }
            }
}

/* Per sample, so the im2col matrix is written and read while it is still
 * in cache and the output lands in NCHW order without a transpose. */
void hp_nn_conv2d_forward(float *out, const float *in, const float *w, const float *b, float *col,
                          const hp_nn_conv2d_dims_t *d)
{
    int CKK = d->C * d->kh * d->kw, HW = d->Ho * d->Wo;
    size_t in_sz = (size_t)d->C * d->H * d->W, out_sz = (size_t)d->K * HW;
    for (int n = 0; n < d->B; n++) {
        float *o = out + n * out_sz;
        for (int k = 0; k < d->K; k++) {
            float bias = b ? b[k] : 0.0f;
            for (int p = 0; p < HW; p++)
                o[(size_t)k * HW + p] = bias;
        }
        im2col(col, in + n * in_sz, d);
        /* out_n (K, HW) += w (K, CKK) @ col (CKK, HW) */
        hp_nn_gemm(0, 0, d->K, HW, CKK, 1.0f, w, CKK, col, HW, 1.0f, o, HW);
    }
}

void hp_nn_conv2d_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                           const float *w, float *col, const hp_nn_conv2d_dims_t *d)
{
    int CKK = d->C * d->kh * d->kw, HW = d->Ho * d->Wo;
    size_t in_sz = (size_t)d->C * d->H * d->W, out_sz = (size_t)d->K * HW;
    for (int n = 0; n < d->B; n++) {
        const float *g = dout + n * out_sz;
        if (db)
            for (int k = 0; k < d->K; k++) {
                float acc = 0.0f;
                for (int p = 0; p < HW; p++)
                    acc += g[(size_t)k * HW + p];
                db[k] += acc;
            }
        /* recomputing im2col is cheaper than keeping B of them in memory */
        im2col(col, in + n * in_sz, d);
        hp_nn_gemm(0, 1, d->K, CKK, HW, 1.0f, g, HW, col, HW, 1.0f, dw, CKK);
        if (din) {
            /* dcol (CKK, HW) = w^T @ dout_n, reusing col */
            hp_nn_gemm(1, 0, CKK, HW, d->K, 1.0f, w, CKK, g, HW, 0.0f, col, HW);
            col2im(din + n * in_sz, col, d);
        }
    }
}

/* the common 2x2 case: branch-free (random data defeats the predictor),
 * and `!(b <= a)` picks b when it is NaN so a NaN propagates */
static void maxpool2(float *out, int32_t *idx, const float *in, const hp_nn_maxpool_dims_t *d)
{
    int W = d->W;
    for (int p = 0; p < d->B * d->C; p++) {
        const float *s = in + (size_t)p * d->H * W;
        float *o = out + (size_t)p * d->Ho * d->Wo;
        int32_t *ix = idx + (size_t)p * d->Ho * d->Wo;
        int32_t base = (int32_t)((size_t)p * d->H * W);
        for (int y = 0; y < d->Ho; y++) {
            const float *r0 = s + (size_t)(2 * y) * W, *r1 = r0 + W;
            int32_t rb = base + 2 * y * W;
            for (int x = 0; x < d->Wo; x++) {
                float a = r0[2 * x], b = r0[2 * x + 1], c = r1[2 * x], e = r1[2 * x + 1];
                int tb = !(b <= a), te = !(e <= c);
                float m1 = tb ? b : a, m2 = te ? e : c;
                int32_t i1 = rb + 2 * x + tb, i2 = rb + W + 2 * x + te;
                int t = !(m2 <= m1);
                o[y * d->Wo + x] = t ? m2 : m1;
                ix[y * d->Wo + x] = t ? i2 : i1;
            }
        }
    }
}

void hp_nn_maxpool_forward(float *out, int32_t *idx, const float *in,
                           const hp_nn_maxpool_dims_t *d)
{
    int k = d->k;
    if (k == 2) {
        maxpool2(out, idx, in, d);
        return;
    }
    for (int p = 0; p < d->B * d->C; p++) {
        const float *s = in + (size_t)p * d->H * d->W;
        float *o = out + (size_t)p * d->Ho * d->Wo;
        int32_t *ix = idx + (size_t)p * d->Ho * d->Wo;
        int32_t base = (int32_t)((size_t)p * d->H * d->W);
        for (int y = 0; y < d->Ho; y++)
            for (int x = 0; x < d->Wo; x++) {
                int best = (y * k) * d->W + x * k;
                float m = s[best];
                for (int i = 0; i < k; i++)
                    for (int j = 0; j < k; j++) {
                        int q = (y * k + i) * d->W + x * k + j;
                        if (!(s[q] <= m)) { /* NaN wins, so it propagates */
                            m = s[q];
                            best = q;
                        }
                    }
                o[y * d->Wo + x] = m;
                ix[y * d->Wo + x] = base + best;
            }
    }
}

void hp_nn_maxpool_backward(float *din, const float *dout, const int32_t *idx,
                            const hp_nn_maxpool_dims_t *d)
{
    size_t nin = (size_t)d->B * d->C * d->H * d->W, nout = (size_t)d->B * d->C * d->Ho * d->Wo;
    memset(din, 0, sizeof(float) * nin);
    for (size_t o = 0; o < nout; o++)
        din[idx[o]] += dout[o];
}
