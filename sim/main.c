/*
 * agw-sim: the simulated backend farm (see sim/README.md).
 *   agw-sim --farm FILE [--control ADDR:PORT] [--ready-file F]
 *   agw-sim ctl --control ADDR:PORT VERB ... [-o json]
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "backend.h"
#include "control.h"
#include "farm.h"
#include "http.h"
#include "jsonio.h"
#include "log.h"
#include "net.h"

static const char usage[] =
    "usage: agw-sim --farm FILE [--control ADDR:PORT] [--ready-file F]\n"
    "               [--log-level debug|info|warn|error]\n"
    "       agw-sim ctl --control ADDR:PORT VERB [ARGS] [-o json]\n"
    "A farm of simulated TLS backends in one process.\n"
    "ctl verbs:\n"
    "  list                         backends and their counters\n"
    "  show NAME                    one backend (JSON)\n"
    "  behaviour NAME JSON          set a behaviour\n"
    "  tls NAME (--variant V [--manifest M] | --cert C --key K [--chain X])\n"
    "      [--sni NAME]             rotate a certificate\n"
    "  down NAME | up NAME          close / reopen its listener\n"
    "  reset                        zero every counter\n";

static void
main_stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *base = arg;

	log_info("signal %d: stopping", (int)sig);
	event_base_loopexit(base, NULL);
}

/* Many backends need many descriptors: raise the soft limit. */
static void
main_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int
main_ready_file(struct sim *s, const char *path, char *err, size_t errlen)
{
	json_t *o, *a;
	char addr[80], *text;
	size_t i;
	int rc;

	a = json_array();
	for (i = 0; i < s->nbackends; i++) {
		struct backend *b = &s->backends[i];

		json_array_append_new(
		    a, json_pack("{s:s,s:s,s:i,s:s}", "name", b->conf->name,
		           "address", b->addr_str, "port", b->port, "protocol",
		           b->conf->protocol == FARM_HTTPS ? "https" : "http"));
	}
	o = json_pack("{s:i,s:s,s:o}", "pid", (int)getpid(), "control",
	    net_addr_str(&s->control, addr, sizeof(addr)), "backends", a);
	if (o == NULL || (text = json_dumps(o, JSON_INDENT(2))) == NULL) {
		json_decref(o);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	rc = net_write_ready_file(path, text, err, errlen);
	free(text);
	json_decref(o);
	return rc;
}

static int
main_run(const char *farmfile, const char *control, const char *ready)
{
	struct backend_ctx_cache cache = {0};
	struct sim s = {0};
	struct event *sigterm = NULL, *sigint = NULL;
	char err[2048];
	size_t i;
	int rc = 1;

	main_raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	if ((s.farm = farm_load(farmfile, err, sizeof(err))) == NULL) {
		log_err("%s", err);
		return 1;
	}
	if ((s.base = net_base_new(0)) == NULL) {
		log_err("cannot create the event loop");
		goto out;
	}
	s.backends = calloc(s.farm->nbackends + 1, sizeof(*s.backends));
	if (s.backends == NULL) {
		log_err("out of memory");
		goto out;
	}
	for (i = 0; i < s.farm->nbackends; i++) {
		s.nbackends++;
		if (backend_init(&s.backends[i], &s.farm->backends[i], s.base,
		        &cache, err, sizeof(err)) != 0 ||
		    backend_listen(&s.backends[i], err, sizeof(err)) != 0) {
			log_err("%s: %s", farmfile, err);
			goto out;
		}
		if (s.backends[i].beh.down &&
		    backend_set_up(&s.backends[i], 0, err, sizeof(err)) != 0) {
			log_err("%s: %s", farmfile, err);
			goto out;
		}
	}
	backend_ctx_cache_clear(&cache);
	if (control_start(&s, control != NULL ? control : "127.0.0.1:0", err,
	        sizeof(err)) != 0) {
		log_err("%s", err);
		goto out;
	}
	sigterm = evsignal_new(s.base, SIGTERM, main_stop_cb, s.base);
	sigint = evsignal_new(s.base, SIGINT, main_stop_cb, s.base);
	if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) ||
	    evsignal_add(sigint, NULL)) {
		log_err("cannot watch signals");
		goto out;
	}
	{
		char a[80];

		log_info("control API on %s",
		    net_addr_str(&s.control, a, sizeof(a)));
	}
	/* Logged before the ready file, so a reader of it finds the line. */
	log_info("farm ready: %zu backends", s.nbackends);
	if (ready != NULL &&
	    main_ready_file(&s, ready, err, sizeof(err)) != 0) {
		log_err("--ready-file %s", err);
		goto out;
	}
	if (event_base_dispatch(s.base) < 0) {
		log_err("event loop failed");
		goto out;
	}
	log_info("farm stopped");
	rc = 0;
