/*
 * Spec diff: every differing key is named by its path with both values,
 * equal specs have none (agreeing with hp_spec_equal), and lists, keys one
 * spec leaves out and strings that look like numbers are told apart.
 */
#include "buf.h"
#include "diag.h"
#include "spec.h"
#include "spec_diff.h"

#include "hp_check.h"

#include <check.h>
#include <string.h>

#define HEAD "name: t\nobjective:\n  metric: value\n"
#define SPACE "space:\n  x1: {type: float, low: -5, high: 10}\n  x2: {type: float, low: 0, high: 15}\n"

static void parse(hp_spec_t *s, const char *text)
{
    hp_diag_t d = {0};
    int rc = hp_spec_parse(s, text, strlen(text), NULL, &d);
    ck_assert_msg(rc == 0, "%s", d.n ? d.items[0].text : "?");
    hp_diag_fini(&d);
}

static void diff_of(const char *a, const char *b, hp_spec_diff_t *d)
{
    hp_spec_t sa, sb;
    parse(&sa, a);
    parse(&sb, b);
    size_t n = hp_spec_diff(&sa, &sb, d);
    ck_assert_uint_eq(n, d->n);
    ck_assert_int_eq(n == 0, hp_spec_equal(&sa, &sb));
    hp_spec_fini(&sa);
    hp_spec_fini(&sb);
}

START_TEST(test_names_each_key_with_both_values)
{
    hp_spec_diff_t d = {0};
    diff_of(HEAD "search: {max_trials: 4, parallelism: 1}\n" SPACE "trial: {function: branin}\n",
            HEAD "search: {max_trials: 7, parallelism: 2}\n"
                 "space:\n  x1: {type: float, low: -5, high: 12}\n"
                 "  x2: {type: float, low: 0, high: 15}\n"
                 "trial: {function: branin, timeout: 30}\n",
            &d);
    ck_assert_uint_eq(d.n, 4);
    const hp_spec_change_t *c = hp_spec_diff_find(&d, "search.max_trials");
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->old_text, "4");
    ck_assert_str_eq(c->new_text, "7");
    ck_assert_ptr_nonnull(hp_spec_diff_find(&d, "search.parallelism"));
    c = hp_spec_diff_find(&d, "space.x1.high");
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->old_text, "10");
    ck_assert_str_eq(c->new_text, "12");
    c = hp_spec_diff_find(&d, "trial.timeout");
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->new_text, "30");
    ck_assert_ptr_null(hp_spec_diff_find(&d, "space.x2.high"));
    hp_buf_t w = {0};
    hp_spec_diff_describe(&d, &w);
    ck_assert_msg(strstr(w.data, "space.x1.high (10 vs 12)") != NULL, "%s", w.data);
    hp_buf_fini(&w);
    hp_spec_diff_fini(&d);
}
END_TEST

START_TEST(test_equal_specs_differ_in_nothing)
{
    hp_spec_diff_t d = {0};
    diff_of(HEAD "search: {max_trials: 4}\n" SPACE "trial: {function: branin}\n",
            "# other layout\nname: t\nobjective: {metric: value, goal: minimize}\n"
            "search:\n  max_trials: 4\n  algorithm: random\n"
            "space: {x2: {high: 15, low: 0, type: float}, x1: {type: float, low: -5.0, high: 1e1}}\n"
            "trial:\n  function: branin\n",
            &d);
    /* the space's order is the study's: x2 before x1 is another study */
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.items[0].key, "space");
    ck_assert_str_eq(d.items[0].old_text, "[x1, x2]");
    ck_assert_str_eq(d.items[0].new_text, "[x2, x1]");
    hp_spec_diff_fini(&d);
    diff_of(HEAD "search: {max_trials: 4}\n" SPACE "trial: {function: branin}\n",
            "name: t\nobjective: {metric: value}\nsearch: {max_trials: 4, algorithm: random}\n"
            SPACE "trial: {function: branin, retries: 2}\n",
            &d);
    ck_assert_uint_eq(d.n, 0);
    hp_spec_diff_fini(&d);
}
END_TEST

START_TEST(test_lists_unset_keys_and_strings)
{
    hp_spec_diff_t d = {0};
    diff_of(HEAD "search: {max_trials: 2}\nspace:\n  lr: {type: float, low: 0.1, high: 1}\n"
                 "trial:\n  command: [prog, '{lr}']\n  fixed: {n: 1}\n",
            HEAD "search: {max_trials: 2}\nspace:\n  lr: {type: float, low: 0.1, high: 1}\n"
                 "trial:\n  command: [prog, '{lr}', --fast]\n  fixed: {n: '1', k: 2}\n",
            &d);
    const hp_spec_change_t *c = hp_spec_diff_find(&d, "trial.command");
    ck_assert_ptr_nonnull(c);
    ck_assert_msg(strstr(c->new_text, "--fast") != NULL, "%s", c->new_text);
    c = hp_spec_diff_find(&d, "trial.fixed.n");
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->old_text, "1");
    ck_assert_str_eq(c->new_text, "\"1\"");
    c = hp_spec_diff_find(&d, "trial.fixed.k");
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->old_text, "unset");
    ck_assert_str_eq(c->new_text, "2");
    hp_spec_diff_fini(&d);
    /* one element of a list of the same length is named by its index */
    diff_of(HEAD "search: {max_trials: 2}\nspace:\n  lr: {type: float, low: 0.1, high: 1}\n"
                 "trial:\n  command: [prog, '{lr}']\n",
            HEAD "search: {max_trials: 2}\nspace:\n  lr: {type: float, low: 0.1, high: 1}\n"
                 "trial:\n  command: [prog2, '{lr}']\n",
            &d);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.items[0].key, "trial.command[0]");
    hp_spec_diff_fini(&d);
}
END_TEST

/* the acquisition is named like any key, so growing a study refuses it */
START_TEST(test_acquisition_and_kappa_named)
{
    hp_spec_diff_t d = {0};
    diff_of(HEAD "search: {algorithm: bayes, max_trials: 4}\n" SPACE "trial: {function: branin}\n",
            HEAD "search: {algorithm: bayes, max_trials: 4, acquisition: ucb, kappa: 2}\n" SPACE
                 "trial: {function: branin}\n",
            &d);
    ck_assert_uint_eq(d.n, 2);
    const hp_spec_change_t *c = hp_spec_diff_find(&d, "search.acquisition");
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->old_text, "\"logei\"");
    ck_assert_str_eq(c->new_text, "\"ucb\"");
    c = hp_spec_diff_find(&d, "search.kappa");
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->old_text, "unset");
    ck_assert_str_eq(c->new_text, "2");
    hp_spec_diff_fini(&d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("spec_diff");
    TCase *tc = tcase_create("spec_diff");
    tcase_add_test(tc, test_names_each_key_with_both_values);
    tcase_add_test(tc, test_equal_specs_differ_in_nothing);
    tcase_add_test(tc, test_lists_unset_keys_and_strings);
    tcase_add_test(tc, test_acquisition_and_kappa_named);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
