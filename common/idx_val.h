/*
 * idx_val.h — a value with the index it came from, ordered by value then
 * index: a total, stable order for qsort (ties keep their input order),
 * used to rank, sort rows by a key and pick the best of a set; and the
 * plain ascending order of doubles.
 */
#ifndef HP_IDX_VAL_H
#define HP_IDX_VAL_H

#include <stddef.h>

typedef struct hp_idx_val {
    double v;
    size_t i;
} hp_idx_val_t;

/* qsort comparator: ascending v, then ascending i (v must not be NaN) */
static inline int hp_cmp_idx_val(const void *a, const void *b)
{
    const hp_idx_val_t *p = a, *q = b;
    if (p->v != q->v)
        return p->v < q->v ? -1 : 1;
    return p->i < q->i ? -1 : p->i > q->i;
}

/* qsort comparator: ascending doubles (none may be NaN) */
static inline int hp_cmp_double(const void *a, const void *b)
{
    double p = *(const double *)a, q = *(const double *)b;
    return p < q ? -1 : p > q;
}

#endif
