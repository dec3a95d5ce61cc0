#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lb.h"
#include "log.h"

/*
 * A hand-built snapshot: pool "pool" with the first n of 127.0.1.1..3;
 * settings S_RR (no affinity), S_AFF (affinity, draining 10 s), S_NAMED
 * (affinity, cookie "MyAff", no draining); rule 0 Basic pool/S_RR, map 0
 * default pool/S_AFF, its path rule pool/S_NAMED.
 */
enum { S_RR, S_AFF, S_NAMED };

struct lbcfg {
	struct config c;
	struct config_member members[3];
	struct config_pool pool;
	struct config_settings settings[3];
	struct config_rule rule;
	struct config_path_rule path_rule;
	struct config_path_map map;
};

static char a1[] = "127.0.1.1", a2[] = "127.0.1.2", a3[] = "127.0.1.3";
static char n_pool[] = "pool", n_rr[] = "s-rr", n_aff[] = "s-aff",
	    n_named[] = "s-named", n_myaff[] = "MyAff", n_rule[] = "r",
	    n_map[] = "m", n_pr[] = "pr";

static void
lbcfg_init(struct lbcfg *b, size_t nmembers)
{
	char *addrs[3] = { a1, a2, a3 };

	memset(b, 0, sizeof(*b));
	for (size_t i = 0; i < 3; i++)
		b->members[i] = (struct config_member){ CONFIG_MEMBER_IP,
			addrs[i] };
	b->pool = (struct config_pool){ n_pool, b->members, nmembers };
	b->settings[S_RR].name = n_rr;
	b->settings[S_AFF].name = n_aff;
	b->settings[S_AFF].cookie_affinity = 1;
	b->settings[S_AFF].draining = 1;
	b->settings[S_AFF].drain_timeout = 10;
	b->settings[S_NAMED].name = n_named;
	b->settings[S_NAMED].cookie_affinity = 1;
	b->settings[S_NAMED].affinity_cookie = n_myaff;
	b->rule = (struct config_rule){ n_rule, CONFIG_RULE_BASIC, 0, 0, 0,
		S_RR, -1 };
	b->path_rule = (struct config_path_rule){ n_pr, NULL, 0, 0, S_NAMED };
	b->map = (struct config_path_map){ n_map, 0, S_AFF, &b->path_rule, 1 };
	b->c.pools = &b->pool;
	b->c.npools = 1;
	b->c.settings = b->settings;
	b->c.nsettings = 3;
	b->c.rules = &b->rule;
	b->c.nrules = 1;
	b->c.path_maps = &b->map;
	b->c.npath_maps = 1;
}

struct fixture {
	struct lbcfg cfg;
	struct health *h;
	struct lb *lb;
};

static int
setup(void **state)
{
	static struct fixture f;

	lbcfg_init(&f.cfg, 3);
	f.h = health_new();
	assert_non_null(f.h);
	/* every member probed healthy (unknown members take no traffic) */
	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < 3; j++)
			health_set(f.h, "pool", f.cfg.members[i].address,
			    f.cfg.settings[j].name, HEALTH_HEALTHY, REASON_OK,
			    NULL);
	f.lb = lb_new(&f.cfg.c, f.h, NULL, 1000);
	assert_non_null(f.lb);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	lb_free(f->lb);
	health_free(f->h);
	return 0;
}

static void
test_lb_round_robin_even(void **state)
{
	struct fixture *f = *state;
	int seen[3] = { 0 }, k;

	for (int i = 0; i < 300; i++) {
		k = lb_pick(f->lb, 0, S_RR, LB_EXCLUDE_NONE);
		assert_in_range(k, 0, 2);
		seen[k]++;
	}
	assert_int_equal(seen[0], 100);
	assert_int_equal(seen[1], 100);
	assert_int_equal(seen[2], 100);
}

