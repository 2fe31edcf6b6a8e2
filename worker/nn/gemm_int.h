/* gemm_int.h — private to worker/nn: the kernels behind hp_nn_gemm, bf16
 * (gemm_bf16.c) and fp32 (gemm_f32.c). */
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

/* the own fp32 kernel (gemm_f32.c): chosen for this process (once, from
 * the CPU, OpenBLAS's core and HP_GEMM), and why, in words */
int hp_nn_f32_selected(void);
const char *hp_nn_f32_why(void);
/* tests: chooses again from HP_GEMM now (not thread-safe; the engine
 * suites run in one process, CK_FORK=no) */
void hp_nn_f32_rechoose(void);
/* makes the calling thread's packing buffers when the kernel is chosen:
 * 0, or HP_ENOMEM (the thread then keeps OpenBLAS) */
int hp_nn_f32_prepare(void);
/* hp_nn_gemm's contract by the own kernel: 1 when done, 0 when this
 * thread has no buffers (the caller uses OpenBLAS) */
int hp_nn_f32_try(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *B, int ldb, float beta, float *C, int ldc);

#endif
