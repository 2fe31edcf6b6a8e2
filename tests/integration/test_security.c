/* What an attacker on the daemon's sockets can no longer do (issue 15):
 * record a result for someone else's attempt, stop or feed the daemon
 * without its token, guess the token at network speed, forge log lines
 * through a hostname, or register workers without end. Each attack is
 * made with raw messages, as an attacker would, against the real
 * hpsearchd; the token file and its discovery with the real hpsearch and
 * hpworker. */
#include "hp_it.h"

#include <check.h>
#include <nng/nng.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *branin_spec(const char *name, int trials)
{
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "name: %s\nobjective: {metric: value}\n"
             "search: {algorithm: random, max_trials: %d, parallelism: 2, seed: 3}\n"
             "space:\n  x1: {type: float, low: -5, high: 10}\n  x2: {type: float, low: 0, high: 15}\n"
             "trial: {function: branin, retries: 2}\n",
             name, trials);
    return buf;
}

/* ---- raw messages: exactly the bytes given, no stamping ------------------ */

typedef struct secrets {
    const char *token; /* NULL: none */
    size_t token_len;
    const unsigned char *session; /* NULL: none */
    size_t session_len;
} secrets_t;

/* sends env with exactly these secrets on its own connection; the reply */
static Hpsearch__Envelope *send_as(const char *url, Hpsearch__Envelope *env, secrets_t s)
{
    env->auth_token.data = (uint8_t *)s.token;
    env->auth_token.len = s.token ? s.token_len : 0;
    env->session.data = (uint8_t *)s.session;
    env->session.len = s.session ? s.session_len : 0;
    hp_buf_t b = {0};
    ck_assert_int_eq(hp_proto_encode(env, &b), 0);
    Hpsearch__Envelope *r = hp_harness_request_raw(url, b.data, b.len, 30000);
    hp_buf_fini(&b);
    ck_assert_msg(r != NULL, "no reply from %s", url);
    return r;
}

static secrets_t with_token(const hp_harness_t *h)
{
    return (secrets_t){.token = h->token, .token_len = h->token_len};
}

/* A worker's session: its id and the secret HELLO_REPLY gave. */
typedef struct session {
    uint64_t id;
    unsigned char secret[64];
    size_t len;
} session_t;

static Hpsearch__Envelope *hello_as(const hp_harness_t *h, const char *host, uint64_t previous,
                                    secrets_t s)
{
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Hello hello = HPSEARCH__HELLO__INIT;
    hello.hostname = (char *)host;
    hello.pid = 4242;
    hello.slots = 1;
    hello.cores = 1;
    hello.previous_worker_id = previous;
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__HELLO, &hello);
    return send_as(h->listen, &env, s);
}

static session_t hello(const hp_harness_t *h, const char *host)
{
    Hpsearch__Envelope *r = hello_as(h, host, 0, with_token(h));
    ck_assert_msg(r->type == HPSEARCH__MSG_TYPE__HELLO_REPLY, "HELLO got %s %s",
                  hp_proto_type_name(r->type), r->error ? r->error->message : "");
    session_t s = {.id = r->hello_reply->worker_id, .len = r->hello_reply->session.len};
    ck_assert_uint_ge(s.len, 16); /* at least 128 bits */
    ck_assert_uint_le(s.len, sizeof s.secret);
    memcpy(s.secret, r->hello_reply->session.data, s.len);
    hp_proto_free(r);
    return s;
}

static secrets_t as_worker(const hp_harness_t *h, const session_t *w)
{
    secrets_t s = with_token(h);
    s.session = w->secret;
    s.session_len = w->len;
    return s;
}

static Hpsearch__Envelope *get_trial(const hp_harness_t *h, const session_t *w)
{
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__GetTrial g = HPSEARCH__GET_TRIAL__INIT;
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__GET_TRIAL, &g);
    env.worker_id = w->id;
    Hpsearch__Envelope *r = send_as(h->listen, &env, as_worker(h, w));
    ck_assert_msg(r->type == HPSEARCH__MSG_TYPE__TRIAL, "GET_TRIAL got %s",
                  hp_proto_type_name(r->type));
    return r;
}

