/* The `space:` section of a study spec, read into an hp_space_t. */
#include "spec_int.h"

#include "err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pdraft {
    int type; /* -1 unknown */
    int has_low, has_high, has_step, has_log;
    int line_low, line_high, line_step, line_log, line_values, line_grid;
    double low, high, step;
    int log;
    uint32_t grid_points;
    int has_values;
    hp_choice_t *values;
    size_t n_values;
} pdraft_t;

static void draft_fini(pdraft_t *d)
{
    for (size_t i = 0; i < d->n_values; i++)
        free(d->values[i].text);
    free(d->values);
}

/* parse_values reads `values:` into d (scalars; numbers if need_numbers). */
static void parse_values(ctx_t *c, const map_t *m, entry_t *f, pdraft_t *d, int need_numbers)
{
    char p[300];
    val_t v = spec_entry_val(c, m, f, p, sizeof p);
    d->line_values = v.line;
    if (v.kind != K_SEQ) {
        spec_type_err(c, &v, p, "a list of values");
        return;
    }
    int count = fy_node_sequence_item_count(f->val);
    if (count == 0) {
        spec_err(c, v.line, p, "must not be empty");
        return;
    }
    if (count > MAX_LIST) {
        spec_err(c, v.line, p, "has too many values (%d; at most %d)", count, MAX_LIST);
        return;
    }
    d->values = calloc((size_t)count, sizeof *d->values);
    HP_ASSERT(d->values != NULL);
    d->has_values = 1;
    void *it = NULL;
    struct fy_node *item;
    int idx = 0, bad = 0;
    while ((item = fy_node_sequence_iterate(f->val, &it)) != NULL) {
        char ip[400];
        snprintf(ip, sizeof ip, "%s[%d]", p, idx++);
        val_t iv = spec_classify(c, item, ip, v.line);
        hp_choice_t ch = {0};
        if (need_numbers) {
            if (spec_get_number(c, &iv, ip, -INFINITY, INFINITY, "a number", &ch.num) < 0) {
                bad = 1;
                continue;
            }
            ch.is_number = 1;
            spec_number_text(ch.num, &ch.text);
        } else if (iv.kind == K_NUMBER) {
            if (!isfinite(iv.num)) {
                spec_err(c, iv.line, ip, "must be a finite number");
                bad = 1;
                continue;
            }
            ch.is_number = 1;
            ch.num = iv.num;
            spec_number_text(iv.num, &ch.text);
        } else if (iv.kind == K_STRING || iv.kind == K_BOOL) {
            if (iv.len > MAX_TEXT) {
                spec_err(c, iv.line, ip, "is too long (%zu bytes)", iv.len);
                bad = 1;
                continue;
            }
            ch.text = spec_strndup(iv.text, iv.len);
        } else {
            spec_type_err(c, &iv, ip, "a number or a string");
            bad = 1;
            continue;
        }
        for (size_t j = 0; j < d->n_values; j++) {
            int same = ch.is_number
                           ? d->values[j].is_number && d->values[j].num == ch.num
                           : !d->values[j].is_number && strcmp(d->values[j].text, ch.text) == 0;
            if (same) {
                char b[64];
                spec_err(c, iv.line, ip, "duplicate value '%s' (also %s[%zu])",
                         spec_show(b, sizeof b, ch.text, strlen(ch.text)), p, j);
                bad = 1;
                free(ch.text);
                ch.text = NULL;
                break;
            }
        }
        if (ch.text)
            d->values[d->n_values++] = ch;
    }
    if (bad)
        d->has_values = 0;
}

/* A parameter's name must be an identifier that fits hp_param_t. */
static int check_name(ctx_t *c, const entry_t *pe, const char *path)
{
    if (spec_is_ident(pe->key, pe->klen) && pe->klen < HP_PARAM_NAME_MAX)
        return 1;
    char b[64];
    spec_err(c, pe->line, path,
             "'%s' is not a valid parameter name (letters, digits and '_', not "
             "starting with a digit, at most %d characters)",
             spec_show(b, sizeof b, pe->key, pe->klen), HP_PARAM_NAME_MAX - 1);
    return 0;
}

static void read_type(ctx_t *c, map_t *m, pdraft_t *d)
{
    char p[300];
    entry_t *f;
    if ((f = spec_map_get(m, "type")) != NULL) {
        val_t v = spec_entry_val(c, m, f, p, sizeof p);
        spec_get_enum(c, &v, p, "type", hp_spec_param_type_names, 3, &d->type);
    } else {
        spec_missing(c, m, "type", "(float, int or categorical)");
    }
}

