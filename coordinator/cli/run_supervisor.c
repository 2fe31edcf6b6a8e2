/* `hpsearch run`'s children: start, watch, stop, reap. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "run_supervisor.h"

#include "buf.h"
#include "clock.h"
#include "err.h"
#include "token.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define STOP_WORKERS_S 5.0 /* workers get this long after SIGTERM, unless told more */
#define STOP_DAEMON_S 15.0 /* the coordinator this long after SHUTDOWN */

/* process-wide, as the handlers are */
static volatile sig_atomic_t got_signal;
static volatile sig_atomic_t signal_count;

static void on_signal(int signo)
{
    got_signal = signo;
    signal_count++;
}

int hp_supervisor_signal(void) { return got_signal; }

/* sleeps unless a signal arrives (no SA_RESTART: nanosleep returns early) */
void hp_supervisor_nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static void print_tail(hp_supervisor_t *s, const char *path, int lines)
{
    if (s->verbose || !*path)
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
    fprintf(s->cli->err, "  last lines of its log:\n");
    char *p = b.data + start;
    while (*p) {
        size_t len = strcspn(p, "\n");
        fprintf(s->cli->err, "  | %.*s\n", (int)len, p);
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

/* The children's environment: this process's, less the settings a worker
 * would take from it (hpworker reads HPSEARCH_TOKEN_FILE and
 * HPSEARCH_SLOTS when no flag gives them). The private coordinator needs no
 * token, and a token file meant for another coordinator must not stop its
 * workers. Built before fork; the caller frees the array (not the strings). */
static char **child_environ(void)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 1, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "HPSEARCH_TOKEN_FILE=", 20) != 0 &&
            strncmp(environ[i], "HPSEARCH_SLOTS=", 15) != 0)
            env[k++] = environ[i];
    return env;
}

/* fork + exec argv with stdout/stderr into c->log (or inherited) */
static int spawn(hp_supervisor_t *s, hp_child_t *c, char *const *argv)
{
    pid_t parent = getpid();
    int logfd = -1;
    if (!s->verbose) {
        logfd = open(c->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (logfd < 0)
            return hp_run_display_fail(s->display, "cannot create %s: %s", c->log,
                                       strerror(errno));
    } else {
        c->log[0] = '\0';
    }
    char **env = child_environ();
    if (!env) {
        if (logfd >= 0)
            close(logfd);
        return hp_run_display_fail(s->display, "cannot start %s: out of memory", c->what);
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        free(env);
        if (logfd >= 0)
            close(logfd);
        return hp_run_display_fail(s->display, "cannot start %s: %s", c->what, strerror(errno));
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
        execve(argv[0], argv, env);
        static const char msg[] = "hpsearch run: cannot execute the program\n";
        if (write(2, msg, sizeof msg - 1) < 0)
            _exit(127);
        _exit(127);
    }
    free(env);
    if (logfd >= 0)
        close(logfd);
    c->pid = pid;
    c->alive = 1;
    return 0;
}

static hp_child_t *find_child(hp_supervisor_t *s, pid_t pid)
{
    if (s->daemon.pid == pid)
        return &s->daemon;
    for (int i = 0; i < s->nworkers; i++)
        if (s->workers[i].pid == pid)
            return &s->workers[i];
    return NULL;
}

void hp_supervisor_reap(hp_supervisor_t *s)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        hp_child_t *c = find_child(s, pid);
        if (c) {
            c->alive = 0;
            c->status = st;
        }
    }
}

static int live_workers(const hp_supervisor_t *s)
{
    int n = 0;
    for (int i = 0; i < s->nworkers; i++)
        n += s->workers[i].alive;
    return n;
}

static void signal_workers(hp_supervisor_t *s, int sig)
{
    for (int i = 0; i < s->nworkers; i++)
        if (s->workers[i].alive && s->workers[i].pid > 0)
            kill(s->workers[i].pid, sig);
}

/* waits until the wanted children exited or the deadline passed; a second
 * Ctrl-C cuts the wait short */
static void wait_children(hp_supervisor_t *s, int daemon_too, double secs, int signals_at_start)
{
    double end = hp_clock_now() + secs;
    for (;;) {
        hp_supervisor_reap(s);
        if (!live_workers(s) && (!daemon_too || !s->daemon.alive))
            return;
        if (hp_clock_now() >= end || signal_count > signals_at_start)
            return;
        hp_supervisor_nap(0.05);
    }
}

