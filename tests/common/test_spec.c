/*
 * Study spec parser: malformed specs report the exact field path and line,
 * every mistake is collected, valid specs (the examples/ files, JSON input)
 * round-trip through canonical JSON, and hostile input is refused cleanly.
 */
#include "buf.h"
#include "diag.h"
#include "err.h"
#include "pruner.h"
#include "spec.h"

#include "hp_check.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reusable blocks; the comments give the lines they occupy. */
#define HEAD "name: t\nobjective:\n  metric: value\n"                    /* 1-3 */
/* the same lines for a built-in model, which reports no `value` */
#define MHEAD "name: t\nobjective:\n  metric: val_error\n"               /* 1-3 */
#define SEARCH "search:\n  algorithm: random\n  max_trials: 10\n"        /* 4-6 */
#define SPACE                                                              \
    "space:\n  x1: {type: float, low: -5, high: 10}\n"                     \
    "  x2: {type: float, low: 0, high: 15}\n"                              /* 7-9 */
#define TRIAL "trial:\n  function: branin\n"                              /* 10-11 */
#define CMD "trial:\n  command: [prog]\n"                                 /* 2 lines */
#define MSPACE "space:\n  lr: {type: float, low: 1e-4, high: 1e-1, log: true}\n" /* 7-8 */
#define MODEL "trial:\n  model: mlp\n  dataset: fashion-mnist\n"          /* 3 lines */

typedef struct bad {
    const char *yaml;
    const char *path; /* the field the error names */
    int line;
    const char *msg;  /* substring of the message */
} bad_t;

