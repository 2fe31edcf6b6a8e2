/* CSV datasets: a header row of names, then numeric rows. No quoting
 * beyond stripping "..." around a cell: tabular ML data rarely needs it,
 * and a cell we cannot read is reported, never guessed. */
#include "dataset.h"

#include "err.h"
#include "vec.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path, size_t *len, char *err, size_t errlen, int *rc)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *rc = hp_errf(err, errlen, errno == ENOENT ? HP_ENOENT : HP_EIO, "%s: cannot open: %s", path,
                      strerror(errno));
        return NULL;
    }
    /* the data and its terminating NUL */
    size_t cap = 0, n = 0;
    char *buf = hp_vec_try_grow(NULL, &cap, (1 << 16) + 1, 1, 0);
    while (buf) {
        size_t k = fread(buf + n, 1, cap - 1 - n, f);
        n += k;
        if (n < cap - 1)
            break;
        char *nb = hp_vec_try_grow(buf, &cap, cap + 1, 1, 0);
        if (!nb)
            free(buf);
        buf = nb;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        *rc = hp_errf(err, errlen, buf ? HP_EIO : HP_ENOMEM, "%s: cannot read", path);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* split line (modified in place) at commas; trims blanks and quotes */
static int split(char *line, char **cells, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        char *e = strchr(p, ',');
        if (e)
            *e = '\0';
        while (isspace((unsigned char)*p))
            p++;
        size_t l = strlen(p);
        while (l > 0 && isspace((unsigned char)p[l - 1]))
            p[--l] = '\0';
        if (l >= 2 && p[0] == '"' && p[l - 1] == '"') {
            p[l - 1] = '\0';
            p++;
        }
        if (n < max)
            cells[n] = p;
        n++;
        if (!e)
            return n;
        p = e + 1;
    }
}

static int blank(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return *s == '\0';
}

