/* hpsearch enqueue, ask and tell with real processes: hpsearchd and
 * hpworker children on private sockets and the hpsearch CLI against them.
 * An enqueued configuration is the next trial run, exactly as given, and
 * bad values are refused naming the parameter; a trial asked for runs in
 * the test's own "loop" until it is told (its curve stored from metric
 * lines, once only), survives a restart, and a study driven only by
 * ask/tell completes. Nothing waits a fixed time: every wait polls for a
 * condition. */
#include "harness.h"
#include "hp_it.h"

#include "hp_check.h"
#include "hp_spawn.h"

#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define FAILS(r)                                                                              \
    ck_assert_msg((r).status == 1, "expected exit 1, got %d: %s%s", (r).status, (r).out,      \
                  (r).err)
/* the output of `hpsearch sql --format csv SQL`, without its header line */
static char *sql(hp_harness_t *h, const char *q)
{
    res_t r = CLI(h, "sql", "--format", "csv", q);
    OK(r);
    free(r.err);
    char *nl = strchr(r.out, '\n');
    char *rows = strdup(nl ? nl + 1 : "");
    free(r.out);
    return rows;
}

/* stops the daemon as a user would and checks it exits cleanly (under
 * the sanitizers: nothing leaked), then cleans up */
static void finish(hp_harness_t *h)
{
    int st = hp_harness_kill(h, h->daemon, SIGTERM);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "hpsearchd ended with status %d; see %s",
                  st, h->dir);
    hp_harness_fini(h);
}

static void submit(hp_harness_t *h, const char *file, const char *spec)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", hp_harness_write_file(h, file, spec));
    res_t r = CLI(h, "submit", path);
    OK(r);
    res_free(&r);
}

/* asks for a trial (json form) and returns its number */
static long ask(hp_harness_t *h, const char *study)
{
    res_t r = CLI(h, "ask", "--format", "json", study);
    OK(r);
    char want[200];
    snprintf(want, sizeof want, "{\"study\":\"%s\",\"number\":", study);
    ck_assert_msg(strncmp(r.out, want, strlen(want)) == 0, "ask printed: %s", r.out);
    long n = strtol(r.out + strlen(want), NULL, 10);
    HAS(r.out, ",\"params\":{");
    res_free(&r);
    return n;
}

static void tell_value(hp_harness_t *h, const char *study, long number, const char *value)
{
    char num[32];
    snprintf(num, sizeof num, "%ld", number);
    res_t r = CLI(h, "tell", study, num, "--value", value);
    OK(r);
    HAS(r.out, "completed");
    res_free(&r);
}

static const char bayes_spec[] =
    "name: steer\nobjective: {metric: value}\n"
    "search: {algorithm: bayes, max_trials: 6, parallelism: 1, seed: 5, n_initial: 2}\n"
    "space:\n  x1: {type: float, low: -5, high: 10}\n  x2: {type: float, low: 0, high: 15}\n"
    "trial: {function: branin}\n";

