/* common/lockfile.c: the database lock, in one process. OFD locks conflict
 * between open file descriptions even within a process, so a second
 * hp_lockfile_acquire here is refused exactly as a second hpsearchd is. */
#include "err.h"
#include "lockfile.h"

#include "hp_check.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[128];

static void setup(void)
{
    hp_check_tmpdir(dir, sizeof dir, "hp_lockfile");
}

static void teardown(void)
{
    hp_check_rmdir(dir);
}

static const char *in_dir(const char *name)
{
    return hp_check_in(dir, name);
}

START_TEST(test_second_acquire_is_refused_with_the_holder)
{
    char db[256], err[1024], want[1024];
    snprintf(db, sizeof db, "%s", in_dir("studies.db"));
    hp_lock_owner_t me, other, holder;
    hp_lock_owner_self(&me, "hpsearchd");
    hp_lockfile_t a, b;
    ck_assert_int_eq(hp_lockfile_acquire(&a, db, &me, NULL, err, sizeof err), 0);
    ck_assert(a.held);
    /* the file beside the database names the holder */
    char *text = hp_check_slurp(in_dir("studies.db.lock"), 0);
    snprintf(want, sizeof want, "program=hpsearchd\npid=%ld\n", (long)getpid());
    ck_assert_msg(strncmp(text, want, strlen(want)) == 0, "%s", text);
    free(text);

    hp_lock_owner_self(&other, "hpsearchd");
    ck_assert_int_eq(hp_lockfile_acquire(&b, db, &other, &holder, err, sizeof err), HP_EBUSY);
    ck_assert(!b.held);
    ck_assert_str_eq(holder.program, "hpsearchd");
    ck_assert_int_eq(holder.pid, (long)getpid());
    char who[400];
    hp_lock_owner_describe(&me, who, sizeof who);
    snprintf(want, sizeof want, "database %s is in use by %s", db, who);
    ck_assert_str_eq(err, want);
    /* "(pid N, since HH:MM:SS)": the time of day, today, on this host */
    snprintf(want, sizeof want, "hpsearchd (pid %ld, since ", (long)getpid());
    ck_assert_msg(strncmp(who, want, strlen(want)) == 0, "%s", who);
    /* HH:MM:SS), or with the date if midnight passed in between */
    size_t rest = strlen(who) - strlen(want);
    ck_assert_msg(rest == 9 || rest == 20, "%s", who);
    ck_assert_int_eq(who[strlen(who) - 1], ')');

    /* a probe sees it held, and takes nothing */
    ck_assert_int_eq(hp_lockfile_probe(db, NULL, err, sizeof err), HP_EBUSY);
    ck_assert_ptr_nonnull(strstr(err, "is in use by hpsearchd (pid"));
    hp_lockfile_release(&a);
    hp_lockfile_release(&a); /* twice is harmless */
    ck_assert_int_eq(hp_lockfile_probe(db, NULL, err, sizeof err), 0);
    /* the file stays, and does not block the next holder */
    struct stat sb;
    ck_assert_int_eq(stat(in_dir("studies.db.lock"), &sb), 0);
    ck_assert_int_eq(hp_lockfile_acquire(&b, db, &other, NULL, err, sizeof err), 0);
    hp_lockfile_release(&b);
}
END_TEST

START_TEST(test_probe_without_a_lock_file_creates_nothing)
{
    char err[512];
    ck_assert_int_eq(hp_lockfile_probe(in_dir("none.db"), NULL, err, sizeof err), 0);
    struct stat sb;
    ck_assert_int_ne(stat(in_dir("none.db.lock"), &sb), 0);
}
END_TEST

/* a database in a directory that does not exist: said so, nothing made */
START_TEST(test_missing_directory_is_named)
{
    char err[1024], db[256], want[512];
    snprintf(db, sizeof db, "%s/no/such/x.db", dir);
    hp_lock_owner_t me;
    hp_lock_owner_self(&me, "hpsearchd");
    hp_lockfile_t lk;
    ck_assert_int_eq(hp_lockfile_acquire(&lk, db, &me, NULL, err, sizeof err), HP_ENOENT);
    snprintf(want, sizeof want, "cannot use the database %s: the directory %s/no/such does not "
             "exist", db, dir);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(lk.held, 0);
}
END_TEST

START_TEST(test_a_symlink_to_the_database_shares_its_lock)
{
    char err[1024];
    FILE *f = fopen(in_dir("real.db"), "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(symlink(in_dir("real.db"), in_dir("alias.db")), 0);
    hp_lock_owner_t me;
    hp_lock_owner_self(&me, "hpsearchd");
    hp_lockfile_t a, b;
    ck_assert_int_eq(hp_lockfile_acquire(&a, in_dir("real.db"), &me, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_lockfile_acquire(&b, in_dir("alias.db"), &me, NULL, err, sizeof err),
                     HP_EBUSY);
    /* named as the user gave it */
    char want[300];
    snprintf(want, sizeof want, "database %s is in use by hpsearchd", in_dir("alias.db"));
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
    hp_lockfile_release(&a);
}
END_TEST

START_TEST(test_owner_parse)
{
    hp_lock_owner_t o;
    char err[256];
    ck_assert_int_eq(hp_lock_owner_parse(&o, "hpsearch run:4242:1700000000", err, sizeof err), 0);
    ck_assert_str_eq(o.program, "hpsearch run");
    ck_assert_int_eq(o.pid, 4242);
    ck_assert(o.since == 1700000000.0);
    const char *bad[] = {"hpsearch run", "hpsearch run:4242", ":1:2", "x:0:1", "x:-3:1",
                         "x:12a:1", "x:1:", "x:1:now", "x:1:-5", "a\nb:1:2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(hp_lock_owner_parse(&o, bad[i], err, sizeof err) == HP_EINVAL, "%s",
                      bad[i]);
        ck_assert_ptr_nonnull(strstr(err, "lock-owner:"));
    }
    /* another host is named; a start on another day shows the date */
    hp_lock_owner_self(&o, "hpsearchd");
    o.pid = 7;
    snprintf(o.host, sizeof o.host, "elsewhere.invalid");
    o.since = 86400.0 * 365 * 10; /* 1979 */
    char who[400];
    hp_lock_owner_describe(&o, who, sizeof who);
    const char *want = "hpsearchd (pid 7 on elsewhere.invalid, since 1979-";
    ck_assert_msg(strncmp(who, want, strlen(want)) == 0, "%s", who);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lockfile");
    TCase *tc = tcase_create("lockfile");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_second_acquire_is_refused_with_the_holder);
    tcase_add_test(tc, test_probe_without_a_lock_file_creates_nothing);
    tcase_add_test(tc, test_a_symlink_to_the_database_shares_its_lock);
    tcase_add_test(tc, test_owner_parse);
    tcase_add_test(tc, test_missing_directory_is_named);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
