/*
 * lb: round robin, affinity and draining for one snapshot (see lb.h).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "lb.h"
#include "log.h"

#define LB_DEFAULT_COOKIE "ApplicationGatewayAffinity"

typedef char lb_cookie_t[LB_COOKIE_LEN + 1];

/* One (pool, settings) pair some rule uses. */
struct lb_pair {
	int pool, settings;
	atomic_uint cursor;
	struct health_entry **health;	/* per member */
	lb_cookie_t *cookies;		/* per member; NULL without affinity */
};

/* A member that left its pool on a reload. */
struct lb_drain {
	char *pool, *address;
	enum config_member_kind kind;
	uint64_t removed_ms;
	int pool_index;			/* in this lb's snapshot */
	struct health_entry **health;	/* per settings; NULL: not draining */
	lb_cookie_t *cookies;		/* per settings */
};

struct lb {
	const struct config *c;
	struct health *h;
	int *pair_index;	/* [pool * nsettings + settings] -> pair, -1 */
	struct lb_pair *pairs;
	size_t npairs;
	struct lb_drain *drains;
	size_t ndrains;
};

static unsigned char lb_secret[32];
static pthread_once_t lb_secret_once = PTHREAD_ONCE_INIT;
static int lb_secret_ok;

static void
lb_secret_init(void)
{
	lb_secret_ok = RAND_bytes(lb_secret, sizeof(lb_secret)) == 1;
}

