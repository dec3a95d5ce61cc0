/*
 * vocab: the configuration vocabulary table (see vocab.h). The loader and
 * the agw command line both read it; edit a property here, nowhere else.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vocab.h"

#define GW    "applicationGateways"
#define SSL   "sslCertificates"
#define AUTH  "authenticationCertificates"
#define ROOT  "trustedRootCertificates"
#define FIP   "frontendIPConfigurations"
#define FP    "frontendPorts"
#define POOL  "backendAddressPools"
#define HS    "backendHttpSettingsCollection"
#define PROBE "probes"
#define LSN   "httpListeners"
#define RULE  "requestRoutingRules"
#define MAP   "urlPathMaps"
#define PR    "pathRules"

#define PORT_CODE "ApplicationGatewayPortNotValidForProtocol"

static const struct vocab_collection collections[] = {
    {GW, "", NULL, NULL, 1, "the gateway itself (sku)"},
    {SSL, "ssl-cert", "sslCertificate", NULL, 1,
        "listener certificates: base64 PFX and its password"},
    {AUTH, "auth-cert", NULL, NULL, 1,
        "v1: allow-listed backend leaf certificates (base64 .cer)"},
    {ROOT, "root-cert", NULL, NULL, 1,
        "v2: trusted root CA certificates (base64 .cer)"},
    {FIP, "frontend-ip", "frontendIPConfiguration", NULL, 0,
        "frontend IP configurations (names only; agw-lab binds "
        "--listen-address)"},
    {FP, "frontend-port", "frontendPort", NULL, 1, "frontend ports"},
    {POOL, "address-pool", "backendAddressPool", NULL, 1,
        "backend pools: IP addresses or FQDNs"},
    {HS, "http-settings", "backendHttpSettings", NULL, 1,
        "backend HTTP settings: port, protocol, trust, timeouts"},
    {PROBE, "probe", "probe", NULL, 1, "custom health probes"},
    {LSN, "http-listener", "httpListener", NULL, 1,
        "listeners: frontend port, protocol, host names"},
    {RULE, "rule", NULL, NULL, 1, "request routing rules"},
    {MAP, "url-path-map", "urlPathMap", NULL, 1,
        "URL path maps for PathBasedRouting rules"},
    {PR, "url-path-map rule", NULL, MAP, 1, "path rules of a URL path map"},
};

static const char *const sku_names[] = {"Standard_Small", "Standard_Medium",
    "Standard_Large", "WAF_Medium", "WAF_Large", "Standard_v2", "WAF_v2", NULL};
static const char *const sku_tiers[] = {
    "Standard", "WAF", "Standard_v2", "WAF_v2", NULL};
static const char *const protocols[] = {"Http", "Https", NULL};
static const char *const affinity[] = {"Enabled", "Disabled", NULL};
static const char *const rule_types[] = {"Basic", "PathBasedRouting", NULL};

/* P(collection, name, type, skus): the fields every row sets. */
#define P(c, n, t, s) .collection = c, .name = n, .type = t, .skus = s
#define B             VOCAB_SKU_BOTH
#define V1            VOCAB_SKU_V1
#define V2            VOCAB_SKU_V2
#define ARG(a, cv)    .arg = a, .conv = cv
#define VAL           VOCAB_CONV_VALUE

