/* The smaller things a new user meets, with real processes: hpsearchd and
 * hpworker children on private sockets, and the hpsearch CLI run against
 * them and against the database file: status --db, did-you-mean for study
 * names, a trial's program output (hpsearch logs), what a program that
 * never reported the objective did report, the curve's stored step
 * numbers, a column per parameter in trials, and spec warnings on submit.
 * Nothing waits a fixed time: every wait polls for a condition. */
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
#include <unistd.h>

static void start_workers_pids(hp_harness_t *h, int n, pid_t *pids)
{
    for (int i = 0; i < n; i++) {
        pid_t p = hp_harness_spawn(h, "hpworker", "--connect", h->listen, "--slots", "1",
                                   "--heartbeat-ms", "200", NULL);
        if (pids)
            pids[i] = p;
    }
}

static void start_workers(hp_harness_t *h, int n) { start_workers_pids(h, n, NULL); }

/* submits spec through `hpsearch submit` (a file in h's dir) */
static void submit(hp_harness_t *h, const char *file, const char *spec)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", hp_harness_write_file(h, file, spec));
    res_t r = CLI(h, "submit", path);
    OK(r);
    res_free(&r);
}

static void wait_done(hp_harness_t *h, const char *study, const char *want)
{
    const char *st = hp_harness_wait_study(h, study, 300);
    ck_assert_msg(st != NULL, "study %s did not end", study);
    if (want)
        ck_assert_str_eq(st, want);
}

static const char branin[] = "name: branin\nobjective: {metric: value}\n"
                             "search: {algorithm: random, max_trials: 6, parallelism: 2, seed: 3}\n"
                             "space:\n  x1: {type: float, low: -5, high: 10}\n"
                             "  x2: {type: float, low: 0, high: 15}\n"
                             "trial: {function: branin}\n";

/* ---- status --db and did-you-mean --------------------------------------- */

