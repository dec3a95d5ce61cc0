#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "probe.h"
#include "upstream.h"
#include "worker.h"

/*
 * The pure parts of probe.c. The prober's network side is exercised end to
 * end (tests/e2e/test_probe*.py); the few outside functions it calls are
 * stubbed here so the module links alone.
 */
int
worker_resolve(struct gateway *gw, const char *address, struct net_addr *out)
{
	return -1;
}

struct runtime *
worker_runtime_ref(struct runtime *rt)
{
	return rt;
}

void
worker_runtime_unref(struct runtime *rt)
{
}

struct upstream_conn *
upstream_connect(struct event_base *base, const struct upstream_target *t,
    upstream_cb cb, void *arg)
{
	return NULL;
}

void
upstream_free(struct upstream_conn *uc)
{
}

/* --- status and body matching -------------------------------------------- */

static void
test_probe_status_default_range(void **state)
{
	assert_false(probe_status_match(NULL, 199));
	assert_true(probe_status_match(NULL, 200));
	assert_true(probe_status_match(NULL, 302));
	assert_true(probe_status_match(NULL, 399));
	assert_false(probe_status_match(NULL, 400));
	assert_false(probe_status_match(NULL, 500));
}

static void
test_probe_status_custom_ranges(void **state)
{
	struct { int lo, hi; } r[2] = { { 200, 200 }, { 401, 403 } };
	struct config_match m;

	memset(&m, 0, sizeof(m));
	m.status = (void *)r;
	m.nstatus = 2;
	assert_true(probe_status_match(&m, 200));
	assert_false(probe_status_match(&m, 201));
	assert_true(probe_status_match(&m, 401));
	assert_true(probe_status_match(&m, 403));
	assert_false(probe_status_match(&m, 404));
	assert_false(probe_status_match(&m, 302));
}

static void
test_probe_status_empty_match_is_default(void **state)
{
	struct config_match m;

	memset(&m, 0, sizeof(m));
	assert_true(probe_status_match(&m, 204));
	assert_false(probe_status_match(&m, 404));
}

static void
test_probe_expected_text(void **state)
{
	struct { int lo, hi; } r[3] = { { 200, 399 }, { 404, 404 },
		{ 500, 503 } };
	struct config_match m;
	char buf[64];

	assert_string_equal(probe_expected_str(NULL, buf, sizeof(buf)),
	    "200-399");
	memset(&m, 0, sizeof(m));
	m.status = (void *)r;
	m.nstatus = 1;
	assert_string_equal(probe_expected_str(&m, buf, sizeof(buf)),
	    "200-399");
	m.nstatus = 3;
	assert_string_equal(probe_expected_str(&m, buf, sizeof(buf)),
	    "200-399,404,500-503");
	/* truncation stays terminated */
	assert_int_equal(strlen(probe_expected_str(&m, buf, 5)), 4);
}

static void
test_probe_body_substring(void **state)
{
	static char healthy[] = "healthy";
	struct config_match m;
	const char body[] = "status: healthy\n";

	memset(&m, 0, sizeof(m));
	assert_true(probe_body_match(&m, NULL, 0)); /* no body rule */
	m.body = healthy;
	assert_true(probe_body_match(&m, body, sizeof(body) - 1));
	assert_false(probe_body_match(&m, body, 10)); /* cut before it */
	assert_false(probe_body_match(&m, "unhealthy!", 4));
	assert_false(probe_body_match(&m, NULL, 0));
	assert_true(probe_body_match(&m, "healthy", 7));
}

/* --- counting ------------------------------------------------------------ */

static void
test_probe_count_unhealthy_until_first_success(void **state)
{
	struct probe_count pc;

	memset(&pc, 0, sizeof(pc));
	assert_int_equal(pc.state, HEALTH_UNKNOWN);
	assert_int_equal(probe_count_result(&pc, 0, 3), HEALTH_UNHEALTHY);
	assert_int_equal(probe_count_result(&pc, 1, 3), HEALTH_HEALTHY);
}

