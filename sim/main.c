/*
 * agw-sim: the simulated backend farm (see sim/README.md).
 *   agw-sim --farm FILE [--control ADDR:PORT] [--ready-file FILE]
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
		fprintf(stderr,
		    "agw-sim ctl: cannot reach the control API at %s: %s "
		    "(is agw-sim running? --control takes \"control\" from "
		    "its ready file)\n",
		    control, strerror(errno));
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
		fprintf(stderr,
		    "agw-sim ctl: %s: no HTTP answer (is it the control API? "
		    "see \"control\" in the farm's ready file)\n",
		    control);
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

/* An option that takes a value. The ctl tls ones go into the body of
 * PUT /backends/NAME/tls under json_key (files as absolute paths). */
struct main_opt {
	const char *name;
	const char *value; /* what it takes, for help and messages */
	const char *json_key;
	int file;
};

enum main_ctl_opt {
	MAIN_CTL_CONTROL,
	MAIN_CTL_OUTPUT,
	MAIN_CTL_VARIANT,
	MAIN_CTL_MANIFEST,
	MAIN_CTL_CERT,
	MAIN_CTL_KEY,
	MAIN_CTL_CHAIN,
	MAIN_CTL_SNI,
	MAIN_CTL_NOPTS
};

static const struct main_opt main_ctl_opts[MAIN_CTL_NOPTS] = {
    [MAIN_CTL_CONTROL] = {"--control", "ADDR:PORT", NULL, 0},
    [MAIN_CTL_OUTPUT] = {"-o", "json", NULL, 0},
    [MAIN_CTL_VARIANT] = {"--variant", "V", "variant", 0},
    [MAIN_CTL_MANIFEST] = {"--manifest", "M", "manifest", 1},
    [MAIN_CTL_CERT] = {"--cert", "C", "cert", 1},
    [MAIN_CTL_KEY] = {"--key", "K", "key", 1},
    [MAIN_CTL_CHAIN] = {"--chain", "X", "chain", 1},
    [MAIN_CTL_SNI] = {"--sni", "HOST", "sni", 0},
};

enum main_run_opt {
	MAIN_RUN_FARM,
	MAIN_RUN_CONTROL,
	MAIN_RUN_READY,
	MAIN_RUN_LOG_LEVEL,
	MAIN_RUN_NOPTS
};

static const struct main_opt main_run_opts[MAIN_RUN_NOPTS] = {
    [MAIN_RUN_FARM] = {"--farm", "FILE", NULL, 0},
    [MAIN_RUN_CONTROL] = {"--control", "ADDR:PORT", NULL, 0},
    [MAIN_RUN_READY] = {"--ready-file", "FILE", NULL, 0},
    [MAIN_RUN_LOG_LEVEL] = {"--log-level", "debug|info|warn|error", NULL, 0},
};

/* If argv[*i] is one of the n options of t, store its value in val[] and
 * step *i over it. Returns 1 (taken), 0 (not an option of t), or -1 with
 * the reason in err (no value, or given twice). */
static int
main_opt_take(const struct main_opt *t, size_t n, const char **val, int argc,
    char **argv, int *i, char *err, size_t errlen)
{
	const char *o = argv[*i];
	size_t k;

	for (k = 0; k < n && strcmp(o, t[k].name) != 0; k++)
		;
	if (k == n)
		return 0;
	if (*i + 1 >= argc) {
		snprintf(err, errlen, "%s needs %s", o, t[k].value);
		return -1;
	}
	(*i)++;
	if (val[k] != NULL) {
		snprintf(err, errlen, "%s given twice (%s, %s)", o, val[k],
		    argv[*i]);
		return -1;
	}
	val[k] = argv[*i];
	return 1;
}

