/*
 * config: loading, resolving and validating one
 * Microsoft.Network/applicationGateways resource (see config.h, CONFIG.md).
 *
 * Every type, range, enum, SKU and default check goes through the
 * vocabulary table (vocab.h); this file adds what the table cannot say:
 * references, certificates, and the rules that tie entries together.
 * Errors are collected, never fatal: the loader goes on after each one so
 * that a user sees every problem at once.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "config.h"
#include "jsonio.h"
#include "tls.h"
#include "vocab.h"

#define PATHLEN      256
#define FEATURE_CODE "ApplicationGatewayFeatureCannotBeEnabledForSelectedSku"
#define MADE_UP_ID                                                             \
	"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"  \
	"agw-lab/providers/Microsoft.Network/applicationGateways/"

/* The collections whose names references resolve against, table order. */
static const char *const ref_collections[] = {"sslCertificates",
    "authenticationCertificates", "trustedRootCertificates",
    "frontendIPConfigurations", "frontendPorts", "backendAddressPools",
    "backendHttpSettingsCollection", "probes", "httpListeners",
    "requestRoutingRules", "urlPathMaps"};
#define NREF (sizeof(ref_collections) / sizeof(ref_collections[0]))

/* One collection of the document: its array, path and entry names. */
struct coll {
	const char *name;
	const json_t *arr; /* NULL when absent */
	char path[PATHLEN];
	const char **names; /* borrowed from the document; NULL if unnamed */
	size_t n;
};

/* Where one object's properties live and how its paths read. */
struct obj {
	const char *coll;   /* vocabulary collection */
	const char *prefix; /* vocabulary prefix of nested lists, or "" */
	const json_t *props;
	char path[PATHLEN]; /* JSON path of props ("" at the top, hoisted) */
};

struct loader {
	struct config *c;
	struct config_errors *errs;
	const char *base_dir;
	unsigned sku; /* VOCAB_SKU_V1, _V2, or _BOTH when unknown */
	const char *tier;
	const char *features[4]; /* off-SKU features already reported */
	struct coll colls[NREF];
	int failed;
};

/* ---------------------------------------------------------------- errors */

static void
config_errors_vadd(struct config_errors *errs, const char *code,
    const char *path, const char *fmt, va_list ap)
{
	struct config_error *e;
	size_t cap;

	if (errs->n == errs->cap) {
		cap = errs->cap == 0 ? 8 : errs->cap * 2;
		if ((e = realloc(errs->v, cap * sizeof(*e))) == NULL)
			return; /* out of memory: the load fails anyway */
		errs->v = e;
		errs->cap = cap;
	}
	e = &errs->v[errs->n++];
	snprintf(e->code, sizeof(e->code), "%s", code != NULL ? code : "");
	snprintf(e->path, sizeof(e->path), "%s", path != NULL ? path : "");
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
}

void
config_errors_add(struct config_errors *errs, const char *code,
    const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_errors_vadd(errs, code, path, fmt, ap);
	va_end(ap);
}

void
config_errors_clear(struct config_errors *errs)
{
	free(errs->v);
	errs->v = NULL;
	errs->n = errs->cap = 0;
}

const char *
config_error_str(const struct config_error *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s", e->path, e->path[0] ? ": " : "",
	    e->code, e->code[0] ? ": " : "", e->message);
	return buf;
}

const char *
config_sku_name(enum config_sku sku)
{
	return sku == CONFIG_SKU_V1 ? "v1" : "v2";
}

static void load_err(struct loader *L, const char *code, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void load_warn(struct loader *L, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
load_err(
    struct loader *L, const char *code, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_errors_vadd(L->errs, code, path, fmt, ap);
	va_end(ap);
	L->failed = 1;
}

static void
load_warn(struct loader *L, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_errors_vadd(&L->c->warnings, NULL, path, fmt, ap);
	va_end(ap);
}

/* Paths longer than PATHLEN are cut (the message still names the entry). */
static void
path_join(char *out, size_t len, const char *base, const char *name)
{
	if (snprintf(out, len, "%s%s%s", base, base[0] ? "." : "", name) < 0)
		out[0] = '\0';
}

static void
path_index(char *out, size_t len, const char *base, size_t i)
{
	if (snprintf(out, len, "%s[%zu]", base, i) < 0)
		out[0] = '\0';
}

static char *
load_strdup(struct loader *L, const char *s)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		load_err(L, NULL, "", "out of memory");
	return d;
}

static void *
load_calloc(struct loader *L, size_t n, size_t size)
{
	void *p = calloc(n == 0 ? 1 : n, size);

	if (p == NULL)
		load_err(L, NULL, "", "out of memory");
	return p;
}

/* ----------------------------------------------------- property access */

/* The JSON member at a dotted name below props, or NULL. */
static const json_t *
obj_get(const json_t *props, const char *dotted)
{
	char key[128];
	const char *dot;
	size_t n;

	while (props != NULL && (dot = strchr(dotted, '.')) != NULL) {
		n = (size_t)(dot - dotted);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, dotted, n);
		key[n] = '\0';
		props = json_object_get(props, key);
		if (!json_is_object(props))
			return NULL;
		dotted = dot + 1;
	}
	return props != NULL ? json_object_get(props, dotted) : NULL;
}

static int
value_is_set(const json_t *v)
{
	if (json_is_array(v))
		return json_array_size(v) > 0;
	return v != NULL && !json_is_null(v);
}

/* Report an off-SKU feature once per feature. */
static void
load_feature_err(struct loader *L, const struct vocab_prop *p, const char *path)
{
	size_t i;

	for (i = 0; i < 4 && L->features[i] != NULL; i++)
		if (strcmp(L->features[i], p->feature) == 0) {
			L->failed = 1;
			return;
		}
	if (i < 4)
		L->features[i] = p->feature;
	load_err(L, FEATURE_CODE, path,
	    "Application Gateway %s does not support %s for the selected SKU "
	    "tier %s. Supported SKU tiers are %s.",
	    L->c->id, p->feature, L->tier, vocab_sku_tiers(p->skus));
}

/*
 * The value of one property of o, checked by the table. Returns NULL when
 * it is absent or null, ignored on this SKU, or in error (*failed set and
 * the error recorded). *pp is the table row.
 */
