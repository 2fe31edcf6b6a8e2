#include "layer.h"

#include <math.h>

void hp_nn_batchnorm_forward_train(float *out, float *xhat, float *mean, float *invstd,
                                   float *run_mean, float *run_var, const float *in,
                                   const float *gamma, const float *beta,
                                   const hp_nn_batchnorm_dims_t *d)
{
    int B = d->B, C = d->C, S = d->S;
    double cnt = (double)B * S;
    for (int ch = 0; ch < C; ch++) {
        double s = 0.0, s2 = 0.0;
        for (int n = 0; n < B; n++) {
            const float *x = in + ((size_t)n * C + ch) * S;
            for (int k = 0; k < S; k++)
                s += x[k];
        }
        double mu = s / cnt;
        for (int n = 0; n < B; n++) {
            const float *x = in + ((size_t)n * C + ch) * S;
            for (int k = 0; k < S; k++) {
                double e = x[k] - mu;
                s2 += e * e;
            }
        }
        double var = s2 / cnt;
        float is = (float)(1.0 / sqrt(var + d->eps));
        mean[ch] = (float)mu;
        invstd[ch] = is;
        for (int n = 0; n < B; n++) {
            size_t o = ((size_t)n * C + ch) * S;
            for (int k = 0; k < S; k++) {
                float xh = (in[o + k] - (float)mu) * is;
                xhat[o + k] = xh;
                out[o + k] = gamma[ch] * xh + beta[ch];
            }
        }
        double unbiased = cnt > 1 ? s2 / (cnt - 1) : var;
        run_mean[ch] = (1.0f - d->momentum) * run_mean[ch] + d->momentum * (float)mu;
        run_var[ch] = (1.0f - d->momentum) * run_var[ch] + d->momentum * (float)unbiased;
    }
}

void hp_nn_batchnorm_forward_eval(float *out, const float *in, const float *gamma,
                                  const float *beta, const float *run_mean, const float *run_var,
                                  const hp_nn_batchnorm_dims_t *d)
{
    int B = d->B, C = d->C, S = d->S;
    for (int ch = 0; ch < C; ch++) {
        float is = 1.0f / sqrtf(run_var[ch] + d->eps);
        float a = gamma[ch] * is, c0 = beta[ch] - a * run_mean[ch];
        for (int n = 0; n < B; n++) {
            size_t o = ((size_t)n * C + ch) * S;
            for (int k = 0; k < S; k++)
                out[o + k] = a * in[o + k] + c0;
        }
    }
}

void hp_nn_batchnorm_backward(float *din, float *dgamma, float *dbeta, const float *dout,
                              const float *xhat, const float *invstd, const float *gamma,
                              const hp_nn_batchnorm_dims_t *d)
{
    int B = d->B, C = d->C, S = d->S;
    float cnt = (float)B * S;
    for (int ch = 0; ch < C; ch++) {
        double sd = 0.0, sdx = 0.0;
        for (int n = 0; n < B; n++) {
            size_t o = ((size_t)n * C + ch) * S;
            for (int k = 0; k < S; k++) {
                sd += dout[o + k];
                sdx += (double)dout[o + k] * xhat[o + k];
            }
        }
        dgamma[ch] += (float)sdx;
        dbeta[ch] += (float)sd;
        if (!din)
            continue;
        float k0 = gamma[ch] * invstd[ch] / cnt;
        for (int n = 0; n < B; n++) {
            size_t o = ((size_t)n * C + ch) * S;
            for (int k = 0; k < S; k++)
                din[o + k] = k0 * (cnt * dout[o + k] - (float)sd - xhat[o + k] * (float)sdx);
        }
    }
}
