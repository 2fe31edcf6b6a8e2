/* hp_request_*: one exchange against a real REP socket on an inproc://
 * address in this process. The request is stamped (version, worker id,
 * seq, token) and the token not left behind; an ERROR reply becomes its
 * code with "CODE: message"; a malformed reply, no reply, no peer, a
 * stop from another thread and a stop before sending each fail at the step
 * they name. Runs with CK_FORK=no (nng must not be used across fork). */
#include "request.h"

#include "buf.h"
#include "err.h"

#include "hp_check.h"

#include <check.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef enum { ANSWER_ACK, ANSWER_ERROR, ANSWER_GARBAGE, ANSWER_NONE } answer_t;

/* A REP server on its own thread: takes one request, keeps a copy, and
 * answers as told. */
typedef struct server {
    nng_socket rep, req;
    nng_ctx ctx; /* the client's */
    pthread_t thr;
    answer_t answer;
    const char *error_code, *error_message;
    pthread_mutex_t mu;
    int got;                 /* requests received */
    Hpsearch__Envelope *last; /* the last one, decoded */
} server_t;

static server_t srv;
static int url_n;

/* the server thread uses HP_ASSERT: Check's asserts belong to the test's
 * own thread */
static void reply(nng_socket s, hp_buf_t *b)
{
    HP_ASSERT(nng_send(s, b->data, b->len, 0) == 0);
}

static void *serve(void *arg)
{
    server_t *sv = arg;
    for (;;) {
        void *data;
        size_t len;
        if (nng_recv(sv->rep, &data, &len, NNG_FLAG_ALLOC) != 0)
            return NULL; /* closed: the test is over */
        Hpsearch__Envelope *env = NULL;
        char err[256];
        int rc = hp_proto_decode(data, len, &env, err, sizeof err);
        nng_free(data, len);
        pthread_mutex_lock(&sv->mu);
        sv->got++;
        hp_proto_free(sv->last);
        sv->last = rc == 0 ? env : NULL;
        pthread_mutex_unlock(&sv->mu);
        hp_buf_t b = {0};
        if (sv->answer == ANSWER_ACK) {
            Hpsearch__Envelope out = HPSEARCH__ENVELOPE__INIT;
            Hpsearch__Ack ack = HPSEARCH__ACK__INIT;
            hp_proto_set_body(&out, HPSEARCH__MSG_TYPE__ACK, &ack);
            HP_ASSERT(hp_proto_encode(&out, &b) == 0);
            reply(sv->rep, &b);
        } else if (sv->answer == ANSWER_ERROR) {
            Hpsearch__Envelope out = HPSEARCH__ENVELOPE__INIT;
            Hpsearch__Error e = HPSEARCH__ERROR__INIT;
            e.code = (char *)sv->error_code;
            e.message = (char *)sv->error_message;
            hp_proto_set_body(&out, HPSEARCH__MSG_TYPE__ERROR, &e);
            HP_ASSERT(hp_proto_encode(&out, &b) == 0);
            reply(sv->rep, &b);
        } else if (sv->answer == ANSWER_GARBAGE) {
            hp_buf_append(&b, "\xff\xff\xff\xff not an envelope", 20);
            reply(sv->rep, &b);
        }
        hp_buf_fini(&b);
    }
}

/* connect: 0 leaves the client without a peer */
static void start(answer_t answer, int connect)
{
    memset(&srv, 0, sizeof srv);
    srv.answer = answer;
    pthread_mutex_init(&srv.mu, NULL);
    char url[64];
    snprintf(url, sizeof url, "inproc://test-request-%d", ++url_n);
    ck_assert_int_eq(nng_rep0_open(&srv.rep), 0);
    ck_assert_int_eq(nng_listen(srv.rep, url, NULL, 0), 0);
    ck_assert_int_eq(nng_req0_open(&srv.req), 0);
    if (connect)
        ck_assert_int_eq(nng_dial(srv.req, url, NULL, 0), 0);
    ck_assert_int_eq(nng_ctx_open(&srv.ctx, srv.req), 0);
    ck_assert_int_eq(pthread_create(&srv.thr, NULL, serve, &srv), 0);
}

