/*
 * farm: the farm spec parser and validator, and TLS contexts built from it.
 * See farm.h and sim/README.md for the format.
 */
#include "farm.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/err.h>

#include "jsonio.h"
#include "tls.h"

#define FARM_MAX_DELAY_MS (3600 * 1000)

static void farm_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
farm_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A path relative to basedir (unchanged when absolute or basedir NULL). */
static char *
farm_path(const char *basedir, const char *p)
{
	char *out;

	if (p[0] == '/' || basedir == NULL || basedir[0] == '\0')
		return strdup(p);
	if (asprintf(&out, "%s/%s", basedir, p) < 0)
		return NULL;
	return out;
}

/* The folder of a file path ("." when it has none); malloc'd. */
static char *
farm_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static int
farm_get_bool(json_t *o, const char *key, int *out, const char *where,
    char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_boolean(v)) {
		farm_seterr(
		    err, errlen, "%s.%s: must be true or false", where, key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

static int
farm_get_int(json_t *o, const char *key, long long lo, long long hi,
    long long *out, const char *where, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi) {
		farm_seterr(err, errlen, "%s.%s: must be an integer %lld..%lld",
		    where, key, lo, hi);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

static int
farm_get_str(json_t *o, const char *key, char **out, const char *where,
    char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_string(v)) {
		farm_seterr(err, errlen, "%s.%s: must be a string", where, key);
		return -1;
	}
	free(*out);
	if ((*out = strdup(json_string_value(v))) == NULL) {
		farm_seterr(err, errlen, "%s.%s: out of memory", where, key);
		return -1;
	}
	return 0;
}

/* Reject keys that are not in the allowed list (typos must not pass). */
static int
farm_check_keys(json_t *o, const char *const *allowed, const char *where,
    char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(o, key, v)
	{
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], key) == 0)
				break;
		if (allowed[i] == NULL) {
			farm_seterr(
			    err, errlen, "%s.%s: unknown key", where, key);
			return -1;
		}
	}
	return 0;
}

void
farm_behaviour_init(struct farm_behaviour *b)
{
	memset(b, 0, sizeof(*b));
	b->status = 200;
	b->body_bytes = -1;
}

void
farm_behaviour_clear(struct farm_behaviour *b)
{
	size_t i;

	for (i = 0; i < b->nheaders; i++) {
		free(b->headers[i].name);
		free(b->headers[i].value);
	}
	free(b->headers);
	free(b->body);
	free(b->health_path);
	free(b->health_body);
	farm_behaviour_init(b);
}

static const char *const farm_behaviour_keys[] = {"status", "headers", "body",
    "body_bytes", "chunked", "delay_ms", "slow_body", "reset",
    "close_after_headers", "truncate_body", "stall_handshake", "never_read",
    "echo", "health", "down", NULL};

static int
farm_behaviour_headers(json_t *h, struct farm_behaviour *b, const char *where,
    char *err, size_t errlen)
{
	const char *key, *c;
	json_t *v;

	if (!json_is_object(h)) {
		farm_seterr(
		    err, errlen, "%s.headers: must be an object", where);
		return -1;
	}
	b->headers = calloc(json_object_size(h) + 1, sizeof(*b->headers));
	if (b->headers == NULL) {
		farm_seterr(err, errlen, "%s.headers: out of memory", where);
		return -1;
	}
	json_object_foreach(h, key, v)
	{
		if (!json_is_string(v)) {
			farm_seterr(err, errlen,
			    "%s.headers.%s: must be a string", where, key);
			return -1;
		}
		for (c = key; *c != '\0'; c++)
			if (*c <= ' ' || *c == ':' || *c == 127)
				break;
		if (key[0] == '\0' || *c != '\0') {
			farm_seterr(err, errlen,
			    "%s.headers.%s: not a valid header name", where,
			    key);
			return -1;
		}
		if (strpbrk(json_string_value(v), "\r\n") != NULL) {
			farm_seterr(err, errlen,
			    "%s.headers.%s: line breaks are not allowed", where,
			    key);
			return -1;
		}
		if (strcasecmp(key, "Server") == 0)
			b->has_server = 1;
		if (strcasecmp(key, "Content-Type") == 0)
			b->has_content_type = 1;
		if (strcasecmp(key, "Content-Length") == 0 ||
		    strcasecmp(key, "Transfer-Encoding") == 0) {
			farm_seterr(err, errlen,
			    "%s.headers.%s: framing is the sim's (use "
			    "body_bytes, chunked, truncate_body)",
			    where, key);
			return -1;
		}
		b->headers[b->nheaders].name = strdup(key);
		b->headers[b->nheaders].value = strdup(json_string_value(v));
		b->nheaders++;
		if (b->headers[b->nheaders - 1].name == NULL ||
		    b->headers[b->nheaders - 1].value == NULL) {
			farm_seterr(
			    err, errlen, "%s.headers: out of memory", where);
			return -1;
		}
	}
	return 0;
}

