/* The worker side of the protocol (docs/protocol.md): HELLO, HEARTBEAT,
 * GET_TRIAL, PROGRESS and RESULT. HELLO (with the token) begins a session
 * with a random secret; every later message must carry it, and each is
 * checked against the lease it quotes, so neither a late message from an
 * expired attempt nor anyone else's changes a trial (docs/security.md). */
#include "coord_int.h"

#include "err.h"
#include "log.h"
#include "token.h"
#include "utf8.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void touch_worker(coord_t *c, coord_worker_t *w, uint32_t pipe_id)
{
    w->last_seen_ms = coord_now_ms(c);
    w->pipe_id = pipe_id;
    if (w->restored) {
        w->restored = 0;
        hp_log_info("worker %s (%s) went on under its session from before the restart", w->id_str,
                    w->host);
    }
    if (!w->alive) {
        w->alive = 1;
        char err[256];
        if (coord_write_begin(c) == 0)
            hp_store_worker_set_state(c->store, w->id_str, HP_WORKER_ALIVE, err, sizeof err);
    }
}

/* What a HELLO says the worker can do, as the JSON the workers table keeps. */
static void capabilities_json(const Hpsearch__Hello *h, hp_buf_t *caps)
{
    hp_buf_puts(caps, "{\"pid\":");
    hp_buf_printf(caps, "%u,\"blas\":", h->pid);
    hp_buf_json_string(caps, h->blas ? h->blas : "");
    hp_buf_puts(caps, ",\"version\":");
    hp_buf_json_string(caps, h->software_version ? h->software_version : "");
    hp_buf_puts(caps, ",\"models\":[");
    for (size_t i = 0; i < h->n_models; i++) {
        if (i)
            hp_buf_putc(caps, ',');
        hp_buf_json_string(caps, h->models[i]);
    }
    hp_buf_puts(caps, "],\"functions\":[");
    for (size_t i = 0; i < h->n_functions; i++) {
        if (i)
            hp_buf_putc(caps, ',');
        hp_buf_json_string(caps, h->functions[i]);
    }
    hp_buf_puts(caps, "]}");
}

/* Forgets workers that are lost, or restored from before a restart and not
 * heard from since, and run nothing (their rows stay in the store):
 * registrations are capped by live ones, memory by this. */
static void forget_lost(coord_t *c)
{
    size_t k = 0;
    for (size_t i = 0; i < c->workers.n; i++) {
        coord_worker_t *w = &c->workers.v[i];
        int runs = 0;
        for (size_t r = 0; r < c->runs.n && !runs; r++)
            runs = c->runs.v[r].worker_id == w->id;
        if ((w->alive && !w->restored) || runs)
            c->workers.v[k++] = *w;
    }
    c->workers.n = k;
}

/* Whether one more worker may register from peer (max-workers,
 * max-workers-per-peer); else replies EBUSY and returns 0. */
static int may_register(coord_t *c, hp_rep_req_t *req, const char *peer)
{
    if (c->workers.n >= (size_t)c->cfg.max_workers)
        forget_lost(c);
    size_t total = 0, mine = 0;
    for (size_t i = 0; i < c->workers.n; i++) {
        const coord_worker_t *w = &c->workers.v[i];
        /* restored sessions were let in before the restart: until their
         * worker is heard from again they hold no place a new one needs */
        int live = w->alive && !w->restored;
        total += (size_t)live;
        mine += (size_t)(live && strcmp(w->peer, peer) == 0);
    }
    if (total >= (size_t)c->cfg.max_workers) {
        hp_log_warn("worker socket: refused a HELLO from %s: %zu workers registered "
                    "(max-workers %lld)",
                    peer, total, (long long)c->cfg.max_workers);
        coord_reply_error(c, req, HP_EBUSY, "too many workers registered (%zu; max-workers %lld)",
                          total, (long long)c->cfg.max_workers);
        return 0;
    }
    if (mine >= (size_t)c->cfg.max_workers_per_peer) {
        hp_log_warn("worker socket: refused a HELLO from %s: %zu workers registered from it "
                    "(max-workers-per-peer %lld)",
                    peer, mine, (long long)c->cfg.max_workers_per_peer);
        coord_reply_error(c, req, HP_EBUSY,
                          "too many workers registered from %s (%zu; max-workers-per-peer %lld)",
                          peer, mine, (long long)c->cfg.max_workers_per_peer);
        return 0;
    }
    return 1;
}

