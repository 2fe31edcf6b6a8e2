/*
 * layer_arch.h — the kernels of the architectures the troubleshooting guide
 * names "for later" (issue 18): a ResNet-like CNN (strided convolutions,
 * residual blocks with batch norm and a projection shortcut, global
 * average pooling) and two sequence models (a WaveNet-like stack of
 * causal dilated convolutions; a small self-attention encoder).
 *
 * Same conventions as layer.h: caller-owned arrays, no allocation, scratch
 * passed in and sized by the *_size functions (in floats, for a batch of
 * d->B samples), parameter gradients ACCUMULATED, din OVERWRITTEN (may be
 * NULL). A composite layer keeps all its parameters in one packed block
 * whose layout its own comment gives (the PyTorch fixtures use it too).
 *
 * Sequences here are batch first, (B, T, D), one time step a row: the
 * layout the image-rows input already has, so no transpose is needed.
 *
 *     hp_nn_resblock_dims_t d = {.B = 128, .C = 16, .H = 28, .W = 28, .K = 32, .stride = 2};
 *     hp_nn_resblock_dims(&d);   // Ho = Wo = 14, proj = 1
 *     hp_nn_resblock_forward(out, cache, scratch, bufs, x, p, 1, &d);
 *     hp_nn_resblock_backward(dx, dp, dout, x, out, cache, scratch, p, &d);
 */
#ifndef HP_NN_LAYER_ARCH_H
#define HP_NN_LAYER_ARCH_H

#include "rng.h"

#include <stddef.h>

/* ---- conv2d with stride, no bias (a ResNet conv is followed by batch norm):
 *      in (B, C, H, W) -> out (B, K, Ho, Wo), Ho = (H + 2 pad - k) / stride + 1;
 *      w (K, C, k, k). im2col + one GEMM per group of samples. */
typedef struct hp_nn_convs_dims {
    int B, C, H, W, K, k, stride, pad, Ho, Wo;
} hp_nn_convs_dims_t;

void hp_nn_convs_dims(hp_nn_convs_dims_t *d);
size_t hp_nn_convs_scratch_size(const hp_nn_convs_dims_t *d);
void hp_nn_convs_forward(float *out, const float *in, const float *w, float *scratch,
                         const hp_nn_convs_dims_t *d);
void hp_nn_convs_backward(float *din, float *dw, const float *dout, const float *in,
                          const float *w, float *scratch, const hp_nn_convs_dims_t *d);

/* ---- global average pooling: in (B, C, S) -> out (B, C) */
void hp_nn_gap_forward(float *out, const float *in, int B, int C, int S);
void hp_nn_gap_backward(float *din, const float *dout, int B, int C, int S);

/* ---- residual block (He et al.'s basic block):
 *      out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))
 *      conv1 3x3 stride s pad 1 (C -> K), conv2 3x3 pad 1 (K -> K);
 *      shortcut = x, or bnp(convp(x)) with convp 1x1 stride s when the
 *      shape changes (C != K or s != 1): the projection shortcut.
 *      in (B, C, H, W) -> out (B, K, Ho, Wo), Ho = (H - 1) / s + 1.
 * Packed parameters, in this order: w1 (K, C, 3, 3), gamma1, beta1 (K),
 * w2 (K, K, 3, 3), gamma2, beta2 (K), [wp (K, C), gammap, betap (K)].
 * bufs: the running mean and variance of bn1, bn2[, bnp], 2 K each.
 * cache (written by a training forward, read by backward) and scratch:
 * hp_nn_resblock_cache_size / _scratch_size floats. */
typedef struct hp_nn_resblock_dims {
    int B, C, H, W, K, stride, Ho, Wo, proj;
} hp_nn_resblock_dims_t;

void hp_nn_resblock_dims(hp_nn_resblock_dims_t *d);
size_t hp_nn_resblock_nparams(const hp_nn_resblock_dims_t *d);
size_t hp_nn_resblock_nbufs(const hp_nn_resblock_dims_t *d);
size_t hp_nn_resblock_cache_size(const hp_nn_resblock_dims_t *d);
size_t hp_nn_resblock_scratch_size(const hp_nn_resblock_dims_t *d);
/* He-normal convolutions, gamma 1, beta 0, running variance 1 */
void hp_nn_resblock_init(float *p, float *bufs, hp_rng_t *r, const hp_nn_resblock_dims_t *d);
void hp_nn_resblock_forward(float *out, float *cache, float *scratch, float *bufs,
                            const float *in, const float *p, int training,
                            const hp_nn_resblock_dims_t *d);
void hp_nn_resblock_backward(float *din, float *dp, const float *dout, const float *in,
                             const float *out, const float *cache, float *scratch,
                             const float *p, const hp_nn_resblock_dims_t *d);

