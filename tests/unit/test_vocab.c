/*
 * test_vocab: the vocabulary table's lookups, its consistency (every
 * reference names a collection, every default passes its own check), the
 * value checks and the az value conversion.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vocab.h"

static void
test_vocab_collection_by_name(void **state)
{
	const struct vocab_collection *c;

	(void)state;
	c = vocab_collection("backendHttpSettingsCollection");
	assert_non_null(c);
	assert_string_equal(c->group, "http-settings");
	assert_string_equal(c->singular, "backendHttpSettings");
	assert_null(vocab_collection("nope"));
	assert_null(vocab_collection(NULL));
}

static void
test_vocab_collection_by_group(void **state)
{
	const struct vocab_collection *c;

	(void)state;
	assert_string_equal(vocab_collection_by_group("http-settings")->name,
	    "backendHttpSettingsCollection");
	assert_string_equal(vocab_collection_by_group("address-pool")->name,
	    "backendAddressPools");
	assert_string_equal(vocab_collection_by_group("root-cert")->name,
	    "trustedRootCertificates");
	c = vocab_collection_by_group("url-path-map rule");
	assert_non_null(c);
	assert_string_equal(c->name, "pathRules");
	assert_string_equal(c->parent, "urlPathMaps");
	assert_null(vocab_collection_by_group("bogus"));
}

static void
test_vocab_collection_by_singular(void **state)
{
	(void)state;
	assert_string_equal(vocab_collection_by_singular("httpListener")->name,
	    "httpListeners");
	assert_string_equal(
	    vocab_collection_by_singular("probe")->name, "probes");
	assert_null(vocab_collection_by_singular("httpListeners"));
}

static void
test_vocab_collection_iteration(void **state)
{
	size_t i, n = vocab_collection_count();

	(void)state;
	assert_true(n >= 12);
	assert_string_equal(
	    vocab_collection_at(0)->name, "applicationGateways");
	for (i = 0; i < n; i++)
		assert_ptr_equal(vocab_collection(vocab_collection_at(i)->name),
		    vocab_collection_at(i));
	assert_null(vocab_collection_at(n));
}

static void
test_vocab_prop_lookup(void **state)
{
	const struct vocab_prop *p;

	(void)state;
	p = vocab_prop("backendHttpSettingsCollection", "requestTimeout");
	assert_non_null(p);
	assert_int_equal(p->type, VOCAB_INT);
	assert_string_equal(p->def, "20");
	assert_int_equal(p->min, 1);
	assert_int_equal(p->max, 86400);
	assert_string_equal(p->arg, "--timeout");
	assert_null(vocab_prop("backendHttpSettingsCollection", "nope"));
	assert_null(vocab_prop("nope", "requestTimeout"));
}

static void
test_vocab_prop_dotted(void **state)
{
	const struct vocab_prop *p;

	(void)state;
	p = vocab_prop(
	    "backendHttpSettingsCollection", "connectionDraining.enabled");
	assert_non_null(p);
	assert_int_equal(p->type, VOCAB_BOOL);
	p = vocab_prop("probes", "match.statusCodes");
	assert_non_null(p);
	assert_int_equal(p->type, VOCAB_STRING_LIST);
	p = vocab_prop("applicationGateways", "sku.tier");
	assert_non_null(p);
	assert_int_equal(p->type, VOCAB_ENUM);
	assert_string_equal(p->values[3], "WAF_v2");
}

static void
test_vocab_prop_by_arg(void **state)
{
	const struct vocab_prop *p;

	(void)state;
	p = vocab_prop_by_arg("backendHttpSettingsCollection", "--timeout");
	assert_string_equal(p->name, "requestTimeout");
	p = vocab_prop_by_arg("probes", "timeout");
	assert_string_equal(p->name, "timeout");
	assert_string_equal(p->arg_def, "120");
	p = vocab_prop_by_arg(
	    "backendHttpSettingsCollection", "--host-name-from-backend-pool");
	assert_string_equal(p->name, "pickHostNameFromBackendAddress");
	assert_int_equal(p->conv, VOCAB_CONV_VALUE);
	p = vocab_prop_by_arg("backendAddressPools", "--servers");
	assert_int_equal(p->conv, VOCAB_CONV_SERVERS);
	p = vocab_prop_by_arg(
	    "backendHttpSettingsCollection", "--connection-draining-timeout");
	assert_string_equal(p->name, "connectionDraining.drainTimeoutInSec");
	assert_int_equal(p->conv, VOCAB_CONV_DRAIN);
	assert_null(vocab_prop_by_arg("probes", "--servers"));
}

static void
test_vocab_prop_skus(void **state)
{
	(void)state;
	assert_int_equal(vocab_prop("backendHttpSettingsCollection",
	                     "authenticationCertificates")
	                     ->skus,
	    VOCAB_SKU_V1);
	assert_int_equal(vocab_prop("backendHttpSettingsCollection",
	                     "trustedRootCertificates")
	                     ->skus,
	    VOCAB_SKU_V2);
	assert_int_equal(vocab_prop("probes", "port")->skus, VOCAB_SKU_V2);
	assert_int_equal(vocab_prop("requestRoutingRules", "priority")->off_sku,
	    VOCAB_OFF_WARN);
	assert_int_equal(
	    vocab_prop("requestRoutingRules", "priority")->required,
	    VOCAB_SKU_V2);
	assert_string_equal(vocab_skus_name(VOCAB_SKU_BOTH), "v1,v2");
	assert_string_equal(vocab_sku_tiers(VOCAB_SKU_V1), "Standard,WAF");
	assert_string_equal(
	    vocab_sku_tiers(VOCAB_SKU_V2), "Standard_v2,WAF_v2");
}

/* Every row is coherent: known collection, known reference target, enum
 * values, a range, a converter for its argument, a default that passes
 * its own check. */
