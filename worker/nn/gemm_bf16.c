/* gemm_bf16.c — hp_nn_gemm's bf16 path: C = alpha op(A) op(B) + beta C
 * with the products' inputs rounded to bfloat16 and their sums kept in
 * fp32, by AVX512_BF16's vdpbf16ps (32 multiply-adds an instruction, twice
 * the fp32 FMA's 16: on this project's Cooperlake-class core a measured 233
 * against 116 GFLOP/s).
 *
 * Blocked as a BLAS is: for each NC columns of C and KC of K, op(B)'s
 * block is packed (rounded to bf16) into panels of NR = 32 columns, pairs
 * of consecutive k side by side, the order vdpbf16ps multiplies them in:
 * panel[kp][j] = (B(2kp, j), B(2kp+1, j)), 32 bits each. For each MC rows,
 * op(A)'s block is packed the same way, panelA[kp][i]. An 8 x 32 tile of C
 * then keeps 16 accumulators in registers over the whole KC. Edges are
 * zero-padded in the packs (an odd K gets a zero partner), and the tile
 * writes only C's real rows and columns.
 *
 * The packing buffers are the bound context's (gemm.h), made before
 * training, so no training step allocates. Without AVX512_BF16 (or with
 * clang, which builds the fuzz targets) no kernel is compiled in and
 * hp_nn_bf16_supported() says 0: no context is made, and gemm.c keeps
 * fp32. */
#include "gemm_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MR 8
#define NR 32
#define KC 256 /* even */
#define MC 128 /* a multiple of MR */
#define NC 512 /* a multiple of NR */

struct hp_nn_bf16 {
    uint32_t *a; /* MC x KC/2 pairs */
    uint32_t *b; /* NC x KC/2 pairs */
};

static _Thread_local const hp_nn_bf16_t *bound;

const hp_nn_bf16_t *hp_nn_bf16_bound(void) { return bound; }

const hp_nn_bf16_t *hp_nn_bf16_bind(const hp_nn_bf16_t *ctx)
{
    const hp_nn_bf16_t *prev = bound;
    bound = ctx;
    return prev;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12

#include "avx512_int.h"

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

int hp_nn_bf16_supported(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl");
}

/* one float to bf16, rounding to nearest even as vcvtne2ps2bf16 does (a
 * NaN stays a NaN) */
static inline uint16_t to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline uint32_t pair(float lo, float hi) { return to_bf16(lo) | (uint32_t)to_bf16(hi) << 16; }

/* pair kp of a row x of kc values along k (an odd kc's last gets a zero
 * partner) */
static inline uint32_t row_pair(const float *x, int kp, int kc)
{
    return pair(x[2 * kp], 2 * kp + 1 < kc ? x[2 * kp + 1] : 0.0f);
}

/* Packs rows [0, n) (zero rows up to np, a multiple of 16) and k in [0, kc) of the
 * matrix M(r, k) = X[(r0 + r) * ld + k0 + k] (X[(k0 + k) * ld + r0 + r] when
 * r_contig) as dst[kp * stride + r].
 * "Contiguous in r" (M's r runs along memory) is the fast case: two rows of
 * k become 16 pairs per vector step; otherwise a row of r is contiguous in
 * k, and 16 rows are turned around at once (hp_nn_transpose16). */
BF16_TARGET static void pack(uint32_t *dst, int stride, const float *X, int ld, int r_contig,
                             int r0, int n, int np, int k0, int kc)
{
    int kpn = (kc + 1) / 2;
    if (r_contig) {
        /* M(r, k) = X[(k0 + k) * ld + r0 + r] */
        const __m512i lo_idx = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22,
                                                 7, 23);
        const __m512i hi_idx = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14,
                                                 30, 15, 31);
        for (int kp = 0; kp < kpn; kp++) {
            const float *x0 = X + (size_t)(k0 + 2 * kp) * ld + r0;
            int second = 2 * kp + 1 < kc;
            const float *x1 = x0 + ld;
            uint32_t *d = dst + (size_t)kp * stride;
            int r = 0;
            for (; r + 16 <= n; r += 16) {
                __m512 a = _mm512_loadu_ps(x0 + r);
                __m512 b = second ? _mm512_loadu_ps(x1 + r) : _mm512_setzero_ps();
                /* (a0 b0 a1 b1 ... a7 b7) and (a8 b8 ... a15 b15) */
                __m512 p0 = _mm512_permutex2var_ps(a, lo_idx, b);
                __m512 p1 = _mm512_permutex2var_ps(a, hi_idx, b);
                _mm512_storeu_si512(d + r, (__m512i)_mm512_cvtne2ps_pbh(p1, p0));
            }
            for (; r < n; r++)
                d[r] = pair(x0[r], second ? x1[r] : 0.0f);
            for (; r < np; r++)
                d[r] = 0;
        }
        return;
    }
    /* M(r, k) = X[(r0 + r) * ld + k0 + k]: a row's k are contiguous. 16
     * rows of 32 k become 16 vectors of 16 pairs, transposed in registers
     * into 16 vectors of one pair index each (16 rows); edges by element. */
    int r = 0;
    for (; r + 16 <= n; r += 16) {
        int kp = 0;
        for (; 2 * kp + 32 <= kc; kp += 16) {
            __m512i v[16];
            for (int q = 0; q < 16; q++) {
                const float *x = X + (size_t)(r0 + r + q) * ld + k0 + 2 * kp;
                v[q] = (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + 16), _mm512_loadu_ps(x));
            }
            hp_nn_transpose16(v);
            for (int q = 0; q < 16; q++)
                _mm512_storeu_si512(dst + (size_t)(kp + q) * stride + r, v[q]);
        }
        for (; kp < kpn; kp++)
            for (int q = 0; q < 16; q++)
                dst[(size_t)kp * stride + r + q] =
                    row_pair(X + (size_t)(r0 + r + q) * ld + k0, kp, kc);
    }
    for (; r < n; r++)
        for (int kp = 0; kp < kpn; kp++)
            dst[(size_t)kp * stride + r] = row_pair(X + (size_t)(r0 + r) * ld + k0, kp, kc);
    for (int kp = 0; kp < kpn; kp++)
        for (int z = n; z < np; z++)
            dst[(size_t)kp * stride + z] = 0;
}

