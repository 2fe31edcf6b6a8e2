/* Issue 18's engine parts: the multimodal model (gradient checks through
 * split and fuse, no allocation in a step), choosing a CSV's columns, the
 * worked example beating each modality alone, a sequence CSV read by the
 * sequence models (the LSTM learning what a linear model cannot), CORAL's
 * map and its effect on the darkened test set, and the error analysis of
 * a trained model. */
#include "coral.h"
#include "error_analysis.h"
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
#include <unistd.h>

static void setup(void)
{
    hp_nn_set_threads(1);
}

#define set mc_set

/* ---- gradient checks through the multimodal model ---- */

/* gc_check with the non-smooth points of relu and max pooling set aside:
 * where the central differences at eps and eps / 4 disagree a kink lies
 * within eps and the numeric gradient means nothing. Such entries are
 * skipped, and must stay rare (at most one in eight). */
static void kink_check(const char *what, float *x, size_t n, const float *analytic, void *ctx,
                       float eps, double atol, double rtol, size_t max)
{
    size_t stride = n > max ? n / max : 1, checked = 0, kinks = 0;
    int bad = 0;
    for (size_t i = 0; i < n; i += stride) {
        double num[2];
        for (int k = 0; k < 2; k++) {
            float e = k ? eps / 4 : eps, save = x[i];
            x[i] = save + e;
            double lp = mc_loss(ctx);
            x[i] = save - e;
            double lm = mc_loss(ctx);
            x[i] = save;
            num[k] = (lp - lm) / (2.0 * (double)e);
        }
        checked++;
        if (fabs(num[0] - num[1]) > atol + rtol * fmax(fabs(num[0]), fabs(num[1]))) {
            kinks++;
            continue;
        }
        double ana = analytic[i], tol = atol + rtol * fmax(fabs(num[0]), fabs(ana));
        if (!(fabs(num[0] - ana) <= tol) && bad++ < 5)
            fprintf(stderr, "%s[%zu]: numeric %.6g analytic %.6g\n", what, i, num[0], ana);
    }
    ck_assert_msg(bad == 0, "%s: %d gradient entries disagree", what, bad);
    ck_assert_msg(kinks * 8 <= checked, "%s: %zu of %zu entries at a kink", what, kinks, checked);
}

/* a (dim, 1, 1) sample whose first 1*6*6 values are the image */
static void multimodal_gradcheck(const char *const *kvs, int dim)
{
    hp_train_config_t cfg;
    hp_train_config_defaults(&cfg);
    set(&cfg, "model=multimodal");
    set(&cfg, "image_shape=1,6,6");
    set(&cfg, "batch_size=4");
    for (; *kvs; kvs++)
        set(&cfg, *kvs);
    hp_trainer_t t;
    char err[512];
    int c = dim == 36 ? 1 : dim, h = dim == 36 ? 6 : 1, w = dim == 36 ? 6 : 1;
    ck_assert_msg(hp_trainer_init(&t, &cfg, c, h, w, 3, HP_TASK_CLASSIFY, err, sizeof err) == 0,
                  "%s", err);
    ck_assert_int_eq(t.model.ops[0].kind, dim == 36 ? HP_NN_CONV2D : HP_NN_SPLIT);
    mc_t mc;
    mc_prepare(&t, &mc, 4, 7);
    int fused = 0;
    for (int i = 0; i < t.model.nops; i++) {
        hp_nn_op_t *op = &t.model.ops[i];
        fused |= op->kind == HP_NN_FUSE;
        for (int k = 0; k < op->nparam; k++) {
            char what[160];
            snprintf(what, sizeof what, "multimodal %s param %d", op->name, k);
            kink_check(what, op->param[k], op->plen[k], op->grad[k], &mc, 1e-3f, 2e-3, 1e-2, 40);
        }
    }
    ck_assert_int_eq(fused, dim != 36);
    hp_trainer_fini(&t);
}

