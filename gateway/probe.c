#include "probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "gateway.h"
#include "http.h"
#include "log.h"
#include "reason.h"
#include "sni.h"
#include "upstream.h"
#include "verify.h"
#include "worker.h"

/* --- pure parts ----------------------------------------------------------- */

void
probe_params(const struct config *c, const struct config_settings *s,
    struct probe_params *out)
{
	const struct config_probe *p = NULL;

	if (s->probe >= 0 && (size_t)s->probe < c->nprobes)
		p = &c->probes[s->probe];
	memset(out, 0, sizeof(*out));
	out->custom = p;
	if (p == NULL) {
		out->protocol = s->protocol;
		out->port = s->port;
		out->path = PROBE_DEFAULT_PATH;
		out->interval = PROBE_DEFAULT_INTERVAL_S;
		out->timeout = PROBE_DEFAULT_TIMEOUT_S;
		out->threshold = PROBE_DEFAULT_THRESHOLD;
		return;
	}
	out->protocol = p->protocol;
	out->port = p->port > 0 && c->sku == CONFIG_SKU_V2 ? p->port : s->port;
	out->path = p->path != NULL && p->path[0] != '\0' ? p->path
							   : PROBE_DEFAULT_PATH;
	out->interval = p->interval > 0 ? p->interval : PROBE_DEFAULT_INTERVAL_S;
	out->timeout = p->timeout > 0 ? p->timeout : PROBE_DEFAULT_TIMEOUT_S;
	out->threshold = p->unhealthy_threshold > 0 ? p->unhealthy_threshold
						    : PROBE_DEFAULT_THRESHOLD;
	out->min_servers = p->min_servers > 0 ? p->min_servers : 0;
	out->match = &p->match;
}

int
probe_status_match(const struct config_match *m, int status)
{
	size_t i;

	if (m == NULL || m->nstatus == 0)
		return status >= 200 && status <= 399;
	for (i = 0; i < m->nstatus; i++)
		if (status >= m->status[i].lo && status <= m->status[i].hi)
			return 1;
	return 0;
}

