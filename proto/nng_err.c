/* The nng boundary: every code nng.h defines, mapped on purpose. */
#include "nng_err.h"

#include "err.h"

#include <nng/nng.h>

int hp_err_from_nng(int rv)
{
    /* a system or transport error carries the OS or transport's own
     * number in the low bits; none of them means more to us than I/O */
    if (rv & (NNG_ESYSERR | NNG_ETRANERR))
        return HP_EIO;
    switch (rv) {
    case 0:
        return HP_OK;
    /* stopped before it completed: by nng_aio_cancel/_stop or a stop */
    case NNG_ECANCELED:
    case NNG_EINTR:
        return HP_ECANCELED;
    /* our socket or context is closed, or the peer's connection went */
    case NNG_ECLOSED:
    case NNG_ECONNSHUT:
    case NNG_ECONNRESET:
    case NNG_ECONNABORTED:
        return HP_ECLOSED;
    /* there is nobody to talk to */
    case NNG_ECONNREFUSED:
    case NNG_EUNREACHABLE:
        return HP_ECONNREFUSED;
    case NNG_ETIMEDOUT:
        return HP_ETIMEDOUT;
    case NNG_ENOMEM:
        return HP_ENOMEM;
    /* the caller's mistake: a URL nng cannot parse, a scheme or option it
     * does not support, an option of the wrong type or direction */
    case NNG_EINVAL:
    case NNG_EADDRINVAL:
    case NNG_ENOTSUP:
    case NNG_ENOARG:
    case NNG_EAMBIGUOUS:
    case NNG_EBADTYPE:
    case NNG_EWRITEONLY:
        return HP_EINVAL;
    case NNG_EREADONLY:
        return HP_EREADONLY;
    /* taken, or not now: try later or elsewhere */
    case NNG_EBUSY:
    case NNG_EADDRINUSE:
    case NNG_EAGAIN:
        return HP_EBUSY;
    case NNG_ESTATE:
        return HP_ESTATE;
    case NNG_ENOENT:
        return HP_ENOENT;
    case NNG_EEXIST:
        return HP_EEXIST;
    /* the peer spoke something else, or too much of it */
    case NNG_EPROTO:
    case NNG_EMSGSIZE:
        return HP_EPROTO;
    /* refused: permissions, TLS, or a peer that failed authentication */
    case NNG_EPERM:
    case NNG_ECRYPTO:
    case NNG_EPEERAUTH:
        return HP_EAUTH;
    /* out of descriptors or space, or a bug inside nng */
    case NNG_ENOFILES:
    case NNG_ENOSPC:
    case NNG_EINTERNAL:
        return HP_EIO;
    default:
        return HP_EIO;
    }
}
