/*
 * testfn.h — the built-in benchmark functions of `trial.function`:
 * Branin (2-d), Hartmann-6 (6-d), Rosenbrock and Ackley (d-d). Workers
 * evaluate them in-process, so tests and benchmarks exercise the whole
 * service (sampler, dispatch, storage) at thousands of trials per second
 * without training anything.
 *
 *     double x[2] = {M_PI, 2.275}, y;
 *     hp_testfn_eval(HP_FUNC_BRANIN, x, 2, &y);   // 0.397887...
 *     double regret = y - hp_testfn_minimum(HP_FUNC_BRANIN, 2);
 *
 * All functions are minimised. The usual domains (what the example specs
 * use) are: Branin x1 in [-5,10], x2 in [0,15]; Hartmann-6 [0,1]^6;
 * Rosenbrock [-5,10]^d (or [-2.048,2.048]^d); Ackley [-32.768,32.768]^d.
 * Evaluation is defined everywhere; pure functions, thread-safe.
 */
#ifndef HP_TESTFN_H
#define HP_TESTFN_H

#include "spec.h"

#include <stddef.h>

/* hp_testfn_eval computes f(x) for d inputs. Returns HP_EINVAL when d does
 * not suit the function (Branin 2, Hartmann-6 6, the others >= 2). */
int hp_testfn_eval(hp_function_t f, const double *x, size_t d, double *y);

/* hp_testfn_minimum returns the global minimum value for dimension d. */
double hp_testfn_minimum(hp_function_t f, size_t d);

#endif