int hp_csv_load(hp_dataset_t *ds, const char *path, const char *label, hp_task_t task, char *err,
                size_t errlen)
{
    int rc = 0;
    size_t len = 0;
    char *text = slurp(path, &len, err, errlen, &rc);
    if (!text)
        return rc;
    char **cells = NULL, **names = NULL;
    float *xf = NULL, *yv = NULL;
    size_t nrows = 0, cap_x = 0, cap_y = 0;
    int ncols = 0, lcol = -1;
    int lineno = 0;
    /* header: the first non-blank line */
    char *line = text, *next;
    for (;; line = next) {
        if (!line) {
            rc = hp_errf(err, errlen, HP_EINVAL, "%s: empty file (expected a header row of column names)",
                         path);
            goto out;
        }
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        if (!blank(line))
            break;
    }
    line[strcspn(line, "\r")] = '\0';
    ncols = 1;
    for (const char *q = line; *q; q++)
        ncols += *q == ',';
    cells = calloc((size_t)ncols, sizeof *cells);
    if (!cells) {
        rc = hp_errf(err, errlen, HP_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    split(line, cells, ncols);
    if (ncols < 2) {
        rc = hp_errf(err, errlen, HP_EINVAL,
                     "%s:%d: need at least 2 columns (features and a label), got %d", path, lineno,
                     ncols);
        goto out;
    }
    for (int j = 0; j < ncols; j++) {
        if (label ? strcmp(cells[j], label) == 0 : j == ncols - 1)
            lcol = j;
        char *endp;
        errno = 0;
        strtod(cells[j], &endp);
        if (endp != cells[j] && *endp == '\0') {
            rc = hp_errf(err, errlen, HP_EINVAL,
                         "%s:%d: the first row must name the columns (found the number '%s')", path,
                         lineno, cells[j]);
            goto out;
        }
    }
    if (lcol < 0) {
        char list[512] = "";
        size_t o = 0;
        for (int j = 0; j < ncols && o < sizeof list; j++)
            o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", j ? ", " : "", cells[j]);
        rc = hp_errf(err, errlen, HP_EINVAL, "%s: no label column named '%s' (columns: %s)", path,
                     label, list);
        goto out;
    }
    names = calloc((size_t)ncols, sizeof *names);
    if (!names) {
        rc = hp_errf(err, errlen, HP_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    for (int j = 0, k = 0; j < ncols; j++)
        if (j != lcol && !(names[k++] = strdup(cells[j]))) {
            rc = hp_errf(err, errlen, HP_ENOMEM, "%s: out of memory", path);
            goto out;
        }
    char *header_label = strdup(cells[lcol]);
    if (!header_label) {
        rc = hp_errf(err, errlen, HP_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    size_t D = (size_t)ncols - 1;
    float ymax = 0;
    for (line = next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        line[strcspn(line, "\r")] = '\0';
        if (blank(line))
            continue;
        int n = split(line, cells, ncols);
        if (n != ncols) {
            rc = hp_errf(err, errlen, HP_EINVAL, "%s:%d: expected %d fields (as in the header), got %d",
                         path, lineno, ncols, n);
            break;
        }
        float *nx = hp_vec_try_grow(xf, &cap_x, (nrows + 1) * D, sizeof *xf, 1024 * D);
        if (nx)
            xf = nx;
        float *ny = hp_vec_try_grow(yv, &cap_y, nrows + 1, sizeof *yv, 1024);
        if (ny)
            yv = ny;
        if (!nx || !ny) {
            rc = hp_errf(err, errlen, HP_ENOMEM, "%s: out of memory at line %d", path, lineno);
            break;
        }
        for (int j = 0, k = 0; j < ncols; j++) {
            const char *name = j == lcol ? header_label : names[k];
            char *endp;
            errno = 0;
            double v = strtod(cells[j], &endp);
            if (cells[j][0] == '\0') {
                rc = hp_errf(err, errlen, HP_EINVAL, "%s:%d: column '%s': empty cell", path, lineno,
                             name);
                break;
            }
            if (endp == cells[j] || *endp != '\0') {
                rc = hp_errf(err, errlen, HP_EINVAL, "%s:%d: column '%s': not a number: '%s'", path,
                             lineno, name, cells[j]);
                break;
            }
            if (!isfinite(v) || errno == ERANGE) {
                rc = hp_errf(err, errlen, HP_EINVAL, "%s:%d: column '%s': not a finite number: '%s'",
                             path, lineno, name, cells[j]);
                break;
            }
            if (j == lcol) {
                if (task == HP_TASK_CLASSIFY && (v < 0 || v != floor(v) || v > 1e6)) {
                    rc = hp_errf(err, errlen, HP_EINVAL,
                                 "%s:%d: column '%s': a class label must be an integer >= 0 (got %s); "
                                 "use task=regression for real-valued targets",
                                 path, lineno, name, cells[j]);
                    break;
                }
                yv[nrows] = (float)v;
                ymax = (float)v > ymax ? (float)v : ymax;
            } else {
                xf[nrows * D + (size_t)k++] = (float)v;
            }
        }
        if (rc < 0)
            break;
        nrows++;
    }
    free(header_label);
    if (rc == 0 && nrows == 0)
        rc = hp_errf(err, errlen, HP_EINVAL, "%s: no data rows after the header", path);
    if (rc < 0)
        goto out;
    hp_dataset_fini(ds);
    ds->task = task;
    ds->n = nrows;
    ds->dim = D;
    ds->c = (int)D;
    ds->h = ds->w = 1;
    ds->xf = xf;
    ds->feature_names = names;
    xf = NULL;
    names = NULL;
    if (task == HP_TASK_CLASSIFY) {
        ds->y = malloc(sizeof(int32_t) * nrows);
        if (!ds->y) {
            hp_dataset_fini(ds);
            rc = hp_errf(err, errlen, HP_ENOMEM, "%s: out of memory", path);
            goto out;
        }
        for (size_t i = 0; i < nrows; i++)
            ds->y[i] = (int32_t)yv[i];
        ds->nclasses = (int)ymax + 1;
    } else {
        ds->yt = yv;
        yv = NULL;
        ds->nclasses = 1;
    }
out:
    if (names)
        for (int j = 0; j < ncols - 1; j++)
            free(names[j]);
    free(names);
    free(cells);
    free(xf);
    free(yv);
    free(text);
    return rc;
}
