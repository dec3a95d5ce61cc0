/*
 * test_config: loading the ARM resource in both shapes, references,
 * defaults, the v2 priority order, and every validation error with its
 * JSON path and service code. Certificates are minted in memory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "config.h"
#include "jsonio.h"
#include "tls.h"

#define FIXTURES "fixtures/gateways/"
#define FEATURE  "ApplicationGatewayFeatureCannotBeEnabledForSelectedSku"

/* ------------------------------------------------------------- helpers */

static json_t *
fixture(const char *name)
{
	char path[256], err[512];
	json_t *doc;

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	doc = jsonio_load_file(path, err, sizeof(err));
	if (doc == NULL)
		fail_msg("%s", err);
	return doc;
}

/* Walk one "name" or "name[i]" step; NULL when absent. */
static json_t *
doc_step(json_t *cur, char *tok)
{
	char *br = strchr(tok, '[');

	if (br == NULL)
		return json_object_get(cur, tok);
	*br = '\0';
	cur = json_object_get(cur, tok);
	return json_array_get(cur, strtoul(br + 1, NULL, 10));
}

/* Set the member at "a.b[0].c" to v (stolen), or delete it when v is NULL.
 * A last step "list[n]" with n == size appends. */
static void
doc_set(json_t *doc, const char *path, json_t *v)
{
	char buf[512], *last, *tok, *br;
	json_t *cur = doc, *arr;
	size_t i;

	snprintf(buf, sizeof(buf), "%s", path);
	last = strrchr(buf, '.');
	if (last != NULL) {
		*last++ = '\0';
		for (tok = strtok(buf, "."); tok != NULL;
		     tok = strtok(NULL, "."))
			if ((cur = doc_step(cur, tok)) == NULL)
				fail_msg("no %s in %s", tok, path);
	} else
		last = buf;
	if ((br = strchr(last, '[')) == NULL) {
		if (v != NULL)
			json_object_set_new(cur, last, v);
		else
			json_object_del(cur, last);
		return;
	}
	*br = '\0';
	arr = json_object_get(cur, last);
	i = strtoul(br + 1, NULL, 10);
	if (v == NULL)
		json_array_remove(arr, i);
	else if (i == json_array_size(arr))
		json_array_append_new(arr, v);
	else
		json_array_set_new(arr, i, v);
}

static json_t *
ref(const char *coll, const char *name)
{
	char id[512];

	snprintf(id, sizeof(id),
	    "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/"
	    "applicationGateways/gw/%s/%s",
	    coll, name);
	return json_pack("{s:s}", "id", id);
}

/* Load a document; the errors are kept for the caller. */
static struct config *
load(json_t *doc, struct config_errors *errs)
{
	struct config *c = config_load_json(doc, "test.json", errs);

	json_decref(doc);
	return c;
}

static void
dump_errors(const struct config_errors *errs)
{
	char line[1024];
	size_t i;

	for (i = 0; i < errs->n; i++)
		print_message("  %s\n",
		    config_error_str(&errs->v[i], line, sizeof(line)));
}

/* Assert that errs holds an error at path, with code (NULL: none) and a
 * message containing text. */
static void
assert_error(const struct config_errors *errs, const char *path,
    const char *code, const char *text)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		if (strcmp(errs->v[i].path, path) == 0 &&
		    strcmp(errs->v[i].code, code != NULL ? code : "") == 0 &&
		    strstr(errs->v[i].message, text) != NULL)
			return;
	dump_errors(errs);
	fail_msg("no error %s: %s: %s", path, code ? code : "", text);
}

/* Load doc, expect it refused with that error. */
static void
expect_error(json_t *doc, const char *path, const char *code, const char *text)
{
	struct config_errors errs = {0};
	struct config *c = load(doc, &errs);

	if (c != NULL)
		fail_msg("loaded, expected %s: %s", path, text);
	assert_error(&errs, path, code, text);
	config_errors_clear(&errs);
}

static struct config *
expect_ok(json_t *doc)
{
	struct config_errors errs = {0};
	struct config *c = load(doc, &errs);

	if (c == NULL) {
		dump_errors(&errs);
		fail_msg("refused");
	}
	config_errors_clear(&errs);
	return c;
}

/* A self-signed certificate and its key. */
static X509 *
mint(EVP_PKEY **keyp)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_get_subject_name(x);

	assert_non_null(key);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"test.agw", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, key);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	*keyp = key;
	return x;
}

/* base64 DER of a fresh certificate. */
static json_t *
mint_cert_b64(void)
{
	unsigned char *der = NULL;
	EVP_PKEY *key;
	X509 *x = mint(&key);
	int len = i2d_X509(x, &der);
	char *b64 = tls_b64_encode(der, (size_t)len);
	json_t *s = json_string(b64);

	free(b64);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(key);
	return s;
}

/* base64 PFX of a fresh certificate and key. */
static json_t *
mint_pfx_b64(const char *password)
{
	unsigned char *der = NULL;
	EVP_PKEY *key;
	X509 *x = mint(&key);
	PKCS12 *p12 = PKCS12_create(password, "t", key, x, NULL, 0, 0, 0, 0, 0);
	int len;
	char *b64;
	json_t *s;

	assert_non_null(p12);
	len = i2d_PKCS12(p12, &der);
	b64 = tls_b64_encode(der, (size_t)len);
	s = json_string(b64);
	free(b64);
	OPENSSL_free(der);
	PKCS12_free(p12);
	X509_free(x);
	EVP_PKEY_free(key);
	return s;
}

