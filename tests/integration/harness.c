#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include "harness.h"

#include "hp_spawn.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Live harnesses: with CK_FORK=no a failed assertion leaves the test
 * function at once, so the suite's checked teardown cleans up after it.
 * The test's hp_harness_t may have been on the stack frame the failure
 * left, so what the teardown needs is kept here, copied: the directory
 * and every child spawned (never the caller's memory). */
typedef struct live {
    const hp_harness_t *owner; /* NULL: a free entry; compared, never read */
    char dir[512];
    pid_t children[HP_HARNESS_MAX_CHILDREN];
    int nchildren;
} live_t;

static live_t live[16];

static live_t *live_of(const hp_harness_t *h)
{
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        if (live[i].owner == h)
            return &live[i];
    return NULL;
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw);

static void live_clean(live_t *l)
{
    int st;
    for (int i = 0; i < l->nchildren; i++)
        if (l->children[i] > 0 && waitpid(l->children[i], &st, WNOHANG) == 0)
            hp_spawn_kill(l->children[i], SIGKILL); /* still running, and ours */
    if (getenv("HP_KEEP_TEST_DIRS") == NULL && l->dir[0])
        nftw(l->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    memset(l, 0, sizeof *l);
}

void hp_harness_teardown(void)
{
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        if (live[i].owner)
            live_clean(&live[i]);
}

void hp_harness_init(hp_harness_t *h, const char *name)
{
    memset(h, 0, sizeof *h);
    live_t *l = live_of(h); /* a harness started again in place */
    if (l)
        live_clean(l);
    l = live_of(NULL);
    ck_assert_msg(l != NULL, "more than %zu live harnesses", sizeof live / sizeof live[0]);
    snprintf(h->dir, sizeof h->dir, "/tmp/hp-it-%s-XXXXXX", name);
    ck_assert_ptr_nonnull(mkdtemp(h->dir));
    l->owner = h;
    snprintf(l->dir, sizeof l->dir, "%s", h->dir);
    snprintf(h->db, sizeof h->db, "%s/study.db", h->dir);
    snprintf(h->listen, sizeof h->listen, "ipc://%s/workers.sock", h->dir);
    snprintf(h->control, sizeof h->control, "ipc://%s/control.sock", h->dir);
    /* the daemons of this test publish where their tokens are here, and
     * its CLIs and workers look there (common/rundir.h) */
    char run[600];
    snprintf(run, sizeof run, "%s/run", h->dir);
    setenv("HPSEARCH_RUNTIME_DIR", run, 1);
    const char *bin = getenv("HP_BIN_DIR");
    ck_assert_msg(bin != NULL, "HP_BIN_DIR is not set (run through ctest)");
    snprintf(h->bin, sizeof h->bin, "%s", bin);
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void hp_harness_fini(hp_harness_t *h)
{
    live_t *l = live_of(h);
    if (l)
        memset(l, 0, sizeof *l); /* this harness cleans up after itself */
    for (int i = 0; i < h->nchildren; i++)
        if (h->children[i] > 0) {
            hp_spawn_kill(h->children[i], SIGKILL);
            h->children[i] = 0;
        }
    if (getenv("HP_KEEP_TEST_DIRS") == NULL)
        nftw(h->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Starts bin/PROGRAM with the arguments in ap, or with wrap (a command
 * that execs the rest of its argv, such as `ip netns exec NS`) in front. */
static pid_t spawn_v(hp_harness_t *h, const char *const *wrap, const char *program, va_list ap)
{
    const char *args[94];
    char path[700];
    snprintf(path, sizeof path, "%s/%s", h->bin, program);
    int n = 0;
    const char *exe = path;
    if (wrap && wrap[0]) {
        exe = wrap[0];
        for (int i = 1; wrap[i] && n < 30; i++)
            args[n++] = wrap[i];
        args[n++] = path;
    }
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 93)
        args[n++] = a;
    args[n] = NULL;
    ck_assert_int_lt(h->nchildren, HP_HARNESS_MAX_CHILDREN);
    char log[800];
    snprintf(log, sizeof log, "%s/%s-%%d.log", h->dir, program);
    /* wrapped children may be in another namespace the test tears down
     * after them: they must not outlive it */
    hp_spawn_opts_t o = {.out = log, .err = log, .append = 1, .mode = 0644, .pid_in_name = 1,
                         .die_with_parent = wrap != NULL};
    pid_t pid = hp_spawn(exe, args, &o);
    h->children[h->nchildren++] = pid;
    live_t *l = live_of(h);
    if (l && l->nchildren < HP_HARNESS_MAX_CHILDREN)
        l->children[l->nchildren++] = pid;
    return pid;
}

pid_t hp_harness_spawn(hp_harness_t *h, const char *program, ...)
{
    va_list ap;
    va_start(ap, program);
    pid_t pid = spawn_v(h, NULL, program, ap);
    va_end(ap);
    return pid;
}

pid_t hp_harness_spawn_wrapped(hp_harness_t *h, const char *const *wrap, const char *program,
                               ...)
{
    va_list ap;
    va_start(ap, program);
    pid_t pid = spawn_v(h, wrap, program, ap);
    va_end(ap);
    return pid;
}

/* What hp_harness_request stamps: the last daemon's token, and the
 * sessions HELLO_REPLYs gave (worker id -> secret). */
static char current_token[1100];
static size_t current_token_len;
typedef struct seen_session {
    uint64_t worker_id;
    unsigned char secret[64];
    size_t len;
} seen_session_t;
static seen_session_t sessions[512];
static size_t nsessions;

const char *hp_harness_token(size_t *len)
{
    *len = current_token_len;
    return current_token;
}

static seen_session_t *session_of(uint64_t worker_id)
{
    for (size_t i = 0; i < nsessions; i++)
        if (sessions[i].worker_id == worker_id)
            return &sessions[i];
    return NULL;
}

static void remember_session(const Hpsearch__Envelope *r)
{
    if (!r || r->type != HPSEARCH__MSG_TYPE__HELLO_REPLY || !r->hello_reply ||
        r->hello_reply->session.len > sizeof sessions[0].secret)
        return;
    seen_session_t *s = session_of(r->hello_reply->worker_id);
    if (!s) {
        if (nsessions == sizeof sessions / sizeof sessions[0])
            nsessions = 0; /* a test with this many fakes keeps its own */
        s = &sessions[nsessions++];
    }
    s->worker_id = r->hello_reply->worker_id;
    s->len = r->hello_reply->session.len;
    if (s->len)
        memcpy(s->secret, r->hello_reply->session.data, s->len);
}

pid_t hp_harness_start_daemon(hp_harness_t *h, ...)
{
    char *extra[32];
    int n = 0;
    va_list ap;
    va_start(ap, h);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 31)
        extra[n++] = (char *)a;
    va_end(ap);
    extra[n] = NULL;
    /* argv: --db DB --listen L --control C [extra...] */
    const char *args[48] = {"--db", h->db, "--listen", h->listen, "--control", h->control};
    int k = 6;
    for (int i = 0; i < n; i++)
        args[k++] = extra[i];
    args[k] = NULL;
    pid_t pid = hp_harness_spawn(h, "hpsearchd", args[0], args[1], args[2], args[3], args[4],
                                 args[5], args[6], args[7], args[8], args[9], args[10], args[11],
                                 args[12], args[13], args[14], args[15], NULL);
    h->daemon = pid;
    h->token_len = 0;
    current_token_len = 0;
    /* wait until it answers; a generous guard, not a timing assertion */
    for (int i = 0; i < 600; i++) {
        Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
        Hpsearch__StatusRequest sr = HPSEARCH__STATUS_REQUEST__INIT;
        env.type = HPSEARCH__MSG_TYPE__STATUS;
        env.body_case = HPSEARCH__ENVELOPE__BODY_STATUS_REQUEST;
        env.status_request = &sr;
        Hpsearch__Envelope *r = hp_harness_request(h->control, &env, 500);
        if (r) {
            hp_proto_free(r);
            /* it made (or found) DB.token before it listened */
            char path[700];
            snprintf(path, sizeof path, "%s.token", h->db);
            FILE *f = fopen(path, "r");
            if (f) {
                size_t len = fread(h->token, 1, sizeof h->token - 1, f);
                fclose(f);
                while (len && (h->token[len - 1] == '\n' || h->token[len - 1] == '\r'))
                    len--;
                h->token[len] = '\0';
                h->token_len = len;
                memcpy(current_token, h->token, len + 1);
                current_token_len = len;
            }
            return pid;
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            ck_abort_msg("hpsearchd exited during start-up (status %d); see %s", st, h->dir);
        sleep_ms(50);
    }
    ck_abort_msg("hpsearchd did not answer within 30 s");
    return -1;
}

/* Reaps pid after a stopping signal, or fails the test naming it when it
 * has not exited within HP_HARNESS_STOP_GUARD_S: a stop that hangs would
 * otherwise hold the test silently until ctest's timeout. */
#define HP_HARNESS_STOP_GUARD_S 180
static int reap_stopped(hp_harness_t *h, pid_t pid, int sig)
{
    kill(pid, sig);
    int st = 0;
    for (long i = 0; i < HP_HARNESS_STOP_GUARD_S * 20L; i++) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        if (r < 0 && errno != EINTR)
            return -1;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    ck_abort_msg("pid %d did not exit within %d s of signal %d (killed it; its log is under %s)",
                 (int)pid, HP_HARNESS_STOP_GUARD_S, sig, h->dir);
    return st;
}

int hp_harness_kill(hp_harness_t *h, pid_t pid, int sig)
{
    int st = 0;
    if (sig != SIGKILL && sig != SIGTERM && sig != SIGINT) {
        kill(pid, sig);
    } else {
        st = sig == SIGKILL ? hp_spawn_kill(pid, sig) : reap_stopped(h, pid, sig);
        for (int i = 0; i < h->nchildren; i++)
            if (h->children[i] == pid)
                h->children[i] = 0;
    }
    return st;
}

Hpsearch__Envelope *hp_harness_request_raw(const char *url, const void *buf, size_t len,
                                           int timeout_ms)
{
    nng_socket s;
    if (nng_req0_open(&s) != 0)
        return NULL;
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, timeout_ms);
    nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, timeout_ms);
    Hpsearch__Envelope *out = NULL;
    if (nng_dial(s, url, NULL, 0) == 0 && nng_send(s, (void *)buf, len, 0) == 0) {
        char *reply = NULL;
        size_t rlen = 0;
        if (nng_recv(s, &reply, &rlen, NNG_FLAG_ALLOC) == 0) {
            char err[256];
            if (hp_proto_decode(reply, rlen, &out, err, sizeof err) < 0)
                out = NULL;
            nng_free(reply, rlen);
        }
    }
    nng_close(s);
    return out;
}

Hpsearch__Envelope *hp_harness_request(const char *url, Hpsearch__Envelope *env, int timeout_ms)
{
    ProtobufCBinaryData tok = env->auth_token, sess = env->session;
    if (env->auth_token.len == 0 && current_token_len) {
        env->auth_token.data = (uint8_t *)current_token;
        env->auth_token.len = current_token_len;
    }
    seen_session_t *s = env->worker_id ? session_of(env->worker_id) : NULL;
    if (env->session.len == 0 && s && env->type != HPSEARCH__MSG_TYPE__HELLO) {
        env->session.data = s->secret;
        env->session.len = s->len;
    }
    hp_buf_t b = {0};
    int rc = hp_proto_encode(env, &b);
    env->auth_token = tok;
    env->session = sess;
    if (rc < 0)
        return NULL;
    Hpsearch__Envelope *r = hp_harness_request_raw(url, b.data, b.len, timeout_ms);
    hp_buf_fini(&b);
    remember_session(r);
    return r;
}

const char *hp_harness_write_file(hp_harness_t *h, const char *name, const char *text)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", h->dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

long hp_harness_submit(hp_harness_t *h, const char *spec_text)
{
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Submit sub = HPSEARCH__SUBMIT__INIT;
    sub.spec_text = (char *)spec_text;
    sub.filename = "test.yaml";
    env.type = HPSEARCH__MSG_TYPE__SUBMIT;
    env.body_case = HPSEARCH__ENVELOPE__BODY_SUBMIT;
    env.submit = &sub;
    Hpsearch__Envelope *r = hp_harness_request(h->control, &env, 30000);
    ck_assert_ptr_nonnull(r);
    if (r->type == HPSEARCH__MSG_TYPE__ERROR)
        ck_abort_msg("submit refused: %s %s", r->error->code, r->error->message);
    ck_assert_int_eq(r->type, HPSEARCH__MSG_TYPE__SUBMIT_REPLY);
    long id = (long)r->submit_reply->study_id;
    hp_proto_free(r);
    return id;
}

/* Fails the test at once, with the end of its log, if the daemon died. */
static void check_daemon_alive(hp_harness_t *h)
{
    int st;
    if (h->daemon <= 0 || waitpid(h->daemon, &st, WNOHANG) != h->daemon)
        return;
    for (int i = 0; i < h->nchildren; i++)
        if (h->children[i] == h->daemon)
            h->children[i] = 0;
    char path[800], tail[2048] = "";
    snprintf(path, sizeof path, "%s/hpsearchd-%d.log", h->dir, (int)h->daemon);
    h->daemon = 0;
    FILE *f = fopen(path, "r");
    if (f) {
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, size > (long)sizeof tail - 1 ? size - (long)sizeof tail + 1 : 0, SEEK_SET);
        size_t n = fread(tail, 1, sizeof tail - 1, f);
        tail[n] = '\0';
        fclose(f);
    }
    ck_abort_msg("hpsearchd died (wait status %d); the end of %s:\n%s", st, path, tail);
}

const char *hp_harness_wait_study(hp_harness_t *h, const char *study, int timeout_s)
{
    static char state[32];
    for (int i = 0; i < timeout_s * 10; i++) {
        check_daemon_alive(h);
        Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
        Hpsearch__StatusRequest sr = HPSEARCH__STATUS_REQUEST__INIT;
        sr.study = (char *)study;
        env.type = HPSEARCH__MSG_TYPE__STATUS;
        env.body_case = HPSEARCH__ENVELOPE__BODY_STATUS_REQUEST;
        env.status_request = &sr;
        Hpsearch__Envelope *r = hp_harness_request(h->control, &env, 5000);
        if (r && r->type == HPSEARCH__MSG_TYPE__STATUS_REPLY && r->status_reply->n_studies == 1 &&
            strcmp(r->status_reply->studies[0]->state, "running") != 0) {
            snprintf(state, sizeof state, "%s", r->status_reply->studies[0]->state);
            hp_proto_free(r);
            return state;
        }
        hp_proto_free(r);
        sleep_ms(100);
    }
    return NULL;
}

long hp_harness_query_int(hp_harness_t *h, const char *sql)
{
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Query q = HPSEARCH__QUERY__INIT;
    q.sql = (char *)sql;
    env.type = HPSEARCH__MSG_TYPE__QUERY;
    env.body_case = HPSEARCH__ENVELOPE__BODY_QUERY;
    env.query = &q;
    Hpsearch__Envelope *r = hp_harness_request(h->control, &env, 30000);
    long v = -1;
    if (r && r->type == HPSEARCH__MSG_TYPE__QUERY_REPLY && r->query_reply->n_cells > 0 &&
        strcmp(r->query_reply->cells[0], "null") != 0)
        v = strtol(r->query_reply->cells[0], NULL, 10);
    else if (r && r->type == HPSEARCH__MSG_TYPE__ERROR)
        fprintf(stderr, "query %s: %s\n", sql, r->error->message);
    hp_proto_free(r);
    return v;
}

long hp_harness_wait_completed(hp_harness_t *h, long n, int timeout_s)
{
    long done = 0;
    for (int i = 0; i < timeout_s * 20 && done < n; i++) {
        done = hp_harness_query_int(h, "SELECT count(*) FROM trials WHERE state = 'completed'");
        if (done < n)
            sleep_ms(50);
    }
    return done;
}
