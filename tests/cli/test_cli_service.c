/*
 * The hpsearch verbs against the REAL hpsearchd (and, for `run`, the real
 * hpworker): each test gets its own temp dir with its own database and
 * ipc:// sockets, so tests can run in parallel; the daemon and every
 * hpsearch run are child processes (PR_SET_PDEATHSIG, so nothing outlives
 * the test) and are stopped and removed in teardown — also when a test
 * fails (atexit, since Check's fork mode exits the test process on a
 * failed assertion). No timing assertions: only generous alarm() guards.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "hp_blobs.h"
#include "hp_check.h"
#include "hp_spawn.h"

#include <check.h>
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GUARD_SECONDS 120

typedef struct res {
    int status; /* exit code, or 128 + signal */
    char *out, *err;
} res_t;

static char dir[256];
static char control[320], listen_url[320];
static pid_t daemon_pid = -1;
static pid_t run_pid = -1;
static pid_t worker_pid = -1; /* require_worker_connects's */
static int cleanup_registered;

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void stop_pid(pid_t *pid)
{
    if (*pid <= 0)
        return;
    kill(*pid, SIGTERM);
    for (int i = 0; i < 200; i++) { /* up to 10 s, then SIGKILL */
        if (waitpid(*pid, NULL, WNOHANG) == *pid) {
            *pid = -1;
            return;
        }
        nap_ms(50);
    }
    hp_spawn_kill(*pid, SIGKILL);
    *pid = -1;
}

static void cleanup(void)
{
    stop_pid(&run_pid);
    stop_pid(&worker_pid);
    stop_pid(&daemon_pid);
    if (*dir) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", dir);
        dir[0] = '\0';
    }
}

static void on_alarm(int sig)
{
    (void)sig;
    fprintf(stderr, "test_cli_service: guard of %d s expired; cleaning up\n", GUARD_SECONDS);
    cleanup();
    signal(SIGALRM, SIG_DFL);
    raise(SIGALRM);
}

static char *path_in(const char *name)
{
    static char p[8][512];
    static int k;
    char *r = p[k++ % 8];
    snprintf(r, sizeof p[0], "%s/%s", dir, name);
    return r;
}

/* a child's output file; one it never wrote reads as "" */
static char *slurp(const char *path) { return hp_check_slurp(path, 1); }

