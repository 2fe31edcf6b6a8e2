/* The agent's lifecycle: socket and dialer, HELLO (and re-HELLO after a
 * coordinator restart), heartbeats with cancellations. The thread that
 * calls hp_agent_run does HELLO and heartbeats on its own context; every
 * slot has a thread and a context of its own (slot.c). Stopping, and the
 * other helpers that this file and slot.c share, live in session.c. */
#define _GNU_SOURCE
#include "agent_int.h"

#include "clock.h"
#include "err.h"
#include "log.h"
#include "rundir.h"
#include "tls.h"

#include <cblas.h>
#include <limits.h>
#include <nng/protocol/reqrep0/req.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef HP_SOFTWARE_VERSION
#define HP_SOFTWARE_VERSION "0"
#endif

static void on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    hp_agent_t *a = arg;
    (void)p;
    /* informational only: leases and ERROR ENOENT drive re-registration */
    if (ev == NNG_PIPE_EV_ADD_POST)
        hp_log_info("connected to %s", a->url);
    else if (ev == NNG_PIPE_EV_REM_POST) {
        pthread_mutex_lock(&a->mu); /* held briefly by everyone: never blocks long */
        int stopping = a->stopping;
        pthread_mutex_unlock(&a->mu);
        if (!stopping)
            hp_log_warn("connection to %s lost; reconnecting", a->url);
    }
}

int hp_agent_new(hp_agent_t **out, const hp_agent_opts_t *o, char *err, size_t errlen)
{
    *out = NULL;
    if (!o->url || !*o->url)
        return hp_errf(err, errlen, HP_EINVAL, "--connect needs the coordinator's URL");
    if (o->slots < 1 || o->slots > 1024)
        return hp_errf(err, errlen, HP_EINVAL, "--slots must be 1..1024 (got %d)", o->slots);
    if (o->exit_when_idle_s < 0 || o->max_trials < 0)
        return hp_errf(err, errlen, HP_EINVAL, "--exit-when-idle and --max-trials must be >= 0");
    if (o->token && strlen(o->token) > HP_PROTO_MAX_TOKEN)
        return hp_errf(err, errlen, HP_EINVAL, "the token is longer than %u bytes",
                       HP_PROTO_MAX_TOKEN);
    hp_agent_t *a = calloc(1, sizeof *a);
    if (!a)
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    a->o = *o;
    /* this process's HELLO nonce: every HELLO carries it, so one resent
     * after its reply was lost is this worker again, never a second one */
    if (hp_random_bytes(a->nonce, sizeof a->nonce, err, errlen) < 0) {
        free(a);
        return HP_EIO;
    }
    a->url = strdup(o->url);
    if (o->token && *o->token) {
        a->token_len = strlen(o->token);
        memcpy(a->token, o->token, a->token_len + 1);
    }
    pthread_mutex_init(&a->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cv, &ca);
    a->slots = calloc((size_t)o->slots, sizeof *a->slots);
    a->data_cache = hp_data_cache_new(0);
    HP_ASSERT(a->url && a->slots && a->data_cache);
    for (int i = 0; i < o->slots; i++) {
        slot_t *s = &a->slots[i];
        s->a = a;
        s->idx = (uint32_t)i;
        pthread_cond_init(&s->cv, &ca);
        pthread_cond_init(&s->verdict_cv, &ca);
        if (hp_cancel_init(&s->cancel) < 0) {
            pthread_condattr_destroy(&ca);
            hp_agent_free(a);
            return hp_errf(err, errlen, HP_EIO, "cannot make a pipe");
        }
    }
    pthread_condattr_destroy(&ca);

    long nc = sysconf(_SC_NPROCESSORS_ONLN);
    a->cores = o->cores > 0 ? o->cores : nc > 0 ? (int)nc : 1;
    a->blas_threads = a->cores / o->slots > 1 ? a->cores / o->slots : 1;
    if (gethostname(a->hostname, sizeof a->hostname - 1) < 0 || !a->hostname[0])
        snprintf(a->hostname, sizeof a->hostname, "unknown");
    a->seq = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL); /* fresh per process */

    int rv = nng_req0_open(&a->sock);
    if (rv != 0) {
        hp_agent_free(a);
        return hp_errf(err, errlen, hp_err_from_nng(rv), "cannot open a REQ socket: %s",
                       nng_strerror(rv));
    }
    a->sock_open = 1;
    /* REQ resends on its own until a reply arrives (and at once on a new
     * pipe after a lost one); the coordinator dedups by (worker, seq). */
    nng_socket_set_ms(a->sock, NNG_OPT_REQ_RESENDTIME, 5000);
    nng_socket_set_ms(a->sock, NNG_OPT_RECONNMINT, 100);
    nng_socket_set_ms(a->sock, NNG_OPT_RECONNMAXT, HP_PROTO_REDIAL_MAX_MS);
    nng_socket_set_size(a->sock, NNG_OPT_RECVMAXSZ, HP_PROTO_MAX_MSG);
    nng_pipe_notify(a->sock, NNG_PIPE_EV_ADD_POST, on_pipe, a);
    nng_pipe_notify(a->sock, NNG_PIPE_EV_REM_POST, on_pipe, a);
    if ((rv = nng_ctx_open(&a->hb_ctx, a->sock)) != 0) {
        hp_agent_free(a);
        return hp_errf(err, errlen, hp_err_from_nng(rv), "nng_ctx_open: %s", nng_strerror(rv));
    }
    for (int i = 0; i < o->slots; i++) {
        if ((rv = nng_ctx_open(&a->slots[i].ctx, a->sock)) != 0) {
            hp_agent_free(a);
            return hp_errf(err, errlen, hp_err_from_nng(rv), "nng_ctx_open: %s",
                           nng_strerror(rv));
        }
        /* a held GET_TRIAL is not lost while the pipe lives: resending it
         * would make the coordinator hold it twice */
        nng_ctx_set_ms(a->slots[i].ctx, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    }
    *out = a;
    return 0;
}

