/* Coarse-to-fine search (coordinator/search/c2f.c): the round barrier,
 * boxes that shrink by `shrink` per round around the median of the best
 * trials (log space for log parameters), categoricals narrowed to those
 * among the best, determinism given the seed and the history whatever its
 * order, and the per-round JSON. */
#include "c2f.h"
#include "err.h"
#include "sampler.h"
#include "spec.h"
#include "testfn.h"

#include "hp_check.h"

#include <check.h>
#include <math.h>
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

/* lr (log), hidden (int), act (categorical), x (float) */
static void make_spec(hp_spec_t *spec, int seed, const char *goal, const char *extra)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "name: s\nobjective: {metric: loss, goal: %s}\n"
             "search: {algorithm: coarse-to-fine, max_trials: 64, rounds: 4, seed: %d%s}\n"
             "space:\n"
             "  lr: {type: float, low: 1.0e-5, high: 1.0e-1, log: true}\n"
             "  hidden: {type: int, low: 16, high: 1024}\n"
             "  act: {type: categorical, values: [relu, tanh, sigmoid, gelu]}\n"
             "  x: {type: float, low: -5, high: 10}\n"
             "trial: {command: [./train]}\n",
             goal, seed, extra);
    parse(spec, yaml);
}

/* minimum near lr = 1e-3, hidden = 200, act = tanh, x = 2 */
static double objective(const double *x)
{
    double a = log10(x[0]) + 3, b = (x[1] - 200) / 300, c = x[2] == 1 ? 0 : 0.5, d = (x[3] - 2) / 5;
    return a * a + b * b + c + d * d;
}

typedef struct run {
    hp_obs_t obs[256];
    double xs[256][4];
    size_t n;
} run_t;

static hp_history_t hist(const run_t *r) { return (hp_history_t){r->obs, r->n}; }

/* Suggest a whole round as pending trials, then complete them. */
static void run_round(hp_sampler_t *s, run_t *r, uint64_t first, uint64_t count, double sign)
{
    char err[256];
    for (uint64_t k = first; k < first + count; k++) {
        hp_history_t h = hist(r);
        int rc = hp_sampler_suggest(s, k, &h, r->xs[r->n], err, sizeof err);
        ck_assert_msg(rc == 0, "trial %llu: %s", (unsigned long long)k, err);
        ck_assert(hp_space_contains(&s->spec->space, r->xs[r->n]));
        r->obs[r->n] = (hp_obs_t){k, HP_OBS_PENDING, 0, r->xs[r->n], NULL, NULL, 0};
        r->n++;
    }
    for (size_t i = 0; i < r->n; i++)
        if (r->obs[i].state == HP_OBS_PENDING) {
            r->obs[i].state = HP_OBS_COMPLETED;
            r->obs[i].value = sign * objective(r->xs[i]);
        }
}

START_TEST(test_c2f_barrier_between_rounds)
{
    hp_spec_t spec;
    make_spec(&spec, 1, "minimize", "");
    ck_assert_int_eq(spec.search.trials_per_round, 16);
    hp_sampler_t *s;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&s, &spec, err, sizeof err), 0);
    run_t r = {0};
    for (uint64_t k = 0; k < 16; k++) {
        hp_history_t h = hist(&r);
        ck_assert_int_eq(hp_sampler_suggest(s, k, &h, r.xs[k], err, sizeof err), 0);
        r.obs[k] = (hp_obs_t){k, HP_OBS_PENDING, 0, r.xs[k], NULL, NULL, 0};
        r.n++;
    }
    /* round 1 waits while any round-0 trial runs */
    for (uint64_t k = 0; k < 16; k++) {
        hp_history_t h = hist(&r);
        double x[4];
        ck_assert_int_eq(hp_sampler_suggest(s, 16, &h, x, err, sizeof err), HP_EBUSY);
        ck_assert_ptr_nonnull(strstr(err, "round"));
        hp_buf_t b = {0};
        ck_assert_int_eq(hp_c2f_round_ranges_json(s, 1, &h, &b), HP_EBUSY);
        ck_assert_ptr_null(b.data);
        r.obs[k].state = k % 5 == 0 ? HP_OBS_FAILED : HP_OBS_COMPLETED;
        r.obs[k].value = objective(r.xs[k]);
    }
    hp_history_t h = hist(&r);
    double x[4];
    ck_assert_int_eq(hp_sampler_suggest(s, 16, &h, x, err, sizeof err), 0);
    ck_assert_uint_eq(hp_c2f_round_first(s, 1), 16);
    ck_assert_uint_eq(hp_c2f_round_of(s, 15), 0);
    ck_assert_uint_eq(hp_c2f_round_of(s, 16), 1);
    ck_assert_uint_eq(hp_c2f_round_of(s, 63), 3);
    ck_assert_uint_eq(hp_c2f_rounds(s), 4);
    hp_buf_t b = {0};
    ck_assert_int_eq(hp_c2f_round_ranges_json(s, 4, &h, &b), HP_ERANGE);
    hp_buf_fini(&b);
    hp_sampler_free(s);
    hp_spec_fini(&spec);
}
END_TEST

