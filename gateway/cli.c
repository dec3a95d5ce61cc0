/*
 * agw: az network application-gateway, locally. Parses the command line,
 * maps az arguments to ARM properties through the vocabulary table
 * (vocab.h), edits the state file (cli_state.c, validated by the gateway's
 * own config_load_json), prints like az (cli_out.c) and drives the running
 * gateway (cli_run.c). See gateway/CLI.md.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "tls.h"
#include "vocab.h"

#define PREFIX "agw network application-gateway"
#define GW_COLL "applicationGateways"

/* One command being run. */
struct cli_cmd {
	const char *group;			/* "" for the gateway itself */
	const struct vocab_collection *coll;	/* NULL for the gateway */
	const char *verb;
	const struct cli_args *a;
	const char *rg, *gw, *name, *map;	/* map: --path-map-name */
	enum cli_format fmt;
	const char *query;
	unsigned sku;				/* VOCAB_SKU_V1 or _V2 */
	json_t *doc;				/* the state (borrowed) */
	const char *missing[32];		/* required arguments absent */
	size_t nmissing;
};

static const char *const cli_gw_verbs[] = { "create", "show", "list",
	"delete", "start", "stop", "show-backend-health", NULL };
static const char *const cli_sub_verbs[] = { "create", "show", "list",
	"update", "delete", NULL };
static const char *const cli_common[] = { "--resource-group", "--output",
	"--query", "--subscription", "--no-wait", "--only-show-errors",
	"--debug", "--verbose", NULL };
/* az create arguments that have no meaning here: accepted, ignored. */
static const char *const cli_ignored[] = { "--location", "--public-ip-address",
	"--vnet-name", "--subnet", "--private-ip-address", "--tags", "--zones",
	"--subnet-address-prefix", "--vnet-address-prefix",
	"--public-ip-address-allocation", "--frontend-type", "--http2",
	"--min-capacity", "--max-capacity", "--waf-policy", "--enable-http2",
	NULL };
static const char *const cli_gw_create[] = { "--name", "--sku",
	"--capacity", "--servers", "--frontend-port", "--http-settings-port",
	"--http-settings-protocol", "--http-settings-cookie-based-affinity",
	"--priority", "--routing-rule-type", NULL };
static const char *const cli_gw_start[] = { "--name", "--fixed-ports",
	"--well-known-cas", "--resolve", NULL };

static int
cli_in(const char *const *list, const char *s)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

static void
cli_usage_line(FILE *f, const struct cli_cmd *c)
{
	fprintf(f, "usage: " PREFIX "%s%s %s [-h] --resource-group RG%s%s "
	    "[arguments]\n", c->group[0] != '\0' ? " " : "", c->group,
	    c->verb != NULL ? c->verb : "VERB",
	    c->coll != NULL ? " --gateway-name GW" : "",
	    c->coll != NULL && c->coll->parent != NULL ? " --path-map-name MAP"
						       : "");
}

/* An argparse-style usage error: exit 2. */
static int cli_usage_error(const struct cli_cmd *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
cli_usage_error(const struct cli_cmd *c, const char *fmt, ...)
{
	va_list ap;

	cli_usage_line(stderr, c);
	fprintf(stderr, "%s: error: ", PREFIX);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '" PREFIX "%s%s %s --help' for the "
	    "arguments.\n", c->group[0] != '\0' ? " " : "", c->group,
	    c->verb != NULL ? c->verb : "");
	return CLI_EXIT_USAGE;
}

static int
cli_missing_error(const struct cli_cmd *c)
{
	char buf[1024];
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < c->nmissing; i++)
		n += (size_t)snprintf(buf + n, n < sizeof(buf) ?
		    sizeof(buf) - n : 0, "%s%s", i > 0 ? ", " : "",
		    c->missing[i]);
	return cli_usage_error(c, "the following arguments are required: %s",
	    buf);
}

static void
cli_need(struct cli_cmd *c, const char *arg)
{
	size_t i;

	for (i = 0; i < c->nmissing; i++)
		if (strcmp(c->missing[i], arg) == 0)
			return;
	if (c->nmissing < 32)
		c->missing[c->nmissing++] = arg;
}

/* ------------------------------------------------------------------ help */

static void
cli_help_top(FILE *f)
{
	const struct vocab_collection *col;
	size_t i;

	fputs("usage: agw [network application-gateway] GROUP VERB [args]\n"
	      "\naz network application-gateway, on a local gateway: the "
	      "state is\n$AGW_HOME/<resource-group>/<gateway>.json "
	      "(AGW_HOME defaults to ./.agw).\n\nCommands (the gateway):\n"
	      "    create, show, list, delete, start, stop, "
	      "show-backend-health\n\nGroups (each: create, show, list, "
	      "update, delete):\n", f);
	for (i = 0; i < vocab_collection_count(); i++) {
		col = vocab_collection_at(i);
		if (col->group != NULL && col->group[0] != '\0')
			fprintf(f, "    %-20s %s\n", col->group, col->help);
	}
	fputs("\nCommon arguments: -g/--resource-group, --gateway-name, "
	      "-n/--name,\n-o/--output json|table|tsv|none, --query "
	      "JMESPATH, -h/--help.\nExit codes: 0 done, 1 refused (service "
	      "error), 2 usage error, 3 not found.\n", f);
}

static void
cli_help_group(FILE *f, const struct cli_cmd *c)
{
	if (c->coll == NULL) {
		cli_help_top(f);
		return;
	}
	fprintf(f, "usage: " PREFIX " %s VERB [args]\n\n%s\n\nVerbs: "
	    "create, show, list, update, delete\n", c->group, c->coll->help);
}

static void
cli_help_arg(FILE *f, const char *arg, const char *type, const char *def,
    const char *skus, int required, const char *help)
{
	fprintf(f, "    %-34s %s%s%s%s%s; SKUs %s\n        %s\n", arg, type,
	    required ? ", required" : "", def != NULL ? ", default " : "",
	    def != NULL ? def : "", "", skus, help);
}