static int
farm_behaviour_health(json_t *h, struct farm_behaviour *b, const char *where,
    char *err, size_t errlen)
{
	static const char *const keys[] = {"path", "status", "body", NULL};
	char sub[256];
	long long n = 200;

	snprintf(sub, sizeof(sub), "%s.health", where);
	if (!json_is_object(h)) {
		farm_seterr(err, errlen, "%s: must be an object", sub);
		return -1;
	}
	if (farm_check_keys(h, keys, sub, err, errlen) != 0 ||
	    farm_get_str(h, "path", &b->health_path, sub, err, errlen) != 0 ||
	    farm_get_int(h, "status", 100, 999, &n, sub, err, errlen) != 0 ||
	    farm_get_str(h, "body", &b->health_body, sub, err, errlen) != 0)
		return -1;
	if (b->health_path == NULL)
		b->health_path = strdup("/health");
	if (b->health_path == NULL || b->health_path[0] != '/') {
		farm_seterr(err, errlen, "%s.path: must start with /", sub);
		return -1;
	}
	b->health_status = (int)n;
	return 0;
}

int
farm_behaviour_parse(json_t *v, struct farm_behaviour *b, const char *where,
    char *err, size_t errlen)
{
	long long n;
	json_t *s;
	char sub[256];

	farm_behaviour_init(b);
	if (v == NULL)
		return 0;
	if (!json_is_object(v)) {
		farm_seterr(err, errlen, "%s: must be an object", where);
		goto fail;
	}
	if (farm_check_keys(v, farm_behaviour_keys, where, err, errlen) != 0)
		goto fail;
	n = 200;
	if (farm_get_int(v, "status", 100, 999, &n, where, err, errlen) != 0)
		goto fail;
	b->status = (int)n;
	if (json_object_get(v, "headers") != NULL &&
	    farm_behaviour_headers(
	        json_object_get(v, "headers"), b, where, err, errlen) != 0)
		goto fail;
	if (farm_get_str(v, "body", &b->body, where, err, errlen) != 0 ||
	    farm_get_int(v, "body_bytes", 0, 1LL << 40, &b->body_bytes, where,
	        err, errlen) != 0)
		goto fail;
	if (b->body != NULL && b->body_bytes >= 0) {
		farm_seterr(err, errlen,
		    "%s: body and body_bytes are exclusive", where);
		goto fail;
	}
	n = 0;
	if (farm_get_int(v, "delay_ms", 0, FARM_MAX_DELAY_MS, &n, where, err,
	        errlen) != 0)
		goto fail;
	b->delay_ms = (int)n;
	if ((s = json_object_get(v, "slow_body")) != NULL) {
		static const char *const keys[] = {
		    "bytes", "interval_ms", NULL};
		long long bytes = 1, ival = 100;

		snprintf(sub, sizeof(sub), "%s.slow_body", where);
		if (!json_is_object(s)) {
			farm_seterr(err, errlen, "%s: must be an object", sub);
			goto fail;
		}
		if (farm_check_keys(s, keys, sub, err, errlen) != 0 ||
		    farm_get_int(s, "bytes", 1, 1 << 20, &bytes, sub, err,
		        errlen) != 0 ||
		    farm_get_int(s, "interval_ms", 1, FARM_MAX_DELAY_MS, &ival,
		        sub, err, errlen) != 0)
			goto fail;
		b->slow_bytes = (int)bytes;
		b->slow_interval_ms = (int)ival;
	}
	if (farm_get_bool(v, "chunked", &b->chunked, where, err, errlen) ||
	    farm_get_bool(v, "reset", &b->reset, where, err, errlen) ||
	    farm_get_bool(v, "close_after_headers", &b->close_after_headers,
	        where, err, errlen) ||
	    farm_get_bool(
	        v, "truncate_body", &b->truncate_body, where, err, errlen) ||
	    farm_get_bool(v, "stall_handshake", &b->stall_handshake, where, err,
	        errlen) ||
	    farm_get_bool(
	        v, "never_read", &b->never_read, where, err, errlen) ||
	    farm_get_bool(v, "echo", &b->echo, where, err, errlen) ||
	    farm_get_bool(v, "down", &b->down, where, err, errlen))
		goto fail;
	if (b->chunked && b->truncate_body) {
		farm_seterr(err, errlen,
		    "%s: truncate_body needs a Content-Length, not chunked",
		    where);
		goto fail;
	}
	if (json_object_get(v, "health") != NULL &&
	    farm_behaviour_health(
	        json_object_get(v, "health"), b, where, err, errlen) != 0)
		goto fail;
	return 0;
fail:
	farm_behaviour_clear(b);
	return -1;
}

