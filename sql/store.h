/*
 * store.h — the SQLite store: studies, trials and their attempts, metrics,
 * baselines, workers and events, in one database file (schema: sql/schema.sql,
 * for users: docs/sql.md).
 *
 * One hp_store_t is one SQLite connection. It is not thread-safe: use a
 * handle from one thread at a time (the daemon's loop thread owns its
 * read-write handle; readers such as `hpsearch sql` open their own
 * read-only handle). Several processes may open the same file: SQLite's WAL
 * lets readers run beside the single writer, and every connection waits up
 * to HP_STORE_BUSY_TIMEOUT_MS for a lock before failing with HP_EBUSY.
 *
 *     hp_store_t *st;
 *     char err[256];
 *     if (hp_store_open(&st, "hp.db", HP_STORE_CREATE, err, sizeof err) < 0)
 *         die("%s", err);
 *     hp_store_begin(st, err, sizeof err);          // one group per loop tick
 *     hp_store_trial_complete(st, trial, lease, 0.12, err, sizeof err);
 *     hp_store_metric_append(st, &m, err, sizeof err);
 *     hp_store_commit(st, err, sizeof err);
 *     hp_store_close(st);
 *
 * Conventions for every function below:
 *  - return 0 or a negative hp_err_t; on failure `err` (may be NULL) holds a
 *    sentence naming the object, e.g. "trial 12 (#3 of study 1): illegal
 *    transition completed -> running".
 *  - HP_ESTATE: the operation is not allowed in the object's state (illegal
 *    transition, stale lease, study not running); HP_ENOENT: no such object;
 *    HP_EEXIST: the name is taken; HP_EINVAL: bad argument (e.g. invalid
 *    JSON); HP_EREADONLY: the handle is read-only; HP_EBUSY: another
 *    connection held the write lock too long; HP_EDB: anything else.
 *  - Outside a group (hp_store_begin) each writing function is atomic on its
 *    own. Inside a group it runs in a savepoint: if it fails, its own
 *    changes are undone and the group's earlier writes are kept, so one
 *    stale result does not spoil a tick.
 *  - Times are unix seconds (UTC, REAL) from the store's clock
 *    (hp_store_set_clock); 0 means "not set" (SQL NULL).
 *  - Strings passed in are copied; strings handed out in a struct belong to
 *    that struct and are freed by its _fini.
 */
#ifndef HP_STORE_H
#define HP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "schema.h"
#include "spec.h"

typedef struct hp_store hp_store_t;

/* Schema version this program reads and writes (PRAGMA user_version). */
#define HP_STORE_SCHEMA_VERSION ((int)hp_store_migration_count())
/* The size a restarting WAL file is truncated to (PRAGMA
 * journal_size_limit on read-write handles). */
#define HP_STORE_WAL_LIMIT (32 * 1024 * 1024)
/* How long a connection waits for another's lock before HP_EBUSY. */
#define HP_STORE_BUSY_TIMEOUT_MS 10000

/* Flags for hp_store_open. */
enum {
    /* Open read-only (SQLITE_OPEN_READONLY + PRAGMA query_only): every write
     * fails with HP_EREADONLY. The database must exist and be at the
     * current schema version; nothing is migrated. */
    HP_STORE_READONLY = 1u << 0,
    /* Create the file if it does not exist (read-write only). */
    HP_STORE_CREATE = 1u << 1,
    /* PRAGMA synchronous=NORMAL instead of FULL: commits skip the fsync, so
     * a power loss or OS crash may lose the last transactions (never
     * corrupts; a process crash loses nothing). For throwaway databases
     * and benchmarks. The default FULL makes a committed result survive
     * power loss — the daemon acknowledges results to workers after
     * commit, so an acknowledged result must not vanish. */
    HP_STORE_SYNC_NORMAL = 1u << 2,
    /* Turn off SQLite's automatic WAL checkpoints; the owner checkpoints
     * when it suits it (the daemon: off its loop, on a second handle, when
     * hp_store_wal_pages grows). The WAL file is truncated to
     * HP_STORE_WAL_LIMIT whenever it restarts larger. */
    HP_STORE_MANUAL_CHECKPOINT = 1u << 3,
};

/* ---- opening, groups ------------------------------------------------ */

/* hp_store_open opens (and with HP_STORE_CREATE creates) the database at
 * path and stores a new handle in *st. A read-write open sets WAL mode,
 * synchronous FULL (or NORMAL, see the flag), foreign keys on, and applies
 * every migration newer than the file's PRAGMA user_version, each in its own
 * transaction. Fails with HP_EVERSION if the file was written by a newer
 * hpsearch (the message names both versions) or, read-only, if it needs an
 * upgrade; HP_ECORRUPT if it is not an SQLite database or not an hpsearch
 * one; HP_ENOENT if it does not exist and HP_STORE_CREATE is not given.
 * Call from the thread that will use the handle. Free with hp_store_close. */
