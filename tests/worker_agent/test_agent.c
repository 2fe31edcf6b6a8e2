/* The agent against a fake coordinator: an nng REP server in the test that
 * speaks the protocol with hp_proto. HELLO capabilities, trials on every
 * slot, progress, cancel by heartbeat and by ACK, a worker started before
 * its coordinator, a coordinator restart mid-trial (re-HELLO with the
 * previous id, the result still delivered), stop with a running trial, and
 * a refused token. No assertion is about speed: waits poll with a generous
 * guard. Runs with CK_FORK=no (nng must not be used across fork). */
#define _GNU_SOURCE
#include "agent.h"
#include "codec.h"

#include "buf.h"
#include "err.h"
#include "log.h"

#include "hp_check.h"

#include <check.h>
#include <math.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NSERVE 8
#define MAXREC 64

typedef struct result_rec {
    uint64_t trial_id, lease_id;
    int outcome;
    double value;
    char error[512];
} result_rec_t;

typedef struct fake {
    nng_socket sock;
    pthread_t thr[NSERVE];
    int quit;
    int busy; /* serve threads between a request and its reply */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t next_worker_id;
    uint64_t known[16];
    int n_known;
    const char *reject_code; /* reply this ERROR code to everything */
    /* trials to hand out */
    Hpsearch__Trial *queue[MAXREC];
    int q_head, q_tail;
    /* what arrived */
    int hellos;
    Hpsearch__Hello last_hello;
    char hello_host[256];
    int hello_models, hello_functions;
    int progress, heartbeats;
    uint64_t progress_lease[MAXREC];
    uint64_t cancel_lease, cancel_trial; /* for the next heartbeat reply */
    const char *stop_progress_reason;    /* ACK{stop} to progress */
    result_rec_t results[MAXREC];
    int n_results;
} fake_t;

static char url[320], dir[256];

static void reply(nng_ctx ctx, nng_aio *aio, Hpsearch__Envelope *env)
{
    hp_buf_t b = {0};
    env->version = HP_PROTO_VERSION;
    ck_assert_int_eq(hp_proto_encode(env, &b), 0);
    nng_msg *m;
    nng_msg_alloc(&m, 0);
    nng_msg_append(m, b.data, b.len);
    hp_buf_fini(&b);
    nng_aio_set_msg(aio, m);
    nng_ctx_send(ctx, aio);
    nng_aio_wait(aio);
    if (nng_aio_result(aio) != 0)
        nng_msg_free(nng_aio_get_msg(aio));
}

static void reply_error(nng_ctx ctx, nng_aio *aio, int code, const char *msg)
{
    hp_buf_t b = {0};
    hp_proto_encode_error(&b, code, msg);
    nng_msg *m;
    nng_msg_alloc(&m, 0);
    nng_msg_append(m, b.data, b.len);
    hp_buf_fini(&b);
    nng_aio_set_msg(aio, m);
    nng_ctx_send(ctx, aio);
    nng_aio_wait(aio);
    if (nng_aio_result(aio) != 0)
        nng_msg_free(nng_aio_get_msg(aio));
}

static int known(fake_t *f, uint64_t id)
{
    for (int i = 0; i < f->n_known; i++)
        if (f->known[i] == id)
            return 1;
    return 0;
}

