/* The shared token's file and the random bytes secrets are made of (token.h). */
#define _GNU_SOURCE
#include "token.h"

#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

int hp_random_bytes(void *buf, size_t n, char *err, size_t errlen)
{
    unsigned char *p = buf;
    while (n) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return hp_errf(err, errlen, HP_EIO, "getrandom: %s", strerror(errno));
        }
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

int hp_token_path_for_db(const char *db, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s%s", db, HP_TOKEN_SUFFIX);
    return n < 0 || (size_t)n >= cap ? HP_ERANGE : 0;
}

int hp_token_read(const char *path, char *tok, size_t cap, size_t *len, char *err,
                  size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return hp_errf(err, errlen, errno == ENOENT ? HP_ENOENT : HP_EIO,
                       "cannot read the token file %s: %s", path, strerror(errno));
    size_t want = cap - 1 < HP_TOKEN_MAX + 2 ? cap - 1 : HP_TOKEN_MAX + 2;
    size_t n = fread(tok, 1, want, f);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return hp_errf(err, errlen, HP_EIO, "cannot read the token file %s", path);
    while (n && (tok[n - 1] == '\n' || tok[n - 1] == '\r'))
        n--;
    tok[n] = '\0';
    if (n > HP_TOKEN_MAX || n >= cap - 1)
        return hp_errf(err, errlen, HP_EINVAL, "the token file %s is longer than %u bytes", path,
                       HP_TOKEN_MAX);
    if (n == 0)
        return hp_errf(err, errlen, HP_EINVAL, "the token file %s is empty", path);
    *len = n;
    return 0;
}

/* A token file is a secret: nobody but its owner, who must be us, reads it. */
static int check_private(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return hp_errf(err, errlen, HP_EIO, "cannot stat the token file %s: %s", path,
                       strerror(errno));
    if (st.st_uid != geteuid())
        return hp_errf(err, errlen, HP_EAUTH,
                       "the token file %s belongs to another user (uid %u); remove it or give "
                       "--token-file",
                       path, (unsigned)st.st_uid);
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        return hp_errf(err, errlen, HP_EAUTH,
                       "the token file %s can be read by other users (mode %03o); chmod 600 %s",
                       path, (unsigned)(st.st_mode & 0777), path);
    return 0;
}

static void hex(char *out, const unsigned char *b, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Writes a fresh token to a temporary file beside path and links it into
 * place; HP_EEXIST when someone else's link won. */
static int create(const char *path, char *err, size_t errlen)
{
    unsigned char raw[HP_TOKEN_RANDOM_BYTES];
    char text[2 * HP_TOKEN_RANDOM_BYTES + 2];
    int rc = hp_random_bytes(raw, sizeof raw, err, errlen);
    if (rc < 0)
        return rc;
    hex(text, raw, sizeof raw);
    size_t n = strlen(text);
    text[n++] = '\n';
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp)
        return hp_errf(err, errlen, HP_ERANGE, "token file path too long: %s", path);
    int fd = mkstemp(tmp); /* mode 0600 */
    if (fd < 0)
        return hp_errf(err, errlen, HP_EIO,
                       "cannot create the token file %s: %s (give --token-file FILE)", path,
                       strerror(errno));
    int ok = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    explicit_bzero(text, sizeof text);
    explicit_bzero(raw, sizeof raw);
    if (!ok) {
        unlink(tmp);
        return hp_errf(err, errlen, HP_EIO, "cannot write the token file %s: %s", path,
                       strerror(saved));
    }
    rc = link(tmp, path);
    saved = errno;
    unlink(tmp);
    if (rc < 0)
        return saved == EEXIST ? HP_EEXIST
                               : hp_errf(err, errlen, HP_EIO,
                                         "cannot create the token file %s: %s (give "
                                         "--token-file FILE)",
                                         path, strerror(saved));
    return 0;
}

int hp_token_ensure(const char *path, char *tok, size_t cap, size_t *len, int *created,
                    char *err, size_t errlen)
{
    *created = 0;
    int rc = hp_token_read(path, tok, cap, len, err, errlen);
    if (rc == HP_ENOENT) {
        rc = create(path, err, errlen);
        if (rc == 0)
            *created = 1;
        else if (rc != HP_EEXIST)
            return rc;
        rc = hp_token_read(path, tok, cap, len, err, errlen);
    }
    if (rc < 0)
        return rc;
    return check_private(path, err, errlen);
}

int hp_token_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    const volatile unsigned char *x = a, *y = b;
    /* walk the longer length, so the time never tells how much matched */
    size_t n = alen > blen ? alen : blen;
    unsigned char diff = alen != blen;
    for (size_t i = 0; i < n; i++) {
        unsigned char cx = i < alen ? x[i] : 0, cy = i < blen ? y[i] : 0;
        diff |= (unsigned char)(cx ^ cy);
    }
    return diff == 0;
}
