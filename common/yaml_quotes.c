/* Finding the single-quoted strings libfyaml 0.7 misreads (see yaml_quotes.h). */
#include "yaml_quotes.h"

#include <libfyaml.h>
#include <pthread.h>
#include <string.h>

static int buggy;
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;

/* two adjacent escapes; the correct reading is a''b. Two (not four) so
 * that a buggy library shows the bug without leaking. */
static void probe(void)
{
    static const char y[] = "'a''''b'";
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET};
    struct fy_document *d = fy_document_build_from_string(&cfg, y, sizeof y - 1);
    size_t l = 0;
    const char *s = d && fy_document_root(d) ? fy_node_get_scalar(fy_document_root(d), &l) : NULL;
    buggy = !(s && l == 4 && memcmp(s, "a''b", 4) == 0);
    if (d)
        fy_document_destroy(d);
}

typedef struct {
    const char *text; /* what the document was parsed from */
    size_t len;
    int line, col; /* of the first string found */
} scan_t;

/* the source of a single-quoted scalar holds '''' between its quotes: two
 * escapes in a row (a lone '' escape is read right). The token's marks
 * span the text between the quotes. */
static int misread(struct fy_node *n, scan_t *s)
{
    struct fy_token *t = fy_node_get_scalar_token(n);
    const struct fy_mark *a = t ? fy_token_start_mark(t) : NULL;
    const struct fy_mark *b = t ? fy_token_end_mark(t) : NULL;
    if (!a || !b || b->input_pos > s->len || a->input_pos + 4 > b->input_pos)
        return 0;
    for (const char *p = s->text + a->input_pos, *e = s->text + b->input_pos; p + 4 <= e; p++)
        if (memcmp(p, "''''", 4) == 0) {
            s->line = a->line + 1;
            s->col = a->column; /* the opening quote's, counted from 1 */
            return 1;
        }
    return 0;
}

/* recursion is bounded by libfyaml's nesting limit */
static int walk(struct fy_node *n, scan_t *s)
{
    if (!n)
        return 0;
    switch (fy_node_get_type(n)) {
    case FYNT_SCALAR:
        return fy_node_get_style(n) == FYNS_SINGLE_QUOTED && misread(n, s);
    case FYNT_SEQUENCE: {
        void *it = NULL;
        struct fy_node *c;
        while ((c = fy_node_sequence_iterate(n, &it)) != NULL)
            if (walk(c, s))
                return 1;
        return 0;
    }
    case FYNT_MAPPING: {
        void *it = NULL;
        struct fy_node_pair *p;
        while ((p = fy_node_mapping_iterate(n, &it)) != NULL)
            if (walk(fy_node_pair_key(p), s) || walk(fy_node_pair_value(p), s))
                return 1;
        return 0;
    }
    }
    return 0;
}

int hp_yaml_misread_quote(struct fy_node *root, const char *text, size_t len, int *line,
                          int *col)
{
    pthread_once(&probe_once, probe);
    scan_t s = {.text = text, .len = len};
    if (!buggy || !walk(root, &s))
        return 0;
    *line = s.line;
    *col = s.col;
    return 1;
}
