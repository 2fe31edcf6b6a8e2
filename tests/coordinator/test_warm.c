/* Warm start (coordinator/search/warm.c and the samplers' prior
 * observations): which earlier trials are compatible and why the others
 * are skipped, the note that says so, and what bayes and coarse-to-fine
 * do with the observations they are given. */
#include "buf.h"
#include "c2f.h"
#include "err.h"
#include "sampler.h"
#include "spec.h"
#include "testfn.h"
#include "warm.h"

#include "hp_check.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static void parse(hp_spec_t *spec, const char *yaml)
{
    hp_diag_t d = {0};
    int rc = hp_spec_parse(spec, yaml, strlen(yaml), "t.yaml", &d);
    for (size_t i = 0; rc < 0 && i < d.n; i++)
        fprintf(stderr, "%s\n", d.items[i].text);
    ck_assert_int_eq(rc, 0);
    hp_diag_fini(&d);
}

/* a program's space: lr (log), layers (int, step 2), act, x (float) */
static const char program_spec[] =
    "name: new\n"
    "objective: {metric: loss}\n"
    "search: {algorithm: bayes, max_trials: 20, warm_start: [old]}\n"
    "space:\n"
    "  lr: {type: float, low: 1.0e-4, high: 1.0e-1, log: true}\n"
    "  layers: {type: int, low: 2, high: 8, step: 2}\n"
    "  act: {type: categorical, values: [relu, tanh]}\n"
    "trial:\n"
    "  command: [./train]\n"
    "  fixed: {epochs: 20, opt: adam, bn: true, hidden: [64, 32]}\n";

START_TEST(test_warm_study_compatibility)
{
    hp_spec_t spec;
    parse(&spec, program_spec);
    char why[256];
    ck_assert_int_eq(hp_warm_study_check(&spec, "old", "loss", HP_GOAL_MINIMIZE, why, sizeof why),
                     0);
    ck_assert_int_eq(
        hp_warm_study_check(&spec, "old", "val_error", HP_GOAL_MINIMIZE, why, sizeof why),
        HP_EINVAL);
    ck_assert_str_eq(why, "'old' skipped: it optimises val_error (minimize), this study loss "
                          "(minimize)");
    ck_assert_int_eq(hp_warm_study_check(&spec, "old", "loss", HP_GOAL_MAXIMIZE, why, sizeof why),
                     HP_EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "it optimises loss (maximize), this study loss (minimize)"));
    hp_spec_fini(&spec);
}
END_TEST

typedef struct trial_case {
    const char *params;
    int taken;
    const char *why; /* the reason recorded for a first skip */
} trial_case_t;

static const trial_case_t trial_cases[] = {
    /* a point of the space; keys it does not know (fixed ones too) are fine */
    {"{\"lr\":0.01,\"layers\":4,\"act\":\"tanh\",\"momentum\":0.9,\"epochs\":20}", 1, NULL},
    /* the fixed settings as this study holds them, list values not compared */
    {"{\"lr\":0.01,\"layers\":4,\"act\":\"relu\",\"opt\":\"adam\",\"bn\":true,"
     "\"hidden\":[128]}",
     1, NULL},
    {"{\"lr\":0.5,\"layers\":4,\"act\":\"tanh\"}", 0, "trial 7: lr = 0.5 is outside [0.0001, 0.1]"},
    {"{\"lr\":0.01,\"layers\":3,\"act\":\"tanh\"}", 0,
     "trial 7: layers = 3 is not on this space's integer steps"},
    {"{\"lr\":0.01,\"layers\":4,\"act\":\"gelu\"}", 0,
     "trial 7: its act is none of this space's values"},
    {"{\"lr\":0.01,\"act\":\"tanh\"}", 0, "trial 7: it has no layers"},
    {"{\"lr\":\"fast\",\"layers\":4,\"act\":\"tanh\"}", 0, "trial 7: its lr is not a number"},
    {"[1,2]", 0, "trial 7: its params are not a JSON object"},
    /* ran with other fixed settings: another objective */
    {"{\"lr\":0.01,\"layers\":4,\"act\":\"tanh\",\"epochs\":5}", 0,
     "trial 7: it ran with another epochs (this study holds epochs = 20)"},
    {"{\"lr\":0.01,\"layers\":4,\"act\":\"tanh\",\"opt\":\"sgd\"}", 0,
     "trial 7: it ran with another opt (this study holds opt = adam)"},
    {"{\"lr\":0.01,\"layers\":4,\"act\":\"tanh\",\"bn\":false}", 0,
     "trial 7: it ran with another bn (this study holds bn = true)"},
};

