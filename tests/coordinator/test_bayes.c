/* GP-BO (search.algorithm: bayes): determinism, k pending suggestions that
 * are distinct, failed/NaN trials ignored, constant histories, mixed
 * spaces, and (quality, not timing) much lower regret than random search
 * on Branin, Hartmann-6 and heavy-tailed Rosenbrock after 50 sequential
 * evaluations, and Branin's minimum found precisely. */
#include "err.h"
#include "rng.h"
#include "sampler.h"
#include "spec.h"
#include "testfn.h"

#include "hp_check.h"

#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void parse(hp_spec_t *spec, const char *yaml)
{
    hp_diag_t d = {0};
    int rc = hp_spec_parse(spec, yaml, strlen(yaml), "t.yaml", &d);
    if (rc < 0)
        for (size_t i = 0; i < d.n; i++)
            fprintf(stderr, "%s\n", d.items[i].text);
    ck_assert_int_eq(rc, 0);
    hp_diag_fini(&d);
}

static void fn_spec(hp_spec_t *spec, const char *algo, hp_function_t f, int max_trials,
                    int seed, const char *goal)
{
    char yaml[2048];
    int n = snprintf(yaml, sizeof yaml,
                     "name: f\nobjective: {metric: value, goal: %s}\n"
                     "search: {algorithm: %s, max_trials: %d, seed: %d}\nspace:\n",
                     goal, algo, max_trials, seed);
    if (f == HP_FUNC_BRANIN)
        n += snprintf(yaml + n, sizeof yaml - n,
                      "  x1: {type: float, low: -5, high: 10}\n"
                      "  x2: {type: float, low: 0, high: 15}\n");
    else if (f == HP_FUNC_ROSENBROCK)
        for (int i = 1; i <= 4; i++)
            n += snprintf(yaml + n, sizeof yaml - n, "  x%d: {type: float, low: -5, high: 10}\n",
                          i);
    else
        for (int i = 1; i <= 6; i++)
            n += snprintf(yaml + n, sizeof yaml - n, "  x%d: {type: float, low: 0, high: 1}\n", i);
    snprintf(yaml + n, sizeof yaml - n, "trial: {function: %s}\n",
             f == HP_FUNC_BRANIN       ? "branin"
             : f == HP_FUNC_ROSENBROCK ? "rosenbrock"
                                       : "hartmann6");
    parse(spec, yaml);
}

typedef struct run {
    hp_obs_t obs[128];
    double xs[128][8];
    size_t n;
} run_t;

/* sequential in-process loop: regret after `evals` */
static double regret(const char *algo, hp_function_t f, int evals, int seed, run_t *r)
{
    hp_spec_t spec;
    fn_spec(&spec, algo, f, evals, seed, "minimize");
    size_t d = spec.space.n;
    hp_sampler_t *s;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&s, &spec, err, sizeof err), 0);
    double best = INFINITY;
    r->n = 0;
    for (uint64_t k = 0; k < (uint64_t)evals; k++) {
        hp_history_t h = {r->obs, r->n};
        int rc = hp_sampler_suggest(s, k, &h, r->xs[k], err, sizeof err);
        ck_assert_msg(rc == 0, "%s", err);
        ck_assert(hp_space_contains(&spec.space, r->xs[k]));
        double y;
        ck_assert_int_eq(hp_testfn_eval(f, r->xs[k], d, &y), 0);
        r->obs[k] = (hp_obs_t){k, HP_OBS_COMPLETED, y, r->xs[k], NULL, NULL, 0};
        r->n++;
        best = fmin(best, y);
    }
    hp_sampler_free(s);
    hp_spec_fini(&spec);
    return best - hp_testfn_minimum(f, d);
}

static int cmp_d(const void *a, const void *b)
{
    double p = *(const double *)a, q = *(const double *)b;
    return p < q ? -1 : p > q;
}

static void check_quality(hp_function_t f, double factor, double abs_max)
{
    enum { SEEDS = 3, EVALS = 50 };
    static run_t r;
    double rb[SEEDS], rr[SEEDS];
    for (int seed = 0; seed < SEEDS; seed++) {
        rb[seed] = regret("bayes", f, EVALS, seed, &r);
        rr[seed] = regret("random", f, EVALS, seed, &r);
    }
    qsort(rb, SEEDS, sizeof *rb, cmp_d);
    if (getenv("HP_TEST_VERBOSE"))
        fprintf(stderr, "bayes %g %g %g random %g %g %g\n", rb[0], rb[1], rb[2], rr[0], rr[1], rr[2]);
    qsort(rr, SEEDS, sizeof *rr, cmp_d);
    /* the worst bayes seed beats the median random seed by the factor */
    ck_assert_msg(rb[SEEDS - 1] * factor < rr[SEEDS / 2] && rb[SEEDS - 1] < abs_max,
                  "bayes regrets %g %g %g, random %g %g %g", rb[0], rb[1], rb[2], rr[0], rr[1],
                  rr[2]);
}

