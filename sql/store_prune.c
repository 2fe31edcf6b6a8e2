/* store_prune.c — what a pruning rule saw, read back in the order it saw it
 * (common/pruner.h): a coordinator that restarts replays these events to
 * rebuild its rungs, so it decides as the one before it would have. Also
 * the per-trial metric values a restarted sampler reads back: pruned
 * trials' last values, completed trials' final ones (constraints). */
#include "store_int.h"

#include "err.h"

#include <math.h>

static int read_event(sqlite3_stmt *s, void *row, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    hp_prune_event_t *e = row;
    e->kind = (hp_prune_ev_kind_t)sqlite3_column_int(s, 0);
    e->number = sqlite3_column_int64(s, 2);
    e->attempt = sqlite3_column_int(s, 3);
    e->step = sqlite3_column_int64(s, 4);
    e->value = sqlite3_column_type(s, 5) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 5);
    return 0;
}

static void fini_event(void *row) { (void)row; }

static const hp_store_rows_t event_rows = {
    .size = sizeof(hp_prune_event_t),
    .min_cap = 64,
    .read = read_event,
    .fini = fini_event,
    .what = "list pruning events",
};

typedef struct each_ctx {
    int (*cb)(void *, const hp_prune_event_t *);
    void *data;
} each_ctx_t;

static int each_event(void *ctx, void *row)
{
    each_ctx_t *c = ctx;
    return c->cb(c->data, row);
}

int hp_store_prune_events(hp_store_t *st, int64_t study_id, const char *metric,
                          int (*cb)(void *data, const hp_prune_event_t *e), void *data,
                          char *err, size_t errlen)
{
    int rc = HP_EDB;
    /* reports: the metric at steps (final metrics are at step -1); then an
     * attempt's end: completed, or one whose values no longer count (the
     * trial runs again, or failed, or was cancelled). Pruned attempts keep
     * theirs. Ties in time are broken within a trial by attempt, then
     * reports before the end, then step. Across trials the order (the
     * wall clock's) decides only how a replay re-judges, never what the
     * rungs hold at its end: each rung is the set of values of the
     * attempts that were not forgotten. */
    sqlite3_stmt *s = hp_store_stmt(
        st, Q_PRUNE_EVENTS,
        "SELECT 0, m.time, t.number, m.attempt, m.step, m.value FROM metrics m "
        "JOIN trials t ON t.id = m.trial_id "
        "WHERE t.study_id = ?1 AND m.name = ?2 AND m.step >= 0 "
        "UNION ALL "
        "SELECT CASE a.outcome WHEN 'completed' THEN 1 ELSE 2 END, a.ended, t.number, "
        "a.attempt, 0, NULL FROM trial_attempts a JOIN trials t ON t.id = a.trial_id "
        "WHERE t.study_id = ?1 AND a.ended IS NOT NULL "
        "AND a.outcome IN ('completed', 'failed', 'lost', 'interrupted', 'cancelled') "
        "ORDER BY 2, 3, 4, 1, 5",
        &rc, err, errlen);
    if (!s)
        return rc;
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_text(s, 2, metric, -1, SQLITE_TRANSIENT);
    each_ctx_t ctx = {cb, data};
    return hp_store_read_rows(st, s, &event_rows, each_event, &ctx, err, errlen);
}

typedef struct last_value {
    int64_t number;
    double value;
} last_value_t;

static int read_last(sqlite3_stmt *s, void *row, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    last_value_t *v = row;
    v->number = sqlite3_column_int64(s, 0);
    v->value = sqlite3_column_type(s, 1) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 1);
    return 0;
}

static const hp_store_rows_t last_rows = {
    .size = sizeof(last_value_t),
    .min_cap = 16,
    .read = read_last,
    .fini = fini_event,
    .what = "list pruned trials' last values",
};

typedef struct last_ctx {
    int (*cb)(void *, int64_t, double);
    void *data;
} last_ctx_t;

static int each_last(void *ctx, void *row)
{
    last_ctx_t *c = ctx;
    const last_value_t *v = row;
    return c->cb(c->data, v->number, v->value);
}

/* runs s (?1 the study, ?2 the metric; rows of number, value) into cb */
static int number_values(hp_store_t *st, sqlite3_stmt *s, int64_t study_id, const char *metric,
                         int (*cb)(void *data, int64_t number, double value), void *data,
                         char *err, size_t errlen)
{
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_text(s, 2, metric, -1, SQLITE_TRANSIENT);
    last_ctx_t ctx = {cb, data};
    return hp_store_read_rows(st, s, &last_rows, each_last, &ctx, err, errlen);
}

int hp_store_pruned_last_values(hp_store_t *st, int64_t study_id, const char *metric,
                                int (*cb)(void *data, int64_t number, double value), void *data,
                                char *err, size_t errlen)
{
    int rc = HP_EDB;
    sqlite3_stmt *s = hp_store_stmt(
        st, Q_PRUNED_LAST_VALUES,
        "SELECT t.number, m.value FROM trials t JOIN metrics m ON m.trial_id = t.id "
        "AND m.attempt = t.attempts AND m.name = ?2 "
        "WHERE t.study_id = ?1 AND t.state = 'pruned' AND m.step = "
        "(SELECT max(step) FROM metrics WHERE trial_id = t.id AND attempt = t.attempts "
        "AND name = ?2 AND step >= 0) ORDER BY t.number",
        &rc, err, errlen);
    return s ? number_values(st, s, study_id, metric, cb, data, err, errlen) : rc;
}

int hp_store_final_values(hp_store_t *st, int64_t study_id, const char *metric,
                          int (*cb)(void *data, int64_t number, double value), void *data,
                          char *err, size_t errlen)
{
    int rc = HP_EDB;
    sqlite3_stmt *s = hp_store_stmt(
        st, Q_FINAL_VALUES,
        "SELECT t.number, m.value FROM trials t JOIN metrics m ON m.trial_id = t.id "
        "AND m.attempt = t.attempts AND m.name = ?2 AND m.step = -1 "
        "WHERE t.study_id = ?1 AND t.state = 'completed' ORDER BY t.number",
        &rc, err, errlen);
    return s ? number_values(st, s, study_id, metric, cb, data, err, errlen) : rc;
}
