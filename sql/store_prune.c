/* store_prune.c — what a pruning rule saw, read back in the order it saw it
 * (common/pruner.h): a coordinator that restarts replays these events to
 * rebuild its rungs, so it decides as the one before it would have. */
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
     * theirs. Ties in time: reports first, as they came before the end. */
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
        "ORDER BY 2, 1, 3, 5",
        &rc, err, errlen);
    if (!s)
        return rc;
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_text(s, 2, metric, -1, SQLITE_TRANSIENT);
    each_ctx_t ctx = {cb, data};
    return hp_store_read_rows(st, s, &event_rows, each_event, &ctx, err, errlen);
}