/* low, high and step: type-checked first, then judged by the type. */
static void read_bounds(ctx_t *c, map_t *m, pdraft_t *d)
{
    char p[300];
    struct nf {
        const char *key;
        int *has;
        int *line;
        double *val;
    } nums[] = {{"low", &d->has_low, &d->line_low, &d->low},
                {"high", &d->has_high, &d->line_high, &d->high},
                {"step", &d->has_step, &d->line_step, &d->step}};
    for (size_t i = 0; i < HP_ARRAY_LEN(nums); i++) {
        entry_t *f;
        if ((f = spec_map_get(m, nums[i].key)) == NULL)
            continue;
        val_t v = spec_entry_val(c, m, f, p, sizeof p);
        *nums[i].line = v.line;
        if (d->type == HP_PARAM_CATEGORICAL) {
            spec_err(c, v.line, p, "is not used by categorical parameters (they take 'values')");
            continue;
        }
        if (spec_get_number(c, &v, p, -INFINITY, INFINITY, "a number", nums[i].val) < 0)
            continue;
        if (d->type == HP_PARAM_INT &&
            (*nums[i].val != floor(*nums[i].val) || fabs(*nums[i].val) > INT_EXACT)) {
            spec_err(c, v.line, p, "must be a whole number for an int parameter (got %.17g)",
                     *nums[i].val);
            continue;
        }
        *nums[i].has = 1;
    }
}

/* log and grid_points: how a numeric range is searched. */
static void read_scale(ctx_t *c, map_t *m, pdraft_t *d)
{
    char p[300];
    entry_t *f;
    if ((f = spec_map_get(m, "log")) != NULL) {
        val_t v = spec_entry_val(c, m, f, p, sizeof p);
        d->line_log = v.line;
        if (d->type == HP_PARAM_CATEGORICAL)
            spec_err(c, v.line, p, "is not used by categorical parameters");
        else if (spec_get_bool(c, &v, p, &d->log) == 0)
            d->has_log = 1;
    }
    if ((f = spec_map_get(m, "grid_points")) != NULL) {
        val_t v = spec_entry_val(c, m, f, p, sizeof p);
        d->line_grid = v.line;
        if (d->type >= 0 && d->type != HP_PARAM_FLOAT)
            spec_err(c, v.line, p, "is only used by float parameters (grid search takes every %s)",
                     d->type == HP_PARAM_INT ? "step of an int" : "categorical value");
        else
            spec_get_u32(c, &v, p, 2, 1000000, &d->grid_points);
    }
}

/* Explicit values of a numeric parameter: each must be whole for an int
 * and inside the bounds given; the bounds not given are taken from them. */
static void bounds_from_values(ctx_t *c, pdraft_t *d, const char *path)
{
    char lp[400];
    double mn = d->values[0].num, mx = d->values[0].num;
    for (size_t i = 1; i < d->n_values; i++) {
        mn = fmin(mn, d->values[i].num);
        mx = fmax(mx, d->values[i].num);
    }
    for (size_t i = 0; i < d->n_values; i++) {
        double x = d->values[i].num;
        snprintf(lp, sizeof lp, "%s.values[%zu]", path, i);
        if (d->type == HP_PARAM_INT && (x != floor(x) || fabs(x) > INT_EXACT))
            spec_err(c, d->line_values, lp,
                     "must be a whole number for an int parameter (got %.17g)", x);
        else if ((d->has_low && x < d->low) || (d->has_high && x > d->high))
            spec_err(c, d->line_values, lp, "%.17g is outside [low, high] = [%.17g, %.17g]",
                     x, d->has_low ? d->low : mn, d->has_high ? d->high : mx);
    }
    if (!d->has_low)
        d->low = mn, d->has_low = 1, d->line_low = d->line_values;
    if (!d->has_high)
        d->high = mx, d->has_high = 1, d->line_high = d->line_values;
}

/* A step must fit the range, and a log scale has none. */
static void check_step(ctx_t *c, pdraft_t *d, const char *path)
{
    char sp[400];
    snprintf(sp, sizeof sp, "%s.step", path);
    if (d->type == HP_PARAM_INT && !d->has_step)
        d->step = 1;
    if (d->has_step && d->step <= 0)
        spec_err(c, d->line_step, sp, "must be > 0 (got %.17g)", d->step);
    else if (d->has_step && d->step > d->high - d->low)
        spec_err(c, d->line_step, sp, "must be <= high - low (%.17g) (got %.17g)",
                 d->high - d->low, d->step);
    else if (d->has_step && d->log && d->step != 1)
        spec_err(c, d->line_step, sp, "cannot be combined with log: true");
}

