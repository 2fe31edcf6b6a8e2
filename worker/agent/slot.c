/* One slot: keep a GET_TRIAL outstanding, run the trial it brings in a
 * runner thread, pump its progress to the coordinator, deliver the RESULT.
 * The slot thread owns the slot's REQ context; the runner thread only
 * queues progress (under a->mu) and never touches nng. */
#include "agent_int.h"

#include "capture.h"

#include "clock.h"
#include "err.h"
#include "error_analysis.h"
#include "log.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct run_arg {
    slot_t *s;
    hp_runner_trial_t t;
    hp_runner_opts_t opts;
    hp_runner_outcome_t out;
} run_arg_t;

static int request_timeout(const hp_agent_t *a)
{
    return a->o.request_timeout_ms > 0 ? a->o.request_timeout_ms : 10000;
}

/* --max-trials: a slot takes a reservation before every request that can
 * bring a trial (GET_TRIAL, RESULT with next), so the worker never takes
 * more than max_trials; a reply without a trial gives it back. Returns 0
 * when the worker has taken (or may yet take) all it may. */
static int ticket_take(slot_t *s)
{
    hp_agent_t *a = s->a;
    if (a->o.max_trials <= 0)
        return 1;
    pthread_mutex_lock(&a->mu);
    int ok = s->ticket || a->trials_taken + a->trials_reserved < a->o.max_trials;
    if (ok && !s->ticket) {
        s->ticket = 1;
        a->trials_reserved++;
    }
    pthread_mutex_unlock(&a->mu);
    return ok;
}

/* The reply to a request that held a reservation: a trial (taken) or not. */
static void ticket_settle(slot_t *s, int got_trial)
{
    hp_agent_t *a = s->a;
    pthread_mutex_lock(&a->mu);
    if (s->ticket) {
        s->ticket = 0;
        a->trials_reserved--;
        a->trials_taken += got_trial;
    }
    pthread_mutex_unlock(&a->mu);
}

/* The slot serves no more: the last one out after --max-trials ends the
 * agent (its trials have all been reported). */
static void slot_leave(slot_t *s, int done)
{
    hp_agent_t *a = s->a;
    pthread_mutex_lock(&a->mu);
    int last = --a->slots_active == 0 && done && !a->stopping;
    int taken = a->trials_taken;
    pthread_mutex_unlock(&a->mu);
    if (last) {
        hp_log_info("ran %d trial%s (--max-trials %d): leaving", taken, taken == 1 ? "" : "s",
                    a->o.max_trials);
        hp_agent_stop(a);
    }
}

/* The runner of a built-in model waits (a->mu held) until the report it
 * queued as number `mine` is answered, so the coordinator's stop is seen
 * before the next epoch. Bounded: the report's own RPC gives up after
 * the request timeout, and the wait after twice that. */
static void await_answer(slot_t *s, uint64_t mine)
{
    hp_agent_t *a = s->a;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* verdict_cv's clock (hp_agent_new) */
    int ms = 2 * request_timeout(a);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (s->q_answered < mine && !a->stopping)
        if (pthread_cond_timedwait(&s->verdict_cv, &a->mu, &ts) != 0) {
            hp_log_debug("slot %u: no answer to the report of this epoch; training goes on",
                         s->idx);
            break;
        }
}

static void on_progress(int64_t step, const hp_runner_metric_t *m, size_t n, void *data)
{
    slot_t *s = data;
    hp_agent_t *a = s->a;
    progress_item_t *it = malloc(sizeof *it + n * sizeof *m);
    HP_ASSERT(it);
    it->next = NULL;
    it->step = step;
    it->n = n;
    memcpy(it->m, m, n * sizeof *m);
    pthread_mutex_lock(&a->mu);
    if (s->q_len >= PROGRESS_QUEUE_MAX) { /* the coordinator is slow or away */
        progress_item_t *old = s->q_head;
        s->q_head = old->next;
        if (!s->q_head)
            s->q_tail = NULL;
        s->q_len--;
        s->q_dropped++;
        s->q_answered++; /* given up on */
        free(old);
    }
    if (s->q_tail)
        s->q_tail->next = it;
    else
        s->q_head = it;
    s->q_tail = it;
    s->q_len++;
    uint64_t mine = ++s->q_queued;
    pthread_cond_signal(&s->cv);
    if (s->await_verdict)
        await_answer(s, mine);
    pthread_mutex_unlock(&a->mu);
}