static void write_file(const char *name, const char *text)
{
    FILE *f = fopen(path_in(name), "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static const char *bin(const char *name)
{
    static char p[4][512];
    static int k;
    const char *b = getenv("HP_BIN_DIR");
    ck_assert_ptr_nonnull(b);
    char *r = p[k++ % 4];
    snprintf(r, sizeof p[0], "%s/%s", b, name);
    return r;
}

/* exe with stdin from /dev/null, stdout/stderr to files in dir; the child
 * dies with us */
static pid_t spawn(const char *exe, const char *const *args, const char *outp, const char *errp)
{
    hp_spawn_opts_t o = {.in = "/dev/null", .out = outp, .err = errp, .die_with_parent = 1};
    return hp_spawn(exe, args, &o);
}

/* hp runs hpsearch with args to completion (HPSEARCH_COORDINATOR is this
 * test's daemon unless the args say otherwise). */
static res_t hp(const char *const *args)
{
    pid_t pid = spawn(bin("hpsearch"), args, path_in("stdout"), path_in("stderr"));
    res_t r = {.status = hp_spawn_wait(pid)};
    r.out = slurp(path_in("stdout"));
    r.err = slurp(path_in("stderr"));
    return r;
}

static void res_free(res_t *r)
{
    free(r->out);
    free(r->err);
}

#define HP(...) hp((const char *[]){__VA_ARGS__, NULL})

#define OK(r) ck_assert_msg((r).status == 0, "exit %d: %s", (r).status, (r).err)

#define HAS(text, needle)                                                                     \
    ck_assert_msg(strstr((text), (needle)) != NULL, "expected '%s' in:\n%s", (needle), (text))

static void make_dir(void)
{
    if (!cleanup_registered) {
        atexit(cleanup);
        cleanup_registered = 1;
    }
    snprintf(dir, sizeof dir, "/tmp/hp_cli_svc.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(control, sizeof control, "ipc://%s/control.sock", dir);
    snprintf(listen_url, sizeof listen_url, "ipc://%s/workers.sock", dir);
    setenv("HPSEARCH_COORDINATOR", control, 1);
    unsetenv("HPSEARCH_TOKEN_FILE");
    /* where this test's daemons publish their token files (rundir.h) */
    char run[300];
    snprintf(run, sizeof run, "%s/run", dir);
    setenv("HPSEARCH_RUNTIME_DIR", run, 1);
    signal(SIGALRM, on_alarm);
    alarm(GUARD_SECONDS);
}

/* starts hpsearchd on dir/db (extra flags appended) and waits until its
 * control socket answers */
static void start_daemon(const char *db, const char *extra1, const char *extra2)
{
    const char *args[] = {"--db",        path_in(db), "--listen", listen_url,
                          "--control",   control,     "--log-level", "warn",
                          extra1,        extra2,      NULL};
    daemon_pid = spawn(bin("hpsearchd"), args, path_in("daemon.out"), path_in("daemon.log"));
    for (int i = 0; i < 600; i++) { /* generous: 30 s */
        if (waitpid(daemon_pid, NULL, WNOHANG) == daemon_pid) {
            daemon_pid = -1;
            char *log = slurp(path_in("daemon.log"));
            ck_abort_msg("hpsearchd exited at start:\n%s", log);
        }
        struct stat sb;
        if (stat(path_in("control.sock"), &sb) == 0) {
            res_t r = extra1 ? HP("--token-file", path_in("token"), "status")
                             : HP("status");
            int ok = r.status == 0;
            res_free(&r);
            if (ok)
                return;
        }
        nap_ms(50);
    }
    ck_abort_msg("hpsearchd did not answer on %s", control);
}

static void setup_daemon(void)
{
    make_dir();
    start_daemon("hp.db", NULL, NULL);
}

static void setup_dir(void) { make_dir(); }

static void teardown(void)
{
    alarm(0);
    cleanup();
}

static const char spec_ok[] = "name: svc\n"
                              "objective: {metric: value, goal: minimize}\n"
                              "search: {algorithm: random, max_trials: 12, parallelism: 2, seed: 5}\n"
                              "space:\n"
                              "  x1: {type: float, low: -5, high: 10}\n"
                              "  x2: {type: float, low: 0, high: 15}\n"
                              "trial: {function: branin}\n";

typedef struct {
    char *text;
} text_t;

/* text with the first `from` replaced by `to` (malloc'd) */
static text_t replace_once(const char *text, const char *from, const char *to)
{
    const char *p = strstr(text, from);
    ck_assert_ptr_nonnull(p);
    size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
    text_t r = {malloc(n)};
    snprintf(r.text, n, "%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
    return r;
}

/* ---- submit ----------------------------------------------------------- */

START_TEST(test_submit_and_status)
{
    write_file("s.yaml", spec_ok);
    res_t r = HP("submit", path_in("s.yaml"));
    OK(r);
    ck_assert_str_eq(r.out, "submitted study 'svc' (id 1)\n");
    res_free(&r);
    /* the same spec again: not an error, the study continues */
    r = HP("submit", "--format", "json", path_in("s.yaml"));
    OK(r);
    ck_assert_str_eq(r.out, "{\"study_id\":1,\"name\":\"svc\",\"existed\":true,\"notes\":[]}\n");
    res_free(&r);

    r = HP("status");
    OK(r);
    HAS(r.out, "id  name  state    done");
    HAS(r.out, "svc");
    HAS(r.out, "running");
    HAS(r.out, "0/12");
    /* every state that counts toward done has its column, so they add up */
    HAS(r.out, "completed  failed  pruned  cancelled  best");
    res_free(&r);
    r = HP("status", "--format", "csv", "svc");
    OK(r);
    ck_assert_str_eq(r.out, "id,name,state,metric,goal,max_trials,pending,running,completed,"
                            "failed,pruned,cancelled,best_value,best_number,best_params,reason\n"
                            "1,svc,running,value,minimize,12,0,0,0,0,0,0,,,,\n");
    res_free(&r);
    r = HP("status", "--format", "json", "1");
    OK(r);
    HAS(r.out, "\"name\":\"svc\"");
    HAS(r.out, "\"best_params\":null");
    res_free(&r);
    r = HP("status", "nope");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "hpsearch status: no study named 'nope' (ENOENT)");
    res_free(&r);
}
END_TEST

START_TEST(test_submit_invalid_prints_every_error)
{
    write_file("bad.yaml", "name: bad\n"
                           "objective: {metric: value, goal: sideways}\n"
                           "search: {algorithm: random, max_trials: 5}\n"
                           "space:\n"
                           "  x1: {type: float, low: 10, high: -5}\n"
                           "  x2: {type: float, low: 0, high: 15}\n"
                           "trial: {function: branin}\n");
    res_t r = HP("submit", path_in("bad.yaml"));
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "bad.yaml:2: objective.goal: unknown goal 'sideways'");
    HAS(r.err, "bad.yaml:5: space.x1.low: must be < high");
    /* x1 is reported once, not also as missing from branin's inputs */
    ck_assert_msg(strstr(r.err, "x1 is missing") == NULL, "%s", r.err);
    HAS(r.err, "is not a valid study spec (2 problems); nothing was submitted");
    ck_assert_str_eq(r.out, "");
    res_free(&r);
    /* nothing reached the daemon */
    r = HP("sql", "--format", "csv", "SELECT count(*) AS n FROM studies");
    OK(r);
    ck_assert_str_eq(r.out, "n\n0\n");
    res_free(&r);
    /* a missing file */
    r = HP("submit", path_in("missing.yaml"));
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "missing.yaml");
    res_free(&r);
}
END_TEST

START_TEST(test_submit_same_name_other_spec)
{
    write_file("s.yaml", spec_ok);
    res_t r = HP("submit", path_in("s.yaml"));
    OK(r);
    res_free(&r);
    /* the seed is not a thing a study can change (max_trials is: test_grow) */
    text_t other = replace_once(spec_ok, "seed: 5", "seed: 6");
    write_file("other.yaml", other.text);
    free(other.text);
    r = HP("submit", path_in("other.yaml"));
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "hpsearch submit: a study named 'svc' already exists (id 1) with a different spec");
    HAS(r.err, "it differs in search.seed (5 vs 6)");
    HAS(r.err, "(EEXIST)");
    res_free(&r);
}
END_TEST

