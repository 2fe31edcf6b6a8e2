/* conv2d by direct vectorised kernels, for layers whose channel counts are
 * too small for im2col + sgemm to pay (LeNet: 1->6 and 6->16 channels,
 * where OpenBLAS's packing and beta passes cost as much as the multiply).
 *
 * Like the GEMM path (conv.c) these work on a zero-padded copy P (C, Hp, Wp)
 * of one sample and index output positions at the full padded width,
 * q = y Wp + x, so that the input under kernel tap (c, i, j) for positions
 * q .. q+7 is the contiguous slice P + c Hp Wp + i Wp + j + q: one
 * unaligned vector load, no im2col matrix. Columns x >= Wo are computed
 * and dropped (forward) or fed zeros (backward).
 *
 *   forward   F (K, Lr) = sum over taps of w[k, tap] * P slice; a tile is
 *             up to 6 output channels x 16 positions in 12 accumulators,
 *             then one pass adds the bias while cropping into out;
 *   dw        k-vectorised: dwT (CKK, Kp) += P[tap + q] * doutT (q, Kp),
 *             a tile is up to 12 taps x 8 or 6 taps x 16 channels, over the
 *             valid positions only; added to dw transposed at the end;
 *   din       dP[tap + q] += sum_k w[k, tap] * dF[k, q] (col2im fused into
 *             the product): up to 6 taps x 16 positions per tile.
 * One algorithm for every shape; the tiles keep 12 accumulators, within
 * the 16 vector registers of AVX2. On a CPU with AVX-512 the same three
 * run 16 lanes wide (below).
 * Lr = L rounded up to 16 (32 for the wide kernels) and Kp = K rounded up
 * to 8; the padding rows and lanes are zeros that never reach a result. */
#include "conv_int.h"
#include "fastmath_int.h"
#include "simd_int.h"

#include <string.h>

typedef struct dgeom {
    int Hp, Wp, CKK, CKKp, Kp, nr; /* nr: taps per dw tile */
    size_t L, Lr, plane, psz;
} dgeom_t;

/* ---- the same three kernels 16 lanes wide, for CPUs with AVX-512 ----
 * Same arithmetic in the same order per lane as the 8-lane ones (so the
 * same results), twice the work per instruction and twice the registers:
 * forward and din tiles are up to 8 channels (taps) x 32 positions in 16
 * zmm accumulators; dw tiles are 16 taps x 16 channels, used when Kp is a
 * multiple of 16 (a layer with 8 or fewer channels keeps the 8-lane dw,
 * whose vector is one position's channels). Lr is rounded to 32. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include "avx512_int.h"

#define HP_CONV_WIDE 1
#define WIDE __attribute__((target("avx512f")))
typedef float hp_v16 __attribute__((vector_size(64)));

WIDE HP_NN_INLINE hp_v16 v16_load(const float *p)
{
    hp_v16 v;
    memcpy(&v, p, sizeof v);
    return v;
}

WIDE HP_NN_INLINE void v16_store(float *p, hp_v16 v) { memcpy(p, &v, sizeof v); }

/* from memory, so it is one load (vbroadcastss m32): a broadcast from a
 * register runs on the port of the second 512-bit FMA unit and took one
 * FMA slot of three in these tiles (no faster than the 8-lane ones) */
WIDE HP_NN_INLINE hp_v16 v16_bcast(const float *x) { return (hp_v16)_mm512_set1_ps(*x); }

WIDE HP_NN_INLINE hp_v16 v16_zero(void) { return (hp_v16)_mm512_setzero_ps(); }

