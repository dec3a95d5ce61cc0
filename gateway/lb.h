/*
 * lb: member choice for one configuration snapshot: round robin over the
 * members the health table calls eligible, cookie-based affinity, retry on
 * another member, and connection draining across reloads.
 *
 * A struct lb is built once per snapshot (lb_new) and shared by every
 * worker: round-robin cursors are atomics, everything else is immutable
 * after lb_new. It resolves health entries once, so lb_select takes no lock
 * and allocates nothing.
 *
 * Affinity (spec 6): the cookie value of a member is 32 lowercase hex
 * characters, HMAC-SHA256(secret, pool NUL member NUL settings) truncated to
 * 16 bytes, with a random secret per process: stable across reloads of one
 * process, opaque to clients. A request carrying the cookie NAME (or its
 * twin NAMECORS) whose value is a member of the pool that is eligible, or
 * that is draining, goes to that member; otherwise round robin and the
 * response sets both cookies again.
 *
 * Draining (connectionDraining): when a reload removes a member from a pool
 * (same pool name), lb_new(new, old) keeps it in a drain list with the time
 * it left. It gets no new requests, but requests whose affinity cookie names
 * it still go to it while the HTTP setting in use has draining enabled and
 * its drainTimeoutInSec has not passed since removal. Entries carry over
 * from snapshot to snapshot until their longest timeout passes or the
 * member comes back. (Requests in flight keep their old snapshot, so they
 * need nothing from here.)
 */
#ifndef AGW_LB_H
#define AGW_LB_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "health.h"

/* Length of an affinity cookie value, without the NUL. */
#define LB_COOKIE_LEN 32

/* exclude values of lb_pick / lb_select besides a member index. */
#define LB_EXCLUDE_NONE (-1)
#define LB_EXCLUDE_DRAINING (-2) /* retry after a draining member */

struct lb;

/* The member chosen for one request. */
struct lb_target {
	int member;		/* index into the pool's members; -1: draining */
	const char *address;	/* as written (ipAddress or fqdn); owned by
				 * the snapshot or the lb, valid while it lives */
	enum config_member_kind kind;
	int draining;		/* 1: left the pool on a reload */
	int affinity;		/* 1: chosen by the request's affinity cookie */
	int set_cookie;		/* 1: the response must carry the cookies
				 * (lb_affinity_set_cookie) */
	const char *cookie;	/* the member's cookie value (LB_COOKIE_LEN
				 * hex), or NULL when the setting has no
				 * affinity */
};

/*
 * The state for snapshot c, reading health from h. Both must outlive the
 * lb (keep the lb next to the snapshot in the runtime structure that holds
 * the snapshot's reference). old is the previous snapshot's lb (or NULL;
 * its snapshot must still be alive during the call): its drain list is
 * carried over and members it had that c no longer has are added to it
 * (names are copied: old may be freed right after). now_ms is lb_now_ms().
 * NULL on allocation failure.
 */
struct lb *lb_new(struct config *c, struct health *h, const struct lb *old,
    uint64_t now_ms);
/* Free the state. NULL is allowed. */
void lb_free(struct lb *lb);

/* Monotonic clock in milliseconds (CLOCK_MONOTONIC). */
uint64_t lb_now_ms(void);

/*
 * Round robin: the next eligible member of (pool, settings) other than
 * exclude (a member index, or LB_EXCLUDE_NONE), as an index into the pool's
 * members, or -1 when none is eligible (the gateway answers 502).
 * Lock-free; safe from any worker.
 */
int lb_pick(struct lb *lb, int pool, int settings, int exclude);

/*
 * The member for one request: the affinity member named by cookie_header
 * (the request's Cookie header value, or NULL) when the setting has
 * cookieBasedAffinity and that member is eligible or draining, else
 * lb_pick(pool, settings, exclude). A retry passes the first member's index
 * as exclude (LB_EXCLUDE_DRAINING when it was a draining one): any exclude
 * other than LB_EXCLUDE_NONE skips affinity. Returns 0 with *out filled, or
 * -1 when no member is eligible (or (pool, settings) is not a pair that any
 * rule of the snapshot uses).
 */
int lb_select(struct lb *lb, int pool, int settings, const char *cookie_header,
    int exclude, uint64_t now_ms, struct lb_target *out);

/*
 * The two Set-Cookie header values for target t under setting settings:
 *   NAME=VALUE; Path=/
 *   NAMECORS=VALUE; Path=/; SameSite=None; Secure
 * NAME is the setting's affinityCookieName (default
 * ApplicationGatewayAffinity). Returns 0, or -1 when the setting has no
 * affinity or a buffer is too small.
 */
int lb_affinity_set_cookie(const struct lb *lb, int settings,
    const struct lb_target *t, char *cookie, size_t cookie_len, char *cors,
    size_t cors_len);

/* The affinity value of member (pool, member index, settings) into buf
 * (LB_COOKIE_LEN + 1 bytes). Returns 0, or -1 on bad indexes. */
int lb_cookie_value(const struct lb *lb, int pool, int member, int settings,
    char buf[LB_COOKIE_LEN + 1]);

/* Number of members in the drain list (for /status and tests). */
size_t lb_draining_count(const struct lb *lb);

#endif