START_TEST(test_warm_trial_filter)
{
    const trial_case_t *tc = &trial_cases[_i];
    hp_spec_t spec;
    parse(&spec, program_spec);
    hp_warm_tally_t t = {0};
    double x[HP_SPACE_MAX_PARAMS];
    int got = hp_warm_trial(&spec, 7, tc->params, x, &t);
    ck_assert_msg(got == tc->taken, "%s: got %d", tc->params, got);
    if (tc->taken) {
        ck_assert_uint_eq(t.taken, 1);
        ck_assert(hp_space_contains(&spec.space, x));
        ck_assert_double_eq_tol(x[0], 0.01, 1e-15);
        ck_assert_double_eq(x[1], 4);
    } else {
        ck_assert_uint_eq(t.taken, 0);
        const char *why = t.outside ? t.first_outside : t.first_fixed;
        ck_assert_uint_eq(t.outside + t.fixed_differs, 1);
        ck_assert_str_eq(why, tc->why);
    }
    hp_spec_fini(&spec);
}
END_TEST

START_TEST(test_warm_note)
{
    hp_spec_t spec;
    parse(&spec, program_spec);
    hp_warm_tally_t t = {0};
    double x[HP_SPACE_MAX_PARAMS];
    hp_buf_t b = {0};
    hp_warm_note(&b, "old", &t);
    ck_assert_str_eq(b.data, "warm start: 'old' has no completed trials");
    hp_buf_reset(&b);
    for (int i = 0; i < 18; i++)
        ck_assert_int_eq(hp_warm_trial(&spec, (uint64_t)i,
                                       "{\"lr\":0.01,\"layers\":4,\"act\":\"tanh\"}", x, &t),
                         1);
    hp_warm_note(&b, "old", &t);
    ck_assert_str_eq(b.data, "warm start: 18 trials from 'old'");
    hp_buf_reset(&b);
    /* the first of three outside the space is the example */
    for (int i = 18; i < 21; i++)
        ck_assert_int_eq(
            hp_warm_trial(&spec, (uint64_t)i, i == 18 ? "{\"lr\":0.01,\"layers\":4}"
                                                      : "{\"lr\":9,\"layers\":4,\"act\":\"tanh\"}",
                          x, &t),
            0);
    hp_warm_note(&b, "old", &t);
    ck_assert_str_eq(b.data, "warm start: 18 trials from 'old' (3 skipped: outside the space, "
                             "first trial 18: it has no act)");
    hp_buf_reset(&b);
    ck_assert_int_eq(hp_warm_trial(&spec, 30,
                                   "{\"lr\":0.01,\"layers\":4,\"act\":\"tanh\",\"epochs\":3}", x,
                                   &t),
                     0);
    hp_warm_note(&b, "old", &t);
    ck_assert_ptr_nonnull(strstr(b.data, "first trial 18: it has no act; 1 skipped: other fixed "
                                         "settings, first trial 30: it ran with another epochs"));
    hp_buf_reset(&b);
    hp_warm_tally_t none = {.outside = 2};
    snprintf(none.first_outside, sizeof none.first_outside, "trial 0: it has no x");
    hp_warm_note(&b, "old", &none);
    ck_assert_str_eq(b.data, "warm start: no trials from 'old' (2 skipped: outside the space, "
                             "first trial 0: it has no x)");
    hp_buf_fini(&b);
    hp_spec_fini(&spec);
}
END_TEST

