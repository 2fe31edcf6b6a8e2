/*
 * sanity.h — the "overfit a single batch" check, shared by `hpsearch check`
 * (run locally) and the coordinator (run on a worker before a study's
 * first trial, when search.sanity_check is on).
 *
 * The check trains the study's model on ONE batch for a fixed number of
 * steps; a correct model and input pipeline memorise it. These overrides
 * turn a study's trial into that run (they go last, as parameters, so they
 * win over the study's fixed settings):
 *
 *     hp_sanity_overrides_t o;
 *     hp_sanity_overrides(&o, HP_SANITY_STEPS, HP_SANITY_BATCH);
 *     for (size_t i = 0; i < o.n; i++) set(o.name[i], o.value[i]);
 *     ...
 *     hp_buf_t why = {0};
 *     int ok = hp_sanity_judge(loss, n, HP_SANITY_THRESHOLD, &why);
 */
#ifndef HP_SANITY_H
#define HP_SANITY_H

#include "buf.h"

#include <stddef.h>

#define HP_SANITY_STEPS 300
#define HP_SANITY_BATCH 32
#define HP_SANITY_THRESHOLD 0.05

typedef struct hp_sanity_overrides {
    size_t n;
    const char *name[5];
    const char *value[5];
    char steps[24], batch[24];
} hp_sanity_overrides_t;

/* hp_sanity_overrides fills o with the settings of a one-batch run. */
void hp_sanity_overrides(hp_sanity_overrides_t *o, unsigned steps, unsigned batch);

/* hp_sanity_judge decides the check from the train_loss curve (the first
 * value may be the loss at initialization, before any step: steps are
 * counted as n - 1): 1 if the last value is below threshold, else 0. It
 * appends one or more lines of explanation to why: "PASS: ..." or
 * "FAIL: ..." followed by the learning-curve diagnosis and the guide's
 * likely causes. */
int hp_sanity_judge(const double *loss, size_t n, double threshold, hp_buf_t *why);

#endif
