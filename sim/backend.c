/*
 * backend: listeners, connections and behaviours of agw-sim (see
 * backend.h). One close path per connection: conn_close(c, why).
 */
#include "backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>

#include "http.h"
#include "jsonio.h"
#include "log.h"
#include "tls.h"

#define BACKEND_CHUNK          16384
#define BACKEND_READ_HIGHWATER (256 * 1024)
#define BACKEND_ECHO_BODY      4096 /* request body bytes the echo shows */

struct backend_ctx_entry {
	char *key;
	SSL_CTX *ctx;
};

enum conn_state {
	CONN_HEAD,    /* reading a request head */
	CONN_BODY,    /* reading its body */
	CONN_RESPOND, /* a delayed or slow response is going out */
	CONN_CLOSING, /* closing once the output is flushed */
	CONN_IDLE     /* never_read / stall_handshake: nothing to do */
};

struct conn {
	LIST_ENTRY(conn) entry;
	struct backend *b;
	struct bufferevent *bev;
	SSL *ssl; /* NULL for http (owned by bev) */
	struct http_parser parser;
	enum conn_state state;
	struct event *timer;
	struct evbuffer *head;    /* a delayed response's head */
	struct evbuffer *pending; /* a delayed/slow response's body */
	size_t slow_bytes;
	int slow_interval_ms;
	int then_close; /* after the response: close */
	int cut_after;  /* truncate: close once pending is out */
	int handshaken; /* the TLS handshake completed */
	char client[64];
	char client_addr[INET6_ADDRSTRLEN];
	int client_port;
	uint64_t body_len; /* request payload bytes received */
	size_t body_kept;  /* the first ones, for the echo */
	char body[BACKEND_ECHO_BODY];
};

static void conn_process(struct conn *c);
static int conn_timer_prepare(struct conn *c, event_callback_fn cb);
static json_t *backend_last_json(
    const struct backend *b, const struct backend_last *l);

/* ---- TLS contexts ------------------------------------------------------ */

static int
backend_sni_cb(SSL *ssl, int *alert, void *arg)
{
	struct backend *b = SSL_get_app_data(ssl);
	const char *name, *dot;
	size_t i;

	if (b == NULL ||
	    (name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) == NULL)
		return SSL_TLSEXT_ERR_OK;
	for (i = 0; i < b->nsni; i++)
		if (strcasecmp(b->sni[i].name, name) == 0) {
			SSL_set_SSL_CTX(ssl, b->sni[i].ctx);
			return SSL_TLSEXT_ERR_OK;
		}
	/* "*.example.test" stands for one more label, as in a certificate */
	if ((dot = strchr(name, '.')) != NULL && dot != name)
		for (i = 0; i < b->nsni; i++)
			if (strncmp(b->sni[i].name, "*.", 2) == 0 &&
			    strcasecmp(b->sni[i].name + 1, dot) == 0) {
				SSL_set_SSL_CTX(ssl, b->sni[i].ctx);
				break;
			}
	return SSL_TLSEXT_ERR_OK;
}

static SSL_CTX *
backend_ctx_new(const struct farm_tls *t, int min, int max,
    struct backend_ctx_cache *cache, char *err, size_t errlen)
{
	static const unsigned char sid[] = "agw-sim";
	struct backend_ctx_entry *e;
	SSL_CTX *ctx;
	char *key = NULL;
	size_t i;

