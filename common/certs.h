/*
 * certs.h — a private certificate authority for hpsearch's mutual TLS
 * (`hpsearch certs`), written with mbedTLS's x509write API.
 *
 * One directory holds the CA (ca.crt, ca.key) and every certificate it
 * issued (NAME.crt, NAME.key). Keys are EC P-256, written 0600; the CA is
 * valid for 10 years, issued certificates for 825 days. An issued
 * certificate carries subjectAltName entries for NAME and the extras: a
 * host name as a dNSName; an IP address as an iPAddress and also as a
 * dNSName holding its text, because mbedTLS 2.28 (which nng uses to check
 * the server's name) matches a host only against dNSName entries.
 *
 *     char err[512];
 *     if (hp_certs_init("pki", 0, err, sizeof err) < 0) die(err);
 *     const char *sans[] = {"10.0.0.5"};
 *     if (hp_certs_issue("pki", "head", sans, 1, 0, err, sizeof err) < 0) die(err);
 *     // pki/ca.crt pki/ca.key pki/head.crt pki/head.key
 *
 * Existing files are never replaced unless force is set. Blocking file
 * I/O; any thread (each call has its own RNG).
 */
#ifndef HP_CERTS_H
#define HP_CERTS_H

#include <stddef.h>

#define HP_CERTS_CA_DAYS 3650
#define HP_CERTS_LEAF_DAYS 825

/* hp_certs_init creates dir (0700) if missing and writes dir/ca.crt and
 * dir/ca.key. Returns 0, HP_EEXIST (a file exists and !force, naming it),
 * HP_EIO, with err. */
int hp_certs_init(const char *dir, int force, char *err, size_t errlen);

/* hp_certs_issue writes dir/NAME.crt and dir/NAME.key, signed by dir's CA,
 * with subjectAltName entries for name and the nsans extras. Returns 0,
 * HP_EINVAL (a bad name or SAN, naming it), HP_ENOENT (no CA in dir: says
 * to run `hpsearch certs init`), HP_EEXIST, HP_EIO, with err. */
int hp_certs_issue(const char *dir, const char *name, const char *const *sans, size_t nsans,
                   int force, char *err, size_t errlen);

/* hp_certs_check_name checks that s can be a certificate name (and so a
 * file name): a host name or an IP address. Returns 0 or HP_EINVAL with
 * err naming `what`. */
int hp_certs_check_name(const char *what, const char *s, char *err, size_t errlen);

/* hp_certs_san_der encodes the subjectAltName extension's value (the
 * GeneralNames SEQUENCE) for names into buf. On success *der points at
 * the encoding inside buf (asn1write fills from the end) and *len is its
 * size. Returns 0, HP_EINVAL (bad name) or HP_ERANGE (buf too small). */
int hp_certs_san_der(const char *const *names, size_t n, unsigned char *buf, size_t size,
                     const unsigned char **der, size_t *len, char *err, size_t errlen);

#endif
