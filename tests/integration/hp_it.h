/*
 * hp_it.h — what the integration suites share beyond harness.h: running
 * hpsearch as a user does, waiting for a process or a row (never for a
 * time), and the assertions they read with. All static inline, so a suite
 * takes what it uses.
 *
 *     res_t r = CLI(&h, "status", "--db", h.db);     // against h's daemon
 *     OK(r);
 *     HAS(r.out, "completed");
 *     res_free(&r);
 *     int code = RUN(&h, "run1", "run", "--db", h.db, spec);   // DIR/run1.out, .err
 *     wait_db(h.db, "SELECT count(*) FROM trials WHERE state = 'running'", 1);
 */
#ifndef HP_IT_H
#define HP_IT_H

#include "harness.h"
#include "hp_check.h"
#include "hp_spawn.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

/* how long a wait on a condition may take before the test fails: a guard
 * against hangs, never a timing */
#define HP_IT_GUARD_S 300

static inline void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the CLI against the harness's daemon ------------------------------- */

typedef struct res {
    int status; /* exit code (hp_spawn_wait), 128 + signal */
    char *out, *err;
} res_t;

/* hpsearch ARGS against h's daemon (HPSEARCH_COORDINATOR), to completion */
static inline res_t cli_v(hp_harness_t *h, const char *const *args)
{
    char exe[700], outp[700], errp[700], coord[700];
    snprintf(exe, sizeof exe, "%s/hpsearch", h->bin);
    snprintf(outp, sizeof outp, "%s/cli.out", h->dir);
    snprintf(errp, sizeof errp, "%s/cli.err", h->dir);
    snprintf(coord, sizeof coord, "HPSEARCH_COORDINATOR=%s", h->control);
    const char *env[] = {coord, "HPSEARCH_TOKEN_FILE", NULL};
    hp_spawn_opts_t o = {.in = "/dev/null", .out = outp, .err = errp, .env = env,
                         .die_with_parent = 1};
    pid_t pid = hp_spawn(exe, args, &o);
    res_t r = {.status = hp_spawn_wait(pid)};
    r.out = hp_check_slurp(outp, 1);
    r.err = hp_check_slurp(errp, 1);
    return r;
}

#define CLI(h, ...) cli_v((h), (const char *[]){__VA_ARGS__, NULL})

static inline void res_free(res_t *r)
{
    free(r->out);
    free(r->err);
}

#define OK(r) ck_assert_msg((r).status == 0, "exit %d: %s%s", (r).status, (r).out, (r).err)
#define HAS(text, needle)                                                                     \
    ck_assert_msg(strstr((text), (needle)) != NULL, "expected '%s' in:\n%s", (needle), (text))
#define LACKS(text, needle)                                                                   \
    ck_assert_msg(strstr((text), (needle)) == NULL, "did not expect '%s' in:\n%s", (needle),  \
                  (text))

/* ---- processes ------------------------------------------------------------ */

/* Waits for pid (a harness child) to exit: its raw wait status. A child
 * that never exits fails the test at the guard. */
static inline int wait_exit(hp_harness_t *h, pid_t pid)
{
    int st = 0;
    pid_t got = 0;
    for (int i = 0; i < HP_IT_GUARD_S * 20 && (got = waitpid(pid, &st, WNOHANG)) == 0; i++)
        nap_ms(50);
    ck_assert_msg(got == pid, "pid %d did not exit within %d s", (int)pid, HP_IT_GUARD_S);
    for (int i = 0; i < h->nchildren; i++)
        if (h->children[i] == pid)
            h->children[i] = 0;
    if (h->daemon == pid)
        h->daemon = 0;
    return st;
}

/* The log the harness gave a child (DIR/PROGRAM-PID.log). */
static inline char *child_log(hp_harness_t *h, const char *program, pid_t pid)
{
    char path[800];
    snprintf(path, sizeof path, "%s/%s-%d.log", h->dir, program, (int)pid);
    return hp_check_slurp(path, 1);
}

/* hpsearch ARGS as its own process (no daemon address given: `run` starts
 * its own), its output in DIR/NAME.out and DIR/NAME.err (cli_output). */