static const json_t *
load_value(struct loader *L, const struct obj *o, const char *name,
    const struct vocab_prop **pp, int *failed)
{
	char vname[128], path[PATHLEN], why[256];
	const struct vocab_prop *p;
	const json_t *v;
	int rc;

	snprintf(vname, sizeof(vname), "%s%s", o->prefix, name);
	*pp = p = vocab_prop(o->coll, vname);
	if (p == NULL) {
		load_err(L, NULL, o->path,
		    "internal: %s.%s is not in the "
		    "vocabulary",
		    o->coll, vname);
		*failed = 1;
		return NULL;
	}
	path_join(path, sizeof(path), o->path, name);
	v = obj_get(o->props, name);
	if (v == NULL || json_is_null(v)) {
		if (p->required == VOCAB_SKU_BOTH ||
		    (L->sku != VOCAB_SKU_BOTH && (p->required & L->sku))) {
			load_err(L, NULL, path, "required property is missing");
			*failed = 1;
		}
		return NULL;
	}
	if ((rc = vocab_check(p, v, why, sizeof(why))) != 0) {
		load_err(L, rc == -2 ? p->code : NULL, path, "%s", why);
		*failed = 1;
		return NULL;
	}
	if (L->sku != VOCAB_SKU_BOTH && !(p->skus & L->sku) &&
	    value_is_set(v)) {
		if (p->off_sku == VOCAB_OFF_ERROR) {
			load_feature_err(L, p, path);
			*failed = 1;
		} else
			load_warn(L, path, "not used on %s (tier %s): ignored",
			    L->sku == VOCAB_SKU_V1 ? "v1" : "v2", L->tier);
		return NULL;
	}
	return v;
}

static int
get_int(struct loader *L, const struct obj *o, const char *name, int *out)
{
	const struct vocab_prop *p;
	const json_t *v;
	int failed = 0;

	if ((v = load_value(L, o, name, &p, &failed)) != NULL)
		*out = (int)json_integer_value(v);
	else if (p != NULL && p->def != NULL)
		*out = (int)strtol(p->def, NULL, 10);
	return failed ? -1 : 0;
}

static int
get_bool(struct loader *L, const struct obj *o, const char *name, int *out)
{
	const struct vocab_prop *p;
	const json_t *v;
	int failed = 0;

	if ((v = load_value(L, o, name, &p, &failed)) != NULL)
		*out = json_is_true(v);
	else if (p != NULL && p->def != NULL)
		*out = strcmp(p->def, "true") == 0;
	return failed ? -1 : 0;
}

/* A string (strdup'd into *out, the default when absent, else NULL). */
static int
get_str(struct loader *L, const struct obj *o, const char *name, char **out)
{
	const struct vocab_prop *p;
	const json_t *v;
	const char *s = NULL;
	int failed = 0;

	if ((v = load_value(L, o, name, &p, &failed)) != NULL)
		s = json_string_value(v);
	else if (p != NULL)
		s = p->def;
	*out = NULL;
	if (s != NULL && (*out = load_strdup(L, s)) == NULL)
		failed = 1;
	return failed ? -1 : 0;
}

/* An enum as the index of its value in the table's values[]. */
static int
get_enum(struct loader *L, const struct obj *o, const char *name, int *out)
{
	const struct vocab_prop *p;
	const json_t *v;
	const char *s = NULL;
	int failed = 0, i;

	if ((v = load_value(L, o, name, &p, &failed)) != NULL)
		s = json_string_value(v);
	else if (p != NULL)
		s = p->def;
	for (i = 0; s != NULL && p->values[i] != NULL; i++)
		if (strcmp(p->values[i], s) == 0)
			*out = i;
	return failed ? -1 : 0;
}

/* ------------------------------------------------------------ references */

static struct coll *
load_coll(struct loader *L, const char *name)
{
	size_t i;

	for (i = 0; i < NREF; i++)
		if (strcmp(L->colls[i].name, name) == 0)
			return &L->colls[i];
	return NULL;
}

/*
 * Split a reference text into (collection, name). Takes an ARM id
 * ".../<collection>/<name>", a bare name, or an ARM template expression
 * "[resourceId('Microsoft.Network/applicationGateways/<collection>', ...,
 * '<name>')]". coll is "" when the text names none.
 */
static void
ref_split(const char *s, char *coll, size_t clen, char *name, size_t nlen)
{
	const char *slash, *prev, *q1, *q2, *t1, *t2;
	size_t n;

	coll[0] = '\0';
	if (s[0] == '[' && strstr(s, "resourceId(") != NULL &&
	    (t1 = strchr(s, '\'')) != NULL &&
	    (t2 = strchr(t1 + 1, '\'')) != NULL) {
		/* the type's last segment, then the last quoted literal */
		for (slash = t2; slash > t1 && *slash != '/'; slash--)
			;
		n = (size_t)(t2 - slash - 1);
		snprintf(coll, clen, "%.*s", (int)n, slash + 1);
		q2 = strrchr(s, '\'');
		for (q1 = q2 - 1; q1 > s && *q1 != '\''; q1--)
			;
		snprintf(name, nlen, "%.*s", (int)(q2 - q1 - 1), q1 + 1);
		return;
	}
	if ((slash = strrchr(s, '/')) == NULL) {
		snprintf(name, nlen, "%s", s);
		return;
	}
	snprintf(name, nlen, "%s", slash + 1);
	for (prev = slash - 1; prev >= s && *prev != '/'; prev--)
		;
	snprintf(coll, clen, "%.*s", (int)(slash - prev - 1), prev + 1);
}

/* Resolve one reference value (checked by the table) to an index of the
 * target collection; -1 with an error naming the path when dangling. */
static int
resolve_ref(struct loader *L, const json_t *v, const char *path,
    const char *target, int *out)
{
	char vpath[PATHLEN], coll[128], name[256];
	const struct coll *c;
	const char *s;
	size_t i;

	if (json_is_string(v)) {
		s = json_string_value(v);
		snprintf(vpath, sizeof(vpath), "%s", path);
	} else {
		s = json_string_value(json_object_get(v, "id"));
		path_join(vpath, sizeof(vpath), path, "id");
	}
	ref_split(s, coll, sizeof(coll), name, sizeof(name));
	if (coll[0] != '\0' && strcmp(coll, target) != 0) {
		load_err(L, NULL, vpath,
		    "refers to a %s entry, expected one "
		    "of %s",
		    coll, target);
		return -1;
	}
	if ((c = load_coll(L, target)) != NULL)
		for (i = 0; i < c->n; i++)
			if (c->names[i] != NULL &&
			    strcmp(c->names[i], name) == 0) {
				*out = (int)i;
				return 0;
			}
	load_err(L, NULL, vpath, "no %s entry named \"%s\"", target, name);
	return -1;
}

/* A reference property: index into its collection, or -1 when absent. */
static int
get_ref(struct loader *L, const struct obj *o, const char *name, int *out)
{
	char path[PATHLEN];
	const struct vocab_prop *p;
	const json_t *v;
	int failed = 0;

	*out = -1;
	if ((v = load_value(L, o, name, &p, &failed)) == NULL)
		return failed ? -1 : 0;
	path_join(path, sizeof(path), o->path, name);
	return resolve_ref(L, v, path, p->ref, out);
}

