/* Early stopping rules (common/pruner.c) against decisions
 * computed by hand: asha's rungs in asynchronous arrival order, a report
 * that jumps over rungs, maximizing, non-finite values, repeated steps, a
 * re-run that is judged afresh, hyperband's brackets (their rungs, their
 * share of the trials, and that trials compete only within a bracket), the
 * median rule with its warm-up, interval and minimum of completed trials,
 * the rank check (a rung that does not predict the end spares trials, and
 * stops them again when it does), the projection of a stopped trial to
 * its end, and the config errors that name their field. */
#include "err.h"
#include "pruner.h"

#include "hp_check.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static hp_pruner_t *make(hp_prune_rule_t rule, int64_t min, int64_t max, int64_t eta)
{
    hp_pruner_config_t c = {.rule = rule, .metric = "loss", .min_resource = min,
                            .max_resource = max, .eta = eta, .interval_steps = 1};
    hp_pruner_t *p;
    char err[256];
    ck_assert_int_eq(hp_pruner_new(&c, &p, err, sizeof err), 0);
    return p;
}

/* the verdict of one report, asserting it went through */
static hp_prune_verdict_t rep(hp_pruner_t *p, uint64_t trial, int64_t step, double value)
{
    hp_prune_verdict_t v;
    ck_assert_int_eq(hp_pruner_report(p, trial, step, value, &v), 0);
    return v;
}

static size_t rung_count(hp_pruner_t *p, uint32_t bracket, size_t k)
{
    int64_t steps[16];
    size_t counts[16];
    size_t n = hp_pruner_rungs(p, bracket, steps, counts, 16);
    ck_assert_uint_gt(n, k);
    return counts[k];
}

START_TEST(test_asha_rungs_and_order)
{
    hp_pruner_t *p = make(HP_PRUNE_ASHA, 1, 27, 3);
    int64_t steps[8];
    size_t counts[8];
    /* rungs at 1, 3, 9; 27 is the end, not a rung */
    ck_assert_uint_eq(hp_pruner_rungs(p, 0, steps, counts, 8), 3);
    ck_assert_int_eq(steps[0], 1);
    ck_assert_int_eq(steps[1], 3);
    ck_assert_int_eq(steps[2], 9);
    ck_assert_uint_eq(hp_pruner_brackets(p), 1);

    /* rung 1, in arrival order: n=1 keep 1 (0.5 continues); n=2 keep 1,
     * 0.7 > 0.5 stops; n=3 keep 1, 0.4 continues; n=4 keep 1, 0.45 > 0.4
     * stops; n=5 keep 1, 0.42 stops; n=6 keep 2, cut-off 0.42 (sorted 0.4
     * 0.42 0.45 0.5 0.7 0.41 -> 0.4 0.41 ...): 0.41 continues */
    hp_prune_verdict_t v = rep(p, 0, 1, 0.5);
    ck_assert(!v.stop && v.judged);
    ck_assert_int_eq(v.rung_step, 1);
    v = rep(p, 1, 1, 0.7);
    ck_assert(v.stop);
    ck_assert_str_eq(v.reason, "pruned at step 1 by asha: loss 0.7 is not the best of the 2 "
                               "trials at rung 1, best 0.5");
    v = rep(p, 2, 1, 0.4);
    ck_assert(!v.stop);
    v = rep(p, 3, 1, 0.45);
    ck_assert(v.stop);
    ck_assert_str_eq(v.reason, "pruned at step 1 by asha: loss 0.45 not in the top 1/3 of 4 "
                               "trials at rung 1, cut-off 0.4");
    v = rep(p, 4, 1, 0.42);
    ck_assert(v.stop);
    v = rep(p, 5, 1, 0.41);
    ck_assert_uint_eq(v.n, 6);
    ck_assert_double_eq(v.cutoff, 0.41);
    ck_assert(!v.stop);
    /* a tie with the cut-off continues: n=7 keep 2, sorted 0.4 0.41 ... */
    v = rep(p, 6, 1, 0.41);
    ck_assert(!v.stop);

    /* steps between rungs decide nothing */
    v = rep(p, 0, 2, 0.35);
    ck_assert(!v.stop && !v.judged);
    /* trial 0 reaches rung 3 first: continues alone; trial 2 worse stops */
    v = rep(p, 0, 3, 0.3);
    ck_assert(!v.stop && v.judged);
    ck_assert_int_eq(v.rung_step, 3);
    v = rep(p, 2, 3, 0.31);
    ck_assert(v.stop);
    /* a stopped trial is not judged again, and says why it stopped */
    ck_assert_ptr_null(hp_pruner_stopped(p, 0, NULL));
    int64_t at = -1;
    ck_assert_str_eq(hp_pruner_stopped(p, 2, &at), v.reason);
    ck_assert_int_eq(at, 3);
    v = rep(p, 2, 9, 0.01);
    ck_assert(!v.stop && !v.judged);
    ck_assert_uint_eq(rung_count(p, 0, 2), 0);
    /* reaching max_resource: no rung there */
    v = rep(p, 0, 27, 0.9);
    ck_assert(!v.stop);
    ck_assert_uint_eq(rung_count(p, 0, 0), 7);
    hp_pruner_free(p);
}
END_TEST

