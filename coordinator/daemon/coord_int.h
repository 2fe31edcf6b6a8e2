/* coord_int.h — the coordinator's private state, and the one map of the
 * files that share it. Everything here belongs to the loop thread.
 *
 * The files stand in floors: each calls only files on floors below its own,
 * never one beside or above it (tests/tools/callgraph.py finds no loop).
 *
 *   main.c        the process: settings, then hp_coord_main
 *    coord.c      lifecycle: start-up and recovery, the tick, lease and
 *                 checkpoint timers, shutdown; registers the two below
 *                 with rep.c as its sockets' request callbacks
 *     worker_msgs.c   the worker socket: HELLO .. RESULT, the
 *                     registration caps
 *      session.c      worker sessions: secrets, their digests in the
 *                     store, restored at start-up, HELLO resends
 *     control.c       the control socket: what the CLI asks
 *      queries.c      user SQL (QUERY) off the loop, on read-only
 *                     connections of its own, a few at a time
 *      status.c       STATUS from a snapshot read off the loop, on a
 *                     read-only connection of its own
 *      enqueue.c      a trial whose params the user chose (ENQUEUE)
 *      ask.c          trials run by the user's own loop: ASK (held while
 *                     a suggestion is computed) and TELL
 *      grow.c         a resubmission that grows a study; RESUME
 *      sched.c        gives trials to idle slots, each under a fresh lease
 *      attempt.c      a running attempt after that: renewals, progress,
 *                     its end (result, failure, expired lease)
 *       pick.c        a study's next trial (re-queued, else sampled), and
 *                     adding a trial with a given point
 *       study.c       a study in memory: spec, sampler, counters, history,
 *                     baselines, suggestions off the loop
 *       failures.c    search.max_failures: failed trials in a row, and
 *                     the study that gives up on them
 *       feasible.c    constraints: a completed trial judged by them
 *       objectives.c  several objectives: every value a trial finished with
 *       sanity.c      the overfit-one-batch check before a study's trials
 *       diagnose.c    the loss curve of each attempt, and its verdict
 *       prune.c       the study's early-stopping rule: judges progress, and
 *                     rebuilds its state from the store at start-up
 *        held.c       idle slots: GET_TRIALs held open, NO_TRIAL
 *         tick.c      requests in, one transaction per tick, replies out
 *                     after it commits (the outbox); a database that
 *                     changed under us or a failed write stops the daemon
 *         state.c     the loop's clock; finding, adding and removing in
 *                     coord_t's tables; the request to shut down
 *         checkpoint.c   WAL checkpoints off the loop, on a connection
 *                     of their own, when the WAL grows
 *
 * Who calls whom (every edge points down):
 *   coord       -> queries status ask sched attempt study prune held tick
 *                  state checkpoint session
 *   worker_msgs -> session attempt held tick state
 *   session     -> tick state
 *   control     -> queries status enqueue ask grow study tick state
 *   queries     -> tick
 *   enqueue     -> pick study tick state
 *   ask         -> pick study failures diagnose tick state
 *   grow        -> study tick state
 *   sched       -> pick study sanity held tick state
 *   attempt     -> study failures sanity diagnose prune tick state
 *   pick        -> study tick
 *   study       -> prune failures tick state
 *   diagnose, prune, failures -> tick
 *   sanity      -> held tick state
 *   held        -> tick state
 * rep.c (an nng REP socket served from the loop; coord.c opens and closes
 * it, tick.c replies through it) and settings.c (the settings table, for
 * main.c) are leaves with their own headers, and so is ratelimit.c (failed
 * authentications per peer, for tick.c).
 *
 * The prototypes below come floor by floor, lowest first, each under the
 * file that defines it. */
#ifndef HP_COORD_INT_H
#define HP_COORD_INT_H

#include "buf.h"
#include "codec.h"
#include "coord.h"
#include "lockfile.h"
#include "ratelimit.h"
#include "rep.h"
#include "sampler.h"
#include "spec.h"
#include "store.h"
#include "vec.h"

#include <pthread.h>
#include <stdint.h>
#include <uv.h>

/* Simple baselines, computed once per dataset key (studies.dataset_key,
 * the baselines table): whether this study's next trial must compute them.
 * A trial that must not is sent the param baselines=0. */
typedef enum coord_baselines {
    COORD_BASELINES_OFF = 0, /* trials do as the spec says: no dataset key, or
                                the spec sets `baselines` itself */
    COORD_BASELINES_NEED,    /* not stored: the next trial dispatched computes
                                them, unless a running attempt (of any study
                                with the key) already does (coord_run.baselines) */
    COORD_BASELINES_STORED,  /* in the table: no trial computes them again */
} coord_baselines_t;

/* What search.max_failures decides on (failures.c). */
typedef struct coord_failures {
    uint32_t streak;       /* trials failed since the last one completed */
    char *first;           /* the first of those trials' error; NULL: none */
    uint64_t first_number; /* and its trial number */
    int succeeded;         /* a trial of the study completed, ever */
    int gave_up;           /* the study failed on max_failures: its running
                              trials, told to stop, go back to pending */
} coord_failures_t;

typedef struct coord_study {
    int64_t id;
    hp_spec_t spec;
    hp_sampler_t *sampler;
    char *trial_json; /* the spec's trial section, sent with each trial */
    uint64_t total;   /* trials the study runs in all */
    uint64_t created; /* trials created so far (= the next number) */
    uint64_t pending; /* created but waiting (re-queued) */
    uint32_t running;
    uint32_t asked;   /* running in the user's own loop (hpsearch ask), not
                         counted in running: no worker, no parallelism */
    uint64_t done;    /* completed + failed + pruned + cancelled */
    int active;       /* still scheduling */
    int exhausted;    /* the sampler has no more points */
    int blocked;      /* the sampler waits for running trials to finish */
    coord_failures_t fails;
    /* what samplers learn from: entry i is trial number i */
    HP_VEC(hp_obs_t) hist;
    double *hist_x;   /* hist.cap x space.n */
    double *hist_cv;  /* hist.cap x n_constraints (NaN: unknown); obs.cv points in */
    /* several objectives: hist.cap x coord_study_n_ov (NaN: unknown);
     * obs.ov points in; NULL with one objective */
    double *hist_ov;
    /* the overfit-one-batch check before the first trial (sanity.h):
     * 0 = none or passed, 1 = to dispatch, 2 = running on a worker */
    int sanity;
    unsigned sanity_attempts;
    /* the check runs HP_SANITY_LONGER times HP_SANITY_STEPS: its first
     * run ended still memorising (that run is not an attempt lost) */
    int sanity_long;
    char *dataset_key; /* NULL: none */
    coord_baselines_t baselines;
    /* the pruning rule (prune.c); NULL: none */
    struct hp_pruner *pruner;
    int prune_warned; /* the "never reported the metric" warning was given */
    /* expensive samplers run off the loop (uv_queue_work) */
    int suggesting;
    int has_ready;
    double ready_x[HP_SPACE_MAX_PARAMS];
    /* a grown spec waiting for the suggestion in flight (coord_study_respec) */
    struct coord_study *next;
} coord_study_t;

