/*
 * report_front.h — several objectives in `hpsearch report`: the reported
 * trial's value of every objective and the study's Pareto front (the
 * completed feasible trials no other beats on every objective), read with
 * SQL from trials.objectives.
 *
 *     hp_report_front_t f;
 *     hp_report_front_read(&src, &st, &f, err, sizeof err);
 *     if (f.on) hp_report_front_text(&f, "7", &buf);   // trial 7's values
 *     hp_report_front_fini(&f);
 */
#ifndef HP_CLI_REPORT_FRONT_H
#define HP_CLI_REPORT_FRONT_H

#include "buf.h"
#include "objectives.h"
#include "output.h"
#include "query.h"

typedef struct hp_report_front {
    int on;                  /* the study has several objectives */
    hp_cli_objectives_t o;
    hp_table_t t;            /* number, then each objective: every trial */
    unsigned char *on_front; /* per row of t */
    size_t n_front;
} hp_report_front_t;

/* hp_report_front_read fills *out for study st (out->on 0 with one
 * objective). 0, or the query's error. */
int hp_report_front_read(const hp_query_src_t *src, const hp_query_study_t *st,
                         hp_report_front_t *out, char *err, size_t errlen);
void hp_report_front_fini(hp_report_front_t *f); /* safe on zeroed memory */

/* hp_report_front_first: the number (as text) of the trial on the front
 * best by the first objective, ties to the lower number; NULL if none. */
const char *hp_report_front_first(const hp_report_front_t *f);

/* The section as text lines ("objectives" header, trial `number`'s
 * values, then the front) and as JSON members appended to an object in
 * the making: ,"objectives":[{"metric","goal","value"}],"pareto_front":[...] */
void hp_report_front_text(const hp_report_front_t *f, const char *number, hp_buf_t *out);
void hp_report_front_json(const hp_report_front_t *f, const char *number, hp_buf_t *out);

#endif
