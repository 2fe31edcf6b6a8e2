/* Envelope codec: round trips, and every way a hostile or confused peer can
 * get a message wrong is refused with the right code and a sentence. */
#include "codec.h"
#include "err.h"
#include "rng.h"

#include "hp_check.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static int encode_progress(hp_buf_t *out, uint32_t version, uint64_t trial, uint64_t lease,
                           const char *metric)
{
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Progress p = HPSEARCH__PROGRESS__INIT;
    Hpsearch__LeaseRef l = HPSEARCH__LEASE_REF__INIT;
    Hpsearch__Metric m = HPSEARCH__METRIC__INIT;
    Hpsearch__Metric *ms[1] = {&m};
    l.trial_id = trial;
    l.lease_id = lease;
    m.name = (char *)metric;
    m.value = 0.25;
    p.lease = &l;
    p.step = 3;
    p.metrics = ms;
    p.n_metrics = 1;
    env.version = version;
    env.type = HPSEARCH__MSG_TYPE__PROGRESS;
    env.worker_id = 9;
    env.seq = 77;
    env.body_case = HPSEARCH__ENVELOPE__BODY_PROGRESS;
    env.progress = &p;
    return hp_proto_encode(&env, out);
}

START_TEST(test_roundtrip_progress)
{
    hp_buf_t b = {0};
    ck_assert_int_eq(encode_progress(&b, 0, 5, 6, "val_loss"), 0);
    Hpsearch__Envelope *e;
    char err[256] = "";
    ck_assert_int_eq(hp_proto_decode(b.data, b.len, &e, err, sizeof err), 0);
    ck_assert_uint_eq(e->version, HP_PROTO_VERSION);
    ck_assert_int_eq(e->type, HPSEARCH__MSG_TYPE__PROGRESS);
    ck_assert_uint_eq(e->worker_id, 9);
    ck_assert_uint_eq(e->seq, 77);
    ck_assert_uint_eq(e->progress->lease->lease_id, 6);
    ck_assert_str_eq(e->progress->metrics[0]->name, "val_loss");
    ck_assert_double_eq(e->progress->metrics[0]->value, 0.25);
    hp_proto_free(e);
    hp_buf_fini(&b);
}
END_TEST

START_TEST(test_set_body)
{
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__StatusRequest sr = HPSEARCH__STATUS_REQUEST__INIT;
    sr.study = "s1";
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__STATUS, &sr);
    ck_assert_int_eq(env.type, HPSEARCH__MSG_TYPE__STATUS);
    ck_assert_int_eq(env.body_case, HPSEARCH__ENVELOPE__BODY_STATUS_REQUEST);
    ck_assert_ptr_eq(env.status_request, &sr);
    hp_buf_t b = {0};
    ck_assert_int_eq(hp_proto_encode(&env, &b), 0);
    Hpsearch__Envelope *e;
    char err[256];
    ck_assert_int_eq(hp_proto_decode(b.data, b.len, &e, err, sizeof err), 0);
    ck_assert_str_eq(e->status_request->study, "s1");
    hp_proto_free(e);
    hp_buf_fini(&b);
}
END_TEST

START_TEST(test_wrong_version_refused)
{
    hp_buf_t b = {0};
    ck_assert_int_eq(encode_progress(&b, 7, 5, 6, "loss"), 0);
    Hpsearch__Envelope *e;
    char err[256] = "";
    ck_assert_int_eq(hp_proto_decode(b.data, b.len, &e, err, sizeof err), HP_EVERSION);
    ck_assert_ptr_null(e);
    ck_assert_ptr_nonnull(strstr(err, "version 7"));
    ck_assert_ptr_nonnull(strstr(err, "version 1"));
    hp_buf_fini(&b);
}
END_TEST

START_TEST(test_missing_lease_and_empty_metric_refused)
{
    hp_buf_t b = {0};
    Hpsearch__Envelope *e;
    char err[256] = "";
    ck_assert_int_eq(encode_progress(&b, 0, 0, 6, "loss"), 0);
    ck_assert_int_eq(hp_proto_decode(b.data, b.len, &e, err, sizeof err), HP_EPROTO);
    ck_assert_ptr_nonnull(strstr(err, "missing lease"));
    ck_assert_int_eq(encode_progress(&b, 0, 1, 6, ""), 0);
    ck_assert_int_eq(hp_proto_decode(b.data, b.len, &e, err, sizeof err), HP_EPROTO);
    ck_assert_ptr_nonnull(strstr(err, "metric name is empty"));
    hp_buf_fini(&b);
}
END_TEST

