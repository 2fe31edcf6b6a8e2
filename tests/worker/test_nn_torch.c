/* Forward and backward of each layer, the losses and the optimizers
 * against PyTorch (fixtures/torch_ref.txt, made by make_fixtures.py). */
#include "layer.h"
#include "optim.h"

#include "gemm.h"

#include "torch_fixtures.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the fixtures (torch_fixtures.h), read once */
static void load(void)
{
    hp_nn_set_threads(1);
    fixtures_load("torch_ref.txt");
}

#define get fixture_get
#define copy fixture_copy

static float *zeros(const char *like)
{
    return calloc(get(like)->n, sizeof(float));
}

#define check fixture_check

#define TOL 1e-5, 1e-4

START_TEST(test_dense_vs_torch)
{
    hp_nn_dense_dims_t d = {3, 5, 4};
    float *x = copy("dense.x"), *w = copy("dense.w"), *b = copy("dense.b"), *R = copy("dense.R");
    float *y = zeros("dense.out"), *dx = zeros("dense.x"), *dw = zeros("dense.w"),
          *db = zeros("dense.b");
    hp_nn_dense_forward(y, x, w, b, &d);
    check("dense.out", y, TOL);
    hp_nn_dense_backward(dx, dw, db, R, x, w, &d);
    check("dense.dx", dx, TOL);
    check("dense.dw", dw, TOL);
    check("dense.db", db, TOL);
    free(x), free(w), free(b), free(R), free(y), free(dx), free(dw), free(db);
}
END_TEST

START_TEST(test_activations_vs_torch)
{
    static const char *names[] = {"relu", "tanh", "sigmoid"};
    for (int k = 0; k < 3; k++) {
        float *x = copy("act.x"), *y = zeros("act.x"), *dx = zeros("act.x");
        char nm[64], rn[64];
        snprintf(rn, sizeof rn, "%s.R", names[k]);
        float *R = copy(rn);
        size_t n = get("act.x")->n;
        if (k == 0)
            hp_nn_relu_forward(y, x, n), hp_nn_relu_backward(dx, R, y, n);
        else if (k == 1)
            hp_nn_tanh_forward(y, x, n), hp_nn_tanh_backward(dx, R, y, n);
        else
            hp_nn_sigmoid_forward(y, x, n), hp_nn_sigmoid_backward(dx, R, y, n);
        snprintf(nm, sizeof nm, "%s.out", names[k]);
        check(nm, y, TOL);
        snprintf(nm, sizeof nm, "%s.dx", names[k]);
        check(nm, dx, TOL);
        free(x), free(y), free(dx), free(R);
    }
}
END_TEST

static void conv_case_algo(hp_nn_conv_algo_t algo, const char *tag, int B, int C, int H, int W, int K, int k, int pad)
{
    char n[8][64];
    const char *parts[] = {"x", "w", "b", "R", "out", "dx", "dw", "db"};
    for (int i = 0; i < 8; i++)
        snprintf(n[i], sizeof n[i], "%s.%s", tag, parts[i]);
    hp_nn_conv2d_dims_t d = {B, C, H, W, K, k, k, pad, 0, 0};
    hp_nn_conv2d_dims(&d);
    float *x = copy(n[0]), *w = copy(n[1]), *b = copy(n[2]), *R = copy(n[3]), *y = zeros(n[4]);
    float *dx = zeros(n[0]), *dw = zeros(n[1]), *db = zeros(n[2]);
    float *col = calloc(hp_nn_conv2d_scratch_size(&d), sizeof(float));
    hp_nn_conv2d_forward_algo(algo, y, x, w, b, col, &d);
    check(n[4], y, TOL);
    hp_nn_conv2d_backward_algo(algo, dx, dw, db, R, x, w, col, &d);
    check(n[5], dx, TOL);
    check(n[6], dw, TOL);
    check(n[7], db, TOL);
    free(x), free(w), free(b), free(R), free(y), free(dx), free(dw), free(db), free(col);
}

/* both algorithms against the same PyTorch values */
static void conv_case(const char *tag, int B, int C, int H, int W, int K, int k, int pad)
{
    conv_case_algo(HP_NN_CONV_GEMM, tag, B, C, H, W, K, k, pad);
    conv_case_algo(HP_NN_CONV_DIRECT, tag, B, C, H, W, K, k, pad);
}