/* ---- cancel / wait ------------------------------------------------------ */

START_TEST(test_cancel_and_wait)
{
    write_file("s.yaml", spec_ok);
    res_t r = HP("submit", path_in("s.yaml"));
    OK(r);
    res_free(&r);
    /* no workers: the study sits running; a short wait times out */
    r = HP("wait", "--timeout", "0.3", "--interval", "0.1", "svc");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "hpsearch wait: timed out after 0.3 s: study 'svc' is still running (0/12");
    res_free(&r);

    r = HP("cancel", "svc");
    OK(r);
    HAS(r.out, "study 'svc' cancelled: ");
    res_free(&r);
    r = HP("cancel", "svc");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "hpsearch cancel: study 'svc' is already cancelled (ESTATE)");
    res_free(&r);
    r = HP("cancel", "nope");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "hpsearch cancel: no study named 'nope' (ENOENT)");
    res_free(&r);

    r = HP("status", "--format", "csv", "svc");
    HAS(r.out, "1,svc,cancelled,");
    res_free(&r);
    r = HP("wait", "svc");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "study 'svc' cancelled: 0/12 trials done");
    res_free(&r);
    r = HP("wait", "nope");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "no study named 'nope'");
    res_free(&r);
    r = HP("best", "svc");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "hpsearch best: study 'svc' has no completed trial yet (it is cancelled)");
    res_free(&r);
    r = HP("trials", "svc");
    OK(r);
    ck_assert_str_eq(r.out, "study 'svc' has no trials yet\n");
    res_free(&r);
}
END_TEST

/* ---- workers ------------------------------------------------------------ */

START_TEST(test_workers_empty)
{
    res_t r = HP("workers");
    OK(r);
    ck_assert_str_eq(r.out, "no workers connected\n");
    res_free(&r);
    r = HP("workers", "--format", "json");
    OK(r);
    ck_assert_str_eq(r.out, "[]\n");
    res_free(&r);
    r = HP("workers", "--format", "csv");
    OK(r);
    ck_assert_str_eq(r.out, "id,host,pid,slots,running,last_seen_s,state\n");
    res_free(&r);
}
END_TEST

/* ---- sql ---------------------------------------------------------------- */

static const char small_query[] =
    "SELECT 1 AS a, 'x,y' AS b, NULL AS c, 1.5 AS d, 'say \"hi\"' AS e "
    "UNION ALL SELECT 2, 'z', 3, -0.25, ''";

static void check_small_query(const char *db)
{
    const char *dbf = db ? "--db" : "--format";
    char dbv[512]; /* path_in's buffers are reused */
    snprintf(dbv, sizeof dbv, "%s", db ? db : "table");
    res_t r = HP("sql", dbf, dbv, "--format", "csv", small_query);
    OK(r);
    ck_assert_str_eq(r.out, "a,b,c,d,e\n"
                            "1,\"x,y\",,1.5,\"say \"\"hi\"\"\"\n"
                            "2,z,3,-0.25,\n");
    res_free(&r);
    r = HP("sql", dbf, dbv, "--format", "json", small_query);
    OK(r);
    ck_assert_str_eq(r.out, "[\n"
                            "{\"a\":1,\"b\":\"x,y\",\"c\":null,\"d\":1.5,\"e\":\"say \\\"hi\\\"\"},\n"
                            "{\"a\":2,\"b\":\"z\",\"c\":3,\"d\":-0.25,\"e\":\"\"}\n"
                            "]\n");
    res_free(&r);
    r = HP("sql", dbf, dbv, "--format", "table", small_query);
    OK(r);
    ck_assert_str_eq(r.out, "a  b    c  d      e\n"
                            "1  x,y     1.5    say \"hi\"\n"
                            "2  z    3  -0.25\n");
    res_free(&r);
    r = HP("sql", dbf, dbv, "--format", "json", "SELECT name FROM studies WHERE 0");
    OK(r);
    ck_assert_str_eq(r.out, "[]\n");
    res_free(&r);
    /* writes are refused, and nothing changes */
    r = HP("sql", dbf, dbv, "DELETE FROM studies");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "hpsearch sql: only read-only statements are allowed here; refused: DELETE FROM "
               "studies");
    res_free(&r);
    r = HP("sql", dbf, dbv, "SELECT 1; DROP TABLE trials");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "read-only");
    res_free(&r);
    r = HP("sql", dbf, dbv, "--format", "csv", "SELECT name FROM studies");
    OK(r);
    ck_assert_str_eq(r.out, "name\nsvc\n");
    res_free(&r);
    r = HP("sql", dbf, dbv, "SELECT nope FROM nowhere");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "no such table: nowhere");
    res_free(&r);
    r = HP("sql", dbf, dbv, "--max-rows", "1", "--format", "csv", small_query);
    OK(r);
    ck_assert_str_eq(r.out, "a,b,c,d,e\n1,\"x,y\",,1.5,\"say \"\"hi\"\"\"\n");
    HAS(r.err, "output cut after 1 rows");
    res_free(&r);
}

START_TEST(test_sql_via_coordinator)
{
    write_file("s.yaml", spec_ok);
    res_t r = HP("submit", path_in("s.yaml"));
    OK(r);
    res_free(&r);
    check_small_query(NULL);
}
END_TEST

