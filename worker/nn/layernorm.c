/* Layer norm over the last dimension (the attention encoder's). */
#include "fastmath_int.h"
#include "layer_arch.h"
#include "simd_int.h"

#include <math.h>

HP_NN_SIMD_CLONES
void hp_nn_layernorm_forward(float *out, float *xhat, float *rstd, const float *in,
                             const float *gamma, const float *beta, int N, int D)
{
    for (int n = 0; n < N; n++) {
        const float *x = in + (size_t)n * D;
        float *xh = xhat + (size_t)n * D, *y = out + (size_t)n * D;
        float m = hp_fsum8(x, (size_t)D) / (float)D;
        for (int j = 0; j < D; j++)
            xh[j] = x[j] - m;
        float rs = 1.0f / sqrtf(hp_fdot8(xh, xh, (size_t)D) / (float)D + 1e-5f);
        rstd[n] = rs;
        for (int j = 0; j < D; j++) {
            xh[j] *= rs;
            y[j] = gamma[j] * xh[j] + beta[j];
        }
    }
}

HP_NN_SIMD_CLONES
void hp_nn_layernorm_backward(float *din, float *dgamma, float *dbeta, const float *dout,
                              const float *xhat, const float *rstd, const float *gamma, int N,
                              int D)
{
    for (int n = 0; n < N; n++) {
        const float *g = dout + (size_t)n * D, *xh = xhat + (size_t)n * D;
        float *dx = din + (size_t)n * D;
        for (int j = 0; j < D; j++) {
            dgamma[j] += g[j] * xh[j];
            dbeta[j] += g[j];
        }
        float s1 = hp_fdot8(g, gamma, (size_t)D), s2 = 0.0f;
        {
            float acc[8] = {0};
            int j = 0;
            for (; j + 8 <= D; j += 8)
                for (int u = 0; u < 8; u++)
                    acc[u] += g[j + u] * gamma[j + u] * xh[j + u];
            for (; j < D; j++)
                s2 += g[j] * gamma[j] * xh[j];
            for (int u = 0; u < 8; u++)
                s2 += acc[u];
        }
        float m1 = s1 / (float)D, m2 = s2 / (float)D, rs = rstd[n];
        for (int j = 0; j < D; j++)
            dx[j] = rs * (g[j] * gamma[j] - m1 - xh[j] * m2);
    }
}
