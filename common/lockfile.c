/* One writer per database: the lock on "<db>.lock" and the holder it
 * names. See lockfile.h. */
#define _GNU_SOURCE /* F_OFD_SETLK, F_OFD_GETLK */
#include "lockfile.h"

#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How long a reader waits for the text of a holder that has just taken
 * the lock and not yet written it (a few system calls, normally). */
#define HOLDER_TEXT_TRIES 50
#define HOLDER_TEXT_NAP_NS 2000000L

void hp_lock_owner_self(hp_lock_owner_t *o, const char *program)
{
    memset(o, 0, sizeof *o);
    snprintf(o->program, sizeof o->program, "%s", program);
    o->pid = (long)getpid();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    o->since = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
    if (gethostname(o->host, sizeof o->host) != 0)
        o->host[0] = '\0';
    o->host[sizeof o->host - 1] = '\0';
}

int hp_lock_owner_parse(hp_lock_owner_t *o, const char *text, char *err, size_t errlen)
{
    hp_lock_owner_self(o, "");
    const char *c2 = strrchr(text, ':');
    const char *c1 = NULL;
    for (const char *p = text; c2 && p < c2; p++)
        if (*p == ':')
            c1 = p;
    if (!c1)
        return hp_errf(err, errlen, HP_EINVAL,
                       "lock-owner: expected PROGRAM:PID:SINCE (got '%s')", text);
    size_t plen = (size_t)(c1 - text);
    if (plen == 0 || plen >= sizeof o->program || strpbrk(text, "\n\r") != NULL)
        return hp_errf(err, errlen, HP_EINVAL,
                       "lock-owner: the program must be 1..%zu characters on one line (got '%s')",
                       sizeof o->program - 1, text);
    char *end;
    errno = 0;
    long pid = strtol(c1 + 1, &end, 10);
    if (errno || end == c1 + 1 || end != c2 || pid <= 0)
        return hp_errf(err, errlen, HP_EINVAL, "lock-owner: PID must be a positive number (got '%s')",
                       text);
    errno = 0;
    double since = strtod(c2 + 1, &end);
    if (errno || end == c2 + 1 || *end || !isfinite(since) || since < 0)
        return hp_errf(err, errlen, HP_EINVAL,
                       "lock-owner: SINCE must be unix seconds (got '%s')", text);
    memcpy(o->program, text, plen);
    o->program[plen] = '\0';
    o->pid = pid;
    o->since = since;
    return 0;
}

void hp_lock_owner_describe(const hp_lock_owner_t *o, char *out, size_t outlen)
{
    char when[32] = "?";
    time_t t = (time_t)o->since, now = time(NULL);
    struct tm tm, today;
    if (localtime_r(&t, &tm) && localtime_r(&now, &today)) {
        int same_day = tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday;
        strftime(when, sizeof when, same_day ? "%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
    }
    char here[256] = "";
    if (gethostname(here, sizeof here) != 0)
        here[0] = '\0';
    here[sizeof here - 1] = '\0';
    int elsewhere = o->host[0] && strcmp(o->host, here) != 0;
    snprintf(out, outlen, "%s (pid %ld%s%s, since %s)", o->program, o->pid,
             elsewhere ? " on " : "", elsewhere ? o->host : "", when);
}

/* ---- the file ----------------------------------------------------------- */

/* The lock file's path: db with symlinks resolved, plus ".lock". A
 * database not created yet resolves through its directory. */
static int lock_path(const char *db, char *out, size_t outlen, char *err, size_t errlen)
{
    char real[PATH_MAX];
    const char *base = db;
    int n;
    if (realpath(db, real)) {
        n = snprintf(out, outlen, "%s.lock", real);
    } else {
        /* not there yet: its directory, resolved, and its name */
        char dir[PATH_MAX];
        const char *slash = strrchr(db, '/');
        if (slash) {
            size_t dl = slash == db ? 1 : (size_t)(slash - db);
            if (dl >= sizeof dir)
                return hp_errf(err, errlen, HP_ERANGE, "database path too long: %s", db);
            memcpy(dir, db, dl);
            dir[dl] = '\0';
            base = slash + 1;
        } else {
            snprintf(dir, sizeof dir, ".");
        }
        if (realpath(dir, real))
            n = snprintf(out, outlen, "%s%s%s.lock", real,
                         real[strlen(real) - 1] == '/' ? "" : "/", base);
        else /* the open names the problem */
            n = snprintf(out, outlen, "%s.lock", db);
    }
    if (n < 0 || (size_t)n >= outlen)
        return hp_errf(err, errlen, HP_ERANGE, "database path too long: %s", db);
    return 0;
}

/* Reads the holder's text: "key=value" lines, the first of each key
 * counting. Returns 1 when it names a program, pid and start time. */
static int read_owner(int fd, hp_lock_owner_t *o)
{
    memset(o, 0, sizeof *o);
    char buf[2048];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    int have = 0;
    for (char *line = buf, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        const char *k = line, *v = eq + 1;
        char *end;
        if (strcmp(k, "program") == 0 && !(have & 1) && *v) {
            snprintf(o->program, sizeof o->program, "%s", v);
            have |= 1;
        } else if (strcmp(k, "pid") == 0 && !(have & 2)) {
            o->pid = strtol(v, &end, 10);
            if (end != v && !*end && o->pid > 0)
                have |= 2;
        } else if (strcmp(k, "since") == 0 && !(have & 4)) {
            o->since = strtod(v, &end);
            if (end != v && !*end && isfinite(o->since))
                have |= 4;
        } else if (strcmp(k, "host") == 0 && !(have & 8)) {
            snprintf(o->host, sizeof o->host, "%s", v);
            have |= 8;
        }
    }
    return (have & 7) == 7;
}

/* Replaces the file's text with me. Written first, then cut to length, so
 * a reader never sees an empty file where a holder was named. */
static int write_owner(int fd, const hp_lock_owner_t *me)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "program=%s\npid=%ld\nsince=%.3f\nhost=%s\n", me->program,
                     me->pid, me->since, me->host);
    if (n < 0 || (size_t)n >= sizeof buf)
        return -1;
    if (pwrite(fd, buf, (size_t)n, 0) != n)
        return -1;
    return ftruncate(fd, n);
}

