/* The control-socket client: nng REQ, one envelope per request. */
#include "client.h"

#include "err.h"

#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hp_client {
    nng_socket sock;
    char url[512];
    char token[HP_PROTO_MAX_TOKEN + 1];
    size_t token_len;
    uint64_t seq;
};

const char *hp_client_url(const hp_cli_t *cli)
{
    return cli->coordinator ? cli->coordinator : HP_CLIENT_DEFAULT_URL;
}

/* the daemon trims trailing newlines from its token file; so do we */
static int read_token(hp_client_t *cl, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return hp_errf(err, errlen, HP_ENOENT, "cannot read the token file %s: %s", path,
                       strerror(errno));
    size_t n = fread(cl->token, 1, sizeof cl->token, f);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return hp_errf(err, errlen, HP_EIO, "cannot read the token file %s", path);
    if (n > HP_PROTO_MAX_TOKEN)
        return hp_errf(err, errlen, HP_EINVAL, "token file %s is longer than %u bytes", path,
                       HP_PROTO_MAX_TOKEN);
    while (n && (cl->token[n - 1] == '\n' || cl->token[n - 1] == '\r'))
        n--;
    if (n == 0)
        return hp_errf(err, errlen, HP_EINVAL, "token file %s is empty", path);
    cl->token_len = n;
    return 0;
}

static int unreachable(const char *url, const char *why, char *err, size_t errlen)
{
    return hp_errf(err, errlen, HP_ECONNREFUSED,
                   "cannot reach the coordinator at %s: %s (is hpsearchd running? see "
                   "--coordinator)",
                   url, why);
}