/* C's mr x nr corner (mr <= 8, nr <= 32) += or = the product of an A panel
 * (8 rows, pairs at a[kp * sa + i]) and a B panel (32 columns at
 * b[kp * 32 + j]) over kpn pairs; first: C = alpha AB + beta C */
BF16_TARGET static void tile(int kpn, const uint32_t *a, int sa, const uint32_t *b, float *C,
                             int ldc, int mr, int nr, float alpha, float beta, int first)
{
    __m512 c0[MR], c1[MR];
    for (int i = 0; i < MR; i++)
        c0[i] = c1[i] = _mm512_setzero_ps();
    for (int kp = 0; kp < kpn; kp++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(b + (size_t)kp * NR);
        __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + (size_t)kp * NR + 16);
        const uint32_t *ap = a + (size_t)kp * sa;
        for (int i = 0; i < MR; i++) {
            __m512bh av = (__m512bh)_mm512_set1_epi32((int)ap[i]);
            c0[i] = _mm512_dpbf16_ps(c0[i], av, b0);
            c1[i] = _mm512_dpbf16_ps(c1[i], av, b1);
        }
    }
    hp_nn_tile_store(C, ldc, c0, c1, mr, nr, alpha, beta, first);
}

void hp_nn_gemm_bf16(const hp_nn_bf16_t *ctx, int ta, int tb, int M, int N, int K, float alpha,
                     const float *A, int lda, const float *B, int ldb, float beta, float *C,
                     int ldc)
{
    uint32_t *pack_a = ctx->a, *pack_b = ctx->b;
    for (int jc = 0; jc < N; jc += NC) {
        int nc = N - jc < NC ? N - jc : NC;
        for (int pc = 0; pc < K; pc += KC) {
            int kc = K - pc < KC ? K - pc : KC, kpn = (kc + 1) / 2;
            /* op(B)(k, j) as M(r = j, k): contiguous in j unless transposed;
             * packed panel by panel (32 columns, kpn pairs each) */
            for (int jr = 0; jr < nc; jr += NR) {
                int n = nc - jr < NR ? nc - jr : NR;
                pack(pack_b + (size_t)(jr / NR) * kpn * NR, NR, B, ldb, !tb, jc + jr, n, NR, pc,
                     kc);
            }
            for (int ic = 0; ic < M; ic += MC) {
                int mc = M - ic < MC ? M - ic : MC, mcp = (mc + 15) & ~15;
                /* op(A)(i, k) as M(r = i, k): contiguous in i when transposed */
                pack(pack_a, mcp, A, lda, ta, ic, mc, mcp, pc, kc);
                for (int jr = 0; jr < nc; jr += NR) {
                    int nr = nc - jr < NR ? nc - jr : NR;
                    const uint32_t *bp = pack_b + (size_t)(jr / NR) * kpn * NR;
                    for (int ir = 0; ir < mc; ir += MR) {
                        int mr = mc - ir < MR ? mc - ir : MR;
                        tile(kpn, pack_a + ir, mcp, bp, C + (size_t)(ic + ir) * ldc + jc + jr, ldc,
                             mr, nr, alpha, beta, pc == 0);
                    }
                }
            }
        }
    }
}

#else /* no AVX512_BF16 code in this build */

int hp_nn_bf16_supported(void) { return 0; }

void hp_nn_gemm_bf16(const hp_nn_bf16_t *ctx, int ta, int tb, int M, int N, int K, float alpha,
                     const float *A, int lda, const float *B, int ldb, float beta, float *C,
                     int ldc)
{
    (void)ctx, (void)ta, (void)tb, (void)M, (void)N, (void)K, (void)alpha, (void)A, (void)lda;
    (void)B, (void)ldb, (void)beta, (void)C, (void)ldc;
    abort(); /* never called: hp_nn_bf16_new made no context to bind */
}

#endif

hp_nn_bf16_t *hp_nn_bf16_new(void)
{
    if (!hp_nn_bf16_supported())
        return NULL;
    hp_nn_bf16_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->a = aligned_alloc(64, sizeof(uint32_t) * (MC * KC / 2));
    c->b = aligned_alloc(64, sizeof(uint32_t) * (NC * KC / 2));
    if (!c->a || !c->b) {
        hp_nn_bf16_free(c);
        return NULL;
    }
    return c;
}

void hp_nn_bf16_free(hp_nn_bf16_t *c)
{
    if (!c)
        return;
    free(c->a);
    free(c->b);
    free(c);
}

