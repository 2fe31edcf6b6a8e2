/* The runners: external programs (outcomes, metric lines, the process
 * group, stderr tail, placeholders, environment, cancel), benchmark
 * functions, the built-in model's configuration errors, and the metric-line
 * parser. Scripts are written to a fresh temp dir per test. */
#define _GNU_SOURCE
#include "runner.h"
#include "metricline.h"

#include "buf.h"

#include "hp_check.h"

#include <check.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/hp_runner_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* write dir/name with body, return its path */
static const char *script(const char *name, const char *body)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    chmod(path, 0755);
    return path;
}

typedef struct rec {
    int calls;
    int64_t steps[16];
    double last;
    hp_cancel_t *cancel_on_first; /* cancel from inside the first callback */
} rec_t;

static void on_progress(int64_t step, const hp_runner_metric_t *m, size_t n, void *data)
{
    rec_t *r = data;
    if (r->calls < 16)
        r->steps[r->calls] = step;
    r->calls++;
    if (n)
        r->last = m[n - 1].value;
    if (r->cancel_on_first)
        hp_cancel_request(r->cancel_on_first);
}

static hp_runner_param_t params[] = {{"lr", "0.003"}, {"layers", "2"}};

/* run command (a JSON argv list) with objective loss */
static void run_cmd(const char *argv_json, const char *extra, double timeout, rec_t *r,
                    hp_cancel_t *cancel, hp_runner_outcome_t *out)
{
    hp_buf_t tj = {0};
    hp_buf_printf(&tj, "{\"command\":%s,\"env\":{\"FOO\":\"bar baz\"}%s,\"fixed\":{}}", argv_json,
                  extra ? extra : "");
    hp_runner_trial_t t = {.number = 17, .seed = 5, .params = params, .n_params = 2,
                           .params_json = "{\"lr\":0.003,\"layers\":2}", .trial_json = tj.data,
                           .objective = "loss", .timeout_s = timeout};
    hp_runner_opts_t o = {.kill_grace_ms = 300};
    hp_cancel_t local;
    if (!cancel) {
        ck_assert_int_eq(hp_cancel_init(&local), 0);
        cancel = &local;
    }
    hp_runner_run(&t, &o, on_progress, r, cancel, out);
    if (cancel == &local)
        hp_cancel_fini(&local);
    hp_buf_fini(&tj);
}

static void run_script(const char *body, double timeout, rec_t *r, hp_runner_outcome_t *out)
{
    const char *p = script("t.sh", body);
    char argv[600];
    snprintf(argv, sizeof argv, "[\"%s\"]", p);
    run_cmd(argv, NULL, timeout, r, NULL, out);
}

START_TEST(test_success_steps)
{
    rec_t r = {0};
    hp_runner_outcome_t out;
    run_script("echo 'starting up'\necho 'step=1 loss=0.5'\necho 'not a=metric line'\n"
               "echo 'step=2 loss=0.25 acc=0.9'\necho 'loss=0.125 acc=0.95'",
               0, &r, &out);
    ck_assert_int_eq(out.status, HP_RUNNER_COMPLETED);
    ck_assert_double_eq(out.value, 0.125);
    ck_assert_str_eq(out.error, "");
    ck_assert_int_eq(r.calls, 3);
    ck_assert_int_eq(r.steps[0], 1);
    ck_assert_int_eq(r.steps[1], 2);
    ck_assert_int_eq(r.steps[2], 3); /* no step=: the count of metric lines */
    ck_assert_uint_eq(out.other_lines, 2);
    ck_assert_ptr_nonnull(hp_outcome_find(&out, "acc"));
    ck_assert_double_eq(hp_outcome_find(&out, "acc")->value, 0.95);
    hp_runner_outcome_fini(&out);
}
END_TEST

START_TEST(test_nonzero_exit)
{
    rec_t r = {0};
    hp_runner_outcome_t out;
    run_script("echo loss=1\nexit 3", 0, &r, &out);
    ck_assert_int_eq(out.status, HP_RUNNER_FAILED);
    ck_assert_str_eq(out.error, "exited with status 3");
    hp_runner_outcome_fini(&out);
}
END_TEST