/* Two models are equal (what the data path sees). */
static void
assert_models_equal(const struct config *a, const struct config *b)
{
	size_t i, j;

	assert_int_equal(a->sku, b->sku);
	assert_string_equal(a->sku_name, b->sku_name);
	assert_string_equal(a->sku_tier, b->sku_tier);
	assert_int_equal(a->nauth_certs, b->nauth_certs);
	for (i = 0; i < a->nauth_certs; i++)
		assert_int_equal(
		    X509_cmp(a->auth_certs[i].cert, b->auth_certs[i].cert), 0);
	assert_int_equal(a->ntrusted_roots, b->ntrusted_roots);
	assert_int_equal(a->nfrontend_ports, b->nfrontend_ports);
	for (i = 0; i < a->nfrontend_ports; i++)
		assert_int_equal(
		    a->frontend_ports[i].port, b->frontend_ports[i].port);
	assert_int_equal(a->npools, b->npools);
	for (i = 0; i < a->npools; i++) {
		assert_string_equal(a->pools[i].name, b->pools[i].name);
		assert_int_equal(a->pools[i].nmembers, b->pools[i].nmembers);
		for (j = 0; j < a->pools[i].nmembers; j++) {
			assert_int_equal(a->pools[i].members[j].kind,
			    b->pools[i].members[j].kind);
			assert_string_equal(a->pools[i].members[j].address,
			    b->pools[i].members[j].address);
		}
	}
	assert_int_equal(a->nsettings, b->nsettings);
	for (i = 0; i < a->nsettings; i++) {
		const struct config_settings *x = &a->settings[i],
		                             *y = &b->settings[i];

		assert_string_equal(x->name, y->name);
		assert_int_equal(x->port, y->port);
		assert_int_equal(x->protocol, y->protocol);
		assert_int_equal(x->request_timeout, y->request_timeout);
		assert_int_equal(x->probe, y->probe);
		assert_int_equal(
		    x->pick_host_from_backend, y->pick_host_from_backend);
		assert_int_equal(x->nauth_certs, y->nauth_certs);
		assert_int_equal(x->ntrusted_roots, y->ntrusted_roots);
	}
	assert_int_equal(a->nprobes, b->nprobes);
	assert_int_equal(a->nlisteners, b->nlisteners);
	for (i = 0; i < a->nlisteners; i++) {
		assert_string_equal(a->listeners[i].name, b->listeners[i].name);
		assert_int_equal(a->listeners[i].frontend_port,
		    b->listeners[i].frontend_port);
		assert_int_equal(
		    a->listeners[i].nhost_names, b->listeners[i].nhost_names);
	}
	assert_int_equal(a->nrules, b->nrules);
	for (i = 0; i < a->nrules; i++) {
		assert_string_equal(a->rules[i].name, b->rules[i].name);
		assert_int_equal(a->rules[i].type, b->rules[i].type);
		assert_int_equal(a->rules[i].priority, b->rules[i].priority);
		assert_int_equal(a->rules[i].listener, b->rules[i].listener);
		assert_int_equal(a->rules[i].pool, b->rules[i].pool);
		assert_int_equal(a->rules[i].settings, b->rules[i].settings);
		assert_int_equal(a->rules[i].path_map, b->rules[i].path_map);
	}
	assert_int_equal(a->npath_maps, b->npath_maps);
	for (i = 0; i < a->npath_maps; i++) {
		assert_int_equal(
		    a->path_maps[i].nrules, b->path_maps[i].nrules);
		assert_int_equal(
		    a->path_maps[i].default_pool, b->path_maps[i].default_pool);
	}
}

static void
shapes_equal(const char *base)
{
	char arm[128], show[128];
	struct config *a, *b;

	snprintf(arm, sizeof(arm), "%s.arm.json", base);
	snprintf(show, sizeof(show), "%s.show.json", base);
	a = expect_ok(fixture(arm));
	b = expect_ok(fixture(show));
	assert_false(a->hoisted);
	assert_true(b->hoisted);
	assert_models_equal(a, b);
	config_unref(a);
	config_unref(b);
}

/* --------------------------------------------------------------- loading */

static void
test_config_shapes_equal_v1(void **state)
{
	(void)state;
	shapes_equal("v1");
}

static void
test_config_shapes_equal_v2(void **state)
{
	(void)state;
	shapes_equal("v2");
}

static void
test_config_shapes_equal_v2_path(void **state)
{
	(void)state;
	shapes_equal("v2-path");
}

static void
test_config_shapes_equal_v2_multisite(void **state)
{
	(void)state;
	shapes_equal("v2-multisite");
}

static void
test_config_v1_model(void **state)
{
	struct config_errors errs = {0};
	struct config *c;

	(void)state;
	c = config_load_file(FIXTURES "v1.arm.json", &errs);
	assert_non_null(c);
	assert_int_equal(c->sku, CONFIG_SKU_V1);
	assert_string_equal(c->name, "gw-v1");
	assert_int_equal(c->pools[0].nmembers, 2);
	assert_int_equal(c->pools[0].members[0].kind, CONFIG_MEMBER_IP);
	assert_string_equal(c->pools[0].members[0].address, "127.0.1.1");
	assert_int_equal(c->pools[0].members[1].kind, CONFIG_MEMBER_FQDN);
	assert_string_equal(c->pools[0].members[1].address, "b2.backend.test");
	assert_int_equal(c->settings[1].protocol, CONFIG_PROTO_HTTPS);
	assert_int_equal(c->settings[1].nauth_certs, 1);
	assert_int_equal(c->settings[1].auth_certs[0], 0);
	assert_non_null(c->auth_certs[0].cert);
	assert_int_equal(c->frontend_ports[0].port, 80);
	assert_int_equal(c->warnings.n, 0);
	config_unref(c);
}

static void
test_config_template_resources(void **state)
{
	struct config *c;

	(void)state;
	c = expect_ok(fixture("v1.template.json"));
	assert_string_equal(c->name, "gw-v1-template");
	assert_int_equal(c->nrules, 1);
	config_unref(c);
}

static void
test_config_template_error_path(void **state)
{
	json_t *doc = fixture("v1.template.json");

	(void)state;
	doc_set(doc, "resources[0].properties.frontendPorts[0].properties.port",
	    json_integer(0));
	expect_error(doc,
	    "resources[0].properties.frontendPorts[0].properties"
	    ".port",
	    "ApplicationGatewayPortNotValidForProtocol", "between 1 and 65535");
}

static void
test_config_not_json(void **state)
{
	struct config_errors errs = {0};
	char path[] = "/tmp/test_config_XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{ nope", 6), 6);
	close(fd);
	assert_null(config_load_file(path, &errs));
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.v[0].message, path));
	unlink(path);
	config_errors_clear(&errs);
}

