/* The dashboard's JSON API (see api.h): one function per path, every
 * value bound as an SQL parameter, every list bounded. */
#include "api_int.h"

#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void bad_param(hp_dash_reply_t *rep, const char *param, const char *msg)
{
    hp_dash_reply_error(rep, 400, "BAD_PARAM", param, msg);
}

/* the parameter an hp_dash_req_* error names: the text before ':' */
static void bad_param_from(hp_dash_reply_t *rep, const char *err)
{
    char param[64];
    size_t n = strcspn(err, ":");
    snprintf(param, sizeof param, "%.*s", (int)(n < 63 ? n : 63), err);
    bad_param(rep, param, err);
}

static int check_names(const hp_dash_req_t *req, const char *const *allowed,
                       hp_dash_reply_t *rep)
{
    char err[512];
    if (hp_dash_req_check_names(req, allowed, err, sizeof err) < 0) {
        bad_param_from(rep, err);
        return -1;
    }
    return 0;
}

/* ?offset= and ?limit= (max bounded) */
static int page(const hp_dash_req_t *req, long long dflt, long long max, long long *offset,
                long long *limit, hp_dash_reply_t *rep)
{
    char err[512];
    if (hp_dash_req_int(req, "offset", 0, 0, 1000000000LL, offset, err, sizeof err) < 0 ||
        hp_dash_req_int(req, "limit", dflt, 1, max, limit, err, sizeof err) < 0) {
        bad_param_from(rep, err);
        return -1;
    }
    return 0;
}

static void not_found(hp_dash_reply_t *rep, const char *what, const char *name,
                      const char *hint)
{
    char msg[512];
    snprintf(msg, sizeof msg, "no %s '%s'%s", what, name, hint);
    hp_dash_reply_error(rep, 404, "NOT_FOUND", NULL, msg);
}

/* count(*) of a statement binding study id as ?1 and maybe text ?2 */
static int count_rows(sqlite3 *db, const char *sql, int64_t study, const char *text,
                      long long *n, hp_dash_reply_t *rep)
{
    sqlite3_stmt *s = dash_prepare(db, sql, rep);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, study);
    if (text)
        sqlite3_bind_text(s, 2, text, -1, SQLITE_TRANSIENT);
    int rc = dash_step(s, rep);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* Runs s (bound already) and appends its rows as a JSON array; finalizes s. */
static int rows_array(sqlite3_stmt *s, hp_buf_t *b, hp_dash_reply_t *rep)
{
    hp_buf_putc(b, '[');
    int rc, n = 0;
    while ((rc = dash_step(s, rep)) == SQLITE_ROW) {
        if (n++)
            hp_buf_putc(b, ',');
        dash_json_row(b, s);
    }
    hp_buf_putc(b, ']');
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* the best completed trial's column c of study s, by the index on (study_id,
 * state, value); SQLite resolves no outer column in a subquery's ORDER BY,
 * so the goal picks one of two subqueries */
#define BEST_SQL(c)                                                                            \
    "CASE s.goal WHEN 'maximize' THEN"                                                         \
    " (SELECT " c " FROM trials u WHERE u.study_id = s.id AND u.state = 'completed'"          \
    "  ORDER BY u.value DESC, u.number LIMIT 1)"                                               \
    " ELSE (SELECT " c " FROM trials u WHERE u.study_id = s.id AND u.state = 'completed'"     \
    "  ORDER BY u.value, u.number LIMIT 1) END"

/* A study's summary columns; ?1 is bound by the caller's WHERE. */
#define STUDY_COLS                                                                             \
    "SELECT s.id, s.name, s.state, s.metric, s.goal, s.max_trials, s.created, s.ended,"       \
    " s.reason,"                                                                               \
    " (SELECT count(*) FROM trials t WHERE t.study_id = s.id) AS trials,"                      \
    " (SELECT count(*) FROM trials t WHERE t.study_id = s.id AND t.state = 'completed')"       \
    "   AS completed,"                                                                         \
    " (SELECT count(*) FROM trials t WHERE t.study_id = s.id AND t.state = 'running')"         \
    "   AS running,"                                                                           \
    " (SELECT count(*) FROM trials t WHERE t.study_id = s.id AND t.state = 'pending')"         \
    "   AS pending,"                                                                           \
    " (SELECT count(*) FROM trials t WHERE t.study_id = s.id AND t.state = 'pruned')"          \
    "   AS pruned,"                                                                            \
    " (SELECT count(*) FROM trials t WHERE t.study_id = s.id AND t.state = 'failed')"          \
    "   AS failed,"                                                                            \
    " " BEST_SQL("u.value") " AS best, " BEST_SQL("u.number") " AS best_trial"

