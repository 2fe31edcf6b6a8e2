/* The engine's 8-lane exp, sigmoid and tanh (worker/nn/fastvec_int.h)
 * against libm in double, over and beyond their range, and their NaN and
 * saturation behaviour. Built here without target clones, so this is the
 * portable (baseline) build; the LSTM's PyTorch fixtures check the clone
 * the CPU picks. */
#include "fastmath_int.h"
#include "fastvec_int.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>

/* f over x[0..n) in 8-lane chunks (the last one partial) */
static void apply(hp_v8 (*f)(hp_v8), const float *x, float *y, int n)
{
    for (int i = 0; i < n; i += 8)
        hp_v8_storen(y + i, f(hp_v8_loadn(x + i, n - i)), n - i);
}

static hp_v8 vexp(hp_v8 x)
{
    return hp_v8_exp(x);
}

static hp_v8 vsig(hp_v8 x)
{
    return hp_v8_sigmoid(x);
}

static hp_v8 vtanh(hp_v8 x)
{
    return hp_v8_tanh(x);
}

#define N 4003 /* not a multiple of 8: the partial chunk too */

START_TEST(test_exp_relative_error)
{
    static float x[N], y[N];
    for (int i = 0; i < N; i++)
        x[i] = -87.0f + 175.0f * (float)i / (N - 1); /* the whole clamped range */
    apply(vexp, x, y, N);
    double worst = 0;
    for (int i = 0; i < N; i++) {
        double ref = exp((double)x[i]), rel = fabs((double)y[i] - ref) / ref;
        worst = rel > worst ? rel : worst;
        /* the scalar version is the same algorithm */
        ck_assert_msg(fabs(y[i] - hp_fexp(x[i])) <= 4e-7 * ref, "exp(%g): %g vs scalar %g",
                      (double)x[i], (double)y[i], (double)hp_fexp(x[i]));
    }
    ck_assert_msg(worst < 4e-7, "exp: max relative error %g", worst);
}
END_TEST

START_TEST(test_sigmoid_tanh_absolute_error)
{
    static float x[N], s[N], t[N];
    for (int i = 0; i < N; i++)
        x[i] = -30.0f + 60.0f * (float)i / (N - 1);
    apply(vsig, x, s, N);
    apply(vtanh, x, t, N);
    double ws = 0, wt = 0;
    for (int i = 0; i < N; i++) {
        double xs = x[i];
        double es = fabs(s[i] - 1.0 / (1.0 + exp(-xs))), et = fabs(t[i] - tanh(xs));
        ws = es > ws ? es : ws;
        wt = et > wt ? et : wt;
    }
    ck_assert_msg(ws < 2e-7, "sigmoid: max absolute error %g", ws);
    ck_assert_msg(wt < 3e-7, "tanh: max absolute error %g", wt);
}
END_TEST

START_TEST(test_extremes_saturate_and_nan_propagates)
{
    float x[8] = {-1e30f, -200.0f, -88.5f, 88.5f, 200.0f, 1e30f, INFINITY, -INFINITY};
    float y[8];
    apply(vsig, x, y, 8);
    for (int i = 0; i < 8; i++) {
        ck_assert_msg(isfinite(y[i]) && y[i] >= 0.0f && y[i] <= 1.0f, "sigmoid(%g) = %g",
                      (double)x[i], (double)y[i]);
        ck_assert_float_eq_tol(y[i], x[i] > 0 ? 1.0f : 0.0f, 1e-30);
    }
    apply(vtanh, x, y, 8);
    for (int i = 0; i < 8; i++)
        ck_assert_float_eq(y[i], x[i] > 0 ? 1.0f : -1.0f);
    apply(vexp, x, y, 8);
    for (int i = 0; i < 8; i++)
        ck_assert_msg(isfinite(y[i]) && y[i] > 0.0f, "exp(%g) = %g", (double)x[i], (double)y[i]);
    /* a NaN stays a NaN (the engine's guard must see it), in its lane only */
    float z[8] = {0.5f, NAN, -0.5f, 0, 0, 0, 0, 0};
    apply(vsig, z, y, 3);
    ck_assert(!isnan(y[0]) && isnan(y[1]) && !isnan(y[2]));
    apply(vtanh, z, y, 3);
    ck_assert(!isnan(y[0]) && isnan(y[1]) && !isnan(y[2]));
    apply(vexp, z, y, 3);
    ck_assert(!isnan(y[0]) && isnan(y[1]) && !isnan(y[2]));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("nn_fastvec");
    TCase *tc = tcase_create("fastvec");
    tcase_add_test(tc, test_exp_relative_error);
    tcase_add_test(tc, test_sigmoid_tanh_absolute_error);
    tcase_add_test(tc, test_extremes_saturate_and_nan_propagates);
    suite_add_tcase(s, tc);
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
