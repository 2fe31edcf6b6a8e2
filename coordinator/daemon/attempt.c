/* A running attempt after sched.c (or sanity.c) sent it: the lease its
 * worker renews, the progress it reports, and its one end: a RESULT, a
 * failure, an interruption (its worker, or the coordinator, was stopped:
 * the trial goes back to pending and spends no retry), or a lease that
 * expired. Each end frees the run's slot and
 * tells the study (study.c) what the trial came to; a sanity run's ends
 * are judged by sanity.c. */
#include "coord_int.h"

#include "err.h"
#include "log.h"
#include "utf8.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Step under which a RESULT's final metrics (e.g. test_error) are stored. */
#define FINAL_STEP (-1)

coord_run_t *coord_attempt_find(coord_t *c, uint64_t worker_id, const Hpsearch__LeaseRef *l)
{
    coord_run_t *r = coord_run_by_trial(c, (int64_t)l->trial_id);
    if (!r || r->lease_id != (int64_t)l->lease_id)
        return NULL;
    if (r->worker_id != worker_id)
        return NULL;
    return r;
}

void coord_attempt_renew(coord_t *c, coord_run_t *r)
{
    r->expires_ms = coord_lease_deadline_ms(c);
    r->recovered = 0; /* its worker is back: from now on an expiry is a loss */
    if (r->sanity)
        return; /* not in the store */
    /* The lease that decides is the one in memory. The stored deadline is
     * for people reading the database, so it is written again only once
     * it is half a lease behind: a heartbeat then costs no write (and no
     * fsync on the loop) most of the time. */
    double lease_s = (double)c->cfg.lease_ms / 1000.0, want = hp_store_now() + lease_s;
    if (r->stored_expires > 0 && want - r->stored_expires < lease_s / 2)
        return;
    char err[256];
    int rc = coord_write_begin(c);
    if (rc == 0 &&
        (rc = hp_store_trial_renew(c->store, r->trial_id, r->lease_id, want, err, sizeof err)) <
            0 &&
        !coord_store_failed(c, rc, "study '%s' trial %" PRIu64 ": cannot renew its lease: %s",
                            r->study->spec.name, r->number, err))
        hp_log_warn("trial %" PRId64 ": cannot renew lease %" PRId64 ": %s", r->trial_id,
                    r->lease_id, err);
    if (rc == 0)
        r->stored_expires = want;
}

static void store_metrics(coord_t *c, coord_run_t *r, int64_t step, Hpsearch__Metric **m,
                          size_t n)
{
    if (!n)
        return;
    hp_metric_t *ms = calloc(n, sizeof *ms);
    HP_ASSERT(ms != NULL);
    for (size_t i = 0; i < n; i++) {
        ms[i].trial_id = r->trial_id;
        ms[i].attempt = r->attempt;
        ms[i].step = step;
        ms[i].name = m[i]->name;
        ms[i].value = m[i]->value;
    }
    char err[256];
    int rc;
    /* HP_EINVAL is the worker's (a metric without a name): logged, and the
     * attempt goes on */
    if (coord_write_begin(c) == 0 &&
        (rc = hp_store_metrics_append(c->store, ms, n, err, sizeof err)) < 0 &&
        !coord_store_failed(c, rc, "study '%s' trial %" PRIu64 ": cannot store its metrics: %s",
                            r->study->spec.name, r->number, err))
        hp_log_warn("trial %" PRId64 ": cannot store %zu metrics: %s", r->trial_id, n, err);
    free(ms);
}

/* Keeps what an external program wrote with its attempt (`hpsearch logs`),
 * whatever the outcome, made valid text: a program may write any bytes.
 * Built-in trials have no program, and their attempts no output. */
static void store_output(coord_t *c, coord_run_t *r, const Hpsearch__Result *res)
{
    if (r->study->spec.trial.kind != HP_TRIAL_COMMAND)
        return;
    hp_buf_t out = {0}, errb = {0};
    hp_utf8_repair(&out, res->stdout_text.data, res->stdout_text.len);
    hp_utf8_repair(&errb, res->stderr_text.data, res->stderr_text.len);
    char err[256];
    if (coord_write_begin(c) == 0 &&
        hp_store_attempt_set_output(c->store, r->lease_id, out.data, out.len, errb.data,
                                    errb.len, err, sizeof err) < 0)
        hp_log_warn("trial %" PRId64 ": cannot store its output: %s", r->trial_id, err);
    hp_buf_fini(&out);
    hp_buf_fini(&errb);
}

