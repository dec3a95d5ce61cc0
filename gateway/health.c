/*
 * health: the process-wide backend health table (see health.h).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "log.h"

#define HEALTH_BUCKETS 1024

struct health_entry {
	char *pool, *member, *settings;
	_Atomic int state;	/* enum health_state */
	_Atomic int reason;	/* enum reason_code */
	char *text;		/* guarded by the table's lock; NULL: "" */
	struct health_entry *hnext;	/* hash chain */
	struct health_entry *next;	/* creation order */
};

struct health {
	pthread_mutex_t lock;
	struct health_entry *buckets[HEALTH_BUCKETS];
	struct health_entry *first, *last;
};

static uint32_t
health_hash(const char *pool, const char *member, const char *settings)
{
	const char *parts[3] = { pool, member, settings };
	uint32_t h = 2166136261u;

	for (int i = 0; i < 3; i++) {
		for (const unsigned char *p = (const unsigned char *)parts[i];
		     *p != '\0'; p++)
			h = (h ^ *p) * 16777619u;
		h = (h ^ 0xff) * 16777619u; /* separator */
	}
	return h;
}

/* Caller holds the lock. */
static struct health_entry *
health_find(struct health *h, const char *pool, const char *member,
    const char *settings, uint32_t hv)
{
	struct health_entry *e;

	for (e = h->buckets[hv % HEALTH_BUCKETS]; e != NULL; e = e->hnext)
		if (strcmp(e->pool, pool) == 0 &&
		    strcmp(e->member, member) == 0 &&
		    strcmp(e->settings, settings) == 0)
			return e;
	return NULL;
}

/* Caller holds the lock. */
static struct health_entry *
health_find_or_add(struct health *h, const char *pool, const char *member,
    const char *settings)
{
	uint32_t hv = health_hash(pool, member, settings);
	struct health_entry *e;

	if ((e = health_find(h, pool, member, settings, hv)) != NULL)
		return e;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		goto fail;
	if ((e->pool = strdup(pool)) == NULL ||
	    (e->member = strdup(member)) == NULL ||
	    (e->settings = strdup(settings)) == NULL)
		goto fail;
	atomic_init(&e->state, HEALTH_UNKNOWN);
	atomic_init(&e->reason, REASON_UNKNOWN);
	e->hnext = h->buckets[hv % HEALTH_BUCKETS];
	h->buckets[hv % HEALTH_BUCKETS] = e;
	if (h->last != NULL)
		h->last->next = e;
	else
		h->first = e;
	h->last = e;
	return e;
fail:
	if (e != NULL) {
		free(e->pool);
		free(e->member);
		free(e->settings);
		free(e);
	}
	log_err("health: out of memory adding %s/%s/%s", pool, member,
	    settings);
	return NULL;
}

struct health *
health_new(void)
{
	struct health *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if (pthread_mutex_init(&h->lock, NULL) != 0) {
		free(h);
		return NULL;
	}
	return h;
}

void
health_free(struct health *h)
{
	struct health_entry *e, *next;

	if (h == NULL)
		return;
	for (e = h->first; e != NULL; e = next) {
		next = e->next;
		free(e->pool);
		free(e->member);
		free(e->settings);
		free(e->text);
		free(e);
	}
	pthread_mutex_destroy(&h->lock);
	free(h);
}

struct health_entry *
health_entry(struct health *h, const char *pool, const char *member,
    const char *settings)
{
	struct health_entry *e;

	pthread_mutex_lock(&h->lock);
	e = health_find_or_add(h, pool, member, settings);
	pthread_mutex_unlock(&h->lock);
	return e;
}

/* Caller holds the lock. */
static void
health_info_fill(const struct health_entry *e, struct health_info *out)
{
	out->pool = e->pool;
	out->member = e->member;
	out->settings = e->settings;
	out->state = (enum health_state)atomic_load(&e->state);
	out->reason = (enum reason_code)atomic_load(&e->reason);
	snprintf(out->text, sizeof(out->text), "%s",
	    e->text != NULL ? e->text : "");
}

