/* Finite-difference gradient checks for every layer and loss kernel. */
#include "gradcheck.h"
#include "layer.h"

#include "gemm.h"
#include "conv_int.h"
#include "gemm_int.h"

#include "err.h"
#include "hp_check.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static hp_rng_t rng;

static float *fa(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    ck_assert_ptr_nonnull(p);
    return p;
}

static void setup(void)
{
    hp_nn_set_threads(1);
    hp_rng_init(&rng, 7, 0);
}

/* ---- dense ---- */
typedef struct {
    hp_nn_dense_dims_t d;
    float *in, *w, *b, *out, *R;
} dense_ctx;

static double dense_loss(void *p)
{
    dense_ctx *c = p;
    hp_nn_dense_forward(c->out, c->in, c->w, c->b, &c->d);
    return gc_dot(c->out, c->R, (size_t)c->d.B * c->d.O);
}

START_TEST(test_dense_grad)
{
    dense_ctx c = {.d = {5, 7, 4}};
    size_t ni = 5 * 7, nw = 4 * 7, no = 5 * 4;
    c.in = fa(ni), c.w = fa(nw), c.b = fa(4), c.out = fa(no), c.R = fa(no);
    gc_fill(&rng, c.in, ni, 1), gc_fill(&rng, c.w, nw, 1), gc_fill(&rng, c.b, 4, 1),
        gc_fill(&rng, c.R, no, 1);
    float *din = fa(ni), *dw = fa(nw), *db = fa(4);
    dense_loss(&c);
    hp_nn_dense_backward(din, dw, db, c.R, c.in, c.w, &c.d);
    gc_check("dense.in", c.in, ni, din, dense_loss, &c, 1e-2f, 1e-3, 1e-3, 1000);
    gc_check("dense.w", c.w, nw, dw, dense_loss, &c, 1e-2f, 1e-3, 1e-3, 1000);
    gc_check("dense.b", c.b, 4, db, dense_loss, &c, 1e-2f, 1e-3, 1e-3, 1000);
    /* parameter gradients accumulate, the input gradient is overwritten */
    hp_nn_dense_backward(din, dw, db, c.R, c.in, c.w, &c.d);
    float *dw1 = fa(nw), *db1 = fa(4), *din1 = fa(ni);
    hp_nn_dense_backward(din1, dw1, db1, c.R, c.in, c.w, &c.d);
    for (size_t i = 0; i < nw; i++)
        ck_assert_float_eq_tol(dw[i], 2 * dw1[i], 1e-4);
    for (size_t i = 0; i < ni; i++)
        ck_assert_float_eq_tol(din[i], din1[i], 1e-5);
    free(dw1), free(db1), free(din1);
    free(c.in), free(c.w), free(c.b), free(c.out), free(c.R), free(din), free(dw), free(db);
}
END_TEST

/* ---- activations ---- */
typedef struct {
    int kind;
    float *in, *out, *R;
    size_t n;
} act_ctx;

static void act_fwd(act_ctx *c)
{
    if (c->kind == 0)
        hp_nn_relu_forward(c->out, c->in, c->n);
    else if (c->kind == 1)
        hp_nn_tanh_forward(c->out, c->in, c->n);
    else
        hp_nn_sigmoid_forward(c->out, c->in, c->n);
}

static double act_loss(void *p)
{
    act_ctx *c = p;
    act_fwd(c);
    return gc_dot(c->out, c->R, c->n);
}

START_TEST(test_activation_grads)
{
    static const char *names[] = {"relu", "tanh", "sigmoid"};
    size_t n = 60;
    for (int k = 0; k < 3; k++) {
        act_ctx c = {k, fa(n), fa(n), fa(n), n};
        gc_fill(&rng, c.in, n, 2), gc_fill(&rng, c.R, n, 1);
        for (size_t i = 0; i < n; i++) /* keep relu away from its kink */
            if (fabsf(c.in[i]) < 0.05f)
                c.in[i] = 0.5f;
        float *din = fa(n);
        act_fwd(&c);
        if (k == 0)
            hp_nn_relu_backward(din, c.R, c.out, n);
        else if (k == 1)
            hp_nn_tanh_backward(din, c.R, c.out, n);
        else
            hp_nn_sigmoid_backward(din, c.R, c.out, n);
        gc_check(names[k], c.in, n, din, act_loss, &c, 1e-2f, 1e-3, 2e-3, 1000);
        free(c.in), free(c.out), free(c.R), free(din);
    }
    /* sigmoid saturates without overflow; relu lets NaN through to the guard */
    float x[3] = {-1000.0f, 1000.0f, NAN}, y[3];
    hp_nn_sigmoid_forward(y, x, 2);
    ck_assert(y[0] >= 0.0f && y[0] < 1e-30f && y[1] == 1.0f);
    hp_nn_relu_forward(y, x, 3);
    ck_assert(isnan(y[2]));
}
END_TEST

/* ---- conv2d ---- */
typedef struct {
    hp_nn_conv2d_dims_t d;
    hp_nn_conv_algo_t algo;
    float *in, *w, *b, *out, *R, *col;
} conv_ctx;

static double conv_loss(void *p)
{
    conv_ctx *c = p;
    hp_nn_conv2d_forward_algo(c->algo, c->out, c->in, c->w, c->b, c->col, &c->d);
    return gc_dot(c->out, c->R, (size_t)c->d.B * c->d.K * c->d.Ho * c->d.Wo);
}

