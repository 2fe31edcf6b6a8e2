/* conv_int.h — private to worker/nn: the direct conv2d kernels
 * (conv_direct.c) that conv.c dispatches to. Same contract as
 * hp_nn_conv2d_forward / _backward in layer.h. */
#ifndef HP_NN_CONV_INT_H
#define HP_NN_CONV_INT_H

#include "layer.h"

#include <stddef.h>

size_t hp_nn_conv2d_direct_scratch(const hp_nn_conv2d_dims_t *d); /* floats */
void hp_nn_conv2d_direct_forward(float *out, const float *in, const float *w, const float *b,
                                 float *scratch, const hp_nn_conv2d_dims_t *d);
void hp_nn_conv2d_direct_backward(float *din, float *dw, float *db, const float *dout,
                                  const float *in, const float *w, float *scratch,
                                  const hp_nn_conv2d_dims_t *d);

/* The kernels run 16 lanes wide on a CPU with AVX-512, 8 otherwise.
 * hp_nn_conv2d_direct_use_wide(0) forces 8 (tests comparing the two):
 * it returns what is now used. The scratch size depends on it, so set it
 * before any model or scratch is sized. */
int hp_nn_conv2d_direct_use_wide(int on);

#endif
