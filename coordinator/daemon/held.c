/* Idle worker slots: a GET_TRIAL (or a RESULT with next) is held open,
 * oldest first, until the scheduler has a trial for it or there is
 * nothing to wait for, when it gets NO_TRIAL. A held RESULT's
 * acknowledgement rides on whichever reply it gets. */
#include "coord_int.h"

#include "log.h"

#include <string.h>

Hpsearch__Ack *coord_held_ack(const coord_held_t *h, Hpsearch__Ack *ack)
{
    if (!h->has_ack)
        return NULL;
    hpsearch__ack__init(ack);
    ack->stop = h->ack_stop;
    ack->reason = (char *)h->ack_reason;
    return ack;
}

void coord_reply_no_trial(coord_t *c, const coord_held_t *h, uint32_t retry_ms,
                          int shutting_down)
{
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__NoTrial nt = HPSEARCH__NO_TRIAL__INIT;
    Hpsearch__Ack ack;
    nt.retry_ms = retry_ms;
    nt.shutting_down = shutting_down;
    nt.result_ack = coord_held_ack(h, &ack);
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__NO_TRIAL, &nt);
    coord_reply(c, h->req, &env);
}

/* Every held request keeps one of the worker socket's contexts. Were all
 * of them held, nothing else could be received until a trial freed one —
 * no HELLO, so new workers never join, and no heartbeat, so every worker
 * looks silent and running trials' leases expire. An eighth of the
 * contexts (2..256) is therefore never held. */
static size_t held_limit(const coord_t *c)
{
    size_t n = (size_t)c->cfg.worker_contexts, reserve = n / 8;
    reserve = reserve < 2 ? 2 : reserve > 256 ? 256 : reserve;
    return n > reserve ? n - reserve : 1;
}

/* Sends an idle request away (ask again after a heartbeat interval), and
 * says so at most once a minute. */
static void refuse_hold(coord_t *c, const coord_held_t *h)
{
    c->held_refused++;
    uint64_t now = coord_now_ms(c);
    if (c->held_full_warned_ms == 0 || now - c->held_full_warned_ms >= 60000) {
        hp_log_warn("%zu idle worker slots hold %zu of the %lld worker contexts, the most "
                    "that may be held (the rest stay free for HELLOs, heartbeats and "
                    "results): %llu idle request%s told to ask again; raise worker-contexts "
                    "to at least the slots plus the worker processes",
                    c->held.n, c->held.n, (long long)c->cfg.worker_contexts,
                    (unsigned long long)c->held_refused, c->held_refused == 1 ? "" : "s");
        c->held_full_warned_ms = now ? now : 1;
        c->held_refused = 0;
    }
    coord_reply_no_trial(c, h, (uint32_t)c->cfg.heartbeat_ms, 0);
}

void coord_held_add(coord_t *c, const coord_held_t *h)
{
    if (c->shutting_down) {
        coord_reply_no_trial(c, h, 1000, 1);
        return;
    }
    /* A REQ resend of the same request replaces the earlier hold: the
     * client discards replies to the old one. */
    for (size_t i = 0; i < c->held.n; i++) {
        coord_held_t *old = &c->held.v[i];
        if (old->worker_id == h->worker_id && old->seq == h->seq) {
            coord_reply_no_trial(c, old, 1000, 0);
            *old = *h;
            c->schedule_needed = 1;
            return;
        }
    }
    if (c->held.n >= held_limit(c)) {
        refuse_hold(c, h);
        return;
    }
    HP_VEC_PUSH(c->held, *h);
    c->schedule_needed = 1;
}

int coord_held_pop(coord_t *c, coord_held_t *out)
{
    while (c->held.n) {
        *out = c->held.v[0];
        memmove(&c->held.v[0], &c->held.v[1], (c->held.n - 1) * sizeof *c->held.v);
        c->held.n--;
        coord_worker_t *w = coord_worker_by_id(c, out->worker_id);
        if (w && w->alive && !w->leaving)
            return 1;
        coord_reply_no_trial(c, out, 1000, w && w->leaving);
    }
    return 0;
}

void coord_held_unpop(coord_t *c, const coord_held_t *h)
{
    HP_VEC_RESERVE(c->held, c->held.n + 1);
    memmove(&c->held.v[1], &c->held.v[0], c->held.n * sizeof *c->held.v);
    c->held.v[0] = *h;
    c->held.n++;
}

void coord_held_release(coord_t *c, int shutting_down)
{
    for (size_t i = 0; i < c->held.n; i++)
        coord_reply_no_trial(c, &c->held.v[i], 1000, shutting_down);
    c->held.n = 0;
}

void coord_held_drop_pipe(coord_t *c, uint32_t pipe_id)
{
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
