/* bench_conditional — search on conditional spaces in-process: random and
 * bayes (the samplers called as the daemon calls them, the objective
 * evaluated here, sequentially) on two synthetic problems whose optimum
 * depends on the conditional structure:
 *
 *   optimizer   optimizer in {sgd, adam, rmsprop}, each with its own
 *               learning rate (log-scaled) and its own second parameter
 *               (momentum, beta1, decay); minimum 0.1 (adam, lr 1e-3,
 *               beta1 0.9)
 *   layers      layers in {1, 2, 3, 4} and width1..width4 (int, log),
 *               width_i active when layers >= i; minimum 0.2 (3 layers of
 *               256, 128, 64)
 *
 *   bench_conditional [--seeds N] [--first-seed S] [--evals N] [--only ALGO] [--problem P]
 *
 * One JSON line per (problem, algorithm, seed) with the simple regret
 * (best - minimum) after 20, 50 and --evals evaluations. The driver
 * conditional_bench.py runs Optuna's TPE on the same problems (define-by-
 * run) and prints medians. The objective is the same formula in both. */
#include "err.h"
#include "sampler.h"
#include "spec.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char optimizer_space[] =
    "  optimizer: {type: categorical, values: [sgd, adam, rmsprop]}\n"
    "  sgd_lr: {type: float, low: 1.0e-4, high: 1, log: true, when: {optimizer: sgd}}\n"
    "  momentum: {type: float, low: 0, high: 0.99, when: {optimizer: sgd}}\n"
    "  adam_lr: {type: float, low: 1.0e-4, high: 1, log: true, when: {optimizer: adam}}\n"
    "  beta1: {type: float, low: 0.8, high: 0.999, when: {optimizer: adam}}\n"
    "  rmsprop_lr: {type: float, low: 1.0e-4, high: 1, log: true, when: {optimizer: rmsprop}}\n"
    "  decay: {type: float, low: 0.8, high: 0.999, when: {optimizer: rmsprop}}\n";

static const char layers_space[] =
    "  layers: {type: categorical, values: [1, 2, 3, 4]}\n"
    "  width1: {type: int, low: 16, high: 512, log: true}\n"
    "  width2: {type: int, low: 16, high: 512, log: true, when: {layers: [2, 3, 4]}}\n"
    "  width3: {type: int, low: 16, high: 512, log: true, when: {layers: [3, 4]}}\n"
    "  width4: {type: int, low: 16, high: 512, log: true, when: {layers: 4}}\n";

static double sq(double x)
{
    return x * x;
}

/* the same formulas as conditional_bench.py */
static double f_optimizer(const double *x)
{
    switch ((int)x[0]) {
    case 0: return 0.3 + 0.2 * sq(log10(x[1]) + 1.5) + 2 * sq(x[2] - 0.9);
    case 1: return 0.1 + 0.2 * sq(log10(x[3]) + 3) + 5 * sq(x[4] - 0.9);
    default: return 0.2 + 0.2 * sq(log10(x[5]) + 2.5) + 3 * sq(x[6] - 0.95);
    }
}

static double f_layers(const double *x)
{
    static const double base[4] = {0.5, 0.3, 0.2, 0.25};
    static const double target[4] = {8, 7, 6, 5}; /* log2 of 256, 128, 64, 32 */
    int layers = (int)x[0] + 1;
    double v = base[layers - 1];
    for (int i = 0; i < layers; i++)
        v += 0.02 * sq(log2(x[1 + i]) - target[i]);
    return v;
}

typedef struct problem {
    const char *name, *space;
    double (*f)(const double *x);
    double fmin;
} problem_t;

static const problem_t problems[] = {
    {"optimizer", optimizer_space, f_optimizer, 0.1},
    {"layers", layers_space, f_layers, 0.2},
};

static int make_spec(hp_spec_t *spec, const problem_t *p, const char *algo, int evals, int seed)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "name: c\nobjective: {metric: y}\n"
             "search: {algorithm: %s, max_trials: %d, seed: %d}\nspace:\n%s"
             "trial: {command: [./t]}\n",
             algo, evals, seed, p->space);
    hp_diag_t d = {0};
    int rc = hp_spec_parse(spec, yaml, strlen(yaml), "c.yaml", &d);
    for (size_t i = 0; rc < 0 && i < d.n; i++)
        fprintf(stderr, "%s\n", d.items[i].text);
    hp_diag_fini(&d);
    return rc;
}

static int run(const problem_t *p, const char *algo, int evals, int seed, double *regret)
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
    size_t d = spec.space.n;
    hp_obs_t *obs = calloc((size_t)evals, sizeof *obs);
    double *xs = calloc((size_t)evals * d, sizeof *xs), best = INFINITY;
    for (int k = 0; k < evals; k++) {
        hp_history_t h = {obs, (size_t)k};
        double *x = xs + (size_t)k * d;
        if (hp_sampler_suggest(s, (uint64_t)k, &h, x, err, sizeof err) < 0) {
            fprintf(stderr, "%s %s: %s\n", p->name, algo, err);
            return -1;
        }
        double y = p->f(x);
        obs[k] = (hp_obs_t){(uint64_t)k, HP_OBS_COMPLETED, y, x, NULL};
        best = fmin(best, y);
        regret[k] = best - p->fmin;
    }
    free(obs);
    free(xs);
    hp_sampler_free(s);
    hp_spec_fini(&spec);
    return 0;
}

int main(int argc, char **argv)
{
    openblas_set_num_threads(1);
    int seeds = 10, first = 0, evals = 60;
    const char *only = NULL, *only_p = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--seeds"))
            seeds = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--first-seed"))
            first = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--evals"))
            evals = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--only"))
            only = argv[i + 1];
        else if (!strcmp(argv[i], "--problem"))
            only_p = argv[i + 1];
    }
    if (evals < 20)
        evals = 20;
    const char *algos[] = {"random", "bayes"};
    double *regret = malloc((size_t)evals * sizeof *regret);
    for (size_t pi = 0; pi < sizeof problems / sizeof *problems; pi++)
        for (size_t a = 0; a < 2; a++) {
            if ((only && strcmp(only, algos[a])) || (only_p && strcmp(only_p, problems[pi].name)))
                continue;
            for (int seed = first; seed < first + seeds; seed++) {
                if (run(&problems[pi], algos[a], evals, seed, regret) < 0)
                    return 1;
                printf("{\"problem\":\"%s\",\"algo\":\"%s\",\"seed\":%d,\"r20\":%.6g,"
                       "\"r50\":%.6g,\"rN\":%.6g,\"n\":%d}\n",
                       problems[pi].name, algos[a], seed, regret[19],
                       regret[(evals < 50 ? evals : 50) - 1], regret[evals - 1], evals);
                fflush(stdout);
            }
        }
    free(regret);
    return 0;
}
