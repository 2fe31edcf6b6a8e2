/* GP Bayesian optimisation (search.algorithm: bayes): the sampler that ties
 * the GP (gp.h) and Log EI (acq.h) together. docs/search.md describes it
 * for users.
 *
 * One suggestion:
 *  1. trials number < n_initial minus the prior observations (a warm
 *     start, sampler.h), or fewer than 2 usable observations: the
 *     scrambled Sobol point `number` (the initial design). Prior
 *     observations are observations like the study's own completed
 *     trials from here on.
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
 *  5. the acquisition (search.acquisition): logei is LogEI with no trial
 *     pending and, with trials pending, the lower confidence bound
 *     mean - PENDING_KAPPA * sd on that model (GP-BUCB), so k idle workers
 *     get k different points that keep refining the best region; ucb is
 *     the bound mean - kappa * sd always (pending trials still collapse
 *     the variance, so parallel workers still get different points). Maximised over a Sobol sweep plus Gaussian
 *     perturbations of the best points at several fractions of their
 *     length scales, then L-BFGS from the best few candidates and the best
 *     perturbation (categorical inputs held fixed, ints treated as
 *     continuous and rounded by hp_space_from_unit); the best point that
 *     does not repeat a trial.
 *
 * Conditional parameters (space.h): an inactive parameter enters the GP at
 * a fixed stand-in, the middle of the cube (0.5) for a numeric one and the
 * index -1, which no choice has, for a categorical one (bayes_impute), so
 * the kernel sees two trials that both lack it as equal in that input and
 * a trial that has it as differing by its distance from the middle (by the
 * Hamming distance 1 for a categorical). Activity depends only on
 * categorical parents, which the local search holds fixed, so it never
 * moves an inactive input either; candidates are imputed the same way
 * before the GP scores them, and decoded points drop the inactive ones.
 *
 * The code follows these steps as phases over one context (bayes_int.h):
 * the initial design, collect and subset here, warp, fit and pending in
 * bayes_model.c, acquire in bayes_acq.c.
 *
 * Determinism: given the seed and the same sequence of histories, a fresh
 * sampler gives the same suggestions. The warm start makes a suggestion
 * depend (weakly) on the fits before it; a sampler rebuilt after a restart
 * refits from the defaults and may differ in the last digits of the fit.
 */
#include "bayes_int.h"
#include "err.h"
#include "gp.h"
#include "rng.h"
#include "sampler.h"
#include "sobol.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FIT_MAX 192    /* observations used to fit hyperparameters */
#define FIT_BEST 32    /* of which the best ones */
#define MODEL_MAX 2000 /* observations in the posterior */
#define MODEL_BEST 500

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
    hp_rng_init(&r, bayes_mix(s->spec->search.seed, 0xFA11BAC), number);
    double u[HP_SPACE_MAX_PARAMS];
    for (size_t i = 0; i < sp->n; i++)
        u[i] = hp_rng_uniform(&r);
    hp_space_from_unit(sp, u, x);
}

#define encode bayes_encode

static int cmp_obs_number(const void *a, const void *b)
{
    const hp_obs_t *p = *(const hp_obs_t *const *)a, *q = *(const hp_obs_t *const *)b;
    return p->number < q->number ? -1 : p->number > q->number;
}

/* The value the model learns, "smaller is better": the objective, or with
 * several the suggestion's scalarisation of them all (bayes_mo.c). */
static double oriented(const bayes_ctx_t *c, const hp_obs_t *o)
{
    if (c->mo_n)
        return bayes_mo_value(c, o);
    return c->spec->objective.goal == HP_GOAL_MAXIMIZE ? -o->value : o->value;
}

static int completed(const bayes_ctx_t *c, const hp_obs_t *o)
{
    return o->state == HP_OBS_COMPLETED && isfinite(o->value) && isfinite(oriented(c, o));
}

/* A pruned trial is modelled at its projection to the end when it has
 * one (hp_obs_t.projected), else at the value it was stopped with but
 * never better than the worst completed one (see collect); without either
 * it is left out. With several objectives (a trial stopped for a diverging
 * loss) it has one value only, so it is the worst completed. */
static int usable(const bayes_ctx_t *c, const hp_obs_t *o)
{
    return completed(c, o) ||
           (o->state == HP_OBS_PRUNED &&
            ((isfinite(o->value) && !c->mo_n) || c->has_worst));
}

/* Mark cap of the n observations: the n_best lowest y, and an even spread
 * (by trial order) of the rest. */
