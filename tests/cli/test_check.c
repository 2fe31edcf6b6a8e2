/* hpsearch check: the real binary overfits one batch of a real study's
 * model, passes a sound configuration, and fails a broken one with the
 * learning-curve diagnosis. */
#include "hp_blobs.h"
#include "hp_check.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/hp-check-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

/* Runs cmd in the shell; returns its exit status and its output in out. */
static int shell(const char *cmd, char *out, size_t outlen)
{
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Runs `hpsearch check ARGS SPEC_TEXT-as-file`; returns the exit status and
 * the combined output in out. */
static int check(const char *args, const char *spec, char *out, size_t outlen)
{
    char path[128], cmd[1024];
    snprintf(path, sizeof path, "%s/study.yaml", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(spec, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s/hpsearch check %s %s 2>&1", getenv("HP_BIN_DIR"), args, path);
    return shell(cmd, out, outlen);
}

#define STUDY(model, fixed)                                                                    \
    "name: ck\nobjective: {metric: val_error}\nsearch: {algorithm: random, max_trials: 4}\n"  \
    "space:\n  hidden: {type: int, low: 64, high: 256}\n"                                     \
    "trial:\n  model: " model "\n  dataset: fashion-mnist\n  epochs: 3\n" fixed

START_TEST(test_sound_mlp_passes)
{
    char out[4096];
    int rc = check("", STUDY("mlp", ""), out, sizeof out);
    ck_assert_msg(rc == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "PASS: train_loss fell from"));
    ck_assert_ptr_nonnull(strstr(out, "in 300 steps"));
}
END_TEST

START_TEST(test_tiny_learning_rate_fails_with_plateau)
{
    char out[4096];
    int rc = check("--steps 100", STUDY("mlp", "  fixed: {lr: 1.0e-7}\n"), out, sizeof out);
    ck_assert_int_eq(rc, 1);
    ck_assert_ptr_nonnull(strstr(out, "FAIL: train_loss did not fall below the threshold"));
    ck_assert_ptr_nonnull(strstr(out, "diagnosis: plateaus"));
    ck_assert_ptr_nonnull(strstr(out, "learning rate too low"));
}
END_TEST

START_TEST(test_unrunnable_and_wrong_input)
{
    char out[4096];
    /* a setting the engine does not know: the spec is refused, nothing runs */
    int rc = check("", STUDY("mlp", "  fixed: {colour: blue}\n"), out, sizeof out);
    ck_assert_int_eq(rc, 1);
    ck_assert_ptr_nonnull(strstr(out, "colour"));
    ck_assert_msg(strstr(out, "trial.fixed.colour: unknown setting 'colour' for a built-in model"),
                  "%s", out);
    ck_assert_ptr_null(strstr(out, "FAIL"));
    /* a valid spec whose model cannot run (its data is not there) */
    rc = check("", STUDY("mlp", "  fixed: {data_dir: /nonexistent}\n"), out, sizeof out);
    ck_assert_int_eq(rc, 1);
    ck_assert_ptr_nonnull(strstr(out, "FAIL: the model does not run"));
    ck_assert_msg(strstr(out, "/nonexistent/train-images-idx3-ubyte.gz: cannot open"), "%s", out);
    /* not a built-in model: nothing to train, which is no failure (issue 12
     * changed the exit status from 1 to 0 on purpose), and it says what
     * check is for and what to do instead */
    rc = check("", "name: f\nobjective: {metric: value}\nsearch: {max_trials: 3}\n"
                   "space:\n  x1: {type: float, low: 0, high: 1}\n"
                   "  x2: {type: float, low: 0, high: 1}\ntrial: {function: branin}\n",
               out, sizeof out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    ck_assert_ptr_nonnull(strstr(out, "trains no built-in model"));
    ck_assert_msg(strstr(out, "f: nothing to check:"), "%s", out);
    ck_assert_msg(strstr(out, "built-in model (trial.model)"), "%s", out);
    ck_assert_msg(strstr(out, "the benchmark function branin (trial.function)"), "%s", out);
    ck_assert_ptr_null(strstr(out, "FAIL"));
    ck_assert_ptr_null(strstr(out, "run your program")); /* a function is no program */
    rc = check("", "name: c\nobjective: {metric: loss}\nsearch: {max_trials: 3}\n"
                   "space:\n  x: {type: float, low: 0, high: 1}\n"
                   "trial: {command: [./train.sh, '{x}']}\n",
               out, sizeof out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    ck_assert_msg(strstr(out, "c: nothing to check:"), "%s", out);
    ck_assert_msg(strstr(out, "an external program (trial.command: ./train.sh ...)"), "%s", out);
    ck_assert_msg(strstr(out, "`loss=0.25` on stdout"), "%s", out);
    rc = check("--batch 0", STUDY("mlp", ""), out, sizeof out);
    ck_assert_int_eq(rc, 2);
    ck_assert_ptr_nonnull(strstr(out, "--batch: expected a positive whole number"));
    /* an invalid spec: every error, no training */
    rc = check("", "name: ck\n", out, sizeof out);
    ck_assert_int_eq(rc, 1);
    ck_assert_ptr_nonnull(strstr(out, "objective: is required"));
}
END_TEST

/* the guide's "data or labels corrupted": shuffled labels are memorised as
 * easily as real ones, but the memorised model scores chance on held-out
 * data, so the check fails and says why; the same rows with their own
 * labels pass */
START_TEST(test_shuffled_labels_fail)
{
    char csv[128], spec[512], out[4096];
    for (int shuffle = 0; shuffle <= 1; shuffle++) {
        snprintf(csv, sizeof csv, "%s/blobs%d.csv", dir, shuffle);
        ck_assert_int_eq(hp_blobs_write(csv, 2000, 64, 4, shuffle, 7), 0);
        snprintf(spec, sizeof spec,
                 "name: ck\nobjective: {metric: val_error}\nsearch: {max_trials: 2}\n"
                 "space:\n  hidden: {type: int, low: 16, high: 64}\n"
                 "trial:\n  model: mlp\n  dataset: %s\n  epochs: 2\n",
                 csv);
        int rc = check("", spec, out, sizeof out);
        if (!shuffle) {
            ck_assert_msg(rc == 0, "%s", out);
            ck_assert_ptr_nonnull(strstr(out, "PASS: train_loss fell from"));
            /* 2000 rows: 400 test, 160 validation */
            ck_assert_ptr_nonnull(strstr(out, "held out: accuracy"));
            ck_assert_ptr_nonnull(strstr(out, "on 160 validation examples, above chance"));
            continue;
        }
        ck_assert_msg(rc == 1, "%s", out);
        ck_assert_msg(strstr(out, "FAIL: train_loss fell from") != NULL, "%s", out);
        ck_assert_ptr_nonnull(strstr(out, "no better than chance"));
        ck_assert_ptr_nonnull(strstr(out, "labels shuffled or misaligned"));
    }
}
END_TEST

/* a small noisy table: the defaults memorise one batch slowly; a run of
 * the default length that ends still falling runs again, ten times as
 * long, and that run decides; --steps N is run as asked, before or after
 * SPEC */
START_TEST(test_still_memorising_runs_again_longer)
{
    char csv[128], spec[512], out[4096];
    snprintf(csv, sizeof csv, "%s/slow.csv", dir);
    ck_assert_int_eq(hp_blobs_write(csv, 300, 3, 3, 0, 1), 0);
    snprintf(spec, sizeof spec,
             "name: ck\nobjective: {metric: val_error}\nsearch: {max_trials: 2}\n"
             "space:\n  lr: {type: float, low: 0.0001, high: 0.01, log: true}\n"
             "trial:\n  model: mlp\n  dataset: %s\n  epochs: 2\n",
             csv);
    int rc = check("", spec, out, sizeof out);
    ck_assert_msg(rc == 0, "%s", out);
    ck_assert_msg(strstr(out, "still memorising after 300 steps (train_loss ") != NULL, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "checking again with 3000 steps"));
    ck_assert_ptr_nonnull(strstr(out, "for 3000 steps"));
    ck_assert_ptr_nonnull(strstr(out, "PASS: train_loss fell from"));
    ck_assert_ptr_nonnull(strstr(out, "in 3000 steps"));
    rc = check("--steps 300", spec, out, sizeof out);
    ck_assert_msg(rc == 1, "%s", out);
    ck_assert_ptr_null(strstr(out, "still memorising"));
    ck_assert_ptr_nonnull(strstr(out, "diagnosis: too slow"));
    /* the option after SPEC, as `hpsearch run` takes them */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/hpsearch check %s/study.yaml --steps 300 2>&1",
             getenv("HP_BIN_DIR"), dir);
    rc = shell(cmd, out, sizeof out);
    ck_assert_msg(rc == 1, "%s", out);
    ck_assert_msg(strstr(out, "for 300 steps") != NULL, "%s", out);
    ck_assert_ptr_null(strstr(out, "still memorising"));
}
END_TEST

/* regression: the memorised model's held-out predictions correlate with
 * the targets; with the targets shuffled they do not, and the check says
 * so - as a warning, since 32 examples of sound data with many weak
 * features can look the same */
START_TEST(test_shuffled_regression_targets_warn)
{
    char csv[128], spec[512], out[4096];
    for (int shuffle = 0; shuffle <= 1; shuffle++) {
        snprintf(csv, sizeof csv, "%s/linreg%d.csv", dir, shuffle);
        ck_assert_int_eq(hp_linreg_write(csv, 2000, 16, shuffle, 5), 0);
        snprintf(spec, sizeof spec,
                 "name: ck\nobjective: {metric: val_error}\nsearch: {max_trials: 2}\n"
                 "space:\n  hidden: {type: int, low: 16, high: 64}\n"
                 "trial:\n  model: mlp\n  dataset: {path: %s, task: regression}\n  epochs: 2\n",
                 csv);
        int rc = check("", spec, out, sizeof out);
        ck_assert_msg(rc == 0, "%s", out);
        ck_assert_msg(strstr(out, "PASS: train_loss fell from") != NULL, "%s", out);
        if (!shuffle) {
            ck_assert_msg(strstr(out, "held out: predictions correlate with the targets (r = ") !=
                              NULL,
                          "%s", out);
            ck_assert_ptr_nonnull(strstr(out, "on 160 validation examples"));
            ck_assert_ptr_null(strstr(out, "WARNING"));
            continue;
        }
        ck_assert_msg(strstr(out, "WARNING, held out: on 160 validation examples") != NULL, "%s",
                      out);
        ck_assert_ptr_nonnull(strstr(out, "the targets do not go with the inputs"));
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli_check");
    TCase *tc = tcase_create("check");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_sound_mlp_passes);
    tcase_add_test(tc, test_tiny_learning_rate_fails_with_plateau);
    tcase_add_test(tc, test_unrunnable_and_wrong_input);
    tcase_add_test(tc, test_shuffled_labels_fail);
    tcase_add_test(tc, test_still_memorising_runs_again_longer);
    tcase_add_test(tc, test_shuffled_regression_targets_warn);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
