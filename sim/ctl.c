/*
 * ctl: agw-sim ctl, the command-line client of the control API (see ctl.h
 * and "ctl" in sim/README.md).
 */
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "http.h"
#include "jsonio.h"
#include "net.h"
#include "opt.h"

/* One request to the control API; *status and *body (caller frees) out.
 * Returns 0, or -1 with the reason on stderr. */
static int
ctl_call(const char *control, const char *method, const char *path,
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

enum ctl_opt {
	CTL_OPT_CONTROL,
	CTL_OPT_OUTPUT,
	CTL_OPT_VARIANT,
	CTL_OPT_MANIFEST,
	CTL_OPT_CERT,
	CTL_OPT_KEY,
	CTL_OPT_CHAIN,
	CTL_OPT_SNI,
	CTL_NOPTS
};

static const struct opt ctl_opts[CTL_NOPTS] = {
    [CTL_OPT_CONTROL] = {"--control", "ADDR:PORT", NULL, 0},
    [CTL_OPT_OUTPUT] = {"-o", "json", NULL, 0},
    [CTL_OPT_VARIANT] = {"--variant", "V", "variant", 0},
    [CTL_OPT_MANIFEST] = {"--manifest", "M", "manifest", 1},
    [CTL_OPT_CERT] = {"--cert", "C", "cert", 1},
    [CTL_OPT_KEY] = {"--key", "K", "key", 1},
    [CTL_OPT_CHAIN] = {"--chain", "X", "chain", 1},
    [CTL_OPT_SNI] = {"--sni", "HOST", "sni", 0},
};

/* One ctl verb: the words it takes, its request and its help. */
struct ctl_verb {
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

static const struct ctl_verb ctl_verbs[] = {
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

#define CTL_NVERBS (sizeof(ctl_verbs) / sizeof(ctl_verbs[0]))

static const struct ctl_verb *
ctl_verb_find(const char *name)
{
	size_t i;

	for (i = 0; i < CTL_NVERBS; i++)
		if (strcmp(ctl_verbs[i].name, name) == 0)
			return &ctl_verbs[i];
	return NULL;
}

/* "list, show, ..." into buf. */
static const char *
ctl_verb_names(char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < CTL_NVERBS && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    i > 0 ? ", " : "", ctl_verbs[i].name);
	return buf;
}

void
ctl_verb_list(FILE *f)
{
	size_t i;

	for (i = 0; i < CTL_NVERBS; i++)
		fprintf(
		    f, "  %-10s %s\n", ctl_verbs[i].name, ctl_verbs[i].summary);
	fputs("agw-sim ctl VERB --help: one verb's arguments and an example.\n",
	    f);
}

static void
ctl_verb_help(FILE *f, const struct ctl_verb *v)
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

/* One ctl command line, as parsed. */
struct ctl_args {
	const char *opt[CTL_NOPTS];
	const char *verb;
	const char *word[3]; /* the third is one too many for any verb */
	size_t nwords;
	int help;
	char err[512]; /* the first usage error */
};

static void
ctl_parse(int argc, char **argv, struct ctl_args *a)
{
	char err[256];
	int i;

	for (i = 1; i < argc; i++) {
		const char *o = argv[i];
		int r = opt_take(ctl_opts, CTL_NOPTS, a->opt, argc, argv, &i,
		    err, sizeof(err));

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
ctl_check(struct ctl_args *a, const struct ctl_verb *v)
{
	const char *const *o = a->opt, *name = a->word[0];
	char names[128];
	size_t k, want;
	int files;

	if (a->err[0] != '\0')
		return;
	if (v == NULL) {
		snprintf(a->err, sizeof(a->err), "a verb needed (verbs: %s)",
		    ctl_verb_names(names, sizeof(names)));
		return;
	}
	if (o[CTL_OPT_CONTROL] == NULL) {
		snprintf(a->err, sizeof(a->err),
		    "--control ADDR:PORT needed (\"control\" in the farm's "
		    "ready file)");
		return;
	}
	if (o[CTL_OPT_OUTPUT] != NULL &&
	    strcmp(o[CTL_OPT_OUTPUT], "json") != 0) {
		snprintf(a->err, sizeof(a->err), "-o %s: only -o json is known",
		    o[CTL_OPT_OUTPUT]);
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
	for (k = 0; k < CTL_NOPTS; k++)
		if (o[k] != NULL && ctl_opts[k].json_key != NULL && !v->tls) {
			snprintf(a->err, sizeof(a->err),
			    "%s is an option of tls only", ctl_opts[k].name);
			return;
		}
	if (!v->tls)
		return;
	files = o[CTL_OPT_CERT] != NULL || o[CTL_OPT_KEY] != NULL ||
	        o[CTL_OPT_CHAIN] != NULL;
	if (o[CTL_OPT_VARIANT] == NULL && !files)
		snprintf(a->err, sizeof(a->err),
		    "a certificate needed: --variant V, or --cert C --key K "
		    "[--chain X]");
	else if (o[CTL_OPT_VARIANT] != NULL && files)
		snprintf(a->err, sizeof(a->err),
		    "--variant and --cert/--key/--chain exclude each other");
	else if (files && o[CTL_OPT_KEY] == NULL)
		snprintf(a->err, sizeof(a->err),
		    "--key K needed with --cert/--chain");
	else if (files && o[CTL_OPT_CERT] == NULL && o[CTL_OPT_CHAIN] == NULL)
		snprintf(a->err, sizeof(a->err),
		    "--cert C (or --chain X) needed with --key");
	else if (o[CTL_OPT_MANIFEST] != NULL && o[CTL_OPT_VARIANT] == NULL)
		snprintf(a->err, sizeof(a->err),
		    "--manifest M goes with --variant V");
}

/* An absolute path for the sim (which may run elsewhere). */
static json_t *
ctl_abs(const char *p)
{
	char *r = realpath(p, NULL);
	json_t *v = json_string(r != NULL ? r : p);

	free(r);
	return v;
}

/* The body of PUT /backends/NAME/tls from the options; caller frees. */
static char *
ctl_tls_body(const struct ctl_args *a)
{
	json_t *tls = json_object();
	char *body;
	size_t k;

	if (tls == NULL)
		return NULL;
	for (k = 0; k < CTL_NOPTS; k++) {
		const struct opt *m = &ctl_opts[k];

		if (a->opt[k] != NULL && m->json_key != NULL)
			json_object_set_new(tls, m->json_key,
			    m->file ? ctl_abs(a->opt[k])
			            : json_string(a->opt[k]));
	}
	body = json_dumps(tls, JSON_COMPACT);
	json_decref(tls);
	return body;
}

/* The columns of the ctl list table: one per field of BACKEND except
 * port (in ADDRESS), last_request and behaviour (see show). */
enum ctl_col_kind {
	CTL_COL_STR,
	CTL_COL_ADDR, /* key and "port" */
	CTL_COL_BOOL,
	CTL_COL_INT,
	CTL_COL_COUNTS /* {NAME: COUNT}: NAME=COUNT,... */
};

static const struct ctl_col {
	const char *head;
	const char *key;
	enum ctl_col_kind kind;
} ctl_cols[] = {
    {"NAME", "name", CTL_COL_STR},
    {"ADDRESS", "address", CTL_COL_ADDR},
    {"PROTO", "protocol", CTL_COL_STR},
    {"UP", "up", CTL_COL_BOOL},
    {"REQUESTS", "requests", CTL_COL_INT},
    {"HANDSHAKES", "handshakes", CTL_COL_INT},
    {"RESUMED", "resumed", CTL_COL_INT},
    {"HS-ERRORS", "handshake_errors", CTL_COL_INT},
    {"SNI-SEEN", "sni_seen", CTL_COL_COUNTS},
    {"HOSTS-SEEN", "hosts_seen", CTL_COL_COUNTS},
    {"TLS-VERSIONS", "tls_versions", CTL_COL_COUNTS},
};

#define CTL_NCOLS (sizeof(ctl_cols) / sizeof(ctl_cols[0]))

/* One cell of the table for backend b ("-" when the field is missing).
 * Returns a string the caller frees, or NULL when out of memory. */
static char *
ctl_cell(json_t *b, const struct ctl_col *c)
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
	else if (c->kind == CTL_COL_STR)
		fputs(json_string_value(v) != NULL ? json_string_value(v) : "-",
		    f);
	else if (c->kind == CTL_COL_ADDR)
		fprintf(f, "%s:%lld",
		    json_string_value(v) != NULL ? json_string_value(v) : "-",
		    (long long)json_integer_value(json_object_get(b, "port")));
	else if (c->kind == CTL_COL_BOOL)
		fputs(json_is_true(v) ? "yes" : "no", f);
	else if (c->kind == CTL_COL_INT)
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
ctl_table(json_t *doc)
{
	json_t *list = json_object_get(doc, "backends"), *b;
	size_t n = json_array_size(list), i, c, w[CTL_NCOLS];
	char **cell = calloc(n * CTL_NCOLS + 1, sizeof(*cell));
	int rc = -1;

	if (cell == NULL)
		return -1;
	for (c = 0; c < CTL_NCOLS; c++)
		w[c] = strlen(ctl_cols[c].head);
	json_array_foreach(list, i, b)
	{
		for (c = 0; c < CTL_NCOLS; c++) {
			char *s = ctl_cell(b, &ctl_cols[c]);

			if (s == NULL)
				goto out;
			cell[i * CTL_NCOLS + c] = s;
			if (strlen(s) > w[c])
				w[c] = strlen(s);
		}
	}
	for (i = 0; i <= n; i++) {
		for (c = 0; c < CTL_NCOLS; c++) {
			const char *s = i == 0 ? ctl_cols[c].head
			                       : cell[(i - 1) * CTL_NCOLS + c];
			int wid = c + 1 == CTL_NCOLS ? 0 : (int)w[c];

			if (ctl_cols[c].kind == CTL_COL_INT)
				printf("%*s", wid, s);
			else
				printf("%-*s", wid, s);
			fputs(c + 1 == CTL_NCOLS ? "\n" : "  ", stdout);
		}
	}
	rc = 0;
out:
	for (i = 0; i < n * CTL_NCOLS; i++)
		free(cell[i]);
	free(cell);
	return rc;
}

int
ctl_main(int argc, char **argv)
{
	struct ctl_args a;
	const struct ctl_verb *v = NULL;
	const char *name;
	char path[512], names[128], *body = NULL, *resp = NULL;
	int status = 0, rc = 1;
	json_t *doc = NULL;

	memset(&a, 0, sizeof(a));
	ctl_parse(argc, argv, &a);
	if (a.verb != NULL && (v = ctl_verb_find(a.verb)) == NULL) {
		fprintf(stderr, "agw-sim ctl: unknown verb '%s' (verbs: %s)\n",
		    a.verb, ctl_verb_names(names, sizeof(names)));
		return 2;
	}
	if (a.help) {
		if (v != NULL)
			ctl_verb_help(stdout, v);
		else {
			fputs("usage: agw-sim ctl --control ADDR:PORT VERB "
			      "[ARGS] [-o json]\n"
			      "Talks to the control API of a running agw-sim.\n"
			      "verbs:\n",
			    stdout);
			ctl_verb_list(stdout);
		}
		return 0;
	}
	ctl_check(&a, v);
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
		body = ctl_tls_body(&a);
	if (strcmp(v->method, "PUT") == 0 && body == NULL) {
		fprintf(stderr, "agw-sim ctl %s: out of memory\n", v->name);
		goto out;
	}
	if (ctl_call(a.opt[CTL_OPT_CONTROL], v->method, path, body, &status,
	        &resp) != 0)
		goto out;
	doc = json_loads(resp, 0, NULL);
	if (status >= 300) {
		fprintf(stderr, "agw-sim ctl %s: %d: %s\n", v->name, status,
		    json_string_value(json_object_get(doc, "error")) != NULL
		        ? json_string_value(json_object_get(doc, "error"))
		        : resp);
		goto out;
	}
	if (strcmp(v->name, "list") != 0 || a.opt[CTL_OPT_OUTPUT] != NULL)
		fputs(resp, stdout);
	else if (!json_is_array(json_object_get(doc, "backends"))) {
		fprintf(stderr,
		    "agw-sim ctl list: %s answered no backend list (is it the "
		    "control API?)\n",
		    a.opt[CTL_OPT_CONTROL]);
		goto out;
	} else if (ctl_table(doc) != 0) {
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
