/*
 * certinfo: the facts agw-certs reports about a certificate (subject,
 * issuer, SANs, dates, serial, thumbprints, key type), as the manifest
 * and `agw-certs show` print them.
 */
#ifndef AGW_CERTS_CERTINFO_H
#define AGW_CERTS_CERTINFO_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <openssl/x509.h>

/* A name as "CN=x, O=y" (in certificate order) into buf. Returns buf. */
const char *certinfo_name(const X509_NAME *name, char *buf, size_t len);
/* The key type as agw-certs names it ("rsa2048", "ec-p256", "ed25519",
 * else the algorithm and size) into buf. Returns buf. */
const char *certinfo_key_type(X509 *cert, char *buf, size_t len);
/* The time t as seconds since the epoch; -1 when unreadable (t NULL). */
int64_t certinfo_time(const ASN1_TIME *t);
/* True when cert is self-signed (names match and the signature checks). */
int certinfo_self_signed(X509 *cert);
/* True when cert has basicConstraints CA:TRUE. */
int certinfo_is_ca(X509 *cert);

/*
 * The facts of cert as a JSON object: subject, issuer, sans[],
 * not_before, not_after, serial, sha1, sha256, spki_sha256, key_type, ca,
 * self_signed. Returns a new reference, or NULL when out of memory.
 */
json_t *certinfo_json(X509 *cert);

#endif
