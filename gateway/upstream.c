#include "upstream.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "log.h"
#include "verify.h"

TAILQ_HEAD(upstream_list, upstream_conn);

struct upstream_pool {
	struct upstream_list idle;
	size_t nidle;
	int idle_timeout_s;
};

static void
upstream_report(struct upstream_conn *uc, enum reason_code reason, int code)
{
	upstream_cb cb = uc->cb;

	uc->cb = NULL;
	bufferevent_setcb(uc->bev, NULL, NULL, NULL, NULL);
	bufferevent_set_timeouts(uc->bev, NULL, NULL);
	if (cb != NULL)
		cb(uc, reason, code, uc->arg);
}

/* Did the TCP connect complete? */
static int
upstream_tcp_connected(struct bufferevent *bev)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	evutil_socket_t fd = bufferevent_getfd(bev);

	return fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &len) == 0;
}

static void
upstream_connect_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct upstream_conn *uc = arg;
	struct verify_result vr;
	STACK_OF(X509) *chain;
	unsigned long ossl;
	SSL *ssl;

	if (what & BEV_EVENT_CONNECTED) {
		if (!uc->tls) {
			upstream_report(uc, REASON_OK, 0);
			return;
		}
		ssl = bufferevent_openssl_get_ssl(bev);
		chain = SSL_get_peer_cert_chain(ssl);
		if (chain == NULL || sk_X509_num(chain) == 0) {
			upstream_report(uc, REASON_TLS_HANDSHAKE, 0);
			return;
		}
		vr = verify_chain(uc->policy, chain, uc->verify_name,
		    time(NULL));
		upstream_report(uc, vr.reason, vr.error_code);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		upstream_report(uc, REASON_UPSTREAM_TIMEOUT, 0);
		return;
	}
	ossl = uc->tls ? bufferevent_get_openssl_error(bev) : 0;
	ERR_clear_error();
	/* bufferevent_openssl reports a refused connect as a dirty TLS
	 * shutdown: only a socket that got connected failed in the handshake. */
	if (uc->tls && (ossl != 0 || (what & BEV_EVENT_EOF)) &&
	    upstream_tcp_connected(bev))
		upstream_report(uc, REASON_TLS_HANDSHAKE, 0);
	else
		upstream_report(uc, REASON_CONNECT, 0);
}

struct upstream_conn *
upstream_connect(struct event_base *base, const struct upstream_target *t,
    upstream_cb cb, void *arg)
{
	struct upstream_conn *uc;
	struct timeval tv;
	SSL *ssl = NULL;
	int one = 1;

	if ((uc = calloc(1, sizeof(*uc))) == NULL)
		return NULL;
	uc->rt = t->rt;
	uc->pool_idx = t->pool;
	uc->member = t->member;
	uc->settings = t->settings;
	uc->cb = cb;
	uc->arg = arg;
	uc->sku = t->sku;
	uc->policy = t->policy;
	if (t->sni != NULL && (uc->sni = strdup(t->sni)) == NULL)
		goto fail;
	if (t->verify_name != NULL &&
	    (uc->verify_name = strdup(t->verify_name)) == NULL)
		goto fail;
	if (t->ctx != NULL) {
		uc->tls = 1;
		if (t->policy == NULL)
			goto fail; /* never verify-none */
		if ((ssl = SSL_new(t->ctx)) == NULL)
			goto fail;
		if (verify_ssl_prepare(ssl, t->sku, t->sni) != 0)
			goto fail;
		uc->bev = bufferevent_openssl_socket_new(base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING,
		    BEV_OPT_CLOSE_ON_FREE);
		if (uc->bev == NULL)
			goto fail;
		ssl = NULL; /* owned by the bufferevent */
		bufferevent_openssl_set_allow_dirty_shutdown(uc->bev, 1);
	} else {
		uc->bev = bufferevent_socket_new(base, -1,
		    BEV_OPT_CLOSE_ON_FREE);
		if (uc->bev == NULL)
			goto fail;
	}
	bufferevent_setcb(uc->bev, NULL, NULL, upstream_connect_eventcb, uc);
	if (t->timeout_ms > 0) {
		tv.tv_sec = t->timeout_ms / 1000;
		tv.tv_usec = (t->timeout_ms % 1000) * 1000;
		bufferevent_set_timeouts(uc->bev, &tv, &tv);
	}
	/* libevent reports an immediate failure (a refused loopback connect)
	 * through a deferred event callback, so the caller always hears back
	 * asynchronously. */
	if (bufferevent_socket_connect(uc->bev,
		(const struct sockaddr *)&t->addr->ss, (int)t->addr->len) != 0) {
		ERR_clear_error();
		goto fail;
	}
	/* The socket exists now (libevent made it): no Nagle, or a TLS
	 * record split across segments waits for a delayed ACK. */
	if (bufferevent_getfd(uc->bev) >= 0)
		(void)setsockopt(bufferevent_getfd(uc->bev), IPPROTO_TCP,
		    TCP_NODELAY, &one, sizeof(one));
	return uc;
fail:
	ERR_clear_error();
	SSL_free(ssl);
	upstream_free(uc);
	return NULL;
}

