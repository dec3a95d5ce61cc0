/*
 * verify: the one backend certificate verifier, used by live traffic and by
 * probes. Two policies: v1 (leaf public key allow-list, validity dates, name
 * against the pool member's FQDN; no chain building) and v2 (chain anchored
 * at the setting's trusted roots or the well-known store, leaf first,
 * intermediates present, dates, name against the SNI sent). Each check
 * returns one reason code (reason.h); the caller turns it into a 502, a
 * health state and the healthProbeLog text.
 *
 * The TLS handshake itself is run with OpenSSL's verification callback
 * accepting (the chain is recorded); verify_chain() then decides, before a
 * single byte of the request is sent. Never verify-none.
 */
#ifndef AGW_VERIFY_H
#define AGW_VERIFY_H

#include <time.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "config.h"
#include "reason.h"

/* The OpenSSL security level certificate paths are checked at (emulator
 * choice, Debian's default: RSA/DH >= 2048 bits, no SHA-1 signatures).
 * Failing it is REASON_V2_OTHER with X509_V_ERR_EE_KEY_TOO_SMALL,
 * X509_V_ERR_CA_KEY_TOO_SMALL or X509_V_ERR_CA_MD_TOO_WEAK. */
#define VERIFY_AUTH_LEVEL 2

/* What one Https setting trusts. Built once per (config snapshot, setting)
 * with verify_policy_new; immutable afterwards, shared by workers. */
struct verify_policy {
	enum config_sku sku;
	STACK_OF(X509) *auth_certs;	/* v1 allow-list (leaf certs) */
	X509_STORE *anchors;		/* v2: custom roots, or well-known;
					 * v1: well-known (used only when
					 * there are no auth certs) */
	STACK_OF(X509) *roots;		/* the custom roots (or NULL) */
	int custom_roots;		/* v2: 1 when the setting has roots */
	int validate_chain;		/* v2 validateCertChainAndExpiry */
	int validate_sni;		/* v2 validateSNI */
	X509_STORE *well_known;		/* the --well-known-cas store */
};

/* The outcome of one check. */
struct verify_result {
	enum reason_code reason;
	int error_code; /* X509_V_ERR_* for REASON_V2_OTHER, else 0 */
};

/*
 * Build the policy of one setting of a snapshot. well_known is the store of
 * --well-known-cas (the policy takes its own reference; NULL means an
 * empty store: nothing is well known). Certificates are referenced, not
 * copied: the policy may outlive the snapshot. Returns NULL on allocation
 * failure. Free with verify_policy_free (NULL is fine).
 */
struct verify_policy *verify_policy_new(const struct config *c,
    const struct config_settings *s, X509_STORE *well_known);
void verify_policy_free(struct verify_policy *p);

/*
 * Load a PEM bundle into a new X509_STORE (the well-known CA store). Returns
 * NULL with err set (naming the file) on failure.
 */
X509_STORE *verify_store_load(const char *pem_path, char *err, size_t errlen);

/*
 * Decide whether a presented chain is trusted. chain is what the server
 * sent, in order (SSL_get_peer_cert_chain on the client side: leaf first).
 * name is the name to check: v1 the pool member's FQDN (NULL for an IP
 * member: no name check); v2 the SNI sent (NULL when none was sent: no name
 * check; an IP literal is never checked either). now is the time to check
 * dates against. Returns REASON_OK or the one reason, in this order:
 *   v1: allow-list by SubjectPublicKeyInfo (no auth certs: a path to the
 *       well-known store, else REASON_V1_NOT_WHITELISTED), dates
 *       (REASON_EXPIRED), name (REASON_V1_CN_MISMATCH).
 *   v2: structure (LEAF_MISSING, LEAF_NOT_FIRST), path to a self-signed
 *       anchor (INTERMEDIATE_MISSING, LEAF_NOT_WELL_KNOWN,
 *       INTERMEDIATE_NOT_WELL_KNOWN, ROOT_MISMATCH_NO_ROOT, ROOT_MISMATCH,
 *       OTHER), dates of every certificate of the path (EXPIRED), name
 *       (V2_CN_MISMATCH). validate_chain 0 skips all but the name;
 *       validate_sni 0 skips the name.
 * gateway/TRUST.md has the full table. Thread-safe: p is only read.
 */
struct verify_result verify_chain(const struct verify_policy *p,
    STACK_OF(X509) *chain, const char *name, time_t now);

/*
 * Prepare a client SSL for an upstream connection: SNI (NULL for none; an IP
 * literal is never sent), the SKU's protocol versions (v1 TLS 1.2 only; v2
 * 1.2 minimum, 1.3 preferred), and a verification callback that records but
 * accepts, so verify_chain can classify after the handshake. Returns 0/-1.
 */
int verify_ssl_prepare(SSL *ssl, enum config_sku sku, const char *sni);

#endif
