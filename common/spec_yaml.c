/*
 * The walking layer of the spec parser: what a node is, typed getters and
 * mappings, each reporting problems as FILE:LINE: PATH: MESSAGE. Lines come
 * from scalar tokens; a field's line is the line of its key.
 */
#include "spec_int.h"

#include "err.h"
#include "suggest.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void spec_err(ctx_t *c, int line, const char *path, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hp_diag_add(c->diag, c->file, line, path, "%s", msg);
    c->errors++;
}

void spec_warn(ctx_t *c, int line, const char *path, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hp_diag_t *w = &c->spec->warnings;
    for (size_t i = 0; i < w->n; i++) /* a node read twice warns once */
        if (w->items[i].line == line && strcmp(w->items[i].path, path ? path : "") == 0 &&
            strcmp(w->items[i].message, msg) == 0)
            return;
    hp_diag_add(w, c->file, line, path, "%s", msg);
}

char *spec_strndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    HP_ASSERT(p != NULL);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *spec_strdup(const char *s)
{
    return spec_strndup(s, strlen(s));
}

/* show writes user text into out for a message: at most ~40 bytes, quotes
 * and non-printable bytes escaped, so binary input cannot garble a line. */
const char *spec_show(char *out, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 8 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (i >= 40) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (ch < 0x20 || ch == 0x7f || ch == '\'' || ch == '\\')
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
        else
            out[o++] = (char)ch;
    }
    out[o] = '\0';
    return out;
}

void spec_join(char *out, size_t cap, const char *const *words, size_t n)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? ", " : "", words[i]);
}

/* ---- scalars ------------------------------------------------------------ */

static int node_line(struct fy_node *n)
{
    if (!n)
        return 0;
    if (fy_node_is_scalar(n)) {
        struct fy_token *t = fy_node_get_scalar_token(n);
        const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
        return m ? m->line + 1 : 0;
    }
    return 0;
}

int spec_word_in(const char *s, size_t n, const char *const *words, size_t nw)
{
    for (size_t i = 0; i < nw; i++)
        if (strlen(words[i]) == n && memcmp(s, words[i], n) == 0)
            return (int)i;
    return -1;
}

/* YAML 1.2 core schema number: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int is_number_syntax(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (!digits)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        size_t e = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, e++;
        if (!e)
            return 0;
    }
    return i == n && n < 400;
}

/* A number the text writes but a double cannot hold: beyond the largest
 * (it reads as infinity: spec_get_number refuses it, saying why), or so
 * small it reads as 0 or loses its precision — a warning, since the value
 * still means about what was written, but rarely what was meant. */
static void out_of_range(ctx_t *c, val_t *v, const char *path)
{
    char b[64];
    if (isinf(v->num))
        v->overflow = 1;
    else if (v->num == 0)
        spec_warn(c, v->line, path,
                  "%s is too small for a number (the smallest is about 4.9e-324) and reads "
                  "as 0; write 0 if that is meant",
                  spec_show(b, sizeof b, v->text, v->len));
    else
        spec_warn(c, v->line, path,
                  "%s is below the smallest normal number (about 2.2e-308) and loses "
                  "precision: it reads as %.17g",
                  spec_show(b, sizeof b, v->text, v->len), v->num);
}

/* classify looks at a node for a field at path (reported at line when the
 * node has no line of its own) and says what it is. Aliases, tags and NUL
 * characters are reported here, once, and come back as K_BAD. */
