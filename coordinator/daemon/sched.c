/* Assigning trials to idle workers: round-robin over studies that are
 * below their parallelism, re-queued trials before new ones, each trial
 * under a fresh lease. */
#include "coord_int.h"

#include "err.h"
#include "log.h"
#include "c2f.h"
#include "params.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

static int eligible(const coord_study_t *s)
{
    if (s->sanity)
        return s->active && s->sanity == 1; /* nothing else until it passes */
    if (!s->active || s->running >= s->spec.search.parallelism)
        return 0;
    if (s->pending > 0)
        return 1;
    return !s->exhausted && !s->blocked && s->created < s->total &&
           (!s->suggesting || s->has_ready);
}

static coord_study_t *next_study(coord_t *c)
{
    size_t n = c->studies.n;
    for (size_t k = 0; k < n; k++) {
        size_t i = (c->rr + k) % n;
        if (eligible(c->studies.v[i])) {
            c->rr = i + 1;
            return c->studies.v[i];
        }
    }
    return NULL;
}

typedef struct {
    int64_t trial_id, number;
    double x[HP_SPACE_MAX_PARAMS];
} picked_t;

/* A coarse-to-fine round's ranges are final once its first trial is
 * suggested: record them, so users can query how the search narrowed. */
static void record_round(coord_t *c, coord_study_t *s)
{
    if (s->spec.search.algorithm != HP_ALGO_COARSE_TO_FINE)
        return;
    unsigned round = hp_c2f_round_of(s->sampler, s->created);
    if (hp_c2f_round_first(s->sampler, round) != s->created)
        return;
    hp_history_t h = {s->hist.v, s->hist.n};
    hp_buf_t json = {0};
    char err[256];
    if (hp_c2f_round_ranges_json(s->sampler, round, &h, &json) == 0 &&
        hp_store_event_append(c->store, "c2f_round", s->id, 0, NULL, json.data, err,
                              sizeof err) < 0)
        hp_log_warn("study %s: cannot record round %u's ranges: %s", s->spec.name, round, err);
    hp_buf_fini(&json);
}

/* Takes the study's next re-queued trial. What the store hands back must
 * be what this coordinator queued: a trial it numbered, with the point it
 * stored; anything else means the database changed under it. */
static int pick_pending(coord_t *c, coord_study_t *s, picked_t *p, char *err, size_t errlen)
{
    hp_trial_t t;
    int rc = hp_store_trial_next_pending(c->store, s->id, &t, err, errlen);
    if (rc == HP_ENOENT) {
        coord_db_changed(c, "study '%s' has no pending trial where %" PRIu64 " were expected",
                         s->spec.name, s->pending);
        return rc;
    }
    if (rc < 0) {
        coord_store_failed(c, rc, "study '%s': %s", s->spec.name, err);
        return rc;
    }
    p->trial_id = t.id;
    p->number = t.number;
    if (t.number < 0 || (uint64_t)t.number >= s->created) {
        coord_db_changed(c,
                         "study '%s' has a pending trial number %" PRId64 " where 0..%" PRIu64
                         " were expected",
                         s->spec.name, t.number, s->created ? s->created - 1 : 0);
        rc = HP_ECORRUPT;
    } else if ((rc = hp_params_to_point(&s->spec.space, t.params, p->x, err, errlen)) < 0) {
        coord_db_changed(c, "study '%s' trial %" PRId64 ": its stored params no longer fit the "
                            "space: %s",
                         s->spec.name, t.number, err);
    }
    hp_trial_fini(&t);
    if (rc == 0)
        s->pending--;
    return rc;
}

/* Takes the study's next trial: a re-queued one, or a new point from the
 * sampler. Returns 0, or an error after which the study is skipped (or,
 * when the database changed under us, the schedule stops). */
static int pick_trial(coord_t *c, coord_study_t *s, picked_t *p, char *err, size_t errlen)
{
    int rc;
    if (s->pending > 0)
        return pick_pending(c, s, p, err, errlen);
    rc = coord_study_suggest(c, s, p->x, err, errlen);
    if (rc < 0)
        return rc;
    record_round(c, s);
    hp_buf_t pj = {0};
    hp_space_point_json(&s->spec.space, p->x, &pj);
    rc = hp_store_trial_create(c->store, s->id, pj.data, &p->trial_id, &p->number, err, errlen);
    hp_buf_fini(&pj);
    if (rc < 0) {
        coord_store_failed(c, rc, "study '%s': cannot add a trial: %s", s->spec.name, err);
        return rc;
    }
    /* the store numbers a trial one past the study's highest: another
     * writer added or removed trials if that is not the count we made */
    if ((uint64_t)p->number != s->created) {
        coord_db_changed(c, "study '%s' has trial number %" PRId64 " where %" PRIu64
                            " was expected",
                         s->spec.name, p->number, s->created);
        return HP_ECORRUPT;
    }
    s->created++;
    coord_study_hist_set(s, (uint64_t)p->number, HP_OBS_PENDING, NAN, p->x);
    return 0;
}

/* Sends the trial to the held request: its point, then its fixed
 * settings, then (no_baselines) baselines=0 — last, so it wins over both. */