START_TEST(test_multimodal_grad)
{
    const char *kv[] = {"conv1=2", "conv2=3", "fc1=5", "fc2=4", "hidden=3", NULL};
    multimodal_gradcheck(kv, 36); /* the image alone: no split, no fuse */
    multimodal_gradcheck(kv, 36 + 5); /* image and 5 features */
    const char *kv2[] = {"conv1=2", "conv2=2", "fc1=4", "fc2=4", "batchnorm=1", NULL};
    multimodal_gradcheck(kv2, 36 + 2);
}
END_TEST

START_TEST(test_multimodal_no_allocation_in_a_step)
{
    hp_train_config_t cfg;
    hp_train_config_defaults(&cfg);
    set(&cfg, "model=multimodal");
    set(&cfg, "image_shape=1,8,8");
    set(&cfg, "batch_size=16");
    set(&cfg, "batchnorm=1");
    hp_trainer_t t;
    char err[512];
    ck_assert_msg(hp_trainer_init(&t, &cfg, 64 + 4, 1, 1, 4, HP_TASK_CLASSIFY, err, sizeof err) ==
                      0,
                  "%s", err);
    hp_rng_t r;
    hp_rng_init(&r, 1, 1);
    gc_fill(&r, t.model.input, 16 * t.model.in_size, 1.0);
    for (int i = 0; i < 16; i++)
        t.labels[i] = i % 4;
    long before = nallocs;
    int rc = 0;
    for (int s = 0; s < 3; s++) {
        rc |= hp_trainer_step(&t, 16, 1e-3f, NULL, NULL, err, sizeof err);
        int c;
        hp_trainer_eval(&t, 16, &c);
    }
    long after = nallocs;
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_msg(after == before, "%ld allocations in 3 steps", after - before);
    hp_trainer_fini(&t);
}
END_TEST

/* ---- choosing a CSV's columns ---- */

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

static void dirs_setup(void)
{
    setup();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hp_test_modalities_%d", (int)getpid());
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", tmpdir, tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static void dirs_teardown(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_columns)
{
    FILE *f = fopen(tmp_path("c.csv"), "w");
    ck_assert_ptr_nonnull(f);
    fputs("a,px0,b,px1,px2,px3,y\n1,10,2,11,12,13,0\n3,20,4,21,22,23,1\n", f);
    fclose(f);
    hp_dataset_t ds = {0}, sel;
    char err[512];
    ck_assert_msg(hp_csv_load(&ds, tmp_path("c.csv"), "y", HP_TASK_CLASSIFY, err, sizeof err) == 0,
                  "%s", err);
    int img[3] = {1, 2, 2};
    /* both: image columns first in header order, then the rest */
    ck_assert_msg(hp_dataset_columns(&sel, &ds, "px*", img, NULL, err, sizeof err) == 0, "%s",
                  err);
    ck_assert_int_eq((int)sel.dim, 6);
    ck_assert_int_eq(sel.img_c * sel.img_h * sel.img_w, 4);
    ck_assert_int_eq(sel.c, 6);
    float want[6] = {20, 21, 22, 23, 3, 4};
    for (int j = 0; j < 6; j++)
        ck_assert_float_eq(sel.xf[6 + j], want[j]);
    ck_assert_str_eq(sel.feature_names[4], "a");
    hp_dataset_fini(&sel);
    /* the image alone has the image's shape */
    ck_assert(hp_dataset_columns(&sel, &ds, "px0,px1,px2,px3", img, "none", err, sizeof err) == 0);
    ck_assert_int_eq(sel.c * 100 + sel.h * 10 + sel.w, 122);
    hp_dataset_fini(&sel);
    /* features alone */
    ck_assert(hp_dataset_columns(&sel, &ds, NULL, img, "b", err, sizeof err) == 0);
    ck_assert_int_eq((int)sel.dim, 1);
    ck_assert_float_eq(sel.xf[1], 4);
    hp_dataset_fini(&sel);
    /* mistakes name the problem */
    ck_assert_int_eq(hp_dataset_columns(&sel, &ds, "px*", (int[3]){1, 3, 3}, NULL, err, sizeof err),
                     HP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "match 4 columns; image_shape 1,3,3 needs 9"));
    ck_assert_int_eq(hp_dataset_columns(&sel, &ds, "px*", img, "q*", err, sizeof err), HP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "feature_columns: 'q*' matches no column"));
    ck_assert_int_eq(hp_dataset_columns(&sel, &ds, "pix*", img, NULL, err, sizeof err), HP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "image_columns: 'pix*' matches no column"));
    hp_dataset_fini(&ds);
}
END_TEST

