/* GP Bayesian optimisation (search.algorithm: bayes): the sampler that ties
 * the GP (gp.h) and Log EI (acq.h) together. docs/search.md describes it
 * for users.
 *
 * One suggestion:
 *  1. trials number < n_initial, or fewer than 2 usable observations: the
 *     scrambled Sobol point `number` (the initial design).
 *  2. completed trials with a finite value are observations; failed and
 *     non-finite ones are left out (so they cannot poison the model);
 *     values are turned into "smaller is better", warped by
 *     log1p((y - min) / (mult * scale)) (scale = median distance to the
 *     minimum), which keeps the order but tames heavy tails, or not
 *     warped, and standardized (a constant history gives all zeros, never
 *     a division by zero). The warp (mult 1, 4, 16 or none) is the one
 *     under which the data are most likely: marginal likelihood plus prior
 *     plus the log Jacobian of the warp, after a short fit from the warm
 *     start (a warped GP, Snelson et al. 2004, over a few fixed warps).
 *     A heavy-tailed objective (Rosenbrock) keeps the strong warp; Branin
 *     moves to the mild ones, Hartmann-6 and Ackley get none: a needless
 *     warp squeezes the bad regions up towards the good ones and buys
 *     exploration that the function does not need.
 *  3. hyperparameters: MAP fit on at most FIT_MAX observations (the best
 *     FIT_BEST plus an even spread of the rest), warm-started from the
 *     previous suggestion's fit plus random restarts; the GP's constant
 *     mean is fitted too (gp.h). Beyond MODEL_MAX completed trials the
 *     posterior, too, uses a subset (the best MODEL_BEST and a spread of
 *     the rest), bounding time and memory.
 *  4. posterior on all observations plus pending trials at a liar value,
 *     the model's own mean there (Kriging believer: "hallucinated"
 *     observations), which collapses the variance around them.
 *  5. the acquisition: LogEI with no trial pending; with trials pending,
 *     the lower confidence bound mean - PENDING_KAPPA * sd on that model
 *     (GP-BUCB), so k idle workers get k different points that keep
 *     refining the best region. Maximised over a Sobol sweep plus Gaussian
 *     perturbations of the best points at several fractions of their
 *     length scales, then L-BFGS from the best few candidates and the best
 *     perturbation (categorical inputs held fixed, ints treated as
 *     continuous and rounded by hp_space_from_unit); the best point that
 *     does not repeat a trial.
 *
 * Determinism: given the seed and the same sequence of histories, a fresh
 * sampler gives the same suggestions. The warm start makes a suggestion
 * depend (weakly) on the fits before it; a sampler rebuilt after a restart
 * refits from the defaults and may differ in the last digits of the fit.
 */
#include "acq.h"
#include "err.h"
#include "gp.h"
#include "rng.h"
#include "sampler.h"
#include "sobol.h"

#include <math.h>
#include <nlopt.h>
#include <stdlib.h>
#include <string.h>

#define FIT_MAX 192    /* observations used to fit hyperparameters */
#define FIT_BEST 32    /* of which the best ones */
#define MODEL_MAX 2000 /* observations in the posterior */
#define MODEL_BEST 500
#define FIT_RESTARTS 2 /* random restarts besides the warm start */
#define FIT_MAXEVAL 120
#define N_WARPS 4
#define WARP_MAXEVAL 30 /* the short fit that scores a warp */
/* output warps, as multiples of the median distance to the minimum (0: none) */
static const double warp_mult[N_WARPS] = {1, 4, 16, 0};
#define N_LOCAL 4      /* L-BFGS runs on the acquisition */
#define LOCAL_MAXEVAL 40
#define N_PERTURB 64   /* perturbations around each of the best points */
#define N_PERTURB_CENTERS 5
#define N_SCALES 4
#define LS_CAP 0.5     /* length scale beyond which perturbations stop growing */
static const double perturb_scale[N_SCALES] = {0.5, 0.1, 0.02, 0.004};
/* the confidence-bound width (in standardized units) with trials pending;
 * 0.5 got stuck on Ackley, 1.5 refined Branin and Hartmann-6 less
 * (bench_search_quality, 4 workers, 20 seeds) */
#define PENDING_KAPPA 1.0

