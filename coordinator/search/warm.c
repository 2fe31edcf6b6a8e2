/* A warm start's compatibility rules (warm.h). */
#include "warm.h"

#include "err.h"
#include "params.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int hp_warm_study_check(const hp_spec_t *spec, const char *name, const char *metric,
                        hp_goal_t goal, char *why, size_t cap)
{
    const char *mine = spec->objective.metric ? spec->objective.metric : "";
    if (strcmp(mine, metric ? metric : "") == 0 && goal == spec->objective.goal)
        return 0;
    return hp_errf(why, cap, HP_EINVAL,
                   "'%s' skipped: it optimises %s (%s), this study %s (%s)", name,
                   metric ? metric : "?", hp_goal_name(goal), mine,
                   hp_goal_name(spec->objective.goal));
}

/* A space of one parameter, a shallow copy of p in *tmp without its
 * condition (which names a parameter of the whole space): hp_params_to_point
 * reads just that one. */
static hp_space_t one_param(const hp_param_t *p, hp_param_t *tmp)
{
    *tmp = *p;
    tmp->has_when = 0;
    return (hp_space_t){.params = tmp, .n = 1};
}

/* Whether params names p at all: hp_params_to_point's only complaint
 * about a parameter it does not find is "params: missing 'NAME'". */
static int names_param(const hp_param_t *p, const char *params)
{
    hp_param_t tmp;
    hp_space_t one = one_param(p, &tmp);
    double v;
    char err[HP_PARAM_NAME_MAX + 64];
    if (hp_params_to_point(&one, params, &v, err, sizeof err) == 0)
        return 1;
    return strncmp(err, "params: missing", 15) != 0;
}

/* Why params is no point of sp, for the note: the first parameter at fault. */
static void outside_why(const hp_space_t *sp, const char *params, char *out, size_t cap)
{
    hp_space_t none = {.params = NULL, .n = 0};
    char err[256];
    if (hp_params_to_point(&none, params, NULL, err, sizeof err) < 0) {
        snprintf(out, cap, "its params are not a JSON object");
        return;
    }
    for (size_t i = 0; i < sp->n; i++) {
        const hp_param_t *p = &sp->params[i];
        hp_param_t tmp;
        hp_space_t one = one_param(p, &tmp);
        double v = NAN;
        if (hp_params_to_point(&one, params, &v, err, sizeof err) == 0)
            continue;
        if (p->has_when && !names_param(p, params))
            continue; /* absent, as it is when inactive */
        if (!names_param(p, params))
            snprintf(out, cap, "it has no %s", p->name);
        else if (p->type == HP_PARAM_CATEGORICAL)
            snprintf(out, cap, "its %s is none of this space's values", p->name);
        else if (!isfinite(v))
            snprintf(out, cap, "its %s is not a number", p->name);
        else if (v < p->low || v > p->high)
            snprintf(out, cap, "%s = %.6g is outside [%.6g, %.6g]", p->name, v, p->low, p->high);
        else
            snprintf(out, cap, "%s = %.6g is not on this space's %s", p->name, v,
                     p->type == HP_PARAM_INT ? "integer steps" : "steps");
        return;
    }
    snprintf(out, cap, "its params are not a point of this space");
}

/* Whether the trial ran with spec's fixed value f (or does not say):
 * 0 with why when its params give f's name another value. Lists are not
 * compared. */
static int fixed_matches(const hp_spec_value_t *f, const char *params, char *why, size_t cap)
{
    if (f->kind == HP_VALUE_LIST || strlen(f->name) >= HP_PARAM_NAME_MAX)
        return 1;
    hp_param_t p = {0};
    hp_choice_t ch = {.text = f->text, .is_number = 0};
    snprintf(p.name, sizeof p.name, "%s", f->name);
    if (f->kind == HP_VALUE_STRING) {
        p.type = HP_PARAM_CATEGORICAL;
        p.values = &ch;
        p.n_values = 1;
    } else { /* a number, or a boolean (JSON true/false read as 1/0) */
        p.type = HP_PARAM_FLOAT;
        p.low = p.high = f->num;
    }
    if (!names_param(&p, params))
        return 1;
    hp_param_t tmp;
    hp_space_t one = one_param(&p, &tmp);
    double v;
    char err[256];
    if (hp_params_to_point(&one, params, &v, err, sizeof err) == 0)
        return 1;
    snprintf(why, cap, "it ran with another %s (this study holds %s = %s)", f->name, f->name,
             f->text);
    return 0;
}

int hp_warm_trial(const hp_spec_t *spec, uint64_t number, const char *params, double *x,
                  hp_warm_tally_t *t)
{
    char err[256], why[180];
    if (hp_params_to_point(&spec->space, params, x, err, sizeof err) < 0) {
        if (!t->outside++) {
            outside_why(&spec->space, params, why, sizeof why);
            snprintf(t->first_outside, sizeof t->first_outside, "trial %llu: %s",
                     (unsigned long long)number, why);
        }
        return 0;
    }
    for (size_t i = 0; i < spec->trial.n_fixed; i++)
        if (!fixed_matches(&spec->trial.fixed[i], params, why, sizeof why)) {
            if (!t->fixed_differs++)
                snprintf(t->first_fixed, sizeof t->first_fixed, "trial %llu: %s",
                         (unsigned long long)number, why);
            return 0;
        }
    t->taken++;
    return 1;
}

void hp_warm_note(hp_buf_t *out, const char *name, const hp_warm_tally_t *t)
{
    if (!t->taken && !t->outside && !t->fixed_differs) {
        hp_buf_printf(out, "warm start: '%s' has no completed trials", name);
        return;
    }
    if (t->taken)
        hp_buf_printf(out, "warm start: %zu trial%s from '%s'", t->taken,
                      t->taken == 1 ? "" : "s", name);
    else
        hp_buf_printf(out, "warm start: no trials from '%s'", name);
    if (!t->outside && !t->fixed_differs)
        return;
    hp_buf_puts(out, " (");
    if (t->outside)
        hp_buf_printf(out, "%zu skipped: outside the space, first %s", t->outside,
                      t->first_outside);
    if (t->outside && t->fixed_differs)
        hp_buf_puts(out, "; ");
    if (t->fixed_differs)
        hp_buf_printf(out, "%zu skipped: other fixed settings, first %s", t->fixed_differs,
                      t->first_fixed);
    hp_buf_putc(out, ')');
}
