/* The `pruning:` section of a study spec: which early-stopping rule
 * (common/pruner.h) judges the trials, on which metric, at which steps.
 * Read after `objective` and `trial`, whose metric, goal and epochs are its
 * defaults. */
#include "spec_int.h"

#include "err.h"
#include "pruner.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define MAX_RESOURCE_STEPS 1000000000000LL /* 1e12 steps: any real run fits */

static const char *const rule_words[] = {"none", "median", "asha", "hyperband"};

/* which rules a key belongs to, as a mask of 1 << rule */
#define R(rule) (1u << (rule))
#define RUNGS (R(HP_PRUNE_ASHA) | R(HP_PRUNE_HYPERBAND))

static const struct {
    const char *key;
    unsigned rules;
    const char *owners; /* for the message */
} keys[] = {
    {"min_resource", RUNGS, "asha and hyperband"},
    {"max_resource", RUNGS | R(HP_PRUNE_MEDIAN), "asha, hyperband and median"},
    {"reduction_factor", RUNGS, "asha and hyperband"},
    {"brackets", R(HP_PRUNE_HYPERBAND), "hyperband"},
    {"warmup_steps", R(HP_PRUNE_MEDIAN), "median"},
    {"interval_steps", R(HP_PRUNE_MEDIAN), "median"},
    {"min_trials", R(HP_PRUNE_MEDIAN) | RUNGS, "median, asha and hyperband"},
    {"min_rank_correlation", RUNGS, "asha and hyperband"},
    {"pruned_value", RUNGS | R(HP_PRUNE_MEDIAN), "asha, hyperband and median"},
};

static const char *const pruned_value_words[] = {"projected", "worst"};

static const char *objective_metric(const hp_spec_t *s)
{
    return s->objective.metric ? s->objective.metric : "value";
}

/* whether the rule judges the objective's own metric and goal */
static int judges_objective(const hp_spec_t *s)
{
    return strcmp(hp_spec_pruning_metric(s), objective_metric(s)) == 0 &&
           s->pruning.goal == s->objective.goal;
}

static void get_i64(ctx_t *c, map_t *m, entry_t *e, int64_t lo, int64_t *out)
{
    char p[300];
    val_t v = spec_entry_val(c, m, e, p, sizeof p);
    uint64_t u;
    if (spec_get_uint(c, &v, p, (uint64_t)lo, (uint64_t)MAX_RESOURCE_STEPS, &u) == 0)
        *out = (int64_t)u;
}

