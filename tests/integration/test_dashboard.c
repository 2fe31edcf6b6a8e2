/*
 * The dashboard's API and pages over HTTP, against the database of a real
 * study (examples/asha-toy.yaml run by `hpsearch run` with two workers),
 * served by `hpsearch dashboard --db` and by `hpsearchd --http`: every
 * endpoint, pagination bounds, and every bad request (unknown study or
 * path, traversal, bad or oversized parameters, other methods, no token).
 */
#include "harness.h"
#include "hp_check.h"
#include "hp_it.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static hp_harness_t H;
static char URL_HOST[64];
static int PORT;
static char DB[700];

typedef struct http_res {
    int status;
    char *head; /* the status line and headers */
    char *body;
} http_res_t;

static void http_free(http_res_t *r)
{
    free(r->head);
}

/* one raw HTTP/1.1 request to 127.0.0.1:port (the request line as given,
 * so tests can send what a browser would not) */
static http_res_t http_raw(int port, const char *method, const char *target, const char *extra)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0, "connect to port %d", port);
    char *req = NULL;
    size_t rl = 0;
    FILE *m = open_memstream(&req, &rl);
    fprintf(m, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n%s%s\r\n", method,
            target, port, extra ? extra : "", method[0] == 'P' ? "Content-Length: 0\r\n" : "");
    fclose(m);
    ck_assert(write(fd, req, rl) == (ssize_t)rl);
    free(req);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 > cap) {
            cap = (cap + 65536) * 2;
            buf = realloc(buf, cap);
            ck_assert(buf != NULL);
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    ck_assert_msg(len > 12, "no reply to %s %s", method, target);
    buf[len] = '\0';
    http_res_t r = {.head = buf};
    r.status = atoi(buf + 9);
    char *sep = strstr(buf, "\r\n\r\n");
    ck_assert(sep != NULL);
    *sep = '\0';
    r.body = sep + 4;
    return r;
}

static http_res_t get(const char *target)
{
    return http_raw(PORT, "GET", target, NULL);
}

/* occurrences of needle in s */
static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

#define EXPECT(r, code)                                                                       \
    ck_assert_msg((r).status == (code), "expected HTTP %d, got %d:\n%s\n%s", (code), (r).status, \
                  (r).head, (r).body)

/* the URL a dashboard printed ("dashboard: http://127.0.0.1:PORT/ ...") or
 * logged ("dashboard on http://..."); waits for it */
static int wait_port(const char *path, const char *marker)
{
    for (int i = 0; i < HP_IT_GUARD_S * 20; i++) {
        char *out = hp_check_slurp(path, 1);
        char *p = out ? strstr(out, marker) : NULL;
        int port = 0;
        if (p && sscanf(p + strlen(marker), "http://127.0.0.1:%d/", &port) == 1) {
            free(out);
            return port;
        }
        free(out);
        nap_ms(50);
    }
    ck_abort_msg("no '%s' line in %s", marker, path);
    return 0;
}

/* The study: examples/asha-toy.yaml with its program's path made absolute. */
static void setup(void)
{
    hp_harness_init(&H, "dashboard");
    const char *src = getenv("HP_SOURCE_DIR");
    ck_assert(src != NULL);
    char path[1024];
    snprintf(path, sizeof path, "%s/examples/asha-toy.yaml", src);
    char *spec = hp_check_slurp(path, 0);
    char abs[1100];
    snprintf(abs, sizeof abs, "%s/examples/curve_toy.sh", src);
    char *at = strstr(spec, "examples/curve_toy.sh");
    ck_assert(at != NULL);
    *at = '\0';
    char *text = NULL;
    size_t tl = 0;
    FILE *m = open_memstream(&text, &tl);
    fprintf(m, "%s%s%s", spec, abs, at + strlen("examples/curve_toy.sh"));
    fclose(m);
    const char *sp = hp_harness_write_file(&H, "asha-toy.yaml", text);
    char spec_path[800];
    snprintf(spec_path, sizeof spec_path, "%s", sp);
    free(text);
    free(spec);
    snprintf(DB, sizeof DB, "%s/toy.db", H.dir);
    int code = RUN(&H, "run", "run", spec_path, "--workers", "2", "--db", DB);
    char *err = cli_output(&H, "run", "err");
    ck_assert_msg(code == 0, "hpsearch run exited %d:\n%s", code, err);
    free(err);
    spawn_cli(&H, "dash", (const char *[]){"dashboard", "--db", DB, "--listen",
                                           "http://127.0.0.1:0", NULL});
    char out[800];
    snprintf(out, sizeof out, "%s/dash.out", H.dir);
    PORT = wait_port(out, "dashboard: ");
    snprintf(URL_HOST, sizeof URL_HOST, "127.0.0.1:%d", PORT);
}

