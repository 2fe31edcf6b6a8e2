/* Partitions (issue 15): hpsearchd in one network namespace, three
 * hpworkers in three others, each joined to it by a veth link, talking
 * tcp:// over those links as on a real network. Each case injects one
 * network fault and ends with every trial completed exactly once:
 *
 *   cut      a worker's link goes down mid-trial: its lease expires and the
 *            trial runs again on another worker;
 *   heal     the same, then the link comes back: the cut-off worker's late
 *            result is refused (logged on both sides) and not recorded;
 *   latency  100 ms latency with 5% loss on every link, under which the
 *            study completes: tc netem where the kernel has it; else a
 *            delaying TCP proxy (delay_proxy.c: 100 ms each way, and now
 *            and then a connection reset) between the workers and the
 *            daemon, over links that drop 5% of packets (nftables);
 *   loss     5% of packets dropped each way on every link (nftables), for
 *            kernels without netem;
 *   restart  the coordinator's host restarted (SIGKILL, started again in
 *            its namespace): the workers reconnect under the sessions
 *            they had (restored from the database) and the study
 *            completes.
 *
 * One ctest entry per case (CK_RUN_CASE). Needs root; otherwise, and when
 * the kernel lacks what a case needs (netem, nftables), the case says so on
 * stderr and exits 77, which ctest reports as skipped. Namespaces and
 * processes go even when a case fails (checked teardown, atexit). */
#define _DEFAULT_SOURCE
#include "hp_it.h"
#include "netns.h"

#include <glob.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SKIP_CODE 77
/* how long any one condition may take before the case fails: a guard
 * against hangs (well inside ctest's 300 s), never a timing */
#define GUARD_S 90
#define TOKEN "partition-test-token-5f1c0e9a"
#define LISTEN "tcp://" HP_NET_COORD_ADDR ":7521"
/* where the latency case's proxy listens (in the coordinator's namespace) */
#define PROXY_ADDR HP_NET_COORD_ADDR ":7600"

/* one case's world: the harness (files, processes) and the network */
typedef struct world {
    hp_harness_t h;
    hp_net_t net;
    char token[700];
    char lease_ms[16], heartbeat_ms[16];
    pid_t worker[HP_NET_MAX_WORKERS + 1]; /* worker[i] runs in worker namespace i */
    const char *connect;                  /* the URL workers dial: LISTEN or the proxy's */
    pid_t proxy;                          /* the delaying proxy, when there is one */
    const char *wrap[HP_NET_MAX_WORKERS + 1][8];
    char env[HP_NET_MAX_WORKERS + 1][32];
} world_t;

static void skip(world_t *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "\n*** SKIPPED: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " ***\n\n");
    va_end(ap);
    if (w) {
        hp_harness_fini(&w->h);
        hp_net_destroy(&w->net);
    }
    exit(SKIP_CODE);
}

/* Whether the daemon answers on its control socket (any reply: it serves). */
static int daemon_answers(world_t *w)
{
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__StatusRequest sr = HPSEARCH__STATUS_REQUEST__INIT;
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__STATUS, &sr);
    env.auth_token.data = (uint8_t *)TOKEN;
    env.auth_token.len = strlen(TOKEN);
    Hpsearch__Envelope *r = hp_harness_request(w->h.control, &env, 500);
    hp_proto_free(r);
    return r != NULL;
}

/* Fails the case at once, quoting the end of its log, if the daemon died. */
static void daemon_alive(world_t *w)
{
    int st;
    if (w->h.daemon <= 0 || waitpid(w->h.daemon, &st, WNOHANG) != w->h.daemon)
        return;
    char *log = child_log(&w->h, "hpsearchd", w->h.daemon);
    size_t n = strlen(log);
    ck_abort_msg("hpsearchd died (wait status %d); its log ends:\n%s", st,
                 log + (n > 2000 ? n - 2000 : 0));
}

/* hpsearchd in the coordinator's namespace, on the harness's database,
 * listening on the bridge's address; waits until it answers. */