START_TEST(test_bayes_branin_beats_random) { check_quality(HP_FUNC_BRANIN, 100, 0.01); }
END_TEST

START_TEST(test_bayes_hartmann6_beats_random) { check_quality(HP_FUNC_HARTMANN6, 20, 0.1); }
END_TEST

START_TEST(test_bayes_rosenbrock_beats_random)
{
    /* values from about 0 to 1e6: the warp must tame the tail */
    check_quality(HP_FUNC_ROSENBROCK, 20, 100);
}
END_TEST

START_TEST(test_bayes_branin_precise)
{
    /* a deterministic function: the model nearly interpolates it and the
     * search homes in on a minimum, not just near it (the scikit-learn
     * GP-EI reference's median is 7.5e-6 here; random search's about 0.8) */
    static run_t r;
    for (int seed = 0; seed < 3; seed++) {
        double reg = regret("bayes", HP_FUNC_BRANIN, 50, seed, &r);
        ck_assert_msg(reg < 1e-4, "seed %d: regret %g after 50", seed, reg);
    }
}
END_TEST

START_TEST(test_bayes_deterministic)
{
    static run_t a, b, c;
    regret("bayes", HP_FUNC_BRANIN, 25, 4, &a);
    regret("bayes", HP_FUNC_BRANIN, 25, 4, &b);
    regret("bayes", HP_FUNC_BRANIN, 25, 5, &c);
    ck_assert_mem_eq(a.xs, b.xs, sizeof a.xs);
    /* another seed, other model-based suggestions (a single one may
     * coincide: both can pick the same corner of the box) */
    ck_assert(memcmp(a.xs[10], c.xs[10], 15 * sizeof a.xs[0]) != 0);
    /* a fresh sampler given the history shuffled suggests the same point
     * as another fresh sampler given it in order */
    hp_spec_t spec;
    fn_spec(&spec, "bayes", HP_FUNC_BRANIN, 100, 4, "minimize");
    hp_sampler_t *s1, *s2;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&s1, &spec, err, sizeof err), 0);
    ck_assert_int_eq(hp_sampler_new(&s2, &spec, err, sizeof err), 0);
    hp_obs_t rev[25];
    for (int i = 0; i < 25; i++)
        rev[i] = a.obs[24 - i];
    hp_history_t h1 = {a.obs, 25}, h2 = {rev, 25};
    double x1[2], x2[2];
    ck_assert_int_eq(hp_sampler_suggest(s1, 25, &h1, x1, err, sizeof err), 0);
    ck_assert_int_eq(hp_sampler_suggest(s2, 25, &h2, x2, err, sizeof err), 0);
    ck_assert_mem_eq(x1, x2, sizeof x1);
    hp_sampler_free(s1);
    hp_sampler_free(s2);
    hp_spec_fini(&spec);
}
END_TEST

static double udist(const hp_space_t *sp, const double *a, const double *b)
{
    double ua[8], ub[8], s = 0;
    hp_space_to_unit(sp, a, ua);
    hp_space_to_unit(sp, b, ub);
    for (size_t i = 0; i < sp->n; i++)
        s += (ua[i] - ub[i]) * (ua[i] - ub[i]);
    return sqrt(s);
}

START_TEST(test_bayes_pending_suggestions_distinct)
{
    /* 15 completed trials, then 6 idle workers ask one after the other,
     * each earlier answer pending: 6 distinct points, none near another
     * trial, and each still good (predicted) - not random */
    static run_t r;
    regret("bayes", HP_FUNC_BRANIN, 15, 9, &r);
    hp_spec_t spec;
    fn_spec(&spec, "bayes", HP_FUNC_BRANIN, 100, 9, "minimize");
    hp_sampler_t *s;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&s, &spec, err, sizeof err), 0);
    for (uint64_t k = 15; k < 21; k++) {
        hp_history_t h = {r.obs, r.n};
        ck_assert_int_eq(hp_sampler_suggest(s, k, &h, r.xs[k], err, sizeof err), 0);
        for (size_t i = 0; i < r.n; i++)
            ck_assert_msg(udist(&spec.space, r.xs[k], r.xs[i]) > 1e-3,
                          "trial %llu repeats trial %zu", (unsigned long long)k, i);
        r.obs[k] = (hp_obs_t){k, HP_OBS_PENDING, 0, r.xs[k], NULL, NULL, 0};
        r.n++;
    }
    /* without the pending trials the sampler would have answered the same
     * point every time: check the first answer is what it gives alone */
    hp_sampler_t *s2;
    ck_assert_int_eq(hp_sampler_new(&s2, &spec, err, sizeof err), 0);
    double x[2];
    hp_history_t h15 = {r.obs, 15};
    ck_assert_int_eq(hp_sampler_suggest(s2, 15, &h15, x, err, sizeof err), 0);
    ck_assert_mem_eq(x, r.xs[15], sizeof x);
    hp_sampler_free(s);
    hp_sampler_free(s2);
    hp_spec_fini(&spec);
}
END_TEST

