/* Worker sessions (docs/security.md). HELLO gives each registration a
 * random secret; the daemon keeps its SHA-256, in memory and in the store
 * (worker_sessions), never the secret: a restarted daemon reloads the
 * digests, so a worker that ran on through the restart goes on under its
 * session, its results accepted with proof, and nobody else can take its
 * id in the meantime. Each worker process also sends a nonce of its own in
 * every HELLO, so that a HELLO resent after its reply was lost (by nng's
 * REQ, or by the worker after a timeout) is the same registration, never a
 * second worker. */
#include "coord_int.h"

#include "err.h"
#include "log.h"
#include "token.h"

#include <inttypes.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void coord_session_hash(const void *data, size_t len, unsigned char out[HP_SESSION_HASH_BYTES])
{
    /* cannot fail for SHA-256 in memory (mbedTLS returns an error only for
     * hardware accelerators) */
    int rc = mbedtls_sha256_ret(data, len, out, 0);
    HP_ASSERT(rc == 0);
}

static int digest_is(const unsigned char want[HP_SESSION_HASH_BYTES],
                     const ProtobufCBinaryData *got)
{
    if (!got || got->len == 0)
        return 0;
    unsigned char h[HP_SESSION_HASH_BYTES];
    coord_session_hash(got->data, got->len, h);
    return hp_token_equal(h, sizeof h, want, HP_SESSION_HASH_BYTES);
}

int coord_session_is(const coord_worker_t *w, const ProtobufCBinaryData *got)
{
    return digest_is(w->session_sha256, got);
}

int coord_session_same_worker(const coord_worker_t *w, const Hpsearch__Envelope *e,
                              const ProtobufCBinaryData *nonce)
{
    return coord_session_is(w, &e->session) ||
           (w->has_hello_sha && digest_is(w->hello_sha256, &e->session)) ||
           (w->has_nonce && digest_is(w->nonce_sha256, nonce));
}

coord_worker_t *coord_session_by_nonce(coord_t *c, const ProtobufCBinaryData *nonce)
{
    if (!nonce || nonce->len == 0)
        return NULL;
    unsigned char h[HP_SESSION_HASH_BYTES];
    coord_session_hash(nonce->data, nonce->len, h);
    for (size_t i = 0; i < c->workers.n; i++) {
        coord_worker_t *w = &c->workers.v[i];
        if (w->has_nonce && hp_token_equal(h, sizeof h, w->nonce_sha256, sizeof w->nonce_sha256))
            return w;
    }
    return NULL;
}

int coord_session_is_resend(const coord_worker_t *w, const Hpsearch__Envelope *e,
                            const ProtobufCBinaryData *nonce)
{
    return w->has_secret && w->has_nonce && e->seq == w->hello_seq &&
           digest_is(w->nonce_sha256, nonce);
}

int coord_session_begin(coord_t *c, coord_worker_t *w, const Hpsearch__Envelope *e,
                        const ProtobufCBinaryData *nonce, char *err, size_t errlen)
{
    if (hp_random_bytes(w->session, sizeof w->session, err, errlen) < 0)
        return HP_EIO;
    w->has_secret = 1;
    coord_session_hash(w->session, sizeof w->session, w->session_sha256);
    w->has_hello_sha = e->session.len > 0;
    if (w->has_hello_sha)
        coord_session_hash(e->session.data, e->session.len, w->hello_sha256);
    /* a HELLO without a nonce (a client of its own making) keeps the one
     * the worker had: it proves nothing new, and takes nothing away */
    if (nonce && nonce->len) {
        coord_session_hash(nonce->data, nonce->len, w->nonce_sha256);
        w->has_nonce = 1;
    }
    w->hello_seq = e->seq;
    w->restored = 0;
    hp_worker_session_t ws = {.worker_id = w->id_str, .has_secret = 1,
                              .has_nonce = w->has_nonce, .hello_seq = w->hello_seq};
    memcpy(ws.secret_sha256, w->session_sha256, sizeof ws.secret_sha256);
    memcpy(ws.nonce_sha256, w->nonce_sha256, sizeof ws.nonce_sha256);
    int rc = coord_write_begin(c);
    if (rc == 0)
        rc = hp_store_session_put(c->store, &ws, err, errlen);
    else
        snprintf(err, errlen, "database unavailable");
    return rc;
}

static int restore_one(void *data, const hp_worker_session_t *ws, const char *host, int slots,
                       int cores)
{
    coord_t *c = data;
    uint64_t id = strtoull(ws->worker_id, NULL, 10);
    if (id == 0 || coord_worker_by_id(c, id))
        return 0;
    coord_worker_t w = {.id = id, .restored = 1, .alive = 1};
    snprintf(w.id_str, sizeof w.id_str, "%" PRIu64, id);
    snprintf(w.host, sizeof w.host, "%s", host);
    snprintf(w.peer, sizeof w.peer, "(not heard from since the restart)");
    w.slots = slots > 0 ? (uint32_t)slots : 0;
    w.cores = cores > 0 ? (uint32_t)cores : 0;
    memcpy(w.session_sha256, ws->secret_sha256, sizeof w.session_sha256);
    w.has_nonce = ws->has_nonce;
    if (ws->has_nonce)
        memcpy(w.nonce_sha256, ws->nonce_sha256, sizeof w.nonce_sha256);
    w.hello_seq = ws->hello_seq;
    /* silent from now on is lost the restart grace later (coord.c) */
    w.last_seen_ms = coord_now_ms(c);
    HP_VEC_PUSH(c->workers, w);
    return 0;
}

int coord_sessions_restore(coord_t *c, char *err, size_t errlen)
{
    size_t before = c->workers.n;
    int rc = hp_store_session_list_live(c->store, restore_one, c, err, errlen);
    if (rc < 0)
        return rc;
    if (c->workers.n > before)
        hp_log_info("restored the sessions of %zu workers: those that ran on go on without "
                    "a HELLO",
                    c->workers.n - before);
    return 0;
}
