/* The control-socket client: nng REQ, one envelope per request, through
 * proto/request.c; this file words its failures for the user. */
#include "client.h"

#include "err.h"
#include "nng_err.h"
#include "request.h"
#include "tls.h"

#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hp_client {
    nng_socket sock;
    nng_ctx ctx;
    int timeout_ms;
    char url[512];
    char token[HP_PROTO_MAX_TOKEN + 1];
    size_t token_len;
    char token_file[512]; /* where the token came from, for EAUTH's hint */
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
    snprintf(cl->token_file, sizeof cl->token_file, "%s", path);
    return 0;
}

static int unreachable(const char *url, const char *why, char *err, size_t errlen)
{
    return hp_errf(err, errlen, HP_ECONNREFUSED,
                   "cannot reach the coordinator at %s: %s (is hpsearchd running? see "
                   "--coordinator)",
                   url, why);
}

/* the first dial failed on a tls+tcp:// URL: nng's words ("Cryptographic
 * error") do not say what to fix, so the handshake is tried again with
 * mbedTLS (hp_tls_diagnose) for the reason */
static int tls_refused(const hp_tls_t *tls, const char *url, const char *nng_words, char *err,
                       size_t errlen)
{
    char why[512];
    int d = hp_tls_diagnose(tls, url, 5000, why, sizeof why);
    if (d == 1)
        return hp_errf(err, errlen, HP_EAUTH, "TLS handshake with %s failed: %s", url, why);
    return unreachable(url, d < 0 ? why : nng_words, err, errlen);
}

