/* The agent's shared session state and the helpers every thread uses on
 * it: the clock, sleeping and waiting on a->cv, losing the session (need a
 * HELLO), stopping (fatal or asked) and cancelling or interrupting one
 * slot's trial.
 *
 * This file sits below agent.c (lifecycle, HELLO, heartbeats) and slot.c
 * (one thread per slot): both call in, and it calls neither. It touches
 * nng only to cancel held aios, which is safe from any thread. */
#include "agent_int.h"

#include "clock.h"
#include "log.h"

#include <stdio.h>
#include <time.h>

/* a->cv runs on CLOCK_MONOTONIC (hp_agent_new), so deadlines do too */
static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int hp_agent_sleep(hp_agent_t *a, int ms)
{
    struct timespec ts;
    deadline_in(&ts, ms);
    pthread_mutex_lock(&a->mu);
    while (!a->stopping && pthread_cond_timedwait(&a->cv, &a->mu, &ts) == 0)
        ;
    int s = a->stopping;
    pthread_mutex_unlock(&a->mu);
    return s;
}

void hp_agent_wait_lost(hp_agent_t *a, int ms)
{
    struct timespec ts;
    deadline_in(&ts, ms);
    pthread_mutex_lock(&a->mu);
    while (!a->stopping && a->registered && pthread_cond_timedwait(&a->cv, &a->mu, &ts) == 0)
        ;
    pthread_mutex_unlock(&a->mu);
}

int hp_agent_wait_registered(hp_agent_t *a)
{
    pthread_mutex_lock(&a->mu);
    while (!a->stopping && !a->registered)
        pthread_cond_wait(&a->cv, &a->mu);
    int ok = !a->stopping;
    pthread_mutex_unlock(&a->mu);
    return ok;
}

void hp_agent_need_hello(hp_agent_t *a, uint64_t gen)
{
    pthread_mutex_lock(&a->mu);
    if (a->registered && a->gen == gen) {
        a->registered = 0;
        hp_log_warn("the coordinator no longer knows worker %llu; saying HELLO again",
                    (unsigned long long)a->worker_id);
        pthread_cond_broadcast(&a->cv);
    }
    pthread_mutex_unlock(&a->mu);
}

void hp_agent_fatal(hp_agent_t *a, int rc, const char *msg)
{
    pthread_mutex_lock(&a->mu);
    if (!a->fatal_rc) {
        a->fatal_rc = rc;
        snprintf(a->fatal_msg, sizeof a->fatal_msg, "%s", msg);
    }
    pthread_mutex_unlock(&a->mu);
    hp_agent_stop(a);
}

void hp_agent_stop(hp_agent_t *a)
{
    pthread_mutex_lock(&a->mu);
    if (!a->stopping) {
        a->stopping = 1;
        int grace = a->o.stop_grace_ms > 0 ? a->o.stop_grace_ms : 5000;
        a->stop_deadline = hp_clock_now() + grace / 1000.0;
        for (int i = 0; a->slots && i < a->o.slots; i++) {
            slot_t *s = &a->slots[i];
            if (s->hold_aio)
                nng_aio_cancel(s->hold_aio);
            if (s->busy)
                hp_slot_interrupt(s);
            pthread_cond_broadcast(&s->cv);
        }
        if (a->hb_hold)
            nng_aio_cancel(a->hb_hold);
        pthread_cond_broadcast(&a->cv);
    }
    pthread_mutex_unlock(&a->mu);
}

void hp_slot_cancel(slot_t *s, const char *reason)
{
    if (!hp_cancel_requested(&s->cancel))
        snprintf(s->cancel_reason, sizeof s->cancel_reason, "%s", reason);
    hp_cancel_request(&s->cancel);
}

void hp_slot_interrupt(slot_t *s)
{
    if (!hp_cancel_requested(&s->cancel))
        s->interrupted = 1;
    hp_slot_cancel(s, "the worker is shutting down");
}