val_t spec_classify(ctx_t *c, struct fy_node *n, const char *path, int line)
{
    val_t v = {.kind = K_NULL, .text = "", .line = line};
    if (!n)
        return v;
    int own = node_line(n);
    if (own)
        v.line = own;
    if (fy_node_is_alias(n)) {
        spec_err(c, v.line, path,
                 "YAML aliases (*name) are not supported in study specs; write the value out");
        v.kind = K_BAD;
        return v;
    }
    size_t tl = 0;
    const char *tag = fy_node_get_tag(n, &tl);
    if (tag && tl) {
        char b[64];
        spec_err(c, v.line, path, "YAML tags ('%s') are not supported in study specs",
                 spec_show(b, sizeof b, tag, tl));
        v.kind = K_BAD;
        return v;
    }
    if (fy_node_is_sequence(n)) {
        v.kind = K_SEQ;
        return v;
    }
    if (fy_node_is_mapping(n)) {
        v.kind = K_MAP;
        return v;
    }
    size_t len = 0;
    const char *s = fy_node_get_scalar(n, &len);
    if (!s)
        s = "", len = 0;
    if (memchr(s, '\0', len)) {
        spec_err(c, v.line, path, "contains a NUL character");
        v.kind = K_BAD;
        return v;
    }
    v.text = s;
    v.len = len;
    v.quoted = fy_node_get_style(n) != FYNS_PLAIN;
    if (v.quoted) {
        v.kind = K_STRING;
        return v;
    }
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    static const char *const trues[] = {"true", "True", "TRUE"};
    static const char *const falses[] = {"false", "False", "FALSE"};
    static const char *const specials[] = {".inf",  "+.inf", "-.inf", ".nan",  ".Inf",  "+.Inf",
                                           "-.Inf", ".NaN",  ".INF",  "+.INF", "-.INF", ".NAN"};
    if (spec_word_in(s, len, nulls, HP_ARRAY_LEN(nulls)) >= 0) {
        v.kind = K_NULL;
    } else if (spec_word_in(s, len, trues, HP_ARRAY_LEN(trues)) >= 0) {
        v.kind = K_BOOL;
        v.num = 1;
    } else if (spec_word_in(s, len, falses, HP_ARRAY_LEN(falses)) >= 0) {
        v.kind = K_BOOL;
        v.num = 0;
    } else if (is_number_syntax(s, len)) {
        char tmp[400];
        memcpy(tmp, s, len);
        tmp[len] = '\0';
        v.kind = K_NUMBER;
        errno = 0;
        v.num = strtod(tmp, NULL);
        if (errno == ERANGE)
            out_of_range(c, &v, path);
    } else if (spec_word_in(s, len, specials, HP_ARRAY_LEN(specials)) >= 0) {
        v.kind = K_NUMBER;
        v.num = s[len - 1] == 'n' || s[len - 1] == 'N' ? NAN : s[0] == '-' ? -INFINITY : INFINITY;
    } else {
        v.kind = K_STRING;
    }
    return v;
}

static const char *kind_desc(const val_t *v, char *buf, size_t cap)
{
    char b[64];
    switch (v->kind) {
    case K_NULL:
        return "nothing (null)";
    case K_BOOL:
        return v->num != 0 ? "a boolean (true)" : "a boolean (false)";
    case K_NUMBER:
        snprintf(buf, cap, "a number (%s)", spec_show(b, sizeof b, v->text, v->len));
        return buf;
    case K_STRING:
        snprintf(buf, cap, "a string ('%s')", spec_show(b, sizeof b, v->text, v->len));
        return buf;
    case K_SEQ:
        return "a list";
    case K_MAP:
        return "a mapping";
    default:
        return "an invalid value";
    }
}

void spec_type_err(ctx_t *c, const val_t *v, const char *path, const char *want)
{
    if (v->kind == K_BAD)
        return;
    char buf[128];
    spec_err(c, v->line, path, "expected %s, got %s", want, kind_desc(v, buf, sizeof buf));
}

/* get_number: a finite number in [lo, hi]. Returns 0 and sets *out, or -1
 * (reported). */
int spec_get_number(ctx_t *c, const val_t *v, const char *path, double lo, double hi,
                    const char *range_desc, double *out)
{
    if (v->kind != K_NUMBER) {
        spec_type_err(c, v, path, "a number");
        return -1;
    }
    if (v->overflow) {
        char b[64];
        spec_err(c, v->line, path,
                 "%s is out of range for a number (at most about 1.8e308 in size; it would "
                 "read as %sinfinity)",
                 spec_show(b, sizeof b, v->text, v->len), v->num < 0 ? "-" : "");
        return -1;
    }
    if (!isfinite(v->num)) {
        char b[64];
        spec_err(c, v->line, path, "must be a finite number (got %s)",
                 spec_show(b, sizeof b, v->text, v->len));
        return -1;
    }
    if (v->num < lo || v->num > hi) {
        spec_err(c, v->line, path, "must be %s (got %.17g)", range_desc, v->num);
        return -1;
    }
    *out = v->num;
    return 0;
}

/* get_uint: a whole number in [lo, hi]. Plain digit strings are read
 * exactly (seeds use all 64 bits); other number forms must be integral
 * and at most 2^53. */