static void stop(void)
{
    nng_close(srv.req);
    nng_close(srv.rep);
    pthread_join(srv.thr, NULL);
    hp_proto_free(srv.last);
    pthread_mutex_destroy(&srv.mu);
}

static int received(void)
{
    pthread_mutex_lock(&srv.mu);
    int n = srv.got;
    pthread_mutex_unlock(&srv.mu);
    return n;
}

static void status_request(Hpsearch__Envelope *req, Hpsearch__StatusRequest *q)
{
    Hpsearch__Envelope e = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__StatusRequest s = HPSEARCH__STATUS_REQUEST__INIT;
    *req = e;
    *q = s;
    q->study = "svc";
    hp_proto_set_body(req, HPSEARCH__MSG_TYPE__STATUS, q);
}

START_TEST(test_stamps_and_returns_the_reply)
{
    start(ANSWER_ACK, 1);
    Hpsearch__Envelope req, *rep = NULL;
    Hpsearch__StatusRequest q;
    status_request(&req, &q);
    hp_request_t rq = {.ctx = srv.ctx, .timeout_ms = 10000, .token = "s3cret",
                       .token_len = 6, .worker_id = 42, .seq = 7};
    char err[256] = "";
    ck_assert_int_eq(hp_request_call(&rq, &req, &rep, err, sizeof err), 0);
    ck_assert_ptr_nonnull(rep);
    ck_assert_int_eq(rep->type, HPSEARCH__MSG_TYPE__ACK);
    hp_proto_free(rep);
    /* what went out */
    pthread_mutex_lock(&srv.mu);
    ck_assert_ptr_nonnull(srv.last);
    ck_assert_uint_eq(srv.last->version, HP_PROTO_VERSION);
    ck_assert_uint_eq(srv.last->worker_id, 42);
    ck_assert_uint_eq(srv.last->seq, 7);
    ck_assert_uint_eq(srv.last->auth_token.len, 6);
    ck_assert(memcmp(srv.last->auth_token.data, "s3cret", 6) == 0);
    ck_assert_str_eq(srv.last->status_request->study, "svc");
    pthread_mutex_unlock(&srv.mu);
    /* the token was lent, not left in the caller's envelope */
    ck_assert_ptr_null(req.auth_token.data);
    ck_assert_uint_eq(req.auth_token.len, 0);
    /* without a token none is sent */
    rq.token = NULL;
    rq.token_len = 0;
    rq.seq = 8;
    ck_assert_int_eq(hp_request_call(&rq, &req, &rep, err, sizeof err), 0);
    hp_proto_free(rep);
    pthread_mutex_lock(&srv.mu);
    ck_assert_uint_eq(srv.last->seq, 8);
    ck_assert_uint_eq(srv.last->auth_token.len, 0);
    pthread_mutex_unlock(&srv.mu);
    stop();
}
END_TEST

START_TEST(test_error_reply_becomes_its_code)
{
    start(ANSWER_ERROR, 1);
    srv.error_code = "ENOENT";
    srv.error_message = "no study named 'svc'";
    Hpsearch__Envelope req, *rep = NULL;
    Hpsearch__StatusRequest q;
    status_request(&req, &q);
    hp_request_t rq = {.ctx = srv.ctx, .timeout_ms = 10000, .seq = 1};
    char err[256] = "";
    ck_assert_int_eq(hp_request_call(&rq, &req, &rep, err, sizeof err), HP_ENOENT);
    ck_assert_ptr_null(rep);
    ck_assert_str_eq(err, "ENOENT: no study named 'svc'");

    /* a code this side does not know is a protocol problem, kept verbatim */
    srv.error_code = "EFUTURE";
    srv.error_message = "something new";
    rq.seq = 2;
    ck_assert_int_eq(hp_request_call(&rq, &req, &rep, err, sizeof err), HP_EPROTO);
    ck_assert_str_eq(err, "EFUTURE: something new");

    /* exchange hands the ERROR back as it came, for callers that word it */
    srv.error_code = "EAUTH";
    srv.error_message = "missing or wrong auth token";
    rq.seq = 3;
    hp_request_step_t step = 0;
    ck_assert_int_eq(hp_request_exchange(&rq, &req, &rep, &step, err, sizeof err), 0);
    ck_assert_ptr_nonnull(rep);
    ck_assert_int_eq(rep->type, HPSEARCH__MSG_TYPE__ERROR);
    ck_assert_str_eq(rep->error->code, "EAUTH");
    hp_proto_free(rep);
    stop();
}
END_TEST

