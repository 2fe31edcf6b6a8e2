/* Layer norm over the last dimension (the attention encoder's). */
#include "layer_arch.h"

#include <math.h>

void hp_nn_layernorm_forward(float *out, float *xhat, float *rstd, const float *in,
                             const float *gamma, const float *beta, int N, int D)
{
    for (int n = 0; n < N; n++) {
        const float *x = in + (size_t)n * D;
        float *xh = xhat + (size_t)n * D, *y = out + (size_t)n * D;
        float s = 0.0f;
        for (int j = 0; j < D; j++)
            s += x[j];
        float m = s / (float)D, v = 0.0f;
        for (int j = 0; j < D; j++)
            v += (x[j] - m) * (x[j] - m);
        float rs = 1.0f / sqrtf(v / (float)D + 1e-5f);
        rstd[n] = rs;
        for (int j = 0; j < D; j++) {
            xh[j] = (x[j] - m) * rs;
            y[j] = gamma[j] * xh[j] + beta[j];
        }
    }
}

void hp_nn_layernorm_backward(float *din, float *dgamma, float *dbeta, const float *dout,
                              const float *xhat, const float *rstd, const float *gamma, int N,
                              int D)
{
    for (int n = 0; n < N; n++) {
        const float *g = dout + (size_t)n * D, *xh = xhat + (size_t)n * D;
        float *dx = din + (size_t)n * D;
        float s1 = 0.0f, s2 = 0.0f;
        for (int j = 0; j < D; j++) {
            float gx = g[j] * gamma[j];
            dgamma[j] += g[j] * xh[j];
            dbeta[j] += g[j];
            s1 += gx;
            s2 += gx * xh[j];
        }
        float m1 = s1 / (float)D, m2 = s2 / (float)D, rs = rstd[n];
        for (int j = 0; j < D; j++)
            dx[j] = rs * (g[j] * gamma[j] - m1 - xh[j] * m2);
    }
}
