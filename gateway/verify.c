/*
 * verify: the backend certificate verifier (spec sections 2 and 3). The
 * decisions that are ours, not the service's, are written down in
 * gateway/TRUST.md; the comments here say where each one is made.
 */
#include "verify.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "net.h"
#include "tls.h"

/* Paths are never longer than this (loops in a hostile chain end here). */
#define VERIFY_MAX_DEPTH 32

/* Copy the certificates a setting references (idx into certs) into a new
 * stack holding a reference on each. NULL on allocation failure. */
static STACK_OF(X509) * verify_certs_dup(const struct config_cert *certs,
                            size_t ncerts, const int *idx, size_t n)
{
	STACK_OF(X509) * sk;
	X509 *x;
	size_t i;

	if ((sk = sk_X509_new_null()) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (idx[i] < 0 || (size_t)idx[i] >= ncerts)
			continue;
		if ((x = certs[idx[i]].cert) == NULL)
			continue;
		if (!sk_X509_push(sk, x))
			goto fail;
		X509_up_ref(x);
	}
	return sk;
fail:
	sk_X509_pop_free(sk, X509_free);
	return NULL;
}

struct verify_policy *
verify_policy_new(const struct config *c, const struct config_settings *s,
    X509_STORE *well_known)
{
	struct verify_policy *p;
	int i;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->sku = c->sku;
	p->validate_chain = s->validate_chain;
	p->validate_sni = s->validate_sni;
	if (well_known != NULL) {
		if (!X509_STORE_up_ref(well_known))
			goto fail;
		p->well_known = well_known;
	}
	p->auth_certs = verify_certs_dup(
	    c->auth_certs, c->nauth_certs, s->auth_certs, s->nauth_certs);
	if (p->auth_certs == NULL)
		goto fail;
	p->roots = verify_certs_dup(c->trusted_roots, c->ntrusted_roots,
	    s->trusted_roots, s->ntrusted_roots);
	if (p->roots == NULL)
		goto fail;
	if (sk_X509_num(p->roots) == 0) {
		sk_X509_free(p->roots);
		p->roots = NULL;
	}
	/* Trusted roots exist on v2 only (config refuses them on v1). */
	p->custom_roots = p->sku == CONFIG_SKU_V2 && p->roots != NULL;
	if (p->custom_roots) {
		/* Exclusive: a setting with roots trusts nothing else. */
		if ((p->anchors = X509_STORE_new()) == NULL)
			goto fail;
		for (i = 0; i < sk_X509_num(p->roots); i++)
			if (!X509_STORE_add_cert(
			        p->anchors, sk_X509_value(p->roots, i)))
				goto fail;
	} else if (p->well_known != NULL) {
		if (!X509_STORE_up_ref(p->well_known))
			goto fail;
		p->anchors = p->well_known;
	} else if ((p->anchors = X509_STORE_new()) == NULL) {
		goto fail; /* no well-known store: nothing is well known */
	}
	return p;
fail:
	ERR_clear_error();
	verify_policy_free(p);
	return NULL;
}

void
verify_policy_free(struct verify_policy *p)
{
	if (p == NULL)
		return;
	sk_X509_pop_free(p->auth_certs, X509_free);
	sk_X509_pop_free(p->roots, X509_free);
	X509_STORE_free(p->anchors);
	X509_STORE_free(p->well_known);
	free(p);
}

X509_STORE *
verify_store_load(const char *pem_path, char *err, size_t errlen)
{
	STACK_OF(X509) * sk;
	X509_STORE *st = NULL;
	char ossl[256];
	int i;

	if ((sk = tls_load_certs_file(pem_path, err, errlen)) == NULL)
		return NULL;
	if ((st = X509_STORE_new()) == NULL)
		goto fail;
	for (i = 0; i < sk_X509_num(sk); i++)
		if (!X509_STORE_add_cert(st, sk_X509_value(sk, i)))
			goto fail;
	sk_X509_pop_free(sk, X509_free);
	return st;
fail:
	tls_errors(ossl, sizeof(ossl));
	snprintf(err, errlen, "%s: cannot build the CA store%s%s%s", pem_path,
	    ossl[0] ? " (" : "", ossl, ossl[0] ? ")" : "");
	X509_STORE_free(st);
	sk_X509_pop_free(sk, X509_free);
	return NULL;
}

