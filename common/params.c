#include "params.h"

#include "err.h"
#include "suggest.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p;
} cursor_t;

static void skip_ws(cursor_t *c)
{
    while (isspace((unsigned char)*c->p))
        c->p++;
}

/* Reads a JSON string into out (unescaping the escapes hp_buf_json_string
 * writes); returns 0 or -1. */
static int read_string(cursor_t *c, hp_buf_t *out)
{
    if (*c->p != '"')
        return -1;
    c->p++;
    hp_buf_reset(out);
    hp_buf_append(out, "", 0);
    while (*c->p && *c->p != '"') {
        char ch = *c->p++;
        if (ch == '\\') {
            char e = *c->p++;
            switch (e) {
            case '"': ch = '"'; break;
            case '\\': ch = '\\'; break;
            case '/': ch = '/'; break;
            case 'n': ch = '\n'; break;
            case 'r': ch = '\r'; break;
            case 't': ch = '\t'; break;
            case 'b': ch = '\b'; break;
            case 'f': ch = '\f'; break;
            case 'u': {
                char hex[5] = {0};
                for (int i = 0; i < 4; i++) {
                    if (!isxdigit((unsigned char)c->p[i]))
                        return -1;
                    hex[i] = c->p[i];
                }
                c->p += 4;
                unsigned long cp = strtoul(hex, NULL, 16);
                if (cp < 0x80) {
                    ch = (char)cp;
                } else if (cp < 0x800) {
                    hp_buf_putc(out, (char)(0xC0 | (cp >> 6)));
                    ch = (char)(0x80 | (cp & 0x3F));
                } else {
                    hp_buf_putc(out, (char)(0xE0 | (cp >> 12)));
                    hp_buf_putc(out, (char)(0x80 | ((cp >> 6) & 0x3F)));
                    ch = (char)(0x80 | (cp & 0x3F));
                }
                break;
            }
            default: return -1;
            }
        }
        hp_buf_putc(out, ch);
    }
    if (*c->p != '"')
        return -1;
    c->p++;
    return 0;
}

typedef struct {
    int is_string;
    double num;
} jvalue_t;

static int read_value(cursor_t *c, hp_buf_t *sval, jvalue_t *v)
{
    skip_ws(c);
    if (*c->p == '"') {
        v->is_string = 1;
        return read_string(c, sval);
    }
    v->is_string = 0;
    if (strncmp(c->p, "null", 4) == 0) {
        c->p += 4;
        v->num = NAN;
        return 0;
    }
    if (strncmp(c->p, "true", 4) == 0 || strncmp(c->p, "false", 5) == 0) {
        v->num = *c->p == 't';
        c->p += *c->p == 't' ? 4 : 5;
        return 0;
    }
    if (*c->p == '[' || *c->p == '{') {
        /* a fixed list value: skip it (balanced brackets, strings honoured) */
        int depth = 0;
        do {
            if (*c->p == '"') {
                if (read_string(c, sval) < 0)
                    return -1;
                continue;
            }
            if (*c->p == '[' || *c->p == '{')
                depth++;
            else if (*c->p == ']' || *c->p == '}')
                depth--;
            else if (!*c->p)
                return -1;
            c->p++;
        } while (depth > 0);
        v->num = NAN;
        return 0;
    }
    char *end;
    v->num = strtod(c->p, &end);
    if (end == c->p)
        return -1;
    c->p = end;
    return 0;
}