static void *run_main(void *arg)
{
    run_arg_t *r = arg;
    hp_runner_run(&r->t, &r->opts, on_progress, r->s, &r->s->cancel, &r->out);
    pthread_mutex_lock(&r->s->a->mu);
    r->s->run_done = 1;
    pthread_cond_signal(&r->s->cv);
    pthread_mutex_unlock(&r->s->a->mu);
    return NULL;
}

static Hpsearch__Metric **metrics_msg(const hp_runner_metric_t *m, size_t n,
                                      Hpsearch__Metric **store)
{
    Hpsearch__Metric *ms = calloc(n ? n : 1, sizeof *ms);
    Hpsearch__Metric **mp = calloc(n ? n : 1, sizeof *mp);
    HP_ASSERT(ms && mp);
    for (size_t i = 0; i < n; i++) {
        hpsearch__metric__init(&ms[i]);
        ms[i].name = (char *)m[i].name;
        ms[i].value = m[i].value;
        mp[i] = &ms[i];
    }
    *store = ms;
    return mp;
}

static void send_progress(slot_t *s, const progress_item_t *it)
{
    hp_agent_t *a = s->a;
    Hpsearch__LeaseRef lease = HPSEARCH__LEASE_REF__INIT;
    Hpsearch__Progress p = HPSEARCH__PROGRESS__INIT;
    Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT, *rep;
    Hpsearch__Metric *ms;
    pthread_mutex_lock(&a->mu);
    lease.trial_id = s->trial_id;
    lease.lease_id = s->lease_id;
    pthread_mutex_unlock(&a->mu);
    p.lease = &lease;
    p.step = it->step;
    p.n_metrics = it->n;
    p.metrics = metrics_msg(it->m, it->n, &ms);
    hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__PROGRESS, &p);
    char err[512];
    uint64_t gen;
    int rc = hp_agent_rpc(a, s->ctx, &req, &rep, request_timeout(a), NULL, &gen, err, sizeof err);
    /* a coordinator that restarted knows this worker again once it has
     * said HELLO (and keeps the lease for a while): the report is sent
     * again then, not lost, so the rule still judges that step */
    for (int again = 0; (rc == HP_ENOENT || rc == HP_ESESSION) && again < 2; again++) {
        hp_agent_need_hello(a, gen);
        if (!hp_agent_wait_registered(a))
            break;
        rc = hp_agent_rpc(a, s->ctx, &req, &rep, request_timeout(a), NULL, &gen, err,
                          sizeof err);
    }
    free(ms);
    free(p.metrics);
    if (rc == HP_ENOENT || rc == HP_ESESSION) {
        hp_agent_need_hello(a, gen);
    } else if (rc == HP_EAUTH || rc == HP_EVERSION) {
        hp_agent_fatal(a, rc, err);
    } else if (rc < 0) {
        hp_log_debug("progress of trial %u not delivered: %s", s->number, err);
    } else {
        if (rep->type == HPSEARCH__MSG_TYPE__ACK && rep->ack && rep->ack->stop) {
            hp_log_info("the coordinator stops trial %u: %s", s->number,
                        rep->ack->reason && *rep->ack->reason ? rep->ack->reason : "no reason given");
            pthread_mutex_lock(&a->mu);
            hp_slot_cancel(s, rep->ack->reason && *rep->ack->reason ? rep->ack->reason
                                                                     : "stopped by the coordinator");
            pthread_mutex_unlock(&a->mu);
        }
        hp_proto_free(rep);
    }
}