/* ---- what the samplers do with prior observations ----------------------- */

static void branin_spec(hp_spec_t *spec, const char *algo, const char *extra)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "name: b\nobjective: {metric: value}\n"
             "search: {algorithm: %s, max_trials: 40, seed: 5%s}\n"
             "space: {x1: {type: float, low: -5, high: 10}, x2: {type: float, low: 0, high: 15}}\n"
             "trial: {function: branin}\n",
             algo, extra);
    parse(spec, yaml);
}

static double branin(const double *x)
{
    double y;
    ck_assert_int_eq(hp_testfn_eval(HP_FUNC_BRANIN, x, 2, &y), 0);
    return y;
}

/* n prior observations: a 5 x 5 grid over the domain and, last, points
 * close to the minimum at (pi, 2.275) */
static void add_priors(hp_sampler_t *s, size_t n_near)
{
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) {
            double x[2] = {-5 + 15.0 * i / 4, 15.0 * j / 4};
            hp_sampler_add_prior(s, "grid", (uint64_t)(i * 5 + j), branin(x), x, NULL);
        }
    for (size_t k = 0; k < n_near; k++) {
        double x[2] = {M_PI + 0.3 * cos((double)k), 2.275 + 0.3 * sin((double)k)};
        hp_sampler_add_prior(s, "near", k, branin(x), x, NULL);
    }
}

START_TEST(test_warm_bayes_starts_from_priors)
{
    hp_spec_t spec;
    branin_spec(&spec, "bayes", ", n_initial: 10");
    hp_sampler_t *cold, *warm;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&cold, &spec, err, sizeof err), 0);
    ck_assert_int_eq(hp_sampler_new(&warm, &spec, err, sizeof err), 0);
    add_priors(warm, 4);
    ck_assert_uint_eq(warm->prior.n, 29);
    ck_assert_str_eq(hp_sampler_prior_study(warm, 0), "grid");
    ck_assert_str_eq(hp_sampler_prior_study(warm, 28), "near");
    ck_assert_uint_eq(warm->prior.n_study, 2);
    hp_history_t empty = {NULL, 0};
    double xc[2], xw[2];
    ck_assert_int_eq(hp_sampler_suggest(cold, 0, &empty, xc, err, sizeof err), 0);
    ck_assert_int_eq(hp_sampler_suggest(warm, 0, &empty, xw, err, sizeof err), 0);
    /* 29 observations >= n_initial: the model picks the very first trial,
     * next to the best of them (within 0.3 of the minimum, value < 0.6) */
    ck_assert(xw[0] != xc[0] || xw[1] != xc[1]);
    double best = INFINITY;
    for (size_t i = 0; i < warm->prior.n; i++)
        best = fmin(best, warm->prior.obs[i].value);
    ck_assert_double_lt(best, 0.6);
    ck_assert_msg(branin(xw) < 1.0, "first warm suggestion (%g, %g) = %g", xw[0], xw[1],
                  branin(xw));
    ck_assert_msg(hypot(xw[0] - M_PI, xw[1] - 2.275) < 1.5, "(%g, %g)", xw[0], xw[1]);
    /* it repeats no prior observation */
    for (size_t i = 0; i < warm->prior.n; i++)
        ck_assert(xw[0] != warm->prior.obs[i].x[0] || xw[1] != warm->prior.obs[i].x[1]);
    /* the same priors in the same order: the same suggestion */
    hp_sampler_t *again;
    ck_assert_int_eq(hp_sampler_new(&again, &spec, err, sizeof err), 0);
    add_priors(again, 4);
    double xa[2];
    ck_assert_int_eq(hp_sampler_suggest(again, 0, &empty, xa, err, sizeof err), 0);
    ck_assert_double_eq(xa[0], xw[0]);
    ck_assert_double_eq(xa[1], xw[1]);
    /* a respecified study's new sampler takes them over (a grown study) */
    hp_spec_t grown;
    branin_spec(&grown, "bayes", ", n_initial: 10");
    grown.search.max_trials = 80;
    hp_sampler_t *moved;
    ck_assert_int_eq(hp_sampler_new(&moved, &grown, err, sizeof err), 0);
    hp_sampler_move_prior(moved, again);
    ck_assert_uint_eq(again->prior.n, 0);
    ck_assert_uint_eq(moved->prior.n, 29);
    ck_assert_str_eq(hp_sampler_prior_study(moved, 28), "near");
    ck_assert_int_eq(hp_sampler_suggest(moved, 0, &empty, xa, err, sizeof err), 0);
    ck_assert_double_eq(xa[0], xw[0]);
    ck_assert_double_eq(xa[1], xw[1]);
    hp_sampler_free(moved);
    hp_spec_fini(&grown);
    hp_sampler_free(again);
    hp_sampler_free(cold);
    hp_sampler_free(warm);
    hp_spec_fini(&spec);
}
END_TEST

