/* gemm_f32.c — hp_nn_gemm's own fp32 path, for CPUs whose AVX-512 the
 * linked OpenBLAS does not use.
 *
 * OpenBLAS picks its kernels by CPU model at load time, and a model newer
 * than the library gets a generic core: Debian 12's OpenBLAS 0.3.21 runs
 * Intel's Emerald Rapids (family 6 model 207) on its Prescott (SSE3)
 * kernels, 32 GFLOP/s of sgemm where the same library's SkylakeX kernels,
 * forced, reach 154 (engine_sgemm_peak, this project's machine). So when
 * the CPU has AVX-512 and OpenBLAS's core is not one of its AVX-512 ones,
 * products go here instead (HP_GEMM=openblas|builtin overrides the pick).
 *
 * The blocking is gemm_bf16.c's in fp32: for each NC columns of C and KC
 * of K (K cut into equal blocks), op(B)'s block is packed into panels of
 * NR = 32 columns, panel[k][j]; for each MC rows, op(A)'s block into
 * panelA[k][i]; an 8 x 32 tile of C keeps 16 zmm accumulators over the
 * whole KC (16 FMAs per 2 loads and 8 broadcasts). A B whose rows run
 * along k is turned around 16 x 16 in registers; an A whose rows run
 * along k needs no turning (its elements are broadcast one at a time) and
 * is read in place. Edges are zero-padded in the packs (the lanes past
 * them are computed and dropped; zeros keep denormal garbage out of them),
 * and the tile writes only C's real rows and columns. In an MLP step of
 * batch 128 the packs had been a sixth of the products' time (a memcpy
 * per 128-byte panel row, the transposes of the batch); now a twelfth.
 *
 * The packing buffers are per thread, made by hp_nn_f32_prepare (which
 * hp_nn_set_threads calls before training) and freed when the thread
 * ends, so no product allocates; a thread that never prepared keeps
 * OpenBLAS. Products run on the calling thread. */
#include "gemm_int.h"

#include "err.h"
#include "log.h"

#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MR 8
#define NR 32
#define KC 256
#define MC 128 /* a multiple of MR and of 16 */
#define NC 512 /* a multiple of NR */

typedef struct packs {
    float *a; /* MC x KC */
    float *b; /* NC x KC */
} packs_t;

static _Thread_local packs_t *mine;
static pthread_key_t packs_key;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int selected;
static const char *why = "";

static void packs_free(void *p)
{
    packs_t *k = p;
    if (k) {
        free(k->a);
        free(k->b);
        free(k);
    }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)

#include "avx512_int.h"

#define F32_TARGET __attribute__((target("avx512f")))

static int cpu_has_avx512(void) { return hp_nn_cpu_avx512f(); }

/* d[0, np) = x[0, n) and zeros: vector copies, the tail masked (a masked
 * lane is never read, so x may end at n) */
F32_TARGET static inline void copy_pad(float *d, const float *x, int n, int np)
{
    int j = 0;
    for (; j + 16 <= n; j += 16)
        _mm512_storeu_ps(d + j, _mm512_loadu_ps(x + j));
    for (; j < np; j += 16)
        _mm512_mask_storeu_ps(d + j, hp_nn_mask16(np - j),
                              _mm512_maskz_loadu_ps(hp_nn_mask16(n - j), x + j));
}

/* Packs op(B)'s block when its rows run along j, B[(k0 + k) * ld + j0 + j]
 * for j in [0, nc), into the panels of NR columns (panel p at dst + p * kc
 * * NR, zero columns past nc): row by row, so each row of B is read once,
 * front to back, and written to every panel in turn. A memcpy per panel
 * row (128 bytes) spent more on the call than on the copy. */
F32_TARGET static void pack_rows(float *dst, const float *X, int ld, int j0, int nc, int k0, int kc)
{
    for (int k = 0; k < kc; k++) {
        const float *x = X + (size_t)(k0 + k) * ld + j0;
        for (int jr = 0; jr < nc; jr += NR)
            copy_pad(dst + (size_t)(jr / NR) * kc * NR + (size_t)k * NR, x + jr,
                     nc - jr < NR ? nc - jr : NR, NR);
    }
}

/* Packs rows [0, n) (zero rows up to np) and k in [0, kc) of the matrix
 * M(r, k) = X[(r0 + r) * ld + k0 + k] (X[(k0 + k) * ld + r0 + r] when
 * r_contig) as dst[k * stride + r]. */
