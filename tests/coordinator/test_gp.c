/* The GP model (coordinator/search/gp.c) and LogEI (acq.c) against
 * references computed with scikit-learn, numpy/scipy and mpmath
 * (tests/tools/gen_gp_fixtures.py -> fixtures/gp_fixture.h), and their
 * gradients against finite differences. */
#include "acq.h"
#include "err.h"
#include "gp.h"
#include "rng.h"

#include "fixtures/gp_fixture.h"

#include "hp_check.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ck_close(a, b, rtol, atol)                                                       \
    do {                                                                                 \
        double a_ = (a), b_ = (b);                                                       \
        ck_assert_msg(fabs(a_ - b_) <= (atol) + (rtol) * fabs(b_),                       \
                      "%s = %.17g, expected %.17g (%s)", #a, a_, b_, #b);               \
    } while (0)

static void check_fixture(size_t n, size_t d, size_t m, const unsigned char *cat,
                          const double *X, const double *y, const double *Xs,
                          const double *theta, double lml_ref, const double *grad_ref,
                          const double *mean_ref, const double *var_ref)
{
    hp_gp_t gp;
    ck_assert_int_eq(hp_gp_init(&gp, d, cat), 0);
    ck_assert_int_eq(hp_gp_set_data(&gp, X, y, n), 0);
    double grad[8];
    double lml = hp_gp_lml(&gp, theta, grad);
    ck_close(lml, lml_ref, 1e-9, 1e-9);
    for (size_t k = 0; k < d + 2; k++)
        ck_close(grad[k], grad_ref[k], 1e-7, 1e-8);
    memcpy(gp.theta, theta, (d + 2) * sizeof *theta);
    ck_assert_int_eq(hp_gp_factor(&gp), 0);
    ck_assert(gp.jitter == 0);
    double mean[8], var[8];
    hp_gp_predict(&gp, Xs, m, mean, var);
    for (size_t j = 0; j < m; j++) {
        ck_close(mean[j], mean_ref[j], 1e-8, 1e-9);
        ck_close(var[j], var_ref[j], 1e-6, 1e-9);
    }
    /* the single-point path agrees with the batch path */
    double *scratch = malloc(3 * n * sizeof *scratch);
    for (size_t j = 0; j < m; j++) {
        double mu, v, dm[4], dv[4];
        hp_gp_predict_grad(&gp, Xs + j * d, &mu, &v, dm, dv, scratch);
        ck_close(mu, mean[j], 1e-10, 1e-12);
        ck_close(v, var[j], 1e-7, 1e-10);
    }
    free(scratch);
    hp_gp_fini(&gp);
}

START_TEST(test_gp_matches_sklearn_continuous)
{
    check_fixture(FIX1_N, FIX1_D, FIX1_M, NULL, fix1_X, fix1_y, fix1_Xs, fix1_theta, fix1_lml,
                  fix1_grad, fix1_mean, fix1_var);
}
END_TEST

START_TEST(test_gp_matches_numpy_categorical)
{
    check_fixture(FIX2_N, FIX2_D, FIX2_M, fix2_cat, fix2_X, fix2_y, fix2_Xs, fix2_theta,
                  fix2_lml, fix2_grad, fix2_mean, fix2_var);
}
END_TEST

/* random data in d dims, the last one categorical with 4 values */
static void random_data(hp_rng_t *r, size_t n, size_t d, double *X, double *y)
{
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t k = 0; k < d; k++) {
            X[i * d + k] = k + 1 == d ? (double)hp_rng_below(r, 4) : hp_rng_uniform(r);
            s += sin(3.0 * X[i * d + k] * (double)(k + 1));
        }
        y[i] = s + 0.05 * hp_rng_normal(r);
    }
}

START_TEST(test_gp_gradient_finite_differences)
{
    enum { N = 30, D = 4 };
    unsigned char cat[D] = {0, 0, 0, 1};
    double X[N * D], y[N];
    hp_rng_t r;
    hp_rng_init(&r, 7, 0);
    for (int rep = 0; rep < 5; rep++) {
        random_data(&r, N, D, X, y);
        hp_gp_t gp;
        ck_assert_int_eq(hp_gp_init(&gp, D, cat), 0);
        ck_assert_int_eq(hp_gp_set_data(&gp, X, y, N), 0);
        double th[D + 2], g[D + 2], gp_prior[D + 2] = {0};
        for (int k = 0; k < D; k++)
            th[k] = log(0.1 + hp_rng_uniform(&r));
        th[D] = log(0.5 + hp_rng_uniform(&r));
        th[D + 1] = log(1e-3 + 0.1 * hp_rng_uniform(&r));
        hp_gp_lml(&gp, th, g);
        hp_gp_log_prior(D, th, gp_prior);
        for (int k = 0; k < D + 2; k++) {
            double h = 1e-5, tp[D + 2], tm[D + 2];
            memcpy(tp, th, sizeof tp);
            memcpy(tm, th, sizeof tm);
            tp[k] += h;
            tm[k] -= h;
            double fd = (hp_gp_lml(&gp, tp, NULL) - hp_gp_lml(&gp, tm, NULL)) / (2 * h);
            ck_close(g[k], fd, 1e-5, 1e-6);
            double fdp = (hp_gp_log_prior(D, tp, NULL) - hp_gp_log_prior(D, tm, NULL)) / (2 * h);
            ck_close(gp_prior[k], fdp, 1e-6, 1e-7);
        }
        hp_gp_fini(&gp);
    }
}
END_TEST

