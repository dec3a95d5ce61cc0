#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* Listener "l1", rule "r1", pool "p1" with members 127.0.1.1, 127.0.1.2. */
static char n_l1[] = "l1", n_r1[] = "r1", n_p1[] = "p1",
	    a1[] = "127.0.1.1", a2[] = "127.0.1.2";

static void
cfg_init(struct config *c, struct config_listener *l, struct config_rule *r,
    struct config_pool *p, struct config_member *m)
{
	memset(c, 0, sizeof(*c));
	memset(l, 0, sizeof(*l));
	memset(r, 0, sizeof(*r));
	l->name = n_l1;
	r->name = n_r1;
	m[0] = (struct config_member){ CONFIG_MEMBER_IP, a1 };
	m[1] = (struct config_member){ CONFIG_MEMBER_IP, a2 };
	*p = (struct config_pool){ n_p1, m, 2 };
	c->listeners = l;
	c->nlisteners = 1;
	c->rules = r;
	c->nrules = 1;
	c->pools = p;
	c->npools = 1;
}

/* The rendered text, NUL-terminated; caller frees. */
static char *
render(struct metrics *m)
{
	struct evbuffer *b = evbuffer_new();
	size_t n;
	char *s;

	assert_non_null(b);
	assert_int_equal(metrics_render(m, b), 0);
	n = evbuffer_get_length(b);
	s = malloc(n + 1);
	assert_non_null(s);
	evbuffer_remove(b, s, n);
	s[n] = '\0';
	evbuffer_free(b);
	return s;
}

static void
test_metrics_render_empty(void **state)
{
	struct metrics *m = metrics_new(2);
	char *s;

	assert_non_null(m);
	s = render(m);
	assert_non_null(strstr(s, "# TYPE agw_requests_total counter\n"));
	assert_non_null(strstr(s,
	    "# TYPE agw_upstream_failures_total counter\n"));
	assert_non_null(strstr(s,
	    "# TYPE agw_request_duration_seconds histogram\n"));
	assert_non_null(strstr(s,
	    "agw_request_duration_seconds_bucket{le=\"+Inf\"} 0\n"));
	assert_non_null(strstr(s, "agw_request_duration_seconds_count 0\n"));
	free(s);
	metrics_free(m);
}

static void
test_metrics_requests_summed_over_shards(void **state)
{
	struct config c;
	struct config_listener l;
	struct config_rule r;
	struct config_pool p;
	struct config_member mb[2];
	struct metrics *m = metrics_new(3);
	struct metrics_names *n;
	char *s;

	cfg_init(&c, &l, &r, &p, mb);
	n = metrics_names_new(m, &c);
	assert_non_null(n);
	metrics_request(m, 0, n, 0, 0, 0, 1, 200, 0.002);
	metrics_request(m, 1, n, 0, 0, 0, 1, 200, 0.002);
	metrics_request(m, 2, n, 0, 0, 0, 1, 200, 0.002);
	metrics_request(m, 7, n, 0, 0, 0, 0, 502, 3.0); /* shard wraps */
	metrics_request(m, 0, n, 0, -1, -1, -1, 404, 0.0001);
	s = render(m);
	assert_non_null(strstr(s,
	    "agw_requests_total{listener=\"l1\",rule=\"r1\",pool=\"p1\","
	    "member=\"127.0.1.2\",status=\"200\"} 3\n"));
	assert_non_null(strstr(s,
	    "agw_requests_total{listener=\"l1\",rule=\"r1\",pool=\"p1\","
	    "member=\"127.0.1.1\",status=\"502\"} 1\n"));
	assert_non_null(strstr(s,
	    "agw_requests_total{listener=\"l1\",rule=\"\",pool=\"\","
	    "member=\"\",status=\"404\"} 1\n"));
	free(s);
	metrics_names_free(n);
	metrics_free(m);
}