static void
test_config_unknown_properties_ignored(void **state)
{
	json_t *doc = fixture("v2.arm.json");
	struct config *c;

	(void)state;
	doc_set(doc, "properties.enableHttp2", json_true());
	doc_set(doc,
	    "properties.backendHttpSettingsCollection[0].properties"
	    ".provisioningState",
	    json_string("Succeeded"));
	c = expect_ok(doc);
	config_unref(c);
}

static void
test_config_mixed_shapes(void **state)
{
	json_t *doc = fixture("v2.arm.json");
	struct config *c;

	(void)state;
	doc_set(doc, "properties.frontendPorts[0]",
	    json_pack("{s:s, s:i}", "name", "port80", "port", 8080));
	doc_set(doc,
	    "properties.backendHttpSettingsCollection[0]"
	    ".properties.requestTimeout",
	    json_integer(0));
	expect_error(json_incref(doc),
	    "properties.backendHttpSettings"
	    "Collection[0].properties.requestTimeout",
	    NULL, "not 0");
	doc_set(doc,
	    "properties.backendHttpSettingsCollection[0]"
	    ".properties.requestTimeout",
	    json_integer(5));
	c = expect_ok(doc);
	assert_false(c->hoisted);
	assert_int_equal(c->frontend_ports[0].port, 8080);
	assert_int_equal(c->settings[0].request_timeout, 5);
	config_unref(c);
}

/* ------------------------------------------------------------ references */

static void
test_config_ref_by_bare_name(void **state)
{
	json_t *doc = fixture("v2.arm.json");
	struct config *c;

	(void)state;
	doc_set(doc,
	    "properties.requestRoutingRules[0].properties"
	    ".backendHttpSettings",
	    json_string("http80"));
	doc_set(doc,
	    "properties.requestRoutingRules[0].properties"
	    ".backendAddressPool",
	    json_pack("{s:s}", "id", "pool1"));
	c = expect_ok(doc);
	assert_int_equal(c->rules[0].settings, 0);
	assert_int_equal(c->rules[0].pool, 0);
	config_unref(c);
}

static void
test_config_ref_by_id(void **state)
{
	struct config *c;

	(void)state;
	c = expect_ok(fixture("v2.arm.json"));
	assert_int_equal(c->rules[0].listener, 0);
	assert_int_equal(c->rules[0].settings, 1);
	assert_int_equal(c->settings[1].trusted_roots[0], 0);
	config_unref(c);
}

static void
test_config_ref_template_expression(void **state)
{
	json_t *doc = fixture("v2.arm.json");
	struct config *c;

	(void)state;
	doc_set(doc,
	    "properties.requestRoutingRules[0].properties"
	    ".backendHttpSettings",
	    json_pack("{s:s}", "id",
	        "[resourceId('Microsoft.Network/applicationGateways/"
	        "backendHttpSettingsCollection', parameters('gw'), "
	        "'http80')]"));
	c = expect_ok(doc);
	assert_int_equal(c->rules[0].settings, 0);
	config_unref(c);
}

static void
test_config_dangling_ref_arm(void **state)
{
	json_t *doc = fixture("v2.arm.json");

	(void)state;
	doc_set(doc,
	    "properties.requestRoutingRules[0].properties.httpListener",
	    ref("httpListeners", "l1"));
	expect_error(doc,
	    "properties.requestRoutingRules[0].properties.httpListener.id",
	    NULL, "no httpListeners entry named \"l1\"");
}

static void
test_config_dangling_ref_hoisted(void **state)
{
	json_t *doc = fixture("v2.show.json");

	(void)state;
	doc_set(doc, "requestRoutingRules[0].httpListener",
	    ref("httpListeners", "l1"));
	expect_error(doc, "requestRoutingRules[0].httpListener.id", NULL,
	    "no httpListeners entry named \"l1\"");
}

static void
test_config_ref_wrong_collection(void **state)
{
	json_t *doc = fixture("v2.arm.json");

	(void)state;
	doc_set(doc,
	    "properties.requestRoutingRules[0].properties.httpListener",
	    ref("backendAddressPools", "pool1"));
	expect_error(doc,
	    "properties.requestRoutingRules[0].properties.httpListener.id",
	    NULL, "refers to a backendAddressPools entry");
}

static void
test_config_duplicate_name(void **state)
{
	json_t *doc = fixture("v2.show.json");

	(void)state;
	doc_set(
	    doc, "backendAddressPools[1]", json_pack("{s:s}", "name", "pool1"));
	expect_error(doc, "backendAddressPools[1].name", NULL,
	    "duplicate name \"pool1\"");
}

/* -------------------------------------------------------------- defaults */

static void
test_config_defaults(void **state)
{
	json_t *doc = fixture("v2.show.json");
	const struct config_settings *s;
	const struct config_probe *p;
	struct config *c;

	(void)state;
	doc_set(doc, "backendHttpSettingsCollection[0]",
	    json_pack("{s:s, s:i}", "name", "http80", "port", 80));
	doc_set(doc, "probes",
	    json_pack("[{s:s, s:s}]", "name", "p", "protocol", "Http"));
	c = expect_ok(doc);
	s = &c->settings[0];
	assert_int_equal(s->protocol, CONFIG_PROTO_HTTP);
	assert_int_equal(s->request_timeout, 20);
	assert_false(s->cookie_affinity);
	assert_string_equal(s->affinity_cookie, "ApplicationGatewayAffinity");
	assert_true(s->validate_chain);
	assert_true(s->validate_sni);
	assert_true(s->probe_enabled);
	assert_int_equal(s->probe, -1);
	assert_false(s->draining);
	assert_int_equal(s->drain_timeout, 1);
	assert_null(s->host_name);
	p = &c->probes[0];
	assert_string_equal(p->path, "/");
	assert_int_equal(p->interval, 30);
	assert_int_equal(p->timeout, 30);
	assert_int_equal(p->unhealthy_threshold, 3);
	assert_int_equal(p->port, 0);
	assert_int_equal(p->match.nstatus, 1);
	assert_int_equal(p->match.status[0].lo, 200);
	assert_int_equal(p->match.status[0].hi, 399);
	assert_null(p->match.body);
	assert_int_equal(c->listeners[0].ssl_cert, -1);
	assert_int_equal(c->listeners[0].nhost_names, 0);
	config_unref(c);
}

