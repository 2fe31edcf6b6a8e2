/* The growth rule behind vec.h. */
#include "vec.h"

#include "err.h"

#include <stdint.h>
#include <stdlib.h>

size_t hp_vec_next_cap(size_t cap, size_t need, size_t min)
{
    if (need <= cap)
        return cap;
    size_t c = cap ? cap : (min ? min : 1);
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return need; /* no doubling left: exactly what is asked */
        c *= 2;
    }
    return c;
}

void *hp_vec_try_grow(void *p, size_t *cap, size_t need, size_t elem, size_t min)
{
    if (need <= *cap)
        return p;
    size_t c = hp_vec_next_cap(*cap, need, min);
    if (elem && c > SIZE_MAX / elem)
        return NULL;
    void *np = realloc(p, c * elem);
    if (!np)
        return NULL;
    *cap = c;
    return np;
}

void *hp_vec_grow(void *p, size_t *cap, size_t need, size_t elem, size_t min)
{
    if (need <= *cap)
        return p;
    void *np = hp_vec_try_grow(p, cap, need, elem, min);
    HP_ASSERT(np != NULL);
    return np;
}

void *hp_vec_realloc(void *p, size_t n, size_t elem)
{
    HP_ASSERT(!elem || n <= SIZE_MAX / elem);
    size_t bytes = n * elem;
    void *np = realloc(p, bytes ? bytes : 1);
    HP_ASSERT(np != NULL);
    return np;
}