void coord_attempt_progress(coord_t *c, coord_run_t *r, const Hpsearch__Progress *p)
{
    coord_attempt_renew(c, r);
    if (!r->sanity)
        store_metrics(c, r, p->step, p->metrics, p->n_metrics);
    coord_diagnose_progress(c, r, p->step, p->metrics, p->n_metrics);
    coord_prune_progress(c, r, p->step, p->metrics, p->n_metrics);
}

/* The attempt is over and its trial's end (or re-queue) is recorded: free
 * the slot, and when the trial reached a final state (ended) give the
 * study the outcome, which may finish it. */
static void run_over(coord_t *c, coord_run_t *r, int ended, hp_obs_state_t st, double value)
{
    coord_study_t *s = r->study;
    uint64_t number = r->number;
    coord_run_remove(c, r);
    if (ended)
        coord_study_trial_ended(c, s, number, st, value);
    coord_study_maybe_finish(c, s);
}

/* The attempts of r's trial that count against its retries (every one
 * but the interrupted and cancelled ones, this one included); r->attempt
 * if the store cannot say. */
static int counted_attempts(coord_t *c, const coord_run_t *r)
{
    int n;
    char err[256];
    if (hp_store_trial_counted_attempts(c->store, r->trial_id, &n, err, sizeof err) < 0) {
        hp_log_warn("trial %" PRId64 ": %s; counting every attempt against its retries",
                    r->trial_id, err);
        return r->attempt;
    }
    return n;
}

void coord_attempt_failed(coord_t *c, coord_run_t *r, hp_attempt_end_t how, const char *why)
{
    coord_study_t *s = r->study;
    if (r->sanity) {
        if (how == HP_ATTEMPT_INTERRUPTED)
            coord_sanity_interrupted(c, r, why);
        else
            coord_sanity_lost(c, r, why);
        return;
    }
    char err[512];
    if (coord_write_begin(c) < 0)
        return;
    int rc;
    int ended = 1, failed = 0;
    int tries = how == HP_ATTEMPT_INTERRUPTED ? 0 : counted_attempts(c, r);
    if (!s->active && !s->fails.gave_up) {
        /* the study was cancelled meanwhile: nothing is re-run */
        rc = hp_store_trial_cancel(c->store, r->trial_id, why, err, sizeof err);
        s->done++;
    } else if (how == HP_ATTEMPT_INTERRUPTED) {
        /* its worker (or the coordinator) was stopped: not the trial's
         * fault, so it runs again and spends no retry */
        rc = hp_store_trial_requeue(c->store, r->trial_id, r->lease_id, how, why, err, sizeof err);
        s->pending++;
        ended = 0;
        hp_log_info("study %s trial %" PRIu64 " attempt %d interrupted (%s); back to pending",
                    s->spec.name, r->number, r->attempt, why);
    } else if ((uint32_t)tries <= s->spec.trial.retries) {
        /* a study that gave up keeps its retries for `hpsearch resume` */
        rc = hp_store_trial_requeue(c->store, r->trial_id, r->lease_id, how, why, err, sizeof err);
        s->pending++;
        ended = 0;
        hp_log_info("study %s trial %" PRIu64 " attempt %d %s (%s); re-queued", s->spec.name,
                    r->number, r->attempt, how == HP_ATTEMPT_LOST ? "lost" : "failed", why);
    } else {
        char msg[600];
        snprintf(msg, sizeof msg, "%s (attempt %d of %u)", why, tries,
                 s->spec.trial.retries + 1);
        rc = hp_store_trial_fail(c->store, r->trial_id, r->lease_id, msg, err, sizeof err);
        s->done++;
        failed = 1;
        hp_log_info("study %s trial %" PRIu64 " failed: %s", s->spec.name, r->number, msg);
    }
    if (rc < 0) {
        /* the run stays: the daemon stops, and a restart finds the trial
         * as the database has it */
        if (coord_store_failed(c, rc, "study '%s' trial %" PRIu64 ": cannot record the end of "
                                      "attempt %d: %s",
                               s->spec.name, r->number, r->attempt, err))
            return;
        hp_log_error("study %s trial %" PRIu64 ": cannot record the attempt's end: %s",
                     s->spec.name, r->number, err);
    } else if (failed) {
        coord_failures_failed(c, s, r->number, why);
    }
    coord_prune_attempt_end(c, r, COORD_PRUNE_FORGET);
    run_over(c, r, ended, HP_OBS_FAILED, NAN);
}

/* A FAILED result's reason: the worker's error, then the end of its stderr. */
static void failure_reason(const Hpsearch__Result *res, char *why, size_t whylen)
{
    snprintf(why, whylen, "%s", res->error && *res->error ? res->error : "failed");
    if (res->stderr_tail && *res->stderr_tail) {
        const char *tail = res->stderr_tail;
        size_t tl = strlen(tail);
        if (tl > 300)
            tail += tl - 300;
        size_t wl = strlen(why);
        snprintf(why + wl, whylen - wl, "; stderr: %s", tail);
    }
}

