/* The hp_spec_t value itself: init/fini, finding a fixed value, and
 * equality (two specs that mean the same study). Parsing is in spec.c and
 * its sections, canonical JSON in spec_json.c. */
#include "spec_int.h"

#include <stdlib.h>
#include <string.h>

void hp_spec_values_free(hp_spec_value_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].text);
    }
    free(v);
}

void hp_spec_init(hp_spec_t *spec) { memset(spec, 0, sizeof *spec); }

void hp_spec_fini(hp_spec_t *spec)
{
    free(spec->objective.metric);
    for (size_t i = 0; i < spec->objective.n_list; i++)
        free(spec->objective.list[i].metric);
    free(spec->objective.list);
    for (size_t i = 0; i < spec->search.n_warm_start; i++)
        free(spec->search.warm_start[i]);
    free(spec->search.warm_start);
    free(spec->pruning.metric);
    for (size_t i = 0; i < spec->n_constraints; i++)
        free(spec->constraints[i].metric);
    free(spec->constraints);
    hp_space_fini(&spec->space);
    free(spec->trial.dataset.source);
    free(spec->trial.dataset.label);
    free(spec->trial.dataset.image_columns);
    free(spec->trial.dataset.image_shape);
    free(spec->trial.dataset.feature_columns);
    free(spec->trial.dataset.sequence_columns);
    free(spec->trial.dataset.sequence_shape);
    for (size_t i = 0; i < spec->trial.argc; i++)
        free(spec->trial.argv[i]);
    free(spec->trial.argv);
    hp_spec_values_free(spec->trial.env, spec->trial.n_env);
    hp_spec_values_free(spec->trial.fixed, spec->trial.n_fixed);
    free(spec->trial.workdir);
    free(spec->source);
    free(spec->raw);
    hp_diag_fini(&spec->warnings);
    memset(spec, 0, sizeof *spec);
}

const hp_spec_value_t *hp_spec_find_fixed(const hp_spec_t *spec, const char *name)
{
    for (size_t i = 0; i < spec->trial.n_fixed; i++)
        if (strcmp(spec->trial.fixed[i].name, name) == 0)
            return &spec->trial.fixed[i];
    return NULL;
}

size_t hp_spec_n_objectives(const hp_spec_t *spec)
{
    return spec->objective.n_list ? spec->objective.n_list : 1;
}

const char *hp_spec_objective_metric(const hp_spec_t *spec, size_t i)
{
    return spec->objective.n_list ? spec->objective.list[i].metric : spec->objective.metric;
}

hp_goal_t hp_spec_objective_goal(const hp_spec_t *spec, size_t i)
{
    return spec->objective.n_list ? spec->objective.list[i].goal : spec->objective.goal;
}

/* ---- equality ---------------------------------------------------------- */

static int streq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* Numbers compare by value (so -0 == 0 and NaN never appears: the parser
 * refuses non-finite numbers). */
static int choice_eq(const hp_choice_t *a, const hp_choice_t *b)
{
    if (a->is_number != b->is_number)
        return 0;
    return a->is_number ? a->num == b->num : streq(a->text, b->text);
}

static int param_eq(const hp_param_t *a, const hp_param_t *b)
{
    if (strcmp(a->name, b->name) != 0 || a->type != b->type ||
        a->low != b->low || a->high != b->high || a->log != b->log ||
        a->step != b->step || a->grid_points != b->grid_points ||
        a->n_values != b->n_values)
        return 0;
    for (size_t i = 0; i < a->n_values; i++)
        if (!choice_eq(&a->values[i], &b->values[i]))
            return 0;
    if (a->has_when != b->has_when || a->has_default != b->has_default)
        return 0;
    if (a->has_when && (a->when_parent != b->when_parent ||
                        a->n_when_values != b->n_when_values ||
                        memcmp(a->when_values, b->when_values,
                               a->n_when_values * sizeof *a->when_values) != 0))
        return 0;
    return !a->has_default || choice_eq(&a->def, &b->def);
}

static int values_eq(const hp_spec_value_t *a, size_t na,
                     const hp_spec_value_t *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++) {
        if (!streq(a[i].name, b[i].name) || a[i].kind != b[i].kind)
            return 0;
        if (a[i].kind == HP_VALUE_NUMBER || a[i].kind == HP_VALUE_BOOL) {
            if (a[i].num != b[i].num)
                return 0;
        } else if (!streq(a[i].text, b[i].text)) {
            return 0;
        }
    }
    return 1;
}

