#include "proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "accesslog.h"
#include "http.h"
#include "lb.h"
#include "log.h"
#include "metrics.h"
#include "pages.h"
#include "route.h"
#include "sni.h"
#include "upstream.h"
#include "worker.h"

/* Back-pressure: a side stops reading while the other side's output holds
 * more than HIGH bytes, and resumes when it drains below LOW. */
#define PROXY_HIGH (256 * 1024)
#define PROXY_LOW (64 * 1024)
/* v2 keeps a request body up to this long to send it again on a retry */
#define PROXY_REPLAY_MAX (64 * 1024)
/* Client read buffer limit (a head is at most 32 KiB). */
#define PROXY_READ_MAX (128 * 1024)
/* A closing connection gets this long to flush its last response. */
#define PROXY_LINGER_S 10
/* ... and then this long to send what it was still sending (lingering
 * close: closing with unread input would reset the connection and lose
 * the response, e.g. a 400 for an oversized head). */
#define PROXY_DRAIN_S 2

enum proxy_state {
	PROXY_HEAD,	/* waiting for (the rest of) a request head */
	PROXY_UPSTREAM, /* connecting to the member */
	PROXY_FORWARD,	/* request and response streaming */
	PROXY_CLOSING,	/* flushing the last bytes, then close */
	PROXY_LINGER	/* response sent, write side shut: drain the input */
};

enum proxy_timer {
	PROXY_TIMER_NONE,
	PROXY_TIMER_IDLE,   /* keep-alive wait for the next request */
	PROXY_TIMER_HEAD,   /* a head has started: header timeout */
	PROXY_TIMER_BODY,   /* request body: idle limit between reads */
	PROXY_TIMER_LINGER  /* closing */
};

struct proxy_conn {
	TAILQ_ENTRY(proxy_conn) entry;
	struct worker *w;
	struct bufferevent *bev;
	struct event *timer;
	enum proxy_timer timer_kind;
	/* plain client sockets are read by proxy_client_rawreadcb */
	struct event *rev;
	int want_read;		/* reading enabled (proxy_client_reading) */
	int read_full;		/* input at read_max: suspended */
	size_t read_max;	/* input limit, 0: none */
	int port;		/* gateway port index */
	int tls;
	struct runtime *hs_rt;	/* runtime used during the TLS handshake */
	char client[64];	/* "ADDR:PORT" */
	char client_ip[48];
	int client_port;
	char *sni;
	enum proxy_state state;
	struct http_parser req;
	unsigned nrequests;

	/* the request in progress */
	struct runtime *rt;
	struct route_result route;
	struct lb_target target;
	int have_target;
	struct upstream_conn *uc;
	struct http_parser resp;
	int req_done;		/* request body fully read */
	int resp_head;		/* upstream response head parsed */
	int head_held;		/* parsed, sent with the first body bytes */
	int resp_started;	/* response head sent to the client */
	int resp_raw;		/* body copied as framed */
	int resp_close;		/* close the client after this response */
	int client_ka;		/* client wants keep-alive */
	int attempts;
	/* v2: the request body as sent upstream so far, while it is short
	 * enough to send again to another member (PROXY_REPLAY_MAX) */
	struct evbuffer *replay;
	int replay_ok;
	int resp_any;		/* the member sent bytes: never retry */
	int upstream_status;
	int status;
	const char *reason;	/* failure reason name, or NULL */
	uint64_t bytes_in, bytes_out;
	struct timespec t0, t_up;
	double wall0;
	char member_buf[256];
};

static void proxy_close(struct proxy_conn *c, const char *why);
static void proxy_next(struct proxy_conn *c);
static void proxy_read_head(struct proxy_conn *c);
static void proxy_pump_request(struct proxy_conn *c);
static void proxy_pump_response(struct proxy_conn *c);
static void proxy_upstream_begin(struct proxy_conn *c, int fresh);
static void proxy_fail(struct proxy_conn *c, int status, enum reason_code rc,
    int kind);
static void proxy_upstream_connected(struct upstream_conn *uc,
    enum reason_code reason, int error_code, void *arg);

