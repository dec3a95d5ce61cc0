/*
 * agw-gateway: the Application Gateway v1/v2 emulator. Parses the command
 * line, loads and validates the configuration, binds the frontend ports,
 * starts the workers and the admin API, and runs the main loop: SIGHUP
 * reloads, SIGTERM stops gracefully (exit 0).
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <jansson.h>
#include <openssl/err.h>

#include "accesslog.h"
#include "admin.h"
#include "config.h"
#include "gateway.h"
#include "health.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "probe.h"
#include "verify.h"
#include "worker.h"

#define MAIN_DEFAULT_CAS "/etc/ssl/certs/ca-certificates.crt"

static const char usage[] =
    "usage: agw-gateway --config FILE [options]\n"
    "Application Gateway v1/v2 emulator: a reverse proxy and load balancer\n"
    "configured with one Microsoft.Network/applicationGateways resource\n"
    "(ARM template shape or az show shape).\n"
    "\n"
    "options:\n"
    "  --config FILE           the gateway resource (JSON), required\n"
    "  --check                 validate: print 'configuration OK' or every\n"
    "                          error, exit 0 or 1\n"
    "  --listen-address ADDR   where frontend ports are bound "
    "(127.0.0.1)\n"
    "  --admin ADDR:PORT       loopback admin API (/status /config /reload\n"
    "                          /metrics /backendhealth); port 0 picks one\n"
    "  --well-known-cas PEM    the store standing for the public CAs\n"
    "                          (default " MAIN_DEFAULT_CAS ")\n"
    "  --resolve NAME:ADDR     backend FQDN address (repeatable)\n"
    "  --workers N             worker threads, one event loop each (1)\n"
    "  --ready-file FILE       written once every listener is bound and\n"
    "                          the first probe round is over (3 s at most);\n"
    "                          rewritten when a reload changes the listeners\n"
    "  --ephemeral-ports       bind every frontend port on port 0 (tests);\n"
    "                          the ready file maps them\n"
    "  --debug-headers         add X-AGW-Reason, X-AGW-Member to responses\n"
    "  --access-log FILE|-|off JSON lines access log (default off)\n"
    "  --log-level LEVEL       debug, info, warn, error (info)\n"
    "  --probe-scale F         multiply probe intervals, timeouts and v1\n"
    "                          retry delays (1; emulator extension: 0.01\n"
    "                          makes a 30 s interval 0.3 s)\n"
    "  --header-timeout S      slow-client limit for a request head or\n"
    "                          body pause, seconds (60)\n"
    "  --upstream-idle-timeout S  pooled backend connections, seconds "
    "(60)\n"
    "  -h, --help              this text\n"
    "\n"
    "signals: SIGHUP reloads the configuration, SIGTERM stops gracefully.\n";

enum {
	OPT_CONFIG = 256,
	OPT_CHECK,
	OPT_LISTEN,
	OPT_ADMIN,
	OPT_CAS,
	OPT_RESOLVE,
	OPT_WORKERS,
	OPT_READY,
	OPT_EPHEMERAL,
	OPT_DEBUG_HEADERS,
	OPT_ACCESS_LOG,
	OPT_LOG_LEVEL,
	OPT_PROBE_SCALE,
	OPT_HEADER_TIMEOUT,
	OPT_IDLE_TIMEOUT
};

static const struct option main_options[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "listen-address", required_argument, NULL, OPT_LISTEN },
	{ "admin", required_argument, NULL, OPT_ADMIN },
	{ "well-known-cas", required_argument, NULL, OPT_CAS },
	{ "resolve", required_argument, NULL, OPT_RESOLVE },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "ready-file", required_argument, NULL, OPT_READY },
	{ "ephemeral-ports", no_argument, NULL, OPT_EPHEMERAL },
	{ "debug-headers", no_argument, NULL, OPT_DEBUG_HEADERS },
	{ "access-log", required_argument, NULL, OPT_ACCESS_LOG },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "probe-scale", required_argument, NULL, OPT_PROBE_SCALE },
	{ "header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT },
	{ "upstream-idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static int
main_int_arg(const char *flag, const char *s, int lo, int hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < lo || v > hi) {
		fprintf(stderr, "agw-gateway: %s %s: expected a number %d..%d\n",
		    flag, s, lo, hi);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int
main_add_resolve(struct gateway_opts *o, const char *arg)
{
	struct gateway_resolve *r;
	const char *colon = strchr(arg, ':');
	char err[256];

	if (colon == NULL || colon == arg) {
		fprintf(stderr, "agw-gateway: --resolve %s: expected NAME:ADDR\n",
		    arg);
		return -1;
	}
	r = realloc(o->resolve, (o->nresolve + 1) * sizeof(*r));
	if (r == NULL)
		return -1;
	o->resolve = r;
	r = &o->resolve[o->nresolve];
	if (net_addr_parse(colon + 1, 0, &r->addr, err, sizeof(err)) != 0) {
		fprintf(stderr, "agw-gateway: --resolve %s: %s\n", arg, err);
		return -1;
	}
	if ((r->name = strndup(arg, (size_t)(colon - arg))) == NULL)
		return -1;
	o->nresolve++;
	return 0;
}

/* Returns 0, 1 for --help (exit 0), -1 for a usage error. */
static int
main_parse(int argc, char **argv, struct gateway_opts *o)
{
	int ch, lvl;

	o->listen_address = "127.0.0.1";
	o->access_log = "off";
	o->workers = 1;
	o->log_level = LOG_LEVEL_INFO;
	o->probe_scale = 1.0;
	o->header_timeout = 60;
	o->upstream_idle_timeout = 60;
	while ((ch = getopt_long(argc, argv, "h", main_options, NULL)) != -1) {
		switch (ch) {
		case OPT_CONFIG:
			o->config_path = optarg;
			break;
		case OPT_CHECK:
			o->check = 1;
			break;
		case OPT_LISTEN:
			o->listen_address = optarg;
			break;
		case OPT_ADMIN:
			o->admin = optarg;
			break;
		case OPT_CAS:
			o->well_known = optarg;
			break;
		case OPT_RESOLVE:
			if (main_add_resolve(o, optarg) != 0)
				return -1;
			break;
		case OPT_WORKERS:
			if (main_int_arg("--workers", optarg, 1, 256,
				&o->workers) != 0)
				return -1;
			break;
		case OPT_READY:
			o->ready_file = optarg;
			break;
		case OPT_EPHEMERAL:
			o->ephemeral_ports = 1;
			break;
		case OPT_DEBUG_HEADERS:
			o->debug_headers = 1;
			break;
		case OPT_ACCESS_LOG:
			o->access_log = optarg;
			break;
		case OPT_LOG_LEVEL:
			if ((lvl = log_level_parse(optarg)) < 0) {
				fprintf(stderr,
				    "agw-gateway: --log-level %s: expected "
				    "debug, info, warn or error\n",
				    optarg);
				return -1;
			}
			o->log_level = lvl;
			break;
		case OPT_PROBE_SCALE: {
			char *end;
			o->probe_scale = strtod(optarg, &end);
			if (*end != '\0' || !(o->probe_scale > 0)) {
				fprintf(stderr,
				    "agw-gateway: --probe-scale %s: expected "
				    "a positive number\n",
				    optarg);
				return -1;
			}
			break;
		}
		case OPT_HEADER_TIMEOUT:
			if (main_int_arg("--header-timeout", optarg, 1, 3600,
				&o->header_timeout) != 0)
				return -1;
			break;
		case OPT_IDLE_TIMEOUT:
			if (main_int_arg("--upstream-idle-timeout", optarg, 1,
				3600, &o->upstream_idle_timeout) != 0)
				return -1;
			break;
		case 'h':
			return 1;
		default:
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "agw-gateway: unexpected argument %s\n",
		    argv[optind]);
		return -1;
	}
	if (o->config_path == NULL) {
		fprintf(stderr, "agw-gateway: --config FILE is required\n");
		return -1;
	}
	return 0;
}