START_TEST(test_status_db_and_did_you_mean)
{
    hp_harness_t h;
    hp_harness_init(&h, "usab-status");
    hp_harness_start_daemon(&h, NULL);
    pid_t w[2];
    start_workers_pids(&h, 2, w);
    submit(&h, "b.yaml", branin);
    wait_done(&h, "branin", "completed");
    /* a second study, cancelled before any worker could run a trial of it:
     * nothing changes between the readings below */
    for (int i = 0; i < 2; i++)
        hp_harness_kill(&h, w[i], SIGKILL);
    submit(&h, "k.yaml", "name: kept-running\nobjective: {metric: value}\n"
                         "search: {algorithm: random, max_trials: 100000, seed: 1}\n"
                         "space:\n  x1: {type: float, low: -5, high: 10}\n"
                         "  x2: {type: float, low: 0, high: 15}\n"
                         "trial: {function: branin}\n");
    res_t r = CLI(&h, "cancel", "kept-running");
    OK(r);
    res_free(&r);

    /* the same output through the daemon and from the file */
    static const char *const forms[][5] = {
        {"status", NULL},
        {"status", "--format", "csv", NULL},
        {"status", "--format", "json", NULL},
        {"status", "branin", NULL},
        {"status", "--format", "json", "1", NULL},
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        const char *args[8], *dbargs[10];
        size_t n = 0;
        for (; forms[i][n]; n++)
            args[n] = dbargs[n] = forms[i][n];
        args[n] = NULL;
        dbargs[n] = "--db";
        dbargs[n + 1] = h.db;
        dbargs[n + 2] = NULL;
        res_t a = cli_v(&h, args), b = cli_v(&h, dbargs);
        OK(a);
        OK(b);
        ck_assert_msg(strcmp(a.out, b.out) == 0, "%s: daemon:\n%s\n--db:\n%s", forms[i][1],
                      a.out, b.out);
        res_free(&a);
        res_free(&b);
    }
    r = CLI(&h, "status", "--format", "csv", "--db", h.db, "branin");
    OK(r);
    HAS(r.out, "1,branin,completed,value,minimize,6,0,0,6,0,0,0,");
    res_free(&r);
    /* without any daemon */
    hp_harness_kill(&h, h.daemon, SIGTERM);
    r = CLI(&h, "status", "--db", h.db, "kept-running");
    OK(r);
    HAS(r.out, "kept-running  cancelled");
    res_free(&r);
    hp_harness_start_daemon(&h, NULL);

    /* an unknown name: the closest stored one, wherever a study is named */
    static const char *const verbs[][3] = {
        {"status", NULL}, {"cancel", NULL}, {"wait", NULL}, {"trials", NULL},
        {"best", NULL},   {"report", NULL}, {"logs", "0"},
    };
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        for (int db = 0; db < 2; db++) {
            if (db && (strcmp(verbs[i][0], "cancel") == 0 || strcmp(verbs[i][0], "wait") == 0))
                continue; /* no --db */
            const char *args[8];
            size_t n = 0;
            args[n++] = verbs[i][0];
            if (db) {
                args[n++] = "--db";
                args[n++] = h.db;
            }
            args[n++] = "brannin";
            if (verbs[i][1])
                args[n++] = verbs[i][1];
            args[n] = NULL;
            r = cli_v(&h, args);
            ck_assert_msg(r.status == 1, "%s: exit %d", verbs[i][0], r.status);
            char want[128];
            snprintf(want, sizeof want, "hpsearch %s: no study named 'brannin' (did you mean "
                                        "'branin'?)",
                     verbs[i][0]);
            HAS(r.err, want);
            res_free(&r);
        }
    }
    r = CLI(&h, "status", "kept-runing");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "no study named 'kept-runing' (did you mean 'kept-running'?) (ENOENT)");
    res_free(&r);
    /* nothing close: no guess */
    r = CLI(&h, "trials", "zzz");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "hpsearch trials: no study named 'zzz'\n");
    res_free(&r);
    r = CLI(&h, "status", "zzz");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "hpsearch status: no study named 'zzz' (ENOENT)\n");
    res_free(&r);

    /* a column per parameter in csv and json, through the daemon and --db */
    for (int db = 0; db < 2; db++) {
        r = db ? CLI(&h, "trials", "--db", h.db, "--format", "csv", "branin")
               : CLI(&h, "trials", "--format", "csv", "branin");
        OK(r);
        HAS(r.out, "number,state,value,params,error,started,ended,duration_s,attempts,"
                   "diagnosis,pruned_step,param_x1,param_x2\n");
        int lines = 0;
        for (const char *p = r.out; *p; p++)
            lines += *p == '\n';
        ck_assert_int_eq(lines, 7);
        res_free(&r);
        r = db ? CLI(&h, "trials", "--db", h.db, "--format", "json", "--limit", "1", "branin")
               : CLI(&h, "trials", "--format", "json", "--limit", "1", "branin");
        OK(r);
        HAS(r.out, "\"params\":{\"x1\":");
        HAS(r.out, ",\"param_x1\":");
        HAS(r.out, ",\"param_x2\":");
        res_free(&r);
    }
    /* the values are the params' */
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials WHERE "
                                              "json_extract(params, '$.x1') IS NOT NULL"),
                     6);
    r = CLI(&h, "sql", "--format", "csv",
            "SELECT json_extract(params, '$.x1') AS x FROM trials t JOIN studies s ON "
            "s.id = t.study_id WHERE s.name = 'branin' AND number = 0");
    OK(r);
    char x1[64];
    ck_assert_int_eq(sscanf(r.out, "x\n%63s", x1), 1);
    res_free(&r);
    r = CLI(&h, "trials", "--format", "csv", "--limit", "1", "branin");
    char want[128];
    snprintf(want, sizeof want, ",%s,", x1);
    HAS(r.out, want);
    res_free(&r);
    /* the table keeps its one params column */
    r = CLI(&h, "trials", "--limit", "1", "branin");
    OK(r);
    LACKS(r.out, "param_x1");
    res_free(&r);
    /* a built-in trial has no program output */
    r = CLI(&h, "logs", "branin", "0");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "hpsearch logs: trial 0 of study 'branin' ran the built-in benchmark function "
               "branin (trial.function): it has no program output");
    res_free(&r);
    hp_harness_fini(&h);
}
END_TEST

/* ---- hpsearch logs ------------------------------------------------------ */

/* trial.sh X MODE: prints to both streams; MODE big writes 3 MB to each,
 * MODE flaky fails its first run (a marker file) */
