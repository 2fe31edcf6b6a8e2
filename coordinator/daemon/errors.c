/* A RESULT's error analysis, checked and stored (trial_errors, trial_worst). */
#include "coord_int.h"

#include "err.h"
#include "error_analysis.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* from_msg copies m into ea if every count and bound adds up; else err
 * says what does not */
static int from_msg(const Hpsearch__ErrorAnalysis *m, hp_ea_t *ea, char *err, size_t errlen)
{
    int k = (int)(m->classes <= HP_EA_MAX_CLASSES ? m->classes : 0);
    if (k < 1)
        return hp_errf(err, errlen, HP_EPROTO, "classes %u is not in 1..%d", m->classes,
                       HP_EA_MAX_CLASSES);
    if (m->n_confusion != (size_t)k * (size_t)k)
        return hp_errf(err, errlen, HP_EPROTO, "%zu confusion cells for %d classes (want %d)",
                       m->n_confusion, k, k * k);
    if (m->n_worst > HP_EA_WORST)
        return hp_errf(err, errlen, HP_EPROTO, "%zu worst examples (at most %d)", m->n_worst,
                       HP_EA_WORST);
    uint64_t px = (uint64_t)m->image_c * m->image_h * m->image_w;
    if (px > HP_EA_MAX_PIXELS || (px == 0 && (m->image_c || m->image_h || m->image_w)))
        return hp_errf(err, errlen, HP_EPROTO, "image shape %ux%ux%u is not one it keeps",
                       m->image_c, m->image_h, m->image_w);
    int rc = hp_ea_init(ea, k, (int)m->image_c, (int)m->image_h, (int)m->image_w, err, errlen);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < m->n_confusion; i++) {
        ea->confusion[i] = m->confusion[i];
        ea->n += m->confusion[i];
    }
    for (size_t i = 0; i < m->n_worst; i++) {
        const Hpsearch__WorstExample *w = m->worst[i];
        if (w->label >= (uint32_t)k || w->predicted >= (uint32_t)k) {
            hp_ea_fini(ea);
            return hp_errf(err, errlen, HP_EPROTO, "worst example %zu: class %u or %u of %d",
                           i + 1, w->label, w->predicted, k);
        }
        if (px && w->pixels.len != px) {
            hp_ea_fini(ea);
            return hp_errf(err, errlen, HP_EPROTO,
                           "worst example %zu: %zu pixel bytes for a %ux%ux%u image", i + 1,
                           w->pixels.len, m->image_c, m->image_h, m->image_w);
        }
        ea->worst[i] = (hp_ea_example_t){w->index, (int32_t)w->label, (int32_t)w->predicted,
                                         (float)w->loss};
        if (px)
            memcpy(hp_ea_pixels(ea, i), w->pixels.data, px);
    }
    ea->nworst = m->n_worst;
    return 0;
}

void coord_errors_result(coord_t *c, coord_run_t *r, const Hpsearch__ErrorAnalysis *m)
{
    if (!m)
        return;
    hp_ea_t ea;
    char err[256];
    if (from_msg(m, &ea, err, sizeof err) < 0) {
        hp_log_warn("trial %" PRId64 ": its error analysis is dropped: %s", r->trial_id, err);
        return;
    }
    if (coord_write_begin(c) == 0 &&
        hp_store_trial_errors_put(c->store, r->trial_id, r->attempt, &ea, err, sizeof err) < 0)
        hp_log_warn("trial %" PRId64 ": cannot store its error analysis: %s", r->trial_id, err);
    hp_ea_fini(&ea);
}
