/*
 * coral.h — CORAL domain adaptation ("Return of Frustratingly Easy Domain
 * Adaptation", Sun, Feng & Saenko 2016) on a model's normalized inputs.
 *
 * Fit on source inputs (the training split) and unlabeled target inputs
 * (the test distribution's), it is the map
 *
 *     x' = (x - mu_s) A + mu_t,   A = (C_s + I)^(-1/2) (C_t + I)^(1/2)
 *
 * (C: covariance, as in the paper regularized by the identity; inputs are
 * rows). Source inputs so mapped have the target's mean and covariance:
 * the model is trained (and validated) on them, and tested on target
 * inputs unchanged. Beyond the paper's whitening and re-colouring it also
 * moves the mean, which a dataset normalized with the training split's
 * statistics otherwise keeps (the paper normalizes each domain alone).
 *
 *     hp_coral_t c;
 *     if (hp_coral_fit(&c, train, split.train, ntr, test, shift_idx, nshift, &norm, 128,
 *                      err, errlen) < 0) ...
 *     hp_data_gather(x, y, NULL, train, idx, B, &norm, NULL, NULL);
 *     hp_coral_apply(&c, x, B);    // allocates nothing
 *     hp_coral_fini(&c);
 */
#ifndef HP_TRAIN_CORAL_H
#define HP_TRAIN_CORAL_H

#include "dataset.h"

#include <stddef.h>

#define HP_CORAL_SAMPLES 4096 /* inputs of each domain the covariances are estimated from */

typedef struct hp_coral {
    int D, max_batch;
    float *A;      /* (D, D) */
    float *mu_s, *mu_t; /* (D) each */
    float *tmp;    /* (max_batch, D) */
    void *block;
} hp_coral_t;

/* hp_coral_fit estimates both domains' means and covariances from up to
 * HP_CORAL_SAMPLES of src's samples si[0..ns) and tgt's ti[0..nt) (the
 * labels are not read), normalized with nm, and builds the map for batches
 * of up to max_batch. HP_EINVAL for too few samples (2 each) or
 * mismatched dimensions; HP_ENUMERIC if an eigendecomposition fails. */
int hp_coral_fit(hp_coral_t *c, const hp_dataset_t *src, const uint32_t *si, size_t ns,
                 const hp_dataset_t *tgt, const uint32_t *ti, size_t nt, const hp_norm_t *nm,
                 int max_batch, char *err, size_t errlen);
/* hp_coral_apply maps the B (<= max_batch) rows of x (B, D) in place. */
void hp_coral_apply(const hp_coral_t *c, float *x, int B);
/* hp_coral_fini frees; safe on zeroed memory. */
void hp_coral_fini(hp_coral_t *c);

#endif
