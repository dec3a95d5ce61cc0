/*
 * backend: the run-time side of agw-sim: one listener per backend on one
 * event loop, TLS through bufferevent_openssl (certificate chosen by SNI,
 * rotated at run time), HTTP/1.1 through gateway/http.h, and the behaviours
 * of sim/README.md. Counts what each backend saw for the control API.
 */
#ifndef AGW_SIM_BACKEND_H
#define AGW_SIM_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "farm.h"
#include "net.h"

struct event_base;
struct evconnlistener;
struct evbuffer;
struct conn;

struct backend_sni {
	char *name;
	SSL_CTX *ctx;
};

/* The last request a backend saw, copied cheaply on the data path and
 * turned into the echo document only when asked. */
struct backend_last {
	int valid;
	char *buf; /* method\0target\0 then name\0value\0 per header */
	size_t len, cap;
	size_t nheaders;
	int minor;
	int https;
	char sni[256]; /* "" when none was sent */
	int has_sni;
	const char *tls_version; /* OpenSSL's static strings */
	const char *cipher;
	int resumed;
	char client[64];
	char client_addr[48];
	int client_port;
	uint64_t count;
	uint64_t body_len;
	size_t body_kept;
	char body[4096]; /* the first bytes of the request body */
};

struct backend {
	const struct farm_backend *conf; /* name, listen, protocol */
	struct event_base *base;
	struct net_addr bound; /* with the real port once listening */
	char addr_str[64];     /* "127.0.1.1" */
	int port;
	struct evconnlistener *lev; /* NULL while down */
	int up;
	struct farm_behaviour beh; /* the behaviour now (owned) */
	SSL_CTX *ctx;              /* default certificate (one reference) */
	struct backend_sni *sni;
	size_t nsni;
	/* counters */
	uint64_t requests;
	uint64_t handshakes;
	uint64_t resumed;
	uint64_t handshake_errors; /* TLS handshakes that failed */
	json_t *sni_seen;
	json_t *hosts_seen;
	json_t *tls_versions;
	struct backend_last last; /* valid once a request came */
	struct evbuffer *scratch; /* fast-path responses over plain TCP */
	struct evbuffer *sink;    /* request bodies pass through here */
	LIST_HEAD(, conn) conns;
};

/* A cache of server contexts by source, so backends sharing a certificate
 * share one context at start-up. */
struct backend_ctx_cache {
	struct backend_ctx_entry *v;
	size_t n, cap;
};

/*
 * Prepare b from conf on base: behaviour, TLS contexts (from cache when
 * given), counters. Does not listen. Returns 0, or -1 with err naming the
 * backend and the files. backend_clear frees it either way.
 */
int backend_init(struct backend *b, const struct farm_backend *conf,
    struct event_base *base, struct backend_ctx_cache *cache, char *err,
    size_t errlen);
/* Close the listener and every connection; free what b holds. */
void backend_clear(struct backend *b);
/* Free the contexts held by a cache (backends keep their references). */
void backend_ctx_cache_clear(struct backend_ctx_cache *cache);

/* Bind and listen (on the bound port once known, so down/up keeps the
 * port); logs "backend NAME listening on ADDR:PORT". Returns 0, or -1 with
 * err naming the address. */
int backend_listen(struct backend *b, char *err, size_t errlen);
/* Take the backend down (listener closed, connections dropped) or up.
 * Logs "backend NAME down" / "backend NAME up". Returns 0 or -1. */
int backend_set_up(struct backend *b, int up, char *err, size_t errlen);
/* Replace the behaviour (takes what *beh holds; *beh is reset). Applies its
 * "down" flag. Returns 0 or -1. */
int backend_set_behaviour(
    struct backend *b, struct farm_behaviour *beh, char *err, size_t errlen);
/* Present a new certificate for new handshakes (sni NULL: the default one,
 * else that SNI name's, added when new); live connections keep theirs.
 * Logs "backend NAME certificate rotated". Returns 0, or -1 with err. */
int backend_rotate(struct backend *b, const char *sni, const struct farm_tls *t,
    char *err, size_t errlen);
/* Zero the counters. */
void backend_reset_counters(struct backend *b);
/* The control API's view of b; caller owns it. */
json_t *backend_json(const struct backend *b);

#endif
