#include "layer.h"
#include "simd_int.h"

HP_NN_SIMD_CLONES
void hp_nn_dropout_forward(float *out, float *mask, const float *in, size_t n, float p,
                           hp_rng_t *rng)
{
    float keep = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) {
        mask[i] = hp_rng_uniform(rng) < p ? 0.0f : keep;
        out[i] = in[i] * mask[i];
    }
}

HP_NN_SIMD_CLONES
void hp_nn_dropout_backward(float *din, const float *dout, const float *mask, size_t n)
{
    for (size_t i = 0; i < n; i++)
        din[i] = dout[i] * mask[i];
}
