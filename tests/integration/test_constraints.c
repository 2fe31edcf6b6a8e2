/*
 * Constraints through the real service: trials whose final metric breaks
 * a bound are stored as infeasible (trials.infeasible says why) and are
 * never the best — not for `hpsearch best`, `report`, nor run's summary.
 */
#include "hp_it.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* loss = x, mem_mb = 1000 + 2000 (1 - x): the lower the loss, the more
 * memory; the bound mem_mb <= 2000 leaves x >= 0.5 */
static const char program[] =
    "awk -v x=\"$HPSEARCH_PARAM_X\" 'BEGIN { printf \"loss=%g mem_mb=%g\\n\", x, "
    "1000 + 2000 * (1 - x) }'\n";

START_TEST(test_infeasible_trials_are_never_best)
{
    static hp_harness_t h; /* static: a failed check leaves this frame before the teardown */
    hp_harness_init(&h, "constraints");
    char prog[800]; /* write_file's path is overwritten by the next call */
    snprintf(prog, sizeof prog, "%s", hp_harness_write_file(&h, "prog.sh", program));
    char spec[2048];
    snprintf(spec, sizeof spec,
             "name: mem\nobjective: {metric: loss}\n"
             "search: {algorithm: grid}\n"
             "space:\n  x: {type: float, values: [0, 0.25, 0.5, 0.75, 1]}\n"
             "trial: {command: [sh, '%s'], retries: 0}\n"
             "constraints: [{metric: mem_mb, max: 2000}]\n",
             prog);
    const char *path = hp_harness_write_file(&h, "mem.yaml", spec);
    ck_assert_int_eq(RUN(&h, "run", "run", "--workers", "2", "--db", h.db, path), 0);
    char *out = cli_output(&h, "run", "out");
    HAS(out, "best trial 2: loss = 0.5");
    free(out);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE state = 'completed'"), 5);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE infeasible IS NOT NULL"), 2);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE infeasible IS NOT NULL AND "
                                  "json_extract(params, '$.x') < 0.5"),
                     2);
    char why[256];
    hp_harness_db_text(h.db, "SELECT infeasible FROM trials WHERE number = 0", why, sizeof why);
    ck_assert_str_eq(why, "mem_mb = 3000 is above max 2000");

    ck_assert_int_eq(RUN(&h, "best", "best", "--db", h.db, "mem"), 0);
    out = cli_output(&h, "best", "out");
    HAS(out, "trial   2\n");
    HAS(out, "{\"x\":0.5}");
    free(out);
    ck_assert_int_eq(RUN(&h, "report", "report", "--db", h.db, "mem"), 0);
    out = cli_output(&h, "report", "out");
    HAS(out, "trial   2 (best; completed");
    free(out);
    ck_assert_int_eq(RUN(&h, "trials", "trials", "--db", h.db, "mem"), 0);
    out = cli_output(&h, "trials", "out");
    HAS(out, "infeasible: mem_mb = 3000 is above max 2000");
    free(out);

    /* all infeasible: no best, and best says why */
    snprintf(spec, sizeof spec,
             "name: tight\nobjective: {metric: loss}\n"
             "search: {algorithm: grid}\n"
             "space:\n  x: {type: float, values: [0, 0.25]}\n"
             "trial: {command: [sh, '%s'], retries: 0}\n"
             "constraints: [{metric: mem_mb, max: 2000}, {metric: loss, min: 0}]\n",
             prog);
    path = hp_harness_write_file(&h, "tight.yaml", spec);
    ck_assert_int_eq(RUN(&h, "run2", "run", "--workers", "1", "--db", h.db, path), 0);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials t JOIN studies s ON s.id = "
                                  "t.study_id WHERE s.name = 'tight' AND t.infeasible IS NOT NULL"),
                     2);
    ck_assert_int_eq(RUN(&h, "best2", "best", "--db", h.db, "tight"), 1);
    char *err = cli_output(&h, "best2", "err");
    HAS(err, "has no completed trial yet (it is completed); 2 completed trials break its "
             "constraints");
    free(err);
    hp_harness_fini(&h);
}
END_TEST

/* loss = (x - 0.8)^2, mem_mb = 1000 + 2000 x: feasible for x <= 0.5, where
 * the constrained minimum is x = 0.5 (loss 0.09) */
static const char program2[] =
    "awk -v x=\"$HPSEARCH_PARAM_X\" 'BEGIN { printf \"loss=%.17g mem_mb=%.17g\\n\", "
    "(x - 0.8) * (x - 0.8), 1000 + 2000 * x }'\n";

static const char *bayes_spec(const char *prog, int trials)
{
    static char spec[2048];
    snprintf(spec, sizeof spec,
             "name: cbayes\nobjective: {metric: loss}\n"
             "search: {algorithm: bayes, max_trials: %d, n_initial: 5, seed: 3}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial: {command: [sh, '%s'], retries: 0}\n"
             "constraints: [{metric: mem_mb, max: 2000}]\n",
             trials, prog);
    return spec;
}