int hp_store_open(hp_store_t **st, const char *path, unsigned flags, char *err,
                  size_t errlen);

/* hp_store_close finalizes every cached statement and closes the
 * connection; a group still open is rolled back. NULL is allowed. */
void hp_store_close(hp_store_t *st);

/* hp_store_reader returns the SQLite connection of a store opened with
 * HP_STORE_READONLY, for a reader that prepares its own statements with
 * bound parameters (the dashboard's API, coordinator/dash); NULL for a
 * writable store, whose connection belongs to the store alone. Owned by
 * st; use it from the thread that opened st. */
struct sqlite3 *hp_store_reader(hp_store_t *st);

/* hp_store_path returns the path given to hp_store_open (owned by st). */
const char *hp_store_path(const hp_store_t *st);

/* hp_store_schema_version returns the file's PRAGMA user_version as found
 * by hp_store_open after migrations (HP_STORE_SCHEMA_VERSION read-write). */
int hp_store_schema_version(const hp_store_t *st);

/* hp_store_set_clock replaces the clock that timestamps rows (default:
 * CLOCK_REALTIME in seconds). For tests and replay; fn NULL restores it. */
void hp_store_set_clock(hp_store_t *st, double (*fn)(void *data), void *data);

/* hp_store_now returns the wall clock in unix seconds (the default clock). */
double hp_store_now(void);

/* hp_store_begin starts a group of writes (BEGIN IMMEDIATE: takes the write
 * lock now, so the group cannot fail half-way on a lock). Groups do not
 * nest: HP_ESTATE if one is open. End it with hp_store_commit or
 * hp_store_rollback. */
int hp_store_begin(hp_store_t *st, char *err, size_t errlen);
/* hp_store_commit makes the group durable (per the synchronous setting).
 * If the commit fails the group is rolled back and nothing of it stays. */
int hp_store_commit(hp_store_t *st, char *err, size_t errlen);
/* hp_store_rollback discards the group; a no-op when none is open. */
int hp_store_rollback(hp_store_t *st, char *err, size_t errlen);
/* hp_store_in_group returns 1 while a group is open. */
int hp_store_in_group(const hp_store_t *st);
/* hp_store_read_begin opens a read transaction (BEGIN DEFERRED), so that
 * several reads see one state of the database; hp_store_read_end ends it.
 * For read-only handles, or read-write ones outside any group.
 * HP_ESTATE inside one. */
int hp_store_read_begin(hp_store_t *st, char *err, size_t errlen);
void hp_store_read_end(hp_store_t *st);
/* hp_store_study_changes counts the rows of studies and trials this
 * (read-write) handle has inserted, updated or deleted, rolled back ones
 * included: what a reader of study status must look at again once it
 * changed. Lease renewals, metrics, workers and events do not count. */
uint64_t hp_store_study_changes(const hp_store_t *st);

/* hp_store_checkpoint copies the WAL into the database file (PASSIVE: never
 * waits for readers; truncate != 0 also truncates the WAL when no reader
 * is using it). Call outside a group. */
int hp_store_checkpoint(hp_store_t *st, int truncate, char *err, size_t errlen);

/* hp_store_integrity_check runs PRAGMA integrity_check: 0 if "ok",
 * HP_ECORRUPT with SQLite's first complaint in err otherwise. */
int hp_store_integrity_check(hp_store_t *st, char *err, size_t errlen);

/* hp_store_quick_check runs PRAGMA quick_check (the page and b-tree checks
 * of integrity_check without comparing indexes to their tables: seconds
 * for a large file, where integrity_check takes minutes): 0 if "ok",
 * HP_ECORRUPT with SQLite's first complaint in err otherwise. The daemon
 * runs it at start so it never serves a damaged database. */
int hp_store_quick_check(hp_store_t *st, char *err, size_t errlen);

/* hp_store_check_writable checks, before anything opens it, that the
 * database at path can be written: the file (when it exists), its -wal
 * and -shm files (when they exist) open for writing, and a file can be
 * created in its folder (SQLite creates the -wal and -shm files there).
 * Both are tried for real, not judged from permission bits, so a
 * read-only mount or an immutable file is found for root too. Returns 0,
 * or HP_EREADONLY with err naming which — "database file x.db is
 * read-only (Read-only file system)" or "database folder /d is read-only
 * (...)" — or HP_ENOENT when the folder does not exist. */
int hp_store_check_writable(const char *path, char *err, size_t errlen);

/* hp_store_interrupt stops the statement st runs now, from any thread
 * (sqlite3_interrupt): a query in progress fails with HP_ECANCELED. For
 * ending queries that run on other threads at shutdown. */
void hp_store_interrupt(hp_store_t *st);

