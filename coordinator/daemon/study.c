/* A study in the coordinator's memory: its spec and sampler, counters that
 * mirror the store, the history samplers learn from, and suggestions
 * computed off the loop thread for expensive samplers. */
#include "coord_int.h"

#include "err.h"
#include "log.h"
#include "params.h"
#include "pruner.h"
#include "suggest.h"
#include "warm.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void coord_study_free(coord_study_t *s)
{
    if (!s)
        return;
    HP_ASSERT(!s->suggesting); /* the loop waits for work before freeing */
    coord_study_free(s->next);
    hp_sampler_free(s->sampler);
    hp_pruner_free(s->pruner);
    hp_spec_fini(&s->spec);
    free(s->trial_json);
    free(s->dataset_key);
    free(s->hist.v);
    free(s->hist_x);
    free(s->hist_cv);
    free(s->hist_ov);
    free(s->fails.first);
    free(s);
}

/* ---- history ----------------------------------------------------------- */

/* History entries are indexed by trial number (numbers are 0..created-1),
 * and their points live in one block of created * dim doubles. */
static void hist_reserve(coord_study_t *s, uint64_t n)
{
    size_t dim = s->spec.space.n ? s->spec.space.n : 1;
    if (n <= s->hist.cap)
        return;
    size_t cap = hp_vec_next_cap(s->hist.cap, n, 64);
    size_t nk = s->spec.n_constraints;
    s->hist.v = hp_vec_realloc(s->hist.v, cap, sizeof *s->hist.v);
    s->hist_x = hp_vec_realloc(s->hist_x, cap * dim, sizeof *s->hist_x);
    if (nk)
        s->hist_cv = hp_vec_realloc(s->hist_cv, cap * nk, sizeof *s->hist_cv);
    size_t no = coord_study_n_ov(s);
    if (no)
        s->hist_ov = hp_vec_realloc(s->hist_ov, cap * no, sizeof *s->hist_ov);
    s->hist.cap = cap;
    for (size_t i = 0; i < s->hist.n; i++) {
        s->hist.v[i].x = s->hist_x + i * dim;
        s->hist.v[i].cv = nk ? s->hist_cv + i * nk : NULL;
        s->hist.v[i].ov = no ? s->hist_ov + i * no : NULL;
    }
}

void coord_study_hist_set(coord_study_t *s, uint64_t number, hp_obs_state_t state, double value,
                          const double *x)
{
    size_t dim = s->spec.space.n ? s->spec.space.n : 1;
    if (number >= s->hist.n) {
        hist_reserve(s, number + 1);
        for (size_t i = s->hist.n; i <= number; i++) {
            size_t nk = s->spec.n_constraints, no = coord_study_n_ov(s);
            s->hist.v[i] = (hp_obs_t){.number = i, .state = HP_OBS_FAILED, .value = NAN,
                                      .x = s->hist_x + i * dim,
                                      .cv = nk ? s->hist_cv + i * nk : NULL,
                                      .ov = no ? s->hist_ov + i * no : NULL};
            memset(s->hist_x + i * dim, 0, dim * sizeof(double));
            for (size_t k = 0; k < nk; k++)
                s->hist_cv[i * nk + k] = NAN;
            for (size_t k = 0; k < no; k++)
                s->hist_ov[i * no + k] = NAN;
        }
        s->hist.n = number + 1;
    }
    hp_obs_t *o = &s->hist.v[number];
    o->state = state;
    o->value = state == HP_OBS_COMPLETED || state == HP_OBS_PRUNED ? value : NAN;
    if (x)
        memcpy(s->hist_x + number * dim, x, s->spec.space.n * sizeof(double));
}

typedef struct {
    coord_study_t *s;
    char err[256];
} hist_load_t;

