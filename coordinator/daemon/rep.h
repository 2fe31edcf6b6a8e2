/*
 * rep.h — an nng REP socket served from a libuv loop.
 *
 * nng completes receives on its own threads; this module hands each
 * request to the loop thread through a mutex-protected queue and one
 * uv_async_t (libuv coalesces async sends, so the loop drains the whole
 * queue each time). Requests are answered from the loop with hp_rep_reply,
 * immediately or later: a context that is not answered yet simply stays
 * parked (that is how the coordinator holds GET_TRIAL open). A pool of
 * contexts bounds how many requests can be outstanding at once.
 *
 *     hp_rep_t *r;
 *     hp_rep_open(&r, loop, "tcp://127.0.0.1:5555", 256, on_request, data, err, n);
 *     // on the loop thread, for each request:
 *     static void on_request(void *data, hp_rep_req_t *req, const void *buf, size_t len) {
 *         hp_rep_reply(req, reply, reply_len);      // now or later
 *     }
 *     hp_rep_close(r);                               // loop thread; drops parked requests
 *
 * Per DESIGN.md, nng callbacks never touch libuv handles or SQLite, and no
 * pollable fds are used (they do not mix with contexts).
 */
#ifndef HP_REP_H
#define HP_REP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct hp_rep hp_rep_t;
typedef struct hp_rep_req hp_rep_req_t;

/* Called on the loop thread for each request. buf is valid only during the
 * call. req must eventually get exactly one hp_rep_reply (or be dropped by
 * hp_rep_close). pipe_id names the connection it came on. */
typedef void (*hp_rep_request_cb)(void *data, hp_rep_req_t *req, const void *buf, size_t len,
                                  uint32_t pipe_id);
/* Called on the loop thread when a connection closes. */
typedef void (*hp_rep_pipe_cb)(void *data, uint32_t pipe_id);

/* The largest message received. Above the protocol's own limit
 * (HP_PROTO_MAX_MSG), so a message a little too large still reaches the
 * decoder, which refuses it with an ERROR reply and a log line; a larger
 * one is dropped by nng with its connection (a REP socket cannot answer
 * what it never received), and hp_rep logs a connection that closed
 * before any message arrived on it. */
#define HP_REP_RECV_MAX (8u << 20)

/* hp_rep_open listens on url with ncontexts contexts. Returns 0 or
 * HP_EINVAL (bad URL), HP_EBUSY (address in use), HP_ENOMEM, with err. */
int hp_rep_open(hp_rep_t **out, uv_loop_t *loop, const char *url, unsigned ncontexts,
                hp_rep_request_cb on_request, hp_rep_pipe_cb on_pipe_closed, void *data, char *err,
                size_t errlen);

struct hp_tls;
/* hp_rep_open_tls is hp_rep_open for a socket that may be tls+tcp://: tls
 * (a server's, hp_tls_new; NULL for a plain URL) configures the listener,
 * and the handshakes it refuses are logged each second as "NAME socket
 * URL: N TLS handshake(s) refused ..." (nng tells no more: no address). */
int hp_rep_open_tls(hp_rep_t **out, uv_loop_t *loop, const char *name, const char *url,
                    const struct hp_tls *tls, unsigned ncontexts, hp_rep_request_cb on_request,
                    hp_rep_pipe_cb on_pipe_closed, void *data, char *err, size_t errlen);

/* hp_rep_reply sends len bytes as the reply to req and re-arms its
 * context. Loop thread only. req is invalid afterwards. */
void hp_rep_reply(hp_rep_req_t *req, const void *buf, size_t len);

/* hp_rep_req_age says how long ago req arrived (nng handed it over, on
 * its thread) in *total_ms, and how much of that it waited for the loop
 * to read it in *queued_ms. Loop thread, while req is unanswered. */
void hp_rep_req_age(const hp_rep_req_t *req, double *total_ms, double *queued_ms);

/* hp_rep_req_peer writes who sent req, the key failed authentications
 * and registrations are counted under: "tcp 10.0.0.5" or "tcp6 ::1" (the
 * address, not the port: one host is one peer), "ipc uid 1000", or
 * "unknown" when nng cannot say (the connection already gone). Loop
 * thread, while req is unanswered. */
void hp_rep_req_peer(const hp_rep_req_t *req, char *out, size_t cap);

/* hp_rep_parked returns how many requests are delivered but not yet answered. */
unsigned hp_rep_parked(const hp_rep_t *r);

/* hp_rep_close closes the socket (parked requests are dropped; their
 * clients' REQ sockets will resend elsewhere or time out), stops every
 * context and frees r. Loop thread only; the uv handle is closed with
 * uv_close, so let the loop run once more before destroying it. */
void hp_rep_close(hp_rep_t *r);

#endif