/* The refusal: the holder's text (waiting briefly for one that has just
 * taken the lock to write it). */
static int busy(int fd, const char *db, const char *path, hp_lock_owner_t *holder, char *err,
                size_t errlen)
{
    hp_lock_owner_t o;
    int known = 0;
    for (int i = 0; i < HOLDER_TEXT_TRIES && !(known = read_owner(fd, &o)); i++) {
        struct timespec ts = {0, HOLDER_TEXT_NAP_NS};
        nanosleep(&ts, NULL);
    }
    if (holder)
        *holder = o;
    if (!known)
        return hp_errf(err, errlen, HP_EBUSY,
                       "database %s is in use by another process (%s names no holder)", db, path);
    char who[400];
    hp_lock_owner_describe(&o, who, sizeof who);
    return hp_errf(err, errlen, HP_EBUSY, "database %s is in use by %s", db, who);
}

static struct flock whole_file(short type)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl); /* l_pid must be 0 for OFD locks */
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 0;
    return fl;
}

int hp_lockfile_acquire(hp_lockfile_t *lk, const char *db, const hp_lock_owner_t *me,
                        hp_lock_owner_t *holder, char *err, size_t errlen)
{
    memset(lk, 0, sizeof *lk);
    int rc = lock_path(db, lk->path, sizeof lk->path, err, errlen);
    if (rc < 0)
        return rc;
    /* like SQLite's -wal and -shm: whoever may write the database may lock it */
    struct stat sb;
    mode_t mode = stat(db, &sb) == 0 ? (sb.st_mode & 0666) : 0644;
    int fd = open(lk->path, O_RDWR | O_CREAT | O_CLOEXEC, mode);
    if (fd < 0 && errno == ENOENT) {
        /* the lock file is made beside the database: its directory is missing */
        char dir[4200];
        snprintf(dir, sizeof dir, "%s", lk->path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        rc = hp_errf(err, errlen, HP_ENOENT,
                     "cannot use the database %s: the directory %s does not exist", db,
                     slash ? (*dir ? dir : "/") : ".");
        memset(lk, 0, sizeof *lk);
        return rc;
    }
    if (fd < 0) {
        rc = hp_errf(err, errlen, HP_EIO, "cannot lock the database %s: cannot open %s: %s", db,
                     lk->path, strerror(errno));
        memset(lk, 0, sizeof *lk);
        return rc;
    }
    struct flock fl = whole_file(F_WRLCK);
    if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
        if (errno == EAGAIN || errno == EACCES)
            rc = busy(fd, db, lk->path, holder, err, errlen);
        else
            rc = hp_errf(err, errlen, HP_EIO, "cannot lock the database %s: locking %s: %s", db,
                         lk->path, strerror(errno));
        close(fd);
        memset(lk, 0, sizeof *lk);
        return rc;
    }
    if (write_owner(fd, me) < 0) {
        rc = hp_errf(err, errlen, HP_EIO, "cannot lock the database %s: writing %s: %s", db,
                     lk->path, strerror(errno));
        close(fd);
        memset(lk, 0, sizeof *lk);
        return rc;
    }
    lk->fd = fd;
    lk->held = 1;
    return 0;
}

void hp_lockfile_release(hp_lockfile_t *lk)
{
    if (!lk->held)
        return;
    /* closing the one descriptor of the description drops the lock */
    close(lk->fd);
    lk->held = 0;
    lk->fd = -1;
}

int hp_lockfile_probe(const char *db, hp_lock_owner_t *holder, char *err, size_t errlen)
{
    char path[sizeof ((hp_lockfile_t *)0)->path];
    int rc = lock_path(db, path, sizeof path, err, errlen);
    if (rc < 0)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0; /* never locked */
        return hp_errf(err, errlen, HP_EIO, "cannot read %s: %s", path, strerror(errno));
    }
    struct flock fl = whole_file(F_WRLCK);
    if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
        rc = hp_errf(err, errlen, HP_EIO, "cannot test the lock on %s: %s", path, strerror(errno));
    else if (fl.l_type != F_UNLCK)
        rc = busy(fd, db, path, holder, err, errlen);
    close(fd);
    return rc;
}