int
health_get(struct health *h, const char *pool, const char *member,
    const char *settings, struct health_info *out)
{
	struct health_entry *e;
	int rc = -1;

	pthread_mutex_lock(&h->lock);
	e = health_find(h, pool, member, settings,
	    health_hash(pool, member, settings));
	if (e != NULL) {
		health_info_fill(e, out);
		rc = 0;
	}
	pthread_mutex_unlock(&h->lock);
	if (rc != 0) {
		out->pool = pool;
		out->member = member;
		out->settings = settings;
		out->state = HEALTH_UNKNOWN;
		out->reason = REASON_UNKNOWN;
		out->text[0] = '\0';
	}
	return rc;
}

/* Caller holds the lock. Returns the previous state. */
static enum health_state
health_update(struct health_entry *e, enum health_state state,
    enum reason_code reason, const char *text)
{
	char *copy = NULL;

	if (text != NULL && *text != '\0' &&
	    (e->text == NULL || strcmp(e->text, text) != 0)) {
		if ((copy = strdup(text)) == NULL)
			log_err("health: out of memory keeping the text of "
				"%s/%s/%s", e->pool, e->member, e->settings);
		else {
			free(e->text);
			e->text = copy;
		}
	} else if (text == NULL || *text == '\0') {
		free(e->text);
		e->text = NULL;
	}
	atomic_store(&e->reason, (int)reason);
	return (enum health_state)atomic_exchange(&e->state, (int)state);
}

static void
health_log_change(const struct health_entry *e, enum health_state old,
    enum health_state state, enum reason_code reason)
{
	if (old == state)
		return;
	log_info("backend health %s/%s/%s: %s -> %s (reason %s)", e->pool,
	    e->member, e->settings, health_state_name(old),
	    health_state_name(state), reason_name(reason));
}

int
health_set(struct health *h, const char *pool, const char *member,
    const char *settings, enum health_state state, enum reason_code reason,
    const char *text)
{
	struct health_entry *e;
	enum health_state old;

	pthread_mutex_lock(&h->lock);
	if ((e = health_find_or_add(h, pool, member, settings)) == NULL) {
		pthread_mutex_unlock(&h->lock);
		return -1;
	}
	old = health_update(e, state, reason, text);
	/* Logged under the lock, so lines of one entry stay in order. */
	health_log_change(e, old, state, reason);
	pthread_mutex_unlock(&h->lock);
	return 0;
}

void
health_entry_set(struct health *h, struct health_entry *e,
    enum health_state state, enum reason_code reason, const char *text)
{
	enum health_state old;

	pthread_mutex_lock(&h->lock);
	old = health_update(e, state, reason, text);
	health_log_change(e, old, state, reason);
	pthread_mutex_unlock(&h->lock);
}

enum health_state
health_entry_state(const struct health_entry *e)
{
	return (enum health_state)atomic_load(&e->state);
}

int
health_is_eligible(enum health_state state)
{
	/* Spec 5: a member counts as unhealthy until its first successful
	 * probe, so HEALTH_UNKNOWN takes no traffic. */
	return state == HEALTH_HEALTHY;
}

int
health_entry_eligible(const struct health_entry *e)
{
	return e != NULL && health_is_eligible(health_entry_state(e));
}

void
health_foreach(struct health *h,
    void (*fn)(const struct health_info *info, void *arg), void *arg)
{
	struct health_info info;
	struct health_entry *e;

	pthread_mutex_lock(&h->lock);
	for (e = h->first; e != NULL; e = e->next) {
		health_info_fill(e, &info);
		fn(&info, arg);
	}
	pthread_mutex_unlock(&h->lock);
}

const char *
health_state_name(enum health_state state)
{
	switch (state) {
	case HEALTH_HEALTHY:
		return "Healthy";
	case HEALTH_UNHEALTHY:
		return "Unhealthy";
	case HEALTH_UNKNOWN:
		break;
	}
	return "Unknown";
}