static void teardown(void)
{
    hp_harness_fini(&H);
}

START_TEST(test_studies_list_state_progress_best)
{
    http_res_t r = get("/api/studies");
    EXPECT(r, 200);
    HAS(r.head, "application/json");
    HAS(r.body, "\"name\":\"asha-toy\"");
    HAS(r.body, "\"state\":\"completed\"");
    HAS(r.body, "\"trials\":30");
    char want[128];
    snprintf(want, sizeof want, "\"completed\":%ld",
             db_int(DB, "SELECT count(*) FROM trials WHERE state = 'completed'"));
    HAS(r.body, want);
    snprintf(want, sizeof want, "\"pruned\":%ld",
             db_int(DB, "SELECT count(*) FROM trials WHERE state = 'pruned'"));
    HAS(r.body, want);
    char best[64];
    hp_harness_db_text(DB,
                       "SELECT number FROM trials WHERE state = 'completed' ORDER BY value, "
                       "number LIMIT 1",
                       best, sizeof best);
    snprintf(want, sizeof want, "\"best_trial\":%s}", best);
    HAS(r.body, want);
    http_free(&r);

    r = get("/api/studies/asha-toy");
    EXPECT(r, 200);
    HAS(r.body, "\"spec\":{\"version\":1,\"name\":\"asha-toy\"");
    HAS(r.body, "\"goal\":\"minimize\"");
    http_free(&r);
}
END_TEST