const char *
probe_expected_str(const struct config_match *m, char *buf, size_t len)
{
	size_t i, off = 0;
	int n;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (m == NULL || m->nstatus == 0) {
		snprintf(buf, len, "200-399");
		return buf;
	}
	for (i = 0; i < m->nstatus && off < len; i++) {
		if (m->status[i].lo == m->status[i].hi)
			n = snprintf(buf + off, len - off, "%s%d",
			    i > 0 ? "," : "", m->status[i].lo);
		else
			n = snprintf(buf + off, len - off, "%s%d-%d",
			    i > 0 ? "," : "", m->status[i].lo,
			    m->status[i].hi);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	return buf;
}

int
probe_body_match(const struct config_match *m, const char *body, size_t len)
{
	size_t n, i;

	if (m == NULL || m->body == NULL || m->body[0] == '\0')
		return 1;
	n = strlen(m->body);
	if (body == NULL || n > len)
		return 0;
	for (i = 0; i + n <= len; i++)
		if (memcmp(body + i, m->body, n) == 0)
			return 1;
	return 0;
}

int
probe_scaled_ms(int seconds, double scale)
{
	double ms = (double)seconds * scale * 1000.0;

	if (!(ms >= 1.0))
		return 1;
	if (ms > 86400.0 * 1000.0)
		return 86400 * 1000;
	return (int)ms;
}

enum health_state
probe_count_result(struct probe_count *pc, int ok, int threshold)
{
	if (ok) {
		pc->healthy_once = 1;
		pc->failures = 0;
		pc->state = HEALTH_HEALTHY;
		return pc->state;
	}
	pc->failures++;
	if (!pc->healthy_once || pc->failures >= threshold ||
	    pc->state != HEALTH_HEALTHY)
		pc->state = HEALTH_UNHEALTHY;
	return pc->state;
}

int
probe_next_delay_ms(enum config_sku sku, const struct probe_count *pc,
    int ok, const struct probe_params *pp, double scale)
{
	if (sku == CONFIG_SKU_V1 && !ok && pc->state == HEALTH_HEALTHY)
		return probe_scaled_ms(PROBE_V1_RETRY_S, scale);
	return probe_scaled_ms(pp->interval, scale);
}

size_t
probe_min_servers(const enum health_state *raw, size_t n, int min,
    enum health_state *out)
{
	size_t i, healthy = 0, forced = 0;

	for (i = 0; i < n; i++) {
		out[i] = raw[i];
		if (raw[i] == HEALTH_HEALTHY)
			healthy++;
	}
	for (i = 0; i < n && min > 0 && healthy < (size_t)min; i++) {
		if (out[i] == HEALTH_HEALTHY)
			continue;
		out[i] = HEALTH_HEALTHY;
		healthy++;
		forced++;
	}
	return forced;
}

/* --- the prober ----------------------------------------------------------- */

enum probe_phase { PROBE_IDLE, PROBE_CONNECTING, PROBE_HEAD, PROBE_BODY };

struct probe_pair {
	struct prober *pr;
	int pool, member, settings;	/* indexes into pr->rt->cfg */
	const char *pool_name, *address, *settings_name; /* borrowed */
	size_t group;			/* first pair of its (pool, settings) */
	size_t ngroup;			/* pairs in the group (on the first) */
	struct health_entry *he;
	struct probe_params params;
	struct sni_names names;
	struct probe_count count;
	enum reason_code reason;	/* the last outcome */
	char text[512];
	enum probe_phase phase;
	struct event *timer;		/* next probe, or the deadline */
	struct upstream_conn *uc;
	struct http_parser resp;
	int resp_init;
	struct evbuffer *body;
	int settled;			/* had its first outcome */
};

struct prober {
	struct gateway *gw;
	struct runtime *rt;
	struct verify_policy **policies; /* per setting: Https probes of
					  * Http settings */
	struct probe_pair *pairs;
	size_t npairs;
	/* start-up: told once every pair has a first outcome */
	void (*settled_cb)(void *);
	void *settled_arg;
	struct event *settle_timer;
	size_t unsettled;
};

static void probe_start(struct probe_pair *pp);

struct prober *
probe_new(struct gateway *gw)
{
	struct prober *pr;

	if ((pr = calloc(1, sizeof(*pr))) == NULL)
		return NULL;
	pr->gw = gw;
	return pr;
}

size_t
probe_npairs(const struct prober *pr)
{
	return pr != NULL ? pr->npairs : 0;
}

/* End the exchange in progress, if any. */
static void
probe_cancel(struct probe_pair *pp)
{
	upstream_free(pp->uc);
	pp->uc = NULL;
	if (pp->resp_init)
		http_parser_clear(&pp->resp);
	pp->resp_init = 0;
	if (pp->body != NULL)
		evbuffer_free(pp->body);
	pp->body = NULL;
	pp->phase = PROBE_IDLE;
}

static void
probe_pairs_free(struct probe_pair *pairs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		probe_cancel(&pairs[i]);
		if (pairs[i].timer != NULL)
			event_free(pairs[i].timer);
	}
	free(pairs);
}

static void
probe_policies_free(struct verify_policy **policies, size_t n)
{
	size_t i;

	if (policies == NULL)
		return;
	for (i = 0; i < n; i++)
		verify_policy_free(policies[i]);
	free(policies);
}

/* Tell the start-up callback, once. */
static void
probe_settle(struct prober *pr)
{
	void (*cb)(void *) = pr->settled_cb;

	pr->settled_cb = NULL;
	if (pr->settle_timer != NULL)
		event_del(pr->settle_timer);
	if (cb != NULL)
		cb(pr->settled_arg);
}

static void
probe_settle_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	probe_settle(arg);
}