out:
	backend_ctx_cache_clear(&cache);
	if (sigterm != NULL)
		event_free(sigterm);
	if (sigint != NULL)
		event_free(sigint);
	control_stop(&s);
	for (i = 0; i < s.nbackends; i++)
		backend_clear(&s.backends[i]);
	free(s.backends);
	if (s.base != NULL)
		event_base_free(s.base);
	farm_free(s.farm);
	farm_cache_clear();
	return rc;
}

/* ---- the ctl client ---------------------------------------------------- */

/* One request to the control API; *status and *body (caller frees) out.
 * Returns 0, or -1 with the reason on stderr. */
static int
main_ctl_call(const char *control, const char *method, const char *path,
    const char *body, int *status, char **body_out)
{
	struct net_addr a;
	struct http_parser p;
	struct evbuffer *in = NULL;
	char err[256], buf[8192];
	size_t blen = body != NULL ? strlen(body) : 0, n;
	ssize_t r;
	int fd = -1, rc = -1;
	FILE *f = NULL;

	http_parser_init(&p, HTTP_RESPONSE, NULL);
	if (net_addr_parse(control, -1, &a, err, sizeof(err)) != 0) {
		fprintf(stderr, "agw-sim ctl: --control %s\n", err);
		goto out;
	}
	if ((fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&a.ss, a.len) != 0) {
		fprintf(
		    stderr, "agw-sim ctl: %s: %s\n", control, strerror(errno));
		goto out;
	}
	if ((f = fdopen(fd, "r+")) == NULL)
		goto out;
	fprintf(f,
	    "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	    method, path, control, blen);
	if (blen > 0)
		fwrite(body, 1, blen, f);
	fflush(f);
	if ((in = evbuffer_new()) == NULL)
		goto out;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		evbuffer_add(in, buf, (size_t)r);
	if (http_parse_head(&p, in) != HTTP_OK) {
		fprintf(
		    stderr, "agw-sim ctl: %s: bad or no response\n", control);
		goto out;
	}
	*status = p.msg.status;
	n = evbuffer_get_length(in);
	if ((*body_out = malloc(n + 1)) == NULL)
		goto out;
	evbuffer_remove(in, *body_out, n);
	(*body_out)[n] = '\0';
	rc = 0;
out:
	http_parser_clear(&p);
	if (in != NULL)
		evbuffer_free(in);
	if (f != NULL)
		fclose(f);
	else if (fd >= 0)
		close(fd);
	return rc;
}

/* The columns of the ctl list table: one per field of BACKEND except
 * port (in ADDRESS), last_request and behaviour (see show). */
enum main_col_kind {
	MAIN_COL_STR,
	MAIN_COL_ADDR, /* key and "port" */
	MAIN_COL_BOOL,
	MAIN_COL_INT,
	MAIN_COL_COUNTS /* {NAME: COUNT}: NAME=COUNT,... */
};

static const struct main_col {
	const char *head;
	const char *key;
	enum main_col_kind kind;
} main_cols[] = {
    {"NAME", "name", MAIN_COL_STR},
    {"ADDRESS", "address", MAIN_COL_ADDR},
    {"PROTO", "protocol", MAIN_COL_STR},
    {"UP", "up", MAIN_COL_BOOL},
    {"REQUESTS", "requests", MAIN_COL_INT},
    {"HANDSHAKES", "handshakes", MAIN_COL_INT},
    {"RESUMED", "resumed", MAIN_COL_INT},
    {"HS-ERRORS", "handshake_errors", MAIN_COL_INT},
    {"SNI-SEEN", "sni_seen", MAIN_COL_COUNTS},
    {"HOSTS-SEEN", "hosts_seen", MAIN_COL_COUNTS},
    {"TLS-VERSIONS", "tls_versions", MAIN_COL_COUNTS},
};

#define MAIN_NCOLS (sizeof(main_cols) / sizeof(main_cols[0]))

/* One cell of the table for backend b ("-" when the field is missing).
 * Returns a string the caller frees, or NULL when out of memory. */
static char *
main_ctl_cell(json_t *b, const struct main_col *c)
{
	json_t *v = json_object_get(b, c->key), *n;
	const char *k, *sep = "";
	char *s = NULL;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&s, &len)) == NULL)
		return NULL;
	if (v == NULL || json_is_null(v))
		fputc('-', f);
	else if (c->kind == MAIN_COL_STR)
		fputs(json_string_value(v) != NULL ? json_string_value(v) : "-",
		    f);
	else if (c->kind == MAIN_COL_ADDR)
		fprintf(f, "%s:%lld",
		    json_string_value(v) != NULL ? json_string_value(v) : "-",
		    (long long)json_integer_value(json_object_get(b, "port")));
	else if (c->kind == MAIN_COL_BOOL)
		fputs(json_is_true(v) ? "yes" : "no", f);
	else if (c->kind == MAIN_COL_INT)
		fprintf(f, "%lld", (long long)json_integer_value(v));
	else {
		json_object_foreach(v, k, n)
		{
			fprintf(f, "%s%s=%lld", sep,
			    k[0] != '\0' ? k : "(none)",
			    (long long)json_integer_value(n));
			sep = ",";
		}
		if (sep[0] == '\0')
			fputc('-', f);
	}
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* The table of ctl list: every column as wide as its widest cell, numbers
 * to the right, the last column unpadded. Returns 0, or -1 when out of
 * memory (nothing printed). */
