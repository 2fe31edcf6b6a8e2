/* Early stopping (the spec's `pruning:`; docs/pruning.md): each study with
 * a rule owns a pruner (common/pruner.h) that judges the metric its
 * attempts report in PROGRESS. A trial it stops is told so in the reply
 * (coord_run.stop; the reason starts "pruned", so the worker reports the
 * attempt PRUNED) and ends `pruned` with the reason and a trial_pruned
 * event. An attempt that ends without completing (lost, failed,
 * interrupted, cancelled) is forgotten: a re-run is judged afresh.
 *
 * A coordinator that starts replays what the store says the rule saw, in
 * the order it happened (hp_store_prune_events), so its rungs are the ones
 * the coordinator before it had, and its decisions the same. */
#include "coord_int.h"

#include "err.h"
#include "log.h"
#include "pruner.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int coord_prune_init(coord_study_t *s, char *err, size_t errlen)
{
    hp_pruner_config_t cfg;
    if (!hp_spec_pruning_config(&s->spec, &cfg))
        return 0;
    return hp_pruner_new(&cfg, &s->pruner, err, errlen);
}

void coord_prune_project(coord_study_t *s, hp_obs_t *obs, size_t n)
{
    if (!s->pruner || !hp_spec_pruning_projects(&s->spec))
        return;
    for (size_t i = 0; i < n; i++) {
        double v;
        uint32_t k;
        if (obs[i].state == HP_OBS_PRUNED &&
            hp_pruner_projection(s->pruner, obs[i].number, &v, &k)) {
            obs[i].value = v;
            obs[i].projected = 1;
        }
    }
}

/* the pruning metric among a report's, or NULL */
static const Hpsearch__Metric *find_metric(const char *name, Hpsearch__Metric **m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (m[i]->name && strcmp(m[i]->name, name) == 0)
            return m[i];
    return NULL;
}

/* Remembers which other metrics an attempt reported, for the warning when
 * the pruning metric never comes. */
static void note_others(coord_run_t *r, Hpsearch__Metric **m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *name = m[i]->name ? m[i]->name : "";
        size_t have = strlen(r->prune_others), len = strlen(name);
        if (!len || strstr(r->prune_others, name))
            continue;
        if (have + len + 3 >= sizeof r->prune_others)
            return;
        snprintf(r->prune_others + have, sizeof r->prune_others - have, "%s%s",
                 have ? ", " : "", name);
    }
}

/* The trial_pruned event is written when the attempt ends pruned
 * (attempt.c): a program may finish before the stop reaches it, and then
 * it completed. */
static void stop_run(coord_run_t *r, int64_t step, const char *reason)
{
    r->stop = 1;
    r->has_prune_step = 1;
    r->prune_step = step;
    r->pruned_by_rule = 1;
    snprintf(r->stop_reason, sizeof r->stop_reason, "%s", reason);
    hp_log_info("study %s trial %" PRIu64 ": %s", r->study->spec.name, r->number, reason);
}

/* The rank check (pruning.min_rank_correlation) turned a rung's cutting
 * off or on again: one event per rung each time, so the events say why
 * trials stopped being cut. */
static void note_flips(coord_t *c, coord_run_t *r, const hp_prune_verdict_t *v)
{
    coord_study_t *s = r->study;
    for (uint32_t i = 0; i < v->flips && i < HP_PRUNE_NOTES; i++) {
        hp_log_info("study %s trial %" PRIu64 ": %s", s->spec.name, r->number, v->note[i]);
        char err[256];
        if (coord_write_begin(c) == 0 &&
            hp_store_event_append(c->store, "pruning_rung", s->id, r->trial_id, NULL,
                                  v->note[i], err, sizeof err) < 0)
            hp_log_warn("study %s: cannot store a pruning_rung event: %s", s->spec.name, err);
    }
}

