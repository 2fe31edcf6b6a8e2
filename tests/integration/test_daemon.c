/* hpsearchd through its sockets, with protocol-level fake workers: hostile
 * messages, authentication, leases that expire, late results, a restart in
 * the middle of a trial, and 200 workers at once. */
#include "harness.h"
#include "hp_it.h"

#include "hp_check.h"

#include <check.h>
#include <math.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *branin_spec(const char *name, int trials, int parallelism)
{
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "name: %s\nobjective: {metric: value}\n"
             "search: {algorithm: random, max_trials: %d, parallelism: %d, seed: 3}\n"
             "space:\n  x1: {type: float, low: -5, high: 10}\n  x2: {type: float, low: 0, high: 15}\n"
             "trial: {function: branin, retries: 2}\n",
             name, trials, parallelism);
    return buf;
}

/* ---- a fake worker speaking the protocol by hand ------------------------ */

typedef struct fake {
    nng_socket s;
    uint64_t id, seq;
    unsigned char session[64]; /* what its HELLO_REPLY gave */
    size_t session_len;
} fake_t;

static void fake_open(fake_t *f, const char *url)
{
    memset(f, 0, sizeof *f);
    ck_assert_int_eq(nng_req0_open(&f->s), 0);
    nng_socket_set_ms(f->s, NNG_OPT_RECVTIMEO, 60000);
    nng_socket_set_ms(f->s, NNG_OPT_REQ_RESENDTIME, 600000);
    ck_assert_int_eq(nng_dial(f->s, url, NULL, 0), 0);
}

/* the daemon's token and this fake's session secret, as a real worker
 * sends them */
static void fake_send(fake_t *f, Hpsearch__Envelope *env)
{
    env->worker_id = f->id;
    env->seq = ++f->seq;
    size_t toklen;
    const char *tok = hp_harness_token(&toklen);
    if (env->auth_token.len == 0) {
        env->auth_token.data = (uint8_t *)tok;
        env->auth_token.len = toklen;
    }
    if (env->session.len == 0) {
        env->session.data = f->session;
        env->session.len = f->session_len;
    }
    hp_buf_t b = {0};
    ck_assert_int_eq(hp_proto_encode(env, &b), 0);
    ck_assert_int_eq(nng_send(f->s, b.data, b.len, 0), 0);
    hp_buf_fini(&b);
}

static Hpsearch__Envelope *fake_recv(fake_t *f)
{
    char *buf;
    size_t len;
    int rv = nng_recv(f->s, &buf, &len, NNG_FLAG_ALLOC);
    ck_assert_msg(rv == 0, "no reply: %s", nng_strerror(rv));
    Hpsearch__Envelope *e;
    char err[256];
    ck_assert_int_eq(hp_proto_decode(buf, len, &e, err, sizeof err), 0);
    nng_free(buf, len);
    return e;
}

static void fake_hello(fake_t *f, uint64_t previous)
{
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Hello h = HPSEARCH__HELLO__INIT;
    h.hostname = "fakehost";
    h.pid = (uint32_t)getpid();
    h.slots = 1;
    h.cores = 1;
    h.previous_worker_id = previous;
    env.type = HPSEARCH__MSG_TYPE__HELLO;
    env.body_case = HPSEARCH__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    fake_send(f, &env);
    Hpsearch__Envelope *r = fake_recv(f);
    ck_assert_int_eq(r->type, HPSEARCH__MSG_TYPE__HELLO_REPLY);
    f->id = r->hello_reply->worker_id;
    ck_assert_uint_gt(f->id, 0);
    ck_assert_uint_ge(r->hello_reply->session.len, 16);
    ck_assert_uint_le(r->hello_reply->session.len, sizeof f->session);
    memcpy(f->session, r->hello_reply->session.data, r->hello_reply->session.len); /* >= 16 */
    f->session_len = r->hello_reply->session.len;
    hp_proto_free(r);
}

/* f speaks for src's session too: a worker's second context */
static void fake_share(fake_t *f, const fake_t *src)
{
    f->id = src->id;
    memcpy(f->session, src->session, sizeof f->session);
    f->session_len = src->session_len;
}

static void fake_get_trial_send(fake_t *f)
{
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__GetTrial g = HPSEARCH__GET_TRIAL__INIT;
    env.type = HPSEARCH__MSG_TYPE__GET_TRIAL;
    env.body_case = HPSEARCH__ENVELOPE__BODY_GET_TRIAL;
    env.get_trial = &g;
    fake_send(f, &env);
}

static Hpsearch__Envelope *fake_get_trial(fake_t *f)
{
    fake_get_trial_send(f);
    Hpsearch__Envelope *r = fake_recv(f);
    ck_assert_msg(r->type == HPSEARCH__MSG_TYPE__TRIAL, "expected TRIAL, got %s",
                  hp_proto_type_name(r->type));
    return r;
}

/* A COMPLETED RESULT with value (and an error analysis, or NULL), and its
 * reply. */
static Hpsearch__Envelope *fake_result_ea(fake_t *f, uint64_t trial_id, uint64_t lease_id,
                                          double value, Hpsearch__ErrorAnalysis *ea)
{
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Result res = HPSEARCH__RESULT__INIT;
    Hpsearch__LeaseRef l = HPSEARCH__LEASE_REF__INIT;
    l.trial_id = trial_id;
    l.lease_id = lease_id;
    res.lease = &l;
    res.outcome = HPSEARCH__TRIAL_OUTCOME__COMPLETED;
    res.value = value;
    res.errors = ea; /* NULL: none */
    env.type = HPSEARCH__MSG_TYPE__RESULT;
    env.body_case = HPSEARCH__ENVELOPE__BODY_RESULT;
    env.result = &res;
    fake_send(f, &env);
    return fake_recv(f);
}

