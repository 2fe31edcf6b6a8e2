/* Matérn-5/2 ARD Gaussian process: kernel, log marginal likelihood and its
 * gradient, MAP fit with NLopt L-BFGS, posterior prediction. */
#include "gp.h"

#include "err.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <nlopt.h>
#include <stdlib.h>
#include <string.h>

#define SQRT5 2.23606797749978969641

/* bounds on theta, see gp.h */
#define LOG_L_MIN (-4.605170185988091)   /* log 0.01 */
#define LOG_L_MAX 2.995732273553991      /* log 20 */
#define LOG_S2_MIN (-2.995732273553991)  /* log 0.05 */
#define LOG_S2_MAX 2.995732273553991
#define LOG_SN2_MIN (-29.933606208922594) /* log 1e-13, see gp.h */
#define LOG_SN2_MAX 0.0
#define LOG_SN2_PRIOR_MU (-9.210340371976182) /* log 1e-4 */
#define LOG_SN2_PRIOR_SD 3.0

int hp_gp_init(hp_gp_t *gp, size_t d, const unsigned char *cat)
{
    memset(gp, 0, sizeof *gp);
    gp->d = d;
    gp->cat = calloc(d ? d : 1, 1);
    gp->theta = calloc(d + 2, sizeof *gp->theta);
    if (!gp->cat || !gp->theta) {
        hp_gp_fini(gp);
        return HP_ENOMEM;
    }
    if (cat)
        memcpy(gp->cat, cat, d);
    for (size_t i = 0; i < d; i++)
        gp->theta[i] = log(0.5);
    gp->theta[d] = 0.0;
    gp->theta[d + 1] = LOG_SN2_PRIOR_MU;
    return 0;
}

void hp_gp_fini(hp_gp_t *gp)
{
    free(gp->cat);
    free(gp->theta);
    free(gp->X);
    free(gp->y);
    free(gp->L);
    free(gp->alpha);
    free(gp->u);
    free(gp->Kinv);
    free(gp->work);
    free(gp->work2);
    memset(gp, 0, sizeof *gp);
}

int hp_gp_set_data(hp_gp_t *gp, const double *X, const double *y, size_t n)
{
    if (n > gp->cap) {
        size_t d = gp->d ? gp->d : 1;
        double *nX = realloc(gp->X, n * d * sizeof *nX);
        if (nX)
            gp->X = nX;
        double *ny = realloc(gp->y, n * sizeof *ny);
        if (ny)
            gp->y = ny;
        double *nL = realloc(gp->L, n * n * sizeof *nL);
        if (nL)
            gp->L = nL;
        double *na = realloc(gp->alpha, n * sizeof *na);
        if (na)
            gp->alpha = na;
        double *nu = realloc(gp->u, n * sizeof *nu);
        if (nu)
            gp->u = nu;
        double *nK = realloc(gp->Kinv, n * n * sizeof *nK);
        if (nK)
            gp->Kinv = nK;
        double *nw = realloc(gp->work, n * n * sizeof *nw);
        if (nw)
            gp->work = nw;
        double *nw2 = realloc(gp->work2, n * n * sizeof *nw2);
        if (nw2)
            gp->work2 = nw2;
        if (!nX || !ny || !nL || !na || !nu || !nK || !nw || !nw2)
            return HP_ENOMEM;
        gp->cap = n;
    }
    gp->n = n;
    if (n) {
        memcpy(gp->X, X, n * gp->d * sizeof *X);
        memcpy(gp->y, y, n * sizeof *y);
    }
    gp->factored = 0;
    return 0;
}

/* r^2 between a and b under inverse squared length scales il2 */
static double dist2(const double *a, const double *b, const double *il2,
                    const unsigned char *cat, size_t d)
{
    double r2 = 0;
    for (size_t i = 0; i < d; i++) {
        double t = cat[i] ? (a[i] != b[i]) : a[i] - b[i];
        r2 += t * t * il2[i];
    }
    return r2;
}

/* k(r) / s2 */
static double matern52(double r2)
{
    double r = sqrt(r2);
    return (1.0 + SQRT5 * r + (5.0 / 3.0) * r2) * exp(-SQRT5 * r);
}

static void inv_l2(const hp_gp_t *gp, const double *theta, double *il2)
{
    for (size_t i = 0; i < gp->d; i++)
        il2[i] = exp(-2.0 * theta[i]);
}

/* Fill the lower triangle of A (column-major n x n) with K + (sn2+jitter) I
 * and factor it in place, retrying with more jitter. If ks is not NULL,
 * also keep the signal part s2 k(r) in ks and s2 dk/d(r^2) in dks (lower
 * triangles) for the gradient, so each pair costs one exp. Returns the
 * jitter used, or -1 if nothing worked. */
