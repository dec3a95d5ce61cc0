#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "pki_util.h"
#include "tls.h"
#include "verify.h"

#define HOST "www.farm.test"

/*
 * The hierarchies every test reads (minted once, read-only): the farm CA
 * (farm-root, farm-int), the well-known CA (public-root, public-int), an
 * untrusted CA (rogue-*), the farm's next CA (next-*), and leaves of every
 * variant agw-certs makes.
 */
static struct pki {
	time_t now;
	struct pki_cert farm_root, farm_int, public_root, public_int;
	struct pki_cert rogue_root, rogue_int, next_root, next_int;
	struct pki_cert expired_int, expired_root, expired_root_int;
	struct pki_cert leaf, leaf_renewed, leaf_other_key, public_leaf;
	struct pki_cert rogue_leaf, next_leaf, self_signed, self_signed_ca;
	struct pki_cert expired, not_yet_valid, expired_int_leaf;
	struct pki_cert expired_root_leaf, public_expired, wrong_host;
	struct pki_cert sha1, weak_rsa, no_server_eku, wildcard, cn_only;
	struct pki_cert san_over_cn, partial_wildcard, root_leaf, san_ip_only;
	X509_STORE *well_known;
} K;

static struct pki_cert *
pki_all(size_t *n)
{
	*n = (offsetof(struct pki, well_known) -
	         offsetof(struct pki, farm_root)) /
	     sizeof(struct pki_cert);
	return &K.farm_root;
}

static int
group_setup(void **state)
{
	struct pki_spec ca = {.ca = 1}, s;
	time_t now = K.now = time(NULL);

	s = ca, s.cn = "farm-root";
	pki_mint(&K.farm_root, &s, NULL, now);
	s = ca, s.cn = "farm-int";
	pki_mint(&K.farm_int, &s, &K.farm_root, now);
	s = ca, s.cn = "public-root";
	pki_mint(&K.public_root, &s, NULL, now);
	s = ca, s.cn = "public-int";
	pki_mint(&K.public_int, &s, &K.public_root, now);
	s = ca, s.cn = "rogue-root";
	pki_mint(&K.rogue_root, &s, NULL, now);
	s = ca, s.cn = "rogue-int";
	pki_mint(&K.rogue_int, &s, &K.rogue_root, now);
	/* The next CA has the same names as the current one, new keys. */
	s = ca, s.cn = "farm-root";
	pki_mint(&K.next_root, &s, NULL, now);
	s = ca, s.cn = "farm-int";
	pki_mint(&K.next_int, &s, &K.next_root, now);
	s = ca, s.cn = "farm-int-expired", s.dates_set = 1,
	s.not_before = -7200, s.not_after = -3600;
	pki_mint(&K.expired_int, &s, &K.farm_root, now);
	s = ca, s.cn = "old-root", s.dates_set = 1, s.not_before = -7200,
	s.not_after = -3600;
	pki_mint(&K.expired_root, &s, NULL, now);
	s = ca, s.cn = "old-int";
	pki_mint(&K.expired_root_int, &s, &K.expired_root, now);

	s = (struct pki_spec){.cn = HOST, .san = "DNS:" HOST};
	pki_mint(&K.leaf, &s, &K.farm_int, now);
	pki_mint(&K.public_leaf, &s, &K.public_int, now);
	pki_mint(&K.rogue_leaf, &s, &K.rogue_int, now);
	pki_mint(&K.next_leaf, &s, &K.next_int, now);
	pki_mint(&K.self_signed, &s, NULL, now);
	pki_mint(&K.expired_int_leaf, &s, &K.expired_int, now);
	pki_mint(&K.expired_root_leaf, &s, &K.expired_root_int, now);
	pki_mint(&K.leaf_other_key, &s, &K.farm_int, now);
	pki_mint(&K.root_leaf, &s, &K.farm_root, now);
	s.key = K.leaf.key; /* a renewal: same key, new dates */
	s.dates_set = 1, s.not_before = -60, s.not_after = 90L * 86400;
	pki_mint(&K.leaf_renewed, &s, &K.farm_int, now);
	/* As agw-certs makes it: a server certificate that is its own CA. */
	s = (struct pki_spec){.cn = HOST,
	    .san = "DNS:" HOST,
	    .ca = 1,
	    .key_usage = "digitalSignature,keyEncipherment,keyCertSign"};
	pki_mint(&K.self_signed_ca, &s, NULL, now);
	s = (struct pki_spec){.cn = HOST,
	    .san = "DNS:" HOST,
	    .dates_set = 1,
	    .not_before = -7200,
	    .not_after = -3600};
	pki_mint(&K.expired, &s, &K.farm_int, now);
	pki_mint(&K.public_expired, &s, &K.public_int, now);
	s.not_before = 3600, s.not_after = 7200;
	pki_mint(&K.not_yet_valid, &s, &K.farm_int, now);
	s = (struct pki_spec){
	    .cn = "other.farm.test", .san = "DNS:other.farm.test"};
	pki_mint(&K.wrong_host, &s, &K.farm_int, now);
	s = (struct pki_spec){.cn = HOST, .san = "DNS:" HOST, .md = EVP_sha1()};
	pki_mint(&K.sha1, &s, &K.farm_int, now);
	s = (struct pki_spec){.cn = HOST, .san = "DNS:" HOST, .rsa_bits = 1024};
	pki_mint(&K.weak_rsa, &s, &K.farm_int, now);
	s = (struct pki_spec){
	    .cn = HOST, .san = "DNS:" HOST, .eku = "clientAuth"};
	pki_mint(&K.no_server_eku, &s, &K.farm_int, now);
	s = (struct pki_spec){.cn = "wild", .san = "DNS:*.farm.test"};
	pki_mint(&K.wildcard, &s, &K.farm_int, now);
	s = (struct pki_spec){.cn = HOST};
	pki_mint(&K.cn_only, &s, &K.farm_int, now);
	s = (struct pki_spec){.cn = HOST, .san = "DNS:other.farm.test"};
	pki_mint(&K.san_over_cn, &s, &K.farm_int, now);
	s = (struct pki_spec){.cn = HOST, .san = "IP:127.0.1.1"};
	pki_mint(&K.san_ip_only, &s, &K.farm_int, now);
	s = (struct pki_spec){.cn = "partial", .san = "DNS:w*.farm.test"};
	pki_mint(&K.partial_wildcard, &s, &K.farm_int, now);

	K.well_known = X509_STORE_new();
	assert_non_null(K.well_known);
	assert_true(X509_STORE_add_cert(K.well_known, K.public_root.cert));
	return 0;
}

