/*
 * farm: the farm spec of agw-sim (JSON, see sim/README.md): parsing and
 * validating it into plain, immutable data, resolving certificate variants
 * through an agw-certs manifest, and building TLS server contexts from it.
 *
 * Errors name the file, the backend and the JSON path, e.g.
 *   farm.json: backend "b2": backends[1].behaviour.status: must be an
 *   integer 100..999
 */
#ifndef AGW_SIM_FARM_H
#define AGW_SIM_FARM_H

#include <stddef.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "net.h"

enum farm_protocol { FARM_HTTP, FARM_HTTPS };

/* Where a certificate comes from; every path is resolved (absolute or
 * relative to the current directory). chain NULL: the cert alone. */
struct farm_tls {
	char *variant; /* as written, for display; NULL for explicit files */
	char *cert;    /* NULL when only a chain was given */
	char *key;
	char *chain;
	char *first_key; /* key of the chain's first certificate when it is
	                    not the leaf (wrong-order chains); may be NULL */
};

struct farm_header {
	char *name;
	char *value;
};

struct farm_behaviour {
	int status;
	struct farm_header *headers;
	size_t nheaders;
	int has_server;       /* headers set Server: no default one */
	int has_content_type; /* headers set Content-Type */
	char *body;           /* NULL: the default text naming the backend */
	long long body_bytes; /* -1: not set */
	int chunked;
	int delay_ms;
	int slow_bytes; /* 0: not slow */
	int slow_interval_ms;
	int reset;
	int close_after_headers;
	int truncate_body;
	int stall_handshake;
	int never_read;
	int echo;
	int down;
	char *health_path; /* NULL: no health path */
	int health_status;
	char *health_body;
};

struct farm_sni {
	char *name;
	struct farm_tls tls;
};

struct farm_backend {
	char *name;
	struct net_addr addr;
	enum farm_protocol protocol;
	struct farm_tls tls; /* https only */
	struct farm_sni *sni;
	size_t nsni;
	int min_tls; /* TLS1_2_VERSION..., 0 for no limit */
	int max_tls;
	struct farm_behaviour behaviour;
};

struct farm {
	char *path;     /* the farm file */
	char *manifest; /* resolved manifest path, or NULL */
	struct farm_backend *backends;
	size_t nbackends;
};

/* Load and validate a farm file. Returns a farm the caller frees with
 * farm_free, or NULL with err naming the file, backend and JSON path. */
struct farm *farm_load(const char *path, char *err, size_t errlen);
/* Validate an already parsed farm document; file names it in errors and
 * relative paths resolve against its folder. Caller frees the result. */
struct farm *farm_parse(
    json_t *root, const char *file, char *err, size_t errlen);
/* Free a farm (NULL is fine). */
void farm_free(struct farm *f);
/* Drop the cached manifest (variants re-read an unchanged manifest from a
 * cache; a changed file is read again). Call at exit. */
void farm_cache_clear(void);

/*
 * Parse a behaviour object into b (defaults for absent keys). where prefixes
 * error messages (e.g. "backends[1].behaviour"). Returns 0, or -1 with err
 * set and b cleared.
 */
int farm_behaviour_parse(json_t *v, struct farm_behaviour *b, const char *where,
    char *err, size_t errlen);
/* Free what a behaviour holds and reset it to the defaults. */
void farm_behaviour_clear(struct farm_behaviour *b);
/* The defaults: 200, the default body, nothing else. */
void farm_behaviour_init(struct farm_behaviour *b);
/* The behaviour as a JSON object (for the control API); caller owns it. */
json_t *farm_behaviour_json(const struct farm_behaviour *b);

/*
 * Parse a TLS source object ({"variant": V} or {"cert","key","chain"})
 * into t. Variants resolve through manifest (a path, may be NULL: then a
 * variant is an error); file paths resolve against basedir. Returns 0, or
 * -1 with err set (prefixed with where).
 */
int farm_tls_parse(json_t *v, const char *manifest, const char *basedir,
    struct farm_tls *t, const char *where, char *err, size_t errlen);
/* Free what a TLS source holds. */
void farm_tls_clear(struct farm_tls *t);
/* The TLS source as JSON ({"variant"?, "cert", "key", "chain"}). */
json_t *farm_tls_json(const struct farm_tls *t);

/*
 * A server context presenting the source's chain exactly as written (leaf
 * first, or, for a wrong-order chain with first_key, the chain's first
 * certificate first), limited to [min_tls, max_tls]. A key that does not
 * match is an error naming both files. Caller frees with SSL_CTX_free.
 */
SSL_CTX *farm_tls_ctx_new(const struct farm_tls *t, int min_tls, int max_tls,
    char *err, size_t errlen);

#endif
