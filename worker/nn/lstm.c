/* LSTM layer, time-major, full backpropagation through time.
 *
 * Layout: everything per step is one contiguous (B, ...) block of a
 * time-major array, so a step's GEMM reads and writes whole blocks and BPTT
 * walks the blocks backwards. The four gates of a row sit side by side,
 * [i | f | g | o] (B, 4H), and w_ih / w_hh hold all four gates' rows, so
 * each product is one GEMM for the four gates.
 *
 * Forward: the input projection of all T steps is one GEMM (T*B rows)
 * accumulated onto rows of the bias (a memcpy per row: faster than
 * OpenBLAS's own zeroing pass for beta = 0, measured 4% of the step); only
 * the recurrent h_{t-1} @ w_hh^T is done step by step, accumulated into
 * that step's block. Then one vectorised pass per step (cell_forward)
 * applies the gate nonlinearities and updates c and h, so the block is
 * read and written once while it is still in cache.
 *
 * Backward mirrors it: one pass per step turns dh, dc into the gate
 * gradients and the bias gradient, the per-step GEMM is dh_{t-1} = dg_t @
 * w_hh, and the weight and input gradients are GEMMs over all steps at the
 * end. */
#include "fastvec_int.h"
#include "gemm.h"
#include "layer.h"

#include <string.h>

/* One step's cell, B rows: g (B, 4H) holds the pre-activations and gets
 * the activated gates; cp (B, H) is c_{t-1} (NULL at t = 0,
 * the zero state); writes c, tc = tanh(c) and h (B, H).
 * Two loops per row, both over data in L1: the four gates of a column are
 * independent, but tanh(c) waits for i, f and g, and one loop holding that
 * whole chain is latency-bound (the reorder window covers barely one
 * iteration). */
HP_NN_SIMD_CLONES
static void cell_forward(float *g, const float *cp, float *c, float *tc, float *h, int B, int H)
{
    for (int n = 0; n < B; n++) {
        float *gi = g + (size_t)n * 4 * H, *gf = gi + H, *gg = gf + H, *go = gg + H;
        size_t q = (size_t)n * H;
        for (int j = 0; j < H; j += 8) {
            int k = H - j;
            hp_v8_storen(gi + j, hp_v8_sigmoid(hp_v8_loadn(gi + j, k)), k);
            hp_v8_storen(gf + j, hp_v8_sigmoid(hp_v8_loadn(gf + j, k)), k);
            hp_v8_storen(gg + j, hp_v8_tanh(hp_v8_loadn(gg + j, k)), k);
            hp_v8_storen(go + j, hp_v8_sigmoid(hp_v8_loadn(go + j, k)), k);
        }
        for (int j = 0; j < H; j += 8) {
            int k = H - j;
            hp_v8 cv = hp_v8_loadn(gi + j, k) * hp_v8_loadn(gg + j, k);
            if (cp)
                cv += hp_v8_loadn(gf + j, k) * hp_v8_loadn(cp + q + j, k);
            hp_v8 tcv = hp_v8_tanh(cv);
            hp_v8_storen(c + q + j, cv, k);
            hp_v8_storen(tc + q + j, tcv, k);
            hp_v8_storen(h + q + j, hp_v8_loadn(go + j, k) * tcv, k);
        }
    }
}

/* One step backwards, B rows: from dL/dh_t (dout_t + dh, dh from step
 * t+1) and dL/dc_t from step t+1 (dc), the gate pre-activation gradients
 * e (B, 4H), accumulated into db (4H); dc becomes dL/dc_{t-1}. g, tc as
 * forward left them; cp = c_{t-1} or NULL at t = 0. */
