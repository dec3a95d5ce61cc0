/*
 * cli_state: the gateway state that agw edits, one az show shaped JSON file
 * per gateway under $AGW_HOME/<resource-group>/<gateway>.json. Every write
 * goes through config_load_json (the gateway's own validator) first, then
 * jsonio_write_atomic with a .bak of the previous file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/rand.h>

#include "cli.h"
#include "config.h"
#include "jsonio.h"
#include "vocab.h"

#define GW_TYPE "Microsoft.Network/applicationGateways"

const char *
cli_state_home(void)
{
	const char *h = getenv("AGW_HOME");

	return h != NULL && h[0] != '\0' ? h : "./.agw";
}

const char *
cli_state_path(char *buf, size_t len, const char *rg, const char *gw,
    const char *suffix)
{
	snprintf(buf, len, "%s/%s/%s%s", cli_state_home(), rg, gw, suffix);
	return buf;
}

void
cli_state_id(char *buf, size_t len, const char *rg, const char *gw,
    const char *coll, const char *name)
{
	int n;

	n = snprintf(buf, len, "/subscriptions/" CLI_SUBSCRIPTION
	    "/resourceGroups/%s/providers/" GW_TYPE "/%s", rg, gw);
	if (coll != NULL && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "/%s/%s", coll, name);
}

void
cli_state_etag(char *buf, size_t len)
{
	unsigned char r[16];
	size_t i;

	if (RAND_bytes(r, sizeof(r)) != 1) /* not a secret: any bytes do */
		for (i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)(rand() & 0xff);
	snprintf(buf, len,
	    "W/\"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x\"",
	    r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
	    r[11], r[12], r[13], r[14], r[15]);
}

int
cli_state_is_ipv4(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1;
}

