/* fastmath_int.h — private to worker/nn: exp, sigmoid, tanh and a float
 * sum that GCC can vectorize (libm's expf/tanhf are calls, and were over
 * half of an LSTM step). Cephes-style expf: range reduction by ln 2, a degree-6
 * polynomial, and the exponent built in the float's bits; relative error
 * about 2e-7 on the clamped range [-87, 88]. NaN in gives NaN out (the
 * clamps are comparisons, which NaN fails), so the NaN guard still sees it.
 */
#ifndef HP_NN_FASTMATH_INT_H
#define HP_NN_FASTMATH_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline float hp_fexp(float x)
{
    x = x > 88.0f ? 88.0f : x;
    x = x < -87.0f ? -87.0f : x;
    /* n = round(x / ln 2) via the 1.5 * 2^23 trick: no float->int cast */
    float r = x * 1.44269504088896341f + 12582912.0f;
    float n = r - 12582912.0f;
    uint32_t rb;
    memcpy(&rb, &r, sizeof rb);
    float f = x - n * 0.693359375f;
    f = f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * f + 1.3981999507e-3f;
    p = p * f + 8.3334519073e-3f;
    p = p * f + 4.1665795894e-2f;
    p = p * f + 1.6666665459e-1f;
    p = p * f + 5.0000001201e-1f;
    p = p * f * f + f + 1.0f;
    uint32_t sb = (rb - 0x4B400000u + 127u) << 23; /* 2^n */
    float s;
    memcpy(&s, &sb, sizeof s);
    return p * s;
}

static inline float hp_fsigmoid(float x)
{
    return 1.0f / (1.0f + hp_fexp(-x));
}

static inline float hp_ftanh(float x)
{
    /* 1 - 2 / (1 + e^2x): absolute error ~1e-7 everywhere, saturates cleanly */
    return 1.0f - 2.0f / (1.0f + hp_fexp(2.0f * x));
}

/* sum of p[0..n) with 8 independent partial sums: without -ffast-math GCC
 * may not reorder a single running sum, so that one would stay scalar */
static inline float hp_fsum8(const float *p, size_t n)
{
    float acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += p[i + j];
    float s = 0.0f;
    for (; i < n; i++)
        s += p[i];
    for (int j = 0; j < 8; j++)
        s += acc[j];
    return s;
}

/* sum of p[i] * q[i] with 8 independent partial sums (as hp_fsum8) */
static inline float hp_fdot8(const float *p, const float *q, size_t n)
{
    float acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += p[i + j] * q[i + j];
    float s = 0.0f;
    for (; i < n; i++)
        s += p[i] * q[i];
    for (int j = 0; j < 8; j++)
        s += acc[j];
    return s;
}

#endif
