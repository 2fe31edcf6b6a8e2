/* bench_mo — multi-objective search quality in-process: bayes (ParEGO) and
 * random on ZDT1, ZDT2, ZDT3 (d = 6), DTLZ2 (d = 6, 2 objectives) and
 * BraninCurrin (d = 2), the samplers called exactly as the daemon calls
 * them (every objective in obs.ov) with the problems evaluated in-process,
 * sequentially; and the time of a suggestion at n completed trials.
 *
 *   bench_mo [--seeds N] [--evals N] [--only ALGO] [--problem NAME] [--seed0 S]
 *   bench_mo --speed N [--pending K]
 *
 * One JSON line per (problem, algorithm, seed): every trial's objective
 * values ("ys", in trial order), the hypervolume after 60 and 100 trials
 * (common/pareto.h, against the problem's reference point) and the
 * suggestion times. --speed: one line with the seconds of 3 suggestions
 * at N completed random trials of ZDT1 (plus K pending). The driver
 * mo_bench.py runs it next to Optuna and prints medians. Built by the
 * bench_mo target (EXCLUDE_FROM_ALL). */
#include "err.h"
#include "pareto.h"
#include "rng.h"
#include "sampler.h"
#include "spec.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define M 2 /* objectives */

typedef struct problem {
    const char *name;
    size_t d;
    double ref[M];
    void (*eval)(const double *x, size_t d, double *f);
} problem_t;

static double zdt_g(const double *x, size_t d)
{
    double s = 0;
    for (size_t i = 1; i < d; i++)
        s += x[i];
    return 1 + 9 * s / (double)(d - 1);
}

static void zdt1(const double *x, size_t d, double *f)
{
    double g = zdt_g(x, d);
    f[0] = x[0];
    f[1] = g * (1 - sqrt(x[0] / g));
}

static void zdt2(const double *x, size_t d, double *f)
{
    double g = zdt_g(x, d);
    f[0] = x[0];
    f[1] = g * (1 - (x[0] / g) * (x[0] / g));
}

static void zdt3(const double *x, size_t d, double *f)
{
    double g = zdt_g(x, d), r = x[0] / g;
    f[0] = x[0];
    f[1] = g * (1 - sqrt(r) - r * sin(10 * M_PI * x[0]));
}

static void dtlz2(const double *x, size_t d, double *f)
{
    double g = 0;
    for (size_t i = M - 1; i < d; i++)
        g += (x[i] - 0.5) * (x[i] - 0.5);
    f[0] = (1 + g) * cos(x[0] * M_PI / 2);
    f[1] = (1 + g) * sin(x[0] * M_PI / 2);
}

/* BoTorch's BraninCurrin: both on [0,1]^2, both minimised */
static void branin_currin(const double *x, size_t d, double *f)
{
    (void)d;
    double u = 15 * x[0] - 5, v = 15 * x[1];
    double t = v - 5.1 / (4 * M_PI * M_PI) * u * u + 5 / M_PI * u - 6;
    f[0] = t * t + 10 * (1 - 1 / (8 * M_PI)) * cos(u) + 10;
    double a = x[0], b = x[1];
    double e = b > 0 ? 1 - exp(-1 / (2 * b)) : 1;
    f[1] = e * (2300 * a * a * a + 1900 * a * a + 2092 * a + 60) /
           (100 * a * a * a + 500 * a * a + 4 * a + 20);
}

/* reference points as in BoTorch's test problems */
static const problem_t problems[] = {
    {"zdt1", 6, {11, 11}, zdt1},
    {"zdt2", 6, {11, 11}, zdt2},
    {"zdt3", 6, {11, 11}, zdt3},
    {"dtlz2", 6, {1.1, 1.1}, dtlz2},
    {"branincurrin", 2, {18, 6}, branin_currin},
};

