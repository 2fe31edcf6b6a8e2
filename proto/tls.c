/* tls+tcp://: the files, checked once; nng's TLS configuration built from
 * them for a listener or a dialer; the listener's refusals counted. */
#include "tls_int.h"

#include "err.h"
#include "nng_err.h"

#include <errno.h>
#include <stdarg.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <nng/supplemental/tls/tls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PEM_FILE_MAX (1u << 20)

static const char *const SCHEMES[] = {"tls+tcp://", "tls+tcp4://", "tls+tcp6://"};

int hp_tls_url_is_tls(const char *url)
{
    for (size_t i = 0; url && i < HP_ARRAY_LEN(SCHEMES); i++)
        if (strncmp(url, SCHEMES[i], strlen(SCHEMES[i])) == 0)
            return 1;
    return 0;
}

int hp_tls_url_is_https(const char *url)
{
    return url && strncmp(url, "https://", 8) == 0;
}

static int given(const char *s) { return s && *s; }

int hp_tls_wanted(const hp_tls_files_t *f)
{
    return given(f->ca) || given(f->cert) || given(f->key);
}

int hp_tls_check_flags(const hp_tls_files_t *f, const char *const *urls, size_t nurls,
                       char *err, size_t errlen)
{
    const char *tls_url = NULL, *https_url = NULL, *plain_url = NULL;
    for (size_t i = 0; i < nurls; i++) {
        if (!urls[i])
            continue;
        if (hp_tls_url_is_tls(urls[i]))
            tls_url = tls_url ? tls_url : urls[i];
        else if (hp_tls_url_is_https(urls[i]))
            https_url = https_url ? https_url : urls[i];
        else
            plain_url = plain_url ? plain_url : urls[i];
    }
    if (tls_url) {
        const char *missing = !given(f->ca) ? "--tls-ca" : !given(f->cert) ? "--tls-cert"
                              : !given(f->key) ? "--tls-key" : NULL;
        if (missing)
            return hp_errf(err, errlen, HP_EINVAL,
                           "%s is a TLS URL but %s is not given: tls+tcp:// needs --tls-ca "
                           "FILE, --tls-cert FILE and --tls-key FILE (make them with "
                           "`hpsearch certs`)",
                           tls_url, missing);
        return 0;
    }
    if (https_url) {
        /* the dashboard alone: browsers bring no client certificate, so
         * the CA is optional */
        const char *missing = !given(f->cert) ? "--tls-cert" : !given(f->key) ? "--tls-key"
                                                                              : NULL;
        if (missing)
            return hp_errf(err, errlen, HP_EINVAL,
                           "%s is an https:// URL but %s is not given: https:// needs "
                           "--tls-cert FILE and --tls-key FILE (make them with `hpsearch "
                           "certs`)",
                           https_url, missing);
        return 0;
    }
    if (hp_tls_wanted(f) && !plain_url)
        return hp_errf(err, errlen, HP_EINVAL,
                       "--tls-ca/--tls-cert/--tls-key are given but there is no tls+tcp:// URL "
                       "to use them with");
    if (hp_tls_wanted(f))
        return hp_errf(err, errlen, HP_EINVAL,
                       "--tls-ca/--tls-cert/--tls-key are given but %s is not a TLS URL: it "
                       "would carry everything in clear; use tls+tcp://%s",
                       plain_url,
                       strstr(plain_url, "://") ? strstr(plain_url, "://") + 3 : "HOST:PORT");
    return 0;
}

/* ---- the files ---- */

static int read_pem(const char *flag, const char *path, char **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return hp_errf(err, errlen, errno == ENOENT ? HP_ENOENT : HP_EIO, "%s %s: %s", flag,
                       path, strerror(errno));
    char *buf = malloc(PEM_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, PEM_FILE_MAX + 1, fp) : 0;
    int bad = !buf || ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        return hp_errf(err, errlen, HP_EIO, "%s %s: cannot read it", flag, path);
    }
    if (n > PEM_FILE_MAX) {
        free(buf);
        return hp_errf(err, errlen, HP_EINVAL, "%s %s: larger than %u bytes; not a PEM file",
                       flag, path, PEM_FILE_MAX);
    }
    buf[n] = '\0';
    if (!strstr(buf, "-----BEGIN ")) {
        free(buf);
        return hp_errf(err, errlen, HP_EINVAL,
                       "%s %s: not a PEM file (no -----BEGIN line; `hpsearch certs` writes "
                       "PEM)",
                       flag, path);
    }
    *out = buf;
    return 0;
}