static int pick_subset(const double *y, size_t n, size_t cap, size_t n_best, unsigned char *take)
{
    hp_idx_val_t *rank = malloc(n * sizeof *rank);
    if (!rank)
        return HP_ENOMEM;
    for (size_t i = 0; i < n; i++)
        rank[i] = (hp_idx_val_t){y[i], i};
    qsort(rank, n, sizeof *rank, hp_cmp_idx_val);
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

/* The prior observations (warm start) in the order they were added, then
 * the history in trial order, so arrival order does not matter; how many
 * of them are usable observations (nc, of which the priors nprior) and
 * pending (np). */
static int sort_history(bayes_ctx_t *c, const hp_prior_t *prior)
{
    const hp_history_t *h = c->h;
    c->ns = prior->n + h->n;
    c->sorted = malloc((c->ns ? c->ns : 1) * sizeof *c->sorted);
    if (!c->sorted)
        return HP_ENOMEM;
    for (size_t i = 0; i < prior->n; i++)
        c->sorted[i] = &prior->obs[i];
    for (size_t i = 0; i < h->n; i++)
        c->sorted[prior->n + i] = &h->obs[i];
    qsort(c->sorted + prior->n, h->n, sizeof *c->sorted, cmp_obs_number);
    c->nc = c->np = c->nprior = 0;
    c->has_worst = 0;
    for (size_t i = 0; i < c->ns; i++) {
        const hp_obs_t *o = c->sorted[i];
        double v = oriented(c, o);
        if (completed(c, o) && (!c->has_worst || v > c->worst)) {
            c->worst = v;
            c->has_worst = 1;
        }
    }
    for (size_t i = 0; i < c->ns; i++) {
        const hp_obs_t *o = c->sorted[i];
        if (usable(c, o)) {
            c->nc++;
            c->nprior += i < prior->n;
        } else if (o->state == HP_OBS_PENDING) {
            c->np++;
        }
    }
    return 0;
}

/* collect: completed trials with a finite value become model inputs
 * with their oriented values, and so do pruned ones (at the value they
 * were stopped with, but no better than the worst completed trial);
 * pending ones follow them with a value to be lied (bayes_pending); failed
 * and non-finite ones are left out. */
static int collect(bayes_ctx_t *c)
{
    size_t d = c->d, nc = c->nc;
    c->nm = nc + c->np;
    c->X = malloc(c->nm * d * sizeof *c->X);
    c->y = malloc(c->nm * sizeof *c->y);
    if (!c->X || !c->y)
        return HP_ENOMEM;
    c->yraw = malloc(nc * sizeof *c->yraw);
    c->dlog = malloc(nc * sizeof *c->dlog);
    if (!c->yraw || !c->dlog)
        return HP_ENOMEM;
    if (c->spec->n_constraints) {
        c->feas = malloc(nc ? nc : 1);
        if (!c->feas)
            return HP_ENOMEM;
    }
    size_t ic = 0, ip = nc;
    for (size_t i = 0; i < c->ns; i++) {
        const hp_obs_t *o = c->sorted[i];
        if (usable(c, o)) {
            /* a pruned trial never finished: it met no constraint */
            if (c->feas)
                c->feas[ic] = completed(c, o) && hp_sampler_obs_feasible(c->spec, o);
            encode(c->sp, o->x, c->X + ic * d);
            double v = oriented(c, o);
            /* pruned without a projection: stopped because it was worse
             * than the others at its step, so at least as bad as the worst
             * completed trial (its value at the step it was stopped at is
             * above its end, for a falling curve); ranked among the pruned
             * by that value. A projection is an estimate of its end and
             * is taken as it is. */
            if (o->state == HP_OBS_PRUNED && !o->projected && c->has_worst && !(v > c->worst))
                v = c->worst;
            c->yraw[ic++] = v;
        } else if (o->state == HP_OBS_PENDING) {
            encode(c->sp, o->x, c->X + ip * d);
            c->y[ip++] = 0; /* the liar, set by bayes_pending */
        }
    }
    return 0;
}

/* subset: the posterior costs O(n^2) memory and O(n^3) time: beyond
 * MODEL_MAX completed trials keep the best MODEL_BEST and a spread of the
 * rest (every warp keeps the order, so the raw values rank them); the
 * hyperparameters are fitted on at most FIT_MAX of those, chosen alike. */
static int subset(bayes_ctx_t *c)
{
    size_t d = c->d;
    if (c->nc > MODEL_MAX) {
        unsigned char *take = malloc(c->nc);
        if (!take || pick_subset(c->yraw, c->nc, MODEL_MAX, MODEL_BEST, take) < 0) {
            free(take);
            return HP_ENOMEM;
        }
        size_t k = 0;
        for (size_t i = 0; i < c->nm; i++)
            if (i >= c->nc || take[i]) {
                memmove(c->X + k * d, c->X + i * d, d * sizeof *c->X);
                if (i < c->nc)
                    c->yraw[k] = c->yraw[i];
                if (i < c->nc && c->feas)
                    c->feas[k] = c->feas[i];
                k++;
            }
        free(take);
        c->nc = MODEL_MAX;
        c->nm = k;
    }

    c->nf = c->nc;
    c->Xf = c->X;
    c->yf = c->y;
    if (c->nc > FIT_MAX) {
        c->Xfit = malloc(FIT_MAX * d * sizeof *c->Xfit);
        c->yfit = malloc(FIT_MAX * sizeof *c->yfit);
        c->take = calloc(c->nc, 1);
        if (!c->Xfit || !c->yfit || !c->take ||
            pick_subset(c->yraw, c->nc, FIT_MAX, FIT_BEST, c->take) < 0)
            return HP_ENOMEM;
        c->nf = 0;
        for (size_t i = 0; i < c->nc; i++)
            if (c->take[i])
                memcpy(c->Xfit + c->nf++ * d, c->X + i * d, d * sizeof *c->X);
        c->Xf = c->Xfit;
        c->yf = c->yfit;
    }
    return 0;
}

static void ctx_fini(bayes_ctx_t *c)
{
    bayes_feas_fini(c);
    free(c->feas);
    hp_gp_fini(&c->gp);
    free(c->sorted);
    free(c->X);
    free(c->y);
    free(c->yraw);
    free(c->dlog);
    free(c->take);
    free(c->Xfit);
    free(c->yfit);
    free(c->cand);
    free(c->mean);
    free(c->var);
    free(c->rank);
    free(c->scratch);
}

static int bayes_suggest(hp_sampler_t *s, uint64_t number, const hp_history_t *h, double *x,
                         char *err, size_t errlen)
{
    const hp_spec_t *spec = s->spec;
    bayes_ctx_t c = {.b = s->state, .spec = spec, .sp = &spec->space, .d = spec->space.n,
                     .number = number, .h = h};
    uint64_t n_init = spec->search.n_initial ? spec->search.n_initial
                      : spec->search.max_trials < 10 ? spec->search.max_trials
                                                     : 10;
    bayes_mo_prepare(&c);
    int rc = sort_history(&c, &s->prior);
    if (rc < 0)
        goto fail;

    /* the initial design (1.), shortened by the warm start's observations:
     * with n_initial of them the model suggests the very first trial */
    if (number + c.nprior < n_init || c.nc < 2) {
        ctx_fini(&c);
        rc = sobol_point(s, number, x);
        return rc < 0 ? hp_errf(err, errlen, rc, "bayes: cannot build a Sobol sequence in %zu "
                                "dimensions", c.d)
                      : 0;
    }

    if ((rc = collect(&c)) < 0 || (rc = subset(&c)) < 0)
        goto fail;
    for (size_t i = 0; i < c.d; i++)
        c.cat[i] = c.sp->params[i].type == HP_PARAM_CATEGORICAL;
    if ((rc = hp_gp_init(&c.gp, c.d, c.cat)) < 0)
        goto fail;
    c.gp.fit_mean = 1;
    hp_rng_init(&c.rng, bayes_mix(spec->search.seed, 0xB4E5), number);

    if ((rc = bayes_warp(&c)) < 0 || (rc = bayes_fit(&c)) < 0 || (rc = bayes_feas_fit(&c)) < 0)
        goto fail;
    rc = bayes_pending(&c);
    if (rc == 0)
        rc = bayes_acquire(&c, x);
    /* no posterior, or a tiny discrete space all tried */
    if (rc == HP_ENUMERIC || rc == HP_ENOENT) {
        random_point(s, number, x);
        rc = 0;
    }
    if (rc < 0)
        goto fail;
    ctx_fini(&c);
    return 0;
fail:
    ctx_fini(&c);
    return hp_errf(err, errlen, HP_ENOMEM, "bayes: out of memory");
}

const hp_sampler_vt_t hp_sampler_bayes = {
    .name = "bayes",
    .expensive = 1,
    .init = bayes_init,
    .suggest = bayes_suggest,
    .fini = bayes_fini,
};
