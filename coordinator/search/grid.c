/* Grid search: every combination of the grid, in the stable order of
 * hp_space_grid_point (last parameter fastest), each exactly once. Trial
 * number n is grid point n, so a restart needs no state. */
#include "sampler.h"

#include "err.h"

static int grid_init(hp_sampler_t *s, char *err, size_t errlen)
{
    hp_diag_t d = {0};
    uint64_t size = 0;
    int rc = hp_space_grid_size(&s->spec->space, &size, &d);
    if (rc < 0) {
        rc = hp_errf(err, errlen, rc, "grid search: %s",
                     d.n ? d.items[0].text : "the space has no finite grid");
        hp_diag_fini(&d);
        return rc;
    }
    hp_diag_fini(&d);
    /* max_trials caps the grid; 0 means the whole grid */
    if (s->spec->search.max_trials == 0 || s->spec->search.max_trials > size)
        s->total = size;
    return 0;
}

static int grid_suggest(hp_sampler_t *s, uint64_t number, const hp_history_t *h, double *x,
                        char *err, size_t errlen)
{
    (void)h;
    int rc = hp_space_grid_point(&s->spec->space, number, x);
    if (rc < 0)
        return hp_errf(err, errlen, rc, "grid point %llu does not exist",
                       (unsigned long long)number);
    return 0;
}

const hp_sampler_vt_t hp_sampler_grid = {
    .name = "grid",
    .init = grid_init,
    .suggest = grid_suggest,
};