START_TEST(test_trials_paginated_and_bounded)
{
    http_res_t r = get("/api/studies/asha-toy/trials?offset=0&limit=7");
    EXPECT(r, 200);
    HAS(r.body, "{\"total\":30,\"offset\":0,\"limit\":7,\"trials\":[{\"number\":0,");
    ck_assert_int_eq(count(r.body, "\"number\":"), 7);
    HAS(r.body, "\"params\":{\"lr\":");
    http_free(&r);
    r = get("/api/studies/asha-toy/trials?offset=28&limit=7");
    EXPECT(r, 200);
    ck_assert_int_eq(count(r.body, "\"number\":"), 2);
    HAS(r.body, "\"number\":29");
    http_free(&r);
    r = get("/api/studies/asha-toy/trials?offset=30");
    EXPECT(r, 200);
    HAS(r.body, "\"trials\":[]}");
    http_free(&r);
    r = get("/api/studies/asha-toy/trials");
    EXPECT(r, 200);
    HAS(r.body, "\"limit\":100");
    ck_assert_int_eq(count(r.body, "\"number\":"), 30);
    http_free(&r);
    r = get("/api/studies/asha-toy/trials?limit=5000&state=pruned");
    EXPECT(r, 200);
    char want[64];
    snprintf(want, sizeof want, "\"total\":%ld,",
             db_int(DB, "SELECT count(*) FROM trials WHERE state = 'pruned'"));
    HAS(r.body, want);
    LACKS(r.body, "\"state\":\"completed\"");
    http_free(&r);

    static const struct {
        const char *target, *param, *words;
    } bad[] = {
        {"/api/studies/asha-toy/trials?limit=5001", "limit", "limit: must be an integer from 1 to 5000 (got '5001')"},
        {"/api/studies/asha-toy/trials?limit=0", "limit", "from 1 to 5000"},
        {"/api/studies/asha-toy/trials?limit=abc", "limit", "(got 'abc')"},
        {"/api/studies/asha-toy/trials?limit=", "limit", "(got '')"},
        {"/api/studies/asha-toy/trials?offset=-1", "offset", "offset: must be an integer"},
        {"/api/studies/asha-toy/trials?offset=99999999999999999999", "offset", "offset:"},
        {"/api/studies/asha-toy/trials?state=done", "state", "state: must be pending"},
        {"/api/studies/asha-toy/trials?sort=value", "sort", "sort: unknown parameter (expected one of: offset, limit, state)"},
        {"/api/studies/asha-toy/trials?limit=1&limit=2", "limit", "limit: given more than once"},
        {"/api/studies/asha-toy/trials?limit=%zz", "limit", "bad %-escape"},
        {"/api/studies/asha-toy/trials/3/metrics?limit=10001", "limit", "from 1 to 10000"},
        {"/api/studies/asha-toy/curves?limit=1001", "limit", "from 1 to 1000"},
        {"/api/studies/asha-toy/report?trial=x", "trial", "trial: must be an integer"},
        {"/api/studies?x=1", "x", "x: unknown parameter (this path takes none)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        r = get(bad[i].target);
        EXPECT(r, 400);
        char p[64];
        snprintf(p, sizeof p, "\"error\":\"BAD_PARAM\",\"param\":\"%s\"", bad[i].param);
        HAS(r.body, p);
        HAS(r.body, bad[i].words);
        http_free(&r);
    }
    /* an oversized value and an oversized request target */
    char big[3000] = "/api/studies/asha-toy/trials?state=";
    memset(big + strlen(big), 'a', 300);
    r = get(big);
    EXPECT(r, 400);
    HAS(r.body, "\"param\":\"state\",\"message\":\"state: value longer than 256 bytes\"");
    http_free(&r);
    memset(big + strlen(big), 'a', 2500);
    big[2900] = '\0';
    r = get(big);
    ck_assert_msg(r.status == 400 || r.status == 414, "got %d", r.status);
    http_free(&r);
}
END_TEST

START_TEST(test_trial_metrics_curves_attempts_events_workers)
{
    http_res_t r = get("/api/studies/asha-toy/trials/3");
    EXPECT(r, 200);
    HAS(r.body, "{\"number\":3,");
    HAS(r.body, "\"attempt_list\":[{\"attempt\":1,\"worker\":");
    http_free(&r);

    r = get("/api/studies/asha-toy/trials/3/metrics");
    EXPECT(r, 200);
    char want[128];
    snprintf(want, sizeof want, "{\"total\":%ld,",
             db_int(DB, "SELECT count(*) FROM metrics m JOIN trials t ON t.id = m.trial_id"
                        " WHERE t.number = 3"));
    HAS(r.body, want);
    HAS(r.body, "\"name\":\"loss\"");
    http_free(&r);
    r = get("/api/studies/asha-toy/trials/3/metrics?offset=2&limit=3");
    EXPECT(r, 200);
    ck_assert_int_eq(count(r.body, "\"step\":"), 3);
    http_free(&r);

    r = get("/api/studies/asha-toy/curves");
    EXPECT(r, 200);
    HAS(r.body, "{\"metric\":\"loss\",\"total\":30,");
    ck_assert_int_eq(count(r.body, "{\"number\":"), 30);
    /* a trial run to the end has its 27 steps; a pruned one stops at its step */
    HAS(r.body, "\"steps\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27]");
    HAS(r.body, "\"state\":\"pruned\",\"pruned_step\":1,");
    http_free(&r);

    r = get("/api/studies/asha-toy/attempts?limit=5");
    EXPECT(r, 200);
    snprintf(want, sizeof want, "{\"total\":%ld,",
             db_int(DB, "SELECT count(*) FROM trial_attempts"));
    HAS(r.body, want);
    ck_assert_int_eq(count(r.body, "\"outcome\":"), 5);
    http_free(&r);

    r = get("/api/studies/asha-toy/events");
    EXPECT(r, 200);
    HAS(r.body, "\"kind\":\"study_submitted\"");
    HAS(r.body, "\"kind\":\"trial_pruned\"");
    http_free(&r);

    r = get("/api/workers");
    EXPECT(r, 200);
    HAS(r.body, "{\"total\":2,");
    HAS(r.body, "\"capabilities\":{");
    http_free(&r);
}
END_TEST

START_TEST(test_report_is_the_cli_report)
{
    http_res_t r = get("/api/studies/asha-toy/report");
    EXPECT(r, 200);
    char best[64], want[128];
    hp_harness_db_text(DB,
                       "SELECT number FROM trials WHERE state = 'completed' ORDER BY value, "
                       "number LIMIT 1",
                       best, sizeof best);
    snprintf(want, sizeof want, "\"chosen\":\"best\",\"trial\":{\"number\":%s,", best);
    HAS(r.body, want);
    /* the toy reports no train/val/test errors: the terms say what is missing */
    HAS(r.body, "\"avoidable_bias\":{\"label\":\"avoidable bias\",\"value\":null,\"material\":false,"
                "\"unknown\":\"the trial reported no train_error\"}");
    HAS(r.body, "\"fit\":\"unknown\"");
    HAS(r.body, "\"diagnoses\":[");
    http_free(&r);
    r = get("/api/studies/asha-toy/report?trial=4");
    EXPECT(r, 200);
    HAS(r.body, "\"chosen\":\"trial\",\"trial\":{\"number\":4,");
    http_free(&r);
    r = get("/api/studies/asha-toy/report?trial=400");
    EXPECT(r, 404);
    HAS(r.body, "no trial 400 in study 'asha-toy'");
    http_free(&r);
}
END_TEST

START_TEST(test_importance_is_the_cli_importance)
{
    http_res_t r = get("/api/studies/asha-toy/importance");
    EXPECT(r, 200);
    long done = hp_harness_db_int(DB, "SELECT count(*) FROM trials WHERE state = 'completed'"
                                      " AND infeasible IS NULL");
    char want[128];
    snprintf(want, sizeof want, "{\"study\":\"asha-toy\",\"completed\":%ld,\"limit\":2000,"
                                "\"importance\":{\"method\":\"fANOVA (random forest, 64 trees)\","
                                "\"trials\":%ld,",
             done, done);
    HAS(r.body, want);
    /* the same ranking as the CLI's on the same database */
    int code = RUN(&H, "imp", "importance", "--db", DB, "--format", "json", "asha-toy");
    char *cli = cli_output(&H, "imp", "out");
    ck_assert_msg(code == 0, "hpsearch importance exited %d", code);
    const char *a = strstr(r.body, "\"importance\":"), *b = strstr(cli, "\"importance\":");
    ck_assert(a && b);
    ck_assert_str_eq(a, b);
    free(cli);
    http_free(&r);
    r = get("/api/studies/asha-toy/importance?trees=8");
    EXPECT(r, 400);
    HAS(r.body, "\"param\":\"trees\",\"message\":\"trees: unknown parameter");
    http_free(&r);
}
END_TEST

START_TEST(test_unknown_study_and_paths_are_json_404)
{
    static const struct {
        const char *target, *words;
    } nf[] = {
        {"/api/studies/nope", "{\"error\":\"NOT_FOUND\",\"message\":\"no study named 'nope'\"}"},
        {"/api/studies/nope/trials", "no study named 'nope'"},
        /* names are decoded, then bound: a quote is just a character */
        {"/api/studies/a'%20OR%20'1'='1", "no study named 'a' OR '1'='1'"},
        {"/api/studies/asha-toy/trials/999", "no trial 999 in study 'asha-toy'"},
        {"/api/studies/asha-toy/trials/x1", "no trial 'x1' in study 'asha-toy'"},
        {"/api/studies/asha-toy/trials/3/params", "no API path '/api/studies/asha-toy/trials/3/params'"},
        {"/api/nothing", "no API path '/api/nothing'"},
        {"/static/nothing.js", "no page /static/nothing.js"},
        {"/static/index.html", "no page"},
        {"/etc/passwd", "no page"},
    };
    for (size_t i = 0; i < sizeof nf / sizeof *nf; i++) {
        http_res_t r = get(nf[i].target);
        EXPECT(r, 404);
        HAS(r.head, "application/json");
        HAS(r.body, nf[i].words);
        http_free(&r);
    }
    http_res_t r = get("/api/studies/asha%2Dtoy");
    EXPECT(r, 200);
    HAS(r.body, "\"name\":\"asha-toy\"");
    http_free(&r);
}
END_TEST

START_TEST(test_traversal_and_methods_refused)
{
    static const char *const trav[] = {
        "/static/../../../etc/passwd", "/studies/../api/studies", "/static/%2e%2e/x",
        "/static/..%2fetc%2fpasswd", "/api/studies/%00", "/static/./dash.css",
    };
    for (size_t i = 0; i < sizeof trav / sizeof *trav; i++) {
        http_res_t r = get(trav[i]);
        ck_assert_msg(r.status == 400 || r.status == 404, "%s: HTTP %d\n%s", trav[i], r.status,
                      r.body);
        LACKS(r.body, "root:");
        http_free(&r);
    }
    static const char *const methods[] = {"POST", "PUT", "DELETE", "PATCH"};
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
        http_res_t r = http_raw(PORT, methods[i], "/api/studies", NULL);
        EXPECT(r, 405);
        HAS(r.head, "Allow: GET");
        HAS(r.body, "\"error\":\"METHOD_NOT_ALLOWED\"");
        http_free(&r);
    }
}
END_TEST