START_TEST(test_killed_by_signal)
{
    rec_t r = {0};
    hp_runner_outcome_t out;
    run_script("echo loss=1\nkill -9 $$", 0, &r, &out);
    ck_assert_int_eq(out.status, HP_RUNNER_FAILED);
    ck_assert_str_eq(out.error, "killed by signal 9 (SIGKILL)");
    hp_runner_outcome_fini(&out);
}
END_TEST

static int process_gone(pid_t pid)
{
    char p[64], buf[512];
    snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return 1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *c = strrchr(buf, ')');
    return c && (c[2] == 'Z' || c[2] == 'X'); /* a zombie is dead */
}

START_TEST(test_timeout_kills_group)
{
    rec_t r = {0};
    hp_runner_outcome_t out;
    char body[600];
    /* the grandchild ignores SIGTERM: only the group SIGKILL ends it */
    snprintf(body, sizeof body,
             "echo loss=1\n(trap '' TERM; exec sleep 1000) &\necho $! > '%s/gc.pid'\nwait", dir);
    run_script(body, 0.5, &r, &out);
    ck_assert_int_eq(out.status, HP_RUNNER_FAILED);
    ck_assert_str_eq(out.error, "timed out after 0.5 s");
    char p[300];
    snprintf(p, sizeof p, "%s/gc.pid", dir);
    FILE *f = fopen(p, "r");
    ck_assert_ptr_nonnull(f);
    int pid = 0;
    ck_assert_int_eq(fscanf(f, "%d", &pid), 1);
    fclose(f);
    /* SIGKILL is delivered by the time killpg returns, but the exit may lag */
    for (int i = 0; i < 3000 && !process_gone(pid); i++)
        usleep(10000);
    ck_assert(process_gone(pid));
    hp_runner_outcome_fini(&out);
}
END_TEST

START_TEST(test_missing_metric)
{
    rec_t r = {0};
    hp_runner_outcome_t out;
    /* issue 12 added, on purpose, what the program did report */
    run_script("echo acc=1\necho step=2 val_loss=0.5 acc=2", 0, &r, &out);
    ck_assert_int_eq(out.status, HP_RUNNER_FAILED);
    ck_assert_str_eq(out.error,
                     "exited 0 but never reported the objective 'loss'; it reported: acc, val_loss");
    hp_runner_outcome_fini(&out);
    memset(&r, 0, sizeof r);
    run_script("echo hello", 0, &r, &out);
    ck_assert_int_eq(out.status, HP_RUNNER_FAILED);
    ck_assert_str_eq(out.error, "exited 0 but never reported the objective 'loss'; it reported no "
                                "metrics (print lines such as `loss=0.25` on stdout)");
    hp_runner_outcome_fini(&out);
    /* many names: the list is cut, saying how many more */
    memset(&r, 0, sizeof r);
    run_script("i=0; while [ $i -lt 200 ]; do echo metric_number_$i=1; i=$((i+1)); done", 0, &r,
               &out);
    ck_assert_int_eq(out.status, HP_RUNNER_FAILED);
    ck_assert_msg(strstr(out.error, "it reported: metric_number_0, metric_number_1, "), "%s",
                  out.error);
    ck_assert_msg(strstr(out.error, " more"), "%s", out.error);
    ck_assert_uint_lt(strlen(out.error), HP_RUNNER_ERROR_MAX);
    hp_runner_outcome_fini(&out);
}
END_TEST

START_TEST(test_garbage_output)
{
    rec_t r = {0};
    hp_runner_outcome_t out;
    run_script("head -c 20000 /dev/urandom\necho\necho loss=abc\necho '=5 ==='", 0, &r, &out);
    ck_assert_int_eq(out.status, HP_RUNNER_FAILED);
    ck_assert_msg(strstr(out.error, "exited 0 but never reported the objective 'loss' ('loss=abc' on line"),
                  "%s", out.error);
    ck_assert_uint_ge(out.bad_values, 1); /* random bytes may hold a=b too */
    hp_runner_outcome_fini(&out);
}
END_TEST

START_TEST(test_huge_output_no_newline)
{
    rec_t r = {0};
    hp_runner_outcome_t out;
    /* 400k lines, a 2 MB line, then the metric without a newline */
    run_script("seq 1 400000\nhead -c 2000000 /dev/zero | tr '\\0' a\necho\nprintf 'loss=%s' 7.5",
               0, &r, &out);
    ck_assert_int_eq(out.status, HP_RUNNER_COMPLETED);
    ck_assert_double_eq(out.value, 7.5);
    ck_assert_uint_eq(out.other_lines, 400001);
    hp_runner_outcome_fini(&out);
}
END_TEST