/* ---- the worked example: both modalities beat either ---- */

static double run_csv(const char *csv, const char *const *kvs, hp_ea_t *ea)
{
    hp_train_config_t cfg;
    hp_train_config_defaults(&cfg);
    char ds[600];
    snprintf(ds, sizeof ds, "dataset=csv:%s", csv);
    set(&cfg, ds);
    set(&cfg, "epochs=10");
    set(&cfg, "lr=3e-3");
    for (; *kvs; kvs++)
        set(&cfg, *kvs);
    cfg.errors = ea;
    hp_train_result_t res;
    char err[512];
    ck_assert_msg(hp_train_run(&cfg, NULL, NULL, &res, err, sizeof err) == 0, "%s", err);
    return res.test_error;
}

START_TEST(test_multimodal_example_needs_both)
{
    const char *src = getenv("HP_SOURCE_DIR");
    ck_assert_ptr_nonnull(src);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "python3 %s/examples/multimodal/make_data.py %s --rows 3000", src,
             tmp_path("mm.csv"));
    ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
    const char *csv = tmp_path("mm.csv");
    const char *both[] = {"model=multimodal", "image_columns=px*", "image_shape=1,8,8",
                          "feature_columns=f*", NULL};
    const char *image[] = {"model=multimodal", "image_columns=px*", "image_shape=1,8,8",
                           "feature_columns=none", NULL};
    const char *features[] = {"model=mlp", "feature_columns=f*", NULL};
    hp_ea_t ea;
    double eb = run_csv(csv, both, &ea);
    double ei = run_csv(csv, image, NULL), ef = run_csv(csv, features, NULL);
    fprintf(stderr, "test error: both %.4f, image alone %.4f, features alone %.4f\n", eb, ei, ef);
    /* four classes, each modality tells one of the two bits */
    ck_assert_msg(eb < 0.15, "both modalities: test error %.4f", eb);
    ck_assert_msg(ei > 0.35 && ef > 0.35, "one modality alone: %.4f %.4f", ei, ef);
    ck_assert(eb < ei - 0.2 && eb < ef - 0.2);
    /* and the test set was analysed: a CSV image's pixels come along */
    ck_assert_int_eq(ea.nclasses, 4);
    ck_assert_int_eq((int)ea.n, 600); /* test_size 0.2 of 3000 */
    ck_assert_int_eq(ea.c * 100 + ea.h * 10 + ea.w, 188);
    ck_assert_ptr_nonnull(ea.pixels);
    hp_ea_fini(&ea);
}
END_TEST

/* ---- a sequence CSV ---- */

/* n rows of T steps x 2 features, time-major (s0_0, s0_1, s1_0, ...): a
 * sine of random amplitude and phase plus noise in feature 0, noise in
 * feature 1; the class is its period, 8 or 3 steps. The mean of every
 * column is the same for both classes (the phase is uniform), so a
 * linear model of the raw values is at chance; the LSTM must follow one
 * step to the next. Deterministic (its own LCG). */
static double u01(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

static void write_sequences(const char *path, int n, int T)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("id", f);
    for (int t = 0; t < T; t++)
        fprintf(f, ",s%d_0,s%d_1", t, t);
    fputs(",label\n", f);
    uint64_t s = 12345;
    for (int i = 0; i < n; i++) {
        int label = u01(&s) < 0.5;
        double period = label ? 3 : 8, amp = 0.7 + 0.6 * u01(&s), phase = 2 * M_PI * u01(&s);
        fprintf(f, "%d", i);
        for (int t = 0; t < T; t++) {
            double a = amp * sin(2 * M_PI * t / period + phase) + 0.4 * (u01(&s) - 0.5);
            double b = u01(&s) - 0.5;
            fprintf(f, ",%.4f,%.4f", a, b);
        }
        fprintf(f, ",%d\n", label);
    }
    fclose(f);
}