void coord_prune_progress(coord_t *c, coord_run_t *r, int64_t step, Hpsearch__Metric **m,
                          size_t n)
{
    coord_study_t *s = r->study;
    const Hpsearch__Metric *obj = find_metric(s->spec.objective.metric, m, n);
    if (obj && step >= 0) {
        r->has_obj_last = 1;
        r->obj_last = obj->value;
    }
    /* a negative step is no point on the resource (and is not replayed:
     * store_prune.c reads steps >= 0). A run stopped already (the loss
     * diverged, the study gave up) is still reported: its reports are
     * stored, and a restarted coordinator replays every stored one, so
     * the rule must see the same ones live to hold the same rungs */
    if (!s->pruner || r->sanity || step < 0)
        return;
    const char *name = hp_spec_pruning_metric(&s->spec);
    const Hpsearch__Metric *metric = find_metric(name, m, n);
    if (!metric) {
        note_others(r, m, n);
        return;
    }
    r->prune_seen = 1;
    hp_prune_verdict_t v;
    if (hp_pruner_report(s->pruner, r->number, step, metric->value, &v) < 0) {
        hp_log_warn("study %s trial %" PRIu64 ": out of memory judging step %" PRId64
                    "; it runs on",
                    s->spec.name, r->number, step);
        return;
    }
    if (v.flips)
        note_flips(c, r, &v);
    if (v.stop && !r->stop) /* stopped already: its first reason stands */
        stop_run(r, step, v.reason);
}

void coord_prune_loaded(coord_run_t *r)
{
    int64_t step = 0;
    const char *why =
        r->study->pruner ? hp_pruner_stopped(r->study->pruner, r->number, &step) : NULL;
    if (why && !r->stop)
        stop_run(r, step, why); /* decided before a restart, perhaps never heard: the next
                                   reply tells the worker */
}

/* One warning per study when an attempt completed without ever reporting
 * the metric the rule judges. */
static void warn_unjudged(coord_t *c, coord_run_t *r)
{
    coord_study_t *s = r->study;
    if (r->prune_seen || s->prune_warned)
        return;
    s->prune_warned = 1;
    char msg[512];
    snprintf(msg, sizeof msg,
             "pruning.metric '%s' was never reported by trial %" PRIu64
             " (it reported: %s); trials that do not report it run to the end unjudged",
             hp_spec_pruning_metric(&s->spec), r->number,
             r->prune_others[0] ? r->prune_others : "no metric at any step");
    hp_log_warn("study %s: %s", s->spec.name, msg);
    char err[256];
    if (coord_write_begin(c) == 0)
        hp_store_event_append(c->store, "pruning_unjudged", s->id, r->trial_id, NULL, msg, err,
                              sizeof err);
}

void coord_prune_attempt_end(coord_t *c, coord_run_t *r, coord_prune_end_t end)
{
    coord_study_t *s = r->study;
    if (!s->pruner || r->sanity)
        return;
    switch (end) {
    case COORD_PRUNE_COMPLETED:
        warn_unjudged(c, r);
        if (hp_pruner_complete(s->pruner, r->number) < 0)
            hp_log_warn("study %s trial %" PRIu64 ": out of memory keeping its curve for the "
                        "median rule",
                        s->spec.name, r->number);
        break;
    case COORD_PRUNE_PRUNED:
        break; /* its values stay at the rungs it reached */
    case COORD_PRUNE_FORGET:
        hp_pruner_forget(s->pruner, r->number);
        break;
    }
}

typedef struct replay {
    coord_study_t *s;
    size_t events;
} replay_t;

static int replay_event(void *data, const hp_prune_event_t *e)
{
    replay_t *rp = data;
    hp_pruner_t *p = rp->s->pruner;
    rp->events++;
    if (e->number < 0)
        return 0;
    uint64_t number = (uint64_t)e->number;
    hp_prune_verdict_t v;
    switch (e->kind) {
    case HP_PRUNE_EV_REPORT:
        hp_pruner_report(p, number, e->step, e->value, &v);
        break;
    case HP_PRUNE_EV_COMPLETE:
        hp_pruner_complete(p, number);
        break;
    case HP_PRUNE_EV_FORGET:
        hp_pruner_forget(p, number);
        break;
    }
    return 0;
}

int coord_prune_replay(coord_t *c, coord_study_t *s, int64_t id, char *err, size_t errlen)
{
    if (!s->pruner)
        return 0;
    /* from an empty pruner, so a study counted again (resumed) replays
     * into what it would have at a start */
    hp_pruner_free(s->pruner);
    s->pruner = NULL;
    int rc = coord_prune_init(s, err, errlen);
    if (rc < 0)
        return rc;
    replay_t rp = {s, 0};
    rc = hp_store_prune_events(c->store, id, hp_spec_pruning_metric(&s->spec), replay_event,
                                   &rp, err, errlen);
    if (rc == 0 && rp.events)
        hp_log_info("study %s: pruning state rebuilt from %zu stored events", s->spec.name,
                    rp.events);
    return rc;
}
