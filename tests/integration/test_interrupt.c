/* Interrupted is not cancelled: a trial that was running when its worker,
 * `hpsearch run` or the coordinator was stopped goes back to pending and
 * runs again, spending none of its retries; only `hpsearch cancel`
 * cancels. The real hpsearchd, hpworker and hpsearch run as child
 * processes. Trials wait on a gate file the test creates, so every step
 * waits for a condition (a row in the database, a process's exit), never
 * for a time. The database is read here read-only, as users do. */
#include "harness.h"
#include "hp_it.h"

#include "hp_check.h"
#include "hp_spawn.h"

#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GUARD_S 180 /* generous guards for waits on conditions, not timings */

static char spec[2048];

/* A study whose trials wait for DIR/gate, then fail once if DIR/failonce
 * exists (removing it), else report loss = x. */
static const char *gated_spec(hp_harness_t *h, const char *name, int trials, int parallelism,
                              int retries)
{
    snprintf(spec, sizeof spec,
             "name: %s\nobjective: {metric: loss}\n"
             "search: {algorithm: random, max_trials: %d, parallelism: %d, seed: 5}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial:\n  command: [sh, -c, ': > %s/started-$HPSEARCH_TRIAL_NUMBER; "
             "while [ ! -e %s/gate ]; do sleep 0.05; done; "
             "if rm %s/failonce 2>/dev/null; then echo boom >&2; exit 3; fi; "
             "echo loss={x}']\n  timeout: 300\n  retries: %d\n",
             name, trials, parallelism, h->dir, h->dir, h->dir, retries);
    return spec;
}

/* Waits until n trials have started their program (DIR/started-*): a
 * `running` row alone is committed before the TRIAL reply leaves, so a
 * stop in between would find the worker without the trial. */
static void wait_started(hp_harness_t *h, int n)
{
    int seen = 0;
    for (int i = 0; i < 120 * 20 && seen < n; i++) {
        seen = 0;
        DIR *d = opendir(h->dir);
        ck_assert_ptr_nonnull(d);
        for (struct dirent *e; (e = readdir(d));)
            seen += strncmp(e->d_name, "started-", 8) == 0;
        closedir(d);
        if (seen < n)
            nap_ms(50);
    }
    ck_assert_msg(seen >= n, "%d of %d trials started their program after 120 s", seen, n);
}

static void open_gate(hp_harness_t *h) { hp_harness_write_file(h, "gate", "open\n"); }

#define DB_EQ(h, sql, want) ck_assert_int_eq(db_int((h)->db, (sql)), (want))

/* Every trial of the study completed, each by exactly one attempt, and
 * none was failed or cancelled on the way. */
static void each_completed_once(hp_harness_t *h, int trials)
{
    DB_EQ(h, "SELECT count(*) FROM trials WHERE state = 'completed'", trials);
    DB_EQ(h, "SELECT count(*) FROM trials", trials);
    DB_EQ(h,
          "SELECT count(*) FROM trials t WHERE (SELECT count(*) FROM trial_attempts a WHERE "
          "a.trial_id = t.id AND a.outcome = 'completed') = 1",
          trials);
    DB_EQ(h, "SELECT count(*) FROM trial_attempts WHERE outcome = 'completed'", trials);
    DB_EQ(h, "SELECT count(*) FROM trial_attempts WHERE outcome IN ('cancelled', 'failed')", 0);
}

/* 1. Ctrl-C of `hpsearch run` while two trials run, then the same command
 * again: the interrupted trials ran again, every trial completed once. */
