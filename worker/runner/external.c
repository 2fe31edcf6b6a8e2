/*
 * The external program runner: posix_spawn the trial's command in its own
 * process group, feed it the params (argv placeholders, environment), read
 * metric lines from its stdout and the tail of its stderr, keep both
 * streams (capture.h), and enforce the timeout and cancellation on the
 * whole group.
 *
 * posix_spawn, not fork: the worker is multi-threaded and uses nng, whose
 * fork handlers abort in a forked child; glibc's posix_spawn runs no fork
 * handlers and reports exec failures as its return value.
 */
#define _GNU_SOURCE /* pipe2, vasprintf, sigabbrev_np, posix_spawn *_np */
#include "runner_int.h"

#include "buf.h"
#include "cancel.h"
#include "capture.h"
#include "clock.h"
#include "err.h"
#include "metricline.h"
#include "outcome.h"
#include "trial_json.h"
#include "vec.h"

#include <errno.h>
#include <fcntl.h>
#include <libfyaml.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define LINE_MAX_BYTES (64 * 1024) /* longer stdout lines are not metric lines */
#define DRAIN_AFTER_EXIT_S 5.0     /* pipes held open by escaped processes */

/* strv_t: a NULL-terminated list of malloc'd strings (argv, envp) */
typedef struct strv {
    char **v;
    size_t n, cap;
} strv_t;

enum { WHY_NONE, WHY_TIMEOUT, WHY_CANCEL }; /* why we signalled the group */

/* One run of an external program, from its command to its outcome. The
 * phases at the end of this file (prepare, start, supervise, finish_output,
 * judge) each take it from the one before. */
typedef struct ext {
    const hp_runner_trial_t *t;
    hp_runner_outcome_t *out;
    hp_runner_progress_cb cb;
    void *data;
    hp_cancel_t *cancel;
    /* prepare: what to run */
    strv_t argv, envp;
    char *workdir;
    /* start and supervise: the child, its group and its pipes */
    pid_t pid;
    int pidfd;          /* -1 without pidfd_open: we poll for the exit */
    int fd_out, fd_err; /* read ends, -1 once closed */
    int fds_open;
    double grace;       /* SIGTERM -> SIGKILL, seconds */
    double deadline;    /* the trial's timeout; 0 = none */
    double kill_at, drain_until;
    int why, exited, status, sent_kill;
    /* stdout line assembly */
    char *line;
    size_t line_len;
    int line_overflow;
    uint64_t lineno;
    int64_t metric_lines;
    char obj_bad[160]; /* first non-numeric value of the objective */
    /* stderr tail: a ring of the last HP_RUNNER_STDERR_TAIL bytes */
    char tail[HP_RUNNER_STDERR_TAIL];
    size_t tail_pos, tail_total;
    /* both streams whole, up to a cap, for `hpsearch logs` */
    hp_capture_t cap_out, cap_err;
} ext_t;

/* ---- argv and environment ---- */

static const char *param_value(const hp_runner_trial_t *t, const char *name, size_t n)
{
    for (size_t i = 0; i < t->n_params; i++)
        if (strlen(t->params[i].name) == n && memcmp(t->params[i].name, name, n) == 0)
            return t->params[i].value;
    for (size_t i = 0; i < t->n_defaults; i++)
        if (strlen(t->defaults[i].name) == n && memcmp(t->defaults[i].name, name, n) == 0)
            return t->defaults[i].value;
    return NULL;
}

/* substitute {name}; {{ and }} are literal braces */
static int substitute(const hp_runner_trial_t *t, const char *arg, hp_buf_t *b, char *err,
                      size_t errlen)
{
    hp_buf_reset(b);
    hp_buf_puts(b, "");
    for (const char *p = arg; *p;) {
        if (p[0] == '{' && p[1] == '{') {
            hp_buf_putc(b, '{');
            p += 2;
        } else if (p[0] == '}' && p[1] == '}') {
            hp_buf_putc(b, '}');
            p += 2;
        } else if (p[0] == '{') {
            const char *e = strchr(p, '}');
            if (!e)
                return hp_errf(err, errlen, HP_EINVAL,
                               "command argument '%s': unclosed '{' (write {{ for a literal brace)",
                               arg);
            const char *v = param_value(t, p + 1, (size_t)(e - p - 1));
            if (!v)
                return hp_errf(err, errlen, HP_EINVAL,
                               "command argument '%s': unknown parameter '%.*s'", arg,
                               (int)(e - p + 1), p);
            hp_buf_puts(b, v);
            p = e + 1;
        } else {
            hp_buf_putc(b, *p++);
        }
    }
    return 0;
}

