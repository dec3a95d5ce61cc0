/*
 * health: the process-wide backend health table, shared by the probes
 * (writers), the member chooser (readers on the hot path) and the admin API
 * (/backendhealth). It outlives configuration snapshots: entries are keyed
 * by names, (pool name, member address as written, setting name), so a
 * member keeps its state across reloads.
 *
 * Thread safety: the table's index and each entry's text are guarded by one
 * mutex; an entry's state and reason are atomics, so the hot path
 * (health_entry_eligible on a pointer resolved once per snapshot) takes no
 * lock. Entries are never freed before the table, so pointers stay valid.
 */
#ifndef AGW_HEALTH_H
#define AGW_HEALTH_H

#include <stddef.h>
#include <jansson.h>

#include "config.h"
#include "reason.h"

enum health_state {
	HEALTH_UNKNOWN = 0,	/* "Unknown": not probed yet */
	HEALTH_HEALTHY,		/* "Healthy" */
	HEALTH_UNHEALTHY	/* "Unhealthy" */
};

struct health;
struct health_entry;

/* One entry as copied out by health_get / health_foreach. */
struct health_info {
	const char *pool, *member, *settings; /* valid during the call only */
	enum health_state state;
	enum reason_code reason;
	char text[512];	/* the healthProbeLog text ("" when none set) */
};

/* A new, empty table. NULL on allocation failure. */
struct health *health_new(void);
/* Free the table and every entry. No other thread may use it any more. */
void health_free(struct health *h);

/*
 * The entry for (pool, member, settings), created as HEALTH_UNKNOWN /
 * REASON_UNKNOWN when absent. The pointer stays valid until health_free.
 * NULL on allocation failure.
 */
struct health_entry *health_entry(struct health *h, const char *pool,
    const char *member, const char *settings);

/* Copy an entry's state into *out. Returns 0, or -1 when there is no such
 * entry (out then says HEALTH_UNKNOWN, REASON_UNKNOWN). */
int health_get(struct health *h, const char *pool, const char *member,
    const char *settings, struct health_info *out);

/*
 * Set an entry's state, reason and healthProbeLog text (NULL: ""),
 * creating the entry when absent. A change of state logs one line:
 *   backend health POOL/MEMBER/SETTINGS: OLD -> NEW (reason NAME)
 * Returns 0, or -1 on allocation failure.
 */
int health_set(struct health *h, const char *pool, const char *member,
    const char *settings, enum health_state state, enum reason_code reason,
    const char *text);
/* The same on an entry already looked up. */
void health_entry_set(struct health *h, struct health_entry *e,
    enum health_state state, enum reason_code reason, const char *text);

/* The entry's current state (lock-free). */
enum health_state health_entry_state(const struct health_entry *e);

/*
 * THE rule for which members take traffic (the one place it lives): a
 * member in this state may be chosen. Only HEALTH_HEALTHY is: a member
 * counts as unhealthy until its first successful probe (spec 5).
 */
int health_is_eligible(enum health_state state);
/* health_is_eligible of the entry's state; a NULL entry is not eligible. */
int health_entry_eligible(const struct health_entry *e);

/* Call fn once per entry, in creation order, under the table's lock (fn
 * must not call back into the table). */
void health_foreach(struct health *h,
    void (*fn)(const struct health_info *info, void *arg), void *arg);

/* "Healthy", "Unhealthy", "Unknown". */
const char *health_state_name(enum health_state state);

/* Mark in used[pool * c->nsettings + settings] (zeroed by the caller,
 * npools * nsettings bytes) every (pool, setting) pair a rule or path rule
 * uses: the pairs that are probed and shown by /backendhealth. */
void health_pairs_used(const struct config *c, unsigned char *used);

/*
 * The az network application-gateway show-backend-health JSON (spec 8) for
 * snapshot c:
 *   {"backendAddressPools": [{"backendAddressPool": {"id": ...},
 *     "backendHttpSettingsCollection": [{"backendHttpSettings": {"id": ...},
 *       "servers": [{"address": ..., "health": "Healthy",
 *                    "healthProbeLog": ...}]}]}]}
 * Pools in config order; under each pool the settings that a rule or path
 * rule uses with it, in config order. Ids are c->id + "/backendAddressPools/
 * NAME" (and "/backendHttpSettingsCollection/NAME"); with no c->id, the
 * resource id is made up under subscription 00000000-..., resource group
 * agw-lab. A member never probed shows "Unknown" with the text of
 * REASON_UNKNOWN. Returns a new reference, or NULL on allocation failure.
 */
json_t *health_backend_json(const struct config *c, struct health *h);

#endif
