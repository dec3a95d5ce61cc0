#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "route.h"

/*
 * One hand-built snapshot (what config_load_file would give):
 *   frontend ports: 0 "fp80" (80), 1 "fp443" (443)
 *   listeners: 0 basic80 (fp80), 1 contoso (fp80, www.contoso.com),
 *              2 fabrikam (fp80, *.fabrikam.com),
 *              3 secure (fp443, Https, secure.contoso.com, require SNI)
 *   rules (list order = v2 priority order here):
 *              0 r-basic -> basic80, Basic pool-a/s-plain
 *              1 r-contoso -> contoso, PathBasedRouting map 0
 *              2 r-fabrikam -> fabrikam, Basic pool-c/s-plain
 *              3 r-secure -> secure, Basic pool-d/s-plain
 *   map 0: default pool-a/s-plain;
 *          images ["/images/" + '*'] -> pool-b; logo ["/images/logo.png"]
 *          -> pool-c; api ["/api/" + '*'] -> pool-d/s-override (path "/o/")
 */
enum { POOL_A, POOL_B, POOL_C, POOL_D };
enum { S_PLAIN, S_OVERRIDE };

static char *strs[64];
static size_t nstrs;

static char *
S(const char *s)
{
	char *p = strdup(s);

	assert_non_null(p);
	assert_true(nstrs < sizeof(strs) / sizeof(strs[0]));
	strs[nstrs++] = p;
	return p;
}

static struct config_frontend_port ports[2];
static struct config_pool pools[4];
static struct config_settings settings[2];
static char *names_contoso[1], *names_fabrikam[1], *names_secure[1];
static struct config_listener listeners[4];
static char *paths_images[1], *paths_logo[1], *paths_api[1];
static struct config_path_rule path_rules[3];
static struct config_path_map maps[1];
static struct config_rule rules[4];
static struct config cfg;

static int
setup(void **state)
{
	static const char *pool_names[] = { "pool-a", "pool-b", "pool-c",
		"pool-d" };

	memset(&cfg, 0, sizeof(cfg));
	cfg.sku = CONFIG_SKU_V1;
	ports[0] = (struct config_frontend_port){ S("fp80"), 80 };
	ports[1] = (struct config_frontend_port){ S("fp443"), 443 };
	for (int i = 0; i < 4; i++)
		pools[i] = (struct config_pool){ S(pool_names[i]), NULL, 0 };
	memset(settings, 0, sizeof(settings));
	settings[S_PLAIN].name = S("s-plain");
	settings[S_PLAIN].port = 80;
	settings[S_OVERRIDE].name = S("s-override");
	settings[S_OVERRIDE].port = 80;
	settings[S_OVERRIDE].path = S("/o/");

	names_contoso[0] = S("www.contoso.com");
	names_fabrikam[0] = S("*.fabrikam.com");
	names_secure[0] = S("secure.contoso.com");
	memset(listeners, 0, sizeof(listeners));
	listeners[0] = (struct config_listener){ S("basic80"), 0,
		CONFIG_PROTO_HTTP, NULL, 0, -1, 0 };
	listeners[1] = (struct config_listener){ S("contoso"), 0,
		CONFIG_PROTO_HTTP, names_contoso, 1, -1, 0 };
	listeners[2] = (struct config_listener){ S("fabrikam"), 0,
		CONFIG_PROTO_HTTP, names_fabrikam, 1, -1, 0 };
	listeners[3] = (struct config_listener){ S("secure"), 1,
		CONFIG_PROTO_HTTPS, names_secure, 1, 0, 1 };

	paths_images[0] = S("/images/*");
	paths_logo[0] = S("/images/logo.png");
	paths_api[0] = S("/api/*");
	path_rules[0] = (struct config_path_rule){ S("images"), paths_images,
		1, POOL_B, S_PLAIN };
	path_rules[1] = (struct config_path_rule){ S("logo"), paths_logo, 1,
		POOL_C, S_PLAIN };
	path_rules[2] = (struct config_path_rule){ S("api"), paths_api, 1,
		POOL_D, S_OVERRIDE };
	maps[0] = (struct config_path_map){ S("map"), POOL_A, S_PLAIN,
		path_rules, 3 };

	rules[0] = (struct config_rule){ S("r-basic"), CONFIG_RULE_BASIC, 0, 0,
		POOL_A, S_PLAIN, -1 };
	rules[1] = (struct config_rule){ S("r-contoso"), CONFIG_RULE_PATH, 0,
		1, -1, -1, 0 };
	rules[2] = (struct config_rule){ S("r-fabrikam"), CONFIG_RULE_BASIC, 0,
		2, POOL_C, S_PLAIN, -1 };
	rules[3] = (struct config_rule){ S("r-secure"), CONFIG_RULE_BASIC, 0,
		3, POOL_D, S_PLAIN, -1 };

	cfg.frontend_ports = ports;
	cfg.nfrontend_ports = 2;
	cfg.pools = pools;
	cfg.npools = 4;
	cfg.settings = settings;
	cfg.nsettings = 2;
	cfg.listeners = listeners;
	cfg.nlisteners = 4;
	cfg.rules = rules;
	cfg.nrules = 4;
	cfg.path_maps = maps;
	cfg.npath_maps = 1;
	return 0;
}