static Hpsearch__TrialOutcome outcome_of(const slot_t *s, const hp_runner_outcome_t *o)
{
    switch (o->status) {
    case HP_RUNNER_COMPLETED:
        return HPSEARCH__TRIAL_OUTCOME__COMPLETED;
    case HP_RUNNER_CANCELLED:
        if (s->interrupted)
            return HPSEARCH__TRIAL_OUTCOME__INTERRUPTED;
        return strstr(s->cancel_reason, "prune") ? HPSEARCH__TRIAL_OUTCOME__PRUNED
                                                 : HPSEARCH__TRIAL_OUTCOME__CANCELLED;
    default:
        return HPSEARCH__TRIAL_OUTCOME__FAILED;
    }
}

/* A RESULT carries each output stream whole up to its cap: two of them
 * with everything else a RESULT holds stay inside the message limit, and
 * each inside the decoder's bound for one field (proto/codec.h). */
#define RESULT_REST_MAX                                                                        \
    (HP_RUNNER_ERROR_MAX + 160 + HP_RUNNER_STDERR_TAIL + 1 +                                  \
     HP_RUNNER_MAX_METRICS * (HP_METRIC_NAME_MAX + 16) + 4096 + HP_PROTO_MAX_TOKEN +       \
     ERRORS_MAX)
/* an ErrorAnalysis: varint counts and the worst examples with pixels */
#define ERRORS_MAX                                                                             \
    (64 + 11 * HP_EA_MAX_CLASSES * HP_EA_MAX_CLASSES + HP_EA_WORST * (64 + HP_EA_MAX_PIXELS))
_Static_assert(HP_CAPTURE_MAX <= HP_PROTO_MAX_STRING, "an output stream exceeds a field's bound");
_Static_assert(2 * (size_t)HP_CAPTURE_MAX + RESULT_REST_MAX < HP_PROTO_MAX_MSG,
               "a RESULT with both output streams could exceed HP_PROTO_MAX_MSG");

/* A RESULT message and the storage it points into. */
typedef struct result_msg {
    Hpsearch__LeaseRef lease;
    Hpsearch__Result r;
    Hpsearch__Envelope req;
    Hpsearch__Metric *ms;
    char error[HP_RUNNER_ERROR_MAX + 160];
} result_msg_t;

static void result_msg_init(result_msg_t *m, slot_t *s, uint64_t trial_id, uint64_t lease_id,
                            const hp_runner_outcome_t *o)
{
    hp_agent_t *a = s->a;
    hpsearch__lease_ref__init(&m->lease);
    hpsearch__result__init(&m->r);
    hpsearch__envelope__init(&m->req);
    m->lease.trial_id = trial_id;
    m->lease.lease_id = lease_id;
    m->r.lease = &m->lease;
    pthread_mutex_lock(&a->mu);
    m->r.outcome = outcome_of(s, o);
    if (o->status == HP_RUNNER_CANCELLED && s->interrupted)
        snprintf(m->error, sizeof m->error, "interrupted: %s", s->cancel_reason);
    else if (o->status == HP_RUNNER_CANCELLED && s->cancel_reason[0])
        snprintf(m->error, sizeof m->error, "%s: %s", o->error, s->cancel_reason);
    else
        snprintf(m->error, sizeof m->error, "%s", o->error);
    pthread_mutex_unlock(&a->mu);
    m->r.value = o->status == HP_RUNNER_COMPLETED ? o->value : 0;
    m->r.n_metrics = o->n_metrics;
    m->r.metrics = metrics_msg(o->metrics, o->n_metrics, &m->ms);
    m->r.error = m->error;
    m->r.stderr_tail = (char *)o->stderr_tail;
    m->r.duration_s = o->duration_s;
    /* what an external program wrote (built-in trials have none) */
    m->r.stdout_text = (ProtobufCBinaryData){o->stdout_len, (uint8_t *)o->stdout_text};
    m->r.stderr_text = (ProtobufCBinaryData){o->stderr_len, (uint8_t *)o->stderr_text};
    m->r.errors = hp_agent_errors_msg(o->errors);
    hp_proto_set_body(&m->req, HPSEARCH__MSG_TYPE__RESULT, &m->r);
    /* cannot happen (the asserts above); if it did, the result still goes */
    if (hpsearch__envelope__get_packed_size(&m->req) > HP_PROTO_MAX_MSG) {
        hp_log_warn("the output of a trial would make its RESULT too large; not sent");
        m->r.stdout_text = m->r.stderr_text = (ProtobufCBinaryData){0, NULL};
    }
}