static const bad_t bad_specs[] = {
    /* top level */
    {HEAD SEARCH SPACE TRIAL "extra: 1\n", "extra", 12, "unknown key"},
    {HEAD SEARCH SPACE TRIAL "nmae: x\n", "nmae", 12, "did you mean 'name'?"},
    {"objective:\n  metric: loss\n" SEARCH SPACE TRIAL, "name", 1, "is required"},
    {"name: my study!\nobjective:\n  metric: loss\n" SEARCH SPACE TRIAL, "name", 1,
     "not a valid study name"},
    {"name: 42\nobjective:\n  metric: loss\n" SEARCH SPACE TRIAL, "name", 1, "all digits"},
    {"version: 2\n" HEAD SEARCH SPACE TRIAL, "version", 1, "not supported"},
    {"- name: t\n- search: x\n", "", 1, "expected a mapping"},
    {HEAD SEARCH SPACE TRIAL "name: u\n", "name", 12, "duplicate key (first given on line 1)"},
    /* objective */
    {"name: t\n" SEARCH SPACE TRIAL, "objective", 1, "is required"},
    {"name: t\nobjective:\n  goal: minimize\n" SEARCH SPACE TRIAL, "objective.metric", 2,
     "is required"},
    {HEAD "  goal: minimise\n" SEARCH SPACE TRIAL, "objective.goal", 4,
     "did you mean 'minimize'?"},
    {"name: t\nobjective: [loss]\n" SEARCH SPACE TRIAL, "objective[0]", 2,
     "expected an objective ({metric: NAME, goal: minimize|maximize}), got a string"},
    /* several objectives (a list) */
    {"name: t\nobjective: []\n" SEARCH SPACE CMD, "objective", 2, "is an empty list"},
    {"name: t\nobjective:\n  - {metric: a}\n  - {metric: a}\n" SEARCH SPACE CMD,
     "objective[1].metric", 4, "metric 'a' is objective[0] already"},
    {"name: t\nobjective:\n  - {metric: a}\n  - {metric: b, goal: maximise}\n" SEARCH SPACE CMD,
     "objective[1].goal", 4, "did you mean 'maximize'?"},
    {"name: t\nobjective:\n  - {metric: a, target: 0.1}\n  - {metric: b}\n" SEARCH SPACE CMD,
     "objective[0].target", 3, "needs a single objective"},
    {"name: t\nobjective:\n  - {metric: a}\n  - {metric: b, human_error: 0.1}\n" SEARCH
         SPACE CMD,
     "objective[1].human_error", 4, "applies to the first objective only"},
    {"name: t\nobjective:\n  - {metric: a}\n  - {goal: minimize}\n" SEARCH SPACE CMD,
     "objective[1].metric", 2, "is required"},
    {"name: t\nobjective:\n  - {metric: a, gaol: maximize}\n  - {metric: b}\n" SEARCH SPACE
         CMD,
     "objective[0].gaol", 3, "did you mean 'goal'?"},
    {"name: t\nobjective:\n  - {metric: a}\n  - {metric: ''}\n" SEARCH SPACE CMD,
     "objective[1].metric", 4, "must not be empty"},
    {"name: t\nobjective:\n  - {metric: a}\n  - {metric: b c}\n" SEARCH SPACE CMD,
     "objective[1].metric", 4, "not a valid metric name"},
    {"name: t\nobjective: [{metric: a}, {metric: b}, {metric: c}, {metric: d}, {metric: e}, "
     "{metric: f}, {metric: g}, {metric: h}, {metric: i}]\n" SEARCH SPACE CMD,
     "objective", 2, "has 9 objectives (at most 8)"},
    {"name: t\nobjective: [{metric: a}, {metric: b}]\nsearch:\n  algorithm: coarse-to-fine\n"
     "  max_trials: 10\n" SPACE CMD,
     "objective", 2, "coarse-to-fine takes a single objective"},
    {"name: t\nobjective: [{metric: a}, {metric: b}]\n" SEARCH SPACE CMD
     "pruning: {rule: median}\n",
     "objective", 2, "several objectives cannot be pruned"},
    {"name: t\nobjective: [{metric: a}, {metric: b}]\nsearch:\n  algorithm: bayes\n"
     "  max_trials: 10\n  warm_start: [old]\n" SPACE CMD,
     "objective", 2, "several objectives cannot warm-start"},
    {"name: t\nobjective: [{metric: value}, {metric: loss}]\n" SEARCH SPACE TRIAL,
     "objective[1].metric", 2, "objective[1].metric is 'loss' but function branin reports only"},
    {HEAD "  human_error: -0.1\n" SEARCH SPACE TRIAL, "objective.human_error", 4, ">= 0"},
    {"name: t\nobjective:\n  metric: val loss\n" SEARCH SPACE TRIAL, "objective.metric", 3,
     "not a valid metric name"},
    /* an objective the trial can never report: every trial would fail */
    {"name: t\nobjective:\n  metric: loss\n" SEARCH SPACE TRIAL, "objective.metric", 3,
     "objective.metric is 'loss' but function branin reports only 'value'"},
    {"name: t\nobjective: {metric: val_eror}\n" SEARCH MSPACE MODEL, "objective.metric", 2,
     "objective.metric is 'val_eror' but model mlp reports train_loss, train_error, val_loss, "
     "val_error, test_loss, test_error (and shift_val_loss, shift_val_error with a dataset "
     "shift); did you mean 'val_error'?"},
    {"name: t\nobjective: {metric: shift_val_error}\n" SEARCH MSPACE MODEL, "objective.metric",
     2, "objective.metric is 'shift_val_error' but model mlp reports it only with a "
        "test-distribution shift (set trial.dataset.shift)"},
    /* search */
    {HEAD "search:\n  algorithm: random\n  max_trials: 10\n  max_failures: -1\n" SPACE TRIAL,
     "search.max_failures", 7, ">= 0"},
    {HEAD "search:\n  algorithm: random\n  max_trials: 10\n  max_failures: 2.5\n" SPACE TRIAL,
     "search.max_failures", 7, "whole number"},
    {HEAD "search:\n  algorithm: hyperband\n  max_trials: 10\n" SPACE TRIAL,
     "search.algorithm", 5, "(known: grid, random, sobol, coarse-to-fine, bayes)"},
    /* search.warm_start: adaptive algorithms only, names of other studies */
    {HEAD SEARCH "  warm_start: [a]\n" SPACE TRIAL, "search.warm_start", 7,
     "only bayes and coarse-to-fine learn from earlier trials (this study's algorithm is "
     "random)"},
    {HEAD "search:\n  algorithm: bayes\n  max_trials: 10\n  warm_start: [a, t]\n" SPACE TRIAL,
     "search.warm_start[1]", 7, "'t' is this study"},
    {HEAD "search:\n  algorithm: bayes\n  max_trials: 10\n  warm_start: [a, a]\n" SPACE TRIAL,
     "search.warm_start[1]", 7, "names 'a' twice"},
    {HEAD "search:\n  algorithm: bayes\n  max_trials: 10\n  warm_start: [a b]\n" SPACE TRIAL,
     "search.warm_start[0]", 7, "not a valid study name"},
    {HEAD "search:\n  algorithm: bayes\n  max_trials: 10\n  warm_start: {a: 1}\n" SPACE TRIAL,
     "search.warm_start", 7, "a list of study names"},
    {HEAD "search:\n  algorithm: coarse-to-fine\n  max_trials: 10\n  warm_start: 17\n" SPACE
         TRIAL,
     "search.warm_start", 7, "all digits"},
    {HEAD "search:\n  algorithm: bayes\n  max_trials: 10\n  warm_startt: [a]\n" SPACE TRIAL,
     "search.warm_startt", 7, "did you mean 'warm_start'?"},
    {HEAD "search:\n  algorithm: random\n  max_trial: 10\n" SPACE TRIAL, "search.max_trial",
     6, "did you mean 'max_trials'?"},
    {HEAD "search:\n  algorithm: random\n" SPACE TRIAL, "search.max_trials", 4, "is required"},
    {HEAD "search:\n  algorithm: random\n  max_trials: 0\n" SPACE TRIAL, "search.max_trials",
     6, "must be >= 1 (got 0)"},
    {HEAD "search:\n  algorithm: random\n  max_trials: ten\n" SPACE TRIAL,
     "search.max_trials", 6, "expected a whole number, got a string ('ten')"},
    {HEAD "search:\n  algorithm: random\n  max_trials: 2.5\n" SPACE TRIAL,
     "search.max_trials", 6, "must be a whole number"},
    {HEAD SEARCH "  parallelism: 0\n" SPACE TRIAL, "search.parallelism", 7, "must be >= 1"},
    {HEAD SEARCH "  seed: -1\n" SPACE TRIAL, "search.seed", 7, "must be >= 0"},
    {HEAD SEARCH "  n_initial: 5\n" SPACE TRIAL, "search.n_initial", 7,
     "only applies to algorithm bayes (this study's algorithm is random)"},
    {HEAD "search:\n  algorithm: bayes\n  max_trials: 10\n  rounds: 3\n" SPACE TRIAL,
     "search.rounds", 7, "only applies to algorithm coarse-to-fine"},
    {HEAD "search:\n  algorithm: bayes\n  max_trials: 10\n  n_initial: 11\n" SPACE TRIAL,
     "search.n_initial", 7, "must be <= max_trials (10)"},
    /* search.acquisition and search.kappa: bayes only; kappa > 0 with ucb */
    {HEAD SEARCH "  acquisition: ucb\n" SPACE TRIAL, "search.acquisition", 7,
     "only applies to algorithm bayes (this study's algorithm is random)"},
    {HEAD SEARCH "  kappa: 2\n" SPACE TRIAL, "search.kappa", 7,
     "only applies to algorithm bayes (this study's algorithm is random)"},
    {HEAD "search:\n  algorithm: bayes\n  max_trials: 10\n  acquisition: ei\n" SPACE TRIAL,
     "search.acquisition", 7, "unknown acquisition 'ei'"},
    {HEAD "search:\n  algorithm: bayes\n  max_trials: 10\n  acquisition: ucbb\n" SPACE TRIAL,
     "search.acquisition", 7, "(did you mean 'ucb'? known: logei, ucb)"},
    {HEAD "search:\n  algorithm: bayes\n  max_trials: 10\n  acquisition: 1\n" SPACE TRIAL,
     "search.acquisition", 7, "expected acquisition"},
    {HEAD "search:\n  algorithm: bayes\n  max_trials: 10\n  acquisition: ucb\n  kappa: 0\n"
         SPACE TRIAL,
     "search.kappa", 8, "must be > 0"},
    {HEAD "search:\n  algorithm: bayes\n  max_trials: 10\n  acquisition: ucb\n  kappa: -1\n"
         SPACE TRIAL,
     "search.kappa", 8, "must be > 0 and at most 100 (got -1)"},
    {HEAD "search:\n  algorithm: bayes\n  max_trials: 10\n  acquisition: ucb\n  kappa: wide\n"
         SPACE TRIAL,
     "search.kappa", 8, "expected a number, got a string ('wide')"},
    {HEAD "search:\n  algorithm: bayes\n  max_trials: 10\n  acquisition: ucb\n  kappa: .inf\n"
         SPACE TRIAL,
     "search.kappa", 8, "finite"},
    {HEAD "search:\n  algorithm: bayes\n  max_trials: 10\n  kappa: 2\n" SPACE TRIAL,
     "search.kappa", 7, "only applies to acquisition ucb (this study's acquisition is logei)"},
    {HEAD "search:\n  algorithm: bayes\n  max_trials: 10\n  kappa: 2\n  acquisition: logei\n"
         SPACE TRIAL,
     "search.kappa", 7, "only applies to acquisition ucb (this study's acquisition is logei)"},
    {HEAD "search:\n  algorithm: coarse-to-fine\n  max_trials: 10\n  top_k: 2\n"
          "  top_fraction: 0.5\n" SPACE TRIAL,
     "search.top_fraction", 8, "either top_k or top_fraction"},
    {HEAD "search:\n  algorithm: coarse-to-fine\n  max_trials: 10\n  shrink: 1.5\n" SPACE TRIAL,
     "search.shrink", 7, "in (0, 1)"},
    {HEAD "search:\n  algorithm: coarse-to-fine\n  max_trials: 10\n  rounds: 2\n"
          "  trials_per_round: 3\n" SPACE TRIAL,
     "search.trials_per_round", 8, "less than max_trials (10)"},
    {HEAD SEARCH "  sanity_check: yes\n" SPACE TRIAL, "search.sanity_check", 7,
     "YAML 1.1 booleans"},
    {HEAD SEARCH "  sanity_check: true\n" SPACE TRIAL, "search.sanity_check", 7,
     "needs a built-in model"},
    {HEAD "search:\n  algorithm: random\n  max_trials: !!str 10\n" SPACE TRIAL,
     "search.max_trials", 6, "YAML tags"},
    /* constraints */
    {HEAD SEARCH SPACE CMD "constraints: {metric: mem, max: 1}\n", "constraints", 12,
     "expected a list of constraints"},
    {HEAD SEARCH SPACE CMD "constraints: [mem]\n", "constraints[0]", 12,
     "expected a constraint"},
    {HEAD SEARCH SPACE CMD "constraints: [{max: 1}]\n", "constraints[0].metric", 12,
     "is required"},
    {HEAD SEARCH SPACE CMD "constraints: [{metric: mem}]\n", "constraints[0]", 12,
     "bounds nothing: give max"},
    {HEAD SEARCH SPACE CMD "constraints: [{metric: mem, max: lots}]\n",
     "constraints[0].max", 12, "expected a number, got a string ('lots')"},
    {HEAD SEARCH SPACE CMD "constraints: [{metric: mem, min: 2, max: 1}]\n",
     "constraints[0].min", 12, "must be <= max (got min 2, max 1): no trial could be feasible"},
    {HEAD SEARCH SPACE CMD "constraints: [{metric: mem, maximum: 1}]\n",
     "constraints[0].maximum", 12, "unknown key (known: metric, min, max)"},
    {HEAD SEARCH SPACE CMD "constraints: [{metric: m m, max: 1}]\n",
     "constraints[0].metric", 12, "not a valid metric name"},
    {HEAD SEARCH SPACE CMD "constraints: [{metric: mem, max: 1}, {metric: mem, min: 0}]\n",
     "constraints[1].metric", 12, "metric 'mem' has a constraint already"},
    {HEAD SEARCH SPACE CMD "constraints: [{metric: mem, max: .nan}]\n",
     "constraints[0].max", 12, "finite"},
    {HEAD SEARCH SPACE TRIAL "constraints: [{metric: x1, max: 0}]\n", "constraints[0].metric",
     12, "function branin reports only 'value', never 'x1'"},
    /* conditional parameters: when: and default: */
#define CSEARCH "search:\n  algorithm: random\n  max_trials: 10\n" /* 4-6 */
#define OPT "space:\n  opt: {type: categorical, values: [sgd, adam]}\n" /* 7-8 */
    /* found by fuzz_spec: a parameter that is not a mapping, beside the
     * conditional checks (its `when` was freed unread) */
    {HEAD CSEARCH OPT "  m: 5\n" CMD, "space.m", 9, "expected a mapping (key: value lines), got a number (5)"},
    {HEAD CSEARCH OPT "  m: {type: float, low: 0, high: 1, when: {optt: sgd}}\n" CMD,
     "space.m.when.optt", 9, "'optt' names no parameter in the space (did you mean 'opt'?)"},
    {HEAD CSEARCH OPT "  m: {type: float, low: 0, high: 1, when: {opt: sgdd}}\n" CMD,
     "space.m.when.opt", 9,
     "'sgdd' is not one of opt's values (sgd, adam), so the condition could never hold"},
    {HEAD CSEARCH OPT "  m: {type: float, low: 0, high: 1, when: {opt: [sgd, nag]}}\n" CMD,
     "space.m.when.opt[1]", 9, "'nag' is not one of opt's values"},
    {HEAD CSEARCH OPT "  m: {type: float, low: 0, high: 1}\n"
                      "  k: {type: int, low: 0, high: 3, when: {m: 1}}\n" CMD,
     "space.k.when.m", 10, "'m' is a float parameter; a condition's parent must be categorical"},
    {HEAD CSEARCH OPT "  n: {type: int, low: 1, high: 3}\n"
                      "  k: {type: int, low: 0, high: 3, when: {n: 3}}\n" CMD,
     "space.k.when.n", 10, "'n' is an int parameter"},
    {HEAD CSEARCH OPT "  a: {type: categorical, values: [x, y], when: {b: x}}\n"
                      "  b: {type: categorical, values: [x, y], when: {a: x}}\n" CMD,
     "space.a.when", 9, "the conditions form a cycle (a -> b -> a"},
    {HEAD CSEARCH OPT "  a: {type: categorical, values: [x, y], when: {a: x}}\n" CMD,
     "space.a.when.a", 9, "cannot be conditional on itself"},
    {HEAD CSEARCH OPT "  m: {type: float, low: 0, high: 1, when: {opt: []}}\n" CMD,
     "space.m.when.opt", 9, "lists no value (the condition could never hold)"},
    {HEAD CSEARCH OPT "  m: {type: float, low: 0, high: 1, when: {opt: [sgd, sgd]}}\n" CMD,
     "space.m.when.opt[1]", 9, "names 'sgd' twice"},
    {HEAD CSEARCH OPT "  m: {type: float, low: 0, high: 1, when: {}}\n" CMD, "space.m.when", 9,
     "is empty"},
    {HEAD CSEARCH OPT "  a: {type: categorical, values: [x, y]}\n"
                      "  m: {type: float, low: 0, high: 1, when: {opt: sgd, a: x}}\n" CMD,
     "space.m.when", 10, "names 2 parameters; a condition names one parent"},
    {HEAD CSEARCH OPT "  m: {type: float, low: 0, high: 1, when: sgd}\n" CMD, "space.m.when", 9,
     "expected a mapping naming one categorical parameter"},
    {HEAD CSEARCH OPT "  m: {type: float, low: 0, high: 1, when: {opt: {x: 1}}}\n" CMD,
     "space.m.when.opt", 9, "expected a value"},
    {HEAD CSEARCH OPT "  m: {type: float, low: 0, high: 1, default: 0.5}\n" CMD,
     "space.m.default", 9, "only a conditional parameter (with when:) takes a default"},
    {HEAD CSEARCH OPT "  m: {type: float, low: 0, high: 1, when: {opt: sgd}, default: [1]}\n" CMD,
     "space.m.default", 9, "expected a value"},
    /* a placeholder of a parameter that may be inactive needs a default */
    {HEAD CSEARCH OPT "  m: {type: float, low: 0, high: 1, when: {opt: sgd}}\n"
                      "trial:\n  command: [prog, '--m={m}']\n",
     "trial.command[1]", 11,
     "placeholder {m} names a conditional parameter (when: {opt: ...}), which trials leave "
     "out while it is inactive; give space.m a default:"},
    /* a nested parameter's placeholder too, though its own parent is not conditional */
    {HEAD CSEARCH OPT "  s: {type: categorical, values: [x, y], when: {opt: sgd}, default: x}\n"
                      "  m: {type: float, low: 0, high: 1, when: {s: x}}\n"
                      "trial:\n  command: [prog, '{s}', '{m}']\n",
     "trial.command[2]", 12, "placeholder {m} names a conditional parameter"},
    {HEAD "search:\n  algorithm: coarse-to-fine\n  max_trials: 10\n" OPT
          "  m: {type: float, low: 0, high: 1, when: {opt: sgd}}\n" CMD,
     "space.m.when", 9, "coarse-to-fine does not take conditional parameters"},
#undef OPT
#undef CSEARCH
    /* space */
    {HEAD "search:\n  algorithm: grid\n  max_trials: 10\n"
          "space:\n  x1: {type: float, low: 0, high: 1, grid_points: 100000}\n"
          "  x2: {type: float, low: 0, high: 1, grid_points: 100000}\n"
          "  x3: {type: float, low: 0, high: 1, grid_points: 100000}\n"
          "  x4: {type: float, low: 0, high: 1, grid_points: 100000}\n"
          "trial:\n  function: rosenbrock\n",
     "space", 7, "the grid has more than 2^64 points (overflow at parameter x4)"},
    {HEAD SEARCH "space:\n  lr: {type: float, low: -1, high: 1, log: true}\n" CMD,
     "space.lr.low", 8, "must be > 0 for a log-scaled parameter (got -1)"},
    {HEAD SEARCH "space:\n  lr:\n    type: float\n    low: 2\n    high: 1\n" CMD,
     "space.lr.low", 10, "must be < high (got low 2, high 1)"},
    {HEAD SEARCH "space:\n  lr: {type: float, low: small, high: 1}\n" CMD, "space.lr.low", 8,
     "expected a number, got a string ('small')"},
    {HEAD SEARCH "space:\n  lr:\n    type: float\n    low: 0\n" CMD, "space.lr.high", 8,
     "is required for a float parameter"},
    {HEAD SEARCH "space:\n  act: {type: categorical, values: []}\n" CMD, "space.act.values",
     8, "must not be empty"},
    {HEAD SEARCH "space:\n  act:\n    type: categorical\n" CMD, "space.act.values", 8,
     "is required for a categorical parameter"},
    {HEAD SEARCH "space:\n  act:\n    type: categorical\n    values:\n      - relu\n"
                 "      - tanh\n      - relu\n" CMD,
     "space.act.values[2]", 13, "duplicate value 'relu' (also space.act.values[0])"},
    {HEAD SEARCH "space:\n  act:\n    type: categorical\n    values: [a, b]\n    low: 1\n" CMD,
     "space.act.low", 11, "not used by categorical parameters"},
    {HEAD SEARCH "space:\n  n: {type: int, low: 1.5, high: 8}\n" CMD, "space.n.low", 8,
     "whole number for an int parameter"},
    {HEAD SEARCH "space:\n  n: {type: int, low: 0, high: 8, log: true}\n" CMD, "space.n.low",
     8, "must be > 0 for a log-scaled parameter"},
    {HEAD SEARCH "space:\n  n:\n    type: int\n    low: 0\n    high: 8\n    step: 16\n" CMD,
     "space.n.step", 12, "must be <= high - low"},
    {HEAD SEARCH "space:\n  lr: {type: flaot, low: 0, high: 1}\n" CMD, "space.lr.type", 8,
     "did you mean 'float'?"},
    {HEAD SEARCH "space:\n  lr: {low: 0, high: 1}\n" CMD, "space.lr.type", 8, "is required"},
    {HEAD SEARCH "space:\n  2lr: {type: float, low: 0, high: 1}\n" CMD, "space.2lr", 8,
     "not a valid parameter name"},
    {HEAD SEARCH "space:\n  lr: {type: float, low: 0, high: 1}\n"
                 "  lr: {type: float, low: 0, high: 2}\n" CMD,
     "space.lr", 9, "duplicate key (first given on line 8)"},
    {HEAD SEARCH "space:\n  - lr\n" CMD, "space", 7, "expected a mapping"},
    {HEAD SEARCH "space: {}\n" CMD, "space", 7, "at least one parameter"},
    {HEAD "search:\n  algorithm: grid\nspace:\n  n: {type: int, low: 1, high: 3}\n"
          "  lr: {type: float, low: 0, high: 1}\n" CMD,
     "space.lr", 8, "grid search needs 'values', 'grid_points' or 'step'"},
    {HEAD SEARCH "space:\n  n: {type: int, low: 1, high: 3, grid_points: 3}\n" CMD,
     "space.n.grid_points", 8, "only used by float parameters"},
    {HEAD SEARCH "space:\n  lr:\n    type: float\n    low: 0\n    high: 1\n"
                 "    values: [0.5, 2]\n" CMD,
     "space.lr.values[1]", 12, "outside [low, high]"},
    {HEAD SEARCH "space:\n  lr:\n    type: float\n    low: 0\n    hihg: 1\n" CMD,
     "space.lr.hihg", 11, "did you mean 'high'?"},
    {HEAD SEARCH "space:\n  x1: &p {type: float, low: 0, high: 1}\n  x2: *p\n" TRIAL,
     "space.x2", 9, "aliases"},
    /* trial */
    {HEAD SEARCH SPACE, "trial", 1, "is required"},
    {HEAD SEARCH SPACE "trial:\n  timeout: 5\n", "trial", 10, "needs one of 'model'"},
    {HEAD SEARCH SPACE "trial:\n  function: branin\n  model: mlp\n", "trial.model", 12,
     "cannot be combined with trial.function"},
    {HEAD SEARCH SPACE "trial:\n  model: vgg\n  dataset: fashion-mnist\n", "trial.model",
     11, "known: mlp, lenet, lstm, multimodal, resnet, tcn, attention)"},
    {HEAD SEARCH "space:\n  lr: {type: float, low: 0, high: 1}\ntrial:\n  model: mlp\n"
                 "  dataset: fashion-mnist\n  fixed:\n    lr: 0.1\n",
     "trial.fixed.lr", 13, "also in space"},
    {HEAD SEARCH "space:\n  lr: {type: float, low: 0, high: 1}\ntrial:\n"
                 "  command: [prog, --lr, \"{lr}\", \"{momentum}\"]\n",
     "trial.command[3]", 10, "placeholder {momentum} names no parameter"},
    {HEAD SEARCH "space:\n  lr: {type: float, low: 0, high: 1}\ntrial:\n"
                 "  command: prog --lr={lr\n",
     "trial.command", 10, "unterminated placeholder"},
    {HEAD SEARCH SPACE "trial:\n  command: []\n", "trial.command", 11, "must name a program"},
    {HEAD SEARCH SPACE "trial:\n  command: {prog: x}\n", "trial.command", 11,
     "expected a list of arguments"},
    {HEAD SEARCH SPACE "trial:\n  command: [prog]\n  env:\n    HPSEARCH_X: 1\n",
     "trial.env.HPSEARCH_X", 13, "reserved"},
    {HEAD SEARCH SPACE "trial:\n  function: branin\n  epochs: 3\n", "trial.epochs", 12,
     "only applies with trial.model"},
    {HEAD SEARCH "space:\n  x1: {type: float, low: 0, high: 1}\n" TRIAL, "trial.function", 10,
     "x2 is missing"},
    {HEAD SEARCH SPACE "trial:\n  function: hartmann6\n", "trial.function", 11,
     "x1..x6 in space (x3 is missing)"},
    {HEAD SEARCH "space:\n  x1: {type: float, low: 0, high: 1}\n"
                 "  x2: {type: categorical, values: [a, b]}\n"
                 "trial:\n  function: rosenbrock\n",
     "space.x2", 9, "not categorical"},
    {HEAD SEARCH SPACE "  y: {type: float, low: 0, high: 1}\n" TRIAL, "space.y", 10,
     "takes parameters x1, x2, ... only"},
    {HEAD SEARCH SPACE "trial:\n  function: branin\n  noise: -1\n", "trial.noise", 12, ">= 0"},
    {HEAD SEARCH SPACE "trial:\n  model: mlp\n  dataset: mnist\n", "trial.dataset", 12,
     "unknown dataset 'mnist'"},
    {HEAD SEARCH SPACE "trial:\n  model: mlp\n  dataset:\n    name: fashion-mnist\n"
                       "    path: data.csv\n",
     "trial.dataset.path", 14, "not both"},
    {HEAD SEARCH SPACE "trial:\n  model: mlp\n  dataset:\n    name: fashion-mnist\n"
                       "    label: y\n",
     "trial.dataset.label", 14, "only applies to CSV datasets"},
    /* issue 18: adaptation needs a target distribution; the modalities a CSV */
    {HEAD SEARCH SPACE "trial:\n  model: mlp\n  dataset:\n    name: fashion-mnist\n"
                       "    adapt: coral\n",
     "trial.dataset.adapt", 14, "coral needs unlabeled inputs of the test distribution"},
    {HEAD SEARCH SPACE "trial:\n  model: mlp\n  dataset:\n    name: fashion-mnist\n"
                       "    shift: darken\n    adapt: dann\n",
     "trial.dataset.adapt", 15, "unknown adaptation 'dann'"},
    {HEAD SEARCH SPACE "trial:\n  model: mlp\n  dataset:\n    name: fashion-mnist\n"
                       "    image_shape: [1, 28, 28]\n",
     "trial.dataset.image_shape", 14, "only applies to CSV datasets"},
    {HEAD SEARCH SPACE "trial:\n  model: mlp\n  dataset:\n    path: d.csv\n"
                       "    image_columns: \"px*\"\n",
     "trial.dataset.image_shape", 14, "is required with trial.dataset.image_columns"},
    {HEAD SEARCH SPACE "trial:\n  model: mlp\n  dataset:\n    path: d.csv\n"
                       "    image_columns: \"px*\"\n    image_shape: [1, 8]\n",
     "trial.dataset.image_shape", 15, "must be a list [C, H, W]"},
    {HEAD SEARCH SPACE "trial:\n  model: multimodal\n  dataset: d.csv\n", "trial.model", 11,
     "multimodal needs a CSV dataset with image_columns"},
    {HEAD SEARCH SPACE "trial:\n  model: lenet\n  dataset:\n    path: d.csv\n"
                       "    image_columns: \"px*\"\n    image_shape: [1, 8, 8]\n",
     "trial.model", 11, "lenet does not read dataset.image_columns"},
    {HEAD SEARCH SPACE "trial:\n  model: resnet\n  dataset:\n    path: d.csv\n"
                       "    image_columns: \"px*\"\n    image_shape: [1, 8, 8]\n",
     "trial.model", 11, "resnet does not read dataset.image_columns"},
    {HEAD SEARCH SPACE "trial:\n  model: attention\n  dataset:\n    path: d.csv\n"
                       "    image_columns: \"px*\"\n    image_shape: [1, 8, 8]\n",
     "trial.model", 11, "attention does not read dataset.image_columns"},
    /* a sequence CSV: both keys, a [T, F] shape, alone as the input, and
     * a model that reads sequences (or flattens them) */
    {HEAD SEARCH SPACE "trial:\n  model: lstm\n  dataset:\n    path: d.csv\n"
                       "    sequence_columns: \"s*\"\n",
     "trial.dataset.sequence_shape", 14, "is required with trial.dataset.sequence_columns"},
    {HEAD SEARCH SPACE "trial:\n  model: lstm\n  dataset:\n    path: d.csv\n"
                       "    sequence_shape: [20, 1]\n",
     "trial.dataset.sequence_columns", 14, "is required with trial.dataset.sequence_shape"},
    {HEAD SEARCH SPACE "trial:\n  model: lstm\n  dataset:\n    path: d.csv\n"
                       "    sequence_columns: \"s*\"\n    sequence_shape: [20]\n",
     "trial.dataset.sequence_shape", 15,
     "must be a list [T, F] (time steps, features per step) of two whole numbers"},
    {HEAD SEARCH SPACE "trial:\n  model: lstm\n  dataset:\n    path: d.csv\n"
                       "    sequence_columns: \"s*\"\n    sequence_shape: 20\n",
     "trial.dataset.sequence_shape", 15, "must be a list [T, F]"},
    {HEAD SEARCH SPACE "trial:\n  model: lstm\n  dataset:\n    path: d.csv\n"
                       "    sequence_columns: \"s*\"\n    sequence_shape: [20, 0]\n",
     "trial.dataset.sequence_shape[1]", 15, ">= 1"},
    {HEAD SEARCH SPACE "trial:\n  model: lstm\n  dataset:\n    path: d.csv\n"
                       "    sequence_columns: [s0, 3]\n    sequence_shape: [2, 1]\n",
     "trial.dataset.sequence_columns[1]", 14, "a column name"},
    {HEAD SEARCH SPACE "trial:\n  model: lstm\n  dataset:\n    name: fashion-mnist\n"
                       "    sequence_columns: \"s*\"\n",
     "trial.dataset.sequence_columns", 14, "only applies to CSV datasets"},
    {HEAD SEARCH SPACE "trial:\n  model: lstm\n  dataset:\n    path: d.csv\n"
                       "    sequence_columns: \"s*\"\n    sequence_shape: [20, 1]\n"
                       "    image_columns: \"px*\"\n    image_shape: [1, 4, 5]\n",
     "trial.dataset.image_columns", 16, "cannot be combined with trial.dataset.sequence_columns"},
    {HEAD SEARCH SPACE "trial:\n  model: lstm\n  dataset:\n    path: d.csv\n"
                       "    sequence_columns: \"s*\"\n    sequence_shape: [20, 1]\n"
                       "    feature_columns: [a]\n",
     "trial.dataset.feature_columns", 16,
     "cannot be combined with trial.dataset.sequence_columns"},
    {HEAD SEARCH SPACE "trial:\n  model: lenet\n  dataset:\n    path: d.csv\n"
                       "    sequence_columns: \"s*\"\n    sequence_shape: [20, 1]\n",
     "trial.model", 11, "lenet reads images, not a sequence: on a sequence dataset "
                        "(trial.dataset.sequence_columns) use lstm, tcn or attention"},
    {HEAD SEARCH SPACE "trial:\n  model: resnet\n  dataset:\n    path: d.csv\n"
                       "    sequence_columns: \"s*\"\n    sequence_shape: [20, 1]\n",
     "trial.model", 11, "resnet reads images, not a sequence"},
    {HEAD SEARCH SPACE "trial:\n  model: multimodal\n  dataset:\n    path: d.csv\n"
                       "    sequence_columns: \"s*\"\n    sequence_shape: [20, 1]\n",
     "trial.model", 11, "multimodal reads images, not a sequence"},
    {HEAD SEARCH SPACE "trial:\n  model: mlp\n  dataset: fashion-mnist\n  epochs: 0\n",
     "trial.epochs", 13, "must be >= 1"},
    {HEAD SEARCH SPACE "trial:\n  function: branin\n  timeout: -5\n", "trial.timeout", 12,
     ">= 0 seconds"},
    /* above the bound, the message names that bound (not ">= 0") */
    {HEAD SEARCH SPACE "trial:\n  function: branin\n  timeout: 1e300\n", "trial.timeout", 12,
     "must be at most 1000000000 seconds (about 31 years; 0 = no limit), got 1e300"},
    /* a number beyond a double's range says so, not "must be finite" */
    {HEAD SEARCH "space:\n  x1: {type: float, low: -1e400, high: 10}\n"
                 "  x2: {type: float, low: 0, high: 15}\n" TRIAL,
     "space.x1.low", 8, "-1e400 is out of range for a number (at most about 1.8e308 in size; "
                        "it would read as -infinity)"},
    {HEAD SEARCH SPACE "trial:\n  function: branin\n  retries: 1000\n", "trial.retries", 12,
     "must be <= 100"},
    {HEAD SEARCH SPACE "trial:\n  command: [prog]\n  fixed:\n    opt: {a: 1}\n",
     "trial.fixed.opt", 13, "expected a number, string, boolean or list, got a mapping"},
    {HEAD SEARCH SPACE "trial:\n  command: [prog]\n  tmeout: 3\n", "trial.tmeout", 12,
     "did you mean 'timeout'?"},
    /* a built-in model takes the engine's settings (common/trial_settings.def) */
    {MHEAD SEARCH "space:\n  lerning_rate: {type: float, low: 1e-4, high: 1e-1}\n" MODEL,
     "space.lerning_rate", 8,
     "unknown setting 'lerning_rate' for a built-in model (known: model, dataset, data_dir, "},
    {MHEAD SEARCH MSPACE MODEL "  fixed: {colour: blue}\n", "trial.fixed.colour", 12,
     "(known: model, dataset, "},
    /* trial.kill_grace: commands only, more than 0, at most an hour */
    {HEAD SEARCH MSPACE CMD "  kill_grace: 0\n", "trial.kill_grace", 11, "must be more than 0"},
    {HEAD SEARCH MSPACE CMD "  kill_grace: 4000\n", "trial.kill_grace", 11, "(0, 3600]"},
    {HEAD SEARCH MSPACE MODEL "  kill_grace: 5\n", "trial.kill_grace", 12,
     "only applies to trial.command"},
    /* pruning (lines: the model's trial ends on 11; pruning: is 12) */
    {MHEAD SEARCH MSPACE MODEL "pruning:\n  rule: ashaa\n", "pruning.rule", 13,
     "did you mean 'asha'?"},
    {MHEAD SEARCH MSPACE MODEL "pruning:\n  metric: loss\n", "pruning.rule", 12,
     "is required (none, median, asha or hyperband)"},
    {MHEAD SEARCH MSPACE MODEL "pruning:\n  rule: asha\n  reduction_factor: 1\n",
     "pruning.reduction_factor", 14, "must be >= 2 (got 1)"},
    {MHEAD SEARCH MSPACE MODEL "pruning:\n  rule: asha\n  min_resource: 5\n  max_resource: 5\n",
     "pruning.min_resource", 14, "(5) must be below pruning.max_resource (5)"},
    {MHEAD SEARCH MSPACE MODEL "pruning:\n  rule: hyperband\n  max_resource: 30\n",
     "pruning.max_resource", 14, "30 is beyond trial.epochs (10)"},
    {MHEAD SEARCH MSPACE MODEL "pruning:\n  rule: asha\n  warmup_steps: 2\n",
     "pruning.warmup_steps", 14, "only applies to rule median (this study's rule is asha)"},
    {MHEAD SEARCH MSPACE MODEL "pruning:\n  rule: median\n  brackets: 2\n", "pruning.brackets",
     14, "only applies to rule hyperband"},
    {MHEAD SEARCH MSPACE MODEL "pruning:\n  rule: asha\n  min_resorce: 2\n",
     "pruning.min_resorce", 14, "did you mean 'min_resource'?"},
    {HEAD SEARCH MSPACE CMD "pruning:\n  rule: asha\n", "pruning.max_resource", 12,
     "is needed with rule asha for a command"},
    {HEAD SEARCH SPACE TRIAL "pruning: {rule: median}\n", "pruning.rule", 12,
     "needs trials that report at steps"},
    {MHEAD SEARCH MSPACE MODEL "pruning:\n  rule: median\n  interval_steps: 0\n",
     "pruning.interval_steps", 14, "must be >= 1"},
    {MHEAD SEARCH MSPACE MODEL "pruning:\n  rule: asha\n  min_rank_correlation: 1.2\n",
     "pruning.min_rank_correlation", 14, "between 0 and 1"},
    {MHEAD SEARCH MSPACE MODEL "pruning:\n  rule: median\n  min_rank_correlation: 0.5\n",
     "pruning.min_rank_correlation", 14, "only applies to rule asha and hyperband"},
    {MHEAD SEARCH MSPACE MODEL "pruning:\n  rule: asha\n  min_trials: 4\n", "pruning.min_trials",
     14, "set pruning.min_rank_correlation (above 0) too"},
    {MHEAD SEARCH MSPACE MODEL "pruning:\n  rule: asha\n  pruned_value: last\n",
     "pruning.pruned_value", 14, "unknown pruned_value 'last' (known: projected, worst)"},
    {MHEAD SEARCH MSPACE MODEL "pruning:\n  rule: asha\n  metric: val_loss\n  pruned_value: "
     "projected\n",
     "pruning.pruned_value", 15,
     "projected needs the rule to judge the objective itself (val_error, minimize); this study "
     "prunes on val_loss (minimize)"},
    {MHEAD SEARCH MSPACE MODEL "pruning:\n  rule: none\n  pruned_value: worst\n",
     "pruning.pruned_value", 14, "only applies to rule asha, hyperband and median"},
    {MHEAD SEARCH MSPACE MODEL "pruning:\n  rule: asha\n  metric: 'val loss'\n",
     "pruning.metric", 14, "'val loss' is not a valid metric name (no spaces or '='"},
    {MHEAD SEARCH MSPACE MODEL "pruning:\n  rule: asha\n  metric: test_error\n",
     "pruning.metric", 14,
     "'test_error' is not reported at every epoch by model mlp, so no step could be judged on "
     "it: use train_loss, train_error, val_loss, val_error"},
    {MHEAD SEARCH MSPACE MODEL "pruning:\n  rule: hyperband\n  max_resource: 9\n  brackets: 4\n",
     "pruning.brackets", 15,
     "4 is more than the 3 that min_resource 1, max_resource 9 and reduction_factor 3 allow"},
    {MHEAD SEARCH MSPACE MODEL "pruning:\n  rule: median\n  warmup_steps: 10\n",
     "pruning.warmup_steps", 14, "(10) must be below pruning.max_resource (10)"},
    {HEAD SEARCH SPACE CMD "pruning:\n  rule: asha\n  max_resource: 9\n  metric: a=b\n",
     "pruning.metric", 15, "'a=b' is not a valid metric name"},
    /* YAML itself */
    {HEAD SEARCH "space:\n  x1: {type: float, low: -5\n", "", 9, "YAML syntax error"},
    {HEAD SEARCH SPACE TRIAL "---\nname: u\n", "", 12, "more than one YAML document"},
    {"name: t\n\tobjective: 1\n", "", 1, "YAML syntax error"},
};