/* The reply of one page of a list: {"total":N,"offset":O,"limit":L,KEY:[rows
 * of s]}; s has limit and offset bound already and is finalized. */
static void page_reply(sqlite3_stmt *s, const char *key, long long total, long long offset,
                       long long limit, hp_dash_reply_t *rep)
{
    hp_buf_printf(&rep->body, "{\"total\":%lld,\"offset\":%lld,\"limit\":%lld,\"%s\":", total,
                  offset, limit, key);
    if (rows_array(s, &rep->body, rep) == 0)
        hp_buf_puts(&rep->body, "}\n");
}

/* A list of the rows of one owner (a study or a trial): count_sql binds
 * the owner's id as ?1; rows_sql too (a list of everything ignores it),
 * with LIMIT ?2 OFFSET ?3. */
typedef struct list_def {
    const char *key;
    const char *count_sql, *rows_sql;
    long long dflt, max; /* page size: when not given, and at most */
} list_def_t;

static void paged_list(sqlite3 *db, const list_def_t *l, int64_t owner, const hp_dash_req_t *req,
                       hp_dash_reply_t *rep)
{
    static const char *const names[] = {"offset", "limit", NULL};
    long long offset, limit, total;
    if (check_names(req, names, rep) < 0 || page(req, l->dflt, l->max, &offset, &limit, rep) < 0 ||
        count_rows(db, l->count_sql, owner, NULL, &total, rep) < 0)
        return;
    sqlite3_stmt *s = dash_prepare(db, l->rows_sql, rep);
    if (!s)
        return;
    sqlite3_bind_int64(s, 1, owner);
    sqlite3_bind_int64(s, 2, limit);
    sqlite3_bind_int64(s, 3, offset);
    page_reply(s, l->key, total, offset, limit, rep);
}

static void studies(sqlite3 *db, const hp_dash_req_t *req, hp_dash_reply_t *rep)
{
    static const char *const names[] = {NULL};
    if (check_names(req, names, rep) < 0)
        return;
    sqlite3_stmt *s = dash_prepare(db, STUDY_COLS " FROM studies s ORDER BY s.id", rep);
    if (!s)
        return;
    hp_buf_puts(&rep->body, "{\"studies\":");
    if (rows_array(s, &rep->body, rep) == 0)
        hp_buf_puts(&rep->body, "}\n");
}

/* finds the study called name; 0, or -1 with a 404/503 reply */
static int find_study(sqlite3 *db, const char *name, dash_study_t *st, hp_dash_reply_t *rep)
{
    sqlite3_stmt *s = dash_prepare(db, "SELECT id, metric, goal FROM studies WHERE name = ?1", rep);
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    int rc = dash_step(s, rep);
    if (rc == SQLITE_ROW) {
        memset(st, 0, sizeof *st);
        st->id = sqlite3_column_int64(s, 0);
        snprintf(st->name, sizeof st->name, "%s", name);
        snprintf(st->metric, sizeof st->metric, "%s", (const char *)sqlite3_column_text(s, 1));
        st->maximize = strcmp((const char *)sqlite3_column_text(s, 2), "maximize") == 0;
    } else if (rc == SQLITE_DONE) {
        not_found(rep, "study named", name, "");
    }
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 0 : -1;
}

static void study(sqlite3 *db, const dash_study_t *st, const hp_dash_req_t *req,
                  hp_dash_reply_t *rep)
{
    static const char *const names[] = {NULL};
    if (check_names(req, names, rep) < 0)
        return;
    sqlite3_stmt *s = dash_prepare(
        db, STUDY_COLS ", s.spec_json AS \"j:spec\", s.dataset_key FROM studies s WHERE s.id = ?1",
        rep);
    if (!s)
        return;
    sqlite3_bind_int64(s, 1, st->id);
    if (dash_step(s, rep) == SQLITE_ROW) {
        dash_json_row(&rep->body, s);
        hp_buf_putc(&rep->body, '\n');
    }
    sqlite3_finalize(s);
}

/* a trial in a list; one trial's own reply adds diagnosis_detail (a
 * paragraph per trial would double a page of 5000) */