static void result_msg_fini(result_msg_t *m)
{
    hp_agent_errors_msg_free(m->r.errors);
    free(m->ms);
    free(m->r.metrics);
}

static void log_refused(const Hpsearch__Ack *ack, uint32_t number, uint64_t lease_id)
{
    if (ack && ack->stop)
        hp_log_warn("the coordinator refused the result of trial %u (lease %llu): %s", number,
                    (unsigned long long)lease_id, ack->reason ? ack->reason : "");
}

/* Delivers a result until it is acknowledged (resending on timeouts,
 * saying HELLO again after a coordinator restart), or until shutdown's
 * deadline passes. */
static void send_result(slot_t *s, result_msg_t *m, uint32_t number)
{
    hp_agent_t *a = s->a;
    Hpsearch__Envelope *rep;
    uint64_t lease_id = m->lease.lease_id;
    int backoff = 250;
    char err[512];
    for (;;) {
        pthread_mutex_lock(&a->mu);
        int stopping = a->stopping, registered = a->registered;
        double left = a->stop_deadline - hp_clock_now();
        pthread_mutex_unlock(&a->mu);
        int tmo = request_timeout(a);
        if (stopping) {
            if (left <= 0 || !registered) {
                hp_log_warn("stopping before the result of trial %u (lease %llu) was "
                            "acknowledged; its lease will expire", number,
                            (unsigned long long)lease_id);
                break;
            }
            if (left * 1000 < tmo)
                tmo = (int)(left * 1000) + 1;
        } else if (!registered && !hp_agent_wait_registered(a)) {
            continue; /* stopping now: one last try above */
        }
        uint64_t gen;
        int rc = hp_agent_rpc(a, s->ctx, &m->req, &rep, tmo, NULL, &gen, err, sizeof err);
        if (rc == 0) {
            if (rep->type == HPSEARCH__MSG_TYPE__ACK)
                log_refused(rep->ack, number, lease_id);
            else
                hp_log_warn("RESULT got %s instead of ACK", hp_proto_type_name(rep->type));
            hp_proto_free(rep);
            break;
        }
        if (rc == HP_ENOENT || rc == HP_ESESSION) {
            hp_agent_need_hello(a, gen);
            continue;
        }
        if (rc == HP_EAUTH || rc == HP_EVERSION) {
            hp_agent_fatal(a, rc, err);
            break;
        }
        if (rc != HP_ETIMEDOUT) {
            hp_log_warn("result of trial %u: %s (retrying)", number, err);
            hp_agent_sleep(a, backoff);
            backoff = backoff < 8000 ? backoff * 2 : backoff;
        } else {
            hp_log_debug("result of trial %u not acknowledged yet; resending", number);
        }
    }
}

/* Delivers a result and asks for the slot's next trial in the same
 * exchange (RESULT with next): one round trip per trial instead of two.
 * The coordinator holds it like a GET_TRIAL. Returns the TRIAL or NO_TRIAL
 * reply; NULL when the result was acknowledged without one (*delivered
 * set) or when it was not delivered (*delivered clear: fall back to
 * send_result). */