static int
get_ref_list(struct loader *L, const struct obj *o, const char *name, int **out,
    size_t *n)
{
	char path[PATHLEN], ipath[PATHLEN];
	const struct vocab_prop *p;
	const json_t *v;
	int failed = 0;
	size_t i;

	*out = NULL;
	*n = 0;
	/* An empty list ("authenticationCertificates": [], as az show prints
	 * it) references nothing: *out stays NULL, as when it is absent. */
	if ((v = load_value(L, o, name, &p, &failed)) == NULL ||
	    json_array_size(v) == 0)
		return failed ? -1 : 0;
	if ((*out = load_calloc(L, json_array_size(v), sizeof(int))) == NULL)
		return -1;
	path_join(path, sizeof(path), o->path, name);
	for (i = 0; i < json_array_size(v); i++) {
		path_index(ipath, sizeof(ipath), path, i);
		if (resolve_ref(L, json_array_get(v, i), ipath, p->ref,
		        &(*out)[*n]) == 0)
			(*n)++;
		else
			failed = 1;
	}
	return failed ? -1 : 0;
}

/* Append the strings of a string list to (*out, *n), skipping those
 * already there (hostName and hostNames[] merge). */
static int
get_strings(struct loader *L, const struct obj *o, const char *name,
    char ***out, size_t *n)
{
	const struct vocab_prop *p;
	const json_t *v;
	int failed = 0;
	size_t i, j, cap;
	char **nv;
	const char *s;

	if ((v = load_value(L, o, name, &p, &failed)) == NULL)
		return failed ? -1 : 0;
	cap = *n + json_array_size(v);
	if ((nv = realloc(*out, (cap == 0 ? 1 : cap) * sizeof(*nv))) == NULL) {
		load_err(L, NULL, o->path, "out of memory");
		return -1;
	}
	*out = nv;
	for (i = 0; i < json_array_size(v); i++) {
		s = json_string_value(json_array_get(v, i));
		for (j = 0; j < *n; j++)
			if (strcmp(nv[j], s) == 0)
				break;
		if (j < *n)
			continue;
		if ((nv[*n] = load_strdup(L, s)) == NULL)
			return -1;
		(*n)++;
	}
	return 0;
}

/*
 * Open entry i of a collection: its name, and where its properties live
 * (an entry with a "properties" object is ARM shaped, else hoisted).
 * Returns the name (borrowed), or NULL with an error recorded.
 */
static const char *
entry_open(struct loader *L, const json_t *entry, const char *listpath,
    size_t i, const char *coll, struct obj *o)
{
	char epath[PATHLEN], npath[PATHLEN];
	const json_t *props, *name;

	path_index(epath, sizeof(epath), listpath, i);
	o->coll = coll;
	o->prefix = "";
	props = json_object_get(entry, "properties");
	if (json_is_object(props)) {
		o->props = props;
		path_join(o->path, sizeof(o->path), epath, "properties");
	} else {
		if (props != NULL && !json_is_null(props)) {
			path_join(npath, sizeof(npath), epath, "properties");
			load_err(L, NULL, npath, "must be an object");
		}
		o->props = entry;
		snprintf(o->path, sizeof(o->path), "%s", epath);
	}
	name = json_object_get(entry, "name");
	if (!json_is_string(name) || json_string_length(name) == 0) {
		path_join(npath, sizeof(npath), epath, "name");
		load_err(L, NULL, npath,
		    name == NULL ? "required property is missing"
		                 : "must be a non-empty "
		                   "string");
		return NULL;
	}
	return json_string_value(name);
}

/* Gather the entry names of every collection, for references; duplicate
 * names are errors. */
static int
load_names(struct loader *L, const struct obj *gw)
{
	const struct vocab_prop *p;
	const json_t *e, *nm;
	struct coll *c;
	int failed = 0;
	size_t i, j, k;
	char npath[PATHLEN];

	for (i = 0; i < NREF; i++) {
		c = &L->colls[i];
		c->name = ref_collections[i];
		path_join(c->path, sizeof(c->path), gw->path, c->name);
		c->arr = load_value(L, gw, c->name, &p, &failed);
		c->n = json_array_size(c->arr);
		if (c->arr == NULL)
			continue;
		if ((c->names = load_calloc(L, c->n, sizeof(char *))) == NULL)
			return -1;
		for (j = 0; j < c->n; j++) {
			e = json_array_get(c->arr, j);
			nm = json_object_get(e, "name");
			c->names[j] = json_string_value(nm);
			for (k = 0; c->names[j] != NULL && k < j; k++)
				if (c->names[k] != NULL &&
				    strcmp(c->names[k], c->names[j]) == 0) {
					snprintf(npath, sizeof(npath),
					    "%s[%zu].name", c->path, j);
					load_err(L, NULL, npath,
					    "duplicate "
					    "name \"%s\" (also %s[%zu])",
					    c->names[j], c->name, k);
					break;
				}
		}
	}
	return failed ? -1 : 0;
}

/* ---------------------------------------------------------- certificates */

static void
load_path_resolve(struct loader *L, const char *file, char *out, size_t len)
{
	if (file[0] == '/' || L->base_dir == NULL)
		snprintf(out, len, "%s", file);
	else
		snprintf(out, len, "%s/%s", L->base_dir, file);
}

static int
load_ssl_cert(struct loader *L, const struct obj *o, struct config_ssl_cert *sc)
{
	char *data = NULL, *password = NULL, *cf = NULL, *kf = NULL;
	char path[PATHLEN], err[512], file[1024];
	STACK_OF(X509) *certs = NULL;
	unsigned char *der = NULL;
	size_t derlen;
	int rc = -1;

	if (get_str(L, o, "data", &data) < 0 ||
	    get_str(L, o, "password", &password) < 0 ||
	    get_str(L, o, "certFile", &cf) < 0 ||
	    get_str(L, o, "keyFile", &kf) < 0)
		goto fail;
	if (data != NULL) {
		path_join(path, sizeof(path), o->path, "data");
		if ((der = tls_b64_decode(data, &derlen)) == NULL) {
			load_err(L, NULL, path, "is not base64");
			goto fail;
		}
		if (tls_pfx_parse(der, derlen, password, &sc->key, &sc->cert,
		        &sc->chain, err, sizeof(err)) < 0) {
			if (strstr(err, "password") != NULL)
				load_err(L, NULL, path,
				    "the PFX does not open "
				    "with its password (%s)",
				    err);
			else
				load_err(L, NULL, path,
				    "is not a PFX "
				    "(PKCS#12): %s",
				    err);
			goto fail;
		}
	} else if (cf != NULL && kf != NULL) {
		path_join(path, sizeof(path), o->path, "certFile");
		load_path_resolve(L, cf, file, sizeof(file));
		if ((certs = tls_load_certs_file(file, err, sizeof(err))) ==
		        NULL ||
		    sk_X509_num(certs) == 0) {
			load_err(L, NULL, path, "%s",
			    certs == NULL ? err : "no certificate in the file");
			goto fail;
		}
		sc->cert = sk_X509_shift(certs);
		sc->chain = certs;
		certs = NULL;
		path_join(path, sizeof(path), o->path, "keyFile");
		load_path_resolve(L, kf, file, sizeof(file));
		if ((sc->key = tls_load_key_file(file, err, sizeof(err))) ==
		    NULL) {
			load_err(L, NULL, path, "%s", err);
			goto fail;
		}
		if (X509_check_private_key(sc->cert, sc->key) != 1) {
			tls_errors(err, sizeof(err));
			load_err(L, NULL, path,
			    "the key does not match the "
			    "certificate of certFile");
			goto fail;
		}
	} else {
		load_err(L, NULL, o->path,
		    "needs data (a base64 PFX) and "
		    "password, or certFile and keyFile (PEM)");
		goto fail;
	}
	rc = 0;
fail:
	sk_X509_pop_free(certs, X509_free);
	free(der);
	free(data);
	free(password);
	free(cf);
	free(kf);
	return rc;
}

