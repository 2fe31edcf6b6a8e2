/*
 * store.c — opening the database (pragmas, version check, migrations),
 * grouped writes, the statement cache and the SQLite error boundary.
 * Read-only queries for people are in store_query.c.
 */
#include "store_int.h"

#include "err.h"
#include "log.h"
#include "vec.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- the error boundary --------------------------------------------- */

int hp_err_from_sqlite(int rc)
{
    switch (rc) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return 0;
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return HP_EEXIST;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return HP_ENOENT;
    case SQLITE_AUTH:
        return HP_EINVAL;
    }
    switch (rc & 0xff) {
    case SQLITE_NOMEM:
        return HP_ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return HP_EBUSY;
    case SQLITE_READONLY:
        return HP_EREADONLY;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
        return HP_EINVAL;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        return HP_ECORRUPT;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
        return HP_EIO;
    case SQLITE_INTERRUPT:
    case SQLITE_ABORT:
        return HP_ECANCELED;
    case SQLITE_PERM:
        return HP_EREADONLY;
    default:
        return HP_EDB;
    }
}

int hp_store_sqlerr(hp_store_t *st, int rc, char *err, size_t errlen,
                    const char *fmt, ...)
{
    if (err && errlen) {
        char what[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        const char *msg = st && st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc);
        snprintf(err, errlen, "%s: %s", what, msg);
    }
    int code = hp_err_from_sqlite(rc);
    return code ? code : HP_EDB;
}

/* ---- small helpers -------------------------------------------------- */

double hp_store_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double hp_store_clock(hp_store_t *st)
{
    return st->clock ? st->clock(st->clock_data) : hp_store_now();
}

void hp_store_set_clock(hp_store_t *st, double (*fn)(void *data), void *data)
{
    st->clock = fn;
    st->clock_data = data;
}

int hp_store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
    return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s, i);
}

int hp_store_bind_time(sqlite3_stmt *s, int i, double t)
{
    return t != 0 ? sqlite3_bind_double(s, i, t) : sqlite3_bind_null(s, i);
}

int hp_store_bind_real(sqlite3_stmt *s, int i, double v)
{
    return isnan(v) ? sqlite3_bind_null(s, i) : sqlite3_bind_double(s, i, v);
}

char *hp_store_col_dup(sqlite3_stmt *s, int i, int *oom)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    if (!t)
        return NULL;
    char *d = strdup((const char *)t);
    if (!d)
        *oom = 1;
    return d;
}

double hp_store_col_time(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? 0 : sqlite3_column_double(s, i);
}

sqlite3 *hp_store_reader(hp_store_t *st)
{
    return st->readonly ? st->db : NULL;
}

const char *hp_store_path(const hp_store_t *st)
{
    return st->path;
}

int hp_store_schema_version(const hp_store_t *st)
{
    return st->version;
}

int hp_store_in_group(const hp_store_t *st)
{
    return st->in_group;
}

/* ---- statement cache ------------------------------------------------ */

sqlite3_stmt *hp_store_stmt(hp_store_t *st, enum hp_store_q q, const char *sql,
                            int *rcp, char *err, size_t errlen)
{
    HP_ASSERT(q >= 0 && q < Q_COUNT_);
    sqlite3_stmt *s = st->stmt[q];
    if (s) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        return s;
    }
    int rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
    if (rc != SQLITE_OK) {
        int code = hp_store_sqlerr(st, rc, err, errlen, "%s: preparing statement",
                                   st->path);
        if (rcp)
            *rcp = code;
        return NULL;
    }
    st->stmt[q] = s;
    return s;
}

int hp_store_step_done(hp_store_t *st, sqlite3_stmt *s, const char *what, char *err,
                       size_t errlen)
{
    int rc = sqlite3_step(s);
    int code = 0;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        code = hp_store_sqlerr(st, rc, err, errlen, "%s", what);
    sqlite3_reset(s);
    return code;
}

