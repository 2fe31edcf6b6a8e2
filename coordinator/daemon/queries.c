/* User SQL (QUERY, `hpsearch sql` without --db) off the loop: each query
 * runs on a libuv work thread, on one of a few read-only connections of
 * its own, within the query time budget; the loop only hands it out and
 * queues the reply the thread encoded. Heartbeats, results and status
 * are served meanwhile. At most query-concurrency queries run at once; one
 * more is answered EBUSY at once rather than queued, so a burst of heavy
 * queries never builds a backlog that outlives its clients. */
#include "coord_int.h"

#include "err.h"
#include "log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct coord_query_job {
    uv_work_t work;
    coord_t *c;
    unsigned slot;     /* its connection: c->queries.conn[slot] */
    hp_rep_req_t *req; /* NULL once the socket is closing: nothing to answer */
    char *sql;
    size_t max_rows;
    hp_buf_t reply; /* encoded on the work thread */
};

/* ---- on the work thread ------------------------------------------------ */

typedef struct {
    HP_VEC(hp_buf_t) cells; /* one buffer per cell, row after row */
    char **columns;
    size_t ncol;
    size_t rows, max_rows;
    int truncated;
    int header_seen;
} query_acc_t;

static int query_cb(void *data, int ncol, const char *const *names, const char *const *values,
                    const int *types)
{
    query_acc_t *q = data;
    if (!values) {
        if (q->header_seen)
            return 0; /* later statements: keep the first statement's columns */
        q->header_seen = 1;
        q->ncol = (size_t)ncol;
        q->columns = calloc((size_t)ncol + 1, sizeof *q->columns);
        HP_ASSERT(q->columns != NULL);
        for (int i = 0; i < ncol; i++)
            q->columns[i] = strdup(names[i]);
        return 0;
    }
    if ((size_t)ncol != q->ncol)
        return 0;
    if (q->rows >= q->max_rows) {
        q->truncated = 1;
        return 1;
    }
    q->rows++;
    for (int i = 0; i < ncol; i++) {
        HP_VEC_PUSH(q->cells, (hp_buf_t){0});
        hp_buf_t *b = &q->cells.v[q->cells.n - 1];
        if (!values[i])
            hp_buf_puts(b, "null");
        else if (types[i] == HP_STORE_INTEGER)
            hp_buf_puts(b, values[i]);
        else if (types[i] == HP_STORE_FLOAT) {
            double v = strtod(values[i], NULL);
            if (isfinite(v))
                hp_buf_puts(b, values[i]);
            else
                hp_buf_json_string(b, values[i]); /* Inf / -Inf: JSON has no number */
        } else
            hp_buf_json_string(b, values[i]);
    }
    return 0;
}

static void acc_fini(query_acc_t *q)
{
    for (size_t i = 0; i < q->cells.n; i++)
        hp_buf_fini(&q->cells.v[i]);
    free(q->cells.v);
    for (size_t i = 0; i < q->ncol; i++)
        free(q->columns[i]);
    free(q->columns);
}

/* Runs the query and encodes its reply: nothing here touches the loop's
 * state, only the job and its own connection. */
static void run_job(uv_work_t *w)
{
    struct coord_query_job *j = w->data;
    hp_store_t *conn = j->c->queries.conn[j->slot];
    query_acc_t q = {.max_rows = j->max_rows};
    char err[512];
    int rc = hp_store_exec_query(conn, j->sql, query_cb, &q, err, sizeof err);
    if (rc == HP_ECANCELED)
        snprintf(err, sizeof err, "query stopped: the coordinator is shutting down");
    if (rc < 0 && !(rc == 1 && q.truncated)) {
        hp_proto_encode_error(&j->reply, rc, err);
    } else {
        char **cells = calloc(q.cells.n + 1, sizeof *cells);
        HP_ASSERT(cells != NULL);
        for (size_t i = 0; i < q.cells.n; i++)
            cells[i] = q.cells.v[i].data;
        Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
        Hpsearch__QueryReply r = HPSEARCH__QUERY_REPLY__INIT;
        r.columns = q.columns;
        r.n_columns = q.ncol;
        r.cells = cells;
        r.n_cells = q.cells.n;
        r.truncated = q.truncated;
        hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__QUERY_REPLY, &r);
        if (hp_proto_encode(&env, &j->reply) < 0)
            hp_proto_encode_error(&j->reply, HP_EINVAL,
                                  "the result is larger than a reply may be; select fewer "
                                  "rows or columns, or use hpsearch sql --db");
        free(cells);
    }
    acc_fini(&q);
}

