/*
 * fanova.h — functional ANOVA of a random forest (Hutter, Hoos and
 * Leyton-Brown, "An efficient approach for assessing hyperparameter
 * importance", ICML 2014): how much of the variance of the function a
 * tree represents each feature's main effect explains, averaged over the
 * forest's trees.
 *
 *     hp_forest_t f;            // fitted with hp_forest_fit (forest.h)
 *     double share[D], sd[D];
 *     size_t used;
 *     hp_fanova_main_effects(&f, share, sd, &used);
 *     // share[j]: the mean over the trees of V_j / V
 *
 * For each tree, under the uniform measure on the input space (a numeric
 * feature uniform on [0,1], a categorical one uniform over its codes):
 *   V   = the variance of the tree's prediction,
 *   V_j = the variance over x_j of E[prediction | x_j] (the main effect).
 * A tree is piecewise constant on boxes, so both are exact sums over its
 * leaves and over the cells between the thresholds it splits feature j at.
 * Trees whose prediction is constant (V = 0) are left out; share[j] is
 * the mean of V_j / V over the others and sd[j] its standard deviation.
 * The shares sum to at most 1; the remainder is what interactions explain.
 *
 * Numeric features must lie in [0,1] for the measure to be the one meant
 * (thresholds outside it are clamped to it). Pure; any thread.
 */
#ifndef HP_FANOVA_H
#define HP_FANOVA_H

#include "forest.h"

#include <stddef.h>

/* hp_fanova_main_effects fills share[f->d] and sd[f->d] (sd may be NULL)
 * and *used (may be NULL) with the number of trees that varied. With no
 * such tree every share is 0. */
void hp_fanova_main_effects(const hp_forest_t *f, double *share, double *sd, size_t *used);

#endif