static Hpsearch__Envelope *fake_result(fake_t *f, uint64_t trial_id, uint64_t lease_id,
                                       double value)
{
    return fake_result_ea(f, trial_id, lease_id, value, NULL);
}

/* A RESULT with an outcome other than COMPLETED, and its reply. */
static Hpsearch__Envelope *fake_end(fake_t *f, uint64_t trial_id, uint64_t lease_id,
                                    Hpsearch__TrialOutcome outcome, const char *error)
{
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Result res = HPSEARCH__RESULT__INIT;
    Hpsearch__LeaseRef l = HPSEARCH__LEASE_REF__INIT;
    l.trial_id = trial_id;
    l.lease_id = lease_id;
    res.lease = &l;
    res.outcome = outcome;
    res.error = (char *)error;
    env.type = HPSEARCH__MSG_TYPE__RESULT;
    env.body_case = HPSEARCH__ENVELOPE__BODY_RESULT;
    env.result = &res;
    fake_send(f, &env);
    return fake_recv(f);
}

static void fake_heartbeat(fake_t *f, uint64_t trial_id, uint64_t lease_id, size_t *ncancel)
{
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Heartbeat hb = HPSEARCH__HEARTBEAT__INIT;
    Hpsearch__LeaseRef l = HPSEARCH__LEASE_REF__INIT;
    Hpsearch__LeaseRef *lp[1] = {&l};
    l.trial_id = trial_id;
    l.lease_id = lease_id;
    hb.running = lp;
    hb.n_running = 1;
    env.type = HPSEARCH__MSG_TYPE__HEARTBEAT;
    env.body_case = HPSEARCH__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    fake_send(f, &env);
    Hpsearch__Envelope *r = fake_recv(f);
    ck_assert_msg(r->type == HPSEARCH__MSG_TYPE__HEARTBEAT_REPLY, "HEARTBEAT got %s %s",
                  hp_proto_type_name(r->type), r->error ? r->error->message : "");
    *ncancel = r->heartbeat_reply->n_cancel;
    hp_proto_free(r);
}

/* ---- tests --------------------------------------------------------------- */

static void expect_error(const char *url, const void *buf, size_t len, const char *code,
                         const char *needle)
{
    Hpsearch__Envelope *r = hp_harness_request_raw(url, buf, len, 10000);
    ck_assert_msg(r != NULL, "no reply to a malformed message on %s", url);
    ck_assert_int_eq(r->type, HPSEARCH__MSG_TYPE__ERROR);
    ck_assert_str_eq(r->error->code, code);
    ck_assert_msg(strstr(r->error->message, needle), "'%s' not in '%s'", needle,
                  r->error->message);
    hp_proto_free(r);
}

START_TEST(test_malformed_messages_get_errors_and_daemon_serves_on)
{
    hp_harness_t h;
    hp_harness_init(&h, "malformed");
    hp_harness_start_daemon(&h, NULL);
    const char *urls[2] = {h.listen, h.control};
    for (int i = 0; i < 2; i++) {
        expect_error(urls[i], "\xff\xfe garbage", 10, "EPROTO", "not a valid hpsearch envelope");
        /* a valid envelope of another protocol version */
        Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
        Hpsearch__ListWorkers lw = HPSEARCH__LIST_WORKERS__INIT;
        env.version = 9;
        env.type = HPSEARCH__MSG_TYPE__LIST_WORKERS;
        env.body_case = HPSEARCH__ENVELOPE__BODY_LIST_WORKERS;
        env.list_workers = &lw;
        size_t n = hpsearch__envelope__get_packed_size(&env);
        uint8_t *raw = malloc(n);
        hpsearch__envelope__pack(&env, raw);
        expect_error(urls[i], raw, n, "EVERSION", "protocol version 9 is not supported");
        free(raw);
        /* a message for the other socket (with the token: authentication
         * comes first) */
        hp_buf_t b = {0};
        env.version = 0;
        size_t toklen;
        env.auth_token.data = (uint8_t *)hp_harness_token(&toklen);
        env.auth_token.len = toklen;
        hp_proto_encode(&env, &b);
        if (i == 0)
            expect_error(urls[i], b.data, b.len, "EPROTO", "not a request the worker socket");
        hp_buf_fini(&b);
    }
    /* a worker that never said HELLO */
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__GetTrial g = HPSEARCH__GET_TRIAL__INIT;
    env.type = HPSEARCH__MSG_TYPE__GET_TRIAL;
    env.body_case = HPSEARCH__ENVELOPE__BODY_GET_TRIAL;
    env.get_trial = &g;
    env.worker_id = 4242;
    Hpsearch__Envelope *r = hp_harness_request(h.listen, &env, 10000);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->error->code, "ENOENT");
    ck_assert_ptr_nonnull(strstr(r->error->message, "unknown worker 4242"));
    hp_proto_free(r);
    /* and it still works */
    long id = hp_harness_submit(&h, branin_spec("still-serving", 3, 1));
    ck_assert_int_gt(id, 0);
    ck_assert_int_eq(waitpid(h.daemon, NULL, WNOHANG), 0);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_token_required_when_configured)
{
    hp_harness_t h;
    hp_harness_init(&h, "auth");
    const char *tok = hp_harness_write_file(&h, "token", "0123456789abcdef0123\n");
    char tokpath[1024];
    snprintf(tokpath, sizeof tokpath, "%s", tok);
    hp_harness_spawn(&h, "hpsearchd", "--db", h.db, "--listen", h.listen, "--control", h.control,
                     "--token-file", tokpath, NULL);
    /* wait for it with the right token */
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__StatusRequest sr = HPSEARCH__STATUS_REQUEST__INIT;
    env.type = HPSEARCH__MSG_TYPE__STATUS;
    env.body_case = HPSEARCH__ENVELOPE__BODY_STATUS_REQUEST;
    env.status_request = &sr;
    env.auth_token.data = (uint8_t *)"0123456789abcdef0123";
    env.auth_token.len = 20;
    Hpsearch__Envelope *r = NULL;
    for (int i = 0; i < 300 && !r; i++) {
        r = hp_harness_request(h.control, &env, 500);
        if (!r)
            usleep(50000);
    }
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->type, HPSEARCH__MSG_TYPE__STATUS_REPLY);
    hp_proto_free(r);
    env.auth_token.len = 19; /* wrong */
    r = hp_harness_request(h.control, &env, 10000);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->error->code, "EAUTH");
    hp_proto_free(r);
    env.auth_token.len = 0; /* missing */
    r = hp_harness_request(h.listen, &env, 10000);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->error->code, "EAUTH");
    hp_proto_free(r);
    hp_harness_fini(&h);
}
END_TEST

