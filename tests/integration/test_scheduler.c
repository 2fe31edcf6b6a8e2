/* Workers that fit a scheduler (issue 16): settings from the environment
 * (flags win), slots from the CPUs granted, --exit-when-idle and
 * --max-trials ending the worker by itself, with the real hpsearchd and
 * hpworker as child processes. Every step waits for a condition (a
 * process's exit, a row); the idle times are short only so that the test
 * is quick, never what it asserts on. */
#include "harness.h"
#include "hp_it.h"

#include "hp_check.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char spec[2048];

static const char *branin_spec(const char *name, int trials, int parallelism)
{
    snprintf(spec, sizeof spec,
             "name: %s\nobjective: {metric: value}\n"
             "search: {algorithm: random, max_trials: %d, parallelism: %d, seed: 7}\n"
             "space:\n  x1: {type: float, low: -5, high: 10}\n"
             "  x2: {type: float, low: 0, high: 15}\n"
             "trial: {function: branin}\n",
             name, trials, parallelism);
    return spec;
}

/* The environment a scheduler gives the worker: NAME=VALUE sets, a bare
 * NAME unsets, for the one spawn. */
static void env_apply(const char *const *env)
{
    for (; env && *env; env++) {
        const char *eq = strchr(*env, '=');
        if (eq) {
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)(eq - *env), *env);
            setenv(name, eq + 1, 1);
        } else {
            unsetenv(*env);
        }
    }
}

static const char *const clean_env[] = {"HPSEARCH_COORDINATOR", "HPSEARCH_TOKEN_FILE",
                                        "HPSEARCH_SLOTS", "SLURM_CPUS_ON_NODE", NULL};

/* hpworker ARGS with env set for it alone (the variables above cleared
 * first, so the test's own environment does not leak in) */
#define WORKER(h, env, ...)                                                                   \
    ({                                                                                        \
        env_apply(clean_env);                                                                 \
        env_apply(env);                                                                       \
        pid_t pid_ = hp_harness_spawn((h), "hpworker", __VA_ARGS__, NULL);                  \
        env_apply(clean_env);                                                                 \
        pid_;                                                                                 \
    })
#define ENV(...) ((const char *const[]){__VA_ARGS__, NULL})

static int exit_code(hp_harness_t *h, pid_t pid)
{
    int st = wait_exit(h, pid);
    ck_assert_msg(WIFEXITED(st), "hpworker %d: status 0x%x", (int)pid, st);
    return WEXITSTATUS(st);
}

/* Waits until the log of pid says text (a guard, never a timing). */
static void wait_log(hp_harness_t *h, pid_t pid, const char *text)
{
    for (int i = 0; i < HP_IT_GUARD_S * 20; i++) {
        char *log = child_log(h, "hpworker", pid);
        int found = strstr(log, text) != NULL;
        free(log);
        if (found)
            return;
        nap_ms(50);
    }
    char *log = child_log(h, "hpworker", pid);
    ck_abort_msg("hpworker %d never logged '%s':\n%s", (int)pid, text, log);
}

static long attempts_of(hp_harness_t *h, pid_t pid)
{
    char q[300];
    snprintf(q, sizeof q, "SELECT count(*) FROM trial_attempts a JOIN workers w ON w.id = "
                          "a.worker_id WHERE json_extract(w.capabilities, '$.pid') = %d",
             (int)pid);
    return db_int(h->db, q);
}

/* A worker configured only through the environment runs the whole study
 * with the slots HPSEARCH_SLOTS gives, then leaves by itself, exit 0. */
START_TEST(test_env_worker_leaves_when_idle)
{
    static hp_harness_t h; /* static: a failed check leaves this frame before the teardown */
    hp_harness_init(&h, "sched-idle");
    hp_harness_start_daemon(&h, "--heartbeat-ms", "200", NULL);
    hp_harness_submit(&h, branin_spec("idle", 12, 2));
    char coord[700];
    snprintf(coord, sizeof coord, "HPSEARCH_COORDINATOR=%s", h.listen);
    pid_t w = WORKER(&h, ENV(coord, "HPSEARCH_SLOTS=2"), "--exit-when-idle", "5");
    ck_assert_int_eq(exit_code(&h, w), 0);
    ck_assert_str_eq(hp_harness_wait_study(&h, "idle", HP_IT_GUARD_S), "completed");
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE state = 'completed'"), 12);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trial_attempts WHERE outcome <> "
                                  "'completed'"),
                     0);
    char *log = child_log(&h, "hpworker", w);
    HAS(log, "2 slots, heartbeat");
    HAS(log, "no trial for 5 s (--exit-when-idle): leaving");
    LACKS(log, "interrupted");
    free(log);
    hp_harness_fini(&h);
}
END_TEST

