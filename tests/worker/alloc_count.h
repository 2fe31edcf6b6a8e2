/* alloc_count.h — counting the allocations a test makes, so it can assert
 * that a training step makes none. Include in exactly one file of a test
 * program linked with
 *     -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=aligned_alloc
 * (tests/worker/CMakeLists.txt's HP_ALLOC_WRAP); nallocs counts every call. */
#ifndef HP_TEST_ALLOC_COUNT_H
#define HP_TEST_ALLOC_COUNT_H

#include <stddef.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t k);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t k);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t a, size_t n);
/* volatile: the compiler assumes malloc touches no visible state */
static volatile long nallocs;
void *__wrap_malloc(size_t n)
{
    nallocs++;
    return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t k)
{
    nallocs++;
    return __real_calloc(n, k);
}
void *__wrap_realloc(void *p, size_t n)
{
    nallocs++;
    return __real_realloc(p, n);
}
void *__wrap_aligned_alloc(size_t a, size_t n)
{
    nallocs++;
    return __real_aligned_alloc(a, n);
}

#endif
