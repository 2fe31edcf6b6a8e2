/* Early stopping through the real hpsearchd and hpworker: asha stops the
 * trials of an external program (and the program's children) that are not
 * in the top 1/eta at a rung, with the reason a person reads; a coordinator
 * killed with SIGKILL mid-study and restarted makes the same decisions from
 * what it stored; a program that ignores SIGTERM is killed after
 * trial.kill_grace; the median rule decides as computed; hpsearch run
 * counts pruned trials; a trial the rule cannot judge runs to the end, with
 * one warning event; a rung whose values rank the ends backwards stops no
 * trial under the rank check, with one pruning_rung event.
 *
 * Every decision is fixed by construction, never by timing: one worker slot
 * runs the trials in grid order, and the program waits after each step until
 * the coordinator has stored it (so the decision on that step is made before
 * the next step exists). Trial x's loss at step i is x + 1/i. With
 * reduction_factor 3, rungs at steps 1 and 3 (max_resource 9):
 *   trial 0 x=0.50: alone at each rung, completes (0.611111)
 *   trial 1 x=0.70: 1.7 at rung 1, not the best of 2 -> pruned at step 1
 *   trial 2 x=0.40: the best at both rungs, completes (0.511111)
 *   trial 3 x=0.45: 1.45, 4 at rung 1 keep 1 (cut-off 1.4) -> pruned at 1
 *   trial 4 x=0.42: 1.42, 5 at rung 1 keep 1 -> pruned at step 1
 *   trial 5 x=0.41: 1.41, 6 at rung 1 keep 2 (cut-off 1.41): continues;
 *                   0.743333 at rung 3, 3 there keep 1 (0.733333) -> pruned at 3 */
#include "harness.h"
#include "hp_it.h"

#include "hp_check.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GUARD_S 120

static char spec[4096];

/* The program (its pid in DIR/program-N): a background child (its pid in
 * DIR/child-N), then "step=i loss=x+1/i" for i = 1..9, each waited on until
 * stored. With DIR/hold present, trial 3 first waits for DIR/gate; with
 * DIR/hold-N-I, trial N waits for DIR/gate after step I is stored, the
 * first time only (it touches DIR/held-N-I); with DIR/stubborn, SIGTERM
 * only makes it touch DIR/term-N and go on; with DIR/worse, a re-run after
 * step 3 was held reports 1 more at every step; with DIR/cross, the loss
 * at step i is x + 2(1 - x)/i instead (step 1 ranks the trials backwards:
 * 2 - x; step 9 forwards: (7x + 2)/9). */
static void write_program(hp_harness_t *h)
{
    char text[2048];
    snprintf(text, sizeof text,
             "#!/bin/sh\n"
             "x=$1; n=$HPSEARCH_TRIAL_NUMBER; d=%s\n"
             "echo $$ > $d/program-$n\n"
             "[ -e $d/stubborn ] && trap ': > $d/term-$n' TERM\n"
             "sleep 600 </dev/null >/dev/null 2>&1 &\n"
             "echo $! > $d/child-$n\n"
             "if [ \"$n\" = 3 ] && [ -e $d/hold ]; then\n"
             "  touch $d/held; while [ ! -e $d/gate ]; do sleep 0.05; done\n"
             "fi\n"
             "off=0; [ -e $d/worse ] && [ -e $d/held-$n-3 ] && off=1\n"
             "k=1; [ -e $d/cross ] && k=$(awk -v x=$x 'BEGIN { print 2 * (1 - x) }')\n"
             "i=1\n"
             "while [ $i -le 9 ]; do\n"
             "  echo \"step=$i loss=$(awk -v x=$x -v i=$i -v o=$off -v k=$k "
             "'BEGIN { print x + o + k / i }')\"\n"
             "  until [ \"$(sqlite3 $d/study.db \"SELECT count(*) FROM metrics m JOIN trials t "
             "ON t.id = m.trial_id WHERE t.number = $n AND m.step = $i AND m.name = 'loss' AND "
             "m.attempt = t.attempts\")\" = 1 ]; do sleep 0.02; done\n"
             "  if [ -e $d/hold-$n-$i ] && [ ! -e $d/held-$n-$i ]; then\n"
             "    touch $d/held-$n-$i; while [ ! -e $d/gate ]; do sleep 0.05; done\n"
             "  fi\n"
             "  i=$((i + 1))\n"
             "done\n",
             h->dir);
    hp_harness_write_file(h, "curve.sh", text);
}