START_TEST(test_conv2d_vs_torch)
{
    conv_case("conv_a", 2, 3, 7, 6, 4, 3, 1);
    conv_case("conv_b", 2, 1, 8, 8, 3, 5, 2);
}
END_TEST

START_TEST(test_maxpool_vs_torch)
{
    hp_nn_maxpool_dims_t d = {2, 3, 6, 5, 2, 3, 2};
    float *x = copy("pool.x"), *R = copy("pool.R"), *y = zeros("pool.out"), *dx = zeros("pool.x");
    hp_nn_maxpool_forward(y, x, &d);
    check("pool.out", y, TOL);
    hp_nn_maxpool_backward(dx, R, x, &d);
    check("pool.dx", dx, TOL);
    free(x), free(R), free(y), free(dx);
}
END_TEST

/* fixture <p>.*: forward and backward of one LSTM layer; inplace: the
 * gate gradients overwrite the gates, as the model does */
static void lstm_case(const char *p, int T, int B, int I, int H, int inplace)
{
    hp_nn_lstm_dims_t d = {T, B, I, H};
    static const char *const what[] = {"x",  "w_ih", "w_hh",  "b",     "R",
                                       "out", "dx",  "dw_ih", "dw_hh", "db"};
    char n[10][48];
    for (int k = 0; k < 10; k++)
        snprintf(n[k], sizeof n[k], "%s.%s", p, what[k]);
    float *x = copy(n[0]), *wih = copy(n[1]), *whh = copy(n[2]), *b = copy(n[3]), *R = copy(n[4]);
    float *y = zeros(n[5]);
    size_t nh = (size_t)T * B * H;
    float *gates = calloc(4 * nh, sizeof(float)), *c = calloc(nh, sizeof(float)),
          *tc = calloc(nh, sizeof(float)), *dg = inplace ? gates : calloc(4 * nh, sizeof(float));
    float *dh = calloc((size_t)B * H, sizeof(float)), *dc = calloc((size_t)B * H, sizeof(float));
    float *dx = zeros(n[0]), *dwih = zeros(n[1]), *dwhh = zeros(n[2]), *db = zeros(n[3]);
    hp_nn_lstm_forward(y, gates, c, tc, x, wih, whh, b, &d);
    check(n[5], y, TOL);
    hp_nn_lstm_backward(dx, dwih, dwhh, db, R, x, y, gates, c, tc, wih, whh, dg, dh, dc, &d);
    check(n[6], dx, TOL);
    check(n[7], dwih, TOL);
    check(n[8], dwhh, TOL);
    check(n[9], db, TOL);
    if (!inplace)
        free(dg);
    free(x), free(wih), free(whh), free(b), free(R), free(y), free(gates), free(c), free(tc);
    free(dh), free(dc), free(dx), free(dwih), free(dwhh), free(db);
}

START_TEST(test_lstm_vs_torch)
{
    for (int inplace = 0; inplace < 2; inplace++) {
        lstm_case("lstm", 5, 3, 4, 6, inplace);   /* H < 8: the vector tail alone */
        lstm_case("lstm2", 6, 3, 5, 11, inplace); /* a full vector and a tail */
    }
}
END_TEST

