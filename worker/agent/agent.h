/*
 * agent.h — the coordinator-connected worker (`hpworker --connect`).
 *
 * An agent dials the coordinator's worker socket (nng REQ, reconnecting in
 * the background), says HELLO, keeps one GET_TRIAL outstanding per free
 * slot, runs each trial in its own thread through hp_runner, streams
 * PROGRESS, heartbeats on a separate context, obeys cancellations and sends
 * every RESULT until it is acknowledged. docs/worker.md describes the
 * behaviour; docs/protocol.md the messages.
 *
 *     hp_agent_opts_t o = {.url = "tcp://head:7521", .slots = 4};
 *     hp_agent_t *a;
 *     char err[512];
 *     if (hp_agent_new(&a, &o, err, sizeof err) < 0) die(err);
 *     // another thread (e.g. a signal waiter) calls hp_agent_stop(a)
 *     int rc = hp_agent_run(a, err, sizeof err);   // blocks
 *     hp_agent_free(a);
 */
#ifndef HP_AGENT_H
#define HP_AGENT_H

#include <stddef.h>

struct hp_tls;

typedef struct hp_agent_opts {
    const char *url;       /* the coordinator's worker socket */
    int slots;             /* trials at once, 1..1024 */
    const char *token;     /* shared auth token, or NULL */
    int heartbeat_ms;      /* 0 = what HELLO_REPLY says; else at most this */
    int kill_grace_ms;     /* external programs: SIGTERM -> SIGKILL; 0 = 5000 */
    int max_backoff_ms;    /* retry backoff cap; 0 = 30000 */
    int stop_grace_ms;     /* on stop: time to deliver final RESULTs; 0 = 5000 */
    int request_timeout_ms;/* PROGRESS/RESULT/HEARTBEAT reply wait; 0 = 10000 */
    int cores;             /* CPUs this worker may use (HELLO, BLAS threads); 0 = online CPUs */
    /* leave (hp_agent_run returns 0) once no slot has run a trial for this
     * many seconds, counted from the start or the last trial's end; 0: never */
    int exit_when_idle_s;
    /* leave once this many trials were taken and have ended; 0: no limit */
    int max_trials;
    const struct hp_tls *tls; /* tls+tcp:// (a client's, hp_tls_new); NULL: plain. The
                                 caller keeps it alive until hp_agent_free */
} hp_agent_opts_t;

typedef struct hp_agent hp_agent_t;

/* hp_agent_new validates o (copied) and opens the socket; nothing is sent
 * yet. Returns 0, HP_EINVAL or HP_ENOMEM / an nng failure, with err. */
int hp_agent_new(hp_agent_t **out, const hp_agent_opts_t *o, char *err, size_t errlen);

/* hp_agent_run dials and serves until hp_agent_stop, a fatal reply, or
 * the worker's own end (exit_when_idle_s, max_trials). Returns 0 after a
 * stop or an end, HP_EAUTH (token refused) or HP_EVERSION
 * (protocol refused) with err. Call once, from one thread. */
int hp_agent_run(hp_agent_t *a, char *err, size_t errlen);

/* hp_agent_stop asks the agent to stop: no new trials, running ones are
 * cancelled and reported, then hp_agent_run returns. Any thread, any
 * number of times; not async-signal-safe (use a signal-waiting thread).
 * A trial stopped this way is reported INTERRUPTED: the coordinator runs
 * it again, and it spends none of its retries. */
void hp_agent_stop(hp_agent_t *a);

/* hp_agent_free closes everything; after hp_agent_run returned (or instead
 * of running it). NULL ok. */
void hp_agent_free(hp_agent_t *a);

#endif
