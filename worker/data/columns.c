/* Choosing a CSV's columns: an image and a feature vector, or a sequence
 * (dataset.h). */
#include "dataset.h"

#include "err.h"

#include <stdlib.h>
#include <string.h>

/* does name match one of the comma-separated items of list (name, or
 * prefix followed by '*')? *hits (one per item, may be NULL) counts the
 * matches of each */
static int matches(const char *list, const char *name, int *hits)
{
    int any = 0, k = 0;
    for (const char *p = list; *p; k++) {
        size_t n = strcspn(p, ",");
        const char *item = p;
        while (n > 0 && *item == ' ')
            item++, n--;
        size_t m = n;
        while (m > 0 && item[m - 1] == ' ')
            m--;
        int hit = m > 0 && item[m - 1] == '*' ? strncmp(name, item, m - 1) == 0
                                              : strlen(name) == m && strncmp(name, item, m) == 0;
        if (hit) {
            any = 1;
            if (hits)
                hits[k]++;
        }
        p += strcspn(p, ",");
        if (*p == ',')
            p++;
    }
    return any;
}

static int items(const char *list)
{
    int n = 1;
    for (const char *p = list; *p; p++)
        n += *p == ',';
    return n;
}

/* the first item of list that matched nothing (into out), or 0 */
static int unmatched(const char *list, const int *hits, char *out, size_t len)
{
    int k = 0;
    for (const char *p = list; *p; k++) {
        size_t n = strcspn(p, ",");
        if (!hits[k]) {
            snprintf(out, len, "%.*s", (int)n, p);
            return 1;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

/* dst: src with the nd columns order[0..nd) alone, shaped (nd, 1, 1) */
static int copy_columns(hp_dataset_t *dst, const hp_dataset_t *src, const size_t *order,
                        size_t nd, char *err, size_t errlen)
{
    size_t D = src->dim;
    *dst = *src;
    dst->x8 = NULL;
    dst->dim = nd;
    dst->xf = malloc(sizeof(float) * (src->n ? src->n : 1) * nd);
    dst->feature_names = calloc(nd, sizeof(char *));
    dst->y = src->y ? malloc(sizeof(int32_t) * (src->n ? src->n : 1)) : NULL;
    dst->yt = src->yt ? malloc(sizeof(float) * (src->n ? src->n : 1)) : NULL;
    int fail = !dst->xf || !dst->feature_names || (src->y && !dst->y) || (src->yt && !dst->yt);
    for (size_t j = 0; !fail && j < nd; j++)
        fail = !(dst->feature_names[j] = strdup(src->feature_names[order[j]]));
    if (fail) {
        hp_dataset_fini(dst);
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory choosing columns");
    }
    for (size_t i = 0; i < src->n; i++)
        for (size_t j = 0; j < nd; j++)
            dst->xf[i * nd + j] = src->xf[i * D + order[j]];
    if (src->y)
        memcpy(dst->y, src->y, sizeof(int32_t) * src->n);
    if (src->yt)
        memcpy(dst->yt, src->yt, sizeof(float) * src->n);
    dst->c = (int)nd;
    dst->h = dst->w = 1;
    dst->img_c = dst->img_h = dst->img_w = 0;
    dst->seq_t = dst->seq_f = 0;
    return 0;
}

int hp_dataset_columns(hp_dataset_t *dst, const hp_dataset_t *src, const char *image_columns,
                       const int img[3], const char *feature_columns, char *err, size_t errlen)
{
    memset(dst, 0, sizeof *dst);
    if (!src->xf || !src->feature_names)
        return hp_errf(err, errlen, HP_EINVAL,
                       "image_columns / feature_columns: only a CSV dataset has named columns");
    const char *ic = image_columns && *image_columns ? image_columns : NULL;
    const char *fc = feature_columns && *feature_columns ? feature_columns : NULL;
    int nofeat = fc && strcmp(fc, "none") == 0;
    size_t D = src->dim;
    int *pick = calloc(D ? D : 1, sizeof *pick); /* 1 image, 2 feature */
    int *ihits = ic ? calloc((size_t)items(ic), sizeof *ihits) : NULL;
    int *fhits = fc && !nofeat ? calloc((size_t)items(fc), sizeof *fhits) : NULL;
    size_t *order = calloc(D ? D : 1, sizeof *order);
    int rc = 0;
    if (!pick || !order || (ic && !ihits) || (fc && !nofeat && !fhits)) {
        rc = hp_errf(err, errlen, HP_ENOMEM, "out of memory choosing columns");
        goto out;
    }
    size_t ni = 0, nf = 0;
    for (size_t j = 0; j < D; j++)
        if (ic && matches(ic, src->feature_names[j], ihits)) {
            pick[j] = 1;
            ni++;
        }
    for (size_t j = 0; j < D; j++) {
        if (pick[j] || nofeat)
            continue;
        if (!fc || matches(fc, src->feature_names[j], fhits)) {
            pick[j] = 2;
            nf++;
        }
    }
    char miss[256];
    if (ic && unmatched(ic, ihits, miss, sizeof miss)) {
        rc = hp_errf(err, errlen, HP_EINVAL, "image_columns: '%s' matches no column", miss);
        goto out;
    }
    if (fhits && unmatched(fc, fhits, miss, sizeof miss)) {
        rc = hp_errf(err, errlen, HP_EINVAL,
                     "feature_columns: '%s' matches no column (that is not an image column)",
                     miss);
        goto out;
    }
    if (ic) {
        size_t want = (size_t)img[0] * (size_t)img[1] * (size_t)img[2];
        if (ni != want) {
            rc = hp_errf(err, errlen, HP_EINVAL,
                         "image_columns '%s' match %zu columns; image_shape %d,%d,%d needs %zu",
                         ic, ni, img[0], img[1], img[2], want);
            goto out;
        }
    }
    if (ni + nf == 0) {
        rc = hp_errf(err, errlen, HP_EINVAL, "image_columns / feature_columns leave no columns");
        goto out;
    }
    size_t k = 0;
    for (int want = 1; want <= 2; want++)
        for (size_t j = 0; j < D; j++)
            if (pick[j] == want)
                order[k++] = j;
    size_t nd = ni + nf;
    if ((rc = copy_columns(dst, src, order, nd, err, errlen)) < 0)
        goto out;
    if (ic) {
        dst->img_c = img[0];
        dst->img_h = img[1];
        dst->img_w = img[2];
        if (nf == 0) { /* the image alone: its shape is the sample's */
            dst->c = img[0];
            dst->h = img[1];
            dst->w = img[2];
        }
    }
out:
    free(pick);
    free(ihits);
    free(fhits);
    free(order);
    return rc;
}

int hp_dataset_sequence(hp_dataset_t *dst, const hp_dataset_t *src, const char *sequence_columns,
                        const int shape[2], char *err, size_t errlen)
{
    memset(dst, 0, sizeof *dst);
    if (!src->xf || !src->feature_names)
        return hp_errf(err, errlen, HP_EINVAL,
                       "sequence_columns: only a CSV dataset has named columns");
    const char *sc = sequence_columns;
    if (!sc || !*sc)
        return hp_errf(err, errlen, HP_EINVAL, "sequence_columns: names no column");
    size_t D = src->dim, want = (size_t)shape[0] * (size_t)shape[1];
    int *hits = calloc((size_t)items(sc), sizeof *hits);
    size_t *order = calloc(D ? D : 1, sizeof *order);
    int rc = 0;
    if (!hits || !order) {
        rc = hp_errf(err, errlen, HP_ENOMEM, "out of memory choosing columns");
        goto out;
    }
    size_t k = 0;
    for (size_t j = 0; j < D; j++)
        if (matches(sc, src->feature_names[j], hits))
            order[k++] = j;
    char miss[256];
    if (unmatched(sc, hits, miss, sizeof miss)) {
        rc = hp_errf(err, errlen, HP_EINVAL, "sequence_columns: '%s' matches no column", miss);
        goto out;
    }
    if (k != want) {
        rc = hp_errf(err, errlen, HP_EINVAL,
                     "sequence_columns '%s' match %zu columns; sequence_shape [%d, %d] needs "
                     "T x F = %zu",
                     sc, k, shape[0], shape[1], want);
        goto out;
    }
    if ((rc = copy_columns(dst, src, order, k, err, errlen)) < 0)
        goto out;
    dst->c = 1;
    dst->h = dst->seq_t = shape[0];
    dst->w = dst->seq_f = shape[1];
out:
    free(hits);
    free(order);
    return rc;
}