static const struct vocab_prop props[] = {
    /* the gateway */
    {P(GW, "sku", VOCAB_OBJECT, B), .required = B,
        .help = "the SKU: name, tier, capacity"},
    {P(GW, "sku.name", VOCAB_ENUM, B), .values = sku_names, .required = B,
        ARG("--sku", VAL), .help = "SKU name; must agree with the tier"},
    {P(GW, "sku.tier", VOCAB_ENUM, B), .values = sku_tiers, .required = B,
        .help = "SKU tier: decides v1 or v2"},
    {P(GW, "sku.capacity", VOCAB_INT, B), .min = 0, .max = 125, .arg_def = "2",
        ARG("--capacity", VAL), .help = "instance count (not used by agw-lab)"},
    {P(GW, SSL, VOCAB_OBJECT_LIST, B), .max = 100,
        .help = "listener certificates"},
    {P(GW, AUTH, VOCAB_OBJECT_LIST, V1), .max = 100,
        .feature = "AuthenticationCertificates",
        .help = "v1 authentication certificates, up to 100"},
    {P(GW, ROOT, VOCAB_OBJECT_LIST, V2), .max = 100,
        .feature = "TrustedRootCertificates",
        .help = "v2 trusted root certificates, up to 100"},
    {P(GW, FIP, VOCAB_OBJECT_LIST, B), .help = "frontend IPs"},
    {P(GW, FP, VOCAB_OBJECT_LIST, B), .help = "frontend ports"},
    {P(GW, POOL, VOCAB_OBJECT_LIST, B), .help = "backend pools"},
    {P(GW, HS, VOCAB_OBJECT_LIST, B), .help = "backend HTTP settings"},
    {P(GW, PROBE, VOCAB_OBJECT_LIST, B), .help = "custom probes"},
    {P(GW, LSN, VOCAB_OBJECT_LIST, B), .help = "listeners"},
    {P(GW, RULE, VOCAB_OBJECT_LIST, B), .help = "routing rules"},
    {P(GW, MAP, VOCAB_OBJECT_LIST, B), .help = "URL path maps"},

    /* sslCertificates */
    {P(SSL, "data", VOCAB_PFX, B), ARG("--cert-file", VOCAB_CONV_PFX_FILE),
        .help = "base64 PFX (PKCS#12) with the key"},
    {P(SSL, "password", VOCAB_STRING, B), ARG("--cert-password", VAL),
        .help = "the PFX password"},
    {P(SSL, "certFile", VOCAB_STRING, B),
        .help = "agw-lab extension: PEM certificate (chain) file, relative "
                "to the config file's folder"},
    {P(SSL, "keyFile", VOCAB_STRING, B),
        .help = "agw-lab extension: PEM private key file, relative to the "
                "config file's folder"},

    /* authenticationCertificates, trustedRootCertificates */
    {P(AUTH, "data", VOCAB_CERT, B), .required = B,
        ARG("--cert-file", VOCAB_CONV_CERT_FILE),
        .help = "the backend's leaf certificate, base64 DER (.cer)"},
    {P(ROOT, "data", VOCAB_CERT, B), .required = B,
        ARG("--cert-file", VOCAB_CONV_CERT_FILE),
        .help = "a root CA certificate, base64 DER (.cer)"},

    /* frontendPorts */
    {P(FP, "port", VOCAB_INT, B), .min = 1, .max = 65535, .required = B,
        .code = PORT_CODE, ARG("--port", VAL), .help = "the port"},

    /* backendAddressPools */
    {P(POOL, "backendAddresses", VOCAB_OBJECT_LIST, B),
        ARG("--servers", VOCAB_CONV_SERVERS),
        .help = "members: IPv4 addresses become ipAddress, the rest fqdn"},
    {P(POOL, "backendAddresses.ipAddress", VOCAB_STRING, B),
        .help = "a member's IP address"},
    {P(POOL, "backendAddresses.fqdn", VOCAB_STRING, B),
        .help = "a member's FQDN"},

    /* backendHttpSettingsCollection */
    {P(HS, "port", VOCAB_INT, B), .min = 1, .max = 65535, .required = B,
        .arg_def = "80", .code = PORT_CODE, ARG("--port", VAL),
        .help = "the backend port"},
    {P(HS, "protocol", VOCAB_ENUM, B), .values = protocols, .def = "Http",
        ARG("--protocol", VAL), .help = "Http or Https to the backend"},
    {P(HS, "cookieBasedAffinity", VOCAB_ENUM, B), .values = affinity,
        .def = "Disabled", ARG("--cookie-based-affinity", VAL),
        .help = "cookie based session affinity"},
    {P(HS, "affinityCookieName", VOCAB_STRING, B),
        .def = "ApplicationGatewayAffinity", ARG("--affinity-cookie-name", VAL),
        .help = "the affinity cookie's name"},
    {P(HS, "requestTimeout", VOCAB_INT, B), .min = 1, .max = 86400, .def = "20",
        ARG("--timeout", VAL), .help = "request timeout in seconds"},
    {P(HS, "hostName", VOCAB_STRING, B), ARG("--host-name", VAL),
        .help = "Host header (and v2 SNI) sent to the backend"},
    {P(HS, "pickHostNameFromBackendAddress", VOCAB_BOOL, B), .def = "false",
        ARG("--host-name-from-backend-pool", VAL),
        .help = "use the member's FQDN as the host name"},
    {P(HS, "probe", VOCAB_REF, B), .ref = PROBE, ARG("--probe", VOCAB_CONV_REF),
        .help = "the custom probe"},
    {P(HS, "probeEnabled", VOCAB_BOOL, B), .def = "true",
        ARG("--enable-probe", VAL), .help = "probe the members"},
    {P(HS, "path", VOCAB_STRING, B), ARG("--path", VAL),
        .help = "path prefix that replaces the request's"},
    {P(HS, AUTH, VOCAB_REF_LIST, V1), .ref = AUTH, .max = 100,
        .feature = "AuthenticationCertificates",
        ARG("--auth-certs", VOCAB_CONV_REF_LIST),
        .help = "v1: allow-listed backend certificates"},
    {P(HS, ROOT, VOCAB_REF_LIST, V2), .ref = ROOT, .max = 100,
        .feature = "TrustedRootCertificates",
        ARG("--root-certs", VOCAB_CONV_REF_LIST),
        .help = "v2: trusted root certificates"},
    {P(HS, "connectionDraining", VOCAB_OBJECT, B),
        .help = "connection draining"},
    {P(HS, "connectionDraining.enabled", VOCAB_BOOL, B), .def = "false",
        .help = "drain removed members"},
    {P(HS, "connectionDraining.drainTimeoutInSec", VOCAB_INT, B), .min = 1,
        .max = 3600, .def = "1",
        ARG("--connection-draining-timeout", VOCAB_CONV_DRAIN),
        .help = "drain timeout in seconds (0 on the command line "
                "disables draining)"},
    {P(HS, "validateCertChainAndExpiry", VOCAB_BOOL, V2),
        .off_sku = VOCAB_OFF_WARN, .def = "true",
        ARG("--validate-cert-chain-and-expiry", VAL),
        .help = "v2: check the chain and the dates"},
    {P(HS, "validateSNI", VOCAB_BOOL, V2), .off_sku = VOCAB_OFF_WARN,
        .def = "true", ARG("--validate-sni", VAL),
        .help = "v2: check the leaf's name against the SNI"},
    {P(HS, "sniName", VOCAB_STRING, V2), .off_sku = VOCAB_OFF_WARN,
        ARG("--sni-name", VAL), .help = "v2: the SNI to send"},

    /* probes */
    {P(PROBE, "protocol", VOCAB_ENUM, B), .values = protocols, .required = B,
        ARG("--protocol", VAL), .help = "Http or Https"},
    {P(PROBE, "host", VOCAB_STRING, B), ARG("--host", VAL),
        .help = "Host header (and SNI) of the probe"},
    {P(PROBE, "path", VOCAB_STRING, B), .def = "/", ARG("--path", VAL),
        .help = "the path probed"},
    {P(PROBE, "interval", VOCAB_INT, B), .min = 1, .max = 86400, .def = "30",
        ARG("--interval", VAL), .help = "seconds between probes"},
    {P(PROBE, "timeout", VOCAB_INT, B), .min = 1, .max = 86400, .def = "30",
        .arg_def = "120", ARG("--timeout", VAL),
        .help = "probe timeout in seconds"},
    {P(PROBE, "unhealthyThreshold", VOCAB_INT, B), .min = 1, .max = 20,
        .def = "3", .arg_def = "8", ARG("--threshold", VAL),
        .help = "failures that make a member unhealthy"},
    {P(PROBE, "pickHostNameFromBackendHttpSettings", VOCAB_BOOL, B),
        .def = "false", ARG("--host-name-from-http-settings", VAL),
        .help = "take the host from the HTTP setting"},
    {P(PROBE, "minServers", VOCAB_INT, B), .min = 0, .max = 10000, .def = "0",
        ARG("--min-servers", VAL), .help = "members always marked healthy"},
    {P(PROBE, "port", VOCAB_INT, V2), .min = 1, .max = 65535,
        .feature = "ProbePort", .code = PORT_CODE, ARG("--port", VAL),
        .help = "v2: the port probed (default: the setting's)"},
    {P(PROBE, "match", VOCAB_OBJECT, B), .help = "what a healthy "
                                                 "answer is"},
    {P(PROBE, "match.statusCodes", VOCAB_STRING_LIST, B),
        ARG("--match-status-codes", VOCAB_CONV_LIST),
        .help = "healthy status codes: \"200-399\" ranges (100..599); "
                "default 200-399"},
    {P(PROBE, "match.body", VOCAB_STRING, B), ARG("--match-body", VAL),
        .help = "a substring the body must contain"},

    /* httpListeners */
    {P(LSN, "frontendIPConfiguration", VOCAB_REF, B), .ref = FIP,
        ARG("--frontend-ip", VOCAB_CONV_REF),
        .help = "the frontend IP configuration"},
    {P(LSN, "frontendPort", VOCAB_REF, B), .ref = FP, .required = B,
        ARG("--frontend-port", VOCAB_CONV_REF), .help = "the frontend port"},
    {P(LSN, "protocol", VOCAB_ENUM, B), .values = protocols, .def = "Http",
        .help = "Http, or Https with an SSL certificate"},
    {P(LSN, "hostName", VOCAB_STRING, B), ARG("--host-name", VAL),
        .help = "multi-site: the host name matched"},
    {P(LSN, "hostNames", VOCAB_STRING_LIST, B), .max = 5,
        ARG("--host-names", VOCAB_CONV_LIST),
        .help = "multi-site: up to 5 host names (wildcards allowed)"},
    {P(LSN, "sslCertificate", VOCAB_REF, B), .ref = SSL,
        ARG("--ssl-cert", VOCAB_CONV_REF),
        .help = "the certificate of an Https listener"},
    {P(LSN, "requireServerNameIndication", VOCAB_BOOL, B), .def = "false",
        .help = "refuse clients without SNI"},

    /* requestRoutingRules */
    {P(RULE, "ruleType", VOCAB_ENUM, B), .values = rule_types, .def = "Basic",
        ARG("--rule-type", VAL), .help = "Basic or PathBasedRouting"},
    {P(RULE, "priority", VOCAB_INT, V2), .off_sku = VOCAB_OFF_WARN, .min = 1,
        .max = 20000, .required = V2, ARG("--priority", VAL),
        .help = "v2: 1..20000, unique, lower first (not used on v1)"},
    {P(RULE, "httpListener", VOCAB_REF, B), .ref = LSN, .required = B,
        ARG("--http-listener", VOCAB_CONV_REF), .help = "the listener"},
    {P(RULE, "backendAddressPool", VOCAB_REF, B), .ref = POOL,
        ARG("--address-pool", VOCAB_CONV_REF), .help = "Basic: the pool"},
    {P(RULE, "backendHttpSettings", VOCAB_REF, B), .ref = HS,
        ARG("--http-settings", VOCAB_CONV_REF),
        .help = "Basic: the HTTP setting"},
    {P(RULE, "urlPathMap", VOCAB_REF, B), .ref = MAP,
        ARG("--url-path-map", VOCAB_CONV_REF),
        .help = "PathBasedRouting: the URL path map"},

    /* urlPathMaps */
    {P(MAP, "defaultBackendAddressPool", VOCAB_REF, B), .ref = POOL,
        .required = B, ARG("--default-address-pool", VOCAB_CONV_REF),
        .help = "the pool when no path matches"},
    {P(MAP, "defaultBackendHttpSettings", VOCAB_REF, B), .ref = HS,
        .required = B, ARG("--default-http-settings", VOCAB_CONV_REF),
        .help = "the HTTP setting when no path matches"},
    {P(MAP, PR, VOCAB_OBJECT_LIST, B), .help = "the path rules"},

    /* pathRules */
    {P(PR, "paths", VOCAB_STRING_LIST, B), .required = B,
        ARG("--paths", VOCAB_CONV_LIST),
        .help = "paths: \"/exact\" or \"/prefix/*\""},
    {P(PR, "backendAddressPool", VOCAB_REF, B), .ref = POOL, .required = B,
        ARG("--address-pool", VOCAB_CONV_REF), .help = "the pool"},
    {P(PR, "backendHttpSettings", VOCAB_REF, B), .ref = HS, .required = B,
        ARG("--http-settings", VOCAB_CONV_REF), .help = "the HTTP setting"},
};

