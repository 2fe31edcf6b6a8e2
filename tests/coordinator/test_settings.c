/* hpsearchd's settings table: flags, config file, precedence, validation,
 * and the token made by default beside the database. */
#include "err.h"
#include "settings.h"

#include "hp_check.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/hp-settings-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

START_TEST(test_defaults_and_flags)
{
    hp_coord_config_t c;
    hp_settings_defaults(&c);
    ck_assert_str_eq(c.db, "hpsearch.db");
    ck_assert_str_eq(c.synchronous, "full");
    ck_assert_int_eq(c.lease_ms, 10000);
    char *argv[] = {"--db", "x.db", "--lease-ms=3000", "--log-level", "debug"};
    char err[256];
    ck_assert_int_eq(hp_settings_parse_args(&c, 5, argv, err, sizeof err), 0);
    ck_assert_str_eq(c.db, "x.db");
    ck_assert_int_eq(c.lease_ms, 3000);
    ck_assert_str_eq(c.log_level, "debug");
}
END_TEST

START_TEST(test_config_file_and_precedence)
{
    char *path = write_tmp("# a comment\n"
                           "db = from-file.db\n"
                           "lease-ms 4000   # trailing comment\n"
                           "\n"
                           "heartbeat-ms=500\n");
    char file[64];
    snprintf(file, sizeof file, "%s", path);
    hp_coord_config_t c;
    hp_settings_defaults(&c);
    /* the flag wins over the file even when it comes first */
    char *argv[] = {"--db", "flag.db", "--config", file};
    char err[256];
    ck_assert_int_eq(hp_settings_parse_args(&c, 4, argv, err, sizeof err), 0);
    ck_assert_str_eq(c.db, "flag.db");
    ck_assert_int_eq(c.lease_ms, 4000);
    ck_assert_int_eq(c.heartbeat_ms, 500);
    unlink(file);
}
END_TEST

START_TEST(test_errors_name_the_setting)
{
    hp_coord_config_t c;
    hp_settings_defaults(&c);
    char err[256];
    char *a1[] = {"--lease-ms", "ten"};
    ck_assert_int_eq(hp_settings_parse_args(&c, 2, a1, err, sizeof err), HP_EINVAL);
    ck_assert_str_eq(err, "lease-ms: expected a whole number (got 'ten')");
    char *a2[] = {"--lease-ms", "5"};
    ck_assert_int_eq(hp_settings_parse_args(&c, 2, a2, err, sizeof err), HP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "lease-ms: must be in 50..3600000 (got 5)"));
    char *a3[] = {"--colour", "blue"};
    ck_assert_int_eq(hp_settings_parse_args(&c, 2, a3, err, sizeof err), HP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "unknown setting 'colour'"));
    char *a4[] = {"--synchronous", "sometimes"};
    ck_assert_int_eq(hp_settings_parse_args(&c, 2, a4, err, sizeof err), HP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "synchronous: expected full or normal"));
    char *a5[] = {"--db"};
    ck_assert_int_eq(hp_settings_parse_args(&c, 1, a5, err, sizeof err), HP_EINVAL);
    ck_assert_str_eq(err, "--db needs a value");
    char *path = write_tmp("db x\nbogus 1\n");
    char file[64];
    snprintf(file, sizeof file, "%s", path);
    ck_assert_int_eq(hp_settings_load_file(&c, file, err, sizeof err), HP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, ":2: unknown setting 'bogus'"));
    unlink(file);
}
END_TEST

START_TEST(test_token_by_default)
{
    ck_assert(hp_url_is_local("tcp://127.0.0.1:7521"));
    ck_assert(hp_url_is_local("ipc:///tmp/x.sock"));
    ck_assert(hp_url_is_local("tcp://localhost:1"));
    ck_assert(hp_url_is_local("tcp://[::1]:1"));
    ck_assert(!hp_url_is_local("tcp://0.0.0.0:7521"));
    ck_assert(!hp_url_is_local("tcp://10.0.0.5:7521"));
    ck_assert(!hp_url_is_local("tcp://head-node:7521"));
    /* no --token-file: DB.token is made, 0600, and used again next time */
    char dir[] = "/tmp/hp-settings-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    hp_coord_config_t c;
    hp_settings_defaults(&c);
    snprintf(c.db, sizeof c.db, "%s/x.db", dir);
    snprintf(c.listen, sizeof c.listen, "tcp://0.0.0.0:7521");
    char err[512];
    ck_assert_int_eq(hp_settings_finish(&c, err, sizeof err), 0);
    ck_assert_int_eq(c.token_created, 1);
    ck_assert_uint_eq(c.token_len, 64);
    char tokpath[700];
    snprintf(tokpath, sizeof tokpath, "%s/x.db.token", dir);
    ck_assert_str_eq(c.token_path, tokpath);
    struct stat st;
    ck_assert_int_eq(stat(tokpath, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    char first[sizeof c.token];
    memcpy(first, c.token, sizeof first);
    hp_settings_defaults(&c);
    snprintf(c.db, sizeof c.db, "%s/x.db", dir);
    ck_assert_int_eq(hp_settings_finish(&c, err, sizeof err), 0);
    ck_assert_int_eq(c.token_created, 0);
    ck_assert_str_eq(c.token, first);
    /* one that others can read is refused, naming the fix */
    chmod(tokpath, 0644);
    hp_settings_defaults(&c);
    snprintf(c.db, sizeof c.db, "%s/x.db", dir);
    ck_assert_int_eq(hp_settings_finish(&c, err, sizeof err), HP_EAUTH);
    ck_assert_ptr_nonnull(strstr(err, "chmod 600"));
    unlink(tokpath);
    rmdir(dir);
    /* a given token file must hold enough */
    hp_settings_defaults(&c);
    char *path = write_tmp("short\n");
    snprintf(c.token_file, sizeof c.token_file, "%s", path);
    ck_assert_int_eq(hp_settings_finish(&c, err, sizeof err), HP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "at least 16"));
    unlink(path);
    path = write_tmp("0123456789abcdef-secret\n");
    snprintf(c.token_file, sizeof c.token_file, "%s", path);
    ck_assert_int_eq(hp_settings_finish(&c, err, sizeof err), 0);
    ck_assert_str_eq(c.token, "0123456789abcdef-secret");
    unlink(path);
    /* leases must outlive two heartbeats */
    hp_settings_defaults(&c);
    c.token_len = 0;
    path = write_tmp("0123456789abcdef-secret\n");
    snprintf(c.token_file, sizeof c.token_file, "%s", path);
    c.heartbeat_ms = 2000;
    c.lease_ms = 3000;
    ck_assert_int_eq(hp_settings_finish(&c, err, sizeof err), HP_EINVAL);
    unlink(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("coordinator_settings");
    TCase *tc = tcase_create("settings");
    tcase_add_test(tc, test_defaults_and_flags);
    tcase_add_test(tc, test_config_file_and_precedence);
    tcase_add_test(tc, test_errors_name_the_setting);
    tcase_add_test(tc, test_token_by_default);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
