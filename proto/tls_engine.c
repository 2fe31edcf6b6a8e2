/* hpsearchd's TLS engine: nng's engine interface
 * (nng/supplemental/tls/engine.h) on mbedTLS, the library Debian's nng
 * uses for its own engine, so that a handshake the daemon refuses is
 * logged with who tried and why. nng's built-in engine says neither: the
 * listener sees only a counter (hp_tls_listener_failures).
 *
 * The engine does what nng's does — TLS 1.2, mbedTLS's default cipher
 * suites, the authentication mode and files nng's configuration calls
 * give it — and, when a server handshake fails, logs one line:
 *
 *     TLS handshake failed from tcp 10.0.0.7:51234: the client's certificate
 *     (CN=w1, O=hpsearch) is not signed by --tls-ca
 *
 * The peer's address: nng 1.5 hands an engine no address, so a server
 * connection takes, when it is made, the newest connected TCP socket of
 * this process that no other live connection has claimed (sockets' inode
 * numbers grow); nng has just accepted it. A best effort, for the log
 * only: with many connections accepted at once an address may be given
 * to the wrong one of them.
 *
 * Installed by hp_tls_engine_install before any TLS configuration is
 * made; any thread (nng's) runs the operations. */
#define _GNU_SOURCE
#include "tls.h"

#include "err.h"
#include "log.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <nng/supplemental/tls/engine.h>
#include <nng/supplemental/tls/tls.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAIRS 4

struct nng_tls_engine_config {
    mbedtls_ssl_config ssl;
    mbedtls_x509_crt ca;
    mbedtls_x509_crl crl;
    mbedtls_x509_crt crt[MAX_PAIRS];
    mbedtls_pk_context key[MAX_PAIRS];
    int npairs;
    int server;
    char *server_name;
};

struct nng_tls_engine_conn {
    void *tls; /* nng's connection: what nng_tls_engine_send/recv take */
    mbedtls_ssl_context ssl;
    int server;
    int fd;             /* the socket claimed (server), -1: none */
    unsigned long ino;  /* its inode, so a reused fd is not taken for it */
    char peer[80];      /* "tcp 10.0.0.7:51234", or "an unknown peer" */
    int failed;         /* its handshake failed (logged once) */
};

/* ---- the peer's address (server connections) ------------------------------- */

static pthread_mutex_t claim_mu = PTHREAD_MUTEX_INITIALIZER;
typedef struct {
    int fd;
    unsigned long ino;
} claim_t;
static claim_t *claims;
static size_t nclaims, capclaims;

static int claimed(int fd, unsigned long ino)
{
    for (size_t i = 0; i < nclaims; i++)
        if (claims[i].fd == fd && claims[i].ino == ino)
            return 1;
    return 0;
}

static void peer_name(int fd, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "";
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        snprintf(out, cap, "tcp %s:%u", ip, ntohs(a->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        snprintf(out, cap, "tcp6 [%s]:%u", ip, ntohs(a->sin6_port));
    } else {
        snprintf(out, cap, "an unknown peer");
    }
}

/* Claims the newest connected TCP socket no live connection holds. */
static void claim_peer(nng_tls_engine_conn *c)
{
    c->fd = -1;
    snprintf(c->peer, sizeof c->peer, "an unknown peer");
    pthread_mutex_lock(&claim_mu);
    DIR *d = opendir("/proc/self/fd");
    int best = -1;
    unsigned long best_ino = 0;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        char path[64], link[64];
        int fd = atoi(e->d_name);
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n <= 0)
            continue;
        link[n] = '\0';
        unsigned long ino;
        if (sscanf(link, "socket:[%lu]", &ino) != 1 || ino <= best_ino || claimed(fd, ino))
            continue;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int type = 0;
        socklen_t tl = sizeof type;
        if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0 ||
            (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
            getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM)
            continue;
        best = fd;
        best_ino = ino;
    }
    if (d)
        closedir(d);
    if (best >= 0) {
        if (nclaims == capclaims) {
            size_t cap = capclaims ? capclaims * 2 : 64;
            claim_t *v = realloc(claims, cap * sizeof *v);
            if (v) {
                claims = v;
                capclaims = cap;
            }
        }
        if (nclaims < capclaims) {
            claims[nclaims++] = (claim_t){best, best_ino};
            c->fd = best;
            c->ino = best_ino;
        }
        peer_name(best, c->peer, sizeof c->peer);
    }
    pthread_mutex_unlock(&claim_mu);
}

