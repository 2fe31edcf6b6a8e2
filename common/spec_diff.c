/* What differs between two study specs: their canonical JSON walked side
 * by side, each differing leaf named by its path. */
#include "spec_diff.h"

#include "err.h"

#include <libfyaml.h>
#include <stdlib.h>
#include <string.h>

static char *dup_text(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    HP_ASSERT(d != NULL);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* A node as JSON-like text: a scalar as written (quoted when it was a
 * string), a mapping or sequence on one line. */
static char *node_text(struct fy_node *n)
{
    if (!n)
        return dup_text("unset", 5);
    if (fy_node_is_scalar(n)) {
        size_t len = 0;
        const char *s = fy_node_get_scalar(n, &len);
        if (fy_node_get_style(n) == FYNS_PLAIN)
            return dup_text(s ? s : "", s ? len : 0);
        hp_buf_t b = {0};
        hp_buf_putc(&b, '"');
        hp_buf_append(&b, s, len);
        hp_buf_putc(&b, '"');
        return hp_buf_steal(&b);
    }
    char *t = fy_emit_node_to_string(n, FYECF_MODE_FLOW_ONELINE | FYECF_NO_ENDING_NEWLINE);
    HP_ASSERT(t != NULL);
    return t;
}

static int scalar_eq(struct fy_node *a, struct fy_node *b)
{
    size_t la = 0, lb = 0;
    const char *sa = fy_node_get_scalar(a, &la), *sb = fy_node_get_scalar(b, &lb);
    /* a string "1" and a number 1 differ: compare the quoting too */
    return (fy_node_get_style(a) == FYNS_PLAIN) == (fy_node_get_style(b) == FYNS_PLAIN) &&
           la == lb && (la == 0 || memcmp(sa, sb, la) == 0);
}

static void add(hp_spec_diff_t *d, const char *path, struct fy_node *a, struct fy_node *b)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 8;
        d->items = realloc(d->items, d->cap * sizeof *d->items);
        HP_ASSERT(d->items != NULL);
    }
    hp_spec_change_t *c = &d->items[d->n++];
    c->key = strdup(path);
    HP_ASSERT(c->key != NULL);
    c->old_text = node_text(a);
    c->new_text = node_text(b);
}

static void walk(hp_spec_diff_t *d, hp_buf_t *path, struct fy_node *a, struct fy_node *b);

static void child(hp_spec_diff_t *d, hp_buf_t *path, const char *key, size_t klen, long index,
                  struct fy_node *a, struct fy_node *b)
{
    size_t keep = path->len;
    if (index >= 0) {
        hp_buf_printf(path, "[%ld]", index);
    } else {
        if (path->len)
            hp_buf_putc(path, '.');
        hp_buf_append(path, key, klen);
    }
    walk(d, path, a, b);
    path->len = keep;
    if (path->data)
        path->data[keep] = '\0';
}

/* The keys of mapping n in order, as "[x1, x2]". */
static char *key_list(struct fy_node *n)
{
    hp_buf_t b = {0};
    hp_buf_putc(&b, '[');
    void *it = NULL;
    struct fy_node_pair *p;
    for (int i = 0; (p = fy_node_mapping_iterate(n, &it)) != NULL; i++) {
        size_t kl = 0;
        const char *k = fy_node_get_scalar(fy_node_pair_key(p), &kl);
        if (i)
            hp_buf_puts(&b, ", ");
        hp_buf_append(&b, k, kl);
    }
    hp_buf_putc(&b, ']');
    return hp_buf_steal(&b);
}

static void walk_mapping(hp_spec_diff_t *d, hp_buf_t *path, struct fy_node *a, struct fy_node *b)
{
    size_t before = d->n;
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(a, &it)) != NULL) {
        size_t kl = 0;
        const char *k = fy_node_get_scalar(fy_node_pair_key(p), &kl);
        child(d, path, k, kl, -1, fy_node_pair_value(p), fy_node_mapping_lookup_by_string(b, k, kl));
    }
    it = NULL;
    while ((p = fy_node_mapping_iterate(b, &it)) != NULL) {
        size_t kl = 0;
        const char *k = fy_node_get_scalar(fy_node_pair_key(p), &kl);
        if (!fy_node_mapping_lookup_by_string(a, k, kl))
            child(d, path, k, kl, -1, NULL, fy_node_pair_value(p));
    }
    if (d->n > before)
        return;
    /* the same keys with the same values: their order still counts (the
     * space's is the order of a point's coordinates) */
    char *ka = key_list(a), *kb = key_list(b);
    if (strcmp(ka, kb) != 0) {
        add(d, path->data ? path->data : "", NULL, NULL);
        hp_spec_change_t *c = &d->items[d->n - 1];
        free(c->old_text);
        free(c->new_text);
        c->old_text = ka;
        c->new_text = kb;
    } else {
        free(ka);
        free(kb);
    }
}

static void walk(hp_spec_diff_t *d, hp_buf_t *path, struct fy_node *a, struct fy_node *b)
{
    const char *where = path->data ? path->data : "";
    if (!a || !b || fy_node_get_type(a) != fy_node_get_type(b)) {
        add(d, where, a, b);
        return;
    }
    if (fy_node_is_mapping(a)) {
        walk_mapping(d, path, a, b);
    } else if (fy_node_is_sequence(a)) {
        int na = fy_node_sequence_item_count(a), nb = fy_node_sequence_item_count(b);
        if (na != nb) { /* a list that grew or shrank reads best whole */
            add(d, where, a, b);
            return;
        }
        for (int i = 0; i < na; i++)
            child(d, path, NULL, 0, i, fy_node_sequence_get_by_index(a, i),
                  fy_node_sequence_get_by_index(b, i));
    } else if (!scalar_eq(a, b)) {
        add(d, where, a, b);
    }
}

static struct fy_document *json_doc(const hp_spec_t *s, hp_buf_t *json)
{
    hp_spec_to_json(s, json);
    static const struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_JSON_FORCE};
    struct fy_document *doc = fy_document_build_from_string(&cfg, json->data, json->len);
    HP_ASSERT(doc != NULL); /* our own canonical JSON */
    return doc;
}

size_t hp_spec_diff(const hp_spec_t *a, const hp_spec_t *b, hp_spec_diff_t *out)
{
    size_t before = out->n;
    hp_buf_t ja = {0}, jb = {0}, path = {0};
    struct fy_document *da = json_doc(a, &ja), *db = json_doc(b, &jb);
    walk(out, &path, fy_document_root(da), fy_document_root(db));
    fy_document_destroy(da);
    fy_document_destroy(db);
    hp_buf_fini(&ja);
    hp_buf_fini(&jb);
    hp_buf_fini(&path);
    return out->n - before;
}

const hp_spec_change_t *hp_spec_diff_find(const hp_spec_diff_t *d, const char *key)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->items[i].key, key) == 0)
            return &d->items[i];
    return NULL;
}

void hp_spec_diff_describe(const hp_spec_diff_t *d, hp_buf_t *out)
{
    for (size_t i = 0; i < d->n; i++)
        hp_buf_printf(out, "%s%s (%s vs %s)", i ? ", " : "", d->items[i].key,
                      d->items[i].old_text, d->items[i].new_text);
}

void hp_spec_diff_fini(hp_spec_diff_t *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->items[i].key);
        free(d->items[i].old_text);
        free(d->items[i].new_text);
    }
    free(d->items);
    memset(d, 0, sizeof *d);
}