static double
proxy_ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) * 1e3 +
	    (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

static enum config_sku
proxy_sku(struct proxy_conn *c)
{
	struct runtime *rt = c->rt != NULL ? c->rt : worker_runtime(c->w);

	return rt->cfg->sku;
}

/*
 * Write what a plain socket's output holds now instead of on the next loop
 * pass: EV_WRITE stays disabled while the output is empty, so a request or
 * response costs no epoll_ctl pair. What the socket does not take is left
 * to libevent (EV_WRITE enabled until the output drains). TLS bufferevents
 * keep EV_WRITE enabled and write from the loop.
 *
 * A socket bufferevent keeps the front of its output frozen (only its own
 * write callback drains it); an accepted socket's bufferevent stays so for
 * its life, so the write is bracketed by unfreeze/freeze as libevent's
 * write callback does. Without it the client's responses always went
 * through EV_WRITE (two epoll_ctl and a loop pass per response).
 */
static void
proxy_flush(struct bufferevent *bev, int tls)
{
	struct evbuffer *out = bufferevent_get_output(bev);

	if (tls)
		return;
	if (evbuffer_get_length(out) > 0) {
		evbuffer_unfreeze(out, 1);
		(void)evbuffer_write(out, bufferevent_getfd(bev));
		evbuffer_freeze(out, 1);
	}
	if (evbuffer_get_length(out) > 0)
		bufferevent_enable(bev, EV_WRITE);
}

/* libevent's largest SSL_write from an output buffer (its write_max). */
#define PROXY_SSL_WRITE_MAX 16384

/*
 * The upstream side of proxy_flush. A TLS bufferevent (libevent 2.1) only
 * writes from the loop: adding to its output arms EV_WRITE, and the write
 * costs an epoll_ctl pair and a loop pass per request. So a TLS upstream
 * keeps EV_WRITE disabled while its output is empty, and what is added is
 * handed to SSL_write here, in libevent's own chunks (at most
 * PROXY_SSL_WRITE_MAX bytes of the front of the output per call), so that
 * when SSL_write cannot finish (WANT_WRITE, WANT_READ, an error) libevent
 * retries the very same bytes once EV_WRITE is enabled and reports any
 * error through the event callback as before.
 */
static void
proxy_flush_upstream(struct upstream_conn *uc)
{
	struct bufferevent *bev = uc->bev;
	struct evbuffer *out = bufferevent_get_output(bev);
	struct evbuffer_iovec v[8];
	SSL *ssl;
	size_t done;
	int i, n, r, blocked = 0;

	if (!uc->tls) {
		proxy_flush(bev, 0);
		return;
	}
	ssl = bufferevent_openssl_get_ssl(bev);
	while (ssl != NULL && !blocked && evbuffer_get_length(out) > 0) {
		n = evbuffer_peek(out, PROXY_SSL_WRITE_MAX, NULL, v, 8);
		if (n > 8)
			n = 8;
		done = 0;
		for (i = 0; i < n; i++) {
			if (v[i].iov_len == 0)
				continue;
			r = SSL_write(ssl, v[i].iov_base, (int)v[i].iov_len);
			if (r <= 0) {
				ERR_clear_error();
				blocked = 1;
				break;
			}
			done += (size_t)r;
		}
		if (done == 0)
			break;
		evbuffer_drain(out, done);
	}
	if (evbuffer_get_length(out) > 0)
		bufferevent_enable(bev, EV_WRITE);
	else
		bufferevent_disable(bev, EV_WRITE);
}

/*
 * Reading a plain client socket. libevent's socket bufferevent asks the
 * kernel how much is readable (ioctl FIONREAD) before every read, one more
 * system call per request; a plain client's bufferevent is used for
 * writing and its output only, and its socket is read here with one recv
 * per readiness into the bufferevent's input, with the same rules: at most
 * read_max bytes held (reading resumes as the input drains), EOF and
 * errors reported to proxy_client_eventcb with BEV_EVENT_READING.
 * proxy_client_reading stands for bufferevent_enable/disable(EV_READ).
 */
static void
proxy_client_rev_sync(struct proxy_conn *c)
{
	int on = c->want_read && !c->read_full;

	if (on && !event_pending(c->rev, EV_READ, NULL))
		event_add(c->rev, NULL);
	else if (!on && event_pending(c->rev, EV_READ, NULL))
		event_del(c->rev);
}

static void
proxy_client_reading(struct proxy_conn *c, int on)
{
	if (c->tls) {
		if (on)
			bufferevent_enable(c->bev, EV_READ);
		else
			bufferevent_disable(c->bev, EV_READ);
		return;
	}
	c->want_read = on;
	proxy_client_rev_sync(c);
}

/* The input limit (0: none), as bufferevent_setwatermark(EV_READ, 0, max). */
static void
proxy_client_read_max(struct proxy_conn *c, size_t max)
{
	if (c->tls) {
		bufferevent_setwatermark(c->bev, EV_READ, 0, max);
		return;
	}
	c->read_max = max;
	c->read_full = max > 0 &&
	    evbuffer_get_length(bufferevent_get_input(c->bev)) >= max;
	proxy_client_rev_sync(c);
}

/* The input drained: resume reading below the limit. */
static void
proxy_client_input_cb(struct evbuffer *buf,
    const struct evbuffer_cb_info *info, void *arg)
{
	struct proxy_conn *c = arg;

	if (c->read_full && info->n_deleted > 0 &&
	    (c->read_max == 0 || evbuffer_get_length(buf) < c->read_max)) {
		c->read_full = 0;
		proxy_client_rev_sync(c);
	}
}

static void proxy_client_readcb(struct bufferevent *bev, void *arg);
static void proxy_client_eventcb(struct bufferevent *bev, short what,
    void *arg);

static void
proxy_client_rawreadcb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_iovec v[2];
	size_t len = evbuffer_get_length(in), want = 16384;
	ssize_t n;
	int nv;

	(void)what;
	if (c->read_max > 0) {
		if (len >= c->read_max) {
			c->read_full = 1;
			proxy_client_rev_sync(c);
			return;
		}
		if (c->read_max - len < want)
			want = c->read_max - len;
	}
	/* the input's end is frozen but for its owner's reads */
	evbuffer_unfreeze(in, 0);
	nv = evbuffer_reserve_space(in, (ev_ssize_t)want, v, 2);
	if (nv <= 0) {
		evbuffer_freeze(in, 0);
		proxy_client_reading(c, 0);
		proxy_client_eventcb(c->bev, BEV_EVENT_READING | BEV_EVENT_ERROR,
		    c);
		return;
	}
	if (nv == 2 && v[0].iov_len >= want)
		nv = 1;
	if (nv == 1 && v[0].iov_len > want)
		v[0].iov_len = want;
	else if (nv == 2 && v[0].iov_len + v[1].iov_len > want)
		v[1].iov_len = want - v[0].iov_len;
	n = nv == 1 ? recv(fd, v[0].iov_base, v[0].iov_len, 0)
		    : readv(fd, (const struct iovec *)v, nv);
	if (n <= 0)
		evbuffer_freeze(in, 0); /* nothing committed */
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		proxy_client_reading(c, 0);
		proxy_client_eventcb(c->bev, BEV_EVENT_READING |
		    (n == 0 ? BEV_EVENT_EOF : BEV_EVENT_ERROR), c);
		return;
	}
	if ((size_t)n <= v[0].iov_len) {
		v[0].iov_len = (size_t)n;
		nv = 1;
	} else {
		v[1].iov_len = (size_t)n - v[0].iov_len;
	}
	evbuffer_commit_space(in, v, nv);
	evbuffer_freeze(in, 0);
	if (c->read_max > 0 && evbuffer_get_length(in) >= c->read_max) {
		c->read_full = 1;
		proxy_client_rev_sync(c);
	}
	proxy_client_readcb(c->bev, c);
}

/* --- timers ------------------------------------------------------------ */

static void
proxy_timer_set(struct proxy_conn *c, enum proxy_timer kind, int seconds)
{
	struct timeval tv = { seconds, 0 };

	c->timer_kind = kind;
	if (kind == PROXY_TIMER_NONE) {
		evtimer_del(c->timer);
		return;
	}
	evtimer_add(c->timer, &tv);
}

static void
proxy_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_conn *c = arg;

	switch (c->timer_kind) {
	case PROXY_TIMER_IDLE:
		proxy_close(c, "keep-alive timeout");
		break;
	case PROXY_TIMER_HEAD:
		proxy_close(c, "client header timeout");
		break;
	case PROXY_TIMER_BODY:
		proxy_close(c, "client body timeout");
		break;
	default:
		proxy_close(c, "done (linger timeout)");
		break;
	}
}

/* --- the one close path ---------------------------------------------- */

static void
proxy_request_clear(struct proxy_conn *c)
{
	upstream_free(c->uc);
	c->uc = NULL;
	c->replay_ok = 0;
	if (c->replay != NULL)
		evbuffer_drain(c->replay, evbuffer_get_length(c->replay));
	http_parser_clear(&c->resp);
	if (c->rt != NULL)
		worker_runtime_unref(c->rt);
	c->rt = NULL;
	c->have_target = 0;
}

