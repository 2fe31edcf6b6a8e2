/* The `trial:` section of a study spec: built-in model, benchmark function
 * or external command, and what every kind shares. */
#include "spec_int.h"

#include "err.h"
#include "trial_settings.h"
#include "vec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* trial.timeout's largest value: any real limit fits, and the worker's
 * deadline arithmetic stays exact */
#define MAX_TIMEOUT_S 1e9

/* get_value reads a fixed/env value: a scalar, or (lists_ok) a list of
 * scalars kept as canonical JSON text. */
static int get_value(ctx_t *c, const val_t *v, struct fy_node *n, const char *path, int lists_ok,
                     hp_spec_value_t *out)
{
    memset(out, 0, sizeof *out);
    switch (v->kind) {
    case K_NUMBER:
        if (!isfinite(v->num)) {
            spec_err(c, v->line, path, "must be a finite number");
            return -1;
        }
        out->kind = HP_VALUE_NUMBER;
        out->num = v->num;
        spec_number_text(v->num, &out->text);
        return 0;
    case K_BOOL:
        out->kind = HP_VALUE_BOOL;
        out->num = v->num;
        out->text = spec_strdup(v->num != 0 ? "true" : "false");
        return 0;
    case K_STRING:
        if (v->len > MAX_TEXT) {
            spec_err(c, v->line, path, "is too long (%zu bytes; at most %d)", v->len, MAX_TEXT);
            return -1;
        }
        out->kind = HP_VALUE_STRING;
        out->text = spec_strndup(v->text, v->len);
        return 0;
    case K_SEQ:
        if (lists_ok) {
            int count = fy_node_sequence_item_count(n);
            if (count == 0 || count > 1000) {
                spec_err(c, v->line, path, "a list value must have 1 to 1000 items");
                return -1;
            }
            hp_buf_t b = {0};
            hp_buf_putc(&b, '[');
            void *it = NULL;
            struct fy_node *item;
            int idx = 0;
            while ((item = fy_node_sequence_iterate(n, &it)) != NULL) {
                char ip[400];
                snprintf(ip, sizeof ip, "%s[%d]", path, idx);
                val_t iv = spec_classify(c, item, ip, v->line);
                if (idx++)
                    hp_buf_putc(&b, ',');
                if (iv.kind == K_NUMBER && isfinite(iv.num)) {
                    hp_buf_json_number(&b, iv.num);
                } else if (iv.kind == K_BOOL) {
                    hp_buf_puts(&b, iv.num != 0 ? "true" : "false");
                } else if (iv.kind == K_STRING && iv.len <= MAX_TEXT) {
                    char *t = spec_strndup(iv.text, iv.len);
                    hp_buf_json_string(&b, t);
                    free(t);
                } else {
                    spec_type_err(c, &iv, ip, "a number, string or boolean");
                    hp_buf_fini(&b);
                    return -1;
                }
            }
            hp_buf_putc(&b, ']');
            out->kind = HP_VALUE_LIST;
            out->text = hp_buf_steal(&b);
            return 0;
        }
        /* fall through */
    default:
        spec_type_err(c, v, path, lists_ok ? "a number, string, boolean or list" : "a string");
        return -1;
    }
}

/* parse_values_map reads fixed: or env: (name -> value). */
static void parse_value_map(ctx_t *c, const map_t *tm, entry_t *e, int env, hp_spec_value_t **out,
                            size_t *nout, int **lines)
{
    char path[300];
    spec_subpath(path, sizeof path, tm->path, e->key, e->klen);
    map_t m;
    if (spec_map_open(c, e->val, path, e->line, &m) == 0) {
        size_t max = env ? MAX_ENV : MAX_FIXED;
        if (m.n > max)
            spec_err(c, e->line, path, "has too many entries (%zu; at most %zu)", m.n, max);
        *out = calloc(m.n ? m.n : 1, sizeof **out);
        *lines = calloc(m.n ? m.n : 1, sizeof **lines);
        HP_ASSERT(*out != NULL && *lines != NULL);
        for (size_t i = 0; i < m.n && i < max; i++) {
            entry_t *f = &m.e[i];
            f->used = 1;
            char p[300];
            val_t v = spec_entry_val(c, &m, f, p, sizeof p);
            char b[64];
            if (env) {
                if (!spec_is_ident(f->key, f->klen)) {
                    spec_err(c, f->line, p, "'%s' is not a valid environment variable name",
                             spec_show(b, sizeof b, f->key, f->klen));
                    continue;
                }
                if (f->klen >= 9 && memcmp(f->key, "HPSEARCH_", 9) == 0) {
                    spec_err(c, f->line, p,
                             "HPSEARCH_* variables are reserved (the worker sets them)");
                    continue;
                }
            } else if (!spec_is_ident(f->key, f->klen) || f->klen >= HP_PARAM_NAME_MAX) {
                spec_err(c, f->line, p,
                         "'%s' is not a valid parameter name (letters, digits and '_', not "
                         "starting with a digit)",
                         spec_show(b, sizeof b, f->key, f->klen));
                continue;
            }
            hp_spec_value_t val;
            if (get_value(c, &v, f->val, p, !env, &val) < 0)
                continue;
            if (env && val.kind != HP_VALUE_STRING)
                val.kind = HP_VALUE_STRING; /* the environment is text */
            val.name = spec_strndup(f->key, f->klen);
            (*lines)[*nout] = f->line;
            (*out)[(*nout)++] = val;
        }
    }
    spec_map_fini(&m);
}