	if (cache != NULL) {
		if (asprintf(&key, "%s|%s|%s|%s|%d|%d",
		        t->cert != NULL ? t->cert : "", t->key,
		        t->chain != NULL ? t->chain : "",
		        t->first_key != NULL ? t->first_key : "", min,
		        max) < 0) {
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		for (i = 0; i < cache->n; i++)
			if (strcmp(cache->v[i].key, key) == 0) {
				free(key);
				SSL_CTX_up_ref(cache->v[i].ctx);
				return cache->v[i].ctx;
			}
	}
	if ((ctx = farm_tls_ctx_new(t, min, max, err, errlen)) == NULL) {
		free(key);
		return NULL;
	}
	SSL_CTX_set_tlsext_servername_callback(ctx, backend_sni_cb);
	SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	if (cache == NULL)
		return ctx;
	if (cache->n == cache->cap) {
		size_t cap = cache->cap ? cache->cap * 2 : 16;

		if ((e = realloc(cache->v, cap * sizeof(*e))) == NULL) {
			free(key);
			return ctx; /* works, just not shared */
		}
		cache->v = e;
		cache->cap = cap;
	}
	cache->v[cache->n].key = key;
	cache->v[cache->n].ctx = ctx;
	cache->n++;
	SSL_CTX_up_ref(ctx);
	return ctx;
}

void
backend_ctx_cache_clear(struct backend_ctx_cache *cache)
{
	size_t i;

	for (i = 0; i < cache->n; i++) {
		free(cache->v[i].key);
		SSL_CTX_free(cache->v[i].ctx);
	}
	free(cache->v);
	memset(cache, 0, sizeof(*cache));
}

/* ---- counters ---------------------------------------------------------- */

static void
backend_count(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (v != NULL)
		json_integer_set(v, json_integer_value(v) + 1);
	else
		json_object_set_new(o, key, json_integer(1));
}

void
backend_reset_counters(struct backend *b)
{
	b->requests = b->handshakes = b->resumed = b->handshake_errors = 0;
	json_object_clear(b->sni_seen);
	json_object_clear(b->hosts_seen);
	json_object_clear(b->tls_versions);
	b->last.valid = 0;
}

json_t *
backend_json(const struct backend *b)
{
	json_t *o;

	o = json_pack("{s:s,s:s,s:i,s:s,s:b,s:I,s:I,s:I,s:O,s:O,s:O,s:o,s:o}",
	    "name", b->conf->name, "address", b->addr_str, "port", b->port,
	    "protocol", b->conf->protocol == FARM_HTTPS ? "https" : "http",
	    "up", b->up, "requests", (json_int_t)b->requests, "handshakes",
	    (json_int_t)b->handshakes, "resumed", (json_int_t)b->resumed,
	    "sni_seen", b->sni_seen, "hosts_seen", b->hosts_seen,
	    "tls_versions", b->tls_versions, "last_request",
	    backend_last_json(b, &b->last), "behaviour",
	    farm_behaviour_json(&b->beh));
	if (o != NULL)
		json_object_set_new(o, "handshake_errors",
		    json_integer((json_int_t)b->handshake_errors));
	return o;
}

/* ---- connections ------------------------------------------------------- */

static void
conn_close(struct conn *c, const char *why, int rst)
{
	struct linger lg = {1, 0};
	evutil_socket_t fd;

	log_debug("backend %s: connection from %s closed: %s", c->b->conf->name,
	    c->client, why);
	LIST_REMOVE(c, entry);
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->bev != NULL) {
		fd = bufferevent_getfd(c->bev);
		if (rst && fd >= 0)
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		else if (c->ssl != NULL && SSL_is_init_finished(c->ssl))
			SSL_shutdown(c->ssl);
		bufferevent_free(c->bev);
	}
	http_parser_clear(&c->parser);
	if (c->head != NULL)
		evbuffer_free(c->head);
	if (c->pending != NULL)
		evbuffer_free(c->pending);
	free(c);
}

/* The response is queued in full: close once flushed, or get ready for the
 * next request. Returns 0 when ready, 1 when closing, -1 when c is freed. */
static int
conn_next(struct conn *c)
{
	if (c->then_close) {
		c->state = CONN_CLOSING;
		bufferevent_disable(c->bev, EV_READ);
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
			conn_close(c, "response sent", 0);
			return -1;
		}
		return 1;
	}
	http_parser_reset(&c->parser);
	c->state = CONN_HEAD;
	c->body_len = 0;
	c->body_kept = 0;
	if (!(bufferevent_get_enabled(c->bev) & EV_READ))
		bufferevent_enable(c->bev, EV_READ);
	return 0;
}

/* As conn_next, then serve requests already read (from timers only: the
 * read path loops in conn_process instead of recursing). */
static void
conn_done(struct conn *c)
{
	if (conn_next(c) == 0 &&
	    evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		conn_process(c);
}

static void
conn_slow_tick(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct timeval tv = {
	    c->slow_interval_ms / 1000, (c->slow_interval_ms % 1000) * 1000};
	size_t n = evbuffer_get_length(c->pending);

	if (n > c->slow_bytes)
		n = c->slow_bytes;
	evbuffer_remove_buffer(c->pending, bufferevent_get_output(c->bev), n);
	if (evbuffer_get_length(c->pending) > 0) {
		evtimer_add(c->timer, &tv);
		return;
	}
	if (c->cut_after)
		c->then_close = 1;
	conn_done(c);
}

/* Send the prepared head and body (after a delay, or slowly). */
static void
conn_send_pending(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	evbuffer_add_buffer(out, c->head);
	if (c->slow_bytes > 0 && evbuffer_get_length(c->pending) > 0) {
		conn_slow_tick(-1, 0, c);
		return;
	}
	evbuffer_add_buffer(out, c->pending);
	conn_done(c);
}

static void
conn_delay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->slow_bytes > 0 && conn_timer_prepare(c, conn_slow_tick) != 0) {
		conn_close(c, "cannot arm a timer", 0);
		return;
	}
	conn_send_pending(c);
}

