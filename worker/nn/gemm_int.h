/* gemm_int.h — private to worker/nn: the bf16 GEMM behind hp_nn_gemm
 * (gemm_bf16.c) and its per-thread packing buffers. */
#ifndef HP_NN_GEMM_INT_H
#define HP_NN_GEMM_INT_H

/* 1 when this build has the AVX512_BF16 kernel and the CPU runs it. */
int hp_nn_bf16_supported(void);
/* hp_nn_bf16_begin makes the calling thread's packing buffers (0), or
 * returns -1 when the CPU or build lacks the kernel or memory is short;
 * hp_nn_bf16_end frees them; hp_nn_bf16_active: the thread has them. */
int hp_nn_bf16_begin(void);
void hp_nn_bf16_end(void);
int hp_nn_bf16_active(void);
/* hp_nn_gemm's contract, with op(A) and op(B) rounded to bf16 and the sums
 * in fp32; only on a thread for which hp_nn_bf16_begin succeeded. */
void hp_nn_gemm_bf16(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc);

#endif
