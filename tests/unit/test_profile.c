#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "profile.h"

/* Parse profile JSON text; returns the profile or NULL with err. */
static struct profile *
parse(const char *text, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loads(text, 0, &jerr);
	struct profile *p;

	assert_non_null(root);
	p = profile_from_json(root, "test.json", err, errlen);
	json_decref(root);
	return p;
}

/* Expect text to fail with an error containing want. */
static void
expect_error(const char *text, const char *want)
{
	char err[1024] = "";
	struct profile *p = parse(text, err, sizeof(err));

	if (p != NULL || strstr(err, want) == NULL)
		fail_msg("wanted an error with '%s', got '%s'", want, err);
	assert_non_null(strstr(err, "test.json: "));
}

#define ROOT                                                                   \
	"{\"name\":\"r\",\"role\":\"root\",\"use\":\"u\","                     \
	"\"subject\":\"CN=r\"}"

static void
test_profile_default_parses(void **state)
{
	char err[1024];
	struct profile *p = profile_load(NULL, err, sizeof(err));
	int i;

	if (p == NULL)
		fail_msg("%s", err);
	assert_int_equal(p->nitems, 32);
	assert_string_equal(p->domain, "backend.test");
	assert_int_equal(p->nmembers, 8);
	assert_string_equal(p->members[7], "b8.backend.test");
	assert_string_equal(p->key_type, "rsa2048");
	i = profile_find(p, "rotated-same-key");
	assert_true(i >= 0);
	assert_int_equal(p->items[i].key_from, profile_find(p, "ca-signed"));
	assert_true(profile_find(p, "rotated") >= 0);
	assert_int_equal(p->items[profile_find(p, "rotated")].key_from, -1);
	profile_free(p);
}

static void
test_profile_fixture_matches_builtin(void **state)
{
	json_error_t jerr;
	json_t *fixture, *builtin;

	fixture =
	    json_load_file("fixtures/certs/default-profile.json", 0, &jerr);
	builtin = json_loads(profile_default_json(), 0, &jerr);
	assert_non_null(fixture);
	assert_non_null(builtin);
	assert_true(json_equal(fixture, builtin));
	json_decref(fixture);
	json_decref(builtin);
}

static void
test_profile_hosts_expand_to_domain_and_members(void **state)
{
	char err[1024];
	struct profile *p = profile_load(NULL, err, sizeof(err));
	const struct profile_item *it;

	assert_non_null(p);
	it = &p->items[profile_find(p, "ca-signed")];
	assert_int_equal(it->nsans, 9);
	assert_string_equal(it->sans[0], "DNS:backend.test");
	assert_string_equal(it->sans[1], "DNS:b1.backend.test");
	assert_string_equal(it->subject, "CN=backend.test");
	it = &p->items[profile_find(p, "ip-san")];
	assert_int_equal(it->nsans, 8);
	assert_string_equal(it->sans[0], "IP:127.0.1.1");
	assert_string_equal(it->sans[7], "IP:127.0.1.8");
	it = &p->items[profile_find(p, "cn-only")];
	assert_int_equal(it->nsans, 0);
	profile_free(p);
}

static void
test_profile_domain_substituted(void **state)
{
	char err[1024];
	struct profile *p =
	    parse("{\"hosts\":{\"domain\":\"x.test\"},"
	          "\"items\":[{\"name\":\"l\",\"role\":\"leaf\",\"use\":\"u\","
	          "\"subject\":\"CN=*.${domain}\",\"sans\":[\"@hosts\","
	          "\"DNS:www.${domain}\"]}]}",
	        err, sizeof(err));

	if (p == NULL)
		fail_msg("%s", err);
	assert_string_equal(p->items[0].subject, "CN=*.x.test");
	assert_int_equal(p->nmembers, 8);
	assert_string_equal(p->members[0], "b1.x.test");
	assert_int_equal(p->items[0].nsans, 10);
	assert_string_equal(p->items[0].sans[9], "DNS:www.x.test");
	profile_free(p);
}

static void
test_profile_role_defaults(void **state)
{
	char err[1024];
	struct profile *p = parse(
	    "{\"items\":[" ROOT ",{\"name\":\"i\","
	    "\"role\":\"intermediate\",\"issuer\":\"r\",\"use\":\"u\","
	    "\"subject\":\"CN=i\"},{\"name\":\"l\",\"role\":\"leaf\","
	    "\"issuer\":\"i\",\"use\":\"u\",\"subject\":\"CN=l\"},{\"name\":"
	    "\"g\",\"role\":\"listener\",\"issuer\":\"r\",\"use\":\"u\","
	    "\"subject\":\"CN=g\"}]}",
	    err, sizeof(err));

	if (p == NULL)
		fail_msg("%s", err);
	assert_true(p->items[0].ca);
	assert_int_equal(p->items[0].path_len, -1);
	assert_int_equal(p->items[0].issuer, -1);
	assert_true(p->items[1].ca);
	assert_int_equal(p->items[1].path_len, 0);
	assert_false(p->items[2].ca);
	assert_string_equal(p->items[2].ext_key_usage, "serverAuth");
	assert_string_equal(
	    p->items[2].key_usage, "digitalSignature,keyEncipherment");
	assert_int_equal(p->items[2].not_before.secs, -86400);
	assert_int_equal(p->items[2].not_after.secs, 365 * 86400);
	assert_null(p->items[2].pfx_password);
	assert_string_equal(p->items[3].pfx_password, "agw-lab");
	profile_free(p);
}

