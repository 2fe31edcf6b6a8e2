/*
 * vec.h — growable arrays: the one growth rule for every array the project
 * appends to.
 *
 *     HP_VEC(hp_trial_t) all = {0};
 *     HP_VEC_PUSH(all, t);          // all.v[all.n++] = t, growing first
 *     ...
 *     free(all.v);
 *
 * Capacity doubles (from a minimum when empty), so n appends cost O(n)
 * copies in all. The plain forms abort on allocation failure (HP_ASSERT),
 * as buffers of the program's own making do everywhere; hp_vec_try_grow is
 * for arrays whose size the input decides (a user's CSV file), where
 * running out of memory is an error to report.
 */
#ifndef HP_VEC_H
#define HP_VEC_H

#include <stddef.h>

#define HP_VEC(T)                                                                                  \
    struct {                                                                                       \
        T *v;                                                                                      \
        size_t n, cap;                                                                             \
    }

#define HP_VEC_MIN_CAP 16

/* hp_vec_next_cap returns the capacity that holds need items: cap doubled
 * (starting from min when cap is 0) until it does, or cap itself when it
 * already does. For arrays that share one capacity (parallel arrays). */
size_t hp_vec_next_cap(size_t cap, size_t need, size_t min);

/* hp_vec_grow returns p (an array of *cap items of elem bytes) reallocated
 * to hold at least need items, and updates *cap. Aborts when memory or
 * size_t runs out. */
void *hp_vec_grow(void *p, size_t *cap, size_t need, size_t elem, size_t min);

/* hp_vec_try_grow is hp_vec_grow that fails instead: it returns NULL and
 * leaves p (still valid, still the caller's) and *cap as they were. need
 * must be at least 1, so NULL always means failure. */
void *hp_vec_try_grow(void *p, size_t *cap, size_t need, size_t elem, size_t min);

/* hp_vec_realloc reallocates p to n items of elem bytes, aborting on
 * overflow or failure: for arrays sized by hp_vec_next_cap. */
void *hp_vec_realloc(void *p, size_t n, size_t elem);

/* HP_VEC_RESERVE makes room for need items in an HP_VEC. */
#define HP_VEC_RESERVE(vec, need)                                                                  \
    ((vec).v = hp_vec_grow((vec).v, &(vec).cap, (need), sizeof *(vec).v, HP_VEC_MIN_CAP))

/* HP_VEC_PUSH appends item to an HP_VEC. */
#define HP_VEC_PUSH(vec, item)                                                                     \
    do {                                                                                           \
        HP_VEC_RESERVE(vec, (vec).n + 1);                                                          \
        (vec).v[(vec).n++] = (item);                                                               \
    } while (0)

#endif