#define NCOLLECTIONS (sizeof(collections) / sizeof(collections[0]))
#define NPROPS       (sizeof(props) / sizeof(props[0]))

size_t
vocab_collection_count(void)
{
	return NCOLLECTIONS;
}

const struct vocab_collection *
vocab_collection_at(size_t i)
{
	return i < NCOLLECTIONS ? &collections[i] : NULL;
}

const struct vocab_collection *
vocab_collection(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < NCOLLECTIONS; i++)
		if (strcmp(collections[i].name, name) == 0)
			return &collections[i];
	return NULL;
}

const struct vocab_collection *
vocab_collection_by_group(const char *group)
{
	size_t i;

	for (i = 0; group != NULL && i < NCOLLECTIONS; i++)
		if (collections[i].group != NULL &&
		    strcmp(collections[i].group, group) == 0)
			return &collections[i];
	return NULL;
}

const struct vocab_collection *
vocab_collection_by_singular(const char *singular)
{
	size_t i;

	for (i = 0; singular != NULL && i < NCOLLECTIONS; i++)
		if (collections[i].singular != NULL &&
		    strcmp(collections[i].singular, singular) == 0)
			return &collections[i];
	return NULL;
}

const struct vocab_prop *
vocab_prop(const char *collection, const char *name)
{
	size_t i;

	if (collection == NULL || name == NULL)
		return NULL;
	for (i = 0; i < NPROPS; i++)
		if (strcmp(props[i].collection, collection) == 0 &&
		    strcmp(props[i].name, name) == 0)
			return &props[i];
	return NULL;
}

