/*
 * nng_err.h — the one place nng's error codes become hp_err codes.
 *
 * Every nng call in the project returns an NNG_E* code (or 0); callers
 * translate it here and from then on test only hp_err codes, so no raw
 * NNG_E* appears outside proto/nng_err.c:
 *
 *     int rv = nng_dial(sock, url, NULL, 0);
 *     if (rv != 0)
 *         return hp_errf(err, errlen, hp_err_from_nng(rv), "cannot dial %s: %s",
 *                        url, nng_strerror(rv));
 *
 * Thread-safe (a pure function).
 */
#ifndef HP_PROTO_NNG_ERR_H
#define HP_PROTO_NNG_ERR_H

/* hp_err_from_nng translates an nng return code into an hp_err_t: 0 ->
 * HP_OK; a cancelled or interrupted operation -> HP_ECANCELED; our own
 * socket or context closed, or the peer's connection lost (shut, reset,
 * aborted) -> HP_ECLOSED; nobody listening or no route -> HP_ECONNREFUSED;
 * a bad URL, option or argument -> HP_EINVAL; a refused peer or
 * permission -> HP_EAUTH; and so on (nng_err.c lists every code).
 * System and transport errors, and codes this nng does not define, ->
 * HP_EIO. */
int hp_err_from_nng(int nng_rv);

#endif
