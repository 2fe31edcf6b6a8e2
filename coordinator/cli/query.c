/* Read-only SQL through the coordinator or straight from the database. */
#include "query.h"

#include "client.h"
#include "err.h"
#include "store.h"
#include "suggest.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    hp_table_t *t;
    int header_seen;
    uint32_t max_rows;
    size_t rows;
    int truncated;
} local_acc_t;

/* the same cell encoding as the daemon's QUERY_REPLY, so --db and the
 * coordinator print identically */
static int local_row(void *data, int ncol, const char *const *names, const char *const *values,
                     const int *types)
{
    local_acc_t *a = data;
    if (!values) {
        if (!a->header_seen) {
            a->header_seen = 1;
            hp_table_init(a->t, (size_t)ncol, names);
        }
        return 0;
    }
    if ((size_t)ncol != a->t->ncol)
        return 0; /* a later statement's rows: only the first statement's shape */
    if (a->max_rows && a->rows >= a->max_rows) {
        a->truncated = 1;
        return 1;
    }
    a->rows++;
    hp_buf_t b = {0};
    for (int i = 0; i < ncol; i++) {
        hp_buf_reset(&b);
        if (!values[i])
            hp_buf_puts(&b, "null");
        else if (types[i] == HP_STORE_INTEGER)
            hp_buf_puts(&b, values[i]);
        else if (types[i] == HP_STORE_FLOAT && isfinite(strtod(values[i], NULL)))
            hp_buf_puts(&b, values[i]);
        else
            hp_buf_json_string(&b, values[i]);
        hp_table_add_json(a->t, b.data);
    }
    hp_buf_fini(&b);
    return 0;
}

static int run_local(const char *db, const char *sql, uint32_t max_rows, hp_table_t *t,
                     int *truncated, char *err, size_t errlen)
{
    hp_store_t *st;
    char e[512];
    int rc = hp_store_open(&st, db, HP_STORE_READONLY, e, sizeof e);
    if (rc < 0)
        return hp_errf(err, errlen, rc, "%s", e);
    local_acc_t a = {.t = t, .max_rows = max_rows};
    rc = hp_store_exec_query(st, sql, local_row, &a, e, sizeof e);
    hp_store_close(st);
    if (rc < 0)
        return hp_errf(err, errlen, rc, "%s", e);
    if (!a.header_seen)
        hp_table_init(t, 0, NULL); /* only comments, or no statement */
    if (truncated)
        *truncated = a.truncated;
    return 0;
}

static int run_remote(const hp_cli_t *cli, const char *sql, uint32_t max_rows, hp_table_t *t,
                      int *truncated, char *err, size_t errlen)
{
    hp_client_t *cl;
    int rc = hp_client_open(&cl, cli, err, errlen);
    if (rc < 0)
        return rc;
    Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT, *rep;
    Hpsearch__Query q = HPSEARCH__QUERY__INIT;
    q.sql = (char *)sql;
    q.max_rows = max_rows;
    hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__QUERY, &q);
    rc = hp_client_call(cl, &req, HPSEARCH__MSG_TYPE__QUERY_REPLY, &rep, err, errlen);
    hp_client_close(cl);
    if (rc < 0)
        return rc;
    const Hpsearch__QueryReply *r = rep->query_reply;
    hp_table_init(t, r->n_columns, (const char *const *)r->columns);
    if (r->n_columns && r->n_cells % r->n_columns) {
        hp_proto_free(rep);
        return hp_errf(err, errlen, HP_EPROTO,
                       "bad reply from the coordinator: %zu cells for %zu columns", r->n_cells,
                       r->n_columns);
    }
    for (size_t i = 0; i < r->n_cells && r->n_columns; i++)
        hp_table_add_json(t, r->cells[i]);
    if (truncated)
        *truncated = r->truncated;
    hp_proto_free(rep);
    return 0;
}

int hp_query_run(const hp_query_src_t *src, const char *sql, uint32_t max_rows, hp_table_t *t,
                 int *truncated, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (truncated)
        *truncated = 0;
    if (src->db)
        return run_local(src->db, sql, max_rows, t, truncated, err, errlen);
    return run_remote(src->cli, sql, max_rows, t, truncated, err, errlen);
}

