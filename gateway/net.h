/*
 * net: sockets and addresses shared by the gateway, the sim and the tools:
 * parsing "ADDR:PORT", binding non-blocking listeners, and ready files.
 */
#ifndef AGW_NET_H
#define AGW_NET_H

#include <stddef.h>
#include <sys/socket.h>

struct event_base;
struct evhttp_request;

struct net_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* Parse "127.0.0.1:8080", "[::1]:8080", "localhost:0" or, with
 * default_port >= 0, a bare address. Numeric addresses only, except
 * "localhost". Returns 0, or -1 with err set. */
int net_addr_parse(const char *s, int default_port, struct net_addr *out,
    char *err, size_t errlen);
/* Format an address as "127.0.0.1:8080" / "[::1]:8080" into buf. */
const char *net_addr_str(const struct net_addr *a, char *buf, size_t len);
/* The port of an address. */
int net_addr_port(const struct net_addr *a);
/* True when the address is on loopback (127.0.0.0/8 or ::1). */
int net_addr_is_loopback(const struct net_addr *a);
/* True when s is an IPv4 or IPv6 literal (RFC 6066: never sent as SNI). */
int net_is_ip_literal(const char *s);

#define NET_LISTEN_REUSEPORT 0x1
/* The first socket of a SO_REUSEPORT group: fail, as a plain bind would,
 * when anybody (another process with SO_REUSEPORT too) already listens
 * on the address, instead of silently sharing its connections. (A check
 * bind without SO_REUSEPORT, then the real one: a process that binds in
 * between, as the same user with SO_REUSEPORT, still joins.) */
#define NET_LISTEN_FIRST 0x2

/* A bound, listening, non-blocking, close-on-exec socket; the bound address
 * (with the real port when 0 was asked) is written back to *a. Returns the
 * fd, or -1 with err naming the address ("127.0.1.1:443: Address already in
 * use"). */
int net_listen(struct net_addr *a, int flags, int backlog, char *err,
    size_t errlen);

/* Write text to path atomically, so a waiting reader never sees half of it.
 * Returns 0, or -1 with err set. */
int net_write_ready_file(const char *path, const char *text, char *err,
    size_t errlen);

/* Answer an evhttp request (the admin API, the sim's control API) with
 * doc (stolen; NULL: a 500) as JSON dumped with json_flags (jansson's
 * JSON_INDENT, JSON_PRESERVE_ORDER...), a final newline and
 * Content-Type: application/json. */
void net_http_reply_json(struct evhttp_request *req, int code, void *doc,
    size_t json_flags);

/* An event loop whose timers keep their promise of "at least": on the
 * precise monotonic clock (libevent's default, CLOCK_MONOTONIC_COARSE,
 * ticks in 1-4 ms, and a timer armed just before a tick can fire up to a
 * tick early), with epoll's changelist folding one pass's add/del pairs.
 * flags adds EVENT_BASE_FLAG_* (NOLOCK for a loop one thread owns).
 * NULL when out of memory. */
struct event_base *net_base_new(int flags);

#endif
