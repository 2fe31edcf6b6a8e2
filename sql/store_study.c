/* store_study.c — studies: create, read, list, end. */
#include "store_int.h"

#include "err.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const study_states[HP_STUDY_STATE_COUNT_] = {
    "running", "completed", "cancelled", "failed", "stopped",
};

const char *hp_study_state_name(hp_study_state_t state)
{
    return (unsigned)state < HP_STUDY_STATE_COUNT_ ? study_states[state] : "unknown";
}

int hp_study_state_parse(const char *name)
{
    for (int i = 0; name && i < HP_STUDY_STATE_COUNT_; i++)
        if (strcmp(name, study_states[i]) == 0)
            return i;
    return -1;
}

void hp_study_fini(hp_study_t *s)
{
    free(s->name);
    free(s->spec);
    free(s->spec_json);
    free(s->metric);
    free(s->reason);
    free(s->dataset_key);
    memset(s, 0, sizeof *s);
}

#define STUDY_COLS                                                                   \
    "SELECT id, name, spec, spec_json, metric, goal, max_trials, state, reason, "    \
    "created, ended, dataset_key FROM studies "

static int read_study(sqlite3_stmt *s, hp_study_t *out, char *err, size_t errlen)
{
    int oom = 0;
    memset(out, 0, sizeof *out);
    out->id = sqlite3_column_int64(s, 0);
    out->name = hp_store_col_dup(s, 1, &oom);
    out->spec = hp_store_col_dup(s, 2, &oom);
    out->spec_json = hp_store_col_dup(s, 3, &oom);
    out->metric = hp_store_col_dup(s, 4, &oom);
    const char *goal = (const char *)sqlite3_column_text(s, 5);
    out->goal = goal && strcmp(goal, "maximize") == 0 ? HP_GOAL_MAXIMIZE : HP_GOAL_MINIMIZE;
    out->max_trials = sqlite3_column_int64(s, 6);
    int state = hp_study_state_parse((const char *)sqlite3_column_text(s, 7));
    out->state = state < 0 ? HP_STUDY_FAILED : (hp_study_state_t)state;
    out->reason = hp_store_col_dup(s, 8, &oom);
    out->created = hp_store_col_time(s, 9);
    out->ended = hp_store_col_time(s, 10);
    out->dataset_key = hp_store_col_dup(s, 11, &oom);
    if (oom) {
        hp_study_fini(out);
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    }
    return 0;
}

