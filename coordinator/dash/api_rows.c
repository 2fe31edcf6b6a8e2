/* What the API's paths share (api_int.h): replies, statements, and rows
 * written as JSON. */
#include "api_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void hp_dash_reply_init(hp_dash_reply_t *rep)
{
    memset(rep, 0, sizeof *rep);
    rep->status = 200;
    rep->type = "application/json";
}

void hp_dash_reply_fini(hp_dash_reply_t *rep)
{
    hp_buf_fini(&rep->body);
}

void hp_dash_reply_error(hp_dash_reply_t *rep, int status, const char *code, const char *param,
                         const char *message)
{
    rep->status = status;
    rep->type = "application/json";
    hp_buf_reset(&rep->body);
    hp_buf_puts(&rep->body, "{\"error\":");
    hp_buf_json_string(&rep->body, code);
    if (param) {
        hp_buf_puts(&rep->body, ",\"param\":");
        hp_buf_json_string(&rep->body, param);
    }
    hp_buf_puts(&rep->body, ",\"message\":");
    hp_buf_json_string(&rep->body, message);
    hp_buf_puts(&rep->body, "}\n");
}

static void db_error(hp_dash_reply_t *rep, sqlite3 *db, const char *what)
{
    char msg[512];
    snprintf(msg, sizeof msg, "database: %s: %s", what, sqlite3_errmsg(db));
    hp_dash_reply_error(rep, 503, "DB", NULL, msg);
}

sqlite3_stmt *dash_prepare(sqlite3 *db, const char *sql, hp_dash_reply_t *rep)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        db_error(rep, db, "prepare");
        sqlite3_finalize(s);
        return NULL;
    }
    return s;
}

int dash_step(sqlite3_stmt *s, hp_dash_reply_t *rep)
{
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        db_error(rep, sqlite3_db_handle(s), "read");
    return rc;
}

/* an integer in decimal, without printf's parsing of a format (a page of
 * 5000 trials writes 40,000 of them) */
static void put_int(hp_buf_t *b, long long v)
{
    char tmp[24], *end = tmp + sizeof tmp, *p = end;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    hp_buf_append(b, p, (size_t)(end - p));
}

/* a time in unix seconds, to the microsecond (the clocks' own resolution),
 * by integer arithmetic: a page of trials holds three per row, and the
 * shortest exact form of such a double costs two printfs and a strtod */
static void put_time(hp_buf_t *b, double v)
{
    if (!(v >= 0 && v < 1e12)) { /* not a time since 1970: as any number */
        hp_buf_json_number(b, v);
        return;
    }
    long long us = llround(v * 1e6);
    put_int(b, us / 1000000);
    int frac = (int)(us % 1000000);
    if (!frac)
        return;
    char d[8] = {'.'};
    int n = 6;
    while (frac % 10 == 0) {
        frac /= 10;
        n--;
    }
    for (int k = n; k >= 1; k--, frac /= 10)
        d[k] = (char)('0' + frac % 10);
    hp_buf_append(b, d, (size_t)n + 1);
}

void dash_json_col(hp_buf_t *b, sqlite3_stmt *s, int i)
{
    const char *name = sqlite3_column_name(s, i);
    switch (sqlite3_column_type(s, i)) {
    case SQLITE_NULL:
        hp_buf_puts(b, "null");
        break;
    case SQLITE_INTEGER:
        put_int(b, sqlite3_column_int64(s, i));
        break;
    case SQLITE_FLOAT:
        if (name && strncmp(name, "t:", 2) == 0)
            put_time(b, sqlite3_column_double(s, i));
        else
            hp_buf_json_number(b, sqlite3_column_double(s, i));
        break;
    default: {
        const char *t = (const char *)sqlite3_column_text(s, i);
        if (name && strncmp(name, "j:", 2) == 0)
            hp_buf_puts(b, t && *t ? t : "null");
        else
            hp_buf_json_string(b, t ? t : "");
    }
    }
}

void dash_json_row(hp_buf_t *b, sqlite3_stmt *s)
{
    hp_buf_putc(b, '{');
    for (int i = 0; i < sqlite3_column_count(s); i++) {
        const char *name = sqlite3_column_name(s, i);
        if (strncmp(name, "j:", 2) == 0 || strncmp(name, "t:", 2) == 0)
            name += 2;
        /* column names are our own identifiers: no escaping needed */
        hp_buf_puts(b, i ? ",\"" : "\"");
        hp_buf_puts(b, name);
        hp_buf_puts(b, "\":");
        dash_json_col(b, s, i);
    }
    hp_buf_putc(b, '}');
}