/* Make sure c has a timer that calls cb (not armed). */
static int
conn_timer_prepare(struct conn *c, event_callback_fn cb)
{
	if (c->timer == NULL)
		return (c->timer = evtimer_new(c->b->base, cb, c)) != NULL ? 0
		                                                           : -1;
	return evtimer_assign(c->timer, c->b->base, cb, c);
}

static int
conn_timer(struct conn *c, event_callback_fn cb, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (conn_timer_prepare(c, cb) != 0)
		return -1;
	return evtimer_add(c->timer, &tv);
}

static const char *
conn_sni(const struct conn *c)
{
	if (c->ssl == NULL)
		return NULL;
	return SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
}

static int
last_add(struct backend_last *l, const char *p, size_t n)
{
	char *nb;
	size_t cap;

	if (l->len + n + 1 > l->cap) {
		cap = l->cap ? l->cap : 512;
		while (cap < l->len + n + 1)
			cap *= 2;
		if ((nb = realloc(l->buf, cap)) == NULL)
			return -1;
		l->buf = nb;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, p, n);
	l->buf[l->len + n] = '\0';
	l->len += n + 1;
	return 0;
}

/* Copy what the echo document needs of the current request into l. */
static void
conn_snapshot(struct conn *c, struct backend_last *l)
{
	const struct http_msg *m = &c->parser.msg;
	const char *sni = conn_sni(c);
	size_t i;

	l->valid = 0;
	l->len = 0;
	l->nheaders = 0;
	if (last_add(l, m->method, m->method_len) != 0 ||
	    last_add(l, m->target, m->target_len) != 0)
		return;
	for (i = 0; i < m->nheaders; i++) {
		if (last_add(l, m->headers[i].name, m->headers[i].name_len) !=
		        0 ||
		    last_add(l, m->headers[i].value, m->headers[i].value_len) !=
		        0)
			return;
		l->nheaders++;
	}
	l->minor = m->minor;
	l->https = c->ssl != NULL;
	l->has_sni = sni != NULL;
	snprintf(l->sni, sizeof(l->sni), "%s", sni != NULL ? sni : "");
	l->tls_version = c->ssl != NULL ? SSL_get_version(c->ssl) : NULL;
	l->cipher = c->ssl != NULL ? SSL_get_cipher_name(c->ssl) : NULL;
	l->resumed = c->ssl != NULL && SSL_session_reused(c->ssl);
	memcpy(l->client, c->client, sizeof(l->client));
	memcpy(l->client_addr, c->client_addr, sizeof(l->client_addr));
	l->client_port = c->client_port;
	l->count = c->b->requests;
	l->body_len = c->body_len;
	l->body_kept = c->body_kept;
	if (c->body_kept > 0)
		memcpy(l->body, c->body, c->body_kept);
	l->valid = 1;
}