static void
cli_help_props(FILE *f, const char *coll)
{
	const struct vocab_prop *p = NULL;
	const char *def;
	char skus[96];

	while ((p = vocab_prop_next(coll, p)) != NULL) {
		if (p->arg == NULL)
			continue;
		def = p->arg_def != NULL ? p->arg_def : p->def;
		if (p->conv == VOCAB_CONV_DRAIN)
			def = "0 (no draining)";
		/* an off-SKU value is refused, or kept with a warning */
		snprintf(skus, sizeof(skus), "%s%s", vocab_skus_name(p->skus),
		    p->off_sku == VOCAB_OFF_WARN
			? " (other SKUs: kept, ignored, with a warning)"
			: "");
		cli_help_arg(f, p->arg, vocab_type_name(p->type), def, skus,
		    p->required != 0 && def == NULL && p->type != VOCAB_REF,
		    p->help);
	}
}

static void
cli_help_verb(FILE *f, const struct cli_cmd *c)
{
	cli_usage_line(f, c);
	fputc('\n', f);
	cli_help_arg(f, "-g, --resource-group", "string", NULL, "v1,v2",
	    c->coll != NULL || strcmp(c->verb, "list") != 0,
	    "the resource group (a folder under $AGW_HOME)");
	if (c->coll != NULL)
		cli_help_arg(f, "--gateway-name", "string", NULL, "v1,v2", 1,
		    "the application gateway");
	if (c->coll != NULL && c->coll->parent != NULL)
		cli_help_arg(f, "--path-map-name", "string", NULL, "v1,v2", 1,
		    "the URL path map");
	if (strcmp(c->verb, "list") != 0)
		cli_help_arg(f, "-n, --name", "string", NULL, "v1,v2", 1,
		    c->coll != NULL ? "the entry's name" : "the gateway");
	if (c->coll == NULL && strcmp(c->verb, "create") == 0) {
		cli_help_arg(f, "--sku", "enum", "Standard_Medium", "v1,v2", 0,
		    "Standard_Small|Standard_Medium|Standard_Large|WAF_Medium|"
		    "WAF_Large (v1), Standard_v2|WAF_v2 (v2); tier derived");
		cli_help_arg(f, "--capacity", "int", "2", "v1,v2", 0,
		    "instance count (not used by agw-lab)");
		cli_help_arg(f, "--servers", "string list", NULL, "v1,v2", 0,
		    "members of appGatewayBackendPool (IPv4: ipAddress, else "
		    "fqdn)");
		cli_help_arg(f, "--frontend-port", "int", "80", "v1,v2", 0,
		    "port of appGatewayFrontendPort");
		cli_help_arg(f, "--http-settings-port", "int", "80", "v1,v2", 0,
		    "port of appGatewayBackendHttpSettings");
		cli_help_arg(f, "--http-settings-protocol", "enum", "Http",
		    "v1,v2", 0, "protocol of appGatewayBackendHttpSettings");
		cli_help_arg(f, "--http-settings-cookie-based-affinity", "enum",
		    "Disabled", "v1,v2", 0, "affinity of the HTTP settings");
		cli_help_arg(f, "--priority", "int", NULL, "v2", 0,
		    "priority of rule1 (required on v2)");
		fputs("    (--location, --vnet-name, --subnet, "
		      "--public-ip-address ... are accepted and ignored)\n", f);
	} else if (c->coll == NULL && strcmp(c->verb, "start") == 0) {
		cli_help_arg(f, "--fixed-ports", "flag", NULL, "v1,v2", 0,
		    "bind the configured frontend ports (default: ephemeral "
		    "ports)");
		cli_help_arg(f, "--well-known-cas", "file", NULL, "v1,v2", 0,
		    "PEM bundle that stands for the public CAs");
		cli_help_arg(f, "--resolve", "NAME:ADDR ...", NULL, "v1,v2", 0,
		    "resolve backend FQDNs, like curl's --resolve");
	} else if (c->coll != NULL && (strcmp(c->verb, "create") == 0 ||
	    strcmp(c->verb, "update") == 0)) {
		cli_help_props(f, c->coll->name);
		if (strcmp(c->coll->name, "urlPathMaps") == 0 &&
		    strcmp(c->verb, "create") == 0) {
			cli_help_arg(f, "--rule-name", "string", "default",
			    "v1,v2", 0, "name of the first path rule");
			cli_help_props(f, "pathRules");
		}
	}
	cli_help_arg(f, "-o, --output", "enum", "json", "v1,v2", 0,
	    "json, table, tsv or none");
	cli_help_arg(f, "--query", "JMESPath", NULL, "v1,v2", 0,
	    "field paths, [] projections, [?a=='b'] filters, {k: expr}");
}

/* -------------------------------------------------------------- printing */

static int
cli_print(const struct cli_cmd *c, const json_t *v)
{
	json_t *shown;
	char err[512], *out;

	if (c->query != NULL) {
		if ((shown = cli_out_query(v, c->query, err, sizeof(err))) ==
		    NULL) {
			fprintf(stderr, "ERROR: --query: %s\n", err);
			return CLI_EXIT_USAGE;
		}
	} else
		shown = json_incref((json_t *)(uintptr_t)v);
	if (c->fmt != CLI_OUT_NONE) {
		if ((out = cli_out_render(shown, c->fmt)) == NULL) {
			json_decref(shown);
			fprintf(stderr, "ERROR: out of memory\n");
			return CLI_EXIT_SERVICE;
		}
		fputs(out, stdout);
		free(out);
	}
	json_decref(shown);
	return CLI_EXIT_OK;
}

/* ------------------------------------------------------ values and refs */

static json_t *
cli_ref(const struct cli_cmd *c, const char *coll, const char *name)
{
	char id[1024];

	cli_state_id(id, sizeof(id), c->rg, c->gw, coll, name);
	return json_pack("{s:s}", "id", id);
}