static void strv_push(strv_t *s, char *str)
{
    s->v = hp_vec_grow(s->v, &s->cap, s->n + 2, sizeof *s->v, 32); /* and the NULL */
    s->v[s->n++] = str;
    s->v[s->n] = NULL;
}

static void strv_free(strv_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    HP_ASSERT(r >= 0);
    return s;
}

/* is the NAME of "NAME=value" one the trial sets itself? */
static int overridden(const char *kv, struct fy_node *env)
{
    const char *eq = strchr(kv, '=');
    size_t n = eq ? (size_t)(eq - kv) : strlen(kv);
    if (n >= 9 && memcmp(kv, "HPSEARCH_", 9) == 0)
        return 1;
    return env && fy_node_mapping_lookup_by_string(env, kv, n) != NULL;
}

static int build_env(const hp_runner_trial_t *t, struct fy_node *env, strv_t *e, char *err,
                     size_t errlen)
{
    for (char **p = environ; p && *p; p++)
        if (!overridden(*p, env)) {
            char *s = strdup(*p);
            HP_ASSERT(s);
            strv_push(e, s);
        }
    if (env && fy_node_is_mapping(env)) {
        void *it = NULL;
        struct fy_node_pair *pr;
        while ((pr = fy_node_mapping_iterate(env, &it)) != NULL) {
            char *k = hp_tj_text(fy_node_pair_key(pr)), *v = hp_tj_text(fy_node_pair_value(pr));
            if (!k || !*k || strchr(k, '=')) {
                int rc = hp_errf(err, errlen, HP_EINVAL, "trial.env: bad variable name '%s'",
                                 k ? k : "");
                free(k);
                free(v);
                return rc;
            }
            strv_push(e, xasprintf("%s=%s", k, v ? v : ""));
            free(k);
            free(v);
        }
    }
    for (size_t i = 0; i < t->n_params; i++) {
        char *s = xasprintf("HPSEARCH_PARAM_%s=%s", t->params[i].name, t->params[i].value);
        for (char *c = s + 15; *c && *c != '='; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 'a' + 'A');
        strv_push(e, s);
    }
    strv_push(e, xasprintf("HPSEARCH_PARAMS=%s", t->params_json ? t->params_json : "{}"));
    strv_push(e, xasprintf("HPSEARCH_TRIAL_NUMBER=%u", t->number));
    strv_push(e, xasprintf("HPSEARCH_SEED=%llu", (unsigned long long)t->seed));
    return 0;
}

/* ---- output handling ---- */

static void on_line(ext_t *x, const char *s, size_t n)
{
    x->lineno++;
    hp_metricline_t ml;
    if (!hp_metricline_parse(s, n, &ml)) {
        for (size_t i = 0; i < n; i++)
            if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
                x->out->other_lines++;
                break;
            }
        return;
    }
    if (ml.bad) {
        x->out->bad_values += ml.bad;
        size_t ol = strlen(x->t->objective ? x->t->objective : "");
        if (!x->obj_bad[0] && ol && strncmp(ml.first_bad, x->t->objective, ol) == 0 &&
            ml.first_bad[ol] == '=')
            snprintf(x->obj_bad, sizeof x->obj_bad, "'%s' on line %llu is not a number",
                     ml.first_bad, (unsigned long long)x->lineno);
    }
    if (ml.n == 0 && !ml.has_step)
        return;
    x->metric_lines++;
    int64_t step = ml.has_step ? ml.step : x->metric_lines;
    for (size_t i = 0; i < ml.n; i++)
        hp_outcome_put(x->out, ml.m[i].name, ml.m[i].value);
    if (x->cb && ml.n)
        x->cb(step, ml.m, ml.n, x->data);
}