START_TEST(test_enqueue_runs_first_as_given)
{
    hp_harness_t h;
    hp_harness_init(&h, "asktell-enqueue");
    hp_harness_start_daemon(&h, NULL);
    submit(&h, "steer.yaml", bayes_spec);
    /* two trials told by us, so the study has a history and runs */
    for (int i = 0; i < 2; i++)
        tell_value(&h, "steer", ask(&h, "steer"), i ? "20" : "30");

    /* mistakes, each naming the parameter; nothing is queued by them */
    res_t r = CLI(&h, "enqueue", "steer", "--set", "x1=1", "--set", "x22=2");
    FAILS(r);
    HAS(r.err, "no parameter 'x22' in the space (did you mean 'x2'?)");
    res_free(&r);
    r = CLI(&h, "enqueue", "steer", "--set", "x1=11", "--set", "x2=2");
    FAILS(r);
    HAS(r.err, "x1: 11 is outside its range [-5, 10]");
    res_free(&r);
    r = CLI(&h, "enqueue", "steer", "--set", "x1=1");
    FAILS(r);
    HAS(r.err, "missing x2");
    res_free(&r);
    r = CLI(&h, "enqueue", "steer", "--set", "x1");
    ck_assert_int_eq(r.status, 2);
    HAS(r.err, "--set wants NAME=VALUE");
    res_free(&r);
    r = CLI(&h, "enqueue", "stear", "--set", "x1=1", "--set", "x2=2");
    FAILS(r);
    HAS(r.err, "no study named 'stear' (did you mean 'steer'?)");
    res_free(&r);

    /* the chosen point: the next number, pending until a worker takes it */
    r = CLI(&h, "enqueue", "--format", "json", "steer", "--set", "x1=3.14159", "--set",
            "x2=2.275");
    OK(r);
    ck_assert_str_eq(r.out,
                     "{\"study\":\"steer\",\"number\":2,\"params\":{\"x1\":3.14159,\"x2\":2.275}}"
                     "\n");
    res_free(&r);
    char *rows = sql(&h, "SELECT number, state, origin FROM trials ORDER BY number");
    ck_assert_str_eq(rows, "0,completed,ask\n1,completed,ask\n2,pending,enqueued\n");
    free(rows);
    /* a worker's trial cannot be told */
    r = CLI(&h, "tell", "steer", "2", "--value", "1");
    FAILS(r);
    HAS(r.err, "trial 2 of study 'steer' is pending");
    res_free(&r);

    hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "1", "--heartbeat-ms",
                     "200", NULL);
    const char *st = hp_harness_wait_study(&h, "steer", 300);
    ck_assert_msg(st && strcmp(st, "completed") == 0, "study ended %s", st ? st : "(not)");
    /* run first (before every trial numbered after it), with its params
     * exactly as given, and its result recorded: branin's minimum */
    rows = sql(&h, "SELECT count(*) FROM trials WHERE number > 2 AND started < "
                   "(SELECT min(a.started) FROM trial_attempts a JOIN trials t ON "
                   "t.id = a.trial_id WHERE t.number = 2)");
    ck_assert_str_eq(rows, "0\n");
    free(rows);
    rows = sql(&h, "SELECT json_extract(params, '$.x1'), json_extract(params, '$.x2'), "
                   "state, round(value, 3) FROM trials WHERE number = 2");
    ck_assert_str_eq(rows, "3.14159,2.275,completed,0.398\n");
    free(rows);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials"), 6);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials WHERE origin = "
                                              "'sampler' AND number > 2"),
                     3);
    /* an ended study takes no more */
    r = CLI(&h, "enqueue", "steer", "--set", "x1=1", "--set", "x2=2");
    FAILS(r);
    HAS(r.err, "cannot enqueue: study 'steer' is completed");
    res_free(&r);
    finish(&h);
}
END_TEST

static const char random_spec[] =
    "name: loop\nobjective: {metric: loss}\n"
    "search: {algorithm: random, max_trials: 3, seed: 9}\n"
    "space:\n  lr: {type: float, low: 1e-4, high: 1, log: true}\n"
    "  act: {type: categorical, values: [relu, tanh]}\n"
    "trial: {command: [false], fixed: {epochs: 4}}\n";

