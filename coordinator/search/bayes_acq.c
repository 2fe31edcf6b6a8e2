/* The bayes sampler's acquisition (bayes.c describes the whole): with
 * search.acquisition logei, LogEI with no trial pending and the confidence
 * bound with trials pending; with ucb, the bound of width search.kappa,
 * maximised over a Sobol sweep plus perturbations of the best points, then
 * L-BFGS from the best few; the best point that repeats no trial. */
#include "acq.h"
#include "bayes_int.h"
#include "err.h"
#include "gp.h"
#include "rng.h"
#include "sobol.h"

#include <math.h>
#include <nlopt.h>
#include <stdlib.h>
#include <string.h>

#define N_LOCAL 4      /* L-BFGS runs on the acquisition */
#define LOCAL_MAXEVAL 40
#define N_PERTURB 64   /* perturbations around each of the best points */
#define N_PERTURB_CENTERS 5
#define N_SCALES 4
#define LS_CAP 0.5     /* length scale beyond which perturbations stop growing */
static const double perturb_scale[N_SCALES] = {0.5, 0.1, 0.02, 0.004};

static void decode(const hp_space_t *sp, const double *g, double *x)
{
    double u[HP_SPACE_MAX_PARAMS];
    for (size_t i = 0; i < sp->n; i++) {
        const hp_param_t *p = &sp->params[i];
        u[i] = p->type == HP_PARAM_CATEGORICAL ? (g[i] + 0.5) / (double)p->n_values : g[i];
    }
    hp_space_from_unit(sp, u, x);
    hp_space_deactivate(sp, x);
}

typedef struct acq_ctx {
    const hp_gp_t *gp;
    double best;
    double *full;     /* d: the point being optimised (categoricals fixed) */
    const size_t *vars; /* which inputs the optimiser moves */
    double *dmean, *dvar, *scratch;
    double kappa; /* > 0: the confidence bound (ucb, or pending trials), else LogEI */
    const bayes_ctx_t *bc; /* constraints: the feasibility models */
} acq_ctx_t;

/* The acquisition to maximise: LogEI, or with kappa > 0 minus the lower
 * confidence bound, -(mean - kappa sd). */
static double acq_value(double mu, double sigma, double best, double kappa)
{
    return kappa > 0 ? -mu + kappa * sigma : hp_acq_logei(mu, sigma, best);
}

/* The objective's acquisition at g (and its gradient): LogEI or the bound;
 * 0 while no trial is feasible (then feasibility alone decides). */
static double acq_base(acq_ctx_t *c, const double *g, double *grad_full)
{
    if (c->bc->no_feasible) {
        if (grad_full)
            memset(grad_full, 0, c->gp->d * sizeof *grad_full);
        return 0;
    }
    double mu, var;
    hp_gp_predict_grad(c->gp, g, &mu, &var, c->dmean, c->dvar, c->scratch);
    double sigma = sqrt(var);
    if (c->kappa > 0) {
        if (grad_full)
            for (size_t k = 0; k < c->gp->d; k++)
                grad_full[k] = -c->dmean[k] + c->kappa * c->dvar[k] / (2.0 * sigma);
        return acq_value(mu, sigma, c->best, c->kappa);
    }
    double z = (c->best - mu) / sigma;
    double lei = log(sigma) + hp_acq_log_h(z);
    if (grad_full) {
        double dlh = hp_acq_dlog_h(z);
        for (size_t k = 0; k < c->gp->d; k++) {
            double ds = c->dvar[k] / (2.0 * sigma);
            double dz = (-c->dmean[k] - z * ds) / sigma;
            grad_full[k] = ds / sigma + dlh * dz;
        }
    }
    return lei;
}

/* With constraints, plus the log probability of meeting them. */
static double acq_at(acq_ctx_t *c, const double *g, double *grad_full)
{
    double a = acq_base(c, g, grad_full);
    if (c->bc->nk)
        bayes_feas_log(c->bc, g, &a, grad_full, c->scratch);
    return a;
}

static double acq_objective(unsigned nv, const double *v, double *grad, void *data)
{
    acq_ctx_t *c = data;
    double gfull[HP_SPACE_MAX_PARAMS];
    for (unsigned j = 0; j < nv; j++)
        c->full[c->vars[j]] = v[j];
    double lei = acq_at(c, c->full, grad ? gfull : NULL);
    if (!isfinite(lei)) {
        if (grad)
            memset(grad, 0, nv * sizeof *grad);
        return 1e300;
    }
    if (grad)
        for (unsigned j = 0; j < nv; j++)
            grad[j] = -gfull[c->vars[j]];
    return -lei;
}

/* NaN (an inactive parameter) equals NaN here */
static int same_point(const double *a, const double *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(a[i] == b[i] || (isnan(a[i]) && isnan(b[i]))))
            return 0;
    return 1;
}