static void on_stdout(ext_t *x, const char *buf, size_t n)
{
    hp_capture_add(&x->cap_out, buf, n);
    while (n) {
        const char *nl = memchr(buf, '\n', n);
        size_t take = nl ? (size_t)(nl - buf) : n;
        if (!x->line_overflow) {
            if (x->line_len + take > LINE_MAX_BYTES) {
                x->line_overflow = 1;
            } else {
                memcpy(x->line + x->line_len, buf, take);
                x->line_len += take;
            }
        }
        if (nl) {
            if (x->line_overflow) {
                x->lineno++;
                x->out->other_lines++;
            } else {
                on_line(x, x->line, x->line_len);
            }
            x->line_len = 0;
            x->line_overflow = 0;
            take++;
        }
        buf += take;
        n -= take;
    }
}

static void on_stderr(ext_t *x, const char *buf, size_t n)
{
    hp_capture_add(&x->cap_err, buf, n);
    for (size_t i = 0; i < n; i++) {
        x->tail[x->tail_pos] = buf[i];
        x->tail_pos = (x->tail_pos + 1) % sizeof x->tail;
    }
    x->tail_total += n;
}

static void finish_tail(ext_t *x)
{
    size_t n = x->tail_total < sizeof x->tail ? x->tail_total : sizeof x->tail;
    size_t start = x->tail_total < sizeof x->tail ? 0 : x->tail_pos;
    char *o = x->out->stderr_tail;
    for (size_t i = 0; i < n; i++)
        o[i] = x->tail[(start + i) % sizeof x->tail];
    o[n] = '\0';
    /* a cut tail starts at the next whole line when there is one */
    if (x->tail_total > sizeof x->tail) {
        char *nl = memchr(o, '\n', n / 2);
        if (nl)
            memmove(o, nl + 1, strlen(nl + 1) + 1);
    }
    /* the tail goes into protobuf strings and SQLite text: keep it UTF-8 */
    unsigned char *u = (unsigned char *)o;
    for (size_t i = 0; u[i];) {
        size_t need = u[i] < 0x80 ? 0 : (u[i] >> 5) == 6 ? 1 : (u[i] >> 4) == 14 ? 2
                      : (u[i] >> 3) == 30 ? 3 : 9;
        size_t k = 1;
        if (need != 9)
            while (k <= need && (u[i + k] & 0xC0) == 0x80)
                k++;
        if (need == 9 || k != need + 1) {
            u[i] = '?';
            i++;
        } else {
            i += need + 1;
        }
    }
    /* trailing newline: the message reads better without it */
    size_t l = strlen(o);
    while (l && (o[l - 1] == '\n' || o[l - 1] == '\r'))
        o[--l] = '\0';
}

static const char *signame(int sig, char *buf, size_t len)
{
    const char *a = sigabbrev_np(sig);
    if (a)
        snprintf(buf, len, "SIG%s", a);
    else
        snprintf(buf, len, "signal %d", sig);
    return buf;
}

/* ---- spawning and supervising ---- */

static int spawn(char **argv, char **envp, const char *workdir, int out_w, int err_w, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_w, 1);
    posix_spawn_file_actions_adddup2(&fa, err_w, 2);
    if (workdir && *workdir)
        posix_spawn_file_actions_addchdir_np(&fa, workdir);
    /* whatever another thread opened without O_CLOEXEC stays with us */
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);

    sigset_t none, def;
    sigemptyset(&none);
    sigemptyset(&def);
    static const int sigs[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD,
                               SIGUSR1, SIGUSR2, SIGALRM, SIGTTIN, SIGTTOU, SIGTSTP};
    for (size_t i = 0; i < HP_ARRAY_LEN(sigs); i++)
        sigaddset(&def, sigs[i]);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    int rc = posix_spawnp(pid, argv[0], &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    return rc;
}

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
    long fd = syscall(SYS_pidfd_open, pid, 0);
    return fd >= 0 ? (int)fd : -1;
#else
    (void)pid;
    return -1;
#endif
}

/* ---- the phases of one run ---- */