static void release_peer(nng_tls_engine_conn *c)
{
    if (c->fd < 0)
        return;
    pthread_mutex_lock(&claim_mu);
    for (size_t i = 0; i < nclaims; i++)
        if (claims[i].fd == c->fd && claims[i].ino == c->ino) {
            claims[i] = claims[--nclaims];
            break;
        }
    pthread_mutex_unlock(&claim_mu);
    c->fd = -1;
}

/* ---- why a server handshake failed ------------------------------------------ */

/* " WORD YYYY-MM-DD" of an X.509 time, or "" without a certificate */
static void date_words(const mbedtls_x509_crt *crt, int to, const char *word, char *out,
                       size_t cap)
{
    if (!crt) {
        snprintf(out, cap, "%s", "");
        return;
    }
    const mbedtls_x509_time *x = to ? &crt->valid_to : &crt->valid_from;
    snprintf(out, cap, " %s %04d-%02d-%02d", word, x->year, x->mon, x->day);
}

static const char *alert_name(int a)
{
    switch (a) {
    case MBEDTLS_SSL_ALERT_MSG_BAD_CERT: return "bad_certificate";
    case MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN: return "certificate_unknown";
    case MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED: return "certificate_expired";
    case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA: return "unknown_ca";
    case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE: return "handshake_failure";
    case MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED: return "access_denied";
    default: return "another";
    }
}

static void server_failure(nng_tls_engine_conn *c, int rv, char *why, size_t cap)
{
    /* mid-handshake the certificate is still the negotiated session's */
    const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&c->ssl);
    if (!peer && c->ssl.session_negotiate)
        peer = c->ssl.session_negotiate->peer_cert;
    char who[256] = "";
    if (peer) {
        char dn[200];
        if (mbedtls_x509_dn_gets(dn, sizeof dn, &peer->subject) > 0)
            snprintf(who, sizeof who, " (%s)", dn);
    }
    uint32_t flags = mbedtls_ssl_get_verify_result(&c->ssl);
    if (rv == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && flags != (uint32_t)-1) {
        char d[40];
        if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
            snprintf(why, cap, "the client's certificate%s is not signed by --tls-ca", who);
        } else if (flags & MBEDTLS_X509_BADCERT_EXPIRED) {
            date_words(peer, 1, "on", d, sizeof d);
            snprintf(why, cap, "the client's certificate%s has expired%s", who, d);
        } else if (flags & MBEDTLS_X509_BADCERT_FUTURE) {
            date_words(peer, 0, "until", d, sizeof d);
            snprintf(why, cap, "the client's certificate%s is not valid yet%s (check the clocks)",
                     who, d);
        } else {
            char info[200];
            mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
            info[strcspn(info, "\n")] = '\0';
            snprintf(why, cap, "the client's certificate%s was refused: %s", who, info);
        }
        return;
    }
    switch (rv) {
    case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE:
        snprintf(why, cap, "the client sent no certificate (this daemon requires one signed by "
                           "--tls-ca: give the client --tls-cert and --tls-key)");
        return;
    case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE: {
        int a = c->ssl.in_msg ? c->ssl.in_msg[1] : 0;
        snprintf(why, cap,
                 "the client refused this daemon's certificate (TLS alert %s): is the client's "
                 "--tls-ca the CA that signed this daemon's --tls-cert, and does the certificate "
                 "name the host the client dials?",
                 alert_name(a));
        return;
    }
    case MBEDTLS_ERR_SSL_BAD_HS_CLIENT_HELLO:
    case MBEDTLS_ERR_SSL_INVALID_RECORD:
    case MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION:
        snprintf(why, cap, "the client does not speak TLS (a plain tcp:// client?)");
        return;
    case MBEDTLS_ERR_SSL_CONN_EOF:
    case MBEDTLS_ERR_NET_RECV_FAILED:
    case MBEDTLS_ERR_NET_SEND_FAILED:
    case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
        snprintf(why, cap,
                 "the client closed the connection during the handshake%s (it may have refused "
                 "this daemon's certificate; its log says why)",
                 peer ? " after sending its certificate" : "");
        return;
    default: {
        char s[160];
        mbedtls_strerror(rv, s, sizeof s);
        snprintf(why, cap, "%s (mbedTLS -0x%04x)", s, (unsigned)-rv);
    }
    }
}

