#include "fastmath_int.h"
#include "layer.h"

#include <math.h>
#include <string.h>

/* Batch norm over (B, C, S). After a dense layer S = 1 and a channel is a
 * column: the sums run row by row, vectorized across channels, instead of
 * down each strided column. After a conv a channel's S values are
 * contiguous: per-plane sums with independent partial sums (hp_fsum8),
 * added up in double. Float row sums are exact enough for a batch (the PyTorch
 * fixtures hold at 1e-5). */


/* sum of (p - m)^2 with independent partial sums */
static float sqdev8(const float *p, size_t n, float m)
{
    float acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) {
            float e = p[i + j] - m;
            acc[j] += e * e;
        }
    float s = 0.0f;
    for (; i < n; i++)
        s += (p[i] - m) * (p[i] - m);
    for (int j = 0; j < 8; j++)
        s += acc[j];
    return s;
}

void hp_nn_batchnorm_forward_train(float *out, float *xhat, float *mean, float *invstd,
                                   float *run_mean, float *run_var, const float *in,
                                   const float *gamma, const float *beta,
                                   const hp_nn_batchnorm_dims_t *d)
{
    int B = d->B, C = d->C, S = d->S;
    double cnt = (double)B * S;
    /* mean[] and invstd[] first hold the sums, then the statistics */
    if (S == 1) {
        memset(mean, 0, sizeof(float) * (size_t)C);
        memset(invstd, 0, sizeof(float) * (size_t)C);
        for (int n = 0; n < B; n++) {
            const float *x = in + (size_t)n * C;
            for (int c = 0; c < C; c++)
                mean[c] += x[c];
        }
        for (int c = 0; c < C; c++)
            mean[c] = (float)(mean[c] / cnt);
        for (int n = 0; n < B; n++) {
            const float *x = in + (size_t)n * C;
            for (int c = 0; c < C; c++) {
                float e = x[c] - mean[c];
                invstd[c] += e * e;
            }
        }
    } else {
        for (int c = 0; c < C; c++) {
            double s = 0.0;
            for (int n = 0; n < B; n++)
                s += hp_fsum8(in + ((size_t)n * C + c) * S, (size_t)S);
            mean[c] = (float)(s / cnt);
            double s2 = 0.0;
            for (int n = 0; n < B; n++)
                s2 += sqdev8(in + ((size_t)n * C + c) * S, (size_t)S, mean[c]);
            invstd[c] = (float)s2;
        }
    }
    for (int c = 0; c < C; c++) {
        double s2 = invstd[c], var = s2 / cnt;
        double unbiased = cnt > 1 ? s2 / (cnt - 1) : var;
        invstd[c] = (float)(1.0 / sqrt(var + d->eps));
        run_mean[c] = (1.0f - d->momentum) * run_mean[c] + d->momentum * mean[c];
        run_var[c] = (1.0f - d->momentum) * run_var[c] + d->momentum * (float)unbiased;
    }
    if (S == 1) {
        for (int n = 0; n < B; n++) {
            const float *x = in + (size_t)n * C;
            float *xh = xhat + (size_t)n * C, *y = out + (size_t)n * C;
            for (int c = 0; c < C; c++) {
                xh[c] = (x[c] - mean[c]) * invstd[c];
                y[c] = gamma[c] * xh[c] + beta[c];
            }
        }
        return;
    }
    for (int n = 0; n < B; n++)
        for (int c = 0; c < C; c++) {
            size_t o = ((size_t)n * C + c) * S;
            float m = mean[c], is = invstd[c], g = gamma[c], bt = beta[c];
            for (int k = 0; k < S; k++) {
                float xh = (in[o + k] - m) * is;
                xhat[o + k] = xh;
                out[o + k] = g * xh + bt;
            }
        }
}

void hp_nn_batchnorm_forward_eval(float *out, const float *in, const float *gamma,
                                  const float *beta, const float *run_mean, const float *run_var,
                                  const hp_nn_batchnorm_dims_t *d)
{
    int B = d->B, C = d->C, S = d->S;
    if (S == 1) {
        for (int n = 0; n < B; n++) {
            const float *x = in + (size_t)n * C;
            float *y = out + (size_t)n * C;
            for (int c = 0; c < C; c++)
                y[c] = gamma[c] * (x[c] - run_mean[c]) / sqrtf(run_var[c] + d->eps) + beta[c];
        }
        return;
    }
    for (int n = 0; n < B; n++)
        for (int c = 0; c < C; c++) {
            float is = 1.0f / sqrtf(run_var[c] + d->eps);
            float a = gamma[c] * is, c0 = beta[c] - a * run_mean[c];
            size_t o = ((size_t)n * C + c) * S;
            for (int k = 0; k < S; k++)
                out[o + k] = a * in[o + k] + c0;
        }
}

void hp_nn_batchnorm_backward(float *din, float *dgamma, float *dbeta, float *tmp,
                              const float *dout, const float *xhat, const float *invstd,
                              const float *gamma, const hp_nn_batchnorm_dims_t *d)
{
    int B = d->B, C = d->C, S = d->S;
    float cnt = (float)B * S;
    float *sd = tmp, *sdx = tmp + C; /* per-channel sums of dout, dout * xhat */
    memset(tmp, 0, sizeof(float) * 2 * (size_t)C);
    if (S == 1) {
        for (int n = 0; n < B; n++) {
            const float *g = dout + (size_t)n * C, *xh = xhat + (size_t)n * C;
            for (int c = 0; c < C; c++) {
                sd[c] += g[c];
                sdx[c] += g[c] * xh[c];
            }
        }
    } else {
        for (int n = 0; n < B; n++)
            for (int c = 0; c < C; c++) {
                size_t o = ((size_t)n * C + c) * S;
                sd[c] += hp_fsum8(dout + o, (size_t)S);
                sdx[c] += hp_fdot8(dout + o, xhat + o, (size_t)S);
            }
    }
    for (int c = 0; c < C; c++) {
        dgamma[c] += sdx[c];
        dbeta[c] += sd[c];
    }
    if (!din)
        return;
    if (S == 1) {
        for (int n = 0; n < B; n++) {
            const float *g = dout + (size_t)n * C, *xh = xhat + (size_t)n * C;
            float *dx = din + (size_t)n * C;
            for (int c = 0; c < C; c++)
                dx[c] = gamma[c] * invstd[c] / cnt * (cnt * g[c] - sd[c] - xh[c] * sdx[c]);
        }
        return;
    }
    for (int n = 0; n < B; n++)
        for (int c = 0; c < C; c++) {
            size_t o = ((size_t)n * C + c) * S;
            float k0 = gamma[c] * invstd[c] / cnt, a = sd[c], b = sdx[c];
            for (int k = 0; k < S; k++)
                din[o + k] = k0 * (cnt * dout[o + k] - a - xhat[o + k] * b);
        }
}
