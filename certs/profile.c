#include "profile.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "jsonio.h"

/* The default profile's text, embedded by CMake from
 * fixtures/certs/default-profile.json (default_profile.c). */
extern const char profile_default_text[];

static const char *const profile_top_keys[] = {
    "version", "description", "key_type", "hosts", "items", NULL};
static const char *const profile_host_keys[] = {"domain", "members", NULL};
static const char *const profile_item_keys[] = {"name", "role", "use",
    "subject", "issuer", "not_before", "not_after", "key_type", "key_from",
    "digest", "ca", "path_len", "key_usage", "ext_key_usage", "sans", "chain",
    "pfx_password", NULL};
static const char *const profile_roles[] = {
    "root", "intermediate", "leaf", "listener", NULL};
static const char *const profile_key_types[] = {
    "rsa1024", "rsa2048", "rsa3072", "rsa4096", "ec-p256", "ec-p384", NULL};
static const char *const profile_digests[] = {
    "sha1", "sha256", "sha384", "sha512", NULL};
/* OpenSSL's configuration names, as `openssl x509 -text` prints them. */
static const char *const profile_key_usages[] = {"digitalSignature",
    "nonRepudiation", "keyEncipherment", "dataEncipherment", "keyAgreement",
    "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly", NULL};
static const char *const profile_ekus[] = {"serverAuth", "clientAuth",
    "codeSigning", "emailProtection", "timeStamping", "OCSPSigning", NULL};
static const char *const profile_name_keys[] = {
    "CN", "O", "OU", "C", "L", "ST", NULL};

struct profile_ctx {
	const char *source;
	char *err;
	size_t errlen;
	struct profile *p;
};

static void profile_err(struct profile_ctx *c, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
profile_err(struct profile_ctx *c, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s: %s: %s", c->source, path, msg);
}

static int
profile_in(const char *const *table, const char *s)
{
	size_t i;

	for (i = 0; table[i] != NULL; i++)
		if (strcmp(table[i], s) == 0)
			return (int)i;
	return -1;
}

const char *
profile_default_json(void)
{
	return profile_default_text;
}

const char *
profile_role_name(enum profile_role role)
{
	return profile_roles[role];
}

int
profile_key_type_valid(const char *key_type)
{
	return profile_in(profile_key_types, key_type) >= 0;
}

int
profile_parse_time(const char *s, int64_t *t)
{
	struct tm tm;
	char *end;
	long long v;

	if (s[0] == '@') {
		errno = 0;
		v = strtoll(s + 1, &end, 10);
		if (errno != 0 || end == s + 1 || *end != '\0')
			return -1;
		*t = v;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL)
		return -1;
	if (*end == 'T') {
		end = strptime(end + 1, "%H:%M:%S", &tm);
		if (end == NULL)
			return -1;
		if (*end == 'Z')
			end++;
	}
	if (*end != '\0' || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	*t = (int64_t)timegm(&tm);
	return 0;
}

int
profile_parse_when(const char *s, struct profile_when *w)
{
	long long n;
	char *end;
	int64_t unit;

	if (strcmp(s, "0") == 0 || strcmp(s, "now") == 0) {
		w->absolute = 0;
		w->secs = 0;
		return 0;
	}
	if (s[0] == '+' || s[0] == '-') {
		if (!isdigit((unsigned char)s[1]))
			return -1;
		errno = 0;
		n = strtoll(s + 1, &end, 10);
		if (errno != 0 || n > 100000LL * 86400)
			return -1;
		switch (*end) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		case 'y':
			unit = 365 * 86400;
			break;
		default:
			return -1;
		}
		if (end[1] != '\0' || n > 100000LL * 86400 / unit)
			return -1;
		w->absolute = 0;
		w->secs = (s[0] == '-' ? -1 : 1) * (int64_t)n * unit;
		return 0;
	}
	if (profile_parse_time(s, &w->secs) != 0)
		return -1;
	w->absolute = 1;
	return 0;
}

int64_t
profile_when_at(const struct profile_when *w, int64_t now)
{
	return w->absolute ? w->secs : now + w->secs;
}

const char *
profile_format_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "@%lld", (long long)t);
	return buf;
}