void
upstream_free(struct upstream_conn *uc)
{
	if (uc == NULL)
		return;
	if (uc->pool != NULL) {
		TAILQ_REMOVE(&uc->pool->idle, uc, entry);
		uc->pool->nidle--;
		uc->pool = NULL;
	}
	if (uc->bev != NULL) {
		if (uc->tls) {
			SSL *ssl = bufferevent_openssl_get_ssl(uc->bev);
			/* no close_notify wait: the socket closes now */
			if (ssl != NULL)
				SSL_set_shutdown(ssl,
				    SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
		}
		bufferevent_free(uc->bev);
	}
	free(uc->sni);
	free(uc->verify_name);
	free(uc);
}

struct upstream_pool *
upstream_pool_new(int idle_timeout_s)
{
	struct upstream_pool *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	TAILQ_INIT(&p->idle);
	p->idle_timeout_s = idle_timeout_s > 0 ? idle_timeout_s : 60;
	return p;
}

void
upstream_pool_free(struct upstream_pool *p)
{
	if (p == NULL)
		return;
	upstream_pool_flush(p, NULL);
	free(p);
}

static int
upstream_same_sni(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

struct upstream_conn *
upstream_pool_get(struct upstream_pool *p, const struct upstream_target *t)
{
	struct upstream_conn *uc;

	TAILQ_FOREACH(uc, &p->idle, entry) {
		if (uc->rt == t->rt && uc->pool_idx == t->pool &&
		    uc->member == t->member && uc->settings == t->settings &&
		    uc->tls == (t->ctx != NULL) &&
		    (!uc->tls || upstream_same_sni(uc->sni, t->sni))) {
			TAILQ_REMOVE(&p->idle, uc, entry);
			p->nidle--;
			uc->pool = NULL;
			/* Reading stays enabled: disabling it here and
			 * enabling it again in the caller costs an
			 * epoll_ctl per reuse. */
			bufferevent_setcb(uc->bev, NULL, NULL, NULL, NULL);
			bufferevent_set_timeouts(uc->bev, NULL, NULL);
			uc->requests++;
			return uc;
		}
	}
	return NULL;
}

/* An idle connection that reads anything, closes, fails or times out is
 * closed: a backend has nothing to say between requests. */
static void
upstream_idle_readcb(struct bufferevent *bev, void *arg)
{
	upstream_free(arg);
}

static void
upstream_idle_eventcb(struct bufferevent *bev, short what, void *arg)
{
	upstream_free(arg);
}

void
upstream_pool_put(struct upstream_pool *p, struct upstream_conn *uc)
{
	struct timeval tv = { p->idle_timeout_s, 0 };

	uc->cb = NULL;
	uc->pool = p;
	TAILQ_INSERT_HEAD(&p->idle, uc, entry);
	p->nidle++;
	bufferevent_setcb(uc->bev, upstream_idle_readcb, NULL,
	    upstream_idle_eventcb, uc);
	bufferevent_setwatermark(uc->bev, EV_READ | EV_WRITE, 0, 0);
	bufferevent_set_timeouts(uc->bev, &tv, NULL);
	bufferevent_enable(uc->bev, EV_READ);
}

void
upstream_pool_flush(struct upstream_pool *p, const void *keep_rt)
{
	struct upstream_conn *uc, *next;

	for (uc = TAILQ_FIRST(&p->idle); uc != NULL; uc = next) {
		next = TAILQ_NEXT(uc, entry);
		if (keep_rt == NULL || uc->rt != keep_rt)
			upstream_free(uc);
	}
}

size_t
upstream_pool_idle(const struct upstream_pool *p)
{
	return p->nidle;
}
