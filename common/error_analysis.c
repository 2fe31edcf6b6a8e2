/* The confusion matrix and the worst examples of one evaluated set. */
#include "error_analysis.h"

#include "err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int hp_ea_init(hp_ea_t *e, int nclasses, int c, int h, int w, char *err, size_t errlen)
{
    memset(e, 0, sizeof *e);
    if (nclasses < 1 || nclasses > HP_EA_MAX_CLASSES)
        return hp_errf(err, errlen, HP_EINVAL,
                       "error analysis: %d classes (it keeps a confusion matrix for 1 to %d)",
                       nclasses, HP_EA_MAX_CLASSES);
    e->nclasses = nclasses;
    e->confusion = calloc((size_t)nclasses * (size_t)nclasses, sizeof *e->confusion);
    if (!e->confusion)
        return hp_errf(err, errlen, HP_ENOMEM, "error analysis: out of memory");
    long px = (long)c * h * w;
    if (c > 0 && h > 0 && w > 0 && px <= HP_EA_MAX_PIXELS) {
        e->c = c;
        e->h = h;
        e->w = w;
        e->pixels = calloc(HP_EA_WORST, (size_t)px);
        if (!e->pixels) {
            hp_ea_fini(e);
            return hp_errf(err, errlen, HP_ENOMEM, "error analysis: out of memory");
        }
    }
    return 0;
}

void hp_ea_fini(hp_ea_t *e)
{
    free(e->confusion);
    free(e->pixels);
    memset(e, 0, sizeof *e);
}

void hp_ea_reset(hp_ea_t *e)
{
    if (e->confusion)
        memset(e->confusion, 0, (size_t)e->nclasses * (size_t)e->nclasses * sizeof *e->confusion);
    e->n = 0;
    e->nworst = 0;
}

size_t hp_ea_pixel_bytes(const hp_ea_t *e)
{
    return e->pixels ? (size_t)e->c * (size_t)e->h * (size_t)e->w : 0;
}

uint8_t *hp_ea_pixels(const hp_ea_t *e, size_t rank)
{
    return e->pixels && rank < HP_EA_WORST ? e->pixels + rank * hp_ea_pixel_bytes(e) : NULL;
}

/* a ranks before b: higher loss; NaN above everything */
static int worse(float a, float b)
{
    if (isnan(a))
        return !isnan(b);
    return !isnan(b) && a > b;
}

int hp_ea_add(hp_ea_t *e, uint32_t index, int label, int predicted, float loss)
{
    if (label < 0 || label >= e->nclasses || predicted < 0 || predicted >= e->nclasses)
        return -1;
    e->confusion[(size_t)label * (size_t)e->nclasses + (size_t)predicted]++;
    e->n++;
    size_t at = e->nworst;
    while (at > 0 && worse(loss, e->worst[at - 1].loss))
        at--;
    if (at >= HP_EA_WORST)
        return -1;
    size_t keep = e->nworst < HP_EA_WORST ? e->nworst : HP_EA_WORST - 1; /* the last falls off */
    memmove(&e->worst[at + 1], &e->worst[at], (keep - at) * sizeof e->worst[0]);
    size_t px = hp_ea_pixel_bytes(e);
    if (px)
        memmove(e->pixels + (at + 1) * px, e->pixels + at * px, (keep - at) * px);
    e->worst[at] = (hp_ea_example_t){index, label, predicted, loss};
    if (e->nworst < HP_EA_WORST)
        e->nworst++;
    return (int)at;
}

size_t hp_ea_pairs(const uint64_t *confusion, int k, hp_ea_pair_t *out, size_t max)
{
    size_t n = 0;
    for (int i = 0; i < k; i++) {
        uint64_t row = 0;
        for (int j = 0; j < k; j++)
            row += confusion[(size_t)i * (size_t)k + (size_t)j];
        for (int j = 0; j < k; j++) {
            uint64_t v = confusion[(size_t)i * (size_t)k + (size_t)j];
            if (i == j || v == 0)
                continue;
            /* insertion into the top max: by count, then (i, j) as scanned */
            size_t at = n;
            while (at > 0 && out[at - 1].count < v)
                at--;
            if (at >= max)
                continue;
            size_t keep = n < max ? n : max - 1;
            memmove(&out[at + 1], &out[at], (keep - at) * sizeof *out);
            out[at] = (hp_ea_pair_t){i, j, v, row ? (double)v / (double)row : 0};
            if (n < max)
                n++;
        }
    }
    return n;
}
