/* The worker side of the protocol (docs/protocol.md): HELLO, HEARTBEAT,
 * GET_TRIAL, PROGRESS and RESULT, each checked against the lease it
 * quotes, so a late message from an expired attempt never changes a
 * trial. */
#include "coord_int.h"

#include "err.h"
#include "log.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_auth(coord_t *c, const Hpsearch__Envelope *e)
{
    if (c->cfg.token_len == 0)
        return 1;
    return hp_proto_token_equal(&e->auth_token, c->cfg.token, c->cfg.token_len);
}

Hpsearch__Envelope *coord_decode_request(coord_t *c, hp_rep_req_t *req, const void *buf,
                                          size_t len, const char *socket)
{
    Hpsearch__Envelope *e;
    char err[512];
    int rc = hp_proto_decode(buf, len, &e, err, sizeof err);
    if (rc < 0) {
        hp_log_warn("%s socket: refused a %zu-byte message: %s", socket, len, err);
        coord_reply_error(c, req, rc, "%s", err);
        return NULL;
    }
    if (!check_auth(c, e)) {
        hp_log_warn("%s socket: %s with a missing or wrong token", socket,
                    hp_proto_type_name(e->type));
        coord_reply_error(c, req, HP_EAUTH, "missing or wrong auth token");
        hp_proto_free(e);
        return NULL;
    }
    return e;
}

static void reply_ack(coord_t *c, hp_rep_req_t *req, int stop, const char *reason)
{
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Ack ack = HPSEARCH__ACK__INIT;
    ack.stop = stop;
    ack.reason = (char *)(reason ? reason : "");
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__ACK, &ack);
    coord_reply(c, req, &env);
}

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
    w->alive = 0; /* touch_worker records the state */
    touch_worker(c, w, pipe_id);

    hp_buf_t caps = {0};
    hp_buf_puts(&caps, "{\"pid\":");
    hp_buf_printf(&caps, "%u,\"blas\":", h->pid);
    hp_buf_json_string(&caps, h->blas ? h->blas : "");
    hp_buf_puts(&caps, ",\"version\":");
    hp_buf_json_string(&caps, h->software_version ? h->software_version : "");
    hp_buf_puts(&caps, ",\"models\":[");
    for (size_t i = 0; i < h->n_models; i++) {
        if (i)
            hp_buf_putc(&caps, ',');
        hp_buf_json_string(&caps, h->models[i]);
    }
    hp_buf_puts(&caps, "],\"functions\":[");
    for (size_t i = 0; i < h->n_functions; i++) {
        if (i)
            hp_buf_putc(&caps, ',');
        hp_buf_json_string(&caps, h->functions[i]);
    }
    hp_buf_puts(&caps, "]}");
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
    hp_log_info("worker %s joined from %s (pid %u, %u slots)", w->id_str, w->host, h->pid,
                h->slots);

    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__HelloReply r = HPSEARCH__HELLO_REPLY__INIT;
    r.worker_id = w->id;
    r.heartbeat_ms = (uint32_t)c->cfg.heartbeat_ms;
    r.lease_ms = (uint32_t)c->cfg.lease_ms;
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__HELLO_REPLY, &r);
    env.worker_id = w->id;
    coord_reply(c, req, &env);
}

/* Renews the lease; returns the run, or NULL when the lease is not this
 * worker's running attempt any more. */
static coord_run_t *find_lease(coord_t *c, uint64_t worker_id, const Hpsearch__LeaseRef *l)
{
    coord_run_t *r = coord_run_by_trial(c, (int64_t)l->trial_id);
    if (!r || r->lease_id != (int64_t)l->lease_id)
        return NULL;
    if (r->worker_id != worker_id)
        return NULL;
    return r;
}

