#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509v3.h>

#include "certinfo.h"
#include "mint.h"
#include "profile.h"
#include "tls.h"

#define NOW 1767225600 /* 2026-01-01T00:00:00Z */

/* A small PKI on EC keys (fast): root, intermediate, leaves. */
static const char pki[] =
    "{\"key_type\":\"ec-p256\",\"hosts\":{\"domain\":\"backend.test\","
    "\"members\":[\"b1.backend.test\"]},\"items\":["
    "{\"name\":\"root\",\"role\":\"root\",\"use\":\"u\",\"subject\":"
    "\"CN=Root,O=agw-lab\"},"
    "{\"name\":\"int\",\"role\":\"intermediate\",\"issuer\":\"root\","
    "\"use\":\"u\",\"subject\":\"CN=Int\"},"
    "{\"name\":\"leaf\",\"role\":\"leaf\",\"issuer\":\"int\",\"use\":"
    "\"u\",\"subject\":\"CN=${domain}\",\"sans\":[\"@hosts\","
    "\"IP:127.0.1.1\"]},"
    "{\"name\":\"client\",\"role\":\"leaf\",\"issuer\":\"int\",\"use\":"
    "\"u\",\"subject\":\"CN=c\",\"ext_key_usage\":[\"clientAuth\"],"
    "\"key_from\":\"leaf\",\"digest\":\"sha1\",\"not_before\":\"-375d\","
    "\"not_after\":\"-10d\"},"
    "{\"name\":\"cn-only\",\"role\":\"leaf\",\"issuer\":\"int\",\"use\":"
    "\"u\",\"subject\":\"CN=${domain}\",\"key_usage\":[]},"
    "{\"name\":\"weak\",\"role\":\"leaf\",\"issuer\":\"int\",\"use\":"
    "\"u\",\"subject\":\"CN=w\",\"key_type\":\"rsa1024\"}"
    "]}";

struct fixture {
	struct profile *p;
	struct mint_item *items;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	json_error_t jerr;
	json_t *root = json_loads(pki, 0, &jerr);
	char err[1024];