static int repeats(const hp_space_t *sp, const double *x, const hp_obs_t *const *obs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (same_point(obs[i]->x, x, sp->n))
            return 1;
    return 0;
}

/* The m candidates: n_sobol points of a Sobol sweep (categorical inputs
 * rounded to an index), then N_PERTURB perturbations of each of the
 * n_centers best observations. */
static int candidates(bayes_ctx_t *c, size_t n_sobol, size_t n_centers)
{
    size_t d = c->d, nc = c->nc;
    hp_sobol_t q;
    if (hp_sobol_init(&q, (unsigned)d, 1, bayes_mix(c->spec->search.seed, c->number)) < 0)
        return HP_ENOMEM;
    for (size_t j = 0; j < n_sobol; j++) {
        double *p = c->cand + j * d;
        hp_sobol_next(&q, p);
        for (size_t i = 0; i < d; i++)
            if (c->cat[i]) {
                double k = (double)c->sp->params[i].n_values;
                p[i] = floor(p[i] * k);
                if (p[i] >= k)
                    p[i] = k - 1;
            }
        bayes_impute(c->sp, p);
    }
    hp_sobol_fini(&q);
    for (size_t i = 0; i < nc; i++)
        c->rank[i] = (hp_idx_val_t){c->y[i], i};
    qsort(c->rank, nc, sizeof *c->rank, hp_cmp_idx_val);
    /* perturbations at several fractions of each input's length scale
     * (capped, so an irrelevant input does not jump across the space): the
     * EI peak next to a good point narrows as the model gets sure, and a
     * fixed step size stops finding it */
    double ls[HP_SPACE_MAX_PARAMS];
    for (size_t i = 0; i < d; i++) {
        ls[i] = exp(c->gp.theta[i]);
        ls[i] = ls[i] < LS_CAP ? ls[i] : LS_CAP;
    }
    for (size_t ci = 0; ci < n_centers; ci++) {
        const double *center = c->X + c->rank[ci].i * d;
        for (size_t j = 0; j < N_PERTURB; j++) {
            double *p = c->cand + (n_sobol + ci * N_PERTURB + j) * d;
            double sd = perturb_scale[j % N_SCALES];
            for (size_t i = 0; i < d; i++) {
                if (c->cat[i]) {
                    /* an inactive centre (-1) has no choice to keep */
                    p[i] = center[i] < 0 || hp_rng_uniform(&c->rng) < 0.2
                               ? (double)hp_rng_below(&c->rng, c->sp->params[i].n_values)
                               : center[i];
                    continue;
                }
                double v = center[i] + sd * ls[i] * hp_rng_normal(&c->rng);
                p[i] = v < 0 ? 0 : v > 1 ? 1 : v;
            }
            bayes_impute(c->sp, p);
        }
    }
    return 0;
}

/* L-BFGS starts: the best few candidates, plus the best perturbation of a
 * good point if none of those is one, so the neighbourhood of the
 * incumbent is always polished even when exploration ranks first.
 * Returns how many (at most N_LOCAL + 1) it wrote to starts. */
static size_t local_starts(const bayes_ctx_t *c, size_t m, size_t n_sobol, size_t *starts)
{
    size_t n_local = 0;
    int have_local = 0;
    for (size_t r = 0; r < m && n_local < N_LOCAL; r++) {
        starts[n_local++] = r;
        have_local |= c->rank[r].i >= n_sobol;
    }
    for (size_t r = n_local; r < m && !have_local; r++)
        if (c->rank[r].i >= n_sobol && isfinite(c->rank[r].v)) {
            starts[n_local++] = r;
            have_local = 1;
        }
    return n_local;
}

/* Local L-BFGS from each start over its non-categorical active inputs
 * (categoricals, and so which inputs are active, stay fixed): the
 * optimised point to pts[r] and its (negated) acquisition to val[r]. */