static void check_placeholders(ctx_t *c, const space_lines_t *sl, const char *arg,
                               const char *path, int line)
{
    const hp_spec_t *s = c->spec;
    for (const char *q = arg; *q; q++) {
        if (q[0] == '{' && q[1] == '{') {
            q++;
            continue;
        }
        if (q[0] == '}' && q[1] == '}') {
            q++;
            continue;
        }
        if (*q == '}') {
            spec_err(c, line, path, "unmatched '}' (write '}}' for a literal brace)");
            return;
        }
        if (*q != '{')
            continue;
        const char *end = strchr(q + 1, '}');
        if (!end) {
            spec_err(c, line, path,
                     "unterminated placeholder '{' (write '{{' for a literal brace)");
            return;
        }
        size_t n = (size_t)(end - q - 1);
        char name[HP_PARAM_NAME_MAX];
        char b[64];
        if (!spec_is_ident(q + 1, n) || n >= sizeof name) {
            spec_err(c, line, path, "'{%s}' is not a valid placeholder (write {param_name})",
                     spec_show(b, sizeof b, q + 1, n));
            return;
        }
        memcpy(name, q + 1, n);
        name[n] = '\0';
        int pi = hp_space_find(&s->space, name);
        if (pi < 0 && !hp_spec_find_fixed(s, name) && !spec_space_dropped(sl, name))
            spec_err(c, line, path, "placeholder {%s} names no parameter in space or trial.fixed",
                     name);
        char upper[HP_PARAM_NAME_MAX];
        for (size_t k = 0; k <= n; k++)
            upper[k] = (char)(name[k] >= 'a' && name[k] <= 'z' ? name[k] - 'a' + 'A' : name[k]);
        if (pi >= 0 && s->space.params[pi].has_when && !s->space.params[pi].has_default)
            spec_err(c, line, path,
                     "placeholder {%s} names a conditional parameter (when: {%s: ...}), which "
                     "trials leave out while it is inactive; give space.%s a default: to fill "
                     "the placeholder then, or read it from the environment "
                     "(HPSEARCH_PARAM_%s)",
                     name, s->space.params[s->space.params[pi].when_parent].name, name, upper);
        q = end;
    }
}

static void parse_command(ctx_t *c, const map_t *tm, entry_t *e, int **arg_lines)
{
    hp_spec_t *s = c->spec;
    char p[300];
    int before = c->errors;
    val_t v = spec_entry_val(c, tm, e, p, sizeof p);
    if (v.kind == K_STRING) {
        /* a string is split on whitespace (no shell quoting) */
        size_t cap = 9; /* items, with the terminating NULL */
        s->trial.argv = calloc(cap, sizeof *s->trial.argv);
        HP_ASSERT(s->trial.argv != NULL);
        size_t i = 0;
        while (i < v.len) {
            while (i < v.len && strchr(" \t\r\n", v.text[i]))
                i++;
            size_t st = i;
            while (i < v.len && !strchr(" \t\r\n", v.text[i]))
                i++;
            if (i == st)
                break;
            if (s->trial.argc == MAX_ARGS) {
                spec_err(c, v.line, p, "has too many arguments (at most %d)", MAX_ARGS);
                break;
            }
            s->trial.argv = hp_vec_grow(s->trial.argv, &cap, s->trial.argc + 2,
                                        sizeof *s->trial.argv, 8);
            s->trial.argv[s->trial.argc++] = spec_strndup(v.text + st, i - st);
            s->trial.argv[s->trial.argc] = NULL;
        }
        *arg_lines = calloc(s->trial.argc + 1, sizeof **arg_lines);
        HP_ASSERT(*arg_lines != NULL);
        for (size_t k = 0; k < s->trial.argc; k++)
            (*arg_lines)[k] = v.line;
    } else if (v.kind == K_SEQ) {
        int count = fy_node_sequence_item_count(e->val);
        if (count > MAX_ARGS) {
            spec_err(c, v.line, p, "has too many arguments (%d; at most %d)", count, MAX_ARGS);
            return;
        }
        s->trial.argv = calloc((size_t)count + 1, sizeof *s->trial.argv);
        *arg_lines = calloc((size_t)count + 1, sizeof **arg_lines);
        HP_ASSERT(s->trial.argv != NULL && *arg_lines != NULL);
        void *it = NULL;
        struct fy_node *item;
        int idx = 0;
        while ((item = fy_node_sequence_iterate(e->val, &it)) != NULL) {
            char ip[400];
            snprintf(ip, sizeof ip, "%s[%d]", p, idx++);
            val_t iv = spec_classify(c, item, ip, v.line);
            char *a = NULL;
            if (iv.kind == K_BOOL)
                a = spec_strdup(iv.num != 0 ? "true" : "false");
            else if (spec_get_string(c, &iv, ip, &a) < 0)
                continue;
            (*arg_lines)[s->trial.argc] = iv.line;
            s->trial.argv[s->trial.argc++] = a;
        }
    } else {
        spec_type_err(c, &v, p, "a list of arguments (or one string split on spaces)");
        return;
    }
    if (s->trial.argc == 0 && c->errors == before)
        spec_err(c, v.line, p, "must name a program to run");
}