START_TEST(test_sql_db_direct)
{
    write_file("s.yaml", spec_ok);
    res_t r = HP("submit", path_in("s.yaml"));
    OK(r);
    res_free(&r);
    /* read the file while the daemon has it open (WAL readers) */
    check_small_query(path_in("hp.db"));
    /* and after it stopped: no daemon needed */
    stop_pid(&daemon_pid);
    r = HP("sql", "--db", path_in("hp.db"), "--format", "csv", "SELECT id, name, state FROM studies");
    OK(r);
    ck_assert_str_eq(r.out, "id,name,state\n1,svc,running\n");
    res_free(&r);
    r = HP("sql", "--db", path_in("missing.db"), "SELECT 1");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "missing.db");
    res_free(&r);
}
END_TEST

/* ---- errors: unreachable coordinator, usage, token ---------------------- */

START_TEST(test_unreachable_coordinator)
{
    char url[400];
    snprintf(url, sizeof url, "ipc://%s/nobody.sock", dir);
    const char *verbs[][3] = {
        {"status", NULL, NULL}, {"workers", NULL, NULL}, {"cancel", "svc", NULL},
        {"wait", "svc", NULL},  {"trials", "svc", NULL}, {"best", "svc", NULL},
        {"sql", "SELECT 1", NULL},
    };
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        res_t r = HP("--coordinator", url, verbs[i][0], verbs[i][1]);
        ck_assert_msg(r.status == 1, "%s: exit %d", verbs[i][0], r.status);
        char want[600];
        snprintf(want, sizeof want, "hpsearch %s: cannot reach the coordinator at %s: ",
                 verbs[i][0], url);
        HAS(r.err, want);
        HAS(r.err, "(is hpsearchd running? see --coordinator)");
        ck_assert_int_eq((int)(strchr(r.err, '\n') - r.err) + 1, (int)strlen(r.err)); /* one line */
        res_free(&r);
    }
    write_file("s.yaml", spec_ok);
    res_t r = HP("--coordinator", url, "submit", path_in("s.yaml"));
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "cannot reach the coordinator");
    res_free(&r);
    /* the environment variable is the default */
    setenv("HPSEARCH_COORDINATOR", url, 1);
    r = HP("status");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, url);
    res_free(&r);
    r = HP("--coordinator", "bogus://x", "status");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "'bogus://x' is not a coordinator URL");
    res_free(&r);
}
END_TEST

START_TEST(test_usage_errors)
{
    static const char *const verbs[] = {"run",   "submit", "status",  "trials", "best",
                                        "wait",  "cancel", "workers", "sql"};
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        res_t r = HP(verbs[i], "--help");
        OK(r);
        char want[64];
        snprintf(want, sizeof want, "usage: hpsearch %s", verbs[i]);
        ck_assert_msg(strncmp(r.out, want, strlen(want)) == 0, "%s --help:\n%s", verbs[i], r.out);
        res_free(&r);
        r = HP(verbs[i], "--no-such-flag", "x");
        ck_assert_msg(r.status == 2, "%s --no-such-flag: exit %d", verbs[i], r.status);
        HAS(r.err, "unknown option '--no-such-flag'");
        res_free(&r);
    }
    res_t r = HP("--help");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        HAS(r.out, verbs[i]);
    res_free(&r);
    const char *const *bad[] = {
        (const char *[]){"frobnicate", NULL},
        (const char *[]){"trials", NULL},
        (const char *[]){"best", NULL},
        (const char *[]){"cancel", NULL},
        (const char *[]){"wait", NULL},
        (const char *[]){"sql", NULL},
        (const char *[]){"submit", NULL},
        (const char *[]){"run", NULL},
        (const char *[]){"status", "a", "b", NULL},
        (const char *[]){"sql", "--format", "xml", "SELECT 1", NULL},
        (const char *[]){"trials", "--state", "sleeping", "svc", NULL},
        (const char *[]){"trials", "--sort", "random", "svc", NULL},
        (const char *[]){"trials", "--limit", "0", "svc", NULL},
        (const char *[]){"wait", "--timeout", "soon", "svc", NULL},
        (const char *[]){"run", "--workers", "0", "s.yaml", NULL},
        (const char *[]){"run", "--workers", NULL},
        (const char *[]){"submit", "--format", "csv", "s.yaml", NULL},
        (const char *[]){"--coordinator", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        res_t b = hp(bad[i]);
        ck_assert_msg(b.status == 2, "'%s %s': exit %d (%s)", bad[i][0], bad[i][1] ? bad[i][1] : "",
                      b.status, b.err);
        ck_assert_str_eq(b.out, "");
        ck_assert_int_gt((int)strlen(b.err), 0);
        res_free(&b);
    }
}
END_TEST

