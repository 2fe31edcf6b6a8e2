/* `hpworker --connect URL --slots N ...`: run the agent until SIGTERM or
 * SIGINT, or until it leaves by itself (--exit-when-idle, --max-trials).
 * The URL, token file and slots also come from HPSEARCH_COORDINATOR,
 * HPSEARCH_TOKEN_FILE and HPSEARCH_SLOTS (flags win); with no slot count
 * the slots are the CPUs the scheduler granted (cpus.h). The handler only writes the signal number to a pipe; a thread
 * reading it asks the agent to stop. (Blocking the signals and sigwait()ing
 * is not enough: OpenBLAS starts its threads before main, with the signals
 * unblocked, and the default action would kill the process.) */

#define _GNU_SOURCE /* pipe2 */
#include "agent.h"
#include "cmd.h"
#include "cpus.h"

#include "err.h"
#include "log.h"
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fputs("usage: hpworker --connect URL [--slots N] [--cores N] [--token-file PATH]\n"
          "                [--exit-when-idle S] [--max-trials N] [--heartbeat-ms MS] [--kill-grace-ms MS]\n"
          "                [--log-level error|warn|info|debug]\n"
          "                [--tls-ca FILE --tls-cert FILE --tls-key FILE]\n\n"
          "  --connect URL         the coordinator's worker socket (hpsearchd --listen);\n"
          "                        default $HPSEARCH_COORDINATOR\n"
          "  --slots N             trials run at once (1..1024); default $HPSEARCH_SLOTS, else\n"
          "                        the CPUs granted: SLURM_CPUS_ON_NODE, the cgroup CPU quota,\n"
          "                        or the CPU affinity mask\n"
          "  --cores N             use at most N of the CPUs granted (1..1024): its slots share\n"
          "                        them, BLAS threads per trial = cores / slots (workers that\n"
          "                        share a machine: each its part of it)\n"
          "  --token-file PATH     the coordinator's token file; default $HPSEARCH_TOKEN_FILE,\n"
          "                        else the one it published for URL on this host\n"
          "  --exit-when-idle S    leave (exit 0) after S seconds without a trial to run\n"
          "  --max-trials N        leave (exit 0) once N trials have been run\n"
          "  --heartbeat-ms MS     heartbeat at least this often (default: the coordinator's)\n"
          "  --kill-grace-ms MS    external programs: SIGTERM, then SIGKILL after MS (default 5000)\n"
          "  --tls-ca FILE         tls+tcp://: the CA that signed the coordinator's certificate\n"
          "  --tls-cert FILE       tls+tcp://: this worker's certificate (hpsearch certs issue)\n"
          "  --tls-key FILE        tls+tcp://: its key\n"
          "  --log-level L         default info\n"
          "flags win over the environment\n",
          f);
}

/* what names a setting in an error: the flag, or the variable it came from */
static int read_token(const char *what, const char *path, char **out)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "hpworker: %s %s: %s\n", what, path, strerror(errno));
        return -1;
    }
    char buf[2048];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    int big = !feof(f);
    fclose(f);
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    if (big || n == 0 || n > 1024) {
        fprintf(stderr, "hpworker: %s %s: the token must be 1..1024 bytes on one line\n", what,
                path);
        return -1;
    }
    *out = strdup(buf);
    return *out ? 0 : -1;
}

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t r = write(sig_pipe[1], &b, 1);
    (void)r;
    errno = saved;
}

static void *sig_main(void *arg)
{
    hp_agent_t *a = arg;
    for (;;) {
        unsigned char b;
        ssize_t r = read(sig_pipe[0], &b, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || b == 0) /* 0: the agent has finished */
            return NULL;
        hp_log_info("%s: stopping (running trials are interrupted: they go back to pending and "
                    "run again)",
                    b == SIGINT ? "SIGINT" : "SIGTERM");
        hp_agent_stop(a);
    }
}

/* --tls-* against --connect's URL, then the files read and checked */
static int open_tls(const hp_tls_files_t *f, const char *url, hp_tls_t **out)
{
    char err[1024], warn[1024] = "";
    const char *urls[] = {url};
    if (hp_tls_check_flags(f, urls, 1, err, sizeof err) < 0 ||
        (hp_tls_wanted(f) &&
         hp_tls_new(out, HP_TLS_CLIENT, f, warn, sizeof warn, err, sizeof err) < 0)) {
        fprintf(stderr, "hpworker: %s\n", err);
        return -1;
    }
    for (char *w = warn, *nl; *out && *w; w = nl ? nl + 1 : w + strlen(w)) {
        nl = strchr(w, '\n');
        hp_log_warn("TLS: %.*s", nl ? (int)(nl - w) : (int)strlen(w), w);
    }
    return 0;
}

static int parse_int(const char *flag, const char *v, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (!*v || *end || errno || x < lo || x > hi) {
        fprintf(stderr, "hpworker: %s must be a whole number in %d..%d (got '%s')\n", flag, lo, hi,
                v);
        return -1;
    }
    *out = (int)x;
    return 0;
}

