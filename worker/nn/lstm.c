/* LSTM layer, time-major, full backpropagation through time.
 *
 * The input projection of all T steps is one GEMM (T*B rows); only the
 * recurrent h_{t-1} @ w_hh^T is done step by step. Backward mirrors it: the
 * per-step GEMM is dh_{t-1} = dg_t @ w_hh, and the weight gradients are
 * three GEMMs over all steps at the end. */
#include "fastmath_int.h"
#include "gemm.h"
#include "layer.h"

#include <string.h>

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
        if (t > 0)
            hp_nn_gemm(0, 1, B, G, H, 1.0f, out + (t - 1) * bh, H, w_hh, H, 1.0f, gt, G);
        float *ct = c + t * bh, *tct = tc + t * bh, *ht = out + t * bh;
        const float *cp = t > 0 ? c + (t - 1) * bh : NULL;
        for (int n = 0; n < B; n++) {
            /* contiguous loops so the gate nonlinearities vectorize */
            float *g = gt + (size_t)n * G;
            for (int j = 0; j < 2 * H; j++)
                g[j] = hp_fsigmoid(g[j]); /* i, f */
            for (int j = 2 * H; j < 3 * H; j++)
                g[j] = hp_ftanh(g[j]); /* g */
            for (int j = 3 * H; j < 4 * H; j++)
                g[j] = hp_fsigmoid(g[j]); /* o */
            size_t q = (size_t)n * H;
            float *cn = ct + q, *tcn = tct + q, *hn = ht + q;
            if (cp)
                for (int j = 0; j < H; j++)
                    cn[j] = g[j] * g[2 * H + j] + g[H + j] * cp[q + j];
            else
                for (int j = 0; j < H; j++)
                    cn[j] = g[j] * g[2 * H + j];
            for (int j = 0; j < H; j++) {
                tcn[j] = hp_ftanh(cn[j]);
                hn[j] = g[3 * H + j] * tcn[j];
            }
        }
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
        const float *gt = gates + t * bg, *tct = tc + t * bh, *dot = dout + t * bh;
        const float *cp = t > 0 ? c + (t - 1) * bh : NULL;
        float *dgt = dg + t * bg;
        for (int n = 0; n < B; n++) {
            const float *g = gt + (size_t)n * G;
            float *e = dgt + (size_t)n * G;
            for (int j = 0; j < H; j++) {
                size_t q = (size_t)n * H + j;
                float ig = g[j], fg = g[H + j], gg = g[2 * H + j], og = g[3 * H + j];
                float dhv = dot[q] + dh[q];
                float tcv = tct[q];
                float dcv = dc[q] + dhv * og * (1.0f - tcv * tcv);
                float cpv = cp ? cp[q] : 0.0f;
                e[j] = dcv * gg * ig * (1.0f - ig);
                e[H + j] = dcv * cpv * fg * (1.0f - fg);
                e[2 * H + j] = dcv * ig * (1.0f - gg * gg);
                e[3 * H + j] = dhv * tcv * og * (1.0f - og);
                dc[q] = dcv * fg;
            }
        }
        if (t > 0)
            hp_nn_gemm(0, 0, B, H, G, 1.0f, dgt, G, w_hh, H, 0.0f, dh, H);
    }
    if (T > 1)
        hp_nn_gemm(1, 0, G, H, (T - 1) * B, 1.0f, dg + bg, G, out, H, 1.0f, dw_hh, H);
    hp_nn_gemm(1, 0, G, I, T * B, 1.0f, dg, G, in, I, 1.0f, dw_ih, I);
    for (int r = 0; r < T * B; r++) {
        const float *e = dg + (size_t)r * G;
        for (int j = 0; j < G; j++)
            db[j] += e[j];
    }
    if (din)
        hp_nn_gemm(0, 0, T * B, I, G, 1.0f, dg, G, w_ih, I, 0.0f, din, I);
}