static int cmp_d(const void *a, const void *b)
{
    double p = *(const double *)a, q = *(const double *)b;
    return p < q ? -1 : p > q;
}

static void check_shrinks(const char *goal, double sign)
{
    hp_spec_t spec;
    make_spec(&spec, 3, goal, ", top_k: 5, shrink: 0.4");
    hp_sampler_t *s;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&s, &spec, err, sizeof err), 0);
    run_t r = {0};
    const hp_space_t *sp = &spec.space;
    for (unsigned round = 0; round < 4; round++) {
        hp_history_t h = hist(&r);
        double lo[4], hi[4];
        unsigned char a3[4], *allowed[4] = {NULL, NULL, a3, NULL};
        ck_assert_int_eq(hp_c2f_round_box(s, round, &h, lo, hi, allowed), 0);
        double width = pow(0.4, round);
        /* the top 5 so far, by value in the goal's direction */
        size_t order[256];
        for (size_t i = 0; i < r.n; i++)
            order[i] = i;
        for (size_t i = 0; i < r.n; i++)
            for (size_t j = i + 1; j < r.n; j++)
                if (sign * r.obs[order[j]].value < sign * r.obs[order[i]].value) {
                    size_t t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                }
        for (size_t p = 0; p < 4; p++) {
            if (p == 2) {
                for (int c = 0; c < 4; c++) {
                    int among = round == 0;
                    for (size_t j = 0; j < 5 && round; j++)
                        among |= r.xs[order[j]][2] == c;
                    ck_assert_int_eq(a3[c], among);
                }
                continue;
            }
            ck_assert(fabs((hi[p] - lo[p]) - width) < 1e-12);
            ck_assert(lo[p] >= 0 && hi[p] <= 1);
            if (round) {
                /* median of the top 5 within half a width of the best */
                double u[4], cs[5], c0;
                size_t nn = 0;
                hp_space_to_unit(sp, r.xs[order[0]], u);
                c0 = u[p];
                for (size_t j = 0; j < 5; j++) {
                    hp_space_to_unit(sp, r.xs[order[j]], u);
                    if (fabs(u[p] - c0) <= width / 2)
                        cs[nn++] = u[p];
                }
                qsort(cs, nn, sizeof *cs, cmp_d);
                double c = nn % 2 ? cs[nn / 2] : 0.5 * (cs[nn / 2 - 1] + cs[nn / 2]);
                ck_assert(lo[p] <= c0 && c0 <= hi[p]); /* the best stays inside */
                if (c - width / 2 >= 0 && c + width / 2 <= 1)
                    ck_assert(fabs(0.5 * (lo[p] + hi[p]) - c) < 1e-12);
                else /* shifted inside, still containing the median */
                    ck_assert(lo[p] <= c && c <= hi[p]);
            }
        }
        uint64_t first = r.n;
        run_round(s, &r, first, 16, sign);
        for (size_t i = first; i < r.n; i++) {
            double u[4];
            hp_space_to_unit(sp, r.xs[i], u);
            /* continuous floats exactly inside; the log float in log space */
            ck_assert(u[0] >= lo[0] - 1e-9 && u[0] <= hi[0] + 1e-9);
            ck_assert(u[3] >= lo[3] - 1e-9 && u[3] <= hi[3] + 1e-9);
            /* the int lands on the cell of a point inside: within half a cell */
            double cell = 1.0 / (1024 - 16 + 1);
            ck_assert(u[1] >= lo[1] - cell && u[1] <= hi[1] + cell);
            ck_assert(a3[(int)r.xs[i][2]]);
        }
    }
    /* the search narrowed onto the optimum */
    double best = INFINITY;
    for (size_t i = 0; i < r.n; i++)
        best = fmin(best, sign * r.obs[i].value);
    ck_assert_double_lt(best, 0.2);
    /* the ranges as JSON: the log parameter's box is geometric */
    hp_history_t h = hist(&r);
    hp_buf_t b = {0};
    ck_assert_int_eq(hp_c2f_round_ranges_json(s, 2, &h, &b), 0);
    ck_assert_ptr_nonnull(strstr(b.data, "{\"round\":2,\"first_trial\":32,\"last_trial\":47"));
    ck_assert_ptr_nonnull(strstr(b.data, "\"act\":{\"values\":["));
    const char *lr = strstr(b.data, "\"lr\":{\"low\":");
    ck_assert_ptr_nonnull(lr);
    double low = strtod(lr + strlen("\"lr\":{\"low\":"), NULL);
    double high = strtod(strstr(lr, "\"high\":") + 7, NULL);
    ck_assert(fabs(log(high / low) - 0.16 * log(1e4)) < 1e-9);
    hp_buf_reset(&b);
    ck_assert_int_eq(hp_c2f_round_ranges_json(s, 0, &h, &b), 0);
    ck_assert_ptr_nonnull(strstr(b.data, "\"best\":[]"));
    ck_assert_ptr_nonnull(strstr(b.data, "\"hidden\":{\"low\":16,\"high\":1024,\"unit\":[0,1]}"));
    hp_buf_fini(&b);
    hp_sampler_free(s);
    hp_spec_fini(&spec);
}

