/* One request/reply for the agent: its session and stop state around
 * proto/request.c's exchange. */
#include "agent_int.h"

#include "err.h"
#include "request.h"

#include <string.h>

int hp_agent_rpc(hp_agent_t *a, nng_ctx ctx, Hpsearch__Envelope *req, Hpsearch__Envelope **rep,
                 int timeout_ms, nng_aio **hold, uint64_t *gen_out, char *err, size_t errlen)
{
    hp_request_t rq = {.ctx = ctx, .timeout_ms = timeout_ms};
    /* copies: a HELLO on another thread may change them meanwhile */
    char token[HP_TOKEN_MAX + 1];
    unsigned char session[HP_PROTO_MAX_SESSION];
    pthread_mutex_lock(&a->mu);
    /* a HELLO asks for an id; it has none yet */
    rq.worker_id = req->type == HPSEARCH__MSG_TYPE__HELLO ? req->worker_id : a->worker_id;
    if (gen_out)
        *gen_out = a->gen;
    if (a->token_len) {
        memcpy(token, a->token, a->token_len);
        rq.token = token;
        rq.token_len = a->token_len;
    }
    if (a->session_len) {
        memcpy(session, a->session, a->session_len);
        rq.session = session;
        rq.session_len = a->session_len;
    }
    pthread_mutex_unlock(&a->mu);
    rq.seq = __atomic_add_fetch(&a->seq, 1, __ATOMIC_RELAXED);
    /* the in-flight aio is published in *hold under a->mu, so that
     * hp_agent_stop can cancel a request the coordinator may hold for a
     * long time; once stopping, no new step starts */
    hp_request_stop_t stop = {.mu = &a->mu, .stopping = &a->stopping, .slot = hold};
    if (hold)
        rq.stop = &stop;
    return hp_request_call(&rq, req, rep, err, errlen);
}