int hp_store_read_rows(hp_store_t *st, sqlite3_stmt *s, const hp_store_rows_t *rows,
                       int (*each)(void *data, void *row), void *data, char *err,
                       size_t errlen)
{
    char *all = NULL;
    size_t n = 0, cap = 0;
    int code = 0, rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        char *p = hp_vec_try_grow(all, &cap, n + 1, rows->size, rows->min_cap);
        if (!p) {
            code = hp_errf(err, errlen, HP_ENOMEM, "out of memory");
            break;
        }
        all = p;
        if ((code = rows->read(s, all + n * rows->size, err, errlen)) < 0)
            break;
        n++;
    }
    if (code == 0 && rc != SQLITE_DONE)
        code = hp_store_sqlerr(st, rc, err, errlen, "%s", rows->what);
    sqlite3_reset(s);
    for (size_t i = 0; i < n; i++) {
        if (code == 0)
            code = each(data, all + i * rows->size);
        rows->fini(all + i * rows->size);
    }
    free(all);
    return code;
}

/* run executes a cached statement that returns no rows (transaction
 * control, mostly). */
static int run(hp_store_t *st, enum hp_store_q q, const char *sql, const char *what,
               char *err, size_t errlen)
{
    int rc = HP_EDB;
    sqlite3_stmt *s = hp_store_stmt(st, q, sql, &rc, err, errlen);
    if (!s)
        return rc;
    return hp_store_step_done(st, s, what, err, errlen);
}

/* ---- groups and per-operation transactions -------------------------- */

static int readonly_err(hp_store_t *st, const char *what, char *err, size_t errlen)
{
    return hp_errf(err, errlen, HP_EREADONLY, "%s: opened read-only; cannot %s",
                   st->path, what);
}

int hp_store_begin(hp_store_t *st, char *err, size_t errlen)
{
    if (st->readonly)
        return readonly_err(st, "begin a write group", err, errlen);
    if (st->in_group)
        return hp_errf(err, errlen, HP_ESTATE, "%s: a write group is already open",
                       st->path);
    int rc = run(st, Q_BEGIN, "BEGIN IMMEDIATE", "begin write group", err, errlen);
    if (rc == 0)
        st->in_group = 1;
    return rc;
}

int hp_store_commit(hp_store_t *st, char *err, size_t errlen)
{
    if (!st->in_group)
        return hp_errf(err, errlen, HP_ESTATE, "%s: no write group to commit", st->path);
    st->in_group = 0;
    int rc = run(st, Q_COMMIT, "COMMIT", "commit write group", err, errlen);
    if (rc < 0 && !sqlite3_get_autocommit(st->db))
        run(st, Q_ROLLBACK, "ROLLBACK", "rollback", NULL, 0);
    return rc;
}

int hp_store_rollback(hp_store_t *st, char *err, size_t errlen)
{
    if (!st->in_group)
        return 0;
    st->in_group = 0;
    if (sqlite3_get_autocommit(st->db))
        return 0; /* SQLite already rolled back (e.g. after an I/O error) */
    return run(st, Q_ROLLBACK, "ROLLBACK", "rollback write group", err, errlen);
}

int hp_store_read_begin(hp_store_t *st, char *err, size_t errlen)
{
    if (st->in_group || st->op_depth)
        return hp_errf(err, errlen, HP_ESTATE, "%s: a transaction is already open", st->path);
    return run(st, Q_READ_BEGIN, "BEGIN DEFERRED", "begin a read", err, errlen);
}

void hp_store_read_end(hp_store_t *st)
{
    if (!sqlite3_get_autocommit(st->db))
        run(st, Q_READ_END, "COMMIT", "end a read", NULL, 0);
}

uint64_t hp_store_study_changes(const hp_store_t *st) { return st->study_changes; }

/* SQLite calls this for each row a statement of this connection inserts,
 * updates or deletes: the changes a status reader must see are counted. */
static void update_hook(void *data, int op, const char *dbname, const char *table,
                        sqlite3_int64 rowid)
{
    (void)op;
    (void)dbname;
    (void)rowid;
    hp_store_t *st = data;
    if (strcmp(table, "trials") == 0 || strcmp(table, "studies") == 0)
        st->study_changes++;
}