static const char *asha_spec_grace(hp_harness_t *h, const char *name, const char *metric,
                                   const char *kill_grace)
{
    snprintf(spec, sizeof spec,
             "name: %s\nobjective: {metric: loss}\n"
             "search: {algorithm: grid, parallelism: 1}\n"
             "space:\n  x: {type: categorical, values: [0.5, 0.7, 0.4, 0.45, 0.42, 0.41]}\n"
             "trial:\n  command: [sh, %s/curve.sh, '{x}']\n  timeout: 600\n"
             "  kill_grace: %s\n"
             "pruning: {rule: asha, metric: %s, min_resource: 1, max_resource: 9, "
             "reduction_factor: 3}\n",
             name, h->dir, kill_grace, metric);
    return spec;
}

/* The median rule after 2 completed trials, on x = 0.4, 0.5 (completed:
 * too few to judge), 0.7 (1.7 at step 1, median of 1.4 and 1.5 is 1.45:
 * pruned), 0.44 (1.44 < 1.45, and 0.44 + 1/i below 0.45 + 1/i after:
 * completes), 0.9 (median of 1.4, 1.44, 1.5 is 1.44: pruned), 0.43
 * (below 0.44 + 1/i: completes). */
static const char *median_spec(hp_harness_t *h)
{
    snprintf(spec, sizeof spec,
             "name: median\nobjective: {metric: loss}\n"
             "search: {algorithm: grid, parallelism: 1}\n"
             "space:\n  x: {type: categorical, values: [0.4, 0.5, 0.7, 0.44, 0.9, 0.43]}\n"
             "trial:\n  command: [sh, %s/curve.sh, '{x}']\n  timeout: 600\n"
             "pruning: {rule: median, min_trials: 2}\n",
             h->dir);
    return spec;
}

static const char *asha_spec(hp_harness_t *h, const char *name, const char *metric)
{
    return asha_spec_grace(h, name, metric, "10");
}

/* A daemon and one worker slot run the study to its end. */
static void run_to_end(hp_harness_t *h, const char *spec_text, const char *name)
{
    hp_harness_start_daemon(h, NULL);
    hp_harness_spawn(h, "hpworker", "--connect", h->listen, "--slots", "1", NULL);
    hp_harness_submit(h, spec_text);
    const char *state = hp_harness_wait_study(h, name, GUARD_S);
    ck_assert_ptr_nonnull(state);
    ck_assert_str_eq(state, "completed");
}

/* trial number's state and error, as stored */
static void expect_trial(hp_harness_t *h, int number, const char *state, const char *error)
{
    char sql[256], got[512];
    snprintf(sql, sizeof sql, "SELECT state FROM trials WHERE number = %d", number);
    ck_assert_ptr_nonnull(hp_harness_db_text(h->db, sql, got, sizeof got));
    ck_assert_msg(strcmp(got, state) == 0, "trial %d is %s, want %s", number, got, state);
    if (!error)
        return;
    snprintf(sql, sizeof sql, "SELECT error FROM trials WHERE number = %d", number);
    ck_assert_ptr_nonnull(hp_harness_db_text(h->db, sql, got, sizeof got));
    ck_assert_str_eq(got, error);
}