/* A trial that runs longer than the idle time is not idleness: the worker
 * finishes it and leaves after. */
START_TEST(test_running_trial_is_not_idle)
{
    static hp_harness_t h;
    hp_harness_init(&h, "sched-busy");
    hp_harness_start_daemon(&h, "--heartbeat-ms", "200", NULL);
    hp_harness_submit(&h, "name: long\nobjective: {metric: loss}\n"
                          "search: {algorithm: random, max_trials: 1, seed: 1}\n"
                          "space:\n  x: {type: float, low: 0, high: 1}\n"
                          "trial:\n  command: [sh, -c, 'sleep 6; echo loss={x}']\n");
    pid_t w = WORKER(&h, NULL, "--connect", h.listen, "--slots", "1", "--exit-when-idle", "3");
    ck_assert_int_eq(exit_code(&h, w), 0);
    ck_assert_str_eq(hp_harness_wait_study(&h, "long", HP_IT_GUARD_S), "completed");
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trial_attempts WHERE outcome = "
                                  "'completed'"),
                     1);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trial_attempts"), 1);
    hp_harness_fini(&h);
}
END_TEST

/* --max-trials N: the worker takes exactly N trials, reports them all and
 * leaves; the study goes on with the next worker. The flag --connect wins
 * over a HPSEARCH_COORDINATOR that points nowhere. */
START_TEST(test_max_trials)
{
    static hp_harness_t h;
    hp_harness_init(&h, "sched-max");
    hp_harness_start_daemon(&h, "--heartbeat-ms", "200", NULL);
    hp_harness_submit(&h, branin_spec("capped", 10, 2));
    char nowhere[700];
    snprintf(nowhere, sizeof nowhere, "HPSEARCH_COORDINATOR=ipc://%s/nowhere.sock", h.dir);
    pid_t w1 = WORKER(&h, ENV(nowhere, "HPSEARCH_SLOTS=4"), "--connect", h.listen, "--slots",
                      "1", "--max-trials", "3");
    ck_assert_int_eq(exit_code(&h, w1), 0);
    ck_assert_int_eq(attempts_of(&h, w1), 3);
    char *log = child_log(&h, "hpworker", w1);
    HAS(log, "registered as worker 1 (1 slot,");
    HAS(log, "ran 3 trials (--max-trials 3): leaving");
    free(log);

    pid_t w2 = WORKER(&h, NULL, "--connect", h.listen, "--slots", "2", "--max-trials", "4");
    ck_assert_int_eq(exit_code(&h, w2), 0);
    ck_assert_int_eq(attempts_of(&h, w2), 4);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE state = 'completed'"), 7);

    pid_t w3 = WORKER(&h, NULL, "--connect", h.listen, "--slots", "2", "--exit-when-idle", "5");
    ck_assert_int_eq(exit_code(&h, w3), 0);
    ck_assert_int_eq(attempts_of(&h, w3), 3);
    ck_assert_str_eq(hp_harness_wait_study(&h, "capped", HP_IT_GUARD_S), "completed");
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trial_attempts WHERE outcome <> "
                                  "'completed'"),
                     0);
    hp_harness_fini(&h);
}
END_TEST

/* HPSEARCH_TOKEN_FILE is the worker's token file when --token-file is not
 * given: the right one registers, a wrong one is refused (exit 1), a
 * missing one is named (exit 2). */
