#include "gemm.h"

#include <cblas.h>

static _Thread_local uint64_t flops;

void hp_nn_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
    flops += 2ull * (uint64_t)M * (uint64_t)N * (uint64_t)K;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M,
                N, K, alpha, A, lda, B, ldb, beta, C, ldc);
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
}
