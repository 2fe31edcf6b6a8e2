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

/* One load: the text being read and what has been read from it so far.
 * The phases below (read_header, find_label, keep_names, read_rows, fill)
 * each take it from the one before; csv_fini frees what is still here. */
typedef struct csv {
    const char *path, *label;
    hp_task_t task;
    char *err;
    size_t errlen;
    char *next;  /* the unread rest of the text; NULL after the last line */
    int lineno;
    int ncols;   /* as in the header */
    int lcol;    /* the label's column, -1 until found */
    char **cells; /* ncols cells of the current line, pointing into it */
    char **names; /* the ncols - 1 feature names, in column order */
    char *label_name;
    size_t dim, nrows, cap_x, cap_y;
    float *xf, *yv; /* nrows x dim features, nrows targets */
    float ymax;
} csv_t;

static void csv_fini(csv_t *c)
{
    if (c->names)
        for (int j = 0; j < c->ncols - 1; j++)
            free(c->names[j]);
    free(c->names);
    free(c->label_name);
    free(c->cells);
    free(c->xf);
    free(c->yv);
}

/* the next line, cut at its newline and counted; NULL at the end */
static char *next_line(csv_t *c)
{
    char *line = c->next;
    if (!line)
        return NULL;
    c->next = strchr(line, '\n');
    if (c->next)
        *c->next++ = '\0';
    c->lineno++;
    return line;
}

/* header: the first non-blank line, split into ncols column names, none of
 * them a number (a file without a header would lose its first row) */
static int read_header(csv_t *c)
{
    char *line;
    do {
        if (!(line = next_line(c)))
            return hp_errf(c->err, c->errlen, HP_EINVAL,
                           "%s: empty file (expected a header row of column names)", c->path);
    } while (blank(line));
    line[strcspn(line, "\r")] = '\0';
    c->ncols = 1;
    for (const char *q = line; *q; q++)
        c->ncols += *q == ',';
    c->cells = calloc((size_t)c->ncols, sizeof *c->cells);
    if (!c->cells)
        return hp_errf(c->err, c->errlen, HP_ENOMEM, "%s: out of memory", c->path);
    split(line, c->cells, c->ncols);
    if (c->ncols < 2)
        return hp_errf(c->err, c->errlen, HP_EINVAL,
                       "%s:%d: need at least 2 columns (features and a label), got %d", c->path,
                       c->lineno, c->ncols);
    for (int j = 0; j < c->ncols; j++) {
        char *endp;
        errno = 0;
        strtod(c->cells[j], &endp);
        if (endp != c->cells[j] && *endp == '\0')
            return hp_errf(c->err, c->errlen, HP_EINVAL,
                           "%s:%d: the first row must name the columns (found the number '%s')",
                           c->path, c->lineno, c->cells[j]);
    }
    return 0;
}

