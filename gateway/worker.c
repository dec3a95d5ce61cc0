#include "worker.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
/* How long a reload waits for each worker to apply port changes. */
#define WORKER_SYNC_WAIT_S 5

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
	free(rt->ports);
	if (rt->members != NULL)
		for (i = 0; i < c->npools; i++)
			free(rt->members[i]);
	free(rt->members);
	config_unref(rt->cfg);
	free(rt);
}

/* How the snapshot serves each port slot of wp. */
static int
worker_runtime_ports(struct runtime *rt, const struct worker_ports *wp,
    char *err, size_t errlen)
{
	const struct config *c = rt->cfg;
	size_t i, p;
	int found;

	rt->nports = wp != NULL ? wp->nports : 0;
	if ((rt->ports = calloc(rt->nports + 1, sizeof(*rt->ports))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (p = 0; p < rt->nports; p++) {
		struct runtime_port *rp = &rt->ports[p];

		rp->fp = -1;
		rp->https = wp->ports[p].https;
		rp->configured = wp->ports[p].configured;
		for (i = 0; wp->ports[p].bound && i < c->nfrontend_ports &&
		     rp->fp < 0;
		     i++)
			if (c->frontend_ports[i].port == rp->configured)
				rp->fp = (int)i;
	}
	for (i = 0; wp != NULL && i < c->nlisteners; i++) {
		const struct config_listener *l = &c->listeners[i];
		const struct config_frontend_port *fp =
		    &c->frontend_ports[l->frontend_port];

		found = 0;
		for (p = 0; p < rt->nports; p++) {
			struct runtime_port *rp = &rt->ports[p];

			if (rp->fp < 0 || rp->configured != fp->port)
				continue;
			found = 1;
			if (rp->https && rp->ctx == NULL && l->ssl_cert >= 0)
				rp->ctx = rt->server_ctx[l->ssl_cert];
		}
		if (!found) {
			snprintf(err, errlen,
			    "frontendPorts[%s]: port %d has no socket",
			    fp->name, fp->port);
			return -1;
		}
	}
	return 0;
}

struct runtime *
worker_runtime_new(struct gateway *gw, struct config *c,
    const struct runtime *old, const struct worker_ports *wp, char *err,
    size_t errlen)
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
	if (worker_runtime_ports(rt, wp, err, errlen) != 0)
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

/* Apply the listener changes the main thread handed over: stop listening
 * on dropped slots, then listen on the sockets of new ones. Runs on the
 * worker's thread (or the main thread before the worker starts). */
static void
worker_listen_sync(struct worker *w)
{
	size_t p;
	int fd;

	pthread_mutex_lock(&w->ports_lock);
	for (p = 0; p < GATEWAY_MAX_PORTS; p++) {
		if (w->ports_drop[p] && w->listeners[p] != NULL) {
			evconnlistener_free(w->listeners[p]);
			w->listeners[p] = NULL;
		}
		w->ports_drop[p] = 0;
		if ((fd = w->ports_add[p]) < 0)
			continue;
		w->ports_add[p] = -1;
		if (w->listeners[p] != NULL)
			evconnlistener_free(w->listeners[p]);
		w->listeners[p] = NULL;
		if (w->stopping) {
			close(fd);
			continue;
		}
		w->lctx[p].w = w;
		w->lctx[p].port = (int)p;
		w->listeners[p] = evconnlistener_new(w->base, worker_accept_cb,
		    &w->lctx[p], LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
		    -1, fd);
		if (w->listeners[p] == NULL) {
			log_err("worker %d: cannot listen on port slot %zu",
			    w->id, p);
			close(fd);
			continue;
		}
		evconnlistener_set_error_cb(w->listeners[p],
		    worker_accept_error_cb);
	}
	w->ports_done = w->ports_want;
	pthread_cond_broadcast(&w->ports_cond);
	pthread_mutex_unlock(&w->ports_lock);
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
worker_stop(struct worker *w)
{
	struct timeval tv = { WORKER_DRAIN_S, 0 };
	size_t i;

	if (w->stopping)
		return;
	w->stopping = 1;
	for (i = 0; i < GATEWAY_MAX_PORTS; i++) {
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

/* The control socket: 'p' (port changes to apply), 'x' (stop). */
static void
worker_ctl_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	char buf[64];
	ssize_t n, i;
	int stop = 0, sync = 0;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++) {
			stop |= buf[i] == 'x';
			sync |= buf[i] == 'p';
		}
	if (sync)
		worker_listen_sync(w);
	if (stop)
		worker_stop(w);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static void
worker_free(struct worker *w)
{
	size_t p;

	proxy_close_all(w);
	for (p = 0; p < GATEWAY_MAX_PORTS; p++) {
		if (w->listeners != NULL && w->listeners[p] != NULL)
			evconnlistener_free(w->listeners[p]);
		if (w->ports_add != NULL && w->ports_add[p] >= 0)
			close(w->ports_add[p]);
	}
	upstream_pool_free(w->pool);
	if (w->ctl_ev != NULL)
		event_free(w->ctl_ev);
	if (w->deadline_ev != NULL)
		event_free(w->deadline_ev);
	worker_runtime_unref(w->rt);
	if (w->base != NULL)
		event_base_free(w->base);
	if (w->ctl_fds[0] >= 0) {
		close(w->ctl_fds[0]);
		close(w->ctl_fds[1]);
	}
	pthread_mutex_destroy(&w->ports_lock);
	pthread_cond_destroy(&w->ports_cond);
	free(w->listeners);
	free(w->lctx);
	free(w->ports_add);
	free(w->ports_drop);
	free(w);
}

static struct worker *
worker_new(struct gateway *gw, int id)
{
	pthread_condattr_t ca;
	struct worker *w;
	size_t i;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->gw = gw;
	w->id = id;
	TAILQ_INIT(&w->conns);
	w->ctl_fds[0] = w->ctl_fds[1] = -1;
	pthread_mutex_init(&w->ports_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->ports_cond, &ca);
	pthread_condattr_destroy(&ca);
	/* A worker's loop is only ever touched by its own thread (requests
	 * come through the control socket), so it needs no lock. */
	w->base = net_base_new(EVENT_BASE_FLAG_NOLOCK);
	w->listeners = calloc(GATEWAY_MAX_PORTS, sizeof(*w->listeners));
	w->lctx = calloc(GATEWAY_MAX_PORTS, sizeof(*w->lctx));
	w->ports_add = calloc(GATEWAY_MAX_PORTS, sizeof(int));
	w->ports_drop = calloc(GATEWAY_MAX_PORTS, 1);
	w->pool = upstream_pool_new(gw->opts.upstream_idle_timeout);
	if (w->ports_add != NULL)
		for (i = 0; i < GATEWAY_MAX_PORTS; i++)
			w->ports_add[i] = -1;
	if (w->base == NULL || w->listeners == NULL || w->lctx == NULL ||
	    w->ports_add == NULL || w->ports_drop == NULL || w->pool == NULL)
		goto fail;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		w->ctl_fds) != 0)
		goto fail;
	w->ctl_ev = event_new(w->base, w->ctl_fds[0], EV_READ | EV_PERSIST,
	    worker_ctl_cb, w);
	w->deadline_ev = evtimer_new(w->base, worker_deadline_cb, w);
	if (w->ctl_ev == NULL || w->deadline_ev == NULL ||
	    event_add(w->ctl_ev, NULL) != 0)
		goto fail;
	return w;
fail:
	worker_free(w);
	return NULL;
}

int
worker_create_all(struct gateway *gw, int n, char *err, size_t errlen)
{
	struct worker *w;
	int i;

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
	return 0;
}

/* --- frontend port slots -------------------------------------------------- */

/* Bind port slot gp for every worker into fds[0..nworkers). */
static int
worker_ports_bind(struct gateway *gw, const char *name,
    struct gateway_port *gp, int *fds, char *err, size_t errlen)
{
	struct net_addr a;
	char aerr[256];
	size_t i, n = gw->nworkers;
	int flags = n > 1 ? NET_LISTEN_REUSEPORT : 0;

	if (net_addr_parse(gw->opts.listen_address,
		gw->opts.ephemeral_ports ? 0 : gp->configured, &a, aerr,
		sizeof(aerr)) != 0)
		goto fail;
	for (i = 0; i < n; i++) {
		if (i > 0)
			a = gp->addr; /* the real port of the first */
		fds[i] = net_listen(&a, flags | (i == 0 ? NET_LISTEN_FIRST : 0),
		    511, aerr, sizeof(aerr));
		if (fds[i] < 0)
			goto fail;
		if (i == 0)
			gp->addr = a;
	}
	return 0;
fail:
	snprintf(err, errlen, "frontendPorts[%s]: %s", name, aerr);
	return -1;
}

int
worker_ports_prepare(struct gateway *gw, const struct config *c,
    struct worker_ports *wp, char *err, size_t errlen)
{
	size_t i, j, p, n = gw->nworkers > 0 ? gw->nworkers : 1;
	int used, https;

	memset(wp, 0, sizeof(*wp));
	if ((wp->fds = malloc(GATEWAY_MAX_PORTS * n * sizeof(int))) == NULL)
		goto nomem;
	for (i = 0; i < GATEWAY_MAX_PORTS * n; i++)
		wp->fds[i] = -1;
	/* Every slot carries over, unbound until c uses its port. */
	for (p = 0; p < gw->nports; p++) {
		wp->ports[p] = gw->ports[p];
		wp->ports[p].bound = 0;
		if ((wp->ports[p].name = strdup(gw->ports[p].name)) == NULL)
			goto nomem;
		wp->nports++;
	}
	for (i = 0; i < c->nfrontend_ports; i++) {
		const struct config_frontend_port *fp = &c->frontend_ports[i];

		used = https = 0;
		for (j = 0; j < c->nlisteners; j++) {
			if (c->frontend_ports[c->listeners[j].frontend_port]
				.port != fp->port)
				continue;
			used = 1;
			https |= c->listeners[j].protocol == CONFIG_PROTO_HTTPS;
		}
		if (!used)
			continue;
		for (p = 0; p < wp->nports; p++)
			if (wp->ports[p].configured == fp->port)
				break;
		if (p < wp->nports && wp->ports[p].bound)
			continue; /* two frontendPorts, one number */
		if (p == wp->nports) {
			if (wp->nports == GATEWAY_MAX_PORTS) {
				snprintf(err, errlen,
				    "frontendPorts[%s]: port %d would be "
				    "frontend port number %d of this "
				    "process; a gateway listens on %d at "
				    "most (restart it to start afresh)",
				    fp->name, fp->port, GATEWAY_MAX_PORTS + 1,
				    GATEWAY_MAX_PORTS);
				goto fail;
			}
			memset(&wp->ports[p], 0, sizeof(wp->ports[p]));
			wp->ports[p].configured = fp->port;
			wp->nports++;
		}
		free(wp->ports[p].name);
		if ((wp->ports[p].name = strdup(fp->name)) == NULL)
			goto nomem;
		wp->ports[p].bound = 1;
		wp->ports[p].https = https;
		if (p < gw->nports && gw->ports[p].bound) {
			wp->changed |= gw->ports[p].https != https ||
			    strcmp(gw->ports[p].name, fp->name) != 0;
			continue; /* it keeps its sockets */
		}
		wp->changed = 1;
		if (gw->nworkers > 0 &&
		    worker_ports_bind(gw, fp->name, &wp->ports[p],
			&wp->fds[p * n], err, errlen) != 0)
			goto fail;
	}
	for (p = 0; p < gw->nports; p++)
		wp->changed |= gw->ports[p].bound && !wp->ports[p].bound;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	worker_ports_abort(gw, wp);
	return -1;
}

void
worker_ports_abort(struct gateway *gw, struct worker_ports *wp)
{
	size_t i, n = gw->nworkers > 0 ? gw->nworkers : 1;

	for (i = 0; wp->fds != NULL && i < GATEWAY_MAX_PORTS * n; i++)
		if (wp->fds[i] >= 0)
			close(wp->fds[i]);
	for (i = 0; i < wp->nports; i++)
		free(wp->ports[i].name);
	free(wp->fds);
	memset(wp, 0, sizeof(*wp));
}

/* Wait (a few seconds at most) until a started worker has applied the
 * port changes handed to it. */
static void
worker_ports_wait(struct worker *w)
{
	struct timespec until;
	int rc = 0;

	if (!w->started)
		return;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += WORKER_SYNC_WAIT_S;
	pthread_mutex_lock(&w->ports_lock);
	while (w->ports_done != w->ports_want && rc == 0)
		rc = pthread_cond_timedwait(&w->ports_cond, &w->ports_lock,
		    &until);
	pthread_mutex_unlock(&w->ports_lock);
	if (rc != 0)
		log_warn("worker %d has not applied the port changes within "
			 "%d s; it will",
		    w->id, WORKER_SYNC_WAIT_S);
}

void
worker_ports_commit(struct gateway *gw, struct worker_ports *wp)
{
	size_t i, p, n = gw->nworkers;

	for (i = 0; i < n; i++) {
		struct worker *w = gw->workers[i];

		pthread_mutex_lock(&w->ports_lock);
		w->ports_want++;
		for (p = 0; p < wp->nports; p++) {
			if (p < gw->nports && gw->ports[p].bound &&
			    !wp->ports[p].bound) {
				w->ports_drop[p] = 1;
				if (w->ports_add[p] >= 0)
					close(w->ports_add[p]);
				w->ports_add[p] = -1;
			}
			if (wp->fds[p * n + i] >= 0) {
				if (w->ports_add[p] >= 0)
					close(w->ports_add[p]);
				w->ports_add[p] = wp->fds[p * n + i];
				wp->fds[p * n + i] = -1;
			}
		}
		pthread_mutex_unlock(&w->ports_lock);
		if (!w->started)
			worker_listen_sync(w);
		else if (write(w->ctl_fds[1], "p", 1) != 1)
			log_warn("cannot signal worker %zu", i);
	}
	for (i = 0; i < n; i++)
		worker_ports_wait(gw->workers[i]);
	for (p = 0; p < gw->nports; p++)
		free(gw->ports[p].name);
	memcpy(gw->ports, wp->ports, wp->nports * sizeof(*wp->ports));
	gw->nports = wp->nports;
	wp->nports = 0; /* the names now belong to gw->ports */
	worker_ports_abort(gw, wp);
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
		    write(gw->workers[i]->ctl_fds[1], "x", 1) != 1)
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
	size_t i;

	for (i = 0; i < gw->nworkers; i++)
		worker_free(gw->workers[i]);
	free(gw->workers);
	gw->workers = NULL;
	gw->nworkers = 0;
}
