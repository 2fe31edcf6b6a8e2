/* Growing and steering a study, with real processes: hpsearchd and hpworker
 * children on private sockets and the hpsearch CLI. A finished study
 * resubmitted with a larger max_trials runs the new trials (numbers
 * continue, each once); max_trials below what exists and any other change
 * are refused naming the numbers and keys; a running study takes a new
 * parallelism; a grown study keeps its values over a restart; a cancelled
 * study resumes and completes every trial; `hpsearch run` grows a study
 * too. Trials that must still be running when the test acts wait for a
 * gate file the test creates: nothing waits a fixed time, every wait polls
 * for a condition. */
#include "harness.h"
#include "hp_it.h"

#include "hp_check.h"
#include "hp_spawn.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FAILS(r)                                                                              \
    ck_assert_msg((r).status != 0 && (r).status != 0x7f00, "exit %d: %s%s", (r).status,      \
                  (r).out, (r).err)
static void start_workers(hp_harness_t *h, int n)
{
    for (int i = 0; i < n; i++)
        hp_harness_spawn(h, "hpworker", "--connect", h->listen, "--slots", "1",
                         "--heartbeat-ms", "200", NULL);
}

static void nap(void)
{
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
}

/* polls sql (one integer) through the daemon until it gives want */
static void wait_int(hp_harness_t *h, const char *sql, long want)
{
    long got = -1;
    for (int i = 0; i < 300 * 20 && got != want; i++) {
        got = hp_harness_query_int(h, sql);
        if (got != want)
            nap();
    }
    ck_assert_msg(got == want, "%s: %ld, expected %ld", sql, got, want);
}

static void wait_done(hp_harness_t *h, const char *study, const char *want)
{
    const char *st = hp_harness_wait_study(h, study, 300);
    ck_assert_msg(st != NULL, "study %s did not end", study);
    ck_assert_str_eq(st, want);
}

/* every trial number 0..n-1 exactly once, all completed */
static void check_trials(hp_harness_t *h, long n)
{
    char sql[256];
    ck_assert_int_eq(hp_harness_query_int(h, "SELECT count(*) FROM trials"), n);
    ck_assert_int_eq(hp_harness_query_int(h, "SELECT count(DISTINCT number) FROM trials"), n);
    ck_assert_int_eq(hp_harness_query_int(h, "SELECT min(number) FROM trials"), 0);
    ck_assert_int_eq(hp_harness_query_int(h, "SELECT max(number) FROM trials"), n - 1);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM trials WHERE state = 'completed'");
    ck_assert_int_eq(hp_harness_query_int(h, sql), n);
}

static const char *write_spec(hp_harness_t *h, const char *file, const char *text)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s", hp_harness_write_file(h, file, text));
    return path;
}

static void branin_spec(char *buf, size_t len, const char *name, int max_trials,
                        int parallelism, double high)
{
    snprintf(buf, len,
             "name: %s\nobjective: {metric: value}\n"
             "search: {algorithm: random, max_trials: %d, parallelism: %d, seed: 3}\n"
             "space:\n  x1: {type: float, low: -5, high: %g}\n"
             "  x2: {type: float, low: 0, high: 15}\n"
             "trial: {function: branin}\n",
             name, max_trials, parallelism, high);
}

/* A program trial: numbers from `from` on wait for DIR/gate before they
 * report, so they are running when the test acts. */
static void gated_spec(hp_harness_t *h, char *buf, size_t len, const char *name,
                       int max_trials, int parallelism, int from)
{
    snprintf(buf, len,
             "name: %s\nobjective: {metric: value}\n"
             "search: {algorithm: random, max_trials: %d, parallelism: %d, seed: 5}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial:\n  command: [sh, -c, 'if [ \"$HPSEARCH_TRIAL_NUMBER\" -ge %d ]; then "
             "while [ ! -e %s/gate ]; do sleep 0.05; done; fi; echo value={x}']\n"
             "  retries: 0\n",
             name, max_trials, parallelism, from, h->dir);
}

static void open_gate(hp_harness_t *h) { hp_harness_write_file(h, "gate", "open\n"); }

/* ---- a finished study grows; what it cannot take is refused ---------------- */