/* ---- on the loop --------------------------------------------------------- */

static void job_done(uv_work_t *w, int status)
{
    (void)status; /* work is never cancelled: uv_cancel is not used */
    struct coord_query_job *j = w->data;
    coord_t *c = j->c;
    c->queries.job[j->slot] = NULL;
    c->queries.running--;
    if (j->req) {
        coord_reply_buf(c, j->req, &j->reply);
        /* the reply leaves at the end of this round of callbacks (the
         * tick), like every other */
    }
    hp_buf_fini(&j->reply);
    free(j->sql);
    free(j);
}

int coord_queries_open(coord_t *c, char *err, size_t errlen)
{
    unsigned n = (unsigned)c->cfg.query_concurrency;
    HP_ASSERT(n <= COORD_QUERIES_MAX);
    for (unsigned i = 0; i < n; i++) {
        int rc = hp_store_open(&c->queries.conn[i], c->cfg.db, HP_STORE_READONLY, err, errlen);
        if (rc < 0)
            return rc;
        hp_store_set_query_limit(c->queries.conn[i], (double)c->cfg.query_timeout_s);
        c->queries.n = i + 1;
    }
    return 0;
}

void coord_query(coord_t *c, hp_rep_req_t *req, const Hpsearch__Query *q)
{
    unsigned slot = 0;
    while (slot < c->queries.n && c->queries.job[slot])
        slot++;
    if (c->queries.closing || slot == c->queries.n) {
        coord_reply_error(c, req, HP_EBUSY,
                          "busy: the coordinator already runs %u queries (query-concurrency); "
                          "try again in a moment, or use hpsearch sql --db",
                          c->queries.running);
        return;
    }
    struct coord_query_job *j = calloc(1, sizeof *j);
    HP_ASSERT(j != NULL);
    j->c = c;
    j->slot = slot;
    j->req = req;
    j->sql = strdup(q->sql ? q->sql : "");
    HP_ASSERT(j->sql != NULL);
    j->max_rows = q->max_rows && q->max_rows < (uint64_t)c->cfg.query_max_rows
                      ? (size_t)q->max_rows
                      : (size_t)c->cfg.query_max_rows;
    j->work.data = j;
    int rc = uv_queue_work(c->loop, &j->work, run_job, job_done);
    if (rc != 0) {
        coord_reply_error(c, req, HP_EBUSY, "cannot start the query: %s", uv_strerror(rc));
        free(j->sql);
        free(j);
        return;
    }
    c->queries.job[slot] = j;
    c->queries.running++;
    hp_log_debug("query started (%u of %u running)", c->queries.running, c->queries.n);
}

void coord_queries_stop(coord_t *c)
{
    c->queries.closing = 1;
    for (unsigned i = 0; i < c->queries.n; i++)
        if (c->queries.job[i])
            hp_store_interrupt(c->queries.conn[i]);
}

void coord_queries_drop(coord_t *c)
{
    coord_queries_stop(c);
    for (unsigned i = 0; i < c->queries.n; i++)
        if (c->queries.job[i])
            c->queries.job[i]->req = NULL;
}

void coord_queries_close(coord_t *c)
{
    HP_ASSERT(c->queries.running == 0);
    for (unsigned i = 0; i < c->queries.n; i++) {
        hp_store_close(c->queries.conn[i]);
        c->queries.conn[i] = NULL;
    }
    c->queries.n = 0;
}