/* A running attempt: one trial leased to one worker. */
typedef struct coord_run {
    int64_t trial_id;
    int64_t lease_id;
    int attempt;
    uint64_t number;
    uint64_t worker_id;
    uint64_t expires_ms; /* uv_now() time */
    double stored_expires; /* the lease_expires last written (unix s); 0: none yet */
    coord_study_t *study;
    int stop;            /* tell the worker to stop (cancelled, diverged) */
    char stop_reason[384];
    /* the loss curve this attempt reported, for its diagnosis, and the
     * step each value was reported at (PROGRESS.step, as stored) */
    HP_VEC(double) loss;
    HP_VEC(int64_t) loss_step;
    char loss_metric[32];
    /* pruning: whether the rule's metric came, and what came instead; the
     * step a stop was decided at (has_prune_step) */
    int prune_seen;
    int has_prune_step;
    int64_t prune_step;
    int pruned_by_rule; /* the stop is the pruning rule's (prune.c) */
    /* the objective as last reported at a step: a pruned trial's value
     * for the samplers (has_obj_last) */
    int has_obj_last;
    double obj_last;
    char prune_others[128];
    int sanity; /* the study's sanity check, not a trial: nothing in the store */
    /* this attempt was left to compute its dataset's baselines (or, after
     * a restart, may have been): while it runs no other trial of the key
     * is; when it ends without them the next trial dispatched does */
    int baselines;
    /* found running at start-up, its lease not renewed since: if it
     * expires, the coordinator's stop ended the attempt (interrupted) */
    int recovered;
} coord_run_t;

/* A sanity run's lease names no trial row: its trial id is the study id
 * with bit 62 set, out of the store's range. */
#define COORD_SANITY_TRIAL_ID(study_id) ((int64_t)((UINT64_C(1) << 62) | (uint64_t)(study_id)))

typedef struct coord_worker {
    uint64_t id;
    char id_str[24];
    char host[HP_PROTO_MAX_NAME * 4 + 1]; /* as HELLO said, escaped (hp_utf8_escape) */
    char peer[64];                        /* who said it (hp_rep_req_peer) */
    /* the session (session.c): every message of this worker id but HELLO
     * must carry the secret its last HELLO_REPLY gave, whose SHA-256 is
     * session_sha256 (kept in the store too, so it outlives a restart). The
     * secret itself is known only to the daemon that made it (has_secret),
     * to answer a resent HELLO with the same reply. */
    unsigned char session[HP_PROTO_SESSION_BYTES];
    int has_secret;
    unsigned char session_sha256[HP_SESSION_HASH_BYTES];
    /* the secret that HELLO itself carried (its SHA-256; has_hello_sha):
     * a HELLO again from the same process keeps the id */
    unsigned char hello_sha256[HP_SESSION_HASH_BYTES];
    int has_hello_sha;
    /* the nonce the worker's process sends in every HELLO (its SHA-256;
     * has_nonce), and the sequence of the HELLO that began the session: a
     * HELLO with the nonce is this worker, one with the sequence too is a
     * resend of that HELLO */
    unsigned char nonce_sha256[HP_SESSION_HASH_BYTES];
    int has_nonce;
    uint64_t hello_seq;
    int restored; /* loaded from the store at start-up, not heard from since */
    uint32_t slots, pid, cores;
    uint32_t pipe_id;
    uint64_t last_seen_ms;
    int alive;
    int leaving; /* it interrupted a trial, so it is stopping: no more
                    trials for it until it says HELLO again */
} coord_worker_t;

/* An idle worker slot: a GET_TRIAL held open until there is a trial. */
typedef struct coord_held {
    hp_rep_req_t *req;
    uint64_t worker_id;
    uint64_t seq;
    uint32_t pipe_id;
    /* a RESULT with next: its acknowledgement rides on the eventual
     * TRIAL / NO_TRIAL reply */
    int has_ack, ack_stop;
    char ack_reason[128];
} coord_held_t;

/* An ASK waiting for its study's suggestion (computed off the loop). */
typedef struct coord_ask {
    hp_rep_req_t *req;
    int64_t study_id;
} coord_ask_t;

/* A reply computed this tick, sent after the tick's writes commit so no
 * acknowledgement ever precedes the durable write it acknowledges. */
typedef struct coord_reply {
    hp_rep_req_t *req;
    hp_buf_t buf;
} coord_reply_t;

/* The user queries running off the loop (queries.c): one thread and one
 * read-only connection per slot. */
#define COORD_QUERIES_MAX 16
struct coord_query_job;
struct coord_query_thread;
typedef struct coord_queries {
    hp_store_t *conn[COORD_QUERIES_MAX];
    struct coord_query_thread *threads; /* [COORD_QUERIES_MAX], see queries.c */
    /* the loop's: the job each slot runs (NULL: free) */
    struct coord_query_job *job[COORD_QUERIES_MAX];
    unsigned n;       /* slots open (query-concurrency) */
    unsigned running; /* jobs in flight */
    int closing;      /* shutting down: no new query starts */
    int open, quit;
    /* handed between the loop and the threads, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct coord_query_job *todo[COORD_QUERIES_MAX]; /* for the slot's thread */
    struct coord_query_job *done[COORD_QUERIES_MAX]; /* for the loop */
    uv_async_t async; /* a job is done */
    int async_closed; /* the control socket closed: no more sends */
} coord_queries_t;

