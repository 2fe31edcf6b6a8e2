/* The dashboard's server (see dash.h): nng's HTTP server takes requests
 * on nng's threads and hands each to a queue; our own threads, each with
 * its own read-only store, answer them and complete the aio. So neither
 * nng's threads (which the daemon's sockets share) nor the daemon's loop
 * ever run a query for the page. */
#include "dash.h"

#include "api.h"
#include "err.h"
#include "log.h"
#include "nng_err.h"
#include "store.h"
#include "url.h"
#include "web.h"

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/tls/tls.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_THREADS 8
#define MAX_QUEUE 256 /* requests waiting beyond this get 503 at once */
#define CACHE_SLOTS 64
#define CACHE_MAX_BYTES ((size_t)64 << 20) /* bodies kept at most, all slots together */
/* A reply younger than this is served again to the same request whatever
 * the daemon wrote since: however many clients poll, each API request
 * costs at most one query per interval (the page polls every second, so
 * it stays under 2 s behind). */
#define CACHE_FRESH_S 0.5
/* Files not modified for this long when a reply was read: the reply stays
 * valid until they change (a later commit moves their time, which the
 * kernel keeps only to a clock tick, further than this). */
#define CACHE_SETTLED_S 1.0

/* What the database files looked like: equal keys, unchanged data (a
 * commit appends to the WAL or, after a checkpoint, rewrites it: its size or
 * time moves). */
typedef struct db_key {
    off_t size[2];
    struct timespec mtime[2];
    int settled; /* both files older than CACHE_SETTLED_S when the key was taken */
} db_key_t;

/* A recent API reply, served again to whoever asks the same while the
 * database is unchanged or the reply is fresh: 50 viewers of one running
 * study cost one query per interval. */
typedef struct cached {
    char *uri;
    db_key_t key;
    double at; /* CLOCK_MONOTONIC seconds */
    int status;
    const char *type;
    char *body;
    size_t len;
} cached_t;

/* A request to answer (aio), or a study page's first replies to compute
 * ahead of its scripts' requests (warm: the study's name). */
typedef struct job {
    nng_aio *aio;
    char *warm;
    struct job *next;
} job_t;

struct hp_dash {
    hp_dash_web_t web;
    char db[4096];
    char token[1024];
    size_t token_len;
    char url[512];
    int https;
    int nice;
    nng_url *nurl;
    nng_http_server *srv;
    nng_http_handler *h;
    pthread_t thr[MAX_THREADS];
    int nthr;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job_t *head, *tail;
    int queued;
    int stopping;
    pthread_mutex_t cache_mu;
    cached_t cache[CACHE_SLOTS];
    int cache_next;
    size_t cache_bytes;
    pthread_cond_t cache_cv;         /* a query in flight ended */
    const char *inflight[MAX_THREADS]; /* the URI each serving thread queries, or NULL */
};

/* the compiled-in build tree's assets (CMake: HP_WEB_BUILD_DIR) */
#ifndef HP_WEB_BUILD_DIR
#define HP_WEB_BUILD_DIR ""
#endif

const char *hp_dash_web_dir(void)
{
    static char dir[PATH_MAX + 64];
    const char *env = getenv("HPSEARCH_WEB_DIR");
    if (env && *env)
        return env;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(dir, sizeof dir, "%s/../share/hpsearch/web", exe);
            char probe[sizeof dir + 32];
            snprintf(probe, sizeof probe, "%s/index.html", dir);
            if (access(probe, R_OK) == 0)
                return dir;
        }
    }
    return HP_WEB_BUILD_DIR;
}

/* constant-time comparison of a presented token */
static int token_ok(const hp_dash_t *d, const char *t, size_t n)
{
    if (!t || n != d->token_len)
        return 0;
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(t[i] ^ d->token[i]);
    return diff == 0;
}

