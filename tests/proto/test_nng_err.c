/* hp_err_from_nng: every code nng.h defines lands where we decided, and
 * what nng.h does not define lands on HP_EIO. A pure function: nothing
 * here starts nng. */
#include "nng_err.h"

#include "err.h"

#include "hp_check.h"

#include <check.h>
#include <errno.h>
#include <nng/nng.h>

static const struct {
    int nng;
    const char *name;
    int hp;
} table[] = {
    {0, "0", HP_OK},
    {NNG_EINTR, "NNG_EINTR", HP_ECANCELED},
    {NNG_ENOMEM, "NNG_ENOMEM", HP_ENOMEM},
    {NNG_EINVAL, "NNG_EINVAL", HP_EINVAL},
    {NNG_EBUSY, "NNG_EBUSY", HP_EBUSY},
    {NNG_ETIMEDOUT, "NNG_ETIMEDOUT", HP_ETIMEDOUT},
    {NNG_ECONNREFUSED, "NNG_ECONNREFUSED", HP_ECONNREFUSED},
    {NNG_ECLOSED, "NNG_ECLOSED", HP_ECLOSED},
    {NNG_EAGAIN, "NNG_EAGAIN", HP_EBUSY},
    {NNG_ENOTSUP, "NNG_ENOTSUP", HP_EINVAL},
    {NNG_EADDRINUSE, "NNG_EADDRINUSE", HP_EBUSY},
    {NNG_ESTATE, "NNG_ESTATE", HP_ESTATE},
    {NNG_ENOENT, "NNG_ENOENT", HP_ENOENT},
    {NNG_EPROTO, "NNG_EPROTO", HP_EPROTO},
    {NNG_EUNREACHABLE, "NNG_EUNREACHABLE", HP_ECONNREFUSED},
    {NNG_EADDRINVAL, "NNG_EADDRINVAL", HP_EINVAL},
    {NNG_EPERM, "NNG_EPERM", HP_EAUTH},
    {NNG_EMSGSIZE, "NNG_EMSGSIZE", HP_EPROTO},
    {NNG_ECONNABORTED, "NNG_ECONNABORTED", HP_ECLOSED},
    {NNG_ECONNRESET, "NNG_ECONNRESET", HP_ECLOSED},
    {NNG_ECANCELED, "NNG_ECANCELED", HP_ECANCELED},
    {NNG_ENOFILES, "NNG_ENOFILES", HP_EIO},
    {NNG_ENOSPC, "NNG_ENOSPC", HP_EIO},
    {NNG_EEXIST, "NNG_EEXIST", HP_EEXIST},
    {NNG_EREADONLY, "NNG_EREADONLY", HP_EREADONLY},
    {NNG_EWRITEONLY, "NNG_EWRITEONLY", HP_EINVAL},
    {NNG_ECRYPTO, "NNG_ECRYPTO", HP_EAUTH},
    {NNG_EPEERAUTH, "NNG_EPEERAUTH", HP_EAUTH},
    {NNG_ENOARG, "NNG_ENOARG", HP_EINVAL},
    {NNG_EAMBIGUOUS, "NNG_EAMBIGUOUS", HP_EINVAL},
    {NNG_EBADTYPE, "NNG_EBADTYPE", HP_EINVAL},
    {NNG_ECONNSHUT, "NNG_ECONNSHUT", HP_ECLOSED},
    {NNG_EINTERNAL, "NNG_EINTERNAL", HP_EIO},
};

START_TEST(test_every_code)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(table); i++)
        ck_assert_msg(hp_err_from_nng(table[i].nng) == table[i].hp, "%s -> %s, expected %s",
                      table[i].name, hp_strerror(hp_err_from_nng(table[i].nng)),
                      hp_strerror(table[i].hp));
}
END_TEST

/* the table above is every code nng.h's enum defines, 1..31 and
 * NNG_EINTERNAL: a code added by a newer nng shows up here */
START_TEST(test_table_is_complete)
{
    for (int rv = 1; rv <= NNG_ECONNSHUT; rv++) {
        int found = 0;
        for (size_t i = 0; i < HP_ARRAY_LEN(table); i++)
            found |= table[i].nng == rv;
        ck_assert_msg(found, "nng code %d (%s) is not in the table", rv, nng_strerror(rv));
    }
}
END_TEST

START_TEST(test_system_transport_and_unknown)
{
    /* an OS error rides in NNG_ESYSERR's low bits: I/O, whatever errno */
    ck_assert_int_eq(hp_err_from_nng(NNG_ESYSERR | ECONNREFUSED), HP_EIO);
    ck_assert_int_eq(hp_err_from_nng(NNG_ESYSERR | ENOMEM), HP_EIO);
    ck_assert_int_eq(hp_err_from_nng(NNG_ESYSERR), HP_EIO);
    ck_assert_int_eq(hp_err_from_nng(NNG_ETRANERR | 7), HP_EIO);
    /* codes nng does not define */
    ck_assert_int_eq(hp_err_from_nng(NNG_ECONNSHUT + 1), HP_EIO);
    ck_assert_int_eq(hp_err_from_nng(999), HP_EIO);
    ck_assert_int_eq(hp_err_from_nng(-1), HP_EIO);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("proto_nng_err");
    TCase *tc = tcase_create("nng_err");
    tcase_add_test(tc, test_every_code);
    tcase_add_test(tc, test_table_is_complete);
    tcase_add_test(tc, test_system_transport_and_unknown);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
