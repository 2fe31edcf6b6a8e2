/* Ask-and-tell (Optuna's study.ask / study.tell): trials the user's own
 * loop runs. ASK gives out the study's next trial — a pending one
 * (enqueued or re-queued) first, else the sampler's suggestion, origin
 * 'ask' — running under an attempt with no worker and a lease that never
 * expires: it waits for its TELL however long that takes, across
 * restarts, and the study does not finish before it. A bayes suggestion
 * is computed off the loop; the ASK waits in c->asks until it is ready.
 * TELL stores the curve and final metrics and ends the trial as a worker's
 * RESULT would, feeding the sampler. */
#include "coord_int.h"

#include "err.h"
#include "log.h"
#include "params.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Step under which final metrics are stored (as attempt.c does). */
#define FINAL_STEP (-1)

/* A number as the shortest text that reads back the same. */
typedef struct {
    char s[40];
} num_text_t;

static num_text_t num_text(double v)
{
    num_text_t t;
    hp_buf_t b = {0};
    hp_buf_json_number(&b, v);
    snprintf(t.s, sizeof t.s, "%s", b.data ? b.data : "?");
    hp_buf_fini(&b);
    return t;
}

/* Refuses an ASK the study cannot answer now; 1 when it replied. */
static int ask_refused(coord_t *c, hp_rep_req_t *req, const coord_study_t *s)
{
    if (s->sanity) {
        coord_reply_error(c, req, HP_ESTATE,
                          "cannot ask: study '%s' first runs its overfit-one-batch check on a "
                          "worker; ask again once it passed (or set search.sanity_check: false)",
                          s->spec.name);
        return 1;
    }
    if (s->pending == 0 && (s->created >= s->total || s->exhausted)) {
        coord_reply_error(c, req, HP_ESTATE,
                          "cannot ask: study '%s' has given out all its %" PRIu64 " trials "
                          "(search.max_trials); %u are still to be told",
                          s->spec.name, s->created, s->asked);
        return 1;
    }
    return 0;
}

/* The reply: the trial's number and the params it runs with (the sampled
 * ones, then the spec's fixed settings), as JSON and as text. */
static void reply_asked(coord_t *c, hp_rep_req_t *req, const coord_study_t *s,
                        const coord_pick_t *p)
{
    const hp_spec_t *spec = &s->spec;
    coord_params_t params;
    coord_params_build(spec, p->x, &params);
    hp_buf_t pj = {0};
    hp_params_json_with_fixed(spec, p->x, &pj);
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__AskReply r = HPSEARCH__ASK_REPLY__INIT;
    r.study_id = (uint64_t)s->id;
    r.number = (uint32_t)p->number;
    r.params_json = pj.data;
    /* an inactive parameter's default fills a command's placeholders; an
     * asker runs its own program and sees only the active ones */
    size_t k = 0;
    for (size_t i = 0; i < params.n; i++)
        if (!params.pp[i]->placeholder_only)
            params.pp[k++] = params.pp[i];
    r.params = params.pp;
    r.n_params = k;
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__ASK_REPLY, &r);
    coord_reply(c, req, &env);
    coord_params_fini(&params);
    hp_buf_fini(&pj);
}

/* Gives the study's next trial to the ASK: 1 when it replied (with the
 * trial or an error), 0 when the request must wait for a suggestion. */