/* in-process loop with `workers` trials always running, the oldest
 * finishing first (as on a cluster): regret after `evals` */
static double regret_parallel(hp_function_t f, int evals, int seed, int workers, run_t *r)
{
    hp_spec_t spec;
    fn_spec(&spec, "bayes", f, evals, seed, "minimize");
    size_t d = spec.space.n;
    hp_sampler_t *s;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&s, &spec, err, sizeof err), 0);
    double best = INFINITY;
    size_t done = 0;
    r->n = 0;
    while (done < (size_t)evals) {
        while (r->n < (size_t)evals && r->n - done < (size_t)workers) {
            hp_history_t h = {r->obs, r->n};
            uint64_t k = r->n;
            ck_assert_msg(hp_sampler_suggest(s, k, &h, r->xs[k], err, sizeof err) == 0, "%s",
                          err);
            for (size_t i = 0; i < k; i++)
                ck_assert_msg(memcmp(r->xs[k], r->xs[i], d * sizeof r->xs[k][0]) != 0,
                              "trial %llu repeats trial %zu", (unsigned long long)k, i);
            r->obs[k] = (hp_obs_t){k, HP_OBS_PENDING, 0, r->xs[k], NULL, NULL, 0};
            r->n++;
        }
        double y;
        ck_assert_int_eq(hp_testfn_eval(f, r->xs[done], d, &y), 0);
        r->obs[done].state = HP_OBS_COMPLETED;
        r->obs[done].value = y;
        best = fmin(best, y);
        done++;
    }
    hp_sampler_free(s);
    hp_spec_fini(&spec);
    return best - hp_testfn_minimum(f, d);
}

START_TEST(test_bayes_four_workers_refine_together)
{
    /* 4 trials always running: the pending-aware suggestions (confidence
     * bound on the model with the pending trials at their predictions)
     * still close in on the optimum - regret at 60 comparable to (here:
     * below) the sequential search's, never a spread of random points */
    static run_t r;
    for (int seed = 0; seed < 3; seed++) {
        double par = regret_parallel(HP_FUNC_BRANIN, 60, seed, 4, &r);
        double seq = regret("bayes", HP_FUNC_BRANIN, 60, seed, &r);
        if (getenv("HP_TEST_VERBOSE"))
            fprintf(stderr, "seed %d: 4 workers %g, 1 worker %g\n", seed, par, seq);
        ck_assert_msg(par < 1e-6, "seed %d: 4 workers reach regret %g at 60", seed, par);
    }
}
END_TEST

START_TEST(test_bayes_pending_in_small_discrete_space)
{
    /* 3 x 4 = 12 points: pending ones are never suggested again */
    const char *yaml = "name: d\nobjective: {metric: y}\n"
                       "search: {algorithm: bayes, max_trials: 12, n_initial: 3, seed: 1}\n"
                       "space:\n  a: {type: int, low: 0, high: 2}\n"
                       "  b: {type: categorical, values: [p, q, r, s]}\n"
                       "trial: {command: [./t]}\n";
    hp_spec_t spec;
    parse(&spec, yaml);
    hp_sampler_t *s;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&s, &spec, err, sizeof err), 0);
    hp_obs_t obs[12];
    double xs[12][2];
    for (uint64_t k = 0; k < 12; k++) {
        hp_history_t h = {obs, k};
        ck_assert_int_eq(hp_sampler_suggest(s, k, &h, xs[k], err, sizeof err), 0);
        ck_assert(hp_space_contains(&spec.space, xs[k]));
        for (uint64_t i = 0; i < k && k >= 3; i++)
            ck_assert_msg(memcmp(xs[i], xs[k], sizeof xs[k]) != 0, "trial %llu repeats %llu",
                          (unsigned long long)k, (unsigned long long)i);
        /* the first 3 complete, the rest stay pending */
        obs[k] = (hp_obs_t){k, k < 3 ? HP_OBS_COMPLETED : HP_OBS_PENDING,
                            xs[k][0] + (xs[k][1] == 2 ? -1 : 0), xs[k], NULL, NULL, 0};
    }
    hp_sampler_free(s);
    hp_spec_fini(&spec);
}
END_TEST