static void
proxy_close(struct proxy_conn *c, const char *why)
{
	struct worker *w = c->w;

	log_debug("connection %s closed: %s (%u requests)", c->client, why,
	    c->nrequests);
	proxy_request_clear(c);
	if (c->hs_rt != NULL)
		worker_runtime_unref(c->hs_rt);
	if (c->tls && c->bev != NULL) {
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
		if (ssl != NULL)
			SSL_set_shutdown(ssl, SSL_RECEIVED_SHUTDOWN);
	}
	if (c->rev != NULL)
		event_free(c->rev);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	ERR_clear_error();
	if (c->timer != NULL)
		event_free(c->timer);
	http_parser_clear(&c->req);
	if (c->replay != NULL)
		evbuffer_free(c->replay);
	free(c->sni);
	TAILQ_REMOVE(&w->conns, c, entry);
	w->nconns--;
	free(c);
	worker_conn_gone(w);
}

/* The last response is out: close now, or (plain TCP with input pending
 * or arriving) shut the write side and drain what the client still sends
 * for a moment, so the response is not lost to a reset. */
static void
proxy_linger(struct proxy_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	if (c->tls || c->w->stopping) {
		proxy_close(c, "done");
		return;
	}
	evbuffer_drain(in, evbuffer_get_length(in));
	c->state = PROXY_LINGER;
	shutdown(bufferevent_getfd(c->bev), SHUT_WR);
	proxy_client_read_max(c, 0);
	proxy_client_reading(c, 1);
	proxy_timer_set(c, PROXY_TIMER_LINGER, PROXY_DRAIN_S);
}

/* Close once the output has been flushed. */
static void
proxy_close_after_write(struct proxy_conn *c)
{
	c->state = PROXY_CLOSING;
	proxy_client_reading(c, 0);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		proxy_linger(c);
		return;
	}
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	bufferevent_enable(c->bev, EV_WRITE);
	proxy_timer_set(c, PROXY_TIMER_LINGER, PROXY_LINGER_S);
}

/* --- logging and metrics of one finished request ------------------------ */

static void
proxy_finish_request(struct proxy_conn *c)
{
	struct runtime *rt = c->rt;
	const struct config *cfg = rt != NULL ? rt->cfg : NULL;
	struct accesslog_entry e;
	const struct route_result *r = &c->route;
	double ms = proxy_ms_since(&c->t0);
	int member;

	member = c->have_target ? c->target.member : -1;
	if (rt != NULL)
		metrics_request(rt->gw->metrics, c->w->id, rt->names,
		    r->listener, r->rule, r->pool, member, c->status,
		    ms / 1000.0);
	if (!accesslog_enabled())
		return;
	memset(&e, 0, sizeof(e));
	e.time = c->wall0;
	e.client = c->client;
	if (cfg != NULL) {
		if (r->listener >= 0)
			e.listener = cfg->listeners[r->listener].name;
		if (r->rule >= 0)
			e.rule = cfg->rules[r->rule].name;
		if (r->pool >= 0)
			e.pool = cfg->pools[r->pool].name;
	}
	e.member = c->have_target ? c->target.address : NULL;
	e.method = c->req.msg.method;
	e.target = c->req.msg.target;
	{
		const struct http_header *h = http_msg_header(&c->req.msg,
		    "Host");
		e.host = h != NULL ? h->value : NULL;
	}
	e.status = c->status;
	e.upstream_status = c->upstream_status;
	e.bytes_in = c->bytes_in + c->req.msg.head_len;
	e.bytes_out = c->bytes_out;
	e.duration_ms = ms;
	e.upstream_ms = c->t_up.tv_sec != 0 ? proxy_ms_since(&c->t_up) : -1;
	e.reason = c->reason;
	e.attempts = c->attempts;
	accesslog_write(&e);
}

/* --- gateway-made responses -------------------------------------------- */

/* Answer the current request with a page; the connection stays open when
 * the request was read completely and the client keeps alive. */
static void
proxy_page(struct proxy_conn *c, int status, int http_rc,
    enum reason_code rc)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct pages_opts o;
	size_t before = evbuffer_get_length(out);
	int debug = c->w->gw->opts.debug_headers;
	int keep = c->client_ka && c->req_done && !c->w->stopping;

	memset(&o, 0, sizeof(o));
	o.minor = c->req.msg.minor;
	o.keep_alive = keep;
	o.head = c->req.msg.method != NULL &&
	    strcmp(c->req.msg.method, "HEAD") == 0;
	o.reason = debug && rc != REASON_OK ? reason_name(rc) : NULL;
	o.member = debug && c->have_target ? c->target.address : NULL;
	c->status = status;
	if (rc != REASON_OK)
		c->reason = reason_name(rc);
	if (pages_write(out, proxy_sku(c), status, http_rc, &o) != 0) {
		proxy_close(c, "out of memory");
		return;
	}
	c->bytes_out += evbuffer_get_length(out) - before;
	proxy_flush(c->bev, c->tls);
	c->resp_started = 1;
	c->resp_close = !keep;
	proxy_finish_request(c);
	proxy_next(c);
}

/* --- the client connection --------------------------------------------- */

static void
proxy_client_readcb(struct bufferevent *bev, void *arg)
{
	struct proxy_conn *c = arg;

	switch (c->state) {
	case PROXY_HEAD:
		proxy_read_head(c);
		break;
	case PROXY_LINGER:
		evbuffer_drain(bufferevent_get_input(bev),
		    evbuffer_get_length(bufferevent_get_input(bev)));
		break;
	case PROXY_FORWARD:
		if (!c->req_done)
			proxy_pump_request(c);
		break;
	default:
		/* pipelined bytes wait for the response in progress */
		break;
	}
}

static void
proxy_client_writecb(struct bufferevent *bev, void *arg)
{
	struct proxy_conn *c = arg;

	if (c->state == PROXY_CLOSING) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			proxy_linger(c);
		return;
	}
	if (!c->tls && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_disable(bev, EV_WRITE);
	/* The client drained below LOW: resume reading the upstream. */
	if (c->uc != NULL && c->resp_head && !c->head_held) {
		bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
		bufferevent_enable(c->uc->bev, EV_READ);
		proxy_pump_response(c);
	}
}

static void
proxy_client_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct proxy_conn *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		/* TLS handshake done: the SNI is known. */
		SSL *ssl = bufferevent_openssl_get_ssl(bev);
		const char *name = ssl != NULL ?
		    SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) : NULL;

		if (name != NULL && c->sni == NULL)
			c->sni = strdup(name);
		if (c->hs_rt != NULL)
			worker_runtime_unref(c->hs_rt);
		c->hs_rt = NULL;
		return;
	}
	if (c->state == PROXY_LINGER) {
		proxy_close(c, "done");
		return;
	}
	if ((what & BEV_EVENT_EOF) && c->state != PROXY_HEAD &&
	    c->state != PROXY_CLOSING && c->req_done) {
		/* half-close after a complete request: answer, then close */
		c->client_ka = 0;
		c->resp_close = 1;
		proxy_client_reading(c, 0);
		return;
	}
	if (what & BEV_EVENT_EOF)
		proxy_close(c, c->state == PROXY_HEAD ? "client closed"
						      : "client closed early");
	else if (what & BEV_EVENT_ERROR)
		proxy_close(c, c->tls && c->hs_rt != NULL ? "TLS handshake failed"
							  : "client error");
	else
		proxy_close(c, "client timeout");
}

