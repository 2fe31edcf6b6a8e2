/*
 * hpsearch report: the bias-variance arithmetic (report_calc.h) against
 * hand-computed values, then the real binary ($HP_BIN_DIR/hpsearch) on a
 * database built with the store library, in text and JSON.
 */
#include "report_calc.h"

#include "err.h"
#include "store.h"

#include "hp_check.h"
#include "hp_spawn.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOL 1e-12
#define GUARD_SECONDS 60

/* ---- arithmetic ------------------------------------------------------ */

static hp_report_t calc(double human, double train, double val, double shift, double test)
{
    hp_report_errors_t e;
    hp_report_errors_init(&e);
    e.human = human;
    e.err[HP_RE_TRAIN] = train;
    e.err[HP_RE_VAL] = val;
    e.err[HP_RE_SHIFT_VAL] = shift;
    e.err[HP_RE_TEST] = test;
    hp_report_t r;
    hp_report_compute(&e, &r);
    return r;
}

#define ck_term(r, id, v) ck_assert_double_eq_tol((r).term[id].value, (v), TOL)

static void ck_advice(const hp_report_t *r, size_t n, const hp_report_term_id_t *want)
{
    ck_assert_uint_eq(r->n_advice, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(r->advice[i], want[i]);
}

/* the terms add up to the test error whenever they are all known */
static void ck_sum(const hp_report_t *r, double test)
{
    double s = 0;
    for (int i = 0; i < HP_RT_COUNT; i++)
        s += r->term[i].value;
    ck_assert_double_eq_tol(s, test, TOL);
}

START_TEST(test_calc_underfit)
{
    /* human 1%, train 20%, val 20.3%, test 20.5%, no shift set */
    hp_report_t r = calc(0.01, 0.20, 0.203, NAN, 0.205);
    ck_term(r, HP_RT_IRREDUCIBLE, 0.01);
    ck_term(r, HP_RT_BIAS, 0.19);
    ck_term(r, HP_RT_VARIANCE, 0.003);
    ck_assert(isnan(r.term[HP_RT_SHIFT].value));
    ck_assert_ptr_nonnull(strstr(r.term[HP_RT_SHIFT].why, "no shift_val_error"));
    ck_term(r, HP_RT_VAL_OVERFIT, 0.002); /* test - val without a shift set */
    ck_assert_str_eq(r.term[HP_RT_VAL_OVERFIT].why, "test_error - val_error");
    ck_assert_double_eq_tol(r.threshold, 0.01, TOL); /* min(1 point, 10% of 20.5%) */
    ck_assert(r.term[HP_RT_BIAS].material);
    ck_assert(!r.term[HP_RT_VARIANCE].material && !r.term[HP_RT_VAL_OVERFIT].material);
    ck_assert(!r.term[HP_RT_IRREDUCIBLE].material);
    ck_assert_int_eq(r.fit, HP_FIT_UNDER);
    ck_advice(&r, 1, (hp_report_term_id_t[]){HP_RT_BIAS});
    ck_assert_str_eq(hp_report_fit_name(r.fit), "under_fit");
}
END_TEST

START_TEST(test_calc_overfit)
{
    hp_report_t r = calc(0.02, 0.021, 0.10, NAN, 0.102);
    ck_term(r, HP_RT_BIAS, 0.001);
    ck_term(r, HP_RT_VARIANCE, 0.079);
    ck_term(r, HP_RT_VAL_OVERFIT, 0.002);
    ck_assert_double_eq_tol(r.threshold, 0.01, TOL);
    ck_assert_int_eq(r.fit, HP_FIT_OVER);
    ck_advice(&r, 1, (hp_report_term_id_t[]){HP_RT_VARIANCE});
}
END_TEST

START_TEST(test_calc_shift)
{
    /* every term known: they add up to the test error */
    hp_report_t r = calc(0.01, 0.03, 0.035, 0.15, 0.16);
    ck_term(r, HP_RT_BIAS, 0.02);
    ck_term(r, HP_RT_VARIANCE, 0.005);
    ck_term(r, HP_RT_SHIFT, 0.115);
    ck_term(r, HP_RT_VAL_OVERFIT, 0.01); /* test - shift_val, not test - val */
    ck_assert_str_eq(r.term[HP_RT_VAL_OVERFIT].why, "test_error - shift_val_error");
    ck_assert_str_eq(r.term[HP_RT_SHIFT].why, "shift_val_error - val_error");
    ck_sum(&r, 0.16);
    ck_assert_int_eq(r.fit, HP_FIT_SHIFT);
    /* the seed's priority order, not the order of size */
    ck_advice(&r, 3, (hp_report_term_id_t[]){HP_RT_BIAS, HP_RT_SHIFT, HP_RT_VAL_OVERFIT});
}
END_TEST

/* why the order puts another remedy before the largest term's; nothing to
 * explain when the largest term's remedy comes first */
START_TEST(test_calc_order_reason)
{
    hp_report_t r = calc(0.01, 0.03, 0.08, NAN, 0.085); /* bias 0.02 < variance 0.05 */
    ck_assert_int_eq(r.fit, HP_FIT_OVER);
    ck_assert_int_eq(r.advice[0], HP_RT_BIAS);
    const char *why = hp_report_order_reason(&r);
    ck_assert_ptr_nonnull(why);
    ck_assert_ptr_nonnull(strstr(why, "under-fitting first although variance is larger"));
    r = calc(0.02, 0.021, 0.10, NAN, 0.102); /* over-fit, bias not material */
    ck_assert_ptr_null(hp_report_order_reason(&r));
    r = calc(0.01, 0.20, 0.203, NAN, 0.205); /* under-fit: its remedy is first */
    ck_assert_ptr_null(hp_report_order_reason(&r));
    r = calc(0.01, 0.03, 0.035, 0.15, 0.16); /* shift largest, bias first */
    why = hp_report_order_reason(&r);
    ck_assert_ptr_nonnull(why);
    ck_assert_ptr_nonnull(strstr(why, "measured from the validation error"));
}
END_TEST

START_TEST(test_calc_unknown_human)
{
    hp_report_t r = calc(NAN, 0.05, 0.09, NAN, 0.095);
    ck_assert(isnan(r.term[HP_RT_IRREDUCIBLE].value));
    ck_assert(isnan(r.term[HP_RT_BIAS].value));
    ck_assert(!r.term[HP_RT_BIAS].material);
    ck_assert_ptr_nonnull(strstr(r.term[HP_RT_BIAS].why, "objective.human_error"));
    ck_term(r, HP_RT_VARIANCE, 0.04);
    ck_assert_double_eq_tol(r.threshold, 0.0095, TOL); /* 10% of 9.5% < 1 point */
    ck_assert_int_eq(r.fit, HP_FIT_UNKNOWN); /* bias unknown: no under/over verdict */
    ck_advice(&r, 1, (hp_report_term_id_t[]){HP_RT_VARIANCE});
}
END_TEST

START_TEST(test_calc_missing_metrics)
{
    /* an external program that reports only val_error */
    hp_report_t r = calc(0.01, NAN, 0.3, NAN, NAN);
    ck_term(r, HP_RT_IRREDUCIBLE, 0.01);
    ck_assert(isnan(r.term[HP_RT_BIAS].value));
    ck_assert_str_eq(r.term[HP_RT_BIAS].why, "the trial reported no train_error");
    ck_assert(isnan(r.term[HP_RT_VARIANCE].value));
    ck_assert_str_eq(r.term[HP_RT_VARIANCE].why, "the trial reported no train_error");
    ck_assert(isnan(r.term[HP_RT_VAL_OVERFIT].value));
    ck_assert_str_eq(r.term[HP_RT_VAL_OVERFIT].why, "the trial reported no test_error");
    ck_assert_double_eq_tol(r.threshold, 0.01, TOL); /* falls back to val: min(0.01, 0.03) */
    ck_assert_int_eq(r.fit, HP_FIT_UNKNOWN);
    ck_assert_uint_eq(r.n_advice, 0);

    /* nothing at all */
    r = calc(NAN, NAN, NAN, NAN, NAN);
    ck_assert_double_eq_tol(r.threshold, HP_REPORT_ABS_THRESHOLD, TOL);
    for (int i = 0; i < HP_RT_COUNT; i++)
        ck_assert(isnan(r.term[i].value) && !r.term[i].material && r.term[i].why[0]);

    /* a NaN report is named as such, not as missing */
    hp_report_errors_t e;
    hp_report_errors_init(&e);
    e.err[HP_RE_VAL] = 0.2;
    e.was_nan[HP_RE_TRAIN] = 1;
    hp_report_compute(&e, &r);
    ck_assert_str_eq(r.term[HP_RT_VARIANCE].why, "the trial reported a non-finite train_error");
    e.err[HP_RE_VAL] = NAN;
    hp_report_compute(&e, &r);
    ck_assert_str_eq(r.term[HP_RT_VARIANCE].why,
                     "the trial reported a non-finite train_error and no val_error");
}
END_TEST

START_TEST(test_calc_negative_terms)
{
    /* train below the human error, val below train: kept negative, not
     * clamped, never material */
    hp_report_t r = calc(0.05, 0.04, 0.03, NAN, 0.032);
    ck_term(r, HP_RT_BIAS, -0.01);
    ck_term(r, HP_RT_VARIANCE, -0.01);
    ck_term(r, HP_RT_VAL_OVERFIT, 0.002);
    ck_assert(!r.term[HP_RT_BIAS].material && !r.term[HP_RT_VARIANCE].material);
    ck_assert_double_eq_tol(r.threshold, 0.0032, TOL);
    ck_assert_int_eq(r.fit, HP_FIT_GOOD); /* the largest term (0.002) is not material */
    ck_assert_uint_eq(r.n_advice, 0);
    ck_assert_str_eq(hp_report_fit_name(r.fit), "good");
}
END_TEST

START_TEST(test_calc_relative_threshold)
{
    /* a 2% test error: 0.3 point matters (10% of it), 0.1 point does not */
    hp_report_t r = calc(0.0, 0.004, 0.017, NAN, 0.02);
    ck_assert_double_eq_tol(r.threshold, 0.002, TOL);
    ck_term(r, HP_RT_BIAS, 0.004);
    ck_term(r, HP_RT_VARIANCE, 0.013);
    ck_term(r, HP_RT_VAL_OVERFIT, 0.003);
    ck_assert_int_eq(r.fit, HP_FIT_OVER);
    ck_advice(&r, 3, (hp_report_term_id_t[]){HP_RT_BIAS, HP_RT_VARIANCE, HP_RT_VAL_OVERFIT});
    r = calc(0.0, 0.001, 0.017, NAN, 0.02);
    ck_assert(!r.term[HP_RT_BIAS].material);

    /* exactly 1 point is material despite rounding (0.03 - 0.02 < 0.01) */
    r = calc(0.02, 0.03, 0.03, NAN, 0.5);
    ck_assert(r.term[HP_RT_BIAS].material);
}
END_TEST

START_TEST(test_calc_advice_lists)
{
    ck_assert_ptr_null(hp_report_advice(HP_RT_IRREDUCIBLE));
    const hp_report_advice_t *a = hp_report_advice(HP_RT_BIAS);
    ck_assert_str_eq(a->key, "under_fitting");
    ck_assert_uint_eq(a->n_steps, 6);
    ck_assert_ptr_nonnull(strstr(a->steps[0], "bigger"));
    ck_assert_ptr_nonnull(strstr(a->steps[1], "reduce regularization"));
    ck_assert_ptr_nonnull(strstr(a->steps[5], "add features"));
    a = hp_report_advice(HP_RT_VARIANCE);
    ck_assert_str_eq(a->key, "over_fitting");
    ck_assert_uint_eq(a->n_steps, 10);
    ck_assert_ptr_nonnull(strstr(a->steps[0], "more training data"));
    ck_assert_ptr_nonnull(strstr(a->steps[3], "increase regularization"));
    ck_assert_ptr_nonnull(strstr(a->steps[9], "reduce the model size (not recommended)"));
    a = hp_report_advice(HP_RT_SHIFT);
    ck_assert_str_eq(a->key, "distribution_shift");
    ck_assert_uint_eq(a->n_steps, 3);
    ck_assert_ptr_nonnull(strstr(a->steps[0], "collect more training data"));
    ck_assert_ptr_nonnull(strstr(a->steps[1], "synthesize"));
    ck_assert_ptr_nonnull(strstr(a->steps[2], "domain adaptation"));
    a = hp_report_advice(HP_RT_VAL_OVERFIT);
    ck_assert_str_eq(a->key, "rebalance");
    ck_assert_uint_eq(a->n_steps, 1);
    ck_assert_ptr_nonnull(strstr(a->steps[0], "recollect validation data"));
}
END_TEST

/* ---- the real binary on a real database --------------------------------- */

static char tmpdir[256];
static char dbpath[320];
static int64_t next_lease = 1000;

typedef struct run {
    int status;
    char *out, *err;
} run_t;

static char *slurp(const char *path) { return hp_check_slurp(path, 0); }

/* hpsearch runs the binary with args (NULL-terminated) */
static run_t hpsearch(const char *const *args)
{
    const char *bin = getenv("HP_BIN_DIR");
    ck_assert_ptr_nonnull(bin);
    char exe[512], outp[512], errp[512];
    snprintf(exe, sizeof exe, "%s/hpsearch", bin);
    snprintf(outp, sizeof outp, "%s/stdout", tmpdir);
    snprintf(errp, sizeof errp, "%s/stderr", tmpdir);
    hp_spawn_opts_t o = {.in = "/dev/null", .out = outp, .err = errp,
                         .env = (const char *const[]){"HPSEARCH_COORDINATOR", NULL}};
    pid_t pid = hp_spawn(exe, args, &o);
    alarm(GUARD_SECONDS); /* a hang kills this test process, failing it */
    int st = hp_spawn_wait(pid);
    alarm(0);
    run_t r = {.status = st,
               .out = slurp(outp),
               .err = slurp(errp)};
    return r;
}

static void run_free(run_t *r)
{
    free(r->out);
    free(r->err);
}

static int64_t make_study(hp_store_t *st, const char *name, const char *spec_json)
{
    hp_study_def_t def = {.name = name, .spec = "", .spec_json = spec_json,
                          .metric = "val_error", .goal = HP_GOAL_MINIMIZE};
    int64_t id = 0;
    char err[512] = "";
    ck_assert_msg(hp_store_study_create(st, &def, &id, err, sizeof err) == 0, "%s", err);
    return id;
}

static int64_t new_trial(hp_store_t *st, int64_t study)
{
    int64_t id = 0;
    char err[512] = "";
    ck_assert_msg(hp_store_trial_create(st, study, "{\"lr\":0.1}", &id, NULL, err, sizeof err) ==
                      0, "%s", err);
    return id;
}

static int64_t start(hp_store_t *st, int64_t trial, int *attempt)
{
    char err[512] = "";
    int64_t lease = next_lease++;
    ck_assert_msg(hp_store_trial_start(st, trial, "w1", lease, hp_store_now() + 60, attempt, err,
                                       sizeof err) == 0, "%s", err);
    return lease;
}

static void metric(hp_store_t *st, int64_t trial, int attempt, int64_t step, const char *name,
                   double v)
{
    hp_metric_t m = {.trial_id = trial, .attempt = attempt, .step = step, .name = name,
                     .value = v};
    char err[512] = "";
    ck_assert_msg(hp_store_metrics_append(st, &m, 1, err, sizeof err) == 0, "%s", err);
}

static void complete(hp_store_t *st, int64_t trial, int64_t lease, double v, const char *diag)
{
    char err[512] = "";
    ck_assert_msg(hp_store_trial_complete(st, trial, lease, v, err, sizeof err) == 0, "%s", err);
    if (diag)
        ck_assert_msg(hp_store_trial_set_diagnosis(st, trial, diag, "detail", err, sizeof err) ==
                          0, "%s", err);
}

/* Study "rep" (human_error 0.01), trials:
 *   0 under-fit: train 0.30, val 0.31 (last epochs), test 0.32; plateaus
 *   1 best (0.08), over-fit: train 0.03 (step -1 beats the last epoch's
 *     0.02), val 0.08, shift_val 0.12, test 0.125; healthy
 *   2 over-fit on its 2nd attempt (train 0.2, val 0.4, test 0.41); the 1st
 *     attempt's train_error 0.9 at a later step must be ignored; healthy
 *   3 an external program reporting only `loss`; not diagnosed
 *   4 pending; not diagnosed
 *   5 pruned with only train_loss; explodes
 * and study "bare" without human_error, one completed trial. */
static void build_db(void)
{
    hp_store_t *st = NULL;
    char err[512] = "";
    ck_assert_msg(hp_store_open(&st, dbpath, HP_STORE_CREATE | HP_STORE_SYNC_NORMAL, err,
                                sizeof err) == 0, "%s", err);
    hp_worker_def_t w = {.id = "w1", .host = "node1", .cores = 2, .slots = 1};
    ck_assert_int_eq(hp_store_worker_upsert(st, &w, err, sizeof err), 0);
    int64_t s = make_study(st, "rep",
                           "{\"name\":\"rep\",\"objective\":{\"metric\":\"val_error\","
                           "\"goal\":\"minimize\",\"human_error\":0.01}}");
    int a;
    /* two sanity checks (a restart runs it again): the report shows the latest */
    ck_assert_int_eq(hp_store_event_append(st, "sanity_check", s, 0, NULL, "FAIL: old verdict",
                                           err, sizeof err),
                     0);
    ck_assert_int_eq(hp_store_event_append(st, "sanity_check", s, 0, NULL,
                                           "PASS: train_loss fell from 2.3 to 0.001 in 300 "
                                           "steps (threshold 0.05)\n  held out: accuracy 0.6",
                                           err, sizeof err),
                     0);
    int64_t t = new_trial(st, s), l = start(st, t, &a);
    const double tr0[] = {0.5, 0.4, 0.30}, va0[] = {0.55, 0.45, 0.31};
    for (int e = 0; e < 3; e++) {
        metric(st, t, a, e, "train_error", tr0[e]);
        metric(st, t, a, e, "val_error", va0[e]);
    }
    metric(st, t, a, -1, "test_error", 0.32);
    complete(st, t, l, 0.31, "plateaus");

    t = new_trial(st, s), l = start(st, t, &a);
    metric(st, t, a, 0, "train_error", 0.05);
    metric(st, t, a, 1, "train_error", 0.02);
    metric(st, t, a, 0, "val_error", 0.10);
    metric(st, t, a, 1, "val_error", 0.08);
    metric(st, t, a, -1, "train_error", 0.03);
    metric(st, t, a, -1, "shift_val_error", 0.12);
    metric(st, t, a, -1, "test_error", 0.125);
    metric(st, t, a, -1, "baseline_majority_error", 0.9);
    metric(st, t, a, -1, "baseline_linear_error", 0.16);
    complete(st, t, l, 0.08, "healthy");

    t = new_trial(st, s), l = start(st, t, &a);
    ck_assert_int_eq(a, 1);
    metric(st, t, a, 5, "train_error", 0.9);
    ck_assert_int_eq(hp_store_trial_requeue(st, t, l, HP_ATTEMPT_LOST, "lost", err, sizeof err),
                     0);
    l = start(st, t, &a);
    ck_assert_int_eq(a, 2);
    metric(st, t, a, 0, "train_error", 0.2);
    metric(st, t, a, 0, "val_error", 0.4);
    metric(st, t, a, -1, "test_error", 0.41);
    metric(st, t, a, -1, "baseline_majority_error", 0.9);
    metric(st, t, a, -1, "baseline_linear_error", 0.2);
    complete(st, t, l, 0.4, "healthy");

    t = new_trial(st, s), l = start(st, t, &a);
    metric(st, t, a, 0, "loss", 0.7);
    metric(st, t, a, 1, "loss", 0.5);
    complete(st, t, l, 0.5, NULL);

    new_trial(st, s); /* 4: pending */

    t = new_trial(st, s), l = start(st, t, &a);
    metric(st, t, a, 0, "train_loss", 1e9);
    ck_assert_int_eq(hp_store_trial_prune(st, t, l, "diverged", err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_set_diagnosis(st, t, "explodes", "x", err, sizeof err), 0);

    /* study "pruned" (asha on loss, complete at step 9): 0 completed after
     * 9 steps, then a line without step=N (stored as step 10: it counts 9,
     * no rule grants more); 1 pruned at step 1; 2 lost after step 2, then
     * pruned at step 3 (2 + 3 steps); 3 failed at step 4; 4 pending. 19 of
     * 4 x 9 steps. */
    int64_t p = make_study(st, "pruned",
                           "{\"name\":\"pruned\",\"pruning\":{\"rule\":\"asha\","
                           "\"metric\":\"loss\",\"max_resource\":9}}");
    t = new_trial(st, p), l = start(st, t, &a);
    for (int e = 1; e <= 9; e++)
        metric(st, t, a, e, "loss", 1.0 / e);
    metric(st, t, a, 10, "loss", 0.11);
    complete(st, t, l, 0.11, NULL);
    t = new_trial(st, p), l = start(st, t, &a);
    metric(st, t, a, 1, "loss", 2.0);
    ck_assert_int_eq(hp_store_trial_prune(st, t, l, "asha", err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_set_pruned_step(st, t, 1, err, sizeof err), 0);
    t = new_trial(st, p), l = start(st, t, &a);
    metric(st, t, a, 1, "loss", 1.5);
    metric(st, t, a, 2, "loss", 1.4);
    ck_assert_int_eq(hp_store_trial_requeue(st, t, l, HP_ATTEMPT_LOST, "lost", err, sizeof err),
                     0);
    l = start(st, t, &a);
    for (int e = 1; e <= 3; e++)
        metric(st, t, a, e, "loss", 1.5 - 0.1 * e);
    ck_assert_int_eq(hp_store_trial_prune(st, t, l, "asha", err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_set_pruned_step(st, t, 3, err, sizeof err), 0);
    t = new_trial(st, p), l = start(st, t, &a);
    metric(st, t, a, 4, "loss", 3.0);
    ck_assert_int_eq(hp_store_trial_fail(st, t, l, "exit 1", err, sizeof err), 0);
    new_trial(st, p);

    /* study "many": trials 0, 2, .., 24 over-fit, the odd ones before 25
     * and 25..34 pending (unknown), for the lists across the study */
    int64_t mny = make_study(st, "many",
                             "{\"name\":\"many\",\"objective\":{\"metric\":\"val_error\","
                             "\"goal\":\"minimize\",\"human_error\":0.01}}");
    for (int k = 0; k < 35; k++) {
        t = new_trial(st, mny);
        if (k % 2 || k >= 25)
            continue;
        l = start(st, t, &a);
        metric(st, t, a, 0, "train_error", 0.03);
        metric(st, t, a, 0, "val_error", 0.2);
        metric(st, t, a, -1, "test_error", 0.21);
        complete(st, t, l, 0.2, "healthy");
    }

    int64_t b = make_study(st, "bare", "{\"name\":\"bare\"}");
    t = new_trial(st, b), l = start(st, t, &a);
    metric(st, t, a, 0, "train_error", 0.05);
    metric(st, t, a, 0, "val_error", 0.09);
    metric(st, t, a, -1, "test_error", 0.095);
    complete(st, t, l, 0.09, "healthy");
    hp_store_close(st);
}

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hp_test_report.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(dbpath, sizeof dbpath, "%s/hp.db", tmpdir);
    build_db();
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* line_of returns a copy of the first line of text that starts with prefix */
static char *line_of(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len >= n && strncmp(p, prefix, n) == 0)
            return strndup(p, len);
        if (!nl)
            break;
        p = nl + 1;
    }
    ck_abort_msg("no line starting '%s' in:\n%s", prefix, text);
    return NULL;
}

/* the line starting with prefix holds every one of the NULL-terminated words */
static void ck_line(const char *text, const char *prefix, const char *const *words)
{
    char *l = line_of(text, prefix);
    for (; *words; words++)
        ck_assert_msg(strstr(l, *words) != NULL, "'%s' lacks '%s'", l, *words);
    free(l);
}

/* the number right after key in a JSON text */
static double json_num(const char *json, const char *key)
{
    const char *p = strstr(json, key);
    ck_assert_msg(p != NULL, "no %s in %s", key, json);
    char *end;
    double v = strtod(p + strlen(key), &end);
    ck_assert_msg(end != p + strlen(key), "no number after %s", key);
    return v;
}

static void ck_has(const char *text, const char *s)
{
    ck_assert_msg(strstr(text, s) != NULL, "no '%s' in:\n%s", s, text);
}

START_TEST(test_cli_report_text)
{
    run_t r = hpsearch((const char *[]){"report", "--db", dbpath, "rep", NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_str_eq(r.err, "");
    const char *o = r.out;
    ck_line(o, "trial ", (const char *[]){"1 (best; completed", "healthy", NULL});
    ck_line(o, "sanity  ", (const char *[]){"PASS: train_loss fell from 2.3 to 0.001", NULL});
    ck_line(o, "  held out: ", (const char *[]){"accuracy 0.6", NULL});
    ck_assert_ptr_null(strstr(o, "old verdict"));
    ck_line(o, "  train_error ", (const char *[]){"0.0300", NULL});
    ck_line(o, "  val_error ", (const char *[]){"0.0800", NULL});
    ck_line(o, "  shift_val_error ", (const char *[]){"0.1200", NULL});
    ck_line(o, "  test_error ", (const char *[]){"0.1250", NULL});
    ck_line(o, "  irreducible error ", (const char *[]){"0.0100", "objective.human_error", NULL});
    ck_line(o, "  avoidable bias ", (const char *[]){"0.0200", "material", NULL});
    ck_line(o, "  variance ", (const char *[]){"0.0500", "material", NULL});
    ck_line(o, "  distribution shift ", (const char *[]){"0.0400", "material", NULL});
    ck_line(o, "  val overfitting ", (const char *[]){"0.0050", "small", NULL});
    ck_line(o, "  material:", (const char *[]){">= 0.0100", NULL});
    ck_line(o, "  fit:", (const char *[]){"over_fit (variance is the largest", NULL});
    /* next steps: under-fitting, over-fitting, shift; no re-balancing */
    const char *u = strstr(o, "1. address under-fitting");
    const char *v = strstr(o, "2. address over-fitting");
    const char *s = strstr(o, "3. address distribution shift");
    ck_assert(u && v && s && u < v && v < s);
    ck_assert_ptr_null(strstr(o, "re-balance"));
    ck_has(u, "a. make the model bigger");
    ck_has(v, "a. add more training data");
    ck_has(s, "c. apply domain adaptation");
    /* variance is the largest term, yet under-fitting comes first: the
     * report says why (the guide's reasoning), before the steps */
    const char *why = strstr(o, "\n  why this order: The guide addresses under-fitting first "
                                "although variance");
    ck_assert_msg(why && why < u, "%s", o);
    for (const char *p = why + 1; p < u; p = strchr(p, '\n') + 1)
        ck_assert_int_le((int)(strchr(p, '\n') - p), 80); /* wrapped */
    char flat[2048]; /* the paragraph with its line breaks undone */
    size_t k = 0;
    for (const char *p = why + 1; p < u && k + 1 < sizeof flat; p++) {
        if (p[0] == '\n' && p[1] == ' ' && p[2] == ' ' && p + 3 < u)
            p += 2, flat[k++] = ' ';
        else
            flat[k++] = *p;
    }
    flat[k] = '\0';
    ck_has(flat, "is larger: variance is measured from the training error (val_error - "
                 "train_error), and the under-fitting remedies (a bigger model, less "
                 "regularization) move the training error and so the variance");
    ck_has(flat, "would add to the avoidable bias again. Reduce the bias, then run the report "
                 "again and address the variance that is left.\n");
    /* across the study */
    ck_line(o, "  under-fit ", (const char *[]){" 0", NULL});
    ck_line(o, "  over-fit ", (const char *[]){"1, 2", NULL});
    ck_has(o, "\n  unknown           3-5\n"); /* a run of three or more is a range */
    ck_line(o, "  diagnosis ",
            (const char *[]){"healthy 2,", "goes_up 0,", "explodes 1,", "plateaus 1,",
                             "not diagnosed 2", NULL});
    run_free(&r);

    /* an external program's trial: what is missing is named */
    r = hpsearch((const char *[]){"report", "--trial", "3", "--db", dbpath, "rep", NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_line(r.out, "trial ", (const char *[]){"3 (--trial; completed", "diagnosis none", NULL});
    ck_line(r.out, "  train_error ", (const char *[]){"not reported", NULL});
    ck_line(r.out, "  variance ",
            (const char *[]){"unknown — the trial reported no train_error and no val_error",
                             NULL});
    ck_line(r.out, "  val overfitting ",
            (const char *[]){"unknown — the trial reported no val_error and no test_error",
                             NULL});
    ck_line(r.out, "  fit:", (const char *[]){"unknown", NULL});
    ck_line(r.out, "  none from the known terms", (const char *[]){"may hide some", NULL});
    ck_assert_ptr_null(strstr(r.out, "why this order"));
    run_free(&r);

    /* no human_error in the spec */
    r = hpsearch((const char *[]){"report", "--db", dbpath, "bare", NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_line(r.out, "sanity  ", (const char *[]){"not run (search.sanity_check off", NULL});
    ck_line(r.out, "  irreducible error ",
            (const char *[]){"unknown — the spec sets no objective.human_error", NULL});
    ck_line(r.out, "  variance ", (const char *[]){"0.0400", "material", NULL});
    run_free(&r);
}
END_TEST

START_TEST(test_cli_report_json)
{
    run_t r = hpsearch((const char *[]){"report", "--format", "json", "--db", dbpath, "rep",
                                        NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    const char *o = r.out;
    ck_has(o, "\"study\":\"rep\"");
    ck_has(o, "\"trial\":{\"number\":1,\"state\":\"completed\"");
    ck_assert_double_eq_tol(json_num(o, "\"train_error\":"), 0.03, TOL);
    ck_assert_double_eq_tol(json_num(o, "\"val_error\":"), 0.08, TOL);
    ck_assert_double_eq_tol(json_num(o, "\"shift_val_error\":"), 0.12, TOL);
    ck_assert_double_eq_tol(json_num(o, "\"test_error\":"), 0.125, TOL);
    ck_assert_double_eq_tol(json_num(o, "\"irreducible\":{\"value\":"), 0.01, TOL);
    ck_assert_double_eq_tol(json_num(o, "\"avoidable_bias\":{\"value\":"), 0.02, TOL);
    ck_assert_double_eq_tol(json_num(o, "\"variance\":{\"value\":"), 0.05, TOL);
    ck_assert_double_eq_tol(json_num(o, "\"distribution_shift\":{\"value\":"), 0.04, TOL);
    ck_assert_double_eq_tol(json_num(o, "\"val_overfitting\":{\"value\":"), 0.005, TOL);
    ck_assert_double_eq_tol(json_num(o, "\"threshold\":"), 0.01, TOL);
    ck_has(o, "\"fit\":\"over_fit\"");
    ck_has(o, "\"sanity_check\":\"PASS: train_loss fell from 2.3 to 0.001 in 300 steps "
              "(threshold 0.05)\\n  held out: accuracy 0.6\",\"trials\":{");
    const char *u = strstr(o, "{\"address\":\"under_fitting\"");
    const char *v = strstr(o, "{\"address\":\"over_fitting\"");
    const char *s = strstr(o, "{\"address\":\"distribution_shift\"");
    ck_assert(u && v && s && u < v && v < s);
    ck_assert_ptr_null(strstr(o, "\"rebalance\""));
    ck_has(o, "\"order_reason\":\"The guide addresses under-fitting first although variance is "
              "larger: variance is measured from the training error (val_error - train_error), ");
    ck_has(o, "the variance that is left.\"},\"sanity_check\":");
    ck_has(o, "\"under_fit\":[0],\"over_fit\":[1,2]");
    ck_has(o, "\"unknown\":[3,4,5]");
    ck_has(o, "\"diagnosis\":{\"healthy\":2,\"goes_up\":0,\"explodes\":1,\"oscillates\":0,"
              "\"plateaus\":1,\"unknown\":0,\"none\":2}");
    ck_assert_int_eq(o[strlen(o) - 1], '\n');
    run_free(&r);

    /* unknown terms are null with the reason */
    r = hpsearch((const char *[]){"report", "--format", "json", "--trial", "3", "--db", dbpath,
                                  "rep", NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_has(r.out, "\"variance\":{\"value\":null,\"material\":false,"
                  "\"unknown\":\"the trial reported no train_error and no val_error\"}");
    ck_has(r.out, "\"next_steps\":[],\"order_reason\":null}");
    run_free(&r);
}
END_TEST

START_TEST(test_calc_vs_baselines)
{
    double base[HP_RB_COUNT] = {0.9, 0.16}, gap;
    int against;
    ck_assert_int_eq(hp_report_vs_baselines(base, 0.125, &against, &gap), 0);
    ck_assert_int_eq(against, HP_RB_LINEAR); /* the strongest baseline */
    ck_assert_double_eq_tol(gap, -0.035, TOL);
    base[HP_RB_LINEAR] = NAN; /* only the majority class reported */
    ck_assert_int_eq(hp_report_vs_baselines(base, 0.95, &against, &gap), 0);
    ck_assert_int_eq(against, HP_RB_MAJORITY);
    ck_assert_double_eq_tol(gap, 0.05, TOL);
    ck_assert_int_eq(hp_report_vs_baselines(base, NAN, &against, &gap), -1);
    ck_assert_int_eq(against, -1);
    base[HP_RB_MAJORITY] = NAN;
    ck_assert_int_eq(hp_report_vs_baselines(base, 0.1, &against, &gap), -1);
    ck_assert(isnan(gap));
    ck_assert_str_eq(hp_report_baseline_metric(HP_RB_LINEAR), "baseline_linear_error");
    ck_assert_str_eq(hp_report_baseline_metric(HP_RB_MAJORITY), "baseline_majority_error");
}
END_TEST

/* "compare to a known result": the best trial against the baselines it
 * reported; nothing when a trial reported none */
START_TEST(test_cli_report_baselines)
{
    run_t r = hpsearch((const char *[]){"report", "--db", dbpath, "rep", NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_has(r.out, "\ncompare to a known result (test error)\n");
    ck_line(r.out, "  majority class ", (const char *[]){"0.9000", NULL});
    ck_line(r.out, "  linear model ", (const char *[]){"0.1600", NULL});
    ck_line(r.out, "  trial 1 ", (const char *[]){"0.1250", "beats the linear model by 0.0350",
                                                  NULL});
    run_free(&r);

    r = hpsearch((const char *[]){"report", "--trial", "2", "--db", dbpath, "rep", NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_line(r.out, "  trial 2 ",
            (const char *[]){"0.4100", "does not beat the linear model (0.2100 worse)", NULL});
    run_free(&r);

    r = hpsearch((const char *[]){"report", "--trial", "3", "--db", dbpath, "rep", NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_ptr_null(strstr(r.out, "compare to a known result"));
    run_free(&r);

    r = hpsearch((const char *[]){"report", "--format", "json", "--db", dbpath, "rep", NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_has(r.out, "\"baselines\":{\"majority_class\":0.9,\"linear_model\":0.16,"
                  "\"trial_test_error\":0.125,\"against\":\"linear_model\",\"gap\":");
    ck_assert_double_eq_tol(json_num(r.out, "\"gap\":"), -0.035, TOL);
    ck_has(r.out, "\"beats\":true}");
    run_free(&r);

    r = hpsearch((const char *[]){"report", "--format", "json", "--trial", "3", "--db", dbpath,
                                  "rep", NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_has(r.out, "\"baselines\":null");
    run_free(&r);
}
END_TEST

/* Baselines stored once per dataset key (the baselines table) are the
 * ones a study's report shows, also for a study whose trials computed
 * none; the trial's own metrics are the fallback (study "rep" above has no
 * key, like a study from before schema 3). */
START_TEST(test_cli_report_stored_baselines)
{
    hp_store_t *st = NULL;
    char err[512] = "";
    ck_assert_msg(hp_store_open(&st, dbpath, HP_STORE_SYNC_NORMAL, err, sizeof err) == 0, "%s",
                  err);
    static const char key[] = "{\"name\":\"fashion-mnist\",\"seed\":0}";
    hp_study_def_t def = {.name = "first", .spec = "", .spec_json = "{\"name\":\"first\"}",
                          .metric = "val_error", .goal = HP_GOAL_MINIMIZE, .dataset_key = key};
    int64_t first, second, other;
    ck_assert_int_eq(hp_store_study_create(st, &def, &first, err, sizeof err), 0);
    def.name = "second";
    def.spec_json = "{\"name\":\"second\"}";
    ck_assert_int_eq(hp_store_study_create(st, &def, &second, err, sizeof err), 0);
    def.name = "other";
    def.spec_json = "{\"name\":\"other\"}";
    def.dataset_key = "{\"name\":\"fashion-mnist\",\"seed\":1}";
    ck_assert_int_eq(hp_store_study_create(st, &def, &other, err, sizeof err), 0);
    int a;
    /* study "first": trial 0 computed them (and keeps them as metrics) */
    int64_t t = new_trial(st, first), l = start(st, t, &a);
    metric(st, t, a, -1, "test_error", 0.14);
    metric(st, t, a, -1, "baseline_majority_error", 0.9);
    metric(st, t, a, -1, "baseline_linear_error", 0.15);
    complete(st, t, l, 0.13, "healthy");
    hp_baseline_def_t b = {.dataset_key = key, .name = "majority_class", .error = 0.9,
                           .study_id = first, .trial_id = t};
    ck_assert_int_eq(hp_store_baseline_put(st, &b, NULL, err, sizeof err), 0);
    b.name = "linear_model";
    b.error = 0.15;
    ck_assert_int_eq(hp_store_baseline_put(st, &b, NULL, err, sizeof err), 0);
    /* study "second", same key: its trials computed none */
    t = new_trial(st, second), l = start(st, t, &a);
    metric(st, t, a, -1, "test_error", 0.2);
    complete(st, t, l, 0.18, "healthy");
    /* study "other", another key with nothing stored: its trial's own */
    t = new_trial(st, other), l = start(st, t, &a);
    metric(st, t, a, -1, "test_error", 0.1);
    metric(st, t, a, -1, "baseline_linear_error", 0.12);
    complete(st, t, l, 0.09, "healthy");
    hp_store_close(st);

    run_t r = hpsearch((const char *[]){"report", "--db", dbpath, "second", NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_line(r.out, "  majority class ", (const char *[]){"0.9000", NULL});
    ck_line(r.out, "  linear model ", (const char *[]){"0.1500", NULL});
    ck_line(r.out, "  trial 0 ",
            (const char *[]){"0.2000", "does not beat the linear model (0.0500 worse)", NULL});
    run_free(&r);
    r = hpsearch((const char *[]){"report", "--format", "json", "--db", dbpath, "first", NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_has(r.out, "\"baselines\":{\"majority_class\":0.9,\"linear_model\":0.15,"
                  "\"trial_test_error\":0.14,\"against\":\"linear_model\",\"gap\":");
    run_free(&r);
    r = hpsearch((const char *[]){"report", "--format", "json", "--db", dbpath, "other", NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_has(r.out, "\"baselines\":{\"majority_class\":null,\"linear_model\":0.12,"
                  "\"trial_test_error\":0.1,\"against\":\"linear_model\",\"gap\":");
    run_free(&r);
}
END_TEST

/* A study with a pruning rule: what was pruned where, and the steps it
 * saved; studies without one say nothing of it (and null in JSON). */
START_TEST(test_cli_report_pruning)
{
    run_t r = hpsearch((const char *[]){"report", "--db", dbpath, "pruned", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_has(r.out, "\npruning (asha on loss, trials complete at step 9)\n"
                  "  pruned            2 of 4 finished trials; at step 1: 1, at step 3: 1\n"
                  "  steps used        19 of the 36 had every finished trial run to step 9 "
                  "(53%)\n");
    run_free(&r);
    r = hpsearch((const char *[]){"report", "--format", "json", "--db", dbpath, "pruned", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_has(r.out, ",\"pruning\":{\"rule\":\"asha\",\"metric\":\"loss\",\"end_step\":9,"
                  "\"finished\":4,\"pruned\":2,\"stopped_at\":{\"1\":1,\"3\":1},"
                  "\"stopped_elsewhere\":0,\"steps_used\":19,\"steps_without_pruning\":36,"
                  "\"rank_check\":null},"
                  "\"importance\":");
    run_free(&r);
    r = hpsearch((const char *[]){"report", "--db", dbpath, "rep", NULL});
    ck_assert_ptr_null(strstr(r.out, "pruning ("));
    run_free(&r);
    r = hpsearch((const char *[]){"report", "--format", "json", "--db", dbpath, "rep", NULL});
    ck_has(r.out, ",\"pruning\":null,\"importance\":");
    run_free(&r);
}
END_TEST

/* A study of many trials lists each fit's trials as runs, the first 12
 * of them and then how many trials more, not every number */
START_TEST(test_cli_report_many_trials)
{
    run_t r = hpsearch((const char *[]){"report", "--db", dbpath, "many", NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_has(r.out, "\nacross the study (35 trials)\n"
                  "  under-fit         -\n"
                  "  over-fit          0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, and 1 more\n"
                  "  shift             -\n"
                  "  val overfit       -\n"
                  "  no material term  -\n"
                  "  unknown           1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, and 10 more\n");
    run_free(&r);
}
END_TEST

START_TEST(test_cli_report_errors)
{
    run_t r = hpsearch((const char *[]){"report", "--db", dbpath, "nope", NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.err, "hpsearch report: no study named 'nope'\n");
    run_free(&r);
    r = hpsearch((const char *[]){"report", "--trial", "99", "--db", dbpath, "rep", NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.err, "hpsearch report: study 'rep' has no trial 99\n");
    run_free(&r);
    r = hpsearch((const char *[]){"report", "--format", "csv", "--db", dbpath, "rep", NULL});
    ck_assert_int_eq(r.status, 2);
    run_free(&r);
    r = hpsearch((const char *[]){"report", "--db", dbpath, NULL});
    ck_assert_int_eq(r.status, 2);
    run_free(&r);
}
END_TEST

static Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("calc");
    tcase_add_test(tc, test_calc_underfit);
    tcase_add_test(tc, test_calc_overfit);
    tcase_add_test(tc, test_calc_shift);
    tcase_add_test(tc, test_calc_unknown_human);
    tcase_add_test(tc, test_calc_missing_metrics);
    tcase_add_test(tc, test_calc_negative_terms);
    tcase_add_test(tc, test_calc_relative_threshold);
    tcase_add_test(tc, test_calc_advice_lists);
    tcase_add_test(tc, test_calc_vs_baselines);
    tcase_add_test(tc, test_calc_order_reason);
    suite_add_tcase(s, tc);
    tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_cli_report_text);
    tcase_add_test(tc, test_cli_report_json);
    tcase_add_test(tc, test_cli_report_errors);
    tcase_add_test(tc, test_cli_report_pruning);
    tcase_add_test(tc, test_cli_report_many_trials);
    tcase_add_test(tc, test_cli_report_baselines);
    tcase_add_test(tc, test_cli_report_stored_baselines);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_check_run(report_suite());
}
