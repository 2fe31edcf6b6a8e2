/* The service end to end with real processes: hpsearchd plus hpworker
 * children on private sockets. Workers and the coordinator are killed with
 * SIGKILL mid-study; every result must be kept, none doubled. */
#include "harness.h"
#include "hp_blobs.h"

#include "hp_check.h"

#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORKER_FLAGS "--heartbeat-ms", "200"

static char spec[4096];

/* A study of external-program trials: each sleeps `sleep_s` and reports
 * loss = x. */
static const char *command_spec(hp_harness_t *h, const char *name, int trials, int parallelism,
                                const char *sleep_s)
{
    const char *script = hp_harness_write_file(h, "trial.sh",
                                               "#!/bin/sh\n"
                                               "sleep \"$1\"\n"
                                               "echo \"step=1 loss=$2\"\n");
    char path[1024];
    snprintf(path, sizeof path, "%s", script);
    snprintf(spec, sizeof spec,
             "name: %s\nobjective: {metric: loss}\n"
             "search: {algorithm: random, max_trials: %d, parallelism: %d, seed: 5}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial:\n  command: [sh, %s, '%s', '{x}']\n  retries: 3\n  timeout: 120\n",
             name, trials, parallelism, path, sleep_s);
    return spec;
}

static void start_workers(hp_harness_t *h, int n, pid_t *pids)
{
    for (int i = 0; i < n; i++)
        pids[i] = hp_harness_spawn(h, "hpworker", "--connect", h->listen, "--slots", "1", NULL);
}

START_TEST(test_50_trials_3_workers)
{
    hp_harness_t h;
    hp_harness_init(&h, "fifty");
    hp_harness_start_daemon(&h, NULL);
    pid_t w[3];
    start_workers(&h, 3, w);
    hp_harness_submit(&h, "name: fifty\nobjective: {metric: value}\n"
                          "search: {algorithm: random, max_trials: 50, parallelism: 3, seed: 1}\n"
                          "space:\n  x1: {type: float, low: -5, high: 10}\n"
                          "  x2: {type: float, low: 0, high: 15}\n"
                          "trial: {function: branin}\n");
    const char *st = hp_harness_wait_study(&h, "fifty", 300);
    ck_assert_ptr_nonnull(st);
    ck_assert_str_eq(st, "completed");
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials WHERE state = "
                                              "'completed' AND value IS NOT NULL AND "
                                              "json_extract(params, '$.x1') IS NOT NULL"),
                     50);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(DISTINCT number) FROM trials"), 50);
    /* branin >= 0.3978 everywhere: the stored value is the function's */
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials WHERE value < 0.3978"),
                     0);
    hp_harness_fini(&h);
}
END_TEST

static long running_worker_pid(hp_harness_t *h)
{
    return hp_harness_query_int(
        h, "SELECT json_extract(w.capabilities, '$.pid') FROM trials t "
           "JOIN trial_attempts a ON a.trial_id = t.id AND a.attempt = t.attempts "
           "JOIN workers w ON w.id = a.worker_id WHERE t.state = 'running' LIMIT 1");
}