static int mbed_err(char *err, size_t errlen, const char *flag, const char *path,
                    const char *what, int m)
{
    return hp_errf(err, errlen, HP_EINVAL, "%s %s: %s (mbedTLS -0x%04x)", flag, path, what,
                   (unsigned)-m);
}

/* one more line in warn */
__attribute__((format(printf, 3, 4))) static void add_warning(char *warn, size_t warnlen,
                                                              const char *fmt, ...)
{
    size_t used = warn ? strlen(warn) : 0;
    if (!warn || used + 2 >= warnlen)
        return;
    if (used)
        warn[used++] = '\n';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(warn + used, warnlen - used, fmt, ap);
    va_end(ap);
}

/* parse what was read, so a mistake is named now and not as a failed
 * handshake later */
static int check_files(const hp_tls_t *t, char *warn, size_t warnlen, char *err, size_t errlen)
{
    mbedtls_x509_crt ca, crt;
    mbedtls_pk_context pk;
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&pk);
    int rc = 0, m;
    /* an https:// server may have no --tls-ca: nothing to check against */
    if (t->ca_pem && (m = mbedtls_x509_crt_parse(&ca, (const unsigned char *)t->ca_pem,
                                                 strlen(t->ca_pem) + 1)) != 0)
        rc = mbed_err(err, errlen, "--tls-ca", t->ca_path, "not a PEM certificate", m);
    else if (t->ca_pem && !ca.ca_istrue)
        rc = hp_errf(err, errlen, HP_EINVAL,
                     "--tls-ca %s: not a CA certificate (give the ca.crt that `hpsearch certs "
                     "init` wrote)",
                     t->ca_path);
    else if ((m = mbedtls_x509_crt_parse(&crt, (const unsigned char *)t->cert_pem,
                                         strlen(t->cert_pem) + 1)) != 0)
        rc = mbed_err(err, errlen, "--tls-cert", t->cert_path, "not a PEM certificate", m);
    else if ((m = mbedtls_pk_parse_key(&pk, (const unsigned char *)t->key_pem,
                                       strlen(t->key_pem) + 1, NULL, 0)) != 0)
        rc = mbed_err(err, errlen, "--tls-key", t->key_path,
                      "not an unencrypted PEM private key", m);
    else if (mbedtls_pk_check_pair(&crt.pk, &pk) != 0)
        rc = hp_errf(err, errlen, HP_EINVAL, "--tls-key %s is not the key of --tls-cert %s",
                     t->key_path, t->cert_path);
    if (rc == 0) {
        uint32_t flags = 0;
        if (t->ca_pem)
            mbedtls_x509_crt_verify(&crt, &ca, NULL, NULL, &flags, NULL, NULL);
        if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
            add_warning(warn, warnlen,
                        "--tls-cert %s is not signed by --tls-ca %s: peers that trust only "
                        "that CA will refuse it",
                        t->cert_path, t->ca_path);
        if (flags & MBEDTLS_X509_BADCERT_EXPIRED)
            add_warning(warn, warnlen, "--tls-cert %s has expired: peers will refuse it",
                        t->cert_path);
        if (flags & MBEDTLS_X509_BADCERT_FUTURE)
            add_warning(warn, warnlen, "--tls-cert %s is not valid yet (check this host's clock)",
                        t->cert_path);
        struct stat st;
        if (stat(t->key_path, &st) == 0 && (st.st_mode & 077))
            add_warning(warn, warnlen,
                        "--tls-key %s can be read by other users (chmod 600 %s)", t->key_path,
                        t->key_path);
    }
    mbedtls_pk_free(&pk);
    mbedtls_x509_crt_free(&crt);
    mbedtls_x509_crt_free(&ca);
    return rc;
}

