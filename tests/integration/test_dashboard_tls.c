/*
 * The dashboard over https:// (nng's TLS), with certificates made by
 * `hpsearch certs` and Debian's curl as the client:
 *   - `hpsearch dashboard --listen https://...` answers curl that trusts the
 *     CA, curl that does not refuses it, and a plain-HTTP request to that
 *     port gets no HTTP answer;
 *   - off loopback it asks for the token beside the database;
 *   - https:// without --tls-cert/--tls-key is refused at start;
 *   - hpsearchd whose sockets use TLS refuses a plain http:// dashboard off
 *     loopback, and serves https:// there, asking every request for the
 *     token (a Secure cookie after ?token=).
 */
#define _DEFAULT_SOURCE
#include "hp_it.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define CURL "/usr/bin/curl"

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

typedef struct pki {
    char dir[700], ca[800], crt[800], key[800];
} pki_t;

/* a CA and a server certificate for 127.0.0.1, made as a user makes them */
static void make_pki(hp_harness_t *h, pki_t *p)
{
    snprintf(p->dir, sizeof p->dir, "%s/pki", h->dir);
    ck_assert_int_eq(RUN(h, "certs", "certs", "init", p->dir), 0);
    ck_assert_int_eq(RUN(h, "certs", "certs", "issue", p->dir, "127.0.0.1", "--san", "localhost"),
                     0);
    snprintf(p->ca, sizeof p->ca, "%s/ca.crt", p->dir);
    snprintf(p->crt, sizeof p->crt, "%s/127.0.0.1.crt", p->dir);
    snprintf(p->key, sizeof p->key, "%s/127.0.0.1.key", p->dir);
}

typedef struct curl_res {
    int code;   /* curl's exit code */
    char *out;  /* -w and body */
    char *err;
} curl_res_t;

/* curl ARGS..., to its end */
static curl_res_t curl_v(hp_harness_t *h, const char *const *args)
{
    ck_assert_msg(access(CURL, X_OK) == 0,
                  CURL " is missing: deploy/install-deps.sh installs it (the HTTPS client of "
                       "this test)");
    char out[800], err[800];
    snprintf(out, sizeof out, "%s/curl.out", h->dir);
    snprintf(err, sizeof err, "%s/curl.err", h->dir);
    hp_spawn_opts_t o = {.in = "/dev/null", .out = out, .err = err, .die_with_parent = 1};
    curl_res_t r = {.code = hp_spawn_wait(hp_spawn(CURL, args, &o))};
    r.out = hp_check_slurp(out, 1);
    r.err = hp_check_slurp(err, 1);
    return r;
}

#define CURL_RUN(h, ...) curl_v((h), (const char *[]){"-sS", "--max-time", "30", __VA_ARGS__, NULL})

static void curl_free(curl_res_t *r)
{
    free(r->out);
    free(r->err);
}

/* the URL in the first line of text after marker that starts with https:// */
static int wait_https_port(const char *path, const char *marker)
{
    for (int i = 0; i < HP_IT_GUARD_S * 20; i++) {
        char *text = hp_check_slurp(path, 1);
        char *at = text ? strstr(text, marker) : NULL;
        int port = 0;
        if (at && sscanf(at + strlen(marker), "https://%*[^:]:%d/", &port) == 1) {
            free(text);
            return port;
        }
        free(text);
        nap_ms(50);
    }
    ck_abort_msg("no '%shttps://...' line in %s", marker, path);
    return 0;
}

