/*
 * The external program runner: posix_spawn the trial's command in its own
 * process group, feed it the params (argv placeholders, environment), read
 * metric lines from its stdout and the tail of its stderr, and enforce the
 * timeout and cancellation on the whole group.
 *
 * posix_spawn, not fork: the worker is multi-threaded and uses nng, whose
 * fork handlers abort in a forked child; glibc's posix_spawn runs no fork
 * handlers and reports exec failures as its return value.
 */
#define _GNU_SOURCE /* pipe2, vasprintf, sigabbrev_np, posix_spawn *_np */
#include "runner_int.h"

#include "buf.h"
#include "cancel.h"
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

typedef struct ext {
    const hp_runner_trial_t *t;
    hp_runner_outcome_t *out;
    hp_runner_progress_cb cb;
    void *data;
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
} ext_t;

/* ---- argv and environment ---- */

static const char *param_value(const hp_runner_trial_t *t, const char *name, size_t n)
{
    for (size_t i = 0; i < t->n_params; i++)
        if (strlen(t->params[i].name) == n && memcmp(t->params[i].name, name, n) == 0)
            return t->params[i].value;
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

typedef struct strv {
    char **v;
    size_t n, cap;
} strv_t;

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

enum { WHY_NONE, WHY_TIMEOUT, WHY_CANCEL };

int hp_run_external(struct fy_node *root, const hp_runner_trial_t *t, const hp_runner_opts_t *o,
                    hp_runner_progress_cb cb, void *data, hp_cancel_t *cancel,
                    hp_runner_outcome_t *out)
{
    char err[HP_RUNNER_ERROR_MAX];
    strv_t argv = {0}, envp = {0};
    hp_buf_t b = {0};
    char *workdir = NULL;
    int rc = 0;
    ext_t *x = calloc(1, sizeof *x);
    HP_ASSERT(x);
    x->line = malloc(LINE_MAX_BYTES);
    HP_ASSERT(x->line);
    x->t = t;
    x->out = out;
    x->cb = cb;
    x->data = data;

    struct fy_node *cmd = hp_tj_get(root, "command");
    if (!fy_node_is_sequence(cmd) || fy_node_sequence_item_count(cmd) < 1) {
        hp_outcome_fail(out, "trial.command must be a non-empty list");
        goto done;
    }
    void *it = NULL;
    struct fy_node *a;
    while ((a = fy_node_sequence_iterate(cmd, &it)) != NULL) {
        char *s = hp_tj_text(a);
        rc = substitute(t, s, &b, err, sizeof err);
        free(s);
        if (rc < 0) {
            hp_outcome_fail(out, "%s", err);
            goto done;
        }
        strv_push(&argv, hp_buf_steal(&b));
    }
    struct fy_node *env = hp_tj_get(root, "env");
    if (build_env(t, env, &envp, err, sizeof err) < 0) {
        hp_outcome_fail(out, "%s", err);
        goto done;
    }
    workdir = hp_tj_text(hp_tj_get(root, "workdir"));
    struct stat st;
    if (workdir && *workdir) {
        int serr = stat(workdir, &st) < 0 ? errno : 0;
        if (serr || !S_ISDIR(st.st_mode)) {
            hp_outcome_fail(out, "workdir '%s': %s", workdir,
                            serr ? strerror(serr) : "not a directory");
            goto done;
        }
    }

    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
        hp_outcome_fail(out, "cannot make pipes: %s", strerror(errno));
        for (int i = 0; i < 2; i++) {
            if (po[i] >= 0)
                close(po[i]);
            if (pe[i] >= 0)
                close(pe[i]);
        }
        goto done;
    }
    pid_t pid;
    int src = spawn(argv.v, envp.v, workdir, po[1], pe[1], &pid);
    close(po[1]);
    close(pe[1]);
    if (src != 0) {
        close(po[0]);
        close(pe[0]);
        hp_outcome_fail(out, "cannot run '%s': %s", argv.v[0], strerror(src));
        goto done;
    }
    fcntl(po[0], F_SETFL, O_NONBLOCK);
    fcntl(pe[0], F_SETFL, O_NONBLOCK);
    int pidfd = open_pidfd(pid);

    const double grace = (o->kill_grace_ms > 0 ? o->kill_grace_ms : 5000) / 1000.0;
    const double start = hp_runner_now();
    double deadline = t->timeout_s > 0 ? start + t->timeout_s : 0;
    double kill_at = 0, drain_until = 0;
    int why = WHY_NONE, exited = 0, status = 0, sent_kill = 0;
    int fds_open = 2;
    char *buf = malloc(65536);
    HP_ASSERT(buf);

    while (fds_open > 0 || !exited) {
        double now = hp_runner_now();
        if (why == WHY_NONE && !exited) {
            if (hp_cancel_requested(cancel))
                why = WHY_CANCEL;
            else if (deadline && now >= deadline)
                why = WHY_TIMEOUT;
            if (why != WHY_NONE) {
                killpg(pid, SIGTERM);
                kill_at = now + grace;
            }
        }
        if (kill_at && !sent_kill && !exited && now >= kill_at) {
            killpg(pid, SIGKILL);
            sent_kill = 1;
        }
        if (exited && now >= drain_until)
            break; /* something escaped the group and holds our pipes */

        /* wait for output, the child's exit, cancellation or the next deadline */
        struct pollfd pf[4];
        int np = 0, io = -1, ie = -1, ic = -1, ip = -1;
        if (po[0] >= 0)
            pf[io = np++] = (struct pollfd){.fd = po[0], .events = POLLIN};
        if (pe[0] >= 0)
            pf[ie = np++] = (struct pollfd){.fd = pe[0], .events = POLLIN};
        if (why == WHY_NONE && cancel && cancel->fd[0] >= 0)
            pf[ic = np++] = (struct pollfd){.fd = cancel->fd[0], .events = POLLIN};
        if (!exited && pidfd >= 0)
            pf[ip = np++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
        double wait = 3600;
        if (!exited && pidfd < 0)
            wait = 0.05;
        if (why == WHY_NONE && deadline)
            wait = deadline - now < wait ? deadline - now : wait;
        if (kill_at && !sent_kill)
            wait = kill_at - now < wait ? kill_at - now : wait;
        if (exited)
            wait = drain_until - now < wait ? drain_until - now : wait;
        if (why == WHY_NONE && cancel && cancel->fd[0] < 0 && wait > 0.05)
            wait = 0.05;
        int ms = wait <= 0 ? 0 : (int)(wait * 1000) + 1;
        int pr = poll(pf, (nfds_t)np, ms);
        if (pr < 0 && errno != EINTR)
            break;
        if (pr > 0) {
            if (io >= 0 && pf[io].revents) {
                ssize_t r = read(po[0], buf, 65536);
                if (r > 0)
                    on_stdout(x, buf, (size_t)r);
                else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                    close(po[0]);
                    po[0] = -1;
                    fds_open--;
                }
            }
            if (ie >= 0 && pf[ie].revents) {
                ssize_t r = read(pe[0], buf, 65536);
                if (r > 0)
                    on_stderr(x, buf, (size_t)r);
                else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                    close(pe[0]);
                    pe[0] = -1;
                    fds_open--;
                }
            }
        }
        if (!exited) {
            /* WNOWAIT: the zombie keeps the group id ours while we kill the rest */
            siginfo_t si = {0};
            if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                si.si_pid == pid) {
                killpg(pid, SIGKILL); /* leftovers of a finished trial */
                int ws;
                while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
                    ;
                status = ws;
                exited = 1;
                drain_until = hp_runner_now() + DRAIN_AFTER_EXIT_S;
            }
        }
    }
    free(buf);
    if (pidfd >= 0)
        close(pidfd);
    if (po[0] >= 0)
        close(po[0]);
    if (pe[0] >= 0)
        close(pe[0]);
    if (x->line_len && !x->line_overflow) /* a last line without a newline */
        on_line(x, x->line, x->line_len);
    finish_tail(x);

    const char *obj = t->objective ? t->objective : "";
    const hp_runner_metric_t *m = hp_outcome_find(out, obj);
    char sb[32];
    if (why == WHY_CANCEL) {
        out->status = HP_RUNNER_CANCELLED;
        snprintf(out->error, sizeof out->error, "cancelled");
    } else if (why == WHY_TIMEOUT) {
        hp_outcome_fail(out, "timed out after %g s", t->timeout_s);
    } else if (WIFSIGNALED(status)) {
        hp_outcome_fail(out, "killed by signal %d (%s)", WTERMSIG(status),
                        signame(WTERMSIG(status), sb, sizeof sb));
    } else if (WEXITSTATUS(status) != 0) {
        hp_outcome_fail(out, "exited with status %d", WEXITSTATUS(status));
    } else if (!m) {
        if (x->obj_bad[0])
            hp_outcome_fail(out, "exited 0 but never reported the objective '%s' (%s)", obj,
                            x->obj_bad);
        else
            hp_outcome_fail(out, "exited 0 but never reported the objective '%s'", obj);
    } else {
        out->status = HP_RUNNER_COMPLETED;
        out->value = m->value;
    }

done:
    strv_free(&argv);
    strv_free(&envp);
    hp_buf_fini(&b);
    free(workdir);
    free(x->line);
    free(x);
    return 0;
}
