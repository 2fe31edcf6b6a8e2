/* Building a layer chain, planning its memory blocks, forward/backward. */
#include "model.h"

#include "layer_arch.h"
#include "model_arch_int.h"

#include "err.h"
#include "fuse.h"
#include "gemm.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hp_nn_model_init(hp_nn_model_t *m, int c, int h, int w)
{
    memset(m, 0, sizeof *m);
    m->in_c = c;
    m->in_h = h;
    m->in_w = w;
    m->in_size = (size_t)c * h * w;
}

static int build_fail(hp_nn_model_t *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int build_fail(hp_nn_model_t *m, const char *fmt, ...)
{
    if (!m->build_err[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m->build_err, sizeof m->build_err, fmt, ap);
        va_end(ap);
    }
    return HP_EINVAL;
}

static const char *kind_name(hp_nn_kind_t k)
{
    static const char *names[] = {"dense", "relu",       "tanh",     "sigmoid", "conv2d",  "maxpool",
                                  "lstm",  "time-major", "seq-last", "dropout", "batchnorm",
                                  "split", "fuse", "resblock", "avgpool", "step-dense", "posenc",
                                  "tcn", "attention", "seqpool"};
    return names[k];
}

/* new op whose input is the previous op's output (or the model input) */
static hp_nn_op_t *push(hp_nn_model_t *m, hp_nn_kind_t kind)
{
    if (m->build_err[0])
        return NULL;
    if (m->nops == HP_NN_MAX_OPS) {
        build_fail(m, "too many layers (max %d)", HP_NN_MAX_OPS);
        return NULL;
    }
    hp_nn_op_t *op = &m->ops[m->nops];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    if (m->nops == 0) {
        op->in_c = m->in_c;
        op->in_h = m->in_h;
        op->in_w = m->in_w;
    } else {
        hp_nn_op_t *p = &m->ops[m->nops - 1];
        op->in_c = p->out_c;
        op->in_h = p->out_h;
        op->in_w = p->out_w;
        op->seq_in = p->seq_out;
    }
    op->in_size = (size_t)op->in_c * op->in_h * op->in_w;
    op->out_c = op->in_c;
    op->out_h = op->in_h;
    op->out_w = op->in_w;
    op->seq_out = op->seq_in;
    return op;
}

static int commit(hp_nn_model_t *m, hp_nn_op_t *op, const char *detail)
{
    op->out_size = (size_t)op->out_c * op->out_h * op->out_w;
    snprintf(op->name, sizeof op->name, "layer %d (%s%s%s)", m->nops + 1, kind_name(op->kind),
             detail[0] ? " " : "", detail);
    m->nops++;
    m->out_size = op->out_size;
    return 0;
}

int hp_nn_add_dense(hp_nn_model_t *m, int out, hp_nn_init_t init)
{
    hp_nn_op_t *op = push(m, HP_NN_DENSE);
    if (!op)
        return HP_EINVAL;
    if (op->seq_in)
        return build_fail(m, "dense layer %d: input is a sequence; add seq-last first", m->nops + 1);
    if (out < 1)
        return build_fail(m, "dense layer %d: width must be >= 1 (got %d)", m->nops + 1, out);
    int in = (int)op->in_size;
    op->out_c = out;
    op->out_h = op->out_w = 1;
    op->init = init;
    op->nparam = 2;
    op->plen[0] = (size_t)out * in;
    op->plen[1] = (size_t)out;
    op->fan_in = (size_t)in;
    op->fan_out = (size_t)out;
    char d[64];
    snprintf(d, sizeof d, "%d->%d", in, out);
    return commit(m, op, d);
}

int hp_nn_add_act(hp_nn_model_t *m, hp_nn_kind_t kind)
{
    if (kind != HP_NN_RELU && kind != HP_NN_TANH && kind != HP_NN_SIGMOID)
        return build_fail(m, "layer %d: not an activation", m->nops + 1);
    hp_nn_op_t *op = push(m, kind);
    if (!op)
        return HP_EINVAL;
    /* in place after a layer whose backward does not need its own output */
    if (m->nops > 0) {
        hp_nn_kind_t pk = m->ops[m->nops - 1].kind;
        op->inplace = pk == HP_NN_DENSE || pk == HP_NN_CONV2D || pk == HP_NN_BATCHNORM ||
                      pk == HP_NN_MAXPOOL;
    }
    return commit(m, op, "");
}

int hp_nn_add_conv2d(hp_nn_model_t *m, int out_channels, int k, int pad, hp_nn_init_t init)
{
    hp_nn_op_t *op = push(m, HP_NN_CONV2D);
    if (!op)
        return HP_EINVAL;
    if (op->seq_in || op->in_h == 1)
        return build_fail(m, "conv2d layer %d: needs an image input (C, H, W), got %d values",
                          m->nops + 1, (int)op->in_size);
    int ho = op->in_h + 2 * pad - k + 1, wo = op->in_w + 2 * pad - k + 1;
    if (out_channels < 1 || k < 1 || pad < 0 || ho < 1 || wo < 1)
        return build_fail(m, "conv2d layer %d: %dx%d kernel, padding %d does not fit a %dx%d input",
                          m->nops + 1, k, k, pad, op->in_h, op->in_w);
    op->k = k;
    op->pad = pad;
    op->init = init;
    hp_nn_conv2d_dims_t cd = {1, op->in_c, op->in_h, op->in_w, out_channels, k, k, pad, ho, wo};
    op->algo = hp_nn_conv2d_pick(&cd);
    op->out_c = out_channels;
    op->out_h = ho;
    op->out_w = wo;
    op->nparam = 2;
    op->plen[0] = (size_t)out_channels * op->in_c * k * k;
    op->plen[1] = (size_t)out_channels;
    op->fan_in = (size_t)op->in_c * k * k;
    op->fan_out = (size_t)out_channels * k * k;
    char d[64];
    snprintf(d, sizeof d, "%d->%d %dx%d", op->in_c, out_channels, k, k);
    return commit(m, op, d);
}

int hp_nn_add_maxpool(hp_nn_model_t *m, int k)
{
    hp_nn_op_t *op = push(m, HP_NN_MAXPOOL);
    if (!op)
        return HP_EINVAL;
    if (op->seq_in || k < 1 || op->in_h / k < 1 || op->in_w / k < 1)
        return build_fail(m, "maxpool layer %d: %dx%d pool does not fit a %dx%d input", m->nops + 1,
                          k, k, op->in_h, op->in_w);
    op->k = k;
    op->out_h = op->in_h / k;
    op->out_w = op->in_w / k;
    char d[64];
    snprintf(d, sizeof d, "%dx%d", k, k);
    return commit(m, op, d);
}

int hp_nn_add_time_major(hp_nn_model_t *m)
{
    hp_nn_op_t *op = push(m, HP_NN_TIME_MAJOR);
    if (!op)
        return HP_EINVAL;
    if (op->seq_in || op->in_c != 1)
        return build_fail(m, "layer %d: a sequence model reads (1, T, F) inputs: a 1-channel "
                             "image's rows or a sequence dataset (sequence_columns); got %dx%dx%d",
                          m->nops + 1, op->in_c, op->in_h, op->in_w);
    /* (1, T, I): an image's rows or a sequence dataset's steps -> a
     * sequence of T steps of I features */
    op->out_c = op->in_h;
    op->out_h = 1;
    op->out_w = op->in_w;
    op->seq_out = 1;
    return commit(m, op, "");
}

int hp_nn_add_lstm(hp_nn_model_t *m, int hidden)
{
    hp_nn_op_t *op = push(m, HP_NN_LSTM);
    if (!op)
        return HP_EINVAL;
    if (!op->seq_in)
        return build_fail(m, "lstm layer %d: input is not a sequence", m->nops + 1);
    if (hidden < 1)
        return build_fail(m, "lstm layer %d: hidden must be >= 1 (got %d)", m->nops + 1, hidden);
    int I = op->in_w;
    op->out_w = hidden;
    op->init = HP_NN_INIT_GLOROT;
    op->nparam = 3;
    op->plen[0] = (size_t)4 * hidden * I;
    op->plen[1] = (size_t)4 * hidden * hidden;
    op->plen[2] = (size_t)4 * hidden;
    char d[64];
    snprintf(d, sizeof d, "%d->%d, %d steps", I, hidden, op->in_c);
    return commit(m, op, d);
}

int hp_nn_add_seq_last(hp_nn_model_t *m)
{
    hp_nn_op_t *op = push(m, HP_NN_SEQ_LAST);
    if (!op)
        return HP_EINVAL;
    if (!op->seq_in)
        return build_fail(m, "layer %d: seq-last needs a sequence input", m->nops + 1);
    op->out_c = op->in_w;
    op->out_h = op->out_w = 1;
    op->seq_out = 0;
    return commit(m, op, "");
}

int hp_nn_add_dropout(hp_nn_model_t *m, float p)
{
    hp_nn_op_t *op = push(m, HP_NN_DROPOUT);
    if (!op)
        return HP_EINVAL;
    if (!(p >= 0.0f && p < 1.0f))
        return build_fail(m, "dropout layer %d: p must be in [0, 1) (got %g)", m->nops + 1, p);
    op->p = p;
    char d[64];
    snprintf(d, sizeof d, "%g", p);
    return commit(m, op, d);
}

int hp_nn_add_batchnorm(hp_nn_model_t *m)
{
    hp_nn_op_t *op = push(m, HP_NN_BATCHNORM);
    if (!op)
        return HP_EINVAL;
    if (op->seq_in)
        return build_fail(m, "batchnorm layer %d: sequences are not supported", m->nops + 1);
    op->nparam = 2;
    op->plen[0] = op->plen[1] = (size_t)op->in_c;
    return commit(m, op, "");
}

int hp_nn_add_split(hp_nn_model_t *m, int c, int h, int w)
{
    if (m->nops != 0)
        return build_fail(m, "layer %d: split must be the first layer", m->nops + 1);
    hp_nn_op_t *op = push(m, HP_NN_SPLIT);
    if (!op)
        return HP_EINVAL;
    long img = (long)c * h * w;
    if (c < 1 || h < 1 || w < 1 || img >= (long)op->in_size)
        return build_fail(m, "split layer 1: a %dx%dx%d image leaves no features of the %zu inputs",
                          c, h, w, op->in_size);
    op->out_c = c;
    op->out_h = h;
    op->out_w = w;
    op->pad = (int)(op->in_size - (size_t)img); /* features */
    char d[64];
    snprintf(d, sizeof d, "%dx%dx%d + %d", c, h, w, op->pad);
    return commit(m, op, d);
}

int hp_nn_add_fuse(hp_nn_model_t *m, int hidden, hp_nn_init_t init)
{
    hp_nn_op_t *op = push(m, HP_NN_FUSE);
    if (!op)
        return HP_EINVAL;
    if (m->nops == 0 || m->ops[0].kind != HP_NN_SPLIT)
        return build_fail(m, "fuse layer %d: needs a split first layer", m->nops + 1);
    if (op->seq_in || hidden < 1)
        return build_fail(m, "fuse layer %d: needs a vector input and a width >= 1", m->nops + 1);
    int F = m->ops[0].pad, K = (int)op->in_size;
    op->link = 0;
    op->out_c = K + hidden;
    op->out_h = op->out_w = 1;
    op->init = init;
    op->nparam = 2;
    op->plen[0] = (size_t)hidden * (size_t)F;
    op->plen[1] = (size_t)hidden;
    op->fan_in = (size_t)F;
    op->fan_out = (size_t)hidden;
    char d[64];
    snprintf(d, sizeof d, "%d + %d->%d", K, F, hidden);
    return commit(m, op, d);
}

/* ---- the later architectures (model_arch.c runs them) ---- */

int hp_nn_add_resblock(hp_nn_model_t *m, int out_channels, int stride)
{
    hp_nn_op_t *op = push(m, HP_NN_RESBLOCK);
    if (!op)
        return HP_EINVAL;
    if (op->seq_in || op->in_h < 2 || op->in_w < 2)
        return build_fail(m, "resblock layer %d: needs an image input (C, H, W)", m->nops + 1);
    if (out_channels < 1 || stride < 1 || stride > 2)
        return build_fail(m, "resblock layer %d: needs channels >= 1 and stride 1 or 2 (got %d, %d)",
                          m->nops + 1, out_channels, stride);
    hp_nn_resblock_dims_t d = {1, op->in_c, op->in_h, op->in_w, out_channels, stride, 0, 0, 0};
    hp_nn_resblock_dims(&d);
    op->stride = stride;
    op->out_c = out_channels;
    op->out_h = d.Ho;
    op->out_w = d.Wo;
    op->nparam = 1;
    op->plen[0] = hp_nn_resblock_nparams(&d);
    op->nbuf = hp_nn_resblock_nbufs(&d);
    char dd[64];
    snprintf(dd, sizeof dd, "%d->%d, stride %d%s", op->in_c, out_channels, stride,
             d.proj ? ", projection" : "");
    return commit(m, op, dd);
}

int hp_nn_add_gap(hp_nn_model_t *m)
{
    hp_nn_op_t *op = push(m, HP_NN_GAP);
    if (!op)
        return HP_EINVAL;
    if (op->seq_in)
        return build_fail(m, "avgpool layer %d: needs an image input", m->nops + 1);
    op->out_h = op->out_w = 1;
    return commit(m, op, "global");
}

/* the batch-first sequence layers follow step_dense or one another */
static int after_steps(const hp_nn_model_t *m)
{
    if (m->nops == 0)
        return 0;
    hp_nn_kind_t k = m->ops[m->nops - 1].kind;
    return k == HP_NN_STEP_DENSE || k == HP_NN_POSENC || k == HP_NN_TCN || k == HP_NN_ATTN;
}

int hp_nn_add_step_dense(hp_nn_model_t *m, int width, hp_nn_init_t init)
{
    hp_nn_op_t *op = push(m, HP_NN_STEP_DENSE);
    if (!op)
        return HP_EINVAL;
    if (op->seq_in || op->in_c != 1 || op->in_h < 1)
        return build_fail(m, "step-dense layer %d: a sequence model reads (1, T, F) inputs: a "
                             "1-channel image's rows or a sequence dataset (sequence_columns); "
                             "got %dx%dx%d",
                          m->nops + 1, op->in_c, op->in_h, op->in_w);
    if (width < 1)
        return build_fail(m, "step-dense layer %d: width must be >= 1 (got %d)", m->nops + 1, width);
    op->out_w = width;
    op->init = init;
    op->nparam = 2;
    op->plen[0] = (size_t)width * op->in_w;
    op->plen[1] = (size_t)width;
    op->fan_in = (size_t)op->in_w;
    op->fan_out = (size_t)width;
    char d[64];
    snprintf(d, sizeof d, "%d->%d, %d steps", op->in_w, width, op->in_h);
    return commit(m, op, d);
}

int hp_nn_add_posenc(hp_nn_model_t *m)
{
    int ok = after_steps(m);
    hp_nn_op_t *op = push(m, HP_NN_POSENC);
    if (!op)
        return HP_EINVAL;
    if (!ok)
        return build_fail(m, "posenc layer %d: needs a step-dense sequence before it", m->nops + 1);
    op->inplace = 1;
    op->nbuf = (size_t)op->in_h * op->in_w;
    return commit(m, op, "");
}

int hp_nn_add_tcn(hp_nn_model_t *m, int kernel, int dilation)
{
    int ok = after_steps(m);
    hp_nn_op_t *op = push(m, HP_NN_TCN);
    if (!op)
        return HP_EINVAL;
    if (!ok)
        return build_fail(m, "tcn layer %d: needs a step-dense sequence before it", m->nops + 1);
    if (kernel < 1 || dilation < 1)
        return build_fail(m, "tcn layer %d: kernel and dilation must be >= 1 (got %d, %d)",
                          m->nops + 1, kernel, dilation);
    op->k = kernel;
    op->dilation = dilation;
    hp_nn_tcn_dims_t d = {1, op->in_h, op->in_w, kernel, dilation};
    op->nparam = 1;
    op->plen[0] = hp_nn_tcn_nparams(&d);
    char dd[64];
    snprintf(dd, sizeof dd, "%d channels, kernel %d, dilation %d", op->in_w, kernel, dilation);
    return commit(m, op, dd);
}

int hp_nn_add_attention(hp_nn_model_t *m, int heads, int ffn)
{
    int ok = after_steps(m);
    hp_nn_op_t *op = push(m, HP_NN_ATTN);
    if (!op)
        return HP_EINVAL;
    if (!ok)
        return build_fail(m, "attention layer %d: needs a step-dense sequence before it",
                          m->nops + 1);
    if (heads < 1 || op->in_w % heads != 0 || ffn < 1)
        return build_fail(m, "attention layer %d: %d heads must divide the width %d (and the "
                             "feed-forward width %d be >= 1)",
                          m->nops + 1, heads, op->in_w, ffn);
    op->heads = heads;
    op->ffn = ffn;
    hp_nn_attn_dims_t d = {1, op->in_h, op->in_w, heads, ffn};
    op->nparam = 1;
    op->plen[0] = hp_nn_attn_nparams(&d);
    char dd[64];
    snprintf(dd, sizeof dd, "width %d, %d heads, ffn %d", op->in_w, heads, ffn);
    return commit(m, op, dd);
}

int hp_nn_add_seqpool(hp_nn_model_t *m, int last)
{
    int ok = after_steps(m);
    hp_nn_op_t *op = push(m, HP_NN_SEQPOOL);
    if (!op)
        return HP_EINVAL;
    if (!ok)
        return build_fail(m, "seqpool layer %d: needs a step-dense sequence before it", m->nops + 1);
    op->last = last;
    op->out_c = op->in_w;
    op->out_h = op->out_w = 1;
    return commit(m, op, last ? "last step" : "mean");
}

/* ---- memory planning ---- */

typedef struct arena {
    unsigned char *base; /* NULL while measuring */
    size_t used;
} arena_t;

static void *take(arena_t *a, size_t bytes)
{
    size_t off = (a->used + 63) & ~(size_t)63;
    a->used = off + bytes;
    return a->base ? a->base + off : NULL;
}

static void scratch_sizes(const hp_nn_op_t *op, int B, size_t sz[5])
{
    memset(sz, 0, 5 * sizeof sz[0]);
    size_t f = sizeof(float);
    switch (op->kind) {
    case HP_NN_CONV2D: {
        hp_nn_conv2d_dims_t d = {B, op->in_c, op->in_h, op->in_w, op->out_c, op->k, op->k, op->pad, 0, 0};
        hp_nn_conv2d_dims(&d);
        sz[0] = hp_nn_conv2d_scratch_size(&d) * f;
        break;
    }
    case HP_NN_LSTM: {
        size_t T = (size_t)op->in_c, H = (size_t)op->out_w;
        sz[0] = T * B * 4 * H * f; /* gates, then their gradients in place */
        sz[1] = T * B * H * f;     /* c */
        sz[2] = T * B * H * f;     /* tanh(c) */
        sz[4] = 2 * (size_t)B * H * f; /* dh, dc */
        break;
    }
    case HP_NN_DROPOUT:
        sz[0] = (size_t)B * op->out_size * f;
        break;
    case HP_NN_SPLIT:
        sz[0] = (size_t)B * (size_t)op->pad * f; /* the features */
        break;
    case HP_NN_FUSE: {
        size_t hf = op->out_size - op->in_size;
        sz[0] = sz[1] = (size_t)B * hf * f; /* relu(features), its gradient */
        break;
    }
    case HP_NN_BATCHNORM:
        sz[0] = (size_t)B * op->out_size * f; /* xhat */
        sz[1] = sz[2] = (size_t)op->in_c * f; /* mean, invstd */
        sz[3] = 2 * (size_t)op->in_c * f;     /* backward sums */
        break;
    default:
        if (hp_nn_arch_kind(op->kind))
            hp_nn_arch_scratch_sizes(op, B, sz);
        break;
    }
}

static void plan(hp_nn_model_t *m, arena_t *acts, arena_t *dacts, size_t *np, size_t *nb)
{
    int B = m->max_batch;
    m->input = take(acts, (size_t)B * m->in_size * sizeof(float));
    for (int i = 0; i < m->nops; i++) {
        hp_nn_op_t *op = &m->ops[i];
        for (int t = 0; t < op->nparam; t++) {
            if (m->params) {
                op->param[t] = m->params + *np;
                op->grad[t] = m->grads + *np;
            }
            *np += (op->plen[t] + 15) & ~(size_t)15; /* 64-byte aligned tensors */
        }
        if (op->kind == HP_NN_BATCHNORM) {
            if (m->bufs) {
                op->run_mean = m->bufs + *nb;
                op->run_var = m->bufs + *nb + op->in_c;
            }
            *nb += 2 * (size_t)op->in_c;
        } else if (op->nbuf) {
            if (m->bufs)
                op->buf = m->bufs + *nb;
            *nb += op->nbuf;
        }
        if (op->inplace) {
            op->out = m->ops[i - 1].out;
            op->dout = m->ops[i - 1].dout;
        } else {
            op->out = take(acts, (size_t)B * op->out_size * sizeof(float));
            op->dout = take(dacts, (size_t)B * op->out_size * sizeof(float));
        }
        size_t sz[5];
        scratch_sizes(op, B, sz);
        for (int s = 0; s < 5; s++) {
            op->slen[s] = sz[s];
            op->s[s] = sz[s] ? take(acts, sz[s]) : NULL;
        }
    }
}

static void *alloc_block(size_t bytes)
{
    size_t n = (bytes + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, n ? n : 64);
    if (p)
        memset(p, 0, n ? n : 64);
    return p;
}

int hp_nn_model_alloc(hp_nn_model_t *m, int max_batch, char *err, size_t errlen)
{
    if (m->build_err[0])
        return hp_errf(err, errlen, HP_EINVAL, "%s", m->build_err);
    if (m->nops == 0)
        return hp_errf(err, errlen, HP_EINVAL, "model has no layers");
    if (max_batch < 1)
        return hp_errf(err, errlen, HP_EINVAL, "batch size must be >= 1 (got %d)", max_batch);
    m->max_batch = max_batch;
    arena_t a = {0}, da = {0};
    size_t np = 0, nb = 0;
    plan(m, &a, &da, &np, &nb);
    m->nparams = np;
    m->nbufs = nb;
    m->act_bytes = a.used;
    m->dact_bytes = da.used;
    m->params = alloc_block(np * sizeof(float));
    m->grads = alloc_block(np * sizeof(float));
    m->bufs = alloc_block(nb * sizeof(float));
    a.base = m->acts = alloc_block(a.used);
    da.base = m->dacts = alloc_block(da.used);
    if (!m->params || !m->grads || !m->bufs || !m->acts || !m->dacts) {
        hp_nn_model_fini(m);
        return hp_errf(err, errlen, HP_ENOMEM, "cannot allocate %zu bytes for the model",
                       (2 * np + nb) * sizeof(float) + a.used + da.used);
    }
    a.used = da.used = 0;
    np = nb = 0;
    plan(m, &a, &da, &np, &nb);
    return 0;
}

int hp_nn_model_use_bf16(hp_nn_model_t *m)
{
    if (!m->bf16)
        m->bf16 = hp_nn_bf16_new();
    return m->bf16 ? 0 : -1;
}

void hp_nn_model_fini(hp_nn_model_t *m)
{
    hp_nn_bf16_free(m->bf16);
    m->bf16 = NULL;
    free(m->params);
    free(m->grads);
    free(m->bufs);
    free(m->acts);
    free(m->dacts);
    m->params = m->grads = m->bufs = NULL;
    m->acts = m->dacts = NULL;
}

static void fill_normal(hp_rng_t *r, float *p, size_t n, double std)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(std * hp_rng_normal(r));
}