/* The affinity value of (pool, member, settings) into out. */
static int
lb_cookie_make(const char *pool, const char *member, const char *settings,
    lb_cookie_t out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char msg[1024], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int n;

	pthread_once(&lb_secret_once, lb_secret_init);
	if (!lb_secret_ok)
		return -1;
	n = snprintf((char *)msg, sizeof(msg), "%s%c%s%c%s", pool, 0, member,
	    0, settings);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return -1;
	if (HMAC(EVP_sha256(), lb_secret, sizeof(lb_secret), msg, (size_t)n,
		md, &mdlen) == NULL ||
	    mdlen < LB_COOKIE_LEN / 2)
		return -1;
	for (int i = 0; i < LB_COOKIE_LEN / 2; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[LB_COOKIE_LEN] = '\0';
	return 0;
}

uint64_t
lb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
lb_pair_use(struct lb *lb, int pool, int settings)
{
	const struct config *c = lb->c;

	if (pool < 0 || (size_t)pool >= c->npools || settings < 0 ||
	    (size_t)settings >= c->nsettings)
		return;
	if (lb->pair_index[(size_t)pool * c->nsettings + (size_t)settings] < 0)
		lb->pair_index[(size_t)pool * c->nsettings +
		    (size_t)settings] = (int)lb->npairs++;
}

static int
lb_pair_init(struct lb *lb, struct lb_pair *p)
{
	const struct config_pool *pool = &lb->c->pools[p->pool];
	const struct config_settings *s = &lb->c->settings[p->settings];
	size_t k, n = pool->nmembers;

	atomic_init(&p->cursor, 0);
	if ((p->health = calloc(n + 1, sizeof(*p->health))) == NULL)
		return -1;
	if (s->cookie_affinity &&
	    (p->cookies = calloc(n + 1, sizeof(*p->cookies))) == NULL)
		return -1;
	for (k = 0; k < n; k++) {
		p->health[k] = health_entry(lb->h, pool->name,
		    pool->members[k].address, s->name);
		if (p->health[k] == NULL)
			return -1;
		if (p->cookies != NULL &&
		    lb_cookie_make(pool->name, pool->members[k].address,
			s->name, p->cookies[k]) != 0)
			return -1;
	}
	return 0;
}

static int
lb_pool_find(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->npools; i++)
		if (strcmp(c->pools[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int
lb_pool_has(const struct config_pool *p, const char *address)
{
	for (size_t k = 0; k < p->nmembers; k++)
		if (strcmp(p->members[k].address, address) == 0)
			return 1;
	return 0;
}

/* The longest drainTimeoutInSec of the settings with draining on, in ms
 * (0: no setting drains). */
static uint64_t
lb_drain_max_ms(const struct config *c)
{
	uint64_t max = 0;

	for (size_t s = 0; s < c->nsettings; s++)
		if (c->settings[s].draining &&
		    (uint64_t)c->settings[s].drain_timeout * 1000u > max)
			max = (uint64_t)c->settings[s].drain_timeout * 1000u;
	return max;
}

/* Append a drain entry for (pool, address) to lb, unless already there.
 * Returns 0, or -1 on allocation failure. */
static int
lb_drain_add(struct lb *lb, size_t *cap, const char *pool,
    const char *address, enum config_member_kind kind, uint64_t removed_ms)
{
	const struct config *c = lb->c;
	struct lb_drain *d, *v;
	size_t s;

	for (size_t i = 0; i < lb->ndrains; i++)
		if (strcmp(lb->drains[i].pool, pool) == 0 &&
		    strcmp(lb->drains[i].address, address) == 0)
			return 0;
	if (lb->ndrains == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;

		if ((v = realloc(lb->drains, ncap * sizeof(*v))) == NULL)
			return -1;
		lb->drains = v;
		*cap = ncap;
	}
	d = &lb->drains[lb->ndrains];
	memset(d, 0, sizeof(*d));
	lb->ndrains++;
	d->kind = kind;
	d->removed_ms = removed_ms;
	d->pool_index = lb_pool_find(c, pool);
	if ((d->pool = strdup(pool)) == NULL ||
	    (d->address = strdup(address)) == NULL ||
	    (d->health = calloc(c->nsettings + 1, sizeof(*d->health))) ==
		NULL ||
	    (d->cookies = calloc(c->nsettings + 1, sizeof(*d->cookies))) ==
		NULL)
		return -1;
	for (s = 0; s < c->nsettings; s++) {
		if (!c->settings[s].draining)
			continue;
		d->health[s] = health_entry(lb->h, pool, address,
		    c->settings[s].name);
		if (d->health[s] == NULL ||
		    lb_cookie_make(pool, address, c->settings[s].name,
			d->cookies[s]) != 0)
			return -1;
	}
	return 0;
}

/* Build lb's drain list from the old lb (see lb.h). */
static int
lb_drain_build(struct lb *lb, const struct lb *old, uint64_t now_ms)
{
	const struct config *c = lb->c;
	uint64_t max = lb_drain_max_ms(c);
	size_t cap = 0, i, k;
	int p;

	if (old == NULL || max == 0)
		return 0;
	for (i = 0; i < old->ndrains; i++) {
		const struct lb_drain *d = &old->drains[i];

		p = lb_pool_find(c, d->pool);
		if (p < 0 || lb_pool_has(&c->pools[p], d->address) ||
		    now_ms >= d->removed_ms + max)
			continue;
		if (lb_drain_add(lb, &cap, d->pool, d->address, d->kind,
			d->removed_ms) != 0)
			return -1;
	}
	for (i = 0; i < old->c->npools; i++) {
		const struct config_pool *op = &old->c->pools[i];

		if ((p = lb_pool_find(c, op->name)) < 0)
			continue;
		for (k = 0; k < op->nmembers; k++) {
			if (lb_pool_has(&c->pools[p], op->members[k].address))
				continue;
			if (lb_drain_add(lb, &cap, op->name,
				op->members[k].address, op->members[k].kind,
				now_ms) != 0)
				return -1;
			log_info("member %s left pool %s: draining",
			    op->members[k].address, op->name);
		}
	}
	return 0;
}

struct lb *
lb_new(struct config *c, struct health *h, const struct lb *old,
    uint64_t now_ms)
{
	struct lb *lb;
	size_t i, j, npairs_max;

	if ((lb = calloc(1, sizeof(*lb))) == NULL)
		goto fail;
	lb->c = c;
	lb->h = h;
	npairs_max = c->npools * c->nsettings;
	if ((lb->pair_index = malloc((npairs_max + 1) *
		 sizeof(*lb->pair_index))) == NULL)
		goto fail;
	for (i = 0; i < npairs_max; i++)
		lb->pair_index[i] = -1;
	for (i = 0; i < c->nrules; i++)
		if (c->rules[i].type == CONFIG_RULE_BASIC)
			lb_pair_use(lb, c->rules[i].pool, c->rules[i].settings);
	for (i = 0; i < c->npath_maps; i++) {
		const struct config_path_map *m = &c->path_maps[i];

		lb_pair_use(lb, m->default_pool, m->default_settings);
		for (j = 0; j < m->nrules; j++)
			lb_pair_use(lb, m->rules[j].pool, m->rules[j].settings);
	}
	if ((lb->pairs = calloc(lb->npairs + 1, sizeof(*lb->pairs))) == NULL)
		goto fail;
	for (i = 0; i < npairs_max; i++) {
		struct lb_pair *p;

		if (lb->pair_index[i] < 0)
			continue;
		p = &lb->pairs[lb->pair_index[i]];
		p->pool = (int)(i / c->nsettings);
		p->settings = (int)(i % c->nsettings);
		if (lb_pair_init(lb, p) != 0)
			goto fail;
	}
	if (lb_drain_build(lb, old, now_ms) != 0)
		goto fail;
	return lb;
fail:
	log_err("lb: out of memory building the member chooser");
	lb_free(lb);
	return NULL;
}

void
lb_free(struct lb *lb)
{
	size_t i;

	if (lb == NULL)
		return;
	for (i = 0; i < lb->npairs && lb->pairs != NULL; i++) {
		free(lb->pairs[i].health);
		free(lb->pairs[i].cookies);
	}
	for (i = 0; i < lb->ndrains; i++) {
		free(lb->drains[i].pool);
		free(lb->drains[i].address);
		free(lb->drains[i].health);
		free(lb->drains[i].cookies);
	}
	free(lb->drains);
	free(lb->pairs);
	free(lb->pair_index);
	free(lb);
}

static struct lb_pair *
lb_pair_get(const struct lb *lb, int pool, int settings)
{
	int pi;

	if (pool < 0 || (size_t)pool >= lb->c->npools || settings < 0 ||
	    (size_t)settings >= lb->c->nsettings)
		return NULL;
	pi = lb->pair_index[(size_t)pool * lb->c->nsettings + (size_t)settings];
	return pi < 0 ? NULL : &lb->pairs[pi];
}

int
lb_pick(struct lb *lb, int pool, int settings, int exclude)
{
	struct lb_pair *p = lb_pair_get(lb, pool, settings);
	size_t n, k, eligible = 0, want;
	int last = -1;

	if (p == NULL)
		return -1;
	n = lb->c->pools[pool].nmembers;
	/* Even spread over the eligible members: take the cursor-th eligible
	 * one, so a skipped member's share is not all given to the next. */
	for (k = 0; k < n; k++)
		if ((int)k != exclude && health_entry_eligible(p->health[k]))
			eligible++;
	if (eligible == 0)
		return -1;
	want = atomic_fetch_add_explicit(&p->cursor, 1, memory_order_relaxed) %
	    eligible;
	for (k = 0; k < n; k++) {
		if ((int)k == exclude || !health_entry_eligible(p->health[k]))
			continue;
		last = (int)k;
		if (want-- == 0)
			break;
	}
	/* A member may have turned ineligible between the passes: last is
	 * then the last eligible one seen (or -1). */
	return last;
}

/* The value of cookie name in a Cookie header into out, or -1. */
static int
lb_cookie_find(const char *header, const char *name, lb_cookie_t out)
{
	size_t nlen = strlen(name), vlen;
	const char *p = header, *v;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		if (strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			v = p + nlen + 1;
			vlen = strcspn(v, ";");
			while (vlen > 0 && (v[vlen - 1] == ' ' ||
					       v[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
				v++;
				vlen -= 2;
			}
			if (vlen == LB_COOKIE_LEN) {
				memcpy(out, v, vlen);
				out[vlen] = '\0';
				return 0;
			}
		}
		p += strcspn(p, ";");
	}
	return -1;
}

static const char *
lb_cookie_name(const struct config_settings *s)
{
	return s->affinity_cookie != NULL && *s->affinity_cookie != '\0' ?
	    s->affinity_cookie :
	    LB_DEFAULT_COOKIE;
}

/* The affinity target named by the request's cookie, or -1. */
static int
lb_affinity(const struct lb *lb, const struct lb_pair *p, const char *header,
    uint64_t now_ms, struct lb_target *out)
{
	const struct config_settings *s = &lb->c->settings[p->settings];
	const struct config_pool *pool = &lb->c->pools[p->pool];
	char cors[256];
	lb_cookie_t val;
	size_t k;

	if (snprintf(cors, sizeof(cors), "%sCORS", lb_cookie_name(s)) >=
	    (int)sizeof(cors))
		return -1;
	if (lb_cookie_find(header, lb_cookie_name(s), val) != 0 &&
	    lb_cookie_find(header, cors, val) != 0)
		return -1;
	for (k = 0; k < pool->nmembers; k++) {
		if (strcmp(p->cookies[k], val) != 0)
			continue;
		if (!health_entry_eligible(p->health[k]))
			return -1;
		out->member = (int)k;
		out->address = pool->members[k].address;
		out->kind = pool->members[k].kind;
		out->cookie = p->cookies[k];
		return 0;
	}
	if (!s->draining)
		return -1;
	for (k = 0; k < lb->ndrains; k++) {
		const struct lb_drain *d = &lb->drains[k];

		if (d->pool_index != p->pool || d->health[p->settings] == NULL ||
		    strcmp(d->cookies[p->settings], val) != 0)
			continue;
		if (now_ms >= d->removed_ms + (uint64_t)s->drain_timeout * 1000u ||
		    !health_entry_eligible(d->health[p->settings]))
			return -1;
		out->member = -1;
		out->address = d->address;
		out->kind = d->kind;
		out->draining = 1;
		out->cookie = d->cookies[p->settings];
		return 0;
	}
	return -1;
}

int
lb_select(struct lb *lb, int pool, int settings, const char *cookie_header,
    int exclude, uint64_t now_ms, struct lb_target *out)
{
	struct lb_pair *p = lb_pair_get(lb, pool, settings);
	int k;

	memset(out, 0, sizeof(*out));
	out->member = -1;
	if (p == NULL)
		return -1;
	if (p->cookies != NULL && cookie_header != NULL &&
	    exclude == LB_EXCLUDE_NONE &&
	    lb_affinity(lb, p, cookie_header, now_ms, out) == 0) {
		out->affinity = 1;
		return 0;
	}
	if ((k = lb_pick(lb, pool, settings, exclude)) < 0)
		return -1;
	out->member = k;
	out->address = lb->c->pools[pool].members[k].address;
	out->kind = lb->c->pools[pool].members[k].kind;
	if (p->cookies != NULL) {
		out->cookie = p->cookies[k];
		out->set_cookie = 1;
	}
	return 0;
}

int
lb_affinity_set_cookie(const struct lb *lb, int settings,
    const struct lb_target *t, char *cookie, size_t cookie_len, char *cors,
    size_t cors_len)
{
	const struct config_settings *s;
	int n;

	if (settings < 0 || (size_t)settings >= lb->c->nsettings ||
	    t->cookie == NULL)
		return -1;
	s = &lb->c->settings[settings];
	if (!s->cookie_affinity)
		return -1;
	n = snprintf(cookie, cookie_len, "%s=%s; Path=/", lb_cookie_name(s),
	    t->cookie);
	if (n < 0 || (size_t)n >= cookie_len)
		return -1;
	n = snprintf(cors, cors_len, "%sCORS=%s; Path=/; SameSite=None; Secure",
	    lb_cookie_name(s), t->cookie);
	if (n < 0 || (size_t)n >= cors_len)
		return -1;
	return 0;
}

int
lb_cookie_value(const struct lb *lb, int pool, int member, int settings,
    char buf[LB_COOKIE_LEN + 1])
{
	const struct config *c = lb->c;

	if (pool < 0 || (size_t)pool >= c->npools || member < 0 ||
	    (size_t)member >= c->pools[pool].nmembers || settings < 0 ||
	    (size_t)settings >= c->nsettings)
		return -1;
	return lb_cookie_make(c->pools[pool].name,
	    c->pools[pool].members[member].address, c->settings[settings].name,
	    buf);
}

size_t
lb_draining_count(const struct lb *lb)
{
	return lb->ndrains;
}