static void renew(coord_t *c, coord_run_t *r)
{
    r->expires_ms = coord_now_ms(c) + (uint64_t)c->cfg.lease_ms;
    if (r->sanity)
        return; /* not in the store */
    char err[256];
    if (coord_write_begin(c) == 0 &&
        hp_store_trial_renew(c->store, r->trial_id, r->lease_id,
                             hp_store_now() + (double)c->cfg.lease_ms / 1000.0, err,
                             sizeof err) < 0)
        hp_log_warn("trial %" PRId64 ": cannot renew lease %" PRId64 ": %s", r->trial_id,
                    r->lease_id, err);
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
        coord_run_t *r = find_lease(c, w->id, l);
        if (r)
            renew(c, r);
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
    if (c->shutting_down) {
        coord_reply_no_trial(c, &h, 1000, 1);
        return;
    }
    /* A REQ resend of the same request replaces the earlier hold: the
     * client discards replies to the old one. */
    for (size_t i = 0; i < c->held.n; i++) {
        coord_held_t *old = &c->held.v[i];
        if (old->worker_id == w->id && old->seq == e->seq) {
            coord_reply_no_trial(c, old, 1000, 0);
            *old = h;
            c->schedule_needed = 1;
            return;
        }
    }
    HP_VEC_PUSH(c->held, h);
    c->schedule_needed = 1;
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
        reply_ack(c, req, stop, reason);
        return;
    }
    coord_held_t ack = {.ack_stop = stop};
    snprintf(ack.ack_reason, sizeof ack.ack_reason, "%s", reason ? reason : "");
    hold(c, req, e, w, pipe_id, &ack);
}

static void store_metrics(coord_t *c, coord_run_t *r, int64_t step, Hpsearch__Metric **m,
                          size_t n)
{
    if (!n)
        return;
    hp_metric_t *ms = calloc(n, sizeof *ms);
    HP_ASSERT(ms != NULL);
    for (size_t i = 0; i < n; i++) {
        ms[i].trial_id = r->trial_id;
        ms[i].attempt = r->attempt;
        ms[i].step = step;
        ms[i].name = m[i]->name;
        ms[i].value = m[i]->value;
    }
    char err[256];
    if (coord_write_begin(c) == 0 &&
        hp_store_metrics_append(c->store, ms, n, err, sizeof err) < 0)
        hp_log_warn("trial %" PRId64 ": cannot store %zu metrics: %s", r->trial_id, n, err);
    free(ms);
}

static void on_progress(coord_t *c, hp_rep_req_t *req, const Hpsearch__Envelope *e,
                        coord_worker_t *w)
{
    const Hpsearch__Progress *p = e->progress;
    coord_run_t *r = find_lease(c, w->id, p->lease);
    if (!r) {
        reply_ack(c, req, 1, "lease expired or reassigned: stop this attempt");
        return;
    }
    renew(c, r);
    if (!r->sanity)
        store_metrics(c, r, p->step, p->metrics, p->n_metrics);
    coord_diagnose_progress(c, r, p->metrics, p->n_metrics);
    reply_ack(c, req, r->stop, r->stop ? r->stop_reason : NULL);
}

/* Step under which a RESULT's final metrics (e.g. test_error) are stored. */
#define FINAL_STEP (-1)