static void conv_case_algo(hp_nn_conv_algo_t algo, int B, int C, int H, int W, int K, int k,
                           int pad)
{
    conv_ctx c = {.d = {B, C, H, W, K, k, k, pad, 0, 0}, .algo = algo};
    hp_nn_conv2d_dims(&c.d);
    size_t ni = (size_t)B * C * H * W, nw = (size_t)K * C * k * k,
           no = (size_t)B * K * c.d.Ho * c.d.Wo;
    c.in = fa(ni), c.w = fa(nw), c.b = fa((size_t)K), c.out = fa(no), c.R = fa(no);
    c.col = fa(hp_nn_conv2d_scratch_size(&c.d));
    gc_fill(&rng, c.in, ni, 1), gc_fill(&rng, c.w, nw, 1), gc_fill(&rng, c.b, (size_t)K, 1),
        gc_fill(&rng, c.R, no, 1);
    float *din = fa(ni), *dw = fa(nw), *db = fa((size_t)K);
    conv_loss(&c);
    hp_nn_conv2d_backward_algo(algo, din, dw, db, c.R, c.in, c.w, c.col, &c.d);
    gc_check("conv.in", c.in, ni, din, conv_loss, &c, 1e-2f, 2e-3, 2e-3, 400);
    gc_check("conv.w", c.w, nw, dw, conv_loss, &c, 1e-2f, 2e-3, 2e-3, 400);
    gc_check("conv.b", c.b, (size_t)K, db, conv_loss, &c, 1e-2f, 2e-3, 2e-3, 400);
    free(c.in), free(c.w), free(c.b), free(c.out), free(c.R), free(c.col);
    free(din), free(dw), free(db);
}

/* both algorithms, on shapes that exercise each kernel's tails: channel
 * counts that are not multiples of the tiles (6 output channels, 8 and
 * 16 lanes), more than 16 channels, and widths past one 16-wide tile */
static void conv_case(int B, int C, int H, int W, int K, int k, int pad)
{
    conv_case_algo(HP_NN_CONV_GEMM, B, C, H, W, K, k, pad);
    conv_case_algo(HP_NN_CONV_DIRECT, B, C, H, W, K, k, pad);
}

START_TEST(test_conv2d_grad)
{
    conv_case(2, 3, 7, 6, 4, 3, 1); /* padded, non-square */
    conv_case(3, 2, 6, 6, 3, 5, 0); /* LeNet's second conv shape, small */
    conv_case(1, 1, 5, 5, 2, 5, 2); /* LeNet's first conv shape, small */
    conv_case(2, 1, 12, 9, 6, 5, 2); /* LeNet's conv 1 channels, 2 tiles wide */
    conv_case(1, 6, 9, 9, 16, 5, 0); /* LeNet's conv 2 channels */
    conv_case(1, 3, 6, 20, 21, 3, 1); /* 21 channels: 16 + a partial 8 */
    conv_case(2, 5, 4, 3, 7, 1, 0);   /* 1x1 (a ResNet projection) */
    conv_case(1, 2, 3, 4, 3, 3, 3);   /* padding wider than the kernel */
}
END_TEST

/* the direct kernels 16 lanes wide (AVX-512) against 8 (AVX2), on the
 * same data: the same sums in the same order per lane */
static void conv_wide_case(int B, int C, int H, int W, int K, int k, int pad)
{
    hp_nn_conv2d_dims_t d = {B, C, H, W, K, k, k, pad, 0, 0};
    hp_nn_conv2d_dims(&d);
    size_t ni = (size_t)B * C * H * W, no = (size_t)B * K * d.Ho * d.Wo, nw = (size_t)K * C * k * k;
    float *in = fa(ni), *w = fa(nw), *b = fa((size_t)K), *go = fa(no);
    gc_fill(&rng, in, ni, 1.0);
    gc_fill(&rng, w, nw, 1.0);
    gc_fill(&rng, b, (size_t)K, 1.0);
    gc_fill(&rng, go, no, 1.0);
    float *out[2], *din[2], *dw[2], *db[2];
    for (int wide = 0; wide < 2; wide++) {
        ck_assert_int_eq(hp_nn_conv2d_direct_use_wide(wide), wide);
        float *s = fa(hp_nn_conv2d_direct_scratch(&d));
        out[wide] = fa(no), din[wide] = fa(ni), dw[wide] = fa(nw), db[wide] = fa((size_t)K);
        hp_nn_conv2d_direct_forward(out[wide], in, w, b, s, &d);
        hp_nn_conv2d_direct_backward(din[wide], dw[wide], db[wide], go, in, w, s, &d);
        free(s);
    }
    const float *const got[4][2] = {{out[0], out[1]}, {din[0], din[1]}, {dw[0], dw[1]},
                                    {db[0], db[1]}};
    const size_t n[4] = {no, ni, nw, (size_t)K};
    static const char *const what[4] = {"out", "din", "dw", "db"};
    for (int v = 0; v < 4; v++)
        for (size_t i = 0; i < n[v]; i++)
            ck_assert_msg(fabsf(got[v][0][i] - got[v][1][i]) <= 1e-5f * (1 + fabsf(got[v][0][i])),
                          "%dx%dx%dx%d K %d k %d pad %d: %s[%zu] %.9g (8 lanes) vs %.9g (16)", B,
                          C, H, W, K, k, pad, what[v], i, (double)got[v][0][i],
                          (double)got[v][1][i]);
    for (int wide = 0; wide < 2; wide++)
        free(out[wide]), free(din[wide]), free(dw[wide]), free(db[wide]);
    free(in), free(w), free(b), free(go);
}