static inline pid_t spawn_cli(hp_harness_t *h, const char *name, const char *const *args)
{
    char exe[700], out[800], err[800];
    snprintf(exe, sizeof exe, "%s/hpsearch", h->bin);
    snprintf(out, sizeof out, "%s/%s.out", h->dir, name);
    snprintf(err, sizeof err, "%s/%s.err", h->dir, name);
    hp_spawn_opts_t o = {.in = "/dev/null", .out = out, .err = err, .die_with_parent = 1};
    pid_t pid = hp_spawn(exe, args, &o);
    ck_assert_int_lt(h->nchildren, HP_HARNESS_MAX_CHILDREN);
    h->children[h->nchildren++] = pid;
    return pid;
}

static inline char *cli_output(hp_harness_t *h, const char *name, const char *ext)
{
    char path[800];
    snprintf(path, sizeof path, "%s/%s.%s", h->dir, name, ext);
    return hp_check_slurp(path, 1);
}

/* Runs hpsearch to its end: exit code, or 128 + signal. */
static inline int run_cli(hp_harness_t *h, const char *name, const char *const *args)
{
    return hp_spawn_code(wait_exit(h, spawn_cli(h, name, args)));
}

#define RUN(h, name, ...) run_cli((h), (name), (const char *[]){__VA_ARGS__, NULL})

/* ---- the database, read-only as any reader -------------------------------- */

static inline long db_int(const char *db, const char *sql)
{
    return hp_harness_db_int(db, sql);
}

/* Waits until sql on db gives at least want. */
static inline void wait_db(const char *db, const char *sql, long want)
{
    hp_harness_wait_db(db, sql, want, HP_IT_GUARD_S);
}

/* The first cell of a formatted query on db, as an integer. */
static inline long db_intf(const char *db, const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return db_int(db, sql);
}

/* What every fault test ends with: each trial of the study (it has
 * max_trials n) completed exactly once — numbers 0..n-1 each once, each
 * completed with a value and one completed attempt, none with two, the
 * value stored being that attempt's own objective — and PRAGMA
 * integrity_check is ok. */
static inline void check_exactly_once(const char *db, const char *study, long n)
{
#define HP_IT_OF_STUDY                                                                        \
    " FROM trials t JOIN studies s ON s.id = t.study_id AND s.name = '%s'"
#define HP_IT_ATTEMPTS " JOIN trial_attempts a ON a.trial_id = t.id AND a.outcome = 'completed'"
    ck_assert_int_eq(db_intf(db, "SELECT max_trials FROM studies WHERE name = '%s'", study), n);
    ck_assert_int_eq(db_intf(db, "SELECT count(*)" HP_IT_OF_STUDY, study), n);
    ck_assert_int_eq(db_intf(db, "SELECT count(DISTINCT t.number)" HP_IT_OF_STUDY
                                 " WHERE t.number BETWEEN 0 AND %ld",
                             study, n - 1),
                     n);
    ck_assert_int_eq(db_intf(db, "SELECT count(*)" HP_IT_OF_STUDY
                                 " WHERE t.state = 'completed' AND t.value IS NOT NULL",
                             study),
                     n);
    ck_assert_int_eq(db_intf(db, "SELECT count(*)" HP_IT_OF_STUDY HP_IT_ATTEMPTS, study), n);
    ck_assert_int_eq(db_intf(db, "SELECT count(*) FROM (SELECT t.id" HP_IT_OF_STUDY HP_IT_ATTEMPTS
                                 " GROUP BY t.id HAVING count(*) > 1)",
                             study),
                     0);
    ck_assert_int_eq(db_intf(db, "SELECT count(*)" HP_IT_OF_STUDY HP_IT_ATTEMPTS
                                 " JOIN studies o ON o.id = t.study_id"
                                 " WHERE NOT EXISTS (SELECT 1 FROM metrics m WHERE"
                                 " m.trial_id = t.id AND m.attempt = a.attempt AND"
                                 " m.name = json_extract(o.spec_json, '$.objective.metric') AND"
                                 " m.value = t.value)",
                             study),
                     0);
#undef HP_IT_OF_STUDY
#undef HP_IT_ATTEMPTS
    char ok[64] = "";
    hp_harness_db_text(db, "PRAGMA integrity_check", ok, sizeof ok);
    ck_assert_str_eq(ok, "ok");
}

#endif
