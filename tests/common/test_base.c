/* Tests for the small common modules: errors, RNG streams, buffers, diag. */
#include "buf.h"
#include "diag.h"
#include "err.h"
#include "log.h"
#include "rng.h"
#include "vec.h"

#include "hp_check.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_strerror_covers_every_code)
{
    for (int c = 0; c > -HP_ERR_COUNT_; c--)
        ck_assert_str_ne(hp_strerror(c), "unknown error");
    ck_assert_str_eq(hp_strerror(-9999), "unknown error");
    ck_assert_str_eq(hp_strerror(5), "unknown error");
    char e[32];
    ck_assert_int_eq(hp_errf(e, sizeof e, HP_EINVAL, "bad %d", 7), HP_EINVAL);
    ck_assert_str_eq(e, "bad 7");
}
END_TEST

START_TEST(test_rng_reproducible_and_streams_independent)
{
    hp_rng_t a, b, c;
    hp_rng_init(&a, 42, 3);
    hp_rng_init(&b, 42, 3);
    hp_rng_init(&c, 42, 4);
    int same_c = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = hp_rng_u64(&a);
        ck_assert_uint_eq(x, hp_rng_u64(&b));
        same_c += x == hp_rng_u64(&c);
    }
    ck_assert_int_eq(same_c, 0);
    /* neighbouring (seed, stream) pairs must not alias */
    hp_rng_init(&a, 43, 3);
    hp_rng_init(&b, 42, 4);
    ck_assert_uint_ne(hp_rng_u64(&a), hp_rng_u64(&b));
}
END_TEST

START_TEST(test_rng_distributions)
{
    hp_rng_t r;
    hp_rng_init(&r, 1, 0);
    double sum = 0, sum2 = 0, nsum = 0, nsum2 = 0;
    int counts[10] = {0};
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = hp_rng_uniform(&r);
        ck_assert(u >= 0.0 && u < 1.0);
        sum += u;
        sum2 += u * u;
        counts[hp_rng_below(&r, 10)]++;
        double z = hp_rng_normal(&r);
        nsum += z;
        nsum2 += z * z;
    }
    ck_assert_double_eq_tol(sum / n, 0.5, 0.005);
    ck_assert_double_eq_tol(sum2 / n - (sum / n) * (sum / n), 1.0 / 12, 0.002);
    ck_assert_double_eq_tol(nsum / n, 0.0, 0.01);
    ck_assert_double_eq_tol(nsum2 / n, 1.0, 0.02);
    for (int k = 0; k < 10; k++)
        ck_assert_int_gt(counts[k], n / 10 - n / 100);
    uint32_t perm[50];
    for (uint32_t i = 0; i < 50; i++)
        perm[i] = i;
    hp_rng_shuffle_u32(&r, perm, 50);
    int seen[50] = {0};
    for (int i = 0; i < 50; i++)
        seen[perm[i]]++;
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(seen[i], 1);
}
END_TEST

START_TEST(test_buf_json)
{
    hp_buf_t b = {0};
    hp_buf_json_string(&b, "a\"b\\c\n\x01");
    ck_assert_str_eq(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
    hp_buf_reset(&b);
    hp_buf_json_number(&b, 0.1);
    hp_buf_putc(&b, ' ');
    hp_buf_json_number(&b, 256);
    hp_buf_putc(&b, ' ');
    hp_buf_json_number(&b, NAN);
    ck_assert_str_eq(b.data, "0.1 256 null");
    hp_buf_reset(&b);
    double v = 1.0 / 3.0;
    hp_buf_json_number(&b, v);
    ck_assert(strtod(b.data, NULL) == v);
    hp_buf_reset(&b);
    for (int i = 0; i < 1000; i++)
        hp_buf_printf(&b, "%04d", i);
    ck_assert_uint_eq(b.len, 4000);
    char *s = hp_buf_steal(&b);
    ck_assert_ptr_null(b.data);
    free(s);
}
END_TEST

START_TEST(test_diag_formats_and_limits)
{
    hp_diag_t d = {0};
    hp_diag_add(&d, "study.yaml", 7, "space.lr.low", "must be > 0 (got %g)", -1.0);
    hp_diag_add(&d, "", 0, "", "plain");
    ck_assert_str_eq(d.items[0].text, "study.yaml:7: space.lr.low: must be > 0 (got -1)");
    ck_assert_str_eq(d.items[1].text, "plain");
    ck_assert_ptr_nonnull(hp_diag_find(&d, "space.lr.low"));
    ck_assert_ptr_null(hp_diag_find(&d, "space.lr.high"));
    hp_diag_fini(&d);
    d.limit = 3;
    for (int i = 0; i < 10; i++)
        hp_diag_add(&d, "f", i, "p", "m");
    ck_assert_uint_eq(d.n, 3);
    ck_assert_uint_eq(d.dropped, 7);
    hp_diag_fini(&d);
}
END_TEST

START_TEST(test_vec_growth)
{
    /* doubling from the minimum, never shrinking, exact when it fits */
    ck_assert_uint_eq(hp_vec_next_cap(0, 1, 16), 16);
    ck_assert_uint_eq(hp_vec_next_cap(0, 17, 16), 32);
    ck_assert_uint_eq(hp_vec_next_cap(32, 20, 16), 32);
    ck_assert_uint_eq(hp_vec_next_cap(5, 6, 16), 10);
    HP_VEC(int) v = {0};
    for (int i = 0; i < 1000; i++)
        HP_VEC_PUSH(v, i * 3);
    ck_assert_uint_eq(v.n, 1000);
    ck_assert_uint_eq(v.cap, 1024);
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(v.v[i], i * 3);
    HP_VEC_RESERVE(v, 10); /* already holds it: nothing moves */
    ck_assert_uint_eq(v.cap, 1024);
    free(v.v);
    /* a size no allocation can hold fails cleanly and leaves the array */
    size_t cap = 4;
    char *p = hp_vec_grow(NULL, &cap, 4, 1, 0);
    ck_assert_ptr_null(p); /* nothing needed: still the caller's NULL */
    p = hp_vec_grow(NULL, &cap, 8, 1, 0);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(cap, 8);
    ck_assert_ptr_null(hp_vec_try_grow(p, &cap, (size_t)-1 / 2, 8, 0));
    ck_assert_uint_eq(cap, 8);
    free(p);
}
END_TEST

START_TEST(test_log_levels)
{
    ck_assert_int_eq(hp_log_level_parse("debug"), HP_LOG_DEBUG);
    ck_assert_int_eq(hp_log_level_parse("WARN"), HP_LOG_WARN);
    ck_assert_int_eq(hp_log_level_parse("loud"), -1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("common_base");
    TCase *tc = tcase_create("base");
    tcase_add_test(tc, test_strerror_covers_every_code);
    tcase_add_test(tc, test_rng_reproducible_and_streams_independent);
    tcase_add_test(tc, test_rng_distributions);
    tcase_add_test(tc, test_buf_json);
    tcase_add_test(tc, test_diag_formats_and_limits);
    tcase_add_test(tc, test_log_levels);
    tcase_add_test(tc, test_vec_growth);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_check_run(suite());
}
