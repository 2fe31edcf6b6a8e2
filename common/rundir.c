/* Runtime records: which token file serves which URL (rundir.h). */
#define _GNU_SOURCE
#include "rundir.h"

#include "err.h"
#include "token.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int hp_rundir_path(char *out, size_t cap, int create, char *err, size_t errlen)
{
    const char *env = getenv("HPSEARCH_RUNTIME_DIR");
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n;
    if (env && *env)
        n = snprintf(out, cap, "%s", env);
    else if (xdg && *xdg)
        n = snprintf(out, cap, "%s/hpsearch", xdg);
    else
        n = snprintf(out, cap, "/tmp/hpsearch-%u", (unsigned)geteuid());
    if (n < 0 || (size_t)n >= cap)
        return hp_errf(err, errlen, HP_ERANGE, "runtime directory path too long");
    if (create && mkdir(out, 0700) < 0 && errno != EEXIST)
        return hp_errf(err, errlen, HP_EIO, "cannot create the runtime directory %s: %s", out,
                       strerror(errno));
    struct stat st;
    if (lstat(out, &st) < 0)
        return hp_errf(err, errlen, errno == ENOENT ? HP_ENOENT : HP_EIO, "%s: %s", out,
                       strerror(errno));
    /* in /tmp anyone could have made it first: only our own private one */
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
        return hp_errf(err, errlen, HP_EAUTH,
                       "the runtime directory %s is not a private directory of this user's; "
                       "not using it (set $HPSEARCH_RUNTIME_DIR)",
                       out);
    return 0;
}

/* FNV-1a, 64 bits: a file name per URL (the record says the URL itself) */
static uint64_t url_hash(const char *url)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
        h ^= *p;
        h *= UINT64_C(1099511628211);
    }
    return h;
}

static int record_path(const char *dir, const char *url, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%016llx.url", dir, (unsigned long long)url_hash(url));
    return n < 0 || (size_t)n >= cap ? HP_ERANGE : 0;
}

/* The names a client may use for url: itself, and for a tcp listener on a
 * wildcard or loopback host its loopback spellings. Returns how many (up
 * to 3). */
static int aliases(const char *url, char out[3][600])
{
    int n = 0;
    snprintf(out[n++], sizeof out[0], "%s", url);
    const char *hosts[] = {"tcp://0.0.0.0:", "tcp://*:",         "tcp://[::]:",
                           "tcp://:",        "tcp://127.0.0.1:", "tcp://localhost:"};
    for (size_t i = 0; i < HP_ARRAY_LEN(hosts); i++) {
        size_t l = strlen(hosts[i]);
        if (strncmp(url, hosts[i], l) == 0) {
            const char *port = url + l;
            char a[600];
            snprintf(a, sizeof a, "tcp://127.0.0.1:%s", port);
            if (strcmp(a, url) != 0)
                snprintf(out[n++], sizeof out[0], "%s", a);
            snprintf(a, sizeof a, "tcp://localhost:%s", port);
            if (strcmp(a, url) != 0)
                snprintf(out[n++], sizeof out[0], "%s", a);
            break;
        }
    }
    return n;
}

static int write_record(const char *dir, const char *url, const char *token_file, char *err,
                        size_t errlen)
{
    char path[PATH_MAX], tmp[PATH_MAX + 16];
    if (record_path(dir, url, path, sizeof path) < 0)
        return hp_errf(err, errlen, HP_ERANGE, "runtime record path too long");
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return hp_errf(err, errlen, HP_EIO, "cannot write a runtime record in %s: %s", dir,
                       strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return hp_errf(err, errlen, HP_EIO, "cannot write %s", tmp);
    }
    fprintf(f, "url %s\ntoken_file %s\npid %ld\n", url, token_file, (long)getpid());
    int bad = fclose(f) != 0;
    if (bad || rename(tmp, path) < 0) {
        unlink(tmp);
        return hp_errf(err, errlen, HP_EIO, "cannot write the runtime record %s", path);
    }
    return 0;
}

int hp_rundir_publish(const char *url, const char *token_file, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    int rc = hp_rundir_path(dir, sizeof dir, 1, err, errlen);
    if (rc < 0)
        return rc;
    char abs[PATH_MAX];
    if (!realpath(token_file, abs))
        return hp_errf(err, errlen, HP_EIO, "%s: %s", token_file, strerror(errno));
    char names[3][600];
    int n = aliases(url, names);
    for (int i = 0; i < n; i++)
        if ((rc = write_record(dir, names[i], abs, err, errlen)) < 0)
            return rc;
    return 0;
}

/* Reads a record: its url, token_file and pid lines. */
static int read_record(const char *path, char *url, size_t ucap, char *file, size_t fcap,
                       long *pid)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return HP_ENOENT;
    char line[PATH_MAX + 64];
    *url = *file = '\0';
    *pid = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "url ", 4) == 0 && strlen(line + 4) < ucap)
            memcpy(url, line + 4, strlen(line + 4) + 1);
        else if (strncmp(line, "token_file ", 11) == 0)
            snprintf(file, fcap, "%s", line + 11);
        else if (strncmp(line, "pid ", 4) == 0)
            *pid = strtol(line + 4, NULL, 10);
    }
    fclose(f);
    return *url && *file ? 0 : HP_ENOENT;
}

void hp_rundir_unpublish(const char *url)
{
    char dir[PATH_MAX];
    if (hp_rundir_path(dir, sizeof dir, 0, NULL, 0) < 0)
        return;
    char names[3][600];
    int n = aliases(url, names);
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX], u[600], file[PATH_MAX];
        long pid;
        /* a later daemon on the same URL owns the record now */
        if (record_path(dir, names[i], path, sizeof path) == 0 &&
            read_record(path, u, sizeof u, file, sizeof file, &pid) == 0 && pid == getpid())
            unlink(path);
    }
}

int hp_rundir_lookup(const char *url, char *token_file, size_t cap)
{
    char dir[PATH_MAX], path[PATH_MAX], u[600];
    long pid;
    if (hp_rundir_path(dir, sizeof dir, 0, NULL, 0) < 0 ||
        record_path(dir, url, path, sizeof path) < 0 ||
        read_record(path, u, sizeof u, token_file, cap, &pid) < 0 || strcmp(u, url) != 0)
        return HP_ENOENT;
    return 0;
}

int hp_token_find(const char *url, const char *explicit_file, char *tok, size_t cap, size_t *len,
                  char *from, size_t fromcap, char *err, size_t errlen)
{
    *len = 0;
    const char *env = getenv("HPSEARCH_TOKEN_FILE");
    char published[PATH_MAX];
    const char *file = explicit_file && *explicit_file ? explicit_file
                       : env && *env                 ? env
                       : hp_rundir_lookup(url, published, sizeof published) == 0 ? published
                                                                                 : NULL;
    if (!file)
        return HP_ENOENT;
    if (from)
        snprintf(from, fromcap, "%s", file);
    int rc = hp_token_read(file, tok, cap, len, err, errlen);
    /* HP_ENOENT means "no token anywhere": a published file that is gone
     * is that; a file the user named that is gone is an error */
    if (rc == HP_ENOENT && file != published)
        rc = HP_EIO;
    return rc;
}