static int hist_load_cb(void *data, const hp_trial_t *t)
{
    hist_load_t *hl = data;
    coord_study_t *s = hl->s;
    double x[HP_SPACE_MAX_PARAMS];
    char err[256];
    /* the history is indexed by number: the study's trials are numbered
     * 0..created-1 (unique, counted by study_count), unless someone else
     * renumbered or added some */
    if (t->number < 0 || (uint64_t)t->number >= s->created) {
        snprintf(hl->err, sizeof hl->err,
                 "trial number %" PRId64 " where 0..%" PRIu64 " were expected (the database was "
                 "changed outside hpsearch)",
                 t->number, s->created - 1);
        return HP_ECORRUPT;
    }
    if (hp_params_to_point(&s->spec.space, t->params, x, err, sizeof err) < 0) {
        hp_log_warn("study %s trial %" PRId64 ": %s; left out of the sampler's history",
                    s->spec.name, t->number, err);
        coord_study_hist_set(s, (uint64_t)t->number, HP_OBS_FAILED, NAN, NULL);
        return 0;
    }
    /* a trial the user's own loop runs (no worker): it waits for its tell */
    if (t->state == HP_TRIAL_RUNNING && t->attempts > 0 && !t->worker_id)
        s->asked++;
    hp_obs_state_t st = HP_OBS_FAILED;
    if (t->state == HP_TRIAL_PRUNED)
        st = HP_OBS_PRUNED; /* its last value comes from its metrics (study_count) */
    else if (t->state == HP_TRIAL_COMPLETED && t->has_value) {
        st = HP_OBS_COMPLETED;
        s->fails.succeeded = 1; /* max_failures' first-trials rule is over */
    }
    else if (t->state == HP_TRIAL_PENDING || t->state == HP_TRIAL_RUNNING)
        st = HP_OBS_PENDING;
    coord_study_hist_set(s, (uint64_t)t->number, st, t->value, x);
    return 0;
}

/* ---- making one: from a submission's parsed spec, or from the store ---- */

int coord_study_new(hp_spec_t *spec, coord_study_t **out, char *err, size_t errlen)
{
    *out = NULL;
    coord_study_t *s = calloc(1, sizeof *s);
    HP_ASSERT(s != NULL);
    s->spec = *spec;
    hp_spec_init(spec); /* the study owns it now; the sampler points into it */
    int rc = hp_sampler_new(&s->sampler, &s->spec, err, errlen);
    if (rc < 0) {
        coord_study_free(s);
        return rc;
    }
    if ((rc = coord_prune_init(s, err, errlen)) < 0) {
        coord_study_free(s);
        return rc;
    }
    s->total = hp_sampler_total(s->sampler);
    hp_buf_t tj = {0};
    hp_spec_trial_to_json(&s->spec, &tj);
    s->trial_json = hp_buf_steal(&tj);
    *out = s;
    return 0;
}

static int baselines_load(coord_t *c, coord_study_t *s, const char *dataset_key, char *err,
                          size_t errlen);

/* Makes s, stored under id, one of the loop's studies; its counters are
 * set already. A running study without trials does its sanity check first
 * (again, after a restart: it is cheap, and trials only exist once it
 * passed). On failure s is the caller's still. */
static int study_start(coord_t *c, coord_study_t *s, int64_t id, int active,
                       const char *dataset_key, char *err, size_t errlen)
{
    s->id = id;
    s->active = active;
    int rc = baselines_load(c, s, dataset_key, err, errlen);
    if (rc < 0)
        return rc;
    if (s->active && s->created == 0 && s->spec.search.sanity_check &&
        s->spec.trial.kind == HP_TRIAL_MODEL)
        s->sanity = 1;
    HP_VEC_PUSH(c->studies, s);
    return 0;
}

int coord_study_add(coord_t *c, coord_study_t *s, int64_t id, const char *dataset_key, char *err,
                    size_t errlen)
{
    int rc = study_start(c, s, id, 1, dataset_key, err, errlen);
    if (rc < 0)
        coord_study_free(s);
    return rc;
}

/* A pruned trial's value for the samplers: its objective at its last step. */
static int pruned_value_cb(void *data, int64_t number, double value)
{
    coord_study_t *s = data;
    if (number >= 0 && (uint64_t)number < s->hist.n &&
        s->hist.v[number].state == HP_OBS_PRUNED)
        s->hist.v[number].value = value;
    return 0;
}

