/* models_int.h — private to worker/train: building a named model. */
#ifndef HP_TRAIN_MODELS_INT_H
#define HP_TRAIN_MODELS_INT_H

#include "train.h"

/* hp_train_build_model adds cfg->model's layers to m for (c, h, w)
 * samples and nout outputs; does not allocate (hp_nn_model_alloc does). */
int hp_train_build_model(hp_nn_model_t *m, const hp_train_config_t *cfg, int c, int h, int w,
                         int nout, char *err, size_t errlen);

/* hp_train_build_arch adds the layers of the later architectures (resnet,
 * tcn, attention; models_arch.c) before the output layer; HP_ENOENT
 * when cfg->model is none of them. Shape errors are left in m->build_err. */
int hp_train_build_arch(hp_nn_model_t *m, const hp_train_config_t *cfg);

/* hp_train_image_shape reads "C,H,W" (or "[C, H, W]", "CxHxW"), each
 * 1..4096, into dims; -1 if it is not that. */
int hp_train_image_shape(const char *text, int dims[3]);
/* hp_train_sequence_shape reads "T,F" (or "[T, F]") likewise. */
int hp_train_sequence_shape(const char *text, int dims[2]);

/* hp_trainer_evaluate: mean loss and error (classification: the error
 * rate; regression: RMSE) of t over ds's samples idx[0..n), eval mode,
 * in batches of up to Bmax (t's batch size). NAN for n = 0. */
void hp_trainer_evaluate(hp_trainer_t *t, int Bmax, const hp_dataset_t *ds, const uint32_t *idx,
                         size_t n, const hp_norm_t *norm, double *loss, double *error);

/* hp_trainer_evaluate_pred is hp_trainer_evaluate that also counts, for a
 * classifier, how often each class was predicted: pred[0..nout) (may be
 * NULL; untouched for regression), and sums, for a regression model,
 * each output k's predictions p and targets t: reg[5 k + 0..4] = sum p,
 * sum t, sum p^2, sum t^2, sum p t (may be NULL; untouched for a
 * classifier). */
void hp_trainer_evaluate_pred(hp_trainer_t *t, int Bmax, const hp_dataset_t *ds,
                              const uint32_t *idx, size_t n, const hp_norm_t *norm, double *loss,
                              double *error, long *pred, double *reg);

/* hp_train_baselines computes res->baseline_majority_error and
 * res->baseline_linear_error: the training split's majority class (mean
 * target) and a linear model trained with Adam 1e-3 (regression 1e-2; 3 epochs, at
 * least 2000 steps) on
 * train[tr[0..ntr)], both evaluated on test[te[0..nte)] with the run's
 * normalization. The linear model's weights depend on cfg->seed only, not
 * the trial's stream, so every trial of a study reports the same numbers.
 * HP_ECANCELED if cfg->cancel is set meanwhile; a non-finite linear model
 * leaves its error NAN rather than failing the run. */
int hp_train_baselines(const hp_train_config_t *cfg, const hp_dataset_t *train, const uint32_t *tr,
                       size_t ntr, const hp_dataset_t *test, const uint32_t *te, size_t nte,
                       const hp_norm_t *norm, hp_train_result_t *res, char *err, size_t errlen);

/* hp_train_analyze fills ea (hp_ea_init'ed for t's classes) with the
 * confusion matrix and the worst examples of t over ds's samples
 * idx[0..n), eval mode, in batches of up to Bmax; each example's index is
 * its index in ds. Allocates nothing. */
struct hp_ea;
void hp_train_analyze(hp_trainer_t *t, int Bmax, const hp_dataset_t *ds, const uint32_t *idx,
                      size_t n, const hp_norm_t *norm, struct hp_ea *ea);

#endif
