/*
 * spec.h — study specs: parse a YAML (or JSON) study file into an
 * hp_spec_t, validate every field, and write it back as canonical JSON.
 *
 * A spec names the study, its objective, how to search, the search space
 * and what one trial runs (a built-in model, a built-in benchmark function
 * or an external command). docs/spec.md is the user reference for every
 * field and default.
 *
 *     hp_spec_t spec;
 *     hp_diag_t diag = {0};
 *     if (hp_spec_load(&spec, "study.yaml", &diag) < 0) {
 *         for (size_t i = 0; i < diag.n; i++)
 *             fprintf(stderr, "%s\n", diag.items[i].text);
 *         // study.yaml:7: space.lr.low: must be > 0 for a log-scaled ...
 *     } else {
 *         hp_buf_t json = {0};
 *         hp_spec_to_json(&spec, &json);   // what the daemon stores
 *         hp_spec_fini(&spec);
 *         hp_buf_fini(&json);
 *     }
 *     hp_diag_fini(&diag);
 *
 * Every problem is collected (not just the first) as one diagnostic with
 * file, line and field path. Hostile input is bounded: files above
 * HP_SPEC_MAX_BYTES are refused before reading them, NUL bytes and YAML
 * aliases are refused, nesting is capped by libfyaml's depth limit, and
 * libfyaml's own messages become diagnostics instead of stderr output.
 *
 * A parsed spec is read-only afterwards; any thread may read it.
 */
#ifndef HP_SPEC_H
#define HP_SPEC_H

#include "buf.h"
#include "diag.h"
#include "space.h"

#include <stddef.h>
#include <stdint.h>

#define HP_SPEC_MAX_BYTES (1024 * 1024) /* larger files are refused */
#define HP_SPEC_VERSION 1               /* the `version` field, if given */
#define HP_SPEC_NAME_MAX 64             /* study name, including the NUL */

typedef enum hp_goal {
    HP_GOAL_MINIMIZE = 0,
    HP_GOAL_MAXIMIZE = 1,
} hp_goal_t;

typedef enum hp_algo {
    HP_ALGO_GRID = 0,
    HP_ALGO_RANDOM = 1,
    HP_ALGO_SOBOL = 2,
    HP_ALGO_COARSE_TO_FINE = 3,
    HP_ALGO_BAYES = 4,
} hp_algo_t;

/* bayes' acquisition function (search.acquisition; docs/search.md) */
typedef enum hp_acquisition {
    HP_ACQ_LOGEI = 0, /* LogEI; the bound of width 1 while trials run */
    HP_ACQ_UCB = 1,   /* the confidence bound mean - kappa sd, always */
} hp_acquisition_t;

typedef enum hp_trial_kind {
    HP_TRIAL_MODEL = 0,    /* built-in training: trial.model */
    HP_TRIAL_FUNCTION = 1, /* built-in benchmark function: trial.function */
    HP_TRIAL_COMMAND = 2,  /* external program: trial.command */
} hp_trial_kind_t;

typedef enum hp_model {
    HP_MODEL_MLP = 0,
    HP_MODEL_LENET = 1,
    HP_MODEL_LSTM = 2,
    HP_MODEL_MULTIMODAL = 3, /* a CSV's image columns through a CNN, its features through a dense layer */
    HP_MODEL_RESNET = 4,     /* the guide's "for later": images */
    HP_MODEL_TCN = 5,        /* sequences: temporal convolutions */
    HP_MODEL_ATTENTION = 6,  /* sequences: a self-attention encoder */
} hp_model_t;

typedef enum hp_function {
    HP_FUNC_BRANIN = 0,     /* x1, x2 */
    HP_FUNC_HARTMANN6 = 1,  /* x1..x6 */
    HP_FUNC_ROSENBROCK = 2, /* x1..xd, d >= 2 */
    HP_FUNC_ACKLEY = 3,     /* x1..xd, d >= 2 */
} hp_function_t;

typedef enum hp_task {
    HP_TASK_CLASSIFICATION = 0,
    HP_TASK_REGRESSION = 1,
} hp_task_t;

typedef enum hp_normalize {
    HP_NORM_STANDARDIZE = 0, /* mean 0, std 1 from the training split */
    HP_NORM_UNIT = 1,        /* scale to [0,1] */
    HP_NORM_CENTERED = 2,    /* scale to [-0.5,0.5] */
    HP_NORM_NONE = 3,
} hp_normalize_t;

