/*
 * gp.h — a Gaussian-process regression model for Bayesian optimisation:
 * Matérn-5/2 kernel with one length scale per input (ARD) on inputs in
 * [0,1], a signal variance and a noise variance, hyperparameters fitted by
 * maximising the log marginal likelihood plus a log prior (MAP) with
 * L-BFGS (NLopt), Cholesky factorisation by LAPACK with jitter retries.
 *
 *     hp_gp_t gp;
 *     hp_gp_init(&gp, d, cat);               // cat[i]: input i is categorical
 *     gp.fit_mean = 1;                       // optional: a fitted constant mean
 *     hp_gp_set_data(&gp, X, y, n);          // X n x d row-major, y standardized
 *     hp_gp_fit(&gp, warm, &rng, 2, 100);    // MAP hyperparameters -> gp.theta
 *     hp_gp_factor(&gp);                     // posterior for the current theta
 *     hp_gp_predict(&gp, Xs, m, mean, var);  // latent mean and variance
 *     hp_gp_fini(&gp);
 *
 * Inputs: a continuous (or integer) input is a coordinate in [0,1]; a
 * categorical input holds the category index as a double and enters the
 * distance through Hamming distance (0 if equal, 1 if not), never as an
 * ordered number:
 *     r^2 = sum_i delta_i^2 / l_i^2,  delta_i = x_i - x'_i or [x_i != x'_i]
 *     k(x, x') = s2 (1 + sqrt5 r + 5/3 r^2) exp(-sqrt5 r)
 *     y = m + f(x) + eps, f ~ GP(0, k), eps ~ N(0, sn2)
 * The constant mean m is 0, or with fit_mean its generalised-least-squares
 * estimate for the current theta (ordinary kriging), profiled out of the
 * marginal likelihood; the gradient is unchanged (envelope theorem). Used
 * as a plug-in value: its own uncertainty is not added to the variance.
 * Data gathered by an optimiser cluster around good points; their plain
 * average is then far below the function's typical value, and a zero mean
 * in standardized units would make every unexplored region look promising.
 * Hyperparameters theta = (log l_1 .. log l_d, log s2, log sn2), the same
 * parametrisation as scikit-learn's kernel.theta for
 * ConstantKernel * Matern(nu=2.5) + WhiteKernel.
 *
 * Priors (on theta, log densities up to a constant; outputs are expected
 * standardized to mean 0, variance 1):
 *     l_i   ~ Gamma(3, rate 6) in l, i.e. 3 log l - 6 l in theta (mode l = 0.5)
 *     log s2  ~ N(0, 1)
 *     log sn2 ~ N(log 1e-4, 3^2) (weak: noisy objectives can still get noise)
 * and bounds l in [0.01, 20], s2 in [0.05, 20], sn2 in [1e-13, 1]. The
 * lower bound lets a deterministic objective be nearly interpolated, so the
 * search can still tell points apart when they differ by 1e-9 of the
 * values' spread near an optimum (1e-10 left Branin's median regret at 60
 * evaluations 3.8x higher); if K is then too ill-conditioned for Cholesky,
 * hp_gp_factor's jitter takes over.
 *
 * Threads: a model is used by one thread at a time; there is no global
 * state, so separate models may run concurrently. Do not call BLAS
 * threading functions here: the caller (the daemon) decides.
 */
#ifndef HP_GP_H
#define HP_GP_H

#include "rng.h"

#include <stddef.h>

typedef struct hp_gp {
    size_t d;            /* inputs */
    size_t n;            /* observations */
    size_t cap;          /* allocated observations */
    unsigned char *cat;  /* d: 1 = categorical (Hamming) input */
    double *theta;       /* d + 2: log l_1..l_d, log s2, log sn2 */
    double *X;           /* n x d row-major */
    double *y;           /* n */
    /* after hp_gp_factor: */
    double *L;           /* n x n column-major, lower Cholesky of K + (sn2+jitter) I */
    double *alpha;       /* n: (K + sn2 I)^-1 (y - mean) */
    double *Kinv;        /* n x n column-major, lower triangle of the inverse */
    double jitter;       /* added to the diagonal on top of sn2 */
    int factored;
    /* a constant prior mean: 0, or with fit_mean set (before factoring) its
     * generalised-least-squares estimate 1'K^-1 y / 1'K^-1 1 for the
     * current theta, profiled out of the marginal likelihood */
    int fit_mean;
    double mean;
    double *u;           /* n: K^-1 1 when fit_mean */
    /* scratch */
    double *work, *work2; /* n x n each: kernel values and derivatives */
} hp_gp_t;

/* hp_gp_init prepares an empty model for d inputs (cat may be NULL: all
 * continuous) with default hyperparameters (l = 0.5, s2 = 1, sn2 = 1e-4).
 * Returns 0 or HP_ENOMEM. hp_gp_fini frees it; safe on zeroed memory. */
int hp_gp_init(hp_gp_t *gp, size_t d, const unsigned char *cat);
void hp_gp_fini(hp_gp_t *gp);

/* hp_gp_set_data copies n observations (X n x d row-major, y n) into the
 * model and clears the factorisation. Returns 0 or HP_ENOMEM. */
int hp_gp_set_data(hp_gp_t *gp, const double *X, const double *y, size_t n);

/* hp_gp_lml returns the log marginal likelihood of the data under theta
 * (d + 2 values) and, if grad is not NULL, its gradient with respect to
 * theta (with fit_mean: at the mean's estimate for theta). Uses the
 * model's scratch and overwrites any factorisation. Returns -INFINITY if K cannot be factored even with jitter. */
double hp_gp_lml(hp_gp_t *gp, const double *theta, double *grad);

/* hp_gp_log_prior returns the log prior density of theta (up to a constant)
 * and adds its gradient to grad if not NULL. */
double hp_gp_log_prior(size_t d, const double *theta, double *grad);

/* hp_gp_fit sets gp->theta to the MAP hyperparameters: L-BFGS from warm
 * (d + 2 values; NULL = the current gp->theta), from the defaults (when
 * warm is given) and from `restarts` random starts drawn from rng, keeping
 * the best; restarts = -1 runs from the first start only (a quick refit
 * that draws nothing from rng). maxeval bounds each local run. Returns 0
 * (theta is always valid afterwards) or HP_ENOMEM. */
int hp_gp_fit(hp_gp_t *gp, const double *warm, hp_rng_t *rng, int restarts, int maxeval);

/* hp_gp_factor factors K + sn2 I for gp->theta (adding jitter 1e-10, 1e-8,
 * ... relative to s2 until Cholesky succeeds) and computes alpha and the
 * inverse. Returns 0, HP_ENUMERIC if no jitter up to 1e-2 s2 helps. */
int hp_gp_factor(hp_gp_t *gp);

/* hp_gp_predict writes the posterior mean and latent variance (without the
 * noise) at m points Xs (m x d row-major). Needs hp_gp_factor. Returns 0 or
 * HP_ENOMEM. */
int hp_gp_predict(const hp_gp_t *gp, const double *Xs, size_t m, double *mean, double *var);

/* hp_gp_predict_grad is hp_gp_predict for one point x, plus the gradients
 * of the mean and variance with respect to every continuous input (zero
 * for categorical inputs). scratch must hold 3 n doubles. */
void hp_gp_predict_grad(const hp_gp_t *gp, const double *x, double *mean, double *var,
                        double *dmean, double *dvar, double *scratch);

#endif
