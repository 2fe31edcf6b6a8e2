#include "rep.h"

#include "err.h"
#include "log.h"
#include "nng_err.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ctx_state { CTX_RECV, CTX_QUEUED, CTX_PARKED, CTX_SEND, CTX_DEAD };

/* One REP context and its aio. Owned by the pool; the state says which
 * thread may touch it: nng's while RECV/SEND, the loop's while
 * QUEUED/PARKED. */
struct hp_rep_req {
    hp_rep_t *rep;
    nng_ctx ctx;
    nng_aio *aio;
    enum ctx_state state;
    nng_msg *msg;          /* the request while QUEUED/PARKED */
    hp_rep_req_t *next;    /* in the hand-off queue */
};

typedef struct pipe_ev {
    uint32_t pipe_id;
    struct pipe_ev *next;
} pipe_ev_t;

struct hp_rep {
    uv_loop_t *loop;
    uv_async_t async;
    nng_socket sock;
    nng_listener listener;
    char name[32];          /* "workers", "control": in log lines */
    uint64_t dropped;       /* connections nng ended on an error, as last logged */
    /* the connections a message arrived on, until they close: an open-
     * addressing set of pipe ids (0 = empty), loop thread only */
    uint32_t *heard;
    size_t heard_cap, heard_n;
    hp_rep_req_t *reqs;
    unsigned n;
    unsigned parked;
    hp_rep_request_cb on_request;
    hp_rep_pipe_cb on_pipe_closed;
    void *data;
    pthread_mutex_t mu;
    hp_rep_req_t *head, *tail; /* requests for the loop, FIFO */
    pipe_ev_t *pipes;          /* closed connections for the loop */
    int closing;
};

/* Whether a context's operation ended because we are closing: the socket
 * closed, or hp_rep_close stopped the aio. A REP context never sees a
 * peer's connection fail (a reply for a vanished pipe is dropped by nng,
 * not failed), so HP_ECLOSED here is always our own socket. Anything else
 * is transient and the context keeps serving. */
static int ctx_stopped(int rv)
{
    int e = hp_err_from_nng(rv);
    return e == HP_ECLOSED || e == HP_ECANCELED;
}

/* nng thread: a receive or a send on this context completed. */
static void aio_done(void *arg)
{
    hp_rep_req_t *q = arg;
    hp_rep_t *r = q->rep;
    int rv = nng_aio_result(q->aio);
    if (q->state == CTX_SEND) {
        if (rv != 0) {
            /* the reply could not be queued: we still own it */
            nng_msg *m = nng_aio_get_msg(q->aio);
            if (m)
                nng_msg_free(m);
        }
        if (ctx_stopped(rv)) {
            q->state = CTX_DEAD;
            return;
        }
        q->state = CTX_RECV;
        nng_ctx_recv(q->ctx, q->aio);
        return;
    }
    /* CTX_RECV */
    if (rv != 0) {
        if (ctx_stopped(rv)) {
            q->state = CTX_DEAD;
            return;
        }
        nng_ctx_recv(q->ctx, q->aio); /* transient; keep serving */
        return;
    }
    q->msg = nng_aio_get_msg(q->aio);
    q->state = CTX_QUEUED;
    pthread_mutex_lock(&r->mu);
    q->next = NULL;
    if (r->tail)
        r->tail->next = q;
    else
        r->head = q;
    r->tail = q;
    pthread_mutex_unlock(&r->mu);
    uv_async_send(&r->async);
}

/* nng thread: a connection went away. */
static void pipe_removed(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)ev;
    hp_rep_t *r = arg;
    pipe_ev_t *e = malloc(sizeof *e);
    if (!e)
        return; /* only an optimisation: leases catch it later */
    e->pipe_id = nng_pipe_id(p);
    pthread_mutex_lock(&r->mu);
    e->next = r->pipes;
    r->pipes = e;
    pthread_mutex_unlock(&r->mu);
    uv_async_send(&r->async);
}

/* ---- the connections heard from (loop thread) ------------------------------ */

static size_t heard_slot(const hp_rep_t *r, uint32_t id)
{
    size_t i = (id * 2654435761u) & (r->heard_cap - 1);
    while (r->heard[i] && r->heard[i] != id)
        i = (i + 1) & (r->heard_cap - 1);
    return i;
}

