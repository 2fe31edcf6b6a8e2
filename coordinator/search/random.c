/* Random search: independent uniform points in the unit cube (so log
 * parameters are log-uniform), one RNG stream per trial number, so trial n
 * gets the same parameters whatever happened to other trials. */
#include "sampler.h"

#include "rng.h"

static int random_suggest(hp_sampler_t *s, uint64_t number, const hp_history_t *h, double *x,
                          char *err, size_t errlen)
{
    (void)h;
    (void)err;
    (void)errlen;
    const hp_space_t *sp = &s->spec->space;
    double u[HP_SPACE_MAX_PARAMS];
    hp_rng_t r;
    hp_rng_init(&r, s->spec->search.seed, number);
    for (size_t i = 0; i < sp->n; i++)
        u[i] = hp_rng_uniform(&r);
    hp_space_from_unit(sp, u, x);
    return 0;
}

const hp_sampler_vt_t hp_sampler_random = {
    .name = "random",
    .suggest = random_suggest,
};
