/*
 * sanity.h — the "overfit a single batch" check, shared by `hpsearch check`
 * (run locally) and the coordinator (run on a worker before a study's
 * first trial, when search.sanity_check is on).
 *
 * The check trains the study's model on ONE batch for a fixed number of
 * steps; a correct model and input pipeline memorise it. Memorising is
 * not enough: a network memorises a batch whose labels were shuffled just
 * as well. So the memorised model is then scored once on the study's
 * validation split: with labels that belong to their inputs it does better
 * than chance even after 32 examples (for regression: its predictions
 * correlate with the targets); with shuffled labels (or inputs that carry
 * no signal) it cannot. These overrides
 * turn a study's trial into that run (they go last, as parameters, so they
 * win over the study's fixed settings):
 *
 *     hp_sanity_overrides_t o;
 *     hp_sanity_overrides(&o, HP_SANITY_STEPS, HP_SANITY_BATCH);
 *     for (size_t i = 0; i < o.n; i++) set(o.name[i], o.value[i]);
 *     ...
 *     hp_sanity_heldout_t ho = {val_error, val_chance_error, val_examples};
 *     hp_buf_t why = {0};
 *     int ok = hp_sanity_judge(loss, n, HP_SANITY_THRESHOLD, &ho, &why);
 */
#ifndef HP_SANITY_H
#define HP_SANITY_H

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

#define HP_SANITY_STEPS 300
#define HP_SANITY_BATCH 32
#define HP_SANITY_THRESHOLD 0.05
/* The held-out test: validation accuracy must beat chance by this many
 * binomial standard deviations (one-sided p ~ 0.001 for a model that
 * learned nothing), on at least HP_SANITY_MIN_HELDOUT examples. */
#define HP_SANITY_HELDOUT_Z 3.0
#define HP_SANITY_MIN_HELDOUT 100
/* Below that bar the check FAILS only where the test can tell: accuracy
 * at most HP_SANITY_FAIL_SD standard deviations above chance (where a
 * model that learned nothing lands 98% of the time) and a batch with at
 * least HP_SANITY_MIN_PER_CLASS examples per class. Otherwise (few
 * examples per class, weak signal) sound data can score the same, so it
 * passes with a warning. */
#define HP_SANITY_FAIL_SD 2.0
#define HP_SANITY_MIN_PER_CLASS 3.0
/* Memorising slowly is memorising: a loss still falling steadily (a
 * healthy curve) that fell by this factor counts, though it is not yet
 * below the threshold. */
#define HP_SANITY_SLOW_FACTOR 10.0

/* A run that ended still memorising, its curve healthy and below where it
 * started but neither below the threshold nor HP_SANITY_SLOW_FACTOR lower
 * (a small model on a small noisy batch at Adam's 3e-4), is not judged on
 * it: the check runs again, once, HP_SANITY_LONGER times as many steps,
 * and that run decides (hp_sanity_wants_longer). */
#define HP_SANITY_LONGER 10
#define HP_SANITY_LATE_FALL 0.02 /* and the loss fell this much over its last third */

typedef struct hp_sanity_overrides {
    size_t n;
    const char *name[6];
    const char *value[6];
    char steps[24], batch[24];
} hp_sanity_overrides_t;

/* What the one-batch run measured on the validation split after its last
 * step (the final metrics val_error, val_chance_error, val_examples);
 * NAN or 0 when not reported. */
typedef struct hp_sanity_heldout {
    double val_error;
    double val_chance_error; /* the error by chance of predictions with the
                                same class frequencies, ignoring the inputs */
    double n;                  /* validation examples */
    double val_pred_corr;      /* regression: correlation of the predictions
                                  with the targets (NAN: not reported) */
    double classes;            /* classification: number of classes (0: unknown) */
    double batch;              /* examples in the memorised batch (0: unknown) */
} hp_sanity_heldout_t;

/* hp_sanity_heldout_read fills ho from the one-batch run's final metrics
 * (val_error, val_chance_error, val_examples, val_pred_corr, classes), as
 * metric(src, name) returns them (NAN: not reported), and the batch size
 * the run memorised. */
void hp_sanity_heldout_read(hp_sanity_heldout_t *ho, double (*metric)(const void *src,
                                                                      const char *name),
                            const void *src, double batch);

/* A verdict that passes with a caveat has this word before it ("PASS:
 * ...\n  WARNING, held out: ..."). */
#define HP_SANITY_WARNING "WARNING"

/* hp_sanity_overrides fills o with the settings of a one-batch run. */
void hp_sanity_overrides(hp_sanity_overrides_t *o, unsigned steps, unsigned batch);

/* hp_sanity_judge decides the check from the train_loss curve (the first
 * value may be the loss at initialization, before any step: steps are
 * counted as n - 1) and, when ho is given and applicable (classification,
 * at least HP_SANITY_MIN_HELDOUT validation examples), the held-out score.
 * 1 if the last loss is below threshold (or the curve is healthy and fell
 * by HP_SANITY_SLOW_FACTOR: memorising slowly) and the held-out test does
 * not fail: the validation accuracy 1 - val_error exceeds chance
 * c = 1 - val_chance_error by HP_SANITY_HELDOUT_Z * sqrt(c (1 - c) / n),
 * else it fails where the test can tell (HP_SANITY_FAIL_SD,
 * HP_SANITY_MIN_PER_CLASS) and warns where it cannot. For regression the
 * predictions' correlation r with the targets should be positive by
 * HP_SANITY_HELDOUT_Z standard deviations of its no-relation value
 * (Fisher: atanh(r) sqrt(n - 3) > HP_SANITY_HELDOUT_Z); below, a warning.
 * Else 0. It appends one or
 * more lines of explanation to why: "PASS: ..." or "FAIL: ..." followed by
 * the diagnosis and the guide's likely causes. */
int hp_sanity_judge(const double *loss, size_t n, double threshold,
                    const hp_sanity_heldout_t *ho, hp_buf_t *why);

/* hp_sanity_wants_longer: 1 if a run whose curve is loss[0..n) (at steps
 * at, NULL: positions) did not pass only because it was too short — the
 * curve healthy (no divergence, oscillation or plateau), its last value
 * finite, still falling (by HP_SANITY_LATE_FALL over the last third of the
 * curve), neither below threshold nor HP_SANITY_SLOW_FACTOR lower than
 * its first — so a run HP_SANITY_LONGER times as long
 * should decide. */
int hp_sanity_wants_longer(const double *loss, const int64_t *at, size_t n, double threshold);

/* hp_sanity_judge_steps is hp_sanity_judge for a curve reported at the
 * step numbers at[0..n) (NULL: positions): its diagnosis names those
 * steps (curve.h, hp_curve_classify_steps). */
int hp_sanity_judge_steps(const double *loss, const int64_t *at, size_t n, double threshold,
                          const hp_sanity_heldout_t *ho, hp_buf_t *why);

#endif