json_t *
farm_behaviour_json(const struct farm_behaviour *b)
{
	json_t *o, *h;
	size_t i;

	if ((o = json_object()) == NULL)
		return NULL;
	json_object_set_new(o, "status", json_integer(b->status));
	if (b->nheaders > 0) {
		h = json_object();
		for (i = 0; i < b->nheaders; i++)
			json_object_set_new(h, b->headers[i].name,
			    json_string(b->headers[i].value));
		json_object_set_new(o, "headers", h);
	}
	if (b->body != NULL)
		json_object_set_new(o, "body", json_string(b->body));
	if (b->body_bytes >= 0)
		json_object_set_new(
		    o, "body_bytes", json_integer(b->body_bytes));
	if (b->delay_ms > 0)
		json_object_set_new(o, "delay_ms", json_integer(b->delay_ms));
	if (b->slow_bytes > 0)
		json_object_set_new(o, "slow_body",
		    json_pack("{s:i,s:i}", "bytes", b->slow_bytes,
		        "interval_ms", b->slow_interval_ms));
#define FARM_FLAG(f)                                                           \
	do {                                                                   \
		if (b->f)                                                      \
			json_object_set_new(o, #f, json_true());               \
	} while (0)
	FARM_FLAG(chunked);
	FARM_FLAG(reset);
	FARM_FLAG(close_after_headers);
	FARM_FLAG(truncate_body);
	FARM_FLAG(stall_handshake);
	FARM_FLAG(never_read);
	FARM_FLAG(echo);
	FARM_FLAG(down);
#undef FARM_FLAG
	if (b->health_path != NULL)
		json_object_set_new(o, "health",
		    json_pack("{s:s,s:i,s:s}", "path", b->health_path, "status",
		        b->health_status, "body",
		        b->health_body != NULL ? b->health_body : ""));
	return o;
}

void
farm_tls_clear(struct farm_tls *t)
{
	free(t->variant);
	free(t->cert);
	free(t->key);
	free(t->chain);
	free(t->first_key);
	memset(t, 0, sizeof(*t));
}

json_t *
farm_tls_json(const struct farm_tls *t)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	if (t->variant != NULL)
		json_object_set_new(o, "variant", json_string(t->variant));
	if (t->cert != NULL)
		json_object_set_new(o, "cert", json_string(t->cert));
	json_object_set_new(o, "key", json_string(t->key));
	if (t->chain != NULL)
		json_object_set_new(o, "chain", json_string(t->chain));
	return o;
}

