#include "admin.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "health.h"
#include "metrics.h"
#include "net.h"
#include "worker.h"

struct admin {
	struct gateway *gw;
	struct evhttp *http;
	admin_reload_fn reload;
};

json_t *
admin_listeners_json(const struct gateway *gw)
{
	json_t *arr = json_array();
	char buf[64], *colon;
	size_t i;

	for (i = 0; arr != NULL && i < gw->nports; i++) {
		const struct gateway_port *p = &gw->ports[i];

		if (!p->bound)
			continue;
		net_addr_str(&p->addr, buf, sizeof(buf));
		if ((colon = strrchr(buf, ':')) != NULL)
			*colon = '\0';
		json_array_append_new(arr,
		    json_pack("{s:s, s:i, s:s, s:i, s:s}", "frontendPort",
			p->name, "configured", p->configured, "address",
			buf[0] == '[' ? buf + 1 : buf, "port",
			net_addr_port(&p->addr), "protocol",
			p->https ? "Https" : "Http"));
	}
	return arr;
}

static json_t *
admin_time_json(time_t t)
{
	char buf[64];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

/* The last reload's errors joined by "; ", or null when it succeeded or
 * none happened yet (the contract's "last reload error"). */
static json_t *
admin_reload_error_json(const struct gateway_reload *r)
{
	json_t *s;
	char *text = NULL, *next;
	size_t i;

	if (!r->done || r->ok)
		return json_null();
	for (i = 0; i < r->nerrors; i++) {
		if (asprintf(&next, "%s%s%s", text != NULL ? text : "",
			text != NULL ? "; " : "", r->errors[i]) < 0) {
			free(text);
			return NULL;
		}
		free(text);
		text = next;
	}
	s = json_string(text != NULL ? text : "reload failed");
	free(text);
	return s;
}

json_t *
admin_status_json(struct gateway *gw)
{
	struct runtime *rt = worker_runtime_current(gw);
	const struct gateway_reload *r = &gw->reload;
	json_t *o, *last = json_null(), *errs;
	size_t i;

	if (r->done) {
		errs = json_array();
		for (i = 0; i < r->nerrors; i++)
			json_array_append_new(errs, json_string(r->errors[i]));
		last = json_pack("{s:b, s:o, s:o}", "ok", r->ok, "time",
		    admin_time_json(r->time), "errors", errs);
	}
	o = json_pack("{s:s, s:s, s:i, s:s, s:o, s:o, s:o, s:i, s:I}", "sku",
	    config_sku_name(rt->cfg->sku), "sku_tier",
	    rt->cfg->sku_tier != NULL ? rt->cfg->sku_tier : "", "generation",
	    (int)rt->generation, "config_source", gw->opts.config_path,
	    "last_reload", last, "last_reload_error",
	    admin_reload_error_json(r), "listeners", admin_listeners_json(gw),
	    "workers", (int)gw->nworkers, "uptime_s",
	    (json_int_t)(time(NULL) - gw->started));
	worker_runtime_unref(rt);
	return o;
}

static void
admin_send_json(struct evhttp_request *req, int code, json_t *doc)
{
	net_http_reply_json(req, code, doc,
	    JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}

static void
admin_cb(struct evhttp_request *req, void *arg)
{
	struct admin *a = arg;
	struct gateway *gw = a->gw;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(
	    req));
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct runtime *rt;
	int rc;

	if (path == NULL)
		path = "/";
	if (strcmp(path, "/reload") == 0) {
		if (cmd != EVHTTP_REQ_POST) {
			evhttp_send_error(req, 405, "use POST");
			return;
		}
		rc = a->reload(gw);
		admin_send_json(req, rc == 0 ? 200 : 409,
		    admin_status_json(gw));
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_send_error(req, 405, "use GET");
		return;
	}
	if (strcmp(path, "/status") == 0) {
		admin_send_json(req, 200, admin_status_json(gw));
	} else if (strcmp(path, "/config") == 0) {
		rt = worker_runtime_current(gw);
		admin_send_json(req, 200, json_incref(rt->cfg->json));
		worker_runtime_unref(rt);
	} else if (strcmp(path, "/backendhealth") == 0) {
		rt = worker_runtime_current(gw);
		admin_send_json(req, 200,
		    health_backend_json(rt->cfg, gw->health));
		worker_runtime_unref(rt);
	} else if (strcmp(path, "/metrics") == 0) {
		if (metrics_render(gw->metrics,
			evhttp_request_get_output_buffer(req)) != 0) {
			evhttp_send_error(req, 500, "out of memory");
			return;
		}
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", "text/plain; version=0.0.4");
		evhttp_send_reply(req, 200, "OK", NULL);
	} else {
		evhttp_send_error(req, 404, "no such endpoint");
	}
}

struct admin *
admin_new(struct gateway *gw, admin_reload_fn reload, char *err,
    size_t errlen)
{
	struct evhttp_bound_socket *bs;
	struct net_addr addr;
	struct admin *a;
	int fd;

	if (net_addr_parse(gw->opts.admin, -1, &addr, err, errlen) != 0)
		return NULL;
	if (!net_addr_is_loopback(&addr)) {
		snprintf(err, errlen, "--admin %s: loopback addresses only",
		    gw->opts.admin);
		return NULL;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->gw = gw;
	a->reload = reload;
	if ((a->http = evhttp_new(gw->base)) == NULL)
		goto fail;
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD);
	evhttp_set_gencb(a->http, admin_cb, a);
	fd = net_listen(&addr, 0, 64, err, errlen);
	if (fd < 0)
		goto fail_quiet;
	if ((bs = evhttp_accept_socket_with_handle(a->http, fd)) == NULL) {
		close(fd);
		goto fail;
	}
	net_addr_str(&addr, gw->admin_addr, sizeof(gw->admin_addr));
	return a;
fail:
	snprintf(err, errlen, "--admin %s: cannot serve", gw->opts.admin);
fail_quiet:
	if (a->http != NULL)
		evhttp_free(a->http);
	free(a);
	return NULL;
}

void
admin_free(struct admin *a)
{
	if (a == NULL)
		return;
	evhttp_free(a->http);
	free(a);
}
