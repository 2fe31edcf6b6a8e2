/*
 * client.h — the hpsearch side of the control socket: one nng REQ socket
 * dialled to the daemon's --control URL, one envelope out, one reply back
 * (the exchange itself is proto/request.h's; this adds the token file, the
 * URL and errors worded for the user).
 *
 *     hp_client_t *cl;
 *     char err[512];
 *     if (hp_client_open(&cl, cli, err, sizeof err) < 0)
 *         return hp_cli_fail(cli, cmd, "%s", err);
 *     Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT, *rep;
 *     Hpsearch__CancelStudy body = HPSEARCH__CANCEL_STUDY__INIT;
 *     hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__CANCEL_STUDY, &body);
 *     if (hp_client_call(cl, &req, HPSEARCH__MSG_TYPE__ACK, &rep, err, sizeof err) < 0)
 *         ...print err, exit 1...
 *     hp_proto_free(rep);
 *     hp_client_close(cl);
 *
 * Errors are sentences meant for the user: an unreachable daemon says which
 * URL and what to check; an ERROR reply becomes "MESSAGE (CODE)". A client
 * is used from one thread.
 */
#ifndef HP_CLI_CLIENT_H
#define HP_CLI_CLIENT_H

#include "cli.h"
#include "codec.h"

#include <stddef.h>

/* The daemon's default --control URL. */
#define HP_CLIENT_DEFAULT_URL "tcp://127.0.0.1:7522"
/* How long a request waits for its reply unless cli->timeout_ms says. */
#define HP_CLIENT_TIMEOUT_MS 30000

typedef struct hp_client hp_client_t;

/* hp_client_url returns the URL the verbs talk to: cli->coordinator or the
 * default. */
const char *hp_client_url(const hp_cli_t *cli);

/* hp_client_open finds the token (cli->token_file, else
 * $HPSEARCH_TOKEN_FILE, else the token file the daemon published for the
 * URL: common/rundir.h; none is no error) and dials the coordinator. Fails at once with HP_ECONNREFUSED if nothing listens there
 * ("cannot reach the coordinator at URL: ... (is hpsearchd running? see
 * --coordinator)"), HP_ENOENT/HP_EINVAL for an unreadable token file.
 * Free with hp_client_close. */
int hp_client_open(hp_client_t **out, const hp_cli_t *cli, char *err, size_t errlen);

/* hp_client_open_url is hp_client_open for an explicit URL and token file
 * (NULL: none); `run` uses it for the daemon it starts. */
int hp_client_open_url(hp_client_t **out, const char *url, const char *token_file,
                       int timeout_ms, char *err, size_t errlen);

void hp_client_close(hp_client_t *cl); /* NULL ok */

/* hp_client_call sends req (its version, seq and auth token are filled in)
 * and waits for the reply. On success *reply (free with hp_proto_free) has
 * type `expect`. An ERROR reply returns its code mapped back to an hp_err
 * (HP_ENOENT, HP_EEXIST, ...; HP_EPROTO if unknown) with err holding
 * "MESSAGE (CODE)" (for EAUTH followed by how to give the token:
 * --token-file or $HPSEARCH_TOKEN_FILE); a timeout returns HP_ETIMEDOUT;
 * any other reply type HP_EPROTO. */
int hp_client_call(hp_client_t *cl, Hpsearch__Envelope *req, int expect,
                   Hpsearch__Envelope **reply, char *err, size_t errlen);

/* hp_client_study_status asks STATUS for one study (name or id). On
 * success *reply owns the answer and *st points into it (free *reply with
 * hp_proto_free). Errors as hp_client_call; HP_ENOENT for no such study. */
int hp_client_study_status(hp_client_t *cl, const char *study, Hpsearch__Envelope **reply,
                           const Hpsearch__StudyStatus **st, char *err, size_t errlen);

/* hp_study_finished counts a study's trials in a final state. */
unsigned hp_study_finished(const Hpsearch__StudyStatus *st);

#endif
