/* Constraints (the spec's `constraints:`): a trial that just completed is
 * judged by its final metrics; an infeasible one is marked in the store
 * (never the best), and the constraint metrics' values join the history
 * the samplers learn from (bayes models feasibility with them). */
#include "coord_int.h"

#include "err.h"
#include "log.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

typedef struct {
    Hpsearch__Metric *const *m;
    size_t n;
    const char *objective;
    double value;
} final_t;

/* the trial's final value of metric: the last of that name in the RESULT,
 * or the objective's value */
static int final_value(void *data, const char *metric, double *v)
{
    const final_t *f = data;
    int found = 0;
    for (size_t i = 0; i < f->n; i++)
        if (f->m[i]->name && strcmp(f->m[i]->name, metric) == 0) {
            *v = f->m[i]->value;
            found = 1;
        }
    if (!found && strcmp(metric, f->objective) == 0) {
        *v = f->value;
        found = 1;
    }
    return found;
}

int coord_feasible_record(coord_t *c, coord_study_t *s, int64_t trial_id, uint64_t number,
                          double value, Hpsearch__Metric *const *m, size_t n, char *err,
                          size_t errlen)
{
    size_t nk = s->spec.n_constraints;
    if (!nk)
        return 0;
    final_t f = {m, n, s->spec.objective.metric, value};
    if (number < s->hist.n && s->hist_cv)
        for (size_t k = 0; k < nk; k++) {
            double v;
            s->hist_cv[number * nk + k] =
                final_value(&f, s->spec.constraints[k].metric, &v) ? v : NAN;
        }
    char why[256];
    if (hp_spec_feasible(&s->spec, final_value, &f, why, sizeof why))
        return 0;
    hp_log_debug("study %s trial %" PRIu64 " is infeasible: %s", s->spec.name, number, why);
    return hp_store_trial_set_infeasible(c->store, trial_id, why, err, errlen);
}