/* Off loopback too a daemon without --token-file needs no setup: it makes
 * DB.token (0600), and nothing it is sent without that token is served. */
START_TEST(test_public_address_uses_the_default_token)
{
    hp_harness_t h;
    hp_harness_init(&h, "noauth");
    hp_harness_start_daemon(&h, "--listen", "tcp://0.0.0.0:7599", NULL);
    ck_assert_uint_eq(h.token_len, 64);
    char path[700];
    snprintf(path, sizeof path, "%s.token", h.db);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Hello hello = HPSEARCH__HELLO__INIT;
    hello.hostname = "intruder";
    hello.slots = 1;
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__HELLO, &hello);
    hp_buf_t b = {0};
    ck_assert_int_eq(hp_proto_encode(&env, &b), 0);
    Hpsearch__Envelope *r = hp_harness_request_raw("tcp://127.0.0.1:7599", b.data, b.len, 10000);
    hp_buf_fini(&b);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->type, HPSEARCH__MSG_TYPE__ERROR);
    ck_assert_str_eq(r->error->code, "EAUTH");
    hp_proto_free(r);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM workers"), 0);
    hp_harness_fini(&h);
}
END_TEST

/* One PROGRESS report of metric `name` at step; whether the reply says
 * stop. */
static int fake_report(fake_t *f, uint64_t trial_id, uint64_t lease_id, int64_t step,
                       const char *name, double value)
{
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Progress p = HPSEARCH__PROGRESS__INIT;
    Hpsearch__LeaseRef l = HPSEARCH__LEASE_REF__INIT;
    Hpsearch__Metric m = HPSEARCH__METRIC__INIT;
    Hpsearch__Metric *mp[1] = {&m};
    l.trial_id = trial_id;
    l.lease_id = lease_id;
    m.name = (char *)name;
    m.value = value;
    p.lease = &l;
    p.step = step;
    p.metrics = mp;
    p.n_metrics = 1;
    env.type = HPSEARCH__MSG_TYPE__PROGRESS;
    env.body_case = HPSEARCH__ENVELOPE__BODY_PROGRESS;
    env.progress = &p;
    fake_send(f, &env);
    Hpsearch__Envelope *r = fake_recv(f);
    ck_assert_int_eq(r->type, HPSEARCH__MSG_TYPE__ACK);
    int stop = r->ack->stop;
    hp_proto_free(r);
    return stop;
}

static int fake_progress(fake_t *f, uint64_t trial_id, uint64_t lease_id, int64_t step,
                         double loss)
{
    return fake_report(f, trial_id, lease_id, step, "loss", loss);
}

/* A report at a negative step is no point on the resource: not judged,
 * even when its value is not finite (it used to stop the trial at step -1,
 * which the store refused, and the resent result then stopped the
 * daemon). */
START_TEST(test_negative_step_not_judged)
{
    hp_harness_t h;
    hp_harness_init(&h, "prune-negative");
    hp_harness_start_daemon(&h, NULL);
    hp_harness_submit(&h, "name: n\nobjective: {metric: loss}\n"
                          "search: {algorithm: random, max_trials: 1, seed: 1}\n"
                          "space:\n  x: {type: float, low: 0, high: 1}\n"
                          "trial: {command: [prog, '{x}']}\n"
                          "pruning: {rule: asha, metric: acc, goal: maximize, max_resource: 9}\n");
    fake_t a;
    fake_open(&a, h.listen);
    fake_hello(&a, 0);
    Hpsearch__Envelope *t = fake_get_trial(&a);
    uint64_t id = t->trial->trial_id, lease = t->trial->lease_id;
    hp_proto_free(t);
    ck_assert(!fake_report(&a, id, lease, -1, "acc", NAN));
    ck_assert(!fake_report(&a, id, lease, -5, "acc", INFINITY));
    Hpsearch__Envelope *r = fake_result(&a, id, lease, 0.3);
    ck_assert_int_eq(r->type, HPSEARCH__MSG_TYPE__ACK);
    ck_assert(!r->ack->stop);
    hp_proto_free(r);
    ck_assert_str_eq(hp_harness_wait_study(&h, "n", 60), "completed");
    ck_assert_int_eq(hp_harness_db_int(h.db, "SELECT count(*) FROM trials WHERE state = "
                                             "'completed'"),
                     1);
    nng_close(a.s);
    hp_harness_fini(&h);
}
END_TEST

