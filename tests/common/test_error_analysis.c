/* The confusion matrix and worst-example bookkeeping (error_analysis.h). */
#include "error_analysis.h"

#include "err.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_counts_and_ranks)
{
    hp_ea_t e;
    char err[256];
    ck_assert_int_eq(hp_ea_init(&e, 3, 1, 2, 2, err, sizeof err), 0);
    ck_assert_int_eq((int)hp_ea_pixel_bytes(&e), 4);
    /* the loss decides the rank; the caller writes pixels at it */
    float losses[] = {0.5f, 2.0f, 0.1f, 3.0f, 2.0f};
    int labels[] = {0, 1, 2, 1, 0}, preds[] = {0, 2, 2, 0, 1};
    int want[] = {0, 0, 2, 0, 2}; /* ties keep the earlier one first */
    for (int i = 0; i < 5; i++) {
        int at = hp_ea_add(&e, (uint32_t)(100 + i), labels[i], preds[i], losses[i]);
        ck_assert_int_eq(at, want[i]);
        memset(hp_ea_pixels(&e, (size_t)at), i + 1, 4);
    }
    ck_assert_int_eq((int)e.n, 5);
    ck_assert_int_eq((int)e.nworst, 5);
    uint32_t order[] = {103, 101, 104, 100, 102};
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_eq(e.worst[i].index, order[i]);
        ck_assert_int_eq(hp_ea_pixels(&e, (size_t)i)[3], (int)(order[i] - 100) + 1);
    }
    ck_assert_int_eq((int)e.confusion[1 * 3 + 2], 1);
    ck_assert_int_eq((int)e.confusion[0 * 3 + 0], 1);
    /* out-of-range classes are not counted */
    ck_assert_int_eq(hp_ea_add(&e, 1, 3, 0, 9.0f), -1);
    ck_assert_int_eq(hp_ea_add(&e, 1, 0, -1, 9.0f), -1);
    ck_assert_int_eq((int)e.n, 5);
    /* a full list drops its best; a NaN loss is the worst */
    hp_ea_reset(&e);
    for (int i = 0; i < HP_EA_WORST + 4; i++)
        hp_ea_add(&e, (uint32_t)i, 0, 1, (float)i);
    ck_assert_int_eq((int)e.nworst, HP_EA_WORST);
    ck_assert_uint_eq(e.worst[0].index, HP_EA_WORST + 3);
    ck_assert_uint_eq(e.worst[HP_EA_WORST - 1].index, 4);
    ck_assert_int_eq(hp_ea_add(&e, 77, 0, 1, 0.5f), -1);
    ck_assert_int_eq(hp_ea_add(&e, 78, 0, 1, NAN), 0);
    ck_assert_int_eq((int)e.confusion[1], HP_EA_WORST + 6);
    hp_ea_fini(&e);
    hp_ea_fini(&e); /* safe twice */
}
END_TEST

START_TEST(test_limits)
{
    hp_ea_t e;
    char err[256];
    ck_assert_int_eq(hp_ea_init(&e, 0, 0, 0, 0, err, sizeof err), HP_EINVAL);
    ck_assert_int_eq(hp_ea_init(&e, HP_EA_MAX_CLASSES + 1, 0, 0, 0, err, sizeof err), HP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "keeps a confusion matrix for 1 to 100"));
    /* an image too large keeps no pixels, tabular data none */
    ck_assert_int_eq(hp_ea_init(&e, 2, 3, 64, 64, err, sizeof err), 0);
    ck_assert_ptr_null(e.pixels);
    ck_assert_int_eq((int)hp_ea_pixel_bytes(&e), 0);
    ck_assert_ptr_null(hp_ea_pixels(&e, 0));
    hp_ea_fini(&e);
}
END_TEST

START_TEST(test_most_confused_pairs)
{
    /* rows true, columns predicted */
    uint64_t c[9] = {50, 5, 0, /* */ 9, 40, 1, /* */ 5, 0, 10};
    hp_ea_pair_t p[8];
    size_t n = hp_ea_pairs(c, 3, p, 8);
    ck_assert_int_eq((int)n, 4);
    ck_assert_int_eq(p[0].label * 10 + p[0].predicted, 10); /* 9 */
    ck_assert_int_eq((int)p[0].count, 9);
    ck_assert(fabs(p[0].share - 9.0 / 50.0) < 1e-12);
    /* ties: lower label first */
    ck_assert_int_eq(p[1].label * 10 + p[1].predicted, 1);
    ck_assert_int_eq(p[2].label * 10 + p[2].predicted, 20);
    ck_assert(fabs(p[2].share - 5.0 / 15.0) < 1e-12);
    ck_assert_int_eq(p[3].label * 10 + p[3].predicted, 12);
    ck_assert_int_eq((int)hp_ea_pairs(c, 3, p, 2), 2);
    ck_assert_int_eq((int)p[1].count, 5);
    ck_assert_int_eq((int)hp_ea_pairs(c, 3, p, 0), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("error_analysis");
    TCase *tc = tcase_create("error_analysis");
    tcase_add_test(tc, test_counts_and_ranks);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_most_confused_pairs);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
