/* Parameter importance (coordinator/importance): fANOVA's main effects on
 * hand-built trees against hand-computed variances, the forest on
 * functions whose important and inert parameters are known, conditional
 * parameters, and the errors for too few trials. */
#include "buf.h"
#include "err.h"
#include "fanova.h"
#include "forest.h"
#include "importance.h"
#include "rng.h"
#include "space.h"
#include "spec.h"

#include "hp_check.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* a tree of two levels: x0 at 0.5, then x1 at 0.25 on both sides; leaf
 * values 0, 1 (x0 low) and 2, 3 (x0 high): f = 2[x0 > .5] + [x1 > .25] */
static void additive_tree(hp_forest_t *f, hp_forest_feature_t *feat)
{
    static hp_tree_node_t nodes[7];
    static hp_tree_t tree;
    nodes[0] = (hp_tree_node_t){.feature = 0, .left = 1, .right = 2, .threshold = 0.5};
    nodes[1] = (hp_tree_node_t){.feature = 1, .left = 3, .right = 4, .threshold = 0.25};
    nodes[2] = (hp_tree_node_t){.feature = 1, .left = 5, .right = 6, .threshold = 0.25};
    for (int i = 0; i < 4; i++)
        nodes[3 + i] = (hp_tree_node_t){.feature = -1, .value = i};
    tree = (hp_tree_t){.nodes = nodes, .n_nodes = 7};
    memset(f, 0, sizeof *f);
    feat[0].n_cats = feat[1].n_cats = 0;
    f->d = 2;
    f->feat = feat;
    f->trees = &tree;
    f->n_trees = 1;
}

START_TEST(test_fanova_additive_tree)
{
    hp_forest_t f;
    hp_forest_feature_t feat[2];
    additive_tree(&f, feat);
    double share[2], sd[2];
    size_t used;
    hp_fanova_main_effects(&f, share, sd, &used);
    /* V0 = var(2 B(.5)) = 1, V1 = var(B(.75)) = .1875, no interaction */
    ck_assert_uint_eq(used, 1);
    ck_assert_double_eq_tol(share[0], 1 / 1.1875, 1e-12);
    ck_assert_double_eq_tol(share[1], 0.1875 / 1.1875, 1e-12);
    ck_assert_double_eq_tol(sd[0], 0, 1e-12);
    double x[2] = {0.7, 0.1};
    ck_assert_double_eq_tol(hp_forest_predict(&f, x), 2, 1e-12);
}
END_TEST

/* an interaction only: f = 1 when x0 > .5 and x1 is category 2 (of 4),
 * else 0. P(f=1) = 1/8, V = 7/64; E[f|x0] is 1/4 or 0: V0 = 1/64;
 * E[f|x1] is 1/2 for category 2 else 0: V1 = 1/4 * 1/4 * 3/4 = 3/64 */
START_TEST(test_fanova_categorical_interaction)
{
    static hp_tree_node_t nodes[5];
    static unsigned char left[4] = {1, 1, 0, 1};
    static hp_tree_t tree;
    nodes[0] = (hp_tree_node_t){.feature = 0, .left = 1, .right = 2, .threshold = 0.5};
    nodes[1] = (hp_tree_node_t){.feature = -1, .value = 0};
    nodes[2] = (hp_tree_node_t){.feature = 1, .left = 3, .right = 4, .cat_off = 0};
    nodes[3] = (hp_tree_node_t){.feature = -1, .value = 0};
    nodes[4] = (hp_tree_node_t){.feature = -1, .value = 1};
    tree = (hp_tree_t){.nodes = nodes, .n_nodes = 5, .cat_left = left, .n_cat_left = 4};
    hp_forest_feature_t feat[2] = {{.n_cats = 0}, {.n_cats = 4}};
    hp_forest_t f = {.d = 2, .feat = feat, .trees = &tree, .n_trees = 1};
    double share[2];
    hp_fanova_main_effects(&f, share, NULL, NULL);
    ck_assert_double_eq_tol(share[0], (1.0 / 64) / (7.0 / 64), 1e-12);
    ck_assert_double_eq_tol(share[1], (3.0 / 64) / (7.0 / 64), 1e-12);
    double x[2] = {0.9, 2};
    ck_assert_double_eq_tol(hp_forest_predict(&f, x), 1, 1e-12);
}
END_TEST