int hp_params_to_point(const hp_space_t *sp, const char *json, double *x, char *err,
                       size_t errlen)
{
    unsigned char seen[HP_SPACE_MAX_PARAMS] = {0};
    hp_buf_t key = {0}, sval = {0};
    cursor_t c = {json};
    int rc = 0;
    skip_ws(&c);
    if (*c.p != '{') {
        rc = hp_errf(err, errlen, HP_EINVAL, "params: not a JSON object");
        goto out;
    }
    c.p++;
    skip_ws(&c);
    if (*c.p == '}')
        c.p++;
    else
        for (;;) {
            skip_ws(&c);
            jvalue_t v;
            if (read_string(&c, &key) < 0 || (skip_ws(&c), *c.p != ':')) {
                rc = hp_errf(err, errlen, HP_EINVAL, "params: malformed JSON near '%.20s'", c.p);
                goto out;
            }
            c.p++;
            if (read_value(&c, &sval, &v) < 0) {
                rc = hp_errf(err, errlen, HP_EINVAL, "params.%s: malformed value", key.data);
                goto out;
            }
            int i = hp_space_find(sp, key.data);
            if (i >= 0) {
                const hp_param_t *p = &sp->params[i];
                if (p->type == HP_PARAM_CATEGORICAL) {
                    int found = -1;
                    for (size_t k = 0; k < p->n_values && found < 0; k++) {
                        const hp_choice_t *ch = &p->values[k];
                        if (v.is_string ? (!ch->is_number && strcmp(ch->text, sval.data) == 0)
                                        : (ch->is_number && ch->num == v.num))
                            found = (int)k;
                    }
                    if (found < 0) {
                        rc = hp_errf(err, errlen, HP_EINVAL,
                                     "params.%s: not one of the parameter's values", key.data);
                        goto out;
                    }
                    x[i] = found;
                } else {
                    if (v.is_string || !isfinite(v.num)) {
                        rc = hp_errf(err, errlen, HP_EINVAL, "params.%s: expected a number",
                                     key.data);
                        goto out;
                    }
                    x[i] = v.num;
                }
                seen[i] = 1;
            }
            skip_ws(&c);
            if (*c.p == ',') {
                c.p++;
                continue;
            }
            if (*c.p == '}') {
                c.p++;
                break;
            }
            rc = hp_errf(err, errlen, HP_EINVAL, "params: expected ',' or '}' near '%.20s'", c.p);
            goto out;
        }
    /* a conditional parameter is absent exactly when it is inactive */
    for (size_t i = 0; i < sp->n; i++)
        if (!seen[i] && sp->params[i].has_when)
            x[i] = NAN;
    for (size_t i = 0; i < sp->n; i++) {
        const hp_param_t *p = &sp->params[i];
        int active = !p->has_when || hp_space_param_active(sp, x, i);
        if (!seen[i] && active) {
            rc = hp_errf(err, errlen, HP_EINVAL, "params: missing '%s'", p->name);
            goto out;
        }
        if (seen[i] && !active) {
            rc = hp_errf(err, errlen, HP_EINVAL,
                         "params: '%s' is given but inactive (its condition on '%s' does not "
                         "hold)",
                         p->name, sp->params[p->when_parent].name);
            goto out;
        }
    }
    if (!hp_space_contains(sp, x))
        rc = hp_errf(err, errlen, HP_EINVAL, "params: a value lies outside the search space");
out:
    hp_buf_fini(&key);
    hp_buf_fini(&sval);
    return rc;
}

void hp_params_json_with_fixed(const hp_spec_t *spec, const double *x, hp_buf_t *out)
{
    hp_buf_t pt = {0};
    hp_space_point_json(&spec->space, x, &pt);
    /* pt is "{...}": reopen it to append the fixed values */
    HP_ASSERT(pt.len >= 2 && pt.data[pt.len - 1] == '}');
    hp_buf_append(out, pt.data, pt.len - 1);
    int first = pt.len == 2;
    for (size_t i = 0; i < spec->trial.n_fixed; i++) {
        if (!first)
            hp_buf_putc(out, ',');
        first = 0;
        hp_buf_json_string(out, spec->trial.fixed[i].name);
        hp_buf_putc(out, ':');
        hp_spec_value_json(&spec->trial.fixed[i], out);
    }
    hp_buf_putc(out, '}');
    hp_buf_fini(&pt);
}

/* ---- name=value assignments (hpsearch enqueue) ------------------------- */

/* Appends v as the shortest text that reads back as v. */
static const char *num_text(hp_buf_t *b, double v)
{
    hp_buf_reset(b);
    hp_buf_json_number(b, v);
    return b->data ? b->data : "";
}

/* Lists the space's parameter names, "lr, hidden, act". */
static void list_names(const hp_space_t *sp, hp_buf_t *out)
{
    for (size_t i = 0; i < sp->n; i++) {
        if (i)
            hp_buf_puts(out, ", ");
        hp_buf_puts(out, sp->params[i].name);
    }
}

/* Reads one categorical value: the choice written the same, or (for a
 * numeric choice) the same number ("0.50" is 0.5). */
static int read_choice(const hp_param_t *p, const char *text, double *x, char *err,
                       size_t errlen)
{
    char *end;
    double num = strtod(text, &end);
    int is_num = *text && *end == '\0';
    for (size_t k = 0; k < p->n_values; k++) {
        const hp_choice_t *ch = &p->values[k];
        if (strcmp(ch->text, text) == 0 || (is_num && ch->is_number && ch->num == num)) {
            *x = (double)k;
            return 0;
        }
    }
    const char *texts[64];
    size_t nt = 0;
    hp_buf_t all = {0};
    for (size_t k = 0; k < p->n_values; k++) {
        if (k)
            hp_buf_puts(&all, ", ");
        hp_buf_puts(&all, p->values[k].text);
        if (nt < sizeof texts / sizeof texts[0])
            texts[nt++] = p->values[k].text;
    }
    char hint[300];
    hp_suggest_hint(hint, sizeof hint, text, strlen(text), texts, nt);
    int rc = hp_errf(err, errlen, HP_EINVAL, "%s: '%s' is not one of its values: %s%s", p->name,
                     text, all.data ? all.data : "", hint);
    hp_buf_fini(&all);
    return rc;
}