/* the token in "hp_token=..." of a Cookie header, or NULL */
static const char *cookie_token(const char *cookie, size_t *n)
{
    for (const char *p = cookie; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        size_t len = strcspn(p, ";");
        if (strncmp(p, "hp_token=", 9) == 0) {
            *n = len - 9;
            return p + 9;
        }
        p += len;
    }
    return NULL;
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void db_key(const hp_dash_t *d, db_key_t *k)
{
    memset(k, 0, sizeof *k);
    char wal[sizeof d->db + 8];
    snprintf(wal, sizeof wal, "%s-wal", d->db);
    const char *files[2] = {d->db, wal};
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    k->settled = 1;
    for (int i = 0; i < 2; i++) {
        struct stat st;
        if (stat(files[i], &st) == 0) {
            k->size[i] = st.st_size;
            k->mtime[i] = st.st_mtim;
            double age = (double)(now.tv_sec - st.st_mtim.tv_sec) +
                         (now.tv_nsec - st.st_mtim.tv_nsec) / 1e9;
            k->settled &= age > CACHE_SETTLED_S;
        }
    }
}

static int same_key(const db_key_t *a, const db_key_t *b)
{
    for (int i = 0; i < 2; i++)
        if (a->size[i] != b->size[i] || a->mtime[i].tv_sec != b->mtime[i].tv_sec ||
            a->mtime[i].tv_nsec != b->mtime[i].tv_nsec)
            return 0;
    return 1;
}

/* 1 and the cached reply in rep when uri was answered at key, recently;
 * *age its age in seconds */
static int cache_get(hp_dash_t *d, const char *uri, const db_key_t *key, hp_dash_reply_t *rep,
                     double *age)
{
    int hit = 0;
    double now = mono_now();
    pthread_mutex_lock(&d->cache_mu);
    for (int i = 0; i < CACHE_SLOTS && !hit; i++) {
        cached_t *c = &d->cache[i];
        int valid = now - c->at <= CACHE_FRESH_S || (c->key.settled && same_key(&c->key, key));
        if (c->uri && valid && strcmp(c->uri, uri) == 0) {
            rep->status = c->status;
            rep->type = c->type;
            hp_buf_reset(&rep->body);
            hp_buf_append(&rep->body, c->body, c->len);
            /* unchanged files: the reply is the database as it is now */
            *age = c->key.settled && same_key(&c->key, key) ? 0 : now - c->at;
            hit = 1;
        }
    }
    pthread_mutex_unlock(&d->cache_mu);
    return hit;
}

/* with cache_mu held */
static void cache_drop(hp_dash_t *d, cached_t *c)
{
    d->cache_bytes -= c->uri ? c->len : 0;
    free(c->uri);
    free(c->body);
    memset(c, 0, sizeof *c);
}

static void cache_put(hp_dash_t *d, const char *uri, const db_key_t *key, double at,
                      const hp_dash_reply_t *rep)
{
    char *u = strdup(uri), *body = malloc(rep->body.len + 1);
    if (!u || !body) {
        free(u);
        free(body);
        return;
    }
    memcpy(body, rep->body.data ? rep->body.data : "", rep->body.len);
    pthread_mutex_lock(&d->cache_mu);
    /* the same request's older reply goes first, then the oldest, until
     * the bodies fit */
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (d->cache[i].uri && strcmp(d->cache[i].uri, uri) == 0)
            cache_drop(d, &d->cache[i]);
    for (int i = 0; i < CACHE_SLOTS && d->cache_bytes + rep->body.len > CACHE_MAX_BYTES; i++)
        cache_drop(d, &d->cache[(d->cache_next + i) % CACHE_SLOTS]);
    cached_t *c = &d->cache[d->cache_next];
    d->cache_next = (d->cache_next + 1) % CACHE_SLOTS;
    cache_drop(d, c);
    *c = (cached_t){.uri = u, .key = *key, .at = at, .status = rep->status, .type = rep->type,
                    .body = body, .len = rep->body.len};
    d->cache_bytes += rep->body.len;
    pthread_mutex_unlock(&d->cache_mu);
}

typedef struct answer {
    hp_dash_reply_t rep;
    const hp_dash_asset_t *asset; /* served as it is instead of rep.body */
    int set_cookie;
    int api;    /* an API reply: it says its age */
    double age; /* seconds since its query ran (a cached reply) */
} answer_t;

/* An API request (r parsed from uri): the cached reply, or a query on the
 * thread's own read-only connection *store (opened on first use). */
static void api_answer(hp_dash_t *d, hp_store_t **store, const char *uri, const hp_dash_req_t *r,
                       answer_t *ans)
{
    hp_dash_reply_t *rep = &ans->rep;
    char err[512];
    /* the key is taken before the query: a commit during it makes the
     * entry stale at once, never a newer key for older data */
    db_key_t key;
    db_key(d, &key);
    double at = mono_now();
    ans->api = 1;
    if (cache_get(d, uri, &key, rep, &ans->age))
        return;
    /* the same request in flight on another thread (a page's request while
     * its warm-up runs, or many clients at once): wait for its reply
     * rather than run the query twice */
    int slot = -1;
    pthread_mutex_lock(&d->cache_mu);
    for (;;) {
        int busy = 0;
        for (int i = 0; i < MAX_THREADS; i++)
            busy |= d->inflight[i] && strcmp(d->inflight[i], uri) == 0;
        if (!busy)
            break;
        pthread_cond_wait(&d->cache_cv, &d->cache_mu);
    }
    for (int i = 0; i < MAX_THREADS && slot < 0; i++)
        if (!d->inflight[i])
            slot = i;
    if (slot >= 0)
        d->inflight[slot] = uri;
    pthread_mutex_unlock(&d->cache_mu);
    if (!cache_get(d, uri, &key, rep, &ans->age)) {
        if (!*store && hp_store_open(store, d->db, HP_STORE_READONLY, err, sizeof err) < 0)
            hp_dash_reply_error(rep, 503, "DB", NULL, err);
        else
            hp_dash_api(*store, r, rep);
        if (rep->status == 200 || rep->status == 404)
            cache_put(d, uri, &key, at, rep);
    }
    pthread_mutex_lock(&d->cache_mu);
    if (slot >= 0)
        d->inflight[slot] = NULL;
    pthread_cond_broadcast(&d->cache_cv);
    pthread_mutex_unlock(&d->cache_mu);
    if (rep->status == 503 && *store) { /* reopen next time: the file may have been replaced */
        hp_store_close(*store);
        *store = NULL;
    }
}

static void enqueue_warm(hp_dash_t *d, const char *study);

/* Answers req into ans. With store NULL (on nng's thread) it answers only
 * what needs no database — pages, scripts, errors — and returns 0 for an
 * API request, which a serving thread then answers; 1 when answered. */
static int route(hp_dash_t *d, hp_store_t **store, nng_http_req *req, answer_t *ans)
{
    hp_dash_reply_t *rep = &ans->rep;
    const char *method = nng_http_req_get_method(req);
    if (strcmp(method, "GET") != 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "method %.32s not allowed: the dashboard is read-only (GET)",
                 method);
        hp_dash_reply_error(rep, 405, "METHOD_NOT_ALLOWED", NULL, msg);
        return 1;
    }
    hp_dash_req_t r;
    char err[512];
    if (hp_dash_req_parse(&r, nng_http_req_get_uri(req), err, sizeof err) < 0) {
        hp_dash_reply_error(rep, 400, "BAD_PARAM", *r.bad_param ? r.bad_param : "path", err);
        return 1;
    }
    if (d->token_len) {
        const char *q = hp_dash_req_param(&r, "token");
        const char *auth = nng_http_req_get_header(req, "Authorization");
        size_t cn = 0;
        const char *c = cookie_token(nng_http_req_get_header(req, "Cookie"), &cn);
        int ok = (q && token_ok(d, q, strlen(q))) ||
                 (auth && strncmp(auth, "Bearer ", 7) == 0 && token_ok(d, auth + 7, strlen(auth + 7))) ||
                 (c && token_ok(d, c, cn));
        if (!ok) {
            hp_dash_reply_error(rep, 401, "AUTH", NULL,
                                "this dashboard needs the daemon's token: open it with "
                                "?token=TOKEN or send 'Authorization: Bearer TOKEN'");
            return 1;
        }
        ans->set_cookie = q != NULL;
    }
    const char(*g)[HP_DASH_MAX_VALUE + 1] = r.seg;
    if (r.nseg >= 1 && strcmp(g[0], "api") == 0) {
        if (!store)
            return 0;
        api_answer(d, store, nng_http_req_get_uri(req), &r, ans);
        return 1;
    }
    const char *page = NULL;
    if (r.nseg == 0)
        page = "index.html";
    else if (r.nseg == 2 && strcmp(g[0], "studies") == 0)
        page = "study.html";
    else if (r.nseg == 4 && strcmp(g[0], "studies") == 0 && strcmp(g[2], "trials") == 0)
        page = "trial.html";
    else if (r.nseg == 2 && strcmp(g[0], "static") == 0 && !strstr(g[1], ".html"))
        page = g[1];
    if (page && (ans->asset = hp_dash_web_find(&d->web, page)) != NULL) {
        if (!store && r.nseg == 2 && strcmp(g[0], "studies") == 0)
            enqueue_warm(d, g[1]);
        return 1;
    }
    char msg[512];
    snprintf(msg, sizeof msg, "no page %.300s (the pages are / and /studies/NAME)",
             nng_http_req_get_uri(req));
    hp_dash_reply_error(rep, 404, "NOT_FOUND", NULL, msg);
    return 1;
}

