/*
 * report_errors.h — a trial's error analysis for `hpsearch report
 * --errors` and `hpsearch examples`: its test confusion matrix and worst
 * examples, read with SQL (query.h) from trial_errors and trial_worst.
 *
 *     hp_report_ea_t ea;
 *     if (hp_report_ea_read(&src, study_id, 7, 1, &ea, err, sizeof err) < 0) ...
 *     if (!ea.found) ... // not a built-in classifier, or older than analysis
 *     hp_report_ea_text(&ea, "my-study", NULL, &buf);
 *     hp_report_ea_fini(&ea);
 */
#ifndef HP_CLI_REPORT_ERRORS_H
#define HP_CLI_REPORT_ERRORS_H

#include "buf.h"
#include "error_analysis.h"
#include "query.h"

#include <stddef.h>
#include <stdint.h>

#define HP_REPORT_EA_PAIRS 10 /* most-confused pairs shown */

typedef struct hp_report_ea {
    int found;             /* the trial has a stored analysis */
    int64_t trial;         /* its number */
    char dataset[1100];    /* the study's trial.dataset name or path ("" = unknown) */
    hp_ea_t ea;            /* confusion (uint64) and worst, pixels when with_pixels */
    uint64_t *confusion;   /* = ea.confusion */
    const char *const *class_names; /* known names (Fashion-MNIST), or NULL */
} hp_report_ea_t;

/* hp_report_ea_read reads trial number `trial` of study (pixels too when
 * with_pixels). 0 with found = 0 when nothing is stored; a negative
 * hp_err when the query fails or the stored rows do not add up. */
int hp_report_ea_read(const hp_query_src_t *src, int64_t study, int64_t trial, int with_pixels,
                      hp_report_ea_t *out, char *err, size_t errlen);
void hp_report_ea_fini(hp_report_ea_t *r);

/* hp_report_ea_class writes class k's display name: "6 (Shirt)" or "6". */
const char *hp_report_ea_class(const hp_report_ea_t *r, int k, char *buf, size_t len);

/* The analysis as text (an "error analysis" section) and as the JSON
 * object of the report's `errors` key ("null" when not found). The text
 * ends with the `hpsearch examples` command that draws the examples, for
 * study `study` (and `--db db` unless db is NULL), ready to copy. */
void hp_report_ea_text(const hp_report_ea_t *r, const char *study, const char *db,
                       hp_buf_t *out);
void hp_report_ea_json(const hp_report_ea_t *r, hp_buf_t *out);

#endif