/* The echo document of a request snapshot; caller owns it. */
static json_t *
backend_last_json(const struct backend *b, const struct backend_last *l)
{
	const char *method, *target, *q, *name, *value;
	json_t *o, *h, *old;
	size_t i, off;
	char *s;

	if (!l->valid)
		return json_null();
	if ((o = json_object()) == NULL || (h = json_object()) == NULL) {
		json_decref(o);
		return NULL;
	}
	method = l->buf;
	target = method + strlen(method) + 1;
	off = (size_t)(target - l->buf) + strlen(target) + 1;
	q = strchr(target, '?');
	json_object_set_new(o, "method", json_string(method));
	json_object_set_new(o, "path",
	    json_stringn(
	        target, q != NULL ? (size_t)(q - target) : strlen(target)));
	json_object_set_new(o, "query", jsonio_string_or_null(q ? q + 1 : NULL));
	json_object_set_new(
	    o, "http_version", json_string(l->minor == 0 ? "1.0" : "1.1"));
	for (i = 0; i < l->nheaders; i++) {
		name = l->buf + off;
		value = name + strlen(name) + 1;
		off += strlen(name) + strlen(value) + 2;
		if ((old = json_object_get(h, name)) != NULL &&
		    asprintf(&s, "%s, %s", json_string_value(old), value) >=
		        0) {
			json_object_set_new(h, name, json_string(s));
			free(s);
		} else if (old == NULL)
			json_object_set_new(h, name, json_string(value));
	}
	json_object_set_new(o, "headers", h);
	json_object_set_new(
	    o, "protocol", json_string(l->https ? "https" : "http"));
	json_object_set_new(
	    o, "sni", jsonio_string_or_null(l->has_sni ? l->sni : NULL));
	json_object_set_new(o, "tls_version", jsonio_string_or_null(l->tls_version));
	json_object_set_new(o, "cipher", jsonio_string_or_null(l->cipher));
	json_object_set_new(o, "resumed", json_boolean(l->resumed));
	json_object_set_new(o, "client", json_string(l->client));
	json_object_set_new(o, "client_address", json_string(l->client_addr));
	json_object_set_new(o, "client_port", json_integer(l->client_port));
	json_object_set_new(o, "backend", json_string(b->conf->name));
	json_object_set_new(
	    o, "request_count", json_integer((json_int_t)l->count));
	json_object_set_new(
	    o, "body_bytes", json_integer((json_int_t)l->body_len));
	/* null when the body is not UTF-8 text */
	json_object_set_new(o, "body", json_stringn(l->body, l->body_kept));
	if (json_object_get(o, "body") == NULL)
		json_object_set_new(o, "body", json_null());
	return o;
}

/* Append n bytes of filler to out. */
static int
conn_fill(struct evbuffer *out, uint64_t n)
{
	static char block[BACKEND_CHUNK];
	size_t k;

	if (block[0] == '\0')
		for (k = 0; k < sizeof(block); k++)
			block[k] =
			    "abcdefghijklmnopqrstuvwxyz0123456789\n"[k % 37];
	while (n > 0) {
		k = n > sizeof(block) ? sizeof(block) : (size_t)n;
		if (evbuffer_add_reference(out, block, k, NULL, NULL) != 0)
			return -1;
		n -= k;
	}
	return 0;
}

/*
 * Build the response to the current request: head into head, framed body
 * into body (NULL: no body wanted). Returns the declared body length.
 */
static int
conn_build(struct conn *c, struct evbuffer *head, struct evbuffer *body)
{
	const struct farm_behaviour *beh = &c->b->beh;
	const struct http_msg *m = &c->parser.msg;
	struct evbuffer *payload = NULL;
	const char *q, *ctype = "text/plain";
	size_t pathlen, i, n;
	int status = beh->status, is_head, rc = -1;
	json_t *echo = NULL;
	char *text = NULL, clen[32];

	q = memchr(m->target, '?', m->target_len);
	pathlen = q != NULL ? (size_t)(q - m->target) : m->target_len;
	is_head = m->method_len == 4 && memcmp(m->method, "HEAD", 4) == 0;
	if ((payload = evbuffer_new()) == NULL)
		goto fail;
	if (beh->health_path != NULL && strlen(beh->health_path) == pathlen &&
	    memcmp(beh->health_path, m->target, pathlen) == 0) {
		status = beh->health_status;
		if (beh->health_body != NULL)
			evbuffer_add(payload, beh->health_body,
			    strlen(beh->health_body));
	} else if (beh->echo ||
	           (pathlen == 5 && memcmp(m->target, "/echo", 5) == 0)) {
		if ((echo = backend_last_json(c->b, &c->b->last)) == NULL ||
		    (text = json_dumps(echo, JSON_COMPACT)) == NULL)
			goto fail;
		evbuffer_add(payload, text, strlen(text));
		evbuffer_add(payload, "\n", 1);
		ctype = "application/json";
	} else if (beh->body_bytes >= 0) {
		if (conn_fill(payload, (uint64_t)beh->body_bytes) != 0)
			goto fail;
	} else if (beh->body != NULL) {
		evbuffer_add(payload, beh->body, strlen(beh->body));
	} else {
		evbuffer_add_printf(payload, "backend %s\n", c->b->conf->name);
	}
	n = evbuffer_get_length(payload);
	if (http_write_status_line(
	        head, status, http_reason(status), m->minor) != 0 ||
	    (!beh->has_server &&
	        http_write_header(head, "Server", "agw-sim") != 0) ||
	    http_write_header(head, "X-Backend", c->b->conf->name) != 0 ||
	    (!beh->has_content_type &&
	        http_write_header(head, "Content-Type", ctype) != 0))
		goto fail;
	for (i = 0; i < beh->nheaders; i++)
		if (http_write_header(
		        head, beh->headers[i].name, beh->headers[i].value) != 0)
			goto fail;
	if (beh->chunked && m->minor >= 1) {
		if (http_write_header(head, "Transfer-Encoding", "chunked") !=
		    0)
			goto fail;
	} else {
		snprintf(clen, sizeof(clen), "%zu", n);
		if (http_write_header(head, "Content-Length", clen) != 0)
			goto fail;
		if (beh->chunked)
			c->then_close = 1; /* HTTP/1.0: no chunked */
	}
	if (c->then_close &&
	    http_write_header(head, "Connection", "close") != 0)
		goto fail;
	if (!c->then_close && m->minor == 0 &&
	    http_write_header(head, "Connection", "keep-alive") != 0)
		goto fail;
	if (http_write_end_head(head) != 0)
		goto fail;
	if (body != NULL && !is_head) {
		if (beh->chunked && m->minor >= 1) {
			unsigned char *p;

			while ((n = evbuffer_get_length(payload)) > 0) {
				if (n > BACKEND_CHUNK)
					n = BACKEND_CHUNK;
				p = evbuffer_pullup(payload, (ev_ssize_t)n);
				if (p == NULL ||
				    http_write_chunk(body, p, n) != 0)
					goto fail;
				evbuffer_drain(payload, n);
			}
			if (http_write_last_chunk(body) != 0)
				goto fail;
		} else if (evbuffer_add_buffer(body, payload) != 0)
			goto fail;
	}
	rc = 0;
fail:
	free(text);
	json_decref(echo);
	if (payload != NULL)
		evbuffer_free(payload);
	return rc;
}