START_TEST(test_run_sigint_then_run_again)
{
    static hp_harness_t h; /* static: a failed check leaves this frame before the teardown */
    hp_harness_init(&h, "intr-run");
    char specpath[1024];
    snprintf(specpath, sizeof specpath, "%s",
             hp_harness_write_file(&h, "s.yaml", gated_spec(&h, "ctrlc", 4, 2, 0)));
    pid_t run = spawn_cli(&h, "run1", (const char *[]){"run", "--workers", "2", "--db", h.db,
                                                        specpath, NULL});
    wait_db(h.db, "SELECT count(*) FROM trials WHERE state = 'running'", 2);
    wait_started(&h, 2);
    kill(run, SIGINT);
    ck_assert_int_eq(hp_spawn_code(wait_exit(&h, run)), 130);
    char *err = cli_output(&h, "run1", "err");
    HAS(err, "hpsearch run: Interrupt; stopping the workers and the coordinator");
    HAS(err, "\ninterrupted: 2 running trials go back to pending; run the same command again "
             "to continue\n");
    free(err);
    /* pending, not cancelled, and nothing counted as a failure */
    DB_EQ(&h, "SELECT count(*) FROM trials WHERE state = 'pending'", 2);
    DB_EQ(&h, "SELECT count(*) FROM trials WHERE state <> 'pending'", 0);
    DB_EQ(&h, "SELECT count(*) FROM trial_attempts WHERE outcome = 'interrupted' AND "
              "error = 'interrupted: the worker is shutting down'",
          2);
    DB_EQ(&h, "SELECT count(*) FROM trial_attempts WHERE outcome <> 'interrupted'", 0);
    DB_EQ(&h, "SELECT count(*) FROM studies WHERE name = 'ctrlc' AND state = 'running'", 1);

    /* the same command again resumes it, and the interrupted trials run */
    open_gate(&h);
    ck_assert_int_eq(RUN(&h, "run2", "run", "--workers", "2", "--db", h.db, specpath), 0);
    char *out = cli_output(&h, "run2", "out");
    HAS(out, "study 'ctrlc' completed: 4/4 trials done (4 completed, 0 failed, 0 pruned, 0 "
             "cancelled)");
    free(out);
    err = cli_output(&h, "run2", "err");
    HAS(err, "resuming study 'ctrlc'");
    free(err);
    each_completed_once(&h, 4);
    /* the two interrupted ones ran again: a second attempt each */
    DB_EQ(&h, "SELECT count(*) FROM trial_attempts WHERE outcome = 'interrupted'", 2);
    DB_EQ(&h, "SELECT count(*) FROM trials t JOIN trial_attempts a ON a.trial_id = t.id AND "
              "a.attempt = 1 AND a.outcome = 'interrupted' WHERE t.attempts = 2",
          2);
    hp_harness_fini(&h);
}
END_TEST

/* 2. SIGTERM of a worker while it runs a trial: the attempt is
 * interrupted, another worker runs the trial, and the interruption spent
 * no retry — with retries: 1, the trial survives a real failure after it
 * (counting the interruption, that failure would have been the last). */
START_TEST(test_worker_sigterm_interrupts_without_spending_retries)
{
    static hp_harness_t h; /* static: a failed check leaves this frame before the teardown */
    hp_harness_init(&h, "intr-worker");
    hp_harness_start_daemon(&h, "--heartbeat-ms", "100", NULL);
    pid_t w1 = hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "1", NULL);
    hp_harness_submit(&h, gated_spec(&h, "stopped", 1, 1, 1));
    wait_db(h.db, "SELECT count(*) FROM trials WHERE state = 'running'", 1);
    wait_started(&h, 1);
    long first = db_int(h.db, "SELECT worker_id FROM trial_attempts WHERE attempt = 1");

    int st = hp_harness_kill(&h, w1, SIGTERM);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "hpworker: status 0x%x", st);
    char *log = child_log(&h, "hpworker", w1);
    HAS(log, "SIGTERM: stopping (running trials are interrupted");
    HAS(log, "trial 0 interrupted: it goes back to pending and runs again");
    free(log);
    /* the worker said so before it exited: recorded at once, no lease expiry */
    DB_EQ(&h, "SELECT count(*) FROM trial_attempts WHERE attempt = 1 AND outcome = "
              "'interrupted' AND error = 'interrupted: the worker is shutting down'",
          1);
    DB_EQ(&h, "SELECT count(*) FROM trials WHERE state = 'pending' AND attempts = 1", 1);

    /* another worker runs it; this attempt fails once, the next completes */
    hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "1", NULL);
    wait_db(h.db, "SELECT count(*) FROM trials WHERE state = 'running' AND attempts = 2", 1);
    hp_harness_write_file(&h, "failonce", "x\n");
    open_gate(&h);
    const char *state = hp_harness_wait_study(&h, "stopped", GUARD_S);
    ck_assert_ptr_nonnull(state);
    ck_assert_str_eq(state, "completed");
    DB_EQ(&h, "SELECT count(*) FROM trials WHERE state = 'completed' AND attempts = 3", 1);
    DB_EQ(&h, "SELECT count(*) FROM trial_attempts WHERE attempt = 2 AND outcome = 'failed'", 1);
    DB_EQ(&h, "SELECT count(*) FROM trial_attempts WHERE attempt = 3 AND outcome = 'completed'",
          1);
    char q[200];
    snprintf(q, sizeof q, "SELECT count(*) FROM trial_attempts WHERE attempt > 1 AND "
                          "worker_id = %ld",
             first);
    DB_EQ(&h, q, 0); /* re-run by the other worker */
    hp_harness_fini(&h);
}
END_TEST

