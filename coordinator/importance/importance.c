/* Parameter importance for a study (importance.h): the trials encoded for
 * the forest, the forest fitted, its main effects ranked. */
#include "importance.h"

#include "err.h"
#include "fanova.h"
#include "forest.h"
#include "params.h"
#include "space.h"
#include "vec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

hp_importance_opts_t hp_importance_defaults(void)
{
    hp_forest_params_t fp = hp_forest_defaults();
    return (hp_importance_opts_t){fp.n_trees, fp.max_depth, fp.seed};
}

int hp_importance_input_init(hp_importance_input_t *in, const char *spec_json, size_t len,
                             char *err, size_t errlen)
{
    memset(in, 0, sizeof *in);
    hp_diag_t d = {0};
    int rc = hp_spec_parse(&in->spec, spec_json, len, "studies.spec_json", &d);
    if (rc < 0)
        hp_errf(err, errlen, HP_EINVAL, "the study's stored spec does not parse: %s",
                d.n ? d.items[0].text : "no detail");
    hp_diag_fini(&d);
    return rc < 0 ? HP_EINVAL : 0;
}

void hp_importance_input_fini(hp_importance_input_t *in)
{
    hp_spec_fini(&in->spec);
    free(in->x);
    free(in->y);
    memset(in, 0, sizeof *in);
}

void hp_importance_input_add(hp_importance_input_t *in, const char *params_json, double value)
{
    const hp_space_t *sp = &in->spec.space;
    double x[HP_SPACE_MAX_PARAMS];
    char err[256];
    if (!isfinite(value) || !params_json ||
        hp_params_to_point(sp, params_json, x, err, sizeof err) < 0) {
        in->skipped++;
        return;
    }
    if (in->n == in->cap) {
        size_t cap = hp_vec_next_cap(in->cap, in->n + 1, 64);
        in->x = hp_vec_realloc(in->x, cap * (sp->n ? sp->n : 1), sizeof *in->x);
        in->y = hp_vec_realloc(in->y, cap, sizeof *in->y);
        in->cap = cap;
    }
    memcpy(in->x + in->n * sp->n, x, sp->n * sizeof *x);
    in->y[in->n++] = value;
}

static int cmp_param(const void *a, const void *b)
{
    const hp_importance_param_t *p = a, *q = b;
    return (p->importance < q->importance) - (p->importance > q->importance);
}

int hp_importance_compute(const hp_importance_input_t *in, const hp_importance_opts_t *o,
                          hp_importance_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const hp_space_t *sp = &in->spec.space;
    size_t n = in->n, d = sp->n;
    if (d == 0)
        return hp_errf(err, errlen, HP_EINVAL, "the study's space has no parameters to rank");
    if (n < HP_IMPORTANCE_MIN_TRIALS)
        return hp_errf(err, errlen, HP_EINVAL,
                       "importance needs at least %d completed trials with a finite objective "
                       "(got %zu; failed, pruned, running and infeasible trials do not count)",
                       HP_IMPORTANCE_MIN_TRIALS, n);
    double lo = in->y[0], hi = in->y[0];
    for (size_t i = 1; i < n; i++) {
        lo = in->y[i] < lo ? in->y[i] : lo;
        hi = in->y[i] > hi ? in->y[i] : hi;
    }
    if (!(lo < hi))
        return hp_errf(err, errlen, HP_EINVAL,
                       "the objective is %g in all %zu completed trials: no parameter explains "
                       "any of it",
                       lo, n);

    /* any valid value, to map a point whose inactive coordinates are NaN */
    double half[HP_SPACE_MAX_PARAMS], mid[HP_SPACE_MAX_PARAMS];
    for (size_t j = 0; j < d; j++)
        half[j] = 0.5;
    hp_space_from_unit(sp, half, mid);

    hp_forest_feature_t *feat = hp_vec_realloc(NULL, d, sizeof *feat);
    double *X = hp_vec_realloc(NULL, n * d, sizeof *X);
    size_t active[HP_SPACE_MAX_PARAMS] = {0};
    for (size_t j = 0; j < d; j++) {
        const hp_param_t *p = &sp->params[j];
        feat[j].n_cats = p->type == HP_PARAM_CATEGORICAL ? (uint32_t)p->n_values : 0;
        feat[j].conditional = p->has_when;
        feat[j].has_parent = p->has_when;
        feat[j].parent = p->has_when ? (uint32_t)p->when_parent : 0;
    }
    for (size_t i = 0; i < n; i++) {
        double x[HP_SPACE_MAX_PARAMS], u[HP_SPACE_MAX_PARAMS];
        const double *xi = in->x + i * d;
        for (size_t j = 0; j < d; j++)
            x[j] = isnan(xi[j]) ? mid[j] : xi[j];
        hp_space_to_unit(sp, x, u);
        for (size_t j = 0; j < d; j++) {
            active[j] += !isnan(xi[j]);
            X[i * d + j] = isnan(xi[j]) ? NAN : feat[j].n_cats ? x[j] : u[j];
        }
    }

    hp_forest_params_t fp = {o->n_trees, o->max_depth, o->seed};
    hp_forest_t f;
    int rc = hp_forest_fit(&f, X, in->y, n, d, feat, &fp, err, errlen);
    free(X);
    free(feat);
    if (rc < 0) {
        hp_forest_fini(&f);
        return rc;
    }
    double share[HP_SPACE_MAX_PARAMS], sd[HP_SPACE_MAX_PARAMS];
    hp_fanova_main_effects(&f, share, sd, &out->trees_used);
    hp_forest_fini(&f);

    snprintf(out->method, sizeof out->method, "fANOVA (random forest, %zu trees)", o->n_trees);
    out->n_trials = n;
    out->skipped = in->skipped;
    out->params = calloc(d, sizeof *out->params);
    HP_ASSERT(out->params != NULL);
    out->n_params = d;
    double total = 0;
    for (size_t j = 0; j < d; j++)
        total += share[j];
    out->explained = total;
    for (size_t j = 0; j < d; j++) {
        hp_importance_param_t *q = &out->params[j];
        snprintf(q->name, sizeof q->name, "%s", sp->params[j].name);
        q->share = share[j];
        q->sd = sd[j];
        q->importance = total > 0 ? share[j] / total : 0;
        q->active = active[j];
    }
    /* qsort is not stable: sort by importance, then restore space order
     * within ties by a stable insertion pass */
    qsort(out->params, d, sizeof *out->params, cmp_param);
    for (size_t a = 1; a < d; a++) {
        hp_importance_param_t key = out->params[a];
        size_t b = a;
        while (b > 0 && out->params[b - 1].importance == key.importance &&
               hp_space_find(sp, out->params[b - 1].name) > hp_space_find(sp, key.name)) {
            out->params[b] = out->params[b - 1];
            b--;
        }
        out->params[b] = key;
    }
    return 0;
}

