/*
 * hpsearch autopilot, the real binary with its own coordinator and
 * workers, on small CSV problems this test writes: an easy one whose
 * target is met (the loop stops there), and one whose target cannot be
 * met with a too-small model (the decisions follow the rules: tune, then
 * a bigger model). The rounds chain by studies.parent and every decision
 * is an autopilot_step event with evidence and a reason. Bad input gets
 * clear errors.
 */
#include "harness.h"

#include "hp_check.h"
#include "hp_spawn.h"

#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define GUARD_SECONDS 120

static char dir[64];

static void setup(void)
{
    alarm(GUARD_SECONDS);
    snprintf(dir, sizeof dir, "/tmp/hp-autopilot-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    alarm(0);
    hp_harness_teardown();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

/* a sequence CSV of n rows, 10 steps x 2 features (s0_0, s0_1, s1_0, ...)
 * and an id column it leaves out: a sine in feature 0 whose period, 8 or
 * 3 steps, is the class */
static void write_sequence_csv(const char *path, int n, unsigned seed)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("id", f);
    for (int t = 0; t < 10; t++)
        fprintf(f, ",s%d_0,s%d_1", t, t);
    fputs(",y\n", f);
    srand(seed);
    for (int i = 0; i < n; i++) {
        int y = rand() % 2;
        double phase = 6.283185307 * rand() / (double)RAND_MAX;
        fprintf(f, "%d", i);
        for (int t = 0; t < 10; t++) {
            double a = sin(6.283185307 * t / (y ? 3 : 8) + phase);
            double b = rand() / (double)RAND_MAX - 0.5;
            fprintf(f, ",%.4f,%.4f", a, b);
        }
        fprintf(f, ",%d\n", y);
    }
    fclose(f);
}

/* a two-class CSV: y = x0 + x1 > 0 over 6 features, `noise` of the labels flipped */
static void write_csv(const char *path, int n, double noise, unsigned seed)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("x0,x1,x2,x3,x4,x5,y\n", f);
    srand(seed);
    for (int i = 0; i < n; i++) {
        double x[6];
        for (int k = 0; k < 6; k++)
            x[k] = (rand() / (double)RAND_MAX) * 4 - 2;
        int y = x[0] + x[1] > 0;
        if (rand() / (double)RAND_MAX < noise)
            y = !y;
        for (int k = 0; k < 6; k++)
            fprintf(f, "%.4f,", x[k]);
        fprintf(f, "%d\n", y);
    }
    fclose(f);
}

static const char *write_spec(const char *name, const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* runs `hpsearch autopilot ARGS`; the exit status, stdout+stderr in out */
static int autopilot(const char *args, char *out, size_t cap)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/hpsearch autopilot %s 2>&1", getenv("HP_BIN_DIR"), args);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* every round after the first names the round before as its parent */
static void ck_chain(const char *db, const char *base)
{
    long n = hp_harness_db_int(db, "SELECT count(*) FROM studies");
    ck_assert_int_ge(n, 2);
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM studies s JOIN studies p ON p.id = s.parent"
             " WHERE s.name = '%s-r' || (CAST(substr(p.name, %zu) AS INTEGER) + 1)",
             base, strlen(base) + 3);
    ck_assert_int_eq(hp_harness_db_int(db, sql), n - 1);
    ck_assert_int_eq(hp_harness_db_int(db, "SELECT count(*) FROM studies WHERE parent IS NULL"),
                     1);
    /* one decision per round, each with its reason and evidence, and
     * before them the first: what round 1 starts with */
    ck_assert_int_eq(hp_harness_db_int(db, "SELECT count(*) FROM events WHERE kind = "
                                           "'autopilot_step' AND message LIKE '%→%' AND "
                                           "json_valid(detail) AND json_extract(detail, "
                                           "'$.action') IS NOT NULL"),
                     n + 1);
    ck_assert_int_eq(hp_harness_db_int(db, "SELECT count(*) FROM events WHERE kind = "
                                           "'autopilot_step' AND json_extract(detail, "
                                           "'$.action') = 'start_simple'"),
                     1);
}