static void heard_add(hp_rep_t *r, uint32_t id)
{
    if (!id)
        return;
    if (2 * (r->heard_n + 1) > r->heard_cap) {
        size_t cap = r->heard_cap ? 2 * r->heard_cap : 64;
        uint32_t *old = r->heard;
        size_t oldcap = r->heard_cap;
        uint32_t *fresh = calloc(cap, sizeof *fresh);
        if (!fresh)
            return; /* only the log's precision suffers */
        r->heard = fresh;
        r->heard_cap = cap;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i])
                r->heard[heard_slot(r, old[i])] = old[i];
        free(old);
    }
    size_t i = heard_slot(r, id);
    if (!r->heard[i]) {
        r->heard[i] = id;
        r->heard_n++;
    }
}

/* Removes id; returns whether it was there. */
static int heard_remove(hp_rep_t *r, uint32_t id)
{
    if (!r->heard_cap || !id)
        return 0;
    size_t i = heard_slot(r, id);
    if (!r->heard[i])
        return 0;
    r->heard[i] = 0;
    r->heard_n--;
    /* linear probing: move up what the hole would hide */
    size_t mask = r->heard_cap - 1;
    for (size_t j = (i + 1) & mask; r->heard[j]; j = (j + 1) & mask) {
        uint32_t k = r->heard[j];
        r->heard[j] = 0;
        r->heard[heard_slot(r, k)] = k;
    }
    return 1;
}

/* The connections nng ended on its own after an error on them: its
 * listener's count of "other" errors, where a message over RECVMAXSZ is
 * counted (nng drops it, and the connection, without a word to us). */
static uint64_t transport_errors(hp_rep_t *r)
{
    nng_stat *all = NULL;
    uint64_t n = 0;
    if (nng_stats_get(&all) != 0)
        return 0;
    /* found by hand: nng 1.5's nng_stat_find_listener returns the first
     * listener's statistics whichever is asked for */
    int id = nng_listener_id(r->listener);
    for (nng_stat *l = nng_stat_child(all); l; l = nng_stat_next(l)) {
        nng_stat *lid = nng_stat_find(l, "id");
        if (strcmp(nng_stat_name(l), "listener") != 0 || !lid ||
            nng_stat_value(lid) != (uint64_t)id)
            continue;
        nng_stat *other = nng_stat_find(l, "other");
        if (other)
            n = nng_stat_value(other);
        break;
    }
    nng_stats_free(all);
    return n;
}

/* loop thread, after `silent` connections closed before a single message
 * arrived on them: says so when nng closed them for an error, which is
 * how it drops a message too large to receive — nothing else would ever
 * report it. (nng counts a peer's ordinary close as such an error too,
 * so a connection that was heard from is never reported.) */
static void log_transport_drops(hp_rep_t *r, unsigned silent)
{
    uint64_t n = transport_errors(r);
    if (silent && n > r->dropped)
        hp_log_warn("%s socket: the transport closed %u connection%s on an error before any "
                    "message arrived (most often a message over the %u MiB limit, too large "
                    "to receive or answer)",
                    r->name, silent, silent == 1 ? "" : "s", HP_REP_RECV_MAX >> 20);
    r->dropped = n;
}

/* loop thread: drain everything nng handed over. */
static void on_async(uv_async_t *h)
{
    hp_rep_t *r = h->data;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        hp_rep_req_t *q = r->head;
        r->head = r->tail = NULL;
        pipe_ev_t *pipes = r->pipes;
        r->pipes = NULL;
        pthread_mutex_unlock(&r->mu);
        if (!q && !pipes)
            break;
        while (q) {
            hp_rep_req_t *next = q->next;
            q->state = CTX_PARKED;
            r->parked++;
            nng_msg *m = q->msg;
            nng_pipe p = nng_msg_get_pipe(m);
            heard_add(r, nng_pipe_id(p));
            r->on_request(r->data, q, nng_msg_body(m), nng_msg_len(m), nng_pipe_id(p));
            q = next;
        }
        unsigned silent = 0;
        for (pipe_ev_t *e = pipes; e; e = e->next)
            silent += !heard_remove(r, e->pipe_id);
        if (pipes && !r->closing)
            log_transport_drops(r, silent);
        while (pipes) {
            pipe_ev_t *next = pipes->next;
            if (r->on_pipe_closed && !r->closing)
                r->on_pipe_closed(r->data, pipes->pipe_id);
            free(pipes);
            pipes = next;
        }
    }
}