WIDE HP_NN_INLINE void fwd_tile16(float *F, const float *P, const float *w, int k0, const int KB,
                                  size_t q0, const hp_nn_conv2d_dims_t *d, const dgeom_t *g)
{
    hp_v16 a0[8], a1[8];
    for (int kb = 0; kb < KB; kb++)
        a0[kb] = a1[kb] = v16_zero();
    for (int c = 0; c < d->C; c++)
        for (int i = 0; i < d->kh; i++) {
            const float *p = P + c * g->plane + (size_t)i * g->Wp + q0;
            const float *wr = w + (size_t)k0 * g->CKK + (size_t)(c * d->kh + i) * d->kw;
            for (int j = 0; j < d->kw; j++) {
                hp_v16 x0 = v16_load(p + j), x1 = v16_load(p + j + 16);
                for (int kb = 0; kb < KB; kb++) {
                    hp_v16 s = v16_bcast(wr + (size_t)kb * g->CKK + j);
                    a0[kb] += s * x0;
                    a1[kb] += s * x1;
                }
            }
        }
    for (int kb = 0; kb < KB; kb++) {
        v16_store(F + (size_t)(k0 + kb) * g->Lr + q0, a0[kb]);
        v16_store(F + (size_t)(k0 + kb) * g->Lr + q0 + 16, a1[kb]);
    }
}

WIDE static void fwd_sample16(float *F, const float *P, const float *w,
                              const hp_nn_conv2d_dims_t *d, const dgeom_t *g)
{
    for (size_t q0 = 0; q0 < g->Lr; q0 += 32)
        for (int k0 = 0; k0 < d->K; k0 += 8) {
            switch (d->K - k0 < 8 ? d->K - k0 : 8) {
            case 1: fwd_tile16(F, P, w, k0, 1, q0, d, g); break;
            case 2: fwd_tile16(F, P, w, k0, 2, q0, d, g); break;
            case 3: fwd_tile16(F, P, w, k0, 3, q0, d, g); break;
            case 4: fwd_tile16(F, P, w, k0, 4, q0, d, g); break;
            case 5: fwd_tile16(F, P, w, k0, 5, q0, d, g); break;
            case 6: fwd_tile16(F, P, w, k0, 6, q0, d, g); break;
            case 7: fwd_tile16(F, P, w, k0, 7, q0, d, g); break;
            default: fwd_tile16(F, P, w, k0, 8, q0, d, g); break;
            }
        }
}

WIDE HP_NN_INLINE void dw_tile16(float *WT, const float *P, const float *T, const int *off, int r0,
                                 int kb0, const hp_nn_conv2d_dims_t *d, const dgeom_t *g)
{
    hp_v16 a[16];
    const float *pr[16];
    for (int r = 0; r < 16; r++) {
        a[r] = v16_zero();
        pr[r] = P + off[r0 + r];
    }
    for (int y = 0; y < d->Ho; y++) {
        const float *t = T + (size_t)y * d->Wo * g->Kp + kb0;
        size_t yo = (size_t)y * g->Wp;
        for (int x = 0; x < d->Wo; x++) {
            hp_v16 t0 = v16_load(t + (size_t)x * g->Kp);
            for (int r = 0; r < 16; r++)
                a[r] += v16_bcast(pr[r] + yo + x) * t0;
        }
    }
    for (int r = 0; r < 16; r++) {
        float *o = WT + (size_t)(r0 + r) * g->Kp + kb0;
        v16_store(o, v16_load(o) + a[r]);
    }
}

WIDE static void dw_sample16(float *WT, const float *P, const float *T, const int *off,
                             const hp_nn_conv2d_dims_t *d, const dgeom_t *g)
{
    for (int kb0 = 0; kb0 < g->Kp; kb0 += 16)
        for (int r0 = 0; r0 < g->CKKp; r0 += 16)
            dw_tile16(WT, P, T, off, r0, kb0, d, g);
}

