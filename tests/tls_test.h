/* tls_test.h — certificates made at test time, by libcrypto, for the TLS tests: a CA, and
 * a leaf it signed for localhost, 127.0.0.1 and ::1, written as PEM files into a fresh
 * directory under $TMPDIR (or /tmp). Fast (EC P-256 keys), so each suite makes its own
 * in main and removes them when done. */
#ifndef TLS_TEST_H
#define TLS_TEST_H

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct test_certs {
    char dir[256];
    char ca[320], ca_key[320];     /* the CA: self-signed, CN "Course Test CA" */
    char cert[320], key[320];      /* the leaf: DNS:localhost, IP:127.0.0.1, IP:::1 */
};

static void test_certs_check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "test certificates: %s failed\n", what);
        exit(EXIT_FAILURE);
    }
}

static void test_certs_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v3, nid, value);
    test_certs_check(e && X509_add_ext(x, e, -1), value);
    X509_EXTENSION_free(e);
}

/* A certificate for key named cn, signed by issuer (NULL: by itself, as a CA). */
static X509 *test_certs_sign(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key)
{
    static long serial = 1;
    X509 *x = X509_new();
    test_certs_check(x != NULL, "X509_new");
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 7 * 86400);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    test_certs_ext(x, &v3, NID_subject_key_identifier, "hash");
    if (issuer) {
        test_certs_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE");
        test_certs_ext(x, &v3, NID_authority_key_identifier, "keyid");
        test_certs_ext(x, &v3, NID_ext_key_usage, "serverAuth,clientAuth");
        test_certs_ext(x, &v3, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
    } else {
        test_certs_ext(x, &v3, NID_basic_constraints, "critical,CA:TRUE");
        test_certs_ext(x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
    test_certs_check(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
    return x;
}

static void test_certs_write(const char *path, X509 *x, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");
    test_certs_check(f != NULL, path);
    test_certs_check(x ? PEM_write_X509(f, x) : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL),
                     path);
    fclose(f);
}

static void test_certs_make(struct test_certs *c)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(c->dir, sizeof c->dir, "%s/tls-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    test_certs_check(mkdtemp(c->dir) != NULL, "mkdtemp");
    snprintf(c->ca, sizeof c->ca, "%s/ca.pem", c->dir);
    snprintf(c->ca_key, sizeof c->ca_key, "%s/ca-key.pem", c->dir);
    snprintf(c->cert, sizeof c->cert, "%s/cert.pem", c->dir);
    snprintf(c->key, sizeof c->key, "%s/key.pem", c->dir);
    EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *key = EVP_EC_gen("P-256");
    test_certs_check(ca_key && key, "EVP_EC_gen");
    X509 *ca = test_certs_sign(ca_key, "Course Test CA", NULL, NULL);
    X509 *leaf = test_certs_sign(key, "localhost", ca, ca_key);
    test_certs_write(c->ca, ca, NULL);
    test_certs_write(c->ca_key, NULL, ca_key);
    test_certs_write(c->cert, leaf, NULL);
    test_certs_write(c->key, NULL, key);
    X509_free(leaf);
    X509_free(ca);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ca_key);
}

static void test_certs_remove(const struct test_certs *c)
{
    unlink(c->ca);
    unlink(c->ca_key);
    unlink(c->cert);
    unlink(c->key);
    rmdir(c->dir);
}

#endif
