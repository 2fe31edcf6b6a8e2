/*
 * sobol.h — a Sobol low-discrepancy sequence in up to HP_SOBOL_MAX_DIMS
 * dimensions (Joe & Kuo direction numbers, new-joe-kuo-6.21201), with
 * optional seeded scrambling.
 *
 * Samplers use it for space-filling initial designs and for the
 * quasi-random sweep that seeds acquisition maximisation: its points cover
 * [0,1)^d far more evenly than independent uniforms.
 *
 *     hp_sobol_t s;
 *     if (hp_sobol_init(&s, sp->n, 1, spec->seed) < 0) ...
 *     hp_sobol_skip(&s, n_done);        // resume after n_done points
 *     double u[HP_SOBOL_MAX_DIMS];
 *     hp_sobol_next(&s, u);             // u in [0,1)^d
 *     hp_space_from_unit(sp, u, x);
 *     hp_sobol_fini(&s);
 *
 * Unscrambled, the sequence equals scipy.stats.qmc.Sobol(d, scramble=False)
 * point for point, starting with the all-zero point. Scrambled, it applies a
 * random linear matrix scramble and a random digital shift (both drawn from
 * hp_rng with the given seed), the same kind of scrambling as scipy's
 * default: the points stay a (t,s)-sequence, but no longer start at 0 and no
 * longer sit on the coarse dyadic grid. Balance properties hold for prefixes
 * of 2^k points, so prefer powers of two.
 *
 * The state is a plain heap-backed value; a generator is not thread-safe
 * (give each thread its own, or copy with hp_sobol_init + hp_sobol_skip).
 */
#ifndef HP_SOBOL_H
#define HP_SOBOL_H

#include <stdint.h>

#define HP_SOBOL_MAX_DIMS 256
/* Points carry this many bits: the sequence has 2^52 points and every
 * coordinate is exactly a double. */
#define HP_SOBOL_BITS 52

typedef struct hp_sobol {
    unsigned dims;
    uint64_t index;  /* number of the next point (0-based) */
    uint64_t *v;     /* dims x HP_SOBOL_BITS direction numbers (scrambled) */
    uint64_t *x;     /* dims: the current point, as HP_SOBOL_BITS-bit ints */
    uint64_t *shift; /* dims: digital shift XORed into outputs (0s if none) */
} hp_sobol_t;

/* hp_sobol_init prepares a generator for dims dimensions (1..
 * HP_SOBOL_MAX_DIMS) positioned at point 0. With scramble != 0 the sequence
 * is scrambled deterministically from seed (every seed, 0 included, gives
 * its own scramble); with scramble == 0 seed is ignored. The caller owns s
 * and must call hp_sobol_fini. Returns 0, HP_EINVAL for a bad dims (s is
 * then zeroed) or HP_ENOMEM. */
int hp_sobol_init(hp_sobol_t *s, unsigned dims, int scramble, uint64_t seed);
/* hp_sobol_fini frees the generator's memory; safe on zeroed memory and
 * after a failed init. */
void hp_sobol_fini(hp_sobol_t *s);
/* hp_sobol_next writes the next point to u[0..dims) (each in [0,1)) and
 * advances. After 2^52 points the sequence starts over. */
void hp_sobol_next(hp_sobol_t *s, double *u);
/* hp_sobol_skip advances by n points without producing them, in
 * O(dims * 52) time whatever n is (scipy's fast_forward). */
void hp_sobol_skip(hp_sobol_t *s, uint64_t n);

#endif
