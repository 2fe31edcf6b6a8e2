/* Canonical JSON of study specs (what the daemon stores, and the trial
 * section it sends with each trial) and the dataset key. */
#include "spec_int.h"

#include "err.h"
#include "pruner.h"
#include "trial_settings.h"

#include <inttypes.h>
#include <string.h>

/* ---- canonical JSON ---------------------------------------------------- */

static void key(hp_buf_t *b, int *first, const char *k)
{
    if (!*first)
        hp_buf_putc(b, ',');
    *first = 0;
    hp_buf_json_string(b, k);
    hp_buf_putc(b, ':');
}

static void kstr(hp_buf_t *b, int *first, const char *k, const char *v)
{
    key(b, first, k);
    hp_buf_json_string(b, v);
}

static void knum(hp_buf_t *b, int *first, const char *k, double v)
{
    key(b, first, k);
    hp_buf_json_number(b, v);
}

static void kint(hp_buf_t *b, int *first, const char *k, uint64_t v)
{
    key(b, first, k);
    hp_buf_printf(b, "%" PRIu64, v);
}

static void kbool(hp_buf_t *b, int *first, const char *k, int v)
{
    key(b, first, k);
    hp_buf_puts(b, v ? "true" : "false");
}

void hp_spec_value_json(const hp_spec_value_t *v, hp_buf_t *b)
{
    switch (v->kind) {
    case HP_VALUE_NUMBER:
        hp_buf_json_number(b, v->num);
        break;
    case HP_VALUE_BOOL:
        hp_buf_puts(b, v->num != 0 ? "true" : "false");
        break;
    case HP_VALUE_LIST: /* text is already canonical JSON */
        hp_buf_puts(b, v->text);
        break;
    default:
        hp_buf_json_string(b, v->text);
        break;
    }
}

static void choice_json(hp_buf_t *b, const hp_choice_t *c)
{
    if (c->is_number)
        hp_buf_json_number(b, c->num);
    else
        hp_buf_json_string(b, c->text);
}

static void param_json(hp_buf_t *b, const hp_space_t *sp, const hp_param_t *p)
{
    int f = 1;
    hp_buf_putc(b, '{');
    kstr(b, &f, "type", hp_param_type_name(p->type));
    if (p->type != HP_PARAM_CATEGORICAL) {
        knum(b, &f, "low", p->low);
        knum(b, &f, "high", p->high);
        kbool(b, &f, "log", p->log);
        if (p->type == HP_PARAM_INT || p->step > 0)
            knum(b, &f, "step", p->step);
        if (p->grid_points)
            kint(b, &f, "grid_points", p->grid_points);
    }
    if (p->n_values || p->type == HP_PARAM_CATEGORICAL) {
        key(b, &f, "values");
        hp_buf_putc(b, '[');
        for (size_t i = 0; i < p->n_values; i++) {
            if (i)
                hp_buf_putc(b, ',');
            choice_json(b, &p->values[i]);
        }
        hp_buf_putc(b, ']');
    }
    if (p->has_when && p->when_parent < sp->n) {
        const hp_param_t *q = &sp->params[p->when_parent];
        key(b, &f, "when");
        hp_buf_putc(b, '{');
        hp_buf_json_string(b, q->name);
        hp_buf_puts(b, ":[");
        for (size_t i = 0; i < p->n_when_values; i++) {
            if (i)
                hp_buf_putc(b, ',');
            if (p->when_values[i] < q->n_values)
                choice_json(b, &q->values[p->when_values[i]]);
        }
        hp_buf_puts(b, "]}");
        if (p->has_default) {
            key(b, &f, "default");
            choice_json(b, &p->def);
        }
    }
    hp_buf_putc(b, '}');
}

/* the dataset section's fields that decide the data (all but augment,
 * which only changes training batches), inside an object begun by the
 * caller: shared by the section's JSON and the dataset key */
static void dataset_fields(hp_buf_t *b, int *f, const hp_spec_dataset_t *d)
{
    kstr(b, f, d->is_path ? "path" : "name", d->source ? d->source : "");
    if (d->is_path) {
        if (d->label)
            kstr(b, f, "label", d->label);
        kstr(b, f, "task", hp_task_name(d->task));
    }
    kint(b, f, "train_subset", d->train_subset);
    knum(b, f, "validation_fraction", d->validation_fraction);
    kstr(b, f, "normalize", hp_normalize_name(d->normalize));
    kstr(b, f, "shift", hp_shift_name(d->shift));
    if (d->image_columns)
        kstr(b, f, "image_columns", d->image_columns);
    if (d->image_shape) { /* "C,H,W" as the spec's list */
        key(b, f, "image_shape");
        hp_buf_printf(b, "[%s]", d->image_shape);
    }
    if (d->feature_columns)
        kstr(b, f, "feature_columns", d->feature_columns);
    if (d->sequence_columns)
        kstr(b, f, "sequence_columns", d->sequence_columns);
    if (d->sequence_shape) { /* "T,F" as the spec's list */
        key(b, f, "sequence_shape");
        hp_buf_printf(b, "[%s]", d->sequence_shape);
    }
}

