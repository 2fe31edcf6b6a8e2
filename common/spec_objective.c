/* objective.metric held against what the study's trial can report: a
 * benchmark function reports only `value`, a built-in model only the
 * metrics its engine measures. A spec whose trials can never report the
 * objective would fail every trial, so validation refuses it. An external
 * command may print any metric: nothing is known of it here. */
#include "spec_int.h"

#include "baselines.h"
#include "err.h"
#include "suggest.h"

#include <stdio.h>
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

void spec_check_objective(ctx_t *c, int line)
{
    const hp_spec_t *s = c->spec;
    const char *m = s->objective.metric;
    if (!m || !line)
        return;
    if (s->trial.kind == HP_TRIAL_FUNCTION) {
        if (strcmp(m, "value") != 0)
            spec_err(c, line, "objective.metric",
                     "objective.metric is '%s' but function %s reports only 'value'", m,
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
            spec_err(c, line, "objective.metric",
                     "objective.metric is '%s' but model %s reports it only with a "
                     "test-distribution shift (set trial.dataset.shift)",
                     m, model);
        return;
    }
    char known[300], hint[80] = "";
    spec_join(known, sizeof known, model_objectives, HP_ARRAY_LEN(model_objectives));
    const char *near = hp_suggest_closest(m, strlen(m), model_objectives,
                                          HP_ARRAY_LEN(model_objectives));
    if (near)
        snprintf(hint, sizeof hint, "; did you mean '%s'?", near);
    spec_err(c, line, "objective.metric",
             "objective.metric is '%s' but model %s reports %s (and shift_val_loss, "
             "shift_val_error with a dataset shift)%s",
             m, model, known, hint);
}