/* One ctl verb: the words it takes, its request and its help. */
struct main_verb {
	const char *name;
	const char *args;     /* its usage after the verb */
	const char *words[2]; /* the words after the verb, in order */
	int tls;              /* takes the certificate options */
	const char *method;
	const char *path;    /* whole, or what follows /backends/NAME */
	const char *summary; /* one line in the verb list */
	const char *help;    /* what it does */
	const char *opts;    /* its arguments, one a line */
	const char *example; /* what follows --control ADDR:PORT */
};

static const struct main_verb main_verbs[] = {
    {.name = "list",
        .args = "[-o json]",
        .method = "GET",
        .path = "/backends",
        .summary = "every backend and all its counters, as a table",
        .help = "Prints one row per backend with every counter the "
                "control API keeps:\n"
                "REQUESTS, HANDSHAKES, RESUMED (sessions), HS-ERRORS "
                "(failed handshakes),\n"
                "and SNI-SEEN, HOSTS-SEEN, TLS-VERSIONS as NAME=COUNT "
                "lists joined with\n"
                "commas ((none): handshakes without SNI, requests "
                "without Host; -: none yet).\n",
        .opts = "  -o json              the API's document instead of the "
                "table\n",
        .example = "list"},
    {.name = "show",
        .args = "NAME",
        .words = {"NAME"},
        .method = "GET",
        .path = "",
        .summary = "one backend: counters, last request, behaviour (JSON)",
        .help = "Prints the backend as JSON: address, counters, the last "
                "request (its echo\n"
                "document) and the behaviour.\n",
        .opts = "  NAME                 the backend's name in the farm "
                "file\n",
        .example = "show b1"},
    {.name = "behaviour",
        .args = "NAME JSON",
        .words = {"NAME", "JSON"},
        .method = "PUT",
        .path = "/behaviour",
        .summary = "replace a backend's behaviour",
        .help = "Replaces the backend's whole behaviour (keys left out go "
                "back to their\n"
                "defaults; see \"Behaviour object\" in sim/README.md) and "
                "prints the backend.\n",
        .opts = "  NAME                 the backend\n"
                "  JSON                 a behaviour object\n",
        .example = "behaviour b1 '{\"status\": 503, \"delay_ms\": 200}'"},
    {.name = "tls",
        .args = "NAME (--variant V [--manifest M] |\n"
                "           --cert C --key K [--chain X]) [--sni HOST]",
        .words = {"NAME"},
        .tls = 1,
        .method = "PUT",
        .path = "/tls",
        .summary = "rotate a backend's certificate",
        .help = "Gives the backend a new certificate: new handshakes "
                "present it, live\n"
                "connections keep theirs. Files are sent as absolute "
                "paths; the sim reads\n"
                "them. Prints the backend.\n",
        .opts = "  NAME                 the backend\n"
                "  --variant V          an agw-certs variant, found "
                "through the farm's manifest\n"
                "  --manifest M         ... or through this manifest\n"
                "  --cert C, --key K    a certificate and its key (PEM "
                "files)\n"
                "  --chain X            the chain to present, leaf first "
                "(default: C alone)\n"
                "  --sni HOST           replace (or add) only the "
                "certificate for this SNI\n",
        .example = "tls b1 --variant rotated"},
    {.name = "down",
        .args = "NAME",
        .words = {"NAME"},
        .method = "POST",
        .path = "/down",
        .summary = "close a backend's listener (connections are refused)",
        .help = "Closes the backend's listener and drops its live "
                "connections; the port is\n"
                "kept for up. Prints the backend.\n",
        .opts = "  NAME                 the backend\n",
        .example = "down b1"},
    {.name = "up",
        .args = "NAME",
        .words = {"NAME"},
        .method = "POST",
        .path = "/up",
        .summary = "reopen a backend's listener on its port",
        .help = "Listens again on the port the backend had (fails if "
                "another program took\n"
                "it). Prints the backend.\n",
        .opts = "  NAME                 the backend\n",
        .example = "up b1"},
    {.name = "reset",
        .args = "",
        .method = "POST",
        .path = "/reset",
        .summary = "zero every counter of every backend",
        .help = "Zeroes the requests, handshakes, resumed sessions, "
                "handshake errors and\n"
                "the SNI, Host and TLS version counts of every backend.\n"
                "Prints {\"reset\": true}.\n",
        .opts = "",
        .example = "reset"},
};

