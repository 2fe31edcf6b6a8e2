/*
 * The dashboard's request-line parser (coordinator/dash/url.h): segments
 * decoded, parameters checked, and every refusal naming its part.
 */
#include "err.h"
#include "hp_check.h"
#include "url.h"

#include <check.h>
#include <string.h>

static hp_dash_req_t R;
static char E[512];

static int parse(const char *uri)
{
    E[0] = '\0';
    return hp_dash_req_parse(&R, uri, E, sizeof E);
}

START_TEST(test_segments_decoded)
{
    ck_assert_int_eq(parse("/api/studies/my%20study/trials/3?limit=50&state=pruned"), 0);
    ck_assert_int_eq(R.nseg, 5);
    ck_assert_str_eq(R.seg[0], "api");
    ck_assert_str_eq(R.seg[2], "my study");
    ck_assert_str_eq(R.seg[4], "3");
    ck_assert_str_eq(hp_dash_req_param(&R, "state"), "pruned");
    ck_assert_ptr_null(hp_dash_req_param(&R, "offset"));
    /* '+' is a space in a value, not in a path; empty segments vanish */
    ck_assert_int_eq(parse("//studies/a+b/?metric=val+loss"), 0);
    ck_assert_int_eq(R.nseg, 2);
    ck_assert_str_eq(R.seg[1], "a+b");
    ck_assert_str_eq(hp_dash_req_param(&R, "metric"), "val loss");
    ck_assert_int_eq(parse("/"), 0);
    ck_assert_int_eq(R.nseg, 0);
}
END_TEST

START_TEST(test_refusals_name_their_part)
{
    static const struct {
        const char *uri, *param, *words;
    } bad[] = {
        {"/static/../etc/passwd", "", "path: '.' and '..' segments are refused"},
        {"/static/%2e%2e/x", "", "path: '.' and '..' segments are refused"},
        {"/a/./b", "", "'.' and '..'"},
        {"/static/..%2fx", "", "path: bad %-escape (or an encoded NUL or '/')"},
        {"/a%00b", "", "encoded NUL"},
        {"/a%4", "", "bad %-escape"},
        {"/a%zz", "", "bad %-escape"},
        {"api", "", "path: must start with '/'"},
        {"/x?limit=1&limit=2", "limit", "limit: given more than once"},
        {"/x?limit=%g0", "limit", "limit: bad %-escape in the value"},
        {"/x?a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9", "query", "query: more than 8 parameters"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_msg(parse(bad[i].uri) == HP_EINVAL, "%s accepted", bad[i].uri);
        ck_assert_msg(strstr(E, bad[i].words) != NULL, "%s: %s", bad[i].uri, E);
        ck_assert_str_eq(R.bad_param, bad[i].param);
    }
    char big[HP_DASH_MAX_URI + 10] = "/";
    memset(big + 1, 'a', HP_DASH_MAX_URI + 2);
    big[HP_DASH_MAX_URI + 3] = '\0';
    ck_assert_int_eq(parse(big), HP_EINVAL);
    ck_assert_ptr_nonnull(strstr(E, "longer than 2048 bytes"));
    char seg[400] = "/";
    memset(seg + 1, 'a', 300);
    seg[301] = '\0';
    ck_assert_int_eq(parse(seg), HP_EINVAL);
    ck_assert_ptr_nonnull(strstr(E, "path: a segment is longer than 256 bytes"));
    char val[400] = "/x?state=";
    memset(val + 9, 'a', 300);
    val[309] = '\0';
    ck_assert_int_eq(parse(val), HP_EINVAL);
    ck_assert_str_eq(E, "state: value longer than 256 bytes");
}
END_TEST

START_TEST(test_integers_and_names)
{
    long long v;
    ck_assert_int_eq(parse("/x?limit=50&offset=0"), 0);
    ck_assert_int_eq(hp_dash_req_int(&R, "limit", 100, 1, 5000, &v, E, sizeof E), 0);
    ck_assert_int_eq(v, 50);
    ck_assert_int_eq(hp_dash_req_int(&R, "absent", 7, 1, 5000, &v, E, sizeof E), 0);
    ck_assert_int_eq(v, 7);
    static const char *const bad[] = {"/x?limit=0", "/x?limit=5001", "/x?limit=1e3",
                                      "/x?limit=", "/x?limit=-1", "/x?limit=12abc",
                                      "/x?limit=99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_int_eq(parse(bad[i]), 0);
        ck_assert_msg(hp_dash_req_int(&R, "limit", 100, 1, 5000, &v, E, sizeof E) == HP_EINVAL,
                      "%s accepted", bad[i]);
        ck_assert_msg(strncmp(E, "limit: must be an integer from 1 to 5000 (got '", 47) == 0,
                      "%s", E);
    }
    static const char *const allowed[] = {"offset", "limit", NULL};
    ck_assert_int_eq(parse("/x?limit=1&token=secret"), 0);
    ck_assert_int_eq(hp_dash_req_check_names(&R, allowed, E, sizeof E), 0);
    ck_assert_int_eq(parse("/x?sort=value"), 0);
    ck_assert_int_eq(hp_dash_req_check_names(&R, allowed, E, sizeof E), HP_EINVAL);
    ck_assert_str_eq(E, "sort: unknown parameter (expected one of: offset, limit)");
    static const char *const none[] = {NULL};
    ck_assert_int_eq(hp_dash_req_check_names(&R, none, E, sizeof E), HP_EINVAL);
    ck_assert_str_eq(E, "sort: unknown parameter (this path takes none)");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dash_url");
    TCase *tc = tcase_create("url");
    tcase_add_test(tc, test_segments_decoded);
    tcase_add_test(tc, test_refusals_name_their_part);
    tcase_add_test(tc, test_integers_and_names);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