/* The health prober (main thread); NULL before start-up completes. */
static struct prober *main_prober;
/* Set when start-up fails from the loop (the ready file). */
static int main_failed;
/* The longest the ready file waits for the first probe round. */
#define MAIN_SETTLE_MS 3000

static int main_ready_file(struct gateway *gw, unsigned generation);

/* Whether the ready file has been written. */
static int main_settled;

static void
main_log_ports(struct gateway *gw)
{
	char addr[64];
	size_t i;

	for (i = 0; i < gw->nports; i++)
		if (gw->ports[i].bound)
			log_info("listening on %s (frontendPort %s)",
			    net_addr_str(&gw->ports[i].addr, addr,
				sizeof(addr)),
			    gw->ports[i].name);
}

static void
main_reload_record(struct gateway *gw, int ok, const struct config_errors *e,
    const char *extra)
{
	struct gateway_reload *r = &gw->reload;
	char line[1024];
	size_t i, n;

	for (i = 0; i < r->nerrors; i++)
		free(r->errors[i]);
	free(r->errors);
	r->errors = NULL;
	r->nerrors = 0;
	r->done = 1;
	r->ok = ok;
	r->time = time(NULL);
	n = (e != NULL ? e->n : 0) + (extra != NULL);
	if (n == 0 || (r->errors = calloc(n, sizeof(char *))) == NULL)
		return;
	for (i = 0; e != NULL && i < e->n; i++)
		if ((r->errors[r->nerrors] = strdup(config_error_str(&e->v[i],
			 line, sizeof(line)))) != NULL)
			r->nerrors++;
	if (extra != NULL && (r->errors[r->nerrors] = strdup(extra)) != NULL)
		r->nerrors++;
}