int
profile_check_dates(
    const struct profile *p, int64_t now, char *err, size_t errlen)
{
	const struct profile_item *it;
	char nb[40], na[40];
	size_t i;

	for (i = 0; i < p->nitems; i++) {
		it = &p->items[i];
		if (profile_when_at(&it->not_after, now) >
		    profile_when_at(&it->not_before, now))
			continue;
		snprintf(err, errlen,
		    "%s: items[%zu].not_after: %s is not after not_before %s: "
		    "impossible dates",
		    p->source, i,
		    profile_format_time(
		        profile_when_at(&it->not_after, now), na, sizeof(na)),
		    profile_format_time(
		        profile_when_at(&it->not_before, now), nb, sizeof(nb)));
		return -1;
	}
	return 0;
}

int
profile_find(const struct profile *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nitems; i++)
		if (p->items[i].name != NULL &&
		    strcmp(p->items[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void
profile_item_clear(struct profile_item *it)
{
	size_t i;

	free(it->name);
	free(it->use);
	free(it->subject);
	free(it->key_type);
	free(it->digest);
	free(it->key_usage);
	free(it->ext_key_usage);
	for (i = 0; i < it->nsans; i++)
		free(it->sans[i]);
	free(it->sans);
	free(it->chain);
	free(it->pfx_password);
}

void
profile_free(struct profile *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nitems; i++)
		profile_item_clear(&p->items[i]);
	free(p->items);
	for (i = 0; i < p->nmembers; i++)
		free(p->members[i]);
	free(p->members);
	free(p->key_type);
	free(p->domain);
	free(p->source);
	free(p);
}

/* Every key of obj must be in allowed. */
static int
profile_check_keys(struct profile_ctx *c, json_t *obj, const char *path,
    const char *const *allowed)
{
	const char *key;
	json_t *v;
	char where[256];

	json_object_foreach(obj, key, v)
	{
		if (profile_in(allowed, key) < 0) {
			snprintf(where, sizeof(where), "%s%s%s", path,
			    path[0] ? "." : "", key);
			profile_err(c, where, "unknown key");
			return -1;
		}
	}
	return 0;
}

/* A malloc'd copy of s with every "${domain}" replaced. */
static char *
profile_expand(struct profile_ctx *c, const char *s)
{
	static const char var[] = "${domain}";
	const char *dom = c->p->domain, *q;
	size_t n = 1, vl = sizeof(var) - 1;
	char *out, *o;

	for (q = s; *q != '\0';) {
		if (strncmp(q, var, vl) == 0) {
			n += strlen(dom);
			q += vl;
		} else {
			n++;
			q++;
		}
	}
	if ((out = malloc(n)) == NULL)
		return NULL;
	for (q = s, o = out; *q != '\0';) {
		if (strncmp(q, var, vl) == 0) {
			o = stpcpy(o, dom);
			q += vl;
		} else {
			*o++ = *q++;
		}
	}
	*o = '\0';
	return out;
}

/* A string member: required or not; *out is a malloc'd expanded copy, or
 * NULL when absent or null. */
static int
profile_get_str(struct profile_ctx *c, json_t *obj, const char *key,
    const char *path, int required, char **out)
{
	json_t *v = json_object_get(obj, key);
	char where[256];

	*out = NULL;
	snprintf(where, sizeof(where), "%s.%s", path, key);
	if (v == NULL || json_is_null(v)) {
		if (required) {
			profile_err(c, where, "missing (a string is required)");
			return -1;
		}
		return 0;
	}
	if (!json_is_string(v)) {
		profile_err(c, where, "not a string");
		return -1;
	}
	if ((*out = profile_expand(c, json_string_value(v))) == NULL) {
		profile_err(c, where, "out of memory");
		return -1;
	}
	return 0;
}

/* A comma-separated list of names from a JSON array of strings in table;
 * absent keeps *out (a default). */
static int
profile_get_names(struct profile_ctx *c, json_t *obj, const char *key,
    const char *path, const char *const *table, char **out)
{
	json_t *v = json_object_get(obj, key), *e;
	char where[256], *s;
	size_t i, n = 1;

	snprintf(where, sizeof(where), "%s.%s", path, key);
	if (v == NULL)
		return 0;
	if (!json_is_array(v)) {
		profile_err(c, where, "not an array of names");
		return -1;
	}
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e) ||
		    profile_in(table, json_string_value(e)) < 0) {
			snprintf(
			    where, sizeof(where), "%s.%s[%zu]", path, key, i);
			profile_err(c, where,
			    "unknown name %s%s%s (known: %s,"
			    " %s...)",
			    json_is_string(e) ? "'" : "",
			    json_is_string(e) ? json_string_value(e)
			                      : "(not a string)",
			    json_is_string(e) ? "'" : "", table[0], table[1]);
			return -1;
		}
		n += strlen(json_string_value(e)) + 1;
	}
	if ((s = calloc(1, n)) == NULL) {
		profile_err(c, where, "out of memory");
		return -1;
	}
	json_array_foreach(v, i, e)
	{
		if (i > 0)
			strcat(s, ",");
		strcat(s, json_string_value(e));
	}
	free(*out);
	*out = s;
	return 0;
}