/* Set a dotted property ("match.statusCodes") in an entry. Steals v. */
static int
cli_set_dotted(json_t *e, const char *name, json_t *v)
{
	const char *dot = strchr(name, '.');
	char head[128];
	json_t *sub;

	if (v == NULL)
		return -1;
	if (dot == NULL)
		return json_object_set_new(e, name, v);
	snprintf(head, sizeof(head), "%.*s", (int)(dot - name), name);
	if (!json_is_object(sub = json_object_get(e, head))) {
		sub = json_object();
		if (sub == NULL || json_object_set_new(e, head, sub) != 0) {
			json_decref(v);
			return -1;
		}
	}
	return json_object_set_new(sub, dot + 1, v);
}

static const json_t *
cli_get_dotted(const json_t *e, const char *name)
{
	const char *dot = strchr(name, '.');
	char head[128];

	if (dot == NULL)
		return json_object_get(e, name);
	snprintf(head, sizeof(head), "%.*s", (int)(dot - name), name);
	return json_object_get(json_object_get(e, head), dot + 1);
}

/* A .cer/.pem file as one line of base64 DER. */
static json_t *
cli_cert_file(const char *path, char *err, size_t errlen)
{
	unsigned char *der = NULL;
	char *b64 = NULL;
	json_t *v = NULL;
	X509 *x;
	int n;

	if ((x = tls_x509_from_file(path, err, errlen)) == NULL)
		return NULL;
	if ((n = i2d_X509(x, &der)) <= 0 ||
	    (b64 = tls_b64_encode(der, (size_t)n)) == NULL)
		snprintf(err, errlen, "%s: cannot encode the certificate", path);
	else
		v = json_string(b64);
	OPENSSL_free(der);
	free(b64);
	X509_free(x);
	return v;
}

static json_t *
cli_pfx_file(const char *path, char *err, size_t errlen)
{
	unsigned char buf[65536];
	char *b64;
	json_t *v;
	size_t n;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "[Errno %d] %s: '%s'", errno,
		    strerror(errno), path);
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n == 0 || n == sizeof(buf)) {
		snprintf(err, errlen, "%s: empty or too large for a PFX", path);
		return NULL;
	}
	if ((b64 = tls_b64_encode(buf, n)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	v = json_string(b64);
	free(b64);
	return v;
}

/*
 * Set property p of entry e from its az argument's values. Returns 0, -1
 * with err set (exit 1: a file), or -2 with err set (exit 2: a value).
 */
static int
cli_set_prop(const struct cli_cmd *c, json_t *e, const struct vocab_prop *p,
    const struct cli_opt *o, char *err, size_t errlen)
{
	json_t *v = NULL, *it;
	long n;
	size_t i;
	char *end;

	if (o->nvals == 0 && p->conv != VOCAB_CONV_LIST &&
	    p->conv != VOCAB_CONV_REF_LIST && p->conv != VOCAB_CONV_SERVERS) {
		snprintf(err, errlen, "argument %s: expected one argument",
		    p->arg);
		return -2;
	}
	if (o->nvals > 1 && (p->conv == VOCAB_CONV_VALUE ||
	    p->conv == VOCAB_CONV_REF || p->conv == VOCAB_CONV_CERT_FILE ||
	    p->conv == VOCAB_CONV_PFX_FILE || p->conv == VOCAB_CONV_DRAIN)) {
		snprintf(err, errlen, "unrecognized arguments: %s", o->vals[1]);
		return -2;
	}
	switch (p->conv) {
	case VOCAB_CONV_VALUE:
		if ((v = vocab_value_from_text(p, o->vals[0], err, errlen)) ==
		    NULL)
			return -2;
		break;
	case VOCAB_CONV_LIST:
	case VOCAB_CONV_REF_LIST:
	case VOCAB_CONV_SERVERS:
		if ((v = json_array()) == NULL)
			goto oom;
		for (i = 0; i < o->nvals; i++) {
			if (p->conv == VOCAB_CONV_LIST)
				it = json_string(o->vals[i]);
			else if (p->conv == VOCAB_CONV_REF_LIST)
				it = cli_ref(c, p->ref, o->vals[i]);
			else
				it = json_pack("{s:s}",
				    cli_state_is_ipv4(o->vals[i]) ? "ipAddress"
								  : "fqdn",
				    o->vals[i]);
			if (json_array_append_new(v, it) != 0)
				goto oom;
		}
		break;
	case VOCAB_CONV_REF:
		v = cli_ref(c, p->ref, o->vals[0]);
		break;
	case VOCAB_CONV_CERT_FILE:
		if ((v = cli_cert_file(o->vals[0], err, errlen)) == NULL)
			return -1;
		break;
	case VOCAB_CONV_PFX_FILE:
		if ((v = cli_pfx_file(o->vals[0], err, errlen)) == NULL)
			return -1;
		break;
	case VOCAB_CONV_DRAIN:
		n = strtol(o->vals[0], &end, 10);
		if (*end != '\0' || end == o->vals[0] || n < 0 || n > p->max) {
			snprintf(err, errlen, "%s: must be between 0 and %ld, "
			    "not \"%s\"", p->arg, p->max, o->vals[0]);
			return -2;
		}
		if (cli_set_dotted(e, "connectionDraining.enabled",
			json_boolean(n > 0)) != 0)
			goto oom;
		v = json_integer(n > 0 ? n : 1);
		break;
	case VOCAB_CONV_NONE:
		return 0;
	}
	if (cli_set_dotted(e, p->name, v) != 0)
		goto oom_set;
	return 0;
oom:
	json_decref(v);
oom_set:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static json_t *
cli_find(json_t *arr, const char *name, size_t *index)
{
	json_t *e;
	size_t i;

	json_array_foreach(arr, i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));

		if (n != NULL && strcmp(n, name) == 0) {
			if (index != NULL)
				*index = i;
			return e;
		}
	}
	return NULL;
}