/* The range of a float or int parameter whose fields read cleanly: both
 * bounds (given, or from values), low < high, a positive low for a log
 * scale, then the step. */
static void check_range(ctx_t *c, map_t *m, pdraft_t *d, const char *path)
{
    const char *tname = hp_spec_param_type_names[d->type];
    char lp[400];
    if (d->has_values && d->n_values)
        bounds_from_values(c, d, path);
    if (!d->has_low && !d->line_low)
        spec_missing(c, m, "low",
                     tname[0] == 'f' ? "for a float parameter" : "for an int parameter");
    if (!d->has_high && !d->line_high)
        spec_missing(c, m, "high",
                     tname[0] == 'f' ? "for a float parameter" : "for an int parameter");
    snprintf(lp, sizeof lp, "%s.low", path);
    if (d->has_low && d->has_high && d->low >= d->high) {
        if (d->has_values)
            spec_err(c, d->line_values, lp,
                     "values give a single point (%.17g); use trial.fixed for a constant",
                     d->low);
        else
            spec_err(c, d->line_low, lp, "must be < high (got low %.17g, high %.17g)", d->low,
                     d->high);
    } else if (d->has_low && d->log && d->low <= 0) {
        spec_err(c, d->line_low, lp, "must be > 0 for a log-scaled parameter (got %.17g)",
                 d->low);
    } else if (d->has_low && d->has_high) {
        check_step(c, d, path);
    }
}

/* Adds the checked draft to the space; 1 if it was added. */
static int add_param(ctx_t *c, const entry_t *pe, const char *path, const pdraft_t *d)
{
    hp_spec_t *s = c->spec;
    if (s->space.n >= HP_SPACE_MAX_PARAMS) {
        spec_err(c, pe->line, path, "too many parameters (at most %d)", HP_SPACE_MAX_PARAMS);
        return 0;
    }
    char name[HP_PARAM_NAME_MAX];
    memcpy(name, pe->key, pe->klen);
    name[pe->klen] = '\0';
    hp_param_t *pp = hp_space_add(&s->space, name, (hp_param_type_t)d->type);
    if (!pp) {
        spec_err(c, pe->line, path, "cannot be added to the search space");
        return 0;
    }
    if (d->type != HP_PARAM_CATEGORICAL) {
        pp->low = d->low;
        pp->high = d->high;
        pp->log = d->log;
        pp->step = d->type == HP_PARAM_INT ? (d->has_step ? d->step : 1)
                                           : (d->has_step ? d->step : 0);
        pp->grid_points = d->grid_points;
    }
    for (size_t i = 0; i < d->n_values; i++)
        hp_param_add_value(pp, d->values[i].text, d->values[i].is_number, d->values[i].num);
    return 1;
}

/* parse_param reads one `space.NAME` entry: every field is read and
 * type-checked (so all mistakes are reported), then judged together; a
 * parameter without errors joins the space (*out_ok = 1). */
static void parse_param(ctx_t *c, const entry_t *pe, int *out_ok, spec_when_t *w)
{
    char path[300];
    spec_subpath(path, sizeof path, "space", pe->key, pe->klen);
    *out_ok = 0;
    memset(w, 0, sizeof *w); /* the caller frees it whatever happens below */
    int name_ok = check_name(c, pe, path);
    map_t m;
    if (spec_map_open(c, pe->val, path, pe->line, &m) < 0) {
        spec_map_fini(&m);
        return;
    }
    pdraft_t d = {.type = -1};
    int before = c->errors;
    read_type(c, &m, &d);
    read_bounds(c, &m, &d);
    read_scale(c, &m, &d);
    entry_t *f;
    if ((f = spec_map_get(&m, "values")) != NULL)
        parse_values(c, &m, f, &d, d.type == HP_PARAM_FLOAT || d.type == HP_PARAM_INT);
    spec_when_read(c, &m, path, w);
    static const char *const known[] = {"type", "low",         "high", "log",    "step",
                                        "values", "grid_points", "when", "default"};
    spec_map_unknown(c, &m, known, HP_ARRAY_LEN(known));

    if (d.type == HP_PARAM_CATEGORICAL) {
        if (!spec_map_get(&m, "values"))
            spec_missing(c, &m, "values", "for a categorical parameter (a list of choices)");
    } else if (d.type >= 0 && c->errors == before) {
        check_range(c, &m, &d, path);
    }
    spec_map_fini(&m);
    if (c->errors == before && name_ok && d.type >= 0)
        *out_ok = add_param(c, pe, path, &d);
    draft_fini(&d);
}