/* 3a. SIGTERM of hpsearchd while two trials run, its workers running on:
 * after the restart they deliver their results, each trial completes by
 * its one attempt. */
START_TEST(test_daemon_restart_workers_deliver)
{
    static hp_harness_t h; /* static: a failed check leaves this frame before the teardown */
    hp_harness_init(&h, "intr-daemon-a");
    pid_t d = hp_harness_start_daemon(&h, "--heartbeat-ms", "100", NULL);
    for (int i = 0; i < 2; i++)
        hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "1", NULL);
    hp_harness_submit(&h, gated_spec(&h, "restart", 3, 2, 0));
    wait_db(h.db, "SELECT count(*) FROM trials WHERE state = 'running'", 2);
    wait_started(&h, 2);
    int st = hp_harness_kill(&h, d, SIGTERM);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "hpsearchd: status 0x%x", st);
    char *log = child_log(&h, "hpsearchd", d);
    HAS(log, "shutting down (SIGTERM)");
    free(log);
    DB_EQ(&h, "SELECT count(*) FROM trials WHERE state = 'running'", 2);

    hp_harness_start_daemon(&h, "--heartbeat-ms", "100", NULL);
    open_gate(&h);
    const char *state = hp_harness_wait_study(&h, "restart", GUARD_S);
    ck_assert_ptr_nonnull(state);
    ck_assert_str_eq(state, "completed");
    each_completed_once(&h, 3);
    DB_EQ(&h, "SELECT count(*) FROM trial_attempts", 3);
    hp_harness_fini(&h);
}
END_TEST

/* 3b. SIGTERM of hpsearchd while two trials run, then of its workers,
 * which cannot report any more: after the restart the two attempts are
 * interrupted (not lost, not failed: retries is 0), the trials run again
 * on a new worker, and the study completes with every trial once. */
