#include "fastmath_int.h"
#include "layer.h"
#include "simd_int.h"

HP_NN_SIMD_CLONES
void hp_nn_relu_forward(float *out, const float *in, size_t n)
{
    /* written so a NaN passes through (NaN < 0 is false): a relu must not
     * hide a NaN from the guard that stops training. The engine runs relu
     * in place; the separate loop lets that case vectorize (with two
     * pointers GCC's overlap check sends out == in down the scalar path). */
    if (out == in) {
        for (size_t i = 0; i < n; i++)
            out[i] = out[i] < 0.0f ? 0.0f : out[i];
        return;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = in[i] < 0.0f ? 0.0f : in[i];
}

HP_NN_SIMD_CLONES
void hp_nn_relu_backward(float *din, const float *dout, const float *out, size_t n)
{
    /* the gradient loaded unconditionally: a load under the condition may
     * not be speculated, and kept the loop scalar, with a branch per
     * element that a relu's random signs mispredict (7% of a ResNet step) */
    if (din == dout) {
        for (size_t i = 0; i < n; i++) {
            float g = din[i];
            din[i] = out[i] > 0.0f ? g : 0.0f;
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        float g = dout[i];
        din[i] = out[i] > 0.0f ? g : 0.0f;
    }
}

HP_NN_SIMD_CLONES
void hp_nn_tanh_forward(float *out, const float *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = hp_ftanh(in[i]);
}

HP_NN_SIMD_CLONES
void hp_nn_tanh_backward(float *din, const float *dout, const float *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        din[i] = dout[i] * (1.0f - out[i] * out[i]);
}

HP_NN_SIMD_CLONES
void hp_nn_sigmoid_forward(float *out, const float *in, size_t n)
{
    /* hp_fexp clamps its argument, so this never overflows */
    for (size_t i = 0; i < n; i++)
        out[i] = hp_fsigmoid(in[i]);
}

HP_NN_SIMD_CLONES
void hp_nn_sigmoid_backward(float *din, const float *dout, const float *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        din[i] = dout[i] * out[i] * (1.0f - out[i]);
}