static void
main_log_warnings(const struct config *c)
{
	char line[1024];
	size_t i;

	for (i = 0; i < c->warnings.n; i++)
		log_warn("%s", config_error_str(&c->warnings.v[i], line,
				   sizeof(line)));
}

/* SIGHUP and POST /reload: 0 when the new configuration serves. */
static int
main_reload(struct gateway *gw)
{
	struct config_errors errs = { 0 };
	struct worker_ports wp;
	struct runtime *old, *rt;
	struct config *c;
	char err[1024], line[1024];
	int changed;

	c = config_load_file(gw->opts.config_path, &errs);
	if (c == NULL) {
		log_warn("reload refused: %s%s",
		    errs.n > 0 ? config_error_str(&errs.v[0], line,
				     sizeof(line))
			       : "cannot load",
		    errs.n > 1 ? " (and more, see /status)" : "");
		main_reload_record(gw, 0, &errs, errs.n == 0 ? "cannot load"
							     : NULL);
		config_errors_clear(&errs);
		return -1;
	}
	config_errors_clear(&errs);
	rt = NULL;
	if (worker_ports_prepare(gw, c, &wp, err, sizeof(err)) == 0) {
		old = worker_runtime_current(gw);
		rt = worker_runtime_new(gw, c, old, &wp, err, sizeof(err));
		worker_runtime_unref(old);
		if (rt == NULL)
			worker_ports_abort(gw, &wp);
	}
	if (rt == NULL) {
		log_warn("reload refused: %s", err);
		main_reload_record(gw, 0, NULL, err);
		config_unref(c);
		return -1;
	}
	main_log_warnings(c);
	config_unref(c);
	rt->generation = ++gw->generation;
	/* New requests see the snapshot before any new listener accepts. */
	worker_runtime_publish(gw, rt);
	changed = wp.changed;
	worker_ports_commit(gw, &wp);
	if (changed)
		main_log_ports(gw);
	if (main_prober != NULL &&
	    probe_configure(main_prober, rt) != 0)
		log_warn("reload: probes keep the previous pairs");
	main_reload_record(gw, 1, NULL, NULL);
	log_info("configuration generation %u loaded from %s", rt->generation,
	    gw->opts.config_path);
	/* The ready file lists the listeners: keep it true. */
	if (changed && main_settled && gw->opts.ready_file != NULL &&
	    main_ready_file(gw, gw->generation) != 0)
		log_warn("%s: cannot rewrite the ready file",
		    gw->opts.ready_file);
	return 0;
}

static void
main_sighup_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)main_reload(arg);
}

static void
main_sigterm_cb(evutil_socket_t sig, short what, void *arg)
{
	struct gateway *gw = arg;

	if (atomic_exchange(&gw->stopping, 1))
		return;
	log_info("shutting down");
	event_base_loopbreak(gw->base);
}

