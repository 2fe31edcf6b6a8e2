/* Conditional parameters in a spec: `when: {parent: value}` or
 * `when: {parent: [v1, v2]}` and `default:` of a parameter, read with it
 * and checked against the whole space once every parameter is known. */
#include "spec_int.h"

#include "err.h"
#include "suggest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void spec_when_fini(spec_when_t *w)
{
    for (size_t i = 0; i < w->n_values; i++)
        free(w->values[i].text);
    free(w->values);
    free(w->def.text);
    memset(w, 0, sizeof *w);
}

/* One scalar as a choice (a number, a string, or a boolean's text). */
static int read_scalar(ctx_t *c, const val_t *v, const char *path, hp_choice_t *out)
{
    memset(out, 0, sizeof *out);
    if (v->kind == K_NUMBER) {
        double num;
        if (spec_get_number(c, v, path, -INFINITY, INFINITY, "a number", &num) < 0)
            return -1;
        out->is_number = 1;
        out->num = num;
        spec_number_text(num, &out->text);
        return 0;
    }
    if (v->kind == K_STRING || v->kind == K_BOOL) {
        if (v->len > MAX_TEXT) {
            spec_err(c, v->line, path, "is too long (%zu bytes)", v->len);
            return -1;
        }
        out->text = spec_strndup(v->text, v->len);
        return 0;
    }
    if (v->kind != K_BAD)
        spec_type_err(c, v, path, "a value (a number or a string)");
    return -1;
}

static void add_value(spec_when_t *w, hp_choice_t ch)
{
    w->values = realloc(w->values, (w->n_values + 1) * sizeof *w->values);
    HP_ASSERT(w->values != NULL);
    w->values[w->n_values++] = ch;
}

static void read_when(ctx_t *c, map_t *m, entry_t *e, const char *path, spec_when_t *w)
{
    char p[300];
    val_t v = spec_entry_val(c, m, e, p, sizeof p);
    w->line = v.line;
    static const char *const shape =
        "a mapping naming one categorical parameter and its value(s), e.g. "
        "when: {optimizer: sgd} or when: {optimizer: [sgd, rmsprop]}";
    if (v.kind != K_MAP) {
        if (v.kind != K_BAD)
            spec_type_err(c, &v, p, shape);
        return;
    }
    map_t wm;
    if (spec_map_open(c, e->val, p, v.line, &wm) < 0) {
        spec_map_fini(&wm);
        return;
    }
    if (wm.n != 1) {
        if (wm.n == 0)
            spec_err(c, v.line, p, "is empty; expected %s", shape);
        else
            spec_err(c, v.line, p,
                     "names %zu parameters; a condition names one parent (nest conditions "
                     "instead: a parent may be conditional itself)",
                     wm.n);
        spec_map_fini(&wm);
        return;
    }
    entry_t *pe = &wm.e[0];
    pe->used = 1;
    char vp[400];
    val_t pv = spec_entry_val(c, &wm, pe, vp, sizeof vp);
    if (pe->klen >= HP_PARAM_NAME_MAX || !spec_is_ident(pe->key, pe->klen)) {
        char b[64];
        spec_err(c, pe->line, vp, "'%s' is not a parameter name",
                 spec_show(b, sizeof b, pe->key, pe->klen));
        spec_map_fini(&wm);
        return;
    }
    memcpy(w->parent, pe->key, pe->klen);
    w->parent[pe->klen] = '\0';
    int bad = 0;
    if (pv.kind == K_SEQ) {
        int count = fy_node_sequence_item_count(pe->val);
        if (count == 0) {
            spec_err(c, pv.line, vp, "lists no value (the condition could never hold)");
            bad = 1;
        } else if (count > MAX_LIST) {
            spec_err(c, pv.line, vp, "has too many values (%d; at most %d)", count, MAX_LIST);
            bad = 1;
        }
        void *it = NULL;
        struct fy_node *item;
        int idx = 0;
        while (!bad && (item = fy_node_sequence_iterate(pe->val, &it)) != NULL) {
            char ip[420];
            snprintf(ip, sizeof ip, "%s[%d]", vp, idx++);
            val_t iv = spec_classify(c, item, ip, pv.line);
            hp_choice_t ch;
            if (read_scalar(c, &iv, ip, &ch) < 0)
                bad = 1;
            else
                add_value(w, ch);
        }
    } else {
        hp_choice_t ch;
        if (read_scalar(c, &pv, vp, &ch) < 0)
            bad = 1;
        else
            add_value(w, ch);
    }
    w->ok = !bad;
    spec_map_fini(&wm);
    (void)path;
}

void spec_when_read(ctx_t *c, map_t *m, const char *path, spec_when_t *w)
{
    memset(w, 0, sizeof *w);
    entry_t *e;
    if ((e = spec_map_get(m, "when")) != NULL)
        read_when(c, m, e, path, w);
    if ((e = spec_map_get(m, "default")) != NULL) {
        char p[300];
        val_t v = spec_entry_val(c, m, e, p, sizeof p);
        w->default_line = v.line;
        if (read_scalar(c, &v, p, &w->def) == 0)
            w->has_default = 1;
        if (!w->line)
            spec_err(c, v.line, p,
                     "only a conditional parameter (with when:) takes a default: the default "
                     "fills its {placeholders} while it is inactive");
    }
}

/* the index of ch among q's choices (a string by text, a number by
 * value), or -1 */