static int
group_teardown(void **state)
{
	size_t i, n;
	struct pki_cert *all = pki_all(&n);

	for (i = 0; i < n; i++)
		pki_cert_clear(&all[i]);
	X509_STORE_free(K.well_known);
	return 0;
}

static char cert_name[] = "cert";

/* A policy as verify_policy_new builds it from a config snapshot: auth and
 * roots are NULL-terminated lists. */
static struct verify_policy *
policy(enum config_sku sku, X509 **auth, X509 **roots, int validate_chain,
    int validate_sni)
{
	struct config_cert ac[8], rc[8];
	int ai[8], ri[8];
	struct config c = {.sku = sku};
	struct config_settings s = {
	    .validate_chain = validate_chain, .validate_sni = validate_sni};
	struct verify_policy *p;

	for (; auth && auth[s.nauth_certs]; s.nauth_certs++) {
		ac[s.nauth_certs] =
		    (struct config_cert){cert_name, auth[s.nauth_certs]};
		ai[s.nauth_certs] = (int)s.nauth_certs;
	}
	for (; roots && roots[s.ntrusted_roots]; s.ntrusted_roots++) {
		rc[s.ntrusted_roots] =
		    (struct config_cert){cert_name, roots[s.ntrusted_roots]};
		ri[s.ntrusted_roots] = (int)s.ntrusted_roots;
	}
	c.auth_certs = ac;
	c.nauth_certs = s.nauth_certs;
	c.trusted_roots = rc;
	c.ntrusted_roots = s.ntrusted_roots;
	s.auth_certs = ai;
	s.trusted_roots = ri;
	p = verify_policy_new(&c, &s, K.well_known);
	assert_non_null(p);
	return p;
}

static struct verify_policy *
v2_custom(void)
{
	X509 *roots[] = {K.farm_root.cert, NULL};

	return policy(CONFIG_SKU_V2, NULL, roots, 1, 1);
}

static struct verify_policy *
v2_well_known(void)
{
	return policy(CONFIG_SKU_V2, NULL, NULL, 1, 1);
}

static struct verify_policy *
v1_auth(X509 *allowed)
{
	X509 *auth[] = {allowed, NULL};

	return policy(CONFIG_SKU_V1, auth, NULL, 1, 1);
}

/* Check the chain (NULL-terminated) against p for name; the names of the
 * reasons are compared so a failure reads well. Frees p. */
static struct verify_result
check_free(struct verify_policy *p, const char *name, enum reason_code want,
    X509 *first, ...)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	struct verify_result r;
	va_list ap;
	X509 *x;

	assert_non_null(sk);
	va_start(ap, first);
	for (x = first; x != NULL; x = va_arg(ap, X509 *))
		assert_true(sk_X509_push(sk, x));
	va_end(ap);
	r = verify_chain(p, sk, name, K.now);
	sk_X509_free(sk);
	verify_policy_free(p);
	assert_string_equal(reason_name(r.reason), reason_name(want));
	if (want != REASON_V2_OTHER)
		assert_int_equal(r.error_code, 0);
	return r;
}

/* ---- v2, custom trusted root farm-root ---------------------------------- */

static void
test_verify_v2_custom_ca_signed_ok(void **state)
{
	check_free(
	    v2_custom(), HOST, REASON_OK, K.leaf.cert, K.farm_int.cert, NULL);
}

static void
test_verify_v2_custom_full_chain_ok(void **state)
{
	check_free(v2_custom(), HOST, REASON_OK, K.leaf.cert, K.farm_int.cert,
	    K.farm_root.cert, NULL);
}

static void
test_verify_v2_custom_leaf_signed_by_root_ok(void **state)
{
	check_free(v2_custom(), HOST, REASON_OK, K.root_leaf.cert, NULL);
}

static void
test_verify_v2_custom_leaf_only_intermediate_missing(void **state)
{
	check_free(v2_custom(), HOST, REASON_V2_INTERMEDIATE_MISSING,
	    K.leaf.cert, NULL);
}

static void
test_verify_v2_custom_wrong_order_leaf_not_first(void **state)
{
	check_free(v2_custom(), HOST, REASON_V2_LEAF_NOT_FIRST, K.farm_int.cert,
	    K.leaf.cert, NULL);
}

static void
test_verify_v2_custom_public_ca_root_mismatch_no_root(void **state)
{
	check_free(v2_custom(), HOST, REASON_V2_ROOT_MISMATCH_NO_ROOT,
	    K.public_leaf.cert, K.public_int.cert, NULL);
}

static void
test_verify_v2_custom_self_signed_intermediate_missing(void **state)
{
	check_free(v2_custom(), HOST, REASON_V2_INTERMEDIATE_MISSING,
	    K.self_signed.cert, NULL);
}

static void
test_verify_v2_custom_self_signed_uploaded_as_root_still_fails(void **state)
{
	X509 *roots[] = {K.self_signed.cert, NULL};

	check_free(policy(CONFIG_SKU_V2, NULL, roots, 1, 1), HOST,
	    REASON_V2_INTERMEDIATE_MISSING, K.self_signed.cert, NULL);
}

static void
test_verify_v2_custom_self_signed_ca_not_uploaded_root_mismatch(void **state)
{
	check_free(v2_custom(), HOST, REASON_V2_ROOT_MISMATCH,
	    K.self_signed_ca.cert, NULL);
}

static void
test_verify_v2_custom_self_signed_ca_uploaded_as_root_ok(void **state)
{
	X509 *roots[] = {K.self_signed_ca.cert, NULL};

	check_free(policy(CONFIG_SKU_V2, NULL, roots, 1, 1), HOST, REASON_OK,
	    K.self_signed_ca.cert, NULL);
	check_free(policy(CONFIG_SKU_V2, NULL, roots, 1, 1), "other.test",
	    REASON_V2_CN_MISMATCH, K.self_signed_ca.cert, NULL);
}

static void
test_verify_v2_custom_only_ca_certs_leaf_missing(void **state)
{
	check_free(v2_custom(), HOST, REASON_V2_LEAF_MISSING, K.farm_int.cert,
	    K.farm_root.cert, NULL);
}

static void
test_verify_v2_empty_chain_leaf_missing(void **state)
{
	check_free(v2_custom(), HOST, REASON_V2_LEAF_MISSING, NULL);
	check_free(v2_well_known(), HOST, REASON_V2_LEAF_MISSING, NULL);
}