START_TEST(test_bayes_failed_and_nan_do_not_poison)
{
    static run_t r;
    regret("bayes", HP_FUNC_BRANIN, 20, 3, &r);
    hp_spec_t spec;
    fn_spec(&spec, "bayes", HP_FUNC_BRANIN, 100, 3, "minimize");
    hp_sampler_t *s1, *s2;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&s1, &spec, err, sizeof err), 0);
    ck_assert_int_eq(hp_sampler_new(&s2, &spec, err, sizeof err), 0);
    double clean[2], dirty[2];
    hp_history_t h = {r.obs, 20};
    ck_assert_int_eq(hp_sampler_suggest(s1, 40, &h, clean, err, sizeof err), 0);
    /* the same history plus 20 failed or non-finite trials */
    static hp_obs_t obs[40];
    static double bad[20][2];
    memcpy(obs, r.obs, 20 * sizeof *obs);
    for (int i = 0; i < 20; i++) {
        bad[i][0] = -5 + 0.7 * i;
        bad[i][1] = 0.5 * i;
        int failed = i % 2 == 0;
        obs[20 + i] = (hp_obs_t){(uint64_t)(20 + i), failed ? HP_OBS_FAILED : HP_OBS_COMPLETED,
                                 failed ? -1e300 : i % 4 == 1 ? NAN : INFINITY, bad[i], NULL, NULL, 0};
    }
    h = (hp_history_t){obs, 40};
    ck_assert_int_eq(hp_sampler_suggest(s2, 40, &h, dirty, err, sizeof err), 0);
    ck_assert_mem_eq(clean, dirty, sizeof clean);
    hp_sampler_free(s1);
    hp_sampler_free(s2);
    hp_spec_fini(&spec);
}
END_TEST

/* Pruned trials are modelled, not ignored like failed ones, at the value
 * they were stopped with but never better than the worst completed trial:
 * the same points failed, pruned without a value, pruned "better" than
 * every completed trial and pruned worse than all of them give the first,
 * then twice the second, then a third suggestion. A pruned trial with a
 * projection to its end is modelled at it, as a completed one would be. */
START_TEST(test_bayes_learns_from_pruned)
{
    static run_t r;
    regret("bayes", HP_FUNC_BRANIN, 20, 5, &r);
    hp_spec_t spec;
    fn_spec(&spec, "bayes", HP_FUNC_BRANIN, 100, 5, "minimize");
    double worst = -INFINITY;
    for (int i = 0; i < 20; i++)
        worst = fmax(worst, r.obs[i].value);
    static hp_obs_t obs[28];
    static double near[8][2];
    memcpy(obs, r.obs, 20 * sizeof *obs);
    for (int i = 0; i < 8; i++) {
        near[i][0] = 2.5 + 0.6 * cos(i * M_PI / 4);
        near[i][1] = 7.5 + 0.6 * sin(i * M_PI / 4);
        obs[20 + i] = (hp_obs_t){(uint64_t)(20 + i), HP_OBS_FAILED, NAN, near[i], NULL, NULL, 0};
    }
    const struct {
        hp_obs_state_t state;
        double value;
        int projected;
    } kinds[6] = {{HP_OBS_FAILED, NAN, 0},
                  {HP_OBS_PRUNED, NAN, 0},
                  {HP_OBS_PRUNED, -1000.0, 0},
                  {HP_OBS_PRUNED, worst * 3 + 10, 0},
                  {HP_OBS_PRUNED, -1000.0, 1},
                  {HP_OBS_COMPLETED, -1000.0, 0}};
    double x[6][2];
    char err[256];
    for (int k = 0; k < 6; k++) {
        for (int i = 0; i < 8; i++) {
            obs[20 + i].state = kinds[k].state;
            obs[20 + i].value = kinds[k].value;
            obs[20 + i].projected = kinds[k].projected;
        }
        /* one sampler per suggestion: each is a function of the history */
        hp_sampler_t *s;
        ck_assert_int_eq(hp_sampler_new(&s, &spec, err, sizeof err), 0);
        hp_history_t h = {obs, 28};
        ck_assert_int_eq(hp_sampler_suggest(s, 40, &h, x[k], err, sizeof err), 0);
        hp_sampler_free(s);
    }
    ck_assert_msg(memcmp(x[0], x[1], sizeof x[0]) != 0, "pruned trials were ignored like failed");
    ck_assert_mem_eq(x[1], x[2], sizeof x[1]);  /* no better than the worst completed */
    ck_assert_msg(memcmp(x[1], x[3], sizeof x[1]) != 0, "a value worse than that was not used");
    /* a projection to the end is taken as it is, like a completed value */
    ck_assert_mem_eq(x[4], x[5], sizeof x[4]);
    ck_assert_msg(memcmp(x[4], x[2], sizeof x[4]) != 0, "a projection was held to the worst");
    hp_spec_fini(&spec);
}
END_TEST

START_TEST(test_bayes_all_failed_and_constant_history)
{
    hp_spec_t spec;
    fn_spec(&spec, "bayes", HP_FUNC_HARTMANN6, 100, 2, "maximize");
    hp_sampler_t *s;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&s, &spec, err, sizeof err), 0);
    static hp_obs_t obs[30];
    static double xs[31][6];
    for (uint64_t k = 0; k < 30; k++) {
        hp_history_t h = {obs, k};
        ck_assert_int_eq(hp_sampler_suggest(s, k, &h, xs[k], err, sizeof err), 0);
        obs[k] = (hp_obs_t){k, HP_OBS_FAILED, 0, xs[k], NULL, NULL, 0};
    }
    /* everything failed: still valid points, never a crash */
    hp_history_t h = {obs, 30};
    ck_assert_int_eq(hp_sampler_suggest(s, 30, &h, xs[30], err, sizeof err), 0);
    ck_assert(hp_space_contains(&spec.space, xs[30]));
    /* a constant history: no division by zero, a new valid point */
    for (int k = 0; k < 30; k++) {
        obs[k].state = HP_OBS_COMPLETED;
        obs[k].value = 0.25;
    }
    ck_assert_int_eq(hp_sampler_suggest(s, 30, &h, xs[30], err, sizeof err), 0);
    ck_assert(hp_space_contains(&spec.space, xs[30]));
    for (int k = 0; k < 6; k++)
        ck_assert(isfinite(xs[30][k]));
    for (int i = 0; i < 30; i++)
        ck_assert(memcmp(xs[i], xs[30], sizeof xs[30]) != 0);
    hp_sampler_free(s);
    hp_spec_fini(&spec);
}
END_TEST

