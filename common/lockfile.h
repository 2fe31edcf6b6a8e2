/*
 * lockfile.h — one writer per database: an exclusive lock on a file beside
 * it, that hpsearchd takes before it opens (or creates, or migrates) the
 * database and holds for the rest of its life.
 *
 * The lock is an open-file-description lock (fcntl F_OFD_SETLK) on the
 * whole of "<db>.lock", where <db> is the database's path with symlinks
 * resolved (two names for one file take one lock). The kernel drops it
 * when the holder ends, however it ends — SIGKILL, a crash — so a lock
 * file left behind never blocks a restart. The file is never removed
 * (removing it would let two processes lock two different inodes under
 * one name); only the lock on it matters. Its text names the last holder
 * — program, pid, start time, host — so a second writer can say who holds
 * the database:
 *
 *     database studies.db is in use by hpsearchd (pid 4242, since 10:31:02)
 *
 * Readers never take it: `hpsearch sql --db`, `trials --db`, the sqlite3
 * shell read beside the writer through SQLite's WAL, and the store's
 * read-only opens know nothing of this file.
 *
 *     hp_lock_owner_t me;
 *     hp_lock_owner_self(&me, "hpsearchd");
 *     hp_lockfile_t lk;
 *     char err[1024];
 *     if (hp_lockfile_acquire(&lk, "studies.db", &me, err, sizeof err) < 0)
 *         die("%s", err);               // HP_EBUSY: in use; err says by whom
 *     ... open and write the database ...
 *     hp_lockfile_release(&lk);          // or just exit: the kernel drops it
 *
 * Plain POSIX I/O and no global state; one hp_lockfile_t is used from one
 * thread. Linux (OFD locks); on a network file system the lock is as good
 * as the file system's locking.
 */
#ifndef HP_LOCKFILE_H
#define HP_LOCKFILE_H

#include <stddef.h>

/* Who holds (or asks for) a database's lock. */
typedef struct hp_lock_owner {
    char program[64]; /* "hpsearchd", or "hpsearch run" for run's coordinator */
    long pid;
    double since;     /* unix seconds: when it started */
    char host[256];
} hp_lock_owner_t;

typedef struct hp_lockfile {
    int held;         /* 0 in a zeroed or released one */
    int fd;
    char path[4200];  /* the lock file's path */
} hp_lockfile_t;

/* hp_lock_owner_self fills o with this process: program, getpid(), the
 * current time and this host's name. */
void hp_lock_owner_self(hp_lock_owner_t *o, const char *program);

/* hp_lock_owner_parse reads "PROGRAM:PID:SINCE" (SINCE in unix seconds),
 * the form in which `hpsearch run` hands its identity to the hpsearchd it
 * starts, into o (host: this host). HP_EINVAL with err naming the problem. */
int hp_lock_owner_parse(hp_lock_owner_t *o, const char *text, char *err, size_t errlen);

/* hp_lock_owner_describe writes "hpsearchd (pid 4242, since 10:31:02)"
 * into out: the start time in local time, with the date when it is not
 * today, and " on HOST" when the holder runs on another host. */
void hp_lock_owner_describe(const hp_lock_owner_t *o, char *out, size_t outlen);

/* hp_lockfile_acquire takes db's lock for me, without waiting, and writes
 * me into the lock file (created beside db if missing, with db's
 * permissions when db exists). db is named in messages as given. Returns 0
 * (lk holds it until hp_lockfile_release or exit); HP_EBUSY when another
 * process holds it, err then being exactly "database DB is in use by
 * <holder>" (hp_lock_owner_describe), and *holder (may be NULL) filled;
 * HP_EIO etc. when the file cannot be made or locked. lk is zeroed on
 * failure. */
int hp_lockfile_acquire(hp_lockfile_t *lk, const char *db, const hp_lock_owner_t *me,
                        hp_lock_owner_t *holder, char *err, size_t errlen);

/* hp_lockfile_release drops the lock and closes the file (the file stays).
 * Safe on a zeroed or released lk. */
void hp_lockfile_release(hp_lockfile_t *lk);

/* hp_lockfile_probe says whether db's lock is held, without taking it and
 * without creating anything: 0 when it is free (or there is no lock file);
 * HP_EBUSY with err and *holder (may be NULL) as hp_lockfile_acquire's
 * when it is held; another hp_err when the file cannot be read. For
 * `hpsearch run`, which checks before it starts any child. */
int hp_lockfile_probe(const char *db, hp_lock_owner_t *holder, char *err, size_t errlen);

#endif
