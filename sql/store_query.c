/*
 * store_query.c — read-only queries for people (hpsearch sql, the
 * daemon's query requests): the sandbox around the user's SQL. The authorizer
 * refuses statements that would change the connection, a statement that
 * writes is refused before it runs, and a progress handler interrupts a
 * query that runs past the limit.
 */
#include "store_int.h"

#include "clock.h"
#include "err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define NUM_TEXT 32 /* a number as text: %lld, or %.17g */

/* authorize keeps user queries from changing the connection: no
 * transaction control (it would tangle with write groups), no ATTACH, and
 * pragmas only as questions. Writes are refused by sqlite3_stmt_readonly. */
static int authorize(void *data, int action, const char *a1, const char *a2,
                     const char *db, const char *trigger)
{
    hp_store_t *st = data;
    switch (action) {
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
        st->denied = "transaction statements are not allowed in a query";
        return SQLITE_DENY;
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
        st->denied = "ATTACH and DETACH are not allowed in a query";
        return SQLITE_DENY;
    case SQLITE_PRAGMA: {
        static const char *const lookups[] = {"table_info",   "table_xinfo",
                                              "index_list",   "index_info",
                                              "index_xinfo",  "foreign_key_list",
                                              "integrity_check", "quick_check"};
        if (!a2)
            return SQLITE_OK;
        for (size_t i = 0; i < HP_ARRAY_LEN(lookups); i++)
            if (strcasecmp(a1, lookups[i]) == 0)
                return SQLITE_OK;
        st->denied = "setting a PRAGMA is not allowed in a query";
        return SQLITE_DENY;
    }
    default:
        return SQLITE_OK;
    }
}

