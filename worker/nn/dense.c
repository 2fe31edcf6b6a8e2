#include "gemm.h"
#include "layer.h"
#include "simd_int.h"

#include <string.h>

HP_NN_SIMD_CLONES
void hp_nn_dense_forward(float *out, const float *in, const float *w, const float *b,
                         const hp_nn_dense_dims_t *d)
{
    /* seed out with the bias rows so the GEMM adds into them (beta = 1) */
    float beta = 0.0f;
    if (b) {
        for (int i = 0; i < d->B; i++)
            memcpy(out + (size_t)i * d->O, b, sizeof(float) * (size_t)d->O);
        beta = 1.0f;
    }
    hp_nn_gemm(0, 1, d->B, d->O, d->I, 1.0f, in, d->I, w, d->I, beta, out, d->O);
}

HP_NN_SIMD_CLONES
void hp_nn_dense_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                          const float *w, const hp_nn_dense_dims_t *d)
{
    hp_nn_gemm(1, 0, d->O, d->I, d->B, 1.0f, dout, d->O, in, d->I, 1.0f, dw, d->I);
    if (db) {
        for (int i = 0; i < d->B; i++) {
            const float *r = dout + (size_t)i * d->O;
            for (int j = 0; j < d->O; j++)
                db[j] += r[j];
        }
    }
    if (din)
        hp_nn_gemm(0, 0, d->B, d->I, d->O, 1.0f, dout, d->O, w, d->I, 0.0f, din, d->I);
}
