/*
 * layer.h — the layer and loss kernels of the training engine.
 *
 * Each layer is a pair hp_nn_<layer>_forward / hp_nn_<layer>_backward that
 * works on caller-owned float arrays (row-major, batch first unless said
 * otherwise) and never allocates: scratch space is passed in, sized by the
 * model planner (model.c). Shapes are in the comment above each prototype.
 *
 * Backward conventions (the same for every layer):
 *   - parameter gradients (dw, db, ...) are ACCUMULATED (+=), so the caller
 *     zeroes them once per step, as in llm.c;
 *   - the input gradient din is OVERWRITTEN, and may be NULL when nobody
 *     needs it (the first layer). The network is a chain, so no input
 *     gradient ever has two producers, and overwriting saves a memset of
 *     every activation gradient per step.
 *
 *     hp_nn_dense_dims_t d = {.B = 128, .I = 784, .O = 256};
 *     hp_nn_dense_forward(h, x, w, b, &d);
 *     ...
 *     hp_nn_dense_backward(NULL, dw, db, dh, x, w, &d);
 */
#ifndef HP_NN_LAYER_H
#define HP_NN_LAYER_H

#include "rng.h"

#include <stddef.h>
#include <stdint.h>

/* ---- dense: in (B, I) -> out (B, O); w (O, I); b (O) ---- */
typedef struct hp_nn_dense_dims {
    int B, I, O;
} hp_nn_dense_dims_t;

void hp_nn_dense_forward(float *out, const float *in, const float *w, const float *b,
                         const hp_nn_dense_dims_t *d);
/* din (B, I) = dout @ w; dw (O, I) += dout^T @ in; db (O) += colsum(dout) */
void hp_nn_dense_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                          const float *w, const hp_nn_dense_dims_t *d);

/* ---- elementwise activations: in (n) -> out (n); in == out allowed ----
 * Backward uses the forward OUTPUT, so the input need not be kept. */
void hp_nn_relu_forward(float *out, const float *in, size_t n);
void hp_nn_relu_backward(float *din, const float *dout, const float *out, size_t n);
void hp_nn_tanh_forward(float *out, const float *in, size_t n);
void hp_nn_tanh_backward(float *din, const float *dout, const float *out, size_t n);
void hp_nn_sigmoid_forward(float *out, const float *in, size_t n);
void hp_nn_sigmoid_backward(float *din, const float *dout, const float *out, size_t n);

/* ---- conv2d, stride 1, zero padding `pad`:
 *      in (B, C, H, W) -> out (B, K, Ho, Wo), Ho = H + 2 pad - kh + 1;
 *      w (K, C, kh, kw); b (K)
 * Two algorithms compute the same function (up to float rounding):
 * im2col + one sgemm per sample and pass (HP_NN_CONV_GEMM), and direct
 * vectorised kernels that fuse the im2col into the product
 * (HP_NN_CONV_DIRECT), faster for small channel counts. The _algo entry
 * points take the algorithm; the plain ones use hp_nn_conv2d_pick's. The
 * model picks once per layer when it is built.
 * scratch: hp_nn_conv2d_scratch_size floats (enough for either: one
 * sample's padded input, im2col matrix or transposed output gradient, and
 * a weight-gradient tile). Backward recomputes the per-sample buffers
 * rather than keeping B copies. */
typedef struct hp_nn_conv2d_dims {
    int B, C, H, W, K, kh, kw, pad, Ho, Wo;
} hp_nn_conv2d_dims_t;

typedef enum hp_nn_conv_algo {
    HP_NN_CONV_GEMM = 1,
    HP_NN_CONV_DIRECT,
} hp_nn_conv_algo_t;

/* hp_nn_conv2d_dims fills Ho, Wo from the rest. */
void hp_nn_conv2d_dims(hp_nn_conv2d_dims_t *d);
/* hp_nn_conv2d_pick is the faster algorithm for d's shape by a fixed rule
 * (measured on the engine benchmark's machines), not a timing at run
 * time: the same model always runs the same kernels, so a seed reproduces
 * its weights bit for bit. */
hp_nn_conv_algo_t hp_nn_conv2d_pick(const hp_nn_conv2d_dims_t *d);
size_t hp_nn_conv2d_scratch_size(const hp_nn_conv2d_dims_t *d); /* floats */
void hp_nn_conv2d_forward(float *out, const float *in, const float *w, const float *b,
                          float *scratch, const hp_nn_conv2d_dims_t *d);
void hp_nn_conv2d_backward(float *din, float *dw, float *db, const float *dout, const float *in,
                           const float *w, float *scratch, const hp_nn_conv2d_dims_t *d);
void hp_nn_conv2d_forward_algo(hp_nn_conv_algo_t a, float *out, const float *in, const float *w,
                               const float *b, float *scratch, const hp_nn_conv2d_dims_t *d);
void hp_nn_conv2d_backward_algo(hp_nn_conv_algo_t a, float *din, float *dw, float *db,
                                const float *dout, const float *in, const float *w,
                                float *scratch, const hp_nn_conv2d_dims_t *d);