START_TEST(test_asha_jump_repeat_forget)
{
    hp_pruner_t *p = make(HP_PRUNE_ASHA, 2, 100, 2); /* rungs 2 4 8 16 32 64 */
    rep(p, 0, 2, 1.0);
    rep(p, 0, 4, 0.9);
    rep(p, 0, 8, 0.8);
    /* trial 1 reports step 10 first: recorded at 2, 4 and 8 with 0.85;
     * the best at 2 and 4, not at 8 (0.8 better) */
    hp_prune_verdict_t v = rep(p, 1, 10, 0.85);
    ck_assert(v.stop);
    ck_assert_int_eq(v.rung_step, 8);
    ck_assert_uint_eq(rung_count(p, 0, 0), 2);
    ck_assert_uint_eq(rung_count(p, 0, 2), 2);
    /* a re-run of trial 1 is judged afresh, its old values gone */
    hp_pruner_forget(p, 1);
    ck_assert_uint_eq(rung_count(p, 0, 0), 1);
    ck_assert_uint_eq(rung_count(p, 0, 2), 1);
    v = rep(p, 1, 2, 0.5);
    ck_assert(!v.stop && v.judged);
    /* a repeated or earlier step is ignored */
    v = rep(p, 1, 2, 9.0);
    ck_assert(!v.stop && !v.judged);
    v = rep(p, 1, 1, 9.0);
    ck_assert(!v.stop && !v.judged);
    ck_assert_uint_eq(rung_count(p, 0, 0), 2);
    /* before min_resource nothing is judged, however bad */
    v = rep(p, 2, 1, 1e9);
    ck_assert(!v.stop && !v.judged);
    /* a non-finite value stops at any step, grace period too */
    v = rep(p, 3, 1, NAN);
    ck_assert(v.stop);
    ck_assert_str_eq(v.reason, "pruned at step 1 by asha: loss is nan (judged as diverged)");
    v = rep(p, 4, 5, -INFINITY);
    ck_assert(v.stop);
    ck_assert_ptr_nonnull(strstr(v.reason, "loss is -inf"));
    hp_pruner_free(p);
}
END_TEST

START_TEST(test_asha_maximize)
{
    hp_pruner_config_t c = {.rule = HP_PRUNE_ASHA, .metric = "accuracy", .maximize = 1,
                            .min_resource = 1, .max_resource = 9, .eta = 3};
    hp_pruner_t *p;
    char err[256];
    ck_assert_int_eq(hp_pruner_new(&c, &p, err, sizeof err), 0);
    hp_prune_verdict_t v = rep(p, 0, 1, 0.6);
    ck_assert(!v.stop);
    v = rep(p, 1, 1, 0.7); /* higher is better: continues */
    ck_assert(!v.stop);
    v = rep(p, 2, 1, 0.65);
    ck_assert(v.stop);
    ck_assert_double_eq(v.cutoff, 0.7);
    ck_assert_str_eq(v.reason, "pruned at step 1 by asha: accuracy 0.65 not in the top 1/3 of 3 "
                               "trials at rung 1, cut-off 0.7");
    hp_pruner_free(p);
}
END_TEST

