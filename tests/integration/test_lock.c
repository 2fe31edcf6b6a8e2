/* One coordinator per database, and a coordinator that stops cleanly when
 * its database changes under it — with the real hpsearchd, hpworker and
 * hpsearch run as child processes. Trials wait on a gate file the test
 * creates, so every step waits for a condition (a row in the database,
 * a process's exit), never for a time. The database is read here
 * read-only, as users do, and written with the sqlite3 library only where
 * a test plays the user who changes it under the daemon. */
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GUARD_S 120 /* generous guards for waits on conditions, not timings */

static char spec[2048];

/* A study whose trials wait for DIR/gate, then report loss = x. */
static const char *gated_spec(hp_harness_t *h, const char *name, int trials)
{
    snprintf(spec, sizeof spec,
             "name: %s\nobjective: {metric: loss}\n"
             "search: {algorithm: random, max_trials: %d, parallelism: 1, seed: 3}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial:\n  command: [sh, -c, 'while [ ! -e %s/gate ]; do sleep 0.05; done; "
             "echo loss={x}']\n  timeout: 300\n",
             name, trials, h->dir);
    return spec;
}

static void open_gate(hp_harness_t *h) { hp_harness_write_file(h, "gate", "open\n"); }

/* What the user does with the sqlite3 shell: writes sql to db. */
static void user_writes(const char *db, const char *sql)
{
    sqlite3 *d;
    ck_assert_int_eq(sqlite3_open_v2(db, &d, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(d, 10000);
    char *e = NULL;
    ck_assert_msg(sqlite3_exec(d, sql, NULL, NULL, &e) == SQLITE_OK, "%s: %s", sql, e);
    sqlite3_close(d);
}

static void integrity_ok(const char *db)
{
    sqlite3 *d;
    ck_assert_int_eq(sqlite3_open_v2(db, &d, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s;
    ck_assert_int_eq(sqlite3_prepare_v2(d, "PRAGMA integrity_check", -1, &s, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(s, 0), "ok");
    sqlite3_finalize(s);
    sqlite3_close(d);
}

/* Whether text is a start time as the lock's holder is described —
 * "HH:MM:SS", or "YYYY-MM-DD HH:MM:SS" when it was not today — then end. */
static int is_time_of_start(const char *text, const char *end)
{
    size_t n = strlen(text), e = strlen(end);
    if (n < e || strcmp(text + n - e, end) != 0)
        return 0;
    n -= e;
    const char *pat = n == 8 ? "dd:dd:dd" : n == 19 ? "dddd-dd-dd dd:dd:dd" : NULL;
    for (size_t i = 0; pat && i < n; i++)
        if (pat[i] == 'd' ? (text[i] < '0' || text[i] > '9') : text[i] != pat[i])
            return 0;
    return pat != NULL;
}

/* A second hpsearchd on the same file, on its own sockets. */
static pid_t second_daemon(hp_harness_t *h)
{
    char l2[700], c2[700];
    snprintf(l2, sizeof l2, "ipc://%s/w2.sock", h->dir);
    snprintf(c2, sizeof c2, "ipc://%s/c2.sock", h->dir);
    return hp_harness_spawn(h, "hpsearchd", "--db", h->db, "--listen", l2, "--control", c2,
                            NULL);
}

START_TEST(test_second_daemon_refused_first_unaffected)
{
    static hp_harness_t h; /* static: a failed check leaves this frame before the teardown */
    hp_harness_init(&h, "lock-two");
    pid_t first = hp_harness_start_daemon(&h, NULL);
    pid_t second = second_daemon(&h);
    int st = wait_exit(&h, second);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "second hpsearchd: status 0x%x", st);
    char *log = child_log(&h, "hpsearchd", second);
    char want[800];
    snprintf(want, sizeof want, "database %s is in use by hpsearchd (pid %d, since ", h.db,
             (int)first);
    HAS(log, want);
    /* it refused before opening anything: no socket of its own */
    struct stat sb;
    char c2[700];
    snprintf(c2, sizeof c2, "%s/c2.sock", h.dir);
    ck_assert_int_ne(stat(c2, &sb), 0);
    free(log);

    /* the first serves a study to completion */
    hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "1", NULL);
    hp_harness_submit(&h, "name: served\nobjective: {metric: value}\n"
                          "search: {algorithm: random, max_trials: 6, seed: 1}\n"
                          "space:\n  x1: {type: float, low: -5, high: 10}\n"
                          "  x2: {type: float, low: 0, high: 15}\n"
                          "trial: {function: branin}\n");
    const char *state = hp_harness_wait_study(&h, "served", GUARD_S);
    ck_assert_ptr_nonnull(state);
    ck_assert_str_eq(state, "completed");
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials WHERE state = "
                                              "'completed'"),
                     6);
    ck_assert_int_eq(waitpid(first, NULL, WNOHANG), 0);
    log = child_log(&h, "hpsearchd", first);
    ck_assert_ptr_null(strstr(log, "assertion"));
    free(log);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_run_refused_while_a_daemon_holds_the_database)
{
    static hp_harness_t h; /* static: a failed check leaves this frame before the teardown */
    hp_harness_init(&h, "lock-run");
    pid_t d = hp_harness_start_daemon(&h, NULL);
    const char *sp = hp_harness_write_file(&h, "s.yaml", gated_spec(&h, "gated", 2));
    char specpath[1024];
    snprintf(specpath, sizeof specpath, "%s", sp);
    int code = RUN(&h, "run", "run", "--db", h.db, specpath);
    ck_assert_int_eq(code, 1);
    /* one line, before any child started: no coordinator log to show */
    char *err = cli_output(&h, "run", "err");
    char want[800];
    snprintf(want, sizeof want, "hpsearch run: database %s is in use by hpsearchd (pid %d, since ",
             h.db, (int)d);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
    ck_assert_msg(is_time_of_start(err + strlen(want), ")\n"), "%s", err);
    free(err);
    /* the daemon's database holds no study of the run's */
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM studies"), 0);
    ck_assert_int_eq(waitpid(d, NULL, WNOHANG), 0);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_daemon_refused_while_run_holds_readers_work)
{
    static hp_harness_t h; /* static: a failed check leaves this frame before the teardown */
    hp_harness_init(&h, "lock-held");
    const char *sp = hp_harness_write_file(&h, "s.yaml", gated_spec(&h, "gated", 2));
    char specpath[1024];
    snprintf(specpath, sizeof specpath, "%s", sp);
    pid_t run = spawn_cli(&h, "run", (const char *[]){"run", "--db", h.db, specpath, NULL});
    wait_db(h.db, "SELECT count(*) FROM trials WHERE state = 'running'", 1);

    /* hpsearchd names the run, the process the user started */
    pid_t d = second_daemon(&h);
    int st = wait_exit(&h, d);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "hpsearchd: status 0x%x", st);
    char *log = child_log(&h, "hpsearchd", d);
    char want[800];
    snprintf(want, sizeof want, "database %s is in use by hpsearch run (pid %d, since ", h.db,
             (int)run);
    HAS(log, want);
    free(log);
    /* so does a second run */
    ck_assert_int_eq(RUN(&h, "run2", "run", "--db", h.db, specpath), 1);
    char *err = cli_output(&h, "run2", "err");
    snprintf(want, sizeof want, "hpsearch run: database %s is in use by hpsearch run (pid %d, ",
             h.db, (int)run);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
    free(err);

    /* readers keep working while it is held */
    ck_assert_int_eq(RUN(&h, "sql", "sql", "--db", h.db, "--format", "csv",
                         "SELECT number, state FROM trials"),
                     0);
    char *out = cli_output(&h, "sql", "out");
    ck_assert_str_eq(out, "number,state\n0,running\n");
    free(out);
    ck_assert_int_eq(RUN(&h, "trials", "trials", "--db", h.db, "--format", "csv", "gated"), 0);
    out = cli_output(&h, "trials", "out");
    HAS(out, "\n0,running,");
    free(out);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM studies WHERE name = 'gated'"), 1);

    /* and the run, unaffected, finishes its study */
    open_gate(&h);
    ck_assert_int_eq(hp_spawn_code(wait_exit(&h, run)), 0);
    out = cli_output(&h, "run", "out");
    HAS(out, "study 'gated' completed: 2/2 trials done");
    free(out);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_sigkill_leaves_no_lock_behind)
{
    static hp_harness_t h; /* static: a failed check leaves this frame before the teardown */
    hp_harness_init(&h, "lock-kill");
    pid_t d = hp_harness_start_daemon(&h, NULL);
    hp_harness_kill(&h, d, SIGKILL);
    /* the file stays, naming the dead holder; the lock went with it */
    char lock[700];
    snprintf(lock, sizeof lock, "%s.lock", h.db);
    char *text = hp_check_slurp(lock, 0);
    char want[64];
    snprintf(want, sizeof want, "pid=%d\n", (int)d);
    HAS(text, want);
    free(text);
    pid_t d2 = hp_harness_start_daemon(&h, NULL);
    ck_assert_int_ne(d2, d);
    ck_assert_int_eq(waitpid(d2, NULL, WNOHANG), 0);
    /* and a run after it stops */
    hp_harness_kill(&h, d2, SIGTERM);
    const char *sp = hp_harness_write_file(&h, "s.yaml", gated_spec(&h, "after", 1));
    char specpath[1024];
    snprintf(specpath, sizeof specpath, "%s", sp);
    open_gate(&h);
    ck_assert_int_eq(RUN(&h, "run", "run", "--db", h.db, specpath), 0);
    hp_harness_fini(&h);
}
END_TEST