/* STATUS from a snapshot read off the loop (status.c). */
struct coord_status_snap;
typedef struct coord_status_wait {
    hp_rep_req_t *req;
    uint64_t need; /* the generation the answer must have seen */
    char *study;   /* the study asked for; NULL: all */
} coord_status_wait_t;
typedef struct coord_status {
    hp_store_t *conn; /* read-only, used only by the thread */
    pthread_t tid;
    int started, open;
    /* the loop's */
    struct coord_status_snap *snap; /* the latest snapshot; NULL before the first */
    uint64_t gen;          /* commits that changed a study or a trial */
    uint64_t changes_seen; /* hp_store_study_changes at the last count */
    int refreshing;
    HP_VEC(coord_status_wait_t) waiting;
    /* handed between the loop and the thread, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int want, quit, async_closed;
    uint64_t want_gen;
    struct coord_status_snap *ready;
    uv_async_t async; /* a snapshot is ready */
} coord_status_t;

/* The WAL checkpoint running off the loop (checkpoint.c). */
typedef struct coord_checkpointer {
    hp_store_t *conn; /* read-write, used only by the work thread */
    uv_work_t work;
    int running;
    int log, done, rc; /* the last checkpoint's frames, copied, result */
    char err[256];
    unsigned peak_pages; /* the largest WAL seen after a commit, in pages */
    unsigned started_pages; /* the WAL's size when the last one started */
    int caught_up; /* the last one copied every frame there was when it began */
} coord_checkpointer_t;
/* A checkpoint starts once a commit leaves this many pages in the WAL
 * (SQLite's own automatic checkpoint's default: about 4 MiB). */
#define COORD_CHECKPOINT_PAGES 1000u

typedef struct coord {
    hp_coord_config_t cfg;
    uv_loop_t *loop;
    hp_lockfile_t lock; /* the database's: held from before the open to exit */
    hp_store_t *store;
    hp_rep_t *workers_rep, *control_rep;
    uv_timer_t lease_timer, checkpoint_timer, linger_timer;
    uv_check_t tick;
    uv_signal_t sigterm, sigint;

    HP_VEC(coord_study_t *) studies;
    HP_VEC(coord_run_t) runs;
    HP_VEC(coord_worker_t) workers;
    HP_VEC(coord_held_t) held;
    uint64_t held_full_warned_ms; /* when held.c last said the pool was full */
    uint64_t held_refused;        /* idle requests sent away since then */
    HP_VEC(coord_ask_t) asks; /* in arrival order */
    HP_VEC(coord_reply_t) outbox;
    size_t rr; /* round-robin position over studies */

    coord_queries_t queries;
    coord_status_t status;
    coord_checkpointer_t ckpt;
    /* the loop's own stalls (a callback that ran long, a process not
     * scheduled), which the lease clock does not count: coord_now_ms is
     * uv_now less this (coord_clock_stalled) */
    uint64_t stalled_ms;
    uint64_t clock_last; /* coord_now_ms's last answer: it never goes back */
    uint64_t lease_timer_due; /* uv_now when the lease timer should fire next */

    uint64_t next_worker_id;
    hp_ratelimit_t auth_limit; /* failed authentications per peer (tick.c) */
    int schedule_needed;
    const char *shutdown_why; /* a stop asked for; the next tick begins it */
    int shutting_down;
    int exit_code;
    /* the database changed under us, or a write failed (coord_db_changed,
     * coord_store_failed): no write begins any more, and the daemon stops */
    int db_fault;
} coord_t;

/* ---- state.c ------------------------------------------------------------ */

/* coord_now_ms is the lease clock: the loop's (uv_now) less the time the
 * loop itself stood still (coord_clock_stalled). Leases, worker silences
 * and their deadlines all count in it, so a worker is never found silent
 * for a time in which the daemon could not have heard it. */
uint64_t coord_now_ms(coord_t *c);
/* coord_lease_new returns a fresh lease id: 64 random bits from
 * getrandom(2), never 0, so no one can guess the lease of someone else's
 * attempt from the ones they see. */
int64_t coord_lease_new(coord_t *c);
/* coord_clock_stalled takes ms the loop was found blocked (the lease timer
 * fired that late) out of the lease clock. */
void coord_clock_stalled(coord_t *c, uint64_t ms);
/* coord_lease_deadline_ms is when a lease given or renewed now expires. */
uint64_t coord_lease_deadline_ms(coord_t *c);
/* coord_restart_grace_ms is how long a worker known from before a restart
 * may stay silent after it: a lease, plus the longest wait between two of
 * its dials (HP_PROTO_REDIAL_MAX_MS), which may have grown to that while
 * the daemon was down. Its runs' leases and its own silence both get it. */
uint64_t coord_restart_grace_ms(const coord_t *c);
/* Lookups; NULL when there is none. coord_study_find takes a study's name
 * or its id in decimal. Studies are in memory when they were running at
 * start-up or were submitted since (ended ones stay, inactive). */
coord_study_t *coord_study_by_id(coord_t *c, int64_t id);
coord_study_t *coord_study_find(coord_t *c, const char *name_or_id);
coord_worker_t *coord_worker_by_id(coord_t *c, uint64_t id);
coord_run_t *coord_run_by_trial(coord_t *c, int64_t trial_id);
/* coord_run_add appends a copy of r to the running attempts and counts it
 * against its study's parallelism. Pointers into c->runs are invalid after. */
void coord_run_add(coord_t *c, const coord_run_t *r);
/* coord_run_remove drops the attempt r points at (its loss curve freed,
 * its study's running count down) and asks for a schedule: the slot is
 * free. r and the last run's address are invalid after; read what you need
 * first. */
void coord_run_remove(coord_t *c, coord_run_t *r);
/* coord_run_free frees what a run owns (its loss curve), not the run. */
void coord_run_free(coord_run_t *r);
/* coord_shutdown_request asks for a graceful stop (the first reason
 * wins); coord.c begins it at the end of this round of callbacks: held
 * requests get NO_TRIAL, the last replies leave, the sockets close and the
 * loop ends. */