/* a chain of one round: its start and its one decision */
static void ck_chain_one_round(const char *db)
{
    ck_assert_int_eq(hp_harness_db_int(db, "SELECT count(*) FROM studies"), 1);
    ck_assert_int_eq(hp_harness_db_int(db, "SELECT count(*) FROM events WHERE kind = "
                                           "'autopilot_step' AND message LIKE '%→%' AND "
                                           "json_valid(detail)"),
                     2);
}

START_TEST(test_easy_problem_stops_at_target)
{
    char csv[128], spec[512], args[512], db[128], out[32768], txt[512];
    snprintf(csv, sizeof csv, "%s/easy.csv", dir);
    write_csv(csv, 1500, 0, 1);
    snprintf(spec, sizeof spec,
             "name: easy\nobjective: {metric: val_error, goal: minimize, target: 0.08}\n"
             "trial:\n  dataset: {path: %s}\n  epochs: 3\n",
             csv);
    snprintf(db, sizeof db, "%s/ap.db", dir);
    snprintf(args, sizeof args, "%s --budget-minutes 30 --workers 2 --db %s",
             write_spec("easy.yaml", spec), db);
    int rc = autopilot(args, out, sizeof out);
    ck_assert_msg(rc == 0, "%.3000s", out);
    ck_assert_msg(strstr(out, "target   val_error 0.08: met"), "%.3000s", out);
    ck_assert_ptr_nonnull(strstr(out, "chosen   trial"));
    ck_assert_ptr_nonnull(strstr(out, "test     test_error 0."));
    ck_assert_ptr_nonnull(strstr(out, "reproduce:"));
    ck_chain(db, "easy");
    /* the first round starts simple: one hidden layer, Adam 3e-4, the check */
    ck_assert_str_eq(hp_harness_db_text(db, "SELECT json_extract(spec_json, '$.trial.model') "
                                            "FROM studies WHERE name = 'easy-r1'",
                                        txt, sizeof txt),
                     "mlp");
    ck_assert_msg(strstr(out, "decision start simple: tabular data (") &&
                      strstr(out, ") → MLP with one hidden layer of 256; the guide's start "
                                  "simple: Adam lr 0.0003"),
                  "%.3000s", out);
    ck_assert_int_eq(hp_harness_db_int(db, "SELECT count(*) FROM events WHERE kind = "
                                           "'sanity_check' AND message LIKE 'PASS%'"),
                     1);
    /* the last decision is "done", taken on a trial that meets the target */
    ck_assert_str_eq(hp_harness_db_text(db, "SELECT json_extract(detail, '$.action') FROM "
                                            "events WHERE kind = 'autopilot_step' ORDER BY id "
                                            "DESC LIMIT 1",
                                        txt, sizeof txt),
                     "done");
    ck_assert_int_eq(hp_harness_db_int(db, "SELECT json_extract(detail, '$.objective.met') FROM "
                                           "events WHERE kind = 'autopilot_step' ORDER BY id "
                                           "DESC LIMIT 1"),
                     1);
}
END_TEST