static int
load_cert(struct loader *L, const struct obj *o, struct config_cert *cc)
{
	char path[PATHLEN], err[512];
	char *data = NULL;
	int rc = -1;

	if (get_str(L, o, "data", &data) < 0 || data == NULL)
		goto fail;
	path_join(path, sizeof(path), o->path, "data");
	if ((cc->cert = tls_x509_from_data(
	         data, strlen(data), err, sizeof(err))) == NULL) {
		load_err(L, NULL, path, "is not a certificate: %s", err);
		goto fail;
	}
	rc = 0;
fail:
	free(data);
	return rc;
}

/* ------------------------------------------------------------ entries */

static int
load_pool(struct loader *L, const struct obj *o, struct config_pool *pl)
{
	const struct vocab_prop *p;
	const json_t *arr;
	struct obj mo;
	char *ip = NULL, *fqdn = NULL;
	int failed = 0;
	size_t i;

	if ((arr = load_value(L, o, "backendAddresses", &p, &failed)) == NULL)
		return failed ? -1 : 0;
	if ((pl->members = load_calloc(
	         L, json_array_size(arr), sizeof(*pl->members))) == NULL)
		return -1;
	mo.coll = o->coll;
	mo.prefix = "backendAddresses.";
	for (i = 0; i < json_array_size(arr); i++) {
		mo.props = json_array_get(arr, i);
		if (snprintf(mo.path, sizeof(mo.path),
		        "%s%sbackendAddresses[%zu]", o->path,
		        o->path[0] ? "." : "", i) < 0)
			mo.path[0] = '\0';
		if (get_str(L, &mo, "ipAddress", &ip) < 0 ||
		    get_str(L, &mo, "fqdn", &fqdn) < 0) {
			failed = 1;
		} else if ((ip == NULL || ip[0] == '\0') &&
		           (fqdn == NULL || fqdn[0] == '\0')) {
			load_err(L, NULL, mo.path, "needs ipAddress or fqdn");
			failed = 1;
		} else {
			struct config_member *m = &pl->members[pl->nmembers++];

			if (ip != NULL && ip[0] != '\0') {
				m->kind = CONFIG_MEMBER_IP;
				m->address = ip;
				ip = NULL;
			} else {
				m->kind = CONFIG_MEMBER_FQDN;
				m->address = fqdn;
				fqdn = NULL;
			}
		}
		free(ip);
		free(fqdn);
		ip = fqdn = NULL;
	}
	return failed ? -1 : 0;
}

/* Parse "200-399" or "200" (each 100..599). Returns 0 or -1. */
static int
parse_status_range(const char *s, int *lo, int *hi)
{
	char *end;
	long a, b;

	errno = 0;
	a = strtol(s, &end, 10);
	if (end == s || errno != 0)
		return -1;
	if (*end == '-') {
		s = end + 1;
		b = strtol(s, &end, 10);
		if (end == s || errno != 0)
			return -1;
	} else
		b = a;
	if (*end != '\0' || a < 100 || b > 599 || a > b)
		return -1;
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}

static int
load_probe(struct loader *L, const struct obj *o, struct config_probe *pr)
{
	char path[PATHLEN], ipath[PATHLEN];
	const struct vocab_prop *p;
	char **codes = NULL;
	size_t ncodes = 0, i;
	int proto = 0, failed = 0;

	failed |= get_enum(L, o, "protocol", &proto) < 0;
	pr->protocol = proto == 1 ? CONFIG_PROTO_HTTPS : CONFIG_PROTO_HTTP;
	failed |= get_str(L, o, "host", &pr->host) < 0;
	failed |= get_str(L, o, "path", &pr->path) < 0;
	failed |= get_int(L, o, "interval", &pr->interval) < 0;
	failed |= get_int(L, o, "timeout", &pr->timeout) < 0;
	failed |=
	    get_int(L, o, "unhealthyThreshold", &pr->unhealthy_threshold) < 0;
	failed |= get_bool(L, o, "pickHostNameFromBackendHttpSettings",
	              &pr->pick_host_from_settings) < 0;
	failed |= get_int(L, o, "minServers", &pr->min_servers) < 0;
	failed |= get_int(L, o, "port", &pr->port) < 0;
	if (load_value(L, o, "match", &p, &failed) != NULL) {
		failed |=
		    get_strings(L, o, "match.statusCodes", &codes, &ncodes) < 0;
		failed |= get_str(L, o, "match.body", &pr->match.body) < 0;
	}
	if ((pr->match.status = load_calloc(L, ncodes == 0 ? 1 : ncodes,
	         sizeof(*pr->match.status))) == NULL) {
		failed = 1;
		goto done;
	}
	if (ncodes == 0) {
		pr->match.status[0].lo = 200;
		pr->match.status[0].hi = 399;
		pr->match.nstatus = 1;
	}
	path_join(path, sizeof(path), o->path, "match.statusCodes");
	for (i = 0; i < ncodes; i++) {
		if (parse_status_range(codes[i],
		        &pr->match.status[pr->match.nstatus].lo,
		        &pr->match.status[pr->match.nstatus].hi) == 0) {
			pr->match.nstatus++;
			continue;
		}
		path_index(ipath, sizeof(ipath), path, i);
		load_err(L, NULL, ipath,
		    "\"%s\" is not a status code range "
		    "like \"200-399\" (codes 100..599)",
		    codes[i]);
		failed = 1;
	}
done:
	for (i = 0; i < ncodes; i++)
		free(codes[i]);
	free(codes);
	return failed ? -1 : 0;
}

