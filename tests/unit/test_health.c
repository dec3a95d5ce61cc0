#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "health.h"
#include "log.h"

static void
test_health_new_entry_is_unknown(void **state)
{
	struct health *h = health_new();
	struct health_entry *e;
	struct health_info info;

	assert_non_null(h);
	assert_int_equal(health_get(h, "pool", "127.0.1.1", "s", &info), -1);
	assert_int_equal(info.state, HEALTH_UNKNOWN);
	e = health_entry(h, "pool", "127.0.1.1", "s");
	assert_non_null(e);
	assert_ptr_equal(health_entry(h, "pool", "127.0.1.1", "s"), e);
	assert_int_equal(health_entry_state(e), HEALTH_UNKNOWN);
	assert_int_equal(health_get(h, "pool", "127.0.1.1", "s", &info), 0);
	assert_int_equal(info.reason, REASON_UNKNOWN);
	assert_string_equal(info.text, "");
	health_free(h);
}

static void
test_health_eligibility_rule(void **state)
{
	assert_true(health_is_eligible(HEALTH_HEALTHY));
	assert_false(health_is_eligible(HEALTH_UNHEALTHY));
	/* Spec 5: unhealthy until the first successful probe. */
	assert_false(health_is_eligible(HEALTH_UNKNOWN));
	assert_false(health_entry_eligible(NULL));
}

static void
test_health_set_and_get_text(void **state)
{
	struct health *h = health_new();
	struct health_entry *e;
	struct health_info info;

	assert_int_equal(health_set(h, "pool", "a.contoso.com", "s",
			     HEALTH_UNHEALTHY, REASON_CONNECT, "no route"),
	    0);
	assert_int_equal(health_get(h, "pool", "a.contoso.com", "s", &info), 0);
	assert_int_equal(info.state, HEALTH_UNHEALTHY);
	assert_int_equal(info.reason, REASON_CONNECT);
	assert_string_equal(info.text, "no route");
	e = health_entry(h, "pool", "a.contoso.com", "s");
	assert_false(health_entry_eligible(e));
	health_entry_set(h, e, HEALTH_HEALTHY, REASON_OK, NULL);
	assert_true(health_entry_eligible(e));
	assert_int_equal(health_get(h, "pool", "a.contoso.com", "s", &info), 0);
	assert_string_equal(info.text, "");
	health_free(h);
}

static void
test_health_key_has_three_parts(void **state)
{
	struct health *h = health_new();
	struct health_info info;

	health_set(h, "p", "m", "s1", HEALTH_UNHEALTHY, REASON_CONNECT, NULL);
	assert_int_equal(health_get(h, "p", "m", "s2", &info), -1);
	assert_int_equal(health_get(h, "p2", "m", "s1", &info), -1);
	assert_int_equal(health_get(h, "p", "m2", "s1", &info), -1);
	assert_int_equal(health_get(h, "p", "m", "s1", &info), 0);
	health_free(h);
}

struct health_thread_arg {
	struct health *h;
	int id;
};

static void *
health_thread(void *p)
{
	struct health_thread_arg *a = p;
	char member[32];
	struct health_info info;

	for (int i = 0; i < 2000; i++) {
		snprintf(member, sizeof(member), "127.0.1.%d", i % 50);
		health_set(a->h, "pool", member, "s",
		    (i + a->id) % 2 ? HEALTH_HEALTHY : HEALTH_UNHEALTHY,
		    REASON_CONNECT, (i % 3) ? "text" : NULL);
		health_get(a->h, "pool", member, "s", &info);
		(void)health_entry_eligible(
		    health_entry(a->h, "pool", member, "s"));
	}
	return NULL;
}

static void
count_entry(const struct health_info *info, void *arg)
{
	(*(int *)arg)++;
}

