#include "testfn.h"

#include "err.h"

#include <math.h>

static double branin(const double *x)
{
    const double a = 1.0, b = 5.1 / (4.0 * M_PI * M_PI), c = 5.0 / M_PI;
    const double r = 6.0, s = 10.0, t = 1.0 / (8.0 * M_PI);
    double u = x[1] - b * x[0] * x[0] + c * x[0] - r;
    return a * u * u + s * (1.0 - t) * cos(x[0]) + s;
}

static double hartmann6(const double *x)
{
    static const double alpha[4] = {1.0, 1.2, 3.0, 3.2};
    static const double A[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                   {0.05, 10, 17, 0.1, 8, 14},
                                   {3, 3.5, 1.7, 10, 17, 8},
                                   {17, 8, 0.05, 10, 0.1, 14}};
    static const double P[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                                   {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                                   {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                                   {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};
    double sum = 0.0;
    for (int i = 0; i < 4; i++) {
        double e = 0.0;
        for (int j = 0; j < 6; j++) {
            double d = x[j] - P[i][j];
            e += A[i][j] * d * d;
        }
        sum += alpha[i] * exp(-e);
    }
    return -sum;
}

static double rosenbrock(const double *x, size_t d)
{
    double s = 0.0;
    for (size_t i = 0; i + 1 < d; i++) {
        double a = x[i + 1] - x[i] * x[i], b = 1.0 - x[i];
        s += 100.0 * a * a + b * b;
    }
    return s;
}

static double ackley(const double *x, size_t d)
{
    double s1 = 0.0, s2 = 0.0;
    for (size_t i = 0; i < d; i++) {
        s1 += x[i] * x[i];
        s2 += cos(2.0 * M_PI * x[i]);
    }
    double n = (double)d;
    return -20.0 * exp(-0.2 * sqrt(s1 / n)) - exp(s2 / n) + 20.0 + M_E;
}

int hp_testfn_eval(hp_function_t f, const double *x, size_t d, double *y)
{
    switch (f) {
    case HP_FUNC_BRANIN:
        if (d != 2)
            return HP_EINVAL;
        *y = branin(x);
        return 0;
    case HP_FUNC_HARTMANN6:
        if (d != 6)
            return HP_EINVAL;
        *y = hartmann6(x);
        return 0;
    case HP_FUNC_ROSENBROCK:
        if (d < 2)
            return HP_EINVAL;
        *y = rosenbrock(x, d);
        return 0;
    case HP_FUNC_ACKLEY:
        if (d < 2)
            return HP_EINVAL;
        *y = ackley(x, d);
        return 0;
    }
    return HP_EINVAL;
}

double hp_testfn_minimum(hp_function_t f, size_t d)
{
    (void)d;
    switch (f) {
    case HP_FUNC_BRANIN: return 0.397887357729738;
    case HP_FUNC_HARTMANN6: return -3.32236801141551;
    case HP_FUNC_ROSENBROCK: return 0.0;
    case HP_FUNC_ACKLEY: return 0.0;
    }
    return NAN;
}