/* A study of n random trials of spec (YAML) on objective fn, through the
 * stored forms: the spec as canonical JSON, each trial's params as JSON. */
typedef double (*objective_fn)(const hp_space_t *sp, const double *x);

static void random_trials(hp_importance_input_t *in, const char *yaml, objective_fn fn, size_t n,
                          uint64_t seed)
{
    hp_spec_t spec;
    hp_diag_t d = {0};
    int rc = hp_spec_parse(&spec, yaml, strlen(yaml), "t.yaml", &d);
    for (size_t i = 0; rc < 0 && i < d.n; i++)
        fprintf(stderr, "%s\n", d.items[i].text);
    ck_assert_int_eq(rc, 0);
    hp_diag_fini(&d);
    hp_buf_t json = {0}, params = {0};
    hp_spec_to_json(&spec, &json);
    char err[512];
    ck_assert_int_eq(hp_importance_input_init(in, json.data, json.len, err, sizeof err), 0);
    hp_rng_t r;
    hp_rng_init(&r, seed, 0);
    for (size_t i = 0; i < n; i++) {
        double u[HP_SPACE_MAX_PARAMS], x[HP_SPACE_MAX_PARAMS];
        for (size_t j = 0; j < spec.space.n; j++)
            u[j] = hp_rng_uniform(&r);
        hp_space_from_unit(&spec.space, u, x);
        hp_space_deactivate(&spec.space, x);
        hp_buf_reset(&params);
        hp_space_point_json(&spec.space, x, &params);
        hp_importance_input_add(in, params.data, fn(&spec.space, x));
    }
    ck_assert_uint_eq(in->n, n);
    hp_buf_fini(&json);
    hp_buf_fini(&params);
    hp_spec_fini(&spec);
}

static void rank(const hp_importance_input_t *in, hp_importance_t *imp)
{
    char err[512];
    hp_importance_opts_t o = hp_importance_defaults();
    int rc = hp_importance_compute(in, &o, imp, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "%s\n", err);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(imp->method, "fANOVA (random forest, 64 trees)");
    double sum = 0;
    for (size_t j = 0; j < imp->n_params; j++)
        sum += imp->params[j].importance;
    ck_assert_double_eq_tol(sum, 1, 1e-9);
}

/* f = 10 x0^2 + x1 + 0 x2 on [-1, 1]^3 */
static double quad(const hp_space_t *sp, const double *x)
{
    (void)sp;
    return 10 * x[0] * x[0] + x[1];
}

/* a categorical that matters most, a log-scaled float, an inert int */
static double mixed(const hp_space_t *sp, const double *x)
{
    (void)sp;
    static const double by_act[3] = {0, 6, 2};
    return by_act[(int)x[0]] + log10(x[1]) + 0 * x[2];
}

/* the inert parameter first in the space, so ties cannot favour it */
static double inert_first(const hp_space_t *sp, const double *x)
{
    (void)sp;
    return 5 * x[1] + sin(6 * x[2]) + 0 * x[0];
}

/* optimizer, sgd's momentum and adam's beta2 matter; z is inert */
static double conditional(const hp_space_t *sp, const double *x)
{
    int m = hp_space_find(sp, "momentum"), b = hp_space_find(sp, "beta2"),
        opt = hp_space_find(sp, "optimizer");
    if (x[opt] == 0) /* sgd */
        return 1 + 4 * (x[m] - 0.9) * (x[m] - 0.9) * 25;
    return 2 + 3 * (x[b] - 0.9) / 0.0999;
}

/* the parent alone does nothing (momentum centred, adam at the same mean):
 * momentum must still be found; z, beta2 and the parent are all inert */
static double conditional_centred(const hp_space_t *sp, const double *x)
{
    int m = hp_space_find(sp, "momentum"), opt = hp_space_find(sp, "optimizer");
    return x[opt] == 0 ? 20 * (x[m] - 0.745) : 0;
}