/* A RESULT's error analysis is stored when every count and bound adds up,
 * and dropped (the result still counting) when one does not. */
START_TEST(test_error_analysis_checked)
{
    hp_harness_t h;
    hp_harness_init(&h, "error-analysis");
    hp_harness_start_daemon(&h, NULL);
    hp_harness_submit(&h, "name: ea\nobjective: {metric: loss}\n"
                          "search: {algorithm: random, max_trials: 4, seed: 1}\n"
                          "space:\n  x: {type: float, low: 0, high: 1}\n"
                          "trial: {command: [prog, '{x}']}\n");
    fake_t a;
    fake_open(&a, h.listen);
    fake_hello(&a, 0);
    uint64_t conf[4] = {5, 1, 2, 7};
    uint8_t px[4] = {0, 64, 128, 255};
    for (int k = 0; k < 4; k++) {
        Hpsearch__ErrorAnalysis ea = HPSEARCH__ERROR_ANALYSIS__INIT;
        Hpsearch__WorstExample w = HPSEARCH__WORST_EXAMPLE__INIT;
        Hpsearch__WorstExample *wp[1] = {&w};
        ea.classes = 2;
        ea.confusion = conf;
        ea.n_confusion = k == 1 ? 3 : 4; /* 1: not classes^2 */
        ea.worst = wp;
        ea.n_worst = 1;
        ea.image_c = 1;
        ea.image_h = ea.image_w = 2;
        w.index = 9;
        w.label = k == 2 ? 2 : 1; /* 2: a class beyond classes */
        w.predicted = 0;
        w.loss = 3.5;
        w.pixels = (ProtobufCBinaryData){k == 3 ? 3 : 4, px}; /* 3: not c*h*w bytes */
        Hpsearch__Envelope *t = fake_get_trial(&a);
        uint64_t id = t->trial->trial_id, lease = t->trial->lease_id;
        hp_proto_free(t);
        Hpsearch__Envelope *r = fake_result_ea(&a, id, lease, 0.5, &ea);
        ck_assert_int_eq(r->type, HPSEARCH__MSG_TYPE__ACK);
        ck_assert(!r->ack->stop);
        hp_proto_free(r);
    }
    ck_assert_str_eq(hp_harness_wait_study(&h, "ea", 60), "completed");
    ck_assert_int_eq(hp_harness_db_int(h.db, "SELECT count(*) FROM trials WHERE state = "
                                             "'completed'"),
                     4);
    /* only the first one was whole */
    ck_assert_int_eq(hp_harness_db_int(h.db, "SELECT count(*) FROM trial_errors"), 1);
    ck_assert_int_eq(hp_harness_db_int(h.db, "SELECT t.number FROM trial_errors e JOIN trials t "
                                             "ON t.id = e.trial_id"),
                     0);
    ck_assert_int_eq(hp_harness_db_int(h.db, "SELECT json_extract(confusion, '$[1][1]') FROM "
                                             "trial_errors"),
                     7);
    ck_assert_int_eq(hp_harness_db_int(h.db, "SELECT idx * 100 + label * 10 + predicted FROM "
                                             "trial_worst WHERE rank = 1 AND "
                                             "hex(pixels) = '004080FF'"),
                     910);
    nng_close(a.s);
    hp_harness_fini(&h);
}
END_TEST

/* A trial the pruning rule stopped is pruned however its worker heard the
 * stop: by the PROGRESS reply (PRUNED), or by a heartbeat's reply, which
 * names no reason, so the worker reports CANCELLED. One that completed
 * before the stop reached it completed, with no trial_pruned event. */