static void
test_lb_round_robin_skips_ineligible(void **state)
{
	struct fixture *f = *state;
	int seen[3] = { 0 }, k;

	health_set(f->h, "pool", a2, "s-rr", HEALTH_UNHEALTHY, REASON_CONNECT,
	    NULL);
	for (int i = 0; i < 300; i++) {
		k = lb_pick(f->lb, 0, S_RR, LB_EXCLUDE_NONE);
		assert_in_range(k, 0, 2);
		seen[k]++;
	}
	assert_int_equal(seen[1], 0);
	/* The skipped member's share is spread evenly. */
	assert_int_equal(seen[0], 150);
	assert_int_equal(seen[2], 150);
	/* Health is per setting: s-aff still uses member 1. */
	for (int i = 0, got = 0; i < 3; i++) {
		got |= 1 << lb_pick(f->lb, 0, S_AFF, LB_EXCLUDE_NONE);
		if (i == 2)
			assert_int_equal(got, 7);
	}
}

static void
test_lb_no_eligible_member(void **state)
{
	struct fixture *f = *state;
	struct lb_target t;
	const char *addrs[3] = { a1, a2, a3 };

	for (int i = 0; i < 3; i++)
		health_set(f->h, "pool", addrs[i], "s-rr", HEALTH_UNHEALTHY,
		    REASON_CONNECT, NULL);
	assert_int_equal(lb_pick(f->lb, 0, S_RR, LB_EXCLUDE_NONE), -1);
	assert_int_equal(lb_select(f->lb, 0, S_RR, NULL, LB_EXCLUDE_NONE, 1000,
			     &t),
	    -1);
	/* A pair no rule uses has no state. */
	assert_int_equal(lb_pick(f->lb, 1, S_RR, LB_EXCLUDE_NONE), -1);
}

static void
test_lb_retry_excludes_member(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < 30; i++)
		assert_int_not_equal(lb_pick(f->lb, 0, S_RR, 0), 0);
	health_set(f->h, "pool", a2, "s-rr", HEALTH_UNHEALTHY, REASON_CONNECT,
	    NULL);
	health_set(f->h, "pool", a3, "s-rr", HEALTH_UNHEALTHY, REASON_CONNECT,
	    NULL);
	assert_int_equal(lb_pick(f->lb, 0, S_RR, 0), -1);
}

static void
test_lb_affinity_sticky(void **state)
{
	struct fixture *f = *state;
	struct lb_target t;
	char hdr[256];
	int first;

	assert_int_equal(lb_select(f->lb, 0, S_AFF, NULL, LB_EXCLUDE_NONE,
			     1000, &t),
	    0);
	assert_true(t.set_cookie);
	assert_false(t.affinity);
	assert_non_null(t.cookie);
	first = t.member;
	snprintf(hdr, sizeof(hdr), "a=b; ApplicationGatewayAffinity=%s; c=d",
	    t.cookie);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(lb_select(f->lb, 0, S_AFF, hdr,
				     LB_EXCLUDE_NONE, 1000, &t),
		    0);
		assert_int_equal(t.member, first);
		assert_true(t.affinity);
		assert_false(t.set_cookie);
	}
}

static void
test_lb_affinity_cors_twin(void **state)
{
	struct fixture *f = *state;
	struct lb_target t;
	char v[LB_COOKIE_LEN + 1], hdr[256];

	assert_int_equal(lb_cookie_value(f->lb, 0, 2, S_AFF, v), 0);
	snprintf(hdr, sizeof(hdr), "ApplicationGatewayAffinityCORS=%s", v);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(lb_select(f->lb, 0, S_AFF, hdr,
				     LB_EXCLUDE_NONE, 1000, &t),
		    0);
		assert_int_equal(t.member, 2);
	}
}

static void
test_lb_affinity_fallback_when_member_unhealthy(void **state)
{
	struct fixture *f = *state;
	struct lb_target t;
	char v[LB_COOKIE_LEN + 1], hdr[256];

	assert_int_equal(lb_cookie_value(f->lb, 0, 1, S_AFF, v), 0);
	snprintf(hdr, sizeof(hdr), "ApplicationGatewayAffinity=%s", v);
	health_set(f->h, "pool", a2, "s-aff", HEALTH_UNHEALTHY, REASON_CONNECT,
	    NULL);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(lb_select(f->lb, 0, S_AFF, hdr,
				     LB_EXCLUDE_NONE, 1000, &t),
		    0);
		assert_int_not_equal(t.member, 1);
		assert_false(t.affinity);
		assert_true(t.set_cookie);
	}
}

