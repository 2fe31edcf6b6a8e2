/*
 * model.h — a network as a chain of layers over preallocated blocks.
 *
 * A model is built in two phases. First the layers are added, each one
 * checking its input shape against what the previous layer produces (shape
 * bugs fail here, loudly, before any data flows). Then hp_nn_model_alloc
 * plans and allocates, once, four blocks (as llm.c does):
 *
 *   params  every weight and bias, one float array
 *   grads   the same layout as params
 *   acts    every layer output plus the scratch backward needs
 *           (im2col buffers, LSTM gates, dropout masks, batch-norm caches)
 *   dacts   the gradient of every layer output
 *
 * plus a small `bufs` block for non-trained state (batch-norm running
 * statistics). Each layer keeps pointers into these blocks, so forward and
 * backward never allocate.
 *
 *     hp_nn_model_t m;
 *     hp_nn_model_init(&m, 1, 28, 28);
 *     hp_nn_add_dense(&m, 256, HP_NN_INIT_HE);
 *     hp_nn_add_act(&m, HP_NN_RELU);
 *     hp_nn_add_dense(&m, 10, HP_NN_INIT_GLOROT);
 *     if (hp_nn_model_alloc(&m, 128, err, errlen) < 0) ...
 *     hp_nn_model_init_params(&m, seed, stream);
 *     memcpy(m.input, x, ...);                 // (B, in_size)
 *     float *logits = hp_nn_forward(&m, B);    // (B, out_size)
 *     ... loss writes hp_nn_out_grad(&m) ...
 *     hp_nn_zero_grad(&m);
 *     hp_nn_backward(&m, B);
 *     hp_nn_model_fini(&m);
 *
 * Train / eval mode is a field the engine sets (hp_nn_set_training);
 * dropout and batch norm read it. Not thread-safe; one model per thread.
 */
#ifndef HP_NN_MODEL_H
#define HP_NN_MODEL_H

#include "layer.h"
#include "rng.h"

#include <stddef.h>
#include <stdint.h>

#define HP_NN_MAX_OPS 48

typedef enum hp_nn_kind {
    HP_NN_DENSE,
    HP_NN_RELU,
    HP_NN_TANH,
    HP_NN_SIGMOID,
    HP_NN_CONV2D,
    HP_NN_MAXPOOL,
    HP_NN_LSTM,
    HP_NN_TIME_MAJOR, /* (B, T, I) image rows -> (T, B, I) sequence */
    HP_NN_SEQ_LAST,   /* (T, B, H) -> (B, H): the last step */
    HP_NN_DROPOUT,
    HP_NN_BATCHNORM,
    HP_NN_SPLIT, /* (D_img + F) -> the image (C, H, W); the features kept (fuse.h) */
    HP_NN_FUSE,  /* (K) -> (K + Hf): the kept features through dense + relu, appended */
    /* the later architectures (model_arch.c, layer_arch.h) */
    HP_NN_RESBLOCK,   /* residual block, (C, H, W) -> (K, H/s, W/s) */
    HP_NN_GAP,        /* global average pool, (C, H, W) -> (C, 1, 1) */
    HP_NN_STEP_DENSE, /* (1, T, F) image rows -> (1, T, D): a dense per step */
    HP_NN_POSENC,     /* (1, T, D) += sinusoidal positions, in place */
    HP_NN_TCN,        /* WaveNet-like causal dilated block, (1, T, D) */
    HP_NN_ATTN,       /* transformer encoder layer, (1, T, D) */
    HP_NN_SEQPOOL,    /* (1, T, D) -> (D, 1, 1): mean or last step */
} hp_nn_kind_t;

typedef enum hp_nn_init {
    HP_NN_INIT_HE,     /* normal, std sqrt(2 / fan_in): before relu */
    HP_NN_INIT_GLOROT, /* normal, std sqrt(2 / (fan_in + fan_out)): tanh, output */
} hp_nn_init_t;

/* One layer. Shapes are per sample: c, h, w for images; (t, f) for a
 * time-major sequence of f features (h = 1); (f, 1, 1) for vectors. */
typedef struct hp_nn_op {
    hp_nn_kind_t kind;
    char name[96]; /* "layer 3 (dense 256->10)" for messages */
    int in_c, in_h, in_w, out_c, out_h, out_w;
    int seq_in, seq_out; /* shapes are (T, features) sequences */
    size_t in_size, out_size; /* floats per sample */
    hp_nn_init_t init;
    int k, pad;    /* conv / pool kernel, conv padding */
    int algo;      /* conv: its hp_nn_conv_algo_t, picked once when added */
    float p;       /* dropout probability */
    int stride, dilation, heads, ffn, last; /* resblock, tcn, attention, seqpool */
    size_t nbuf;   /* floats of bufs the op keeps (batch norm: 2 in_c) */
    float *buf;    /* its bufs: running statistics, the position table */
    /* parameters: up to three tensors (w, b; LSTM w_ih, w_hh, b) */
    int nparam;
    size_t plen[3], fan_in, fan_out;
    float *param[3], *grad[3];
    float *run_mean, *run_var; /* batch norm, in bufs */
    float *out, *dout;         /* (max_batch, out_size) */
    void *s[5];                /* scratch, see model.c */
    size_t slen[5];            /* bytes */
    int inplace;               /* out/dout alias the previous layer's */
    int link;                  /* fuse: the split layer whose features it takes */
} hp_nn_op_t;