static void
test_metrics_histogram_buckets(void **state)
{
	struct metrics *m = metrics_new(1);
	char *s;

	metrics_request(m, 0, NULL, -1, -1, -1, -1, 200, 0.0004);
	metrics_request(m, 0, NULL, -1, -1, -1, -1, 200, 0.003);
	metrics_request(m, 0, NULL, -1, -1, -1, -1, 200, 100.0);
	s = render(m);
	/* Cumulative counts. */
	assert_non_null(strstr(s,
	    "agw_request_duration_seconds_bucket{le=\"0.0005\"} 1\n"));
	assert_non_null(strstr(s,
	    "agw_request_duration_seconds_bucket{le=\"0.0025\"} 1\n"));
	assert_non_null(strstr(s,
	    "agw_request_duration_seconds_bucket{le=\"0.005\"} 2\n"));
	assert_non_null(strstr(s,
	    "agw_request_duration_seconds_bucket{le=\"60\"} 2\n"));
	assert_non_null(strstr(s,
	    "agw_request_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(s, "agw_request_duration_seconds_count 3\n"));
	assert_non_null(strstr(s, "agw_request_duration_seconds_sum 100.003"));
	free(s);
	metrics_free(m);
}

static void
test_metrics_upstream_failures_by_reason(void **state)
{
	struct config c;
	struct config_listener l;
	struct config_rule r;
	struct config_pool p;
	struct config_member mb[2];
	struct metrics *m = metrics_new(2);
	struct metrics_names *n;
	char *s;

	cfg_init(&c, &l, &r, &p, mb);
	n = metrics_names_new(m, &c);
	metrics_upstream_failure(m, 0, n, 0, 0, METRICS_FAIL_TLS,
	    REASON_V2_INTERMEDIATE_MISSING);
	metrics_upstream_failure(m, 1, n, 0, 0, METRICS_FAIL_TLS,
	    REASON_V2_INTERMEDIATE_MISSING);
	metrics_upstream_failure(m, 1, n, 0, 1, METRICS_FAIL_CONNECT,
	    REASON_CONNECT);
	s = render(m);
	assert_non_null(strstr(s,
	    "agw_upstream_failures_total{pool=\"p1\",member=\"127.0.1.1\","
	    "kind=\"tls\",reason=\"v2.intermediate_missing\"} 2\n"));
	assert_non_null(strstr(s,
	    "agw_upstream_failures_total{pool=\"p1\",member=\"127.0.1.2\","
	    "kind=\"connect\",reason=\"connect.failed\"} 1\n"));
	/* One HELP/TYPE block per metric. */
	assert_non_null(strstr(s, "# TYPE agw_upstream_failures_total"));
	assert_null(strstr(strstr(s, "# TYPE agw_upstream_failures_total") + 1,
	    "# TYPE agw_upstream_failures_total"));
	free(s);
	metrics_names_free(n);
	metrics_free(m);
}

static void
test_metrics_names_survive_reload(void **state)
{
	struct config c;
	struct config_listener l;
	struct config_rule r;
	struct config_pool p;
	struct config_member mb[2];
	struct metrics *m = metrics_new(1);
	struct metrics_names *n1, *n2;
	char *s;

	cfg_init(&c, &l, &r, &p, mb);
	n1 = metrics_names_new(m, &c);
	metrics_request(m, 0, n1, 0, 0, 0, 0, 200, 0.01);
	/* A new snapshot with the same names counts into the same series. */
	n2 = metrics_names_new(m, &c);
	metrics_names_free(n1);
	metrics_request(m, 0, n2, 0, 0, 0, 0, 200, 0.01);
	s = render(m);
	assert_non_null(strstr(s, "member=\"127.0.1.1\",status=\"200\"} 2\n"));
	free(s);
	metrics_names_free(n2);
	metrics_free(m);
}

static void
test_metrics_label_escaping(void **state)
{
	struct config c;
	struct config_listener l;
	struct config_rule r;
	struct config_pool p;
	struct config_member mb[2];
	struct metrics *m = metrics_new(1);
	struct metrics_names *n;
	char odd[] = "a\"b\\c\nd";
	char *s;

	cfg_init(&c, &l, &r, &p, mb);
	l.name = odd;
	n = metrics_names_new(m, &c);
	metrics_request(m, 0, n, 0, 0, 0, 0, 200, 0.01);
	s = render(m);
	assert_non_null(strstr(s, "listener=\"a\\\"b\\\\c\\nd\""));
	free(s);
	metrics_names_free(n);
	metrics_free(m);
}

struct thread_arg {
	struct metrics *m;
	struct metrics_names *n;
	int shard;
};

static void *
metrics_thread(void *p)
{
	struct thread_arg *a = p;

	for (int i = 0; i < 5000; i++)
		metrics_request(a->m, a->shard, a->n, 0, 0, 0, i % 2,
		    200 + (i % 3), 0.001);
	return NULL;
}

static void
test_metrics_concurrent_workers(void **state)
{
	struct config c;
	struct config_listener l;
	struct config_rule r;
	struct config_pool p;
	struct config_member mb[2];
	struct metrics *m = metrics_new(4);
	struct thread_arg args[4];
	pthread_t t[4];
	char *s;

	cfg_init(&c, &l, &r, &p, mb);
	args[0].n = metrics_names_new(m, &c);
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ m, args[0].n, i };
		assert_int_equal(pthread_create(&t[i], NULL, metrics_thread,
				     &args[i]),
		    0);
	}
	/* Render while they count. */
	free(render(m));
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	s = render(m);
	assert_non_null(strstr(s, "agw_request_duration_seconds_count 20000\n"));
	free(s);
	metrics_names_free(args[0].n);
	metrics_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_render_empty),
		cmocka_unit_test(test_metrics_requests_summed_over_shards),
		cmocka_unit_test(test_metrics_histogram_buckets),
		cmocka_unit_test(test_metrics_upstream_failures_by_reason),
		cmocka_unit_test(test_metrics_names_survive_reload),
		cmocka_unit_test(test_metrics_label_escaping),
		cmocka_unit_test(test_metrics_concurrent_workers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
