/* A study's objectives for the read verbs (objectives.h). */
#include "objectives.h"

#include "err.h"
#include "output.h"
#include "pareto.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hp_cli_objectives(const hp_query_src_t *src, const hp_query_study_t *st,
                      hp_cli_objectives_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->n = 1;
    snprintf(out->metric[0], sizeof out->metric[0], "%s", st->metric);
    out->maximize[0] = strcmp(st->goal, "maximize") == 0;
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT json_extract(j.value, '$.metric'), json_extract(j.value, '$.goal') "
             "FROM studies s, json_each(s.spec_json, '$.objective') j WHERE s.id = %lld AND "
             "json_type(s.spec_json, '$.objective') = 'array' ORDER BY j.key",
             (long long)st->id);
    hp_table_t t;
    int rc = hp_query_run(src, sql, 0, &t, NULL, err, errlen);
    if (rc == 0 && hp_table_rows(&t) > 1) {
        size_t n = hp_table_rows(&t);
        out->n = n < HP_SPEC_MAX_OBJECTIVES ? n : HP_SPEC_MAX_OBJECTIVES;
        hp_buf_t b = {0};
        for (size_t i = 0; i < out->n; i++) {
            hp_buf_reset(&b);
            snprintf(out->metric[i], sizeof out->metric[i], "%s",
                     hp_json_text(hp_table_cell(&t, i, 0), &b));
            hp_buf_reset(&b);
            out->maximize[i] = strcmp(hp_json_text(hp_table_cell(&t, i, 1), &b), "maximize") == 0;
        }
        hp_buf_fini(&b);
    }
    hp_table_fini(&t);
    return rc;
}

void hp_cli_objective_columns(const hp_cli_objectives_t *o, const char *alias, hp_buf_t *sql)
{
    for (size_t i = 0; i < o->n; i++) {
        hp_buf_printf(sql, ", (SELECT o.value FROM json_each(%s.objectives) o WHERE o.key = ",
                      alias);
        hp_sql_quote(sql, o->metric[i]);
        hp_buf_puts(sql, ") AS \"");
        for (const char *p = o->metric[i]; *p; p++) {
            if (*p == '"')
                hp_buf_putc(sql, '"');
            hp_buf_putc(sql, *p);
        }
        hp_buf_putc(sql, '"');
    }
}

long hp_cli_pareto_rows(const hp_cli_objectives_t *o, const hp_table_t *t, size_t first,
                        unsigned char *on)
{
    size_t n = hp_table_rows(t), m = o->n;
    double *y = malloc((n ? n : 1) * m * sizeof *y);
    if (!y)
        return HP_ENOMEM;
    for (size_t r = 0; r < n; r++)
        for (size_t k = 0; k < m; k++) {
            const char *cell = hp_table_cell(t, r, first + k);
            char *end = NULL;
            double v = cell && !hp_json_is_null(cell) ? strtod(cell, &end) : NAN;
            if (!end || end == cell || !isfinite(v))
                v = NAN;
            y[r * m + k] = o->maximize[k] ? -v : v;
        }
    long k = (long)hp_pareto_front(y, n, m, on);
    free(y);
    return k;
}
