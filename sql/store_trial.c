/*
 * store_trial.c — trials and their attempts: creation, the checked state
 * machine, leases, and the reads the scheduler and users make.
 */
#include "store_int.h"

#include "err.h"

#include <inttypes.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const trial_states[HP_TRIAL_STATE_COUNT_] = {
    "pending", "running", "completed", "failed", "pruned", "cancelled",
};

const char *hp_trial_state_name(hp_trial_state_t state)
{
    return (unsigned)state < HP_TRIAL_STATE_COUNT_ ? trial_states[state] : "unknown";
}

int hp_trial_state_parse(const char *name)
{
    for (int i = 0; name && i < HP_TRIAL_STATE_COUNT_; i++)
        if (strcmp(name, trial_states[i]) == 0)
            return i;
    return -1;
}

int hp_trial_transition_ok(hp_trial_state_t from, hp_trial_state_t to)
{
    /* allowed[from] is the mask of states `from` may move to */
    static const unsigned allowed[HP_TRIAL_STATE_COUNT_] = {
        [HP_TRIAL_PENDING] = HP_TRIAL_MASK(HP_TRIAL_RUNNING) | HP_TRIAL_MASK(HP_TRIAL_CANCELLED),
        [HP_TRIAL_RUNNING] = HP_TRIAL_MASK(HP_TRIAL_COMPLETED) | HP_TRIAL_MASK(HP_TRIAL_FAILED) |
                             HP_TRIAL_MASK(HP_TRIAL_PRUNED) | HP_TRIAL_MASK(HP_TRIAL_PENDING) |
                             HP_TRIAL_MASK(HP_TRIAL_CANCELLED),
    };
    if ((unsigned)from >= HP_TRIAL_STATE_COUNT_ || (unsigned)to >= HP_TRIAL_STATE_COUNT_)
        return 0;
    return (allowed[from] & HP_TRIAL_MASK(to)) != 0;
}

static const char *const trial_origins[HP_TRIAL_ORIGIN_COUNT_] = {
    "sampler", "enqueued", "ask",
};

const char *hp_trial_origin_name(hp_trial_origin_t origin)
{
    return (unsigned)origin < HP_TRIAL_ORIGIN_COUNT_ ? trial_origins[origin] : "unknown";
}

int hp_trial_origin_parse(const char *name)
{
    for (int i = 0; name && i < HP_TRIAL_ORIGIN_COUNT_; i++)
        if (strcmp(name, trial_origins[i]) == 0)
            return i;
    return -1;
}

void hp_trial_fini(hp_trial_t *t)
{
    free(t->params);
    free(t->error);
    free(t->diagnosis);
    free(t->diagnosis_detail);
    free(t->worker_id);
    memset(t, 0, sizeof *t);
}

/* The trial columns with its latest attempt's lease. */
#define TRIAL_SELECT                                                                  \
    "SELECT t.id, t.study_id, t.number, t.state, t.params, t.value, t.error, "       \
    "t.diagnosis, t.diagnosis_detail, t.attempts, a.worker_id, a.lease_id, "          \
    "a.lease_expires, t.created, t.started, t.ended, t.origin "                       \
    "FROM trials t LEFT JOIN trial_attempts a "                                       \
    "ON a.trial_id = t.id AND a.attempt = t.attempts "

static int read_trial(sqlite3_stmt *s, hp_trial_t *out, char *err, size_t errlen)
{
    int oom = 0;
    memset(out, 0, sizeof *out);
    out->id = sqlite3_column_int64(s, 0);
    out->study_id = sqlite3_column_int64(s, 1);
    out->number = sqlite3_column_int64(s, 2);
    int state = hp_trial_state_parse((const char *)sqlite3_column_text(s, 3));
    out->state = state < 0 ? HP_TRIAL_FAILED : (hp_trial_state_t)state;
    out->params = hp_store_col_dup(s, 4, &oom);
    out->has_value = sqlite3_column_type(s, 5) != SQLITE_NULL;
    out->value = out->has_value ? sqlite3_column_double(s, 5) : NAN;
    out->error = hp_store_col_dup(s, 6, &oom);
    out->diagnosis = hp_store_col_dup(s, 7, &oom);
    out->diagnosis_detail = hp_store_col_dup(s, 8, &oom);
    out->attempts = sqlite3_column_int(s, 9);
    out->worker_id = hp_store_col_dup(s, 10, &oom);
    out->lease_id = sqlite3_column_int64(s, 11);
    out->lease_expires = hp_store_col_time(s, 12);
    out->created = hp_store_col_time(s, 13);
    out->started = hp_store_col_time(s, 14);
    out->ended = hp_store_col_time(s, 15);
    int origin = hp_trial_origin_parse((const char *)sqlite3_column_text(s, 16));
    out->origin = origin < 0 ? HP_TRIAL_ORIGIN_SAMPLER : (hp_trial_origin_t)origin;
    if (oom) {
        hp_trial_fini(out);
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    }
    return 0;
}

