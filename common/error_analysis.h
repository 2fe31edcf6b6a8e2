/*
 * error_analysis.h — "look at actual examples": a classifier's confusion
 * matrix and its worst examples (the highest loss) on one evaluated set.
 *
 * The worker fills one for a built-in classification trial's test set
 * (worker/train/analyze.c) and sends it with the RESULT; the coordinator
 * keeps it (tables trial_errors, trial_worst: docs/sql.md); `hpsearch
 * report --errors` and `hpsearch examples` read it back.
 *
 *     hp_ea_t ea;
 *     if (hp_ea_init(&ea, 10, 1, 28, 28, err, sizeof err) < 0) ...
 *     int at = hp_ea_add(&ea, index, label, predicted, loss);
 *     if (at >= 0)                               // kept among the worst
 *         memcpy(hp_ea_pixels(&ea, at), image, 784);
 *     hp_ea_pair_t pairs[8];
 *     size_t n = hp_ea_pairs(ea.confusion, ea.nclasses, pairs, 8);
 *     hp_ea_fini(&ea);
 *
 * Plain data, no locking: one thread at a time.
 */
#ifndef HP_ERROR_ANALYSIS_H
#define HP_ERROR_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#define HP_EA_WORST 16          /* worst examples kept per trial */
#define HP_EA_MAX_CLASSES 100   /* more classes keep no confusion matrix */
#define HP_EA_MAX_PIXELS 4096   /* larger images keep no pixels (c * h * w bytes) */

typedef struct hp_ea_example {
    uint32_t index;     /* the example's index in its dataset file (see docs/report.md) */
    int32_t label;      /* true class */
    int32_t predicted;  /* argmax of the logits */
    float loss;         /* its cross-entropy */
} hp_ea_example_t;

typedef struct hp_ea {
    int nclasses;
    uint64_t n;            /* examples counted */
    uint64_t *confusion;   /* (nclasses, nclasses): row = true class, column = predicted */
    size_t nworst;         /* <= HP_EA_WORST */
    hp_ea_example_t worst[HP_EA_WORST]; /* the highest loss first */
    int c, h, w;           /* image shape of the pixels; 0 = no pixels (tabular data) */
    uint8_t *pixels;       /* (HP_EA_WORST, c * h * w): worst[i]'s image at i */
} hp_ea_t;

/* hp_ea_init prepares an empty analysis for nclasses (1..HP_EA_MAX_CLASSES)
 * and, when c * h * w is in 1..HP_EA_MAX_PIXELS, room for the worst
 * examples' images (else c = h = w = 0). HP_EINVAL / HP_ENOMEM. */
int hp_ea_init(hp_ea_t *e, int nclasses, int c, int h, int w, char *err, size_t errlen);
/* hp_ea_fini frees; safe on zeroed memory. */
void hp_ea_fini(hp_ea_t *e);
/* hp_ea_reset forgets every example, keeps the allocation. */
void hp_ea_reset(hp_ea_t *e);

/* hp_ea_add counts one example (label and predicted in 0..nclasses-1;
 * others are ignored, -1) and returns its rank among the worst kept so
 * far (0 = worst), or -1 when its loss is not among them. The caller then
 * writes its image at hp_ea_pixels(e, rank): later ones moved down. A NaN
 * loss ranks as the worst. Allocates nothing. */
int hp_ea_add(hp_ea_t *e, uint32_t index, int label, int predicted, float loss);
/* hp_ea_pixels: rank's image (c * h * w bytes), or NULL without pixels. */
uint8_t *hp_ea_pixels(const hp_ea_t *e, size_t rank);
/* hp_ea_pixel_bytes: c * h * w. */
size_t hp_ea_pixel_bytes(const hp_ea_t *e);

/* One off-diagonal cell: `count` examples of class `label` predicted as
 * `predicted`, `share` of that class's examples. */
typedef struct hp_ea_pair {
    int label, predicted;
    uint64_t count;
    double share;
} hp_ea_pair_t;

/* hp_ea_pairs writes the most-confused (label, predicted) pairs of a
 * (k, k) confusion matrix into out, most examples first (ties: lower
 * label, then predicted), at most max and only cells > 0; returns how
 * many. */
size_t hp_ea_pairs(const uint64_t *confusion, int k, hp_ea_pair_t *out, size_t max);

#endif