START_TEST(test_ask_tell_without_workers)
{
    hp_harness_t h;
    hp_harness_init(&h, "asktell-loop");
    hp_harness_start_daemon(&h, NULL);
    submit(&h, "loop.yaml", random_spec);

    /* the human form: the number, then NAME=VALUE lines, fixed ones too */
    res_t r = CLI(&h, "ask", "loop");
    OK(r);
    HAS(r.out, "trial 0 of study 'loop'\n  lr=");
    HAS(r.out, "\n  epochs=4\n");
    HAS(r.err, "hpsearch tell loop 0 --value V");
    res_free(&r);
    char *rows = sql(&h, "SELECT state, origin FROM trials WHERE number = 0");
    ck_assert_str_eq(rows, "running,ask\n");
    free(rows);
    r = CLI(&h, "tell", "loop", "0", "--value", "0.25", "--metric", "acc=0.9");
    OK(r);
    ck_assert_str_eq(r.out, "study 'loop': trial 0 completed (loss 0.25)\n");
    res_free(&r);
    rows = sql(&h, "SELECT state, value, origin FROM trials WHERE number = 0");
    ck_assert_str_eq(rows, "completed,0.25,ask\n");
    free(rows);
    rows = sql(&h, "SELECT m.step, m.name, m.value FROM metrics m JOIN trials t ON t.id = "
                   "m.trial_id WHERE t.number = 0");
    ck_assert_str_eq(rows, "-1,acc,0.9\n");
    free(rows);
    /* told once */
    r = CLI(&h, "tell", "loop", "0", "--value", "0.1");
    FAILS(r);
    HAS(r.err, "trial 0 of study 'loop' is already completed (value 0.25); a trial is told once");
    res_free(&r);
    r = CLI(&h, "tell", "loop", "7", "--value", "0.1");
    FAILS(r);
    HAS(r.err, "study 'loop' has no trial 7 (its trials are 0..0)");
    res_free(&r);

    /* the curve from metric lines, as a program prints them: steps as
     * written (else the line's place), other lines ignored, the objective
     * its last value */
    long n = ask(&h, "loop");
    ck_assert_int_eq(n, 1);
    const char *lines = hp_harness_write_file(&h, "curve.txt",
                                              "epoch 1 starting\n"
                                              "step=10 loss=0.9 acc=0.5\n"
                                              "step=20 loss=0.6\n"
                                              "loss=0.45\n");
    char path[800];
    snprintf(path, sizeof path, "%s", lines);
    r = CLI(&h, "tell", "loop", "1");
    ck_assert_int_eq(r.status, 2);
    HAS(r.err, "nothing to tell");
    res_free(&r);
    const char *only_acc = hp_harness_write_file(&h, "acc.txt", "step=1 acc=0.5\n");
    char accp[800];
    snprintf(accp, sizeof accp, "%s", only_acc);
    r = CLI(&h, "tell", "loop", "1", "--lines", accp);
    FAILS(r);
    HAS(r.err, "no objective: give --value, or report 'loss' with --metric or in the metric "
               "lines (it reported: acc)");
    res_free(&r);
    r = CLI(&h, "tell", "loop", "1", "--lines", path);
    OK(r);
    HAS(r.out, "trial 1 completed (loss 0.45)");
    res_free(&r);
    rows = sql(&h, "SELECT m.step, m.name, m.value FROM metrics m JOIN trials t ON t.id = "
                   "m.trial_id WHERE t.number = 1 ORDER BY m.step, m.name");
    ck_assert_str_eq(rows, "3,loss,0.45\n10,acc,0.5\n10,loss,0.9\n20,loss,0.6\n");
    free(rows);
    rows = sql(&h, "SELECT value FROM trials WHERE number = 1");
    ck_assert_str_eq(rows, "0.45\n");
    free(rows);

    /* the last one fails; the study is done after max_trials tells */
    n = ask(&h, "loop");
    ck_assert_int_eq(n, 2);
    r = CLI(&h, "ask", "loop");
    FAILS(r);
    HAS(r.err, "cannot ask: study 'loop' has given out all its 3 trials");
    res_free(&r);
    /* every trial given out, one not told: the study waits for it */
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM studies WHERE state = "
                                              "'running'"),
                     1);
    r = CLI(&h, "tell", "loop", "2", "--failed", "out of memory");
    OK(r);
    HAS(r.out, "trial 2 failed: out of memory");
    res_free(&r);
    const char *st = hp_harness_wait_study(&h, "loop", 60);
    ck_assert_msg(st && strcmp(st, "completed") == 0, "study ended %s", st ? st : "(not)");
    rows = sql(&h, "SELECT number, state, error FROM trials ORDER BY number");
    ck_assert_str_eq(rows, "0,completed,\n1,completed,\n2,failed,out of memory\n");
    free(rows);
    finish(&h);
}
END_TEST

START_TEST(test_asked_trial_survives_restart_and_cancel)
{
    hp_harness_t h;
    hp_harness_init(&h, "asktell-restart");
    hp_harness_start_daemon(&h, NULL);
    submit(&h, "steer.yaml", bayes_spec);
    long a = ask(&h, "steer"), b = ask(&h, "steer");
    ck_assert_int_eq(a, 0);
    ck_assert_int_eq(b, 1);
    /* a restart keeps both waiting (no worker, no lease to expire) */
    ck_assert_int_eq(hp_harness_kill(&h, h.daemon, SIGTERM) >= 0, 1);
    hp_harness_start_daemon(&h, NULL);
    char *rows = sql(&h, "SELECT number, state FROM trials ORDER BY number");
    ck_assert_str_eq(rows, "0,running\n1,running\n");
    free(rows);
    tell_value(&h, "steer", 0, "12.5");
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT value * 10 FROM trials WHERE number = 0"),
                     125);
    /* cancel ends the one still out */
    res_t r = CLI(&h, "cancel", "steer");
    OK(r);
    HAS(r.out, "1 asked trials");
    res_free(&r);
    rows = sql(&h, "SELECT number, state FROM trials ORDER BY number");
    ck_assert_str_eq(rows, "0,completed\n1,cancelled\n");
    free(rows);
    r = CLI(&h, "tell", "steer", "1", "--value", "3");
    FAILS(r);
    HAS(r.err, "is already cancelled");
    res_free(&r);
    r = CLI(&h, "ask", "steer");
    FAILS(r);
    HAS(r.err, "cannot ask: study 'steer' is cancelled");
    res_free(&r);
    finish(&h);
}
END_TEST

static Suite *ask_tell_suite(void)
{
    Suite *s = suite_create("ask_tell");
    TCase *tc = tcase_create("service");
    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    tcase_add_test(tc, test_enqueue_runs_first_as_given);
    tcase_add_test(tc, test_ask_tell_without_workers);
    tcase_add_test(tc, test_asked_trial_survives_restart_and_cancel);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return hp_check_run(ask_tell_suite()); }
