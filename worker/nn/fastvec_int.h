/* fastvec_int.h — private to worker/nn: the exp, sigmoid and tanh of
 * fastmath_int.h on eight floats at once, written with GCC/Clang vector
 * extensions so that one source serves every x86 level (and any other
 * target): a function built for AVX2+FMA gets one ymm per hp_v8, the
 * baseline build two SSE registers. GCC does not if-convert the scalar
 * versions' clamps inside a loop, so a loop over hp_fexp stays scalar;
 * these never branch.
 *
 * Same algorithm and constants as hp_fexp (range reduction by ln 2, the
 * degree-6 polynomial, 2^n built in the exponent bits), so the accuracy is
 * the same: relative error about 2e-7 on the clamped range [-87, 88]; with
 * FMA contraction slightly better. NaN in gives NaN out: the clamps are
 * selects on comparisons, which NaN fails.
 *
 *     hp_v8 x = hp_v8_load(p);            (hp_v8 and its loads: simd_int.h)
 *     hp_v8_store(p, hp_v8_sigmoid(x));
 *
 * Callers that want the wide instructions mark their loop function with
 * HP_NN_SIMD_CLONES (simd_int.h: a run-time choice between the clones, by
 * CPU). */
#ifndef HP_NN_FASTVEC_INT_H
#define HP_NN_FASTVEC_INT_H

#include "simd_int.h"

#include <stdint.h>
#include <string.h>

typedef uint32_t hp_v8u __attribute__((vector_size(32)));

/* the first n (0..8) floats of p; the other lanes 0 */
HP_NN_INLINE hp_v8 hp_v8_loadn(const float *p, int n)
{
    hp_v8 v = hp_v8_splat(0.0f);
    if (n >= 8)
        return hp_v8_load(p);
    memcpy(&v, p, sizeof(float) * (size_t)n);
    return v;
}

HP_NN_INLINE void hp_v8_storen(float *p, hp_v8 v, int n)
{
    if (n >= 8)
        hp_v8_store(p, v);
    else
        memcpy(p, &v, sizeof(float) * (size_t)n);
}

/* m ? a : b, lane by lane; m lanes are all ones or all zeros (a compare) */
HP_NN_INLINE hp_v8 hp_v8_select(hp_v8i m, hp_v8 a, hp_v8 b)
{
    return (hp_v8)((m & (hp_v8i)a) | (~m & (hp_v8i)b));
}

HP_NN_INLINE hp_v8 hp_v8_exp(hp_v8 x)
{
    x = hp_v8_select(x > 88.0f, hp_v8_splat(88.0f), x);
    x = hp_v8_select(x < -87.0f, hp_v8_splat(-87.0f), x);
    hp_v8 r = x * 1.44269504088896341f + 12582912.0f;
    hp_v8 n = r - 12582912.0f;
    hp_v8 f = x - n * 0.693359375f;
    f = f + n * 2.12194440e-4f;
    hp_v8 p = hp_v8_splat(1.9875691500e-4f);
    p = p * f + 1.3981999507e-3f;
    p = p * f + 8.3334519073e-3f;
    p = p * f + 4.1665795894e-2f;
    p = p * f + 1.6666665459e-1f;
    p = p * f + 5.0000001201e-1f;
    p = p * f * f + f + 1.0f;
    /* unsigned: a NaN's bits must not overflow a signed shift */
    hp_v8u s = ((hp_v8u)r - 0x4B400000u + 127u) << 23; /* 2^n */
    return p * (hp_v8)s;
}

HP_NN_INLINE hp_v8 hp_v8_sigmoid(hp_v8 x)
{
    return 1.0f / (1.0f + hp_v8_exp(-x));
}

HP_NN_INLINE hp_v8 hp_v8_tanh(hp_v8 x)
{
    return 1.0f - 2.0f / (1.0f + hp_v8_exp(2.0f * x));
}

#endif