static Hpsearch__Envelope *result_as(const hp_harness_t *h, uint64_t worker_id, uint64_t trial,
                                     uint64_t lease, double value, secrets_t s)
{
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Result res = HPSEARCH__RESULT__INIT;
    Hpsearch__LeaseRef l = HPSEARCH__LEASE_REF__INIT;
    l.trial_id = trial;
    l.lease_id = lease;
    res.lease = &l;
    res.outcome = HPSEARCH__TRIAL_OUTCOME__COMPLETED;
    res.value = value;
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__RESULT, &res);
    env.worker_id = worker_id;
    return send_as(h->listen, &env, s);
}

static void expect_refused(Hpsearch__Envelope *r, const char *code, const char *needle)
{
    ck_assert_msg(r->type == HPSEARCH__MSG_TYPE__ERROR, "expected ERROR %s, got %s", code,
                  hp_proto_type_name(r->type));
    ck_assert_str_eq(r->error->code, code);
    HAS(r->error->message, needle);
    hp_proto_free(r);
}

static char *daemon_log(hp_harness_t *h) { return child_log(h, "hpsearchd", h->daemon); }

/* ---- tests ---------------------------------------------------------------- */

/* The attack: a RESULT under another worker's id and lease. With
 * no secret, a wrong one, under the attacker's own session, or after
 * claiming the victim's id with a HELLO, it is refused and logged, and the
 * study's best is the victim's real result. */
START_TEST(test_forged_result_is_refused)
{
    hp_harness_t h;
    hp_harness_init(&h, "forge");
    hp_harness_start_daemon(&h, NULL);
    hp_harness_submit(&h, branin_spec("forge", 2));
    session_t victim = hello(&h, "victim");
    Hpsearch__Envelope *t = get_trial(&h, &victim);
    uint64_t trial = t->trial->trial_id, lease = t->trial->lease_id;
    hp_proto_free(t);

    /* the victim's id and lease, as `hpsearch workers` and sql show them */
    expect_refused(result_as(&h, victim.id, trial, lease, -54321, with_token(&h)), "ESESSION",
                   "missing session secret");
    unsigned char guess[32];
    memset(guess, 0x5a, sizeof guess);
    secrets_t wrong = with_token(&h);
    wrong.session = guess;
    wrong.session_len = sizeof guess;
    expect_refused(result_as(&h, victim.id, trial, lease, -54321, wrong), "ESESSION",
                   "wrong session secret");
    /* under a session of its own */
    session_t attacker = hello(&h, "attacker");
    ck_assert_uint_ne(attacker.id, victim.id);
    expect_refused(result_as(&h, attacker.id, trial, lease, -54321, as_worker(&h, &attacker)),
                   "EAUTH", "is not worker");
    /* naming the victim's id in a HELLO gets another id, not the victim's */
    Hpsearch__Envelope *r = hello_as(&h, "attacker", victim.id, with_token(&h));
    ck_assert_int_eq(r->type, HPSEARCH__MSG_TYPE__HELLO_REPLY);
    ck_assert_uint_ne(r->hello_reply->worker_id, victim.id);
    hp_proto_free(r);

    /* the victim's own result is taken */
    r = result_as(&h, victim.id, trial, lease, 7.5, as_worker(&h, &victim));
    ck_assert_msg(r->type == HPSEARCH__MSG_TYPE__ACK, "got %s", hp_proto_type_name(r->type));
    ck_assert(!r->ack->stop);
    hp_proto_free(r);
    t = get_trial(&h, &victim);
    uint64_t lease2 = t->trial->lease_id;
    r = result_as(&h, victim.id, t->trial->trial_id, lease2, 9.0, as_worker(&h, &victim));
    hp_proto_free(r);
    hp_proto_free(t);
    ck_assert_str_eq(hp_harness_wait_study(&h, "forge", 60), "completed");
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT min(value) * 10 FROM trials"), 75);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials WHERE value < 0"), 0);
    /* lease ids are random, not a sequence (1 in 2^50 to be this close) */
    uint64_t gap = lease2 > lease ? lease2 - lease : lease - lease2;
    ck_assert_uint_gt(gap, UINT64_C(1) << 14);
    char *log = daemon_log(&h);
    HAS(log, "refused RESULT for worker 1 from ipc uid ");
    HAS(log, ": missing session secret");
    HAS(log, "names worker 1 without its session secret; registering it under a new id");
    HAS(log, "is worker 1's");
    free(log);
    hp_harness_fini(&h);
}
END_TEST

/* On a loopback control socket, unauthenticated requests that change
 * state are refused; the daemon goes on, and reading needs no token. */