static int serve(coord_t *c, hp_rep_req_t *req, coord_study_t *s)
{
    char err[512];
    if (coord_write_begin(c) < 0) {
        coord_reply_error(c, req, HP_EDB, "database unavailable");
        return 1;
    }
    coord_pick_t p;
    int rc = coord_pick_trial(c, s, HP_TRIAL_ORIGIN_ASK, &p, err, sizeof err);
    if (rc < 0) {
        if (c->db_fault) {
            coord_reply_error(c, req, HP_EDB, "the coordinator is stopping: %s", err);
            return 1;
        }
        if (s->suggesting)
            return 0; /* computed off the loop: the completion serves it */
        coord_study_suggest_failed(c, s, rc, err);
        if (rc == HP_EBUSY)
            coord_reply_error(c, req, HP_ESTATE,
                              "cannot ask: study '%s': %s; tell the trials you asked for first",
                              s->spec.name, err);
        else if (rc == HP_ENOENT)
            coord_reply_error(c, req, HP_ESTATE,
                              "cannot ask: study '%s' has no more points to try (%s)",
                              s->spec.name, err);
        else
            coord_reply_error(c, req, rc, "cannot ask: study '%s': %s", s->spec.name, err);
        return 1;
    }
    int64_t lease = coord_lease_new(c);
    int attempt;
    rc = hp_store_trial_start(c->store, p.trial_id, NULL, lease, 0, &attempt, err, sizeof err);
    if (rc < 0) {
        s->pending++; /* the trial stays pending in the store */
        coord_store_failed(c, rc, "study '%s' trial %" PRId64 ": cannot start it for ask: %s",
                           s->spec.name, p.number, err);
        coord_reply_error(c, req, rc, "cannot ask: %s", err);
        return 1;
    }
    s->asked++;
    hp_store_event_append(c->store, "trial_asked", s->id, p.trial_id, NULL, NULL, err,
                          sizeof err);
    hp_log_info("study %s: trial %" PRId64 " given out by ask", s->spec.name, p.number);
    reply_asked(c, req, s, &p);
    return 1;
}

/* Whether one of the first n waiting asks is for study_id. */
static int waiting_before(const coord_t *c, size_t n, int64_t study_id)
{
    for (size_t i = 0; i < n; i++)
        if (c->asks.v[i].study_id == study_id)
            return 1;
    return 0;
}

void coord_ask(coord_t *c, hp_rep_req_t *req, const Hpsearch__Ask *q)
{
    coord_study_t *s = coord_study_running(c, req, q->study, "ask");
    if (!s || ask_refused(c, req, s))
        return;
    /* asks of a study are answered in arrival order */
    if (waiting_before(c, c->asks.n, s->id) || !serve(c, req, s))
        HP_VEC_PUSH(c->asks, ((coord_ask_t){req, s->id}));
}

void coord_asks_serve(coord_t *c)
{
    size_t keep = 0, i = 0;
    for (; i < c->asks.n; i++) {
        coord_ask_t a = c->asks.v[i];
        coord_study_t *s = coord_study_by_id(c, a.study_id);
        int done;
        if (!s || !s->active) {
            coord_reply_error(c, a.req, HP_ESTATE,
                              "cannot ask: the study ended while the ask waited");
            done = 1;
        } else if (waiting_before(c, keep, a.study_id)) {
            done = 0; /* an earlier ask of the study still waits */
        } else {
            done = ask_refused(c, a.req, s) || serve(c, a.req, s);
        }
        if (!done)
            c->asks.v[keep++] = a;
        if (c->db_fault) {
            i++;
            break;
        }
    }
    /* the ones not looked at stay, after those kept: the shutdown answers
     * what is left, and only that (an ask answered here is not again) */
    for (; i < c->asks.n; i++)
        c->asks.v[keep++] = c->asks.v[i];
    c->asks.n = keep;
}

void coord_asks_release(coord_t *c, const char *why)
{
    for (size_t i = 0; i < c->asks.n; i++)
        coord_reply_error(c, c->asks.v[i].req, HP_ESTATE,
                          "the coordinator is shutting down (%s); ask again once it is back",
                          why);
    c->asks.n = 0;
}

typedef HP_VEC(int64_t) ids_t;

static int collect_asked(void *data, const hp_trial_t *t)
{
    ids_t *l = data;
    if (t->attempts > 0 && !t->worker_id)
        HP_VEC_PUSH(*l, t->id);
    return 0;
}

