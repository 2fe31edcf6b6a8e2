/* Conditional parameters (`when:`): which parameters a point activates
 * and the checks of the conditions.
 *
 * Each condition names one categorical parent, so the parameters form a
 * forest: the unconditional ones are its roots, and a categorical's
 * children are the parameters whose condition names it (space_grid.c
 * enumerates it). */
#include "space_int.h"

#include "err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hp_space_when_add(hp_param_t *p, size_t parent, size_t v)
{
    size_t *w = realloc(p->when_values, (p->n_when_values + 1) * sizeof *w);
    HP_ASSERT(w != NULL);
    p->when_values = w;
    w[p->n_when_values++] = v;
    p->has_when = 1;
    p->when_parent = parent;
}

int hp_space_is_conditional(const hp_space_t *sp)
{
    for (size_t i = 0; i < sp->n; i++)
        if (sp->params[i].has_when)
            return 1;
    return 0;
}

int space_when_holds(const hp_param_t *p, double parent_value)
{
    for (size_t k = 0; k < p->n_when_values; k++)
        if (parent_value == (double)p->when_values[k])
            return 1;
    return 0;
}

int hp_space_param_active(const hp_space_t *sp, const double *x, size_t i)
{
    /* a validated space has no cycle: the chain ends within n steps */
    for (size_t steps = 0; steps <= sp->n; steps++) {
        const hp_param_t *p = &sp->params[i];
        if (!p->has_when)
            return 1;
        if (p->when_parent >= sp->n || !space_when_holds(p, x[p->when_parent]))
            return 0;
        i = p->when_parent;
    }
    return 0;
}

void hp_space_deactivate(const hp_space_t *sp, double *x)
{
    /* decide every parameter before changing any coordinate */
    unsigned char off[HP_SPACE_MAX_PARAMS];
    for (size_t i = 0; i < sp->n; i++)
        off[i] = !hp_space_param_active(sp, x, i);
    for (size_t i = 0; i < sp->n; i++)
        if (off[i])
            x[i] = NAN;
}

/* ---- validation -------------------------------------------------------- */

int space_check_when(const hp_space_t *sp, hp_diag_t *diag)
{
    int bad = 0;
    for (size_t i = 0; i < sp->n; i++) {
        const hp_param_t *p = &sp->params[i];
        char path[HP_PARAM_NAME_MAX + 16];
        snprintf(path, sizeof path, "space.%s.when", p->name);
        if (!p->has_when) {
            if (p->has_default) {
                if (diag)
                    hp_diag_add(diag, "", 0, path, "a default needs a condition (when:)");
                bad++;
            }
            continue;
        }
        if (p->when_parent >= sp->n || p->when_parent == i) {
            if (diag)
                hp_diag_add(diag, "", 0, path, "names no other parameter of the space");
            bad++;
            continue;
        }
        const hp_param_t *q = &sp->params[p->when_parent];
        if (q->type != HP_PARAM_CATEGORICAL) {
            if (diag)
                hp_diag_add(diag, "", 0, path, "'%s' is not categorical", q->name);
            bad++;
            continue;
        }
        if (p->n_when_values == 0) {
            if (diag)
                hp_diag_add(diag, "", 0, path, "lists no choice of '%s'", q->name);
            bad++;
        }
        for (size_t k = 0; k < p->n_when_values; k++)
            if (p->when_values[k] >= q->n_values) {
                if (diag)
                    hp_diag_add(diag, "", 0, path, "choice #%zu is not one of '%s'",
                                p->when_values[k], q->name);
                bad++;
            }
        /* a cycle: following parents comes back to i */
        size_t j = i;
        for (size_t steps = 0; steps < sp->n; steps++) {
            const hp_param_t *r = &sp->params[j];
            if (!r->has_when || r->when_parent >= sp->n)
                break;
            j = r->when_parent;
            if (j == i) {
                if (diag)
                    hp_diag_add(diag, "", 0, path, "is part of a cycle of conditions");
                bad++;
                break;
            }
        }
    }
    return bad;
}