/* A string field of a manifest item as a path relative to mdir, or NULL. */
static char *
farm_manifest_path(json_t *item, const char *field, const char *mdir)
{
	json_t *v = json_object_get(item, field);

	if (!json_is_string(v))
		return NULL;
	return farm_path(mdir, json_string_value(v));
}

/* One loaded manifest, reused while the file is unchanged: a farm of a
 * thousand backends names the same manifest a thousand times. */
static struct {
	char *path;
	struct stat st;
	json_t *doc;
} farm_manifest_cache;

void
farm_cache_clear(void)
{
	free(farm_manifest_cache.path);
	json_decref(farm_manifest_cache.doc);
	memset(&farm_manifest_cache, 0, sizeof(farm_manifest_cache));
}

/* The manifest's JSON (a new reference), or NULL with err set. */
static json_t *
farm_manifest_load(const char *path, char *err, size_t errlen)
{
	struct stat st;
	json_t *doc;

	if (stat(path, &st) == 0 && farm_manifest_cache.doc != NULL &&
	    strcmp(farm_manifest_cache.path, path) == 0 &&
	    st.st_ino == farm_manifest_cache.st.st_ino &&
	    st.st_size == farm_manifest_cache.st.st_size &&
	    st.st_mtim.tv_sec == farm_manifest_cache.st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == farm_manifest_cache.st.st_mtim.tv_nsec)
		return json_incref(farm_manifest_cache.doc);
	if ((doc = jsonio_load_file(path, err, errlen)) == NULL)
		return NULL;
	farm_cache_clear();
	if ((farm_manifest_cache.path = strdup(path)) != NULL) {
		farm_manifest_cache.st = st;
		farm_manifest_cache.doc = json_incref(doc);
	}
	return doc;
}

static int
farm_tls_variant(const char *variant, const char *manifest, struct farm_tls *t,
    const char *where, char *err, size_t errlen)
{
	char jerr[512];
	json_t *root = NULL, *items, *item, *issuer;
	char *mdir = NULL;

	if (manifest == NULL) {
		farm_seterr(err, errlen,
		    "%s.variant: \"%s\" needs a manifest (the farm's "
		    "\"manifest\" key)",
		    where, variant);
		return -1;
	}
	if ((root = farm_manifest_load(manifest, jerr, sizeof(jerr))) == NULL) {
		farm_seterr(
		    err, errlen, "%s.variant: manifest %s", where, jerr);
		return -1;
	}
	items = json_object_get(root, "items");
	if (!json_is_object(items) ||
	    !json_is_object(item = json_object_get(items, variant))) {
		farm_seterr(err, errlen,
		    "%s.variant: \"%s\" is not an item of the manifest %s",
		    where, variant, manifest);
		goto fail;
	}
	if ((mdir = farm_dirname(manifest)) == NULL)
		goto nomem;
	t->variant = strdup(variant);
	t->cert = farm_manifest_path(item, "cert", mdir);
	t->key = farm_manifest_path(item, "key", mdir);
	t->chain = farm_manifest_path(item, "chain", mdir);
	if (t->variant == NULL)
		goto nomem;
	if (t->key == NULL || (t->cert == NULL && t->chain == NULL)) {
		farm_seterr(err, errlen,
		    "%s.variant: manifest %s: items.%s has no key and "
		    "cert/chain",
		    where, manifest, variant);
		goto fail;
	}
	/* A wrong-order chain starts with the issuer: its key lets the sim
	 * present the chain as written. */
	issuer = json_object_get(items,
	    json_string_value(json_object_get(item, "issuer_item")) != NULL
	        ? json_string_value(json_object_get(item, "issuer_item"))
	        : "");
	if (json_is_object(issuer))
		t->first_key = farm_manifest_path(issuer, "key", mdir);
	free(mdir);
	json_decref(root);
	return 0;
nomem:
	farm_seterr(err, errlen, "%s: out of memory", where);
fail:
	free(mdir);
	json_decref(root);
	farm_tls_clear(t);
	return -1;
}