START_TEST(test_conv2d_direct_wide)
{
    if (!hp_nn_conv2d_direct_use_wide(1)) {
        fprintf(stderr, "test_conv2d_direct_wide: SKIPPED: this CPU (or build) has no "
                        "AVX-512, so the direct kernels run 8 lanes wide only\n");
        return;
    }
    conv_wide_case(2, 1, 28, 28, 6, 5, 2);  /* LeNet's first conv (8-lane dw: Kp 8) */
    conv_wide_case(2, 6, 14, 14, 16, 5, 0); /* LeNet's second (16-lane dw) */
    conv_wide_case(1, 3, 9, 11, 20, 3, 1);  /* Kp 24: 8-lane dw, partial tiles */
    conv_wide_case(1, 5, 7, 6, 32, 3, 1);   /* two 16-channel dw blocks, CKK 45 */
    conv_wide_case(1, 2, 3, 4, 3, 3, 3);    /* padding wider than the kernel */
    hp_nn_conv2d_direct_use_wide(1); /* back to the CPU's choice */
}
END_TEST

START_TEST(test_conv2d_known_values)
{
    /* 1x1x3x3 input, one 2x2 kernel of ones, no padding: 2x2 window sums + bias */
    hp_nn_conv2d_dims_t d = {1, 1, 3, 3, 1, 2, 2, 0, 0, 0};
    hp_nn_conv2d_dims(&d);
    ck_assert_int_eq(d.Ho, 2);
    float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 1, 1, 1}, b[1] = {0.5f}, out[4];
    float *col = calloc(hp_nn_conv2d_scratch_size(&d), sizeof(float));
    float want[4] = {12.5f, 16.5f, 24.5f, 28.5f};
    for (int a = HP_NN_CONV_GEMM; a <= HP_NN_CONV_DIRECT; a++) {
        hp_nn_conv2d_forward_algo((hp_nn_conv_algo_t)a, out, in, w, b, col, &d);
        for (int i = 0; i < 4; i++)
            ck_assert_float_eq(out[i], want[i]);
    }
    free(col);
}
END_TEST

/* ---- maxpool ---- */
typedef struct {
    hp_nn_maxpool_dims_t d;
    float *in, *out, *R;
} pool_ctx;

static double pool_loss(void *p)
{
    pool_ctx *c = p;
    hp_nn_maxpool_forward(c->out, c->in, &c->d);
    return gc_dot(c->out, c->R, (size_t)c->d.B * c->d.C * c->d.Ho * c->d.Wo);
}

START_TEST(test_maxpool_ties_nan_and_k3)
{
    /* ties: the first in row-major order gets the gradient; a NaN wins the
     * forward max (backward never sees one: the step stops at the loss) */
    hp_nn_maxpool_dims_t d = {1, 1, 2, 4, 2, 1, 2};
    float in[8] = {1, 5, 3, 4, 5, 2, 4, 4}, out[2], din[8], dout[2] = {1, 2};
    hp_nn_maxpool_forward(out, in, &d);
    ck_assert_float_eq(out[0], 5.0f);
    ck_assert_float_eq(out[1], 4.0f);
    hp_nn_maxpool_backward(din, dout, in, &d);
    float want[8] = {0, 1, 0, 2, 0, 0, 0, 0};
    for (int i = 0; i < 8; i++)
        ck_assert_float_eq(din[i], want[i]);
    in[3] = NAN;
    hp_nn_maxpool_forward(out, in, &d);
    ck_assert(isnan(out[1]));
    in[3] = 1, in[7] = NAN;
    hp_nn_maxpool_forward(out, in, &d);
    ck_assert(isnan(out[1]));
    /* 3x3 windows, floor on a 7x7 input */
    hp_nn_maxpool_dims_t d3 = {1, 1, 7, 7, 3, 2, 2};
    float x[49], o[4];
    for (int i = 0; i < 49; i++)
        x[i] = (float)i;
    hp_nn_maxpool_forward(o, x, &d3);
    ck_assert_float_eq(o[0], 16.0f);
    ck_assert_float_eq(o[3], 40.0f);
}
END_TEST

static void pool_case(int B, int C, int H, int W, int k)
{
    pool_ctx c = {.d = {B, C, H, W, k, H / k, W / k}};
    size_t ni = (size_t)B * C * H * W, no = (size_t)B * C * (H / k) * (W / k);
    c.in = fa(ni), c.out = fa(no), c.R = fa(no);
    /* distinct values spaced well beyond eps, so no tie flips under the probe */
    for (size_t i = 0; i < ni; i++)
        c.in[i] = (float)((i * 37) % ni) * 0.1f;
    gc_fill(&rng, c.R, no, 1);
    float *din = fa(ni);
    pool_loss(&c);
    hp_nn_maxpool_backward(din, c.R, c.in, &c.d);
    gc_check("maxpool.in", c.in, ni, din, pool_loss, &c, 1e-2f, 1e-3, 1e-3, 1000);
    free(c.in), free(c.out), free(c.R), free(din);
}

START_TEST(test_maxpool_grad)
{
    pool_case(2, 3, 6, 5, 2); /* odd width floors */
    pool_case(2, 2, 6, 19, 2); /* 9 windows a row: 2 vector steps of 4 and a tail */
    pool_case(2, 2, 7, 8, 3); /* generic window path */
}
END_TEST