START_TEST(test_token_required)
{
    write_file("token", "0123456789abcdef0123456789abcdef\n");
    chmod(path_in("token"), 0600);
    start_daemon("hp.db", "--token-file", path_in("token"));
    /* no flag: the CLI finds the file the daemon published */
    write_file("s.yaml", spec_ok);
    res_t r = HP("submit", path_in("s.yaml"));
    OK(r);
    res_free(&r);
    /* a CLI that finds no token may read, on a local socket, and nothing more */
    char run[300];
    snprintf(run, sizeof run, "%s", getenv("HPSEARCH_RUNTIME_DIR"));
    setenv("HPSEARCH_RUNTIME_DIR", path_in("elsewhere"), 1);
    r = HP("status");
    OK(r);
    res_free(&r);
    r = HP("cancel", "svc");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "hpsearch cancel: missing auth token: CANCEL_STUDY needs the daemon's token (it "
               "changes state) (EAUTH); no token found for ipc://");
    /* it says how to give the token */
    HAS(r.err, "pass --token-file FILE (hpsearchd --token-file, or DB.token beside its "
               "database) or set $HPSEARCH_TOKEN_FILE\n");
    res_free(&r);
    write_file("other-token", "not the daemon's token\n");
    r = HP("--token-file", path_in("other-token"), "trials", "svc");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "hpsearch trials: wrong auth token (EAUTH); the token in ");
    HAS(r.err, "/other-token is not the daemon's: give its token file (hpsearchd --token-file, "
               "or DB.token beside its database) with --token-file FILE or "
               "$HPSEARCH_TOKEN_FILE\n");
    res_free(&r);
    r = HP("--token-file", path_in("token"), "cancel", "svc");
    OK(r);
    res_free(&r);
    setenv("HPSEARCH_TOKEN_FILE", path_in("token"), 1);
    r = HP("workers");
    OK(r);
    res_free(&r);
    r = HP("--token-file", path_in("no-token"), "status");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "cannot read the token file");
    res_free(&r);
    setenv("HPSEARCH_RUNTIME_DIR", run, 1);
    unsetenv("HPSEARCH_TOKEN_FILE");
}
END_TEST

/* ---- run ---------------------------------------------------------------- */

/* The `run` tests need an hpworker that connects to a coordinator; this
 * checks that on its own first (a daemon on this test's sockets, one
 * `hpworker --connect`, until `hpsearch workers` lists its pid), so that a
 * worker that crashes or no longer takes these flags fails here, quoting
 * its output, rather than as a run that hangs until the guard. A worker
 * that cannot connect fails the test: it is what these tests are for.
 * Leaves neither process running. */
static void require_worker_connects(void)
{
    start_daemon("probe.db", NULL, NULL);
    const char *args[] = {"--connect", listen_url, "--slots", "1", NULL}; /* as `run` starts it */
    worker_pid = spawn(bin("hpworker"), args, path_in("probe-worker.out"),
                       path_in("probe-worker.err"));
    char row[64];
    snprintf(row, sizeof row, ",%d,1,", (int)worker_pid); /* ...,host,PID,SLOTS,... */
    int listed = 0;
    for (int i = 0; i < 600 && !listed; i++) { /* generous: 30 s */
        int st;
        if (waitpid(worker_pid, &st, WNOHANG) == worker_pid) {
            worker_pid = -1;
            char *o = slurp(path_in("probe-worker.out")), *e = slurp(path_in("probe-worker.err"));
            ck_abort_msg("`hpworker --connect %s` exited (status %d) before it connected; "
                         "the `run` tests cannot pass without a worker:\n%s%s",
                         listen_url, hp_spawn_code(st), o, e);
        }
        res_t r = HP("workers", "--format", "csv");
        listed = r.status == 0 && strstr(r.out, row) != NULL;
        res_free(&r);
        if (!listed)
            nap_ms(50);
    }
    if (!listed) {
        char *e = slurp(path_in("probe-worker.err"));
        ck_abort_msg("`hpworker --connect %s` did not connect within 30 s; the `run` tests "
                     "cannot pass without a worker. Its stderr:\n%s",
                     listen_url, e);
    }
    stop_pid(&worker_pid);
    stop_pid(&daemon_pid);
}

/* processes reparented to us (we are a subreaper) that are still alive */
static int leftover_children(void)
{
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    int n = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char p[300];
        snprintf(p, sizeof p, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(p, "r");
        if (!f)
            continue;
        char buf[1024];
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        char *rp = strrchr(buf, ')');
        char state;
        int ppid;
        if (rp && sscanf(rp + 1, " %c %d", &state, &ppid) == 2 && ppid == getpid() &&
            state != 'Z' && atoi(e->d_name) != daemon_pid) {
            fprintf(stderr, "leftover process %s: %s\n", e->d_name, buf);
            kill(atoi(e->d_name), SIGKILL);
            n++;
        }
    }
    if (d)
        closedir(d);
    return n;
}

