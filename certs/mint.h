/*
 * mint: keys and certificates for a profile: key generation (in parallel
 * threads), X.509 v3 certificates with their extensions (basic
 * constraints, key usage, EKU, SAN, subject and authority key ids), signed
 * by the issuing item.
 */
#ifndef AGW_CERTS_MINT_H
#define AGW_CERTS_MINT_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "profile.h"

/* One minted item: the profile item's key and certificate. */
struct mint_item {
	const struct profile_item *pi;
	const char *key_type; /* the key type actually used */
	EVP_PKEY *key;
	X509 *cert;
};

/* A new private key of key_type ("rsa2048", "ec-p256", ...). Caller frees;
 * NULL with err set. Safe to call from several threads. */
EVP_PKEY *mint_key_new(const char *key_type, char *err, size_t errlen);

/* An X509_NAME from "CN=x,O=y". Caller frees; NULL when malformed. */
X509_NAME *mint_name_parse(const char *subject);

/*
 * A certificate for pi with public key key, issued by issuer/issuer_key
 * (both NULL: self-signed with key), dates relative to now. Caller frees
 * with X509_free; NULL with err set (naming the item).
 */
X509 *mint_cert_new(const struct profile_item *pi, EVP_PKEY *key, X509 *issuer,
    EVP_PKEY *issuer_key, int64_t now, char *err, size_t errlen);

/*
 * Mint every item of p: keys first (threads workers in parallel; 0 picks
 * the number of CPUs), then certificates in profile order. key_type
 * overrides the profile's default key type when not NULL. Returns an
 * array of p->nitems items (free with mint_items_free), or NULL with err.
 */
struct mint_item *mint_all(const struct profile *p, const char *key_type,
    int64_t now, int threads, char *err, size_t errlen);
/* Free what mint_all returned (NULL is fine). */
void mint_items_free(struct mint_item *items, size_t n);

#endif
