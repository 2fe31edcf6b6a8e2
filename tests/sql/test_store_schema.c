/*
 * Tests for the database file itself: migrations build exactly
 * sql/schema.sql, a version-1 database upgrades with its data, newer or
 * foreign files are refused, and a writer killed with SIGKILL in the middle
 * of a grouped write leaves the last committed group intact and nothing of
 * the interrupted one.
 */
#include "hp_check.h"
#include "store_fixture.h"

#include <ctype.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* normalize makes two CREATE statements comparable: comments dropped,
 * identifier quotes dropped, whitespace collapsed and removed around
 * punctuation. String literals are kept as they are. */
static void normalize(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    int space = 0;
    for (const char *p = in; *p && n + 2 < cap;) {
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
            space = 1;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
            space = 1;
        } else if (*p == '\'') {
            if (space && n && !strchr("(,", out[n - 1]))
                out[n++] = ' ';
            space = 0;
            do {
                out[n++] = *p++;
            } while (*p && *p != '\'' && n + 2 < cap);
            if (*p)
                out[n++] = *p++;
        } else if (*p == '"') {
            p++;
        } else if (isspace((unsigned char)*p)) {
            space = 1;
            p++;
        } else {
            if (space && n && !strchr("(,", out[n - 1]) && !strchr("(),;", *p))
                out[n++] = ' ';
            space = 0;
            out[n++] = *p++;
        }
    }
    while (n && (out[n - 1] == ';' || out[n - 1] == ' '))
        n--;
    out[n] = 0;
}

/* dump_schema returns every schema object of the database at path as
 * "type name on table: normalized sql" lines, sorted, then the
 * user_version (malloc'd). */
static char *dump_schema(const char *path)
{
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s;
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT type, name, tbl_name, sql FROM sqlite_schema "
                                            "ORDER BY type, name", -1, &s, NULL), SQLITE_OK);
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(1, cap);
    static char norm[8192];
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *sql = (const char *)sqlite3_column_text(s, 3);
        normalize(sql ? sql : "(auto)", norm, sizeof norm);
        len += (size_t)snprintf(out + len, cap - len, "%s %s on %s: %s\n",
                                sqlite3_column_text(s, 0), sqlite3_column_text(s, 1),
                                sqlite3_column_text(s, 2), norm);
        ck_assert(len < cap);
    }
    sqlite3_finalize(s);
    ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
    snprintf(out + len, cap - len, "user_version %d\n", sqlite3_column_int(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
}

/* raw_exec runs sql on the file at path with plain SQLite. */
static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "");
    sqlite3_close(db);
}

/* assert_same_lines compares two dumps line by line so a failure names
 * the object that differs. */
static void assert_same_lines(const char *a, const char *b, const char *what)
{
    while (*a || *b) {
        size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
        ck_assert_msg(la == lb && memcmp(a, b, la) == 0, "%s differ:\n  %.*s\n  %.*s", what,
                      (int)la, a, (int)lb, b);
        a += la + (a[la] != 0);
        b += lb + (b[lb] != 0);
    }
}

START_TEST(test_migrations_build_exactly_schema_sql)
{
    ck_assert_int_ge(hp_store_migration_count(), 2);
    for (size_t i = 0; i < hp_store_migration_count(); i++)
        ck_assert_int_eq(hp_store_migration_get(i)->version, (int)i + 1);
    ck_assert_ptr_null(hp_store_migration_get(hp_store_migration_count()));

    /* schema.sql says which version it is, and it is the latest */
    char want[64];
    snprintf(want, sizeof want, "PRAGMA user_version = %d;", HP_STORE_SCHEMA_VERSION);
    ck_assert_ptr_nonnull(strstr(hp_store_schema_sql(), want));

    hp_store_t *st = open_rw(); /* a new file: every migration in turn */
    hp_store_close(st);
    raw_exec(tmp_path("from_schema.db"), hp_store_schema_sql());

    char *from_migrations = dump_schema(dbpath);
    char *from_schema = dump_schema(tmp_path("from_schema.db"));
    ck_assert_ptr_nonnull(strstr(from_schema, "table trials on trials: CREATE TABLE trials("));
    ck_assert_ptr_nonnull(strstr(from_schema, "index trials_pending on trials:"));
    assert_same_lines(from_migrations, from_schema, "migrations vs schema.sql");

    /* and the store accepts a database made by `sqlite3 x.db < schema.sql` */
    char err[512] = "";
    ck_assert_int_eq(hp_store_open(&st, tmp_path("from_schema.db"), 0, err, sizeof err), 0);
    make_study(st, "ok", HP_GOAL_MINIMIZE);
    hp_store_close(st);
    free(from_migrations);
    free(from_schema);
}
END_TEST

