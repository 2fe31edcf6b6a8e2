/* Tests for common/pareto: fronts and hypervolumes against values worked
 * out by hand, and the WFG recursion against inclusion-exclusion over
 * every subset of random point sets. */
#include "err.h"
#include "pareto.h"
#include "rng.h"

#include "hp_check.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static double hv(const double *y, size_t n, size_t m, const double *ref)
{
    double v = -1;
    ck_assert_int_eq(hp_hypervolume(y, n, m, ref, &v), 0);
    return v;
}

START_TEST(test_front_2d)
{
    /* (3,3) is dominated by (2,2); (1,3) and (3,1) are extremes; (2,2)
     * twice: equal points are both on the front; NaN never is */
    double y[] = {1, 3, 2, 2, 3, 1, 3, 3, 2, 2, NAN, 0, 4, 0.5};
    unsigned char on[7];
    ck_assert_uint_eq(hp_pareto_front(y, 7, 2, on), 5);
    unsigned char want[7] = {1, 1, 1, 0, 1, 0, 1};
    ck_assert_mem_eq(on, want, 7);
    ck_assert(hp_pareto_dominates(y + 2, y + 6, 2));
    ck_assert(!hp_pareto_dominates(y + 2, y + 8, 2)); /* equal */
    ck_assert(!hp_pareto_dominates(y + 0, y + 4, 2)); /* a trade-off */
}
END_TEST

START_TEST(test_front_3d)
{
    double y[] = {1, 2, 3, 2, 3, 1, 3, 1, 2, 2, 3, 3, 1, 2, 3.5};
    unsigned char on[5];
    ck_assert_uint_eq(hp_pareto_front(y, 5, 3, on), 3);
    unsigned char want[5] = {1, 1, 1, 0, 0};
    ck_assert_mem_eq(on, want, 5);
}
END_TEST

START_TEST(test_hv_2d_by_hand)
{
    double y[] = {1, 3, 2, 2, 3, 1, 3, 3};
    double ref[2] = {4, 4};
    /* the staircase: 1x1 + 1x2 + 1x3 */
    ck_assert_double_eq_tol(hv(y, 4, 2, ref), 6.0, 1e-12);
    /* one point: its box; a point on or beyond ref adds nothing */
    double one[] = {1, 1, 4, 0, 0, 5};
    ck_assert_double_eq_tol(hv(one, 3, 2, ref), 9.0, 1e-12);
    ck_assert_double_eq(hv(one + 2, 2, 2, ref), 0.0);
    ck_assert_double_eq(hv(NULL, 0, 2, ref), 0.0);
    /* order does not matter */
    double rev[] = {3, 3, 3, 1, 2, 2, 1, 3};
    ck_assert_double_eq_tol(hv(rev, 4, 2, ref), 6.0, 1e-12);
}
END_TEST

START_TEST(test_hv_3d_by_hand)
{
    double ref[3] = {4, 4, 4};
    /* three boxes of 6, pairwise overlaps of 2, the triple one 1:
     * 18 - 6 + 1 */
    double y[] = {1, 2, 3, 2, 3, 1, 3, 1, 2};
    ck_assert_double_eq_tol(hv(y, 3, 3, ref), 13.0, 1e-12);
    /* a dominated point, a duplicate, and a point outside ref change
     * nothing */
    double more[] = {1, 2, 3, 2, 3, 1, 3, 1, 2, 2, 3, 3, 1, 2, 3, 5, 0, 0};
    ck_assert_double_eq_tol(hv(more, 6, 3, ref), 13.0, 1e-12);
    double one[] = {1, 1, 1};
    double r2[3] = {2, 3, 4};
    ck_assert_double_eq_tol(hv(one, 1, 3, r2), 6.0, 1e-12);
    /* 1-D: the distance from the best to ref */
    double line[] = {3, 1, 2};
    double r1 = 4;
    ck_assert_double_eq_tol(hv(line, 3, 1, &r1), 3.0, 1e-12);
}
END_TEST

/* inclusion-exclusion: the sum over non-empty subsets of (-1)^(|S|+1)
 * times the volume of their boxes' intersection */
static double hv_brute(const double *y, size_t n, size_t m, const double *ref)
{
    double v = 0;
    for (unsigned s = 1; s < (1u << n); s++) {
        double lo[HP_PARETO_MAX_OBJECTIVES];
        for (size_t j = 0; j < m; j++)
            lo[j] = -INFINITY;
        int bits = 0;
        for (size_t i = 0; i < n; i++)
            if (s & (1u << i)) {
                bits++;
                for (size_t j = 0; j < m; j++)
                    lo[j] = fmax(lo[j], y[i * m + j]);
            }
        double b = 1;
        for (size_t j = 0; j < m; j++)
            b *= fmax(0, ref[j] - lo[j]);
        v += (bits % 2 ? 1 : -1) * b;
    }
    return v;
}

START_TEST(test_hv_matches_inclusion_exclusion)
{
    hp_rng_t r;
    hp_rng_init(&r, 17, 0);
    for (int rep = 0; rep < 200; rep++) {
        size_t m = 2 + (size_t)(rep % 4); /* 2..5 */
        size_t n = 1 + (size_t)hp_rng_below(&r, 10);
        double y[10 * 5], ref[5];
        for (size_t j = 0; j < m; j++)
            ref[j] = 1;
        for (size_t i = 0; i < n * m; i++)
            /* some coordinates beyond ref, some ties */
            y[i] = rep % 3 ? hp_rng_uniform(&r) * 1.1 : (double)hp_rng_below(&r, 4) / 4;
        double want = hv_brute(y, n, m, ref), got = hv(y, n, m, ref);
        ck_assert_msg(fabs(want - got) < 1e-12, "rep %d (n %zu, m %zu): %.17g != %.17g", rep,
                      n, m, got, want);
    }
}
END_TEST

START_TEST(test_hv_refuses_bad_m)
{
    double y[1] = {0}, ref[1] = {1}, v = 7;
    ck_assert_int_eq(hp_hypervolume(y, 1, 0, ref, &v), HP_EINVAL);
    ck_assert_int_eq(hp_hypervolume(y, 1, HP_PARETO_MAX_OBJECTIVES + 1, ref, &v), HP_EINVAL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("common_pareto");
    TCase *tc = tcase_create("pareto");
    tcase_add_test(tc, test_front_2d);
    tcase_add_test(tc, test_front_3d);
    tcase_add_test(tc, test_hv_2d_by_hand);
    tcase_add_test(tc, test_hv_3d_by_hand);
    tcase_add_test(tc, test_hv_matches_inclusion_exclusion);
    tcase_add_test(tc, test_hv_refuses_bad_m);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_check_run(suite());
}