START_TEST(test_bad_spec)
{
    const bad_t *b = &bad_specs[_i];
    hp_spec_t spec;
    hp_diag_t d = {0};
    int rc = hp_spec_parse(&spec, b->yaml, strlen(b->yaml), "study.yaml", &d);
    ck_assert_int_eq(rc, HP_EINVAL);
    const hp_diag_item_t *it = hp_diag_find(&d, b->path);
    if (!it || it->line != b->line || !strstr(it->message, b->msg)) {
        fprintf(stderr, "case %d: want %d %s: ...%s...\ngot:\n", _i, b->line, b->path, b->msg);
        for (size_t i = 0; i < d.n; i++)
            fprintf(stderr, "  %s\n", d.items[i].text);
    }
    ck_assert_ptr_nonnull(it);
    ck_assert_int_eq(it->line, b->line);
    ck_assert_ptr_nonnull(strstr(it->message, b->msg));
    ck_assert_str_eq(it->file, "study.yaml");
    /* the formatted line carries file:line: path: */
    char prefix[256];
    if (*b->path)
        snprintf(prefix, sizeof prefix, "study.yaml:%d: %s: ", b->line, b->path);
    else
        snprintf(prefix, sizeof prefix, "study.yaml:%d: ", b->line);
    ck_assert_int_eq(strncmp(it->text, prefix, strlen(prefix)), 0);
    /* a failed parse leaves nothing behind */
    ck_assert_ptr_null(spec.raw);
    ck_assert_uint_eq(spec.space.n, 0);
    hp_spec_fini(&spec);
    hp_diag_fini(&d);
}
END_TEST

