/* Training runs end to end: the settings table, optimizers and schedules,
 * hp_train_run on Fashion-MNIST subsets and on CSV, callbacks that stop,
 * same seed -> same metrics. */
#include "train.h"

#include "err.h"
#include "gemm.h"
#include "trial_settings.h"

#include "hp_check.h"

#include <check.h>
#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char err[1024];

static void setup(void)
{
    hp_nn_set_threads(1);
}

static void set(hp_train_config_t *cfg, const char *kv)
{
    ck_assert_msg(hp_train_config_set_kv(cfg, kv, err, sizeof err) == 0, "%s", err);
}

START_TEST(test_config_table)
{
    hp_train_config_t c;
    hp_train_config_defaults(&c);
    /* the seed's defaults */
    ck_assert_str_eq(c.model, "mlp");
    ck_assert_str_eq(c.optimizer, "adam");
    ck_assert_double_eq(c.lr, 3e-4);
    ck_assert_str_eq(c.activation, "relu");
    ck_assert_int_eq(c.nhidden, 0);
    ck_assert_double_eq(c.weight_decay, 0);
    ck_assert_double_eq(c.dropout, 0);
    ck_assert_str_eq(c.normalize, "standard");
    ck_assert_int_eq(hp_train_config_set(&c, "lrr", "1", err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "unknown hyperparameter 'lrr' (known: model, dataset") &&
                      strstr(err, " lr, ") && strstr(err, "hidden"),
                  "%s", err);
    ck_assert_int_eq(hp_train_config_set_kv(&c, "lr=abc", err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "lr: not a number: 'abc'"), "%s", err);
    ck_assert_int_eq(hp_train_config_set_kv(&c, "optimizer=rmsprop", err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "optimizer: unknown value 'rmsprop' (choose adam|adamw|sgd|momentum)"),
                  "%s", err);
    ck_assert_int_eq(hp_train_config_set_kv(&c, "epochs=0", err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "epochs: must be in [1,"), "%s", err);
    ck_assert_int_eq(hp_train_config_set_kv(&c, "batch_size=1.5", err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "must be an integer"), "%s", err);
    ck_assert_int_eq(hp_train_config_set_kv(&c, "lr", err, sizeof err), HP_EINVAL);
    set(&c, "hidden=512,256");
    ck_assert_int_eq(c.nhidden, 2);
    ck_assert_int_eq(c.hidden[1], 256);
    set(&c, "hidden=[64, 32, 16]"); /* JSON list from a study spec */
    ck_assert_int_eq(c.nhidden, 3);
    ck_assert_int_eq(c.hidden[2], 16);
    set(&c, "batchnorm=true");
    ck_assert_int_eq(c.batchnorm, 1);
    set(&c, "seed=18446744073709551615");
    ck_assert(c.seed == UINT64_MAX);
}
END_TEST

/* The engine stores every setting of the shared table (common/
 * trial_settings.def) in a field of its own, and reads values with the
 * table's parser: the spec's words for normalize included. */