static void
test_config_probe_match_parsed(void **state)
{
	json_t *doc = fixture("v2-path.show.json");
	struct config *c;

	(void)state;
	doc_set(doc, "probes[0].match.statusCodes",
	    json_pack("[s,s]", "200", "301-302"));
	doc_set(doc, "probes[0].match.body", json_string("ok"));
	c = expect_ok(doc);
	assert_int_equal(c->probes[0].match.nstatus, 2);
	assert_int_equal(c->probes[0].match.status[0].lo, 200);
	assert_int_equal(c->probes[0].match.status[0].hi, 200);
	assert_int_equal(c->probes[0].match.status[1].lo, 301);
	assert_int_equal(c->probes[0].match.status[1].hi, 302);
	assert_string_equal(c->probes[0].match.body, "ok");
	assert_true(c->probes[0].pick_host_from_settings);
	config_unref(c);
}

static void
test_config_v2_priority_sort(void **state)
{
	struct config *c;

	(void)state;
	c = expect_ok(fixture("v2-multisite.arm.json"));
	assert_int_equal(c->nrules, 3);
	assert_string_equal(c->rules[0].name, "rule-site-a");
	assert_int_equal(c->rules[0].priority, 10);
	assert_string_equal(c->rules[1].name, "rule-site-b");
	assert_string_equal(c->rules[2].name, "rule1");
	assert_int_equal(c->rules[2].priority, 100);
	config_unref(c);
}

static void
test_config_listener_host_names_merged(void **state)
{
	json_t *doc = fixture("v2-multisite.show.json");
	struct config *c;

	(void)state;
	doc_set(doc, "httpListeners[1].hostName", json_string("c.test"));
	c = expect_ok(doc);
	assert_int_equal(c->listeners[1].nhost_names, 3);
	assert_string_equal(c->listeners[1].host_names[0], "c.test");
	assert_string_equal(c->listeners[1].host_names[2], "*.b.example.test");
	assert_int_equal(c->listeners[0].nhost_names, 1);
	assert_string_equal(c->listeners[0].host_names[0], "a.example.test");
	config_unref(c);
}

static void
test_config_path_map(void **state)
{
	const struct config_path_map *m;
	struct config *c;

	(void)state;
	c = expect_ok(fixture("v2-path.show.json"));
	assert_int_equal(c->rules[0].type, CONFIG_RULE_PATH);
	assert_int_equal(c->rules[0].path_map, 0);
	m = &c->path_maps[0];
	assert_int_equal(m->default_pool, 0);
	assert_int_equal(m->default_settings, 1);
	assert_int_equal(m->nrules, 1);
	assert_string_equal(m->rules[0].paths[0], "/images/*");
	assert_int_equal(m->rules[0].pool, 1);
	assert_int_equal(m->rules[0].settings, 0);
	config_unref(c);
}

/* ------------------------------------------------------- SKU validation */

static void
test_config_auth_certs_on_v2(void **state)
{
	json_t *doc = fixture("v2.arm.json");

	(void)state;
	doc_set(doc, "properties.authenticationCertificates",
	    json_pack("[{s:s, s:{s:o}}]", "name", "a1", "properties", "data",
	        mint_cert_b64()));
	expect_error(doc, "properties.authenticationCertificates", FEATURE,
	    "does not support AuthenticationCertificates for the selected "
	    "SKU tier Standard_v2. Supported SKU tiers are Standard,WAF.");
}

static void
test_config_auth_certs_on_waf_v2_names_tier(void **state)
{
	json_t *doc = fixture("v2.show.json");

	(void)state;
	doc_set(doc, "sku",
	    json_pack("{s:s,s:s}", "name", "WAF_v2", "tier", "WAF_v2"));
	doc_set(doc,
	    "backendHttpSettingsCollection[1]"
	    ".authenticationCertificates",
	    json_pack("[s]", "x"));
	expect_error(doc,
	    "backendHttpSettingsCollection[1]"
	    ".authenticationCertificates",
	    FEATURE,
	    "for the selected SKU tier WAF_v2. Supported SKU tiers are "
	    "Standard,WAF.");
}

static void
test_config_trusted_roots_on_v1(void **state)
{
	json_t *doc = fixture("v1.show.json");

	(void)state;
	doc_set(doc, "trustedRootCertificates",
	    json_pack("[{s:s, s:o}]", "name", "r1", "data", mint_cert_b64()));
	expect_error(doc, "trustedRootCertificates", FEATURE,
	    "does not support TrustedRootCertificates for the selected SKU "
	    "tier Standard. Supported SKU tiers are Standard_v2,WAF_v2.");
}

static void
test_config_probe_port_on_v1(void **state)
{
	json_t *doc = fixture("v1.show.json");

	(void)state;
	doc_set(doc, "probes",
	    json_pack("[{s:s, s:s, s:i}]", "name", "p", "protocol", "Http",
	        "port", 8080));
	expect_error(
	    doc, "probes[0].port", FEATURE, "does not support ProbePort");
}

static void
test_config_v1_priority_ignored_with_warning(void **state)
{
	json_t *doc = fixture("v1.arm.json");
	struct config *c;

	(void)state;
	doc_set(doc, "properties.requestRoutingRules[0].properties.priority",
	    json_integer(5));
	c = expect_ok(doc);
	assert_int_equal(c->rules[0].priority, 0);
	assert_int_equal(c->warnings.n, 1);
	assert_string_equal(c->warnings.v[0].path,
	    "properties.requestRoutingRules[0].properties.priority");
	assert_non_null(strstr(c->warnings.v[0].message, "not used on v1"));
	config_unref(c);
}

static void
test_config_sku_name_tier_mismatch(void **state)
{
	json_t *doc = fixture("v1.arm.json");

	(void)state;
	doc_set(doc, "properties.sku.name", json_string("Standard_v2"));
	expect_error(doc, "properties.sku.name", NULL,
	    "does not agree with tier \"Standard\"");
}

static void
test_config_sku_tier_unknown(void **state)
{
	json_t *doc = fixture("v2.show.json");

	(void)state;
	doc_set(doc, "sku.tier", json_string("Basic"));
	expect_error(doc, "sku.tier", NULL,
	    "must be one of Standard, WAF, "
	    "Standard_v2, WAF_v2, not \"Basic\"");
}