START_TEST(test_stderr_tail)
{
    rec_t r = {0};
    hp_runner_outcome_t out;
    run_script("i=0; while [ $i -lt 3000 ]; do echo \"noise line $i\" >&2; i=$((i+1)); done\n"
               "echo 'Traceback: the last words' >&2\nexit 1",
               0, &r, &out);
    ck_assert_str_eq(out.error, "exited with status 1");
    size_t n = strlen(out.stderr_tail);
    ck_assert_uint_le(n, HP_RUNNER_STDERR_TAIL);
    ck_assert_uint_gt(n, 3000);
    ck_assert_str_eq(out.stderr_tail + n - strlen("Traceback: the last words"),
                     "Traceback: the last words");
    ck_assert(strncmp(out.stderr_tail, "noise line ", 11) == 0); /* starts at a whole line */
    hp_runner_outcome_fini(&out);
}
END_TEST

START_TEST(test_placeholders_env)
{
    rec_t r = {0};
    hp_runner_outcome_t out;
    char body[700], argv[900];
    snprintf(body, sizeof body,
             "printf '%%s|' \"$@\" \"$FOO\" \"$HPSEARCH_PARAM_LR\" \"$HPSEARCH_PARAM_LAYERS\" "
             "\"$HPSEARCH_PARAMS\" \"$HPSEARCH_TRIAL_NUMBER\" \"$(pwd)\" > '%s/seen'\necho loss=0",
             dir);
    const char *p = script("t.sh", body);
    snprintf(argv, sizeof argv, "[\"%s\",\"--lr={lr}\",\"{{literal}}\",\"{layers}x{lr}\"]", p);
    char extra[300];
    snprintf(extra, sizeof extra, ",\"workdir\":\"%s\"", dir);
    run_cmd(argv, extra, 0, &r, NULL, &out);
    ck_assert_int_eq(out.status, HP_RUNNER_COMPLETED);
    char path[300], seen[1024] = "", want[1024];
    snprintf(path, sizeof path, "%s/seen", dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(seen, sizeof seen, f));
    fclose(f);
    snprintf(want, sizeof want,
             "--lr=0.003|{literal}|2x0.003|bar baz|0.003|2|{\"lr\":0.003,\"layers\":2}|17|%s|", dir);
    ck_assert_str_eq(seen, want);
    hp_runner_outcome_fini(&out);

    /* an unknown placeholder fails the trial before anything runs */
    snprintf(argv, sizeof argv, "[\"%s\",\"{nope}\"]", p);
    run_cmd(argv, NULL, 0, &r, NULL, &out);
    ck_assert_int_eq(out.status, HP_RUNNER_FAILED);
    ck_assert_msg(strstr(out.error, "unknown parameter '{nope}'"), "%s", out.error);
    hp_runner_outcome_fini(&out);
}
END_TEST

START_TEST(test_exec_failure)
{
    rec_t r = {0};
    hp_runner_outcome_t out;
    run_cmd("[\"./no-such-program-x\"]", NULL, 0, &r, NULL, &out);
    ck_assert_int_eq(out.status, HP_RUNNER_FAILED);
    ck_assert_str_eq(out.error, "cannot run './no-such-program-x': No such file or directory");
    hp_runner_outcome_fini(&out);
}
END_TEST

START_TEST(test_cancel)
{
    hp_cancel_t c;
    ck_assert_int_eq(hp_cancel_init(&c), 0);
    rec_t r = {.cancel_on_first = &c};
    hp_runner_outcome_t out;
    char argv[600];
    snprintf(argv, sizeof argv, "[\"%s\"]", script("t.sh", "echo loss=1\nsleep 1000"));
    run_cmd(argv, NULL, 0, &r, &c, &out);
    ck_assert_int_eq(out.status, HP_RUNNER_CANCELLED);
    ck_assert_int_eq(r.calls, 1);
    hp_runner_outcome_fini(&out);
    hp_cancel_fini(&c);
}
END_TEST