/* completes aio with ans (whose reply it frees) */
static void respond(hp_dash_t *d, nng_aio *aio, answer_t *a)
{
    answer_t ans = *a;
    nng_http_res *res = NULL;
    int rv = nng_http_res_alloc(&res);
    if (rv == 0) {
        const char *type = ans.asset ? ans.asset->type : ans.rep.type;
        nng_http_res_set_status(res, (uint16_t)(ans.asset ? 200 : ans.rep.status));
        nng_http_res_set_header(res, "Content-Type", type);
        nng_http_res_set_header(res, "Cache-Control", ans.asset ? "max-age=60" : "no-store");
        nng_http_res_set_header(res, "X-Content-Type-Options", "nosniff");
        if (ans.rep.status == 405)
            nng_http_res_set_header(res, "Allow", "GET");
        if (ans.api) { /* how old the data may be: the page's live bound */
            char age[32];
            snprintf(age, sizeof age, "%d", (int)(ans.age * 1000));
            nng_http_res_set_header(res, "X-HP-Age-Ms", age);
        }
        if (ans.set_cookie) {
            char c[1100];
            snprintf(c, sizeof c, "hp_token=%s; Path=/; HttpOnly; SameSite=Strict%s", d->token,
                     d->https ? "; Secure" : "");
            nng_http_res_set_header(res, "Set-Cookie", c);
        }
        if (ans.asset)
            rv = nng_http_res_set_data(res, ans.asset->data, ans.asset->len); /* d outlives res */
        else
            rv = nng_http_res_copy_data(res, ans.rep.body.data ? ans.rep.body.data : "",
                                        ans.rep.body.len);
    }
    hp_dash_reply_fini(&ans.rep);
    if (rv != 0) {
        nng_http_res_free(res);
        nng_aio_finish(aio, rv);
        return;
    }
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
}

