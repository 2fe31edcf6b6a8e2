/* The private CA behind `hpsearch certs`: keys, certificates, their files. */
#include "certs.h"

#include "err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PEM_MAX 8192

static int mbed_failed(char *err, size_t errlen, int code, const char *what, int mrv)
{
    char why[200];
    mbedtls_strerror(mrv, why, sizeof why);
    return hp_errf(err, errlen, code, "%s: %s (mbedTLS -0x%04x)", what, why, (unsigned)-mrv);
}

/* ---- names ---- */

static int is_ip(const char *s, unsigned char addr[16], size_t *len)
{
    if (inet_pton(AF_INET, s, addr) == 1) {
        *len = 4;
        return 1;
    }
    if (inet_pton(AF_INET6, s, addr) == 1) {
        *len = 16;
        return 1;
    }
    return 0;
}

int hp_certs_check_name(const char *what, const char *s, char *err, size_t errlen)
{
    unsigned char addr[16];
    size_t alen;
    if (!s || !*s)
        return hp_errf(err, errlen, HP_EINVAL, "%s is empty", what);
    if (is_ip(s, addr, &alen))
        return 0;
    size_t n = strlen(s), label = 0;
    if (n > 253)
        return hp_errf(err, errlen, HP_EINVAL, "%s '%.40s...' is longer than 253 characters",
                       what, s);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (label == 0)
                return hp_errf(err, errlen, HP_EINVAL,
                               "%s '%s' is not a host name (an empty label between dots)", what,
                               s);
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return hp_errf(err, errlen, HP_EINVAL,
                           "%s '%s' is not a host name or IP address (character '%c' at %zu; "
                           "use letters, digits, '-', '_' and dots)",
                           what, s, c >= 0x20 && c < 0x7f ? c : '?', i + 1);
        if (++label > 63)
            return hp_errf(err, errlen, HP_EINVAL, "%s '%s' has a label over 63 characters",
                           what, s);
    }
    if (label == 0)
        return hp_errf(err, errlen, HP_EINVAL, "%s '%s' ends with a dot", what, s);
    return 0;
}

/* one GeneralName, written backwards before *p */
static int write_general_name(unsigned char **p, unsigned char *start, int tag,
                              const unsigned char *v, size_t vlen)
{
    int len = 0, r;
    if ((r = mbedtls_asn1_write_raw_buffer(p, start, v, vlen)) < 0)
        return r;
    len += r;
    if ((r = mbedtls_asn1_write_len(p, start, (size_t)len)) < 0)
        return r;
    len += r;
    if ((r = mbedtls_asn1_write_tag(p, start, (unsigned char)tag)) < 0)
        return r;
    return len + r;
}

int hp_certs_san_der(const char *const *names, size_t n, unsigned char *buf, size_t size,
                     const unsigned char **der, size_t *len, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        int rc = hp_certs_check_name("subjectAltName", names[i], err, errlen);
        if (rc < 0)
            return rc;
    }
    unsigned char *p = buf + size;
    size_t total = 0;
    int r;
    /* asn1write fills from the end: the last name first keeps their order */
    for (size_t i = n; i-- > 0;) {
        const char *s = names[i];
        unsigned char addr[16];
        size_t alen;
        if (is_ip(s, addr, &alen)) {
            r = write_general_name(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7, addr, alen);
            if (r < 0)
                goto small;
            total += (size_t)r;
        }
        /* an IP as text too: mbedTLS 2.28 checks a host only against dNSName */
        r = write_general_name(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2,
                               (const unsigned char *)s, strlen(s));
        if (r < 0)
            goto small;
        total += (size_t)r;
    }
    if ((r = mbedtls_asn1_write_len(&p, buf, total)) < 0)
        goto small;
    total += (size_t)r;
    if ((r = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) <
        0)
        goto small;
    total += (size_t)r;
    *der = p;
    *len = total;
    return 0;
small:
    return hp_errf(err, errlen, HP_ERANGE, "subjectAltName: %zu names do not fit in %zu bytes",
                   n, size);
}

/* ---- files ---- */

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static int refuse_existing(const char *const *paths, size_t n, int force, char *err,
                           size_t errlen)
{
    if (force)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (exists(paths[i]))
            return hp_errf(err, errlen, HP_EEXIST,
                           "%s already exists; refusing to replace it (give --force to write "
                           "new files over the old ones)",
                           paths[i]);
    return 0;
}