#define MAIN_NVERBS (sizeof(main_verbs) / sizeof(main_verbs[0]))

static const struct main_verb *
main_verb_find(const char *name)
{
	size_t i;

	for (i = 0; i < MAIN_NVERBS; i++)
		if (strcmp(main_verbs[i].name, name) == 0)
			return &main_verbs[i];
	return NULL;
}

/* "list, show, ..." into buf. */
static const char *
main_verb_names(char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < MAIN_NVERBS && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    i > 0 ? ", " : "", main_verbs[i].name);
	return buf;
}

static void
main_verb_list(FILE *f)
{
	size_t i;

	for (i = 0; i < MAIN_NVERBS; i++)
		fprintf(f, "  %-10s %s\n", main_verbs[i].name,
		    main_verbs[i].summary);
	fputs("agw-sim ctl VERB --help: one verb's arguments and an example.\n",
	    f);
}

static void
main_verb_help(FILE *f, const struct main_verb *v)
{
	fprintf(f, "usage: agw-sim ctl --control ADDR:PORT %s%s%s\n", v->name,
	    v->args[0] != '\0' ? " " : "", v->args);
	fprintf(f, "%srequest: %s %s%s\narguments:\n", v->help, v->method,
	    v->words[0] != NULL ? "/backends/NAME" : "", v->path);
	fputs("  --control ADDR:PORT  the control API (\"control\" in the "
	      "farm's ready file)\n",
	    f);
	fputs(v->opts, f);
	fprintf(f, "example:\n  agw-sim ctl --control 127.0.0.1:9900 %s\n",
	    v->example);
}

static void
main_usage(FILE *f)
{
	fputs("usage: agw-sim --farm FILE [--control ADDR:PORT] "
	      "[--ready-file FILE]\n"
	      "               [--log-level debug|info|warn|error]\n"
	      "       agw-sim ctl --control ADDR:PORT VERB [ARGS] [-o json]\n"
	      "A farm of simulated TLS backends in one process; ctl talks to "
	      "its control API.\n"
	      "ctl verbs:\n",
	    f);
	main_verb_list(f);
}

/* One ctl command line, as parsed. */
struct main_ctl_args {
	const char *opt[MAIN_CTL_NOPTS];
	const char *verb;
	const char *word[3]; /* the third is one too many for any verb */
	size_t nwords;
	int help;
	char err[512]; /* the first usage error */
};

static void
main_ctl_parse(int argc, char **argv, struct main_ctl_args *a)
{
	char err[256];
	int i;

	for (i = 1; i < argc; i++) {
		const char *o = argv[i];
		int r = main_opt_take(main_ctl_opts, MAIN_CTL_NOPTS, a->opt,
		    argc, argv, &i, err, sizeof(err));

		if (r < 0 && a->err[0] == '\0')
			snprintf(a->err, sizeof(a->err), "%s", err);
		if (r != 0)
			continue;
		if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0)
			a->help = 1;
		else if (o[0] == '-' && o[1] != '\0') {
			if (a->err[0] == '\0')
				snprintf(a->err, sizeof(a->err),
				    "unknown option %s", o);
		} else if (a->verb == NULL)
			a->verb = o;
		else if (a->nwords < 3)
			a->word[a->nwords++] = o;
	}
}

/* The usage errors of a ctl command line with a known verb (or none) into
 * a->err; the first one only. */
