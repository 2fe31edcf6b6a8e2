/* avx512_int.h — private to worker/nn: the AVX-512 pieces the own kernels
 * share (gemm_f32.c, gemm_bf16.c, conv_direct.c). Include it only where
 * those files compile their AVX-512 code (GCC on x86-64). */
#ifndef HP_NN_AVX512_INT_H
#define HP_NN_AVX512_INT_H

#include <immintrin.h>

/* the CPU runs AVX-512F (the fp32 kernels need nothing more) */
static inline int hp_nn_cpu_avx512f(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

/* the mask of the first n of 16 lanes (none for n <= 0, all from 16):
 * the tail of a row of n floats, from the lane it starts at */
static inline __mmask16 hp_nn_mask16(int n)
{
    return n <= 0 ? 0 : n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1);
}

/* v[i] lane j becomes v[j] lane i (16 x 16 32-bit elements: floats or
 * bf16 pairs alike) */
__attribute__((target("avx512f"))) static inline void hp_nn_transpose16(__m512i v[16])
{
    __m512i t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_epi32(v[2 * i], v[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi32(v[2 * i], v[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        v[4 * i + 0] = _mm512_unpacklo_epi64(t[4 * i + 0], t[4 * i + 2]);
        v[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i + 0], t[4 * i + 2]);
        v[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
        v[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
    for (int i = 0; i < 2; i++)
        for (int c = 0; c < 4; c++) {
            t[8 * i + c] = _mm512_shuffle_i32x4(v[8 * i + c], v[8 * i + 4 + c], 0x88);
            t[8 * i + 4 + c] = _mm512_shuffle_i32x4(v[8 * i + c], v[8 * i + 4 + c], 0xdd);
        }
    for (int c = 0; c < 8; c++) {
        v[c] = _mm512_shuffle_i32x4(t[c], t[8 + c], 0x88);
        v[8 + c] = _mm512_shuffle_i32x4(t[c], t[8 + c], 0xdd);
    }
}

/* The end of an 8 x 32 tile of C held as two 16-float halves a row
 * (c0, c1): its mr x nr corner (mr <= 8, nr <= 32) becomes alpha acc +
 * beta C on the first block of K (first; beta 0 never reads C, which may
 * hold NaN: BLAS semantics) and C + alpha acc after it. */
__attribute__((target("avx512f"), always_inline)) static inline void
hp_nn_tile_store(float *C, int ldc, const __m512 c0[8], const __m512 c1[8], int mr, int nr,
                 float alpha, float beta, int first)
{
    __mmask16 m0 = hp_nn_mask16(nr), m1 = hp_nn_mask16(nr - 16);
    __m512 va = _mm512_set1_ps(alpha);
    for (int i = 0; i < mr; i++) {
        float *row = C + (size_t)i * ldc;
        __m512 r0 = _mm512_mul_ps(c0[i], va), r1 = _mm512_mul_ps(c1[i], va);
        if (!first || beta != 0.0f) {
            __m512 s = _mm512_set1_ps(first ? beta : 1.0f);
            r0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m0, row), s, r0);
            r1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m1, row + 16), s, r1);
        }
        _mm512_mask_storeu_ps(row, m0, r0);
        _mm512_mask_storeu_ps(row + 16, m1, r1);
    }
}

#endif