/* Records an outcome other than FAILED: completed (a non-finite
 * objective fails the trial instead), pruned or cancelled — or, for a
 * trial its study stopped when it gave up (failures.c), back to pending.
 * *ended says whether the trial reached a final state. */
/* What the attempt came to. A stop the coordinator asked for early
 * stopping's sake (a rule, or a diverging loss) is pruning however it
 * reached the worker: a heartbeat's reply names no reason, so a worker
 * told that way reports CANCELLED. */
static Hpsearch__TrialOutcome outcome_of(const coord_run_t *r, const Hpsearch__Result *res)
{
    if (res->outcome == HPSEARCH__TRIAL_OUTCOME__CANCELLED && r->stop && r->has_prune_step)
        return HPSEARCH__TRIAL_OUTCOME__PRUNED;
    return res->outcome;
}

static int record_outcome(coord_t *c, coord_run_t *r, const Hpsearch__Result *res, int *ended,
                          char *err, size_t errlen)
{
    coord_study_t *s = r->study;
    int rc;
    *ended = 1;
    switch (outcome_of(r, res)) {
    case HPSEARCH__TRIAL_OUTCOME__COMPLETED:
        if (!isfinite(res->value)) {
            char why[128];
            snprintf(why, sizeof why, "the objective '%s' is %s", s->spec.objective.metric,
                     isnan(res->value) ? "NaN" : "infinite");
            rc = hp_store_trial_fail(c->store, r->trial_id, r->lease_id, why, err, errlen);
            if (rc == 0)
                coord_failures_failed(c, s, r->number, why);
            break;
        }
        double ov[HP_SPEC_MAX_OBJECTIVES];
        char why[200];
        if (!coord_objectives_of(s, res->value, res->metrics, res->n_metrics, ov, why,
                                 sizeof why)) {
            rc = hp_store_trial_fail(c->store, r->trial_id, r->lease_id, why, err, errlen);
            if (rc == 0)
                coord_failures_failed(c, s, r->number, why);
            break;
        }
        rc = hp_store_trial_complete(c->store, r->trial_id, r->lease_id, res->value, err, errlen);
        if (rc == 0)
            rc = coord_objectives_record(c, s, r->trial_id, r->number, ov, err, errlen);
        if (rc == 0)
            rc = coord_feasible_record(c, s, r->trial_id, r->number, res->value, res->metrics,
                                       res->n_metrics, err, errlen);
        if (rc == 0)
            coord_failures_completed(s);
        break;
    case HPSEARCH__TRIAL_OUTCOME__PRUNED:
        /* the coordinator's own reason when it asked (the worker's copy
         * may be cut short) */
        rc = hp_store_trial_prune(c->store, r->trial_id, r->lease_id,
                                  r->stop ? r->stop_reason
                                  : res->error && *res->error ? res->error
                                                              : NULL,
                                  err, errlen);
        if (rc == 0 && r->stop && r->has_prune_step && r->prune_step >= 0)
            rc = hp_store_trial_set_pruned_step(c->store, r->trial_id, r->prune_step, err,
                                                errlen);
        if (rc == 0 && r->stop && r->has_prune_step)
            hp_store_event_append(c->store, r->pruned_by_rule ? "trial_pruned" : "trial_diverged",
                                  s->id, r->trial_id, NULL, r->stop_reason, err, errlen);
        break;
    default:
        if (s->fails.gave_up && r->stop) {
            rc = hp_store_trial_requeue(c->store, r->trial_id, r->lease_id,
                                        HP_ATTEMPT_INTERRUPTED, r->stop_reason, err, errlen);
            s->pending++;
            *ended = 0;
            return rc;
        }
        rc = hp_store_trial_cancel(c->store, r->trial_id,
                                   r->stop ? r->stop_reason : "cancelled by the worker", err,
                                   errlen);
        break;
    }
    s->done++;
    return rc;
}

