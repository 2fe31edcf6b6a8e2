/* proto/tls.c without a network: which flags a URL needs, the host and
 * port a client checks the server's certificate against, and the files'
 * mistakes named at start (certificates from common/certs.c). */
#include "certs.h"
#include "err.h"
#include "tls_int.h"

#include "hp_check.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[128];
static char ca[256], crt[256], key[256], other_key[256];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/hp_tls.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char err[512];
    ck_assert_int_eq(hp_certs_init(dir, 0, err, sizeof err), 0);
    ck_assert_int_eq(hp_certs_issue(dir, "w1", NULL, 0, 0, err, sizeof err), 0);
    ck_assert_int_eq(hp_certs_issue(dir, "w2", NULL, 0, 0, err, sizeof err), 0);
    snprintf(ca, sizeof ca, "%s/ca.crt", dir);
    snprintf(crt, sizeof crt, "%s/w1.crt", dir);
    snprintf(key, sizeof key, "%s/w1.key", dir);
    snprintf(other_key, sizeof other_key, "%s/w2.key", dir);
}

static void teardown(void)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_flags_must_fit_the_urls)
{
    char err[512];
    hp_tls_files_t none = {0}, all = {ca, crt, key}, no_key = {ca, crt, NULL};
    const char *plain[] = {"tcp://h:1", "ipc:///x"};
    const char *mixed[] = {"tls+tcp://h:1", "ipc:///x"};
    ck_assert_int_eq(hp_tls_check_flags(&none, plain, 2, err, sizeof err), 0);
    ck_assert_int_eq(hp_tls_check_flags(&all, mixed, 2, err, sizeof err), 0);
    ck_assert_int_eq(hp_tls_check_flags(&no_key, mixed, 2, err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "tls+tcp://h:1 is a TLS URL but --tls-key is not given"), "%s", err);
    ck_assert_int_eq(hp_tls_check_flags(&none, mixed, 2, err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "--tls-ca is not given"), "%s", err);
    ck_assert_int_eq(hp_tls_check_flags(&all, plain, 2, err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "tcp://h:1 is not a TLS URL") && strstr(err, "use tls+tcp://h:1"),
                  "%s", err);
    const char *nothing[] = {NULL};
    ck_assert_int_eq(hp_tls_check_flags(&all, nothing, 1, err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "no tls+tcp:// URL"), "%s", err);
    ck_assert(hp_tls_url_is_tls("tls+tcp6://[::1]:5"));
    ck_assert(!hp_tls_url_is_tls("tcp://tls+tcp"));
}
END_TEST

START_TEST(test_the_host_a_client_checks)
{
    char host[64], port[16], err[256];
    ck_assert_int_eq(hp_tls_url_host("tls+tcp://head.example:7521", host, sizeof host, port,
                                     sizeof port, err, sizeof err), 0);
    ck_assert_str_eq(host, "head.example");
    ck_assert_str_eq(port, "7521");
    ck_assert_int_eq(hp_tls_url_host("tls+tcp://[fe80::1]:9", host, sizeof host, port,
                                     sizeof port, err, sizeof err), 0);
    ck_assert_str_eq(host, "fe80::1");
    ck_assert_str_eq(port, "9");
    ck_assert_int_eq(hp_tls_url_host("tls+tcp://nohost", host, sizeof host, port, sizeof port,
                                     err, sizeof err), HP_EINVAL);
    ck_assert_int_eq(hp_tls_url_host("tls+tcp://[::1", host, sizeof host, port, sizeof port,
                                     err, sizeof err), HP_EINVAL);
}
END_TEST

START_TEST(test_file_mistakes_are_named)
{
    char err[512], warn[512];
    hp_tls_t *t;
    hp_tls_files_t ok = {ca, crt, key};
    ck_assert_int_eq(hp_tls_new(&t, HP_TLS_CLIENT, &ok, warn, sizeof warn, err, sizeof err), 0);
    ck_assert_str_eq(warn, "");
    hp_tls_free(t);

    hp_tls_files_t missing = {"/nonexistent.crt", crt, key};
    ck_assert_int_eq(hp_tls_new(&t, HP_TLS_CLIENT, &missing, warn, sizeof warn, err, sizeof err),
                     HP_ENOENT);
    ck_assert_msg(strstr(err, "--tls-ca /nonexistent.crt: No such file"), "%s", err);

    hp_tls_files_t not_ca = {crt, crt, key};
    ck_assert_int_eq(hp_tls_new(&t, HP_TLS_CLIENT, &not_ca, warn, sizeof warn, err, sizeof err),
                     HP_EINVAL);
    ck_assert_msg(strstr(err, "not a CA certificate"), "%s", err);

    hp_tls_files_t wrong_key = {ca, crt, other_key};
    ck_assert_int_eq(hp_tls_new(&t, HP_TLS_SERVER, &wrong_key, warn, sizeof warn, err,
                                sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "is not the key of --tls-cert"), "%s", err);

    hp_tls_files_t key_as_cert = {ca, key, key};
    ck_assert_int_eq(hp_tls_new(&t, HP_TLS_SERVER, &key_as_cert, warn, sizeof warn, err,
                                sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "--tls-cert") && strstr(err, "not a PEM certificate"), "%s", err);

    /* a key others can read: a warning, not an error */
    ck_assert_int_eq(chmod(key, 0644), 0);
    ck_assert_int_eq(hp_tls_new(&t, HP_TLS_CLIENT, &ok, warn, sizeof warn, err, sizeof err), 0);
    ck_assert_msg(strstr(warn, "can be read by other users (chmod 600"), "%s", warn);
    hp_tls_free(t);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tls");
    TCase *tc = tcase_create("tls");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_flags_must_fit_the_urls);
    tcase_add_test(tc, test_the_host_a_client_checks);
    tcase_add_test(tc, test_file_mistakes_are_named);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return hp_check_run(suite()); }