START_TEST(test_normalize)
{
    char out[256];
    normalize("CREATE TABLE \"t\" (\n  a INTEGER, -- note\n  b TEXT CHECK (b IN ('x  y'))\n, c REAL)",
              out, sizeof out);
    ck_assert_str_eq(out, "CREATE TABLE t(a INTEGER,b TEXT CHECK(b IN('x  y')),c REAL)");
}
END_TEST

START_TEST(test_upgrade_from_v1_keeps_data)
{
    /* a database as version 1 of hpsearch wrote it */
    const hp_store_migration_t *v1 = hp_store_migration_get(0);
    raw_exec(dbpath, v1->sql);
    raw_exec(dbpath,
             "PRAGMA user_version = 1;"
             "INSERT INTO studies (id, name, spec, spec_json, metric, goal, max_trials, state, created)"
             "  VALUES (1, 'old', 'name: old', '{\"name\":\"old\"}', 'acc', 'maximize', 4, 'running', 100.0);"
             "INSERT INTO trials (id, study_id, number, state, params, value, error, created, started, ended) VALUES"
             "  (1, 1, 0, 'completed', '{\"lr\":0.1}', 0.8, NULL, 101, 102, 110),"
             "  (2, 1, 1, 'failed', '{\"lr\":10}', NULL, 'loss is NaN', 101, 103, 104),"
             "  (3, 1, 2, 'running', '{\"lr\":0.01}', NULL, NULL, 101, 105, NULL),"
             "  (4, 1, 3, 'pending', '{\"lr\":0.5}', NULL, NULL, 101, NULL, NULL);"
             "INSERT INTO metrics (trial_id, step, name, value, time) VALUES"
             "  (1, 0, 'acc', 0.5, 106), (1, 1, 'acc', 0.8, 107), (3, 0, 'acc', 0.3, 108);"
             "INSERT INTO workers (id, host, cores, slots, capabilities, first_seen, last_seen, state)"
             "  VALUES ('w1', 'node1', 8, 2, '{}', 90, 109, 'alive');");

    char err[512] = "";
    hp_store_t *st = NULL;
    int rc = hp_store_open(&st, dbpath, 0, err, sizeof err);
    ck_assert_msg(rc == 0, "upgrade: %s", err);
    ck_assert_int_eq(hp_store_schema_version(st), HP_STORE_SCHEMA_VERSION);
    ck_assert_int_eq(hp_store_integrity_check(st, err, sizeof err), 0);
    ck_assert_str_eq(query(st, "SELECT count(*) FROM pragma_foreign_key_check"), "0\n");

    /* every row is there, unchanged */
    ck_assert_str_eq(query(st, "SELECT id, name, spec, metric, goal, max_trials, state, created, "
                               "ended, reason FROM studies"),
                     "1|old|name: old|acc|maximize|4|running|100|NULL|NULL\n");
    ck_assert_str_eq(query(st, "SELECT id, number, state, params, value, error, started, ended, "
                               "attempts, diagnosis FROM trials ORDER BY id"),
                     "1|0|completed|{\"lr\":0.1}|0.8|NULL|102|110|1|NULL\n"
                     "2|1|failed|{\"lr\":10}|NULL|loss is NaN|103|104|1|NULL\n"
                     "3|2|running|{\"lr\":0.01}|NULL|NULL|105|NULL|1|NULL\n"
                     "4|3|pending|{\"lr\":0.5}|NULL|NULL|NULL|NULL|0|NULL\n");
    ck_assert_str_eq(query(st, "SELECT trial_id, attempt, step, name, value, time FROM metrics "
                               "ORDER BY trial_id, step"),
                     "1|1|0|acc|0.5|106\n1|1|1|acc|0.8|107\n3|1|0|acc|0.3|108\n");
    ck_assert_str_eq(query(st, "SELECT id, host, cores, slots, first_seen, last_seen FROM workers"),
                     "w1|node1|8|2|90|109\n");
    /* started trials got their attempt, the lease is -trial id */
    ck_assert_str_eq(query(st, "SELECT trial_id, attempt, worker_id, lease_id, started, ended, "
                               "outcome, error FROM trial_attempts ORDER BY trial_id"),
                     "1|1|NULL|-1|102|110|completed|NULL\n"
                     "2|1|NULL|-2|103|104|failed|loss is NaN\n"
                     "3|1|NULL|-3|105|NULL|running|NULL\n");

    /* the API works on the upgraded data: best, and the running v1 trial
     * can be re-queued under its carried-over lease and re-run */
    hp_trial_t t;
    ck_assert_int_eq(hp_store_trial_best(st, 1, &t, err, sizeof err), 0);
    ck_assert_int_eq(t.id, 1);
    hp_trial_fini(&t);
    ck_assert_int_eq(hp_store_trial_get(st, 3, &t, err, sizeof err), 0);
    ck_assert_int_eq(t.lease_id, -3);
    ck_assert_int_eq(hp_store_trial_requeue(st, 3, t.lease_id, HP_ATTEMPT_LOST, "upgrade", err,
                                            sizeof err), 0);
    hp_trial_fini(&t);
    ck_assert_int_eq(hp_store_trial_start(st, 3, "w1", 500, 0, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_complete(st, 3, 500, 0.9, err, sizeof err), 0);
    int64_t num;
    ck_assert_int_eq(hp_store_trial_create(st, 1, "{}", NULL, &num, err, sizeof err), 0);
    ck_assert_int_eq(num, 4);
    hp_store_close(st);

    /* the upgraded schema is the current one */
    raw_exec(tmp_path("fresh.db"), hp_store_schema_sql());
    char *upgraded = dump_schema(dbpath), *fresh = dump_schema(tmp_path("fresh.db"));
    assert_same_lines(upgraded, fresh, "upgraded vs schema.sql");
    free(upgraded);
    free(fresh);
    /* opening again is a no-op */
    ck_assert_int_eq(hp_store_open(&st, dbpath, 0, err, sizeof err), 0);
    ck_assert_str_eq(query(st, "SELECT count(*) FROM trial_attempts"), "4\n");
    hp_store_close(st);
}
END_TEST

/* Version 2 -> 3: every row stays; existing studies have no dataset key
 * (their trials keep their own baseline metrics), and new studies can
 * store baselines. */
START_TEST(test_upgrade_from_v2_keeps_data)
{
    raw_exec(dbpath, hp_store_migration_get(0)->sql);
    raw_exec(dbpath, hp_store_migration_get(1)->sql);
    raw_exec(dbpath,
             "PRAGMA user_version = 2;"
             "INSERT INTO studies (id, name, spec, spec_json, metric, goal, max_trials, state, created, reason)"
             "  VALUES (1, 'old', 'name: old', '{\"name\":\"old\"}', 'val_error', 'minimize', 2, 'completed', 100.0, NULL);"
             "INSERT INTO workers (id, host, cores, slots, capabilities, first_seen, last_seen, state)"
             "  VALUES ('w1', 'node1', 8, 2, '{}', 90, 109, 'alive');"
             "INSERT INTO trials (id, study_id, number, state, params, value, created, started, ended, attempts, diagnosis)"
             "  VALUES (1, 1, 0, 'completed', '{\"lr\":0.1}', 0.2, 101, 102, 110, 1, 'healthy');"
             "INSERT INTO trial_attempts (trial_id, attempt, worker_id, lease_id, started, ended, outcome)"
             "  VALUES (1, 1, 'w1', 7, 102, 110, 'completed');"
             "INSERT INTO metrics (trial_id, step, name, value, time, attempt) VALUES"
             "  (1, -1, 'baseline_linear_error', 0.16, 110, 1), (1, 1, 'val_error', 0.2, 109, 1);"
             "INSERT INTO events (time, kind, study_id, message) VALUES (100, 'study_submitted', 1, 'old.yaml');");

    char err[512] = "";
    hp_store_t *st = NULL;
    int rc = hp_store_open(&st, dbpath, 0, err, sizeof err);
    ck_assert_msg(rc == 0, "upgrade: %s", err);
    ck_assert_int_eq(hp_store_schema_version(st), HP_STORE_SCHEMA_VERSION);
    ck_assert_int_eq(hp_store_integrity_check(st, err, sizeof err), 0);
    ck_assert_str_eq(query(st, "SELECT count(*) FROM pragma_foreign_key_check"), "0\n");
    ck_assert_str_eq(query(st, "SELECT id, name, state, created, dataset_key FROM studies"),
                     "1|old|completed|100|NULL\n");
    ck_assert_str_eq(query(st, "SELECT id, state, value, attempts, diagnosis FROM trials"),
                     "1|completed|0.2|1|healthy\n");
    ck_assert_str_eq(query(st, "SELECT trial_id, attempt, worker_id, lease_id, outcome "
                               "FROM trial_attempts"),
                     "1|1|w1|7|completed\n");
    ck_assert_str_eq(query(st, "SELECT step, name, value FROM metrics ORDER BY step"),
                     "-1|baseline_linear_error|0.16\n1|val_error|0.2\n");
    ck_assert_str_eq(query(st, "SELECT kind, message FROM events"), "study_submitted|old.yaml\n");
    ck_assert_str_eq(query(st, "SELECT count(*) FROM baselines"), "0\n");
    hp_study_t s;
    ck_assert_int_eq(hp_store_study_get(st, 1, &s, err, sizeof err), 0);
    ck_assert_ptr_null(s.dataset_key);
    hp_study_fini(&s);

    /* and carries on: a new study with a key stores its baselines */
    hp_study_def_t def = {.name = "new", .spec = "name: new\n", .spec_json = "{}",
                          .metric = "val_error", .max_trials = 1, .dataset_key = "k"};
    int64_t id, trial;
    ck_assert_int_eq(hp_store_study_create(st, &def, &id, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_create(st, id, "{}", &trial, NULL, err, sizeof err), 0);
    hp_baseline_def_t b = {.dataset_key = "k", .name = "linear_model", .error = 0.15,
                           .study_id = id, .trial_id = trial};
    ck_assert_int_eq(hp_store_baseline_put(st, &b, NULL, err, sizeof err), 0);
    ck_assert_str_eq(query(st, "SELECT s.name, b.name, b.error FROM studies s "
                               "JOIN baselines b USING (dataset_key)"),
                     "new|linear_model|0.15\n");
    hp_store_close(st);

    raw_exec(tmp_path("fresh.db"), hp_store_schema_sql());
    char *upgraded = dump_schema(dbpath), *fresh = dump_schema(tmp_path("fresh.db"));
    assert_same_lines(upgraded, fresh, "upgraded from 2 vs schema.sql");
    free(upgraded);
    free(fresh);
}
END_TEST

/* Version 3 -> 4: trial_attempts is rebuilt (its outcome may now be
 * 'interrupted', and it keeps a program's stdout and stderr) with every
 * row, id and index; trials gain origin, 'sampler' for the old ones. */
START_TEST(test_upgrade_from_v3_keeps_attempts)
{
    for (int i = 0; i < 3; i++)
        raw_exec(dbpath, hp_store_migration_get(i)->sql);
    raw_exec(dbpath,
             "PRAGMA user_version = 3;"
             "INSERT INTO studies (id, name, spec, spec_json, metric, goal, max_trials, state, created)"
             "  VALUES (1, 'old', 'name: old', '{\"name\":\"old\"}', 'loss', 'minimize', 2, 'running', 100.0);"
             "INSERT INTO workers (id, host, cores, slots, capabilities, first_seen, last_seen, state)"
             "  VALUES ('w1', 'node1', 8, 2, '{}', 90, 109, 'alive');"
             "INSERT INTO trials (id, study_id, number, state, params, value, error, created, started, ended, attempts)"
             "  VALUES (1, 1, 0, 'completed', '{\"x\":1}', 0.5, NULL, 101, 102, 110, 2),"
             "         (2, 1, 1, 'running', '{\"x\":2}', NULL, NULL, 111, 112, NULL, 1);"
             "INSERT INTO trial_attempts (id, trial_id, attempt, worker_id, lease_id, lease_expires, started, ended, outcome, error)"
             "  VALUES (5, 1, 1, 'w1', 7, 120, 102, 104, 'lost', 'worker 1 silent'),"
             "         (6, 1, 2, 'w1', 8, 130, 105, 110, 'completed', NULL),"
             "         (9, 2, 1, 'w1', 11, 140, 112, NULL, 'running', NULL);");
    char err[512] = "";
    hp_store_t *st = NULL;
    int rc = hp_store_open(&st, dbpath, 0, err, sizeof err);
    ck_assert_msg(rc == 0, "upgrade: %s", err);
    ck_assert_int_eq(hp_store_schema_version(st), HP_STORE_SCHEMA_VERSION);
    ck_assert_int_eq(hp_store_integrity_check(st, err, sizeof err), 0);
    ck_assert_str_eq(query(st, "SELECT count(*) FROM pragma_foreign_key_check"), "0\n");
    ck_assert_str_eq(query(st, "SELECT id, trial_id, attempt, worker_id, lease_id, lease_expires, "
                               "started, ended, outcome, error, stdout, stderr "
                               "FROM trial_attempts ORDER BY id"),
                     "5|1|1|w1|7|120|102|104|lost|worker 1 silent|NULL|NULL\n"
                     "6|1|2|w1|8|130|105|110|completed|NULL|NULL|NULL\n"
                     "9|2|1|w1|11|140|112|NULL|running|NULL|NULL|NULL\n");
    ck_assert_str_eq(query(st, "SELECT id, origin FROM trials ORDER BY id"),
                     "1|sampler\n2|sampler\n");
    hp_store_close(st);
    /* what migration 4 allows, and still refuses */
    raw_exec(dbpath, "UPDATE trial_attempts SET outcome = 'interrupted', ended = 113 WHERE id = 9;"
                     "UPDATE trials SET origin = 'enqueued' WHERE id = 2;");
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "UPDATE trials SET origin = 'guessed' WHERE id = 2", NULL,
                                  NULL, NULL),
                     SQLITE_CONSTRAINT);
    ck_assert_int_eq(sqlite3_exec(db, "UPDATE trial_attempts SET outcome = 'paused' WHERE id = 9",
                                  NULL, NULL, NULL),
                     SQLITE_CONSTRAINT);
    sqlite3_close(db);

    raw_exec(tmp_path("fresh.db"), hp_store_schema_sql());
    char *upgraded = dump_schema(dbpath), *fresh = dump_schema(tmp_path("fresh.db"));
    assert_same_lines(upgraded, fresh, "upgraded from 3 vs schema.sql");
    free(upgraded);
    free(fresh);
}
END_TEST