void hp_rep_reply(hp_rep_req_t *q, const void *buf, size_t len)
{
    hp_rep_t *r = q->rep;
    HP_ASSERT(q->state == CTX_PARKED);
    r->parked--;
    nng_msg *m = q->msg;
    q->msg = NULL;
    /* reuse the request message: REP keeps its routing header */
    nng_msg_clear(m);
    if (nng_msg_append(m, buf, len) != 0) {
        hp_log_error("out of memory building a %zu-byte reply; dropping it", len);
        nng_msg_free(m);
        q->state = CTX_RECV;
        nng_ctx_recv(q->ctx, q->aio);
        return;
    }
    q->state = CTX_SEND;
    nng_aio_set_msg(q->aio, m);
    nng_ctx_send(q->ctx, q->aio);
}

unsigned hp_rep_parked(const hp_rep_t *r) { return r->parked; }

int hp_rep_open(hp_rep_t **out, uv_loop_t *loop, const char *name, const char *url,
                unsigned ncontexts,
                hp_rep_request_cb on_request, hp_rep_pipe_cb on_pipe_closed, void *data, char *err,
                size_t errlen)
{
    *out = NULL;
    hp_rep_t *r = calloc(1, sizeof *r);
    if (!r)
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    r->loop = loop;
    r->on_request = on_request;
    r->on_pipe_closed = on_pipe_closed;
    r->data = data;
    snprintf(r->name, sizeof r->name, "%s", name);
    pthread_mutex_init(&r->mu, NULL);
    int rv = nng_rep0_open(&r->sock);
    if (rv != 0) {
        pthread_mutex_destroy(&r->mu);
        free(r);
        return hp_errf(err, errlen, hp_err_from_nng(rv), "cannot open a REP socket: %s",
                       nng_strerror(rv));
    }
    nng_socket_set_size(r->sock, NNG_OPT_RECVMAXSZ, HP_REP_RECV_MAX);
    nng_pipe_notify(r->sock, NNG_PIPE_EV_REM_POST, pipe_removed, r);
    rv = nng_listen(r->sock, url, &r->listener, 0);
    if (rv != 0) {
        int code = hp_err_from_nng(rv);
        nng_close(r->sock);
        pthread_mutex_destroy(&r->mu);
        free(r);
        return hp_errf(err, errlen, code, "cannot listen on %s: %s", url, nng_strerror(rv));
    }
    uv_async_init(loop, &r->async, on_async);
    r->async.data = r;
    r->reqs = calloc(ncontexts, sizeof *r->reqs);
    if (!r->reqs) {
        hp_rep_close(r);
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    }
    for (unsigned i = 0; i < ncontexts; i++) {
        hp_rep_req_t *q = &r->reqs[i];
        q->rep = r;
        if ((rv = nng_ctx_open(&q->ctx, r->sock)) != 0 ||
            (rv = nng_aio_alloc(&q->aio, aio_done, q)) != 0) {
            r->n = i + 1;
            q->state = CTX_DEAD;
            hp_rep_close(r);
            return hp_errf(err, errlen, hp_err_from_nng(rv), "cannot open context %u: %s", i,
                           nng_strerror(rv));
        }
        r->n = i + 1;
        q->state = CTX_RECV;
        nng_ctx_recv(q->ctx, q->aio);
    }
    *out = r;
    return 0;
}

static void free_after_close(uv_handle_t *h)
{
    hp_rep_t *r = h->data;
    free(r->heard);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

void hp_rep_close(hp_rep_t *r)
{
    if (!r)
        return;
    r->closing = 1;
    /* Every operation stopped and every context closed before the socket:
     * nng 1.5's nng_close can hang on a task still in flight (a known nng
     * bug, nanomsg/nng#1543, fixed after the version Debian ships). After
     * nng_aio_stop no callback runs any more for that aio (a cancelled one
     * ends its context: ctx_stopped). */
    for (unsigned i = 0; i < r->n; i++)
        if (r->reqs[i].aio)
            nng_aio_stop(r->reqs[i].aio);
    for (unsigned i = 0; i < r->n; i++)
        if (r->reqs[i].aio)
            nng_ctx_close(r->reqs[i].ctx);
    nng_close(r->sock);
    for (unsigned i = 0; i < r->n; i++) {
        hp_rep_req_t *q = &r->reqs[i];
        if (q->msg)
            nng_msg_free(q->msg);
        if (q->aio)
            nng_aio_free(q->aio);
    }
    free(r->reqs);
    r->reqs = NULL;
    pthread_mutex_lock(&r->mu);
    while (r->pipes) {
        pipe_ev_t *e = r->pipes;
        r->pipes = e->next;
        free(e);
    }
    r->head = r->tail = NULL;
    pthread_mutex_unlock(&r->mu);
    uv_close((uv_handle_t *)&r->async, free_after_close);
}