START_TEST(test_pages_and_chart_library_served)
{
    http_res_t r = get("/");
    EXPECT(r, 200);
    HAS(r.head, "text/html");
    HAS(r.body, "<script src=\"/static/echarts.min.js\"></script>");
    http_free(&r);
    r = get("/studies/asha-toy");
    EXPECT(r, 200);
    HAS(r.body, "id=\"history\"");
    http_free(&r);
    r = get("/studies/asha-toy/trials/3");
    EXPECT(r, 200);
    HAS(r.body, "id=\"curve\"");
    http_free(&r);
    /* a build whose npm could not reach its registry has no chart
     * library, and says why in its place (coordinator/dash/npm_ci.sh) */
    char missing[4096];
    snprintf(missing, sizeof missing, "%s/../web/charts-missing.txt", getenv("HP_BIN_DIR"));
    if (access(missing, R_OK) == 0) {
        fprintf(stderr, "*** NOTE: this build has no chart library (%s): checking that the "
                        "dashboard serves the reason in its place instead ***\n", missing);
        r = get("/static/echarts.min.js");
        EXPECT(r, 404);
        http_free(&r);
        r = get("/static/charts-missing.txt");
        EXPECT(r, 200);
        HAS(r.body, "the chart library (echarts, from npm) is not installed");
        http_free(&r);
    } else {
        r = get("/static/echarts.min.js");
        EXPECT(r, 200);
        HAS(r.head, "text/javascript");
        ck_assert_int_gt((int)strlen(r.body), 500000);
        http_free(&r);
    }
    /* the pages name no other host: every script and style is this server's */
    const char *pages[] = {"/", "/studies/asha-toy", "/studies/asha-toy/trials/3",
                           "/static/common.js", "/static/study.js", "/static/index.js",
                           "/static/trial.js", "/static/dash.css"};
    for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
        r = get(pages[i]);
        EXPECT(r, 200);
        LACKS(r.body, "http://");
        LACKS(r.body, "https://");
        LACKS(r.body, "//cdn");
        http_free(&r);
    }
}
END_TEST