static void handle(fake_t *f, nng_ctx ctx, nng_aio *aio, Hpsearch__Envelope *in)
{
    Hpsearch__Envelope out = HPSEARCH__ENVELOPE__INIT;
    pthread_mutex_lock(&f->mu);
    if (f->reject_code) {
        pthread_mutex_unlock(&f->mu);
        reply_error(ctx, aio, strcmp(f->reject_code, "EAUTH") == 0 ? HP_EAUTH : HP_EVERSION,
                    "refused by the test");
        return;
    }
    if (in->type == HPSEARCH__MSG_TYPE__HELLO) {
        Hpsearch__HelloReply hr = HPSEARCH__HELLO_REPLY__INIT;
        f->hellos++;
        f->last_hello = *in->hello;
        snprintf(f->hello_host, sizeof f->hello_host, "%s", in->hello->hostname);
        f->hello_models = (int)in->hello->n_models;
        f->hello_functions = (int)in->hello->n_functions;
        hr.worker_id = f->next_worker_id++;
        hr.heartbeat_ms = 50;
        hr.lease_ms = 1000;
        if (f->n_known < 16)
            f->known[f->n_known++] = hr.worker_id;
        pthread_mutex_unlock(&f->mu);
        out.type = HPSEARCH__MSG_TYPE__HELLO_REPLY;
        out.body_case = HPSEARCH__ENVELOPE__BODY_HELLO_REPLY;
        out.hello_reply = &hr;
        reply(ctx, aio, &out);
        return;
    }
    if (!known(f, in->worker_id)) {
        pthread_mutex_unlock(&f->mu);
        reply_error(ctx, aio, HP_ENOENT, "unknown worker");
        return;
    }
    Hpsearch__Ack ack = HPSEARCH__ACK__INIT;
    out.type = HPSEARCH__MSG_TYPE__ACK;
    out.body_case = HPSEARCH__ENVELOPE__BODY_ACK;
    out.ack = &ack;
    switch (in->type) {
    case HPSEARCH__MSG_TYPE__GET_TRIAL: {
        while (!f->quit && f->q_head == f->q_tail)
            pthread_cond_wait(&f->cv, &f->mu);
        if (f->quit) {
            pthread_mutex_unlock(&f->mu);
            return;
        }
        Hpsearch__Trial *t = f->queue[f->q_head++];
        pthread_mutex_unlock(&f->mu);
        out.type = HPSEARCH__MSG_TYPE__TRIAL;
        out.body_case = HPSEARCH__ENVELOPE__BODY_TRIAL;
        out.trial = t;
        reply(ctx, aio, &out);
        return;
    }
    case HPSEARCH__MSG_TYPE__PROGRESS:
        if (f->progress < MAXREC)
            f->progress_lease[f->progress] = in->progress->lease->lease_id;
        f->progress++;
        if (f->stop_progress_reason) {
            ack.stop = 1;
            ack.reason = (char *)f->stop_progress_reason;
        }
        break;
    case HPSEARCH__MSG_TYPE__RESULT: {
        int dup = 0;
        for (int i = 0; i < f->n_results; i++)
            dup |= f->results[i].lease_id == in->result->lease->lease_id;
        if (!dup && f->n_results < MAXREC) {
            result_rec_t *r = &f->results[f->n_results++];
            r->trial_id = in->result->lease->trial_id;
            r->lease_id = in->result->lease->lease_id;
            r->outcome = in->result->outcome;
            r->value = in->result->value;
            snprintf(r->error, sizeof r->error, "%s", in->result->error ? in->result->error : "");
        }
        break;
    }
    case HPSEARCH__MSG_TYPE__HEARTBEAT: {
        f->heartbeats++;
        Hpsearch__HeartbeatReply hr = HPSEARCH__HEARTBEAT_REPLY__INIT;
        Hpsearch__LeaseRef l = HPSEARCH__LEASE_REF__INIT, *lp = &l;
        if (f->cancel_lease) {
            l.trial_id = f->cancel_trial;
            l.lease_id = f->cancel_lease;
            hr.cancel = &lp;
            hr.n_cancel = 1;
            f->cancel_lease = 0;
        }
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        out.type = HPSEARCH__MSG_TYPE__HEARTBEAT_REPLY;
        out.body_case = HPSEARCH__ENVELOPE__BODY_HEARTBEAT_REPLY;
        out.heartbeat_reply = &hr;
        reply(ctx, aio, &out);
        return;
    }
    default:
        pthread_mutex_unlock(&f->mu);
        reply_error(ctx, aio, HP_EPROTO, "unexpected");
        return;
    }
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    reply(ctx, aio, &out);
}

static void *serve(void *arg)
{
    fake_t *f = arg;
    nng_ctx ctx;
    nng_aio *aio;
    /* A test that ends quickly (a refused HELLO) may close the socket
     * before this thread gets here: then there is nothing to serve. No
     * ck_assert here: assertions belong to the test's own thread. */
    if (nng_ctx_open(&ctx, f->sock) != 0)
        return NULL;
    if (nng_aio_alloc(&aio, NULL, NULL) != 0) {
        nng_ctx_close(ctx);
        return NULL;
    }
    for (;;) {
        nng_ctx_recv(ctx, aio);
        nng_aio_wait(aio);
        if (nng_aio_result(aio) != 0)
            break; /* closed */
        nng_msg *m = nng_aio_get_msg(aio);
        /* once stopping, no reply starts: fake_stop closes the socket only
         * when no thread is inside one (nng 1.5 can fail a send racing a
         * close with a panic inside nng) */
        pthread_mutex_lock(&f->mu);
        int quit = f->quit;
        if (!quit)
            f->busy++;
        pthread_mutex_unlock(&f->mu);
        if (quit) {
            nng_msg_free(m);
            continue;
        }
        Hpsearch__Envelope *in;
        char err[256];
        int rc = hp_proto_decode(nng_msg_body(m), nng_msg_len(m), &in, err, sizeof err);
        nng_msg_free(m);
        if (rc < 0) {
            reply_error(ctx, aio, rc, err);
        } else {
            handle(f, ctx, aio, in);
            hp_proto_free(in);
        }
        pthread_mutex_lock(&f->mu);
        f->busy--;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
    }
    nng_aio_free(aio);
    nng_ctx_close(ctx);
    return NULL;
}