/* get_one steps a lookup and reads its first row, if any. */
static int get_one(hp_store_t *st, sqlite3_stmt *s, hp_trial_t *out, const char *what,
                   char *err, size_t errlen)
{
    int rc = sqlite3_step(s);
    int code;
    if (rc == SQLITE_ROW)
        code = read_trial(s, out, err, errlen);
    else if (rc == SQLITE_DONE)
        code = hp_errf(err, errlen, HP_ENOENT, "%s", what);
    else
        code = hp_store_sqlerr(st, rc, err, errlen, "%s", what);
    sqlite3_reset(s);
    return code;
}

/* ---- creation ------------------------------------------------------- */

int hp_store_trial_create(hp_store_t *st, int64_t study_id, const char *params,
                          int64_t *id, int64_t *number, char *err, size_t errlen)
{
    return hp_store_trial_create_origin(st, study_id, params, HP_TRIAL_ORIGIN_SAMPLER, id,
                                        number, err, errlen);
}

int hp_store_trial_create_origin(hp_store_t *st, int64_t study_id, const char *params,
                                 hp_trial_origin_t origin, int64_t *id, int64_t *number,
                                 char *err, size_t errlen)
{
    if ((unsigned)origin >= HP_TRIAL_ORIGIN_COUNT_)
        return hp_errf(err, errlen, HP_EINVAL, "study %" PRId64 ": unknown trial origin %d",
                       study_id, (int)origin);
    if (!params)
        return hp_errf(err, errlen, HP_EINVAL, "study %" PRId64 ": trial without params",
                       study_id);
    int rc = hp_store_op_begin(st, "create a trial", err, errlen);
    if (rc < 0)
        return rc;
    hp_study_state_t state;
    hp_goal_t goal;
    char name[128];
    rc = hp_store_study_brief(st, study_id, &state, &goal, name, sizeof name, err, errlen);
    if (rc == 0 && state != HP_STUDY_RUNNING)
        rc = hp_errf(err, errlen, HP_ESTATE, "study '%s' (id %" PRId64 ") is %s; no new trials",
                     name, study_id, hp_study_state_name(state));
    sqlite3_stmt *s = NULL;
    if (rc == 0)
        s = hp_store_stmt(st, Q_TRIAL_INSERT,
                          "INSERT INTO trials (study_id, number, state, params, created, "
                          "origin) "
                          "SELECT ?1, COALESCE(MAX(number) + 1, 0), 'pending', ?2, ?3, ?4 "
                          "FROM trials WHERE study_id = ?1 "
                          "RETURNING id, number",
                          &rc, err, errlen);
    if (s) {
        sqlite3_bind_int64(s, 1, study_id);
        sqlite3_bind_text(s, 2, params, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(s, 3, hp_store_clock(st));
        sqlite3_bind_text(s, 4, trial_origins[origin], -1, SQLITE_STATIC);
        int src = sqlite3_step(s);
        if (src == SQLITE_ROW) {
            if (id)
                *id = sqlite3_column_int64(s, 0);
            if (number)
                *number = sqlite3_column_int64(s, 1);
            src = sqlite3_step(s);
        }
        if (src != SQLITE_DONE) {
            rc = hp_store_sqlerr(st, src, err, errlen, "study %" PRId64 ": create trial",
                                 study_id);
            if (rc == HP_EINVAL)
                hp_errf(err, errlen, rc,
                        "study %" PRId64 ": trial params must be a JSON object: %.200s",
                        study_id, params);
        }
        sqlite3_reset(s);
    }
    return hp_store_op_end(st, rc, err, errlen);
}

/* ---- reads ---------------------------------------------------------- */

int hp_store_trial_get(hp_store_t *st, int64_t id, hp_trial_t *out, char *err,
                       size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc = HP_EDB;
    sqlite3_stmt *s = hp_store_stmt(st, Q_TRIAL_GET, TRIAL_SELECT "WHERE t.id = ?1", &rc,
                                    err, errlen);
    if (!s)
        return rc;
    sqlite3_bind_int64(s, 1, id);
    char what[64];
    snprintf(what, sizeof what, "no trial %" PRId64, id);
    return get_one(st, s, out, what, err, errlen);
}

int hp_store_trial_get_by_number(hp_store_t *st, int64_t study_id, int64_t number,
                                 hp_trial_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc = HP_EDB;
    sqlite3_stmt *s = hp_store_stmt(st, Q_TRIAL_GET_BY_NUMBER,
                                    TRIAL_SELECT "WHERE t.study_id = ?1 AND t.number = ?2",
                                    &rc, err, errlen);
    if (!s)
        return rc;
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_int64(s, 2, number);
    char what[80];
    snprintf(what, sizeof what, "study %" PRId64 " has no trial #%" PRId64, study_id,
             number);
    return get_one(st, s, out, what, err, errlen);
}

int hp_store_trial_next_pending(hp_store_t *st, int64_t study_id, hp_trial_t *out,
                                char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc = HP_EDB;
    sqlite3_stmt *s = hp_store_stmt(
        st, Q_TRIAL_NEXT_PENDING,
        TRIAL_SELECT "WHERE t.study_id = ?1 AND t.state = 'pending' ORDER BY t.number LIMIT 1",
        &rc, err, errlen);
    if (!s)
        return rc;
    sqlite3_bind_int64(s, 1, study_id);
    char what[64];
    snprintf(what, sizeof what, "study %" PRId64 " has no pending trial", study_id);
    return get_one(st, s, out, what, err, errlen);
}

int hp_store_trial_best(hp_store_t *st, int64_t study_id, hp_trial_t *out, char *err,
                        size_t errlen)
{
    memset(out, 0, sizeof *out);
    hp_study_state_t state;
    hp_goal_t goal;
    char name[128];
    int rc = hp_store_study_brief(st, study_id, &state, &goal, name, sizeof name, err, errlen);
    if (rc < 0)
        return rc;
    int max = goal == HP_GOAL_MAXIMIZE;
    sqlite3_stmt *s =
        max ? hp_store_stmt(st, Q_TRIAL_BEST_MAX,
                            TRIAL_SELECT "WHERE t.study_id = ?1 AND t.state = 'completed' "
                                         "AND t.infeasible IS NULL "
                                         "ORDER BY t.value DESC, t.number ASC LIMIT 1",
                            &rc, err, errlen)
            : hp_store_stmt(st, Q_TRIAL_BEST_MIN,
                            TRIAL_SELECT "WHERE t.study_id = ?1 AND t.state = 'completed' "
                                         "AND t.infeasible IS NULL "
                                         "ORDER BY t.value ASC, t.number ASC LIMIT 1",
                            &rc, err, errlen);
    if (!s)
        return rc;
    sqlite3_bind_int64(s, 1, study_id);
    char what[64];
    snprintf(what, sizeof what, "study %" PRId64 " has no completed feasible trial", study_id);
    return get_one(st, s, out, what, err, errlen);
}

int hp_store_trial_count(hp_store_t *st, int64_t study_id,
                         int64_t counts[HP_TRIAL_STATE_COUNT_], char *err, size_t errlen)
{
    memset(counts, 0, sizeof(int64_t) * HP_TRIAL_STATE_COUNT_);
    int rc = HP_EDB;
    sqlite3_stmt *s = hp_store_stmt(
        st, Q_TRIAL_COUNT,
        "SELECT state, count(*) FROM trials WHERE study_id = ?1 GROUP BY state", &rc, err,
        errlen);
    if (!s)
        return rc;
    sqlite3_bind_int64(s, 1, study_id);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int state = hp_trial_state_parse((const char *)sqlite3_column_text(s, 0));
        if (state >= 0)
            counts[state] = sqlite3_column_int64(s, 1);
    }
    int code = rc == SQLITE_DONE ? 0
                                 : hp_store_sqlerr(st, rc, err, errlen,
                                                   "study %" PRId64 ": count trials", study_id);
    sqlite3_reset(s);
    return code;
}