/* data to path through a temporary file: never a half-written key or
 * certificate; without force an existing path is left alone (link fails) */
static int write_file(const char *path, const char *data, mode_t mode, int force, char *err,
                      size_t errlen)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return hp_errf(err, errlen, HP_EIO, "cannot create %s: %s", tmp, strerror(errno));
    size_t len = strlen(data), off = 0;
    int bad = fchmod(fd, mode) < 0; /* whatever the umask, exactly this mode */
    while (!bad && off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            bad = 1;
        else
            off += (size_t)w;
    }
    if (!bad && fsync(fd) < 0)
        bad = 1;
    int saved = errno;
    if (close(fd) < 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    if (bad) {
        unlink(tmp);
        return hp_errf(err, errlen, HP_EIO, "cannot write %s: %s", path, strerror(saved));
    }
    int rc = force ? rename(tmp, path) : link(tmp, path);
    saved = errno;
    unlink(tmp);
    if (rc < 0 && saved == EEXIST)
        return hp_errf(err, errlen, HP_EEXIST, "%s already exists; refusing to replace it", path);
    if (rc < 0)
        return hp_errf(err, errlen, HP_EIO, "cannot write %s: %s", path, strerror(saved));
    return 0;
}

static int ensure_dir(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return hp_errf(err, errlen, HP_EINVAL, "%s is not a directory", dir);
        return 0;
    }
    if (errno != ENOENT || mkdir(dir, 0700) < 0)
        return hp_errf(err, errlen, HP_EIO, "cannot create the directory %s: %s", dir,
                       strerror(errno));
    return 0;
}

/* ---- keys and certificates ---- */

typedef struct rng {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
} rng_t;

static int rng_init(rng_t *r, char *err, size_t errlen)
{
    mbedtls_entropy_init(&r->entropy);
    mbedtls_ctr_drbg_init(&r->drbg);
    static const unsigned char pers[] = "hpsearch certs";
    int m = mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy, pers,
                                  sizeof pers - 1);
    return m ? mbed_failed(err, errlen, HP_EIO, "cannot seed the random generator", m) : 0;
}

static void rng_fini(rng_t *r)
{
    mbedtls_ctr_drbg_free(&r->drbg);
    mbedtls_entropy_free(&r->entropy);
}

static int gen_key(mbedtls_pk_context *key, rng_t *r, char *err, size_t errlen)
{
    int m = mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (m == 0)
        m = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*key),
                                mbedtls_ctr_drbg_random, &r->drbg);
    return m ? mbed_failed(err, errlen, HP_EIO, "cannot make an EC P-256 key", m) : 0;
}

static void x509_time(char out[16], time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y%m%d%H%M%S", &tm);
}

typedef struct crt_spec {
    const char *subject, *issuer;
    mbedtls_pk_context *subject_key, *issuer_key;
    int is_ca;
    int days;
    const unsigned char *san; /* NULL: none */
    size_t san_len;
} crt_spec_t;

