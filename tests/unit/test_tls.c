#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include "tls.h"

/* A throwaway self-signed EC certificate made in memory. */
static X509 *
make_cert(EVP_PKEY **keyp)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;

	assert_non_null(key);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"unit.test", -1, -1, 0);
	X509_set_issuer_name(x, n);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	*keyp = key;
	return x;
}

static void
test_tls_b64_roundtrip_with_line_breaks(void **state)
{
	const unsigned char data[] = "agw-lab \x01\x02\xff";
	char *enc, wrapped[128];
	unsigned char *dec;
	size_t n, len;

	enc = tls_b64_encode(data, sizeof(data));
	assert_non_null(enc);
	/* Break the base64 over lines, as .cer files are. */
	n = strlen(enc);
	snprintf(wrapped, sizeof(wrapped), "%.*s\n%s\n", (int)(n / 2), enc,
	    enc + n / 2);
	dec = tls_b64_decode(wrapped, &len);
	assert_non_null(dec);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(dec, data, len);
	free(dec);
	free(enc);
	assert_null(tls_b64_decode("!!!!", &len));
}

static void
test_tls_x509_from_data_accepts_der_and_base64(void **state)
{
	EVP_PKEY *key;
	X509 *x = make_cert(&key), *y;
	unsigned char *der = NULL;
	char *b64, err[256], a[65], b[65];
	int len = i2d_X509(x, &der);

	y = tls_x509_from_data(der, (size_t)len, err, sizeof(err));
	assert_non_null(y);
	X509_free(y);
	b64 = tls_b64_encode(der, (size_t)len);
	y = tls_x509_from_data(b64, strlen(b64), err, sizeof(err));
	assert_non_null(y);
	assert_int_equal(tls_cert_digest_hex(x, EVP_sha256(), a, sizeof(a)), 0);
	assert_int_equal(tls_cert_digest_hex(y, EVP_sha256(), b, sizeof(b)), 0);
	assert_string_equal(a, b);
	X509_free(y);
	assert_null(tls_x509_from_data("hello", 5, err, sizeof(err)));
	assert_non_null(strstr(err, "not a certificate"));
	free(b64);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void
test_tls_pfx_wrong_password_says_so(void **state)
{
	EVP_PKEY *key, *k2;
	X509 *x = make_cert(&key), *c2;
	STACK_OF(X509) *chain;
	PKCS12 *p12;
	unsigned char *der = NULL;
	char err[256];
	int len;

	p12 = PKCS12_create("secret", "unit", key, x, NULL, 0, 0, 0, 0, 0);
	assert_non_null(p12);
	len = i2d_PKCS12(p12, &der);
	assert_int_equal(tls_pfx_parse(der, (size_t)len, "wrong", &k2, &c2,
			     &chain, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "wrong PFX password"));
	assert_int_equal(tls_pfx_parse(der, (size_t)len, "secret", &k2, &c2,
			     &chain, err, sizeof(err)),
	    0);
	assert_int_equal(X509_cmp(x, c2), 0);
	EVP_PKEY_free(k2);
	X509_free(c2);
	sk_X509_pop_free(chain, X509_free);
	OPENSSL_free(der);
	PKCS12_free(p12);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void
test_tls_server_ctx_rejects_mismatched_key(void **state)
{
	EVP_PKEY *k1, *k2;
	X509 *x1 = make_cert(&k1), *x2 = make_cert(&k2);
	SSL_CTX *ctx;
	char err[256];

	ctx = tls_server_ctx_new(x1, k1, NULL, 0, 0, err, sizeof(err));
	assert_non_null(ctx);
	SSL_CTX_free(ctx);
	ctx = tls_server_ctx_new(x1, k2, NULL, 0, 0, err, sizeof(err));
	assert_null(ctx);
	assert_non_null(strstr(err, "does not match"));
	X509_free(x1);
	X509_free(x2);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
}

static void
test_tls_version_parse_and_name(void **state)
{
	assert_int_equal(tls_version_parse("TLSv1.2"), TLS1_2_VERSION);
	assert_int_equal(tls_version_parse("1.3"), TLS1_3_VERSION);
	assert_int_equal(tls_version_parse("SSLv3"), 0);
	assert_string_equal(tls_version_name(TLS1_3_VERSION), "TLSv1.3");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls_b64_roundtrip_with_line_breaks),
		cmocka_unit_test(test_tls_x509_from_data_accepts_der_and_base64),
		cmocka_unit_test(test_tls_pfx_wrong_password_says_so),
		cmocka_unit_test(test_tls_server_ctx_rejects_mismatched_key),
		cmocka_unit_test(test_tls_version_parse_and_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
