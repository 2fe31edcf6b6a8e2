/*
 * hp_check.h — what every Check suite's main does, once.
 *
 *     int main(void) { return hp_check_run(my_suite()); }
 *
 * Runs the suite (CK_FORK from the environment: ctest sets CK_FORK=no for
 * suites that start nng or processes), prints Check's summary, and turns
 * the result into an exit status for ctest. Also what suites that run the
 * binaries share: reading a whole output file (hp_check_slurp), and a
 * private directory per test (hp_check_tmpdir, hp_check_rmdir, hp_check_in).
 */
#ifndef HP_CHECK_H
#define HP_CHECK_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline int hp_check_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* hp_check_slurp returns the whole file at path, NUL-terminated (free it).
 * A file that cannot be opened fails the test, or with missing_ok reads as
 * "". */
static inline char *hp_check_slurp(const char *path, int missing_ok)
{
    FILE *f = fopen(path, "rb");
    if (!f && missing_ok)
        return strdup("");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    size_t cap = 4096, n = 0, got;
    char *b = malloc(cap);
    while ((got = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap)
            b = realloc(b, cap *= 2);
    }
    b[n] = '\0';
    fclose(f);
    return b;
}

/* hp_check_tmpdir makes a new directory /tmp/PREFIX.XXXXXX into dir (its
 * size: cap bytes), failing the test if it cannot; hp_check_rmdir removes
 * it and everything in it. */
static inline void hp_check_tmpdir(char *dir, size_t cap, const char *prefix)
{
    snprintf(dir, cap, "/tmp/%s.XXXXXX", prefix);
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static inline void hp_check_rmdir(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* hp_check_in returns dir/name in one of 4 rotating buffers, so a call may
 * take a few paths at once. */
static inline const char *hp_check_in(const char *dir, const char *name)
{
    static char p[4][256];
    static int k;
    char *r = p[k++ % 4];
    snprintf(r, sizeof p[0], "%s/%s", dir, name);
    return r;
}

#endif