START_TEST(test_nonfinite_values)
{
    rec_t r = {0};
    hp_runner_outcome_t out;
    run_script("echo loss=nan\necho loss=inf other=-inf", 0, &r, &out);
    ck_assert_int_eq(out.status, HP_RUNNER_COMPLETED);
    ck_assert(isinf(out.value) && out.value > 0);
    hp_runner_outcome_fini(&out);
}
END_TEST

START_TEST(test_metricline_parse)
{
    hp_metricline_t ml;
    ck_assert_int_eq(hp_metricline_parse("loss=0.5 acc=1e-3", 17, &ml), 1);
    ck_assert_uint_eq(ml.n, 2);
    ck_assert_str_eq(ml.m[1].name, "acc");
    ck_assert_double_eq(ml.m[1].value, 1e-3);
    ck_assert_int_eq(hp_metricline_parse("  step=12\tval_loss=3  ", 22, &ml), 1);
    ck_assert(ml.has_step);
    ck_assert_int_eq(ml.step, 12);
    ck_assert_uint_eq(ml.n, 1);
    ck_assert_int_eq(hp_metricline_parse("Epoch 3: loss=0.5", 17, &ml), 0);
    ck_assert_int_eq(hp_metricline_parse("", 0, &ml), 0);
    ck_assert_int_eq(hp_metricline_parse("=3", 2, &ml), 0);
    ck_assert_int_eq(hp_metricline_parse("loss=abc acc=2", 14, &ml), 1);
    ck_assert_uint_eq(ml.bad, 1);
    ck_assert_str_eq(ml.first_bad, "loss=abc");
    ck_assert_uint_eq(ml.n, 1);
    ck_assert_int_eq(hp_metricline_parse("step=x loss=", 12, &ml), 1);
    ck_assert_uint_eq(ml.bad, 2);
    ck_assert(!ml.has_step);
}
END_TEST

static void run_fn(const char *tj, hp_runner_param_t *p, size_t np, const char *obj, uint64_t seed,
                   hp_runner_outcome_t *out)
{
    hp_runner_trial_t t = {.number = 1, .seed = seed, .params = p, .n_params = np,
                           .params_json = "{}", .trial_json = tj, .objective = obj};
    rec_t r = {0};
    hp_cancel_t c;
    ck_assert_int_eq(hp_cancel_init(&c), 0);
    hp_runner_run(&t, NULL, on_progress, &r, &c, out);
    hp_cancel_fini(&c);
    /* a function's value travels with the result only: no progress report */
    ck_assert_int_eq(r.calls, 0);
}

START_TEST(test_function_runner)
{
    hp_runner_param_t p[] = {{"x2", "2.275"}, {"x1", "3.141592653589793"}};
    hp_runner_outcome_t out;
    run_fn("{\"function\":\"branin\",\"noise\":0}", p, 2, "value", 1, &out);
    ck_assert_int_eq(out.status, HP_RUNNER_COMPLETED);
    ck_assert_double_eq_tol(out.value, 0.397887, 1e-5);
    hp_runner_outcome_fini(&out);

    double a, b;
    run_fn("{\"function\":\"branin\",\"noise\":0.5}", p, 2, "value", 42, &out);
    a = out.value;
    hp_runner_outcome_fini(&out);
    run_fn("{\"function\":\"branin\",\"noise\":0.5}", p, 2, "value", 42, &out);
    b = out.value;
    hp_runner_outcome_fini(&out);
    ck_assert_double_eq(a, b); /* the noise is seeded by the trial */
    ck_assert(fabs(a - 0.397887) > 1e-9);

    hp_runner_param_t gap[] = {{"x1", "0"}, {"x3", "0"}};
    run_fn("{\"function\":\"ackley\",\"noise\":0}", gap, 2, "value", 1, &out);
    ck_assert_int_eq(out.status, HP_RUNNER_FAILED);
    ck_assert_msg(strstr(out.error, "x2 is missing"), "%s", out.error);
    hp_runner_outcome_fini(&out);

    run_fn("{\"function\":\"hartmann6\",\"noise\":0}", p, 2, "value", 1, &out);
    ck_assert_int_eq(out.status, HP_RUNNER_FAILED);
    ck_assert_msg(strstr(out.error, "hartmann6 takes 6 inputs"), "%s", out.error);
    hp_runner_outcome_fini(&out);

    run_fn("{\"function\":\"branin\",\"noise\":0}", p, 2, "loss", 1, &out);
    ck_assert_int_eq(out.status, HP_RUNNER_FAILED);
    hp_runner_outcome_fini(&out);

    run_fn("not json at all {", p, 2, "value", 1, &out);
    ck_assert_int_eq(out.status, HP_RUNNER_FAILED);
    hp_runner_outcome_fini(&out);
}
END_TEST