static ext_t *ext_new(const hp_runner_trial_t *t, const hp_runner_opts_t *o,
                      hp_runner_progress_cb cb, void *data, hp_cancel_t *cancel,
                      hp_runner_outcome_t *out)
{
    ext_t *x = calloc(1, sizeof *x);
    HP_ASSERT(x);
    x->line = malloc(LINE_MAX_BYTES);
    HP_ASSERT(x->line);
    x->t = t;
    x->out = out;
    x->cb = cb;
    x->data = data;
    x->cancel = cancel;
    x->pidfd = x->fd_out = x->fd_err = -1;
    hp_capture_init(&x->cap_out, o->output_cap);
    hp_capture_init(&x->cap_err, o->output_cap);
    x->grace = (o->kill_grace_ms > 0 ? o->kill_grace_ms : 5000) / 1000.0;
    return x;
}

/* the child's pidfd and pipes, whichever are still open */
static void close_fds(ext_t *x)
{
    if (x->pidfd >= 0)
        close(x->pidfd);
    if (x->fd_out >= 0)
        close(x->fd_out);
    if (x->fd_err >= 0)
        close(x->fd_err);
    x->pidfd = x->fd_out = x->fd_err = -1;
}

static void ext_free(ext_t *x)
{
    close_fds(x);
    strv_free(&x->argv);
    strv_free(&x->envp);
    free(x->workdir);
    free(x->line);
    hp_capture_fini(&x->cap_out);
    hp_capture_fini(&x->cap_err);
    free(x);
}

/* prepare: trial.command with {name} substituted, the environment, and
 * trial.workdir, which must be a directory. Fails the outcome on error. */
static int prepare(ext_t *x, struct fy_node *root)
{
    char err[HP_RUNNER_ERROR_MAX];
    struct fy_node *cmd = hp_tj_get(root, "command");
    if (!fy_node_is_sequence(cmd) || fy_node_sequence_item_count(cmd) < 1) {
        hp_outcome_fail(x->out, "trial.command must be a non-empty list");
        return -1;
    }
    hp_buf_t b = {0};
    void *it = NULL;
    struct fy_node *a;
    while ((a = fy_node_sequence_iterate(cmd, &it)) != NULL) {
        char *s = hp_tj_text(a);
        int rc = substitute(x->t, s, &b, err, sizeof err);
        free(s);
        if (rc < 0) {
            hp_buf_fini(&b);
            hp_outcome_fail(x->out, "%s", err);
            return -1;
        }
        strv_push(&x->argv, hp_buf_steal(&b));
    }
    hp_buf_fini(&b);
    if (build_env(x->t, hp_tj_get(root, "env"), &x->envp, err, sizeof err) < 0) {
        hp_outcome_fail(x->out, "%s", err);
        return -1;
    }
    x->workdir = hp_tj_text(hp_tj_get(root, "workdir"));
    struct stat st;
    if (x->workdir && *x->workdir) {
        int serr = stat(x->workdir, &st) < 0 ? errno : 0;
        if (serr || !S_ISDIR(st.st_mode)) {
            hp_outcome_fail(x->out, "workdir '%s': %s", x->workdir,
                            serr ? strerror(serr) : "not a directory");
            return -1;
        }
    }
    return 0;
}

/* start: the pipes, the child in its own group, and the clock of its
 * timeout. Fails the outcome on error. */
static int start(ext_t *x)
{
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
        hp_outcome_fail(x->out, "cannot make pipes: %s", strerror(errno));
        for (int i = 0; i < 2; i++) {
            if (po[i] >= 0)
                close(po[i]);
            if (pe[i] >= 0)
                close(pe[i]);
        }
        return -1;
    }
    int src = spawn(x->argv.v, x->envp.v, x->workdir, po[1], pe[1], &x->pid);
    close(po[1]);
    close(pe[1]);
    if (src != 0) {
        close(po[0]);
        close(pe[0]);
        hp_outcome_fail(x->out, "cannot run '%s': %s", x->argv.v[0], strerror(src));
        return -1;
    }
    x->fd_out = po[0];
    x->fd_err = pe[0];
    x->fds_open = 2;
    fcntl(x->fd_out, F_SETFL, O_NONBLOCK);
    fcntl(x->fd_err, F_SETFL, O_NONBLOCK);
    x->pidfd = open_pidfd(x->pid);
    x->deadline = x->t->timeout_s > 0 ? hp_clock_now() + x->t->timeout_s : 0;
    return 0;
}