START_TEST(test_pruned_however_the_stop_arrived)
{
    hp_harness_t h;
    hp_harness_init(&h, "prune-stop");
    hp_harness_start_daemon(&h, NULL);
    hp_harness_submit(&h, "name: p\nobjective: {metric: loss}\n"
                          "search: {algorithm: random, max_trials: 4, seed: 1}\n"
                          "space:\n  x: {type: float, low: 0, high: 1}\n"
                          "trial: {command: [prog, '{x}']}\n"
                          "pruning: {rule: asha, max_resource: 9}\n");
    fake_t a;
    fake_open(&a, h.listen);
    fake_hello(&a, 0);
    /* trial 0 sets the bar at rung 1 and completes */
    Hpsearch__Envelope *t = fake_get_trial(&a);
    uint64_t id = t->trial->trial_id, lease = t->trial->lease_id;
    hp_proto_free(t);
    ck_assert(!fake_progress(&a, id, lease, 1, 0.5));
    hp_proto_free(fake_result(&a, id, lease, 0.4));
    /* trials 1..3 are worse at rung 1: each is told to stop */
    static const Hpsearch__TrialOutcome ends[3] = {HPSEARCH__TRIAL_OUTCOME__PRUNED,
                                                   HPSEARCH__TRIAL_OUTCOME__CANCELLED,
                                                   HPSEARCH__TRIAL_OUTCOME__COMPLETED};
    for (int k = 0; k < 3; k++) {
        t = fake_get_trial(&a);
        id = t->trial->trial_id;
        lease = t->trial->lease_id;
        hp_proto_free(t);
        ck_assert(fake_progress(&a, id, lease, 1, 0.9));
        if (ends[k] == HPSEARCH__TRIAL_OUTCOME__COMPLETED)
            hp_proto_free(fake_result(&a, id, lease, 0.8));
        else
            hp_proto_free(fake_end(&a, id, lease, ends[k], ends[k] ==
                                   HPSEARCH__TRIAL_OUTCOME__PRUNED ? "pruned" : "cancelled"));
    }
    ck_assert_str_eq(hp_harness_wait_study(&h, "p", 60), "completed");
    char got[64];
    ck_assert_ptr_nonnull(hp_harness_db_text(h.db, "SELECT group_concat(state || ':' || "
                                                   "coalesce(pruned_step, '-'), ' ') FROM (SELECT "
                                                   "state, pruned_step FROM trials ORDER BY number)",
                                             got, sizeof got));
    ck_assert_str_eq(got, "completed:- pruned:1 pruned:1 completed:-");
    ck_assert_int_eq(hp_harness_db_int(h.db, "SELECT count(*) FROM events WHERE kind = "
                                             "'trial_pruned'"),
                     2);
    nng_close(a.s);
    hp_harness_fini(&h);
}
END_TEST

/* A trial carries its spec's limits: trial.timeout, and trial.kill_grace
 * (SIGTERM to SIGKILL) for a command, 10 s unless the spec says. */
START_TEST(test_trial_carries_timeout_and_kill_grace)
{
    hp_harness_t h;
    hp_harness_init(&h, "grace");
    hp_harness_start_daemon(&h, NULL);
    hp_harness_submit(&h, "name: g\nobjective: {metric: loss}\n"
                          "search: {algorithm: random, max_trials: 1}\n"
                          "space:\n  x: {type: float, low: 0, high: 1}\n"
                          "trial: {command: [prog, '{x}'], timeout: 30, kill_grace: 0.25}\n");
    hp_harness_submit(&h, "name: d\nobjective: {metric: loss}\n"
                          "search: {algorithm: random, max_trials: 1}\n"
                          "space:\n  x: {type: float, low: 0, high: 1}\n"
                          "trial: {command: [prog, '{x}']}\n");
    fake_t a;
    fake_open(&a, h.listen);
    fake_hello(&a, 0);
    int seen = 0;
    for (int k = 0; k < 2; k++) {
        Hpsearch__Envelope *t = fake_get_trial(&a);
        ck_assert_ptr_nonnull(t->trial);
        if (strcmp(t->trial->study_name, "g") == 0) {
            ck_assert_double_eq(t->trial->timeout_s, 30);
            ck_assert_double_eq(t->trial->kill_grace_s, 0.25);
            seen |= 1;
        } else {
            ck_assert_double_eq(t->trial->timeout_s, 0);
            ck_assert_double_eq(t->trial->kill_grace_s, 10);
            seen |= 2;
        }
        hp_proto_free(t);
    }
    ck_assert_int_eq(seen, 3);
    nng_close(a.s);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_expired_lease_requeues_and_late_result_is_refused)
{
    hp_harness_t h;
    hp_harness_init(&h, "lease");
    /* b's result must land within a lease of its trial: 3 s covers a
     * loaded machine's pauses (a's expiry is waited for, not slept) */
    hp_harness_start_daemon(&h, "--lease-ms", "3000", "--heartbeat-ms", "100", NULL);
    hp_harness_submit(&h, branin_spec("lease", 1, 1));
    fake_t a, b;
    fake_open(&a, h.listen);
    fake_hello(&a, 0);
    Hpsearch__Envelope *t1 = fake_get_trial(&a);
    uint64_t trial = t1->trial->trial_id, lease1 = t1->trial->lease_id;
    ck_assert_uint_eq(t1->trial->attempt, 1);
    ck_assert_ptr_nonnull(strstr(t1->trial->trial_json, "\"function\":\"branin\""));
    hp_proto_free(t1);
    /* a goes silent; b asks, heartbeating on a second socket as a real
     * worker does, and gets the same trial once a's lease expires */
    fake_open(&b, h.listen);
    fake_hello(&b, 0);
    fake_t bh;
    fake_open(&bh, h.listen);
    fake_share(&bh, &b);
    fake_get_trial_send(&b);
    Hpsearch__Envelope *t2 = NULL;
    for (int i = 0; i < 600 && !t2; i++) {
        Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
        Hpsearch__Heartbeat hb = HPSEARCH__HEARTBEAT__INIT;
        env.type = HPSEARCH__MSG_TYPE__HEARTBEAT;
        env.body_case = HPSEARCH__ENVELOPE__BODY_HEARTBEAT;
        env.heartbeat = &hb;
        fake_send(&bh, &env);
        hp_proto_free(fake_recv(&bh));
        char *buf;
        size_t len;
        if (nng_recv(b.s, &buf, &len, NNG_FLAG_ALLOC | NNG_FLAG_NONBLOCK) == 0) {
            char err[256];
            ck_assert_int_eq(hp_proto_decode(buf, len, &t2, err, sizeof err), 0);
            nng_free(buf, len);
        } else {
            usleep(100000);
        }
    }
    ck_assert_ptr_nonnull(t2);
    ck_assert_int_eq(t2->type, HPSEARCH__MSG_TYPE__TRIAL);
    ck_assert_uint_eq(t2->trial->trial_id, trial);
    ck_assert_uint_eq(t2->trial->attempt, 2);
    uint64_t lease2 = t2->trial->lease_id;
    ck_assert_uint_ne(lease1, lease2);
    hp_proto_free(t2);
    /* a wakes up: its heartbeat and result are refused */
    size_t ncancel;
    fake_heartbeat(&a, trial, lease1, &ncancel);
    ck_assert_uint_eq(ncancel, 1);
    Hpsearch__Envelope *ack = fake_result(&a, trial, lease1, 123.0);
    ck_assert_int_eq(ack->type, HPSEARCH__MSG_TYPE__ACK);
    ck_assert(ack->ack->stop);
    hp_proto_free(ack);
    ack = fake_result(&b, trial, lease2, 7.5);
    ck_assert_int_eq(ack->type, HPSEARCH__MSG_TYPE__ACK);
    ck_assert(!ack->ack->stop);
    hp_proto_free(ack);
    /* the resend of the same result changes nothing, and is no refusal */
    ack = fake_result(&b, trial, lease2, 7.5);
    ck_assert(!ack->ack->stop);
    ck_assert_str_eq(ack->ack->reason, "already recorded");
    hp_proto_free(ack);
    ck_assert_str_eq(hp_harness_wait_study(&h, "lease", 60), "completed");
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT value*10 FROM trials"), 75);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT attempts FROM trials"), 2);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trial_attempts WHERE "
                                              "outcome = 'lost' AND attempt = 1"),
                     1);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trial_attempts WHERE "
                                              "outcome = 'completed' AND attempt = 2"),
                     1);
    nng_close(a.s);
    nng_close(b.s);
    nng_close(bh.s);
    hp_harness_fini(&h);
}
END_TEST