START_TEST(test_newer_version_refused)
{
    hp_store_t *st = open_rw();
    make_study(st, "s", HP_GOAL_MINIMIZE);
    hp_store_close(st);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", HP_STORE_SCHEMA_VERSION + 1);
    raw_exec(dbpath, sql);

    char err[512] = "", want[128];
    ck_assert_int_eq(hp_store_open(&st, dbpath, 0, err, sizeof err), HP_EVERSION);
    ck_assert_ptr_null(st);
    snprintf(want, sizeof want, "schema version %d is newer than this hpsearch supports (version %d)",
             HP_STORE_SCHEMA_VERSION + 1, HP_STORE_SCHEMA_VERSION);
    ck_assert_msg(strstr(err, want), "message: %s", err);
    ck_assert_ptr_nonnull(strstr(err, dbpath));
    err[0] = 0;
    ck_assert_int_eq(hp_store_open(&st, dbpath, HP_STORE_READONLY, err, sizeof err), HP_EVERSION);
    ck_assert_ptr_nonnull(strstr(err, want));
    /* refusing did not touch the file */
    char *after = dump_schema(dbpath);
    snprintf(want, sizeof want, "user_version %d\n", HP_STORE_SCHEMA_VERSION + 1);
    ck_assert_ptr_nonnull(strstr(after, want));
    free(after);
}
END_TEST