static void
test_probe_count_threshold(void **state)
{
	struct probe_count pc;

	memset(&pc, 0, sizeof(pc));
	probe_count_result(&pc, 1, 3);
	assert_int_equal(probe_count_result(&pc, 0, 3), HEALTH_HEALTHY);
	assert_int_equal(probe_count_result(&pc, 0, 3), HEALTH_HEALTHY);
	assert_int_equal(pc.failures, 2);
	assert_int_equal(probe_count_result(&pc, 0, 3), HEALTH_UNHEALTHY);
	assert_int_equal(probe_count_result(&pc, 0, 3), HEALTH_UNHEALTHY);
}

static void
test_probe_count_success_resets_failures(void **state)
{
	struct probe_count pc;

	memset(&pc, 0, sizeof(pc));
	probe_count_result(&pc, 1, 3);
	probe_count_result(&pc, 0, 3);
	probe_count_result(&pc, 0, 3);
	probe_count_result(&pc, 1, 3);
	assert_int_equal(pc.failures, 0);
	assert_int_equal(probe_count_result(&pc, 0, 3), HEALTH_HEALTHY);
	assert_int_equal(probe_count_result(&pc, 0, 3), HEALTH_HEALTHY);
}

static void
test_probe_count_one_success_heals(void **state)
{
	struct probe_count pc;
	int i;

	memset(&pc, 0, sizeof(pc));
	probe_count_result(&pc, 1, 2);
	for (i = 0; i < 5; i++)
		probe_count_result(&pc, 0, 2);
	assert_int_equal(pc.state, HEALTH_UNHEALTHY);
	assert_int_equal(probe_count_result(&pc, 1, 2), HEALTH_HEALTHY);
}

static void
test_probe_count_threshold_one(void **state)
{
	struct probe_count pc;

	memset(&pc, 0, sizeof(pc));
	probe_count_result(&pc, 1, 1);
	assert_int_equal(probe_count_result(&pc, 0, 1), HEALTH_UNHEALTHY);
}

/* --- minServers ---------------------------------------------------------- */

static void
test_probe_min_servers_forces_first_members(void **state)
{
	enum health_state raw[4] = { HEALTH_UNHEALTHY, HEALTH_UNKNOWN,
		HEALTH_UNHEALTHY, HEALTH_UNHEALTHY };
	enum health_state out[4];

	assert_int_equal(probe_min_servers(raw, 4, 2, out), 2);
	assert_int_equal(out[0], HEALTH_HEALTHY);
	assert_int_equal(out[1], HEALTH_HEALTHY);
	assert_int_equal(out[2], HEALTH_UNHEALTHY);
	assert_int_equal(out[3], HEALTH_UNHEALTHY);
}

static void
test_probe_min_servers_counts_healthy_ones(void **state)
{
	enum health_state raw[3] = { HEALTH_UNHEALTHY, HEALTH_HEALTHY,
		HEALTH_UNHEALTHY };
	enum health_state out[3];

	assert_int_equal(probe_min_servers(raw, 3, 2, out), 1);
	assert_int_equal(out[0], HEALTH_HEALTHY);
	assert_int_equal(out[1], HEALTH_HEALTHY);
	assert_int_equal(out[2], HEALTH_UNHEALTHY);
	assert_int_equal(probe_min_servers(raw, 3, 1, out), 0);
	assert_int_equal(out[0], HEALTH_UNHEALTHY);
}

static void
test_probe_min_servers_zero_and_over(void **state)
{
	enum health_state raw[2] = { HEALTH_UNHEALTHY, HEALTH_UNHEALTHY };
	enum health_state out[2];

	assert_int_equal(probe_min_servers(raw, 2, 0, out), 0);
	assert_int_equal(out[0], HEALTH_UNHEALTHY);
	assert_int_equal(probe_min_servers(raw, 2, 5, out), 2);
	assert_int_equal(out[1], HEALTH_HEALTHY);
}

/* --- timing -------------------------------------------------------------- */

static void
test_probe_scale(void **state)
{
	assert_int_equal(probe_scaled_ms(30, 1.0), 30000);
	assert_int_equal(probe_scaled_ms(30, 0.01), 300);
	assert_int_equal(probe_scaled_ms(1, 0.0001), 1); /* at least 1 ms */
	assert_int_equal(probe_scaled_ms(0, 1.0), 1);
	assert_int_equal(probe_scaled_ms(120, 2.0), 240000);
}