static void answer_aio(hp_dash_t *d, nng_aio *aio, hp_store_t **store)
{
    answer_t ans = {0};
    hp_dash_reply_init(&ans.rep);
    route(d, store, nng_aio_get_input(aio, 0), &ans);
    respond(d, aio, &ans);
}

/* the path segment as study.js's encodeURIComponent writes it */
static void uri_component(hp_buf_t *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (isalnum(*p) || strchr("-_.!~*'()", *p))
            hp_buf_putc(b, (char)*p);
        else
            hp_buf_printf(b, "%%%02X", *p);
}

/* Computes into the reply cache what study.js asks for first — the
 * summary and every page of trials, with the very URIs it uses
 * (web/study.js: refresh) — while the browser is still loading the
 * scripts: the page's first requests are then answered from the cache. */
/* answers uri into the cache; with count, returns the summary's "trials" */
static long long warm_one(hp_dash_t *d, hp_store_t **store, const char *uri, int count)
{
    hp_dash_req_t r;
    char err[512];
    answer_t ans = {0};
    hp_dash_reply_init(&ans.rep);
    long long n = 0;
    if (hp_dash_req_parse(&r, uri, err, sizeof err) == 0) {
        api_answer(d, store, uri, &r, &ans);
        const char *at = count && ans.rep.status == 200 && ans.rep.body.data
                             ? strstr(ans.rep.body.data, ",\"trials\":")
                             : NULL;
        n = at ? strtoll(at + 10, NULL, 10) : 0;
    }
    hp_dash_reply_fini(&ans.rep);
    return n;
}