	if (f == NULL || root == NULL)
		return -1;
	f->p = profile_from_json(root, "pki", err, sizeof(err));
	json_decref(root);
	if (f->p == NULL) {
		print_error("%s\n", err);
		return -1;
	}
	f->items = mint_all(f->p, NULL, NOW, 2, err, sizeof(err));
	if (f->items == NULL) {
		print_error("%s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	mint_items_free(f->items, f->p->nitems);
	profile_free(f->p);
	free(f);
	return 0;
}

static X509 *
cert(void **state, const char *name)
{
	struct fixture *f = *state;
	int i = profile_find(f->p, name);

	assert_true(i >= 0);
	return f->items[i].cert;
}

static void
test_mint_basic_constraints_ca_and_pathlen(void **state)
{
	X509 *root = cert(state, "root"), *in = cert(state, "int");
	BASIC_CONSTRAINTS *bc;
	int crit;

	assert_int_equal(X509_check_ca(root), 1);
	assert_int_equal(X509_get_pathlen(root), -1);
	assert_int_equal(X509_get_pathlen(in), 0);
	bc = X509_get_ext_d2i(in, NID_basic_constraints, &crit, NULL);
	assert_non_null(bc);
	assert_true(bc->ca);
	assert_int_equal(crit, 1);
	BASIC_CONSTRAINTS_free(bc);
}

static void
test_mint_basic_constraints_leaf_not_ca(void **state)
{
	X509 *leaf = cert(state, "leaf");
	BASIC_CONSTRAINTS *bc;

	assert_int_equal(X509_check_ca(leaf), 0);
	bc = X509_get_ext_d2i(leaf, NID_basic_constraints, NULL, NULL);
	assert_non_null(bc);
	assert_false(bc->ca);
	BASIC_CONSTRAINTS_free(bc);
}

static void
test_mint_key_usage(void **state)
{
	assert_int_equal(X509_get_key_usage(cert(state, "root")),
	    KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_int_equal(X509_get_key_usage(cert(state, "leaf")),
	    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
	/* An empty list: no extension (all usages allowed). */
	assert_int_equal(
	    X509_get_ext_by_NID(cert(state, "cn-only"), NID_key_usage, -1), -1);
}

static void
test_mint_ext_key_usage(void **state)
{
	assert_int_equal(
	    X509_get_extended_key_usage(cert(state, "leaf")), XKU_SSL_SERVER);
	assert_int_equal(
	    X509_get_extended_key_usage(cert(state, "client")), XKU_SSL_CLIENT);
	assert_int_equal(
	    X509_get_ext_by_NID(cert(state, "root"), NID_ext_key_usage, -1),
	    -1);
}

static void
test_mint_subject_alt_names(void **state)
{
	X509 *leaf = cert(state, "leaf"), *cn = cert(state, "cn-only");
	json_t *info = certinfo_json(leaf), *sans;

	assert_int_equal(X509_check_host(leaf, "backend.test", 0, 0, NULL), 1);
	assert_int_equal(
	    X509_check_host(leaf, "b1.backend.test", 0, 0, NULL), 1);
	assert_int_equal(
	    X509_check_host(leaf, "b2.backend.test", 0, 0, NULL), 0);
	assert_int_equal(X509_check_ip_asc(leaf, "127.0.1.1", 0), 1);
	sans = json_object_get(info, "sans");
	assert_int_equal(json_array_size(sans), 3);
	assert_string_equal(
	    json_string_value(json_array_get(sans, 2)), "IP:127.0.1.1");
	json_decref(info);
	assert_int_equal(X509_get_ext_by_NID(cn, NID_subject_alt_name, -1), -1);
	/* No SAN: the CN is the name. */
	assert_int_equal(X509_check_host(cn, "backend.test", 0, 0, NULL), 1);
}

static void
test_mint_key_identifiers_link_issuer(void **state)
{
	X509 *in = cert(state, "int"), *leaf = cert(state, "leaf");
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(in);
	const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(leaf);

	assert_non_null(ski);
	assert_non_null(aki);
	assert_int_equal(ASN1_OCTET_STRING_cmp(ski, aki), 0);
	assert_non_null(X509_get0_subject_key_id(leaf));
}

static void
test_mint_signed_by_issuer(void **state)
{
	X509 *root = cert(state, "root"), *in = cert(state, "int");
	X509 *leaf = cert(state, "leaf");

	assert_int_equal(X509_verify(in, X509_get0_pubkey(root)), 1);
	assert_int_equal(X509_verify(leaf, X509_get0_pubkey(in)), 1);
	assert_int_equal(X509_verify(root, X509_get0_pubkey(root)), 1);
	assert_int_equal(X509_check_issued(in, leaf), X509_V_OK);
	assert_true(certinfo_self_signed(root));
	assert_false(certinfo_self_signed(leaf));
}

static void
test_mint_subject_and_issuer_names(void **state)
{
	char buf[256];

	assert_string_equal(
	    certinfo_name(
	        X509_get_subject_name(cert(state, "root")), buf, sizeof(buf)),
	    "CN=Root, O=agw-lab");
	assert_string_equal(
	    certinfo_name(
	        X509_get_issuer_name(cert(state, "leaf")), buf, sizeof(buf)),
	    "CN=Int");
	assert_string_equal(
	    certinfo_name(
	        X509_get_subject_name(cert(state, "leaf")), buf, sizeof(buf)),
	    "CN=backend.test");
}

static void
test_mint_dates_relative_to_now(void **state)
{
	X509 *leaf = cert(state, "leaf"), *old = cert(state, "client");

	assert_int_equal(certinfo_time(X509_get0_notBefore(leaf)), NOW - 86400);
	assert_int_equal(
	    certinfo_time(X509_get0_notAfter(leaf)), NOW + 365 * 86400);
	assert_int_equal(
	    certinfo_time(X509_get0_notAfter(old)), NOW - 10 * 86400);
	assert_int_equal(
	    certinfo_time(X509_get0_notBefore(cert(state, "root"))),
	    NOW - 30 * 86400);
}

static void
test_mint_digest_sha1(void **state)
{
	assert_int_equal(
	    X509_get_signature_nid(cert(state, "client")), NID_ecdsa_with_SHA1);
	assert_int_equal(
	    X509_get_signature_nid(cert(state, "leaf")), NID_ecdsa_with_SHA256);
}

static void
test_mint_key_from_shares_key_new_serial(void **state)
{
	X509 *a = cert(state, "leaf"), *b = cert(state, "client");
	char ha[65], hb[65];

	assert_int_equal(
	    EVP_PKEY_eq(X509_get0_pubkey(a), X509_get0_pubkey(b)), 1);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(a),
	                         X509_get0_serialNumber(b)),
	    0);
	assert_int_equal(tls_spki_sha256_hex(a, ha, sizeof(ha)), 0);
	assert_int_equal(tls_spki_sha256_hex(b, hb, sizeof(hb)), 0);
	assert_string_equal(ha, hb);
	assert_int_not_equal(EVP_PKEY_eq(X509_get0_pubkey(a),
	                         X509_get0_pubkey(cert(state, "cn-only"))),
	    1);
}

static void
test_mint_key_types(void **state)
{
	char buf[32];

	assert_string_equal(
	    certinfo_key_type(cert(state, "leaf"), buf, sizeof(buf)),
	    "ec-p256");
	assert_string_equal(
	    certinfo_key_type(cert(state, "weak"), buf, sizeof(buf)),
	    "rsa1024");
	assert_int_equal(
	    X509_get_signature_nid(cert(state, "weak")), NID_ecdsa_with_SHA256);
}

static void
test_mint_key_new_rejects_unknown_type(void **state)
{
	char err[256];

	assert_null(mint_key_new("dsa1024", err, sizeof(err)));
	assert_non_null(strstr(err, "dsa1024"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mint_basic_constraints_ca_and_pathlen),
	    cmocka_unit_test(test_mint_basic_constraints_leaf_not_ca),
	    cmocka_unit_test(test_mint_key_usage),
	    cmocka_unit_test(test_mint_ext_key_usage),
	    cmocka_unit_test(test_mint_subject_alt_names),
	    cmocka_unit_test(test_mint_key_identifiers_link_issuer),
	    cmocka_unit_test(test_mint_signed_by_issuer),
	    cmocka_unit_test(test_mint_subject_and_issuer_names),
	    cmocka_unit_test(test_mint_dates_relative_to_now),
	    cmocka_unit_test(test_mint_digest_sha1),
	    cmocka_unit_test(test_mint_key_from_shares_key_new_serial),
	    cmocka_unit_test(test_mint_key_types),
	    cmocka_unit_test(test_mint_key_new_rejects_unknown_type),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
