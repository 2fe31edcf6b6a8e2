/*
 * hp_spawn.h — starting the real binaries as child processes, once, for
 * every suite that runs them (cli/, integration/, worker/).
 *
 *     hp_spawn_opts_t o = {.out = "DIR/stdout", .err = "DIR/stderr",
 *                          .in = "/dev/null", .env = (const char *[]){"HPSEARCH_COORDINATOR",
 *                                                                     NULL}};
 *     pid_t pid = hp_spawn(exe, (const char *[]){"status", NULL}, &o);
 *     int code = hp_spawn_wait(pid);         // exit code, or 128 + signal
 *
 * hp_spawn forks and execs exe with argv {exe, args...}. argv and the
 * environment are built in the parent, so the child allocates nothing
 * between fork and exec (the integration suites fork with nng's threads
 * running); it only redirects and execs, or _exit(127)s when it cannot (a
 * redirection that does not open, an exe that does not run), so a broken
 * start shows as status 127 rather than as a child writing into the test's
 * own output. A failed fork fails the test.
 *
 * Waiting is a plain blocking waitpid: a hang is caught by the suite's own
 * alarm() guard or ctest's timeout, never by a timing assertion here.
 */
#ifndef HP_SPAWN_H
#define HP_SPAWN_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct hp_spawn_opts {
    const char *in;  /* stdin from this file; NULL: inherited */
    const char *out; /* stdout to this file; NULL: inherited */
    const char *err; /* stderr to this file; NULL: inherited; == out: one shared file */
    int append;      /* open out/err with O_APPEND instead of O_TRUNC */
    mode_t mode;     /* of files created for out/err; 0: 0600 */
    /* the first "%d" in out/err stands for the child's own pid: a name the
     * parent cannot know before fork (integration's PROGRAM-PID.log) */
    int pid_in_name;
    /* changes to the inherited environment, NULL-terminated: "NAME=VALUE"
     * sets NAME, a bare "NAME" unsets it; NULL: inherited unchanged */
    const char *const *env;
    /* SIGKILL the child when the test process dies (PR_SET_PDEATHSIG), so
     * nothing outlives a test that is killed by its guard */
    int die_with_parent;
} hp_spawn_opts_t;

/* in the child: opens path for fd 1 or 2; -1 when it cannot */
static inline int hp_spawn_open_out_(const hp_spawn_opts_t *o, const char *path)
{
    char name[1024];
    const char *mark = o->pid_in_name ? strstr(path, "%d") : NULL;
    if (mark) {
        snprintf(name, sizeof name, "%.*s%d%s", (int)(mark - path), path, (int)getpid(),
                 mark + 2);
        path = name;
    }
    int flags = O_WRONLY | O_CREAT | (o->append ? O_APPEND : O_TRUNC);
    return open(path, flags, o->mode ? o->mode : 0600);
}

/* in the parent: environ with o->env's changes applied (free the array,
 * not its strings), so the child does not allocate between fork and exec */
static inline char **hp_spawn_env_(const char *const *changes)
{
    extern char **environ;
    size_t n = 0, k = 0, m = 0;
    while (environ[n])
        n++;
    while (changes[m])
        m++;
    char **envp = calloc(n + m + 1, sizeof *envp);
    ck_assert_ptr_nonnull(envp);
    for (size_t i = 0; i < n; i++) {
        int changed = 0;
        for (size_t c = 0; c < m && !changed; c++) {
            size_t len = strcspn(changes[c], "=");
            changed = strncmp(environ[i], changes[c], len) == 0 && environ[i][len] == '=';
        }
        if (!changed)
            envp[k++] = environ[i];
    }
    for (size_t c = 0; c < m; c++)
        if (strchr(changes[c], '='))
            envp[k++] = (char *)changes[c];
    return envp;
}

/* in the child: everything between fork and exec; returns only on failure */
static inline void hp_spawn_child_(const char *exe, char **argv, char **envp,
                                   const hp_spawn_opts_t *o, pid_t parent)
{
    if (o->die_with_parent) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) /* the parent died before prctl took hold */
            return;
    }
    signal(SIGALRM, SIG_DFL); /* the test's alarm guard is not the child's */
    int in = -1, out = -1, err = -1;
    if (o->in && (in = open(o->in, O_RDONLY)) < 0)
        return;
    if (o->out && (out = hp_spawn_open_out_(o, o->out)) < 0)
        return;
    if (o->err && o->out && strcmp(o->err, o->out) == 0)
        err = out;
    else if (o->err && (err = hp_spawn_open_out_(o, o->err)) < 0)
        return;
    if ((in >= 0 && dup2(in, 0) < 0) || (out >= 0 && dup2(out, 1) < 0) ||
        (err >= 0 && dup2(err, 2) < 0))
        return;
    if (envp)
        execve(exe, argv, envp);
    else
        execv(exe, argv);
}

/* hp_spawn starts exe with argv {exe, args[0], ..., NULL} (args is
 * NULL-terminated; the caller keeps it) and returns the child's pid. o may
 * be NULL: everything inherited. The caller reaps the child
 * (hp_spawn_wait, hp_spawn_kill). */
static inline pid_t hp_spawn(const char *exe, const char *const *args, const hp_spawn_opts_t *o)
{
    static const hp_spawn_opts_t none = {0};
    if (!o)
        o = &none;
    size_t n = 0;
    while (args && args[n])
        n++;
    char **argv = calloc(n + 2, sizeof *argv);
    ck_assert_ptr_nonnull(argv);
    argv[0] = (char *)exe;
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = (char *)args[i];
    char **envp = o->env ? hp_spawn_env_(o->env) : NULL;
    pid_t parent = getpid();
    pid_t pid = fork();
    ck_assert_msg(pid >= 0, "cannot fork to run %s: %s", exe, strerror(errno));
    if (pid == 0) {
        hp_spawn_child_(exe, argv, envp, o, parent);
        _exit(127);
    }
    free(envp);
    free(argv);
    return pid;
}

/* hp_spawn_wait_status blocks until pid ends and returns its raw wait
 * status (for WIFEXITED/WTERMSIG); a lost child fails the test. */
static inline int hp_spawn_wait_status(pid_t pid)
{
    int st;
    pid_t got;
    while ((got = waitpid(pid, &st, 0)) < 0)
        ck_assert_msg(errno == EINTR, "waitpid %d: %s", (int)pid, strerror(errno));
    ck_assert_int_eq(got, pid);
    return st;
}

/* hp_spawn_code folds a wait status into one number the way a shell does:
 * the exit code, or 128 + the signal that killed it. */
static inline int hp_spawn_code(int st)
{
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* hp_spawn_wait blocks until pid ends: its exit code, or 128 + signal. */
static inline int hp_spawn_wait(pid_t pid)
{
    return hp_spawn_code(hp_spawn_wait_status(pid));
}

/* hp_spawn_kill sends sig to pid and reaps it: its raw wait status, or -1
 * if pid was not a child still to reap. Never fails the test: teardowns
 * call it for children that may be gone already. */
static inline int hp_spawn_kill(pid_t pid, int sig)
{
    kill(pid, sig);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return st;
}

#endif
