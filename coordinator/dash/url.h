/*
 * url.h — the dashboard's request line: a path split into decoded segments
 * and a query string into checked name=value pairs. Pure, no I/O, so bad
 * input is tested without a server.
 *
 *     hp_dash_req_t r;
 *     if (hp_dash_req_parse(&r, "/api/studies/my%20study/trials?limit=50", err, sizeof err) < 0)
 *         ... 400 with err ("path: ..." or "limit: ...")
 *     // r.seg[0] "api", r.seg[1] "studies", r.seg[2] "my study", r.seg[3] "trials"
 *     long long limit;
 *     hp_dash_req_int(&r, "limit", 100, 1, 5000, &limit, err, sizeof err);
 */
#ifndef HP_DASH_URL_H
#define HP_DASH_URL_H

#include <stddef.h>

#define HP_DASH_MAX_SEGS 8
#define HP_DASH_MAX_PARAMS 8
#define HP_DASH_MAX_URI 2048  /* a longer request target is refused */
#define HP_DASH_MAX_VALUE 256 /* a longer segment or parameter value is refused */

typedef struct hp_dash_req {
    char seg[HP_DASH_MAX_SEGS][HP_DASH_MAX_VALUE + 1]; /* decoded path segments */
    int nseg;
    char name[HP_DASH_MAX_PARAMS][33];
    char value[HP_DASH_MAX_PARAMS][HP_DASH_MAX_VALUE + 1];
    int nparam;
    char bad_param[33]; /* the parameter a failed parse blames; "" for the path */
} hp_dash_req_t;

/* hp_dash_req_parse splits uri (the request target, "/a/b?x=1") into *r,
 * percent-decoding each segment and value ('+' is a space in values).
 * Refuses, with HP_EINVAL and err naming the part: a target longer than
 * HP_DASH_MAX_URI, a bad %-escape, a decoded NUL or '/', a "." or ".."
 * segment (path traversal), too many segments or parameters, a repeated
 * parameter, a name or value over the bounds. Then r->bad_param names the
 * parameter at fault ("" when it is the path). Any thread. */
int hp_dash_req_parse(hp_dash_req_t *r, const char *uri, char *err, size_t errlen);

/* hp_dash_req_param returns the value of parameter name, or NULL. */
const char *hp_dash_req_param(const hp_dash_req_t *r, const char *name);

/* hp_dash_req_int reads integer parameter name in [lo, hi] into *out, or
 * dflt when absent. HP_EINVAL with err "NAME: must be an integer from LO
 * to HI (got 'X')" otherwise. */
int hp_dash_req_int(const hp_dash_req_t *r, const char *name, long long dflt, long long lo,
                    long long hi, long long *out, char *err, size_t errlen);

/* hp_dash_req_check_names refuses (HP_EINVAL, err "NAME: unknown
 * parameter (expected one of ...)") a parameter not in the NULL-terminated
 * list allowed; "token" is always allowed. */
int hp_dash_req_check_names(const hp_dash_req_t *r, const char *const *allowed, char *err,
                            size_t errlen);

#endif