START_TEST(test_c2f_ranges_shrink_minimize) { check_shrinks("minimize", 1); }
END_TEST

START_TEST(test_c2f_ranges_shrink_maximize) { check_shrinks("maximize", -1); }
END_TEST

START_TEST(test_c2f_deterministic_whatever_the_order)
{
    hp_spec_t a, c;
    make_spec(&a, 5, "minimize", ", top_fraction: 0.3");
    make_spec(&c, 6, "minimize", ", top_fraction: 0.3");
    hp_sampler_t *sa, *sc;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&sa, &a, err, sizeof err), 0);
    ck_assert_int_eq(hp_sampler_new(&sc, &c, err, sizeof err), 0);
    run_t ra = {0}, rc = {0};
    for (int round = 0; round < 4; round++) {
        run_round(sa, &ra, (uint64_t)round * 16, 16, 1);
        run_round(sc, &rc, (uint64_t)round * 16, 16, 1);
    }
    ck_assert(memcmp(ra.xs, rc.xs, sizeof ra.xs) != 0); /* seeds matter */
    /* a fresh sampler given the same history reversed (as a restarted
     * daemon might load it) suggests the same points for every round */
    hp_sampler_t *sb;
    ck_assert_int_eq(hp_sampler_new(&sb, &a, err, sizeof err), 0);
    hp_obs_t rev[64];
    for (size_t i = 0; i < 64; i++)
        rev[i] = ra.obs[63 - i];
    hp_history_t h = {rev, 64};
    for (uint64_t k = 0; k < 64; k++) {
        double x[4];
        /* trials of later rounds are in the history but must not matter */
        ck_assert_int_eq(hp_sampler_suggest(sb, k, &h, x, err, sizeof err), 0);
        ck_assert_mem_eq(x, ra.xs[k], sizeof x);
    }
    hp_sampler_free(sa);
    hp_sampler_free(sb);
    hp_sampler_free(sc);
    hp_spec_fini(&a);
    hp_spec_fini(&c);
}
END_TEST

START_TEST(test_c2f_all_failed_keeps_whole_space)
{
    hp_spec_t spec;
    make_spec(&spec, 2, "minimize", "");
    hp_sampler_t *s;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&s, &spec, err, sizeof err), 0);
    run_t r = {0};
    run_round(s, &r, 0, 16, 1);
    for (size_t i = 0; i < r.n; i++) {
        r.obs[i].state = i % 2 ? HP_OBS_FAILED : HP_OBS_COMPLETED;
        r.obs[i].value = i % 2 ? 0 : NAN; /* NaN "completed" counts as failed */
    }
    hp_history_t h = hist(&r);
    double lo[4], hi[4];
    unsigned char a3[4], *allowed[4] = {NULL, NULL, a3, NULL};
    ck_assert_int_eq(hp_c2f_round_box(s, 1, &h, lo, hi, allowed), 0);
    for (int p = 0; p < 4; p++)
        ck_assert(lo[p] == 0 && hi[p] == 1);
    for (int c = 0; c < 4; c++)
        ck_assert_int_eq(a3[c], 1);
    double x[4];
    ck_assert_int_eq(hp_sampler_suggest(s, 16, &h, x, err, sizeof err), 0);
    hp_sampler_free(s);
    hp_spec_fini(&spec);
}
END_TEST

