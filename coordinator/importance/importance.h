/*
 * importance.h — which parameters of a study matter: fANOVA (fanova.h) on
 * a random forest (forest.h) fitted to the completed trials' parameters
 * and objective values, the method of Optuna's default
 * FanovaImportanceEvaluator. Used by `hpsearch importance`, the
 * importance section of `hpsearch report` and the dashboard's
 * /api/studies/NAME/importance (docs/importance.md).
 *
 *     hp_importance_input_t in;
 *     if (hp_importance_input_init(&in, spec_json, strlen(spec_json), err, sizeof err) < 0) ...
 *     for each completed, feasible trial:
 *         hp_importance_input_add(&in, params_json, value);   // skips what it cannot use
 *     hp_importance_t imp;
 *     hp_importance_opts_t o = hp_importance_defaults();      // 64 trees, seed 0
 *     if (hp_importance_compute(&in, &o, &imp, err, sizeof err) < 0) ...  // err says why
 *     hp_importance_json(&imp, &json);
 *     hp_importance_fini(&imp);
 *     hp_importance_input_fini(&in);
 *
 * Encoding: a float or int parameter enters as its position in the unit
 * interval the samplers use (space.h: log first for log-scaled ones, each
 * integer an equal share), so fANOVA's uniform measure is the space's own;
 * a categorical one as its choice, split into sets of choices. A
 * conditional parameter is not imputed: a tree splits on it only among
 * trials where it is active, and separates those trials by the parent's
 * value first (forest.h), so it shapes the model only under the parent
 * values that activate it, and its main effect is its effect there,
 * weighted by how much of the space that is (Optuna instead leaves out
 * every parameter that is not in all completed trials). Importances
 * are normalised to sum to 1; `explained` is the share of the variance
 * the main effects explain together (the rest is interactions).
 *
 * Deterministic for the same trials (in the same order), options and
 * seed. Pure computation: any thread; the dashboard runs it on its own.
 */
#ifndef HP_IMPORTANCE_H
#define HP_IMPORTANCE_H

#include "buf.h"
#include "spec.h"

#include <stddef.h>
#include <stdint.h>

#define HP_IMPORTANCE_MIN_TRIALS 5 /* fewer completed trials: no ranking */

typedef struct hp_importance_opts {
    size_t n_trees;      /* default 64 */
    unsigned max_depth;  /* default 64 */
    uint64_t seed;       /* default 0 */
} hp_importance_opts_t;

/* The trials a ranking is computed from. */
typedef struct hp_importance_input {
    hp_spec_t spec;   /* parsed from the study's stored spec */
    double *x;        /* n x spec.space.n points (NaN: inactive) */
    double *y;        /* n objective values */
    size_t n, cap;
    size_t skipped;   /* trials left out: no finite value, params unreadable */
} hp_importance_input_t;

typedef struct hp_importance_param {
    char name[HP_PARAM_NAME_MAX];
    double importance; /* normalised: the parameters' importances sum to 1 */
    double share;      /* V_j / V: the variance its main effect explains */
    double sd;         /* of share over the trees */
    size_t active;     /* trials in which it was active */
} hp_importance_param_t;

typedef struct hp_importance {
    char method[80];    /* "fANOVA (random forest, 64 trees)" */
    size_t n_trials;    /* trials the forest was fitted to */
    size_t skipped;     /* from the input */
    size_t trees_used;  /* trees whose prediction varied */
    double explained;   /* the sum of the shares */
    hp_importance_param_t *params; /* most important first; ties by space order */
    size_t n_params;
} hp_importance_t;

hp_importance_opts_t hp_importance_defaults(void);

/* hp_importance_input_init parses the study's spec (the JSON the store
 * keeps in studies.spec_json, len bytes) into in. HP_EINVAL with err when
 * it is not a valid spec. hp_importance_input_fini frees in (safe on
 * zeroed memory and after a failed init). */
int hp_importance_input_init(hp_importance_input_t *in, const char *spec_json, size_t len,
                             char *err, size_t errlen);
void hp_importance_input_fini(hp_importance_input_t *in);

/* hp_importance_input_add adds a completed trial: its params (the JSON of
 * trials.params) and objective value. A trial whose value is not finite
 * or whose params are not a point of the space is counted in in->skipped
 * and left out (the ranking says so). */
void hp_importance_input_add(hp_importance_input_t *in, const char *params_json, double value);

/* hp_importance_compute ranks the parameters from in's trials into *out
 * (hp_importance_fini it on success). Fails with HP_EINVAL and a sentence
 * saying what is missing when there are fewer than
 * HP_IMPORTANCE_MIN_TRIALS usable trials, when the objective has the same
 * value in all of them, or when the space is empty; on failure *out is
 * zeroed. */
int hp_importance_compute(const hp_importance_input_t *in, const hp_importance_opts_t *o,
                          hp_importance_t *out, char *err, size_t errlen);
void hp_importance_fini(hp_importance_t *imp); /* safe on zeroed memory */

/* hp_importance_json appends the ranking as one JSON object:
 * {"method":"fANOVA (random forest, 64 trees)","trials":N,"skipped":S,
 *  "explained":E,"params":[{"name":..,"importance":..,"share":..,
 *  "sd":..,"active":..},...]} (docs/importance.md). */
void hp_importance_json(const hp_importance_t *imp, hp_buf_t *out);

/* hp_importance_text appends the ranking as text lines: a header naming
 * the method and the trials, then one line per parameter with a bar. */
void hp_importance_text(const hp_importance_t *imp, hp_buf_t *out);

#endif
