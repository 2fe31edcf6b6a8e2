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
    pthread_mutex_lock(&a->mu);
    /* a HELLO asks for an id; it has none yet */
    rq.worker_id = req->type == HPSEARCH__MSG_TYPE__HELLO ? req->worker_id : a->worker_id;
    if (gen_out)
        *gen_out = a->gen;
    pthread_mutex_unlock(&a->mu);
    rq.seq = __atomic_add_fetch(&a->seq, 1, __ATOMIC_RELAXED);
    if (a->token) {
        rq.token = a->token;
        rq.token_len = strlen(a->token);
    }
    /* the in-flight aio is published in *hold under a->mu, so that
     * hp_agent_stop can cancel a request the coordinator may hold for a
     * long time; once stopping, no new step starts */
    hp_request_stop_t stop = {.mu = &a->mu, .stopping = &a->stopping, .slot = hold};
    if (hold)
        rq.stop = &stop;
    return hp_request_call(&rq, req, rep, err, errlen);
}