static int open_url(hp_client_t **out, const char *url, const char *token_file,
                    const hp_tls_files_t *tls_files, int timeout_ms, char *err, size_t errlen)
{
    *out = NULL;
    const char *urls[] = {url};
    hp_tls_t *tls = NULL;
    char warn[1024] = "";
    int trc;
    if ((trc = hp_tls_check_flags(tls_files, urls, 1, err, errlen)) < 0 ||
        (hp_tls_wanted(tls_files) &&
         (trc = hp_tls_new(&tls, HP_TLS_CLIENT, tls_files, warn, sizeof warn, err, errlen)) < 0))
        return trc;
    for (char *w = warn, *nl; *w; w = nl ? nl + 1 : w + strlen(w)) {
        nl = strchr(w, '\n');
        fprintf(stderr, "hpsearch: warning: %.*s\n", nl ? (int)(nl - w) : (int)strlen(w), w);
    }
    hp_client_t *cl = calloc(1, sizeof *cl);
    if (!cl) {
        hp_tls_free(tls);
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    }
    snprintf(cl->url, sizeof cl->url, "%s", url);
    int rc;
    if (token_file && *token_file && (rc = read_token(cl, token_file, err, errlen)) < 0) {
        hp_tls_free(tls);
        free(cl);
        return rc;
    }
    int nrc = nng_req0_open(&cl->sock);
    if (nrc != 0) {
        hp_tls_free(tls);
        free(cl);
        return hp_errf(err, errlen, hp_err_from_nng(nrc), "cannot open a socket: %s",
                       nng_strerror(nrc));
    }
    if ((nrc = nng_ctx_open(&cl->ctx, cl->sock)) != 0) {
        hp_tls_free(tls);
        nng_close(cl->sock);
        free(cl);
        return hp_errf(err, errlen, hp_err_from_nng(nrc), "cannot open a socket context: %s",
                       nng_strerror(nrc));
    }
    cl->timeout_ms = timeout_ms > 0 ? timeout_ms : HP_CLIENT_TIMEOUT_MS;
    /* a request is resent only if the pipe drops; never while the daemon
     * is working on it (a SUBMIT must not be applied twice for nothing) */
    nng_ctx_set_ms(cl->ctx, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    /* a blocking dial fails at once when nothing listens, which is the
     * common mistake; later the socket redials by itself */
    char why[256], tls_why[512];
    rc = hp_tls_dial(cl->sock, url, tls, 0, NULL, why, sizeof why);
    if (rc < 0) {
        if (rc == HP_EINVAL)
            rc = hp_errf(err, errlen, HP_EINVAL,
                         "'%s' is not a coordinator URL (%s); expected e.g. tcp://head:7522, "
                         "tls+tcp://head:7522 or ipc:///path/control.sock",
                         url, why);
        else if (tls && rc != HP_ECONNREFUSED)
            rc = tls_refused(tls, url, why, err, errlen);
        else if (rc == HP_ECLOSED && strncmp(url, "tcp://", 6) == 0 &&
                 hp_tls_diagnose(NULL, url, 5000, tls_why, sizeof tls_why) == 1)
            /* a plain dial that a TLS socket hung up on */
            rc = hp_errf(err, errlen, HP_ECLOSED, "cannot talk to the coordinator at %s: %s",
                         url, tls_why);
        else
            rc = unreachable(url, why, err, errlen);
        hp_tls_free(tls);
        nng_close(cl->sock);
        free(cl);
        return rc;
    }
    hp_tls_free(tls); /* the dialer keeps its own configuration */
    *out = cl;
    return 0;
}

int hp_client_open_url(hp_client_t **out, const char *url, const char *token_file,
                       int timeout_ms, char *err, size_t errlen)
{
    hp_tls_files_t none = {0};
    return open_url(out, url, token_file, &none, timeout_ms, err, errlen);
}

int hp_client_open(hp_client_t **out, const hp_cli_t *cli, char *err, size_t errlen)
{
    hp_tls_files_t tls = {cli->tls_ca, cli->tls_cert, cli->tls_key};
    return open_url(out, hp_client_url(cli), cli->token_file, &tls, cli->timeout_ms, err,
                    errlen);
}

void hp_client_close(hp_client_t *cl)
{
    if (!cl)
        return;
    nng_close(cl->sock);
    free(cl);
}

int hp_client_call(hp_client_t *cl, Hpsearch__Envelope *req, int expect,
                   Hpsearch__Envelope **reply, char *err, size_t errlen)
{
    *reply = NULL;
    hp_request_t rq = {.ctx = cl->ctx, .timeout_ms = cl->timeout_ms, .seq = ++cl->seq};
    if (cl->token_len) {
        rq.token = cl->token;
        rq.token_len = cl->token_len;
    }
    Hpsearch__Envelope *env = NULL;
    hp_request_step_t step;
    char why[256];
    int rc = hp_request_exchange(&rq, req, &env, &step, why, sizeof why);
    if (rc < 0) {
        switch (step) {
        case HP_REQUEST_ENCODE:
            return hp_errf(err, errlen, rc, "cannot encode the %s request (too large?)",
                           hp_proto_type_name(req->type));
        case HP_REQUEST_SEND:
            return rc == HP_ETIMEDOUT
                       ? hp_errf(err, errlen, HP_ETIMEDOUT,
                                 "cannot reach the coordinator at %s: timed out sending (is "
                                 "hpsearchd running? see --coordinator)",
                                 cl->url)
                       : unreachable(cl->url, why, err, errlen);
        case HP_REQUEST_RECV:
            return rc == HP_ETIMEDOUT
                       ? hp_errf(err, errlen, HP_ETIMEDOUT,
                                 "no reply from the coordinator at %s (timed out; is hpsearchd "
                                 "running? see --coordinator)",
                                 cl->url)
                       : unreachable(cl->url, why, err, errlen);
        case HP_REQUEST_DECODE:
            return hp_errf(err, errlen, rc, "bad reply from the coordinator at %s: %s", cl->url,
                           why);
        default:
            return hp_errf(err, errlen, rc, "%s", why);
        }
    }
    if (env->type == HPSEARCH__MSG_TYPE__ERROR) {
        const char *code = env->error->code ? env->error->code : "ERR";
        const char *msg = env->error->message && *env->error->message ? env->error->message
                                                                      : "request refused";
        /* the code goes on the first line: a refused spec lists one
         * problem per line after it */
        int first = (int)strcspn(msg, "\n");
        int code_rc = hp_proto_error_from_code(code);
        char hint[700] = "";
        if (code_rc == HP_EAUTH && cl->token_len)
            snprintf(hint, sizeof hint,
                     "; the token in %s is not the daemon's: give the file hpsearchd "
                     "--token-file reads with --token-file FILE or $HPSEARCH_TOKEN_FILE",
                     cl->token_file);
        else if (code_rc == HP_EAUTH)
            snprintf(hint, sizeof hint,
                     "; the daemon needs its token: pass --token-file FILE (the file hpsearchd "
                     "--token-file reads) or set $HPSEARCH_TOKEN_FILE");
        rc = hp_errf(err, errlen, code_rc, "%.*s (%s)%s%s", first, msg, code, hint, msg + first);
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
    hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__STATUS, &q);
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