void hp_agent_free(hp_agent_t *a)
{
    if (!a)
        return;
    if (a->sock_open) {
        /* contexts first: nng 1.5's nng_close can hang on one still busy
         * (nanomsg/nng#1543); every slot thread has stopped by now */
        for (int i = 0; a->slots && i < a->o.slots; i++)
            nng_ctx_close(a->slots[i].ctx);
        nng_ctx_close(a->hb_ctx);
        nng_close(a->sock);
    }
    for (int i = 0; a->slots && i < a->o.slots; i++) {
        slot_t *s = &a->slots[i];
        hp_cancel_fini(&s->cancel);
        pthread_cond_destroy(&s->cv);
        pthread_cond_destroy(&s->verdict_cv);
        for (progress_item_t *p = s->q_head, *n; p; p = n) {
            n = p->next;
            free(p);
        }
    }
    free(a->slots);
    hp_data_cache_free(a->data_cache); /* every runner thread has ended */
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    free(a->url);
    explicit_bzero(a->token, sizeof a->token);
    explicit_bzero(a->session, sizeof a->session);
    explicit_bzero(a->nonce, sizeof a->nonce);
    free(a);
}

/* ---- HELLO ---- */

static const char *const models[] = {"mlp",    "lenet", "lstm",     "multimodal",
                                     "resnet", "tcn",   "attention"};
static const char *const functions[] = {"branin", "hartmann6", "rosenbrock", "ackley"};

/* With no token given, the one the coordinator published for our URL,
 * looked up again before each HELLO: the coordinator may start after us. */
static void refresh_token(hp_agent_t *a)
{
    if (!a->o.find_token)
        return;
    char file[4096], tok[HP_TOKEN_MAX + 1], err[512];
    size_t len;
    if (hp_rundir_lookup(a->url, file, sizeof file) < 0 ||
        hp_token_read(file, tok, sizeof tok, &len, err, sizeof err) < 0)
        return;
    pthread_mutex_lock(&a->mu);
    if (len != a->token_len || memcmp(tok, a->token, len) != 0) {
        memcpy(a->token, tok, len + 1);
        a->token_len = len;
        hp_log_info("using the coordinator's token file %s", file);
    }
    pthread_mutex_unlock(&a->mu);
    explicit_bzero(tok, sizeof tok);
}