START_TEST(test_config_follows_the_shared_table)
{
    hp_train_config_t c;
    hp_train_config_defaults(&c);
    set(&c, "normalize=standardize");
    ck_assert_str_eq(c.normalize, "standard");
    set(&c, "normalize=centered");
    ck_assert_str_eq(c.normalize, "center");
    set(&c, "normalize=unit");
    ck_assert_str_eq(c.normalize, "unit");
    char label[80];
    memset(label, 'y', sizeof label - 1);
    label[sizeof label - 1] = '\0';
    ck_assert_int_eq(hp_train_config_set(&c, "label", label, err, sizeof err), HP_EINVAL);
    ck_assert_str_eq(err, "label: value too long (max 63 characters)");
    label[63] = '\0';
    set(&c, "label=yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
    ck_assert_str_eq(c.label, label);
    ck_assert_int_eq(hp_train_config_set(&c, "hidden", "1,2,3,4,5,6,7,8,9", err, sizeof err),
                     HP_EINVAL);
    ck_assert_str_eq(err, "hidden: at most 8 layers");

    /* every setting takes a value other than its default and stores it in
     * bytes of its own: no two settings share a field */
    size_t lo[64], hi[64];
    ck_assert_uint_le(hp_trial_settings_n, HP_ARRAY_LEN(lo));
    for (size_t i = 0; i < hp_trial_settings_n; i++) {
        const hp_trial_setting_t *s = &hp_trial_settings[i];
        char v[64];
        switch (s->type) {
        case HP_TS_STRING:
            if (s->choices) /* the last choice, which no default is */
                snprintf(v, sizeof v, "%s", strrchr(s->choices, '|') + 1);
            else
                snprintf(v, sizeof v, "x");
            break;
        case HP_TS_BOOL:
            snprintf(v, sizeof v, "%s", strcmp(s->def, "1") == 0 ? "0" : "1");
            break;
        case HP_TS_U64:
            snprintf(v, sizeof v, "12345");
            break;
        case HP_TS_INTLIST:
            snprintf(v, sizeof v, "3,4");
            break;
        default:
            snprintf(v, sizeof v, "%.17g", atof(s->def) == s->hi ? s->lo : s->hi);
            break;
        }
        hp_train_config_t a, b;
        hp_train_config_defaults(&a);
        hp_train_config_defaults(&b);
        ck_assert_msg(hp_train_config_set(&b, s->name, v, err, sizeof err) == 0, "%s=%s: %s",
                      s->name, v, err);
        lo[i] = sizeof a;
        hi[i] = 0;
        for (size_t k = 0; k < sizeof a; k++)
            if (((unsigned char *)&a)[k] != ((unsigned char *)&b)[k]) {
                lo[i] = k < lo[i] ? k : lo[i];
                hi[i] = k + 1;
            }
        ck_assert_msg(hi[i] > 0, "%s=%s changed nothing", s->name, v);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(hi[i] <= lo[j] || hi[j] <= lo[i], "%s and %s share bytes", s->name,
                          hp_trial_settings[j].name);
    }
}
END_TEST

START_TEST(test_optimizers_match_hand_computation)
{
    float p[2], g[2] = {0.5f, -2.0f};
    hp_opt_t o;
    hp_opt_config_t c = {HP_OPT_SGD, 0.9f, 0.9f, 0.999f, 1e-8f, 0.1f};
    /* SGD with L2: p -= lr (g + wd p) */
    p[0] = 1, p[1] = 1;
    ck_assert(hp_opt_init(&o, &c, 2, err, sizeof err) == 0);
    hp_opt_step(&o, p, g, 0.1f);
    ck_assert_float_eq_tol(p[0], 1 - 0.1f * (0.5f + 0.1f), 1e-7);
    hp_opt_fini(&o);
    /* momentum: v1 = g, v2 = 0.9 v1 + g */
    c.kind = HP_OPT_MOMENTUM, c.weight_decay = 0;
    p[0] = 1, p[1] = 1;
    hp_opt_init(&o, &c, 2, err, sizeof err);
    hp_opt_step(&o, p, g, 0.1f);
    hp_opt_step(&o, p, g, 0.1f);
    ck_assert_float_eq_tol(p[1], 1 + 0.1f * 2 + 0.1f * (0.9f * 2 + 2), 1e-6);
    hp_opt_fini(&o);
    /* Adam's first step moves every parameter by lr (bias correction) */
    c.kind = HP_OPT_ADAM;
    p[0] = 1, p[1] = 1;
    hp_opt_init(&o, &c, 2, err, sizeof err);
    hp_opt_step(&o, p, g, 0.01f);
    ck_assert_float_eq_tol(p[0], 0.99f, 1e-6);
    ck_assert_float_eq_tol(p[1], 1.01f, 1e-6);
    hp_opt_fini(&o);
    /* AdamW decays the weight outside the adaptive step */
    c.kind = HP_OPT_ADAMW, c.weight_decay = 0.5f;
    p[0] = 1, p[1] = 1;
    hp_opt_init(&o, &c, 2, err, sizeof err);
    hp_opt_step(&o, p, g, 0.01f);
    ck_assert_float_eq_tol(p[0], 1 - 0.01f * 0.5f - 0.01f, 1e-6);
    hp_opt_fini(&o);
    /* clipping by global norm */
    float gg[2] = {3, 4};
    ck_assert_double_eq_tol(hp_opt_clip(gg, 2, 1.0f), 5.0, 1e-9);
    ck_assert_float_eq_tol(gg[0], 0.6f, 1e-5);
    ck_assert_float_eq_tol(gg[1], 0.8f, 1e-5);
    ck_assert_double_eq(hp_opt_clip(gg, 2, 0.0f), 0.0); /* 0 = off: no pass at all */
    ck_assert_float_eq_tol(gg[0], 0.6f, 1e-5);
    /* the update reports a non-finite gradient */
    float bad[2] = {0.1f, INFINITY};
    c.kind = HP_OPT_ADAM;
    hp_opt_init(&o, &c, 2, err, sizeof err);
    ck_assert_int_eq(hp_opt_step(&o, p, g, 0.01f), 0);
    ck_assert_int_eq(hp_opt_step(&o, p, bad, 0.01f), 1);
    hp_opt_fini(&o);
}
END_TEST

/* the vector blocks and the tail agree with the scalar formulas for every
 * optimizer, over a length that is neither a multiple of 8 nor of the
 * zeroing variant's chunk; hp_opt_step_zero updates exactly as
 * hp_opt_step and leaves zeros, and on a non-finite gradient keeps the
 * gradients from its chunk on */
START_TEST(test_optimizers_blocked_and_zeroing)
{
    enum { N = 10001 };
    static float p[N], q[N], r[N], g[N], h[N], m[N], v[N];
    for (int kind = HP_OPT_SGD; kind <= HP_OPT_ADAMW; kind++) {
        const float lr = 0.01f, wd = 0.01f, mu = 0.9f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
        hp_opt_config_t c = {(hp_opt_kind_t)kind, mu, b1, b2, eps, wd};
        hp_opt_t o, o2;
        ck_assert(hp_opt_init(&o, &c, N, err, sizeof err) == 0);
        ck_assert(hp_opt_init(&o2, &c, N, err, sizeof err) == 0);
        for (int i = 0; i < N; i++) {
            p[i] = q[i] = r[i] = 0.001f * (float)(i % 97) - 0.05f;
            m[i] = v[i] = 0.0f;
        }
        for (int t = 1; t <= 3; t++) {
            for (int i = 0; i < N; i++)
                g[i] = h[i] = 0.01f * (float)((i * 7 + t) % 13) - 0.06f;
            ck_assert_int_eq(hp_opt_step(&o, p, g, lr), 0);
            ck_assert_int_eq(hp_opt_step_zero(&o2, q, h, lr), 0);
            float bc1 = 1.0f - powf(b1, (float)t), bc2 = 1.0f - powf(b2, (float)t);
            for (int i = 0; i < N; i++) {
                /* the reference: one parameter at a time */
                float gi = g[i];
                if (kind == HP_OPT_SGD) {
                    r[i] -= lr * (gi + wd * r[i]);
                } else if (kind == HP_OPT_MOMENTUM) {
                    gi += wd * r[i];
                    m[i] = t == 1 ? gi : mu * m[i] + gi;
                    r[i] -= lr * m[i];
                } else {
                    if (kind == HP_OPT_ADAMW)
                        r[i] -= lr * wd * r[i];
                    else
                        gi += wd * r[i];
                    m[i] = b1 * m[i] + (1 - b1) * gi;
                    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                    r[i] -= lr / bc1 * m[i] / (sqrtf(v[i]) / sqrtf(bc2) + eps);
                }
                ck_assert_msg(fabsf(p[i] - r[i]) <= 1e-6f, "optimizer %d step %d param %d: %g, want %g",
                              kind, t, i, (double)p[i], (double)r[i]);
                ck_assert_float_eq(p[i], q[i]);
                ck_assert_float_eq(h[i], 0.0f);
            }
        }
        hp_opt_fini(&o);
        hp_opt_fini(&o2);
    }
    /* a NaN in the third chunk: the first two are updated and zeroed,
     * the rest of the gradients kept for the diagnosis */
    hp_opt_config_t c = {HP_OPT_ADAM, 0.9f, 0.9f, 0.999f, 1e-8f, 0.0f};
    hp_opt_t o;
    ck_assert(hp_opt_init(&o, &c, N, err, sizeof err) == 0);
    for (int i = 0; i < N; i++)
        h[i] = 1.0f, q[i] = 0.0f;
    h[9000] = NAN;
    ck_assert_int_eq(hp_opt_step_zero(&o, q, h, 0.01f), 1);
    ck_assert_float_eq(h[0], 0.0f);
    ck_assert_float_eq(h[8191], 0.0f);
    ck_assert_float_eq(h[8192], 1.0f);
    ck_assert_float_eq(h[N - 1], 1.0f);
    ck_assert(isnan(h[9000]));
    hp_opt_fini(&o);
    /* every optimizer flags NaN and both infinities wherever they sit (the
     * vectorised body, the tail), and no finite value, however large */
    const float bad[] = {NAN, INFINITY, -INFINITY}, fine[] = {FLT_MAX, -FLT_MAX, 0.0f};
    const int at[] = {0, 17, 4095, N - 1};
    for (int kind = HP_OPT_SGD; kind <= HP_OPT_ADAMW; kind++) {
        c.kind = (hp_opt_kind_t)kind;
        for (size_t b = 0; b < HP_ARRAY_LEN(bad); b++)
            for (size_t a = 0; a < HP_ARRAY_LEN(at); a++) {
                ck_assert(hp_opt_init(&o, &c, N, err, sizeof err) == 0);
                for (int i = 0; i < N; i++)
                    g[i] = 0.5f, p[i] = 0.0f;
                g[at[a]] = fine[b];
                ck_assert_msg(hp_opt_step(&o, p, g, 0.01f) == 0, "optimizer %d: %g at %d flagged",
                              kind, (double)fine[b], at[a]);
                g[at[a]] = bad[b];
                ck_assert_msg(hp_opt_step(&o, p, g, 0.01f) == 1, "optimizer %d: %g at %d missed",
                              kind, (double)bad[b], at[a]);
                hp_opt_fini(&o);
            }
    }
}
END_TEST

START_TEST(test_schedules)
{
    hp_sched_t s = {HP_SCHED_CONSTANT, 0.1f, 2, 0.5f, 100};
    ck_assert_float_eq(hp_opt_schedule_lr(&s, 7, 70), 0.1f);
    s.kind = HP_SCHED_STEP;
    ck_assert_float_eq_tol(hp_opt_schedule_lr(&s, 1, 10), 0.1f, 1e-7);
    ck_assert_float_eq_tol(hp_opt_schedule_lr(&s, 2, 20), 0.05f, 1e-7);
    ck_assert_float_eq_tol(hp_opt_schedule_lr(&s, 5, 50), 0.025f, 1e-7);
    s.kind = HP_SCHED_COSINE;
    ck_assert_float_eq_tol(hp_opt_schedule_lr(&s, 0, 0), 0.1f, 1e-7);
    ck_assert_float_eq_tol(hp_opt_schedule_lr(&s, 0, 50), 0.05f, 1e-7);
    ck_assert_float_eq_tol(hp_opt_schedule_lr(&s, 0, 100), 0.0f, 1e-7);
}
END_TEST

typedef struct {
    int calls;
    int stop_after;
    hp_train_epoch_t last;
} cb_state;

static int on_epoch(const hp_train_epoch_t *m, void *data)
{
    cb_state *s = data;
    s->calls++;
    s->last = *m;
    ck_assert_int_eq(m->epoch, s->calls);
    return s->stop_after && s->calls >= s->stop_after;
}

static void small_fm(hp_train_config_t *c)
{
    hp_train_config_defaults(c);
    set(c, "train_size=2000");
    set(c, "val_size=500");
    set(c, "epochs=2");
    set(c, "lr=1e-3");
}

START_TEST(test_run_fashion_mnist_mlp)
{
    hp_train_config_t c;
    small_fm(&c);
    cb_state s = {0};
    hp_train_result_t r;
    ck_assert_msg(hp_train_run(&c, on_epoch, &s, &r, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(s.calls, 2);
    ck_assert_int_eq(r.epochs_done, 2);
    ck_assert_uint_eq(r.ntrain, 2000);
    ck_assert_uint_eq(r.nval, 500);
    ck_assert_uint_eq(r.ntest, 10000);
    ck_assert_int_eq(r.steps, 2 * 16); /* ceil(2000 / 128) per epoch */
    ck_assert(s.last.val_loss > 0 && s.last.val_loss < 1.0);
    ck_assert(s.last.train_error >= 0 && s.last.train_error < 0.4);
    ck_assert_double_eq_tol(s.last.lr, 1e-3, 1e-9);
    ck_assert(s.last.samples_per_sec > 0);
    ck_assert_msg(r.test_error < 0.3, "test error %g", r.test_error);
    ck_assert_uint_eq(r.nparams, 784 * 256 + 256 * 10 + 256 + 16); /* 64-byte aligned tensors */
}
END_TEST

START_TEST(test_run_same_seed_same_metrics)
{
    hp_train_config_t c;
    small_fm(&c);
    set(&c, "epochs=1");
    set(&c, "dropout=0.2");
    set(&c, "augment_shift=2");
    set(&c, "augment_flip=1");
    hp_train_result_t a, b, d;
    ck_assert_msg(hp_train_run(&c, NULL, NULL, &a, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(hp_train_run(&c, NULL, NULL, &b, err, sizeof err) == 0, "%s", err);
    ck_assert(a.last.train_loss == b.last.train_loss);
    ck_assert(a.last.val_loss == b.last.val_loss);
    ck_assert(a.test_loss == b.test_loss);
    c.stream = 1; /* another trial of the same study */
    ck_assert_msg(hp_train_run(&c, NULL, NULL, &d, err, sizeof err) == 0, "%s", err);
    ck_assert(a.last.val_loss != d.last.val_loss);
}
END_TEST

/* the final train_loss / train_error are the final model's on the training
 * split in evaluation mode: with the weights held still (lr 0) and nothing
 * that differs between training and evaluation, they are the epoch's
 * running averages exactly; with dropout they are what the model scores
 * without it, below the running average the dropped-out passes scored */
START_TEST(test_run_final_train_error_is_evaluated)
{
    hp_train_config_t c;
    small_fm(&c);
    set(&c, "epochs=1");
    set(&c, "lr=0");
    hp_train_result_t r;
    ck_assert_msg(hp_train_run(&c, NULL, NULL, &r, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_lt(r.ntrain, HP_TRAIN_FINAL_EVAL); /* all of it evaluated */
    ck_assert_double_eq(r.final_train_error, r.last.train_error);
    ck_assert_double_eq_tol(r.final_train_loss, r.last.train_loss, 1e-5);
    small_fm(&c);
    set(&c, "dropout=0.5");
    ck_assert_msg(hp_train_run(&c, NULL, NULL, &r, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(r.final_train_error < r.last.train_error - 0.02,
                  "without dropout %g, running average with it %g", r.final_train_error,
                  r.last.train_error);
    ck_assert(r.final_train_loss < r.last.train_loss);
}
END_TEST

START_TEST(test_run_callback_stops)
{
    hp_train_config_t c;
    small_fm(&c);
    set(&c, "epochs=5");
    set(&c, "model=lenet");
    set(&c, "max_steps=3"); /* keep the test fast: 3 steps per "epoch" budget */
    cb_state s = {.stop_after = 1};
    hp_train_result_t r;
    int rc = hp_train_run(&c, on_epoch, &s, &r, err, sizeof err);
    ck_assert_int_eq(rc, HP_ECANCELED);
    ck_assert_int_eq(s.calls, 1);
    ck_assert_int_eq(r.epochs_done, 1);
    ck_assert_int_eq(r.steps, 3);
    ck_assert(isnan(r.test_error));
    ck_assert_msg(strstr(err, "stopped after epoch 1"), "%s", err);
}
END_TEST

/* sets the cancel flag from the epoch callback but does not ask to stop:
 * the flag alone must stop the run at the next step */
static int set_flag(const hp_train_epoch_t *m, void *data)
{
    (void)m;
    atomic_store((_Atomic int *)data, 1);
    return 0;
}

START_TEST(test_run_cancel_flag_stops_within_a_step)
{
    hp_train_config_t c;
    small_fm(&c);
    set(&c, "epochs=3");
    static _Atomic int flag;
    atomic_store(&flag, 0);
    c.cancel = &flag;
    hp_train_result_t r;
    int rc = hp_train_run(&c, set_flag, (void *)&flag, &r, err, sizeof err);
    ck_assert_int_eq(rc, HP_ECANCELED);
    ck_assert_int_eq(r.epochs_done, 1);
    ck_assert_int_eq(r.steps, 16); /* epoch 2 never took a step */
    ck_assert_msg(strstr(err, "cancelled in epoch 2 after step 16"), "%s", err);
    atomic_store(&flag, 1); /* already set: no step at all */
    rc = hp_train_run(&c, NULL, NULL, &r, err, sizeof err);
    ck_assert_int_eq(rc, HP_ECANCELED);
    ck_assert_int_eq(r.epochs_done, 0);
}
END_TEST

START_TEST(test_run_errors)
{
    hp_train_config_t c;
    hp_train_config_defaults(&c);
    hp_train_result_t r;
    set(&c, "dataset=cifar");
    ck_assert_int_eq(hp_train_run(&c, NULL, NULL, &r, err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "unknown dataset 'cifar'"), "%s", err);
    set(&c, "dataset=csv:/nonexistent/x.csv");
    ck_assert_int_eq(hp_train_run(&c, NULL, NULL, &r, err, sizeof err), HP_ENOENT);
    ck_assert_msg(strstr(err, "/nonexistent/x.csv: cannot open"), "%s", err);
    hp_train_config_defaults(&c);
    set(&c, "data_dir=/nonexistent");
    ck_assert_int_eq(hp_train_run(&c, NULL, NULL, &r, err, sizeof err), HP_ENOENT);
    hp_train_config_defaults(&c);
    set(&c, "train_size=70000");
    ck_assert_int_eq(hp_train_run(&c, NULL, NULL, &r, err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "train_size 70000"), "%s", err);
}
END_TEST

static void write_csv(const char *p, int n, int classify)
{
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "a,b,c,target\n");
    hp_rng_t r;
    hp_rng_init(&r, 9, 0);
    for (int i = 0; i < n; i++) {
        double a = hp_rng_normal(&r) * 10 + 50, b = hp_rng_normal(&r), cc = hp_rng_uniform(&r);
        double y = 0.2 * (a - 50) - b + 0.5;
        if (classify)
            fprintf(f, "%g,%g,%g,%d\n", a, b, cc, y > 0.5 ? 1 : 0);
        else
            fprintf(f, "%g,%g,%g,%g\n", a, b, cc, y + 0.05 * hp_rng_normal(&r));
    }
    fclose(f);
}

START_TEST(test_run_csv_regression_and_classification)
{
    char p[256], ds[300];
    snprintf(p, sizeof p, "/tmp/hp_test_train_%d.csv", (int)getpid());
    snprintf(ds, sizeof ds, "dataset=csv:%s", p);
    write_csv(p, 600, 0);
    hp_train_config_t c;
    hp_train_config_defaults(&c);
    set(&c, ds);
    set(&c, "task=regression");
    set(&c, "label=target");
    set(&c, "hidden=16");
    set(&c, "lr=1e-2");
    set(&c, "batch_size=32");
    set(&c, "epochs=30");
    hp_train_result_t r;
    ck_assert_msg(hp_train_run(&c, NULL, NULL, &r, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(r.ntest, 120); /* test_size 0.2 */
    ck_assert_msg(r.test_error < 0.2, "test RMSE %g (targets have std ~1.4)", r.test_error);
    ck_assert(isnan(r.baseline_linear_error));
    /* RMSE ~0.1 on targets with std ~1.4: the predictions on the
     * validation split go with the targets (r = sqrt(1 - 0.01/2) ~ 0.997) */
    ck_assert_msg(r.val_pred_corr > 0.98 && r.val_pred_corr <= 1.0, "val_pred_corr %g",
                  r.val_pred_corr);
    ck_assert(isnan(r.val_chance_error));
    set(&c, "baselines=1"); /* regression: the mean predictor and linear regression, RMSE */
    ck_assert_msg(hp_train_run(&c, NULL, NULL, &r, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(r.baseline_majority_error > 1.0, "mean predictor %g", r.baseline_majority_error);
    ck_assert_msg(r.baseline_linear_error < 0.5, "linear regression %g", r.baseline_linear_error);

    write_csv(p, 600, 1);
    hp_train_config_defaults(&c);
    set(&c, ds);
    set(&c, "lr=1e-2");
    set(&c, "epochs=20");
    set(&c, "batch_size=32");
    ck_assert_msg(hp_train_run(&c, NULL, NULL, &r, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(r.test_error < 0.1, "test error %g", r.test_error);
    ck_assert(isnan(r.val_pred_corr)); /* a classifier has a chance level instead */
    ck_assert(isfinite(r.val_chance_error));
    set(&c, "augment_flip=1");
    ck_assert_int_eq(hp_train_run(&c, NULL, NULL, &r, err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "need an image dataset"), "%s", err);
    unlink(p);
}
END_TEST


/* the seed's "day vs night": a darkened test distribution, measured by a
 * validation set drawn from it, not normalized away */
START_TEST(test_run_shift_darken)
{
    hp_train_config_t c;
    small_fm(&c);
    set(&c, "shift=darken");
    cb_state s = {0};
    hp_train_result_t r;
    ck_assert_msg(hp_train_run(&c, on_epoch, &s, &r, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(r.nshift_val, 2000); /* shift_val_size 0.2 of the 10000 test images */
    ck_assert_uint_eq(r.ntest, 8000);      /* the rest: disjoint (test_shift_split_disjoint) */
    ck_assert(isfinite(s.last.shift_val_error) && isfinite(s.last.shift_val_loss));
    ck_assert_msg(r.shift_val_error > s.last.val_error + 0.15,
                  "shift_val_error %g should be clearly above val_error %g", r.shift_val_error,
                  s.last.val_error);
    ck_assert_msg(r.test_error > s.last.val_error + 0.15, "test error %g", r.test_error);
    ck_assert(isnan(r.baseline_majority_error)); /* baselines are off by default */
    set(&c, "shift_val_size=10000");
    ck_assert_int_eq(hp_train_run(&c, NULL, NULL, &r, err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "shift_val_size"), "%s", err);
}
END_TEST

/* a worker's slots borrow the datasets from its cache: the same numbers as
 * a run that loads its own, and a shift (which rewrites the test images)
 * works on a copy, never on the shared set */
START_TEST(test_run_with_cache_same_results)
{
    hp_train_config_t c;
    small_fm(&c);
    set(&c, "epochs=1");
    hp_train_result_t own, lent;
    ck_assert_msg(hp_train_run(&c, NULL, NULL, &own, err, sizeof err) == 0, "%s", err);
    hp_data_cache_t *cache = hp_data_cache_new(0);
    c.cache = cache;
    ck_assert_msg(hp_train_run(&c, NULL, NULL, &lent, err, sizeof err) == 0, "%s", err);
    ck_assert_double_eq(lent.test_error, own.test_error);
    ck_assert_double_eq(lent.last.val_loss, own.last.val_loss);
    hp_data_lease_t l;
    ck_assert(hp_data_cache_fashion(cache, NULL, &l, err, sizeof err) == 0);
    ck_assert_int_eq(l.hit, 1); /* the run left it for the next trial */
    uint64_t sum0 = 0;
    for (size_t i = 0; i < l.test->n * l.test->dim; i++)
        sum0 += l.test->x8[i];
    set(&c, "shift=darken");
    hp_train_result_t dark;
    ck_assert_msg(hp_train_run(&c, NULL, NULL, &dark, err, sizeof err) == 0, "%s", err);
    ck_assert(dark.shift_val_error > own.test_error + 0.15);
    uint64_t sum1 = 0;
    for (size_t i = 0; i < l.test->n * l.test->dim; i++)
        sum1 += l.test->x8[i];
    ck_assert_uint_eq(sum1, sum0); /* the shared test images are untouched */
    hp_data_cache_release(cache, &l);
    hp_data_cache_free(cache);
}
END_TEST

START_TEST(test_run_no_shift_no_shift_metrics)
{
    hp_train_config_t c;
    small_fm(&c);
    set(&c, "epochs=1");
    set(&c, "initial_eval=1");
    cb_state s = {.calls = -1}; /* epoch 0 first */
    hp_train_result_t r;
    ck_assert_msg(hp_train_run(&c, on_epoch, &s, &r, err, sizeof err) == 0, "%s", err);
    ck_assert(isnan(s.last.shift_val_error) && isnan(s.last.shift_val_loss));
    ck_assert(isnan(r.shift_val_error) && isnan(r.shift_val_loss));
    ck_assert(isnan(r.last.shift_val_error));
    ck_assert_uint_eq(r.nshift_val, 0);
    ck_assert_uint_eq(r.ntest, 10000);
}
END_TEST

typedef struct {
    int n;
    int epoch[16];
    int has_val[16];
} val_epochs_t;

static int on_epoch_val(const hp_train_epoch_t *m, void *data)
{
    val_epochs_t *v = data;
    ck_assert_int_lt(v->n, 16);
    v->epoch[v->n] = m->epoch;
    v->has_val[v->n++] = isfinite(m->val_error) && isfinite(m->val_loss);
    return 0;
}

/* eval_every: the validation split at epochs 0, N, 2N, ... and the last;
 * val_chance_error: what predictions with the model's class frequencies
 * would score by chance (10 balanced classes: about 0.9) */
START_TEST(test_run_eval_every_and_chance)
{
    hp_train_config_t c;
    small_fm(&c);
    set(&c, "train_size=300");
    set(&c, "epochs=5");
    set(&c, "initial_eval=1");
    set(&c, "eval_every=3");
    val_epochs_t v = {0};
    hp_train_result_t r;
    ck_assert_msg(hp_train_run(&c, on_epoch_val, &v, &r, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(v.n, 6);
    static const int want[6] = {1, 0, 0, 1, 0, 1}; /* epochs 0, 3 and 5 (the last) */
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(v.epoch[i], i);
        ck_assert_msg(v.has_val[i] == want[i], "epoch %d: val %s", i,
                      v.has_val[i] ? "measured" : "skipped");
    }
    ck_assert(isfinite(r.last.val_error)); /* the last epoch is always measured */
    ck_assert_msg(r.val_chance_error > 0.85 && r.val_chance_error < 0.95, "chance %g",
                  r.val_chance_error);
    ck_assert_msg(r.last.val_error < r.val_chance_error - 0.2, "val_error %g, chance %g",
                  r.last.val_error, r.val_chance_error);
    /* no validation split: no chance level */
    set(&c, "val_size=0");
    ck_assert_msg(hp_train_run(&c, NULL, NULL, &r, err, sizeof err) == 0, "%s", err);
    ck_assert(isnan(r.val_chance_error));
    ck_assert_int_lt(hp_train_config_set_kv(&c, "eval_every=0", err, sizeof err), 0);
    ck_assert_msg(strstr(err, "eval_every"), "%s", err);
}
END_TEST

START_TEST(test_run_shift_noise_deterministic)
{
    hp_train_config_t c;
    small_fm(&c);
    set(&c, "epochs=1");
    set(&c, "shift=noise");
    hp_train_result_t a, b;
    ck_assert_msg(hp_train_run(&c, NULL, NULL, &a, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(hp_train_run(&c, NULL, NULL, &b, err, sizeof err) == 0, "%s", err);
    ck_assert(a.shift_val_loss == b.shift_val_loss);
    ck_assert(a.shift_val_error == b.shift_val_error);
    ck_assert(a.test_loss == b.test_loss);
    ck_assert(a.shift_val_error > a.last.val_error); /* noise hurts too */
    /* a tabular dataset has no images to shift */
    char p[256], ds[300];
    snprintf(p, sizeof p, "/tmp/hp_test_train_noise_%d.csv", (int)getpid());
    snprintf(ds, sizeof ds, "dataset=csv:%s", p);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "a,y\n1,0\n2,1\n3,0\n4,1\n5,0\n6,1\n");
    fclose(f);
    hp_train_config_defaults(&c);
    set(&c, ds);
    set(&c, "shift=noise");
    ck_assert_int_eq(hp_train_run(&c, NULL, NULL, &a, err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "needs an image dataset"), "%s", err);
    unlink(p);
}
END_TEST

/* "compare to a known result": majority class ~0.9 on 10 balanced
 * classes; a linear model far better, a trained MLP better still */
START_TEST(test_run_baselines)
{
    hp_train_config_t c;
    small_fm(&c);
    set(&c, "epochs=10");
    set(&c, "baselines=1");
    hp_train_result_t r;
    ck_assert_msg(hp_train_run(&c, NULL, NULL, &r, err, sizeof err) == 0, "%s", err);
    ck_assert_double_eq_tol(r.baseline_majority_error, 0.9, 0.02);
    ck_assert_msg(r.baseline_linear_error < 0.3, "linear %g", r.baseline_linear_error);
    ck_assert_msg(r.baseline_linear_error > r.test_error, "linear %g, mlp %g",
                  r.baseline_linear_error, r.test_error);
    hp_train_result_t again;
    set(&c, "epochs=1");
    c.stream = 7; /* another trial: the same baselines */
    ck_assert_msg(hp_train_run(&c, NULL, NULL, &again, err, sizeof err) == 0, "%s", err);
    ck_assert(again.baseline_majority_error == r.baseline_majority_error);
    ck_assert(again.baseline_linear_error == r.baseline_linear_error);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("train");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_config_table);
    tcase_add_test(tc, test_config_follows_the_shared_table);
    tcase_add_test(tc, test_optimizers_match_hand_computation);
    tcase_add_test(tc, test_optimizers_blocked_and_zeroing);
    tcase_add_test(tc, test_schedules);
    tcase_add_test(tc, test_run_errors);
    tcase_add_test(tc, test_run_fashion_mnist_mlp);
    tcase_add_test(tc, test_run_same_seed_same_metrics);
    tcase_add_test(tc, test_run_final_train_error_is_evaluated);
    tcase_add_test(tc, test_run_callback_stops);
    tcase_add_test(tc, test_run_cancel_flag_stops_within_a_step);
    tcase_add_test(tc, test_run_csv_regression_and_classification);
    tcase_add_test(tc, test_run_shift_darken);
    tcase_add_test(tc, test_run_with_cache_same_results);
    tcase_add_test(tc, test_run_no_shift_no_shift_metrics);
    tcase_add_test(tc, test_run_shift_noise_deterministic);
    tcase_add_test(tc, test_run_eval_every_and_chance);
    tcase_add_test(tc, test_run_baselines);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_check_run(suite());
}