START_TEST(test_hyperband_brackets)
{
    hp_pruner_t *p = make(HP_PRUNE_HYPERBAND, 1, 27, 3);
    /* brackets at first rungs 1, 3, 9, 27: 4 of them, with 3, 2, 1, 0 rungs */
    ck_assert_uint_eq(hp_pruner_brackets(p), 4);
    int64_t steps[8];
    size_t counts[8];
    ck_assert_uint_eq(hp_pruner_rungs(p, 0, steps, counts, 8), 3);
    ck_assert_uint_eq(hp_pruner_rungs(p, 1, steps, counts, 8), 2);
    ck_assert_int_eq(steps[0], 3);
    ck_assert_int_eq(steps[1], 9);
    ck_assert_uint_eq(hp_pruner_rungs(p, 2, steps, counts, 8), 1);
    ck_assert_int_eq(steps[0], 9);
    ck_assert_uint_eq(hp_pruner_rungs(p, 3, steps, counts, 8), 0);
    /* shares ceil(4*27/4)=27, ceil(4*9/3)=12, ceil(4*3/2)=6, ceil(4/1)=4 of 49 */
    const double share[4] = {27 / 49.0, 12 / 49.0, 6 / 49.0, 4 / 49.0};
    size_t n[4] = {0};
    const size_t N = 49000;
    for (uint64_t t = 0; t < N; t++)
        n[hp_pruner_bracket(p, t)]++;
    for (int b = 0; b < 4; b++) {
        double got = (double)n[b] / (double)N;
        ck_assert_msg(fabs(got - share[b]) < 0.1 * share[b], "bracket %d: %.4f of trials, want %.4f",
                      b, got, share[b]);
    }
    /* trials compete only within their bracket: find two of bracket 1 and
     * one of bracket 0 */
    uint64_t b0 = UINT64_MAX, b1a = UINT64_MAX, b1b = UINT64_MAX, b3 = UINT64_MAX;
    for (uint64_t t = 0; t < 200; t++) {
        uint32_t b = hp_pruner_bracket(p, t);
        if (b == 0 && b0 == UINT64_MAX)
            b0 = t;
        else if (b == 1 && b1a == UINT64_MAX)
            b1a = t;
        else if (b == 1 && b1b == UINT64_MAX)
            b1b = t;
        else if (b == 3 && b3 == UINT64_MAX)
            b3 = t;
    }
    ck_assert(b0 != UINT64_MAX && b1a != UINT64_MAX && b1b != UINT64_MAX && b3 != UINT64_MAX);
    hp_prune_verdict_t v = rep(p, b0, 3, 0.1); /* bracket 0: rungs 1 and 3 at once */
    ck_assert(!v.stop);
    v = rep(p, b1a, 1, 5.0); /* bracket 1: no rung at 1 */
    ck_assert(!v.judged);
    v = rep(p, b1a, 3, 0.5); /* worse than b0 at step 3, but alone in its bracket */
    ck_assert(!v.stop && v.judged);
    ck_assert_uint_eq(v.bracket, 1);
    ck_assert_uint_eq(v.n, 1);
    v = rep(p, b1b, 3, 0.6);
    ck_assert(v.stop);
    ck_assert_ptr_nonnull(strstr(v.reason, "by hyperband"));
    ck_assert_ptr_nonnull(strstr(v.reason, "(bracket 1)"));
    /* the last bracket runs every trial to the end */
    for (int64_t s = 1; s <= 27; s++)
        ck_assert(!rep(p, b3, s, 100.0 + (double)s).stop);
    hp_pruner_free(p);

    /* brackets: 2 keeps the two most aggressive */
    hp_pruner_config_t c = {.rule = HP_PRUNE_HYPERBAND, .min_resource = 1, .max_resource = 27,
                            .eta = 3, .brackets = 2};
    char err[256];
    ck_assert_int_eq(hp_pruner_new(&c, &p, err, sizeof err), 0);
    ck_assert_uint_eq(hp_pruner_brackets(p), 2);
    for (uint64_t t = 0; t < 1000; t++)
        ck_assert_uint_lt(hp_pruner_bracket(p, t), 2);
    hp_pruner_free(p);
}
END_TEST

static hp_pruner_t *make_median(int64_t warmup, int64_t interval, uint32_t min_trials)
{
    hp_pruner_config_t c = {.rule = HP_PRUNE_MEDIAN, .metric = "loss", .warmup_steps = warmup,
                            .interval_steps = interval, .min_trials = min_trials};
    hp_pruner_t *p;
    char err[256];
    ck_assert_int_eq(hp_pruner_new(&c, &p, err, sizeof err), 0);
    return p;
}