static void bn_case(const char *tag, int B, int C, int S)
{
    char n[16][64];
    const char *parts[] = {"x",  "gamma",  "beta",  "R",        "out", "run_mean",
                           "run_var", "dx", "dgamma", "dbeta", "eval_out"};
    for (int i = 0; i < 11; i++)
        snprintf(n[i], sizeof n[i], "%s.%s", tag, parts[i]);
    hp_nn_batchnorm_dims_t d = {B, C, S, 1e-5f, 0.1f};
    float *x = copy(n[0]), *g = copy(n[1]), *b = copy(n[2]), *R = copy(n[3]), *y = zeros(n[4]);
    float *xhat = zeros(n[0]), *mean = zeros(n[1]), *is = zeros(n[1]), *rm = zeros(n[1]);
    float *rv = zeros(n[1]), *dx = zeros(n[0]), *dg = zeros(n[1]), *db = zeros(n[1]);
    for (int i = 0; i < C; i++)
        rv[i] = 1.0f;
    hp_nn_batchnorm_forward_train(y, xhat, mean, is, rm, rv, x, g, b, &d);
    check(n[4], y, TOL);
    check(n[5], rm, TOL);
    check(n[6], rv, TOL);
    float tmp[64];
    hp_nn_batchnorm_backward(dx, dg, db, tmp, R, xhat, is, g, &d);
    check(n[7], dx, 1e-4, 1e-3);
    check(n[8], dg, TOL);
    check(n[9], db, TOL);
    hp_nn_batchnorm_forward_eval(y, x, g, b, rm, rv, &d);
    check(n[10], y, TOL);
    free(x), free(g), free(b), free(R), free(y), free(xhat), free(mean), free(is), free(rm);
    free(rv), free(dx), free(dg), free(db);
}

START_TEST(test_batchnorm_vs_torch)
{
    bn_case("bn1", 6, 4, 1);
    bn_case("bn2", 3, 2, 5);
}
END_TEST

START_TEST(test_losses_vs_torch)
{
    float *z = copy("xent.logits"), *lf = copy("xent.labels"), *p = zeros("xent.logits");
    float *dz = zeros("xent.logits");
    int32_t lab[4];
    for (int i = 0; i < 4; i++)
        lab[i] = (int32_t)lf[i];
    float loss = hp_nn_xent_forward(p, z, lab, 4, 10, NULL);
    check("xent.loss", &loss, TOL);
    hp_nn_xent_backward(dz, p, lab, 4, 10);
    check("xent.dlogits", dz, TOL);
    float *pr = copy("mse.pred"), *t = copy("mse.target"), *dp = zeros("mse.pred");
    loss = hp_nn_mse_forward(pr, t, 6);
    check("mse.loss", &loss, TOL);
    hp_nn_mse_backward(dp, pr, t, 6);
    check("mse.dpred", dp, TOL);
    free(z), free(lf), free(p), free(dz), free(pr), free(t), free(dp);
}
END_TEST

START_TEST(test_optimizers_vs_torch)
{
    static const struct {
        const char *tag;
        hp_opt_config_t cfg;
        float lr;
    } cases[] = {
        {"opt.adam", {HP_OPT_ADAM, 0, 0.9f, 0.999f, 1e-8f, 0}, 0.01f},
        {"opt.adam_l2", {HP_OPT_ADAM, 0, 0.9f, 0.999f, 1e-8f, 0.1f}, 0.01f},
        {"opt.adamw", {HP_OPT_ADAMW, 0, 0.9f, 0.999f, 1e-8f, 0.1f}, 0.01f},
        {"opt.sgd_l2", {HP_OPT_SGD, 0, 0, 0, 0, 0.1f}, 0.1f},
        {"opt.momentum", {HP_OPT_MOMENTUM, 0.9f, 0, 0, 0, 0}, 0.1f},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        float *p = copy("opt.p0");
        hp_opt_t o;
        char err[128];
        ck_assert(hp_opt_init(&o, &cases[k].cfg, 5, err, sizeof err) == 0);
        for (int s = 0; s < 3; s++) {
            char gn[16];
            snprintf(gn, sizeof gn, "opt.g%d", s);
            hp_opt_step(&o, p, get(gn)->v, cases[k].lr);
        }
        check(cases[k].tag, p, TOL);
        hp_opt_fini(&o);
        free(p);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("nn_torch");
    TCase *tc = tcase_create("torch");
    tcase_add_checked_fixture(tc, load, NULL);
    tcase_add_test(tc, test_dense_vs_torch);
    tcase_add_test(tc, test_activations_vs_torch);
    tcase_add_test(tc, test_conv2d_vs_torch);
    tcase_add_test(tc, test_maxpool_vs_torch);
    tcase_add_test(tc, test_lstm_vs_torch);
    tcase_add_test(tc, test_batchnorm_vs_torch);
    tcase_add_test(tc, test_losses_vs_torch);
    tcase_add_test(tc, test_optimizers_vs_torch);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    fixtures_free();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