START_TEST(test_warm_bayes_few_priors_shorten_the_design)
{
    hp_spec_t spec;
    branin_spec(&spec, "bayes", ", n_initial: 10");
    hp_sampler_t *cold, *warm;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&cold, &spec, err, sizeof err), 0);
    ck_assert_int_eq(hp_sampler_new(&warm, &spec, err, sizeof err), 0);
    double p[2] = {1, 1};
    for (uint64_t k = 0; k < 6; k++) {
        p[0] = -4 + (double)k * 2;
        hp_sampler_add_prior(warm, "few", k, branin(p), p, NULL);
    }
    hp_history_t empty = {NULL, 0};
    double xc[2], xw[2];
    /* 6 of 10: trials 0..3 are the Sobol design, as without them */
    for (uint64_t n = 0; n < 4; n++) {
        ck_assert_int_eq(hp_sampler_suggest(cold, n, &empty, xc, err, sizeof err), 0);
        ck_assert_int_eq(hp_sampler_suggest(warm, n, &empty, xw, err, sizeof err), 0);
        ck_assert_double_eq(xc[0], xw[0]);
        ck_assert_double_eq(xc[1], xw[1]);
    }
    /* trial 4: the model (a cold start still draws Sobol point 4) */
    ck_assert_int_eq(hp_sampler_suggest(cold, 4, &empty, xc, err, sizeof err), 0);
    ck_assert_int_eq(hp_sampler_suggest(warm, 4, &empty, xw, err, sizeof err), 0);
    ck_assert(xc[0] != xw[0] || xc[1] != xw[1]);
    hp_sampler_free(cold);
    hp_sampler_free(warm);
    hp_spec_fini(&spec);
}
END_TEST

START_TEST(test_warm_c2f_round0_narrows)
{
    hp_spec_t spec;
    branin_spec(&spec, "coarse-to-fine", ", rounds: 2, top_k: 3, shrink: 0.5");
    hp_sampler_t *s;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&s, &spec, err, sizeof err), 0);
    hp_history_t empty = {NULL, 0};
    double lo[2], hi[2];
    /* cold: round 0 is the whole space */
    ck_assert_int_eq(hp_c2f_round_box(s, 0, &empty, lo, hi, NULL), 0);
    ck_assert_double_eq(lo[0], 0);
    ck_assert_double_eq(hi[0], 1);
    add_priors(s, 3);
    /* warm: round 0 has round 1's width (0.5) around the best priors,
     * round 1 a quarter */
    ck_assert_int_eq(hp_c2f_round_box(s, 0, &empty, lo, hi, NULL), 0);
    double u_pi = (M_PI + 5) / 15, u_x2 = 2.275 / 15;
    for (int i = 0; i < 2; i++)
        ck_assert_double_eq_tol(hi[i] - lo[i], 0.5, 1e-12);
    ck_assert(lo[0] < u_pi && u_pi < hi[0]);
    ck_assert(lo[1] <= u_x2 && u_x2 < hi[1]);
    for (uint64_t k = 0; k < 20; k++) {
        double x[2];
        ck_assert_int_eq(hp_sampler_suggest(s, k, &empty, x, err, sizeof err), 0);
        double u0 = (x[0] + 5) / 15;
        ck_assert(u0 >= lo[0] - 1e-12 && u0 <= hi[0] + 1e-12);
    }
    /* the round's ranges name the prior observations among the best */
    hp_buf_t b = {0};
    ck_assert_int_eq(hp_c2f_round_ranges_json(s, 0, &empty, &b), 0);
    ck_assert_ptr_nonnull(strstr(b.data, "\"best\":[],\"warm_best\":[\"near#"));
    hp_buf_fini(&b);
    hp_sampler_free(s);
    hp_spec_fini(&spec);
}
END_TEST