const struct vocab_prop *
vocab_prop_by_arg(const char *collection, const char *arg)
{
	size_t i;

	if (collection == NULL || arg == NULL)
		return NULL;
	while (*arg == '-')
		arg++;
	for (i = 0; i < NPROPS; i++)
		if (props[i].arg != NULL &&
		    strcmp(props[i].collection, collection) == 0 &&
		    strcmp(props[i].arg + 2, arg) == 0)
			return &props[i];
	return NULL;
}

const struct vocab_prop *
vocab_prop_next(const char *collection, const struct vocab_prop *prev)
{
	size_t i = prev == NULL ? 0 : (size_t)(prev - props) + 1;

	for (; i < NPROPS; i++)
		if (collection == NULL ||
		    strcmp(props[i].collection, collection) == 0)
			return &props[i];
	return NULL;
}

const char *
vocab_type_name(enum vocab_type t)
{
	switch (t) {
	case VOCAB_STRING:
		return "string";
	case VOCAB_INT:
		return "int";
	case VOCAB_BOOL:
		return "bool";
	case VOCAB_ENUM:
		return "enum";
	case VOCAB_REF:
		return "reference";
	case VOCAB_REF_LIST:
		return "reference list";
	case VOCAB_STRING_LIST:
		return "string list";
	case VOCAB_CERT:
		return "certificate";
	case VOCAB_PFX:
		return "pfx";
	case VOCAB_OBJECT:
		return "object";
	case VOCAB_OBJECT_LIST:
		return "object list";
	}
	return "?";
}