/* ---- maxpool k x k, stride k (floor):
 *      in (B, C, H, W) -> out (B, C, H/k, W/k)
 * Backward replays forward's comparisons on in to find each window's
 * winner (ties: the first in row-major order), so nothing is stored and
 * the output may be overwritten in place (relu after a pool).
 * A NaN wins the forward max; backward assumes finite inputs (the engine
 * stops a step at a non-finite loss before any backward). */
typedef struct hp_nn_maxpool_dims {
    int B, C, H, W, k, Ho, Wo;
} hp_nn_maxpool_dims_t;

void hp_nn_maxpool_forward(float *out, const float *in, const hp_nn_maxpool_dims_t *d);
void hp_nn_maxpool_backward(float *din, const float *dout, const float *in,
                            const hp_nn_maxpool_dims_t *d);

/* ---- LSTM, one layer, time-major, zero initial state, PyTorch gate order
 * (i, f, g, o), tanh cell:
 *      in (T, B, I) -> out h (T, B, H)
 *      w_ih (4H, I); w_hh (4H, H); b (4H) (PyTorch's b_ih + b_hh)
 * Cache written by forward, read by backward: gates (T, B, 4H) after their
 * nonlinearities, c (T, B, H), tc = tanh(c) (T, B, H).
 * Backward is full BPTT; scratch dg (T, B, 4H), dh (B, H), dc (B, H).
 * dg may be the gates array itself: step t's gates are read once, just
 * before their gradients overwrite them, which saves a (T, B, 4H) buffer
 * and its cache misses. Forward overwrites all of gates, c, tc: they need
 * no initialisation. */
typedef struct hp_nn_lstm_dims {
    int T, B, I, H;
} hp_nn_lstm_dims_t;

void hp_nn_lstm_forward(float *out, float *gates, float *c, float *tc, const float *in,
                        const float *w_ih, const float *w_hh, const float *b,
                        const hp_nn_lstm_dims_t *d);
void hp_nn_lstm_backward(float *din, float *dw_ih, float *dw_hh, float *db, const float *dout,
                         const float *in, const float *out, const float *gates, const float *c,
                         const float *tc, const float *w_ih, const float *w_hh, float *dg,
                         float *dh, float *dc, const hp_nn_lstm_dims_t *d);

/* ---- dropout (inverted): in (n) -> out (n); mask (n) is written by
 * forward (0 or 1/(1-p)) and read by backward. p in [0, 1). */
void hp_nn_dropout_forward(float *out, float *mask, const float *in, size_t n, float p,
                           hp_rng_t *rng);
void hp_nn_dropout_backward(float *din, const float *dout, const float *mask, size_t n);

/* ---- batch norm over channels: in (B, C, S) -> out (B, C, S), S = spatial
 * size (1 after a dense layer); gamma, beta (C); running mean / var (C).
 * Training mode normalises with the batch statistics, saves xhat (B, C, S),
 * mean (C) and invstd (C) for backward and updates the running statistics
 * (momentum as PyTorch: run = (1 - m) run + m batch, unbiased variance).
 * Evaluation mode uses the running statistics and has no backward. */
typedef struct hp_nn_batchnorm_dims {
    int B, C, S;
    float eps, momentum;
} hp_nn_batchnorm_dims_t;

void hp_nn_batchnorm_forward_train(float *out, float *xhat, float *mean, float *invstd,
                                   float *run_mean, float *run_var, const float *in,
                                   const float *gamma, const float *beta,
                                   const hp_nn_batchnorm_dims_t *d);
void hp_nn_batchnorm_forward_eval(float *out, const float *in, const float *gamma,
                                  const float *beta, const float *run_mean, const float *run_var,
                                  const hp_nn_batchnorm_dims_t *d);
/* tmp: 2 C floats of scratch */
void hp_nn_batchnorm_backward(float *din, float *dgamma, float *dbeta, float *tmp,
                              const float *dout, const float *xhat, const float *invstd,
                              const float *gamma, const hp_nn_batchnorm_dims_t *d);

/* ---- softmax cross-entropy from LOGITS (log-sum-exp; there is no entry
 * point that takes probabilities, so softmax can never be fed to the loss):
 *      logits (B, C), labels (B) in [0, C) -> mean loss; probs (B, C) saved.
 * *ncorrect (may be NULL) gets the number of argmax hits. */
float hp_nn_xent_forward(float *probs, const float *logits, const int32_t *labels, int B, int C,
                         int *ncorrect);
/* dlogits (B, C) = (probs - onehot(labels)) / B */
void hp_nn_xent_backward(float *dlogits, const float *probs, const int32_t *labels, int B, int C);

/* ---- mean squared error: pred (n), target (n) -> mean((pred - target)^2) */
float hp_nn_mse_forward(const float *pred, const float *target, size_t n);
/* dpred (n) = 2 (pred - target) / n */
void hp_nn_mse_backward(float *dpred, const float *pred, const float *target, size_t n);

#endif