START_TEST(test_older_version_readonly_refused)
{
    raw_exec(dbpath, hp_store_migration_get(0)->sql);
    raw_exec(dbpath, "PRAGMA user_version = 1");
    char err[512] = "";
    hp_store_t *st = NULL;
    ck_assert_int_eq(hp_store_open(&st, dbpath, HP_STORE_READONLY, err, sizeof err), HP_EVERSION);
    ck_assert_ptr_nonnull(strstr(err, "schema version 1 is older"));
    ck_assert_ptr_nonnull(strstr(err, "read-write once"));
}
END_TEST

START_TEST(test_not_a_database_refused)
{
    const char junk[] = "this is a YAML study spec, not a database\nname: x\n";
    char content[4096];
    memset(content, 'z', sizeof content);
    memcpy(content, junk, sizeof junk - 1);
    FILE *f = fopen(dbpath, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(content, 1, sizeof content, f), sizeof content);
    fclose(f);

    char err[512] = "";
    hp_store_t *st = NULL;
    for (int ro = 0; ro < 2; ro++) {
        err[0] = 0;
        unsigned flags = ro ? HP_STORE_READONLY : HP_STORE_CREATE;
        ck_assert_int_eq(hp_store_open(&st, dbpath, flags, err, sizeof err), HP_ECORRUPT);
        ck_assert_ptr_null(st);
        ck_assert_msg(strstr(err, "not an SQLite database"), "message: %s", err);
        ck_assert_ptr_nonnull(strstr(err, dbpath));
    }
    /* the file is left as it was */
    char back[sizeof content];
    f = fopen(dbpath, "rb");
    ck_assert_uint_eq(fread(back, 1, sizeof back, f), sizeof back);
    fclose(f);
    ck_assert(memcmp(back, content, sizeof back) == 0);

    /* an SQLite database of something else */
    raw_exec(tmp_path("other.db"), "CREATE TABLE notes (t TEXT)");
    ck_assert_int_eq(hp_store_open(&st, tmp_path("other.db"), 0, err, sizeof err), HP_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "not an hpsearch database"));
    /* an empty file is a new database for a writer, nothing for a reader */
    f = fopen(tmp_path("empty.db"), "wb");
    fclose(f);
    ck_assert_int_eq(hp_store_open(&st, tmp_path("empty.db"), HP_STORE_READONLY, err, sizeof err),
                     HP_ECORRUPT);
    ck_assert_int_eq(hp_store_open(&st, tmp_path("empty.db"), 0, err, sizeof err), 0);
    hp_store_close(st);
    ck_assert_int_eq(hp_store_open(&st, "", 0, err, sizeof err), HP_EINVAL);
}
END_TEST

