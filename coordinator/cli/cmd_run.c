/*
 * hpsearch run: the embedded default. One command starts a private
 * coordinator on a local database and N local workers as child processes,
 * submits the study, shows progress until it ends, prints the best trial
 * and stops everything it started.
 *
 * The children live in their own process group (a terminal's Ctrl-C
 * reaches only us, so we stop them in order) and get PR_SET_PDEATHSIG, so
 * even a kill -9 of hpsearch does not leave them behind.
 */
#include "cli.h"
#include "client.h"
#include "query.h"
#include "sanity.h"

#include "buf.h"
#include "diag.h"
#include "err.h"
#include "spec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int cmd_run(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_run = {
    .name = "run",
    .usage = "run [--workers N] [--slots S] [--db PATH] [--log-level L] [--verbose] SPEC",
    .summary = "run a study here: a private coordinator, N local workers, live progress",
    .help = "Validates SPEC, starts hpsearchd on PATH (default ./hpsearch.db) with\n"
            "sockets in a private temporary directory and N `hpworker --connect`\n"
            "processes (found next to hpsearch), submits the study and shows progress\n"
            "until it ends: a live line on a terminal, a plain line every few seconds\n"
            "otherwise. Then prints the best trial and stops every process it started.\n"
            "Running the same spec on the same database again resumes the study.\n"
            "\n"
            "Ctrl-C (or SIGTERM) stops cleanly: workers and coordinator are stopped,\n"
            "every stored result stays in the database (run again to resume), and the\n"
            "exit status is 128 + the signal (130 for Ctrl-C). Exits 0 when the study\n"
            "completed, 1 if it failed or if the coordinator or all workers died (their\n"
            "last log lines are shown).\n"
            "\n"
            "Options:\n"
            "  --workers N    local worker processes (default 1)\n"
            "  --slots S      trials each worker runs at once (default 1)\n"
            "  --db PATH      the database (created if missing; default hpsearch.db)\n"
            "  --log-level L  the coordinator's log level (error|warn|info|debug)\n"
            "  --verbose      let the coordinator and workers log to stderr instead of\n"
            "                 private log files\n"
            "\n"
            "Example:\n"
            "  hpsearch run examples/branin.yaml --workers 2\n",
    .exec = cmd_run,
};

#define STOP_WORKERS_S 5.0  /* workers get this long after SIGTERM */
#define STOP_DAEMON_S 15.0  /* the coordinator this long after SHUTDOWN */
#define START_DAEMON_S 30.0 /* until its control socket answers */
#define POLL_S 0.25
#define PLAIN_EVERY_S 5.0

static volatile sig_atomic_t got_signal;
static volatile sig_atomic_t signal_count;

static void on_signal(int signo)
{
    got_signal = signo;
    signal_count++;
}

typedef struct child {
    pid_t pid;
    int alive;
    int status;
    char log[160];
    char what[32]; /* "hpsearchd", "worker 2" */
} child_t;

typedef struct run {
    hp_cli_t *cli;
    char dir[96]; /* short: ipc:// paths must fit a sockaddr_un (108 bytes) */
    char listen[128], control[128];
    char daemon_bin[PATH_MAX], worker_bin[PATH_MAX];
    child_t daemon;
    child_t *workers;
    int nworkers;
    int workers_started; /* all nworkers were spawned */
    int verbose;
    hp_client_t *cl;
    int tty;
    int line_open; /* a \r progress line is on the terminal */
    unsigned long long study_id;
} run_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* sleeps unless a signal arrives (no SA_RESTART: nanosleep returns early) */
static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static void end_line(run_t *r)
{
    if (r->line_open) {
        fputc('\n', r->cli->err);
        r->line_open = 0;
    }
}

