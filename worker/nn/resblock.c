/* The ResNet basic block: two 3x3 conv + batch norm, relu, and an identity
 * or projection (1x1 conv + batch norm) shortcut. */
#include "layer.h"
#include "layer_arch.h"

#include <math.h>
#include <string.h>

void hp_nn_resblock_dims(hp_nn_resblock_dims_t *d)
{
    d->Ho = (d->H - 1) / d->stride + 1;
    d->Wo = (d->W - 1) / d->stride + 1;
    d->proj = d->C != d->K || d->stride != 1;
}

/* offsets into the packed parameters */
typedef struct offs {
    size_t w1, g1, b1, w2, g2, b2, wp, gp, bp, n;
} offs_t;

static offs_t offsets(const hp_nn_resblock_dims_t *d)
{
    size_t C = (size_t)d->C, K = (size_t)d->K;
    offs_t o;
    o.w1 = 0;
    o.g1 = o.w1 + K * C * 9;
    o.b1 = o.g1 + K;
    o.w2 = o.b1 + K;
    o.g2 = o.w2 + K * K * 9;
    o.b2 = o.g2 + K;
    o.wp = o.b2 + K;
    o.gp = o.wp + (d->proj ? K * C : 0);
    o.bp = o.gp + (d->proj ? K : 0);
    o.n = o.bp + (d->proj ? K : 0);
    return o;
}

static hp_nn_convs_dims_t conv(const hp_nn_resblock_dims_t *d, int which)
{
    /* 1: conv1 3x3 stride s; 2: conv2 3x3; 3: the 1x1 projection */
    hp_nn_convs_dims_t c = {d->B, which == 2 ? d->K : d->C, which == 2 ? d->Ho : d->H,
                            which == 2 ? d->Wo : d->W, d->K, which == 3 ? 1 : 3,
                            which == 2 ? 1 : d->stride, which == 3 ? 0 : 1, 0, 0};
    hp_nn_convs_dims(&c);
    return c;
}

/* A stride-1 3x3 conv goes through layer.h's conv2d and so its kernel
 * choice (conv_direct.c's vectorised kernels at the ResNet's 16-64
 * channels, no im2col); the strided ones and the 1x1 projections through
 * convs, which batches samples into one im2col GEMM. Sending the 14x14 and
 * 7x7 stages to conv2d too (they went to convs) took a ResNet 16-32-64
 * step from ~297 to ~264 ms CPU (engine_step_bench, medians of 7). */
static int use_conv2d(const hp_nn_convs_dims_t *c)
{
    return c->stride == 1 && c->k == 3;
}

static hp_nn_conv2d_dims_t as_conv2d(const hp_nn_convs_dims_t *c)
{
    hp_nn_conv2d_dims_t d = {c->B, c->C, c->H, c->W, c->K, 3, 3, c->pad, 0, 0};
    hp_nn_conv2d_dims(&d);
    return d;
}

static size_t conv_scratch(const hp_nn_convs_dims_t *c)
{
    if (use_conv2d(c)) {
        hp_nn_conv2d_dims_t d = as_conv2d(c);
        return hp_nn_conv2d_scratch_size(&d);
    }
    return hp_nn_convs_scratch_size(c);
}

static void conv_fwd(float *out, const float *in, const float *w, float *s,
                     const hp_nn_convs_dims_t *c)
{
    if (use_conv2d(c)) {
        hp_nn_conv2d_dims_t d = as_conv2d(c);
        hp_nn_conv2d_forward(out, in, w, NULL, s, &d);
    } else {
        hp_nn_convs_forward(out, in, w, s, c);
    }
}

static void conv_bwd(float *din, float *dw, const float *dout, const float *in, const float *w,
                     float *s, const hp_nn_convs_dims_t *c)
{
    if (use_conv2d(c)) {
        hp_nn_conv2d_dims_t d = as_conv2d(c);
        hp_nn_conv2d_backward(din, dw, NULL, dout, in, w, s, &d);
    } else {
        hp_nn_convs_backward(din, dw, dout, in, w, s, c);
    }
}

size_t hp_nn_resblock_nparams(const hp_nn_resblock_dims_t *d)
{
    return offsets(d).n;
}

size_t hp_nn_resblock_nbufs(const hp_nn_resblock_dims_t *d)
{
    return (size_t)(d->proj ? 6 : 4) * d->K;
}

static size_t nout(const hp_nn_resblock_dims_t *d)
{
    return (size_t)d->B * d->K * d->Ho * d->Wo;
}

/* cache: xhat1, a1, xhat2, [xhatp] (nout each), then mean/invstd of the
 * three batch norms (6 K) */
size_t hp_nn_resblock_cache_size(const hp_nn_resblock_dims_t *d)
{
    return (size_t)(d->proj ? 4 : 3) * nout(d) + 6 * (size_t)d->K;
}

static size_t max3(size_t a, size_t b, size_t c)
{
    size_t m = a > b ? a : b;
    return m > c ? m : c;
}

/* scratch: t1, t2 (nout each), t3 (the input's size), the conv scratch,
 * 2 K for the batch norms' sums */
size_t hp_nn_resblock_scratch_size(const hp_nn_resblock_dims_t *d)
{
    hp_nn_convs_dims_t c1 = conv(d, 1), c2 = conv(d, 2), c3 = conv(d, 3);
    size_t cs = max3(conv_scratch(&c1), conv_scratch(&c2), d->proj ? conv_scratch(&c3) : 0);
    return 2 * nout(d) + (size_t)d->B * d->C * d->H * d->W + cs + 2 * (size_t)d->K;
}

static void fill_normal(hp_rng_t *r, float *p, size_t n, double std)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(std * hp_rng_normal(r));
}