void spec_parse_pruning(ctx_t *c, map_t *root)
{
    hp_spec_t *s = c->spec;
    s->pruning.rule = HP_PRUNE_NONE;
    s->pruning.goal = s->objective.goal;
    s->pruning.min_resource = 1;
    s->pruning.eta = 3;
    s->pruning.interval_steps = 1;
    s->pruning.min_trials = 5;
    entry_t *e = spec_map_get(root, "pruning");
    if (!e)
        return;
    map_t m;
    if (spec_map_open(c, e->val, "pruning", e->line, &m) < 0) {
        spec_map_fini(&m);
        return;
    }
    char p[300];
    entry_t *f;
    int rule_ok = 0, rule_line = e->line;
    if ((f = spec_map_get(&m, "rule")) != NULL) {
        val_t v = spec_entry_val(c, &m, f, p, sizeof p);
        int r;
        rule_line = v.line;
        if (spec_get_enum(c, &v, p, "rule", rule_words, HP_ARRAY_LEN(rule_words), &r) == 0) {
            s->pruning.rule = r;
            rule_ok = 1;
        }
    } else {
        spec_missing(c, &m, "rule", "(none, median, asha or hyperband)");
    }
    int metric_line = 0, brackets_line = 0, warmup_line = 0;
    if ((f = spec_map_get(&m, "metric")) != NULL) {
        val_t v = spec_entry_val(c, &m, f, p, sizeof p);
        metric_line = v.line;
        spec_get_metric(c, &v, p, &s->pruning.metric);
    }
    if ((f = spec_map_get(&m, "goal")) != NULL) {
        val_t v = spec_entry_val(c, &m, f, p, sizeof p);
        int g;
        if (spec_get_enum(c, &v, p, "goal", hp_spec_goal_names, 2, &g) == 0)
            s->pruning.goal = (hp_goal_t)g;
    }
    int has_max = 0, max_line = 0, min_line = 0, eta_line = 0, min_trials_line = 0;
    int projected_line = 0;
    for (size_t i = 0; i < HP_ARRAY_LEN(keys); i++) {
        if (!(f = spec_map_get(&m, keys[i].key)))
            continue;
        if (rule_ok && !(keys[i].rules & R(s->pruning.rule))) {
            spec_subpath(p, sizeof p, m.path, f->key, f->klen);
            spec_err(c, f->line, p, "only applies to rule %s (this study's rule is %s)",
                     keys[i].owners, rule_words[s->pruning.rule]);
            continue;
        }
        switch (i) {
        case 0:
            min_line = f->line;
            get_i64(c, &m, f, 1, &s->pruning.min_resource);
            break;
        case 1:
            max_line = f->line;
            has_max = 1;
            get_i64(c, &m, f, 2, &s->pruning.max_resource);
            break;
        case 2:
            eta_line = f->line;
            get_i64(c, &m, f, 2, &s->pruning.eta);
            break;
        case 3: {
            int64_t b = 0;
            brackets_line = f->line;
            get_i64(c, &m, f, 1, &b);
            s->pruning.brackets = b > 1000 ? 1000 : (uint32_t)b;
            break;
        }
        case 4:
            warmup_line = f->line;
            get_i64(c, &m, f, 0, &s->pruning.warmup_steps);
            break;
        case 5:
            get_i64(c, &m, f, 1, &s->pruning.interval_steps);
            break;
        case 7: {
            val_t v = spec_entry_val(c, &m, f, p, sizeof p);
            double x;
            if (spec_get_number(c, &v, p, 0, 1,
                                "between 0 and 1 (a Spearman rank correlation; 0: no check)",
                                &x) == 0)
                s->pruning.min_rank_corr = x;
            break;
        }
        case 8: {
            val_t v = spec_entry_val(c, &m, f, p, sizeof p);
            int w;
            if (spec_get_enum(c, &v, p, "pruned_value", pruned_value_words,
                              HP_ARRAY_LEN(pruned_value_words), &w) == 0) {
                s->pruning.pruned_value = w;
                if (w == HP_PRUNED_PROJECTED)
                    projected_line = v.line;
            }
            break;
        }
        case 6: {
            min_trials_line = f->line;
            int64_t n = 0;
            get_i64(c, &m, f, 0, &n);
            s->pruning.min_trials = n > 1000000000 ? 1000000000 : (uint32_t)n;
            break;
        }
        }
    }
    static const char *const known[] = {"rule",         "metric",          "goal",
                                        "min_resource", "max_resource",    "reduction_factor",
                                        "brackets",     "warmup_steps",    "interval_steps",
                                        "min_trials",   "min_rank_correlation",
                                        "pruned_value"};
    spec_map_unknown(c, &m, known, HP_ARRAY_LEN(known));
    spec_map_fini(&m);
    if (!rule_ok || s->pruning.rule == HP_PRUNE_NONE)
        return;

    /* what the trial can be judged on */
    if (s->trial.kind == HP_TRIAL_FUNCTION) {
        spec_err(c, rule_line, "pruning.rule",
                 "needs trials that report at steps (trial.model or trial.command); a benchmark "
                 "function reports one value");
        return;
    }
    /* a built-in model reports these at every epoch (worker/runner/
     * run_model.c); anything else (test_error) only at its end, too late
     * to judge a step by */
    static const char *const per_epoch[] = {"train_loss",      "train_error",     "val_loss",
                                            "val_error",       "shift_val_loss",  "shift_val_error",
                                            "lr",              "samples_per_sec", "seconds"};
    if (s->trial.kind == HP_TRIAL_MODEL && metric_line && s->pruning.metric &&
        spec_word_in(s->pruning.metric, strlen(s->pruning.metric), per_epoch,
                     HP_ARRAY_LEN(per_epoch)) < 0) {
        char words[200]; /* the four learning metrics, first in the list */
        spec_join(words, sizeof words, per_epoch, 4);
        spec_err(c, metric_line, "pruning.metric",
                 "'%s' is not reported at every epoch by model %s, so no step could be judged "
                 "on it: use %s (or shift_val_loss, shift_val_error with a dataset shift)",
                 s->pruning.metric, hp_model_name(s->trial.model), words);
    }
    int rungs = s->pruning.rule == HP_PRUNE_ASHA || s->pruning.rule == HP_PRUNE_HYPERBAND;
    /* median: optional, so a trial is not judged at its last step (where
     * stopping it would save nothing and lose its result) */
    if (!has_max) {
        if (s->trial.kind == HP_TRIAL_MODEL)
            s->pruning.max_resource = s->trial.epochs;
        else if (rungs)
            spec_err(c, rule_line, "pruning.max_resource",
                     "is needed with rule %s for a command: the step at which a trial is "
                     "complete (its last step=N)",
                     rule_words[s->pruning.rule]);
    }
    if (has_max && s->trial.kind == HP_TRIAL_MODEL &&
        s->pruning.max_resource > (int64_t)s->trial.epochs)
        spec_err(c, max_line, "pruning.max_resource",
                 "%" PRId64 " is beyond trial.epochs (%u): a model's steps are its epochs",
                 s->pruning.max_resource, s->trial.epochs);
    if (rungs && s->pruning.max_resource &&
        s->pruning.min_resource >= s->pruning.max_resource)
        spec_err(c, min_line ? min_line : max_line ? max_line : rule_line, "pruning.min_resource",
                 "(%" PRId64 ") must be below pruning.max_resource (%" PRId64
                 "), the step at which a trial is complete",
                 s->pruning.min_resource, s->pruning.max_resource);
    if (s->pruning.rule == HP_PRUNE_HYPERBAND && brackets_line && s->pruning.max_resource &&
        s->pruning.min_resource >= 1 && s->pruning.eta >= 2 &&
        s->pruning.min_resource < s->pruning.max_resource) {
        uint32_t possible = hp_pruner_schedule_brackets(
            s->pruning.min_resource, s->pruning.max_resource, s->pruning.eta);
        if (s->pruning.brackets > possible)
            spec_err(c, brackets_line, "pruning.brackets",
                     "%u is more than the %u that min_resource %" PRId64 ", max_resource %" PRId64
                     " and reduction_factor %" PRId64 " allow",
                     s->pruning.brackets, possible, s->pruning.min_resource,
                     s->pruning.max_resource, s->pruning.eta);
    }
    if (s->pruning.rule == HP_PRUNE_MEDIAN && warmup_line && s->pruning.max_resource &&
        s->pruning.warmup_steps >= s->pruning.max_resource)
        spec_err(c, warmup_line, "pruning.warmup_steps",
                 "(%" PRId64 ") must be below pruning.max_resource (%" PRId64
                 "): the median rule judges no step before it, and none at the end",
                 s->pruning.warmup_steps, s->pruning.max_resource);
    if (rungs && min_trials_line && !(s->pruning.min_rank_corr > 0))
        spec_err(c, min_trials_line, "pruning.min_trials",
                 "with rule %s counts the completed trials the rank check needs at a rung; "
                 "set pruning.min_rank_correlation (above 0) too",
                 rule_words[s->pruning.rule]);
    /* a projection is of the pruning metric: bayes can take it as an
     * objective value only if the two are the same */
    if (projected_line && !judges_objective(s))
        spec_err(c, projected_line, "pruning.pruned_value",
                 "projected needs the rule to judge the objective itself (%s, %s); this study "
                 "prunes on %s (%s): set pruned_value: worst, or prune on the objective",
                 objective_metric(s), hp_goal_name(s->objective.goal), hp_spec_pruning_metric(s),
                 hp_goal_name(s->pruning.goal));
    (void)eta_line;
}

