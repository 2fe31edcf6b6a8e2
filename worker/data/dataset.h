/*
 * dataset.h — in-memory datasets, splits, normalization and batching.
 *
 * A dataset holds every sample in memory: images stay uint8 (a full
 * Fashion-MNIST is 55 MB, not 220 MB as floats) and are converted to
 * normalized floats only when a batch is gathered. Tabular data (CSV) is
 * float. Splits are index lists into one dataset, so nothing is copied.
 *
 *     hp_dataset_t train = {0}, test = {0};
 *     hp_fashion_mnist_load(&train, &test, NULL, err, errlen);
 *     hp_split_t s;
 *     hp_split_init(&s, &train, 0, 5000, 10000, seed, err, errlen); // test, val, train
 *     hp_norm_t nm;
 *     hp_norm_fit(&nm, &train, s.train, s.ntrain, HP_NORM_STANDARD, err, errlen);
 *     hp_data_gather(x, y, NULL, &train, s.train + i, B, &nm, NULL, NULL);
 *
 * Loaders report bad input as `FILE: offset N: what is wrong` (binary) or
 * `FILE:LINE: ...` (CSV).
 */
#ifndef HP_DATA_DATASET_H
#define HP_DATA_DATASET_H

#include "rng.h"

#include <stddef.h>
#include <stdint.h>

typedef enum hp_task {
    HP_TASK_CLASSIFY,
    HP_TASK_REGRESS,
} hp_task_t;

typedef struct hp_dataset {
    hp_task_t task;
    size_t n;        /* samples */
    int c, h, w;     /* per-sample shape; tabular data is (dim, 1, 1) */
    size_t dim;      /* c * h * w */
    uint8_t *x8;     /* (n, dim) images, or NULL */
    float *xf;       /* (n, dim) tabular features, or NULL */
    int32_t *y;      /* (n) class labels in [0, nclasses) (classification) */
    float *yt;       /* (n) targets (regression) */
    int nclasses;    /* classification; 1 for regression */
    char **feature_names; /* CSV: dim names, else NULL */
    /* a CSV's image columns (dataset.image_columns, columns.c): the first
     * img_c * img_h * img_w of the dim features are an image, row-major
     * (c, h, w); 0 = none. With features after them the data has two
     * modalities (c, h, w stay (dim, 1, 1)); without, (c, h, w) is the
     * image's shape too. */
    int img_c, img_h, img_w;
    /* a CSV's sequence columns (dataset.sequence_columns, columns.c): the
     * dim = seq_t * seq_f features are seq_t steps of seq_f features,
     * time-major, and (c, h, w) = (1, seq_t, seq_f), the shape the
     * sequence models read as T steps (as an image's rows); 0 = none */
    int seq_t, seq_f;
} hp_dataset_t;

/* hp_dataset_fini frees everything; safe on a zeroed dataset. */
void hp_dataset_fini(hp_dataset_t *ds);
/* hp_dataset_copy makes dst a deep copy of src (dst is overwritten, not
 * freed). HP_ENOMEM leaves dst zeroed. */
int hp_dataset_copy(hp_dataset_t *dst, const hp_dataset_t *src, char *err, size_t errlen);
/* hp_dataset_bytes: the memory its arrays take. */
size_t hp_dataset_bytes(const hp_dataset_t *ds);

/* ---- loaders ---- */

/* hp_idx_load_images reads an IDX3 uint8 image file (.gz or plain, via
 * zlib) into ds->x8 and sets n, c = 1, h, w. */
int hp_idx_load_images(hp_dataset_t *ds, const char *path, char *err, size_t errlen);
/* hp_idx_load_labels reads an IDX1 uint8 label file; its count must match
 * ds->n (so load images first); sets nclasses = max label + 1. */
int hp_idx_load_labels(hp_dataset_t *ds, const char *path, char *err, size_t errlen);
/* hp_fashion_mnist_load loads the train and test split from dir (NULL:
 * $HP_FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist). */
int hp_fashion_mnist_load(hp_dataset_t *train, hp_dataset_t *test, const char *dir, char *err,
                          size_t errlen);
/* hp_fashion_mnist_dir: the directory hp_fashion_mnist_load reads for dir;
 * hp_fashion_mnist_paths: its image and label files for prefix "train" or
 * "t10k" (each buffer len bytes). */
const char *hp_fashion_mnist_dir(const char *dir);
void hp_fashion_mnist_paths(const char *dir, const char *prefix, char *images, char *labels,
                            size_t len);

/* hp_csv_load reads a CSV file with a header row of column names and
 * numeric cells. label names the target column (NULL: the last). For
 * classification the labels must be integers >= 0; the class count is
 * max + 1. */
int hp_csv_load(hp_dataset_t *ds, const char *path, const char *label, hp_task_t task, char *err,
                size_t errlen);