static void
test_lb_affinity_unknown_value_and_retry(void **state)
{
	struct fixture *f = *state;
	struct lb_target t;
	char v[LB_COOKIE_LEN + 1], hdr[256];

	assert_int_equal(lb_select(f->lb, 0, S_AFF,
			     "ApplicationGatewayAffinity="
			     "0123456789abcdef0123456789abcdef",
			     LB_EXCLUDE_NONE, 1000, &t),
	    0);
	assert_false(t.affinity);
	assert_true(t.set_cookie);
	/* A retry skips the affinity member. */
	assert_int_equal(lb_cookie_value(f->lb, 0, 0, S_AFF, v), 0);
	snprintf(hdr, sizeof(hdr), "ApplicationGatewayAffinity=%s", v);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(lb_select(f->lb, 0, S_AFF, hdr, 0, 1000, &t),
		    0);
		assert_int_not_equal(t.member, 0);
	}
}

static int
is_hex32(const char *s)
{
	if (strlen(s) != LB_COOKIE_LEN)
		return 0;
	return strspn(s, "0123456789abcdef") == LB_COOKIE_LEN;
}

static void
test_lb_cookie_header_values(void **state)
{
	struct fixture *f = *state;
	struct lb_target t;
	char ck[128], cors[160], want[160];

	assert_int_equal(lb_select(f->lb, 0, S_AFF, NULL, LB_EXCLUDE_NONE,
			     1000, &t),
	    0);
	assert_true(is_hex32(t.cookie));
	assert_int_equal(lb_affinity_set_cookie(f->lb, S_AFF, &t, ck,
			     sizeof(ck), cors, sizeof(cors)),
	    0);
	snprintf(want, sizeof(want), "ApplicationGatewayAffinity=%s; Path=/",
	    t.cookie);
	assert_string_equal(ck, want);
	snprintf(want, sizeof(want),
	    "ApplicationGatewayAffinityCORS=%s; Path=/; SameSite=None; Secure",
	    t.cookie);
	assert_string_equal(cors, want);

	/* affinityCookieName */
	assert_int_equal(lb_select(f->lb, 0, S_NAMED, NULL, LB_EXCLUDE_NONE,
			     1000, &t),
	    0);
	assert_int_equal(lb_affinity_set_cookie(f->lb, S_NAMED, &t, ck,
			     sizeof(ck), cors, sizeof(cors)),
	    0);
	assert_memory_equal(ck, "MyAff=", 6);
	assert_memory_equal(cors, "MyAffCORS=", 10);
	/* Too small, or no affinity on the setting. */
	assert_int_equal(lb_affinity_set_cookie(f->lb, S_NAMED, &t, ck, 10,
			     cors, sizeof(cors)),
	    -1);
	assert_int_equal(lb_select(f->lb, 0, S_RR, NULL, LB_EXCLUDE_NONE, 1000,
			     &t),
	    0);
	assert_null(t.cookie);
	assert_false(t.set_cookie);
	assert_int_equal(lb_affinity_set_cookie(f->lb, S_RR, &t, ck,
			     sizeof(ck), cors, sizeof(cors)),
	    -1);
}

static void
test_lb_cookie_values_distinct_and_stable(void **state)
{
	struct fixture *f = *state;
	char v0[LB_COOKIE_LEN + 1], v1[LB_COOKIE_LEN + 1],
	    v0b[LB_COOKIE_LEN + 1], v0s[LB_COOKIE_LEN + 1];
	struct lb *again;

	assert_int_equal(lb_cookie_value(f->lb, 0, 0, S_AFF, v0), 0);
	assert_int_equal(lb_cookie_value(f->lb, 0, 1, S_AFF, v1), 0);
	assert_int_equal(lb_cookie_value(f->lb, 0, 0, S_NAMED, v0s), 0);
	assert_true(is_hex32(v0));
	assert_string_not_equal(v0, v1);
	assert_string_not_equal(v0, v0s);
	/* A reload in the same process keeps the values. */
	again = lb_new(&f->cfg.c, f->h, f->lb, 2000);
	assert_non_null(again);
	assert_int_equal(lb_cookie_value(again, 0, 0, S_AFF, v0b), 0);
	assert_string_equal(v0, v0b);
	assert_int_equal(lb_cookie_value(again, 0, 3, S_AFF, v0b), -1);
	lb_free(again);
}