static int fail(run_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(run_t *r, const char *fmt, ...)
{
    end_line(r);
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hp_cli_fail(r->cli, &hp_cmd_run, "%s", msg);
}

static void print_tail(run_t *r, const char *path, int lines)
{
    if (r->verbose || !*path)
        return;
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    hp_buf_t b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        hp_buf_append(&b, chunk, n);
    fclose(f);
    if (!b.len) {
        hp_buf_fini(&b);
        return;
    }
    size_t start = b.len;
    if (b.data[start - 1] == '\n')
        start--;
    for (int k = 0; k < lines && start > 0; start--)
        if (b.data[start - 1] == '\n' && ++k == lines)
            break;
    fprintf(r->cli->err, "  last lines of its log:\n");
    char *p = b.data + start;
    while (*p) {
        size_t len = strcspn(p, "\n");
        fprintf(r->cli->err, "  | %.*s\n", (int)len, p);
        p += len + (p[len] == '\n');
    }
    hp_buf_fini(&b);
}

static void describe_status(int st, char *out, size_t n)
{
    if (WIFEXITED(st))
        snprintf(out, n, "exited with status %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(out, n, "was killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else
        snprintf(out, n, "stopped (status 0x%x)", st);
}

/* fork + exec argv with stdout/stderr into c->log (or inherited) */
static int spawn(run_t *r, child_t *c, char *const *argv)
{
    pid_t parent = getpid();
    int logfd = -1;
    if (!r->verbose) {
        logfd = open(c->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (logfd < 0)
            return fail(r, "cannot create %s: %s", c->log, strerror(errno));
    } else {
        c->log[0] = '\0';
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        if (logfd >= 0)
            close(logfd);
        return fail(r, "cannot start %s: %s", c->what, strerror(errno));
    }
    if (pid == 0) {
        /* only async-signal-safe calls until exec */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127);
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        sigaction(SIGINT, &dfl, NULL);
        sigaction(SIGTERM, &dfl, NULL);
        sigaction(SIGHUP, &dfl, NULL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int in = open("/dev/null", O_RDONLY);
        if (in >= 0)
            dup2(in, 0);
        if (logfd >= 0) {
            dup2(logfd, 1);
            dup2(logfd, 2);
        }
        execv(argv[0], argv);
        static const char msg[] = "hpsearch run: cannot execute the program\n";
        if (write(2, msg, sizeof msg - 1) < 0)
            _exit(127);
        _exit(127);
    }
    if (logfd >= 0)
        close(logfd);
    c->pid = pid;
    c->alive = 1;
    return 0;
}

static child_t *find_child(run_t *r, pid_t pid)
{
    if (r->daemon.pid == pid)
        return &r->daemon;
    for (int i = 0; i < r->nworkers; i++)
        if (r->workers[i].pid == pid)
            return &r->workers[i];
    return NULL;
}

/* reaps every child that exited; returns how many did */
static int reap(run_t *r)
{
    int n = 0, st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        child_t *c = find_child(r, pid);
        if (c) {
            c->alive = 0;
            c->status = st;
            n++;
        }
    }
    return n;
}

static int live_workers(const run_t *r)
{
    int n = 0;
    for (int i = 0; i < r->nworkers; i++)
        n += r->workers[i].alive;
    return n;
}

static void signal_workers(run_t *r, int sig)
{
    for (int i = 0; i < r->nworkers; i++)
        if (r->workers[i].alive && r->workers[i].pid > 0)
            kill(r->workers[i].pid, sig);
}

/* waits until the wanted children exited or the deadline passed; a second
 * Ctrl-C cuts the wait short */
static void wait_children(run_t *r, int daemon_too, double secs, int signals_at_start)
{
    double end = now_s() + secs;
    for (;;) {
        reap(r);
        if (!live_workers(r) && (!daemon_too || !r->daemon.alive))
            return;
        if (now_s() >= end || signal_count > signals_at_start)
            return;
        nap(0.05);
    }
}

/* Stops everything we started, in order: workers first (a worker that
 * finishes its trial on SIGTERM still reaches a live coordinator), then
 * the coordinator (SHUTDOWN, or SIGTERM if it does not answer), then
 * SIGKILL for anything still there. Always reaps every child. */
static void stop_all(run_t *r)
{
    int sc = signal_count;
    signal_workers(r, SIGTERM);
    wait_children(r, 0, STOP_WORKERS_S, sc);
    signal_workers(r, SIGKILL);
    if (r->daemon.alive) {
        int asked = 0;
        if (r->cl) {
            Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT, *rep = NULL;
            Hpsearch__Shutdown body = HPSEARCH__SHUTDOWN__INIT;
            hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__SHUTDOWN, &body);
            char err[256];
            asked = hp_client_call(r->cl, &req, HPSEARCH__MSG_TYPE__ACK, &rep, err,
                                   sizeof err) == 0;
            hp_proto_free(rep);
        }
        if (!asked)
            kill(r->daemon.pid, SIGTERM);
        wait_children(r, 1, STOP_DAEMON_S, sc);
    }
    if (r->daemon.alive)
        kill(r->daemon.pid, SIGKILL);
    signal_workers(r, SIGKILL);
    /* everything was SIGKILLed if still there: these waits end */
    for (int i = 0; i < r->nworkers; i++)
        if (r->workers[i].alive && waitpid(r->workers[i].pid, &r->workers[i].status, 0) > 0)
            r->workers[i].alive = 0;
    if (r->daemon.alive && waitpid(r->daemon.pid, &r->daemon.status, 0) > 0)
        r->daemon.alive = 0;
    hp_client_close(r->cl);
    r->cl = NULL;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[PATH_MAX + 300];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static int find_binaries(run_t *r)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return fail(r, "cannot find where hpsearch is installed (/proc/self/exe: %s)",
                    strerror(errno));
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    if (strlen(self) + sizeof "/hpsearchd" > sizeof r->daemon_bin)
        return fail(r, "hpsearch is installed under too long a path: %s", self);
    memcpy(r->daemon_bin, self, strlen(self));
    strcpy(r->daemon_bin + strlen(self), "/hpsearchd");
    memcpy(r->worker_bin, self, strlen(self));
    strcpy(r->worker_bin + strlen(self), "/hpworker");
    if (access(r->daemon_bin, X_OK) != 0)
        return fail(r, "cannot run %s (%s); hpsearchd must be installed next to hpsearch",
                    r->daemon_bin, strerror(errno));
    if (access(r->worker_bin, X_OK) != 0)
        return fail(r, "cannot run %s (%s); hpworker must be installed next to hpsearch",
                    r->worker_bin, strerror(errno));
    return 0;
}

static void fmt_dur(double s, char *out, size_t n)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, n, "%02ld:%02ld", t / 60, t % 60);
}