START_TEST(test_daemon_restart_workers_gone)
{
    static hp_harness_t h; /* static: a failed check leaves this frame before the teardown */
    hp_harness_init(&h, "intr-daemon-b");
    pid_t d = hp_harness_start_daemon(&h, "--heartbeat-ms", "100", "--lease-ms", "3000", NULL);
    pid_t w[2];
    for (int i = 0; i < 2; i++)
        w[i] = hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "1", NULL);
    hp_harness_submit(&h, gated_spec(&h, "gone", 3, 2, 0));
    wait_db(h.db, "SELECT count(*) FROM trials WHERE state = 'running'", 2);
    wait_started(&h, 2);
    hp_harness_kill(&h, d, SIGTERM);
    for (int i = 0; i < 2; i++)
        hp_harness_kill(&h, w[i], SIGTERM);
    DB_EQ(&h, "SELECT count(*) FROM trials WHERE state = 'running'", 2);

    pid_t d2 = hp_harness_start_daemon(&h, "--heartbeat-ms", "100", "--lease-ms", "3000", NULL);
    hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "1", NULL);
    open_gate(&h);
    const char *state = hp_harness_wait_study(&h, "gone", GUARD_S);
    ck_assert_ptr_nonnull(state);
    ck_assert_str_eq(state, "completed");
    each_completed_once(&h, 3);
    DB_EQ(&h, "SELECT count(*) FROM trial_attempts WHERE outcome = 'interrupted' AND error LIKE "
              "'interrupted: the coordinator stopped while it ran, and worker % did not renew "
              "its lease within 8000 ms of the restart'",
          2);
    DB_EQ(&h, "SELECT count(*) FROM trial_attempts WHERE outcome = 'lost'", 0);
    DB_EQ(&h, "SELECT count(*) FROM trial_attempts", 5);
    char *log = child_log(&h, "hpsearchd", d2);
    HAS(log, "resumed 1 running studies with 2 trials in flight");
    free(log);
    /* logs says why the interrupted attempt has no output */
    long first = db_int(h.db, "SELECT min(t.number) FROM trials t JOIN trial_attempts a ON "
                              "a.trial_id = t.id AND a.outcome = 'interrupted'");
    char num[32];
    snprintf(num, sizeof num, "%ld", first);
    ck_assert_int_eq(RUN(&h, "logs", "logs", "--db", h.db, "--attempt", "1", "gone", num), 1);
    char *err = cli_output(&h, "logs", "err");
    char want[300];
    snprintf(want, sizeof want,
             "hpsearch logs: attempt 1 of trial %ld was interrupted before its output reached "
             "the coordinator (interrupted: the coordinator stopped while it ran",
             first);
    HAS(err, want);
    free(err);
    hp_harness_fini(&h);
}
END_TEST

/* 4. `hpsearch cancel` still cancels: the running trial and its attempt
 * end cancelled, nothing runs again — not even when the worker stops
 * after it. */
START_TEST(test_cancel_still_cancels)
{
    static hp_harness_t h; /* static: a failed check leaves this frame before the teardown */
    hp_harness_init(&h, "intr-cancel");
    hp_harness_start_daemon(&h, "--heartbeat-ms", "100", NULL);
    pid_t w = hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "1", NULL);
    hp_harness_submit(&h, gated_spec(&h, "cancelme", 3, 1, 2));
    wait_db(h.db, "SELECT count(*) FROM trials WHERE state = 'running'", 1);
    wait_started(&h, 1);
    ck_assert_int_eq(RUN(&h, "cancel", "--coordinator", h.control, "cancel", "cancelme"), 0);
    wait_db(h.db, "SELECT count(*) FROM trial_attempts WHERE outcome = 'cancelled'", 1);
    DB_EQ(&h, "SELECT count(*) FROM studies WHERE name = 'cancelme' AND state = 'cancelled'", 1);
    DB_EQ(&h, "SELECT count(*) FROM trials WHERE state = 'cancelled'", 1);
    DB_EQ(&h, "SELECT count(*) FROM trials WHERE state <> 'cancelled'", 0);
    /* the worker stopping afterwards interrupts nothing, re-runs nothing */
    int st = hp_harness_kill(&h, w, SIGTERM);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "hpworker: status 0x%x", st);
    char *log = child_log(&h, "hpworker", w);
    HAS(log, "trial 0 cancelled: ");
    ck_assert_msg(strstr(log, "trial 0 interrupted") == NULL, "%s", log);
    free(log);
    DB_EQ(&h, "SELECT count(*) FROM trial_attempts", 1);
    DB_EQ(&h, "SELECT count(*) FROM trial_attempts WHERE outcome = 'cancelled' AND attempt = 1",
          1);
    DB_EQ(&h, "SELECT count(*) FROM trials WHERE state = 'cancelled' AND attempts = 1", 1);
    hp_harness_fini(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("integration_interrupt");
    TCase *tc = tcase_create("interrupt");
    tcase_set_timeout(tc, 0);
    tcase_add_test(tc, test_run_sigint_then_run_again);
    tcase_add_test(tc, test_worker_sigterm_interrupts_without_spending_retries);
    tcase_add_test(tc, test_daemon_restart_workers_deliver);
    tcase_add_test(tc, test_daemon_restart_workers_gone);
    tcase_add_test(tc, test_cancel_still_cancels);
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