/* The name of the only entry of a collection, or NULL. */
static const char *
cli_only(const struct cli_cmd *c, const char *coll)
{
	json_t *arr = json_object_get(c->doc, coll);

	if (json_array_size(arr) != 1)
		return NULL;
	return json_string_value(json_object_get(json_array_get(arr, 0),
	    "name"));
}

/* The default of a reference argument that was left out, or NULL. */
static json_t *
cli_ref_default(const struct cli_cmd *c, const json_t *e,
    const struct vocab_prop *p, const json_t *map)
{
	const char *type, *only;
	const json_t *d;

	if (strcmp(p->collection, "pathRules") == 0 && map != NULL) {
		/* az: a path rule defaults to its map's defaults */
		d = json_object_get(map, strcmp(p->name, "backendAddressPool")
			== 0 ? "defaultBackendAddressPool"
			     : "defaultBackendHttpSettings");
		if (d != NULL)
			return json_deep_copy(d);
	}
	if (strcmp(p->collection, "requestRoutingRules") == 0) {
		type = json_string_value(json_object_get(e, "ruleType"));
		if (type == NULL)
			type = "Basic";
		if (strcmp(p->name, "urlPathMap") == 0 ?
		    strcmp(type, "PathBasedRouting") != 0 :
		    strcmp(p->name, "httpListener") != 0 &&
		    strcmp(type, "Basic") != 0)
			return NULL;
	} else if (strcmp(p->collection, "urlPathMaps") != 0 &&
	    strcmp(p->collection, "pathRules") != 0 &&
	    strcmp(p->name, "frontendIPConfiguration") != 0)
		return NULL;
	if ((only = cli_only(c, p->ref)) == NULL)
		return NULL;
	return cli_ref(c, p->ref, only);
}

/* Does a rule of e's type need that reference (Basic: pool and settings;
 * PathBasedRouting: the map)? */
static int
cli_rule_needs(const json_t *e, const char *prop)
{
	const char *type = json_string_value(json_object_get(e, "ruleType"));
	int basic = type == NULL || strcmp(type, "Basic") == 0;

	if (strcmp(prop, "urlPathMap") == 0)
		return !basic;
	return basic || strcmp(prop, "httpListener") == 0;
}

/*
 * Fill entry e of collection coll from the arguments: given ones always,
 * and on create the az defaults and the only-one references; required ones
 * still absent are noted in c->missing. Returns an exit code.
 */
static int
cli_fill(struct cli_cmd *c, json_t *e, const char *coll, int create,
    const json_t *map)
{
	const struct vocab_prop *p = NULL;
	const struct cli_opt *o;
	char err[1024];
	json_t *v;
	int rc;

	while ((p = vocab_prop_next(coll, p)) != NULL) {
		if (p->arg == NULL || (o = cli_args_get(c->a, p->arg)) == NULL)
			continue;
		if ((rc = cli_set_prop(c, e, p, o, err, sizeof(err))) != 0) {
			if (rc == -2)
				return cli_usage_error(c, "%s", err);
			fprintf(stderr, "%s\n", err);
			return CLI_EXIT_SERVICE;
		}
	}
	if (!create)
		return CLI_EXIT_OK;
	while ((p = vocab_prop_next(coll, p)) != NULL) {
		if (cli_get_dotted(e, p->name) != NULL ||
		    p->type == VOCAB_OBJECT || p->type == VOCAB_OBJECT_LIST ||
		    p->conv == VOCAB_CONV_DRAIN ||
		    !(p->skus & c->sku))
			continue;
		if (p->type == VOCAB_REF)
			v = cli_ref_default(c, e, p, map);
		else if (p->arg == NULL && strcmp(p->name, "protocol") == 0)
			v = json_string(json_object_get(e, "sslCertificate") !=
				    NULL ? "Https" : "Http");
		else
			v = p->arg != NULL ? vocab_default_json(p, 1) : NULL;
		if (v != NULL) {
			if (cli_set_dotted(e, p->name, v) != 0) {
				fprintf(stderr, "ERROR: out of memory\n");
				return CLI_EXIT_SERVICE;
			}
		} else if (p->arg != NULL && ((p->required & c->sku) ||
		    (p->type == VOCAB_REF && strcmp(coll,
			"requestRoutingRules") == 0 &&
			cli_rule_needs(e, p->name))))
			cli_need(c, p->arg);
	}
	return CLI_EXIT_OK;
}

/* A new entry: name first, then what the stamp adds. */
static json_t *
cli_entry_new(const char *name)
{
	return json_pack("{s:s}", "name", name);
}

/* ------------------------------------------------------------- the verbs */

static int
cli_saved(const struct cli_cmd *c, const json_t *shown)
{
	int rc = CLI_EXIT_OK;

	if (shown != NULL)
		rc = cli_print(c, shown);
	if (cli_run_reload(c->rg, c->gw) != 0)
		rc = CLI_EXIT_SERVICE;
	return rc;
}

static unsigned
cli_doc_sku(const json_t *doc)
{
	const char *tier = json_string_value(json_object_get(
	    json_object_get(doc, "sku"), "tier"));

	if (tier != NULL && strstr(tier, "_v2") != NULL)
		return VOCAB_SKU_V2;
	return VOCAB_SKU_V1;
}

/* A child entry that is not there: coll is its ARM collection. */
static int
cli_not_found(const struct cli_cmd *c, const char *coll, const char *name)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "Item '%s' not found in %s of application "
	    "gateway '%s' of resource group '%s'.", name, coll, c->gw, c->rg);
	cli_state_error("NotFound", msg, "");
	return CLI_EXIT_NOT_FOUND;
}