static int hello(hp_agent_t *a, char *err, size_t errlen)
{
    refresh_token(a);
    Hpsearch__Hello h = HPSEARCH__HELLO__INIT;
    h.hostname = a->hostname;
    h.pid = (uint32_t)getpid();
    h.cores = (uint32_t)a->cores;
    h.slots = (uint32_t)a->o.slots;
    h.n_models = HP_ARRAY_LEN(models);
    h.models = (char **)models;
    h.n_functions = HP_ARRAY_LEN(functions);
    h.functions = (char **)functions;
    char blas[256];
    const char *cfg = openblas_get_config();
    snprintf(blas, sizeof blas, "OpenBLAS %s", cfg ? cfg : "");
    h.blas = blas;
    h.software_version = (char *)HP_SOFTWARE_VERSION;
    pthread_mutex_lock(&a->mu);
    h.previous_worker_id = a->worker_id;
    pthread_mutex_unlock(&a->mu);
    h.nonce.data = a->nonce;
    h.nonce.len = sizeof a->nonce;

    Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT, *rep;
    hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__HELLO, &h);
    char sent[HP_TOKEN_MAX + 1];
    pthread_mutex_lock(&a->mu);
    size_t sent_len = a->token_len;
    memcpy(sent, a->token, sent_len);
    pthread_mutex_unlock(&a->mu);
    int rc = hp_agent_rpc(a, a->hb_ctx, &req, &rep, 5000, &a->hb_hold, NULL, err, errlen);
    if (rc == HP_EAUTH && a->o.find_token && !strstr(err, "rate limited")) {
        /* a HELLO queued before the coordinator published its token (or
         * made a new one) goes without it, or with the old one: look
         * again, and try again if there is something new to send */
        refresh_token(a);
        pthread_mutex_lock(&a->mu);
        int changed = a->token_len != sent_len || memcmp(a->token, sent, sent_len) != 0;
        pthread_mutex_unlock(&a->mu);
        explicit_bzero(sent, sizeof sent);
        if (changed || sent_len == 0)
            return hp_errf(err, errlen, HP_EBUSY,
                           "the coordinator needs its token, and none was found for %s yet "
                           "(hpsearchd on this host publishes it; else give --token-file)",
                           a->url);
    }
    if (rc < 0)
        return rc;
    if (rep->type != HPSEARCH__MSG_TYPE__HELLO_REPLY || !rep->hello_reply ||
        rep->hello_reply->worker_id == 0) {
        rc = hp_errf(err, errlen, HP_EPROTO, "HELLO got %s instead of HELLO_REPLY with a worker id",
                     hp_proto_type_name(rep->type));
        hp_proto_free(rep);
        return rc;
    }
    const ProtobufCBinaryData *sess = &rep->hello_reply->session;
    if (sess->len > HP_PROTO_MAX_SESSION) {
        rc = hp_errf(err, errlen, HP_EPROTO, "HELLO_REPLY: a session secret of %zu bytes",
                     sess->len);
        hp_proto_free(rep);
        return rc;
    }
    pthread_mutex_lock(&a->mu);
    uint64_t prev = a->worker_id;
    a->worker_id = rep->hello_reply->worker_id;
    /* empty from a coordinator older than sessions: it checks none */
    if (sess->len)
        memcpy(a->session, sess->data, sess->len);
    a->session_len = sess->len;
    a->heartbeat_ms = rep->hello_reply->heartbeat_ms;
    a->lease_ms = rep->hello_reply->lease_ms;
    a->registered = 1;
    a->gen++;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    if (prev && prev != a->worker_id)
        hp_log_info("registered again as worker %llu (was %llu)",
                    (unsigned long long)a->worker_id, (unsigned long long)prev);
    else
        hp_log_info("registered as worker %llu (%d slot%s, heartbeat %u ms, lease %u ms)",
                    (unsigned long long)a->worker_id, a->o.slots, a->o.slots == 1 ? "" : "s",
                    a->heartbeat_ms, a->lease_ms);
    hp_proto_free(rep);
    return 0;
}

/* ---- heartbeats ---- */

