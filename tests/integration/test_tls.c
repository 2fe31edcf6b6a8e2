/* tls+tcp:// end to end, with certificates made by `hpsearch certs`: a
 * study over mutual TLS on 127.0.0.1 (daemon, worker, CLI submit / status /
 * wait); a worker whose certificate comes from another CA, and one that
 * trusts another CA, refused with both sides logging it; a client without a
 * certificate refused; a CLI with the wrong CA refusing the server with the
 * reason; TLS flags that do not fit the URL refused at start; the files'
 * modes, and `certs issue` before `certs init`. */
#define _DEFAULT_SOURCE
#include "hp_it.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <sys/socket.h>
#include <sys/stat.h>

/* a TCP port on 127.0.0.1 that nobody holds right now (the kernel's pick) */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

typedef struct tls_env {
    char pki[700], other[700];
    char ca[800], srv_crt[800], srv_key[800];
    char w_crt[800], w_key[800], cli_crt[800], cli_key[800];
    char o_ca[800], o_crt[800], o_key[800]; /* another CA and a worker it signed */
} tls_env_t;

static void certs(hp_harness_t *h, const char *const *args)
{
    int code = run_cli(h, "certs", args);
    char *err = cli_output(h, "certs", "err");
    ck_assert_msg(code == 0, "hpsearch certs failed (%d): %s", code, err);
    free(err);
}

#define CERTS(h, ...) certs((h), (const char *[]){__VA_ARGS__, NULL})

/* the harness on tls+tcp:// ports, and every certificate the tests use,
 * made as a user makes them */
static void tls_init(hp_harness_t *h, tls_env_t *t, const char *name)
{
    hp_harness_init(h, name);
    snprintf(h->listen, sizeof h->listen, "tls+tcp://127.0.0.1:%d", free_port());
    snprintf(h->control, sizeof h->control, "tls+tcp://127.0.0.1:%d", free_port());
    snprintf(t->pki, sizeof t->pki, "%s/pki", h->dir);
    snprintf(t->other, sizeof t->other, "%s/other", h->dir);
    CERTS(h, "certs", "init", t->pki);
    CERTS(h, "certs", "issue", t->pki, "127.0.0.1", "--san", "localhost");
    CERTS(h, "certs", "issue", t->pki, "worker");
    CERTS(h, "certs", "issue", t->pki, "cli");
    CERTS(h, "certs", "init", t->other);
    CERTS(h, "certs", "issue", t->other, "worker");
    snprintf(t->ca, sizeof t->ca, "%s/ca.crt", t->pki);
    snprintf(t->srv_crt, sizeof t->srv_crt, "%s/127.0.0.1.crt", t->pki);
    snprintf(t->srv_key, sizeof t->srv_key, "%s/127.0.0.1.key", t->pki);
    snprintf(t->w_crt, sizeof t->w_crt, "%s/worker.crt", t->pki);
    snprintf(t->w_key, sizeof t->w_key, "%s/worker.key", t->pki);
    snprintf(t->cli_crt, sizeof t->cli_crt, "%s/cli.crt", t->pki);
    snprintf(t->cli_key, sizeof t->cli_key, "%s/cli.key", t->pki);
    snprintf(t->o_ca, sizeof t->o_ca, "%s/ca.crt", t->other);
    snprintf(t->o_crt, sizeof t->o_crt, "%s/worker.crt", t->other);
    snprintf(t->o_key, sizeof t->o_key, "%s/worker.key", t->other);
}

/* Waits until the log of program pid holds needle at or after byte from;
 * returns where it ends. Fails quoting the log if the process exits first
 * or the guard passes. */
static size_t wait_log_from(hp_harness_t *h, const char *program, pid_t pid, const char *needle,
                            size_t from)
{
    for (int i = 0; i < HP_IT_GUARD_S * 20; i++) {
        char *log = child_log(h, program, pid);
        const char *at = strlen(log) >= from ? strstr(log + from, needle) : NULL;
        if (at) {
            size_t end = (size_t)(at - log) + strlen(needle);
            free(log);
            return end;
        }
        if (kill(pid, 0) != 0 || waitpid(pid, NULL, WNOHANG) == pid)
            ck_abort_msg("%s exited before logging '%s':\n%s", program, needle, log);
        free(log);
        nap_ms(50);
    }
    char *log = child_log(h, program, pid);
    ck_abort_msg("%s did not log '%s' within %d s:\n%s", program, needle, HP_IT_GUARD_S, log);
    return 0;
}

static size_t wait_log(hp_harness_t *h, const char *program, pid_t pid, const char *needle)
{
    return wait_log_from(h, program, pid, needle, 0);
}