static Hpsearch__Envelope *send_result_next(slot_t *s, result_msg_t *m, uint32_t number,
                                            int *delivered)
{
    hp_agent_t *a = s->a;
    *delivered = 0;
    pthread_mutex_lock(&a->mu);
    int ok = !a->stopping && a->registered;
    pthread_mutex_unlock(&a->mu);
    if (!ok)
        return NULL;
    Hpsearch__Envelope *rep;
    uint64_t gen;
    char err[512];
    m->r.next = 1;
    int rc = hp_agent_rpc(a, s->ctx, &m->req, &rep, -1, &s->hold_aio, &gen, err, sizeof err);
    m->r.next = 0;
    if (rc < 0) {
        if (rc == HP_ENOENT || rc == HP_ESESSION)
            hp_agent_need_hello(a, gen);
        else if (rc == HP_EAUTH || rc == HP_EVERSION)
            hp_agent_fatal(a, rc, err);
        return NULL;
    }
    *delivered = 1;
    if (rep->type == HPSEARCH__MSG_TYPE__TRIAL && rep->trial) {
        log_refused(rep->trial->result_ack, number, m->lease.lease_id);
        return rep;
    }
    if (rep->type == HPSEARCH__MSG_TYPE__NO_TRIAL && rep->no_trial) {
        log_refused(rep->no_trial->result_ack, number, m->lease.lease_id);
        return rep;
    }
    if (rep->type == HPSEARCH__MSG_TYPE__ACK) /* a coordinator without `next` */
        log_refused(rep->ack, number, m->lease.lease_id);
    else
        hp_log_warn("RESULT got %s", hp_proto_type_name(rep->type));
    hp_proto_free(rep);
    return NULL;
}

/* How long a program killed by a SIGTERM the worker did not send waits
 * for the worker's own (see judge_outside_stop). */
#define OUTSIDE_STOP_WAIT_MS 2000

/* A scheduler ends a job by signalling every process in it at once (Slurm
 * at a time limit, systemd's default KillMode): the trial's program may
 * die of that SIGTERM before the worker, signalled at the same moment,
 * has stopped it. That is the worker's stop, not the trial's failure:
 * when the worker's own stop follows within OUTSIDE_STOP_WAIT_MS, the
 * trial is interrupted (back to pending, no retry spent). */
static void judge_outside_stop(slot_t *s, hp_runner_outcome_t *out)
{
    hp_agent_t *a = s->a;
    hp_agent_sleep(a, OUTSIDE_STOP_WAIT_MS); /* returns at once on a stop */
    pthread_mutex_lock(&a->mu);
    /* hp_agent_stop interrupted this slot: it is still busy */
    if (s->interrupted)
        out->status = HP_RUNNER_CANCELLED;
    pthread_mutex_unlock(&a->mu);
}

/* Runs one trial and delivers its result; returns the reply that carries
 * the slot's next trial (or NO_TRIAL), or NULL when the slot must ask. */