int coord_attempt_result(coord_t *c, coord_run_t *r, const Hpsearch__Result *res, char *err,
                         size_t errlen)
{
    if (r->sanity) {
        if (res->outcome == HPSEARCH__TRIAL_OUTCOME__INTERRUPTED)
            coord_sanity_interrupted(c, r, res->error && *res->error ? res->error
                                                                     : "its worker stopped");
        else
            coord_sanity_result(c, r, res);
        return 0;
    }
    if (coord_write_begin(c) < 0)
        return hp_errf(err, errlen, HP_EDB, "database unavailable; resend later");
    int interrupted = res->outcome == HPSEARCH__TRIAL_OUTCOME__INTERRUPTED;
    Hpsearch__TrialOutcome outcome = outcome_of(r, res);
    /* an interrupted attempt's last values are no trial's final metrics,
     * nor its cut-short curve a verdict on the trial */
    if (!interrupted)
        store_metrics(c, r, FINAL_STEP, res->metrics, res->n_metrics);
    if (c->db_fault) /* nothing more is written; the worker resends to the next one */
        return hp_errf(err, errlen, HP_EDB, "the coordinator is stopping; resend later");
    store_output(c, r, res);
    coord_baselines_result(c, r, res->metrics, res->n_metrics);
    if (res->outcome == HPSEARCH__TRIAL_OUTCOME__COMPLETED)
        coord_errors_result(c, r, res->errors);
    if (!interrupted)
        coord_diagnose_end(c, r);
    if (interrupted || res->outcome == HPSEARCH__TRIAL_OUTCOME__FAILED) {
        char why[600];
        if (interrupted) {
            snprintf(why, sizeof why, "%s",
                     res->error && *res->error ? res->error : "interrupted: its worker stopped");
            /* a worker that interrupts its trials is stopping: it gets no more */
            coord_worker_t *w = coord_worker_by_id(c, r->worker_id);
            if (w)
                w->leaving = 1;
        } else {
            failure_reason(res, why, sizeof why);
        }
        coord_attempt_failed(c, r, interrupted ? HP_ATTEMPT_INTERRUPTED : HP_ATTEMPT_FAILED,
                             why);
        if (c->db_fault) /* not recorded: the worker resends to the next coordinator */
            return hp_errf(err, errlen, HP_EDB, "the coordinator is stopping; resend later");
        return 0;
    }
    char serr[512];
    int ended;
    int rc = record_outcome(c, r, res, &ended, serr, sizeof serr);
    if (rc < 0) {
        if (!coord_store_failed(c, rc, "study '%s' trial %" PRIu64 ": cannot record its "
                                       "result: %s",
                                r->study->spec.name, r->number, serr))
            hp_log_error("trial %" PRId64 ": cannot record the result: %s", r->trial_id, serr);
        return hp_errf(err, errlen, rc, "cannot record the result: %s", serr);
    }
    hp_log_debug("study %s trial %" PRIu64 " %s value %g", r->study->spec.name, r->number,
                 outcome == HPSEARCH__TRIAL_OUTCOME__COMPLETED ? "completed" : "ended",
                 res->value);
    int completed = outcome == HPSEARCH__TRIAL_OUTCOME__COMPLETED && isfinite(res->value);
    coord_prune_attempt_end(c, r,
                            completed ? COORD_PRUNE_COMPLETED
                            : outcome == HPSEARCH__TRIAL_OUTCOME__PRUNED ? COORD_PRUNE_PRUNED
                                                                              : COORD_PRUNE_FORGET);
    /* a pruned trial is what it was stopped with (bayes models it) */
    int pruned = outcome == HPSEARCH__TRIAL_OUTCOME__PRUNED;
    run_over(c, r, ended,
             completed ? HP_OBS_COMPLETED : pruned ? HP_OBS_PRUNED : HP_OBS_FAILED,
             pruned ? (r->has_obj_last ? r->obj_last : NAN) : res->value);
    return 0;
}

void coord_attempts_expire(coord_t *c)
{
    uint64_t now = coord_now_ms(c);
    for (size_t i = 0; i < c->runs.n;) {
        coord_run_t *r = &c->runs.v[i];
        if (r->expires_ms <= now) {
            char why[200];
            /* an attempt that ran when the coordinator stopped, and whose
             * worker did not come back after the restart: the stop, not
             * the trial, ended it, so it is interrupted rather than lost */
            hp_attempt_end_t how = r->recovered ? HP_ATTEMPT_INTERRUPTED : HP_ATTEMPT_LOST;
            if (r->recovered)
                snprintf(why, sizeof why,
                         "interrupted: the coordinator stopped while it ran, and worker %" PRIu64
                         " did not renew its lease within %llu ms of the restart",
                         r->worker_id, (unsigned long long)coord_restart_grace_ms(c));
            else
                snprintf(why, sizeof why, "lease expired: worker %" PRIu64 " silent for %lld ms",
                         r->worker_id, (long long)c->cfg.lease_ms);
            size_t n = c->runs.n;
            coord_attempt_failed(c, r, how, why);
            /* an end that could not be recorded leaves the run where it
             * was: the daemon is stopping then, and must not spin on it */
            if (c->db_fault)
                return;
            if (c->runs.n < n)
                continue; /* the slot now holds another run */
        }
        i++;
    }
}
