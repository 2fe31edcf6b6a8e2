/* The bayes sampler's model of feasibility (bayes.c describes the whole):
 * with constraints, one GP per constraint metric on the completed trials
 * that report it, and the log probability that a point meets every bound
 * (independent GPs: the product of the probabilities), added to the log
 * acquisition — constrained EI, Gardner et al. 2014, in log space. The
 * incumbent is the best feasible trial; before there is one, the
 * acquisition is the log probability of feasibility alone. */
#include "acq.h"
#include "bayes_int.h"
#include "err.h"
#include "gp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CK_MAX 192     /* observations a constraint's GP uses (the latest) */
#define CK_MAXEVAL 60  /* its hyperparameter fit */
#define CK_LOG_NOISE_MIN (-13.815510557964274) /* log 1e-6 */
/* A point less likely than this to be feasible is taken only when no
 * candidate is likelier: once the best feasible trial can hardly be
 * improved on (LogEI deep in its tail everywhere feasible), the product
 * EI x PoF is ~0 everywhere and its log would trade two huge negative
 * numbers, sending trials far into the infeasible region (seen on a 1-D
 * problem whose constraint is active at the optimum). */
#define LOG_POF_FLOOR (-6.907755278982137) /* log 1e-3 */
#define EXCLUDED 1e200
#define SQRT2 1.4142135623730951
#define SQRT_2_OVER_PI 0.7978845608028654

/* log Phi(z), accurate far into the left tail */
static double log_phi_cdf(double z)
{
    if (z < -5)
        return log(0.5 * hp_acq_erfcx(-z / SQRT2)) - 0.5 * z * z;
    return log(0.5 * erfc(-z / SQRT2));
}

/* phi(z) / Phi(z), the derivative of log Phi */
static double phi_ratio(double z)
{
    if (z < -5)
        return SQRT_2_OVER_PI / hp_acq_erfcx(-z / SQRT2);
    return exp(-0.5 * z * z) / sqrt(2 * M_PI) / (0.5 * erfc(-z / SQRT2));
}

int bayes_feas_fit(bayes_ctx_t *c)
{
    const hp_spec_t *spec = c->spec;
    if (!spec->n_constraints)
        return 0;
    /* the incumbent: the best feasible value */
    c->best = INFINITY;
    for (size_t i = 0; i < c->nc; i++)
        if (c->feas[i] && c->y[i] < c->best)
            c->best = c->y[i];
    c->no_feasible = !isfinite(c->best);
    size_t nk = spec->n_constraints, d = c->d;
    c->nk = nk;
    c->cgp = calloc(nk, sizeof *c->cgp);
    c->ck_lo = malloc(nk * sizeof *c->ck_lo);
    c->ck_hi = malloc(nk * sizeof *c->ck_hi);
    c->ck_ok = calloc(nk, 1);
    double *X = malloc(CK_MAX * d * sizeof *X), *y = malloc(CK_MAX * sizeof *y);
    if (!c->cgp || !c->ck_lo || !c->ck_hi || !c->ck_ok || !X || !y) {
        free(X);
        free(y);
        return HP_ENOMEM;
    }
    int rc = 0;
    for (size_t k = 0; k < nk && rc == 0; k++) {
        /* the latest CK_MAX completed trials that report the metric */
        size_t n = 0;
        for (size_t i = c->ns; i-- > 0 && n < CK_MAX;) {
            const hp_obs_t *o = c->sorted[i];
            if (o->state != HP_OBS_COMPLETED || !o->cv || !isfinite(o->cv[k]))
                continue;
            bayes_encode(c->sp, o->x, X + n * d);
            y[n++] = o->cv[k];
        }
        if (n < 2)
            continue; /* nothing to learn from: no penalty */
        double mean = 0, var = 0;
        for (size_t i = 0; i < n; i++)
            mean += y[i];
        mean /= (double)n;
        for (size_t i = 0; i < n; i++)
            var += (y[i] - mean) * (y[i] - mean);
        double sd = sqrt(var / (double)n);
        if (!(sd > 0))
            sd = fabs(mean) > 0 ? fabs(mean) : 1;
        for (size_t i = 0; i < n; i++)
            y[i] = (y[i] - mean) / sd;
        const struct hp_spec_constraint *q = &spec->constraints[k];
        c->ck_lo[k] = q->has_min ? (q->min - mean) / sd : -INFINITY;
        c->ck_hi[k] = q->has_max ? (q->max - mean) / sd : INFINITY;
        if (hp_gp_init(&c->cgp[k], d, c->cat) < 0) {
            rc = HP_ENOMEM;
            break;
        }
        c->cgp[k].fit_mean = 1;
        if (hp_gp_set_data(&c->cgp[k], X, y, n) < 0 ||
            hp_gp_fit(&c->cgp[k], NULL, &c->rng, 1, CK_MAXEVAL) < 0) {
            rc = HP_ENOMEM;
            break;
        }
        /* a noise floor of 1e-6 (standardized): a deterministic metric
         * (memory) at nearly repeated points otherwise leaves K so badly
         * conditioned that the gradient's variance (through K^-1) is far
         * from the true one, and the local search walks into the
         * infeasible region on it */
        if (c->cgp[k].theta[d + 1] < CK_LOG_NOISE_MIN)
            c->cgp[k].theta[d + 1] = CK_LOG_NOISE_MIN;
        c->ck_ok[k] = hp_gp_factor(&c->cgp[k]) == 0;
    }
    free(X);
    free(y);
    return rc;
}

