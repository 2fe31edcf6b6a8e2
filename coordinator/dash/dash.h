/*
 * dash.h — the web dashboard's server: nng's HTTP server, answering from
 * its own threads, each with its own read-only SQLite connection, so a
 * daemon that runs one (hpsearchd --http) never waits for a page, and
 * `hpsearch dashboard --db FILE` serves a file another process writes.
 *
 *     hp_dash_config_t cfg = {.db = "hp.db", .listen = "http://127.0.0.1:7523"};
 *     hp_dash_t *d;
 *     if (hp_dash_start(&d, &cfg, err, sizeof err) < 0) ...
 *     printf("dashboard: %s\n", hp_dash_url(d));   // the port chosen for :0
 *     ...
 *     hp_dash_stop(d);
 *
 * What it serves: the JSON API (api.h) under /api/, the pages / and
 * /studies/NAME, and their scripts, among them the charting library that
 * the build installs with npm (web.h says where they are looked for). Only
 * GET is answered (405 otherwise). On https:// nng's TLS (mbedTLS)
 * carries every request, and a plain-HTTP request to that port gets no
 * answer. With a token, every request must carry
 * it: header "Authorization: Bearer TOKEN", or ?token=TOKEN (the page then
 * gets a cookie holding it, so its scripts and API calls carry it too).
 */
#ifndef HP_DASH_H
#define HP_DASH_H

#include <stddef.h>

#include "tls.h"

#define HP_DASH_DEFAULT_LISTEN "http://127.0.0.1:7523"

typedef struct hp_dash hp_dash_t;

typedef struct hp_dash_config {
    const char *db;      /* the database file, opened read-only per thread */
    const char *listen;  /* http://HOST:PORT or https://HOST:PORT; port 0 picks a free one */
    const hp_tls_t *tls; /* https://: an HP_TLS_HTTPS hp_tls_t (read at start; the
                          * caller keeps it); NULL for http:// */
    const char *token;   /* NULL or "": no token (then listen must be loopback) */
    size_t token_len;
    const char *web_dir; /* NULL: hp_dash_web_dir() */
    int threads;         /* 0: 2 */
    int nice;            /* the serving threads' nice value: hpsearchd and `hpsearch run
                          * --dashboard` give 10, below the daemon's loop and the workers
                          * on the same host; 0 keeps the program's own */
} hp_dash_config_t;

/* hp_dash_start loads the page assets, binds listen and starts serving.
 * Refuses (HP_EAUTH) a listen address off loopback without a token, and
 * (HP_EINVAL) https:// without tls or tls with http://; the
 * database need not exist yet (requests get 503 until it does). Returns 0,
 * or a negative hp_err with err naming the problem. Any thread. */
int hp_dash_start(hp_dash_t **d, const hp_dash_config_t *cfg, char *err, size_t errlen);

/* hp_dash_is_loopback reports whether an http:// or https:// URL names a
 * loopback address (127.x, localhost, [::1]): one other hosts cannot reach. */
int hp_dash_is_loopback(const char *url);

/* hp_dash_url returns the URL being served, with the port bound (owned by d). */
const char *hp_dash_url(const hp_dash_t *d);

/* hp_dash_stop stops the server, waits for its threads and frees d. NULL
 * is allowed. Not from a request's thread. */
void hp_dash_stop(hp_dash_t *d);

/* hp_dash_web_dir returns where the page assets are looked for when the
 * config names none: $HPSEARCH_WEB_DIR, else BINDIR/../share/hpsearch/web
 * beside the running binary when it holds them, else the build tree's
 * (compiled in). Static storage. */
const char *hp_dash_web_dir(void);

#endif
