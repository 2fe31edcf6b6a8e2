/*
 * bayes_int.h — private to the bayes sampler: the state of one suggestion,
 * handed from phase to phase.
 *   bayes.c        the sampler: the initial design, collect (the history
 *                  into model inputs), subset (which observations the
 *                  posterior and the fit use), and the order of the phases
 *   bayes_model.c  warp (the output warp chosen by likelihood), fit (MAP
 *                  hyperparameters) and pending (Kriging-believer values
 *                  for running trials, then the posterior)
 *   bayes_mo.c     several objectives: ParEGO's random augmented-Chebyshev
 *                  scalarisation, one per suggestion
 *   bayes_feas.c   feasibility (constraints): a GP per constraint metric,
 *                  the log probability that a point meets them all
 *   bayes_acq.c    acquire: LogEI or the confidence bound (search.acquisition
 *                  ucb, or trials pending), maximised over
 *                  a Sobol sweep, perturbations and L-BFGS
 *
 *     bayes_ctx_t c = {...};   // bayes.c: the inputs, then collect and subset
 *     bayes_warp(&c);          // each returns 0 or a negative hp_err
 *     bayes_fit(&c);
 *     bayes_pending(&c);
 *     bayes_acquire(&c, x);
 *
 * All of it runs on the thread that called hp_sampler_suggest. The phases
 * draw from one random stream (c.rng) in a fixed order, fit restarts
 * first, perturbations after, so that a suggestion is a function of the
 * seed, the history and the warm start only.
 */
#ifndef HP_BAYES_INT_H
#define HP_BAYES_INT_H

#include "gp.h"
#include "idx_val.h"
#include "rng.h"
#include "sampler.h"

#include <stddef.h>
#include <stdint.h>

/* The sampler's state between suggestions. */
typedef struct bayes {
    double *warm; /* d + 2, valid when has_warm */
    int has_warm;
} bayes_t;