/* Starts a daemon, a worker and a gated study, and waits until its first
 * trial runs. */
static void start_gated(hp_harness_t *h, const char *name, int trials, const char *lease_ms)
{
    hp_harness_start_daemon(h, "--lease-ms", lease_ms, "--heartbeat-ms", "100", NULL);
    hp_harness_spawn(h, "hpworker", "--connect", h->listen, "--slots", "1", NULL);
    hp_harness_submit(h, gated_spec(h, name, trials));
    wait_db(h->db, "SELECT count(*) FROM trials WHERE state = 'running'", 1);
}

/* hpsearchd d, whose wait status is st, stopped by itself (exit 1, not a
 * signal and not an assertion): its log (free it). */
static char *stopped_log(hp_harness_t *h, pid_t d, int st)
{
    ck_assert_msg(WIFEXITED(st), "hpsearchd was killed by signal %d", WTERMSIG(st));
    ck_assert_int_eq(WEXITSTATUS(st), 1);
    return child_log(h, "hpsearchd", d);
}

START_TEST(test_renumbered_trials_stop_the_daemon_cleanly)
{
    static hp_harness_t h; /* static: a failed check leaves this frame before the teardown */
    hp_harness_init(&h, "lock-renumber");
    start_gated(&h, "renum", 4, "10000");
    pid_t d = h.daemon;
    /* the user renumbers the study's trials under the daemon */
    user_writes(h.db, "UPDATE trials SET number = number + 7");
    open_gate(&h);
    /* trial 0 (now 7) completes, and the next one the daemon adds is not
     * the number it counted */
    int st = wait_exit(&h, d);
    char *log = stopped_log(&h, d, st);
    char want[900];
    snprintf(want, sizeof want,
             "database %s changed under the coordinator: study 'renum' has trial number 8 "
             "where 1 was expected; stopping",
             h.db);
    HAS(log, want);
    ck_assert_ptr_null(strstr(log, "assertion"));
    HAS(log, "INFO stopped");
    free(log);
    /* what was committed is there */
    integrity_ok(h.db);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE number = 7 AND state = "
                                  "'completed' AND value IS NOT NULL"),
                     1);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trial_attempts WHERE outcome = "
                                  "'completed'"),
                     1);
    /* a restart cannot continue a study numbered like that: it ends the
     * study failed with why, so `wait` and `run` do not wait for nobody */
    hp_harness_start_daemon(&h, NULL);
    const char *state = hp_harness_wait_study(&h, "renum", GUARD_S);
    ck_assert_ptr_nonnull(state);
    ck_assert_str_eq(state, "failed");
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM studies WHERE name = 'renum' AND "
                                  "reason LIKE 'cannot resume: %'"),
                     1);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_deleted_running_trial_stops_the_daemon_cleanly)
{
    static hp_harness_t h; /* static: a failed check leaves this frame before the teardown */
    hp_harness_init(&h, "lock-delete");
    start_gated(&h, "gone", 3, "10000");
    pid_t d = h.daemon;
    /* the running trial's rows vanish (the sqlite3 shell does not enforce
     * foreign keys unless asked) */
    user_writes(h.db, "DELETE FROM trial_attempts; DELETE FROM trials WHERE number = 0");
    open_gate(&h);
    int st = wait_exit(&h, d);
    char *log = stopped_log(&h, d, st);
    char want[900];
    snprintf(want, sizeof want, "database %s changed under the coordinator: study 'gone' trial 0: ",
             h.db);
    HAS(log, want);
    HAS(log, "; stopping");
    ck_assert_ptr_null(strstr(log, "assertion"));
    free(log);
    integrity_ok(h.db);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM studies WHERE name = 'gone' AND state = "
                                  "'running'"),
                     1);
    hp_harness_fini(&h);
}
END_TEST