START_TEST(test_small_model_gets_bigger)
{
    char csv[128], spec[512], args[512], db[128], out[65536], txt[512];
    snprintf(csv, sizeof csv, "%s/noisy.csv", dir);
    write_csv(csv, 1500, 0.08, 2);
    /* 8% of the labels are flipped: a train error that the bias term
     * (counted from 0 with no human_error) makes material, so the guide
     * addresses under-fitting first; the target cannot be met */
    snprintf(spec, sizeof spec,
             "name: small\nobjective: {metric: val_error, goal: minimize, target: 0.001}\n"
             "trial:\n  model: mlp\n  dataset: {path: %s}\n  epochs: 3\n"
             "  fixed: {hidden: 16}\n",
             csv);
    snprintf(db, sizeof db, "%s/ap.db", dir);
    snprintf(args, sizeof args, "%s --budget-minutes 30 --workers 2 --db %s",
             write_spec("small.yaml", spec), db);
    int rc = autopilot(args, out, sizeof out);
    ck_assert_msg(rc == 0, "%.3000s", out);
    ck_assert_msg(strstr(out, "target   val_error 0.001: not met (the budget is spent)") ||
                      strstr(out, "target   val_error 0.001: not met (no step is left)"),
                  "%.3000s", out);
    ck_chain(db, "small");
    /* the decisions in order: tune the defaults, then a bigger model */
    ck_assert_str_eq(hp_harness_db_text(db, "SELECT json_extract(detail, '$.action') FROM "
                                            "events WHERE kind = 'autopilot_step' AND "
                                            "json_extract(detail, '$.action') NOT LIKE "
                                            "'debug_%' AND json_extract(detail, '$.action') "
                                            "!= 'start_simple' ORDER BY id LIMIT 1",
                                        txt, sizeof txt),
                     "tune_coarse_to_fine");
    ck_assert_str_eq(hp_harness_db_text(db, "SELECT json_extract(detail, '$.action') FROM "
                                            "events WHERE kind = 'autopilot_step' AND "
                                            "json_extract(detail, '$.action') NOT LIKE "
                                            "'debug_%' AND json_extract(detail, '$.action') "
                                            "!= 'start_simple' ORDER BY id LIMIT 1 OFFSET 1",
                                        txt, sizeof txt),
                     "bigger_model");
    ck_assert_msg(strstr(out, "avoidable bias ≤ ") && strstr(out, "→ bigger model: hidden "),
                  "%.3000s", out);
    /* its evidence: the errors and terms it was taken on */
    ck_assert_int_eq(hp_harness_db_int(db, "SELECT json_extract(detail, '$.term') = "
                                           "'avoidable_bias' AND json_extract(detail, "
                                           "'$.terms.avoidable_bias') >= json_extract(detail, "
                                           "'$.threshold') FROM events WHERE kind = "
                                           "'autopilot_step' AND json_extract(detail, "
                                           "'$.action') = 'bigger_model' LIMIT 1"),
                     1);
    /* the round after it searches around a bigger size */
    ck_assert_int_ge(hp_harness_db_int(db, "SELECT json_extract(spec_json, "
                                           "'$.space.hidden.low') FROM studies WHERE name = "
                                           "'small-r3'"),
                     hp_harness_db_int(db, "SELECT json_extract(spec_json, "
                                           "'$.space.hidden.high') FROM studies WHERE name = "
                                           "'small-r2'") /
                         2);
}
END_TEST

/* a CSV that says it is a sequence, with no trial.model: round 1 is the
 * guide's one-layer LSTM, and the first decision says why */
START_TEST(test_sequence_csv_starts_with_an_lstm)
{
    char csv[128], spec[640], args[512], db[128], out[32768], txt[1024];
    snprintf(csv, sizeof csv, "%s/seq.csv", dir);
    write_sequence_csv(csv, 400, 5);
    /* a target round 1 meets: the test is about what it trains */
    snprintf(spec, sizeof spec,
             "name: seq\nobjective: {metric: val_error, goal: minimize, target: 0.9}\n"
             "trial:\n  dataset: {path: %s, label: y, sequence_columns: \"s*\","
             " sequence_shape: [10, 2]}\n  epochs: 1\n",
             csv);
    snprintf(db, sizeof db, "%s/ap.db", dir);
    snprintf(args, sizeof args, "%s --budget-minutes 30 --workers 1 --db %s",
             write_spec("seq.yaml", spec), db);
    int rc = autopilot(args, out, sizeof out);
    ck_assert_msg(rc == 0, "%.3000s", out);
    const char *why = "sequence data (10 steps x 2 features) → one-layer LSTM, hidden 128";
    ck_assert_msg(strstr(out, "decision start simple: sequence data (10 steps x 2 features)"),
                  "%.3000s", out);
    ck_assert_msg(strstr(out, "target   val_error 0.9: met"), "%.3000s", out);
    /* round 1 trains the lstm with one layer of 128 on the sequence */
    ck_assert_str_eq(hp_harness_db_text(db, "SELECT json_extract(spec_json, '$.trial.model') "
                                            "FROM studies WHERE name = 'seq-r1'",
                                        txt, sizeof txt),
                     "lstm");
    ck_assert_str_eq(hp_harness_db_text(db, "SELECT json_extract(spec_json, "
                                            "'$.trial.fixed.hidden') || ' ' || "
                                            "json_extract(spec_json, "
                                            "'$.trial.dataset.sequence_shape') FROM studies "
                                            "WHERE name = 'seq-r1'",
                                        txt, sizeof txt),
                     "[128] [10,2]");
    /* the layers setting is left at its default, 1 */
    ck_assert_int_eq(hp_harness_db_int(db, "SELECT json_type(spec_json, "
                                           "'$.trial.fixed.layers') IS NULL FROM studies WHERE "
                                           "name = 'seq-r1'"),
                     1);
    /* the trial completed: the worker read the CSV as 10 steps of 2 */
    ck_assert_int_eq(hp_harness_db_int(db, "SELECT count(*) FROM trials t JOIN studies s ON "
                                           "s.id = t.study_id WHERE s.name = 'seq-r1' AND "
                                           "t.state = 'completed'"),
                     1);
    /* the first decision, with its reason and evidence */
    ck_assert_msg(strstr(hp_harness_db_text(db, "SELECT message FROM events WHERE kind = "
                                                "'autopilot_step' ORDER BY id LIMIT 1",
                                            txt, sizeof txt),
                         why),
                  "%s", txt);
    ck_assert_str_eq(hp_harness_db_text(db, "SELECT json_extract(detail, '$.action') || ' ' || "
                                            "json_extract(detail, '$.model') || ' ' || "
                                            "json_extract(detail, '$.picked_by') || ' ' || "
                                            "json_extract(detail, '$.data.kind') || ' ' || "
                                            "json_extract(detail, '$.data.steps') || 'x' || "
                                            "json_extract(detail, '$.data.features') FROM events "
                                            "WHERE kind = 'autopilot_step' ORDER BY id LIMIT 1",
                                        txt, sizeof txt),
                     "start_simple lstm data sequence 10x2");
    ck_chain_one_round(db);
}
END_TEST