START_TEST(test_finished_study_grows)
{
    hp_harness_t h;
    hp_harness_init(&h, "grow-finished");
    hp_harness_start_daemon(&h, NULL);
    start_workers(&h, 2);
    char spec[1024];
    branin_spec(spec, sizeof spec, "b", 4, 2, 10);
    res_t r = CLI(&h, "submit", write_spec(&h, "b4.yaml", spec));
    OK(r);
    res_free(&r);
    wait_done(&h, "b", "completed");
    check_trials(&h, 4);

    branin_spec(spec, sizeof spec, "b", 7, 2, 10);
    r = CLI(&h, "submit", write_spec(&h, "b7.yaml", spec));
    OK(r);
    HAS(r.out, "max_trials 4 -> 7");
    HAS(r.out, "runs again for 3 more trials");
    res_free(&r);
    wait_done(&h, "b", "completed");
    check_trials(&h, 7);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT max_trials FROM studies WHERE name = 'b'"),
                     7);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM studies WHERE name = 'b' "
                                              "AND spec LIKE '%max_trials: 7%' AND "
                                              "json_extract(spec_json, '$.search.max_trials') = 7"),
                     1);

    /* the same spec again: nothing changes */
    r = CLI(&h, "submit", "--format", "json", write_spec(&h, "b7b.yaml", spec));
    OK(r);
    HAS(r.out, "\"existed\":true,\"notes\":[]");
    res_free(&r);

    /* below the trials it has: both numbers named */
    branin_spec(spec, sizeof spec, "b", 3, 2, 10);
    r = CLI(&h, "submit", write_spec(&h, "b3.yaml", spec));
    FAILS(r);
    HAS(r.err, "has 7 trials already; max_trials cannot go below that (got 3)");
    res_free(&r);

    /* another space: refused, naming the key and both values; max_trials
     * changing with it does not make it pass */
    branin_spec(spec, sizeof spec, "b", 9, 2, 12);
    r = CLI(&h, "submit", write_spec(&h, "b12.yaml", spec));
    FAILS(r);
    HAS(r.err, "differs in space.x1.high (10 vs 12)");
    ck_assert_msg(strstr(r.err, "search.max_trials (") == NULL, "%s", r.err);
    res_free(&r);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT max_trials FROM studies"), 7);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials"), 7);

    /* a completed study is not resumed: it grows */
    r = CLI(&h, "resume", "b");
    FAILS(r);
    HAS(r.err, "raise max_trials to continue it");
    res_free(&r);
    hp_harness_fini(&h);
}
END_TEST

/* ---- grid search grows up to its grid ------------------------------------- */

START_TEST(test_grid_grows_to_its_grid)
{
    hp_harness_t h;
    hp_harness_init(&h, "grow-grid");
    hp_harness_start_daemon(&h, NULL);
    start_workers(&h, 2);
    static const char fmt[] = "name: gr\nobjective: {metric: value}\n"
                              "search: {algorithm: grid, max_trials: %d}\n"
                              "space:\n  x1: {type: float, low: -5, high: 10, grid_points: 3}\n"
                              "  x2: {type: float, low: 0, high: 15, grid_points: 2}\n"
                              "trial: {function: branin}\n";
    char spec[1024];
    snprintf(spec, sizeof spec, fmt, 4);
    res_t r = CLI(&h, "submit", write_spec(&h, "gr4.yaml", spec));
    OK(r);
    res_free(&r);
    wait_done(&h, "gr", "completed");
    check_trials(&h, 4);
    /* 3 x 2 points: a max_trials of 10 runs the 2 left, and says so */
    snprintf(spec, sizeof spec, fmt, 10);
    r = CLI(&h, "submit", write_spec(&h, "gr10.yaml", spec));
    OK(r);
    HAS(r.out, "max_trials 4 -> 10");
    HAS(r.out, "the grid has 6 points, so the study runs 6 trials");
    HAS(r.out, "runs again for 2 more trials");
    res_free(&r);
    wait_done(&h, "gr", "completed");
    check_trials(&h, 6);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(DISTINCT params) FROM trials"), 6);
    hp_harness_fini(&h);
}
END_TEST

/* ---- a running study takes a new parallelism and keeps it over a restart -- */

START_TEST(test_running_study_steers_and_survives_restart)
{
    hp_harness_t h;
    hp_harness_init(&h, "grow-running");
    hp_harness_start_daemon(&h, NULL);
    start_workers(&h, 3);
    char spec[1024];
    /* every trial waits for the gate: parallelism alone decides how many run */
    gated_spec(&h, spec, sizeof spec, "g", 4, 1, 0);
    res_t r = CLI(&h, "submit", write_spec(&h, "g1.yaml", spec));
    OK(r);
    res_free(&r);
    wait_int(&h, "SELECT count(*) FROM trials WHERE state = 'running'", 1);

    /* a running study is not resumed */
    r = CLI(&h, "resume", "g");
    FAILS(r);
    HAS(r.err, "study 'g' is running; only a cancelled or failed study can be resumed");
    res_free(&r);

    gated_spec(&h, spec, sizeof spec, "g", 6, 3, 0);
    r = CLI(&h, "submit", write_spec(&h, "g3.yaml", spec));
    OK(r);
    HAS(r.out, "max_trials 4 -> 6");
    HAS(r.out, "parallelism 1 -> 3");
    res_free(&r);
    wait_int(&h, "SELECT count(*) FROM trials WHERE state = 'running'", 3);

    /* a restart reads the grown values from the database */
    hp_harness_kill(&h, h.daemon, SIGTERM);
    hp_harness_start_daemon(&h, NULL);
    open_gate(&h);
    wait_done(&h, "g", "completed");
    check_trials(&h, 6);
    hp_harness_fini(&h);
}
END_TEST