static void
main_ctl_check(struct main_ctl_args *a, const struct main_verb *v)
{
	const char *const *o = a->opt, *name = a->word[0];
	char names[128];
	size_t k, want;
	int files;

	if (a->err[0] != '\0')
		return;
	if (v == NULL) {
		snprintf(a->err, sizeof(a->err), "a verb needed (verbs: %s)",
		    main_verb_names(names, sizeof(names)));
		return;
	}
	if (o[MAIN_CTL_CONTROL] == NULL) {
		snprintf(a->err, sizeof(a->err),
		    "--control ADDR:PORT needed (\"control\" in the farm's "
		    "ready file)");
		return;
	}
	if (o[MAIN_CTL_OUTPUT] != NULL &&
	    strcmp(o[MAIN_CTL_OUTPUT], "json") != 0) {
		snprintf(a->err, sizeof(a->err), "-o %s: only -o json is known",
		    o[MAIN_CTL_OUTPUT]);
		return;
	}
	for (want = 0; want < 2 && v->words[want] != NULL; want++)
		;
	if (a->nwords < want) {
		snprintf(
		    a->err, sizeof(a->err), "%s needed", v->words[a->nwords]);
		return;
	}
	if (a->nwords > want) {
		snprintf(
		    a->err, sizeof(a->err), "extra argument %s", a->word[want]);
		return;
	}
	if (want > 0 && strpbrk(name, "/ \t") != NULL) {
		snprintf(a->err, sizeof(a->err),
		    "NAME \"%s\": backend names have no '/' or blanks", name);
		return;
	}
	for (k = 0; k < MAIN_CTL_NOPTS; k++)
		if (o[k] != NULL && main_ctl_opts[k].json_key != NULL &&
		    !v->tls) {
			snprintf(a->err, sizeof(a->err),
			    "%s is an option of tls only",
			    main_ctl_opts[k].name);
			return;
		}
	if (!v->tls)
		return;
	files = o[MAIN_CTL_CERT] != NULL || o[MAIN_CTL_KEY] != NULL ||
	        o[MAIN_CTL_CHAIN] != NULL;
	if (o[MAIN_CTL_VARIANT] == NULL && !files)
		snprintf(a->err, sizeof(a->err),
		    "a certificate needed: --variant V, or --cert C --key K "
		    "[--chain X]");
	else if (o[MAIN_CTL_VARIANT] != NULL && files)
		snprintf(a->err, sizeof(a->err),
		    "--variant and --cert/--key/--chain exclude each other");
	else if (files && o[MAIN_CTL_KEY] == NULL)
		snprintf(a->err, sizeof(a->err),
		    "--key K needed with --cert/--chain");
	else if (files && o[MAIN_CTL_CERT] == NULL && o[MAIN_CTL_CHAIN] == NULL)
		snprintf(a->err, sizeof(a->err),
		    "--cert C (or --chain X) needed with --key");
	else if (o[MAIN_CTL_MANIFEST] != NULL && o[MAIN_CTL_VARIANT] == NULL)
		snprintf(a->err, sizeof(a->err),
		    "--manifest M goes with --variant V");
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

/* The body of PUT /backends/NAME/tls from the options; caller frees. */
static char *
main_ctl_tls_body(const struct main_ctl_args *a)
{
	json_t *tls = json_object();
	char *body;
	size_t k;

	if (tls == NULL)
		return NULL;
	for (k = 0; k < MAIN_CTL_NOPTS; k++) {
		const struct main_opt *m = &main_ctl_opts[k];

		if (a->opt[k] != NULL && m->json_key != NULL)
			json_object_set_new(tls, m->json_key,
			    m->file ? main_abs(a->opt[k])
			            : json_string(a->opt[k]));
	}
	body = json_dumps(tls, JSON_COMPACT);
	json_decref(tls);
	return body;
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

static int
main_ctl(int argc, char **argv)
{
	struct main_ctl_args a;
	const struct main_verb *v = NULL;
	const char *name;
	char path[512], names[128], *body = NULL, *resp = NULL;
	int status = 0, rc = 1;
	json_t *doc = NULL;

	memset(&a, 0, sizeof(a));
	main_ctl_parse(argc, argv, &a);
	if (a.verb != NULL && (v = main_verb_find(a.verb)) == NULL) {
		fprintf(stderr, "agw-sim ctl: unknown verb '%s' (verbs: %s)\n",
		    a.verb, main_verb_names(names, sizeof(names)));
		return 2;
	}
	if (a.help) {
		if (v != NULL)
			main_verb_help(stdout, v);
		else {
			fputs("usage: agw-sim ctl --control ADDR:PORT VERB "
			      "[ARGS] [-o json]\n"
			      "Talks to the control API of a running agw-sim.\n"
			      "verbs:\n",
			    stdout);
			main_verb_list(stdout);
		}
		return 0;
	}
	main_ctl_check(&a, v);
	if (a.err[0] != '\0') {
		fprintf(stderr,
		    "agw-sim ctl%s%s: %s; see agw-sim ctl%s%s --help\n",
		    v != NULL ? " " : "", v != NULL ? v->name : "", a.err,
		    v != NULL ? " " : "", v != NULL ? v->name : "");
		return 2;
	}
	name = a.word[0];
	if (name != NULL)
		snprintf(path, sizeof(path), "/backends/%s%s", name, v->path);
	else
		snprintf(path, sizeof(path), "%s", v->path);
	if (strcmp(v->name, "behaviour") == 0)
		body = strdup(a.word[1]);
	else if (v->tls)
		body = main_ctl_tls_body(&a);
	if (strcmp(v->method, "PUT") == 0 && body == NULL) {
		fprintf(stderr, "agw-sim ctl %s: out of memory\n", v->name);
		goto out;
	}
	if (main_ctl_call(a.opt[MAIN_CTL_CONTROL], v->method, path, body,
	        &status, &resp) != 0)
		goto out;
	doc = json_loads(resp, 0, NULL);
	if (status >= 300) {
		fprintf(stderr, "agw-sim ctl %s: %d: %s\n", v->name, status,
		    json_string_value(json_object_get(doc, "error")) != NULL
		        ? json_string_value(json_object_get(doc, "error"))
		        : resp);
		goto out;
	}
	if (strcmp(v->name, "list") != 0 || a.opt[MAIN_CTL_OUTPUT] != NULL)
		fputs(resp, stdout);
	else if (!json_is_array(json_object_get(doc, "backends"))) {
		fprintf(stderr,
		    "agw-sim ctl list: %s answered no backend list (is it the "
		    "control API?)\n",
		    a.opt[MAIN_CTL_CONTROL]);
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
	const char *val[MAIN_RUN_NOPTS] = {NULL};
	const char *lvl_name;
	char err[256];
	int i, r, lvl;

	log_init(argv[0], LOG_LEVEL_INFO);
	if (argc > 1 && strcmp(argv[1], "ctl") == 0)
		return main_ctl(argc - 1, argv + 1);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			main_usage(stdout);
			return 0;
		}
		r = main_opt_take(main_run_opts, MAIN_RUN_NOPTS, val, argc,
		    argv, &i, err, sizeof(err));
		if (r == 0)
			snprintf(err, sizeof(err), "unknown argument %s%s",
			    argv[i],
			    argv[i][0] != '-'
			        ? " (a farm file goes after --farm)"
			        : "");
		if (r <= 0) {
			fprintf(
			    stderr, "agw-sim: %s; see agw-sim --help\n", err);
			return 2;
		}
	}
	if ((lvl_name = val[MAIN_RUN_LOG_LEVEL]) != NULL) {
		if ((lvl = log_level_parse(lvl_name)) < 0) {
			fprintf(stderr,
			    "agw-sim: --log-level %s: unknown level (debug, "
			    "info, warn or error)\n",
			    lvl_name);
			return 2;
		}
		log_set_level((enum log_level)lvl);
	}
	if (val[MAIN_RUN_FARM] == NULL) {
		fprintf(stderr,
		    "agw-sim: --farm FILE needed; see agw-sim --help\n");
		return 2;
	}
	return main_run(
	    val[MAIN_RUN_FARM], val[MAIN_RUN_CONTROL], val[MAIN_RUN_READY]);
}