static void
test_profile_default_chain_is_leaf_and_intermediates(void **state)
{
	char err[1024];
	struct profile *p = parse(
	    "{\"items\":[" ROOT ",{\"name\":\"i\","
	    "\"role\":\"intermediate\",\"issuer\":\"r\",\"use\":\"u\","
	    "\"subject\":\"CN=i\"},{\"name\":\"l\",\"role\":\"leaf\","
	    "\"issuer\":\"i\",\"use\":\"u\",\"subject\":\"CN=l\"},{\"name\":"
	    "\"w\",\"role\":\"leaf\",\"issuer\":\"i\",\"use\":\"u\","
	    "\"subject\":\"CN=w\",\"chain\":[\"i\",\"self\",\"r\"]}]}",
	    err, sizeof(err));

	if (p == NULL)
		fail_msg("%s", err);
	assert_int_equal(p->items[0].nchain, 1);
	assert_int_equal(p->items[1].nchain, 1);
	assert_int_equal(p->items[2].nchain, 2);
	assert_int_equal(p->items[2].chain[0], 2);
	assert_int_equal(p->items[2].chain[1], 1);
	assert_int_equal(p->items[3].nchain, 3);
	assert_int_equal(p->items[3].chain[0], 1);
	assert_int_equal(p->items[3].chain[1], 3);
	assert_int_equal(p->items[3].chain[2], 0);
	profile_free(p);
}

static void
test_profile_unknown_item_key_names_path(void **state)
{
	expect_error("{\"items\":[{\"name\":\"r\",\"role\":\"root\","
	             "\"use\":\"u\",\"subject\":\"CN=r\",\"colour\":\"red\"}]}",
	    "items[0].colour: unknown key");
}

static void
test_profile_unknown_top_key_names_path(void **state)
{
	expect_error("{\"itemz\":[]}", "itemz: unknown key");
	expect_error("{\"hosts\":{\"domian\":\"x\"},\"items\":[" ROOT "]}",
	    "hosts.domian: unknown key");
}

static void
test_profile_impossible_dates_rejected(void **state)
{
	expect_error(
	    "{\"items\":[{\"name\":\"r\",\"role\":\"root\","
	    "\"use\":\"u\",\"subject\":\"CN=r\",\"not_before\":\"+10d\","
	    "\"not_after\":\"-10d\"}]}",
	    "items[0].not_after: not after "
	    "not_before");
}

static void
test_profile_mixed_dates_checked_at_now(void **state)
{
	char err[1024] = "";
	struct profile *p = parse("{\"items\":[{\"name\":\"r\",\"role\":"
	                          "\"root\",\"use\":\"u\",\"subject\":\"CN=r\","
	                          "\"not_after\":\"2026-01-01T00:00:00Z\"}]}",
	    err, sizeof(err));

	assert_non_null(p);
	assert_int_equal(
	    profile_check_dates(p, 1767225600 - 86400 * 100, err, sizeof(err)),
	    0);
	assert_int_equal(
	    profile_check_dates(p, 1767225600 + 86400 * 31, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "test.json: items[0].not_after: "
	                            "2026-01-01T00:00:00Z is not after"));
	profile_free(p);
}

static void
test_profile_bad_offset_rejected(void **state)
{
	expect_error(
	    "{\"items\":[{\"name\":\"r\",\"role\":\"root\","
	    "\"use\":\"u\",\"subject\":\"CN=r\",\"not_before\":\"30 days\"}]}",
	    "items[0].not_before: not an offset");
}

static void
test_profile_missing_issuer_rejected(void **state)
{
	expect_error(
	    "{\"items\":[" ROOT ",{\"name\":\"l\",\"role\":\"leaf\","
	    "\"issuer\":\"nope\",\"use\":\"u\",\"subject\":\"CN=l\"}]}",
	    "items[1].issuer: no item named 'nope'");
	expect_error("{\"items\":[" ROOT ",{\"name\":\"i\",\"role\":"
	             "\"intermediate\",\"use\":\"u\",\"subject\":\"CN=i\"}]}",
	    "items[1].issuer: missing");
}

static void
test_profile_bad_key_usage_names_index(void **state)
{
	expect_error("{\"items\":[{\"name\":\"r\",\"role\":\"root\","
	             "\"use\":\"u\",\"subject\":\"CN=r\",\"key_usage\":"
	             "[\"keyCertSign\",\"signEverything\"]}]}",
	    "items[0].key_usage[1]: unknown name 'signEverything'");
	expect_error("{\"items\":[{\"name\":\"r\",\"role\":\"root\","
	             "\"use\":\"u\",\"subject\":\"CN=r\",\"ext_key_usage\":"
	             "[\"serverAuht\"]}]}",
	    "items[0].ext_key_usage[0]");
}

