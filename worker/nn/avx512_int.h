/* avx512_int.h — private to worker/nn: the AVX-512 piece the own GEMM
 * kernels share (gemm_f32.c, gemm_bf16.c). Include it only where those
 * files compile their AVX-512 code (GCC on x86-64). */
#ifndef HP_NN_AVX512_INT_H
#define HP_NN_AVX512_INT_H

#include <immintrin.h>

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

#endif
