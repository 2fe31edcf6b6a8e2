/* Assigning trials to idle workers: round-robin over studies that are
 * below their parallelism, re-queued trials before new ones, each trial
 * under a fresh lease. */
#include "coord_int.h"

#include "err.h"
#include "log.h"
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

/* Sends the trial to the held request: its point, then its fixed
 * settings, then (no_baselines) baselines=0 — last, so it wins over both. */
static void send_trial(coord_t *c, const coord_held_t *h, coord_study_t *s, const coord_run_t *r,
                       const double *x, int no_baselines)
{
    const hp_spec_t *spec = &s->spec;
    coord_params_t params;
    coord_params_build(spec, x, &params);
    if (no_baselines) {
        /* computed once per dataset: stored already, or another trial's */
        params.pv[params.n].name = "baselines";
        params.pv[params.n].value = "0";
        params.n++;
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
    t.params = params.pp;
    t.n_params = params.n;
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
    coord_params_fini(&params);
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
        coord_pick_t p;
        int rc = coord_pick_trial(c, s, HP_TRIAL_ORIGIN_SAMPLER, &p, err, sizeof err);
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
            .lease_id = coord_lease_new(c),
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
