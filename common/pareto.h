/*
 * pareto.h — Pareto fronts and hypervolumes of points with several
 * objectives, every objective to be minimised (negate a maximised one
 * first). Used by `hpsearch best` (the front), the bayes sampler's
 * benchmarks, and tests.
 *
 *     double y[] = {1, 3,  2, 2,  3, 1,  3, 3};  // 4 points, 2 objectives
 *     unsigned char on[4];
 *     size_t k = hp_pareto_front(y, 4, 2, on);   // 3: the last is dominated
 *     double ref[2] = {4, 4};
 *     double hv;
 *     hp_hypervolume(y, 4, 2, ref, &hv);         // 6
 *
 * A point dominates another when it is no worse in every objective and
 * better in one; equal points do not dominate each other (both are on
 * the front). Pure functions: any thread.
 */
#ifndef HP_PARETO_H
#define HP_PARETO_H

#include <stddef.h>

#define HP_PARETO_MAX_OBJECTIVES 8 /* hp_hypervolume's largest m */

/* hp_pareto_dominates: whether a dominates b (m objectives each). */
int hp_pareto_dominates(const double *a, const double *b, size_t m);

/* hp_pareto_front marks in on_front[i] (n entries) whether point i of y
 * (n x m, row-major) is on the front, and returns how many are. Points
 * with a NaN coordinate are never on it and dominate nothing. O(n^2 m). */
size_t hp_pareto_front(const double *y, size_t n, size_t m, unsigned char *on_front);

/* hp_hypervolume sets *out to the volume of the region dominated by the
 * points of y (n x m) and bounded by ref (m): the union of the boxes
 * [y_i, ref]. Points not strictly better than ref in every objective add
 * nothing. Exact: a sweep for m = 2, the WFG recursion (While, Bradstreet
 * and Barone 2012) above, whose cost grows quickly with m and n (fine for
 * m <= 4 and a few hundred points). Returns 0, HP_EINVAL for m of 0 or
 * above HP_PARETO_MAX_OBJECTIVES, or HP_ENOMEM. */
int hp_hypervolume(const double *y, size_t n, size_t m, const double *ref, double *out);

#endif
