/* The dashboard's page assets (see web.h). */
#include "web.h"

#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name, *type;
} files[HP_DASH_N_ASSETS] = {
    {"index.html", "text/html; charset=utf-8"},
    {"study.html", "text/html; charset=utf-8"},
    {"trial.html", "text/html; charset=utf-8"},
    {"dash.css", "text/css; charset=utf-8"},
    {"common.js", "text/javascript; charset=utf-8"},
    {"index.js", "text/javascript; charset=utf-8"},
    {"study.js", "text/javascript; charset=utf-8"},
    {"trial.js", "text/javascript; charset=utf-8"},
    {"echarts.min.js", "text/javascript; charset=utf-8"},
};

static int read_file(const char *path, char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 1 << 16, n = 0;
    char *p = malloc(cap);
    size_t got;
    while (p && (got = fread(p + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *q = realloc(p, cap *= 2);
            if (!q)
                free(p);
            p = q;
        }
    }
    int bad = ferror(f) || !p;
    fclose(f);
    if (bad) {
        free(p);
        return -1;
    }
    p[n] = '\0'; /* n < cap: the buffer grows before it is full */
    *data = p;
    *len = n;
    return 0;
}

int hp_dash_web_load(hp_dash_web_t *w, const char *dir, char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    for (int i = 0; i < HP_DASH_N_ASSETS; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        hp_dash_asset_t *a = &w->asset[i];
        if (read_file(path, &a->data, &a->len) < 0 && strcmp(files[i].name, "echarts.min.js") == 0) {
            char why[4096];
            size_t n;
            snprintf(why, sizeof why, "%s/charts-missing.txt", dir);
            if (read_file(why, &a->data, &n) == 0) {
                /* a build without the charts, which says why: the pages
                 * fetch the reason in the library's place */
                while (n && (a->data[n - 1] == '\n' || a->data[n - 1] == '\r'))
                    a->data[--n] = '\0';
                a->len = n;
                a->name = "charts-missing.txt";
                a->type = "text/plain; charset=utf-8";
                w->charts_missing = a->data;
                continue;
            }
        }
        if (!a->data) {
            int e = errno;
            hp_dash_web_fini(w);
            return hp_errf(err, errlen, HP_ENOENT,
                           "dashboard assets: cannot read %s: %s%s", path, strerror(e),
                           strcmp(files[i].name, "echarts.min.js") == 0
                               ? " (the build installs it with npm ci; see docs/dashboard.md)"
                               : " (set HPSEARCH_WEB_DIR to the directory holding the pages)");
        }
        a->name = files[i].name;
        a->type = files[i].type;
    }
    return 0;
}

const hp_dash_asset_t *hp_dash_web_find(const hp_dash_web_t *w, const char *name)
{
    for (int i = 0; i < HP_DASH_N_ASSETS; i++)
        if (w->asset[i].name && strcmp(w->asset[i].name, name) == 0)
            return &w->asset[i];
    return NULL;
}

void hp_dash_web_fini(hp_dash_web_t *w)
{
    for (int i = 0; i < HP_DASH_N_ASSETS; i++)
        free(w->asset[i].data); /* charts_missing is one of them */
    memset(w, 0, sizeof *w);
}