void hp_sql_quote(hp_buf_t *b, const char *s)
{
    hp_buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            hp_buf_putc(b, '\'');
        hp_buf_putc(b, *s);
    }
    hp_buf_putc(b, '\'');
}

static void copy_text(char *dst, size_t n, const char *json)
{
    hp_buf_t b = {0};
    snprintf(dst, n, "%s", hp_json_text(json, &b));
    hp_buf_fini(&b);
}

int hp_query_no_study(const hp_query_src_t *src, const char *name, char *err, size_t errlen)
{
    hp_table_t t;
    char e[256], hint[HP_SUGGEST_MAX_WORD + 32] = "";
    if (hp_query_run(src, "SELECT name FROM studies ORDER BY id", 0, &t, NULL, e, sizeof e) ==
        0) {
        size_t n = hp_table_rows(&t);
        hp_buf_t *texts = calloc(n + 1, sizeof *texts);
        const char **names = calloc(n + 1, sizeof *names);
        HP_ASSERT(texts && names);
        for (size_t i = 0; i < n; i++)
            names[i] = hp_json_text(hp_table_cell(&t, i, 0), &texts[i]);
        hp_suggest_hint(hint, sizeof hint, name, strlen(name), names, n);
        for (size_t i = 0; i < n; i++)
            hp_buf_fini(&texts[i]);
        free(texts);
        free(names);
    }
    hp_table_fini(&t);
    return hp_errf(err, errlen, HP_ENOENT, "no study named '%s'%s", name, hint);
}

int hp_query_study(const hp_query_src_t *src, const char *name_or_id, hp_query_study_t *out,
                   char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!*name_or_id)
        return hp_errf(err, errlen, HP_EINVAL, "empty study name");
    int digits = 1;
    for (const char *p = name_or_id; *p; p++)
        digits &= isdigit((unsigned char)*p) != 0;
    hp_buf_t sql = {0};
    hp_buf_puts(&sql, "SELECT id, name, state, goal, metric, max_trials FROM studies WHERE ");
    if (digits && strlen(name_or_id) < 19)
        hp_buf_printf(&sql, "id = %s OR ", name_or_id);
    hp_buf_puts(&sql, "name = ");
    hp_sql_quote(&sql, name_or_id);
    hp_buf_puts(&sql, " ORDER BY name = ");
    hp_sql_quote(&sql, name_or_id);
    hp_buf_puts(&sql, " LIMIT 1");
    hp_table_t t;
    int rc = hp_query_run(src, sql.data, 0, &t, NULL, err, errlen);
    hp_buf_fini(&sql);
    if (rc == 0 && hp_table_rows(&t) == 0)
        rc = hp_query_no_study(src, name_or_id, err, errlen);
    if (rc == 0) {
        out->id = strtoll(hp_table_cell(&t, 0, 0), NULL, 10);
        copy_text(out->name, sizeof out->name, hp_table_cell(&t, 0, 1));
        copy_text(out->state, sizeof out->state, hp_table_cell(&t, 0, 2));
        copy_text(out->goal, sizeof out->goal, hp_table_cell(&t, 0, 3));
        copy_text(out->metric, sizeof out->metric, hp_table_cell(&t, 0, 4));
        out->max_trials = strtoll(hp_table_cell(&t, 0, 5), NULL, 10);
    }
    hp_table_fini(&t);
    return rc;
}

int hp_query_sanity_verdict(const hp_query_src_t *src, long long study, hp_buf_t *out)
{
    char sql[200], err[256];
    snprintf(sql, sizeof sql,
             "SELECT message FROM events WHERE study_id = %lld AND kind = 'sanity_check' "
             "ORDER BY id DESC LIMIT 1",
             study);
    hp_table_t t;
    int found = hp_query_run(src, sql, 1, &t, NULL, err, sizeof err) == 0 &&
                hp_table_rows(&t) == 1 && !hp_json_is_null(hp_table_cell(&t, 0, 0));
    if (found)
        hp_json_text(hp_table_cell(&t, 0, 0), out);
    hp_table_fini(&t);
    return found;
}
