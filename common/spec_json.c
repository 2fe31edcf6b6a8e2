/* Canonical JSON output, equality and the name tables of study specs. */
#include "spec_int.h"

#include "err.h"
#include "trial_settings.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const hp_spec_goal_names[2] = {"minimize", "maximize"};
const char *const hp_spec_algo_names[5] = {"grid", "random", "sobol",
                                           "coarse-to-fine", "bayes"};
const char *const hp_spec_model_names[3] = {"mlp", "lenet", "lstm"};
const char *const hp_spec_function_names[4] = {"branin", "hartmann6",
                                               "rosenbrock", "ackley"};
const char *const hp_spec_task_names[2] = {"classification", "regression"};
const char *const hp_spec_normalize_names[4] = {"standardize", "unit",
                                                "centered", "none"};
const char *const hp_spec_shift_names[4] = {"none", "darken", "noise", "same"};
const char *const hp_spec_param_type_names[3] = {"float", "int", "categorical"};
const char *const hp_spec_datasets[1] = {"fashion-mnist"};

#define NAME_OF(table, v)                                                  \
    ((unsigned)(v) < HP_ARRAY_LEN(table) ? (table)[(unsigned)(v)] : "?")

const char *hp_goal_name(hp_goal_t g) { return NAME_OF(hp_spec_goal_names, g); }
const char *hp_algo_name(hp_algo_t a) { return NAME_OF(hp_spec_algo_names, a); }
const char *hp_model_name(hp_model_t m) { return NAME_OF(hp_spec_model_names, m); }
const char *hp_function_name(hp_function_t f)
{
    return NAME_OF(hp_spec_function_names, f);
}
const char *hp_task_name(hp_task_t t) { return NAME_OF(hp_spec_task_names, t); }
const char *hp_normalize_name(hp_normalize_t n)
{
    return NAME_OF(hp_spec_normalize_names, n);
}
const char *hp_shift_name(hp_shift_t s) { return NAME_OF(hp_spec_shift_names, s); }
const char *hp_param_type_name(hp_param_type_t t)
{
    return NAME_OF(hp_spec_param_type_names, t);
}

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
    hp_space_fini(&spec->space);
    free(spec->trial.dataset.source);
    free(spec->trial.dataset.label);
    for (size_t i = 0; i < spec->trial.argc; i++)
        free(spec->trial.argv[i]);
    free(spec->trial.argv);
    hp_spec_values_free(spec->trial.env, spec->trial.n_env);
    hp_spec_values_free(spec->trial.fixed, spec->trial.n_fixed);
    free(spec->trial.workdir);
    free(spec->source);
    free(spec->raw);
    memset(spec, 0, sizeof *spec);
}

const hp_spec_value_t *hp_spec_find_fixed(const hp_spec_t *spec, const char *name)
{
    for (size_t i = 0; i < spec->trial.n_fixed; i++)
        if (strcmp(spec->trial.fixed[i].name, name) == 0)
            return &spec->trial.fixed[i];
    return NULL;
}

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

static void param_json(hp_buf_t *b, const hp_param_t *p)
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
}

static void dataset_json(hp_buf_t *b, const hp_spec_dataset_t *d)
{
    int f = 1;
    hp_buf_putc(b, '{');
    dataset_fields(b, &f, d);
    kbool(b, &f, "augment", d->augment);
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
    g = 1;
    hp_buf_putc(b, '{');
    kstr(b, &g, "metric", s->objective.metric ? s->objective.metric : "");
    kstr(b, &g, "goal", hp_goal_name(s->objective.goal));
    if (s->objective.has_human_error)
        knum(b, &g, "human_error", s->objective.human_error);
    hp_buf_putc(b, '}');

    key(b, &f, "search");
    g = 1;
    hp_buf_putc(b, '{');
    kstr(b, &g, "algorithm", hp_algo_name(s->search.algorithm));
    if (s->search.max_trials) /* grid: 0 = the whole grid */
        kint(b, &g, "max_trials", s->search.max_trials);
    kint(b, &g, "parallelism", s->search.parallelism);
    kint(b, &g, "seed", s->search.seed);
    kbool(b, &g, "sanity_check", s->search.sanity_check);
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
    }
    hp_buf_putc(b, '}');

    key(b, &f, "space");
    g = 1;
    hp_buf_putc(b, '{');
    for (size_t i = 0; i < s->space.n; i++) {
        key(b, &g, s->space.params[i].name);
        param_json(b, &s->space.params[i]);
    }
    hp_buf_putc(b, '}');

    key(b, &f, "trial");
    hp_spec_trial_to_json(s, b);
    hp_buf_putc(b, '}');
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
    return 1;
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
         a->objective.human_error != b->objective.human_error))
        return 0;
    if (a->search.algorithm != b->search.algorithm ||
        a->search.max_trials != b->search.max_trials ||
        a->search.parallelism != b->search.parallelism ||
        a->search.seed != b->search.seed ||
        a->search.sanity_check != b->search.sanity_check ||
        a->search.rounds != b->search.rounds ||
        a->search.trials_per_round != b->search.trials_per_round ||
        a->search.top_k != b->search.top_k ||
        a->search.top_fraction != b->search.top_fraction ||
        a->search.shrink != b->search.shrink ||
        a->search.n_initial != b->search.n_initial)
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
        da->augment != db->augment || a->trial.epochs != b->trial.epochs ||
        a->trial.function != b->trial.function || a->trial.dim != b->trial.dim ||
        a->trial.noise != b->trial.noise || a->trial.argc != b->trial.argc ||
        !streq(a->trial.workdir, b->trial.workdir) ||
        a->trial.timeout != b->trial.timeout ||
        a->trial.retries != b->trial.retries)
        return 0;
    for (size_t i = 0; i < a->trial.argc; i++)
        if (!streq(a->trial.argv[i], b->trial.argv[i]))
            return 0;
    return values_eq(a->trial.env, a->trial.n_env, b->trial.env, b->trial.n_env) &&
           values_eq(a->trial.fixed, a->trial.n_fixed, b->trial.fixed,
                     b->trial.n_fixed);
}