static void warm(hp_dash_t *d, hp_store_t **store, const char *study)
{
    hp_buf_t base = {0}, uri = {0};
    hp_buf_puts(&base, "/api/studies/");
    uri_component(&base, study);
    long long total = warm_one(d, store, base.data, 1);
    /* pages up to 50,000 trials: beyond, the page's own requests pay */
    for (long long offset = 0; offset < total && offset < 10 * HP_DASH_MAX_LIMIT;
         offset += HP_DASH_MAX_LIMIT) {
        hp_buf_reset(&uri);
        hp_buf_printf(&uri, "%s/trials?offset=%lld&limit=%d", base.data, offset,
                      HP_DASH_MAX_LIMIT);
        warm_one(d, store, uri.data, 0);
    }
    hp_buf_fini(&uri);
    hp_buf_fini(&base);
}

static void *serve_thread(void *arg)
{
    hp_dash_t *d = arg;
    hp_store_t *store = NULL; /* this thread's own read-only connection */
    /* below the daemon's loop and the workers: a page waits for a core, the
     * scheduler does not (Linux: a thread's nice value is its own) */
    if (d->nice)
        (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), d->nice); /* best effort */
    pthread_mutex_lock(&d->mu);
    for (;;) {
        while (!d->head && !d->stopping)
            pthread_cond_wait(&d->cv, &d->mu);
        if (!d->head)
            break;
        job_t *j = d->head;
        d->head = j->next;
        if (!d->head)
            d->tail = NULL;
        d->queued--;
        pthread_mutex_unlock(&d->mu);
        if (j->aio)
            answer_aio(d, j->aio, &store);
        else
            warm(d, &store, j->warm);
        free(j->warm);
        free(j);
        pthread_mutex_lock(&d->mu);
    }
    pthread_mutex_unlock(&d->mu);
    hp_store_close(store);
    return NULL;
}

/* with d->mu held: j at the queue's end */
static void push_job(hp_dash_t *d, job_t *j)
{
    j->next = NULL;
    if (d->tail)
        d->tail->next = j;
    else
        d->head = j;
    d->tail = j;
    d->queued++;
    pthread_cond_signal(&d->cv);
}

static void enqueue_warm(hp_dash_t *d, const char *study)
{
    job_t *j = calloc(1, sizeof *j);
    char *name = strdup(study);
    pthread_mutex_lock(&d->mu);
    int skip = !j || !name || d->queued >= MAX_QUEUE / 2 || d->stopping;
    if (!skip) {
        j->warm = name;
        push_job(d, j);
    }
    pthread_mutex_unlock(&d->mu);
    if (skip) {
        free(name);
        free(j);
    }
}

/* on one of nng's threads: pages, scripts and errors are answered here
 * (from memory); API requests go to the queue, never a query here */
