/*
 * metricline.h — the metric lines an external program prints on stdout:
 * `name=value name=value ... [step=N]`. The external runner feeds it one
 * line at a time; it keeps no state, so any thread may call it.
 *
 *     hp_metricline_t ml;
 *     if (hp_metricline_parse("loss=0.5 step=3", 15, &ml))
 *         use(ml.m, ml.n, ml.has_step ? ml.step : -1);
 */
#ifndef HP_METRICLINE_H
#define HP_METRICLINE_H

#include "outcome.h"

#include <stddef.h>
#include <stdint.h>

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

#endif