static Hpsearch__Envelope *run_trial(slot_t *s, const Hpsearch__Trial *tr)
{
    hp_agent_t *a = s->a;
    run_arg_t *r = calloc(1, sizeof *r);
    hp_runner_param_t *params = calloc(tr->n_params ? tr->n_params : 1, sizeof *params);
    HP_ASSERT(r && params);
    /* the trial's params, then the placeholder-only defaults of inactive
     * conditional parameters (runner.h), in one array */
    size_t np = 0, nd = 0;
    for (size_t pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < tr->n_params; i++) {
            if ((tr->params[i]->placeholder_only != 0) != (pass == 1))
                continue;
            hp_runner_param_t *q = &params[np + nd];
            q->name = tr->params[i]->name ? tr->params[i]->name : "";
            q->value = tr->params[i]->value ? tr->params[i]->value : "";
            if (pass == 0)
                np++;
            else
                nd++;
        }
    r->s = s;
    r->t = (hp_runner_trial_t){.number = tr->number,
                               .seed = tr->seed,
                               .study_seed = tr->study_seed,
                               .params = params,
                               .n_params = np,
                               .defaults = params + np,
                               .n_defaults = nd,
                               .params_json = tr->params_json,
                               .trial_json = tr->trial_json,
                               .objective = tr->objective,
                               .timeout_s = tr->timeout_s};
    /* the study's trial.kill_grace; the worker's own for a coordinator
     * that does not send one (up to an hour, as the spec allows) */
    r->opts.kill_grace_ms = isfinite(tr->kill_grace_s) && tr->kill_grace_s > 0 &&
                                    tr->kill_grace_s <= 3600
                                ? (int)(tr->kill_grace_s * 1000.0 + 0.5)
                                : a->o.kill_grace_ms;
    if (r->opts.kill_grace_ms < 1 && tr->kill_grace_s > 0)
        r->opts.kill_grace_ms = 1;
    r->opts.blas_threads = a->blas_threads;
    r->opts.data_cache = a->data_cache;

    pthread_mutex_lock(&a->mu);
    hp_cancel_reset(&s->cancel);
    s->cancel_reason[0] = '\0';
    s->interrupted = 0;
    s->busy = 1;
    s->trial_id = tr->trial_id;
    s->number = tr->number;
    s->lease_id = tr->lease_id;
    s->run_done = 0;
    s->await_verdict = hp_runner_awaits_verdict(&r->t);
    s->q_queued = s->q_answered = 0;
    if (a->stopping)
        hp_slot_interrupt(s);
    pthread_mutex_unlock(&a->mu);
    hp_log_info("slot %u: trial %u of study '%s' (attempt %u, lease %llu)", s->idx, tr->number,
                tr->study_name ? tr->study_name : "", tr->attempt,
                (unsigned long long)tr->lease_id);

    pthread_t thr;
    /* a benchmark function finishes in microseconds: a thread per trial
     * would cost more than the trial */
    int quick = hp_runner_is_quick(&r->t), started = 1;
    if (quick)
        run_main(r);
    else
        started = pthread_create(&thr, NULL, run_main, r) == 0;
    if (!started) {
        memset(&r->out, 0, sizeof r->out);
        r->out.status = HP_RUNNER_FAILED;
        snprintf(r->out.error, sizeof r->out.error, "worker cannot start a thread");
    }
    pthread_mutex_lock(&a->mu);
    for (;;) {
        if (s->q_head) {
            progress_item_t *it = s->q_head;
            s->q_head = it->next;
            if (!s->q_head)
                s->q_tail = NULL;
            s->q_len--;
            int stopping = a->stopping;
            pthread_mutex_unlock(&a->mu);
            if (!stopping) /* at shutdown only the result matters */
                send_progress(s, it);
            free(it);
            pthread_mutex_lock(&a->mu);
            s->q_answered++; /* a stop it brought is already raised */
            pthread_cond_broadcast(&s->verdict_cv);
            continue;
        }
        if (!started || s->run_done)
            break;
        pthread_cond_wait(&s->cv, &a->mu);
    }
    if (s->q_dropped) {
        hp_log_warn("trial %u: %llu progress reports dropped (coordinator slow or away)",
                    tr->number, (unsigned long long)s->q_dropped);
        s->q_dropped = 0;
    }
    pthread_mutex_unlock(&a->mu);
    if (started && !quick)
        pthread_join(thr, NULL);

    const hp_runner_outcome_t *o = &r->out;
    if (o->status == HP_RUNNER_FAILED &&
        (o->term_signal == SIGTERM || o->term_signal == SIGINT))
        judge_outside_stop(s, &r->out);
    if (o->status == HP_RUNNER_COMPLETED)
        hp_log_info("trial %u completed: %s=%g (%.1f s)", tr->number, tr->objective, o->value,
                    o->duration_s);
    pthread_mutex_lock(&a->mu);
    int interrupted = o->status == HP_RUNNER_CANCELLED && s->interrupted;
    pthread_mutex_unlock(&a->mu);
    if (interrupted)
        hp_log_info("trial %u interrupted: it goes back to pending and runs again", tr->number);
    else if (o->status != HP_RUNNER_COMPLETED)
        hp_log_info("trial %u %s: %s", tr->number,
                    o->status == HP_RUNNER_CANCELLED ? "cancelled" : "failed", o->error);
    pthread_mutex_lock(&a->mu);
    s->busy = 0; /* a heartbeat from now on must not list the finished lease */
    a->last_busy = hp_clock_now(); /* --exit-when-idle counts from here */
    pthread_mutex_unlock(&a->mu);
    result_msg_t m;
    result_msg_init(&m, s, tr->trial_id, tr->lease_id, o);
    int delivered = 0;
    /* the next trial rides on the result unless --max-trials is reached;
     * the reservation is settled by whoever reads the reply */
    Hpsearch__Envelope *next =
        ticket_take(s) ? send_result_next(s, &m, tr->number, &delivered) : NULL;
    if (!next)
        ticket_settle(s, 0);
    if (!delivered)
        send_result(s, &m, tr->number);
    result_msg_fini(&m);
    hp_runner_outcome_fini(&r->out);
    free(params);
    free(r);
    return next;
}