START_TEST(test_bayes_mixed_space_maximize)
{
    /* log float, stepped int, categorical: maximise a function whose best
     * category is 'tanh'; by 40 trials bayes prefers it */
    const char *yaml = "name: m\nobjective: {metric: acc, goal: maximize}\n"
                       "search: {algorithm: bayes, max_trials: 40, n_initial: 8, seed: 3}\n"
                       "space:\n  lr: {type: float, low: 1.0e-5, high: 1.0e-1, log: true}\n"
                       "  hidden: {type: int, low: 32, high: 512, step: 32}\n"
                       "  act: {type: categorical, values: [relu, tanh, sigmoid]}\n"
                       "trial: {command: [./t]}\n";
    hp_spec_t spec;
    parse(&spec, yaml);
    hp_sampler_t *s;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&s, &spec, err, sizeof err), 0);
    static hp_obs_t obs[40];
    static double xs[40][3];
    int tanh_late = 0;
    double best = -INFINITY;
    for (uint64_t k = 0; k < 40; k++) {
        hp_history_t h = {obs, k};
        ck_assert_int_eq(hp_sampler_suggest(s, k, &h, xs[k], err, sizeof err), 0);
        ck_assert(hp_space_contains(&spec.space, xs[k]));
        double a = log10(xs[k][0]) + 3, b = (xs[k][1] - 256) / 256;
        double v = 1 - a * a / 4 - b * b - (xs[k][2] == 1 ? 0 : 0.6);
        obs[k] = (hp_obs_t){k, HP_OBS_COMPLETED, v, xs[k], NULL, NULL, 0};
        best = fmax(best, v);
        tanh_late += k >= 25 && xs[k][2] == 1;
    }
    ck_assert_int_ge(tanh_late, 10);
    ck_assert_double_gt(best, 0.9);
    hp_sampler_free(s);
    hp_spec_fini(&spec);
}
END_TEST

typedef struct job {
    hp_function_t f;
    int seed;
    run_t r;
} job_t;

static void *job_main(void *arg)
{
    job_t *j = arg;
    regret("bayes", j->f, 25, j->seed, &j->r);
    return NULL;
}

START_TEST(test_bayes_concurrent_samplers)
{
    /* separate samplers on separate threads (as the daemon's thread pool
     * runs several studies): no shared state, the same answers as alone */
    static job_t jobs[3];
    jobs[0].f = jobs[2].f = HP_FUNC_BRANIN;
    jobs[0].seed = jobs[2].seed = 1;
    jobs[1].f = HP_FUNC_HARTMANN6;
    jobs[1].seed = 2;
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, job_main, &jobs[i]), 0);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    static run_t alone;
    regret("bayes", HP_FUNC_HARTMANN6, 25, 2, &alone);
    ck_assert_mem_eq(jobs[1].r.xs, alone.xs, sizeof alone.xs);
    ck_assert_mem_eq(jobs[0].r.xs, jobs[2].r.xs, sizeof alone.xs);
}
END_TEST

START_TEST(test_bayes_large_history_subsets)
{
    /* beyond 2000 completed trials the model keeps a subset: still a valid,
     * new point near the best region */
    enum { N = 2100 };
    hp_spec_t spec;
    fn_spec(&spec, "bayes", HP_FUNC_BRANIN, 5000, 1, "minimize");
    hp_sampler_t *s;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&s, &spec, err, sizeof err), 0);
    hp_obs_t *obs = malloc((N + 2) * sizeof *obs);
    double(*xs)[2] = malloc((N + 2) * sizeof *xs);
    hp_rng_t r;
    hp_rng_init(&r, 5, 0);
    for (int i = 0; i < N + 2; i++) {
        xs[i][0] = -5 + 15 * hp_rng_uniform(&r);
        xs[i][1] = 15 * hp_rng_uniform(&r);
        double y;
        hp_testfn_eval(HP_FUNC_BRANIN, xs[i], 2, &y);
        obs[i] = (hp_obs_t){(uint64_t)i, i < N ? HP_OBS_COMPLETED : HP_OBS_PENDING, y, xs[i], NULL, NULL, 0};
    }
    hp_history_t h = {obs, N + 2};
    double x[2], y;
    ck_assert_int_eq(hp_sampler_suggest(s, N + 2, &h, x, err, sizeof err), 0);
    ck_assert(hp_space_contains(&spec.space, x));
    hp_testfn_eval(HP_FUNC_BRANIN, x, 2, &y);
    ck_assert_double_lt(y, 5.0);
    for (int i = 0; i < N + 2; i++)
        ck_assert(memcmp(xs[i], x, sizeof x) != 0);
    free(obs);
    free(xs);
    hp_sampler_free(s);
    hp_spec_fini(&spec);
}
END_TEST