/* A space entry with a mistake is reported once: the checks after it (a
 * benchmark function's x1..xN, a command's placeholders) do not also call
 * it missing. */
START_TEST(test_bad_param_reported_once)
{
    static const char *const yaml[] = {
        HEAD SEARCH "space:\n  x1: {type: float, low: -5, high: 1e999}\n"
                    "  x2: {type: float, low: 0, high: 15}\n" TRIAL,
        HEAD SEARCH "space:\n  lr: {type: float, low: 1e-4, high: 1e999, log: true}\n"
                    "trial:\n  command: [prog, --lr, \"{lr}\"]\n",
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(yaml); i++) {
        hp_spec_t spec;
        hp_diag_t d = {0};
        ck_assert_int_eq(hp_spec_parse(&spec, yaml[i], strlen(yaml[i]), "study.yaml", &d),
                         HP_EINVAL);
        for (size_t k = 0; k < d.n; k++)
            fprintf(stderr, "case %zu: %s\n", i, d.items[k].text);
        ck_assert_uint_eq(d.n, 1);
        ck_assert_ptr_nonnull(strstr(d.items[0].text, "study.yaml:8: space."));
        ck_assert_ptr_nonnull(strstr(d.items[0].text, "high: 1e999 is out of range"));
        hp_spec_fini(&spec);
        hp_diag_fini(&d);
    }
}
END_TEST

/* A built-in model trial's fixed values and space parameters, held against
 * the settings table: each mistake with its whole message. */
typedef struct setting_case {
    const char *yaml;
    const char *text; /* the diagnostic, exactly */
} setting_case_t;

static const setting_case_t setting_specs[] = {
    {MHEAD SEARCH MSPACE MODEL "  fixed:\n    hiden: 64\n",
     "study.yaml:13: trial.fixed.hiden: unknown setting 'hiden' for a built-in model (did you "
     "mean 'hidden'?)"},
    {MHEAD SEARCH MSPACE MODEL "  fixed:\n    dropout: 1.5\n",
     "study.yaml:13: trial.fixed.dropout: must be in [0, 0.99] (got 1.5)"},
    {MHEAD SEARCH MSPACE MODEL "  fixed:\n    optimizer: adamm\n",
     "study.yaml:13: trial.fixed.optimizer: unknown value 'adamm' (choose "
     "adam|adamw|sgd|momentum)"},
    {MHEAD SEARCH MSPACE MODEL "  fixed:\n    batch_size: 1.5\n",
     "study.yaml:13: trial.fixed.batch_size: must be an integer (got 1.5)"},
    {MHEAD SEARCH MSPACE MODEL "  fixed:\n    batchnorm: maybe\n",
     "study.yaml:13: trial.fixed.batchnorm: expected true or false (got 'maybe')"},
    {MHEAD SEARCH MSPACE MODEL "  fixed:\n    hidden: [64, 0]\n",
     "study.yaml:13: trial.fixed.hidden: must be in [1, 1.04858e+06] (got 0)"},
    {MHEAD SEARCH MSPACE MODEL "  fixed:\n    normalize: standardise\n",
     "study.yaml:13: trial.fixed.normalize: unknown value 'standardise' (choose "
     "standard|unit|center|none)"},
    {MHEAD SEARCH "space:\n  dropuot: {type: float, low: 0, high: 0.5}\n" MODEL,
     "study.yaml:8: space.dropuot: unknown setting 'dropuot' for a built-in model (did you "
     "mean 'dropout'?)"},
    {MHEAD SEARCH "space:\n  optimizer: {type: categorical, values: [adam, rmsprop]}\n" MODEL,
     "study.yaml:8: space.optimizer.values[1]: unknown value 'rmsprop' (choose "
     "adam|adamw|sgd|momentum)"},
    {MHEAD SEARCH "space:\n  dropout: {type: float, low: 0, high: 1}\n" MODEL,
     "study.yaml:8: space.dropout: high 1 is outside what dropout takes ([0, 0.99])"},
    {MHEAD SEARCH "space:\n  batch_size: {type: int, low: 0, high: 256}\n" MODEL,
     "study.yaml:8: space.batch_size: low 0 is outside what batch_size takes (1..65536)"},
    {MHEAD SEARCH "space:\n  batch_size: {type: float, low: 16, high: 256}\n" MODEL,
     "study.yaml:8: space.batch_size: batch_size takes whole numbers; a float parameter "
     "samples fractions (use type: int)"},
    {MHEAD SEARCH "space:\n  optimizer: {type: int, low: 1, high: 3}\n" MODEL,
     "study.yaml:8: space.optimizer: optimizer takes one of adam|adamw|sgd|momentum: search it "
     "with a categorical parameter (values: [...])"},
};

/* a number too small for a double reads as 0 (or loses precision): the
 * spec is valid, with a warning naming the field, its line and the text */
