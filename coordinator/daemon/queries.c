/* User SQL (QUERY, `hpsearch sql` without --db) off the loop: a small pool
 * of threads of its own (query-concurrency), each with a read-only
 * connection of its own, runs one query at a time within the query time
 * budget; the loop only hands a query out and queues the reply the thread
 * encoded. Heartbeats, results and status are served meanwhile. The
 * threads run at a lower CPU priority (nice +10), so on a busy machine the
 * loop gets the CPU before them. With every thread busy one more query is
 * answered EBUSY at once rather than queued, so a burst of heavy queries
 * never builds a backlog that outlives its clients. */
#include "coord_int.h"

#include "err.h"
#include "log.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

struct coord_query_job {
    coord_t *c;
    unsigned slot;     /* its connection: c->queries.conn[slot] */
    hp_rep_req_t *req; /* NULL once the socket is closing: nothing to answer */
    char *sql;
    size_t max_rows;
    hp_buf_t reply; /* encoded on the query's thread */
};

/* One thread of the pool: its connection and the job it runs (the loop
 * sets job and signals; the thread clears nothing — it hands the job back
 * through the done list). */
struct coord_query_thread {
    coord_t *c;
    unsigned slot;
    pthread_t tid;
    int started;
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
static void run_job(struct coord_query_job *j)
{
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

/* A query thread: waits for its slot's job, runs it, hands it back to
 * the loop (the done list and the async), until the pool closes. */
static void *query_thread(void *arg)
{
    struct coord_query_thread *t = arg;
    coord_queries_t *p = &t->c->queries;
    /* behind the loop for the CPU; failure only costs that preference */
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->todo[t->slot] && !p->quit)
            pthread_cond_wait(&p->cond, &p->mu);
        if (p->quit)
            break;
        struct coord_query_job *j = p->todo[t->slot];
        p->todo[t->slot] = NULL;
        int closing = p->closing;
        pthread_mutex_unlock(&p->mu);
        if (closing)
            hp_proto_encode_error(&j->reply, HP_ECANCELED,
                                  "query not run: the coordinator is shutting down");
        else
            run_job(j);
        pthread_mutex_lock(&p->mu);
        p->done[t->slot] = j;
        if (!p->async_closed) /* closed: the loop frees it at the end */
            uv_async_send(&p->async);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- on the loop --------------------------------------------------------- */

static void job_free(struct coord_query_job *j)
{
    hp_buf_fini(&j->reply);
    free(j->sql);
    free(j);
}

/* the async: every finished query's reply into the outbox */
static void on_done(uv_async_t *h)
{
    coord_t *c = h->data;
    coord_queries_t *p = &c->queries;
    for (unsigned i = 0; i < p->n; i++) {
        pthread_mutex_lock(&p->mu);
        struct coord_query_job *j = p->done[i];
        p->done[i] = NULL;
        pthread_mutex_unlock(&p->mu);
        if (!j)
            continue;
        p->job[i] = NULL;
        p->running--;
        /* the reply leaves at the end of this round of callbacks (the
         * tick), like every other */
        if (j->req)
            coord_reply_buf(c, j->req, &j->reply);
        job_free(j);
    }
}

int coord_queries_open(coord_t *c, char *err, size_t errlen)
{
    coord_queries_t *p = &c->queries;
    unsigned n = (unsigned)c->cfg.query_concurrency;
    HP_ASSERT(n <= COORD_QUERIES_MAX);
    p->threads = calloc(COORD_QUERIES_MAX, sizeof *p->threads);
    HP_ASSERT(p->threads != NULL);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cond, NULL);
    uv_async_init(c->loop, &p->async, on_done);
    p->async.data = c;
    p->open = 1;
    for (unsigned i = 0; i < n; i++) {
        int rc = hp_store_open(&p->conn[i], c->cfg.db, HP_STORE_READONLY, err, errlen);
        if (rc < 0)
            return rc;
        hp_store_set_query_limit(p->conn[i], (double)c->cfg.query_timeout_s);
        p->n = i + 1;
        struct coord_query_thread *t = &p->threads[i];
        t->c = c;
        t->slot = i;
        if ((rc = pthread_create(&t->tid, NULL, query_thread, t)) != 0)
            return hp_errf(err, errlen, HP_ENOMEM, "cannot start a query thread: %s",
                           strerror(rc));
        t->started = 1;
    }
    return 0;
}

void coord_query(coord_t *c, hp_rep_req_t *req, const Hpsearch__Query *q)
{
    unsigned slot = 0;
    while (slot < c->queries.n && c->queries.job[slot])
        slot++;
    if (c->queries.closing) {
        coord_reply_error(c, req, HP_EBUSY,
                          "busy: the coordinator is shutting down; try again once it is back, "
                          "or use hpsearch sql --db");
        return;
    }
    if (slot == c->queries.n) {
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
    c->queries.job[slot] = j;
    pthread_mutex_lock(&c->queries.mu);
    c->queries.todo[slot] = j;
    pthread_cond_broadcast(&c->queries.cond);
    pthread_mutex_unlock(&c->queries.mu);
    c->queries.running++;
    hp_log_debug("query started (%u of %u running)", c->queries.running, c->queries.n);
}

void coord_queries_stop(coord_t *c)
{
    if (!c->queries.open)
        return;
    pthread_mutex_lock(&c->queries.mu);
    c->queries.closing = 1;
    pthread_mutex_unlock(&c->queries.mu);
    for (unsigned i = 0; i < c->queries.n; i++)
        if (c->queries.job[i])
            hp_store_interrupt(c->queries.conn[i]);
}

void coord_queries_drop(coord_t *c)
{
    coord_queries_t *p = &c->queries;
    coord_queries_stop(c);
    for (unsigned i = 0; i < p->n; i++)
        if (p->job[i])
            p->job[i]->req = NULL;
    if (p->open && !uv_is_closing((uv_handle_t *)&p->async)) {
        pthread_mutex_lock(&p->mu);
        p->async_closed = 1;
        pthread_mutex_unlock(&p->mu);
        uv_close((uv_handle_t *)&p->async, NULL);
    }
}

void coord_queries_close(coord_t *c)
{
    coord_queries_t *p = &c->queries;
    if (!p->open)
        return;
    /* the loop has ended: the threads finish what they run (interrupted)
     * and leave; replies nobody can send any more are freed */
    coord_queries_stop(c);
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->n; i++) {
        if (p->threads[i].started)
            pthread_join(p->threads[i].tid, NULL);
        if (p->todo[i] && p->todo[i] != p->job[i])
            job_free(p->todo[i]);
        if (p->job[i])
            job_free(p->job[i]);
        hp_store_close(p->conn[i]);
        p->conn[i] = NULL;
        p->job[i] = p->todo[i] = p->done[i] = NULL;
    }
    if (!uv_is_closing((uv_handle_t *)&p->async))
        uv_close((uv_handle_t *)&p->async, NULL); /* start-up failed: never dropped */
    free(p->threads);
    p->threads = NULL;
    p->n = 0;
    p->running = 0;
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->mu);
    p->open = 0;
}