int
farm_tls_parse(json_t *v, const char *manifest, const char *basedir,
    struct farm_tls *t, const char *where, char *err, size_t errlen)
{
	static const char *const keys[] = {"variant", "cert", "key", "chain",
	    "chain_first_key", "manifest", NULL};
	char *s = NULL;
	char *man = NULL;
	int rc;

	if (errlen > 0)
		err[0] = '\0';
	memset(t, 0, sizeof(*t));
	if (!json_is_object(v)) {
		farm_seterr(err, errlen,
		    "%s: must be an object ({\"variant\": NAME} or "
		    "{\"cert\", \"key\", \"chain\"})",
		    where);
		return -1;
	}
	if (farm_check_keys(v, keys, where, err, errlen) != 0)
		return -1;
	if (json_object_get(v, "variant") != NULL) {
		if (farm_get_str(v, "variant", &s, where, err, errlen) != 0)
			return -1;
		if (json_object_get(v, "cert") != NULL ||
		    json_object_get(v, "key") != NULL ||
		    json_object_get(v, "chain") != NULL) {
			farm_seterr(err, errlen,
			    "%s: variant and cert/key/chain are exclusive",
			    where);
			free(s);
			return -1;
		}
		if (farm_get_str(v, "manifest", &man, where, err, errlen) !=
		    0) {
			free(s);
			return -1;
		}
		if (man != NULL) {
			char *p = farm_path(basedir, man);

			free(man);
			man = p;
		}
		rc = farm_tls_variant(
		    s, man != NULL ? man : manifest, t, where, err, errlen);
		free(s);
		free(man);
		return rc;
	}
#define FARM_TLS_FILE(field, jkey)                                             \
	do {                                                                   \
		s = NULL;                                                      \
		if (farm_get_str(v, jkey, &s, where, err, errlen) != 0)        \
			goto fail;                                             \
		if (s != NULL) {                                               \
			t->field = farm_path(basedir, s);                      \
			free(s);                                               \
			if (t->field == NULL)                                  \
				goto fail;                                     \
		}                                                              \
	} while (0)
	FARM_TLS_FILE(cert, "cert");
	FARM_TLS_FILE(key, "key");
	FARM_TLS_FILE(chain, "chain");
	FARM_TLS_FILE(first_key, "chain_first_key");
#undef FARM_TLS_FILE
	if (t->key == NULL) {
		farm_seterr(err, errlen, "%s.key: missing", where);
		goto fail;
	}
	if (t->cert == NULL && t->chain == NULL) {
		farm_seterr(
		    err, errlen, "%s.cert: missing (or give a chain)", where);
		goto fail;
	}
	return 0;
fail:
	if (err[0] == '\0')
		farm_seterr(err, errlen, "%s: out of memory", where);
	farm_tls_clear(t);
	return -1;
}

static void
farm_backend_clear(struct farm_backend *b)
{
	size_t i;

	free(b->name);
	farm_tls_clear(&b->tls);
	for (i = 0; i < b->nsni; i++) {
		free(b->sni[i].name);
		farm_tls_clear(&b->sni[i].tls);
	}
	free(b->sni);
	farm_behaviour_clear(&b->behaviour);
}

void
farm_free(struct farm *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nbackends; i++)
		farm_backend_clear(&f->backends[i]);
	free(f->backends);
	free(f->path);
	free(f->manifest);
	free(f);
}

static int
farm_tls_version(json_t *o, const char *key, int *out, const char *where,
    char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_string(v) ||
	    (*out = tls_version_parse(json_string_value(v))) == 0) {
		farm_seterr(err, errlen,
		    "%s.%s: must be \"1.0\", \"1.1\", \"1.2\" or \"1.3\"",
		    where, key);
		return -1;
	}
	return 0;
}

static const char *const farm_backend_keys[] = {"name", "listen", "protocol",
    "tls", "sni", "min_tls", "max_tls", "behaviour", NULL};

