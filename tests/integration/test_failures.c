/* Fail loudly: a study in which no trial can succeed ends 'failed' with
 * the first trial's error as its reason (search.max_failures), and the
 * CLI says so — with the real hpsearchd, hpworker and hpsearch as child
 * processes. Trials know their number (HPSEARCH_TRIAL_NUMBER) and fail or
 * succeed by it; with parallelism 1 they end in that order, so every count
 * below is exact. Nothing waits a fixed time: waits poll for a state, with
 * a generous guard. */
#include "harness.h"
#include "hp_it.h"

#include "hp_check.h"
#include "hp_spawn.h"

#include <check.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GUARD_S 300 /* for waits on a condition, never a timing */

/* ---- the database, read-only as any reader ------------------------------ */

/* The first cell of sql: an integer (-1 when there is none), or its text
 * (NULL when there is none; free it). */
static int db_cell(const char *db, const char *sql, long *num, char **text)
{
    sqlite3 *d;
    int found = 0;
    if (sqlite3_open_v2(db, &d, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(d, 10000);
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(d, sql, -1, &s, NULL) == SQLITE_OK) {
            if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
                found = 1;
                if (num)
                    *num = (long)sqlite3_column_int64(s, 0);
                if (text)
                    *text = strdup((const char *)sqlite3_column_text(s, 0));
            }
            sqlite3_finalize(s);
        }
    }
    sqlite3_close(d);
    return found;
}

static char *db_text(const char *db, const char *sql)
{
    char *t = NULL;
    db_cell(db, sql, NULL, &t);
    ck_assert_msg(t != NULL, "%s: no value", sql);
    return t;
}

/* Trials of study name in state (a count). */
static long count(const char *db, const char *name, const char *state)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM trials t JOIN studies s ON s.id = t.study_id "
             "WHERE s.name = '%s' AND t.state = '%s'",
             name, state);
    return db_int(db, sql);
}

static char *reason(const char *db, const char *name)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT coalesce(reason, '') FROM studies WHERE name = '%s'", name);
    return db_text(db, sql);
}

/* ---- the CLI -------------------------------------------------------------- */

static void start_workers(hp_harness_t *h, int n)
{
    for (int i = 0; i < n; i++)
        hp_harness_spawn(h, "hpworker", "--connect", h->listen, "--slots", "1",
                         "--heartbeat-ms", "200", NULL);
}

static void submit(hp_harness_t *h, const char *spec)
{
    const char *path = hp_harness_write_file(h, "study.yaml", spec);
    res_t r = CLI(h, "submit", path);
    ck_assert_msg(r.status == 0, "submit: exit %d: %s%s", r.status, r.out, r.err);
    res_free(&r);
}

static void wait_state(hp_harness_t *h, const char *study, const char *want)
{
    const char *st = hp_harness_wait_study(h, study, GUARD_S);
    ck_assert_msg(st != NULL, "study %s did not end", study);
    ck_assert_str_eq(st, want);
}

/* A study of max_trials trials, one at a time, each running script (sh
 * -c, with $HPSEARCH_TRIAL_NUMBER) with no retries; extra goes under
 * search. */
static const char *study_spec(const char *name, int trials, const char *extra,
                              const char *script)
{
    static char spec[2048];
    snprintf(spec, sizeof spec,
             "name: %s\nobjective: {metric: loss}\n"
             "search: {algorithm: random, max_trials: %d, parallelism: 1, seed: 1%s}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial:\n  command: [sh, -c, '%s']\n  retries: 0\n",
             name, trials, extra, script);
    return spec;
}

/* ---- tests ---------------------------------------------------------------- */

/* The everyday mistake: the program's path is wrong. hpsearch run stops
 * after the first three trials (with their retries) and says why. */