/* the PEM certificate for s into pem */
static int make_crt(const crt_spec_t *s, rng_t *r, char *pem, size_t pemlen, char *err,
                    size_t errlen)
{
    mbedtls_x509write_cert w;
    mbedtls_x509write_crt_init(&w);
    mbedtls_mpi serial;
    mbedtls_mpi_init(&serial);
    unsigned char sb[16];
    char nb[16], na[16];
    time_t now = time(NULL);
    x509_time(nb, now - 3600); /* an hour of clock skew between hosts */
    x509_time(na, now + (time_t)s->days * 86400);
    const char *step = "random serial";
    int m = mbedtls_ctr_drbg_random(&r->drbg, sb, sizeof sb);
    if (m == 0) {
        sb[0] &= 0x7f; /* a positive INTEGER */
        sb[0] |= 0x01; /* and never a short one */
        m = mbedtls_mpi_read_binary(&serial, sb, sizeof sb);
    }
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w, s->subject_key);
    mbedtls_x509write_crt_set_issuer_key(&w, s->issuer_key);
    if (m == 0 && (m = mbedtls_x509write_crt_set_serial(&w, &serial)) != 0)
        step = "serial";
    if (m == 0 && (m = mbedtls_x509write_crt_set_subject_name(&w, s->subject)) != 0)
        step = "subject name";
    if (m == 0 && (m = mbedtls_x509write_crt_set_issuer_name(&w, s->issuer)) != 0)
        step = "issuer name";
    if (m == 0 && (m = mbedtls_x509write_crt_set_validity(&w, nb, na)) != 0)
        step = "validity";
    if (m == 0 && (m = mbedtls_x509write_crt_set_basic_constraints(&w, s->is_ca, s->is_ca ? 0 : -1)) != 0)
        step = "basicConstraints";
    unsigned ku = s->is_ca ? MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN
                           : MBEDTLS_X509_KU_DIGITAL_SIGNATURE | MBEDTLS_X509_KU_KEY_AGREEMENT;
    if (m == 0 && (m = mbedtls_x509write_crt_set_key_usage(&w, ku)) != 0)
        step = "keyUsage";
    if (m == 0 && (m = mbedtls_x509write_crt_set_subject_key_identifier(&w)) != 0)
        step = "subjectKeyIdentifier";
    if (m == 0 && (m = mbedtls_x509write_crt_set_authority_key_identifier(&w)) != 0)
        step = "authorityKeyIdentifier";
    if (m == 0 && s->san &&
        (m = mbedtls_x509write_crt_set_extension(&w, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                                 MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME),
                                                 0, s->san, s->san_len)) != 0)
        step = "subjectAltName";
    if (m == 0 && (m = mbedtls_x509write_crt_pem(&w, (unsigned char *)pem, pemlen,
                                                 mbedtls_ctr_drbg_random, &r->drbg)) != 0)
        step = "signing";
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&w);
    if (m != 0) {
        char what[64];
        snprintf(what, sizeof what, "cannot build the certificate (%s)", step);
        return mbed_failed(err, errlen, HP_EIO, what, m);
    }
    return 0;
}

static int key_pem(mbedtls_pk_context *key, char *pem, size_t pemlen, char *err, size_t errlen)
{
    int m = mbedtls_pk_write_key_pem(key, (unsigned char *)pem, pemlen);
    return m ? mbed_failed(err, errlen, HP_EIO, "cannot encode the key", m) : 0;
}

static void join(char *out, size_t n, const char *dir, const char *name, const char *ext)
{
    snprintf(out, n, "%s/%s%s", dir, name, ext);
}

int hp_certs_init(const char *dir, int force, char *err, size_t errlen)
{
    char crt_path[1024], key_path[1024];
    join(crt_path, sizeof crt_path, dir, "ca", ".crt");
    join(key_path, sizeof key_path, dir, "ca", ".key");
    const char *paths[] = {key_path, crt_path};
    int rc = ensure_dir(dir, err, errlen);
    if (rc == 0)
        rc = refuse_existing(paths, 2, force, err, errlen);
    if (rc < 0)
        return rc;
    rng_t r;
    mbedtls_pk_context key;
    mbedtls_pk_init(&key);
    char crt[PEM_MAX], kp[PEM_MAX];
    char host[128] = "", day[16], subject[256];
    if (gethostname(host, sizeof host - 1) < 0 || !*host)
        snprintf(host, sizeof host, "localhost");
    for (char *c = host; *c; c++) /* a DN value: no separators or escapes */
        if (*c == ',' || *c == '=' || *c == '\\' || *c == '+' || *c == '"')
            *c = '-';
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
    snprintf(subject, sizeof subject, "CN=hpsearch CA %s %s,O=hpsearch", host, day);
    crt_spec_t s = {.subject = subject, .issuer = subject, .subject_key = &key,
                    .issuer_key = &key, .is_ca = 1, .days = HP_CERTS_CA_DAYS};
    if ((rc = rng_init(&r, err, errlen)) == 0 && (rc = gen_key(&key, &r, err, errlen)) == 0 &&
        (rc = key_pem(&key, kp, sizeof kp, err, errlen)) == 0 &&
        (rc = make_crt(&s, &r, crt, sizeof crt, err, errlen)) == 0 &&
        (rc = write_file(key_path, kp, 0600, force, err, errlen)) == 0)
        rc = write_file(crt_path, crt, 0644, force, err, errlen);
    mbedtls_platform_zeroize(kp, sizeof kp);
    mbedtls_pk_free(&key);
    rng_fini(&r);
    return rc;
}