void hp_nn_model_init_params(hp_nn_model_t *m, uint64_t seed, uint64_t stream)
{
    hp_rng_t r;
    hp_rng_init(&r, seed, stream * 2);
    hp_rng_init(&m->rng, seed, stream * 2 + 1);
    memset(m->params, 0, m->nparams * sizeof(float));
    for (int i = 0; i < m->nops; i++) {
        hp_nn_op_t *op = &m->ops[i];
        switch (op->kind) {
        case HP_NN_DENSE:
        case HP_NN_FUSE:
        case HP_NN_CONV2D: {
            double std = op->init == HP_NN_INIT_HE ? sqrt(2.0 / (double)op->fan_in)
                                                   : sqrt(2.0 / (double)(op->fan_in + op->fan_out));
            fill_normal(&r, op->param[0], op->plen[0], std);
            break;
        }
        case HP_NN_LSTM: {
            size_t H = (size_t)op->out_w, I = (size_t)op->in_w;
            /* Glorot per gate matrix: fan_in = I (or H), fan_out = H */
            fill_normal(&r, op->param[0], op->plen[0], sqrt(2.0 / (double)(I + H)));
            fill_normal(&r, op->param[1], op->plen[1], sqrt(2.0 / (double)(H + H)));
            for (size_t j = 0; j < H; j++)
                op->param[2][H + j] = 1.0f; /* forget gate open at the start */
            break;
        }
        case HP_NN_BATCHNORM:
            for (int c = 0; c < op->in_c; c++) {
                op->param[0][c] = 1.0f;
                op->run_var[c] = 1.0f;
                op->run_mean[c] = 0.0f;
            }
            break;
        default:
            if (hp_nn_arch_kind(op->kind))
                hp_nn_arch_init(op, &r);
            break;
        }
    }
}

