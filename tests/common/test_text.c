/* common/suggest (did you mean) and common/utf8 (bytes made text). */
#include "buf.h"
#include "err.h"
#include "suggest.h"
#include "utf8.h"

#include "hp_check.h"

#include <check.h>
#include <string.h>

START_TEST(test_suggest_closest)
{
    static const char *const names[] = {"branin", "branin-bayes", "mnist-lr", "status"};
    size_t n = HP_ARRAY_LEN(names);
    ck_assert_str_eq(hp_suggest_closest("brannin", 7, names, n), "branin");
    ck_assert_str_eq(hp_suggest_closest("branin-bayse", 12, names, n), "branin-bayes");
    ck_assert_str_eq(hp_suggest_closest("mnist_lr", 8, names, n), "mnist-lr");
    ck_assert_str_eq(hp_suggest_closest("staus", 5, names, n), "status");
    /* two edits of a short word change most of it: no guess */
    static const char *const short_words[] = {"lr", "fc1"};
    ck_assert_ptr_null(hp_suggest_closest("wd", 2, short_words, 2));
    ck_assert_ptr_null(hp_suggest_closest("act", 3, short_words, 2));
    ck_assert_ptr_null(hp_suggest_closest("zzz", 3, names, n));
    ck_assert_ptr_null(hp_suggest_closest("x", 1, NULL, 0));
    /* s need not be NUL-terminated; of equally close words the first */
    ck_assert_str_eq(hp_suggest_closest("statusXYZ", 5, names, n), "status");
    static const char *const ties[] = {"abcd", "abce"};
    ck_assert_str_eq(hp_suggest_closest("abcf", 4, ties, 2), "abcd");
    char hint[64];
    hp_suggest_hint(hint, sizeof hint, "brannin", 7, names, n);
    ck_assert_str_eq(hint, " (did you mean 'branin'?)");
    hp_suggest_hint(hint, sizeof hint, "zzz", 3, names, n);
    ck_assert_str_eq(hint, "");
    /* long words are compared too (study names reach 63 characters) */
    char a[100], b[100];
    memset(a, 'q', 99);
    a[99] = 0;
    memcpy(b, a, 100);
    b[50] = 'r';
    const char *longs[] = {b};
    ck_assert_ptr_eq(hp_suggest_closest(a, 99, longs, 1), b);
}
END_TEST

START_TEST(test_utf8_repair)
{
    hp_buf_t b = {0};
    ck_assert_uint_eq(hp_utf8_repair(&b, "", 0), 0);
    ck_assert_str_eq(b.data, "");
    hp_buf_reset(&b);
    /* valid text, 1- to 4-byte characters, is copied as it is */
    static const char ok[] = "plain \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";
    ck_assert_uint_eq(hp_utf8_repair(&b, ok, sizeof ok - 1), 0);
    ck_assert_str_eq(b.data, ok);
    hp_buf_reset(&b);
    /* each bad byte becomes U+FFFD: stray continuation, lone lead bytes,
     * an overlong, a surrogate, beyond U+10FFFF, a cut sequence, NUL */
    static const char bad[] = "a\x80" "b\xFF\xFE" "c\xC0\xAF" "d\xED\xA0\x80" "e\xF4\x90\x80\x80"
                              "f\0g\xE2\x82";
    size_t n = hp_utf8_repair(&b, bad, sizeof bad - 1);
    ck_assert_uint_eq(n, 1 + 2 + 2 + 3 + 4 + 1 + 2);
    ck_assert_uint_eq(strlen(b.data), b.len); /* no NUL inside */
    static const char want[] = "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD"
                               "c\xEF\xBF\xBD\xEF\xBF\xBD" "d\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                               "e\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                               "f\xEF\xBF\xBDg\xEF\xBF\xBD\xEF\xBF\xBD";
    ck_assert_str_eq(b.data, want);
    /* whatever comes in, what comes out is valid */
    hp_buf_reset(&b);
    unsigned char all[512];
    for (size_t i = 0; i < sizeof all; i++)
        all[i] = (unsigned char)(i * 37 + 11);
    hp_utf8_repair(&b, all, sizeof all);
    for (size_t i = 0; i < b.len;) {
        size_t l = hp_utf8_valid_len((const unsigned char *)b.data + i, b.len - i);
        ck_assert_uint_gt(l, 0);
        i += l;
    }
    hp_buf_fini(&b);
}
END_TEST

static Suite *text_suite(void)
{
    Suite *s = suite_create("common_text");
    TCase *tc = tcase_create("text");
    tcase_add_test(tc, test_suggest_closest);
    tcase_add_test(tc, test_utf8_repair);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return hp_check_run(text_suite()); }
