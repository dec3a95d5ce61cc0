/*
 * tls: OpenSSL 3 helpers shared by the gateway, the sim and the tools:
 * loading certificates and keys (PEM files, base64 .cer, PFX), contexts,
 * and turning OpenSSL's error queue into a message.
 *
 * Errors: functions that can fail take (char *err, size_t errlen) and write
 * one line there that names what failed, with OpenSSL's reasons appended.
 */
#ifndef AGW_TLS_H
#define AGW_TLS_H

#include <stddef.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* Drain OpenSSL's error queue into buf as "reason; reason"; returns buf
 * ("" when the queue was empty). */
const char *tls_errors(char *buf, size_t len);

/* Decode base64 (line breaks and blanks allowed). Returns a malloc'd buffer
 * the caller frees, with its length in *outlen; NULL when malformed. */
unsigned char *tls_b64_decode(const char *b64, size_t *outlen);
/* Encode bytes as one line of base64; malloc'd, caller frees. */
char *tls_b64_encode(const unsigned char *data, size_t len);

/* Every certificate in a PEM file, in file order (a chain: leaf first).
 * Caller frees with sk_X509_pop_free(sk, X509_free). */
STACK_OF(X509) *tls_load_certs_file(const char *path, char *err,
    size_t errlen);
/* A private key from a PEM file. Caller frees. */
EVP_PKEY *tls_load_key_file(const char *path, char *err, size_t errlen);
/* One certificate from DER bytes, PEM text or base64 DER text (.cer, as
 * Application Gateway takes it). Caller frees. */
X509 *tls_x509_from_data(const void *data, size_t len, char *err,
    size_t errlen);
/* One certificate from a file in any of the forms above. Caller frees. */
X509 *tls_x509_from_file(const char *path, char *err, size_t errlen);
/* Parse PKCS#12 bytes. On success *key, *cert and *chain (may be empty) are
 * the caller's. Returns 0, or -1 (a wrong password says so). */
int tls_pfx_parse(const void *der, size_t len, const char *password,
    EVP_PKEY **key, X509 **cert, STACK_OF(X509) **chain, char *err,
    size_t errlen);

/* "TLSv1.2"/"1.2"/"TLSv1.3"/"1.3" to TLS1_2_VERSION...; 0 when unknown. */
int tls_version_parse(const char *s);
/* TLS1_2_VERSION to "TLSv1.2". */
const char *tls_version_name(int version);

/*
 * A server context presenting cert (with chain, sent after it in order) and
 * key, limited to [min_version, max_version] (0 for no limit). Checks that
 * the key matches the certificate. Caller frees with SSL_CTX_free.
 */
SSL_CTX *tls_server_ctx_new(X509 *cert, EVP_PKEY *key, STACK_OF(X509) *chain,
    int min_version, int max_version, char *err, size_t errlen);
/* The same at an explicit OpenSSL security level (-1: the library's
 * default). agw-sim uses 0: it must present weak keys and SHA-1 signatures
 * on purpose, for the gateway to judge. */
SSL_CTX *tls_server_ctx_new_level(X509 *cert, EVP_PKEY *key,
    STACK_OF(X509) *chain, int min_version, int max_version,
    int security_level, char *err, size_t errlen);
/* A client context limited to [min_version, max_version]; verification is
 * the caller's to set. Caller frees. */
SSL_CTX *tls_client_ctx_new(int min_version, int max_version, char *err,
    size_t errlen);

/* SHA-1 (thumbprint) or SHA-256 of a certificate's DER, as uppercase hex
 * into out (41 or 65 bytes). Returns 0 or -1. */
int tls_cert_digest_hex(X509 *cert, const EVP_MD *md, char *out,
    size_t outlen);
/* SHA-256 of the certificate's SubjectPublicKeyInfo DER, uppercase hex. */
int tls_spki_sha256_hex(X509 *cert, char *out, size_t outlen);

#endif
