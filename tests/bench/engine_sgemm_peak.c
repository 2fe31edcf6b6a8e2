/* engine_sgemm_peak: this machine's single-thread sgemm GFLOP/s with the
 * kernel the engine's hp_nn_gemm runs here (OpenBLAS's, or the engine's
 * own AVX-512 one where OpenBLAS does not use the CPU's AVX-512: gemm.h),
 * the ceiling the engine's MLP is compared to in docs/benchmarks.md.
 * Built and run by engine_bench.py:
 *     cmake --build build --target engine_sgemm_peak
 * Two ceilings: sgemm_gflops, a large square product (1536^3), and
 * mlp_gemm_gflops, the five products of one MLP 784-256-10 training step
 * at batch 128 with the engine's orientations (forward x W1^T, h W2^T;
 * backward dW2 += dz^T h, dh = dz W2, dW1 += dh^T x), alone: what the
 * step would reach if everything between the GEMMs took no time. */
#include "gemm.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(void)
{
    hp_nn_set_threads(1);
    const int n = 1536;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n),
          *c = malloc(sizeof(float) * n * n);
    if (!a || !b || !c)
        return 1;
    for (int i = 0; i < n * n; i++) {
        a[i] = (float)(i % 7) * 0.1f;
        b[i] = (float)(i % 5) * 0.1f;
        c[i] = 0.0f;
    }
    double best = 0;
    for (int r = 0; r < 10; r++) {
        double t = now();
        hp_nn_gemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c,
                    n);
        double g = 2.0 * n * n * (double)n / (now() - t) * 1e-9;
        best = g > best ? g : best;
    }
    /* the MLP step's GEMMs, best of 20 rounds of 10 steps (not B, I: cblas.h
     * brings complex.h, whose I is a macro) */
    const int nb = 128, ni = 784, nh = 256, no = 10;
    float *x = a, *w1 = b, *h = c, *w2 = c + nb * nh, *z = w2 + no * nh, *dw1 = a + nb * ni,
          *dw2 = z + nb * no, *dh = dw2 + no * nh;
    double mlp = 0, fl = 2.0 * ((double)nb * nh * ni * 2 + (double)nb * no * nh * 3);
    for (int r = 0; r < 20; r++) {
        double t = now();
        for (int s = 0; s < 10; s++) {
            hp_nn_gemm(0, 1, nb, nh, ni, 1.0f, x, ni, w1, ni,
                        1.0f, h, nh);
            hp_nn_gemm(0, 1, nb, no, nh, 1.0f, h, nh, w2, nh,
                        1.0f, z, no);
            hp_nn_gemm(1, 0, no, nh, nb, 1.0f, z, no, h, nh, 1.0f,
                        dw2, nh);
            hp_nn_gemm(0, 0, nb, nh, no, 1.0f, z, no, w2, nh,
                        0.0f, dh, nh);
            hp_nn_gemm(1, 0, nh, ni, nb, 1.0f, dh, nh, x, ni, 1.0f,
                        dw1, ni);
        }
        double g = 10 * fl / (now() - t) * 1e-9;
        mlp = g > mlp ? g : mlp;
    }
    /* and OpenBLAS's own, square, for the record */
    double ob = 0;
    for (int r = 0; r < 5; r++) {
        double t = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c,
                    n);
        double g = 2.0 * n * n * (double)n / (now() - t) * 1e-9;
        ob = g > ob ? g : ob;
    }
    printf("sgemm_gflops=%.1f n=%d core=%s gemm=%s mlp_gemm_gflops=%.1f openblas_gflops=%.1f\n",
           best, n, hp_nn_blas_core(), hp_nn_gemm_kernel(), mlp, ob);
    free(a);
    free(b);
    free(c);
    return 0;
}