/* hp_store_read_rows' view of a trial row */
static int read_row(sqlite3_stmt *s, void *row, char *err, size_t errlen)
{
    return read_trial(s, row, err, errlen);
}

static void fini_row(void *row) { hp_trial_fini(row); }

static const hp_store_rows_t trial_rows = {
    .size = sizeof(hp_trial_t),
    .min_cap = 64,
    .read = read_row,
    .fini = fini_row,
    .what = "list trials",
};

typedef struct list_ctx {
    hp_store_trial_cb cb;
    void *data;
} list_ctx_t;

static int list_each(void *ctx, void *row)
{
    list_ctx_t *c = ctx;
    return c->cb(c->data, row);
}

int hp_store_trial_list(hp_store_t *st, int64_t study_id, unsigned state_mask,
                        hp_store_trial_cb cb, void *data, char *err, size_t errlen)
{
    int rc = HP_EDB;
    /* the mask becomes up to six bound state names: NULL never matches IN */
#define STATE_IN " t.state IN (?2, ?3, ?4, ?5, ?6, ?7) ORDER BY t.study_id, t.number"
    sqlite3_stmt *s =
        study_id ? hp_store_stmt(st, Q_TRIAL_LIST_STUDY,
                                 TRIAL_SELECT "WHERE t.study_id = ?1 AND" STATE_IN, &rc, err,
                                 errlen)
                 : hp_store_stmt(st, Q_TRIAL_LIST_ALL,
                                 TRIAL_SELECT "WHERE ?1 = 0 AND" STATE_IN, &rc, err, errlen);
#undef STATE_IN
    if (!s)
        return rc;
    sqlite3_bind_int64(s, 1, study_id);
    for (int i = 0; i < HP_TRIAL_STATE_COUNT_; i++)
        if (!state_mask || (state_mask & HP_TRIAL_MASK(i)))
            sqlite3_bind_text(s, 2 + i, trial_states[i], -1, SQLITE_STATIC);

    /* read everything first: the callback may then write to these trials
     * (re-queue them at restart) without disturbing the scan */
    list_ctx_t ctx = {cb, data};
    return hp_store_read_rows(st, s, &trial_rows, list_each, &ctx, err, errlen);
}

