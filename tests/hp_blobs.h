/*
 * hp_blobs.h — a small classification CSV for tests of the sanity check:
 * k Gaussian blobs in d dimensions (unit variance; class c's centre is 1
 * on the features j with j mod k = c, 0 elsewhere), n rows, columns
 * x0..x{d-1},label. With shuffle the
 * labels are permuted over the rows: the same label frequencies, but a
 * label no longer goes with its inputs ("labels incorrectly shuffled").
 *
 *     hp_blobs_write("/tmp/x/blobs.csv", 2000, 8, 4, 0, 1);
 *
 * hp_linreg_write is its regression counterpart (a linear target).
 */
#ifndef HP_BLOBS_H
#define HP_BLOBS_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline double hp_blobs_u01(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((double)(*s >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Returns 0, or -1 if the file cannot be written. */
static inline int hp_blobs_write(const char *path, int n, int d, int k, int shuffle, uint64_t seed)
{
    uint64_t s = seed * 2654435761ULL + 1;
    int *label = malloc(sizeof *label * (size_t)n);
    double *x = malloc(sizeof *x * (size_t)n * (size_t)d);
    FILE *f = fopen(path, "w");
    int rc = -1;
    if (!label || !x || !f)
        goto done;
    for (int i = 0; i < n; i++) {
        label[i] = i % k;
        for (int j = 0; j < d; j++) { /* Box-Muller */
            double g = sqrt(-2 * log(hp_blobs_u01(&s))) * cos(6.283185307179586 * hp_blobs_u01(&s));
            x[(size_t)i * (size_t)d + (size_t)j] = g + (j % k == label[i] ? 1.0 : 0.0);
        }
    }
    if (shuffle)
        for (int i = n - 1; i > 0; i--) {
            int j = (int)(hp_blobs_u01(&s) * (i + 1)), t = label[i];
            label[i] = label[j];
            label[j] = t;
        }
    for (int j = 0; j < d; j++)
        fprintf(f, "x%d,", j);
    fputs("label\n", f);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < d; j++)
            fprintf(f, "%.4f,", x[(size_t)i * (size_t)d + (size_t)j]);
        fprintf(f, "%d\n", label[i]);
    }
    rc = ferror(f) ? -1 : 0;
done:
    if (f && fclose(f) != 0)
        rc = -1;
    free(label);
    free(x);
    return rc;
}

/* A regression CSV: d standard normal features, target y = sum_j x_j /
 * sqrt(d) + 0.3 noise, n rows, columns x0..x{d-1},y; with shuffle the
 * targets are permuted over the rows. Returns 0, or -1. */
static inline int hp_linreg_write(const char *path, int n, int d, int shuffle, uint64_t seed)
{
    uint64_t s = seed * 2654435761ULL + 3;
    double *x = malloc(sizeof *x * (size_t)n * (size_t)(d + 1));
    FILE *f = fopen(path, "w");
    int rc = -1;
    if (!x || !f)
        goto done;
    for (int i = 0; i < n; i++) {
        double *row = x + (size_t)i * (size_t)(d + 1), y = 0;
        for (int j = 0; j <= d; j++) {
            double g = sqrt(-2 * log(hp_blobs_u01(&s))) * cos(6.283185307179586 * hp_blobs_u01(&s));
            if (j < d) {
                row[j] = g;
                y += g / sqrt((double)d);
            } else {
                row[d] = y + 0.3 * g;
            }
        }
    }
    if (shuffle)
        for (int i = n - 1; i > 0; i--) {
            int j = (int)(hp_blobs_u01(&s) * (i + 1));
            double t = x[(size_t)i * (size_t)(d + 1) + (size_t)d];
            x[(size_t)i * (size_t)(d + 1) + (size_t)d] = x[(size_t)j * (size_t)(d + 1) + (size_t)d];
            x[(size_t)j * (size_t)(d + 1) + (size_t)d] = t;
        }
    for (int j = 0; j < d; j++)
        fprintf(f, "x%d,", j);
    fputs("y\n", f);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j <= d; j++)
            fprintf(f, j < d ? "%.4f," : "%.4f\n", x[(size_t)i * (size_t)(d + 1) + (size_t)j]);
    }
    rc = ferror(f) ? -1 : 0;
done:
    if (f && fclose(f) != 0)
        rc = -1;
    free(x);
    return rc;
}

#endif
