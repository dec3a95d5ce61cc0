/*
 * reason: every outcome of a backend check (TLS verification, probe,
 * connection) is one reason code. One table maps each code to a short
 * stable name (logs, metrics, X-AGW-Reason, scenarios) and to the service's
 * healthProbeLog text (spec section 4). Probes, live traffic, the admin API,
 * logs and metrics all use this table.
 */
#ifndef AGW_REASON_H
#define AGW_REASON_H

#include <stddef.h>

enum reason_code {
	REASON_OK = 0,
	/* v1 authentication certificates */
	REASON_V1_NOT_WHITELISTED,	/* v1.not_whitelisted */
	REASON_V1_CN_MISMATCH,		/* v1.cn_mismatch */
	/* v2 trusted roots / well-known store */
	REASON_V2_CN_MISMATCH,		/* v2.cn_mismatch */
	REASON_V2_INTERMEDIATE_MISSING, /* v2.intermediate_missing */
	REASON_V2_LEAF_MISSING,		/* v2.leaf_missing */
	REASON_V2_LEAF_NOT_FIRST,	/* v2.leaf_not_first */
	REASON_V2_LEAF_NOT_WELL_KNOWN,	/* v2.leaf_not_well_known */
	REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN, /* v2.intermediate_not_well_known */
	REASON_V2_ROOT_MISMATCH_NO_ROOT, /* v2.root_mismatch_no_root */
	REASON_V2_ROOT_MISMATCH,	/* v2.root_mismatch */
	REASON_V2_OTHER,		/* v2.verify_failed ({errorCode}) */
	/* both SKUs */
	REASON_EXPIRED,			/* cert.expired (or not yet valid) */
	REASON_PROBE_TIMEOUT,		/* probe.timeout */
	REASON_DNS,			/* probe.dns */
	REASON_CONNECT,			/* connect.failed */
	REASON_STATUS_MISMATCH,		/* probe.status_mismatch */
	REASON_BODY_MISMATCH,		/* probe.body_mismatch */
	/* gateway-side, not from the service's table (emulator texts) */
	REASON_TLS_HANDSHAKE,		/* tls.handshake_failed */
	REASON_UPSTREAM_RESET,		/* upstream.reset */
	REASON_UPSTREAM_INVALID,	/* upstream.invalid_response */
	REASON_UPSTREAM_TIMEOUT,	/* upstream.timeout */
	REASON_NO_HEALTHY_MEMBER,	/* pool.no_healthy_member */
	REASON_UNKNOWN,			/* unknown (health not yet probed) */
	REASON__COUNT
};

/* Arguments some texts take: {errorCode}, {expected}, {received}, {string}. */
struct reason_args {
	int error_code;		/* REASON_V2_OTHER: OpenSSL X509_V_ERR_* */
	const char *expected;	/* REASON_STATUS_MISMATCH: "200-399" */
	int received;		/* REASON_STATUS_MISMATCH: status received */
	const char *body;	/* REASON_BODY_MISMATCH: the match string */
};

/* The short stable name, e.g. "v2.intermediate_missing" ("invalid" for a
 * code out of range). Static storage. */
const char *reason_name(enum reason_code code);
/* The code of a short name, or -1. */
int reason_from_name(const char *name);
/* The service's text with its arguments substituted, into buf (always
 * NUL-terminated, truncated to len). With args NULL the placeholders are
 * left as written ("{errorCode}"). REASON_OK reads "Success. Received
 * {received} status code" when args->received > 0, else "Success." (an
 * emulator text). An unknown code gives "". Returns buf. */
const char *reason_text(enum reason_code code, const struct reason_args *args,
    char *buf, size_t len);
/* The text as in the table, placeholders unsubstituted (static storage), or
 * NULL for an unknown code. */
const char *reason_template(enum reason_code code);
/* 1 when the code's text is the service's own (spec section 4), 0 when it
 * is an agw-lab text (gateway-side codes, REASON_OK, REASON_UNKNOWN). */
int reason_is_service_text(enum reason_code code);

#endif
