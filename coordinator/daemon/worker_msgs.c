/* The worker side of the protocol (docs/protocol.md): HELLO, HEARTBEAT,
 * GET_TRIAL, PROGRESS and RESULT, each checked against the lease it
 * quotes, so a late message from an expired attempt never changes a
 * trial. */
#include "coord_int.h"

#include "err.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void touch_worker(coord_t *c, coord_worker_t *w, uint32_t pipe_id)
{
    w->last_seen_ms = coord_now_ms(c);
    w->pipe_id = pipe_id;
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

static void on_hello(coord_t *c, hp_rep_req_t *req, const Hpsearch__Envelope *e, uint32_t pipe_id)
{
    const Hpsearch__Hello *h = e->hello;
    uint64_t id = h->previous_worker_id;
    coord_worker_t *w = id ? coord_worker_by_id(c, id) : NULL;
    if (!w) {
        /* a known id (from before a restart) is kept, so its leases hold */
        if (id == 0 || id >= c->next_worker_id)
            id = c->next_worker_id++;
        coord_worker_t nw = {.id = id};
        snprintf(nw.id_str, sizeof nw.id_str, "%" PRIu64, id);
        HP_VEC_PUSH(c->workers, nw);
        w = &c->workers.v[c->workers.n - 1];
    }
    snprintf(w->host, sizeof w->host, "%s", h->hostname);
    w->slots = h->slots;
    w->pid = h->pid;
    w->cores = h->cores;
    w->leaving = 0; /* a HELLO again: it serves trials */
    w->alive = 0; /* touch_worker records the state */
    touch_worker(c, w, pipe_id);

    hp_buf_t caps = {0};
    capabilities_json(h, &caps);
    char err[256];
    hp_worker_def_t def = {.id = w->id_str, .host = w->host, .cores = (int)h->cores,
                           .slots = (int)h->slots, .capabilities = caps.data};
    if (coord_write_begin(c) < 0 ||
        hp_store_worker_upsert(c->store, &def, err, sizeof err) < 0) {
        coord_reply_error(c, req, HP_EDB, "cannot record worker: %s", err);
        hp_buf_fini(&caps);
        return;
    }
    hp_store_event_append(c->store, "worker_hello", 0, 0, w->id_str, w->host, err, sizeof err);
    hp_buf_fini(&caps);
    hp_log_info("worker %s joined from %s (pid %u, %u slot%s)", w->id_str, w->host, h->pid,
                h->slots, h->slots == 1 ? "" : "s");

    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__HelloReply r = HPSEARCH__HELLO_REPLY__INIT;
    r.worker_id = w->id;
    r.heartbeat_ms = (uint32_t)c->cfg.heartbeat_ms;
    r.lease_ms = (uint32_t)c->cfg.lease_ms;
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__HELLO_REPLY, &r);
    env.worker_id = w->id;
    coord_reply(c, req, &env);
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
    Hpsearch__Envelope *e = coord_decode_request(c, req, buf, len, "worker");
    if (!e)
        return;
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
