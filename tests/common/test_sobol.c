/* Tests for common/sobol: the unscrambled sequence against scipy fixtures
 * (tests/tools/gen_sobol_ref.py), skipping, scrambling, and balance. */
#include "err.h"
#include "sobol.h"

#include "fixtures/sobol_ref.h"

#include "hp_check.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* first 64 points equal scipy's Sobol(d, scramble=False).random(64); the
 * fixture holds Sobol(256), whose first d columns are Sobol(d) */
START_TEST(test_first_points_match_scipy)
{
    static const unsigned dims[] = {1, 2, 3, 8, 40, 100, 255, 256};
    double u[HP_SOBOL_MAX_DIMS];
    for (size_t t = 0; t < HP_ARRAY_LEN(dims); t++) {
        hp_sobol_t s;
        ck_assert_int_eq(hp_sobol_init(&s, dims[t], 0, 0), 0);
        for (int i = 0; i < SOBOL_REF_N; i++) {
            hp_sobol_next(&s, u);
            for (unsigned d = 0; d < dims[t]; d++)
                ck_assert_msg(u[d] == sobol_ref_first[i][d] / 64.0,
                              "dims %u point %d coord %u: %.17g != %d/64", dims[t], i, d,
                              u[d], sobol_ref_first[i][d]);
        }
        hp_sobol_fini(&s);
    }
}
END_TEST

/* far points exercise the high direction numbers (the recurrence beyond
 * the table's initial numbers) and skip */
START_TEST(test_skip_matches_scipy_far_points)
{
    double u[HP_SOBOL_MAX_DIMS];
    for (int k = 0; k < SOBOL_REF_FAR_N; k++) {
        hp_sobol_t s;
        ck_assert_int_eq(hp_sobol_init(&s, SOBOL_REF_DIMS, 0, 0), 0);
        hp_sobol_skip(&s, sobol_ref_far_index[k]);
        hp_sobol_next(&s, u);
        for (unsigned d = 0; d < SOBOL_REF_DIMS; d++)
            ck_assert_msg(u[d] == ldexp(sobol_ref_far[k][d], -32),
                          "index %llu coord %u: %.17g", (unsigned long long)sobol_ref_far_index[k],
                          d, u[d]);
        hp_sobol_fini(&s);
    }
}
END_TEST

/* skip(n) then next equals n+1 calls to next, for every n in a range and
 * from a non-zero start, scrambled too */
START_TEST(test_skip_equals_stepping)
{
    for (int scr = 0; scr < 2; scr++) {
        hp_sobol_t a, b;
        ck_assert_int_eq(hp_sobol_init(&a, 7, scr, 99), 0);
        ck_assert_int_eq(hp_sobol_init(&b, 7, scr, 99), 0);
        double ua[7], ub[7];
        for (uint64_t n = 0; n < 300; n++) {
            hp_sobol_next(&a, ua);
            hp_sobol_skip(&b, 0); /* repositions at the same index */
            hp_sobol_next(&b, ub);
            ck_assert_mem_eq(ua, ub, sizeof ua);
        }
        hp_sobol_skip(&a, 1000);
        hp_sobol_skip(&b, 400);
        hp_sobol_skip(&b, 600);
        hp_sobol_next(&a, ua);
        hp_sobol_next(&b, ub);
        ck_assert_mem_eq(ua, ub, sizeof ua);
        hp_sobol_fini(&a);
        hp_sobol_fini(&b);
    }
}
END_TEST

/* every prefix of 2^k points is balanced: each dyadic interval of length
 * 2^-k in every coordinate holds exactly one point — the property that
 * makes Sobol points space-filling, and which scrambling must keep */
static void check_balance(int scramble, uint64_t seed)
{
    enum { D = 32, K = 8, N = 1 << K };
    hp_sobol_t s;
    ck_assert_int_eq(hp_sobol_init(&s, D, scramble, seed), 0);
    static int count[D][N];
    memset(count, 0, sizeof count);
    double u[D];
    for (int i = 0; i < N; i++) {
        hp_sobol_next(&s, u);
        for (int d = 0; d < D; d++) {
            ck_assert(u[d] >= 0.0 && u[d] < 1.0);
            count[d][(int)(u[d] * N)]++;
        }
    }
    for (int d = 0; d < D; d++)
        for (int c = 0; c < N; c++)
            ck_assert_int_eq(count[d][c], 1);
    hp_sobol_fini(&s);
}

START_TEST(test_balanced_prefixes)
{
    check_balance(0, 0);
    check_balance(1, 0);
    check_balance(1, 12345);
}
END_TEST