#define TRIAL_COLS                                                                             \
    "t.number, t.state, t.params AS \"j:params\", t.value, t.error, t.created, t.started,"    \
    " t.ended, t.attempts, t.diagnosis, t.origin, t.pruned_step, t.infeasible,"               \
    " t.objectives AS \"j:objectives\""

static const char *const trial_states[] = {"pending", "running", "completed", "failed",
                                           "pruned",  "cancelled", NULL};

static void trials(sqlite3 *db, const dash_study_t *st, const hp_dash_req_t *req,
                   hp_dash_reply_t *rep)
{
    static const char *const names[] = {"offset", "limit", "state", NULL};
    long long offset, limit;
    if (check_names(req, names, rep) < 0 || page(req, 100, HP_DASH_MAX_LIMIT, &offset, &limit, rep) < 0)
        return;
    const char *state = hp_dash_req_param(req, "state");
    if (state) {
        int ok = 0;
        for (const char *const *p = trial_states; *p; p++)
            ok |= strcmp(*p, state) == 0;
        if (!ok) {
            char msg[512];
            snprintf(msg, sizeof msg,
                     "state: must be pending, running, completed, failed, pruned or cancelled "
                     "(got '%s')",
                     state);
            bad_param(rep, "state", msg);
            return;
        }
    }
    long long total;
    if (count_rows(db,
                   state ? "SELECT count(*) FROM trials WHERE study_id = ?1 AND state = ?2"
                         : "SELECT count(*) FROM trials WHERE study_id = ?1",
                   st->id, state, &total, rep) < 0)
        return;
    sqlite3_stmt *s = dash_prepare(
        db,
        "SELECT " TRIAL_COLS " FROM trials t WHERE t.study_id = ?1"
        " AND (?2 IS NULL OR t.state = ?2) ORDER BY t.number LIMIT ?3 OFFSET ?4",
        rep);
    if (!s)
        return;
    sqlite3_bind_int64(s, 1, st->id);
    if (state)
        sqlite3_bind_text(s, 2, state, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, limit);
    sqlite3_bind_int64(s, 4, offset);
    page_reply(s, "trials", total, offset, limit, rep);
}

/* the trial number in a path segment; 0, or -1 with a 404 */
static int trial_number(sqlite3 *db, const dash_study_t *st, const char *seg, int64_t *id,
                        hp_dash_reply_t *rep)
{
    char *end = NULL;
    long long n = strtoll(seg, &end, 10);
    if (!*seg || *end || n < 0 || seg[0] == '+' || seg[0] == '-') {
        char msg[512];
        snprintf(msg, sizeof msg, "no trial '%s' in study '%s' (trials are numbered 0, 1, ...)",
                 seg, st->name);
        hp_dash_reply_error(rep, 404, "NOT_FOUND", NULL, msg);
        return -1;
    }
    sqlite3_stmt *s = dash_prepare(db, "SELECT id FROM trials WHERE study_id = ?1 AND number = ?2",
                                   rep);
    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, st->id);
    sqlite3_bind_int64(s, 2, n);
    int rc = dash_step(s, rep);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(s, 0);
    else if (rc == SQLITE_DONE) {
        char msg[512];
        snprintf(msg, sizeof msg, "no trial %lld in study '%s'", n, st->name);
        hp_dash_reply_error(rep, 404, "NOT_FOUND", NULL, msg);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 0 : -1;
}

static void trial(sqlite3 *db, const dash_study_t *st, int64_t id, const hp_dash_req_t *req,
                  hp_dash_reply_t *rep)
{
    static const char *const names[] = {NULL};
    if (check_names(req, names, rep) < 0)
        return;
    sqlite3_stmt *s = dash_prepare(db, "SELECT " TRIAL_COLS ", t.diagnosis_detail FROM trials t WHERE t.id = ?1", rep);
    if (!s)
        return;
    sqlite3_bind_int64(s, 1, id);
    if (dash_step(s, rep) != SQLITE_ROW) {
        sqlite3_finalize(s);
        return;
    }
    dash_json_row(&rep->body, s);
    sqlite3_finalize(s);
    rep->body.len--; /* reopen the object for its attempts */
    rep->body.data[rep->body.len] = '\0';
    s = dash_prepare(db,
                     "SELECT attempt, worker_id AS worker, started, ended, outcome, error"
                     " FROM trial_attempts WHERE trial_id = ?1 ORDER BY attempt",
                     rep);
    if (!s)
        return;
    sqlite3_bind_int64(s, 1, id);
    hp_buf_puts(&rep->body, ",\"attempt_list\":");
    if (rows_array(s, &rep->body, rep) == 0)
        hp_buf_puts(&rep->body, "}\n");
    (void)st;
}

