/*
 * gateway: the process-wide state of agw-gateway shared by main.c, the
 * workers, the proxy, the upstream pool and the admin API: options, the
 * bound frontend ports, the health table and the current runtime snapshot.
 *
 * A runtime (struct runtime) is everything built from one configuration
 * snapshot that the data path needs: the config itself, the load-balancer
 * state, one verify policy per Https setting, TLS contexts and resolved
 * member addresses. It is immutable and reference counted: a reload builds
 * a new one and publishes it; requests in flight keep theirs. Functions on
 * it live in worker.c (worker_runtime_*).
 */
#ifndef AGW_GATEWAY_H
#define AGW_GATEWAY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include <openssl/ssl.h>

#include "config.h"
#include "net.h"

struct event_base;
struct health;
struct lb;
struct metrics;
struct metrics_names;
struct verify_policy;
struct worker;
struct admin;

/* One --resolve NAME:ADDR. */
struct gateway_resolve {
	char *name;
	struct net_addr addr;
};

/* Command-line options (main.c fills them). */
struct gateway_opts {
	const char *config_path;
	const char *listen_address;	/* default 127.0.0.1 */
	const char *admin;		/* ADDR:PORT, or NULL */
	const char *well_known;		/* PEM bundle, or NULL: system */
	const char *ready_file;
	const char *access_log;		/* "off", "-" or a file */
	struct gateway_resolve *resolve;
	size_t nresolve;
	int workers;
	int check;
	int ephemeral_ports;
	int debug_headers;
	int log_level;
	double probe_scale;
	int header_timeout;		/* seconds, slow-client limit */
	int upstream_idle_timeout;	/* seconds, pooled connections */
};

/* Frontend ports one gateway can listen on (the service allows 100). */
#define GATEWAY_MAX_PORTS 100

/*
 * A frontend port slot (identified by its configured port number). Slots
 * are never reused for another number while the process lives, so a
 * slot index means one port to every snapshot; a reload that drops the
 * port unbinds it and keeps the slot (bound = 0), and one that adds it
 * back binds it again in the same slot.
 */
struct gateway_port {
	char *name;		/* frontendPort name when last bound */
	int configured;		/* the port in the configuration */
	int https;		/* listeners on it are Https */
	int bound;		/* 0: the configuration dropped it */
	struct net_addr addr;	/* the real bound address */
};

/* A frontend port slot as one snapshot serves it. */
struct runtime_port {
	int fp;			/* frontendPorts index; -1: not served */
	int https;
	int configured;		/* the configured port number */
	SSL_CTX *ctx;		/* Https: the default certificate */
};

/* A resolved pool member. */
struct runtime_member {
	struct net_addr addr;	/* port 0; the setting's port is applied */
	int resolved;		/* 0: the FQDN did not resolve */
};

struct runtime {
	atomic_int refs;
	unsigned generation;
	struct config *cfg;
	struct lb *lb;
	struct metrics_names *names;	/* metric label values */
	struct verify_policy **policies; /* per setting; NULL for Http */
	SSL_CTX *client_ctx;		 /* upstream TLS */
	SSL_CTX **server_ctx;		 /* per sslCertificate */
	struct runtime_port *ports;	/* per gateway port slot */
	size_t nports;
	struct runtime_member **members; /* per pool, per member */
	struct gateway *gw;
};

/* Outcome of the last reload, for /status. */
struct gateway_reload {
	int done;		/* 0: no reload yet */
	int ok;
	time_t time;
	char **errors;
	size_t nerrors;
};

struct gateway {
	struct gateway_opts opts;
	struct event_base *base;	/* the main thread's loop */
	struct health *health;
	struct metrics *metrics;
	X509_STORE *well_known;
	struct gateway_port *ports;	/* GATEWAY_MAX_PORTS slots; main
					 * thread only */
	size_t nports;			/* slots in use */
	struct worker **workers;
	size_t nworkers;
	struct admin *admin;
	char admin_addr[64];		/* "" when none */
	pthread_mutex_t rt_lock;
	struct runtime *rt;		/* current; guarded by rt_lock */
	atomic_uint rt_gen;		/* bumps on every publish */
	unsigned generation;		/* of the last snapshot built */
	struct gateway_reload reload;
	time_t started;
	atomic_int stopping;
};

#endif