int
probe_on_settled(struct prober *pr, int max_ms, void (*cb)(void *),
    void *arg)
{
	struct timeval tv = { max_ms / 1000, (max_ms % 1000) * 1000 };

	if (pr->settle_timer == NULL &&
	    (pr->settle_timer = evtimer_new(pr->gw->base,
		 probe_settle_timer_cb, pr)) == NULL)
		return -1;
	pr->settled_cb = cb;
	pr->settled_arg = arg;
	return evtimer_add(pr->settle_timer, &tv);
}

void
probe_free(struct prober *pr)
{
	if (pr == NULL)
		return;
	if (pr->settle_timer != NULL)
		event_free(pr->settle_timer);
	probe_pairs_free(pr->pairs, pr->npairs);
	if (pr->rt != NULL) {
		probe_policies_free(pr->policies, pr->rt->cfg->nsettings);
		worker_runtime_unref(pr->rt);
	}
	free(pr);
}

/* Publish the group of pp (minServers) to the health table. */
static void
probe_publish(struct prober *pr, struct probe_pair *pp)
{
	struct probe_pair *first = &pr->pairs[pp->group], *q;
	enum health_state raw[64], out[64];
	char unknown[512];
	size_t i, n = first->ngroup;
	int min = first->params.min_servers;

	if (n > 64)
		min = 0; /* emulator limit: minServers over 64 members */
	memset(raw, 0, sizeof(raw));
	for (i = 0; i < n && i < 64; i++)
		raw[i] = first[i].count.state;
	memcpy(out, raw, sizeof(out));
	if (min > 0)
		(void)probe_min_servers(raw, n, min, out);
	for (i = 0; i < n; i++) {
		q = &first[i];
		if (min <= 0 && q != pp)
			continue;
		if (q->count.state == HEALTH_UNKNOWN && !q->text[0]) {
			/* not probed yet: Unknown, unless minServers
			 * forces it */
			health_entry_set(pr->gw->health, q->he, out[i],
			    REASON_UNKNOWN,
			    reason_text(REASON_UNKNOWN, NULL, unknown,
				sizeof(unknown)));
			continue;
		}
		health_entry_set(pr->gw->health, q->he,
		    min > 0 ? out[i] : q->count.state, q->reason, q->text);
	}
}

/* The probe of pp ended with reason (REASON_OK: success). */
static void
probe_done(struct probe_pair *pp, enum reason_code reason,
    const struct reason_args *args)
{
	struct prober *pr = pp->pr;
	int ok = reason == REASON_OK;
	int was_healthy = pp->count.state == HEALTH_HEALTHY;
	struct timeval tv;
	int ms;

	probe_cancel(pp);
	pp->reason = reason;
	reason_text(reason, args, pp->text, sizeof(pp->text));
	probe_count_result(&pp->count, ok, pp->params.threshold);
	log_debug("probe %s/%s/%s: %s", pp->pool_name, pp->address,
	    pp->settings_name, reason_name(reason));
	if (!ok && was_healthy)
		log_info("probe %s/%s/%s: failure %d/%d (reason %s)",
		    pp->pool_name, pp->address, pp->settings_name,
		    pp->count.failures, pp->params.threshold,
		    reason_name(reason));
	/* Below the threshold a healthy member keeps its success text. */
	if (ok || pp->count.state != HEALTH_HEALTHY)
		probe_publish(pr, pp);
	if (!pp->settled) {
		pp->settled = 1;
		if (pr->unsettled > 0 && --pr->unsettled == 0 &&
		    pr->settled_cb != NULL)
			probe_settle(pr);
	}
	ms = probe_next_delay_ms(pr->rt->cfg->sku, &pp->count, ok,
	    &pp->params, pr->gw->opts.probe_scale);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(pp->timer, &tv);
}

static void
probe_fail(struct probe_pair *pp, enum reason_code reason)
{
	probe_done(pp, reason, NULL);
}