const char *
vocab_skus_name(unsigned skus)
{
	switch (skus & VOCAB_SKU_BOTH) {
	case VOCAB_SKU_V1:
		return "v1";
	case VOCAB_SKU_V2:
		return "v2";
	case VOCAB_SKU_BOTH:
		return "v1,v2";
	}
	return "";
}

const char *
vocab_sku_tiers(unsigned skus)
{
	switch (skus & VOCAB_SKU_BOTH) {
	case VOCAB_SKU_V1:
		return "Standard,WAF";
	case VOCAB_SKU_V2:
		return "Standard_v2,WAF_v2";
	case VOCAB_SKU_BOTH:
		return "Standard,WAF,Standard_v2,WAF_v2";
	}
	return "";
}

/* Write "a, b, c" of a NULL-terminated list into buf. */
static void
vocab_join(const char *const *values, char *buf, size_t len)
{
	size_t used = 0;
	int n;

	buf[0] = '\0';
	for (; values != NULL && *values != NULL; values++) {
		n = snprintf(buf + used, len - used, "%s%s",
		    used > 0 ? ", " : "", *values);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
}

static int
vocab_check_count(
    const struct vocab_prop *p, size_t n, char *err, size_t errlen)
{
	if (p->max > 0 && ((long)n < p->min || (long)n > p->max)) {
		snprintf(err, errlen, "must have at most %ld entries, not %zu",
		    p->max, n);
		return -2;
	}
	return 0;
}

static int
vocab_check_ref(const json_t *v)
{
	return json_is_string(v) ||
	       (json_is_object(v) && json_is_string(json_object_get(v, "id")));
}

int
vocab_check(
    const struct vocab_prop *p, const json_t *v, char *err, size_t errlen)
{
	char list[256];
	const char *const *e;
	json_int_t i;
	size_t k;

	switch (p->type) {
	case VOCAB_STRING:
	case VOCAB_CERT:
	case VOCAB_PFX:
		if (!json_is_string(v))
			goto type;
		return 0;
	case VOCAB_INT:
		if (!json_is_integer(v))
			goto type;
		i = json_integer_value(v);
		if (i < p->min || i > p->max) {
			snprintf(err, errlen,
			    "must be between %ld and %ld, not %lld", p->min,
			    p->max, (long long)i);
			return -2;
		}
		return 0;
	case VOCAB_BOOL:
		if (!json_is_boolean(v))
			goto type;
		return 0;
	case VOCAB_ENUM:
		if (!json_is_string(v))
			goto type;
		for (e = p->values; e != NULL && *e != NULL; e++)
			if (strcmp(*e, json_string_value(v)) == 0)
				return 0;
		vocab_join(p->values, list, sizeof(list));
		snprintf(err, errlen, "must be one of %s, not \"%s\"", list,
		    json_string_value(v));
		return -2;
	case VOCAB_REF:
		if (!vocab_check_ref(v))
			goto type;
		return 0;
	case VOCAB_REF_LIST:
	case VOCAB_STRING_LIST:
	case VOCAB_OBJECT_LIST:
		if (!json_is_array(v))
			goto type;
		for (k = 0; k < json_array_size(v); k++) {
			const json_t *it = json_array_get(v, k);

			if ((p->type == VOCAB_REF_LIST &&
			        !vocab_check_ref(it)) ||
			    (p->type == VOCAB_STRING_LIST &&
			        !json_is_string(it)) ||
			    (p->type == VOCAB_OBJECT_LIST &&
			        !json_is_object(it))) {
				snprintf(err, errlen, "entry %zu must be %s", k,
				    p->type == VOCAB_STRING_LIST ? "a string"
				    : p->type == VOCAB_OBJECT_LIST
				        ? "an object"
				        : "a reference ({\"id\": ...} or a "
				          "name)");
				return -1;
			}
		}
		return vocab_check_count(p, json_array_size(v), err, errlen);
	case VOCAB_OBJECT:
		if (!json_is_object(v))
			goto type;
		return 0;
	}
type:
	switch (p->type) {
	case VOCAB_INT:
		snprintf(err, errlen, "must be an integer");
		break;
	case VOCAB_BOOL:
		snprintf(err, errlen, "must be true or false");
		break;
	case VOCAB_REF:
		snprintf(err, errlen,
		    "must be a reference ({\"id\": ...} or a name)");
		break;
	case VOCAB_REF_LIST:
	case VOCAB_STRING_LIST:
	case VOCAB_OBJECT_LIST:
		snprintf(err, errlen, "must be an array");
		break;
	case VOCAB_OBJECT:
		snprintf(err, errlen, "must be an object");
		break;
	default:
		snprintf(err, errlen, "must be a string");
		break;
	}
	return -1;
}

/* A value of the property's type from text; NULL when it does not parse
 * (err says why, without naming the property). */
static json_t *
vocab_parse(
    const struct vocab_prop *p, const char *text, char *err, size_t errlen)
{
	const char *const *e;
	char list[256];
	char *end;
	long v;

	switch (p->type) {
	case VOCAB_INT:
		errno = 0;
		v = strtol(text, &end, 10);
		if (errno != 0 || end == text || *end != '\0') {
			snprintf(err, errlen, "\"%s\" is not an integer", text);
			return NULL;
		}
		if (v < p->min || v > p->max) {
			snprintf(err, errlen,
			    "must be between %ld and %ld, not "
			    "%ld",
			    p->min, p->max, v);
			return NULL;
		}
		return json_integer(v);
	case VOCAB_BOOL:
		if (strcasecmp(text, "true") == 0)
			return json_true();
		if (strcasecmp(text, "false") == 0)
			return json_false();
		snprintf(
		    err, errlen, "must be true or false, not \"%s\"", text);
		return NULL;
	case VOCAB_ENUM:
		for (e = p->values; e != NULL && *e != NULL; e++)
			if (strcasecmp(*e, text) == 0)
				return json_string(*e);
		vocab_join(p->values, list, sizeof(list));
		snprintf(
		    err, errlen, "must be one of %s, not \"%s\"", list, text);
		return NULL;
	default:
		return json_string(text);
	}
}

json_t *
vocab_default_json(const struct vocab_prop *p, int az)
{
	const char *def = az && p->arg_def != NULL ? p->arg_def : p->def;
	char err[256];

	if (def == NULL)
		return NULL;
	return vocab_parse(p, def, err, sizeof(err));
}

json_t *
vocab_value_from_text(
    const struct vocab_prop *p, const char *text, char *err, size_t errlen)
{
	char why[384];
	json_t *v;

	if ((v = vocab_parse(p, text, why, sizeof(why))) == NULL)
		snprintf(err, errlen, "%s: %s",
		    p->arg != NULL ? p->arg : p->name, why);
	return v;
}
