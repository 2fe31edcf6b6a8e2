/*
 * suggest.h — "did you mean": the known word closest to one that was not
 * found, for every message that names an unknown thing (a spec key, a
 * setting, a CLI verb, a study).
 *
 *     static const char *const verbs[] = {"status", "trials", "best"};
 *     const char *near = hp_suggest_closest("staus", 5, verbs, 3);  // "status"
 *
 *     char hint[300];
 *     hp_suggest_hint(hint, sizeof hint, "brannin", 7, names, n);
 *     // hint = " (did you mean 'branin'?)", or "" when nothing is close
 *     printf("no study named 'brannin'%s\n", hint);
 *
 * A word is close when it is at most two edits away (Levenshtein:
 * insert, delete, substitute) and the edits touch at most half of the
 * longer word, so 'wd' is not taken for 'lr'. Pure; any thread.
 */
#ifndef HP_SUGGEST_H
#define HP_SUGGEST_H

#include <stddef.h>

/* Words longer than this are never suggested (nor compared). */
#define HP_SUGGEST_MAX_WORD 127

/* hp_suggest_closest returns the word of known[0..nknown) closest to s
 * (n bytes, need not be NUL-terminated), or NULL when none is close. Of
 * equally close words the first wins. known's words are not copied: the
 * result points into known. */
const char *hp_suggest_closest(const char *s, size_t n, const char *const *known,
                               size_t nknown);

/* hp_suggest_hint writes " (did you mean 'W'?)" for the closest word W, or
 * "" when none is close, into out (cap bytes, always NUL-terminated). */
void hp_suggest_hint(char *out, size_t cap, const char *s, size_t n, const char *const *known,
                     size_t nknown);

#endif