/* An operation inside a group, or inside another operation (one store
 * function made of others), is a savepoint of it; the outermost is its
 * own transaction. */
int hp_store_op_begin(hp_store_t *st, const char *what, char *err, size_t errlen)
{
    if (st->readonly)
        return readonly_err(st, what, err, errlen);
    int rc = st->in_group || st->op_depth
                 ? run(st, Q_SAVEPOINT, "SAVEPOINT hp_op", what, err, errlen)
                 : run(st, Q_BEGIN, "BEGIN IMMEDIATE", what, err, errlen);
    if (rc == 0)
        st->op_depth++;
    return rc;
}

int hp_store_op_end(hp_store_t *st, int rc, char *err, size_t errlen)
{
    if (st->op_depth > 0)
        st->op_depth--;
    if (st->in_group || st->op_depth) {
        if (rc < 0) {
            run(st, Q_ROLLBACK_TO, "ROLLBACK TO hp_op", "rollback", NULL, 0);
            run(st, Q_RELEASE, "RELEASE hp_op", "release", NULL, 0);
            return rc;
        }
        return run(st, Q_RELEASE, "RELEASE hp_op", "commit", err, errlen);
    }
    if (rc == 0) {
        rc = run(st, Q_COMMIT, "COMMIT", "commit", err, errlen);
        if (rc == 0)
            return 0;
    }
    if (!sqlite3_get_autocommit(st->db))
        run(st, Q_ROLLBACK, "ROLLBACK", "rollback", NULL, 0);
    return rc;
}

/* ---- opening -------------------------------------------------------- */

/* query_int runs a one-row, one-column query (pragmas, counts) without
 * caching it. */
static int query_int(hp_store_t *st, const char *sql, int64_t *out, char *err,
                     size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(s, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_OK && rc != SQLITE_DONE)
        return hp_store_sqlerr(st, rc, err, errlen, "%s: %s", st->path, sql);
    return 0;
}

static int exec(hp_store_t *st, const char *sql, char *err, size_t errlen)
{
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return hp_store_sqlerr(st, rc, err, errlen, "%s: %s", st->path, sql);
    return 0;
}

static int newer_err(hp_store_t *st, int64_t v, char *err, size_t errlen)
{
    return hp_errf(err, errlen, HP_EVERSION,
                   "%s: database schema version %" PRId64
                   " is newer than this hpsearch supports (version %d); "
                   "use the hpsearch that wrote it or a newer one",
                   st->path, v, HP_STORE_SCHEMA_VERSION);
}

/* apply runs one migration in its own transaction, unless another
 * connection got there first. */