static void
test_vocab_table_consistent(void **state)
{
	const struct vocab_prop *p = NULL;
	char err[256];
	json_t *d;
	size_t n = 0;

	(void)state;
	while ((p = vocab_prop_next(NULL, p)) != NULL) {
		n++;
		assert_non_null(vocab_collection(p->collection));
		assert_non_null(p->help);
		assert_true(p->skus != 0);
		if (p->type == VOCAB_REF || p->type == VOCAB_REF_LIST)
			assert_non_null(vocab_collection(p->ref));
		if (p->type == VOCAB_ENUM)
			assert_non_null(p->values);
		if (p->type == VOCAB_INT)
			assert_true(p->min <= p->max);
		if (p->arg != NULL) {
			assert_true(p->conv != VOCAB_CONV_NONE);
			assert_ptr_equal(
			    vocab_prop_by_arg(p->collection, p->arg), p);
		}
		if (!(p->skus & VOCAB_SKU_V1) || !(p->skus & VOCAB_SKU_V2))
			assert_true(
			    p->feature != NULL || p->off_sku == VOCAB_OFF_WARN);
		if (p->def != NULL) {
			assert_non_null(d = vocab_default_json(p, 0));
			assert_int_equal(
			    vocab_check(p, d, err, sizeof(err)), 0);
			json_decref(d);
		}
	}
	assert_true(n > 50);
}

static void
test_vocab_prop_next_one_collection(void **state)
{
	const struct vocab_prop *p = NULL;
	size_t n = 0;

	(void)state;
	while ((p = vocab_prop_next("frontendPorts", p)) != NULL) {
		assert_string_equal(p->collection, "frontendPorts");
		n++;
	}
	assert_int_equal(n, 1);
}

static void
test_vocab_check_type(void **state)
{
	const struct vocab_prop *p = vocab_prop("probes", "interval");
	json_t *v = json_string("30");
	char err[256];

	(void)state;
	assert_int_equal(vocab_check(p, v, err, sizeof(err)), -1);
	assert_string_equal(err, "must be an integer");
	json_decref(v);
}

static void
test_vocab_check_range(void **state)
{
	const struct vocab_prop *p = vocab_prop("frontendPorts", "port");
	json_t *v = json_integer(0);
	char err[256];

	(void)state;
	assert_int_equal(vocab_check(p, v, err, sizeof(err)), -2);
	assert_string_equal(err, "must be between 1 and 65535, not 0");
	assert_string_equal(
	    p->code, "ApplicationGatewayPortNotValidForProtocol");
	json_decref(v);
}