WIDE HP_NN_INLINE void din_tile16(float *dP, const float *F, const float *w, const int *tap,
                                  const int *toff, int t0, const int NR, size_t q0,
                                  const hp_nn_conv2d_dims_t *d, const dgeom_t *g)
{
    hp_v16 a0[8], a1[8];
    for (int n = 0; n < NR; n++)
        a0[n] = a1[n] = v16_zero();
    for (int k = 0; k < d->K; k++) {
        const float *f = F + (size_t)k * g->Lr + q0;
        hp_v16 f0 = v16_load(f), f1 = v16_load(f + 16);
        const float *wk = w + (size_t)k * g->CKK;
        for (int n = 0; n < NR; n++) {
            hp_v16 s = v16_bcast(wk + tap[t0 + n]);
            a0[n] += s * f0;
            a1[n] += s * f1;
        }
    }
    for (int n = 0; n < NR; n++) {
        float *t = dP + toff[t0 + n] + q0;
        v16_store(t, v16_load(t) + a0[n]);
        v16_store(t + 16, v16_load(t + 16) + a1[n]);
    }
}

WIDE static void din_sample16(float *dP, const float *F, const float *w, const int *tap,
                              const int *toff, const hp_nn_conv2d_dims_t *d, const dgeom_t *g)
{
    for (size_t q0 = 0; q0 < g->Lr; q0 += 32)
        for (int t0 = 0; t0 < g->CKK; t0 += 8) {
            switch (g->CKK - t0 < 8 ? g->CKK - t0 : 8) {
            case 1: din_tile16(dP, F, w, tap, toff, t0, 1, q0, d, g); break;
            case 2: din_tile16(dP, F, w, tap, toff, t0, 2, q0, d, g); break;
            case 3: din_tile16(dP, F, w, tap, toff, t0, 3, q0, d, g); break;
            case 4: din_tile16(dP, F, w, tap, toff, t0, 4, q0, d, g); break;
            case 5: din_tile16(dP, F, w, tap, toff, t0, 5, q0, d, g); break;
            case 6: din_tile16(dP, F, w, tap, toff, t0, 6, q0, d, g); break;
            case 7: din_tile16(dP, F, w, tap, toff, t0, 7, q0, d, g); break;
            default: din_tile16(dP, F, w, tap, toff, t0, 8, q0, d, g); break;
            }
        }
}

static int cpu_wide(void) { return hp_nn_cpu_avx512f(); }

/* rows of n floats (the rows of an image, 7 to 28 here) by masked moves */
WIDE static void rows_copy16(float *dst, size_t ds, const float *src, size_t ss, int rows, int n)
{
    for (int r = 0; r < rows; r++) {
        float *d = dst + (size_t)r * ds;
        const float *x = src + (size_t)r * ss;
        for (int j = 0; j < n; j += 16) {
            __mmask16 m = hp_nn_mask16(n - j);
            _mm512_mask_storeu_ps(d + j, m, _mm512_maskz_loadu_ps(m, x + j));
        }
    }
}
#else
#define HP_CONV_WIDE 0
static int cpu_wide(void) { return 0; }
#endif

/* -1: not decided yet; read and written on any thread, but every thread
 * computes the same value */
static int wide_state = -1;

static int wide(void)
{
    int w = __atomic_load_n(&wide_state, __ATOMIC_RELAXED);
    if (w < 0) {
        w = cpu_wide();
        __atomic_store_n(&wide_state, w, __ATOMIC_RELAXED);
    }
    return w;
}

int hp_nn_conv2d_direct_use_wide(int on)
{
    int w = on && cpu_wide();
    __atomic_store_n(&wide_state, w, __ATOMIC_RELAXED);
    return w;
}

/* rows rows of n floats from src (row stride ss) to dst (ds): the padded
 * copies of a sample's planes. A memcpy call per image row (28, 14 or 7
 * floats) cost more than the copy: 5% of a ResNet step. Plain copies
 * either way, so the result does not depend on which runs (the tests'
 * hp_nn_conv2d_direct_use_wide switches it with the kernels). */
static void rows_copy(float *dst, size_t ds, const float *src, size_t ss, int rows, int n)
{
#if HP_CONV_WIDE
    if (wide()) {
        rows_copy16(dst, ds, src, ss, rows, n);
        return;
    }
#endif
    for (int r = 0; r < rows; r++)
        memcpy(dst + (size_t)r * ds, src + (size_t)r * ss, sizeof(float) * (size_t)n);
}