START_TEST(test_underflow_warns)
{
    static const char y[] = HEAD SEARCH SPACE "trial:\n  function: branin\n  noise: 1.0e-400\n";
    hp_spec_t spec;
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_spec_parse(&spec, y, strlen(y), "study.yaml", &d), 0);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_uint_eq(spec.warnings.n, 1);
    const hp_diag_item_t *w = &spec.warnings.items[0];
    ck_assert_str_eq(w->path, "trial.noise");
    ck_assert_int_eq(w->line, 12);
    ck_assert_str_eq(w->text, "study.yaml:12: trial.noise: 1.0e-400 is too small for a number "
                              "(the smallest is about 4.9e-324) and reads as 0; write 0 if that "
                              "is meant");
    ck_assert(spec.trial.noise == 0);
    /* a warning is no part of the study */
    hp_spec_t same;
    static const char z[] = HEAD SEARCH SPACE "trial:\n  function: branin\n  noise: 0\n";
    ck_assert_int_eq(hp_spec_parse(&same, z, strlen(z), "study.yaml", &d), 0);
    ck_assert_uint_eq(same.warnings.n, 0);
    ck_assert(hp_spec_equal(&spec, &same));
    hp_spec_fini(&same);
    hp_spec_fini(&spec);
    ck_assert_uint_eq(spec.warnings.n, 0);

    /* subnormal: kept, with the value it reads as */
    static const char sub[] = HEAD SEARCH SPACE "trial:\n  function: branin\n  noise: 1e-310\n";
    ck_assert_int_eq(hp_spec_parse(&spec, sub, strlen(sub), "study.yaml", &d), 0);
    ck_assert_uint_eq(spec.warnings.n, 1);
    ck_assert_msg(strstr(spec.warnings.items[0].message, "1e-310 is below the smallest normal "
                                                         "number (about 2.2e-308) and loses "
                                                         "precision: it reads as 9.99999"),
                  "%s", spec.warnings.items[0].message);
    hp_spec_fini(&spec);

    /* with errors the warning goes with them, marked: here it is why */
    static const char bad[] = HEAD SEARCH
        "space:\n  x1: {type: float, low: 1.0e-400, high: 10, log: true}\n"
        "  x2: {type: float, low: 0, high: 15}\n" TRIAL;
    ck_assert_int_eq(hp_spec_parse(&spec, bad, strlen(bad), "study.yaml", &d), HP_EINVAL);
    int errors = 0, warnings = 0;
    for (size_t i = 0; i < d.n; i++) {
        if (strncmp(d.items[i].message, "warning: 1.0e-400 is too small", 30) == 0)
            warnings++;
        else if (strstr(d.items[i].message, "must be > 0 for a log-scaled parameter (got 0)"))
            errors++;
    }
    ck_assert_int_eq(errors, 1);
    ck_assert_int_eq(warnings, 1);
    hp_spec_fini(&spec);
    hp_diag_fini(&d);
}
END_TEST

START_TEST(test_model_settings_checked)
{
    const setting_case_t *b = &setting_specs[_i];
    hp_spec_t spec;
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_spec_parse(&spec, b->yaml, strlen(b->yaml), "study.yaml", &d), HP_EINVAL);
    if (d.n != 1 || strcmp(d.items[0].text, b->text) != 0) {
        fprintf(stderr, "case %d: want\n  %s\ngot:\n", _i, b->text);
        for (size_t i = 0; i < d.n; i++)
            fprintf(stderr, "  %s\n", d.items[i].text);
    }
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.items[0].text, b->text);
    hp_spec_fini(&spec);
    hp_diag_fini(&d);
}
END_TEST

/* what the table accepts: any setting, including those the spec also sets
 * elsewhere (the runner applies fixed and space after trial.epochs and the
 * study's seed), the spec's own normalize words, and a float over a
 * whole-number setting when its steps are whole; a program's names are its
 * own */
START_TEST(test_model_settings_accepted)
{
    static const char *const ok[] = {
        MHEAD SEARCH MSPACE MODEL
        "  fixed: {hidden: [64, 32], normalize: centered, epochs: 3, seed: 5, baselines: false,"
        " initial_eval: 0, threads: 2, model: linear, dataset: 'csv:x.csv', batchnorm: 1}\n",
        MHEAD SEARCH "space:\n  batch_size: {type: float, low: 16, high: 256, step: 16}\n"
        "  epochs: {type: int, low: 1, high: 20}\n"
        "  normalize: {type: categorical, values: [standardize, unit, center]}\n"
        "  hidden: {type: categorical, values: [32, 64]}\n" MODEL,
        HEAD SEARCH "space:\n  lerning_rate: {type: float, low: 1e-4, high: 1e-1}\n"
        "trial:\n  command: [prog, '{lerning_rate}', '{hiden}']\n"
        "  fixed: {hiden: 64, optimizer: adamm, dropout: 1.5}\n",
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(ok); i++) {
        hp_spec_t spec;
        hp_diag_t d = {0};
        int rc = hp_spec_parse(&spec, ok[i], strlen(ok[i]), "ok.yaml", &d);
        for (size_t k = 0; k < d.n; k++)
            fprintf(stderr, "case %zu: %s\n", i, d.items[k].text);
        ck_assert_int_eq(rc, 0);
        hp_spec_fini(&spec);
        hp_diag_fini(&d);
    }
}
END_TEST

START_TEST(test_many_mistakes_all_reported)
{
    static const char yaml[] =
        "name: 123\n"                                         /* 1 */
        "objective:\n"                                        /* 2 */
        "  metrc: loss\n"                                     /* 3 */
        "  goal: minimise\n"                                  /* 4 */
        "search:\n"                                           /* 5 */
        "  algorithm: bayesian\n"                             /* 6 */
        "  max_trials: 10\n"                                  /* 7 */
        "  parallelism: 0\n"                                  /* 8 */
        "space:\n"                                            /* 9 */
        "  lr: {type: float, low: -1, high: 1, log: true}\n"  /* 10 */
        "  wd: {type: float, low: 2, high: 1}\n"              /* 11 */
        "  act: {type: categorical, values: []}\n"            /* 12 */
        "  n: {type: int, low: 1.5, high: 3}\n"               /* 13 */
        "trial:\n"                                            /* 14 */
        "  model: mlp\n"                                      /* 15 */
        "  dataset: mnist\n"                                  /* 16 */
        "  epochs: \"5\"\n"                                   /* 17 */
        "  retries: -1\n"                                     /* 18 */
        "extra: 1\n";                                         /* 19 */
    static const struct {
        const char *path;
        int line;
    } want[] = {
        {"name", 1},           {"objective.metric", 2},    {"objective.metrc", 3},
        {"objective.goal", 4}, {"search.algorithm", 6},    {"search.parallelism", 8},
        {"space.lr.low", 10},  {"space.wd.low", 11},       {"space.act.values", 12},
        {"space.n.low", 13},   {"trial.dataset", 16},      {"trial.epochs", 17},
        {"trial.retries", 18}, {"extra", 19},
    };
    hp_spec_t spec;
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_spec_parse(&spec, yaml, sizeof yaml - 1, "many.yaml", &d), HP_EINVAL);
    for (size_t i = 0; i < HP_ARRAY_LEN(want); i++) {
        const hp_diag_item_t *it = hp_diag_find(&d, want[i].path);
        if (!it)
            fprintf(stderr, "missing: %s\n", want[i].path);
        ck_assert_ptr_nonnull(it);
        ck_assert_int_eq(it->line, want[i].line);
    }
    ck_assert_uint_eq(d.n, HP_ARRAY_LEN(want));
    /* reported top to bottom */
    for (size_t i = 1; i < d.n; i++)
        ck_assert_int_le(d.items[i - 1].line, d.items[i].line);
    hp_diag_fini(&d);
}
END_TEST

/* ---- valid specs round-trip -------------------------------------------- */

static void assert_round_trip(const char *text, size_t len, const char *file)
{
    hp_spec_t a, b;
    hp_diag_t d = {0};
    int rc = hp_spec_parse(&a, text, len, file, &d);
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "%s\n", d.items[i].text);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_uint_eq(a.raw_len, len);
    ck_assert_int_eq(memcmp(a.raw, text, len), 0);

    hp_buf_t j1 = {0}, j2 = {0};
    hp_spec_to_json(&a, &j1);
    rc = hp_spec_parse(&b, j1.data, j1.len, "canonical.json", &d);
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "%s\n%s\n", d.items[i].text, j1.data);
    ck_assert_int_eq(rc, 0);
    ck_assert(hp_spec_equal(&a, &b));
    hp_spec_to_json(&b, &j2);
    ck_assert_str_eq(j1.data, j2.data); /* canonical: a fixed point */
    hp_spec_fini(&b);
    /* and as YAML (the parser reads JSON without the .json hint too) */
    rc = hp_spec_parse(&b, j1.data, j1.len, "canonical.yaml", &d);
    ck_assert_int_eq(rc, 0);
    ck_assert(hp_spec_equal(&a, &b));
    hp_spec_fini(&a);
    hp_spec_fini(&b);
    hp_buf_fini(&j1);
    hp_buf_fini(&j2);
    hp_diag_fini(&d);
}

static const char *const example_files[] = {
    "examples/fashion-mnist-mlp.yaml",
    "examples/branin-bayes.yaml",
    "examples/branin.yaml",
    "examples/toy-command.yaml",
    "examples/asha-toy.yaml",
    "examples/two-objectives.yaml",
    "examples/multimodal/multimodal.yaml",
    "examples/fashion-mnist-coral.yaml",
    "examples/sequence/lstm.yaml",
};

START_TEST(test_examples_valid_and_round_trip)
{
    const char *src = getenv("HP_SOURCE_DIR");
    ck_assert_ptr_nonnull(src);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", src, example_files[_i]);
    hp_spec_t s;
    hp_diag_t d = {0};
    int rc = hp_spec_load(&s, path, &d);
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "%s\n", d.items[i].text);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(s.source, path);
    assert_round_trip(s.raw, s.raw_len, path);
    hp_spec_fini(&s);
    hp_diag_fini(&d);
}
END_TEST