START_TEST(test_c2f_beats_random_on_branin)
{
    /* quality, not timing: median best of 60 over 7 seeds */
    double best_c2f[7], best_rand[7];
    for (int seed = 0; seed < 7; seed++) {
        for (int algo = 0; algo < 2; algo++) {
            char yaml[1024];
            snprintf(yaml, sizeof yaml,
                     "name: b\nobjective: {metric: value}\n"
                     "search: {algorithm: %s, max_trials: 60, seed: %d}\n"
                     "space:\n  x1: {type: float, low: -5, high: 10}\n"
                     "  x2: {type: float, low: 0, high: 15}\n"
                     "trial: {function: branin}\n",
                     algo ? "random" : "coarse-to-fine", seed);
            hp_spec_t spec;
            parse(&spec, yaml);
            hp_sampler_t *s;
            char err[256];
            ck_assert_int_eq(hp_sampler_new(&s, &spec, err, sizeof err), 0);
            static hp_obs_t obs[60];
            static double xs[60][2];
            double best = INFINITY;
            for (uint64_t k = 0; k < 60; k++) {
                hp_history_t h = {obs, k};
                ck_assert_int_eq(hp_sampler_suggest(s, k, &h, xs[k], err, sizeof err), 0);
                double y;
                hp_testfn_eval(HP_FUNC_BRANIN, xs[k], 2, &y);
                obs[k] = (hp_obs_t){k, HP_OBS_COMPLETED, y, xs[k], NULL, NULL, 0};
                best = fmin(best, y);
            }
            (algo ? best_rand : best_c2f)[seed] = best - hp_testfn_minimum(HP_FUNC_BRANIN, 2);
            hp_sampler_free(s);
            hp_spec_fini(&spec);
        }
    }
    qsort(best_c2f, 7, sizeof(double), cmp_d);
    qsort(best_rand, 7, sizeof(double), cmp_d);
    ck_assert_msg(best_c2f[3] < 0.5 * best_rand[3], "c2f %g random %g", best_c2f[3],
                  best_rand[3]);
}
END_TEST

START_TEST(test_c2f_shrinks_around_feasible_trials)
{
    /* value = x (minimize), but only x >= 0.5 is feasible: round 1's range
     * (width 0.5) is around the best feasible trial of round 0, so every
     * point of it lies above 0.25, where the unconstrained best (x near 0)
     * would have put it below */
    const char *yaml = "name: c\nobjective: {metric: value}\n"
                       "search: {algorithm: coarse-to-fine, max_trials: 16, rounds: 2, top_k: 1, "
                       "seed: 1}\n"
                       "space:\n  x: {type: float, low: 0, high: 1}\n"
                       "trial: {command: [./t]}\n"
                       "constraints: [{metric: x, min: 0.5}]\n";
    hp_spec_t spec;
    parse(&spec, yaml);
    hp_sampler_t *s;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&s, &spec, err, sizeof err), 0);
    static hp_obs_t obs[16];
    static double xs[16][1], cv[16][1];
    double lowest = 1;
    for (uint64_t k = 0; k < 16; k++) {
        hp_history_t h = {obs, k};
        ck_assert_int_eq(hp_sampler_suggest(s, k, &h, xs[k], err, sizeof err), 0);
        if (k < 8)
            lowest = fmin(lowest, xs[k][0]);
        else
            ck_assert_msg(xs[k][0] > 0.25, "round 1 trial %llu at x = %g",
                          (unsigned long long)k, xs[k][0]);
        cv[k][0] = xs[k][0];
        obs[k] = (hp_obs_t){k, HP_OBS_COMPLETED, xs[k][0], xs[k], cv[k], NULL, 0};
    }
    ck_assert_msg(lowest < 0.25, "round 0's lowest x %g (the test needs one below 0.25)", lowest);
    hp_sampler_free(s);
    hp_spec_fini(&spec);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("coordinator_c2f");
    TCase *tc = tcase_create("c2f");
    tcase_add_test(tc, test_c2f_barrier_between_rounds);
    tcase_add_test(tc, test_c2f_shrinks_around_feasible_trials);
    tcase_add_test(tc, test_c2f_ranges_shrink_minimize);
    tcase_add_test(tc, test_c2f_ranges_shrink_maximize);
    tcase_add_test(tc, test_c2f_deterministic_whatever_the_order);
    tcase_add_test(tc, test_c2f_all_failed_keeps_whole_space);
    tcase_add_test(tc, test_c2f_beats_random_on_branin);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
