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
 * the 16 vector registers of AVX2.
 * Lr = L rounded up to 16 and Kp = K rounded up to 8; the padding rows and
 * lanes are zeros that never reach a result. */
#include "conv_int.h"
#include "fastmath_int.h"
#include "simd_int.h"

#include <string.h>

typedef struct dgeom {
    int Hp, Wp, CKK, CKKp, Kp, nr; /* nr: taps per dw tile */
    size_t L, Lr, plane, psz;
} dgeom_t;

static dgeom_t dgeom(const hp_nn_conv2d_dims_t *d)
{
    dgeom_t g;
    g.Hp = d->H + 2 * d->pad;
    g.Wp = d->W + 2 * d->pad;
    g.CKK = d->C * d->kh * d->kw;
    g.Kp = (d->K + 7) & ~7;
    g.nr = g.Kp == 8 ? 10 : 6;
    g.CKKp = (g.CKK + g.nr - 1) / g.nr * g.nr;
    g.L = (size_t)d->Ho * g.Wp;
    g.Lr = (g.L + 15) & ~(size_t)15;
    g.plane = (size_t)g.Hp * g.Wp;
    /* the last tap's slice of the last tile ends kw - 1 + Lr - L past
     * C Hp Wp (its rows sum to the plane) */
    g.psz = ((size_t)d->C * g.plane + (size_t)d->kw + 16 + 15) & ~(size_t)15;
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
        for (int y = 0; y < d->H; y++)
            memcpy(P + c * g->plane + (size_t)(y + d->pad) * g->Wp + d->pad,
                   in + ((size_t)c * d->H + y) * d->W, sizeof(float) * (size_t)d->W);
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
    int k0 = 0;
    for (; k0 + 8 <= K; k0 += 8) {
        size_t p0 = 0;
        for (; p0 + 8 <= HoWo; p0 += 8) {
            hp_v8 r[8], c[8];
            for (int i = 0; i < 8; i++)
                r[i] = hp_v8_load(go + (size_t)(k0 + i) * HoWo + p0);
            hp_v8_transpose(c, r);
            for (int j = 0; j < 8; j++)
                hp_v8_store(T + (p0 + (size_t)j) * Kp + k0, c[j]);
        }
        for (size_t p = p0; p < HoWo; p++)
            for (int k = k0; k < k0 + 8; k++)
                T[p * Kp + k] = go[(size_t)k * HoWo + p];
    }
    if (k0 < K)
        for (size_t p = 0; p < HoWo; p++)
            for (int k = k0; k < K; k++)
                T[p * Kp + k] = go[(size_t)k * HoWo + p];
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
                for (int y = 0; y < d->Ho; y++)
                    memcpy(F + (size_t)k * g.Lr + (size_t)y * g.Wp, s + (size_t)y * d->Wo,
                           sizeof(float) * (size_t)d->Wo);
        }
        pad_sample(P, in + n * in_sz, d, &g);
        dw_sample(WT, P, T, off, d, &g);
        if (!din)
            continue;
        memset(dP, 0, sizeof(float) * g.psz);
        din_sample(dP, F, w, tap, toff, d, &g);
        float *gi = din + n * in_sz;
        for (int c = 0; c < d->C; c++)
            for (int y = 0; y < d->H; y++)
                memcpy(gi + ((size_t)c * d->H + y) * d->W,
                       dP + c * g.plane + (size_t)(y + d->pad) * g.Wp + d->pad,
                       sizeof(float) * (size_t)d->W);
    }
    for (int k = 0; k < d->K; k++)
        for (int r = 0; r < g.CKK; r++)
            dw[(size_t)k * g.CKK + r] += WT[(size_t)r * g.Kp + k];
}