START_TEST(test_kill_worker_mid_trial)
{
    hp_harness_t h;
    hp_harness_init(&h, "killworker");
    hp_harness_start_daemon(&h, "--lease-ms", "1500", "--heartbeat-ms", "200", NULL);
    pid_t w[3];
    start_workers(&h, 3, w);
    hp_harness_submit(&h, command_spec(&h, "killworker", 12, 3, "0.5"));
    long pid = -1;
    for (int i = 0; i < 600 && pid <= 0; i++) {
        pid = running_worker_pid(&h);
        if (pid <= 0)
            usleep(50000);
    }
    ck_assert_int_gt(pid, 0);
    int victim = -1;
    for (int i = 0; i < 3; i++)
        if (w[i] == (pid_t)pid)
            victim = i;
    ck_assert_int_ge(victim, 0);
    hp_harness_kill(&h, (pid_t)pid, SIGKILL);
    const char *st = hp_harness_wait_study(&h, "killworker", 300);
    ck_assert_ptr_nonnull(st);
    ck_assert_str_eq(st, "completed");
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials WHERE state = "
                                              "'completed'"),
                     12);
    /* the killed worker's attempt was lost and re-run elsewhere */
    ck_assert_int_ge(hp_harness_query_int(&h, "SELECT count(*) FROM trial_attempts WHERE "
                                              "outcome = 'lost'"),
                     1);
    /* exactly one completed attempt per trial: nothing doubled */
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trial_attempts WHERE "
                                              "outcome = 'completed'"),
                     12);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM (SELECT trial_id FROM "
                                              "trial_attempts WHERE outcome = 'completed' "
                                              "GROUP BY trial_id HAVING count(*) > 1)"),
                     0);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_kill_coordinator_mid_study)
{
    hp_harness_t h;
    hp_harness_init(&h, "killcoord");
    hp_harness_start_daemon(&h, "--lease-ms", "2000", "--heartbeat-ms", "200", NULL);
    pid_t w[2];
    start_workers(&h, 2, w);
    hp_harness_submit(&h, command_spec(&h, "killcoord", 16, 2, "0.2"));
    long done = hp_harness_wait_completed(&h, 5, 60);
    ck_assert_int_ge(done, 5);
    /* a fingerprint of what was recorded before the crash */
    long before = hp_harness_query_int(
        &h, "SELECT sum(number * 1000003 + CAST(value * 1e6 AS INTEGER)) FROM trials WHERE "
            "state = 'completed' AND number < 4");
    hp_harness_kill(&h, h.daemon, SIGKILL);
    usleep(300000);
    hp_harness_start_daemon(&h, "--lease-ms", "2000", "--heartbeat-ms", "200", NULL);
    const char *st = hp_harness_wait_study(&h, "killcoord", 300);
    ck_assert_ptr_nonnull(st);
    ck_assert_str_eq(st, "completed");
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials WHERE state = "
                                              "'completed'"),
                     16);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(DISTINCT number) FROM trials"), 16);
    long after = hp_harness_query_int(
        &h, "SELECT sum(number * 1000003 + CAST(value * 1e6 AS INTEGER)) FROM trials WHERE "
            "state = 'completed' AND number < 4");
    ck_assert_int_eq(before, after);
    /* the same workers carried on: no new worker processes were started */
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(waitpid(w[i], NULL, WNOHANG), 0);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_worker_started_before_coordinator)
{
    hp_harness_t h;
    hp_harness_init(&h, "early");
    pid_t w[1];
    start_workers(&h, 1, w);
    usleep(500000); /* it dials a socket that does not exist yet */
    hp_harness_start_daemon(&h, NULL);
    hp_harness_submit(&h, "name: early\nobjective: {metric: value}\n"
                          "search: {algorithm: sobol, max_trials: 8, seed: 1}\n"
                          "space:\n  x1: {type: float, low: 0, high: 1}\n"
                          "  x2: {type: float, low: 0, high: 1}\n"
                          "trial: {function: rosenbrock}\n");
    const char *st = hp_harness_wait_study(&h, "early", 300);
    ck_assert_ptr_nonnull(st);
    ck_assert_str_eq(st, "completed");
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials WHERE state = "
                                              "'completed'"),
                     8);
    hp_harness_fini(&h);
}
END_TEST

/* One study per failure mode, each with retries: 0 so the first attempt's
 * outcome is final. */