/* The id of a sub-resource: the gateway's id (or a made-up one) plus
 * "/COLLECTION/NAME". NULL on allocation failure. */
static json_t *
health_sub_id(const struct config *c, const char *collection,
    const char *name)
{
	if (c->id != NULL && *c->id != '\0')
		return json_sprintf("%s/%s/%s", c->id, collection, name);
	return json_sprintf("/subscriptions/00000000-0000-0000-0000-"
			    "000000000000/resourceGroups/agw-lab/providers/"
			    "Microsoft.Network/applicationGateways/%s/%s/%s",
	    c->name != NULL ? c->name : "agw", collection, name);
}

void
health_pairs_used(const struct config *c, unsigned char *used)
{
	size_t i, j;

#define HEALTH_USE(p, s)                                                   \
	do {                                                               \
		if ((p) >= 0 && (size_t)(p) < c->npools && (s) >= 0 &&     \
		    (size_t)(s) < c->nsettings)                            \
			used[(size_t)(p) * c->nsettings + (size_t)(s)] = 1; \
	} while (0)
	for (i = 0; i < c->nrules; i++)
		if (c->rules[i].type == CONFIG_RULE_BASIC)
			HEALTH_USE(c->rules[i].pool, c->rules[i].settings);
	for (i = 0; i < c->npath_maps; i++) {
		const struct config_path_map *m = &c->path_maps[i];

		HEALTH_USE(m->default_pool, m->default_settings);
		for (j = 0; j < m->nrules; j++)
			HEALTH_USE(m->rules[j].pool, m->rules[j].settings);
	}
#undef HEALTH_USE
}

static json_t *
health_server_json(const struct config_member *mb, const char *pool,
    const char *settings, struct health *h)
{
	struct health_info info;
	char buf[1024];
	const char *text;

	health_get(h, pool, mb->address, settings, &info);
	text = info.text;
	if (*text == '\0')
		text = reason_text(info.reason, NULL, buf, sizeof(buf));
	return json_pack("{s:s, s:s, s:s}", "address", mb->address, "health",
	    health_state_name(info.state), "healthProbeLog",
	    text != NULL ? text : "");
}

json_t *
health_backend_json(const struct config *c, struct health *h)
{
	unsigned char *used = NULL;
	json_t *root = NULL, *pools, *pj, *sets, *sj, *servers, *srv;
	size_t p, s, k;

	if ((used = calloc(c->npools * c->nsettings + 1, 1)) == NULL)
		goto fail;
	health_pairs_used(c, used);
	if ((root = json_object()) == NULL || (pools = json_array()) == NULL)
		goto fail;
	if (json_object_set_new(root, "backendAddressPools", pools) != 0)
		goto fail;
	for (p = 0; p < c->npools; p++) {
		const struct config_pool *pool = &c->pools[p];

		pj = json_pack("{s:{s:o}, s:[]}", "backendAddressPool", "id",
		    health_sub_id(c, "backendAddressPools", pool->name),
		    "backendHttpSettingsCollection");
		if (pj == NULL || json_array_append_new(pools, pj) != 0)
			goto fail;
		sets = json_object_get(pj, "backendHttpSettingsCollection");
		for (s = 0; s < c->nsettings; s++) {
			const char *sname = c->settings[s].name;

			if (!used[p * c->nsettings + s])
				continue;
			sj = json_pack("{s:{s:o}, s:[]}", "backendHttpSettings",
			    "id",
			    health_sub_id(c, "backendHttpSettingsCollection",
				sname),
			    "servers");
			if (sj == NULL || json_array_append_new(sets, sj) != 0)
				goto fail;
			servers = json_object_get(sj, "servers");
			for (k = 0; k < pool->nmembers; k++) {
				srv = health_server_json(&pool->members[k],
				    pool->name, sname, h);
				if (srv == NULL ||
				    json_array_append_new(servers, srv) != 0)
					goto fail;
			}
		}
	}
	free(used);
	return root;
fail:
	log_err("health: out of memory building the backend health JSON");
	free(used);
	json_decref(root);
	return NULL;
}
