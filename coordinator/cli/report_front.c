/* Several objectives in `hpsearch report` (report_front.h). */
#include "report_front.h"

#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hp_report_front_read(const hp_query_src_t *src, const hp_query_study_t *st,
                         hp_report_front_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc = hp_cli_objectives(src, st, &out->o, err, errlen);
    if (rc < 0 || out->o.n < 2)
        return rc;
    hp_buf_t sql = {0};
    hp_buf_puts(&sql, "SELECT t.number");
    hp_cli_objective_columns(&out->o, "t", &sql);
    hp_buf_printf(&sql,
                  ", t.state = 'completed' AND t.infeasible IS NULL FROM trials t WHERE "
                  "t.study_id = %lld ORDER BY t.number",
                  (long long)st->id);
    rc = hp_query_run(src, sql.data, 0, &out->t, NULL, err, errlen);
    hp_buf_fini(&sql);
    if (rc < 0)
        return rc;
    size_t n = hp_table_rows(&out->t);
    out->on_front = calloc(n ? n : 1, 1);
    if (!out->on_front)
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    /* the front of the candidates (completed, feasible) among themselves */
    size_t cand = out->o.n + 1;
    hp_table_t c;
    const char *names[1 + HP_SPEC_MAX_OBJECTIVES + 1] = {"number"};
    for (size_t j = 0; j < out->o.n; j++)
        names[1 + j] = out->o.metric[j];
    hp_table_init(&c, out->o.n + 1, names);
    size_t *rows = malloc((n ? n : 1) * sizeof *rows), nc = 0;
    unsigned char *on = malloc(n ? n : 1);
    if (!rows || !on) {
        free(rows);
        free(on);
        hp_table_fini(&c);
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    }
    for (size_t r = 0; r < n; r++)
        if (strcmp(hp_table_cell(&out->t, r, cand), "1") == 0) {
            for (size_t j = 0; j <= out->o.n; j++)
                hp_table_add_json(&c, hp_table_cell(&out->t, r, j));
            rows[nc++] = r;
        }
    long k = hp_cli_pareto_rows(&out->o, &c, 1, on);
    for (size_t i = 0; i < nc && k >= 0; i++)
        out->on_front[rows[i]] = on[i];
    out->n_front = k > 0 ? (size_t)k : 0;
    free(rows);
    free(on);
    hp_table_fini(&c);
    out->on = 1;
    return k < 0 ? hp_errf(err, errlen, HP_ENOMEM, "out of memory") : 0;
}

void hp_report_front_fini(hp_report_front_t *f)
{
    hp_table_fini(&f->t);
    free(f->on_front);
    memset(f, 0, sizeof *f);
}

static long row_of(const hp_report_front_t *f, const char *number)
{
    for (size_t r = 0; number && r < hp_table_rows(&f->t); r++)
        if (strcmp(hp_table_cell(&f->t, r, 0), number) == 0)
            return (long)r;
    return -1;
}

const char *hp_report_front_first(const hp_report_front_t *f)
{
    long best = -1;
    double bv = 0;
    for (size_t r = 0; f->on_front && r < hp_table_rows(&f->t); r++) {
        if (!f->on_front[r])
            continue;
        double v = strtod(hp_table_cell(&f->t, r, 1), NULL);
        if (f->o.maximize[0])
            v = -v;
        if (best < 0 || v < bv) { /* rows are by number: ties stay */
            best = (long)r;
            bv = v;
        }
    }
    return best < 0 ? NULL : hp_table_cell(&f->t, (size_t)best, 0);
}

/* row r's first objective, oriented so that lower is better */
static double first_value(const hp_report_front_t *f, size_t r)
{
    double v = strtod(hp_table_cell(&f->t, r, 1), NULL);
    return f->o.maximize[0] ? -v : v;
}

static const char *goal(const hp_report_front_t *f, size_t j)
{
    return f->o.maximize[j] ? "maximize" : "minimize";
}

void hp_report_front_text(const hp_report_front_t *f, const char *number, hp_buf_t *out)
{
    size_t m = f->o.n;
    long row = row_of(f, number);
    hp_buf_printf(out, "objectives (Pareto front: %zu trials)\n", f->n_front);
    for (size_t j = 0; j < m; j++) {
        const char *v = row >= 0 ? hp_table_cell(&f->t, (size_t)row, 1 + j) : NULL;
        hp_buf_printf(out, "  %-16s %s  (%s)\n", f->o.metric[j],
                      v && !hp_json_is_null(v) ? v : "-", goal(f, j));
    }
    if (row >= 0)
        hp_buf_printf(out, "  trial %s is %son the front\n", number,
                      f->on_front[row] ? "" : "not ");
    /* the front ordered by the first objective (best first, ties by
     * number), as `hpsearch best` lists it; rows of t are by number */
    size_t n = hp_table_rows(&f->t), nf = 0;
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!order) {
        hp_buf_puts(out, "  (the front is not listed: out of memory)\n");
        return;
    }
    for (size_t r = 0; r < n; r++) {
        if (!f->on_front[r])
            continue;
        double v = first_value(f, r);
        size_t i = nf++;
        for (; i > 0 && first_value(f, order[i - 1]) > v; i--)
            order[i] = order[i - 1];
        order[i] = r;
    }
    for (size_t i = 0; i < nf; i++) {
        size_t r = order[i];
        hp_buf_printf(out, "  front trial %s:", hp_table_cell(&f->t, r, 0));
        for (size_t j = 0; j < m; j++)
            hp_buf_printf(out, " %s=%s", f->o.metric[j], hp_table_cell(&f->t, r, 1 + j));
        hp_buf_putc(out, '\n');
    }
    free(order);
}

void hp_report_front_json(const hp_report_front_t *f, const char *number, hp_buf_t *out)
{
    size_t m = f->o.n;
    long row = row_of(f, number);
    hp_buf_puts(out, ",\"objectives\":[");
    for (size_t j = 0; j < m; j++) {
        const char *v = row >= 0 ? hp_table_cell(&f->t, (size_t)row, 1 + j) : "null";
        hp_buf_puts(out, j ? ",{\"metric\":" : "{\"metric\":");
        hp_buf_json_string(out, f->o.metric[j]);
        hp_buf_printf(out, ",\"goal\":\"%s\",\"value\":%s}", goal(f, j), v);
    }
    hp_buf_printf(out, "],\"on_front\":%s,\"pareto_front\":[",
                  row >= 0 && f->on_front[row] ? "true" : "false");
    int first = 1;
    for (size_t r = 0; r < hp_table_rows(&f->t); r++) {
        if (!f->on_front[r])
            continue;
        hp_buf_printf(out, "%s{\"number\":%s,\"values\":{", first ? "" : ",",
                      hp_table_cell(&f->t, r, 0));
        for (size_t j = 0; j < m; j++) {
            if (j)
                hp_buf_putc(out, ',');
            hp_buf_json_string(out, f->o.metric[j]);
            hp_buf_printf(out, ":%s", hp_table_cell(&f->t, r, 1 + j));
        }
        hp_buf_puts(out, "}}");
        first = 0;
    }
    hp_buf_putc(out, ']');
}