/* Wait for the next request (keep-alive) or close. */
static void
proxy_next(struct proxy_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	enum config_sku sku = proxy_sku(c);

	proxy_request_clear(c);
	if (c->resp_close || c->w->stopping) {
		proxy_close_after_write(c);
		return;
	}
	http_parser_reset(&c->req);
	c->state = PROXY_HEAD;
	c->req_done = 0;
	proxy_client_reading(c, 1);
	if (evbuffer_get_length(in) > 0) {
		proxy_timer_set(c, PROXY_TIMER_HEAD,
		    c->w->gw->opts.header_timeout);
		proxy_read_head(c); /* a pipelined request */
		return;
	}
	proxy_timer_set(c, PROXY_TIMER_IDLE, sku == CONFIG_SKU_V1 ? 120 : 75);
}

/* Names for the upstream exchange (spec 2 and 3): the Host header, the SNI
 * and the name verify_chain checks; the rules live in sni.c. */
static void
proxy_upstream_names(struct proxy_conn *c, const struct config_settings *s,
    const char **host, const char **sni, const char **verify_name,
    char *hostbuf, size_t hostlen)
{
	const struct http_header *h = http_msg_header(&c->req.msg, "Host");
	struct sni_names n;

	sni_traffic(c->rt->cfg->sku, s, c->target.kind, c->target.address,
	    h != NULL ? h->value : NULL, hostbuf, hostlen, &n);
	*host = n.host;
	*sni = n.sni;
	*verify_name = n.verify_name;
}

/* The frontendPorts index a port slot serves in rt, or -1 (a port the
 * snapshot dropped, or a slot newer than it). */
static int
proxy_port_fp(const struct runtime *rt, int port)
{
	return port >= 0 && (size_t)port < rt->nports ? rt->ports[port].fp
						      : -1;
}

/* Serialize the request head for the member into out. */
static int
proxy_build_head(struct proxy_conn *c, const char *host,
    struct evbuffer *out)
{
	const struct http_msg *m = &c->req.msg;
	const struct config *cfg = c->rt->cfg;
	const struct http_header *h, *ohost = http_msg_header(m, "Host");
	const struct runtime_port *rp = &c->rt->ports[c->port];
	char target[8192], xff[1024], port[16];
	const char *prev_xff = NULL;
	size_t i, prev_len = 0;
	int n;

	if (route_upstream_path(cfg, &c->route, m->target, target,
		sizeof(target)) < 0)
		snprintf(target, sizeof(target), "%s", m->target);
	if (http_write_request_line(out, m->method, target, 1) != 0 ||
	    http_write_header(out, "Host", host) != 0)
		return -1;
	for (i = 0; i < m->nheaders; i++) {
		h = &m->headers[i];
		if (http_msg_is_hop_by_hop(m, h) ||
		    strcasecmp(h->name, "Host") == 0 ||
		    strcasecmp(h->name, "X-Forwarded-Proto") == 0 ||
		    strcasecmp(h->name, "X-Forwarded-Port") == 0 ||
		    strcasecmp(h->name, "X-Original-Host") == 0)
			continue;
		if (strcasecmp(h->name, "X-Forwarded-For") == 0 &&
		    prev_xff == NULL) {
			prev_xff = h->value;
			prev_len = h->value_len;
			continue;
		}
		if (strcasecmp(h->name, "X-Forwarded-For") == 0)
			continue;
		if (http_write_headern(out, h->name, h->name_len, h->value,
			h->value_len) != 0)
			return -1;
	}
	if (prev_xff != NULL && prev_len > 0)
		n = snprintf(xff, sizeof(xff), "%.*s, %s", (int)prev_len,
		    prev_xff, c->client);
	else
		n = snprintf(xff, sizeof(xff), "%s", c->client);
	(void)n;
	snprintf(port, sizeof(port), "%d", rp->configured);
	if (http_write_header(out, "X-Forwarded-For", xff) != 0 ||
	    http_write_header(out, "X-Forwarded-Proto",
		c->tls ? "https" : "http") != 0 ||
	    http_write_header(out, "X-Forwarded-Port", port) != 0)
		return -1;
	if (cfg->sku == CONFIG_SKU_V2 && ohost != NULL &&
	    http_write_header(out, "X-Original-Host", ohost->value) != 0)
		return -1;
	if (m->body == HTTP_BODY_CHUNKED &&
	    http_write_header(out, "Transfer-Encoding", "chunked") != 0)
		return -1;
	return http_write_end_head(out);
}

static void
proxy_read_head(struct proxy_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct runtime *rt;
	const struct http_header *h;
	enum route_status rs;
	int rc, fp;

	rc = http_parse_head(&c->req, in);
	if (rc == HTTP_AGAIN) {
		if (c->timer_kind != PROXY_TIMER_HEAD &&
		    evbuffer_get_length(in) > 0)
			proxy_timer_set(c, PROXY_TIMER_HEAD,
			    c->w->gw->opts.header_timeout);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &c->t0);
	{
		struct timespec wall;
		clock_gettime(CLOCK_REALTIME, &wall);
		c->wall0 = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9;
	}
	c->nrequests++;
	c->status = 0;
	c->upstream_status = 0;
	c->reason = NULL;
	c->bytes_in = 0;
	c->bytes_out = 0;
	c->attempts = 0;
	c->resp_any = 0;
	c->resp_head = 0;
	c->head_held = 0;
	c->resp_started = 0;
	c->resp_close = 0;
	c->t_up.tv_sec = 0;
	memset(&c->route, 0xff, sizeof(c->route)); /* every index -1 */
	c->route.consumed = 0;
	rt = worker_runtime(c->w);
	c->rt = worker_runtime_ref(rt);
	http_parser_init(&c->resp, HTTP_RESPONSE, NULL);
	if (rc != HTTP_OK) {
		/* A malformed head: the SKU's page, then close (the framing
		 * of whatever follows cannot be trusted). */
		c->client_ka = 0;
		c->req_done = 0;
		proxy_client_reading(c, 0);
		log_debug("request from %s rejected: %s", c->client,
		    http_status_name(rc));
		c->reason = http_status_name(rc);
		proxy_page(c, pages_status_for_error(rt->cfg->sku, rc), rc,
		    REASON_OK);
		return;
	}
	proxy_timer_set(c, PROXY_TIMER_NONE, 0);
	c->client_ka = c->req.msg.keep_alive;
	c->req_done = c->req.msg.body == HTTP_BODY_NONE;
	/* v2 may send a body again on its timeout retry (v1 never retries) */
	c->replay_ok = !c->req_done && rt->cfg->sku == CONFIG_SKU_V2;
	if (c->replay != NULL)
		evbuffer_drain(c->replay, evbuffer_get_length(c->replay));
	h = http_msg_header(&c->req.msg, "Host");
	fp = proxy_port_fp(rt, c->port);
	if (fp >= 0 && rt->ports[c->port].https != c->tls) {
		/* A reload switched the port between Http and Https: this
		 * connection speaks the other one. */
		proxy_close(c, "the port switched protocol on reload");
		return;
	}
	if (fp < 0) {
		memset(&c->route, 0xff, sizeof(c->route));
		rs = ROUTE_NO_LISTENER;
	} else {
		rs = route_match(rt->cfg, fp, c->sni, h != NULL ? h->value : NULL,
		    c->req.msg.target, &c->route);
	}
	if (rs != ROUTE_OK) {
		c->reason = route_status_name(rs);
		if (rs == ROUTE_SNI_REQUIRED) {
			c->status = 421;
			proxy_finish_request(c);
			proxy_close(c, "server name indication required");
			return;
		}
		if (!c->req_done)
			c->client_ka = 0;
		proxy_page(c, 404, 0, REASON_OK);
		return;
	}
	proxy_upstream_begin(c, 0);
}