static int
cli_sub(struct cli_cmd *c)
{
	const char *cname = c->coll->name;
	json_t *arr, *e = NULL, *map = NULL, *rule = NULL, *parent;
	size_t idx = 0;
	int rc, create = strcmp(c->verb, "create") == 0;

	parent = c->doc;
	if (c->coll->parent != NULL) {
		map = cli_find(json_object_get(c->doc, "urlPathMaps"), c->map,
		    NULL);
		if (map == NULL)
			return cli_not_found(c, "urlPathMaps", c->map);
		parent = map;
	}
	if (!json_is_array(arr = json_object_get(parent, cname))) {
		arr = json_array();
		if (arr == NULL || json_object_set_new(parent, cname, arr) != 0)
			return CLI_EXIT_SERVICE;
	}
	if (strcmp(c->verb, "list") == 0)
		return cli_print(c, arr);
	e = cli_find(arr, c->name, &idx);
	if (strcmp(c->verb, "show") == 0)
		return e != NULL ? cli_print(c, e)
				 : cli_not_found(c, cname, c->name);
	if (strcmp(c->verb, "delete") == 0) {
		if (e == NULL)
			return cli_not_found(c, cname, c->name);
		json_array_remove(arr, idx);
		if (cli_state_save(c->doc, c->rg, c->gw) != 0)
			return CLI_EXIT_SERVICE;
		return cli_saved(c, NULL);
	}
	if (!create && e == NULL)
		return cli_not_found(c, cname, c->name);
	if (create) {
		/* az create replaces an entry of the same name */
		if (e != NULL)
			json_array_remove(arr, idx);
		if ((e = cli_entry_new(c->name)) == NULL ||
		    json_array_append_new(arr, e) != 0)
			return CLI_EXIT_SERVICE;
	}
	if ((rc = cli_fill(c, e, cname, create, map)) != CLI_EXIT_OK)
		return rc;
	if (create && strcmp(cname, "urlPathMaps") == 0) {
		const char *rn = cli_args_value(c->a, "--rule-name", &rc);
		json_t *rules;

		rc = 0;
		if ((rule = cli_entry_new(rn != NULL ? rn : "default")) == NULL ||
		    (rules = json_array()) == NULL ||
		    json_object_set_new(e, "pathRules", rules) != 0 ||
		    json_array_append_new(rules, rule) != 0)
			return CLI_EXIT_SERVICE;
		if ((rc = cli_fill(c, rule, "pathRules", 1, NULL)) !=
		    CLI_EXIT_OK)
			return rc;
		/* the map's defaults: the first rule's, as az does */
		if (json_object_get(e, "defaultBackendAddressPool") == NULL &&
		    json_object_get(rule, "backendAddressPool") != NULL)
			json_object_set_new(e, "defaultBackendAddressPool",
			    json_deep_copy(json_object_get(rule,
				"backendAddressPool")));
		if (json_object_get(e, "defaultBackendHttpSettings") == NULL &&
		    json_object_get(rule, "backendHttpSettings") != NULL)
			json_object_set_new(e, "defaultBackendHttpSettings",
			    json_deep_copy(json_object_get(rule,
				"backendHttpSettings")));
		if (c->nmissing > 0 &&
		    json_object_get(e, "defaultBackendAddressPool") != NULL &&
		    json_object_get(e, "defaultBackendHttpSettings") != NULL) {
			/* the map defaults were taken from the rule */
			size_t i, j = 0;

			for (i = 0; i < c->nmissing; i++)
				if (strncmp(c->missing[i], "--default-", 10)
				    != 0)
					c->missing[j++] = c->missing[i];
			c->nmissing = j;
		}
	}
	if (strcmp(cname, "httpListeners") == 0 &&
	    cli_args_get(c->a, "--ssl-cert") != NULL)
		json_object_set_new(e, "protocol", json_string("Https"));
	if (c->nmissing > 0)
		return cli_missing_error(c);
	if (cli_state_save(c->doc, c->rg, c->gw) != 0)
		return CLI_EXIT_SERVICE;
	return cli_saved(c, e);
}

/* az network application-gateway create, with az's default
 * sub-resources. */