static void handle(nng_aio *aio)
{
    nng_http_handler *h = nng_aio_get_input(aio, 1);
    hp_dash_t *d = nng_http_handler_get_data(h);
    answer_t ans = {0};
    hp_dash_reply_init(&ans.rep);
    if (route(d, NULL, nng_aio_get_input(aio, 0), &ans)) {
        respond(d, aio, &ans);
        return;
    }
    hp_dash_reply_fini(&ans.rep);
    job_t *j = calloc(1, sizeof *j);
    pthread_mutex_lock(&d->mu);
    int full = !j || d->queued >= MAX_QUEUE || d->stopping;
    if (!full) {
        j->aio = aio;
        push_job(d, j);
    }
    pthread_mutex_unlock(&d->mu);
    if (full) {
        free(j);
        nng_http_res *res = NULL;
        if (nng_http_res_alloc_error(&res, 503) != 0) {
            nng_aio_finish(aio, NNG_ENOMEM);
            return;
        }
        nng_aio_set_output(aio, 0, res);
        nng_aio_finish(aio, 0);
    }
}

int hp_dash_is_loopback(const char *url)
{
    const char *h = strncmp(url, "http://", 7) == 0    ? url + 7
                    : strncmp(url, "https://", 8) == 0 ? url + 8
                                                       : NULL;
    return h && (strncmp(h, "127.", 4) == 0 || strncmp(h, "localhost:", 10) == 0 ||
                 strncmp(h, "[::1]:", 6) == 0);
}