static double build_and_factor(const hp_gp_t *gp, const double *theta, double *A, double *ks,
                               double *dks)
{
    size_t n = gp->n, d = gp->d;
    double il2[d ? d : 1];
    inv_l2(gp, theta, il2);
    double s2 = exp(theta[d]), sn2 = exp(theta[d + 1]);
    for (double jit = 0;; jit = jit ? jit * 100 : 1e-10) {
        if (jit > 1e-2)
            return -1;
        for (size_t j = 0; j < n; j++) {
            const double *xj = gp->X + j * d;
            A[j * n + j] = s2 + sn2 + jit * s2;
            for (size_t i = j + 1; i < n; i++) {
                double r2 = dist2(gp->X + i * d, xj, il2, gp->cat, d);
                double r = sqrt(r2), e = exp(-SQRT5 * r);
                double k = s2 * (1.0 + SQRT5 * r + (5.0 / 3.0) * r2) * e;
                A[j * n + i] = k;
                if (ks) {
                    ks[j * n + i] = k;
                    dks[j * n + i] = -(5.0 / 6.0) * s2 * (1.0 + SQRT5 * r) * e;
                }
            }
        }
        if (n == 0 || LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)n, A, (lapack_int)n) == 0)
            return jit * s2;
    }
}

double hp_gp_log_prior(size_t d, const double *theta, double *grad)
{
    double lp = 0;
    for (size_t i = 0; i < d; i++) {
        double l = exp(theta[i]);
        lp += 3.0 * theta[i] - 6.0 * l;
        if (grad)
            grad[i] += 3.0 - 6.0 * l;
    }
    lp += -0.5 * theta[d] * theta[d];
    if (grad)
        grad[d] += -theta[d];
    double z = (theta[d + 1] - LOG_SN2_PRIOR_MU) / LOG_SN2_PRIOR_SD;
    lp += -0.5 * z * z;
    if (grad)
        grad[d + 1] += -z / LOG_SN2_PRIOR_SD;
    return lp;
}

/* Factor for theta into gp->L, alpha and (if want_inv) Kinv. Returns 0 or
 * HP_ENUMERIC. */
static int factor_theta(hp_gp_t *gp, const double *theta, int want_inv)
{
    size_t n = gp->n;
    gp->factored = 0;
    double jit = build_and_factor(gp, theta, gp->L, want_inv ? gp->work : NULL,
                                  want_inv ? gp->work2 : NULL);
    if (jit < 0)
        return HP_ENUMERIC;
    gp->jitter = jit;
    if (n) {
        memcpy(gp->alpha, gp->y, n * sizeof *gp->alpha);
        LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', (lapack_int)n, 1, gp->L, (lapack_int)n,
                       gp->alpha, (lapack_int)n);
        gp->mean = 0;
        if (gp->fit_mean) {
            for (size_t i = 0; i < n; i++)
                gp->u[i] = 1.0;
            LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', (lapack_int)n, 1, gp->L, (lapack_int)n,
                           gp->u, (lapack_int)n);
            double sy = 0, su = 0;
            for (size_t i = 0; i < n; i++) {
                sy += gp->alpha[i];
                su += gp->u[i];
            }
            /* 1'K^-1 1 > 0 for positive definite K; guard against roundoff */
            gp->mean = su > 0 ? sy / su : 0;
            for (size_t i = 0; i < n; i++)
                gp->alpha[i] -= gp->mean * gp->u[i];
        }
        if (want_inv) {
            /* K^-1 = L^-T L^-1 as dtrtri + dlauum: OpenBLAS runs both as
             * blocked level-3 code, 3-7x faster than its dpotri at n >= 256 */
            memcpy(gp->Kinv, gp->L, n * n * sizeof *gp->Kinv);
            if (LAPACKE_dtrtri(LAPACK_COL_MAJOR, 'L', 'N', (lapack_int)n, gp->Kinv,
                               (lapack_int)n) != 0 ||
                LAPACKE_dlauum(LAPACK_COL_MAJOR, 'L', (lapack_int)n, gp->Kinv, (lapack_int)n) != 0)
                return HP_ENUMERIC;
        }
    }
    gp->factored = 1;
    return 0;
}