static int
farm_backend_parse(struct farm *f, json_t *v, size_t idx, const char *basedir,
    char *err, size_t errlen)
{
	struct farm_backend *b = &f->backends[idx];
	char where[128], sub[512], aerr[256];
	const char *proto, *key;
	json_t *sni, *t;
	size_t i;

	snprintf(where, sizeof(where), "backends[%zu]", idx);
	if (!json_is_object(v)) {
		farm_seterr(err, errlen, "%s: must be an object", where);
		return -1;
	}
	if (!json_is_string(json_object_get(v, "name")) ||
	    json_string_length(json_object_get(v, "name")) == 0) {
		farm_seterr(err, errlen,
		    "%s.name: missing (a non-empty string)", where);
		return -1;
	}
	if ((b->name = strdup(json_string_value(json_object_get(v, "name")))) ==
	    NULL)
		goto nomem;
	if (strpbrk(b->name, "/ \t\r\n") != NULL) {
		farm_seterr(err, errlen,
		    "backend \"%s\": %s.name: no '/' or blanks allowed",
		    b->name, where);
		return -1;
	}
	for (i = 0; i < idx; i++)
		if (strcmp(f->backends[i].name, b->name) == 0) {
			farm_seterr(err, errlen,
			    "backend \"%s\": %s.name: duplicate of "
			    "backends[%zu]",
			    b->name, where, i);
			return -1;
		}
	/* From here every error names the backend too. */
	if (farm_check_keys(v, farm_backend_keys, where, sub, sizeof(sub)) != 0)
		goto named;
	if (!json_is_string(json_object_get(v, "listen"))) {
		snprintf(sub, sizeof(sub),
		    "%s.listen: missing (127.x.y.z:port)", where);
		goto named;
	}
	if (net_addr_parse(json_string_value(json_object_get(v, "listen")), -1,
	        &b->addr, aerr, sizeof(aerr)) != 0) {
		snprintf(sub, sizeof(sub), "%s.listen: %s", where, aerr);
		goto named;
	}
	if (!net_addr_is_loopback(&b->addr)) {
		snprintf(sub, sizeof(sub), "%s.listen: %s is not on loopback",
		    where, json_string_value(json_object_get(v, "listen")));
		goto named;
	}
	proto = json_string_value(json_object_get(v, "protocol"));
	if (json_object_get(v, "protocol") == NULL)
		proto = json_object_get(v, "tls") != NULL ? "https" : "http";
	if (proto != NULL && strcmp(proto, "http") == 0)
		b->protocol = FARM_HTTP;
	else if (proto != NULL && strcmp(proto, "https") == 0)
		b->protocol = FARM_HTTPS;
	else {
		snprintf(sub, sizeof(sub),
		    "%s.protocol: must be \"http\" or \"https\"", where);
		goto named;
	}
	if (farm_tls_version(
	        v, "min_tls", &b->min_tls, where, sub, sizeof(sub)) != 0 ||
	    farm_tls_version(
	        v, "max_tls", &b->max_tls, where, sub, sizeof(sub)) != 0)
		goto named;
	if (b->min_tls && b->max_tls && b->min_tls > b->max_tls) {
		snprintf(sub, sizeof(sub), "%s.min_tls: above max_tls", where);
		goto named;
	}
	if (b->protocol == FARM_HTTPS) {
		char w[160];

		if ((t = json_object_get(v, "tls")) == NULL) {
			snprintf(sub, sizeof(sub),
			    "%s.tls: missing (https needs a certificate)",
			    where);
			goto named;
		}
		snprintf(w, sizeof(w), "%s.tls", where);
		if (farm_tls_parse(t, f->manifest, basedir, &b->tls, w, sub,
		        sizeof(sub)) != 0)
			goto named;
	} else if (json_object_get(v, "tls") != NULL ||
	           json_object_get(v, "sni") != NULL) {
		snprintf(sub, sizeof(sub),
		    "%s.tls: only for protocol \"https\"", where);
		goto named;
	}
	if ((sni = json_object_get(v, "sni")) != NULL) {
		if (!json_is_object(sni)) {
			snprintf(sub, sizeof(sub),
			    "%s.sni: must be an object {NAME: tls}", where);
			goto named;
		}
		b->sni = calloc(json_object_size(sni) + 1, sizeof(*b->sni));
		if (b->sni == NULL)
			goto nomem;
		json_object_foreach(sni, key, t)
		{
			char w[400];

			snprintf(w, sizeof(w), "%s.sni.%s", where, key);
			if (key[0] == '\0') {
				snprintf(sub, sizeof(sub), "%s: empty name", w);
				goto named;
			}
			if ((b->sni[b->nsni].name = strdup(key)) == NULL)
				goto nomem;
			b->nsni++;
			if (farm_tls_parse(t, f->manifest, basedir,
			        &b->sni[b->nsni - 1].tls, w, sub,
			        sizeof(sub)) != 0)
				goto named;
		}
	}
	snprintf(aerr, sizeof(aerr), "%s.behaviour", where);
	if (farm_behaviour_parse(json_object_get(v, "behaviour"), &b->behaviour,
	        aerr, sub, sizeof(sub)) != 0)
		goto named;
	return 0;
named:
	farm_seterr(err, errlen, "backend \"%s\": %s", b->name, sub);
	return -1;
nomem:
	farm_seterr(err, errlen, "%s: out of memory", where);
	return -1;
}

