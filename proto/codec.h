/*
 * codec.h — encoding and decoding hpsearch envelopes (proto/hpsearch.proto).
 *
 * Decoding is where untrusted bytes enter a process, so hp_proto_decode does
 * every check a receiver needs before it touches a field: size limit, wire
 * format, protocol version, a known message type that agrees with the body,
 * bounded strings and repeated fields, enums in range, lease references
 * present where required. A message that passes can be used without further
 * paranoia; one that fails yields HP_EPROTO / HP_EVERSION and a sentence that
 * says what was wrong, which the receiver logs and sends back in an ERROR.
 *
 *     Hpsearch__Envelope *env;
 *     char err[256];
 *     int rc = hp_proto_decode(buf, len, &env, err, sizeof err);
 *     if (rc < 0) { reply_error(rc, err); return; }
 *     switch (env->type) { case HPSEARCH__MSG_TYPE__HELLO: ... }
 *     hp_proto_free(env);
 *
 * Encoding: fill an envelope (HPSEARCH__ENVELOPE__INIT), set its type and
 * body with hp_proto_set_body, then hp_proto_encode:
 *
 *     Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
 *     Hpsearch__Ack ack = HPSEARCH__ACK__INIT;
 *     hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__ACK, &ack);
 *     hp_proto_encode(&env, &buf);
 *
 * All functions are thread-safe (no shared state).
 */
#ifndef HP_PROTO_CODEC_H
#define HP_PROTO_CODEC_H

#include "buf.h"
#include "hpsearch.pb-c.h"

#include <stddef.h>
#include <stdint.h>

#define HP_PROTO_VERSION 1u
/* Largest envelope either side accepts (a spec is at most 1 MiB). */
#define HP_PROTO_MAX_MSG (4u << 20)
/* The longest a worker waits between two dials of a coordinator it lost
 * (nng's RECONNMAXT; the wait starts at 100 ms and doubles). A restarted
 * coordinator gives the workers it knew this much beyond a lease to come
 * back, or one whose backoff had grown while it was down would be taken
 * for lost before it dialled again. */
#define HP_PROTO_REDIAL_MAX_MS 5000u
/* Bounds enforced on decode. */
#define HP_PROTO_MAX_STRING (1u << 20)  /* spec text, query, params json; bytes
                                           fields but the auth token (a trial's output) */
#define HP_PROTO_MAX_NAME 256u          /* hostnames, metric and param names */
#define HP_PROTO_MAX_REPEATED 100000u   /* metrics, leases, rows... */
#define HP_PROTO_MAX_TOKEN 1024u
/* A worker's session secret: what HELLO_REPLY gives (HP_PROTO_SESSION_BYTES
 * random bytes) and the most a client keeps of one. */
#define HP_PROTO_SESSION_BYTES 32u
#define HP_PROTO_MAX_SESSION 64u

/* hp_proto_type_name returns "HELLO", "RESULT", ... or "UNKNOWN". */
const char *hp_proto_type_name(int type);

/* hp_proto_body_case returns the oneof body case a message type must carry,
 * or 0 (not set) for an unknown type. */
int hp_proto_body_case(int type);

/* hp_proto_set_body sets env's type and makes body (a message of the
 * kind that type carries, owned by the caller) its oneof body. */
void hp_proto_set_body(Hpsearch__Envelope *env, int type, void *body);

/* hp_proto_encode packs env into out (replacing its contents). It sets
 * env->version to HP_PROTO_VERSION when it is 0. Returns 0, or HP_EINVAL
 * when the type and body disagree or the result exceeds HP_PROTO_MAX_MSG. */
int hp_proto_encode(Hpsearch__Envelope *env, hp_buf_t *out);

/* hp_proto_decode unpacks and validates len bytes. On success *out owns
 * the message (free with hp_proto_free). On failure *out is NULL, err says
 * why, and the code is HP_EVERSION (other protocol version), HP_EPROTO
 * (anything malformed) or HP_ENOMEM. */
int hp_proto_decode(const void *data, size_t len, Hpsearch__Envelope **out,
                    char *err, size_t errlen);

void hp_proto_free(Hpsearch__Envelope *env); /* NULL ok */

/* hp_proto_error_code maps an hp_err_t to the stable upper-case code sent
 * in ERROR replies ("EVERSION", "EPROTO", "EAUTH", "ENOENT", ...). */
const char *hp_proto_error_code(int hp_err);

/* hp_proto_error_from_code is hp_proto_error_code backwards: the hp_err_t
 * an ERROR reply's code names, or HP_EPROTO for a code this side does not
 * know (including "ERR", which stands for any code without a name). */
int hp_proto_error_from_code(const char *code);

/* hp_proto_encode_error builds a complete ERROR envelope in out. */
void hp_proto_encode_error(hp_buf_t *out, int hp_err, const char *message);

/* hp_proto_token_equal compares a received token with the expected one in
 * time independent of where they differ. */
int hp_proto_token_equal(const ProtobufCBinaryData *got, const char *expected,
                         size_t expected_len);

#endif