static void run_one(hp_harness_t *h, const char *name, const char *script, const char *extra,
                    const char *want_state, const char *want_error)
{
    char sname[64], spath[1024], text[4096], sql[512];
    snprintf(sname, sizeof sname, "%s.sh", name);
    snprintf(spath, sizeof spath, "%s", hp_harness_write_file(h, sname, script));
    snprintf(text, sizeof text,
             "name: %s\nobjective: {metric: loss}\n"
             "search: {algorithm: random, max_trials: 1, seed: 1}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial:\n  command: [sh, %s, '{x}']\n  retries: 0\n%s",
             name, spath, extra);
    hp_harness_submit(h, text);
    const char *st = hp_harness_wait_study(h, name, 120);
    ck_assert_ptr_nonnull(st);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM trials t JOIN studies s ON s.id = t.study_id WHERE s.name = "
             "'%s' AND t.state = '%s' AND (%d OR instr(t.error, '%s') > 0)",
             name, want_state, want_error == NULL, want_error ? want_error : "");
    long n = hp_harness_query_int(h, sql);
    ck_assert_msg(n == 1, "%s: expected one %s trial with error containing '%s'", name,
                  want_state, want_error ? want_error : "");
}

START_TEST(test_external_program_outcomes)
{
    hp_harness_t h;
    hp_harness_init(&h, "external");
    hp_harness_start_daemon(&h, NULL);
    pid_t w[2];
    start_workers(&h, 2, w);
    run_one(&h, "ok", "echo \"loss=$1\"\n", "", "completed", NULL);
    run_one(&h, "exit3", "echo loss=1\nexit 3\n", "", "failed", "status 3");
    run_one(&h, "slow", "sleep 30\necho loss=1\n", "  timeout: 1\n", "failed", "timed out");
    run_one(&h, "nometric", "echo accuracy=0.5\n", "", "failed", "never reported");
    run_one(&h, "garbage", "head -c 20000 /dev/urandom\n", "", "failed", "never reported");
    /* the value is the objective the program printed */
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials t JOIN studies s ON "
                                              "s.id = t.study_id WHERE s.name = 'ok' AND "
                                              "abs(t.value - json_extract(t.params, '$.x')) < "
                                              "1e-9"),
                     1);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_cancel_stops_running_trials_keeps_results)
{
    hp_harness_t h;
    hp_harness_init(&h, "cancel");
    hp_harness_start_daemon(&h, "--lease-ms", "3000", "--heartbeat-ms", "200", NULL);
    pid_t w[2];
    start_workers(&h, 2, w);
    hp_harness_submit(&h, command_spec(&h, "cancelme", 50, 2, "0.3"));
    long done = hp_harness_wait_completed(&h, 3, 60);
    ck_assert_int_ge(done, 3);
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__CancelStudy cs = HPSEARCH__CANCEL_STUDY__INIT;
    cs.study = "cancelme";
    env.type = HPSEARCH__MSG_TYPE__CANCEL_STUDY;
    env.body_case = HPSEARCH__ENVELOPE__BODY_CANCEL_STUDY;
    env.cancel_study = &cs;
    Hpsearch__Envelope *r = hp_harness_request(h.control, &env, 10000);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->type, HPSEARCH__MSG_TYPE__ACK);
    hp_proto_free(r);
    /* running trials stop (cancelled) without waiting for their lease */
    long running = 1;
    for (int i = 0; i < 600 && running > 0; i++) {
        running = hp_harness_query_int(&h, "SELECT count(*) FROM trials WHERE state IN "
                                           "('running', 'pending')");
        if (running > 0)
            usleep(50000);
    }
    ck_assert_int_eq(running, 0);
    ck_assert_int_ge(hp_harness_query_int(&h, "SELECT count(*) FROM trials WHERE state = "
                                              "'completed'"),
                     done);
    ck_assert_int_lt(hp_harness_query_int(&h, "SELECT count(*) FROM trials"), 50);
    ck_assert_str_eq(hp_harness_wait_study(&h, "cancelme", 10), "cancelled");
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_bayes_and_coarse_to_fine_through_the_service)
{
    hp_harness_t h;
    hp_harness_init(&h, "learners");
    hp_harness_start_daemon(&h, NULL);
    pid_t w[2];
    start_workers(&h, 2, w);
    hp_harness_submit(&h, "name: bayes\nobjective: {metric: value}\n"
                          "search: {algorithm: bayes, max_trials: 30, parallelism: 2, "
                          "n_initial: 8, seed: 3}\n"
                          "space:\n  x1: {type: float, low: -5, high: 10}\n"
                          "  x2: {type: float, low: 0, high: 15}\n"
                          "trial: {function: branin}\n");
    hp_harness_submit(&h, "name: c2f\nobjective: {metric: value}\n"
                          "search: {algorithm: coarse-to-fine, max_trials: 32, rounds: 4, "
                          "trials_per_round: 8, top_k: 3, shrink: 0.5, parallelism: 2, seed: 3}\n"
                          "space:\n  x1: {type: float, low: -5, high: 10}\n"
                          "  x2: {type: float, low: 0, high: 15}\n"
                          "trial: {function: branin}\n");
    ck_assert_str_eq(hp_harness_wait_study(&h, "bayes", 300), "completed");
    ck_assert_str_eq(hp_harness_wait_study(&h, "c2f", 300), "completed");
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials t JOIN studies s ON "
                                              "s.id = t.study_id WHERE s.name = 'bayes' AND "
                                              "t.state = 'completed'"),
                     30);
    /* parallel suggestions never repeat a point */
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(DISTINCT t.params) FROM trials t "
                                              "JOIN studies s ON s.id = t.study_id WHERE "
                                              "s.name = 'bayes'"),
                     30);
    /* the GP finds Branin's minimum (0.3979) closely in 30 evaluations */
    ck_assert_int_le(hp_harness_query_int(&h, "SELECT CAST((min(t.value) - 0.397887) * 1000 AS "
                                              "INTEGER) FROM trials t JOIN studies s ON s.id = "
                                              "t.study_id WHERE s.name = 'bayes'"),
                     300);
    /* coarse-to-fine records each round's ranges, each narrower than the last */
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM events WHERE kind = "
                                              "'c2f_round'"),
                     4);
    ck_assert_int_eq(hp_harness_query_int(
                         &h, "SELECT count(*) FROM (SELECT json_extract(message, '$.round') AS r,"
                             " json_extract(message, '$.params.x1.high') - "
                             "json_extract(message, '$.params.x1.low') AS w FROM events WHERE "
                             "kind = 'c2f_round') a JOIN (SELECT json_extract(message, "
                             "'$.round') AS r, json_extract(message, '$.params.x1.high') - "
                             "json_extract(message, '$.params.x1.low') AS w FROM events WHERE "
                             "kind = 'c2f_round') b ON b.r = a.r + 1 WHERE b.w < a.w"),
                     3);
    hp_harness_fini(&h);
}
END_TEST

