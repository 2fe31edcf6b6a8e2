/* Why did nng's handshake fail? nng says only "Cryptographic error", so
 * this repeats the handshake with mbedTLS itself, verifying the server's
 * certificate in OPTIONAL mode so that the handshake goes on and the
 * verification result can be read and put in words. */
#include "tls_int.h"

#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* mbedtls_net_send without SIGPIPE: a server that drops us mid-handshake
 * must not kill the process that asked */
static int send_nosignal(void *ctx, const unsigned char *buf, size_t len)
{
    int fd = ((mbedtls_net_context *)ctx)->fd;
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
    if (n >= 0)
        return (int)n;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    if (errno == EINTR)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    if (errno == EPIPE || errno == ECONNRESET)
        return MBEDTLS_ERR_NET_CONN_RESET;
    return MBEDTLS_ERR_NET_SEND_FAILED;
}

/* a TCP connection within timeout_ms (mbedtls_net_connect has no timeout) */
static int connect_within(const char *host, const char *port, int timeout_ms, int *out,
                          char *why, size_t whylen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
    int g = getaddrinfo(host, port, &hints, &res);
    if (g != 0)
        return hp_errf(why, whylen, HP_ECONNREFUSED, "cannot resolve %s: %s", host,
                       gai_strerror(g));
    int fd = -1, saved = ECONNREFUSED;
    for (ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
            saved = errno;
            close(fd);
            fd = -1;
            continue;
        }
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        int pr = poll(&p, 1, timeout_ms);
        if (pr <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
            saved = pr == 0 ? ETIMEDOUT : soerr ? soerr : errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return hp_errf(why, whylen, saved == ETIMEDOUT ? HP_ETIMEDOUT : HP_ECONNREFUSED,
                       "cannot connect to %s:%s: %s", host, port, strerror(saved));
    /* blocking again: mbedtls_net_recv_timeout polls with the read timeout */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    *out = fd;
    return 0;
}

/* the server's certificate failed verification: flags in words */
static int server_cert_problem(uint32_t flags, const char *host, char *why, size_t whylen)
{
    if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
        return hp_errf(why, whylen, 1,
                       "certificate not trusted (is --tls-ca the CA that signed the server's "
                       "certificate?)");
    if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)
        return hp_errf(why, whylen, 1,
                       "the server's certificate is not issued for '%s' (the host in the URL); "
                       "issue it with `hpsearch certs issue DIR NAME --san %s`, or dial a name "
                       "it has",
                       host, host);
    if (flags & MBEDTLS_X509_BADCERT_EXPIRED)
        return hp_errf(why, whylen, 1,
                       "the server's certificate has expired (issue a new one with `hpsearch "
                       "certs issue ... --force`)");
    if (flags & MBEDTLS_X509_BADCERT_FUTURE)
        return hp_errf(why, whylen, 1,
                       "the server's certificate is not valid yet (check the clocks of both "
                       "hosts)");
    char info[256];
    mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
    info[strcspn(info, "\n")] = '\0';
    return hp_errf(why, whylen, 1, "the server's certificate was refused: %s", info);
}

/* "YYYY-MM-DD" of an X.509 time */
static void day_of(const mbedtls_x509_time *x, char *out, size_t cap)
{
    snprintf(out, cap, "%04d-%02d-%02d", x->year, x->mon, x->day);
}

/* The server refused this client's certificate: why, from the alert the
 * server sent (mbedTLS's server names the verification failure in it:
 * unknown_ca, certificate_expired, bad_certificate...; 0 when it only
 * closed) and from what this side can check of its own certificate. */
