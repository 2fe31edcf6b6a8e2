/*
 * web.h — the dashboard's page assets: a fixed list of files read into
 * memory once at start, so a request never names a file on disk (no path
 * traversal is possible) and a missing install fails at start, not on the
 * first page.
 *
 *     hp_dash_web_t w;
 *     if (hp_dash_web_load(&w, dir, err, sizeof err) < 0) ...
 *     const hp_dash_asset_t *a = hp_dash_web_find(&w, "study.html");
 *     hp_dash_web_fini(&w);
 *
 * The directory holds the pages and scripts from coordinator/dash/web and
 * echarts.min.js from the npm package echarts (the build copies both into
 * BUILD/web; `cmake --install` into PREFIX/share/hpsearch/web).
 */
#ifndef HP_DASH_WEB_H
#define HP_DASH_WEB_H

#include <stddef.h>

typedef struct hp_dash_asset {
    const char *name; /* "study.html" */
    const char *type; /* "text/html; charset=utf-8" */
    char *data;
    size_t len;
} hp_dash_asset_t;

#define HP_DASH_N_ASSETS 9

typedef struct hp_dash_web {
    hp_dash_asset_t asset[HP_DASH_N_ASSETS];
    /* non-NULL when the build could not install the chart library
     * (dir/charts-missing.txt, written by npm_ci.sh): why, in a sentence.
     * echarts.min.js is then not served; the asset charts-missing.txt
     * holding this text is, and the pages show it instead. Owned by asset[]. */
    const char *charts_missing;
} hp_dash_web_t;

/* hp_dash_web_load reads every asset from dir. HP_ENOENT naming the first
 * missing file (and how to get echarts.min.js) otherwise; w is then empty.
 * A missing echarts.min.js is no error where the build left
 * charts-missing.txt saying why. */
int hp_dash_web_load(hp_dash_web_t *w, const char *dir, char *err, size_t errlen);

/* hp_dash_web_find returns the asset called name, or NULL. */
const hp_dash_asset_t *hp_dash_web_find(const hp_dash_web_t *w, const char *name);

void hp_dash_web_fini(hp_dash_web_t *w);

#endif