/* A study whose one trial prints the given loss curve (one value per
 * step), then sleeps `tail` seconds and reports the objective. */
static void curve_study(hp_harness_t *h, const char *name, const char *losses, int tail)
{
    char script[1024], sname[64], spath[1024], text[2048];
    snprintf(script, sizeof script,
             "#!/bin/sh\nstep=0\nfor l in %s; do\n  step=$((step+1))\n"
             "  echo \"step=$step train_loss=$l\"\n  sleep 0.05\ndone\n"
             "sleep %d\necho \"objective=0.5\"\n",
             losses, tail);
    snprintf(sname, sizeof sname, "%s.sh", name);
    snprintf(spath, sizeof spath, "%s", hp_harness_write_file(h, sname, script));
    snprintf(text, sizeof text,
             "name: %s\nobjective: {metric: objective}\n"
             "search: {algorithm: random, max_trials: 1, seed: 1}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial:\n  command: [sh, %s]\n  retries: 0\n  timeout: 60\n",
             name, spath);
    hp_harness_submit(h, text);
    ck_assert_ptr_nonnull(hp_harness_wait_study(h, name, 120));
}

static long count_where(hp_harness_t *h, const char *study, const char *cond)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM trials t JOIN studies s ON s.id = t.study_id WHERE s.name = "
             "'%s' AND %s",
             study, cond);
    return hp_harness_query_int(h, sql);
}