static int run_sequence(const char *csv, const char *const *kvs, hp_train_result_t *res,
                        char *err, size_t errlen)
{
    hp_train_config_t cfg;
    hp_train_config_defaults(&cfg);
    char ds[600];
    snprintf(ds, sizeof ds, "dataset=csv:%s", csv);
    set(&cfg, ds);
    set(&cfg, "sequence_columns=s*");
    set(&cfg, "batch_size=32");
    set(&cfg, "seed=3");
    for (; *kvs; kvs++)
        set(&cfg, *kvs);
    return hp_train_run(&cfg, NULL, NULL, res, err, errlen);
}

/* the LSTM reads the CSV as T steps of F features and learns what a
 * linear model of the same values cannot */
START_TEST(test_lstm_learns_a_sequence_csv)
{
    const char *csv = tmp_path("seq.csv");
    write_sequences(csv, 800, 16);
    hp_train_result_t res;
    char err[512];
    const char *lstm[] = {"model=lstm", "sequence_shape=16,2", "hidden=24", "lr=1e-2",
                          "epochs=6", "baselines=1", NULL};
    ck_assert_msg(run_sequence(csv, lstm, &res, err, sizeof err) == 0, "%s", err);
    fprintf(stderr, "sequence CSV: lstm test error %.4f, linear baseline %.4f\n", res.test_error,
            res.baseline_linear_error);
    ck_assert_msg(res.test_error < 0.1, "lstm test error %.4f", res.test_error);
    ck_assert_msg(res.baseline_linear_error > 0.3, "linear baseline %.4f",
                  res.baseline_linear_error);
}
END_TEST

/* tcn and attention read the same (T, F), mlp flattens it; the image
 * models and a wrong count are refused with words */
START_TEST(test_sequence_csv_models_and_errors)
{
    const char *csv = tmp_path("seq.csv");
    write_sequences(csv, 200, 8);
    hp_train_result_t res;
    char err[512];
    static const char *const ok[][5] = {
        {"model=tcn", "sequence_shape=8,2", "channels=8", "blocks=2", NULL},
        {"model=attention", "sequence_shape=8,2", "channels=8", "blocks=1", NULL},
        {"model=mlp", "sequence_shape=8,2", "hidden=8", NULL},
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(ok); i++) {
        const char *kv[7] = {"epochs=1", NULL};
        for (int k = 0; ok[i][k]; k++)
            kv[k + 1] = ok[i][k];
        ck_assert_msg(run_sequence(csv, kv, &res, err, sizeof err) == 0, "%s: %s", ok[i][0], err);
        ck_assert(isfinite(res.test_error));
    }
    /* T x F must be the columns' count */
    const char *bad_shape[] = {"model=lstm", "sequence_shape=8,3", "epochs=1", NULL};
    ck_assert_int_eq(run_sequence(csv, bad_shape, &res, err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "sequence_columns 's*' match 16 columns; sequence_shape [8, 3] "
                              "needs T x F = 24"),
                  "%s", err);
    const char *lenet[] = {"model=lenet", "sequence_shape=8,2", "epochs=1", NULL};
    ck_assert_int_eq(run_sequence(csv, lenet, &res, err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "model lenet reads images, not a sequence"), "%s", err);
    const char *no_shape[] = {"model=lstm", "epochs=1", NULL};
    ck_assert_int_eq(run_sequence(csv, no_shape, &res, err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "sequence_columns needs sequence_shape T,F"), "%s", err);
    const char *with_features[] = {"model=lstm", "sequence_shape=8,2", "feature_columns=id",
                                   "epochs=1", NULL};
    ck_assert_int_eq(run_sequence(csv, with_features, &res, err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "cannot be combined with feature_columns"), "%s", err);
}
END_TEST

/* ---- CORAL ---- */