START_TEST(test_type_body_mismatch)
{
    /* encode refuses to produce it ... */
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Ack ack = HPSEARCH__ACK__INIT;
    env.type = HPSEARCH__MSG_TYPE__RESULT;
    env.body_case = HPSEARCH__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    hp_buf_t b = {0};
    ck_assert_int_eq(hp_proto_encode(&env, &b), HP_EINVAL);
    /* ... and decode refuses it when a peer sends it anyway */
    env.version = HP_PROTO_VERSION;
    size_t n = hpsearch__envelope__get_packed_size(&env);
    uint8_t *raw = malloc(n);
    hpsearch__envelope__pack(&env, raw);
    Hpsearch__Envelope *e;
    char err[256] = "";
    ck_assert_int_eq(hp_proto_decode(raw, n, &e, err, sizeof err), HP_EPROTO);
    ck_assert_ptr_nonnull(strstr(err, "RESULT carries the wrong body"));
    /* an unknown type number */
    env.type = 999;
    n = hpsearch__envelope__get_packed_size(&env);
    raw = realloc(raw, n);
    hpsearch__envelope__pack(&env, raw);
    ck_assert_int_eq(hp_proto_decode(raw, n, &e, err, sizeof err), HP_EPROTO);
    ck_assert_ptr_nonnull(strstr(err, "unknown message type 999"));
    free(raw);
    hp_buf_fini(&b);
}
END_TEST

START_TEST(test_unknown_enum_in_body)
{
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Result r = HPSEARCH__RESULT__INIT;
    Hpsearch__LeaseRef l = HPSEARCH__LEASE_REF__INIT;
    l.trial_id = 1;
    l.lease_id = 2;
    r.lease = &l;
    r.outcome = 42;
    env.version = HP_PROTO_VERSION;
    env.type = HPSEARCH__MSG_TYPE__RESULT;
    env.body_case = HPSEARCH__ENVELOPE__BODY_RESULT;
    env.result = &r;
    hp_buf_t b = {0};
    ck_assert_int_eq(hp_proto_encode(&env, &b), 0);
    Hpsearch__Envelope *e;
    char err[256] = "";
    ck_assert_int_eq(hp_proto_decode(b.data, b.len, &e, err, sizeof err), HP_EPROTO);
    ck_assert_ptr_nonnull(strstr(err, "unknown enum value 42"));
    r.outcome = HPSEARCH__TRIAL_OUTCOME__OUTCOME_UNSPECIFIED;
    ck_assert_int_eq(hp_proto_encode(&env, &b), 0);
    ck_assert_int_eq(hp_proto_decode(b.data, b.len, &e, err, sizeof err), HP_EPROTO);
    ck_assert_ptr_nonnull(strstr(err, "outcome not set"));
    hp_buf_fini(&b);
}
END_TEST

START_TEST(test_garbage_never_crashes)
{
    hp_buf_t good = {0};
    ck_assert_int_eq(encode_progress(&good, 0, 5, 6, "val_loss"), 0);
    hp_rng_t r;
    hp_rng_init(&r, 2026, 0);
    uint8_t buf[512];
    char err[256];
    int accepted = 0;
    for (int i = 0; i < 20000; i++) {
        size_t n;
        if (i % 2) {
            /* random bytes */
            n = 1 + hp_rng_below(&r, sizeof buf);
            for (size_t k = 0; k < n; k++)
                buf[k] = (uint8_t)hp_rng_u64(&r);
        } else {
            /* a valid message with a few bytes flipped or truncated */
            n = good.len;
            memcpy(buf, good.data, n);
            int flips = 1 + (int)hp_rng_below(&r, 3);
            for (int k = 0; k < flips; k++)
                buf[hp_rng_below(&r, n)] ^= (uint8_t)(1 + hp_rng_below(&r, 255));
            if (hp_rng_below(&r, 4) == 0)
                n = hp_rng_below(&r, n) + 1;
        }
        Hpsearch__Envelope *e = NULL;
        int rc = hp_proto_decode(buf, n, &e, err, sizeof err);
        if (rc == 0) {
            accepted++;
            ck_assert_uint_eq(e->version, HP_PROTO_VERSION);
            ck_assert_int_eq((int)e->body_case, hp_proto_body_case(e->type));
            hp_proto_free(e);
        } else {
            ck_assert(rc == HP_EPROTO || rc == HP_EVERSION);
            ck_assert_ptr_null(e);
            ck_assert_uint_gt(strlen(err), 0);
        }
    }
    /* some mutations stay valid (e.g. a flipped value byte); most do not */
    ck_assert_int_lt(accepted, 20000);
    hp_buf_fini(&good);
}
END_TEST

