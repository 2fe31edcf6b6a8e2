/*
 * err.h — the project-wide error codes.
 *
 * Every function that can fail returns int: 0 on success, a negative
 * hp_err_t otherwise. Human detail goes to a caller-provided buffer
 * (char *err, size_t errlen), never to a global. Codes only grow: new
 * codes are added last, existing values never change (they are stored in
 * the database and sent on the wire).
 *
 *     char err[256];
 *     int rc = hp_store_open(&st, path, 0, err, sizeof err);
 *     if (rc < 0) fprintf(stderr, "%s: %s\n", hp_strerror(rc), err);
 */
#ifndef HP_ERR_H
#define HP_ERR_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

typedef enum hp_err {
    HP_OK = 0,
    HP_EINVAL = -1,     /* invalid argument or input */
    HP_ENOMEM = -2,     /* out of memory */
    HP_EIO = -3,        /* read/write failure */
    HP_ENOENT = -4,     /* file or object does not exist */
    HP_EEXIST = -5,     /* object already exists */
    HP_ESTATE = -6,     /* operation not allowed in the current state */
    HP_EVERSION = -7,   /* unsupported format / schema / protocol version */
    HP_EDB = -8,        /* database error */
    HP_EBUSY = -9,      /* resource busy / locked */
    HP_ETIMEDOUT = -10, /* timed out */
    HP_EPROTO = -11,    /* malformed message */
    HP_ECANCELED = -12, /* operation cancelled */
    HP_ERANGE = -13,    /* value out of range / overflow */
    HP_EAUTH = -14,     /* authentication failed */
    HP_ENUMERIC = -15,  /* non-finite value in a numerical computation */
    HP_ECLOSED = -16,   /* peer or object closed */
    HP_ECONNREFUSED = -17, /* connection refused / peer unreachable */
    HP_EEXEC = -18,     /* a child program failed */
    HP_ECORRUPT = -19,  /* corrupt data */
    HP_EREADONLY = -20, /* write attempted on a read-only handle */
    HP_ESESSION = -21,  /* a worker message without its session's secret */
    HP_ERR_COUNT_ = 22
} hp_err_t;

/* hp_strerror returns a short, static description of code (any int). */
const char *hp_strerror(int code);

/* hp_errf formats into err (if non-NULL) and returns code; a helper for
 * `return hp_errf(err, errlen, HP_EINVAL, "bad %s", x);`. */
int hp_errf(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* HP_ASSERT is for "cannot happen": it aborts with file:line. Never use it
 * for conditions that bad input or a lost peer can cause. */
#define HP_ASSERT(x)                                                       \
    do {                                                                   \
        if (!(x)) {                                                        \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__,     \
                    __LINE__, #x);                                         \
            abort();                                                       \
        }                                                                  \
    } while (0)

#define HP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