static void
test_profile_bad_san_rejected(void **state)
{
	expect_error(
	    "{\"items\":[{\"name\":\"l\",\"role\":\"leaf\","
	    "\"use\":\"u\",\"subject\":\"CN=l\",\"sans\":[\"IP:300.1.1.1\"]}]}",
	    "items[0].sans[0]");
	expect_error(
	    "{\"items\":[{\"name\":\"l\",\"role\":\"leaf\","
	    "\"use\":\"u\",\"subject\":\"CN=l\",\"sans\":[\"backend.test\"]}]}",
	    "items[0].sans[0]");
}

static void
test_profile_bad_values_rejected(void **state)
{
	expect_error("{\"items\":[{\"name\":\"r\",\"role\":\"boss\","
	             "\"use\":\"u\",\"subject\":\"CN=r\"}]}",
	    "items[0].role");
	expect_error("{\"items\":[{\"name\":\"r\",\"role\":\"root\","
	             "\"use\":\"u\",\"subject\":\"cn r\"}]}",
	    "items[0].subject");
	expect_error(
	    "{\"items\":[{\"name\":\"r\",\"role\":\"root\","
	    "\"use\":\"u\",\"subject\":\"CN=r\",\"key_type\":\"rsa512\"}]}",
	    "items[0].key_type");
	expect_error("{\"items\":[{\"name\":\"r\",\"role\":\"root\","
	             "\"subject\":\"CN=r\"}]}",
	    "items[0].use: missing");
	expect_error("{\"items\":[" ROOT "," ROOT "]}",
	    "items[1].name: 'r' is already items[0]");
	expect_error("{\"items\":[" ROOT ",{\"name\":\"l\",\"role\":\"leaf\","
	             "\"use\":\"u\",\"subject\":\"CN=l\",\"key_from\":\"r\","
	             "\"key_type\":\"ec-p256\"}]}",
	    "items[1].key_type: cannot");
	expect_error("{\"version\":2,\"items\":[" ROOT "]}", "version");
	expect_error("{\"items\":[]}", "items: missing");
}

static void
test_profile_parse_when_offsets(void **state)
{
	struct profile_when w;

	assert_int_equal(profile_parse_when("-30d", &w), 0);
	assert_false(w.absolute);
	assert_int_equal(w.secs, -30 * 86400);
	assert_int_equal(profile_parse_when("+12h", &w), 0);
	assert_int_equal(w.secs, 12 * 3600);
	assert_int_equal(profile_parse_when("0", &w), 0);
	assert_int_equal(w.secs, 0);
	assert_int_equal(profile_parse_when("2026-01-01T00:00:00Z", &w), 0);
	assert_true(w.absolute);
	assert_int_equal(w.secs, 1767225600);
	assert_int_equal(profile_when_at(&w, 5), 1767225600);
	assert_int_equal(profile_parse_when("30d", &w), -1);
	assert_int_equal(profile_parse_when("+30w", &w), -1);
	assert_int_equal(profile_parse_when("+d", &w), -1);
}

static void
test_profile_parse_time_forms(void **state)
{
	char buf[40];
	int64_t t;

	assert_int_equal(profile_parse_time("2026-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 1767225600);
	assert_int_equal(profile_parse_time("@1767225600", &t), 0);
	assert_int_equal(t, 1767225600);
	assert_int_equal(profile_parse_time("2026-01-01", &t), 0);
	assert_int_equal(t, 1767225600);
	assert_string_equal(
	    profile_format_time(t, buf, sizeof(buf)), "2026-01-01T00:00:00Z");
	assert_int_equal(profile_parse_time("2026-13-01T00:00:00Z", &t), -1);
	assert_int_equal(profile_parse_time("yesterday", &t), -1);
	assert_int_equal(profile_parse_time("@12x", &t), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_profile_default_parses),
	    cmocka_unit_test(test_profile_fixture_matches_builtin),
	    cmocka_unit_test(test_profile_hosts_expand_to_domain_and_members),
	    cmocka_unit_test(test_profile_domain_substituted),
	    cmocka_unit_test(test_profile_role_defaults),
	    cmocka_unit_test(
	        test_profile_default_chain_is_leaf_and_intermediates),
	    cmocka_unit_test(test_profile_unknown_item_key_names_path),
	    cmocka_unit_test(test_profile_unknown_top_key_names_path),
	    cmocka_unit_test(test_profile_impossible_dates_rejected),
	    cmocka_unit_test(test_profile_bad_offset_rejected),
	    cmocka_unit_test(test_profile_mixed_dates_checked_at_now),
	    cmocka_unit_test(test_profile_missing_issuer_rejected),
	    cmocka_unit_test(test_profile_bad_key_usage_names_index),
	    cmocka_unit_test(test_profile_bad_san_rejected),
	    cmocka_unit_test(test_profile_bad_values_rejected),
	    cmocka_unit_test(test_profile_parse_when_offsets),
	    cmocka_unit_test(test_profile_parse_time_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
