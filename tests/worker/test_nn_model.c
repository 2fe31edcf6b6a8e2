/* The engine as a whole: gradient checks through whole models (wiring,
 * in-place activations, sequence reshapes), overfitting one batch per
 * model (the seed's step 2), no allocation inside a training step, the
 * NaN/Inf guard, and same seed -> same weights. */
#include "alloc_count.h"
#include "gradcheck.h"
#include "model_check.h"
#include "train.h"

#include "err.h"
#include "gemm.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void setup(void)
{
    hp_nn_set_threads(1);
}

#define set mc_set

/* ---- whole-model gradient checks ---- */
static void model_gradcheck(const char *model, const char *const *kvs, int c, int h, int w)
{
    hp_train_config_t cfg;
    hp_train_config_defaults(&cfg);
    set(&cfg, model);
    set(&cfg, "batch_size=4");
    for (; *kvs; kvs++)
        set(&cfg, *kvs);
    hp_trainer_t t;
    char err[512];
    ck_assert_msg(hp_trainer_init(&t, &cfg, c, h, w, 3, HP_TASK_CLASSIFY, err, sizeof err) == 0,
                  "%s", err);
    mc_t mc;
    mc_prepare(&t, &mc, 4, 3);
    for (int i = 0; i < t.model.nops; i++) {
        hp_nn_op_t *op = &t.model.ops[i];
        for (int k = 0; k < op->nparam; k++) {
            char what[160];
            snprintf(what, sizeof what, "%s %s param %d", model, op->name, k);
            gc_check(what, op->param[k], op->plen[k], op->grad[k], mc_loss, &mc, 1e-3f, 2e-3,
                     1e-2, 40);
        }
    }
    hp_trainer_fini(&t);
}

START_TEST(test_mlp_model_grad)
{
    const char *kv[] = {"hidden=7,5", "activation=tanh", "batchnorm=1", "dropout=0.25", NULL};
    model_gradcheck("model=mlp", kv, 2, 3, 2);
}
END_TEST

START_TEST(test_lenet_model_grad)
{
    const char *kv[] = {"conv1=2", "conv2=3", "fc1=6", "fc2=5", NULL};
    model_gradcheck("model=lenet", kv, 1, 12, 12);
    const char *kv2[] = {"conv1=2", "conv2=2", "fc1=4", "fc2=4", "batchnorm=1", NULL};
    model_gradcheck("model=lenet", kv2, 1, 12, 12);
}
END_TEST

START_TEST(test_lstm_model_grad)
{
    const char *kv[] = {"hidden=5", "layers=2", NULL};
    model_gradcheck("model=lstm", kv, 1, 6, 4);
}
END_TEST

START_TEST(test_arch_model_grad)
{
    /* one stage: the projection block's gradients are checked alone in
     * test_nn_arch (and against PyTorch); deeper, a finite difference of
     * a batch-norm or first-layer weight crosses a relu kink somewhere in
     * the batch and is no longer a derivative */
    const char *res[] = {"channels=2", "blocks=1", "stages=1", NULL};
    model_gradcheck("model=resnet", res, 1, 6, 6);
    const char *tcn[] = {"channels=4", "blocks=2", "kernel=2", NULL};
    model_gradcheck("model=tcn", tcn, 1, 6, 3);
    const char *att[] = {"channels=4", "blocks=1", "heads=2", "hidden=6", NULL};
    model_gradcheck("model=attention", att, 1, 5, 3);
}
END_TEST

/* A deep ResNet end to end: stem, three stages of three blocks (batch norm
 * everywhere, projection shortcuts with stride 2 opening stages 2 and 3),
 * pool and head. Every weight moves every activation through batch norm,
 * so a finite difference may cross a relu kink: gc_check_kinked takes such
 * an entry one-sided and bounds how many there are. */