static int choice_index(const hp_param_t *q, const hp_choice_t *ch)
{
    for (size_t k = 0; k < q->n_values; k++) {
        const hp_choice_t *qc = &q->values[k];
        if (ch->is_number ? (qc->is_number && qc->num == ch->num)
                          : (!qc->is_number && strcmp(qc->text, ch->text) == 0))
            return (int)k;
    }
    return -1;
}

static void join_choices(const hp_param_t *q, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t k = 0; k < q->n_values && n + 1 < cap; k++)
        n += (size_t)snprintf(out + n, cap - n, "%s%s", k ? ", " : "", q->values[k].text);
}

/* resolve_one puts w's condition into parameter i; 0 or -1 (reported) */
static int resolve_one(ctx_t *c, space_lines_t *sl, size_t i)
{
    hp_space_t *sp = &c->spec->space;
    hp_param_t *p = &sp->params[i];
    const spec_when_t *w = &sl->when[i];
    char path[300];
    snprintf(path, sizeof path, "space.%s.when.%s", p->name, w->parent);
    int pi = hp_space_find(sp, w->parent);
    if (pi < 0) {
        for (size_t k = 0; k < sl->n_dropped; k++)
            if (strcmp(sl->dropped[k], w->parent) == 0)
                return -1; /* its own errors are reported */
        const char *names[HP_SPACE_MAX_PARAMS];
        for (size_t k = 0; k < sp->n; k++)
            names[k] = sp->params[k].name;
        char hint[300];
        spec_suggest(hint, sizeof hint, w->parent, strlen(w->parent), names, sp->n);
        spec_err(c, w->line, path, "'%s' names no parameter in the space%s", w->parent, hint);
        return -1;
    }
    if ((size_t)pi == i) {
        spec_err(c, w->line, path, "a parameter cannot be conditional on itself");
        return -1;
    }
    const hp_param_t *q = &sp->params[pi];
    if (q->type != HP_PARAM_CATEGORICAL) {
        spec_err(c, w->line, path,
                 "'%s' is %s parameter; a condition's parent must be categorical (e.g. "
                 "%s: {type: categorical, values: [...]})",
                 q->name, q->type == HP_PARAM_INT ? "an int" : "a float", q->name);
        return -1;
    }
    int bad = 0;
    for (size_t k = 0; k < w->n_values; k++) {
        int idx = choice_index(q, &w->values[k]);
        char vp[340], b[64], all[512];
        if (w->n_values > 1 || k > 0)
            snprintf(vp, sizeof vp, "%s[%zu]", path, k);
        else
            snprintf(vp, sizeof vp, "%s", path);
        if (idx < 0) {
            join_choices(q, all, sizeof all);
            const char *texts[64];
            size_t nt = 0;
            for (size_t j = 0; j < q->n_values && nt < 64; j++)
                texts[nt++] = q->values[j].text;
            char hint[300];
            spec_suggest(hint, sizeof hint, w->values[k].text, strlen(w->values[k].text), texts,
                         nt);
            spec_err(c, w->line, vp,
                     "'%s' is not one of %s's values (%s), so the condition could never hold%s",
                     spec_show(b, sizeof b, w->values[k].text, strlen(w->values[k].text)),
                     q->name, all, hint);
            bad = 1;
            continue;
        }
        for (size_t j = 0; j < p->n_when_values; j++)
            if (p->when_values[j] == (size_t)idx) {
                spec_err(c, w->line, vp, "names '%s' twice",
                         spec_show(b, sizeof b, w->values[k].text, strlen(w->values[k].text)));
                bad = 1;
            }
        if (!bad)
            hp_space_when_add(p, (size_t)pi, (size_t)idx);
    }
    if (bad) {
        free(p->when_values);
        p->when_values = NULL;
        p->n_when_values = 0;
        p->has_when = 0;
        return -1;
    }
    if (w->has_default) {
        p->has_default = 1;
        p->def.text = spec_strdup(w->def.text);
        p->def.is_number = w->def.is_number;
        p->def.num = w->def.num;
    }
    return 0;
}

/* A cycle of conditions can never hold: each parameter in it is active
 * only when the next one is. Reported once, on its first parameter in
 * space order. */
static void check_cycles(ctx_t *c, const space_lines_t *sl)
{
    const hp_space_t *sp = &c->spec->space;
    for (size_t i = 0; i < sp->n; i++) {
        size_t j = i, min = i;
        int cycle = 0;
        for (size_t steps = 0; steps < sp->n && sp->params[j].has_when; steps++) {
            j = sp->params[j].when_parent;
            min = j < min ? j : min;
            if (j == i) {
                cycle = 1;
                break;
            }
        }
        if (!cycle || min != i)
            continue;
        char chain[1024];
        size_t n = (size_t)snprintf(chain, sizeof chain, "%s", sp->params[i].name);
        j = i;
        do {
            j = sp->params[j].when_parent;
            if (n + 1 < sizeof chain)
                n += (size_t)snprintf(chain + n, sizeof chain - n, " -> %s",
                                      sp->params[j].name);
        } while (j != i);
        char path[300];
        snprintf(path, sizeof path, "space.%s.when", sp->params[i].name);
        spec_err(c, sl->when[i].line, path,
                 "the conditions form a cycle (%s: each is active only when the next one is), "
                 "so they can never hold",
                 chain);
    }
}

void spec_when_resolve(ctx_t *c, space_lines_t *sl)
{
    hp_space_t *sp = &c->spec->space;
    if (!sl->when)
        return;
    int any = 0;
    for (size_t i = 0; i < sp->n; i++)
        if (sl->when[i].line && sl->when[i].ok)
            any |= resolve_one(c, sl, i) == 0;
    if (any)
        check_cycles(c, sl);
}
