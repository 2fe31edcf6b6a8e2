/*
 * api.h — the dashboard's read-only JSON API over a study database. Pure
 * request in, reply out: no sockets, so tests call it on a real database
 * without a server, and the server (dash.h) calls it from its own threads.
 *
 *     hp_dash_reply_t rep;
 *     hp_dash_reply_init(&rep);
 *     hp_dash_api(store, &req, &rep);   // req from hp_dash_req_parse
 *     // rep.status 200 and rep.body.data {"studies":[...]}
 *     hp_dash_reply_fini(&rep);
 *
 * Paths (docs/dashboard.md has each reply's keys):
 *   /api/studies                              every study: state, progress, best
 *   /api/studies/NAME                         one study, with its parsed spec
 *   /api/studies/NAME/trials?offset=&limit=&state=   trials by number, paginated
 *   /api/studies/NAME/trials/N                one trial with its attempts
 *   /api/studies/NAME/trials/N/metrics?offset=&limit=   its metrics
 *   /api/studies/NAME/curves?metric=&offset=&limit=     learning curves, per trial
 *   /api/studies/NAME/attempts?offset=&limit=  attempts with their workers
 *   /api/studies/NAME/events?offset=&limit=    the study's events
 *   /api/studies/NAME/report?trial=N           bias-variance report (common/report_calc.h)
 *   /api/studies/NAME/importance               parameters ranked by fANOVA (importance.h),
 *                                              on the latest HP_DASH_MAX_IMPORTANCE trials
 *   /api/workers?offset=&limit=                the workers table
 * Lists are bounded (limit at most HP_DASH_MAX_LIMIT, or less where the
 * path says) and return "total", "offset" and "limit". Errors are JSON
 * {"error":"NOT_FOUND"|"BAD_PARAM"|"DB", "message":..., "param":...}
 * with 404, 400 or 503.
 */
#ifndef HP_DASH_API_H
#define HP_DASH_API_H

#include "buf.h"
#include "store.h"
#include "url.h"

#define HP_DASH_MAX_LIMIT 5000     /* rows per page of trials, attempts, events, workers */
#define HP_DASH_MAX_CURVES 1000    /* trials per page of curves */
#define HP_DASH_MAX_METRICS 10000  /* rows per page of one trial's metrics */
#define HP_DASH_MAX_IMPORTANCE 2000 /* completed trials the importance forest is fitted to */

typedef struct hp_dash_reply {
    int status;       /* HTTP status */
    const char *type; /* content type (static storage) */
    hp_buf_t body;
} hp_dash_reply_t;

void hp_dash_reply_init(hp_dash_reply_t *rep);
void hp_dash_reply_fini(hp_dash_reply_t *rep);

/* hp_dash_reply_error sets a JSON error reply: status, the stable code
 * ("NOT_FOUND", "BAD_PARAM", ...), the parameter at fault (NULL: none) and
 * the message. */
void hp_dash_reply_error(hp_dash_reply_t *rep, int status, const char *code, const char *param,
                         const char *message);

/* hp_dash_api answers req (whose first segment is "api") from st, a store
 * opened HP_STORE_READONLY, into rep. Never fails: a database error is a
 * 503 reply naming it. Call from the thread that opened st. */
void hp_dash_api(hp_store_t *st, const hp_dash_req_t *req, hp_dash_reply_t *rep);

#endif
