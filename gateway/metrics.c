/*
 * metrics: sharded counters and a latency histogram, Prometheus text out
 * (see metrics.h).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"

enum metrics_series_type { METRICS_REQUESTS = 1, METRICS_FAILURES = 2 };

/* Upper bounds of the latency buckets, in seconds (+Inf is implied). */
static const double metrics_buckets[] = { 0.0005, 0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };
#define METRICS_NBUCKETS (sizeof(metrics_buckets) / sizeof(metrics_buckets[0]))

/* One label set and its count. Label ids index the interned strings; id 0
 * is the empty string. */
struct metrics_series {
	uint32_t type;		/* 0: free slot */
	uint32_t listener, rule, pool, member;
	int32_t x;		/* requests: status; failures: kind */
	int32_t y;		/* failures: reason */
	uint64_t count;
};

struct metrics_shard {
	pthread_mutex_t lock;
	struct metrics_series *v;	/* open addressing, power of 2 */
	size_t cap, n;
	uint64_t buckets[METRICS_NBUCKETS + 1];	/* the last is +Inf */
	uint64_t hcount;
	double hsum;
};

struct metrics {
	int nshards;
	struct metrics_shard *shards;
	pthread_mutex_t intern_lock;
	char **strings;		/* interned label values; [0] = "" */
	size_t nstrings, capstrings;
};

struct metrics_names {
	uint32_t *listeners, *rules, *pools;
	uint32_t **members;	/* per pool */
	size_t nlisteners, nrules, npools;
	size_t *nmembers;
};

static const char *const metrics_kind_names[] = { "connect", "tls",
	"response", "timeout" };

struct metrics *
metrics_new(int nshards)
{
	struct metrics *m;
	int i;

	if (nshards < 1)
		nshards = 1;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	if ((m->shards = calloc((size_t)nshards, sizeof(*m->shards))) == NULL)
		goto fail;
	m->nshards = nshards;
	for (i = 0; i < nshards; i++)
		pthread_mutex_init(&m->shards[i].lock, NULL);
	pthread_mutex_init(&m->intern_lock, NULL);
	if ((m->strings = calloc(16, sizeof(*m->strings))) == NULL ||
	    (m->strings[0] = strdup("")) == NULL)
		goto fail;
	m->capstrings = 16;
	m->nstrings = 1;
	return m;
fail:
	metrics_free(m);
	return NULL;
}

void
metrics_free(struct metrics *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; m->shards != NULL && i < (size_t)m->nshards; i++) {
		pthread_mutex_destroy(&m->shards[i].lock);
		free(m->shards[i].v);
	}
	free(m->shards);
	for (i = 0; i < m->nstrings; i++)
		free(m->strings[i]);
	free(m->strings);
	if (m->nshards > 0)
		pthread_mutex_destroy(&m->intern_lock);
	free(m);
}

/* The id of s, interned. Caller holds intern_lock. 0 on failure (the empty
 * label), logged. */
static uint32_t
metrics_intern(struct metrics *m, const char *s)
{
	char **v;
	size_t i;

	if (s == NULL || *s == '\0')
		return 0;
	for (i = 1; i < m->nstrings; i++)
		if (strcmp(m->strings[i], s) == 0)
			return (uint32_t)i;
	if (m->nstrings == m->capstrings) {
		if ((v = realloc(m->strings, m->capstrings * 2 * sizeof(*v))) ==
		    NULL)
			goto fail;
		m->strings = v;
		m->capstrings *= 2;
	}
	if ((m->strings[m->nstrings] = strdup(s)) == NULL)
		goto fail;
	return (uint32_t)m->nstrings++;
fail:
	log_err("metrics: out of memory interning label \"%s\"", s);
	return 0;
}

