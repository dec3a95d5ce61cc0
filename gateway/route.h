/*
 * route: pick the listener, the rule, the pool and the HTTP setting of one
 * request from an immutable configuration snapshot. Pure functions over a
 * struct config: no state, safe from any worker thread.
 *
 * Listener: among the listeners bound to the frontend port the connection
 * arrived on, multi-site listeners (hostName / hostNames, wildcards '*' and
 * '?' allowed, case-insensitive) are tried before basic ones, each group in
 * rule order (v2: rule priority, v1: requestRoutingRules order; listeners
 * that no rule references come last, in list order). The name matched is
 * the request's Host (port and a trailing dot stripped), or the TLS SNI when
 * the request has no Host.
 * requireServerNameIndication (Https listeners): a connection without SNI,
 * or whose SNI does not match the listener's host names, is refused by that
 * listener (emulator choice: ROUTE_SNI_REQUIRED when that listener would
 * otherwise have matched; the gateway answers 421 or closes).
 *
 * Rule: the first rule bound to the listener (v2 by priority, v1 in order).
 * PathBasedRouting: the request path without its query is matched against
 * the path map's pathRules. Patterns ending in '*' (written "/a/" + '*'
 * below) match every path that starts with the part before the '*' (so
 * "/" + '*' matches everything); any other pattern only the exact path
 * (case-sensitive: emulator choice). v1: the first matching pattern in list
 * order (rule by rule, path by path); v2: an exact pattern anywhere in the
 * map wins over wildcards, then list order. No match: the map's default
 * pool and setting.
 *
 * No route (no listener, no rule, a path rule without a pool): the gateway
 * answers 404 with its own page (emulator choice).
 */
#ifndef AGW_ROUTE_H
#define AGW_ROUTE_H

#include <stddef.h>

#include "config.h"

enum route_status {
	ROUTE_OK = 0,
	ROUTE_NO_LISTENER,	/* no listener on that port takes this host: 404 */
	ROUTE_SNI_REQUIRED,	/* requireServerNameIndication and no (matching) SNI */
	ROUTE_NO_RULE,		/* the listener has no rule: 404 */
	ROUTE_NO_POOL		/* the matched rule or path rule has no pool: 404 */
};

/* The outcome of route_match. Indexes into the snapshot's arrays, -1 when
 * absent. */
struct route_result {
	int listener;
	int rule;
	int path_map;	/* PathBasedRouting: index, else -1 */
	int path_rule;	/* index into the map's rules; -1: Basic or map default */
	int path;	/* index into that path rule's paths, or -1 */
	int pool;
	int settings;
	/* Bytes of the request path the matched pattern consumed, for the
	 * setting's path override (see route_upstream_path): the pattern
	 * without its '*' for a wildcard, the whole path for an exact pattern, 0
	 * for Basic rules and map defaults. */
	size_t consumed;
};

/*
 * The listener a connection or request belongs to: frontend_port is the
 * index into c->frontend_ports the connection arrived on, sni the TLS
 * server name (NULL: none, or plain Http), host the Host header (NULL:
 * none; a port and a trailing dot are ignored). Returns the listener index,
 * or -1 with *status set (ROUTE_NO_LISTENER or ROUTE_SNI_REQUIRED); status
 * may be NULL. Use it with host == NULL at TLS handshake time to choose the
 * listener's sslCertificate by SNI.
 */
int route_listener(const struct config *c, int frontend_port, const char *sni,
    const char *host, enum route_status *status);

/*
 * Route one request: listener (as route_listener), rule, path rule, pool and
 * setting. target is the request target as received ("/a/b?q=1"; the query
 * is ignored for matching). Fills *out (every field, also on failure, with
 * what was found so far) and returns ROUTE_OK or the reason there is no
 * route.
 */
enum route_status route_match(const struct config *c, int frontend_port,
    const char *sni, const char *host, const char *target,
    struct route_result *out);

/*
 * The request target to send upstream. Without a setting path override:
 * target unchanged. With one (backendHttpSettings.path, AGW "override
 * backend path"): the consumed prefix is replaced by the override, one '/'
 * kept between them, the query kept:
 *   Basic, override "/o/":      "/home/x?q"   -> "/o/home/x?q"
 *   path "/pa/" + '*', "/o/":     "/pa/h.html" -> "/o/h.html"
 *   exact "/pa", override "/o/":  "/pa"        -> "/o/"
 * Writes a NUL-terminated string to buf. Returns its length, or -1 when it
 * does not fit in len bytes.
 */
int route_upstream_path(const struct config *c, const struct route_result *r,
    const char *target, char *buf, size_t len);

/* True when name (a host, case-insensitive) matches pattern, which may hold
 * '*' (any run of characters, also dots) and '?' (one character). */
int route_host_match(const char *pattern, const char *name);

/* "ok", "no_listener", "sni_required", "no_rule", "no_pool". */
const char *route_status_name(enum route_status st);

#endif
