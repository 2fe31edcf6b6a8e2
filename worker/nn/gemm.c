#include "gemm.h"
#include "gemm_int.h"
#include "simd_int.h"

#include "clock.h"

#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>

static _Thread_local uint64_t flops;

void hp_nn_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
    flops += 2ull * (uint64_t)M * (uint64_t)N * (uint64_t)K;
    const hp_nn_bf16_t *bf = hp_nn_bf16_bound();
    if (bf && K >= 32 && (uint64_t)M * (uint64_t)N * (uint64_t)K >= HP_NN_BF16_MIN_MACS) {
        hp_nn_gemm_bf16(bf, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    if (hp_nn_f32_try(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc))
        return;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M,
                N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* ---- hp_nn_gemm_small: B packed into W (K, Np), Np = N rounded up to 16
 * with zero columns (or read in place when its rows are contiguous whole
 * tiles); tiles of MB rows x 16 columns in 2 MB accumulators ---- */

size_t hp_nn_gemm_small_scratch(int K, int N)
{
    return (size_t)(K > 0 ? K : 0) * (((size_t)(N > 0 ? N : 0) + 15) & ~(size_t)15);
}

HP_NN_INLINE void small_tile(float *C, int ldc, const float *A, int sai, int sak, const float *W,
                             size_t Np, int K, hp_v8 alpha, int ncols, const int MB)
{
    hp_v8 c0[4] = {0}, c1[4] = {0};
    for (int k = 0; k < K; k++) {
        hp_v8 b0 = hp_v8_load(W + (size_t)k * Np), b1 = hp_v8_load(W + (size_t)k * Np + 8);
        for (int r = 0; r < MB; r++) {
            hp_v8 a = hp_v8_splat(A[(size_t)r * sai + (size_t)k * sak]);
            c0[r] += a * b0;
            c1[r] += a * b1;
        }
    }
    for (int r = 0; r < MB; r++) {
        float *row = C + (size_t)r * ldc;
        if (ncols == 16) {
            hp_v8_store(row, c0[r] * alpha);
            hp_v8_store(row + 8, c1[r] * alpha);
        } else {
            float t[16];
            hp_v8_store(t, c0[r] * alpha);
            hp_v8_store(t + 8, c1[r] * alpha);
            /* constant-size pieces, which compile to moves, not a libc call */
            int n = 0;
            if (ncols & 8)
                memcpy(row, t, 8 * sizeof(float)), n += 8;
            if (ncols & 4)
                memcpy(row + n, t + n, 4 * sizeof(float)), n += 4;
            if (ncols & 2)
                memcpy(row + n, t + n, 2 * sizeof(float)), n += 2;
            if (ncols & 1)
                row[n] = t[n];
        }
    }
}

/* W (K, Np) = the transpose of S (N, K) with row stride ld: 8 x 8 blocks
 * by shuffles, the edges element by element; columns N.. Np zero */
HP_NN_INLINE void pack_transposed(float *W, int Np, const float *S, int ld, int K, int N)
{
    int n0 = 0;
    for (; n0 + 8 <= N; n0 += 8) {
        int k0 = 0;
        for (; k0 + 8 <= K; k0 += 8) {
            hp_v8 r[8], c[8];
            for (int i = 0; i < 8; i++)
                r[i] = hp_v8_load(S + (size_t)(n0 + i) * ld + k0);
            hp_v8_transpose(c, r);
            for (int j = 0; j < 8; j++)
                hp_v8_store(W + (size_t)(k0 + j) * Np + n0, c[j]);
        }
        for (; k0 < K; k0++)
            for (int i = 0; i < 8; i++)
                W[(size_t)k0 * Np + n0 + i] = S[(size_t)(n0 + i) * ld + k0];
    }
    for (int k = 0; k < K; k++) {
        for (int n = n0; n < N; n++)
            W[(size_t)k * Np + n] = S[(size_t)n * ld + k];
        for (int n = N; n < Np; n++)
            W[(size_t)k * Np + n] = 0.0f;
    }
}

HP_NN_CLONES void hp_nn_gemm_small(int M, int N, int K, float alpha, const float *A, int sai,
                                   int sak, const float *B, int sbk, int sbn, float *C, int ldc,
                                   float *W)
{
    if (M <= 0 || N <= 0)
        return;
    flops += 2ull * (uint64_t)M * (uint64_t)N * (uint64_t)(K > 0 ? K : 0);
    int Np = (N + 15) & ~15;
    const float *Bp = W; /* the packed B, (K, ldp) */
    size_t ldp = (size_t)Np;
    if (sbn == 1 && N == Np) { /* rows of whole tiles: read B in place */
        Bp = B;
        ldp = (size_t)sbk;
    } else if (sbk == 1 && sbn != 1)
        pack_transposed(W, Np, B, sbn, K, N);
    else
        for (int k = 0; k < K; k++) {
            float *w = W + (size_t)k * Np;
            const float *b = B + (size_t)k * sbk;
            int n = 0;
            if (sbn == 1)
                for (; n + 8 <= N; n += 8)
                    hp_v8_store(w + n, hp_v8_load(b + n));
            for (; n < N; n++)
                w[n] = b[(size_t)n * sbn];
            for (; n < Np; n++)
                w[n] = 0.0f;
        }
    hp_v8 al = hp_v8_splat(alpha);
    for (int n0 = 0; n0 < N; n0 += 16) {
        int ncols = N - n0 < 16 ? N - n0 : 16, i = 0;
        for (; i + 4 <= M; i += 4)
            small_tile(C + (size_t)i * ldc + n0, ldc, A + (size_t)i * sai, sai, sak, Bp + n0, ldp,
                       K, al, ncols, 4);
        for (; i < M; i++)
            small_tile(C + (size_t)i * ldc + n0, ldc, A + (size_t)i * sai, sai, sak, Bp + n0, ldp,
                       K, al, ncols, 1);
    }
}

uint64_t hp_nn_flops(void)
{
    return flops;
}

const char *hp_nn_blas_core(void)
{
    /* OpenBLAS's own name for the kernels it picked at load time (from
     * the CPU, or OPENBLAS_CORETYPE if the user set it) */
    return openblas_get_corename();
}

void hp_nn_set_threads(int n)
{
    openblas_set_num_threads(n < 1 ? 1 : n);
    (void)hp_nn_f32_prepare(); /* without buffers the thread keeps OpenBLAS */
}

const char *hp_nn_gemm_kernel(void)
{
    return hp_nn_f32_selected() ? "builtin-avx512" : "openblas";
}

/* ---- is bf16 worth it here: one measurement a process ---- */

static pthread_once_t speed_once = PTHREAD_ONCE_INIT;
static double speed_bf16, speed_fp32;

/* the best of 5 products of 256 x 256 x 256 (16.7 M multiply-adds, about
 * a third of a millisecond in fp32 on a core of this project's machines),
 * the two precisions alternating so a neighbour's load hits both alike */
static void measure(void)
{
    enum { n = 256 };
    float *a = malloc(sizeof(float) * n * n * 3);
    hp_nn_bf16_t *ctx = hp_nn_bf16_new();
    if (!a || !ctx)
        goto out;
    float *b = a + n * n, *c = b + n * n;
    for (int i = 0; i < n * n; i++)
        a[i] = (float)(i % 7) * 0.1f, b[i] = (float)(i % 5) * 0.1f;
    (void)hp_nn_f32_prepare(); /* fp32 as training runs it (gemm_f32.c) */
    double best[2] = {1e30, 1e30};
    for (int r = 0; r < 10; r++) {
        const hp_nn_bf16_t *prev = hp_nn_bf16_bind(r % 2 ? ctx : NULL);
        double t = hp_clock_now();
        hp_nn_gemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        t = hp_clock_now() - t;
        hp_nn_bf16_bind(prev);
        if (t < best[r % 2])
            best[r % 2] = t;
    }
    double fl = 2.0 * n * n * n * 1e-9;
    speed_fp32 = fl / best[0];
    speed_bf16 = fl / best[1];
out:
    hp_nn_bf16_free(ctx);
    free(a);
}

int hp_nn_bf16_faster(double *bf16_gflops, double *fp32_gflops)
{
    pthread_once(&speed_once, measure);
    if (bf16_gflops)
        *bf16_gflops = speed_bf16;
    if (fp32_gflops)
        *fp32_gflops = speed_fp32;
    /* a clear margin: bf16 rounds the inputs, so it must pay for that */
    return speed_bf16 > 1.15 * speed_fp32;
}