/* Sessions outlive a restart (their digests are stored): after a SIGKILL
 * the worker's heartbeat and result are served under the session it had,
 * with no HELLO, and the lease it held survived; a HELLO that names its id
 * without its secret or nonce (another token holder) gets a new id and
 * takes nothing of it. */
START_TEST(test_restart_keeps_lease_for_reconnecting_worker)
{
    hp_harness_t h;
    hp_harness_init(&h, "restart");
    hp_harness_start_daemon(&h, "--lease-ms", "20000", NULL);
    hp_harness_submit(&h, branin_spec("restart", 2, 1));
    fake_t a;
    fake_open(&a, h.listen);
    fake_hello(&a, 0);
    Hpsearch__Envelope *t = fake_get_trial(&a);
    uint64_t trial = t->trial->trial_id, lease = t->trial->lease_id, wid = a.id;
    hp_proto_free(t);
    hp_harness_kill(&h, h.daemon, SIGKILL);
    hp_harness_start_daemon(&h, "--lease-ms", "20000", NULL);
    char *log = child_log(&h, "hpsearchd", h.daemon);
    HAS(log, "restored the sessions of 1 workers");
    free(log);
    /* someone else with the token names the id first: a new id, no lease */
    fake_t m;
    fake_open(&m, h.listen);
    fake_hello(&m, wid);
    ck_assert_uint_ne(m.id, wid);
    size_t ncancel = 0;
    fake_heartbeat(&m, trial, lease, &ncancel);
    ck_assert_uint_eq(ncancel, 1); /* not its lease: told to stop it */
    /* the worker goes on under its session, no HELLO: the lease held */
    fake_heartbeat(&a, trial, lease, &ncancel);
    ck_assert_uint_eq(ncancel, 0);
    Hpsearch__Envelope *ack = fake_result(&a, trial, lease, 1.25);
    ck_assert_int_eq(ack->type, HPSEARCH__MSG_TYPE__ACK);
    ck_assert(!ack->ack->stop);
    hp_proto_free(ack);
    /* and a HELLO again with its secret keeps its id */
    fake_hello(&a, wid);
    ck_assert_uint_eq(a.id, wid);
    t = fake_get_trial(&a);
    ack = fake_result(&a, t->trial->trial_id, t->trial->lease_id, 2.5);
    hp_proto_free(t);
    hp_proto_free(ack);
    ck_assert_str_eq(hp_harness_wait_study(&h, "restart", 60), "completed");
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials WHERE state = "
                                              "'completed' AND attempts = 1"),
                     2);
    log = child_log(&h, "hpsearchd", h.daemon);
    HAS(log, "went on under its session from before the restart");
    HAS(log, "without its session secret; registering it under a new id");
    free(log);
    nng_close(m.s);
    nng_close(a.s);
    hp_harness_fini(&h);
}
END_TEST

/* A HELLO whose reply is lost and that is sent again — the same bytes (a
 * REQ resend), or a new HELLO with the worker process's nonce (after its
 * timeout) — is the same registration: one worker id, one workers row. */