/* ---- lstm ---- */
typedef struct {
    hp_nn_lstm_dims_t d;
    float *in, *wih, *whh, *b, *out, *gates, *c, *tc, *R;
} lstm_ctx;

static double lstm_loss(void *p)
{
    lstm_ctx *c = p;
    hp_nn_lstm_forward(c->out, c->gates, c->c, c->tc, c->in, c->wih, c->whh, c->b, &c->d);
    return gc_dot(c->out, c->R, (size_t)c->d.T * c->d.B * c->d.H);
}

START_TEST(test_lstm_grad)
{
    int T = 5, B = 3, I = 4, H = 6, G = 4 * H;
    lstm_ctx c = {.d = {T, B, I, H}};
    size_t ni = (size_t)T * B * I, nh = (size_t)T * B * H;
    c.in = fa(ni), c.wih = fa((size_t)G * I), c.whh = fa((size_t)G * H), c.b = fa((size_t)G);
    c.out = fa(nh), c.gates = fa(nh * 4), c.c = fa(nh), c.tc = fa(nh), c.R = fa(nh);
    gc_fill(&rng, c.in, ni, 1), gc_fill(&rng, c.wih, (size_t)G * I, 0.5),
        gc_fill(&rng, c.whh, (size_t)G * H, 0.5), gc_fill(&rng, c.b, (size_t)G, 0.5),
        gc_fill(&rng, c.R, nh, 1);
    float *din = fa(ni), *dwih = fa((size_t)G * I), *dwhh = fa((size_t)G * H), *db = fa((size_t)G);
    float *dg = fa(nh * 4), *dh = fa((size_t)B * H), *dc = fa((size_t)B * H);
    lstm_loss(&c);
    hp_nn_lstm_backward(din, dwih, dwhh, db, c.R, c.in, c.out, c.gates, c.c, c.tc, c.wih, c.whh,
                        dg, dh, dc, &c.d);
    gc_check("lstm.in", c.in, ni, din, lstm_loss, &c, 1e-2f, 2e-3, 3e-3, 1000);
    gc_check("lstm.w_ih", c.wih, (size_t)G * I, dwih, lstm_loss, &c, 1e-2f, 2e-3, 3e-3, 1000);
    gc_check("lstm.w_hh", c.whh, (size_t)G * H, dwhh, lstm_loss, &c, 1e-2f, 2e-3, 3e-3, 1000);
    gc_check("lstm.b", c.b, (size_t)G, db, lstm_loss, &c, 1e-2f, 2e-3, 3e-3, 1000);
    free(c.in), free(c.wih), free(c.whh), free(c.b), free(c.out), free(c.gates), free(c.c);
    free(c.tc), free(c.R), free(din), free(dwih), free(dwhh), free(db), free(dg), free(dh), free(dc);
}
END_TEST

/* ---- dropout ---- */
typedef struct {
    float *in, *out, *mask, *R;
    size_t n;
    hp_rng_t r0;
} drop_ctx;

static double drop_loss(void *p)
{
    drop_ctx *c = p;
    hp_rng_t r = c->r0; /* the same mask every probe */
    hp_nn_dropout_forward(c->out, c->mask, c->in, c->n, 0.3f, &r);
    return gc_dot(c->out, c->R, c->n);
}

START_TEST(test_dropout_grad_and_scale)
{
    size_t n = 4000;
    drop_ctx c = {fa(n), fa(n), fa(n), fa(n), n, rng};
    gc_fill(&rng, c.in, n, 1), gc_fill(&rng, c.R, n, 1);
    float *din = fa(n);
    drop_loss(&c);
    hp_nn_dropout_backward(din, c.R, c.mask, n);
    gc_check("dropout.in", c.in, n, din, drop_loss, &c, 1e-2f, 1e-3, 1e-3, 300);
    /* inverted dropout keeps the expectation: about 30% zeros, the rest 1/0.7 */
    size_t zeros = 0;
    for (size_t i = 0; i < n; i++) {
        if (c.mask[i] == 0.0f)
            zeros++;
        else
            ck_assert_float_eq_tol(c.mask[i], 1.0f / 0.7f, 1e-6);
    }
    ck_assert(zeros > n * 25 / 100 && zeros < n * 35 / 100);
    free(c.in), free(c.out), free(c.mask), free(c.R), free(din);
}
END_TEST

/* ---- batch norm ---- */
typedef struct {
    hp_nn_batchnorm_dims_t d;
    float *in, *g, *b, *out, *xhat, *mean, *invstd, *rm, *rv, *R;
} bn_ctx;

static double bn_loss(void *p)
{
    bn_ctx *c = p;
    hp_nn_batchnorm_forward_train(c->out, c->xhat, c->mean, c->invstd, c->rm, c->rv, c->in, c->g,
                                  c->b, &c->d);
    return gc_dot(c->out, c->R, (size_t)c->d.B * c->d.C * c->d.S);
}

