#include "sampler.h"

#include "err.h"

#include <stdlib.h>

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
    return s->vt->suggest(s, number, h, x, err, errlen);
}

int hp_sampler_is_expensive(const hp_sampler_t *s) { return s->vt->expensive; }
uint64_t hp_sampler_total(const hp_sampler_t *s) { return s->total; }

void hp_sampler_free(hp_sampler_t *s)
{
    if (!s)
        return;
    if (s->vt->fini)
        s->vt->fini(s);
    free(s);
}