static const char trial_sh[] =
    "#!/bin/sh\n"
    "echo \"stdout of x=$1\"\n"
    "printf 'stderr \\377\\376 not utf-8\\n' >&2\n"
    "if [ \"$2\" = big ]; then\n"
    "  head -c 3000000 /dev/zero | tr '\\0' o\n"
    "  head -c 3000000 /dev/zero | tr '\\0' e >&2\n"
    "  echo; echo 'the last stdout line'; echo 'the last stderr line' >&2\n"
    "fi\n"
    "if [ \"$2\" = flaky ] && [ ! -e \"$3\" ]; then\n"
    "  touch \"$3\"; echo 'first attempt fails' >&2; exit 3\n"
    "fi\n"
    "echo \"loss=$1\"\n";

START_TEST(test_logs_every_attempt)
{
    hp_harness_t h;
    hp_harness_init(&h, "usab-logs");
    hp_harness_start_daemon(&h, NULL);
    start_workers(&h, 1);
    char script[800], marker[800], spec[3000];
    snprintf(script, sizeof script, "%s", hp_harness_write_file(&h, "trial.sh", trial_sh));
    snprintf(marker, sizeof marker, "%s/flaky.marker", h.dir);
    snprintf(spec, sizeof spec,
             "name: flaky\nobjective: {metric: loss}\n"
             "search: {algorithm: random, max_trials: 1, seed: 2}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial:\n  command: [sh, %s, '{x}', flaky, %s]\n  retries: 1\n",
             script, marker);
    submit(&h, "flaky.yaml", spec);
    snprintf(spec, sizeof spec,
             "name: big\nobjective: {metric: loss}\n"
             "search: {algorithm: random, max_trials: 1, seed: 2}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial:\n  command: [sh, %s, '{x}', big]\n  retries: 0\n",
             script);
    submit(&h, "big.yaml", spec);
    wait_done(&h, "flaky", "completed");
    wait_done(&h, "big", "completed");

    for (int db = 0; db < 2; db++) {
        /* the latest attempt: both streams under headers */
        res_t r = db ? CLI(&h, "logs", "--db", h.db, "flaky", "0") : CLI(&h, "logs", "flaky", "0");
        OK(r);
        HAS(r.out, "==> trial 0, attempt 2 (completed): stdout, ");
        HAS(r.out, "stdout of x=");
        HAS(r.out, "\nloss=");
        /* bytes that are not UTF-8 became U+FFFD, the rest as written */
        HAS(r.out, "\n\n==> trial 0, attempt 2 (completed): stderr, 24 bytes <==\n"
                   "stderr \xEF\xBF\xBD\xEF\xBF\xBD not utf-8\n");
        LACKS(r.out, "first attempt fails");
        res_free(&r);
        /* the failed first attempt keeps its own */
        r = db ? CLI(&h, "logs", "--db", h.db, "--attempt", "1", "--stderr", "flaky", "0")
               : CLI(&h, "logs", "--attempt", "1", "--stderr", "flaky", "0");
        OK(r);
        ck_assert_str_eq(r.out, "stderr \xEF\xBF\xBD\xEF\xBF\xBD not utf-8\nfirst attempt fails\n");
        res_free(&r);
        r = db ? CLI(&h, "logs", "--db", h.db, "--attempt", "1", "--stdout", "flaky", "0")
               : CLI(&h, "logs", "--attempt", "1", "--stdout", "flaky", "0");
        OK(r);
        ck_assert_msg(strncmp(r.out, "stdout of x=", 12) == 0 && !strstr(r.out, "loss="), "%s",
                      r.out);
        res_free(&r);

        /* 3 MB on each stream: the head, a marked cut, the tail; at most 1 MiB */
        for (int s = 0; s < 2; s++) {
            r = db ? CLI(&h, "logs", "--db", h.db, s ? "--stderr" : "--stdout", "big", "0")
                   : CLI(&h, "logs", s ? "--stderr" : "--stdout", "big", "0");
            OK(r);
            size_t len = strlen(r.out);
            /* the cap is on the bytes written; the two bad bytes, 3 each
             * as U+FFFD, may add 4 */
            ck_assert_uint_le(len, (1u << 20) + 4);
            ck_assert_uint_gt(len, (1u << 20) - 1024);
            ck_assert(strncmp(r.out, s ? "stderr \xEF\xBF\xBD" : "stdout of x=", 10) == 0);
            const char *cut = strstr(r.out, "\n[... ");
            ck_assert_ptr_nonnull(cut);
            unsigned long long n = 0;
            ck_assert_int_eq(sscanf(cut, "\n[... %llu bytes cut ...]\n", &n), 1);
            ck_assert_uint_gt(n, 1900000);
            const char *end = s ? "the last stderr line\n" : "the last stdout line\nloss=";
            HAS(r.out + len - 64, end);
            res_free(&r);
        }
        /* errors name what is missing */
        r = db ? CLI(&h, "logs", "--db", h.db, "flaky", "5") : CLI(&h, "logs", "flaky", "5");
        ck_assert_int_eq(r.status, 1);
        HAS(r.err, "hpsearch logs: study 'flaky' has no trial 5 (its trials are 0-0)");
        res_free(&r);
        r = db ? CLI(&h, "logs", "--db", h.db, "--attempt", "3", "flaky", "0")
               : CLI(&h, "logs", "--attempt", "3", "flaky", "0");
        ck_assert_int_eq(r.status, 1);
        HAS(r.err, "trial 0 of study 'flaky' has 2 attempts (got --attempt 3)");
        res_free(&r);
    }
    /* both streams of every ended attempt are stored */
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trial_attempts WHERE "
                                              "stdout IS NOT NULL AND stderr IS NOT NULL"),
                     3);
    res_t r = CLI(&h, "logs", "--stdout", "--stderr", "flaky", "0");
    ck_assert_int_eq(r.status, 2);
    res_free(&r);
    r = CLI(&h, "logs", "flaky");
    ck_assert_int_eq(r.status, 2);
    HAS(r.err, "missing NUMBER");
    res_free(&r);
    hp_harness_fini(&h);
}
END_TEST