/* hpsearchd --http: the same API from the daemon; off loopback (or with
 * --token-file) every request must carry the daemon's token. */
START_TEST(test_daemon_http_and_token)
{
    hp_harness_t h;
    hp_harness_init(&h, "dash-daemon");
    pid_t d = hp_harness_start_daemon(&h, "--http", "http://127.0.0.1:0", NULL);
    char log[800];
    snprintf(log, sizeof log, "%s/hpsearchd-%d.log", h.dir, (int)d);
    int port = wait_port(log, "dashboard on ");
    http_res_t r = http_raw(port, "GET", "/api/studies", NULL);
    EXPECT(r, 200);
    HAS(r.body, "{\"studies\":[]}");
    http_free(&r);
    hp_harness_kill(&h, d, SIGTERM);

    /* off loopback without --token-file: the daemon's own token, DB.token */
    d = hp_harness_start_daemon(&h, "--http", "http://0.0.0.0:0", NULL);
    ck_assert_uint_gt(h.token_len, 0);
    snprintf(log, sizeof log, "%s/hpsearchd-%d.log", h.dir, (int)d);
    port = 0;
    for (int i = 0; i < HP_IT_GUARD_S * 20 && !port; i++) {
        char *l = hp_check_slurp(log, 1);
        char *at = l ? strstr(l, "dashboard on http://") : NULL;
        if (at && strchr(at + 20, ':'))
            port = atoi(strchr(at + 20, ':') + 1);
        free(l);
        if (!port)
            nap_ms(50);
    }
    ck_assert_int_gt(port, 0);
    r = http_raw(port, "GET", "/api/studies", NULL);
    EXPECT(r, 401);
    http_free(&r);
    char bearer[1200];
    snprintf(bearer, sizeof bearer, "Authorization: Bearer %s\r\n", h.token);
    r = http_raw(port, "GET", "/api/studies", bearer);
    EXPECT(r, 200);
    http_free(&r);
    hp_harness_kill(&h, d, SIGTERM);

    /* with the token: required, by header, query or the cookie it sets */
    const char *tok = hp_harness_write_file(&h, "token", "0123456789abcdef0123456789abcdef\n");
    char tokpath[800];
    snprintf(tokpath, sizeof tokpath, "%s", tok);
    d = hp_harness_start_daemon(&h, "--http", "http://0.0.0.0:0", "--token-file", tokpath, NULL);
    snprintf(log, sizeof log, "%s/hpsearchd-%d.log", h.dir, (int)d);
    port = 0;
    for (int i = 0; i < HP_IT_GUARD_S * 20 && !port; i++) {
        char *l = hp_check_slurp(log, 1);
        char *at = l ? strstr(l, "dashboard on http://") : NULL;
        if (at && strchr(at + 20, ':'))
            port = atoi(strchr(at + 20, ':') + 1);
        free(l);
        if (!port)
            nap_ms(50);
    }
    ck_assert_int_gt(port, 0);
    r = http_raw(port, "GET", "/api/studies", NULL);
    EXPECT(r, 401);
    HAS(r.body, "\"error\":\"AUTH\"");
    http_free(&r);
    r = http_raw(port, "GET", "/", "Authorization: Bearer wrong-token-wrong-token\r\n");
    EXPECT(r, 401);
    http_free(&r);
    r = http_raw(port, "GET", "/api/studies",
                 "Authorization: Bearer 0123456789abcdef0123456789abcdef\r\n");
    EXPECT(r, 200);
    http_free(&r);
    r = http_raw(port, "GET", "/?token=0123456789abcdef0123456789abcdef", NULL);
    EXPECT(r, 200);
    HAS(r.head, "Set-Cookie: hp_token=0123456789abcdef0123456789abcdef; Path=/; HttpOnly");
    http_free(&r);
    r = http_raw(port, "GET", "/static/study.js",
                 "Cookie: a=b; hp_token=0123456789abcdef0123456789abcdef\r\n");
    EXPECT(r, 200);
    http_free(&r);
    hp_harness_fini(&h);
}
END_TEST