/* ---- search.acquisition: ucb ------------------------------------------ */

/* a 1-D study x in [0, 1] on a command trial with the given search extras */
static void line_spec(hp_spec_t *spec, const char *extra)
{
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "name: l\nobjective: {metric: y}\n"
             "search: {algorithm: bayes, max_trials: 40, n_initial: 3, seed: 2%s}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial: {command: [./t]}\n",
             extra);
    parse(spec, yaml);
}

static double suggest_after(const char *extra, const double *xs, const double *ys, size_t n,
                            size_t n_pending)
{
    hp_spec_t spec;
    line_spec(&spec, extra);
    hp_sampler_t *s;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&s, &spec, err, sizeof err), 0);
    hp_obs_t obs[32];
    double x[32][1];
    for (size_t i = 0; i < n; i++) {
        x[i][0] = xs[i];
        obs[i] = (hp_obs_t){i, i + n_pending >= n ? HP_OBS_PENDING : HP_OBS_COMPLETED, ys[i],
                            x[i], NULL, NULL, 0};
    }
    hp_history_t h = {obs, n};
    double out[1];
    ck_assert_msg(hp_sampler_suggest(s, n, &h, out, err, sizeof err) == 0, "%s", err);
    hp_sampler_free(s);
    hp_spec_fini(&spec);
    return out[0];
}

START_TEST(test_bayes_ucb_kappa_trades_off)
{
    /* f(x) = (x - 0.37)^2 seen at 10 points, none at its minimum: with a
     * tiny kappa the bound is the mean, whose minimiser (the model nearly
     * interpolates) is f's: the suggestion beats every observation on f
     * itself; with a huge kappa the bound is the standard deviation, whose
     * maximiser, with the observations all in [0, 0.45], is the far end */
    double xs[10], ys[10], best = INFINITY;
    for (int i = 0; i < 10; i++) {
        xs[i] = 0.05 + 0.1 * i;
        ys[i] = (xs[i] - 0.37) * (xs[i] - 0.37);
        best = fmin(best, ys[i]);
    }
    double x = suggest_after(", acquisition: ucb, kappa: 0.001", xs, ys, 10, 0);
    ck_assert_msg((x - 0.37) * (x - 0.37) < best && fabs(x - 0.37) < 0.02,
                  "kappa 0.001 suggests %g (minimum at 0.37, best seen %g)", x, best);
    for (int i = 0; i < 6; i++) {
        xs[i] = 0.09 * i;
        ys[i] = sin(7 * xs[i]);
    }
    x = suggest_after(", acquisition: ucb, kappa: 100", xs, ys, 6, 0);
    ck_assert_msg(x > 0.9, "kappa 100 suggests %g (nothing seen above 0.45)", x);
    /* logei near the same data does not jump to the unexplored end */
    x = suggest_after("", xs, ys, 6, 0);
    ck_assert_msg(x < 0.9, "logei suggests %g", x);
}
END_TEST

START_TEST(test_bayes_ucb_matches_pending_bound)
{
    /* with a trial pending, logei's acquisition is the bound of width 1 on
     * the model: ucb with kappa 1 gives the very same point; with none
     * pending the two acquisitions differ (LogEI against the bound) */
    static run_t r;
    regret("bayes", HP_FUNC_BRANIN, 14, 3, &r);
    r.obs[13].state = HP_OBS_PENDING;
    hp_spec_t a, b;
    fn_spec(&a, "bayes", HP_FUNC_BRANIN, 100, 3, "minimize");
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "name: f\nobjective: {metric: value}\n"
             "search: {algorithm: bayes, max_trials: 100, seed: 3, acquisition: ucb, kappa: 1}\n"
             "space:\n  x1: {type: float, low: -5, high: 10}\n"
             "  x2: {type: float, low: 0, high: 15}\ntrial: {function: branin}\n");
    parse(&b, yaml);
    char err[256];
    double xa[2], xb[2];
    for (int pending = 1; pending >= 0; pending--) {
        hp_sampler_t *sa, *sb;
        ck_assert_int_eq(hp_sampler_new(&sa, &a, err, sizeof err), 0);
        ck_assert_int_eq(hp_sampler_new(&sb, &b, err, sizeof err), 0);
        hp_history_t h = {r.obs, pending ? 14 : 13};
        ck_assert_int_eq(hp_sampler_suggest(sa, 14, &h, xa, err, sizeof err), 0);
        ck_assert_int_eq(hp_sampler_suggest(sb, 14, &h, xb, err, sizeof err), 0);
        if (pending)
            ck_assert_mem_eq(xa, xb, sizeof xa);
        else
            ck_assert(memcmp(xa, xb, sizeof xa) != 0);
        hp_sampler_free(sa);
        hp_sampler_free(sb);
    }
    hp_spec_fini(&a);
    hp_spec_fini(&b);
}
END_TEST