START_TEST(test_run_trials_best)
{
    require_worker_connects();
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    write_file("s.yaml", spec_ok);
    res_t r = HP("run", path_in("s.yaml"), "--workers", "2", "--db", path_in("run.db"));
    ck_assert_msg(r.status == 0, "run: exit %d\n%s", r.status, r.err);
    HAS(r.err, "running study 'svc' (id 1)");
    HAS(r.out, "study 'svc' completed: 12/12 trials done (12 completed, 0 failed");
    HAS(r.out, "best trial ");
    HAS(r.out, "params {\"x1\":");
    res_free(&r);
    ck_assert_int_eq(leftover_children(), 0);

    /* every trial is stored */
    r = HP("sql", "--db", path_in("run.db"), "--format", "csv",
           "SELECT state, count(*) AS n, count(value) AS v FROM trials GROUP BY state");
    OK(r);
    ck_assert_str_eq(r.out, "state,n,v\ncompleted,12,12\n");
    res_free(&r);

    /* the two local workers share this machine's CPUs: each its half, so
     * their BLAS threads (cores / slots) do not oversubscribe it */
    cpu_set_t set;
    ck_assert_int_eq(sched_getaffinity(0, sizeof set, &set), 0);
    int half = CPU_COUNT(&set) / 2 > 0 ? CPU_COUNT(&set) / 2 : 1;
    r = HP("sql", "--db", path_in("run.db"), "--format", "csv",
           "SELECT count(*) AS n, min(cores) AS lo, max(cores) AS hi FROM workers");
    OK(r);
    char want_cores[64];
    snprintf(want_cores, sizeof want_cores, "n,lo,hi\n2,%d,%d\n", half, half);
    ck_assert_str_eq(r.out, want_cores);
    res_free(&r);

    r = HP("trials", "--db", path_in("run.db"), "--format", "csv", "svc");
    OK(r);
    /* a column per parameter after the fixed ones (issue 12 added them) */
    static const char head[] = "number,state,value,params,error,started,ended,duration_s,"
                               "attempts,diagnosis,pruned_step,param_x1,param_x2\n0,completed,";
    ck_assert_msg(strncmp(r.out, head, strlen(head)) == 0, "%s", r.out);
    int lines = 0;
    for (const char *p = r.out; *p; p++)
        lines += *p == '\n';
    ck_assert_int_eq(lines, 13);
    res_free(&r);

    /* best == the smallest value; also through a coordinator on that db */
    r = HP("sql", "--db", path_in("run.db"), "--format", "csv",
           "SELECT number, value FROM trials ORDER BY value, number LIMIT 1");
    char want[256];
    unsigned num;
    char val[64];
    ck_assert_int_eq(sscanf(r.out, "number,value\n%u,%63s", &num, val), 2);
    res_free(&r);
    start_daemon("run.db", NULL, NULL);
    r = HP("best", "--format", "json", "svc");
    OK(r);
    snprintf(want, sizeof want, "\"goal\":\"minimize\",\"number\":%u,\"value\":%s,\"params\":{",
             num, val);
    HAS(r.out, want);
    res_free(&r);
    r = HP("best", "svc");
    OK(r);
    snprintf(want, sizeof want, "trial   %u\nvalue   %s\nparams  {", num, val);
    HAS(r.out, want);
    res_free(&r);
    r = HP("trials", "--sort", "value", "--limit", "1", "--format", "json", "1");
    OK(r);
    snprintf(want, sizeof want, "{\"number\":%u,\"state\":\"completed\",\"value\":%s,\"params\":{",
             num, val);
    HAS(r.out, want);
    HAS(r.out, "\"attempts\":1");
    res_free(&r);
    r = HP("trials", "--state", "failed,cancelled", "svc");
    OK(r);
    ck_assert_str_eq(r.out, "study 'svc' has no failed,cancelled trials yet\n");
    res_free(&r);
    r = HP("wait", "svc");
    OK(r);
    HAS(r.out, "study 'svc' completed: 12/12 trials done");
    res_free(&r);
    stop_pid(&daemon_pid);

    /* the same spec on the same database resumes (here: is already done) */
    r = HP("run", path_in("s.yaml"), "--db", path_in("run.db"));
    OK(r);
    HAS(r.err, "resuming study 'svc' (id 1)");
    HAS(r.out, "12/12 trials done");
    res_free(&r);
    ck_assert_int_eq(leftover_children(), 0);
}
END_TEST

/* a sanity check that can only warn (20 classes, one batch of 32: too
 * few per class to tell shuffled labels from a small batch) lets the
 * study run, and `run` shows the warning with the study's result */
START_TEST(test_run_shows_sanity_warning)
{
    require_worker_connects();
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    ck_assert_int_eq(hp_blobs_write(path_in("b20.csv"), 3000, 64, 20, 1, 3), 0);
    char spec[1024];
    snprintf(spec, sizeof spec,
             "name: warned\nobjective: {metric: val_error}\n"
             "search: {algorithm: random, max_trials: 2}\n"
             "space:\n  hidden: {type: int, low: 16, high: 32}\n"
             "trial:\n  model: mlp\n  dataset: %s\n  epochs: 1\n",
             path_in("b20.csv"));
    write_file("w.yaml", spec);
    res_t r = HP("run", path_in("w.yaml"), "--workers", "1", "--db", path_in("w.db"));
    ck_assert_msg(r.status == 0, "run: exit %d\n%s\n%s", r.status, r.out, r.err);
    HAS(r.out, "study 'warned' completed: 2/2 trials done");
    HAS(r.out, "sanity check (overfit one batch) passed with a warning, held out: accuracy ");
    HAS(r.out, "one batch of 32 examples is too few to learn anything general about 20 classes");
    res_free(&r);
    /* the sound study of test_run_trials_best's kind says nothing of it */
    write_file("s.yaml", spec_ok);
    r = HP("run", path_in("s.yaml"), "--workers", "1", "--db", path_in("s.db"));
    OK(r);
    ck_assert_msg(strstr(r.out, "sanity check") == NULL, "%s", r.out);
    res_free(&r);
    ck_assert_int_eq(leftover_children(), 0);
}
END_TEST