/* hp_store_wal_pages returns how many pages the WAL held after the last
 * commit on this handle (0 before the first, and on read-only handles):
 * the owner of a HP_STORE_MANUAL_CHECKPOINT handle checkpoints when it
 * grows. Loop thread (the handle's). */
unsigned hp_store_wal_pages(const hp_store_t *st);

/* hp_store_checkpoint_stats runs a PASSIVE checkpoint and reports the WAL's
 * frames (*log) and how many of them are now in the database (*done);
 * both -1 when the database is not in WAL mode. A reader on an older
 * snapshot keeps the frames after its mark from being copied; the WAL
 * restarts from its beginning once every frame is copied and no reader
 * uses it. Never waits for readers or the writer: safe on a second
 * read-write handle on another thread while the owner writes. */
int hp_store_checkpoint_stats(hp_store_t *st, int *log, int *done, char *err, size_t errlen);

/* ---- studies -------------------------------------------------------- */

/* hp_goal_t and hp_goal_name come from spec.h: one definition for the
 * spec, the store and the wire. */

typedef enum hp_study_state {
    HP_STUDY_RUNNING = 0,
    HP_STUDY_COMPLETED,
    HP_STUDY_CANCELLED,
    HP_STUDY_FAILED,
    HP_STUDY_STOPPED, /* stopped by the system, e.g. the sanity check failed */
    HP_STUDY_STATE_COUNT_
} hp_study_state_t;

/* What hp_store_study_create needs; strings are borrowed and copied. */
typedef struct hp_study_def {
    const char *name;      /* unique */
    const char *spec;      /* the spec as submitted (YAML or JSON text) */
    const char *spec_json; /* the parsed spec as JSON (must be valid JSON) */
    const char *metric;    /* objective metric */
    hp_goal_t goal;
    int64_t max_trials;    /* 0: no limit */
    const char *dataset_key; /* hp_spec_dataset_key; NULL: the study has none */
    int64_t parent;          /* studies.parent: the study this round came from; 0: none */
} hp_study_def_t;

typedef struct hp_study {
    int64_t id;
    char *name, *spec, *spec_json, *metric;
    hp_goal_t goal;
    int64_t max_trials;
    hp_study_state_t state;
    char *reason; /* NULL unless set when it ended */
    char *dataset_key; /* NULL: none (or a study from before schema 3) */
    double created, ended;
} hp_study_t;

/* hp_study_fini frees the strings of s; safe on zeroed memory. */
void hp_study_fini(hp_study_t *s);

const char *hp_study_state_name(hp_study_state_t state);
/* hp_study_state_parse returns the state named name, or -1. */
int hp_study_state_parse(const char *name);

/* hp_store_study_create inserts a running study and sets *id (may be NULL).
 * HP_EEXIST if the name is taken, HP_EINVAL on a missing field or invalid
 * spec_json. */
int hp_store_study_create(hp_store_t *st, const hp_study_def_t *def, int64_t *id,
                          char *err, size_t errlen);

/* hp_store_study_get / _get_by_name fill *out (caller hp_study_fini's it).
 * HP_ENOENT if there is no such study. */
int hp_store_study_get(hp_store_t *st, int64_t id, hp_study_t *out, char *err,
                       size_t errlen);
int hp_store_study_get_by_name(hp_store_t *st, const char *name, hp_study_t *out,
                               char *err, size_t errlen);

/* hp_store_study_list calls cb for every study in id order. The study is
 * borrowed for the call (copy what you keep); a non-zero return from cb
 * stops the listing and is returned. */
typedef int (*hp_store_study_cb)(void *data, const hp_study_t *study);
int hp_store_study_list(hp_store_t *st, hp_store_study_cb cb, void *data, char *err,
                        size_t errlen);

/* hp_store_study_set_state ends a running study: to completed, cancelled,
 * failed or stopped, with an optional reason (copied), and stamps `ended`.
 * HP_ESTATE if the study is not running or state is running. Trials are
 * not touched: cancel them with hp_store_trial_cancel. */
int hp_store_study_set_state(hp_store_t *st, int64_t id, hp_study_state_t state,
                             const char *reason, char *err, size_t errlen);

/* hp_store_study_update_spec replaces a study's stored spec — its text,
 * canonical JSON and max_trials — with a resubmission's that grew it
 * (hpsearch submit or run of the same spec with only max_trials,
 * parallelism or trial.timeout changed): a restart then runs the new
 * values. The state is left alone. HP_ENOENT: no such study. */
int hp_store_study_update_spec(hp_store_t *st, int64_t id, const char *spec,
                               const char *spec_json, int64_t max_trials, char *err,
                               size_t errlen);

/* hp_store_study_reopen makes an ended study (completed, cancelled, failed
 * or stopped) running again, its reason and `ended` cleared: hpsearch
 * resume, or a completed study whose max_trials grew. Trials are not
 * touched (hp_store_trial_uncancel). HP_ESTATE if it is running already;
 * HP_ENOENT if there is no such study. */