static void bn_case(int B, int C, int S)
{
    bn_ctx c = {.d = {B, C, S, 1e-5f, 0.1f}};
    size_t n = (size_t)B * C * S;
    c.in = fa(n), c.g = fa((size_t)C), c.b = fa((size_t)C), c.out = fa(n), c.xhat = fa(n);
    c.mean = fa((size_t)C), c.invstd = fa((size_t)C), c.rm = fa((size_t)C), c.rv = fa((size_t)C);
    c.R = fa(n);
    gc_fill(&rng, c.in, n, 2), gc_fill(&rng, c.g, (size_t)C, 1), gc_fill(&rng, c.b, (size_t)C, 1),
        gc_fill(&rng, c.R, n, 1);
    float *din = fa(n), *dg = fa((size_t)C), *dbt = fa((size_t)C);
    bn_loss(&c);
    float *tmp = fa(2 * (size_t)C);
    hp_nn_batchnorm_backward(din, dg, dbt, tmp, c.R, c.xhat, c.invstd, c.g, &c.d);
    free(tmp);
    gc_check("bn.in", c.in, n, din, bn_loss, &c, 1e-2f, 2e-3, 3e-3, 500);
    gc_check("bn.gamma", c.g, (size_t)C, dg, bn_loss, &c, 1e-2f, 2e-3, 3e-3, 500);
    gc_check("bn.beta", c.b, (size_t)C, dbt, bn_loss, &c, 1e-2f, 2e-3, 3e-3, 500);
    free(c.in), free(c.g), free(c.b), free(c.out), free(c.xhat), free(c.mean), free(c.invstd);
    free(c.rm), free(c.rv), free(c.R), free(din), free(dg), free(dbt);
}

START_TEST(test_batchnorm_grad)
{
    bn_case(6, 4, 1); /* after a dense layer */
    bn_case(3, 2, 5); /* after a conv layer */
}
END_TEST

START_TEST(test_batchnorm_modes)
{
    /* training normalizes with batch statistics and moves the running ones;
     * evaluation uses the running ones */
    hp_nn_batchnorm_dims_t d = {4, 1, 1, 0.0f, 0.1f};
    float in[4] = {1, 2, 3, 6}, g[1] = {1}, b[1] = {0}, out[4], xhat[4], mean[1], is[1];
    float rm[1] = {0}, rv[1] = {1};
    hp_nn_batchnorm_forward_train(out, xhat, mean, is, rm, rv, in, g, b, &d);
    ck_assert_float_eq_tol(mean[0], 3.0f, 1e-6);
    double s = 0;
    for (int i = 0; i < 4; i++)
        s += out[i];
    ck_assert_float_eq_tol(s, 0.0, 1e-5);
    ck_assert_float_eq_tol(rm[0], 0.3f, 1e-6);
    ck_assert_float_eq_tol(rv[0], 0.9f + 0.1f * (14.0f / 3.0f), 1e-5); /* unbiased */
    rm[0] = 2, rv[0] = 4;
    hp_nn_batchnorm_forward_eval(out, in, g, b, rm, rv, &d);
    ck_assert_float_eq_tol(out[3], 2.0f, 1e-6);
}
END_TEST

/* ---- losses ---- */
typedef struct {
    float *logits, *probs;
    int32_t *labels;
    int B, C;
} xent_ctx;

static double xent_loss(void *p)
{
    xent_ctx *c = p;
    return hp_nn_xent_forward(c->probs, c->logits, c->labels, c->B, c->C, NULL);
}

START_TEST(test_xent_grad_and_stability)
{
    xent_ctx c = {fa(40), fa(40), calloc(4, sizeof(int32_t)), 4, 10};
    gc_fill(&rng, c.logits, 40, 3);
    for (int i = 0; i < 4; i++)
        c.labels[i] = (i * 3) % 10;
    float *d = fa(40);
    xent_loss(&c);
    hp_nn_xent_backward(d, c.probs, c.labels, 4, 10);
    gc_check("xent.logits", c.logits, 40, d, xent_loss, &c, 1e-2f, 1e-4, 2e-3, 1000);
    /* log-sum-exp: huge logits give the exact finite loss, not inf/NaN */
    float z[3] = {1000.0f, 0.0f, -1000.0f}, pr[3];
    int32_t y[1] = {1};
    int correct = -1;
    float l = hp_nn_xent_forward(pr, z, y, 1, 3, &correct);
    ck_assert_float_eq_tol(l, 1000.0f, 1e-3);
    ck_assert_int_eq(correct, 0);
    y[0] = 0;
    ck_assert_float_eq_tol(hp_nn_xent_forward(pr, z, y, 1, 3, &correct), 0.0f, 1e-6);
    ck_assert_int_eq(correct, 1);
    free(c.logits), free(c.probs), free(c.labels), free(d);
}
END_TEST

typedef struct {
    float *pred, *target;
    size_t n;
} mse_ctx;

static double mse_loss(void *p)
{
    mse_ctx *c = p;
    return hp_nn_mse_forward(c->pred, c->target, c->n);
}

START_TEST(test_mse_grad)
{
    mse_ctx c = {fa(12), fa(12), 12};
    gc_fill(&rng, c.pred, 12, 1), gc_fill(&rng, c.target, 12, 1);
    float *d = fa(12);
    hp_nn_mse_backward(d, c.pred, c.target, 12);
    gc_check("mse.pred", c.pred, 12, d, mse_loss, &c, 1e-2f, 1e-4, 1e-3, 1000);
    free(c.pred), free(c.target), free(d);
}
END_TEST

START_TEST(test_gemm_counts_flops)
{
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 0, 1, 1, 1}, c[4];
    uint64_t f0 = hp_nn_flops();
    /* (2x3) @ (3x2) */
    hp_nn_gemm(0, 0, 2, 2, 3, 1.0f, a, 3, b, 2, 0.0f, c, 2);
    ck_assert_uint_eq(hp_nn_flops() - f0, 24);
    ck_assert_float_eq(c[0], 4.0f);
    ck_assert_float_eq(c[1], 5.0f);
    ck_assert_float_eq(c[2], 10.0f);
    ck_assert_float_eq(c[3], 11.0f);
}
END_TEST