static void
test_vocab_check_enum(void **state)
{
	const struct vocab_prop *p =
	    vocab_prop("requestRoutingRules", "ruleType");
	json_t *v = json_string("basic");
	char err[256];

	(void)state;
	assert_int_equal(vocab_check(p, v, err, sizeof(err)), -2);
	assert_string_equal(
	    err, "must be one of Basic, PathBasedRouting, not \"basic\"");
	json_decref(v);
}

static void
test_vocab_check_ref(void **state)
{
	const struct vocab_prop *p =
	    vocab_prop("requestRoutingRules", "httpListener");
	json_t *ok1 = json_string("l1"),
	       *ok2 = json_pack("{s:s}", "id", "x/l1");
	json_t *bad = json_pack("{s:i}", "id", 1);
	char err[256];

	(void)state;
	assert_int_equal(vocab_check(p, ok1, err, sizeof(err)), 0);
	assert_int_equal(vocab_check(p, ok2, err, sizeof(err)), 0);
	assert_int_equal(vocab_check(p, bad, err, sizeof(err)), -1);
	json_decref(ok1);
	json_decref(ok2);
	json_decref(bad);
}

static void
test_vocab_check_list_count(void **state)
{
	const struct vocab_prop *p = vocab_prop("httpListeners", "hostNames");
	json_t *v = json_pack("[s,s,s,s,s,s]", "a", "b", "c", "d", "e", "f");
	char err[256];

	(void)state;
	assert_int_equal(vocab_check(p, v, err, sizeof(err)), -2);
	assert_string_equal(err, "must have at most 5 entries, not 6");
	json_decref(v);
}

static void
test_vocab_value_from_text(void **state)
{
	const struct vocab_prop *p;
	char err[256];
	json_t *v;

	(void)state;
	p = vocab_prop("backendHttpSettingsCollection", "cookieBasedAffinity");
	v = vocab_value_from_text(p, "enabled", err, sizeof(err));
	assert_string_equal(json_string_value(v), "Enabled");
	json_decref(v);
	p = vocab_prop(
	    "backendHttpSettingsCollection", "pickHostNameFromBackendAddress");
	v = vocab_value_from_text(p, "True", err, sizeof(err));
	assert_true(json_is_true(v));
	json_decref(v);
	p = vocab_prop("backendHttpSettingsCollection", "requestTimeout");
	v = vocab_value_from_text(p, "30", err, sizeof(err));
	assert_int_equal(json_integer_value(v), 30);
	json_decref(v);
}

static void
test_vocab_value_from_text_errors(void **state)
{
	const struct vocab_prop *p;
	char err[256];

	(void)state;
	p = vocab_prop("backendHttpSettingsCollection", "requestTimeout");
	assert_null(vocab_value_from_text(p, "0", err, sizeof(err)));
	assert_string_equal(err, "--timeout: must be between 1 and 86400, "
	                         "not 0");
	assert_null(vocab_value_from_text(p, "2x", err, sizeof(err)));
	assert_string_equal(err, "--timeout: \"2x\" is not an integer");
	p = vocab_prop("backendHttpSettingsCollection", "protocol");
	assert_null(vocab_value_from_text(p, "ftp", err, sizeof(err)));
	assert_string_equal(err, "--protocol: must be one of Http, Https, "
	                         "not \"ftp\"");
}

static void
test_vocab_default_az_differs(void **state)
{
	const struct vocab_prop *p = vocab_prop("probes", "timeout");
	json_t *a = vocab_default_json(p, 0), *b = vocab_default_json(p, 1);

	(void)state;
	assert_int_equal(json_integer_value(a), 30);
	assert_int_equal(json_integer_value(b), 120);
	json_decref(a);
	json_decref(b);
	assert_null(vocab_default_json(vocab_prop("probes", "host"), 0));
}

/* Default (loader, az) and range of one INT property, as spec 6 and 7. */
static void
assert_int_prop(const char *coll, const char *name, long def, long az_def,
    long min, long max)
{
	const struct vocab_prop *p = vocab_prop(coll, name);
	json_t *a, *b;

	assert_non_null(p);
	assert_int_equal(p->type, VOCAB_INT);
	assert_int_equal(p->min, min);
	assert_int_equal(p->max, max);
	a = vocab_default_json(p, 0);
	b = vocab_default_json(p, 1);
	if (def < 0) {
		assert_null(a);
	} else {
		assert_non_null(a);
		assert_int_equal(json_integer_value(a), def);
	}
	assert_non_null(b);
	assert_int_equal(json_integer_value(b), az_def);
	json_decref(a);
	json_decref(b);
}