static int
main_ctl_table(json_t *doc)
{
	json_t *list = json_object_get(doc, "backends"), *b;
	size_t n = json_array_size(list), i, c, w[MAIN_NCOLS];
	char **cell = calloc(n * MAIN_NCOLS + 1, sizeof(*cell));
	int rc = -1;

	if (cell == NULL)
		return -1;
	for (c = 0; c < MAIN_NCOLS; c++)
		w[c] = strlen(main_cols[c].head);
	json_array_foreach(list, i, b)
	{
		for (c = 0; c < MAIN_NCOLS; c++) {
			char *s = main_ctl_cell(b, &main_cols[c]);

			if (s == NULL)
				goto out;
			cell[i * MAIN_NCOLS + c] = s;
			if (strlen(s) > w[c])
				w[c] = strlen(s);
		}
	}
	for (i = 0; i <= n; i++) {
		for (c = 0; c < MAIN_NCOLS; c++) {
			const char *s = i == 0 ? main_cols[c].head
			                       : cell[(i - 1) * MAIN_NCOLS + c];
			int wid = c + 1 == MAIN_NCOLS ? 0 : (int)w[c];

			if (main_cols[c].kind == MAIN_COL_INT)
				printf("%*s", wid, s);
			else
				printf("%-*s", wid, s);
			fputs(c + 1 == MAIN_NCOLS ? "\n" : "  ", stdout);
		}
	}
	rc = 0;
out:
	for (i = 0; i < n * MAIN_NCOLS; i++)
		free(cell[i]);
	free(cell);
	return rc;
}

/* An absolute path for the sim (which may run elsewhere). */
static json_t *
main_abs(const char *p)
{
	char *r = realpath(p, NULL);
	json_t *v = json_string(r != NULL ? r : p);

	free(r);
	return v;
}

