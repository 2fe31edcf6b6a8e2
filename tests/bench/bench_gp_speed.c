/* bench_gp_speed — time per bayes suggestion (GP fit + acquisition) at n
 * observations in 6 dimensions (Hartmann-6 values at scrambled-uniform
 * points), single-threaded BLAS as in the daemon.
 *
 *   bench_gp_speed [--dump DIR] [n ...]      (default n = 50 200 500 1000)
 *
 * Per n it prints one JSON line: {"n":..,"cold_s":..,"warm_s":..} — cold is
 * a fresh sampler (no warm start, the first suggestion after a daemon
 * restart), warm the next suggestion of a sampler that already fitted
 * n - 1 observations (the steady state). Medians of several repetitions.
 * With --dump DIR it writes DIR/gp_speed_<n>.csv (x1..x6,y) so the
 * scikit-learn reference (bench_gp_speed.py) times the same data.
 * Built by the bench_gp_speed target (EXCLUDE_FROM_ALL). */
#include "err.h"
#include "rng.h"
#include "sampler.h"
#include "spec.h"
#include "testfn.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double p = *(const double *)a, q = *(const double *)b;
    return p < q ? -1 : p > q;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv)
{
    openblas_set_num_threads(1);
    const char *dump = NULL;
    size_t ns[16] = {50, 200, 500, 1000};
    int nn = 4, given = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dump") && i + 1 < argc)
            dump = argv[++i];
        else if (given < 16)
            ns[given++] = (size_t)strtoul(argv[i], NULL, 10);
    }
    if (given)
        nn = given;
    const char *yaml = "name: speed\nobjective: {metric: value}\n"
                       "search: {algorithm: bayes, max_trials: 100000, seed: 1}\nspace:\n"
                       "  x1: {type: float, low: 0, high: 1}\n  x2: {type: float, low: 0, high: 1}\n"
                       "  x3: {type: float, low: 0, high: 1}\n  x4: {type: float, low: 0, high: 1}\n"
                       "  x5: {type: float, low: 0, high: 1}\n  x6: {type: float, low: 0, high: 1}\n"
                       "trial: {function: hartmann6}\n";
    hp_spec_t spec;
    hp_diag_t diag = {0};
    if (hp_spec_parse(&spec, yaml, strlen(yaml), "speed.yaml", &diag) < 0) {
        fprintf(stderr, "spec does not parse\n");
        return 1;
    }
    char err[256];
    for (int t = 0; t < nn; t++) {
        size_t n = ns[t];
        double *xs = malloc(n * 6 * sizeof *xs);
        hp_obs_t *obs = malloc(n * sizeof *obs);
        hp_rng_t r;
        hp_rng_init(&r, 42, n);
        for (size_t i = 0; i < n; i++) {
            for (int k = 0; k < 6; k++)
                xs[i * 6 + k] = hp_rng_uniform(&r);
            double y;
            hp_testfn_eval(HP_FUNC_HARTMANN6, xs + i * 6, 6, &y);
            obs[i] = (hp_obs_t){i, HP_OBS_COMPLETED, y, xs + i * 6, NULL, NULL, 0};
        }
        if (dump) {
            char path[1024];
            snprintf(path, sizeof path, "%s/gp_speed_%zu.csv", dump, n);
            FILE *f = fopen(path, "w");
            if (!f) {
                perror(path);
                return 1;
            }
            for (size_t i = 0; i < n; i++) {
                for (int k = 0; k < 6; k++)
                    fprintf(f, "%.17g,", xs[i * 6 + k]);
                fprintf(f, "%.17g\n", obs[i].value);
            }
            fclose(f);
        }
        int reps = n <= 200 ? 7 : n <= 500 ? 5 : 3;
        double cold[8], warm[8], x[6];
        for (int rep = 0; rep < reps; rep++) {
            hp_sampler_t *s;
            if (hp_sampler_new(&s, &spec, err, sizeof err) < 0) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
            hp_history_t h = {obs, n - 1};
            double t0 = now();
            int rc = hp_sampler_suggest(s, n + (uint64_t)rep, &h, x, err, sizeof err);
            double t1 = now();
            h.n = n;
            rc |= hp_sampler_suggest(s, n + 1 + (uint64_t)rep, &h, x, err, sizeof err);
            double t2 = now();
            if (rc < 0) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
            cold[rep] = t1 - t0;
            warm[rep] = t2 - t1;
            hp_sampler_free(s);
        }
        printf("{\"n\":%zu,\"cold_s\":%.6f,\"warm_s\":%.6f,\"reps\":%d}\n", n, median(cold, reps),
               median(warm, reps), reps);
        fflush(stdout);
        free(xs);
        free(obs);
    }
    hp_spec_fini(&spec);
    return 0;
}