/* The HELLO_REPLY that gives w its session. */
static void reply_hello(coord_t *c, hp_rep_req_t *req, const coord_worker_t *w)
{
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__HelloReply r = HPSEARCH__HELLO_REPLY__INIT;
    r.worker_id = w->id;
    r.heartbeat_ms = (uint32_t)c->cfg.heartbeat_ms;
    r.lease_ms = (uint32_t)c->cfg.lease_ms;
    r.session.data = (uint8_t *)w->session;
    r.session.len = sizeof w->session;
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__HELLO_REPLY, &r);
    env.worker_id = w->id;
    coord_reply(c, req, &env);
}

static void on_hello(coord_t *c, hp_rep_req_t *req, const Hpsearch__Envelope *e, uint32_t pipe_id)
{
    const Hpsearch__Hello *h = e->hello;
    char peer[64];
    hp_rep_req_peer(req, peer, sizeof peer);
    const ProtobufCBinaryData *nonce = &h->nonce;
    if (nonce->len > HP_PROTO_MAX_SESSION) {
        hp_log_warn("worker socket: refused a HELLO from %s: a nonce of %zu bytes", peer,
                    nonce->len);
        coord_reply_error(c, req, HP_EPROTO, "Hello.nonce: %zu bytes (limit %u)", nonce->len,
                          HP_PROTO_MAX_SESSION);
        return;
    }
    uint64_t id = h->previous_worker_id;
    coord_worker_t *w = id ? coord_worker_by_id(c, id) : NULL;
    if (w && !coord_session_same_worker(w, e, nonce)) {
        /* an id in use is its session's: nobody else takes it (or its
         * leases) by naming it; after a restart too, the stored session
         * being restored (session.c) */
        hp_log_warn("worker socket: a HELLO from %s names worker %s without its session "
                    "secret; registering it under a new id",
                    peer, w->id_str);
        w = NULL;
        id = 0;
    }
    if (!w && (w = coord_session_by_nonce(c, nonce)) != NULL)
        id = w->id; /* the same process again: a HELLO whose reply was lost */
    if (w && coord_session_is_resend(w, e, nonce)) {
        /* the very HELLO already answered (its reply lost on the way):
         * the same reply again, nothing registered twice */
        hp_log_debug("worker %s: HELLO resent (seq %" PRIu64 "); the same reply again",
                     w->id_str, e->seq);
        touch_worker(c, w, pipe_id);
        reply_hello(c, req, w);
        return;
    }
    if (!w) {
        if (!may_register(c, req, peer))
            return;
        /* a known id (from before a restart) is kept, so its leases hold */
        if (id == 0 || id >= c->next_worker_id)
            id = c->next_worker_id++;
        coord_worker_t nw = {.id = id};
        snprintf(nw.id_str, sizeof nw.id_str, "%" PRIu64, id);
        HP_VEC_PUSH(c->workers, nw);
        w = &c->workers.v[c->workers.n - 1];
    }
    char err[256];
    hp_utf8_escape(w->host, sizeof w->host, h->hostname, strlen(h->hostname));
    snprintf(w->peer, sizeof w->peer, "%s", peer);
    w->slots = h->slots;
    w->pid = h->pid;
    w->cores = h->cores;
    w->leaving = 0; /* a HELLO again: it serves trials */
    w->restored = 0;
    w->alive = 0; /* touch_worker records the state */
    touch_worker(c, w, pipe_id);

    hp_buf_t caps = {0};
    capabilities_json(h, &caps);
    hp_worker_def_t def = {.id = w->id_str, .host = w->host, .cores = (int)h->cores,
                           .slots = (int)h->slots, .capabilities = caps.data};
    if (coord_write_begin(c) < 0 ||
        hp_store_worker_upsert(c->store, &def, err, sizeof err) < 0) {
        coord_reply_error(c, req, HP_EDB, "cannot record worker: %s", err);
        hp_buf_fini(&caps);
        return;
    }
    hp_buf_fini(&caps);
    /* a new secret for each HELLO: the old one no longer speaks for it */
    int rc = coord_session_begin(c, w, e, nonce, err, sizeof err);
    if (rc < 0) {
        coord_reply_error(c, req, rc, "cannot begin a session: %s", err);
        return;
    }
    hp_store_event_append(c->store, "worker_hello", 0, 0, w->id_str, w->host, err, sizeof err);
    hp_log_info("worker %s joined from %s (%s, pid %u, %u slot%s)", w->id_str, w->host, peer,
                h->pid, h->slots, h->slots == 1 ? "" : "s");

    reply_hello(c, req, w);
}