int hp_store_study_reopen(hp_store_t *st, int64_t id, char *err, size_t errlen);

/* hp_store_study_resume continues a cancelled, failed or stopped study,
 * in one transaction: running again (hp_store_study_reopen), its
 * cancelled trials pending again (hp_store_trial_uncancel), and a
 * study_resumed event; a trial of it still `running` with a worker (its
 * coordinator stopped before the attempt ended) goes back to pending, its
 * attempt interrupted. *was (may be NULL) is the state it had; *note
 * (note may be NULL) one sentence for the user: "it was failed; 3 trials
 * are pending, 1 of them cancelled before". HP_ESTATE for a running study
 * ("study 'x' is running; only a cancelled or failed study can be
 * resumed") or a completed one ("... raise max_trials to continue it");
 * HP_ENOENT if there is no such study. The caller makes sure none of its
 * trials still runs (the daemon: none of its attempts is stopping). */
int hp_store_study_resume(hp_store_t *st, int64_t id, hp_study_state_t *was, char *note,
                          size_t notelen, char *err, size_t errlen);

/* ---- trials --------------------------------------------------------- */

typedef enum hp_trial_state {
    HP_TRIAL_PENDING = 0,
    HP_TRIAL_RUNNING,
    HP_TRIAL_COMPLETED,
    HP_TRIAL_FAILED,
    HP_TRIAL_PRUNED,
    HP_TRIAL_CANCELLED,
    HP_TRIAL_STATE_COUNT_
} hp_trial_state_t;

/* Who chose a trial's params (trials.origin). */
typedef enum hp_trial_origin {
    HP_TRIAL_ORIGIN_SAMPLER = 0, /* the study's search algorithm */
    HP_TRIAL_ORIGIN_ENQUEUED,    /* a user's chosen configuration (hpsearch enqueue) */
    HP_TRIAL_ORIGIN_ASK,         /* suggested for the user's own loop (hpsearch ask) */
    HP_TRIAL_ORIGIN_COUNT_
} hp_trial_origin_t;

const char *hp_trial_origin_name(hp_trial_origin_t origin);
/* hp_trial_origin_parse returns the origin named name, or -1. */
int hp_trial_origin_parse(const char *name);

/* Bit for a state in a state mask (hp_store_trial_list). */
#define HP_TRIAL_MASK(state) (1u << (state))

const char *hp_trial_state_name(hp_trial_state_t state);
/* hp_trial_state_parse returns the state named name, or -1. */
int hp_trial_state_parse(const char *name);

/* hp_trial_transition_ok says whether the state machine allows from -> to:
 * pending -> running | cancelled; running -> completed | failed | pruned |
 * pending (lease lost, re-queued) | cancelled. Nothing else, nothing out of
 * completed, failed, pruned or cancelled. */
int hp_trial_transition_ok(hp_trial_state_t from, hp_trial_state_t to);

typedef struct hp_trial {
    int64_t id, study_id, number; /* number: 0, 1, ... within the study */
    hp_trial_state_t state;
    char *params;                 /* JSON object */
    int has_value;                /* value is set (completed trials) */
    double value;                 /* the objective */
    char *error;                  /* NULL unless failed/pruned/cancelled/re-queued with one */
    char *diagnosis, *diagnosis_detail; /* NULL until set */
    int attempts;                 /* attempts started so far */
    hp_trial_origin_t origin;
    /* the latest attempt (zero / NULL when attempts == 0); worker_id is
     * NULL for an attempt given to the user's own loop (hpsearch ask) */
    char *worker_id;
    int64_t lease_id;
    double lease_expires;
    double created, started, ended;
} hp_trial_t;

/* hp_trial_fini frees the strings of t; safe on zeroed memory. */
void hp_trial_fini(hp_trial_t *t);

/* hp_store_trial_create adds a pending trial with params (a JSON object) to
 * a running study, numbered one past the study's highest number. Sets *id
 * and *number (either may be NULL). HP_ENOENT: no such study; HP_ESTATE:
 * the study is not running; HP_EINVAL: params is not a JSON object. */
int hp_store_trial_create(hp_store_t *st, int64_t study_id, const char *params,
                          int64_t *id, int64_t *number, char *err, size_t errlen);
/* hp_store_trial_create_origin is hp_store_trial_create for a trial whose
 * params someone other than the sampler may have chosen (trials.origin). */
int hp_store_trial_create_origin(hp_store_t *st, int64_t study_id, const char *params,
                                 hp_trial_origin_t origin, int64_t *id, int64_t *number,
                                 char *err, size_t errlen);

/* hp_store_trial_get / _get_by_number fill *out (caller hp_trial_fini's it);
 * HP_ENOENT if there is no such trial. */