static void
test_config_sku_missing(void **state)
{
	json_t *doc = fixture("v2.arm.json");

	(void)state;
	doc_set(doc, "properties.sku", NULL);
	expect_error(doc, "properties.sku", NULL,
	    "required property is "
	    "missing");
}

/* ----------------------------------------------------- setting validation */

static void
test_config_trusted_root_on_http_setting(void **state)
{
	json_t *doc = fixture("v2.show.json");

	(void)state;
	doc_set(doc, "backendHttpSettingsCollection[0].trustedRootCertificates",
	    json_pack("[o]", ref("trustedRootCertificates", "root1")));
	expect_error(doc,
	    "backendHttpSettingsCollection[0].trustedRootCertificates",
	    "ApplicationGatewayBackendHttpSettingsCannotHaveTrustedRoot"
	    "Certificate",
	    "uses protocol Http");
}

static void
test_config_probe_pick_host_incompatible(void **state)
{
	json_t *doc = fixture("v2-path.arm.json");

	(void)state;
	doc_set(doc,
	    "properties.backendHttpSettingsCollection[1].properties"
	    ".pickHostNameFromBackendAddress",
	    json_false());
	expect_error(doc,
	    "properties.backendHttpSettingsCollection[1]"
	    ".properties.probe",
	    "ApplicationGatewayBackendHttpSettings"
	    "IncompatibleProbeSettingPickHostName",
	    "neither hostName nor pickHostNameFromBackendAddress");
}

static void
test_config_probe_pick_host_with_host_name(void **state)
{
	json_t *doc = fixture("v2-path.arm.json");
	struct config *c;

	(void)state;
	doc_set(doc,
	    "properties.backendHttpSettingsCollection[1].properties"
	    ".pickHostNameFromBackendAddress",
	    json_false());
	doc_set(doc,
	    "properties.backendHttpSettingsCollection[1].properties"
	    ".hostName",
	    json_string("b2.backend.test"));
	c = expect_ok(doc);
	assert_string_equal(c->settings[1].host_name, "b2.backend.test");
	config_unref(c);
}

static void
test_config_v1_auth_all_or_none(void **state)
{
	json_t *doc = fixture("v1.show.json");

	(void)state;
	doc_set(doc, "backendHttpSettingsCollection[2]",
	    json_pack("{s:s, s:i, s:s}", "name", "https8443", "port", 8443,
	        "protocol", "Https"));
	expect_error(doc, "backendHttpSettingsCollection", NULL,
	    "Either all BackendHttpSettings must reference authentication "
	    "certificate, or none of them should.");
}

static void
test_config_v1_empty_auth_list_counts_as_none(void **state)
{
	json_t *doc = fixture("v1.show.json");

	(void)state;
	/* az show prints "authenticationCertificates": [] for a setting
	 * with none: it references nothing, so the rule still applies. */
	doc_set(doc, "backendHttpSettingsCollection[2]",
	    json_pack("{s:s, s:i, s:s, s:[]}", "name", "https8443", "port",
	        8443, "protocol", "Https", "authenticationCertificates"));
	expect_error(doc, "backendHttpSettingsCollection", NULL,
	    "Either all BackendHttpSettings must reference authentication "
	    "certificate, or none of them should.");
}

static void
test_config_v1_auth_none_with_empty_lists_ok(void **state)
{
	json_t *doc = fixture("v1.show.json");
	struct config *c;

	(void)state;
	doc_set(doc, "backendHttpSettingsCollection[1].authenticationCertificates",
	    json_array());
	doc_set(doc, "backendHttpSettingsCollection[2]",
	    json_pack("{s:s, s:i, s:s, s:[]}", "name", "https8443", "port",
	        8443, "protocol", "Https", "authenticationCertificates"));
	c = expect_ok(doc);
	assert_int_equal(c->settings[1].nauth_certs, 0);
	assert_null(c->settings[1].auth_certs);
	assert_int_equal(c->settings[2].nauth_certs, 0);
	config_unref(c);
}

static void
test_config_v2_roots_without_host_warns(void **state)
{
	json_t *doc = fixture("v2.show.json");
	struct config *c;

	(void)state;
	doc_set(doc,
	    "backendHttpSettingsCollection[1]"
	    ".pickHostNameFromBackendAddress",
	    NULL);
	c = expect_ok(doc);
	assert_int_equal(c->warnings.n, 1);
	assert_string_equal(
	    c->warnings.v[0].path, "backendHttpSettingsCollection[1]");
	assert_non_null(strstr(c->warnings.v[0].message,
	    "neither hostName "
	    "nor pickHostNameFromBackendAddress"));
	config_unref(c);
}

static void
test_config_frontend_port_out_of_range(void **state)
{
	json_t *doc = fixture("v2.arm.json");

	(void)state;
	doc_set(doc, "properties.frontendPorts[0].properties.port",
	    json_integer(70000));
	expect_error(doc, "properties.frontendPorts[0].properties.port",
	    "ApplicationGatewayPortNotValidForProtocol",
	    "must be between 1 and 65535, not 70000");
}

static void
test_config_settings_port_out_of_range(void **state)
{
	json_t *doc = fixture("v2.show.json");

	(void)state;
	doc_set(doc, "backendHttpSettingsCollection[0].port", json_integer(0));
	expect_error(doc, "backendHttpSettingsCollection[0].port",
	    "ApplicationGatewayPortNotValidForProtocol",
	    "must be between 1 and 65535, not 0");
}

static void
test_config_listener_protocol_mismatch(void **state)
{
	json_t *doc = fixture("v2.show.json");

	(void)state;
	doc_set(doc, "sslCertificates",
	    json_pack("[{s:s, s:o, s:s}]", "name", "s1", "data",
	        mint_pfx_b64("pw"), "password", "pw"));
	doc_set(doc, "httpListeners[1]",
	    json_pack("{s:s, s:s, s:s, s:s, "
	              "s:s}",
	        "name", "l443", "frontendPort", "port80", "protocol", "Https",
	        "sslCertificate", "s1", "hostName", "x.test"));
	expect_error(doc, "httpListeners[1]",
	    "ApplicationGatewayPortNotValidForProtocol",
	    "uses frontend port 80 with protocol Https");
}