/* What the header comment computes. */
static void expect_decisions(hp_harness_t *h)
{
    expect_trial(h, 0, "completed", NULL);
    expect_trial(h, 1, "pruned",
                 "pruned at step 1 by asha: loss 1.7 is not the best of the 2 trials at rung 1, "
                 "best 1.5");
    expect_trial(h, 2, "completed", NULL);
    expect_trial(h, 3, "pruned",
                 "pruned at step 1 by asha: loss 1.45 not in the top 1/3 of 4 trials at rung 1, "
                 "cut-off 1.4");
    expect_trial(h, 4, "pruned",
                 "pruned at step 1 by asha: loss 1.42 not in the top 1/3 of 5 trials at rung 1, "
                 "cut-off 1.4");
    expect_trial(h, 5, "pruned",
                 "pruned at step 3 by asha: loss 0.743333 not in the top 1/3 of 3 trials at rung "
                 "3, cut-off 0.733333");
    ck_assert_int_eq(hp_harness_db_int(h->db, "SELECT count(*) FROM events WHERE kind = "
                                              "'trial_pruned'"),
                     4);
    /* where each was stopped, as a column */
    char steps[64];
    ck_assert_ptr_nonnull(hp_harness_db_text(h->db, "SELECT group_concat(coalesce(pruned_step, "
                                                    "'-'), '') FROM (SELECT pruned_step FROM "
                                                    "trials ORDER BY number)",
                                             steps, sizeof steps));
    ck_assert_str_eq(steps, "-1-113");
    /* the completed ones ran every step */
    ck_assert_int_eq(hp_harness_db_int(h->db, "SELECT count(*) FROM metrics m JOIN trials t ON "
                                              "t.id = m.trial_id WHERE t.number IN (0, 2) AND "
                                              "m.name = 'loss' AND m.step BETWEEN 1 AND 9 "
                                              "AND m.attempt = t.attempts"),
                     18);
    ck_assert_int_eq(hp_harness_db_int(h->db, "SELECT CAST(round(value * 1e6) AS INTEGER) FROM "
                                              "trials WHERE number = 2"),
                     511111);
}

/* A process is gone when it does not exist or is a zombie nobody reaped. */
static int process_gone(pid_t pid)
{
    if (kill(pid, 0) < 0)
        return errno == ESRCH;
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' && paren[2] == 'Z';
}

static pid_t pid_in(hp_harness_t *h, const char *what, int number)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s-%d", h->dir, what, number);
    char *text = hp_check_slurp(path, 0);
    pid_t pid = (pid_t)strtol(text, NULL, 10);
    free(text);
    ck_assert_int_gt(pid, 1);
    return pid;
}

static pid_t child_of(hp_harness_t *h, int number) { return pid_in(h, "child", number); }

static void wait_gone(pid_t pid, const char *what, int number)
{
    struct timespec ts = {0, 50 * 1000000L};
    for (int i = 0; !process_gone(pid) && i < GUARD_S * 20; i++)
        nanosleep(&ts, NULL);
    ck_assert_msg(process_gone(pid), "trial %d's %s %d outlived its pruned program", number,
                  what, (int)pid);
}

/* The pruned trials' programs were stopped with their whole process group:
 * their background children are gone (waited for: the signal and the
 * reaping take their time, not a fixed one). The completed trials'
 * children are the test's to stop. */
static void expect_children_gone(hp_harness_t *h)
{
    static const int pruned[] = {1, 3, 4, 5};
    for (size_t k = 0; k < sizeof pruned / sizeof *pruned; k++) {
        wait_gone(child_of(h, pruned[k]), "child", pruned[k]);
        wait_gone(pid_in(h, "program", pruned[k]), "program", pruned[k]);
    }
    kill(child_of(h, 0), SIGKILL);
    kill(child_of(h, 2), SIGKILL);
}