START_TEST(test_refusal_formats_any_error_body)
{
    char err[128];
    Hpsearch__Error e = HPSEARCH__ERROR__INIT;
    e.code = "ESTATE";
    e.message = "study 'svc' is already cancelled";
    ck_assert_int_eq(hp_request_refusal(&e, err, sizeof err), HP_ESTATE);
    ck_assert_str_eq(err, "ESTATE: study 'svc' is already cancelled");
    ck_assert_int_eq(hp_request_refusal(NULL, err, sizeof err), HP_EPROTO);
    ck_assert_str_eq(err, "ERR: ");
}
END_TEST

START_TEST(test_malformed_reply)
{
    start(ANSWER_GARBAGE, 1);
    Hpsearch__Envelope req, *rep = NULL;
    Hpsearch__StatusRequest q;
    status_request(&req, &q);
    hp_request_t rq = {.ctx = srv.ctx, .timeout_ms = 10000, .seq = 1};
    hp_request_step_t step = 0;
    char err[256] = "";
    ck_assert_int_eq(hp_request_exchange(&rq, &req, &rep, &step, err, sizeof err), HP_EPROTO);
    ck_assert_int_eq(step, HP_REQUEST_DECODE);
    ck_assert_ptr_null(rep);
    ck_assert_msg(err[0] != '\0', "the decoder says why");
    stop();
}
END_TEST

START_TEST(test_no_reply_times_out)
{
    start(ANSWER_NONE, 1);
    Hpsearch__Envelope req, *rep = NULL;
    Hpsearch__StatusRequest q;
    status_request(&req, &q);
    hp_request_t rq = {.ctx = srv.ctx, .timeout_ms = 50, .seq = 1};
    hp_request_step_t step = 0;
    char err[256] = "";
    ck_assert_int_eq(hp_request_exchange(&rq, &req, &rep, &step, err, sizeof err),
                     HP_ETIMEDOUT);
    ck_assert_int_eq(step, HP_REQUEST_RECV);
    ck_assert_int_eq(received(), 1);
    /* call names the request in front of nng's words */
    rq.seq = 2;
    ck_assert_int_eq(hp_request_call(&rq, &req, &rep, err, sizeof err), HP_ETIMEDOUT);
    ck_assert_msg(strncmp(err, "STATUS: ", 8) == 0 && err[8], "got '%s'", err);
    stop();
}
END_TEST

START_TEST(test_no_peer_fails_to_send)
{
    start(ANSWER_ACK, 0);
    Hpsearch__Envelope req, *rep = NULL;
    Hpsearch__StatusRequest q;
    status_request(&req, &q);
    hp_request_t rq = {.ctx = srv.ctx, .timeout_ms = 50, .seq = 1};
    hp_request_step_t step = 0;
    char err[256] = "";
    ck_assert_int_eq(hp_request_exchange(&rq, &req, &rep, &step, err, sizeof err),
                     HP_ETIMEDOUT);
    ck_assert_int_eq(step, HP_REQUEST_SEND);
    ck_assert_int_eq(received(), 0);
    stop();
}
END_TEST

/* a stopper on another thread: sets stopping and cancels the published aio
 * under the same mutex, as the worker agent's hp_agent_stop does */