static void complete_curve(hp_pruner_t *p, uint64_t t, const double *v, int n)
{
    for (int i = 0; i < n; i++)
        ck_assert(!rep(p, t, i + 1, v[i]).stop);
    ck_assert_int_eq(hp_pruner_complete(p, t), 0);
}

START_TEST(test_median_rule)
{
    hp_pruner_t *p = make_median(0, 1, 2);
    const double a[3] = {1.0, 0.8, 0.6}, b[3] = {0.9, 0.7, 0.5};
    /* before min_trials (2) trials completed, nothing is judged */
    complete_curve(p, 0, a, 3);
    hp_prune_verdict_t v = rep(p, 5, 1, 50.0);
    ck_assert(!v.judged && !v.stop);
    hp_pruner_forget(p, 5);
    complete_curve(p, 1, b, 3);
    /* step 1: median of 0.9, 1.0 is 0.95; best 0.95 is not worse */
    v = rep(p, 2, 1, 0.95);
    ck_assert(v.judged && !v.stop);
    ck_assert_double_eq_tol(v.cutoff, 0.95, 1e-12);
    /* step 2: median of 0.7, 0.8 is 0.75; best so far 0.9 is */
    v = rep(p, 2, 2, 0.9);
    ck_assert(v.stop);
    ck_assert_str_eq(v.reason, "pruned at step 2 by median: best loss so far 0.9 is worse than "
                               "the median 0.75 of 2 completed trials at step 2");
    /* the best so far counts, not the last value: after 0.7 at step 1,
     * 0.74 at step 2 (median 0.75) continues */
    v = rep(p, 3, 1, 0.7);
    ck_assert(!v.stop);
    v = rep(p, 3, 2, 0.74);
    ck_assert(!v.stop);
    v = rep(p, 3, 3, 0.54);
    ck_assert(!v.stop);
    /* a step no completed trial reported is not judged */
    v = rep(p, 3, 7, 99.0);
    ck_assert(!v.judged && !v.stop);
    /* three completed: the middle value (for two, halfway between them) */
    complete_curve(p, 4, (const double[]){0.2, 0.1, 0.05}, 3);
    v = rep(p, 6, 1, 0.91);
    ck_assert_double_eq_tol(v.cutoff, 0.9, 1e-12); /* 0.2 0.9 1.0 */
    ck_assert(v.stop);
    hp_pruner_free(p);

    /* maximize: the median of higher-is-better values, best is the max */
    hp_pruner_config_t c = {.rule = HP_PRUNE_MEDIAN, .metric = "acc", .maximize = 1,
                            .interval_steps = 1, .min_trials = 1};
    char err[256];
    ck_assert_int_eq(hp_pruner_new(&c, &p, err, sizeof err), 0);
    complete_curve(p, 0, (const double[]){0.5, 0.6}, 2);
    complete_curve(p, 1, (const double[]){0.7, 0.8}, 2);
    v = rep(p, 2, 1, 0.61); /* median 0.6 */
    ck_assert(v.judged && !v.stop);
    v = rep(p, 2, 2, 0.2); /* best 0.61 < median 0.7 */
    ck_assert(v.stop);
    ck_assert_double_eq_tol(v.cutoff, 0.7, 1e-12);
    hp_pruner_free(p);
}
END_TEST

START_TEST(test_median_warmup_and_interval)
{
    hp_pruner_t *p = make_median(2, 3, 1);
    double curve[10];
    for (int i = 0; i < 10; i++)
        curve[i] = 0.0;
    complete_curve(p, 0, curve, 10);
    /* warm-up: steps 1 is not judged; from step 2, the first report of
     * each interval [2,5), [5,8), ... is */
    ck_assert(!rep(p, 1, 1, 1.0).judged);
    ck_assert(rep(p, 2, 2, 0.0).judged);
    ck_assert(!rep(p, 2, 3, 0.0).judged);
    ck_assert(!rep(p, 2, 4, 0.0).judged);
    ck_assert(rep(p, 2, 5, 0.0).judged);
    /* a report that skips into a later interval is its first */
    ck_assert(rep(p, 2, 9, 0.0).judged);
    hp_pruner_free(p);
}
END_TEST

/* at max_resource a trial is complete: the median rule does not stop it
 * there (nothing left to save; its result would be lost) */
