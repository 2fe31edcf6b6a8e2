/* Grid search's enumeration of a space: every combination of the
 * parameters' grid values, the last parameter fastest; in a conditional
 * space, the configurations of its forest of conditions (space_cond.c): a
 * categorical's choices, each followed by the configurations of the
 * parameters it activates, so a configuration is counted once whatever
 * its inactive parameters would have been. */
#include "space_int.h"

#include "err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t grid_count(const hp_param_t *p);
static double grid_value(const hp_param_t *p, uint64_t i, uint64_t count);

/* ---- a conditional space ----------------------------------------------- */

typedef struct tree {
    const hp_space_t *sp;
    uint64_t count[HP_SPACE_MAX_PARAMS]; /* configurations of a subtree */
    unsigned char done[HP_SPACE_MAX_PARAMS];
    int overflow; /* the parameter it happened at, + 1 */
} tree_t;

static uint64_t subtree(tree_t *t, size_t i);

/* the configurations of i's children under choice v (1 with none) */
static uint64_t under(tree_t *t, size_t i, size_t v)
{
    uint64_t n = 1;
    for (size_t c = 0; c < t->sp->n; c++) {
        const hp_param_t *p = &t->sp->params[c];
        if (p->has_when && p->when_parent == i && space_when_holds(p, (double)v) &&
            __builtin_mul_overflow(n, subtree(t, c), &n) && !t->overflow)
            t->overflow = (int)c + 1;
    }
    return n;
}

/* the configurations of the subtree rooted at i: memoized, since they do
 * not depend on how i was reached */
static uint64_t subtree(tree_t *t, size_t i)
{
    if (t->done[i])
        return t->count[i];
    const hp_param_t *p = &t->sp->params[i];
    uint64_t n = 0;
    if (p->type == HP_PARAM_CATEGORICAL) {
        for (size_t v = 0; v < p->n_values; v++)
            if (__builtin_add_overflow(n, under(t, i, v), &n) && !t->overflow)
                t->overflow = (int)i + 1;
    } else {
        n = grid_count(p);
    }
    t->count[i] = n;
    t->done[i] = 1;
    return n;
}

static int cond_grid_size(const hp_space_t *sp, uint64_t *size, hp_diag_t *diag)
{
    tree_t *t = calloc(1, sizeof *t);
    HP_ASSERT(t != NULL);
    t->sp = sp;
    uint64_t n = 1;
    for (size_t i = 0; i < sp->n; i++)
        if (!sp->params[i].has_when && __builtin_mul_overflow(n, subtree(t, i), &n) &&
            !t->overflow)
            t->overflow = (int)i + 1;
    int rc = 0;
    if (t->overflow) {
        if (diag)
            hp_diag_add(diag, "", 0, "space",
                        "the grid has more than 2^64 points (overflow at parameter %s)",
                        sp->params[t->overflow - 1].name);
        rc = HP_ERANGE;
    }
    *size = rc ? 0 : n;
    free(t);
    return rc;
}

static void decode(tree_t *t, size_t i, uint64_t idx, double *x);

/* decode idx over the parameters among `which` (space order, the last
 * fastest); returns what is left over */
static uint64_t decode_list(tree_t *t, const size_t *which, size_t n, uint64_t idx, double *x)
{
    for (size_t k = n; k-- > 0;) {
        uint64_t c = subtree(t, which[k]);
        decode(t, which[k], idx % c, x);
        idx /= c;
    }
    return idx;
}

static void decode(tree_t *t, size_t i, uint64_t idx, double *x)
{
    const hp_param_t *p = &t->sp->params[i];
    if (p->type != HP_PARAM_CATEGORICAL) {
        uint64_t c = grid_count(p);
        x[i] = grid_value(p, idx, c);
        return;
    }
    for (size_t v = 0; v < p->n_values; v++) {
        uint64_t w = under(t, i, v);
        if (idx >= w) {
            idx -= w;
            continue;
        }
        x[i] = (double)v;
        size_t kids[HP_SPACE_MAX_PARAMS], nk = 0;
        for (size_t c = 0; c < t->sp->n; c++) {
            const hp_param_t *q = &t->sp->params[c];
            if (q->has_when && q->when_parent == i && space_when_holds(q, (double)v))
                kids[nk++] = c;
        }
        decode_list(t, kids, nk, idx, x);
        return;
    }
}

