/* Merging keys into a spec's YAML document (see spec_overlay.h). */
#include "spec_overlay.h"

#include "err.h"
#include "yaml_quotes.h"

#include <libfyaml.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 8 /* a spec is at most four levels deep */

static struct fy_document *load(const char *text, size_t len)
{
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2};
    return fy_document_build_from_string(&cfg, text, len);
}

/* a plain ~ or null: "remove this key" */
static int is_null(struct fy_node *n)
{
    if (!n)
        return 1;
    if (fy_node_get_type(n) != FYNT_SCALAR || fy_node_get_style(n) != FYNS_PLAIN)
        return 0;
    size_t l;
    const char *t = fy_node_get_scalar(n, &l);
    return t && ((l == 1 && t[0] == '~') || (l == 4 && memcmp(t, "null", 4) == 0));
}

static void add_path(hp_buf_t *filled, const char *path)
{
    if (filled) {
        hp_buf_puts(filled, path);
        hp_buf_putc(filled, '\n');
    }
}

/* merges mapping src (of document sd) into mapping dst (of document dd) */
static void merge(struct fy_document *dd, struct fy_node *dst, struct fy_node *src,
                  hp_overlay_mode_t mode, const char *prefix, int depth, hp_buf_t *filled)
{
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(src, &it)) != NULL) {
        size_t kl;
        const char *k = fy_node_get_scalar(fy_node_pair_key(p), &kl);
        if (!k)
            continue;
        char path[300];
        snprintf(path, sizeof path, "%s%s%.*s", prefix, *prefix ? "." : "", (int)kl, k);
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)kl, k);
        struct fy_node *sv = fy_node_pair_value(p);
        struct fy_node_pair *dp = fy_node_mapping_lookup_pair_by_string(dst, key, FY_NT);
        if (!dp && is_null(sv))
            continue; /* nothing to remove */
        if (!dp) {
            struct fy_node *kn = fy_node_create_scalar_copy(dd, key, FY_NT);
            /* a new mapping is merged into an empty one, so its nulls go */
            int map = fy_node_get_type(sv) == FYNT_MAPPING && depth < MAX_DEPTH;
            struct fy_node *vn = map ? fy_node_create_mapping(dd) : fy_node_copy(dd, sv);
            HP_ASSERT(kn && vn && fy_node_mapping_append(dst, kn, vn) == 0);
            add_path(filled, path);
            if (map)
                merge(dd, vn, sv, mode, path, depth + 1, filled);
            continue;
        }
        if (mode == HP_OVERLAY_REPLACE && is_null(sv)) {
            /* by key: that frees the pair (and the key given), the value is ours */
            struct fy_node *kn = fy_node_create_scalar_copy(dd, key, FY_NT);
            HP_ASSERT(kn != NULL);
            fy_node_free(fy_node_mapping_remove_by_key(dst, kn));
            add_path(filled, path);
            continue;
        }
        struct fy_node *dv = fy_node_pair_value(dp);
        if (dv && sv && fy_node_get_type(dv) == FYNT_MAPPING &&
            fy_node_get_type(sv) == FYNT_MAPPING && depth < MAX_DEPTH) {
            merge(dd, dv, sv, mode, path, depth + 1, filled);
        } else if (mode == HP_OVERLAY_REPLACE) {
            struct fy_node *vn = fy_node_copy(dd, sv);
            HP_ASSERT(vn && fy_node_pair_set_value(dp, vn) == 0);
            add_path(filled, path);
        }
    }
}

int hp_spec_overlay(const char *text, size_t len, const char *file, const char *overlay,
                    hp_overlay_mode_t mode, hp_buf_t *out, hp_buf_t *filled, hp_diag_t *diag)
{
    const char *name = file ? file : "spec";
    struct fy_document *d = load(text, len);
    if (!d || !fy_document_root(d) || fy_node_get_type(fy_document_root(d)) != FYNT_MAPPING) {
        hp_diag_add(diag, name, 0, "", "not a YAML mapping (hpsearch validate shows why)");
        if (d)
            fy_document_destroy(d);
        return HP_EINVAL;
    }
    int ql, qc;
    if (hp_yaml_misread_quote(fy_document_root(d), text, len, &ql, &qc)) {
        hp_diag_add(diag, name, ql, "", "%s (column %d)", HP_YAML_QUOTE_MSG, qc);
        fy_document_destroy(d);
        return HP_EINVAL;
    }
    struct fy_document *o = load(overlay, strlen(overlay));
    if (!o || !fy_document_root(o) || fy_node_get_type(fy_document_root(o)) != FYNT_MAPPING) {
        hp_diag_add(diag, name, 0, "", "the overlay is not a YAML mapping");
        if (o)
            fy_document_destroy(o);
        fy_document_destroy(d);
        return HP_EINVAL;
    }
    merge(d, fy_document_root(d), fy_document_root(o), mode, "", 0, filled);
    char *s = fy_emit_document_to_string(d, FYECF_MODE_BLOCK | FYECF_WIDTH_INF);
    HP_ASSERT(s != NULL);
    hp_buf_puts(out, s);
    free(s);
    fy_document_destroy(o);
    fy_document_destroy(d);
    return 0;
}