size_t coord_ask_cancel(coord_t *c, coord_study_t *s)
{
    size_t keep = 0;
    for (size_t i = 0; i < c->asks.n; i++) {
        if (c->asks.v[i].study_id == s->id)
            coord_reply_error(c, c->asks.v[i].req, HP_ESTATE,
                              "cannot ask: study '%s' was cancelled", s->spec.name);
        else
            c->asks.v[keep++] = c->asks.v[i];
    }
    c->asks.n = keep;
    if (!s->asked)
        return 0;
    ids_t ids = {0};
    char err[256];
    hp_store_trial_list(c->store, s->id, HP_TRIAL_MASK(HP_TRIAL_RUNNING), collect_asked, &ids,
                        err, sizeof err);
    size_t n = 0;
    for (size_t i = 0; i < ids.n; i++)
        if (hp_store_trial_cancel(c->store, ids.v[i], "study cancelled", err, sizeof err) == 0) {
            n++;
            s->asked--;
            s->done++;
        }
    free(ids.v);
    return n;
}

/* ---- tell ----------------------------------------------------------------- */

/* The objective a TELL gives: its value, else the objective among its
 * final metrics, else the last value the curve reported. 0 when none. */
static int told_objective(const coord_study_t *s, const Hpsearch__Tell *q, double *v)
{
    const char *obj = s->spec.objective.metric;
    if (q->has_value) {
        *v = q->value;
        return 1;
    }
    int found = 0;
    for (size_t i = 0; i < q->n_metrics; i++)
        if (strcmp(q->metrics[i]->name, obj) == 0) {
            *v = q->metrics[i]->value;
            found = 1;
        }
    if (found)
        return 1;
    for (size_t k = 0; k < q->n_steps; k++)
        for (size_t i = 0; i < q->steps[k]->n_metrics; i++)
            if (strcmp(q->steps[k]->metrics[i]->name, obj) == 0) {
                *v = q->steps[k]->metrics[i]->value;
                found = 1;
            }
    return found;
}

/* The metric names a TELL reported, "acc, val_loss", for the message that
 * says the objective was not among them. */
static void told_names(const Hpsearch__Tell *q, hp_buf_t *out)
{
    const char *seen[12];
    size_t n = 0;
    for (size_t k = 0; k <= q->n_steps && n < 12; k++) {
        Hpsearch__Metric **m = k < q->n_steps ? q->steps[k]->metrics : q->metrics;
        size_t nm = k < q->n_steps ? q->steps[k]->n_metrics : q->n_metrics;
        for (size_t i = 0; i < nm && n < 12; i++) {
            size_t j = 0;
            while (j < n && strcmp(seen[j], m[i]->name) != 0)
                j++;
            if (j < n)
                continue;
            seen[n] = m[i]->name;
            hp_buf_printf(out, "%s%s", n++ ? ", " : "", m[i]->name);
        }
    }
}

/* Finds the trial a TELL names and checks it waits for one; else replies. */
static int told_trial(coord_t *c, hp_rep_req_t *req, const coord_study_t *s, uint32_t number,
                      hp_trial_t *t)
{
    char err[256];
    int rc = hp_store_trial_get_by_number(c->store, s->id, number, t, err, sizeof err);
    if (rc == HP_ENOENT) {
        if (s->created)
            coord_reply_error(c, req, HP_ENOENT,
                              "study '%s' has no trial %u (its trials are 0..%" PRIu64 ")",
                              s->spec.name, number, s->created - 1);
        else
            coord_reply_error(c, req, HP_ENOENT, "study '%s' has no trial %u (none yet)",
                              s->spec.name, number);
        return rc;
    }
    if (rc < 0) {
        coord_reply_error(c, req, rc, "%s", err);
        return rc;
    }
    if (t->state == HP_TRIAL_RUNNING && t->attempts > 0 && !t->worker_id)
        return 0;
    if (t->state == HP_TRIAL_RUNNING)
        coord_reply_error(c, req, HP_ESTATE,
                          "trial %u of study '%s' is run by worker %s, not by your loop; only "
                          "a trial given out by hpsearch ask is told",
                          number, s->spec.name, t->worker_id ? t->worker_id : "?");
    else if (t->state == HP_TRIAL_PENDING)
        coord_reply_error(c, req, HP_ESTATE,
                          "trial %u of study '%s' is pending: it waits for a worker, and was "
                          "not given out by hpsearch ask",
                          number, s->spec.name);
    else if (t->state == HP_TRIAL_COMPLETED)
        coord_reply_error(c, req, HP_ESTATE,
                          "trial %u of study '%s' is already completed (value %s); a trial is "
                          "told once",
                          number, s->spec.name, num_text(t->value).s);
    else
        coord_reply_error(c, req, HP_ESTATE, "trial %u of study '%s' is already %s%s%s",
                          number, s->spec.name, hp_trial_state_name(t->state),
                          t->error ? ": " : "", t->error ? t->error : "");
    hp_trial_fini(t);
    return HP_ESTATE;
}

