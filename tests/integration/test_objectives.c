/*
 * Several objectives through the real service: hpsearchd and three
 * hpworker processes run a two-objective bayes study of an external
 * program printing both metrics. Every completed trial stores both values
 * (trials.objectives), parallel workers never get the same point, and
 * `hpsearch best` lists exactly the Pareto front that docs/sql.md's query
 * finds — the query read from the doc itself. A trial that leaves out an
 * objective fails, saying which.
 */
#include "hp_it.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ZDT1 in two variables: val_error = x, latency_ms = g (1 - sqrt(x / g)),
 * g = 1 + 9 y: the front is y = 0, latency_ms = 1 - sqrt(val_error) */
static const char program[] =
    "awk -v x=\"$HPSEARCH_PARAM_X\" -v y=\"$HPSEARCH_PARAM_Y\" 'BEGIN { g = 1 + 9 * y; "
    "printf \"val_error=%.17g latency_ms=%.17g\\n\", x, g * (1 - sqrt(x / g)) }'\n";

/* docs/sql.md's Pareto-front query for study `name` */
static char *doc_query(const char *name)
{
    const char *src = getenv("HP_SOURCE_DIR");
    ck_assert_msg(src != NULL, "HP_SOURCE_DIR is not set (ctest sets it)");
    char path[600];
    snprintf(path, sizeof path, "%s/docs/sql.md", src);
    char *doc = hp_check_slurp(path, 0);
    const char *m = strstr(doc, "<!-- pareto-front-query -->\n```sql\n");
    ck_assert_msg(m != NULL, "docs/sql.md has no pareto-front-query block");
    m = strchr(strchr(m, '\n') + 1, '\n') + 1;
    const char *end = strstr(m, "```");
    ck_assert_ptr_nonnull(end);
    char *q = calloc(1, (size_t)(end - m) + strlen(name) + 1);
    const char *at = strstr(m, "'my-study'");
    ck_assert_msg(at && at < end, "the doc's query names no 'my-study'");
    sprintf(q, "%.*s'%s'%.*s", (int)(at - m), m, name, (int)(end - at - 10), at + 10);
    free(doc);
    /* a subquery here: without its final ';' */
    size_t n = strlen(q);
    while (n && (q[n - 1] == '\n' || q[n - 1] == ';'))
        q[--n] = '\0';
    return q;
}