/* hp_dataset_columns makes dst a copy of the CSV dataset src (feature
 * names needed) with only the columns asked for: first the image columns
 * (image_columns: comma-separated names or prefix* patterns; NULL or ""
 * for none) in header order, exactly img[0] * img[1] * img[2] of them,
 * then the feature columns (feature_columns likewise; NULL or "" = every
 * column that is not an image column, "none" = none) in header order.
 * With both, dst is (dim, 1, 1) with img_c/h/w set; with the image alone,
 * (c, h, w) is the image's shape. A pattern that matches nothing, or an
 * image column count that does not fit the shape, is HP_EINVAL naming it. */
int hp_dataset_columns(hp_dataset_t *dst, const hp_dataset_t *src, const char *image_columns,
                       const int img[3], const char *feature_columns, char *err, size_t errlen);

/* hp_dataset_sequence makes dst a copy of the CSV dataset src with only
 * the sequence columns (sequence_columns: comma-separated names or prefix*
 * patterns) in header order, exactly shape[0] * shape[1] of them: T steps
 * of F features, time-major. dst is (1, T, F) with seq_t, seq_f set; the
 * other columns (but the label) are left out. A pattern that matches
 * nothing, or a count that is not T * F, is HP_EINVAL naming both. */
int hp_dataset_sequence(hp_dataset_t *dst, const hp_dataset_t *src, const char *sequence_columns,
                        const int shape[2], char *err, size_t errlen);

/* ---- splits ---- */

typedef struct hp_split {
    uint32_t *perm;          /* one block: test, val, train, unused indices */
    uint32_t *test, *val, *train;
    size_t ntest, nval, ntrain;
} hp_split_t;

/* hp_split_init shuffles ds's indices with seed alone (so every trial of a
 * study sees the same split), holds out ntest for testing (0 when the
 * dataset has its own test set) and nval for validation, and keeps ntrain
 * of the rest for training (0: all the rest). */
int hp_split_init(hp_split_t *s, const hp_dataset_t *ds, size_t ntest, size_t nval,
                  size_t ntrain, uint64_t seed, char *err, size_t errlen);
void hp_split_fini(hp_split_t *s);

/* ---- normalization: x' = (x - shift) * scale per feature ---- */

typedef enum hp_norm_kind {
    HP_NORM_NONE,
    HP_NORM_STANDARD, /* mean 0, std 1 from the TRAINING split (images: one
                         statistic over all pixels, tabular: per column, a
                         sequence: per feature over all its steps) */
    HP_NORM_UNIT,     /* [0, 1]: images / 255, tabular min-max of train */
    HP_NORM_CENTER,   /* [-0.5, 0.5] */
} hp_norm_kind_t;

typedef struct hp_norm {
    hp_norm_kind_t kind;
    size_t dim;
    float *shift, *scale; /* one block, dim each */
} hp_norm_t;

/* hp_norm_fit computes the statistics from the samples idx[0..n) only. */
int hp_norm_fit(hp_norm_t *nm, const hp_dataset_t *ds, const uint32_t *idx, size_t n,
                hp_norm_kind_t kind, char *err, size_t errlen);
void hp_norm_fini(hp_norm_t *nm);

/* ---- distribution shift (images only) ---- */

typedef enum hp_shift_kind {
    HP_SHIFT_NONE,
    HP_SHIFT_DARKEN, /* every pixel x 0.4 (the seed's "night") */
    HP_SHIFT_NOISE,  /* + Gaussian noise, sigma 0.3 x 255, clipped to 0..255 */
    HP_SHIFT_SAME,   /* unchanged: a test-distribution set with no shift, the control */
} hp_shift_kind_t;

/* hp_data_shift rewrites ds's images in place into a shifted distribution.
 * The noise of sample i depends on i alone (its own RNG stream), so the
 * shifted set is the same for every seed, trial and run. HP_EINVAL for a
 * dataset without images. */
int hp_data_shift(hp_dataset_t *ds, hp_shift_kind_t kind, char *err, size_t errlen);

/* ---- augmentation (images only) ---- */

typedef struct hp_augment {
    int shift; /* random translation of up to +-shift pixels, 0 = off */
    int flip;  /* random horizontal flip with probability 1/2 */
} hp_augment_t;

/* hp_data_gather writes B normalized samples idx[0..B) into x (B, dim) and
 * their labels into y (classification) or yt (regression); either may be
 * NULL. aug (may be NULL) needs rng. Allocates nothing. */
void hp_data_gather(float *x, int32_t *y, float *yt, const hp_dataset_t *ds, const uint32_t *idx,
                    int B, const hp_norm_t *nm, const hp_augment_t *aug, hp_rng_t *rng);

#endif