/* Stores the TELL's curve, then its final metrics, under the trial's
 * current attempt. */
static int store_told_metrics(coord_t *c, const hp_trial_t *t, const Hpsearch__Tell *q,
                              char *err, size_t errlen)
{
    size_t n = q->n_metrics;
    for (size_t k = 0; k < q->n_steps; k++)
        n += q->steps[k]->n_metrics;
    if (!n)
        return 0;
    hp_metric_t *ms = calloc(n, sizeof *ms);
    HP_ASSERT(ms != NULL);
    size_t j = 0;
    for (size_t k = 0; k <= q->n_steps; k++) {
        Hpsearch__Metric **m = k < q->n_steps ? q->steps[k]->metrics : q->metrics;
        size_t nm = k < q->n_steps ? q->steps[k]->n_metrics : q->n_metrics;
        int64_t step = k < q->n_steps ? q->steps[k]->step : FINAL_STEP;
        for (size_t i = 0; i < nm; i++)
            ms[j++] = (hp_metric_t){.trial_id = t->id, .attempt = t->attempts, .step = step,
                                    .name = m[i]->name, .value = m[i]->value};
    }
    int rc = hp_store_metrics_append(c->store, ms, n, err, errlen);
    free(ms);
    return rc;
}

/* The learning-curve diagnosis of a told curve, as a worker's would get. */
static void diagnose_told(coord_t *c, coord_study_t *s, const hp_trial_t *t,
                          const Hpsearch__Tell *q)
{
    coord_run_t r = {.trial_id = t->id, .attempt = t->attempts, .number = (uint64_t)t->number,
                     .study = s, .stop = 1 /* over already: nothing to stop */};
    for (size_t k = 0; k < q->n_steps; k++)
        coord_diagnose_progress(c, &r, q->steps[k]->step, q->steps[k]->metrics,
                                q->steps[k]->n_metrics);
    coord_diagnose_end(c, &r);
    coord_run_free(&r);
}