START_TEST(test_missing_program_fails_run)
{
    static hp_harness_t h; /* static: a failed check leaves this frame before the teardown */
    hp_harness_init(&h, "fail-missing");
    char prog[700], spec[2048];
    snprintf(prog, sizeof prog, "%s/train.py", h.dir);
    snprintf(spec, sizeof spec,
             "name: missing\nobjective: {metric: loss}\n"
             "search: {algorithm: random, max_trials: 20, parallelism: 2, seed: 1}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial:\n  command: ['%s', '{x}']\n",
             prog);
    const char *path = hp_harness_write_file(&h, "missing.yaml", spec);
    res_t r = CLI(&h, "run", "--workers", "2", "--db", h.db, path);
    ck_assert_msg(r.status == 1, "hpsearch run: exit %d\n%s%s", r.status, r.out, r.err);
    char want[900];
    snprintf(want, sizeof want, "cannot run '%s': No such file or directory", prog);
    HAS(r.out, "study 'missing' failed");
    HAS(r.out, "why: 3 trials failed in a row and none has completed, the first (trial ");
    HAS(r.out, want);
    res_free(&r);

    char *state = db_text(h.db, "SELECT state FROM studies WHERE name = 'missing'");
    ck_assert_str_eq(state, "failed");
    free(state);
    char *why = reason(h.db, "missing");
    HAS(why, want);
    free(why);
    /* it gave up: far fewer trials than asked for, each tried 3 times
     * (retries: 2, the default) before it counted */
    ck_assert_int_eq(count(h.db, "missing", "completed"), 0);
    long failed = count(h.db, "missing", "failed");
    ck_assert_msg(failed >= 3 && failed <= 4, "%ld failed trials", failed);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE state = 'failed' AND "
                                  "attempts = 3"),
                     failed);
    /* the one that may have been running when it gave up was not cancelled */
    ck_assert_int_eq(count(h.db, "missing", "cancelled"), 0);

    /* the same file again: the study is still failed, and run says why */
    r = CLI(&h, "run", "--workers", "1", "--db", h.db, path);
    ck_assert_msg(r.status == 1, "hpsearch run again: exit %d\n%s%s", r.status, r.out, r.err);
    HAS(r.out, want);
    res_free(&r);
    /* status (from the file) shows it too */
    r = CLI(&h, "status", "--db", h.db, "missing");
    ck_assert_int_eq(r.status, 0);
    HAS(r.out, "study 'missing' failed: 3 trials failed in a row");
    HAS(r.out, want);
    res_free(&r);
    hp_harness_fini(&h);
}
END_TEST

/* A program that runs but never prints the objective: the reason says
 * what it did report; `wait` exits 1 and prints it; status shows it. */
START_TEST(test_no_objective_fails_wait)
{
    static hp_harness_t h;
    hp_harness_init(&h, "fail-noobj");
    hp_harness_start_daemon(&h, NULL);
    start_workers(&h, 1);
    submit(&h, study_spec("noobj", 10, "", "echo accuracy=0.5 step=1"));
    wait_state(&h, "noobj", "failed");
    ck_assert_int_eq(count(h.db, "noobj", "failed"), 3);
    ck_assert_int_eq(count(h.db, "noobj", "pending") + count(h.db, "noobj", "running"), 0);
    char *why = reason(h.db, "noobj");
    HAS(why, "3 trials failed in a row and none has completed, the first (trial 0) with: ");
    HAS(why, "never reported the objective 'loss'");
    HAS(why, "accuracy");
    res_t r = CLI(&h, "wait", "noobj");
    ck_assert_msg(r.status == 1, "wait: exit %d", r.status);
    HAS(r.err, "hpsearch wait: study 'noobj' failed: 3/10 trials done");
    HAS(r.err, "hpsearch wait: why: ");
    HAS(r.err, why);
    res_free(&r);
    r = CLI(&h, "wait", "--quiet", "noobj");
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.err, "");
    res_free(&r);
    r = CLI(&h, "status", "noobj");
    ck_assert_int_eq(r.status, 0);
    HAS(r.out, "study 'noobj' failed: ");
    HAS(r.out, why);
    res_free(&r);
    r = CLI(&h, "status", "--format", "json", "noobj");
    ck_assert_int_eq(r.status, 0);
    HAS(r.out, "\"reason\":\"3 trials failed in a row");
    res_free(&r);
    free(why);
    hp_harness_fini(&h);
}
END_TEST

/* Failures between successes are no reason to give up, even with a
 * max_failures of 2: no two fail in a row. The first trial fails, so the
 * rule for a study without a success is met on the way. */
START_TEST(test_alternating_never_fails)
{
    static hp_harness_t h;
    hp_harness_init(&h, "fail-alt");
    hp_harness_start_daemon(&h, NULL);
    start_workers(&h, 1);
    submit(&h, study_spec("alt", 10, ", max_failures: 2",
                          "if [ $((HPSEARCH_TRIAL_NUMBER % 2)) -eq 1 ]; then echo loss=1; "
                          "else echo broken >&2; exit 3; fi"));
    wait_state(&h, "alt", "completed");
    ck_assert_int_eq(count(h.db, "alt", "completed"), 5);
    ck_assert_int_eq(count(h.db, "alt", "failed"), 5);
    res_t r = CLI(&h, "wait", "alt");
    ck_assert_msg(r.status == 0, "wait: exit %d: %s", r.status, r.err);
    HAS(r.out, "study 'alt' completed: 10/10 trials done (5 completed, 5 failed");
    res_free(&r);
    hp_harness_fini(&h);
}
END_TEST