static void
test_verify_v2_custom_expired_leaf(void **state)
{
	check_free(v2_custom(), HOST, REASON_EXPIRED, K.expired.cert,
	    K.farm_int.cert, NULL);
}

static void
test_verify_v2_custom_not_yet_valid_leaf(void **state)
{
	check_free(v2_custom(), HOST, REASON_EXPIRED, K.not_yet_valid.cert,
	    K.farm_int.cert, NULL);
}

static void
test_verify_v2_custom_expired_intermediate(void **state)
{
	check_free(v2_custom(), HOST, REASON_EXPIRED, K.expired_int_leaf.cert,
	    K.expired_int.cert, NULL);
}

static void
test_verify_v2_custom_expired_anchor(void **state)
{
	X509 *roots[] = {K.expired_root.cert, NULL};

	check_free(policy(CONFIG_SKU_V2, NULL, roots, 1, 1), HOST,
	    REASON_EXPIRED, K.expired_root_leaf.cert, K.expired_root_int.cert,
	    NULL);
}

static void
test_verify_v2_custom_wrong_host_cn_mismatch(void **state)
{
	check_free(v2_custom(), HOST, REASON_V2_CN_MISMATCH, K.wrong_host.cert,
	    K.farm_int.cert, NULL);
}

static void
test_verify_v2_custom_untrusted_root_no_root_sent(void **state)
{
	check_free(v2_custom(), HOST, REASON_V2_ROOT_MISMATCH_NO_ROOT,
	    K.rogue_leaf.cert, K.rogue_int.cert, NULL);
}

static void
test_verify_v2_custom_untrusted_root_sent_root_mismatch(void **state)
{
	check_free(v2_custom(), HOST, REASON_V2_ROOT_MISMATCH,
	    K.rogue_leaf.cert, K.rogue_int.cert, K.rogue_root.cert, NULL);
}

static void
test_verify_v2_custom_rotated_next_ca_root_mismatch_no_root(void **state)
{
	check_free(v2_custom(), HOST, REASON_V2_ROOT_MISMATCH_NO_ROOT,
	    K.next_leaf.cert, K.next_int.cert, NULL);
}

static void
test_verify_v2_custom_both_roots_during_rotation(void **state)
{
	X509 *roots[] = {K.farm_root.cert, K.next_root.cert, NULL};

	check_free(policy(CONFIG_SKU_V2, NULL, roots, 1, 1), HOST, REASON_OK,
	    K.next_leaf.cert, K.next_int.cert, NULL);
	check_free(policy(CONFIG_SKU_V2, NULL, roots, 1, 1), HOST, REASON_OK,
	    K.leaf.cert, K.farm_int.cert, NULL);
}

static void
test_verify_v2_custom_intermediate_as_root_is_no_anchor(void **state)
{
	X509 *roots[] = {K.farm_int.cert, NULL};

	check_free(policy(CONFIG_SKU_V2, NULL, roots, 1, 1), HOST,
	    REASON_V2_ROOT_MISMATCH_NO_ROOT, K.leaf.cert, K.farm_int.cert,
	    NULL);
	check_free(policy(CONFIG_SKU_V2, NULL, roots, 1, 1), HOST,
	    REASON_V2_ROOT_MISMATCH_NO_ROOT, K.leaf.cert, NULL);
}

static void
test_verify_v2_custom_roots_exclude_well_known(void **state)
{
	/* public-root is in the well-known store, yet not trusted here. */
	check_free(v2_custom(), HOST, REASON_V2_ROOT_MISMATCH,
	    K.public_leaf.cert, K.public_int.cert, K.public_root.cert, NULL);
}

static void
test_verify_v2_sha1_signed_other(void **state)
{
	struct verify_result r = check_free(v2_custom(), HOST, REASON_V2_OTHER,
	    K.sha1.cert, K.farm_int.cert, NULL);

	assert_int_equal(r.error_code, X509_V_ERR_CA_MD_TOO_WEAK);
}

static void
test_verify_v2_weak_rsa1024_other(void **state)
{
	struct verify_result r = check_free(v2_custom(), HOST, REASON_V2_OTHER,
	    K.weak_rsa.cert, K.farm_int.cert, NULL);

	assert_int_equal(r.error_code, X509_V_ERR_EE_KEY_TOO_SMALL);
}

static void
test_verify_v2_no_server_auth_eku_other(void **state)
{
	struct verify_result r = check_free(v2_custom(), HOST, REASON_V2_OTHER,
	    K.no_server_eku.cert, K.farm_int.cert, NULL);

	assert_int_equal(r.error_code, X509_V_ERR_INVALID_PURPOSE);
}

/* ---- v2, well-known store (public-root) --------------------------------- */

static void
test_verify_v2_wk_public_ca_signed_ok(void **state)
{
	check_free(v2_well_known(), HOST, REASON_OK, K.public_leaf.cert,
	    K.public_int.cert, NULL);
}

static void
test_verify_v2_wk_ca_signed_intermediate_not_well_known(void **state)
{
	check_free(v2_well_known(), HOST, REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN,
	    K.leaf.cert, K.farm_int.cert, NULL);
}

static void
test_verify_v2_wk_full_chain_intermediate_not_well_known(void **state)
{
	check_free(v2_well_known(), HOST, REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN,
	    K.leaf.cert, K.farm_int.cert, K.farm_root.cert, NULL);
}

static void
test_verify_v2_wk_leaf_only_leaf_not_well_known(void **state)
{
	check_free(v2_well_known(), HOST, REASON_V2_LEAF_NOT_WELL_KNOWN,
	    K.leaf.cert, NULL);
	/* Missing intermediates are never fetched, even a public one. */
	check_free(v2_well_known(), HOST, REASON_V2_LEAF_NOT_WELL_KNOWN,
	    K.public_leaf.cert, NULL);
}

static void
test_verify_v2_wk_leaf_signed_by_sent_rogue_root(void **state)
{
	check_free(v2_well_known(), HOST, REASON_V2_LEAF_NOT_WELL_KNOWN,
	    K.root_leaf.cert, K.farm_root.cert, NULL);
}

static void
test_verify_v2_wk_wrong_order_leaf_not_first(void **state)
{
	check_free(v2_well_known(), HOST, REASON_V2_LEAF_NOT_FIRST,
	    K.public_int.cert, K.public_leaf.cert, NULL);
}

static void
test_verify_v2_wk_self_signed_leaf_not_well_known(void **state)
{
	check_free(v2_well_known(), HOST, REASON_V2_LEAF_NOT_WELL_KNOWN,
	    K.self_signed.cert, NULL);
}

