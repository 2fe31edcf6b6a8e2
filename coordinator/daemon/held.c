/* Idle worker slots: a GET_TRIAL (or a RESULT with next) is held open,
 * oldest first, until the scheduler has a trial for it or there is
 * nothing to wait for, when it gets NO_TRIAL. A held RESULT's
 * acknowledgement rides on whichever reply it gets. */
#include "coord_int.h"

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
