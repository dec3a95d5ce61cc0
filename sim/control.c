/*
 * control: the control API of agw-sim on evhttp (the control plane only;
 * the data path is in backend.c). Every answer is JSON; errors are 4xx
 * with {"error": "..."}.
 */
#include "control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "log.h"
#include "net.h"

struct backend *
control_find(struct sim *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nbackends; i++)
		if (strcmp(s->backends[i].conf->name, name) == 0)
			return &s->backends[i];
	return NULL;
}

/* Send v (stolen) with status code. */
static void
control_reply(struct evhttp_request *req, int code, json_t *v)
{
	net_http_reply_json(req, code, v, JSON_INDENT(2));
}

static void
control_error(struct evhttp_request *req, int code, const char *msg)
{
	control_reply(req, code, json_pack("{s:s}", "error", msg));
}

/* The request body as JSON, or NULL with an error sent. */
static json_t *
control_body(struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	json_error_t je;
	json_t *v;
	char msg[300];

	v = json_loadb(
	    (const char *)evbuffer_pullup(in, (ev_ssize_t)n), n, 0, &je);
	if (v == NULL) {
		snprintf(msg, sizeof(msg), "body: not JSON: %s (line %d)",
		    je.text, je.line);
		control_error(req, 400, msg);
	}
	return v;
}

static json_t *
control_list(struct sim *s)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < s->nbackends; i++)
		json_array_append_new(a, backend_json(&s->backends[i]));
	return json_pack("{s:o}", "backends", a);
}

static void
control_behaviour(struct evhttp_request *req, struct backend *b)
{
	struct farm_behaviour beh;
	char err[512];
	json_t *v;

	if ((v = control_body(req)) == NULL)
		return;
	if (farm_behaviour_parse(v, &beh, "behaviour", err, sizeof(err)) != 0) {
		json_decref(v);
		control_error(req, 400, err);
		return;
	}
	json_decref(v);
	if (backend_set_behaviour(b, &beh, err, sizeof(err)) != 0) {
		control_error(req, 409, err);
		return;
	}
	control_reply(req, 200, backend_json(b));
}

static void
control_tls(struct sim *s, struct evhttp_request *req, struct backend *b)
{
	struct farm_tls t;
	char err[1024], snibuf[256], *cwd;
	const char *sni = NULL;
	json_t *v, *n;

	if ((v = control_body(req)) == NULL)
		return;
	n = json_object_get(v, "sni");
	if (n != NULL && !json_is_string(n)) {
		json_decref(v);
		control_error(req, 400, "sni: must be a string");
		return;
	}
	if (n != NULL) {
		snprintf(snibuf, sizeof(snibuf), "%s", json_string_value(n));
		sni = snibuf;
		json_object_del(v, "sni");
	}
	cwd = getcwd(NULL, 0);
	if (farm_tls_parse(
	        v, s->farm->manifest, cwd, &t, "tls", err, sizeof(err)) != 0) {
		free(cwd);
		json_decref(v);
		control_error(req, 400, err);
		return;
	}
	free(cwd);
	if (backend_rotate(b, sni, &t, err, sizeof(err)) != 0) {
		farm_tls_clear(&t);
		json_decref(v);
		control_error(req, 400, err);
		return;
	}
	farm_tls_clear(&t);
	json_decref(v);
	control_reply(req, 200, backend_json(b));
}

static void
control_cb(struct evhttp_request *req, void *arg)
{
	struct sim *s = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *path = evhttp_uri_get_path(uri);
	char name[256], verb[32], err[512];
	struct backend *b;
	size_t i;

	if (path == NULL)
		path = "/";
	if (strcmp(path, "/backends") == 0 && cmd == EVHTTP_REQ_GET) {
		control_reply(req, 200, control_list(s));
		return;
	}
	if (strcmp(path, "/reset") == 0 && cmd == EVHTTP_REQ_POST) {
		for (i = 0; i < s->nbackends; i++)
			backend_reset_counters(&s->backends[i]);
		log_info("counters reset");
		control_reply(req, 200, json_pack("{s:b}", "reset", 1));
		return;
	}
	verb[0] = '\0';
	if (strncmp(path, "/backends/", 10) != 0 ||
	    sscanf(path + 10, "%255[^/]/%31s", name, verb) < 1) {
		control_error(req, 404, "no such endpoint");
		return;
	}
	if ((b = control_find(s, name)) == NULL) {
		snprintf(err, sizeof(err), "no backend named \"%s\"", name);
		control_error(req, 404, err);
		return;
	}
	if (verb[0] == '\0' && cmd == EVHTTP_REQ_GET)
		control_reply(req, 200, backend_json(b));
	else if (strcmp(verb, "behaviour") == 0 && cmd == EVHTTP_REQ_PUT)
		control_behaviour(req, b);
	else if (strcmp(verb, "tls") == 0 && cmd == EVHTTP_REQ_PUT)
		control_tls(s, req, b);
	else if ((strcmp(verb, "down") == 0 || strcmp(verb, "up") == 0) &&
	         cmd == EVHTTP_REQ_POST) {
		if (backend_set_up(b, verb[0] == 'u', err, sizeof(err)) != 0)
			control_error(req, 409, err);
		else
			control_reply(req, 200, backend_json(b));
	} else
		control_error(req, 405, "method or endpoint not supported");
}

int
control_start(struct sim *s, const char *addr, char *err, size_t errlen)
{
	char e[256];
	int fd;

	if (net_addr_parse(addr, -1, &s->control, e, sizeof(e)) != 0) {
		snprintf(err, errlen, "--control %s: %s", addr, e);
		return -1;
	}
	if (!net_addr_is_loopback(&s->control)) {
		snprintf(
		    err, errlen, "--control %s: not a loopback address", addr);
		return -1;
	}
	if ((fd = net_listen(&s->control, 0, 128, e, sizeof(e))) < 0) {
		snprintf(err, errlen, "control API: %s", e);
		return -1;
	}
	if ((s->http = evhttp_new(s->base)) == NULL ||
	    evhttp_accept_socket(s->http, fd) != 0) {
		close(fd);
		snprintf(err, errlen, "control API: cannot serve on %s", addr);
		return -1;
	}
	evhttp_set_allowed_methods(
	    s->http, EVHTTP_REQ_GET | EVHTTP_REQ_PUT | EVHTTP_REQ_POST);
	evhttp_set_gencb(s->http, control_cb, s);
	return 0;
}

void
control_stop(struct sim *s)
{
	if (s->http != NULL)
		evhttp_free(s->http);
	s->http = NULL;
}