START_TEST(test_warm_priors_keep_their_constraint_values)
{
    /* 200 priors (the store grows three times): each keeps its own
     * constraint values, NaN (never reported) is infeasible, NULL (not
     * known) feasible, and a moved prior keeps them */
    hp_spec_t spec;
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "name: b\nobjective: {metric: value}\n"
             "search: {algorithm: bayes, max_trials: 40, seed: 5}\n"
             "space: {x1: {type: float, low: -5, high: 10}, x2: {type: float, low: 0, high: 15}}\n"
             "trial: {command: [sh, train.sh]}\n"
             "constraints: [{metric: mem, max: 10}, {metric: lat, min: 1}]\n");
    parse(&spec, yaml);
    hp_sampler_t *s, *t;
    char err[256];
    ck_assert_int_eq(hp_sampler_new(&s, &spec, err, sizeof err), 0);
    ck_assert_int_eq(hp_sampler_new(&t, &spec, err, sizeof err), 0);
    for (uint64_t k = 0; k < 200; k++) {
        double x[2] = {(double)(k % 15) - 5, (double)(k % 7)};
        double cv[2] = {(double)(k % 20), k % 5 == 4 ? NAN : 2.0};
        hp_sampler_add_prior(s, "old", k, branin(x), x, k % 9 == 8 ? NULL : cv);
    }
    hp_sampler_move_prior(t, s);
    ck_assert_uint_eq(s->prior.n, 0);
    ck_assert_uint_eq(t->prior.n, 200);
    for (uint64_t k = 0; k < 200; k++) {
        const hp_obs_t *o = &t->prior.obs[k];
        ck_assert_uint_eq(o->number, k);
        ck_assert_double_eq(o->x[0], (double)(k % 15) - 5);
        if (k % 9 == 8) {
            ck_assert_ptr_null(o->cv);
            ck_assert_int_eq(hp_sampler_obs_feasible(&spec, o), 1);
            continue;
        }
        ck_assert_ptr_nonnull(o->cv);
        ck_assert_double_eq(o->cv[0], (double)(k % 20));
        int want = k % 20 <= 10 && k % 5 != 4;
        ck_assert_int_eq(hp_sampler_obs_feasible(&spec, o), want);
    }
    hp_sampler_free(s);
    hp_sampler_free(t);
    hp_spec_fini(&spec);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("coordinator_warm");
    TCase *tc = tcase_create("filter");
    tcase_add_test(tc, test_warm_study_compatibility);
    tcase_add_loop_test(tc, test_warm_trial_filter, 0,
                        (int)(sizeof trial_cases / sizeof trial_cases[0]));
    tcase_add_test(tc, test_warm_note);
    suite_add_tcase(s, tc);
    tc = tcase_create("samplers");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_warm_bayes_starts_from_priors);
    tcase_add_test(tc, test_warm_bayes_few_priors_shorten_the_design);
    tcase_add_test(tc, test_warm_c2f_round0_narrows);
    tcase_add_test(tc, test_warm_priors_keep_their_constraint_values);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
