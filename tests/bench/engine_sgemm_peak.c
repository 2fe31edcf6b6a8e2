/* engine_sgemm_peak: this machine's single-thread sgemm GFLOP/s with the
 * OpenBLAS kernels it selects, the ceiling the engine's MLP is compared
 * to in docs/benchmarks.md. Built and run by engine_bench.py:
 *     cc -O2 engine_sgemm_peak.c $(pkg-config --cflags --libs openblas) */
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
    openblas_set_num_threads(1);
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
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c,
                    n);
        double g = 2.0 * n * n * (double)n / (now() - t) * 1e-9;
        best = g > best ? g : best;
    }
    printf("sgemm_gflops=%.1f n=%d core=%s\n", best, n, openblas_get_corename());
    free(a);
    free(b);
    free(c);
    return 0;
}
