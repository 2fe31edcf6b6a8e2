/* The bayes sampler's model (bayes.c describes the whole): the output warp
 * chosen by likelihood, the hyperparameter fit, and the posterior with the
 * pending trials at Kriging-believer values. */
#include "bayes_int.h"
#include "err.h"
#include "gp.h"
#include "idx_val.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FIT_RESTARTS 2 /* random restarts besides the warm start */
#define FIT_MAXEVAL 120
#define N_WARPS 4
#define WARP_MAXEVAL 30 /* the short fit that scores a warp */
/* output warps, as multiples of the median distance to the minimum (0: none) */
static const double warp_mult[N_WARPS] = {1, 4, 16, 0};
/* the confidence-bound width (in standardized units) with trials pending
 * under acquisition logei (ucb uses search.kappa);
 * 0.5 got stuck on Ackley, 1.5 refined Branin and Hartmann-6 less
 * (bench_search_quality, 4 workers, 20 seeds) */
#define PENDING_KAPPA 1.0

/* Warp and standardize: y = (g(raw - min) - mean) / sd with
 * g(t) = log1p(t / (mult * scale)), scale the median distance to the
 * minimum, or g(t) = t when mult is 0 (no warp). dlog[i] gets
 * log |dy_i / draw_i|, the Jacobian term that makes the marginal
 * likelihoods of different warps comparable. Returns 0 or HP_ENOMEM. */
static int transform_y(const double *raw, double *y, double *dlog, size_t n, double mult)
{
    double ymin = INFINITY;
    for (size_t i = 0; i < n; i++)
        ymin = raw[i] < ymin ? raw[i] : ymin;
    double *t = malloc(n * sizeof *t);
    if (!t)
        return HP_ENOMEM;
    for (size_t i = 0; i < n; i++)
        t[i] = raw[i] - ymin;
    qsort(t, n, sizeof *t, hp_cmp_double);
    double scale = t[n / 2];
    if (!(scale > 0))
        scale = t[n - 1] > 0 ? t[n - 1] : 1.0;
    free(t);
    /* warped values are O(1); raw ones on the scale of their spread */
    double ref = mult > 0 ? 1.0 : scale;
    scale *= mult;
    double mean = 0;
    for (size_t i = 0; i < n; i++) {
        double ti = raw[i] - ymin;
        y[i] = mult > 0 ? log1p(ti / scale) : ti;
        dlog[i] = mult > 0 ? -log(scale + ti) : 0;
        mean += y[i];
    }
    mean /= (double)n;
    double var = 0;
    for (size_t i = 0; i < n; i++)
        var += (y[i] - mean) * (y[i] - mean);
    double sd = sqrt(var / (double)n);
    if (!(sd > 1e-12 * ref))
        sd = 1.0;
    for (size_t i = 0; i < n; i++) {
        y[i] = (y[i] - mean) / sd;
        dlog[i] -= log(sd);
    }
    return 0;
}

/* the warp: the one under which the data are most likely (marginal
 * likelihood plus prior plus the warp's Jacobian, after a short fit from
 * the warm start) */
int bayes_warp(bayes_ctx_t *c)
{
    bayes_t *b = c->b;
    size_t nc = c->nc;
    const unsigned char *take = c->take;
    size_t warp = 0;
    double warp_score = -INFINITY;
    for (size_t w = 0; w < N_WARPS; w++) {
        if (transform_y(c->yraw, c->y, c->dlog, nc, warp_mult[w]) < 0)
            return HP_ENOMEM;
        double jac = 0;
        for (size_t i = 0, k = 0; i < nc; i++)
            if (!take || take[i]) {
                jac += c->dlog[i];
                if (take)
                    c->yfit[k++] = c->y[i];
            }
        if (hp_gp_set_data(&c->gp, c->Xf, c->yf, c->nf) < 0 ||
            hp_gp_fit(&c->gp, b->has_warm ? b->warm : NULL, &c->rng, -1, WARP_MAXEVAL) < 0)
            return HP_ENOMEM;
        double score = hp_gp_lml(&c->gp, c->gp.theta, NULL) +
                       hp_gp_log_prior(c->d, c->gp.theta, NULL) + jac;
        if (score > warp_score) {
            warp_score = score;
            warp = w;
        }
    }
    if (transform_y(c->yraw, c->y, c->dlog, nc, warp_mult[warp]) < 0)
        return HP_ENOMEM;
    for (size_t i = 0, k = 0; take && i < nc; i++)
        if (take[i])
            c->yfit[k++] = c->y[i];
    c->best = INFINITY;
    for (size_t i = 0; i < nc; i++)
        c->best = c->y[i] < c->best ? c->y[i] : c->best;
    return 0;
}

int bayes_fit(bayes_ctx_t *c)
{
    bayes_t *b = c->b;
    if (hp_gp_set_data(&c->gp, c->Xf, c->yf, c->nf) < 0)
        return HP_ENOMEM;
    /* with a warm start one random restart is enough to escape a stale
     * optimum; cold fits get more */
    if (hp_gp_fit(&c->gp, b->has_warm ? b->warm : NULL, &c->rng, b->has_warm ? 1 : FIT_RESTARTS,
                  FIT_MAXEVAL) < 0)
        return HP_ENOMEM;
    memcpy(b->warm, c->gp.theta, (c->d + 2) * sizeof *b->warm);
    b->has_warm = 1;
    return 0;
}

/* The posterior with the pending trials at the liar value: the model's
 * own prediction there (the "Kriging believer" liar). The lies collapse
 * the variance around pending points without bending the mean surface;
 * a constant lie (the mean of the values) pulled the model away from
 * the best region: 4 workers reached a 20x worse regret on Rosenbrock
 * than 1. With trials pending the acquisition is the confidence bound
 * on this model (GP-BUCB, Desautels, Krause & Burdick 2014): near an
 * optimum the mean still pulls towards it and the collapsed variance
 * keeps the points apart, so the workers keep refining it together.
 * LogEI on the same model, with the lies as possible incumbents, left
 * no improvement near a pending point; the workers spread to other
 * regions and 4 of them refined Branin's optimum 3x less per trial
 * than one (bench_search_quality, 20 seeds: regret 1.4e-7 at 60 with
 * 4 workers, 4.9e-8 with one; with the bound 8.5e-13). */
int bayes_pending(bayes_ctx_t *c)
{
    size_t nc = c->nc, np = c->np;
    if (np) {
        if (hp_gp_set_data(&c->gp, c->X, c->y, nc) < 0)
            return HP_ENOMEM;
        if (hp_gp_factor(&c->gp) == 0) {
            double *pv = malloc(np * sizeof *pv);
            if (!pv)
                return HP_ENOMEM;
            int prc = hp_gp_predict(&c->gp, c->X + nc * c->d, np, c->y + nc, pv);
            free(pv);
            if (prc < 0)
                return HP_ENOMEM;
        }
    }
    /* acquisition ucb: the study's bound, pending trials or not; logei:
     * the bound only while trials are pending */
    if (c->spec->search.acquisition == HP_ACQ_UCB)
        c->kappa = c->spec->search.kappa;
    else
        c->kappa = np ? PENDING_KAPPA : 0;
    if (hp_gp_set_data(&c->gp, c->X, c->y, c->nm) < 0)
        return HP_ENOMEM;
    /* any failure here, out of memory included, leaves no model: the
     * caller falls back to a random point */
    if (hp_gp_factor(&c->gp) < 0)
        return HP_ENUMERIC;
    return 0;
}