static int heartbeat_interval(const hp_agent_t *a)
{
    int ms = (int)a->heartbeat_ms;
    if (a->o.heartbeat_ms > 0 && (ms <= 0 || a->o.heartbeat_ms < ms))
        ms = a->o.heartbeat_ms;
    return ms > 0 ? ms : 1000;
}

static void heartbeat(hp_agent_t *a)
{
    Hpsearch__Heartbeat hb = HPSEARCH__HEARTBEAT__INIT;
    Hpsearch__LeaseRef *refs = calloc((size_t)a->o.slots, sizeof *refs);
    Hpsearch__LeaseRef **rp = calloc((size_t)a->o.slots, sizeof *rp);
    HP_ASSERT(refs && rp);
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < a->o.slots; i++) {
        slot_t *s = &a->slots[i];
        if (!s->busy)
            continue;
        hpsearch__lease_ref__init(&refs[hb.n_running]);
        refs[hb.n_running].trial_id = s->trial_id;
        refs[hb.n_running].lease_id = s->lease_id;
        rp[hb.n_running] = &refs[hb.n_running];
        hb.n_running++;
    }
    pthread_mutex_unlock(&a->mu);
    hb.running = rp;
    hb.free_slots = (uint32_t)a->o.slots - (uint32_t)hb.n_running;

    Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT, *rep;
    hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__HEARTBEAT, &hb);
    char err[512];
    uint64_t gen;
    int tmo = a->o.request_timeout_ms > 0 ? a->o.request_timeout_ms : 10000;
    int rc = hp_agent_rpc(a, a->hb_ctx, &req, &rep, tmo, &a->hb_hold, &gen, err, sizeof err);
    free(refs);
    free(rp);
    if (rc == HP_ENOENT || rc == HP_ESESSION) {
        hp_agent_need_hello(a, gen);
        return;
    }
    if (rc == HP_EAUTH || rc == HP_EVERSION) {
        hp_agent_fatal(a, rc, err);
        return;
    }
    if (rc < 0) {
        hp_log_debug("heartbeat: %s", err);
        return;
    }
    if (rep->type == HPSEARCH__MSG_TYPE__HEARTBEAT_REPLY && rep->heartbeat_reply) {
        const Hpsearch__HeartbeatReply *r = rep->heartbeat_reply;
        pthread_mutex_lock(&a->mu);
        for (size_t i = 0; i < r->n_cancel; i++)
            for (int k = 0; k < a->o.slots; k++) {
                slot_t *s = &a->slots[k];
                if (s->busy && s->lease_id == r->cancel[i]->lease_id &&
                    s->trial_id == r->cancel[i]->trial_id)
                    hp_slot_cancel(s, "cancelled by the coordinator");
            }
        pthread_mutex_unlock(&a->mu);
    } else {
        hp_log_warn("heartbeat got %s instead of HEARTBEAT_REPLY", hp_proto_type_name(rep->type));
    }
    hp_proto_free(rep);
}

/* --exit-when-idle: ms until the worker has been idle long enough (no
 * slot running a trial), 0 when it has, INT_MAX when it never leaves so.
 * a->mu held. */