static void
test_verify_v2_wk_self_signed_ca_leaf_not_well_known(void **state)
{
	check_free(v2_well_known(), HOST, REASON_V2_LEAF_NOT_WELL_KNOWN,
	    K.self_signed_ca.cert, NULL);
}

static void
test_verify_v2_wk_expired_farm_chain_is_trust_first(void **state)
{
	check_free(v2_well_known(), HOST, REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN,
	    K.expired.cert, K.farm_int.cert, NULL);
}

static void
test_verify_v2_wk_weak_key_is_trust_first(void **state)
{
	/* OpenSSL checks the leaf's key size first; the path still wins. */
	check_free(v2_well_known(), HOST, REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN,
	    K.weak_rsa.cert, K.farm_int.cert, NULL);
}

static void
test_verify_v2_wk_expired_public_leaf(void **state)
{
	check_free(v2_well_known(), HOST, REASON_EXPIRED, K.public_expired.cert,
	    K.public_int.cert, NULL);
}

static void
test_verify_v2_wk_untrusted_root_intermediate_not_well_known(void **state)
{
	check_free(v2_well_known(), HOST, REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN,
	    K.rogue_leaf.cert, K.rogue_int.cert, NULL);
	check_free(v2_well_known(), HOST, REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN,
	    K.rogue_leaf.cert, K.rogue_int.cert, K.rogue_root.cert, NULL);
}

static void
test_verify_v2_wk_wrong_host_cn_mismatch(void **state)
{
	check_free(v2_well_known(), "other.public.test", REASON_V2_CN_MISMATCH,
	    K.public_leaf.cert, K.public_int.cert, NULL);
}

static void
test_verify_v2_wk_no_store_nothing_well_known(void **state)
{
	struct config c = {.sku = CONFIG_SKU_V2};
	struct config_settings s = {.validate_chain = 1, .validate_sni = 1};
	struct verify_policy *p = verify_policy_new(&c, &s, NULL);

	assert_non_null(p);
	check_free(p, HOST, REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN,
	    K.public_leaf.cert, K.public_int.cert, NULL);
}

/* ---- v2 switches and names ---------------------------------------------- */

static void
test_verify_v2_no_chain_validation_skips_trust_and_dates(void **state)
{
	X509 *roots[] = {K.farm_root.cert, NULL};

	check_free(policy(CONFIG_SKU_V2, NULL, roots, 0, 1), HOST, REASON_OK,
	    K.self_signed.cert, NULL);
	check_free(policy(CONFIG_SKU_V2, NULL, roots, 0, 1), HOST, REASON_OK,
	    K.expired.cert, K.farm_int.cert, NULL);
	check_free(policy(CONFIG_SKU_V2, NULL, NULL, 0, 1), HOST, REASON_OK,
	    K.rogue_leaf.cert, NULL);
}

static void
test_verify_v2_no_chain_validation_still_checks_name(void **state)
{
	check_free(policy(CONFIG_SKU_V2, NULL, NULL, 0, 1), HOST,
	    REASON_V2_CN_MISMATCH, K.wrong_host.cert, NULL);
}

static void
test_verify_v2_no_sni_validation_skips_name_only(void **state)
{
	X509 *roots[] = {K.farm_root.cert, NULL};

	check_free(policy(CONFIG_SKU_V2, NULL, roots, 1, 0), HOST, REASON_OK,
	    K.wrong_host.cert, K.farm_int.cert, NULL);
	check_free(policy(CONFIG_SKU_V2, NULL, roots, 1, 0), HOST,
	    REASON_EXPIRED, K.expired.cert, K.farm_int.cert, NULL);
}

static void
test_verify_v2_both_switches_off_accepts_anything(void **state)
{
	check_free(policy(CONFIG_SKU_V2, NULL, NULL, 0, 0), HOST, REASON_OK,
	    K.wrong_host.cert, NULL);
}

static void
test_verify_v2_no_sni_sent_no_name_check(void **state)
{
	check_free(v2_custom(), NULL, REASON_OK, K.wrong_host.cert,
	    K.farm_int.cert, NULL);
}

static void
test_verify_v2_wildcard_covers_one_label(void **state)
{
	check_free(v2_custom(), "a.farm.test", REASON_OK, K.wildcard.cert,
	    K.farm_int.cert, NULL);
	check_free(v2_custom(), "a.b.farm.test", REASON_V2_CN_MISMATCH,
	    K.wildcard.cert, K.farm_int.cert, NULL);
	check_free(v2_custom(), "farm.test", REASON_V2_CN_MISMATCH,
	    K.wildcard.cert, K.farm_int.cert, NULL);
}

static void
test_verify_v2_partial_wildcard_rejected(void **state)
{
	check_free(v2_custom(), "www.farm.test", REASON_V2_CN_MISMATCH,
	    K.partial_wildcard.cert, K.farm_int.cert, NULL);
}

static void
test_verify_v2_san_before_cn(void **state)
{
	/* CN www.farm.test, SAN other.farm.test: the SAN decides. */
	check_free(v2_custom(), HOST, REASON_V2_CN_MISMATCH, K.san_over_cn.cert,
	    K.farm_int.cert, NULL);
	check_free(v2_custom(), "other.farm.test", REASON_OK,
	    K.san_over_cn.cert, K.farm_int.cert, NULL);
}

static void
test_verify_v2_san_without_dns_names_hides_cn(void **state)
{
	/* A SAN extension is present (an IP only): the CN is not used. */
	check_free(v2_custom(), HOST, REASON_V2_CN_MISMATCH, K.san_ip_only.cert,
	    K.farm_int.cert, NULL);
}

static void
test_verify_v2_cn_used_without_san(void **state)
{
	check_free(v2_custom(), HOST, REASON_OK, K.cn_only.cert,
	    K.farm_int.cert, NULL);
	check_free(v2_custom(), "other.farm.test", REASON_V2_CN_MISMATCH,
	    K.cn_only.cert, K.farm_int.cert, NULL);
}

static void
test_verify_v2_name_is_case_insensitive(void **state)
{
	check_free(v2_custom(), "WWW.Farm.Test", REASON_OK, K.leaf.cert,
	    K.farm_int.cert, NULL);
}

/* ---- v1 authentication certificates ------------------------------------- */

static void
test_verify_v1_allow_listed_leaf_ok(void **state)
{
	check_free(v1_auth(K.leaf.cert), HOST, REASON_OK, K.leaf.cert,
	    K.farm_int.cert, NULL);
}