HP_NN_SIMD_CLONES
static void cell_backward(float *e, float *db, float *dc, const float *dh, const float *dout,
                          const float *g, const float *tc, const float *cp, int B, int H)
{
    float *dbi = db, *dbf = db + H, *dbg = db + 2 * H, *dbo = db + 3 * H;
    for (int n = 0; n < B; n++) {
        const float *gi = g + (size_t)n * 4 * H, *gf = gi + H, *gg = gf + H, *go = gg + H;
        float *ei = e + (size_t)n * 4 * H, *ef = ei + H, *eg = ef + H, *eo = eg + H;
        size_t q = (size_t)n * H;
        if (n + 1 < B) /* the next row's forward state, written long ago */
            for (int j = 0; j < 4 * H; j += 16)
                __builtin_prefetch(gi + 4 * H + j, 1);
        for (int j = 0; j < H; j += 8) {
            int k = H - j;
            hp_v8 i = hp_v8_loadn(gi + j, k), f = hp_v8_loadn(gf + j, k);
            hp_v8 u = hp_v8_loadn(gg + j, k), o = hp_v8_loadn(go + j, k);
            hp_v8 tcv = hp_v8_loadn(tc + q + j, k);
            hp_v8 dhv = hp_v8_loadn(dout + q + j, k) + hp_v8_loadn(dh + q + j, k);
            hp_v8 dcv = hp_v8_loadn(dc + q + j, k) + dhv * o * (1.0f - tcv * tcv);
            hp_v8 cpv = cp ? hp_v8_loadn(cp + q + j, k) : hp_v8_splat(0.0f);
            hp_v8 di = dcv * u * i * (1.0f - i);
            hp_v8 df = dcv * cpv * f * (1.0f - f);
            hp_v8 du = dcv * i * (1.0f - u * u);
            hp_v8 dov = dhv * tcv * o * (1.0f - o);
            hp_v8_storen(ei + j, di, k);
            hp_v8_storen(ef + j, df, k);
            hp_v8_storen(eg + j, du, k);
            hp_v8_storen(eo + j, dov, k);
            hp_v8_storen(dc + q + j, dcv * f, k);
            hp_v8_storen(dbi + j, hp_v8_loadn(dbi + j, k) + di, k);
            hp_v8_storen(dbf + j, hp_v8_loadn(dbf + j, k) + df, k);
            hp_v8_storen(dbg + j, hp_v8_loadn(dbg + j, k) + du, k);
            hp_v8_storen(dbo + j, hp_v8_loadn(dbo + j, k) + dov, k);
        }
    }
}

void hp_nn_lstm_forward(float *out, float *gates, float *c, float *tc, const float *in,
                        const float *w_ih, const float *w_hh, const float *b,
                        const hp_nn_lstm_dims_t *d)
{
    int T = d->T, B = d->B, I = d->I, H = d->H, G = 4 * H;
    size_t bh = (size_t)B * H, bg = (size_t)B * G;
    for (int r = 0; r < T * B; r++)
        memcpy(gates + (size_t)r * G, b, sizeof(float) * (size_t)G);
    hp_nn_gemm(0, 1, T * B, G, I, 1.0f, in, I, w_ih, I, 1.0f, gates, G);
    for (int t = 0; t < T; t++) {
        float *gt = gates + t * bg;
        const float *cp = NULL;
        if (t > 0) {
            hp_nn_gemm(0, 1, B, G, H, 1.0f, out + (t - 1) * bh, H, w_hh, H, 1.0f, gt, G);
            cp = c + (t - 1) * bh;
        }
        cell_forward(gt, cp, c + t * bh, tc + t * bh, out + t * bh, B, H);
    }
}

void hp_nn_lstm_backward(float *din, float *dw_ih, float *dw_hh, float *db, const float *dout,
                         const float *in, const float *out, const float *gates, const float *c,
                         const float *tc, const float *w_ih, const float *w_hh, float *dg,
                         float *dh, float *dc, const hp_nn_lstm_dims_t *d)
{
    int T = d->T, B = d->B, I = d->I, H = d->H, G = 4 * H;
    size_t bh = (size_t)B * H, bg = (size_t)B * G;
    memset(dh, 0, sizeof(float) * bh); /* dL/dh_t from step t+1 */
    memset(dc, 0, sizeof(float) * bh); /* dL/dc_t from step t+1 */
    for (int t = T - 1; t >= 0; t--) {
        float *dgt = dg + t * bg;
        cell_backward(dgt, db, dc, dh, dout + t * bh, gates + t * bg, tc + t * bh,
                      t > 0 ? c + (t - 1) * bh : NULL, B, H);
        if (t > 0)
            hp_nn_gemm(0, 0, B, H, G, 1.0f, dgt, G, w_hh, H, 0.0f, dh, H);
    }
    if (T > 1)
        hp_nn_gemm(1, 0, G, H, (T - 1) * B, 1.0f, dg + bg, G, out, H, 1.0f, dw_hh, H);
    hp_nn_gemm(1, 0, G, I, T * B, 1.0f, dg, G, in, I, 1.0f, dw_ih, I);
    if (din)
        hp_nn_gemm(0, 0, T * B, I, G, 1.0f, dg, G, w_ih, I, 0.0f, din, I);
}