START_TEST(test_asha_stops_the_hopeless)
{
    static hp_harness_t h;
    hp_harness_init(&h, "prune-asha");
    write_program(&h);
    run_to_end(&h, asha_spec(&h, "asha", "loss"), "asha");
    expect_decisions(&h);
    expect_children_gone(&h);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_restart_makes_the_same_decisions)
{
    static hp_harness_t h;
    hp_harness_init(&h, "prune-restart");
    write_program(&h);
    hp_harness_write_file(&h, "hold", "1\n");
    hp_harness_start_daemon(&h, "--lease-ms", "2000", "--heartbeat-ms", "200", NULL);
    hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "1", NULL);
    hp_harness_submit(&h, asha_spec(&h, "restart", "loss"));
    /* trials 0..2 are decided; trial 3 waits before its first step */
    char held[700];
    snprintf(held, sizeof held, "%s/held", h.dir);
    struct timespec ts = {0, 50 * 1000000L};
    for (int i = 0; access(held, F_OK) != 0 && i < GUARD_S * 20; i++)
        nanosleep(&ts, NULL);
    ck_assert_int_eq(access(held, F_OK), 0);
    hp_harness_kill(&h, h.daemon, SIGKILL);
    h.daemon = 0;
    /* a new coordinator rebuilds the rungs from the store */
    hp_harness_start_daemon(&h, "--lease-ms", "2000", "--heartbeat-ms", "200", NULL);
    /* the gate opens at once: a report the worker sends before it has
     * said HELLO again is sent again after it (the program waits for each
     * report to be stored, so a lost one would hang it) */
    hp_harness_write_file(&h, "gate", "open\n");
    const char *state = hp_harness_wait_study(&h, "restart", GUARD_S);
    ck_assert_ptr_nonnull(state);
    ck_assert_str_eq(state, "completed");
    expect_decisions(&h);
    expect_children_gone(&h);
    hp_harness_fini(&h);
}
END_TEST

/* A program that ignores SIGTERM is killed after trial.kill_grace; the
 * trial still ends pruned, with its children gone. */
/* A worker SIGKILLed while trial 2 (the best so far) has reported rungs 1
 * and 3: its attempt is lost and the trial is re-run by another worker,
 * which (DIR/worse) reports 1 more at each step. It is judged afresh, its
 * first attempt's values forgotten: 2.4 at rung 1 among 1.5 and 1.7 is
 * pruned. (Had the first attempt's steps counted, the re-run's would be
 * taken for repeats and never judged.) */
START_TEST(test_worker_killed_mid_rung)
{
    static hp_harness_t h;
    hp_harness_init(&h, "prune-worker");
    write_program(&h);
    hp_harness_write_file(&h, "hold-2-3", "1\n");
    hp_harness_write_file(&h, "worse", "1\n");
    /* the killed worker's lease is waited out, not slept: 3 s keeps the
     * healthy worker's from expiring on a loaded machine */
    hp_harness_start_daemon(&h, "--lease-ms", "3000", "--heartbeat-ms", "100", NULL);
    pid_t a = hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "1", NULL);
    hp_harness_submit(&h, asha_spec(&h, "lost", "loss"));
    char held[700];
    snprintf(held, sizeof held, "%s/held-2-3", h.dir);
    struct timespec ts = {0, 50 * 1000000L};
    for (int i = 0; access(held, F_OK) != 0 && i < GUARD_S * 20; i++)
        nanosleep(&ts, NULL);
    ck_assert_int_eq(access(held, F_OK), 0);
    hp_harness_kill(&h, a, SIGKILL);
    /* its program lives on, waiting: the gate lets it go (and die on its
     * closed pipe); the next worker re-runs the trial after the lease */
    pid_t orphan = pid_in(&h, "program", 2);
    hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "1", NULL);
    hp_harness_write_file(&h, "gate", "open\n");
    const char *state = hp_harness_wait_study(&h, "lost", GUARD_S);
    ck_assert_ptr_nonnull(state);
    ck_assert_str_eq(state, "completed");
    expect_trial(&h, 2, "pruned",
                 "pruned at step 1 by asha: loss 2.4 not in the top 1/3 of 3 trials at rung 1, "
                 "cut-off 1.5");
    ck_assert_int_eq(hp_harness_db_int(h.db, "SELECT pruned_step FROM trials WHERE number = 2"),
                     1);
    ck_assert_int_eq(hp_harness_db_int(h.db, "SELECT count(*) FROM trial_attempts a JOIN trials t "
                                             "ON t.id = a.trial_id WHERE t.number = 2"),
                     2);
    ck_assert_int_eq(hp_harness_db_int(h.db, "SELECT count(*) FROM trial_attempts a JOIN trials t "
                                             "ON t.id = a.trial_id WHERE t.number = 2 AND "
                                             "a.outcome = 'lost'"),
                     1);
    kill(orphan, SIGKILL);
    for (int n = 0; n < 6; n++)
        kill(child_of(&h, n), SIGKILL);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_kill_grace_then_sigkill)
{
    static hp_harness_t h;
    hp_harness_init(&h, "prune-grace");
    write_program(&h);
    hp_harness_write_file(&h, "stubborn", "1\n");
    /* a grace a loaded machine's scheduling cannot eat: the trap runs once
     * the shell's current command (a sqlite3 poll) returns */
    run_to_end(&h, asha_spec_grace(&h, "grace", "loss", "1.5"), "grace");
    expect_decisions(&h);
    expect_children_gone(&h);
    /* they were asked first */
    char path[700];
    static const int pruned[] = {1, 3, 4, 5};
    for (size_t k = 0; k < sizeof pruned / sizeof *pruned; k++) {
        snprintf(path, sizeof path, "%s/term-%d", h.dir, pruned[k]);
        ck_assert_msg(access(path, F_OK) == 0, "trial %d never saw SIGTERM", pruned[k]);
    }
    hp_harness_fini(&h);
}
END_TEST