struct farm *
farm_parse(json_t *root, const char *file, char *err, size_t errlen)
{
	struct farm *f;
	char *basedir = NULL, sub[1024];
	json_t *list, *m;
	size_t i;

	sub[0] = '\0';
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->path = strdup(file)) == NULL ||
	    (basedir = farm_dirname(file)) == NULL) {
		snprintf(sub, sizeof(sub), "out of memory");
		goto fail;
	}
	if (!json_is_object(root)) {
		snprintf(sub, sizeof(sub), "the farm must be a JSON object");
		goto fail;
	}
	{
		static const char *const keys[] = {
		    "manifest", "backends", NULL};

		if (farm_check_keys(root, keys, "$", sub, sizeof(sub)) != 0)
			goto fail;
	}
	if ((m = json_object_get(root, "manifest")) != NULL) {
		if (!json_is_string(m)) {
			snprintf(
			    sub, sizeof(sub), "manifest: must be a string");
			goto fail;
		}
		if ((f->manifest = farm_path(basedir, json_string_value(m))) ==
		    NULL) {
			snprintf(sub, sizeof(sub), "out of memory");
			goto fail;
		}
	}
	list = json_object_get(root, "backends");
	if (!json_is_array(list)) {
		snprintf(sub, sizeof(sub), "backends: missing (a list)");
		goto fail;
	}
	f->backends = calloc(json_array_size(list) + 1, sizeof(*f->backends));
	if (f->backends == NULL) {
		snprintf(sub, sizeof(sub), "out of memory");
		goto fail;
	}
	for (i = 0; i < json_array_size(list); i++) {
		f->nbackends++;
		farm_behaviour_init(&f->backends[i].behaviour);
		if (farm_backend_parse(f, json_array_get(list, i), i, basedir,
		        sub, sizeof(sub)) != 0)
			goto fail;
	}
	free(basedir);
	return f;
fail:
	farm_seterr(err, errlen, "%s: %s", file, sub);
	free(basedir);
	farm_free(f);
	return NULL;
}

struct farm *
farm_load(const char *path, char *err, size_t errlen)
{
	json_t *root;
	struct farm *f;

	if ((root = jsonio_load_file(path, err, errlen)) == NULL)
		return NULL;
	f = farm_parse(root, path, err, errlen);
	json_decref(root);
	return f;
}