/* A CA is a certificate with basicConstraints CA:TRUE; nothing else. */
static int
verify_is_ca(X509 *x)
{
	return (X509_get_extension_flags(x) & EXFLAG_CA) != 0;
}

static int
verify_self_signed(X509 *x)
{
	return X509_self_signed(x, 0) == 1;
}

/* 1 when now is within [notBefore, notAfter] of x; 0 otherwise (also when
 * a date cannot be read). */
static int
verify_in_dates(X509 *x, time_t now)
{
	time_t t = now;

	return X509_cmp_time(X509_get0_notBefore(x), &t) == -1 &&
	       X509_cmp_time(X509_get0_notAfter(x), &t) == 1;
}

/*
 * RFC 6125 name check: the SAN DNS names when the certificate has a SAN
 * extension at all, its CN only when it has none; a wildcard covers exactly
 * one whole left-most label ("*.farm.test", never "w*.farm.test"). No name,
 * or an IP literal: nothing to check.
 */
static int
verify_name_ok(X509 *leaf, const char *name)
{
	unsigned int flags = X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;

	if (name == NULL || name[0] == '\0' || net_is_ip_literal(name))
		return 1;
	if (X509_get_ext_by_NID(leaf, NID_subject_alt_name, -1) >= 0)
		flags |= X509_CHECK_FLAG_NEVER_CHECK_SUBJECT;
	return X509_check_host(leaf, name, 0, flags, NULL) == 1;
}

/* 1 when the leaf's SubjectPublicKeyInfo equals that of one of list. */
static int
verify_key_listed(STACK_OF(X509) * list, X509 *leaf)
{
	unsigned char *a = NULL, *b;
	int alen, blen, i, found = 0;

	if ((alen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), &a)) <= 0)
		return 0;
	for (i = 0; !found && i < sk_X509_num(list); i++) {
		b = NULL;
		blen = i2d_X509_PUBKEY(
		    X509_get_X509_PUBKEY(sk_X509_value(list, i)), &b);
		found = blen == alen && memcmp(a, b, (size_t)alen) == 0;
		OPENSSL_free(b);
	}
	OPENSSL_free(a);
	return found;
}

/* The errors that mean "no path to an anchor": classified from the
 * presented chain rather than taken from OpenSSL as they are. */
static int
verify_is_path_error(int err)
{
	switch (err) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
		return 1;
	default:
		return 0;
	}
}

/*
 * One X509_verify_cert of chain's first certificate against store (the rest
 * of chain as untrusted helpers), no partial chains, dates not checked.
 * With full, also purpose sslserver and security level VERIFY_AUTH_LEVEL.
 * Returns 0 with the path (leaf first, anchor last) in *built when built is
 * not NULL, or -1 with the X509_V_ERR_* in *err.
 */
static int
verify_path_once(X509_STORE *store, STACK_OF(X509) * chain, int full, int *err,
    STACK_OF(X509) * *built)
{
	X509_STORE_CTX *ctx;
	X509_VERIFY_PARAM *param;
	int rc = -1;

	*err = X509_V_ERR_OUT_OF_MEM;
	if ((ctx = X509_STORE_CTX_new()) == NULL)
		goto done;
	if (!X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0), chain))
		goto done;
	if (full && !X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER))
		goto done;
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_clear_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
	X509_VERIFY_PARAM_set_auth_level(param, full ? VERIFY_AUTH_LEVEL : -1);
	if (X509_verify_cert(ctx) == 1) {
		if (built == NULL ||
		    (*built = X509_STORE_CTX_get1_chain(ctx)) != NULL) {
			*err = X509_V_OK;
			rc = 0;
		}
	} else {
		*err = X509_STORE_CTX_get_error(ctx);
		if (*err == X509_V_OK)
			*err = X509_V_ERR_UNSPECIFIED;
	}
done:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	return rc;
}

