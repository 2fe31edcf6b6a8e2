/* common/certs.c: what `hpsearch certs` writes, read back with mbedTLS's
 * own parser — the subjectAltName entries (encoded by hand), the issuer,
 * the CA flag, the key files' modes — and that mbedTLS, as nng uses it,
 * accepts the certificate for each of its names and no other. */
#include "certs.h"
#include "err.h"

#include "hp_check.h"

#include <arpa/inet.h>
#include <check.h>
#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[128];

static void setup(void)
{
    hp_check_tmpdir(dir, sizeof dir, "hp_certs");
}

static void teardown(void)
{
    hp_check_rmdir(dir);
}

static const char *in_dir(const char *name)
{
    return hp_check_in(dir, name);
}

static void parse(mbedtls_x509_crt *c, const char *path)
{
    mbedtls_x509_crt_init(c);
    int m = mbedtls_x509_crt_parse_file(c, path);
    ck_assert_msg(m == 0, "%s: mbedTLS -0x%04x", path, (unsigned)-m);
}

/* the SAN entries of c, as "DNS:x" / "IP:a.b.c.d", comma-separated */
static void sans_of(const mbedtls_x509_crt *c, char *out, size_t n)
{
    out[0] = '\0';
    ck_assert(c->ext_types & MBEDTLS_X509_EXT_SUBJECT_ALT_NAME);
    for (const mbedtls_x509_sequence *s = &c->subject_alt_names; s && s->buf.p; s = s->next) {
        char one[128];
        int type = s->buf.tag & MBEDTLS_ASN1_TAG_VALUE_MASK;
        ck_assert(s->buf.tag & MBEDTLS_ASN1_CONTEXT_SPECIFIC);
        if (type == 2) {
            snprintf(one, sizeof one, "DNS:%.*s", (int)s->buf.len, (const char *)s->buf.p);
        } else if (type == 7) {
            char ip[64];
            ck_assert(s->buf.len == 4 || s->buf.len == 16);
            inet_ntop(s->buf.len == 4 ? AF_INET : AF_INET6, s->buf.p, ip, sizeof ip);
            snprintf(one, sizeof one, "IP:%s", ip);
        } else {
            snprintf(one, sizeof one, "type%d", type);
        }
        size_t used = strlen(out);
        snprintf(out + used, n - used, "%s%s", used ? "," : "", one);
    }
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    ck_assert_msg(stat(path, &st) == 0, "%s missing", path);
    return st.st_mode & 0777;
}

/* flags of verifying leaf against ca for host name cn (NULL: no name check) */
static uint32_t verify(mbedtls_x509_crt *leaf, mbedtls_x509_crt *ca, const char *cn)
{
    uint32_t flags = 0;
    mbedtls_x509_crt_verify(leaf, ca, NULL, cn, &flags, NULL, NULL);
    return flags;
}

