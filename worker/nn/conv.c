/* conv2d as im2col + one sgemm over the whole batch, and maxpool. */
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
    return (size_t)d->C * d->kh * d->kw * (size_t)d->B * d->Ho * d->Wo;
}

size_t hp_nn_conv2d_tmp_size(const hp_nn_conv2d_dims_t *d)
{
    return (size_t)d->K * (size_t)d->B * d->Ho * d->Wo;
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

/* col (C*kh*kw, B*Ho*Wo) from in (B, C, H, W) */
static void im2col(float *col, const float *in, const hp_nn_conv2d_dims_t *d)
{
    size_t hw = (size_t)d->Ho * d->Wo, N = (size_t)d->B * hw;
    for (int c = 0; c < d->C; c++)
        for (int i = 0; i < d->kh; i++)
            for (int j = 0; j < d->kw; j++) {
                float *row = col + ((size_t)(c * d->kh + i) * d->kw + j) * N;
                int x0, x1;
                xrange(d, j, &x0, &x1);
                for (int b = 0; b < d->B; b++) {
                    const float *src = in + ((size_t)b * d->C + c) * d->H * d->W;
                    for (int y = 0; y < d->Ho; y++) {
                        float *dst = row + b * hw + (size_t)y * d->Wo;
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
}

/* din (B, C, H, W) = sum of col's entries over the patches they came from */
static void col2im(float *din, const float *col, const hp_nn_conv2d_dims_t *d)
{
    size_t hw = (size_t)d->Ho * d->Wo, N = (size_t)d->B * hw;
    memset(din, 0, sizeof(float) * (size_t)d->B * d->C * d->H * d->W);
    for (int c = 0; c < d->C; c++)
        for (int i = 0; i < d->kh; i++)
            for (int j = 0; j < d->kw; j++) {
                const float *row = col + ((size_t)(c * d->kh + i) * d->kw + j) * N;
                int x0, x1;
                xrange(d, j, &x0, &x1);
                for (int b = 0; b < d->B; b++) {
                    float *dst = din + ((size_t)b * d->C + c) * d->H * d->W;
                    for (int y = 0; y < d->Ho; y++) {
                        int iy = y + i - d->pad;
                        if (iy < 0 || iy >= d->H)
                            continue;
                        const float *s = row + b * hw + (size_t)y * d->Wo;
                        float *t = dst + (size_t)iy * d->W + (j - d->pad);
                        for (int x = x0; x < x1; x++)
                            t[x] += s[x];
                    }
                }
            }
}

void hp_nn_conv2d_forward(float *out, const float *in, const float *w, const float *b, float *col,
                          float *tmp, const hp_nn_conv2d_dims_t *d)
{
    int CKK = d->C * d->kh * d->kw;
    size_t hw = (size_t)d->Ho * d->Wo;
    int N = d->B * (int)hw;
    im2col(col, in, d);
    /* tmp (K, B*HoWo) = w (K, CKK) @ col (CKK, B*HoWo) */
    hp_nn_gemm(0, 0, d->K, N, CKK, 1.0f, w, CKK, col, N, 0.0f, tmp, N);
    for (int k = 0; k < d->K; k++) {
        float bias = b ? b[k] : 0.0f;
        for (int n = 0; n < d->B; n++) {
            const float *s = tmp + (size_t)k * N + n * hw;
            float *o = out + ((size_t)n * d->K + k) * hw;
            for (size_t p = 0; p < hw; p++)
                o[p] = s[p] + bias;
        }
    }
}

void hp_nn_conv2d_backward(float *din, float *dw, float *db, const float *dout, const float *w,
                           float *col, float *tmp, const hp_nn_conv2d_dims_t *d)
{
    int CKK = d->C * d->kh * d->kw;
    size_t hw = (size_t)d->Ho * d->Wo;
    int N = d->B * (int)hw;
    /* tmp (K, B*HoWo) = dout (B, K, HoWo) with the first two axes swapped */
    for (int n = 0; n < d->B; n++)
        for (int k = 0; k < d->K; k++)
            memcpy(tmp + (size_t)k * N + n * hw, dout + ((size_t)n * d->K + k) * hw,
                   sizeof(float) * hw);
    hp_nn_gemm(0, 1, d->K, CKK, N, 1.0f, tmp, N, col, N, 1.0f, dw, CKK);
    if (db)
        for (int k = 0; k < d->K; k++) {
            const float *s = tmp + (size_t)k * N;
            float acc = 0.0f;
            for (int n = 0; n < N; n++)
                acc += s[n];
            db[k] += acc;
        }
    if (din) {
        /* col is free now: dcol (CKK, N) = w^T @ tmp */
        hp_nn_gemm(1, 0, CKK, N, d->K, 1.0f, w, CKK, tmp, N, 0.0f, col, N);
        col2im(din, col, d);
    }
}

void hp_nn_maxpool_forward(float *out, int32_t *idx, const float *in,
                           const hp_nn_maxpool_dims_t *d)
{
    int k = d->k;
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