static const struct rank_case {
    const char *yaml;
    objective_fn fn;
    const char *first, *last;
} rank_cases[] = {
    {"name: q\nobjective: {metric: y}\nsearch: {max_trials: 10}\nspace:\n"
     "  x0: {type: float, low: -1, high: 1}\n"
     "  x1: {type: float, low: -1, high: 1}\n"
     "  x2: {type: float, low: -1, high: 1}\n"
     "trial: {command: [./t]}\n",
     quad, "x0", "x2"},
    {"name: q\nobjective: {metric: y}\nsearch: {max_trials: 10}\nspace:\n"
     "  act: {type: categorical, values: [relu, tanh, gelu]}\n"
     "  lr: {type: float, low: 1.0e-4, high: 1, log: true}\n"
     "  width: {type: int, low: 8, high: 512}\n"
     "trial: {command: [./t]}\n",
     mixed, "act", "width"},
    {"name: q\nobjective: {metric: y}\nsearch: {max_trials: 10}\nspace:\n"
     "  z: {type: float, low: 0, high: 1}\n"
     "  a: {type: float, low: 0, high: 1}\n"
     "  b: {type: float, low: 0, high: 1}\n"
     "trial: {command: [./t]}\n",
     inert_first, "a", "z"},
    {"name: q\nobjective: {metric: y}\nsearch: {max_trials: 10}\nspace:\n"
     "  optimizer: {type: categorical, values: [sgd, adam]}\n"
     "  momentum: {type: float, low: 0.5, high: 0.99, when: {optimizer: sgd}, default: 0}\n"
     "  beta2: {type: float, low: 0.9, high: 0.9999, when: {optimizer: adam}}\n"
     "  z: {type: int, low: 1, high: 10}\n"
     "trial: {command: [./t]}\n",
     conditional, NULL, "z"},
    {"name: q\nobjective: {metric: y}\nsearch: {max_trials: 10}\nspace:\n"
     "  optimizer: {type: categorical, values: [sgd, adam]}\n"
     "  momentum: {type: float, low: 0.5, high: 0.99, when: {optimizer: sgd}}\n"
     "  beta2: {type: float, low: 0.9, high: 0.9999, when: {optimizer: adam}}\n"
     "  z: {type: int, low: 1, high: 10}\n"
     "trial: {command: [./t]}\n",
     conditional_centred, "momentum", NULL},
};

START_TEST(test_importance_inert_last)
{
    const struct rank_case *c = &rank_cases[_i];
    hp_importance_input_t in;
    random_trials(&in, c->yaml, c->fn, 120, 7);
    hp_importance_t imp;
    rank(&in, &imp);
    for (size_t j = 0; j < imp.n_params; j++)
        fprintf(stderr, "case %d: %s %.4f\n", _i, imp.params[j].name, imp.params[j].importance);
    if (c->first)
        ck_assert_str_eq(imp.params[0].name, c->first);
    if (c->last)
        ck_assert_str_eq(imp.params[imp.n_params - 1].name, c->last);
    ck_assert(imp.params[imp.n_params - 1].importance < 0.05);
    hp_importance_fini(&imp);
    hp_importance_input_fini(&in);
}
END_TEST

START_TEST(test_importance_conditional_counts_active)
{
    hp_importance_input_t in;
    random_trials(&in, rank_cases[3].yaml, conditional, 60, 3);
    hp_importance_t imp;
    rank(&in, &imp);
    size_t sgd = 0, adam = 0;
    for (size_t j = 0; j < imp.n_params; j++) {
        if (!strcmp(imp.params[j].name, "momentum"))
            sgd = imp.params[j].active;
        if (!strcmp(imp.params[j].name, "beta2"))
            adam = imp.params[j].active;
        if (!strcmp(imp.params[j].name, "optimizer") || !strcmp(imp.params[j].name, "z"))
            ck_assert_uint_eq(imp.params[j].active, 60);
    }
    ck_assert_uint_eq(sgd + adam, 60);
    ck_assert(sgd > 0 && adam > 0);
    hp_buf_t b = {0};
    hp_importance_text(&imp, &b);
    ck_assert_ptr_nonnull(strstr(b.data, "fANOVA (random forest, 64 trees), on 60 completed"));
    ck_assert_ptr_nonnull(strstr(b.data, "(active in "));
    hp_buf_reset(&b);
    hp_importance_json(&imp, &b);
    ck_assert_ptr_nonnull(strstr(b.data, "{\"method\":\"fANOVA (random forest, 64 trees)\","
                                         "\"trials\":60,\"skipped\":0,"));
    hp_buf_fini(&b);
    hp_importance_fini(&imp);
    hp_importance_input_fini(&in);
}
END_TEST