/* ---- the state machine ---------------------------------------------- */

/* What a transition needs to know about the trial as it is now. */
typedef struct cur {
    int64_t id, study_id, number;
    hp_trial_state_t state;
    int attempts;
    int64_t lease_id; /* of the latest attempt; 0 if none */
} cur_t;

static int load(hp_store_t *st, int64_t id, cur_t *c, char *err, size_t errlen)
{
    int rc = HP_EDB;
    sqlite3_stmt *s = hp_store_stmt(
        st, Q_TRIAL_CURRENT,
        "SELECT t.study_id, t.number, t.state, t.attempts, a.lease_id "
        "FROM trials t LEFT JOIN trial_attempts a "
        "ON a.trial_id = t.id AND a.attempt = t.attempts WHERE t.id = ?1",
        &rc, err, errlen);
    if (!s)
        return rc;
    sqlite3_bind_int64(s, 1, id);
    rc = sqlite3_step(s);
    int code = 0;
    if (rc == SQLITE_ROW) {
        c->id = id;
        c->study_id = sqlite3_column_int64(s, 0);
        c->number = sqlite3_column_int64(s, 1);
        int state = hp_trial_state_parse((const char *)sqlite3_column_text(s, 2));
        c->state = state < 0 ? HP_TRIAL_FAILED : (hp_trial_state_t)state;
        c->attempts = sqlite3_column_int(s, 3);
        c->lease_id = sqlite3_column_int64(s, 4);
    } else if (rc == SQLITE_DONE) {
        code = hp_errf(err, errlen, HP_ENOENT, "no trial %" PRId64, id);
    } else {
        code = hp_store_sqlerr(st, rc, err, errlen, "trial %" PRId64, id);
    }
    sqlite3_reset(s);
    return code;
}

#define TRIAL_FMT "trial %" PRId64 " (#%" PRId64 " of study %" PRId64 ")"
#define TRIAL_ARGS(c) (c)->id, (c)->number, (c)->study_id

/* check refuses a transition the state machine does not allow, then one
 * that names a lease other than the current one (a stale attempt). */
