/* The words a study spec is written in: one table per enum (what the
 * parser accepts, in enum order) and the hp_*_name lookups that print
 * them. */
#include "spec_int.h"

#include "err.h"

const char *const hp_spec_goal_names[2] = {"minimize", "maximize"};
const char *const hp_spec_algo_names[5] = {"grid", "random", "sobol",
                                           "coarse-to-fine", "bayes"};
const char *const hp_spec_acquisition_names[2] = {"logei", "ucb"};
const char *const hp_spec_model_names[7] = {"mlp",    "lenet", "lstm",     "multimodal",
                                            "resnet", "tcn",   "attention"};
const char *const hp_spec_function_names[4] = {"branin", "hartmann6",
                                               "rosenbrock", "ackley"};
const char *const hp_spec_task_names[2] = {"classification", "regression"};
const char *const hp_spec_normalize_names[4] = {"standardize", "unit",
                                                "centered", "none"};
const char *const hp_spec_shift_names[4] = {"none", "darken", "noise", "same"};
const char *const hp_spec_adapt_names[2] = {"none", "coral"};
const char *const hp_spec_param_type_names[3] = {"float", "int", "categorical"};
const char *const hp_spec_datasets[1] = {"fashion-mnist"};

#define NAME_OF(table, v)                                                  \
    ((unsigned)(v) < HP_ARRAY_LEN(table) ? (table)[(unsigned)(v)] : "?")

const char *hp_goal_name(hp_goal_t g) { return NAME_OF(hp_spec_goal_names, g); }
const char *hp_algo_name(hp_algo_t a) { return NAME_OF(hp_spec_algo_names, a); }
const char *hp_acquisition_name(hp_acquisition_t a)
{
    return NAME_OF(hp_spec_acquisition_names, a);
}
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
const char *hp_adapt_name(hp_adapt_t a) { return NAME_OF(hp_spec_adapt_names, a); }
const char *hp_param_type_name(hp_param_type_t t)
{
    return NAME_OF(hp_spec_param_type_names, t);
}
