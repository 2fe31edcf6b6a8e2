/* The main-effect decomposition of fanova.h: one walk of each tree that
 * carries the box of the current node (boundary indices for numeric
 * features, the set of categories for categorical ones) and, at each
 * leaf, adds the leaf's value times the measure of its box in the other
 * features to the cells of each feature that the box spans. */
#include "fanova.h"

#include "err.h"
#include "idx_val.h"
#include "vec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* one feature's cells in one tree */
typedef struct cells {
    double *b;    /* numeric: boundaries 0 = b[0] < ... < b[nb-1] = 1 */
    size_t nb;
    double *a;    /* numeric: a difference array over the nb-1 cells (then
                     E[pred | cell]); categorical: E[pred | code] per code */
    size_t lo, hi; /* numeric: the current box, as boundary indices */
    unsigned char *in; /* categorical: the codes in the current box */
    uint32_t n_in;
} cells_t;

typedef struct walk {
    const hp_forest_t *f;
    const hp_tree_t *t;
    cells_t *c;    /* d */
    double *frac;  /* d: the box's measure in each feature */
    double *pre, *suf; /* d + 1: prefix and suffix products of frac */
    HP_VEC(double) leaf_v;
    HP_VEC(double) leaf_w;
} walk_t;

static double clamp01(double x)
{
    return x < 0 ? 0 : x > 1 ? 1 : x;
}