static void
test_config_https_listener_needs_cert(void **state)
{
	json_t *doc = fixture("v2.show.json");

	(void)state;
	doc_set(doc, "httpListeners[0].protocol", json_string("Https"));
	expect_error(doc, "httpListeners[0].sslCertificate", NULL,
	    "an Https listener needs an SSL certificate");
}

static void
test_config_auth_cert_limit(void **state)
{
	json_t *doc = fixture("v1.show.json"), *list = json_array();
	json_t *cert = mint_cert_b64();
	char name[16];
	int i;

	(void)state;
	for (i = 0; i < 101; i++) {
		snprintf(name, sizeof(name), "a%d", i);
		json_array_append_new(
		    list, json_pack("{s:s, s:O}", "name", name, "data", cert));
	}
	json_decref(cert);
	doc_set(doc, "authenticationCertificates", list);
	expect_error(doc, "authenticationCertificates", NULL,
	    "at most 100 entries, not 101");
}

static void
test_config_listener_used_by_two_rules(void **state)
{
	json_t *doc = fixture("v2-multisite.show.json");

	(void)state;
	doc_set(doc, "requestRoutingRules[2].httpListener",
	    ref("httpListeners", "listener80"));
	expect_error(doc, "requestRoutingRules[2].httpListener", NULL,
	    "listener \"listener80\" is already used by rule \"rule1\"");
}

static void
test_config_v2_priority_missing(void **state)
{
	json_t *doc = fixture("v2.arm.json");

	(void)state;
	doc_set(
	    doc, "properties.requestRoutingRules[0].properties.priority", NULL);
	expect_error(doc,
	    "properties.requestRoutingRules[0].properties"
	    ".priority",
	    NULL, "required property is missing");
}

static void
test_config_v2_priority_range(void **state)
{
	json_t *doc = fixture("v2.arm.json");

	(void)state;
	doc_set(doc, "properties.requestRoutingRules[0].properties.priority",
	    json_integer(20001));
	expect_error(doc,
	    "properties.requestRoutingRules[0].properties"
	    ".priority",
	    NULL, "between 1 and 20000, not 20001");
}

static void
test_config_v2_priority_duplicate(void **state)
{
	json_t *doc = fixture("v2-multisite.arm.json");

	(void)state;
	doc_set(doc, "properties.requestRoutingRules[2].properties.priority",
	    json_integer(100));
	expect_error(doc,
	    "properties.requestRoutingRules[2].properties"
	    ".priority",
	    NULL,
	    "priority 100 is already used by rule "
	    "\"rule1\"");
}

static void
test_config_request_timeout_range(void **state)
{
	json_t *doc = fixture("v2.show.json");

	(void)state;
	doc_set(doc, "backendHttpSettingsCollection[0].requestTimeout",
	    json_integer(86401));
	expect_error(doc, "backendHttpSettingsCollection[0].requestTimeout",
	    NULL, "between 1 and 86400, not 86401");
}

static void
test_config_drain_timeout_range(void **state)
{
	json_t *doc = fixture("v2.show.json");

	(void)state;
	doc_set(doc, "backendHttpSettingsCollection[0].connectionDraining",
	    json_pack("{s:b, s:i}", "enabled", 1, "drainTimeoutInSec", 3601));
	expect_error(doc,
	    "backendHttpSettingsCollection[0].connectionDraining"
	    ".drainTimeoutInSec",
	    NULL, "between 1 and 3600, not 3601");
}

static void
test_config_drain_loaded(void **state)
{
	json_t *doc = fixture("v2.show.json");
	struct config *c;

	(void)state;
	doc_set(doc, "backendHttpSettingsCollection[0].connectionDraining",
	    json_pack("{s:b, s:i}", "enabled", 1, "drainTimeoutInSec", 60));
	c = expect_ok(doc);
	assert_true(c->settings[0].draining);
	assert_int_equal(c->settings[0].drain_timeout, 60);
	config_unref(c);
}

static void
test_config_probe_ranges(void **state)
{
	json_t *doc = fixture("v2-path.show.json");

	(void)state;
	doc_set(doc, "probes[0].interval", json_integer(0));
	doc_set(doc, "probes[0].unhealthyThreshold", json_integer(21));
	expect_error(
	    doc, "probes[0].interval", NULL, "between 1 and 86400, not 0");
	doc = fixture("v2-path.show.json");
	doc_set(doc, "probes[0].unhealthyThreshold", json_integer(21));
	expect_error(doc, "probes[0].unhealthyThreshold", NULL,
	    "between 1 and 20, not 21");
}

static void
test_config_status_codes_syntax(void **state)
{
	json_t *doc = fixture("v2-path.show.json");

	(void)state;
	doc_set(doc, "probes[0].match.statusCodes",
	    json_pack("[s,s,s]", "200-399", "200-6000", "abc"));
	expect_error(doc, "probes[0].match.statusCodes[1]", NULL,
	    "\"200-6000\" is not a status code range");
	doc = fixture("v2-path.show.json");
	doc_set(
	    doc, "probes[0].match.statusCodes", json_pack("[s]", "399-200"));
	expect_error(doc, "probes[0].match.statusCodes[0]", NULL,
	    "not a status code range like \"200-399\"");
}

static void
test_config_unknown_protocol(void **state)
{
	json_t *doc = fixture("v2.arm.json");

	(void)state;
	doc_set(doc,
	    "properties.backendHttpSettingsCollection[0].properties"
	    ".protocol",
	    json_string("Ftp"));
	expect_error(doc,
	    "properties.backendHttpSettingsCollection[0]"
	    ".properties.protocol",
	    NULL, "must be one of Http, Https, not \"Ftp\"");
}

static void
test_config_unknown_affinity(void **state)
{
	json_t *doc = fixture("v2.show.json");

	(void)state;
	doc_set(doc, "backendHttpSettingsCollection[0].cookieBasedAffinity",
	    json_string("enabled"));
	expect_error(doc,
	    "backendHttpSettingsCollection[0]"
	    ".cookieBasedAffinity",
	    NULL, "must be one of Enabled, Disabled, not \"enabled\"");
}