/* The response head (and body, when matched) is complete. */
static void
probe_judge(struct probe_pair *pp)
{
	const struct config_match *m = pp->params.match;
	struct reason_args args;
	char expected[256];
	size_t len;
	const char *body;

	memset(&args, 0, sizeof(args));
	args.received = pp->resp.msg.status;
	if (!probe_status_match(m, pp->resp.msg.status)) {
		args.expected = probe_expected_str(m, expected,
		    sizeof(expected));
		probe_done(pp, REASON_STATUS_MISMATCH, &args);
		return;
	}
	if (m != NULL && m->body != NULL && m->body[0] != '\0') {
		len = pp->body != NULL ? evbuffer_get_length(pp->body) : 0;
		body = len > 0 ? (const char *)evbuffer_pullup(pp->body, -1)
			       : NULL;
		if (!probe_body_match(m, body, len)) {
			args.body = m->body;
			probe_done(pp, REASON_BODY_MISMATCH, &args);
			return;
		}
	}
	probe_done(pp, REASON_OK, &args);
}

static int
probe_wants_body(const struct probe_pair *pp)
{
	const struct config_match *m = pp->params.match;

	return m != NULL && m->body != NULL && m->body[0] != '\0';
}

/* Read what arrived; returns after the probe ended or needs more. */
static void
probe_read(struct probe_pair *pp, int eof)
{
	struct evbuffer *in = bufferevent_get_input(pp->uc->bev);
	int rc;

	while (pp->phase == PROBE_HEAD) {
		rc = http_parse_head(&pp->resp, in);
		if (rc == HTTP_AGAIN) {
			if (eof) {
				probe_fail(pp, evbuffer_get_length(in) > 0 ||
					    pp->resp.msg.status != 0
					? REASON_UPSTREAM_INVALID
					: REASON_UPSTREAM_RESET);
			}
			return;
		}
		if (rc != HTTP_OK) {
			probe_fail(pp, REASON_UPSTREAM_INVALID);
			return;
		}
		if (pp->resp.msg.status >= 100 && pp->resp.msg.status < 200) {
			http_parser_reset(&pp->resp);
			continue;
		}
		if (!probe_wants_body(pp) ||
		    !probe_status_match(pp->params.match,
			pp->resp.msg.status)) {
			probe_judge(pp);
			return;
		}
		if ((pp->body = evbuffer_new()) == NULL) {
			probe_fail(pp, REASON_UPSTREAM_INVALID);
			return;
		}
		pp->phase = PROBE_BODY;
	}
	if (pp->phase != PROBE_BODY)
		return;
	rc = http_parse_body(&pp->resp, in, pp->body, 0);
	if (rc == HTTP_OK || evbuffer_get_length(pp->body) >= PROBE_BODY_MAX ||
	    (eof && http_parse_eof(&pp->resp) == HTTP_OK)) {
		probe_judge(pp);
		return;
	}
	if (rc < 0 || eof)
		probe_fail(pp, REASON_UPSTREAM_INVALID);
}

static void
probe_readcb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	probe_read(arg, 0);
}

static void
probe_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct probe_pair *pp = arg;

	(void)bev;
	if (what & BEV_EVENT_EOF) {
		probe_read(pp, 1);
		return;
	}
	if (pp->phase == PROBE_HEAD &&
	    evbuffer_get_length(bufferevent_get_input(pp->uc->bev)) == 0)
		probe_fail(pp, REASON_UPSTREAM_RESET);
	else
		probe_read(pp, 1);
}

