/* hp_outcome: the metrics set of a trial and its failure message. */
#include "outcome.h"

#include "err.h"
#include "error_analysis.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hp_outcome_put(hp_runner_outcome_t *out, const char *name, double value)
{
    for (size_t i = 0; i < out->n_metrics; i++)
        if (strcmp(out->metrics[i].name, name) == 0) {
            out->metrics[i].value = value;
            return;
        }
    if (out->n_metrics >= HP_RUNNER_MAX_METRICS || strlen(name) >= HP_METRIC_NAME_MAX)
        return;
    if (!out->metrics) {
        out->metrics = calloc(HP_RUNNER_MAX_METRICS, sizeof *out->metrics);
        HP_ASSERT(out->metrics);
    }
    hp_runner_metric_t *m = &out->metrics[out->n_metrics++];
    snprintf(m->name, sizeof m->name, "%s", name);
    m->value = value;
}

const hp_runner_metric_t *hp_outcome_find(const hp_runner_outcome_t *out, const char *name)
{
    for (size_t i = 0; i < out->n_metrics; i++)
        if (strcmp(out->metrics[i].name, name) == 0)
            return &out->metrics[i];
    return NULL;
}

void hp_outcome_fail(hp_runner_outcome_t *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->error, sizeof out->error, fmt, ap);
    va_end(ap);
    out->status = HP_RUNNER_FAILED;
}

void hp_runner_outcome_fini(hp_runner_outcome_t *out)
{
    free(out->metrics);
    out->metrics = NULL;
    out->n_metrics = 0;
    free(out->stdout_text);
    free(out->stderr_text);
    out->stdout_text = out->stderr_text = NULL;
    out->stdout_len = out->stderr_len = 0;
    if (out->errors)
        hp_ea_fini(out->errors);
    free(out->errors);
    out->errors = NULL;
}