void hp_nn_set_training(hp_nn_model_t *m, int training)
{
    m->training = training;
}

float *hp_nn_out_grad(hp_nn_model_t *m)
{
    return m->ops[m->nops - 1].dout;
}

void hp_nn_zero_grad(hp_nn_model_t *m)
{
    memset(m->grads, 0, m->nparams * sizeof(float));
}

static hp_nn_conv2d_dims_t conv_dims(const hp_nn_op_t *op, int B)
{
    hp_nn_conv2d_dims_t d = {B, op->in_c, op->in_h, op->in_w, op->out_c, op->k, op->k, op->pad,
                             op->out_h, op->out_w};
    return d;
}

static float *forward(hp_nn_model_t *m, int B);
static void backward(hp_nn_model_t *m, int B);

/* each pass multiplies in the model's precision, whatever its caller's */
float *hp_nn_forward(hp_nn_model_t *m, int B)
{
    const hp_nn_bf16_t *prev = hp_nn_bf16_bind(m->bf16);
    float *out = forward(m, B);
    hp_nn_bf16_bind(prev);
    return out;
}

void hp_nn_backward(hp_nn_model_t *m, int B)
{
    const hp_nn_bf16_t *prev = hp_nn_bf16_bind(m->bf16);
    backward(m, B);
    hp_nn_bf16_bind(prev);
}