void hp_supervisor_stop(hp_supervisor_t *s)
{
    int sc = signal_count;
    signal_workers(s, SIGTERM);
    wait_children(s, 0, s->worker_stop_s, sc);
    signal_workers(s, SIGKILL);
    if (s->daemon.alive) {
        int asked = 0;
        if (s->cl) {
            Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT, *rep = NULL;
            Hpsearch__Shutdown body = HPSEARCH__SHUTDOWN__INIT;
            hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__SHUTDOWN, &body);
            char err[256];
            asked = hp_client_call(s->cl, &req, HPSEARCH__MSG_TYPE__ACK, &rep, err,
                                   sizeof err) == 0;
            hp_proto_free(rep);
        }
        if (!asked)
            kill(s->daemon.pid, SIGTERM);
        wait_children(s, 1, STOP_DAEMON_S, sc);
    }
    if (s->daemon.alive)
        kill(s->daemon.pid, SIGKILL);
    signal_workers(s, SIGKILL);
    /* everything was SIGKILLed if still there: these waits end */
    for (int i = 0; i < s->nworkers; i++)
        if (s->workers[i].alive && waitpid(s->workers[i].pid, &s->workers[i].status, 0) > 0)
            s->workers[i].alive = 0;
    if (s->daemon.alive && waitpid(s->daemon.pid, &s->daemon.status, 0) > 0)
        s->daemon.alive = 0;
    hp_client_close(s->cl);
    s->cl = NULL;
}

void hp_supervisor_report_stop(hp_supervisor_t *s)
{
    if (s->daemon.pid > 0 && signal_count > 1 && WIFSIGNALED(s->daemon.status) &&
        WTERMSIG(s->daemon.status) == SIGKILL) {
        /* the user asked for this with a second signal: no failure to show */
        fprintf(s->cli->err,
                "hpsearch run: stopped at once (a second signal): the coordinator was killed "
                "without waiting for it; a trial it had not yet recorded as interrupted is "
                "re-queued by the next run after one lease period\n");
        return;
    }
    if (s->daemon.pid > 0 &&
        !(WIFEXITED(s->daemon.status) && WEXITSTATUS(s->daemon.status) == 0)) {
        char how[128];
        describe_status(s->daemon.status, how, sizeof how);
        fprintf(s->cli->err, "hpsearch run: the coordinator %s while stopping\n", how);
        print_tail(s, s->daemon.log, 10);
    }
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

static int find_binaries(hp_supervisor_t *s)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return hp_run_display_fail(
            s->display, "cannot find where hpsearch is installed (/proc/self/exe: %s)",
            strerror(errno));
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    if (strlen(self) + sizeof "/hpsearchd" > sizeof s->daemon_bin)
        return hp_run_display_fail(s->display, "hpsearch is installed under too long a path: %s",
                                   self);
    memcpy(s->daemon_bin, self, strlen(self));
    strcpy(s->daemon_bin + strlen(self), "/hpsearchd");
    memcpy(s->worker_bin, self, strlen(self));
    strcpy(s->worker_bin + strlen(self), "/hpworker");
    if (access(s->daemon_bin, X_OK) != 0)
        return hp_run_display_fail(
            s->display, "cannot run %s (%s); hpsearchd must be installed next to hpsearch",
            s->daemon_bin, strerror(errno));
    if (access(s->worker_bin, X_OK) != 0)
        return hp_run_display_fail(
            s->display, "cannot run %s (%s); hpworker must be installed next to hpsearch",
            s->worker_bin, strerror(errno));
    return 0;
}

int hp_supervisor_init(hp_supervisor_t *s, hp_cli_t *cli, hp_run_display_t *display,
                       int nworkers, int verbose)
{
    memset(s, 0, sizeof *s);
    s->cli = cli;
    s->display = display;
    s->nworkers = nworkers;
    s->verbose = verbose;
    s->worker_stop_s = STOP_WORKERS_S;
    s->workers = calloc((size_t)nworkers, sizeof *s->workers);
    HP_ASSERT(s->workers != NULL);
    int rc = find_binaries(s);
    if (rc) {
        free(s->workers);
        return rc;
    }
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp || strlen(tmp) > 60)
        tmp = "/tmp";
    snprintf(s->dir, sizeof s->dir, "%s/hpsearch-run.XXXXXX", tmp);
    if (!mkdtemp(s->dir)) {
        rc = hp_run_display_fail(display,
                                 "cannot create a private directory in %s for the sockets: %s",
                                 tmp, strerror(errno));
        free(s->workers);
        return rc;
    }
    snprintf(s->listen, sizeof s->listen, "ipc://%s/workers.sock", s->dir);
    snprintf(s->control, sizeof s->control, "ipc://%s/control.sock", s->dir);

    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: naps end early */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &s->old_int);
    sigaction(SIGTERM, &sa, &s->old_term);
    sigaction(SIGHUP, &sa, &s->old_hup);
    return 0;
}

