/* The random forest of forest.h: trees grown depth-first on an explicit
 * stack over one array of row indices that each split partitions in
 * place. */
#include "forest.h"

#include "err.h"
#include "rng.h"
#include "vec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

hp_forest_params_t hp_forest_defaults(void)
{
    return (hp_forest_params_t){.n_trees = 64, .max_depth = 64, .seed = 0};
}

/* what the split search of one tree works in, allocated once per fit */
typedef struct grow {
    const double *X, *y;
    size_t n, d;
    const hp_forest_feature_t *feat;
    uint32_t *rows;      /* the bootstrap sample, partitioned by the splits */
    uint32_t *order;     /* features in this node's random order */
    struct pair {
        double x, y;
    } *pairs;            /* a node's (value, response), sorted */
    double *cat_sum;     /* per category of the widest categorical */
    size_t *cat_cnt;
    uint32_t *cats;      /* the categories present in a node */
    unsigned char *left; /* the best categorical split's left set so far */
    hp_rng_t rng;
} grow_t;

typedef struct split {
    int32_t feature;
    double score; /* sumL^2/nL + sumR^2/nR: larger is a lower squared error */
    double threshold;
} split_t;

static int cmp_pair(const void *a, const void *b)
{
    double x = ((const struct pair *)a)->x, y = ((const struct pair *)b)->x;
    return (x > y) - (x < y);
}

/* the categories sorted by mean response, ties by code (qsort_r is not
 * portable: the means travel with the codes) */
typedef struct catmean {
    double mean;
    uint32_t code;
} catmean_t;

static int cmp_catmean(const void *a, const void *b)
{
    const catmean_t *p = a, *q = b;
    if (p->mean != q->mean)
        return (p->mean > q->mean) - (p->mean < q->mean);
    return (p->code > q->code) - (p->code < q->code);
}

/* whether conditional feature f is inactive (NaN) in a row of the node */
static int inactive_in(const grow_t *g, uint32_t f, const uint32_t *rows, size_t m)
{
    if (!g->feat[f].conditional)
        return 0;
    for (size_t i = 0; i < m; i++)
        if (isnan(g->X[(size_t)rows[i] * g->d + f]))
            return 1;
    return 0;
}

/* A node where a conditional feature with a parent is active in some rows
 * only: the split on its parent that sends the activating values left
 * (g->left), when that parent has a value in every row. The first such
 * feature in column order decides; 0 if there is none. */
static int parent_split(grow_t *g, const uint32_t *rows, size_t m, split_t *best)
{
    for (uint32_t j = 0; j < g->d; j++) {
        const hp_forest_feature_t *fj = &g->feat[j];
        if (!fj->conditional || !fj->has_parent || fj->parent >= g->d)
            continue;
        uint32_t p = fj->parent, k = g->feat[p].n_cats;
        if (!k || inactive_in(g, p, rows, m))
            continue;
        size_t active = 0;
        for (size_t i = 0; i < m; i++)
            active += !isnan(g->X[(size_t)rows[i] * g->d + j]);
        if (active == 0 || active == m)
            continue;
        memset(g->left, 0, k);
        for (size_t i = 0; i < m; i++)
            if (!isnan(g->X[(size_t)rows[i] * g->d + j]))
                g->left[(uint32_t)g->X[(size_t)rows[i] * g->d + p]] = 1;
        best->feature = (int32_t)p;
        return 1;
    }
    return 0;
}

static void try_numeric(grow_t *g, uint32_t f, const uint32_t *rows, size_t m, double total,
                        split_t *best)
{
    for (size_t i = 0; i < m; i++)
        g->pairs[i] = (struct pair){g->X[(size_t)rows[i] * g->d + f], g->y[rows[i]]};
    qsort(g->pairs, m, sizeof *g->pairs, cmp_pair);
    double sl = 0;
    for (size_t i = 0; i + 1 < m; i++) {
        sl += g->pairs[i].y;
        if (!(g->pairs[i].x < g->pairs[i + 1].x))
            continue;
        double nl = (double)(i + 1), nr = (double)(m - i - 1), sr = total - sl;
        double score = sl * sl / nl + sr * sr / nr;
        if (score > best->score) {
            double a = g->pairs[i].x, b = g->pairs[i + 1].x, t = 0.5 * (a + b);
            best->feature = (int32_t)f;
            best->score = score;
            best->threshold = t < b ? t : a; /* a midpoint that rounds up to b */
        }
    }
}

/* the best categorical split of feature f; if it beats *best, records it
 * and sets g->left to its left set (untouched otherwise) */