START_TEST(test_model_unknown_setting)
{
    hp_runner_param_t p[] = {{"lr", "0.01"}};
    hp_runner_outcome_t out;
    run_fn("{\"model\":\"mlp\",\"dataset\":{\"name\":\"fashion-mnist\",\"train_subset\":0,"
           "\"validation_fraction\":0.1,\"normalize\":\"standardize\",\"shift\":\"none\","
           "\"augment\":false},\"epochs\":1,\"fixed\":{\"hidden\":[32,16],\"bogus_knob\":1}}",
           p, 1, "val_error", 1, &out);
    ck_assert_int_eq(out.status, HP_RUNNER_FAILED);
    ck_assert_msg(strstr(out.error, "unknown hyperparameter 'bogus_knob'"), "%s", out.error);
    hp_runner_outcome_fini(&out);
}
END_TEST

/* progress of a built-in model: which metric names the epochs carried */
typedef struct names_rec {
    int epochs, shift_in_every_epoch;
} names_rec_t;

static void on_model_progress(int64_t step, const hp_runner_metric_t *m, size_t n, void *data)
{
    (void)step;
    names_rec_t *r = data;
    int has = 0;
    for (size_t i = 0; i < n; i++)
        has += !strcmp(m[i].name, "shift_val_loss") || !strcmp(m[i].name, "shift_val_error");
    r->shift_in_every_epoch = (r->epochs == 0 ? 1 : r->shift_in_every_epoch) && has == 2;
    r->epochs++;
}

static void run_model(const char *shift, const char *fixed, names_rec_t *r,
                      hp_runner_outcome_t *out)
{
    char tj[1024];
    snprintf(tj, sizeof tj,
             "{\"model\":\"mlp\",\"dataset\":{\"name\":\"fashion-mnist\",\"train_subset\":2000,"
             "\"validation_fraction\":0.1,\"normalize\":\"standardize\",\"shift\":\"%s\","
             "\"augment\":false},\"epochs\":2,\"fixed\":{%s}}",
             shift, fixed);
    hp_runner_param_t p[] = {{"lr", "0.001"}};
    hp_runner_trial_t t = {.number = 1, .seed = 1, .params = p, .n_params = 1,
                           .params_json = "{}", .trial_json = tj, .objective = "val_error"};
    hp_cancel_t c;
    ck_assert_int_eq(hp_cancel_init(&c), 0);
    memset(r, 0, sizeof *r);
    hp_runner_run(&t, NULL, on_model_progress, r, &c, out);
    hp_cancel_fini(&c);
}

static double metric(const hp_runner_outcome_t *out, const char *name)
{
    const hp_runner_metric_t *m = hp_outcome_find(out, name);
    return m ? m->value : NAN;
}

/* dataset.shift reaches the engine; shift metrics per epoch and final,
 * baselines final (on by default for the worker's runs) */
/* one epoch of trial `number` (its own seed) of a study seeded study_seed */
static void run_model_trial(uint32_t number, uint64_t study_seed, hp_runner_outcome_t *out)
{
    const char *tj = "{\"model\":\"mlp\",\"dataset\":{\"name\":\"fashion-mnist\","
                     "\"train_subset\":1000,\"validation_fraction\":0.1,\"normalize\":"
                     "\"standardize\",\"shift\":\"none\",\"augment\":false},\"epochs\":1,"
                     "\"fixed\":{}}";
    hp_runner_param_t p[] = {{"lr", "0.001"}};
    hp_runner_trial_t t = {.number = number, .seed = 1000 + number, .study_seed = study_seed,
                           .params = p, .n_params = 1, .params_json = "{}", .trial_json = tj,
                           .objective = "val_error"};
    hp_cancel_t c;
    ck_assert_int_eq(hp_cancel_init(&c), 0);
    hp_runner_run(&t, NULL, NULL, NULL, &c, out);
    hp_cancel_fini(&c);
    ck_assert_msg(out->status == HP_RUNNER_COMPLETED, "%s", out->error);
}