static void start_daemon(world_t *w)
{
    hp_harness_t *h = &w->h;
    h->daemon = hp_harness_spawn_wrapped(h, hp_net_exec(&w->net, 0), "hpsearchd", "--db", h->db,
                                         "--listen", h->listen, "--control", h->control,
                                         "--token-file", w->token, "--lease-ms", w->lease_ms,
                                         "--heartbeat-ms", w->heartbeat_ms, NULL);
    for (int i = 0; i < GUARD_S * 10 && !daemon_answers(w); i++) {
        daemon_alive(w);
        nap_ms(100);
    }
    ck_assert_msg(daemon_answers(w), "hpsearchd did not answer within %d s", GUARD_S);
}

/* Waits until sql gives at least want, failing at the guard or as soon as
 * the daemon dies. */
static void until(world_t *w, const char *sql, long want)
{
    long v = -1;
    for (int i = 0; i < GUARD_S * 20 && (v = db_int(w->h.db, sql)) < want; i++) {
        daemon_alive(w);
        nap_ms(50);
    }
    ck_assert_msg(v >= want, "%s: %ld after %d s, waited for %ld", sql, v, GUARD_S, want);
}

/* Waits until the file DIR/name exists (a trial program's marker). */
static void until_file(world_t *w, const char *pattern)
{
    char path[800];
    snprintf(path, sizeof path, "%s/%s", w->h.dir, pattern);
    for (int i = 0; i < GUARD_S * 20; i++) {
        glob_t g;
        int found = glob(path, 0, NULL, &g) == 0 && g.gl_pathc > 0;
        globfree(&g);
        if (found)
            return;
        daemon_alive(w);
        nap_ms(50);
    }
    ck_abort_msg("no %s after %d s", path, GUARD_S);
}

/* Waits until the log of program pid holds needle. */
static void until_logged(world_t *w, const char *program, pid_t pid, const char *needle)
{
    for (int i = 0; i < GUARD_S * 20; i++) {
        char *log = child_log(&w->h, program, pid);
        int found = strstr(log, needle) != NULL;
        free(log);
        if (found)
            return;
        daemon_alive(w);
        nap_ms(50);
    }
    char *log = child_log(&w->h, program, pid);
    ck_abort_msg("'%s' never appeared in the log of %s %d:\n%s", needle, program, (int)pid, log);
}

static void start_worker(world_t *w, int i)
{
    const char *const *ns = hp_net_exec(&w->net, i);
    snprintf(w->env[i], sizeof w->env[i], "HP_IT_WORKER=%d", i);
    int k = 0;
    for (; ns[k]; k++)
        w->wrap[i][k] = ns[k];
    w->wrap[i][k++] = "/usr/bin/env";
    w->wrap[i][k++] = w->env[i];
    w->wrap[i][k] = NULL;
    w->worker[i] = hp_harness_spawn_wrapped(&w->h, w->wrap[i], "hpworker", "--connect",
                                            w->connect ? w->connect : LISTEN,
                                            "--slots", "1", "--token-file", w->token, NULL);
}

/* The delaying proxy in the coordinator's namespace, on PROXY_ADDR, in
 * front of the daemon's worker socket; returns once it listens. */
static void start_proxy(world_t *w, int delay_ms, const char *reset_pct)
{
    char delay[16], ready[800], path[900];
    snprintf(delay, sizeof delay, "%d", delay_ms);
    snprintf(ready, sizeof ready, "%s/proxy.ready", w->h.dir);
    w->proxy = hp_harness_spawn_wrapped(&w->h, hp_net_exec(&w->net, 0), "hp_delay_proxy",
                                        "--listen", PROXY_ADDR, "--to",
                                        HP_NET_COORD_ADDR ":7521", "--delay-ms", delay,
                                        "--reset-pct", reset_pct, "--seed", "15", "--ready",
                                        ready, NULL);
    snprintf(path, sizeof path, "proxy.ready");
    until_file(w, path);
    w->connect = "tcp://" PROXY_ADDR;
}

/* The network, the daemon and three workers; returns when all three have
 * said HELLO over their links. With proxy_ms >= 0 the workers dial the
 * daemon through the delaying proxy (start_proxy). */