START_TEST(test_learning_curves_diagnosed_and_divergence_stopped)
{
    hp_harness_t h;
    hp_harness_init(&h, "curves");
    hp_harness_start_daemon(&h, NULL);
    pid_t w[1];
    start_workers(&h, 1, w);
    /* explodes: stopped at once (the script would sleep 60 s), pruned */
    curve_study(&h, "explodes", "2.3 1.9 1.7 2500", 60);
    ck_assert_int_eq(count_where(&h, "explodes", "t.state = 'pruned' AND t.diagnosis = "
                                                 "'explodes' AND instr(t.error, 'diverged') > 0"),
                     1);
    curve_study(&h, "plateau", "2.302 2.301 2.303 2.302 2.302 2.301 2.302", 0);
    ck_assert_int_eq(count_where(&h, "plateau", "t.state = 'completed' AND t.diagnosis = "
                                                "'plateaus' AND instr(t.diagnosis_detail, "
                                                "'learning rate too low') > 0"),
                     1);
    curve_study(&h, "goesup", "1.0 0.9 1.2 1.6 2.1 2.8", 0);
    ck_assert_int_eq(count_where(&h, "goesup", "t.diagnosis = 'goes_up'"), 1);
    curve_study(&h, "healthy", "2.3 1.2 0.8 0.6 0.5 0.45 0.42", 0);
    ck_assert_int_eq(count_where(&h, "healthy", "t.diagnosis = 'healthy'"), 1);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_builtin_training_diagnosed)
{
    /* the troubleshooting issue's end-to-end cases, with real training:
     * lr 10 explodes and is stopped early; lr 1e-7 plateaus; the default
     * learns */
    hp_harness_t h;
    hp_harness_init(&h, "training");
    hp_harness_start_daemon(&h, NULL);
    pid_t w[1];
    start_workers(&h, 1, w);
    hp_harness_submit(&h, "name: lrs\nobjective: {metric: val_error}\n"
                          "search: {algorithm: grid}\n"
                          "space:\n  lr: {type: categorical, values: [10, 1.0e-7, 3.0e-4]}\n"
                          "trial:\n  model: mlp\n"
                          "  dataset: {name: fashion-mnist, train_subset: 3000}\n"
                          "  epochs: 6\n  retries: 0\n");
    ck_assert_str_eq(hp_harness_wait_study(&h, "lrs", 300), "completed");
    /* lr 10: pruned after its first epoch, not run to the sixth */
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials WHERE number = 0 AND "
                                              "state = 'pruned' AND diagnosis = 'explodes'"),
                     1);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT max(m.step) FROM metrics m JOIN trials t "
                                              "ON t.id = m.trial_id WHERE t.number = 0"),
                     1);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials WHERE number = 1 AND "
                                              "state = 'completed' AND diagnosis = 'plateaus'"),
                     1);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials WHERE number = 2 AND "
                                              "state = 'completed' AND diagnosis = 'healthy'"),
                     1);
    /* the curve starts at initialization: step 0 */
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM metrics m JOIN trials t ON "
                                              "t.id = m.trial_id WHERE t.number = 2 AND m.name = "
                                              "'train_loss' AND m.step >= 0"),
                     7);
    hp_harness_fini(&h);
}
END_TEST

/* Submits study name: an mlp of max_trials random trials on a CSV of
 * hp_blobs_write(n, d, k, shuffle, seed) in the test's directory. */