START_TEST(test_run_interrupted_keeps_results)
{
    require_worker_connects();
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    text_t spec = replace_once(spec_ok, "max_trials: 12", "max_trials: 9999999");
    write_file("long.yaml", spec.text);
    free(spec.text);
    const char *args[] = {"run", path_in("long.yaml"), "--workers", "2", "--db",
                          path_in("run.db"), NULL};
    run_pid = spawn(bin("hpsearch"), args, path_in("run.out"), path_in("run.err"));
    /* wait until some results are stored, then Ctrl-C */
    long before = 0;
    for (int i = 0; i < 1200 && before < 5; i++) {
        nap_ms(50);
        ck_assert_msg(waitpid(run_pid, NULL, WNOHANG) == 0, "run ended early:\n%s",
                      slurp(path_in("run.err")));
        res_t r = HP("sql", "--db", path_in("run.db"), "--format", "csv",
                     "SELECT count(*) AS n FROM trials WHERE state = 'completed'");
        if (r.status == 0)
            before = strtol(r.out + 2, NULL, 10);
        res_free(&r);
    }
    ck_assert_int_ge(before, 5);
    kill(run_pid, SIGINT);
    int st = hp_spawn_wait(run_pid);
    run_pid = -1;
    char *err = slurp(path_in("run.err"));
    ck_assert_msg(st == 130, "exit %d:\n%s", st, err);
    HAS(err, "Interrupt; stopping the workers and the coordinator");
    free(err);
    ck_assert_int_eq(leftover_children(), 0);

    res_t r = HP("sql", "--db", path_in("run.db"), "--format", "csv",
                 "SELECT count(*) AS n FROM trials WHERE state = 'completed'");
    OK(r);
    ck_assert_int_ge(strtol(r.out + 2, NULL, 10), before);
    res_free(&r);
}
END_TEST

/* Ctrl-C of `run` while a program is handling SIGTERM slowly: the workers
 * give it trial.kill_grace to exit on its own, and run waits for them that
 * long (and a margin) before SIGKILLing them; it used to wait 5 s, less
 * than the default grace of 10 s, so a program taking 5-10 s to save its
 * state was killed with its workers. */
START_TEST(test_run_interrupt_waits_kill_grace)
{
    require_worker_connects();
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    char spec[2048];
    snprintf(spec, sizeof spec,
             "name: slowterm\nobjective: {metric: loss}\n"
             "search: {algorithm: random, max_trials: 1}\n"
             "space:\n  x: {type: float, low: 0, high: 1}\n"
             "trial:\n  kill_grace: 20\n  command: [sh, -c, \"trap 'sleep 7; echo clean > %s; "
             "exit 0' TERM; echo up > %s; while :; do sleep 0.1; done\"]\n",
             path_in("clean"), path_in("up"));
    write_file("slowterm.yaml", spec);
    const char *args[] = {"run", path_in("slowterm.yaml"), "--workers", "1", "--db",
                          path_in("slowterm.db"), NULL};
    run_pid = spawn(bin("hpsearch"), args, path_in("st.out"), path_in("st.err"));
    for (int i = 0; i < 6000 && access(path_in("up"), F_OK) != 0; i++) {
        nap_ms(50);
        ck_assert_msg(waitpid(run_pid, NULL, WNOHANG) == 0, "run ended early:\n%s",
                      slurp(path_in("st.err")));
    }
    ck_assert_int_eq(access(path_in("up"), F_OK), 0);
    kill(run_pid, SIGINT);
    int st = hp_spawn_wait(run_pid);
    run_pid = -1;
    char *err = slurp(path_in("st.err"));
    ck_assert_msg(st == 130, "exit %d:\n%s", st, err);
    free(err);
    /* the program finished its SIGTERM handler: nobody SIGKILLed it */
    ck_assert_msg(access(path_in("clean"), F_OK) == 0,
                  "the program was killed before its 7-s SIGTERM handler ended");
    ck_assert_int_eq(leftover_children(), 0);
}
END_TEST

/* A second Ctrl-C while run stops skips the grace periods; the kill it
 * asked for is said calmly, never reported as the coordinator failing. */
START_TEST(test_run_second_interrupt_is_no_failure)
{
    require_worker_connects();
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    text_t spec = replace_once(spec_ok, "max_trials: 12", "max_trials: 9999999");
    write_file("long2.yaml", spec.text);
    free(spec.text);
    const char *args[] = {"run", path_in("long2.yaml"), "--workers", "2", "--db",
                          path_in("run2.db"), NULL};
    run_pid = spawn(bin("hpsearch"), args, path_in("run2.out"), path_in("run2.err"));
    /* Ctrl-C once the study runs, again once run says it is stopping */
    int running = 0;
    for (int i = 0; i < 1200 && !running; i++) {
        nap_ms(50);
        ck_assert_msg(waitpid(run_pid, NULL, WNOHANG) == 0, "run ended early:\n%s",
                      slurp(path_in("run2.err")));
        char *e = slurp(path_in("run2.err"));
        running = strstr(e, "running study 'svc'") != NULL;
        free(e);
    }
    ck_assert(running);
    kill(run_pid, SIGINT);
    int stopping = 0;
    for (int i = 0; i < 1200 && !stopping; i++) {
        char *e = slurp(path_in("run2.err"));
        stopping = strstr(e, "Interrupt; stopping") != NULL;
        free(e);
        if (!stopping)
            nap_ms(5);
    }
    ck_assert(stopping);
    kill(run_pid, SIGINT);
    int st = hp_spawn_wait(run_pid);
    run_pid = -1;
    char *err = slurp(path_in("run2.err"));
    ck_assert_msg(st == 130, "exit %d:\n%s", st, err);
    ck_assert_msg(strstr(err, "while stopping") == NULL, "%s", err);
    ck_assert_msg(strstr(err, "last lines of its log") == NULL, "%s", err);
    free(err);
    ck_assert_int_eq(leftover_children(), 0);
}
END_TEST

