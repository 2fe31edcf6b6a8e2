/*
 * train.h — one training run: configuration by name, the training loop,
 * per-epoch metrics. Used by `hpworker train` and by the coordinator-
 * connected runner alike.
 *
 *     hp_train_config_t cfg;
 *     hp_train_config_defaults(&cfg);
 *     if (hp_train_config_set(&cfg, "lr", "1e-3", err, sizeof err) < 0) ...  // unknown names rejected
 *     hp_train_result_t res;
 *     int rc = hp_train_run(&cfg, on_epoch, ctx, &res, err, sizeof err);
 *
 * on_epoch is called after every epoch from the thread that called
 * hp_train_run; returning non-zero stops training (cancel, pruning) and
 * hp_train_run then returns HP_ECANCELED with res filled so far. To stop
 * sooner (within one step), point cfg.cancel at a flag and set it.
 *
 * Everything a trial can vary is a setting in one table
 * (common/trial_settings.def, shared with the spec validator): the model,
 * dataset, epochs and seed as well as the hyperparameters, so a study can
 * fix or search any of them. config.c stores each setting in the field of
 * hp_train_config_t with its name.
 */
#ifndef HP_TRAIN_H
#define HP_TRAIN_H

#include "cache.h"
#include "dataset.h"
#include "model.h"
#include "optim.h"

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#define HP_TRAIN_MAX_HIDDEN 8

typedef struct hp_train_config {
    /* what to train */
    char model[16];      /* mlp | lenet | lstm | resnet | tcn | attention | linear | multimodal */
    char dataset[1024];  /* fashion-mnist | csv:PATH */
    char data_dir[512];  /* fashion-mnist files ("" = default) */
    char label[64];      /* CSV label column ("" = last) */
    char task[16];       /* CSV: classification | regression */
    int epochs;
    uint64_t seed;       /* the study's: data splits, baselines; with stream: */
    uint64_t stream;     /* trial number: independent RNG stream per trial */
    int threads;         /* BLAS threads = the worker's slots */
    char precision[8];   /* fp32 | bf16: the matrix products (gemm.h) */
    /* model */
    int hidden[HP_TRAIN_MAX_HIDDEN];
    int nhidden;         /* 0 = the model's default width */
    char activation[8];  /* relu | tanh (mlp) */
    int layers;          /* lstm layers */
    int conv1, conv2, fc1, fc2; /* lenet widths */
    int channels, blocks, stages, kernel, heads; /* resnet, tcn, attention (0: default) */
    double dropout;
    int batchnorm;
    /* optimization */
    char optimizer[16];  /* adam | adamw | sgd | momentum */
    double lr, momentum, beta1, beta2, eps, weight_decay, clip_norm;
    char schedule[16];   /* constant | step | cosine */
    int step_epochs;
    double gamma;
    int batch_size;
    /* data */
    double val_size, train_size, test_size; /* < 1: fraction, else count; 0 = default */
    char normalize[16];  /* standard | unit | center | none */
    int augment_shift, augment_flip;
    int max_steps;       /* stop after this many steps (0 = no limit) */
    int initial_eval;    /* report an epoch 0: the losses at initialization */
    int eval_every;      /* validation sets at epochs that are multiples of
                            this, and after the last (others report NAN) */
    /* distribution shift: the test set and a test-distribution validation
     * set (shift_val) are the shifted test images; normalization keeps the
     * training split's statistics, so the shift is measured, not undone */
    char shift[16];      /* none | darken | noise (image datasets) */
    double shift_val_size; /* of the shifted test set (< 1: fraction, else count) */
    char adapt[8];       /* none | coral (domain adaptation, coral.c) */
    int adapt_compare;   /* coral: also train without it (run_model.c) */
    /* several modalities in one CSV (worker/data/columns.c) */
    char image_columns[1024];
    char image_shape[64];     /* "C,H,W" */
    char feature_columns[4096];
    /* a CSV's sequence (columns.c): T steps of F features, as the
     * sequence models read an image's rows */
    char sequence_columns[1024];
    char sequence_shape[64];  /* "T,F" */
    int baselines;       /* also train the baselines (majority, linear) once */
    /* not a setting: if non-NULL, checked before every step; storing
     * non-zero (from any thread or a signal handler) makes hp_train_run
     * return HP_ECANCELED within one step, mid-epoch. The epoch callback
     * can only stop at the end of an epoch. */
    const _Atomic int *cancel;
    /* not a setting: if non-NULL, the datasets are borrowed from this
     * cache (a worker's, shared by its slots) instead of loaded for the
     * run alone */
    hp_data_cache_t *cache;
    /* not a setting: if non-NULL, a classifier's test set is analysed
     * into it after training (the confusion matrix and the worst
     * examples, common/error_analysis.h). hp_train_run initialises it
     * (zeroed when there is nothing to analyse); hp_ea_fini it after,
     * whatever hp_train_run returned. */
    struct hp_ea *errors;
} hp_train_config_t;

/* hp_train_config_defaults: the seed's defaults (Adam 3e-4, one hidden
 * layer, no regularization, standardized inputs). */
void hp_train_config_defaults(hp_train_config_t *cfg);
/* hp_train_config_set sets one setting from text. An unknown name or a bad
 * value returns HP_EINVAL with a message that lists the known names or
 * says what is allowed. */
int hp_train_config_set(hp_train_config_t *cfg, const char *name, const char *value, char *err,
                        size_t errlen);
/* hp_train_config_set_kv takes "name=value". */
int hp_train_config_set_kv(hp_train_config_t *cfg, const char *kv, char *err, size_t errlen);
/* hp_train_config_names writes the known setting names, comma-separated
 * (hp_trial_settings_names). */
