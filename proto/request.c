/* One request/reply on a REQ context: stamp, encode, send, wait, decode. */
#include "request.h"

#include "buf.h"
#include "err.h"
#include "nng_err.h"

#include <stdio.h>
#include <string.h>

static int failed(hp_request_step_t *step, hp_request_step_t at, int rc)
{
    if (step)
        *step = at;
    return rc;
}

static int nng_failed(hp_request_step_t *step, hp_request_step_t at, int rv, char *err,
                      size_t errlen)
{
    return failed(step, at, hp_errf(err, errlen, hp_err_from_nng(rv), "%s", nng_strerror(rv)));
}

/* the encoded request in a fresh nng message */
static int build(const hp_request_t *rq, Hpsearch__Envelope *req, nng_msg **out,
                 hp_request_step_t *step, char *err, size_t errlen)
{
    req->version = HP_PROTO_VERSION;
    req->worker_id = rq->worker_id;
    req->seq = rq->seq;
    if (rq->token) {
        req->auth_token.data = (uint8_t *)rq->token;
        req->auth_token.len = rq->token_len;
    }
    if (rq->session) {
        req->session.data = (uint8_t *)rq->session;
        req->session.len = rq->session_len;
    }
    hp_buf_t b = {0};
    int rc = hp_proto_encode(req, &b);
    /* the secrets are ours to lend, not the caller's envelope's to keep */
    req->auth_token.data = NULL;
    req->auth_token.len = 0;
    req->session.data = NULL;
    req->session.len = 0;
    if (rc < 0) {
        hp_buf_fini(&b);
        return failed(step, HP_REQUEST_ENCODE,
                      hp_errf(err, errlen, rc, "cannot encode %s", hp_proto_type_name(req->type)));
    }
    nng_msg *msg = NULL;
    int rv = nng_msg_alloc(&msg, 0);
    if (rv == 0 && (rv = nng_msg_append(msg, b.data, b.len)) != 0)
        nng_msg_free(msg);
    hp_buf_fini(&b);
    if (rv != 0)
        return nng_failed(step, HP_REQUEST_ENCODE, rv, err, errlen);
    *out = msg;
    return 0;
}

/* start op (send or receive) on aio, unless a stop came first */
static int start_step(const hp_request_t *rq, void (*op)(nng_ctx, nng_aio *), nng_aio *aio)
{
    const hp_request_stop_t *st = rq->stop;
    if (!st) {
        op(rq->ctx, aio);
        return 0;
    }
    pthread_mutex_lock(st->mu);
    int stopping = *st->stopping;
    if (!stopping) {
        op(rq->ctx, aio);
        *st->slot = aio;
    }
    pthread_mutex_unlock(st->mu);
    return stopping ? HP_ECANCELED : 0;
}

static void unpublish(const hp_request_t *rq)
{
    if (!rq->stop)
        return;
    pthread_mutex_lock(rq->stop->mu);
    *rq->stop->slot = NULL;
    pthread_mutex_unlock(rq->stop->mu);
}

int hp_request_exchange(const hp_request_t *rq, Hpsearch__Envelope *req,
                        Hpsearch__Envelope **rep, hp_request_step_t *step, char *err,
                        size_t errlen)
{
    *rep = NULL;
    nng_msg *msg = NULL;
    int rc = build(rq, req, &msg, step, err, errlen);
    if (rc < 0)
        return rc;
    nng_aio *aio;
    int rv = nng_aio_alloc(&aio, NULL, NULL);
    if (rv != 0) {
        nng_msg_free(msg);
        return nng_failed(step, HP_REQUEST_ENCODE, rv, err, errlen);
    }
    nng_aio_set_timeout(aio, rq->timeout_ms < 0 ? NNG_DURATION_INFINITE : rq->timeout_ms);
    nng_aio_set_msg(aio, msg);
    if (start_step(rq, nng_ctx_send, aio) < 0) {
        nng_msg_free(msg);
        nng_aio_free(aio);
        return failed(step, HP_REQUEST_STOPPED, hp_errf(err, errlen, HP_ECANCELED, "stopping"));
    }
    nng_aio_wait(aio);
    hp_request_step_t at = HP_REQUEST_SEND;
    rv = nng_aio_result(aio);
    int stopped = 0;
    if (rv != 0) {
        nng_msg_free(nng_aio_get_msg(aio)); /* a failed send leaves it with us */
    } else {
        at = HP_REQUEST_RECV;
        if (start_step(rq, nng_ctx_recv, aio) < 0) {
            stopped = 1;
        } else {
            nng_aio_wait(aio);
            rv = nng_aio_result(aio);
        }
    }
    nng_msg *reply = rv == 0 && !stopped ? nng_aio_get_msg(aio) : NULL;
    unpublish(rq);
    nng_aio_free(aio);
    if (stopped)
        return failed(step, at, hp_errf(err, errlen, HP_ECANCELED, "stopping"));
    if (rv != 0)
        return nng_failed(step, at, rv, err, errlen);

    rc = hp_proto_decode(nng_msg_body(reply), nng_msg_len(reply), rep, err, errlen);
    nng_msg_free(reply);
    if (rc < 0)
        return failed(step, HP_REQUEST_DECODE, rc);
    return 0;
}

int hp_request_refusal(const Hpsearch__Error *e, char *err, size_t errlen)
{
    const char *code = e ? e->code : NULL;
    return hp_errf(err, errlen, hp_proto_error_from_code(code), "%s: %s", code ? code : "ERR",
                   e && e->message ? e->message : "");
}

int hp_request_call(const hp_request_t *rq, Hpsearch__Envelope *req, Hpsearch__Envelope **rep,
                    char *err, size_t errlen)
{
    hp_request_step_t step;
    int rc = hp_request_exchange(rq, req, rep, &step, err, errlen);
    if (rc < 0) {
        /* nng's words alone do not say which request they are about */
        if ((step == HP_REQUEST_SEND || step == HP_REQUEST_RECV) && err) {
            char why[256];
            snprintf(why, sizeof why, "%s", err);
            hp_errf(err, errlen, rc, "%s: %s", hp_proto_type_name(req->type), why);
        }
        return rc;
    }
    if ((*rep)->type == HPSEARCH__MSG_TYPE__ERROR) {
        rc = hp_request_refusal((*rep)->error, err, errlen);
        hp_proto_free(*rep);
        *rep = NULL;
        return rc;
    }
    return 0;
}
