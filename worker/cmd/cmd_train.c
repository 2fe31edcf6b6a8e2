/* `hpworker train`: one local training run that prints its metrics as
 * `name=value` lines, the seed's "get your model to run" step without a
 * coordinator. */
#include "cmd.h"

#include "err.h"
#include "train.h"

#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a lock-free atomic int is safe to store from a signal handler */
static _Atomic int interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    atomic_store(&interrupted, 1);
}

static int on_epoch(const hp_train_epoch_t *m, void *data)
{
    const hp_train_config_t *cfg = data;
    printf("epoch=%d/%d step=%ld train_loss=%.5f train_error=%.4f val_loss=%.5f val_error=%.4f "
           "lr=%.3g samples_per_sec=%.0f cpu_samples_per_sec=%.0f seconds=%.2f\n",
           m->epoch, cfg->epochs, m->step, m->train_loss, m->train_error, m->val_loss,
           m->val_error, m->lr, m->samples_per_sec, m->cpu_samples_per_sec, m->seconds);
    if (!isnan(m->shift_val_error)) /* shift=...: the test distribution too */
        printf("  shift_val_loss=%.5f shift_val_error=%.4f\n", m->shift_val_loss,
               m->shift_val_error);
    fflush(stdout);
    return 0;
}

static void train_usage(FILE *f)
{
    fputs("usage: hpworker train [--model mlp|lenet|lstm] [--dataset fashion-mnist|csv:PATH]\n"
          "                      [--epochs N] [--seed N] [--threads N] [--set name=value]...\n"
          "                      [--list]\n\nsettings (--set name=value; default shown):\n",
          f);
    hp_train_config_help(f);
}

static int exec_train(int argc, char **argv)
{
    hp_train_config_t cfg;
    hp_train_config_defaults(&cfg);
    char err[1024];
    static const struct {
        const char *flag, *name;
    } flags[] = {{"--model", "model"},   {"--dataset", "dataset"}, {"--epochs", "epochs"},
                 {"--seed", "seed"},     {"--threads", "threads"}, {"--slots", "threads"},
                 {"--data-dir", "data_dir"}};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h") || !strcmp(a, "--list")) {
            train_usage(stdout);
            return 0;
        }
        int rc = 1;
        if (!strcmp(a, "--set")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "hpworker train: --set needs name=value\n");
                return 2;
            }
            rc = hp_train_config_set_kv(&cfg, argv[++i], err, sizeof err);
        } else {
            for (size_t f = 0; f < HP_ARRAY_LEN(flags); f++)
                if (!strcmp(a, flags[f].flag)) {
                    if (i + 1 >= argc) {
                        fprintf(stderr, "hpworker train: %s needs a value\n", a);
                        return 2;
                    }
                    rc = hp_train_config_set(&cfg, flags[f].name, argv[++i], err, sizeof err);
                    break;
                }
            if (rc == 1) {
                fprintf(stderr, "hpworker train: unknown option '%s' (try --help)\n", a);
                return 2;
            }
        }
        if (rc < 0) {
            fprintf(stderr, "hpworker train: %s\n", err);
            return 2;
        }
    }
    signal(SIGINT, on_sigint);
    cfg.cancel = &interrupted; /* Ctrl-C stops within one step */
    hp_train_result_t res;
    int rc = hp_train_run(&cfg, on_epoch, &cfg, &res, err, sizeof err);
    if (rc < 0 && rc != HP_ECANCELED) {
        fprintf(stderr, "hpworker train: %s: %s\n", hp_strerror(rc), err);
        return 1;
    }
    if (rc == HP_ECANCELED) {
        fprintf(stderr, "hpworker train: interrupted (%s)\n", err);
        return 130;
    }
    printf("test_loss=%.5f test_error=%.4f test_accuracy=%.4f params=%zu train=%zu val=%zu "
           "test=%zu seconds=%.2f gflops=%.1f blas_core=%s gemm=%s precision=%s\n",
           res.test_loss, res.test_error, 1.0 - res.test_error, res.nparams, res.ntrain, res.nval,
           res.ntest, res.seconds, res.train_gflops, res.blas_core,
           res.gemm, res.precision);
    if (!isnan(res.final_train_error))
        printf("final_train_loss=%.5f final_train_error=%.4f (the final model on %zu training "
               "examples, in evaluation mode)\n",
               res.final_train_loss, res.final_train_error,
               res.ntrain < HP_TRAIN_FINAL_EVAL ? res.ntrain : (size_t)HP_TRAIN_FINAL_EVAL);
    if (!isnan(res.shift_val_error))
        printf("shift_val_loss=%.5f shift_val_error=%.4f shift_val=%zu\n", res.shift_val_loss,
               res.shift_val_error, res.nshift_val);
    if (!isnan(res.baseline_majority_error) || !isnan(res.baseline_linear_error))
        printf("baseline_majority_error=%.4f baseline_linear_error=%.4f\n",
               res.baseline_majority_error, res.baseline_linear_error);
    return 0;
}

const hp_worker_cmd_t hp_worker_cmd_train = {
    .name = "train",
    .usage = "train [--model M] [--dataset D] [--epochs N] [--set name=value]...  one local run",
    .exec = exec_train,
};