static int
load_settings(struct loader *L, const struct obj *o, struct config_settings *s)
{
	char path[PATHLEN];
	const struct vocab_prop *p;
	const struct config_probe *pr;
	int proto = 0, aff = 1, failed = 0;

	failed |= get_int(L, o, "port", &s->port) < 0;
	failed |= get_enum(L, o, "protocol", &proto) < 0;
	s->protocol = proto == 1 ? CONFIG_PROTO_HTTPS : CONFIG_PROTO_HTTP;
	failed |= get_enum(L, o, "cookieBasedAffinity", &aff) < 0;
	s->cookie_affinity = aff == 0;
	failed |= get_str(L, o, "affinityCookieName", &s->affinity_cookie) < 0;
	failed |= get_int(L, o, "requestTimeout", &s->request_timeout) < 0;
	failed |= get_str(L, o, "hostName", &s->host_name) < 0;
	failed |= get_bool(L, o, "pickHostNameFromBackendAddress",
	              &s->pick_host_from_backend) < 0;
	failed |= get_ref(L, o, "probe", &s->probe) < 0;
	failed |= get_bool(L, o, "probeEnabled", &s->probe_enabled) < 0;
	failed |= get_str(L, o, "path", &s->path) < 0;
	failed |= get_ref_list(L, o, "authenticationCertificates",
	              &s->auth_certs, &s->nauth_certs) < 0;
	failed |= get_ref_list(L, o, "trustedRootCertificates",
	              &s->trusted_roots, &s->ntrusted_roots) < 0;
	failed |= get_int(L, o, "connectionDraining.drainTimeoutInSec",
	              &s->drain_timeout) < 0;
	if (load_value(L, o, "connectionDraining", &p, &failed) != NULL)
		failed |= get_bool(L, o, "connectionDraining.enabled",
		              &s->draining) < 0;
	failed |= get_bool(L, o, "validateCertChainAndExpiry",
	              &s->validate_chain) < 0;
	failed |= get_bool(L, o, "validateSNI", &s->validate_sni) < 0;
	failed |= get_str(L, o, "sniName", &s->sni_name) < 0;

	if (s->protocol == CONFIG_PROTO_HTTP && s->ntrusted_roots > 0) {
		path_join(
		    path, sizeof(path), o->path, "trustedRootCertificates");
		load_err(L,
		    "ApplicationGatewayBackendHttpSettingsCannotHave"
		    "TrustedRootCertificate",
		    path,
		    "Backend HTTP setting "
		    "\"%s\" uses protocol Http: trusted root certificates "
		    "can only be attached to an Https setting.",
		    s->name);
		failed = 1;
	}
	if (s->probe >= 0) {
		pr = &L->c->probes[s->probe];
		if (pr->pick_host_from_settings && s->host_name == NULL &&
		    !s->pick_host_from_backend) {
			path_join(path, sizeof(path), o->path, "probe");
			load_err(L,
			    "ApplicationGatewayBackendHttpSettings"
			    "IncompatibleProbeSettingPickHostName",
			    path,
			    "Probe \"%s\" has pickHostNameFromBackendHttp"
			    "Settings set, but backend HTTP setting \"%s\" "
			    "has neither hostName nor pickHostNameFrom"
			    "BackendAddress.",
			    pr->name, s->name);
			failed = 1;
		}
	}
	if (L->sku == VOCAB_SKU_V2 && s->ntrusted_roots > 0 &&
	    s->host_name == NULL && !s->pick_host_from_backend)
		load_warn(L, o->path,
		    "backend HTTP setting \"%s\" has trusted "
		    "root certificates but neither hostName nor "
		    "pickHostNameFromBackendAddress: the backend's name is "
		    "checked against the SNI of each request",
		    s->name);
	return failed ? -1 : 0;
}

static int
load_listener(struct loader *L, const struct obj *o, struct config_listener *l)
{
	char path[PATHLEN];
	char *host = NULL;
	int proto = 0, fip = -1, failed = 0;

	failed |= get_ref(L, o, "frontendIPConfiguration", &fip) < 0;
	failed |= get_ref(L, o, "frontendPort", &l->frontend_port) < 0;
	failed |= get_enum(L, o, "protocol", &proto) < 0;
	l->protocol = proto == 1 ? CONFIG_PROTO_HTTPS : CONFIG_PROTO_HTTP;
	failed |= get_str(L, o, "hostName", &host) < 0;
	if (host != NULL && host[0] != '\0') {
		if ((l->host_names = load_calloc(L, 1, sizeof(char *))) ==
		    NULL) {
			free(host);
			return -1;
		}
		l->host_names[l->nhost_names++] = host;
	} else
		free(host);
	failed |=
	    get_strings(L, o, "hostNames", &l->host_names, &l->nhost_names) < 0;
	failed |= get_ref(L, o, "sslCertificate", &l->ssl_cert) < 0;
	failed |=
	    get_bool(L, o, "requireServerNameIndication", &l->require_sni) < 0;
	if (l->protocol == CONFIG_PROTO_HTTPS && l->ssl_cert < 0 && !failed) {
		path_join(path, sizeof(path), o->path, "sslCertificate");
		load_err(L, NULL, path,
		    "an Https listener needs an SSL "
		    "certificate");
		failed = 1;
	} else if (l->protocol == CONFIG_PROTO_HTTP && l->ssl_cert >= 0) {
		path_join(path, sizeof(path), o->path, "sslCertificate");
		load_warn(L, path, "not used by an Http listener: ignored");
		l->ssl_cert = -1;
	}
	return failed ? -1 : 0;
}

static int
load_path_map(struct loader *L, const struct obj *o, struct config_path_map *m)
{
	const struct vocab_prop *p;
	const json_t *arr;
	char listpath[PATHLEN];
	struct config_path_rule *r;
	const char *name;
	struct obj ro;
	int failed = 0;
	size_t i;

	failed |=
	    get_ref(L, o, "defaultBackendAddressPool", &m->default_pool) < 0;
	failed |= get_ref(L, o, "defaultBackendHttpSettings",
	              &m->default_settings) < 0;
	if ((arr = load_value(L, o, "pathRules", &p, &failed)) == NULL)
		return failed ? -1 : 0;
	if ((m->rules = load_calloc(
	         L, json_array_size(arr), sizeof(*m->rules))) == NULL)
		return -1;
	path_join(listpath, sizeof(listpath), o->path, "pathRules");
	for (i = 0; i < json_array_size(arr); i++) {
		r = &m->rules[m->nrules++];
		r->pool = r->settings = -1;
		name = entry_open(
		    L, json_array_get(arr, i), listpath, i, "pathRules", &ro);
		if (name == NULL || (r->name = load_strdup(L, name)) == NULL)
			failed = 1;
		failed |=
		    get_strings(L, &ro, "paths", &r->paths, &r->npaths) < 0;
		failed |= get_ref(L, &ro, "backendAddressPool", &r->pool) < 0;
		failed |=
		    get_ref(L, &ro, "backendHttpSettings", &r->settings) < 0;
	}
	return failed ? -1 : 0;
}