static const char *const good_specs[] = {
    /* every field of a built-in model trial, grid search */
    "version: 1\n"
    "name: everything.v2\n"
    "objective: {metric: val_error, goal: maximize, human_error: 0.02}\n"
    "search:\n"
    "  algorithm: grid\n"
    "  parallelism: 4\n"
    "  seed: 18446744073709551615\n"
    "  sanity_check: false\n"
    "space:\n"
    "  lr: {type: float, low: 1e-4, high: 1e-1, log: true, grid_points: 4}\n"
    "  momentum: {type: float, values: [0.5, 0.9, 0.99]}\n"
    "  fc1: {type: int, low: 16, high: 256, step: 16}\n"
    "  layers: {type: int, values: [1, 2, 3]}\n"
    "  activation: {type: categorical, values: [relu, tanh]}\n"
    "trial:\n"
    "  model: lenet\n"
    "  dataset:\n"
    "    path: data/train.csv\n"
    "    label: species\n"
    "    task: regression\n"
    "    train_subset: 1000\n"
    "    validation_fraction: 0.2\n"
    "    normalize: centered\n"
    "    shift: noise\n"
    "  epochs: 3\n"
    "  fixed: {hidden: [256, 128], optimizer: adamw, batchnorm: true, weight_decay: 1e-4}\n"
    "  timeout: 2.5\n"
    "  retries: 0\n",
    /* coarse-to-fine with defaults, a string command */
    "name: c2f\n"
    "objective: {metric: loss}\n"
    "search: {algorithm: coarse-to-fine, max_trials: 30, top_fraction: 0.1}\n"
    "space: {a: {type: float, low: -1, high: 1}}\n"
    "trial:\n"
    "  command: ./train --a={a} --b={b} --literal={{x}}\n"
    "  fixed: {b: hello}\n"
    "  env: {OMP_NUM_THREADS: 1, MODE: fast}\n"
    "  workdir: /tmp\n",
    /* a categorical's values of every kind (a program takes any) */
    "name: kinds\n"
    "objective: {metric: loss}\n"
    "search: {algorithm: grid}\n"
    "space:\n"
    "  act: {type: categorical, values: [relu, tanh, 1.0, 'true', \"x y\"]}\n"
    "trial: {command: [prog, '{act}']}\n",
    /* sobol, benchmark with many dimensions, ints as inputs */
    "name: ackley5\n"
    "objective: {metric: value}\n"
    "search: {algorithm: sobol, max_trials: 64}\n"
    "space:\n"
    "  x1: {type: float, low: -5, high: 5}\n"
    "  x2: {type: float, low: -5, high: 5}\n"
    "  x3: {type: int, low: -5, high: 5}\n"
    "  x4: {type: float, low: -5, high: 5}\n"
    "  x5: {type: float, low: -5, high: 5}\n"
    "trial: {function: ackley, noise: 0.1}\n",
    /* bayes with the confidence bound, its width given */
    "name: ucb\n"
    "objective: {metric: value}\n"
    "search: {algorithm: bayes, max_trials: 5, acquisition: ucb, kappa: 2.5}\n"
    "space: {x1: {type: float, low: -5, high: 10}, x2: {type: float, low: 0, high: 15}}\n"
    "trial: {function: branin}\n",
    /* warm start from earlier studies, as a list and as one name */
    "name: warm\n"
    "objective: {metric: value}\n"
    "search: {algorithm: bayes, max_trials: 5, warm_start: [lr-coarse, b.2]}\n"
    "space: {x1: {type: float, low: -5, high: 10}, x2: {type: float, low: 0, high: 15}}\n"
    "trial: {function: branin}\n",
    "name: warm-c2f\n"
    "objective: {metric: value}\n"
    "search: {algorithm: coarse-to-fine, max_trials: 8, warm_start: lr-coarse}\n"
    "space: {x1: {type: float, low: -5, high: 10}, x2: {type: float, low: 0, high: 15}}\n"
    "trial: {function: branin}\n",
    /* pruning: hyperband on a model, median on a command with its own metric */
    "name: pruned\n"
    "objective: {metric: val_error}\n"
    "search: {algorithm: bayes, max_trials: 20}\n"
    "space:\n  lr: {type: float, low: 1.0e-4, high: 0.1, log: true}\n"
    "trial: {model: mlp, dataset: fashion-mnist, epochs: 27}\n"
    "pruning: {rule: hyperband, metric: val_loss, min_resource: 1, reduction_factor: 3, "
    "brackets: 2, pruned_value: worst}\n",
    "name: pruned-rank\n"
    "objective: {metric: val_error}\n"
    "search: {algorithm: bayes, max_trials: 20}\n"
    "space:\n  lr: {type: float, low: 1.0e-4, high: 0.1, log: true}\n"
    "trial: {model: mlp, dataset: fashion-mnist, epochs: 9}\n"
    "pruning: {rule: asha, min_resource: 1, min_rank_correlation: 0.45, min_trials: 6}\n",
    "name: pruned-cmd\n"
    "objective: {metric: acc, goal: maximize}\n"
    "search: {algorithm: random, max_trials: 20}\n"
    "space:\n  lr: {type: float, low: 1.0e-4, high: 0.1, log: true}\n"
    "trial: {command: [prog, '{lr}']}\n"
    "pruning: {rule: median, metric: loss, goal: minimize, warmup_steps: 3, interval_steps: 2, "
    "min_trials: 4, max_resource: 27}\n",
    /* constraints: a max, a min, both */
    "name: cons\n"
    "objective: {metric: loss}\n"
    "search: {algorithm: bayes, max_trials: 20}\n"
    "space: {x: {type: float, low: 0, high: 1}}\n"
    "trial: {command: [prog]}\n"
    "constraints:\n"
    "  - {metric: memory_mb, max: 2000}\n"
    "  - {metric: acc, min: 0.5}\n"
    "  - {metric: latency_ms, min: 1, max: 20.5}\n",
    /* conditional parameters: one value, a list, nested, with defaults */
    "name: cond\n"
    "objective: {metric: loss}\n"
    "search: {algorithm: bayes, max_trials: 20}\n"
    "space:\n"
    "  opt: {type: categorical, values: [sgd, adam, rmsprop]}\n"
    "  momentum: {type: float, low: 0.5, high: 0.99, when: {opt: sgd}, default: 0}\n"
    "  beta2: {type: float, low: 0.9, high: 0.999, when: {opt: [adam, rmsprop]}}\n"
    "  layers: {type: categorical, values: [1, 2, 3]}\n"
    "  w3: {type: int, low: 8, high: 64, when: {layers: 3}, default: none}\n"
    "  amsgrad: {type: categorical, values: [true, false], when: {opt: adam}}\n"
    "  eps: {type: float, low: 1e-8, high: 1e-6, log: true, when: {amsgrad: true}}\n"
    "trial: {command: [prog, '--momentum={momentum}', '--w3={w3}']}\n",
    /* several objectives, human_error on the first */
    "name: mo\n"
    "objective:\n"
    "  - {metric: val_error, goal: minimize, human_error: 0.01}\n"
    "  - {metric: latency_ms, goal: minimize}\n"
    "  - {metric: acc, goal: maximize}\n"
    "search: {algorithm: bayes, max_trials: 20, parallelism: 2}\n"
    "space: {x: {type: float, low: 0, high: 1}}\n"
    "trial: {command: [prog]}\n"
    "constraints: [{metric: memory_mb, max: 2000}]\n",
    /* JSON input */
    "{\n"
    "  \"name\": \"json-study\",\n"
    "  \"objective\": {\"metric\": \"val_error\", \"goal\": \"minimize\"},\n"
    "  \"search\": {\"algorithm\": \"bayes\", \"max_trials\": 5, \"seed\": 3},\n"
    "  \"space\": {\"lr\": {\"type\": \"float\", \"low\": 1e-5, \"high\": 0.1, \"log\": true}},\n"
    "  \"trial\": {\"model\": \"mlp\", \"dataset\": \"fashion-mnist\", \"epochs\": 2}\n"
    "}\n",
};

START_TEST(test_good_specs_round_trip)
{
    assert_round_trip(good_specs[_i], strlen(good_specs[_i]), "good.yaml");
}
END_TEST

/* a sequence CSV: the columns as a pattern or a list, the shape as "T,F",
 * both in the trial's JSON (what workers read) and the dataset key; the
 * mlp may flatten it */
START_TEST(test_sequence_dataset)
{
    static const char *const yaml[] = {
        MHEAD SEARCH MSPACE "trial:\n  model: lstm\n  dataset:\n    path: d.csv\n"
                            "    sequence_columns: \"s*\"\n    sequence_shape: [20, 2]\n",
        MHEAD SEARCH MSPACE "trial:\n  model: mlp\n  dataset:\n    path: d.csv\n"
                          "    sequence_columns: [s0, s1, s2]\n    sequence_shape: [3, 1]\n",
    };
    static const char *const cols[] = {"s*", "s0,s1,s2"}, *const shape[] = {"20,2", "3,1"};
    static const char *const json[] = {"\"sequence_columns\":\"s*\",\"sequence_shape\":[20,2]",
                                       "\"sequence_columns\":\"s0,s1,s2\","
                                       "\"sequence_shape\":[3,1]"};
    for (size_t i = 0; i < HP_ARRAY_LEN(yaml); i++) {
        hp_spec_t s;
        hp_diag_t d = {0};
        int rc = hp_spec_parse(&s, yaml[i], strlen(yaml[i]), "study.yaml", &d);
        for (size_t k = 0; k < d.n; k++)
            fprintf(stderr, "case %zu: %s\n", i, d.items[k].text);
        ck_assert_int_eq(rc, 0);
        ck_assert_str_eq(s.trial.dataset.sequence_columns, cols[i]);
        ck_assert_str_eq(s.trial.dataset.sequence_shape, shape[i]);
        ck_assert_ptr_null(s.trial.dataset.image_columns);
        hp_buf_t j = {0}, key = {0};
        hp_spec_trial_to_json(&s, &j);
        ck_assert_msg(strstr(j.data, json[i]), "%s", j.data);
        ck_assert_int_eq(hp_spec_dataset_key(&s, &key), 0);
        ck_assert_msg(strstr(key.data, json[i]), "%s", key.data);
        hp_buf_fini(&j);
        hp_buf_fini(&key);
        assert_round_trip(yaml[i], strlen(yaml[i]), "seq.yaml");
        hp_spec_fini(&s);
        hp_diag_fini(&d);
    }
    /* a different shape is a different study */
    hp_spec_t a, b;
    hp_diag_t d = {0};
    char other[1024];
    snprintf(other, sizeof other, "%s", yaml[0]);
    memcpy(strstr(other, "[20, 2]"), "[10, 4]", 7);
    ck_assert_int_eq(hp_spec_parse(&a, yaml[0], strlen(yaml[0]), NULL, &d), 0);
    ck_assert_int_eq(hp_spec_parse(&b, other, strlen(other), NULL, &d), 0);
    ck_assert(!hp_spec_equal(&a, &b));
    hp_spec_fini(&a);
    hp_spec_fini(&b);
    hp_diag_fini(&d);
}
END_TEST

/* a list of objectives: each in order, the first also in objective.metric;
 * a list of one is the mapping */
START_TEST(test_several_objectives)
{
    const char *y = "name: mo\n"
                    "objective:\n"
                    "  - {metric: val_error}\n"
                    "  - {metric: latency_ms, goal: maximize}\n"
                    "search: {algorithm: random, max_trials: 5}\n"
                    "space: {x: {type: float, low: 0, high: 1}}\n"
                    "trial: {command: [prog]}\n";
    hp_spec_t s;
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_spec_parse(&s, y, strlen(y), "mo.yaml", &d), 0);
    ck_assert_uint_eq(hp_spec_n_objectives(&s), 2);
    ck_assert_str_eq(s.objective.metric, "val_error");
    ck_assert_int_eq(s.objective.goal, HP_GOAL_MINIMIZE);
    ck_assert_str_eq(hp_spec_objective_metric(&s, 1), "latency_ms");
    ck_assert_int_eq(hp_spec_objective_goal(&s, 1), HP_GOAL_MAXIMIZE);
    hp_buf_t j = {0};
    hp_spec_to_json(&s, &j);
    ck_assert_ptr_nonnull(strstr(j.data, "\"objective\":[{\"metric\":\"val_error\",\"goal\":"
                                         "\"minimize\"},{\"metric\":\"latency_ms\",\"goal\":"
                                         "\"maximize\"}]"));
    hp_buf_fini(&j);
    hp_spec_t one, map;
    const char *y1 = "name: mo\nobjective: [{metric: val_error, goal: maximize}]\n"
                     "search: {algorithm: random, max_trials: 5}\n"
                     "space: {x: {type: float, low: 0, high: 1}}\ntrial: {command: [prog]}\n";
    const char *y2 = "name: mo\nobjective: {metric: val_error, goal: maximize}\n"
                     "search: {algorithm: random, max_trials: 5}\n"
                     "space: {x: {type: float, low: 0, high: 1}}\ntrial: {command: [prog]}\n";
    ck_assert_int_eq(hp_spec_parse(&one, y1, strlen(y1), "one.yaml", &d), 0);
    ck_assert_int_eq(hp_spec_parse(&map, y2, strlen(y2), "map.yaml", &d), 0);
    ck_assert_uint_eq(hp_spec_n_objectives(&one), 1);
    ck_assert(hp_spec_equal(&one, &map));
    ck_assert(!hp_spec_equal(&one, &s));
    hp_spec_fini(&one);
    hp_spec_fini(&map);
    hp_spec_fini(&s);
    hp_diag_fini(&d);
}
END_TEST

/* whether a bayes study on val_error with this pruning section models its
 * pruned trials at their projections */
static int projects_with(const char *pruning)
{
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "name: p\nobjective: {metric: val_error}\n"
             "search: {algorithm: bayes, max_trials: 4}\n" MSPACE
             "trial: {model: mlp, dataset: fashion-mnist, epochs: 9}\npruning: %s\n",
             pruning);
    hp_spec_t s;
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_spec_parse(&s, yaml, strlen(yaml), "p.yaml", &d), 0);
    int projects = hp_spec_pruning_projects(&s);
    hp_spec_fini(&s);
    hp_diag_fini(&d);
    return projects;
}