typedef enum hp_shift {
    HP_SHIFT_NONE = 0,
    HP_SHIFT_DARKEN = 1, /* synthesized test distribution (images) */
    HP_SHIFT_NOISE = 2,
    HP_SHIFT_SAME = 3, /* no shift, but still a test-distribution validation set */
} hp_shift_t;

typedef enum hp_adapt {
    HP_ADAPT_NONE = 0,
    HP_ADAPT_CORAL = 1, /* align the training inputs' covariance with the test distribution's */
} hp_adapt_t;

typedef enum hp_value_kind {
    HP_VALUE_NUMBER = 0,
    HP_VALUE_STRING = 1,
    HP_VALUE_BOOL = 2,
    HP_VALUE_LIST = 3, /* a list of scalars, e.g. mlp `hidden: [256, 128]` */
} hp_value_kind_t;

/* A value from the spec (trial.fixed, trial.env): `text` is what the trial
 * sees (numbers in canonical form, booleans as "true"/"false", lists as
 * canonical JSON such as "[256,128]"). */
typedef struct hp_spec_value {
    char *name;
    hp_value_kind_t kind;
    char *text;
    double num; /* HP_VALUE_NUMBER: the number; HP_VALUE_BOOL: 0 or 1 */
} hp_spec_value_t;

typedef struct hp_spec_dataset {
    char *source;          /* built-in name ("fashion-mnist") or CSV path */
    int is_path;           /* source is a CSV file path */
    char *label;           /* CSV label column (name or 0-based index);
                              NULL = the last column */
    hp_task_t task;        /* default classification */
    uint64_t train_subset; /* use this many training examples; 0 = all */
    double validation_fraction; /* held out from train; default 0.1 */
    hp_normalize_t normalize;   /* default standardize */
    hp_shift_t shift;           /* test-distribution shift; default none */
    int augment;                /* random shift/flip for images; default 0 */
    hp_adapt_t adapt;           /* domain adaptation; default none */
    /* CSV with several modalities (docs/spec.md#several-input-modalities):
     * comma-separated column names or prefix* patterns, NULL = unset;
     * image_shape "C,H,W" */
    char *image_columns, *image_shape, *feature_columns;
    /* a sequence CSV: the columns (as image_columns) and sequence_shape
     * "T,F" (time steps, features per step); NULL = not a sequence */
    char *sequence_columns, *sequence_shape;
} hp_spec_dataset_t;

#define HP_SPEC_MAX_OBJECTIVES 8 /* entries of an objective list */

/* One of several objectives (`objective:` given as a list). */
typedef struct hp_spec_objective {
    char *metric;
    hp_goal_t goal;
} hp_spec_objective_t;