START_TEST(test_median_not_at_max_resource)
{
    hp_pruner_config_t c = {.rule = HP_PRUNE_MEDIAN, .metric = "loss", .max_resource = 3,
                            .interval_steps = 1, .min_trials = 1};
    hp_pruner_t *p;
    char err[256];
    ck_assert_int_eq(hp_pruner_new(&c, &p, err, sizeof err), 0);
    complete_curve(p, 0, (const double[]){0.5, 0.4, 0.3}, 3);
    hp_prune_verdict_t v = rep(p, 1, 1, 0.5); /* median 0.5: not worse */
    ck_assert(v.judged && !v.stop);
    v = rep(p, 1, 2, 0.45); /* best 0.45 > 0.4 */
    ck_assert(v.judged && v.stop);
    v = rep(p, 2, 1, 0.5);
    ck_assert(!v.stop);
    v = rep(p, 2, 2, 0.4);
    ck_assert(!v.stop);
    v = rep(p, 2, 3, 0.9); /* worse than 0.3, but at max_resource */
    ck_assert(!v.judged && !v.stop);
    hp_pruner_free(p);
    /* unknown (0): every step is judged, the last one too */
    c.max_resource = 0;
    ck_assert_int_eq(hp_pruner_new(&c, &p, err, sizeof err), 0);
    complete_curve(p, 0, (const double[]){0.5, 0.4, 0.3}, 3);
    ck_assert(!rep(p, 1, 1, 0.5).stop);
    ck_assert(!rep(p, 1, 2, 0.4).stop);
    ck_assert(rep(p, 1, 3, 0.9).stop);
    hp_pruner_free(p);
}
END_TEST

static void bad(hp_pruner_config_t c, const char *want)
{
    char err[256] = "";
    hp_pruner_t *p = (hp_pruner_t *)1;
    ck_assert_int_eq(hp_pruner_new(&c, &p, err, sizeof err), HP_EINVAL);
    ck_assert_ptr_null(p);
    ck_assert_msg(strstr(err, want) != NULL, "error '%s' should name '%s'", err, want);
}

/* The rank check, hand-computed. Rungs: step 1 only (max 2, eta 2);
 * min_trials 3, min_rank_correlation 0.5. */
