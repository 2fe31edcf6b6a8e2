/* The later architectures' layers inside a model: their memory plan,
 * initialization and dispatch to the kernels of layer_arch.h. */
#include "model_arch_int.h"

#include "err.h"
#include "layer_arch.h"

#include <math.h>
#include <string.h>

int hp_nn_arch_kind(hp_nn_kind_t k)
{
    return k >= HP_NN_RESBLOCK && k <= HP_NN_SEQPOOL;
}

static hp_nn_resblock_dims_t res_dims(const hp_nn_op_t *op, int B)
{
    hp_nn_resblock_dims_t d = {B, op->in_c, op->in_h, op->in_w, op->out_c, op->stride, 0, 0, 0};
    hp_nn_resblock_dims(&d);
    return d;
}

/* a sequence op's (1, T, D) shape: T = h, D = w */
static hp_nn_tcn_dims_t tcn_dims(const hp_nn_op_t *op, int B)
{
    hp_nn_tcn_dims_t d = {B, op->in_h, op->in_w, op->k, op->dilation};
    return d;
}

static hp_nn_attn_dims_t attn_dims(const hp_nn_op_t *op, int B)
{
    hp_nn_attn_dims_t d = {B, op->in_h, op->in_w, op->heads, op->ffn};
    return d;
}

void hp_nn_arch_scratch_sizes(const hp_nn_op_t *op, int B, size_t sz[5])
{
    memset(sz, 0, 5 * sizeof sz[0]);
    size_t f = sizeof(float);
    switch (op->kind) {
    case HP_NN_RESBLOCK: {
        hp_nn_resblock_dims_t d = res_dims(op, B);
        sz[0] = hp_nn_resblock_cache_size(&d) * f;
        sz[1] = hp_nn_resblock_scratch_size(&d) * f;
        break;
    }
    case HP_NN_TCN: {
        hp_nn_tcn_dims_t d = tcn_dims(op, B);
        sz[0] = hp_nn_tcn_cache_size(&d) * f;
        sz[1] = hp_nn_tcn_scratch_size(&d) * f;
        break;
    }
    case HP_NN_ATTN: {
        hp_nn_attn_dims_t d = attn_dims(op, B);
        sz[0] = hp_nn_attn_cache_size(&d) * f;
        sz[1] = hp_nn_attn_scratch_size(&d) * f;
        break;
    }
    default:
        break;
    }
}

static void fill_normal(hp_rng_t *r, float *p, size_t n, double std)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(std * hp_rng_normal(r));
}

void hp_nn_arch_init(hp_nn_op_t *op, hp_rng_t *r)
{
    switch (op->kind) {
    case HP_NN_RESBLOCK: {
        hp_nn_resblock_dims_t d = res_dims(op, 1);
        hp_nn_resblock_init(op->param[0], op->buf, r, &d);
        break;
    }
    case HP_NN_STEP_DENSE: {
        double std = op->init == HP_NN_INIT_HE ? sqrt(2.0 / (double)op->fan_in)
                                               : sqrt(2.0 / (double)(op->fan_in + op->fan_out));
        fill_normal(r, op->param[0], op->plen[0], std);
        break;
    }
    case HP_NN_POSENC:
        hp_nn_posenc_table(op->buf, op->in_h, op->in_w);
        break;
    case HP_NN_TCN: {
        hp_nn_tcn_dims_t d = tcn_dims(op, 1);
        hp_nn_tcn_init(op->param[0], r, &d);
        break;
    }
    case HP_NN_ATTN: {
        hp_nn_attn_dims_t d = attn_dims(op, 1);
        hp_nn_attn_init(op->param[0], r, &d);
        break;
    }
    default:
        break;
    }
}

void hp_nn_arch_forward(hp_nn_op_t *op, const float *x, int B, int training)
{
    switch (op->kind) {
    case HP_NN_RESBLOCK: {
        hp_nn_resblock_dims_t d = res_dims(op, B);
        hp_nn_resblock_forward(op->out, op->s[0], op->s[1], op->buf, x, op->param[0], training,
                               &d);
        break;
    }
    case HP_NN_GAP:
        hp_nn_gap_forward(op->out, x, B, op->in_c, op->in_h * op->in_w);
        break;
    case HP_NN_STEP_DENSE: {
        hp_nn_dense_dims_t d = {B * op->in_h, op->in_w, op->out_w};
        hp_nn_dense_forward(op->out, x, op->param[0], op->param[1], &d);
        break;
    }
    case HP_NN_POSENC: /* in place: op->out is x */
        hp_nn_posenc_forward(op->out, op->buf, B, op->in_h, op->in_w);
        break;
    case HP_NN_TCN: {
        hp_nn_tcn_dims_t d = tcn_dims(op, B);
        hp_nn_tcn_forward(op->out, op->s[0], op->s[1], x, op->param[0], &d);
        break;
    }
    case HP_NN_ATTN: {
        hp_nn_attn_dims_t d = attn_dims(op, B);
        hp_nn_attn_forward(op->out, op->s[0], op->s[1], x, op->param[0], &d);
        break;
    }
    case HP_NN_SEQPOOL:
        hp_nn_seqpool_forward(op->out, x, B, op->in_h, op->in_w, op->last);
        break;
    default:
        HP_ASSERT(!"not a later-architecture layer");
    }
}

void hp_nn_arch_backward(hp_nn_op_t *op, const float *x, float *din, int B)
{
    switch (op->kind) {
    case HP_NN_RESBLOCK: {
        hp_nn_resblock_dims_t d = res_dims(op, B);
        hp_nn_resblock_backward(din, op->grad[0], op->dout, x, op->out, op->s[0], op->s[1],
                                op->param[0], &d);
        break;
    }
    case HP_NN_GAP:
        if (din)
            hp_nn_gap_backward(din, op->dout, B, op->in_c, op->in_h * op->in_w);
        break;
    case HP_NN_STEP_DENSE: {
        hp_nn_dense_dims_t d = {B * op->in_h, op->in_w, op->out_w};
        hp_nn_dense_backward(din, op->grad[0], op->grad[1], op->dout, x, op->param[0], &d);
        break;
    }
    case HP_NN_POSENC: /* the identity; dout is din's buffer */
        break;
    case HP_NN_TCN: {
        hp_nn_tcn_dims_t d = tcn_dims(op, B);
        hp_nn_tcn_backward(din, op->grad[0], op->dout, x, op->s[0], op->s[1], op->param[0], &d);
        break;
    }
    case HP_NN_ATTN: {
        hp_nn_attn_dims_t d = attn_dims(op, B);
        hp_nn_attn_backward(din, op->grad[0], op->dout, x, op->s[0], op->s[1], op->param[0], &d);
        break;
    }
    case HP_NN_SEQPOOL:
        if (din)
            hp_nn_seqpool_backward(din, op->dout, B, op->in_h, op->in_w, op->last);
        break;
    default:
        HP_ASSERT(!"not a later-architecture layer");
    }
}
