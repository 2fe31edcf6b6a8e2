/* agent_int.h — the agent's state and the calls between its files.
 *
 * Two files sit on top and never call each other: agent.c (lifecycle,
 * HELLO and heartbeats, on the thread that calls hp_agent_run) and slot.c
 * (one thread per slot). Both call down into session.c (the session state's
 * helpers: clock, waits, need-HELLO, fatal, stop, slot cancel) and rpc.c
 * (one exchange). session.c and rpc.c call nothing above them.
 *
 * Locking: a->mu guards the session fields, each slot's running-trial
 * fields and the held aios, as marked below; it is only ever held briefly.
 * a->cv is broadcast when registered or stopping changes; it and every
 * s->cv run on CLOCK_MONOTONIC. */
#ifndef HP_AGENT_INT_H
#define HP_AGENT_INT_H

#include "agent.h"
#include "cache.h"
#include "codec.h"
#include "nng_err.h"
#include "runner.h"
#include "token.h"

#include <nng/nng.h>
#include <pthread.h>
#include <stdint.h>

typedef struct hp_agent hp_agent_t;

typedef struct progress_item {
    struct progress_item *next;
    int64_t step;
    size_t n;
    hp_runner_metric_t m[];
} progress_item_t;

#define PROGRESS_QUEUE_MAX 256 /* older reports are dropped beyond this */

typedef struct slot {
    hp_agent_t *a;
    uint32_t idx;
    nng_ctx ctx;
    pthread_t thr;
    int thr_started;
    nng_aio *hold_aio; /* the outstanding GET_TRIAL, cancelled on stop (a->mu) */
    int ticket;        /* holds one of max_trials' reservations (a->mu) */
    /* the running trial; fields below are guarded by a->mu */
    int busy;
    uint64_t trial_id, lease_id;
    uint32_t number; /* the trial's per-study number, for log lines */
    hp_cancel_t cancel;
    char cancel_reason[128];
    /* the trial was stopped because the worker is (hp_slot_interrupt): its
     * RESULT says INTERRUPTED, and the coordinator runs it again */
    int interrupted;
    progress_item_t *q_head, *q_tail;
    size_t q_len;
    uint64_t q_dropped;
    int run_done;
    pthread_cond_t cv; /* progress queued / runner done */
    /* a built-in model's runner waits in its progress callback until the
     * coordinator has answered that report (hp_runner_awaits_verdict), so
     * a stop takes effect before the next epoch: q_queued counts the
     * reports queued, q_answered those answered or given up on */
    int await_verdict;
    uint64_t q_queued, q_answered;
    pthread_cond_t verdict_cv;
} slot_t;

struct hp_agent {
    hp_agent_opts_t o;
    char *url;
    /* the token sent (a->mu): given, or found before each HELLO */
    char token[HP_TOKEN_MAX + 1];
    size_t token_len;
    nng_socket sock;
    nng_dialer dialer;
    int sock_open;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* registered / stopping changed */
    int stopping;
    double stop_deadline;
    int fatal_rc;
    char fatal_msg[512];
    /* session (a->mu) */
    int registered;
    uint64_t gen; /* bumped by each successful HELLO */
    uint64_t worker_id;
    /* the session secret HELLO_REPLY gave worker_id; every message of
     * the session carries it, and a HELLO again sends it to keep the id */
    unsigned char session[HP_PROTO_MAX_SESSION];
    size_t session_len;
    /* chosen at start (hp_agent_new), sent in every HELLO; read-only after */
    unsigned char nonce[HP_PROTO_SESSION_BYTES];
    uint32_t heartbeat_ms, lease_ms;
    uint64_t seq; /* __atomic */
    /* capabilities */
    char hostname[256];
    int cores, blas_threads;
    hp_data_cache_t *data_cache; /* built-in trials' datasets, loaded once for every slot */
    slot_t *slots;
    /* the worker's own end (a->mu): when the last slot finished a trial
     * (or the agent started), and max_trials' count of trials taken and
     * of requests out that may bring one; slots_active counts slot threads
     * still serving */
    double last_busy;
    int trials_taken, trials_reserved;
    int slots_active;
    char tls_why[512]; /* the TLS failure last logged; "" once connected (HELLO thread) */
    int plain_probed;  /* a tcp:// URL was checked for a TLS server (HELLO thread) */
    nng_ctx hb_ctx;
    nng_aio *hb_hold; /* the HELLO/HEARTBEAT in flight, cancelled on stop (a->mu) */
};

/* rpc.c: one request/reply on ctx. The envelope gets version, worker id,
 * a fresh sequence number and the token. On success *rep is the decoded
 * reply (never an ERROR: an ERROR reply returns its code mapped to hp_err,
 * with "CODE: message" in err). *gen_out (may be NULL) is the session the
 * request was sent in. timeout_ms < 0 waits forever; if hold is non-NULL
 * the aio is published there (under a->mu) so a stop can cancel it. */
int hp_agent_rpc(hp_agent_t *a, nng_ctx ctx, Hpsearch__Envelope *req, Hpsearch__Envelope **rep,
                 int timeout_ms, nng_aio **hold, uint64_t *gen_out, char *err, size_t errlen);

/* session.c — any thread; called without a->mu unless marked. session.c
 * also holds hp_agent_stop (agent.h), which hp_agent_fatal calls. */

/* hp_agent_sleep sleeps up to ms or until stopping; returns a->stopping. */
int hp_agent_sleep(hp_agent_t *a, int ms);
/* hp_agent_wait_lost sleeps up to ms, or until the session is lost
 * (registered cleared) or stopping: the heartbeat thread's pause, so a
 * slot that loses the session gets a HELLO at once. */
void hp_agent_wait_lost(hp_agent_t *a, int ms);
/* hp_agent_wait_registered waits until registered (1), or returns 0 when
 * stopping instead. */
int hp_agent_wait_registered(hp_agent_t *a);
/* hp_agent_need_hello marks the session gen lost (a reply said ENOENT or
 * ESESSION: the coordinator restarted, or knows another session) so
 * the heartbeat thread says HELLO again; a later session is left alone. */
void hp_agent_need_hello(hp_agent_t *a, uint64_t gen);
/* hp_agent_fatal records the first fatal error (hp_agent_run returns it)
 * and stops the agent. */
void hp_agent_fatal(hp_agent_t *a, int rc, const char *msg);
/* hp_slot_cancel asks s's running trial to stop; the first reason is kept
 * for its RESULT. a->mu held. */
void hp_slot_cancel(slot_t *s, const char *reason);
/* hp_slot_interrupt stops s's running trial because the worker itself is
 * stopping: unless something else stopped it first, its RESULT says
 * INTERRUPTED (the trial goes back to pending, no retry spent). a->mu held. */
void hp_slot_interrupt(slot_t *s);

/* slot.c — the slot thread's body; pthread_create'd by hp_agent_run */
void *hp_slot_main(void *arg);

/* hp_agent_errors_msg builds a RESULT's ErrorAnalysis from a trial's error
 * analysis (outcome.errors), pointing into it for the pixels, so it lives
 * no longer than ea; NULL for none or when out of memory (the result goes
 * without it). Free with hp_agent_errors_msg_free (errors_msg.c). */
struct hp_ea;
Hpsearch__ErrorAnalysis *hp_agent_errors_msg(const struct hp_ea *ea);
void hp_agent_errors_msg_free(Hpsearch__ErrorAnalysis *m);

#endif