START_TEST(test_asha_rank_check)
{
    hp_pruner_config_t c = {.rule = HP_PRUNE_ASHA, .metric = "loss", .min_resource = 1,
                            .max_resource = 2, .eta = 2, .interval_steps = 1, .min_trials = 3,
                            .min_rank_corr = 0.5};
    hp_pruner_t *p;
    char err[256];
    ck_assert_int_eq(hp_pruner_new(&c, &p, err, sizeof err), 0);
    /* three trials, each the best at rung 1 when it arrives, ending in the
     * reverse order: (0.9, 0.1), (0.8, 0.2), (0.7, 0.3) */
    const double at1[3] = {0.9, 0.8, 0.7}, end[3] = {0.1, 0.2, 0.3};
    for (uint64_t t = 0; t < 3; t++) {
        hp_prune_verdict_t v = rep(p, t, 1, at1[t]);
        ck_assert(!v.stop && !v.spared);
        ck_assert_uint_eq(v.rank_n, 0);
        ck_assert(!rep(p, t, 2, end[t]).stop);
        ck_assert_int_eq(hp_pruner_complete(p, t), 0);
    }
    /* 0.95: 4 at the rung, keep 2, cut-off 0.8, so asha would stop it; the
     * 3 pairs rank at -1 < 0.5: spared, and the rung says so once */
    hp_prune_verdict_t v = rep(p, 3, 1, 0.95);
    ck_assert(!v.stop && v.spared && v.flips == 1 && v.judged);
    ck_assert_uint_eq(v.rank_n, 3);
    ck_assert_double_eq_tol(v.rank_corr, -1.0, 1e-12);
    ck_assert_str_eq(v.note[0], "rung 1 stops no trial for now: its loss ranks the 3 trials that "
                             "completed after it at Spearman -1.000, below "
                             "pruning.min_rank_correlation 0.5");
    ck_assert_ptr_null(hp_pruner_stopped(p, 3, NULL));
    v = rep(p, 4, 1, 0.99);
    ck_assert(!v.stop && v.spared && !v.flips);
    ck_assert_uint_eq(rung_count(p, 0, 0), 5); /* spared values still count */
    /* both end where they started: ranks at the rung 3 2 1 4 5, at the end
     * 1 2 3 4 5, sum of d^2 = 8, rho = 1 - 6*8/(5*24) = 0.6 */
    ck_assert(!rep(p, 3, 2, 0.95).stop);
    ck_assert(!rep(p, 4, 2, 0.99).stop);
    ck_assert_int_eq(hp_pruner_complete(p, 3), 0);
    ck_assert_int_eq(hp_pruner_complete(p, 4), 0);
    /* 0.97: 6 at the rung, keep 3, cut-off 0.9: stopped, rho 0.6 >= 0.5 */
    v = rep(p, 5, 1, 0.97);
    ck_assert(v.stop && !v.spared && v.flips);
    ck_assert_double_eq_tol(v.rank_corr, 0.6, 1e-12);
    ck_assert_str_eq(v.reason, "pruned at step 1 by asha: loss 0.97 not in the top 1/2 of 6 "
                               "trials at rung 1, cut-off 0.9; the rung ranks 5 completed "
                               "trials at Spearman 0.600");
    ck_assert_str_eq(v.note[0], "rung 1 stops trials again: its loss ranks the 5 trials that "
                             "completed after it at Spearman 0.600, at least "
                             "pruning.min_rank_correlation 0.5");
    /* a re-run of trial 4 takes its pair away: ranks 3 2 1 4 against
     * 1 2 3 4, rho = 1 - 6*8/(4*15) = 0.2, and the rung spares again */
    hp_pruner_forget(p, 4);
    v = rep(p, 6, 1, 0.98);
    ck_assert(!v.stop && v.spared && v.flips);
    ck_assert_uint_eq(v.rank_n, 4);
    ck_assert_double_eq_tol(v.rank_corr, 0.2, 1e-12);
    /* re-runs of trials 2 and 3 leave 2 pairs, below min_trials 3: the
     * rung cuts again as plain asha, and says why. At the rung: 0.9 0.8
     * 0.97 0.98 and now 0.99, keep 2, cut-off 0.9 */
    hp_pruner_forget(p, 2);
    hp_pruner_forget(p, 3);
    v = rep(p, 7, 1, 0.99);
    ck_assert(v.stop && !v.spared && v.flips == 1);
    ck_assert_uint_eq(v.rank_n, 2);
    ck_assert_str_eq(v.note[0], "rung 1 stops trials again: its loss ranks 2 trials that "
                                "completed after it, too few to check (pruning.min_trials 3)");
    ck_assert_str_eq(v.reason, "pruned at step 1 by asha: loss 0.99 not in the top 1/2 of 5 "
                               "trials at rung 1, cut-off 0.9");
    /* a stopped trial whose program finished anyway gives no pair */
    ck_assert_int_eq(hp_pruner_complete(p, 7), 0);
    v = rep(p, 8, 1, 0.995);
    ck_assert(v.stop && !v.flips);
    ck_assert_uint_eq(v.rank_n, 2);
    hp_pruner_free(p);

    /* ties take their average rank */
    c.max_resource = 2;
    c.min_trials = 3;
    ck_assert_int_eq(hp_pruner_new(&c, &p, err, sizeof err), 0);
    const double tie1[3] = {0.5, 0.5, 0.4};
    for (uint64_t t = 0; t < 3; t++) {
        ck_assert(!rep(p, t, 1, tie1[t]).stop);
        ck_assert(!rep(p, t, 2, end[t]).stop);
        ck_assert_int_eq(hp_pruner_complete(p, t), 0);
    }
    /* (0.5, 0.1) (0.5, 0.2) (0.4, 0.3): ranks 2.5 2.5 1 against 1 2 3:
     * centred 0.5 0.5 -1 and -1 0 1, rho = -1.5 / sqrt(1.5 * 2) */
    v = rep(p, 3, 1, 0.9);
    ck_assert(v.spared);
    ck_assert_double_eq_tol(v.rank_corr, -1.5 / sqrt(3.0), 1e-12);
    hp_pruner_free(p);
}
END_TEST

/* Where a stopped trial would have ended: its value at the stopping
 * point plus the median change to the end of the trials that completed
 * from there (asha: the rung; median: the step), once 3 have. */