/* ---- batch-first sequence helpers, x (B, T, D) ----
 * positional encoding (Vaswani et al.'s sinusoids) added in place:
 *      x[b, t, 2i] += sin(t / 10000^(2i / D)), x[b, t, 2i+1] += cos(...);
 * table (T, D) is filled once by hp_nn_posenc_table. Its backward is the
 * identity. */
void hp_nn_posenc_table(float *table, int T, int D);
void hp_nn_posenc_forward(float *x, const float *table, int B, int T, int D);
/* pooling over time: (B, T, D) -> (B, D), the mean (last = 0) or the
 * last step (last = 1) */
void hp_nn_seqpool_forward(float *out, const float *in, int B, int T, int D, int last);
void hp_nn_seqpool_backward(float *din, const float *dout, int B, int T, int D, int last);

/* ---- WaveNet-like residual block of a temporal convolution network:
 *      z = causal_conv(x) (B, T, 2D): kernel k, dilation dil, left zero
 *          padding (k - 1) dil, so step t sees only steps <= t;
 *      g = tanh(z[..., :D]) * sigmoid(z[..., D:])   (the gated unit);
 *      out = x + g wr^T + br                        (1x1 conv, residual)
 *      in (B, T, D) -> out (B, T, D).
 * Packed parameters: wc (2D, k, D) (tap j reads step t - (k - 1 - j) dil;
 * PyTorch's Conv1d weight (2D, D, k) permuted), bc (2D), wr (D, D), br (D).
 * Forward always keeps the cache backward reads. */
typedef struct hp_nn_tcn_dims {
    int B, T, D, k, dil;
} hp_nn_tcn_dims_t;

size_t hp_nn_tcn_nparams(const hp_nn_tcn_dims_t *d);
size_t hp_nn_tcn_cache_size(const hp_nn_tcn_dims_t *d);
size_t hp_nn_tcn_scratch_size(const hp_nn_tcn_dims_t *d);
/* Glorot-normal weights, zero biases */
void hp_nn_tcn_init(float *p, hp_rng_t *r, const hp_nn_tcn_dims_t *d);
void hp_nn_tcn_forward(float *out, float *cache, float *scratch, const float *in, const float *p,
                       const hp_nn_tcn_dims_t *d);
void hp_nn_tcn_backward(float *din, float *dp, const float *dout, const float *in,
                        const float *cache, float *scratch, const float *p,
                        const hp_nn_tcn_dims_t *d);

/* ---- layer norm over the last dimension: in (N, D) -> out (N, D),
 * eps 1e-5 as PyTorch. Saves xhat (N, D) and rstd (N). din may be dout. */
void hp_nn_layernorm_forward(float *out, float *xhat, float *rstd, const float *in,
                             const float *gamma, const float *beta, int N, int D);
void hp_nn_layernorm_backward(float *din, float *dgamma, float *dbeta, const float *dout,
                              const float *xhat, const float *rstd, const float *gamma, int N,
                              int D);

/* ---- transformer encoder layer (post-norm, as PyTorch's
 * TransformerEncoderLayer with relu and no dropout):
 *      a = MultiHead(x) (H heads of D / H, scaled dot-product attention)
 *      h = LN1(x + a);  out = LN2(h + W2 relu(W1 h + b1) + b2)
 *      in (B, T, D) -> out (B, T, D); D a multiple of H.
 * Packed parameters: w_qkv (3D, D), b_qkv (3D) (PyTorch's in_proj: q, k,
 * v rows), w_o (D, D), b_o (D), gamma1, beta1 (D), w1 (F, D), b1 (F),
 * w2 (D, F), b2 (D), gamma2, beta2 (D). */
typedef struct hp_nn_attn_dims {
    int B, T, D, H, F;
} hp_nn_attn_dims_t;

size_t hp_nn_attn_nparams(const hp_nn_attn_dims_t *d);
size_t hp_nn_attn_cache_size(const hp_nn_attn_dims_t *d);
size_t hp_nn_attn_scratch_size(const hp_nn_attn_dims_t *d);
/* Glorot-normal projections, He-normal w1, zero biases, gamma 1 */
void hp_nn_attn_init(float *p, hp_rng_t *r, const hp_nn_attn_dims_t *d);
void hp_nn_attn_forward(float *out, float *cache, float *scratch, const float *in,
                        const float *p, const hp_nn_attn_dims_t *d);
void hp_nn_attn_backward(float *din, float *dp, const float *dout, const float *in,
                         const float *cache, float *scratch, const float *p,
                         const hp_nn_attn_dims_t *d);

#endif