static int apply(hp_store_t *st, const hp_store_migration_t *m, char *err,
                 size_t errlen)
{
    int rc = exec(st, "BEGIN IMMEDIATE", err, errlen);
    if (rc < 0)
        return rc;
    int64_t v = 0;
    rc = query_int(st, "PRAGMA user_version", &v, err, errlen);
    if (rc == 0 && v > HP_STORE_SCHEMA_VERSION)
        rc = newer_err(st, v, err, errlen);
    if (rc == 0 && v < m->version) {
        char *msg = NULL;
        int src = sqlite3_exec(st->db, m->sql, NULL, NULL, &msg);
        if (src != SQLITE_OK) {
            rc = hp_errf(err, errlen, hp_err_from_sqlite(src) ? hp_err_from_sqlite(src) : HP_EDB,
                         "%s: migration %s failed: %s", st->path, m->name,
                         msg ? msg : sqlite3_errstr(src));
            sqlite3_free(msg);
        }
        if (rc == 0) {
            /* PRAGMA takes no bound parameters; version is our own integer */
            char sql[64];
            snprintf(sql, sizeof sql, "PRAGMA user_version = %d", m->version);
            rc = exec(st, sql, err, errlen);
        }
        int64_t bad = 0;
        if (rc == 0)
            rc = query_int(st, "SELECT count(*) FROM pragma_foreign_key_check", &bad, err,
                           errlen);
        if (rc == 0 && bad)
            rc = hp_errf(err, errlen, HP_ECORRUPT,
                         "%s: migration %s left %" PRId64 " broken foreign keys",
                         st->path, m->name, bad);
    }
    if (rc == 0)
        rc = exec(st, "COMMIT", err, errlen);
    if (rc < 0) {
        if (!sqlite3_get_autocommit(st->db))
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    if (v < m->version)
        hp_log_debug("%s: applied migration %s", st->path, m->name);
    return 0;
}

static int migrate(hp_store_t *st, int64_t from, char *err, size_t errlen)
{
    for (size_t i = 0; i < hp_store_migration_count(); i++) {
        const hp_store_migration_t *m = hp_store_migration_get(i);
        if (m->version <= from)
            continue;
        int rc = apply(st, m, err, errlen);
        if (rc < 0)
            return rc;
    }
    if (from > 0)
        hp_log_info("%s: schema upgraded from version %" PRId64 " to %d", st->path, from,
                    HP_STORE_SCHEMA_VERSION);
    return 0;
}

/* check_version reads user_version — the first read of the file, so this is
 * also where a file that is not a database shows — and refuses versions the
 * handle cannot use. */
static int check_version(hp_store_t *st, int64_t *version, char *err, size_t errlen)
{
    int64_t v = 0, objects = 0;
    int rc = query_int(st, "PRAGMA user_version", &v, err, errlen);
    if (rc == 0)
        rc = query_int(st, "SELECT count(*) FROM sqlite_schema", &objects, err, errlen);
    if (rc == HP_ECORRUPT)
        return hp_errf(err, errlen, HP_ECORRUPT,
                       "%s: not an SQLite database (or a damaged one): %s", st->path,
                       sqlite3_errmsg(st->db));
    if (rc < 0)
        return rc;
    if (v > HP_STORE_SCHEMA_VERSION)
        return newer_err(st, v, err, errlen);
    if (v == 0 && (objects > 0 || st->readonly))
        return hp_errf(err, errlen, HP_ECORRUPT,
                       "%s: not an hpsearch database (%s, schema version 0)", st->path,
                       objects ? "it holds other tables" : "it is empty");
    if (st->readonly && v < HP_STORE_SCHEMA_VERSION)
        return hp_errf(err, errlen, HP_EVERSION,
                       "%s: database schema version %" PRId64
                       " is older than this hpsearch's (version %d); open it "
                       "read-write once (e.g. start hpsearchd on it) to upgrade",
                       st->path, v, HP_STORE_SCHEMA_VERSION);
    *version = v;
    return 0;
}

/* SQLite calls this after each commit on a HP_STORE_MANUAL_CHECKPOINT
 * handle with the WAL's size in pages. */
static int wal_hook(void *data, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    hp_store_t *st = data;
    st->wal_pages = pages > 0 ? (unsigned)pages : 0;
    return SQLITE_OK;
}

static int configure(hp_store_t *st, char *err, size_t errlen)
{
    if (st->readonly)
        return exec(st, "PRAGMA query_only = ON", err, errlen);

    /* WAL: readers (hpsearch sql, the dashboard) never block the writer. */
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(s, 0);
        rc = mode && strcasecmp(mode, "wal") == 0 ? SQLITE_OK : SQLITE_CANTOPEN;
        if (rc != SQLITE_OK)
            hp_errf(err, errlen, HP_EIO,
                    "%s: cannot use WAL journaling here (journal_mode is %s); "
                    "put the database on a local file system",
                    st->path, mode ? mode : "unknown");
        sqlite3_finalize(s);
        if (rc != SQLITE_OK)
            return HP_EIO;
    } else {
        sqlite3_finalize(s);
        return hp_store_sqlerr(st, rc, err, errlen, "%s: setting WAL mode", st->path);
    }
    /* FULL by default: in WAL mode it fsyncs the WAL on every commit, so a
     * committed (and acknowledged) result survives power loss and OS
     * crashes; NORMAL survives process crashes only. Writes are grouped per
     * loop tick, so this costs one fsync per tick, not per trial. */
    rc = exec(st,
              (st->flags & HP_STORE_SYNC_NORMAL) ? "PRAGMA synchronous = NORMAL"
                                                 : "PRAGMA synchronous = FULL",
              err, errlen);
    if (rc == 0)
        rc = exec(st, "PRAGMA foreign_keys = ON", err, errlen);
    if (rc == 0)
        sqlite3_update_hook(st->db, update_hook, st);
    if (rc == 0 && (st->flags & HP_STORE_MANUAL_CHECKPOINT)) {
        rc = exec(st, "PRAGMA wal_autocheckpoint = 0", err, errlen);
        /* after the pragma, which would clear it: the owner reads the
         * WAL's size after each commit to checkpoint on time */
        if (rc == 0)
            sqlite3_wal_hook(st->db, wal_hook, st);
    }
    /* a WAL that grew while a reader held it back shrinks again when it
     * restarts */
    if (rc == 0) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA journal_size_limit = %d", HP_STORE_WAL_LIMIT);
        rc = query_int(st, sql, &(int64_t){0}, err, errlen);
    }
    return rc;
}