START_TEST(test_projection)
{
    hp_pruner_t *p = make(HP_PRUNE_ASHA, 1, 9, 3); /* rungs 1, 3 */
    double v;
    uint32_t n;
    /* trial 0 completes: 0.5 at rung 1, 0.4 at rung 3, ends 0.30 */
    ck_assert(!rep(p, 0, 1, 0.5).stop);
    ck_assert(!rep(p, 0, 3, 0.4).stop);
    ck_assert(!rep(p, 0, 9, 0.30).stop);
    ck_assert_int_eq(hp_pruner_complete(p, 0), 0);
    /* trial 1 is stopped at rung 1 (0.7 is not the best of 2) */
    ck_assert(rep(p, 1, 1, 0.7).stop);
    ck_assert_int_eq(hp_pruner_projection(p, 1, &v, &n), 0); /* one pair only */
    /* trials 2 and 3 complete; rung 1's changes: -0.2, -0.15, -0.2 */
    ck_assert(!rep(p, 2, 1, 0.4).stop);
    ck_assert(!rep(p, 2, 3, 0.35).stop);
    ck_assert(!rep(p, 2, 9, 0.25).stop);
    ck_assert_int_eq(hp_pruner_complete(p, 2), 0);
    ck_assert(!rep(p, 3, 1, 0.3).stop);
    ck_assert(!rep(p, 3, 3, 0.3).stop);
    ck_assert(!rep(p, 3, 9, 0.1).stop);
    ck_assert_int_eq(hp_pruner_complete(p, 3), 0);
    ck_assert_int_eq(hp_pruner_projection(p, 1, &v, &n), 1);
    ck_assert_uint_eq(n, 3);
    ck_assert_double_eq_tol(v, 0.7 - 0.2, 1e-12);
    /* a completed trial, a running one and a diverged one have none */
    ck_assert_int_eq(hp_pruner_projection(p, 0, &v, &n), 0);
    ck_assert(!rep(p, 4, 1, 0.25).stop);
    ck_assert_int_eq(hp_pruner_projection(p, 4, &v, &n), 0);
    ck_assert(rep(p, 6, 1, NAN).stop);
    ck_assert_int_eq(hp_pruner_projection(p, 6, &v, &n), 0);
    /* ... also after a finite value at the same step */
    ck_assert(!rep(p, 7, 1, 0.1).stop);
    ck_assert(rep(p, 7, 1, INFINITY).stop);
    ck_assert_int_eq(hp_pruner_projection(p, 7, &v, &n), 0);
    ck_assert_int_eq(hp_pruner_projection(p, 99, &v, &n), 0);
    /* a fourth completion moves the median (even count: halfway):
     * -0.2 -0.2 -0.15 -0.1 -> -0.175; so does forgetting it again */
    ck_assert(!rep(p, 4, 3, 0.2).stop);
    ck_assert(!rep(p, 4, 9, 0.15).stop);
    ck_assert_int_eq(hp_pruner_complete(p, 4), 0);
    ck_assert_int_eq(hp_pruner_projection(p, 1, &v, &n), 1);
    ck_assert_uint_eq(n, 4);
    ck_assert_double_eq_tol(v, 0.7 - 0.175, 1e-12);
    hp_pruner_forget(p, 4);
    ck_assert_int_eq(hp_pruner_projection(p, 1, &v, &n), 1);
    ck_assert_uint_eq(n, 3);
    ck_assert_double_eq_tol(v, 0.5, 1e-12);
    /* stopped at rung 3: that rung's changes, -0.1 -0.1 -0.2 -> -0.1 */
    ck_assert(!rep(p, 5, 1, 0.2).stop);
    ck_assert(rep(p, 5, 3, 0.45).stop);
    ck_assert_int_eq(hp_pruner_projection(p, 5, &v, &n), 1);
    ck_assert_double_eq_tol(v, 0.35, 1e-12);
    hp_pruner_free(p);

    /* median: the same step of the completed curves; maximize unsigns */
    p = make_median(0, 1, 3);
    complete_curve(p, 0, (const double[]){0.5, 0.3}, 2);
    complete_curve(p, 1, (const double[]){0.6, 0.5}, 2);
    complete_curve(p, 2, (const double[]){0.4, 0.1}, 2);
    ck_assert(rep(p, 3, 1, 1.0).stop); /* median 0.5 at step 1 */
    ck_assert_int_eq(hp_pruner_projection(p, 3, &v, &n), 1);
    ck_assert_uint_eq(n, 3);
    ck_assert_double_eq_tol(v, 1.0 - 0.2, 1e-12);
    hp_pruner_free(p);
    hp_pruner_config_t c = {.rule = HP_PRUNE_MEDIAN, .metric = "acc", .maximize = 1,
                            .interval_steps = 1, .min_trials = 3};
    char err[256];
    ck_assert_int_eq(hp_pruner_new(&c, &p, err, sizeof err), 0);
    complete_curve(p, 0, (const double[]){0.5, 0.7}, 2);
    complete_curve(p, 1, (const double[]){0.6, 0.7}, 2);
    complete_curve(p, 2, (const double[]){0.4, 0.7}, 2);
    ck_assert(rep(p, 3, 1, 0.2).stop); /* median 0.5; gains 0.2 0.1 0.3 */
    ck_assert_int_eq(hp_pruner_projection(p, 3, &v, &n), 1);
    ck_assert_double_eq_tol(v, 0.4, 1e-12);
    hp_pruner_free(p);
}
END_TEST