/* hp_nn_gemm_small against a double-precision loop, for every way the
 * attention layer views A and B (plain, transposed, strided) and shapes
 * off the kernel's tiles: M not a multiple of 4, N below, at and off 16,
 * K around the 8 x 8 transpose blocks; C's neighbours stay untouched */
static void small_case(int M, int N, int K, int ta, int tb)
{
    int pad = 3, lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
    size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb;
    float *A = fa(na), *B = fa(nb), *C = fa((size_t)M * ldc), *W = fa(hp_nn_gemm_small_scratch(K, N));
    gc_fill(&rng, A, na, 1.0);
    gc_fill(&rng, B, nb, 1.0);
    for (size_t i = 0; i < (size_t)M * ldc; i++)
        C[i] = 7.0f;
    int sai = ta ? 1 : lda, sak = ta ? lda : 1, sbk = tb ? 1 : ldb, sbn = tb ? ldb : 1;
    uint64_t f0 = hp_nn_flops();
    hp_nn_gemm_small(M, N, K, 0.5f, A, sai, sak, B, sbk, sbn, C, ldc, W);
    ck_assert_uint_eq(hp_nn_flops() - f0, 2ull * M * N * K);
    for (int i = 0; i < M; i++) {
        for (int n = 0; n < N; n++) {
            double ref = 0;
            for (int k = 0; k < K; k++)
                ref += (double)A[(size_t)i * sai + (size_t)k * sak] *
                       B[(size_t)k * sbk + (size_t)n * sbn];
            ref *= 0.5;
            ck_assert_msg(fabs(C[(size_t)i * ldc + n] - ref) <= 1e-5 * (1 + fabs(ref)),
                          "%dx%dx%d ta %d tb %d: C[%d,%d] = %g, want %g", M, N, K, ta, tb, i, n,
                          (double)C[(size_t)i * ldc + n], ref);
        }
        for (int n = N; n < ldc; n++)
            ck_assert_msg(C[(size_t)i * ldc + n] == 7.0f, "%dx%dx%d: C[%d,%d] overwritten", M, N,
                          K, i, n);
    }
    free(A), free(B), free(C), free(W);
}

