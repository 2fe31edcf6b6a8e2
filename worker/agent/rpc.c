/* One request/reply exchange on a REQ context, and the nng boundary. */
#include "agent_int.h"

#include "buf.h"
#include "err.h"

#include <stdio.h>
#include <string.h>

int hp_err_from_nng(int rv)
{
    switch (rv) {
    case 0:
        return HP_OK;
    case NNG_ENOMEM:
        return HP_ENOMEM;
    case NNG_EINVAL:
    case NNG_EADDRINVAL:
    case NNG_ENOTSUP:
        return HP_EINVAL;
    case NNG_ETIMEDOUT:
        return HP_ETIMEDOUT;
    case NNG_ECANCELED:
    case NNG_EINTR:
        return HP_ECANCELED;
    case NNG_ECLOSED:
    case NNG_ECONNSHUT:
    case NNG_ECONNRESET:
    case NNG_ECONNABORTED:
        return HP_ECLOSED;
    case NNG_ECONNREFUSED:
    case NNG_EUNREACHABLE:
        return HP_ECONNREFUSED;
    case NNG_EBUSY:
    case NNG_EADDRINUSE:
        return HP_EBUSY;
    case NNG_ENOENT:
        return HP_ENOENT;
    case NNG_EPROTO:
    case NNG_EMSGSIZE:
        return HP_EPROTO;
    case NNG_EPERM:
    case NNG_ECRYPTO:
    case NNG_EPEERAUTH:
        return HP_EAUTH;
    case NNG_ESTATE:
        return HP_ESTATE;
    default:
        return HP_EIO;
    }
}

static int code_from_error(const char *code)
{
    static const struct {
        const char *code;
        int err;
    } map[] = {{"EVERSION", HP_EVERSION}, {"EPROTO", HP_EPROTO},   {"EAUTH", HP_EAUTH},
               {"ENOENT", HP_ENOENT},     {"EEXIST", HP_EEXIST},   {"ESTATE", HP_ESTATE},
               {"EINVAL", HP_EINVAL},     {"EBUSY", HP_EBUSY},     {"ENOMEM", HP_ENOMEM},
               {"EDB", HP_EDB},           {"EREADONLY", HP_EREADONLY}};
    for (size_t i = 0; i < HP_ARRAY_LEN(map); i++)
        if (code && strcmp(code, map[i].code) == 0)
            return map[i].err;
    return HP_EIO;
}

int hp_agent_rpc(hp_agent_t *a, nng_ctx ctx, Hpsearch__Envelope *req, Hpsearch__Envelope **rep,
                 int timeout_ms, nng_aio **hold, uint64_t *gen_out, char *err, size_t errlen)
{
    *rep = NULL;
    pthread_mutex_lock(&a->mu);
    if (req->type != HPSEARCH__MSG_TYPE__HELLO)
        req->worker_id = a->worker_id;
    if (gen_out)
        *gen_out = a->gen;
    pthread_mutex_unlock(&a->mu);
    req->version = HP_PROTO_VERSION;
    req->seq = __atomic_add_fetch(&a->seq, 1, __ATOMIC_RELAXED);
    if (a->token) {
        req->auth_token.data = (uint8_t *)a->token;
        req->auth_token.len = strlen(a->token);
    }
    hp_buf_t b = {0};
    int rc = hp_proto_encode(req, &b);
    if (rc < 0) {
        hp_buf_fini(&b);
        return hp_errf(err, errlen, rc, "cannot encode %s", hp_proto_type_name(req->type));
    }
    nng_msg *msg;
    nng_aio *aio;
    int rv = nng_msg_alloc(&msg, 0);
    if (rv == 0 && (rv = nng_msg_append(msg, b.data, b.len)) != 0)
        nng_msg_free(msg);
    hp_buf_fini(&b);
    if (rv != 0)
        return hp_errf(err, errlen, hp_err_from_nng(rv), "%s", nng_strerror(rv));
    if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0) {
        nng_msg_free(msg);
        return hp_errf(err, errlen, hp_err_from_nng(rv), "%s", nng_strerror(rv));
    }
    if (hold) {
        pthread_mutex_lock(&a->mu);
        if (a->stopping) {
            pthread_mutex_unlock(&a->mu);
            nng_msg_free(msg);
            nng_aio_free(aio);
            return hp_errf(err, errlen, HP_ECANCELED, "stopping");
        }
        *hold = aio;
        pthread_mutex_unlock(&a->mu);
    }
    nng_aio_set_timeout(aio, timeout_ms < 0 ? NNG_DURATION_INFINITE : timeout_ms);
    nng_aio_set_msg(aio, msg);
    nng_ctx_send(ctx, aio);
    nng_aio_wait(aio);
    rv = nng_aio_result(aio);
    if (rv != 0) {
        nng_msg_free(nng_aio_get_msg(aio));
    } else {
        nng_ctx_recv(ctx, aio);
        nng_aio_wait(aio);
        rv = nng_aio_result(aio);
    }
    nng_msg *reply = rv == 0 ? nng_aio_get_msg(aio) : NULL;
    if (hold) {
        pthread_mutex_lock(&a->mu);
        *hold = NULL;
        pthread_mutex_unlock(&a->mu);
    }
    nng_aio_free(aio);
    if (rv != 0)
        return hp_errf(err, errlen, hp_err_from_nng(rv), "%s: %s", hp_proto_type_name(req->type),
                       nng_strerror(rv));

    Hpsearch__Envelope *env;
    rc = hp_proto_decode(nng_msg_body(reply), nng_msg_len(reply), &env, err, errlen);
    nng_msg_free(reply);
    if (rc < 0)
        return rc;
    if (env->type == HPSEARCH__MSG_TYPE__ERROR) {
        const Hpsearch__Error *e = env->error;
        rc = code_from_error(e ? e->code : NULL);
        hp_errf(err, errlen, rc, "%s: %s", e && e->code ? e->code : "ERR",
                e && e->message ? e->message : "");
        hp_proto_free(env);
        return rc;
    }
    *rep = env;
    return 0;
}