static int
cli_gw_create_doc(struct cli_cmd *c)
{
	const struct vocab_prop *skup = vocab_prop(GW_COLL, "sku.name");
	const struct vocab_prop *capp = vocab_prop(GW_COLL, "sku.capacity");
	const struct vocab_prop *hsp = vocab_prop(
	    "backendHttpSettingsCollection", "protocol");
	const struct vocab_prop *affp = vocab_prop(
	    "backendHttpSettingsCollection", "cookieBasedAffinity");
	const struct vocab_prop *portp = vocab_prop("frontendPorts", "port");
	const struct vocab_prop *prip = vocab_prop("requestRoutingRules",
	    "priority");
	const char *t;
	char err[512], tier[32];
	json_t *sku = NULL, *cap = NULL, *proto = NULL, *aff = NULL;
	json_t *fport = NULL, *hport = NULL, *prio = NULL, *servers, *rule;
	json_t *doc = NULL;
	const struct cli_opt *o;
	int bad = 0, rc = CLI_EXIT_USAGE;
	size_t i;

	{
		/* each --argument's text through its vocabulary row */
		const struct {
			const char *arg, *def;
			const struct vocab_prop *p;
			json_t **out;
		} vals[] = {
			{ "--sku", "Standard_Medium", skup, &sku },
			{ "--capacity", "2", capp, &cap },
			{ "--http-settings-protocol", "Http", hsp, &proto },
			{ "--http-settings-cookie-based-affinity", "Disabled",
			    affp, &aff },
			{ "--frontend-port", "80", portp, &fport },
			{ "--http-settings-port", "80", portp, &hport },
		};

		for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
			t = cli_args_value(c->a, vals[i].arg, &bad);
			*vals[i].out = vocab_value_from_text(vals[i].p,
			    t != NULL ? t : vals[i].def, err, sizeof(err));
			if (*vals[i].out == NULL)
				goto usage;
		}
	}
	if (bad) {
		snprintf(err, sizeof(err), "expected one argument");
		goto usage;
	}
	t = json_string_value(sku);
	if (strncmp(t, "Standard_v2", 11) == 0 || strncmp(t, "WAF_v2", 6) == 0)
		snprintf(tier, sizeof(tier), "%s", t);
	else
		snprintf(tier, sizeof(tier), "%.*s", (int)strcspn(t, "_"), t);
	c->sku = strstr(tier, "_v2") != NULL ? VOCAB_SKU_V2 : VOCAB_SKU_V1;
	t = cli_args_value(c->a, "--priority", &bad);
	if (t != NULL && (prio = vocab_value_from_text(prip, t, err,
			      sizeof(err))) == NULL)
		goto usage;
	if (prio == NULL && c->sku == VOCAB_SKU_V2) {
		cli_need(c, "--priority");
		rc = cli_missing_error(c);
		goto fail;
	}
	if ((servers = json_array()) == NULL)
		goto oom;
	o = cli_args_get(c->a, "--servers");
	for (i = 0; o != NULL && i < o->nvals; i++)
		json_array_append_new(servers, json_pack("{s:s}",
		    cli_state_is_ipv4(o->vals[i]) ? "ipAddress" : "fqdn",
		    o->vals[i]));
	t = cli_args_value(c->a, "--location", &bad);
	doc = json_pack("{s:s, s:s, s:s, s:{s:o, s:s, s:o}, s:[{s:s, s:s}],"
			" s:[{s:s, s:o}], s:[{s:s, s:o}],"
			" s:[{s:s, s:O, s:o, s:o, s:i, s:b}],"
			" s:[{s:s, s:o, s:o, s:s}]}",
	    "name", c->gw, "location", t != NULL ? t : "local",
	    "resourceGroup", c->rg,
	    "sku", "name", sku, "tier", tier, "capacity", cap,
	    "frontendIPConfigurations", "name", "appGatewayFrontendIP",
	    "privateIPAllocationMethod", "Dynamic",
	    "frontendPorts", "name", "appGatewayFrontendPort", "port", fport,
	    "backendAddressPools", "name", "appGatewayBackendPool",
	    "backendAddresses", servers,
	    "backendHttpSettingsCollection", "name",
	    "appGatewayBackendHttpSettings", "port", hport, "protocol", proto,
	    "cookieBasedAffinity", aff, "requestTimeout", 20,
	    "pickHostNameFromBackendAddress", 0,
	    "httpListeners", "name", "appGatewayHttpListener",
	    "frontendIPConfiguration", cli_ref(c, "frontendIPConfigurations",
		"appGatewayFrontendIP"),
	    "frontendPort", cli_ref(c, "frontendPorts",
		"appGatewayFrontendPort"),
	    "protocol", "Http");
	sku = cap = fport = proto = aff = NULL; /* stolen by "o" */
	json_decref(hport);
	hport = NULL;
	if (doc == NULL)
		goto oom;
	rule = json_pack("{s:s, s:s, s:o, s:o, s:o}", "name", "rule1",
	    "ruleType", "Basic",
	    "httpListener", cli_ref(c, "httpListeners",
		"appGatewayHttpListener"),
	    "backendAddressPool", cli_ref(c, "backendAddressPools",
		"appGatewayBackendPool"),
	    "backendHttpSettings", cli_ref(c, "backendHttpSettingsCollection",
		"appGatewayBackendHttpSettings"));
	if (rule == NULL)
		goto oom;
	if (prio != NULL) {
		json_object_set_new(rule, "priority", prio);
		prio = NULL;
	}
	json_object_set_new(doc, "requestRoutingRules", json_pack("[o]", rule));
	if (c->doc != NULL)
		json_decref(c->doc);
	c->doc = doc;
	return CLI_EXIT_OK;
usage:
	rc = cli_usage_error(c, "%s", bad ? "expected one argument" : err);
	goto fail;
oom:
	fprintf(stderr, "ERROR: out of memory\n");
	rc = CLI_EXIT_SERVICE;
fail:
	json_decref(sku);
	json_decref(cap);
	json_decref(proto);
	json_decref(aff);
	json_decref(fport);
	json_decref(hport);
	json_decref(prio);
	return rc;
}

static int
cli_gw_list(const struct cli_cmd *c)
{
	char dir[4096], path[4096], msg[512];
	struct dirent **rgs = NULL, **gws = NULL;
	json_t *out = json_array(), *doc;
	int nr, ng, i, j, rc, missing;
	size_t len;

	if (out == NULL)
		return CLI_EXIT_SERVICE;
	nr = scandir(cli_state_home(), &rgs, NULL, alphasort);
	for (i = 0; i < nr; i++) {
		if (rgs[i]->d_name[0] == '.' ||
		    (c->rg != NULL && strcmp(rgs[i]->d_name, c->rg) != 0))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", cli_state_home(),
		    rgs[i]->d_name);
		ng = scandir(dir, &gws, NULL, alphasort);
		for (j = 0; j < ng; j++) {
			len = strlen(gws[j]->d_name);
			if (len > 5 && strcmp(gws[j]->d_name + len - 5,
			    ".json") == 0 && (len < 9 || strcmp(gws[j]->d_name
			    + len - 9, ".run.json") != 0)) {
				snprintf(path, sizeof(path), "%.*s",
				    (int)(len - 5), gws[j]->d_name);
				doc = cli_state_load(rgs[i]->d_name, path,
				    &missing, msg, sizeof(msg));
				if (doc != NULL)
					json_array_append_new(out, doc);
			}
			free(gws[j]);
		}
		free(gws);
		gws = NULL;
	}
	for (i = 0; i < nr; i++)
		free(rgs[i]);
	free(rgs);
	rc = cli_print(c, out);
	json_decref(out);
	return rc;
}

/* The last segment of a sub-resource's {"id": ...}, or "". */
static const char *
cli_health_name(const json_t *ref)
{
	const char *id = json_string_value(json_object_get(ref, "id"));
	const char *slash;

	if (id == NULL)
		return "";
	slash = strrchr(id, '/');
	return slash != NULL ? slash + 1 : id;
}

/* show-backend-health -o table: one row per server (pool, setting, address,
 * health, healthProbeLog); az's generic table would print no row at all for
 * the nested shape. New reference or NULL. */