static void world_up_via(world_t *w, const char *name, int lease_ms, int heartbeat_ms,
                         int proxy_ms, const char *reset_pct)
{
    char why[512];
    if (hp_net_usable(why, sizeof why) != 0)
        skip(NULL, "partition case '%s': %s", name, why);
    memset(w, 0, sizeof *w);
    hp_harness_init(&w->h, name);
    snprintf(w->token, sizeof w->token, "%s",
             hp_harness_write_file(&w->h, "token", TOKEN "\n"));
    snprintf(w->lease_ms, sizeof w->lease_ms, "%d", lease_ms);
    snprintf(w->heartbeat_ms, sizeof w->heartbeat_ms, "%d", heartbeat_ms);
    snprintf(w->h.listen, sizeof w->h.listen, "%s", LISTEN);
    hp_net_build(&w->net, 3, w->h.dir);
    start_daemon(w);
    if (proxy_ms >= 0)
        start_proxy(w, proxy_ms, reset_pct);
    for (int i = 1; i <= 3; i++)
        start_worker(w, i);
    until(w, "SELECT count(*) FROM workers WHERE state = 'alive'", 3);
}

static void world_up(world_t *w, const char *name, int lease_ms, int heartbeat_ms)
{
    world_up_via(w, name, lease_ms, heartbeat_ms, -1, NULL);
}

static void world_down(world_t *w)
{
    hp_harness_fini(&w->h);
    hp_net_destroy(&w->net);
}

/* A study of `trials` external-program trials, three at a time. Each trial
 * holds while DIR/hold-W exists (W: its worker's namespace), leaving
 * DIR/held-W-N; then writes DIR/done-W-N and reports loss = x and which
 * worker ran it. */
static void submit(world_t *w, const char *name, int trials, int retries)
{
    char script[1024], path[800], spec[2048];
    snprintf(script, sizeof script,
             "#!/bin/sh\n"
             "d='%s'; n=$HPSEARCH_TRIAL_NUMBER; me=$HP_IT_WORKER\n"
             "while [ -e \"$d/hold-$me\" ]; do touch \"$d/held-$me-$n\"; sleep 0.05; done\n"
             "sleep 0.2\n"
             "touch \"$d/done-$me-$n\"\n"
             "echo \"loss=$1 worker=$me\"\n",
             w->h.dir);
    snprintf(path, sizeof path, "%s", hp_harness_write_file(&w->h, "trial.sh", script));
    snprintf(spec, sizeof spec,
             "name: %s\nobjective: {metric: loss}\n"
             "search: {algorithm: random, max_trials: %d, parallelism: 3, seed: 7}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial:\n  command: [sh, %s, '{x}']\n  retries: %d\n  timeout: 120\n",
             name, trials, path, retries);
    char sp[800];
    snprintf(sp, sizeof sp, "%s", hp_harness_write_file(&w->h, "study.yaml", spec));
    res_t r = CLI(&w->h, "--token-file", w->token, "submit", sp);
    OK(r);
    res_free(&r);
}

static long q(world_t *w, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return db_int(w->h.db, sql);
}

static void until_study_done(world_t *w, const char *study)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM studies WHERE name = '%s' AND state <> 'running'", study);
    until(w, sql, 1);
    char state[32] = "";
    snprintf(sql, sizeof sql, "SELECT state FROM studies WHERE name = '%s'", study);
    hp_harness_db_text(w->h.db, sql, state, sizeof state);
    ck_assert_str_eq(state, "completed");
}

/* Every trial of the study completed exactly once, and the database is
 * sound (hp_it.h). */
static void exactly_once(world_t *w, const char *study, long n)
{
    check_exactly_once(w->h.db, study, n);
}

/* The number of the trial worker i runs now (waiting for one that has
 * started and holds, so the cut lands mid-trial). */
static long held_trial(world_t *w, int i)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "held-%d-*", i);
    until_file(w, pattern);
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM trial_attempts a JOIN workers k ON k.id = a.worker_id "
             "WHERE a.outcome = 'running' AND json_extract(k.capabilities, '$.pid') = %d",
             (int)w->worker[i]);
    until(w, sql, 1);
    return q(w, "SELECT t.number FROM trial_attempts a JOIN trials t ON t.id = a.trial_id JOIN "
                "workers k ON k.id = a.worker_id WHERE a.outcome = 'running' AND "
                "json_extract(k.capabilities, '$.pid') = %d", (int)w->worker[i]);
}

/* Cuts worker 1 off mid-trial and waits until that attempt is lost;
 * returns the trial's number. */