int spec_get_uint(ctx_t *c, const val_t *v, const char *path, uint64_t lo, uint64_t hi,
                  uint64_t *out)
{
    if (v->kind != K_NUMBER) {
        spec_type_err(c, v, path, "a whole number");
        return -1;
    }
    uint64_t x = 0;
    size_t i = v->text[0] == '+' ? 1 : 0;
    int digits_only = v->len > i;
    for (size_t k = i; k < v->len; k++)
        digits_only &= v->text[k] >= '0' && v->text[k] <= '9';
    if (digits_only && v->len - i <= 20) {
        char tmp[32];
        memcpy(tmp, v->text + i, v->len - i);
        tmp[v->len - i] = '\0';
        errno = 0;
        unsigned long long u = strtoull(tmp, NULL, 10);
        if (errno == ERANGE || u > hi) {
            char b[64];
            spec_err(c, v->line, path, "must be <= %" PRIu64 " (got %s)", hi,
                     spec_show(b, sizeof b, v->text, v->len));
            return -1;
        }
        x = u;
    } else {
        if (!isfinite(v->num) || v->num != floor(v->num)) {
            char b[64];
            spec_err(c, v->line, path, "must be a whole number (got %s)",
                     spec_show(b, sizeof b, v->text, v->len));
            return -1;
        }
        if (v->num < 0) {
            spec_err(c, v->line, path, "must be >= %" PRIu64 " (got %.17g)", lo, v->num);
            return -1;
        }
        if (v->num > INT_EXACT) {
            spec_err(c, v->line, path, "must be <= %" PRIu64 " (got %.17g)", hi, v->num);
            return -1;
        }
        x = (uint64_t)v->num;
    }
    if (x < lo) {
        spec_err(c, v->line, path, "must be >= %" PRIu64 " (got %" PRIu64 ")", lo, x);
        return -1;
    }
    if (x > hi) {
        char b[64];
        spec_err(c, v->line, path, "must be <= %" PRIu64 " (got %s)", hi,
                 spec_show(b, sizeof b, v->text, v->len));
        return -1;
    }
    *out = x;
    return 0;
}

int spec_get_u32(ctx_t *c, const val_t *v, const char *path, uint32_t lo, uint32_t hi,
                 uint32_t *out)
{
    uint64_t x;
    if (spec_get_uint(c, v, path, lo, hi, &x) < 0)
        return -1;
    *out = (uint32_t)x;
    return 0;
}

int spec_get_bool(ctx_t *c, const val_t *v, const char *path, int *out)
{
    if (v->kind == K_BOOL) {
        *out = v->num != 0;
        return 0;
    }
    static const char *const yaml11[] = {"yes", "no", "on", "off", "y",   "n",
                                         "Yes", "No", "On", "Off", "YES", "NO"};
    if (v->kind == K_STRING && !v->quoted &&
        spec_word_in(v->text, v->len, yaml11, HP_ARRAY_LEN(yaml11)) >= 0) {
        char b[16];
        spec_err(c, v->line, path,
                 "expected true or false, got '%s' (YAML 1.1 booleans are not accepted)",
                 spec_show(b, sizeof b, v->text, v->len));
        return -1;
    }
    spec_type_err(c, v, path, "true or false");
    return -1;
}

/* get_string: any non-null scalar, as text (numbers as written). */
int spec_get_string(ctx_t *c, const val_t *v, const char *path, char **out)
{
    if (v->kind != K_STRING && v->kind != K_NUMBER) {
        spec_type_err(c, v, path, "a string");
        return -1;
    }
    if (v->len == 0) {
        spec_err(c, v->line, path, "must not be empty");
        return -1;
    }
    if (v->len > MAX_TEXT) {
        spec_err(c, v->line, path, "is too long (%zu bytes; at most %d)", v->len, MAX_TEXT);
        return -1;
    }
    *out = spec_strndup(v->text, v->len);
    return 0;
}

