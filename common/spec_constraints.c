/* The spec's `constraints:` list — bounds on metrics a trial reports, e.g.
 * [{metric: memory_mb, max: 2000}, {metric: accuracy, min: 0.5}] — and
 * the judgement of a completed trial by them. */
#include "spec_int.h"

#include "err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void parse_one(ctx_t *c, struct fy_node *n, const char *path, int line)
{
    hp_spec_t *s = c->spec;
    map_t m;
    if (spec_map_open(c, n, path, line, &m) < 0) {
        spec_map_fini(&m);
        return;
    }
    char p[400];
    entry_t *f;
    struct hp_spec_constraint k = {0};
    int before = c->errors, line_min = 0;
    if ((f = spec_map_get(&m, "metric")) != NULL) {
        val_t v = spec_entry_val(c, &m, f, p, sizeof p);
        char *name = NULL;
        if (spec_get_string(c, &v, p, &name) == 0) {
            if (strcspn(name, " \t\r\n=") != strlen(name) || strlen(name) > 63 || !*name)
                spec_err(c, v.line, p,
                         "'%s' is not a valid metric name (no spaces or '=', at most 63 "
                         "characters)",
                         name);
            for (size_t i = 0; i < s->n_constraints; i++)
                if (strcmp(s->constraints[i].metric, name) == 0)
                    spec_err(c, v.line, p,
                             "metric '%s' has a constraint already (give min and max in one)",
                             name);
            k.metric = name;
        }
    } else {
        spec_missing(c, &m, "metric", "(the metric the constraint bounds, e.g. memory_mb)");
    }
    if ((f = spec_map_get(&m, "min")) != NULL) {
        val_t v = spec_entry_val(c, &m, f, p, sizeof p);
        line_min = v.line;
        k.has_min = spec_get_number(c, &v, p, -INFINITY, INFINITY, "a number", &k.min) == 0;
    }
    if ((f = spec_map_get(&m, "max")) != NULL) {
        val_t v = spec_entry_val(c, &m, f, p, sizeof p);
        k.has_max = spec_get_number(c, &v, p, -INFINITY, INFINITY, "a number", &k.max) == 0;
    }
    static const char *const known[] = {"metric", "min", "max"};
    spec_map_unknown(c, &m, known, HP_ARRAY_LEN(known));
    if (c->errors == before && !k.has_min && !k.has_max)
        spec_err(c, m.line, path,
                 "bounds nothing: give max (e.g. {metric: memory_mb, max: 2000}), min, or both");
    if (k.has_min && k.has_max && k.min > k.max) {
        snprintf(p, sizeof p, "%s.min", path);
        spec_err(c, line_min, p, "must be <= max (got min %.17g, max %.17g): no trial could "
                                 "be feasible",
                 k.min, k.max);
    }
    if (c->errors == before && k.metric) {
        s->constraints[s->n_constraints++] = k;
    } else {
        free(k.metric);
    }
    spec_map_fini(&m);
}

/* A benchmark function reports only `value`: a constraint on anything
 * else could never hold. (Called once the trial is parsed.) */
static void check_reportable(ctx_t *c, int line)
{
    const hp_spec_t *s = c->spec;
    if (s->trial.kind != HP_TRIAL_FUNCTION)
        return;
    for (size_t i = 0; i < s->n_constraints; i++)
        if (strcmp(s->constraints[i].metric, "value") != 0) {
            char p[64];
            snprintf(p, sizeof p, "constraints[%zu].metric", i);
            spec_err(c, line, p,
                     "function %s reports only 'value', never '%s': every trial would be "
                     "infeasible",
                     hp_function_name(s->trial.function), s->constraints[i].metric);
        }
}

void spec_parse_constraints(ctx_t *c, map_t *root)
{
    entry_t *e = spec_map_get(root, "constraints");
    if (!e)
        return;
    char p[300];
    val_t v = spec_entry_val(c, root, e, p, sizeof p);
    if (v.kind != K_SEQ) {
        if (v.kind != K_BAD)
            spec_type_err(c, &v, p,
                          "a list of constraints ([{metric: memory_mb, max: 2000}, ...])");
        return;
    }
    int count = fy_node_sequence_item_count(e->val);
    if (count > MAX_CONSTRAINTS) {
        spec_err(c, v.line, p, "has %d constraints (at most %d)", count, MAX_CONSTRAINTS);
        return;
    }
    c->spec->constraints = calloc(count ? (size_t)count : 1, sizeof *c->spec->constraints);
    HP_ASSERT(c->spec->constraints != NULL);
    void *it = NULL;
    struct fy_node *item;
    int idx = 0;
    while ((item = fy_node_sequence_iterate(e->val, &it)) != NULL) {
        char ip[320];
        snprintf(ip, sizeof ip, "%s[%d]", p, idx++);
        val_t iv = spec_classify(c, item, ip, v.line);
        if (iv.kind != K_MAP) {
            if (iv.kind != K_BAD)
                spec_type_err(c, &iv, ip, "a constraint ({metric: NAME, max: N} or min: N)");
            continue;
        }
        parse_one(c, item, ip, iv.line);
    }
    check_reportable(c, v.line);
}

int hp_spec_feasible(const hp_spec_t *spec,
                     int (*value_of)(void *data, const char *metric, double *v), void *data,
                     char *why, size_t whylen)
{
    for (size_t i = 0; i < spec->n_constraints; i++) {
        const struct hp_spec_constraint *k = &spec->constraints[i];
        double v;
        if (!value_of(data, k->metric, &v) || isnan(v)) {
            snprintf(why, whylen, "it never reported %s, which a constraint bounds", k->metric);
            return 0;
        }
        if (k->has_max && !(v <= k->max)) {
            snprintf(why, whylen, "%s = %.6g is above max %.6g", k->metric, v, k->max);
            return 0;
        }
        if (k->has_min && !(v >= k->min)) {
            snprintf(why, whylen, "%s = %.6g is below min %.6g", k->metric, v, k->min);
            return 0;
        }
    }
    return 1;
}