/*
 * The path of chain's first certificate to a self-signed anchor of store.
 * Two passes, so the path is judged first whatever OpenSSL checks first
 * (it checks the leaf's key size before it builds anything): the path
 * alone, then the same with purpose and security level. On success returns
 * 0 and the path in *built, the caller's to free. On failure returns -1
 * with the X509_V_ERR_* in *err.
 */
static int
verify_path(X509_STORE *store, STACK_OF(X509) * chain, int *err,
    STACK_OF(X509) * *built)
{
	*built = NULL;
	if (verify_path_once(store, chain, 0, err, NULL) == -1)
		return -1;
	return verify_path_once(store, chain, 1, err, built);
}

/* The issuer of x among sk (x itself excluded), or NULL. */
static X509 *
verify_find_issuer(STACK_OF(X509) * sk, X509 *x)
{
	X509 *c;
	int i;

	for (i = 0; sk != NULL && i < sk_X509_num(sk); i++) {
		c = sk_X509_value(sk, i);
		if (c != x && X509_cmp(c, x) != 0 &&
		    X509_check_issued(c, x) == X509_V_OK)
			return c;
	}
	return NULL;
}

/*
 * A leaf-first chain with no path to an anchor: walk it up through the sent
 * certificates and the anchors as far as issuers go, then name what is
 * wrong (see TRUST.md, "v2: no path to an anchor").
 */
static enum reason_code
verify_v2_classify(const struct verify_policy *p, STACK_OF(X509) * chain)
{
	STACK_OF(X509) * anchors;
	X509 *cur, *iss, *failing;
	enum reason_code r;
	int hops;

	anchors = X509_STORE_get1_all_certs(p->anchors);
	cur = failing = sk_X509_value(chain, 0);
	for (hops = 0; hops < VERIFY_MAX_DEPTH; hops++) {
		if (verify_self_signed(cur))
			break;
		failing = cur;
		iss = verify_find_issuer(chain, cur);
		if (iss == NULL)
			iss = verify_find_issuer(anchors, cur);
		if (iss == NULL)
			break;
		cur = iss;
	}
	if (cur == sk_X509_value(chain, 0)) /* the leaf's issuer is absent */
		r = p->custom_roots ? REASON_V2_INTERMEDIATE_MISSING
		                    : REASON_V2_LEAF_NOT_WELL_KNOWN;
	else if (p->custom_roots)
		r = verify_self_signed(cur) ? REASON_V2_ROOT_MISMATCH
		                            : REASON_V2_ROOT_MISMATCH_NO_ROOT;
	else
		r = failing == sk_X509_value(chain, 0)
		        ? REASON_V2_LEAF_NOT_WELL_KNOWN
		        : REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN;
	sk_X509_pop_free(anchors, X509_free);
	return r;
}

/* 1 when every certificate of built is within its dates. */
static int
verify_all_in_dates(STACK_OF(X509) * built, time_t now)
{
	int i;

	for (i = 0; i < sk_X509_num(built); i++)
		if (!verify_in_dates(sk_X509_value(built, i), now))
			return 0;
	return 1;
}

