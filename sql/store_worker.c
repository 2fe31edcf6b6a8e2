/* store_worker.c — workers (HELLO, heartbeats, liveness) and the event log. */
#include "store_int.h"

#include "err.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const worker_states[HP_WORKER_STATE_COUNT_] = {"alive", "lost", "gone"};

const char *hp_worker_state_name(hp_worker_state_t state)
{
    return (unsigned)state < HP_WORKER_STATE_COUNT_ ? worker_states[state] : "unknown";
}

void hp_worker_fini(hp_worker_t *w)
{
    free(w->id);
    free(w->host);
    free(w->capabilities);
    memset(w, 0, sizeof *w);
}

#define WORKER_SELECT                                                                 \
    "SELECT id, host, cores, slots, capabilities, first_seen, last_seen, state "     \
    "FROM workers "

static int read_worker(sqlite3_stmt *s, hp_worker_t *out, char *err, size_t errlen)
{
    int oom = 0;
    memset(out, 0, sizeof *out);
    out->id = hp_store_col_dup(s, 0, &oom);
    out->host = hp_store_col_dup(s, 1, &oom);
    out->cores = sqlite3_column_int(s, 2);
    out->slots = sqlite3_column_int(s, 3);
    out->capabilities = hp_store_col_dup(s, 4, &oom);
    out->first_seen = hp_store_col_time(s, 5);
    out->last_seen = hp_store_col_time(s, 6);
    const char *state = (const char *)sqlite3_column_text(s, 7);
    out->state = HP_WORKER_LOST;
    for (int i = 0; state && i < HP_WORKER_STATE_COUNT_; i++)
        if (strcmp(state, worker_states[i]) == 0)
            out->state = (hp_worker_state_t)i;
    if (oom) {
        hp_worker_fini(out);
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    }
    return 0;
}