START_TEST(test_issued_certificate_has_sans_issuer_and_is_no_ca)
{
    char err[512];
    ck_assert_int_eq(hp_certs_init(dir, 0, err, sizeof err), 0);
    const char *extra[] = {"head.cluster", "10.1.2.3", "::1"};
    ck_assert_msg(hp_certs_issue(dir, "head", extra, 3, 0, err, sizeof err) == 0, "%s", err);

    mbedtls_x509_crt ca, leaf;
    parse(&ca, in_dir("ca.crt"));
    parse(&leaf, in_dir("head.crt"));
    ck_assert_int_eq(ca.ca_istrue, 1);
    ck_assert_int_eq(leaf.ca_istrue, 0);
    ck_assert_int_eq(ca.version, 3);
    ck_assert_int_eq(leaf.version, 3);

    /* the leaf's issuer is the CA's subject, and the CA issued itself */
    char issuer[256], subject[256], ca_subject[256], ca_issuer[256];
    ck_assert_int_gt(mbedtls_x509_dn_gets(issuer, sizeof issuer, &leaf.issuer), 0);
    ck_assert_int_gt(mbedtls_x509_dn_gets(subject, sizeof subject, &leaf.subject), 0);
    ck_assert_int_gt(mbedtls_x509_dn_gets(ca_subject, sizeof ca_subject, &ca.subject), 0);
    ck_assert_int_gt(mbedtls_x509_dn_gets(ca_issuer, sizeof ca_issuer, &ca.issuer), 0);
    ck_assert_str_eq(issuer, ca_subject);
    ck_assert_str_eq(ca_issuer, ca_subject);
    ck_assert_str_eq(subject, "CN=head, O=hpsearch");
    ck_assert_msg(strncmp(ca_subject, "CN=hpsearch CA ", 15) == 0, "%s", ca_subject);

    /* NAME first, then the extras in order; an IP both as iPAddress and
     * as its text in a dNSName (what mbedTLS 2.28 matches a host against) */
    char sans[512];
    sans_of(&leaf, sans, sizeof sans);
    ck_assert_str_eq(sans, "DNS:head,DNS:head.cluster,DNS:10.1.2.3,IP:10.1.2.3,DNS:::1,IP:::1");

    /* EC P-256 keys, signed with SHA-256 */
    ck_assert_int_eq(mbedtls_pk_get_type(&leaf.pk), MBEDTLS_PK_ECKEY);
    ck_assert_int_eq(mbedtls_pk_get_bitlen(&leaf.pk), 256);
    ck_assert_int_eq(leaf.sig_md, MBEDTLS_MD_SHA256);

    /* valid now, for about 825 days (the CA for 10 years) */
    ck_assert(!mbedtls_x509_time_is_past(&leaf.valid_to));
    ck_assert(!mbedtls_x509_time_is_future(&leaf.valid_from));
    ck_assert_int_eq(leaf.valid_to.year - leaf.valid_from.year >= 2, 1);
    ck_assert_int_eq(ca.valid_to.year - ca.valid_from.year >= 9, 1);

    /* mbedTLS accepts it for each name and refuses another */
    ck_assert_uint_eq(verify(&leaf, &ca, "head"), 0);
    ck_assert_uint_eq(verify(&leaf, &ca, "head.cluster"), 0);
    ck_assert_uint_eq(verify(&leaf, &ca, "10.1.2.3"), 0);
    ck_assert_uint_ne(verify(&leaf, &ca, "10.1.2.4") & MBEDTLS_X509_BADCERT_CN_MISMATCH, 0);
    ck_assert_uint_ne(verify(&leaf, &ca, "other") & MBEDTLS_X509_BADCERT_CN_MISMATCH, 0);

    /* keys 0600, certificates 0644 */
    ck_assert_uint_eq(mode_of(in_dir("ca.key")), 0600);
    ck_assert_uint_eq(mode_of(in_dir("head.key")), 0600);
    ck_assert_uint_eq(mode_of(in_dir("ca.crt")), 0644);
    ck_assert_uint_eq(mode_of(in_dir("head.crt")), 0644);
    mbedtls_x509_crt_free(&leaf);
    mbedtls_x509_crt_free(&ca);
}
END_TEST

START_TEST(test_another_ca_does_not_verify)
{
    char err[512], other[300];
    ck_assert_int_eq(hp_certs_init(dir, 0, err, sizeof err), 0);
    snprintf(other, sizeof other, "%s/other", dir);
    ck_assert_int_eq(hp_certs_init(other, 0, err, sizeof err), 0);
    ck_assert_int_eq(hp_certs_issue(other, "w1", NULL, 0, 0, err, sizeof err), 0);
    mbedtls_x509_crt ca, leaf;
    parse(&ca, in_dir("ca.crt"));
    parse(&leaf, in_dir("other/w1.crt"));
    ck_assert_uint_ne(verify(&leaf, &ca, NULL) & MBEDTLS_X509_BADCERT_NOT_TRUSTED, 0);
    mbedtls_x509_crt_free(&leaf);
    mbedtls_x509_crt_free(&ca);
}
END_TEST