static void
test_verify_v1_allow_listed_self_signed_ok(void **state)
{
	check_free(v1_auth(K.self_signed.cert), HOST, REASON_OK,
	    K.self_signed.cert, NULL);
}

static void
test_verify_v1_not_listed_not_whitelisted(void **state)
{
	check_free(v1_auth(K.leaf.cert), HOST, REASON_V1_NOT_WHITELISTED,
	    K.leaf_other_key.cert, K.farm_int.cert, NULL);
}

static void
test_verify_v1_root_uploaded_not_whitelisted(void **state)
{
	check_free(v1_auth(K.farm_root.cert), HOST, REASON_V1_NOT_WHITELISTED,
	    K.leaf.cert, K.farm_int.cert, K.farm_root.cert, NULL);
}

static void
test_verify_v1_renewal_same_key_matches(void **state)
{
	check_free(v1_auth(K.leaf.cert), HOST, REASON_OK, K.leaf_renewed.cert,
	    K.farm_int.cert, NULL);
}

static void
test_verify_v1_expired_allow_listed_leaf(void **state)
{
	check_free(v1_auth(K.expired.cert), HOST, REASON_EXPIRED,
	    K.expired.cert, NULL);
	check_free(v1_auth(K.not_yet_valid.cert), HOST, REASON_EXPIRED,
	    K.not_yet_valid.cert, NULL);
}

static void
test_verify_v1_order_allow_list_then_dates_then_name(void **state)
{
	/* Not listed and expired: the allow-list speaks first. */
	check_free(v1_auth(K.leaf.cert), HOST, REASON_V1_NOT_WHITELISTED,
	    K.expired.cert, NULL);
	/* Listed, expired and the wrong name: the dates speak first. */
	check_free(v1_auth(K.expired.cert), "other.farm.test", REASON_EXPIRED,
	    K.expired.cert, NULL);
}

static void
test_verify_v1_wrong_fqdn_cn_mismatch(void **state)
{
	check_free(v1_auth(K.wrong_host.cert), HOST, REASON_V1_CN_MISMATCH,
	    K.wrong_host.cert, NULL);
}

static void
test_verify_v1_ip_member_no_name_check(void **state)
{
	check_free(v1_auth(K.wrong_host.cert), NULL, REASON_OK,
	    K.wrong_host.cert, NULL);
	check_free(v1_auth(K.wrong_host.cert), "127.0.1.1", REASON_OK,
	    K.wrong_host.cert, NULL);
}

static void
test_verify_v1_no_chain_built(void **state)
{
	/* An untrusted, sha1-signed leaf sent alone passes once listed. */
	check_free(v1_auth(K.rogue_leaf.cert), HOST, REASON_OK,
	    K.rogue_leaf.cert, NULL);
	check_free(v1_auth(K.sha1.cert), HOST, REASON_OK, K.sha1.cert, NULL);
}

static void
test_verify_v1_empty_chain_not_whitelisted(void **state)
{
	check_free(v1_auth(K.leaf.cert), HOST, REASON_V1_NOT_WHITELISTED, NULL);
}

static void
test_verify_v1_without_auth_certs_uses_well_known(void **state)
{
	check_free(policy(CONFIG_SKU_V1, NULL, NULL, 1, 1), HOST, REASON_OK,
	    K.public_leaf.cert, K.public_int.cert, NULL);
	check_free(policy(CONFIG_SKU_V1, NULL, NULL, 1, 1), HOST,
	    REASON_V1_NOT_WHITELISTED, K.leaf.cert, K.farm_int.cert, NULL);
	check_free(policy(CONFIG_SKU_V1, NULL, NULL, 1, 1), HOST,
	    REASON_V1_NOT_WHITELISTED, K.public_leaf.cert, NULL);
}

static void
test_verify_v1_without_auth_certs_dates_then_name(void **state)
{
	check_free(policy(CONFIG_SKU_V1, NULL, NULL, 1, 1), HOST,
	    REASON_EXPIRED, K.public_expired.cert, K.public_int.cert, NULL);
	check_free(policy(CONFIG_SKU_V1, NULL, NULL, 1, 1), "other.test",
	    REASON_V1_CN_MISMATCH, K.public_leaf.cert, K.public_int.cert, NULL);
}

static void
test_verify_v1_san_before_cn(void **state)
{
	/* CN www.farm.test, SAN other.farm.test: the SAN decides on v1 too. */
	check_free(v1_auth(K.san_over_cn.cert), HOST, REASON_V1_CN_MISMATCH,
	    K.san_over_cn.cert, NULL);
	check_free(v1_auth(K.san_over_cn.cert), "other.farm.test", REASON_OK,
	    K.san_over_cn.cert, NULL);
}

static void
test_verify_v1_cn_used_without_san(void **state)
{
	check_free(v1_auth(K.cn_only.cert), HOST, REASON_OK, K.cn_only.cert,
	    NULL);
	check_free(v1_auth(K.cn_only.cert), "other.farm.test",
	    REASON_V1_CN_MISMATCH, K.cn_only.cert, NULL);
}

static void
test_verify_v1_any_listed_cert_matches(void **state)
{
	X509 *auth[] = {K.wrong_host.cert, K.self_signed.cert, K.leaf.cert,
	    NULL};

	check_free(policy(CONFIG_SKU_V1, auth, NULL, 1, 1), HOST, REASON_OK,
	    K.leaf.cert, K.farm_int.cert, NULL);
}

static void
test_verify_v2_ip_literal_name_not_checked(void **state)
{
	/* An IP is never sent as SNI, so there is no name to check. */
	check_free(v2_custom(), "127.0.1.1", REASON_OK, K.wrong_host.cert,
	    K.farm_int.cert, NULL);
}

static void
test_verify_v2_wk_expired_anchor(void **state)
{
	X509_STORE *st = X509_STORE_new();
	struct config c = {.sku = CONFIG_SKU_V2};
	struct config_settings s = {.validate_chain = 1, .validate_sni = 1};
	struct verify_policy *p;

	/* The well-known store's root is checked for its dates as well. */
	assert_non_null(st);
	assert_true(X509_STORE_add_cert(st, K.expired_root.cert));
	p = verify_policy_new(&c, &s, st);
	X509_STORE_free(st);
	assert_non_null(p);
	check_free(p, HOST, REASON_EXPIRED, K.expired_root_leaf.cert,
	    K.expired_root_int.cert, NULL);
}

/* ---- policy and store ---------------------------------------------------- */

