/*
 * route: listener, rule, path rule, pool and setting of one request (see
 * route.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "route.h"

/* Host names longer than this do not match anything (RFC 1035: 253). */
#define ROUTE_HOST_MAX 256

int
route_host_match(const char *pattern, const char *name)
{
	const char *star_p = NULL, *star_n = NULL;

	/* Iterative glob with one backtrack point: linear in practice and
	 * never recursive, whatever a client sends. */
	while (*name != '\0') {
		if (*pattern == '*') {
			star_p = ++pattern;
			star_n = name;
		} else if (*pattern == '?' ||
		    tolower((unsigned char)*pattern) ==
			tolower((unsigned char)*name)) {
			pattern++;
			name++;
		} else if (star_p != NULL) {
			pattern = star_p;
			name = ++star_n;
		} else
			return 0;
	}
	while (*pattern == '*')
		pattern++;
	return *pattern == '\0';
}

/* Copy the host part of a Host header (or an SNI) into buf: the port and
 * a trailing dot removed, brackets of an IPv6 literal kept. Returns buf,
 * or NULL when there is nothing usable. */
static const char *
route_host_clean(const char *host, char *buf, size_t len)
{
	size_t n;
	const char *end;

	if (host == NULL)
		return NULL;
	while (*host == ' ' || *host == '\t')
		host++;
	if (*host == '[') {
		if ((end = strchr(host, ']')) == NULL)
			return NULL;
		end++;
	} else if ((end = strchr(host, ':')) == NULL)
		end = host + strlen(host);
	while (end > host && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end > host && end[-1] == '.')
		end--;
	n = (size_t)(end - host);
	if (n == 0 || n >= len)
		return NULL;
	memcpy(buf, host, n);
	buf[n] = '\0';
	return buf;
}

static int
route_listener_names_match(const struct config_listener *l, const char *name)
{
	size_t i;

	if (name == NULL)
		return 0;
	for (i = 0; i < l->nhost_names; i++)
		if (route_host_match(l->host_names[i], name))
			return 1;
	return 0;
}

/* Visit the listeners of frontend port fp in rule order (rules are sorted
 * by priority on v2), then those no rule references, in list order; each
 * once. Calls fn until it returns >= 0; returns that, or -1. */
static int
route_listener_visit(const struct config *c, int fp,
    int (*fn)(const struct config *c, int li, void *arg), void *arg)
{
	size_t i, j;
	int li, r, seen;

	for (i = 0; i < c->nrules; i++) {
		li = c->rules[i].listener;
		if (li < 0 || (size_t)li >= c->nlisteners ||
		    c->listeners[li].frontend_port != fp)
			continue;
		/* Skip a listener an earlier rule already visited. */
		for (seen = 0, j = 0; j < i && !seen; j++)
			seen = c->rules[j].listener == li;
		if (!seen && (r = fn(c, li, arg)) >= 0)
			return r;
	}
	for (i = 0; i < c->nlisteners; i++) {
		if (c->listeners[i].frontend_port != fp)
			continue;
		for (seen = 0, j = 0; j < c->nrules && !seen; j++)
			seen = c->rules[j].listener == (int)i;
		if (!seen && (r = fn(c, (int)i, arg)) >= 0)
			return r;
	}
	return -1;
}

struct route_visit {
	int multisite;		/* this pass: 1 multi-site, 0 basic */
	const char *name;	/* the name matched against host names */
	const char *sni;	/* cleaned SNI, or NULL */
	enum route_status status;
};

static int
route_listener_try(const struct config *c, int li, void *arg)
{
	struct route_visit *v = arg;
	const struct config_listener *l = &c->listeners[li];
	int multisite = l->nhost_names > 0;

	if (multisite != v->multisite)
		return -1;
	if (multisite && !route_listener_names_match(l, v->name))
		return -1;
	if (l->protocol == CONFIG_PROTO_HTTPS && l->require_sni &&
	    (v->sni == NULL ||
		(multisite && !route_listener_names_match(l, v->sni)))) {
		v->status = ROUTE_SNI_REQUIRED;
		return -1;
	}
	return li;
}

int
route_listener(const struct config *c, int frontend_port, const char *sni,
    const char *host, enum route_status *status)
{
	char hbuf[ROUTE_HOST_MAX], sbuf[ROUTE_HOST_MAX];
	struct route_visit v;
	int li;

	v.sni = route_host_clean(sni, sbuf, sizeof(sbuf));
	v.name = route_host_clean(host, hbuf, sizeof(hbuf));
	if (v.name == NULL)
		v.name = v.sni;
	v.status = ROUTE_NO_LISTENER;
	v.multisite = 1;
	li = route_listener_visit(c, frontend_port, route_listener_try, &v);
	if (li < 0 && v.status == ROUTE_NO_LISTENER) {
		v.multisite = 0;
		li = route_listener_visit(c, frontend_port,
		    route_listener_try, &v);
	}
	if (status != NULL)
		*status = li >= 0 ? ROUTE_OK : v.status;
	return li;
}

