/*
 * store_fixture.h — shared by the store suites: a private temp directory per
 * test (made in a checked fixture, so inside Check's forked child) and
 * small helpers to build databases and read them back.
 */
#ifndef HP_TEST_STORE_FIXTURE_H
#define HP_TEST_STORE_FIXTURE_H

#include "err.h"
#include "store.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tdir[256];
static char dbpath[300];

static __attribute__((unused)) void tmp_setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tdir, sizeof tdir, "%s/hp-store-XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tdir));
    snprintf(dbpath, sizeof dbpath, "%s/hp.db", tdir);
}

static __attribute__((unused)) void tmp_teardown(void)
{
    DIR *d = opendir(tdir);
    if (d) {
        struct dirent *e;
        char p[600];
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            snprintf(p, sizeof p, "%s/%s", tdir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(tdir);
}

/* tmp_path returns a path inside the test's directory (static buffer). */
static __attribute__((unused)) const char *tmp_path(const char *name)
{
    static char p[600];
    snprintf(p, sizeof p, "%s/%s", tdir, name);
    return p;
}

/* open_rw opens dbpath read-write (creating it) or fails the test. */
static __attribute__((unused)) hp_store_t *open_rw(void)
{
    hp_store_t *st = NULL;
    char err[512] = "";
    int rc = hp_store_open(&st, dbpath, HP_STORE_CREATE, err, sizeof err);
    ck_assert_msg(rc == 0, "open %s: %s", dbpath, err);
    return st;
}

static __attribute__((unused)) int64_t make_study(hp_store_t *st, const char *name, hp_goal_t goal)
{
    hp_study_def_t def = {.name = name, .spec = "name: x\n", .spec_json = "{\"name\":\"x\"}",
                          .metric = "val_loss", .goal = goal, .max_trials = 10};
    int64_t id = 0;
    char err[512] = "";
    int rc = hp_store_study_create(st, &def, &id, err, sizeof err);
    ck_assert_msg(rc == 0, "create study %s: %s", name, err);
    return id;
}

static __attribute__((unused)) void make_worker(hp_store_t *st, const char *id)
{
    hp_worker_def_t w = {.id = id, .host = "node1", .cores = 4, .slots = 2,
                         .capabilities = "{\"models\":[\"mlp\"]}"};
    char err[512] = "";
    int rc = hp_store_worker_upsert(st, &w, err, sizeof err);
    ck_assert_msg(rc == 0, "worker %s: %s", id, err);
}

/* Collects hp_store_exec_query output as "a|b|c\n" lines (NULL as "NULL"),
 * header excluded. */
typedef struct rows {
    char text[16384];
    int nrows, ncol, headers;
} rows_t;

static __attribute__((unused)) int rows_cb(void *data, int ncol, const char *const *names,
                   const char *const *values, const int *types)
{
    rows_t *r = data;
    r->ncol = ncol;
    if (!values) {
        r->headers++;
        return 0;
    }
    size_t len = strlen(r->text);
    for (int i = 0; i < ncol; i++)
        len += (size_t)snprintf(r->text + len, sizeof r->text - len, "%s%s", i ? "|" : "",
                                values[i] ? values[i] : "NULL");
    snprintf(r->text + len, sizeof r->text - len, "\n");
    r->nrows++;
    return 0;
}

/* query runs sql on st and returns its rows as text (static buffer). */
static __attribute__((unused)) const char *query(hp_store_t *st, const char *sql)
{
    static rows_t r;
    memset(&r, 0, sizeof r);
    char err[512] = "";
    int rc = hp_store_exec_query(st, sql, rows_cb, &r, err, sizeof err);
    ck_assert_msg(rc == 0, "query %s: %s", sql, err);
    return r.text;
}

#endif