static float *forward(hp_nn_model_t *m, int B)
{
    HP_ASSERT(B >= 1 && B <= m->max_batch);
    const float *x = m->input;
    for (int i = 0; i < m->nops; i++) {
        hp_nn_op_t *op = &m->ops[i];
        size_t n = (size_t)B * op->out_size;
        switch (op->kind) {
        case HP_NN_DENSE: {
            hp_nn_dense_dims_t d = {B, (int)op->in_size, op->out_c};
            hp_nn_dense_forward(op->out, x, op->param[0], op->param[1], &d);
            break;
        }
        case HP_NN_RELU:
            hp_nn_relu_forward(op->out, x, n);
            break;
        case HP_NN_TANH:
            hp_nn_tanh_forward(op->out, x, n);
            break;
        case HP_NN_SIGMOID:
            hp_nn_sigmoid_forward(op->out, x, n);
            break;
        case HP_NN_CONV2D: {
            hp_nn_conv2d_dims_t d = conv_dims(op, B);
            hp_nn_conv2d_forward_algo((hp_nn_conv_algo_t)op->algo, op->out, x, op->param[0],
                                      op->param[1], op->s[0], &d);
            break;
        }
        case HP_NN_MAXPOOL: {
            hp_nn_maxpool_dims_t d = {B, op->in_c, op->in_h, op->in_w, op->k, op->out_h, op->out_w};
            hp_nn_maxpool_forward(op->out, x, &d);
            break;
        }
        case HP_NN_TIME_MAJOR: {
            /* (B, T, I) -> (T, B, I) */
            int T = op->out_c, I = op->out_w;
            for (int b = 0; b < B; b++)
                for (int t = 0; t < T; t++)
                    memcpy(op->out + ((size_t)t * B + b) * I, x + ((size_t)b * T + t) * I,
                           sizeof(float) * (size_t)I);
            break;
        }
        case HP_NN_LSTM: {
            hp_nn_lstm_dims_t d = {op->in_c, B, op->in_w, op->out_w};
            hp_nn_lstm_forward(op->out, op->s[0], op->s[1], op->s[2], x, op->param[0],
                               op->param[1], op->param[2], &d);
            break;
        }
        case HP_NN_SEQ_LAST:
            memcpy(op->out, x + (size_t)(op->in_c - 1) * B * op->in_w, sizeof(float) * n);
            break;
        case HP_NN_DROPOUT:
            if (m->training && op->p > 0.0f)
                hp_nn_dropout_forward(op->out, op->s[0], x, n, op->p, &m->rng);
            else
                memcpy(op->out, x, sizeof(float) * n);
            break;
        case HP_NN_BATCHNORM: {
            hp_nn_batchnorm_dims_t d = {B, op->in_c, op->in_h * op->in_w, 1e-5f, 0.1f};
            if (m->training)
                hp_nn_batchnorm_forward_train(op->out, op->s[0], op->s[1], op->s[2], op->run_mean,
                                              op->run_var, x, op->param[0], op->param[1], &d);
            else
                hp_nn_batchnorm_forward_eval(op->out, x, op->param[0], op->param[1], op->run_mean,
                                             op->run_var, &d);
            break;
        }
        case HP_NN_SPLIT:
            hp_nn_split_forward(op->out, op->s[0], x, B, (int)op->out_size, op->pad);
            break;
        case HP_NN_FUSE: {
            hp_nn_fuse_dims_t d = {B, (int)op->in_size, m->ops[op->link].pad,
                                   (int)(op->out_size - op->in_size)};
            hp_nn_fuse_forward(op->out, op->s[0], x, m->ops[op->link].s[0], op->param[0],
                               op->param[1], &d);
            break;
        }
        default:
            hp_nn_arch_forward(op, x, B, m->training);
            break;
        }
        x = op->out;
    }
    return m->ops[m->nops - 1].out;
}