/* A column of a (trials x stride) matrix of the samplers' history: a
 * constraint's values (hist_cv) or an objective's (hist_ov). */
typedef struct {
    coord_study_t *s;
    double *m;
    size_t stride, k;
} col_load_t;

/* A completed trial's final value of the column's metric. */
static int col_value_cb(void *data, int64_t number, double value)
{
    col_load_t *cl = data;
    if (number >= 0 && (uint64_t)number < cl->s->hist.n)
        cl->m[(size_t)number * cl->stride + cl->k] = value;
    return 0;
}

/* Column k of m for every completed trial: the trial's own value when
 * is_value (the metric is the objective's), else metric's final value. */
static int col_load(coord_t *c, coord_study_t *s, int64_t id, const char *metric, int is_value,
                    double *m, size_t stride, size_t k, char *err, size_t errlen)
{
    if (is_value) {
        for (size_t i = 0; i < s->hist.n; i++)
            if (s->hist.v[i].state == HP_OBS_COMPLETED)
                m[i * stride + k] = s->hist.v[i].value;
        return 0;
    }
    col_load_t cl = {s, m, stride, k};
    return hp_store_final_values(c->store, id, metric, col_value_cb, &cl, err, errlen);
}

/* Several objectives: every completed trial's values for the samplers
 * (the first is the trial's value, the others its final metrics). */
static int ov_load(coord_t *c, coord_study_t *s, int64_t id, char *err, size_t errlen)
{
    size_t no = coord_study_n_ov(s);
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < no; k++)
        rc = col_load(c, s, id, hp_spec_objective_metric(&s->spec, k), k == 0, s->hist_ov, no, k,
                      err, errlen);
    return rc;
}

/* Sets the counters and the samplers' history of s from its stored trials. */
static int study_count(coord_t *c, coord_study_t *s, int64_t id, char *err, size_t errlen)
{
    int64_t counts[HP_TRIAL_STATE_COUNT_];
    int rc = hp_store_trial_count(c->store, id, counts, err, errlen);
    if (rc < 0)
        return rc;
    for (int k = 0; k < HP_TRIAL_STATE_COUNT_; k++)
        s->created += (uint64_t)counts[k];
    s->pending = (uint64_t)counts[HP_TRIAL_PENDING];
    s->done = (uint64_t)(counts[HP_TRIAL_COMPLETED] + counts[HP_TRIAL_FAILED] +
                         counts[HP_TRIAL_PRUNED] + counts[HP_TRIAL_CANCELLED]);
    if (!s->created)
        return 0;
    hist_load_t hl = {s, ""};
    rc = hp_store_trial_list(c->store, id, 0, hist_load_cb, &hl, err, errlen);
    if (rc < 0 && hl.err[0])
        hp_errf(err, errlen, rc, "study '%s' has %s", s->spec.name, hl.err);
    if (rc == 0 && counts[HP_TRIAL_PRUNED])
        rc = hp_store_pruned_last_values(c->store, id, s->spec.objective.metric, pruned_value_cb,
                                         s, err, errlen);
    /* the constraints' final values of completed trials (the objective's
     * own is the trial's value) */
    for (size_t k = 0; rc == 0 && k < s->spec.n_constraints; k++) {
        const char *m = s->spec.constraints[k].metric;
        rc = col_load(c, s, id, m, strcmp(m, s->spec.objective.metric) == 0, s->hist_cv,
                      s->spec.n_constraints, k, err, errlen);
    }
    if (rc == 0)
        rc = ov_load(c, s, id, err, errlen);
    if (rc == 0)
        rc = coord_prune_replay(c, s, id, err, errlen);
    return rc;
}

/* ---- a warm start: earlier studies' completed trials -------------------- */

void coord_notes_fini(coord_notes_t *n)
{
    for (size_t i = 0; i < n->n; i++)
        free(n->v[i]);
    free(n->v);
    memset(n, 0, sizeof *n);
}