int hp_store_open(hp_store_t **out, const char *path, unsigned flags, char *err,
                  size_t errlen)
{
    *out = NULL;
    if (!path || !*path)
        return hp_errf(err, errlen, HP_EINVAL, "no database path given");
    int ro = (flags & HP_STORE_READONLY) != 0;
    if ((ro || !(flags & HP_STORE_CREATE)) && access(path, F_OK) != 0)
        return hp_errf(err, errlen, HP_ENOENT, "%s: no such database", path);

    hp_store_t *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(path))) {
        free(st);
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    }
    st->flags = flags;
    st->readonly = ro;

    int oflags = SQLITE_OPEN_NOMUTEX |
                 (ro ? SQLITE_OPEN_READONLY
                     : SQLITE_OPEN_READWRITE | ((flags & HP_STORE_CREATE) ? SQLITE_OPEN_CREATE : 0));
    int rc = sqlite3_open_v2(path, &st->db, oflags, NULL);
    if (rc != SQLITE_OK) {
        rc = hp_store_sqlerr(st, rc, err, errlen, "%s: cannot open", path);
        hp_store_close(st);
        return rc;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, HP_STORE_BUSY_TIMEOUT_MS);
    /* user queries must not reach other files */
    sqlite3_limit(st->db, SQLITE_LIMIT_ATTACHED, 0);

    int64_t v = 0;
    rc = check_version(st, &v, err, errlen);
    if (rc == 0)
        rc = configure(st, err, errlen);
    if (rc == 0 && !ro && v < HP_STORE_SCHEMA_VERSION) {
        rc = migrate(st, v, err, errlen);
        v = HP_STORE_SCHEMA_VERSION;
    }
    if (rc < 0) {
        hp_store_close(st);
        return rc;
    }
    st->version = (int)v;
    *out = st;
    return 0;
}