static void progress(run_t *r, const Hpsearch__StudyStatus *st, double elapsed,
                     unsigned done0, int final)
{
    unsigned done = hp_study_finished(st);
    char el[32], eta[32] = "--:--", best[96] = "-";
    fmt_dur(elapsed, el, sizeof el);
    if (done > done0 && st->max_trials > done && elapsed > 0)
        fmt_dur((double)(st->max_trials - done) * elapsed / (double)(done - done0), eta,
                sizeof eta);
    else if (st->max_trials && done >= st->max_trials)
        snprintf(eta, sizeof eta, "00:00");
    if (st->has_best)
        snprintf(best, sizeof best, "%.6g (trial %u)", st->best_value, st->best_number);
    char line[512];
    snprintf(line, sizeof line,
             "%s: %u/%u done (%u failed), %u running, best %s %s, elapsed %s, ETA %s", st->name,
             done, st->max_trials, st->failed + st->pruned + st->cancelled, st->running,
             st->metric, best, el, eta);
    if (r->tty) {
        fprintf(r->cli->err, "\r%s\033[K", line);
        r->line_open = 1;
        if (final)
            end_line(r);
    } else {
        fprintf(r->cli->err, "%s\n", line);
    }
    fflush(r->cli->err);
}

static void print_best(run_t *r, const Hpsearch__StudyStatus *st, double elapsed,
                       const char *db)
{
    FILE *o = r->cli->out;
    char el[32];
    fmt_dur(elapsed, el, sizeof el);
    fprintf(o, "study '%s' %s: %u/%u trials done (%u completed, %u failed, %u pruned, %u "
               "cancelled) in %s\n",
            st->name, st->state, hp_study_finished(st), st->max_trials, st->completed,
            st->failed, st->pruned, st->cancelled, el);
    if (strcmp(st->state, "completed") != 0 && st->reason && *st->reason)
        fprintf(o, "why: %s\n", st->reason);
    if (st->has_best)
        fprintf(o, "best trial %u: %s = %.10g (%s)\nparams %s\n", st->best_number, st->metric,
                st->best_value, st->goal, st->best_params_json);
    else
        fprintf(o, "no trial completed\n");
    fprintf(o, "results: %s (hpsearch sql --db %s \"SELECT ...\")\n", db, db);
}

