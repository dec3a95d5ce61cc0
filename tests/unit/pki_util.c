#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "pki_util.h"

static long pki_serial = 1000;

/* Add one extension by its configuration text (issuer may be the cert
 * itself for a self-signed one). */
static void
pki_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_true(X509_add_ext(x, ext, -1));
	X509_EXTENSION_free(ext);
}

void
pki_mint(struct pki_cert *out, const struct pki_spec *spec,
    const struct pki_cert *issuer, time_t now)
{
	X509 *x;
	X509_NAME *n;
	EVP_PKEY *key, *signer;
	time_t t = now;
	long nb = -3600, na = 30L * 86400;

	if (spec->key != NULL) {
		key = spec->key;
		EVP_PKEY_up_ref(key);
	} else if (spec->rsa_bits > 0) {
		key = EVP_RSA_gen((unsigned int)spec->rsa_bits);
	} else {
		key = EVP_EC_gen("P-256");
	}
	assert_non_null(key);
	if (spec->dates_set) {
		nb = spec->not_before;
		na = spec->not_after;
	}
	assert_non_null(x = X509_new());
	assert_true(X509_set_version(x, 2));
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), pki_serial++));
	assert_non_null(X509_time_adj_ex(X509_getm_notBefore(x), 0, nb, &t));
	assert_non_null(X509_time_adj_ex(X509_getm_notAfter(x), 0, na, &t));
	assert_true(X509_set_pubkey(x, key));
	n = X509_get_subject_name(x);
	assert_true(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	    (const unsigned char *)"agw-lab unit", -1, -1, 0));
	assert_true(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)(spec->cn ? spec->cn : "agw test"), -1, -1,
	    0));
	assert_true(X509_set_issuer_name(
	    x, issuer ? X509_get_subject_name(issuer->cert) : n));
	pki_add_ext(x, x, NID_subject_key_identifier, "hash");
	if (issuer != NULL)
		pki_add_ext(x, issuer->cert, NID_authority_key_identifier,
		    "keyid:always");
	pki_add_ext(x, x, NID_basic_constraints,
	    spec->ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (spec->key_usage != NULL)
		pki_add_ext(x, x, NID_key_usage, spec->key_usage);
	else
		pki_add_ext(x, x, NID_key_usage,
		    spec->ca ? "critical,keyCertSign,cRLSign"
		             : "critical,digitalSignature,keyEncipherment");
	if (spec->san != NULL)
		pki_add_ext(x, x, NID_subject_alt_name, spec->san);
	if (spec->eku != NULL)
		pki_add_ext(x, x, NID_ext_key_usage, spec->eku);
	signer = issuer ? issuer->key : key;
	assert_true(
	    X509_sign(x, signer, spec->md ? spec->md : EVP_sha256()) > 0);
	out->cert = x;
	out->key = key;
}

void
pki_cert_clear(struct pki_cert *c)
{
	X509_free(c->cert);
	EVP_PKEY_free(c->key);
	c->cert = NULL;
	c->key = NULL;
}

STACK_OF(X509) * pki_stack(X509 *first, ...)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	va_list ap;
	X509 *x;

	assert_non_null(sk);
	va_start(ap, first);
	for (x = first; x != NULL; x = va_arg(ap, X509 *)) {
		assert_true(sk_X509_push(sk, x));
		X509_up_ref(x);
	}
	va_end(ap);
	return sk;
}

int
pki_write_pem(const char *path, X509 *first, ...)
{
	va_list ap;
	X509 *x;
	FILE *f;
	int rc = 0;

	if ((f = fopen(path, "w")) == NULL)
		return -1;
	va_start(ap, first);
	for (x = first; x != NULL; x = va_arg(ap, X509 *))
		if (!PEM_write_X509(f, x))
			rc = -1;
	va_end(ap);
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}