/* an environment variable's value, NULL when unset or empty */
static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int exec_connect(int argc, char **argv)
{
    hp_agent_opts_t o = {.slots = 0};
    char *token = NULL;
    const char *token_file = NULL;
    hp_tls_files_t tls_files = {0};
    int cores = 0; /* --cores: 0, all the CPUs granted */
    /* --help anywhere, even where a value would be (`hpworker --connect --help`) */
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
    for (int i = 0; i < argc; i++) {
        const char *f = argv[i];
        if (i + 1 >= argc) {
            fprintf(stderr, "hpworker: %s needs a value (try --help)\n", f);
            return 2;
        }
        const char *v = argv[++i];
        int rc = 0;
        if (!strcmp(f, "--connect"))
            o.url = v;
        else if (!strcmp(f, "--slots"))
            rc = parse_int(f, v, 1, 1024, &o.slots);
        else if (!strcmp(f, "--cores"))
            rc = parse_int(f, v, 1, 1024, &cores);
        else if (!strcmp(f, "--heartbeat-ms"))
            rc = parse_int(f, v, 10, 3600000, &o.heartbeat_ms);
        else if (!strcmp(f, "--kill-grace-ms"))
            rc = parse_int(f, v, 1, 3600000, &o.kill_grace_ms);
        else if (!strcmp(f, "--exit-when-idle"))
            rc = parse_int(f, v, 1, 86400 * 365, &o.exit_when_idle_s);
        else if (!strcmp(f, "--max-trials"))
            rc = parse_int(f, v, 1, 1000000000, &o.max_trials);
        else if (!strcmp(f, "--tls-ca"))
            tls_files.ca = v;
        else if (!strcmp(f, "--tls-cert"))
            tls_files.cert = v;
        else if (!strcmp(f, "--tls-key"))
            tls_files.key = v;
        else if (!strcmp(f, "--token-file"))
            token_file = v;
        else if (!strcmp(f, "--log-level")) {
            int l = hp_log_level_parse(v);
            if (l < 0) {
                fprintf(stderr, "hpworker: --log-level must be error, warn, info or debug\n");
                rc = -1;
            } else {
                hp_log_set_level((hp_log_level_t)l);
            }
        } else {
            fprintf(stderr, "hpworker: unknown option '%s' (try --help)\n", f);
            rc = -1;
        }
        if (rc < 0)
            return 2;
    }
    /* the environment fills in what no flag gave */
    if (!o.url && (o.url = env("HPSEARCH_COORDINATOR")))
        hp_log_debug("coordinator %s from HPSEARCH_COORDINATOR", o.url);
    if (!o.url) {
        fprintf(stderr, "hpworker: no coordinator: a worker needs the coordinator's URL "
                        "(hpworker --connect URL [--slots N] ..., or set HPSEARCH_COORDINATOR; "
                        "try --help)\n");
        return 2;
    }
    const char *slots_env = env("HPSEARCH_SLOTS");
    if (!o.slots && slots_env && parse_int("HPSEARCH_SLOTS", slots_env, 1, 1024, &o.slots) < 0)
        return 2;
    hp_cpu_probe_t probe;
    hp_cpu_probe_default(&probe);
    char why[PATH_MAX + 300];
    o.cores = hp_cpus_granted(&probe, why, sizeof why);
    if (cores > 0 && cores < o.cores) {
        hp_log_info("%d of the %d CPUs granted (--cores; %s)", cores, o.cores, why);
        o.cores = cores;
        snprintf(why, sizeof why, "--cores %d", cores);
    }
    if (!o.slots) {
        o.slots = o.cores;
        hp_log_info("%d slot%s: the CPUs granted (%s)", o.slots, o.slots == 1 ? "" : "s", why);
    }
    /* no token file named: what the coordinator published for the URL,
     * looked up before each HELLO (common/rundir.h) */
    const char *token_what = "--token-file";
    if (!token_file && (token_file = env("HPSEARCH_TOKEN_FILE")))
        token_what = "HPSEARCH_TOKEN_FILE";
    if (token_file && read_token(token_what, token_file, &token) < 0)
        return 2;
    o.token = token;
    o.find_token = token == NULL;

    signal(SIGPIPE, SIG_IGN);
    char err[1024];
    hp_tls_t *tls = NULL;
    if (open_tls(&tls_files, o.url, &tls) < 0) {
        free(token);
        return 2;
    }
    o.tls = tls;
    hp_agent_t *a;
    if (hp_agent_new(&a, &o, err, sizeof err) < 0) {
        fprintf(stderr, "hpworker: %s\n", err);
        hp_tls_free(tls);
        free(token);
        return 2;
    }
    pthread_t st;
    if (pipe2(sig_pipe, O_CLOEXEC) < 0 || pthread_create(&st, NULL, sig_main, a) != 0) {
        fprintf(stderr, "hpworker: cannot start the signal thread\n");
        hp_agent_free(a);
        hp_tls_free(tls);
        free(token);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int rc = hp_agent_run(a, err, sizeof err);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    unsigned char zero = 0;
    if (write(sig_pipe[1], &zero, 1) != 1)
        pthread_cancel(st);
    pthread_join(st, NULL);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    hp_agent_free(a);
    hp_tls_free(tls);
    free(token);
    if (rc < 0) {
        if (rc == HP_EAUTH)
            fprintf(stderr, "hpworker: the coordinator refused this worker's token (%s); check "
                            "%s\n", err, token_what);
        else if (rc == HP_EVERSION)
            fprintf(stderr, "hpworker: the coordinator speaks another protocol version (%s); "
                            "run matching versions of hpworker and hpsearchd\n", err);
        else
            fprintf(stderr, "hpworker: %s\n", err);
        return 1;
    }
    hp_log_info("stopped");
    return 0;
}

const hp_worker_cmd_t hp_worker_cmd_connect = {
    .name = "--connect",
    .usage = "--connect URL [--slots N] [--cores N] [--token-file PATH] [--exit-when-idle S] [--max-trials N] "
             "[--heartbeat-ms MS] [--log-level L] [--tls-ca FILE --tls-cert FILE --tls-key FILE]",
    .exec = exec_connect,
};