START_TEST(test_limits)
{
    Hpsearch__Envelope *e;
    char err[256] = "";
    ck_assert_int_eq(hp_proto_decode("", 0, &e, err, sizeof err), HP_EPROTO);
    ck_assert_ptr_nonnull(strstr(err, "empty"));
    ck_assert_int_eq(hp_proto_decode("x", HP_PROTO_MAX_MSG + 1, &e, err, sizeof err), HP_EPROTO);
    ck_assert_ptr_nonnull(strstr(err, "exceeds the limit"));

    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Hello h = HPSEARCH__HELLO__INIT;
    h.hostname = "node1";
    h.slots = 0;
    env.type = HPSEARCH__MSG_TYPE__HELLO;
    env.body_case = HPSEARCH__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    hp_buf_t b = {0};
    ck_assert_int_eq(hp_proto_encode(&env, &b), 0);
    ck_assert_int_eq(hp_proto_decode(b.data, b.len, &e, err, sizeof err), HP_EPROTO);
    ck_assert_ptr_nonnull(strstr(err, "slots must be 1..1024 (got 0)"));
    h.slots = 2;
    char *big = malloc(HP_PROTO_MAX_NAME + 10);
    memset(big, 'h', HP_PROTO_MAX_NAME + 9);
    big[HP_PROTO_MAX_NAME + 9] = 0;
    h.hostname = big;
    ck_assert_int_eq(hp_proto_encode(&env, &b), 0);
    ck_assert_int_eq(hp_proto_decode(b.data, b.len, &e, err, sizeof err), HP_EPROTO);
    ck_assert_ptr_nonnull(strstr(err, "hostname longer than"));
    free(big);
    /* an auth token beyond the bound */
    h.hostname = "node1";
    uint8_t tok[HP_PROTO_MAX_TOKEN + 1] = {0};
    env.auth_token.data = tok;
    env.auth_token.len = sizeof tok;
    ck_assert_int_eq(hp_proto_encode(&env, &b), 0);
    ck_assert_int_eq(hp_proto_decode(b.data, b.len, &e, err, sizeof err), HP_EPROTO);
    ck_assert_ptr_nonnull(strstr(err, "auth_token"));
    hp_buf_fini(&b);
}
END_TEST

/* a RESULT carries a program's output up to HP_PROTO_MAX_STRING per
 * stream (any bytes); the auth token stays bounded by its own limit */
START_TEST(test_result_output_bound)
{
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Result r = HPSEARCH__RESULT__INIT;
    Hpsearch__LeaseRef l = HPSEARCH__LEASE_REF__INIT;
    l.trial_id = 1;
    l.lease_id = 2;
    r.lease = &l;
    r.outcome = HPSEARCH__TRIAL_OUTCOME__COMPLETED;
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__RESULT, &r);
    env.worker_id = 1;
    uint8_t *big = malloc(HP_PROTO_MAX_STRING + 1);
    ck_assert_ptr_nonnull(big);
    for (size_t i = 0; i <= HP_PROTO_MAX_STRING; i++)
        big[i] = (uint8_t)(i * 131); /* not UTF-8, NULs included */
    r.stdout_text = (ProtobufCBinaryData){HP_PROTO_MAX_STRING, big};
    r.stderr_text = (ProtobufCBinaryData){HP_PROTO_MAX_STRING, big};
    hp_buf_t b = {0};
    Hpsearch__Envelope *e;
    char err[256];
    ck_assert_int_eq(hp_proto_encode(&env, &b), 0);
    ck_assert_int_eq(hp_proto_decode(b.data, b.len, &e, err, sizeof err), 0);
    ck_assert_uint_eq(e->result->stdout_text.len, HP_PROTO_MAX_STRING);
    ck_assert_int_eq(memcmp(e->result->stderr_text.data, big, HP_PROTO_MAX_STRING), 0);
    hp_proto_free(e);
    r.stdout_text.len = HP_PROTO_MAX_STRING + 1;
    ck_assert_int_eq(hp_proto_encode(&env, &b), 0);
    ck_assert_int_eq(hp_proto_decode(b.data, b.len, &e, err, sizeof err), HP_EPROTO);
    ck_assert_msg(strstr(err, "stdout_text"), "%s", err);
    free(big);
    hp_buf_fini(&b);
}
END_TEST