/* a column list: a string ("px*" or "a,b") or a list of strings, kept as
 * one comma-separated string */
static char *column_list(ctx_t *c, map_t *m, entry_t *f, const char *path)
{
    char q[300];
    val_t v = spec_entry_val(c, m, f, q, sizeof q);
    char *s = NULL;
    if (v.kind == K_STRING) {
        spec_get_string(c, &v, q, &s);
        return s;
    }
    if (v.kind != K_SEQ) {
        spec_type_err(c, &v, path, "a string or a list of column names");
        return NULL;
    }
    hp_buf_t b = {0};
    void *it = NULL;
    struct fy_node *item;
    int idx = 0;
    while ((item = fy_node_sequence_iterate(f->val, &it)) != NULL) {
        char ip[340];
        snprintf(ip, sizeof ip, "%s[%d]", path, idx);
        val_t iv = spec_classify(c, item, ip, v.line);
        char *t = NULL;
        if (iv.kind != K_STRING || spec_get_string(c, &iv, ip, &t) < 0) {
            if (iv.kind != K_STRING)
                spec_type_err(c, &iv, ip, "a column name");
            hp_buf_fini(&b);
            return NULL;
        }
        if (strchr(t, ',')) {
            spec_err(c, iv.line, ip, "a column name may not contain ',' (got '%s')", t);
            free(t);
            hp_buf_fini(&b);
            return NULL;
        }
        if (idx++)
            hp_buf_putc(&b, ',');
        hp_buf_puts(&b, t);
        free(t);
    }
    if (idx == 0)
        hp_buf_puts(&b, "none"); /* [] : no features */
    return hp_buf_steal(&b);
}

/* a shape list at path: n whole numbers 1..4096 ("[C, H, W]" in what),
 * as "a,b,c"; NULL after reporting a mistake */
static char *shape_list(ctx_t *c, map_t *m, entry_t *f, const char *path, int n,
                        const char *what)
{
    char q[300];
    val_t v = spec_entry_val(c, m, f, q, sizeof q);
    int k = v.kind == K_SEQ ? fy_node_sequence_item_count(f->val) : 0;
    if (k != n) {
        spec_err(c, v.line, path, "must be a list %s of %s whole numbers", what,
                 n == 3 ? "three" : "two");
        return NULL;
    }
    long dims[3] = {0, 0, 0};
    void *it = NULL;
    struct fy_node *item;
    int ok = 1;
    for (int i = 0; i < n && (item = fy_node_sequence_iterate(f->val, &it)) != NULL; i++) {
        char ip[340];
        snprintf(ip, sizeof ip, "%s[%d]", path, i);
        val_t iv = spec_classify(c, item, ip, v.line);
        uint64_t u = 0;
        if (spec_get_uint(c, &iv, ip, 1, 4096, &u) < 0)
            ok = 0;
        dims[i] = (long)u;
    }
    if (!ok)
        return NULL;
    char t[64];
    if (n == 3)
        snprintf(t, sizeof t, "%ld,%ld,%ld", dims[0], dims[1], dims[2]);
    else
        snprintf(t, sizeof t, "%ld,%ld", dims[0], dims[1]);
    return spec_strdup(t);
}

/* image_columns, image_shape, feature_columns, sequence_columns,
 * sequence_shape: a CSV's modalities */
