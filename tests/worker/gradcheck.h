/* gradcheck.h — finite-difference gradient checking shared by the worker
 * suites. The kernels are float; the probe loss sum(out * R) is summed in
 * double and differentiated centrally, and the comparison allows for float
 * rounding: |num - ana| <= atol + rtol * max(|num|, |ana|). */
#ifndef HP_TEST_GRADCHECK_H
#define HP_TEST_GRADCHECK_H

#include "rng.h"

#include <check.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>

typedef double (*gc_loss_fn)(void *ctx);

static inline double gc_dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

static inline void gc_fill(hp_rng_t *r, float *p, size_t n, double scale)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(scale * hp_rng_normal(r));
}

/* checks up to `max` entries of x (evenly spread) against analytic[] */
static inline void gc_check(const char *what, float *x, size_t n, const float *analytic,
                            gc_loss_fn f, void *ctx, float eps, double atol, double rtol, size_t max)
{
    size_t stride = n > max ? n / max : 1;
    int bad = 0;
    for (size_t i = 0; i < n; i += stride) {
        float save = x[i];
        x[i] = save + eps;
        double lp = f(ctx);
        x[i] = save - eps;
        double lm = f(ctx);
        x[i] = save;
        double num = (lp - lm) / (2.0 * (double)eps);
        double ana = analytic[i];
        double tol = atol + rtol * fmax(fabs(num), fabs(ana));
        if (!(fabs(num - ana) <= tol)) {
            if (bad++ < 5)
                fprintf(stderr, "%s[%zu]: numeric %.6g analytic %.6g\n", what, i, num, ana);
        }
    }
    ck_assert_msg(bad == 0, "%s: %d gradient entries disagree", what, bad);
}

/* gc_check for a loss with relu kinks in every output (a deep network with
 * batch norm, where any weight moves every activation): an entry whose
 * central difference over [x-eps, x+eps] disagrees is taken again one-sided,
 * to second order, over [x, x+2eps] and over [x-2eps, x]; a kink lies on at
 * most one side of x, and the derivative at x is the kink-free side's. An
 * entry that matches neither side fails, and so do more than max_kinked
 * entries rescued this way (a wrong gradient is not rescued by chance).
 * Returns the number rescued. */
static inline int gc_check_kinked(const char *what, float *x, size_t n, const float *analytic,
                                  gc_loss_fn f, void *ctx, float eps, double atol, double rtol,
                                  size_t max, int max_kinked)
{
    size_t stride = n > max ? n / max : 1;
    int bad = 0, kinked = 0;
    for (size_t i = 0; i < n; i += stride) {
        float save = x[i];
        double l[5]; /* x + (k - 2) eps */
        for (int k = 0; k < 5; k++) {
            if (k == 0 || k == 4)
                continue;
            x[i] = save + (float)(k - 2) * eps;
            l[k] = k == 2 ? 0 : f(ctx);
        }
        x[i] = save;
        double ana = analytic[i];
        double num = (l[3] - l[1]) / (2.0 * (double)eps);
        if (fabs(num - ana) <= atol + rtol * fmax(fabs(num), fabs(ana)))
            continue;
        l[2] = f(ctx);
        x[i] = save + 2 * eps;
        l[4] = f(ctx);
        x[i] = save - 2 * eps;
        l[0] = f(ctx);
        x[i] = save;
        double right = (-3 * l[2] + 4 * l[3] - l[4]) / (2.0 * (double)eps);
        double left = (3 * l[2] - 4 * l[1] + l[0]) / (2.0 * (double)eps);
        /* one-sided: three times the rounding of a central difference */
        double t = 3 * atol;
        if (fabs(right - ana) <= t + rtol * fmax(fabs(right), fabs(ana)) ||
            fabs(left - ana) <= t + rtol * fmax(fabs(left), fabs(ana))) {
            kinked++;
            continue;
        }
        if (bad++ < 5)
            fprintf(stderr, "%s[%zu]: numeric %.6g (left %.6g, right %.6g) analytic %.6g\n", what,
                    i, num, left, right, ana);
    }
    ck_assert_msg(bad == 0, "%s: %d gradient entries disagree", what, bad);
    ck_assert_msg(kinked <= max_kinked, "%s: %d entries agree only one-sided (at most %d)", what,
                  kinked, max_kinked);
    return kinked;
}

#endif