double hp_gp_lml(hp_gp_t *gp, const double *theta, double *grad)
{
    size_t n = gp->n, d = gp->d;
    if (factor_theta(gp, theta, grad != NULL) < 0) {
        if (grad)
            memset(grad, 0, (d + 2) * sizeof *grad);
        return -INFINITY;
    }
    double lml = -0.5 * n * log(2 * M_PI);
    for (size_t i = 0; i < n; i++)
        lml += -0.5 * (gp->y[i] - gp->mean) * gp->alpha[i] - log(gp->L[i * n + i]);
    if (!grad)
        return lml;
    /* dlml/dtheta_j = 1/2 tr((alpha alpha^T - K^-1) dK/dtheta_j), summed
     * over the lower triangle with off-diagonal terms counted twice */
    double il2[d ? d : 1];
    inv_l2(gp, theta, il2);
    double s2 = exp(theta[d]), sn2 = exp(theta[d + 1]);
    memset(grad, 0, (d + 2) * sizeof *grad);
    double tr = 0, tr_s = 0;
    const double *ks = gp->work, *dks = gp->work2;
    for (size_t j = 0; j < n; j++) {
        const double *xj = gp->X + j * d;
        double wjj = gp->alpha[j] * gp->alpha[j] - gp->Kinv[j * n + j];
        tr += wjj;
        tr_s += wjj * s2;
        for (size_t i = j + 1; i < n; i++) {
            const double *xi = gp->X + i * d;
            double w = 2.0 * (gp->alpha[i] * gp->alpha[j] - gp->Kinv[j * n + i]);
            tr_s += w * ks[j * n + i];
            /* dK/dlog l_k = s2 k'(r2) * (-2 delta_k^2 / l_k^2) */
            double c = -2.0 * w * dks[j * n + i];
            for (size_t k = 0; k < d; k++) {
                double t = gp->cat[k] ? (xi[k] != xj[k]) : xi[k] - xj[k];
                grad[k] += c * t * t * il2[k];
            }
        }
    }
    for (size_t k = 0; k < d; k++)
        grad[k] *= 0.5;
    grad[d] = 0.5 * tr_s;
    grad[d + 1] = 0.5 * tr * sn2;
    return lml;
}

typedef struct fit_ctx {
    hp_gp_t *gp;
    int evals;
} fit_ctx_t;

static double fit_objective(unsigned nt, const double *theta, double *grad, void *data)
{
    fit_ctx_t *c = data;
    c->evals++;
    double lml = hp_gp_lml(c->gp, theta, grad);
    if (!isfinite(lml)) {
        if (grad)
            memset(grad, 0, nt * sizeof *grad);
        return 1e300;
    }
    double lp = hp_gp_log_prior(c->gp->d, theta, grad);
    if (grad)
        for (unsigned i = 0; i < nt; i++)
            grad[i] = -grad[i];
    return -(lml + lp);
}

static void clamp_theta(size_t d, double *t, const double *lo, const double *hi)
{
    for (size_t i = 0; i < d + 2; i++)
        t[i] = t[i] < lo[i] ? lo[i] : t[i] > hi[i] ? hi[i] : t[i];
}

int hp_gp_fit(hp_gp_t *gp, const double *warm, hp_rng_t *rng, int restarts, int maxeval)
{
    size_t d = gp->d, nt = d + 2;
    double *buf = malloc(5 * nt * sizeof *buf);
    if (!buf)
        return HP_ENOMEM;
    double *lo = buf, *hi = buf + nt, *t = buf + 2 * nt, *best = buf + 3 * nt,
           *start = buf + 4 * nt;
    for (size_t i = 0; i < d; i++) {
        lo[i] = LOG_L_MIN;
        hi[i] = LOG_L_MAX;
    }
    lo[d] = LOG_S2_MIN;
    hi[d] = LOG_S2_MAX;
    lo[d + 1] = LOG_SN2_MIN;
    hi[d + 1] = LOG_SN2_MAX;
    nlopt_opt opt = nlopt_create(NLOPT_LD_LBFGS, (unsigned)nt);
    if (!opt) {
        free(buf);
        return HP_ENOMEM;
    }
    fit_ctx_t ctx = {gp, 0};
    nlopt_set_lower_bounds(opt, lo);
    nlopt_set_upper_bounds(opt, hi);
    nlopt_set_min_objective(opt, fit_objective, &ctx);
    nlopt_set_maxeval(opt, maxeval);
    nlopt_set_ftol_rel(opt, 1e-7);
    double best_f = HUGE_VAL;
    memcpy(best, warm ? warm : gp->theta, nt * sizeof *best);
    for (int r = -1; r <= restarts; r++) {
        if (r == -1) {
            memcpy(start, warm ? warm : gp->theta, nt * sizeof *start);
        } else if (r == 0) {
            if (!warm)
                continue; /* the defaults were start -1 */
            for (size_t i = 0; i < d; i++)
                start[i] = log(0.5);
            start[d] = 0;
            start[d + 1] = LOG_SN2_PRIOR_MU;
        } else {
            /* log-uniform length scales in [0.05, 2], signal in [0.3, 3],
             * noise in [1e-6, 1e-1] */
            for (size_t i = 0; i < d; i++)
                start[i] = log(0.05) + hp_rng_uniform(rng) * (log(2.0) - log(0.05));
            start[d] = log(0.3) + hp_rng_uniform(rng) * (log(3.0) - log(0.3));
            start[d + 1] = log(1e-6) + hp_rng_uniform(rng) * (log(1e-1) - log(1e-6));
        }
        clamp_theta(d, start, lo, hi);
        memcpy(t, start, nt * sizeof *t);
        double f = HUGE_VAL;
        nlopt_result res = nlopt_optimize(opt, t, &f);
        if (res < 0 && res != NLOPT_ROUNDOFF_LIMITED) {
            /* keep whatever point the optimiser reached if it is valid */
            f = fit_objective((unsigned)nt, t, NULL, &ctx);
        }
        if (isfinite(f) && f < best_f) {
            best_f = f;
            memcpy(best, t, nt * sizeof *best);
        }
    }
    nlopt_destroy(opt);
    memcpy(gp->theta, best, nt * sizeof *best);
    gp->factored = 0;
    free(buf);
    return 0;
}