static void dataset_json(hp_buf_t *b, const hp_spec_dataset_t *d)
{
    int f = 1;
    hp_buf_putc(b, '{');
    dataset_fields(b, &f, d);
    kbool(b, &f, "augment", d->augment);
    /* like augment, adaptation changes neither the splits nor the test set
     * (nor the baselines): not in the dataset key */
    if (d->adapt != HP_ADAPT_NONE)
        kstr(b, &f, "adapt", hp_adapt_name(d->adapt));
    hp_buf_putc(b, '}');
}

static void values_json(hp_buf_t *b, const hp_spec_value_t *v, size_t n)
{
    int f = 1;
    hp_buf_putc(b, '{');
    for (size_t i = 0; i < n; i++) {
        key(b, &f, v[i].name);
        hp_spec_value_json(&v[i], b);
    }
    hp_buf_putc(b, '}');
}

void hp_spec_trial_to_json(const hp_spec_t *s, hp_buf_t *b)
{
    int g = 1;
    hp_buf_putc(b, '{');
    switch (s->trial.kind) {
    case HP_TRIAL_MODEL:
        kstr(b, &g, "model", hp_model_name(s->trial.model));
        key(b, &g, "dataset");
        dataset_json(b, &s->trial.dataset);
        kint(b, &g, "epochs", s->trial.epochs);
        break;
    case HP_TRIAL_FUNCTION:
        kstr(b, &g, "function", hp_function_name(s->trial.function));
        knum(b, &g, "noise", s->trial.noise);
        break;
    case HP_TRIAL_COMMAND:
        key(b, &g, "command");
        hp_buf_putc(b, '[');
        for (size_t i = 0; i < s->trial.argc; i++) {
            if (i)
                hp_buf_putc(b, ',');
            hp_buf_json_string(b, s->trial.argv[i]);
        }
        hp_buf_putc(b, ']');
        key(b, &g, "env");
        values_json(b, s->trial.env, s->trial.n_env);
        if (s->trial.workdir)
            kstr(b, &g, "workdir", s->trial.workdir);
        break;
    }
    if (s->trial.kind != HP_TRIAL_FUNCTION) {
        key(b, &g, "fixed");
        values_json(b, s->trial.fixed, s->trial.n_fixed);
    }
    knum(b, &g, "timeout", s->trial.timeout);
    kint(b, &g, "retries", s->trial.retries);
    if (s->trial.kind == HP_TRIAL_COMMAND)
        knum(b, &g, "kill_grace", s->trial.kill_grace);
    hp_buf_putc(b, '}');
}

/* data_setting returns the setting at place k (1, 2, ...) of a dataset
 * key, or NULL past the last: the settings that change which examples land
 * in the training split and the test set, or the inputs themselves (what
 * the baselines are trained and scored on), in the table's fixed order
 * (data_key), so a key does not depend on the order the spec lists them. */
static const hp_trial_setting_t *data_setting(int k)
{
    for (size_t i = 0; i < hp_trial_settings_n; i++)
        if (hp_trial_settings[i].data_key == k)
            return &hp_trial_settings[i];
    return NULL;
}

int hp_spec_dataset_key(const hp_spec_t *s, hp_buf_t *b)
{
    if (s->trial.kind != HP_TRIAL_MODEL)
        return -1;
    for (size_t i = 0; i < hp_trial_settings_n; i++)
        if (hp_trial_settings[i].data_key > 0 &&
            hp_space_find(&s->space, hp_trial_settings[i].name) >= 0)
            return -1; /* every trial has data of its own */
    int f = 1;
    hp_buf_putc(b, '{');
    dataset_fields(b, &f, &s->trial.dataset);
    kint(b, &f, "seed", s->search.seed);
    int g = 1;
    const hp_trial_setting_t *ds;
    for (int k = 1; (ds = data_setting(k)) != NULL; k++) {
        /* the worker applies fixed settings in order: the last one wins */
        const hp_spec_value_t *v = NULL;
        for (size_t i = 0; i < s->trial.n_fixed; i++)
            if (strcmp(s->trial.fixed[i].name, ds->name) == 0)
                v = &s->trial.fixed[i];
        if (!v)
            continue;
        if (g) {
            key(b, &f, "fixed");
            hp_buf_putc(b, '{');
        }
        key(b, &g, v->name);
        hp_spec_value_json(v, b);
    }
    if (!g)
        hp_buf_putc(b, '}');
    hp_buf_putc(b, '}');
    return 0;
}