int spec_get_metric(ctx_t *c, const val_t *v, const char *path, char **out)
{
    char *s = NULL;
    if (spec_get_string(c, v, path, &s) < 0)
        return -1;
    if (strcspn(s, " \t\r\n=") != strlen(s) || strlen(s) > 63) {
        spec_err(c, v->line, path,
                 "'%s' is not a valid metric name (no spaces or '=', at most 63 characters)", s);
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

/* get_enum: one of words; unknown names list the known ones. */
int spec_get_enum(ctx_t *c, const val_t *v, const char *path, const char *what,
                  const char *const *words, size_t nw, int *out)
{
    if (v->kind != K_STRING) {
        spec_type_err(c, v, path, what);
        return -1;
    }
    int i = spec_word_in(v->text, v->len, words, nw);
    if (i >= 0) {
        *out = i;
        return 0;
    }
    char b[64], list[256];
    spec_join(list, sizeof list, words, nw);
    const char *near = hp_suggest_closest(v->text, v->len, words, nw);
    if (near)
        spec_err(c, v->line, path, "unknown %s '%s' (did you mean '%s'? known: %s)", what,
                 spec_show(b, sizeof b, v->text, v->len), near, list);
    else
        spec_err(c, v->line, path, "unknown %s '%s' (known: %s)", what,
                 spec_show(b, sizeof b, v->text, v->len), list);
    return -1;
}

int spec_is_ident(const char *s, size_t n)
{
    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return 0;
    for (size_t i = 1; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_'))
            return 0;
    }
    return 1;
}

/* ---- mappings ----------------------------------------------------------- */

void spec_map_fini(map_t *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->e[i].key);
    free(m->e);
    m->e = NULL;
    m->n = 0;
}

void spec_subpath(char *out, size_t cap, const char *parent, const char *k, size_t kl)
{
    char b[64];
    if (kl > 60) /* user keys in paths stay short and printable */
        k = spec_show(b, sizeof b, k, kl);
    if (parent && *parent)
        snprintf(out, cap, "%s.%.*s", parent, (int)kl, k);
    else
        snprintf(out, cap, "%.*s", (int)kl, k);
}

/* map_open collects the pairs of a mapping node (reporting non-scalar and
 * duplicate keys). Returns 0, or -1 if n is not a mapping (reported). */
int spec_map_open(ctx_t *c, struct fy_node *n, const char *path, int line, map_t *m)
{
    memset(m, 0, sizeof *m);
    m->line = line;
    snprintf(m->path, sizeof m->path, "%s", path);
    val_t v = spec_classify(c, n, path, line);
    if (v.kind != K_MAP) {
        spec_type_err(c, &v, path, "a mapping (key: value lines)");
        return -1;
    }
    int count = fy_node_mapping_item_count(n);
    if (count > MAX_KEYS) {
        spec_err(c, line, path, "has too many keys (%d; at most %d)", count, MAX_KEYS);
        count = MAX_KEYS;
    }
    m->e = calloc((size_t)(count > 0 ? count : 1), sizeof *m->e);
    HP_ASSERT(m->e != NULL);
    void *it = NULL;
    struct fy_node_pair *p;
    while (m->n < (size_t)count && (p = fy_node_mapping_iterate(n, &it)) != NULL) {
        struct fy_node *k = fy_node_pair_key(p);
        val_t kv = spec_classify(c, k, path, line);
        if (kv.kind == K_BAD)
            continue;
        if (!k || !fy_node_is_scalar(k) || kv.kind == K_NULL) {
            spec_err(c, kv.line, path, "keys must be plain names, got %s",
                     kv.kind == K_NULL ? "an empty key" : "a list or mapping as a key");
            continue;
        }
        int dup = 0;
        for (size_t i = 0; i < m->n; i++) {
            if (m->e[i].klen == kv.len && memcmp(m->e[i].key, kv.text, kv.len) == 0) {
                char kp[300];
                spec_subpath(kp, sizeof kp, path, kv.text, kv.len);
                spec_err(c, kv.line, kp, "duplicate key (first given on line %d)", m->e[i].line);
                dup = 1;
                break;
            }
        }
        if (dup)
            continue;
        entry_t *e = &m->e[m->n++];
        e->key = spec_strndup(kv.text, kv.len);
        e->klen = kv.len;
        e->line = kv.line;
        e->val = fy_node_pair_value(p);
    }
    return 0;
}

/* map_get marks key used and returns its entry, or NULL if absent. */
entry_t *spec_map_get(map_t *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->e[i].key, key) == 0) {
            m->e[i].used = 1;
            return &m->e[i];
        }
    return NULL;
}

/* map_value classifies the value of key: its path goes to path. */
val_t spec_entry_val(ctx_t *c, const map_t *m, const entry_t *e, char *path, size_t cap)
{
    spec_subpath(path, cap, m->path, e->key, e->klen);
    return spec_classify(c, e->val, path, e->line);
}

void spec_suggest(char *out, size_t cap, const char *s, size_t n, const char *const *known,
                  size_t nknown)
{
    const char *near = hp_suggest_closest(s, n, known, nknown);
    if (near) {
        snprintf(out, cap, " (did you mean '%s'?)", near);
    } else {
        char list[768];
        spec_join(list, sizeof list, known, nknown);
        snprintf(out, cap, " (known: %s)", list);
    }
}

/* map_unknown reports every key not taken with map_get. */
void spec_map_unknown(ctx_t *c, map_t *m, const char *const *known, size_t nknown)
{
    for (size_t i = 0; i < m->n; i++) {
        entry_t *e = &m->e[i];
        if (e->used)
            continue;
        char p[300], hint[800];
        spec_subpath(p, sizeof p, m->path, e->key, e->klen);
        spec_suggest(hint, sizeof hint, e->key, e->klen, known, nknown);
        spec_err(c, e->line, p, "unknown key%s", hint);
    }
}

void spec_missing(ctx_t *c, const map_t *m, const char *key, const char *why)
{
    char p[300];
    spec_subpath(p, sizeof p, m->path, key, strlen(key));
    spec_err(c, m->line, p, "is required%s%s", why ? " " : "", why ? why : "");
}

void spec_number_text(double v, char **out)
{
    hp_buf_t b = {0};
    hp_buf_json_number(&b, v);
    *out = hp_buf_steal(&b);
}
