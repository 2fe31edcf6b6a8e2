/* "Did you mean": edit distance to the known words (suggest.h). */
#include "suggest.h"

#include <stdio.h>
#include <string.h>

#define FAR 99 /* more edits than any suggestion allows */

/* Levenshtein distance of a (la bytes) and b, or FAR once the lengths
 * alone are more than two apart. */
static size_t edit_distance(const char *a, size_t la, const char *b)
{
    size_t lb = strlen(b);
    if (la > lb + 2 || lb > la + 2 || lb > HP_SUGGEST_MAX_WORD || la > HP_SUGGEST_MAX_WORD)
        return FAR;
    size_t prev[HP_SUGGEST_MAX_WORD + 1], cur[HP_SUGGEST_MAX_WORD + 1];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof *prev);
    }
    return prev[lb];
}

/* Two edits of a short word change most of it ('wd' is two edits from
 * 'lr', 'act' from 'fc1'): a word is only suggested when the edits touch
 * at most half of the longer of the two. */
const char *hp_suggest_closest(const char *s, size_t n, const char *const *known,
                               size_t nknown)
{
    const char *best = NULL;
    size_t bestd = 3;
    for (size_t i = 0; i < nknown; i++) {
        if (!known[i])
            continue;
        size_t d = edit_distance(s, n, known[i]), l = strlen(known[i]);
        if (2 * d > (n > l ? n : l))
            continue;
        if (d < bestd) {
            bestd = d;
            best = known[i];
        }
    }
    return best;
}

void hp_suggest_hint(char *out, size_t cap, const char *s, size_t n, const char *const *known,
                     size_t nknown)
{
    if (!cap)
        return;
    const char *near = hp_suggest_closest(s, n, known, nknown);
    if (near)
        snprintf(out, cap, " (did you mean '%s'?)", near);
    else
        out[0] = '\0';
}
