/* The objective: the list form (several objectives, a Pareto front), what
 * several objectives cannot go with, and each objective's metric held
 * against what the study's trial can report: a benchmark function reports
 * only `value`, a built-in model only the metrics its engine measures. A
 * spec whose trials can never report an objective would fail every trial,
 * so validation refuses it. An external command may print any metric:
 * nothing is known of it here. */
#include "spec_int.h"

#include "baselines.h"
#include "err.h"
#include "pruner.h"
#include "suggest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a built-in model reports, per epoch or at the end
 * (worker/runner/run_model.c): the objectives first, as its "never
 * reported the objective" message lists them. */
static const char *const model_objectives[] = {
    "train_loss", "train_error", "val_loss", "val_error", "test_loss", "test_error",
};
static const char *const model_shift_metrics[] = {"shift_val_loss", "shift_val_error"};
static const char *const model_other_metrics[] = {
    "lr",          "samples_per_sec",         "seconds",
    "epochs",      "steps",                   "nparams",
    "train_gflops", "val_examples",           "classes",
    "val_chance_error", "val_pred_corr",      HP_BASELINE_MAJORITY_METRIC,
    HP_BASELINE_LINEAR_METRIC,
};

static int in(const char *m, const char *const *words, size_t n)
{
    return spec_word_in(m, strlen(m), words, n) >= 0;
}

/* Whether the model's trials may have a test-distribution shift, which is
 * what the shift_val_* metrics measure: the dataset's, or the engine
 * setting `shift` fixed or searched. */
static int may_shift(const hp_spec_t *s)
{
    if (s->trial.dataset.shift != HP_SHIFT_NONE || hp_space_find(&s->space, "shift") >= 0)
        return 1;
    const hp_spec_value_t *v = hp_spec_find_fixed(s, "shift");
    return v && v->kind == HP_VALUE_STRING && strcmp(v->text, "none") != 0;
}

void spec_check_objective(ctx_t *c, size_t i, int line)
{
    const hp_spec_t *s = c->spec;
    const char *m = hp_spec_objective_metric(s, i);
    if (!m || !line)
        return;
    char path[48];
    if (s->objective.n_list)
        snprintf(path, sizeof path, "objective[%zu].metric", i);
    else
        snprintf(path, sizeof path, "objective.metric");
    if (s->trial.kind == HP_TRIAL_FUNCTION) {
        if (strcmp(m, "value") != 0)
            spec_err(c, line, path,
                     "%s is '%s' but function %s reports only 'value'", path, m,
                     hp_function_name(s->trial.function));
        return;
    }
    if (s->trial.kind != HP_TRIAL_MODEL)
        return;
    if (in(m, model_objectives, HP_ARRAY_LEN(model_objectives)) ||
        in(m, model_other_metrics, HP_ARRAY_LEN(model_other_metrics)))
        return;
    const char *model = hp_model_name(s->trial.model);
    if (in(m, model_shift_metrics, HP_ARRAY_LEN(model_shift_metrics))) {
        if (!may_shift(s))
            spec_err(c, line, path,
                     "%s is '%s' but model %s reports it only with a "
                     "test-distribution shift (set trial.dataset.shift)",
                     path, m, model);
        return;
    }
    char known[300], hint[80] = "";
    spec_join(known, sizeof known, model_objectives, HP_ARRAY_LEN(model_objectives));
    const char *near = hp_suggest_closest(m, strlen(m), model_objectives,
                                          HP_ARRAY_LEN(model_objectives));
    if (near)
        snprintf(hint, sizeof hint, "; did you mean '%s'?", near);
    spec_err(c, line, path,
             "%s is '%s' but model %s reports %s (and shift_val_loss, "
             "shift_val_error with a dataset shift)%s",
             path, m, model, known, hint);
}

