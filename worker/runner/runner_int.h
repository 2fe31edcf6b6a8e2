/* runner_int.h — what the runners share: the metric-line parser, the
 * final-metrics set, reading trial_json, and one entry point per kind. */
#ifndef HP_RUNNER_INT_H
#define HP_RUNNER_INT_H

#include "runner.h"

#include <stdarg.h>

struct fy_diag;
struct fy_document;
struct fy_node;

/* ---- metric lines (stdout of external programs) ---- */

#define HP_METRICLINE_MAX 64 /* metrics read from one line; more are dropped */

typedef struct hp_metricline {
    hp_runner_metric_t m[HP_METRICLINE_MAX];
    size_t n;
    int has_step;
    int64_t step;
    size_t bad;          /* name=value tokens whose value is not a number */
    char first_bad[96];  /* the first of them, for the error message */
} hp_metricline_t;

/* hp_metricline_parse reads one line (no newline; len bytes). It returns 1
 * when the line is a metric line: at least one token, and every
 * whitespace-separated token is name=value with a non-empty name without
 * '='. Values are read with strtod (nan and inf are allowed); a value that
 * is not a number is skipped and counted in ml->bad; a name longer than 63
 * bytes likewise. `step=N` (an integer) sets ml->step and is not a metric.
 * Returns 0 for any other line. */
int hp_metricline_parse(const char *line, size_t len, hp_metricline_t *ml);

/* ---- outcome helpers ---- */

/* hp_outcome_put records name's latest value in out->metrics. */
void hp_outcome_put(hp_runner_outcome_t *out, const char *name, double value);
/* hp_outcome_fail sets status FAILED and formats the error. */
void hp_outcome_fail(hp_runner_outcome_t *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- trial_json ---- */

/* hp_tj_parse parses json quietly; NULL (with err) if it is not a JSON
 * mapping. On success destroy the document, then *diag. */
struct fy_document *hp_tj_parse(const char *json, struct fy_diag **diag, char *err,
                                size_t errlen);
/* hp_tj_get returns the node at key in mapping n, or NULL. */
struct fy_node *hp_tj_get(struct fy_node *n, const char *key);
/* hp_tj_text returns a malloc'd text form of a node: a scalar's value, or
 * compact JSON for lists and mappings. NULL for a missing node. */
char *hp_tj_text(struct fy_node *n);

/* ---- the runners ---- */

int hp_run_external(struct fy_node *root, const hp_runner_trial_t *t, const hp_runner_opts_t *o,
                    hp_runner_progress_cb cb, void *data, hp_cancel_t *cancel,
                    hp_runner_outcome_t *out);
int hp_run_function(struct fy_node *root, const hp_runner_trial_t *t, hp_runner_progress_cb cb,
                    void *data, hp_runner_outcome_t *out);
int hp_run_model(struct fy_node *root, const hp_runner_trial_t *t, const hp_runner_opts_t *o,
                 hp_runner_progress_cb cb, void *data, hp_cancel_t *cancel,
                 hp_runner_outcome_t *out);

/* monotonic seconds */
double hp_runner_now(void);

#endif