static int local_search(bayes_ctx_t *c, const size_t *starts, size_t n_local,
                        double (*pts)[HP_SPACE_MAX_PARAMS], double *val)
{
    size_t d = c->d;
    double dmean[HP_SPACE_MAX_PARAMS], dvar[HP_SPACE_MAX_PARAMS], full[HP_SPACE_MAX_PARAMS];
    size_t vars[HP_SPACE_MAX_PARAMS];
    acq_ctx_t ctx = {&c->gp, c->best, full, vars, dmean, dvar, c->scratch, c->kappa, c};
    double v[HP_SPACE_MAX_PARAMS], lo[HP_SPACE_MAX_PARAMS], hi[HP_SPACE_MAX_PARAMS];
    for (size_t j = 0; j < d; j++) {
        lo[j] = 0;
        hi[j] = 1;
    }
    nlopt_opt opt = NULL;
    size_t opt_nv = 0;
    for (size_t r = 0; r < n_local; r++) {
        const double *p = c->cand + c->rank[starts[r]].i * d;
        size_t nv = 0;
        for (size_t i = 0; i < d; i++)
            if (!c->cat[i] && (!c->sp->params[i].has_when ||
                               hp_space_param_active(c->sp, p, i)))
                vars[nv++] = i;
        double f0 = c->rank[starts[r]].v, f = f0;
        memcpy(full, p, d * sizeof *full);
        if (nv && nv != opt_nv) { /* one optimiser per number of inputs */
            if (opt)
                nlopt_destroy(opt);
            opt = nlopt_create(NLOPT_LD_LBFGS, (unsigned)nv);
            if (!opt)
                return HP_ENOMEM;
            opt_nv = nv;
            nlopt_set_lower_bounds(opt, lo);
            nlopt_set_upper_bounds(opt, hi);
            nlopt_set_min_objective(opt, acq_objective, &ctx);
            nlopt_set_maxeval(opt, LOCAL_MAXEVAL);
            nlopt_set_ftol_rel(opt, 1e-9);
        }
        if (nv) {
            for (size_t j = 0; j < nv; j++)
                v[j] = p[vars[j]];
            nlopt_result res = nlopt_optimize(opt, v, &f);
            if (res < 0 && res != NLOPT_ROUNDOFF_LIMITED)
                f = acq_objective((unsigned)nv, v, NULL, &ctx);
            for (size_t j = 0; j < nv; j++)
                full[vars[j]] = v[j];
            /* keep the start if the optimiser made it worse */
            if (!(f <= f0)) {
                memcpy(full, p, d * sizeof *full);
                f = f0;
            }
        }
        memcpy(pts[r], full, d * sizeof *full);
        val[r] = f;
    }
    if (opt)
        nlopt_destroy(opt);
    return 0;
}

int bayes_acquire(bayes_ctx_t *c, double *x)
{
    size_t d = c->d, nc = c->nc;
    const hp_space_t *sp = c->sp;
    size_t n_sobol = 1024 + 256 * d;
    if (n_sobol > 4096)
        n_sobol = 4096;
    size_t n_centers = nc < N_PERTURB_CENTERS ? nc : N_PERTURB_CENTERS;
    size_t m = n_sobol + n_centers * N_PERTURB;
    c->cand = malloc(m * d * sizeof *c->cand);
    c->mean = malloc(m * sizeof *c->mean);
    c->var = malloc(m * sizeof *c->var);
    c->rank = malloc((m > nc ? m : nc) * sizeof *c->rank);
    /* scratch serves the objective's GP and the constraints' (<= 192) */
    c->scratch = malloc(3 * (c->nm > 192 ? c->nm : 192) * sizeof *c->scratch);
    if (!c->cand || !c->mean || !c->var || !c->rank || !c->scratch)
        return HP_ENOMEM;
    if (candidates(c, n_sobol, n_centers) < 0)
        return HP_ENOMEM;
    if (hp_gp_predict(&c->gp, c->cand, m, c->mean, c->var) < 0)
        return HP_ENOMEM;
    for (size_t j = 0; j < m; j++) /* the acquisition, into mean */
        c->mean[j] = c->no_feasible ? 0 : acq_value(c->mean[j], sqrt(c->var[j]), c->best,
                                                    c->kappa);
    if (bayes_feas_log_batch(c, c->cand, m, c->mean) < 0)
        return HP_ENOMEM;
    for (size_t j = 0; j < m; j++)
        c->rank[j] = (hp_idx_val_t){isfinite(c->mean[j]) ? -c->mean[j] : INFINITY, j};
    qsort(c->rank, m, sizeof *c->rank, hp_cmp_idx_val);

    size_t starts[N_LOCAL + 1];
    size_t n_local = local_starts(c, m, n_sobol, starts);
    double opt_pts[N_LOCAL + 1][HP_SPACE_MAX_PARAMS];
    double opt_val[N_LOCAL + 1];
    if (local_search(c, starts, n_local, opt_pts, opt_val) < 0)
        return HP_ENOMEM;

    /* the best point that does not repeat a trial: optimised points in
     * order of their value, then the remaining candidates */
    hp_idx_val_t order[N_LOCAL + 1];
    for (size_t r = 0; r < n_local; r++)
        order[r] = (hp_idx_val_t){opt_val[r], r};
    qsort(order, n_local, sizeof *order, hp_cmp_idx_val);
    for (size_t r = 0; r < n_local; r++) {
        decode(sp, opt_pts[order[r].i], x);
        if (!repeats(sp, x, c->sorted, c->ns))
            return 0;
    }
    for (size_t j = 0; j < m; j++) {
        decode(sp, c->cand + c->rank[j].i * d, x);
        if (!repeats(sp, x, c->sorted, c->ns))
            return 0;
    }
    return HP_ENOENT;
}