static int
profile_subject_valid(const char *s)
{
	char buf[1024], *part, *save = NULL, *eq;
	int parts = 0;

	if (strlen(s) >= sizeof(buf))
		return 0;
	strcpy(buf, s);
	for (part = strtok_r(buf, ",", &save); part != NULL;
	     part = strtok_r(NULL, ",", &save)) {
		while (*part == ' ')
			part++;
		if ((eq = strchr(part, '=')) == NULL || eq[1] == '\0')
			return 0;
		*eq = '\0';
		if (profile_in(profile_name_keys, part) < 0)
			return 0;
		parts++;
	}
	return parts > 0;
}

static int
profile_san_valid(const char *s)
{
	unsigned char addr[16];
	const char *v;

	if (strchr(s, ',') != NULL)
		return 0;
	if (strncmp(s, "DNS:", 4) == 0) {
		for (v = s + 4; *v != '\0'; v++)
			if (!isalnum((unsigned char)*v) && *v != '.' &&
			    *v != '-' && *v != '*' && *v != '_')
				return 0;
		return s[4] != '\0';
	}
	if (strncmp(s, "IP:", 3) == 0)
		return inet_pton(AF_INET, s + 3, addr) == 1 ||
		       inet_pton(AF_INET6, s + 3, addr) == 1;
	if (strncmp(s, "email:", 6) == 0)
		return s[6] != '\0';
	if (strncmp(s, "URI:", 4) == 0)
		return s[4] != '\0';
	return 0;
}

static int
profile_add_san(struct profile_item *it, char *san)
{
	char **n;

	if (san == NULL)
		return -1;
	n = realloc(it->sans, (it->nsans + 1) * sizeof(*n));
	if (n == NULL) {
		free(san);
		return -1;
	}
	it->sans = n;
	it->sans[it->nsans++] = san;
	return 0;
}

static int
profile_get_sans(struct profile_ctx *c, json_t *obj, const char *path,
    struct profile_item *it)
{
	json_t *v = json_object_get(obj, "sans"), *e;
	char where[256], buf[300], *s;
	size_t i, m;