static void parse_columns(ctx_t *c, map_t *m, int builtin, hp_spec_dataset_t *d)
{
    enum { IC, IS, FC, SC, SS, NKEYS };
    static const char *const keys[NKEYS] = {"image_columns", "image_shape", "feature_columns",
                                            "sequence_columns", "sequence_shape"};
    char *vals[NKEYS] = {NULL};
    entry_t *fs[NKEYS];
    for (int k = 0; k < NKEYS; k++) {
        entry_t *f = fs[k] = spec_map_get(m, keys[k]);
        if (!f)
            continue;
        char path[300];
        snprintf(path, sizeof path, "trial.dataset.%s", keys[k]);
        if (builtin) {
            spec_err(c, f->line, path, "only applies to CSV datasets (path)");
            continue;
        }
        if (k == IS)
            vals[k] = shape_list(c, m, f, path, 3, "[C, H, W]");
        else if (k == SS)
            vals[k] = shape_list(c, m, f, path, 2, "[T, F] (time steps, features per step)");
        else
            vals[k] = column_list(c, m, f, path);
    }
    /* one of a pair without the other (one given but wrong has its own error) */
    static const int pairs[2][2] = {{IC, IS}, {SC, SS}};
    for (int p = 0; !builtin && p < 2; p++) {
        int a = pairs[p][0], b = pairs[p][1];
        if (!fs[a] == !fs[b])
            continue;
        int have = fs[a] ? a : b, lack = fs[a] ? b : a;
        char path[300];
        snprintf(path, sizeof path, "trial.dataset.%s", keys[lack]);
        spec_err(c, fs[have]->line, path, "is required with trial.dataset.%s", keys[have]);
    }
    /* a sequence is the whole input: no model reads it beside an image or
     * tabular features */
    static const int others[2] = {IC, FC};
    for (int i = 0; !builtin && fs[SC] && i < 2; i++)
        if (fs[others[i]])
            spec_err(c, fs[others[i]]->line,
                     others[i] == IC ? "trial.dataset.image_columns"
                                     : "trial.dataset.feature_columns",
                     "cannot be combined with trial.dataset.sequence_columns: a sequence "
                     "dataset's input is its sequence alone (the other columns but the label "
                     "are left out)");
    d->image_columns = vals[IC];
    d->image_shape = vals[IS];
    d->feature_columns = vals[FC];
    d->sequence_columns = vals[SC];
    d->sequence_shape = vals[SS];
}

