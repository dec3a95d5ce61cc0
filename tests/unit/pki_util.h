/*
 * pki_util: in-memory minting of test certificate hierarchies for the unit
 * tests (roots, intermediates, leaves with chosen names, dates, CA flag,
 * EKU, digest and key). Test-only: failures abort the test through cmocka.
 */
#ifndef AGW_PKI_UTIL_H
#define AGW_PKI_UTIL_H

#include <time.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* What to mint. Zeroed fields take the defaults in brackets. */
struct pki_spec {
	const char *cn;        /* subject CN ["agw test"] */
	const char *san;       /* subjectAltName value, e.g.
	                        * "DNS:www.farm.test,DNS:*.farm.test" [none] */
	int ca;                /* basicConstraints CA:TRUE [CA:FALSE] */
	int dates_set;         /* use not_before/not_after [-1 h, +30 d] */
	long not_before;       /* seconds from now */
	long not_after;        /* seconds from now */
	const char *eku;       /* extendedKeyUsage value, e.g. "clientAuth"
	                        * [none] */
	const char *key_usage; /* keyUsage value [CA: keyCertSign, cRLSign;
	                        * leaf: digitalSignature, keyEncipherment] */
	const EVP_MD *md;      /* signature digest [SHA-256] */
	int rsa_bits;          /* RSA key of that size [EC P-256] */
	EVP_PKEY *key;         /* reuse this key (a renewal) [a new one] */
};

/* A certificate and its private key, both owned. */
struct pki_cert {
	X509 *cert;
	EVP_PKEY *key;
};

/* Mint spec, signed by issuer (NULL: self-signed), dated around now.
 * Fills *out; release with pki_cert_clear. Fails the running test on any
 * OpenSSL error. */
void pki_mint(struct pki_cert *out, const struct pki_spec *spec,
    const struct pki_cert *issuer, time_t now);
/* Free what pki_mint made and zero *c. */
void pki_cert_clear(struct pki_cert *c);
/* A new stack of the given certificates in order (each referenced),
 * NULL-terminated argument list. Free with sk_X509_pop_free(sk, X509_free). */
STACK_OF(X509) * pki_stack(X509 *first, ...);
/* Write the certificates (NULL-terminated list) to a PEM file. Returns 0
 * or -1. */
int pki_write_pem(const char *path, X509 *first, ...);

#endif