/* Count and remember the request (the control API shows them). */
static void
conn_record(struct conn *c)
{
	const struct http_header *h;
	char host[256];

	c->b->requests++;
	h = http_msg_header(&c->parser.msg, "Host");
	if (h != NULL)
		snprintf(
		    host, sizeof(host), "%.*s", (int)h->value_len, h->value);
	else
		host[0] = '\0';
	backend_count(c->b->hosts_seen, host);
	conn_snapshot(c, &c->b->last);
}

/* A complete request is in: answer as the behaviour says. Returns 0 when
 * the next request can be read at once, else 1 (c may be freed). */
static int
conn_request(struct conn *c)
{
	const struct farm_behaviour *beh = &c->b->beh;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t n;

	conn_record(c);
	if (beh->reset) {
		conn_close(c, "reset (behaviour)", 1);
		return 1;
	}
	c->then_close = !c->parser.msg.keep_alive || beh->close_after_headers ||
	                beh->truncate_body;
	c->cut_after = 0;
	if (beh->delay_ms == 0 && beh->slow_bytes == 0 && !beh->truncate_body) {
		/* The fast path: straight into the output; over plain TCP
		 * with nothing queued, written at once (no write event, so
		 * no epoll_ctl per request). */
		struct evbuffer *o = out;

		if (c->ssl == NULL && evbuffer_get_length(out) == 0)
			o = c->b->scratch;
		if (conn_build(c, o, beh->close_after_headers ? NULL : o) !=
		    0) {
			evbuffer_drain(o, evbuffer_get_length(o));
			conn_close(c, "out of memory", 0);
			return 1;
		}
		if (o != out) {
			while (evbuffer_get_length(o) > 0 &&
			       evbuffer_write(o, bufferevent_getfd(c->bev)) > 0)
				;
			if (evbuffer_get_length(o) > 0)
				evbuffer_add_buffer(out, o);
		}
		return conn_next(c) == 0 ? 0 : 1;
	}
	if ((c->head == NULL && (c->head = evbuffer_new()) == NULL) ||
	    (c->pending == NULL && (c->pending = evbuffer_new()) == NULL) ||
	    conn_build(c, c->head,
	        beh->close_after_headers ? NULL : c->pending) != 0) {
		conn_close(c, "out of memory", 0);
		return 1;
	}
	if (beh->truncate_body) {
		n = evbuffer_get_length(c->pending);
		evbuffer_drain(c->pending, n - n / 2);
		c->cut_after = 1;
	}
	c->slow_bytes = (size_t)beh->slow_bytes;
	c->slow_interval_ms = beh->slow_interval_ms;
	c->state = CONN_RESPOND;
	bufferevent_disable(c->bev, EV_READ);
	if (beh->delay_ms > 0) {
		if (conn_timer(c, conn_delay_cb, beh->delay_ms) != 0)
			conn_close(c, "cannot arm a timer", 0);
		return 1;
	}
	if (c->slow_bytes > 0 && conn_timer_prepare(c, conn_slow_tick) != 0) {
		conn_close(c, "cannot arm a timer", 0);
		return 1;
	}
	/* Through conn_done, which serves a pipelined request at once: the
	 * depth is bounded because a slow or truncated response stops it. */
	conn_send_pending(c);
	return 1;
}