START_TEST(test_bad_input)
{
    char out[8192], args[512], csv[128], spec[512];
    snprintf(csv, sizeof csv, "%s/d.csv", dir);
    write_csv(csv, 50, 0, 3);
    snprintf(spec, sizeof spec, "name: t\nobjective: {metric: val_error}\ntrial:\n  dataset: "
                                "{path: %s}\n",
             csv);
    const char *no_target = write_spec("nt.yaml", spec);
    snprintf(args, sizeof args, "%s --budget-minutes 1 --db %s/x.db", no_target, dir);
    ck_assert_int_eq(autopilot(args, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "objective.target: autopilot needs the requirement"), "%.3000s", out);

    snprintf(args, sizeof args, "%s --budget-minutes 0 --db %s/x.db", no_target, dir);
    ck_assert_int_eq(autopilot(args, out, sizeof out), 2);
    ck_assert_msg(strstr(out, "--budget-minutes: expected a number of minutes > 0 (got '0')"),
                  "%.3000s", out);
    snprintf(args, sizeof args, "%s --db %s/x.db", no_target, dir);
    ck_assert_int_eq(autopilot(args, out, sizeof out), 2);
    ck_assert_msg(strstr(out, "--budget-minutes M is required"), "%.3000s", out);

    const char *unknown = write_spec("u.yaml", "name: u\nobjective: {metric: val_error, "
                                               "target: 0.1}\ntrial:\n  dataset: cifar-10\n");
    snprintf(args, sizeof args, "%s --budget-minutes 1 --db %s/x.db", unknown, dir);
    ck_assert_int_eq(autopilot(args, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "trial.dataset") && strstr(out, "cifar-10"), "%.3000s", out);

    /* lstm, tcn and attention read sequences: a tabular CSV is not one */
    snprintf(spec, sizeof spec, "name: t\nobjective: {metric: val_error, target: 0.1}\n"
                                "trial:\n  model: tcn\n  dataset: {path: %s}\n",
             csv);
    snprintf(args, sizeof args, "%s --budget-minutes 1 --db %s/x.db", write_spec("l.yaml", spec),
             dir);
    ck_assert_int_eq(autopilot(args, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "trial.model: tcn reads sequences: give the CSV's "
                              "trial.dataset.sequence_columns and sequence_shape [T, F]"),
                  "%.3000s", out);
    /* and the image models do not read a sequence CSV */
    snprintf(spec, sizeof spec, "name: t\nobjective: {metric: val_error, target: 0.1}\n"
                                "trial:\n  model: lenet\n  dataset: {path: %s, sequence_columns: "
                                "\"x*\", sequence_shape: [3, 2]}\n",
             csv);
    snprintf(args, sizeof args, "%s --budget-minutes 1 --db %s/x.db", write_spec("n.yaml", spec),
             dir);
    ck_assert_int_eq(autopilot(args, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "trial.model: lenet reads images, not a sequence"), "%.3000s", out);

    const char *missing = write_spec("m.yaml", "name: m\nobjective: {metric: val_error, "
                                               "target: 0.1}\ntrial:\n  dataset: {path: "
                                               "/nonexistent/d.csv}\n");
    snprintf(args, sizeof args, "%s --budget-minutes 1 --db %s/x.db", missing, dir);
    ck_assert_int_eq(autopilot(args, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "trial.dataset.path: cannot read '/nonexistent/d.csv'"), "%.3000s", out);
    /* nothing was started, nothing stored */
    char db[128];
    snprintf(db, sizeof db, "%s/x.db", dir);
    ck_assert_int_ne(access(db, F_OK), 0);
}
END_TEST