/* Does pattern match path (path_len bytes, no query)? Returns the bytes the
 * pattern consumed plus one (so 0 means no match), and sets *exact. */
static size_t
route_path_match(const char *pattern, const char *path, size_t path_len,
    int *exact)
{
	size_t plen = strlen(pattern);

	if (plen > 0 && pattern[plen - 1] == '*') {
		*exact = 0;
		plen--; /* drop the trailing star: a prefix */
		if (path_len >= plen && memcmp(path, pattern, plen) == 0)
			return plen + 1;
		return 0;
	}
	*exact = 1;
	if (path_len == plen && memcmp(path, pattern, plen) == 0)
		return plen + 1;
	return 0;
}

/* Fill pool, settings, path_rule, path and consumed from path map m. */
static void
route_path_map(const struct config *c, const struct config_path_map *m,
    const char *target, struct route_result *out)
{
	size_t path_len = strcspn(target, "?#");
	size_t i, j, got;
	int exact, best_rule = -1, best_path = -1;
	size_t best_consumed = 0;

	for (i = 0; i < m->nrules; i++) {
		for (j = 0; j < m->rules[i].npaths; j++) {
			got = route_path_match(m->rules[i].paths[j], target,
			    path_len, &exact);
			if (got == 0)
				continue;
			/* v1: the first match in list order. v2: the first
			 * exact match, else the first wildcard match. */
			if (best_rule < 0 || exact) {
				best_rule = (int)i;
				best_path = (int)j;
				best_consumed = got - 1;
			}
			if (c->sku == CONFIG_SKU_V1 || exact)
				goto done;
		}
	}
done:
	if (best_rule >= 0) {
		out->path_rule = best_rule;
		out->path = best_path;
		out->pool = m->rules[best_rule].pool;
		out->settings = m->rules[best_rule].settings;
		out->consumed = best_consumed;
	} else {
		out->pool = m->default_pool;
		out->settings = m->default_settings;
	}
}

enum route_status
route_match(const struct config *c, int frontend_port, const char *sni,
    const char *host, const char *target, struct route_result *out)
{
	enum route_status st;
	size_t i;

	out->listener = out->rule = out->path_map = out->path_rule = -1;
	out->path = out->pool = out->settings = -1;
	out->consumed = 0;
	if (target == NULL)
		target = "/";
	if ((out->listener = route_listener(c, frontend_port, sni, host,
		 &st)) < 0)
		return st;
	/* Rules are in priority order on v2, list order on v1. */
	for (i = 0; i < c->nrules; i++)
		if (c->rules[i].listener == out->listener)
			break;
	if (i == c->nrules)
		return ROUTE_NO_RULE;
	out->rule = (int)i;
	if (c->rules[i].type == CONFIG_RULE_BASIC) {
		out->pool = c->rules[i].pool;
		out->settings = c->rules[i].settings;
	} else {
		out->path_map = c->rules[i].path_map;
		if (out->path_map < 0 ||
		    (size_t)out->path_map >= c->npath_maps)
			return ROUTE_NO_POOL;
		route_path_map(c, &c->path_maps[out->path_map], target, out);
	}
	if (out->pool < 0 || (size_t)out->pool >= c->npools ||
	    out->settings < 0 || (size_t)out->settings >= c->nsettings)
		return ROUTE_NO_POOL;
	return ROUTE_OK;
}

int
route_upstream_path(const struct config *c, const struct route_result *r,
    const char *target, char *buf, size_t len)
{
	const char *override = NULL, *rest;
	size_t olen;
	int n;

	if (r->settings >= 0 && (size_t)r->settings < c->nsettings)
		override = c->settings[r->settings].path;
	if (override == NULL || *override == '\0') {
		n = snprintf(buf, len, "%s", target);
		return n < 0 || (size_t)n >= len ? -1 : n;
	}
	rest = target + (r->consumed <= strlen(target) ? r->consumed : 0);
	olen = strlen(override);
	/* Exactly one '/' between the override and the rest. */
	if (override[olen - 1] == '/') {
		if (*rest == '/')
			rest++;
		n = snprintf(buf, len, "%s%s", override, rest);
	} else if (*rest == '/' || *rest == '\0' || *rest == '?')
		n = snprintf(buf, len, "%s%s", override, rest);
	else
		n = snprintf(buf, len, "%s/%s", override, rest);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

const char *
route_status_name(enum route_status st)
{
	switch (st) {
	case ROUTE_OK:
		return "ok";
	case ROUTE_NO_LISTENER:
		return "no_listener";
	case ROUTE_SNI_REQUIRED:
		return "sni_required";
	case ROUTE_NO_RULE:
		return "no_rule";
	case ROUTE_NO_POOL:
		return "no_pool";
	}
	return "unknown";
}