static void
probe_connected(struct upstream_conn *uc, enum reason_code reason,
    int error_code, void *arg)
{
	struct probe_pair *pp = arg;
	struct reason_args args;
	struct evbuffer *out;
	const char *ua;

	if (reason != REASON_OK) {
		if (reason == REASON_UPSTREAM_TIMEOUT)
			reason = REASON_PROBE_TIMEOUT;
		memset(&args, 0, sizeof(args));
		args.error_code = error_code;
		probe_done(pp, reason, &args);
		return;
	}
	out = bufferevent_get_output(pp->uc->bev);
	ua = pp->pr->rt->cfg->sku == CONFIG_SKU_V1
	    ? "Microsoft-Azure-Application-Gateway/v1-probe"
	    : "Microsoft-Azure-Application-Gateway/v2-probe";
	if (http_write_request_line(out, "GET", pp->params.path, 1) != 0 ||
	    http_write_header(out, "Host", pp->names.host) != 0 ||
	    http_write_header(out, "User-Agent", ua) != 0 ||
	    http_write_header(out, "Connection", "close") != 0 ||
	    http_write_end_head(out) != 0) {
		probe_fail(pp, REASON_UPSTREAM_INVALID);
		return;
	}
	http_parser_init(&pp->resp, HTTP_RESPONSE, NULL);
	pp->resp_init = 1;
	pp->phase = PROBE_HEAD;
	bufferevent_setcb(pp->uc->bev, probe_readcb, NULL, probe_eventcb, pp);
	bufferevent_enable(pp->uc->bev, EV_READ | EV_WRITE);
}

/* The pair's timer: start a probe when idle, else the deadline passed. */
static void
probe_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe_pair *pp = arg;

	(void)fd;
	(void)what;
	if (pp->phase != PROBE_IDLE) {
		probe_fail(pp, REASON_PROBE_TIMEOUT);
		return;
	}
	probe_start(pp);
}

static void
probe_start(struct probe_pair *pp)
{
	struct prober *pr = pp->pr;
	struct runtime *rt = pr->rt;
	struct runtime_member *m = &rt->members[pp->pool][pp->member];
	struct upstream_target t;
	struct net_addr addr;
	struct timeval tv;
	int ms = probe_scaled_ms(pp->params.timeout,
	    pr->gw->opts.probe_scale);

	if (m->resolved)
		addr = m->addr;
	else if (worker_resolve(pr->gw, pp->address, &addr) != 0) {
		probe_fail(pp, REASON_DNS);
		return;
	}
	if (addr.ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&addr.ss)->sin6_port =
		    htons((uint16_t)pp->params.port);
	else
		((struct sockaddr_in *)&addr.ss)->sin_port =
		    htons((uint16_t)pp->params.port);
	memset(&t, 0, sizeof(t));
	t.addr = &addr;
	t.sku = rt->cfg->sku;
	if (pp->params.protocol == CONFIG_PROTO_HTTPS) {
		t.ctx = rt->client_ctx;
		t.policy = rt->policies[pp->settings] != NULL
		    ? rt->policies[pp->settings]
		    : pr->policies[pp->settings];
		t.sni = pp->names.sni;
		t.verify_name = pp->names.verify_name;
	}
	t.timeout_ms = ms;
	t.rt = rt;
	t.pool = pp->pool;
	t.member = -1; /* never pooled */
	t.settings = pp->settings;
	pp->phase = PROBE_CONNECTING;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(pp->timer, &tv);
	pp->uc = upstream_connect(pr->gw->base, &t, probe_connected, pp);
	if (pp->uc == NULL)
		probe_fail(pp, REASON_CONNECT);
}

/* The pair of the old set with the same names, or NULL. */
static const struct probe_pair *
probe_find(const struct probe_pair *pairs, size_t n, const char *pool,
    const char *member, const char *settings)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(pairs[i].pool_name, pool) == 0 &&
		    strcmp(pairs[i].address, member) == 0 &&
		    strcmp(pairs[i].settings_name, settings) == 0)
			return &pairs[i];
	return NULL;
}

/* Count from the table when a pair is new (e.g. the first runtime). */
static void
probe_count_from_table(struct probe_pair *pp)
{
	enum health_state st = health_entry_state(pp->he);

	memset(&pp->count, 0, sizeof(pp->count));
	if (st == HEALTH_HEALTHY) {
		pp->count.healthy_once = 1;
		pp->count.state = HEALTH_HEALTHY;
	} else if (st == HEALTH_UNHEALTHY) {
		pp->count.state = HEALTH_UNHEALTHY;
	}
}