void coord_shutdown_request(coord_t *c, const char *why);

/* ---- tick.c ------------------------------------------------------------- */

/* coord_decode_request decodes and authenticates a request; on failure it
 * queues an ERROR reply naming the problem and returns NULL. The caller
 * hp_proto_free's the envelope. socket ("worker" or "control") names the
 * socket in log lines and decides what needs the token: every worker
 * message, and every control request but the read-only STATUS,
 * LIST_WORKERS and QUERY on a loopback control socket. A wrong token is
 * refused anywhere, and counted against its peer (ratelimit.h). */
Hpsearch__Envelope *coord_decode_request(coord_t *c, hp_rep_req_t *req, const void *buf,
                                         size_t len, const char *socket);
/* coord_decode and coord_authenticate are its two halves, for the worker
 * socket, whose messages after HELLO may instead be vouched for by their
 * session secret: coord_decode queues the ERROR for a malformed message
 * and returns NULL; coord_authenticate returns 1 to serve e, or 0 after
 * queueing the ERROR (EAUTH; EBUSY "rate limited" for a peer that failed
 * auth-fail-limit times this minute). */
Hpsearch__Envelope *coord_decode(coord_t *c, hp_rep_req_t *req, const void *buf, size_t len,
                                 const char *socket);
int coord_authenticate(coord_t *c, hp_rep_req_t *req, const Hpsearch__Envelope *e,
                       const char *socket);
/* coord_write_begin opens this tick's transaction if none is open; every
 * handler that writes calls it first. Returns 0 or an hp_err. A
 * transaction that cannot begin (the file locked by another connection
 * for longer than the busy timeout, a read-only or failing disk) stops
 * the daemon, as coord_store_failed does; once it is stopping for its
 * database no write begins any more (HP_ESTATE, not logged again). */
int coord_write_begin(coord_t *c);
/* coord_db_changed stops the daemon because its database no longer holds
 * what this coordinator wrote there — a trial number, a row that must
 * exist, a state — so someone else wrote to it. It logs "database DB
 * changed under the coordinator: <what>; stopping", sets exit status 1
 * and refuses every write from then on. The tick's writes so far (each
 * one accepted by the store's checks) still commit and their replies
 * leave, as in any shutdown; a restart resumes from what the file says
 * then. The caller stops what it was doing and leaves its state alone. */
void coord_db_changed(coord_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* coord_store_failed sorts out a store call that failed with rc where what
 * the coordinator knows says it must succeed. HP_ESTATE, HP_ENOENT and
 * HP_EEXIST mean the database changed under it (coord_db_changed, with
 * the formatted words); HP_EINVAL is the request's own fault and returns
 * 0 (the caller logs it and goes on); anything else is a failed write
 * (disk full, I/O error, a lock held too long), which stops the daemon as
 * well: "cannot write to the database DB: <what>; stopping (a restart
 * recovers from the last commit)". Returns 1 when the daemon stops. */