F32_TARGET static void pack(float *dst, int stride, const float *X, int ld, int r_contig, int r0,
                            int n, int np, int k0, int kc)
{
    if (r_contig) {
        for (int k = 0; k < kc; k++)
            copy_pad(dst + (size_t)k * stride, X + (size_t)(k0 + k) * ld + r0, n, np);
        return;
    }
    int r = 0;
    for (; r + 16 <= n; r += 16) {
        int k = 0;
        for (; k + 16 <= kc; k += 16) {
            __m512i v[16];
            for (int q = 0; q < 16; q++)
                v[q] = _mm512_loadu_si512(X + (size_t)(r0 + r + q) * ld + k0 + k);
            hp_nn_transpose16(v);
            for (int q = 0; q < 16; q++)
                _mm512_storeu_si512(dst + (size_t)(k + q) * stride + r, v[q]);
        }
        for (; k < kc; k++)
            for (int q = 0; q < 16; q++)
                dst[(size_t)k * stride + r + q] = X[(size_t)(r0 + r + q) * ld + k0 + k];
    }
    for (; r < n; r++)
        for (int k = 0; k < kc; k++)
            dst[(size_t)k * stride + r] = X[(size_t)(r0 + r) * ld + k0 + k];
    for (int k = 0; k < kc; k++)
        for (int z = n; z < np; z++)
            dst[(size_t)k * stride + z] = 0.0f;
}

/* C's mr x nr corner (mr <= 8, nr <= 32) += or = the product of 8 rows of
 * A, element (i, k) at a[k * sk + i * si], and a B panel (32 columns at
 * b[k * 32 + j]) over kc; first: C = alpha AB + beta C. A packed panel has
 * sk = the panel's width, si = 1; an A whose rows run along k is read in
 * place, sk = 1, si = lda (8 rows streaming along k, one cache line each
 * per 16 steps), which saves the 16 x 16 transposes of its pack. */
F32_TARGET __attribute__((always_inline)) static inline void
tile_at(int kc, const float *a, size_t sk, size_t si, const float *b, float *C, int ldc, int mr,
        int nr, float alpha, float beta, int first)
{
    __m512 c0[MR], c1[MR];
    for (int i = 0; i < MR; i++)
        c0[i] = c1[i] = _mm512_setzero_ps();
    for (int k = 0; k < kc; k++) {
        __m512 b0 = _mm512_loadu_ps(b + (size_t)k * NR);
        __m512 b1 = _mm512_loadu_ps(b + (size_t)k * NR + 16);
        const float *ap = a + (size_t)k * sk;
        for (int i = 0; i < MR; i++) {
            __m512 av = _mm512_set1_ps(ap[i * si]);
            c0[i] = _mm512_fmadd_ps(av, b0, c0[i]);
            c1[i] = _mm512_fmadd_ps(av, b1, c1[i]);
        }
    }
    hp_nn_tile_store(C, ldc, c0, c1, mr, nr, alpha, beta, first);
}

F32_TARGET static void tile(int kc, const float *a, int sa, const float *b, float *C, int ldc,
                            int mr, int nr, float alpha, float beta, int first)
{
    tile_at(kc, a, (size_t)sa, 1, b, C, ldc, mr, nr, alpha, beta, first);
}

F32_TARGET static void tile_rows(int kc, const float *a, int lda, const float *b, float *C, int ldc,
                                 int nr, float alpha, float beta, int first)
{
    tile_at(kc, a, 1, (size_t)lda, b, C, ldc, MR, nr, alpha, beta, first);
}

/* the block length of a dimension of n in blocks of at most max: equal
 * blocks, rounded up to a multiple of q (K = 784 in KC 256 is 4 blocks
 * of 208, 192, 192, 192 rather than 256, 256, 256, 16, whose 16-deep
 * tiles spent as long on C as on the products) */
static int even_block(int n, int max, int q)
{
    int nb = (n + max - 1) / max, b = (n + nb - 1) / nb;
    b = (b + q - 1) / q * q;
    return b < max ? b : max;
}