static void
test_vocab_spec_defaults_and_ranges(void **state)
{
	(void)state;
	/* The service's probe defaults 30/30/3; az probe create 30/120/8. */
	assert_int_prop("probes", "interval", 30, 30, 1, 86400);
	assert_int_prop("probes", "timeout", 30, 120, 1, 86400);
	assert_int_prop("probes", "unhealthyThreshold", 3, 8, 1, 20);
	assert_int_prop("backendHttpSettingsCollection", "requestTimeout", 20,
	    20, 1, 86400);
	assert_int_prop("backendHttpSettingsCollection",
	    "connectionDraining.drainTimeoutInSec", 1, 1, 1, 3600);
	assert_int_equal(vocab_prop("requestRoutingRules", "priority")->min, 1);
	assert_int_equal(
	    vocab_prop("requestRoutingRules", "priority")->max, 20000);
	assert_int_equal(
	    vocab_prop("requestRoutingRules", "priority")->skus, VOCAB_SKU_V2);
	assert_int_equal(vocab_prop("probes", "port")->skus, VOCAB_SKU_V2);
}

static void
test_vocab_sku_values_and_tiers(void **state)
{
	static const char *const names[] = {"Standard_Small",
	    "Standard_Medium", "Standard_Large", "WAF_Medium", "WAF_Large",
	    "Standard_v2", "WAF_v2"};
	static const char *const tiers[] = {
	    "Standard", "WAF", "Standard_v2", "WAF_v2"};
	const struct vocab_prop *pn = vocab_prop("applicationGateways",
	                                    "sku.name"),
	                        *pt = vocab_prop("applicationGateways",
	                                    "sku.tier");
	char err[256];
	size_t i;
	json_t *v;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		v = json_string(names[i]);
		assert_int_equal(vocab_check(pn, v, err, sizeof(err)), 0);
		json_decref(v);
	}
	for (i = 0; i < sizeof(tiers) / sizeof(tiers[0]); i++) {
		v = json_string(tiers[i]);
		assert_int_equal(vocab_check(pt, v, err, sizeof(err)), 0);
		json_decref(v);
	}
	v = json_string("Standard_Small_v2");
	assert_int_equal(vocab_check(pn, v, err, sizeof(err)), -2);
	json_decref(v);
	assert_string_equal(vocab_sku_tiers(VOCAB_SKU_V1), "Standard,WAF");
	assert_string_equal(
	    vocab_sku_tiers(VOCAB_SKU_V2), "Standard_v2,WAF_v2");
	assert_string_equal(vocab_prop("applicationGateways",
	                        "authenticationCertificates")
	                        ->feature,
	    "AuthenticationCertificates");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vocab_collection_by_name),
	    cmocka_unit_test(test_vocab_collection_by_group),
	    cmocka_unit_test(test_vocab_collection_by_singular),
	    cmocka_unit_test(test_vocab_collection_iteration),
	    cmocka_unit_test(test_vocab_prop_lookup),
	    cmocka_unit_test(test_vocab_prop_dotted),
	    cmocka_unit_test(test_vocab_prop_by_arg),
	    cmocka_unit_test(test_vocab_prop_skus),
	    cmocka_unit_test(test_vocab_table_consistent),
	    cmocka_unit_test(test_vocab_prop_next_one_collection),
	    cmocka_unit_test(test_vocab_check_type),
	    cmocka_unit_test(test_vocab_check_range),
	    cmocka_unit_test(test_vocab_check_enum),
	    cmocka_unit_test(test_vocab_check_ref),
	    cmocka_unit_test(test_vocab_check_list_count),
	    cmocka_unit_test(test_vocab_value_from_text),
	    cmocka_unit_test(test_vocab_value_from_text_errors),
	    cmocka_unit_test(test_vocab_default_az_differs),
	    cmocka_unit_test(test_vocab_spec_defaults_and_ranges),
	    cmocka_unit_test(test_vocab_sku_values_and_tiers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
