/* bench_search_quality — search quality in-process: random, coarse-to-fine
 * and bayes on Branin (2-d), Hartmann-6, Rosenbrock (4-d, [-5,10]^4) and
 * Ackley (5-d, [-32.768,32.768]^5), the samplers called exactly as the
 * daemon calls them but with the objective evaluated in-process
 * (common/testfn), sequentially. Also bayes with 4 simulated parallel
 * workers (4 trials always pending, the oldest finishing first).
 *
 *   bench_search_quality [--seeds N] [--evals N] [--only ALGO] [--fn FUNCTION]
 *                        [--noise SD] [--workers N]
 *
 * One JSON line per (function, algorithm, seed) with the simple regret
 * (best - known minimum) after 20, 50, 60 and 100 evaluations.
 * --noise SD adds Gaussian noise of that standard deviation to every value
 * the sampler sees (seeded by the seed and the trial number), as a
 * validation score carries the noise of its sample and of training; the
 * regret is then the true value of the best-looking trial (the one a user
 * would pick) minus the minimum. --workers N sets the parallel bayes
 * variant's workers (default 4). The driver
 * bench_search_quality.py runs it next to Optuna and scikit-learn and
 * prints medians. Built by the bench_search_quality target
 * (EXCLUDE_FROM_ALL). */
#include "err.h"
#include "sampler.h"
#include "spec.h"
#include "testfn.h"

#include "rng.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fn {
    const char *name, *yaml_name;
    hp_function_t f;
    size_t d;
    double lo, hi;
} fn_t;

static const fn_t fns[] = {
    {"branin", "branin", HP_FUNC_BRANIN, 2, 0, 0},
    {"hartmann6", "hartmann6", HP_FUNC_HARTMANN6, 6, 0, 1},
    {"rosenbrock4", "rosenbrock", HP_FUNC_ROSENBROCK, 4, -5, 10},
    {"ackley5", "ackley", HP_FUNC_ACKLEY, 5, -32.768, 32.768},
};

static int make_spec(hp_spec_t *spec, const fn_t *fn, const char *algo, int evals, int seed)
{
    char yaml[4096];
    int n = snprintf(yaml, sizeof yaml,
                     "name: q\nobjective: {metric: value}\n"
                     "search: {algorithm: %s, max_trials: %d, seed: %d}\nspace:\n",
                     algo, evals, seed);
    for (size_t i = 0; i < fn->d; i++) {
        double lo = fn->lo, hi = fn->hi;
        if (fn->f == HP_FUNC_BRANIN) {
            lo = i ? 0 : -5;
            hi = i ? 15 : 10;
        }
        n += snprintf(yaml + n, sizeof yaml - (size_t)n,
                      "  x%zu: {type: float, low: %.17g, high: %.17g}\n", i + 1, lo, hi);
    }
    snprintf(yaml + n, sizeof yaml - (size_t)n, "trial: {function: %s}\n", fn->yaml_name);
    hp_diag_t d = {0};
    int rc = hp_spec_parse(spec, yaml, strlen(yaml), "q.yaml", &d);
    for (size_t i = 0; rc < 0 && i < d.n; i++)
        fprintf(stderr, "%s\n", d.items[i].text);
    hp_diag_fini(&d);
    return rc;
}

/* Run one search; regret[k] = the true value of the best-looking of the
 * first k+1 evaluations minus the minimum. */
static int run(const fn_t *fn, const char *algo, int evals, int seed, int workers, double noise,
               double *regret)
{
    hp_spec_t spec;
    if (make_spec(&spec, fn, algo, evals, seed) < 0)
        return -1;
    hp_sampler_t *s;
    char err[256];
    if (hp_sampler_new(&s, &spec, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    hp_obs_t *obs = calloc((size_t)evals, sizeof *obs);
    double *xs = calloc((size_t)evals * fn->d, sizeof *xs);
    double fmin_ = hp_testfn_minimum(fn->f, fn->d), best = INFINITY, best_true = INFINITY;
    int suggested = 0, done = 0;
    size_t oldest = 0;
    while (done < evals) {
        /* keep `workers` trials in flight */
        while (suggested < evals && suggested - done < workers) {
            hp_history_t h = {obs, (size_t)suggested};
            double *x = xs + (size_t)suggested * fn->d;
            int rc = hp_sampler_suggest(s, (uint64_t)suggested, &h, x, err, sizeof err);
            if (rc == HP_EBUSY)
                break; /* a coarse-to-fine barrier: finish running trials first */
            if (rc < 0) {
                fprintf(stderr, "%s %s: %s\n", fn->name, algo, err);
                return -1;
            }
            obs[suggested] = (hp_obs_t){(uint64_t)suggested, HP_OBS_PENDING, 0, x, NULL, NULL, 0};
            suggested++;
        }
        /* the oldest running trial finishes */
        while (obs[oldest].state != HP_OBS_PENDING)
            oldest++;
        double y, seen;
        hp_testfn_eval(fn->f, obs[oldest].x, fn->d, &y);
        seen = y;
        if (noise > 0) {
            hp_rng_t r;
            hp_rng_init(&r, 0x5EED0000u + (uint64_t)seed, oldest);
            seen += noise * hp_rng_normal(&r);
        }
        obs[oldest].state = HP_OBS_COMPLETED;
        obs[oldest].value = seen;
        if (seen < best) {
            best = seen;
            best_true = y;
        }
        regret[done++] = best_true - fmin_;
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
    int seeds = 10, evals = 100, workers = 4;
    double noise = 0;
    const char *only = NULL, *only_fn = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--seeds"))
            seeds = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--evals"))
            evals = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--only"))
            only = argv[i + 1];
        else if (!strcmp(argv[i], "--fn"))
            only_fn = argv[i + 1];
        else if (!strcmp(argv[i], "--noise"))
            noise = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--workers"))
            workers = atoi(argv[i + 1]);
    }
    if (workers < 1 || noise < 0 || seeds < 1 || evals < 1) {
        fprintf(stderr, "bench_search_quality: --workers, --seeds and --evals must be at least "
                        "1 and --noise at least 0\n");
        return 2;
    }
    /* --only bayes-4workers selects the parallel variant, whatever --workers says */
    const char *algos[] = {"random", "coarse-to-fine", "bayes", "bayes-4workers"};
    double *regret = malloc((size_t)evals * sizeof *regret);
    for (size_t fi = 0; fi < sizeof fns / sizeof *fns; fi++)
        for (size_t a = 0; a < 4; a++) {
            if ((only && strcmp(only, algos[a])) || (only_fn && strcmp(only_fn, fns[fi].name)))
                continue;
            for (int seed = 0; seed < seeds; seed++) {
                int par = a == 3;
                int n = par ? (evals < 60 ? evals : 60) : evals;
                if (run(&fns[fi], par ? "bayes" : algos[a], n, seed, par ? workers : 1, noise,
                        regret) < 0)
                    return 1;
                char name[32];
                if (par)
                    snprintf(name, sizeof name, "bayes-%dworkers", workers);
                printf("{\"fn\":\"%s\",\"algo\":\"%s\",\"seed\":%d", fns[fi].name,
                       par ? name : algos[a], seed);
                int at[4] = {20, 50, 60, 100};
                for (int k = 0; k < 4; k++)
                    if (at[k] <= n)
                        printf(",\"r%d\":%.6g", at[k], regret[at[k] - 1]);
                printf("}\n");
                fflush(stdout);
            }
        }
    free(regret);
    return 0;
}