START_TEST(test_scramble_deterministic_and_seeded)
{
    hp_sobol_t a, b, c, plain;
    ck_assert_int_eq(hp_sobol_init(&a, 5, 1, 7), 0);
    ck_assert_int_eq(hp_sobol_init(&b, 5, 1, 7), 0);
    ck_assert_int_eq(hp_sobol_init(&c, 5, 1, 8), 0);
    ck_assert_int_eq(hp_sobol_init(&plain, 5, 0, 7), 0);
    double ua[5], ub[5], uc[5], up[5];
    int diff_c = 0, diff_p = 0;
    for (int i = 0; i < 64; i++) {
        hp_sobol_next(&a, ua);
        hp_sobol_next(&b, ub);
        hp_sobol_next(&c, uc);
        hp_sobol_next(&plain, up);
        ck_assert_mem_eq(ua, ub, sizeof ua);
        diff_c += memcmp(ua, uc, sizeof ua) != 0;
        diff_p += memcmp(ua, up, sizeof ua) != 0;
    }
    ck_assert_int_eq(diff_c, 64);
    ck_assert_int_eq(diff_p, 64);
    /* a scrambled sequence no longer starts at the corner */
    hp_sobol_fini(&a);
    ck_assert_int_eq(hp_sobol_init(&a, 5, 1, 0), 0);
    hp_sobol_next(&a, ua);
    for (int d = 0; d < 5; d++)
        ck_assert(ua[d] != 0.0);
    hp_sobol_fini(&a);
    hp_sobol_fini(&b);
    hp_sobol_fini(&c);
    hp_sobol_fini(&plain);
}
END_TEST

/* scrambled points are still uniform: the mean of 4096 points per
 * coordinate is 0.5 within a tolerance far tighter than random sampling
 * would give (1/sqrt(12*4096) ~ 0.0045) */
START_TEST(test_scrambled_mean)
{
    enum { D = 16, N = 4096 };
    hp_sobol_t s;
    ck_assert_int_eq(hp_sobol_init(&s, D, 1, 2024), 0);
    double sum[D] = {0}, u[D];
    for (int i = 0; i < N; i++) {
        hp_sobol_next(&s, u);
        for (int d = 0; d < D; d++)
            sum[d] += u[d];
    }
    for (int d = 0; d < D; d++)
        ck_assert_double_eq_tol(sum[d] / N, 0.5, 1e-3);
    hp_sobol_fini(&s);
}
END_TEST

START_TEST(test_init_rejects_bad_dims_and_fini_safe)
{
    hp_sobol_t s;
    ck_assert_int_eq(hp_sobol_init(&s, 0, 0, 0), HP_EINVAL);
    hp_sobol_fini(&s);
    ck_assert_int_eq(hp_sobol_init(&s, HP_SOBOL_MAX_DIMS + 1, 1, 0), HP_EINVAL);
    hp_sobol_fini(&s);
    hp_sobol_t z;
    memset(&z, 0, sizeof z);
    hp_sobol_fini(&z);
    hp_sobol_fini(&z);
}
END_TEST

/* the sequence wraps after 2^52 points instead of reading past the table */
START_TEST(test_wraps_at_end)
{
    hp_sobol_t s;
    ck_assert_int_eq(hp_sobol_init(&s, 3, 0, 0), 0);
    hp_sobol_skip(&s, (UINT64_C(1) << HP_SOBOL_BITS) - 1);
    double u[3];
    hp_sobol_next(&s, u);
    for (int d = 0; d < 3; d++)
        ck_assert(u[d] > 0.0 && u[d] < 1.0);
    hp_sobol_next(&s, u);
    for (int d = 0; d < 3; d++)
        ck_assert(u[d] == 0.0);
    ck_assert_uint_eq(s.index, 1);
    hp_sobol_fini(&s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("common_sobol");
    TCase *tc = tcase_create("sobol");
    tcase_add_test(tc, test_first_points_match_scipy);
    tcase_add_test(tc, test_skip_matches_scipy_far_points);
    tcase_add_test(tc, test_skip_equals_stepping);
    tcase_add_test(tc, test_balanced_prefixes);
    tcase_add_test(tc, test_scramble_deterministic_and_seeded);
    tcase_add_test(tc, test_scrambled_mean);
    tcase_add_test(tc, test_init_rejects_bad_dims_and_fini_safe);
    tcase_add_test(tc, test_wraps_at_end);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_check_run(suite());
}