int hp_store_worker_upsert(hp_store_t *st, const hp_worker_def_t *def, char *err,
                           size_t errlen)
{
    if (!def || !def->id || !*def->id || !def->host || def->cores < 0 || def->slots < 0)
        return hp_errf(err, errlen, HP_EINVAL,
                       "worker: an id and a host are required, cores and slots >= 0");
    int rc = hp_store_op_begin(st, "record a worker", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_stmt *s = hp_store_stmt(
        st, Q_WORKER_UPSERT,
        "INSERT INTO workers (id, host, cores, slots, capabilities, first_seen, last_seen, "
        "state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 'alive') "
        "ON CONFLICT (id) DO UPDATE SET host = excluded.host, cores = excluded.cores, "
        "slots = excluded.slots, capabilities = excluded.capabilities, "
        "last_seen = excluded.last_seen, state = 'alive'",
        &rc, err, errlen);
    if (s) {
        sqlite3_bind_text(s, 1, def->id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 2, def->host, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(s, 3, def->cores);
        sqlite3_bind_int(s, 4, def->slots);
        sqlite3_bind_text(s, 5, def->capabilities ? def->capabilities : "{}", -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_double(s, 6, hp_store_clock(st));
        char what[300];
        snprintf(what, sizeof what, "worker '%.200s'", def->id);
        rc = hp_store_step_done(st, s, what, err, errlen);
    }
    return hp_store_op_end(st, rc, err, errlen);
}

/* update_worker runs an UPDATE keyed by worker id; HP_ENOENT if none. */
static int update_worker(hp_store_t *st, sqlite3_stmt *s, const char *id, char *err,
                         size_t errlen)
{
    char what[300];
    snprintf(what, sizeof what, "worker '%.200s'", id);
    int rc = hp_store_step_done(st, s, what, err, errlen);
    if (rc == 0 && sqlite3_changes(st->db) == 0)
        rc = hp_errf(err, errlen, HP_ENOENT, "unknown worker '%s'", id);
    return rc;
}

int hp_store_worker_heartbeat(hp_store_t *st, const char *id, char *err, size_t errlen)
{
    if (!id)
        return hp_errf(err, errlen, HP_EINVAL, "heartbeat without a worker id");
    int rc = hp_store_op_begin(st, "record a heartbeat", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_stmt *s = hp_store_stmt(
        st, Q_WORKER_HEARTBEAT,
        "UPDATE workers SET last_seen = ?2, state = 'alive' WHERE id = ?1", &rc, err, errlen);
    if (s) {
        sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(s, 2, hp_store_clock(st));
        rc = update_worker(st, s, id, err, errlen);
    }
    return hp_store_op_end(st, rc, err, errlen);
}

int hp_store_worker_set_state(hp_store_t *st, const char *id, hp_worker_state_t state,
                              char *err, size_t errlen)
{
    if (!id || (unsigned)state >= HP_WORKER_STATE_COUNT_)
        return hp_errf(err, errlen, HP_EINVAL, "worker state: bad id or state");
    int rc = hp_store_op_begin(st, "change a worker's state", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_stmt *s = hp_store_stmt(st, Q_WORKER_SET_STATE,
                                    "UPDATE workers SET state = ?2 WHERE id = ?1", &rc, err,
                                    errlen);
    if (s) {
        sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 2, worker_states[state], -1, SQLITE_STATIC);
        rc = update_worker(st, s, id, err, errlen);
    }
    return hp_store_op_end(st, rc, err, errlen);
}

int hp_store_worker_get(hp_store_t *st, const char *id, hp_worker_t *out, char *err,
                        size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!id)
        return hp_errf(err, errlen, HP_EINVAL, "no worker id given");
    int rc = HP_EDB;
    sqlite3_stmt *s = hp_store_stmt(st, Q_WORKER_GET, WORKER_SELECT "WHERE id = ?1", &rc,
                                    err, errlen);
    if (!s)
        return rc;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
    int src = sqlite3_step(s);
    if (src == SQLITE_ROW)
        rc = read_worker(s, out, err, errlen);
    else if (src == SQLITE_DONE)
        rc = hp_errf(err, errlen, HP_ENOENT, "unknown worker '%s'", id);
    else
        rc = hp_store_sqlerr(st, src, err, errlen, "worker '%.200s'", id);
    sqlite3_reset(s);
    return rc;
}

/* hp_store_read_rows' view of a worker row */
static int read_row(sqlite3_stmt *s, void *row, char *err, size_t errlen)
{
    return read_worker(s, row, err, errlen);
}

static void fini_row(void *row) { hp_worker_fini(row); }

static const hp_store_rows_t worker_rows = {
    .size = sizeof(hp_worker_t),
    .min_cap = 16,
    .read = read_row,
    .fini = fini_row,
    .what = "list workers",
};

typedef struct list_ctx {
    hp_store_worker_cb cb;
    void *data;
} list_ctx_t;

static int list_each(void *ctx, void *row)
{
    list_ctx_t *c = ctx;
    return c->cb(c->data, row);
}

int hp_store_worker_list(hp_store_t *st, hp_store_worker_cb cb, void *data, char *err,
                         size_t errlen)
{
    int rc = HP_EDB;
    sqlite3_stmt *s = hp_store_stmt(st, Q_WORKER_LIST, WORKER_SELECT "ORDER BY id", &rc,
                                    err, errlen);
    if (!s)
        return rc;
    list_ctx_t ctx = {cb, data};
    return hp_store_read_rows(st, s, &worker_rows, list_each, &ctx, err, errlen);
}

int hp_store_event_append(hp_store_t *st, const char *kind, int64_t study_id,
                          int64_t trial_id, const char *worker_id, const char *message,
                          char *err, size_t errlen)
{
    return hp_store_event_append_detail(st, kind, study_id, trial_id, worker_id, message, NULL,
                                        err, errlen);
}

int hp_store_event_append_detail(hp_store_t *st, const char *kind, int64_t study_id,
                                 int64_t trial_id, const char *worker_id, const char *message,
                                 const char *detail, char *err, size_t errlen)
{
    if (!kind || !*kind)
        return hp_errf(err, errlen, HP_EINVAL, "event without a kind");
    int rc = hp_store_op_begin(st, "log an event", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_stmt *s = hp_store_stmt(st, Q_EVENT_INSERT,
                                    "INSERT INTO events (time, kind, study_id, trial_id, "
                                    "worker_id, message, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                    &rc, err, errlen);
    if (s) {
        sqlite3_bind_double(s, 1, hp_store_clock(st));
        sqlite3_bind_text(s, 2, kind, -1, SQLITE_TRANSIENT);
        if (study_id)
            sqlite3_bind_int64(s, 3, study_id);
        if (trial_id)
            sqlite3_bind_int64(s, 4, trial_id);
        hp_store_bind_text(s, 5, worker_id);
        hp_store_bind_text(s, 6, message);
        hp_store_bind_text(s, 7, detail);
        rc = hp_store_step_done(st, s, "log event", err, errlen);
    }
    return hp_store_op_end(st, rc, err, errlen);
}
