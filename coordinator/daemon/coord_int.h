/* coord_int.h — the coordinator's private state, shared by its files:
 * coord.c (lifecycle, ticks, leases), worker_msgs.c (the worker protocol),
 * control.c (the CLI protocol), sched.c (assigning trials). Everything here
 * belongs to the loop thread. */
#ifndef HP_COORD_INT_H
#define HP_COORD_INT_H

#include "buf.h"
#include "codec.h"
#include "coord.h"
#include "rep.h"
#include "sampler.h"
#include "spec.h"
#include "store.h"
#include "vec.h"

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

typedef struct coord_study {
    int64_t id;
    hp_spec_t spec;
    hp_sampler_t *sampler;
    char *trial_json; /* the spec's trial section, sent with each trial */
    uint64_t total;   /* trials the study runs in all */
    uint64_t created; /* trials created so far (= the next number) */
    uint64_t pending; /* created but waiting (re-queued) */
    uint32_t running;
    uint64_t done;    /* completed + failed + pruned + cancelled */
    int active;       /* still scheduling */
    int exhausted;    /* the sampler has no more points */
    int blocked;      /* the sampler waits for running trials to finish */
    /* what samplers learn from: entry i is trial number i */
    HP_VEC(hp_obs_t) hist;
    double *hist_x;   /* hist.cap x space.n */
    /* the overfit-one-batch check before the first trial (sanity.h):
     * 0 = none or passed, 1 = to dispatch, 2 = running on a worker */
    int sanity;
    unsigned sanity_attempts;
    char *dataset_key; /* NULL: none */
    coord_baselines_t baselines;
    /* expensive samplers run off the loop (uv_queue_work) */
    int suggesting;
    int has_ready;
    double ready_x[HP_SPACE_MAX_PARAMS];
} coord_study_t;

/* A running attempt: one trial leased to one worker. */
typedef struct coord_run {
    int64_t trial_id;
    int64_t lease_id;
    int attempt;
    uint64_t number;
    uint64_t worker_id;
    uint64_t expires_ms; /* uv_now() time */
    coord_study_t *study;
    int stop;            /* tell the worker to stop (cancelled, diverged) */
    char stop_reason[256];
    /* the loss curve this attempt reported, for its diagnosis */
    double *loss;
    size_t nloss, cap_loss;
    char loss_metric[32];
    int sanity; /* the study's sanity check, not a trial: nothing in the store */
    /* this attempt was left to compute its dataset's baselines (or, after
     * a restart, may have been): while it runs no other trial of the key
     * is; when it ends without them the next trial dispatched does */
    int baselines;
} coord_run_t;

/* A sanity run's lease names no trial row: its trial id is the study id
 * with bit 62 set, out of the store's range. */
#define COORD_SANITY_TRIAL_ID(study_id) ((int64_t)((UINT64_C(1) << 62) | (uint64_t)(study_id)))