void coord_tell(coord_t *c, hp_rep_req_t *req, const Hpsearch__Tell *q)
{
    coord_study_t *s = coord_study_find(c, q->study);
    if (!s) {
        /* not loaded: ended before this coordinator started, or none */
        coord_study_running(c, req, q->study, "tell");
        return;
    }
    hp_trial_t t;
    if (told_trial(c, req, s, q->number, &t) < 0)
        return;
    const char *obj = s->spec.objective.metric;
    double value = NAN;
    char why[600] = "", err[512];
    int outcome = q->outcome;
    if (outcome == HPSEARCH__TRIAL_OUTCOME__COMPLETED && !told_objective(s, q, &value)) {
        hp_buf_t names = {0};
        told_names(q, &names);
        coord_reply_error(c, req, HP_EINVAL,
                          "trial %u of study '%s': no objective: give --value, or report "
                          "'%s' with --metric or in the metric lines%s%s%s",
                          q->number, s->spec.name, obj, names.data ? " (it reported: " : "",
                          names.data ? names.data : "", names.data ? ")" : "");
        hp_buf_fini(&names);
        hp_trial_fini(&t);
        return;
    }
    if (outcome == HPSEARCH__TRIAL_OUTCOME__COMPLETED && !isfinite(value)) {
        /* as a worker's result: a non-finite objective fails the trial */
        snprintf(why, sizeof why, "the objective '%s' is %s", obj,
                 isnan(value) ? "NaN" : "infinite");
        outcome = HPSEARCH__TRIAL_OUTCOME__FAILED;
    } else if (outcome == HPSEARCH__TRIAL_OUTCOME__FAILED) {
        snprintf(why, sizeof why, "%s", q->error && *q->error ? q->error : "failed (told)");
    }
    double ov[HP_SPEC_MAX_OBJECTIVES];
    if (outcome == HPSEARCH__TRIAL_OUTCOME__COMPLETED &&
        !coord_objectives_of(s, value, q->metrics, q->n_metrics, ov, why, sizeof why)) {
        coord_reply_error(c, req, HP_EINVAL, "trial %u of study '%s': %s; report it with --metric",
                          q->number, s->spec.name, why);
        hp_trial_fini(&t);
        return;
    }
    if (coord_write_begin(c) < 0) {
        coord_reply_error(c, req, HP_EDB, "database unavailable");
        hp_trial_fini(&t);
        return;
    }
    int rc = store_told_metrics(c, &t, q, err, sizeof err);
    if (rc == 0) {
        diagnose_told(c, s, &t, q);
        if (outcome == HPSEARCH__TRIAL_OUTCOME__COMPLETED) {
            rc = hp_store_trial_complete(c->store, t.id, t.lease_id, value, err, sizeof err);
            if (rc == 0)
                rc = coord_objectives_record(c, s, t.id, (uint64_t)t.number, ov, err,
                                             sizeof err);
            if (rc == 0)
                rc = coord_feasible_record(c, s, t.id, (uint64_t)t.number, value, q->metrics,
                                           q->n_metrics, err, sizeof err);
        }
        else if (outcome == HPSEARCH__TRIAL_OUTCOME__FAILED)
            rc = hp_store_trial_fail(c->store, t.id, t.lease_id, why, err, sizeof err);
        else
            rc = hp_store_trial_prune(c->store, t.id, t.lease_id,
                                      q->error && *q->error ? q->error : NULL, err, sizeof err);
    }
    if (rc < 0) {
        if (!coord_store_failed(c, rc, "study '%s' trial %u: cannot record its tell: %s",
                                s->spec.name, q->number, err))
            hp_log_warn("study %s trial %u: cannot record its tell: %s", s->spec.name,
                        q->number, err);
        coord_reply_error(c, req, rc, "cannot record the result of trial %u: %s", q->number,
                          err);
        hp_trial_fini(&t);
        return;
    }
    s->asked--;
    s->done++;
    int completed = outcome == HPSEARCH__TRIAL_OUTCOME__COMPLETED;
    /* search.max_failures counts a told failure like a worker's */
    if (completed)
        coord_failures_completed(s);
    else if (outcome == HPSEARCH__TRIAL_OUTCOME__FAILED)
        coord_failures_failed(c, s, (uint64_t)t.number, why);
    char msg[700];
    if (completed)
        snprintf(msg, sizeof msg, "trial %u completed (%s %s)", q->number, obj,
                 num_text(value).s);
    else if (outcome == HPSEARCH__TRIAL_OUTCOME__FAILED)
        snprintf(msg, sizeof msg, "trial %u failed: %s", q->number, why);
    else
        snprintf(msg, sizeof msg, "trial %u pruned", q->number);
    hp_log_info("study %s: %s (told)", s->spec.name, msg);
    coord_study_trial_ended(c, s, (uint64_t)t.number, completed ? HP_OBS_COMPLETED : HP_OBS_FAILED,
                            value);
    coord_study_maybe_finish(c, s);
    coord_reply_ack(c, req, 0, msg);
    hp_trial_fini(&t);
}
