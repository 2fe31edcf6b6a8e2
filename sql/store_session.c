/* store_session.c — worker sessions kept across coordinator restarts: the
 * SHA-256 of each worker's session secret and HELLO nonce (never the
 * secrets), written with the HELLO that began the session, read back at
 * start-up (docs/security.md). */
#include "store_int.h"

#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hp_store_session_put(hp_store_t *st, const hp_worker_session_t *ws, char *err,
                         size_t errlen)
{
    if (!ws || !ws->worker_id || !*ws->worker_id)
        return hp_errf(err, errlen, HP_EINVAL, "worker session: no worker id");
    int rc = hp_store_op_begin(st, "record a worker session", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_stmt *s = hp_store_stmt(
        st, Q_SESSION_PUT,
        "INSERT INTO worker_sessions (worker_id, secret_sha256, nonce_sha256, hello_seq, "
        "updated) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (worker_id) DO UPDATE SET "
        "secret_sha256 = excluded.secret_sha256, nonce_sha256 = excluded.nonce_sha256, "
        "hello_seq = excluded.hello_seq, updated = excluded.updated",
        &rc, err, errlen);
    if (s) {
        sqlite3_bind_text(s, 1, ws->worker_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(s, 2, ws->secret_sha256, HP_SESSION_HASH_BYTES, SQLITE_TRANSIENT);
        if (ws->has_nonce)
            sqlite3_bind_blob(s, 3, ws->nonce_sha256, HP_SESSION_HASH_BYTES, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 4, (sqlite3_int64)ws->hello_seq);
        sqlite3_bind_double(s, 5, hp_store_clock(st));
        char what[300];
        snprintf(what, sizeof what, "session of worker '%.200s'", ws->worker_id);
        rc = hp_store_step_done(st, s, what, err, errlen);
    }
    return hp_store_op_end(st, rc, err, errlen);
}

/* one listed session with its worker's row */
typedef struct session_row {
    hp_worker_session_t s;
    char *id;
    char *host;
    int slots, cores;
} session_row_t;

static void fini_row(void *row)
{
    session_row_t *r = row;
    free(r->id);
    free(r->host);
    memset(r, 0, sizeof *r);
}

static int copy_hash(sqlite3_stmt *s, int i, unsigned char *out)
{
    const void *b = sqlite3_column_blob(s, i);
    if (!b || sqlite3_column_bytes(s, i) != HP_SESSION_HASH_BYTES)
        return 0;
    memcpy(out, b, HP_SESSION_HASH_BYTES);
    return 1;
}

static int read_row(sqlite3_stmt *s, void *row, char *err, size_t errlen)
{
    session_row_t *r = row;
    int oom = 0;
    memset(r, 0, sizeof *r);
    r->id = hp_store_col_dup(s, 0, &oom);
    r->host = hp_store_col_dup(s, 4, &oom);
    if (oom || !r->id || !r->host) {
        fini_row(r);
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    }
    r->s.worker_id = r->id;
    /* the CHECK constraints make these 32 bytes; a row that is not is skipped
     * by the caller (has_secret 0) rather than trusted */
    r->s.has_secret = copy_hash(s, 1, r->s.secret_sha256);
    r->s.has_nonce = copy_hash(s, 2, r->s.nonce_sha256);
    r->s.hello_seq = (uint64_t)sqlite3_column_int64(s, 3);
    r->slots = sqlite3_column_int(s, 5);
    r->cores = sqlite3_column_int(s, 6);
    return 0;
}

static const hp_store_rows_t session_rows = {
    .size = sizeof(session_row_t),
    .min_cap = 16,
    .read = read_row,
    .fini = fini_row,
    .what = "list worker sessions",
};

typedef struct list_ctx {
    hp_store_session_cb cb;
    void *data;
} list_ctx_t;

static int list_each(void *ctx, void *row)
{
    list_ctx_t *c = ctx;
    session_row_t *r = row;
    if (!r->s.has_secret)
        return 0;
    return c->cb(c->data, &r->s, r->host, r->slots, r->cores);
}

int hp_store_session_list_live(hp_store_t *st, hp_store_session_cb cb, void *data, char *err,
                               size_t errlen)
{
    int rc = HP_EDB;
    sqlite3_stmt *s = hp_store_stmt(
        st, Q_SESSION_LIST,
        "SELECT s.worker_id, s.secret_sha256, s.nonce_sha256, s.hello_seq, w.host, w.slots, "
        "w.cores FROM worker_sessions s JOIN workers w ON w.id = s.worker_id "
        "WHERE w.state = 'alive' OR EXISTS (SELECT 1 FROM trial_attempts a WHERE "
        "a.worker_id = s.worker_id AND a.outcome = 'running') "
        "ORDER BY CAST(s.worker_id AS INTEGER)",
        &rc, err, errlen);
    if (!s)
        return rc;
    list_ctx_t ctx = {cb, data};
    return hp_store_read_rows(st, s, &session_rows, list_each, &ctx, err, errlen);
}