START_TEST(test_two_objectives_through_the_daemon)
{
    static hp_harness_t h; /* static: a failed check leaves this frame before the teardown */
    hp_harness_init(&h, "objectives");
    char prog[800];
    snprintf(prog, sizeof prog, "%s", hp_harness_write_file(&h, "zdt.sh", program));
    hp_harness_start_daemon(&h, NULL);
    for (int i = 0; i < 3; i++)
        hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "1", NULL);
    char spec[2048];
    snprintf(spec, sizeof spec,
             "name: mo\n"
             "objective:\n"
             "  - {metric: val_error, goal: minimize}\n"
             "  - {metric: latency_ms, goal: minimize}\n"
             "search: {algorithm: bayes, max_trials: 24, parallelism: 3, n_initial: 6, seed: 5}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n  y: {type: float, low: 0, high: 1}\n"
             "trial: {command: [sh, '%s'], retries: 0}\n",
             prog);
    hp_harness_submit(&h, spec);
    const char *st = hp_harness_wait_study(&h, "mo", 300);
    ck_assert_ptr_nonnull(st);
    ck_assert_str_eq(st, "completed");

    /* every trial completed with both values; value is the first */
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE state = 'completed' AND "
                                  "json_type(objectives, '$.val_error') IN ('real', 'integer') AND "
                                  "json_type(objectives, '$.latency_ms') IN ('real', 'integer') AND "
                                  "value = json_extract(objectives, '$.val_error')"),
                     24);
    /* the values are the program's */
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE abs(json_extract(objectives, "
                                  "'$.val_error') - json_extract(params, '$.x')) > 1e-12"),
                     0);
    /* three workers at once, never the same point twice */
    ck_assert_int_eq(db_int(h.db, "SELECT count(DISTINCT params) FROM trials"), 24);
    ck_assert_int_ge(db_int(h.db, "SELECT max(n) FROM (SELECT count(DISTINCT a.worker_id) AS n "
                                  "FROM trial_attempts a JOIN trials t ON t.id = a.trial_id)"),
                     2);

    /* the doc's front query and `hpsearch best` agree */
    char *q = doc_query("mo");
    char sql[4096];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM (%s)", q);
    long front = db_int(h.db, sql);
    ck_assert_int_ge(front, 3);
    res_t r = CLI(&h, "best", "--format", "csv", "mo");
    OK(r);
    HAS(r.out, "number,val_error,latency_ms,params\n");
    long lines = 0;
    for (const char *p = r.out; *p; p++)
        lines += *p == '\n';
    ck_assert_int_eq(lines, front + 1);
    snprintf(sql, sizeof sql, "SELECT group_concat(number, ' ') FROM (%s)", q);
    char nums[1024];
    hp_harness_db_text(h.db, sql, nums, sizeof nums);
    for (char *tok = strtok(nums, " "); tok; tok = strtok(NULL, " ")) {
        char want[32];
        snprintf(want, sizeof want, "\n%s,", tok);
        HAS(r.out, want);
    }
    res_free(&r);
    r = CLI(&h, "best", "mo");
    OK(r);
    char head[128];
    snprintf(head, sizeof head, "Pareto front: %ld of 24 completed feasible trials", front);
    HAS(r.out, head);
    HAS(r.out, "minimize val_error, minimize latency_ms");
    res_free(&r);
    r = CLI(&h, "best", "--format", "json", "mo");
    OK(r);
    HAS(r.out, "\"objectives\":[{\"metric\":\"val_error\",\"goal\":\"minimize\"},"
               "{\"metric\":\"latency_ms\",\"goal\":\"minimize\"}],\"front\":[{\"number\":");
    res_free(&r);

    /* trials and report show every value */
    r = CLI(&h, "trials", "--format", "csv", "mo");
    OK(r);
    HAS(r.out, ",val_error,latency_ms");
    res_free(&r);
    r = CLI(&h, "report", "mo");
    OK(r);
    snprintf(head, sizeof head, "objectives (Pareto front: %ld trials)", front);
    HAS(r.out, head);
    HAS(r.out, "  latency_ms ");
    /* headed by every objective, the front in the doc query's order (by
     * the first objective), as `best` lists it */
    HAS(r.out, "study   mo (id 1, minimize val_error, minimize latency_ms)\n");
    snprintf(sql, sizeof sql, "SELECT group_concat(number, ' ') FROM (%s)", q);
    hp_harness_db_text(h.db, sql, nums, sizeof nums);
    const char *at = r.out;
    for (char *tok = strtok(nums, " "); tok; tok = strtok(NULL, " ")) {
        char want[32];
        snprintf(want, sizeof want, "  front trial %s:", tok);
        const char *next = strstr(at, want);
        ck_assert_msg(next != NULL, "'%s' missing or out of order in: %s", want, r.out);
        at = next + strlen(want);
    }
    res_free(&r);
    r = CLI(&h, "report", "--format", "json", "mo");
    OK(r);
    HAS(r.out, "\"pareto_front\":[{\"number\":");
    HAS(r.out, "\"objectives\":[{\"metric\":\"val_error\",\"goal\":\"minimize\",\"value\":");
    res_free(&r);
    free(q);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_missing_objective_fails_the_trial)
{
    static hp_harness_t h;
    hp_harness_init(&h, "objectives-missing");
    char spec[2048];
    snprintf(spec, sizeof spec,
             "name: half\n"
             "objective: [{metric: loss}, {metric: acc, goal: maximize}]\n"
             "search: {algorithm: random, max_trials: 2, max_failures: 0}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial: {command: [sh, -c, 'echo loss=0.5'], retries: 0}\n");
    const char *path = hp_harness_write_file(&h, "half.yaml", spec);
    RUN(&h, "run", "run", "--workers", "1", "--db", h.db, path);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE state = 'failed' AND error = "
                                  "'it never reported the objective ''acc'' (objective[1])'"),
                     2);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE objectives IS NOT NULL"), 0);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_front_is_feasible_trials_only)
{
    /* every trial is on the unconstrained front (val_error = x, latency_ms
     * = 1 - x); the bound latency_ms <= 0.6 leaves x >= 0.4 */
    static hp_harness_t h;
    hp_harness_init(&h, "objectives-feasible");
    char prog[800];
    snprintf(prog, sizeof prog, "%s",
             hp_harness_write_file(&h, "line.sh",
                                   "awk -v x=\"$HPSEARCH_PARAM_X\" 'BEGIN { printf "
                                   "\"val_error=%g latency_ms=%g\\n\", x, 1 - x }'\n"));
    char spec[2048];
    snprintf(spec, sizeof spec,
             "name: cmo\n"
             "objective: [{metric: val_error}, {metric: latency_ms}]\n"
             "search: {algorithm: grid}\n"
             "space:\n  x: {type: float, values: [0, 0.25, 0.5, 0.75, 1]}\n"
             "trial: {command: [sh, '%s'], retries: 0}\n"
             "constraints: [{metric: latency_ms, max: 0.6}]\n",
             prog);
    const char *path = hp_harness_write_file(&h, "cmo.yaml", spec);
    ck_assert_int_eq(RUN(&h, "run", "run", "--workers", "1", "--db", h.db, path), 0);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE state = 'completed' AND "
                                  "objectives IS NOT NULL"),
                     5);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE infeasible IS NOT NULL"), 2);
    ck_assert_int_eq(RUN(&h, "best", "best", "--format", "csv", "--db", h.db, "cmo"), 0);
    char *out = cli_output(&h, "best", "out");
    ck_assert_str_eq(out, "number,val_error,latency_ms,params\n"
                          "2,0.5,0.5,\"{\"\"x\"\":0.5}\"\n"
                          "3,0.75,0.25,\"{\"\"x\"\":0.75}\"\n"
                          "4,1,0,\"{\"\"x\"\":1}\"\n");
    free(out);
    hp_harness_fini(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("integration_objectives");
    TCase *tc = tcase_create("objectives");
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    tcase_add_test(tc, test_two_objectives_through_the_daemon);
    tcase_add_test(tc, test_missing_objective_fails_the_trial);
    tcase_add_test(tc, test_front_is_feasible_trials_only);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