/* real_text prints v with the fewest digits that read back as v. */
static void real_text(double v, char *out, size_t n)
{
    if (isinf(v)) { /* spelled as SQLite prints it */
        snprintf(out, n, "%s", v > 0 ? "Inf" : "-Inf");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

/* user_err reports a failing user query: SQLite's generic errors there are
 * the query's fault (HP_EINVAL), not the database's. */
static int user_err(hp_store_t *st, int rc, char *err, size_t errlen)
{
    int code = hp_store_sqlerr(st, rc, err, errlen, "query");
    return code == HP_EDB ? HP_EINVAL : code;
}

/* column_value turns column i of the current row into what the row
 * callback gets: its type, and its value as text (NULL for SQL NULL). A
 * number is printed into num; a blob becomes an x'..' literal in *blob,
 * which the caller frees (the previous row's is freed here). Returns 0 or
 * HP_ENOMEM. */
static int column_value(sqlite3_stmt *s, int i, int *type, const char **value,
                        char num[NUM_TEXT], char **blob)
{
    free(*blob);
    *blob = NULL;
    switch (sqlite3_column_type(s, i)) {
    case SQLITE_NULL:
        *type = HP_STORE_NULL;
        *value = NULL;
        break;
    case SQLITE_INTEGER:
        *type = HP_STORE_INTEGER;
        snprintf(num, NUM_TEXT, "%lld", sqlite3_column_int64(s, i));
        *value = num;
        break;
    case SQLITE_FLOAT:
        *type = HP_STORE_FLOAT;
        real_text(sqlite3_column_double(s, i), num, NUM_TEXT);
        *value = num;
        break;
    case SQLITE_BLOB: {
        *type = HP_STORE_BLOB;
        const unsigned char *b = sqlite3_column_blob(s, i);
        size_t n = (size_t)sqlite3_column_bytes(s, i);
        *blob = malloc(2 * n + 4);
        if (!*blob)
            return HP_ENOMEM;
        char *p = *blob;
        *p++ = 'x';
        *p++ = '\'';
        for (size_t k = 0; k < n; k++, p += 2)
            snprintf(p, 3, "%02x", b[k]);
        *p++ = '\'';
        *p = 0;
        *value = *blob;
        break;
    }
    default:
        *type = HP_STORE_TEXT;
        *value = (const char *)sqlite3_column_text(s, i);
        if (!*value)
            *value = "";
        break;
    }
    return 0;
}

static int run_query(hp_store_t *st, sqlite3_stmt *s, hp_store_row_cb cb, void *data,
                     char *err, size_t errlen)
{
    int ncol = sqlite3_column_count(s);
    if (ncol == 0) {
        int rc;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW)
            ;
        return rc == SQLITE_DONE ? 0 : user_err(st, rc, err, errlen);
    }
    const char **names = calloc((size_t)ncol, sizeof *names);
    const char **values = calloc((size_t)ncol, sizeof *values);
    int *types = calloc((size_t)ncol, sizeof *types);
    char (*num)[NUM_TEXT] = calloc((size_t)ncol, sizeof *num);
    char **blobs = calloc((size_t)ncol, sizeof *blobs);
    int code = 0;
    if (!names || !values || !types || !num || !blobs) {
        code = hp_errf(err, errlen, HP_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < ncol; i++) {
        names[i] = sqlite3_column_name(s, i);
        if (!names[i])
            names[i] = "?";
    }
    code = cb(data, ncol, names, NULL, NULL);
    for (;;) {
        if (code)
            goto out;
        int rc = sqlite3_step(s);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            code = user_err(st, rc, err, errlen);
            goto out;
        }
        for (int i = 0; i < ncol; i++)
            if (column_value(s, i, &types[i], &values[i], num[i], &blobs[i]) < 0) {
                code = hp_errf(err, errlen, HP_ENOMEM, "out of memory");
                goto out;
            }
        code = cb(data, ncol, names, values, types);
    }
out:
    if (blobs)
        for (int i = 0; i < ncol; i++)
            free(blobs[i]);
    free(blobs);
    free(num);
    free(types);
    free(values);
    free(names);
    return code;
}

/* SQLite calls this every few thousand VM steps; non-zero interrupts. */
static int query_progress(void *arg)
{
    hp_store_t *st = arg;
    if (hp_clock_now() > st->query_deadline) {
        st->query_interrupted = 1;
        return 1;
    }
    return 0;
}

void hp_store_set_query_limit(hp_store_t *st, double seconds)
{
    st->query_limit_s = seconds > 0 ? seconds : 0;
}

int hp_store_exec_query(hp_store_t *st, const char *sql, hp_store_row_cb cb, void *data,
                        char *err, size_t errlen)
{
    if (!sql)
        return hp_errf(err, errlen, HP_EINVAL, "no query given");
    int code = 0;
    const char *tail = sql;
    sqlite3_set_authorizer(st->db, authorize, st);
    st->query_interrupted = 0;
    if (st->query_limit_s > 0) {
        st->query_deadline = hp_clock_now() + st->query_limit_s;
        sqlite3_progress_handler(st->db, 10000, query_progress, st);
    }
    while (code == 0 && tail && *tail) {
        sqlite3_stmt *s = NULL;
        const char *next = NULL;
        st->denied = NULL;
        int rc = sqlite3_prepare_v2(st->db, tail, -1, &s, &next);
        if (rc != SQLITE_OK) {
            if (st->denied)
                code = hp_errf(err, errlen, HP_EINVAL, "%s", st->denied);
            else
                code = hp_errf(err, errlen, HP_EINVAL, "%s",
                               sqlite3_errmsg(st->db));
            break;
        }
        tail = next;
        if (!s)
            continue; /* only whitespace or comments were left */
        if (!sqlite3_stmt_readonly(s)) {
            const char *text = sqlite3_sql(s);
            code = hp_errf(err, errlen, HP_EREADONLY,
                           "only read-only statements are allowed here; refused: %.80s",
                           text ? text : "");
        } else {
            code = run_query(st, s, cb, data, err, errlen);
        }
        sqlite3_finalize(s);
    }
    sqlite3_set_authorizer(st->db, NULL, NULL);
    if (st->query_limit_s > 0)
        sqlite3_progress_handler(st->db, 0, NULL, NULL);
    if (st->query_interrupted)
        code = hp_errf(err, errlen, HP_ETIMEDOUT,
                       "query stopped after %g s (the limit for one query); narrow it, or use "
                       "hpsearch sql --db on a copy of the database",
                       st->query_limit_s);
    return code;
}