int hp_dash_start(hp_dash_t **out, const hp_dash_config_t *cfg, char *err, size_t errlen)
{
    *out = NULL;
    int https = strncmp(cfg->listen, "https://", 8) == 0;
    if (!https && strncmp(cfg->listen, "http://", 7) != 0)
        return hp_errf(err, errlen, HP_EINVAL,
                       "http: '%s' is not an http:// or https:// URL (e.g. %s)", cfg->listen,
                       HP_DASH_DEFAULT_LISTEN);
    if (https && !cfg->tls)
        return hp_errf(err, errlen, HP_EINVAL,
                       "http: %s is https://: give --tls-cert FILE and --tls-key FILE (make "
                       "them with `hpsearch certs`)",
                       cfg->listen);
    if (!https && cfg->tls)
        return hp_errf(err, errlen, HP_EINVAL,
                       "http: %s is plain http:// but TLS files are given: serve https://%s",
                       cfg->listen, cfg->listen + 7);
    if (!hp_dash_is_loopback(cfg->listen) && (!cfg->token || !cfg->token_len))
        return hp_errf(err, errlen, HP_EAUTH,
                       "refusing to serve the dashboard on %s without a token: it is reachable "
                       "from other hosts; give --token-file FILE (hpsearch dashboard also "
                       "finds DB.token beside the database), or listen on 127.0.0.1",
                       cfg->listen);
    hp_dash_t *d = calloc(1, sizeof *d);
    if (!d)
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    snprintf(d->db, sizeof d->db, "%s", cfg->db);
    d->https = https;
    d->nice = cfg->nice;
    if (cfg->token && cfg->token_len) {
        if (cfg->token_len >= sizeof d->token || memchr(cfg->token, ';', cfg->token_len)) {
            free(d);
            return hp_errf(err, errlen, HP_EINVAL, "token: too long or holds ';'");
        }
        memcpy(d->token, cfg->token, cfg->token_len);
        d->token_len = cfg->token_len;
    }
    const char *dir = cfg->web_dir ? cfg->web_dir : hp_dash_web_dir();
    int rc = hp_dash_web_load(&d->web, dir, err, errlen);
    if (rc < 0) {
        free(d);
        return rc;
    }
    if (d->web.charts_missing)
        hp_log_warn("dashboard without charts: %s", d->web.charts_missing);
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    pthread_mutex_init(&d->cache_mu, NULL);
    pthread_cond_init(&d->cache_cv, NULL);

    int rv = nng_url_parse(&d->nurl, cfg->listen);
    if (rv == 0)
        rv = nng_http_server_hold(&d->srv, d->nurl);
    if (rv == 0 && https) {
        nng_tls_config *tc;
        if ((rc = hp_tls_https_config(cfg->tls, &tc, err, errlen)) < 0) {
            hp_dash_stop(d);
            return rc;
        }
        rv = nng_http_server_set_tls(d->srv, tc);
        nng_tls_config_free(tc); /* the server holds it now */
    }
    if (rv == 0)
        rv = nng_http_handler_alloc(&d->h, "/", handle);
    if (rv == 0) {
        nng_http_handler_set_tree(d->h);
        nng_http_handler_set_method(d->h, NULL); /* every method: we answer 405 */
        nng_http_handler_set_data(d->h, d, NULL);
        rv = nng_http_server_add_handler(d->srv, d->h);
        if (rv != 0)
            nng_http_handler_free(d->h);
        d->h = NULL;
    }
    if (rv != 0) {
        rc = hp_errf(err, errlen, hp_err_from_nng(rv), "http: cannot serve %s: %s", cfg->listen,
                     nng_strerror(rv));
        hp_dash_stop(d);
        return rc;
    }
    /* our threads (and any nng starts for the server) take no signals:
     * the program's own thread or loop handles them */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int n = cfg->threads > 0 ? cfg->threads : 2;
    for (d->nthr = 0; d->nthr < n && d->nthr < MAX_THREADS; d->nthr++)
        if (pthread_create(&d->thr[d->nthr], NULL, serve_thread, d) != 0)
            break;
    rv = nng_http_server_start(d->srv);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (d->nthr == 0 && rv == 0) {
        hp_dash_stop(d);
        return hp_errf(err, errlen, HP_ENOMEM, "http: cannot start a thread to serve requests");
    }
    if (rv != 0) {
        rc = hp_errf(err, errlen, hp_err_from_nng(rv), "http: cannot listen on %s: %s",
                     cfg->listen, nng_strerror(rv));
        hp_dash_stop(d);
        return rc;
    }
    nng_sockaddr sa;
    char host[INET6_ADDRSTRLEN] = "";
    if (nng_http_server_get_addr(d->srv, &sa) == 0 && sa.s_family == NNG_AF_INET) {
        inet_ntop(AF_INET, &sa.s_in.sa_addr, host, sizeof host);
        snprintf(d->url, sizeof d->url, "%s://%s:%u/", https ? "https" : "http", host,
                 ntohs(sa.s_in.sa_port));
    } else if (nng_http_server_get_addr(d->srv, &sa) == 0 && sa.s_family == NNG_AF_INET6) {
        inet_ntop(AF_INET6, sa.s_in6.sa_addr, host, sizeof host);
        snprintf(d->url, sizeof d->url, "%s://[%s]:%u/", https ? "https" : "http", host,
                 ntohs(sa.s_in6.sa_port));
    } else {
        snprintf(d->url, sizeof d->url, "%s/", cfg->listen);
    }
    *out = d;
    return 0;
}

const char *hp_dash_url(const hp_dash_t *d)
{
    return d->url;
}

void hp_dash_stop(hp_dash_t *d)
{
    if (!d)
        return;
    if (d->srv) {
        nng_http_server_stop(d->srv);
    }
    pthread_mutex_lock(&d->mu);
    d->stopping = 1;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    for (int i = 0; i < d->nthr; i++)
        pthread_join(d->thr[i], NULL);
    /* requests still queued: their connections are closed by the stop */
    while (d->head) {
        job_t *j = d->head;
        d->head = j->next;
        if (j->aio)
            nng_aio_finish(j->aio, NNG_ECLOSED);
        free(j->warm);
        free(j);
    }
    if (d->srv)
        nng_http_server_release(d->srv);
    nng_url_free(d->nurl);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    for (int i = 0; i < CACHE_SLOTS; i++) {
        free(d->cache[i].uri);
        free(d->cache[i].body);
    }
    pthread_cond_destroy(&d->cache_cv);
    pthread_mutex_destroy(&d->cache_mu);
    hp_dash_web_fini(&d->web);
    free(d);
}
