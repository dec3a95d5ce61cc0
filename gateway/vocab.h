/*
 * vocab: the configuration vocabulary of Microsoft.Network/applicationGateways
 * as agw-lab models it. One table of collections and one table of
 * properties: ARM name, JSON type, default, range or enum values, which SKUs
 * allow it, whether it is required, and the az argument that sets it with
 * the conversion of its value.
 *
 * The gateway's loader (config.c) does every type, range, enum, SKU and
 * default check through this table, and the agw command line maps az
 * arguments to properties and prints --help from it, so the two cannot
 * drift. The tables are static and immutable; every pointer returned here
 * points into them (never free it).
 *
 * Naming:
 *  - A collection is named by its ARM property
 * ("backendHttpSettingsCollection"). The gateway itself is the pseudo
 * collection "applicationGateways" (its properties are sku.*). Path rules are
 * the nested collection "pathRules" whose parent is "urlPathMaps".
 *  - A property is named relative to an entry's "properties" object; nested
 *    ones by dotted names ("connectionDraining.enabled",
 *    "match.statusCodes", "sku.tier", "backendAddresses.fqdn").
 */
#ifndef AGW_VOCAB_H
#define AGW_VOCAB_H

#include <stddef.h>
#include <jansson.h>

/* JSON type of a property's value. */
enum vocab_type {
	VOCAB_STRING,      /* JSON string */
	VOCAB_INT,         /* JSON integer, within [min, max] */
	VOCAB_BOOL,        /* JSON true/false */
	VOCAB_ENUM,        /* JSON string, one of values[] (exact case) */
	VOCAB_REF,         /* {"id": ".../<ref collection>/<name>"} or a name */
	VOCAB_REF_LIST,    /* array of VOCAB_REF */
	VOCAB_STRING_LIST, /* array of strings */
	VOCAB_CERT,        /* base64 DER certificate (PEM text accepted) */
	VOCAB_PFX,         /* base64 PKCS#12 (with "password") */
	VOCAB_OBJECT,      /* a JSON object (its members are dotted props) */
	VOCAB_OBJECT_LIST  /* array of objects (members are dotted props) */
};

/* SKU masks (a property's skus and required fields). */
#define VOCAB_SKU_V1   0x1u
#define VOCAB_SKU_V2   0x2u
#define VOCAB_SKU_BOTH (VOCAB_SKU_V1 | VOCAB_SKU_V2)

/* What the loader does with a property set on a SKU that does not allow it. */
enum vocab_off_sku {
	VOCAB_OFF_ERROR, /* error
	                    ApplicationGatewayFeatureCannotBeEnabledForSelectedSku
	                  */
	VOCAB_OFF_WARN   /* accepted, ignored, one warning ("not used") */
};

/* How an az argument's text becomes the property's JSON value. */
enum vocab_conv {
	VOCAB_CONV_NONE,      /* no az argument */
	VOCAB_CONV_VALUE,     /* one value by the type: int, bool
	                       * ("true"/"false", case-insensitive), enum
	                       * (case-insensitive, stored canonical), string */
	VOCAB_CONV_LIST,      /* space-separated values -> array of strings */
	VOCAB_CONV_REF,       /* a name -> {"id": ".../<ref>/<name>"} */
	VOCAB_CONV_REF_LIST,  /* names -> [{"id": ...}, ...] */
	VOCAB_CONV_SERVERS,   /* addresses -> [{"ipAddress"}|{"fqdn"}]: a dotted
	                       * IPv4 literal is ipAddress, anything else fqdn */
	VOCAB_CONV_CERT_FILE, /* a .cer/.pem file -> base64 DER */
	VOCAB_CONV_PFX_FILE,  /* a .pfx file -> base64 of its bytes */
	VOCAB_CONV_DRAIN      /* --connection-draining-timeout N: sets
	                       * drainTimeoutInSec = N and enabled = (N > 0) */
};

/* One collection of the resource. */
struct vocab_collection {
	const char *name;     /* ARM name and id segment: "httpListeners" */
	const char *group;    /* az group: "http-listener"; "" for the
	                       * gateway itself; NULL when az has none */
	const char *singular; /* the property that references one entry:
	                       * "httpListener"; NULL when not referenced */
	const char *parent;   /* "urlPathMaps" for pathRules, else NULL */
	int modelled;         /* 0: entries are kept as names only
	                       * (frontendIPConfigurations) */
	const char *help;     /* one line */
};