static void parse_dataset(ctx_t *c, const map_t *tm, entry_t *e)
{
    hp_spec_dataset_t *d = &c->spec->trial.dataset;
    d->validation_fraction = HP_SPEC_DEFAULT_VAL_FRACTION;
    char p[300], q[300];
    val_t v = spec_entry_val(c, tm, e, p, sizeof p);
    char *s = NULL;
    if (v.kind == K_STRING || v.kind == K_NUMBER) {
        if (spec_get_string(c, &v, p, &s) < 0)
            return;
        size_t n = strlen(s);
        if (hp_trial_dataset_is_path(s, n)) {
            d->is_path = 1;
        } else if (spec_word_in(s, n, hp_spec_datasets, HP_ARRAY_LEN(hp_spec_datasets)) < 0) {
            spec_err(c, v.line, p,
                     "unknown dataset '%s' (built-in: fashion-mnist; a CSV file path must "
                     "end in .csv or contain '/')",
                     s);
            free(s);
            return;
        }
        d->source = s;
        return;
    }
    map_t m;
    if (spec_map_open(c, e->val, p, e->line, &m) < 0) {
        spec_map_fini(&m);
        return;
    }
    entry_t *fn = spec_map_get(&m, "name"), *fp = spec_map_get(&m, "path"), *f;
    if (fn && fp) {
        spec_err(c, fp->line, "trial.dataset.path",
                 "give either name (a built-in dataset) or path (a CSV file), not both");
    } else if (fn) {
        val_t nv = spec_entry_val(c, &m, fn, q, sizeof q);
        int i;
        if (spec_get_enum(c, &nv, q, "dataset", hp_spec_datasets, HP_ARRAY_LEN(hp_spec_datasets),
                          &i) == 0)
            d->source = spec_strdup(hp_spec_datasets[i]);
    } else if (fp) {
        val_t pv = spec_entry_val(c, &m, fp, q, sizeof q);
        if (spec_get_string(c, &pv, q, &d->source) == 0)
            d->is_path = 1;
    } else {
        spec_missing(c, &m, "name", "(or path: a CSV file)");
    }
    if ((f = spec_map_get(&m, "label")) != NULL) {
        val_t lv = spec_entry_val(c, &m, f, q, sizeof q);
        if (fn)
            spec_err(c, lv.line, q, "only applies to CSV datasets (path)");
        else
            spec_get_string(c, &lv, q, &d->label);
    }
    if ((f = spec_map_get(&m, "task")) != NULL) {
        val_t tv = spec_entry_val(c, &m, f, q, sizeof q);
        int t;
        if (fn)
            spec_err(c, tv.line, q, "only applies to CSV datasets (path)");
        else if (spec_get_enum(c, &tv, q, "task", hp_spec_task_names, 2, &t) == 0)
            d->task = (hp_task_t)t;
    }
    if ((f = spec_map_get(&m, "train_subset")) != NULL) {
        val_t tv = spec_entry_val(c, &m, f, q, sizeof q);
        spec_get_uint(c, &tv, q, 0, 1000000000, &d->train_subset);
    }
    if ((f = spec_map_get(&m, "validation_fraction")) != NULL) {
        val_t tv = spec_entry_val(c, &m, f, q, sizeof q);
        double x;
        if (spec_get_number(c, &tv, q, 0, 1, "in (0, 1)", &x) == 0) {
            if (x <= 0 || x >= 1)
                spec_err(c, tv.line, q, "must be in (0, 1) (got %g)", x);
            else
                d->validation_fraction = x;
        }
    }
    if ((f = spec_map_get(&m, "normalize")) != NULL) {
        val_t tv = spec_entry_val(c, &m, f, q, sizeof q);
        int t;
        if (spec_get_enum(c, &tv, q, "normalization", hp_spec_normalize_names, 4, &t) == 0)
            d->normalize = (hp_normalize_t)t;
    }
    if ((f = spec_map_get(&m, "shift")) != NULL) {
        val_t tv = spec_entry_val(c, &m, f, q, sizeof q);
        int t;
        if (spec_get_enum(c, &tv, q, "shift", hp_spec_shift_names, 4, &t) == 0) {
            if (t == HP_SHIFT_DARKEN && d->is_path)
                spec_err(c, tv.line, q, "darken only applies to image datasets");
            else
                d->shift = (hp_shift_t)t;
        }
    }
    if ((f = spec_map_get(&m, "augment")) != NULL) {
        val_t tv = spec_entry_val(c, &m, f, q, sizeof q);
        if (spec_get_bool(c, &tv, q, &d->augment) == 0 && d->augment && d->is_path) {
            spec_err(c, tv.line, q, "only applies to image datasets");
            d->augment = 0;
        }
    }
    if ((f = spec_map_get(&m, "adapt")) != NULL) {
        val_t tv = spec_entry_val(c, &m, f, q, sizeof q);
        int t;
        if (spec_get_enum(c, &tv, q, "adaptation", hp_spec_adapt_names, 2, &t) == 0) {
            if (t == HP_ADAPT_CORAL && d->shift == HP_SHIFT_NONE)
                spec_err(c, tv.line, q,
                         "coral needs unlabeled inputs of the test distribution: set "
                         "trial.dataset.shift (darken | noise | same); it uses the inputs of the "
                         "shifted test set's validation part, never their labels");
            else
                d->adapt = (hp_adapt_t)t;
        }
    }
    parse_columns(c, &m, fn != NULL, d);
    static const char *const known[] = {"name",          "path",          "label",
                                        "task",          "train_subset",  "validation_fraction",
                                        "normalize",     "shift",         "augment",
                                        "adapt",         "image_columns", "image_shape",
                                        "feature_columns", "sequence_columns",
                                        "sequence_shape"};
    spec_map_unknown(c, &m, known, HP_ARRAY_LEN(known));
    spec_map_fini(&m);
}

/* ---- a built-in model's settings ------------------------------------- */

/* unknown_setting reports name, which is not in the settings table */
static void unknown_setting(ctx_t *c, int line, const char *path, const char *name)
{
    const char *names[256];
    HP_ASSERT(hp_trial_settings_n <= HP_ARRAY_LEN(names));
    for (size_t i = 0; i < hp_trial_settings_n; i++)
        names[i] = hp_trial_settings[i].name;
    char hint[800];
    spec_suggest(hint, sizeof hint, name, strlen(name), names, hp_trial_settings_n);
    spec_err(c, line, path, "unknown setting '%s' for a built-in model%s", name, hint);
}

/* check_value reports text at path if setting s does not take it (the
 * engine's own words: the trial would fail with them at run time) */
static void check_value(ctx_t *c, int line, const char *path, const hp_trial_setting_t *s,
                        const char *text)
{
    hp_trial_value_t v;
    char why[512];
    if (hp_trial_setting_parse(s, text, &v, why, sizeof why) < 0)
        spec_err(c, line, path, "%s", why);
}

/* check_param holds space parameter p against setting s where that is
 * cheap: every listed value, and a range's ends */