/* On cancellation or timeout, SIGTERM the group; after the grace, SIGKILL. */
static void stop_if_due(ext_t *x, double now)
{
    if (x->why == WHY_NONE && !x->exited) {
        if (hp_cancel_requested(x->cancel))
            x->why = WHY_CANCEL;
        else if (x->deadline && now >= x->deadline)
            x->why = WHY_TIMEOUT;
        if (x->why != WHY_NONE) {
            killpg(x->pid, SIGTERM);
            x->kill_at = now + x->grace;
        }
    }
    if (x->kill_at && !x->sent_kill && !x->exited && now >= x->kill_at) {
        killpg(x->pid, SIGKILL);
        x->sent_kill = 1;
    }
}

/* How long poll may sleep: until the next deadline that matters, and in
 * short steps where no fd can wake us (no pidfd, no cancel pipe). */
static double next_wait(const ext_t *x, double now)
{
    const hp_cancel_t *c = x->cancel;
    double wait = 3600;
    if (!x->exited && x->pidfd < 0)
        wait = 0.05;
    if (x->why == WHY_NONE && x->deadline)
        wait = x->deadline - now < wait ? x->deadline - now : wait;
    if (x->kill_at && !x->sent_kill)
        wait = x->kill_at - now < wait ? x->kill_at - now : wait;
    if (x->exited)
        wait = x->drain_until - now < wait ? x->drain_until - now : wait;
    if (x->why == WHY_NONE && c && c->fd[0] < 0 && wait > 0.05)
        wait = 0.05;
    return wait;
}

/* One read from a pipe into sink; EOF or an error closes it. */
static void read_pipe(ext_t *x, int *fd, char *buf, size_t cap,
                      void (*sink)(ext_t *, const char *, size_t))
{
    ssize_t r = read(*fd, buf, cap);
    if (r > 0)
        sink(x, buf, (size_t)r);
    else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        close(*fd);
        *fd = -1;
        x->fds_open--;
    }
}