int
probe_configure(struct prober *pr, struct runtime *rt)
{
	const struct config *c = rt->cfg;
	struct probe_pair *pairs = NULL, *pp;
	const struct probe_pair *old;
	struct verify_policy **policies = NULL;
	unsigned char *used = NULL;
	size_t i, j, k, n = 0, cap = 0, first;
	struct probe_params params;

	used = calloc(c->npools * c->nsettings + 1, 1);
	policies = calloc(c->nsettings + 1, sizeof(*policies));
	if (used == NULL || policies == NULL)
		goto fail;
	health_pairs_used(c, used);
	for (i = 0; i < c->npools; i++)
		for (j = 0; j < c->nsettings; j++)
			if (used[i * c->nsettings + j])
				cap += c->pools[i].nmembers;
	if ((pairs = calloc(cap + 1, sizeof(*pairs))) == NULL)
		goto fail;
	for (j = 0; j < c->nsettings; j++) {
		probe_params(c, &c->settings[j], &params);
		if (params.protocol != CONFIG_PROTO_HTTPS ||
		    rt->policies[j] != NULL)
			continue;
		policies[j] = verify_policy_new(c, &c->settings[j],
		    pr->gw->well_known);
		if (policies[j] == NULL)
			goto fail;
	}
	for (i = 0; i < c->npools; i++) {
		const struct config_pool *pool = &c->pools[i];

		for (j = 0; j < c->nsettings; j++) {
			const struct config_settings *s = &c->settings[j];

			if (!used[i * c->nsettings + j])
				continue;
			first = n;
			for (k = 0; k < pool->nmembers; k++) {
				const struct config_member *mb =
				    &pool->members[k];

				if (probe_find(pairs + first, n - first,
					pool->name, mb->address, s->name) !=
				    NULL)
					continue; /* a duplicate address */
				pp = &pairs[n++];
				pp->pr = pr;
				pp->pool = (int)i;
				pp->member = (int)k;
				pp->settings = (int)j;
				pp->pool_name = pool->name;
				pp->address = mb->address;
				pp->settings_name = s->name;
				pp->group = first;
				probe_params(c, s, &pp->params);
				sni_probe(c->sku, s, pp->params.custom, mb,
				    &pp->names);
				pp->he = health_entry(pr->gw->health,
				    pool->name, mb->address, s->name);
				pp->timer = evtimer_new(pr->gw->base,
				    probe_timer_cb, pp);
				if (pp->he == NULL || pp->timer == NULL)
					goto fail;
				old = pr->pairs != NULL
				    ? probe_find(pr->pairs, pr->npairs,
					  pool->name, mb->address, s->name)
				    : NULL;
				if (old != NULL) {
					pp->count = old->count;
					pp->reason = old->reason;
					memcpy(pp->text, old->text,
					    sizeof(pp->text));
				} else
					probe_count_from_table(pp);
			}
			pairs[first].ngroup = n - first;
		}
	}
	/* The switch: the old pairs (and their probes) go. */
	probe_pairs_free(pr->pairs, pr->npairs);
	if (pr->rt != NULL) {
		probe_policies_free(pr->policies, pr->rt->cfg->nsettings);
		worker_runtime_unref(pr->rt);
	}
	pr->rt = worker_runtime_ref(rt);
	pr->policies = policies;
	pr->pairs = pairs;
	pr->npairs = n;
	pr->unsettled = n;
	free(used);
	log_info("probing %zu backend pairs (generation %u)", n,
	    rt->generation);
	for (i = 0; i < n; i++)
		probe_start(&pairs[i]);
	if (n == 0 && pr->settled_cb != NULL)
		probe_settle(pr);
	return 0;
fail:
	log_err("probes: out of memory");
	if (pairs != NULL)
		probe_pairs_free(pairs, n);
	probe_policies_free(policies, c->nsettings);
	free(used);
	return -1;
}
