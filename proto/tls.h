/*
 * tls.h — tls+tcp:// for hpsearch's sockets: nng's TLS (mbedTLS 2.28 in
 * Debian's nng) configured the one way the project uses it, mutual TLS
 * under one private CA (`hpsearch certs`), for hpsearchd, hpworker and
 * hpsearch alike.
 *
 * The server (hpsearchd's two sockets) presents its certificate and
 * requires a client certificate signed by the CA (NNG_TLS_AUTH_MODE_REQUIRED);
 * a client (a worker, the CLI) requires the server's certificate to be
 * signed by the CA and to name the host in the URL it dials.
 *
 *     hp_tls_files_t f = {.ca = "pki/ca.crt", .cert = "pki/w1.crt", .key = "pki/w1.key"};
 *     const char *urls[] = {url};
 *     if (hp_tls_check_flags(&f, urls, 1, err, sizeof err) < 0) die(err);  // before anything
 *     hp_tls_t *t = NULL;
 *     if (hp_tls_wanted(&f) && hp_tls_new(&t, HP_TLS_CLIENT, &f, warn, sizeof warn, err,
 *                                         sizeof err) < 0) die(err);
 *     rc = hp_tls_dial(sock, url, t, 0, &dialer, err, sizeof err);  // t NULL: plain
 *     if (rc == HP_EAUTH && hp_tls_diagnose(t, url, 5000, why, sizeof why) == 1)
 *         ...why names the reason ("certificate not trusted (...)")...
 *     hp_tls_free(t);
 *
 * What each side can report about a failed handshake is limited by nng:
 * a dialer's error says only "Cryptographic error" or "Connection
 * shutdown", so a client asks hp_tls_diagnose, which repeats the handshake
 * with mbedTLS itself and reads its verification result; with nng's own
 * engine a listener sees no pipe, no address and no error for a refused
 * handshake, only nng's per-listener "auth" statistic
 * (hp_tls_listener_failures), so hpsearchd installs an engine of its own
 * (hp_tls_engine_install) that logs each one with its peer and reason.
 *
 * hp_tls_t is immutable after hp_tls_new: any thread may use it at once.
 */
#ifndef HP_PROTO_TLS_H
#define HP_PROTO_TLS_H

#include <nng/nng.h>
#include <stddef.h>
#include <stdint.h>

/* The three files, as given on a command line (NULL or "": not given).
 * The flag names in errors are --tls-ca, --tls-cert and --tls-key. */
typedef struct hp_tls_files {
    const char *ca;   /* PEM: the CA that signs every peer's certificate */
    const char *cert; /* PEM: this process's certificate */
    const char *key;  /* PEM: its private key (unencrypted) */
} hp_tls_files_t;

typedef enum hp_tls_role { HP_TLS_CLIENT = 0, HP_TLS_SERVER = 1 } hp_tls_role_t;

typedef struct hp_tls hp_tls_t;

/* hp_tls_url_is_tls reports whether url is tls+tcp:// (or tls+tcp4://,
 * tls+tcp6://). */
int hp_tls_url_is_tls(const char *url);

/* hp_tls_wanted reports whether any of f's files is given. */
int hp_tls_wanted(const hp_tls_files_t *f);

/* hp_tls_check_flags checks the flags against the URLs a process serves
 * or dials (NULL entries skipped): a tls+tcp:// URL needs all three files
 * (HP_EINVAL naming the missing flag and the URL); files given when no URL
 * is tls+tcp:// are an error too (HP_EINVAL: the traffic would go in
 * clear while the user believes it encrypted). */
int hp_tls_check_flags(const hp_tls_files_t *f, const char *const *urls, size_t nurls,
                       char *err, size_t errlen);

/* hp_tls_new reads and checks the three files: each readable, PEM, the CA
 * a CA, the key the certificate's. Returns 0 with *out (free with
 * hp_tls_free), or HP_ENOENT / HP_EINVAL with err naming the flag and the
 * file. Problems that need not stop the process (this certificate not
 * signed by --tls-ca, expired or not yet valid, a key readable by others)
 * go to warn ("" if none), one per line. */
int hp_tls_new(hp_tls_t **out, hp_tls_role_t role, const hp_tls_files_t *f, char *warn,
               size_t warnlen, char *err, size_t errlen);

void hp_tls_free(hp_tls_t *t); /* NULL ok */

/* hp_tls_listen creates a listener for url on s, gives it t's server
 * configuration if url is tls+tcp:// (t must then be a server's), and
 * starts it. *out (may be NULL) gets the listener. Returns 0 or the nng
 * failure translated, with "cannot listen on URL: ..." in err. */
int hp_tls_listen(nng_socket s, const char *url, const hp_tls_t *t, nng_listener *out,
                  char *err, size_t errlen);

/* hp_tls_dial is hp_tls_listen's counterpart for a client: a dialer with
 * t's client configuration (the server must be named by url's host),
 * started with flags (0: wait for the first connection and its handshake;
 * NNG_FLAG_NONBLOCK: connect and redial in the background). Failures
 * return hp_err_from_nng's code with nng's bare words in err (a refused
 * handshake: HP_EAUTH "Cryptographic error", or HP_ECLOSED "Connection
 * shutdown" when the server dropped a client without a certificate);
 * TLS misconfiguration HP_EINVAL naming the URL. */
int hp_tls_dial(nng_socket s, const char *url, const hp_tls_t *t, int flags, nng_dialer *out,
                char *err, size_t errlen);

/* hp_tls_diagnose connects to url's host and port and runs a TLS
 * handshake with t's files using mbedTLS directly, to learn why nng's
 * failed. Returns 1 with the reason in why (e.g. "certificate not trusted
 * (is --tls-ca the CA that signed the server's certificate?)"), 0 if the
 * handshake succeeds (no TLS problem), or a negative hp_err if the server
 * cannot be reached (why says so). Blocks for up to about timeout_ms;
 * any thread. The server sees one more handshake (and may log it).
 * With t NULL (a plain tcp:// URL that failed) it tells only whether the
 * server speaks TLS: 1 with "the server at H:P speaks TLS: dial
 * tls+tcp://H:P and give --tls-ca, --tls-cert and --tls-key", else 0. */
int hp_tls_diagnose(const hp_tls_t *t, const char *url, int timeout_ms, char *why,
                    size_t whylen);

/* hp_tls_listener_failures returns how many handshakes l has refused so
 * far (nng's "auth" statistic: a missing or untrusted client certificate,
 * or a client that refused ours), 0 if nng keeps no statistics. It takes
 * a snapshot of all of nng's statistics: call it at most every second or
 * so. Any thread. */
uint64_t hp_tls_listener_failures(nng_listener l);

/* hp_tls_engine_install makes hpsearch's TLS engine (tls_engine.c) nng's,
 * for this process: mbedTLS as nng's own engine uses it, but a server
 * handshake that fails is logged with the peer and the reason ("TLS
 * handshake failed from tcp 10.0.0.7:51234: the client's certificate
 * (CN=w1, O=hpsearch) is not signed by --tls-ca"). Call once, at start-up,
 * before any TLS configuration is made (hp_tls_new). Returns 0, or
 * HP_ESTATE with err when nng refused it (nng's engine stays). */
int hp_tls_engine_install(char *err, size_t errlen);
/* hp_tls_engine_installed is 1 once hp_tls_engine_install succeeded. */
int hp_tls_engine_installed(void);

#endif