static long cut_worker_mid_trial(world_t *w, const char *study)
{
    hp_harness_write_file(&w->h, "hold-1", "");
    submit(w, study, 12, 3);
    long number = held_trial(w, 1);
    ck_assert_int_ge(number, 0);
    hp_net_link(&w->net, 1, 0);
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM trial_attempts a JOIN trials t ON t.id = a.trial_id WHERE "
             "t.number = %ld AND a.attempt = 1 AND a.outcome = 'lost'", number);
    until(w, sql, 1);
    until_logged(w, "hpsearchd", w->h.daemon, "silent for");
    return number;
}

/* The trial was re-run: its completed attempt is a later one, on another
 * worker than the one cut off. */
static void rerun_elsewhere(world_t *w, long number)
{
    ck_assert_int_eq(q(w, "SELECT count(*) FROM trial_attempts a JOIN trials t ON t.id = "
                          "a.trial_id JOIN workers k ON k.id = a.worker_id WHERE t.number = %ld "
                          "AND a.outcome = 'completed' AND a.attempt > 1 AND "
                          "json_extract(k.capabilities, '$.pid') <> %d",
                       number, (int)w->worker[1]), 1);
    ck_assert_int_eq(q(w, "SELECT count(*) FROM metrics m JOIN trials t ON t.id = m.trial_id "
                          "WHERE t.number = %ld AND m.name = 'worker' AND m.value = 1", number), 0);
}

START_TEST(test_cut)
{
    world_t w;
    world_up(&w, "cut", 1500, 200);
    long number = cut_worker_mid_trial(&w, "cut");
    until_study_done(&w, "cut");
    exactly_once(&w, "cut", 12);
    rerun_elsewhere(&w, number);
    fprintf(stderr, "cut: trial %ld lost with its worker's link, re-run elsewhere; 12 of 12 "
                    "completed once\n", number);
    world_down(&w);
}
END_TEST

START_TEST(test_heal)
{
    world_t w;
    world_up(&w, "heal", 1500, 200);
    long number = cut_worker_mid_trial(&w, "heal");
    /* the cut-off trial finishes: its result waits in the worker */
    unlink(hp_harness_write_file(&w.h, "hold-1", ""));
    char pattern[64];
    snprintf(pattern, sizeof pattern, "done-1-%ld", number);
    until_file(&w, pattern);
    hp_net_link(&w.net, 1, 1);
    until_logged(&w, "hpsearchd", w.h.daemon, "refused a result for trial id");
    /* the healed worker is heard again */
    until(&w, "SELECT count(*) FROM workers WHERE state = 'alive'", 3);
    until_study_done(&w, "heal");
    exactly_once(&w, "heal", 12);
    rerun_elsewhere(&w, number);
    /* not recorded: the lost attempt stays lost, with no metric of its own */
    ck_assert_int_eq(q(&w, "SELECT count(*) FROM trial_attempts a JOIN trials t ON t.id = "
                           "a.trial_id JOIN studies s ON s.id = t.study_id WHERE s.name = "
                           "'heal' AND t.number = %ld AND a.attempt = 1 AND a.outcome = 'lost'",
                       number), 1);
    ck_assert_int_eq(q(&w, "SELECT count(*) FROM metrics m JOIN trials t ON t.id = m.trial_id "
                           "WHERE t.number = %ld AND m.attempt = 1", number), 0);
    /* and it serves again: a second study's first three trials go to the
     * three idle workers, and the refusal rides back to worker 1 with its
     * trial (the refused RESULT asked for the next one) */
    submit(&w, "heal2", 6, 3);
    until_study_done(&w, "heal2");
    exactly_once(&w, "heal2", 6);
    ck_assert_int_ge(q(&w, "SELECT count(*) FROM trial_attempts a JOIN workers k ON k.id = "
                           "a.worker_id JOIN trials t ON t.id = a.trial_id JOIN studies s ON "
                           "s.id = t.study_id WHERE s.name = 'heal2' AND a.outcome = 'completed' "
                           "AND json_extract(k.capabilities, '$.pid') = %d",
                       (int)w.worker[1]), 1);
    char needle[64];
    snprintf(needle, sizeof needle, "refused the result of trial %ld", number);
    until_logged(&w, "hpworker", w.worker[1], needle);
    fprintf(stderr, "heal: trial %ld's late result refused and not recorded; 12 of 12 "
                    "completed once\n", number);
    world_down(&w);
}
END_TEST