void hp_store_close(hp_store_t *st)
{
    if (!st)
        return;
    if (st->in_group)
        hp_store_rollback(st, NULL, 0);
    for (int i = 0; i < Q_COUNT_; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    free(st->path);
    free(st);
}

int hp_store_checkpoint(hp_store_t *st, int truncate, char *err, size_t errlen)
{
    if (st->readonly)
        return readonly_err(st, "checkpoint", err, errlen);
    if (st->in_group)
        return hp_errf(err, errlen, HP_ESTATE, "%s: cannot checkpoint inside a write group",
                       st->path);
    int rc = sqlite3_wal_checkpoint_v2(
        st->db, NULL, truncate ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE,
        NULL, NULL);
    if (rc != SQLITE_OK)
        return hp_store_sqlerr(st, rc, err, errlen, "%s: checkpoint", st->path);
    return 0;
}

/* check runs PRAGMA integrity_check or quick_check (named by what). */
static int check(hp_store_t *st, const char *pragma, const char *what, char *err,
                 size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, pragma, -1, &s, NULL);
    int code = 0;
    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(s, 0);
        if (!r || strcmp(r, "ok") != 0) {
            /* one line: the first complaint, and how many more (SQLite
             * puts them in one text, a line each, then further rows) */
            const char *text = r ? r : "no answer";
            /* past the "*** in database main ***" heading to the problem */
            if (strncmp(text, "*** in database", 15) == 0 && strchr(text, '\n'))
                text = strchr(text, '\n') + 1;
            size_t first = strcspn(text, "\n");
            char line[256];
            snprintf(line, sizeof line, "%.*s", (int)first, text);
            long more = 0;
            for (const char *q = text + first; *q; q++)
                more += *q == '\n' && q[1];
            while (sqlite3_step(s) == SQLITE_ROW) /* r is invalid from here */
                more++;
            char tail[64] = "";
            if (more)
                snprintf(tail, sizeof tail, " (and %ld more problem%s)", more,
                         more == 1 ? "" : "s");
            code = hp_errf(err, errlen, HP_ECORRUPT, "%s: %s: %s%s", st->path, what, line,
                           tail);
        }
    } else {
        code = hp_store_sqlerr(st, rc, err, errlen, "%s: %s", st->path, what);
        /* a page that cannot be read at all is damage too */
        if (code == HP_EDB || code == HP_EIO)
            code = HP_ECORRUPT;
    }
    sqlite3_finalize(s);
    return code;
}

int hp_store_integrity_check(hp_store_t *st, char *err, size_t errlen)
{
    return check(st, "PRAGMA integrity_check", "integrity check", err, errlen);
}

int hp_store_quick_check(hp_store_t *st, char *err, size_t errlen)
{
    return check(st, "PRAGMA quick_check", "quick check", err, errlen);
}

/* Opens path for writing, without creating it: 0, or the errno (ENOENT
 * when there is no such file). */
static int try_write(const char *path)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return errno;
    close(fd);
    return 0;
}

int hp_store_check_writable(const char *path, char *err, size_t errlen)
{
    if (!path || !*path)
        return hp_errf(err, errlen, HP_EINVAL, "no database path given");
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return hp_errf(err, errlen, HP_ENOENT, "database folder %s does not exist", dir);
    /* the folder first: on a read-only mount the file is read-only too,
     * and the folder is what to move */
    char probe[PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/.hpsearch-probe-XXXXXX", dir);
    int fd = mkstemp(probe);
    if (fd < 0)
        return hp_errf(err, errlen, HP_EREADONLY,
                       "database folder %s is read-only (cannot create a file in it: %s); "
                       "SQLite creates the database's -wal and -shm files there",
                       dir, strerror(errno));
    close(fd);
    unlink(probe);
    /* then the file and its companions: the folder may be writable while
     * they are not */
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < HP_ARRAY_LEN(suffixes); i++) {
        char p[PATH_MAX + 8];
        snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
        int e = try_write(p);
        if (e && e != ENOENT)
            return hp_errf(err, errlen, HP_EREADONLY,
                           "database file %s is read-only (cannot open it for writing: %s)", p,
                           strerror(e));
    }
    return 0;
}

void hp_store_interrupt(hp_store_t *st)
{
    sqlite3_interrupt(st->db);
}

unsigned hp_store_wal_pages(const hp_store_t *st)
{
    return st->wal_pages;
}

int hp_store_checkpoint_stats(hp_store_t *st, int *log, int *done, char *err, size_t errlen)
{
    if (st->readonly)
        return readonly_err(st, "checkpoint", err, errlen);
    int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, log, done);
    if (rc != SQLITE_OK)
        return hp_store_sqlerr(st, rc, err, errlen, "%s: checkpoint", st->path);
    return 0;
}
