/* common/token.c, rundir.c and utf8.c's escaping: the token file made
 * once, private and whole; constant-time comparison; runtime records found
 * by URL (wildcard hosts under their loopback names) and removed only by
 * their owner; escaped log text. */
#define _GNU_SOURCE
#include "err.h"
#include "rundir.h"
#include "token.h"
#include "utf8.h"

#include "hp_check.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/hp-token-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_token_made_once_private)
{
    make_dir();
    char path[PATH_MAX], tok[HP_TOKEN_MAX + 1], again[HP_TOKEN_MAX + 1], err[512];
    char db[PATH_MAX];
    snprintf(db, sizeof db, "%s/x.db", dir);
    ck_assert_int_eq(hp_token_path_for_db(db, path, sizeof path), 0);
    ck_assert_ptr_nonnull(strstr(path, "/x.db.token"));
    size_t len, len2;
    int created;
    ck_assert_int_eq(hp_token_ensure(path, tok, sizeof tok, &len, &created, err, sizeof err), 0);
    ck_assert_int_eq(created, 1);
    ck_assert_uint_eq(len, 2 * HP_TOKEN_RANDOM_BYTES);
    ck_assert_uint_eq(strspn(tok, "0123456789abcdef"), len);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(hp_token_ensure(path, again, sizeof again, &len2, &created, err, sizeof err),
                     0);
    ck_assert_int_eq(created, 0);
    ck_assert_str_eq(again, tok);
    /* no temporary file left beside it */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test $(ls %s | wc -l) -eq 1", dir);
    ck_assert_int_eq(system(cmd), 0);
    chmod(path, 0640);
    ck_assert_int_eq(hp_token_ensure(path, again, sizeof again, &len2, &created, err, sizeof err),
                     HP_EAUTH);
    ck_assert_ptr_nonnull(strstr(err, "chmod 600"));
    /* reading: newline trimmed; empty and missing refused, naming the file */
    FILE *f = fopen(path, "w");
    fputs("\n", f);
    fclose(f);
    ck_assert_int_eq(hp_token_read(path, tok, sizeof tok, &len, err, sizeof err), HP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "is empty"));
    unlink(path);
    ck_assert_int_eq(hp_token_read(path, tok, sizeof tok, &len, err, sizeof err), HP_ENOENT);
    ck_assert_ptr_nonnull(strstr(err, path));
    remove_dir();
}
END_TEST

START_TEST(test_token_equal)
{
    ck_assert(hp_token_equal("secret", 6, "secret", 6));
    ck_assert(!hp_token_equal("secret", 6, "secreT", 6));
    ck_assert(!hp_token_equal("secret", 6, "secret2", 7));
    ck_assert(!hp_token_equal("", 0, "x", 1));
    ck_assert(hp_token_equal("", 0, "", 0));
    unsigned char a[32], b[32];
    char err[128];
    ck_assert_int_eq(hp_random_bytes(a, sizeof a, err, sizeof err), 0);
    ck_assert_int_eq(hp_random_bytes(b, sizeof b, err, sizeof err), 0);
    ck_assert(!hp_token_equal(a, sizeof a, b, sizeof b));
}
END_TEST