static void backward(hp_nn_model_t *m, int B)
{
    HP_ASSERT(m->training);
    /* below the first layer with parameters no gradient is wanted: the
     * LSTM after time-major skips its input-gradient GEMM */
    int first = 0;
    while (first < m->nops && m->ops[first].nparam == 0)
        first++;
    for (int i = m->nops - 1; i >= 0; i--) {
        hp_nn_op_t *op = &m->ops[i];
        const float *x = i > 0 ? m->ops[i - 1].out : m->input;
        /* nothing flows below the first layer with parameters, nor into a
         * split (the multimodal model's first layer) */
        float *din = i > first && m->ops[i - 1].kind != HP_NN_SPLIT ? m->ops[i - 1].dout : NULL;
        size_t n = (size_t)B * op->out_size;
        switch (op->kind) {
        case HP_NN_DENSE: {
            hp_nn_dense_dims_t d = {B, (int)op->in_size, op->out_c};
            hp_nn_dense_backward(din, op->grad[0], op->grad[1], op->dout, x, op->param[0], &d);
            break;
        }
        case HP_NN_RELU:
            if (din)
                hp_nn_relu_backward(din, op->dout, op->out, n);
            break;
        case HP_NN_TANH:
            if (din)
                hp_nn_tanh_backward(din, op->dout, op->out, n);
            break;
        case HP_NN_SIGMOID:
            if (din)
                hp_nn_sigmoid_backward(din, op->dout, op->out, n);
            break;
        case HP_NN_CONV2D: {
            hp_nn_conv2d_dims_t d = conv_dims(op, B);
            hp_nn_conv2d_backward_algo((hp_nn_conv_algo_t)op->algo, din, op->grad[0], op->grad[1],
                                       op->dout, x, op->param[0],
                                       op->s[0], &d);
            break;
        }
        case HP_NN_MAXPOOL:
            if (din) {
                hp_nn_maxpool_dims_t d = {B, op->in_c, op->in_h, op->in_w, op->k, op->out_h, op->out_w};
                hp_nn_maxpool_backward(din, op->dout, x, &d);
            }
            break;
        case HP_NN_TIME_MAJOR:
            if (din) {
                int T = op->out_c, I = op->out_w;
                for (int b = 0; b < B; b++)
                    for (int t = 0; t < T; t++)
                        memcpy(din + ((size_t)b * T + t) * I, op->dout + ((size_t)t * B + b) * I,
                               sizeof(float) * (size_t)I);
            }
            break;
        case HP_NN_LSTM: {
            hp_nn_lstm_dims_t d = {op->in_c, B, op->in_w, op->out_w};
            float *dh = op->s[4], *dc = dh + (size_t)B * op->out_w;
            hp_nn_lstm_backward(din, op->grad[0], op->grad[1], op->grad[2], op->dout, x, op->out,
                                op->s[0], op->s[1], op->s[2], op->param[0], op->param[1],
                                op->s[0], dh, dc, &d);
            break;
        }
        case HP_NN_SEQ_LAST:
            if (din) {
                size_t step = (size_t)B * op->in_w, last = (size_t)(op->in_c - 1) * step;
                memset(din, 0, sizeof(float) * last);
                memcpy(din + last, op->dout, sizeof(float) * step);
            }
            break;
        case HP_NN_DROPOUT:
            if (din) {
                if (op->p > 0.0f)
                    hp_nn_dropout_backward(din, op->dout, op->s[0], n);
                else
                    memcpy(din, op->dout, sizeof(float) * n);
            }
            break;
        case HP_NN_BATCHNORM: {
            hp_nn_batchnorm_dims_t d = {B, op->in_c, op->in_h * op->in_w, 1e-5f, 0.1f};
            hp_nn_batchnorm_backward(din, op->grad[0], op->grad[1], op->s[3], op->dout, op->s[0],
                                     op->s[2], op->param[0], &d);
            break;
        }
        case HP_NN_SPLIT: /* the first layer: no input gradient */
            break;
        case HP_NN_FUSE: {
            hp_nn_fuse_dims_t d = {B, (int)op->in_size, m->ops[op->link].pad,
                                   (int)(op->out_size - op->in_size)};
            hp_nn_fuse_backward(din, op->grad[0], op->grad[1], op->s[1], op->dout,
                                m->ops[op->link].s[0], op->s[0], op->param[0], &d);
            break;
        }
        default:
            hp_nn_arch_backward(op, x, din, B);
            break;
        }
    }
}

static int all_finite(const float *p, size_t n)
{
    /* sum-free check: one non-finite value poisons x * 0 to NaN */
    float acc = 0.0f;
    for (size_t i = 0; i < n; i++)
        acc += p[i] * 0.0f;
    return acc == 0.0f;
}

int hp_nn_find_nonfinite_grad(const hp_nn_model_t *m, const char **which)
{
    static const char *names[3][3] = {
        {"weights", "bias", ""}, {"w_ih", "w_hh", "bias"}, {"gamma", "beta", ""}};
    for (int i = 0; i < m->nops; i++) {
        const hp_nn_op_t *op = &m->ops[i];
        for (int t = 0; t < op->nparam; t++)
            if (!all_finite(op->grad[t], op->plen[t])) {
                if (which)
                    *which = names[op->kind == HP_NN_LSTM ? 1 : op->kind == HP_NN_BATCHNORM ? 2 : 0][t];
                return i;
            }
    }
    return -1;
}

int hp_nn_find_nonfinite_act(const hp_nn_model_t *m, int B)
{
    for (int i = 0; i < m->nops; i++)
        if (!all_finite(m->ops[i].out, (size_t)B * m->ops[i].out_size))
            return i;
    return -1;
}