/* v2: structure, then path to an anchor, then dates, then the name. */
static struct verify_result
verify_v2(const struct verify_policy *p, STACK_OF(X509) * chain,
    const char *name, time_t now)
{
	struct verify_result r = {REASON_OK, 0};
	STACK_OF(X509) * built;
	X509 *leaf;
	int i, n, err;

	if ((n = chain != NULL ? sk_X509_num(chain) : 0) == 0) {
		r.reason = REASON_V2_LEAF_MISSING;
		return r;
	}
	leaf = sk_X509_value(chain, 0);
	if (!p->validate_chain)
		goto name;
	if (verify_is_ca(leaf)) {
		for (i = 1; i < n; i++)
			if (!verify_is_ca(sk_X509_value(chain, i))) {
				r.reason = REASON_V2_LEAF_NOT_FIRST;
				return r;
			}
		/* Only CA certificates: no leaf, unless the first is a
		 * self-signed CA serving as its own certificate (trusted
		 * only when it is itself an anchor; see TRUST.md). */
		if (!verify_self_signed(leaf)) {
			r.reason = REASON_V2_LEAF_MISSING;
			return r;
		}
	} else if (verify_self_signed(leaf)) {
		/* Even when uploaded as a trusted root (spec section 3). */
		r.reason = p->custom_roots ? REASON_V2_INTERMEDIATE_MISSING
		                           : REASON_V2_LEAF_NOT_WELL_KNOWN;
		return r;
	}
	if (verify_path(p->anchors, chain, &err, &built) == -1) {
		log_debug("verify: v2 path: %s (%d)",
		    X509_verify_cert_error_string(err), err);
		if (verify_is_path_error(err) && verify_is_ca(leaf)) {
			/* A self-signed CA that is not an anchor. */
			r.reason = p->custom_roots
			               ? REASON_V2_ROOT_MISMATCH
			               : REASON_V2_LEAF_NOT_WELL_KNOWN;
		} else if (verify_is_path_error(err)) {
			r.reason = verify_v2_classify(p, chain);
		} else {
			r.reason = REASON_V2_OTHER;
			r.error_code = err;
		}
		return r;
	}
	if (!verify_all_in_dates(built, now))
		r.reason = REASON_EXPIRED;
	sk_X509_pop_free(built, X509_free);
	if (r.reason != REASON_OK)
		return r;
name:
	if (p->validate_sni && !verify_name_ok(leaf, name))
		r.reason = REASON_V2_CN_MISMATCH;
	return r;
}

/* v1: allow-list (or, with no authentication certificates, a path to the
 * well-known store), then dates, then the name. */
static struct verify_result
verify_v1(const struct verify_policy *p, STACK_OF(X509) * chain,
    const char *name, time_t now)
{
	struct verify_result r = {REASON_OK, 0};
	STACK_OF(X509) * built;
	X509 *leaf;
	int err;

	if (chain == NULL || sk_X509_num(chain) == 0) {
		r.reason = REASON_V1_NOT_WHITELISTED;
		return r;
	}
	leaf = sk_X509_value(chain, 0);
	if (sk_X509_num(p->auth_certs) > 0) {
		if (!verify_key_listed(p->auth_certs, leaf))
			r.reason = REASON_V1_NOT_WHITELISTED;
		else if (!verify_in_dates(leaf, now))
			r.reason = REASON_EXPIRED;
	} else if (verify_is_ca(leaf) ||
	           verify_path(p->anchors, chain, &err, &built) == -1) {
		/* Emulator choice: no path to the well-known store reads as
		 * "not whitelisted", the only trust text v1 has. */
		r.reason = REASON_V1_NOT_WHITELISTED;
	} else {
		if (!verify_all_in_dates(built, now))
			r.reason = REASON_EXPIRED;
		sk_X509_pop_free(built, X509_free);
	}
	if (r.reason == REASON_OK && !verify_name_ok(leaf, name))
		r.reason = REASON_V1_CN_MISMATCH;
	return r;
}

struct verify_result
verify_chain(const struct verify_policy *p, STACK_OF(X509) * chain,
    const char *name, time_t now)
{
	if (p->sku == CONFIG_SKU_V1)
		return verify_v1(p, chain, name, now);
	return verify_v2(p, chain, name, now);
}

/* The handshake accepts whatever the server sends; verify_chain decides
 * before the request is written. */
static int
verify_accept_cb(int preverify_ok, X509_STORE_CTX *ctx)
{
	return 1;
}

int
verify_ssl_prepare(SSL *ssl, enum config_sku sku, const char *sni)
{
	int max = sku == CONFIG_SKU_V1 ? TLS1_2_VERSION : TLS1_3_VERSION;
	char err[256];

	if (ssl == NULL)
		return -1;
	if (!SSL_set_min_proto_version(ssl, TLS1_2_VERSION) ||
	    !SSL_set_max_proto_version(ssl, max))
		goto fail;
	if (sni != NULL && sni[0] != '\0' && !net_is_ip_literal(sni) &&
	    !SSL_set_tlsext_host_name(ssl, sni))
		goto fail;
	SSL_set_verify(ssl, SSL_VERIFY_PEER, verify_accept_cb);
	return 0;
fail:
	log_warn("verify: cannot prepare the upstream TLS connection "
	         "(SNI %s): %s",
	    sni ? sni : "none", tls_errors(err, sizeof(err)));
	return -1;
}