static dgeom_t dgeom(const hp_nn_conv2d_dims_t *d)
{
    dgeom_t g;
    g.Hp = d->H + 2 * d->pad;
    g.Wp = d->W + 2 * d->pad;
    g.CKK = d->C * d->kh * d->kw;
    g.Kp = (d->K + 7) & ~7;
    int w = wide();
    g.nr = w && g.Kp % 16 == 0 ? 16 : g.Kp == 8 ? 10 : 6;
    g.CKKp = (g.CKK + g.nr - 1) / g.nr * g.nr;
    g.L = (size_t)d->Ho * g.Wp;
    size_t q = w ? 32 : 16; /* positions per tile */
    g.Lr = (g.L + q - 1) / q * q;
    g.plane = (size_t)g.Hp * g.Wp;
    /* the last tap's slice of the last tile ends kw - 2 + Lr - L past
     * C Hp Wp (its rows sum to the plane) */
    g.psz = ((size_t)d->C * g.plane + (size_t)d->kw + (g.Lr - g.L) + 16 + 15) & ~(size_t)15;
    return g;
}

size_t hp_nn_conv2d_direct_scratch(const hp_nn_conv2d_dims_t *d)
{
    dgeom_t g = dgeom(d);
    /* P, dP, F (K, Lr), doutT (Ho Wo, Kp), dwT (CKKp, Kp), then the tap
     * tables (2 CKKp ints, 16-float aligned) */
    return 2 * g.psz + (size_t)d->K * g.Lr + (size_t)d->Ho * d->Wo * g.Kp +
           (size_t)g.CKKp * g.Kp + (((size_t)g.CKKp * 3 + 15) & ~(size_t)15);
}

static void pad_sample(float *P, const float *in, const hp_nn_conv2d_dims_t *d, const dgeom_t *g)
{
    memset(P, 0, sizeof(float) * g->psz);
    for (int c = 0; c < d->C; c++)
        rows_copy(P + c * g->plane + (size_t)d->pad * g->Wp + d->pad, g->Wp,
                  in + (size_t)c * d->H * d->W, d->W, d->H, d->W);
}

static inline size_t tap_offset(int r, const hp_nn_conv2d_dims_t *d, const dgeom_t *g)
{
    int kk = d->kh * d->kw, c = r / kk, i = r % kk / d->kw, j = r % d->kw;
    return (size_t)c * g->plane + (size_t)i * g->Wp + (size_t)j;
}

/* ---- forward: KB channels k0.. x 16 positions q0.. ---- */
HP_NN_INLINE void fwd_tile(float *F, const float *P, const float *w, int k0, const int KB,
                           size_t q0, const hp_nn_conv2d_dims_t *d, const dgeom_t *g)
{
    hp_v8 a0[6], a1[6];
    for (int kb = 0; kb < KB; kb++)
        a0[kb] = a1[kb] = hp_v8_splat(0.0f);
    for (int c = 0; c < d->C; c++)
        for (int i = 0; i < d->kh; i++) {
            const float *p = P + c * g->plane + (size_t)i * g->Wp + q0;
            const float *wr = w + (size_t)k0 * g->CKK + (size_t)(c * d->kh + i) * d->kw;
            for (int j = 0; j < d->kw; j++) {
                hp_v8 x0 = hp_v8_load(p + j), x1 = hp_v8_load(p + j + 8);
                for (int kb = 0; kb < KB; kb++) {
                    hp_v8 s = hp_v8_splat(wr[(size_t)kb * g->CKK + j]);
                    a0[kb] += s * x0;
                    a1[kb] += s * x1;
                }
            }
        }
    for (int kb = 0; kb < KB; kb++) {
        hp_v8_store(F + (size_t)(k0 + kb) * g->Lr + q0, a0[kb]);
        hp_v8_store(F + (size_t)(k0 + kb) * g->Lr + q0 + 8, a1[kb]);
    }
}