void hp_spec_to_json(const hp_spec_t *s, hp_buf_t *b)
{
    int f = 1, g;
    hp_buf_putc(b, '{');
    kint(b, &f, "version", (uint64_t)s->version);
    kstr(b, &f, "name", s->name);

    key(b, &f, "objective");
    if (s->objective.n_list) /* several: a list, human_error on the first */
        hp_buf_putc(b, '[');
    for (size_t i = 0; i < hp_spec_n_objectives(s); i++) {
        if (i)
            hp_buf_putc(b, ',');
        const char *metric = hp_spec_objective_metric(s, i);
        g = 1;
        hp_buf_putc(b, '{');
        kstr(b, &g, "metric", metric ? metric : "");
        kstr(b, &g, "goal", hp_goal_name(hp_spec_objective_goal(s, i)));
        if (i == 0 && s->objective.has_human_error)
            knum(b, &g, "human_error", s->objective.human_error);
        if (i == 0 && s->objective.has_target)
            knum(b, &g, "target", s->objective.target);
        hp_buf_putc(b, '}');
    }
    if (s->objective.n_list)
        hp_buf_putc(b, ']');

    key(b, &f, "search");
    g = 1;
    hp_buf_putc(b, '{');
    kstr(b, &g, "algorithm", hp_algo_name(s->search.algorithm));
    if (s->search.max_trials) /* grid: 0 = the whole grid */
        kint(b, &g, "max_trials", s->search.max_trials);
    kint(b, &g, "parallelism", s->search.parallelism);
    kint(b, &g, "seed", s->search.seed);
    kbool(b, &g, "sanity_check", s->search.sanity_check);
    kint(b, &g, "max_failures", s->search.max_failures);
    if (s->search.algorithm == HP_ALGO_COARSE_TO_FINE) {
        kint(b, &g, "rounds", s->search.rounds);
        kint(b, &g, "trials_per_round", s->search.trials_per_round);
        if (s->search.top_k)
            kint(b, &g, "top_k", s->search.top_k);
        else
            knum(b, &g, "top_fraction", s->search.top_fraction);
        knum(b, &g, "shrink", s->search.shrink);
    } else if (s->search.algorithm == HP_ALGO_BAYES) {
        kint(b, &g, "n_initial", s->search.n_initial);
        kstr(b, &g, "acquisition", hp_acquisition_name(s->search.acquisition));
        if (s->search.acquisition == HP_ACQ_UCB)
            knum(b, &g, "kappa", s->search.kappa);
    }
    if (s->search.n_warm_start) {
        key(b, &g, "warm_start");
        hp_buf_putc(b, '[');
        for (size_t i = 0; i < s->search.n_warm_start; i++) {
            if (i)
                hp_buf_putc(b, ',');
            hp_buf_json_string(b, s->search.warm_start[i]);
        }
        hp_buf_putc(b, ']');
    }
    hp_buf_putc(b, '}');

    key(b, &f, "space");
    g = 1;
    hp_buf_putc(b, '{');
    for (size_t i = 0; i < s->space.n; i++) {
        key(b, &g, s->space.params[i].name);
        param_json(b, &s->space, &s->space.params[i]);
    }
    hp_buf_putc(b, '}');

    key(b, &f, "trial");
    hp_spec_trial_to_json(s, b);
    if (s->pruning.rule != HP_PRUNE_NONE) { /* absent: none, as in specs before it */
        key(b, &f, "pruning");
        g = 1;
        hp_buf_putc(b, '{');
        kstr(b, &g, "rule", hp_prune_rule_name((hp_prune_rule_t)s->pruning.rule));
        kstr(b, &g, "metric", hp_spec_pruning_metric(s));
        kstr(b, &g, "goal", hp_goal_name(s->pruning.goal));
        if (s->pruning.rule == HP_PRUNE_MEDIAN) {
            kint(b, &g, "warmup_steps", (uint64_t)s->pruning.warmup_steps);
            kint(b, &g, "interval_steps", (uint64_t)s->pruning.interval_steps);
            kint(b, &g, "min_trials", s->pruning.min_trials);
            if (s->pruning.max_resource)
                kint(b, &g, "max_resource", (uint64_t)s->pruning.max_resource);
        } else {
            kint(b, &g, "min_resource", (uint64_t)s->pruning.min_resource);
            kint(b, &g, "max_resource", (uint64_t)s->pruning.max_resource);
            kint(b, &g, "reduction_factor", (uint64_t)s->pruning.eta);
            if (s->pruning.rule == HP_PRUNE_HYPERBAND && s->pruning.brackets)
                kint(b, &g, "brackets", s->pruning.brackets);
            if (s->pruning.min_rank_corr > 0) {
                knum(b, &g, "min_rank_correlation", s->pruning.min_rank_corr);
                kint(b, &g, "min_trials", s->pruning.min_trials);
            }
        }
        if (s->pruning.pruned_value == HP_PRUNED_WORST) /* absent: projected */
            kstr(b, &g, "pruned_value", "worst");
        hp_buf_putc(b, '}');
    }
    if (s->n_constraints) { /* absent: none, as in specs before them */
        key(b, &f, "constraints");
        hp_buf_putc(b, '[');
        for (size_t i = 0; i < s->n_constraints; i++) {
            const struct hp_spec_constraint *k = &s->constraints[i];
            if (i)
                hp_buf_putc(b, ',');
            g = 1;
            hp_buf_putc(b, '{');
            kstr(b, &g, "metric", k->metric);
            if (k->has_min)
                knum(b, &g, "min", k->min);
            if (k->has_max)
                knum(b, &g, "max", k->max);
            hp_buf_putc(b, '}');
        }
        hp_buf_putc(b, ']');
    }
    hp_buf_putc(b, '}');
}
