#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void hp_rng_init(hp_rng_t *r, uint64_t seed, uint64_t stream)
{
    /* Mix the stream through its own splitmix step before combining, so
     * (seed, stream) and (seed + 1, stream - 1) land far apart. */
    uint64_t t = stream;
    uint64_t x = seed ^ splitmix64(&t);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1; /* the all-zero state is a fixed point */
}

uint64_t hp_rng_u64(hp_rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double hp_rng_uniform(hp_rng_t *r) { return (double)(hp_rng_u64(r) >> 11) * 0x1.0p-53; }

uint64_t hp_rng_below(hp_rng_t *r, uint64_t n)
{
    /* Lemire's nearly-divisionless method would do; rejection is simpler. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = hp_rng_u64(r);
    while (x >= limit);
    return x % n;
}

double hp_rng_normal(hp_rng_t *r)
{
    double u1, u2;
    do
        u1 = hp_rng_uniform(r);
    while (u1 <= 0.0);
    u2 = hp_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void hp_rng_shuffle_u32(hp_rng_t *r, uint32_t *a, uint32_t n)
{
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = (uint32_t)hp_rng_below(r, i);
        uint32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}