void spec_parse_space(ctx_t *c, map_t *root, space_lines_t *sl)
{
    hp_space_init(&c->spec->space);
    entry_t *e = spec_map_get(root, "space");
    if (!e) {
        spec_missing(c, root, "space",
                     "(the parameters to search, e.g. space: {lr: {type: float, low: 1e-5, high: "
                     "1e-1, log: true}})");
        return;
    }
    sl->space = e->line;
    map_t m;
    if (spec_map_open(c, e->val, "space", e->line, &m) == 0) {
        if (m.n == 0)
            spec_err(c, e->line, "space", "must define at least one parameter");
        sl->param = calloc(m.n ? m.n : 1, sizeof *sl->param);
        sl->dropped = calloc(m.n ? m.n : 1, sizeof *sl->dropped);
        sl->when = calloc(m.n ? m.n : 1, sizeof *sl->when);
        sl->n_when = m.n ? m.n : 1;
        HP_ASSERT(sl->param != NULL && sl->dropped != NULL && sl->when != NULL);
        for (size_t i = 0; i < m.n; i++) {
            m.e[i].used = 1;
            int ok;
            spec_when_t w;
            parse_param(c, &m.e[i], &ok, &w);
            if (ok) {
                sl->param[c->spec->space.n - 1] = m.e[i].line;
                sl->when[c->spec->space.n - 1] = w;
            } else {
                spec_when_fini(&w);
                if (m.e[i].klen < HP_PARAM_NAME_MAX) {
                    memcpy(sl->dropped[sl->n_dropped], m.e[i].key, m.e[i].klen);
                    sl->dropped[sl->n_dropped++][m.e[i].klen] = '\0';
                }
            }
        }
        spec_when_resolve(c, sl);
    }
    spec_map_fini(&m);
}

int spec_space_dropped(const space_lines_t *sl, const char *name)
{
    for (size_t i = 0; i < sl->n_dropped; i++)
        if (strcmp(sl->dropped[i], name) == 0)
            return 1;
    return 0;
}

void spec_space_lines_fini(space_lines_t *sl)
{
    for (size_t i = 0; i < sl->n_when; i++)
        spec_when_fini(&sl->when[i]);
    free(sl->when);
    free(sl->param);
    free(sl->dropped);
}

/* space_check runs hp_space_validate as a second opinion and attaches a
 * line to each of its diagnostics (by its "space.NAME[.FIELD]" path). */
void spec_space_check(ctx_t *c, const space_lines_t *sl)
{
    hp_diag_t d = {0};
    hp_space_validate(&c->spec->space, &d);
    for (size_t i = 0; i < d.n; i++) {
        int line = sl->space;
        const char *path = d.items[i].path;
        if (strncmp(path, "space.", 6) == 0) {
            const char *nm = path + 6;
            size_t nl = strcspn(nm, ".[");
            for (size_t k = 0; k < c->spec->space.n; k++)
                if (strlen(c->spec->space.params[k].name) == nl &&
                    memcmp(c->spec->space.params[k].name, nm, nl) == 0)
                    line = sl->param[k];
        }
        spec_err(c, line ? line : 1, path, "%s", d.items[i].message);
    }
    hp_diag_fini(&d);
}

void spec_check_grid(ctx_t *c, const space_lines_t *sl)
{
    const hp_space_t *sp = &c->spec->space;
    for (size_t i = 0; i < sp->n; i++) {
        const hp_param_t *pp = &sp->params[i];
        if (pp->type == HP_PARAM_FLOAT && !pp->n_values && !pp->grid_points &&
            pp->step <= 0) {
            char path[300];
            snprintf(path, sizeof path, "space.%s", pp->name);
            spec_err(c, sl->param[i], path,
                     "grid search needs 'values', 'grid_points' or 'step' for a float parameter");
            return;
        }
    }
    /* the grid sampler refuses a grid it cannot count: so does validate */
    uint64_t size;
    hp_diag_t d = {0};
    if (sp->n && hp_space_grid_size(sp, &size, &d) == HP_ERANGE && d.n)
        spec_err(c, sl->space ? sl->space : 1, "space",
                 "%s; grid search enumerates every combination (use fewer grid_points or "
                 "values, or another algorithm)",
                 d.items[0].message);
    hp_diag_fini(&d);
}
