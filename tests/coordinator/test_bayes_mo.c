/* bayes with several objectives (ParEGO, bayes_mo.c): parallel workers get
 * distinct points, suggestions are deterministic, a maximised objective is
 * the same search as its negation minimised, and (quality, not timing) the
 * front it finds on ZDT1 has a larger hypervolume than random search's. */
#include "err.h"
#include "pareto.h"
#include "sampler.h"
#include "spec.h"

#include "hp_check.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D 3
#define NMAX 64

static void mo_spec(hp_spec_t *spec, const char *algo, const char *goal2, int seed)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "name: mo\nobjective: [{metric: f1}, {metric: f2, goal: %s}]\n"
             "search: {algorithm: %s, max_trials: %d, seed: %d%s}\n"
             "space:\n  x1: {type: float, low: 0, high: 1}\n"
             "  x2: {type: float, low: 0, high: 1}\n  x3: {type: float, low: 0, high: 1}\n"
             "trial: {command: [prog]}\n",
             goal2, algo, NMAX, seed, strcmp(algo, "bayes") == 0 ? ", n_initial: 8" : "");
    hp_diag_t d = {0};
    int rc = hp_spec_parse(spec, yaml, strlen(yaml), "mo.yaml", &d);
    for (size_t i = 0; rc < 0 && i < d.n; i++)
        fprintf(stderr, "%s\n", d.items[i].text);
    ck_assert_int_eq(rc, 0);
    hp_diag_fini(&d);
}

static void zdt1(const double *x, double *f)
{
    double g = 1 + 9 * (x[1] + x[2]) / 2;
    f[0] = x[0];
    f[1] = g * (1 - sqrt(x[0] / g));
}

typedef struct run {
    hp_obs_t obs[NMAX];
    double xs[NMAX][D], ys[NMAX][2];
    size_t n;
} run_t;

/* n sequential trials; sign2 -1 reports f2 negated (for goal maximize) */
static void search(hp_sampler_t *s, run_t *r, size_t n, double sign2)
{
    char err[256];
    for (size_t k = r->n; k < n; k++) {
        hp_history_t h = {r->obs, k};
        ck_assert_int_eq(hp_sampler_suggest(s, k, &h, r->xs[k], err, sizeof err), 0);
        zdt1(r->xs[k], r->ys[k]);
        r->ys[k][1] *= sign2;
        r->obs[k] = (hp_obs_t){k, HP_OBS_COMPLETED, r->ys[k][0], r->xs[k], NULL, r->ys[k], 0};
        r->n = k + 1;
    }
}

START_TEST(test_mo_pending_distinct)
{
    hp_spec_t spec;
    mo_spec(&spec, "bayes", "minimize", 1);
    hp_sampler_t *s;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&s, &spec, err, sizeof err), 0);
    static run_t r;
    memset(&r, 0, sizeof r);
    search(s, &r, 14, 1);
    /* six idle workers, each asking while the earlier answers run */
    for (size_t k = 14; k < 20; k++) {
        hp_history_t h = {r.obs, k};
        ck_assert_int_eq(hp_sampler_suggest(s, k, &h, r.xs[k], err, sizeof err), 0);
        r.obs[k] = (hp_obs_t){k, HP_OBS_PENDING, 0, r.xs[k], NULL, NULL, 0};
    }
    for (size_t i = 14; i < 20; i++)
        for (size_t j = 0; j < i; j++) {
            double dist = 0;
            for (size_t q = 0; q < D; q++)
                dist += (r.xs[i][q] - r.xs[j][q]) * (r.xs[i][q] - r.xs[j][q]);
            ck_assert_msg(sqrt(dist) > 1e-6, "suggestion %zu repeats trial %zu", i, j);
        }
    hp_sampler_free(s);
    hp_spec_fini(&spec);
}
END_TEST

START_TEST(test_mo_deterministic_and_goal_symmetric)
{
    static run_t a, b, c;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    hp_spec_t sa, sb, sc;
    mo_spec(&sa, "bayes", "minimize", 4);
    mo_spec(&sb, "bayes", "minimize", 4);
    mo_spec(&sc, "bayes", "maximize", 4);
    hp_sampler_t *pa, *pb, *pc;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&pa, &sa, err, sizeof err), 0);
    ck_assert_int_eq(hp_sampler_new(&pb, &sb, err, sizeof err), 0);
    ck_assert_int_eq(hp_sampler_new(&pc, &sc, err, sizeof err), 0);
    search(pa, &a, 16, 1);
    search(pb, &b, 16, 1);
    search(pc, &c, 16, -1); /* -f2 maximised: the same oriented values */
    ck_assert_mem_eq(a.xs, b.xs, sizeof(double) * 16 * D);
    for (size_t k = 0; k < 16; k++)
        for (size_t q = 0; q < D; q++)
            ck_assert_msg(fabs(a.xs[k][q] - c.xs[k][q]) < 1e-9, "trial %zu differs", k);
    hp_sampler_free(pa);
    hp_sampler_free(pb);
    hp_sampler_free(pc);
    hp_spec_fini(&sa);
    hp_spec_fini(&sb);
    hp_spec_fini(&sc);
}
END_TEST

static double hv(const run_t *r)
{
    double ref[2] = {11, 11}, v = 0;
    ck_assert_int_eq(hp_hypervolume(&r->ys[0][0], r->n, 2, ref, &v), 0);
    return v;
}

START_TEST(test_mo_front_beats_random)
{
    int wins = 0;
    for (int seed = 0; seed < 3; seed++) {
        double h[2];
        const char *algo[2] = {"bayes", "random"};
        for (int a = 0; a < 2; a++) {
            static run_t r;
            memset(&r, 0, sizeof r);
            hp_spec_t spec;
            mo_spec(&spec, algo[a], "minimize", seed);
            hp_sampler_t *s;
            char err[256];
            ck_assert_int_eq(hp_sampler_new(&s, &spec, err, sizeof err), 0);
            search(s, &r, 32, 1);
            h[a] = hv(&r);
            hp_sampler_free(s);
            hp_spec_fini(&spec);
        }
        fprintf(stderr, "seed %d: hypervolume bayes %.4f, random %.4f (max 120.667)\n", seed,
                h[0], h[1]);
        wins += h[0] > h[1];
    }
    ck_assert_int_eq(wins, 3);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("bayes_mo");
    TCase *tc = tcase_create("bayes_mo");
    tcase_set_timeout(tc, 0);
    tcase_add_test(tc, test_mo_pending_distinct);
    tcase_add_test(tc, test_mo_deterministic_and_goal_symmetric);
    tcase_add_test(tc, test_mo_front_beats_random);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_check_run(suite());
}