/* Reads one float or int value and checks it against the range and step. */
static int read_number(const hp_param_t *p, const char *text, double *x, char *err,
                       size_t errlen)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno == ERANGE && *text && end != text)
        return hp_errf(err, errlen, HP_EINVAL, "%s: '%s' %s", p->name, text,
                       fabs(v) < 1 ? "underflows: it is too close to 0 for a double"
                                   : "is outside a double's range");
    while (isspace((unsigned char)*end))
        end++;
    if (!*text || isspace((unsigned char)*text) || *end != '\0' || !isfinite(v))
        return hp_errf(err, errlen, HP_EINVAL, "%s: '%s' is not a%s number", p->name, text,
                       *text && *end == '\0' ? " finite" : "");
    if (p->type == HP_PARAM_INT && v != floor(v))
        return hp_errf(err, errlen, HP_EINVAL, "%s: '%s' is not an integer (an int parameter)",
                       p->name, text);
    hp_buf_t a = {0}, b = {0};
    int rc = 0;
    if (v < p->low || v > p->high) {
        rc = hp_errf(err, errlen, HP_EINVAL, "%s: %s is outside its range [%s, %s]%s", p->name,
                     text, num_text(&a, p->low), num_text(&b, p->high),
                     p->log ? " (log scale)" : "");
    } else {
        *x = v;
        /* a stepped value must be on the grid low, low+step, ... */
        hp_param_t q = *p; /* its condition names the whole space's parameters */
        q.has_when = 0;
        hp_space_t one = {&q, 1};
        if (!hp_space_contains(&one, x))
            rc = hp_errf(err, errlen, HP_EINVAL,
                         "%s: %s is not one of its steps (low %s, step %s)", p->name, text,
                         num_text(&a, p->low), num_text(&b, p->step));
    }
    hp_buf_fini(&a);
    hp_buf_fini(&b);
    return rc;
}

int hp_params_from_assignments(const hp_spec_t *spec, const char *const *names,
                               const char *const *values, size_t n, double *x, char *err,
                               size_t errlen)
{
    const hp_space_t *sp = &spec->space;
    unsigned char seen[HP_SPACE_MAX_PARAMS] = {0};
    for (size_t k = 0; k < n; k++) {
        const char *name = names[k], *text = values[k] ? values[k] : "";
        int i = hp_space_find(sp, name);
        if (i < 0) {
            hp_buf_t all = {0};
            list_names(sp, &all);
            int rc;
            if (hp_spec_find_fixed(spec, name)) {
                rc = hp_errf(err, errlen, HP_EINVAL,
                             "%s is held fixed by trial.fixed, not searched; set only the "
                             "space's parameters: %s",
                             name, all.data ? all.data : "");
            } else {
                const char *known[HP_SPACE_MAX_PARAMS];
                for (size_t j = 0; j < sp->n; j++)
                    known[j] = sp->params[j].name;
                char hint[300];
                hp_suggest_hint(hint, sizeof hint, name, strlen(name), known, sp->n);
                rc = hp_errf(err, errlen, HP_EINVAL,
                             "no parameter '%s' in the space%s; its parameters: %s", name, hint,
                             all.data ? all.data : "");
            }
            hp_buf_fini(&all);
            return rc;
        }
        if (seen[i])
            return hp_errf(err, errlen, HP_EINVAL, "%s is given twice", name);
        seen[i] = 1;
        const hp_param_t *p = &sp->params[i];
        int rc = p->type == HP_PARAM_CATEGORICAL ? read_choice(p, text, &x[i], err, errlen)
                                                 : read_number(p, text, &x[i], err, errlen);
        if (rc < 0)
            return rc;
    }
    /* a conditional parameter is left out exactly when it is inactive */
    for (size_t i = 0; i < sp->n; i++)
        if (!seen[i] && sp->params[i].has_when)
            x[i] = NAN;
    for (size_t i = 0; i < sp->n; i++) {
        const hp_param_t *p = &sp->params[i];
        if (seen[i] && p->has_when && !hp_space_param_active(sp, x, i)) {
            const hp_param_t *q = &sp->params[p->when_parent];
            hp_buf_t b = {0};
            if (!isnan(x[p->when_parent]))
                hp_space_format_value(q, x[p->when_parent], &b);
            int rc = b.data ? hp_errf(err, errlen, HP_EINVAL,
                                      "%s is inactive when %s is %s (its when: condition); "
                                      "leave it out",
                                      p->name, q->name, b.data)
                            : hp_errf(err, errlen, HP_EINVAL,
                                      "%s is inactive: %s, which its when: names, is "
                                      "inactive itself; leave it out",
                                      p->name, q->name);
            hp_buf_fini(&b);
            return rc;
        }
    }
    hp_buf_t missing = {0};
    size_t nm = 0;
    for (size_t i = 0; i < sp->n; i++)
        if (!seen[i] && (!sp->params[i].has_when || hp_space_param_active(sp, x, i))) {
            if (nm++)
                hp_buf_puts(&missing, ", ");
            hp_buf_puts(&missing, sp->params[i].name);
        }
    int rc = 0;
    if (nm)
        rc = hp_errf(err, errlen, HP_EINVAL,
                     "missing %s: give every parameter of the space once (--set name=value)",
                     missing.data);
    hp_buf_fini(&missing);
    return rc;
}
