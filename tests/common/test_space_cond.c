/*
 * Conditional parameters (when:): which parameters a point activates, the
 * NaN of an inactive one through contains, JSON and params, and the grid
 * of the tree of conditions, each configuration exactly once (counted by
 * hand below).
 */
#include "buf.h"
#include "diag.h"
#include "err.h"
#include "params.h"
#include "space.h"
#include "spec.h"

#include "hp_check.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* opt: sgd -> momentum (2 grid values)
 *      adam -> beta2 (2) x nest (a: 1, b: deep 2) = 2 x 3 = 6
 *      rmsprop -> beta2 (2)                    opt's subtree: 2 + 6 + 2 = 10
 * layers: 1 -> 1, 2 -> 1, 3 -> w3 (2)          layers' subtree: 4
 * lr: 3 values, always active                  the grid: 10 x 4 x 3 = 120 */
static const char spec_yaml[] =
    "name: t\nobjective: {metric: loss}\nsearch: {algorithm: grid}\n"
    "space:\n"
    "  opt: {type: categorical, values: [sgd, adam, rmsprop]}\n"
    "  momentum: {type: float, values: [0.5, 0.9], when: {opt: sgd}, default: 0}\n"
    "  beta2: {type: float, values: [0.99, 0.999], when: {opt: [adam, rmsprop]}}\n"
    "  layers: {type: categorical, values: [1, 2, 3]}\n"
    "  w3: {type: int, low: 8, high: 16, step: 8, when: {layers: 3}}\n"
    "  nest: {type: categorical, values: [a, b], when: {opt: adam}}\n"
    "  deep: {type: int, low: 1, high: 2, when: {nest: b}}\n"
    "  lr: {type: float, values: [0.1, 0.01, 0.001]}\n"
    "trial: {command: [prog, '--m={momentum}']}\n";

enum { OPT, MOM, BETA2, LAYERS, W3, NEST, DEEP, LR, D };

static hp_spec_t spec;

static void setup(void)
{
    hp_diag_t d = {0};
    int rc = hp_spec_parse(&spec, spec_yaml, strlen(spec_yaml), "t.yaml", &d);
    ck_assert_msg(rc == 0, "%s", d.n ? d.items[0].text : "?");
    hp_diag_fini(&d);
}

static void teardown(void) { hp_spec_fini(&spec); }

static int same(const double *a, const double *b)
{
    for (int i = 0; i < D; i++)
        if (!(a[i] == b[i] || (isnan(a[i]) && isnan(b[i]))))
            return 0;
    return 1;
}

START_TEST(test_activity_follows_the_chain)
{
    const hp_space_t *sp = &spec.space;
    ck_assert(hp_space_is_conditional(sp));
    double x[D] = {1, 0.5, 0.99, 2, 8, 1, 2, 0.1}; /* adam, layers 3, nest b */
    ck_assert(!hp_space_param_active(sp, x, MOM));
    ck_assert(hp_space_param_active(sp, x, BETA2));
    ck_assert(hp_space_param_active(sp, x, W3));
    ck_assert(hp_space_param_active(sp, x, DEEP));
    hp_space_deactivate(sp, x);
    ck_assert(isnan(x[MOM]) && !isnan(x[BETA2]) && !isnan(x[DEEP]));
    ck_assert(hp_space_contains(sp, x));
    /* sgd: beta2, nest and (through nest) deep go */
    x[OPT] = 0;
    x[MOM] = 0.9;
    ck_assert(!hp_space_contains(sp, x)); /* beta2 and nest still set */
    hp_space_deactivate(sp, x);
    ck_assert(isnan(x[BETA2]) && isnan(x[NEST]) && isnan(x[DEEP]));
    ck_assert(hp_space_contains(sp, x));
    /* an active parameter may not be NaN */
    x[MOM] = NAN;
    ck_assert(!hp_space_contains(sp, x));
}
END_TEST

START_TEST(test_json_and_params_hold_only_active)
{
    const hp_space_t *sp = &spec.space;
    double x[D] = {0, 0.9, NAN, 1, NAN, NAN, NAN, 0.01};
    hp_buf_t j = {0};
    hp_space_point_json(sp, x, &j);
    ck_assert_str_eq(j.data, "{\"opt\":\"sgd\",\"momentum\":0.9,\"layers\":2,\"lr\":0.01}");
    double y[D];
    char err[256];
    ck_assert_int_eq(hp_params_to_point(sp, j.data, y, err, sizeof err), 0);
    ck_assert(same(x, y));
    hp_buf_fini(&j);
    /* an active one missing, an inactive one given */
    ck_assert_int_eq(hp_params_to_point(sp, "{\"opt\":\"sgd\",\"layers\":2,\"lr\":0.01}", y, err,
                                        sizeof err),
                     HP_EINVAL);
    ck_assert_str_eq(err, "params: missing 'momentum'");
    ck_assert_int_eq(hp_params_to_point(sp,
                                        "{\"opt\":\"sgd\",\"momentum\":0.9,\"beta2\":0.99,"
                                        "\"layers\":2,\"lr\":0.01}",
                                        y, err, sizeof err),
                     HP_EINVAL);
    ck_assert_msg(strstr(err, "'beta2' is given but inactive") != NULL, "%s", err);
}
END_TEST