struct metrics_names *
metrics_names_new(struct metrics *m, const struct config *c)
{
	struct metrics_names *n;
	size_t i, k;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->nlisteners = c->nlisteners;
	n->nrules = c->nrules;
	n->npools = c->npools;
	if ((n->listeners = calloc(c->nlisteners + 1, sizeof(uint32_t))) ==
		NULL ||
	    (n->rules = calloc(c->nrules + 1, sizeof(uint32_t))) == NULL ||
	    (n->pools = calloc(c->npools + 1, sizeof(uint32_t))) == NULL ||
	    (n->members = calloc(c->npools + 1, sizeof(uint32_t *))) == NULL ||
	    (n->nmembers = calloc(c->npools + 1, sizeof(size_t))) == NULL)
		goto fail;
	for (i = 0; i < c->npools; i++) {
		n->members[i] = calloc(c->pools[i].nmembers + 1,
		    sizeof(uint32_t));
		if (n->members[i] == NULL)
			goto fail;
		n->nmembers[i] = c->pools[i].nmembers;
	}
	pthread_mutex_lock(&m->intern_lock);
	for (i = 0; i < c->nlisteners; i++)
		n->listeners[i] = metrics_intern(m, c->listeners[i].name);
	for (i = 0; i < c->nrules; i++)
		n->rules[i] = metrics_intern(m, c->rules[i].name);
	for (i = 0; i < c->npools; i++) {
		n->pools[i] = metrics_intern(m, c->pools[i].name);
		for (k = 0; k < c->pools[i].nmembers; k++)
			n->members[i][k] = metrics_intern(m,
			    c->pools[i].members[k].address);
	}
	pthread_mutex_unlock(&m->intern_lock);
	return n;
fail:
	metrics_names_free(n);
	return NULL;
}

void
metrics_names_free(struct metrics_names *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; n->members != NULL && i < n->npools; i++)
		free(n->members[i]);
	free(n->members);
	free(n->nmembers);
	free(n->listeners);
	free(n->rules);
	free(n->pools);
	free(n);
}

static uint32_t
metrics_id(const uint32_t *ids, size_t n, int i)
{
	return ids != NULL && i >= 0 && (size_t)i < n ? ids[i] : 0;
}

static uint32_t
metrics_member_id(const struct metrics_names *n, int pool, int member)
{
	if (n == NULL || pool < 0 || (size_t)pool >= n->npools)
		return 0;
	return metrics_id(n->members[pool], n->nmembers[pool], member);
}

static size_t
metrics_series_hash(const struct metrics_series *s)
{
	uint64_t h = 1469598103934665603u;
	uint32_t f[7] = { s->type, s->listener, s->rule, s->pool, s->member,
		(uint32_t)s->x, (uint32_t)s->y };

	for (int i = 0; i < 7; i++)
		h = (h ^ f[i]) * 1099511628211u;
	return (size_t)(h ^ (h >> 29));
}

static int
metrics_series_same(const struct metrics_series *a,
    const struct metrics_series *b)
{
	return a->type == b->type && a->listener == b->listener &&
	    a->rule == b->rule && a->pool == b->pool && a->member == b->member &&
	    a->x == b->x && a->y == b->y;
}

/* Insert into a table with room; returns the slot. */
static struct metrics_series *
metrics_slot(struct metrics_series *v, size_t cap,
    const struct metrics_series *key)
{
	size_t i = metrics_series_hash(key) & (cap - 1);

	while (v[i].type != 0 && !metrics_series_same(&v[i], key))
		i = (i + 1) & (cap - 1);
	return &v[i];
}

/* Add count to key's series in the table; grows it (allocation only the
 * first time a label set is seen). Returns 0 or -1. */
static int
metrics_table_add(struct metrics_series **vp, size_t *capp, size_t *np,
    const struct metrics_series *key, uint64_t count)
{
	struct metrics_series *slot, *nv;
	size_t i, ncap;

	if (*np + 1 > *capp / 2) {
		ncap = *capp ? *capp * 2 : 64;
		if ((nv = calloc(ncap, sizeof(*nv))) == NULL)
			return -1;
		for (i = 0; i < *capp; i++)
			if ((*vp)[i].type != 0)
				*metrics_slot(nv, ncap, &(*vp)[i]) = (*vp)[i];
		free(*vp);
		*vp = nv;
		*capp = ncap;
	}
	slot = metrics_slot(*vp, *capp, key);
	if (slot->type == 0) {
		*slot = *key;
		slot->count = 0;
		(*np)++;
	}
	slot->count += count;
	return 0;
}

static struct metrics_shard *
metrics_shard(struct metrics *m, int shard)
{
	if (shard < 0)
		shard = 0;
	return &m->shards[shard % m->nshards];
}