int hp_store_trial_get(hp_store_t *st, int64_t id, hp_trial_t *out, char *err,
                       size_t errlen);
int hp_store_trial_get_by_number(hp_store_t *st, int64_t study_id, int64_t number,
                                 hp_trial_t *out, char *err, size_t errlen);

/* hp_store_trial_list calls cb for the trials of study_id (0: every
 * study) whose state is in state_mask (0: any), by study then number. The
 * trial is borrowed for the call; a non-zero return from cb stops and is
 * returned. At restart the coordinator lists HP_TRIAL_MASK(RUNNING) over
 * every study to find the leases it must re-queue or honour. */
typedef int (*hp_store_trial_cb)(void *data, const hp_trial_t *trial);
int hp_store_trial_list(hp_store_t *st, int64_t study_id, unsigned state_mask,
                        hp_store_trial_cb cb, void *data, char *err, size_t errlen);

/* hp_store_trial_next_pending fills *out with the study's lowest-numbered
 * pending trial; HP_ENOENT when none is pending. */
int hp_store_trial_next_pending(hp_store_t *st, int64_t study_id, hp_trial_t *out,
                                char *err, size_t errlen);

/* hp_store_trial_count sets counts[s] to the number of the study's trials
 * in state s, for every s. */
int hp_store_trial_count(hp_store_t *st, int64_t study_id,
                         int64_t counts[HP_TRIAL_STATE_COUNT_], char *err,
                         size_t errlen);

/* hp_store_trial_best fills *out with the study's best completed feasible
 * trial (trials.infeasible NULL):
 * lowest value when minimizing, highest when maximizing, ties to the
 * lowest number. HP_ENOENT when no trial has completed. */
int hp_store_trial_best(hp_store_t *st, int64_t study_id, hp_trial_t *out,
                        char *err, size_t errlen);

/*
 * Transitions. A trial runs as attempts: hp_store_trial_start opens attempt
 * n+1 for a worker under a lease (lease_id: chosen by the coordinator,
 * non-zero (hpsearchd draws 64 random bits: SQL shows them as signed
 * integers) and unique across the database — the trial_attempts index
 * refuses a reused one with HP_EEXIST). Every later call about the running
 * trial names that lease; a call with any other lease is stale and refused
 * with HP_ESTATE, so a late result from a lost attempt is never stored and
 * a result is stored at most once. The store does not look at the clock to
 * expire leases: the coordinator re-queues them.
 */

/* hp_store_trial_start: pending -> running. worker_id must be a known
 * worker (hp_store_worker_upsert), or NULL for an attempt the user's own
 * loop runs (hpsearch ask: no worker, and lease_expires 0, a lease that
 * never expires). Sets *attempt (may be NULL) to the new attempt's number
 * (1, 2, ...). */
int hp_store_trial_start(hp_store_t *st, int64_t trial_id, const char *worker_id,
                         int64_t lease_id, double lease_expires, int *attempt,
                         char *err, size_t errlen);
/* hp_store_trial_renew moves the current lease's expiry (heartbeats). */
int hp_store_trial_renew(hp_store_t *st, int64_t trial_id, int64_t lease_id,
                         double lease_expires, char *err, size_t errlen);
/* hp_store_trial_complete: running -> completed with the objective value
 * (finite, else HP_EINVAL). */
int hp_store_trial_complete(hp_store_t *st, int64_t trial_id, int64_t lease_id,
                            double value, char *err, size_t errlen);
/* hp_store_trial_fail: running -> failed, with the reason (required). */
int hp_store_trial_fail(hp_store_t *st, int64_t trial_id, int64_t lease_id,
                        const char *error, char *err, size_t errlen);
/* hp_store_trial_set_pruned_step records where a pruned trial was stopped
 * (trials.pruned_step; step >= 0). */
int hp_store_trial_set_pruned_step(hp_store_t *st, int64_t trial_id, int64_t step, char *err,
                                   size_t errlen);
/* hp_store_trial_set_infeasible marks a completed trial as breaking one of
 * its study's constraints (trials.infeasible = why): it is never the best.
 * Call it with the completion, in the same write group. */
int hp_store_trial_set_infeasible(hp_store_t *st, int64_t trial_id, const char *why, char *err,
                                  size_t errlen);
/* hp_store_trial_set_objectives records a completed trial's value of every
 * objective: trials.objectives = json, a JSON object by metric in the
 * spec's order ({"val_error":0.1,"latency_ms":8}). Call it with the
 * completion, in the same write group. */
int hp_store_trial_set_objectives(hp_store_t *st, int64_t trial_id, const char *json, char *err,
                                  size_t errlen);
/* hp_store_final_values calls cb with each completed trial's final value
 * (the RESULT's, step -1, of its last attempt) of metric, by trial number.
 * Trials that never reported it are skipped. */