/* If the child has exited, kill what is left of its group and reap it. */
static void reap(ext_t *x)
{
    /* WNOWAIT: the zombie keeps the group id ours while we kill the rest */
    siginfo_t si = {0};
    if (waitid(P_PID, (id_t)x->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        si.si_pid == x->pid) {
        killpg(x->pid, SIGKILL); /* leftovers of a finished trial */
        int ws;
        while (waitpid(x->pid, &ws, 0) < 0 && errno == EINTR)
            ;
        x->status = ws;
        x->exited = 1;
        x->drain_until = hp_clock_now() + DRAIN_AFTER_EXIT_S;
    }
}

/* supervise: read both pipes until they close and the child is reaped,
 * enforcing cancellation and the timeout on the way. */
static void supervise(ext_t *x)
{
    hp_cancel_t *c = x->cancel;
    char *buf = malloc(65536);
    HP_ASSERT(buf);
    while (x->fds_open > 0 || !x->exited) {
        double now = hp_clock_now();
        stop_if_due(x, now);
        if (x->exited && now >= x->drain_until)
            break; /* something escaped the group and holds our pipes */

        /* wait for output, the child's exit, cancellation or the next deadline */
        struct pollfd pf[4];
        int np = 0, io = -1, ie = -1;
        if (x->fd_out >= 0)
            pf[io = np++] = (struct pollfd){.fd = x->fd_out, .events = POLLIN};
        if (x->fd_err >= 0)
            pf[ie = np++] = (struct pollfd){.fd = x->fd_err, .events = POLLIN};
        if (x->why == WHY_NONE && c && c->fd[0] >= 0)
            pf[np++] = (struct pollfd){.fd = c->fd[0], .events = POLLIN};
        if (!x->exited && x->pidfd >= 0)
            pf[np++] = (struct pollfd){.fd = x->pidfd, .events = POLLIN};
        double wait = next_wait(x, now);
        int ms = wait <= 0 ? 0 : (int)(wait * 1000) + 1;
        int pr = poll(pf, (nfds_t)np, ms);
        if (pr < 0 && errno != EINTR)
            break;
        if (pr > 0) {
            if (io >= 0 && pf[io].revents)
                read_pipe(x, &x->fd_out, buf, 65536, on_stdout);
            if (ie >= 0 && pf[ie].revents)
                read_pipe(x, &x->fd_err, buf, 65536, on_stderr);
        }
        if (!x->exited)
            reap(x);
    }
    free(buf);
}

/* finish_output: close what is still open, take a last line without a
 * newline, turn the stderr ring into the outcome's tail, and give the
 * outcome both streams as captured. */
static void finish_output(ext_t *x)
{
    close_fds(x);
    if (x->line_len && !x->line_overflow) /* a last line without a newline */
        on_line(x, x->line, x->line_len);
    finish_tail(x);
    x->out->stdout_text = hp_capture_take(&x->cap_out, &x->out->stdout_len);
    x->out->stderr_text = hp_capture_take(&x->cap_err, &x->out->stderr_len);
}

/* What the program did report, for a failure that it never reported the
 * objective: "it reported: val_loss, acc" (a long list cut with how many
 * more), or that it printed no metric line at all. */
static void reported_metrics(const hp_runner_outcome_t *out, char *buf, size_t cap)
{
    if (out->n_metrics == 0) {
        snprintf(buf, cap, "it reported no metrics (print lines such as `loss=0.25` on stdout)");
        return;
    }
    size_t o = (size_t)snprintf(buf, cap, "it reported: ");
    for (size_t i = 0; i < out->n_metrics; i++) {
        const char *name = out->metrics[i].name;
        /* room for this name and a "... and N more" after it */
        if (o + strlen(name) + 32 >= cap) {
            snprintf(buf + o, cap - o, "... and %zu more", out->n_metrics - i);
            return;
        }
        o += (size_t)snprintf(buf + o, cap - o, "%s%s", name, i + 1 < out->n_metrics ? ", " : "");
    }
}

/* judge: the outcome, from why we stopped it, how it ended and whether it
 * reported the objective. */
static void judge(ext_t *x)
{
    const hp_runner_trial_t *t = x->t;
    hp_runner_outcome_t *out = x->out;
    int status = x->status;
    const char *obj = t->objective ? t->objective : "";
    const hp_runner_metric_t *m = hp_outcome_find(out, obj);
    char sb[32];
    if (x->why == WHY_CANCEL) {
        out->status = HP_RUNNER_CANCELLED;
        snprintf(out->error, sizeof out->error, "cancelled");
    } else if (x->why == WHY_TIMEOUT) {
        hp_outcome_fail(out, "timed out after %g s", t->timeout_s);
    } else if (WIFSIGNALED(status)) {
        out->term_signal = WTERMSIG(status);
        hp_outcome_fail(out, "killed by signal %d (%s)", WTERMSIG(status),
                        signame(WTERMSIG(status), sb, sizeof sb));
    } else if (WEXITSTATUS(status) != 0) {
        hp_outcome_fail(out, "exited with status %d", WEXITSTATUS(status));
    } else if (!m) {
        char said[600];
        reported_metrics(out, said, sizeof said);
        if (x->obj_bad[0])
            hp_outcome_fail(out, "exited 0 but never reported the objective '%s' (%s); %s", obj,
                            x->obj_bad, said);
        else
            hp_outcome_fail(out, "exited 0 but never reported the objective '%s'; %s", obj, said);
    } else {
        out->status = HP_RUNNER_COMPLETED;
        out->value = m->value;
    }
}

int hp_run_external(struct fy_node *root, const hp_runner_trial_t *t, const hp_runner_opts_t *o,
                    hp_runner_progress_cb cb, void *data, hp_cancel_t *cancel,
                    hp_runner_outcome_t *out)
{
    ext_t *x = ext_new(t, o, cb, data, cancel, out);
    if (prepare(x, root) == 0 && start(x) == 0) {
        supervise(x);
        finish_output(x);
        judge(x);
    }
    ext_free(x);
    return 0;
}