int hp_tls_new(hp_tls_t **out, hp_tls_role_t role, const hp_tls_files_t *f, char *warn,
               size_t warnlen, char *err, size_t errlen)
{
    *out = NULL;
    if (warn && warnlen)
        *warn = '\0';
    const char *const flags[3] = {"--tls-ca", "--tls-cert", "--tls-key"};
    const char *const paths[3] = {f->ca, f->cert, f->key};
    for (int i = role == HP_TLS_HTTPS ? 1 : 0; i < 3; i++)
        if (!given(paths[i]))
            return hp_errf(err, errlen, HP_EINVAL, "TLS needs %s FILE", flags[i]);
    hp_tls_t *t = calloc(1, sizeof *t);
    if (!t)
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    t->role = role;
    snprintf(t->ca_path, sizeof t->ca_path, "%s", given(f->ca) ? f->ca : "");
    snprintf(t->cert_path, sizeof t->cert_path, "%s", f->cert);
    snprintf(t->key_path, sizeof t->key_path, "%s", f->key);
    int rc;
    if ((given(f->ca) && (rc = read_pem("--tls-ca", f->ca, &t->ca_pem, err, errlen)) < 0) ||
        (rc = read_pem("--tls-cert", f->cert, &t->cert_pem, err, errlen)) < 0 ||
        (rc = read_pem("--tls-key", f->key, &t->key_pem, err, errlen)) < 0 ||
        (rc = check_files(t, warn, warnlen, err, errlen)) < 0) {
        hp_tls_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void hp_tls_free(hp_tls_t *t)
{
    if (!t)
        return;
    free(t->ca_pem);
    free(t->cert_pem);
    if (t->key_pem) {
        memset(t->key_pem, 0, strlen(t->key_pem));
        free(t->key_pem);
    }
    free(t);
}

int hp_tls_url_host(const char *url, char *host, size_t hostlen, char *port, size_t portlen,
                    char *err, size_t errlen)
{
    const char *h = strstr(url, "://");
    if (!h)
        return hp_errf(err, errlen, HP_EINVAL, "'%s' is not a URL", url);
    h += 3;
    const char *end, *colon;
    if (*h == '[') {
        end = strchr(h, ']');
        if (!end || end[1] != ':')
            return hp_errf(err, errlen, HP_EINVAL, "'%s': expected [ADDRESS]:PORT", url);
        h++;
        colon = end + 1;
    } else {
        colon = strrchr(h, ':');
        if (!colon)
            return hp_errf(err, errlen, HP_EINVAL, "'%s': expected HOST:PORT", url);
        end = colon;
    }
    size_t hl = (size_t)(end - h), pl = strcspn(colon + 1, "/");
    if (hl == 0 || hl >= hostlen || pl == 0 || pl >= portlen)
        return hp_errf(err, errlen, HP_EINVAL, "'%s': expected HOST:PORT", url);
    memcpy(host, h, hl);
    host[hl] = '\0';
    memcpy(port, colon + 1, pl);
    port[pl] = '\0';
    return 0;
}

/* ---- nng ---- */

static int nng_fail(int rv, char *err, size_t errlen, const char *what, const char *url)
{
    return hp_errf(err, errlen, hp_err_from_nng(rv), "%s %s: %s", what, url, nng_strerror(rv));
}

/* t's configuration for one endpoint (a client's names the server it
 * expects, url's host); the caller gives it to nng and drops its hold */
static int make_config(const hp_tls_t *t, hp_tls_role_t role, const char *url,
                       nng_tls_config **out, char *err, size_t errlen)
{
    if (!t)
        return hp_errf(err, errlen, HP_EINVAL,
                       "%s is a TLS URL: give --tls-ca, --tls-cert and --tls-key", url);
    if (t->role != role)
        return hp_errf(err, errlen, HP_EINVAL, "%s: TLS configured for the other side", url);
    nng_tls_config *c;
    int rv = nng_tls_config_alloc(&c, role == HP_TLS_SERVER ? NNG_TLS_MODE_SERVER
                                                           : NNG_TLS_MODE_CLIENT);
    if (rv != 0)
        return hp_errf(err, errlen, hp_err_from_nng(rv),
                       "%s: this nng has no TLS (%s); Debian's libnng is built with mbedTLS",
                       url, nng_strerror(rv));
    const char *what = "--tls-ca";
    if ((rv = nng_tls_config_ca_chain(c, t->ca_pem, NULL)) == 0) {
        what = "--tls-cert/--tls-key";
        rv = nng_tls_config_own_cert(c, t->cert_pem, t->key_pem, NULL);
    }
    if (rv == 0) {
        what = "the authentication mode";
        rv = nng_tls_config_auth_mode(c, NNG_TLS_AUTH_MODE_REQUIRED);
    }
    if (rv == 0 && role == HP_TLS_CLIENT) {
        char host[256], port[32];
        int rc = hp_tls_url_host(url, host, sizeof host, port, sizeof port, err, errlen);
        if (rc < 0) {
            nng_tls_config_free(c);
            return rc;
        }
        what = "the server name";
        rv = nng_tls_config_server_name(c, host);
    }
    if (rv != 0) {
        nng_tls_config_free(c);
        return hp_errf(err, errlen, hp_err_from_nng(rv), "%s: nng refused %s: %s", url, what,
                       nng_strerror(rv));
    }
    *out = c;
    return 0;
}

int hp_tls_https_config(const hp_tls_t *t, nng_tls_config **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!t || t->role != HP_TLS_HTTPS)
        return hp_errf(err, errlen, HP_EINVAL,
                       "https:// needs --tls-cert FILE and --tls-key FILE");
    nng_tls_config *c;
    int rv = nng_tls_config_alloc(&c, NNG_TLS_MODE_SERVER);
    if (rv != 0)
        return hp_errf(err, errlen, hp_err_from_nng(rv),
                       "https: this nng has no TLS (%s); Debian's libnng is built with mbedTLS",
                       nng_strerror(rv));
    const char *what = "--tls-cert/--tls-key";
    if ((rv = nng_tls_config_own_cert(c, t->cert_pem, t->key_pem, NULL)) == 0) {
        what = "the authentication mode";
        rv = nng_tls_config_auth_mode(c, NNG_TLS_AUTH_MODE_NONE);
    }
    if (rv != 0) {
        nng_tls_config_free(c);
        return hp_errf(err, errlen, hp_err_from_nng(rv), "https: nng refused %s: %s", what,
                       nng_strerror(rv));
    }
    *out = c;
    return 0;
}

int hp_tls_listen(nng_socket s, const char *url, const hp_tls_t *t, nng_listener *out,
                  char *err, size_t errlen)
{
    nng_listener l;
    int rv = nng_listener_create(&l, s, url);
    if (rv != 0)
        return nng_fail(rv, err, errlen, "cannot listen on", url);
    if (hp_tls_url_is_tls(url)) {
        nng_tls_config *c;
        int rc = make_config(t, HP_TLS_SERVER, url, &c, err, errlen);
        if (rc < 0) {
            nng_listener_close(l);
            return rc;
        }
        rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, c);
        nng_tls_config_free(c); /* the listener holds it now */
        if (rv != 0) {
            nng_listener_close(l);
            return nng_fail(rv, err, errlen, "cannot configure TLS on", url);
        }
    }
    if ((rv = nng_listener_start(l, 0)) != 0) {
        nng_listener_close(l);
        return nng_fail(rv, err, errlen, "cannot listen on", url);
    }
    if (out)
        *out = l;
    return 0;
}