static void
conn_bad_request(struct conn *c, int rc)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	int status = http_status_code(rc);

	log_debug("backend %s: bad request from %s: %s", c->b->conf->name,
	    c->client, http_status_name(rc));
	http_write_status_line(out, status, http_reason(status), 1);
	http_write_header(out, "Server", "agw-sim");
	http_write_header(out, "X-Backend", c->b->conf->name);
	http_write_header(out, "Content-Length", "0");
	http_write_header(out, "Connection", "close");
	http_write_end_head(out);
	c->then_close = 1;
	conn_done(c);
}

/* Read request payload: count it, keep the first bytes for the echo. */
static int
conn_body(struct conn *c, struct evbuffer *in)
{
	struct evbuffer *sink = c->b->sink;
	size_t n, k;
	int rc;

	rc = http_parse_body(&c->parser, in, sink, 0);
	n = evbuffer_get_length(sink);
	c->body_len += n;
	k = sizeof(c->body) - c->body_kept;
	if (k > n)
		k = n;
	if (k > 0)
		evbuffer_remove(sink, c->body + c->body_kept, k);
	c->body_kept += k;
	evbuffer_drain(sink, evbuffer_get_length(sink));
	return rc;
}

static void
conn_process(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	int rc;

	for (;;) {
		if (c->state == CONN_HEAD) {
			rc = http_parse_head(&c->parser, in);
			if (rc == HTTP_AGAIN)
				return;
			if (rc != HTTP_OK) {
				conn_bad_request(c, rc);
				return;
			}
			c->state = CONN_BODY;
		}
		if (c->state != CONN_BODY)
			return;
		if (c->parser.msg.body == HTTP_BODY_NONE)
			rc = HTTP_OK;
		else
			rc = conn_body(c, in);
		if (rc == HTTP_AGAIN)
			return;
		if (rc != HTTP_OK) {
			conn_bad_request(c, rc);
			return;
		}
		c->state = CONN_RESPOND;
		/* 0: the next request may already be in; else c is busy
		 * (a timer goes on) or freed. */
		if (conn_request(c) != 0)
			return;
	}
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->state == CONN_HEAD || c->state == CONN_BODY)
		conn_process(c);
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->state == CONN_CLOSING)
		conn_close(c, "response sent", 0);
}

static void
conn_handshake_done(struct conn *c)
{
	struct backend *b = c->b;
	const char *sni = conn_sni(c);

	c->handshaken = 1;
	b->handshakes++;
	if (SSL_session_reused(c->ssl))
		b->resumed++;
	backend_count(b->sni_seen, sni != NULL ? sni : "");
	backend_count(b->tls_versions, SSL_get_version(c->ssl));
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	char e[256];
	unsigned long ssl_err;

	if (what & BEV_EVENT_CONNECTED) {
		conn_handshake_done(c);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		if (c->ssl != NULL && !c->handshaken)
			c->b->handshake_errors++;
		if (c->state == CONN_BODY &&
		    http_parse_eof(&c->parser) != HTTP_OK)
			conn_close(c, "client closed mid-request", 0);
		else
			conn_close(c, "client closed", 0);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		if (c->ssl != NULL && !c->handshaken)
			c->b->handshake_errors++;
		e[0] = '\0';
		while ((ssl_err = bufferevent_get_openssl_error(bev)) != 0)
			ERR_error_string_n(ssl_err, e, sizeof(e));
		conn_close(c, e[0] != '\0' ? e : strerror(errno), 0);
	}
}