int hp_store_final_values(hp_store_t *st, int64_t study_id, const char *metric,
                          int (*cb)(void *data, int64_t number, double value), void *data,
                          char *err, size_t errlen);
/* hp_store_trial_prune: running -> pruned (early stopping), reason optional. */
int hp_store_trial_prune(hp_store_t *st, int64_t trial_id, int64_t lease_id,
                         const char *reason, char *err, size_t errlen);

/* How a re-queued attempt ended. */
typedef enum hp_attempt_end {
    HP_ATTEMPT_LOST = 0,     /* lease expired / worker gone */
    HP_ATTEMPT_FAILED,       /* the attempt failed and the trial will be retried */
    HP_ATTEMPT_INTERRUPTED,  /* its worker (or the coordinator) was stopped while it
                                ran: not the trial's fault, so no retry is spent */
} hp_attempt_end_t;

/* hp_store_trial_requeue: running -> pending, closing the current attempt
 * as 'lost', 'failed' or 'interrupted' with an optional reason (kept on
 * the attempt and in trials.error). The next hp_store_trial_start opens a
 * new attempt. */
int hp_store_trial_requeue(hp_store_t *st, int64_t trial_id, int64_t lease_id,
                           hp_attempt_end_t how, const char *reason, char *err,
                           size_t errlen);
/* hp_store_trial_cancel: pending | running -> cancelled (a running attempt
 * is closed as 'cancelled'); reason optional. No lease: the coordinator or
 * a user decides this, not the worker. */
int hp_store_trial_cancel(hp_store_t *st, int64_t trial_id, const char *reason,
                          char *err, size_t errlen);
/* hp_store_trial_uncancel: cancelled -> pending for every cancelled trial
 * of study_id (its error and `ended` cleared; number, params and earlier
 * attempts kept), so a resumed study runs them after all. Sets *n (may be
 * NULL) to how many. The study must be running (HP_ESTATE otherwise). */
int hp_store_trial_uncancel(hp_store_t *st, int64_t study_id, int64_t *n, char *err,
                            size_t errlen);

/* hp_store_trial_counted_attempts sets *n to the trial's attempts that
 * count against trial.retries: every attempt, the running one included,
 * except those that ended 'interrupted' (its worker was stopped) or
 * 'cancelled' (a user's cancel, before a resume ran it again): neither was
 * the trial's fault. HP_ENOENT: no such trial. */
int hp_store_trial_counted_attempts(hp_store_t *st, int64_t trial_id, int *n, char *err,
                                    size_t errlen);

/* hp_store_attempt_set_output stores what the attempt under lease_id
 * wrote (trial_attempts.stdout / stderr): text of out_len / err_len bytes,
 * which must be valid UTF-8 (the coordinator repairs it first); NULL
 * stores NULL (a built-in trial has no program output). Any state: the
 * output arrives with the RESULT, before the attempt is closed. HP_ENOENT
 * if no attempt holds the lease. */
int hp_store_attempt_set_output(hp_store_t *st, int64_t lease_id, const char *out,
                                size_t out_len, const char *err_text, size_t err_len, char *err,
                                size_t errlen);

/* hp_store_trial_set_diagnosis stores the learning-curve verdict (e.g.
 * "plateaus"; NULL clears) and its human detail (may be NULL) on a trial in
 * any state. */
int hp_store_trial_set_diagnosis(hp_store_t *st, int64_t trial_id,
                                 const char *verdict, const char *detail, char *err,
                                 size_t errlen);

/* ---- metrics -------------------------------------------------------- */

typedef struct hp_metric {
    int64_t trial_id;
    int attempt;      /* the trial's current attempt */
    int64_t step;     /* e.g. epoch; any integer, curves sort by it */
    const char *name; /* e.g. "val_loss" */
    double value;     /* NaN is stored as NULL, +-inf as such */
} hp_metric_t;

/* hp_store_metric_append records a metric of a running trial's current
 * attempt, stamped with the store's clock; HP_ESTATE if the trial is not
 * running or attempt is not its current one (late progress from a lost
 * attempt). Recording the same (trial, attempt, name, step) again replaces
 * the value, so a resent message is harmless. */
int hp_store_metric_append(hp_store_t *st, const hp_metric_t *m, char *err,
                           size_t errlen);
/* hp_store_metrics_append records n metrics atomically: all or none. */
int hp_store_metrics_append(hp_store_t *st, const hp_metric_t *m, size_t n,
                            char *err, size_t errlen);

/* ---- what pruning saw ------------------------------------------------ */

typedef enum {
    HP_PRUNE_EV_REPORT,   /* the metric at a step */
    HP_PRUNE_EV_COMPLETE, /* the attempt completed the trial */
    HP_PRUNE_EV_FORGET,   /* the attempt ended and its values no longer count */
} hp_prune_ev_kind_t;