/* ---- crash safety ------------------------------------------------ */

#define A_TRIALS 50

static off_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? sb.st_size : 0;
}

/* writer is the child: commits group A, then writes group B until its
 * uncommitted pages spill into the WAL, tells the parent, and keeps
 * writing until it is killed. */
static void writer(int fd)
{
    hp_store_t *st = NULL;
    char err[512];
    if (hp_store_open(&st, dbpath, HP_STORE_CREATE, err, sizeof err) < 0)
        _exit(2);
    hp_worker_def_t w = {.id = "w1", .host = "h", .slots = 1};
    hp_study_def_t def = {.name = "crash", .spec = "s", .spec_json = "{}", .metric = "loss"};
    int64_t study, trial = 0;
    int ok = hp_store_begin(st, err, sizeof err) == 0 &&
             hp_store_worker_upsert(st, &w, err, sizeof err) == 0 &&
             hp_store_study_create(st, &def, &study, err, sizeof err) == 0;
    for (int i = 0; ok && i < A_TRIALS; i++)
        ok = hp_store_trial_create(st, study, "{\"group\":\"A\"}", &trial, NULL, err,
                                   sizeof err) == 0;
    ok = ok && hp_store_trial_start(st, trial, "w1", 1, 0, NULL, err, sizeof err) == 0 &&
         hp_store_commit(st, err, sizeof err) == 0;
    if (!ok)
        _exit(3);

    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", dbpath);
    off_t committed = file_size(wal);
    if (hp_store_begin(st, err, sizeof err) < 0)
        _exit(4);
    int told = 0;
    for (int64_t i = 0;; i++) {
        if (hp_store_trial_create(st, study, "{\"group\":\"B\",\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxx"
                                             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
                                  NULL, NULL, err, sizeof err) < 0)
            _exit(5);
        hp_metric_t m = {trial, 1, i, "loss", 1.0 / (double)(i + 1)};
        if (hp_store_metric_append(st, &m, err, sizeof err) < 0)
            _exit(6);
        /* mid-transaction, with B's pages already in the WAL file */
        if (!told && (file_size(wal) > committed + 64 * 1024 || i == 200000)) {
            /* 'B': B's pages are in the WAL; 'b': they never spilled */
            if (write(fd, file_size(wal) > committed + 64 * 1024 ? "B" : "b", 1) != 1)
                _exit(7);
            told = 1;
        }
    }
}