static void check_param(ctx_t *c, int line, const hp_param_t *p, const hp_trial_setting_t *s)
{
    char path[300], range[256];
    snprintf(path, sizeof path, "space.%s", p->name);
    if (p->n_values > 0) {
        for (size_t k = 0; k < p->n_values; k++) {
            char vp[340];
            snprintf(vp, sizeof vp, "%s.values[%zu]", path, k);
            check_value(c, line, vp, s, p->values[k].text);
        }
        return;
    }
    if (p->type == HP_PARAM_CATEGORICAL)
        return;
    hp_trial_setting_range(s, range, sizeof range);
    if (s->type == HP_TS_STRING) {
        if (s->choices)
            spec_err(c, line, path,
                     "%s takes one of %s: search it with a categorical parameter (values: [...])",
                     s->name, s->choices);
        return; /* free text: a number is text too */
    }
    int whole = s->type != HP_TS_DOUBLE;
    if (whole && p->type == HP_PARAM_FLOAT && p->step == 0 && p->grid_points == 0) {
        spec_err(c, line, path, "%s takes whole numbers; a float parameter samples fractions "
                                "(use type: int)",
                 s->name);
        return;
    }
    if (p->low < s->lo || p->high > s->hi)
        spec_err(c, line, path, "%s %g is outside what %s takes (%s)",
                 p->low < s->lo ? "low" : "high", p->low < s->lo ? p->low : p->high, s->name,
                 range);
}

/* check_model_settings: a built-in model's trial.fixed and space name the
 * engine's settings (common/trial_settings.def), with values it takes. The
 * runner applies them after trial.model, .dataset and .epochs, so a fixed
 * or searched `epochs`, `seed` or `val_size` is a setting like any other. */
static void check_model_settings(ctx_t *c, const space_lines_t *sl, const int *fixed_lines)
{
    const hp_spec_t *s = c->spec;
    char path[300];
    for (size_t i = 0; i < s->trial.n_fixed; i++) {
        const hp_spec_value_t *v = &s->trial.fixed[i];
        snprintf(path, sizeof path, "trial.fixed.%s", v->name);
        const hp_trial_setting_t *st = hp_trial_setting_find(v->name);
        if (!st)
            unknown_setting(c, fixed_lines[i], path, v->name);
        else
            check_value(c, fixed_lines[i], path, st, v->text);
    }
    for (size_t i = 0; i < s->space.n; i++) {
        const hp_param_t *p = &s->space.params[i];
        const hp_trial_setting_t *st = hp_trial_setting_find(p->name);
        snprintf(path, sizeof path, "space.%s", p->name);
        if (!st)
            unknown_setting(c, sl->param[i], path, p->name);
        else
            check_param(c, sl->param[i], p, st);
    }
}

static void check_function_space(ctx_t *c, const space_lines_t *sl, int fline)
{
    hp_spec_t *s = c->spec;
    const char *fname = hp_function_name(s->trial.function);
    int seen[HP_SPACE_MAX_PARAMS + 1] = {0};
    unsigned maxd = 0;
    for (size_t i = 0; i < s->space.n; i++) {
        const hp_param_t *pp = &s->space.params[i];
        char path[300];
        snprintf(path, sizeof path, "space.%s", pp->name);
        const char *q = pp->name + 1;
        unsigned k = 0;
        int ok = pp->name[0] == 'x' && *q >= '1' && *q <= '9';
        for (; ok && *q; q++) {
            ok = *q >= '0' && *q <= '9' && k < 1000;
            k = k * 10 + (unsigned)(*q - '0');
        }
        if (!ok || k > HP_SPACE_MAX_PARAMS) {
            spec_err(c, sl->param[i], path,
                     "benchmark function %s takes parameters x1, x2, ... only", fname);
            continue;
        }
        if (pp->type == HP_PARAM_CATEGORICAL) {
            spec_err(c, sl->param[i], path,
                     "benchmark function inputs must be float or int, not categorical");
            continue;
        }
        seen[k] = 1;
        if (k > maxd)
            maxd = k;
    }
    unsigned need = s->trial.function == HP_FUNC_BRANIN      ? 2
                    : s->trial.function == HP_FUNC_HARTMANN6 ? 6
                                                             : (maxd > 2 ? maxd : 2);
    for (size_t i = 0; i < s->space.n; i++) {
        const hp_param_t *pp = &s->space.params[i];
        if (pp->name[0] == 'x' && strtoul(pp->name + 1, NULL, 10) > need &&
            (s->trial.function == HP_FUNC_BRANIN || s->trial.function == HP_FUNC_HARTMANN6))
            spec_err(c, sl->param[i], "space",
                     "benchmark function %s has %u inputs (x1..x%u); %s is not one", fname, need,
                     need, pp->name);
    }
    for (unsigned k = 1; k <= need; k++) {
        char xk[16];
        snprintf(xk, sizeof xk, "x%u", k);
        if (!seen[k] && !spec_space_dropped(sl, xk)) {
            spec_err(c, fline, "trial.function",
                     "%s needs parameters x1..x%u in space (x%u is missing)", fname, need, k);
            break;
        }
    }
    s->trial.dim = need;
}