static int
load_rule(struct loader *L, const struct obj *o, struct config_rule *r)
{
	char path[PATHLEN];
	int type = 0, failed = 0;

	failed |= get_enum(L, o, "ruleType", &type) < 0;
	r->type = type == 1 ? CONFIG_RULE_PATH : CONFIG_RULE_BASIC;
	failed |= get_int(L, o, "priority", &r->priority) < 0;
	failed |= get_ref(L, o, "httpListener", &r->listener) < 0;
	failed |= get_ref(L, o, "backendAddressPool", &r->pool) < 0;
	failed |= get_ref(L, o, "backendHttpSettings", &r->settings) < 0;
	failed |= get_ref(L, o, "urlPathMap", &r->path_map) < 0;
	if (r->type == CONFIG_RULE_BASIC) {
		if (r->pool < 0 &&
		    obj_get(o->props, "backendAddressPool") == NULL) {
			path_join(
			    path, sizeof(path), o->path, "backendAddressPool");
			load_err(L, NULL, path, "required for a Basic rule");
			failed = 1;
		}
		if (r->settings < 0 &&
		    obj_get(o->props, "backendHttpSettings") == NULL) {
			path_join(
			    path, sizeof(path), o->path, "backendHttpSettings");
			load_err(L, NULL, path, "required for a Basic rule");
			failed = 1;
		}
		r->path_map = -1;
	} else {
		if (r->path_map < 0 &&
		    obj_get(o->props, "urlPathMap") == NULL) {
			path_join(path, sizeof(path), o->path, "urlPathMap");
			load_err(L, NULL, path,
			    "required for a PathBasedRouting rule");
			failed = 1;
		}
		r->pool = r->settings = -1;
	}
	return failed ? -1 : 0;
}

/* ------------------------------------------------- whole-gateway checks */

/* v1: "Either all BackendHttpSettings must reference authentication
 * certificate, or none of them should." (among Https settings) */
static void
check_v1_auth_all_or_none(struct loader *L)
{
	const struct config *c = L->c;
	size_t i, https = 0, with = 0;

	for (i = 0; i < c->nsettings; i++) {
		if (c->settings[i].protocol != CONFIG_PROTO_HTTPS)
			continue;
		https++;
		with += c->settings[i].nauth_certs > 0 ||
		        c->settings[i].auth_certs != NULL;
	}
	if (with > 0 && with < https)
		load_err(L, NULL,
		    load_coll(L, "backendHttpSettingsCollection")->path,
		    "Either all BackendHttpSettings must reference "
		    "authentication certificate, or none of them should.");
}

/* Listeners sharing a frontend port must agree on the protocol. */
static void
check_listener_ports(struct loader *L)
{
	const struct config *c = L->c;
	const struct coll *lc = load_coll(L, "httpListeners");
	char path[PATHLEN];
	size_t i, j;

	for (i = 0; i < c->nlisteners; i++)
		for (j = 0; j < i; j++) {
			if (c->listeners[i].frontend_port < 0 ||
			    c->listeners[i].frontend_port !=
			        c->listeners[j].frontend_port ||
			    c->listeners[i].protocol ==
			        c->listeners[j].protocol)
				continue;
			path_index(path, sizeof(path), lc->path, i);
			load_err(L, "ApplicationGatewayPortNotValidForProtocol",
			    path,
			    "listener \"%s\" uses frontend port %d "
			    "with protocol %s, but listener \"%s\" uses it "
			    "with %s",
			    c->listeners[i].name,
			    c->frontend_ports[c->listeners[i].frontend_port]
			        .port,
			    c->listeners[i].protocol ? "Https" : "Http",
			    c->listeners[j].name,
			    c->listeners[j].protocol ? "Https" : "Http");
			break;
		}
}

/* A listener serves one rule only (the service refuses a second). */
static void
check_listener_rules(struct loader *L)
{
	const struct config *c = L->c;
	const struct coll *rc = load_coll(L, "requestRoutingRules");
	char path[PATHLEN];
	size_t i, j;

	for (i = 0; i < c->nrules; i++)
		for (j = 0; j < i; j++) {
			if (c->rules[i].listener < 0 ||
			    c->rules[i].listener != c->rules[j].listener)
				continue;
			path_index(path, sizeof(path), rc->path, i);
			strncat(path,
			    c->hoisted ? ".httpListener"
			               : ".properties.httpListener",
			    sizeof(path) - strlen(path) - 1);
			load_err(L, NULL, path,
			    "listener \"%s\" is already "
			    "used by rule \"%s\"",
			    c->listeners[c->rules[i].listener].name,
			    c->rules[j].name);
			break;
		}
}

/* v2: priorities unique; then the rules sorted by priority (stable). */
static void
check_v2_priorities(struct loader *L)
{
	struct config *c = L->c;
	const struct coll *rc = load_coll(L, "requestRoutingRules");
	struct config_rule tmp;
	char path[PATHLEN];
	size_t i, j;

	for (i = 0; i < c->nrules; i++)
		for (j = 0; j < i; j++)
			if (c->rules[i].priority > 0 &&
			    c->rules[i].priority == c->rules[j].priority) {
				path_index(path, sizeof(path), rc->path, i);
				strncat(path,
				    c->hoisted ? ".priority"
				               : ".properties.priority",
				    sizeof(path) - strlen(path) - 1);
				load_err(L, NULL, path,
				    "priority %d is "
				    "already used by rule \"%s\"",
				    c->rules[i].priority, c->rules[j].name);
				break;
			}
	for (i = 1; i < c->nrules; i++) {
		tmp = c->rules[i];
		for (j = i; j > 0 && c->rules[j - 1].priority > tmp.priority;
		     j--)
			c->rules[j] = c->rules[j - 1];
		c->rules[j] = tmp;
	}
}

/* --------------------------------------------------------------- the gateway
 */