typedef struct hp_spec {
    int version; /* HP_SPEC_VERSION */
    char name[HP_SPEC_NAME_MAX];

    struct {
        char *metric;
        hp_goal_t goal;     /* default minimize */
        int has_human_error;
        double human_error; /* irreducible error, in the metric's units */
        /* "meets requirements": hpsearch autopilot stops once the chosen
         * trial's objective is at or better than this (docs/autopilot.md) */
        int has_target;
        double target;
        /* several objectives (`objective:` a list of two or more; docs/
         * search.md "Several objectives"): every entry in spec order, the
         * first also in metric/goal above, which stay what trials.value
         * and everything with one objective in mind use. NULL and 0 for a
         * single objective; use hp_spec_n_objectives and friends. */
        hp_spec_objective_t *list;
        size_t n_list;
    } objective;

    struct {
        hp_algo_t algorithm; /* default random */
        uint64_t max_trials; /* >= 1; grid: 0 = the whole grid */
        uint32_t parallelism; /* >= 1, default 1 */
        uint64_t seed;        /* default 0 */
        int sanity_check;     /* default 1 for trial.model, else 0 */
        /* the study gives up (ends failed) after this many failed trials
         * in a row, or before any success after min(3, max_failures);
         * 0 = never; default 5 (docs/spec.md) */
        uint32_t max_failures;
        /* coarse-to-fine */
        uint32_t rounds;           /* default 4 */
        uint64_t trials_per_round; /* default ceil(max_trials / rounds) */
        uint32_t top_k;            /* 0 = use top_fraction */
        double top_fraction;       /* default 0.25 when top_k is 0 */
        double shrink;             /* range factor per round; default 0.5 */
        /* bayes */
        uint32_t n_initial; /* Sobol points first; default min(10, max_trials) */
        hp_acquisition_t acquisition; /* default logei */
        double kappa; /* ucb: the bound's width in standardized units; default 1 */
        /* bayes and coarse-to-fine: earlier studies (by name, in the same
         * database) whose completed trials the sampler starts from */
        char **warm_start;
        size_t n_warm_start;
    } search;

    hp_space_t space;

    /* early stopping (common/pruner.h; docs/pruning.md) */
    struct {
        int rule;             /* hp_prune_rule_t; default none */
        char *metric;         /* NULL: the objective's metric */
        hp_goal_t goal;       /* default: the objective's goal */
        int64_t min_resource; /* asha, hyperband: default 1 */
        int64_t max_resource; /* default trial.epochs for a model */
        int64_t eta;          /* reduction_factor; default 3 */
        uint32_t brackets;    /* hyperband: 0 = all */
        int64_t warmup_steps; /* median: default 0 */
        int64_t interval_steps; /* median: default 1 */
        uint32_t min_trials;  /* median: completed trials first; the rank
                               * check: completed trials at a rung; default 5 */
        double min_rank_corr; /* asha, hyperband: min_rank_correlation; 0 = off */
        int pruned_value;     /* hp_pruned_value_t: what bayes learns from a
                               * pruned trial; default projected */
    } pruning;

    /* constraints: a completed trial is feasible when every constraint's
     * metric, as the trial finally reported it, lies within its bounds;
     * an infeasible trial is never the best (docs/spec.md) */
    struct hp_spec_constraint {
        char *metric;
        int has_min, has_max;
        double min, max; /* inclusive */
    } *constraints;
    size_t n_constraints;

    struct {
        hp_trial_kind_t kind;
        /* HP_TRIAL_MODEL */
        hp_model_t model;
        hp_spec_dataset_t dataset;
        uint32_t epochs; /* default 10 */
        /* HP_TRIAL_FUNCTION */
        hp_function_t function;
        uint32_t dim;  /* number of x params */
        double noise;  /* std of Gaussian noise added; default 0 */
        /* HP_TRIAL_COMMAND */
        char **argv;   /* argc strings (+ NULL), with {param} placeholders */
        size_t argc;
        hp_spec_value_t *env; /* extra environment, all HP_VALUE_STRING */
        size_t n_env;
        char *workdir; /* NULL = the worker's directory */
        /* every kind */
        hp_spec_value_t *fixed; /* hyperparameters held constant */
        size_t n_fixed;
        double timeout;   /* seconds per attempt; 0 = none (default) */
        uint32_t retries; /* extra attempts after a failure; default 2 */
        double kill_grace; /* commands: SIGTERM -> SIGKILL seconds; default 10 */
    } trial;

    char *source; /* file name given to the parser ("" if none) */
    char *raw;    /* the spec text as read, NUL-terminated */
    size_t raw_len;
    /* What is valid but likely not meant (1.0e-400, which reads as 0), one
     * diagnostic each like the errors; not part of the study (never
     * compared, never stored). The CLI prints them as
     * FILE:LINE: PATH: warning: MESSAGE. */
    hp_diag_t warnings;
} hp_spec_t;

/* hp_spec_init zeroes spec; hp_spec_fini frees it (safe on zeroed memory
 * and after a failed parse). */
void hp_spec_init(hp_spec_t *spec);
void hp_spec_fini(hp_spec_t *spec);

/* hp_spec_parse parses text (len bytes, need not be NUL-terminated) named
 * file (used in diagnostics; may be NULL) into spec (uninitialised). YAML
 * and JSON both work. Returns 0 (spec->warnings holds what is valid but
 * likely not meant), or HP_EINVAL with at least one diagnostic added to
 * diag — the warnings among them, their message starting "warning: " —
 * and spec left zeroed. */
int hp_spec_parse(hp_spec_t *spec, const char *text, size_t len,
                  const char *file, hp_diag_t *diag);

/* hp_spec_load reads path ("-" is stdin) and parses it. Files larger than
 * HP_SPEC_MAX_BYTES are refused without reading them whole. Returns 0,
 * HP_EINVAL (invalid spec), HP_ENOENT or HP_EIO, with diagnostics. */
int hp_spec_load(hp_spec_t *spec, const char *path, hp_diag_t *diag);

/* hp_spec_to_json appends spec as canonical JSON: every field, defaults
 * filled in, a fixed key order. Parsing the output gives an equal spec. */
void hp_spec_to_json(const hp_spec_t *spec, hp_buf_t *out);

/* hp_spec_trial_to_json appends just the `trial` section as canonical JSON:
 * what the coordinator sends a worker with each trial. */