/* A sanity check that passed with a warning (held-out data no better than
 * chance: maybe labels that do not go with the inputs) is in the events
 * table; say it where the user looks. */
static void print_sanity_warning(run_t *r, const char *db)
{
    hp_query_src_t src = {.cli = r->cli, .db = db};
    hp_buf_t b = {0};
    if (hp_query_sanity_verdict(&src, (long long)r->study_id, &b)) {
        const char *w = strstr(b.data, HP_SANITY_WARNING);
        if (w)
            fprintf(r->cli->out, "sanity check (overfit one batch) passed with a warning%s\n",
                    w + strlen(HP_SANITY_WARNING));
    }
    hp_buf_fini(&b);
}

/* checks the children; returns an exit code if the run must end */
static int check_children(run_t *r)
{
    reap(r);
    char how[128];
    if (!r->daemon.alive) {
        describe_status(r->daemon.status, how, sizeof how);
        int rc = fail(r, "the coordinator (hpsearchd, pid %d) %s", (int)r->daemon.pid, how);
        print_tail(r, r->daemon.log, 15);
        return rc;
    }
    for (int i = 0; i < r->nworkers; i++) {
        child_t *w = &r->workers[i];
        if (!w->alive && w->pid > 0 && w->status != -1) {
            describe_status(w->status, how, sizeof how);
            end_line(r);
            fprintf(r->cli->err, "hpsearch run: %s (pid %d) %s\n", w->what, (int)w->pid, how);
            print_tail(r, w->log, 8);
            w->status = -1; /* reported */
        }
    }
    if (r->workers_started && !live_workers(r))
        return fail(r, "all %d workers exited; the study cannot go on (results so far are "
                       "kept; run again to resume)",
                    r->nworkers);
    return -1;
}

static int call_status(run_t *r, const char *name, Hpsearch__Envelope **rep,
                       const Hpsearch__StudyStatus **st, char *err, size_t errlen)
{
    /* a short timeout so a dead daemon is noticed; a slow one gets retries */
    double end = now_s() + START_DAEMON_S;
    int rc;
    do {
        rc = hp_client_study_status(r->cl, name, rep, st, err, errlen);
        if (rc != HP_ETIMEDOUT)
            return rc;
        reap(r);
    } while (r->daemon.alive && !got_signal && now_s() < end);
    return rc;
}