int hp_spec_pruning_projects(const hp_spec_t *s)
{
    return s->pruning.rule != HP_PRUNE_NONE && s->pruning.pruned_value == HP_PRUNED_PROJECTED &&
           judges_objective(s);
}

int hp_spec_pruning_config(const hp_spec_t *s, hp_pruner_config_t *out)
{
    memset(out, 0, sizeof *out);
    out->rule = (hp_prune_rule_t)s->pruning.rule;
    out->metric = hp_spec_pruning_metric(s);
    out->maximize = s->pruning.goal == HP_GOAL_MAXIMIZE;
    out->min_resource = s->pruning.min_resource;
    out->max_resource = s->pruning.max_resource;
    out->eta = s->pruning.eta;
    out->brackets = s->pruning.brackets;
    out->warmup_steps = s->pruning.warmup_steps;
    out->interval_steps = s->pruning.interval_steps;
    out->min_trials = s->pruning.min_trials;
    out->min_rank_corr = s->pruning.min_rank_corr;
    return out->rule != HP_PRUNE_NONE;
}

const char *hp_spec_pruning_metric(const hp_spec_t *s)
{
    return s->pruning.metric ? s->pruning.metric : objective_metric(s);
}

int hp_spec_pruning_equal(const hp_spec_t *a, const hp_spec_t *b)
{
    if (a->pruning.rule != b->pruning.rule)
        return 0;
    if (a->pruning.rule == HP_PRUNE_NONE)
        return 1;
    return strcmp(hp_spec_pruning_metric(a), hp_spec_pruning_metric(b)) == 0 &&
           a->pruning.goal == b->pruning.goal &&
           a->pruning.min_resource == b->pruning.min_resource &&
           a->pruning.max_resource == b->pruning.max_resource &&
           a->pruning.eta == b->pruning.eta && a->pruning.brackets == b->pruning.brackets &&
           a->pruning.warmup_steps == b->pruning.warmup_steps &&
           a->pruning.interval_steps == b->pruning.interval_steps &&
           a->pruning.min_trials == b->pruning.min_trials &&
           a->pruning.min_rank_corr == b->pruning.min_rank_corr &&
           a->pruning.pruned_value == b->pruning.pruned_value;
}
