/* Learning-curve diagnosis of every trial (docs/troubleshooting.md): the
 * loss each attempt reports is classified with common/curve, at the steps
 * it was reported at (so the evidence names the steps as stored); the verdict
 * and its likely causes are stored with the trial, and a curve that
 * diverges stops the attempt early instead of running it to the end. */
#include "coord_int.h"

#include "curve.h"
#include "err.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Which reported metric is "the loss": train_loss (built-in trainer), else
 * loss (the usual name in user programs), else the objective when it is
 * minimized. The first that appears fixes the choice for the attempt. */
static const Hpsearch__Metric *pick_loss(coord_run_t *r, Hpsearch__Metric **m, size_t n)
{
    const hp_spec_t *spec = &r->study->spec;
    const char *wanted[3] = {"train_loss", "loss",
                             spec->objective.goal == HP_GOAL_MINIMIZE ? spec->objective.metric
                                                                      : NULL};
    if (r->loss_metric[0]) {
        for (size_t i = 0; i < n; i++)
            if (strcmp(m[i]->name, r->loss_metric) == 0)
                return m[i];
        return NULL;
    }
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; wanted[k] && i < n; i++)
            if (strcmp(m[i]->name, wanted[k]) == 0) {
                snprintf(r->loss_metric, sizeof r->loss_metric, "%s", wanted[k]);
                return m[i];
            }
    return NULL;
}

void coord_diagnose_progress(coord_t *c, coord_run_t *r, int64_t step, Hpsearch__Metric **m,
                             size_t n)
{
    const Hpsearch__Metric *l = pick_loss(r, m, n);
    if (!l)
        return;
    HP_VEC_PUSH(r->loss, l->value);
    HP_VEC_PUSH(r->loss_step, step);
    if (r->stop || !hp_curve_is_diverging(r->loss.v, r->loss.n, NULL))
        return;
    hp_curve_diag_t d;
    hp_curve_classify_steps(r->loss.v, r->loss_step.v, r->loss.n, NULL, &d);
    /* "pruned" in the reason makes the worker report the attempt PRUNED */
    r->stop = 1;
    r->has_prune_step = step >= 0;
    r->prune_step = step;
    snprintf(r->stop_reason, sizeof r->stop_reason, "pruned: the %s diverged (%s)",
             r->loss_metric, d.evidence);
    if (r->sanity)
        return; /* the sanity check's own verdict says it */
    /* the trial_diverged event is written when the attempt ends pruned
     * (attempt.c): a program may finish before the stop reaches it */
    hp_log_info("study %s trial %" PRIu64 ": %s; stopping it", r->study->spec.name, r->number,
                r->stop_reason);
}

void coord_diagnose_end(coord_t *c, coord_run_t *r)
{
    if (r->loss.n == 0)
        return;
    hp_curve_diag_t d;
    hp_curve_verdict_t v = hp_curve_classify_steps(r->loss.v, r->loss_step.v, r->loss.n, NULL, &d);
    char detail[512];
    snprintf(detail, sizeof detail, "%s: %s. Likely causes: %s", r->loss_metric, d.evidence,
             hp_curve_causes(v));
    char err[256];
    if (coord_write_begin(c) < 0)
        return;
    int rc = hp_store_trial_set_diagnosis(c->store, r->trial_id, hp_curve_verdict_name(v), detail,
                                          err, sizeof err);
    /* HP_ENOENT: the trial's row is gone */
    if (rc < 0 && !coord_store_failed(c, rc, "study '%s' trial %" PRIu64 ": %s",
                                      r->study->spec.name, r->number, err))
        hp_log_warn("trial %" PRId64 ": cannot store its diagnosis: %s", r->trial_id, err);
}