START_TEST(test_deep_resnet_grad)
{
    hp_train_config_t cfg;
    hp_train_config_defaults(&cfg);
    const char *kv[] = {"model=resnet", "channels=2", "blocks=3", "stages=3", "batch_size=4", NULL};
    for (const char *const *p = kv; *p; p++)
        set(&cfg, *p);
    hp_trainer_t t;
    char err[512];
    ck_assert_msg(hp_trainer_init(&t, &cfg, 1, 8, 8, 3, HP_TASK_CLASSIFY, err, sizeof err) == 0,
                  "%s", err);
    int nres = 0, nproj = 0, nbn = 0;
    for (int i = 0; i < t.model.nops; i++) {
        const hp_nn_op_t *op = &t.model.ops[i];
        if (op->kind == HP_NN_RESBLOCK) {
            nres++;
            nproj += op->stride == 2 && op->out_c == 2 * op->in_c;
        }
        nbn += op->kind == HP_NN_BATCHNORM;
    }
    ck_assert_int_eq(nres, 9);
    ck_assert_int_eq(nproj, 2);
    ck_assert_int_eq(nbn, 1); /* the stem's; the blocks carry their own */
    /* batch-norm betas +2 keep most relu inputs away from the kink, as in
     * test_nn_arch's block check; gammas stay at their init */
    for (int i = 0; i < t.model.nops; i++) {
        hp_nn_op_t *op = &t.model.ops[i];
        if (op->kind == HP_NN_BATCHNORM) {
            for (int c = 0; c < op->in_c; c++)
                op->param[1][c] += 2.0f;
        } else if (op->kind == HP_NN_RESBLOCK) {
            size_t C = (size_t)op->in_c, K = (size_t)op->out_c;
            size_t b1 = K * C * 9 + K, b2 = b1 + K + K * K * 9 + K;
            for (size_t c = 0; c < K; c++)
                op->param[0][b1 + c] += 2.0f, op->param[0][b2 + c] += 2.0f;
        }
    }
    mc_t mc;
    mc_prepare(&t, &mc, 4, 5);
    int kinked = 0, checked = 0;
    for (int i = 0; i < t.model.nops; i++) {
        hp_nn_op_t *op = &t.model.ops[i];
        for (int k = 0; k < op->nparam; k++) {
            char what[160];
            snprintf(what, sizeof what, "deep resnet op %d %s param %d", i, op->name, k);
            kinked += gc_check_kinked(what, op->param[k], op->plen[k], op->grad[k], mc_loss, &mc,
                                      1e-3f, 2e-3, 1e-2, 60, 6);
            checked += (int)(op->plen[k] < 60 ? op->plen[k] : 60);
        }
    }
    fprintf(stderr, "deep resnet: %d of ~%d entries agree only one-sided\n", kinked, checked);
    ck_assert_int_le(kinked, checked / 20);
    hp_trainer_fini(&t);
}
END_TEST

/* ---- one real batch of Fashion-MNIST ---- */
static hp_dataset_t fm;
static hp_norm_t fm_norm;
static uint32_t fm_idx[64];