void hp_supervisor_fini(hp_supervisor_t *s)
{
    sigaction(SIGINT, &s->old_int, NULL);
    sigaction(SIGTERM, &s->old_term, NULL);
    sigaction(SIGHUP, &s->old_hup, NULL);
    remove_dir(s->dir);
    free(s->workers);
    s->workers = NULL;
}

int hp_supervisor_check(hp_supervisor_t *s)
{
    hp_supervisor_reap(s);
    char how[128];
    if (!s->daemon.alive) {
        describe_status(s->daemon.status, how, sizeof how);
        int rc = hp_run_display_fail(s->display, "the coordinator (hpsearchd, pid %d) %s",
                                     (int)s->daemon.pid, how);
        print_tail(s, s->daemon.log, 15);
        return rc;
    }
    for (int i = 0; i < s->nworkers; i++) {
        hp_child_t *w = &s->workers[i];
        if (!w->alive && w->pid > 0 && w->status != -1) {
            describe_status(w->status, how, sizeof how);
            hp_run_display_end_line(s->display);
            fprintf(s->cli->err, "hpsearch run: %s (pid %d) %s\n", w->what, (int)w->pid, how);
            print_tail(s, w->log, 8);
            w->status = -1; /* reported */
        }
    }
    if (s->workers_started && !live_workers(s))
        return hp_run_display_fail(s->display,
                                   "all %d workers exited; the study cannot go on (results so "
                                   "far are kept; run again to resume)",
                                   s->nworkers);
    return -1;
}

int hp_supervisor_start_daemon(hp_supervisor_t *s, const char *db, const char *loglevel)
{
    snprintf(s->daemon.what, sizeof s->daemon.what, "hpsearchd");
    snprintf(s->daemon.log, sizeof s->daemon.log, "%s/hpsearchd.log", s->dir);
    /* the database's lock names this run, the process the user started */
    char owner[64];
    snprintf(owner, sizeof owner, "hpsearch run:%ld:%lld", (long)getpid(), (long long)time(NULL));
    char *dargv[] = {s->daemon_bin, "--db",        (char *)db,       "--listen",
                     s->listen,     "--control",   s->control,       "--log-level",
                     (char *)loglevel, "--lock-owner", owner,         NULL};
    if (spawn(s, &s->daemon, dargv))
        return HP_EXIT_FAIL;
    /* the token it makes (or finds) beside the database: named to its
     * workers and ourselves, so nothing depends on the runtime directory */
    if (hp_token_path_for_db(db, s->token_file, sizeof s->token_file) < 0)
        return hp_run_display_fail(s->display, "the database path %s is too long", db);

    char err[4608];
    double end = hp_clock_now() + HP_SUPERVISOR_START_DAEMON_S;
    for (;;) {
        if (got_signal)
            return 128 + got_signal;
        int rc = hp_client_open_url(&s->cl, s->control, s->token_file, 5000, err, sizeof err);
        if (rc == 0)
            return 0;
        int ex = hp_supervisor_check(s);
        if (ex >= 0)
            return ex;
        if (hp_clock_now() > end)
            return hp_run_display_fail(
                s->display, "the coordinator did not open its control socket within %g s: %s",
                HP_SUPERVISOR_START_DAEMON_S, err);
        hp_supervisor_nap(0.05);
    }
}

/* the CPUs this process may run on (its affinity mask), at least 1 */
static int local_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int hp_supervisor_start_workers(hp_supervisor_t *s, int slots)
{
    char slots_s[32], cores_s[32];
    snprintf(slots_s, sizeof slots_s, "%d", slots);
    /* the workers share this machine: each its part of the CPUs, or each
     * would size its BLAS threads to all of them and N workers would run
     * N times the threads there are cores for (on 2 cores, 2 workers of 2
     * threads spent half their time waiting for each other) */
    int ncpu = local_cpus(), each = ncpu / (s->nworkers > 0 ? s->nworkers : 1);
    snprintf(cores_s, sizeof cores_s, "%d", each > 0 ? each : 1);
    for (int i = 0; i < s->nworkers; i++) {
        hp_child_t *w = &s->workers[i];
        snprintf(w->what, sizeof w->what, "worker %d", i + 1);
        snprintf(w->log, sizeof w->log, "%s/worker-%d.log", s->dir, i + 1);
        char *wargv[] = {s->worker_bin, "--connect",    s->listen,      "--slots",
                         slots_s,       "--cores",      cores_s,       "--token-file",
                         s->token_file, NULL};
        if (spawn(s, w, wargv))
            return HP_EXIT_FAIL;
    }
    s->workers_started = 1;
    return 0;
}