typedef struct hp_prune_event {
    hp_prune_ev_kind_t kind;
    int64_t number; /* the trial's number in its study */
    int attempt;
    int64_t step;   /* REPORT */
    double value;   /* REPORT; NaN as stored */
} hp_prune_event_t;

/* hp_store_prune_events hands cb, in the order they happened, every report
 * of metric (at steps >= 0) by study_id's trials and every end of their
 * attempts: completed (COMPLETE), or failed, lost, interrupted or
 * cancelled (FORGET); pruned attempts keep their values. Everything is read
 * before the first call; a non-zero return of cb stops it and is returned. */
int hp_store_prune_events(hp_store_t *st, int64_t study_id, const char *metric,
                          int (*cb)(void *data, const hp_prune_event_t *e), void *data,
                          char *err, size_t errlen);

/* hp_store_pruned_last_values hands cb, for each pruned trial of study_id
 * that reported metric at a step in its last attempt, the value at its
 * highest such step (NaN as stored): what it was stopped with. */
int hp_store_pruned_last_values(hp_store_t *st, int64_t study_id, const char *metric,
                                int (*cb)(void *data, int64_t number, double value), void *data,
                                char *err, size_t errlen);

/* ---- baselines ------------------------------------------------------ */

/*
 * Simple baselines ("compare to a known result": the majority class and a
 * linear model) depend only on the data a study's trials train and test
 * on, named by the study's dataset key (hp_spec_dataset_key). One trial
 * computes them and reports them as final metrics; the coordinator keeps
 * them here, once per key, for every study with that key.
 */

/* hp_store_baseline_name returns the baselines-table name of a final
 * metric a built-in trial reports ("baseline_majority_error" ->
 * "majority_class", "baseline_linear_error" -> "linear_model"), or NULL
 * when metric is not a baseline. */
const char *hp_store_baseline_name(const char *metric);

typedef struct hp_baseline_def {
    const char *dataset_key; /* studies.dataset_key */
    const char *name;        /* e.g. "linear_model" */
    double error;            /* its test error: finite, >= 0 */
    int64_t study_id, trial_id; /* who computed it */
} hp_baseline_def_t;

/* hp_store_baseline_put records a baseline of a dataset key unless one of
 * that name is stored already: the first stays, and *inserted (may be
 * NULL) says whether this one was. HP_EINVAL: empty key or name, or an
 * error that is not finite or is negative; HP_ENOENT when the study or
 * trial does not exist. */
int hp_store_baseline_put(hp_store_t *st, const hp_baseline_def_t *b, int *inserted,
                          char *err, size_t errlen);

/* hp_store_baseline_count sets *n to the number of baselines stored for
 * dataset_key (0 for an unknown key). */
int hp_store_baseline_count(hp_store_t *st, const char *dataset_key, int64_t *n, char *err,
                            size_t errlen);

/* ---- error analysis ------------------------------------------------- */

struct hp_ea;
/* hp_store_trial_errors_put stores a classifier trial's error analysis
 * (common/error_analysis.h) from its attempt: the trial_errors row and its
 * trial_worst rows, replacing what an earlier attempt stored. HP_EINVAL
 * for an empty analysis; HP_ENOENT when the trial does not exist. */
int hp_store_trial_errors_put(hp_store_t *st, int64_t trial_id, int attempt,
                              const struct hp_ea *ea, char *err, size_t errlen);

/* ---- workers and events --------------------------------------------- */

typedef enum hp_worker_state {
    HP_WORKER_ALIVE = 0,
    HP_WORKER_LOST, /* missed its heartbeats */
    HP_WORKER_GONE, /* said goodbye */
    HP_WORKER_STATE_COUNT_
} hp_worker_state_t;

const char *hp_worker_state_name(hp_worker_state_t state);

typedef struct hp_worker_def {
    const char *id;           /* chosen by the worker, stable across reconnects */
    const char *host;
    int cores, slots;
    const char *capabilities; /* JSON; NULL: {} */
} hp_worker_def_t;

typedef struct hp_worker {
    char *id, *host;
    int cores, slots;
    char *capabilities;
    double first_seen, last_seen;
    hp_worker_state_t state;
} hp_worker_t;

/* hp_worker_fini frees the strings of w; safe on zeroed memory. */
void hp_worker_fini(hp_worker_t *w);

/* hp_store_worker_upsert records a HELLO: inserts the worker or updates its
 * host, cores, slots and capabilities; state alive, last_seen now
 * (first_seen kept). */
int hp_store_worker_upsert(hp_store_t *st, const hp_worker_def_t *def, char *err,
                           size_t errlen);
/* hp_store_worker_heartbeat sets last_seen to now and state alive;
 * HP_ENOENT for an unknown worker. */