static int cond_grid_point(const hp_space_t *sp, uint64_t idx, double *x)
{
    tree_t *t = calloc(1, sizeof *t);
    HP_ASSERT(t != NULL);
    t->sp = sp;
    size_t roots[HP_SPACE_MAX_PARAMS], nr = 0;
    for (size_t i = 0; i < sp->n; i++) {
        x[i] = NAN;
        if (!sp->params[i].has_when)
            roots[nr++] = i;
    }
    uint64_t left = decode_list(t, roots, nr, idx, x);
    free(t);
    return left == 0 ? 0 : HP_ERANGE;
}

/* ---- grid -------------------------------------------------------------- */

/* grid_count: how many grid values the parameter contributes; 0 when it
 * has none (a continuous float without values or grid_points) */
static uint64_t grid_count(const hp_param_t *p)
{
    if (p->n_values)
        return p->n_values;
    switch (p->type) {
    case HP_PARAM_FLOAT:
        if (p->step > 0)
            return space_float_steps(p);
        return p->grid_points;
    case HP_PARAM_INT:
        return space_int_steps(p);
    case HP_PARAM_CATEGORICAL:
        return 0;
    }
    return 0;
}

int hp_space_grid_size(const hp_space_t *sp, uint64_t *size, hp_diag_t *diag)
{
    *size = 0;
    int missing = 0;
    for (size_t i = 0; i < sp->n; i++) {
        const hp_param_t *p = &sp->params[i];
        if (grid_count(p) > 0)
            continue;
        missing++;
        if (!diag)
            continue;
        char path[HP_PARAM_NAME_MAX + 8];
        snprintf(path, sizeof path, "space.%s", p->name);
        if (p->type == HP_PARAM_FLOAT)
            hp_diag_add(diag, "", 0, path, "grid search needs `values` or `grid_points` for "
                        "the continuous float %s", p->name);
        else
            hp_diag_add(diag, "", 0, path, "has no values to enumerate");
    }
    if (missing)
        return HP_EINVAL;
    if (hp_space_is_conditional(sp))
        return cond_grid_size(sp, size, diag);
    uint64_t n = 1;
    for (size_t i = 0; i < sp->n; i++) {
        if (__builtin_mul_overflow(n, grid_count(&sp->params[i]), &n)) {
            if (diag)
                hp_diag_add(diag, "", 0, "space", "the grid has more than 2^64 points "
                            "(overflow at parameter %s)", sp->params[i].name);
            return HP_ERANGE;
        }
    }
    *size = n;
    return 0;
}

static double grid_value(const hp_param_t *p, uint64_t i, uint64_t count)
{
    if (p->type == HP_PARAM_CATEGORICAL)
        return (double)i;
    if (p->n_values)
        return p->values[i].num;
    if (p->type == HP_PARAM_INT)
        return space_int_step_value(p, i);
    if (p->step > 0)
        return space_float_step_value(p, i);
    /* grid_points: evenly spaced in the mapped (log) space, ends included */
    return space_float_from_unit(p, i == count - 1 ? 1.0 : (double)i / (double)(count - 1));
}

int hp_space_grid_point(const hp_space_t *sp, uint64_t idx, double *x)
{
    for (size_t i = 0; i < sp->n; i++)
        if (grid_count(&sp->params[i]) == 0)
            return HP_EINVAL;
    if (hp_space_is_conditional(sp))
        return cond_grid_point(sp, idx, x);
    for (size_t i = sp->n; i-- > 0;) {
        uint64_t c = grid_count(&sp->params[i]);
        if (c == 0)
            return HP_EINVAL;
        x[i] = grid_value(&sp->params[i], idx % c, c);
        idx /= c;
    }
    /* what is left over means idx >= size (and works when size overflows) */
    return idx == 0 ? 0 : HP_ERANGE;
}