static void
test_probe_next_delay_v1_retries_quickly(void **state)
{
	struct probe_params pp;
	struct probe_count pc;

	memset(&pp, 0, sizeof(pp));
	pp.interval = 30;
	pp.threshold = 3;
	memset(&pc, 0, sizeof(pc));
	probe_count_result(&pc, 1, 3);
	assert_int_equal(probe_next_delay_ms(CONFIG_SKU_V1, &pc, 1, &pp, 1.0),
	    30000);
	probe_count_result(&pc, 0, 3);
	assert_int_equal(probe_next_delay_ms(CONFIG_SKU_V1, &pc, 0, &pp, 1.0),
	    PROBE_V1_RETRY_S * 1000);
	assert_int_equal(probe_next_delay_ms(CONFIG_SKU_V2, &pc, 0, &pp, 1.0),
	    30000);
	probe_count_result(&pc, 0, 3);
	probe_count_result(&pc, 0, 3); /* now unhealthy: back to interval */
	assert_int_equal(probe_next_delay_ms(CONFIG_SKU_V1, &pc, 0, &pp, 0.5),
	    15000);
}

/* --- parameters ---------------------------------------------------------- */

static void
test_probe_params_default(void **state)
{
	struct config c;
	struct config_settings s;
	struct probe_params pp;

	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	c.sku = CONFIG_SKU_V2;
	s.port = 8443;
	s.protocol = CONFIG_PROTO_HTTPS;
	s.probe = -1;
	probe_params(&c, &s, &pp);
	assert_null(pp.custom);
	assert_int_equal(pp.protocol, CONFIG_PROTO_HTTPS);
	assert_int_equal(pp.port, 8443);
	assert_string_equal(pp.path, "/");
	assert_int_equal(pp.interval, 30);
	assert_int_equal(pp.timeout, 30);
	assert_int_equal(pp.threshold, 3);
	assert_int_equal(pp.min_servers, 0);
	assert_null(pp.match);
}

static void
test_probe_params_custom_port_v2_only(void **state)
{
	static char path[] = "/health";
	struct config c;
	struct config_settings s;
	struct config_probe p;
	struct probe_params pp;

	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	memset(&p, 0, sizeof(p));
	p.protocol = CONFIG_PROTO_HTTP;
	p.path = path;
	p.interval = 5;
	p.timeout = 7;
	p.unhealthy_threshold = 2;
	p.min_servers = 1;
	p.port = 9000;
	c.probes = &p;
	c.nprobes = 1;
	s.port = 443;
	s.protocol = CONFIG_PROTO_HTTPS;
	s.probe = 0;
	c.sku = CONFIG_SKU_V2;
	probe_params(&c, &s, &pp);
	assert_ptr_equal(pp.custom, &p);
	assert_int_equal(pp.protocol, CONFIG_PROTO_HTTP);
	assert_int_equal(pp.port, 9000);
	assert_string_equal(pp.path, "/health");
	assert_int_equal(pp.interval, 5);
	assert_int_equal(pp.timeout, 7);
	assert_int_equal(pp.threshold, 2);
	assert_int_equal(pp.min_servers, 1);
	assert_ptr_equal(pp.match, &p.match);
	c.sku = CONFIG_SKU_V1;
	probe_params(&c, &s, &pp);
	assert_int_equal(pp.port, 443);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_status_default_range),
		cmocka_unit_test(test_probe_status_custom_ranges),
		cmocka_unit_test(test_probe_status_empty_match_is_default),
		cmocka_unit_test(test_probe_expected_text),
		cmocka_unit_test(test_probe_body_substring),
		cmocka_unit_test(test_probe_count_unhealthy_until_first_success),
		cmocka_unit_test(test_probe_count_threshold),
		cmocka_unit_test(test_probe_count_success_resets_failures),
		cmocka_unit_test(test_probe_count_one_success_heals),
		cmocka_unit_test(test_probe_count_threshold_one),
		cmocka_unit_test(test_probe_min_servers_forces_first_members),
		cmocka_unit_test(test_probe_min_servers_counts_healthy_ones),
		cmocka_unit_test(test_probe_min_servers_zero_and_over),
		cmocka_unit_test(test_probe_scale),
		cmocka_unit_test(test_probe_next_delay_v1_retries_quickly),
		cmocka_unit_test(test_probe_params_default),
		cmocka_unit_test(test_probe_params_custom_port_v2_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