/* Choose the member (again, on a retry) and get a connection to it. */
static void
proxy_upstream_begin(struct proxy_conn *c, int fresh)
{
	struct runtime *rt = c->rt;
	const struct config_settings *s = &rt->cfg->settings[c->route.settings];
	const struct http_header *cookie;
	struct upstream_target t;
	struct net_addr addr;
	const char *host, *sni, *vname;
	char hostbuf[256];
	int exclude;

	if (!fresh) {
		exclude = LB_EXCLUDE_NONE;
		if (c->have_target)
			exclude = c->target.member >= 0 ? c->target.member
							: LB_EXCLUDE_DRAINING;
		cookie = http_msg_header(&c->req.msg, "Cookie");
		if (lb_select(rt->lb, c->route.pool, c->route.settings,
			cookie != NULL ? cookie->value : NULL, exclude,
			lb_now_ms(), &c->target) != 0) {
			c->have_target = 0;
			proxy_fail(c, c->attempts > 0 ? 504 : 502,
			    c->attempts > 0 ? REASON_UPSTREAM_TIMEOUT
					    : REASON_NO_HEALTHY_MEMBER,
			    -1);
			return;
		}
		c->have_target = 1;
	}
	c->attempts++;
	if (c->target.member >= 0) {
		struct runtime_member *m =
		    &rt->members[c->route.pool][c->target.member];
		if (!m->resolved) {
			proxy_fail(c, 502, REASON_DNS, METRICS_FAIL_CONNECT);
			return;
		}
		addr = m->addr;
	} else if (worker_resolve(rt->gw, c->target.address, &addr) != 0) {
		proxy_fail(c, 502, REASON_DNS, METRICS_FAIL_CONNECT);
		return;
	}
	if (addr.ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&addr.ss)->sin6_port =
		    htons((uint16_t)s->port);
	else
		((struct sockaddr_in *)&addr.ss)->sin_port =
		    htons((uint16_t)s->port);
	proxy_upstream_names(c, s, &host, &sni, &vname, hostbuf,
	    sizeof(hostbuf));
	memset(&t, 0, sizeof(t));
	t.addr = &addr;
	t.ctx = s->protocol == CONFIG_PROTO_HTTPS ? rt->client_ctx : NULL;
	t.sku = rt->cfg->sku;
	t.sni = sni;
	t.verify_name = vname;
	t.policy = rt->policies[c->route.settings];
	t.timeout_ms = s->request_timeout * 1000;
	t.rt = rt;
	t.pool = c->route.pool;
	t.member = c->target.member;
	t.settings = c->route.settings;
	clock_gettime(CLOCK_MONOTONIC, &c->t_up);
	c->state = PROXY_UPSTREAM;
	c->uc = NULL;
	if (!fresh && c->target.member >= 0)
		c->uc = upstream_pool_get(c->w->pool, &t);
	if (c->uc != NULL) {
		proxy_upstream_connected(c->uc, REASON_OK, 0, c);
		return;
	}
	/* The head is written once the connection is ready (for Https:
	 * verified), never before. */
	c->uc = upstream_connect(c->w->base, &t, proxy_upstream_connected, c);
	if (c->uc == NULL)
		proxy_fail(c, 502, REASON_CONNECT, METRICS_FAIL_CONNECT);
}

/* --- the upstream exchange ----------------------------------------------- */

/* Count one upstream failure of the current request. */
static void
proxy_count_failure(struct proxy_conn *c, int kind, enum reason_code rc)
{
	struct runtime *rt = c->rt;

	if (kind >= 0 && rt != NULL)
		metrics_upstream_failure(rt->gw->metrics, c->w->id, rt->names,
		    c->route.pool, c->have_target ? c->target.member : -1,
		    (enum metrics_failure_kind)kind, rc);
}

/* A failure once the response head is out: log the request with its
 * reason and close (the client sees the response cut short). */
static void
proxy_abort(struct proxy_conn *c, const char *reason, const char *why)
{
	c->reason = reason;
	proxy_finish_request(c);
	proxy_close(c, why);
}

static void
proxy_fail(struct proxy_conn *c, int status, enum reason_code rc, int kind)
{
	proxy_count_failure(c, kind, rc);
	log_debug("request from %s to %s: %d (%s)", c->client,
	    c->have_target ? c->target.address : "-", status,
	    reason_name(rc));
	upstream_free(c->uc);
	c->uc = NULL;
	if (c->resp_started) {
		proxy_abort(c, reason_name(rc), reason_name(rc));
		return;
	}
	proxy_page(c, status, 0, rc);
}

/* Whether the request can be sent again: no body, or (v2) a body short
 * enough that all of it sent so far is kept in c->replay. */
static int
proxy_can_resend(const struct proxy_conn *c)
{
	return !c->resp_any &&
	    (c->req.msg.body == HTTP_BODY_NONE || c->replay_ok);
}

/* A client that sent Expect: 100-continue and no body byte yet: it waits
 * for the member, so requestTimeout runs. */
static int
proxy_awaits_continue(struct proxy_conn *c)
{
	return !c->req_done && c->req.msg.expect_continue &&
	    evbuffer_get_length(bufferevent_get_input(c->bev)) == 0;
}