START_TEST(test_hello_resent_registers_once)
{
    hp_harness_t h;
    hp_harness_init(&h, "hello-resend");
    hp_harness_start_daemon(&h, NULL);
    unsigned char nonce[32];
    for (size_t i = 0; i < sizeof nonce; i++)
        nonce[i] = (unsigned char)(i * 37 + 11);
    Hpsearch__Hello hl = HPSEARCH__HELLO__INIT;
    hl.hostname = "resender";
    hl.pid = (uint32_t)getpid();
    hl.slots = 1;
    hl.cores = 1;
    hl.nonce.data = nonce;
    hl.nonce.len = sizeof nonce;
    fake_t a;
    fake_open(&a, h.listen);
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    env.type = HPSEARCH__MSG_TYPE__HELLO;
    env.body_case = HPSEARCH__ENVELOPE__BODY_HELLO;
    env.hello = &hl;
    /* the first reply "lost": read and dropped */
    fake_send(&a, &env);
    Hpsearch__Envelope *r1 = fake_recv(&a);
    ck_assert_int_eq(r1->type, HPSEARCH__MSG_TYPE__HELLO_REPLY);
    /* the same request again (same seq, as nng's REQ resends it) */
    a.seq--;
    env.seq = 0;
    fake_send(&a, &env);
    Hpsearch__Envelope *r2 = fake_recv(&a);
    ck_assert_int_eq(r2->type, HPSEARCH__MSG_TYPE__HELLO_REPLY);
    ck_assert_uint_eq(r2->hello_reply->worker_id, r1->hello_reply->worker_id);
    ck_assert_uint_eq(r2->hello_reply->session.len, r1->hello_reply->session.len);
    ck_assert(memcmp(r2->hello_reply->session.data, r1->hello_reply->session.data,
                     r1->hello_reply->session.len) == 0);
    /* a new HELLO of the same process after a timeout (new seq, no id yet) */
    fake_send(&a, &env);
    Hpsearch__Envelope *r3 = fake_recv(&a);
    ck_assert_int_eq(r3->type, HPSEARCH__MSG_TYPE__HELLO_REPLY);
    ck_assert_uint_eq(r3->hello_reply->worker_id, r1->hello_reply->worker_id);
    /* its session is the one of the latest reply */
    a.id = r3->hello_reply->worker_id;
    a.session_len = r3->hello_reply->session.len;
    memcpy(a.session, r3->hello_reply->session.data, a.session_len);
    hp_proto_free(r1);
    hp_proto_free(r2);
    hp_proto_free(r3);
    size_t ncancel;
    fake_heartbeat(&a, 99, 99, &ncancel); /* the session of the latest reply serves */
    ck_assert_uint_eq(ncancel, 1);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM workers"), 1);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM events WHERE kind = "
                                              "'worker_hello'"),
                     2);
    /* and across a restart: the resend of a HELLO the old daemon answered */
    hp_harness_kill(&h, h.daemon, SIGKILL);
    hp_harness_start_daemon(&h, NULL);
    a.seq = 2; /* the third HELLO's */
    env.session.len = 0;
    fake_send(&a, &env);
    Hpsearch__Envelope *r4 = fake_recv(&a);
    ck_assert_int_eq(r4->type, HPSEARCH__MSG_TYPE__HELLO_REPLY);
    ck_assert_uint_eq(r4->hello_reply->worker_id, a.id);
    hp_proto_free(r4);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM workers"), 1);
    nng_close(a.s);
    hp_harness_fini(&h);
}
END_TEST

/* An INTERRUPTED result puts the trial back to pending without spending
 * a retry (retries: 0 here), its resend is no refusal, and the worker that
 * sent it — it is stopping — gets no more trials, its other slot's held
 * GET_TRIAL included, until it says HELLO again. */