START_TEST(test_bayes_constrained_through_run_and_restart)
{
    /* bayes learns mem_mb from the trials' final metrics and homes in on
     * the constrained minimum; grown by a second run (a new coordinator,
     * which reads the constraint values back from the store: without them
     * it would see no infeasible region), it goes on from there */
    static hp_harness_t h;
    hp_harness_init(&h, "cons-bayes");
    char prog[800];
    snprintf(prog, sizeof prog, "%s", hp_harness_write_file(&h, "prog2.sh", program2));
    char path[800];
    snprintf(path, sizeof path, "%s", hp_harness_write_file(&h, "b.yaml", bayes_spec(prog, 16)));
    ck_assert_int_eq(RUN(&h, "run", "run", "--workers", "1", "--db", h.db, path), 0);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE state = 'completed'"), 16);
    /* after the 5 initial points the model works along the boundary
     * (mem_mb 2000, where the constrained minimum is), probing just
     * past it, but spends few trials deep in the infeasible region */
    static const char deep[] =
        "SELECT count(*) FROM trials t JOIN metrics m ON m.trial_id = t.id AND m.step = -1 "
        "AND m.name = 'mem_mb' WHERE t.number >= %d AND m.value > 2100";
    char sql[512];
    snprintf(sql, sizeof sql, deep, 5);
    long infeasible = db_int(h.db, sql);
    ck_assert_msg(infeasible <= 3, "%ld of 11 model suggestions deep in the infeasible region",
                  infeasible);
    char best[64];
    hp_harness_db_text(h.db,
                       "SELECT json_extract(params, '$.x') FROM trials WHERE state = 'completed' "
                       "AND infeasible IS NULL ORDER BY value LIMIT 1",
                       best, sizeof best);
    double x = strtod(best, NULL);
    ck_assert_msg(x > 0.45 && x <= 0.5, "best feasible x = %g (constrained minimum at 0.5)", x);

    snprintf(path, sizeof path, "%s", hp_harness_write_file(&h, "b.yaml", bayes_spec(prog, 22)));
    ck_assert_int_eq(RUN(&h, "run2", "run", "--workers", "1", "--db", h.db, path), 0);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE state = 'completed'"), 22);
    snprintf(sql, sizeof sql, deep, 16);
    infeasible = db_int(h.db, sql);
    ck_assert_msg(infeasible <= 2, "%ld of the 6 trials after the restart deep in the "
                  "infeasible region", infeasible);
    hp_harness_db_text(h.db,
                       "SELECT json_extract(params, '$.x') FROM trials WHERE state = 'completed' "
                       "AND infeasible IS NULL ORDER BY value LIMIT 1",
                       best, sizeof best);
    ck_assert_msg(strtod(best, NULL) > 0.49 && strtod(best, NULL) <= 0.5,
                  "best feasible x = %s after 22", best);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_warm_start_knows_which_priors_were_infeasible)
{
    /* A, without constraints, runs a grid over x that reports loss and
     * mem_mb; its best (x = 0.8, loss 0) breaks B's bound mem_mb <= 2000.
     * B, constrained, starts warm from A with more priors than n_initial,
     * so the model picks its very first trial: knowing which of A's trials
     * broke the bound (their final mem_mb from the store) it refines at
     * the constrained minimum x = 0.5, not at A's infeasible best */
    static hp_harness_t h;
    hp_harness_init(&h, "cons-warm");
    char prog[800];
    snprintf(prog, sizeof prog, "%s", hp_harness_write_file(&h, "prog2.sh", program2));
    char spec[2048];
    snprintf(spec, sizeof spec,
             "name: free\nobjective: {metric: loss}\n"
             "search: {algorithm: grid}\n"
             "space:\n  x: {type: float, values: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, "
             "0.9, 1]}\n"
             "trial: {command: [sh, '%s'], retries: 0}\n",
             prog);
    char path[800];
    snprintf(path, sizeof path, "%s", hp_harness_write_file(&h, "free.yaml", spec));
    ck_assert_int_eq(RUN(&h, "run", "run", "--workers", "1", "--db", h.db, path), 0);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE state = 'completed'"), 11);
    snprintf(spec, sizeof spec,
             "name: bound\nobjective: {metric: loss}\n"
             "search: {algorithm: bayes, max_trials: 5, n_initial: 5, seed: 3, "
             "warm_start: [free]}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial: {command: [sh, '%s'], retries: 0}\n"
             "constraints: [{metric: mem_mb, max: 2000}]\n",
             prog);
    snprintf(path, sizeof path, "%s", hp_harness_write_file(&h, "bound.yaml", spec));
    int rc = RUN(&h, "run2", "run", "--workers", "1", "--db", h.db, path);
    char *err = cli_output(&h, "run2", "err");
    ck_assert_msg(rc == 0, "run of the warm-started study: %s", err);
    free(err);
    static const char sql[] =
        "SELECT count(*) FROM trials t JOIN studies s ON s.id = t.study_id WHERE "
        "s.name = 'bound' AND t.state = 'completed' AND %s";
    char q[512];
    snprintf(q, sizeof q, sql, "1");
    ck_assert_int_eq(db_int(h.db, q), 5);
    /* every suggestion near the boundary (A's feasible best is x = 0.5,
     * its infeasible best 0.8) */
    snprintf(q, sizeof q, sql, "json_extract(t.params, '$.x') > 0.65");
    ck_assert_int_eq(db_int(h.db, q), 0);
    snprintf(q, sizeof q, sql, "abs(json_extract(t.params, '$.x') - 0.5) < 0.1");
    ck_assert_int_ge(db_int(h.db, q), 4);
    hp_harness_fini(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("integration_constraints");
    TCase *tc = tcase_create("constraints");
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    tcase_add_test(tc, test_infeasible_trials_are_never_best);
    tcase_add_test(tc, test_bayes_constrained_through_run_and_restart);
    tcase_add_test(tc, test_warm_start_knows_which_priors_were_infeasible);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