static void
test_config_unknown_rule_type(void **state)
{
	json_t *doc = fixture("v2.show.json");

	(void)state;
	doc_set(
	    doc, "requestRoutingRules[0].ruleType", json_string("Redirect"));
	expect_error(doc, "requestRoutingRules[0].ruleType", NULL,
	    "must be one of Basic, PathBasedRouting");
}

static void
test_config_wrong_type(void **state)
{
	json_t *doc = fixture("v2.show.json");

	(void)state;
	doc_set(doc, "backendHttpSettingsCollection[0].requestTimeout",
	    json_string("20"));
	expect_error(doc, "backendHttpSettingsCollection[0].requestTimeout",
	    NULL, "must be an integer");
}

static void
test_config_wrong_type_collection(void **state)
{
	json_t *doc = fixture("v2.arm.json");

	(void)state;
	doc_set(doc, "properties.probes", json_object());
	expect_error(doc, "properties.probes", NULL, "must be an array");
}

static void
test_config_basic_rule_needs_pool(void **state)
{
	json_t *doc = fixture("v2.show.json");

	(void)state;
	doc_set(doc, "requestRoutingRules[0].backendAddressPool", NULL);
	expect_error(doc, "requestRoutingRules[0].backendAddressPool", NULL,
	    "required for a Basic rule");
}

static void
test_config_member_needs_address(void **state)
{
	json_t *doc = fixture("v2.show.json");

	(void)state;
	doc_set(
	    doc, "backendAddressPools[0].backendAddresses[0]", json_object());
	expect_error(doc, "backendAddressPools[0].backendAddresses[0]", NULL,
	    "needs ipAddress or fqdn");
}

/* ---------------------------------------------------------- certificates */

static void
test_config_cert_not_a_cert(void **state)
{
	json_t *doc = fixture("v2.show.json");

	(void)state;
	doc_set(doc, "trustedRootCertificates[0].data",
	    json_string("bm90IGEgY2VydGlmaWNhdGU="));
	expect_error(doc, "trustedRootCertificates[0].data", NULL,
	    "is not a certificate");
}

