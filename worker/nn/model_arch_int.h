/* model_arch_int.h — private to worker/nn: how model.c plans, initializes
 * and runs the layers of the later architectures (HP_NN_RESBLOCK ..
 * HP_NN_SEQPOOL), so model.c's switches only hand those kinds over. */
#ifndef HP_NN_MODEL_ARCH_INT_H
#define HP_NN_MODEL_ARCH_INT_H

#include "model.h"

/* hp_nn_arch_kind: whether op's kind is one of these */
int hp_nn_arch_kind(hp_nn_kind_t k);
/* hp_nn_arch_scratch_sizes: bytes of op->s[0..5) for batches of B
 * (s[0] the cache a training forward keeps, s[1] backward's scratch) */
void hp_nn_arch_scratch_sizes(const hp_nn_op_t *op, int B, size_t sz[5]);
/* hp_nn_arch_init draws op's parameters and fills its bufs */
void hp_nn_arch_init(hp_nn_op_t *op, hp_rng_t *r);
/* forward on x (B rows); backward writes din (may be NULL) and
 * accumulates op's gradients from op->dout */
void hp_nn_arch_forward(hp_nn_op_t *op, const float *x, int B, int training);
void hp_nn_arch_backward(hp_nn_op_t *op, const float *x, float *din, int B);

#endif