static json_t *
cli_health_rows(const json_t *health)
{
	const json_t *pool, *hs, *srv;
	json_t *rows, *row;
	size_t i, j, k;

	if ((rows = json_array()) == NULL)
		return NULL;
	json_array_foreach(json_object_get(health, "backendAddressPools"), i,
	    pool) {
		json_array_foreach(json_object_get(pool,
		    "backendHttpSettingsCollection"), j, hs) {
			json_array_foreach(json_object_get(hs, "servers"), k,
			    srv) {
				row = json_pack("{s:s,s:s,s:O?,s:O?,s:O?}",
				    "pool", cli_health_name(json_object_get(
					pool, "backendAddressPool")),
				    "settings", cli_health_name(
					json_object_get(hs,
					    "backendHttpSettings")),
				    "address", json_object_get(srv, "address"),
				    "health", json_object_get(srv, "health"),
				    "healthProbeLog",
				    json_object_get(srv, "healthProbeLog"));
				if (row == NULL ||
				    json_array_append_new(rows, row) != 0)
					goto fail;
			}
		}
	}
	return rows;
fail:
	json_decref(rows);
	return NULL;
}

static int
cli_gateway(struct cli_cmd *c)
{
	char path[4096], bak[4096], err[1024], *body = NULL;
	json_t *info, *health, *rows;
	int status, rc;

	if (strcmp(c->verb, "create") == 0) {
		if ((rc = cli_gw_create_doc(c)) != CLI_EXIT_OK)
			return rc;
		rc = cli_state_save(c->doc, c->rg, c->gw) != 0
		    ? CLI_EXIT_SERVICE
		    : cli_saved(c, c->doc);
		return rc;
	}
	if (strcmp(c->verb, "show") == 0)
		return cli_print(c, c->doc);
	if (strcmp(c->verb, "start") == 0)
		return cli_run_start(c->rg, c->gw, c->a, c->fmt, c->query);
	if (strcmp(c->verb, "stop") == 0)
		return cli_run_stop(c->rg, c->gw);
	if (strcmp(c->verb, "delete") == 0) {
		if ((rc = cli_run_stop(c->rg, c->gw)) != CLI_EXIT_OK)
			return rc;
		cli_state_path(path, sizeof(path), c->rg, c->gw, ".json");
		cli_state_path(bak, sizeof(bak), c->rg, c->gw, ".json.bak");
		if (rename(path, bak) != 0) {
			fprintf(stderr, "ERROR: %s: %s\n", path,
			    strerror(errno));
			return CLI_EXIT_SERVICE;
		}
		return CLI_EXIT_OK;
	}
	/* show-backend-health */
	if ((info = cli_run_info(c->rg, c->gw)) == NULL) {
		snprintf(err, sizeof(err), "Application gateway '%s' of "
		    "resource group '%s' is not running: start it with '"
		    PREFIX " start -g %s -n %s'.", c->gw, c->rg, c->rg, c->gw);
		cli_state_error("ApplicationGatewayNotRunning", err, "");
		return CLI_EXIT_SERVICE;
	}
	status = cli_run_http(json_string_value(json_object_get(info,
	    "admin")), "GET", "/backendhealth", &body, err, sizeof(err));
	json_decref(info);
	if (status != 200 || (health = json_loads(body, 0, NULL)) == NULL) {
		fprintf(stderr, "ERROR: GET /backendhealth: %s\n",
		    status < 0 ? err : body != NULL ? body : "");
		free(body);
		return CLI_EXIT_SERVICE;
	}
	free(body);
	if (c->fmt == CLI_OUT_TABLE && c->query == NULL) {
		if ((rows = cli_health_rows(health)) == NULL) {
			json_decref(health);
			fprintf(stderr, "ERROR: out of memory\n");
			return CLI_EXIT_SERVICE;
		}
		json_decref(health);
		health = rows;
	}
	rc = cli_print(c, health);
	json_decref(health);
	return rc;
}

/* --------------------------------------------------------------- parsing */

/* Is an option allowed for this command? */
static int
cli_allowed(const struct cli_cmd *c, const char *opt)
{
	int create = strcmp(c->verb, "create") == 0;
	int update = strcmp(c->verb, "update") == 0;
	int list = strcmp(c->verb, "list") == 0;

	if (cli_in(cli_common, opt))
		return 1;
	if (c->coll == NULL) {
		if (strcmp(opt, "--name") == 0)
			return !list;
		if (create)
			return cli_in(cli_gw_create, opt) ||
			    cli_in(cli_ignored, opt);
		if (strcmp(c->verb, "start") == 0)
			return cli_in(cli_gw_start, opt);
		return 0;
	}
	if (strcmp(opt, "--gateway-name") == 0)
		return 1;
	if (strcmp(opt, "--name") == 0)
		return !list;
	if (strcmp(opt, "--path-map-name") == 0)
		return c->coll->parent != NULL;
	if (!create && !update)
		return 0;
	if (vocab_prop_by_arg(c->coll->name, opt) != NULL)
		return 1;
	if (create && strcmp(c->coll->name, "urlPathMaps") == 0)
		return strcmp(opt, "--rule-name") == 0 ||
		    vocab_prop_by_arg("pathRules", opt) != NULL;
	if (strcmp(c->coll->name, "frontendIPConfigurations") == 0)
		return strcmp(opt, "--private-ip-address") == 0 ||
		    strcmp(opt, "--public-ip-address") == 0 ||
		    strcmp(opt, "--vnet-name") == 0 ||
		    strcmp(opt, "--subnet") == 0;
	return 0;
}

/* The command's group and verb from the leading words. Returns the index
 * of the verb word, or -1 with an error printed. */