void *hp_slot_main(void *arg)
{
    slot_t *s = arg;
    hp_agent_t *a = s->a;
    int backoff = 250, max_backoff = a->o.max_backoff_ms > 0 ? a->o.max_backoff_ms : 30000;
    char err[512];
    Hpsearch__Envelope *next = NULL; /* a reply that came with the last result */
    int done = 0;                    /* --max-trials reached */
    while (hp_agent_wait_registered(a)) {
        Hpsearch__Envelope *rep;
        if (next) {
            rep = next;
            next = NULL;
            goto got_reply;
        }
        if (!ticket_take(s)) {
            done = 1;
            break;
        }
        Hpsearch__GetTrial gt = HPSEARCH__GET_TRIAL__INIT;
        gt.slot = s->idx;
        Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT;
        hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__GET_TRIAL, &gt);
        uint64_t gen;
        /* held by the coordinator until a trial is ready: no timeout */
        int rc = hp_agent_rpc(a, s->ctx, &req, &rep, -1, &s->hold_aio, &gen, err, sizeof err);
        if (rc < 0)
            ticket_settle(s, 0);
        if (rc == HP_ECANCELED || rc == HP_ECLOSED)
            continue;
        if (rc == HP_ENOENT || rc == HP_ESESSION) {
            hp_agent_need_hello(a, gen);
            continue;
        }
        if (rc == HP_EAUTH || rc == HP_EVERSION) {
            hp_agent_fatal(a, rc, err);
            break;
        }
        if (rc < 0) {
            hp_log_warn("slot %u: GET_TRIAL: %s (retrying in %d ms)", s->idx, err, backoff);
            hp_agent_sleep(a, backoff);
            backoff = backoff * 2 > max_backoff ? max_backoff : backoff * 2;
            continue;
        }
    got_reply:
        ticket_settle(s, rep->type == HPSEARCH__MSG_TYPE__TRIAL && rep->trial);
        if (rep->type == HPSEARCH__MSG_TYPE__TRIAL && rep->trial) {
            backoff = 250;
            next = run_trial(s, rep->trial);
        } else if (rep->type == HPSEARCH__MSG_TYPE__NO_TRIAL && rep->no_trial) {
            uint32_t ms = rep->no_trial->retry_ms;
            if (!rep->no_trial->shutting_down)
                hp_log_debug("slot %u: no trial; asking again in %u ms", s->idx, ms);
            hp_agent_sleep(a, ms ? (int)(ms > 600000 ? 600000 : ms) : 1000);
        } else {
            hp_log_warn("slot %u: GET_TRIAL got %s", s->idx, hp_proto_type_name(rep->type));
            hp_agent_sleep(a, backoff);
        }
        hp_proto_free(rep);
    }
    hp_proto_free(next);
    ticket_settle(s, 0);
    slot_leave(s, done);
    return NULL;
}