static void tc_netem(world_t *w, const char *ns, const char *dev)
{
    const char *tc = "/usr/sbin/tc";
    if (access(tc, X_OK) != 0)
        tc = "/sbin/tc";
    int code = hp_net_run(&w->net, (const char *[]){tc, "-n", ns, "qdisc", "add", "dev", dev,
                                                    "root", "netem", "delay", "100ms", "loss",
                                                    "5%", NULL});
    ck_assert_msg(code == 0, "tc netem on %s in %s failed; see %s", dev, ns, w->net.log);
}


/* Drops 5% of the packets each way in worker i's namespace, counting them. */
static void nft_loss(world_t *w, const char *nft, int i)
{
    const char *const *ns = hp_net_exec(&w->net, i + 1);
    char rules[1024];
    snprintf(rules, sizeof rules,
             "table inet hpit {\n"
             "  chain in {\n"
             "    type filter hook input priority 0; policy accept;\n"
             "    iifname \"%s\" numgen random mod 100 < 5 counter drop\n"
             "  }\n"
             "  chain out {\n"
             "    type filter hook output priority 0; policy accept;\n"
             "    oifname \"%s\" numgen random mod 100 < 5 counter drop\n"
             "  }\n"
             "}\n",
             w->net.wveth[i], w->net.wveth[i]);
    char name[32];
    snprintf(name, sizeof name, "loss%d.nft", i + 1);
    char path[800];
    snprintf(path, sizeof path, "%s", hp_harness_write_file(&w->h, name, rules));
    int code = hp_net_run(&w->net, (const char *[]){ns[0], ns[1], ns[2], ns[3], nft, "-f", path,
                                                    NULL});
    ck_assert_msg(code == 0, "nft -f %s failed; see %s", path, w->net.log);
}

/* Packets the loss rules dropped in worker i's namespace. */
static long nft_dropped(world_t *w, const char *nft, int i)
{
    const char *const *ns = hp_net_exec(&w->net, i + 1);
    char out[800];
    snprintf(out, sizeof out, "%s/nft%d.out", w->h.dir, i + 1);
    hp_spawn_opts_t o = {.in = "/dev/null", .out = out, .err = "/dev/null"};
    hp_spawn_wait(hp_spawn(ns[0], (const char *[]){ns[1], ns[2], ns[3], nft, "list", "table",
                                                   "inet", "hpit", NULL}, &o));
    char *text = hp_check_slurp(out, 1);
    long total = 0;
    for (const char *p = text; (p = strstr(p, "packets ")) != NULL; p += 8)
        total += strtol(p + 8, NULL, 10);
    free(text);
    return total;
}

/* What the proxy said it did (its last line, at SIGTERM). */
static char *proxy_report(world_t *w)
{
    hp_harness_kill(&w->h, w->proxy, SIGTERM);
    char *log = child_log(&w->h, "hp_delay_proxy", w->proxy);
    w->proxy = 0;
    return log;
}