static void try_categorical(grow_t *g, uint32_t f, const uint32_t *rows, size_t m,
                            double total, split_t *best, catmean_t *cm)
{
    uint32_t k = g->feat[f].n_cats, n_present = 0;
    for (size_t i = 0; i < m; i++) {
        uint32_t c = (uint32_t)g->X[(size_t)rows[i] * g->d + f];
        if (g->cat_cnt[c]++ == 0)
            g->cats[n_present++] = c;
        g->cat_sum[c] += g->y[rows[i]];
    }
    for (uint32_t i = 0; i < n_present; i++) {
        uint32_t c = g->cats[i];
        cm[i] = (catmean_t){g->cat_sum[c] / (double)g->cat_cnt[c], c};
    }
    qsort(cm, n_present, sizeof *cm, cmp_catmean);
    double sl = 0, nl = 0;
    long cut = -1;
    for (uint32_t i = 0; i + 1 < n_present; i++) {
        sl += g->cat_sum[cm[i].code];
        nl += (double)g->cat_cnt[cm[i].code];
        double nr = (double)m - nl, sr = total - sl;
        double score = sl * sl / nl + sr * sr / nr;
        if (score > best->score) {
            best->feature = (int32_t)f;
            best->score = score;
            cut = (long)i;
        }
    }
    if (cut >= 0) {
        memset(g->left, 0, k);
        for (long i = 0; i <= cut; i++)
            g->left[cm[i].code] = 1;
    }
    for (uint32_t i = 0; i < n_present; i++) {
        g->cat_cnt[g->cats[i]] = 0;
        g->cat_sum[g->cats[i]] = 0;
    }
}

static uint32_t add_node(hp_tree_t *t, double value)
{
    if (t->n_nodes == t->cap_nodes)
        t->nodes = hp_vec_grow(t->nodes, &t->cap_nodes, t->n_nodes + 1, sizeof *t->nodes, 64);
    t->nodes[t->n_nodes] = (hp_tree_node_t){.feature = -1, .value = value};
    return (uint32_t)t->n_nodes++;
}

typedef struct frame {
    uint32_t node;
    size_t start, end;
    unsigned depth;
} frame_t;

static void grow_tree(grow_t *g, hp_tree_t *t, unsigned max_depth, catmean_t *cm)
{
    HP_VEC(frame_t) stack = {0};
    double s0 = 0;
    for (size_t i = 0; i < g->n; i++)
        s0 += g->y[g->rows[i]];
    HP_VEC_PUSH(stack, ((frame_t){add_node(t, s0 / (double)g->n), 0, g->n, 0}));
    while (stack.n) {
        frame_t fr = stack.v[--stack.n];
        uint32_t *rows = g->rows + fr.start;
        size_t m = fr.end - fr.start;
        if (m < 2 || fr.depth >= max_depth)
            continue;
        double total = 0, lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < m; i++) {
            double v = g->y[rows[i]];
            total += v;
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        if (!(lo < hi))
            continue; /* pure */
        /* a split must lower the squared error by more than rounding */
        double base = total * total / (double)m;
        split_t best = {.feature = -1, .score = base + 1e-12 * fabs(base) + 1e-300};
        for (uint32_t f = 0; f < g->d; f++)
            g->order[f] = f;
        hp_rng_shuffle_u32(&g->rng, g->order, (uint32_t)g->d);
        int forced = parent_split(g, rows, m, &best);
        for (size_t k = 0; k < g->d && !forced; k++) {
            uint32_t f = g->order[k];
            if (inactive_in(g, f, rows, m))
                continue;
            if (g->feat[f].n_cats) {
                try_categorical(g, f, rows, m, total, &best, cm);
            } else {
                try_numeric(g, f, rows, m, total, &best);
            }
        }
        if (best.feature < 0)
            continue;
        /* partition rows: left ones first */
        uint32_t f = (uint32_t)best.feature;
        int cat = g->feat[f].n_cats != 0;
        size_t nl = 0;
        for (size_t i = 0; i < m; i++) {
            double x = g->X[(size_t)rows[i] * g->d + f];
            int goes_left = cat ? g->left[(uint32_t)x] : x <= best.threshold;
            if (goes_left) {
                uint32_t tmp = rows[nl];
                rows[nl++] = rows[i];
                rows[i] = tmp;
            }
        }
        HP_ASSERT(nl > 0 && nl < m);
        double sl = 0;
        for (size_t i = 0; i < nl; i++)
            sl += g->y[rows[i]];
        uint32_t l = add_node(t, sl / (double)nl);
        uint32_t r = add_node(t, (total - sl) / (double)(m - nl));
        hp_tree_node_t *node = &t->nodes[fr.node];
        node->feature = (int32_t)f;
        node->left = l;
        node->right = r;
        node->threshold = best.threshold;
        if (cat) {
            uint32_t k = g->feat[f].n_cats;
            if (t->n_cat_left + k > t->cap_cat_left)
                t->cat_left = hp_vec_grow(t->cat_left, &t->cap_cat_left, t->n_cat_left + k, 1, 256);
            node->cat_off = t->n_cat_left;
            memcpy(t->cat_left + t->n_cat_left, g->left, k);
            t->n_cat_left += k;
        }
        HP_VEC_PUSH(stack, ((frame_t){r, fr.start + nl, fr.end, fr.depth + 1}));
        HP_VEC_PUSH(stack, ((frame_t){l, fr.start, fr.start + nl, fr.depth + 1}));
    }
    free(stack.v);
}