static void send_trial(coord_t *c, const coord_held_t *h, coord_study_t *s, const coord_run_t *r,
                       const double *x, int no_baselines)
{
    const hp_spec_t *spec = &s->spec;
    size_t np = spec->space.n + spec->trial.n_fixed;
    Hpsearch__Param *pv = calloc(np + 1, sizeof *pv);
    Hpsearch__Param **pp = calloc(np + 1, sizeof *pp);
    hp_buf_t *texts = calloc(np + 1, sizeof *texts);
    HP_ASSERT(pv && pp && texts);
    for (size_t i = 0; i < np; i++) {
        hpsearch__param__init(&pv[i]);
        pp[i] = &pv[i];
        if (i < spec->space.n) {
            pv[i].name = (char *)spec->space.params[i].name;
            hp_space_format_value(&spec->space.params[i], x[i], &texts[i]);
        } else {
            const hp_spec_value_t *v = &spec->trial.fixed[i - spec->space.n];
            pv[i].name = v->name;
            hp_buf_puts(&texts[i], v->text);
        }
        pv[i].value = texts[i].data;
    }
    if (no_baselines) {
        /* computed once per dataset: stored already, or another trial's */
        hpsearch__param__init(&pv[np]);
        pp[np] = &pv[np];
        pv[np].name = "baselines";
        pv[np].value = "0";
        np++;
    }
    hp_buf_t pj = {0};
    hp_params_json_with_fixed(spec, x, &pj);

    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Trial t = HPSEARCH__TRIAL__INIT;
    t.study_id = (uint64_t)s->id;
    t.study_name = (char *)spec->name;
    t.trial_id = (uint64_t)r->trial_id;
    t.number = (uint32_t)r->number;
    t.lease_id = (uint64_t)r->lease_id;
    t.attempt = (uint32_t)r->attempt;
    t.params_json = pj.data;
    t.params = pp;
    t.n_params = np;
    t.trial_json = s->trial_json;
    t.objective = spec->objective.metric;
    t.timeout_s = spec->trial.timeout;
    t.kill_grace_s = spec->trial.kill_grace;
    /* per-trial seed: the study seed mixed with the number, stable across
     * attempts so a re-run trial sees the same randomness */
    t.seed = spec->search.seed * 0x9E3779B97F4A7C15ULL + r->number;
    t.study_seed = spec->search.seed;
    Hpsearch__Ack ack;
    t.result_ack = coord_held_ack(h, &ack);
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__TRIAL, &t);
    coord_reply(c, h->req, &env);
    for (size_t i = 0; i < np; i++)
        hp_buf_fini(&texts[i]);
    free(texts);
    free(pv);
    free(pp);
    hp_buf_fini(&pj);
}

void coord_schedule(coord_t *c)
{
    char err[512];
    while (c->held.n) {
        coord_study_t *s = next_study(c);
        if (!s)
            return;
        coord_held_t h;
        if (!coord_held_pop(c, &h))
            return;
        coord_worker_t *w = coord_worker_by_id(c, h.worker_id);
        if (s->sanity == 1) {
            coord_sanity_dispatch(c, s, &h);
            continue;
        }
        if (coord_write_begin(c) < 0) {
            coord_reply_no_trial(c, &h, 1000, 0);
            return;
        }
        picked_t p;
        int rc = pick_trial(c, s, &p, err, sizeof err);
        if (rc < 0) {
            /* give the request back to the front and try other studies */
            coord_held_unpop(c, &h);
            if (c->db_fault)
                return; /* stopping: the shutdown answers it */
            if (!s->suggesting) /* in flight: not a failure, just not yet */
                coord_study_suggest_failed(c, s, rc, err);
            continue;
        }
        coord_run_t r = {
            .trial_id = p.trial_id,
            .lease_id = c->next_lease_id++,
            .number = (uint64_t)p.number,
            .worker_id = w->id,
            .expires_ms = coord_lease_deadline_ms(c),
            .study = s,
        };
        rc = hp_store_trial_start(c->store, r.trial_id, w->id_str, r.lease_id,
                                  hp_store_now() + (double)c->cfg.lease_ms / 1000.0, &r.attempt,
                                  err, sizeof err);
        if (rc < 0) {
            /* the trial is pending and the worker known (its HELLO is
             * stored), so the store refuses only if someone else wrote */
            if (coord_store_failed(c, rc, "study '%s' trial %" PRId64 ": cannot start: %s",
                                   s->spec.name, p.number, err)) {
                coord_held_unpop(c, &h);
                return;
            }
            hp_log_error("study %s trial %" PRId64 ": cannot start: %s", s->spec.name, p.number,
                         err);
            s->pending++; /* the trial stays pending in the store */
            coord_reply_no_trial(c, &h, 1000, 0);
            continue;
        }
        int no_baselines = coord_baselines_assign(c, s, &r);
        coord_run_add(c, &r);
        send_trial(c, &h, s, &r, p.x, no_baselines);
        hp_log_debug("study %s trial %" PRId64 " attempt %d -> worker %s (lease %" PRId64 ")",
                     s->spec.name, p.number, r.attempt, w->id_str, r.lease_id);
    }
}