START_TEST(test_interrupted_result_requeues_and_worker_leaves)
{
    hp_harness_t h;
    hp_harness_init(&h, "interrupted");
    hp_harness_start_daemon(&h, NULL);
    hp_harness_submit(&h, "name: intr\nobjective: {metric: value}\n"
                          "search: {algorithm: random, max_trials: 1, seed: 3}\n"
                          "space:\n  x1: {type: float, low: -5, high: 10}\n"
                          "  x2: {type: float, low: 0, high: 15}\n"
                          "trial: {function: branin, retries: 0}\n");
    fake_t a, a2, b;
    fake_open(&a, h.listen);
    fake_hello(&a, 0);
    Hpsearch__Envelope *t = fake_get_trial(&a);
    uint64_t trial = t->trial->trial_id, lease = t->trial->lease_id;
    hp_proto_free(t);
    /* a's second slot waits for a trial */
    fake_open(&a2, h.listen);
    fake_share(&a2, &a);
    fake_get_trial_send(&a2);
    Hpsearch__Envelope *ack =
        fake_end(&a, trial, lease, HPSEARCH__TRIAL_OUTCOME__INTERRUPTED,
                 "interrupted: the worker is shutting down");
    ck_assert_int_eq(ack->type, HPSEARCH__MSG_TYPE__ACK);
    ck_assert(!ack->ack->stop);
    hp_proto_free(ack);
    /* the re-queued trial is not given to the leaving worker's other slot */
    Hpsearch__Envelope *r = fake_recv(&a2);
    ck_assert_msg(r->type == HPSEARCH__MSG_TYPE__NO_TRIAL, "got %s", hp_proto_type_name(r->type));
    ck_assert(r->no_trial->shutting_down);
    hp_proto_free(r);
    ack = fake_end(&a, trial, lease, HPSEARCH__TRIAL_OUTCOME__INTERRUPTED,
                   "interrupted: the worker is shutting down");
    ck_assert(!ack->ack->stop);
    ck_assert_str_eq(ack->ack->reason, "already recorded");
    hp_proto_free(ack);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials WHERE state = "
                                              "'pending' AND attempts = 1"),
                     1);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trial_attempts WHERE "
                                              "outcome = 'interrupted' AND error = "
                                              "'interrupted: the worker is shutting down'"),
                     1);
    /* another worker runs it: attempt 2, though retries is 0 */
    fake_open(&b, h.listen);
    fake_hello(&b, 0);
    t = fake_get_trial(&b);
    ck_assert_uint_eq(t->trial->trial_id, trial);
    ck_assert_uint_eq(t->trial->attempt, 2);
    ack = fake_result(&b, trial, t->trial->lease_id, 3.5);
    ck_assert(!ack->ack->stop);
    hp_proto_free(ack);
    hp_proto_free(t);
    ck_assert_str_eq(hp_harness_wait_study(&h, "intr", 60), "completed");
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials WHERE state = "
                                              "'completed' AND attempts = 2"),
                     1);
    nng_close(a.s);
    nng_close(a2.s);
    nng_close(b.s);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_studies_take_turns)
{
    hp_harness_t h;
    hp_harness_init(&h, "fair");
    hp_harness_start_daemon(&h, NULL);
    hp_harness_submit(&h, branin_spec("fair-a", 10, 4));
    hp_harness_submit(&h, branin_spec("fair-b", 10, 4));
    fake_t a;
    fake_open(&a, h.listen);
    fake_hello(&a, 0);
    /* one worker slot, two studies with work: they alternate */
    uint64_t prev = 0;
    for (int i = 0; i < 12; i++) {
        Hpsearch__Envelope *t = fake_get_trial(&a);
        uint64_t study = t->trial->study_id;
        if (i > 0)
            ck_assert_msg(study != prev, "trial %d went to study %llu again", i,
                          (unsigned long long)study);
        prev = study;
        hp_proto_free(fake_result(&a, t->trial->trial_id, t->trial->lease_id, 1.0));
        hp_proto_free(t);
    }
    nng_close(a.s);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_sigterm_drains)
{
    hp_harness_t h;
    hp_harness_init(&h, "sigterm");
    hp_harness_start_daemon(&h, NULL);
    fake_t a;
    fake_open(&a, h.listen);
    fake_hello(&a, 0);
    fake_get_trial_send(&a); /* an idle worker, held: no study yet */
    usleep(200000);
    kill(h.daemon, SIGTERM);
    /* the held request is answered: wait, we are shutting down */
    Hpsearch__Envelope *r = fake_recv(&a);
    ck_assert_int_eq(r->type, HPSEARCH__MSG_TYPE__NO_TRIAL);
    ck_assert(r->no_trial->shutting_down);
    hp_proto_free(r);
    int st = hp_harness_kill(&h, h.daemon, SIGTERM); /* reaps it */
    ck_assert(WIFEXITED(st));
    ck_assert_int_eq(WEXITSTATUS(st), 0);
    nng_close(a.s);
    hp_harness_fini(&h);
}
END_TEST

#define MANY 200

START_TEST(test_200_workers_all_receive_trials)
{
    hp_harness_t h;
    hp_harness_init(&h, "many");
    hp_harness_start_daemon(&h, NULL);
    fake_t *w = calloc(MANY, sizeof *w);
    for (int i = 0; i < MANY; i++) {
        fake_open(&w[i], h.listen);
        fake_hello(&w[i], 0);
        fake_get_trial_send(&w[i]); /* all 200 idle at once, held by the daemon */
    }
    hp_harness_submit(&h, branin_spec("many", MANY, MANY));
    for (int i = 0; i < MANY; i++) {
        Hpsearch__Envelope *t = fake_recv(&w[i]);
        ck_assert_msg(t->type == HPSEARCH__MSG_TYPE__TRIAL, "worker %d got %s", i,
                      hp_proto_type_name(t->type));
        Hpsearch__Envelope *ack =
            fake_result(&w[i], t->trial->trial_id, t->trial->lease_id, (double)i);
        ck_assert(!ack->ack->stop);
        hp_proto_free(ack);
        hp_proto_free(t);
    }
    ck_assert_str_eq(hp_harness_wait_study(&h, "many", 120), "completed");
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials WHERE state = "
                                              "'completed'"),
                     MANY);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(DISTINCT worker_id) FROM "
                                              "trial_attempts"),
                     MANY);
    for (int i = 0; i < MANY; i++)
        nng_close(w[i].s);
    free(w);
    hp_harness_fini(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("integration_daemon");
    TCase *tc = tcase_create("daemon");
    tcase_add_test(tc, test_malformed_messages_get_errors_and_daemon_serves_on);
    tcase_add_test(tc, test_token_required_when_configured);
    tcase_add_test(tc, test_public_address_uses_the_default_token);
    tcase_add_test(tc, test_expired_lease_requeues_and_late_result_is_refused);
    tcase_add_test(tc, test_trial_carries_timeout_and_kill_grace);
    tcase_add_test(tc, test_pruned_however_the_stop_arrived);
    tcase_add_test(tc, test_negative_step_not_judged);
    tcase_add_test(tc, test_error_analysis_checked);
    tcase_add_test(tc, test_restart_keeps_lease_for_reconnecting_worker);
    tcase_add_test(tc, test_hello_resent_registers_once);
    tcase_add_test(tc, test_interrupted_result_requeues_and_worker_leaves);
    tcase_add_test(tc, test_studies_take_turns);
    tcase_add_test(tc, test_sigterm_drains);
    tcase_add_test(tc, test_200_workers_all_receive_trials);
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