START_TEST(test_coral_matches_the_target_moments)
{
    /* source: 3 correlated features; target: scaled, rotated, moved */
    enum { N = 3000, D = 3 };
    hp_dataset_t s = {0}, t = {0};
    s.n = t.n = N;
    s.dim = t.dim = D;
    s.c = t.c = D;
    s.h = s.w = t.h = t.w = 1;
    s.xf = malloc(sizeof(float) * N * D);
    t.xf = malloc(sizeof(float) * N * D);
    uint32_t *idx = malloc(sizeof(uint32_t) * N);
    hp_rng_t r;
    hp_rng_init(&r, 9, 0);
    for (int i = 0; i < N; i++) {
        idx[i] = (uint32_t)i;
        double a = hp_rng_normal(&r), b = hp_rng_normal(&r), c = hp_rng_normal(&r);
        s.xf[i * D + 0] = (float)(2 * a);
        s.xf[i * D + 1] = (float)(a + b);
        s.xf[i * D + 2] = (float)(0.5 * c);
        a = hp_rng_normal(&r), b = hp_rng_normal(&r), c = hp_rng_normal(&r);
        t.xf[i * D + 0] = (float)(0.4 * a + 1);
        t.xf[i * D + 1] = (float)(3 * b - 2);
        t.xf[i * D + 2] = (float)(c + 0.8 * a);
    }
    hp_norm_t nm;
    char err[256];
    ck_assert(hp_norm_fit(&nm, &s, idx, N, HP_NORM_NONE, err, sizeof err) == 0);
    hp_coral_t co;
    ck_assert_msg(hp_coral_fit(&co, &s, idx, N, &t, idx, N, &nm, N, err, sizeof err) == 0, "%s",
                  err);
    /* map the source (HP_CORAL_SAMPLES of it were fitted on) and compare */
    float *x = malloc(sizeof(float) * N * D);
    memcpy(x, s.xf, sizeof(float) * N * D);
    hp_coral_apply(&co, x, N);
    double ms[D] = {0}, mt[D] = {0};
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++) {
            ms[j] += x[i * D + j] / N;
            mt[j] += t.xf[i * D + j] / N;
        }
    for (int j = 0; j < D; j++)
        ck_assert_msg(fabs(ms[j] - mt[j]) < 1e-3, "mean %d: %g vs %g", j, ms[j], mt[j]);
    /* the map whitens the regularized source covariance and re-colours it
     * with the target's: A^T (C_s + I) A = C_t + I */
    double cs[D][D], ct[D][D], m0[D], m1[D];
    for (int j = 0; j < D; j++) {
        m0[j] = m1[j] = 0;
        for (int i = 0; i < N; i++) {
            m0[j] += s.xf[i * D + j] / N;
            m1[j] += t.xf[i * D + j] / N;
        }
    }
    for (int a = 0; a < D; a++)
        for (int b = 0; b < D; b++) {
            cs[a][b] = ct[a][b] = a == b;
            for (int i = 0; i < N; i++) {
                cs[a][b] += (s.xf[i * D + a] - m0[a]) * (s.xf[i * D + b] - m0[b]) / (N - 1);
                ct[a][b] += (t.xf[i * D + a] - m1[a]) * (t.xf[i * D + b] - m1[b]) / (N - 1);
            }
        }
    for (int a = 0; a < D; a++)
        for (int b = 0; b < D; b++) {
            double v = 0;
            for (int i = 0; i < D; i++)
                for (int j = 0; j < D; j++)
                    v += co.A[i * D + a] * cs[i][j] * co.A[j * D + b];
            ck_assert_msg(fabs(v - ct[a][b]) < 1e-3 * (1 + fabs(ct[a][b])), "(%d,%d): %g vs %g", a,
                          b, v, ct[a][b]);
        }
    free(x);
    hp_coral_fini(&co);
    hp_norm_fini(&nm);
    free(idx);
    hp_dataset_fini(&s);
    hp_dataset_fini(&t);
}
END_TEST

static void fashion(hp_train_config_t *cfg, const char *adapt)
{
    hp_train_config_defaults(cfg);
    set(cfg, "train_size=6000");
    set(cfg, "epochs=2");
    set(cfg, "lr=1e-3");
    set(cfg, "shift=darken");
    char a[64];
    snprintf(a, sizeof a, "adapt=%s", adapt);
    set(cfg, a);
}