void hp_importance_fini(hp_importance_t *imp)
{
    free(imp->params);
    memset(imp, 0, sizeof *imp);
}

void hp_importance_json(const hp_importance_t *imp, hp_buf_t *out)
{
    hp_buf_puts(out, "{\"method\":");
    hp_buf_json_string(out, imp->method);
    hp_buf_printf(out, ",\"trials\":%zu,\"skipped\":%zu,\"trees_used\":%zu,\"explained\":",
                  imp->n_trials, imp->skipped, imp->trees_used);
    hp_buf_json_number(out, imp->explained);
    hp_buf_puts(out, ",\"params\":[");
    for (size_t j = 0; j < imp->n_params; j++) {
        const hp_importance_param_t *q = &imp->params[j];
        hp_buf_puts(out, j ? ",{\"name\":" : "{\"name\":");
        hp_buf_json_string(out, q->name);
        hp_buf_puts(out, ",\"importance\":");
        hp_buf_json_number(out, q->importance);
        hp_buf_puts(out, ",\"share\":");
        hp_buf_json_number(out, q->share);
        hp_buf_puts(out, ",\"sd\":");
        hp_buf_json_number(out, q->sd);
        hp_buf_printf(out, ",\"active\":%zu}", q->active);
    }
    hp_buf_puts(out, "]}");
}

void hp_importance_text(const hp_importance_t *imp, hp_buf_t *out)
{
    hp_buf_printf(out, "method  %s, on %zu completed trial%s", imp->method, imp->n_trials,
                  imp->n_trials == 1 ? "" : "s");
    if (imp->skipped)
        hp_buf_printf(out, " (%zu left out: no finite objective or unreadable params)",
                      imp->skipped);
    hp_buf_printf(out, "\nmain effects explain %.0f%% of the forest's variance"
                       " (the rest is interactions)\n",
                  100 * imp->explained);
    size_t w = 9;
    for (size_t j = 0; j < imp->n_params; j++)
        w = strlen(imp->params[j].name) > w ? strlen(imp->params[j].name) : w;
    hp_buf_printf(out, "  %-*s  importance  share of variance\n", (int)w, "parameter");
    for (size_t j = 0; j < imp->n_params; j++) {
        const hp_importance_param_t *q = &imp->params[j];
        hp_buf_printf(out, "  %-*s  %10.3f  %5.3f ± %5.3f", (int)w, q->name, q->importance,
                      q->share, q->sd);
        int bar = (int)lround(q->importance * 30);
        if (bar)
            hp_buf_puts(out, "  ");
        for (int k = 0; k < bar; k++)
            hp_buf_putc(out, '#');
        if (q->active < imp->n_trials)
            hp_buf_printf(out, "  (active in %zu of %zu)", q->active, imp->n_trials);
        hp_buf_putc(out, '\n');
    }
}