json_t *
cli_state_load(const char *rg, const char *gw, int *missing, char *err,
    size_t errlen)
{
	char path[4096];
	json_t *doc;

	*missing = 0;
	cli_state_path(path, sizeof(path), rg, gw, ".json");
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		*missing = 1;
		snprintf(err, errlen, "The Resource '" GW_TYPE "/%s' under "
		    "resource group '%s' was not found.", gw, rg);
		return NULL;
	}
	if ((doc = jsonio_load_file(path, err, errlen)) == NULL)
		return NULL;
	if (!json_is_object(doc)) {
		snprintf(err, errlen, "%s: not a JSON object", path);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

void
cli_state_error(const char *code, const char *message, const char *target)
{
	fprintf(stderr, "(%s) %s\nCode: %s\nMessage: %s\n", code, message,
	    code, message);
	if (target != NULL && target[0] != '\0')
		fprintf(stderr, "Target: %s\n", target);
}

/* Put name, id, etag, type, provisioningState first in an object, as az
 * prints them; the other members keep their order. */
static int
cli_state_front(json_t *e, const char *id, const char *etag,
    const char *type)
{
	static const char *const front[] = { "name", "id", "etag", "type",
		"provisioningState" };
	json_t *rest, *name;
	size_t i;
	int rc = -1;

	if ((rest = json_copy(e)) == NULL)
		return -1;
	name = json_incref(json_object_get(e, "name"));
	for (i = 0; i < sizeof(front) / sizeof(front[0]); i++)
		json_object_del(rest, front[i]);
	json_object_clear(e);
	if (json_object_set_new(e, "name", name) == 0 &&
	    json_object_set_new(e, "id", json_string(id)) == 0 &&
	    json_object_set_new(e, "etag", json_string(etag)) == 0 &&
	    json_object_set_new(e, "type", json_string(type)) == 0 &&
	    json_object_set_new(e, "provisioningState",
		json_string("Succeeded")) == 0 &&
	    json_object_update(e, rest) == 0)
		rc = 0;
	json_decref(rest);
	return rc;
}

/* Stamp one entry of a collection. */
static int
cli_state_stamp_one(json_t *e, const char *id, const char *etag,
    const char *type)
{
	if (!json_is_object(e) || !json_is_string(json_object_get(e, "name")))
		return 0; /* the validator names the entry */
	return cli_state_front(e, id, etag, type);
}

static int
cli_state_stamp(json_t *doc, const char *rg, const char *gw,
    const char *etag)
{
	const struct vocab_collection *c;
	char id[1024], type[256], sub[1400];
	json_t *arr, *e, *rules, *r;
	size_t i, j, k;

	cli_state_id(id, sizeof(id), rg, gw, NULL, NULL);
	if (json_object_set_new(doc, "name", json_string(gw)) != 0 ||
	    cli_state_front(doc, id, etag, GW_TYPE) != 0 ||
	    json_object_set_new(doc, "resourceGroup", json_string(rg)) != 0)
		return -1;
	for (k = 0; k < vocab_collection_count(); k++) {
		c = vocab_collection_at(k);
		if (c->group == NULL || c->group[0] == '\0' || c->parent != NULL)
			continue;
		arr = json_object_get(doc, c->name);
		snprintf(type, sizeof(type), GW_TYPE "/%s", c->name);
		json_array_foreach(arr, i, e) {
			const char *n = json_string_value(json_object_get(e,
			    "name"));

			if (n == NULL)
				continue;
			cli_state_id(id, sizeof(id), rg, gw, c->name, n);
			if (cli_state_stamp_one(e, id, etag, type) != 0)
				return -1;
			rules = json_object_get(e, "pathRules");
			json_array_foreach(rules, j, r) {
				const char *rn = json_string_value(
				    json_object_get(r, "name"));

				if (rn == NULL)
					continue;
				snprintf(sub, sizeof(sub), "%s/pathRules/%s", id,
				    rn);
				if (cli_state_stamp_one(r, sub, etag, GW_TYPE
					"/urlPathMaps/pathRules") != 0)
					return -1;
			}
		}
	}
	return 0;
}

/* The code shown for a validator error that has none (emulator choice). */
static const char *
cli_state_code(const struct config_error *e)
{
	if (e->code[0] != '\0')
		return e->code;
	if (strstr(e->message, "entry named") != NULL)
		return "InvalidResourceReference";
	return "ApplicationGatewayInvalidConfiguration";
}

/* What agw adds to the validator (spec 3: the az CLI checks it): v2 Https
 * settings with trusted roots need hostName or
 * pickHostNameFromBackendAddress. Returns the number of errors printed. */
static int
cli_state_check_v2_host(const struct config *c)
{
	size_t i;
	int n = 0;
	char msg[512], target[128];

	for (i = 0; c->sku == CONFIG_SKU_V2 && i < c->nsettings; i++) {
		const struct config_settings *s = &c->settings[i];

		if (s->ntrusted_roots == 0 || s->host_name != NULL ||
		    s->pick_host_from_backend)
			continue;
		snprintf(msg, sizeof(msg), "Backend HTTP setting '%s' has "
		    "trusted root certificates: set --host-name or "
		    "--host-name-from-backend-pool true.", s->name);
		snprintf(target, sizeof(target),
		    "backendHttpSettingsCollection[%zu]", i);
		cli_state_error("ApplicationGatewayBackendHttpSettings"
				"HostNameMissing", msg, target);
		n++;
	}
	return n;
}

static int
cli_state_mkdirs(const char *rg)
{
	char dir[4096];

	if (mkdir(cli_state_home(), 0755) != 0 && errno != EEXIST)
		return -1;
	snprintf(dir, sizeof(dir), "%s/%s", cli_state_home(), rg);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

int
cli_state_save(json_t *doc, const char *rg, const char *gw)
{
	struct config_errors errs = { 0 };
	struct config *c = NULL;
	char path[4096], etag[64], err[1024];
	size_t i;

	cli_state_etag(etag, sizeof(etag));
	if (cli_state_stamp(doc, rg, gw, etag) != 0) {
		fprintf(stderr, "ERROR: out of memory\n");
		return -1;
	}
	cli_state_path(path, sizeof(path), rg, gw, ".json");
	if ((c = config_load_json(doc, path, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			cli_state_error(cli_state_code(&errs.v[i]),
			    errs.v[i].message, errs.v[i].path);
		if (errs.n == 0)
			cli_state_error("ApplicationGatewayInvalidConfiguration",
			    "the configuration was refused", "");
		goto fail;
	}
	if (cli_state_check_v2_host(c) > 0)
		goto fail;
	for (i = 0; i < c->warnings.n; i++)
		fprintf(stderr, "WARNING: %s: %s\n", c->warnings.v[i].path,
		    c->warnings.v[i].message);
	if (cli_state_mkdirs(rg) != 0) {
		fprintf(stderr, "ERROR: %s/%s: %s\n", cli_state_home(), rg,
		    strerror(errno));
		goto fail;
	}
	if (jsonio_write_atomic(path, doc, JSON_INDENT(2), 1, err,
		sizeof(err)) != 0) {
		fprintf(stderr, "ERROR: %s\n", err);
		goto fail;
	}
	config_unref(c);
	config_errors_clear(&errs);
	return 0;
fail:
	config_unref(c);
	config_errors_clear(&errs);
	return -1;
}
