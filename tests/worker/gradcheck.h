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

#endif
