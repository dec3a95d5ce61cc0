#include "net.h"

#include "jsonio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
net_addr_parse(const char *s, int default_port, struct net_addr *out,
    char *err, size_t errlen)
{
	char host[256];
	const char *colon, *portstr = NULL;
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
	long port;
	char *end;
	size_t hlen;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		colon = strchr(s, ']');
		if (colon == NULL)
			goto bad;
		hlen = (size_t)(colon - s - 1);
		if (hlen >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if (colon[1] == ':')
			portstr = colon + 2;
		else if (colon[1] != '\0')
			goto bad;
	} else {
		colon = strrchr(s, ':');
		if (colon != NULL && strchr(s, ':') != colon)
			colon = NULL; /* bare IPv6 */
		hlen = colon ? (size_t)(colon - s) : strlen(s);
		if (hlen >= sizeof(host))
			goto bad;
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		if (colon)
			portstr = colon + 1;
	}
	if (portstr == NULL) {
		if (default_port < 0)
			goto bad;
		port = default_port;
	} else {
		errno = 0;
		port = strtol(portstr, &end, 10);
		if (*portstr == '\0' || *end != '\0' || errno || port < 0 ||
		    port > 65535)
			goto bad;
	}
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		out->len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		out->len = sizeof(*sin6);
		return 0;
	}
bad:
	snprintf(err, errlen,
	    "\"%s\": not an address (expected ADDR:PORT, e.g. 127.0.0.1:8080)",
	    s);
	return -1;
}

const char *
net_addr_str(const struct net_addr *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 =
		    (const struct sockaddr_in6 *)&a->ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%d", host, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 =
		    (const struct sockaddr_in *)&a->ss;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%d", host, ntohs(s4->sin_port));
	}
	return buf;
}

int
net_addr_port(const struct net_addr *a)
{
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
}

int
net_addr_is_loopback(const struct net_addr *a)
{
	if (a->ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(
		    &((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
	return (ntohl(((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr) >>
		   24) == 127;
}

int
net_is_ip_literal(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

/* A bound (not yet listening) socket, or -1 with errno set. */
static int
net_bind(const struct net_addr *a, int reuseport)
{
	int fd, one = 1, e;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (reuseport &&
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) !=
		    0) ||
	    bind(fd, (const struct sockaddr *)&a->ss, a->len) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
net_listen(struct net_addr *a, int flags, int backlog, char *err,
    size_t errlen)
{
	char name[128];
	int fd = -1;

	if ((flags & NET_LISTEN_REUSEPORT) && (flags & NET_LISTEN_FIRST) &&
	    net_addr_port(a) != 0) {
		/* A socket without SO_REUSEPORT cannot join anybody's group
		 * (and SO_REUSEADDR does not pass a listening socket):
		 * binding one shows whether the address is taken. */
		if ((fd = net_bind(a, 0)) < 0)
			goto fail;
		close(fd);
	}
	if ((fd = net_bind(a, flags & NET_LISTEN_REUSEPORT)) < 0)
		goto fail;
	if (listen(fd, backlog > 0 ? backlog : 511) != 0)
		goto fail;
	a->len = sizeof(a->ss);
	if (getsockname(fd, (struct sockaddr *)&a->ss, &a->len) != 0)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "%s: %s", net_addr_str(a, name, sizeof(name)),
	    strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

int
net_write_ready_file(const char *path, const char *text, char *err,
    size_t errlen)
{
	return jsonio_write_text_atomic(path, text, err, errlen);
}

struct event_base *
net_base_new(int flags)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (cfg == NULL)
		return NULL;
	event_config_set_flag(cfg, flags | EVENT_BASE_FLAG_PRECISE_TIMER |
	    EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

void
net_http_reply_json(struct evhttp_request *req, int code, void *doc,
    size_t json_flags)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	char *text = doc != NULL ? json_dumps(doc, json_flags) : NULL;

	json_decref(doc);
	if (text == NULL || evbuffer_add(out, text, strlen(text)) != 0 ||
	    evbuffer_add(out, "\n", 1) != 0) {
		free(text);
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	free(text);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_send_reply(req, code, code < 300 ? "OK" : "Error", NULL);
}