typedef struct stopper {
    pthread_mutex_t mu;
    int stopping;
    nng_aio *aio;
    int done; /* the exchange returned */
} stopper_t;

static void *stop_thread(void *arg)
{
    stopper_t *h = arg;
    for (;;) {
        pthread_mutex_lock(&h->mu);
        if (h->done) {
            pthread_mutex_unlock(&h->mu);
            return NULL;
        }
        /* once the server has the request the exchange waits for the
         * reply (or is about to): one stop, made once, must end it */
        if (!h->stopping && received() == 1) {
            h->stopping = 1;
            if (h->aio)
                nng_aio_cancel(h->aio);
        }
        pthread_mutex_unlock(&h->mu);
        usleep(5000);
    }
}

static int stopped_exchange(stopper_t *h, hp_request_step_t *step)
{
    Hpsearch__Envelope req, *rep = NULL;
    Hpsearch__StatusRequest q;
    status_request(&req, &q);
    hp_request_stop_t st = {.mu = &h->mu, .stopping = &h->stopping, .slot = &h->aio};
    hp_request_t rq = {.ctx = srv.ctx, .timeout_ms = -1, .seq = 1, .stop = &st};
    pthread_t thr;
    ck_assert_int_eq(pthread_create(&thr, NULL, stop_thread, h), 0);
    char err[256] = "";
    int rc = hp_request_exchange(&rq, &req, &rep, step, err, sizeof err);
    pthread_mutex_lock(&h->mu);
    h->done = 1;
    pthread_mutex_unlock(&h->mu);
    pthread_join(thr, NULL);
    ck_assert_ptr_null(rep);
    return rc;
}

START_TEST(test_stop_cancels_a_held_request)
{
    start(ANSWER_NONE, 1);
    stopper_t h = {.mu = PTHREAD_MUTEX_INITIALIZER};
    hp_request_step_t step = 0;
    ck_assert_int_eq(stopped_exchange(&h, &step), HP_ECANCELED);
    ck_assert_int_eq(step, HP_REQUEST_RECV);
    ck_assert_ptr_null(h.aio); /* unpublished once over */
    stop();
}
END_TEST

START_TEST(test_stopped_before_sending_sends_nothing)
{
    start(ANSWER_ACK, 1);
    Hpsearch__Envelope req, *rep = NULL;
    Hpsearch__StatusRequest q;
    status_request(&req, &q);
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    int stopping = 1;
    nng_aio *slot = NULL;
    hp_request_stop_t st = {.mu = &mu, .stopping = &stopping, .slot = &slot};
    hp_request_t rq = {.ctx = srv.ctx, .timeout_ms = 10000, .seq = 1, .stop = &st};
    hp_request_step_t step = 0;
    char err[256] = "";
    ck_assert_int_eq(hp_request_exchange(&rq, &req, &rep, &step, err, sizeof err),
                     HP_ECANCELED);
    ck_assert_int_eq(step, HP_REQUEST_STOPPED);
    ck_assert_str_eq(err, "stopping");
    /* call keeps those words as they are */
    ck_assert_int_eq(hp_request_call(&rq, &req, &rep, err, sizeof err), HP_ECANCELED);
    ck_assert_str_eq(err, "stopping");
    ck_assert_int_eq(received(), 0);
    ck_assert_ptr_null(slot);
    stop();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("proto_request");
    TCase *tc = tcase_create("request");
    tcase_add_test(tc, test_stamps_and_returns_the_reply);
    tcase_add_test(tc, test_error_reply_becomes_its_code);
    tcase_add_test(tc, test_refusal_formats_any_error_body);
    tcase_add_test(tc, test_malformed_reply);
    tcase_add_test(tc, test_no_reply_times_out);
    tcase_add_test(tc, test_no_peer_fails_to_send);
    tcase_add_test(tc, test_stop_cancels_a_held_request);
    tcase_add_test(tc, test_stopped_before_sending_sends_nothing);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