static int check(const cur_t *c, hp_trial_state_t to, int need_lease, int64_t lease_id,
                 char *err, size_t errlen)
{
    if (!hp_trial_transition_ok(c->state, to))
        return hp_errf(err, errlen, HP_ESTATE, TRIAL_FMT ": illegal transition %s -> %s",
                       TRIAL_ARGS(c), hp_trial_state_name(c->state),
                       hp_trial_state_name(to));
    if (need_lease && lease_id != c->lease_id)
        return hp_errf(err, errlen, HP_ESTATE,
                       TRIAL_FMT ": stale lease %" PRId64 " (attempt %d holds lease %" PRId64
                                 "); %s refused",
                       TRIAL_ARGS(c), lease_id, c->attempts, c->lease_id,
                       hp_trial_state_name(to));
    return 0;
}

/* close_attempt ends the current attempt with an outcome. */
static int close_attempt(hp_store_t *st, const cur_t *c, const char *outcome,
                         const char *error, double now, char *err, size_t errlen)
{
    int rc = HP_EDB;
    sqlite3_stmt *s = hp_store_stmt(st, Q_ATTEMPT_CLOSE,
                                    "UPDATE trial_attempts SET outcome = ?3, error = ?4, "
                                    "ended = ?5 WHERE trial_id = ?1 AND attempt = ?2",
                                    &rc, err, errlen);
    if (!s)
        return rc;
    sqlite3_bind_int64(s, 1, c->id);
    sqlite3_bind_int(s, 2, c->attempts);
    sqlite3_bind_text(s, 3, outcome, -1, SQLITE_STATIC);
    hp_store_bind_text(s, 4, error);
    sqlite3_bind_double(s, 5, now);
    return hp_store_step_done(st, s, "close attempt", err, errlen);
}

/* set_end moves the trial to a state other than running. */
static int set_end(hp_store_t *st, const cur_t *c, hp_trial_state_t to, const double *value,
                   const char *error, double ended, char *err, size_t errlen)
{
    int rc = HP_EDB;
    sqlite3_stmt *s = hp_store_stmt(st, Q_TRIAL_SET_END,
                                    "UPDATE trials SET state = ?2, value = ?3, error = ?4, "
                                    "ended = ?5 WHERE id = ?1",
                                    &rc, err, errlen);
    if (!s)
        return rc;
    sqlite3_bind_int64(s, 1, c->id);
    sqlite3_bind_text(s, 2, trial_states[to], -1, SQLITE_STATIC);
    if (value)
        sqlite3_bind_double(s, 3, *value);
    hp_store_bind_text(s, 4, error);
    hp_store_bind_time(s, 5, ended);
    return hp_store_step_done(st, s, "update trial", err, errlen);
}

/* Every attempt-ending transition: check, close the attempt, move the trial. */
typedef struct end_spec {
    hp_trial_state_t to;
    const char *what;     /* for the read-only message */
    const char *outcome;  /* of the closed attempt */
    int need_lease;
    int final;            /* stamps trials.ended */
    const double *value;
    const char *error;
} end_spec_t;

static int end_attempt(hp_store_t *st, int64_t trial_id, int64_t lease_id,
                       const end_spec_t *e, char *err, size_t errlen)
{
    int rc = hp_store_op_begin(st, e->what, err, errlen);
    if (rc < 0)
        return rc;
    cur_t c;
    double now = hp_store_clock(st);
    rc = load(st, trial_id, &c, err, errlen);
    if (rc == 0)
        rc = check(&c, e->to, e->need_lease, lease_id, err, errlen);
    if (rc == 0 && c.state == HP_TRIAL_RUNNING)
        rc = close_attempt(st, &c, e->outcome, e->error, now, err, errlen);
    if (rc == 0)
        rc = set_end(st, &c, e->to, e->value, e->error, e->final ? now : 0, err, errlen);
    return hp_store_op_end(st, rc, err, errlen);
}