START_TEST(test_unauthenticated_shutdown_and_submit_refused_on_loopback)
{
    hp_harness_t h;
    hp_harness_init(&h, "noauth-loop");
    char control[64];
    snprintf(control, sizeof control, "tcp://127.0.0.1:%d", 21000 + (int)(getpid() % 20000));
    snprintf(h.control, sizeof h.control, "%s", control);
    hp_harness_start_daemon(&h, NULL);
    secrets_t none = {0};
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Shutdown sd = HPSEARCH__SHUTDOWN__INIT;
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__SHUTDOWN, &sd);
    expect_refused(send_as(control, &env, none), "EAUTH",
                   "SHUTDOWN needs the daemon's token (it changes state)");
    Hpsearch__Envelope sub = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Submit s = HPSEARCH__SUBMIT__INIT;
    s.spec_text = (char *)branin_spec("sneaky", 2);
    hp_proto_set_body(&sub, HPSEARCH__MSG_TYPE__SUBMIT, &s);
    expect_refused(send_as(control, &sub, none), "EAUTH", "SUBMIT needs the daemon's token");
    secrets_t bad = {.token = "0123456789abcdef0123456789abcdef", .token_len = 32};
    expect_refused(send_as(control, &env, bad), "EAUTH", "wrong auth token");
    /* reading needs none; nothing was stored, and the daemon still runs */
    Hpsearch__Envelope st = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__StatusRequest sr = HPSEARCH__STATUS_REQUEST__INIT;
    hp_proto_set_body(&st, HPSEARCH__MSG_TYPE__STATUS, &sr);
    Hpsearch__Envelope *r = send_as(control, &st, none);
    ck_assert_int_eq(r->type, HPSEARCH__MSG_TYPE__STATUS_REPLY);
    ck_assert_uint_eq(r->status_reply->n_studies, 0);
    hp_proto_free(r);
    ck_assert_int_eq(waitpid(h.daemon, NULL, WNOHANG), 0);
    char *log = daemon_log(&h);
    HAS(log, "control socket: refused SHUTDOWN from tcp 127.0.0.1: missing token");
    LACKS(log, h.token); /* never logged */
    free(log);
    /* the token's holder may */
    r = send_as(control, &env, with_token(&h));
    ck_assert_int_eq(r->type, HPSEARCH__MSG_TYPE__ACK);
    hp_proto_free(r);
    ck_assert(WIFEXITED(wait_exit(&h, h.daemon)));
    hp_harness_fini(&h);
}
END_TEST

/* No --token-file: the daemon makes DB.token (0600) and publishes where it
 * is; the CLI and a worker given only the URL find it. */
START_TEST(test_token_file_made_and_found)
{
    hp_harness_t h;
    hp_harness_init(&h, "tokenfile");
    hp_harness_start_daemon(&h, NULL);
    char path[700];
    snprintf(path, sizeof path, "%s.token", h.db);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_uint_eq(h.token_len, 64);
    ck_assert_uint_eq(strspn(h.token, "0123456789abcdef"), 64);
    const char *spec = hp_harness_write_file(&h, "s.yaml", branin_spec("found", 4));
    res_t r = CLI(&h, "submit", spec);
    OK(r);
    HAS(r.out, "submitted study 'found'");
    res_free(&r);
    hp_harness_spawn(&h, "hpworker", "--connect", h.listen, NULL);
    ck_assert_str_eq(hp_harness_wait_study(&h, "found", HP_IT_GUARD_S), "completed");
    r = CLI(&h, "cancel", "found"); /* a mutation with the found token: refused for state */
    HAS(r.err, "already completed");
    LACKS(r.err, "EAUTH");
    res_free(&r);
    /* the same token the next time */
    char first[sizeof h.token];
    memcpy(first, h.token, sizeof first);
    hp_harness_kill(&h, h.daemon, SIGTERM);
    hp_harness_start_daemon(&h, NULL);
    ck_assert_str_eq(h.token, first);
    hp_harness_fini(&h);
}
END_TEST

/* After auth-fail-limit failures from one peer, its next request is
 * refused as rate limited, the right token included (EBUSY: a client with
 * the token retries); a registered worker's session still vouches for its
 * messages. Nothing is timed. */