static int idle_left_ms(const hp_agent_t *a)
{
    if (a->o.exit_when_idle_s <= 0)
        return INT_MAX;
    for (int i = 0; i < a->o.slots; i++)
        if (a->slots[i].busy)
            return INT_MAX;
    double left = a->last_busy + a->o.exit_when_idle_s - hp_clock_now();
    return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

/* Checks --exit-when-idle; stops the agent (its slots are idle: nothing is
 * interrupted) when the time is up. Returns the ms to wait at most before
 * the next check, at most want_ms: 0 when it stopped the agent. */
static int check_idle(hp_agent_t *a, int want_ms)
{
    pthread_mutex_lock(&a->mu);
    int left = idle_left_ms(a);
    pthread_mutex_unlock(&a->mu);
    if (left == 0) {
        hp_log_info("no trial for %d s (--exit-when-idle): leaving", a->o.exit_when_idle_s);
        hp_agent_stop(a);
    }
    return left < want_ms ? left : want_ms;
}

/* HELLO went unanswered. On a tls+tcp:// URL nng redials silently after a
 * refused handshake, so hp_tls_diagnose says whether TLS is why, logged
 * once for each new reason. On a plain tcp:// URL, once per process: is it
 * a TLS socket this worker speaks plain TCP to? */
static void check_tls(hp_agent_t *a)
{
    char why[512];
    if (!a->o.tls) {
        if (a->plain_probed || strncmp(a->url, "tcp://", 6) != 0)
            return;
        a->plain_probed = 1;
        if (hp_tls_diagnose(NULL, a->url, 5000, why, sizeof why) == 1)
            hp_log_error("no answer from %s: %s", a->url, why);
        return;
    }
    if (hp_tls_diagnose(a->o.tls, a->url, 5000, why, sizeof why) != 1)
        return; /* not reachable (the daemon is down), or TLS is fine */
    if (strcmp(why, a->tls_why) == 0)
        return;
    snprintf(a->tls_why, sizeof a->tls_why, "%s", why);
    hp_log_error("TLS handshake with %s failed: %s", a->url, why);
}

int hp_agent_run(hp_agent_t *a, char *err, size_t errlen)
{
    char why[512];
    int rc0 = hp_tls_dial(a->sock, a->url, a->o.tls, NNG_FLAG_NONBLOCK, &a->dialer, why,
                          sizeof why);
    if (rc0 < 0)
        return hp_errf(err, errlen, rc0, "cannot dial %s: %s", a->url, why);
    hp_log_info("worker on %s (%d core%s, %d slot%s, %d BLAS thread%s per trial) connecting to %s",
                a->hostname, a->cores, a->cores == 1 ? "" : "s", a->o.slots,
                a->o.slots == 1 ? "" : "s", a->blas_threads, a->blas_threads == 1 ? "" : "s",
                a->url);
    pthread_mutex_lock(&a->mu);
    a->last_busy = hp_clock_now();
    a->slots_active = a->o.slots;
    pthread_mutex_unlock(&a->mu);
    for (int i = 0; i < a->o.slots; i++) {
        if (pthread_create(&a->slots[i].thr, NULL, hp_slot_main, &a->slots[i]) != 0) {
            hp_agent_fatal(a, HP_ENOMEM, "cannot start a slot thread");
            break;
        }
        a->slots[i].thr_started = 1;
    }

    int backoff = 250, max_backoff = a->o.max_backoff_ms > 0 ? a->o.max_backoff_ms : 30000;
    int waiting_logged = 0;
    char e[512];
    for (;;) {
        pthread_mutex_lock(&a->mu);
        int stopping = a->stopping, registered = a->registered;
        pthread_mutex_unlock(&a->mu);
        if (stopping || check_idle(a, INT_MAX) == 0)
            break;
        if (!registered) {
            int rc = hello(a, e, sizeof e);
            if (rc == 0) {
                backoff = 250;
                waiting_logged = 0;
                a->tls_why[0] = '\0';
                continue;
            }
            if (rc == HP_EAUTH || rc == HP_EVERSION) {
                hp_agent_fatal(a, rc, e);
                break;
            }
            if (rc == HP_ETIMEDOUT) {
                if (!waiting_logged++)
                    hp_log_info("waiting for the coordinator at %s", a->url);
                check_tls(a);
                continue; /* REQ keeps the dial going; just ask again */
            }
            if (rc != HP_ECANCELED && rc != HP_ECLOSED)
                hp_log_warn("HELLO refused: %s (retrying in %d ms)", e, backoff);
            hp_agent_sleep(a, check_idle(a, backoff));
            backoff = backoff * 2 > max_backoff ? max_backoff : backoff * 2;
            continue;
        }
        heartbeat(a);
        pthread_mutex_lock(&a->mu);
        int ms = heartbeat_interval(a);
        pthread_mutex_unlock(&a->mu);
        /* wake early when a slot loses the session, to HELLO at once, or
         * when the worker has been idle for --exit-when-idle */
        hp_agent_wait_lost(a, check_idle(a, ms));
    }
    for (int i = 0; i < a->o.slots; i++)
        if (a->slots[i].thr_started)
            pthread_join(a->slots[i].thr, NULL);
    if (a->fatal_rc)
        return hp_errf(err, errlen, a->fatal_rc, "%s", a->fatal_msg);
    return 0;
}