static void gemm(const packs_t *p, int ta, int tb, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    int kb = even_block(K, KC, 16);
    for (int jc = 0; jc < N; jc += NC) {
        int nc = N - jc < NC ? N - jc : NC;
        for (int pc = 0; pc < K; pc += kb) {
            int kc = K - pc < kb ? K - pc : kb;
            /* op(B)(k, j) as M(r = j, k): contiguous in j unless transposed */
            if (!tb)
                pack_rows(p->b, B, ldb, jc, nc, pc, kc);
            else
                for (int jr = 0; jr < nc; jr += NR) {
                    int n = nc - jr < NR ? nc - jr : NR;
                    pack(p->b + (size_t)(jr / NR) * kc * NR, NR, B, ldb, 0, jc + jr, n, NR, pc, kc);
                }
            for (int ic = 0; ic < M; ic += MC) {
                int mc = M - ic < MC ? M - ic : MC, mcp = (mc + MR - 1) / MR * MR;
                /* op(A)(i, k) as M(r = i, k): contiguous in i when transposed,
                 * packed; along k (not transposed) read in place but for the
                 * rows of a last partial tile, packed alone */
                int direct = ta ? 0 : mc / MR * MR;
                if (direct < mc)
                    pack(p->a, mcp - direct, A, lda, ta, ic + direct, mc - direct, mcp - direct,
                         pc, kc);
                for (int jr = 0; jr < nc; jr += NR) {
                    int nr = nc - jr < NR ? nc - jr : NR;
                    const float *bp = p->b + (size_t)(jr / NR) * kc * NR;
                    for (int ir = 0; ir < mc; ir += MR) {
                        int mr = mc - ir < MR ? mc - ir : MR;
                        float *c = C + (size_t)(ic + ir) * ldc + jc + jr;
                        if (ir < direct)
                            tile_rows(kc, A + (size_t)(ic + ir) * lda + pc, lda, bp, c, ldc, nr,
                                      alpha, beta, pc == 0);
                        else
                            tile(kc, p->a + (ir - direct), mcp - direct, bp, c, ldc, mr, nr, alpha,
                                 beta, pc == 0);
                    }
                }
            }
        }
    }
}

#else /* no AVX-512 code in this build (clang: the fuzz build) */

static int cpu_has_avx512(void) { return 0; }

static void gemm(const packs_t *p, int ta, int tb, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    (void)p, (void)ta, (void)tb, (void)M, (void)N, (void)K, (void)alpha, (void)A, (void)lda;
    (void)B, (void)ldb, (void)beta, (void)C, (void)ldc;
    abort(); /* never called: nothing is selected without the kernel */
}

#endif

/* OpenBLAS 0.3's cores whose sgemm kernels are AVX-512 */
static int openblas_uses_avx512(const char *core)
{
    static const char *const wide[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++)
        if (strcasecmp(core, wide[i]) == 0)
            return 1;
    return 0;
}

static void choose(void)
{
    const char *env = getenv("HP_GEMM");
    int can = cpu_has_avx512();
    selected = 0;
    if (env && strcmp(env, "openblas") == 0) {
        why = "HP_GEMM=openblas";
    } else if (env && strcmp(env, "builtin") == 0) {
        selected = can;
        why = can ? "HP_GEMM=builtin" : "HP_GEMM=builtin, but this CPU (or build) has no AVX-512";
    } else {
        if (env && *env && strcmp(env, "auto") != 0)
            hp_log_warn("HP_GEMM=%s is not openblas, builtin or auto; choosing as auto does", env);
        selected = can && !openblas_uses_avx512(openblas_get_corename());
        why = !can ? "no AVX-512" : selected ? "OpenBLAS's core does not use AVX-512"
                                             : "OpenBLAS's core uses AVX-512";
    }
}

static void pick(void)
{
    HP_ASSERT(pthread_key_create(&packs_key, packs_free) == 0);
    choose();
}

void hp_nn_f32_rechoose(void)
{
    pthread_once(&once, pick);
    choose();
}

int hp_nn_f32_selected(void)
{
    pthread_once(&once, pick);
    return selected;
}

const char *hp_nn_f32_why(void)
{
    pthread_once(&once, pick);
    return why;
}

int hp_nn_f32_prepare(void)
{
    if (!hp_nn_f32_selected() || mine)
        return 0;
    packs_t *p = calloc(1, sizeof *p);
    if (p) {
        p->a = aligned_alloc(64, sizeof(float) * MC * KC);
        p->b = aligned_alloc(64, sizeof(float) * NC * KC);
    }
    if (!p || !p->a || !p->b || pthread_setspecific(packs_key, p) != 0) {
        packs_free(p);
        return HP_ENOMEM;
    }
    mine = p;
    return 0;
}

int hp_nn_f32_try(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *B, int ldb, float beta, float *C, int ldc)
{
    if (!mine || !selected)
        return 0;
    if (K <= 0) { /* C = beta C, as BLAS does */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                C[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(size_t)i * ldc + j];
        return 1;
    }
    gemm(mine, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return 1;
}