/* hpsearch dashboard's own command-line errors */
START_TEST(test_dashboard_verb_errors)
{
    res_t r = CLI(&H, "dashboard");
    ck_assert_int_eq(r.status, 2);
    HAS(r.err, "missing --db FILE");
    res_free(&r);
    r = CLI(&H, "dashboard", "--db", "/nonexistent/x.db");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "/nonexistent/x.db: No such file or directory");
    res_free(&r);
    r = CLI(&H, "dashboard", "--db", DB, "--listen", "http://10.1.2.3:7523");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "refusing to serve the dashboard on http://10.1.2.3:7523 without a token");
    res_free(&r);
    r = CLI(&H, "dashboard", "--db", DB, "--listen", "tcp://127.0.0.1:7523");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "is not an http:// URL");
    res_free(&r);
}
END_TEST

/* hpsearch run --dashboard prints the live page of the study it runs */
START_TEST(test_run_prints_dashboard_url)
{
    const char *src = getenv("HP_SOURCE_DIR");
    char spec[1024], db[800];
    snprintf(spec, sizeof spec, "%s/examples/branin.yaml", src);
    snprintf(db, sizeof db, "%s/branin.db", H.dir);
    int code = RUN(&H, "run-dash", "run", spec, "--db", db, "--dashboard");
    char *err = cli_output(&H, "run-dash", "err");
    ck_assert_msg(code == 0, "exit %d: %s", code, err);
    char *at = strstr(err, "dashboard: http://127.0.0.1:");
    ck_assert_msg(at != NULL, "%s", err);
    int port = 0;
    char rest[64] = "";
    ck_assert_int_eq(sscanf(at, "dashboard: http://127.0.0.1:%d/%63s", &port, rest), 2);
    ck_assert_int_gt(port, 0);
    ck_assert_str_eq(rest, "studies/branin");
    free(err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dashboard");
    TCase *tc = tcase_create("api");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 0);
    tcase_add_test(tc, test_studies_list_state_progress_best);
    tcase_add_test(tc, test_trials_paginated_and_bounded);
    tcase_add_test(tc, test_trial_metrics_curves_attempts_events_workers);
    tcase_add_test(tc, test_report_is_the_cli_report);
    tcase_add_test(tc, test_importance_is_the_cli_importance);
    tcase_add_test(tc, test_unknown_study_and_paths_are_json_404);
    tcase_add_test(tc, test_traversal_and_methods_refused);
    tcase_add_test(tc, test_pages_and_chart_library_served);
    tcase_add_test(tc, test_daemon_http_and_token);
    tcase_add_test(tc, test_dashboard_verb_errors);
    tcase_add_test(tc, test_run_prints_dashboard_url);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