/* Copy src from offset off to the end into dst. */
static int
proxy_copy_tail(struct evbuffer *dst, struct evbuffer *src, size_t off)
{
	struct evbuffer_ptr pos;
	char buf[16384];
	ev_ssize_t n;

	if (evbuffer_ptr_set(src, &pos, off, EVBUFFER_PTR_SET) != 0)
		return off == evbuffer_get_length(src) ? 0 : -1;
	while ((n = evbuffer_copyout_from(src, &pos, buf, sizeof(buf))) > 0) {
		if (evbuffer_add(dst, buf, (size_t)n) != 0)
			return -1;
		if (evbuffer_ptr_set(src, &pos, (size_t)n, EVBUFFER_PTR_ADD) !=
		    0)
			break;
	}
	return n < 0 ? -1 : 0;
}

/* requestTimeout: v1 502; v2 one retry on another member, then 504. */
static void
proxy_timeout(struct proxy_conn *c)
{
	struct runtime *rt = c->rt;

	proxy_count_failure(c, METRICS_FAIL_TIMEOUT, REASON_UPSTREAM_TIMEOUT);
	upstream_free(c->uc);
	c->uc = NULL;
	if (c->resp_started) {
		proxy_abort(c, reason_name(REASON_UPSTREAM_TIMEOUT),
		    "upstream timeout mid-response");
		return;
	}
	if (rt->cfg->sku == CONFIG_SKU_V1) {
		proxy_page(c, 502, 0, REASON_UPSTREAM_TIMEOUT);
		return;
	}
	if (c->attempts < 2 && proxy_can_resend(c)) {
		log_debug("request from %s: %s timed out, retrying", c->client,
		    c->target.address);
		proxy_upstream_begin(c, 0);
		return;
	}
	proxy_page(c, 504, 0, REASON_UPSTREAM_TIMEOUT);
}

static void
proxy_send_head(struct proxy_conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	const struct http_msg *m = &c->resp.msg;
	const struct http_header *h;
	size_t i, before = evbuffer_get_length(out);
	char ck[512], cors[512];
	int bad = 0;

	/* the response is on its way: no retry can need the body now */
	c->replay_ok = 0;
	if (c->replay != NULL)
		evbuffer_drain(c->replay, evbuffer_get_length(c->replay));
	c->resp_raw = 1;
	if (m->body == HTTP_BODY_EOF)
		c->resp_close = 1;
	if (m->body == HTTP_BODY_CHUNKED && c->req.msg.minor == 0) {
		c->resp_raw = 0; /* an HTTP/1.0 client gets the payload */
		c->resp_close = 1;
	}
	if (!c->client_ka || !c->req_done || c->w->stopping)
		c->resp_close = 1;
	bad |= http_write_status_line(out, m->status,
	    m->reason != NULL ? m->reason : "", 1);
	for (i = 0; i < m->nheaders; i++) {
		h = &m->headers[i];
		if (http_msg_is_hop_by_hop(m, h))
			continue;
		bad |= http_write_headern(out, h->name, h->name_len, h->value,
		    h->value_len);
	}
	if (m->body == HTTP_BODY_CHUNKED && c->resp_raw)
		bad |= http_write_header(out, "Transfer-Encoding", "chunked");
	if (c->target.set_cookie &&
	    lb_affinity_set_cookie(c->rt->lb, c->route.settings, &c->target,
		ck, sizeof(ck), cors, sizeof(cors)) == 0) {
		bad |= http_write_header(out, "Set-Cookie", ck);
		bad |= http_write_header(out, "Set-Cookie", cors);
	}
	if (c->resp_close)
		bad |= http_write_header(out, "Connection", "close");
	else if (c->req.msg.minor == 0)
		bad |= http_write_header(out, "Connection", "keep-alive");
	if (c->w->gw->opts.debug_headers)
		bad |= http_write_header(out, "X-AGW-Member",
		    c->target.address);
	bad |= http_write_end_head(out);
	c->bytes_out += evbuffer_get_length(out) - before;
	c->status = m->status;
	c->resp_started = 1;
	if (bad)
		proxy_close(c, "out of memory");
}

static void
proxy_response_done(struct proxy_conn *c)
{
	struct upstream_conn *uc = c->uc;
	int reusable;

	c->uc = NULL;
	reusable = c->resp.msg.keep_alive && c->req_done &&
	    c->resp.msg.body != HTTP_BODY_EOF && uc->member >= 0 &&
	    evbuffer_get_length(bufferevent_get_input(uc->bev)) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(uc->bev)) == 0 &&
	    c->rt == worker_runtime(c->w) && !c->w->stopping;
	if (reusable)
		upstream_pool_put(c->w->pool, uc);
	else
		upstream_free(uc);
	if (!c->req_done)
		c->resp_close = 1;
	proxy_finish_request(c);
	proxy_next(c);
}

/* Move response bytes; returns 1 when the exchange ended (c may be gone). */
static int
proxy_pump_response_rc(struct proxy_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->uc->bev);
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t before = evbuffer_get_length(out);
	int rc;

	rc = http_parse_body(&c->resp, in, out, c->resp_raw);
	c->bytes_out += evbuffer_get_length(out) - before;
	proxy_flush(c->bev, c->tls);
	if (rc == HTTP_OK) {
		proxy_response_done(c);
		return 1;
	}
	if (rc < 0) {
		proxy_count_failure(c, METRICS_FAIL_RESPONSE,
		    REASON_UPSTREAM_INVALID);
		proxy_abort(c, reason_name(REASON_UPSTREAM_INVALID),
		    "invalid upstream body");
		return 1;
	}
	if (evbuffer_get_length(out) > PROXY_HIGH) {
		bufferevent_disable(c->uc->bev, EV_READ);
		bufferevent_setwatermark(c->bev, EV_WRITE, PROXY_LOW, 0);
		bufferevent_enable(c->bev, EV_WRITE);
	}
	return 0;
}

static void
proxy_pump_response(struct proxy_conn *c)
{
	(void)proxy_pump_response_rc(c);
}