static int make_spec(hp_spec_t *spec, const problem_t *p, const char *algo, int evals, int seed)
{
    char yaml[4096];
    int n = snprintf(yaml, sizeof yaml,
                     "name: mo\nobjective: [{metric: f1}, {metric: f2}]\n"
                     "search: {algorithm: %s, max_trials: %d, seed: %d}\nspace:\n",
                     algo, evals, seed);
    for (size_t i = 0; i < p->d; i++)
        n += snprintf(yaml + n, sizeof yaml - (size_t)n,
                      "  x%zu: {type: float, low: 0, high: 1}\n", i + 1);
    snprintf(yaml + n, sizeof yaml - (size_t)n, "trial: {command: [prog]}\n");
    hp_diag_t dg = {0};
    int rc = hp_spec_parse(spec, yaml, strlen(yaml), "mo.yaml", &dg);
    for (size_t i = 0; rc < 0 && i < dg.n; i++)
        fprintf(stderr, "%s\n", dg.items[i].text);
    hp_diag_fini(&dg);
    return rc;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double hv_at(const problem_t *p, const double *ys, int n)
{
    double v = NAN;
    hp_hypervolume(ys, (size_t)n, M, p->ref, &v);
    return v;
}

/* One search of evals trials; ys (evals x M) gets the values. */
static int run(const problem_t *p, const char *algo, int evals, int seed, double *ys,
               double *sec_max, double *sec_sum)
{
    hp_spec_t spec;
    if (make_spec(&spec, p, algo, evals, seed) < 0)
        return -1;
    hp_sampler_t *s;
    char err[256];
    if (hp_sampler_new(&s, &spec, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    hp_obs_t *obs = calloc((size_t)evals, sizeof *obs);
    double *xs = calloc((size_t)evals * p->d, sizeof *xs);
    *sec_max = *sec_sum = 0;
    for (int k = 0; k < evals; k++) {
        hp_history_t h = {obs, (size_t)k};
        double *x = xs + (size_t)k * p->d;
        double t0 = now();
        int rc = hp_sampler_suggest(s, (uint64_t)k, &h, x, err, sizeof err);
        double dt = now() - t0;
        *sec_max = fmax(*sec_max, dt);
        *sec_sum += dt;
        if (rc < 0) {
            fprintf(stderr, "%s %s: %s\n", p->name, algo, err);
            return -1;
        }
        p->eval(x, p->d, ys + (size_t)k * M);
        obs[k] = (hp_obs_t){(uint64_t)k, HP_OBS_COMPLETED, ys[(size_t)k * M], x, NULL,
                            ys + (size_t)k * M, 0};
    }
    free(obs);
    free(xs);
    hp_sampler_free(s);
    hp_spec_fini(&spec);
    return 0;
}

/* Three suggestions with n completed random trials of ZDT1 and `pending`
 * more running. */
static int speed(int n, int pending)
{
    const problem_t *p = &problems[0];
    hp_spec_t spec;
    if (make_spec(&spec, p, "bayes", n + pending + 3, 0) < 0)
        return -1;
    hp_sampler_t *s;
    char err[256];
    if (hp_sampler_new(&s, &spec, err, sizeof err) < 0)
        return -1;
    size_t tot = (size_t)(n + pending + 3);
    hp_obs_t *obs = calloc(tot, sizeof *obs);
    double *xs = calloc(tot * p->d, sizeof *xs), *ys = calloc(tot * M, sizeof *ys);
    hp_rng_t r;
    hp_rng_init(&r, 1, 0);
    for (int k = 0; k < n + pending; k++) {
        double *x = xs + (size_t)k * p->d;
        for (size_t i = 0; i < p->d; i++)
            x[i] = hp_rng_uniform(&r);
        p->eval(x, p->d, ys + (size_t)k * M);
        obs[k] = (hp_obs_t){(uint64_t)k, k < n ? HP_OBS_COMPLETED : HP_OBS_PENDING,
                            ys[(size_t)k * M], x, NULL, k < n ? ys + (size_t)k * M : NULL, 0};
    }
    printf("{\"speed\":true,\"n\":%d,\"pending\":%d,\"sec\":[", n, pending);
    for (int j = 0; j < 3; j++) {
        size_t k = (size_t)(n + pending + j);
        hp_history_t h = {obs, k};
        double t0 = now();
        if (hp_sampler_suggest(s, k, &h, xs + k * p->d, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return -1;
        }
        printf("%s%.4f", j ? "," : "", now() - t0);
        obs[k] = (hp_obs_t){k, HP_OBS_PENDING, 0, xs + k * p->d, NULL, NULL, 0};
    }
    printf("]}\n");
    free(obs);
    free(xs);
    free(ys);
    hp_sampler_free(s);
    hp_spec_fini(&spec);
    return 0;
}

int main(int argc, char **argv)
{
    openblas_set_num_threads(1);
    int seeds = 10, evals = 100, seed0 = 0, speed_n = 0, pending = 0;
    const char *only = NULL, *only_p = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--seeds"))
            seeds = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seed0"))
            seed0 = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--evals"))
            evals = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--only"))
            only = argv[i + 1];
        else if (!strcmp(argv[i], "--problem"))
            only_p = argv[i + 1];
        else if (!strcmp(argv[i], "--speed"))
            speed_n = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--pending"))
            pending = atoi(argv[i + 1]);
    }
    if (speed_n)
        return speed(speed_n, pending) < 0;
    const char *algos[] = {"bayes", "random"};
    double *ys = malloc((size_t)evals * M * sizeof *ys);
    for (size_t pi = 0; pi < sizeof problems / sizeof *problems; pi++)
        for (size_t a = 0; a < 2; a++) {
            if ((only && strcmp(only, algos[a])) || (only_p && strcmp(only_p, problems[pi].name)))
                continue;
            for (int seed = seed0; seed < seed0 + seeds; seed++) {
                double smax, ssum;
                if (run(&problems[pi], algos[a], evals, seed, ys, &smax, &ssum) < 0)
                    return 1;
                printf("{\"problem\":\"%s\",\"algo\":\"%s\",\"seed\":%d", problems[pi].name,
                       algos[a], seed);
                if (evals >= 60)
                    printf(",\"hv60\":%.10g", hv_at(&problems[pi], ys, 60));
                if (evals >= 100)
                    printf(",\"hv100\":%.10g", hv_at(&problems[pi], ys, 100));
                printf(",\"sec_max\":%.4f,\"sec_mean\":%.4f,\"ys\":[", smax, ssum / evals);
                for (int k = 0; k < evals; k++)
                    printf("%s[%.10g,%.10g]", k ? "," : "", ys[k * M], ys[k * M + 1]);
                printf("]}\n");
                fflush(stdout);
            }
        }
    free(ys);
    return 0;
}
