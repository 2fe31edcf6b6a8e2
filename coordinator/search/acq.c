/* Log Expected Improvement, stable in the tail. */
#include "acq.h"

#include <math.h>

#define LOG_SQRT_2PI 0.91893853320467274178
#define SQRT_PI_2 1.25331413731550025121 /* sqrt(pi/2) */
#define INV_SQRT_PI 0.56418958354775628695
#define TAIL_Z 40.0

double hp_acq_erfcx(double x)
{
    if (x < 26.0)
        return exp(x * x) * erfc(x);
    /* asymptotic series: 1/(x sqrt(pi)) sum_k (-1)^k (2k-1)!! / (2x^2)^k */
    double t = 1.0 / (2.0 * x * x), term = 1.0, sum = 1.0;
    for (int k = 1; k <= 8; k++) {
        term *= -(2.0 * k - 1.0) * t;
        sum += term;
    }
    return INV_SQRT_PI / x * sum;
}

/* For z <= -1: the Mills ratio R = Phi(z)/phi(z) and q = 1 - |z| R, so that
 * h(z) = phi(z) q. For |z| >= TAIL_Z q is summed from its asymptotic series
 * 1/z^2 - 3/z^4 + 15/z^6 - ... to avoid the cancellation. */
static void tail(double z, double *R, double *q)
{
    double a = -z;
    if (a < TAIL_Z) {
        *R = SQRT_PI_2 * hp_acq_erfcx(a / M_SQRT2);
        *q = 1.0 - a * *R;
        return;
    }
    double t = 1.0 / (a * a), term = t, sum = t;
    for (int k = 2; k <= 7; k++) {
        term *= -(2.0 * k - 1.0) * t;
        sum += term;
    }
    *q = sum;
    *R = (1.0 - sum) / a;
}

static double Phi(double z) { return 0.5 * erfc(-z / M_SQRT2); }
static double phi(double z) { return exp(-0.5 * z * z - LOG_SQRT_2PI); }

double hp_acq_log_h(double z)
{
    if (z > -1.0)
        return log(z * Phi(z) + phi(z));
    double R, q;
    tail(z, &R, &q);
    return -0.5 * z * z - LOG_SQRT_2PI + log(q);
}

double hp_acq_dlog_h(double z)
{
    if (z > -1.0)
        return Phi(z) / (z * Phi(z) + phi(z));
    double R, q;
    tail(z, &R, &q);
    return R / q;
}

double hp_acq_logei(double mu, double sigma, double best)
{
    return log(sigma) + hp_acq_log_h((best - mu) / sigma);
}