/* hpsearchd on both TLS sockets; ready once it says so */
static pid_t start_tls_daemon(hp_harness_t *h, const tls_env_t *t)
{
    pid_t d = hp_harness_spawn(h, "hpsearchd", "--db", h->db, "--listen", h->listen,
                               "--control", h->control, "--tls-ca", t->ca, "--tls-cert",
                               t->srv_crt, "--tls-key", t->srv_key, NULL);
    h->daemon = d;
    wait_log(h, "hpsearchd", d, "ready: ");
    return d;
}

#define TLS_CLI(h, t, ...)                                                                    \
    CLI((h), "--tls-ca", (t)->ca, "--tls-cert", (t)->cli_crt, "--tls-key", (t)->cli_key,      \
        __VA_ARGS__)

static const char *const SPEC = "name: tls\n"
                                "objective: {metric: value, goal: minimize}\n"
                                "search: {algorithm: random, max_trials: 6, parallelism: 2, "
                                "seed: 1}\n"
                                "space:\n"
                                "  x1: {type: float, low: -5, high: 10}\n"
                                "  x2: {type: float, low: 0, high: 15}\n"
                                "trial: {function: branin}\n";

static mode_t mode_of(const char *path)
{
    struct stat st;
    ck_assert_msg(stat(path, &st) == 0, "%s missing", path);
    return st.st_mode & 0777;
}