START_TEST(test_error_reply_and_token)
{
    hp_buf_t b = {0};
    hp_proto_encode_error(&b, HP_EVERSION, "protocol version 7 is not supported");
    Hpsearch__Envelope *e;
    char err[256];
    ck_assert_int_eq(hp_proto_decode(b.data, b.len, &e, err, sizeof err), 0);
    ck_assert_str_eq(e->error->code, "EVERSION");
    ck_assert_str_eq(e->error->message, "protocol version 7 is not supported");
    hp_proto_free(e);
    hp_buf_fini(&b);

    ProtobufCBinaryData t = {6, (uint8_t *)"secret"};
    ck_assert(hp_proto_token_equal(&t, "secret", 6));
    ck_assert(!hp_proto_token_equal(&t, "secreT", 6));
    ck_assert(!hp_proto_token_equal(&t, "secret2", 7));
    ProtobufCBinaryData empty = {0, NULL};
    ck_assert(!hp_proto_token_equal(&empty, "secret", 6));
    ck_assert_str_eq(hp_proto_type_name(HPSEARCH__MSG_TYPE__GET_TRIAL), "GET_TRIAL");
    ck_assert_str_eq(hp_proto_type_name(12345), "UNKNOWN");
}
END_TEST

/* hp_proto_error_from_code reads back every code hp_proto_error_code
 * sends, and anything it does not know as a protocol problem */
START_TEST(test_error_code_round_trip)
{
    int named = 0;
    for (int e = -1; e > -HP_ERR_COUNT_; e--) {
        const char *code = hp_proto_error_code(e);
        if (strcmp(code, "ERR") == 0)
            continue;
        named++;
        ck_assert_msg(hp_proto_error_from_code(code) == e, "%s read back as %d, not %d", code,
                      hp_proto_error_from_code(code), e);
    }
    ck_assert_int_eq(named, 12);
    ck_assert_int_eq(hp_proto_error_from_code("ESESSION"), HP_ESESSION);
    ck_assert_int_eq(hp_proto_error_from_code("ENOENT"), HP_ENOENT);
    ck_assert_int_eq(hp_proto_error_from_code("EREADONLY"), HP_EREADONLY);
    ck_assert_int_eq(hp_proto_error_from_code("ERR"), HP_EPROTO);
    ck_assert_int_eq(hp_proto_error_from_code("EWHATEVER"), HP_EPROTO);
    ck_assert_int_eq(hp_proto_error_from_code("enoent"), HP_EPROTO);
    ck_assert_int_eq(hp_proto_error_from_code(""), HP_EPROTO);
    ck_assert_int_eq(hp_proto_error_from_code(NULL), HP_EPROTO);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("proto_codec");
    TCase *tc = tcase_create("codec");
    tcase_add_test(tc, test_roundtrip_progress);
    tcase_add_test(tc, test_set_body);
    tcase_add_test(tc, test_wrong_version_refused);
    tcase_add_test(tc, test_missing_lease_and_empty_metric_refused);
    tcase_add_test(tc, test_type_body_mismatch);
    tcase_add_test(tc, test_unknown_enum_in_body);
    tcase_add_test(tc, test_garbage_never_crashes);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_error_reply_and_token);
    tcase_add_test(tc, test_error_code_round_trip);
    tcase_add_test(tc, test_result_output_bound);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