void spec_parse_trial(ctx_t *c, map_t *root, const space_lines_t *sl)
{
    hp_spec_t *s = c->spec;
    s->trial.retries = HP_SPEC_DEFAULT_RETRIES;
    s->trial.kill_grace = HP_SPEC_DEFAULT_KILL_GRACE;
    entry_t *e = spec_map_get(root, "trial");
    if (!e) {
        spec_missing(c, root, "trial", "(what one trial runs: model, function or command)");
        return;
    }
    map_t m;
    if (spec_map_open(c, e->val, "trial", e->line, &m) < 0) {
        spec_map_fini(&m);
        return;
    }
    char p[300];
    entry_t *em = spec_map_get(&m, "model"), *ef = spec_map_get(&m, "function"),
            *ec = spec_map_get(&m, "command"), *f;
    entry_t *kinds[3] = {em, ef, ec};
    static const char *const kind_keys[3] = {"model", "function", "command"};
    int kind = -1;
    for (int k = 0; k < 3; k++) {
        if (!kinds[k])
            continue;
        if (kind < 0) {
            kind = k;
        } else {
            char kp[300];
            /* report at whichever comes later in the file */
            int later = kinds[k]->line >= kinds[kind]->line ? k : kind;
            int first = later == k ? kind : k;
            snprintf(kp, sizeof kp, "trial.%s", kind_keys[later]);
            spec_err(c, kinds[later]->line, kp,
                     "cannot be combined with trial.%s (a trial runs exactly one of model, "
                     "function or command)",
                     kind_keys[first]);
        }
    }
    if (kind < 0) {
        spec_err(c, e->line, "trial",
                 "needs one of 'model' (built-in training), 'function' (benchmark) or "
                 "'command' (external program)");
    }
    s->trial.kind = kind < 0 ? HP_TRIAL_MODEL : (hp_trial_kind_t)kind;

    /* keys that only one kind uses */
    static const struct {
        const char *key;
        int kind;
    } only[] = {{"dataset", 0}, {"epochs", 0}, {"noise", 1}, {"env", 2}, {"workdir", 2}};
    entry_t *oe[HP_ARRAY_LEN(only)];
    for (size_t i = 0; i < HP_ARRAY_LEN(only); i++) {
        oe[i] = spec_map_get(&m, only[i].key);
        if (oe[i] && kind >= 0 && kind != only[i].kind) {
            snprintf(p, sizeof p, "trial.%s", only[i].key);
            spec_err(c, oe[i]->line, p, "only applies with trial.%s (this trial uses %s)",
                     kind_keys[only[i].kind], kind_keys[kind]);
            oe[i] = NULL;
        }
    }

    if (kind == HP_TRIAL_MODEL) {
        val_t v = spec_entry_val(c, &m, em, p, sizeof p);
        int x;
        if (spec_get_enum(c, &v, p, "model", hp_spec_model_names, 7, &x) == 0)
            s->trial.model = (hp_model_t)x;
        if (oe[0])
            parse_dataset(c, &m, oe[0]);
        else
            spec_missing(c, &m, "dataset", "(fashion-mnist or a CSV path)");
        if (oe[0] && s->trial.model == HP_MODEL_MULTIMODAL && !s->trial.dataset.image_columns &&
            !s->trial.dataset.sequence_columns)
            spec_err(c, v.line, p,
                     "multimodal needs a CSV dataset with image_columns and image_shape (and "
                     "feature columns): see docs/errors.md, several input modalities");
        /* every model but mlp and multimodal takes a CSV's row as flat
         * values: image columns would be silently ignored and the model
         * fail on 1x1 inputs */
        if (oe[0] && s->trial.model != HP_MODEL_MLP && s->trial.model != HP_MODEL_MULTIMODAL &&
            s->trial.dataset.image_columns)
            spec_err(c, v.line, p,
                     "%s does not read dataset.image_columns (it would see the CSV's row as "
                     "flat values); only model: multimodal makes them an image, with "
                     "feature_columns: none for the image alone (docs/errors.md)",
                     hp_model_name(s->trial.model));
        /* a sequence dataset is read as T steps of F features by the
         * sequence models, flattened by the mlp; the image models have
         * no rows and columns to convolve */
        if (oe[0] && s->trial.dataset.sequence_columns &&
            (s->trial.model == HP_MODEL_LENET || s->trial.model == HP_MODEL_RESNET ||
             s->trial.model == HP_MODEL_MULTIMODAL))
            spec_err(c, v.line, p,
                     "%s reads images, not a sequence: on a sequence dataset "
                     "(trial.dataset.sequence_columns) use lstm, tcn or attention, or mlp "
                     "(which flattens it)",
                     hp_model_name(s->trial.model));
        s->trial.epochs = HP_SPEC_DEFAULT_EPOCHS;
        if (oe[1]) {
            v = spec_entry_val(c, &m, oe[1], p, sizeof p);
            spec_get_u32(c, &v, p, 1, 100000, &s->trial.epochs);
        }
    } else if (kind == HP_TRIAL_FUNCTION) {
        val_t v = spec_entry_val(c, &m, ef, p, sizeof p);
        int x;
        if (spec_get_enum(c, &v, p, "function", hp_spec_function_names, 4, &x) == 0) {
            s->trial.function = (hp_function_t)x;
            check_function_space(c, sl, v.line);
        }
        if (oe[2]) {
            v = spec_entry_val(c, &m, oe[2], p, sizeof p);
            spec_get_number(c, &v, p, 0, INFINITY, ">= 0", &s->trial.noise);
        }
    }

    int *fixed_lines = NULL;
    if ((f = spec_map_get(&m, "fixed")) != NULL) {
        if (kind == HP_TRIAL_FUNCTION) {
            spec_err(c, f->line, "trial.fixed",
                     "benchmark functions take no fixed parameters (search x1..xd in space)");
        } else {
            parse_value_map(c, &m, f, 0, &s->trial.fixed, &s->trial.n_fixed, &fixed_lines);
            for (size_t i = 0; i < s->trial.n_fixed; i++) {
                const char *nm = s->trial.fixed[i].name;
                char fp[300];
                snprintf(fp, sizeof fp, "trial.fixed.%s", nm);
                if (hp_space_find(&s->space, nm) >= 0)
                    spec_err(c, fixed_lines[i], fp,
                             "'%s' is also in space; a parameter is either searched or fixed", nm);
            }
        }
    }
    if (kind == HP_TRIAL_MODEL)
        check_model_settings(c, sl, fixed_lines);
    free(fixed_lines);

    if (kind == HP_TRIAL_COMMAND) {
        int *arg_lines = NULL;
        parse_command(c, &m, ec, &arg_lines);
        for (size_t i = 0; i < s->trial.argc; i++) {
            char ap[400];
            if (fy_node_is_sequence(ec->val))
                snprintf(ap, sizeof ap, "trial.command[%zu]", i);
            else
                snprintf(ap, sizeof ap, "trial.command");
            check_placeholders(c, sl, s->trial.argv[i], ap, arg_lines[i]);
        }
        free(arg_lines);
        if (oe[3]) {
            int *env_lines = NULL;
            parse_value_map(c, &m, oe[3], 1, &s->trial.env, &s->trial.n_env, &env_lines);
            free(env_lines);
        }
        if (oe[4]) {
            val_t v = spec_entry_val(c, &m, oe[4], p, sizeof p);
            spec_get_string(c, &v, p, &s->trial.workdir);
        }
    }

    if ((f = spec_map_get(&m, "timeout")) != NULL) {
        val_t v = spec_entry_val(c, &m, f, p, sizeof p);
        /* the range check alone would say ">= 0" of a value that is:
         * name the bound that was broken */
        if (v.kind == K_NUMBER && isfinite(v.num) && v.num > MAX_TIMEOUT_S) {
            char b[64];
            spec_err(c, v.line, p,
                     "must be at most %.0f seconds (about 31 years; 0 = no limit), got %s",
                     MAX_TIMEOUT_S, spec_show(b, sizeof b, v.text, v.len));
        } else {
            spec_get_number(c, &v, p, 0, MAX_TIMEOUT_S, ">= 0 seconds (0 = no limit)",
                            &s->trial.timeout);
        }
    }
    if ((f = spec_map_get(&m, "retries")) != NULL) {
        val_t v = spec_entry_val(c, &m, f, p, sizeof p);
        spec_get_u32(c, &v, p, 0, 100, &s->trial.retries);
    }
    if ((f = spec_map_get(&m, "kill_grace")) != NULL) {
        val_t v = spec_entry_val(c, &m, f, p, sizeof p);
        double g;
        if (spec_get_number(c, &v, p, 0, 3600, "in (0, 3600] seconds", &g) == 0) {
            if (g <= 0)
                spec_err(c, v.line, p,
                         "must be more than 0 seconds: the time a stopped program has between "
                         "SIGTERM and SIGKILL");
            else if (s->trial.kind != HP_TRIAL_COMMAND)
                spec_err(c, v.line, p,
                         "only applies to trial.command: a built-in trial stops between steps");
            else
                s->trial.kill_grace = g;
        }
    }
    static const char *const known[] = {"model",   "dataset", "epochs",  "fixed",
                                        "function", "noise",  "command", "env",
                                        "workdir", "timeout", "retries", "kill_grace"};
    spec_map_unknown(c, &m, known, HP_ARRAY_LEN(known));
    spec_map_fini(&m);
}