/* a lost attempt (its worker killed) has no output, and says why */
START_TEST(test_logs_lost_attempt)
{
    hp_harness_t h;
    hp_harness_init(&h, "usab-lost");
    hp_harness_start_daemon(&h, "--lease-ms", "1500", "--heartbeat-ms", "200", NULL);
    char script[800], marker[800], spec[2000];
    snprintf(marker, sizeof marker, "%s/started", h.dir);
    snprintf(script, sizeof script, "%s",
             hp_harness_write_file(&h, "hang.sh",
                                   "#!/bin/sh\n"
                                   "if [ ! -e \"$1\" ]; then echo $$ > \"$1\"; exec sleep 1000; "
                                   "fi\n"
                                   "echo loss=0.5\n"));
    snprintf(spec, sizeof spec,
             "name: lost\nobjective: {metric: loss}\n"
             "search: {algorithm: random, max_trials: 1}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial:\n  command: [sh, %s, %s]\n  retries: 2\n",
             script, marker);
    pid_t w = hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "1",
                               "--heartbeat-ms", "200", NULL);
    submit(&h, "lost.yaml", spec);
    for (int i = 0; i < 600 && access(marker, F_OK) != 0; i++)
        usleep(50000);
    ck_assert_int_eq(access(marker, F_OK), 0);
    hp_harness_kill(&h, w, SIGKILL);
    /* the program the killed worker left behind (it has its own group) */
    long hung = 0;
    for (int i = 0; i < 600 && hung <= 0; i++) {
        FILE *f = fopen(marker, "r");
        if (f) {
            if (fscanf(f, "%ld", &hung) != 1)
                hung = 0;
            fclose(f);
        }
        if (hung <= 0)
            usleep(50000);
    }
    ck_assert_int_gt(hung, 0);
    kill((pid_t)hung, SIGKILL);
    start_workers(&h, 1);
    wait_done(&h, "lost", "completed");
    res_t r = CLI(&h, "logs", "--attempt", "1", "lost", "0");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "hpsearch logs: attempt 1 of trial 0 was lost (lease expired");
    HAS(r.err, "its output never reached the coordinator");
    res_free(&r);
    r = CLI(&h, "logs", "--stdout", "lost", "0");
    OK(r);
    ck_assert_str_eq(r.out, "loss=0.5\n");
    res_free(&r);
    hp_harness_fini(&h);
}
END_TEST

/* ---- what a failing program did report, and where its curve jumped ---- */

