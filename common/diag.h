/*
 * diag.h — a list of user-facing diagnostics, collected rather than
 * stopping at the first (a spec with five mistakes gets five lines).
 *
 * Each entry is already formatted as `FILE:LINE: PATH: MESSAGE`, e.g.
 * `study.yaml:7: space.lr.low: must be > 0 for a log-scaled parameter (got -1)`,
 * with the parts also kept separately so tests can assert on them.
 *
 *     hp_diag_t d = {0};
 *     hp_diag_add(&d, "study.yaml", 7, "space.lr.low", "must be > 0 ... (got %g)", v);
 *     for (size_t i = 0; i < d.n; i++) puts(d.items[i].text);
 *     hp_diag_fini(&d);
 */
#ifndef HP_DIAG_H
#define HP_DIAG_H

#include <stddef.h>

typedef struct hp_diag_item {
    char *file;    /* may be "" */
    int line;      /* 1-based; 0 when unknown */
    char *path;    /* field path, e.g. "space.lr.low"; may be "" */
    char *message; /* what is wrong */
    char *text;    /* "file:line: path: message" */
} hp_diag_item_t;

typedef struct hp_diag {
    hp_diag_item_t *items;
    size_t n, cap;
    size_t limit; /* stop recording after this many (0 = 1000) */
    size_t dropped;
} hp_diag_t;

void hp_diag_add(hp_diag_t *d, const char *file, int line, const char *path,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void hp_diag_fini(hp_diag_t *d); /* safe on zeroed memory */
/* hp_diag_find returns the first item whose path equals path, or NULL. */
const hp_diag_item_t *hp_diag_find(const hp_diag_t *d, const char *path);

#endif
