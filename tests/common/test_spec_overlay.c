/* spec_overlay.h: keys written over a spec's YAML document (what
 * `hpsearch autopilot` does to the user's spec for each round), and
 * objective.target, the requirement autopilot stops at. */
#include "err.h"
#include "spec.h"
#include "spec_overlay.h"

#include "hp_check.h"

#include <check.h>
#include <string.h>

static const char *user = "name: u   # the user's\n"
                          "objective: {metric: val_error, target: 0.1}\n"
                          "trial:\n  dataset: {path: d.csv}\n  fixed: {hidden: 8, seed: 3}\n";

static char *overlay(const char *over, hp_overlay_mode_t mode, hp_buf_t *filled)
{
    hp_buf_t out = {0};
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_spec_overlay(user, strlen(user), "u.yaml", over, mode, &out, filled, &d),
                     0);
    hp_diag_fini(&d);
    return out.data;
}

START_TEST(test_misread_quotes_refused)
{
    /* the emitter would write libfyaml 0.7's misreading of 'a''''b' into
     * the merged text, so such a user spec is refused before the merge */
    static const char bad[] = "name: u\ntrial:\n  command: 'a''''b'\n";
    hp_buf_t out = {0};
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_spec_overlay(bad, strlen(bad), "u.yaml", "{a: 1}", HP_OVERLAY_FILL, &out,
                                     NULL, &d),
                     HP_EINVAL);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_int_eq(d.items[0].line, 3);
    ck_assert_ptr_nonnull(strstr(d.items[0].message, "two escaped quotes in a row"));
    ck_assert_uint_eq(out.len, 0);
    hp_diag_fini(&d);
    hp_buf_fini(&out);
}
END_TEST

START_TEST(test_fill_adds_only_missing_keys)
{
    hp_buf_t filled = {0};
    char *s = overlay("{name: other, search: {algorithm: random, max_trials: 1}, "
                      "trial: {model: mlp, fixed: {hidden: 99}}}",
                      HP_OVERLAY_FILL, &filled);
    ck_assert_ptr_nonnull(strstr(s, "name: u"));
    ck_assert_ptr_null(strstr(s, "other"));
    ck_assert_ptr_null(strstr(s, "99"));
    ck_assert_ptr_nonnull(strstr(s, "model: mlp"));
    ck_assert_str_eq(filled.data, "search\nsearch.algorithm\nsearch.max_trials\ntrial.model\n");
    free(s);
    hp_buf_fini(&filled);
}
END_TEST

START_TEST(test_replace_merges_maps_and_removes_nulls)
{
    hp_buf_t filled = {0};
    char *s = overlay("{name: u-r2, trial: {model: mlp, fixed: {hidden: ~, lr: 0.01}}, "
                      "space: {hidden: {type: int, low: 8, high: 16}, x: ~}, "
                      "search: {algorithm: random, max_trials: 2}}",
                      HP_OVERLAY_REPLACE, &filled);
    hp_spec_t spec;
    hp_diag_t d = {0};
    int rc = hp_spec_parse(&spec, s, strlen(s), "r2", &d);
    ck_assert_msg(rc == 0, "%s\n%s", s, d.n ? d.items[0].text : "");
    ck_assert_str_eq(spec.name, "u-r2");
    ck_assert_ptr_null(hp_spec_find_fixed(&spec, "hidden"));
    ck_assert_str_eq(hp_spec_find_fixed(&spec, "seed")->text, "3");
    ck_assert_str_eq(hp_spec_find_fixed(&spec, "lr")->text, "0.01");
    ck_assert_int_eq(spec.objective.has_target, 1);
    ck_assert_double_eq(spec.objective.target, 0.1);
    ck_assert_ptr_nonnull(strstr(filled.data, "trial.fixed.hidden\n"));
    ck_assert_ptr_null(strstr(filled.data, "space.x"));
    hp_spec_fini(&spec);
    hp_diag_fini(&d);
    free(s);
    hp_buf_fini(&filled);
}
END_TEST

START_TEST(test_not_a_mapping)
{
    hp_buf_t out = {0};
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_spec_overlay("- a\n- b\n", 8, "l.yaml", "{a: 1}", HP_OVERLAY_FILL, &out,
                                     NULL, &d),
                     HP_EINVAL);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_ptr_nonnull(strstr(d.items[0].text, "not a YAML mapping"));
    hp_diag_fini(&d);
    hp_buf_fini(&out);
}
END_TEST

START_TEST(test_target_round_trips_and_is_checked)
{
    const char *fixed = "name: t\nobjective: {metric: value, target: 0.125}\n"
                        "search: {max_trials: 1}\nspace: {x1: {type: float, low: 0, high: 1}, "
                        "x2: {type: float, low: 0, high: 1}}\ntrial: {function: branin}\n";
    hp_spec_t a, b;
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_spec_parse(&a, fixed, strlen(fixed), "t", &d), 0);
    hp_buf_t json = {0};
    hp_spec_to_json(&a, &json);
    ck_assert_ptr_nonnull(strstr(json.data, "\"target\":0.125"));
    ck_assert_int_eq(hp_spec_parse(&b, json.data, json.len, "t.json", &d), 0);
    ck_assert(hp_spec_equal(&a, &b));
    hp_spec_fini(&a);
    hp_spec_fini(&b);
    hp_buf_fini(&json);
    const char *bad = "name: t\nobjective: {metric: value, target: low}\nsearch: {max_trials: 1}\n"
                      "space: {x1: {type: float, low: 0, high: 1}, x2: {type: float, low: 0, "
                      "high: 1}}\ntrial: {function: branin}\n";
    ck_assert_int_eq(hp_spec_parse(&a, bad, strlen(bad), "t", &d), HP_EINVAL);
    int found = 0;
    for (size_t i = 0; i < d.n; i++)
        found |= strstr(d.items[i].text, "objective.target") != NULL;
    ck_assert(found);
    hp_diag_fini(&d);
}
END_TEST

static Suite *overlay_suite(void)
{
    Suite *s = suite_create("spec_overlay");
    TCase *tc = tcase_create("overlay");
    tcase_add_test(tc, test_fill_adds_only_missing_keys);
    tcase_add_test(tc, test_replace_merges_maps_and_removes_nulls);
    tcase_add_test(tc, test_not_a_mapping);
    tcase_add_test(tc, test_misread_quotes_refused);
    tcase_add_test(tc, test_target_round_trips_and_is_checked);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return hp_check_run(overlay_suite()); }