/* the boundary index of threshold t in c->b */
static size_t boundary(const cells_t *c, double t)
{
    t = clamp01(t);
    size_t lo = 0, hi = c->nb - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->b[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static double measure(const walk_t *w, size_t j)
{
    const cells_t *c = &w->c[j];
    uint32_t k = w->f->feat[j].n_cats;
    return k ? (double)c->n_in / k : c->b[c->hi] - c->b[c->lo];
}

static void at_leaf(walk_t *w, double v)
{
    size_t d = w->f->d;
    w->pre[0] = 1;
    for (size_t j = 0; j < d; j++)
        w->pre[j + 1] = w->pre[j] * w->frac[j];
    w->suf[d] = 1;
    for (size_t j = d; j-- > 0;)
        w->suf[j] = w->suf[j + 1] * w->frac[j];
    HP_VEC_PUSH(w->leaf_v, v);
    HP_VEC_PUSH(w->leaf_w, w->pre[d]);
    for (size_t j = 0; j < d; j++) {
        double cj = v * w->pre[j] * w->suf[j + 1];
        cells_t *c = &w->c[j];
        uint32_t k = w->f->feat[j].n_cats;
        if (k) {
            for (uint32_t q = 0; q < k; q++)
                if (c->in[q])
                    c->a[q] += cj;
        } else {
            c->a[c->lo] += cj;
            c->a[c->hi] -= cj;
        }
    }
}

static void visit(walk_t *w, uint32_t node)
{
    const hp_tree_node_t *nd = &w->t->nodes[node];
    if (nd->feature < 0) {
        at_leaf(w, nd->value);
        return;
    }
    size_t j = (size_t)nd->feature;
    cells_t *c = &w->c[j];
    double saved_frac = w->frac[j];
    uint32_t k = w->f->feat[j].n_cats;
    if (k) {
        unsigned char *saved = hp_vec_realloc(NULL, k, 1);
        uint32_t saved_n = c->n_in;
        memcpy(saved, c->in, k);
        const unsigned char *left = w->t->cat_left + nd->cat_off;
        for (int side = 0; side < 2; side++) {
            c->n_in = 0;
            for (uint32_t q = 0; q < k; q++) {
                c->in[q] = saved[q] && (side == 0) == (left[q] != 0);
                c->n_in += c->in[q];
            }
            w->frac[j] = measure(w, j);
            if (c->n_in)
                visit(w, side == 0 ? nd->left : nd->right);
        }
        memcpy(c->in, saved, k);
        c->n_in = saved_n;
        free(saved);
    } else {
        size_t lo = c->lo, hi = c->hi, t = boundary(c, nd->threshold);
        t = t < lo ? lo : t > hi ? hi : t;
        c->hi = t; /* left: x <= threshold */
        w->frac[j] = measure(w, j);
        if (c->lo < c->hi)
            visit(w, nd->left);
        c->lo = t;
        c->hi = hi;
        w->frac[j] = measure(w, j);
        if (c->lo < c->hi)
            visit(w, nd->right);
        c->lo = lo;
    }
    w->frac[j] = saved_frac;
}

/* V and V_j of one tree; returns V (0: the tree is constant) */
static double tree_effects(walk_t *w, double *vj)
{
    const hp_forest_t *f = w->f;
    const hp_tree_t *t = w->t;
    size_t d = f->d;
    /* each numeric feature's boundaries: 0, its thresholds, 1 */
    for (size_t j = 0; j < d; j++) {
        cells_t *c = &w->c[j];
        uint32_t k = f->feat[j].n_cats;
        if (k) {
            memset(c->in, 1, k);
            c->n_in = k;
            memset(c->a, 0, k * sizeof *c->a);
            continue;
        }
        c->nb = 0;
        c->b[c->nb++] = 0;
        c->b[c->nb++] = 1;
    }
    for (size_t i = 0; i < t->n_nodes; i++) {
        const hp_tree_node_t *nd = &t->nodes[i];
        if (nd->feature >= 0 && !f->feat[nd->feature].n_cats) {
            cells_t *c = &w->c[nd->feature];
            c->b[c->nb++] = clamp01(nd->threshold);
        }
    }
    for (size_t j = 0; j < d; j++) {
        cells_t *c = &w->c[j];
        if (f->feat[j].n_cats)
            continue;
        qsort(c->b, c->nb, sizeof *c->b, hp_cmp_double);
        size_t u = 1;
        for (size_t i = 1; i < c->nb; i++)
            if (c->b[i] > c->b[u - 1])
                c->b[u++] = c->b[i];
        c->nb = u;
        c->lo = 0;
        c->hi = u - 1;
        memset(c->a, 0, u * sizeof *c->a);
    }
    for (size_t j = 0; j < d; j++)
        w->frac[j] = 1;
    w->leaf_v.n = w->leaf_w.n = 0;
    visit(w, 0);

    double mu = 0, var = 0;
    for (size_t i = 0; i < w->leaf_v.n; i++)
        mu += w->leaf_w.v[i] * w->leaf_v.v[i];
    for (size_t i = 0; i < w->leaf_v.n; i++) {
        double e = w->leaf_v.v[i] - mu;
        var += w->leaf_w.v[i] * e * e;
    }
    for (size_t j = 0; j < d; j++) {
        cells_t *c = &w->c[j];
        uint32_t k = f->feat[j].n_cats;
        double s = 0;
        if (k) {
            for (uint32_t q = 0; q < k; q++)
                s += (c->a[q] - mu) * (c->a[q] - mu) / k;
        } else {
            double run = 0;
            for (size_t q = 0; q + 1 < c->nb; q++) {
                run += c->a[q];
                s += (c->b[q + 1] - c->b[q]) * (run - mu) * (run - mu);
            }
        }
        vj[j] = s;
    }
    /* a constant tree, up to rounding of the leaf values */
    if (!(var > 1e-24 * (mu * mu + 1e-300)))
        return 0;
    return var;
}

void hp_fanova_main_effects(const hp_forest_t *f, double *share, double *sd, size_t *used)
{
    size_t d = f->d, n_used = 0;
    walk_t w = {.f = f};
    w.c = calloc(d, sizeof *w.c);
    w.frac = hp_vec_realloc(NULL, d, sizeof *w.frac);
    w.pre = hp_vec_realloc(NULL, d + 1, sizeof *w.pre);
    w.suf = hp_vec_realloc(NULL, d + 1, sizeof *w.suf);
    double *vj = hp_vec_realloc(NULL, d, sizeof *vj);
    double *sum = calloc(d, sizeof *sum), *sum2 = calloc(d, sizeof *sum2);
    HP_ASSERT(w.c && sum && sum2);
    size_t max_nodes = 1;
    for (size_t t = 0; t < f->n_trees; t++)
        max_nodes = f->trees[t].n_nodes > max_nodes ? f->trees[t].n_nodes : max_nodes;
    for (size_t j = 0; j < d; j++) {
        uint32_t k = f->feat[j].n_cats;
        size_t cells = k ? k : max_nodes + 2;
        w.c[j].a = hp_vec_realloc(NULL, cells, sizeof *w.c[j].a);
        if (k)
            w.c[j].in = hp_vec_realloc(NULL, k, 1);
        else
            w.c[j].b = hp_vec_realloc(NULL, cells, sizeof *w.c[j].b);
    }
    for (size_t t = 0; t < f->n_trees; t++) {
        w.t = &f->trees[t];
        double var = tree_effects(&w, vj);
        if (var <= 0)
            continue;
        n_used++;
        for (size_t j = 0; j < d; j++) {
            double s = vj[j] / var;
            s = s < 0 ? 0 : s;
            sum[j] += s;
            sum2[j] += s * s;
        }
    }
    for (size_t j = 0; j < d; j++) {
        double m = n_used ? sum[j] / (double)n_used : 0;
        share[j] = m;
        if (sd) {
            double v = n_used ? sum2[j] / (double)n_used - m * m : 0;
            sd[j] = v > 0 ? sqrt(v) : 0;
        }
    }
    if (used)
        *used = n_used;
    for (size_t j = 0; j < d; j++) {
        free(w.c[j].a);
        free(w.c[j].b);
        free(w.c[j].in);
    }
    free(w.c);
    free(w.frac);
    free(w.pre);
    free(w.suf);
    free(w.leaf_v.v);
    free(w.leaf_w.v);
    free(vj);
    free(sum);
    free(sum2);
}
