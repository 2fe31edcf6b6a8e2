#include "rep.h"

#include "err.h"
#include "log.h"
#include "nng_err.h"
#include "tls.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    uint64_t arrived_ns, read_ns; /* CLOCK_MONOTONIC: nng handed it over; the loop read it */
};

typedef struct pipe_ev {
    uint32_t pipe_id;
    struct pipe_ev *next;
} pipe_ev_t;

struct hp_rep {
    uv_loop_t *loop;
    uv_async_t async;
    nng_socket sock;
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
    int handles;               /* uv handles not closed + work in flight; r is freed at 0 */
    /* tls+tcp://: refused handshakes, counted by nng, logged from the loop */
    nng_listener listener;
    uv_timer_t tls_timer;
    uv_work_t tls_work;        /* reading nng's statistics, off the loop */
    int tls_watch, tls_busy;
    uint64_t tls_refused, tls_now;
    char name[16];
    char url[512];
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

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void hp_rep_req_age(const hp_rep_req_t *q, double *total_ms, double *queued_ms)
{
    uint64_t now = mono_ns();
    *total_ms = (double)(now - q->arrived_ns) / 1e6;
    *queued_ms = (double)(q->read_ns - q->arrived_ns) / 1e6;
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
    q->arrived_ns = mono_ns();
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

/* loop thread, after `silent` connections closed before a single message
 * arrived on them: says so, because that is how nng drops a message too
 * large to receive (with its connection, before the daemon sees a byte),
 * which nothing else would ever report. nng's statistics cannot tell it
 * from an ordinary close (both count as an "other" error), and reading
 * them costs milliseconds on a busy socket; a connection that was heard
 * from is never reported. */
static void log_silent_closes(hp_rep_t *r, unsigned silent)
{
    hp_log_warn("%s socket: %u connection%s closed before any message arrived (nng drops a "
                "message over the %u MiB limit this way, unanswered; or the peer left without "
                "sending)",
                r->name, silent, silent == 1 ? "" : "s", HP_REP_RECV_MAX >> 20);
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
            q->read_ns = mono_ns();
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
        if (silent && !r->closing)
            log_silent_closes(r, silent);
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

void hp_rep_req_peer(const hp_rep_req_t *q, char *out, size_t cap)
{
    snprintf(out, cap, "unknown");
    if (!q->msg)
        return;
    nng_pipe p = nng_msg_get_pipe(q->msg);
    nng_sockaddr sa;
    char ip[INET6_ADDRSTRLEN];
    uint64_t uid;
    if (nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) == 0) {
        if (sa.s_family == NNG_AF_INET && inet_ntop(AF_INET, &sa.s_in.sa_addr, ip, sizeof ip))
            snprintf(out, cap, "tcp %s", ip);
        else if (sa.s_family == NNG_AF_INET6 &&
                 inet_ntop(AF_INET6, sa.s_in6.sa_addr, ip, sizeof ip))
            snprintf(out, cap, "tcp6 %s", ip);
        else if ((sa.s_family == NNG_AF_IPC || sa.s_family == NNG_AF_ABSTRACT) &&
                 nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &uid) == 0)
            snprintf(out, cap, "ipc uid %llu", (unsigned long long)uid);
        else if (sa.s_family == NNG_AF_INPROC)
            snprintf(out, cap, "inproc");
    } else if (nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &uid) == 0) {
        snprintf(out, cap, "ipc uid %llu", (unsigned long long)uid);
    }
}

unsigned hp_rep_parked(const hp_rep_t *r) { return r->parked; }

static void release(hp_rep_t *r);

/* work thread: a snapshot of all of nng's statistics costs milliseconds
 * with a thousand connections, too long for the loop */
static void tls_count(uv_work_t *w)
{
    hp_rep_t *r = w->data;
    r->tls_now = hp_tls_listener_failures(r->listener);
}

/* loop thread: log what was refused since the last count */
static void tls_counted(uv_work_t *w, int status)
{
    hp_rep_t *r = w->data;
    r->tls_busy = 0;
    uint64_t n = r->tls_now;
    if (status == 0 && !r->closing && n > r->tls_refused) {
        uint64_t d = n - r->tls_refused;
        if (hp_tls_engine_installed())
            hp_log_warn("%s socket %s: %llu TLS handshake%s refused (%llu so far; each is in a "
                        "line 'TLS handshake failed from ...' with its peer and reason)",
                        r->name, r->url, (unsigned long long)d, d == 1 ? "" : "s",
                        (unsigned long long)n);
        else
            hp_log_warn("%s socket %s: %llu TLS handshake%s refused (%llu so far): a client "
                        "spoke plain TCP, sent no certificate or one not signed by --tls-ca, or "
                        "refused this daemon's certificate; nng reports neither the peer's "
                        "address nor which (the client's log says)",
                        r->name, r->url, (unsigned long long)d, d == 1 ? "" : "s",
                        (unsigned long long)n);
    }
    if (n > r->tls_refused)
        r->tls_refused = n;
    release(r);
}

/* loop thread, each second on a TLS socket: a refused handshake never
 * becomes a pipe, so nng's listener statistic is all there is to see */
static void on_tls_timer(uv_timer_t *h)
{
    hp_rep_t *r = h->data;
    if (r->tls_busy || r->closing)
        return;
    r->tls_work.data = r;
    if (uv_queue_work(r->loop, &r->tls_work, tls_count, tls_counted) == 0) {
        r->tls_busy = 1;
        r->handles++;
    }
}

int hp_rep_open(hp_rep_t **out, uv_loop_t *loop, const char *url, unsigned ncontexts,
                hp_rep_request_cb on_request, hp_rep_pipe_cb on_pipe_closed, void *data, char *err,
                size_t errlen)
{
    return hp_rep_open_tls(out, loop, "REP", url, NULL, ncontexts, on_request, on_pipe_closed,
                           data, err, errlen);
}

int hp_rep_open_tls(hp_rep_t **out, uv_loop_t *loop, const char *name, const char *url,
                    const hp_tls_t *tls, unsigned ncontexts, hp_rep_request_cb on_request,
                    hp_rep_pipe_cb on_pipe_closed, void *data, char *err, size_t errlen)
{
    *out = NULL;
    hp_rep_t *r = calloc(1, sizeof *r);
    if (!r)
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    r->loop = loop;
    r->on_request = on_request;
    r->on_pipe_closed = on_pipe_closed;
    r->data = data;
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
    int rc = hp_tls_listen(r->sock, url, tls, &r->listener, err, errlen);
    if (rc < 0) {
        nng_close(r->sock);
        pthread_mutex_destroy(&r->mu);
        free(r);
        return rc;
    }
    uv_async_init(loop, &r->async, on_async);
    r->async.data = r;
    r->handles = 1;
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->url, sizeof r->url, "%s", url);
    if (hp_tls_url_is_tls(url)) {
        uv_timer_init(loop, &r->tls_timer);
        r->tls_timer.data = r;
        r->handles++;
        r->tls_watch = 1;
        uv_timer_start(&r->tls_timer, on_tls_timer, 1000, 1000);
    }
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

static void free_after_close(uv_handle_t *h) { release(h->data); }

/* one of r's handles closed, or its work finished: r goes with the last */
static void release(hp_rep_t *r)
{
    if (--r->handles > 0)
        return;
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
    if (r->tls_watch)
        uv_close((uv_handle_t *)&r->tls_timer, free_after_close);
    uv_close((uv_handle_t *)&r->async, free_after_close);
}
