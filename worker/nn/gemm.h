/*
 * gemm.h — the one place the engine multiplies matrices.
 *
 * Every matrix product in worker/nn goes through hp_nn_gemm, which calls
 * cblas_sgemm (row-major), or the bf16 kernel while a context is bound
 * (hp_nn_bf16_bind), or the engine's own fp32 kernel on a CPU whose
 * AVX-512 the linked OpenBLAS does not use (gemm_f32.c; HP_GEMM=openblas
 * or builtin in the environment overrides the choice). Keeping it in one place gives one spot to count
 * FLOPs for the benchmark and to swap in a better kernel later.
 *
 *     // C (M, N) = A (M, K) @ B^T where B is (N, K)
 *     hp_nn_gemm(0, 1, M, N, K, 1.0f, A, K, B, K, 0.0f, C, N);
 */
#ifndef HP_NN_GEMM_H
#define HP_NN_GEMM_H

#include <stddef.h>
#include <stdint.h>

/* hp_nn_gemm computes C = alpha * op(A) @ op(B) + beta * C, row-major,
 * where op(X) is X or X^T (ta / tb non-zero). Shapes after op: A (M, K),
 * B (K, N), C (M, N). Any thread; each call adds 2*M*N*K to the calling
 * thread's FLOP counter. */
void hp_nn_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                const float *B, int ldb, float beta, float *C, int ldc);

/* hp_nn_gemm_small computes C = alpha * A @ B for products too small for
 * OpenBLAS's call and packing overhead to pay (attention's per-head ones:
 * 28 x 28 x 16), by a vectorised kernel (simd_int.h: an AVX2 + FMA copy
 * and a baseline one, picked by the CPU at load time). A (M, K) is read as
 * A[i sai + k sak] and B (K, N) as B[k sbk + n sbn], so either may be a
 * transposed or strided view; C (M, N) row-major with ldc is written, not
 * accumulated into (no beta, nothing to zero first). W is scratch of
 * hp_nn_gemm_small_scratch(K, N) floats, where B is packed. Counts its
 * FLOPs as hp_nn_gemm does. */
void hp_nn_gemm_small(int M, int N, int K, float alpha, const float *A, int sai, int sak,
                      const float *B, int sbk, int sbn, float *C, int ldc, float *W);
size_t hp_nn_gemm_small_scratch(int K, int N);

/* bf16 products. A bound hp_nn_bf16_t makes every product of the calling
 * thread that is big enough to gain (M N K >= HP_NN_BF16_MIN_MACS, K >= 32)
 * round its inputs to bfloat16 and sum in fp32, on AVX512_BF16 at twice
 * the fp32 multiply-add rate (gemm_bf16.c); smaller ones stay fp32. The
 * context holds the packing buffers, so no product allocates.
 *
 *     hp_nn_bf16_t *ctx = hp_nn_bf16_new();     // NULL: no AVX512_BF16
 *     const hp_nn_bf16_t *prev = hp_nn_bf16_bind(ctx);
 *     ...products...
 *     hp_nn_bf16_bind(prev);                   // NULL binds fp32
 *     hp_nn_bf16_free(ctx);
 *
 * A model with hp_nn_model_use_bf16 binds its own around each forward
 * and backward pass (model.c), so nothing outlives it. */
typedef struct hp_nn_bf16 hp_nn_bf16_t;
#define HP_NN_BF16_MIN_MACS 65536
/* hp_nn_bf16_supported: this build has the kernel and the CPU runs it. */
int hp_nn_bf16_supported(void);
/* hp_nn_bf16_faster: 1 when this CPU multiplies at least 1.15x faster in
 * bf16 than in fp32 by the engine's kernels; both rates (GFLOP/s) for
 * messages. Measured once a process, the first time it is asked, on a
 * 256^3 product each way (a few ms). Not every CPU with AVX512_BF16 gains:
 * on this project's Emerald Rapids bf16 ran at 75 GFLOP/s to fp32's 124.
 * 0 where bf16 is not supported. */
int hp_nn_bf16_faster(double *bf16_gflops, double *fp32_gflops);
hp_nn_bf16_t *hp_nn_bf16_new(void);
void hp_nn_bf16_free(hp_nn_bf16_t *ctx);
const hp_nn_bf16_t *hp_nn_bf16_bind(const hp_nn_bf16_t *ctx);

/* hp_nn_flops returns the calling thread's GEMM FLOP count so far. */
uint64_t hp_nn_flops(void);

/* hp_nn_blas_core names the CPU core type whose kernels OpenBLAS runs
 * ("SkylakeX", "Cooperlake", "Zen", ...), for benchmark records. Any
 * thread; the string is OpenBLAS's and lives as long as the process. */
const char *hp_nn_blas_core(void);

/* hp_nn_gemm_kernel names the fp32 kernel hp_nn_gemm runs on threads
 * that called hp_nn_set_threads: "openblas" or "builtin-avx512". */
const char *hp_nn_gemm_kernel(void);

/* hp_nn_set_threads sets the number of BLAS threads (the worker's slots)
 * and makes the calling thread's buffers for the own fp32 kernel when it
 * is chosen (that kernel runs on the calling thread). Call before
 * training, from the training thread, never in a process that will later
 * fork (Check tests: set it inside the test). */
void hp_nn_set_threads(int n);

#endif