static void note_add(coord_study_t *s, coord_notes_t *notes, const char *text)
{
    hp_log_info("study %s: %s", s->spec.name, text);
    if (!notes)
        return;
    char *t = strdup(text);
    HP_ASSERT(t != NULL);
    HP_VEC_PUSH(*notes, t);
}

typedef struct warm_load {
    coord_study_t *s;
    const char *from;
    double before;
    hp_warm_tally_t tally;
    /* the constraints' final values in the earlier study, (trial number x
     * n_constraints), NaN where never reported */
    HP_VEC(double) cv;
    size_t k; /* the column warm_cv_cb fills */
} warm_load_t;

static int warm_cv_cb(void *data, int64_t number, double value)
{
    warm_load_t *w = data;
    size_t nc = w->s->spec.n_constraints;
    if (number < 0 || (uint64_t)number >= SIZE_MAX / nc - 1)
        return 0;
    size_t need = ((size_t)number + 1) * nc;
    while (w->cv.n < need)
        HP_VEC_PUSH(w->cv, NAN);
    w->cv.v[(size_t)number * nc + w->k] = value;
    return 0;
}

/* The earlier study's final values of this study's constraint metrics
 * (its objective's own is the trial's value, filled in warm_trial_cb). */
static int warm_cv_load(coord_t *c, warm_load_t *w, int64_t study_id, const char *metric,
                        char *err, size_t errlen)
{
    for (size_t k = 0; k < w->s->spec.n_constraints; k++) {
        const char *m = w->s->spec.constraints[k].metric;
        if (strcmp(m, metric ? metric : "") == 0)
            continue;
        w->k = k;
        int rc = hp_store_final_values(c->store, study_id, m, warm_cv_cb, w, err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int warm_trial_cb(void *data, const hp_trial_t *t)
{
    warm_load_t *w = data;
    /* completed after this study was created: not part of its start */
    if (w->before > 0 && t->ended > w->before)
        return 0;
    if (!t->has_value || !isfinite(t->value) || t->number < 0)
        return 0;
    double x[HP_SPACE_MAX_PARAMS];
    if (!hp_warm_trial(&w->s->spec, (uint64_t)t->number, t->params, x, &w->tally))
        return 0;
    const hp_spec_t *sp = &w->s->spec;
    size_t nc = sp->n_constraints;
    double *cv = NULL;
    if (nc) {
        /* the trial's row of w->cv, with the objective's columns its value */
        while (w->cv.n < ((size_t)t->number + 1) * nc)
            HP_VEC_PUSH(w->cv, NAN);
        cv = w->cv.v + (size_t)t->number * nc;
        for (size_t k = 0; k < nc; k++)
            if (strcmp(sp->constraints[k].metric, sp->objective.metric) == 0)
                cv[k] = t->value;
    }
    hp_sampler_add_prior(w->s->sampler, w->from, (uint64_t)t->number, t->value, x, cv);
    return 0;
}

int coord_study_warm_start(coord_t *c, coord_study_t *s, double before, coord_notes_t *notes,
                           char *err, size_t errlen)
{
    for (size_t i = 0; i < s->spec.search.n_warm_start; i++) {
        const char *from = s->spec.search.warm_start[i];
        hp_study_t st;
        int rc = hp_store_study_get_by_name(c->store, from, &st, err, errlen);
        if (rc == HP_ENOENT && before > 0) {
            /* a restart: the earlier study is gone from the database */
            hp_log_warn("study %s: search.warm_start: no study named '%s' any more; it starts "
                        "from the others",
                        s->spec.name, from);
            continue;
        }
        if (rc == HP_ENOENT) {
            char hint[HP_SUGGEST_MAX_WORD + 32];
            coord_study_hint(c, from, hint, sizeof hint);
            return hp_errf(err, errlen, HP_ENOENT, "search.warm_start: no study named '%s'%s",
                           from, hint);
        }
        if (rc < 0)
            return rc;
        char why[300];
        hp_buf_t note = {0};
        if (hp_warm_study_check(&s->spec, from, st.metric, st.goal, why, sizeof why) < 0) {
            hp_buf_printf(&note, "warm start: %s", why);
        } else {
            warm_load_t w = {.s = s, .from = from, .before = before};
            rc = warm_cv_load(c, &w, st.id, st.metric, err, errlen);
            if (rc == 0)
                rc = hp_store_trial_list(c->store, st.id, HP_TRIAL_MASK(HP_TRIAL_COMPLETED),
                                         warm_trial_cb, &w, err, errlen);
            free(w.cv.v);
            if (rc < 0) {
                hp_study_fini(&st);
                hp_buf_fini(&note);
                return rc;
            }
            hp_warm_note(&note, from, &w.tally);
        }
        note_add(s, notes, note.data);
        hp_buf_fini(&note);
        hp_study_fini(&st);
    }
    return 0;
}

int coord_study_load(coord_t *c, int64_t id, char *err, size_t errlen)
{
    hp_study_t st;
    int rc = hp_store_study_get(c->store, id, &st, err, errlen);
    if (rc < 0)
        return rc;
    /* the stored text, parsed again: the parsed form of its submission
     * did not outlive that coordinator */
    hp_spec_t spec;
    hp_diag_t d = {0};
    rc = hp_spec_parse(&spec, st.spec, strlen(st.spec), st.name, &d);
    if (rc < 0) {
        rc = hp_errf(err, errlen, HP_ECORRUPT,
                     "study %" PRId64 " (%s): stored spec no longer parses: %s", id, st.name,
                     d.n ? d.items[0].text : "?");
        hp_diag_fini(&d);
        hp_study_fini(&st);
        return rc;
    }
    hp_diag_fini(&d);
    coord_study_t *s;
    rc = coord_study_new(&spec, &s, err, errlen);
    if (rc == 0 && (rc = study_count(c, s, id, err, errlen)) == 0 &&
        (rc = coord_study_warm_start(c, s, st.created, NULL, err, errlen)) == 0)
        rc = study_start(c, s, id, st.state == HP_STUDY_RUNNING, st.dataset_key, err, errlen);
    hp_study_fini(&st);
    if (rc < 0)
        coord_study_free(s);
    return rc;
}

coord_study_t *coord_study_running(coord_t *c, hp_rep_req_t *req, const char *name,
                                   const char *doing)
{
    coord_study_t *s = coord_study_find(c, name);
    if (s && s->active)
        return s;
    char err[256];
    hp_study_t st;
    char *end;
    long long id = strtoll(name, &end, 10);
    int rc = *end == '\0' ? hp_store_study_get(c->store, id, &st, err, sizeof err)
                          : hp_store_study_get_by_name(c->store, name, &st, err, sizeof err);
    if (rc == HP_ENOENT) {
        coord_reply_no_study(c, req, name);
        return NULL;
    }
    if (rc < 0) {
        coord_reply_error(c, req, rc, "%s", err);
        return NULL;
    }
    const char *how = st.state == HP_STUDY_COMPLETED
                          ? "resubmit its spec with a larger search.max_trials to continue it"
                          : "hpsearch resume continues it";
    if (st.state == HP_STUDY_RUNNING) /* stored running, yet not ours: cannot be */
        how = "it is not loaded by this coordinator";
    coord_reply_error(c, req, HP_ESTATE, "cannot %s: study '%s' is %s (%s)", doing, st.name,
                      hp_study_state_name(st.state), how);
    hp_study_fini(&st);
    return NULL;
}

int coord_study_recount(coord_t *c, coord_study_t *s, char *err, size_t errlen)
{
    s->created = s->pending = s->done = 0;
    s->asked = 0; /* study_count counts the trials still out with ask */
    s->hist.n = 0;
    s->exhausted = s->blocked = 0;
    int rc = study_count(c, s, s->id, err, errlen);
    if (rc < 0)
        return rc;
    s->active = 1;
    coord_failures_reset(s); /* search.max_failures counts afresh */
    s->sanity_attempts = 0;  /* and the sanity check's retries */
    s->sanity_long = 0;
    /* as at a start: a study without trials checks first (sanity.c) */
    if (s->created == 0 && s->spec.search.sanity_check && s->spec.trial.kind == HP_TRIAL_MODEL)
        s->sanity = 1;
    c->schedule_needed = 1;
    return 0;
}

/* Moves next's spec into s, with a sampler made on it where s keeps it:
 * the sampler points into the spec it was made from. */
static void respec_now(coord_t *c, coord_study_t *s, coord_study_t *next)
{
    hp_sampler_t *old = s->sampler;
    hp_spec_fini(&s->spec);
    s->spec = next->spec;
    hp_spec_init(&next->spec);
    hp_sampler_free(next->sampler);
    next->sampler = NULL;
    char err[256];
    /* made from this very spec a moment ago (coord_study_new): only memory
     * could fail it */
    int rc = hp_sampler_new(&s->sampler, &s->spec, err, sizeof err);
    HP_ASSERT(rc == 0);
    /* the warm start's observations stay (a resubmission cannot change
     * search.warm_start or the space) */
    hp_sampler_move_prior(s->sampler, old);
    hp_sampler_free(old);
    s->total = hp_sampler_total(s->sampler);
    char *tj = s->trial_json;
    s->trial_json = next->trial_json;
    next->trial_json = tj;
    s->exhausted = 0; /* a grown grid or sampler has points again */
    s->blocked = 0;
    coord_study_free(next);
    c->schedule_needed = 1;
    coord_study_maybe_finish(c, s); /* a lowered max_trials may be reached */
}

void coord_study_respec(coord_t *c, coord_study_t *s, coord_study_t *next)
{
    if (s->suggesting) {
        /* the sampler is in use off the loop: swapped when it is done */
        coord_study_free(s->next);
        s->next = next;
        return;
    }
    respec_now(c, s, next);
}

void coord_study_maybe_finish(coord_t *c, coord_study_t *s)
{
    if (!s->active || s->running || s->asked || s->pending || s->suggesting || s->sanity)
        return;
    if (s->created < s->total && !s->exhausted)
        return;
    char err[256];
    if (coord_write_begin(c) < 0)
        return;
    int rc = hp_store_study_set_state(c->store, s->id, HP_STUDY_COMPLETED, NULL, err, sizeof err);
    if (rc < 0) {
        /* HP_ESTATE: the stored study is not running any more */
        if (!coord_store_failed(c, rc, "study '%s': cannot mark it completed: %s", s->spec.name,
                                err))
            hp_log_error("study %s: cannot mark completed: %s", s->spec.name, err);
        return;
    }
    hp_store_event_append(c->store, "study_completed", s->id, 0, NULL, NULL, err, sizeof err);
    s->active = 0;
    hp_log_info("study %s completed (%" PRIu64 " trials)", s->spec.name, s->done);
}

void coord_study_trial_ended(coord_t *c, coord_study_t *s, uint64_t number, hp_obs_state_t st,
                             double value)
{
    coord_study_hist_set(s, number, st, value, NULL);
    s->blocked = 0; /* a sampler waiting for results may go on */
    c->schedule_needed = 1;
}

/* ---- baselines, once per dataset key ------------------------------------ */

/* Sets the study's dataset key and whether its trials compute the
 * baselines, from the store. */
static int baselines_load(coord_t *c, coord_study_t *s, const char *dataset_key, char *err,
                          size_t errlen)
{
    s->baselines = COORD_BASELINES_OFF;
    if (!dataset_key)
        return 0;
    s->dataset_key = strdup(dataset_key);
    HP_ASSERT(s->dataset_key != NULL);
    /* a spec that turns them off (fixed: {baselines: 0}) or searches over
     * them keeps what it says */
    const hp_spec_value_t *v = hp_spec_find_fixed(&s->spec, "baselines");
    int off = v && !((v->kind == HP_VALUE_NUMBER || v->kind == HP_VALUE_BOOL) && v->num != 0);
    if (off || hp_space_find(&s->spec.space, "baselines") >= 0)
        return 0;
    int64_t n;
    int rc = hp_store_baseline_count(c->store, s->dataset_key, &n, err, errlen);
    if (rc < 0)
        return rc;
    s->baselines = n > 0 ? COORD_BASELINES_STORED : COORD_BASELINES_NEED;
    return 0;
}

/* computing_run returns a running attempt that computes key's baselines. */
static const coord_run_t *computing_run(const coord_t *c, const char *key)
{
    for (size_t i = 0; i < c->runs.n; i++) {
        const coord_run_t *r = &c->runs.v[i];
        if (r->baselines && r->study->dataset_key && strcmp(r->study->dataset_key, key) == 0)
            return r;
    }
    return NULL;
}

int coord_baselines_assign(coord_t *c, coord_study_t *s, coord_run_t *r)
{
    if (s->baselines == COORD_BASELINES_OFF)
        return 0;
    if (s->baselines == COORD_BASELINES_NEED) {
        const coord_run_t *other = computing_run(c, s->dataset_key);
        if (other) {
            hp_log_debug("study %s trial %" PRIu64 ": baselines=0, trial id %" PRId64
                         " computes them",
                         s->spec.name, r->number, other->trial_id);
            return 1;
        }
        int64_t n = 0;
        char err[256];
        if (hp_store_baseline_count(c->store, s->dataset_key, &n, err, sizeof err) < 0)
            hp_log_warn("study %s: %s; this trial computes the baselines", s->spec.name, err);
        if (n == 0) {
            r->baselines = 1;
            hp_log_info("study %s trial %" PRIu64 " computes the baselines of %s", s->spec.name,
                        r->number, s->dataset_key);
            return 0;
        }
        s->baselines = COORD_BASELINES_STORED;
    }
    return 1;
}

void coord_baselines_result(coord_t *c, coord_run_t *r, Hpsearch__Metric **m, size_t n)
{
    coord_study_t *s = r->study;
    if (!s->dataset_key)
        return;
    int stored = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = hp_store_baseline_name(m[i]->name);
        if (!name || !isfinite(m[i]->value) || m[i]->value < 0)
            continue;
        hp_baseline_def_t b = {.dataset_key = s->dataset_key, .name = name, .error = m[i]->value,
                               .study_id = s->id, .trial_id = r->trial_id};
        char err[256];
        int inserted = 0;
        if (hp_store_baseline_put(c->store, &b, &inserted, err, sizeof err) < 0) {
            hp_log_warn("study %s trial %" PRIu64 ": %s", s->spec.name, r->number, err);
            continue;
        }
        stored = 1;
        if (inserted)
            hp_log_info("study %s trial %" PRIu64 ": baseline %s = %.4f stored for %s",
                        s->spec.name, r->number, name, m[i]->value, s->dataset_key);
    }
    if (!stored)
        return;
    r->baselines = 0;
    for (size_t i = 0; i < c->studies.n; i++) {
        coord_study_t *o = c->studies.v[i];
        if (o->baselines == COORD_BASELINES_NEED && strcmp(o->dataset_key, s->dataset_key) == 0)
            o->baselines = COORD_BASELINES_STORED;
    }
}

/* ---- suggestions off the loop ------------------------------------------ */

typedef struct suggest_work {
    uv_work_t req;
    coord_t *c;
    coord_study_t *s;
    uint64_t number;
    hp_obs_t *obs; /* snapshot of the history */
    double *xs, *cvs, *ovs;
    size_t n;
    double x[HP_SPACE_MAX_PARAMS];
    int rc;
    char err[512];
} suggest_work_t;

static void suggest_run(uv_work_t *req)
{
    suggest_work_t *w = req->data;
    hp_history_t h = {w->obs, w->n};
    w->rc = hp_sampler_suggest(w->s->sampler, w->number, &h, w->x, w->err, sizeof w->err);
}

static void suggest_done(uv_work_t *req, int status)
{
    suggest_work_t *w = req->data;
    coord_t *c = w->c;
    coord_study_t *s = w->s;
    s->suggesting = 0;
    if (status == 0 && w->rc == 0) {
        memcpy(s->ready_x, w->x, s->spec.space.n * sizeof(double));
        s->has_ready = 1;
    } else {
        coord_study_suggest_failed(c, s, status ? HP_ECANCELED : w->rc, w->err);
    }
    free(w->obs);
    free(w->xs);
    free(w->cvs);
    free(w->ovs);
    free(w);
    c->schedule_needed = 1;
    if (s->next) {
        coord_study_t *next = s->next;
        s->next = NULL;
        respec_now(c, s, next);
    }
}

void coord_study_suggest_failed(coord_t *c, coord_study_t *s, int rc, const char *why)
{
    if (rc == HP_EBUSY) {
        s->blocked = 1; /* waits for running trials (e.g. the end of a round) */
        return;
    }
    if (rc == HP_ENOENT) {
        s->exhausted = 1;
        coord_study_maybe_finish(c, s);
        return;
    }
    char reason[600], err[256];
    snprintf(reason, sizeof reason, "the %s sampler failed: %s", s->sampler->vt->name, why);
    hp_log_error("study %s: %s", s->spec.name, reason);
    int src;
    if (coord_write_begin(c) == 0 &&
        (src = hp_store_study_set_state(c->store, s->id, HP_STUDY_FAILED, reason, err,
                                        sizeof err)) < 0 &&
        !coord_store_failed(c, src, "study '%s': cannot mark it failed: %s", s->spec.name, err))
        hp_log_error("study %s: cannot mark failed: %s", s->spec.name, err);
    s->active = 0;
}

int coord_study_suggest(coord_t *c, coord_study_t *s, double *x, char *err, size_t errlen)
{
    hp_history_t h = {s->hist.v, s->hist.n};
    if (!hp_sampler_is_expensive(s->sampler))
        return hp_sampler_suggest(s->sampler, s->created, &h, x, err, errlen);
    if (s->has_ready) {
        memcpy(x, s->ready_x, s->spec.space.n * sizeof(double));
        s->has_ready = 0;
        return 0;
    }
    if (s->suggesting)
        return HP_EBUSY;
    /* a snapshot: the loop goes on changing the history meanwhile */
    size_t dim = s->spec.space.n ? s->spec.space.n : 1;
    suggest_work_t *w = calloc(1, sizeof *w);
    HP_ASSERT(w != NULL);
    w->c = c;
    w->s = s;
    w->number = s->created;
    w->n = s->hist.n;
    size_t nk = s->spec.n_constraints;
    w->obs = malloc((w->n + 1) * sizeof *w->obs);
    w->xs = malloc((w->n + 1) * dim * sizeof *w->xs);
    size_t no = coord_study_n_ov(s);
    w->cvs = malloc((w->n + 1) * (nk ? nk : 1) * sizeof *w->cvs);
    w->ovs = malloc((w->n + 1) * (no ? no : 1) * sizeof *w->ovs);
    HP_ASSERT(w->obs && w->xs && w->cvs && w->ovs);
    if (w->n) /* hist_x is NULL before the first trial */
        memcpy(w->xs, s->hist_x, w->n * dim * sizeof *w->xs);
    if (w->n && nk)
        memcpy(w->cvs, s->hist_cv, w->n * nk * sizeof *w->cvs);
    if (w->n && no)
        memcpy(w->ovs, s->hist_ov, w->n * no * sizeof *w->ovs);
    for (size_t i = 0; i < w->n; i++) {
        w->obs[i] = s->hist.v[i];
        w->obs[i].x = w->xs + i * dim;
        w->obs[i].cv = nk ? w->cvs + i * nk : NULL;
        w->obs[i].ov = no ? w->ovs + i * no : NULL;
    }
    coord_prune_project(s, w->obs, w->n);
    w->req.data = w;
    s->suggesting = 1;
    uv_queue_work(c->loop, &w->req, suggest_run, suggest_done);
    return HP_EBUSY;
}