/* Parse what the upstream sent; returns 1 when the exchange ended. */
static int
proxy_upstream_read(struct proxy_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->uc->bev);
	struct evbuffer *out;
	int rc, status;

	if (evbuffer_get_length(in) > 0)
		c->resp_any = 1; /* a response has begun: no retry now */
	if (c->head_held) {
		if (evbuffer_get_length(in) == 0)
			return 0;
		c->head_held = 0;
		proxy_send_head(c);
		if (c->resp_started == 0)
			return 1;
	}
	while (!c->resp_head) {
		rc = http_parse_head(&c->resp, in);
		if (rc == HTTP_AGAIN)
			return 0;
		if (rc != HTTP_OK) {
			log_debug("invalid response from %s: %s",
			    c->target.address, http_status_name(rc));
			proxy_fail(c, 502, REASON_UPSTREAM_INVALID,
			    METRICS_FAIL_RESPONSE);
			return 1;
		}
		status = c->resp.msg.status;
		if (status >= 100 && status < 200) {
			if (status == 101) {
				proxy_fail(c, 502, REASON_UPSTREAM_INVALID,
				    METRICS_FAIL_RESPONSE);
				return 1;
			}
			out = bufferevent_get_output(c->bev);
			if (c->req.msg.minor >= 1 &&
			    (http_write_status_line(out, status,
				 c->resp.msg.reason, 1) != 0 ||
				http_write_end_head(out) != 0)) {
				proxy_close(c, "out of memory");
				return 1;
			}
			proxy_flush(c->bev, c->tls);
			http_parser_reset(&c->resp);
			http_parser_set_head_request(&c->resp,
			    strcmp(c->req.msg.method, "HEAD") == 0);
			continue;
		}
		c->resp_head = 1;
		c->upstream_status = status;
		if (c->resp.msg.body != HTTP_BODY_NONE &&
		    evbuffer_get_length(in) == 0) {
			/* Hold the head until body bytes come: a backend that
			 * closes now gets its 502 page, not a cut response. */
			c->head_held = 1;
			return 0;
		}
		proxy_send_head(c);
		if (c->resp_started == 0)
			return 1;
	}
	return proxy_pump_response_rc(c);
}

static void
proxy_up_readcb(struct bufferevent *bev, void *arg)
{
	(void)proxy_upstream_read(arg);
}

static void
proxy_up_writecb(struct bufferevent *bev, void *arg)
{
	struct proxy_conn *c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_disable(bev, EV_WRITE); /* see proxy_flush_upstream */
	/* The upstream drained below LOW: resume reading the client. */
	if (!c->req_done) {
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		proxy_client_reading(c, 1);
		proxy_pump_request(c);
	}
}

static void
proxy_up_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct proxy_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (what & BEV_EVENT_TIMEOUT) {
		proxy_timeout(c);
		return;
	}
	/* Bytes that arrived with the close come first. */
	if (evbuffer_get_length(in) > 0 && proxy_upstream_read(c))
		return;
	if (c->head_held) {
		/* closed right after the head: only a read-until-close body
		 * may be empty */
		if ((what & BEV_EVENT_EOF) &&
		    http_parse_eof(&c->resp) == HTTP_OK) {
			c->head_held = 0;
			proxy_send_head(c);
			if (c->resp_started)
				proxy_response_done(c);
			return;
		}
		proxy_fail(c, 502, REASON_UPSTREAM_INVALID,
		    METRICS_FAIL_RESPONSE);
		return;
	}
	if (c->resp_head) {
		if ((what & BEV_EVENT_EOF) &&
		    http_parse_eof(&c->resp) == HTTP_OK) {
			proxy_response_done(c);
			return;
		}
		proxy_count_failure(c, METRICS_FAIL_RESPONSE,
		    REASON_UPSTREAM_RESET);
		proxy_abort(c, reason_name(REASON_UPSTREAM_RESET),
		    "upstream closed mid-response");
		return;
	}
	/* A reused connection the backend closed while it idled: retry once
	 * on a fresh connection when the request can be sent again. */
	if (c->uc->requests > 0 && proxy_can_resend(c) &&
	    evbuffer_get_length(in) == 0) {
		upstream_free(c->uc);
		c->uc = NULL;
		c->attempts--;
		proxy_upstream_begin(c, 1);
		return;
	}
	proxy_fail(c, 502, REASON_UPSTREAM_RESET, METRICS_FAIL_RESPONSE);
}

static void
proxy_upstream_connected(struct upstream_conn *uc, enum reason_code reason,
    int error_code, void *arg)
{
	struct proxy_conn *c = arg;
	const struct config_settings *s =
	    &c->rt->cfg->settings[c->route.settings];
	const char *host, *sni, *vname;
	char hostbuf[256];
	struct timeval tv = { s->request_timeout, 0 };
	int kind;

	if (reason != REASON_OK) {
		if (reason == REASON_UPSTREAM_TIMEOUT) {
			proxy_timeout(c);
			return;
		}
		kind = reason == REASON_CONNECT ? METRICS_FAIL_CONNECT
						: METRICS_FAIL_TLS;
		if (reason != REASON_CONNECT)
			log_info("upstream %s (pool %s): %s",
			    c->target.address,
			    c->rt->cfg->pools[c->route.pool].name,
			    reason_name(reason));
		proxy_fail(c, 502, reason, kind);
		return;
	}
	proxy_upstream_names(c, s, &host, &sni, &vname, hostbuf,
	    sizeof(hostbuf));
	bufferevent_disable(uc->bev, EV_WRITE); /* see proxy_flush_upstream */
	if (proxy_build_head(c, host, bufferevent_get_output(uc->bev)) != 0) {
		proxy_close(c, "out of memory");
		return;
	}
	/* A retry: the body bytes the last member got go first. */
	if (c->replay_ok && c->replay != NULL &&
	    evbuffer_get_length(c->replay) > 0 &&
	    proxy_copy_tail(bufferevent_get_output(uc->bev), c->replay, 0) !=
		0) {
		proxy_close(c, "out of memory");
		return;
	}
	http_parser_set_head_request(&c->resp,
	    strcmp(c->req.msg.method, "HEAD") == 0);
	bufferevent_setcb(uc->bev, proxy_up_readcb, proxy_up_writecb,
	    proxy_up_eventcb, c);
	bufferevent_setwatermark(uc->bev, EV_WRITE, 0, 0);
	bufferevent_setwatermark(uc->bev, EV_READ, 0, PROXY_READ_MAX);
	/* requestTimeout: the wait for the response, once the request is
	 * sent (a client still uploading has the body timer instead), or
	 * while a client waits for 100 Continue before its body */
	bufferevent_set_timeouts(uc->bev,
	    c->req_done || proxy_awaits_continue(c) ? &tv : NULL, NULL);
	bufferevent_enable(uc->bev, EV_READ);
	proxy_flush_upstream(uc);
	c->state = PROXY_FORWARD;
	if (!c->req_done) {
		proxy_timer_set(c, PROXY_TIMER_BODY,
		    c->w->gw->opts.header_timeout);
		proxy_pump_request(c);
	}
}

