/*
 * forest.h — a random forest regressor (Breiman 2001), the model that
 * fANOVA (fanova.h) decomposes: each tree is grown on a bootstrap sample
 * of the rows, to purity (or max_depth), at each node on the split that
 * most reduces the squared error over every feature, tried in a random
 * order so that ties do not favour the first columns.
 *
 *     hp_forest_feature_t feat[2] = {{.n_cats = 0}, {.n_cats = 3}};  // x0 numeric, x1 one of 3
 *     hp_forest_params_t fp = hp_forest_defaults();   // 64 trees, depth 64
 *     hp_forest_t f;
 *     if (hp_forest_fit(&f, X, y, n, 2, feat, &fp, err, sizeof err) < 0) ...
 *     double yhat = hp_forest_predict(&f, x);
 *     hp_forest_fini(&f);
 *
 * Features: a numeric one splits at the midpoint between two neighbouring
 * distinct values (x <= threshold goes left); a categorical one (codes
 * 0 .. n_cats-1, stored as doubles) splits its categories into two sets,
 * the best of the splits of the categories ordered by their mean response
 * (for squared error that search is exact: Breiman et al. 1984, 9.4).
 * Categories absent from a node go right. X is row-major, n x d.
 *
 * A conditional feature (a hyperparameter that is inactive in some rows,
 * NaN there) is split on only in nodes where it is active in every row,
 * as in SMAC's random forest, so the feature shapes the prediction only
 * under the parent's values that activate it. When the feature names its
 * parent, a node in which it is active in some rows and not in others is
 * split on the parent first, the activating values left: the tree follows
 * the space's own tree before anything else, so the conditional feature
 * is not left to the small nodes at the bottom. A point inactive at a
 * split on the feature (reached through other splits) goes left in
 * hp_forest_predict.
 *
 * Deterministic: the same inputs and seed give the same forest, on any
 * thread. A forest is read-only after fitting.
 */
#ifndef HP_FOREST_H
#define HP_FOREST_H

#include <stddef.h>
#include <stdint.h>

typedef struct hp_forest_feature {
    uint32_t n_cats; /* 0: numeric; else categorical with this many codes */
    int conditional; /* values may be NaN (inactive): a node splits on the
                        feature only when it has a value in every row of it */
    int has_parent;  /* conditional: its activity is decided by the value of */
    uint32_t parent; /* this categorical feature (has_parent) */
} hp_forest_feature_t;

typedef struct hp_forest_params {
    size_t n_trees;    /* >= 1 */
    unsigned max_depth; /* >= 1: the root is depth 0 */
    uint64_t seed;
} hp_forest_params_t;

/* One node. A leaf has feature -1. */
typedef struct hp_tree_node {
    int32_t feature;
    uint32_t left, right; /* child node indices */
    double threshold;     /* numeric split: x <= threshold goes left */
    size_t cat_off;       /* categorical split: tree.cat_left[cat_off + c] is 1
                             when category c goes left */
    double value;         /* the mean response of the node's rows */
} hp_tree_node_t;

typedef struct hp_tree {
    hp_tree_node_t *nodes; /* nodes[0] is the root */
    size_t n_nodes, cap_nodes;
    unsigned char *cat_left;
    size_t n_cat_left, cap_cat_left;
} hp_tree_t;

typedef struct hp_forest {
    size_t d;
    hp_forest_feature_t *feat; /* d, copied */
    hp_tree_t *trees;
    size_t n_trees;
} hp_forest_t;

/* hp_forest_defaults: 64 trees of depth at most 64, seed 0 (the forest
 * Optuna's FanovaImportanceEvaluator fits, by default). */
hp_forest_params_t hp_forest_defaults(void);

/* hp_forest_fit grows p->n_trees trees on the n rows of X (n x d) and y
 * into *f (initialised here; hp_forest_fini it, also on failure). Fails
 * with HP_EINVAL and a sentence when n is 0, d is 0, a value is not
 * finite (NaN is allowed in a conditional feature), or a categorical code
 * is out of range. */
int hp_forest_fit(hp_forest_t *f, const double *X, const double *y, size_t n, size_t d,
                  const hp_forest_feature_t *feat, const hp_forest_params_t *p, char *err,
                  size_t errlen);

/* hp_forest_predict returns the mean of the trees' predictions at x (d). */
double hp_forest_predict(const hp_forest_t *f, const double *x);

/* hp_forest_fini frees f; safe on zeroed memory. */
void hp_forest_fini(hp_forest_t *f);

#endif