/* What an hpsearch command the harness spawned printed, once it exited 0
 * (hp_it.h's wait_exit and child_log: the log holds both streams). */
static char *cli_log(hp_harness_t *h, pid_t pid)
{
    int st = wait_exit(h, pid);
    char *out = child_log(h, "hpsearch", pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", out);
    return out;
}

/* hpsearch run counts pruned trials apart from failed ones, and ends with
 * what pruning saved. */
START_TEST(test_run_shows_pruning)
{
    static hp_harness_t h;
    hp_harness_init(&h, "prune-run");
    write_program(&h);
    const char *path = hp_harness_write_file(&h, "asha.yaml", asha_spec(&h, "run", "loss"));
    char spec_path[700];
    snprintf(spec_path, sizeof spec_path, "%s", path);
    char *out = cli_log(&h, hp_harness_spawn(&h, "hpsearch", "run", spec_path, "--workers", "1",
                                             "--db", h.db, NULL));
    ck_assert_msg(strstr(out, "run: 6/6 done (0 failed, 4 pruned), 0 running") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "(2 completed, 0 failed, 4 pruned, 0 cancelled)") != NULL, "%s",
                  out);
    ck_assert_msg(strstr(out, "pruning (asha on loss, trials complete at step 9)\n"
                              "  pruned            4 of 6 finished trials; at step 1: 3, at "
                              "step 3: 1\n") != NULL,
                  "%s", out);
    free(out);
    expect_decisions(&h);
    expect_children_gone(&h);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_median_rule_through_the_service)
{
    static hp_harness_t h;
    hp_harness_init(&h, "prune-median");
    write_program(&h);
    run_to_end(&h, median_spec(&h), "median");
    expect_trial(&h, 0, "completed", NULL);
    expect_trial(&h, 1, "completed", NULL);
    expect_trial(&h, 2, "pruned",
                 "pruned at step 1 by median: best loss so far 1.7 is worse than the median 1.45 "
                 "of 2 completed trials at step 1");
    expect_trial(&h, 3, "completed", NULL);
    expect_trial(&h, 4, "pruned",
                 "pruned at step 1 by median: best loss so far 1.9 is worse than the median 1.44 "
                 "of 3 completed trials at step 1");
    expect_trial(&h, 5, "completed", NULL);
    for (int n = 0; n < 6; n++)
        if (n != 2 && n != 4)
            kill(child_of(&h, n), SIGKILL);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_unjudged_metric_runs_on_with_one_warning)
{
    static hp_harness_t h;
    hp_harness_init(&h, "prune-unjudged");
    write_program(&h);
    run_to_end(&h, asha_spec(&h, "unjudged", "val_loss"), "unjudged");
    ck_assert_int_eq(hp_harness_db_int(h.db, "SELECT count(*) FROM trials WHERE state = "
                                             "'completed'"),
                     6);
    ck_assert_int_eq(hp_harness_db_int(h.db, "SELECT count(*) FROM events WHERE kind = "
                                             "'pruning_unjudged'"),
                     1);
    char msg[512];
    ck_assert_ptr_nonnull(hp_harness_db_text(h.db, "SELECT message FROM events WHERE kind = "
                                                   "'pruning_unjudged'",
                                             msg, sizeof msg));
    ck_assert_str_eq(msg, "pruning.metric 'val_loss' was never reported by trial 0 (it "
                          "reported: loss); trials that do not report it run to the end "
                          "unjudged");
    for (int n = 0; n < 6; n++)
        kill(child_of(&h, n), SIGKILL);
    hp_harness_fini(&h);
}
END_TEST

