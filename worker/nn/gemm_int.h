/* gemm_int.h — private to worker/nn: the bf16 GEMM behind hp_nn_gemm
 * (gemm_bf16.c). */
#ifndef HP_NN_GEMM_INT_H
#define HP_NN_GEMM_INT_H

#include "gemm.h"

/* the calling thread's bound context, or NULL (fp32) */
const hp_nn_bf16_t *hp_nn_bf16_bound(void);
/* hp_nn_gemm's contract, with op(A) and op(B) rounded to bf16 and the sums
 * in fp32, packing into ctx's buffers. */
void hp_nn_gemm_bf16(const hp_nn_bf16_t *ctx, int ta, int tb, int M, int N, int K, float alpha,
                     const float *A, int lda, const float *B, int ldb, float beta, float *C,
                     int ldc);

#endif
