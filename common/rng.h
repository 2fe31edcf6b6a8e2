/*
 * rng.h — a seeded, reproducible random number generator (xoshiro256**).
 *
 * Streams: hp_rng_init(&r, seed, stream) gives statistically independent
 * sequences for different `stream` values under one study seed, so trial
 * 17's randomness does not depend on how many numbers trial 16 drew:
 *
 *     hp_rng_t r;
 *     hp_rng_init(&r, spec->seed, trial_number);
 *     double u = hp_rng_uniform(&r);       // [0, 1)
 *
 * The state is a plain value: copy it to fork a stream. Not thread-safe
 * (give each thread its own).
 */
#ifndef HP_RNG_H
#define HP_RNG_H

#include <stdint.h>

typedef struct hp_rng {
    uint64_t s[4];
} hp_rng_t;

/* hp_rng_init seeds r from (seed, stream); any values are valid. */
void hp_rng_init(hp_rng_t *r, uint64_t seed, uint64_t stream);
uint64_t hp_rng_u64(hp_rng_t *r);
/* hp_rng_uniform returns a double uniform in [0, 1) with 53 random bits. */
double hp_rng_uniform(hp_rng_t *r);
/* hp_rng_below returns an unbiased integer in [0, n); n must be > 0. */
uint64_t hp_rng_below(hp_rng_t *r, uint64_t n);
/* hp_rng_normal returns a standard normal deviate (Box-Muller). */
double hp_rng_normal(hp_rng_t *r);
/* hp_rng_shuffle_u32 permutes a[0..n) uniformly (Fisher-Yates). */
void hp_rng_shuffle_u32(hp_rng_t *r, uint32_t *a, uint32_t n);

#endif
