#include "sampler.h"

#include "err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const hp_sampler_vt_t *lookup(hp_algo_t a)
{
    switch (a) {
    case HP_ALGO_GRID: return &hp_sampler_grid;
    case HP_ALGO_RANDOM: return &hp_sampler_random;
    case HP_ALGO_SOBOL: return &hp_sampler_sobol;
    case HP_ALGO_COARSE_TO_FINE: return &hp_sampler_c2f;
    case HP_ALGO_BAYES: return &hp_sampler_bayes;
    }
    return NULL;
}

int hp_sampler_new(hp_sampler_t **out, const hp_spec_t *spec, char *err, size_t errlen)
{
    *out = NULL;
    const hp_sampler_vt_t *vt = lookup(spec->search.algorithm);
    if (!vt)
        return hp_errf(err, errlen, HP_EINVAL, "search algorithm '%s' is not available yet",
                       hp_algo_name(spec->search.algorithm));
    hp_sampler_t *s = calloc(1, sizeof *s);
    if (!s)
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    s->vt = vt;
    s->spec = spec;
    s->total = spec->search.max_trials;
    int rc = vt->init ? vt->init(s, err, errlen) : 0;
    if (rc < 0) {
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int hp_sampler_suggest(hp_sampler_t *s, uint64_t number, const hp_history_t *h, double *x,
                       char *err, size_t errlen)
{
    if (number >= s->total)
        return hp_errf(err, errlen, HP_ENOENT, "all %llu trials have been suggested",
                       (unsigned long long)s->total);
    int rc = s->vt->suggest(s, number, h, x, err, errlen);
    /* every sampler draws a value for every parameter; the inactive ones
     * of a conditional space are then dropped (NaN), so no trial carries
     * a parameter its condition turns off */
    if (rc == 0)
        hp_space_deactivate(&s->spec->space, x);
    return rc;
}

int hp_sampler_is_expensive(const hp_sampler_t *s) { return s->vt->expensive; }
uint64_t hp_sampler_total(const hp_sampler_t *s) { return s->total; }

void hp_sampler_free(hp_sampler_t *s)
{
    if (!s)
        return;
    if (s->vt->fini)
        s->vt->fini(s);
    hp_prior_t *p = &s->prior;
    free(p->obs);
    free(p->x);
    free(p->cv);
    free(p->src);
    for (size_t i = 0; i < p->n_study; i++)
        free(p->study[i]);
    free(p->study);
    free(s);
}

static unsigned prior_study_index(hp_prior_t *p, const char *study)
{
    if (p->n_study && strcmp(p->study[p->n_study - 1], study) == 0)
        return (unsigned)(p->n_study - 1);
    for (size_t i = 0; i < p->n_study; i++)
        if (strcmp(p->study[i], study) == 0)
            return (unsigned)i;
    p->study = realloc(p->study, (p->n_study + 1) * sizeof *p->study);
    HP_ASSERT(p->study != NULL);
    p->study[p->n_study] = strdup(study);
    HP_ASSERT(p->study[p->n_study] != NULL);
    return (unsigned)p->n_study++;
}

void hp_sampler_add_prior(hp_sampler_t *s, const char *study, uint64_t number, double value,
                          const double *x, const double *cv)
{
    HP_ASSERT(isfinite(value));
    hp_prior_t *p = &s->prior;
    size_t d = s->spec->space.n ? s->spec->space.n : 1;
    size_t nc = s->spec->n_constraints;
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        p->obs = realloc(p->obs, cap * sizeof *p->obs);
        p->x = realloc(p->x, cap * d * sizeof *p->x);
        p->cv = realloc(p->cv, cap * (nc ? nc : 1) * sizeof *p->cv);
        p->src = realloc(p->src, cap * sizeof *p->src);
        HP_ASSERT(p->obs && p->x && p->cv && p->src);
        p->cap = cap;
        for (size_t i = 0; i < p->n; i++) {
            p->obs[i].x = p->x + i * d;
            if (p->obs[i].cv)
                p->obs[i].cv = p->cv + i * nc;
        }
    }
    double *px = p->x + p->n * d;
    memcpy(px, x, s->spec->space.n * sizeof *px);
    double *pcv = NULL;
    if (nc && cv) {
        pcv = p->cv + p->n * nc;
        memcpy(pcv, cv, nc * sizeof *pcv);
    }
    p->obs[p->n] = (hp_obs_t){
        .number = number, .state = HP_OBS_COMPLETED, .value = value, .x = px, .cv = pcv};
    p->src[p->n] = prior_study_index(p, study);
    p->n++;
}

void hp_sampler_move_prior(hp_sampler_t *to, hp_sampler_t *from)
{
    HP_ASSERT(to->spec->space.n == from->spec->space.n &&
              to->spec->n_constraints == from->spec->n_constraints && to->prior.n == 0);
    free(to->prior.obs);
    free(to->prior.x);
    free(to->prior.cv);
    free(to->prior.src);
    free(to->prior.study);
    to->prior = from->prior; /* the points stay where they are: obs[i].x, .cv hold */
    memset(&from->prior, 0, sizeof from->prior);
}

const char *hp_sampler_prior_study(const hp_sampler_t *s, size_t i)
{
    return i < s->prior.n ? s->prior.study[s->prior.src[i]] : NULL;
}

int hp_sampler_obs_feasible(const hp_spec_t *spec, const hp_obs_t *o)
{
    if (!o->cv)
        return 1;
    for (size_t k = 0; k < spec->n_constraints; k++) {
        const struct hp_spec_constraint *q = &spec->constraints[k];
        double v = o->cv[k];
        if (isnan(v) || (q->has_max && !(v <= q->max)) || (q->has_min && !(v >= q->min)))
            return 0;
    }
    return 1;
}
