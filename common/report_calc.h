/*
 * report_calc.h — the arithmetic of `hpsearch report`: the bias-variance
 * decomposition of a trial's errors and the next steps, in the order of
 * ../shared/seed/troubleshooting-deep-learning.md ("Evaluate", "Improve").
 * Pure: no SQL, no I/O, so it is tested on hand-computed values.
 *
 *     hp_report_errors_t e;
 *     hp_report_errors_init(&e);               // everything "not reported"
 *     e.err[HP_RE_TRAIN] = 0.05; e.err[HP_RE_VAL] = 0.08; e.err[HP_RE_TEST] = 0.09;
 *     e.human = 0.01;                          // objective.human_error
 *     hp_report_t r;
 *     hp_report_compute(&e, &r);
 *     // r.term[HP_RT_BIAS].value == 0.04 (material), r.fit == HP_FIT_UNDER,
 *     // r.advice[0] == HP_RT_BIAS: address under-fitting first
 *
 * Definitions (docs/troubleshooting.md, "Evaluate: hpsearch report"):
 *   irreducible         = human error (unknown when the spec sets none)
 *   avoidable bias      = train − irreducible
 *   variance            = val − train
 *   distribution shift  = shift_val − val  (test-distribution validation)
 *   val overfitting     = test − shift_val, or test − val without shift_val
 * so that, when every term is known, test = the sum of the terms. A term
 * whose inputs are missing is unknown (NaN) and `why` names what is
 * missing. Negative terms are kept as they are, never clamped to 0; they
 * are never material.
 *
 * Material: value ≥ threshold (less 1e-12 for rounding) and > 0, where
 * threshold = min(HP_REPORT_ABS_THRESHOLD, HP_REPORT_REL_THRESHOLD × ref),
 * ref = the test error, else the validation error; with neither (or a
 * reference of 0) the threshold is HP_REPORT_ABS_THRESHOLD. In words: at
 * least 1 percentage point, or at least 10% of the test error when that is
 * smaller (a 0.3-point gap matters when the test error is 2%).
 */
#ifndef HP_REPORT_CALC_H
#define HP_REPORT_CALC_H

#include "baselines.h"

#include <stddef.h>

#define HP_REPORT_ABS_THRESHOLD 0.01 /* 1 percentage point of error rate */
#define HP_REPORT_REL_THRESHOLD 0.10 /* 10% of the test error */

/* The errors a trial reports, by metric name (hp_report_error_metric). */
typedef enum hp_report_error {
    HP_RE_TRAIN = 0, /* train_error */
    HP_RE_VAL,       /* val_error: validation set from the training distribution */
    HP_RE_SHIFT_VAL, /* shift_val_error: validation set from the test distribution */
    HP_RE_TEST,      /* test_error */
    HP_RE_COUNT
} hp_report_error_t;

typedef struct hp_report_errors {
    double err[HP_RE_COUNT];            /* NaN: not available */
    unsigned char was_nan[HP_RE_COUNT]; /* reported, but NaN or infinite */
    double human;                       /* objective.human_error; NaN: unknown */
} hp_report_errors_t;

/* The terms of the decomposition, in the seed's order. */
typedef enum hp_report_term_id {
    HP_RT_IRREDUCIBLE = 0,
    HP_RT_BIAS,        /* avoidable bias: under-fitting */
    HP_RT_VARIANCE,    /* over-fitting */
    HP_RT_SHIFT,       /* distribution shift */
    HP_RT_VAL_OVERFIT, /* validation-set overfitting */
    HP_RT_COUNT
} hp_report_term_id_t;

typedef struct hp_report_term {
    double value; /* NaN: unknown */
    int material; /* 0 for the irreducible error: it is no step to take */
    char why[160]; /* unknown: what is missing; known: the formula used */
} hp_report_term_t;

