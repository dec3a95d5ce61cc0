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
	struct evconnlistener **listeners; /* per gateway port slot */
	struct worker_lctx *lctx;	/* per gateway port slot */
	/* Listener changes the main thread hands over (under ports_lock),
	 * applied by the worker's own thread: */
	pthread_mutex_t ports_lock;
	pthread_cond_t ports_cond;	/* signalled when a sync is done */
	int *ports_add;			/* per slot: a socket to take, or -1 */
	unsigned char *ports_drop;	/* per slot: stop listening */
	unsigned ports_want, ports_done; /* syncs asked for and done */
	struct upstream_pool *pool;
	struct runtime *rt;		/* this worker's reference */
	unsigned rt_gen;
	struct event *ctl_ev;		/* readable end of ctl_fds */
	int ctl_fds[2];			/* 'p': ports changed, 'x': stop */
	struct event *deadline_ev;
	TAILQ_HEAD(proxy_conns, proxy_conn) conns;
	size_t nconns;
	int stopping;
};

/*
 * The frontend port slots a configuration needs (every port a listener
 * uses), worked out by worker_ports_prepare before a runtime is built:
 * the slot table it leads to and the sockets bound for the new ports.
 * Then either worker_ports_commit (the workers listen on the new sockets
 * and stop listening on dropped ports) or worker_ports_abort.
 */
struct worker_ports {
	struct gateway_port ports[GATEWAY_MAX_PORTS];
	size_t nports;
	int *fds;		/* [slot * nworkers + worker]; -1: none */
	int changed;		/* a port was bound, dropped or switched */
};

/*
 * Build the runtime of snapshot c (a reference is taken): verify policies,
 * TLS contexts, resolved members, lb state (carrying drains over from old,
 * which may be NULL), metric names, and how each slot of wp (prepared for
 * c; NULL: no ports) is served. Returns the runtime with one reference,
 * or NULL with err set.
 */
struct runtime *worker_runtime_new(struct gateway *gw, struct config *c,
    const struct runtime *old, const struct worker_ports *wp, char *err,
    size_t errlen);
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

/* Create n workers (not started). Returns 0, or -1 with err set. */
int worker_create_all(struct gateway *gw, int n, char *err, size_t errlen);
/*
 * Work out the port slots of c from the current ones into *wp, binding
 * each port c adds for every worker (SO_REUSEPORT when there are more
 * than one; port 0 for the first and its real port for the others with
 * --ephemeral-ports). Nothing changes until worker_ports_commit. Returns
 * 0, or -1 with err naming the frontend port and the address (nothing
 * left bound).
 */
int worker_ports_prepare(struct gateway *gw, const struct config *c,
    struct worker_ports *wp, char *err, size_t errlen);
/* Make wp the gateway's port slots and hand the workers their listener
 * changes (at once before they start, through their control socket
 * after), waiting until every worker has applied them: a dropped port is
 * free when this returns. Publish the runtime built on wp first. */
void worker_ports_commit(struct gateway *gw, struct worker_ports *wp);
/* Close what worker_ports_prepare bound. */
void worker_ports_abort(struct gateway *gw, struct worker_ports *wp);
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
