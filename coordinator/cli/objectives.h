/*
 * objectives.h — a study's objectives as the read verbs (trials, best,
 * report) see them: one, or several from the stored spec's `objective`
 * list, and the SQL that reads each one's value from trials.objectives.
 *
 *     hp_cli_objectives_t o;
 *     if (hp_cli_objectives(&src, &st, &o, err, sizeof err) < 0) ...
 *     if (o.n > 1)
 *         hp_cli_objective_columns(&o, "t", &sql); // , (...) AS "val_error", ...
 */
#ifndef HP_CLI_OBJECTIVES_H
#define HP_CLI_OBJECTIVES_H

#include "buf.h"
#include "query.h"
#include "spec.h"

#include <stddef.h>

typedef struct hp_cli_objectives {
    size_t n; /* 1: a single objective (trials.value) */
    char metric[HP_SPEC_MAX_OBJECTIVES][256];
    int maximize[HP_SPEC_MAX_OBJECTIVES];
} hp_cli_objectives_t;

/* hp_cli_objectives reads study st's objectives from its stored spec.
 * Returns 0 or a negative hp_err with err set. */
int hp_cli_objectives(const hp_query_src_t *src, const hp_query_study_t *st,
                      hp_cli_objectives_t *out, char *err, size_t errlen);

/* hp_cli_objective_columns appends one select column per objective, each
 * `, (value of the metric in ALIAS.objectives) AS "metric"`. */
void hp_cli_objective_columns(const hp_cli_objectives_t *o, const char *alias, hp_buf_t *sql);

/* hp_cli_pareto_rows marks in on[r] whether row r of t (its objective
 * values in columns first .. first + o->n - 1) is on the Pareto front,
 * every objective oriented by its goal; rows with a missing value are
 * not. Returns how many are, or HP_ENOMEM. */
long hp_cli_pareto_rows(const hp_cli_objectives_t *o, const hp_table_t *t, size_t first,
                        unsigned char *on);

#endif