/* A write that cannot begin — here another connection holds the write
 * lock past the busy timeout — stops the daemon with the reason: it
 * neither aborts nor retries the lost lease forever. A restart recovers
 * from the last commit and the study finishes. */
START_TEST(test_write_failure_stops_cleanly_and_a_restart_recovers)
{
    static hp_harness_t h; /* static: a failed check leaves this frame before the teardown */
    hp_harness_init(&h, "lock-busy");
    start_gated(&h, "busy", 2, "600");
    pid_t d = h.daemon;
    /* the worker dies: its lease expires, and ending it needs a write */
    long wpid = db_int(h.db, "SELECT json_extract(w.capabilities, '$.pid') FROM trials t "
                             "JOIN trial_attempts a ON a.trial_id = t.id AND a.attempt = "
                             "t.attempts JOIN workers w ON w.id = a.worker_id "
                             "WHERE t.state = 'running'");
    ck_assert_int_gt(wpid, 0);
    /* the lock first, so the lease cannot be ended (and committed) before */
    sqlite3 *u;
    ck_assert_int_eq(sqlite3_open_v2(h.db, &u, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(u, 30000);
    ck_assert_int_eq(sqlite3_exec(u, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    hp_harness_kill(&h, (pid_t)wpid, SIGKILL);
    int st = wait_exit(&h, d);
    sqlite3_exec(u, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(u);
    char *log = stopped_log(&h, d, st);
    char want[900];
    snprintf(want, sizeof want, "cannot write to the database %s: cannot begin a transaction: ",
             h.db);
    HAS(log, want);
    HAS(log, "; stopping (a restart recovers from the last commit)");
    free(log);
    integrity_ok(h.db);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE state = 'running'"), 1);

    /* nothing committed was lost: a restart re-queues the trial and the
     * study completes */
    hp_harness_start_daemon(&h, "--lease-ms", "600", "--heartbeat-ms", "100", NULL);
    hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "1", NULL);
    open_gate(&h);
    const char *state = hp_harness_wait_study(&h, "busy", GUARD_S);
    ck_assert_ptr_nonnull(state);
    ck_assert_str_eq(state, "completed");
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials WHERE state = "
                                              "'completed'"),
                     2);
    hp_harness_fini(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("integration_lock");
    TCase *tc = tcase_create("lock");
    tcase_add_test(tc, test_second_daemon_refused_first_unaffected);
    tcase_add_test(tc, test_run_refused_while_a_daemon_holds_the_database);
    tcase_add_test(tc, test_daemon_refused_while_run_holds_readers_work);
    tcase_add_test(tc, test_sigkill_leaves_no_lock_behind);
    tcase_add_test(tc, test_renumbered_trials_stop_the_daemon_cleanly);
    tcase_add_test(tc, test_deleted_running_trial_stops_the_daemon_cleanly);
    tcase_add_test(tc, test_write_failure_stops_cleanly_and_a_restart_recovers);
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