int hp_store_trial_start(hp_store_t *st, int64_t trial_id, const char *worker_id,
                         int64_t lease_id, double lease_expires, int *attempt, char *err,
                         size_t errlen)
{
    /* the coordinator's lease ids are 64 random bits: any but 0 (none) */
    if (lease_id == 0)
        return hp_errf(err, errlen, HP_EINVAL, "trial %" PRId64 ": start needs a lease id",
                       trial_id);
    int rc = hp_store_op_begin(st, "start a trial", err, errlen);
    if (rc < 0)
        return rc;
    cur_t c;
    double now = hp_store_clock(st);
    rc = load(st, trial_id, &c, err, errlen);
    if (rc == 0)
        rc = check(&c, HP_TRIAL_RUNNING, 0, 0, err, errlen);

    sqlite3_stmt *s = NULL;
    /* no worker: the user's own loop runs the attempt (hpsearch ask) */
    if (rc == 0 && worker_id && (s = hp_store_stmt(st, Q_WORKER_EXISTS,
                                      "SELECT 1 FROM workers WHERE id = ?1", &rc, err,
                                      errlen))) {
        sqlite3_bind_text(s, 1, worker_id, -1, SQLITE_TRANSIENT);
        int src = sqlite3_step(s);
        if (src == SQLITE_DONE)
            rc = hp_errf(err, errlen, HP_ENOENT,
                         TRIAL_FMT ": unknown worker '%s' (no HELLO recorded)",
                         TRIAL_ARGS(&c), worker_id);
        else if (src != SQLITE_ROW)
            rc = hp_store_sqlerr(st, src, err, errlen, "look up worker");
        sqlite3_reset(s);
    }
    if (rc == 0 && (s = hp_store_stmt(st, Q_ATTEMPT_INSERT,
                                      "INSERT INTO trial_attempts (trial_id, attempt, "
                                      "worker_id, lease_id, lease_expires, started, outcome) "
                                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'running')",
                                      &rc, err, errlen))) {
        sqlite3_bind_int64(s, 1, trial_id);
        sqlite3_bind_int(s, 2, c.attempts + 1);
        hp_store_bind_text(s, 3, worker_id);
        sqlite3_bind_int64(s, 4, lease_id);
        hp_store_bind_time(s, 5, lease_expires);
        sqlite3_bind_double(s, 6, now);
        rc = hp_store_step_done(st, s, "start attempt", err, errlen);
        if (rc == HP_EEXIST)
            hp_errf(err, errlen, rc, TRIAL_FMT ": lease %" PRId64 " was already used",
                    TRIAL_ARGS(&c), lease_id);
    }
    if (rc == 0 && (s = hp_store_stmt(st, Q_TRIAL_SET_RUNNING,
                                      "UPDATE trials SET state = 'running', attempts = ?2, "
                                      "started = ?3, error = NULL WHERE id = ?1",
                                      &rc, err, errlen))) {
        sqlite3_bind_int64(s, 1, trial_id);
        sqlite3_bind_int(s, 2, c.attempts + 1);
        sqlite3_bind_double(s, 3, now);
        rc = hp_store_step_done(st, s, "start trial", err, errlen);
    }
    if (rc == 0 && attempt)
        *attempt = c.attempts + 1;
    return hp_store_op_end(st, rc, err, errlen);
}

int hp_store_trial_renew(hp_store_t *st, int64_t trial_id, int64_t lease_id,
                         double lease_expires, char *err, size_t errlen)
{
    int rc = hp_store_op_begin(st, "renew a lease", err, errlen);
    if (rc < 0)
        return rc;
    cur_t c;
    rc = load(st, trial_id, &c, err, errlen);
    if (rc == 0 && c.state != HP_TRIAL_RUNNING)
        rc = hp_errf(err, errlen, HP_ESTATE, TRIAL_FMT ": is %s; no lease to renew",
                     TRIAL_ARGS(&c), hp_trial_state_name(c.state));
    if (rc == 0 && lease_id != c.lease_id)
        rc = hp_errf(err, errlen, HP_ESTATE,
                     TRIAL_FMT ": stale lease %" PRId64 " (attempt %d holds lease %" PRId64
                               "); renewal refused",
                     TRIAL_ARGS(&c), lease_id, c.attempts, c.lease_id);
    sqlite3_stmt *s = NULL;
    if (rc == 0 && (s = hp_store_stmt(st, Q_ATTEMPT_RENEW,
                                      "UPDATE trial_attempts SET lease_expires = ?3 "
                                      "WHERE trial_id = ?1 AND attempt = ?2",
                                      &rc, err, errlen))) {
        sqlite3_bind_int64(s, 1, trial_id);
        sqlite3_bind_int(s, 2, c.attempts);
        hp_store_bind_time(s, 3, lease_expires);
        rc = hp_store_step_done(st, s, "renew lease", err, errlen);
    }
    return hp_store_op_end(st, rc, err, errlen);
}