START_TEST(test_study_over_mutual_tls)
{
    hp_harness_t h;
    tls_env_t t;
    tls_init(&h, &t, "tls-study");
    /* keys private, certificates readable */
    ck_assert_uint_eq(mode_of(t.ca), 0644);
    char ca_key[800];
    snprintf(ca_key, sizeof ca_key, "%s/ca.key", t.pki);
    ck_assert_uint_eq(mode_of(ca_key), 0600);
    ck_assert_uint_eq(mode_of(t.w_key), 0600);
    ck_assert_uint_eq(mode_of(t.srv_key), 0600);
    ck_assert_uint_eq(mode_of(t.w_crt), 0644);

    start_tls_daemon(&h, &t);
    pid_t w = hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "2",
                               "--tls-ca", t.ca, "--tls-cert", t.w_crt, "--tls-key", t.w_key,
                               NULL);
    const char *spec = hp_harness_write_file(&h, "tls.yaml", SPEC);
    res_t r = TLS_CLI(&h, &t, "submit", spec);
    OK(r);
    HAS(r.out, "submitted study 'tls'");
    res_free(&r);
    r = TLS_CLI(&h, &t, "wait", "tls");
    OK(r);
    HAS(r.out, "completed: 6/6 trials done (6 completed");
    res_free(&r);
    r = TLS_CLI(&h, &t, "status");
    OK(r);
    HAS(r.out, "completed");
    res_free(&r);
    wait_log(&h, "hpworker", w, "registered as worker");
    /* nothing refused on the way */
    char *dlog = child_log(&h, "hpsearchd", h.daemon);
    LACKS(dlog, "refused");
    free(dlog);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_workers_of_another_ca_are_refused_and_both_sides_log_it)
{
    hp_harness_t h;
    tls_env_t t;
    tls_init(&h, &t, "tls-other-ca");
    pid_t d = start_tls_daemon(&h, &t);
    /* trusts another CA: it refuses the daemon's certificate */
    pid_t w1 = hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--tls-ca", t.o_ca,
                                "--tls-cert", t.o_crt, "--tls-key", t.o_key, NULL);
    char want[4096];
    snprintf(want, sizeof want,
             "ERROR TLS handshake with %s failed: certificate not trusted (is --tls-ca the CA "
             "that signed the server's certificate?)",
             h.listen);
    wait_log(&h, "hpworker", w1, want);
    char refused[1024];
    snprintf(refused, sizeof refused, "WARN workers socket %s: ", h.listen);
    size_t seen = wait_log(&h, "hpsearchd", d, refused);
    wait_log_from(&h, "hpsearchd", d, "TLS handshake", seen);
    /* the daemon names the peer and the reason (its own TLS engine) */
    wait_log(&h, "hpsearchd", d,
             "TLS handshake failed from tcp 127.0.0.1:");
    wait_log(&h, "hpsearchd", d,
             "the client refused this daemon's certificate (TLS alert unknown_ca)");
    hp_harness_kill(&h, w1, SIGKILL);
    /* a fresh daemon (a log of its own) for the next worker */
    hp_harness_kill(&h, d, SIGTERM);
    d = start_tls_daemon(&h, &t);

    /* trusts our CA but holds another's certificate: the daemon refuses it */
    pid_t w2 = hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--tls-ca", t.ca,
                                "--tls-cert", t.o_crt, "--tls-key", t.o_key, NULL);
    wait_log(&h, "hpworker", w2, "is not signed by --tls-ca"); /* warned at start */
    snprintf(want, sizeof want,
             "TLS handshake with %s failed: the server refused this client's certificate (it "
             "closed the connection without saying why); is --tls-cert %s signed by the CA the "
             "server's --tls-ca names? It is not signed by this side's --tls-ca either",
             h.listen, t.o_crt);
    wait_log(&h, "hpworker", w2, want);
    /* and the daemon logged that refusal too, with who and why */
    seen = wait_log(&h, "hpsearchd", d, refused);
    wait_log_from(&h, "hpsearchd", d, "TLS handshake", seen);
    wait_log(&h, "hpsearchd", d,
             "TLS handshake failed from tcp 127.0.0.1:");
    wait_log(&h, "hpsearchd", d, ": the client's certificate is not signed by --tls-ca");
    char *log = child_log(&h, "hpworker", w2);
    LACKS(log, "registered as worker");
    free(log);
    res_t r = TLS_CLI(&h, &t, "sql", "SELECT count(*) AS n FROM workers");
    OK(r);
    HAS(r.out, "0");
    LACKS(r.out, "1");
    res_free(&r);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_client_without_certificate_is_refused)
{
    hp_harness_t h;
    tls_env_t t;
    tls_init(&h, &t, "tls-nocert");
    pid_t d = start_tls_daemon(&h, &t);
    /* hpworker and hpsearch never dial TLS without a certificate (a start-up
     * error, below), so this client is nng itself: CA and server name only */
    char *ca = hp_check_slurp(t.ca, 0);
    nng_socket s;
    nng_dialer dl;
    nng_tls_config *c;
    ck_assert_int_eq(nng_req0_open(&s), 0);
    ck_assert_int_eq(nng_dialer_create(&dl, s, h.control), 0);
    ck_assert_int_eq(nng_tls_config_alloc(&c, NNG_TLS_MODE_CLIENT), 0);
    ck_assert_int_eq(nng_tls_config_ca_chain(c, ca, NULL), 0);
    ck_assert_int_eq(nng_tls_config_server_name(c, "127.0.0.1"), 0);
    ck_assert_int_eq(nng_dialer_set_ptr(dl, NNG_OPT_TLS_CONFIG, c), 0);
    nng_tls_config_free(c);
    int rv = nng_dialer_start(dl, 0);
    ck_assert_msg(rv != 0, "a client without a certificate was let in");
    nng_close(s);
    free(ca);
    char want[4096];
    snprintf(want, sizeof want, "WARN control socket %s: 1 TLS handshake refused", h.control);
    wait_log(&h, "hpsearchd", d, want);
    wait_log(&h, "hpsearchd", d, "the client sent no certificate (this daemon requires one");
    /* and with one the same dial goes through */
    res_t r = TLS_CLI(&h, &t, "status");
    OK(r);
    res_free(&r);
    /* plain TCP to a TLS socket: the clients say what the server speaks */
    char plain[700];
    snprintf(plain, sizeof plain, "tcp://%s", strstr(h.control, "://") + 3);
    r = CLI(&h, "--coordinator", plain, "status");
    ck_assert_int_eq(r.status, 1);
    snprintf(want, sizeof want, "speaks TLS: dial %s and give --tls-ca, --tls-cert and --tls-key",
             h.control);
    HAS(r.err, want);
    res_free(&r);
    wait_log(&h, "hpsearchd", d, "the client does not speak TLS (a plain tcp:// client?)");
    snprintf(plain, sizeof plain, "tcp://%s", strstr(h.listen, "://") + 3);
    pid_t w = hp_harness_spawn(&h, "hpworker", "--connect", plain, NULL);
    snprintf(want, sizeof want, "ERROR no answer from %s: the server at", plain);
    wait_log(&h, "hpworker", w, want);
    wait_log(&h, "hpworker", w, "speaks TLS: dial tls+tcp://");
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_cli_with_the_wrong_ca_refuses_the_server)
{
    hp_harness_t h;
    tls_env_t t;
    tls_init(&h, &t, "tls-cli-ca");
    start_tls_daemon(&h, &t);
    res_t r = CLI(&h, "--tls-ca", t.o_ca, "--tls-cert", t.o_crt, "--tls-key", t.o_key,
                  "status");
    ck_assert_int_eq(r.status, 1);
    char want[4096];
    snprintf(want, sizeof want,
             "hpsearch status: TLS handshake with %s failed: certificate not trusted (is "
             "--tls-ca the CA that signed the server's certificate?)",
             h.control);
    HAS(r.err, want);
    res_free(&r);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_tls_flags_that_do_not_fit_the_url_are_refused_at_start)
{
    hp_harness_t h;
    tls_env_t t;
    tls_init(&h, &t, "tls-flags");
    /* a TLS URL without its key */
    pid_t d = hp_harness_spawn(&h, "hpsearchd", "--db", h.db, "--listen", h.listen,
                               "--control", h.control, "--tls-ca", t.ca, "--tls-cert",
                               t.srv_crt, NULL);
    ck_assert_int_eq(hp_spawn_code(wait_exit(&h, d)), 2);
    char *log = child_log(&h, "hpsearchd", d);
    HAS(log, "is a TLS URL but --tls-key is not given");
    free(log);
    /* TLS files for plain sockets */
    d = hp_harness_spawn(&h, "hpsearchd", "--db", h.db, "--tls-ca", t.ca, "--tls-cert",
                         t.srv_crt, "--tls-key", t.srv_key, NULL);
    ck_assert_int_eq(hp_spawn_code(wait_exit(&h, d)), 2);
    log = child_log(&h, "hpsearchd", d);
    HAS(log, "is not a TLS URL: it would carry everything in clear; use tls+tcp://");
    free(log);
    /* a key that is not the certificate's */
    d = hp_harness_spawn(&h, "hpsearchd", "--db", h.db, "--listen", h.listen, "--control",
                         h.control, "--tls-ca", t.ca, "--tls-cert", t.srv_crt, "--tls-key",
                         t.w_key, NULL);
    ck_assert_int_ne(hp_spawn_code(wait_exit(&h, d)), 0);
    log = child_log(&h, "hpsearchd", d);
    HAS(log, "is not the key of --tls-cert");
    free(log);
    /* a worker on a TLS URL without its CA */
    pid_t w = hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--tls-cert", t.w_crt,
                               "--tls-key", t.w_key, NULL);
    ck_assert_int_eq(hp_spawn_code(wait_exit(&h, w)), 2);
    log = child_log(&h, "hpworker", w);
    HAS(log, "is a TLS URL but --tls-ca is not given");
    free(log);
    /* the CLI: no files for a TLS URL; files for a plain one; a missing file */
    res_t r = CLI(&h, "status");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "is a TLS URL but --tls-ca is not given");
    res_free(&r);
    r = CLI(&h, "--coordinator", "tcp://127.0.0.1:1", "--tls-ca", t.ca, "--tls-cert",
            t.cli_crt, "--tls-key", t.cli_key, "status");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "tcp://127.0.0.1:1 is not a TLS URL");
    res_free(&r);
    r = CLI(&h, "--tls-ca", "/nonexistent/ca.crt", "--tls-cert", t.cli_crt, "--tls-key",
            t.cli_key, "status");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "--tls-ca /nonexistent/ca.crt: No such file or directory");
    res_free(&r);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_certs_issue_needs_init_and_keeps_files)
{
    hp_harness_t h;
    hp_harness_init(&h, "tls-certs");
    char pki[700];
    snprintf(pki, sizeof pki, "%s/pki", h.dir);
    int code = RUN(&h, "issue", "certs", "issue", pki, "w1");
    ck_assert_int_eq(code, 1);
    char *err = cli_output(&h, "issue", "err");
    char want[4096];
    snprintf(want, sizeof want, "%s/ca.crt not found: %s holds no CA; run `hpsearch certs init %s` first",
             pki, pki, pki);
    HAS(err, want);
    free(err);
    ck_assert_int_eq(RUN(&h, "init", "certs", "init", pki), 0);
    ck_assert_int_eq(RUN(&h, "init2", "certs", "init", pki), 1);
    err = cli_output(&h, "init2", "err");
    HAS(err, "ca.key already exists; refusing to replace it (give --force");
    free(err);
    ck_assert_int_eq(RUN(&h, "init3", "certs", "init", pki, "--force"), 0);
    ck_assert_int_eq(RUN(&h, "usage", "certs", "frobnicate", pki), 2);
    err = cli_output(&h, "usage", "err");
    HAS(err, "unknown certs command 'frobnicate'");
    free(err);
    hp_harness_fini(&h);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tls");
    TCase *tc = tcase_create("tls");
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    tcase_set_timeout(tc, HP_IT_GUARD_S + 60);
    tcase_add_test(tc, test_study_over_mutual_tls);
    tcase_add_test(tc, test_workers_of_another_ca_are_refused_and_both_sides_log_it);
    tcase_add_test(tc, test_client_without_certificate_is_refused);
    tcase_add_test(tc, test_cli_with_the_wrong_ca_refuses_the_server);
    tcase_add_test(tc, test_tls_flags_that_do_not_fit_the_url_are_refused_at_start);
    tcase_add_test(tc, test_certs_issue_needs_init_and_keeps_files);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return hp_check_run(suite()); }