static void
test_config_cert_pem_accepted(void **state)
{
	json_t *doc = fixture("v1.show.json");
	unsigned char *der = NULL;
	EVP_PKEY *key;
	X509 *x = mint(&key);
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long n;
	struct config *c;

	(void)state;
	(void)der;
	PEM_write_bio_X509(bio, x);
	n = BIO_get_mem_data(bio, &pem);
	doc_set(doc, "authenticationCertificates[0].data",
	    json_stringn(pem, (size_t)n));
	c = expect_ok(doc);
	assert_int_equal(X509_cmp(c->auth_certs[0].cert, x), 0);
	config_unref(c);
	BIO_free(bio);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void
test_config_pfx_loaded(void **state)
{
	json_t *doc = fixture("v2.show.json");
	struct config *c;

	(void)state;
	doc_set(doc, "sslCertificates",
	    json_pack("[{s:s, s:o, s:s}]", "name", "s1", "data",
	        mint_pfx_b64("pw"), "password", "pw"));
	doc_set(doc, "httpListeners[0].protocol", json_string("Https"));
	doc_set(doc, "httpListeners[0].sslCertificate", json_string("s1"));
	c = expect_ok(doc);
	assert_non_null(c->ssl_certs[0].key);
	assert_non_null(c->ssl_certs[0].cert);
	assert_int_equal(c->listeners[0].ssl_cert, 0);
	assert_int_equal(c->listeners[0].protocol, CONFIG_PROTO_HTTPS);
	config_unref(c);
}

static void
test_config_pfx_wrong_password(void **state)
{
	json_t *doc = fixture("v2.show.json");

	(void)state;
	doc_set(doc, "sslCertificates",
	    json_pack("[{s:s, s:o, s:s}]", "name", "s1", "data",
	        mint_pfx_b64("pw"), "password", "nope"));
	expect_error(doc, "sslCertificates[0].data", NULL,
	    "the PFX does not open with its password");
}

static void
test_config_pfx_not_a_pfx(void **state)
{
	json_t *doc = fixture("v2.show.json");

	(void)state;
	doc_set(doc, "sslCertificates",
	    json_pack("[{s:s, s:o}]", "name", "s1", "data", mint_cert_b64()));
	expect_error(
	    doc, "sslCertificates[0].data", NULL, "is not a PFX (PKCS#12)");
}

static void
test_config_ssl_cert_pem_files(void **state)
{
	char dir[] = "/tmp/test_config_XXXXXX", path[256];
	json_t *doc = fixture("v2.show.json");
	struct config_errors errs = {0};
	EVP_PKEY *key;
	X509 *x = mint(&key);
	struct config *c;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/l.crt", dir);
	assert_non_null(f = fopen(path, "w"));
	PEM_write_X509(f, x);
	fclose(f);
	snprintf(path, sizeof(path), "%s/l.key", dir);
	assert_non_null(f = fopen(path, "w"));
	PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	doc_set(doc, "sslCertificates",
	    json_pack("[{s:s, s:s, s:s}]", "name", "s1", "certFile", "l.crt",
	        "keyFile", "l.key"));
	snprintf(path, sizeof(path), "%s/gw.json", dir);
	c = config_load_json(doc, path, &errs);
	if (c == NULL)
		dump_errors(&errs);
	assert_non_null(c);
	assert_int_equal(X509_cmp(c->ssl_certs[0].cert, x), 0);
	config_unref(c);
	json_decref(doc);
	config_errors_clear(&errs);
	snprintf(path, sizeof(path), "%s/l.crt", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/l.key", dir);
	unlink(path);
	rmdir(dir);
	X509_free(x);
	EVP_PKEY_free(key);
}

/* ------------------------------------------------------------ the errors */

static void
test_config_collects_all_errors(void **state)
{
	json_t *doc = fixture("v2.arm.json");
	struct config_errors errs = {0};

	(void)state;
	doc_set(doc, "properties.frontendPorts[0].properties.port",
	    json_integer(0));
	doc_set(doc,
	    "properties.backendHttpSettingsCollection[0].properties"
	    ".requestTimeout",
	    json_integer(0));
	doc_set(doc,
	    "properties.requestRoutingRules[0].properties.httpListener",
	    ref("httpListeners", "l1"));
	doc_set(doc, "properties.authenticationCertificates",
	    json_pack("[{s:s, s:{s:o}}]", "name", "a1", "properties", "data",
	        mint_cert_b64()));
	assert_null(load(doc, &errs));
	assert_int_equal(errs.n, 4);
	assert_error(&errs, "properties.frontendPorts[0].properties.port",
	    "ApplicationGatewayPortNotValidForProtocol", "not 0");
	assert_error(&errs,
	    "properties.backendHttpSettingsCollection[0]"
	    ".properties.requestTimeout",
	    NULL, "not 0");
	assert_error(&errs,
	    "properties.requestRoutingRules[0].properties"
	    ".httpListener.id",
	    NULL, "\"l1\"");
	assert_error(&errs, "properties.authenticationCertificates", FEATURE,
	    "AuthenticationCertificates");
	config_errors_clear(&errs);
}

static void
test_config_error_str(void **state)
{
	struct config_errors errs = {0};
	char buf[1024];

	(void)state;
	config_errors_add(&errs, "Code", "a.b", "bad %d", 1);
	config_errors_add(&errs, NULL, "a.c", "worse");
	assert_string_equal(
	    config_error_str(&errs.v[0], buf, sizeof(buf)), "a.b: Code: bad 1");
	assert_string_equal(
	    config_error_str(&errs.v[1], buf, sizeof(buf)), "a.c: worse");
	config_errors_clear(&errs);
	assert_int_equal(errs.n, 0);
}

static void
test_config_refcount(void **state)
{
	struct config *c;

	(void)state;
	c = expect_ok(fixture("v2.arm.json"));
	assert_ptr_equal(config_ref(c), c);
	assert_int_equal(c->refs, 2);
	config_unref(c);
	assert_int_equal(c->refs, 1);
	assert_non_null(c->json);
	assert_string_equal(config_sku_name(c->sku), "v2");
	config_unref(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_shapes_equal_v1),
	    cmocka_unit_test(test_config_shapes_equal_v2),
	    cmocka_unit_test(test_config_shapes_equal_v2_path),
	    cmocka_unit_test(test_config_shapes_equal_v2_multisite),
	    cmocka_unit_test(test_config_v1_model),
	    cmocka_unit_test(test_config_template_resources),
	    cmocka_unit_test(test_config_template_error_path),
	    cmocka_unit_test(test_config_not_json),
	    cmocka_unit_test(test_config_unknown_properties_ignored),
	    cmocka_unit_test(test_config_mixed_shapes),
	    cmocka_unit_test(test_config_ref_by_bare_name),
	    cmocka_unit_test(test_config_ref_by_id),
	    cmocka_unit_test(test_config_ref_template_expression),
	    cmocka_unit_test(test_config_dangling_ref_arm),
	    cmocka_unit_test(test_config_dangling_ref_hoisted),
	    cmocka_unit_test(test_config_ref_wrong_collection),
	    cmocka_unit_test(test_config_duplicate_name),
	    cmocka_unit_test(test_config_defaults),
	    cmocka_unit_test(test_config_probe_match_parsed),
	    cmocka_unit_test(test_config_v2_priority_sort),
	    cmocka_unit_test(test_config_listener_host_names_merged),
	    cmocka_unit_test(test_config_path_map),
	    cmocka_unit_test(test_config_auth_certs_on_v2),
	    cmocka_unit_test(test_config_auth_certs_on_waf_v2_names_tier),
	    cmocka_unit_test(test_config_trusted_roots_on_v1),
	    cmocka_unit_test(test_config_probe_port_on_v1),
	    cmocka_unit_test(test_config_v1_priority_ignored_with_warning),
	    cmocka_unit_test(test_config_sku_name_tier_mismatch),
	    cmocka_unit_test(test_config_sku_tier_unknown),
	    cmocka_unit_test(test_config_sku_missing),
	    cmocka_unit_test(test_config_trusted_root_on_http_setting),
	    cmocka_unit_test(test_config_probe_pick_host_incompatible),
	    cmocka_unit_test(test_config_probe_pick_host_with_host_name),
	    cmocka_unit_test(test_config_v1_auth_all_or_none),
	    cmocka_unit_test(test_config_v1_empty_auth_list_counts_as_none),
	    cmocka_unit_test(test_config_v1_auth_none_with_empty_lists_ok),
	    cmocka_unit_test(test_config_v2_roots_without_host_warns),
	    cmocka_unit_test(test_config_frontend_port_out_of_range),
	    cmocka_unit_test(test_config_settings_port_out_of_range),
	    cmocka_unit_test(test_config_listener_protocol_mismatch),
	    cmocka_unit_test(test_config_https_listener_needs_cert),
	    cmocka_unit_test(test_config_auth_cert_limit),
	    cmocka_unit_test(test_config_listener_used_by_two_rules),
	    cmocka_unit_test(test_config_v2_priority_missing),
	    cmocka_unit_test(test_config_v2_priority_range),
	    cmocka_unit_test(test_config_v2_priority_duplicate),
	    cmocka_unit_test(test_config_request_timeout_range),
	    cmocka_unit_test(test_config_drain_timeout_range),
	    cmocka_unit_test(test_config_drain_loaded),
	    cmocka_unit_test(test_config_probe_ranges),
	    cmocka_unit_test(test_config_status_codes_syntax),
	    cmocka_unit_test(test_config_unknown_protocol),
	    cmocka_unit_test(test_config_unknown_affinity),
	    cmocka_unit_test(test_config_unknown_rule_type),
	    cmocka_unit_test(test_config_wrong_type),
	    cmocka_unit_test(test_config_wrong_type_collection),
	    cmocka_unit_test(test_config_basic_rule_needs_pool),
	    cmocka_unit_test(test_config_member_needs_address),
	    cmocka_unit_test(test_config_cert_not_a_cert),
	    cmocka_unit_test(test_config_cert_pem_accepted),
	    cmocka_unit_test(test_config_pfx_loaded),
	    cmocka_unit_test(test_config_pfx_wrong_password),
	    cmocka_unit_test(test_config_pfx_not_a_pfx),
	    cmocka_unit_test(test_config_ssl_cert_pem_files),
	    cmocka_unit_test(test_config_collects_all_errors),
	    cmocka_unit_test(test_config_error_str),
	    cmocka_unit_test(test_config_refcount),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
