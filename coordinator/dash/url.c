/* The dashboard's request-line parser (see url.h). */
#include "url.h"

#include "err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* decodes s[0..n) into out (cap bytes with the NUL); -1 on a bad escape,
 * a NUL, a '/' (when in_path) or overflow */
static int decode(const char *s, size_t n, int in_path, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int h = i + 1 < n ? hexval(s[i + 1]) : -1;
            int l = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (h < 0 || l < 0)
                return -1;
            c = (char)(h * 16 + l);
            i += 2;
            if (c == '\0' || (in_path && c == '/'))
                return -1;
        } else if (c == '+' && !in_path) {
            c = ' ';
        }
        if (o + 1 >= cap)
            return -2;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

static int fail(hp_dash_req_t *r, const char *param, char *err, size_t errlen, const char *what)
{
    snprintf(r->bad_param, sizeof r->bad_param, "%s", param);
    return hp_errf(err, errlen, HP_EINVAL, "%s: %s", *param ? param : "path", what);
}

int hp_dash_req_parse(hp_dash_req_t *r, const char *uri, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    size_t n = strlen(uri);
    if (n > HP_DASH_MAX_URI)
        return fail(r, "", err, errlen, "request target longer than 2048 bytes");
    if (uri[0] != '/')
        return fail(r, "", err, errlen, "must start with '/'");
    const char *q = strchr(uri, '?');
    size_t plen = strcspn(uri, "?#");

    const char *p = uri + 1, *end = uri + plen;
    while (p < end) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        size_t len = slash ? (size_t)(slash - p) : (size_t)(end - p);
        if (len > 0) {
            if (r->nseg == HP_DASH_MAX_SEGS)
                return fail(r, "", err, errlen, "too many segments");
            char *seg = r->seg[r->nseg];
            int rc = decode(p, len, 1, seg, sizeof r->seg[0]);
            if (rc == -2)
                return fail(r, "", err, errlen, "a segment is longer than 256 bytes");
            if (rc < 0)
                return fail(r, "", err, errlen, "bad %-escape (or an encoded NUL or '/')");
            if (strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0)
                return fail(r, "", err, errlen, "'.' and '..' segments are refused");
            r->nseg++;
        }
        p += len + 1;
    }

    if (!q)
        return 0;
    const char *qs = q + 1, *qend = strchr(qs, '#');
    if (!qend)
        qend = uri + n;
    while (qs < qend) {
        const char *amp = memchr(qs, '&', (size_t)(qend - qs));
        size_t len = amp ? (size_t)(amp - qs) : (size_t)(qend - qs);
        if (len > 0) {
            const char *eq = memchr(qs, '=', len);
            size_t nlen = eq ? (size_t)(eq - qs) : len;
            char name[33];
            int rc = decode(qs, nlen, 0, name, sizeof name);
            if (rc < 0)
                return fail(r, "query", err, errlen,
                            "a parameter name is malformed or longer than 32 bytes");
            if (r->nparam == HP_DASH_MAX_PARAMS)
                return fail(r, "query", err, errlen, "more than 8 parameters");
            if (hp_dash_req_param(r, name))
                return fail(r, name, err, errlen, "given more than once");
            snprintf(r->name[r->nparam], sizeof r->name[0], "%s", name);
            const char *v = eq ? eq + 1 : qs + len;
            rc = decode(v, (size_t)(qs + len - v), 0, r->value[r->nparam], sizeof r->value[0]);
            if (rc == -2)
                return fail(r, name, err, errlen, "value longer than 256 bytes");
            if (rc < 0)
                return fail(r, name, err, errlen, "bad %-escape in the value");
            r->nparam++;
        }
        qs += len + 1;
    }
    return 0;
}

const char *hp_dash_req_param(const hp_dash_req_t *r, const char *name)
{
    for (int i = 0; i < r->nparam; i++)
        if (strcmp(r->name[i], name) == 0)
            return r->value[i];
    return NULL;
}

int hp_dash_req_int(const hp_dash_req_t *r, const char *name, long long dflt, long long lo,
                    long long hi, long long *out, char *err, size_t errlen)
{
    const char *v = hp_dash_req_param(r, name);
    if (!v) {
        *out = dflt;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || errno || x < lo || x > hi)
        return hp_errf(err, errlen, HP_EINVAL, "%s: must be an integer from %lld to %lld (got '%s')",
                       name, lo, hi, v);
    *out = x;
    return 0;
}

int hp_dash_req_check_names(const hp_dash_req_t *r, const char *const *allowed, char *err,
                            size_t errlen)
{
    for (int i = 0; i < r->nparam; i++) {
        if (strcmp(r->name[i], "token") == 0)
            continue;
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, r->name[i]) == 0;
        if (ok)
            continue;
        char list[256] = "";
        size_t o = 0;
        for (const char *const *a = allowed; *a; a++)
            o += (size_t)snprintf(list + o, o < sizeof list ? sizeof list - o : 0, "%s%s",
                                  a == allowed ? "" : ", ", *a);
        return hp_errf(err, errlen, HP_EINVAL, "%s: unknown parameter (%s%s)", r->name[i],
                       *list ? "expected one of: " : "this path takes none", list);
    }
    return 0;
}