static int
main_ctl(int argc, char **argv)
{
	const char *control = NULL, *verb = NULL, *name = NULL, *arg = NULL;
	const char *method = "GET", *variant = NULL, *manifest = NULL;
	const char *cert = NULL, *key = NULL, *chain = NULL, *sni = NULL;
	char path[512], *body = NULL, *resp = NULL;
	int json_out = 0, status = 0, i, rc = 1;
	json_t *doc = NULL, *tls = NULL;

	for (i = 1; i < argc; i++) {
		const char *o = argv[i];
		int has = i + 1 < argc;

		if (strcmp(o, "--control") == 0 && has)
			control = argv[++i];
		else if (strcmp(o, "-o") == 0 && has)
			json_out = strcmp(argv[++i], "json") == 0;
		else if (strcmp(o, "--variant") == 0 && has)
			variant = argv[++i];
		else if (strcmp(o, "--manifest") == 0 && has)
			manifest = argv[++i];
		else if (strcmp(o, "--cert") == 0 && has)
			cert = argv[++i];
		else if (strcmp(o, "--key") == 0 && has)
			key = argv[++i];
		else if (strcmp(o, "--chain") == 0 && has)
			chain = argv[++i];
		else if (strcmp(o, "--sni") == 0 && has)
			sni = argv[++i];
		else if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (o[0] == '-' && o[1] != '\0') {
			fprintf(stderr, "agw-sim ctl: unknown option %s\n", o);
			return 2;
		} else if (verb == NULL)
			verb = o;
		else if (name == NULL)
			name = o;
		else if (arg == NULL)
			arg = o;
		else {
			fprintf(stderr, "agw-sim ctl: extra argument %s\n", o);
			return 2;
		}
	}
	if (control == NULL || verb == NULL) {
		fprintf(stderr, "agw-sim ctl: --control and a verb needed\n%s",
		    usage);
		return 2;
	}
	if (strcmp(verb, "list") == 0 || strcmp(verb, "reset") == 0) {
		snprintf(path, sizeof(path), "/%s",
		    verb[0] == 'l' ? "backends" : "reset");
		method = verb[0] == 'l' ? "GET" : "POST";
	} else {
		if (name == NULL) {
			fprintf(stderr, "agw-sim ctl %s: NAME needed\n", verb);
			return 2;
		}
		if (strcmp(verb, "show") == 0) {
			snprintf(path, sizeof(path), "/backends/%s", name);
		} else if (strcmp(verb, "down") == 0 ||
		           strcmp(verb, "up") == 0) {
			snprintf(
			    path, sizeof(path), "/backends/%s/%s", name, verb);
			method = "POST";
		} else if (strcmp(verb, "behaviour") == 0) {
			if (arg == NULL) {
				fprintf(stderr,
				    "agw-sim ctl behaviour: JSON needed\n");
				return 2;
			}
			snprintf(
			    path, sizeof(path), "/backends/%s/behaviour", name);
			method = "PUT";
			body = strdup(arg);
		} else if (strcmp(verb, "tls") == 0) {
			if ((variant == NULL) ==
			        (cert == NULL && chain == NULL) ||
			    (variant == NULL && key == NULL)) {
				fprintf(stderr,
				    "agw-sim ctl tls: --variant V, or --cert C "
				    "--key K [--chain X]\n");
				return 2;
			}
			tls = json_object();
			if (variant != NULL)
				json_object_set_new(
				    tls, "variant", json_string(variant));
			if (manifest != NULL)
				json_object_set_new(
				    tls, "manifest", main_abs(manifest));
			if (cert != NULL)
				json_object_set_new(
				    tls, "cert", main_abs(cert));
			if (key != NULL)
				json_object_set_new(tls, "key", main_abs(key));
			if (chain != NULL)
				json_object_set_new(
				    tls, "chain", main_abs(chain));
			if (sni != NULL)
				json_object_set_new(
				    tls, "sni", json_string(sni));
			body = json_dumps(tls, JSON_COMPACT);
			json_decref(tls);
			snprintf(path, sizeof(path), "/backends/%s/tls", name);
			method = "PUT";
		} else {
			fprintf(stderr, "agw-sim ctl: unknown verb %s\n%s",
			    verb, usage);
			return 2;
		}
	}
	if (main_ctl_call(control, method, path, body, &status, &resp) != 0)
		goto out;
	doc = json_loads(resp, 0, NULL);
	if (status >= 300) {
		fprintf(stderr, "agw-sim ctl %s: %d: %s\n", verb, status,
		    json_string_value(json_object_get(doc, "error")) != NULL
		        ? json_string_value(json_object_get(doc, "error"))
		        : resp);
		goto out;
	}
	if (strcmp(verb, "list") != 0 || json_out)
		fputs(resp, stdout);
	else if (!json_is_array(json_object_get(doc, "backends"))) {
		fprintf(stderr,
		    "agw-sim ctl list: %s answered no backend list (is it the "
		    "control API?)\n",
		    control);
		goto out;
	} else if (main_ctl_table(doc) != 0) {
		fprintf(stderr, "agw-sim ctl list: out of memory\n");
		goto out;
	}
	rc = 0;
out:
	json_decref(doc);
	free(body);
	free(resp);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *farm = NULL, *control = NULL, *ready = NULL;
	int i, lvl;

	log_init(argv[0], LOG_LEVEL_INFO);
	if (argc > 1 && strcmp(argv[1], "ctl") == 0)
		return main_ctl(argc - 1, argv + 1);
	for (i = 1; i < argc; i++) {
		int has = i + 1 < argc;

		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(argv[i], "--farm") == 0 && has)
			farm = argv[++i];
		else if (strcmp(argv[i], "--control") == 0 && has)
			control = argv[++i];
		else if (strcmp(argv[i], "--ready-file") == 0 && has)
			ready = argv[++i];
		else if (strcmp(argv[i], "--log-level") == 0 && has) {
			if ((lvl = log_level_parse(argv[++i])) < 0) {
				fprintf(stderr,
				    "agw-sim: --log-level %s: "
				    "unknown level\n",
				    argv[i]);
				return 2;
			}
			log_set_level((enum log_level)lvl);
		} else {
			fprintf(stderr, "agw-sim: unknown argument %s\n%s",
			    argv[i], usage);
			return 2;
		}
	}
	if (farm == NULL) {
		fprintf(stderr, "agw-sim: --farm FILE needed\n%s", usage);
		return 2;
	}
	return main_run(farm, control, ready);
}