static int
main_check(const char *path)
{
	struct config_errors errs = { 0 };
	struct config *c;
	char line[1024];
	size_t i;

	c = config_load_file(path, &errs);
	if (c == NULL) {
		for (i = 0; i < errs.n; i++)
			printf("%s\n", config_error_str(&errs.v[i], line,
					   sizeof(line)));
		if (errs.n == 0)
			printf("%s: cannot load\n", path);
		config_errors_clear(&errs);
		return 1;
	}
	for (i = 0; i < c->warnings.n; i++)
		printf("warning: %s\n", config_error_str(&c->warnings.v[i],
					    line, sizeof(line)));
	printf("configuration OK\n");
	config_unref(c);
	config_errors_clear(&errs);
	return 0;
}

static int
main_ready_file(struct gateway *gw, unsigned generation)
{
	struct runtime *rt = worker_runtime_current(gw);
	char *text, err[512];
	json_t *o;
	int rc = -1;

	o = json_pack("{s:i, s:o, s:s, s:i, s:o}", "pid", (int)getpid(),
	    "admin", gw->admin_addr[0] ? json_string(gw->admin_addr)
				       : json_null(),
	    "sku", config_sku_name(rt->cfg->sku), "generation",
	    (int)generation, "listeners", admin_listeners_json(gw));
	worker_runtime_unref(rt);
	if (o == NULL)
		return -1;
	text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(o);
	if (text != NULL &&
	    net_write_ready_file(gw->opts.ready_file, text, err,
		sizeof(err)) == 0)
		rc = 0;
	else if (text != NULL)
		log_err("%s", err);
	free(text);
	return rc;
}

/* The first probe round is over (or MAIN_SETTLE_MS passed): ready. */
static void
main_settled_cb(void *arg)
{
	struct gateway *gw = arg;

	main_settled = 1;
	if (gw->opts.ready_file == NULL ||
	    main_ready_file(gw, gw->generation) == 0)
		return;
	log_err("%s: cannot write the ready file", gw->opts.ready_file);
	main_failed = 1;
	event_base_loopbreak(gw->base);
}

static void
main_free(struct gateway *gw)
{
	size_t i;

	probe_free(main_prober);
	main_prober = NULL;
	admin_free(gw->admin);
	worker_free_all(gw);
	if (gw->rt != NULL)
		worker_runtime_unref(gw->rt);
	gw->rt = NULL;
	metrics_free(gw->metrics);
	health_free(gw->health);
	if (gw->well_known != NULL)
		X509_STORE_free(gw->well_known);
	for (i = 0; i < gw->nports; i++)
		free(gw->ports[i].name);
	free(gw->ports);
	for (i = 0; i < gw->reload.nerrors; i++)
		free(gw->reload.errors[i]);
	free(gw->reload.errors);
	for (i = 0; i < gw->opts.nresolve; i++)
		free(gw->opts.resolve[i].name);
	free(gw->opts.resolve);
	if (gw->base != NULL)
		event_base_free(gw->base);
	pthread_mutex_destroy(&gw->rt_lock);
	accesslog_close();
}

