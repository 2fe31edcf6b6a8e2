/*
 * store_int.h — private to sql/store*.c: the handle, the statement cache,
 * per-operation transactions and the SQLite error boundary.
 *   store.c        open/close, pragmas, version check and migrations,
 *                  write groups, the statement cache, the error boundary
 *   store_query.c  the sandbox for people's read-only SQL
 *   store_study.c, store_trial.c, store_metric.c, store_prune.c, store_resume.c, store_worker.c,
 *   store_baseline.c, store_attempt.c, store_errors.c  one kind of row (or column) each
 *
 * Every SQL text lives at its call site and is prepared once per handle:
 *
 *     int rc;
 *     sqlite3_stmt *s = hp_store_stmt(st, Q_TRIAL_GET, "SELECT ...", &rc, err, errlen);
 *     if (!s) return rc;
 *
 * A writing operation brackets itself with hp_store_op_begin/_end, which
 * is a transaction of its own outside a group and a savepoint inside one.
 */
#ifndef HP_STORE_INT_H
#define HP_STORE_INT_H

#include "store.h"

#include <sqlite3.h>

/* One slot per cached statement. */
enum hp_store_q {
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_SAVEPOINT,
    Q_RELEASE,
    Q_ROLLBACK_TO,
    Q_STUDY_INSERT,
    Q_STUDY_GET,
    Q_STUDY_GET_BY_NAME,
    Q_STUDY_LIST,
    Q_STUDY_SET_STATE,
    Q_STUDY_BRIEF,
    Q_TRIAL_INSERT,
    Q_TRIAL_GET,
    Q_TRIAL_GET_BY_NUMBER,
    Q_TRIAL_LIST_STUDY,
    Q_TRIAL_LIST_ALL,
    Q_TRIAL_NEXT_PENDING,
    Q_TRIAL_COUNT,
    Q_TRIAL_BEST_MIN,
    Q_TRIAL_BEST_MAX,
    Q_TRIAL_CURRENT,
    Q_TRIAL_SET_END,
    Q_TRIAL_SET_RUNNING,
    Q_TRIAL_SET_DIAGNOSIS,
    Q_ATTEMPT_INSERT,
    Q_ATTEMPT_RENEW,
    Q_ATTEMPT_CLOSE,
    Q_ATTEMPT_SET_OUTPUT,
    Q_ATTEMPT_COUNTED,
    Q_METRIC_CHECK,
    Q_METRIC_INSERT,
    Q_WORKER_EXISTS,
    Q_WORKER_UPSERT,
    Q_WORKER_HEARTBEAT,
    Q_WORKER_SET_STATE,
    Q_WORKER_GET,
    Q_WORKER_LIST,
    Q_EVENT_INSERT,
    Q_BASELINE_INSERT,
    Q_BASELINE_COUNT,
    Q_PRUNE_EVENTS,
    Q_TRIAL_SET_PRUNED_STEP,
    Q_PRUNED_LAST_VALUES,
    Q_STUDY_UPDATE_SPEC,
    Q_STUDY_REOPEN,
    Q_TRIAL_UNCANCEL,
    Q_TRIAL_SET_INFEASIBLE,
    Q_FINAL_VALUES,
    Q_TRIAL_SET_OBJECTIVES,
    Q_SESSION_PUT,
    Q_SESSION_LIST,
    Q_READ_BEGIN,
    Q_READ_END,
    Q_ERRORS_PUT,
    Q_WORST_DELETE,
    Q_WORST_INSERT,
    Q_COUNT_
};

struct hp_store {
    sqlite3 *db;
    char *path;
    unsigned flags;
    int readonly;
    int in_group;
    int op_depth; /* hp_store_op_begin's open operations */
    int version;
    double (*clock)(void *data);
    void *clock_data;
    sqlite3_stmt *stmt[Q_COUNT_];
    /* store_query.c's: */
    const char *denied; /* what the query authorizer refused, for the message */
    double query_limit_s;  /* hp_store_set_query_limit; 0 = none */
    double query_deadline; /* monotonic seconds, while exec_query runs */
    int query_interrupted;
    unsigned wal_pages; /* after the last commit (the WAL hook) */
    uint64_t study_changes; /* rows of studies and trials written (the update hook) */
};