/* One entry of the list: {metric, goal}, human_error on the first. */
static void parse_entry(ctx_t *c, struct fy_node *n, const char *path, int line, size_t idx,
                        int *metric_line)
{
    hp_spec_t *s = c->spec;
    map_t m;
    if (spec_map_open(c, n, path, line, &m) < 0) {
        spec_map_fini(&m);
        return;
    }
    char p[400];
    entry_t *f;
    hp_spec_objective_t o = {0};
    int before = c->errors;
    if ((f = spec_map_get(&m, "metric")) != NULL) {
        val_t v = spec_entry_val(c, &m, f, p, sizeof p);
        if (spec_get_metric(c, &v, p, &o.metric) == 0) {
            *metric_line = v.line;
            for (size_t i = 0; i < s->objective.n_list; i++)
                if (strcmp(s->objective.list[i].metric, o.metric) == 0)
                    spec_err(c, v.line, p,
                             "metric '%s' is objective[%zu] already (each objective is a "
                             "different metric)",
                             o.metric, i);
        }
    } else {
        spec_missing(c, &m, "metric", "(the metric to optimize, e.g. val_error)");
    }
    if ((f = spec_map_get(&m, "goal")) != NULL) {
        val_t v = spec_entry_val(c, &m, f, p, sizeof p);
        int g;
        if (spec_get_enum(c, &v, p, "goal", hp_spec_goal_names, 2, &g) == 0)
            o.goal = (hp_goal_t)g;
    }
    if ((f = spec_map_get(&m, "human_error")) != NULL) {
        val_t v = spec_entry_val(c, &m, f, p, sizeof p);
        if (idx)
            spec_err(c, v.line, p,
                     "applies to the first objective only (the report's bias-variance "
                     "diagnosis reads it)");
        else if (spec_get_number(c, &v, p, 0, INFINITY, ">= 0", &s->objective.human_error) ==
                 0)
            s->objective.has_human_error = 1;
    }
    if ((f = spec_map_get(&m, "target")) != NULL) {
        val_t v = spec_entry_val(c, &m, f, p, sizeof p);
        spec_err(c, v.line, p,
                 "needs a single objective: with several the study has a Pareto front, no "
                 "one best trial to hold against a target");
    }
    static const char *const known[] = {"metric", "goal", "human_error", "target"};
    spec_map_unknown(c, &m, known, HP_ARRAY_LEN(known));
    if (c->errors == before && o.metric)
        s->objective.list[s->objective.n_list++] = o;
    else
        free(o.metric);
    spec_map_fini(&m);
}

void spec_parse_objective_list(ctx_t *c, entry_t *e, int *lines)
{
    hp_spec_t *s = c->spec;
    int count = fy_node_sequence_item_count(e->val);
    if (count == 0) {
        spec_err(c, e->line, "objective",
                 "is an empty list: give {metric: NAME, goal: minimize|maximize}, or a list of "
                 "them for several objectives");
        return;
    }
    if (count > HP_SPEC_MAX_OBJECTIVES) {
        spec_err(c, e->line, "objective", "has %d objectives (at most %d)", count,
                 HP_SPEC_MAX_OBJECTIVES);
        return;
    }
    s->objective.list = calloc((size_t)count, sizeof *s->objective.list);
    HP_ASSERT(s->objective.list != NULL);
    int before = c->errors, idx = 0, entry_lines[HP_SPEC_MAX_OBJECTIVES] = {0};
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(e->val, &it)) != NULL) {
        char ip[64];
        snprintf(ip, sizeof ip, "objective[%d]", idx);
        val_t iv = spec_classify(c, item, ip, e->line);
        if (iv.kind != K_MAP) {
            if (iv.kind != K_BAD)
                spec_type_err(c, &iv, ip,
                              "an objective ({metric: NAME, goal: minimize|maximize})");
        } else {
            parse_entry(c, item, ip, iv.line, (size_t)idx, &entry_lines[idx]);
        }
        idx++;
    }
    if (c->errors != before) {
        /* entries may be missing: the list is not the study's */
        for (size_t i = 0; i < s->objective.n_list; i++)
            free(s->objective.list[i].metric);
        free(s->objective.list);
        s->objective.list = NULL;
        s->objective.n_list = 0;
        return;
    }
    s->objective.metric = spec_strdup(s->objective.list[0].metric);
    s->objective.goal = s->objective.list[0].goal;
    for (int i = 0; i < count; i++)
        lines[i] = entry_lines[i];
    if (count == 1) { /* one objective, written as a list: the mapping */
        free(s->objective.list[0].metric);
        free(s->objective.list);
        s->objective.list = NULL;
        s->objective.n_list = 0;
    }
}

void spec_check_several(ctx_t *c, const entry_t *e)
{
    const hp_spec_t *s = c->spec;
    if (!s->objective.n_list || !e)
        return;
    if (s->search.algorithm == HP_ALGO_COARSE_TO_FINE)
        spec_err(c, e->line, "objective",
                 "coarse-to-fine takes a single objective (it narrows around the best trials, "
                 "and several objectives have a front, not a best); use bayes, random, sobol "
                 "or grid");
    if (s->pruning.rule != HP_PRUNE_NONE)
        spec_err(c, e->line, "objective",
                 "several objectives cannot be pruned (a rule compares trials on one curve, "
                 "and a trial behind on one objective may be on the front by another); drop "
                 "the pruning section or keep one objective");
    if (s->search.n_warm_start)
        spec_err(c, e->line, "objective",
                 "several objectives cannot warm-start (search.warm_start gives the earlier "
                 "studies' single value, not every objective)");
}