START_TEST(test_assignments_take_only_active)
{
    double x[D];
    char err[256];
    const char *n1[] = {"opt", "beta2", "nest", "layers", "lr"};
    const char *v1[] = {"adam", "0.999", "a", "1", "0.1"};
    ck_assert_msg(hp_params_from_assignments(&spec, n1, v1, 5, x, err, sizeof err) == 0, "%s", err);
    ck_assert(isnan(x[MOM]) && isnan(x[DEEP]) && isnan(x[W3]));
    ck_assert(hp_space_contains(&spec.space, x));
    const char *n2[] = {"opt", "momentum", "beta2", "layers", "lr"};
    const char *v2[] = {"sgd", "0.5", "0.99", "1", "0.1"};
    ck_assert_int_eq(hp_params_from_assignments(&spec, n2, v2, 5, x, err, sizeof err), HP_EINVAL);
    ck_assert_str_eq(err, "beta2 is inactive when opt is sgd (its when: condition); leave it out");
    const char *n3[] = {"opt", "nest", "layers", "lr"};
    const char *v3[] = {"adam", "b", "3", "0.1"};
    ck_assert_int_eq(hp_params_from_assignments(&spec, n3, v3, 4, x, err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "missing beta2, w3, deep") != NULL, "%s", err);
}
END_TEST

START_TEST(test_grid_enumerates_the_tree_once)
{
    const hp_space_t *sp = &spec.space;
    uint64_t n = 0;
    ck_assert_int_eq(hp_space_grid_size(sp, &n, NULL), 0);
    ck_assert_uint_eq(n, 120);
    static double pts[120][D];
    int per_opt[3] = {0}, deep_seen = 0;
    for (uint64_t i = 0; i < n; i++) {
        ck_assert_int_eq(hp_space_grid_point(sp, i, pts[i]), 0);
        ck_assert_msg(hp_space_contains(sp, pts[i]), "grid point %llu", (unsigned long long)i);
        for (uint64_t k = 0; k < i; k++)
            ck_assert_msg(!same(pts[i], pts[k]), "grid points %llu and %llu are the same",
                          (unsigned long long)k, (unsigned long long)i);
        per_opt[(int)pts[i][OPT]]++;
        deep_seen += !isnan(pts[i][DEEP]);
    }
    /* sgd 2, adam 6, rmsprop 2 configurations, each x 4 x 3 */
    ck_assert_int_eq(per_opt[0], 24);
    ck_assert_int_eq(per_opt[1], 72);
    ck_assert_int_eq(per_opt[2], 24);
    ck_assert_int_eq(deep_seen, 2 * 2 * 12); /* adam, nest b, 2 deep x 2 beta2, x 12 */
    double x[D];
    ck_assert_int_eq(hp_space_grid_point(sp, 120, x), HP_ERANGE);
    /* the last parameter varies fastest, as in a plain grid */
    ck_assert(pts[0][LR] == 0.1 && pts[1][LR] == 0.01 && pts[0][OPT] == pts[1][OPT]);
}
END_TEST

START_TEST(test_copy_and_equal_keep_conditions)
{
    hp_space_t cp;
    hp_space_copy(&cp, &spec.space);
    ck_assert(cp.params[MOM].has_when && cp.params[MOM].when_parent == OPT);
    ck_assert_uint_eq(cp.params[BETA2].n_when_values, 2);
    ck_assert_str_eq(cp.params[MOM].def.text, "0");
    ck_assert_int_eq(hp_space_validate(&cp, NULL), 0);
    /* a cycle built by hand is refused by the space's own check */
    hp_space_when_add(&cp.params[OPT], NEST, 0);
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_space_validate(&cp, &d), HP_EINVAL);
    ck_assert(d.n >= 1);
    ck_assert_msg(strstr(d.items[0].message, "cycle") != NULL, "%s", d.items[0].message);
    hp_diag_fini(&d);
    hp_space_fini(&cp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("space_cond");
    TCase *tc = tcase_create("space_cond");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_activity_follows_the_chain);
    tcase_add_test(tc, test_json_and_params_hold_only_active);
    tcase_add_test(tc, test_assignments_take_only_active);
    tcase_add_test(tc, test_grid_enumerates_the_tree_once);
    tcase_add_test(tc, test_copy_and_equal_keep_conditions);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