HP_NN_CLONES
static void fwd_sample(float *F, const float *P, const float *w, const hp_nn_conv2d_dims_t *d,
                       const dgeom_t *g)
{
    for (size_t q0 = 0; q0 < g->Lr; q0 += 16)
        for (int k0 = 0; k0 < d->K; k0 += 6) {
            switch (d->K - k0 < 6 ? d->K - k0 : 6) {
            case 1: fwd_tile(F, P, w, k0, 1, q0, d, g); break;
            case 2: fwd_tile(F, P, w, k0, 2, q0, d, g); break;
            case 3: fwd_tile(F, P, w, k0, 3, q0, d, g); break;
            case 4: fwd_tile(F, P, w, k0, 4, q0, d, g); break;
            case 5: fwd_tile(F, P, w, k0, 5, q0, d, g); break;
            default: fwd_tile(F, P, w, k0, 6, q0, d, g); break;
            }
        }
}

void hp_nn_conv2d_direct_forward(float *out, const float *in, const float *w, const float *b,
                                 float *scratch, const hp_nn_conv2d_dims_t *d)
{
    dgeom_t g = dgeom(d);
    float *P = scratch, *F = P + 2 * g.psz;
    size_t in_sz = (size_t)d->C * d->H * d->W, out_sz = (size_t)d->K * d->Ho * d->Wo;
    for (int n = 0; n < d->B; n++) {
        pad_sample(P, in + n * in_sz, d, &g);
#if HP_CONV_WIDE
        if (wide())
            fwd_sample16(F, P, w, d, &g);
        else
#endif
            fwd_sample(F, P, w, d, &g);
        /* crop the full width, adding the bias on the way */
        float *o = out + n * out_sz;
        for (int k = 0; k < d->K; k++) {
            float bias = b ? b[k] : 0.0f;
            for (int y = 0; y < d->Ho; y++) {
                const float *s = F + (size_t)k * g.Lr + (size_t)y * g.Wp;
                float *t = o + ((size_t)k * d->Ho + y) * d->Wo;
                for (int x = 0; x < d->Wo; x++)
                    t[x] = s[x] + bias;
            }
        }
    }
}

/* ---- dw: NR taps r0.. x KV vectors of channels kb0.., over valid q ---- */
HP_NN_INLINE void dw_tile(float *WT, const float *P, const float *T, const int *off, int r0,
                          const int NR, const int KV, int kb0, const hp_nn_conv2d_dims_t *d,
                          const dgeom_t *g)
{
    hp_v8 a0[12], a1[12];
    const float *pr[12];
    for (int r = 0; r < NR; r++) {
        a0[r] = a1[r] = hp_v8_splat(0.0f);
        pr[r] = P + off[r0 + r];
    }
    for (int y = 0; y < d->Ho; y++) {
        const float *t = T + (size_t)y * d->Wo * g->Kp + kb0;
        size_t yo = (size_t)y * g->Wp;
        for (int x = 0; x < d->Wo; x++) {
            hp_v8 t0 = hp_v8_load(t + (size_t)x * g->Kp), t1 = t0;
            if (KV == 2)
                t1 = hp_v8_load(t + (size_t)x * g->Kp + 8);
            for (int r = 0; r < NR; r++) {
                hp_v8 s = hp_v8_splat(pr[r][yo + x]);
                a0[r] += s * t0;
                if (KV == 2)
                    a1[r] += s * t1;
            }
        }
    }
    for (int r = 0; r < NR; r++) {
        float *o = WT + (size_t)(r0 + r) * g->Kp + kb0;
        hp_v8_store(o, hp_v8_load(o) + a0[r]);
        if (KV == 2)
            hp_v8_store(o + 8, hp_v8_load(o + 8) + a1[r]);
    }
}