START_TEST(test_ctrl_c_keeps_everything)
{
    char csv[128], spec[512], db[128], out[128], txt[512];
    snprintf(csv, sizeof csv, "%s/long.csv", dir);
    write_csv(csv, 3000, 0.1, 4);
    /* a target no model meets and many epochs: rounds that are still
     * running when the signal comes */
    snprintf(spec, sizeof spec,
             "name: long\nobjective: {metric: val_error, target: 0.0001}\n"
             "trial:\n  dataset: {path: %s}\n  epochs: 200\n",
             csv);
    snprintf(db, sizeof db, "%s/ap.db", dir);
    snprintf(out, sizeof out, "%s/out.txt", dir);
    char exe[512];
    snprintf(exe, sizeof exe, "%s/hpsearch", getenv("HP_BIN_DIR"));
    hp_spawn_opts_t o = {.in = "/dev/null", .out = out, .err = out, .die_with_parent = 1};
    pid_t pid = hp_spawn(exe,
                         (const char *[]){"autopilot", write_spec("long.yaml", spec),
                                          "--budget-minutes", "30", "--workers", "1", "--db", db,
                                          NULL},
                         &o);
    /* the first decision is taken, the second round runs: a worker has
     * its trial (it reported an epoch; a `running` row alone is committed
     * before the trial is sent) */
    hp_harness_wait_db(db, "SELECT count(*) > 0 FROM metrics m JOIN trials t ON t.id = "
                           "m.trial_id JOIN studies s ON s.id = t.study_id WHERE s.name = "
                           "'long-r2'",
                       1, 60);
    int code = hp_spawn_code(hp_spawn_kill(pid, SIGINT));
    char *text = hp_check_slurp(out, 0);
    ck_assert_msg(code == 130, "exit %d: %.3000s", code, text);
    ck_assert_msg(strstr(text, "every round so far stays in"), "%.3000s", text);
    free(text);
    /* everything stored stays: both rounds, linked, and the decision */
    ck_assert_int_eq(hp_harness_db_int(db, "SELECT count(*) FROM studies s JOIN studies p ON "
                                           "p.id = s.parent WHERE s.name = 'long-r2' AND p.name "
                                           "= 'long-r1'"),
                     1);
    ck_assert_ptr_nonnull(hp_harness_db_text(db, "SELECT message FROM events WHERE kind = "
                                                 "'autopilot_step' LIMIT 1",
                                             txt, sizeof txt));
    /* and nothing is left running on the database: its lock is free */
    ck_assert_int_eq(hp_harness_db_int(db, "SELECT count(*) FROM trials WHERE state = "
                                           "'running'"),
                     0);
}
END_TEST

/* ---- the coordinator's side: SUBMIT.parent and LOG_EVENT ---------------- */

static Hpsearch__Envelope *control(hp_harness_t *h, Hpsearch__Envelope *req)
{
    req->version = HP_PROTO_VERSION;
    Hpsearch__Envelope *rep = hp_harness_request(h->control, req, 10000);
    ck_assert_ptr_nonnull(rep);
    return rep;
}