static int run_study(run_t *r, hp_spec_t *spec, const char *db, int slots, const char *loglevel)
{
    /* the coordinator */
    snprintf(r->daemon.what, sizeof r->daemon.what, "hpsearchd");
    snprintf(r->daemon.log, sizeof r->daemon.log, "%s/hpsearchd.log", r->dir);
    char *dargv[] = {r->daemon_bin, "--db", (char *)db, "--listen", r->listen,
                     "--control", r->control, "--log-level", (char *)loglevel, NULL};
    if (spawn(r, &r->daemon, dargv))
        return HP_EXIT_FAIL;

    char err[4608];
    double end = now_s() + START_DAEMON_S;
    for (;;) {
        if (got_signal)
            return 128 + got_signal;
        int rc = hp_client_open_url(&r->cl, r->control, NULL, 5000, err, sizeof err);
        if (rc == 0)
            break;
        int ex = check_children(r);
        if (ex >= 0)
            return ex;
        if (now_s() > end)
            return fail(r, "the coordinator did not open its control socket within %g s: %s",
                        START_DAEMON_S, err);
        nap(0.05);
    }

    /* the workers */
    char slots_s[32];
    snprintf(slots_s, sizeof slots_s, "%d", slots);
    for (int i = 0; i < r->nworkers; i++) {
        child_t *w = &r->workers[i];
        snprintf(w->what, sizeof w->what, "worker %d", i + 1);
        snprintf(w->log, sizeof w->log, "%s/worker-%d.log", r->dir, i + 1);
        char *wargv[] = {r->worker_bin, "--connect", r->listen, "--slots", slots_s, NULL};
        if (spawn(r, w, wargv))
            return HP_EXIT_FAIL;
    }
    r->workers_started = 1;

    /* the study */
    Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT, *rep;
    Hpsearch__Submit sub = HPSEARCH__SUBMIT__INIT;
    sub.spec_text = spec->raw;
    sub.filename = spec->source && *spec->source ? spec->source : (char *)"spec";
    hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__SUBMIT, &sub);
    int rc;
    do {
        rc = hp_client_call(r->cl, &req, HPSEARCH__MSG_TYPE__SUBMIT_REPLY, &rep, err, sizeof err);
        reap(r);
    } while (rc == HP_ETIMEDOUT && r->daemon.alive && !got_signal);
    if (rc < 0) {
        int ex = check_children(r);
        if (ex >= 0)
            return ex;
        if (got_signal)
            return 128 + got_signal;
        end_line(r);
        return hp_cli_fail_lines(r->cli, &hp_cmd_run, err);
    }
    fprintf(r->cli->err, "%s study '%s' (id %llu) on %s with %d worker%s\n",
            rep->submit_reply->existed ? "resuming" : "running", rep->submit_reply->name,
            (unsigned long long)rep->submit_reply->study_id, db, r->nworkers,
            r->nworkers == 1 ? "" : "s");
    r->study_id = (unsigned long long)rep->submit_reply->study_id;
    hp_proto_free(rep);

    /* progress until the study ends */
    double start = now_s(), last_print = 0;
    unsigned done0 = 0, last_done = ~0u;
    int first = 1;
    for (;;) {
        if (got_signal)
            return 128 + got_signal;
        int ex = check_children(r);
        if (ex >= 0)
            return ex;
        const Hpsearch__StudyStatus *st;
        rc = call_status(r, spec->name, &rep, &st, err, sizeof err);
        if (rc < 0) {
            if (got_signal)
                return 128 + got_signal;
            ex = check_children(r);
            return ex >= 0 ? ex : fail(r, "%s", err);
        }
        double t = now_s();
        unsigned done = hp_study_finished(st);
        if (first)
            done0 = done;
        first = 0;
        if (strcmp(st->state, "running") != 0) {
            progress(r, st, t - start, done0, 1);
            print_best(r, st, t - start, db);
            print_sanity_warning(r, db);
            int ok = strcmp(st->state, "completed") == 0;
            hp_proto_free(rep);
            return ok ? HP_EXIT_OK : HP_EXIT_FAIL;
        }
        if (r->tty ? t - last_print >= 0.5
                   : (done != last_done && t - last_print >= PLAIN_EVERY_S) ||
                         t - last_print >= 12 * PLAIN_EVERY_S) {
            progress(r, st, t - start, done0, 0);
            last_print = t;
            last_done = done;
        }
        hp_proto_free(rep);
        nap(POLL_S);
    }
}