	snprintf(where, sizeof(where), "%s.sans", path);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v)) {
		profile_err(c, where, "not an array");
		return -1;
	}
	json_array_foreach(v, i, e)
	{
		snprintf(where, sizeof(where), "%s.sans[%zu]", path, i);
		if (!json_is_string(e)) {
			profile_err(c, where, "not a string");
			return -1;
		}
		if (strcmp(json_string_value(e), "@hosts") == 0) {
			snprintf(buf, sizeof(buf), "DNS:%s", c->p->domain);
			if (profile_add_san(it, strdup(buf)) != 0)
				goto oom;
			for (m = 0; m < c->p->nmembers; m++) {
				snprintf(buf, sizeof(buf), "DNS:%s",
				    c->p->members[m]);
				if (profile_add_san(it, strdup(buf)) != 0)
					goto oom;
			}
			continue;
		}
		if (strcmp(json_string_value(e), "@member-ips") == 0) {
			for (m = 0; m < c->p->nmembers && m < 254; m++) {
				snprintf(
				    buf, sizeof(buf), "IP:127.0.1.%zu", m + 1);
				if (profile_add_san(it, strdup(buf)) != 0)
					goto oom;
			}
			continue;
		}
		if ((s = profile_expand(c, json_string_value(e))) == NULL)
			goto oom;
		if (!profile_san_valid(s)) {
			profile_err(c, where,
			    "'%s' is not DNS:name, IP:address,"
			    " email:x, URI:x, @hosts or @member-ips",
			    s);
			free(s);
			return -1;
		}
		if (profile_add_san(it, s) != 0)
			goto oom;
	}
	return 0;
oom:
	profile_err(c, where, "out of memory");
	return -1;
}

/* An item name reference ("issuer", "key_from") to an item before idx. */
static int
profile_get_ref(struct profile_ctx *c, json_t *obj, const char *key,
    const char *path, size_t idx, int *out)
{
	json_t *v = json_object_get(obj, key);
	char where[256];
	int r;

	*out = -1;
	snprintf(where, sizeof(where), "%s.%s", path, key);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		profile_err(c, where, "not a string (an item name)");
		return -1;
	}
	r = profile_find(c->p, json_string_value(v));
	if (r < 0 || (size_t)r >= idx) {
		profile_err(c, where, "no item named '%s' before this one",
		    json_string_value(v));
		return -1;
	}
	*out = r;
	return 0;
}

static int
profile_get_whenv(struct profile_ctx *c, json_t *obj, const char *key,
    const char *path, struct profile_when *w)
{
	json_t *v = json_object_get(obj, key);
	char where[256];

	snprintf(where, sizeof(where), "%s.%s", path, key);
	if (v == NULL)
		return 0;
	if (!json_is_string(v) ||
	    profile_parse_when(json_string_value(v), w) != 0) {
		profile_err(c, where,
		    "not an offset like \"-30d\", \"+365d\", "
		    "\"+12h\" or a time like \"2026-01-01T00:00:00Z\"");
		return -1;
	}
	return 0;
}

static int
profile_default_chain(struct profile *p, size_t idx)
{
	struct profile_item *it = &p->items[idx];
	int a;

	if ((it->chain = calloc(p->nitems, sizeof(int))) == NULL)
		return -1;
	it->chain[it->nchain++] = (int)idx;
	/* Intermediates up to, not including, the self-signed root. */
	for (a = it->issuer;
	     a >= 0 && p->items[a].issuer >= 0 && it->nchain < p->nitems;
	     a = p->items[a].issuer)
		it->chain[it->nchain++] = a;
	return 0;
}

static int
profile_get_chain(
    struct profile_ctx *c, json_t *obj, const char *path, size_t idx)
{
	struct profile_item *it = &c->p->items[idx];
	json_t *v = json_object_get(obj, "chain"), *e;
	char where[256];
	const char *name;
	size_t i;
	int r;

	snprintf(where, sizeof(where), "%s.chain", path);
	if (v == NULL || json_is_null(v)) {
		if (profile_default_chain(c->p, idx) != 0)
			goto oom;
		return 0;
	}
	if (!json_is_array(v) || json_array_size(v) == 0) {
		profile_err(c, where, "not a non-empty array of item names");
		return -1;
	}
	if ((it->chain = calloc(json_array_size(v), sizeof(int))) == NULL)
		goto oom;
	json_array_foreach(v, i, e)
	{
		snprintf(where, sizeof(where), "%s.chain[%zu]", path, i);
		name = json_string_value(e);
		if (name == NULL) {
			profile_err(c, where, "not a string (an item name)");
			return -1;
		}
		if (strcmp(name, "self") == 0 || strcmp(name, it->name) == 0)
			r = (int)idx;
		else if ((r = profile_find(c->p, name)) < 0 ||
		         (size_t)r >= idx) {
			profile_err(c, where,
			    "no item named '%s' before this "
			    "one",
			    name);
			return -1;
		}
		it->chain[it->nchain++] = r;
	}
	return 0;
oom:
	profile_err(c, where, "out of memory");
	return -1;
}