int coord_store_failed(coord_t *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* coord_reply queues env, encoded now, as req's reply: it leaves after this
 * tick's transaction commits. env and what it points to stay the caller's. */
void coord_reply(coord_t *c, hp_rep_req_t *req, Hpsearch__Envelope *env);
/* coord_reply_buf queues an encoded reply (taken: *buf is emptied). */
void coord_reply_buf(coord_t *c, hp_rep_req_t *req, hp_buf_t *buf);
/* coord_reply_error queues an ERROR reply: code, then the formatted words. */
void coord_reply_error(coord_t *c, hp_rep_req_t *req, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* coord_reply_no_study queues the ENOENT reply for a study name that names
 * none, with the closest stored name when there is one:
 * "no study named 'brannin' (did you mean 'branin'?)". Every handler that
 * looks a study up by the user's name answers a miss with it. */
void coord_reply_no_study(coord_t *c, hp_rep_req_t *req, const char *name);
/* coord_study_hint writes " (did you mean 'branin'?)" for the stored study
 * name closest to name, or "" when none is close, into hint (cap bytes). */
void coord_study_hint(coord_t *c, const char *name, char *hint, size_t cap);
/* coord_reply_ack queues an ACK; stop asks a worker to stop the attempt,
 * reason (may be NULL) says why or what was done. */
void coord_reply_ack(coord_t *c, hp_rep_req_t *req, int stop, const char *reason);
/* coord_tick_commit ends the tick (coord.c, once per round of callbacks):
 * commits its transaction if one is open, then sends the outbox. When the
 * commit fails it rolls back, drops the replies (they would acknowledge
 * writes that did not happen) and returns the hp_err: the caller stops
 * the daemon, and a restart recovers from the last commit. */
int coord_tick_commit(coord_t *c);

/* ---- held.c ------------------------------------------------------------- */

/* coord_held_ack fills ack with the acknowledgement a held RESULT carries
 * and returns it, or NULL when h is a plain GET_TRIAL: the result_ack of
 * the TRIAL or NO_TRIAL that answers h. */
Hpsearch__Ack *coord_held_ack(const coord_held_t *h, Hpsearch__Ack *ack);
/* coord_reply_no_trial answers a held request with NO_TRIAL (and the
 * acknowledgement of its result, if it carried one). */
void coord_reply_no_trial(coord_t *c, const coord_held_t *h, uint32_t retry_ms,
                          int shutting_down);
/* coord_held_add holds h (copied) until there is a trial for it and asks
 * for a schedule; while shutting down it answers NO_TRIAL at once. A
 * resend (same worker and seq) replaces the request it resends. A share of
 * the worker socket's contexts is never held (coord_held_limit): past the
 * limit h gets NO_TRIAL (ask again) and the log a rate-limited warning. */
void coord_held_add(coord_t *c, const coord_held_t *h);
/* coord_held_pop takes the oldest held request whose worker is alive (and
 * not leaving) into *out and returns 1, answering those of lost and
 * leaving workers on the way; 0 when none is left. coord_held_unpop puts one back in front. */
int coord_held_pop(coord_t *c, coord_held_t *out);
void coord_held_unpop(coord_t *c, const coord_held_t *h);
/* coord_held_release answers every held request with NO_TRIAL. */
void coord_held_release(coord_t *c, int shutting_down);
/* coord_held_drop_pipe answers (NO_TRIAL) and forgets the requests held
 * from a connection that closed: no trial could reach them. */
void coord_held_drop_pipe(coord_t *c, uint32_t pipe_id);

/* ---- diagnose.c --------------------------------------------------------- */

/* coord_diagnose_progress adds a progress report's loss, reported at
 * step, to the run's curve and, when the curve diverges (non-finite, or
 * an explosive jump), asks the worker to stop the attempt as pruned. */
void coord_diagnose_progress(coord_t *c, coord_run_t *r, int64_t step, Hpsearch__Metric **m,
                             size_t n);
/* coord_diagnose_end stores the verdict on the run's curve with the trial
 * (trials.diagnosis / diagnosis_detail). Call it before the run is removed. */
void coord_diagnose_end(coord_t *c, coord_run_t *r);

/* ---- prune.c ------------------------------------------------------------ */

/* coord_prune_init gives s the pruner its spec asks for (none: NULL). */
int coord_prune_init(coord_study_t *s, char *err, size_t errlen);
/* coord_prune_replay rebuilds s's pruner, from empty, from what the store
 * recorded of study id (at start-up before its runs are loaded, and when a
 * study is counted again to resume). */
int coord_prune_replay(coord_t *c, coord_study_t *s, int64_t id, char *err, size_t errlen);
/* coord_prune_progress keeps the report's objective (r->obj_last) and
 * judges the report; a trial the rule stops gets r->stop with the reason
 * and a log line (its trial_pruned event comes when it ends pruned:
 * attempt.c). */
void coord_prune_progress(coord_t *c, coord_run_t *r, int64_t step, Hpsearch__Metric **m,
                          size_t n);
/* coord_prune_loaded marks a run found running at start-up stopped when
 * the replayed rule had stopped it. */
void coord_prune_loaded(coord_run_t *r);
/* coord_prune_project gives each pruned trial of obs (a snapshot of s's
 * history for a sampler) its projection to the end, when the spec asks
 * for projections and the rule has one (hp_pruner_projection); others are
 * left as they are. */
void coord_prune_project(coord_study_t *s, hp_obs_t *obs, size_t n);
typedef enum coord_prune_end {
    COORD_PRUNE_COMPLETED, /* its curve counts (median) */
    COORD_PRUNE_PRUNED,    /* its values stay */
    COORD_PRUNE_FORGET,    /* lost, failed, interrupted, cancelled: a re-run is judged afresh */
} coord_prune_end_t;
/* coord_prune_attempt_end tells the rule how r's attempt ended. Call it
 * before the run is removed. */
void coord_prune_attempt_end(coord_t *c, coord_run_t *r, coord_prune_end_t end);

/* ---- sanity.c ----------------------------------------------------------- */

/* coord_sanity_dispatch gives the study's sanity check to the held
 * request h (a worker slot) under a new lease. */
void coord_sanity_dispatch(coord_t *c, coord_study_t *s, const coord_held_t *h);
/* coord_sanity_result judges a finished sanity run: the study goes on, or
 * stops with the diagnosis. The run is removed. */
void coord_sanity_result(coord_t *c, coord_run_t *r, const Hpsearch__Result *res);
/* coord_sanity_lost handles a sanity run that ended without a result (its
 * lease expired): another worker tries, within the spec's retries, else
 * the study stops. The run is removed. */
void coord_sanity_lost(coord_t *c, coord_run_t *r, const char *why);
/* coord_sanity_interrupted handles a sanity run its worker stopped
 * (INTERRUPTED), or one that ran when the coordinator stopped: another
 * worker runs it, and it spends none of the retries. The run is removed. */
void coord_sanity_interrupted(coord_t *c, coord_run_t *r, const char *why);

/* ---- study.c ------------------------------------------------------------ */

/* coord_study_new builds a study's in-memory form from its parsed spec,
 * which it takes (*spec is zeroed, on failure too): the sampler (HP_EINVAL
 * with the sampler's sentence when the spec cannot run), the trial count
 * and the trial JSON sent with each trial. The study is not yet one of the
 * loop's: coord_study_add makes it one once it is stored. Free it with
 * coord_study_free until then. */
int coord_study_new(hp_spec_t *spec, coord_study_t **out, char *err, size_t errlen);
/* coord_study_add makes s, just stored under id with no trials yet, a
 * running study in c->studies, with the baselines state of dataset_key
 * (NULL: none). On failure s is freed. The loop owns s afterwards. */
int coord_study_add(coord_t *c, coord_study_t *s, int64_t id, const char *dataset_key, char *err,
                    size_t errlen);
/* coord_study_load rebuilds stored study id at start-up (its stored text
 * parsed again, with its counters and history from its trials) and adds
 * it to c->studies. */
int coord_study_load(coord_t *c, int64_t id, char *err, size_t errlen);
/* coord_study_running returns the running study a request names (its
 * name or id) for `doing` ("enqueue", "ask"...), or NULL after replying
 * why not: ENOENT with the closest name, or ESTATE naming its state and
 * how to continue it ("cannot enqueue: study 'b' is completed (resubmit
 * its spec with a larger search.max_trials to continue it)"). */
coord_study_t *coord_study_running(coord_t *c, hp_rep_req_t *req, const char *name,
                                   const char *doing);
/* What a submission did beyond storing the study, one sentence each (the
 * SubmitReply's notes). Free with coord_notes_fini. */
typedef HP_VEC(char *) coord_notes_t;
void coord_notes_fini(coord_notes_t *n);
/* coord_study_warm_start gives s's sampler, once, the completed trials of
 * the earlier studies its search.warm_start names (search/warm.h), study by
 * study in the spec's order, each study's trials by number: those that had
 * completed by `before` (unix seconds, the study's stored creation time,
 * so that a restart rebuilds the same observations; 0 at submission:
 * every completed one). One note per earlier study goes to notes (may be
 * NULL: logged only). At submission a name that names no stored study
 * fails with HP_ENOENT: "search.warm_start: no study named 'x' (did you
 * mean 'y'?)"; at a restart (before > 0) it is logged and left out. */
int coord_study_warm_start(coord_t *c, coord_study_t *s, double before, coord_notes_t *notes,
                           char *err, size_t errlen);
/* coord_study_free frees s (NULL ok); no suggestion may be in flight. */
void coord_study_free(coord_study_t *s);
/* coord_study_recount makes the ended study s (cancelled, failed...) run
 * again once the store says so (hp_store_study_reopen): its counters and
 * the samplers' history are read from its stored trials again, and it
 * schedules. Its spec and sampler stay. */
int coord_study_recount(coord_t *c, coord_study_t *s, char *err, size_t errlen);
/* coord_study_respec gives s the spec of next — a resubmission that changed
 * only what a study may change while it runs (max_trials, parallelism,
 * trial.timeout), built by coord_study_new — with a sampler made for it
 * and the trial count it gives. It takes next. Trials already sent keep
 * what they were sent with. While a suggestion is in flight the swap
 * waits for it to finish. */
void coord_study_respec(coord_t *c, coord_study_t *s, coord_study_t *next);
/* coord_study_maybe_finish marks the study completed when nothing is left. */
void coord_study_maybe_finish(coord_t *c, coord_study_t *s);
/* coord_study_hist_set records what a sampler knows of trial number. */
void coord_study_hist_set(coord_study_t *s, uint64_t number, hp_obs_state_t state, double value,
                          const double *x);
/* coord_feasible_record judges trial number (trial_id) of s, just
 * completed with objective value and final metrics m (n), by the spec's
 * constraints (feasible.c): an infeasible one is marked in the store
 * (never the best), and the constraints' values go to the samplers'
 * history. No-op without constraints. Returns 0 or the store's error. */
int coord_feasible_record(coord_t *c, coord_study_t *s, int64_t trial_id, uint64_t number,
                          double value, Hpsearch__Metric *const *m, size_t n, char *err,
                          size_t errlen);

/* coord_study_n_ov: how many objective values the history keeps per
 * trial: the objectives' count with several, 0 with one (trials.value
 * is it). */
static inline size_t coord_study_n_ov(const coord_study_t *s)
{
    return s->spec.objective.n_list;
}
/* coord_objectives_of gathers the value of every objective of s that a
 * trial finished with: value (the first objective's, finite) and its
 * final metrics m (n) for the others (objectives.c). Returns 1 with
 * vals[0..n_objectives) set, or 0 with why (never reported one, or it is
 * not finite: the trial fails). */
int coord_objectives_of(const coord_study_t *s, double value, Hpsearch__Metric *const *m,
                        size_t n, double *vals, char *why, size_t whylen);
/* coord_objectives_record stores those values with the trial's completion
 * (trials.objectives) and gives them to the samplers' history. Returns 0
 * or the store's error. */
int coord_objectives_record(coord_t *c, coord_study_t *s, int64_t trial_id, uint64_t number,
                            const double *vals, char *err, size_t errlen);

/* coord_study_trial_ended updates the history when a trial reaches a final
 * state (COMPLETED with its value, or FAILED) and wakes a blocked sampler. */
void coord_study_trial_ended(coord_t *c, coord_study_t *s, uint64_t number, hp_obs_state_t st,
                             double value);
/* coord_study_suggest proposes the point for trial number s->created. Cheap
 * samplers answer at once; expensive ones start a uv_queue_work on a
 * snapshot and return HP_EBUSY until the point is ready (the completion
 * sets schedule_needed). HP_ENOENT: exhausted. */
int coord_study_suggest(coord_t *c, coord_study_t *s, double *x, char *err, size_t errlen);
/* coord_study_suggest_failed handles a suggestion error: HP_EBUSY blocks
 * the study until a trial ends, HP_ENOENT exhausts it, others fail it. */
void coord_study_suggest_failed(coord_t *c, coord_study_t *s, int rc, const char *why);

/* coord_baselines_assign decides, for a trial about to be sent, whether
 * it computes the study's baselines: returns 1 when it must be told not to
 * (stored already, or a running attempt computes them), else 0 — and when
 * they are needed it marks r as the one computing them. Checks the table
 * first: another study with the key may have stored them meanwhile. */
int coord_baselines_assign(coord_t *c, coord_study_t *s, coord_run_t *r);
/* coord_baselines_result stores the baseline metrics among a RESULT's
 * final metrics in the baselines table (in this tick's transaction; the
 * first per key and name stays) and marks every study with the key
 * STORED. Call inside a write group, before the run is removed. */
void coord_baselines_result(coord_t *c, coord_run_t *r, Hpsearch__Metric **m, size_t n);

/* ---- errors.c ----------------------------------------------------------- */

/* coord_errors_result stores a completed RESULT's error analysis (the
 * trial's test confusion matrix and worst examples) once it has checked
 * that every count and bound adds up; one that does not is logged and
 * dropped, the result still counts. Call inside a write group, m may be
 * NULL. */
void coord_errors_result(coord_t *c, coord_run_t *r, const Hpsearch__ErrorAnalysis *m);

/* ---- pick.c ------------------------------------------------------------- */

/* A trial picked for someone to run: its row, number and point. */
typedef struct coord_pick {
    int64_t trial_id, number;
    double x[HP_SPACE_MAX_PARAMS];
} coord_pick_t;

/* coord_trial_add stores a new pending trial of s at point x, with the
 * given origin, numbered s->created (anything else means the database
 * changed under us: coord_db_changed), and records it in the history as
 * pending. Call in a write group. The caller counts it (s->pending) if it
 * is to wait for a worker. Returns 0 or an hp_err (already dealt with). */
int coord_trial_add(coord_t *c, coord_study_t *s, const double *x, hp_trial_origin_t origin,
                    coord_pick_t *p, char *err, size_t errlen);
/* coord_pick_trial takes the study's next trial into *p: its lowest
 * pending one (re-queued or enqueued; s->pending goes down), else a new
 * one at the sampler's suggestion, stored with origin. Call in a write
 * group. HP_EBUSY while an expensive suggestion is computed (s->suggesting)
 * or when the sampler waits for running trials; HP_ENOENT when it is
 * exhausted; others as the sampler or the store say (c->db_fault set when
 * the daemon stops for its database). */
int coord_pick_trial(coord_t *c, coord_study_t *s, hp_trial_origin_t origin, coord_pick_t *p,
                     char *err, size_t errlen);
/* What a trial runs with, as the protocol's NAME=VALUE Params: the space's
 * values at x (formatted as the space writes them), then the spec's
 * trial.fixed settings, with room for one more (pv[n]) the caller may add
 * and count. coord_params_fini frees it. */
typedef struct coord_params {
    Hpsearch__Param *pv;
    Hpsearch__Param **pp;
    hp_buf_t *texts;
    size_t n;   /* Params set */
    size_t cap; /* n + 1 as built */
} coord_params_t;
void coord_params_build(const hp_spec_t *spec, const double *x, coord_params_t *p);
void coord_params_fini(coord_params_t *p);
/* ---- failures.c --------------------------------------------------------- */

/* coord_failures_failed counts trial number of s, just failed for good
 * (retries used up) with error, and when search.max_failures says so
 * gives up: the study is marked failed with the first error of the run,
 * starts no further trial, and its running attempts are told to stop.
 * Call it after the trial's end is written, before the run is removed;
 * nothing is counted for a study that is not active. */
void coord_failures_failed(coord_t *c, coord_study_t *s, uint64_t number, const char *error);
/* coord_failures_completed ends the run of failures: a trial completed. */
void coord_failures_completed(coord_study_t *s);
/* coord_failures_reset starts a new run for a study about to run again
 * (hpsearch resume): max_failures fresh tries; whether a trial ever
 * completed is kept. */
void coord_failures_reset(coord_study_t *s);

/* ---- attempt.c ---------------------------------------------------------- */

/* coord_attempt_find returns the running attempt the worker's lease
 * reference names, or NULL when that lease is not this worker's running
 * attempt any more (it expired, or was given to another). */
coord_run_t *coord_attempt_find(coord_t *c, uint64_t worker_id, const Hpsearch__LeaseRef *l);
/* coord_attempt_renew extends r's lease by one lease period, in memory and
 * (for a trial) in the store. */
void coord_attempt_renew(coord_t *c, coord_run_t *r);
/* coord_attempt_progress takes a PROGRESS report: renews the lease, stores
 * the metrics (a trial's) and adds the loss to the curve (diagnose.c),
 * which may set r->stop. */
void coord_attempt_progress(coord_t *c, coord_run_t *r, const Hpsearch__Progress *p);
/* coord_attempt_result records a RESULT and ends the attempt (the run is
 * removed): its metrics, baselines and diagnosis, then the outcome; a
 * FAILED one goes the way of coord_attempt_failed. Returns 0, or an hp_err
 * with err (the words for the worker's ERROR reply) when nothing could be
 * recorded: the run stays, and the worker resends. */
int coord_attempt_result(coord_t *c, coord_run_t *r, const Hpsearch__Result *res, char *err,
                         size_t errlen);
/* coord_attempt_failed ends an attempt that did not complete (lost,
 * failed or interrupted). An interrupted one is re-queued and spends no
 * retry; a lost or failed one is re-queued within the spec's retries
 * (counting every attempt but the interrupted ones), else the trial fails.
 * Either way the trial is cancelled instead if the study was. A sanity
 * run goes to coord_sanity_interrupted or coord_sanity_lost. The run is
 * removed, unless the transaction cannot begin. An INTERRUPTED RESULT
 * comes here from coord_attempt_result, which also marks its worker
 * leaving. */
void coord_attempt_failed(coord_t *c, coord_run_t *r, hp_attempt_end_t how, const char *why);
/* coord_attempts_expire ends, as lost, every attempt whose lease ran out;
 * one recovered at start-up whose worker never renewed it is interrupted
 * instead (the coordinator's stop ended it, not the trial). */
void coord_attempts_expire(coord_t *c);

/* ---- sched.c ------------------------------------------------------------ */

/* coord_schedule gives trials to held requests while there are both:
 * each trial under a new lease, a study's sanity check before its trials. */
void coord_schedule(coord_t *c);

/* ---- ask.c -------------------------------------------------------------- */

/* coord_ask answers an ASK: the study's next trial (a pending one, else a
 * new suggestion, origin 'ask') starts running in the user's own loop —
 * no worker, a lease that never expires — and the reply names it. While
 * an expensive suggestion is computed the request waits in c->asks. */
void coord_ask(coord_t *c, hp_rep_req_t *req, const Hpsearch__Ask *q);
/* coord_asks_serve answers the waiting ASKs it can (call before
 * coord_schedule: the user waits on them). */
void coord_asks_serve(coord_t *c);
/* coord_asks_release answers every waiting ASK with an error (shutdown). */
void coord_asks_release(coord_t *c, const char *why);
/* coord_ask_cancel cancels the study's trials that run in the user's own
 * loop and answers its waiting ASKs (the study was cancelled); returns how
 * many trials it cancelled. Call in a write group. */
size_t coord_ask_cancel(coord_t *c, coord_study_t *s);
/* coord_tell records a TELL: the result of a trial coord_ask gave out,
 * with its curve and final metrics, fed to the sampler like a worker's. */
void coord_tell(coord_t *c, hp_rep_req_t *req, const Hpsearch__Tell *q);

/* ---- enqueue.c ---------------------------------------------------------- */

/* coord_enqueue answers an ENQUEUE: the user's point, checked against the
 * study's space, becomes a pending trial (origin 'enqueued') that runs
 * before any newly sampled one and counts toward max_trials. */
void coord_enqueue(coord_t *c, hp_rep_req_t *req, const Hpsearch__Enqueue *q);
/* ---- grow.c ------------------------------------------------------------- */

/* coord_grow_resubmit answers a SUBMIT of a name already stored as st, s
 * being the submission built by coord_study_new (taken, freed or kept).
 * The same spec: the study goes on (existed). Only search.max_trials,
 * search.parallelism and trial.timeout changed: the stored study and the
 * loop's take the new values, a completed one whose max_trials grew runs
 * again, and SubmitReply.notes says each change ("max_trials 4 -> 7").
 * max_trials below the trials already created, or any other difference,
 * is refused naming the numbers or the keys. */
void coord_grow_resubmit(coord_t *c, hp_rep_req_t *req, const hp_study_t *st, coord_study_t *s);
/* coord_grow_resume answers a RESUME: a cancelled, failed or stopped study
 * runs again — state running, reason cleared, its cancelled trials pending
 * again (failed ones stay failed) — and the ACK says what it did. A
 * running or completed study, or one still stopping running trials, is
 * refused with why. */
void coord_grow_resume(coord_t *c, hp_rep_req_t *req, const Hpsearch__ResumeStudy *q);

/* ---- checkpoint.c ------------------------------------------------------ */

/* coord_checkpoint_open opens the checkpointer's own read-write connection
 * (after the loop's store is open and migrated). */
int coord_checkpoint_open(coord_t *c, char *err, size_t errlen);
/* coord_checkpoint_maybe starts a PASSIVE checkpoint on a work thread when
 * the WAL holds at least min_pages pages after the last commit (0: any)
 * and none runs. It never waits for readers or the writer, so the loop
 * writes on meanwhile; the WAL restarts from its start at the next commit
 * once every frame is copied and no reader holds it. */
void coord_checkpoint_maybe(coord_t *c, unsigned min_pages);
/* coord_checkpoint_close closes the connection; none may be running (the
 * loop has ended). */
void coord_checkpoint_close(coord_t *c);

/* ---- queries.c ----------------------------------------------------------- */

/* coord_queries_open opens query-concurrency read-only connections for
 * user queries, each with the query-timeout-s budget. */
int coord_queries_open(coord_t *c, char *err, size_t errlen);
/* coord_query answers a QUERY from a work thread: its reply, encoded
 * there, leaves after the tick in which it finished. With every
 * connection busy it is refused at once with EBUSY ("busy: ... try again"). */
void coord_query(coord_t *c, hp_rep_req_t *req, const Hpsearch__Query *q);
/* coord_queries_stop interrupts the queries running (shutdown begins):
 * they end with an error reply; no new one starts. */
void coord_queries_stop(coord_t *c);
/* coord_queries_drop forgets the requests of the queries still running
 * (the control socket closes): they end unanswered. */
void coord_queries_drop(coord_t *c);
/* coord_queries_close closes the connections once no query runs (after
 * the loop has ended). */
void coord_queries_close(coord_t *c);

/* ---- status.c ----------------------------------------------------------- */

/* coord_status_open opens the status reader's read-only connection and
 * starts its thread (after the loop's store is open and migrated). */
int coord_status_open(coord_t *c, char *err, size_t errlen);
/* coord_status_committed counts a commit that changed a study or a trial
 * (call after each tick's commit): snapshots read before it are stale. */
void coord_status_committed(coord_t *c);
/* coord_status_request answers a STATUS (study: a name or id; NULL or ""
 * for all) straight from the snapshot when it is fresh, without waiting
 * for the tick's commit; otherwise once a refresh started after every
 * change committed so far has been read off the loop. */
void coord_status_request(coord_t *c, hp_rep_req_t *req, const char *study);
/* coord_status_drop forgets the waiting requests (the control socket
 * closes); coord_status_close stops the thread and closes its connection
 * (after the loop has ended). */
void coord_status_drop(coord_t *c);
void coord_status_close(coord_t *c);

/* ---- session.c ---------------------------------------------------------- */

/* coord_session_hash writes the SHA-256 of len bytes at data into out. */
void coord_session_hash(const void *data, size_t len, unsigned char out[HP_SESSION_HASH_BYTES]);
/* coord_session_is is 1 when got is w's session secret (compared by digest,
 * in constant time), else 0; an empty got is never one. */
int coord_session_is(const coord_worker_t *w, const ProtobufCBinaryData *got);
/* coord_session_same_worker is 1 when a HELLO (envelope e, hello nonce
 * nonce, may be empty) comes from w's own process: it carries w's session
 * secret, the secret w's last HELLO carried, or w's nonce. */
int coord_session_same_worker(const coord_worker_t *w, const Hpsearch__Envelope *e,
                              const ProtobufCBinaryData *nonce);
/* coord_session_by_nonce returns the worker whose HELLOs carry nonce, or
 * NULL (none, or nonce empty). */
coord_worker_t *coord_session_by_nonce(coord_t *c, const ProtobufCBinaryData *nonce);
/* coord_session_is_resend is 1 when e is a resend of the HELLO that began
 * w's session (the same nonce and sequence) and this daemon still has the
 * secret it answered with: the reply is that same one. */
int coord_session_is_resend(const coord_worker_t *w, const Hpsearch__Envelope *e,
                            const ProtobufCBinaryData *nonce);
/* coord_session_begin gives w a new session for the HELLO e (nonce may be
 * empty): a fresh secret, the digests of it, of the secret e carried and
 * of the nonce, stored in this tick's write group (w's row must be written
 * first). Returns 0, or an hp_err with err (nothing to reply with). */
int coord_session_begin(coord_t *c, coord_worker_t *w, const Hpsearch__Envelope *e,
                        const ProtobufCBinaryData *nonce, char *err, size_t errlen);
/* coord_sessions_restore loads the stored sessions of the workers that
 * were alive or running an attempt when the last daemon stopped, as
 * workers not yet heard from: a worker that ran on is served under its
 * session without a HELLO, and nobody else takes its id. Call at start-up
 * after the runs are recovered. */
int coord_sessions_restore(coord_t *c, char *err, size_t errlen);

/* ---- worker_msgs.c, control.c: the sockets' request callbacks (rep.h) --- */

void coord_on_worker_request(void *data, hp_rep_req_t *req, const void *buf, size_t len,
                             uint32_t pipe_id);
void coord_on_worker_pipe_closed(void *data, uint32_t pipe_id);
void coord_on_control_request(void *data, hp_rep_req_t *req, const void *buf, size_t len,
                              uint32_t pipe_id);

#endif