int hp_client_open_url(hp_client_t **out, const char *url, const char *token_file,
                       int timeout_ms, char *err, size_t errlen)
{
    *out = NULL;
    hp_client_t *cl = calloc(1, sizeof *cl);
    if (!cl)
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    snprintf(cl->url, sizeof cl->url, "%s", url);
    int rc;
    if (token_file && *token_file && (rc = read_token(cl, token_file, err, errlen)) < 0) {
        free(cl);
        return rc;
    }
    int nrc = nng_req0_open(&cl->sock);
    if (nrc != 0) {
        free(cl);
        return hp_errf(err, errlen, HP_EIO, "cannot open a socket: %s", nng_strerror(nrc));
    }
    nng_duration t = timeout_ms > 0 ? timeout_ms : HP_CLIENT_TIMEOUT_MS;
    nng_socket_set_ms(cl->sock, NNG_OPT_RECVTIMEO, t);
    nng_socket_set_ms(cl->sock, NNG_OPT_SENDTIMEO, t);
    /* a request is resent only if the pipe drops; never while the daemon
     * is working on it (a SUBMIT must not be applied twice for nothing) */
    nng_socket_set_ms(cl->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    /* a blocking dial fails at once when nothing listens, which is the
     * common mistake; later the socket redials by itself */
    nrc = nng_dial(cl->sock, url, NULL, 0);
    if (nrc != 0) {
        if (nrc == NNG_EADDRINVAL || nrc == NNG_ENOTSUP || nrc == NNG_EINVAL)
            rc = hp_errf(err, errlen, HP_EINVAL,
                         "'%s' is not a coordinator URL (%s); expected e.g. tcp://head:7522 "
                         "or ipc:///path/control.sock",
                         url, nng_strerror(nrc));
        else
            rc = unreachable(url, nng_strerror(nrc), err, errlen);
        nng_close(cl->sock);
        free(cl);
        return rc;
    }
    *out = cl;
    return 0;
}

int hp_client_open(hp_client_t **out, const hp_cli_t *cli, char *err, size_t errlen)
{
    return hp_client_open_url(out, hp_client_url(cli), cli->token_file, cli->timeout_ms, err,
                              errlen);
}

void hp_client_close(hp_client_t *cl)
{
    if (!cl)
        return;
    nng_close(cl->sock);
    free(cl);
}

static int code_from_name(const char *code)
{
    static const int codes[] = {HP_EVERSION, HP_EPROTO, HP_EAUTH,  HP_ENOENT,
                                HP_EEXIST,   HP_ESTATE, HP_EINVAL, HP_EBUSY,
                                HP_EREADONLY, HP_EDB,   HP_ENOMEM};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (code && strcmp(code, hp_proto_error_code(codes[i])) == 0)
            return codes[i];
    return HP_EPROTO;
}

int hp_client_call(hp_client_t *cl, Hpsearch__Envelope *req, int expect,
                   Hpsearch__Envelope **reply, char *err, size_t errlen)
{
    *reply = NULL;
    req->seq = ++cl->seq;
    req->worker_id = 0;
    if (cl->token_len) {
        req->auth_token.data = (uint8_t *)cl->token;
        req->auth_token.len = cl->token_len;
    }
    hp_buf_t b = {0};
    int rc = hp_proto_encode(req, &b);
    req->auth_token.data = NULL;
    req->auth_token.len = 0;
    if (rc < 0) {
        hp_buf_fini(&b);
        return hp_errf(err, errlen, rc, "cannot encode the %s request (too large?)",
                       hp_proto_type_name(req->type));
    }
    int nrc = nng_send(cl->sock, b.data, b.len, 0);
    hp_buf_fini(&b);
    if (nrc != 0)
        return nrc == NNG_ETIMEDOUT
                   ? hp_errf(err, errlen, HP_ETIMEDOUT,
                             "cannot reach the coordinator at %s: timed out sending (is "
                             "hpsearchd running? see --coordinator)",
                             cl->url)
                   : unreachable(cl->url, nng_strerror(nrc), err, errlen);
    void *data = NULL;
    size_t len = 0;
    nrc = nng_recv(cl->sock, &data, &len, NNG_FLAG_ALLOC);
    if (nrc != 0)
        return nrc == NNG_ETIMEDOUT
                   ? hp_errf(err, errlen, HP_ETIMEDOUT,
                             "no reply from the coordinator at %s (timed out; is hpsearchd "
                             "running? see --coordinator)",
                             cl->url)
                   : unreachable(cl->url, nng_strerror(nrc), err, errlen);
    Hpsearch__Envelope *env = NULL;
    char derr[256];
    rc = hp_proto_decode(data, len, &env, derr, sizeof derr);
    nng_free(data, len);
    if (rc < 0)
        return hp_errf(err, errlen, rc, "bad reply from the coordinator at %s: %s", cl->url,
                       derr);
    if (env->type == HPSEARCH__MSG_TYPE__ERROR) {
        const char *code = env->error->code ? env->error->code : "ERR";
        const char *msg = env->error->message && *env->error->message ? env->error->message
                                                                      : "request refused";
        /* the code goes on the first line: a refused spec lists one
         * problem per line after it */
        int first = (int)strcspn(msg, "\n");
        rc = hp_errf(err, errlen, code_from_name(code), "%.*s (%s)%s", first, msg, code,
                     msg + first);
        hp_proto_free(env);
        return rc;
    }
    if ((int)env->type != expect) {
        rc = hp_errf(err, errlen, HP_EPROTO,
                     "the coordinator at %s answered %s to %s (expected %s)", cl->url,
                     hp_proto_type_name(env->type), hp_proto_type_name(req->type),
                     hp_proto_type_name(expect));
        hp_proto_free(env);
        return rc;
    }
    *reply = env;
    return 0;
}

int hp_client_study_status(hp_client_t *cl, const char *study, Hpsearch__Envelope **reply,
                           const Hpsearch__StudyStatus **st, char *err, size_t errlen)
{
    *st = NULL;
    Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__StatusRequest q = HPSEARCH__STATUS_REQUEST__INIT;
    q.study = (char *)study;
    req.type = HPSEARCH__MSG_TYPE__STATUS;
    req.body_case = HPSEARCH__ENVELOPE__BODY_STATUS_REQUEST;
    req.status_request = &q;
    int rc = hp_client_call(cl, &req, HPSEARCH__MSG_TYPE__STATUS_REPLY, reply, err, errlen);
    if (rc < 0)
        return rc;
    if ((*reply)->status_reply->n_studies != 1) {
        hp_proto_free(*reply);
        *reply = NULL;
        return hp_errf(err, errlen, HP_ENOENT, "no study named '%s'", study);
    }
    *st = (*reply)->status_reply->studies[0];
    return 0;
}

unsigned hp_study_finished(const Hpsearch__StudyStatus *st)
{
    return st->completed + st->failed + st->pruned + st->cancelled;
}