/* pruning's defaults come from the objective and the trial */
START_TEST(test_pruning_defaults)
{
    /* (maximizing an error is odd; it shows the goal carried over) */
    static const char yaml[] = "name: p\nobjective: {metric: val_error, goal: maximize}\n"
                               "search: {algorithm: random, max_trials: 4}\n" MSPACE
                               "trial: {model: mlp, dataset: fashion-mnist, epochs: 9}\n"
                               "pruning: {rule: asha}\n";
    hp_spec_t s;
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_spec_parse(&s, yaml, strlen(yaml), "p.yaml", &d), 0);
    hp_pruner_config_t c;
    ck_assert_int_eq(hp_spec_pruning_config(&s, &c), 1);
    ck_assert_int_eq(c.rule, HP_PRUNE_ASHA);
    ck_assert_str_eq(c.metric, "val_error");
    ck_assert_int_eq(c.maximize, 1);
    ck_assert_int_eq(c.min_resource, 1);
    ck_assert_int_eq(c.max_resource, 9); /* the epochs */
    ck_assert_int_eq(c.eta, 3);
    char err[200];
    ck_assert_int_eq(hp_pruner_config_check(&c, err, sizeof err), 0);
    ck_assert_int_eq(s.pruning.pruned_value, HP_PRUNED_PROJECTED);
    hp_spec_fini(&s);
    /* bayes models pruned trials at their projections when the rule judges
     * the objective itself; not when it prunes on another metric or goal,
     * or is told not to */
    ck_assert_int_eq(projects_with("{rule: asha}"), 1);
    ck_assert_int_eq(projects_with("{rule: asha, metric: val_loss}"), 0);
    ck_assert_int_eq(projects_with("{rule: asha, goal: maximize}"), 0);
    ck_assert_int_eq(projects_with("{rule: median, pruned_value: worst}"), 0);
    ck_assert_int_eq(projects_with("{rule: median, pruned_value: projected}"), 1);
    /* median: a model's epochs are its max_resource (not judged there); a
     * command's is unknown unless given */
    static const char med[] = "name: p\nobjective: {metric: val_error}\n"
                              "search: {algorithm: random, max_trials: 4}\n" MSPACE
                              "trial: {model: mlp, dataset: fashion-mnist, epochs: 9}\n"
                              "pruning: {rule: median}\n";
    ck_assert_int_eq(hp_spec_parse(&s, med, strlen(med), "p.yaml", &d), 0);
    ck_assert_int_eq(hp_spec_pruning_config(&s, &c), 1);
    ck_assert_int_eq(c.max_resource, 9);
    hp_spec_fini(&s);
    static const char medc[] = HEAD SEARCH SPACE CMD "pruning: {rule: median}\n";
    ck_assert_int_eq(hp_spec_parse(&s, medc, strlen(medc), "p.yaml", &d), 0);
    ck_assert_int_eq(hp_spec_pruning_config(&s, &c), 1);
    ck_assert_int_eq(c.max_resource, 0);
    hp_spec_fini(&s);
    /* no pruning section: none, and the stored JSON has none either */
    static const char plain[] = HEAD SEARCH SPACE TRIAL;
    ck_assert_int_eq(hp_spec_parse(&s, plain, strlen(plain), "p.yaml", &d), 0);
    ck_assert_int_eq(hp_spec_pruning_config(&s, &c), 0);
    hp_buf_t j = {0};
    hp_spec_to_json(&s, &j);
    ck_assert_ptr_null(strstr(j.data, "pruning"));
    hp_buf_fini(&j);
    hp_spec_fini(&s);
    hp_diag_fini(&d);
}
END_TEST

START_TEST(test_defaults_filled_in)
{
    static const char yaml[] = HEAD SEARCH SPACE TRIAL;
    hp_spec_t s;
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_spec_parse(&s, yaml, sizeof yaml - 1, NULL, &d), 0);
    ck_assert_str_eq(s.name, "t");
    ck_assert_str_eq(s.objective.metric, "value");
    ck_assert_int_eq(s.objective.goal, HP_GOAL_MINIMIZE);
    ck_assert_int_eq(s.objective.has_human_error, 0);
    ck_assert_int_eq(s.search.algorithm, HP_ALGO_RANDOM);
    ck_assert_uint_eq(s.search.max_trials, 10);
    ck_assert_uint_eq(s.search.parallelism, 1);
    ck_assert_uint_eq(s.search.seed, 0);
    ck_assert_int_eq(s.search.sanity_check, 0); /* not a model */
    ck_assert_uint_eq(s.search.max_failures, 5);
    ck_assert_uint_eq(s.space.n, 2);
    ck_assert_str_eq(s.space.params[0].name, "x1");
    ck_assert(s.space.params[0].low == -5 && s.space.params[0].high == 10);
    ck_assert_int_eq(s.trial.kind, HP_TRIAL_FUNCTION);
    ck_assert_int_eq(s.trial.function, HP_FUNC_BRANIN);
    ck_assert_uint_eq(s.trial.dim, 2);
    ck_assert(s.trial.timeout == 0);
    ck_assert_uint_eq(s.trial.retries, 2);
    hp_spec_fini(&s);

    static const char model[] = MHEAD "search:\n  algorithm: bayes\n  max_trials: 6\n" MSPACE
        "trial:\n  model: mlp\n  dataset: fashion-mnist\n";
    ck_assert_int_eq(hp_spec_parse(&s, model, sizeof model - 1, NULL, &d), 0);
    ck_assert_int_eq(s.search.sanity_check, 1);
    ck_assert_uint_eq(s.search.n_initial, 6); /* min(10, max_trials) */
    ck_assert_int_eq(s.search.acquisition, HP_ACQ_LOGEI);
    ck_assert(s.search.kappa == 0);
    ck_assert_uint_eq(s.trial.epochs, 10);
    ck_assert_str_eq(s.trial.dataset.source, "fashion-mnist");
    ck_assert_int_eq(s.trial.dataset.is_path, 0);
    ck_assert(s.trial.dataset.validation_fraction == 0.1);
    ck_assert_int_eq(s.trial.dataset.normalize, HP_NORM_STANDARDIZE);
    hp_spec_fini(&s);

    /* ucb's width defaults to 1 (the bound bayes uses while trials run) */
    static const char ucb[] =
        HEAD "search:\n  algorithm: bayes\n  max_trials: 10\n  acquisition: ucb\n" SPACE TRIAL;
    ck_assert_int_eq(hp_spec_parse(&s, ucb, sizeof ucb - 1, NULL, &d), 0);
    ck_assert_int_eq(s.search.acquisition, HP_ACQ_UCB);
    ck_assert(s.search.kappa == 1.0);
    hp_buf_t uj = {0};
    hp_spec_to_json(&s, &uj);
    ck_assert_ptr_nonnull(strstr(uj.data, "\"acquisition\":\"ucb\",\"kappa\":1"));
    hp_buf_fini(&uj);
    hp_spec_fini(&s);

    static const char c2f[] =
        HEAD "search:\n  algorithm: coarse-to-fine\n  max_trials: 10\n" SPACE TRIAL;
    ck_assert_int_eq(hp_spec_parse(&s, c2f, sizeof c2f - 1, NULL, &d), 0);
    ck_assert_uint_eq(s.search.rounds, 4);
    ck_assert_uint_eq(s.search.trials_per_round, 3); /* ceil(10 / 4) */
    ck_assert(s.search.top_fraction == 0.25 && s.search.top_k == 0);
    ck_assert(s.search.shrink == 0.5);
    hp_spec_fini(&s);
    ck_assert_uint_eq(d.n, 0);
}
END_TEST

START_TEST(test_command_forms)
{
    static const char yaml[] = HEAD SEARCH "space:\n  lr: {type: float, low: 0, high: 1}\n"
                                           "trial:\n  command: \"  python3 train.py\t--lr {lr}  \"\n"
                                           "  env: {A: 1, B: x}\n";
    hp_spec_t s;
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_spec_parse(&s, yaml, sizeof yaml - 1, NULL, &d), 0);
    ck_assert_uint_eq(s.trial.argc, 4);
    ck_assert_str_eq(s.trial.argv[0], "python3");
    ck_assert_str_eq(s.trial.argv[3], "{lr}");
    ck_assert_ptr_null(s.trial.argv[4]);
    ck_assert_uint_eq(s.trial.n_env, 2);
    ck_assert_str_eq(s.trial.env[0].text, "1");
    ck_assert_int_eq(s.trial.env[0].kind, HP_VALUE_STRING);
    hp_spec_fini(&s);
    hp_diag_fini(&d);
}
END_TEST

START_TEST(test_equal_detects_differences)
{
    static const char a[] = HEAD SEARCH SPACE TRIAL;
    static const char b[] = HEAD "search:\n  algorithm: random\n  max_trials: 11\n" SPACE TRIAL;
    hp_spec_t sa, sb;
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_spec_parse(&sa, a, sizeof a - 1, NULL, &d), 0);
    ck_assert_int_eq(hp_spec_parse(&sb, b, sizeof b - 1, NULL, &d), 0);
    ck_assert(hp_spec_equal(&sa, &sa));
    ck_assert(!hp_spec_equal(&sa, &sb));
    hp_spec_fini(&sb);
    /* same study, different layout and comments */
    static const char c[] = "# comment\nname: t\nobjective: {metric: value, goal: minimize}\n"
                            "search: {max_trials: 10}\n"
                            "space: {x1: {type: float, low: -5.0, high: 1e1},\n"
                            "        x2: {high: 15, low: 0, type: float}}\n"
                            "trial: {function: branin, retries: 2}\n";
    ck_assert_int_eq(hp_spec_parse(&sb, c, sizeof c - 1, NULL, &d), 0);
    ck_assert(hp_spec_equal(&sa, &sb));
    hp_spec_fini(&sa);
    hp_spec_fini(&sb);
    /* the earlier studies a warm start takes are part of the study */
#define BAYES "search:\n  algorithm: bayes\n  max_trials: 10\n"
    static const char w1[] = HEAD BAYES "  warm_start: [p, q]\n" SPACE TRIAL;
    static const char w2[] = HEAD BAYES "  warm_start: [q, p]\n" SPACE TRIAL;
    static const char w3[] = HEAD BAYES SPACE TRIAL;
#undef BAYES
    ck_assert_int_eq(hp_spec_parse(&sa, w1, sizeof w1 - 1, NULL, &d), 0);
    ck_assert_uint_eq(sa.search.n_warm_start, 2);
    ck_assert_str_eq(sa.search.warm_start[1], "q");
    ck_assert_int_eq(hp_spec_parse(&sb, w2, sizeof w2 - 1, NULL, &d), 0);
    ck_assert(!hp_spec_equal(&sa, &sb));
    hp_spec_fini(&sb);
    ck_assert_int_eq(hp_spec_parse(&sb, w3, sizeof w3 - 1, NULL, &d), 0);
    ck_assert(!hp_spec_equal(&sa, &sb));
    hp_spec_fini(&sa);
    hp_spec_fini(&sb);
    /* the acquisition and its width are part of the study; logei spelt
     * out is the default */
#define BAYES "search:\n  algorithm: bayes\n  max_trials: 10\n"
    static const char a0[] = HEAD BAYES SPACE TRIAL;
    static const char a1[] = HEAD BAYES "  acquisition: logei\n" SPACE TRIAL;
    static const char a2[] = HEAD BAYES "  acquisition: ucb\n" SPACE TRIAL;
    static const char a3[] = HEAD BAYES "  acquisition: ucb\n  kappa: 1\n" SPACE TRIAL;
    static const char a4[] = HEAD BAYES "  acquisition: ucb\n  kappa: 2\n" SPACE TRIAL;
#undef BAYES
    hp_spec_t q[5];
    const char *qa[5] = {a0, a1, a2, a3, a4};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(hp_spec_parse(&q[i], qa[i], strlen(qa[i]), NULL, &d), 0);
    ck_assert(hp_spec_equal(&q[0], &q[1]));
    ck_assert(!hp_spec_equal(&q[0], &q[2]));
    ck_assert(hp_spec_equal(&q[2], &q[3]));
    ck_assert(!hp_spec_equal(&q[3], &q[4]));
    for (int i = 0; i < 5; i++)
        hp_spec_fini(&q[i]);
    /* pruning: the rule and each setting count; the metric as resolved */
    static const char p1[] = MHEAD SEARCH MSPACE MODEL "pruning: {rule: asha}\n";
    static const char p2[] = MHEAD SEARCH MSPACE MODEL "pruning: {rule: asha, metric: val_error, "
                                                      "max_resource: 10}\n";
    static const char p3[] = MHEAD SEARCH MSPACE MODEL "pruning: {rule: asha, min_resource: 2}\n";
    static const char p0[] = MHEAD SEARCH MSPACE MODEL;
    static const char p4[] = MHEAD SEARCH MSPACE MODEL "pruning: {rule: asha, pruned_value: "
                                                      "worst}\n";
    static const char p5[] = MHEAD SEARCH MSPACE MODEL "pruning: {rule: asha, pruned_value: "
                                                      "projected}\n";
    hp_spec_t s1, s2, s3, s0, s4, s5;
    ck_assert_int_eq(hp_spec_parse(&s4, p4, sizeof p4 - 1, NULL, &d), 0);
    ck_assert_int_eq(hp_spec_parse(&s5, p5, sizeof p5 - 1, NULL, &d), 0);
    ck_assert_int_eq(hp_spec_parse(&s1, p1, sizeof p1 - 1, NULL, &d), 0);
    ck_assert_int_eq(hp_spec_parse(&s2, p2, sizeof p2 - 1, NULL, &d), 0);
    ck_assert_int_eq(hp_spec_parse(&s3, p3, sizeof p3 - 1, NULL, &d), 0);
    ck_assert_int_eq(hp_spec_parse(&s0, p0, sizeof p0 - 1, NULL, &d), 0);
    ck_assert(hp_spec_equal(&s1, &s2));
    ck_assert(!hp_spec_equal(&s1, &s3));
    ck_assert(!hp_spec_equal(&s1, &s0));
    ck_assert(!hp_spec_equal(&s1, &s4));
    ck_assert(hp_spec_equal(&s1, &s5)); /* projected is the default */
    hp_spec_fini(&s4);
    hp_spec_fini(&s5);
    hp_spec_fini(&s1);
    hp_spec_fini(&s2);
    hp_spec_fini(&s3);
    hp_spec_fini(&s0);
    hp_diag_fini(&d);
}
END_TEST