START_TEST(test_token_file_from_env)
{
    static hp_harness_t h;
    hp_harness_init(&h, "sched-token");
    char tok[700]; /* hp_harness_write_file's path is its own buffer: keep a copy */
    snprintf(tok, sizeof tok, "%s", hp_harness_write_file(&h, "token", "0123456789abcdef0123\n"));
    char tokv[800];
    snprintf(tokv, sizeof tokv, "HPSEARCH_TOKEN_FILE=%s", tok);
    hp_harness_start_daemon(&h, "--token-file", tok, "--heartbeat-ms", "200", NULL);
    char coord[700];
    snprintf(coord, sizeof coord, "HPSEARCH_COORDINATOR=%s", h.listen);

    pid_t good = WORKER(&h, ENV(coord, tokv), "--log-level", "info");
    wait_log(&h, good, "registered as worker");
    ck_assert_int_eq(kill(good, SIGTERM), 0);
    ck_assert_int_eq(exit_code(&h, good), 0);
    char *log;

    const char *bad = hp_harness_write_file(&h, "bad", "not-the-daemons-token\n");
    char badv[800];
    snprintf(badv, sizeof badv, "HPSEARCH_TOKEN_FILE=%s", bad);
    pid_t refused = WORKER(&h, ENV(coord, badv), "--exit-when-idle", "600");
    ck_assert_int_eq(exit_code(&h, refused), 1);
    log = child_log(&h, "hpworker", refused);
    HAS(log, "refused this worker's token (EAUTH: missing or wrong auth token); check "
             "HPSEARCH_TOKEN_FILE");
    free(log);

    /* the flag wins over the variable */
    pid_t flag = WORKER(&h, ENV(coord, badv), "--token-file", tok);
    wait_log(&h, flag, "registered as worker");
    ck_assert_int_eq(kill(flag, SIGTERM), 0);
    ck_assert_int_eq(exit_code(&h, flag), 0);

    char missing[700];
    snprintf(missing, sizeof missing, "HPSEARCH_TOKEN_FILE=%s/absent", h.dir);
    pid_t m = WORKER(&h, ENV(coord, missing), "--exit-when-idle", "1");
    ck_assert_int_eq(exit_code(&h, m), 2);
    log = child_log(&h, "hpworker", m);
    HAS(log, "HPSEARCH_TOKEN_FILE ");
    HAS(log, "/absent: No such file or directory");
    free(log);
    hp_harness_fini(&h);
}
END_TEST

/* Without a slot count the slots are the CPUs granted; HPSEARCH_SLOTS and
 * --slots override them in that order. A worker whose coordinator never
 * answers still leaves when idle. Bad values are named. */
START_TEST(test_slots_from_the_scheduler)
{
    static hp_harness_t h;
    hp_harness_init(&h, "sched-slots");
    char nowhere[700];
    snprintf(nowhere, sizeof nowhere, "HPSEARCH_COORDINATOR=ipc://%s/nowhere.sock", h.dir);

    pid_t w = WORKER(&h, ENV(nowhere, "SLURM_CPUS_ON_NODE=3"), "--exit-when-idle", "1");
    ck_assert_int_eq(exit_code(&h, w), 0);
    char *log = child_log(&h, "hpworker", w);
    HAS(log, "3 slots: the CPUs granted (SLURM_CPUS_ON_NODE=3)");
    HAS(log, "(3 cores, 3 slots,");
    HAS(log, "no trial for 1 s (--exit-when-idle): leaving");
    free(log);

    w = WORKER(&h, ENV(nowhere, "SLURM_CPUS_ON_NODE=3", "HPSEARCH_SLOTS=2"), "--exit-when-idle",
               "1");
    ck_assert_int_eq(exit_code(&h, w), 0);
    log = child_log(&h, "hpworker", w);
    HAS(log, "(3 cores, 2 slots,");
    LACKS(log, "the CPUs granted");
    free(log);

    w = WORKER(&h, ENV(nowhere, "HPSEARCH_SLOTS=2"), "--slots", "1", "--exit-when-idle", "1");
    ck_assert_int_eq(exit_code(&h, w), 0);
    log = child_log(&h, "hpworker", w);
    HAS(log, " 1 slot, ");
    free(log);

    w = WORKER(&h, ENV(nowhere, "HPSEARCH_SLOTS=lots"), "--exit-when-idle", "1");
    ck_assert_int_eq(exit_code(&h, w), 2);
    log = child_log(&h, "hpworker", w);
    HAS(log, "HPSEARCH_SLOTS must be a whole number in 1..1024 (got 'lots')");
    free(log);

    w = WORKER(&h, ENV(nowhere), "--exit-when-idle", "0");
    ck_assert_int_eq(exit_code(&h, w), 2);
    log = child_log(&h, "hpworker", w);
    HAS(log, "--exit-when-idle must be a whole number in 1..");
    free(log);

    /* no URL anywhere */
    w = WORKER(&h, NULL, "--exit-when-idle", "1");
    ck_assert_int_eq(exit_code(&h, w), 2);
    log = child_log(&h, "hpworker", w);
    HAS(log, "--exit-when-idle without --connect URL");
    HAS(log, "or set HPSEARCH_COORDINATOR");
    free(log);
    hp_harness_fini(&h);
}
END_TEST