/* label column: the one named label, or the last when label is NULL */
static int find_label(csv_t *c)
{
    for (int j = 0; j < c->ncols; j++)
        if (c->label ? strcmp(c->cells[j], c->label) == 0 : j == c->ncols - 1)
            c->lcol = j;
    if (c->lcol >= 0)
        return 0;
    char list[512] = "";
    size_t o = 0;
    for (int j = 0; j < c->ncols && o < sizeof list; j++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", j ? ", " : "", c->cells[j]);
    return hp_errf(c->err, c->errlen, HP_EINVAL, "%s: no label column named '%s' (columns: %s)",
                   c->path, c->label, list);
}

/* copies of the header's names, which the next line overwrites */
static int keep_names(csv_t *c)
{
    c->names = calloc((size_t)c->ncols, sizeof *c->names);
    if (!c->names)
        return hp_errf(c->err, c->errlen, HP_ENOMEM, "%s: out of memory", c->path);
    for (int j = 0, k = 0; j < c->ncols; j++)
        if (j != c->lcol && !(c->names[k++] = strdup(c->cells[j])))
            return hp_errf(c->err, c->errlen, HP_ENOMEM, "%s: out of memory", c->path);
    if (!(c->label_name = strdup(c->cells[c->lcol])))
        return hp_errf(c->err, c->errlen, HP_ENOMEM, "%s: out of memory", c->path);
    c->dim = (size_t)c->ncols - 1;
    return 0;
}

/* cell j of the current line as a finite number */
static int cell_value(csv_t *c, int j, const char *name, double *v)
{
    const char *cell = c->cells[j];
    char *endp;
    errno = 0;
    *v = strtod(cell, &endp);
    if (cell[0] == '\0')
        return hp_errf(c->err, c->errlen, HP_EINVAL, "%s:%d: column '%s': empty cell", c->path,
                       c->lineno, name);
    if (endp == cell || *endp != '\0')
        return hp_errf(c->err, c->errlen, HP_EINVAL, "%s:%d: column '%s': not a number: '%s'",
                       c->path, c->lineno, name, cell);
    if (!isfinite(*v) || errno == ERANGE)
        return hp_errf(c->err, c->errlen, HP_EINVAL,
                       "%s:%d: column '%s': not a finite number: '%s'", c->path, c->lineno, name,
                       cell);
    return 0;
}

/* one data row: ncols numbers, the label's a class for classification */
static int read_row(csv_t *c, char *line)
{
    int n = split(line, c->cells, c->ncols);
    if (n != c->ncols)
        return hp_errf(c->err, c->errlen, HP_EINVAL,
                       "%s:%d: expected %d fields (as in the header), got %d", c->path, c->lineno,
                       c->ncols, n);
    size_t D = c->dim;
    float *nx = hp_vec_try_grow(c->xf, &c->cap_x, (c->nrows + 1) * D, sizeof *c->xf, 1024 * D);
    if (nx)
        c->xf = nx;
    float *ny = hp_vec_try_grow(c->yv, &c->cap_y, c->nrows + 1, sizeof *c->yv, 1024);
    if (ny)
        c->yv = ny;
    if (!nx || !ny)
        return hp_errf(c->err, c->errlen, HP_ENOMEM, "%s: out of memory at line %d", c->path,
                       c->lineno);
    for (int j = 0, k = 0; j < c->ncols; j++) {
        const char *name = j == c->lcol ? c->label_name : c->names[k];
        double v;
        int rc = cell_value(c, j, name, &v);
        if (rc < 0)
            return rc;
        if (j == c->lcol) {
            if (c->task == HP_TASK_CLASSIFY && (v < 0 || v != floor(v) || v > 1e6))
                return hp_errf(c->err, c->errlen, HP_EINVAL,
                               "%s:%d: column '%s': a class label must be an integer >= 0 (got "
                               "%s); use task=regression for real-valued targets",
                               c->path, c->lineno, name, c->cells[j]);
            c->yv[c->nrows] = (float)v;
            c->ymax = (float)v > c->ymax ? (float)v : c->ymax;
        } else {
            c->xf[c->nrows * D + (size_t)k++] = (float)v;
        }
    }
    c->nrows++;
    return 0;
}

/* rows: every non-blank line after the header; at least one */
static int read_rows(csv_t *c)
{
    for (char *line; (line = next_line(c)) != NULL;) {
        line[strcspn(line, "\r")] = '\0';
        if (blank(line))
            continue;
        int rc = read_row(c, line);
        if (rc < 0)
            return rc;
    }
    if (c->nrows == 0)
        return hp_errf(c->err, c->errlen, HP_EINVAL, "%s: no data rows after the header", c->path);
    return 0;
}

/* fill: hand the features, names and targets over to ds */
static int fill(csv_t *c, hp_dataset_t *ds)
{
    hp_dataset_fini(ds);
    ds->task = c->task;
    ds->n = c->nrows;
    ds->dim = c->dim;
    ds->c = (int)c->dim;
    ds->h = ds->w = 1;
    ds->xf = c->xf;
    ds->feature_names = c->names;
    c->xf = NULL;
    c->names = NULL;
    if (c->task == HP_TASK_CLASSIFY) {
        ds->y = malloc(sizeof(int32_t) * c->nrows);
        if (!ds->y) {
            hp_dataset_fini(ds);
            return hp_errf(c->err, c->errlen, HP_ENOMEM, "%s: out of memory", c->path);
        }
        for (size_t i = 0; i < c->nrows; i++)
            ds->y[i] = (int32_t)c->yv[i];
        ds->nclasses = (int)c->ymax + 1;
    } else {
        ds->yt = c->yv;
        c->yv = NULL;
        ds->nclasses = 1;
    }
    return 0;
}

int hp_csv_load(hp_dataset_t *ds, const char *path, const char *label, hp_task_t task, char *err,
                size_t errlen)
{
    int rc = 0;
    size_t len = 0;
    char *text = slurp(path, &len, err, errlen, &rc);
    if (!text)
        return rc;
    csv_t c = {.path = path, .label = label, .task = task, .err = err, .errlen = errlen,
               .next = text, .lcol = -1};
    if ((rc = read_header(&c)) == 0 && (rc = find_label(&c)) == 0 &&
        (rc = keep_names(&c)) == 0 && (rc = read_rows(&c)) == 0)
        rc = fill(&c, ds);
    csv_fini(&c);
    free(text);
    return rc;
}