static int
teardown(void **state)
{
	while (nstrs > 0)
		free(strs[--nstrs]);
	return 0;
}

static void
test_route_host_wildcards(void **state)
{
	assert_true(route_host_match("*", "anything.example"));
	assert_true(route_host_match("*.contoso.com", "a.contoso.com"));
	assert_true(route_host_match("*.contoso.com", "a.b.CONTOSO.com"));
	assert_false(route_host_match("*.contoso.com", "contoso.com"));
	assert_true(route_host_match("www?.contoso.com", "www1.contoso.com"));
	assert_false(route_host_match("www?.contoso.com", "www.contoso.com"));
	assert_true(route_host_match("WWW.Contoso.COM", "www.contoso.com"));
	assert_false(route_host_match("www.contoso.com", "www.contoso.co"));
}

static void
test_route_multisite_host_case_and_port(void **state)
{
	struct route_result r;

	assert_int_equal(route_match(&cfg, 0, NULL, "WWW.Contoso.com:8080",
			     "/", &r),
	    ROUTE_OK);
	assert_int_equal(r.listener, 1);
	assert_int_equal(r.rule, 1);
	assert_int_equal(route_match(&cfg, 0, NULL, "www.contoso.com.", "/",
			     &r),
	    ROUTE_OK);
	assert_int_equal(r.listener, 1);
}

static void
test_route_multisite_before_basic(void **state)
{
	/* The basic listener's rule comes first, the multi-site listener
	 * still wins for its host. */
	assert_int_equal(route_listener(&cfg, 0, NULL, "www.contoso.com",
			     NULL),
	    1);
}

static void
test_route_wildcard_listener(void **state)
{
	struct route_result r;

	assert_int_equal(route_match(&cfg, 0, NULL, "shop.fabrikam.com",
			     "/x", &r),
	    ROUTE_OK);
	assert_int_equal(r.listener, 2);
	assert_int_equal(r.pool, POOL_C);
	assert_int_equal(r.path_map, -1);
}

static void
test_route_basic_fallback(void **state)
{
	struct route_result r;

	assert_int_equal(route_match(&cfg, 0, NULL, "fabrikam.com", "/", &r),
	    ROUTE_OK);
	assert_int_equal(r.listener, 0);
	assert_int_equal(r.pool, POOL_A);
	assert_int_equal(route_match(&cfg, 0, NULL, NULL, "/", &r), ROUTE_OK);
	assert_int_equal(r.listener, 0);
}

static void
test_route_no_listener_on_port(void **state)
{
	struct route_result r;

	assert_int_equal(route_match(&cfg, 1, "other.example",
			     "other.example", "/", &r),
	    ROUTE_NO_LISTENER);
	assert_int_equal(r.listener, -1);
	assert_int_equal(r.pool, -1);
}

static void
test_route_require_sni(void **state)
{
	struct route_result r;
	enum route_status st;

	assert_int_equal(route_match(&cfg, 1, NULL, "secure.contoso.com", "/",
			     &r),
	    ROUTE_SNI_REQUIRED);
	assert_int_equal(route_match(&cfg, 1, "secure.contoso.com",
			     "secure.contoso.com", "/", &r),
	    ROUTE_OK);
	assert_int_equal(r.pool, POOL_D);
	/* At handshake time: by SNI alone. */
	assert_int_equal(route_listener(&cfg, 1, "Secure.Contoso.com", NULL,
			     &st),
	    3);
	assert_int_equal(st, ROUTE_OK);
}

static void
test_route_path_v1_first_in_list_order(void **state)
{
	struct route_result r;

	cfg.sku = CONFIG_SKU_V1;
	assert_int_equal(route_match(&cfg, 0, NULL, "www.contoso.com",
			     "/images/logo.png", &r),
	    ROUTE_OK);
	assert_int_equal(r.path_rule, 0);
	assert_int_equal(r.pool, POOL_B);
}