static fake_t *fake_start(uint64_t first_id)
{
    fake_t *f = calloc(1, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->next_worker_id = first_id;
    ck_assert_int_eq(nng_rep0_open(&f->sock), 0);
    ck_assert_int_eq(nng_listen(f->sock, url, NULL, 0), 0);
    for (int i = 0; i < NSERVE; i++)
        pthread_create(&f->thr[i], NULL, serve, f);
    return f;
}

static void fake_stop(fake_t *f)
{
    pthread_mutex_lock(&f->mu);
    f->quit = 1;
    pthread_cond_broadcast(&f->cv);
    while (f->busy > 0)
        pthread_cond_wait(&f->cv, &f->mu);
    pthread_mutex_unlock(&f->mu);
    nng_close(f->sock);
    for (int i = 0; i < NSERVE; i++)
        pthread_join(f->thr[i], NULL);
}

static void fake_free(fake_t *f)
{
    for (int i = 0; i < f->q_tail; i++) {
        Hpsearch__Trial *t = f->queue[i];
        for (size_t k = 0; k < t->n_params; k++) {
            free(t->params[k]->name);
            free(t->params[k]->value);
            free(t->params[k]);
        }
        free(t->params);
        free(t->trial_json);
        free(t);
    }
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

/* queue a trial; lease id = 1000 + trial id */
static void fake_add(fake_t *f, uint64_t trial_id, const char *trial_json, const char *objective,
                     double x1, double x2)
{
    Hpsearch__Trial *t = calloc(1, sizeof *t);
    hpsearch__trial__init(t);
    t->study_id = 1;
    t->study_name = (char *)"test";
    t->trial_id = trial_id;
    t->number = (uint32_t)trial_id;
    t->lease_id = 1000 + trial_id;
    t->attempt = 1;
    t->params_json = (char *)"{}";
    t->trial_json = strdup(trial_json);
    t->objective = (char *)objective;
    t->seed = 7;
    t->n_params = 2;
    t->params = calloc(2, sizeof *t->params);
    for (int i = 0; i < 2; i++) {
        Hpsearch__Param *p = calloc(1, sizeof *p);
        hpsearch__param__init(p);
        p->name = strdup(i ? "x2" : "x1");
        HP_ASSERT(asprintf(&p->value, "%.17g", i ? x2 : x1) > 0);
        t->params[i] = p;
    }
    pthread_mutex_lock(&f->mu);
    f->queue[f->q_tail++] = t;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* wait (guarded, 60 s) until cond holds under f->mu */
#define WAIT_FOR(f, cond)                                                                         \
    do {                                                                                          \
        int ok_ = 0;                                                                              \
        for (int i_ = 0; i_ < 6000 && !ok_; i_++) {                                               \
            pthread_mutex_lock(&(f)->mu);                                                         \
            ok_ = (cond);                                                                         \
            pthread_mutex_unlock(&(f)->mu);                                                       \
            if (!ok_)                                                                             \
                usleep(10000);                                                                    \
        }                                                                                         \
        ck_assert_msg(ok_, "timed out waiting for " #cond);                                       \
    } while (0)

typedef struct agent_run {
    hp_agent_t *a;
    pthread_t thr;
    int rc;
    char err[512];
} agent_run_t;

static void *agent_main(void *arg)
{
    agent_run_t *r = arg;
    r->rc = hp_agent_run(r->a, r->err, sizeof r->err);
    return NULL;
}

static void agent_start(agent_run_t *r, int slots)
{
    hp_agent_opts_t o = {.url = url, .slots = slots, .kill_grace_ms = 200,
                         .max_backoff_ms = 200, .request_timeout_ms = 2000};
    char err[256];
    ck_assert_int_eq(hp_agent_new(&r->a, &o, err, sizeof err), 0);
    ck_assert_int_eq(pthread_create(&r->thr, NULL, agent_main, r), 0);
}

static int agent_finish(agent_run_t *r)
{
    hp_agent_stop(r->a);
    pthread_join(r->thr, NULL);
    hp_agent_free(r->a);
    return r->rc;
}

static int counter;

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/hp_agent_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(url, sizeof url, "ipc://%s/w%d.sock", dir, counter++);
}

static void teardown(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *BRANIN = "{\"function\":\"branin\",\"noise\":0}";

static const result_rec_t *result_for(fake_t *f, uint64_t trial)
{
    for (int i = 0; i < f->n_results; i++)
        if (f->results[i].trial_id == trial)
            return &f->results[i];
    return NULL;
}

/* an external trial: prints loss=5, waits for dir/go, prints loss=<final> */
static char *waiting_trial(const char *final)
{
    char path[300], *tj;
    snprintf(path, sizeof path, "%s/wait.sh", dir);
    FILE *fp = fopen(path, "w");
    fprintf(fp, "#!/bin/sh\necho loss=5\nwhile [ ! -f '%s/go' ]; do sleep 0.02; done\necho loss=%s\n",
            dir, final);
    fclose(fp);
    chmod(path, 0755);
    HP_ASSERT(asprintf(&tj, "{\"command\":[\"%s\"],\"env\":{},\"fixed\":{}}", path) > 0);
    return tj;
}

static void touch_go(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/go", dir);
    FILE *fp = fopen(path, "w");
    fclose(fp);
}

START_TEST(test_hello_and_trials)
{
    fake_t *f = fake_start(1);
    agent_run_t r;
    agent_start(&r, 2);
    fake_add(f, 1, BRANIN, "value", M_PI, 2.275);
    fake_add(f, 2, BRANIN, "value", 0, 0);
    fake_add(f, 3, BRANIN, "value", -M_PI, 12.275);
    WAIT_FOR(f, f->n_results == 3);
    WAIT_FOR(f, f->heartbeats >= 2);
    pthread_mutex_lock(&f->mu);
    ck_assert_int_eq(f->hellos, 1);
    ck_assert_uint_eq(f->last_hello.slots, 2);
    ck_assert_uint_ge(f->last_hello.cores, 1);
    ck_assert_uint_eq(f->last_hello.pid, (uint32_t)getpid());
    ck_assert_uint_eq(f->last_hello.previous_worker_id, 0);
    ck_assert_int_eq(f->hello_models, 7);
    ck_assert_int_eq(f->hello_functions, 4);
    ck_assert(f->hello_host[0]);
    ck_assert_int_eq(f->progress, 0); /* functions report with the result only */
    for (uint64_t t = 1; t <= 3; t++) {
        const result_rec_t *res = result_for(f, t);
        ck_assert_ptr_nonnull(res);
        ck_assert_uint_eq(res->lease_id, 1000 + t);
        ck_assert_int_eq(res->outcome, HPSEARCH__TRIAL_OUTCOME__COMPLETED);
    }
    ck_assert_double_eq_tol(result_for(f, 1)->value, 0.397887, 1e-5);
    ck_assert_double_eq_tol(result_for(f, 3)->value, 0.397887, 1e-5);
    pthread_mutex_unlock(&f->mu);
    ck_assert_int_eq(agent_finish(&r), 0);
    fake_stop(f);
    fake_free(f);
}
END_TEST

START_TEST(test_failed_trial_reported)
{
    fake_t *f = fake_start(1);
    agent_run_t r;
    agent_start(&r, 1);
    fake_add(f, 1, "{\"command\":[\"./no-such-program\"],\"env\":{},\"fixed\":{}}", "loss", 0, 0);
    WAIT_FOR(f, f->n_results == 1);
    pthread_mutex_lock(&f->mu);
    ck_assert_int_eq(f->results[0].outcome, HPSEARCH__TRIAL_OUTCOME__FAILED);
    ck_assert_str_eq(f->results[0].error, "cannot run './no-such-program': No such file or directory");
    pthread_mutex_unlock(&f->mu);
    ck_assert_int_eq(agent_finish(&r), 0);
    fake_stop(f);
    fake_free(f);
}
END_TEST

START_TEST(test_cancel_by_heartbeat)
{
    fake_t *f = fake_start(1);
    agent_run_t r;
    agent_start(&r, 1);
    char *tj = waiting_trial("1");
    fake_add(f, 4, tj, "loss", 0, 0);
    free(tj);
    WAIT_FOR(f, f->progress >= 1);
    pthread_mutex_lock(&f->mu);
    f->cancel_trial = 4;
    f->cancel_lease = 1004;
    pthread_mutex_unlock(&f->mu);
    WAIT_FOR(f, f->n_results == 1);
    pthread_mutex_lock(&f->mu);
    ck_assert_int_eq(f->results[0].outcome, HPSEARCH__TRIAL_OUTCOME__CANCELLED);
    ck_assert_msg(strstr(f->results[0].error, "cancelled by the coordinator"), "%s",
                  f->results[0].error);
    pthread_mutex_unlock(&f->mu);
    ck_assert_int_eq(agent_finish(&r), 0);
    fake_stop(f);
    fake_free(f);
}
END_TEST

START_TEST(test_pruned_by_ack)
{
    fake_t *f = fake_start(1);
    f->stop_progress_reason = "pruned by the median rule";
    agent_run_t r;
    agent_start(&r, 1);
    char *tj = waiting_trial("1");
    fake_add(f, 5, tj, "loss", 0, 0);
    free(tj);
    WAIT_FOR(f, f->n_results == 1);
    pthread_mutex_lock(&f->mu);
    ck_assert_int_eq(f->results[0].outcome, HPSEARCH__TRIAL_OUTCOME__PRUNED);
    pthread_mutex_unlock(&f->mu);
    ck_assert_int_eq(agent_finish(&r), 0);
    fake_stop(f);
    fake_free(f);
}
END_TEST

START_TEST(test_started_first_and_coordinator_restart)
{
    agent_run_t r;
    agent_start(&r, 2); /* nobody listens yet */
    usleep(100000);
    fake_t *f1 = fake_start(1);
    char *tj = waiting_trial("2.5");
    fake_add(f1, 6, tj, "loss", 0, 0);
    free(tj);
    WAIT_FOR(f1, f1->progress >= 1);
    uint64_t first_id = f1->known[0];
    fake_stop(f1); /* the coordinator dies mid-trial */

    fake_t *f2 = fake_start(100); /* and comes back knowing no one */
    touch_go();
    WAIT_FOR(f2, f2->n_results == 1);
    pthread_mutex_lock(&f2->mu);
    ck_assert_int_ge(f2->hellos, 1);
    ck_assert_uint_eq(f2->last_hello.previous_worker_id, first_id);
    ck_assert_uint_eq(f2->results[0].lease_id, 1006);
    ck_assert_int_eq(f2->results[0].outcome, HPSEARCH__TRIAL_OUTCOME__COMPLETED);
    ck_assert_double_eq(f2->results[0].value, 2.5);
    pthread_mutex_unlock(&f2->mu);
    /* and the restarted coordinator's trials still reach both slots */
    fake_add(f2, 7, BRANIN, "value", 0, 0);
    fake_add(f2, 8, BRANIN, "value", 0, 0);
    WAIT_FOR(f2, f2->n_results == 3);
    ck_assert_int_eq(agent_finish(&r), 0);
    fake_stop(f2);
    fake_free(f1);
    fake_free(f2);
}
END_TEST

/* A worker that stops mid-trial reports it INTERRUPTED, not cancelled:
 * the coordinator runs the trial again without spending a retry. */
START_TEST(test_stop_interrupts_running)
{
    fake_t *f = fake_start(1);
    agent_run_t r;
    agent_start(&r, 1);
    char *tj = waiting_trial("1");
    fake_add(f, 9, tj, "loss", 0, 0);
    free(tj);
    WAIT_FOR(f, f->progress >= 1);
    ck_assert_int_eq(agent_finish(&r), 0);
    pthread_mutex_lock(&f->mu);
    ck_assert_int_eq(f->n_results, 1);
    ck_assert_int_eq(f->results[0].outcome, HPSEARCH__TRIAL_OUTCOME__INTERRUPTED);
    ck_assert_str_eq(f->results[0].error, "interrupted: the worker is shutting down");
    pthread_mutex_unlock(&f->mu);
    fake_stop(f);
    fake_free(f);
}
END_TEST

START_TEST(test_refused_token_is_fatal)
{
    fake_t *f = fake_start(1);
    f->reject_code = "EAUTH";
    agent_run_t r;
    agent_start(&r, 1);
    pthread_join(r.thr, NULL); /* returns by itself */
    ck_assert_int_eq(r.rc, HP_EAUTH);
    ck_assert_msg(strstr(r.err, "EAUTH"), "%s", r.err);
    hp_agent_free(r.a);
    fake_stop(f);
    fake_free(f);
}
END_TEST

int main(void)
{
    hp_log_set_level(HP_LOG_WARN);
    Suite *s = suite_create("worker_agent");
    TCase *tc = tcase_create("agent");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_hello_and_trials);
    tcase_add_test(tc, test_failed_trial_reported);
    tcase_add_test(tc, test_cancel_by_heartbeat);
    tcase_add_test(tc, test_pruned_by_ack);
    tcase_add_test(tc, test_started_first_and_coordinator_restart);
    tcase_add_test(tc, test_stop_interrupts_running);
    tcase_add_test(tc, test_refused_token_is_fatal);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
