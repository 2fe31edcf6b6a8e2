/* CORAL: align the training inputs' mean and covariance with the target
 * distribution's (coral.h). */
#include "coral.h"

#include "err.h"
#include "gemm.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* mean (D) and regularized covariance (D, D) + I of n normalized samples
 * idx[0..n) of ds; x is (n, D) scratch */
static void moments(const hp_dataset_t *ds, const uint32_t *idx, size_t n, const hp_norm_t *nm,
                    float *x, float *mu, float *cov)
{
    int D = (int)ds->dim;
    hp_data_gather(x, NULL, NULL, ds, idx, (int)n, nm, NULL, NULL);
    for (int j = 0; j < D; j++) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += x[i * (size_t)D + (size_t)j];
        mu[j] = (float)(s / (double)n);
    }
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < D; j++)
            x[i * (size_t)D + (size_t)j] -= mu[j];
    /* cov = x^T x / (n - 1) */
    hp_nn_gemm(1, 0, D, D, (int)n, 1.0f / (float)(n - 1), x, D, x, D, 0.0f, cov, D);
    for (int j = 0; j < D; j++)
        cov[(size_t)j * (size_t)D + (size_t)j] += 1.0f;
}

/* out = V diag(e^p) V^T for the symmetric positive definite m (D, D),
 * m = V diag(e) V^T; w (D) and v (D, D) doubles, t and V (D, D) floats of
 * scratch */
static int power(const float *m, int D, double p, float *out, double *w, double *v, float *t,
                 float *V)
{
    size_t DD = (size_t)D * (size_t)D;
    for (size_t i = 0; i < DD; i++)
        v[i] = m[i];
    if (LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', D, v, D, w) != 0)
        return -1;
    for (int i = 0; i < D; i++)
        for (int k = 0; k < D; k++) {
            size_t at = (size_t)i * (size_t)D + (size_t)k;
            double e = w[k] > 1e-12 ? w[k] : 1e-12; /* C + I: every eigenvalue is >= 1 */
            V[at] = (float)v[at];
            t[at] = (float)(v[at] * pow(e, p));
        }
    hp_nn_gemm(0, 1, D, D, D, 1.0f, t, D, V, D, 0.0f, out, D); /* t V^T */
    return 0;
}

int hp_coral_fit(hp_coral_t *c, const hp_dataset_t *src, const uint32_t *si, size_t ns,
                 const hp_dataset_t *tgt, const uint32_t *ti, size_t nt, const hp_norm_t *nm,
                 int max_batch, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    if (src->dim != tgt->dim)
        return hp_errf(err, errlen, HP_EINVAL,
                       "adapt: coral: the training inputs have %zu features, the target's %zu",
                       src->dim, tgt->dim);
    if (ns < 2 || nt < 2)
        return hp_errf(err, errlen, HP_EINVAL,
                       "adapt: coral needs at least 2 training and 2 unlabeled target inputs "
                       "(got %zu and %zu)",
                       ns, nt);
    ns = ns < HP_CORAL_SAMPLES ? ns : HP_CORAL_SAMPLES;
    nt = nt < HP_CORAL_SAMPLES ? nt : HP_CORAL_SAMPLES;
    size_t D = src->dim, DD = D * D, nmax = ns > nt ? ns : nt;
    c->D = (int)D;
    c->max_batch = max_batch;
    c->block = malloc(sizeof(float) * (DD + 2 * D + (size_t)max_batch * D));
    /* the fit's scratch: samples, C_s, C_t, the two powers, power()'s t, V */
    float *x = malloc(sizeof(float) * (nmax * D + 6 * DD));
    double *dv = malloc(sizeof(double) * (DD + D));
    if (!c->block || !x || !dv) {
        free(x);
        free(dv);
        hp_coral_fini(c);
        return hp_errf(err, errlen, HP_ENOMEM, "adapt: coral: out of memory for %zu features", D);
    }
    float *f = c->block;
    c->A = f;
    c->mu_s = f + DD;
    c->mu_t = c->mu_s + D;
    c->tmp = c->mu_t + D;
    float *cs = x + nmax * D, *ct = cs + DD, *ps = ct + DD, *pt = ps + DD, *t = pt + DD,
          *V = t + DD;
    moments(src, si, ns, nm, x, c->mu_s, cs);
    moments(tgt, ti, nt, nm, x, c->mu_t, ct);
    int rc = 0;
    if (power(cs, (int)D, -0.5, ps, dv + DD, dv, t, V) < 0 ||
        power(ct, (int)D, 0.5, pt, dv + DD, dv, t, V) < 0)
        rc = hp_errf(err, errlen, HP_ENUMERIC,
                     "adapt: coral: the eigendecomposition of a %zux%zu covariance failed", D, D);
    else /* A = C_s^(-1/2) C_t^(1/2) */
        hp_nn_gemm(0, 0, (int)D, (int)D, (int)D, 1.0f, ps, (int)D, pt, (int)D, 0.0f, c->A,
                   (int)D);
    free(x);
    free(dv);
    if (rc < 0)
        hp_coral_fini(c);
    return rc;
}

void hp_coral_apply(const hp_coral_t *c, float *x, int B)
{
    size_t D = (size_t)c->D;
    for (int b = 0; b < B; b++)
        for (size_t j = 0; j < D; j++)
            x[(size_t)b * D + j] -= c->mu_s[j];
    hp_nn_gemm(0, 0, B, c->D, c->D, 1.0f, x, c->D, c->A, c->D, 0.0f, c->tmp, c->D);
    for (int b = 0; b < B; b++)
        for (size_t j = 0; j < D; j++)
            x[(size_t)b * D + j] = c->tmp[(size_t)b * D + j] + c->mu_t[j];
}

void hp_coral_fini(hp_coral_t *c)
{
    free(c->block);
    memset(c, 0, sizeof *c);
}