START_TEST(test_coral_shrinks_the_darkened_shift)
{
    hp_train_config_t cfg;
    hp_train_result_t with, without;
    char err[512];
    fashion(&cfg, "none");
    ck_assert_msg(hp_train_run(&cfg, NULL, NULL, &without, err, sizeof err) == 0, "%s", err);
    fashion(&cfg, "coral");
    ck_assert_msg(hp_train_run(&cfg, NULL, NULL, &with, err, sizeof err) == 0, "%s", err);
    double sw = with.shift_val_error - with.last.val_error;
    double so = without.shift_val_error - without.last.val_error;
    fprintf(stderr, "distribution shift: %.4f without CORAL, %.4f with\n", so, sw);
    ck_assert_msg(so > 0.05, "darkening should cost the unadapted model (%.4f)", so);
    ck_assert_msg(sw < so / 2, "CORAL: %.4f, without: %.4f", sw, so);
    /* coral without a target distribution is refused, naming what to set */
    hp_train_config_defaults(&cfg);
    set(&cfg, "train_size=500");
    set(&cfg, "adapt=coral");
    ck_assert_int_eq(hp_train_run(&cfg, NULL, NULL, &with, err, sizeof err), HP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "set shift"));
}
END_TEST

/* ---- error analysis of a trained classifier ---- */

START_TEST(test_error_analysis_of_fashion_mnist)
{
    hp_train_config_t cfg;
    hp_train_config_defaults(&cfg);
    set(&cfg, "train_size=3000");
    set(&cfg, "epochs=1");
    set(&cfg, "lr=1e-3");
    hp_ea_t ea;
    cfg.errors = &ea;
    hp_train_result_t res;
    char err[512];
    ck_assert_msg(hp_train_run(&cfg, NULL, NULL, &res, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(ea.nclasses, 10);
    ck_assert_int_eq((int)ea.n, 10000);
    uint64_t right = 0, total = 0;
    for (int i = 0; i < 10; i++)
        for (int j = 0; j < 10; j++) {
            total += ea.confusion[i * 10 + j];
            right += i == j ? ea.confusion[i * 10 + j] : 0;
        }
    ck_assert_int_eq((int)total, 10000);
    /* the matrix is the test error */
    ck_assert_msg(fabs(1.0 - (double)right / 10000.0 - res.test_error) < 1e-9, "%g vs %g",
                  1.0 - (double)right / 10000.0, res.test_error);
    ck_assert_int_eq((int)ea.nworst, HP_EA_WORST);
    for (size_t i = 0; i + 1 < ea.nworst; i++)
        ck_assert(ea.worst[i].loss >= ea.worst[i + 1].loss);
    ck_assert(ea.worst[0].label != ea.worst[0].predicted);
    ck_assert_int_eq(ea.c * 100 + ea.h, 128);
    /* the pixels are the test file's image at that index */
    hp_dataset_t tr = {0}, te = {0};
    ck_assert(hp_fashion_mnist_load(&tr, &te, NULL, err, sizeof err) == 0);
    for (size_t i = 0; i < ea.nworst; i++) {
        ck_assert_int_eq(te.y[ea.worst[i].index], ea.worst[i].label);
        ck_assert(memcmp(hp_ea_pixels(&ea, i), te.x8 + (size_t)ea.worst[i].index * 784, 784) == 0);
    }
    hp_dataset_fini(&tr);
    hp_dataset_fini(&te);
    hp_ea_fini(&ea);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("modalities");
    TCase *g = tcase_create("multimodal");
    tcase_add_checked_fixture(g, setup, NULL);
    tcase_add_test(g, test_multimodal_grad);
    tcase_add_test(g, test_multimodal_no_allocation_in_a_step);
    suite_add_tcase(s, g);
    TCase *d = tcase_create("data");
    tcase_add_checked_fixture(d, dirs_setup, dirs_teardown);
    tcase_add_test(d, test_columns);
    tcase_add_test(d, test_multimodal_example_needs_both);
    tcase_add_test(d, test_lstm_learns_a_sequence_csv);
    tcase_add_test(d, test_sequence_csv_models_and_errors);
    suite_add_tcase(s, d);
    TCase *c = tcase_create("coral");
    tcase_add_checked_fixture(c, setup, NULL);
    tcase_add_test(c, test_coral_matches_the_target_moments);
    tcase_add_test(c, test_coral_shrinks_the_darkened_shift);
    tcase_add_test(c, test_error_analysis_of_fashion_mnist);
    suite_add_tcase(s, c);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