static void
test_health_concurrent_writers(void **state)
{
	struct health *h = health_new();
	struct health_thread_arg args[4];
	pthread_t t[4];
	int n = 0;

	for (int i = 0; i < 4; i++) {
		args[i] = (struct health_thread_arg){ h, i };
		assert_int_equal(pthread_create(&t[i], NULL, health_thread,
				     &args[i]),
		    0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	health_foreach(h, count_entry, &n);
	assert_int_equal(n, 50); /* one entry per key, never duplicated */
	health_free(h);
}

/* One pool of two members, two settings: Basic rule with s-a, a path map
 * default with s-b; a third setting no rule uses. */
static void
test_health_backend_json_shape(void **state)
{
	struct config_member members[2] = {
		{ CONFIG_MEMBER_IP, (char[]){ "127.0.1.1" } },
		{ CONFIG_MEMBER_FQDN, (char[]){ "b.contoso.com" } },
	};
	struct config_pool pool = { (char[]){ "pool1" }, members, 2 };
	struct config_settings settings[3] = { { .name = (char[]){ "s-a" } },
		{ .name = (char[]){ "s-b" } }, { .name = (char[]){ "s-c" } } };
	struct config_rule rules[1] = { { (char[]){ "r" }, CONFIG_RULE_BASIC,
		0, 0, 0, 0, -1 } };
	struct config_path_map map = { (char[]){ "m" }, 0, 1, NULL, 0 };
	struct config c;
	struct health *h = health_new();
	json_t *j, *sets, *srv;
	char *dump;

	memset(&c, 0, sizeof(c));
	c.name = (char[]){ "gw1" };
	c.pools = &pool;
	c.npools = 1;
	c.settings = settings;
	c.nsettings = 3;
	c.rules = rules;
	c.nrules = 1;
	c.path_maps = &map;
	c.npath_maps = 1;
	health_set(h, "pool1", "127.0.1.1", "s-a", HEALTH_HEALTHY, REASON_OK,
	    "Success. Received 200 status code");

	j = health_backend_json(&c, h);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j,
			     "backendAddressPools")),
	    1);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(json_array_get(json_object_get(j,
							    "backendAddressPools"),
						    0),
				    "backendAddressPool"),
				"id")),
	    "/subscriptions/00000000-0000-0000-0000-000000000000/"
	    "resourceGroups/agw-lab/providers/Microsoft.Network/"
	    "applicationGateways/gw1/backendAddressPools/pool1");
	sets = json_object_get(json_array_get(json_object_get(j,
						  "backendAddressPools"),
				   0),
	    "backendHttpSettingsCollection");
	assert_int_equal(json_array_size(sets), 2); /* s-c is unused */
	srv = json_object_get(json_array_get(sets, 0), "servers");
	assert_int_equal(json_array_size(srv), 2);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(srv, 0), "address")),
	    "127.0.1.1");
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(srv, 0), "health")),
	    "Healthy");
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(srv, 0), "healthProbeLog")),
	    "Success. Received 200 status code");
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(srv, 1), "health")),
	    "Unknown");
	assert_non_null(json_string_value(json_object_get(
	    json_array_get(srv, 1), "healthProbeLog")));
	dump = json_dumps(json_object_get(json_array_get(sets, 1),
				 "backendHttpSettings"),
	    JSON_COMPACT);
	assert_non_null(strstr(dump,
	    "/applicationGateways/gw1/backendHttpSettingsCollection/s-b\""));
	free(dump);
	json_decref(j);

	/* A configuration with an id: derived from it. */
	c.id = (char[]){ "/subscriptions/1/resourceGroups/rg/providers/"
			 "Microsoft.Network/applicationGateways/gw1" };
	j = health_backend_json(&c, h);
	dump = json_dumps(j, JSON_COMPACT);
	assert_non_null(strstr(dump,
	    "\"/subscriptions/1/resourceGroups/rg/providers/Microsoft.Network/"
	    "applicationGateways/gw1/backendAddressPools/pool1\""));
	free(dump);
	json_decref(j);
	health_free(h);
}

static void
test_health_state_names(void **state)
{
	assert_string_equal(health_state_name(HEALTH_HEALTHY), "Healthy");
	assert_string_equal(health_state_name(HEALTH_UNHEALTHY), "Unhealthy");
	assert_string_equal(health_state_name(HEALTH_UNKNOWN), "Unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health_new_entry_is_unknown),
		cmocka_unit_test(test_health_eligibility_rule),
		cmocka_unit_test(test_health_set_and_get_text),
		cmocka_unit_test(test_health_key_has_three_parts),
		cmocka_unit_test(test_health_concurrent_writers),
		cmocka_unit_test(test_health_backend_json_shape),
		cmocka_unit_test(test_health_state_names),
	};

	log_init("test_health", LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