START_TEST(test_rundir_records)
{
    make_dir();
    char run[PATH_MAX], tokpath[PATH_MAX], found[PATH_MAX], err[512];
    snprintf(run, sizeof run, "%s/run", dir);
    setenv("HPSEARCH_RUNTIME_DIR", run, 1);
    unsetenv("HPSEARCH_TOKEN_FILE");
    snprintf(tokpath, sizeof tokpath, "%s/x.db.token", dir);
    FILE *f = fopen(tokpath, "w");
    fputs("the-token-0123456789\n", f);
    fclose(f);
    ck_assert_int_eq(hp_rundir_lookup("tcp://127.0.0.1:7522", found, sizeof found), HP_ENOENT);
    ck_assert_int_eq(hp_rundir_publish("tcp://0.0.0.0:7522", tokpath, err, sizeof err), 0);
    struct stat st;
    ck_assert_int_eq(stat(run, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);
    /* the wildcard listener is found under its loopback names */
    ck_assert_int_eq(hp_rundir_lookup("tcp://0.0.0.0:7522", found, sizeof found), 0);
    ck_assert_str_eq(found, tokpath);
    ck_assert_int_eq(hp_rundir_lookup("tcp://127.0.0.1:7522", found, sizeof found), 0);
    ck_assert_int_eq(hp_rundir_lookup("tcp://localhost:7522", found, sizeof found), 0);
    ck_assert_int_eq(hp_rundir_lookup("tcp://127.0.0.1:7523", found, sizeof found), HP_ENOENT);
    /* the lookup order: the flag, the environment, the record */
    char tok[HP_TOKEN_MAX + 1], from[PATH_MAX];
    size_t len;
    ck_assert_int_eq(hp_token_find("tcp://127.0.0.1:7522", NULL, tok, sizeof tok, &len, from,
                                   sizeof from, err, sizeof err),
                     0);
    ck_assert_str_eq(tok, "the-token-0123456789");
    ck_assert_str_eq(from, tokpath);
    setenv("HPSEARCH_TOKEN_FILE", "/nonexistent/token", 1);
    ck_assert_int_eq(hp_token_find("tcp://127.0.0.1:7522", NULL, tok, sizeof tok, &len, from,
                                   sizeof from, err, sizeof err),
                     HP_EIO);
    ck_assert_int_eq(hp_token_find("tcp://127.0.0.1:7522", tokpath, tok, sizeof tok, &len, from,
                                   sizeof from, err, sizeof err),
                     0);
    unsetenv("HPSEARCH_TOKEN_FILE");
    ck_assert_int_eq(hp_token_find("ipc:///nowhere", NULL, tok, sizeof tok, &len, from,
                                   sizeof from, err, sizeof err),
                     HP_ENOENT);
    ck_assert_uint_eq(len, 0);
    /* a loopback listener too, whichever of its names the client uses */
    ck_assert_int_eq(hp_rundir_publish("tcp://localhost:7600", tokpath, err, sizeof err), 0);
    ck_assert_int_eq(hp_rundir_lookup("tcp://127.0.0.1:7600", found, sizeof found), 0);
    hp_rundir_unpublish("tcp://localhost:7600");
    ck_assert_int_eq(hp_rundir_lookup("tcp://127.0.0.1:7600", found, sizeof found), HP_ENOENT);
    /* removed by the process that published it */
    hp_rundir_unpublish("tcp://0.0.0.0:7522");
    ck_assert_int_eq(hp_rundir_lookup("tcp://127.0.0.1:7522", found, sizeof found), HP_ENOENT);
    /* a runtime directory others can write is not used */
    chmod(run, 0777);
    ck_assert_int_eq(hp_rundir_publish("ipc:///x", tokpath, err, sizeof err), HP_EAUTH);
    ck_assert_ptr_nonnull(strstr(err, "not a private directory"));
    unsetenv("HPSEARCH_RUNTIME_DIR");
    remove_dir();
}
END_TEST

START_TEST(test_escape)
{
    char out[256];
    const char in[] = "a\nb\x1b[2J\x7f \xc2\x9b x\xff é";
    hp_utf8_escape(out, sizeof out, in, sizeof in - 1);
    ck_assert_str_eq(out, "a\\x0ab\\x1b[2J\\x7f \\xc2\\x9b x\\xff é");
    /* cut at a whole character or escape */
    char small[6];
    hp_utf8_escape(small, sizeof small, "ab\ncd", 5);
    ck_assert_str_eq(small, "ab");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("common_token");
    TCase *tc = tcase_create("token");
    tcase_add_test(tc, test_token_made_once_private);
    tcase_add_test(tc, test_token_equal);
    tcase_add_test(tc, test_rundir_records);
    tcase_add_test(tc, test_escape);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