/* Whether e carries w's session secret; else it is refused (ESESSION: the
 * worker says HELLO again) and logged. Nothing in it is applied. */
static int check_session(coord_t *c, hp_rep_req_t *req, const Hpsearch__Envelope *e,
                         const coord_worker_t *w)
{
    const ProtobufCBinaryData *got = &e->session;
    if (coord_session_is(w, got))
        return 1;
    char peer[64];
    hp_rep_req_peer(req, peer, sizeof peer);
    hp_log_warn("worker socket: refused %s for worker %s from %s: %s session secret",
                hp_proto_type_name(e->type), w->id_str, peer, got->len ? "wrong" : "missing");
    coord_reply_error(c, req, HP_ESESSION,
                      "%s session secret for worker %" PRIu64 ": not applied; say HELLO to "
                      "begin a session (every later message carries the secret its reply "
                      "gives)",
                      got->len ? "wrong" : "missing", w->id);
    return 0;
}

/* Whether the lease a PROGRESS or RESULT quotes is held by another worker:
 * then it is refused (EAUTH) and logged, and nothing of it is applied. A
 * lease that merely expired or was reassigned (its id no longer current)
 * is no forgery and goes the usual way. */
static int foreign_lease(coord_t *c, hp_rep_req_t *req, const Hpsearch__Envelope *e,
                         const coord_worker_t *w, const Hpsearch__LeaseRef *l)
{
    coord_run_t *r = coord_run_by_trial(c, (int64_t)l->trial_id);
    if (!r || r->lease_id != (int64_t)l->lease_id || r->worker_id == w->id)
        return 0;
    char peer[64];
    hp_rep_req_peer(req, peer, sizeof peer);
    hp_log_warn("worker socket: refused %s from worker %s (%s): lease %" PRIu64 " of trial %" PRIu64
                " is worker %" PRIu64 "'s",
                hp_proto_type_name(e->type), w->id_str, peer, l->lease_id, l->trial_id,
                r->worker_id);
    coord_reply_error(c, req, HP_EAUTH,
                      "lease %" PRIu64 " of trial %" PRIu64 " is not worker %" PRIu64
                      "'s: refused, nothing recorded",
                      l->lease_id, l->trial_id, w->id);
    return 1;
}

static void on_heartbeat(coord_t *c, hp_rep_req_t *req, const Hpsearch__Envelope *e,
                         coord_worker_t *w)
{
    const Hpsearch__Heartbeat *hb = e->heartbeat;
    Hpsearch__LeaseRef **cancel = calloc(hb->n_running + 1, sizeof *cancel);
    Hpsearch__LeaseRef *refs = calloc(hb->n_running + 1, sizeof *refs);
    HP_ASSERT(cancel && refs);
    size_t nc = 0;
    for (size_t i = 0; i < hb->n_running; i++) {
        const Hpsearch__LeaseRef *l = hb->running[i];
        coord_run_t *r = coord_attempt_find(c, w->id, l);
        if (r)
            coord_attempt_renew(c, r);
        coord_run_t *other = r ? NULL : coord_run_by_trial(c, (int64_t)l->trial_id);
        if (other && other->lease_id == (int64_t)l->lease_id)
            hp_log_warn("worker socket: worker %s quoted lease %" PRIu64 " of trial %" PRIu64
                        ", which is worker %" PRIu64 "'s: not renewed, told to stop",
                        w->id_str, l->lease_id, l->trial_id, other->worker_id);
        if (!r || r->stop) {
            /* not (or no longer) this worker's attempt: tell it to stop */
            hpsearch__lease_ref__init(&refs[nc]);
            refs[nc].trial_id = l->trial_id;
            refs[nc].lease_id = l->lease_id;
            cancel[nc] = &refs[nc];
            nc++;
        }
    }
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__HeartbeatReply hr = HPSEARCH__HEARTBEAT_REPLY__INIT;
    hr.cancel = cancel;
    hr.n_cancel = nc;
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__HEARTBEAT_REPLY, &hr);
    coord_reply(c, req, &env);
    free(cancel);
    free(refs);
}

