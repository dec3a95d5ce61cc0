/*
 * upstream: connections from the gateway to pool members. One connection
 * is opened with upstream_connect (TCP, then for Https a TLS client through
 * bufferevent_openssl prepared by verify_ssl_prepare, and verify_chain run
 * after the handshake, before a byte is sent); it reports once, through its
 * callback, either ready (REASON_OK) or the one reason it failed. Finished
 * connections that may be reused go back to a per-worker keep-alive pool
 * keyed by (runtime, pool, member, setting, SNI), with an idle timeout.
 *
 * Probes (main thread) use the same entry point: upstream_connect with
 * their own SNI, verify name and policy, in the main thread's event base,
 * then send their request on uc->bev; the callback's reason goes straight
 * into the health table.
 */
#ifndef AGW_UPSTREAM_H
#define AGW_UPSTREAM_H

#include <sys/queue.h>

#include <openssl/ssl.h>

#include "config.h"
#include "net.h"
#include "reason.h"

struct bufferevent;
struct event_base;
struct upstream_pool;
struct upstream_conn;
struct verify_policy;

/* Reports the outcome of upstream_connect: REASON_OK (uc->bev is ready for
 * the request; set your own callbacks on it), or a failure reason (with
 * error_code for REASON_V2_OTHER); on failure the caller frees uc with
 * upstream_free (from the callback is fine). */
typedef void (*upstream_cb)(struct upstream_conn *uc, enum reason_code reason,
    int error_code, void *arg);

/* What to connect to and how to check it. */
struct upstream_target {
	const struct net_addr *addr;	/* with the setting's port */
	SSL_CTX *ctx;			/* NULL: plain Http */
	enum config_sku sku;
	const char *sni;		/* TLS server name, NULL: none */
	const char *verify_name;	/* name for verify_chain, or NULL */
	const struct verify_policy *policy; /* Https: required */
	int timeout_ms;			/* connect + handshake limit */
	/* the pool key (opaque runtime pointer and indexes) */
	const void *rt;
	int pool, member, settings;
};

struct upstream_conn {
	struct bufferevent *bev;
	int tls;
	int requests;		/* requests served before this one */
	/* the pool key */
	const void *rt;
	int pool_idx, member, settings;
	char *sni;
	/* private below */
	struct upstream_pool *pool;	/* set while idle */
	TAILQ_ENTRY(upstream_conn) entry;
	upstream_cb cb;
	void *arg;
	const struct verify_policy *policy;
	char *verify_name;
	enum config_sku sku;
};

/*
 * Start one connection. The callback runs exactly once, later, from base's
 * loop. Returns the connection, or NULL (nothing started) when the socket
 * or memory could not be had. The caller owns the result.
 */
struct upstream_conn *upstream_connect(struct event_base *base,
    const struct upstream_target *t, upstream_cb cb, void *arg);
/* Close and free a connection (NULL allowed). */
void upstream_free(struct upstream_conn *uc);

/* A per-worker keep-alive pool; idle connections close after
 * idle_timeout_s seconds or when the backend closes them. */
struct upstream_pool *upstream_pool_new(int idle_timeout_s);
/* Free the pool and every idle connection in it. */
void upstream_pool_free(struct upstream_pool *p);
/* An idle connection matching t's key, taken out of the pool (callbacks
 * and timeouts cleared, reading still enabled: set your callbacks before
 * the loop runs again), or NULL. */
struct upstream_conn *upstream_pool_get(struct upstream_pool *p,
    const struct upstream_target *t);
/* Give a finished connection (no bytes pending either way) to the pool. */
void upstream_pool_put(struct upstream_pool *p, struct upstream_conn *uc);
/* Close every idle connection whose runtime is not keep_rt (NULL: all). */
void upstream_pool_flush(struct upstream_pool *p, const void *keep_rt);
/* Number of idle connections. */
size_t upstream_pool_idle(const struct upstream_pool *p);

#endif