static int
profile_parse_item(struct profile_ctx *c, json_t *obj, size_t idx)
{
	struct profile_item *it = &c->p->items[idx];
	char path[64], where[128], *role = NULL;
	json_t *v;
	int r, ca;

	snprintf(path, sizeof(path), "items[%zu]", idx);
	it->issuer = it->key_from = -1;
	if (!json_is_object(obj)) {
		profile_err(c, path, "not an object");
		return -1;
	}
	if (profile_check_keys(c, obj, path, profile_item_keys) != 0)
		return -1;
	if (profile_get_str(c, obj, "name", path, 1, &it->name) != 0)
		return -1;
	snprintf(where, sizeof(where), "%s.name", path);
	if (it->name[0] == '\0' || strchr(it->name, '/') != NULL ||
	    it->name[0] == '.' || strcmp(it->name, "self") == 0 ||
	    strcmp(it->name, "manifest") == 0 ||
	    strcmp(it->name, "well-known-cas") == 0) {
		profile_err(
		    c, where, "'%s' cannot be a file name here", it->name);
		return -1;
	}
	if ((r = profile_find(c->p, it->name)) >= 0 && (size_t)r < idx) {
		profile_err(c, where, "'%s' is already items[%d]", it->name, r);
		return -1;
	}
	if (profile_get_str(c, obj, "role", path, 1, &role) != 0)
		return -1;
	r = profile_in(profile_roles, role);
	free(role);
	if (r < 0) {
		snprintf(where, sizeof(where), "%s.role", path);
		profile_err(c, where,
		    "not root, intermediate, leaf or "
		    "listener");
		return -1;
	}
	it->role = (enum profile_role)r;
	ca = it->role == PROFILE_ROLE_ROOT ||
	     it->role == PROFILE_ROLE_INTERMEDIATE;
	/* Defaults by role, then what the item says. */
	it->ca = ca;
	it->path_len = it->role == PROFILE_ROLE_INTERMEDIATE ? 0 : -1;
	it->not_before.secs = ca ? -30 * 86400 : -86400;
	it->not_after.secs =
	    (int64_t)(it->role == PROFILE_ROLE_ROOT           ? 3650
	              : it->role == PROFILE_ROLE_INTERMEDIATE ? 1825
	                                                      : 365) *
	    86400;
	it->key_usage = strdup(ca ? "digitalSignature,keyCertSign,cRLSign"
	                          : "digitalSignature,keyEncipherment");
	it->ext_key_usage = strdup(ca ? "" : "serverAuth");
	it->digest = strdup("sha256");
	if (it->role == PROFILE_ROLE_LISTENER)
		it->pfx_password = strdup("agw-lab");
	if (it->key_usage == NULL || it->ext_key_usage == NULL ||
	    it->digest == NULL ||
	    (it->role == PROFILE_ROLE_LISTENER && it->pfx_password == NULL)) {
		profile_err(c, path, "out of memory");
		return -1;
	}
	if (profile_get_str(c, obj, "use", path, 1, &it->use) != 0 ||
	    profile_get_str(c, obj, "subject", path, 1, &it->subject) != 0)
		return -1;
	if (!profile_subject_valid(it->subject)) {
		snprintf(where, sizeof(where), "%s.subject", path);
		profile_err(c, where,
		    "'%s' is not \"CN=name[,O=org...]\" "
		    "(keys CN, O, OU, C, L, ST)",
		    it->subject);
		return -1;
	}
	if (profile_get_ref(c, obj, "issuer", path, idx, &it->issuer) != 0 ||
	    profile_get_ref(c, obj, "key_from", path, idx, &it->key_from) != 0)
		return -1;
	snprintf(where, sizeof(where), "%s.issuer", path);
	if (it->role == PROFILE_ROLE_ROOT && it->issuer >= 0) {
		profile_err(c, where, "a root is self-signed: no issuer");
		return -1;
	}
	if (it->role == PROFILE_ROLE_INTERMEDIATE && it->issuer < 0) {
		profile_err(c, where,
		    "missing (an intermediate needs an "
		    "issuer)");
		return -1;
	}
	if (profile_get_whenv(c, obj, "not_before", path, &it->not_before) ||
	    profile_get_whenv(c, obj, "not_after", path, &it->not_after))
		return -1;
	if (it->not_before.absolute == it->not_after.absolute &&
	    it->not_after.secs <= it->not_before.secs) {
		snprintf(where, sizeof(where), "%s.not_after", path);
		profile_err(c, where,
		    "not after not_before: impossible "
		    "dates");
		return -1;
	}
	if (profile_get_str(c, obj, "key_type", path, 0, &it->key_type))
		return -1;
	if (it->key_type != NULL && !profile_key_type_valid(it->key_type)) {
		snprintf(where, sizeof(where), "%s.key_type", path);
		profile_err(c, where,
		    "'%s' is not rsa1024, rsa2048, rsa3072, "
		    "rsa4096, ec-p256 or ec-p384",
		    it->key_type);
		return -1;
	}
	if (it->key_from >= 0 && it->key_type != NULL) {
		snprintf(where, sizeof(where), "%s.key_type", path);
		profile_err(c, where, "cannot be set with key_from");
		return -1;
	}
	if ((v = json_object_get(obj, "digest")) != NULL) {
		snprintf(where, sizeof(where), "%s.digest", path);
		if (!json_is_string(v) ||
		    profile_in(profile_digests, json_string_value(v)) < 0) {
			profile_err(c, where,
			    "not sha1, sha256, sha384 or "
			    "sha512");
			return -1;
		}
		free(it->digest);
		if ((it->digest = strdup(json_string_value(v))) == NULL) {
			profile_err(c, where, "out of memory");
			return -1;
		}
	}
	if ((v = json_object_get(obj, "ca")) != NULL) {
		snprintf(where, sizeof(where), "%s.ca", path);
		if (!json_is_boolean(v)) {
			profile_err(c, where, "not true or false");
			return -1;
		}
		it->ca = json_is_true(v);
	}
	if ((v = json_object_get(obj, "path_len")) != NULL) {
		snprintf(where, sizeof(where), "%s.path_len", path);
		if (json_is_null(v)) {
			it->path_len = -1;
		} else if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		           json_integer_value(v) > 32 || !it->ca) {
			profile_err(c, where,
			    "not an integer 0..32 on a CA "
			    "(or null)");
			return -1;
		} else {
			it->path_len = (int)json_integer_value(v);
		}
	}
	if (!it->ca)
		it->path_len = -1;
	if (profile_get_names(c, obj, "key_usage", path, profile_key_usages,
	        &it->key_usage) != 0 ||
	    profile_get_names(c, obj, "ext_key_usage", path, profile_ekus,
	        &it->ext_key_usage) != 0)
		return -1;
	if (profile_get_sans(c, obj, path, it) != 0 ||
	    profile_get_chain(c, obj, path, idx) != 0)
		return -1;
	if ((v = json_object_get(obj, "pfx_password")) != NULL) {
		free(it->pfx_password);
		it->pfx_password = NULL;
		if (profile_get_str(c, obj, "pfx_password", path, 0,
		        &it->pfx_password) != 0)
			return -1;
	}
	return 0;
}