START_TEST(test_gp_predict_gradient_finite_differences)
{
    enum { N = 25, D = 3 };
    unsigned char cat[D] = {0, 0, 1};
    double X[N * D], y[N];
    hp_rng_t r;
    hp_rng_init(&r, 8, 0);
    random_data(&r, N, D, X, y);
    hp_gp_t gp;
    ck_assert_int_eq(hp_gp_init(&gp, D, cat), 0);
    ck_assert_int_eq(hp_gp_set_data(&gp, X, y, N), 0);
    double th[D + 2] = {log(0.3), log(0.5), log(1.0), 0.0, log(1e-2)};
    memcpy(gp.theta, th, sizeof th);
    ck_assert_int_eq(hp_gp_factor(&gp), 0);
    double scratch[3 * N];
    for (int rep = 0; rep < 10; rep++) {
        double x[D] = {hp_rng_uniform(&r), hp_rng_uniform(&r), (double)hp_rng_below(&r, 4)};
        double mu, v, dm[D], dv[D];
        hp_gp_predict_grad(&gp, x, &mu, &v, dm, dv, scratch);
        ck_assert(dm[2] == 0 && dv[2] == 0); /* categorical: no gradient */
        for (int k = 0; k < 2; k++) {
            double h = 1e-6, xp[D], xm[D], mp, vp, mm, vm, t1[D], t2[D];
            memcpy(xp, x, sizeof xp);
            memcpy(xm, x, sizeof xm);
            xp[k] += h;
            xm[k] -= h;
            hp_gp_predict_grad(&gp, xp, &mp, &vp, t1, t2, scratch);
            hp_gp_predict_grad(&gp, xm, &mm, &vm, t1, t2, scratch);
            ck_close(dm[k], (mp - mm) / (2 * h), 1e-5, 1e-6);
            ck_close(dv[k], (vp - vm) / (2 * h), 1e-4, 1e-6);
        }
    }
    hp_gp_fini(&gp);
}
END_TEST

START_TEST(test_gp_fit_finds_relevant_inputs)
{
    /* y depends on x0 only: the fitted length scale of x1 must be far longer */
    enum { N = 40, D = 2 };
    double X[N * D], y[N];
    hp_rng_t r;
    hp_rng_init(&r, 9, 0);
    for (int i = 0; i < N; i++) {
        X[i * D] = hp_rng_uniform(&r);
        X[i * D + 1] = hp_rng_uniform(&r);
        y[i] = sin(6.0 * X[i * D]);
    }
    hp_gp_t gp;
    ck_assert_int_eq(hp_gp_init(&gp, D, NULL), 0);
    ck_assert_int_eq(hp_gp_set_data(&gp, X, y, N), 0);
    hp_rng_t fr;
    hp_rng_init(&fr, 1, 1);
    ck_assert_int_eq(hp_gp_fit(&gp, NULL, &fr, 2, 200), 0);
    ck_assert_msg(gp.theta[1] > gp.theta[0] + 1.0, "l0 %g l1 %g", exp(gp.theta[0]),
                  exp(gp.theta[1]));
    ck_assert_double_lt(exp(gp.theta[D + 1]), 1e-2); /* noise-free data */
    ck_assert_int_eq(hp_gp_factor(&gp), 0);
    double xs[2] = {0.3, 0.9}, mu, v;
    hp_gp_predict(&gp, xs, 1, &mu, &v);
    ck_close(mu, sin(1.8), 0, 0.05);
    hp_gp_fini(&gp);
}
END_TEST

