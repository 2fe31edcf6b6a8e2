/* Several objectives in bayes: ParEGO (Knowles 2006). Each suggestion
 * draws its own weight vector w, uniform on the simplex (from the seed
 * and the trial number, so suggestions stay deterministic), scales every
 * objective to [0, 1] over the completed trials ("smaller is better"
 * first), and models the augmented Chebyshev scalarisation
 *
 *     s(y) = max_i w_i f_i(y) + RHO * sum_i w_i f_i(y)
 *
 * with the single-objective machinery: warp, GP, pending trials at the
 * model's own value, LogEI. Every weight vector's minimiser is a Pareto-
 * optimal point (the max term reaches the concave parts of a front that a
 * weighted sum misses; the small sum term breaks its ties towards
 * dominating points), so over many suggestions the trials spread along
 * the front. */
#include "bayes_int.h"

#include <math.h>

#define RHO 0.05

static int has_ov(const hp_obs_t *o)
{
    return o->state == HP_OBS_COMPLETED && o->ov && isfinite(o->value);
}

void bayes_mo_prepare(bayes_ctx_t *c)
{
    size_t m = c->spec->objective.n_list;
    c->mo_n = m;
    if (!m)
        return;
    hp_rng_t r;
    hp_rng_init(&r, bayes_mix(c->spec->search.seed, 0x9A4E60), c->number);
    double sum = 0;
    for (size_t i = 0; i < m; i++) {
        /* exponentials, normalised: a uniform point of the simplex */
        c->mo_w[i] = -log(1.0 - hp_rng_uniform(&r));
        sum += c->mo_w[i];
    }
    for (size_t i = 0; i < m; i++) {
        c->mo_w[i] /= sum;
        c->mo_lo[i] = INFINITY;
        c->mo_hi[i] = -INFINITY;
    }
    for (size_t k = 0; k < c->h->n; k++) {
        const hp_obs_t *o = &c->h->obs[k];
        if (!has_ov(o))
            continue;
        for (size_t i = 0; i < m; i++) {
            double v = hp_spec_objective_goal(c->spec, i) == HP_GOAL_MAXIMIZE ? -o->ov[i]
                                                                               : o->ov[i];
            if (!isfinite(v))
                continue;
            c->mo_lo[i] = fmin(c->mo_lo[i], v);
            c->mo_hi[i] = fmax(c->mo_hi[i], v);
        }
    }
}

double bayes_mo_value(const bayes_ctx_t *c, const hp_obs_t *o)
{
    if (!has_ov(o))
        return NAN;
    double mx = -INFINITY, sum = 0;
    for (size_t i = 0; i < c->mo_n; i++) {
        double v = hp_spec_objective_goal(c->spec, i) == HP_GOAL_MAXIMIZE ? -o->ov[i] : o->ov[i];
        if (!isfinite(v))
            return NAN;
        double span = c->mo_hi[i] - c->mo_lo[i];
        double f = span > 0 ? (v - c->mo_lo[i]) / span : 0;
        mx = fmax(mx, c->mo_w[i] * f);
        sum += c->mo_w[i] * f;
    }
    return mx + RHO * sum;
}