/* the CA's key and certificate from dir */
static int load_ca(const char *dir, mbedtls_pk_context *key, mbedtls_x509_crt *crt, char *err,
                   size_t errlen)
{
    char crt_path[1024], key_path[1024];
    join(crt_path, sizeof crt_path, dir, "ca", ".crt");
    join(key_path, sizeof key_path, dir, "ca", ".key");
    const char *paths[] = {crt_path, key_path};
    for (int i = 0; i < 2; i++)
        if (!exists(paths[i]))
            return hp_errf(err, errlen, HP_ENOENT,
                           "%s not found: %s holds no CA; run `hpsearch certs init %s` first",
                           paths[i], dir, dir);
    int m = mbedtls_x509_crt_parse_file(crt, crt_path);
    if (m != 0)
        return mbed_failed(err, errlen, HP_EINVAL, crt_path, m);
    if (!crt->ca_istrue)
        return hp_errf(err, errlen, HP_EINVAL, "%s is not a CA certificate", crt_path);
    m = mbedtls_pk_parse_keyfile(key, key_path, NULL);
    if (m != 0)
        return mbed_failed(err, errlen, HP_EINVAL, key_path, m);
    m = mbedtls_pk_check_pair(&crt->pk, key);
    if (m != 0)
        return hp_errf(err, errlen, HP_EINVAL, "%s is not the key of %s", key_path, crt_path);
    return 0;
}

int hp_certs_issue(const char *dir, const char *name, const char *const *sans, size_t nsans,
                   int force, char *err, size_t errlen)
{
    int rc = hp_certs_check_name("NAME", name, err, errlen);
    if (rc < 0)
        return rc;
    enum { MAX_SANS = 64 };
    if (nsans + 1 > MAX_SANS)
        return hp_errf(err, errlen, HP_EINVAL, "at most %d --san names", MAX_SANS - 1);
    const char *names[MAX_SANS];
    size_t n = 0;
    names[n++] = name;
    for (size_t i = 0; i < nsans; i++) {
        int dup = 0;
        for (size_t k = 0; k < n; k++)
            dup |= strcmp(names[k], sans[i]) == 0;
        if (!dup)
            names[n++] = sans[i];
    }
    unsigned char sanbuf[MAX_SANS * 300];
    const unsigned char *san = NULL;
    size_t san_len = 0;
    if ((rc = hp_certs_san_der(names, n, sanbuf, sizeof sanbuf, &san, &san_len, err, errlen)) < 0)
        return rc;

    char crt_path[1024], key_path[1024];
    join(crt_path, sizeof crt_path, dir, name, ".crt");
    join(key_path, sizeof key_path, dir, name, ".key");
    if (strcmp(name, "ca") == 0)
        return hp_errf(err, errlen, HP_EINVAL,
                       "NAME 'ca' would overwrite the CA's own files; choose another name");
    const char *paths[] = {key_path, crt_path};

    mbedtls_pk_context ca_key, key;
    mbedtls_x509_crt ca;
    mbedtls_pk_init(&ca_key);
    mbedtls_pk_init(&key);
    mbedtls_x509_crt_init(&ca);
    rng_t r;
    int rng_ok = 0;
    char crt[PEM_MAX], kp[PEM_MAX];
    char issuer[512], subject[400];
    rc = load_ca(dir, &ca_key, &ca, err, errlen);
    if (rc == 0)
        rc = refuse_existing(paths, 2, force, err, errlen);
    if (rc == 0 && mbedtls_x509_dn_gets(issuer, sizeof issuer, &ca.subject) < 0)
        rc = hp_errf(err, errlen, HP_EINVAL, "%s/ca.crt: cannot read its subject", dir);
    snprintf(subject, sizeof subject, "CN=%s,O=hpsearch", name);
    crt_spec_t s = {.subject = subject, .issuer = issuer, .subject_key = &key,
                    .issuer_key = &ca_key, .is_ca = 0, .days = HP_CERTS_LEAF_DAYS,
                    .san = san, .san_len = san_len};
    if (rc == 0 && (rc = rng_init(&r, err, errlen)) == 0)
        rng_ok = 1;
    if (rc == 0 && (rc = gen_key(&key, &r, err, errlen)) == 0 &&
        (rc = key_pem(&key, kp, sizeof kp, err, errlen)) == 0 &&
        (rc = make_crt(&s, &r, crt, sizeof crt, err, errlen)) == 0 &&
        (rc = write_file(key_path, kp, 0600, force, err, errlen)) == 0)
        rc = write_file(crt_path, crt, 0644, force, err, errlen);
    mbedtls_platform_zeroize(kp, sizeof kp);
    mbedtls_pk_free(&key);
    mbedtls_pk_free(&ca_key);
    mbedtls_x509_crt_free(&ca);
    if (rng_ok)
        rng_fini(&r);
    return rc;
}
