/*
 * metrics: the gateway's counters and its latency histogram, rendered for
 * GET /metrics in the Prometheus text format.
 *
 * One struct metrics per process, outliving snapshots (counters do not
 * reset on reload). It has one shard per worker: a worker only writes its
 * own shard (uncontended lock, no allocation once a label set has been
 * seen), the admin API sums the shards when it renders.
 *
 * Label values are interned once per snapshot (metrics_names_new), so the
 * hot path passes indexes, never strings:
 *   agw_requests_total{listener,rule,pool,member,status}   counter
 *   agw_upstream_failures_total{pool,member,reason}        counter
 *       (connect and TLS failures by reason_name; kind="connect"|"tls"|
 *        "response"|"timeout" tells which stage failed)
 *   agw_request_duration_seconds{le}                       histogram
 * An index of -1 renders as the empty label value.
 */
#ifndef AGW_METRICS_H
#define AGW_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <event2/buffer.h>

#include "config.h"
#include "reason.h"

struct metrics;
struct metrics_names;

/* Which stage of the upstream exchange failed. */
enum metrics_failure_kind {
	METRICS_FAIL_CONNECT,	/* "connect": DNS, refused, unreachable */
	METRICS_FAIL_TLS,	/* "tls": handshake or certificate verification */
	METRICS_FAIL_RESPONSE,	/* "response": reset or invalid response */
	METRICS_FAIL_TIMEOUT	/* "timeout": requestTimeout */
};

/* A process-wide metrics set with nshards shards (one per worker; at least
 * 1). NULL on allocation failure. */
struct metrics *metrics_new(int nshards);
/* Free it. No worker may still record. NULL is allowed. */
void metrics_free(struct metrics *m);

/* Intern the label values of snapshot c (listener, rule, pool and member
 * names). Call once per snapshot, from any thread. NULL on allocation
 * failure. The result does not keep c alive. */
struct metrics_names *metrics_names_new(struct metrics *m,
    const struct config *c);
/* Free it. NULL is allowed. */
void metrics_names_free(struct metrics_names *n);

/*
 * Count one finished request on worker shard `shard`: indexes into the
 * snapshot n was made from (-1: none, e.g. no route, or a draining member),
 * the status sent to the client and the request's duration in seconds.
 */
void metrics_request(struct metrics *m, int shard,
    const struct metrics_names *n, int listener, int rule, int pool,
    int member, int status, double seconds);

/* Count one upstream failure (pool and member indexes as above). */
void metrics_upstream_failure(struct metrics *m, int shard,
    const struct metrics_names *n, int pool, int member,
    enum metrics_failure_kind kind, enum reason_code reason);

/* Append every metric, summed over the shards, in the Prometheus text
 * exposition format (# HELP, # TYPE, samples). Returns 0, or -1 when out
 * could not grow. */
int metrics_render(struct metrics *m, struct evbuffer *out);

#endif