static void
test_route_path_v2_exact_first(void **state)
{
	struct route_result r;

	cfg.sku = CONFIG_SKU_V2;
	assert_int_equal(route_match(&cfg, 0, NULL, "www.contoso.com",
			     "/images/logo.png?size=2", &r),
	    ROUTE_OK);
	assert_int_equal(r.path_rule, 1);
	assert_int_equal(r.pool, POOL_C);
	/* Not exact: the wildcard, in list order. */
	assert_int_equal(route_match(&cfg, 0, NULL, "www.contoso.com",
			     "/images/a.png", &r),
	    ROUTE_OK);
	assert_int_equal(r.path_rule, 0);
}

static void
test_route_path_map_default(void **state)
{
	struct route_result r;

	assert_int_equal(route_match(&cfg, 0, NULL, "www.contoso.com",
			     "/images", &r),
	    ROUTE_OK);
	assert_int_equal(r.path_map, 0);
	assert_int_equal(r.path_rule, -1);
	assert_int_equal(r.pool, POOL_A);
	assert_int_equal(r.settings, S_PLAIN);
}

static void
test_route_v2_priority_order(void **state)
{
	struct config_rule saved[4];
	struct route_result r;

	/* The wildcard listener takes www.contoso.com too, and its rule comes
	 * first in priority order: it wins over the exact host. */
	memcpy(saved, rules, sizeof(saved));
	cfg.sku = CONFIG_SKU_V2;
	names_fabrikam[0][0] = '*';
	names_fabrikam[0][1] = '\0';
	rules[0] = saved[2];
	rules[0].priority = 10;
	rules[1] = saved[1];
	rules[1].priority = 20;
	rules[2] = saved[0];
	rules[2].priority = 30;
	assert_int_equal(route_match(&cfg, 0, NULL, "www.contoso.com", "/",
			     &r),
	    ROUTE_OK);
	assert_int_equal(r.listener, 2);
	assert_int_equal(r.rule, 0);
	/* Swap the priorities: the exact host's rule is first now. */
	rules[0] = saved[1];
	rules[1] = saved[2];
	assert_int_equal(route_match(&cfg, 0, NULL, "www.contoso.com", "/",
			     &r),
	    ROUTE_OK);
	assert_int_equal(r.listener, 1);
	memcpy(rules, saved, sizeof(saved));
}

static void
test_route_no_rule(void **state)
{
	struct route_result r;

	cfg.nrules = 1; /* only r-basic */
	assert_int_equal(route_match(&cfg, 0, NULL, "www.contoso.com", "/",
			     &r),
	    ROUTE_NO_RULE);
	assert_int_equal(r.listener, 1);
	assert_string_equal(route_status_name(ROUTE_NO_RULE), "no_rule");
}

static void
test_route_upstream_path_override(void **state)
{
	struct route_result r;
	char buf[128];

	/* No override: unchanged. */
	assert_int_equal(route_match(&cfg, 0, NULL, "x", "/home/a?q=1", &r),
	    ROUTE_OK);
	assert_int_equal(route_upstream_path(&cfg, &r, "/home/a?q=1", buf,
			     sizeof(buf)),
	    11);
	assert_string_equal(buf, "/home/a?q=1");
	/* Wildcard path rule: its prefix replaced. */
	assert_int_equal(route_match(&cfg, 0, NULL, "www.contoso.com",
			     "/api/v1/users?x=2", &r),
	    ROUTE_OK);
	assert_int_equal(r.settings, S_OVERRIDE);
	assert_true(route_upstream_path(&cfg, &r, "/api/v1/users?x=2", buf,
			sizeof(buf)) > 0);
	assert_string_equal(buf, "/o/v1/users?x=2");
	/* Basic rule: the override is prepended. */
	rules[0].settings = S_OVERRIDE;
	assert_int_equal(route_match(&cfg, 0, NULL, "x", "/home/", &r),
	    ROUTE_OK);
	assert_true(route_upstream_path(&cfg, &r, "/home/", buf,
			sizeof(buf)) > 0);
	assert_string_equal(buf, "/o/home/");
	/* Too small a buffer. */
	assert_int_equal(route_upstream_path(&cfg, &r, "/home/", buf, 4), -1);
	rules[0].settings = S_PLAIN;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_host_wildcards),
		cmocka_unit_test_setup_teardown(
		    test_route_multisite_host_case_and_port, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_route_multisite_before_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_wildcard_listener,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_basic_fallback,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_no_listener_on_port,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_require_sni, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_route_path_v1_first_in_list_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_path_v2_exact_first,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_path_map_default,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_v2_priority_order,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_no_rule, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_route_upstream_path_override, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