/* the pid of parent's child whose command name is comm, or -1 */
static pid_t child_named(pid_t parent, const char *comm)
{
    pid_t found = -1;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL && found < 0) {
        char p[300], buf[1024];
        snprintf(p, sizeof p, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(p, "r");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        char *lp = strchr(buf, '('), *rp = strrchr(buf, ')');
        char state;
        int ppid;
        if (lp && rp && sscanf(rp + 1, " %c %d", &state, &ppid) == 2 && ppid == parent &&
            (size_t)(rp - lp - 1) == strlen(comm) && strncmp(lp + 1, comm, strlen(comm)) == 0)
            found = atoi(e->d_name);
    }
    if (d)
        closedir(d);
    return found;
}

START_TEST(test_run_reports_dead_coordinator)
{
    require_worker_connects();
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    text_t spec = replace_once(spec_ok, "max_trials: 12", "max_trials: 9999999");
    write_file("long.yaml", spec.text);
    free(spec.text);
    const char *args[] = {"run", path_in("long.yaml"), "--workers", "1", "--db",
                          path_in("run.db"), NULL};
    run_pid = spawn(bin("hpsearch"), args, path_in("run.out"), path_in("run.err"));
    pid_t d = -1;
    for (int i = 0; i < 1200; i++) { /* until the study runs (generous: 60 s) */
        nap_ms(50);
        ck_assert_msg(waitpid(run_pid, NULL, WNOHANG) == 0, "run ended early:\n%s",
                      slurp(path_in("run.err")));
        char *err = slurp(path_in("run.err"));
        int started = strstr(err, "running study 'svc'") != NULL;
        free(err);
        if (started && (d = child_named(run_pid, "hpsearchd")) > 0)
            break;
    }
    ck_assert_int_gt(d, 0);
    kill(d, SIGKILL);
    int st = hp_spawn_wait(run_pid);
    run_pid = -1;
    char *err = slurp(path_in("run.err"));
    ck_assert_msg(st == 1, "exit %d:\n%s", st, err);
    char want[128];
    snprintf(want, sizeof want, "hpsearch run: the coordinator (hpsearchd, pid %d) was killed by "
                                "signal 9", (int)d);
    HAS(err, want);
    free(err);
    ck_assert_int_eq(leftover_children(), 0);
}
END_TEST

START_TEST(test_run_errors)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    write_file("bad.yaml", "name: bad\nobjective: {metric: value}\n");
    res_t r = HP("run", path_in("bad.yaml"));
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "hpsearch run: ");
    HAS(r.err, "is not a valid study spec");
    res_free(&r);
    /* a coordinator that cannot start: its exit status and log are shown */
    write_file("s.yaml", spec_ok);
    r = HP("run", path_in("s.yaml"), "--db", "/nonexistent-dir/x.db");
    ck_assert_int_eq(r.status, 1);
    HAS(r.err, "hpsearch run: the coordinator (hpsearchd, pid ");
    HAS(r.err, "exited with status");
    HAS(r.err, "/nonexistent-dir/x.db");
    res_free(&r);
    ck_assert_int_eq(leftover_children(), 0);
}
END_TEST

static Suite *service_suite(void)
{
    Suite *s = suite_create("cli_service");
    TCase *tc = tcase_create("daemon");
    tcase_add_checked_fixture(tc, setup_daemon, teardown);
    tcase_add_test(tc, test_submit_and_status);
    tcase_add_test(tc, test_submit_invalid_prints_every_error);
    tcase_add_test(tc, test_submit_same_name_other_spec);
    tcase_add_test(tc, test_cancel_and_wait);
    tcase_add_test(tc, test_workers_empty);
    tcase_add_test(tc, test_sql_via_coordinator);
    tcase_add_test(tc, test_sql_db_direct);
    suite_add_tcase(s, tc);

    TCase *tn = tcase_create("no_daemon");
    tcase_add_checked_fixture(tn, setup_dir, teardown);
    tcase_add_test(tn, test_unreachable_coordinator);
    tcase_add_test(tn, test_usage_errors);
    tcase_add_test(tn, test_token_required);
    tcase_add_test(tn, test_run_errors);
    tcase_add_test(tn, test_run_trials_best);
    tcase_add_test(tn, test_run_shows_sanity_warning);
    tcase_add_test(tn, test_run_interrupted_keeps_results);
    tcase_add_test(tn, test_run_second_interrupt_is_no_failure);
    tcase_add_test(tn, test_run_interrupt_waits_kill_grace);
    tcase_add_test(tn, test_run_reports_dead_coordinator);
    suite_add_tcase(s, tn);
    return s;
}

int main(void)
{
    return hp_check_run(service_suite());
}