/* At most a few lines a second, however fast a client fails. */
static void log_failure(nng_tls_engine_conn *c, int rv)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static time_t second;
    static unsigned in_second, dropped;
    time_t now = time(NULL);
    pthread_mutex_lock(&mu);
    if (now != second) {
        if (dropped)
            hp_log_warn("%u more TLS handshakes failed in that second (not logged one by one)",
                        dropped);
        second = now;
        in_second = dropped = 0;
    }
    int log = ++in_second <= 5;
    dropped += !log;
    pthread_mutex_unlock(&mu);
    if (!log)
        return;
    char why[512];
    server_failure(c, rv, why, sizeof why);
    hp_log_warn("TLS handshake failed from %s: %s", c->peer, why);
}

/* ---- mbedTLS and nng --------------------------------------------------------- */

static int to_nng(int rv)
{
    switch (rv) {
    case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE:
    case MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED:
    case MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED:
    case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
    case MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE:
        return NNG_EPEERAUTH;
    case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
        return NNG_ECONNREFUSED;
    case MBEDTLS_ERR_SSL_ALLOC_FAILED:
        return NNG_ENOMEM;
    case MBEDTLS_ERR_SSL_TIMEOUT:
        return NNG_ETIMEDOUT;
    case MBEDTLS_ERR_SSL_CONN_EOF:
        return NNG_ECLOSED;
    default:
        return NNG_ECRYPTO;
    }
}