/* ---- hostile input ----------------------------------------------------- */

static void assert_refused(const char *text, size_t len, const char *msg)
{
    hp_spec_t s;
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_spec_parse(&s, text, len, "x.yaml", &d), HP_EINVAL);
    ck_assert_uint_ge(d.n, 1);
    if (msg) {
        int found = 0;
        for (size_t i = 0; i < d.n; i++)
            found |= strstr(d.items[i].message, msg) != NULL;
        if (!found)
            fprintf(stderr, "want '%s', got '%s'\n", msg, d.items[0].text);
        ck_assert(found);
    }
    for (size_t i = 0; i < d.n; i++)
        ck_assert_int_ge(d.items[i].line, 1);
    hp_spec_fini(&s);
    hp_diag_fini(&d);
}

START_TEST(test_empty_and_blank)
{
    assert_refused("", 0, "empty");
    assert_refused(" \n\t\n", 4, "empty");
    assert_refused("# only a comment\n", 17, "empty");
    assert_refused("---\n...\n", 8, "empty");
    assert_refused("42\n", 3, "expected a mapping");
}
END_TEST

START_TEST(test_nul_bytes)
{
    static const char t[] = "name: a\nobjective:\0 {}\n";
    hp_spec_t s;
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_spec_parse(&s, t, sizeof t - 1, "x.yaml", &d), HP_EINVAL);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_int_eq(d.items[0].line, 2);
    ck_assert_ptr_nonnull(strstr(d.items[0].message, "NUL byte at offset 18"));
    hp_diag_fini(&d);
    /* an escaped NUL inside a quoted string */
    static const char q[] = "name: \"a\\0b\"\nobjective:\n  metric: loss\n" SEARCH SPACE TRIAL;
    assert_refused(q, sizeof q - 1, "NUL character");
}
END_TEST

START_TEST(test_invalid_utf8)
{
    /* libfyaml 0.7.12 loops forever on a directive holding a malformed
     * sequence (found by feeding hpsearch validate random files): the
     * parser must refuse it before libfyaml sees it */
    static const char dir[] = "%hS\xf4\n";
    hp_spec_t s;
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_spec_parse(&s, dir, sizeof dir - 1, "x.yaml", &d), HP_EINVAL);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_int_eq(d.items[0].line, 1);
    ck_assert_ptr_nonnull(strstr(d.items[0].message, "not UTF-8 text: byte 0xf4 at column 4"));
    hp_diag_fini(&d);
    assert_refused("%h\xc3", 3, "byte 0xc3 at column 3");                 /* truncated */
    assert_refused("name: a\n# \xed\xa0\x80\n", 14, "byte 0xed at column 3"); /* surrogate */
    assert_refused("name: \xc0\xaf\n", 9, "byte 0xc0 at column 7");      /* overlong */
    assert_refused("name: \xf5\x80\x80\x80\n", 11, "byte 0xf5");        /* > U+10FFFF */
    /* well-formed multi-byte text passes the check and reaches the parser */
    static const char ok[] = "# caf\xc3\xa9 \xf0\x9f\x98\x80\n" HEAD SEARCH SPACE TRIAL;
    ck_assert_int_eq(hp_spec_parse(&s, ok, sizeof ok - 1, "x.yaml", &d), 0);
    hp_spec_fini(&s);
    hp_diag_fini(&d);
}
END_TEST

START_TEST(test_misread_quotes)
{
    /* libfyaml 0.7.12 reads the character after two adjacent '' escapes
     * as a quote ('a''''b' as a''') and, from four in a row, leaks; such a
     * string is refused with its place named, before any value is read */
    static const char cmd[] = HEAD SEARCH SPACE "trial:\n  command: 'echo a''''b'\n";
    hp_spec_t s;
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_spec_parse(&s, cmd, sizeof cmd - 1, "x.yaml", &d), HP_EINVAL);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_int_eq(d.items[0].line, 11);
    ck_assert_ptr_nonnull(strstr(d.items[0].message, "two escaped quotes in a row"));
    ck_assert_ptr_nonnull(strstr(d.items[0].message, "double quotes"));
    ck_assert_ptr_nonnull(strstr(d.items[0].message, "(column 12)"));
    hp_diag_fini(&d);
    /* in a key, deep in the document (the input the fuzzer found leaking) */
    static const char key[] = HEAD SEARCH SPACE "trial:\n  function: branin\n"
                              "  env: {'''''''''''''omqand''''''': 1}\n";
    assert_refused(key, sizeof key - 1, "two escaped quotes in a row");
    /* the same text in double quotes, and escapes that are not adjacent or
     * sit against the closing quote, are read right and accepted */
    static const char ok[] = HEAD SEARCH SPACE
        "trial:\n  command: ['echo', \"a''''b\", 'it''s '' ''', '''', 'x''']\n";
    ck_assert_int_eq(hp_spec_parse(&s, ok, sizeof ok - 1, "x.yaml", &d), 0);
    ck_assert_uint_eq(s.trial.argc, 5);
    ck_assert_str_eq(s.trial.argv[1], "a''''b");
    ck_assert_str_eq(s.trial.argv[2], "it's ' '");
    ck_assert_str_eq(s.trial.argv[3], "'");
    ck_assert_str_eq(s.trial.argv[4], "x'");
    hp_spec_fini(&s);
    hp_diag_fini(&d);
}
END_TEST

START_TEST(test_deep_nesting)
{
    const size_t depth = 10000;
    char *t = malloc(2 * depth + 16);
    size_t n = 0;
    n += (size_t)sprintf(t, "name: ");
    for (size_t i = 0; i < depth; i++)
        t[n++] = '[';
    for (size_t i = 0; i < depth; i++)
        t[n++] = ']';
    assert_refused(t, n, "YAML syntax error");
    /* and as block mappings */
    hp_buf_t b = {0};
    for (int i = 0; i < 300; i++) {
        for (int k = 0; k < i; k++)
            hp_buf_putc(&b, ' ');
        hp_buf_puts(&b, "k:\n");
    }
    assert_refused(b.data, b.len, NULL);
    hp_buf_fini(&b);
    free(t);
}
END_TEST

START_TEST(test_alias_bomb)
{
    hp_buf_t b = {0};
    hp_buf_puts(&b, "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (char c = 'b'; c <= 'z'; c++) {
        hp_buf_printf(&b, "%c: &%c [", c, c);
        for (int i = 0; i < 9; i++)
            hp_buf_printf(&b, "%s*%c", i ? ", " : "", c - 1);
        hp_buf_puts(&b, "]\n");
    }
    assert_refused(b.data, b.len, "unknown key");
    hp_buf_reset(&b);
    /* an alias where a value is read is refused, not expanded */
    hp_buf_puts(&b, HEAD "search: &s\n  algorithm: random\n  max_trials: 10\n" SPACE
                "trial:\n  function: branin\n  retries: *s\n");
    assert_refused(b.data, b.len, "aliases");
    hp_buf_fini(&b);
}
END_TEST

START_TEST(test_too_large)
{
    size_t n = (size_t)HP_SPEC_MAX_BYTES + 1;
    char *t = malloc(n);
    memset(t, '#', n);
    assert_refused(t, n, "too large");
    free(t);
}
END_TEST

START_TEST(test_random_bytes_and_mutations)
{
    /* Bytes from a fixed LCG (reproducible): never a crash, always refused
     * with at least one positioned diagnostic. */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    char buf[512];
    for (int round = 0; round < 200; round++) {
        size_t n = 1 + (size_t)(round * 7 % (int)sizeof buf);
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            buf[i] = (char)(x >> 56);
        }
        hp_spec_t s;
        hp_diag_t d = {0};
        int rc = hp_spec_parse(&s, buf, n, "r.yaml", &d);
        ck_assert_int_eq(rc, HP_EINVAL);
        ck_assert_uint_ge(d.n, 1);
        hp_spec_fini(&s);
        hp_diag_fini(&d);
    }
    /* one-byte mutations of a valid spec: any outcome but a crash */
    static const char base[] = HEAD SEARCH SPACE TRIAL;
    char m[sizeof base];
    static const char subst[] = "{}[]:,&*!|>'\"#- \n\t0aZ%@`";
    for (size_t i = 0; i < sizeof base - 1; i++) {
        memcpy(m, base, sizeof base);
        m[i] = subst[i % (sizeof subst - 1)];
        hp_spec_t s;
        hp_diag_t d = {0};
        int rc = hp_spec_parse(&s, m, sizeof base - 1, "m.yaml", &d);
        ck_assert(rc == 0 || (rc == HP_EINVAL && d.n > 0));
        hp_spec_fini(&s);
        hp_diag_fini(&d);
    }
}
END_TEST

START_TEST(test_load_errors)
{
    hp_spec_t s;
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_spec_load(&s, "/nonexistent/study.yaml", &d), HP_ENOENT);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_ptr_nonnull(strstr(d.items[0].text, "/nonexistent/study.yaml: cannot open"));
    hp_diag_fini(&d);
    ck_assert_int_eq(hp_spec_load(&s, "/", &d), HP_EINVAL);
    ck_assert_ptr_nonnull(strstr(d.items[0].message, "directory"));
    hp_diag_fini(&d);
}
END_TEST

static Suite *spec_suite(void)
{
    Suite *s = suite_create("spec");
    TCase *tc = tcase_create("malformed");
    tcase_add_loop_test(tc, test_bad_spec, 0, (int)HP_ARRAY_LEN(bad_specs));
    tcase_add_test(tc, test_many_mistakes_all_reported);
    tcase_add_test(tc, test_bad_param_reported_once);
    tcase_add_loop_test(tc, test_model_settings_checked, 0, (int)HP_ARRAY_LEN(setting_specs));
    tcase_add_test(tc, test_model_settings_accepted);
    suite_add_tcase(s, tc);
    tc = tcase_create("valid");
    tcase_add_loop_test(tc, test_examples_valid_and_round_trip, 0,
                        (int)HP_ARRAY_LEN(example_files));
    tcase_add_loop_test(tc, test_good_specs_round_trip, 0, (int)HP_ARRAY_LEN(good_specs));
    tcase_add_test(tc, test_defaults_filled_in);
    tcase_add_test(tc, test_pruning_defaults);
    tcase_add_test(tc, test_several_objectives);
    tcase_add_test(tc, test_sequence_dataset);
    tcase_add_test(tc, test_command_forms);
    tcase_add_test(tc, test_equal_detects_differences);
    suite_add_tcase(s, tc);
    tc = tcase_create("hostile");
    tcase_add_test(tc, test_empty_and_blank);
    tcase_add_test(tc, test_nul_bytes);
    tcase_add_test(tc, test_invalid_utf8);
    tcase_add_test(tc, test_misread_quotes);
    tcase_add_test(tc, test_deep_nesting);
    tcase_add_test(tc, test_alias_bomb);
    tcase_add_test(tc, test_too_large);
    tcase_add_test(tc, test_random_bytes_and_mutations);
    tcase_add_test(tc, test_load_errors);
    tcase_add_test(tc, test_underflow_warns);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_check_run(spec_suite());
}