/* Parks a request for a trial (a GET_TRIAL, or a RESULT with next whose
 * acknowledgement is in ack) until the scheduler has one. */
static void hold(coord_t *c, hp_rep_req_t *req, const Hpsearch__Envelope *e, coord_worker_t *w,
                 uint32_t pipe_id, const coord_held_t *ack)
{
    coord_held_t h = {.req = req, .worker_id = w->id, .seq = e->seq, .pipe_id = pipe_id};
    if (ack) {
        h.has_ack = 1;
        h.ack_stop = ack->ack_stop;
        memcpy(h.ack_reason, ack->ack_reason, sizeof h.ack_reason);
    }
    coord_held_add(c, &h);
}

static void on_get_trial(coord_t *c, hp_rep_req_t *req, const Hpsearch__Envelope *e,
                         coord_worker_t *w, uint32_t pipe_id)
{
    hold(c, req, e, w, pipe_id, NULL);
}

/* Answers a RESULT: an ACK, or with next, a held request for the slot's
 * next trial that carries the acknowledgement. */
static void answer_result(coord_t *c, hp_rep_req_t *req, const Hpsearch__Envelope *e,
                          coord_worker_t *w, uint32_t pipe_id, int stop, const char *reason)
{
    if (!e->result->next) {
        coord_reply_ack(c, req, stop, reason);
        return;
    }
    coord_held_t ack = {.ack_stop = stop};
    snprintf(ack.ack_reason, sizeof ack.ack_reason, "%s", reason ? reason : "");
    hold(c, req, e, w, pipe_id, &ack);
}

static void on_progress(coord_t *c, hp_rep_req_t *req, const Hpsearch__Envelope *e,
                        coord_worker_t *w)
{
    const Hpsearch__Progress *p = e->progress;
    coord_run_t *r = coord_attempt_find(c, w->id, p->lease);
    if (!r) {
        coord_reply_ack(c, req, 1, "lease expired or reassigned: stop this attempt");
        return;
    }
    coord_attempt_progress(c, r, p);
    coord_reply_ack(c, req, r->stop, r->stop ? r->stop_reason : NULL);
}

/* Answers a RESULT that no running attempt holds the lease of. Nothing
 * changes either way, and the worker can forget it; but a resend of a
 * result this lease already recorded (a worker that was stopped while its
 * RESULT-with-next was held, say) is not a refusal, and saying "stop"
 * would read as one. */
static void answer_stale_result(coord_t *c, hp_rep_req_t *req, const Hpsearch__Envelope *e,
                                coord_worker_t *w, uint32_t pipe_id)
{
    const Hpsearch__LeaseRef *l = e->result->lease;
    hp_trial_t t;
    char err[256];
    int dup = l->trial_id < (UINT64_C(1) << 62) &&
              hp_store_trial_get(c->store, (int64_t)l->trial_id, &t, err, sizeof err) == 0;
    if (dup) {
        /* an interrupted attempt left its trial pending (or running
         * again, under a newer lease, which this is not) */
        int interrupted = e->result->outcome == HPSEARCH__TRIAL_OUTCOME__INTERRUPTED &&
                          t.state == HP_TRIAL_PENDING;
        dup = t.lease_id == (int64_t)l->lease_id &&
              ((t.state != HP_TRIAL_RUNNING && t.state != HP_TRIAL_PENDING) || interrupted);
        hp_trial_fini(&t);
    }
    if (dup) {
        answer_result(c, req, e, w, pipe_id, 0, "already recorded");
        return;
    }
    /* a late result (a worker cut off past its lease, say): the operator
     * sees that it came and why it was thrown away */
    hp_log_warn("worker %s (%s): refused a result for trial id %" PRIu64
                ": no running attempt holds its lease (it expired or was reassigned); "
                "not recorded",
                w->id_str, w->host, l->trial_id);
    answer_result(c, req, e, w, pipe_id, 1,
                  "no running attempt holds this lease (it expired or was reassigned)");
}