typedef struct bayes {
    double *warm; /* d + 2, valid when has_warm */
    int has_warm;
} bayes_t;

static int bayes_init(hp_sampler_t *s, char *err, size_t errlen)
{
    bayes_t *b = calloc(1, sizeof *b);
    if (b)
        b->warm = calloc(s->spec->space.n + 2, sizeof *b->warm);
    if (!b || !b->warm) {
        free(b);
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    }
    s->state = b;
    return 0;
}

static void bayes_fini(hp_sampler_t *s)
{
    bayes_t *b = s->state;
    if (b)
        free(b->warm);
    free(b);
}

static uint64_t mix(uint64_t a, uint64_t b)
{
    uint64_t z = a + 0x9E3779B97F4A7C15ull * (b + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int sobol_point(const hp_sampler_t *s, uint64_t index, double *x)
{
    const hp_space_t *sp = &s->spec->space;
    hp_sobol_t q;
    int rc = hp_sobol_init(&q, (unsigned)sp->n, 1, s->spec->search.seed);
    if (rc < 0)
        return rc;
    hp_sobol_skip(&q, index);
    double u[HP_SPACE_MAX_PARAMS];
    hp_sobol_next(&q, u);
    hp_sobol_fini(&q);
    hp_space_from_unit(sp, u, x);
    return 0;
}

static void random_point(const hp_sampler_t *s, uint64_t number, double *x)
{
    const hp_space_t *sp = &s->spec->space;
    hp_rng_t r;
    hp_rng_init(&r, mix(s->spec->search.seed, 0xFA11BAC), number);
    double u[HP_SPACE_MAX_PARAMS];
    for (size_t i = 0; i < sp->n; i++)
        u[i] = hp_rng_uniform(&r);
    hp_space_from_unit(sp, u, x);
}

/* GP input of a point: unit coordinates, categorical indices as is */
static void encode(const hp_space_t *sp, const double *x, double *g)
{
    hp_space_to_unit(sp, x, g);
    for (size_t i = 0; i < sp->n; i++)
        if (sp->params[i].type == HP_PARAM_CATEGORICAL)
            g[i] = x[i];
}

static void decode(const hp_space_t *sp, const double *g, double *x)
{
    double u[HP_SPACE_MAX_PARAMS];
    for (size_t i = 0; i < sp->n; i++) {
        const hp_param_t *p = &sp->params[i];
        u[i] = p->type == HP_PARAM_CATEGORICAL ? (g[i] + 0.5) / (double)p->n_values : g[i];
    }
    hp_space_from_unit(sp, u, x);
}

static int cmp_obs_number(const void *a, const void *b)
{
    const hp_obs_t *p = *(const hp_obs_t *const *)a, *q = *(const hp_obs_t *const *)b;
    return p->number < q->number ? -1 : p->number > q->number;
}

typedef struct idx_val {
    double v;
    size_t i;
} idx_val_t;

static int cmp_idx_val(const void *a, const void *b)
{
    const idx_val_t *p = a, *q = b;
    if (p->v != q->v)
        return p->v < q->v ? -1 : 1;
    return p->i < q->i ? -1 : p->i > q->i;
}

static int cmp_double(const void *a, const void *b)
{
    double p = *(const double *)a, q = *(const double *)b;
    return p < q ? -1 : p > q;
}

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
    qsort(t, n, sizeof *t, cmp_double);
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

typedef struct acq_ctx {
    const hp_gp_t *gp;
    double best;
    double *full;     /* d: the point being optimised (categoricals fixed) */
    const size_t *vars; /* which inputs the optimiser moves */
    double *dmean, *dvar, *scratch;
    double kappa; /* > 0: the confidence bound (pending trials), else LogEI */
} acq_ctx_t;

/* The acquisition to maximise: LogEI, or with kappa > 0 minus the lower
 * confidence bound, -(mean - kappa sd). */
static double acq_value(double mu, double sigma, double best, double kappa)
{
    return kappa > 0 ? -mu + kappa * sigma : hp_acq_logei(mu, sigma, best);
}

static double acq_at(acq_ctx_t *c, const double *g, double *grad_full)
{
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

static int same_point(const double *a, const double *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

static int repeats(const hp_space_t *sp, const double *x, const hp_obs_t *const *obs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (same_point(obs[i]->x, x, sp->n))
            return 1;
    return 0;
}

/* Mark cap of the n observations: the n_best lowest y, and an even spread
 * (by trial order) of the rest. */
static int pick_subset(const double *y, size_t n, size_t cap, size_t n_best, unsigned char *take)
{
    idx_val_t *rank = malloc(n * sizeof *rank);
    if (!rank)
        return HP_ENOMEM;
    for (size_t i = 0; i < n; i++)
        rank[i] = (idx_val_t){y[i], i};
    qsort(rank, n, sizeof *rank, cmp_idx_val);
    memset(take, 0, n);
    for (size_t i = 0; i < n_best; i++)
        take[rank[i].i] = 1;
    size_t rest = cap - n_best;
    for (size_t j = 0; j < rest; j++) {
        size_t i = (size_t)((double)j * (double)n / (double)rest);
        while (take[i])
            i = (i + 1) % n;
        take[i] = 1;
    }
    free(rank);
    return 0;
}

typedef struct work {
    const hp_obs_t **sorted;
    double *X, *y;      /* model inputs (completed then pending), values */
    double *yraw, *dlog; /* completed: oriented values, warp Jacobian terms */
    unsigned char *take; /* the fit subset, when there is one */
    double *Xfit, *yfit;
    double *cand, *mean, *var;
    idx_val_t *rank;
    double *scratch;
} work_t;

static void work_free(work_t *w)
{
    free(w->sorted);
    free(w->X);
    free(w->y);
    free(w->yraw);
    free(w->dlog);
    free(w->take);
    free(w->Xfit);
    free(w->yfit);
    free(w->cand);
    free(w->mean);
    free(w->var);
    free(w->rank);
    free(w->scratch);
}

static int bayes_suggest(hp_sampler_t *s, uint64_t number, const hp_history_t *h, double *x,
                         char *err, size_t errlen)
{
    bayes_t *b = s->state;
    const hp_spec_t *spec = s->spec;
    const hp_space_t *sp = &spec->space;
    size_t d = sp->n;
    uint64_t n_init = spec->search.n_initial ? spec->search.n_initial
                      : spec->search.max_trials < 10 ? spec->search.max_trials
                                                     : 10;
    work_t w = {0};
    int rc = 0;
    hp_gp_t gp = {0};

    /* the history in trial order, so arrival order does not matter */
    w.sorted = malloc((h->n ? h->n : 1) * sizeof *w.sorted);
    if (!w.sorted)
        goto oom;
    for (size_t i = 0; i < h->n; i++)
        w.sorted[i] = &h->obs[i];
    qsort(w.sorted, h->n, sizeof *w.sorted, cmp_obs_number);
    size_t nc = 0, np = 0;
    for (size_t i = 0; i < h->n; i++) {
        const hp_obs_t *o = w.sorted[i];
        if (o->state == HP_OBS_COMPLETED && isfinite(o->value))
            nc++;
        else if (o->state == HP_OBS_PENDING)
            np++;
    }
    if (number < n_init || nc < 2) {
        free(w.sorted);
        rc = sobol_point(s, number, x);
        return rc < 0 ? hp_errf(err, errlen, rc, "bayes: cannot build a Sobol sequence in %zu "
                                "dimensions", d)
                      : 0;
    }

    size_t nm = nc + np;
    w.X = malloc(nm * d * sizeof *w.X);
    w.y = malloc(nm * sizeof *w.y);
    if (!w.X || !w.y)
        goto oom;
    w.yraw = malloc(nc * sizeof *w.yraw);
    w.dlog = malloc(nc * sizeof *w.dlog);
    if (!w.yraw || !w.dlog)
        goto oom;
    int maximize = spec->objective.goal == HP_GOAL_MAXIMIZE;
    size_t ic = 0, ip = nc;
    for (size_t i = 0; i < h->n; i++) {
        const hp_obs_t *o = w.sorted[i];
        if (o->state == HP_OBS_COMPLETED && isfinite(o->value)) {
            encode(sp, o->x, w.X + ic * d);
            w.yraw[ic++] = maximize ? -o->value : o->value;
        } else if (o->state == HP_OBS_PENDING) {
            encode(sp, o->x, w.X + ip * d);
            w.y[ip++] = 0; /* the liar, set below */
        }
    }

    /* the posterior costs O(n^2) memory and O(n^3) time: beyond MODEL_MAX
     * completed trials keep the best MODEL_BEST and a spread of the rest
     * (every warp keeps the order, so the raw values rank them) */
    if (nc > MODEL_MAX) {
        unsigned char *take = malloc(nc);
        if (!take || pick_subset(w.yraw, nc, MODEL_MAX, MODEL_BEST, take) < 0) {
            free(take);
            goto oom;
        }
        size_t k = 0;
        for (size_t i = 0; i < nm; i++)
            if (i >= nc || take[i]) {
                memmove(w.X + k * d, w.X + i * d, d * sizeof *w.X);
                if (i < nc)
                    w.yraw[k] = w.yraw[i];
                k++;
            }
        free(take);
        nc = MODEL_MAX;
        nm = k;
    }

    unsigned char cat[HP_SPACE_MAX_PARAMS];
    for (size_t i = 0; i < d; i++)
        cat[i] = sp->params[i].type == HP_PARAM_CATEGORICAL;
    if (hp_gp_init(&gp, d, cat) < 0)
        goto oom;
    gp.fit_mean = 1;

    /* 3. hyperparameters on a subset */
    size_t nf = nc;
    const double *Xf = w.X, *yf = w.y;
    unsigned char *take = NULL;
    if (nc > FIT_MAX) {
        w.Xfit = malloc(FIT_MAX * d * sizeof *w.Xfit);
        w.yfit = malloc(FIT_MAX * sizeof *w.yfit);
        take = w.take = calloc(nc, 1);
        if (!w.Xfit || !w.yfit || !take || pick_subset(w.yraw, nc, FIT_MAX, FIT_BEST, take) < 0)
            goto oom;
        nf = 0;
        for (size_t i = 0; i < nc; i++)
            if (take[i])
                memcpy(w.Xfit + nf++ * d, w.X + i * d, d * sizeof *w.X);
        Xf = w.Xfit;
        yf = w.yfit;
    }
    hp_rng_t rng;
    hp_rng_init(&rng, mix(spec->search.seed, 0xB4E5), number);

    /* the warp: the one under which the data are most likely (marginal
     * likelihood plus prior plus the warp's Jacobian, after a short fit
     * from the warm start) */
    size_t warp = 0;
    double warp_score = -INFINITY;
    for (size_t c = 0; c < N_WARPS; c++) {
        if (transform_y(w.yraw, w.y, w.dlog, nc, warp_mult[c]) < 0)
            goto oom;
        double jac = 0;
        for (size_t i = 0, k = 0; i < nc; i++)
            if (!take || take[i]) {
                jac += w.dlog[i];
                if (take)
                    w.yfit[k++] = w.y[i];
            }
        if (hp_gp_set_data(&gp, Xf, yf, nf) < 0 ||
            hp_gp_fit(&gp, b->has_warm ? b->warm : NULL, &rng, -1, WARP_MAXEVAL) < 0)
            goto oom;
        double score = hp_gp_lml(&gp, gp.theta, NULL) + hp_gp_log_prior(d, gp.theta, NULL) + jac;
        if (score > warp_score) {
            warp_score = score;
            warp = c;
        }
    }
    if (transform_y(w.yraw, w.y, w.dlog, nc, warp_mult[warp]) < 0)
        goto oom;
    for (size_t i = 0, k = 0; take && i < nc; i++)
        if (take[i])
            w.yfit[k++] = w.y[i];
    double best = INFINITY;
    for (size_t i = 0; i < nc; i++)
        best = w.y[i] < best ? w.y[i] : best;

    if (hp_gp_set_data(&gp, Xf, yf, nf) < 0)
        goto oom;
    /* with a warm start one random restart is enough to escape a stale
     * optimum; cold fits get more */
    if (hp_gp_fit(&gp, b->has_warm ? b->warm : NULL, &rng, b->has_warm ? 1 : FIT_RESTARTS,
                  FIT_MAXEVAL) < 0)
        goto oom;
    memcpy(b->warm, gp.theta, (d + 2) * sizeof *b->warm);
    b->has_warm = 1;

    /* 4. posterior with the pending trials at the liar value: the model's
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
    if (np) {
        if (hp_gp_set_data(&gp, w.X, w.y, nc) < 0)
            goto oom;
        if (hp_gp_factor(&gp) == 0) {
            double *pv = malloc(np * sizeof *pv);
            if (!pv)
                goto oom;
            int prc = hp_gp_predict(&gp, w.X + nc * d, np, w.y + nc, pv);
            free(pv);
            if (prc < 0)
                goto oom;
        }
    }
    double kappa = np ? PENDING_KAPPA : 0;
    if (hp_gp_set_data(&gp, w.X, w.y, nm) < 0)
        goto oom;
    if (hp_gp_factor(&gp) < 0) {
        random_point(s, number, x);
        goto done;
    }

    /* 5. candidates: Sobol sweep + perturbations of the best points */
    size_t n_sobol = 1024 + 256 * d;
    if (n_sobol > 4096)
        n_sobol = 4096;
    size_t n_centers = nc < N_PERTURB_CENTERS ? nc : N_PERTURB_CENTERS;
    size_t m = n_sobol + n_centers * N_PERTURB;
    w.cand = malloc(m * d * sizeof *w.cand);
    w.mean = malloc(m * sizeof *w.mean);
    w.var = malloc(m * sizeof *w.var);
    w.rank = malloc((m > nc ? m : nc) * sizeof *w.rank);
    w.scratch = malloc(3 * nm * sizeof *w.scratch);
    if (!w.cand || !w.mean || !w.var || !w.rank || !w.scratch)
        goto oom;
    hp_sobol_t q;
    if (hp_sobol_init(&q, (unsigned)d, 1, mix(spec->search.seed, number)) < 0)
        goto oom;
    for (size_t j = 0; j < n_sobol; j++) {
        double *c = w.cand + j * d;
        hp_sobol_next(&q, c);
        for (size_t i = 0; i < d; i++)
            if (cat[i]) {
                double k = (double)sp->params[i].n_values;
                c[i] = floor(c[i] * k);
                if (c[i] >= k)
                    c[i] = k - 1;
            }
    }
    hp_sobol_fini(&q);
    for (size_t i = 0; i < nc; i++)
        w.rank[i] = (idx_val_t){w.y[i], i};
    qsort(w.rank, nc, sizeof *w.rank, cmp_idx_val);
    /* perturbations at several fractions of each input's length scale
     * (capped, so an irrelevant input does not jump across the space): the
     * EI peak next to a good point narrows as the model gets sure, and a
     * fixed step size stops finding it */
    double ls[HP_SPACE_MAX_PARAMS];
    for (size_t i = 0; i < d; i++) {
        ls[i] = exp(gp.theta[i]);
        ls[i] = ls[i] < LS_CAP ? ls[i] : LS_CAP;
    }
    for (size_t ci = 0; ci < n_centers; ci++) {
        const double *center = w.X + w.rank[ci].i * d;
        for (size_t j = 0; j < N_PERTURB; j++) {
            double *c = w.cand + (n_sobol + ci * N_PERTURB + j) * d;
            double sd = perturb_scale[j % N_SCALES];
            for (size_t i = 0; i < d; i++) {
                if (cat[i]) {
                    c[i] = hp_rng_uniform(&rng) < 0.2
                               ? (double)hp_rng_below(&rng, sp->params[i].n_values)
                               : center[i];
                    continue;
                }
                double v = center[i] + sd * ls[i] * hp_rng_normal(&rng);
                c[i] = v < 0 ? 0 : v > 1 ? 1 : v;
            }
        }
    }
    if (hp_gp_predict(&gp, w.cand, m, w.mean, w.var) < 0)
        goto oom;
    for (size_t j = 0; j < m; j++) {
        double lei = acq_value(w.mean[j], sqrt(w.var[j]), best, kappa);
        w.rank[j] = (idx_val_t){isfinite(lei) ? -lei : INFINITY, j};
    }
    qsort(w.rank, m, sizeof *w.rank, cmp_idx_val);

    /* local L-BFGS from the best few over the non-categorical inputs */
    size_t vars[HP_SPACE_MAX_PARAMS], nv = 0;
    for (size_t i = 0; i < d; i++)
        if (!cat[i])
            vars[nv++] = i;
    double dmean[HP_SPACE_MAX_PARAMS], dvar[HP_SPACE_MAX_PARAMS], full[HP_SPACE_MAX_PARAMS];
    acq_ctx_t ctx = {&gp, best, full, vars, dmean, dvar, w.scratch, kappa};
    /* L-BFGS starts: the best few candidates, plus the best perturbation
     * of a good point if none of those is one, so the neighbourhood of the
     * incumbent is always polished even when exploration ranks first */
    size_t starts[N_LOCAL + 1], n_local = 0;
    int have_local = 0;
    for (size_t r = 0; r < m && n_local < N_LOCAL; r++) {
        starts[n_local++] = r;
        have_local |= w.rank[r].i >= n_sobol;
    }
    for (size_t r = n_local; r < m && !have_local; r++)
        if (w.rank[r].i >= n_sobol && isfinite(w.rank[r].v)) {
            starts[n_local++] = r;
            have_local = 1;
        }
    double opt_pts[N_LOCAL + 1][HP_SPACE_MAX_PARAMS];
    double opt_val[N_LOCAL + 1];
    nlopt_opt opt = NULL;
    double v[HP_SPACE_MAX_PARAMS];
    if (nv) {
        opt = nlopt_create(NLOPT_LD_LBFGS, (unsigned)nv);
        if (!opt)
            goto oom;
        double lo[HP_SPACE_MAX_PARAMS], hi[HP_SPACE_MAX_PARAMS];
        for (size_t j = 0; j < nv; j++) {
            lo[j] = 0;
            hi[j] = 1;
        }
        nlopt_set_lower_bounds(opt, lo);
        nlopt_set_upper_bounds(opt, hi);
        nlopt_set_min_objective(opt, acq_objective, &ctx);
        nlopt_set_maxeval(opt, LOCAL_MAXEVAL);
        nlopt_set_ftol_rel(opt, 1e-9);
    }
    for (size_t r = 0; r < n_local; r++) {
        const double *c = w.cand + w.rank[starts[r]].i * d;
        double f0 = w.rank[starts[r]].v, f = f0;
        memcpy(full, c, d * sizeof *full);
        if (opt) {
            for (size_t j = 0; j < nv; j++)
                v[j] = c[vars[j]];
            nlopt_result res = nlopt_optimize(opt, v, &f);
            if (res < 0 && res != NLOPT_ROUNDOFF_LIMITED)
                f = acq_objective((unsigned)nv, v, NULL, &ctx);
            for (size_t j = 0; j < nv; j++)
                full[vars[j]] = v[j];
            /* keep the start if the optimiser made it worse */
            if (!(f <= f0)) {
                memcpy(full, c, d * sizeof *full);
                f = f0;
            }
        }
        memcpy(opt_pts[r], full, d * sizeof *full);
        opt_val[r] = f;
    }
    if (opt)
        nlopt_destroy(opt);

    /* the best point that does not repeat a trial: optimised points in
     * order of their value, then the remaining candidates */
    idx_val_t order[N_LOCAL + 1];
    for (size_t r = 0; r < n_local; r++)
        order[r] = (idx_val_t){opt_val[r], r};
    qsort(order, n_local, sizeof *order, cmp_idx_val);
    for (size_t r = 0; r < n_local; r++) {
        decode(sp, opt_pts[order[r].i], x);
        if (!repeats(sp, x, w.sorted, h->n))
            goto done;
    }
    for (size_t j = 0; j < m; j++) {
        decode(sp, w.cand + w.rank[j].i * d, x);
        if (!repeats(sp, x, w.sorted, h->n))
            goto done;
    }
    random_point(s, number, x); /* a tiny discrete space, all tried */
done:
    hp_gp_fini(&gp);
    work_free(&w);
    return rc;
oom:
    hp_gp_fini(&gp);
    work_free(&w);
    return hp_errf(err, errlen, HP_ENOMEM, "bayes: out of memory");
}

const hp_sampler_vt_t hp_sampler_bayes = {
    .name = "bayes",
    .expensive = 1,
    .init = bayes_init,
    .suggest = bayes_suggest,
    .fini = bayes_fini,
};