int
main(int argc, char **argv)
{
	struct config_errors errs = { 0 };
	struct gateway gw;
	struct worker_ports wp;
	struct event *ev_hup = NULL, *ev_term = NULL, *ev_int = NULL;
	struct runtime *rt;
	struct config *c = NULL;
	char err[1024], line[1024];
	size_t i;
	int rc;

	memset(&gw, 0, sizeof(gw));
	pthread_mutex_init(&gw.rt_lock, NULL);
	rc = main_parse(argc, argv, &gw.opts);
	if (rc != 0) {
		if (rc > 0)
			fputs(usage, stdout);
		else
			fputs(usage, stderr);
		main_free(&gw);
		return rc > 0 ? 0 : 2;
	}
	log_init("agw-gateway", (enum log_level)gw.opts.log_level);
	if (gw.opts.check) {
		rc = main_check(gw.opts.config_path);
		main_free(&gw);
		return rc;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Workers allocate and free TLS and buffer memory at the top of
	 * their arenas on every request; glibc's default trimming gives it
	 * back to the kernel and takes it again each time (sysmalloc +
	 * madvise: half the CPU of a TLS-upstream request). Keep it. */
	mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	gw.started = time(NULL);
	if (evthread_use_pthreads() != 0)
		fatal("cannot enable libevent threads");
	c = config_load_file(gw.opts.config_path, &errs);
	if (c == NULL) {
		for (i = 0; i < errs.n; i++)
			log_err("%s", config_error_str(&errs.v[i], line,
					  sizeof(line)));
		log_err("%s: configuration refused", gw.opts.config_path);
		config_errors_clear(&errs);
		main_free(&gw);
		return 1;
	}
	config_errors_clear(&errs);
	main_log_warnings(c);
	if (accesslog_open(gw.opts.access_log, err, sizeof(err)) != 0)
		goto fail;
	gw.well_known = verify_store_load(gw.opts.well_known != NULL
		? gw.opts.well_known
		: MAIN_DEFAULT_CAS,
	    err, sizeof(err));
	if (gw.well_known == NULL)
		goto fail;
	gw.health = health_new();
	gw.metrics = metrics_new(gw.opts.workers);
	gw.base = net_base_new(0);
	gw.ports = calloc(GATEWAY_MAX_PORTS, sizeof(*gw.ports));
	if (gw.health == NULL || gw.metrics == NULL || gw.base == NULL ||
	    gw.ports == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	/* Bind first (port numbers are known), then build the runtime. */
	if (worker_create_all(&gw, gw.opts.workers, err, sizeof(err)) != 0 ||
	    worker_ports_prepare(&gw, c, &wp, err, sizeof(err)) != 0)
		goto fail;
	if ((rt = worker_runtime_new(&gw, c, NULL, &wp, err, sizeof(err))) ==
	    NULL) {
		worker_ports_abort(&gw, &wp);
		goto fail;
	}
	rt->generation = ++gw.generation;
	worker_runtime_publish(&gw, rt);
	worker_ports_commit(&gw, &wp);
	config_unref(c);
	c = NULL;
	main_log_ports(&gw);
	if (gw.opts.admin != NULL) {
		gw.admin = admin_new(&gw, main_reload, err, sizeof(err));
		if (gw.admin == NULL)
			goto fail;
		log_info("admin API on %s", gw.admin_addr);
	}
	ev_hup = evsignal_new(gw.base, SIGHUP, main_sighup_cb, &gw);
	ev_term = evsignal_new(gw.base, SIGTERM, main_sigterm_cb, &gw);
	ev_int = evsignal_new(gw.base, SIGINT, main_sigterm_cb, &gw);
	if (ev_hup == NULL || ev_term == NULL || ev_int == NULL ||
	    evsignal_add(ev_hup, NULL) != 0 ||
	    evsignal_add(ev_term, NULL) != 0 ||
	    evsignal_add(ev_int, NULL) != 0) {
		snprintf(err, sizeof(err), "cannot install signal handlers");
		goto fail;
	}
	if (worker_start_all(&gw) != 0) {
		snprintf(err, sizeof(err), "cannot start the workers");
		goto fail;
	}
	log_info("configuration generation %u loaded from %s", gw.generation,
	    gw.opts.config_path);
	/* Probing starts at once; members take traffic after their first
	 * successful probe, so the ready file waits for the first round. */
	rt = worker_runtime_current(&gw);
	main_prober = probe_new(&gw);
	if (main_prober == NULL ||
	    probe_on_settled(main_prober, MAIN_SETTLE_MS, main_settled_cb,
		&gw) != 0 ||
	    probe_configure(main_prober, rt) != 0) {
		worker_runtime_unref(rt);
		snprintf(err, sizeof(err), "cannot start the probes");
		goto fail;
	}
	worker_runtime_unref(rt);
	if (!main_failed)
		event_base_loop(gw.base, EVLOOP_NO_EXIT_ON_EMPTY);
	probe_free(main_prober);
	main_prober = NULL;
	admin_free(gw.admin);
	gw.admin = NULL;
	worker_stop_all(&gw);
	event_free(ev_hup);
	event_free(ev_term);
	event_free(ev_int);
	/* Already stopping: a repeated SIGTERM must not kill the clean-up. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	main_free(&gw);
	ERR_clear_error();
	log_info("stopped");
	return main_failed ? 1 : 0;
fail:
	log_err("%s", err);
	worker_stop_all(&gw);
	if (ev_hup != NULL)
		event_free(ev_hup);
	if (ev_term != NULL)
		event_free(ev_term);
	if (ev_int != NULL)
		event_free(ev_int);
	config_unref(c);
	main_free(&gw);
	return 1;
}