static int rng(void *arg, unsigned char *buf, size_t len)
{
    (void)arg;
    while (len) {
        ssize_t n = getrandom(buf, len, 0);
        if (n < 0)
            return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int bio_send(void *tls, const unsigned char *buf, size_t len)
{
    size_t n = len;
    int rv = nng_tls_engine_send(tls, buf, &n);
    return rv == 0 ? (int)n : rv == NNG_EAGAIN ? MBEDTLS_ERR_SSL_WANT_WRITE
                                               : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *tls, unsigned char *buf, size_t len)
{
    size_t n = len;
    int rv = nng_tls_engine_recv(tls, buf, &n);
    return rv == 0 ? (int)n : rv == NNG_EAGAIN ? MBEDTLS_ERR_SSL_WANT_READ
                                               : MBEDTLS_ERR_NET_RECV_FAILED;
}

static int conn_init(nng_tls_engine_conn *c, void *tls, nng_tls_engine_config *cfg)
{
    c->tls = tls;
    c->server = cfg->server;
    c->fd = -1;
    mbedtls_ssl_init(&c->ssl);
    mbedtls_ssl_set_bio(&c->ssl, tls, bio_send, bio_recv, NULL);
    int rv = mbedtls_ssl_setup(&c->ssl, &cfg->ssl);
    if (rv != 0)
        return to_nng(rv);
    if (cfg->server_name)
        mbedtls_ssl_set_hostname(&c->ssl, cfg->server_name);
    if (c->server)
        claim_peer(c);
    return 0;
}

static void conn_fini(nng_tls_engine_conn *c)
{
    release_peer(c);
    mbedtls_ssl_free(&c->ssl);
}

static void conn_close(nng_tls_engine_conn *c)
{
    (void)mbedtls_ssl_close_notify(&c->ssl);
}

static int conn_handshake(nng_tls_engine_conn *c)
{
    int rv = mbedtls_ssl_handshake(&c->ssl);
    if (rv == MBEDTLS_ERR_SSL_WANT_READ || rv == MBEDTLS_ERR_SSL_WANT_WRITE)
        return NNG_EAGAIN;
    if (rv == 0) {
        release_peer(c); /* known good: its socket may be claimed no more */
        return 0;
    }
    if (c->server && !c->failed)
        log_failure(c, rv);
    c->failed = 1;
    return to_nng(rv);
}

static int conn_recv(nng_tls_engine_conn *c, uint8_t *buf, size_t *len)
{
    int rv = mbedtls_ssl_read(&c->ssl, buf, *len);
    if (rv == MBEDTLS_ERR_SSL_WANT_READ || rv == MBEDTLS_ERR_SSL_WANT_WRITE)
        return NNG_EAGAIN;
    if (rv < 0)
        return to_nng(rv);
    *len = (size_t)rv;
    return 0;
}

static int conn_send(nng_tls_engine_conn *c, const uint8_t *buf, size_t *len)
{
    int rv = mbedtls_ssl_write(&c->ssl, buf, *len);
    if (rv == MBEDTLS_ERR_SSL_WANT_READ || rv == MBEDTLS_ERR_SSL_WANT_WRITE)
        return NNG_EAGAIN;
    if (rv < 0)
        return to_nng(rv);
    *len = (size_t)rv;
    return 0;
}

static bool conn_verified(nng_tls_engine_conn *c)
{
    return mbedtls_ssl_get_verify_result(&c->ssl) == 0;
}

static void config_fini(nng_tls_engine_config *cfg)
{
    mbedtls_ssl_config_free(&cfg->ssl);
    mbedtls_x509_crt_free(&cfg->ca);
    mbedtls_x509_crl_free(&cfg->crl);
    for (int i = 0; i < MAX_PAIRS; i++) {
        mbedtls_x509_crt_free(&cfg->crt[i]);
        mbedtls_pk_free(&cfg->key[i]);
    }
    free(cfg->server_name);
    cfg->server_name = NULL;
}

static int config_init(nng_tls_engine_config *cfg, nng_tls_mode mode)
{
    cfg->server = mode == NNG_TLS_MODE_SERVER;
    mbedtls_ssl_config_init(&cfg->ssl);
    mbedtls_x509_crt_init(&cfg->ca);
    mbedtls_x509_crl_init(&cfg->crl);
    for (int i = 0; i < MAX_PAIRS; i++) {
        mbedtls_x509_crt_init(&cfg->crt[i]);
        mbedtls_pk_init(&cfg->key[i]);
    }
    int rv = mbedtls_ssl_config_defaults(&cfg->ssl,
                                         cfg->server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                         MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (rv != 0) {
        config_fini(cfg);
        return to_nng(rv);
    }
    /* nng's defaults: a server checks nobody unless told; a client checks
     * the server; TLS 1.2 only (mbedTLS 2.28 has no 1.3) */
    mbedtls_ssl_conf_authmode(&cfg->ssl, cfg->server ? MBEDTLS_SSL_VERIFY_NONE
                                                     : MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_min_version(&cfg->ssl, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(&cfg->ssl, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_rng(&cfg->ssl, rng, NULL);
    return 0;
}

static int config_server(nng_tls_engine_config *cfg, const char *name)
{
    char *d = strdup(name);
    if (!d)
        return NNG_ENOMEM;
    free(cfg->server_name);
    cfg->server_name = d;
    return 0;
}

static int config_auth(nng_tls_engine_config *cfg, nng_tls_auth_mode mode)
{
    switch (mode) {
    case NNG_TLS_AUTH_MODE_NONE:
        mbedtls_ssl_conf_authmode(&cfg->ssl, MBEDTLS_SSL_VERIFY_NONE);
        return 0;
    case NNG_TLS_AUTH_MODE_OPTIONAL:
        mbedtls_ssl_conf_authmode(&cfg->ssl, MBEDTLS_SSL_VERIFY_OPTIONAL);
        return 0;
    case NNG_TLS_AUTH_MODE_REQUIRED:
        mbedtls_ssl_conf_authmode(&cfg->ssl, MBEDTLS_SSL_VERIFY_REQUIRED);
        return 0;
    }
    return NNG_EINVAL;
}

static int config_ca_chain(nng_tls_engine_config *cfg, const char *certs, const char *crl)
{
    int rv = mbedtls_x509_crt_parse(&cfg->ca, (const unsigned char *)certs, strlen(certs) + 1);
    if (rv == 0 && crl)
        rv = mbedtls_x509_crl_parse(&cfg->crl, (const unsigned char *)crl, strlen(crl) + 1);
    if (rv != 0)
        return to_nng(rv);
    mbedtls_ssl_conf_ca_chain(&cfg->ssl, &cfg->ca, crl ? &cfg->crl : NULL);
    return 0;
}

static int config_own_cert(nng_tls_engine_config *cfg, const char *cert, const char *key,
                           const char *pass)
{
    if (cfg->npairs == MAX_PAIRS)
        return NNG_ENOMEM;
    int i = cfg->npairs;
    int rv = mbedtls_x509_crt_parse(&cfg->crt[i], (const unsigned char *)cert, strlen(cert) + 1);
    if (rv == 0)
        rv = mbedtls_pk_parse_key(&cfg->key[i], (const unsigned char *)key, strlen(key) + 1,
                                  (const unsigned char *)pass, pass ? strlen(pass) : 0);
    if (rv == 0)
        rv = mbedtls_ssl_conf_own_cert(&cfg->ssl, &cfg->crt[i], &cfg->key[i]);
    if (rv != 0) {
        mbedtls_x509_crt_free(&cfg->crt[i]);
        mbedtls_pk_free(&cfg->key[i]);
        mbedtls_x509_crt_init(&cfg->crt[i]);
        mbedtls_pk_init(&cfg->key[i]);
        return to_nng(rv);
    }
    cfg->npairs++;
    return 0;
}

static int minor_of(nng_tls_version v, int *out)
{
    switch (v) {
    case NNG_TLS_1_0: *out = MBEDTLS_SSL_MINOR_VERSION_1; return 0;
    case NNG_TLS_1_1: *out = MBEDTLS_SSL_MINOR_VERSION_2; return 0;
    case NNG_TLS_1_2:
    case NNG_TLS_1_3: *out = MBEDTLS_SSL_MINOR_VERSION_3; return 0; /* no 1.3 here */
    default: return NNG_ENOTSUP;
    }
}

static int config_version(nng_tls_engine_config *cfg, nng_tls_version lo, nng_tls_version hi)
{
    int a, b;
    if (lo > hi || lo == NNG_TLS_1_3 || minor_of(lo, &a) || minor_of(hi, &b))
        return NNG_ENOTSUP;
    mbedtls_ssl_conf_min_version(&cfg->ssl, MBEDTLS_SSL_MAJOR_VERSION_3, a);
    mbedtls_ssl_conf_max_version(&cfg->ssl, MBEDTLS_SSL_MAJOR_VERSION_3, b);
    return 0;
}

static nng_tls_engine_config_ops config_ops = {
    .size = sizeof(nng_tls_engine_config),
    .init = config_init,
    .fini = config_fini,
    .server = config_server,
    .auth = config_auth,
    .ca_chain = config_ca_chain,
    .own_cert = config_own_cert,
    .version = config_version,
};

static nng_tls_engine_conn_ops conn_ops = {
    .size = sizeof(nng_tls_engine_conn),
    .init = conn_init,
    .fini = conn_fini,
    .close = conn_close,
    .handshake = conn_handshake,
    .recv = conn_recv,
    .send = conn_send,
    .verified = conn_verified,
};

static nng_tls_engine engine = {
    .version = NNG_TLS_ENGINE_VERSION,
    .config_ops = &config_ops,
    .conn_ops = &conn_ops,
    .name = "hpsearch-mbedtls",
    .description = "hpsearch's engine on " MBEDTLS_VERSION_STRING_FULL
                   " (names refused handshakes)",
    .fips_mode = false,
};

static int installed;

int hp_tls_engine_installed(void) { return __atomic_load_n(&installed, __ATOMIC_RELAXED); }

int hp_tls_engine_install(char *err, size_t errlen)
{
    /* nng registers its own engine when it initialises, on its first use:
     * use it first, so that registering this one comes after */
    nng_tls_config *probe;
    int rv = nng_tls_config_alloc(&probe, NNG_TLS_MODE_SERVER);
    if (rv == 0)
        nng_tls_config_free(probe);
    if ((rv = nng_tls_engine_register(&engine)) != 0)
        return hp_errf(err, errlen, HP_ESTATE, "cannot register hpsearch's TLS engine: %s",
                       nng_strerror(rv));
    if (strcmp(nng_tls_engine_name(), engine.name) != 0)
        return hp_errf(err, errlen, HP_ESTATE, "nng kept its TLS engine (%s)",
                       nng_tls_engine_name());
    __atomic_store_n(&installed, 1, __ATOMIC_RELAXED);
    return 0;
}