static int refused_cert(const hp_tls_t *t, const mbedtls_x509_crt *own, const mbedtls_x509_crt *ca,
                        int alert, char *why, size_t whylen)
{
    char until[16], from[16];
    day_of(&own->valid_to, until, sizeof until);
    day_of(&own->valid_from, from, sizeof from);
    int expired = mbedtls_x509_time_is_past(&own->valid_to);
    int future = mbedtls_x509_time_is_future(&own->valid_from);
    uint32_t flags = 0;
    int ours = mbedtls_x509_crt_verify((mbedtls_x509_crt *)own, (mbedtls_x509_crt *)ca, NULL,
                                       NULL, &flags, NULL, NULL) == 0 ||
               !(flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED);
    if (alert == MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED || expired || future) {
        if (future && !expired)
            return hp_errf(why, whylen, 1,
                           "the server refused this client's certificate: --tls-cert %s is not "
                           "valid until %s (check the clocks of both hosts)",
                           t->cert_path, from);
        return hp_errf(why, whylen, 1,
                       "the server refused this client's certificate as expired: --tls-cert %s "
                       "was valid until %s; issue a new one (`hpsearch certs issue DIR NAME "
                       "--force`)%s",
                       t->cert_path, until, expired ? "" : " (or check the server's clock)");
    }
    if (alert == MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA)
        return hp_errf(why, whylen, 1,
                       "the server refused this client's certificate: it is not signed by a CA "
                       "the server trusts (TLS alert unknown_ca); is --tls-cert %s signed by the "
                       "CA the server's --tls-ca names?%s",
                       t->cert_path,
                       ours ? "" : " It is not signed by this side's --tls-ca either");
    if (alert)
        return hp_errf(why, whylen, 1,
                       "the server refused this client's certificate (TLS alert %d); is "
                       "--tls-cert %s signed by the CA the server's --tls-ca names?",
                       alert, t->cert_path);
    return hp_errf(why, whylen, 1,
                   "the server refused this client's certificate (it closed the connection "
                   "without saying why); is --tls-cert %s signed by the CA the server's "
                   "--tls-ca names?%s",
                   t->cert_path, ours ? "" : " It is not signed by this side's --tls-ca either");
}

/* the handshake failed with the server's certificate verified, or never
 * received: in what state it stopped tells which */
static int handshake_problem(const hp_tls_t *t, const mbedtls_ssl_context *ssl,
                             const mbedtls_x509_crt *own, const mbedtls_x509_crt *ca, int m,
                             int timeout_ms, char *why, size_t whylen)
{
    /* the alert the server sent, if it sent one */
    int alert = m == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && ssl->in_msg ? ssl->in_msg[1] : 0;
    /* past our Certificate, with the server's found good: the server said
     * no to ours (nng's mbedTLS server closes without an alert, or sends one) */
    if (ssl->state > MBEDTLS_SSL_CLIENT_CERTIFICATE && m != MBEDTLS_ERR_SSL_TIMEOUT)
        m = MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE;
    switch (m) {
    case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
        return refused_cert(t, own, ca, alert, why, whylen);
    case MBEDTLS_ERR_SSL_TIMEOUT:
        return hp_errf(why, whylen, 1, "no TLS reply from the server within %d ms (is it a TLS "
                                       "socket, tls+tcp://?)",
                       timeout_ms);
    case MBEDTLS_ERR_SSL_CONN_EOF:
    case MBEDTLS_ERR_NET_CONN_RESET:
    case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
        return hp_errf(why, whylen, 1,
                       "the server closed the connection during the TLS handshake (is it "
                       "listening with tls+tcp://? a plain tcp:// socket does not speak TLS)");
    case MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO:
    case MBEDTLS_ERR_SSL_INVALID_RECORD:
    case MBEDTLS_ERR_SSL_BAD_INPUT_DATA:
        return hp_errf(why, whylen, 1,
                       "the server did not answer in TLS (is it listening with tls+tcp://?)");
    default: {
        char s[200];
        mbedtls_strerror(m, s, sizeof s);
        return hp_errf(why, whylen, 1, "%s (mbedTLS -0x%04x)", s, (unsigned)-m);
    }
    }
}