int hp_store_study_create(hp_store_t *st, const hp_study_def_t *def, int64_t *id,
                          char *err, size_t errlen)
{
    if (!def || !def->name || !*def->name || !def->spec || !def->spec_json ||
        !def->metric || !*def->metric || def->max_trials < 0 ||
        (def->dataset_key && !*def->dataset_key) || def->parent < 0 ||
        (def->goal != HP_GOAL_MINIMIZE && def->goal != HP_GOAL_MAXIMIZE))
        return hp_errf(err, errlen, HP_EINVAL,
                       "create study: name, spec, spec_json, metric and a goal are "
                       "required, max_trials >= 0, a dataset key is NULL or not empty, parent >= 0");
    int rc = hp_store_op_begin(st, "create a study", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_stmt *s = hp_store_stmt(
        st, Q_STUDY_INSERT,
        "INSERT INTO studies (name, spec, spec_json, metric, goal, max_trials, state, created, "
        "dataset_key, parent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'running', ?7, ?8, ?9)",
        &rc, err, errlen);
    if (s) {
        sqlite3_bind_text(s, 1, def->name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 2, def->spec, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 3, def->spec_json, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 4, def->metric, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 5, hp_goal_name(def->goal), -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 6, def->max_trials);
        sqlite3_bind_double(s, 7, hp_store_clock(st));
        hp_store_bind_text(s, 8, def->dataset_key);
        if (def->parent)
            sqlite3_bind_int64(s, 9, def->parent);
        char what[300];
        snprintf(what, sizeof what, "create study '%.280s'", def->name);
        rc = hp_store_step_done(st, s, what, err, errlen);
        if (rc == HP_EEXIST)
            hp_errf(err, errlen, rc, "study '%s' already exists", def->name);
        if (rc == 0 && id)
            *id = sqlite3_last_insert_rowid(st->db);
    }
    return hp_store_op_end(st, rc, err, errlen);
}

/* get_one runs a prepared lookup and reads its first row into *out. */
static int get_one(hp_store_t *st, sqlite3_stmt *s, hp_study_t *out, const char *what,
                   char *err, size_t errlen)
{
    int rc = sqlite3_step(s);
    int code;
    if (rc == SQLITE_ROW)
        code = read_study(s, out, err, errlen);
    else if (rc == SQLITE_DONE)
        code = hp_errf(err, errlen, HP_ENOENT, "no study %s", what);
    else
        code = hp_store_sqlerr(st, rc, err, errlen, "get study %s", what);
    sqlite3_reset(s);
    return code;
}

int hp_store_study_get(hp_store_t *st, int64_t id, hp_study_t *out, char *err,
                       size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc = HP_EDB;
    sqlite3_stmt *s = hp_store_stmt(st, Q_STUDY_GET, STUDY_COLS "WHERE id = ?1", &rc,
                                    err, errlen);
    if (!s)
        return rc;
    sqlite3_bind_int64(s, 1, id);
    char what[32];
    snprintf(what, sizeof what, "%" PRId64, id);
    return get_one(st, s, out, what, err, errlen);
}

int hp_store_study_get_by_name(hp_store_t *st, const char *name, hp_study_t *out,
                               char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!name)
        return hp_errf(err, errlen, HP_EINVAL, "no study name given");
    int rc = HP_EDB;
    sqlite3_stmt *s = hp_store_stmt(st, Q_STUDY_GET_BY_NAME, STUDY_COLS "WHERE name = ?1",
                                    &rc, err, errlen);
    if (!s)
        return rc;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    char what[300];
    snprintf(what, sizeof what, "named '%.280s'", name);
    return get_one(st, s, out, what, err, errlen);
}

/* hp_store_read_rows' view of a study row */
static int read_row(sqlite3_stmt *s, void *row, char *err, size_t errlen)
{
    return read_study(s, row, err, errlen);
}

static void fini_row(void *row) { hp_study_fini(row); }

static const hp_store_rows_t study_rows = {
    .size = sizeof(hp_study_t),
    .min_cap = 16,
    .read = read_row,
    .fini = fini_row,
    .what = "list studies",
};

typedef struct list_ctx {
    hp_store_study_cb cb;
    void *data;
} list_ctx_t;

static int list_each(void *ctx, void *row)
{
    list_ctx_t *c = ctx;
    return c->cb(c->data, row);
}

int hp_store_study_list(hp_store_t *st, hp_store_study_cb cb, void *data, char *err,
                        size_t errlen)
{
    int rc = HP_EDB;
    sqlite3_stmt *s = hp_store_stmt(st, Q_STUDY_LIST, STUDY_COLS "ORDER BY id", &rc, err,
                                    errlen);
    if (!s)
        return rc;
    /* read everything first, so the callback may use the store freely */
    list_ctx_t ctx = {cb, data};
    return hp_store_read_rows(st, s, &study_rows, list_each, &ctx, err, errlen);
}

int hp_store_study_set_state(hp_store_t *st, int64_t id, hp_study_state_t state,
                             const char *reason, char *err, size_t errlen)
{
    if ((unsigned)state >= HP_STUDY_STATE_COUNT_)
        return hp_errf(err, errlen, HP_EINVAL, "study %" PRId64 ": unknown state %d", id,
                       (int)state);
    int rc = hp_store_op_begin(st, "change a study's state", err, errlen);
    if (rc < 0)
        return rc;
    hp_study_t cur;
    rc = hp_store_study_get(st, id, &cur, err, errlen);
    if (rc == 0) {
        if (cur.state != HP_STUDY_RUNNING || state == HP_STUDY_RUNNING)
            rc = hp_errf(err, errlen, HP_ESTATE,
                         "study '%s' (id %" PRId64 "): illegal transition %s -> %s",
                         cur.name, id, hp_study_state_name(cur.state),
                         hp_study_state_name(state));
        hp_study_fini(&cur);
    }
    sqlite3_stmt *s = NULL;
    if (rc == 0)
        s = hp_store_stmt(st, Q_STUDY_SET_STATE,
                          "UPDATE studies SET state = ?2, reason = ?3, ended = ?4 WHERE id = ?1",
                          &rc, err, errlen);
    if (s) {
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_text(s, 2, hp_study_state_name(state), -1, SQLITE_STATIC);
        hp_store_bind_text(s, 3, reason);
        sqlite3_bind_double(s, 4, hp_store_clock(st));
        rc = hp_store_step_done(st, s, "set study state", err, errlen);
    }
    return hp_store_op_end(st, rc, err, errlen);
}

