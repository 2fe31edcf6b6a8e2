/*
 * baselines.h — the simple baselines a built-in trial trains beside its
 * model on the same splits (worker/train/baseline.c), named once for every
 * part that refers to them:
 *
 *   metric  the final metric that carries its test error (runner → store)
 *   name    its row name in the store's baselines table, also its key in
 *           `hpsearch report --format json`
 *   label   how `hpsearch report` writes it for people
 *
 * The strings are macros as well, for static initializers.
 */
#ifndef HP_BASELINES_H
#define HP_BASELINES_H

typedef enum hp_baseline {
    HP_BASELINE_MAJORITY = 0, /* most frequent class / mean target */
    HP_BASELINE_LINEAR,       /* softmax / linear regression */
    HP_BASELINE_COUNT
} hp_baseline_t;

#define HP_BASELINE_MAJORITY_METRIC "baseline_majority_error"
#define HP_BASELINE_LINEAR_METRIC "baseline_linear_error"

typedef struct hp_baseline_names {
    const char *metric, *name, *label;
} hp_baseline_names_t;

extern const hp_baseline_names_t hp_baseline_names[HP_BASELINE_COUNT];

/* hp_baseline_by_metric returns the baseline whose final metric is
 * `metric`, or -1 (also for NULL). */
int hp_baseline_by_metric(const char *metric);

#endif
