#include "err.h"

#include <stdarg.h>

static const char *const messages[HP_ERR_COUNT_] = {
    [0] = "success",
    [-HP_EINVAL] = "invalid argument",
    [-HP_ENOMEM] = "out of memory",
    [-HP_EIO] = "input/output error",
    [-HP_ENOENT] = "not found",
    [-HP_EEXIST] = "already exists",
    [-HP_ESTATE] = "not allowed in the current state",
    [-HP_EVERSION] = "unsupported version",
    [-HP_EDB] = "database error",
    [-HP_EBUSY] = "busy",
    [-HP_ETIMEDOUT] = "timed out",
    [-HP_EPROTO] = "malformed message",
    [-HP_ECANCELED] = "cancelled",
    [-HP_ERANGE] = "out of range",
    [-HP_EAUTH] = "authentication failed",
    [-HP_ENUMERIC] = "non-finite value",
    [-HP_ECLOSED] = "closed",
    [-HP_ECONNREFUSED] = "connection refused",
    [-HP_EEXEC] = "program failed",
    [-HP_ECORRUPT] = "corrupt data",
    [-HP_EREADONLY] = "read-only",
    [-HP_ESESSION] = "no such session",
};

const char *hp_strerror(int code)
{
    if (code > 0 || code <= -HP_ERR_COUNT_ || !messages[-code])
        return "unknown error";
    return messages[-code];
}

int hp_errf(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}
