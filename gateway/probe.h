/*
 * probe: backend health probes (spec section 6). One probe per (pool
 * member, HTTP setting) pair that a rule uses, run in the main thread's
 * event base through the same upstream path as live traffic
 * (upstream_connect: verify_ssl_prepare + verify_chain), each with its own
 * SNI and Host (sni.h). Every outcome is one reason code (reason.h) and
 * goes, with its healthProbeLog text, into the health table, which drives
 * the member chooser and /backendhealth.
 *
 * Timing: the default probe runs every 30 s with a 30 s timeout, 3
 * failures make a member unhealthy; custom probes use their interval,
 * timeout and unhealthyThreshold. A member counts as unhealthy until its
 * first success and one success heals it. Probing starts at once (at
 * start-up and after every reload). v2 waits the interval after every
 * probe; v1 retries a failed probe of a healthy member after
 * PROBE_V1_RETRY_S seconds until the threshold is reached (emulator
 * choice: the service retries "in quick succession"). Every interval,
 * timeout and retry delay is multiplied by --probe-scale (an emulator
 * extension so tests run fast).
 *
 * The pure parts (matching, counting, minServers, scaling) are separate
 * functions so the unit tests can reach them.
 */
#ifndef AGW_PROBE_H
#define AGW_PROBE_H

#include <stddef.h>

#include "config.h"
#include "health.h"

struct gateway;
struct runtime;
struct prober;

/* The default probe (spec 6). */
#define PROBE_DEFAULT_INTERVAL_S 30
#define PROBE_DEFAULT_TIMEOUT_S 30
#define PROBE_DEFAULT_THRESHOLD 3
#define PROBE_DEFAULT_PATH "/"
/* v1: delay before retrying a failed probe of a healthy member. */
#define PROBE_V1_RETRY_S 1
/* Response bytes read for a body match (emulator choice). */
#define PROBE_BODY_MAX 65536

/* The probe parameters of one setting: its custom probe or the default. */
struct probe_params {
	const struct config_probe *custom; /* NULL: the default probe */
	enum config_protocol protocol;
	int port;
	const char *path;
	int interval, timeout, threshold; /* seconds, seconds, count */
	int min_servers;
	const struct config_match *match; /* NULL: 200..399, no body */
};

/* The parameters for setting s of snapshot c. */
void probe_params(const struct config *c, const struct config_settings *s,
    struct probe_params *out);

/* 1 when status is accepted by m (NULL or no ranges: 200..399). */
int probe_status_match(const struct config_match *m, int status);
/* The accepted ranges as the service writes them after "Expected:",
 * e.g. "200-399" or "200,301-302", into buf. Returns buf. */
const char *probe_expected_str(const struct config_match *m, char *buf,
    size_t len);
/* 1 when body (len bytes, not NUL-terminated) contains m's body string
 * (no body string: always 1). */
int probe_body_match(const struct config_match *m, const char *body,
    size_t len);

/* seconds * scale in milliseconds, at least 1 ms. */
int probe_scaled_ms(int seconds, double scale);

/* The health counting of one pair. */
struct probe_count {
	int healthy_once;	/* a probe ever succeeded */
	int failures;		/* consecutive failures since the last success */
	enum health_state state; /* the probe's own verdict */
};

/* Account one outcome (ok 1 or 0) under threshold failures; returns and
 * records the new state: a success heals at once; before the first success
 * every failure is HEALTH_UNHEALTHY; afterwards threshold consecutive
 * failures are. */
enum health_state probe_count_result(struct probe_count *pc, int ok,
    int threshold);

/* The delay in ms before the next probe of a pair that just ended with
 * ok, under the SKU's retry rule (see above). */
int probe_next_delay_ms(enum config_sku sku, const struct probe_count *pc,
    int ok, const struct probe_params *pp, double scale);

/*
 * minServers: out[i] is raw[i], except that when fewer than min of raw
 * are HEALTH_HEALTHY the first non-healthy members (in pool order) are
 * marked HEALTH_HEALTHY until min are (or all are). Returns the number so
 * forced.
 */
size_t probe_min_servers(const enum health_state *raw, size_t n, int min,
    enum health_state *out);

/* A prober running in gw->base writing gw->health. NULL on allocation
 * failure. Probes nothing until probe_configure. */
struct prober *probe_new(struct gateway *gw);
/*
 * Probe every pair of runtime rt (a reference is taken) from now on,
 * dropping the pairs (and probes in flight) of the previous runtime; a
 * pair that stays keeps its counting. Every pair is probed at once.
 * Returns 0, or -1 on allocation failure (the old pairs then keep
 * running). Main thread only.
 */
int probe_configure(struct prober *pr, struct runtime *rt);
/*
 * Call cb(arg) once, from the loop, when every pair of the next
 * probe_configure has had its first outcome, or after max_ms, whichever
 * comes first (start-up uses it to write the ready file once members that
 * answer take traffic). Returns 0 or -1.
 */
int probe_on_settled(struct prober *pr, int max_ms, void (*cb)(void *),
    void *arg);
/* Number of pairs probed. */
size_t probe_npairs(const struct prober *pr);
/* Stop every probe and free the prober (NULL allowed). */
void probe_free(struct prober *pr);

#endif