START_TEST(test_gemm_small)
{
    static const int shapes[][3] = {{28, 28, 16}, {28, 16, 28}, {5, 5, 4}, {11, 16, 11},
                                    {11, 11, 16}, {1, 1, 1},    {7, 33, 9}, {9, 8, 17},
                                    {4, 15, 8},   {3, 17, 24}};
    for (size_t s = 0; s < HP_ARRAY_LEN(shapes); s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                small_case(shapes[s][0], shapes[s][1], shapes[s][2], ta, tb);
}
END_TEST

/* bf16 of x by the rule vcvtne2ps2bf16 uses (round to nearest, ties to
 * even), written here independently of the kernel */
static double bf16_of(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    uint32_t lsb = (u >> 16) & 1u;
    u = (u + 0x7fffu + lsb) & 0xffff0000u;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* random operands of a product of op(A) (M, K) and op(B) (K, N) into C
 * (M, N), each with 3 spare floats per row, and C's first values in C0 */
typedef struct {
    int lda, ldb, ldc;
    float *A, *B, *C, *C0;
} gemm_ops_t;

static gemm_ops_t gemm_ops(int M, int N, int K, int ta, int tb)
{
    gemm_ops_t o;
    int pad = 3;
    o.lda = (ta ? M : K) + pad, o.ldb = (tb ? K : N) + pad, o.ldc = N + pad;
    size_t na = (size_t)(ta ? K : M) * o.lda, nb = (size_t)(tb ? N : K) * o.ldb;
    o.A = fa(na), o.B = fa(nb), o.C = fa((size_t)M * o.ldc), o.C0 = fa((size_t)M * o.ldc);
    gc_fill(&rng, o.A, na, 1.0);
    gc_fill(&rng, o.B, nb, 1.0);
    gc_fill(&rng, o.C, (size_t)M * o.ldc, 1.0);
    memcpy(o.C0, o.C, sizeof(float) * (size_t)M * o.ldc);
    return o;
}

static void gemm_ops_free(gemm_ops_t *o) { free(o->A), free(o->B), free(o->C), free(o->C0); }

/* hp_nn_gemm with precision bf16, against a double-precision loop over the
 * bf16-rounded inputs: any element packed into the wrong place or paired
 * with the wrong partner is off by far more than the fp32 sums' rounding.
 * Shapes off every block edge (MR 8, NR 32, KC 256, MC 128, NC 512, and
 * odd K), each way A and B may be transposed, with alpha and beta; C's
 * neighbours stay untouched. Products too small for bf16 stay fp32. */
static void bf16_case(int M, int N, int K, int ta, int tb, float beta)
{
    gemm_ops_t o = gemm_ops(M, N, K, ta, tb);
    int lda = o.lda, ldb = o.ldb, ldc = o.ldc;
    float *A = o.A, *B = o.B, *C = o.C, *C0 = o.C0;
    hp_nn_gemm(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, beta, C, ldc);
    double off_bf16 = 0, off_fp32 = 0; /* the largest differences to either reference */
    for (int i = 0; i < M; i++) {
        for (int n = 0; n < N; n++) {
            double ref = 0, ref32 = 0, mag = 0;
            for (int k = 0; k < K; k++) {
                float x = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                float y = tb ? B[(size_t)n * ldb + k] : B[(size_t)k * ldb + n];
                double p = bf16_of(x) * bf16_of(y);
                ref += p;
                ref32 += (double)x * y;
                mag += fabs(p);
            }
            double c0 = beta * C0[(size_t)i * ldc + n];
            ref = 0.5 * ref + c0;
            ref32 = 0.5 * ref32 + c0;
            double got = C[(size_t)i * ldc + n];
            /* the fp32 sums' rounding, on the scale of the terms */
            ck_assert_msg(fabs(got - ref) <= 2e-6 * (1 + mag),
                          "%dx%dx%d ta %d tb %d beta %g: C[%d,%d] = %.9g, want %.9g", M, N, K, ta,
                          tb, (double)beta, i, n, got, ref);
            off_bf16 = fmax(off_bf16, fabs(got - ref));
            off_fp32 = fmax(off_fp32, fabs(got - ref32));
        }
        for (int n = N; n < ldc; n++)
            ck_assert_msg(C[(size_t)i * ldc + n] == C0[(size_t)i * ldc + n],
                          "%dx%dx%d: C[%d,%d] overwritten", M, N, K, i, n);
    }
    /* and the products were bf16's, not fp32's: far nearer that reference */
    ck_assert_msg(off_fp32 > 20 * off_bf16, "%dx%dx%d ta %d tb %d: %g off bf16, %g off fp32", M,
                  N, K, ta, tb, off_bf16, off_fp32);
    gemm_ops_free(&o);
}

START_TEST(test_gemm_bf16)
{
    hp_nn_bf16_t *ctx = hp_nn_bf16_new();
    if (!ctx) {
        ck_assert_int_eq(hp_nn_bf16_supported(), 0);
        fprintf(stderr, "test_gemm_bf16: SKIPPED: this CPU (or build) has no AVX512_BF16; "
                        "hp_nn_bf16_new() refused a context, as it should\n");
        return;
    }
    ck_assert_ptr_null(hp_nn_bf16_bind(ctx));
    /* past MC (M 130), NC (N 520) and KC (K 300, 513), odd K, tails of
     * 16 and 32 columns and 8 rows; small, so the double loops stay quick */
    static const int shapes[][3] = {{130, 40, 300}, {20, 520, 40}, {37, 45, 67}, {9, 33, 257},
                                    {8, 32, 513},   {17, 70, 65},  {64, 10, 256}};
    for (size_t s = 0; s < HP_ARRAY_LEN(shapes); s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                bf16_case(shapes[s][0], shapes[s][1], shapes[s][2], ta, tb,
                          (ta + tb) % 2 ? 1.0f : 0.0f);
    bf16_case(64, 10, 256, 0, 1, -0.25f);
    /* a product below HP_NN_BF16_MIN_MACS is fp32: exact on these integers
     * with a fraction bf16 cannot hold */
    float a[2] = {1.00390625f, 1.0f}, b[2] = {3.0f, 1.0f}, c[1];
    hp_nn_gemm(0, 0, 1, 1, 2, 1.0f, a, 2, b, 1, 0.0f, c, 1);
    ck_assert_float_eq(c[0], 4.01171875f);
    ck_assert_ptr_eq(hp_nn_bf16_bind(NULL), ctx);
    /* unbound, products are fp32's again: 1 + i/4096 has bits bf16 drops */
    static float A[64 * 32], Bm[32 * 64], C1[64 * 64];
    for (int i = 0; i < 64 * 32; i++)
        A[i] = 1.0f + (float)(i % 256) / 4096.0f, Bm[i] = 1.0f;
    hp_nn_gemm(0, 0, 64, 64, 32, 1.0f, A, 32, Bm, 64, 0.0f, C1, 64);
    for (int i = 0; i < 64; i++) {
        double want = 0;
        for (int k = 0; k < 32; k++)
            want += A[i * 32 + k];
        ck_assert_msg(fabs(C1[i * 64] - want) < 1e-4, "row %d: %g, want %g (fp32)", i,
                      (double)C1[i * 64], want);
    }
    hp_nn_bf16_free(ctx);
}
END_TEST

/* ---- the own fp32 kernel (gemm_f32.c), forced on ---- */
/* the engine suites run in one process (CK_FORK=no), so the choice is
 * made again for the test and undone after it */
static void gemm_choose(const char *mode)
{
    setenv("HP_GEMM", mode, 1);
    hp_nn_f32_rechoose();
    setup();
}

static void gemm_restore(void)
{
    unsetenv("HP_GEMM");
    hp_nn_f32_rechoose();
}

static void f32_setup(void) { gemm_choose("builtin"); }

static void f32_case(int M, int N, int K, int ta, int tb, float alpha, float beta)
{
    gemm_ops_t o = gemm_ops(M, N, K, ta, tb);
    int lda = o.lda, ldb = o.ldb, ldc = o.ldc;
    float *A = o.A, *B = o.B, *C = o.C, *C0 = o.C0;
    if (beta == 0.0f) /* never read: BLAS semantics, C may hold NaN */
        for (int i = 0; i < M; i++)
            for (int n = 0; n < N; n++)
                C[(size_t)i * ldc + n] = C0[(size_t)i * ldc + n] = NAN;
    ck_assert_int_eq(hp_nn_f32_try(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc), 1);
    for (int i = 0; i < M; i++) {
        for (int n = 0; n < N; n++) {
            double ref = 0, mag = 0;
            for (int k = 0; k < K; k++) {
                float x = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                float y = tb ? B[(size_t)n * ldb + k] : B[(size_t)k * ldb + n];
                ref += (double)x * y;
                mag += fabs((double)x * y);
            }
            ref = alpha * ref + (beta == 0.0f ? 0.0 : beta * (double)C0[(size_t)i * ldc + n]);
            double got = C[(size_t)i * ldc + n];
            ck_assert_msg(fabs(got - ref) <= 2e-6 * (1 + mag),
                          "%dx%dx%d ta %d tb %d alpha %g beta %g: C[%d,%d] = %.9g, want %.9g", M,
                          N, K, ta, tb, (double)alpha, (double)beta, i, n, got, ref);
        }
        for (int n = N; n < ldc; n++)
            ck_assert_msg(C[(size_t)i * ldc + n] == C0[(size_t)i * ldc + n],
                          "%dx%dx%d: C[%d,%d] overwritten", M, N, K, i, n);
    }
    gemm_ops_free(&o);
}

START_TEST(test_gemm_f32)
{
    if (!hp_nn_f32_selected()) {
        ck_assert_str_eq(hp_nn_gemm_kernel(), "openblas");
        fprintf(stderr, "test_gemm_f32: SKIPPED: HP_GEMM=builtin, but %s\n", hp_nn_f32_why());
        return;
    }
    ck_assert_str_eq(hp_nn_gemm_kernel(), "builtin-avx512");
    /* past MC (M 130), NC (N 520) and KC (K 300, 513), tails of 16 and 32
     * columns, 8 and 16 rows and 16 k; a row, a column, K 1 */
    static const int shapes[][3] = {{130, 40, 300}, {20, 520, 40}, {37, 45, 67}, {9, 33, 257},
                                    {8, 32, 513},   {17, 70, 65},  {64, 10, 256}, {1, 50, 20},
                                    {50, 1, 20},    {5, 7, 1}};
    for (size_t s = 0; s < HP_ARRAY_LEN(shapes); s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                f32_case(shapes[s][0], shapes[s][1], shapes[s][2], ta, tb, 0.5f,
                         (ta + tb) % 2 ? 1.0f : 0.0f);
    f32_case(64, 10, 256, 0, 1, -2.0f, -0.25f);
    /* K 0: C = beta C */
    float c[2] = {3.0f, NAN}, z = 0;
    ck_assert_int_eq(hp_nn_f32_try(0, 0, 1, 1, 0, 1.0f, &z, 1, &z, 1, 0.5f, c, 1), 1);
    ck_assert_float_eq(c[0], 1.5f);
    ck_assert_int_eq(hp_nn_f32_try(0, 0, 1, 1, 0, 1.0f, &z, 1, &z, 1, 0.0f, c + 1, 1), 1);
    ck_assert_float_eq(c[1], 0.0f);
    /* and hp_nn_gemm takes this path: exact on these integers */
    float a[2] = {1.00390625f, 1.0f}, b[2] = {3.0f, 1.0f}, r[1];
    uint64_t f0 = hp_nn_flops();
    hp_nn_gemm(0, 0, 1, 1, 2, 1.0f, a, 2, b, 1, 0.0f, r, 1);
    ck_assert_float_eq(r[0], 4.01171875f);
    ck_assert_uint_eq(hp_nn_flops() - f0, 4);
}
END_TEST

static void openblas_setup(void) { gemm_choose("openblas"); }

START_TEST(test_gemm_openblas_forced)
{
    ck_assert_int_eq(hp_nn_f32_selected(), 0);
    ck_assert_str_eq(hp_nn_gemm_kernel(), "openblas");
    ck_assert_str_eq(hp_nn_f32_why(), "HP_GEMM=openblas");
    /* not chosen, so the own kernel declines (even where this thread has
     * buffers from an earlier test) */
    float a = 2, b = 3, c = 0;
    ck_assert_int_eq(hp_nn_f32_try(0, 0, 1, 1, 1, 1.0f, &a, 1, &b, 1, 0.0f, &c, 1), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("nn_layers");
    TCase *tc = tcase_create("grad");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_gemm_counts_flops);
    tcase_add_test(tc, test_gemm_small);
    tcase_add_test(tc, test_gemm_bf16);
    tcase_add_test(tc, test_dense_grad);
    tcase_add_test(tc, test_activation_grads);
    tcase_add_test(tc, test_conv2d_known_values);
    tcase_add_test(tc, test_conv2d_grad);
    tcase_add_test(tc, test_conv2d_direct_wide);
    tcase_add_test(tc, test_maxpool_grad);
    tcase_add_test(tc, test_maxpool_ties_nan_and_k3);
    tcase_add_test(tc, test_lstm_grad);
    tcase_add_test(tc, test_dropout_grad_and_scale);
    tcase_add_test(tc, test_batchnorm_grad);
    tcase_add_test(tc, test_batchnorm_modes);
    tcase_add_test(tc, test_xent_grad_and_stability);
    tcase_add_test(tc, test_mse_grad);
    suite_add_tcase(s, tc);
    /* each with the kernel chosen for it, and the choice undone after */
    TCase *own = tcase_create("own_gemm");
    tcase_add_checked_fixture(own, f32_setup, gemm_restore);
    tcase_add_test(own, test_gemm_f32);
    suite_add_tcase(s, own);
    TCase *ob = tcase_create("openblas_gemm");
    tcase_add_checked_fixture(ob, openblas_setup, gemm_restore);
    tcase_add_test(ob, test_gemm_openblas_forced);
    suite_add_tcase(s, ob);
    return s;
}

int main(void)
{
    return hp_check_run(suite());
}