/* The rank check with one rung (step 1: max_resource 3, reduction_factor
 * 3) and cross curves, min_trials 2, min_rank_correlation 0.5:
 *   trial 0 x=0.2: 1.8 at rung 1, alone: goes on, ends at 0.377778
 *   trial 1 x=0.3: 1.7, the best of 2: goes on, ends at 0.455556
 *   trial 2 x=0.1: 1.9, 3 at the rung keep 1 (cut-off 1.7): asha stops it,
 *                  but the 2 pairs rank at -1 < 0.5: spared (the event)
 *   trial 3 x=0.5: 1.5, the best: goes on
 *   trial 4 x=0.05: 1.95, not the best; the 4 pairs rank at -1: spared
 * so every trial completes, where plain asha stops trials 2 and 4. */
START_TEST(test_rank_check_spares_a_rung_that_ranks_backwards)
{
    static hp_harness_t h;
    hp_harness_init(&h, "prune-rank");
    write_program(&h);
    hp_harness_write_file(&h, "cross", "");
    snprintf(spec, sizeof spec,
             "name: rank\nobjective: {metric: loss}\n"
             "search: {algorithm: grid, parallelism: 1}\n"
             "space:\n  x: {type: categorical, values: [0.2, 0.3, 0.1, 0.5, 0.05]}\n"
             "trial:\n  command: [sh, %s/curve.sh, '{x}']\n  timeout: 600\n"
             "pruning: {rule: asha, min_resource: 1, max_resource: 3, reduction_factor: 3, "
             "min_rank_correlation: 0.5, min_trials: 2}\n",
             h.dir);
    run_to_end(&h, spec, "rank");
    for (int n = 0; n < 5; n++)
        expect_trial(&h, n, "completed", NULL);
    ck_assert_int_eq(hp_harness_db_int(h.db, "SELECT count(*) FROM events WHERE kind = "
                                             "'pruning_rung'"),
                     1);
    char msg[512];
    ck_assert_ptr_nonnull(hp_harness_db_text(h.db, "SELECT e.message || ' / ' || t.number "
                                                   "FROM events e JOIN trials t ON t.id = "
                                                   "e.trial_id WHERE e.kind = 'pruning_rung'",
                                             msg, sizeof msg));
    ck_assert_str_eq(msg, "rung 1 stops no trial for now: its loss ranks the 2 trials that "
                          "completed after it at Spearman -1.000, below "
                          "pruning.min_rank_correlation 0.5 / 2");
    /* and report says where the rank check stands */
    res_t r = CLI(&h, "report", "--db", h.db, "rank");
    OK(r);
    HAS(r.out, "  pruned            0 of 5 finished trials\n");
    HAS(r.out, "  rank check        rung 1 stops no trial for now: its loss ranks the 2 trials "
               "that completed after it at Spearman -1.000");
    res_free(&r);
    for (int n = 0; n < 5; n++)
        kill(child_of(&h, n), SIGKILL);
    hp_harness_fini(&h);
}
END_TEST

