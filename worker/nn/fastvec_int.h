/* fastvec_int.h — private to worker/nn: the exp, sigmoid and tanh of
 * fastmath_int.h on eight floats at once, written with GCC/Clang vector
 * extensions so that one source serves every x86 level (and any other
 * target): a function built for AVX2+FMA gets one ymm per hp_v8f, the
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
 *     hp_v8f x = hp_v8_load(p);
 *     hp_v8_store(p, hp_v8_sigmoid(x));
 *
 * Callers that want the wide instructions mark their loop function with
 * HP_NN_SIMD_CLONES (a run-time choice between the clones, by CPU). */
#ifndef HP_NN_FASTVEC_INT_H
#define HP_NN_FASTVEC_INT_H

#include <stdint.h>
#include <string.h>

typedef float hp_v8f __attribute__((vector_size(32)));
typedef int32_t hp_v8i __attribute__((vector_size(32)));
typedef uint32_t hp_v8u __attribute__((vector_size(32)));

/* GCC builds one copy per level and an ifunc picks the best at load time.
 * Clang and non-x86 targets get the one portable build; defining the macro
 * (empty) on the command line forces that build, to test it. */
#ifndef HP_NN_SIMD_CLONES
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HP_NN_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define HP_NN_SIMD_CLONES
#endif
#endif

#define HP_V8_INLINE static inline __attribute__((always_inline))

/* These always inline, so no hp_v8f crosses a call; GCC's note that a
 * 32-byte vector return has another ABI without AVX does not apply, here or
 * in the including file (where the inlined calls are): it stays off for
 * the rest of the translation unit. */
#pragma GCC diagnostic ignored "-Wpsabi"

HP_V8_INLINE hp_v8f hp_v8_set1(float x)
{
    return (hp_v8f){x, x, x, x, x, x, x, x};
}

HP_V8_INLINE hp_v8f hp_v8_load(const float *p)
{
    hp_v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}

HP_V8_INLINE void hp_v8_store(float *p, hp_v8f v)
{
    memcpy(p, &v, sizeof v);
}

/* the first n (0..8) floats of p; the other lanes 0 */
HP_V8_INLINE hp_v8f hp_v8_loadn(const float *p, int n)
{
    hp_v8f v = hp_v8_set1(0.0f);
    if (n >= 8)
        return hp_v8_load(p);
    memcpy(&v, p, sizeof(float) * (size_t)n);
    return v;
}

HP_V8_INLINE void hp_v8_storen(float *p, hp_v8f v, int n)
{
    if (n >= 8)
        hp_v8_store(p, v);
    else
        memcpy(p, &v, sizeof(float) * (size_t)n);
}

/* m ? a : b, lane by lane; m lanes are all ones or all zeros (a compare) */
HP_V8_INLINE hp_v8f hp_v8_select(hp_v8i m, hp_v8f a, hp_v8f b)
{
    return (hp_v8f)((m & (hp_v8i)a) | (~m & (hp_v8i)b));
}

HP_V8_INLINE hp_v8f hp_v8_exp(hp_v8f x)
{
    x = hp_v8_select(x > 88.0f, hp_v8_set1(88.0f), x);
    x = hp_v8_select(x < -87.0f, hp_v8_set1(-87.0f), x);
    hp_v8f r = x * 1.44269504088896341f + 12582912.0f;
    hp_v8f n = r - 12582912.0f;
    hp_v8f f = x - n * 0.693359375f;
    f = f + n * 2.12194440e-4f;
    hp_v8f p = hp_v8_set1(1.9875691500e-4f);
    p = p * f + 1.3981999507e-3f;
    p = p * f + 8.3334519073e-3f;
    p = p * f + 4.1665795894e-2f;
    p = p * f + 1.6666665459e-1f;
    p = p * f + 5.0000001201e-1f;
    p = p * f * f + f + 1.0f;
    /* unsigned: a NaN's bits must not overflow a signed shift */
    hp_v8u s = ((hp_v8u)r - 0x4B400000u + 127u) << 23; /* 2^n */
    return p * (hp_v8f)s;
}

HP_V8_INLINE hp_v8f hp_v8_sigmoid(hp_v8f x)
{
    return 1.0f / (1.0f + hp_v8_exp(-x));
}

HP_V8_INLINE hp_v8f hp_v8_tanh(hp_v8f x)
{
    return 1.0f - 2.0f / (1.0f + hp_v8_exp(2.0f * x));
}

#endif