int hp_store_trial_complete(hp_store_t *st, int64_t trial_id, int64_t lease_id,
                            double value, char *err, size_t errlen)
{
    if (!isfinite(value))
        return hp_errf(err, errlen, HP_EINVAL,
                       "trial %" PRId64 ": objective value must be finite (got %g)",
                       trial_id, value);
    end_spec_t e = {.to = HP_TRIAL_COMPLETED, .what = "complete a trial",
                    .outcome = "completed", .need_lease = 1, .final = 1, .value = &value};
    return end_attempt(st, trial_id, lease_id, &e, err, errlen);
}

int hp_store_trial_fail(hp_store_t *st, int64_t trial_id, int64_t lease_id,
                        const char *error, char *err, size_t errlen)
{
    if (!error || !*error)
        return hp_errf(err, errlen, HP_EINVAL,
                       "trial %" PRId64 ": a failure needs an error message", trial_id);
    end_spec_t e = {.to = HP_TRIAL_FAILED, .what = "fail a trial", .outcome = "failed",
                    .need_lease = 1, .final = 1, .error = error};
    return end_attempt(st, trial_id, lease_id, &e, err, errlen);
}

int hp_store_trial_prune(hp_store_t *st, int64_t trial_id, int64_t lease_id,
                         const char *reason, char *err, size_t errlen)
{
    end_spec_t e = {.to = HP_TRIAL_PRUNED, .what = "prune a trial", .outcome = "pruned",
                    .need_lease = 1, .final = 1, .error = reason};
    return end_attempt(st, trial_id, lease_id, &e, err, errlen);
}

