/* Quasi-random search: scrambled Sobol points (scramble seeded by the study
 * seed), trial n gets point n, so the design fills the space evenly and a
 * restarted study continues the same sequence. */
#include "sampler.h"

#include "err.h"
#include "sobol.h"

#include <stdlib.h>

static int sobol_init(hp_sampler_t *s, char *err, size_t errlen)
{
    hp_sobol_t *q = calloc(1, sizeof *q);
    if (!q)
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    int rc = hp_sobol_init(q, (unsigned)s->spec->space.n, 1, s->spec->search.seed);
    if (rc < 0) {
        free(q);
        return hp_errf(err, errlen, rc, "sobol: cannot build a sequence in %zu dimensions",
                       s->spec->space.n);
    }
    s->state = q;
    return 0;
}

static int sobol_suggest(hp_sampler_t *s, uint64_t number, const hp_history_t *h, double *x,
                         char *err, size_t errlen)
{
    (void)h;
    (void)err;
    (void)errlen;
    hp_sobol_t *q = s->state;
    if (q->index != number) {
        /* out of order (a restart, or a test): jump straight there */
        hp_sobol_fini(q);
        int rc = hp_sobol_init(q, (unsigned)s->spec->space.n, 1, s->spec->search.seed);
        HP_ASSERT(rc == 0); /* the same arguments succeeded in init */
        hp_sobol_skip(q, number);
    }
    double u[HP_SPACE_MAX_PARAMS];
    hp_sobol_next(q, u);
    hp_space_from_unit(&s->spec->space, u, x);
    return 0;
}

static void sobol_fini(hp_sampler_t *s)
{
    hp_sobol_fini(s->state);
    free(s->state);
}

const hp_sampler_vt_t hp_sampler_sobol = {
    .name = "sobol",
    .init = sobol_init,
    .suggest = sobol_suggest,
    .fini = sobol_fini,
};