int hp_spec_equal(const hp_spec_t *a, const hp_spec_t *b)
{
    if (a->version != b->version || strcmp(a->name, b->name) != 0)
        return 0;
    if (!streq(a->objective.metric, b->objective.metric) ||
        a->objective.goal != b->objective.goal ||
        a->objective.has_human_error != b->objective.has_human_error ||
        (a->objective.has_human_error &&
         a->objective.human_error != b->objective.human_error) ||
        a->objective.has_target != b->objective.has_target ||
        (a->objective.has_target && a->objective.target != b->objective.target) ||
        a->objective.n_list != b->objective.n_list)
        return 0;
    for (size_t i = 0; i < a->objective.n_list; i++)
        if (!streq(a->objective.list[i].metric, b->objective.list[i].metric) ||
            a->objective.list[i].goal != b->objective.list[i].goal)
            return 0;
    if (a->search.algorithm != b->search.algorithm ||
        a->search.max_trials != b->search.max_trials ||
        a->search.parallelism != b->search.parallelism ||
        a->search.seed != b->search.seed ||
        a->search.sanity_check != b->search.sanity_check ||
        a->search.max_failures != b->search.max_failures ||
        a->search.rounds != b->search.rounds ||
        a->search.trials_per_round != b->search.trials_per_round ||
        a->search.top_k != b->search.top_k ||
        a->search.top_fraction != b->search.top_fraction ||
        a->search.shrink != b->search.shrink ||
        a->search.n_initial != b->search.n_initial ||
        a->search.acquisition != b->search.acquisition || a->search.kappa != b->search.kappa ||
        a->search.n_warm_start != b->search.n_warm_start)
        return 0;
    for (size_t i = 0; i < a->search.n_warm_start; i++)
        if (strcmp(a->search.warm_start[i], b->search.warm_start[i]) != 0)
            return 0;
    if (a->space.n != b->space.n)
        return 0;
    for (size_t i = 0; i < a->space.n; i++)
        if (!param_eq(&a->space.params[i], &b->space.params[i]))
            return 0;
    const hp_spec_dataset_t *da = &a->trial.dataset, *db = &b->trial.dataset;
    if (a->trial.kind != b->trial.kind || a->trial.model != b->trial.model ||
        !streq(da->source, db->source) || da->is_path != db->is_path ||
        !streq(da->label, db->label) || da->task != db->task ||
        da->train_subset != db->train_subset ||
        da->validation_fraction != db->validation_fraction ||
        da->normalize != db->normalize || da->shift != db->shift ||
        da->augment != db->augment || da->adapt != db->adapt ||
        !streq(da->image_columns, db->image_columns) || !streq(da->image_shape, db->image_shape) ||
        !streq(da->feature_columns, db->feature_columns) ||
        !streq(da->sequence_columns, db->sequence_columns) ||
        !streq(da->sequence_shape, db->sequence_shape) || a->trial.epochs != b->trial.epochs ||
        a->trial.function != b->trial.function || a->trial.dim != b->trial.dim ||
        a->trial.noise != b->trial.noise || a->trial.argc != b->trial.argc ||
        !streq(a->trial.workdir, b->trial.workdir) ||
        a->trial.timeout != b->trial.timeout ||
        a->trial.retries != b->trial.retries || a->trial.kill_grace != b->trial.kill_grace)
        return 0;
    for (size_t i = 0; i < a->trial.argc; i++)
        if (!streq(a->trial.argv[i], b->trial.argv[i]))
            return 0;
    if (!hp_spec_pruning_equal(a, b) || a->n_constraints != b->n_constraints)
        return 0;
    for (size_t i = 0; i < a->n_constraints; i++) {
        const struct hp_spec_constraint *p = &a->constraints[i], *q = &b->constraints[i];
        if (!streq(p->metric, q->metric) || p->has_min != q->has_min ||
            p->has_max != q->has_max || (p->has_min && p->min != q->min) ||
            (p->has_max && p->max != q->max))
            return 0;
    }
    return values_eq(a->trial.env, a->trial.n_env, b->trial.env, b->trial.n_env) &&
           values_eq(a->trial.fixed, a->trial.n_fixed, b->trial.fixed,
                     b->trial.n_fixed);
}