static void
backend_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct backend *b = arg;
	const struct farm_behaviour *beh = &b->beh;
	int tls = b->conf->protocol == FARM_HTTPS, idle;
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	c->b = b;
	http_parser_init(&c->parser, HTTP_REQUEST, NULL);
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, c->client_addr,
		    sizeof(c->client_addr));
		c->client_port = ntohs(sin->sin_port);
		snprintf(c->client, sizeof(c->client), "%s:%d", c->client_addr,
		    c->client_port);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, c->client_addr,
		    sizeof(c->client_addr));
		c->client_port = ntohs(sin6->sin6_port);
		snprintf(c->client, sizeof(c->client), "[%s]:%d",
		    c->client_addr, c->client_port);
	}
	LIST_INSERT_HEAD(&b->conns, c, entry);
	/* stall_handshake: not even TLS starts; never_read over http: the
	 * request is never read. Both keep the socket open, idle. */
	idle = beh->stall_handshake || (beh->never_read && !tls);
	if (tls && !idle) {
		if ((c->ssl = SSL_new(b->ctx)) == NULL)
			goto fail;
		SSL_set_app_data(c->ssl, b);
		c->bev = bufferevent_openssl_socket_new(b->base, fd, c->ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL) {
			SSL_free(c->ssl);
			c->ssl = NULL;
			goto fail;
		}
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	} else {
		c->bev =
		    bufferevent_socket_new(b->base, fd, BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL)
			goto fail;
	}
	fd = -1;
	bufferevent_setcb(
	    c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	if (idle || beh->never_read) {
		/* never_read over https: the handshake completes, then the
		 * request is left unread. */
		c->state = CONN_IDLE;
		if (!idle) {
			bufferevent_setwatermark(
			    c->bev, EV_READ, 0, BACKEND_READ_HIGHWATER);
			bufferevent_enable(c->bev, EV_READ);
		}
		return;
	}
	bufferevent_setwatermark(c->bev, EV_READ, 0, BACKEND_READ_HIGHWATER);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return;
fail:
	if (fd >= 0)
		evutil_closesocket(fd);
	conn_close(c, "out of memory", 0);
}

/* ---- backends ---------------------------------------------------------- */

int
backend_init(struct backend *b, const struct farm_backend *conf,
    struct event_base *base, struct backend_ctx_cache *cache, char *err,
    size_t errlen)
{
	char e[1024];
	size_t i;

	memset(b, 0, sizeof(*b));
	b->conf = conf;
	b->base = base;
	b->bound = conf->addr;
	LIST_INIT(&b->conns);
	farm_behaviour_init(&b->beh);
	b->scratch = evbuffer_new();
	b->sink = evbuffer_new();
	b->sni_seen = json_object();
	b->hosts_seen = json_object();
	b->tls_versions = json_object();
	if (b->scratch == NULL || b->sink == NULL || b->sni_seen == NULL ||
	    b->hosts_seen == NULL || b->tls_versions == NULL) {
		snprintf(
		    err, errlen, "backend \"%s\": out of memory", conf->name);
		return -1;
	}
	/* the behaviour is ours to change: take a copy through JSON */
	{
		json_t *j = farm_behaviour_json(&conf->behaviour);
		int rc =
		    farm_behaviour_parse(j, &b->beh, "behaviour", e, sizeof(e));

		json_decref(j);
		if (rc != 0) {
			snprintf(
			    err, errlen, "backend \"%s\": %s", conf->name, e);
			return -1;
		}
	}
	if (conf->protocol != FARM_HTTPS)
		return 0;
	b->ctx = backend_ctx_new(
	    &conf->tls, conf->min_tls, conf->max_tls, cache, e, sizeof(e));
	if (b->ctx == NULL) {
		snprintf(err, errlen, "backend \"%s\": tls: %s", conf->name, e);
		return -1;
	}
	if (conf->nsni > 0 &&
	    (b->sni = calloc(conf->nsni, sizeof(*b->sni))) == NULL) {
		snprintf(
		    err, errlen, "backend \"%s\": out of memory", conf->name);
		return -1;
	}
	for (i = 0; i < conf->nsni; i++) {
		if ((b->sni[i].name = strdup(conf->sni[i].name)) == NULL) {
			snprintf(err, errlen, "backend \"%s\": out of memory",
			    conf->name);
			return -1;
		}
		b->nsni++;
		b->sni[i].ctx = backend_ctx_new(&conf->sni[i].tls,
		    conf->min_tls, conf->max_tls, cache, e, sizeof(e));
		if (b->sni[i].ctx == NULL) {
			snprintf(err, errlen, "backend \"%s\": sni.%s: %s",
			    conf->name, conf->sni[i].name, e);
			return -1;
		}
	}
	return 0;
}