static void trial_metrics(sqlite3 *db, int64_t id, const hp_dash_req_t *req,
                          hp_dash_reply_t *rep)
{
    static const list_def_t l = {
        "metrics", "SELECT count(*) FROM metrics WHERE trial_id = ?1",
        "SELECT attempt, step, name, value, time FROM metrics"
        " WHERE trial_id = ?1 ORDER BY attempt, name, step LIMIT ?2 OFFSET ?3",
        HP_DASH_MAX_METRICS, HP_DASH_MAX_METRICS};
    paged_list(db, &l, id, req, rep);
}

/* Learning curves: per trial of the page, its latest attempt's values of
 * one metric by step, as two arrays (compact for 10,000 trials). */
static void curves(sqlite3 *db, const dash_study_t *st, const hp_dash_req_t *req,
                   hp_dash_reply_t *rep)
{
    static const char *const names[] = {"offset", "limit", "metric", NULL};
    long long offset, limit, total;
    if (check_names(req, names, rep) < 0 ||
        page(req, HP_DASH_MAX_CURVES, HP_DASH_MAX_CURVES, &offset, &limit, rep) < 0 ||
        count_rows(db, "SELECT count(*) FROM trials WHERE study_id = ?1", st->id, NULL, &total,
                   rep) < 0)
        return;
    const char *metric = hp_dash_req_param(req, "metric");
    if (!metric || !*metric)
        metric = st->metric;
    sqlite3_stmt *s = dash_prepare(
        db,
        "SELECT t.number, t.state, t.pruned_step, t.diagnosis, m.step, m.value"
        " FROM (SELECT id, number, state, pruned_step, diagnosis, attempts FROM trials"
        "       WHERE study_id = ?1 ORDER BY number LIMIT ?3 OFFSET ?4) t"
        " LEFT JOIN metrics m ON m.trial_id = t.id AND m.name = ?2"
        "  AND m.attempt = max(t.attempts, 1) AND m.step >= 0"
        " ORDER BY t.number, m.step",
        rep);
    if (!s)
        return;
    sqlite3_bind_int64(s, 1, st->id);
    sqlite3_bind_text(s, 2, metric, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, limit);
    sqlite3_bind_int64(s, 4, offset);
    hp_buf_t *b = &rep->body, vals = {0};
    hp_buf_puts(b, "{\"metric\":");
    hp_buf_json_string(b, metric);
    hp_buf_printf(b, ",\"total\":%lld,\"offset\":%lld,\"limit\":%lld,\"curves\":[", total, offset,
                  limit);
    long long cur = -1;
    int rc, n = 0, k = 0;
    while ((rc = dash_step(s, rep)) == SQLITE_ROW) {
        long long num = sqlite3_column_int64(s, 0);
        if (num != cur) {
            if (cur >= 0)
                hp_buf_printf(b, "],\"values\":[%s]}", vals.data ? vals.data : "");
            hp_buf_printf(b, "%s{\"number\":%lld,\"state\":", n++ ? "," : "", num);
            dash_json_col(b, s, 1);
            hp_buf_puts(b, ",\"pruned_step\":");
            dash_json_col(b, s, 2);
            hp_buf_puts(b, ",\"diagnosis\":");
            dash_json_col(b, s, 3);
            hp_buf_puts(b, ",\"steps\":[");
            hp_buf_reset(&vals);
            cur = num;
            k = 0;
        }
        if (sqlite3_column_type(s, 4) == SQLITE_NULL)
            continue; /* a trial without this metric: empty arrays */
        hp_buf_printf(b, "%s%lld", k ? "," : "", (long long)sqlite3_column_int64(s, 4));
        if (k)
            hp_buf_putc(&vals, ',');
        dash_json_col(&vals, s, 5);
        k++;
    }
    if (rc == SQLITE_DONE) { /* else the reply is the read's error */
        if (cur >= 0)
            hp_buf_printf(b, "],\"values\":[%s]}", vals.data ? vals.data : "");
        hp_buf_puts(b, "]}\n");
    }
    hp_buf_fini(&vals);
    sqlite3_finalize(s);
}