void
metrics_request(struct metrics *m, int shard, const struct metrics_names *n,
    int listener, int rule, int pool, int member, int status, double seconds)
{
	struct metrics_shard *sh = metrics_shard(m, shard);
	struct metrics_series key = { 0 };
	size_t b;

	key.type = METRICS_REQUESTS;
	if (n != NULL) {
		key.listener = metrics_id(n->listeners, n->nlisteners, listener);
		key.rule = metrics_id(n->rules, n->nrules, rule);
		key.pool = metrics_id(n->pools, n->npools, pool);
	}
	key.member = metrics_member_id(n, pool, member);
	key.x = status;
	for (b = 0; b < METRICS_NBUCKETS && seconds > metrics_buckets[b]; b++)
		;
	pthread_mutex_lock(&sh->lock);
	if (metrics_table_add(&sh->v, &sh->cap, &sh->n, &key, 1) != 0)
		log_err("metrics: out of memory counting a request");
	sh->buckets[b]++;
	sh->hcount++;
	sh->hsum += seconds > 0 ? seconds : 0;
	pthread_mutex_unlock(&sh->lock);
}

void
metrics_upstream_failure(struct metrics *m, int shard,
    const struct metrics_names *n, int pool, int member,
    enum metrics_failure_kind kind, enum reason_code reason)
{
	struct metrics_shard *sh = metrics_shard(m, shard);
	struct metrics_series key = { 0 };

	key.type = METRICS_FAILURES;
	if (n != NULL)
		key.pool = metrics_id(n->pools, n->npools, pool);
	key.member = metrics_member_id(n, pool, member);
	key.x = (int32_t)kind;
	key.y = (int32_t)reason;
	pthread_mutex_lock(&sh->lock);
	if (metrics_table_add(&sh->v, &sh->cap, &sh->n, &key, 1) != 0)
		log_err("metrics: out of memory counting an upstream failure");
	pthread_mutex_unlock(&sh->lock);
}

/* Sort order of the output: type, then the labels as ids, then x, y. */
static int
metrics_series_cmp(const void *pa, const void *pb)
{
	const struct metrics_series *a = pa, *b = pb;
	const uint32_t fa[7] = { a->type, a->listener, a->rule, a->pool,
		a->member, (uint32_t)a->x, (uint32_t)a->y };
	const uint32_t fb[7] = { b->type, b->listener, b->rule, b->pool,
		b->member, (uint32_t)b->x, (uint32_t)b->y };

	for (int i = 0; i < 7; i++)
		if (fa[i] != fb[i])
			return fa[i] < fb[i] ? -1 : 1;
	return 0;
}

/* Append a label value, escaped as the text format wants. */
static int
metrics_label(struct evbuffer *out, const char *name, const char *value,
    const char *sep)
{
	if (evbuffer_add_printf(out, "%s%s=\"", sep, name) < 0)
		return -1;
	for (const char *p = value; *p != '\0'; p++) {
		int rc;

		if (*p == '\\')
			rc = evbuffer_add(out, "\\\\", 2);
		else if (*p == '"')
			rc = evbuffer_add(out, "\\\"", 2);
		else if (*p == '\n')
			rc = evbuffer_add(out, "\\n", 2);
		else
			rc = evbuffer_add(out, p, 1);
		if (rc != 0)
			return -1;
	}
	return evbuffer_add(out, "\"", 1);
}