/* One property of an entry of a collection. */
struct vocab_prop {
	const char *collection; /* owning collection's ARM name */
	const char *name;       /* relative to "properties"; dotted if nested */
	enum vocab_type type;
	const char *ref;     /* REF/REF_LIST: target collection, else NULL */
	const char *def;     /* loader default as text ("20", "true",
	                      * "ApplicationGatewayAffinity"), NULL: none */
	const char *arg_def; /* az create default when it differs from
	                      * def (probe --timeout 120), else NULL */
	long min, max;       /* INT: inclusive range */
	const char *const *values;  /* ENUM: NULL-terminated, canonical case */
	unsigned skus;              /* VOCAB_SKU_* that allow it */
	enum vocab_off_sku off_sku; /* what other SKUs get */
	const char *feature;        /* off-SKU error text's feature name
	                             * ("AuthenticationCertificates") or NULL */
	unsigned required;          /* VOCAB_SKU_* on which it is required */
	const char *code; /* service code for a range/enum error, or NULL */
	const char *arg;  /* az argument: "--timeout", or NULL */
	enum vocab_conv conv;
	const char *help; /* one line for --help */
};

/* Number of collections; vocab_collection_at(i) for i < that, table order
 * (the gateway first, then the order of spec section 7). */
size_t vocab_collection_count(void);
const struct vocab_collection *vocab_collection_at(size_t i);

/* The collection with that ARM name ("probes"), or NULL. */
const struct vocab_collection *vocab_collection(const char *name);
/* The collection with that az group name ("http-settings"), or NULL. */
const struct vocab_collection *vocab_collection_by_group(const char *group);
/* The collection a reference property points at, by the singular
 * ("backendHttpSettings" -> backendHttpSettingsCollection), or NULL. */
const struct vocab_collection *vocab_collection_by_singular(
    const char *singular);

/* The property name (dotted) of a collection, or NULL. */
const struct vocab_prop *vocab_prop(const char *collection, const char *name);
/* The property of a collection set by an az argument ("--timeout"; the
 * leading dashes may be left out), or NULL. */
const struct vocab_prop *vocab_prop_by_arg(
    const char *collection, const char *arg);
/*
 * Iterate the properties of one collection in table order: pass NULL to get
 * the first, then the previous one; NULL at the end. collection NULL
 * iterates every property of every collection.
 */
const struct vocab_prop *vocab_prop_next(
    const char *collection, const struct vocab_prop *prev);

/* "string", "int", "bool", "enum", "reference", "reference list",
 * "string list", "certificate", "pfx", "object", "object list". */
const char *vocab_type_name(enum vocab_type t);
/* "v1", "v2" or "v1,v2" for a SKU mask. */
const char *vocab_skus_name(unsigned skus);

/*
 * Check a JSON value against the property: type, INT range, ENUM values.
 * (SKU, REF resolution and certificate decoding are the loader's.) Returns
 * 0; -1 for a wrong JSON type ("must be an integer"); -2 for a value out of
 * range or not allowed ("must be between 1 and 86400, not 0", "must be one
 * of Http, Https, not \"Ftp\"", "must have at most 100 entries, not 101").
 * The sentence goes to err. Lists (REF_LIST, STRING_LIST, OBJECT_LIST)
 * check their item count against [min, max] when max > 0.
 */
int vocab_check(
    const struct vocab_prop *p, const json_t *v, char *err, size_t errlen);

/* The property's loader default as a new JSON value (caller decrefs), or
 * NULL when it has none. With az set, arg_def wins when there is one. */
json_t *vocab_default_json(const struct vocab_prop *p, int az);

/*
 * Convert one az value text to the property's JSON value for
 * VOCAB_CONV_VALUE (int parsed and range-checked, bool, enum matched
 * case-insensitively and returned in canonical case, string). Returns a new
 * value (caller decrefs), or NULL with err set, naming the argument.
 */
json_t *vocab_value_from_text(
    const struct vocab_prop *p, const char *text, char *err, size_t errlen);

/* The SKU tier list of a mask as the service prints it in
 * ApplicationGatewayFeatureCannotBeEnabledForSelectedSku:
 * "Standard,WAF" (v1), "Standard_v2,WAF_v2" (v2). */
const char *vocab_sku_tiers(unsigned skus);

#endif