static void
test_verify_policy_ignores_dangling_indexes(void **state)
{
	struct config_cert rc[1] = {{cert_name, NULL}};
	int ri[2] = {0, 5};
	struct config c = {
	    .sku = CONFIG_SKU_V2, .trusted_roots = rc, .ntrusted_roots = 1};
	struct config_settings s = {.validate_chain = 1,
	    .validate_sni = 1,
	    .trusted_roots = ri,
	    .ntrusted_roots = 2};
	struct verify_policy *p;

	rc[0].cert = K.farm_root.cert;
	p = verify_policy_new(&c, &s, K.well_known);
	assert_non_null(p);
	assert_int_equal(sk_X509_num(p->roots), 1);
	assert_true(p->custom_roots);
	verify_policy_free(p);
	verify_policy_free(NULL);
}

static void
test_verify_store_load_reads_bundle(void **state)
{
	char path[] = "/tmp/agw-verify-XXXXXX", err[512];
	X509_STORE *st;
	STACK_OF(X509_OBJECT) * objs;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(
	    pki_write_pem(path, K.public_root.cert, K.farm_root.cert, NULL), 0);
	st = verify_store_load(path, err, sizeof(err));
	assert_non_null(st);
	objs = X509_STORE_get0_objects(st);
	assert_int_equal(sk_X509_OBJECT_num(objs), 2);
	X509_STORE_free(st);
	unlink(path);
}