int hp_tls_diagnose(const hp_tls_t *t, const char *url, int timeout_ms, char *why,
                    size_t whylen)
{
    char host[256], port[32];
    int rc = hp_tls_url_host(url, host, sizeof host, port, sizeof port, why, whylen);
    if (rc < 0)
        return rc;
    if (timeout_ms <= 0)
        timeout_ms = 5000;

    mbedtls_x509_crt ca, own;
    mbedtls_pk_context key;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_net_context net;
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&own);
    mbedtls_pk_init(&key);
    mbedtls_ssl_config_init(&conf);
    mbedtls_ssl_init(&ssl);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_net_init(&net);

    static const unsigned char pers[] = "hpsearch tls probe";
    int m = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, pers, sizeof pers - 1);
    /* hp_tls_new checked these files; they parse */
    if (m == 0 && t)
        m = mbedtls_x509_crt_parse(&ca, (const unsigned char *)t->ca_pem, strlen(t->ca_pem) + 1);
    if (m == 0 && t)
        m = mbedtls_x509_crt_parse(&own, (const unsigned char *)t->cert_pem,
                                   strlen(t->cert_pem) + 1);
    if (m == 0 && t)
        m = mbedtls_pk_parse_key(&key, (const unsigned char *)t->key_pem,
                                 strlen(t->key_pem) + 1, NULL, 0);
    if (m == 0)
        m = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT,
                                        MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (m == 0) {
        /* without files, only whether the server speaks TLS at all */
        mbedtls_ssl_conf_authmode(&conf, t ? MBEDTLS_SSL_VERIFY_OPTIONAL : MBEDTLS_SSL_VERIFY_NONE);
        if (t)
            mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
        mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
        mbedtls_ssl_conf_read_timeout(&conf, (uint32_t)timeout_ms);
        if (t)
            m = mbedtls_ssl_conf_own_cert(&conf, &own, &key);
    }
    if (m == 0)
        m = mbedtls_ssl_setup(&ssl, &conf);
    if (m == 0)
        m = mbedtls_ssl_set_hostname(&ssl, host);
    if (m != 0) {
        char s[200];
        mbedtls_strerror(m, s, sizeof s);
        rc = hp_errf(why, whylen, HP_EIO, "cannot set up a TLS handshake: %s", s);
        goto out;
    }
    if ((rc = connect_within(host, port, timeout_ms, &net.fd, why, whylen)) < 0)
        goto out;
    mbedtls_ssl_set_bio(&ssl, &net, send_nosignal, NULL, mbedtls_net_recv_timeout);
    do
        m = mbedtls_ssl_handshake(&ssl);
    while (m == MBEDTLS_ERR_SSL_WANT_READ || m == MBEDTLS_ERR_SSL_WANT_WRITE);
    /* the server's certificate, if one came, was verified whatever happened after */
    uint32_t flags = mbedtls_ssl_get_verify_result(&ssl);
    if (!t && (m == 0 || ssl.state > MBEDTLS_SSL_SERVER_HELLO))
        rc = hp_errf(why, whylen, 1,
                     "the server at %s:%s speaks TLS: dial tls+tcp://%s%s%s:%s and give --tls-ca, "
                     "--tls-cert and --tls-key",
                     host, port, strchr(host, ':') ? "[" : "", host,
                     strchr(host, ':') ? "]" : "", port);
    else if (!t)
        rc = hp_errf(why, whylen, 0, "the server does not speak TLS");
    else if (flags != 0 && flags != (uint32_t)-1)
        rc = server_cert_problem(flags, host, why, whylen);
    else if (m != 0)
        rc = handshake_problem(t, &ssl, &own, &ca, m, timeout_ms, why, whylen);
    else {
        mbedtls_ssl_close_notify(&ssl);
        rc = hp_errf(why, whylen, 0, "the TLS handshake succeeded");
    }
out:
    mbedtls_net_free(&net);
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    mbedtls_pk_free(&key);
    mbedtls_x509_crt_free(&own);
    mbedtls_x509_crt_free(&ca);
    return rc;
}