START_TEST(test_gp_duplicates_need_jitter)
{
    /* identical inputs with no noise: singular without jitter */
    enum { N = 6, D = 2 };
    double X[N * D], y[N];
    for (int i = 0; i < N; i++) {
        X[i * D] = 0.5;
        X[i * D + 1] = 0.25;
        y[i] = 1.0;
    }
    hp_gp_t gp;
    ck_assert_int_eq(hp_gp_init(&gp, D, NULL), 0);
    ck_assert_int_eq(hp_gp_set_data(&gp, X, y, N), 0);
    gp.theta[D + 1] = log(1e-300);
    ck_assert_int_eq(hp_gp_factor(&gp), 0);
    ck_assert(gp.jitter > 0);
    double mu, v;
    hp_gp_predict(&gp, X, 1, &mu, &v);
    ck_assert(isfinite(mu) && isfinite(v) && v > 0);
    hp_gp_fini(&gp);
}
END_TEST

START_TEST(test_logh_matches_mpmath)
{
    for (int i = 0; i < FIX_LOGH_N; i++) {
        double z = fix_logh_z[i];
        double lh = hp_acq_log_h(z), dl = hp_acq_dlog_h(z);
        ck_assert(isfinite(lh) && isfinite(dl));
        ck_close(lh, fix_logh[i], 1e-12, 1e-13);
        ck_close(dl, fix_dlogh[i], 1e-9, 1e-12);
    }
}
END_TEST

START_TEST(test_logei_equals_log_ei_where_representable)
{
    for (double z = -25; z <= 6; z += 0.0625) {
        double Phi = 0.5 * erfc(-z / M_SQRT2), phi = exp(-0.5 * z * z) / sqrt(2 * M_PI);
        double h = z * Phi + phi;
        if (!(h > 1e-280))
            continue;
        /* direct evaluation loses digits for z << 0, to cancellation
         * (|z Phi| / h) and to erfc's sensitivity to its rounded argument
         * (z^2): the tolerance follows both */
        double cond = (fabs(z * Phi) / h + 1) * (z * z + 1);
        ck_close(hp_acq_log_h(z), log(h), 0, 1e-14 * cond + 1e-14);
        double sigma = 0.7, mu = 0.3, best = mu + z * sigma;
        ck_close(hp_acq_logei(mu, sigma, best), log(sigma * h), 0, 1e-14 * cond + 1e-13);
    }
    /* deep in the tail EI underflows to 0 but LogEI keeps ordering */
    double prev = hp_acq_log_h(-30);
    for (double z = -31; z > -1e12; z *= 1.7) {
        double lh = hp_acq_log_h(z);
        ck_assert(isfinite(lh));
        ck_assert(lh < prev);
        prev = lh;
    }
    /* continuity across the branch points */
    ck_close(hp_acq_log_h(-1 - 1e-12), hp_acq_log_h(-1 + 1e-12), 0, 1e-10);
    ck_close(hp_acq_log_h(-40 - 1e-10), hp_acq_log_h(-40 + 1e-10), 0, 1e-8);
    ck_close(hp_acq_erfcx(26 - 1e-12), hp_acq_erfcx(26 + 1e-12), 1e-13, 0);
}
END_TEST

START_TEST(test_dlogh_finite_differences)
{
    for (double z = -60; z < 6; z += 0.37) {
        double h = 1e-6 * (fabs(z) + 1);
        double fd = (hp_acq_log_h(z + h) - hp_acq_log_h(z - h)) / (2 * h);
        ck_close(hp_acq_dlog_h(z), fd, 1e-6, 1e-8);
    }
}
END_TEST