static void on_result(coord_t *c, hp_rep_req_t *req, const Hpsearch__Envelope *e,
                      coord_worker_t *w, uint32_t pipe_id)
{
    coord_run_t *r = coord_attempt_find(c, w->id, e->result->lease);
    if (!r) {
        answer_stale_result(c, req, e, w, pipe_id);
        return;
    }
    char err[1024];
    int rc = coord_attempt_result(c, r, e->result, err, sizeof err);
    if (rc < 0) {
        coord_reply_error(c, req, rc, "%s", err);
        return;
    }
    answer_result(c, req, e, w, pipe_id, 0, NULL);
}

void coord_on_worker_request(void *data, hp_rep_req_t *req, const void *buf, size_t len,
                             uint32_t pipe_id)
{
    coord_t *c = data;
    Hpsearch__Envelope *e = coord_decode(c, req, buf, len, "worker");
    if (!e)
        return;
    /* A live session's secret (256 random bits) proves its HELLO had the
     * token: such messages pass even while their peer is rate limited,
     * so a stranger's failed guesses from the same host cannot starve
     * registered workers. Anything else needs the token. */
    const coord_worker_t *known =
        e->type != HPSEARCH__MSG_TYPE__HELLO ? coord_worker_by_id(c, e->worker_id) : NULL;
    int vouched = known && coord_session_is(known, &e->session);
    if (!vouched && !coord_authenticate(c, req, e, "worker")) {
        hp_proto_free(e);
        return;
    }
    if (e->type == HPSEARCH__MSG_TYPE__HELLO) {
        on_hello(c, req, e, pipe_id);
        hp_proto_free(e);
        return;
    }
    coord_worker_t *w = coord_worker_by_id(c, e->worker_id);
    switch (e->type) {
    case HPSEARCH__MSG_TYPE__HEARTBEAT:
    case HPSEARCH__MSG_TYPE__GET_TRIAL:
    case HPSEARCH__MSG_TYPE__PROGRESS:
    case HPSEARCH__MSG_TYPE__RESULT:
        if (!w) {
            coord_reply_error(c, req, HP_ENOENT,
                              "unknown worker %" PRIu64 ": send HELLO (with previous_worker_id "
                              "after a coordinator restart)",
                              e->worker_id);
            break;
        }
        if (!check_session(c, req, e, w))
            break;
        if ((e->type == HPSEARCH__MSG_TYPE__PROGRESS &&
             foreign_lease(c, req, e, w, e->progress->lease)) ||
            (e->type == HPSEARCH__MSG_TYPE__RESULT &&
             foreign_lease(c, req, e, w, e->result->lease)))
            break;
        touch_worker(c, w, pipe_id);
        if (e->type == HPSEARCH__MSG_TYPE__HEARTBEAT)
            on_heartbeat(c, req, e, w);
        else if (e->type == HPSEARCH__MSG_TYPE__GET_TRIAL)
            on_get_trial(c, req, e, w, pipe_id);
        else if (e->type == HPSEARCH__MSG_TYPE__PROGRESS)
            on_progress(c, req, e, w);
        else
            on_result(c, req, e, w, pipe_id);
        break;
    default:
        coord_reply_error(c, req, HP_EPROTO, "%s is not a request the worker socket serves",
                          hp_proto_type_name(e->type));
        break;
    }
    hp_proto_free(e);
}

void coord_on_worker_pipe_closed(void *data, uint32_t pipe_id)
{
    coord_t *c = data;
    /* Only an early hint: a held GET_TRIAL from a closed connection can
     * never be answered, so stop offering it trials. Leases still decide
     * when a worker's trials are given up. */
    coord_held_drop_pipe(c, pipe_id);
}