static void
test_lb_draining_keeps_affinity_until_timeout(void **state)
{
	struct fixture *f = *state;
	struct lbcfg smaller;
	struct lb *lb2, *lb3;
	struct lb_target t;
	char v[LB_COOKIE_LEN + 1], hdr[256];

	/* 127.0.1.3 leaves the pool on a reload at t = 1000 ms. */
	assert_int_equal(lb_cookie_value(f->lb, 0, 2, S_AFF, v), 0);
	snprintf(hdr, sizeof(hdr), "ApplicationGatewayAffinity=%s", v);
	lbcfg_init(&smaller, 2);
	lb2 = lb_new(&smaller.c, f->h, f->lb, 1000);
	assert_non_null(lb2);
	assert_int_equal(lb_draining_count(lb2), 1);

	assert_int_equal(lb_select(lb2, 0, S_AFF, hdr, LB_EXCLUDE_NONE, 5000,
			     &t),
	    0);
	assert_true(t.draining);
	assert_int_equal(t.member, -1);
	assert_string_equal(t.address, "127.0.1.3");
	assert_false(t.set_cookie);
	/* No new requests for it. */
	for (int i = 0; i < 10; i++)
		assert_in_range(lb_pick(lb2, 0, S_AFF, LB_EXCLUDE_NONE), 0, 1);
	/* Carried over to the next snapshot with its original time. */
	lb3 = lb_new(&smaller.c, f->h, lb2, 6000);
	assert_non_null(lb3);
	lb_free(lb2);
	assert_int_equal(lb_select(lb3, 0, S_AFF, hdr, LB_EXCLUDE_NONE, 10999,
			     &t),
	    0);
	assert_true(t.draining);
	/* drainTimeoutInSec (10 s) after removal: round robin again. */
	assert_int_equal(lb_select(lb3, 0, S_AFF, hdr, LB_EXCLUDE_NONE, 11000,
			     &t),
	    0);
	assert_false(t.draining);
	assert_in_range(t.member, 0, 1);
	assert_true(t.set_cookie);
	/* A setting without draining never uses the drain list. */
	assert_int_equal(lb_cookie_value(f->lb, 0, 2, S_NAMED, v), 0);
	snprintf(hdr, sizeof(hdr), "MyAff=%s", v);
	assert_int_equal(lb_select(lb3, 0, S_NAMED, hdr, LB_EXCLUDE_NONE, 2000,
			     &t),
	    0);
	assert_false(t.draining);
	lb_free(lb3);
}

static void
test_lb_drain_ends_when_member_returns(void **state)
{
	struct fixture *f = *state;
	struct lbcfg smaller;
	struct lb *lb2, *lb3;

	lbcfg_init(&smaller, 2);
	lb2 = lb_new(&smaller.c, f->h, f->lb, 1000);
	assert_non_null(lb2);
	assert_int_equal(lb_draining_count(lb2), 1);
	lb3 = lb_new(&f->cfg.c, f->h, lb2, 2000);
	assert_non_null(lb3);
	assert_int_equal(lb_draining_count(lb3), 0);
	lb_free(lb2);
	lb_free(lb3);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_lb_round_robin_even),
		T(test_lb_round_robin_skips_ineligible),
		T(test_lb_no_eligible_member),
		T(test_lb_retry_excludes_member),
		T(test_lb_affinity_sticky),
		T(test_lb_affinity_cors_twin),
		T(test_lb_affinity_fallback_when_member_unhealthy),
		T(test_lb_affinity_unknown_value_and_retry),
		T(test_lb_cookie_header_values),
		T(test_lb_cookie_values_distinct_and_stable),
		T(test_lb_draining_keeps_affinity_until_timeout),
		T(test_lb_drain_ends_when_member_returns),
	};

	log_init("test_lb", LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