/* bayes learns from pruned trials at their projections to the end
 * (pruning.pruned_value projected, the default) or no better than the
 * worst completed one (worst). Every curve of curve.sh falls by the same
 * amount from step 1 to 9 (x + 1/i), so a projection from rung 1 is the
 * trial's true end, x + 1/9. One slot and parallelism 1 make a study's
 * order fixed, so two studies that differ only in pruned_value suggest the
 * same points until a suggestion has a projection to use (a pruned trial
 * and 3 trials completed from rung 1 before it), and differ after. */
#define BAYES_TRIALS 14

/* one such study to its end: each trial's x and state */
static void bayes_study(const char *extra, char x[][64], char state[][32])
{
    static hp_harness_t h;
    hp_harness_init(&h, "prune-bayes");
    write_program(&h);
    snprintf(spec, sizeof spec,
             "name: bayes\nobjective: {metric: loss}\n"
             "search: {algorithm: bayes, max_trials: %d, n_initial: 4, parallelism: 1, seed: 3}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial:\n  command: [sh, %s/curve.sh, '{x}']\n  timeout: 600\n"
             "pruning: {rule: asha, min_resource: 1, max_resource: 9, reduction_factor: 3%s}\n",
             BAYES_TRIALS, h.dir, extra);
    run_to_end(&h, spec, "bayes");
    for (int n = 0; n < BAYES_TRIALS; n++) {
        char q[160];
        snprintf(q, sizeof q, "SELECT json_extract(params, '$.x') FROM trials WHERE number = %d",
                 n);
        ck_assert_ptr_nonnull(hp_harness_db_text(h.db, q, x[n], 64));
        snprintf(q, sizeof q, "SELECT state FROM trials WHERE number = %d", n);
        ck_assert_ptr_nonnull(hp_harness_db_text(h.db, q, state[n], 32));
        kill(child_of(&h, n), SIGKILL);
    }
    hp_harness_fini(&h);
}

START_TEST(test_bayes_learns_from_projections)
{
    static char xp[BAYES_TRIALS][64], xw[BAYES_TRIALS][64], sp[BAYES_TRIALS][32],
        sw[BAYES_TRIALS][32];
    bayes_study("", xp, sp);
    bayes_study(", pruned_value: worst", xw, sw);
    int first_projected = -1, differ = 0, completed = 0, pruned = 0;
    for (int n = 0; n < BAYES_TRIALS; n++) {
        /* trial n was suggested from trials 0..n-1 of its study */
        if (first_projected < 0 && pruned > 0 && completed >= 3)
            first_projected = n;
        if (first_projected < 0)
            ck_assert_msg(strcmp(xp[n], xw[n]) == 0, "trial %d: x %s and %s before any projection",
                          n, xp[n], xw[n]);
        else if (strcmp(xp[n], xw[n]) != 0)
            differ = 1;
        completed += strcmp(sp[n], "completed") == 0;
        pruned += strcmp(sp[n], "pruned") == 0;
    }
    ck_assert_msg(first_projected > 0 && first_projected < BAYES_TRIALS,
                  "no suggestion had a projection to use (%d completed, %d pruned)", completed,
                  pruned);
    ck_assert_msg(differ, "the projections from trial %d on did not change what bayes suggested",
                  first_projected);
}
END_TEST

static Suite *pruning_suite(void)
{
    Suite *s = suite_create("integration_pruning");
    TCase *tc = tcase_create("asha");
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    tcase_add_test(tc, test_asha_stops_the_hopeless);
    tcase_add_test(tc, test_restart_makes_the_same_decisions);
    tcase_add_test(tc, test_worker_killed_mid_rung);
    tcase_add_test(tc, test_kill_grace_then_sigkill);
    tcase_add_test(tc, test_run_shows_pruning);
    tcase_add_test(tc, test_median_rule_through_the_service);
    tcase_add_test(tc, test_unjudged_metric_runs_on_with_one_warning);
    tcase_add_test(tc, test_rank_check_spares_a_rung_that_ranks_backwards);
    tcase_add_test(tc, test_bayes_learns_from_projections);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_check_run(pruning_suite());
}