static Hpsearch__Envelope *submit_child(hp_harness_t *h, const char *name, const char *parent)
{
    char spec[512];
    snprintf(spec, sizeof spec,
             "name: %s\nobjective: {metric: value, target: 1}\nsearch: {max_trials: 1}\n"
             "space: {x1: {type: float, low: 0, high: 1}, x2: {type: float, low: 0, high: 1}}\n"
             "trial: {function: branin}\n",
             name);
    Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Submit sub = HPSEARCH__SUBMIT__INIT;
    sub.spec_text = spec;
    sub.filename = (char *)name;
    sub.parent = (char *)parent;
    hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__SUBMIT, &sub);
    return control(h, &req);
}

static Hpsearch__Envelope *log_event(hp_harness_t *h, const char *study, const char *kind,
                                     const char *detail)
{
    Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__LogEvent ev = HPSEARCH__LOG_EVENT__INIT;
    ev.study = (char *)study;
    ev.kind = (char *)kind;
    ev.message = "a decision";
    ev.detail = (char *)detail;
    hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__LOG_EVENT, &ev);
    return control(h, &req);
}

START_TEST(test_parent_and_log_event)
{
    hp_harness_t h;
    hp_harness_init(&h, "ap-proto");
    hp_harness_start_daemon(&h, NULL);
    Hpsearch__Envelope *rep = submit_child(&h, "first", "");
    ck_assert_int_eq(rep->type, HPSEARCH__MSG_TYPE__SUBMIT_REPLY);
    hp_proto_free(rep);
    rep = submit_child(&h, "second", "first");
    ck_assert_int_eq(rep->type, HPSEARCH__MSG_TYPE__SUBMIT_REPLY);
    hp_proto_free(rep);
    /* a parent that names no study refuses the submission */
    rep = submit_child(&h, "third", "nosuch");
    ck_assert_int_eq(rep->type, HPSEARCH__MSG_TYPE__ERROR);
    ck_assert_msg(strstr(rep->error->message, "parent study 'nosuch' does not exist"), "%s",
                  rep->error->message);
    hp_proto_free(rep);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM studies s JOIN studies p "
                                              "ON p.id = s.parent WHERE s.name = 'second' AND "
                                              "p.name = 'first'"),
                     1);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM studies WHERE name = "
                                              "'third'"),
                     0);

    rep = log_event(&h, "second", "autopilot_step", "{\"action\":\"done\"}");
    ck_assert_int_eq(rep->type, HPSEARCH__MSG_TYPE__ACK);
    hp_proto_free(rep);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM events e JOIN studies s ON "
                                              "s.id = e.study_id WHERE s.name = 'second' AND "
                                              "e.kind = 'autopilot_step' AND "
                                              "json_extract(e.detail, '$.action') = 'done'"),
                     1);
    /* only the kinds clients may record */
    rep = log_event(&h, "second", "study_completed", "");
    ck_assert_int_eq(rep->type, HPSEARCH__MSG_TYPE__ERROR);
    ck_assert_ptr_nonnull(strstr(rep->error->message, "cannot be recorded by a client"));
    hp_proto_free(rep);
    /* detail must be JSON; the daemon goes on */
    rep = log_event(&h, "second", "autopilot_step", "{not json");
    ck_assert_int_eq(rep->type, HPSEARCH__MSG_TYPE__ERROR);
    hp_proto_free(rep);
    rep = log_event(&h, "nosuch", "autopilot_step", "");
    ck_assert_int_eq(rep->type, HPSEARCH__MSG_TYPE__ERROR);
    ck_assert_ptr_nonnull(strstr(rep->error->message, "nosuch"));
    hp_proto_free(rep);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM events WHERE kind = "
                                              "'autopilot_step'"),
                     1);
    hp_harness_fini(&h);
}
END_TEST

static Suite *autopilot_suite(void)
{
    Suite *s = suite_create("autopilot");
    TCase *tc = tcase_create("autopilot");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, GUARD_SECONDS);
    tcase_add_test(tc, test_easy_problem_stops_at_target);
    tcase_add_test(tc, test_small_model_gets_bigger);
    tcase_add_test(tc, test_sequence_csv_starts_with_an_lstm);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_ctrl_c_keeps_everything);
    tcase_add_test(tc, test_parent_and_log_event);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return hp_check_run(autopilot_suite()); }