/* ---- cancel, then resume: every trial completes, once ---------------------- */

START_TEST(test_cancelled_study_resumes)
{
    hp_harness_t h;
    hp_harness_init(&h, "grow-resume");
    hp_harness_start_daemon(&h, NULL);
    start_workers(&h, 2);
    char spec[1024];
    /* trials 0 and 1 complete; 2 and 3 wait at the gate when cancelled */
    gated_spec(&h, spec, sizeof spec, "rs", 6, 2, 2);
    res_t r = CLI(&h, "submit", write_spec(&h, "rs.yaml", spec));
    OK(r);
    res_free(&r);
    wait_int(&h, "SELECT count(*) FROM trials WHERE state = 'completed'", 2);
    wait_int(&h, "SELECT count(*) FROM trials WHERE state = 'running'", 2);

    r = CLI(&h, "resume", "rss");
    FAILS(r);
    HAS(r.err, "no study named 'rss' (did you mean 'rs'?)");
    res_free(&r);

    r = CLI(&h, "cancel", "rs");
    OK(r);
    res_free(&r);
    wait_done(&h, "rs", "cancelled");
    /* the running ones stop (their workers are told on the next heartbeat) */
    wait_int(&h, "SELECT count(*) FROM trials WHERE state = 'running'", 0);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials WHERE state = "
                                              "'cancelled'"),
                     2);

    open_gate(&h);
    r = CLI(&h, "resume", "rs");
    OK(r);
    HAS(r.out, "study 'rs' resumed: it was cancelled; 2 trials are pending, 2 of them cancelled "
               "before");
    res_free(&r);
    wait_done(&h, "rs", "completed");
    check_trials(&h, 6);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM studies WHERE reason IS "
                                              "NULL AND ended IS NOT NULL"),
                     1);
    ck_assert_int_eq(
        hp_harness_query_int(&h, "SELECT count(*) FROM events WHERE kind = 'study_resumed'"), 1);
    hp_harness_fini(&h);
}
END_TEST

/* A study cancelled while trials ran, and its coordinator killed before
 * any worker said how they ended: after the restart those trials are
 * still `running` in the file, with no attempt anyone watches. Resuming
 * sends them back to pending (their attempts interrupted), so the study
 * completes every trial instead of waiting on them forever. */
START_TEST(test_resume_after_restart_requeues_stale_trials)
{
    hp_harness_t h;
    hp_harness_init(&h, "grow-stale");
    hp_harness_start_daemon(&h, "--lease-ms", "600000", NULL);
    pid_t w[2];
    for (int i = 0; i < 2; i++)
        w[i] = hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "1",
                                "--heartbeat-ms", "200", NULL);
    char spec[1024];
    gated_spec(&h, spec, sizeof spec, "st", 4, 2, 2); /* 0, 1 complete; 2, 3 wait */
    res_t r = CLI(&h, "submit", write_spec(&h, "st.yaml", spec));
    OK(r);
    res_free(&r);
    wait_int(&h, "SELECT count(*) FROM trials WHERE state = 'completed'", 2);
    wait_int(&h, "SELECT count(*) FROM trials WHERE state = 'running'", 2);
    for (int i = 0; i < 2; i++)
        hp_harness_kill(&h, w[i], SIGKILL); /* nobody will report 2 and 3 */
    r = CLI(&h, "cancel", "st");
    OK(r);
    res_free(&r);
    hp_harness_kill(&h, h.daemon, SIGKILL);
    h.daemon = 0;
    ck_assert_int_eq(hp_harness_db_int(h.db, "SELECT count(*) FROM trials WHERE state = "
                                             "'running'"),
                     2);
    hp_harness_start_daemon(&h, NULL);
    r = CLI(&h, "resume", "st");
    OK(r);
    HAS(r.out, "2 whose attempt no coordinator saw end");
    res_free(&r);
    open_gate(&h);
    start_workers(&h, 2);
    wait_done(&h, "st", "completed");
    check_trials(&h, 4);
    ck_assert_int_eq(hp_harness_db_int(h.db, "SELECT count(*) FROM trial_attempts WHERE outcome = "
                                             "'interrupted'"),
                     2);
    hp_harness_fini(&h);
}
END_TEST

/* ---- hpsearch run of the grown spec continues the study -------------------- */