/* What a trial's largest material term says about it. */
typedef enum hp_report_fit {
    HP_FIT_UNKNOWN = 0, /* avoidable bias or variance unknown */
    HP_FIT_GOOD,        /* no material term */
    HP_FIT_UNDER,       /* avoidable bias is the largest term */
    HP_FIT_OVER,        /* variance is the largest term */
    HP_FIT_SHIFT,       /* distribution shift is */
    HP_FIT_VAL_OVERFIT, /* validation overfitting is */
} hp_report_fit_t;

typedef struct hp_report {
    hp_report_term_t term[HP_RT_COUNT];
    double threshold; /* what "material" meant for this trial */
    hp_report_fit_t fit;
    /* The material terms among bias, variance, shift, val overfitting, in
     * the seed's priority order; hp_report_advice gives each one's steps. */
    hp_report_term_id_t advice[4];
    size_t n_advice;
} hp_report_t;

/* One of the seed's "Improve" lists, try first to try later. */
typedef struct hp_report_advice {
    const char *key;   /* "under_fitting", "over_fitting", "distribution_shift", "rebalance" */
    const char *title; /* "address under-fitting (reduce avoidable bias)" */
    const char *const *steps;
    size_t n_steps;
} hp_report_advice_t;

/* hp_report_errors_init marks every error not reported and the human
 * error unknown. */
void hp_report_errors_init(hp_report_errors_t *e);

/* hp_report_compute fills *out from *in (see the definitions above). Any
 * thread; no allocation. */
void hp_report_compute(const hp_report_errors_t *in, hp_report_t *out);

/* hp_report_order_reason says why the guide's order puts a remedy first
 * that is not for the largest term — e.g. under-fitting before over-fitting
 * when variance is the largest material term (the seed's "Prioritizing
 * improvements": each term is measured from the error before it, so the
 * earlier fixes move the later terms). NULL when the order needs no
 * explanation. Static storage. */
const char *hp_report_order_reason(const hp_report_t *r);

/* hp_report_advice returns the steps for a term (NULL for the
 * irreducible error); static storage. */
const hp_report_advice_t *hp_report_advice(hp_report_term_id_t term);

/* Names: the metric an error is read from ("train_error"...), a term's
 * JSON key ("avoidable_bias") and label ("avoidable bias"), a fit's name
 * ("under_fit", "over_fit", "shift", "val_overfit", "good", "unknown"). */
const char *hp_report_error_metric(hp_report_error_t e);
const char *hp_report_term_key(hp_report_term_id_t t);
const char *hp_report_term_label(hp_report_term_id_t t);
const char *hp_report_fit_name(hp_report_fit_t f);

/* "Compare to a known result": the simple models a built-in trial's
 * engine trained on the same splits (worker/train/baseline.c), by their
 * final metrics. Each is a test error (RMSE for regression). */
typedef enum hp_report_baseline {
    HP_RB_MAJORITY = HP_BASELINE_MAJORITY, /* most frequent class / mean target */
    HP_RB_LINEAR = HP_BASELINE_LINEAR,     /* softmax / linear regression */
    HP_RB_COUNT = HP_BASELINE_COUNT
} hp_report_baseline_t;

/* hp_report_vs_baselines compares a trial's test error with the
 * baselines base[HP_RB_COUNT] (NaN: not reported): *against is the
 * strongest (lowest-error) reported baseline and *gap = test − its error,
 * so a negative gap means the trial beats it. Returns 0 if test and at
 * least one baseline are known, else -1 (then *against = -1, *gap NaN). */
int hp_report_vs_baselines(const double *base, double test, int *against, double *gap);

/* Names: a baseline's metric ("baseline_linear_error"), JSON key
 * ("linear_model") and label ("linear model"), from common/baselines.h. */
const char *hp_report_baseline_metric(hp_report_baseline_t b);
const char *hp_report_baseline_key(hp_report_baseline_t b);
const char *hp_report_baseline_label(hp_report_baseline_t b);

#endif