START_TEST(test_dashboard_https)
{
    hp_harness_t h;
    hp_harness_init(&h, "dash-https");
    pki_t p;
    make_pki(&h, &p);
    /* a database with a study in it, made by a real daemon */
    hp_harness_start_daemon(&h, NULL);
    hp_harness_submit(&h, "name: tls-dash\n"
                          "objective: {metric: value, goal: minimize}\n"
                          "search: {algorithm: random, max_trials: 3, seed: 1}\n"
                          "space: {x1: {type: float, low: -5, high: 10}, x2: {type: float, low: 0, high: 15}}\n"
                          "trial: {function: branin}\n");
    hp_harness_kill(&h, h.daemon, SIGTERM);

    pid_t dash = spawn_cli(&h, "dash", (const char *[]){"--tls-cert", p.crt, "--tls-key", p.key,
                                                        "dashboard", "--db", h.db, "--listen",
                                                        "https://127.0.0.1:0", NULL});
    char out[800];
    snprintf(out, sizeof out, "%s/dash.out", h.dir);
    int port = wait_https_port(out, "dashboard: ");
    char url[128], plain[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/api/studies/tls-dash", port);
    snprintf(plain, sizeof plain, "http://127.0.0.1:%d/api/studies/tls-dash", port);

    /* a client that trusts the CA */
    curl_res_t r = CURL_RUN(&h, "--cacert", p.ca, "-w", "\nHTTP %{http_code}", url);
    ck_assert_msg(r.code == 0, "curl --cacert failed (%d): %s", r.code, r.err);
    HAS(r.out, "\"name\":\"tls-dash\"");
    HAS(r.out, "HTTP 200");
    curl_free(&r);
    /* one that does not: curl refuses the certificate (exit 60) */
    r = CURL_RUN(&h, url);
    ck_assert_msg(r.code == 60, "curl without the CA: exit %d (want 60): %s", r.code, r.err);
    curl_free(&r);
    /* plain HTTP to the TLS port: no HTTP answer at all */
    r = CURL_RUN(&h, "-w", "\nHTTP %{http_code}", plain);
    ck_assert_msg(r.code != 0, "plain HTTP was answered: %s", r.out);
    LACKS(r.out, "tls-dash");
    HAS(r.out, "HTTP 000");
    curl_free(&r);
    /* still serving after the plain attempt */
    r = CURL_RUN(&h, "--cacert", p.ca, url);
    ck_assert_msg(r.code == 0, "curl after the plain attempt failed (%d): %s", r.code, r.err);
    curl_free(&r);
    hp_harness_kill(&h, dash, SIGTERM);

    /* off loopback: the token beside the database (the daemon's DB.token) */
    dash = spawn_cli(&h, "dash2", (const char *[]){"--tls-cert", p.crt, "--tls-key", p.key,
                                                   "dashboard", "--db", h.db, "--listen",
                                                   "https://0.0.0.0:0", NULL});
    snprintf(out, sizeof out, "%s/dash2.out", h.dir);
    port = wait_https_port(out, "dashboard: ");
    snprintf(url, sizeof url, "https://127.0.0.1:%d/api/studies/tls-dash", port);
    char tpath[800], auth[1200];
    snprintf(tpath, sizeof tpath, "%s.token", h.db);
    char *tok = hp_check_slurp(tpath, 0);
    snprintf(auth, sizeof auth, "Authorization: Bearer %.*s", (int)strcspn(tok, "\r\n"), tok);
    free(tok);
    r = CURL_RUN(&h, "--cacert", p.ca, "-w", "\nHTTP %{http_code}", url);
    HAS(r.out, "HTTP 401");
    curl_free(&r);
    r = CURL_RUN(&h, "--cacert", p.ca, "-H", auth, "-w", "\nHTTP %{http_code}", url);
    HAS(r.out, "\"name\":\"tls-dash\"");
    HAS(r.out, "HTTP 200");
    curl_free(&r);
    hp_harness_kill(&h, dash, SIGTERM);

    /* https:// without the certificate: refused, naming the flag */
    ck_assert_int_ne(RUN(&h, "nocert", "dashboard", "--db", h.db, "--listen",
                         "https://127.0.0.1:0"),
                     0);
    char *err = cli_output(&h, "nocert", "err");
    HAS(err, "--tls-cert");
    free(err);
    /* the files with a plain http:// URL: refused (it would serve in clear) */
    ck_assert_int_ne(RUN(&h, "plainfiles", "--tls-cert", p.crt, "--tls-key", p.key, "dashboard",
                         "--db", h.db, "--listen", "http://127.0.0.1:0"),
                     0);
    err = cli_output(&h, "plainfiles", "err");
    HAS(err, "not a TLS URL");
    free(err);
    hp_harness_fini(&h);
}
END_TEST

/* hpsearchd with tls+tcp:// sockets: --http off loopback must be https://,
 * and asks for the token */
START_TEST(test_daemon_https_token)
{
    hp_harness_t h;
    hp_harness_init(&h, "dash-https-d");
    pki_t p;
    make_pki(&h, &p);
    char listen[64], control[64];
    snprintf(listen, sizeof listen, "tls+tcp://127.0.0.1:%d", free_port());
    snprintf(control, sizeof control, "tls+tcp://127.0.0.1:%d", free_port());

    pid_t d = hp_harness_spawn(&h, "hpsearchd", "--db", h.db, "--listen", listen, "--control",
                               control, "--tls-ca", p.ca, "--tls-cert", p.crt, "--tls-key", p.key,
                               "--http", "http://0.0.0.0:0", NULL);
    int st = wait_exit(&h, d);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 2, "hpsearchd started (status %d)", st);
    char *log = child_log(&h, "hpsearchd", d);
    HAS(log, "is plain HTTP off loopback while the sockets use TLS: serve https://0.0.0.0:0");
    free(log);

    d = hp_harness_spawn(&h, "hpsearchd", "--db", h.db, "--listen", listen, "--control", control,
                         "--tls-ca", p.ca, "--tls-cert", p.crt, "--tls-key", p.key, "--http",
                         "https://0.0.0.0:0", NULL);
    char path[800];
    snprintf(path, sizeof path, "%s/hpsearchd-%d.log", h.dir, (int)d);
    int port = wait_https_port(path, "dashboard on ");
    char url[128], tokurl[3200], auth[1200], token[1024];
    /* DB.token exists once the daemon serves */
    char tpath[800];
    snprintf(tpath, sizeof tpath, "%s.token", h.db);
    char *t = hp_check_slurp(tpath, 0);
    snprintf(token, sizeof token, "%.*s", (int)strcspn(t, "\r\n"), t);
    free(t);
    /* the page URL takes the token percent-encoded ('+', '/', '=' of base64) */
    char enc[3100] = "";
    for (const unsigned char *c = (const unsigned char *)token; *c; c++)
        snprintf(enc + strlen(enc), sizeof enc - strlen(enc), isalnum(*c) ? "%c" : "%%%02X", *c);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/api/studies", port);
    snprintf(tokurl, sizeof tokurl, "https://127.0.0.1:%d/?token=%s", port, enc);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);

    curl_res_t r = CURL_RUN(&h, "--cacert", p.ca, "-w", "\nHTTP %{http_code}", url);
    ck_assert_msg(r.code == 0, "curl failed (%d): %s", r.code, r.err);
    HAS(r.out, "\"error\":\"AUTH\"");
    HAS(r.out, "HTTP 401");
    curl_free(&r);
    r = CURL_RUN(&h, "--cacert", p.ca, "-H", auth, "-w", "\nHTTP %{http_code}", url);
    ck_assert_msg(r.code == 0, "curl failed (%d): %s", r.code, r.err);
    HAS(r.out, "{\"studies\":[]}");
    HAS(r.out, "HTTP 200");
    curl_free(&r);
    /* the page with ?token= sets a cookie only HTTPS carries */
    r = CURL_RUN(&h, "--cacert", p.ca, "-D", "-", "-o", "/dev/null", tokurl);
    ck_assert_msg(r.code == 0, "curl failed (%d): %s", r.code, r.err);
    HAS(r.out, "200");
    HAS(r.out, "; Secure");
    curl_free(&r);
    /* plain HTTP to it: no answer */
    char plain[128];
    snprintf(plain, sizeof plain, "http://127.0.0.1:%d/api/studies", port);
    r = CURL_RUN(&h, "-H", auth, "-w", "\nHTTP %{http_code}", plain);
    ck_assert_msg(r.code != 0, "plain HTTP was answered: %s", r.out);
    LACKS(r.out, "studies");
    curl_free(&r);
    hp_harness_kill(&h, d, SIGTERM);
    hp_harness_fini(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dashboard_tls");
    TCase *tc = tcase_create("https");
    tcase_set_timeout(tc, HP_IT_GUARD_S);
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    tcase_add_test(tc, test_dashboard_https);
    tcase_add_test(tc, test_daemon_https_token);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
