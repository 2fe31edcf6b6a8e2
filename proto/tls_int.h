/* tls_int.h — hp_tls_t's fields, shared by tls.c (files, nng) and
 * tls_probe.c (the diagnostic handshake). */
#ifndef HP_PROTO_TLS_INT_H
#define HP_PROTO_TLS_INT_H

#include "tls.h"

struct hp_tls {
    hp_tls_role_t role;
    char *ca_pem, *cert_pem, *key_pem; /* NUL-terminated file contents */
    char ca_path[1024], cert_path[1024], key_path[1024];
};

/* hp_tls_url_host splits a tls+tcp:// URL into host (brackets of an IPv6
 * address removed) and port. Returns 0, or HP_EINVAL with err. */
int hp_tls_url_host(const char *url, char *host, size_t hostlen, char *port, size_t portlen,
                    char *err, size_t errlen);

#endif