static int
load_sku(struct loader *L, const struct obj *gw, const json_t *root)
{
	static const char *const v1_names[] = {
	    "Standard_Small", "Standard_Medium", "Standard_Large", NULL};
	static const char *const waf_names[] = {
	    "WAF_Medium", "WAF_Large", NULL};
	const char *const *ok = NULL;
	char path[PATHLEN], *name = NULL, *tier = NULL;
	const struct vocab_prop *p;
	struct obj so = *gw;
	int failed = 0;
	size_t i;

	/* sku lives under properties; accept it next to them as well */
	if (json_object_get(gw->props, "sku") == NULL &&
	    json_is_object(json_object_get(root, "sku"))) {
		so.props = root;
		snprintf(so.path, sizeof(so.path), "%s", "");
	}
	L->sku = VOCAB_SKU_BOTH;
	if (load_value(L, &so, "sku", &p, &failed) == NULL)
		return -1;
	failed |= get_str(L, &so, "sku.name", &name) < 0;
	failed |= get_str(L, &so, "sku.tier", &tier) < 0;
	failed |= get_int(L, &so, "sku.capacity", &L->c->capacity) < 0;
	L->c->sku_name = name;
	L->c->sku_tier = tier;
	if (tier == NULL || name == NULL)
		return -1;
	L->tier = tier;
	if (strcmp(tier, "Standard") == 0 || strcmp(tier, "WAF") == 0) {
		L->sku = VOCAB_SKU_V1;
		L->c->sku = CONFIG_SKU_V1;
		ok = tier[0] == 'S' ? v1_names : waf_names;
	} else {
		L->sku = VOCAB_SKU_V2;
		L->c->sku = CONFIG_SKU_V2;
	}
	if (ok == NULL && strcmp(name, tier) == 0)
		return failed ? -1 : 0;
	for (i = 0; ok != NULL && ok[i] != NULL; i++)
		if (strcmp(ok[i], name) == 0)
			return failed ? -1 : 0;
	path_join(path, sizeof(path), so.path, "sku.name");
	load_err(L, NULL, path,
	    "SKU name \"%s\" does not agree with tier "
	    "\"%s\"",
	    name, tier);
	return -1;
}

/* Allocate one modelled array of n entries of size each. */
#define LOAD_ARRAY(L, field, nfield, cname)                                    \
	do {                                                                   \
		(L)->c->nfield = load_coll((L), (cname))->n;                   \
		(L)->c->field =                                                \
		    load_calloc((L), (L)->c->nfield, sizeof(*(L)->c->field));  \
		if ((L)->c->field == NULL)                                     \
			(L)->c->nfield = 0;                                    \
	} while (0)

/* Open entry i of collection cname; NULL name on error. */
static const char *
load_entry(
    struct loader *L, const char *cname, size_t i, struct obj *o, char **dup)
{
	const struct coll *c = load_coll(L, cname);
	const char *name;

	name = entry_open(L, json_array_get(c->arr, i), c->path, i, cname, o);
	*dup = name != NULL ? load_strdup(L, name) : NULL;
	return *dup;
}

static void
load_entries(struct loader *L)
{
	struct config *c = L->c;
	struct obj o;
	size_t i;

	LOAD_ARRAY(L, ssl_certs, nssl_certs, "sslCertificates");
	for (i = 0; i < c->nssl_certs; i++)
		if (load_entry(L, "sslCertificates", i, &o,
		        &c->ssl_certs[i].name) != NULL)
			load_ssl_cert(L, &o, &c->ssl_certs[i]);
	LOAD_ARRAY(L, auth_certs, nauth_certs, "authenticationCertificates");
	for (i = 0; i < c->nauth_certs; i++)
		if (load_entry(L, "authenticationCertificates", i, &o,
		        &c->auth_certs[i].name) != NULL)
			load_cert(L, &o, &c->auth_certs[i]);
	LOAD_ARRAY(L, trusted_roots, ntrusted_roots, "trustedRootCertificates");
	for (i = 0; i < c->ntrusted_roots; i++)
		if (load_entry(L, "trustedRootCertificates", i, &o,
		        &c->trusted_roots[i].name) != NULL)
			load_cert(L, &o, &c->trusted_roots[i]);
	LOAD_ARRAY(L, frontend_ports, nfrontend_ports, "frontendPorts");
	for (i = 0; i < c->nfrontend_ports; i++)
		if (load_entry(L, "frontendPorts", i, &o,
		        &c->frontend_ports[i].name) != NULL)
			get_int(L, &o, "port", &c->frontend_ports[i].port);
	LOAD_ARRAY(L, pools, npools, "backendAddressPools");
	for (i = 0; i < c->npools; i++)
		if (load_entry(L, "backendAddressPools", i, &o,
		        &c->pools[i].name) != NULL)
			load_pool(L, &o, &c->pools[i]);
	LOAD_ARRAY(L, probes, nprobes, "probes");
	for (i = 0; i < c->nprobes; i++)
		if (load_entry(L, "probes", i, &o, &c->probes[i].name) != NULL)
			load_probe(L, &o, &c->probes[i]);
	LOAD_ARRAY(L, settings, nsettings, "backendHttpSettingsCollection");
	for (i = 0; i < c->nsettings; i++) {
		c->settings[i].probe = -1;
		if (load_entry(L, "backendHttpSettingsCollection", i, &o,
		        &c->settings[i].name) != NULL)
			load_settings(L, &o, &c->settings[i]);
	}
	LOAD_ARRAY(L, listeners, nlisteners, "httpListeners");
	for (i = 0; i < c->nlisteners; i++) {
		c->listeners[i].frontend_port = c->listeners[i].ssl_cert = -1;
		if (load_entry(L, "httpListeners", i, &o,
		        &c->listeners[i].name) != NULL)
			load_listener(L, &o, &c->listeners[i]);
	}
	LOAD_ARRAY(L, path_maps, npath_maps, "urlPathMaps");
	for (i = 0; i < c->npath_maps; i++) {
		c->path_maps[i].default_pool = -1;
		c->path_maps[i].default_settings = -1;
		if (load_entry(
		        L, "urlPathMaps", i, &o, &c->path_maps[i].name) != NULL)
			load_path_map(L, &o, &c->path_maps[i]);
	}
	LOAD_ARRAY(L, rules, nrules, "requestRoutingRules");
	for (i = 0; i < c->nrules; i++) {
		struct config_rule *r = &c->rules[i];

		r->listener = r->pool = r->settings = r->path_map = -1;
		if (load_entry(L, "requestRoutingRules", i, &o, &r->name) !=
		    NULL)
			load_rule(L, &o, r);
	}
}

/* The applicationGateways resource of an ARM template, or the document. */
static json_t *
load_find_resource(struct loader *L, json_t *doc, char *rpath, size_t len)
{
	json_t *res, *r, *found = NULL;
	size_t i, n = 0;

	rpath[0] = '\0';
	res = json_object_get(doc, "resources");
	if (!json_is_array(res) || json_object_get(doc, "properties") != NULL)
		return doc;
	json_array_foreach(res, i, r)
	{
		if (!json_is_string(json_object_get(r, "type")) ||
		    strcmp(json_string_value(json_object_get(r, "type")),
		        "Microsoft.Network/applicationGateways") != 0)
			continue;
		if (n++ == 0) {
			found = r;
			snprintf(rpath, len, "resources[%zu]", i);
		}
	}
	if (n != 1)
		load_err(L, NULL, "resources",
		    "%s Microsoft.Network/"
		    "applicationGateways resource%s in the template (one is "
		    "needed)",
		    n == 0 ? "no" : "more than one", n == 0 ? "" : "s");
	return n == 1 ? found : NULL;
}