static void submit_blobs(hp_harness_t *h, const char *name, int max_trials, int n, int d, int k,
                         int shuffle, uint64_t seed)
{
    char csv[700], text[1200];
    snprintf(csv, sizeof csv, "%s/%s.csv", h->dir, name);
    ck_assert_int_eq(hp_blobs_write(csv, n, d, k, shuffle, seed), 0);
    snprintf(text, sizeof text,
             "name: %s\nobjective: {metric: val_error}\n"
             "search: {algorithm: random, max_trials: %d}\n"
             "space:\n  hidden: {type: int, low: 32, high: 128}\n"
             "trial:\n  model: mlp\n  dataset: %s\n  epochs: 2\n",
             name, max_trials, csv);
    hp_harness_submit(h, text);
}

/* How many of study's sanity_check events have a message LIKE like. */
static long sanity_events(hp_harness_t *h, const char *study, const char *like)
{
    char sql[600];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM events e JOIN studies s ON s.id = e.study_id WHERE "
             "s.name = '%s' AND e.kind = 'sanity_check' AND e.message LIKE '%s'",
             study, like);
    return hp_harness_query_int(h, sql);
}

START_TEST(test_sanity_check_before_the_first_trial)
{
    hp_harness_t h;
    hp_harness_init(&h, "sanity");
    hp_harness_start_daemon(&h, NULL);
    pid_t w[1];
    start_workers(&h, 1, w);
    /* lr 1e-7 cannot memorise one batch: the study stops before any trial */
    hp_harness_submit(&h, "name: hopeless\nobjective: {metric: val_error}\n"
                          "search: {algorithm: random, max_trials: 5}\n"
                          "space:\n  hidden: {type: int, low: 32, high: 128}\n"
                          "trial:\n  model: mlp\n  dataset: {name: fashion-mnist, "
                          "train_subset: 2000}\n  epochs: 2\n  fixed: {lr: 1.0e-7}\n");
    ck_assert_str_eq(hp_harness_wait_study(&h, "hopeless", 300), "stopped");
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials"), 0);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM studies WHERE name = "
                                              "'hopeless' AND instr(reason, 'diagnosis: "
                                              "plateaus') > 0 AND instr(reason, 'learning rate "
                                              "too low') > 0"),
                     1);
    /* and what to do next */
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM studies WHERE name = "
                                              "'hopeless' AND instr(reason, 'next: `hpsearch "
                                              "check SPEC`') > 0 AND instr(reason, "
                                              "'`search.sanity_check: false` in the spec "
                                              "skips it') > 0"),
                     1);
    /* shuffled labels: memorised like any others, but nothing carries over
     * to held-out data — the study stops before any trial, saying why */
    submit_blobs(&h, "shuffled", 5, 3000, 64, 4, 1, 11);
    ck_assert_str_eq(hp_harness_wait_study(&h, "shuffled", 300), "stopped");
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials"), 0);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM studies WHERE name = "
                                              "'shuffled' AND instr(reason, 'train_loss fell "
                                              "from') > 0 AND instr(reason, 'no better than "
                                              "chance') > 0 AND instr(reason, 'labels shuffled "
                                              "or misaligned') > 0"),
                     1);
    /* the defaults memorise it: the check passes, then the search runs */
    hp_harness_submit(&h, "name: sound\nobjective: {metric: val_error}\n"
                          "search: {algorithm: random, max_trials: 2}\n"
                          "space:\n  hidden: {type: int, low: 32, high: 128}\n"
                          "trial:\n  model: mlp\n  dataset: {name: fashion-mnist, "
                          "train_subset: 2000}\n  epochs: 2\n");
    ck_assert_str_eq(hp_harness_wait_study(&h, "sound", 300), "completed");
    ck_assert_int_eq(sanity_events(&h, "sound", "PASS:%held out: accuracy%above chance%"), 1);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials t JOIN studies s ON "
                                              "s.id = t.study_id WHERE s.name = 'sound' AND "
                                              "t.state = 'completed'"),
                     2);
    /* a small noisy table (3 overlapping blobs in 3 dimensions): the
     * defaults memorise one batch of it, but slowly; the check that ended
     * still falling runs again, ten times as long, and passes */
    submit_blobs(&h, "slow", 1, 300, 3, 3, 0, 1);
    ck_assert_str_eq(hp_harness_wait_study(&h, "slow", 300), "completed");
    ck_assert_int_eq(sanity_events(&h, "slow",
                                   "still memorising after 300 steps%checking again with 3000 "
                                   "steps"),
                     1);
    ck_assert_int_eq(sanity_events(&h, "slow", "PASS:%in 3000 steps%"), 1);
    hp_harness_fini(&h);
}
END_TEST