static void on_result(coord_t *c, hp_rep_req_t *req, const Hpsearch__Envelope *e,
                      coord_worker_t *w, uint32_t pipe_id)
{
    const Hpsearch__Result *res = e->result;
    coord_run_t *r = find_lease(c, w->id, res->lease);
    if (!r) {
        /* Nothing changes either way, and the worker can forget it; but a
         * resend of a result this lease already recorded (a worker that
         * was stopped while its RESULT-with-next was held, say) is not a
         * refusal, and saying "stop" would read as one. */
        hp_trial_t t;
        char err[256];
        int dup = res->lease->trial_id < (UINT64_C(1) << 62) &&
                  hp_store_trial_get(c->store, (int64_t)res->lease->trial_id, &t, err,
                                     sizeof err) == 0;
        if (dup) {
            dup = t.lease_id == (int64_t)res->lease->lease_id && t.state != HP_TRIAL_RUNNING &&
                  t.state != HP_TRIAL_PENDING;
            hp_trial_fini(&t);
        }
        if (dup)
            answer_result(c, req, e, w, pipe_id, 0, "already recorded");
        else
            answer_result(c, req, e, w, pipe_id, 1,
                          "no running attempt holds this lease (it expired or was reassigned)");
        return;
    }
    coord_study_t *s = r->study;
    if (r->sanity) {
        coord_sanity_result(c, r, res);
        answer_result(c, req, e, w, pipe_id, 0, NULL);
        return;
    }
    char err[512];
    if (coord_write_begin(c) < 0) {
        coord_reply_error(c, req, HP_EDB, "database unavailable; resend later");
        return;
    }
    store_metrics(c, r, FINAL_STEP, res->metrics, res->n_metrics);
    coord_baselines_result(c, r, res->metrics, res->n_metrics);
    coord_diagnose_end(c, r);
    int rc = 0;
    switch (res->outcome) {
    case HPSEARCH__TRIAL_OUTCOME__COMPLETED:
        if (!isfinite(res->value)) {
            char why[128];
            snprintf(why, sizeof why, "the objective '%s' is %s", s->spec.objective.metric,
                     isnan(res->value) ? "NaN" : "infinite");
            rc = hp_store_trial_fail(c->store, r->trial_id, r->lease_id, why, err, sizeof err);
            s->done++;
            break;
        }
        rc = hp_store_trial_complete(c->store, r->trial_id, r->lease_id, res->value, err,
                                     sizeof err);
        s->done++;
        break;
    case HPSEARCH__TRIAL_OUTCOME__FAILED: {
        char why[600];
        snprintf(why, sizeof why, "%s", res->error && *res->error ? res->error : "failed");
        if (res->stderr_tail && *res->stderr_tail) {
            const char *tail = res->stderr_tail;
            size_t tl = strlen(tail);
            if (tl > 300)
                tail += tl - 300;
            size_t wl = strlen(why);
            snprintf(why + wl, sizeof why - wl, "; stderr: %s", tail);
        }
        coord_trial_attempt_failed(c, r, HP_ATTEMPT_FAILED, why);
        answer_result(c, req, e, w, pipe_id, 0, NULL);
        return;
    }
    case HPSEARCH__TRIAL_OUTCOME__PRUNED:
        rc = hp_store_trial_prune(c->store, r->trial_id, r->lease_id,
                                  res->error && *res->error ? res->error : NULL, err, sizeof err);
        s->done++;
        break;
    default:
        rc = hp_store_trial_cancel(c->store, r->trial_id,
                                   r->stop ? r->stop_reason : "cancelled by the worker", err,
                                   sizeof err);
        s->done++;
        break;
    }
    if (rc < 0) {
        hp_log_error("trial %" PRId64 ": cannot record the result: %s", r->trial_id, err);
        coord_reply_error(c, req, rc, "cannot record the result: %s", err);
        return;
    }
    hp_log_debug("study %s trial %" PRIu64 " %s value %g", s->spec.name, r->number,
                 res->outcome == HPSEARCH__TRIAL_OUTCOME__COMPLETED ? "completed" : "ended",
                 res->value);
    uint64_t number = r->number;
    s->running--;
    coord_run_remove(c, r);
    c->schedule_needed = 1;
    int completed = res->outcome == HPSEARCH__TRIAL_OUTCOME__COMPLETED && isfinite(res->value);
    coord_study_trial_ended(c, s, number, completed ? HP_OBS_COMPLETED : HP_OBS_FAILED,
                            res->value);
    coord_study_maybe_finish(c, s);
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
    for (size_t i = 0; i < c->held.n;) {
        coord_held_t *h = &c->held.v[i];
        if (h->pipe_id == pipe_id) {
            coord_reply_no_trial(c, h, 1000, 0);
            memmove(&c->held.v[i], &c->held.v[i + 1], (c->held.n - i - 1) * sizeof *h);
            c->held.n--;
            continue;
        }
        i++;
    }
}
