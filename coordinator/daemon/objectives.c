/* Several objectives (the spec's `objective:` as a list): a completed
 * trial must have reported every one, finite; its values are stored by
 * metric (trials.objectives, for every study: one objective gives one
 * entry) and join the samplers' history. */
#include "coord_int.h"

#include "buf.h"
#include "err.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int coord_objectives_of(const coord_study_t *s, double value, Hpsearch__Metric *const *m,
                        size_t n, double *vals, char *why, size_t whylen)
{
    vals[0] = value;
    for (size_t k = 1; k < hp_spec_n_objectives(&s->spec); k++) {
        const char *name = hp_spec_objective_metric(&s->spec, k);
        int found = 0;
        for (size_t i = 0; i < n; i++) /* the last of that name is final */
            if (m[i]->name && strcmp(m[i]->name, name) == 0) {
                vals[k] = m[i]->value;
                found = 1;
            }
        if (!found) {
            snprintf(why, whylen, "it never reported the objective '%s' (objective[%zu])", name,
                     k);
            return 0;
        }
        if (!isfinite(vals[k])) {
            snprintf(why, whylen, "the objective '%s' is %s", name,
                     isnan(vals[k]) ? "NaN" : "infinite");
            return 0;
        }
    }
    return 1;
}

int coord_objectives_record(coord_t *c, coord_study_t *s, int64_t trial_id, uint64_t number,
                            const double *vals, char *err, size_t errlen)
{
    size_t no = coord_study_n_ov(s);
    if (no && number < s->hist.n && s->hist_ov)
        memcpy(s->hist_ov + number * no, vals, no * sizeof *vals);
    hp_buf_t j = {0};
    hp_buf_putc(&j, '{');
    for (size_t k = 0; k < hp_spec_n_objectives(&s->spec); k++) {
        if (k)
            hp_buf_putc(&j, ',');
        hp_buf_json_string(&j, hp_spec_objective_metric(&s->spec, k));
        hp_buf_putc(&j, ':');
        hp_buf_json_number(&j, vals[k]);
    }
    hp_buf_putc(&j, '}');
    int rc = hp_store_trial_set_objectives(c->store, trial_id, j.data, err, errlen);
    hp_buf_fini(&j);
    return rc;
}