int hp_gp_factor(hp_gp_t *gp) { return factor_theta(gp, gp->theta, 1); }

int hp_gp_predict(const hp_gp_t *gp, const double *Xs, size_t m, double *mean, double *var)
{
    size_t n = gp->n, d = gp->d;
    double s2 = exp(gp->theta[d]);
    double il2[d ? d : 1];
    inv_l2(gp, gp->theta, il2);
    if (n == 0) {
        for (size_t j = 0; j < m; j++) {
            mean[j] = 0;
            var[j] = s2;
        }
        return 0;
    }
    /* blocks of candidates so the n x B cross-covariance stays small */
    enum { B = 256 };
    double *Ks = malloc(n * B * sizeof *Ks);
    if (!Ks)
        return HP_ENOMEM;
    for (size_t j0 = 0; j0 < m; j0 += B) {
        size_t b = m - j0 < B ? m - j0 : B;
        for (size_t j = 0; j < b; j++) {
            const double *x = Xs + (j0 + j) * d;
            double *col = Ks + j * n;
            for (size_t i = 0; i < n; i++)
                col[i] = s2 * matern52(dist2(gp->X + i * d, x, il2, gp->cat, d));
            mean[j0 + j] = gp->mean + cblas_ddot((int)n, col, 1, gp->alpha, 1);
        }
        /* V = L^-1 Ks; var = s2 - colsum(V^2) */
        cblas_dtrsm(CblasColMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, (int)n,
                    (int)b, 1.0, gp->L, (int)n, Ks, (int)n);
        for (size_t j = 0; j < b; j++) {
            const double *col = Ks + j * n;
            double v = s2 - cblas_ddot((int)n, col, 1, col, 1);
            var[j0 + j] = v > 1e-12 * s2 ? v : 1e-12 * s2;
        }
    }
    free(Ks);
    return 0;
}

void hp_gp_predict_grad(const hp_gp_t *gp, const double *x, double *mean, double *var,
                        double *dmean, double *dvar, double *scratch)
{
    size_t n = gp->n, d = gp->d;
    double s2 = exp(gp->theta[d]);
    double il2[d ? d : 1];
    inv_l2(gp, gp->theta, il2);
    double *k = scratch, *w = scratch + n, *g = scratch + 2 * n;
    memset(dmean, 0, d * sizeof *dmean);
    memset(dvar, 0, d * sizeof *dvar);
    if (n == 0) {
        *mean = 0;
        *var = s2;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        double r2 = dist2(gp->X + i * d, x, il2, gp->cat, d);
        double r = sqrt(r2), e = exp(-SQRT5 * r);
        k[i] = s2 * (1.0 + SQRT5 * r + (5.0 / 3.0) * r2) * e;
        g[i] = -(5.0 / 3.0) * s2 * (1.0 + SQRT5 * r) * e; /* 2 dk/d(r^2) */
    }
    *mean = gp->mean + cblas_ddot((int)n, k, 1, gp->alpha, 1);
    /* w = K^-1 k */
    cblas_dsymv(CblasColMajor, CblasLower, (int)n, 1.0, gp->Kinv, (int)n, k, 1, 0.0, w, 1);
    double v = s2 - cblas_ddot((int)n, k, 1, w, 1);
    *var = v > 1e-12 * s2 ? v : 1e-12 * s2;
    /* dk_i/dx_c = s2 k'(r2) * 2 (x_c - X_ic) / l_c^2 */
    for (size_t i = 0; i < n; i++) {
        const double *xi = gp->X + i * d;
        for (size_t c = 0; c < d; c++) {
            if (gp->cat[c])
                continue;
            double dkc = g[i] * (x[c] - xi[c]) * il2[c];
            dmean[c] += dkc * gp->alpha[i];
            dvar[c] += -2.0 * dkc * w[i];
        }
    }
    if (v <= 1e-12 * s2)
        memset(dvar, 0, d * sizeof *dvar);
}
