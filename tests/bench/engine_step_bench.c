/* engine_step_bench: CPU time of one training step of a built-in model on
 * random data, for comparing engine builds (and PyTorch, through
 * engine_step_bench.py) on a shared machine, where wall-clock epochs
 * swing with the load:
 *
 *     cmake --build build --target engine_step_bench
 *     build/bin/engine_step_bench [--model lstm] [--steps 40] [--set name=value ...]
 *     model=lstm batch=128 steps=35 cpu_ms_min=22.85 cpu_ms_median=23.61 samples_per_cpu_sec=5602
 *
 * One BLAS thread; the first five steps are warm-up and not counted. */
#include "models_int.h"
#include "train.h"

#include "gemm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    const char *model = "lstm";
    int steps = 40;
    const char *sets[32];
    int nsets = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--model"))
            model = argv[i + 1];
        else if (!strcmp(argv[i], "--steps"))
            steps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--set")) {
            if (nsets == (int)(sizeof sets / sizeof sets[0])) {
                fprintf(stderr, "engine_step_bench: at most %d --set options\n", nsets);
                return 2;
            }
            sets[nsets++] = argv[i + 1];
        } else {
            fprintf(stderr, "engine_step_bench: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (steps < 6 || steps > 100000) {
        fprintf(stderr, "engine_step_bench: --steps must be in 6..100000 (got %d)\n", steps);
        return 2;
    }
    hp_nn_set_threads(1);
    hp_train_config_t cfg;
    hp_train_config_defaults(&cfg);
    char err[512];
    hp_trainer_t t;
    if (hp_train_config_set(&cfg, "model", model, err, sizeof err) < 0) {
        fprintf(stderr, "engine_step_bench: %s\n", err);
        return 1;
    }
    /* the settings of a trial, as `hpworker train --set` takes them
     * (conv1=19, batchnorm=true, ...) */
    for (int i = 0; i < nsets; i++)
        if (hp_train_config_set_kv(&cfg, sets[i], err, sizeof err) < 0) {
            fprintf(stderr, "engine_step_bench: --set %s: %s\n", sets[i], err);
            return 1;
        }
    if (hp_trainer_init(&t, &cfg, 1, 28, 28, 10, HP_TASK_CLASSIFY, err, sizeof err) < 0) {
        fprintf(stderr, "engine_step_bench: %s\n", err);
        return 1;
    }
    int B = cfg.batch_size;
    hp_rng_t r;
    hp_rng_init(&r, 1, 0);
    for (size_t i = 0; i < (size_t)B * t.model.in_size; i++)
        t.model.input[i] = (float)hp_rng_normal(&r);
    for (int b = 0; b < B; b++)
        t.labels[b] = b % 10;
    double *ms = calloc((size_t)steps, sizeof *ms);
    if (!ms)
        return 1;
    int n = 0;
    for (int s = 0; s < steps; s++) {
        double c0 = cpu_now();
        if (hp_trainer_step(&t, B, 3e-4f, NULL, NULL, err, sizeof err) < 0) {
            fprintf(stderr, "engine_step_bench: %s\n", err);
            return 1;
        }
        if (s >= 5)
            ms[n++] = (cpu_now() - c0) * 1e3;
    }
    qsort(ms, (size_t)n, sizeof *ms, cmp);
    printf("model=%s batch=%d steps=%d cpu_ms_min=%.2f cpu_ms_median=%.2f samples_per_cpu_sec=%.0f "
           "blas_core=%s gemm=%s\n",
           model, B, n, ms[0], ms[n / 2], B / ms[0] * 1e3, hp_nn_blas_core(), hp_nn_gemm_kernel());
    free(ms);
    hp_trainer_fini(&t);
    return 0;
}