START_TEST(test_config_errors)
{
    bad((hp_pruner_config_t){.rule = HP_PRUNE_ASHA, .min_resource = 9, .max_resource = 3, .eta = 3},
        "pruning.min_resource (9) must be below pruning.max_resource (3)");
    bad((hp_pruner_config_t){.rule = HP_PRUNE_ASHA, .min_resource = 1, .max_resource = 9, .eta = 1},
        "pruning.reduction_factor: 1 must be at least 2");
    bad((hp_pruner_config_t){.rule = HP_PRUNE_HYPERBAND, .min_resource = 0, .max_resource = 9,
                             .eta = 3},
        "pruning.min_resource: 0 must be at least 1");
    bad((hp_pruner_config_t){.rule = HP_PRUNE_MEDIAN, .interval_steps = 0},
        "pruning.interval_steps");
    bad((hp_pruner_config_t){.rule = HP_PRUNE_MEDIAN, .warmup_steps = -1, .interval_steps = 1},
        "pruning.warmup_steps");
    bad((hp_pruner_config_t){.rule = HP_PRUNE_ASHA, .min_resource = 1, .max_resource = 9,
                             .eta = 3, .min_rank_corr = 1.5},
        "pruning.min_rank_correlation: 1.5 must be in (0, 1]");
    bad((hp_pruner_config_t){.rule = HP_PRUNE_ASHA, .min_resource = 1, .max_resource = 9,
                             .eta = 3, .min_rank_corr = NAN},
        "pruning.min_rank_correlation: nan");
    bad((hp_pruner_config_t){.rule = HP_PRUNE_MEDIAN, .interval_steps = 1, .min_rank_corr = 0.5},
        "pruning.min_rank_correlation: only applies to rules asha and hyperband");
    ck_assert_int_eq(hp_prune_rule_parse("asha"), HP_PRUNE_ASHA);
    ck_assert_int_eq(hp_prune_rule_parse("hyperband"), HP_PRUNE_HYPERBAND);
    ck_assert_int_eq(hp_prune_rule_parse("median"), HP_PRUNE_MEDIAN);
    ck_assert_int_eq(hp_prune_rule_parse("none"), HP_PRUNE_NONE);
    ck_assert_int_eq(hp_prune_rule_parse("ashaa"), -1);
    /* rule none judges nothing */
    hp_pruner_config_t c = {.rule = HP_PRUNE_NONE};
    hp_pruner_t *p;
    char err[256];
    ck_assert_int_eq(hp_pruner_new(&c, &p, err, sizeof err), 0);
    hp_prune_verdict_t v = rep(p, 0, 1, NAN);
    ck_assert(!v.stop && !v.judged);
    hp_pruner_free(p);
}
END_TEST

static Suite *pruner_suite(void)
{
    Suite *s = suite_create("pruner");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, test_asha_rungs_and_order);
    tcase_add_test(tc, test_asha_jump_repeat_forget);
    tcase_add_test(tc, test_asha_maximize);
    tcase_add_test(tc, test_hyperband_brackets);
    tcase_add_test(tc, test_median_rule);
    tcase_add_test(tc, test_median_warmup_and_interval);
    tcase_add_test(tc, test_median_not_at_max_resource);
    tcase_add_test(tc, test_asha_rank_check);
    tcase_add_test(tc, test_projection);
    tcase_add_test(tc, test_config_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_check_run(pruner_suite());
}