HP_NN_CLONES
static void dw_sample(float *WT, const float *P, const float *T, const int *off,
                      const hp_nn_conv2d_dims_t *d, const dgeom_t *g)
{
    for (int kb0 = 0; kb0 < g->Kp; kb0 += 16) {
        if (g->Kp - kb0 >= 16) /* 6 taps x 16 channels */
            for (int r0 = 0; r0 < g->CKKp; r0 += 6)
                dw_tile(WT, P, T, off, r0, 6, 2, kb0, d, g);
        else if (g->nr == 10) /* 8 channels in all: 10 taps x 8 */
            for (int r0 = 0; r0 < g->CKKp; r0 += 10)
                dw_tile(WT, P, T, off, r0, 10, 1, kb0, d, g);
        else /* the last 8 of more than 16 channels */
            for (int r0 = 0; r0 < g->CKKp; r0 += 6)
                dw_tile(WT, P, T, off, r0, 6, 1, kb0, d, g);
    }
}

/* ---- din: NR taps t0.. x 16 positions q0.., added into dP ----
 * Taps go in (i, j, c) order, channel fastest, so the slices one tile adds
 * into are a plane apart: with (c, i, j) order, taps j and j + 1 hit
 * slices one float apart and every load waited for the store before it
 * (a failed store-to-load forward). */
HP_NN_INLINE void din_tile(float *dP, const float *F, const float *w, const int *tap,
                           const int *toff, int t0, const int NR, size_t q0,
                           const hp_nn_conv2d_dims_t *d, const dgeom_t *g)
{
    hp_v8 a0[6], a1[6];
    for (int n = 0; n < NR; n++)
        a0[n] = a1[n] = hp_v8_splat(0.0f);
    for (int k = 0; k < d->K; k++) {
        const float *f = F + (size_t)k * g->Lr + q0;
        hp_v8 f0 = hp_v8_load(f), f1 = hp_v8_load(f + 8);
        const float *wk = w + (size_t)k * g->CKK;
        for (int n = 0; n < NR; n++) {
            hp_v8 s = hp_v8_splat(wk[tap[t0 + n]]);
            a0[n] += s * f0;
            a1[n] += s * f1;
        }
    }
    for (int n = 0; n < NR; n++) {
        float *t = dP + toff[t0 + n] + q0;
        hp_v8_store(t, hp_v8_load(t) + a0[n]);
        hp_v8_store(t + 8, hp_v8_load(t + 8) + a1[n]);
    }
}

HP_NN_CLONES
static void din_sample(float *dP, const float *F, const float *w, const int *tap, const int *toff,
                       const hp_nn_conv2d_dims_t *d, const dgeom_t *g)
{
    for (size_t q0 = 0; q0 < g->Lr; q0 += 16)
        for (int t0 = 0; t0 < g->CKK; t0 += 6) {
            switch (g->CKK - t0 < 6 ? g->CKK - t0 : 6) {
            case 1: din_tile(dP, F, w, tap, toff, t0, 1, q0, d, g); break;
            case 2: din_tile(dP, F, w, tap, toff, t0, 2, q0, d, g); break;
            case 3: din_tile(dP, F, w, tap, toff, t0, 3, q0, d, g); break;
            case 4: din_tile(dP, F, w, tap, toff, t0, 4, q0, d, g); break;
            case 5: din_tile(dP, F, w, tap, toff, t0, 5, q0, d, g); break;
            default: din_tile(dP, F, w, tap, toff, t0, 6, q0, d, g); break;
            }
        }
}

/* T (HoWo, Kp) = the transpose of go (K, HoWo): 8 x 8 blocks by shuffles
 * (the element-wise gather was 4-9% of a ResNet or LeNet step), the edges
 * position-major, so the writes run along T's rows */