static void attempts(sqlite3 *db, const dash_study_t *st, const hp_dash_req_t *req,
                     hp_dash_reply_t *rep)
{
    static const list_def_t l = {
        "attempts",
        "SELECT count(*) FROM trial_attempts a JOIN trials t ON t.id = a.trial_id"
        " WHERE t.study_id = ?1",
        "SELECT t.number AS trial, a.attempt, a.worker_id AS worker, a.started, a.ended,"
        " a.outcome, a.error FROM trial_attempts a JOIN trials t ON t.id = a.trial_id"
        " WHERE t.study_id = ?1 ORDER BY a.started, a.id LIMIT ?2 OFFSET ?3",
        HP_DASH_MAX_LIMIT, HP_DASH_MAX_LIMIT};
    paged_list(db, &l, st->id, req, rep);
}

static void events(sqlite3 *db, const dash_study_t *st, const hp_dash_req_t *req,
                   hp_dash_reply_t *rep)
{
    static const list_def_t l = {
        "events", "SELECT count(*) FROM events WHERE study_id = ?1",
        "SELECT e.id, e.time, e.kind, t.number AS trial, e.worker_id AS worker, e.message"
        " FROM events e LEFT JOIN trials t ON t.id = e.trial_id"
        " WHERE e.study_id = ?1 ORDER BY e.id LIMIT ?2 OFFSET ?3",
        100, HP_DASH_MAX_LIMIT};
    paged_list(db, &l, st->id, req, rep);
}

static void workers(sqlite3 *db, const hp_dash_req_t *req, hp_dash_reply_t *rep)
{
    /* every worker: no owner, so ?1 is a constant true test */
    static const list_def_t l = {
        "workers", "SELECT count(*) FROM workers WHERE ?1 = ?1",
        "SELECT id, host, cores, slots, state, first_seen, last_seen,"
        " capabilities AS \"j:capabilities\" FROM workers WHERE ?1 = ?1"
        " ORDER BY first_seen, id LIMIT ?2 OFFSET ?3",
        100, HP_DASH_MAX_LIMIT};
    paged_list(db, &l, 0, req, rep);
}

static void unknown_path(hp_dash_reply_t *rep, const hp_dash_req_t *req)
{
    hp_buf_t p = {0};
    for (int i = 0; i < req->nseg; i++)
        hp_buf_printf(&p, "/%s", req->seg[i]);
    not_found(rep, "API path", p.data ? p.data : "/", " (the paths are in docs/dashboard.md)");
    hp_buf_fini(&p);
}

void hp_dash_api(hp_store_t *store, const hp_dash_req_t *req, hp_dash_reply_t *rep)
{
    sqlite3 *db = hp_store_reader(store);
    HP_ASSERT(db != NULL);
    const char(*g)[HP_DASH_MAX_VALUE + 1] = req->seg;
    int n = req->nseg;
    if (n == 2 && strcmp(g[1], "studies") == 0) {
        studies(db, req, rep);
        return;
    }
    if (n == 2 && strcmp(g[1], "workers") == 0) {
        workers(db, req, rep);
        return;
    }
    if (n < 3 || strcmp(g[1], "studies") != 0) {
        unknown_path(rep, req);
        return;
    }
    /* a read transaction: the counts and the rows of one reply agree
     * while the daemon writes */
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    dash_study_t st;
    int64_t tid;
    if (find_study(db, g[2], &st, rep) < 0) {
        /* the reply is set */
    } else if (n == 3) {
        study(db, &st, req, rep);
    } else if (n == 4 && strcmp(g[3], "trials") == 0) {
        trials(db, &st, req, rep);
    } else if (n == 4 && strcmp(g[3], "curves") == 0) {
        curves(db, &st, req, rep);
    } else if (n == 4 && strcmp(g[3], "attempts") == 0) {
        attempts(db, &st, req, rep);
    } else if (n == 4 && strcmp(g[3], "events") == 0) {
        events(db, &st, req, rep);
    } else if (n == 4 && strcmp(g[3], "report") == 0) {
        dash_report(db, &st, req, rep);
    } else if (n == 4 && strcmp(g[3], "importance") == 0) {
        dash_importance(db, &st, req, rep);
    } else if ((n == 5 || n == 6) && strcmp(g[3], "trials") == 0 &&
               (n == 5 || strcmp(g[5], "metrics") == 0)) {
        if (trial_number(db, &st, g[4], &tid, rep) == 0) {
            if (n == 5)
                trial(db, &st, tid, req, rep);
            else
                trial_metrics(db, tid, req, rep);
        }
    } else {
        unknown_path(rep, req);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
}