static int
profile_parse_hosts(struct profile_ctx *c, json_t *root)
{
	json_t *h = json_object_get(root, "hosts"), *v, *e;
	char where[64];
	size_t i;

	if (h != NULL && !json_is_object(h)) {
		profile_err(c, "hosts", "not an object");
		return -1;
	}
	if (h != NULL &&
	    profile_check_keys(c, h, "hosts", profile_host_keys) != 0)
		return -1;
	v = h ? json_object_get(h, "domain") : NULL;
	if (v != NULL && (!json_is_string(v) || json_string_length(v) == 0)) {
		profile_err(c, "hosts.domain", "not a non-empty string");
		return -1;
	}
	c->p->domain = strdup(v ? json_string_value(v) : "backend.test");
	if (c->p->domain == NULL)
		goto oom;
	v = h ? json_object_get(h, "members") : NULL;
	if (v == NULL) {
		/* b1.DOMAIN .. b8.DOMAIN */
		if ((c->p->members = calloc(8, sizeof(char *))) == NULL)
			goto oom;
		for (i = 0; i < 8; i++) {
			if (asprintf(&c->p->members[i], "b%zu.%s", i + 1,
			        c->p->domain) < 0)
				goto oom;
			c->p->nmembers++;
		}
		return 0;
	}
	if (!json_is_array(v)) {
		profile_err(c, "hosts.members", "not an array of names");
		return -1;
	}
	if ((c->p->members = calloc(json_array_size(v) + 1, sizeof(char *))) ==
	    NULL)
		goto oom;
	json_array_foreach(v, i, e)
	{
		snprintf(where, sizeof(where), "hosts.members[%zu]", i);
		if (!json_is_string(e) || json_string_length(e) == 0) {
			profile_err(c, where, "not a non-empty string");
			return -1;
		}
		if ((c->p->members[i] =
		            profile_expand(c, json_string_value(e))) == NULL)
			goto oom;
		c->p->nmembers++;
	}
	return 0;
oom:
	profile_err(c, "hosts", "out of memory");
	return -1;
}