/* A scheduler's end of job: SIGTERM to every process at once, the trial's
 * program first. The program dies of the scheduler's signal and is reaped
 * before the worker's own SIGTERM arrives, and still the trial is
 * interrupted, not failed: back to pending, no retry spent; the worker
 * exits 0. */
START_TEST(test_job_wide_sigterm_interrupts)
{
    static hp_harness_t h;
    hp_harness_init(&h, "sched-term");
    hp_harness_start_daemon(&h, "--heartbeat-ms", "200", NULL);
    snprintf(spec, sizeof spec,
             "name: term\nobjective: {metric: loss}\n"
             "search: {algorithm: random, max_trials: 1, seed: 2}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial:\n  command: [sh, -c, 'echo $$ > %s/trial.pid.tmp; mv %s/trial.pid.tmp "
             "%s/trial.pid; while true; do sleep 0.05; done']\n  retries: 0\n",
             h.dir, h.dir, h.dir);
    hp_harness_submit(&h, spec);
    pid_t w = WORKER(&h, NULL, "--connect", h.listen, "--slots", "1", "--exit-when-idle", "600");
    char pidfile[700];
    snprintf(pidfile, sizeof pidfile, "%s/trial.pid", h.dir);
    for (int i = 0; i < HP_IT_GUARD_S * 20 && access(pidfile, F_OK) != 0; i++)
        nap_ms(50);
    char *txt = hp_check_slurp(pidfile, 0);
    pid_t prog = (pid_t)atoi(txt);
    free(txt);
    ck_assert_int_gt(prog, 1);
    /* the program leads its own process group (the worker starts it so) */
    ck_assert_int_eq(kill(-prog, SIGTERM), 0);
    /* the worker has reaped it (a zombie still answers kill 0): the
     * program's death reached the worker before the worker's own SIGTERM */
    for (int i = 0; i < HP_IT_GUARD_S * 1000 && kill(prog, 0) == 0; i++)
        nap_ms(1);
    ck_assert_int_eq(kill(w, SIGTERM), 0);
    ck_assert_int_eq(exit_code(&h, w), 0);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trial_attempts WHERE outcome = "
                                  "'interrupted'"),
                     1);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE state = 'pending'"), 1);
    char *log = child_log(&h, "hpworker", w);
    HAS(log, "trial 0 interrupted: it goes back to pending and runs again");
    free(log);
    hp_harness_fini(&h);
}
END_TEST

/* `hpsearch run`'s own workers take their settings from run alone: a
 * HPSEARCH_TOKEN_FILE meant for another coordinator (here: missing) and a
 * stray HPSEARCH_SLOTS do not reach them. */
START_TEST(test_run_workers_ignore_the_worker_environment)
{
    static hp_harness_t h;
    hp_harness_init(&h, "sched-run");
    char specp[700], db[700];
    snprintf(specp, sizeof specp, "%s", hp_harness_write_file(&h, "s.yaml", branin_spec("r", 4, 1)));
    snprintf(db, sizeof db, "%s/run.db", h.dir);
    setenv("HPSEARCH_TOKEN_FILE", "/nonexistent/token", 1);
    setenv("HPSEARCH_SLOTS", "lots", 1);
    int code = RUN(&h, "run", "run", specp, "--workers", "1", "--db", db);
    env_apply(clean_env);
    char *err = cli_output(&h, "run", "err");
    ck_assert_msg(code == 0, "hpsearch run: exit %d: %s", code, err);
    free(err);
    ck_assert_int_eq(db_int(db, "SELECT count(*) FROM trials WHERE state = 'completed'"), 4);
    hp_harness_fini(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("integration_scheduler");
    TCase *tc = tcase_create("scheduler");
    tcase_set_timeout(tc, 0);
    tcase_add_test(tc, test_env_worker_leaves_when_idle);
    tcase_add_test(tc, test_running_trial_is_not_idle);
    tcase_add_test(tc, test_max_trials);
    tcase_add_test(tc, test_token_file_from_env);
    tcase_add_test(tc, test_slots_from_the_scheduler);
    tcase_add_test(tc, test_job_wide_sigterm_interrupts);
    tcase_add_test(tc, test_run_workers_ignore_the_worker_environment);
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