int hp_tls_dial(nng_socket s, const char *url, const hp_tls_t *t, int flags, nng_dialer *out,
                char *err, size_t errlen)
{
    nng_dialer d;
    int rv = nng_dialer_create(&d, s, url);
    if (rv != 0)
        return hp_errf(err, errlen, hp_err_from_nng(rv), "%s", nng_strerror(rv));
    if (hp_tls_url_is_tls(url)) {
        nng_tls_config *c;
        int rc = make_config(t, HP_TLS_CLIENT, url, &c, err, errlen);
        if (rc < 0) {
            nng_dialer_close(d);
            return rc;
        }
        rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, c);
        nng_tls_config_free(c);
        if (rv != 0) {
            nng_dialer_close(d);
            return hp_errf(err, errlen, hp_err_from_nng(rv), "cannot configure TLS: %s",
                           nng_strerror(rv));
        }
    }
    if ((rv = nng_dialer_start(d, flags)) != 0) {
        nng_dialer_close(d);
        return hp_errf(err, errlen, hp_err_from_nng(rv), "%s", nng_strerror(rv));
    }
    if (out)
        *out = d;
    return 0;
}

/* the statistics scope of listener id under st (nng 1.5's
 * nng_stat_find_listener can answer with another listener's scope, so
 * the scopes' own "id" statistics are compared) */
static nng_stat *find_listener(nng_stat *st, int id)
{
    for (nng_stat *c = nng_stat_child(st); c; c = nng_stat_next(c)) {
        if (nng_stat_type(c) != NNG_STAT_SCOPE)
            continue;
        nng_stat *idst = strcmp(nng_stat_name(c), "listener") == 0 ? nng_stat_child(c) : NULL;
        for (; idst; idst = nng_stat_next(idst))
            if (strcmp(nng_stat_name(idst), "id") == 0)
                break;
        if (idst && nng_stat_value(idst) == (uint64_t)id)
            return c;
        nng_stat *deeper = find_listener(c, id);
        if (deeper)
            return deeper;
    }
    return NULL;
}

uint64_t hp_tls_listener_failures(nng_listener l)
{
    nng_stat *all;
    if (nng_stats_get(&all) != 0)
        return 0;
    uint64_t n = 0;
    nng_stat *ls = find_listener(all, nng_listener_id(l));
    for (nng_stat *c = ls ? nng_stat_child(ls) : NULL; c; c = nng_stat_next(c))
        if (strcmp(nng_stat_name(c), "auth") == 0)
            n = nng_stat_value(c);
    nng_stats_free(all);
    return n;
}