/* bayes_mix derives an independent seed from a and b (splitmix64). */
static inline uint64_t bayes_mix(uint64_t a, uint64_t b)
{
    uint64_t z = a + 0x9E3779B97F4A7C15ull * (b + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* One suggestion. bayes.c owns the context and frees its arrays; each is
 * NULL until the phase that makes it. */
typedef struct bayes_ctx {
    /* inputs */
    bayes_t *b;
    const hp_spec_t *spec;
    const hp_space_t *sp;
    size_t d;
    uint64_t number;
    const hp_history_t *h;
    unsigned char cat[HP_SPACE_MAX_PARAMS]; /* 1: categorical input */

    /* collect: the prior observations (warm start), then the history in
     * trial order; nc observations with a value (completed with a finite
     * one, or pruned: see collect), then np pending ones (nm = nc + np
     * model inputs) */
    const hp_obs_t **sorted; /* ns: the prior observations, then h->n */
    size_t ns, nc, np, nm;
    size_t nprior; /* of the nc, the prior observations */
    /* several objectives (bayes_mo.c; mo_n 0 with one): this suggestion's
     * weights, and each objective's oriented range over the completed */
    size_t mo_n;
    double mo_w[HP_SPEC_MAX_OBJECTIVES], mo_lo[HP_SPEC_MAX_OBJECTIVES],
        mo_hi[HP_SPEC_MAX_OBJECTIVES];
    /* the worst oriented value of a completed observation (has_worst):
     * what a pruned trial is at least as bad as */
    int has_worst;
    double worst;
    double *X, *y;        /* nm x d model inputs, nm values (pending: the liars) */
    double *yraw, *dlog;  /* nc: oriented values ("smaller is better"), warp Jacobian terms */

    /* subset: the observations the hyperparameters are fitted on (all nc,
     * or with take the nf marked ones copied to Xfit / yfit) */
    unsigned char *take; /* nc, or NULL */
    double *Xfit, *yfit;
    const double *Xf, *yf;
    size_t nf;

    /* warp, fit, pending: the model */
    hp_gp_t gp;
    hp_rng_t rng;
    double best;  /* the best standardized value */
    double kappa; /* > 0: the confidence bound (acquisition ucb, or trials
                     pending), else LogEI */

    /* feasible (constraints): per usable observation, whether it met the
     * constraints (nc; NULL without constraints); one GP per constraint on
     * the completed trials that report its metric, with its bounds in that
     * GP's standardized units (+-INFINITY: none); ck_ok[k]: fitted */
    unsigned char *feas;
    size_t nk;
    hp_gp_t *cgp;
    double *ck_lo, *ck_hi;
    unsigned char *ck_ok;
    int no_feasible; /* no observation is feasible: maximise feasibility alone */

    /* acquire */
    double *cand, *mean, *var;
    hp_idx_val_t *rank;
    double *scratch;
} bayes_ctx_t;

/* bayes_impute puts every inactive input of GP input g (unit coordinates,
 * categorical indices) at its stand-in: 0.5, or -1 for a categorical
 * (bayes.c explains the choice). A no-op for an unconditional space. */
static inline void bayes_impute(const hp_space_t *sp, double *g)
{
    for (size_t i = 0; i < sp->n; i++)
        if (sp->params[i].has_when && !hp_space_param_active(sp, g, i))
            g[i] = sp->params[i].type == HP_PARAM_CATEGORICAL ? -1.0 : 0.5;
}

/* bayes_encode: the GP input of point x (unit coordinates, categorical
 * indices as is, inactive parameters at their stand-in). */
static inline void bayes_encode(const hp_space_t *sp, const double *x, double *g)
{
    hp_space_to_unit(sp, x, g);
    for (size_t i = 0; i < sp->n; i++)
        if (sp->params[i].type == HP_PARAM_CATEGORICAL)
            g[i] = x[i];
    bayes_impute(sp, g);
}

/* bayes_mo_prepare draws the suggestion's weights and scales (needs the
 * inputs h, spec, number); a no-op with one objective. bayes_mo_value is
 * then the scalarised "smaller is better" value of observation o, NaN
 * when o is no completed observation with every objective's value. */
void bayes_mo_prepare(bayes_ctx_t *c);
double bayes_mo_value(const bayes_ctx_t *c, const hp_obs_t *o);

/* bayes_feas_fit fits one GP per constraint (bayes_feas.c) on the
 * completed observations that report its metric, and sets c->best to the
 * best feasible value (c->no_feasible when there is none). Needs warp.
 * Returns 0 or HP_ENOMEM; a constraint with too few values gets no model
 * (feasibility 1 there). */
int bayes_feas_fit(bayes_ctx_t *c);

/* bayes_feas_log adds to *acq the log probability that g meets every
 * modelled constraint, and to grad (d entries, may be NULL) its gradient.
 * scratch holds 3 x the largest constraint GP's n. */
void bayes_feas_log(const bayes_ctx_t *c, const double *g, double *acq, double *grad,
                    double *scratch);

/* bayes_feas_log_batch adds the same log probability to acq[j] for the m
 * points X (m x d). Returns 0 or HP_ENOMEM. */
int bayes_feas_log_batch(const bayes_ctx_t *c, const double *X, size_t m, double *acq);

/* bayes_feas_fini frees the constraint models. */
void bayes_feas_fini(bayes_ctx_t *c);

/* bayes_warp picks the output warp under which the data are most likely,
 * leaves c->y (and c->yfit) warped and standardized with it and sets
 * c->best. Needs collect and subset. Returns 0 or HP_ENOMEM. */
int bayes_warp(bayes_ctx_t *c);

/* bayes_fit fits the hyperparameters on the subset, warm-started from the
 * last suggestion's, and keeps them as the next warm start. Returns 0 or
 * HP_ENOMEM. */
int bayes_fit(bayes_ctx_t *c);

/* bayes_pending gives the pending trials the model's own mean as values
 * and factors the posterior on all nm inputs. Returns 0, HP_ENOMEM, or
 * HP_ENUMERIC when the posterior cannot be factored (no model to
 * acquire with). */
int bayes_pending(bayes_ctx_t *c);

/* bayes_acquire writes to x the point (in spec space) that maximises the
 * acquisition and repeats no trial. Needs bayes_pending. Returns 0,
 * HP_ENOMEM, or HP_ENOENT when every candidate repeats a trial. */
int bayes_acquire(bayes_ctx_t *c, double *x);

#endif
