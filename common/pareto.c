/* Pareto fronts and exact hypervolumes (pareto.h).
 *
 * The hypervolume of m >= 3 objectives is WFG's: the points sorted by
 * the last objective, the volume is the sum over k of point k's exclusive
 * contribution against the points after it, which is its own box minus
 * the volume of those points "limited" to its box (each coordinate the
 * worse of the two), the limited set first cut to its own front. The
 * sweep for m = 2 ends the recursion. */
#include "pareto.h"

#include "err.h"
#include "idx_val.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int hp_pareto_dominates(const double *a, const double *b, size_t m)
{
    int better = 0;
    for (size_t j = 0; j < m; j++) {
        if (!(a[j] <= b[j]))
            return 0;
        better |= a[j] < b[j];
    }
    return better;
}

static int has_nan(const double *p, size_t m)
{
    for (size_t j = 0; j < m; j++)
        if (isnan(p[j]))
            return 1;
    return 0;
}

size_t hp_pareto_front(const double *y, size_t n, size_t m, unsigned char *on_front)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int on = !has_nan(y + i * m, m);
        for (size_t o = 0; on && o < n; o++)
            if (o != i && !has_nan(y + o * m, m) && hp_pareto_dominates(y + o * m, y + i * m, m))
                on = 0;
        on_front[i] = (unsigned char)on;
        k += (size_t)on;
    }
    return k;
}

/* Sorts the n rows of p (m each) by column col, ascending (sign 1) or
 * descending (-1), with a stable tie order. 0 or HP_ENOMEM. */
static int sort_rows(double *p, size_t n, size_t m, size_t col, double sign)
{
    hp_idx_val_t *k = malloc((n ? n : 1) * sizeof *k);
    double *t = malloc((n ? n : 1) * m * sizeof *t);
    if (!k || !t) {
        free(k);
        free(t);
        return HP_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        k[i] = (hp_idx_val_t){sign * p[i * m + col], i};
    qsort(k, n, sizeof *k, hp_cmp_idx_val);
    for (size_t i = 0; i < n; i++)
        memcpy(t + i * m, p + k[i].i * m, m * sizeof *p);
    memcpy(p, t, n * m * sizeof *p);
    free(k);
    free(t);
    return 0;
}

/* the 2-D volume of n points (2 each), sorted here; -1 on out of memory */
static double hv2(double *p, size_t n, const double *ref)
{
    if (sort_rows(p, n, 2, 0, 1) < 0)
        return -1;
    double v = 0, low = ref[1];
    for (size_t i = 0; i < n; i++)
        if (p[2 * i + 1] < low) {
            v += (ref[0] - p[2 * i]) * (low - p[2 * i + 1]);
            low = p[2 * i + 1];
        }
    return v;
}

static double box(const double *p, size_t m, const double *ref)
{
    double v = 1;
    for (size_t j = 0; j < m; j++)
        v *= ref[j] - p[j];
    return v;
}

/* Keeps the non-dominated rows of p (n x m) in place; returns how many. */
static size_t nondominated(double *p, size_t n, size_t m)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int dom = 0;
        for (size_t o = 0; !dom && o < n; o++)
            if (o != i) {
                /* of equal rows keep the first */
                if (hp_pareto_dominates(p + o * m, p + i * m, m) ||
                    (o < i && memcmp(p + o * m, p + i * m, m * sizeof *p) == 0))
                    dom = 1;
            }
        if (!dom) {
            if (k != i)
                memcpy(p + k * m, p + i * m, m * sizeof *p);
            k++;
        }
    }
    return k;
}

/* WFG on n points (m each, all strictly inside ref, mutually
 * non-dominated); p is reordered. -1 on out of memory. */
static double wfg(double *p, size_t n, size_t m, const double *ref)
{
    if (n == 0)
        return 0;
    if (m == 2)
        return hv2(p, n, ref);
    if (n == 1)
        return box(p, m, ref);
    if (sort_rows(p, n, m, m - 1, -1) < 0)
        return -1;
    double *lim = malloc(n * m * sizeof *lim);
    if (!lim)
        return -1;
    double v = 0;
    for (size_t k = 0; k < n; k++) {
        size_t nl = n - k - 1;
        for (size_t i = 0; i < nl; i++)
            for (size_t j = 0; j < m; j++)
                lim[i * m + j] = fmax(p[k * m + j], p[(k + 1 + i) * m + j]);
        nl = nondominated(lim, nl, m);
        double inner = wfg(lim, nl, m, ref);
        if (inner < 0) {
            free(lim);
            return -1;
        }
        v += box(p + k * m, m, ref) - inner;
    }
    free(lim);
    return v;
}

int hp_hypervolume(const double *y, size_t n, size_t m, const double *ref, double *out)
{
    *out = 0;
    if (m == 0 || m > HP_PARETO_MAX_OBJECTIVES)
        return HP_EINVAL;
    double *p = malloc((n ? n : 1) * m * sizeof *p);
    if (!p)
        return HP_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const double *q = y + i * m;
        int inside = 1;
        for (size_t j = 0; j < m; j++)
            inside &= q[j] < ref[j]; /* false for NaN too */
        if (inside)
            memcpy(p + k++ * m, q, m * sizeof *p);
    }
    double v;
    if (m == 1) {
        double lo = ref[0];
        for (size_t i = 0; i < k; i++)
            lo = fmin(lo, p[i]);
        v = ref[0] - lo;
    } else {
        k = nondominated(p, k, m);
        v = wfg(p, k, m, ref);
    }
    free(p);
    if (v < 0)
        return HP_ENOMEM;
    *out = v;
    return 0;
}