START_TEST(test_importance_deterministic)
{
    hp_importance_input_t in;
    random_trials(&in, rank_cases[0].yaml, quad, 80, 11);
    hp_importance_t a, b;
    rank(&in, &a);
    rank(&in, &b);
    for (size_t j = 0; j < a.n_params; j++) {
        ck_assert_str_eq(a.params[j].name, b.params[j].name);
        ck_assert(a.params[j].importance == b.params[j].importance);
    }
    /* another seed: another forest, the same order here */
    hp_importance_opts_t o = hp_importance_defaults();
    o.seed = 99;
    o.n_trees = 16;
    hp_importance_t c;
    char err[256];
    ck_assert_int_eq(hp_importance_compute(&in, &o, &c, err, sizeof err), 0);
    ck_assert_str_eq(c.method, "fANOVA (random forest, 16 trees)");
    ck_assert_str_eq(c.params[0].name, "x0");
    ck_assert_str_eq(c.params[2].name, "x2");
    hp_importance_fini(&a);
    hp_importance_fini(&b);
    hp_importance_fini(&c);
    hp_importance_input_fini(&in);
}
END_TEST

static double constant(const hp_space_t *sp, const double *x)
{
    (void)sp;
    (void)x;
    return 0.25;
}

START_TEST(test_importance_errors)
{
    hp_importance_input_t in;
    hp_importance_t imp;
    hp_importance_opts_t o = hp_importance_defaults();
    char err[512];
    random_trials(&in, rank_cases[0].yaml, quad, 4, 1);
    hp_importance_input_add(&in, "{\"x0\":0.1,\"x1\":0.2,\"x2\":0.3}", NAN);
    hp_importance_input_add(&in, "{\"x0\":5,\"x1\":0.2,\"x2\":0.3}", 1); /* outside */
    ck_assert_uint_eq(in.skipped, 2);
    ck_assert_int_eq(hp_importance_compute(&in, &o, &imp, err, sizeof err), HP_EINVAL);
    ck_assert_str_eq(err, "importance needs at least 5 completed trials with a finite objective "
                          "(got 4; failed, pruned, running and infeasible trials do not count)");
    ck_assert_ptr_null(imp.params);
    hp_importance_input_fini(&in);

    random_trials(&in, rank_cases[0].yaml, constant, 10, 1);
    ck_assert_int_eq(hp_importance_compute(&in, &o, &imp, err, sizeof err), HP_EINVAL);
    ck_assert_str_eq(err, "the objective is 0.25 in all 10 completed trials: no parameter "
                          "explains any of it");
    hp_importance_input_fini(&in);

    ck_assert_int_eq(hp_importance_input_init(&in, "{\"name\":", 8, err, sizeof err), HP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "the study's stored spec does not parse"));
    hp_importance_input_fini(&in);
}
END_TEST

START_TEST(test_forest_rejects_bad_input)
{
    hp_forest_t f;
    hp_forest_feature_t feat[1] = {{.n_cats = 3}};
    hp_forest_params_t p = hp_forest_defaults();
    double X[2] = {0, 3}, y[2] = {1, 2};
    char err[256];
    ck_assert_int_eq(hp_forest_fit(&f, X, y, 2, 1, feat, &p, err, sizeof err), HP_EINVAL);
    ck_assert_str_eq(err, "forest: row 1 feature 0 is no category code (got 3 of 3)");
    hp_forest_fini(&f);
    X[1] = 1;
    y[0] = INFINITY;
    ck_assert_int_eq(hp_forest_fit(&f, X, y, 2, 1, feat, &p, err, sizeof err), HP_EINVAL);
    ck_assert_str_eq(err, "forest: response 0 is not finite");
    hp_forest_fini(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("coordinator_importance");
    TCase *tc = tcase_create("fanova");
    tcase_add_test(tc, test_fanova_additive_tree);
    tcase_add_test(tc, test_fanova_categorical_interaction);
    tcase_add_test(tc, test_forest_rejects_bad_input);
    suite_add_tcase(s, tc);
    tc = tcase_create("importance");
    tcase_add_loop_test(tc, test_importance_inert_last, 0,
                        (int)(sizeof rank_cases / sizeof rank_cases[0]));
    tcase_add_test(tc, test_importance_conditional_counts_active);
    tcase_add_test(tc, test_importance_deterministic);
    tcase_add_test(tc, test_importance_errors);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
