#include "worker.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>

#include "health.h"
#include "lb.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "proxy.h"
#include "tls.h"
#include "upstream.h"
#include "verify.h"

/* A stopping worker closes what is left after this many seconds. */
#define WORKER_DRAIN_S 30

struct worker_lctx {
	struct worker *w;
	int port;
};

/* --- runtime snapshots ---------------------------------------------------- */

int
worker_resolve(struct gateway *gw, const char *address, struct net_addr *out)
{
	struct addrinfo hints, *res = NULL;
	char err[128];
	size_t i;

	memset(out, 0, sizeof(*out));
	if (net_is_ip_literal(address))
		return net_addr_parse(address, 0, out, err, sizeof(err));
	for (i = 0; i < gw->opts.nresolve; i++) {
		if (strcasecmp(gw->opts.resolve[i].name, address) == 0) {
			*out = gw->opts.resolve[i].addr;
			return 0;
		}
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(address, NULL, &hints, &res) != 0 || res == NULL) {
		hints.ai_family = AF_UNSPEC;
		if (getaddrinfo(address, NULL, &hints, &res) != 0 ||
		    res == NULL)
			return -1;
	}
	memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
	out->len = (socklen_t)res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void
worker_runtime_free(struct runtime *rt)
{
	const struct config *c = rt->cfg;
	size_t i;

	lb_free(rt->lb);
	metrics_names_free(rt->names);
	if (rt->policies != NULL)
		for (i = 0; i < c->nsettings; i++)
			verify_policy_free(rt->policies[i]);
	free(rt->policies);
	SSL_CTX_free(rt->client_ctx);
	if (rt->server_ctx != NULL)
		for (i = 0; i < c->nssl_certs; i++)
			SSL_CTX_free(rt->server_ctx[i]);
	free(rt->server_ctx);
	free(rt->port_ctx);
	free(rt->port_map);
	if (rt->members != NULL)
		for (i = 0; i < c->npools; i++)
			free(rt->members[i]);
	free(rt->members);
	config_unref(rt->cfg);
	free(rt);
}

/* Map the snapshot's frontend ports onto the bound ones. */
static int
worker_runtime_ports(struct gateway *gw, struct runtime *rt, char *err,
    size_t errlen)
{
	const struct config *c = rt->cfg;
	size_t i, j, p;
	int found, https;

	if ((rt->port_map = calloc(gw->nports + 1, sizeof(int))) == NULL ||
	    (rt->port_ctx = calloc(gw->nports + 1, sizeof(SSL_CTX *))) ==
		NULL)
		goto nomem;
	for (p = 0; p < gw->nports; p++) {
		rt->port_map[p] = -1;
		for (i = 0; i < c->nfrontend_ports; i++)
			if (c->frontend_ports[i].port == gw->ports[p].configured)
				rt->port_map[p] = (int)i;
	}
	for (i = 0; i < c->nlisteners; i++) {
		const struct config_listener *l = &c->listeners[i];
		const struct config_frontend_port *fp =
		    &c->frontend_ports[l->frontend_port];

		found = 0;
		https = l->protocol == CONFIG_PROTO_HTTPS;
		for (p = 0; p < gw->nports; p++) {
			if (gw->ports[p].configured != fp->port)
				continue;
			found = 1;
			if (gw->ports[p].https != https) {
				snprintf(err, errlen,
				    "httpListeners[%s]: frontend port %d was "
				    "bound as %s; changing the protocol of a "
				    "port needs a restart",
				    l->name, fp->port,
				    gw->ports[p].https ? "Https" : "Http");
				return -1;
			}
			if (https && rt->port_ctx[p] == NULL &&
			    l->ssl_cert >= 0)
				rt->port_ctx[p] = rt->server_ctx[l->ssl_cert];
		}
		if (!found && gw->nports > 0) {
			snprintf(err, errlen,
			    "frontendPorts[%s]: port %d is not bound; adding "
			    "a frontend port needs a restart",
			    fp->name, fp->port);
			return -1;
		}
	}
	(void)j;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

struct runtime *
worker_runtime_new(struct gateway *gw, struct config *c,
    const struct runtime *old, char *err, size_t errlen)
{
	struct runtime *rt;
	char terr[512];
	size_t i, j;

	if ((rt = calloc(1, sizeof(*rt))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&rt->refs, 1);
	rt->gw = gw;
	rt->cfg = config_ref(c);
	rt->policies = calloc(c->nsettings + 1, sizeof(*rt->policies));
	rt->server_ctx = calloc(c->nssl_certs + 1, sizeof(*rt->server_ctx));
	rt->members = calloc(c->npools + 1, sizeof(*rt->members));
	if (rt->policies == NULL || rt->server_ctx == NULL ||
	    rt->members == NULL)
		goto nomem;
	for (i = 0; i < c->nsettings; i++) {
		if (c->settings[i].protocol != CONFIG_PROTO_HTTPS)
			continue;
		rt->policies[i] = verify_policy_new(c, &c->settings[i],
		    gw->well_known);
		if (rt->policies[i] == NULL) {
			snprintf(err, errlen,
			    "backendHttpSettingsCollection[%s]: cannot build "
			    "the certificate policy",
			    c->settings[i].name);
			goto fail;
		}
	}
	rt->client_ctx = tls_client_ctx_new(TLS1_2_VERSION, 0, terr,
	    sizeof(terr));
	if (rt->client_ctx == NULL) {
		snprintf(err, errlen, "%s", terr);
		goto fail;
	}
	SSL_CTX_set_session_cache_mode(rt->client_ctx, SSL_SESS_CACHE_OFF);
	/* verify_chain is the one judge of a backend's certificate (a weak
	 * key or a SHA-1 signature is its v2.verify_failed, and v1 does not
	 * check them): the handshake itself must not refuse them first. */
	SSL_CTX_set_security_level(rt->client_ctx, 0);
	for (i = 0; i < c->nssl_certs; i++) {
		const struct config_ssl_cert *sc = &c->ssl_certs[i];

		rt->server_ctx[i] = tls_server_ctx_new(sc->cert, sc->key,
		    sc->chain, TLS1_2_VERSION, 0, terr, sizeof(terr));
		if (rt->server_ctx[i] == NULL) {
			snprintf(err, errlen, "sslCertificates[%s]: %s",
			    sc->name, terr);
			goto fail;
		}
		SSL_CTX_set_tlsext_servername_callback(rt->server_ctx[i],
		    proxy_sni_cb);
	}
	if (worker_runtime_ports(gw, rt, err, errlen) != 0)
		goto fail;
	for (i = 0; i < c->npools; i++) {
		const struct config_pool *p = &c->pools[i];

		rt->members[i] = calloc(p->nmembers + 1,
		    sizeof(struct runtime_member));
		if (rt->members[i] == NULL)
			goto nomem;
		for (j = 0; j < p->nmembers; j++) {
			struct runtime_member *m = &rt->members[i][j];

			m->resolved = worker_resolve(gw,
			    p->members[j].address, &m->addr) == 0;
			if (!m->resolved)
				log_warn("backendAddressPools[%s]: %s does "
					 "not resolve",
				    p->name, p->members[j].address);
		}
	}
	rt->lb = lb_new(c, gw->health, old != NULL ? old->lb : NULL,
	    lb_now_ms());
	rt->names = metrics_names_new(gw->metrics, c);
	if (rt->lb == NULL || rt->names == NULL)
		goto nomem;
	return rt;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	ERR_clear_error();
	worker_runtime_free(rt);
	return NULL;
}

struct runtime *
worker_runtime_ref(struct runtime *rt)
{
	atomic_fetch_add(&rt->refs, 1);
	return rt;
}

void
worker_runtime_unref(struct runtime *rt)
{
	if (rt != NULL && atomic_fetch_sub(&rt->refs, 1) == 1)
		worker_runtime_free(rt);
}

void
worker_runtime_publish(struct gateway *gw, struct runtime *rt)
{
	struct runtime *old;

	pthread_mutex_lock(&gw->rt_lock);
	old = gw->rt;
	gw->rt = rt;
	atomic_fetch_add(&gw->rt_gen, 1);
	pthread_mutex_unlock(&gw->rt_lock);
	worker_runtime_unref(old);
}

struct runtime *
worker_runtime_current(struct gateway *gw)
{
	struct runtime *rt;

	pthread_mutex_lock(&gw->rt_lock);
	rt = gw->rt != NULL ? worker_runtime_ref(gw->rt) : NULL;
	pthread_mutex_unlock(&gw->rt_lock);
	return rt;
}

struct runtime *
worker_runtime(struct worker *w)
{
	unsigned gen = atomic_load(&w->gw->rt_gen);
	struct runtime *old;

	if (w->rt == NULL || gen != w->rt_gen) {
		old = w->rt;
		w->rt = worker_runtime_current(w->gw);
		w->rt_gen = gen;
		if (old != NULL) {
			/* pooled connections belong to the old snapshot */
			if (w->pool != NULL)
				upstream_pool_flush(w->pool, w->rt);
			worker_runtime_unref(old);
		}
	}
	return w->rt;
}

/* --- worker threads ------------------------------------------------------- */

static void
worker_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct worker_lctx *lc = arg;

	if (lc->w->stopping) {
		close(fd);
		return;
	}
	proxy_accept(lc->w, fd, sa, socklen, lc->port);
}

static void
worker_accept_error_cb(struct evconnlistener *l, void *arg)
{
	log_warn("accept: %s",
	    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

static void
worker_finish(struct worker *w)
{
	if (w->pool != NULL)
		upstream_pool_flush(w->pool, NULL);
	event_base_loopexit(w->base, NULL);
}

void
worker_conn_gone(struct worker *w)
{
	if (w->stopping && w->nconns == 0)
		worker_finish(w);
}

static void
worker_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	proxy_close_all(w);
	worker_finish(w);
}

static void
worker_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct timeval tv = { WORKER_DRAIN_S, 0 };
	size_t i;

	if (w->stopping)
		return;
	w->stopping = 1;
	for (i = 0; i < w->gw->nports; i++) {
		if (w->listeners[i] != NULL)
			evconnlistener_free(w->listeners[i]);
		w->listeners[i] = NULL;
	}
	proxy_close_idle(w);
	if (w->nconns == 0) {
		worker_finish(w);
		return;
	}
	evtimer_add(w->deadline_ev, &tv);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static struct worker *
worker_new(struct gateway *gw, int id)
{
	struct worker *w;
	size_t i;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->gw = gw;
	w->id = id;
	TAILQ_INIT(&w->conns);
	w->stop_fds[0] = w->stop_fds[1] = -1;
	/* A worker's loop is only ever touched by its own thread (the stop
	 * request comes through a socket pair), so it needs no lock; the
	 * changelist folds the add/del pairs of one pass into one
	 * epoll_ctl. */
	w->base = net_base_new(EVENT_BASE_FLAG_NOLOCK);
	w->listeners = calloc(gw->nports + 1, sizeof(*w->listeners));
	w->fds = calloc(gw->nports + 1, sizeof(int));
	w->lctx = calloc(gw->nports + 1, sizeof(*w->lctx));
	w->pool = upstream_pool_new(gw->opts.upstream_idle_timeout);
	if (w->base == NULL || w->listeners == NULL || w->fds == NULL ||
	    w->lctx == NULL || w->pool == NULL)
		goto fail;
	for (i = 0; i < gw->nports; i++)
		w->fds[i] = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		w->stop_fds) != 0)
		goto fail;
	w->stop_ev = event_new(w->base, w->stop_fds[0], EV_READ,
	    worker_stop_cb, w);
	w->deadline_ev = evtimer_new(w->base, worker_deadline_cb, w);
	if (w->stop_ev == NULL || w->deadline_ev == NULL ||
	    event_add(w->stop_ev, NULL) != 0)
		goto fail;
	return w;
fail:
	/* worker_free_all frees partial workers once they are listed */
	if (w->stop_ev != NULL)
		event_free(w->stop_ev);
	if (w->deadline_ev != NULL)
		event_free(w->deadline_ev);
	upstream_pool_free(w->pool);
	free(w->listeners);
	free(w->fds);
	free(w->lctx);
	if (w->base != NULL)
		event_base_free(w->base);
	if (w->stop_fds[0] >= 0) {
		close(w->stop_fds[0]);
		close(w->stop_fds[1]);
	}
	free(w);
	return NULL;
}

int
worker_bind_all(struct gateway *gw, int n, char *err, size_t errlen)
{
	struct net_addr a;
	struct worker *w;
	size_t p;
	int i, fd;
	int flags = n > 1 ? NET_LISTEN_REUSEPORT : 0;

	if ((gw->workers = calloc((size_t)n, sizeof(*gw->workers))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((w = worker_new(gw, i)) == NULL) {
			snprintf(err, errlen, "cannot create worker %d", i);
			return -1;
		}
		gw->workers[gw->nworkers++] = w;
	}
	for (p = 0; p < gw->nports; p++) {
		struct gateway_port *gp = &gw->ports[p];

		if (net_addr_parse(gw->opts.listen_address,
			gw->opts.ephemeral_ports ? 0 : gp->configured, &a, err,
			errlen) != 0)
			return -1;
		for (i = 0; i < n; i++) {
			if (i > 0)
				a = gp->addr; /* the real port of worker 0 */
			fd = net_listen(&a, flags, 511, err, errlen);
			if (fd < 0)
				return -1;
			gw->workers[i]->fds[p] = fd;
			if (i == 0)
				gp->addr = a;
		}
	}
	for (i = 0; i < n; i++) {
		w = gw->workers[i];
		for (p = 0; p < gw->nports; p++) {
			w->lctx[p].w = w;
			w->lctx[p].port = (int)p;
			w->listeners[p] = evconnlistener_new(w->base,
			    worker_accept_cb, &w->lctx[p],
			    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1,
			    w->fds[p]);
			if (w->listeners[p] == NULL) {
				snprintf(err, errlen,
				    "cannot listen on frontend port %d",
				    gw->ports[p].configured);
				return -1;
			}
			w->fds[p] = -1;
			evconnlistener_set_error_cb(w->listeners[p],
			    worker_accept_error_cb);
		}
	}
	return 0;
}

int
worker_start_all(struct gateway *gw)
{
	size_t i;

	for (i = 0; i < gw->nworkers; i++) {
		struct worker *w = gw->workers[i];

		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			log_err("cannot start worker %zu", i);
			return -1;
		}
		w->started = 1;
	}
	return 0;
}

void
worker_stop_all(struct gateway *gw)
{
	size_t i;

	for (i = 0; i < gw->nworkers; i++)
		if (gw->workers[i]->started &&
		    write(gw->workers[i]->stop_fds[1], "x", 1) != 1)
			log_warn("cannot signal worker %zu", i);
	for (i = 0; i < gw->nworkers; i++) {
		if (gw->workers[i]->started)
			pthread_join(gw->workers[i]->thread, NULL);
		gw->workers[i]->started = 0;
	}
}

void
worker_free_all(struct gateway *gw)
{
	size_t i, p;

	for (i = 0; i < gw->nworkers; i++) {
		struct worker *w = gw->workers[i];

		proxy_close_all(w);
		for (p = 0; p < gw->nports; p++) {
			if (w->listeners[p] != NULL)
				evconnlistener_free(w->listeners[p]);
			if (w->fds[p] >= 0)
				close(w->fds[p]);
		}
		upstream_pool_free(w->pool);
		event_free(w->stop_ev);
		event_free(w->deadline_ev);
		worker_runtime_unref(w->rt);
		event_base_free(w->base);
		close(w->stop_fds[0]);
		close(w->stop_fds[1]);
		free(w->listeners);
		free(w->fds);
		free(w->lctx);
		free(w);
	}
	free(gw->workers);
	gw->workers = NULL;
	gw->nworkers = 0;
}
