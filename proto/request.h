/*
 * request.h — one request and its reply on an nng REQ context: the client
 * half of every exchange, shared by the worker agent and the hpsearch CLI.
 *
 * The envelope is stamped (protocol version, worker id, sequence number,
 * auth token, session secret), encoded, sent, its reply awaited and decoded with all of
 * hp_proto_decode's checks; hp_request_call also turns an ERROR reply into
 * its hp_err code with "CODE: message" in err:
 *
 *     Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT, *rep;
 *     hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__STATUS, &body);
 *     hp_request_t rq = {.ctx = ctx, .timeout_ms = 5000, .seq = ++seq};
 *     if (hp_request_call(&rq, &req, &rep, err, sizeof err) < 0)
 *         ...err says what went wrong...
 *     ...use rep...
 *     hp_proto_free(rep);
 *
 * A caller that words failures for its own readers (the CLI names the
 * coordinator's URL and what to check) uses hp_request_exchange, which
 * reports which step failed and returns an ERROR reply as it came.
 *
 * Thread-safe as long as one context carries one exchange at a time (nng's
 * rule for REQ contexts); the calls block the calling thread.
 */
#ifndef HP_PROTO_REQUEST_H
#define HP_PROTO_REQUEST_H

#include "codec.h"

#include <nng/nng.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* hp_request_stop_t: how another thread stops an exchange that may wait
 * long (a GET_TRIAL the coordinator holds until there is work). The
 * exchange starts each step, the send and the receive, with *mu held: if
 * *stopping is set it gives up with HP_ECANCELED ("stopping"); otherwise it
 * starts the step and leaves its aio in *slot (NULL again once the exchange
 * is over). A stopper sets *stopping and cancels *slot under the same
 * mutex, so a step that starts after the stop sees it and one that started
 * before is cancelled: no stop falls between the send and the receive. */
typedef struct hp_request_stop {
    pthread_mutex_t *mu;
    const int *stopping;
    nng_aio **slot;
} hp_request_stop_t;

typedef struct hp_request {
    nng_ctx ctx;        /* a REQ context; the caller owns it */
    int timeout_ms;     /* for the send, and again for the reply; < 0 waits forever */
    const char *token;  /* the auth token, token_len bytes; NULL: none */
    size_t token_len;
    uint64_t worker_id; /* 0 outside a worker's session */
    const void *session; /* the worker's session secret, session_len bytes; NULL: none */
    size_t session_len;
    uint64_t seq;       /* the sender's next sequence number */
    const hp_request_stop_t *stop; /* NULL: only the timeout ends a wait */
} hp_request_t;

/* Where an exchange failed. */
typedef enum hp_request_step {
    HP_REQUEST_ENCODE = 1, /* the request could not be built (too large, no memory) */
    HP_REQUEST_STOPPED,    /* stopped (hp_request_stop_t) before it was sent */
    HP_REQUEST_SEND,       /* not sent: no peer in time, cancelled, closed */
    HP_REQUEST_RECV,       /* sent, but no reply came: timed out, cancelled, closed */
    HP_REQUEST_DECODE,     /* the reply failed the codec's checks */
    HP_REQUEST_REFUSED,    /* the reply is an ERROR (hp_request_call only) */
} hp_request_step_t;

/* hp_request_exchange stamps req (version, rq's worker id, seq, token and
 * session; neither secret is left in req), sends it on rq->ctx and waits for the
 * reply. On success *rep owns the decoded reply, of any type including
 * ERROR (free with hp_proto_free). On failure *rep is NULL, *step (may be
 * NULL) says where, err holds the bare detail (nng's words for a send or
 * receive, the decoder's sentence for a bad reply) and the code is nng's
 * translated by hp_err_from_nng, or the codec's. */
int hp_request_exchange(const hp_request_t *rq, Hpsearch__Envelope *req,
                        Hpsearch__Envelope **rep, hp_request_step_t *step, char *err,
                        size_t errlen);

/* hp_request_call is hp_request_exchange for callers that take any reply
 * but ERROR: an ERROR reply returns its code (hp_proto_error_from_code)
 * with "CODE: message" in err. A send or receive failure reads
 * "TYPE: nng's words". *rep is set only on success. */
int hp_request_call(const hp_request_t *rq, Hpsearch__Envelope *req, Hpsearch__Envelope **rep,
                    char *err, size_t errlen);

/* hp_request_refusal formats an ERROR body as "CODE: message" into err and
 * returns its hp_err code; e may be NULL. */
int hp_request_refusal(const Hpsearch__Error *e, char *err, size_t errlen);

#endif