static void
test_verify_store_load_error_names_file(void **state)
{
	char err[512];

	assert_null(
	    verify_store_load("/nonexistent/agw-wk.pem", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/agw-wk.pem"));
}

/* ---- a real handshake over a BIO pair ------------------------------------ */

struct hs {
	SSL_CTX *sctx, *cctx;
	SSL *server, *client;
};

/* Run a handshake: the server presents cert+key then chain (in order); the
 * client is prepared by verify_ssl_prepare. */
static void
handshake(struct hs *h, const struct pki_cert *cert, STACK_OF(X509) * chain,
    enum config_sku sku, const char *sni)
{
	char err[512];
	BIO *cb, *sb;
	int i, rc, cdone = 0, sdone = 0;

	h->sctx = tls_server_ctx_new(
	    cert->cert, cert->key, chain, 0, 0, err, sizeof(err));
	assert_non_null(h->sctx);
	h->cctx = tls_client_ctx_new(0, 0, err, sizeof(err));
	assert_non_null(h->cctx);
	assert_non_null(h->server = SSL_new(h->sctx));
	assert_non_null(h->client = SSL_new(h->cctx));
	assert_true(BIO_new_bio_pair(&cb, 0, &sb, 0));
	SSL_set_bio(h->client, cb, cb);
	SSL_set_bio(h->server, sb, sb);
	SSL_set_connect_state(h->client);
	SSL_set_accept_state(h->server);
	assert_int_equal(verify_ssl_prepare(h->client, sku, sni), 0);
	for (i = 0; i < 50 && !(cdone && sdone); i++) {
		if (!cdone) {
			rc = SSL_do_handshake(h->client);
			cdone = rc == 1;
			assert_true(rc == 1 || SSL_get_error(h->client, rc) ==
			                           SSL_ERROR_WANT_READ);
		}
		if (!sdone) {
			rc = SSL_do_handshake(h->server);
			sdone = rc == 1;
			assert_true(rc == 1 || SSL_get_error(h->server, rc) ==
			                           SSL_ERROR_WANT_READ);
		}
	}
	assert_true(cdone && sdone);
}

static void
hs_clear(struct hs *h)
{
	SSL_free(h->client);
	SSL_free(h->server);
	SSL_CTX_free(h->cctx);
	SSL_CTX_free(h->sctx);
}

static void
test_verify_handshake_v2_keeps_chain_order_and_sni(void **state)
{
	STACK_OF(X509) *chain = pki_stack(K.farm_int.cert, NULL), *peer;
	struct verify_policy *p = v2_custom();
	struct verify_result r;
	struct hs h;

	handshake(&h, &K.leaf, chain, CONFIG_SKU_V2, HOST);
	assert_string_equal(
	    SSL_get_servername(h.server, TLSEXT_NAMETYPE_host_name), HOST);
	assert_int_equal(SSL_version(h.client), TLS1_3_VERSION);
	peer = SSL_get_peer_cert_chain(h.client);
	assert_int_equal(sk_X509_num(peer), 2);
	assert_int_equal(X509_cmp(sk_X509_value(peer, 0), K.leaf.cert), 0);
	assert_int_equal(X509_cmp(sk_X509_value(peer, 1), K.farm_int.cert), 0);
	r = verify_chain(p, peer, HOST, K.now);
	assert_string_equal(reason_name(r.reason), "ok");
	verify_policy_free(p);
	hs_clear(&h);
	sk_X509_pop_free(chain, X509_free);
}

static void
test_verify_handshake_v2_untrusted_chain_completes(void **state)
{
	/* The handshake accepts; verify_chain decides afterwards. */
	struct verify_policy *p = v2_custom();
	struct verify_result r;
	struct hs h;

	handshake(&h, &K.self_signed, NULL, CONFIG_SKU_V2, HOST);
	r = verify_chain(p, SSL_get_peer_cert_chain(h.client), HOST, K.now);
	assert_string_equal(reason_name(r.reason), "v2.intermediate_missing");
	verify_policy_free(p);
	hs_clear(&h);
}

static void
test_verify_handshake_wrong_order_leaf_not_first(void **state)
{
	/* A backend serving its intermediate (with its key) before the leaf. */
	STACK_OF(X509) *chain = pki_stack(K.leaf.cert, NULL);
	struct verify_policy *p = v2_custom();
	struct verify_result r;
	struct hs h;

	handshake(&h, &K.farm_int, chain, CONFIG_SKU_V2, HOST);
	r = verify_chain(p, SSL_get_peer_cert_chain(h.client), HOST, K.now);
	assert_string_equal(reason_name(r.reason), "v2.leaf_not_first");
	verify_policy_free(p);
	hs_clear(&h);
	sk_X509_pop_free(chain, X509_free);
}

static void
test_verify_handshake_v1_is_tls12_only(void **state)
{
	struct hs h;

	handshake(&h, &K.leaf, NULL, CONFIG_SKU_V1, HOST);
	assert_int_equal(SSL_version(h.client), TLS1_2_VERSION);
	assert_string_equal(
	    SSL_get_servername(h.server, TLSEXT_NAMETYPE_host_name), HOST);
	hs_clear(&h);
}

static void
test_verify_handshake_ip_literal_sends_no_sni(void **state)
{
	struct hs h;

	handshake(&h, &K.leaf, NULL, CONFIG_SKU_V2, "127.0.1.1");
	assert_null(SSL_get_servername(h.server, TLSEXT_NAMETYPE_host_name));
	hs_clear(&h);
	handshake(&h, &K.leaf, NULL, CONFIG_SKU_V2, NULL);
	assert_null(SSL_get_servername(h.server, TLSEXT_NAMETYPE_host_name));
	hs_clear(&h);
}

static void
test_verify_prepare_sets_verify_peer(void **state)
{
	char err[256];
	SSL_CTX *ctx = tls_client_ctx_new(0, 0, err, sizeof(err));
	SSL *ssl;

	assert_non_null(ctx);
	assert_non_null(ssl = SSL_new(ctx));
	assert_int_equal(verify_ssl_prepare(ssl, CONFIG_SKU_V2, HOST), 0);
	assert_int_equal(SSL_get_verify_mode(ssl), SSL_VERIFY_PEER);
	assert_non_null(SSL_get_verify_callback(ssl));
	assert_int_equal(SSL_get_min_proto_version(ssl), TLS1_2_VERSION);
	assert_int_equal(SSL_get_max_proto_version(ssl), TLS1_3_VERSION);
	assert_int_equal(verify_ssl_prepare(NULL, CONFIG_SKU_V2, HOST), -1);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
}

/* ---- agw-certs' own output through the verifier, unit-sized ------------ */

/* Three of the matrix's modes (scenarios/matrix.yaml, TRUST.md's table:
 * v2 custom root, v2 well-known, v1 own leaf) on the verifier alone, with
 * the name b1.backend.test (a member FQDN, so `wildcard` passes here; the
 * matrix uses backend.test). The whole grid runs end to end in the
 * matrix. */

static const struct {
	const char *variant;
	enum reason_code custom, well_known, v1;
} variant_table[] = {
    {"ca-signed", REASON_OK, REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN, REASON_OK},
    {"ca-signed-full-chain", REASON_OK, REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN,
        REASON_OK},
    {"leaf-only", REASON_V2_INTERMEDIATE_MISSING, REASON_V2_LEAF_NOT_WELL_KNOWN,
        REASON_OK},
    {"wrong-order", REASON_V2_LEAF_NOT_FIRST, REASON_V2_LEAF_NOT_FIRST,
        REASON_V1_NOT_WHITELISTED},
    {"public-ca-signed", REASON_V2_ROOT_MISMATCH_NO_ROOT, REASON_OK, REASON_OK},
    {"self-signed", REASON_V2_INTERMEDIATE_MISSING,
        REASON_V2_LEAF_NOT_WELL_KNOWN, REASON_OK},
    {"self-signed-ca", REASON_V2_ROOT_MISMATCH, REASON_V2_LEAF_NOT_WELL_KNOWN,
        REASON_OK},
    {"expired", REASON_EXPIRED, REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN,
        REASON_EXPIRED},
    {"not-yet-valid", REASON_EXPIRED, REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN,
        REASON_EXPIRED},
    {"expired-intermediate", REASON_EXPIRED,
        REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN, REASON_OK},
    {"wrong-host", REASON_V2_CN_MISMATCH, REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN,
        REASON_V1_CN_MISMATCH},
    {"untrusted-root", REASON_V2_ROOT_MISMATCH_NO_ROOT,
        REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN, REASON_OK},
    {"rotated-next-ca", REASON_V2_ROOT_MISMATCH_NO_ROOT,
        REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN, REASON_OK},
    {"rotated-same-key", REASON_OK, REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN,
        REASON_OK},
    {"rotated", REASON_OK, REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN, REASON_OK},
    {"sha1-signed", REASON_V2_OTHER, REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN,
        REASON_OK},
    {"weak-rsa1024", REASON_V2_OTHER, REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN,
        REASON_OK},
    {"no-server-auth-eku", REASON_V2_OTHER,
        REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN, REASON_OK},
    {"cn-only", REASON_V2_CN_MISMATCH, REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN,
        REASON_V1_CN_MISMATCH},
    {"san-cn-disagree", REASON_V2_CN_MISMATCH,
        REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN, REASON_V1_CN_MISMATCH},
    {"wildcard", REASON_OK, REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN, REASON_OK},
    {"ip-san", REASON_V2_CN_MISMATCH, REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN,
        REASON_V1_CN_MISMATCH},
};

static X509 *
variant_cert(const char *dir, const char *name)
{
	char path[4096], err[512];
	X509 *x;

	snprintf(path, sizeof(path), "%s/%s.cer", dir, name);
	x = tls_x509_from_file(path, err, sizeof(err));
	if (x == NULL)
		fail_msg("%s", err);
	return x;
}

static void
test_verify_agw_certs_variant_table(void **state)
{
	const char *bin = getenv("AGW_BIN");
	char dir[] = "/tmp/agw-verify-pki-XXXXXX", cmd[8192], path[4096];
	char err[512], got[256];
	X509 *farm_root, *public_root, *own, *roots[2] = {NULL, NULL};
	X509 *auth[2] = {NULL, NULL};
	X509_STORE *saved = K.well_known;
	STACK_OF(X509) * chain;
	struct verify_policy *p;
	struct verify_result r;
	size_t i;
	int bad = 0;

	snprintf(path, sizeof(path), "%s/agw-certs", bin ? bin : "");
	if (bin == NULL || access(path, X_OK) != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(
	    cmd, sizeof(cmd), "'%s' generate --out '%s' >/dev/null", path, dir);
	assert_int_equal(system(cmd), 0);
	farm_root = variant_cert(dir, "farm-root");
	public_root = variant_cert(dir, "public-root");
	K.well_known = X509_STORE_new();
	assert_non_null(K.well_known);
	assert_true(X509_STORE_add_cert(K.well_known, public_root));
	roots[0] = farm_root;
	for (i = 0; i < sizeof(variant_table) / sizeof(variant_table[0]); i++) {
		const char *v = variant_table[i].variant;
		enum reason_code want[3] = {variant_table[i].custom,
		    variant_table[i].well_known, variant_table[i].v1};
		int m;

		snprintf(path, sizeof(path), "%s/%s.chain.pem", dir, v);
		if ((chain = tls_load_certs_file(path, err, sizeof(err))) ==
		    NULL)
			fail_msg("%s", err);
		own = variant_cert(
		    dir, strcmp(v, "rotated-same-key") == 0 ? "ca-signed" : v);
		auth[0] = own;
		for (m = 0; m < 3; m++) {
			p = m == 0   ? policy(CONFIG_SKU_V2, NULL, roots, 1, 1)
			    : m == 1 ? policy(CONFIG_SKU_V2, NULL, NULL, 1, 1)
			             : policy(CONFIG_SKU_V1, auth, NULL, 1, 1);
			r = verify_chain(
			    p, chain, "b1.backend.test", time(NULL));
			verify_policy_free(p);
			if (r.reason != want[m]) {
				snprintf(got, sizeof(got), "%s",
				    reason_name(r.reason));
				print_error("%s [%s]: got %s, want %s\n", v,
				    m == 0   ? "custom"
				    : m == 1 ? "well-known"
				             : "v1",
				    got, reason_name(want[m]));
				bad++;
			}
		}
		X509_free(own);
		sk_X509_pop_free(chain, X509_free);
	}
	X509_STORE_free(K.well_known);
	K.well_known = saved;
	X509_free(farm_root);
	X509_free(public_root);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(bad, 0);
}

#define T(f) cmocka_unit_test(f)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_verify_v2_custom_ca_signed_ok),
	    T(test_verify_v2_custom_full_chain_ok),
	    T(test_verify_v2_custom_leaf_signed_by_root_ok),
	    T(test_verify_v2_custom_leaf_only_intermediate_missing),
	    T(test_verify_v2_custom_wrong_order_leaf_not_first),
	    T(test_verify_v2_custom_public_ca_root_mismatch_no_root),
	    T(test_verify_v2_custom_self_signed_intermediate_missing),
	    T(test_verify_v2_custom_self_signed_uploaded_as_root_still_fails),
	    T(test_verify_v2_custom_self_signed_ca_not_uploaded_root_mismatch),
	    T(test_verify_v2_custom_self_signed_ca_uploaded_as_root_ok),
	    T(test_verify_v2_custom_only_ca_certs_leaf_missing),
	    T(test_verify_v2_empty_chain_leaf_missing),
	    T(test_verify_v2_custom_expired_leaf),
	    T(test_verify_v2_custom_not_yet_valid_leaf),
	    T(test_verify_v2_custom_expired_intermediate),
	    T(test_verify_v2_custom_expired_anchor),
	    T(test_verify_v2_custom_wrong_host_cn_mismatch),
	    T(test_verify_v2_custom_untrusted_root_no_root_sent),
	    T(test_verify_v2_custom_untrusted_root_sent_root_mismatch),
	    T(test_verify_v2_custom_rotated_next_ca_root_mismatch_no_root),
	    T(test_verify_v2_custom_both_roots_during_rotation),
	    T(test_verify_v2_custom_intermediate_as_root_is_no_anchor),
	    T(test_verify_v2_custom_roots_exclude_well_known),
	    T(test_verify_v2_sha1_signed_other),
	    T(test_verify_v2_weak_rsa1024_other),
	    T(test_verify_v2_no_server_auth_eku_other),
	    T(test_verify_v2_wk_public_ca_signed_ok),
	    T(test_verify_v2_wk_ca_signed_intermediate_not_well_known),
	    T(test_verify_v2_wk_full_chain_intermediate_not_well_known),
	    T(test_verify_v2_wk_leaf_only_leaf_not_well_known),
	    T(test_verify_v2_wk_leaf_signed_by_sent_rogue_root),
	    T(test_verify_v2_wk_wrong_order_leaf_not_first),
	    T(test_verify_v2_wk_self_signed_leaf_not_well_known),
	    T(test_verify_v2_wk_self_signed_ca_leaf_not_well_known),
	    T(test_verify_v2_wk_expired_farm_chain_is_trust_first),
	    T(test_verify_v2_wk_weak_key_is_trust_first),
	    T(test_verify_v2_wk_expired_public_leaf),
	    T(test_verify_v2_wk_untrusted_root_intermediate_not_well_known),
	    T(test_verify_v2_wk_wrong_host_cn_mismatch),
	    T(test_verify_v2_wk_no_store_nothing_well_known),
	    T(test_verify_v2_no_chain_validation_skips_trust_and_dates),
	    T(test_verify_v2_no_chain_validation_still_checks_name),
	    T(test_verify_v2_no_sni_validation_skips_name_only),
	    T(test_verify_v2_both_switches_off_accepts_anything),
	    T(test_verify_v2_no_sni_sent_no_name_check),
	    T(test_verify_v2_wildcard_covers_one_label),
	    T(test_verify_v2_partial_wildcard_rejected),
	    T(test_verify_v2_san_before_cn),
	    T(test_verify_v2_san_without_dns_names_hides_cn),
	    T(test_verify_v2_cn_used_without_san),
	    T(test_verify_v2_name_is_case_insensitive),
	    T(test_verify_v1_allow_listed_leaf_ok),
	    T(test_verify_v1_allow_listed_self_signed_ok),
	    T(test_verify_v1_not_listed_not_whitelisted),
	    T(test_verify_v1_root_uploaded_not_whitelisted),
	    T(test_verify_v1_renewal_same_key_matches),
	    T(test_verify_v1_expired_allow_listed_leaf),
	    T(test_verify_v1_order_allow_list_then_dates_then_name),
	    T(test_verify_v1_wrong_fqdn_cn_mismatch),
	    T(test_verify_v1_ip_member_no_name_check),
	    T(test_verify_v1_no_chain_built),
	    T(test_verify_v1_empty_chain_not_whitelisted),
	    T(test_verify_v1_without_auth_certs_uses_well_known),
	    T(test_verify_v1_without_auth_certs_dates_then_name),
	    T(test_verify_v1_san_before_cn),
	    T(test_verify_v1_cn_used_without_san),
	    T(test_verify_v1_any_listed_cert_matches),
	    T(test_verify_v2_ip_literal_name_not_checked),
	    T(test_verify_v2_wk_expired_anchor),
	    T(test_verify_policy_ignores_dangling_indexes),
	    T(test_verify_store_load_reads_bundle),
	    T(test_verify_store_load_error_names_file),
	    T(test_verify_handshake_v2_keeps_chain_order_and_sni),
	    T(test_verify_handshake_v2_untrusted_chain_completes),
	    T(test_verify_handshake_wrong_order_leaf_not_first),
	    T(test_verify_handshake_v1_is_tls12_only),
	    T(test_verify_handshake_ip_literal_sends_no_sni),
	    T(test_verify_prepare_sets_verify_peer),
	    T(test_verify_agw_certs_variant_table),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