START_TEST(test_san_der_is_the_general_names_sequence)
{
    const char *names[] = {"a.b", "127.0.0.1"};
    unsigned char buf[256];
    const unsigned char *der;
    size_t len;
    char err[256];
    ck_assert_int_eq(hp_certs_san_der(names, 2, buf, sizeof buf, &der, &len, err, sizeof err), 0);
    /* SEQUENCE { [2] "a.b", [2] "127.0.0.1", [7] 7f000001 } */
    ck_assert_uint_eq(len, 2 + (2 + 3) + (2 + 9) + (2 + 4));
    ck_assert_uint_eq(der[0], 0x30);
    ck_assert_uint_eq(der[1], len - 2);
    ck_assert_uint_eq(der[2], 0x82);
    ck_assert_uint_eq(der[3], 3);
    ck_assert(memcmp(der + 4, "a.b", 3) == 0);
    ck_assert_uint_eq(der[7], 0x82);
    ck_assert_uint_eq(der[8], 9);
    ck_assert(memcmp(der + 9, "127.0.0.1", 9) == 0);
    ck_assert_uint_eq(der[18], 0x87);
    ck_assert_uint_eq(der[19], 4);
    static const unsigned char ip[] = {127, 0, 0, 1};
    ck_assert(memcmp(der + 20, ip, 4) == 0);
    /* too small a buffer is an error, not an overrun */
    ck_assert_int_eq(hp_certs_san_der(names, 2, buf, 10, &der, &len, err, sizeof err),
                     HP_ERANGE);
}
END_TEST

START_TEST(test_bad_names_are_refused_by_name)
{
    char err[512];
    ck_assert_int_eq(hp_certs_init(dir, 0, err, sizeof err), 0);
    ck_assert_int_eq(hp_certs_issue(dir, "../x", NULL, 0, 0, err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "NAME '../x'") != NULL, "%s", err);
    const char *bad[] = {"ok.host", "no spaces"};
    ck_assert_int_eq(hp_certs_issue(dir, "w", bad, 2, 0, err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "subjectAltName 'no spaces'") != NULL, "%s", err);
    ck_assert_int_eq(hp_certs_issue(dir, "ca", NULL, 0, 0, err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "CA's own files") != NULL, "%s", err);
    ck_assert_int_eq(access(in_dir("w.key"), F_OK), -1); /* nothing half-written */
}
END_TEST

START_TEST(test_existing_files_are_kept_without_force)
{
    char err[512];
    ck_assert_int_eq(hp_certs_issue(dir, "w", NULL, 0, 0, err, sizeof err), HP_ENOENT);
    ck_assert_msg(strstr(err, "run `hpsearch certs init") != NULL, "%s", err);
    ck_assert_int_eq(hp_certs_init(dir, 0, err, sizeof err), 0);
    char *first = hp_check_slurp(in_dir("ca.key"), 0);
    ck_assert_int_eq(hp_certs_init(dir, 0, err, sizeof err), HP_EEXIST);
    ck_assert_msg(strstr(err, "ca.key already exists") && strstr(err, "--force"), "%s", err);
    char *same = hp_check_slurp(in_dir("ca.key"), 0);
    ck_assert_str_eq(first, same);
    ck_assert_int_eq(hp_certs_issue(dir, "w", NULL, 0, 0, err, sizeof err), 0);
    ck_assert_int_eq(hp_certs_issue(dir, "w", NULL, 0, 0, err, sizeof err), HP_EEXIST);
    ck_assert_int_eq(hp_certs_init(dir, 1, err, sizeof err), 0);
    char *second = hp_check_slurp(in_dir("ca.key"), 0);
    ck_assert_str_ne(first, second);
    ck_assert_uint_eq(mode_of(in_dir("ca.key")), 0600);
    free(first);
    free(same);
    free(second);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("certs");
    TCase *tc = tcase_create("certs");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_issued_certificate_has_sans_issuer_and_is_no_ca);
    tcase_add_test(tc, test_another_ca_does_not_verify);
    tcase_add_test(tc, test_san_der_is_the_general_names_sequence);
    tcase_add_test(tc, test_bad_names_are_refused_by_name);
    tcase_add_test(tc, test_existing_files_are_kept_without_force);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return hp_check_run(suite()); }
