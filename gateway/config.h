/*
 * config: the ARM configuration model of one
 * Microsoft.Network/applicationGateways resource: loading (ARM template
 * shape, sub-objects under "properties", and az show shape, properties
 * hoisted), resolving references, validating, and the immutable snapshot the
 * gateway runs on.
 *
 * A snapshot is plain, validated, immutable data. It is reference counted
 * (atomically, workers share it): a reload builds a new one, and work in
 * flight keeps the old one alive until it finishes.
 *
 * Cross references are resolved to indexes into the snapshot's arrays
 * (-1 when absent). Certificates are decoded at load time.
 */
#ifndef AGW_CONFIG_H
#define AGW_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <openssl/x509.h>

enum config_sku {
	CONFIG_SKU_V1, /* tier Standard, WAF */
	CONFIG_SKU_V2  /* tier Standard_v2, WAF_v2 */
};

enum config_protocol { CONFIG_PROTO_HTTP, CONFIG_PROTO_HTTPS };

/* One error: the service's code when it has one (else ""), the JSON path in
 * the shape the file was written in, and the message. */
struct config_error {
	char code[96];
	char path[256];
	char message[512];
};

/* Every error found in one load (validation does not stop at the first). */
struct config_errors {
	struct config_error *v;
	size_t n, cap;
};

struct config_ssl_cert {
	char *name;
	EVP_PKEY *key;
	X509 *cert;
	STACK_OF(X509) *chain;
};

/* authenticationCertificates[] and trustedRootCertificates[] */
struct config_cert {
	char *name;
	X509 *cert;
};

struct config_frontend_port {
	char *name;
	int port;
};

enum config_member_kind { CONFIG_MEMBER_IP, CONFIG_MEMBER_FQDN };

struct config_member {
	enum config_member_kind kind;
	char *address; /* the ipAddress or the fqdn, as written */
};

struct config_pool {
	char *name;
	struct config_member *members;
	size_t nmembers;
};

struct config_match {
	/* statusCodes ranges, e.g. "200-399" -> {200, 399}; none: 200..399 */
	struct { int lo, hi; } *status;
	size_t nstatus;
	char *body; /* substring the body must contain, or NULL */
};

struct config_probe {
	char *name;
	enum config_protocol protocol;
	char *host; /* or NULL */
	char *path; /* default "/" */
	int interval;	       /* seconds */
	int timeout;	       /* seconds */
	int unhealthy_threshold;
	int pick_host_from_settings; /* pickHostNameFromBackendHttpSettings */
	int min_servers;
	int port; /* 0: the setting's port (v2 only may set it) */
	struct config_match match;
};

struct config_settings {
	char *name;
	int port;
	enum config_protocol protocol;
	int cookie_affinity;	/* cookieBasedAffinity == Enabled */
	char *affinity_cookie;	/* default "ApplicationGatewayAffinity" */
	int request_timeout;	/* seconds, default 20 */
	char *host_name;	/* or NULL */
	int pick_host_from_backend; /* pickHostNameFromBackendAddress */
	int probe;		/* index into probes, or -1 */
	int probe_enabled;
	char *path;		/* path prefix override, or NULL */
	int *auth_certs;	/* indexes into auth_certs */
	size_t nauth_certs;
	int *trusted_roots;	/* indexes into trusted_roots */
	size_t ntrusted_roots;
	int draining;		/* connectionDraining.enabled */
	int drain_timeout;	/* seconds */
	int validate_chain;	/* validateCertChainAndExpiry, default 1 */
	int validate_sni;	/* validateSNI, default 1 */
	char *sni_name;		/* sniName, or NULL */
};

struct config_listener {
	char *name;
	int frontend_port;	/* index */
	enum config_protocol protocol;
	char **host_names;	/* hostName and hostNames[]; may hold '*' */
	size_t nhost_names;
	int ssl_cert;		/* index, or -1 */
	int require_sni;
};

struct config_path_rule {
	char *name;
	char **paths;		/* "/exact", or a prefix "/images/" + '*' */
	size_t npaths;
	int pool;		/* index, or -1 (redirects are not modelled) */
	int settings;		/* index */
};

struct config_path_map {
	char *name;
	int default_pool;
	int default_settings;
	struct config_path_rule *rules;
	size_t nrules;
};

enum config_rule_type { CONFIG_RULE_BASIC, CONFIG_RULE_PATH };

struct config_rule {
	char *name;
	enum config_rule_type type;
	int priority;		/* v2: 1..20000; v1: 0 */
	int listener;		/* index */
	int pool;		/* Basic: index */
	int settings;		/* Basic: index */
	int path_map;		/* PathBasedRouting: index */
};

struct config {
	int refs; /* atomic; see config_ref/config_unref */
	char *name;		/* the resource's name */
	char *id;		/* its ARM id, or a made-up one */
	char *source;		/* the file it was read from, for messages */
	json_t *json;		/* the resource as loaded (for GET /config) */
	int hoisted;		/* 1 when loaded from the az show shape */
	enum config_sku sku;
	char *sku_name, *sku_tier;
	int capacity;

	struct config_ssl_cert *ssl_certs;
	size_t nssl_certs;
	struct config_cert *auth_certs;
	size_t nauth_certs;
	struct config_cert *trusted_roots;
	size_t ntrusted_roots;
	struct config_frontend_port *frontend_ports;
	size_t nfrontend_ports;
	struct config_pool *pools;
	size_t npools;
	struct config_settings *settings;
	size_t nsettings;
	struct config_probe *probes;
	size_t nprobes;
	struct config_listener *listeners;
	size_t nlisteners;
	struct config_rule *rules;	/* v2: sorted by priority */
	size_t nrules;
	struct config_path_map *path_maps;
	size_t npath_maps;

	/* Warnings that do not refuse the configuration (e.g. v2 trusted
	 * roots without hostName or pickHostNameFromBackendAddress). */
	struct config_errors warnings;
};

/*
 * Load and validate a resource from a JSON file. Returns a snapshot with one
 * reference, or NULL with every error appended to errs (the first being the
 * file's own when it is not JSON). base_dir resolves relative "file:" paths
 * of local PEM certificates (NULL: the file's folder).
 */
struct config *config_load_file(const char *path, struct config_errors *errs);
/* The same from a parsed document; source names it in messages. The
 * document is not stolen. */
struct config *config_load_json(json_t *doc, const char *source,
    struct config_errors *errs);

/* Take and drop a reference; the last unref frees the snapshot. */
struct config *config_ref(struct config *c);
void config_unref(struct config *c);

/* Append an error; code may be NULL. printf-style message. */
void config_errors_add(struct config_errors *errs, const char *code,
    const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Free the errors' storage and empty the list. */
void config_errors_clear(struct config_errors *errs);
/* One error as one line: "PATH: CODE: message" (CODE left out if empty). */
const char *config_error_str(const struct config_error *e, char *buf,
    size_t len);

/* "v1" or "v2". */
const char *config_sku_name(enum config_sku sku);

#endif
