/*
 * worker: one event loop per worker thread, each with its own SO_REUSEPORT
 * listening sockets on every frontend port, its own client connections and
 * its own upstream keep-alive pool. Also the runtime snapshot functions
 * (worker_runtime_*): building one from a configuration, publishing it to
 * the workers, and reference counting.
 */
#ifndef AGW_WORKER_H
#define AGW_WORKER_H

#include <pthread.h>
#include <sys/queue.h>

#include "gateway.h"

struct event;
struct evconnlistener;
struct proxy_conn;
struct upstream_pool;
struct worker_lctx;

struct worker {
	struct gateway *gw;
	int id;				/* also its metrics shard */
	struct event_base *base;
	pthread_t thread;
	int started;
	struct evconnlistener **listeners; /* per gateway port */
	int *fds;			/* per gateway port, until started */
	struct worker_lctx *lctx;	/* per gateway port */
	struct upstream_pool *pool;
	struct runtime *rt;		/* this worker's reference */
	unsigned rt_gen;
	struct event *stop_ev;		/* readable end of stop_fds */
	int stop_fds[2];
	struct event *deadline_ev;
	TAILQ_HEAD(proxy_conns, proxy_conn) conns;
	size_t nconns;
	int stopping;
};

/*
 * Build the runtime of snapshot c (a reference is taken): verify policies,
 * TLS contexts, resolved members, lb state (carrying drains over from old,
 * which may be NULL), metric names. Every frontend port of c must be one
 * of gw->ports (matched by port number) unless gw->nports is 0. Returns
 * the runtime with one reference, or NULL with err set.
 */
struct runtime *worker_runtime_new(struct gateway *gw, struct config *c,
    const struct runtime *old, char *err, size_t errlen);
/* Take and drop a reference; the last one frees the runtime. */
struct runtime *worker_runtime_ref(struct runtime *rt);
void worker_runtime_unref(struct runtime *rt);
/* Make rt the runtime new requests use (takes over the caller's
 * reference); workers pick it up at their next request. */
void worker_runtime_publish(struct gateway *gw, struct runtime *rt);
/* The current runtime with a new reference (any thread). */
struct runtime *worker_runtime_current(struct gateway *gw);
/* The runtime this worker's next request runs on (borrowed: the worker
 * holds it until the next publish). */
struct runtime *worker_runtime(struct worker *w);

/* Resolve a pool member address (IP literal, --resolve, then the system
 * resolver, IPv4 first) into *out with port 0. Returns 0 or -1. */
int worker_resolve(struct gateway *gw, const char *address,
    struct net_addr *out);

/*
 * Bind every frontend port for n workers (SO_REUSEPORT when n > 1; port
 * 0 first, then the real port for the others with --ephemeral-ports) and
 * create the workers. Returns 0, or -1 with err naming the address.
 */
int worker_bind_all(struct gateway *gw, int n, char *err, size_t errlen);
/* Start the worker threads. Returns 0 or -1. */
int worker_start_all(struct gateway *gw);
/* Ask every worker to stop accepting and exit once its connections are
 * done (from the main thread), then join them. */
void worker_stop_all(struct gateway *gw);
/* Free the workers (after worker_stop_all, or when never started). */
void worker_free_all(struct gateway *gw);
/* Called by proxy.c when a connection is gone: lets a stopping worker
 * finish. */
void worker_conn_gone(struct worker *w);

#endif
