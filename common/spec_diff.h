/*
 * spec_diff.h — what differs between two study specs, key by key, named
 * as a spec file names them.
 *
 *     hp_spec_diff_t d = {0};
 *     hp_spec_diff(&stored, &submitted, &d);
 *     for (size_t i = 0; i < d.n; i++)
 *         // d.items[i].key "space.lr.high", .old_text "0.1", .new_text "0.2"
 *     hp_buf_t words = {0};
 *     hp_spec_diff_describe(&d, &words);
 *     // "space.lr.high (0.1 vs 0.2), trial.epochs (5 vs 10)"
 *     hp_spec_diff_fini(&d);
 *
 * The comparison is of the specs' canonical JSON (hp_spec_to_json), so it
 * covers every field with its default filled in, and two specs differ in
 * no key exactly when hp_spec_equal says they mean the same study. A key
 * one spec leaves out (grid's max_trials 0, an unset human_error) reads
 * "unset". Any thread; the specs are only read.
 */
#ifndef HP_SPEC_DIFF_H
#define HP_SPEC_DIFF_H

#include "buf.h"
#include "spec.h"

#include <stddef.h>

typedef struct hp_spec_change {
    char *key;      /* "search.max_trials", "space.lr.high", "trial.command[1]" */
    char *old_text; /* the value in the first spec, as JSON text; "unset" */
    char *new_text; /* the value in the second */
} hp_spec_change_t;

typedef struct hp_spec_diff {
    hp_spec_change_t *items;
    size_t n, cap;
} hp_spec_diff_t;

/* hp_spec_diff appends to out (zeroed or earlier filled) one change per
 * key whose value differs from a to b, in the order of a's canonical
 * JSON, then the keys only b has. Returns the number appended. */
size_t hp_spec_diff(const hp_spec_t *a, const hp_spec_t *b, hp_spec_diff_t *out);

/* hp_spec_diff_find returns the change of key, or NULL when it is the same. */
const hp_spec_change_t *hp_spec_diff_find(const hp_spec_diff_t *d, const char *key);

/* hp_spec_diff_describe appends "KEY (OLD vs NEW)" for each change,
 * comma-separated. */
void hp_spec_diff_describe(const hp_spec_diff_t *d, hp_buf_t *out);

/* hp_spec_diff_fini frees d's changes; safe on zeroed memory. */
void hp_spec_diff_fini(hp_spec_diff_t *d);

#endif