static void
config_free(struct config *c)
{
	size_t i, j;

	for (i = 0; i < c->nssl_certs; i++) {
		free(c->ssl_certs[i].name);
		EVP_PKEY_free(c->ssl_certs[i].key);
		X509_free(c->ssl_certs[i].cert);
		sk_X509_pop_free(c->ssl_certs[i].chain, X509_free);
	}
	free(c->ssl_certs);
	for (i = 0; i < c->nauth_certs; i++) {
		free(c->auth_certs[i].name);
		X509_free(c->auth_certs[i].cert);
	}
	free(c->auth_certs);
	for (i = 0; i < c->ntrusted_roots; i++) {
		free(c->trusted_roots[i].name);
		X509_free(c->trusted_roots[i].cert);
	}
	free(c->trusted_roots);
	for (i = 0; i < c->nfrontend_ports; i++)
		free(c->frontend_ports[i].name);
	free(c->frontend_ports);
	for (i = 0; i < c->npools; i++) {
		for (j = 0; j < c->pools[i].nmembers; j++)
			free(c->pools[i].members[j].address);
		free(c->pools[i].members);
		free(c->pools[i].name);
	}
	free(c->pools);
	for (i = 0; i < c->nsettings; i++) {
		struct config_settings *s = &c->settings[i];

		free(s->name);
		free(s->affinity_cookie);
		free(s->host_name);
		free(s->path);
		free(s->auth_certs);
		free(s->trusted_roots);
		free(s->sni_name);
	}
	free(c->settings);
	for (i = 0; i < c->nprobes; i++) {
		struct config_probe *p = &c->probes[i];

		free(p->name);
		free(p->host);
		free(p->path);
		free(p->match.status);
		free(p->match.body);
	}
	free(c->probes);
	for (i = 0; i < c->nlisteners; i++) {
		for (j = 0; j < c->listeners[i].nhost_names; j++)
			free(c->listeners[i].host_names[j]);
		free(c->listeners[i].host_names);
		free(c->listeners[i].name);
	}
	free(c->listeners);
	for (i = 0; i < c->nrules; i++)
		free(c->rules[i].name);
	free(c->rules);
	for (i = 0; i < c->npath_maps; i++) {
		struct config_path_map *m = &c->path_maps[i];

		for (j = 0; j < m->nrules; j++) {
			size_t k;

			for (k = 0; k < m->rules[j].npaths; k++)
				free(m->rules[j].paths[k]);
			free(m->rules[j].paths);
			free(m->rules[j].name);
		}
		free(m->rules);
		free(m->name);
	}
	free(c->path_maps);
	config_errors_clear(&c->warnings);
	free(c->name);
	free(c->id);
	free(c->source);
	free(c->sku_name);
	free(c->sku_tier);
	json_decref(c->json);
	free(c);
}

/* Load from a parsed document; base_dir resolves certFile/keyFile. */
static struct config *
config_load(json_t *doc, const char *source, const char *base_dir,
    struct config_errors *errs)
{
	struct loader L;
	struct obj gw;
	const json_t *props, *v;
	json_t *res;
	char rpath[PATHLEN], idbuf[512];
	const char *name;
	size_t i;

	memset(&L, 0, sizeof(L));
	L.errs = errs;
	L.base_dir = base_dir;
	L.sku = VOCAB_SKU_BOTH;
	L.tier = "";
	if ((L.c = calloc(1, sizeof(*L.c))) == NULL) {
		config_errors_add(errs, NULL, "", "out of memory");
		return NULL;
	}
	L.c->refs = 1;
	if (!json_is_object(doc)) {
		load_err(&L, NULL, "", "the document must be a JSON object");
		goto fail;
	}
	if ((res = load_find_resource(&L, doc, rpath, sizeof(rpath))) == NULL)
		goto fail;
	L.c->json = json_incref(res);
	L.c->source = load_strdup(&L, source != NULL ? source : "-");
	v = json_object_get(res, "name");
	name = json_is_string(v) ? json_string_value(v) : "gateway";
	L.c->name = load_strdup(&L, name);
	v = json_object_get(res, "id");
	if (json_is_string(v))
		L.c->id = load_strdup(&L, json_string_value(v));
	else {
		snprintf(idbuf, sizeof(idbuf), "%s%s", MADE_UP_ID, name);
		L.c->id = load_strdup(&L, idbuf);
	}
	if (L.c->id == NULL)
		goto fail;

	gw.coll = "applicationGateways";
	gw.prefix = "";
	props = json_object_get(res, "properties");
	if (json_is_object(props)) {
		gw.props = props;
		path_join(gw.path, sizeof(gw.path), rpath, "properties");
	} else {
		gw.props = res;
		snprintf(gw.path, sizeof(gw.path), "%s", rpath);
		L.c->hoisted = 1;
	}
	load_sku(&L, &gw, res);
	load_names(&L, &gw);
	for (i = 0; i < NREF; i++)
		if (L.colls[i].path[0] == '\0') /* load_names stopped early */
			goto fail;
	load_entries(&L);
	check_listener_ports(&L);
	if (!L.failed)
		check_listener_rules(&L);
	if (L.c->sku == CONFIG_SKU_V1)
		check_v1_auth_all_or_none(&L);
	else
		check_v2_priorities(&L);
	if (L.failed)
		goto fail;
	for (i = 0; i < NREF; i++)
		free(L.colls[i].names);
	return L.c;
fail:
	for (i = 0; i < NREF; i++)
		free(L.colls[i].names);
	config_free(L.c);
	return NULL;
}

struct config *
config_load_json(json_t *doc, const char *source, struct config_errors *errs)
{
	char dir[1024], *slash;

	if (source == NULL || strchr(source, '/') == NULL)
		return config_load(doc, source, NULL, errs);
	snprintf(dir, sizeof(dir), "%s", source);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return config_load(doc, source, dir, errs);
}

struct config *
config_load_file(const char *path, struct config_errors *errs)
{
	struct config *c;
	char err[512];
	json_t *doc;

	if ((doc = jsonio_load_file(path, err, sizeof(err))) == NULL) {
		config_errors_add(errs, NULL, "", "%s", err);
		return NULL;
	}
	c = config_load_json(doc, path, errs);
	json_decref(doc);
	return c;
}

struct config *
config_ref(struct config *c)
{
	if (c != NULL)
		__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
	return c;
}

void
config_unref(struct config *c)
{
	if (c != NULL && __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0)
		config_free(c);
}