/* Runs hpsearch report STUDY --db DB --format json and returns the value
 * of terms.distribution_shift (NAN when it is null). */
static double shift_term(hp_harness_t *h, const char *study)
{
    char cmd[2048], out[16384];
    snprintf(cmd, sizeof cmd, "%s/hpsearch report %s --db %s --format json", h->bin, study, h->db);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    ck_assert_int_eq(pclose(p), 0);
    const char *k = strstr(out, "\"distribution_shift\":{\"value\":");
    ck_assert_msg(k != NULL, "no distribution_shift in %s", out);
    k += strlen("\"distribution_shift\":{\"value\":");
    return strncmp(k, "null", 4) == 0 ? NAN : strtod(k, NULL);
}

START_TEST(test_distribution_shift_measured_end_to_end)
{
    hp_harness_t h;
    hp_harness_init(&h, "shift");
    hp_harness_start_daemon(&h, NULL);
    pid_t w[1];
    start_workers(&h, 1, w);
#define SHIFT_SPEC(name, shift)                                                                \
    "name: " name "\nobjective: {metric: val_error, human_error: 0.05}\n"                        \
    "search: {algorithm: random, max_trials: 1, sanity_check: false}\n"                          \
    "space:\n  hidden: {type: int, low: 64, high: 128}\n"                                       \
    "trial:\n  model: mlp\n  dataset: {name: fashion-mnist, train_subset: 2000" shift "}\n"      \
    "  epochs: 2\n"
    const char *spec1 = SHIFT_SPEC("night", ", shift: darken");
    const char *spec2 = SHIFT_SPEC("day", ", shift: same");
    hp_harness_submit(&h, spec1);
    hp_harness_submit(&h, spec2);
    ck_assert_str_eq(hp_harness_wait_study(&h, "night", 300), "completed");
    ck_assert_str_eq(hp_harness_wait_study(&h, "day", 300), "completed");
    /* the darkened test distribution shows as a material shift term; the
     * control (a test-distribution set with no shift) as a near-zero one */
    double night = shift_term(&h, "night"), day = shift_term(&h, "day");
    ck_assert_msg(night > 0.05, "shift term %g", night);
    ck_assert_msg(fabs(day) < 0.04, "shift term %g without a shift", day);
    /* the baselines came with the result */
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM metrics WHERE step = -1 AND "
                                              "name IN ('baseline_majority_error', "
                                              "'baseline_linear_error')"),
                     4);
    hp_harness_fini(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("integration_service");
    TCase *tc = tcase_create("service");
    tcase_add_test(tc, test_50_trials_3_workers);
    tcase_add_test(tc, test_kill_worker_mid_trial);
    tcase_add_test(tc, test_kill_coordinator_mid_study);
    tcase_add_test(tc, test_worker_started_before_coordinator);
    tcase_add_test(tc, test_external_program_outcomes);
    tcase_add_test(tc, test_cancel_stops_running_trials_keeps_results);
    tcase_add_test(tc, test_bayes_and_coarse_to_fine_through_the_service);
    tcase_add_test(tc, test_learning_curves_diagnosed_and_divergence_stopped);
    tcase_add_test(tc, test_builtin_training_diagnosed);
    tcase_add_test(tc, test_sanity_check_before_the_first_trial);
    tcase_add_test(tc, test_distribution_shift_measured_end_to_end);
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