START_TEST(test_sigkill_mid_group_keeps_last_commit)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[0]);
        writer(p[1]);
        _exit(1);
    }
    close(p[1]);
    char c = 0;
    ssize_t n = read(p[0], &c, 1);
    close(p[0]);
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(n == 1 && c == 'B', "child did not reach group B (status %d)", status);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    ck_assert_int_gt(file_size(tmp_path("hp.db-wal")), 0);

    hp_store_t *st = open_rw();
    char err[512] = "";
    ck_assert_msg(hp_store_integrity_check(st, err, sizeof err) == 0, "%s", err);
    char want[32];
    snprintf(want, sizeof want, "%d\n", A_TRIALS);
    ck_assert_str_eq(query(st, "SELECT count(*) FROM trials "
                               "WHERE json_extract(params, '$.group') = 'A'"), want);
    ck_assert_str_eq(query(st, "SELECT count(*) FROM trials "
                               "WHERE json_extract(params, '$.group') = 'B'"), "0\n");
    ck_assert_str_eq(query(st, "SELECT count(*) FROM metrics"), "0\n");
    ck_assert_str_eq(query(st, "SELECT state, attempts FROM trials ORDER BY number DESC LIMIT 1"),
                     "running|1\n");
    ck_assert_str_eq(query(st, "SELECT count(*) FROM pragma_foreign_key_check"), "0\n");
    /* and the database carries on */
    hp_trial_t t;
    ck_assert_int_eq(hp_store_trial_get_by_number(st, 1, A_TRIALS - 1, &t, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_complete(st, t.id, 1, 0.5, err, sizeof err), 0);
    hp_trial_fini(&t);
    int64_t num;
    ck_assert_int_eq(hp_store_trial_create(st, 1, "{}", NULL, &num, err, sizeof err), 0);
    ck_assert_int_eq(num, A_TRIALS);
    hp_store_close(st);
}
END_TEST

static Suite *schema_suite(void)
{
    Suite *s = suite_create("store_schema");
    TCase *tc = tcase_create("file");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, test_normalize);
    tcase_add_test(tc, test_migrations_build_exactly_schema_sql);
    tcase_add_test(tc, test_upgrade_from_v1_keeps_data);
    tcase_add_test(tc, test_upgrade_from_v2_keeps_data);
    tcase_add_test(tc, test_upgrade_from_v3_keeps_attempts);
    tcase_add_test(tc, test_newer_version_refused);
    tcase_add_test(tc, test_older_version_readonly_refused);
    tcase_add_test(tc, test_not_a_database_refused);
    tcase_add_test(tc, test_sigkill_mid_group_keeps_last_commit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_check_run(schema_suite());
}