static void
backend_drop_conns(struct backend *b, const char *why)
{
	while (!LIST_EMPTY(&b->conns))
		conn_close(LIST_FIRST(&b->conns), why, 0);
}

void
backend_clear(struct backend *b)
{
	size_t i;

	if (b->lev != NULL)
		evconnlistener_free(b->lev);
	backend_drop_conns(b, "shutting down");
	farm_behaviour_clear(&b->beh);
	SSL_CTX_free(b->ctx);
	for (i = 0; i < b->nsni; i++) {
		free(b->sni[i].name);
		SSL_CTX_free(b->sni[i].ctx);
	}
	free(b->sni);
	json_decref(b->sni_seen);
	json_decref(b->hosts_seen);
	json_decref(b->tls_versions);
	free(b->last.buf);
	if (b->scratch != NULL)
		evbuffer_free(b->scratch);
	if (b->sink != NULL)
		evbuffer_free(b->sink);
	memset(b, 0, sizeof(*b));
}

int
backend_listen(struct backend *b, char *err, size_t errlen)
{
	char e[256], a[80];
	int fd;

	if ((fd = net_listen(&b->bound, 0, 1024, e, sizeof(e))) < 0) {
		snprintf(err, errlen, "backend \"%s\": listen: %s",
		    b->conf->name, e);
		return -1;
	}
	b->lev = evconnlistener_new(
	    b->base, backend_accept_cb, b, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (b->lev == NULL) {
		close(fd);
		snprintf(err, errlen, "backend \"%s\": cannot add listener",
		    b->conf->name);
		return -1;
	}
	b->port = net_addr_port(&b->bound);
	net_addr_str(&b->bound, a, sizeof(a));
	if (b->bound.ss.ss_family == AF_INET)
		inet_ntop(AF_INET,
		    &((struct sockaddr_in *)&b->bound.ss)->sin_addr,
		    b->addr_str, sizeof(b->addr_str));
	else
		inet_ntop(AF_INET6,
		    &((struct sockaddr_in6 *)&b->bound.ss)->sin6_addr,
		    b->addr_str, sizeof(b->addr_str));
	b->up = 1;
	log_info("backend %s listening on %s", b->conf->name, a);
	return 0;
}

int
backend_set_up(struct backend *b, int up, char *err, size_t errlen)
{
	if (up == b->up)
		return 0;
	if (!up) {
		evconnlistener_free(b->lev);
		b->lev = NULL;
		b->up = 0;
		backend_drop_conns(b, "backend down");
		b->beh.down = 1;
		log_info("backend %s down", b->conf->name);
		return 0;
	}
	if (backend_listen(b, err, errlen) != 0)
		return -1;
	b->beh.down = 0;
	log_info("backend %s up", b->conf->name);
	return 0;
}

int
backend_set_behaviour(
    struct backend *b, struct farm_behaviour *beh, char *err, size_t errlen)
{
	int down = beh->down;

	farm_behaviour_clear(&b->beh);
	b->beh = *beh;
	farm_behaviour_init(beh);
	log_info("backend %s behaviour set", b->conf->name);
	if (down == !b->up)
		return 0;
	return backend_set_up(b, !down, err, errlen);
}

int
backend_rotate(struct backend *b, const char *sni, const struct farm_tls *t,
    char *err, size_t errlen)
{
	struct backend_sni *v;
	SSL_CTX *ctx;
	size_t i;

	if (b->conf->protocol != FARM_HTTPS) {
		snprintf(
		    err, errlen, "backend \"%s\" is not https", b->conf->name);
		return -1;
	}
	ctx = backend_ctx_new(
	    t, b->conf->min_tls, b->conf->max_tls, NULL, err, errlen);
	if (ctx == NULL)
		return -1;
	if (sni == NULL) {
		SSL_CTX_free(b->ctx);
		b->ctx = ctx;
	} else {
		for (i = 0; i < b->nsni; i++)
			if (strcasecmp(b->sni[i].name, sni) == 0)
				break;
		if (i == b->nsni) {
			v = realloc(b->sni, (b->nsni + 1) * sizeof(*v));
			if (v == NULL || (v[i].name = strdup(sni)) == NULL) {
				if (v != NULL)
					b->sni = v;
				SSL_CTX_free(ctx);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			b->sni = v;
			v[i].ctx = NULL;
			b->nsni++;
		}
		SSL_CTX_free(b->sni[i].ctx);
		b->sni[i].ctx = ctx;
	}
	log_info("backend %s certificate rotated", b->conf->name);
	return 0;
}
