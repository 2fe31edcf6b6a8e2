/* Batch-first sequence helpers: the sinusoidal positional encoding and
 * pooling over time (mean or last step). */
#include "layer_arch.h"
#include "simd_int.h"

#include <math.h>
#include <string.h>

void hp_nn_posenc_table(float *table, int T, int D)
{
    for (int t = 0; t < T; t++)
        for (int i = 0; i < D; i += 2) {
            double a = t / pow(10000.0, (double)i / D);
            table[(size_t)t * D + i] = (float)sin(a);
            if (i + 1 < D)
                table[(size_t)t * D + i + 1] = (float)cos(a);
        }
}

HP_NN_SIMD_CLONES
void hp_nn_posenc_forward(float *x, const float *table, int B, int T, int D)
{
    size_t n = (size_t)T * D;
    for (int b = 0; b < B; b++) {
        float *r = x + b * n;
        for (size_t i = 0; i < n; i++)
            r[i] += table[i];
    }
}

HP_NN_SIMD_CLONES
void hp_nn_seqpool_forward(float *out, const float *in, int B, int T, int D, int last)
{
    size_t n = (size_t)T * D;
    for (int b = 0; b < B; b++) {
        const float *x = in + b * n;
        float *o = out + (size_t)b * D;
        if (last) {
            memcpy(o, x + (size_t)(T - 1) * D, sizeof(float) * (size_t)D);
            continue;
        }
        memcpy(o, x, sizeof(float) * (size_t)D);
        for (int t = 1; t < T; t++)
            for (int j = 0; j < D; j++)
                o[j] += x[(size_t)t * D + j];
        float inv = 1.0f / (float)T;
        for (int j = 0; j < D; j++)
            o[j] *= inv;
    }
}

HP_NN_SIMD_CLONES
void hp_nn_seqpool_backward(float *din, const float *dout, int B, int T, int D, int last)
{
    size_t n = (size_t)T * D;
    for (int b = 0; b < B; b++) {
        float *x = din + b * n;
        const float *g = dout + (size_t)b * D;
        if (last) {
            memset(x, 0, sizeof(float) * (n - (size_t)D));
            memcpy(x + (size_t)(T - 1) * D, g, sizeof(float) * (size_t)D);
            continue;
        }
        float inv = 1.0f / (float)T;
        for (int t = 0; t < T; t++)
            for (int j = 0; j < D; j++)
                x[(size_t)t * D + j] = g[j] * inv;
    }
}
