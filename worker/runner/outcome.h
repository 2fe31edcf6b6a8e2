/*
 * outcome.h — what a trial came to: its status, the objective's value, the
 * final value of every metric it reported, and why it failed.
 *
 *     hp_runner_outcome_t out = {0};
 *     hp_outcome_put(&out, "val_loss", 0.31);     // a runner, as metrics arrive
 *     hp_outcome_fail(&out, "exited with status %d", 2);
 *     const hp_runner_metric_t *m = hp_outcome_find(&out, "val_loss");
 *     hp_runner_outcome_fini(&out);
 *
 * An outcome belongs to one thread at a time: the runner's while the trial
 * runs, the caller's after hp_runner_run returns.
 */
#ifndef HP_OUTCOME_H
#define HP_OUTCOME_H

#include <stddef.h>
#include <stdint.h>

#define HP_METRIC_NAME_MAX 64     /* including the NUL: names are <= 63 bytes */
#define HP_RUNNER_MAX_METRICS 256 /* distinct metric names kept per trial */
#define HP_RUNNER_STDERR_TAIL 4096
#define HP_RUNNER_ERROR_MAX 1024

typedef struct hp_runner_metric {
    char name[HP_METRIC_NAME_MAX];
    double value;
} hp_runner_metric_t;

typedef enum hp_runner_status {
    HP_RUNNER_COMPLETED = 1,
    HP_RUNNER_FAILED = 2,
    HP_RUNNER_CANCELLED = 4, /* stopped by hp_cancel_request */
} hp_runner_status_t;

typedef struct hp_runner_outcome {
    hp_runner_status_t status;
    double value;             /* the objective's last value, when completed */
    hp_runner_metric_t *metrics;     /* final value of every metric, n_metrics of them */
    size_t n_metrics;
    char error[HP_RUNNER_ERROR_MAX];      /* why it failed ("" when completed) */
    char stderr_tail[HP_RUNNER_STDERR_TAIL + 1]; /* external programs */
    double duration_s;
    /* external programs: the signal that ended the program when the
     * runner did not send it (a scheduler signalling the whole job, a
     * user's kill); 0 otherwise */
    int term_signal;
    /* external programs: stdout lines that were not metric lines, and
     * metric values that were not numbers (ignored) */
    uint64_t other_lines, bad_values;
    /* external programs: the whole stdout and stderr, cut to a cap
     * (capture.h; the bytes as written, not necessarily UTF-8); NULL for
     * built-in trials and for a program that never started. Freed by
     * hp_runner_outcome_fini. */
    char *stdout_text, *stderr_text;
    size_t stdout_len, stderr_len;
    /* built-in classifiers: the test set's confusion matrix and worst
     * examples (common/error_analysis.h), or NULL. Freed by
     * hp_runner_outcome_fini. */
    struct hp_ea *errors;
} hp_runner_outcome_t;

/* hp_outcome_put records name's latest value in out->metrics (allocated on
 * the first put). Names too long, or beyond HP_RUNNER_MAX_METRICS distinct
 * ones, are dropped. */
void hp_outcome_put(hp_runner_outcome_t *out, const char *name, double value);

/* hp_outcome_fail sets status FAILED and formats the error. */
void hp_outcome_fail(hp_runner_outcome_t *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* hp_outcome_find returns name's latest value in out, or NULL. */
const hp_runner_metric_t *hp_outcome_find(const hp_runner_outcome_t *out, const char *name);

/* hp_runner_outcome_fini frees out's metrics and output texts; safe on
 * zeroed memory. */
void hp_runner_outcome_fini(hp_runner_outcome_t *out);

#endif