void hp_train_config_names(char *out, size_t outlen);
/* hp_train_config_help prints the settings table (name, default, help):
 * hp_trial_settings_help. */
void hp_train_config_help(FILE *f);

typedef struct hp_train_epoch {
    int epoch;            /* 1-based; 0 = before training (initial_eval) */
    long step;            /* optimizer steps so far */
    double train_loss, train_error; /* running averages over the epoch */
    double val_loss, val_error;     /* NAN when there is no validation split */
    double shift_val_loss, shift_val_error; /* test distribution; NAN without a shift */
    double lr;            /* at the end of the epoch */
    double samples_per_sec; /* training throughput (forward + backward + update) */
    double cpu_samples_per_sec; /* the same per second of the process's CPU time:
                                   on a shared machine, what the load does not skew */
    double seconds;       /* wall time since the start */
} hp_train_epoch_t;

/* Called after each epoch; return non-zero to stop. */
typedef int (*hp_train_epoch_cb)(const hp_train_epoch_t *m, void *data);

#define HP_TRAIN_FINAL_EVAL 10000

typedef struct hp_train_result {
    int epochs_done;
    long steps;
    hp_train_epoch_t last;
    double test_loss, test_error; /* NAN if stopped early */
    /* the final model on the training split (up to HP_TRAIN_FINAL_EVAL
     * examples of it), in evaluation mode: no dropout, no augmentation,
     * batch norm's running statistics; what the bias-variance report's
     * training error means. An epoch's train_loss / train_error are the
     * running averages over its batches, as trained (augmented, dropped
     * out, the weights moving), which overstate it under regularization.
     * NAN if stopped early. */
    double final_train_loss, final_train_error;
    double shift_val_loss, shift_val_error; /* NAN without a shift or if stopped early */
    /* "compare to a known result", on the same test set; NAN unless
     * cfg->baselines: the training split's most frequent class (regression:
     * its mean target) and a linear model (softmax / linear regression,
     * Adam 1e-3 for 3 epochs / 2000 steps at least). RMSE for regression. */
    double baseline_majority_error, baseline_linear_error;
    /* classification, at the last validation evaluation: the validation
     * error expected by chance from predictions with the same class
     * frequencies that ignore which input they belong to,
     * 1 - sum_k p_k q_k (p: predicted, q: true class frequencies; Cohen's
     * kappa's chance agreement). A model trained on shuffled labels cannot
     * expect to do better. NAN for regression or no validation. */
    double val_chance_error;
    /* regression, at the last validation evaluation: Pearson's correlation
     * of the predictions with the targets (averaged over the outputs),
     * about 0 for a model that learned nothing that carries over. NAN for
     * classification, no validation, or constant predictions. */
    double val_pred_corr;
    int nclasses;         /* classification: number of classes; 0 for regression */
    size_t nparams;
    size_t ntrain, nval, ntest, nshift_val;
    double seconds;
    double train_gflops;  /* GEMM GFLOP/s during training steps */
    const char *blas_core; /* OpenBLAS's kernel family ("Zen", "SkylakeX", ...) */
    const char *gemm;      /* the fp32 kernel that ran: "openblas" or "builtin-avx512" */
    const char *precision; /* what the products ran in: "fp32" or "bf16" (precision: bf16
                              falls back to fp32 where bf16 is missing or no faster) */
} hp_train_result_t;

/* hp_train_run loads the data, builds the model, trains and evaluates.
 * Errors: HP_EINVAL (bad config), HP_ENOENT / HP_ECORRUPT (data),
 * HP_ENUMERIC (NaN/Inf: the message names the layer and step),
 * HP_ECANCELED (the callback asked to stop). Sets the BLAS thread count. */
int hp_train_run(const hp_train_config_t *cfg, hp_train_epoch_cb cb, void *data,
                 hp_train_result_t *res, char *err, size_t errlen);

/* ---- lower level: one model + optimizer, stepped by the caller (tests,
 * benchmarks). All memory is allocated by hp_trainer_init. ---- */

typedef struct hp_trainer {
    hp_nn_model_t model;
    hp_opt_t opt;
    hp_sched_t sched;
    hp_task_t task;
    int nout;
    float clip_norm;
    int32_t *labels;  /* (max_batch) classification */
    float *targets;   /* (max_batch * nout) regression */
    float *probs;     /* (max_batch * nout) */
    void *block;      /* labels, targets, probs */
    long step;
    int grads_zero;   /* the last step's update zeroed the gradients */
    /* if non-NULL, hp_trainer_evaluate* maps every gathered batch with it
     * (domain adaptation of source-distribution inputs, coral.h) */
    const struct hp_coral *coral;
} hp_trainer_t;

/* hp_trainer_init builds cfg->model for samples (c, h, w) and nout outputs
 * (classes, or 1 for regression) and initializes its weights. */
int hp_trainer_init(hp_trainer_t *t, const hp_train_config_t *cfg, int c, int h, int w, int nout,
                    hp_task_t task, char *err, size_t errlen);
void hp_trainer_fini(hp_trainer_t *t);
/* hp_trainer_step trains on the B samples in t->model.input and
 * t->labels / t->targets with learning rate lr. *loss, *correct may be
 * NULL. HP_ENUMERIC if the loss or a gradient is not finite. */
int hp_trainer_step(hp_trainer_t *t, int B, float lr, float *loss, int *correct, char *err,
                    size_t errlen);
/* hp_trainer_eval: loss and correct count of the loaded batch, eval mode. */
float hp_trainer_eval(hp_trainer_t *t, int B, int *correct);

#endif