START_TEST(test_failed_authentication_rate_limited)
{
    hp_harness_t h;
    hp_harness_init(&h, "ratelimit");
    hp_harness_start_daemon(&h, "--auth-fail-limit", "5", NULL);
    session_t early = hello(&h, "early");
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Shutdown sd = HPSEARCH__SHUTDOWN__INIT;
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__SHUTDOWN, &sd);
    secrets_t bad = {.token = "not-the-token-not-the-token", .token_len = 27};
    for (int i = 0; i < 5; i++)
        expect_refused(send_as(h.control, &env, bad), "EAUTH", "wrong auth token");
    expect_refused(send_as(h.control, &env, with_token(&h)), "EBUSY",
                   "rate limited: too many failed authentications from ipc uid");
    expect_refused(hello_as(&h, "w", 0, with_token(&h)), "EBUSY", "rate limited");
    /* a worker registered before keeps working: its session vouches */
    Hpsearch__Envelope hb = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Heartbeat beat = HPSEARCH__HEARTBEAT__INIT;
    hp_proto_set_body(&hb, HPSEARCH__MSG_TYPE__HEARTBEAT, &beat);
    hb.worker_id = early.id;
    Hpsearch__Envelope *r = send_as(h.listen, &hb, as_worker(&h, &early));
    ck_assert_msg(r->type == HPSEARCH__MSG_TYPE__HEARTBEAT_REPLY, "got %s",
                  hp_proto_type_name(r->type));
    hp_proto_free(r);
    ck_assert_int_eq(waitpid(h.daemon, NULL, WNOHANG), 0);
    char *log = daemon_log(&h);
    HAS(log, "rate limiting ipc uid");
    HAS(log, "(5 failed this minute, 5 allowed)");
    LACKS(log, "not-the-token");
    free(log);
    hp_harness_fini(&h);
}
END_TEST

/* A hostname with a newline, a terminal escape and bytes that are not
 * UTF-8 writes one escaped log line, and is stored as valid text. */
START_TEST(test_hostname_cannot_forge_log_lines)
{
    hp_harness_t h;
    hp_harness_init(&h, "inject");
    hp_harness_start_daemon(&h, NULL);
    const char *evil = "evil\n2026-01-01T00:00:00.000Z hpsearchd ERROR forged line\x1b[2J\xff\xfe";
    Hpsearch__Envelope *r = hello_as(&h, evil, 0, with_token(&h));
    ck_assert_int_eq(r->type, HPSEARCH__MSG_TYPE__HELLO_REPLY);
    hp_proto_free(r);
    char *log = daemon_log(&h);
    LACKS(log, "\n2026-01-01T00:00:00.000Z hpsearchd ERROR forged");
    LACKS(log, "\x1b");
    HAS(log, "joined from evil\\x0a2026-01-01T00:00:00.000Z hpsearchd ERROR forged "
             "line\\x1b[2J??");
    free(log);
    /* stored as text, and shown escaped */
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM workers WHERE host LIKE 'evil%' "
                                  "AND instr(host, char(10)) = 0 AND "
                                  "instr(host, char(27)) = 0"),
                     1);
    res_t c = CLI(&h, "workers");
    OK(c);
    HAS(c.out, "evil\\x0a");
    LACKS(c.out, "\x1b");
    res_free(&c);
    hp_harness_fini(&h);
}
END_TEST

/* Registrations are capped per peer and in total. */
START_TEST(test_registrations_capped)
{
    hp_harness_t h;
    hp_harness_init(&h, "cap");
    hp_harness_start_daemon(&h, "--max-workers-per-peer", "3", NULL);
    for (int i = 0; i < 3; i++)
        (void)hello(&h, "w");
    expect_refused(hello_as(&h, "w", 0, with_token(&h)), "EBUSY",
                   "too many workers registered from ipc uid ");
    char *log = daemon_log(&h);
    HAS(log, "(max-workers-per-peer 3)");
    free(log);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM workers"), 3);
    hp_harness_kill(&h, h.daemon, SIGTERM);
    hp_harness_start_daemon(&h, "--max-workers", "2", NULL);
    for (int i = 0; i < 2; i++)
        (void)hello(&h, "w");
    expect_refused(hello_as(&h, "w", 0, with_token(&h)), "EBUSY",
                   "too many workers registered (2; max-workers 2)");
    hp_harness_fini(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("integration_security");
    TCase *tc = tcase_create("security");
    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    tcase_add_test(tc, test_forged_result_is_refused);
    tcase_add_test(tc, test_unauthenticated_shutdown_and_submit_refused_on_loopback);
    tcase_add_test(tc, test_token_file_made_and_found);
    tcase_add_test(tc, test_failed_authentication_rate_limited);
    tcase_add_test(tc, test_hostname_cannot_forge_log_lines);
    tcase_add_test(tc, test_registrations_capped);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