typedef struct hp_nn_model {
    int nops;
    hp_nn_op_t ops[HP_NN_MAX_OPS];
    int in_c, in_h, in_w;
    size_t in_size, out_size;
    int max_batch;
    int training;
    hp_rng_t rng; /* dropout masks */
    size_t nparams, nbufs, act_bytes, dact_bytes;
    float *params, *grads, *bufs;
    unsigned char *acts, *dacts;
    float *input; /* (max_batch, in_size), filled by the caller */
    struct hp_nn_bf16 *bf16; /* bf16 products' context (hp_nn_model_use_bf16), or NULL */
    char build_err[160]; /* first error while adding layers */
} hp_nn_model_t;

/* hp_nn_model_init starts an empty model whose samples are (c, h, w). */
void hp_nn_model_init(hp_nn_model_t *m, int c, int h, int w);
/* Adders: on a shape error they record it (see hp_nn_model_alloc) and
 * return a negative hp_err; later adds are then ignored. */
int hp_nn_add_dense(hp_nn_model_t *m, int out, hp_nn_init_t init);
int hp_nn_add_act(hp_nn_model_t *m, hp_nn_kind_t kind);
int hp_nn_add_conv2d(hp_nn_model_t *m, int out_channels, int k, int pad, hp_nn_init_t init);
int hp_nn_add_maxpool(hp_nn_model_t *m, int k);
int hp_nn_add_time_major(hp_nn_model_t *m);
int hp_nn_add_lstm(hp_nn_model_t *m, int hidden);
int hp_nn_add_seq_last(hp_nn_model_t *m);
int hp_nn_add_dropout(hp_nn_model_t *m, float p);
int hp_nn_add_batchnorm(hp_nn_model_t *m);
/* hp_nn_add_split (first layer only) takes each sample's first c*h*w
 * values as a (c, h, w) image for the layers after it and keeps the rest
 * (the features) for hp_nn_add_fuse, which appends relu(dense(features,
 * hidden)) to its input vector. */
int hp_nn_add_split(hp_nn_model_t *m, int c, int h, int w);
int hp_nn_add_fuse(hp_nn_model_t *m, int hidden, hp_nn_init_t init);
/* the later architectures (layer_arch.h says what each computes) */
int hp_nn_add_resblock(hp_nn_model_t *m, int out_channels, int stride);
int hp_nn_add_gap(hp_nn_model_t *m);
/* step_dense: a (1, T, F) input read as T steps of F features */
int hp_nn_add_step_dense(hp_nn_model_t *m, int width, hp_nn_init_t init);
/* posenc, tcn, attention and seqpool follow step_dense or one another */
int hp_nn_add_posenc(hp_nn_model_t *m);
int hp_nn_add_tcn(hp_nn_model_t *m, int kernel, int dilation);
int hp_nn_add_attention(hp_nn_model_t *m, int heads, int ffn);
int hp_nn_add_seqpool(hp_nn_model_t *m, int last);

/* hp_nn_model_alloc plans and allocates all blocks for batches of up to
 * max_batch samples. Returns HP_EINVAL with the first build error, or
 * HP_ENOMEM. */
int hp_nn_model_alloc(hp_nn_model_t *m, int max_batch, char *err, size_t errlen);
/* hp_nn_model_init_params draws weights (He / Glorot normal as each layer
 * asked), zeroes biases, sets batch-norm gamma 1 and the LSTM forget-gate
 * bias 1, from the (seed, stream) RNG; also seeds the dropout RNG. */
void hp_nn_model_init_params(hp_nn_model_t *m, uint64_t seed, uint64_t stream);
/* hp_nn_model_use_bf16 makes the model's forward and backward passes
 * multiply in bf16 (gemm.h): 0, or -1 when the CPU has no AVX512_BF16 (or
 * memory is short), and the model stays fp32. */
int hp_nn_model_use_bf16(hp_nn_model_t *m);
/* hp_nn_model_fini frees the blocks; safe on a zeroed model. */
void hp_nn_model_fini(hp_nn_model_t *m);

void hp_nn_set_training(hp_nn_model_t *m, int training);
/* hp_nn_forward runs the chain on m->input (B <= max_batch) and returns
 * the last layer's output (B, out_size). */
float *hp_nn_forward(hp_nn_model_t *m, int B);
/* hp_nn_out_grad is where the loss writes d loss / d output (B, out_size). */
float *hp_nn_out_grad(hp_nn_model_t *m);
void hp_nn_zero_grad(hp_nn_model_t *m);
/* hp_nn_backward accumulates parameter gradients of the last forward's
 * batch (training mode) from hp_nn_out_grad. */
void hp_nn_backward(hp_nn_model_t *m, int B);

/* hp_nn_find_nonfinite_grad returns the index of the first layer with a
 * non-finite parameter gradient, or -1; *which names the tensor. */
int hp_nn_find_nonfinite_grad(const hp_nn_model_t *m, const char **which);
/* hp_nn_find_nonfinite_act: first layer whose output (B rows) is not
 * finite, or -1. For locating where a NaN loss came from. */
int hp_nn_find_nonfinite_act(const hp_nn_model_t *m, int B);

#endif