struct profile *
profile_from_json(json_t *root, const char *source, char *err, size_t errlen)
{
	struct profile_ctx c = {source, err, errlen, NULL};
	json_t *items, *v;
	size_t i;

	if ((c.p = calloc(1, sizeof(*c.p))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", source);
		return NULL;
	}
	if ((c.p->source = strdup(source)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", source);
		goto fail;
	}
	if (!json_is_object(root)) {
		profile_err(&c, "(top)", "not a JSON object");
		goto fail;
	}
	if (profile_check_keys(&c, root, "", profile_top_keys) != 0)
		goto fail;
	v = json_object_get(root, "version");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) != 1)) {
		profile_err(&c, "version", "not 1 (the only version)");
		goto fail;
	}
	v = json_object_get(root, "key_type");
	if (v != NULL && (!json_is_string(v) ||
	                     !profile_key_type_valid(json_string_value(v)))) {
		profile_err(&c, "key_type",
		    "not rsa1024, rsa2048, rsa3072, "
		    "rsa4096, ec-p256 or ec-p384");
		goto fail;
	}
	c.p->key_type = strdup(v ? json_string_value(v) : "rsa2048");
	if (c.p->key_type == NULL) {
		profile_err(&c, "key_type", "out of memory");
		goto fail;
	}
	if (profile_parse_hosts(&c, root) != 0)
		goto fail;
	items = json_object_get(root, "items");
	if (!json_is_array(items) || json_array_size(items) == 0) {
		profile_err(&c, "items",
		    "missing (a non-empty array is "
		    "required)");
		goto fail;
	}
	c.p->items = calloc(json_array_size(items), sizeof(*c.p->items));
	if (c.p->items == NULL) {
		profile_err(&c, "items", "out of memory");
		goto fail;
	}
	json_array_foreach(items, i, v)
	{
		c.p->nitems = i + 1;
		if (profile_parse_item(&c, v, i) != 0)
			goto fail;
	}
	return c.p;
fail:
	profile_free(c.p);
	return NULL;
}

struct profile *
profile_load(const char *path, char *err, size_t errlen)
{
	struct profile *p;
	json_error_t jerr;
	json_t *root;

	if (path == NULL) {
		root = json_loads(
		    profile_default_text, JSON_REJECT_DUPLICATES, &jerr);
		if (root == NULL) {
			snprintf(err, errlen, "(built-in profile):%d:%d: %s",
			    jerr.line, jerr.column, jerr.text);
			return NULL;
		}
	} else if ((root = jsonio_load_file(path, err, errlen)) == NULL) {
		return NULL;
	}
	p = profile_from_json(
	    root, path ? path : "(built-in profile)", err, errlen);
	json_decref(root);
	return p;
}