int hp_forest_fit(hp_forest_t *f, const double *X, const double *y, size_t n, size_t d,
                  const hp_forest_feature_t *feat, const hp_forest_params_t *p, char *err,
                  size_t errlen)
{
    memset(f, 0, sizeof *f);
    if (n == 0 || d == 0)
        return hp_errf(err, errlen, HP_EINVAL, "a forest needs at least one row and one feature");
    if (n > UINT32_MAX || d > UINT32_MAX || p->n_trees == 0 || p->max_depth == 0)
        return hp_errf(err, errlen, HP_EINVAL, "forest: too many rows or features, or no trees");
    uint32_t kmax = 0;
    for (size_t j = 0; j < d; j++)
        kmax = feat[j].n_cats > kmax ? feat[j].n_cats : kmax;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i]))
            return hp_errf(err, errlen, HP_EINVAL, "forest: response %zu is not finite", i);
        for (size_t j = 0; j < d; j++) {
            double v = X[i * d + j];
            if (isnan(v) && feat[j].conditional)
                continue;
            if (!isfinite(v))
                return hp_errf(err, errlen, HP_EINVAL, "forest: row %zu feature %zu is not finite",
                               i, j);
            if (feat[j].n_cats && (v < 0 || v >= feat[j].n_cats || v != floor(v)))
                return hp_errf(err, errlen, HP_EINVAL,
                               "forest: row %zu feature %zu is no category code (got %g of %u)",
                               i, j, v, feat[j].n_cats);
        }
    }
    f->d = d;
    f->feat = hp_vec_realloc(NULL, d, sizeof *f->feat);
    memcpy(f->feat, feat, d * sizeof *feat);
    f->trees = calloc(p->n_trees, sizeof *f->trees);
    HP_ASSERT(f->trees != NULL);
    f->n_trees = p->n_trees;

    grow_t g = {.X = X, .y = y, .n = n, .d = d, .feat = f->feat};
    g.rows = hp_vec_realloc(NULL, n, sizeof *g.rows);
    g.order = hp_vec_realloc(NULL, d, sizeof *g.order);
    g.pairs = hp_vec_realloc(NULL, n, sizeof *g.pairs);
    size_t kk = kmax ? kmax : 1;
    g.cat_sum = calloc(kk, sizeof *g.cat_sum);
    g.cat_cnt = calloc(kk, sizeof *g.cat_cnt);
    HP_ASSERT(g.cat_sum && g.cat_cnt);
    g.cats = hp_vec_realloc(NULL, kk, sizeof *g.cats);
    g.left = hp_vec_realloc(NULL, kk, 1);
    catmean_t *cm = hp_vec_realloc(NULL, kk, sizeof *cm);
    for (size_t t = 0; t < p->n_trees; t++) {
        hp_rng_init(&g.rng, p->seed, t);
        for (size_t i = 0; i < n; i++)
            g.rows[i] = (uint32_t)hp_rng_below(&g.rng, n);
        grow_tree(&g, &f->trees[t], p->max_depth, cm);
    }
    free(cm);
    free(g.left);
    free(g.cats);
    free(g.cat_cnt);
    free(g.cat_sum);
    free(g.pairs);
    free(g.order);
    free(g.rows);
    return 0;
}

double hp_forest_predict(const hp_forest_t *f, const double *x)
{
    double s = 0;
    for (size_t t = 0; t < f->n_trees; t++) {
        const hp_tree_t *tr = &f->trees[t];
        const hp_tree_node_t *nd = &tr->nodes[0];
        while (nd->feature >= 0) {
            double v = x[nd->feature];
            int left = isnan(v) ? 1
                       : f->feat[nd->feature].n_cats
                           ? v >= 0 && v < f->feat[nd->feature].n_cats &&
                                 tr->cat_left[nd->cat_off + (size_t)v]
                           : v <= nd->threshold;
            nd = &tr->nodes[left ? nd->left : nd->right];
        }
        s += nd->value;
    }
    return f->n_trees ? s / (double)f->n_trees : NAN;
}

void hp_forest_fini(hp_forest_t *f)
{
    for (size_t t = 0; t < f->n_trees; t++) {
        free(f->trees[t].nodes);
        free(f->trees[t].cat_left);
    }
    free(f->trees);
    free(f->feat);
    memset(f, 0, sizeof *f);
}