START_TEST(test_gp_constant_mean)
{
    /* the fitted mean is the GLS estimate 1'K^-1 y / 1'K^-1 1, the
     * likelihood is the zero-mean one of y - mean, its gradient (the mean
     * profiled out) matches finite differences, and far from the data the
     * prediction returns to the mean */
    enum { N = 25, D = 3 };
    double X[N * D], y[N], ones[N], yc[N];
    hp_rng_t r;
    hp_rng_init(&r, 11, 0);
    random_data(&r, N, D, X, y);
    for (int i = 0; i < N; i++) {
        y[i] += 2.0;
        ones[i] = 1.0;
    }
    double th[D + 2] = {log(0.3), log(0.5), log(0.4), log(1.5), log(1e-3)};
    hp_gp_t z;
    ck_assert_int_eq(hp_gp_init(&z, D, NULL), 0);
    memcpy(z.theta, th, sizeof th);
    ck_assert_int_eq(hp_gp_set_data(&z, X, y, N), 0);
    ck_assert_int_eq(hp_gp_factor(&z), 0);
    double sy = 0, su = 0;
    for (int i = 0; i < N; i++)
        sy += z.alpha[i];
    ck_assert_int_eq(hp_gp_set_data(&z, X, ones, N), 0);
    ck_assert_int_eq(hp_gp_factor(&z), 0);
    for (int i = 0; i < N; i++)
        su += z.alpha[i];
    double mean_ref = sy / su;

    hp_gp_t gp;
    ck_assert_int_eq(hp_gp_init(&gp, D, NULL), 0);
    gp.fit_mean = 1;
    ck_assert_int_eq(hp_gp_set_data(&gp, X, y, N), 0);
    double g[D + 2];
    double lml = hp_gp_lml(&gp, th, g);
    ck_close(gp.mean, mean_ref, 1e-10, 1e-12);
    for (int i = 0; i < N; i++)
        yc[i] = y[i] - mean_ref;
    ck_assert_int_eq(hp_gp_set_data(&z, X, yc, N), 0);
    ck_close(lml, hp_gp_lml(&z, th, NULL), 1e-10, 1e-10);
    for (int k = 0; k < D + 2; k++) {
        double h = 1e-5, tp[D + 2], tm[D + 2];
        memcpy(tp, th, sizeof tp);
        memcpy(tm, th, sizeof tm);
        tp[k] += h;
        tm[k] -= h;
        double fd = (hp_gp_lml(&gp, tp, NULL) - hp_gp_lml(&gp, tm, NULL)) / (2 * h);
        ck_close(g[k], fd, 1e-5, 1e-6);
    }
    memcpy(gp.theta, th, sizeof th);
    ck_assert_int_eq(hp_gp_factor(&gp), 0);
    double far[D] = {40, 40, 40}, mu, v, dm[D], dv[D];
    hp_gp_predict(&gp, far, 1, &mu, &v);
    ck_close(mu, mean_ref, 0, 1e-9);
    double *scratch = malloc(3 * N * sizeof *scratch);
    hp_gp_predict_grad(&gp, X, &mu, &v, dm, dv, scratch);
    hp_gp_predict(&gp, X, 1, &v, dv);
    ck_close(mu, v, 1e-12, 1e-12);
    free(scratch);
    hp_gp_fini(&gp);
    hp_gp_fini(&z);
}
END_TEST

START_TEST(test_gp_nearly_interpolates_deterministic_data)
{
    /* a smooth deterministic function: the fitted noise goes far below the
     * prior's 1e-4 and the posterior mean reproduces the data, so the model
     * can resolve differences near an optimum */
    enum { N = 40, D = 2 };
    double X[N * D], y[N];
    hp_rng_t r;
    hp_rng_init(&r, 5, 0);
    double m = 0, ss = 0;
    for (int i = 0; i < N; i++) {
        X[i * D] = hp_rng_uniform(&r);
        X[i * D + 1] = hp_rng_uniform(&r);
        y[i] = sin(3.0 * X[i * D]) + (X[i * D + 1] - 0.3) * (X[i * D + 1] - 0.3);
        m += y[i];
    }
    m /= N;
    for (int i = 0; i < N; i++)
        ss += (y[i] - m) * (y[i] - m);
    for (int i = 0; i < N; i++)
        y[i] = (y[i] - m) / sqrt(ss / N);
    hp_gp_t gp;
    ck_assert_int_eq(hp_gp_init(&gp, D, NULL), 0);
    gp.fit_mean = 1;
    ck_assert_int_eq(hp_gp_set_data(&gp, X, y, N), 0);
    hp_rng_t fr;
    hp_rng_init(&fr, 1, 1);
    ck_assert_int_eq(hp_gp_fit(&gp, NULL, &fr, 2, 200), 0);
    ck_assert_msg(exp(gp.theta[D + 1]) < 1e-6, "noise %g", exp(gp.theta[D + 1]));
    ck_assert_int_eq(hp_gp_factor(&gp), 0);
    double mu[N], v[N];
    hp_gp_predict(&gp, X, N, mu, v);
    for (int i = 0; i < N; i++)
        ck_close(mu[i], y[i], 0, 1e-3);
    hp_gp_fini(&gp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("coordinator_gp");
    TCase *tc = tcase_create("gp");
    tcase_add_test(tc, test_gp_matches_sklearn_continuous);
    tcase_add_test(tc, test_gp_matches_numpy_categorical);
    tcase_add_test(tc, test_gp_gradient_finite_differences);
    tcase_add_test(tc, test_gp_predict_gradient_finite_differences);
    tcase_add_test(tc, test_gp_fit_finds_relevant_inputs);
    tcase_add_test(tc, test_gp_duplicates_need_jitter);
    tcase_add_test(tc, test_gp_constant_mean);
    tcase_add_test(tc, test_gp_nearly_interpolates_deterministic_data);
    tcase_add_test(tc, test_logh_matches_mpmath);
    tcase_add_test(tc, test_logei_equals_log_ei_where_representable);
    tcase_add_test(tc, test_dlogh_finite_differences);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