START_TEST(test_program_reports)
{
    hp_harness_t h;
    hp_harness_init(&h, "usab-report");
    hp_harness_start_daemon(&h, NULL);
    start_workers(&h, 1);
    char script[800], spec[2000];
    snprintf(script, sizeof script, "%s",
             hp_harness_write_file(&h, "wrong.sh", "#!/bin/sh\necho 'val_loss=0.3 acc=0.9'\n"));
    snprintf(spec, sizeof spec,
             "name: wrongname\nobjective: {metric: loss}\n"
             "search: {algorithm: random, max_trials: 1}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial:\n  command: [sh, %s, '{x}']\n  retries: 0\n",
             script);
    submit(&h, "w.yaml", spec);
    /* steps as the program numbers them: 1..5, the jump between 4 and 5 */
    snprintf(script, sizeof script, "%s",
             hp_harness_write_file(&h, "jump.sh",
                                   "#!/bin/sh\n"
                                   "echo 'step=1 loss=1.0'\necho 'step=2 loss=0.8'\n"
                                   "echo 'step=3 loss=0.7'\necho 'step=4 loss=0.6'\n"
                                   "echo 'step=5 loss=60'\n"));
    snprintf(spec, sizeof spec,
             "name: jump\nobjective: {metric: loss}\n"
             "search: {algorithm: random, max_trials: 1}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial:\n  command: [sh, %s, '{x}']\n  retries: 0\n",
             script);
    submit(&h, "j.yaml", spec);
    wait_done(&h, "wrongname", NULL);
    wait_done(&h, "jump", NULL);
    res_t r = CLI(&h, "trials", "--format", "csv", "wrongname");
    OK(r);
    HAS(r.out, "exited 0 but never reported the objective 'loss'; it reported: val_loss, acc");
    res_free(&r);
    r = CLI(&h, "sql", "--format", "csv",
            "SELECT t.diagnosis, t.diagnosis_detail FROM trials t JOIN studies s ON "
            "s.id = t.study_id WHERE s.name = 'jump'");
    OK(r);
    HAS(r.out, "explodes,");
    HAS(r.out, "loss jumped 100x between steps 4 and 5 (0.6 to 60)");
    res_free(&r);
    hp_harness_fini(&h);
}
END_TEST

/* ---- warnings through submit -------------------------------------------- */

START_TEST(test_submit_prints_warnings)
{
    hp_harness_t h;
    hp_harness_init(&h, "usab-warn");
    hp_harness_start_daemon(&h, NULL);
    const char *path = hp_harness_write_file(&h, "w.yaml",
                                             "name: warned\nobjective: {metric: value}\n"
                                             "search: {algorithm: random, max_trials: 2}\n"
                                             "space:\n  x1: {type: float, low: -5, high: 10}\n"
                                             "  x2: {type: float, low: 0, high: 15}\n"
                                             "trial: {function: branin, noise: 1.0e-400}\n");
    char p[1024];
    snprintf(p, sizeof p, "%s", path);
    res_t r = CLI(&h, "submit", p);
    OK(r);
    HAS(r.out, "submitted study 'warned' (id 1)");
    HAS(r.err, "w.yaml:7: trial.noise: warning: 1.0e-400 is too small for a number");
    res_free(&r);
    hp_harness_fini(&h);
}
END_TEST

/* ---- the example docs/cli.md gives for run ------------------------------ */

START_TEST(test_documented_example_runs)
{
    hp_harness_t h;
    hp_harness_init(&h, "usab-example");
    const char *src = getenv("HP_SOURCE_DIR");
    ck_assert_ptr_nonnull(src);
    char spec[1024], db[800];
    snprintf(spec, sizeof spec, "%s/examples/branin.yaml", src);
    snprintf(db, sizeof db, "%s/branin.db", h.dir);
    /* as docs/cli.md shows it: hpsearch run examples/branin.yaml --workers 2 --db ... */
    res_t r = CLI(&h, "run", spec, "--workers", "2", "--db", db);
    OK(r);
    HAS(r.out, "study 'branin' completed: 50/50 trials done (50 completed, 0 failed");
    res_free(&r);
    r = CLI(&h, "trials", "--db", db, "--sort", "value", "--limit", "5", "branin");
    OK(r);
    HAS(r.out, "completed");
    res_free(&r);
    hp_harness_fini(&h);
}
END_TEST

static Suite *usability_suite(void)
{
    Suite *s = suite_create("cli_usability");
    TCase *tc = tcase_create("service");
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    tcase_add_test(tc, test_status_db_and_did_you_mean);
    tcase_add_test(tc, test_logs_every_attempt);
    tcase_add_test(tc, test_logs_lost_attempt);
    tcase_add_test(tc, test_program_reports);
    tcase_add_test(tc, test_submit_prints_warnings);
    tcase_add_test(tc, test_documented_example_runs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return hp_check_run(usability_suite()); }