static int
cli_words(struct cli_cmd *c, const char **w, size_t n)
{
	static char group[64];
	size_t i = 0;

	if (n > 0 && strcmp(w[0], "network") == 0) {
		/* `agw network [--help]` is `agw network application-gateway`:
		 * the only network group agw has */
		if (n >= 2 && strcmp(w[1], "application-gateway") != 0) {
			fprintf(stderr, "'%s' is misspelled or not recognized "
			    "by the system (agw has only 'network "
			    "application-gateway').\n", w[1]);
			return -1;
		}
		i = n < 2 ? 1 : 2;
	} else if (n > 0 && strcmp(w[0], "application-gateway") == 0)
		i = 1;
	if (i >= n)
		return (int)i;
	if (cli_in(cli_gw_verbs, w[i])) {
		c->group = "";
		c->verb = w[i];
		return (int)i;
	}
	if (strcmp(w[i], "url-path-map") == 0 && i + 1 < n &&
	    strcmp(w[i + 1], "rule") == 0) {
		snprintf(group, sizeof(group), "url-path-map rule");
		i++;
	} else
		snprintf(group, sizeof(group), "%s", w[i]);
	c->group = group;
	if ((c->coll = vocab_collection_by_group(group)) == NULL ||
	    group[0] == '\0') {
		fprintf(stderr, "'%s' is misspelled or not recognized by the "
		    "system.\n", group);
		return -1;
	}
	if (i + 1 < n) {
		if (!cli_in(cli_sub_verbs, w[i + 1])) {
			fprintf(stderr, "'%s' is misspelled or not recognized "
			    "by the system.\n", w[i + 1]);
			return -1;
		}
		c->verb = w[i + 1];
		return (int)i + 1;
	}
	return (int)i;
}

static int
cli_main(int argc, char **argv)
{
	struct cli_args a;
	struct cli_cmd c;
	char err[1024];
	const char *out;
	int vi, rc, bad = 0, missing, fmt;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.group = "";
	if (cli_args_parse(&a, argc - 1, argv + 1, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		cli_args_clear(&a);
		return CLI_EXIT_USAGE;
	}
	c.a = &a;
	if ((vi = cli_words(&c, a.words, a.nwords)) < 0) {
		rc = CLI_EXIT_USAGE;
		goto done;
	}
	if (c.verb == NULL) {
		if (a.help) {
			cli_help_group(stdout, &c);
			rc = CLI_EXIT_OK;
		} else {
			cli_help_group(stderr, &c);
			rc = CLI_EXIT_USAGE;
		}
		goto done;
	}
	if ((size_t)vi + 1 < a.nwords) {
		rc = cli_usage_error(&c, "unrecognized arguments: %s",
		    a.words[vi + 1]);
		goto done;
	}
	if (a.help) {
		cli_help_verb(stdout, &c);
		rc = CLI_EXIT_OK;
		goto done;
	}
	for (i = 0; i < a.nopts; i++)
		if (!cli_allowed(&c, a.opts[i].name)) {
			rc = cli_usage_error(&c, "unrecognized arguments: %s",
			    a.opts[i].name);
			goto done;
		}
	out = cli_args_value(&a, "--output", &bad);
	if ((fmt = cli_out_format_parse(out)) < 0 || bad) {
		rc = cli_usage_error(&c, "argument --output/-o: invalid choice: "
		    "'%s' (choose from 'json', 'jsonc', 'none', 'table', 'tsv')",
		    out != NULL ? out : "");
		goto done;
	}
	c.fmt = (enum cli_format)fmt;
	c.query = cli_args_value(&a, "--query", &bad);
	c.rg = cli_args_value(&a, "--resource-group", &bad);
	if (c.coll != NULL) {
		c.gw = cli_args_value(&a, "--gateway-name", &bad);
		c.name = cli_args_value(&a, "--name", &bad);
	} else
		c.gw = cli_args_value(&a, "--name", &bad);
	c.map = cli_args_value(&a, "--path-map-name", &bad);
	if (bad) {
		rc = cli_usage_error(&c, "%s", "an argument expected one value");
		goto done;
	}
	if (c.coll == NULL && strcmp(c.verb, "list") == 0) {
		rc = cli_gw_list(&c);
		goto done;
	}
	if (c.rg == NULL)
		cli_need(&c, "--resource-group");
	if (c.coll != NULL && c.gw == NULL)
		cli_need(&c, "--gateway-name");
	if (c.coll != NULL && c.coll->parent != NULL && c.map == NULL)
		cli_need(&c, "--path-map-name");
	if ((c.coll == NULL && c.gw == NULL) || (c.coll != NULL &&
	    c.name == NULL && strcmp(c.verb, "list") != 0))
		cli_need(&c, "--name");
	if (c.nmissing > 0) {
		rc = cli_missing_error(&c);
		goto done;
	}
	if (strchr(c.rg, '/') != NULL || strchr(c.gw, '/') != NULL ||
	    c.rg[0] == '.' || c.gw[0] == '.') {
		rc = cli_usage_error(&c, "invalid resource name: %s",
		    strchr(c.rg, '/') != NULL || c.rg[0] == '.' ? c.rg : c.gw);
		goto done;
	}
	if (c.coll == NULL && strcmp(c.verb, "create") == 0) {
		rc = cli_gateway(&c);
		goto done;
	}
	if ((c.doc = cli_state_load(c.rg, c.gw, &missing, err,
		 sizeof(err))) == NULL) {
		if (missing && c.coll == NULL && strcmp(c.verb, "stop") == 0) {
			rc = CLI_EXIT_OK;
			goto done;
		}
		cli_state_error(missing ? "ResourceNotFound" : "InvalidState",
		    err, "");
		rc = missing ? CLI_EXIT_NOT_FOUND : CLI_EXIT_SERVICE;
		goto done;
	}
	c.sku = cli_doc_sku(c.doc);
	rc = c.coll == NULL ? cli_gateway(&c) : cli_sub(&c);
done:
	json_decref(c.doc);
	cli_args_clear(&a);
	return rc;
}

int
main(int argc, char **argv)
{
	log_init("agw", LOG_LEVEL_WARN);
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		cli_help_top(stdout);
		return 0;
	}
	return cli_main(argc, argv);
}