static void load_fm(void)
{
    hp_nn_set_threads(1);
    if (fm.n)
        return;
    char err[512];
    const char *dir = "/usr/share/datasets/fashion-mnist";
    char ip[256], lp[256];
    snprintf(ip, sizeof ip, "%s/t10k-images-idx3-ubyte.gz", dir);
    snprintf(lp, sizeof lp, "%s/t10k-labels-idx1-ubyte.gz", dir);
    ck_assert_msg(hp_idx_load_images(&fm, ip, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(hp_idx_load_labels(&fm, lp, err, sizeof err) == 0, "%s", err);
    for (uint32_t i = 0; i < 64; i++)
        fm_idx[i] = i;
    ck_assert(hp_norm_fit(&fm_norm, &fm, fm_idx, 64, HP_NORM_STANDARD, err, sizeof err) == 0);
}

static void init_trainer(hp_trainer_t *t, const char *const *kvs, int B)
{
    hp_train_config_t cfg;
    hp_train_config_defaults(&cfg);
    char bs[32];
    snprintf(bs, sizeof bs, "batch_size=%d", B);
    set(&cfg, bs);
    for (; *kvs; kvs++)
        set(&cfg, *kvs);
    char err[512];
    ck_assert_msg(hp_trainer_init(t, &cfg, 1, 28, 28, 10, HP_TASK_CLASSIFY, err, sizeof err) == 0,
                  "%s", err);
    hp_data_gather(t->model.input, t->labels, NULL, &fm, fm_idx, B, &fm_norm, NULL, NULL);
}

/* steps until the loss on the one batch is below 0.01, or -1 */
static int overfit(const char *const *kvs, int max_steps)
{
    hp_trainer_t t;
    init_trainer(&t, kvs, 32);
    char err[512];
    int at = -1;
    float loss = 0;
    for (int s = 1; s <= max_steps; s++) {
        ck_assert_msg(hp_trainer_step(&t, 32, 1e-3f, &loss, NULL, err, sizeof err) == 0, "%s", err);
        if (loss < 0.01f) {
            at = s;
            break;
        }
    }
    fprintf(stderr, "overfit %s: loss %.4f after %d steps\n", kvs[0], (double)loss,
            at > 0 ? at : max_steps);
    hp_trainer_fini(&t);
    return at;
}

START_TEST(test_overfit_one_batch_mlp)
{
    const char *kv[] = {"model=mlp", NULL};
    ck_assert_int_gt(overfit(kv, 200), 0);
}
END_TEST

START_TEST(test_overfit_one_batch_lenet)
{
    const char *kv[] = {"model=lenet", NULL};
    ck_assert_int_gt(overfit(kv, 300), 0);
}
END_TEST

START_TEST(test_overfit_one_batch_lstm)
{
    const char *kv[] = {"model=lstm", NULL};
    ck_assert_int_gt(overfit(kv, 400), 0);
}
END_TEST

START_TEST(test_overfit_one_batch_arch)
{
    const char *res[] = {"model=resnet", "channels=8", "blocks=1", NULL};
    ck_assert_int_gt(overfit(res, 600), 0);
    const char *tcn[] = {"model=tcn", NULL};
    ck_assert_int_gt(overfit(tcn, 400), 0);
    const char *att[] = {"model=attention", NULL};
    ck_assert_int_gt(overfit(att, 400), 0);
}
END_TEST

START_TEST(test_no_allocation_in_a_step)
{
    static const char *const cfgs[][6] = {
        {"model=mlp", "hidden=64,32", "batchnorm=1", "dropout=0.2", "clip_norm=1", NULL},
        {"model=lenet", "batchnorm=1", "optimizer=adamw", "weight_decay=0.01", NULL},
        {"model=lstm", "hidden=16", "layers=2", "optimizer=momentum", NULL},
        /* three stages (the default): stride-2 projection blocks, then identity ones */
        {"model=resnet", "channels=4", "blocks=2", "dropout=0.1", NULL},
        {"model=tcn", "channels=16", "blocks=3", NULL},
        {"model=attention", "channels=16", "heads=2", "blocks=2", NULL},
        /* bf16 products (fp32 where the CPU has no AVX512_BF16; HP_BF16=always
         * where it is no faster): packing buffers made by hp_trainer_init,
         * none in a step */
        {"model=mlp", "hidden=64", "precision=bf16", NULL},
        {"model=lstm", "hidden=32", "precision=bf16", NULL},
    };
    setenv("HP_BF16", "always", 1);
    for (size_t k = 0; k < HP_ARRAY_LEN(cfgs); k++) {
        hp_trainer_t t;
        init_trainer(&t, cfgs[k], 16);
        if (cfgs[k][2] && strcmp(cfgs[k][2], "precision=bf16") == 0)
            ck_assert_int_eq(t.model.bf16 != NULL, hp_nn_bf16_supported());
        char err[512];
        /* no Check assertions inside the counted region: Check allocates */
        long before = nallocs;
        int rc = 0;
        for (int s = 0; s < 3; s++) {
            rc |= hp_trainer_step(&t, 16, 1e-3f, NULL, NULL, err, sizeof err);
            int c;
            hp_trainer_eval(&t, 16, &c);
        }
        long after = nallocs;
        ck_assert_msg(rc == 0, "%s", err);
        ck_assert_msg(after == before, "%s: %ld allocations in 3 steps", cfgs[k][0],
                      after - before);
        hp_trainer_fini(&t);
    }
    unsetenv("HP_BF16");
    /* and the counter works */
    long before = nallocs;
    void *volatile p = malloc(8); /* volatile: the pair must not be optimized away */
    free(p);
    long after = nallocs;
    ck_assert_int_eq(after, before + 1);
}
END_TEST

/* precision bf16 is used where it pays: the trainer follows the one
 * measurement hp_nn_bf16_faster makes, and HP_BF16=always overrides it */
START_TEST(test_bf16_only_where_faster)
{
    const char *kv[] = {"model=mlp", "hidden=64", "precision=bf16", NULL};
    double bf = 0, fp = 0;
    int faster = hp_nn_bf16_faster(&bf, &fp);
    ck_assert(!faster || hp_nn_bf16_supported());
    if (hp_nn_bf16_supported())
        ck_assert_msg(bf > 0 && fp > 0, "bf16 %g, fp32 %g GFLOP/s", bf, fp);
    unsetenv("HP_BF16");
    hp_trainer_t t;
    init_trainer(&t, kv, 16);
    ck_assert_int_eq(t.model.bf16 != NULL, faster);
    hp_trainer_fini(&t);
    setenv("HP_BF16", "always", 1);
    init_trainer(&t, kv, 16);
    ck_assert_int_eq(t.model.bf16 != NULL, hp_nn_bf16_supported());
    hp_trainer_fini(&t);
    unsetenv("HP_BF16");
    fprintf(stderr, "test_bf16_only_where_faster: bf16 %.0f vs fp32 %.0f GFLOP/s here: %s\n", bf,
            fp, faster ? "bf16 used" : "fp32 kept");
}
END_TEST

START_TEST(test_nan_guard_names_layer_and_step)
{
    const char *kv[] = {"model=mlp", "hidden=32,16", NULL};
    hp_trainer_t t;
    init_trainer(&t, kv, 8);
    char err[512];
    ck_assert(hp_trainer_step(&t, 8, 1e-3f, NULL, NULL, err, sizeof err) == 0);
    /* poison one weight of the second dense layer (op index 2) */
    t.model.ops[2].param[0][5] = NAN;
    int rc = hp_trainer_step(&t, 8, 1e-3f, NULL, NULL, err, sizeof err);
    ck_assert_int_eq(rc, HP_ENUMERIC);
    ck_assert_msg(strstr(err, "step 2") && strstr(err, "layer 3 (dense 32->16)"), "%s", err);
    hp_trainer_fini(&t);

    /* an exploding learning rate is stopped, not run on as NaNs */
    const char *kv2[] = {"model=mlp", "optimizer=sgd", NULL};
    init_trainer(&t, kv2, 8);
    rc = 0;
    for (int s = 0; s < 50 && rc == 0; s++)
        rc = hp_trainer_step(&t, 8, 1e12f, NULL, NULL, err, sizeof err);
    ck_assert_int_eq(rc, HP_ENUMERIC);
    ck_assert_msg(strstr(err, "step ") && strstr(err, "layer "), "%s", err);
    hp_trainer_fini(&t);
}
END_TEST

START_TEST(test_same_seed_same_weights)
{
    const char *kv[] = {"model=mlp", "dropout=0.3", "batchnorm=1", "seed=5", NULL};
    const char *kv2[] = {"model=mlp", "dropout=0.3", "batchnorm=1", "seed=6", NULL};
    hp_trainer_t a, b, c;
    init_trainer(&a, kv, 16);
    init_trainer(&b, kv, 16);
    init_trainer(&c, kv2, 16);
    char err[512];
    for (int s = 0; s < 5; s++) {
        ck_assert(hp_trainer_step(&a, 16, 1e-3f, NULL, NULL, err, sizeof err) == 0);
        ck_assert(hp_trainer_step(&b, 16, 1e-3f, NULL, NULL, err, sizeof err) == 0);
        ck_assert(hp_trainer_step(&c, 16, 1e-3f, NULL, NULL, err, sizeof err) == 0);
    }
    size_t bytes = a.model.nparams * sizeof(float);
    ck_assert(memcmp(a.model.params, b.model.params, bytes) == 0);
    ck_assert(memcmp(a.model.bufs, b.model.bufs, a.model.nbufs * sizeof(float)) == 0);
    ck_assert(memcmp(a.model.params, c.model.params, bytes) != 0);
    hp_trainer_fini(&a);
    hp_trainer_fini(&b);
    hp_trainer_fini(&c);
}
END_TEST

START_TEST(test_init_scales)
{
    /* He normal for relu layers, Glorot normal for tanh layers */
    const char *kv[] = {"model=mlp", "hidden=512", NULL};
    const char *kv2[] = {"model=mlp", "hidden=512", "activation=tanh", NULL};
    for (int k = 0; k < 2; k++) {
        hp_trainer_t t;
        init_trainer(&t, k ? kv2 : kv, 4);
        hp_nn_op_t *op = &t.model.ops[0];
        double s2 = 0;
        for (size_t i = 0; i < op->plen[0]; i++)
            s2 += (double)op->param[0][i] * op->param[0][i];
        double sd = sqrt(s2 / (double)op->plen[0]);
        double want = k ? sqrt(2.0 / (784 + 512)) : sqrt(2.0 / 784);
        ck_assert_msg(fabs(sd / want - 1) < 0.02, "std %g want %g", sd, want);
        for (size_t i = 0; i < op->plen[1]; i++)
            ck_assert(op->param[1][i] == 0.0f);
        hp_trainer_fini(&t);
    }
}
END_TEST

/* the seed's bug 4: evaluation must not depend on the batch (batch norm
 * uses running statistics) nor on chance (dropout off), and hp_trainer_eval
 * must switch to that mode by itself */
START_TEST(test_eval_mode_is_batch_independent_and_deterministic)
{
    const char *kv[] = {"model=mlp", "hidden=32", "batchnorm=1", "dropout=0.5", NULL};
    hp_trainer_t t;
    init_trainer(&t, kv, 16);
    char err[512];
    for (int s = 0; s < 5; s++)
        ck_assert(hp_trainer_step(&t, 16, 1e-3f, NULL, NULL, err, sizeof err) == 0);
    size_t D = t.model.in_size, O = (size_t)t.nout;
    float first[10], again[10];
    /* sample 0 evaluated inside a batch of 16 ... */
    hp_data_gather(t.model.input, t.labels, NULL, &fm, fm_idx, 16, &fm_norm, NULL, NULL);
    int c;
    hp_trainer_eval(&t, 16, &c);
    memcpy(first, t.model.ops[t.model.nops - 1].out, sizeof(float) * O);
    /* ... and alone, and again: the same logits */
    memset(t.model.input + D, 0, sizeof(float) * D * 15);
    hp_trainer_eval(&t, 1, &c);
    memcpy(again, t.model.ops[t.model.nops - 1].out, sizeof(float) * O);
    for (size_t j = 0; j < O; j++)
        ck_assert_float_eq_tol(first[j], again[j], 1e-5);
    /* training mode does depend on the batch: the step after eval is
     * back in training mode on its own */
    hp_data_gather(t.model.input, t.labels, NULL, &fm, fm_idx, 16, &fm_norm, NULL, NULL);
    float before = t.model.ops[0].param[0][0];
    ck_assert(hp_trainer_step(&t, 16, 1e-3f, NULL, NULL, err, sizeof err) == 0);
    ck_assert(t.model.training == 1);
    ck_assert(t.model.ops[0].param[0][0] != before);
    hp_trainer_fini(&t);
}
END_TEST

START_TEST(test_model_shape_errors)
{
    hp_train_config_t cfg;
    hp_train_config_defaults(&cfg);
    set(&cfg, "model=lenet");
    hp_trainer_t t;
    char err[512];
    /* tabular data into a CNN is a shape error at build time, with words */
    int rc = hp_trainer_init(&t, &cfg, 5, 1, 1, 3, HP_TASK_CLASSIFY, err, sizeof err);
    ck_assert_int_eq(rc, HP_EINVAL);
    ck_assert_msg(strstr(err, "conv2d") && strstr(err, "image"), "%s", err);
    set(&cfg, "model=lstm");
    rc = hp_trainer_init(&t, &cfg, 5, 1, 1, 3, HP_TASK_CLASSIFY, err, sizeof err);
    ck_assert_int_eq(rc, HP_EINVAL);
    ck_assert_msg(strstr(err, "sequence"), "%s", err);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("nn_model");
    TCase *g = tcase_create("gradcheck");
    tcase_add_checked_fixture(g, setup, NULL);
    tcase_add_test(g, test_mlp_model_grad);
    tcase_add_test(g, test_lenet_model_grad);
    tcase_add_test(g, test_lstm_model_grad);
    tcase_add_test(g, test_arch_model_grad);
    tcase_add_test(g, test_deep_resnet_grad);
    tcase_add_test(g, test_model_shape_errors);
    suite_add_tcase(s, g);
    TCase *tc = tcase_create("train");
    tcase_add_checked_fixture(tc, load_fm, NULL);
    tcase_add_test(tc, test_init_scales);
    tcase_add_test(tc, test_no_allocation_in_a_step);
    tcase_add_test(tc, test_bf16_only_where_faster);
    tcase_add_test(tc, test_nan_guard_names_layer_and_step);
    tcase_add_test(tc, test_same_seed_same_weights);
    tcase_add_test(tc, test_eval_mode_is_batch_independent_and_deterministic);
    tcase_add_test(tc, test_overfit_one_batch_mlp);
    tcase_add_test(tc, test_overfit_one_batch_lenet);
    tcase_add_test(tc, test_overfit_one_batch_lstm);
    tcase_add_test(tc, test_overfit_one_batch_arch);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    hp_norm_fini(&fm_norm);
    hp_dataset_fini(&fm);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