/* max_failures: 0 never gives up: every trial runs. */
START_TEST(test_zero_runs_every_trial)
{
    static hp_harness_t h;
    hp_harness_init(&h, "fail-zero");
    hp_harness_start_daemon(&h, NULL);
    start_workers(&h, 1);
    submit(&h, study_spec("zero", 8, ", max_failures: 0", "exit 3"));
    wait_state(&h, "zero", "completed");
    ck_assert_int_eq(count(h.db, "zero", "failed"), 8);
    hp_harness_fini(&h);
}
END_TEST

/* After a success, max_failures trials in a row: the study fails at the
 * second failure, with the first one's error, and runs nothing more. */
START_TEST(test_two_in_a_row_after_success)
{
    static hp_harness_t h;
    hp_harness_init(&h, "fail-two");
    hp_harness_start_daemon(&h, NULL);
    start_workers(&h, 1);
    submit(&h, study_spec("two", 20, ", max_failures: 2",
                          "n=$HPSEARCH_TRIAL_NUMBER; if [ $n -lt 3 ]; then echo loss=$n; "
                          "else echo \"out of memory in trial $n\" >&2; exit 3; fi"));
    wait_state(&h, "two", "failed");
    ck_assert_int_eq(count(h.db, "two", "completed"), 3);
    ck_assert_int_eq(count(h.db, "two", "failed"), 2);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials"), 5);
    char *why = reason(h.db, "two");
    HAS(why, "2 trials failed in a row, the first (trial 3) with: ");
    HAS(why, "out of memory in trial 3");
    free(why);
    /* the daemon goes on: another study on it still runs */
    submit(&h, study_spec("after", 2, "", "echo loss=0.5"));
    wait_state(&h, "after", "completed");
    ck_assert_int_eq(count(h.db, "two", "failed"), 2);
    hp_harness_fini(&h);
}
END_TEST

/* A trial still running when the study gives up is stopped, and goes back
 * to pending (its attempt 'interrupted'), not cancelled: a resume runs it.
 * Trial 0 waits for a gate that never opens; the others fail at once. */
START_TEST(test_running_trial_back_to_pending)
{
    static hp_harness_t h;
    hp_harness_init(&h, "fail-running");
    hp_harness_start_daemon(&h, NULL);
    start_workers(&h, 2);
    char script[1024];
    snprintf(script, sizeof script,
             "if [ $HPSEARCH_TRIAL_NUMBER -eq 0 ]; then while [ ! -e %s/gate ]; do sleep 0.05; "
             "done; echo loss=1; else exit 3; fi",
             h.dir);
    char spec[2048];
    snprintf(spec, sizeof spec,
             "name: run\nobjective: {metric: loss}\n"
             "search: {algorithm: random, max_trials: 20, parallelism: 2, seed: 1}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial:\n  command: [sh, -c, '%s']\n  retries: 0\n",
             script);
    submit(&h, spec);
    wait_state(&h, "run", "failed");
    /* the stopped trial's attempt ends interrupted; the trial is pending */
    wait_db(h.db, "SELECT count(*) FROM trial_attempts WHERE outcome = 'interrupted'", 1);
    ck_assert_int_eq(db_int(h.db, "SELECT state = 'pending' FROM trials WHERE number = 0"), 1);
    ck_assert_int_eq(count(h.db, "run", "failed"), 3);
    ck_assert_int_eq(count(h.db, "run", "cancelled"), 0);
    ck_assert_int_eq(count(h.db, "run", "running"), 0);
    hp_harness_fini(&h);
}
END_TEST

static Suite *failures_suite(void)
{
    Suite *s = suite_create("failures");
    TCase *tc = tcase_create("fail_loudly");
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    tcase_add_test(tc, test_missing_program_fails_run);
    tcase_add_test(tc, test_no_objective_fails_wait);
    tcase_add_test(tc, test_alternating_never_fails);
    tcase_add_test(tc, test_zero_runs_every_trial);
    tcase_add_test(tc, test_two_in_a_row_after_success);
    tcase_add_test(tc, test_running_trial_back_to_pending);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return hp_check_run(failures_suite()); }