HP_NN_CLONES static void transpose_dout(float *T, const float *go, size_t HoWo, int K, int Kp)
{
    /* a last block of fewer than 8 channels (LeNet's first conv has 6) is
     * transposed with zero rows for the rest: its lanes up to Kp are
     * padding, which must be zero anyway */
    for (int k0 = 0; k0 < K; k0 += 8) {
        int kn = K - k0 < 8 ? K - k0 : 8;
        size_t p0 = 0;
        for (; p0 + 8 <= HoWo; p0 += 8) {
            hp_v8 r[8], c[8];
            for (int i = 0; i < 8; i++)
                r[i] = i < kn ? hp_v8_load(go + (size_t)(k0 + i) * HoWo + p0) : hp_v8_splat(0.0f);
            hp_v8_transpose(c, r);
            for (int j = 0; j < 8; j++)
                hp_v8_store(T + (p0 + (size_t)j) * Kp + k0, c[j]);
        }
        for (size_t p = p0; p < HoWo; p++)
            for (int k = k0; k < k0 + kn; k++)
                T[p * Kp + k] = go[(size_t)k * HoWo + p];
    }
}

void hp_nn_conv2d_direct_backward(float *din, float *dw, float *db, const float *dout,
                                  const float *in, const float *w, float *scratch,
                                  const hp_nn_conv2d_dims_t *d)
{
    dgeom_t g = dgeom(d);
    size_t HoWo = (size_t)d->Ho * d->Wo;
    float *P = scratch, *dP = P + g.psz, *F = dP + g.psz, *T = F + (size_t)d->K * g.Lr,
          *WT = T + HoWo * g.Kp;
    /* tap tables, once per call: a division per tap per tile cost more
     * than the tile's multiply. off[r]: tap r's offset in P (padding taps
     * past CKK read tap 0 into WT's padding rows); tap[t], toff[t]: din's
     * t-th tap in (i, j, c) order and its offset */
    int *off = (int *)(WT + (size_t)g.CKKp * g.Kp), *tap = off + g.CKKp, *toff = tap + g.CKK;
    for (int r = 0; r < g.CKKp; r++)
        off[r] = r < g.CKK ? (int)tap_offset(r, d, &g) : 0;
    for (int t = 0; t < g.CKK; t++) {
        tap[t] = t % d->C * d->kh * d->kw + t / d->C;
        toff[t] = off[tap[t]];
    }
    size_t in_sz = (size_t)d->C * d->H * d->W, out_sz = (size_t)d->K * HoWo;
    memset(WT, 0, sizeof(float) * (size_t)g.CKKp * g.Kp);
    if (g.Kp > d->K) /* the padding lanes stay zero */
        memset(T, 0, sizeof(float) * HoWo * g.Kp);
    if (din) /* the dropped columns and the tail stay zero */
        memset(F, 0, sizeof(float) * (size_t)d->K * g.Lr);
    for (int n = 0; n < d->B; n++) {
        const float *go = dout + n * out_sz;
        transpose_dout(T, go, HoWo, d->K, g.Kp);
        for (int k = 0; k < d->K; k++) {
            const float *s = go + (size_t)k * HoWo;
            if (db)
                db[k] += hp_fsum8(s, HoWo);
            if (din)
                rows_copy(F + (size_t)k * g.Lr, g.Wp, s, d->Wo, d->Ho, d->Wo);
        }
        pad_sample(P, in + n * in_sz, d, &g);
#if HP_CONV_WIDE
        if (g.nr == 16)
            dw_sample16(WT, P, T, off, d, &g);
        else
#endif
            dw_sample(WT, P, T, off, d, &g);
        if (!din)
            continue;
        memset(dP, 0, sizeof(float) * g.psz);
#if HP_CONV_WIDE
        if (wide())
            din_sample16(dP, F, w, tap, toff, d, &g);
        else
#endif
            din_sample(dP, F, w, tap, toff, d, &g);
        float *gi = din + n * in_sz;
        for (int c = 0; c < d->C; c++)
            rows_copy(gi + (size_t)c * d->H * d->W, d->W,
                      dP + c * g.plane + (size_t)d->pad * g.Wp + d->pad, g.Wp, d->H, d->W);
    }
    for (int k = 0; k < d->K; k++)
        for (int r = 0; r < g.CKK; r++)
            dw[(size_t)k * g.CKK + r] += WT[(size_t)r * g.Kp + k];
}