int hp_store_trial_set_pruned_step(hp_store_t *st, int64_t trial_id, int64_t step, char *err,
                                   size_t errlen)
{
    if (step < 0)
        return hp_errf(err, errlen, HP_EINVAL, "trial %" PRId64 ": pruned at step %" PRId64
                       ", below 0", trial_id, step);
    int rc = hp_store_op_begin(st, "record where a trial was pruned", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_stmt *s = hp_store_stmt(st, Q_TRIAL_SET_PRUNED_STEP,
                                    "UPDATE trials SET pruned_step = ?2 WHERE id = ?1", &rc, err,
                                    errlen);
    if (s) {
        sqlite3_bind_int64(s, 1, trial_id);
        sqlite3_bind_int64(s, 2, step);
        rc = hp_store_step_done(st, s, "record where a trial was pruned", err, errlen);
        if (rc == 0 && sqlite3_changes(st->db) == 0)
            rc = hp_errf(err, errlen, HP_ENOENT, "no trial %" PRId64, trial_id);
    }
    return hp_store_op_end(st, rc, err, errlen);
}

int hp_store_trial_set_infeasible(hp_store_t *st, int64_t trial_id, const char *why, char *err,
                                  size_t errlen)
{
    int rc = hp_store_op_begin(st, "record that a trial breaks a constraint", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_stmt *s = hp_store_stmt(st, Q_TRIAL_SET_INFEASIBLE,
                                    "UPDATE trials SET infeasible = ?2 WHERE id = ?1", &rc, err,
                                    errlen);
    if (s) {
        sqlite3_bind_int64(s, 1, trial_id);
        sqlite3_bind_text(s, 2, why && *why ? why : "breaks a constraint", -1,
                          SQLITE_TRANSIENT);
        rc = hp_store_step_done(st, s, "record that a trial breaks a constraint", err, errlen);
        if (rc == 0 && sqlite3_changes(st->db) == 0)
            rc = hp_errf(err, errlen, HP_ENOENT, "no trial %" PRId64, trial_id);
    }
    return hp_store_op_end(st, rc, err, errlen);
}

int hp_store_trial_set_objectives(hp_store_t *st, int64_t trial_id, const char *json, char *err,
                                  size_t errlen)
{
    int rc = hp_store_op_begin(st, "record a trial's objective values", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_stmt *s = hp_store_stmt(st, Q_TRIAL_SET_OBJECTIVES,
                                    "UPDATE trials SET objectives = ?2 WHERE id = ?1", &rc, err,
                                    errlen);
    if (s) {
        sqlite3_bind_int64(s, 1, trial_id);
        sqlite3_bind_text(s, 2, json, -1, SQLITE_TRANSIENT);
        rc = hp_store_step_done(st, s, "record a trial's objective values", err, errlen);
        if (rc == 0 && sqlite3_changes(st->db) == 0)
            rc = hp_errf(err, errlen, HP_ENOENT, "no trial %" PRId64, trial_id);
    }
    return hp_store_op_end(st, rc, err, errlen);
}

int hp_store_trial_requeue(hp_store_t *st, int64_t trial_id, int64_t lease_id,
                           hp_attempt_end_t how, const char *reason, char *err,
                           size_t errlen)
{
    static const char *const outcomes[] = {
        [HP_ATTEMPT_LOST] = "lost",
        [HP_ATTEMPT_FAILED] = "failed",
        [HP_ATTEMPT_INTERRUPTED] = "interrupted",
    };
    if ((unsigned)how >= sizeof outcomes / sizeof outcomes[0])
        return hp_errf(err, errlen, HP_EINVAL, "trial %" PRId64 ": unknown attempt end %d",
                       trial_id, (int)how);
    end_spec_t e = {.to = HP_TRIAL_PENDING, .what = "re-queue a trial",
                    .outcome = outcomes[how], .need_lease = 1,
                    .final = 0, .error = reason};
    return end_attempt(st, trial_id, lease_id, &e, err, errlen);
}

int hp_store_trial_cancel(hp_store_t *st, int64_t trial_id, const char *reason, char *err,
                          size_t errlen)
{
    end_spec_t e = {.to = HP_TRIAL_CANCELLED, .what = "cancel a trial",
                    .outcome = "cancelled", .need_lease = 0, .final = 1, .error = reason};
    return end_attempt(st, trial_id, 0, &e, err, errlen);
}

int hp_store_trial_set_diagnosis(hp_store_t *st, int64_t trial_id, const char *verdict,
                                 const char *detail, char *err, size_t errlen)
{
    int rc = hp_store_op_begin(st, "set a diagnosis", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_stmt *s = hp_store_stmt(st, Q_TRIAL_SET_DIAGNOSIS,
                                    "UPDATE trials SET diagnosis = ?2, diagnosis_detail = ?3 "
                                    "WHERE id = ?1",
                                    &rc, err, errlen);
    if (s) {
        sqlite3_bind_int64(s, 1, trial_id);
        hp_store_bind_text(s, 2, verdict);
        hp_store_bind_text(s, 3, detail);
        rc = hp_store_step_done(st, s, "set diagnosis", err, errlen);
        if (rc == 0 && sqlite3_changes(st->db) == 0)
            rc = hp_errf(err, errlen, HP_ENOENT, "no trial %" PRId64, trial_id);
    }
    return hp_store_op_end(st, rc, err, errlen);
}

int hp_store_trial_uncancel(hp_store_t *st, int64_t study_id, int64_t *n, char *err,
                            size_t errlen)
{
    if (n)
        *n = 0;
    int rc = hp_store_op_begin(st, "re-queue a study's cancelled trials", err, errlen);
    if (rc < 0)
        return rc;
    hp_study_state_t state;
    hp_goal_t goal;
    char name[128];
    rc = hp_store_study_brief(st, study_id, &state, &goal, name, sizeof name, err, errlen);
    if (rc == 0 && state != HP_STUDY_RUNNING)
        rc = hp_errf(err, errlen, HP_ESTATE,
                     "study '%s' (id %" PRId64 ") is %s: its cancelled trials are re-queued "
                     "only once it runs again",
                     name, study_id, hp_study_state_name(state));
    sqlite3_stmt *s = NULL;
    if (rc == 0)
        s = hp_store_stmt(st, Q_TRIAL_UNCANCEL,
                          "UPDATE trials SET state = 'pending', error = NULL, ended = NULL "
                          "WHERE study_id = ?1 AND state = 'cancelled'",
                          &rc, err, errlen);
    if (s) {
        sqlite3_bind_int64(s, 1, study_id);
        rc = hp_store_step_done(st, s, "re-queue cancelled trials", err, errlen);
        if (rc == 0 && n)
            *n = sqlite3_changes(st->db);
    }
    return hp_store_op_end(st, rc, err, errlen);
}
