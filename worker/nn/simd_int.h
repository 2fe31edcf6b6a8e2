/* simd_int.h — private to worker/nn: an 8-float vector type and the
 * attribute that compiles a hot kernel twice.
 *
 * hp_v8 is GCC's generic vector extension, not an intrinsic type, so the
 * code builds on any CPU GCC targets: at the baseline x86-64 (SSE2) GCC
 * splits each operation into two 4-wide ones. HP_NN_CLONES makes GCC emit
 * an x86-64-v3 (AVX2 + FMA) copy of the function beside the baseline one
 * and pick between them once, at load time (an ifunc), by what the CPU
 * running it has (GCC only: clang, which builds the fuzz targets, gets
 * the baseline copy alone). So nothing here assumes a particular CPU:
 * SkylakeX, Cooperlake and Zen take the v3 copy, an older CPU the baseline.
 *
 * Loads and stores go through memcpy: they may be unaligned (slices of a
 * padded image start anywhere) and memcpy is how C says that without
 * breaking the aliasing rules; GCC turns it into one vmovups.
 *
 *     hp_v8 a = hp_v8_load(p), s = hp_v8_splat(x);
 *     hp_v8_store(q, a * s + hp_v8_load(q));   // contracted to one FMA
 */
#ifndef HP_NN_SIMD_INT_H
#define HP_NN_SIMD_INT_H

#include <string.h>

typedef float hp_v8 __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(HP_NN_NO_CLONES)
#define HP_NN_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define HP_NN_CLONES
#endif

/* HP_NN_SIMD_CLONES: the same with an x86-64-v4 (AVX-512) copy too, for
 * the LSTM's cell passes (fastvec_int.h) and the elementwise passes of the
 * other layers (activations, the TCN's gate, attention's softmax, layer
 * norm, losses, biases): uncloned, they ran as baseline SSE2, and the
 * TCN's gate alone was a sixth of its step (its step 27.8 -> 24.5 ms with
 * the clones). Batch norm and the strided convolutions' copies are bound
 * by memory, not by the vector width, and gained nothing. Defining it
 * (empty) on the command line forces the one portable build, to test it. */
#ifndef HP_NN_SIMD_CLONES
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HP_NN_SIMD_CLONES                                                                          \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define HP_NN_SIMD_CLONES
#endif
#endif

/* The helpers always inline, so no hp_v8 crosses a call; GCC's note that a
 * 32-byte vector return has another ABI without AVX does not apply, here or
 * in the including file (where the inlined calls are): it stays off for
 * the rest of the translation unit. */
#pragma GCC diagnostic ignored "-Wpsabi"

#define HP_NN_INLINE static inline __attribute__((always_inline))

HP_NN_INLINE hp_v8 hp_v8_load(const float *p)
{
    hp_v8 v;
    memcpy(&v, p, sizeof v);
    return v;
}

HP_NN_INLINE void hp_v8_store(float *p, hp_v8 v)
{
    memcpy(p, &v, sizeof v);
}

typedef int hp_v8i __attribute__((vector_size(32)));

/* HP_V8_SHUFFLE(v, i0, ..., i7): lanes of v in the order given (constants).
 * GCC and clang spell it differently; the fuzz build uses clang. */
#if defined(__clang__)
#define HP_V8_SHUFFLE(v, ...) __builtin_shufflevector((v), (v), __VA_ARGS__)
#define HP_V8_SHUFFLE2(a, b, ...) __builtin_shufflevector((a), (b), __VA_ARGS__)
#else
#define HP_V8_SHUFFLE(v, ...) __builtin_shuffle((v), (hp_v8i){__VA_ARGS__})
/* lanes 0-7 of a then 8-15 of b, in the order given */
#define HP_V8_SHUFFLE2(a, b, ...) __builtin_shuffle((a), (b), (hp_v8i){__VA_ARGS__})
#endif

/* lane 0 shuffled into every lane: one vbroadcastss (with GCC the brace
 * list {x, x, ...} became eight inserts) */
HP_NN_INLINE hp_v8 hp_v8_splat(float x)
{
    return HP_V8_SHUFFLE((hp_v8){x}, 0, 0, 0, 0, 0, 0, 0, 0);
}

/* c[j] = column j of the 8 x 8 block whose rows are r[0..7] (lane i of
 * c[j] is r[i][j]): 24 shuffles, where 64 scalar moves were a strided
 * gather */
HP_NN_INLINE void hp_v8_transpose(hp_v8 c[8], const hp_v8 r[8])
{
    hp_v8 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = HP_V8_SHUFFLE2(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[i + 1] = HP_V8_SHUFFLE2(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    /* u[i + m]: columns m and m + 4 of rows i .. i + 3 */
    for (int i = 0; i < 8; i += 4) {
        u[i] = HP_V8_SHUFFLE2(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + 1] = HP_V8_SHUFFLE2(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        u[i + 2] = HP_V8_SHUFFLE2(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + 3] = HP_V8_SHUFFLE2(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int m = 0; m < 4; m++) {
        c[m] = HP_V8_SHUFFLE2(u[m], u[m + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        c[m + 4] = HP_V8_SHUFFLE2(u[m], u[m + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

#endif