/* log P(lo <= f <= hi) for f ~ N(mu, s^2), and its derivatives in mu and s */
static double log_prob(double mu, double s, double lo, double hi, double *dmu, double *ds)
{
    double zh = (hi - mu) / s, zl = (lo - mu) / s;
    if (isinf(lo)) { /* log Phi(zh) */
        double r = phi_ratio(zh);
        *dmu = -r / s;
        *ds = -r * zh / s;
        return log_phi_cdf(zh);
    }
    if (isinf(hi)) { /* log Phi(-zl) */
        double r = phi_ratio(-zl);
        *dmu = r / s;
        *ds = r * zl / s;
        return log_phi_cdf(-zl);
    }
    double p = 0.5 * (erfc(-zh / SQRT2) - erfc(-zl / SQRT2));
    if (!(p > 1e-300))
        p = 1e-300;
    double ph = exp(-0.5 * zh * zh) / sqrt(2 * M_PI), pl = exp(-0.5 * zl * zl) / sqrt(2 * M_PI);
    *dmu = (-ph + pl) / (s * p);
    *ds = (-ph * zh + pl * zl) / (s * p);
    return log(p);
}

void bayes_feas_log(const bayes_ctx_t *c, const double *g, double *acq, double *grad,
                    double *scratch)
{
    double dmean[HP_SPACE_MAX_PARAMS], dvar[HP_SPACE_MAX_PARAMS], lp = 0;
    for (size_t k = 0; k < c->nk; k++) {
        if (!c->ck_ok[k])
            continue;
        double mu, var, mu_s, var_s;
        hp_gp_predict_grad(&c->cgp[k], g, &mu, &var, dmean, dvar, scratch);
        /* the value from the Cholesky solve, which stays accurate where the
         * explicit inverse of the gradient's does not */
        if (hp_gp_predict(&c->cgp[k], g, 1, &mu_s, &var_s) == 0) {
            mu = mu_s;
            var = var_s;
        }
        double s = sqrt(var > 1e-300 ? var : 1e-300), dmu, ds;
        lp += log_prob(mu, s, c->ck_lo[k], c->ck_hi[k], &dmu, &ds);
        if (grad)
            for (size_t i = 0; i < c->d; i++)
                grad[i] += dmu * dmean[i] + ds * dvar[i] / (2 * s);
    }
    *acq += lp;
    if (!c->no_feasible && lp < LOG_POF_FLOOR)
        *acq -= EXCLUDED;
}

int bayes_feas_log_batch(const bayes_ctx_t *c, const double *X, size_t m, double *acq)
{
    if (!c->nk)
        return 0;
    double *mean = malloc(m * sizeof *mean), *var = malloc(m * sizeof *var);
    double *lp = calloc(m, sizeof *lp);
    int rc = mean && var && lp ? 0 : HP_ENOMEM;
    for (size_t k = 0; rc == 0 && k < c->nk; k++) {
        if (!c->ck_ok[k])
            continue;
        if (hp_gp_predict(&c->cgp[k], X, m, mean, var) < 0) {
            rc = HP_ENOMEM;
            break;
        }
        for (size_t j = 0; j < m; j++) {
            double s = sqrt(var[j] > 1e-300 ? var[j] : 1e-300), dmu, ds;
            lp[j] += log_prob(mean[j], s, c->ck_lo[k], c->ck_hi[k], &dmu, &ds);
        }
    }
    for (size_t j = 0; rc == 0 && j < m; j++)
        acq[j] += lp[j] - (!c->no_feasible && lp[j] < LOG_POF_FLOOR ? EXCLUDED : 0);
    free(mean);
    free(var);
    free(lp);
    return rc;
}

void bayes_feas_fini(bayes_ctx_t *c)
{
    for (size_t k = 0; c->cgp && k < c->nk; k++)
        hp_gp_fini(&c->cgp[k]);
    free(c->cgp);
    free(c->ck_lo);
    free(c->ck_hi);
    free(c->ck_ok);
    c->cgp = NULL;
}