START_TEST(test_latency)
{
    char why[512], netem_why[512];
    if (hp_net_usable(why, sizeof why) != 0)
        skip(NULL, "partition case 'latency': %s", why);
    world_t w;
    if (hp_net_netem_usable(netem_why, sizeof netem_why) == 0) {
        /* a lease of 20 round trips: slow links must not look like dead ones */
        world_up(&w, "latency", 4000, 400);
        for (int i = 0; i < 3; i++) {
            tc_netem(&w, w.net.worker[i], w.net.wveth[i]);
            tc_netem(&w, w.net.coord, w.net.cveth[i]);
        }
        submit(&w, "latency", 12, 10);
        until_study_done(&w, "latency");
        exactly_once(&w, "latency", 12);
        world_down(&w);
        return;
    }
    /* no netem: the delay comes from the proxy, the loss from nftables */
    const char *nft = access("/usr/sbin/nft", X_OK) == 0 ? "/usr/sbin/nft" : NULL;
    if (!nft)
        skip(NULL, "partition case 'latency': tc netem cannot run (%s), and nftables' nft, "
                   "which the proxy variant drops packets with, is not installed "
                   "(deploy/install-deps.sh installs it)",
             netem_why);
    fprintf(stderr, "latency: tc netem cannot run here (%s); using hp_delay_proxy (100 ms each "
                    "way, 1%% of chunks reset) over links dropping 5%% of packets\n",
            netem_why);
    world_up_via(&w, "latency", 4000, 400, 100, "1");
    for (int i = 0; i < 3; i++)
        nft_loss(&w, nft, i);
    submit(&w, "latency", 24, 10);
    until_study_done(&w, "latency");
    exactly_once(&w, "latency", 24);
    long dropped = 0;
    for (int i = 0; i < 3; i++)
        dropped += nft_dropped(&w, nft, i);
    /* every worker's traffic went through the proxy: the daemon saw only it */
    char *dlog = child_log(&w.h, "hpsearchd", w.h.daemon);
    HAS(dlog, "(tcp " HP_NET_COORD_ADDR ", pid");
    LACKS(dlog, "(tcp 10.77.0.11, pid");
    free(dlog);
    char *plog = proxy_report(&w);
    const char *report = strstr(plog, "hp_delay_proxy: ");
    while (report && !strstr(report, "delayed 100 ms"))
        report = strstr(report + 1, "hp_delay_proxy: ");
    ck_assert_msg(report != NULL, "the proxy printed no report:\n%s", plog);
    fprintf(stderr, "latency: %ld packets dropped on the links; %s", dropped, report);
    free(plog);
    ck_assert_int_gt(dropped, 0);
    world_down(&w);
}
END_TEST

START_TEST(test_loss)
{
    char why[512];
    if (hp_net_usable(why, sizeof why) != 0)
        skip(NULL, "partition case 'loss': %s", why);
    const char *nft = access("/usr/sbin/nft", X_OK) == 0 ? "/usr/sbin/nft" : NULL;
    if (!nft)
        skip(NULL, "partition case 'loss': nftables' nft is not installed "
                   "(deploy/install-deps.sh installs it)");
    world_t w;
    world_up(&w, "loss", 4000, 400);
    for (int i = 0; i < 3; i++)
        nft_loss(&w, nft, i);
    submit(&w, "loss", 24, 10);
    until_study_done(&w, "loss");
    exactly_once(&w, "loss", 24);
    long dropped = 0;
    for (int i = 0; i < 3; i++)
        dropped += nft_dropped(&w, nft, i);
    fprintf(stderr, "loss: %ld packets dropped on the three links; 24 of 24 completed once\n",
            dropped);
    ck_assert_int_gt(dropped, 0);
    world_down(&w);
}
END_TEST

START_TEST(test_restart)
{
    world_t w;
    world_up(&w, "restart", 1500, 200);
    submit(&w, "restart", 16, 3);
    until(&w, "SELECT count(*) FROM trials WHERE state = 'completed'", 4);
    until(&w, "SELECT count(*) FROM trials WHERE state = 'running'", 1);
    long hellos = q(&w, "SELECT count(*) FROM events WHERE kind = 'worker_hello'");
    hp_harness_kill(&w.h, w.h.daemon, SIGKILL);
    w.h.daemon = 0;
    start_daemon(&w);
    /* every worker goes on over its link under the session it had (the
     * new daemon restored them from the database): no HELLO again */
    until_logged(&w, "hpsearchd", w.h.daemon, "restored the sessions of 3 workers");
    until_study_done(&w, "restart");
    exactly_once(&w, "restart", 16);
    ck_assert_int_eq(q(&w, "SELECT count(*) FROM events WHERE kind = 'worker_hello'"), hellos);
    ck_assert_int_eq(q(&w, "SELECT count(*) FROM workers"), 3);
    for (int i = 1; i <= 3; i++)
        ck_assert_msg(waitpid(w.worker[i], NULL, WNOHANG) == 0, "worker %d exited", i);
    world_down(&w);
}
END_TEST

static void teardown(void)
{
    hp_harness_teardown();
    hp_net_teardown();
}

int main(void)
{
    Suite *s = suite_create("integration_partition");
    const struct {
        const char *name;
        const TTest *test;
    } cases[] = {{"cut", test_cut},
                 {"heal", test_heal},
                 {"latency", test_latency},
                 {"loss", test_loss},
                 {"restart", test_restart}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_test(tc, cases[i].test);
        tcase_add_checked_fixture(tc, NULL, teardown);
        suite_add_tcase(s, tc);
    }
    return hp_check_run(s);
}