typedef struct coord_worker {
    uint64_t id;
    char id_str[24];
    char host[256];
    uint32_t slots, pid, cores;
    uint32_t pipe_id;
    uint64_t last_seen_ms;
    int alive;
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

/* A reply computed this tick, sent after the tick's writes commit so no
 * acknowledgement ever precedes the durable write it acknowledges. */
typedef struct coord_reply {
    hp_rep_req_t *req;
    hp_buf_t buf;
} coord_reply_t;

typedef struct coord {
    hp_coord_config_t cfg;
    uv_loop_t *loop;
    hp_store_t *store;
    hp_rep_t *workers_rep, *control_rep;
    uv_timer_t lease_timer, checkpoint_timer, linger_timer;
    uv_check_t tick;
    uv_signal_t sigterm, sigint;

    HP_VEC(coord_study_t *) studies;
    HP_VEC(coord_run_t) runs;
    HP_VEC(coord_worker_t) workers;
    HP_VEC(coord_held_t) held;
    HP_VEC(coord_reply_t) outbox;
    size_t rr; /* round-robin position over studies */

    int64_t next_lease_id;
    uint64_t next_worker_id;
    int schedule_needed;
    int shutting_down;
    int exit_code;
} coord_t;

/* coord.c */
/* coord_write_begin opens this tick's transaction if none is open; every
 * handler that writes calls it first. Returns 0 or an hp_err. */
int coord_write_begin(coord_t *c);
/* coord_reply queues an encoded envelope as req's reply (sent after commit). */
void coord_reply(coord_t *c, hp_rep_req_t *req, Hpsearch__Envelope *env);
void coord_reply_error(coord_t *c, hp_rep_req_t *req, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
uint64_t coord_now_ms(coord_t *c);
coord_study_t *coord_study_by_id(coord_t *c, int64_t id);
coord_study_t *coord_study_find(coord_t *c, const char *name_or_id);
coord_worker_t *coord_worker_by_id(coord_t *c, uint64_t id);
coord_run_t *coord_run_by_trial(coord_t *c, int64_t trial_id);
void coord_run_remove(coord_t *c, coord_run_t *r);
/* coord_study_load builds the in-memory study (spec, sampler, counters)
 * from the store. */
int coord_study_load(coord_t *c, int64_t id, coord_study_t **out, char *err, size_t errlen);
void coord_study_free(coord_study_t *s);
/* coord_study_maybe_finish marks the study completed when nothing is left. */
void coord_study_maybe_finish(coord_t *c, coord_study_t *s);
/* coord_trial_finish_attempt handles the end of a running attempt that did
 * not complete (lost, failed): re-queue within retries, else fail. */
void coord_trial_attempt_failed(coord_t *c, coord_run_t *r, hp_attempt_end_t how,
                                const char *why);
/* coord_study_hist_set records what a sampler knows of trial number. */
void coord_study_hist_set(coord_study_t *s, uint64_t number, hp_obs_state_t state, double value,
                          const double *x);
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

/* coord_baselines_load sets the study's dataset key and baselines state
 * from the store (at submit, and for every running study after a restart). */
int coord_baselines_load(coord_t *c, coord_study_t *s, const char *dataset_key, char *err,
                         size_t errlen);
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

/* coord_shutdown starts a graceful stop: held requests get NO_TRIAL, the
 * last replies leave, the sockets close and the loop ends. */
void coord_shutdown(coord_t *c, const char *why);

/* worker_msgs.c */
/* coord_decode_request decodes and authenticates a request; on failure it
 * queues an ERROR reply naming the problem and returns NULL. */
Hpsearch__Envelope *coord_decode_request(coord_t *c, hp_rep_req_t *req, const void *buf,
                                         size_t len, const char *socket);
void coord_on_worker_request(void *data, hp_rep_req_t *req, const void *buf, size_t len,
                             uint32_t pipe_id);
void coord_on_worker_pipe_closed(void *data, uint32_t pipe_id);

/* control.c */
void coord_on_control_request(void *data, hp_rep_req_t *req, const void *buf, size_t len,
                              uint32_t pipe_id);

/* diagnose.c */
/* coord_diagnose_progress adds a progress report's loss to the run's
 * curve and, when the curve diverges (non-finite, or an explosive jump),
 * asks the worker to stop the attempt as pruned. */
void coord_diagnose_progress(coord_t *c, coord_run_t *r, Hpsearch__Metric **m, size_t n);
/* coord_diagnose_end stores the verdict on the run's curve with the trial
 * (trials.diagnosis / diagnosis_detail). Call it before the run is removed. */
void coord_diagnose_end(coord_t *c, coord_run_t *r);

/* sanity.c */
/* coord_sanity_dispatch gives the study's sanity check to the held
 * request h (a worker slot). */
void coord_sanity_dispatch(coord_t *c, coord_study_t *s, const coord_held_t *h);
/* coord_sanity_result judges a finished sanity run: the study goes on, or
 * stops with the diagnosis. The run is removed. */
void coord_sanity_result(coord_t *c, coord_run_t *r, const Hpsearch__Result *res);
/* coord_sanity_lost handles a sanity run whose lease expired. */
void coord_sanity_lost(coord_t *c, coord_run_t *r, const char *why);

/* sched.c */
/* coord_schedule gives trials to held GET_TRIALs while there are both. */
void coord_schedule(coord_t *c);
/* coord_release_held answers every held GET_TRIAL with NO_TRIAL. */
void coord_release_held(coord_t *c, int shutting_down);
/* coord_reply_no_trial answers a held request with NO_TRIAL (and the
 * acknowledgement of its result, if it carried one). */
void coord_reply_no_trial(coord_t *c, const coord_held_t *h, uint32_t retry_ms,
                          int shutting_down);

#endif