int hp_store_study_brief(hp_store_t *st, int64_t id, hp_study_state_t *state,
                         hp_goal_t *goal, char *name, size_t namelen, char *err,
                         size_t errlen)
{
    int rc = HP_EDB;
    sqlite3_stmt *s = hp_store_stmt(st, Q_STUDY_BRIEF,
                                    "SELECT state, goal, name FROM studies WHERE id = ?1", &rc,
                                    err, errlen);
    if (!s)
        return rc;
    sqlite3_bind_int64(s, 1, id);
    int src = sqlite3_step(s);
    if (src == SQLITE_ROW) {
        int parsed = hp_study_state_parse((const char *)sqlite3_column_text(s, 0));
        const char *g = (const char *)sqlite3_column_text(s, 1);
        const char *n = (const char *)sqlite3_column_text(s, 2);
        *state = parsed < 0 ? HP_STUDY_FAILED : (hp_study_state_t)parsed;
        *goal = g && strcmp(g, "maximize") == 0 ? HP_GOAL_MAXIMIZE : HP_GOAL_MINIMIZE;
        snprintf(name, namelen, "%s", n ? n : "");
        rc = 0;
    } else if (src == SQLITE_DONE) {
        rc = hp_errf(err, errlen, HP_ENOENT, "no study %" PRId64, id);
    } else {
        rc = hp_store_sqlerr(st, src, err, errlen, "study %" PRId64, id);
    }
    sqlite3_reset(s);
    return rc;
}

int hp_store_study_update_spec(hp_store_t *st, int64_t id, const char *spec,
                               const char *spec_json, int64_t max_trials, char *err,
                               size_t errlen)
{
    if (!spec || !spec_json || max_trials < 0)
        return hp_errf(err, errlen, HP_EINVAL,
                       "study %" PRId64 ": a new spec needs its text, its JSON and "
                       "max_trials >= 0",
                       id);
    int rc = hp_store_op_begin(st, "update a study's spec", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_stmt *s = hp_store_stmt(
        st, Q_STUDY_UPDATE_SPEC,
        "UPDATE studies SET spec = ?2, spec_json = ?3, max_trials = ?4 WHERE id = ?1", &rc,
        err, errlen);
    if (s) {
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_text(s, 2, spec, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 3, spec_json, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 4, max_trials);
        rc = hp_store_step_done(st, s, "update study spec", err, errlen);
        if (rc == 0 && sqlite3_changes(st->db) == 0)
            rc = hp_errf(err, errlen, HP_ENOENT, "no study %" PRId64, id);
    }
    return hp_store_op_end(st, rc, err, errlen);
}

int hp_store_study_reopen(hp_store_t *st, int64_t id, char *err, size_t errlen)
{
    int rc = hp_store_op_begin(st, "reopen a study", err, errlen);
    if (rc < 0)
        return rc;
    hp_study_state_t state;
    hp_goal_t goal;
    char name[128];
    rc = hp_store_study_brief(st, id, &state, &goal, name, sizeof name, err, errlen);
    if (rc == 0 && state == HP_STUDY_RUNNING)
        rc = hp_errf(err, errlen, HP_ESTATE, "study '%s' (id %" PRId64 ") is running already",
                     name, id);
    sqlite3_stmt *s = NULL;
    if (rc == 0)
        s = hp_store_stmt(st, Q_STUDY_REOPEN,
                          "UPDATE studies SET state = 'running', reason = NULL, ended = NULL "
                          "WHERE id = ?1",
                          &rc, err, errlen);
    if (s) {
        sqlite3_bind_int64(s, 1, id);
        rc = hp_store_step_done(st, s, "reopen study", err, errlen);
    }
    return hp_store_op_end(st, rc, err, errlen);
}