/* Trials of a study are compared on the same validation split: the data
 * splits (and so the baselines, trained on the training split) come from
 * the study's seed, the trial's initialization from its number. */
START_TEST(test_model_trials_share_the_study_splits)
{
    hp_runner_outcome_t a, b, other;
    run_model_trial(1, 3, &a);
    run_model_trial(2, 3, &b);
    run_model_trial(1, 4, &other);
    ck_assert_double_eq(metric(&a, "baseline_linear_error"), metric(&b, "baseline_linear_error"));
    ck_assert_double_eq(metric(&a, "baseline_majority_error"),
                        metric(&b, "baseline_majority_error"));
    ck_assert_msg(metric(&a, "val_loss") != metric(&b, "val_loss"),
                  "two trials trained the same model");
    /* another study seed: other splits, another linear baseline */
    ck_assert_msg(metric(&a, "baseline_linear_error") != metric(&other, "baseline_linear_error"),
                  "study seeds 3 and 4 gave the same baseline %g",
                  metric(&a, "baseline_linear_error"));
    hp_runner_outcome_fini(&a);
    hp_runner_outcome_fini(&b);
    hp_runner_outcome_fini(&other);
}
END_TEST

START_TEST(test_model_shift_and_baselines)
{
    names_rec_t r;
    hp_runner_outcome_t out;
    run_model("darken", "", &r, &out);
    ck_assert_msg(out.status == HP_RUNNER_COMPLETED, "%s", out.error);
    ck_assert_int_eq(r.epochs, 3); /* epoch 0 (initial_eval), 1, 2 */
    ck_assert(r.shift_in_every_epoch);
    double sv = metric(&out, "shift_val_error"), v = metric(&out, "val_error");
    ck_assert_msg(sv > v + 0.15, "shift_val_error %g, val_error %g", sv, v);
    ck_assert(isfinite(metric(&out, "shift_val_loss")));
    ck_assert_double_eq_tol(metric(&out, "baseline_majority_error"), 0.9, 0.02);
    double lin = metric(&out, "baseline_linear_error");
    ck_assert_msg(lin > 0.1 && lin < 0.8, "linear %g", lin);
    hp_runner_outcome_fini(&out);

    run_model("none", "\"baselines\":0", &r, &out);
    ck_assert_msg(out.status == HP_RUNNER_COMPLETED, "%s", out.error);
    ck_assert_int_eq(r.epochs, 3);
    ck_assert(!r.shift_in_every_epoch);
    ck_assert_ptr_null(hp_outcome_find(&out, "shift_val_error"));
    ck_assert_ptr_null(hp_outcome_find(&out, "shift_val_loss"));
    ck_assert_ptr_null(hp_outcome_find(&out, "baseline_majority_error"));
    ck_assert_ptr_null(hp_outcome_find(&out, "baseline_linear_error"));
    hp_runner_outcome_fini(&out);

    run_model("sideways", "", &r, &out);
    ck_assert_int_eq(out.status, HP_RUNNER_FAILED);
    ck_assert_msg(strstr(out.error, "shift: unknown value 'sideways'"), "%s", out.error);
    hp_runner_outcome_fini(&out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("worker_runner");
    TCase *ext = tcase_create("external");
    tcase_add_checked_fixture(ext, setup, teardown);
    tcase_add_test(ext, test_success_steps);
    tcase_add_test(ext, test_nonzero_exit);
    tcase_add_test(ext, test_killed_by_signal);
    tcase_add_test(ext, test_timeout_kills_group);
    tcase_add_test(ext, test_missing_metric);
    tcase_add_test(ext, test_garbage_output);
    tcase_add_test(ext, test_huge_output_no_newline);
    tcase_add_test(ext, test_stderr_tail);
    tcase_add_test(ext, test_placeholders_env);
    tcase_add_test(ext, test_exec_failure);
    tcase_add_test(ext, test_cancel);
    tcase_add_test(ext, test_nonfinite_values);
    suite_add_tcase(s, ext);
    TCase *other = tcase_create("builtin");
    tcase_add_test(other, test_metricline_parse);
    tcase_add_test(other, test_function_runner);
    tcase_add_test(other, test_model_unknown_setting);
    tcase_add_test(other, test_model_shift_and_baselines);
    tcase_add_test(other, test_model_trials_share_the_study_splits);
    suite_add_tcase(s, other);
    return hp_check_run(s);
}