START_TEST(test_bayes_ucb_pending_distinct_and_converges)
{
    /* ucb keeps the pending-trial handling: after 15 trials 6 idle workers
     * asking in turn get 6 points, none on another trial (ucb has homed
     * in by then: they refine the best region, 1e-4..1e-3 apart); and run
     * sequentially it closes in on Branin's minimum */
    static run_t r;
    const char *yaml = "name: f\nobjective: {metric: value}\n"
                       "search: {algorithm: bayes, max_trials: 60, seed: 1, acquisition: ucb}\n"
                       "space:\n  x1: {type: float, low: -5, high: 10}\n"
                       "  x2: {type: float, low: 0, high: 15}\ntrial: {function: branin}\n";
    hp_spec_t spec;
    parse(&spec, yaml);
    char err[256];
    for (int phase = 0; phase < 2; phase++) {
        hp_sampler_t *s;
        ck_assert_int_eq(hp_sampler_new(&s, &spec, err, sizeof err), 0);
        uint64_t n_done = phase == 0 ? 15 : 40;
        double best = INFINITY;
        r.n = 0;
        for (uint64_t k = 0; k < n_done; k++) {
            hp_history_t h = {r.obs, r.n};
            ck_assert_int_eq(hp_sampler_suggest(s, k, &h, r.xs[k], err, sizeof err), 0);
            double y;
            ck_assert_int_eq(hp_testfn_eval(HP_FUNC_BRANIN, r.xs[k], 2, &y), 0);
            r.obs[k] = (hp_obs_t){k, HP_OBS_COMPLETED, y, r.xs[k], NULL, NULL, 0};
            r.n++;
            best = fmin(best, y);
        }
        if (phase == 1)
            ck_assert_msg(best - hp_testfn_minimum(HP_FUNC_BRANIN, 2) < 1e-3,
                          "ucb regret %g at 40", best - hp_testfn_minimum(HP_FUNC_BRANIN, 2));
        for (uint64_t k = n_done; phase == 0 && k < n_done + 6; k++) {
            hp_history_t h = {r.obs, r.n};
            ck_assert_int_eq(hp_sampler_suggest(s, k, &h, r.xs[k], err, sizeof err), 0);
            for (size_t i = 0; i < r.n; i++)
                ck_assert_msg(udist(&spec.space, r.xs[k], r.xs[i]) > 1e-4,
                              "trial %llu repeats trial %zu", (unsigned long long)k, i);
            r.obs[k] = (hp_obs_t){k, HP_OBS_PENDING, 0, r.xs[k], NULL, NULL, 0};
            r.n++;
        }
        hp_sampler_free(s);
    }
    hp_spec_fini(&spec);
}
END_TEST

/* ---- conditional spaces ----------------------------------------------- */

/* opt a: (xa - 0.3)^2; opt b: 0.2 + (xb - 0.7)^2 + (k - 2)^2 / 10, k
 * only with deep b (else 0.1 more): the minimum is on branch a */
static double cond_f(const double *x)
{
    if (x[0] == 0)
        return (x[1] - 0.3) * (x[1] - 0.3);
    double v = 0.2 + (x[2] - 0.7) * (x[2] - 0.7);
    return x[3] == 1 ? v + (x[4] - 2) * (x[4] - 2) / 10 : v + 0.1;
}

START_TEST(test_bayes_conditional_space)
{
    /* every suggestion is a point of the space (inactive parameters left
     * out), with 3 trials pending too none repeats another, and the model
     * homes in on the better branch */
    const char *yaml = "name: c\nobjective: {metric: y}\n"
                       "search: {algorithm: bayes, max_trials: 60, n_initial: 8, seed: 4}\n"
                       "space:\n"
                       "  opt: {type: categorical, values: [a, b]}\n"
                       "  xa: {type: float, low: 0, high: 1, when: {opt: a}}\n"
                       "  xb: {type: float, low: 0, high: 1, when: {opt: b}}\n"
                       "  deep: {type: categorical, values: [no, yes], when: {opt: b}}\n"
                       "  k: {type: int, low: 0, high: 4, when: {deep: yes}}\n"
                       "trial: {command: [./t]}\n";
    hp_spec_t spec;
    parse(&spec, yaml);
    hp_sampler_t *s;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&s, &spec, err, sizeof err), 0);
    static hp_obs_t obs[64];
    static double xs[64][5];
    double best = INFINITY;
    size_t n = 0, done = 0;
    while (done < 40) {
        /* up to 3 running: ask until 3 are pending, then finish the oldest */
        while (n < 43 && n - done < 3) {
            hp_history_t h = {obs, n};
            ck_assert_msg(hp_sampler_suggest(s, n, &h, xs[n], err, sizeof err) == 0, "%s", err);
            ck_assert_msg(hp_space_contains(&spec.space, xs[n]), "trial %zu", n);
            for (size_t j = 0; j < n; j++) {
                int same = 1;
                for (int i = 0; i < 5; i++)
                    same &= xs[n][i] == xs[j][i] || (isnan(xs[n][i]) && isnan(xs[j][i]));
                ck_assert_msg(!same, "trial %zu repeats trial %zu", n, j);
            }
            obs[n] = (hp_obs_t){n, HP_OBS_PENDING, 0, xs[n], NULL, NULL, 0};
            n++;
        }
        obs[done].state = HP_OBS_COMPLETED;
        obs[done].value = cond_f(xs[done]);
        best = fmin(best, obs[done].value);
        done++;
    }
    ck_assert_msg(best < 1e-3, "best %g after 40 trials (minimum 0 on branch a)", best);
    hp_sampler_free(s);
    hp_spec_fini(&spec);
}
END_TEST