SSL_CTX *
farm_tls_ctx_new(const struct farm_tls *t, int min_tls, int max_tls, char *err,
    size_t errlen)
{
	STACK_OF(X509) *chain = NULL, *rest = NULL;
	EVP_PKEY *key = NULL, *fkey = NULL;
	X509 *leaf = NULL;
	SSL_CTX *ctx = NULL;
	const char *certfile = t->chain != NULL ? t->chain : t->cert;
	char e[512], m[600];
	int i;

	if ((chain = tls_load_certs_file(certfile, e, sizeof(e))) == NULL) {
		farm_seterr(err, errlen, "%s", e);
		goto fail;
	}
	if ((key = tls_load_key_file(t->key, e, sizeof(e))) == NULL) {
		farm_seterr(err, errlen, "%s", e);
		goto fail;
	}
	if (t->chain == NULL) {
		/* cert alone */
		while (sk_X509_num(chain) > 1)
			X509_free(sk_X509_pop(chain));
	}
	if (t->chain != NULL && t->cert != NULL) {
		/* The chain is what is presented; the cert must be in it. */
		STACK_OF(X509) *c = tls_load_certs_file(t->cert, e, sizeof(e));

		if (c == NULL) {
			farm_seterr(err, errlen, "%s", e);
			goto fail;
		}
		for (i = 0; i < sk_X509_num(chain); i++)
			if (X509_cmp(sk_X509_value(chain, i),
			        sk_X509_value(c, 0)) == 0)
				break;
		if (i == sk_X509_num(chain)) {
			/* Not in the chain: the cert, then the chain. */
			X509_up_ref(sk_X509_value(c, 0));
			if (!sk_X509_unshift(chain, sk_X509_value(c, 0)))
				X509_free(sk_X509_value(c, 0));
		}
		sk_X509_pop_free(c, X509_free);
	}
	leaf = sk_X509_value(chain, 0);
	if (!X509_check_private_key(leaf, key)) {
		ERR_clear_error();
		for (i = 1; i < sk_X509_num(chain); i++)
			if (X509_check_private_key(
			        sk_X509_value(chain, i), key))
				break;
		ERR_clear_error();
		if (i == sk_X509_num(chain) || t->first_key == NULL) {
			farm_seterr(err, errlen,
			    "the certificate %s and the key %s do not match%s",
			    certfile, t->key,
			    i < sk_X509_num(chain)
			        ? " (the key's certificate is not first in "
			          "the chain: give chain_first_key)"
			        : "");
			goto fail;
		}
		/* Wrong order: sign with the first certificate's key. */
		if ((fkey = tls_load_key_file(t->first_key, e, sizeof(e))) ==
		    NULL) {
			farm_seterr(err, errlen, "%s", e);
			goto fail;
		}
		if (!X509_check_private_key(leaf, fkey)) {
			ERR_clear_error();
			farm_seterr(err, errlen,
			    "the certificate %s (first of the chain) and the "
			    "key %s do not match",
			    certfile, t->first_key);
			goto fail;
		}
	}
	if ((rest = sk_X509_new_null()) == NULL)
		goto nomem;
	for (i = 1; i < sk_X509_num(chain); i++)
		if (!sk_X509_push(rest, sk_X509_value(chain, i)))
			goto nomem;
	/* Security level 0: the farm presents weak keys and SHA-1 signed
	 * certificates on purpose; judging them is the gateway's job. */
	ctx = tls_server_ctx_new_level(leaf, fkey != NULL ? fkey : key, rest,
	    min_tls, max_tls, 0, e, sizeof(e));
	if (ctx == NULL) {
		snprintf(m, sizeof(m), "%s", e);
		farm_seterr(err, errlen, "%s (%s, %s)", m, certfile,
		    fkey != NULL ? t->first_key : t->key);
		goto fail;
	}
	/* The chain is sent as written: never completed from a store. */
	SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
	sk_X509_free(rest);
	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(key);
	EVP_PKEY_free(fkey);
	return ctx;
nomem:
	farm_seterr(err, errlen, "%s: out of memory", certfile);
fail:
	sk_X509_free(rest);
	if (chain != NULL)
		sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(key);
	EVP_PKEY_free(fkey);
	return NULL;
}