static void
proxy_pump_request(struct proxy_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer *out = bufferevent_get_output(c->uc->bev);
	size_t before = evbuffer_get_length(in), kept;
	int rc;

	if (c->replay_ok && c->replay == NULL &&
	    (c->replay = evbuffer_new()) == NULL)
		c->replay_ok = 0;
	if (c->replay_ok) {
		/* through c->replay, which keeps a copy */
		kept = evbuffer_get_length(c->replay);
		rc = http_parse_body(&c->req, in, c->replay, 1);
		if (proxy_copy_tail(out, c->replay, kept) != 0) {
			proxy_close(c, "out of memory");
			return;
		}
		if (evbuffer_get_length(c->replay) > PROXY_REPLAY_MAX) {
			c->replay_ok = 0; /* too long to keep: no retry */
			evbuffer_drain(c->replay,
			    evbuffer_get_length(c->replay));
		}
	} else
		rc = http_parse_body(&c->req, in, out, 1);
	if (rc == HTTP_AGAIN && c->req.msg.expect_continue &&
	    evbuffer_get_length(in) < before)
		/* the body flows: the client, not the member, sets the pace */
		bufferevent_set_timeouts(c->uc->bev, NULL, NULL);
	c->bytes_in += before - evbuffer_get_length(in);
	proxy_flush_upstream(c->uc);
	if (rc < 0) {
		log_debug("request body from %s rejected: %s", c->client,
		    http_status_name(rc));
		c->client_ka = 0;
		upstream_free(c->uc);
		c->uc = NULL;
		if (c->resp_started) {
			proxy_abort(c, http_status_name(rc),
			    "invalid request body");
			return;
		}
		c->reason = http_status_name(rc);
		proxy_page(c, 400, rc, REASON_OK);
		return;
	}
	if (rc == HTTP_OK) {
		struct timeval tv = {
		    c->rt->cfg->settings[c->route.settings].request_timeout, 0};

		c->req_done = 1;
		proxy_timer_set(c, PROXY_TIMER_NONE, 0);
		bufferevent_set_timeouts(c->uc->bev, &tv, NULL);
		return;
	}
	if (evbuffer_get_length(out) > PROXY_HIGH) {
		proxy_client_reading(c, 0);
		bufferevent_setwatermark(c->uc->bev, EV_WRITE, PROXY_LOW, 0);
	}
	proxy_timer_set(c, PROXY_TIMER_BODY, c->w->gw->opts.header_timeout);
}

/* --- accepting ---------------------------------------------------------- */

/* True when a listener on frontend port fp requires SNI (a handshake
 * without SNI that no listener takes is then refused). */
static int
proxy_port_requires_sni(const struct config *cfg, int fp)
{
	size_t i;

	for (i = 0; i < cfg->nlisteners; i++)
		if (cfg->frontend_ports[cfg->listeners[i].frontend_port].port ==
			cfg->frontend_ports[fp].port &&
		    cfg->listeners[i].require_sni)
			return 1;
	return 0;
}

int
proxy_sni_cb(SSL *ssl, int *alert, void *arg)
{
	struct proxy_conn *c = SSL_get_app_data(ssl);
	struct runtime *rt;
	enum route_status st;
	const char *name;
	int fp, li, cert;

	if (c == NULL || (rt = c->hs_rt) == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	fp = proxy_port_fp(rt, c->port);
	if (fp < 0)
		return SSL_TLSEXT_ERR_NOACK;
	li = route_listener(rt->cfg, fp, name, NULL, &st);
	if (li < 0) {
		if (st == ROUTE_SNI_REQUIRED ||
		    (name == NULL && proxy_port_requires_sni(rt->cfg, fp))) {
			*alert = SSL_AD_UNRECOGNIZED_NAME;
			return SSL_TLSEXT_ERR_ALERT_FATAL;
		}
		return SSL_TLSEXT_ERR_NOACK;
	}
	cert = rt->cfg->listeners[li].ssl_cert;
	if (cert >= 0 && rt->server_ctx[cert] != NULL &&
	    SSL_get_SSL_CTX(ssl) != rt->server_ctx[cert])
		SSL_set_SSL_CTX(ssl, rt->server_ctx[cert]);
	return SSL_TLSEXT_ERR_OK;
}

void
proxy_accept(struct worker *w, int fd, const struct sockaddr *sa,
    int socklen, int port)
{
	struct proxy_conn *c;
	struct runtime *rt = worker_runtime(w);
	char ip[INET6_ADDRSTRLEN] = "?";
	SSL *ssl = NULL;
	int one = 1;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->w = w;
	c->port = port;
	c->tls = (size_t)port < rt->nports && rt->ports[port].https;
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		c->client_port = ntohs(s6->sin6_port);
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		c->client_port = ntohs(s4->sin_port);
	}
	(void)socklen;
	snprintf(c->client_ip, sizeof(c->client_ip), "%s", ip);
	snprintf(c->client, sizeof(c->client), "%s:%d", ip, c->client_port);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	http_parser_init(&c->req, HTTP_REQUEST, NULL);
	http_parser_init(&c->resp, HTTP_RESPONSE, NULL);
	TAILQ_INSERT_TAIL(&w->conns, c, entry);
	w->nconns++;
	if ((c->timer = evtimer_new(w->base, proxy_timer_cb, c)) == NULL)
		goto fail;
	if (c->tls) {
		if (rt->ports[port].ctx == NULL ||
		    (ssl = SSL_new(rt->ports[port].ctx)) == NULL)
			goto fail;
		c->hs_rt = worker_runtime_ref(rt);
		SSL_set_app_data(ssl, c);
		c->bev = bufferevent_openssl_socket_new(w->base, fd, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL) {
			SSL_free(ssl);
			goto fail;
		}
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	} else {
		c->bev = bufferevent_socket_new(w->base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL)
			goto fail;
	}
	fd = -1;
	bufferevent_setcb(c->bev, proxy_client_readcb, proxy_client_writecb,
	    proxy_client_eventcb, c);
	if (c->tls) {
		bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	} else {
		/* see proxy_flush and proxy_client_rawreadcb */
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		c->rev = event_new(w->base, bufferevent_getfd(c->bev),
		    EV_READ | EV_PERSIST, proxy_client_rawreadcb, c);
		if (c->rev == NULL ||
		    evbuffer_add_cb(bufferevent_get_input(c->bev),
			proxy_client_input_cb, c) == NULL)
			goto fail;
	}
	proxy_client_read_max(c, PROXY_READ_MAX);
	proxy_client_reading(c, 1);
	c->state = PROXY_HEAD;
	proxy_timer_set(c, PROXY_TIMER_HEAD, w->gw->opts.header_timeout);
	return;
fail:
	if (fd >= 0)
		close(fd);
	ERR_clear_error();
	proxy_close(c, "cannot set up the connection");
}

void
proxy_close_idle(struct worker *w)
{
	struct proxy_conn *c, *next;

	for (c = TAILQ_FIRST(&w->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->state == PROXY_HEAD &&
		    evbuffer_get_length(bufferevent_get_input(c->bev)) == 0)
			proxy_close(c, "shutting down");
	}
}

void
proxy_close_all(struct worker *w)
{
	struct proxy_conn *c;

	while ((c = TAILQ_FIRST(&w->conns)) != NULL)
		proxy_close(c, "shutdown deadline");
}
