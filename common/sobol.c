#include "sobol.h"

#include "err.h"
#include "rng.h"
#include "sobol_table.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(HP_SOBOL_MAX_DIMS <= HP_SOBOL_TABLE_DIMS,
               "sobol_table.h has fewer dimensions than HP_SOBOL_MAX_DIMS");
_Static_assert(HP_SOBOL_BITS < 64, "points are kept in uint64_t");

#define MASK ((UINT64_C(1) << HP_SOBOL_BITS) - 1)

/* The rng stream used for scrambling: far above any trial number, so a
 * sampler seeding trial streams from the same study seed never draws the
 * same numbers the scramble did. */
#define SCRAMBLE_STREAM UINT64_C(0x536f626f6c000000)

static unsigned bit_length(uint32_t p)
{
    unsigned n = 0;
    while (p) {
        n++;
        p >>= 1;
    }
    return n;
}

/* direction numbers of dimension d, unscrambled: v[j] = m_j * 2^(BITS-1-j)
 * with m_j from the Bratley–Fox recurrence on the primitive polynomial
 * (the same recurrence scipy's _initialize_v runs, so points match). */
static void direction_numbers(unsigned d, uint64_t *v)
{
    uint64_t m[HP_SOBOL_BITS];
    if (d == 0) {
        for (unsigned j = 0; j < HP_SOBOL_BITS; j++)
            m[j] = 1;
    } else {
        uint32_t p = hp_sobol_poly[d];
        unsigned deg = bit_length(p) - 1;
        HP_ASSERT(deg >= 1 && deg <= HP_SOBOL_TABLE_MAX_DEGREE);
        for (unsigned j = 0; j < deg; j++)
            m[j] = hp_sobol_minit[d][j];
        for (unsigned j = deg; j < HP_SOBOL_BITS; j++) {
            uint64_t nv = m[j - deg];
            uint64_t pow2 = 1;
            for (unsigned k = 0; k < deg; k++) {
                pow2 <<= 1;
                if ((p >> (deg - 1 - k)) & 1)
                    nv ^= pow2 * m[j - k - 1];
            }
            m[j] = nv;
        }
    }
    for (unsigned j = 0; j < HP_SOBOL_BITS; j++)
        v[j] = m[j] << (HP_SOBOL_BITS - 1 - j);
}

/* Linear matrix scramble of one dimension: output bit b is bit b of the
 * input XOR a random combination of the more significant bits (a random
 * lower-triangular matrix with unit diagonal, in digit order). Applied to
 * the direction numbers it scrambles every point, and since the matrix is
 * invertible the net structure survives. */
static void scramble_dim(hp_rng_t *r, uint64_t *v)
{
    uint64_t rows[HP_SOBOL_BITS];
    for (unsigned b = 0; b < HP_SOBOL_BITS; b++) {
        uint64_t above = MASK & ~((UINT64_C(1) << (b + 1)) - 1);
        rows[b] = (UINT64_C(1) << b) | (hp_rng_u64(r) & above);
    }
    for (unsigned j = 0; j < HP_SOBOL_BITS; j++) {
        uint64_t out = 0;
        for (unsigned b = 0; b < HP_SOBOL_BITS; b++)
            out |= (uint64_t)__builtin_parityll(rows[b] & v[j]) << b;
        v[j] = out;
    }
}

int hp_sobol_init(hp_sobol_t *s, unsigned dims, int scramble, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    if (dims < 1 || dims > HP_SOBOL_MAX_DIMS)
        return HP_EINVAL;
    s->v = malloc((size_t)dims * HP_SOBOL_BITS * sizeof *s->v);
    s->x = calloc(dims, sizeof *s->x);
    s->shift = calloc(dims, sizeof *s->shift);
    if (!s->v || !s->x || !s->shift) {
        hp_sobol_fini(s);
        return HP_ENOMEM;
    }
    s->dims = dims;
    hp_rng_t r;
    hp_rng_init(&r, seed, SCRAMBLE_STREAM);
    for (unsigned d = 0; d < dims; d++) {
        uint64_t *v = s->v + (size_t)d * HP_SOBOL_BITS;
        direction_numbers(d, v);
        if (scramble) {
            scramble_dim(&r, v);
            s->shift[d] = hp_rng_u64(&r) & MASK;
        }
    }
    return 0;
}

void hp_sobol_fini(hp_sobol_t *s)
{
    free(s->v);
    free(s->x);
    free(s->shift);
    memset(s, 0, sizeof *s);
}

void hp_sobol_next(hp_sobol_t *s, double *u)
{
    const double scale = 1.0 / (double)(UINT64_C(1) << HP_SOBOL_BITS);
    for (unsigned d = 0; d < s->dims; d++)
        u[d] = (double)(s->x[d] ^ s->shift[d]) * scale;
    /* Gray-code order (Antonov–Saleev): point i+1 differs from point i by
     * one direction number, the one at the lowest set bit of i+1. */
    s->index = (s->index + 1) & MASK;
    if (s->index == 0) {
        memset(s->x, 0, s->dims * sizeof *s->x);
        return;
    }
    unsigned c = (unsigned)__builtin_ctzll(s->index);
    for (unsigned d = 0; d < s->dims; d++)
        s->x[d] ^= s->v[(size_t)d * HP_SOBOL_BITS + c];
}

void hp_sobol_skip(hp_sobol_t *s, uint64_t n)
{
    s->index = (s->index + n) & MASK;
    /* point i is the XOR of the direction numbers at the set bits of
     * gray(i) = i ^ (i >> 1) */
    uint64_t g = s->index ^ (s->index >> 1);
    for (unsigned d = 0; d < s->dims; d++) {
        const uint64_t *v = s->v + (size_t)d * HP_SOBOL_BITS;
        uint64_t x = 0;
        for (unsigned b = 0; b < HP_SOBOL_BITS; b++)
            if ((g >> b) & 1)
                x ^= v[b];
        s->x[d] = x;
    }
}