void hp_spec_trial_to_json(const hp_spec_t *spec, hp_buf_t *out);

/* hp_spec_dataset_key appends the study's dataset key: a canonical JSON
 * object naming the data a built-in model's trials train and test on —
 * the trial's dataset section (without `augment`, which changes neither
 * the splits nor the test set), search.seed, and under "fixed" any
 * trial.fixed setting that changes the splits or inputs (those with a
 * data_key in common/trial_settings.def: dataset, data_dir, label, task,
 * val_size, train_size, test_size, shift, shift_val_size, normalize,
 * seed), e.g.
 *
 *     {"name":"fashion-mnist","train_subset":2000,"validation_fraction":0.1,
 *      "normalize":"standardize","shift":"darken","seed":7}
 *
 * The simple baselines depend on nothing else the spec says, so the
 * coordinator computes them once per key (studies.dataset_key; the
 * baselines table). Returns 0, or -1 with
 * nothing appended when the study has no key: its trial is not a built-in
 * model, or its search space varies one of those settings. Any thread. */
int hp_spec_dataset_key(const hp_spec_t *spec, hp_buf_t *out);

struct hp_pruner_config;
/* pruning.pruned_value: how bayes models a trial the rule stopped, at its
 * value projected to the end from the curves of the trials that completed
 * (hp_pruner_projection), or no better than the worst completed trial */
typedef enum {
    HP_PRUNED_PROJECTED = 0,
    HP_PRUNED_WORST,
} hp_pruned_value_t;

/* hp_spec_pruning_projects: whether bayes models the study's pruned
 * trials at their projections (pruned_value projected, and the rule
 * judges the objective's own metric and goal, so a projection is an
 * objective value). */
int hp_spec_pruning_projects(const hp_spec_t *spec);

/* hp_spec_pruning_config fills a pruner's config from the spec's pruning
 * section; returns 1 when a rule is on, 0 for none. */
int hp_spec_pruning_config(const hp_spec_t *spec, struct hp_pruner_config *out);
/* hp_spec_pruning_metric: the metric the pruning rule judges. */
const char *hp_spec_pruning_metric(const hp_spec_t *spec);
/* hp_spec_pruning_equal: whether two specs prune the same way. */
int hp_spec_pruning_equal(const hp_spec_t *a, const hp_spec_t *b);

/* hp_spec_feasible judges a completed trial by the spec's constraints:
 * value_of(data, metric, &v) gives the trial's final value of a metric
 * (returning 0 when it never reported it). Returns 1 when every
 * constraint holds (and with no constraints), else 0 with why, e.g.
 * "memory_mb = 2500 is above max 2000" or "it never reported memory_mb". */
int hp_spec_feasible(const hp_spec_t *spec,
                     int (*value_of)(void *data, const char *metric, double *v), void *data,
                     char *why, size_t whylen);

/* hp_spec_n_objectives: how many objectives the study has (1, or the
 * list's length); hp_spec_objective_metric and hp_spec_objective_goal
 * name objective i (0 = objective.metric). Any thread. */
size_t hp_spec_n_objectives(const hp_spec_t *spec);
const char *hp_spec_objective_metric(const hp_spec_t *spec, size_t i);
hp_goal_t hp_spec_objective_goal(const hp_spec_t *spec, size_t i);

/* hp_spec_value_json appends one fixed/env value as JSON (a number, string,
 * boolean or list). */
void hp_spec_value_json(const hp_spec_value_t *v, hp_buf_t *out);

/* hp_spec_equal reports whether two specs mean the same study (the raw
 * text and source name are not compared). */
int hp_spec_equal(const hp_spec_t *a, const hp_spec_t *b);

/* hp_spec_find_fixed returns the fixed value called name, or NULL. */
const hp_spec_value_t *hp_spec_find_fixed(const hp_spec_t *spec, const char *name);

/* Names as written in specs, e.g. hp_algo_name(HP_ALGO_COARSE_TO_FINE) is
 * "coarse-to-fine". */
const char *hp_goal_name(hp_goal_t g);
const char *hp_algo_name(hp_algo_t a);
const char *hp_acquisition_name(hp_acquisition_t a);
const char *hp_model_name(hp_model_t m);
const char *hp_function_name(hp_function_t f);
const char *hp_task_name(hp_task_t t);
const char *hp_normalize_name(hp_normalize_t n);
const char *hp_shift_name(hp_shift_t s);
const char *hp_adapt_name(hp_adapt_t a);
const char *hp_param_type_name(hp_param_type_t t);

#endif