void hp_nn_resblock_init(float *p, float *bufs, hp_rng_t *r, const hp_nn_resblock_dims_t *d)
{
    offs_t o = offsets(d);
    size_t K = (size_t)d->K;
    memset(p, 0, sizeof(float) * o.n);
    fill_normal(r, p + o.w1, K * d->C * 9, sqrt(2.0 / (9.0 * d->C)));
    fill_normal(r, p + o.w2, K * K * 9, sqrt(2.0 / (9.0 * d->K)));
    if (d->proj)
        fill_normal(r, p + o.wp, K * d->C, sqrt(2.0 / d->C));
    for (size_t c = 0; c < K; c++) {
        p[o.g1 + c] = p[o.g2 + c] = 1.0f;
        if (d->proj)
            p[o.gp + c] = 1.0f;
    }
    size_t nb = hp_nn_resblock_nbufs(d);
    for (size_t i = 0; i < nb; i += 2 * K)
        for (size_t c = 0; c < K; c++) {
            bufs[i + c] = 0.0f;
            bufs[i + K + c] = 1.0f;
        }
}

static void bn(float *out, float *xhat, float *stats, float *run, const float *in,
               const float *gamma, const float *beta, int training, const hp_nn_resblock_dims_t *d)
{
    hp_nn_batchnorm_dims_t bd = {d->B, d->K, d->Ho * d->Wo, 1e-5f, 0.1f};
    if (training)
        hp_nn_batchnorm_forward_train(out, xhat, stats, stats + d->K, run, run + d->K, in, gamma,
                                      beta, &bd);
    else
        hp_nn_batchnorm_forward_eval(out, in, gamma, beta, run, run + d->K, &bd);
}

void hp_nn_resblock_forward(float *out, float *cache, float *scratch, float *bufs,
                            const float *in, const float *p, int training,
                            const hp_nn_resblock_dims_t *d)
{
    offs_t o = offsets(d);
    size_t n = nout(d), K = (size_t)d->K;
    float *xh1 = cache, *a1 = xh1 + n, *xh2 = a1 + n, *xhp = xh2 + n;
    float *stats = cache + (size_t)(d->proj ? 4 : 3) * n;
    float *t1 = scratch, *t2 = t1 + n, *cs = t2 + n + (size_t)d->B * d->C * d->H * d->W;
    hp_nn_convs_dims_t c1 = conv(d, 1), c2 = conv(d, 2), c3 = conv(d, 3);

    conv_fwd(t1, in, p + o.w1, cs, &c1);
    bn(a1, xh1, stats, bufs, t1, p + o.g1, p + o.b1, training, d);
    hp_nn_relu_forward(a1, a1, n);
    conv_fwd(t1, a1, p + o.w2, cs, &c2);
    bn(out, xh2, stats + 2 * K, bufs + 2 * K, t1, p + o.g2, p + o.b2, training, d);
    const float *sc = in;
    if (d->proj) {
        conv_fwd(t2, in, p + o.wp, cs, &c3);
        bn(t2, xhp, stats + 4 * K, bufs + 4 * K, t2, p + o.gp, p + o.bp, training, d);
        sc = t2;
    }
    for (size_t i = 0; i < n; i++) {
        float v = out[i] + sc[i];
        out[i] = v < 0.0f ? 0.0f : v;
    }
}

void hp_nn_resblock_backward(float *din, float *dp, const float *dout, const float *in,
                             const float *out, const float *cache, float *scratch,
                             const float *p, const hp_nn_resblock_dims_t *d)
{
    offs_t o = offsets(d);
    size_t n = nout(d), K = (size_t)d->K, nin = (size_t)d->B * d->C * d->H * d->W;
    const float *xh1 = cache, *a1 = xh1 + n, *xh2 = a1 + n, *xhp = xh2 + n;
    const float *stats = cache + (size_t)(d->proj ? 4 : 3) * n;
    float *t1 = scratch, *t2 = t1 + n, *t3 = t2 + n, *cs = t3 + nin, *tmp = cs;
    hp_nn_convs_dims_t c1 = conv(d, 1), c2 = conv(d, 2), c3 = conv(d, 3);
    hp_nn_batchnorm_dims_t bd = {d->B, d->K, d->Ho * d->Wo, 1e-5f, 0.1f};
    /* the batch norms' 2 K sums go after the conv scratch */
    tmp = cs + hp_nn_resblock_scratch_size(d) - 2 * n - nin - 2 * K;

    hp_nn_relu_backward(t1, dout, out, n); /* g: the gradient at the sum */
    /* the shortcut's input gradient, into t3 */
    if (d->proj) {
        hp_nn_batchnorm_backward(t2, dp + o.gp, dp + o.bp, tmp, t1, xhp, stats + 5 * K,
                                 p + o.gp, &bd);
        conv_bwd(din ? t3 : NULL, dp + o.wp, t2, in, p + o.wp, cs, &c3);
    } else if (din) {
        memcpy(t3, t1, sizeof(float) * n);
    }
    /* the main branch */
    hp_nn_batchnorm_backward(t2, dp + o.g2, dp + o.b2, tmp, t1, xh2, stats + 3 * K, p + o.g2,
                             &bd);
    conv_bwd(t1, dp + o.w2, t2, a1, p + o.w2, cs, &c2);
    hp_nn_relu_backward(t1, t1, a1, n);
    hp_nn_batchnorm_backward(t2, dp + o.g1, dp + o.b1, tmp, t1, xh1, stats + K, p + o.g1, &bd);
    conv_bwd(din, dp + o.w1, t2, in, p + o.w1, cs, &c1);
    if (din)
        for (size_t i = 0; i < nin; i++)
            din[i] += t3[i];
}