/* hp_err_from_sqlite maps an SQLite (extended) result code to an hp_err_t;
 * SQLITE_OK, _ROW and _DONE map to 0. The only place SQLITE_* codes are
 * translated. */
int hp_err_from_sqlite(int rc);

/* hp_store_sqlerr formats "<what>: <sqlite message>" into err and returns
 * hp_err_from_sqlite(rc). */
int hp_store_sqlerr(hp_store_t *st, int rc, char *err, size_t errlen,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* hp_store_stmt returns the cached statement for slot q (preparing sql the
 * first time), reset and with bindings cleared; NULL on failure with err
 * set (the code is in *rc when rc is non-NULL). */
sqlite3_stmt *hp_store_stmt(hp_store_t *st, enum hp_store_q q, const char *sql,
                            int *rc, char *err, size_t errlen);

/* hp_store_step_done steps s once expecting SQLITE_DONE, resets it and
 * returns 0 or the translated error ("<what>: <message>"). */
int hp_store_step_done(hp_store_t *st, sqlite3_stmt *s, const char *what, char *err,
                       size_t errlen);

/* hp_store_op_begin opens an operation's transaction (or savepoint inside a
 * group); fails with HP_EREADONLY on a read-only handle, naming `what`.
 * hp_store_op_end commits (rc == 0) or rolls it back and returns rc, or the
 * commit's error. */
int hp_store_op_begin(hp_store_t *st, const char *what, char *err, size_t errlen);
int hp_store_op_end(hp_store_t *st, int rc, char *err, size_t errlen);

/* hp_store_study_brief looks up what trial operations need to know about a
 * study — its state, goal and (truncated) name — without copying its spec.
 * HP_ENOENT if there is no such study. */
int hp_store_study_brief(hp_store_t *st, int64_t id, hp_study_state_t *state,
                         hp_goal_t *goal, char *name, size_t namelen, char *err,
                         size_t errlen);

/* How hp_store_read_rows reads one kind of row: its size, how to read one
 * from the current row of a statement (0, or an error with err set and
 * the row left clean) and how to free one. Functions take void * so each
 * kind passes small adapters, never a cast function pointer. */
typedef struct hp_store_rows {
    size_t size;    /* bytes of one row */
    size_t min_cap; /* rows allocated first */
    int (*read)(sqlite3_stmt *s, void *row, char *err, size_t errlen);
    void (*fini)(void *row);
    const char *what; /* names the listing in SQLite errors: "list trials" */
} hp_store_rows_t;

/* hp_store_read_rows steps s to its end, reading every row into one array,
 * resets s, and then hands each row in order to each(data, row) until one
 * returns non-zero; every row is fini'd. Reading everything before the
 * first callback lets the callback use the store freely, even write to
 * the rows it is given. Returns 0, the first non-zero return of each, or
 * the error that stopped the reading (HP_ENOMEM "out of memory", read's,
 * or SQLite's), in which case no row is handed on. */
int hp_store_read_rows(hp_store_t *st, sqlite3_stmt *s, const hp_store_rows_t *rows,
                       int (*each)(void *data, void *row), void *data, char *err,
                       size_t errlen);

/* Column and bind helpers. */
double hp_store_clock(hp_store_t *st);
int hp_store_bind_text(sqlite3_stmt *s, int i, const char *v); /* NULL -> NULL */
int hp_store_bind_time(sqlite3_stmt *s, int i, double t);      /* 0 -> NULL */
int hp_store_bind_real(sqlite3_stmt *s, int i, double v);      /* NaN -> NULL */
/* hp_store_col_dup strdup's a text column (NULL stays NULL); sets *oom on
 * allocation failure. */
char *hp_store_col_dup(sqlite3_stmt *s, int i, int *oom);
double hp_store_col_time(sqlite3_stmt *s, int i); /* NULL -> 0 */

#endif