static int
metrics_render_series(struct metrics *m, struct evbuffer *out,
    const struct metrics_series *s)
{
	const char *const *str = (const char *const *)m->strings;
	const char *kind;

	if (s->type == METRICS_REQUESTS) {
		char status[16];

		snprintf(status, sizeof(status), "%d", (int)s->x);
		if (evbuffer_add_printf(out, "agw_requests_total{") < 0 ||
		    metrics_label(out, "listener", str[s->listener], "") ||
		    metrics_label(out, "rule", str[s->rule], ",") ||
		    metrics_label(out, "pool", str[s->pool], ",") ||
		    metrics_label(out, "member", str[s->member], ",") ||
		    metrics_label(out, "status", status, ","))
			return -1;
	} else {
		kind = s->x >= 0 && (size_t)s->x < sizeof(metrics_kind_names) /
			    sizeof(metrics_kind_names[0]) ?
		    metrics_kind_names[s->x] :
		    "unknown";
		if (evbuffer_add_printf(out, "agw_upstream_failures_total{") <
			0 ||
		    metrics_label(out, "pool", str[s->pool], "") ||
		    metrics_label(out, "member", str[s->member], ",") ||
		    metrics_label(out, "kind", kind, ",") ||
		    metrics_label(out, "reason",
			reason_name((enum reason_code)s->y), ","))
			return -1;
	}
	return evbuffer_add_printf(out, "} %llu\n",
		   (unsigned long long)s->count) < 0 ?
	    -1 :
	    0;
}

int
metrics_render(struct metrics *m, struct evbuffer *out)
{
	struct metrics_series *all = NULL;
	uint64_t buckets[METRICS_NBUCKETS + 1] = { 0 }, hcount = 0, cum = 0;
	size_t cap = 0, n = 0, i, j;
	double hsum = 0;
	int rc = -1, s;
	uint32_t type = 0;

	for (s = 0; s < m->nshards; s++) {
		struct metrics_shard *sh = &m->shards[s];

		pthread_mutex_lock(&sh->lock);
		for (i = 0; i < sh->cap; i++)
			if (sh->v[i].type != 0 &&
			    metrics_table_add(&all, &cap, &n, &sh->v[i],
				sh->v[i].count) != 0) {
				pthread_mutex_unlock(&sh->lock);
				goto out;
			}
		for (i = 0; i <= METRICS_NBUCKETS; i++)
			buckets[i] += sh->buckets[i];
		hcount += sh->hcount;
		hsum += sh->hsum;
		pthread_mutex_unlock(&sh->lock);
	}
	/* Compact and sort, so the output is stable. */
	for (i = 0, j = 0; i < cap; i++)
		if (all[i].type != 0)
			all[j++] = all[i];
	if (n > 0)
		qsort(all, n, sizeof(*all), metrics_series_cmp);

	pthread_mutex_lock(&m->intern_lock);
	if (evbuffer_add_printf(out,
		"# HELP agw_requests_total Requests answered, by listener, "
		"rule, pool, member and status.\n"
		"# TYPE agw_requests_total counter\n") < 0)
		goto unlock;
	for (i = 0; i < n; i++) {
		if (all[i].type != type && all[i].type == METRICS_FAILURES &&
		    evbuffer_add_printf(out,
			"# HELP agw_upstream_failures_total Upstream "
			"connect, TLS and response failures, by reason.\n"
			"# TYPE agw_upstream_failures_total counter\n") < 0)
			goto unlock;
		type = all[i].type;
		if (metrics_render_series(m, out, &all[i]) != 0)
			goto unlock;
	}
	if (type != METRICS_FAILURES &&
	    evbuffer_add_printf(out,
		"# HELP agw_upstream_failures_total Upstream connect, TLS "
		"and response failures, by reason.\n"
		"# TYPE agw_upstream_failures_total counter\n") < 0)
		goto unlock;
	if (evbuffer_add_printf(out,
		"# HELP agw_request_duration_seconds Time from the request's "
		"first byte to the response's last.\n"
		"# TYPE agw_request_duration_seconds histogram\n") < 0)
		goto unlock;
	for (i = 0; i <= METRICS_NBUCKETS; i++) {
		char le[32];

		cum += buckets[i];
		if (i < METRICS_NBUCKETS)
			snprintf(le, sizeof(le), "%g", metrics_buckets[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		if (evbuffer_add_printf(out,
			"agw_request_duration_seconds_bucket{le=\"%s\"} "
			"%llu\n",
			le, (unsigned long long)cum) < 0)
			goto unlock;
	}
	if (evbuffer_add_printf(out,
		"agw_request_duration_seconds_sum %.6f\n"
		"agw_request_duration_seconds_count %llu\n",
		hsum, (unsigned long long)hcount) < 0)
		goto unlock;
	rc = 0;
unlock:
	pthread_mutex_unlock(&m->intern_lock);
out:
	free(all);
	return rc;
}