int hp_store_worker_heartbeat(hp_store_t *st, const char *id, char *err,
                              size_t errlen);
/* hp_store_worker_set_state marks a worker lost or gone (or alive). */
int hp_store_worker_set_state(hp_store_t *st, const char *id,
                              hp_worker_state_t state, char *err, size_t errlen);
/* hp_store_worker_get fills *out (caller hp_worker_fini's it). */
int hp_store_worker_get(hp_store_t *st, const char *id, hp_worker_t *out, char *err,
                        size_t errlen);
/* hp_store_worker_list calls cb for every worker by id; borrowed, as above. */
typedef int (*hp_store_worker_cb)(void *data, const hp_worker_t *worker);
int hp_store_worker_list(hp_store_t *st, hp_store_worker_cb cb, void *data,
                         char *err, size_t errlen);

/* A worker's session as the store keeps it: SHA-256 digests of the
 * secret HELLO_REPLY gave and of the nonce the worker's process sends in
 * every HELLO — never the secrets — and the envelope sequence of the HELLO
 * that began it (docs/security.md). */
#define HP_SESSION_HASH_BYTES 32
typedef struct hp_worker_session {
    const char *worker_id;
    unsigned char secret_sha256[HP_SESSION_HASH_BYTES];
    unsigned char nonce_sha256[HP_SESSION_HASH_BYTES];
    int has_secret, has_nonce;
    uint64_t hello_seq;
} hp_worker_session_t;
/* hp_store_session_put records (or replaces) worker_id's session; the
 * worker must be recorded (hp_store_worker_upsert). Call in the write group
 * of the HELLO it answers, so no HELLO_REPLY names a session the database
 * would not have after a crash. */
int hp_store_session_put(hp_store_t *st, const hp_worker_session_t *ws, char *err,
                         size_t errlen);
/* hp_store_session_list_live calls cb for the session of every worker that
 * is alive or holds a running attempt, by worker id, with its host, slots
 * and cores; all borrowed for the call. */
typedef int (*hp_store_session_cb)(void *data, const hp_worker_session_t *ws, const char *host,
                                   int slots, int cores);
int hp_store_session_list_live(hp_store_t *st, hp_store_session_cb cb, void *data, char *err,
                               size_t errlen);

/* hp_store_event_append logs what happened: kind is a short stable word
 * ("lease_expired", "study_stopped"...), study_id/trial_id 0 and worker_id
 * NULL when not about one, message free text (may be NULL). */
int hp_store_event_append(hp_store_t *st, const char *kind, int64_t study_id,
                          int64_t trial_id, const char *worker_id,
                          const char *message, char *err, size_t errlen);

/* hp_store_event_append_detail is hp_store_event_append with evidence:
 * detail is a JSON document stored in events.detail (NULL: none);
 * HP_EINVAL if it is not valid JSON. */
int hp_store_event_append_detail(hp_store_t *st, const char *kind, int64_t study_id,
                                 int64_t trial_id, const char *worker_id, const char *message,
                                 const char *detail, char *err, size_t errlen);

/* ---- queries for people --------------------------------------------- */

typedef enum hp_store_type {
    HP_STORE_NULL = 0,
    HP_STORE_INTEGER,
    HP_STORE_FLOAT,
    HP_STORE_TEXT,
    HP_STORE_BLOB, /* handed out as x'hex' text */
} hp_store_type_t;

/* Row callback of hp_store_exec_query: called once with values == NULL and
 * types == NULL for the header (column names), then once per row. values[i]
 * is NULL for SQL NULL; everything is text: integers in decimal, REALs
 * with the fewest digits that read back exactly (0.1, not
 * 0.10000000000000001; infinities as Inf and -Inf, like SQLite), BLOBs as
 * x'hex'. All pointers are valid only during the call. A non-zero return
 * stops the query and is returned. */
typedef int (*hp_store_row_cb)(void *data, int ncol, const char *const *names,
                               const char *const *values, const int *types);

/* hp_store_exec_query runs the user's SQL (one or more statements; the
 * callback sees each statement's header and rows in turn) for `hpsearch
 * sql`. Only statements that do not write are run: anything else fails with
 * HP_EREADONLY before it starts, even on a read-write handle. A syntax
 * error or unknown column fails with HP_EINVAL and SQLite's message. */
int hp_store_exec_query(hp_store_t *st, const char *sql, hp_store_row_cb cb,
                        void *data, char *err, size_t errlen);

/* hp_store_set_query_limit bounds how long one hp_store_exec_query may run
 * (seconds; 0 = no limit): a query still running then is interrupted and
 * fails with HP_ETIMEDOUT. The daemon sets it, so a user's runaway query
 * (a recursive CTE without end, say) cannot stall its loop. */
void hp_store_set_query_limit(hp_store_t *st, double seconds);

#endif