/* ---- constraints ------------------------------------------------------- */

START_TEST(test_bayes_avoids_infeasible_region)
{
    /* Branin under the constraint x1 <= 0: only its minimum at (-pi,
     * 12.275) is feasible, two thirds of the box are not. The feasibility
     * model keeps most model-based suggestions feasible (random search
     * would lose two in three) and the best feasible trial reaches the
     * constrained minimum */
    const char *yaml = "name: c\nobjective: {metric: value}\n"
                       "search: {algorithm: bayes, max_trials: 60, n_initial: 8, seed: 2}\n"
                       "space:\n  x1: {type: float, low: -5, high: 10}\n"
                       "  x2: {type: float, low: 0, high: 15}\n"
                       "trial: {command: [./branin]}\n"
                       "constraints: [{metric: x1, max: 0}]\n";
    hp_spec_t spec;
    parse(&spec, yaml);
    hp_sampler_t *s;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&s, &spec, err, sizeof err), 0);
    static hp_obs_t obs[64];
    static double xs[64][2], cv[64][1];
    double best = INFINITY;
    int infeasible_model = 0;
    for (uint64_t k = 0; k < 45; k++) {
        hp_history_t h = {obs, k};
        ck_assert_msg(hp_sampler_suggest(s, k, &h, xs[k], err, sizeof err) == 0, "%s", err);
        double y;
        ck_assert_int_eq(hp_testfn_eval(HP_FUNC_BRANIN, xs[k], 2, &y), 0);
        cv[k][0] = xs[k][0];
        obs[k] = (hp_obs_t){k, HP_OBS_COMPLETED, y, xs[k], cv[k], NULL, 0};
        if (xs[k][0] <= 0)
            best = fmin(best, y);
        else if (k >= 8)
            infeasible_model++;
    }
    double regret = best - 0.397887357729738;
    if (getenv("HP_TEST_VERBOSE"))
        fprintf(stderr, "constrained: regret %g, %d of 37 model suggestions infeasible\n",
                regret, infeasible_model);
    ck_assert_msg(regret < 1e-2, "best feasible regret %g at 45", regret);
    ck_assert_msg(infeasible_model <= 10, "%d of 37 model suggestions infeasible",
                  infeasible_model);
    hp_sampler_free(s);
    hp_spec_fini(&spec);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("coordinator_bayes");
    TCase *tc = tcase_create("bayes");
    tcase_add_test(tc, test_bayes_deterministic);
    tcase_add_test(tc, test_bayes_pending_suggestions_distinct);
    tcase_add_test(tc, test_bayes_pending_in_small_discrete_space);
    tcase_add_test(tc, test_bayes_four_workers_refine_together);
    tcase_add_test(tc, test_bayes_learns_from_pruned);
    tcase_add_test(tc, test_bayes_failed_and_nan_do_not_poison);
    tcase_add_test(tc, test_bayes_all_failed_and_constant_history);
    tcase_add_test(tc, test_bayes_mixed_space_maximize);
    tcase_add_test(tc, test_bayes_concurrent_samplers);
    tcase_add_test(tc, test_bayes_large_history_subsets);
    tcase_add_test(tc, test_bayes_conditional_space);
    tcase_add_test(tc, test_bayes_avoids_infeasible_region);
    tcase_add_test(tc, test_bayes_ucb_kappa_trades_off);
    tcase_add_test(tc, test_bayes_ucb_matches_pending_bound);
    tcase_add_test(tc, test_bayes_ucb_pending_distinct_and_converges);
    tcase_add_test(tc, test_bayes_branin_beats_random);
    tcase_add_test(tc, test_bayes_hartmann6_beats_random);
    tcase_add_test(tc, test_bayes_rosenbrock_beats_random);
    tcase_add_test(tc, test_bayes_branin_precise);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
