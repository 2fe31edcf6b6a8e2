/* A study's next trial, whoever takes it (a worker's slot through sched.c,
 * the user's own loop through ask.c): a re-queued one first, else a new
 * point from the sampler; and a trial whose point is given (enqueue.c). */
#include "coord_int.h"

#include "c2f.h"
#include "err.h"
#include "log.h"
#include "params.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
static int pick_pending(coord_t *c, coord_study_t *s, coord_pick_t *p, char *err, size_t errlen)
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

int coord_trial_add(coord_t *c, coord_study_t *s, const double *x, hp_trial_origin_t origin,
                    coord_pick_t *p, char *err, size_t errlen)
{
    if (p->x != x)
        for (size_t i = 0; i < s->spec.space.n; i++)
            p->x[i] = x[i];
    hp_buf_t pj = {0};
    hp_space_point_json(&s->spec.space, x, &pj);
    int rc = hp_store_trial_create_origin(c->store, s->id, pj.data, origin, &p->trial_id,
                                          &p->number, err, errlen);
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
    coord_study_hist_set(s, (uint64_t)p->number, HP_OBS_PENDING, NAN, x);
    return 0;
}

int coord_pick_trial(coord_t *c, coord_study_t *s, hp_trial_origin_t origin, coord_pick_t *p,
                     char *err, size_t errlen)
{
    if (s->pending > 0)
        return pick_pending(c, s, p, err, errlen);
    int rc = coord_study_suggest(c, s, p->x, err, errlen);
    if (rc < 0)
        return rc;
    record_round(c, s);
    return coord_trial_add(c, s, p->x, origin, p, err, errlen);
}

void coord_params_build(const hp_spec_t *spec, const double *x, coord_params_t *p)
{
    size_t np = spec->space.n + spec->trial.n_fixed;
    p->pv = calloc(np + 1, sizeof *p->pv);
    p->pp = calloc(np + 1, sizeof *p->pp);
    p->texts = calloc(np + 1, sizeof *p->texts);
    HP_ASSERT(p->pv && p->pp && p->texts);
    for (size_t i = 0; i <= np; i++) {
        hpsearch__param__init(&p->pv[i]);
        p->pp[i] = &p->pv[i];
    }
    size_t k = 0;
    for (size_t i = 0; i < np; i++) {
        if (i < spec->space.n) {
            const hp_param_t *sp = &spec->space.params[i];
            if (sp->has_when && isnan(x[i])) {
                /* inactive: absent, but for a command its default fills
                 * its placeholders */
                if (!sp->has_default || spec->trial.kind != HP_TRIAL_COMMAND)
                    continue;
                p->pv[k].placeholder_only = 1;
                hp_buf_puts(&p->texts[k], sp->def.text);
            } else {
                hp_space_format_value(sp, x[i], &p->texts[k]);
            }
            p->pv[k].name = (char *)sp->name;
        } else {
            const hp_spec_value_t *v = &spec->trial.fixed[i - spec->space.n];
            p->pv[k].name = v->name;
            hp_buf_puts(&p->texts[k], v->text);
        }
        p->pv[k].value = p->texts[k].data ? p->texts[k].data : "";
        k++;
    }
    p->n = k;
    p->cap = np + 1;
}

void coord_params_fini(coord_params_t *p)
{
    for (size_t i = 0; i < p->cap; i++)
        hp_buf_fini(&p->texts[i]);
    free(p->texts);
    free(p->pv);
    free(p->pp);
    memset(p, 0, sizeof *p);
}