static res_t run_v(hp_harness_t *h, const char *spec_path, const char *db)
{
    const char *args[] = {"run", spec_path, "--workers", "2", "--db", db, NULL};
    return cli_v(h, args);
}

START_TEST(test_run_again_grows)
{
    hp_harness_t h;
    hp_harness_init(&h, "grow-run");
    char db[700], spec[1024];
    snprintf(db, sizeof db, "%s/run.db", h.dir);
    branin_spec(spec, sizeof spec, "rb", 3, 2, 10);
    res_t r = run_v(&h, write_spec(&h, "rb3.yaml", spec), db);
    OK(r);
    res_free(&r);
    branin_spec(spec, sizeof spec, "rb", 5, 2, 10);
    r = run_v(&h, write_spec(&h, "rb5.yaml", spec), db);
    OK(r);
    HAS(r.err, "max_trials 3 -> 5");
    res_free(&r);
    /* read the file: nothing runs on it any more */
    r = CLI(&h, "sql", "--db", db, "SELECT 'n=' || count(DISTINCT number) || '/' || max(number) "
                                   "FROM trials WHERE state = 'completed'");
    OK(r);
    HAS(r.out, "n=5/4");
    res_free(&r);
    r = CLI(&h, "status", "--db", db, "rb");
    OK(r);
    HAS(r.out, "completed");
    res_free(&r);
    hp_harness_fini(&h);
}
END_TEST

/* A study run with `hpsearch run --db` that failed is resumed on the file
 * (resume --db), which run's note names, and run again completes it; with
 * a coordinator holding the file, resume --db refuses and says how. */
START_TEST(test_run_user_resumes_with_db)
{
    hp_harness_t h;
    hp_harness_init(&h, "grow-resume-db");
    char db[700], spec[1400], prog[700];
    snprintf(db, sizeof db, "%s/run.db", h.dir);
    snprintf(prog, sizeof prog, "%s/prog.sh", h.dir);
    snprintf(spec, sizeof spec,
             "name: rd\nobjective: {metric: loss}\n"
             "search: {algorithm: random, max_trials: 4, seed: 1}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial: {command: [sh, %s, '{x}'], retries: 0}\n",
             prog);
    const char *path = write_spec(&h, "rd.yaml", spec);
    char spec_path[1100];
    snprintf(spec_path, sizeof spec_path, "%s", path);
    /* no program yet: the study fails; run again says how to resume it */
    res_t r = run_v(&h, spec_path, db);
    ck_assert_msg(r.status == 1, "exit %d: %s%s", r.status, r.out, r.err);
    res_free(&r);
    r = run_v(&h, spec_path, db);
    ck_assert_int_eq(r.status, 1);
    char want[900];
    snprintf(want, sizeof want, "study 'rd' is failed; `hpsearch resume --db %s rd` continues it",
             db);
    HAS(r.err, want);
    res_free(&r);
    hp_harness_write_file(&h, "prog.sh", "#!/bin/sh\necho \"loss=$1\"\n");
    r = CLI(&h, "resume", "--db", db, "rd");
    OK(r);
    HAS(r.out, "study 'rd' resumed: it was failed; ");
    HAS(r.out, "run its spec again to continue it");
    res_free(&r);
    r = run_v(&h, spec_path, db);
    OK(r);
    HAS(r.out, "study 'rd' completed");
    res_free(&r);
    ck_assert_int_eq(hp_harness_db_int(db, "SELECT count(*) FROM trials WHERE state = "
                                           "'completed'"),
                     1); /* the 4th; the 3 that failed stay failed */
    ck_assert_int_eq(hp_harness_db_int(db, "SELECT count(*) FROM events WHERE kind = "
                                           "'study_resumed'"),
                     1);
    /* a completed study is not resumed, on the file either */
    r = CLI(&h, "resume", "--db", db, "rd");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "is completed; raise max_trials to continue it");
    res_free(&r);
    /* with a coordinator on the file: refused, saying how */
    hp_harness_start_daemon(&h, NULL);
    r = CLI(&h, "resume", "--db", h.db, "rd");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "is in use by hpsearchd (pid ");
    HAS(r.err, "resume the study through it: hpsearch resume rd (without --db)");
    res_free(&r);
    hp_harness_fini(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("integration_grow");
    TCase *tc = tcase_create("grow");
    tcase_set_timeout(tc, 900);
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    tcase_add_test(tc, test_finished_study_grows);
    tcase_add_test(tc, test_grid_grows_to_its_grid);
    tcase_add_test(tc, test_running_study_steers_and_survives_restart);
    tcase_add_test(tc, test_cancelled_study_resumes);
    tcase_add_test(tc, test_resume_after_restart_requeues_stale_trials);
    tcase_add_test(tc, test_run_again_grows);
    tcase_add_test(tc, test_run_user_resumes_with_db);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
