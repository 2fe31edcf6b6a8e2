/* `hpworker train` as a user runs it: the real binary as a child process. */
#include "hp_check.h"
#include "hp_spawn.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* runs hpworker with args (stderr folded into stdout); returns exit status */
static int hpworker(const char *args, char *out, size_t outlen)
{
    const char *bin = getenv("HP_BIN_DIR");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s/hpworker %s 2>&1", bin ? bin : ".", args);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(test_train_prints_metric_lines)
{
    static char out[1 << 16];
    int rc = hpworker("train --model mlp --epochs 2 --set train_size=1000 --set val_size=200 "
                      "--set hidden=32 --set lr=1e-3",
                      out, sizeof out);
    ck_assert_msg(rc == 0, "%s", out);
    ck_assert_msg(strstr(out, "epoch=1/2 step=8 train_loss=") && strstr(out, "epoch=2/2 step=16 ") &&
                      strstr(out, " val_error=") && strstr(out, " samples_per_sec=") &&
                      strstr(out, "test_loss=") && strstr(out, " test=10000 "),
                  "%s", out);
}
END_TEST

START_TEST(test_train_rejects_bad_settings)
{
    static char out[1 << 16];
    ck_assert_int_eq(hpworker("train --set lrr=1", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "hpworker train: unknown hyperparameter 'lrr' (known: model, "),
                  "%s", out);
    ck_assert_int_eq(hpworker("train --model vgg", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "model: unknown value 'vgg' (choose "
                              "mlp|lenet|lstm|resnet|tcn|attention|linear|multimodal)"),
                  "%s", out);
    ck_assert_int_eq(hpworker("train --epochs", out, sizeof out), 2);
    ck_assert_int_eq(hpworker("train --frobnicate", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "unknown option '--frobnicate'"), "%s", out);
    ck_assert_int_eq(hpworker("train --set data_dir=/nonexistent --epochs 1", out, sizeof out), 1);
    ck_assert_msg(strstr(out, "/nonexistent/train-images-idx3-ubyte.gz: cannot open"), "%s", out);
    ck_assert_int_eq(hpworker("train --help", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "weight_decay") && strstr(out, "augment_shift"), "%s", out);
    ck_assert_int_eq(hpworker("bogus", out, sizeof out), 2);
    ck_assert_int_eq(hpworker("--help", out, sizeof out), 0);
    /* the connect options before --connect are read as the connect command's */
    ck_assert_int_eq(hpworker("--slots 0 --connect tcp://127.0.0.1:1", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "--slots must be a whole number in 1..1024 (got '0')"), "%s", out);
    ck_assert_int_eq(hpworker("--cores 0 --connect tcp://127.0.0.1:1", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "--cores must be a whole number in 1..1024 (got '0')"), "%s", out);
    ck_assert_int_eq(hpworker("--slots 2", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "--slots without --connect URL"), "%s", out);
}
END_TEST

START_TEST(test_train_reports_divergence)
{
    static char out[1 << 16];
    int rc = hpworker("train --epochs 1 --set train_size=2000 --set val_size=100 "
                      "--set optimizer=sgd --set lr=100",
                      out, sizeof out);
    ck_assert_msg(rc == 1, "%s", out);
    ck_assert_msg(strstr(out, "non-finite value") && strstr(out, "epoch 1, step ") &&
                      strstr(out, "layer "),
                  "%s", out);
}
END_TEST

START_TEST(test_ctrl_c_stops_within_a_step)
{
    const char *bin = getenv("HP_BIN_DIR");
    char exe[1024], outp[64];
    snprintf(exe, sizeof exe, "%s/hpworker", bin ? bin : ".");
    snprintf(outp, sizeof outp, "/tmp/hp_test_cli_%d.out", (int)getpid());
    hp_spawn_opts_t o = {.err = outp, .mode = 0666};
    pid_t pid = hp_spawn(exe, (const char *[]){"train", "--model", "lstm", "--epochs", "100", NULL},
                         &o);
    sleep(2); /* well into the first (long) epoch */
    ck_assert_int_eq(kill(pid, SIGINT), 0);
    int st = hp_spawn_wait_status(pid);
    ck_assert(WIFEXITED(st));
    ck_assert_int_eq(WEXITSTATUS(st), 130);
    char buf[1024] = "";
    FILE *f = fopen(outp, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    unlink(outp);
    ck_assert_msg(strstr(buf, "interrupted (cancelled in epoch 1 after step "), "%s", buf);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("worker_cli");
    TCase *tc = tcase_create("cli");
    tcase_add_test(tc, test_train_prints_metric_lines);
    tcase_add_test(tc, test_train_rejects_bad_settings);
    tcase_add_test(tc, test_train_reports_divergence);
    tcase_add_test(tc, test_ctrl_c_stops_within_a_step);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_check_run(suite());
}