static int cmd_run(hp_cli_t *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"workers", required_argument, NULL, 'w'},
        {"slots", required_argument, NULL, 's'},
        {"db", required_argument, NULL, 'd'},
        {"log-level", required_argument, NULL, 'l'},
        {"verbose", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    long long nworkers = 1, slots = 1;
    const char *db = "hpsearch.db", *loglevel = "info";
    int verbose = 0, ch;
    while ((ch = getopt_long(argc, argv, ":w:s:d:l:v", opts, NULL)) != -1) {
        switch (ch) {
        case 'w':
            if (hp_cli_parse_uint(cli, &hp_cmd_run, "--workers", optarg, 1, 1024, &nworkers))
                return HP_EXIT_USAGE;
            break;
        case 's':
            if (hp_cli_parse_uint(cli, &hp_cmd_run, "--slots", optarg, 1, 1024, &slots))
                return HP_EXIT_USAGE;
            break;
        case 'd':
            if (!*optarg)
                return hp_cli_usage_error(cli, &hp_cmd_run, "--db needs a PATH");
            db = optarg;
            break;
        case 'l':
            if (strcmp(optarg, "error") && strcmp(optarg, "warn") && strcmp(optarg, "info") &&
                strcmp(optarg, "debug"))
                return hp_cli_usage_error(
                    cli, &hp_cmd_run, "--log-level: expected error, warn, info or debug (got '%s')",
                    optarg);
            loglevel = optarg;
            break;
        case 'v': verbose = 1; break;
        default: return hp_cli_bad_option(cli, &hp_cmd_run, ch, argc, argv);
        }
    }
    hp_spec_t spec;
    const char *path;
    int rc0 = hp_cli_load_spec(cli, &hp_cmd_run, argc, argv, optind, &spec, &path, NULL);
    if (rc0)
        return rc0;

    run_t r = {.cli = cli, .nworkers = (int)nworkers, .verbose = verbose};
    r.tty = isatty(fileno(cli->err));
    r.workers = calloc((size_t)nworkers, sizeof *r.workers);
    HP_ASSERT(r.workers != NULL);
    int rc = find_binaries(&r);
    if (rc) {
        free(r.workers);
        hp_spec_fini(&spec);
        return rc;
    }
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp || strlen(tmp) > 60)
        tmp = "/tmp";
    snprintf(r.dir, sizeof r.dir, "%s/hpsearch-run.XXXXXX", tmp);
    if (!mkdtemp(r.dir)) {
        rc = fail(&r, "cannot create a private directory in %s for the sockets: %s", tmp,
                  strerror(errno));
        free(r.workers);
        hp_spec_fini(&spec);
        return rc;
    }
    snprintf(r.listen, sizeof r.listen, "ipc://%s/workers.sock", r.dir);
    snprintf(r.control, sizeof r.control, "ipc://%s/control.sock", r.dir);

    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: naps end early */
    sigemptyset(&sa.sa_mask);
    struct sigaction old_int, old_term, old_hup;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);

    rc = run_study(&r, &spec, db, (int)slots, loglevel);
    if (rc >= 128) {
        end_line(&r);
        fprintf(cli->err, "hpsearch run: %s; stopping the workers and the coordinator (every "
                          "stored result stays in %s; run again to resume)\n",
                strsignal(rc - 128), db);
    }
    stop_all(&r);
    if (rc >= 128 && r.daemon.pid > 0 && !(WIFEXITED(r.daemon.status) &&
                                           WEXITSTATUS(r.daemon.status) == 0)) {
        char how[128];
        describe_status(r.daemon.status, how, sizeof how);
        fprintf(cli->err, "hpsearch run: the coordinator %s while stopping\n", how);
        print_tail(&r, r.daemon.log, 10);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    remove_dir(r.dir);
    free(r.workers);
    hp_spec_fini(&spec);
    return rc;
}
