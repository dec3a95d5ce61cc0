#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

static void
test_net_addr_parse_ipv4_and_port(void **state)
{
	struct net_addr a;
	char err[256], buf[64];

	assert_int_equal(net_addr_parse("127.0.1.2:8443", -1, &a, err,
			     sizeof(err)),
	    0);
	assert_string_equal(net_addr_str(&a, buf, sizeof(buf)),
	    "127.0.1.2:8443");
	assert_int_equal(net_addr_port(&a), 8443);
	assert_true(net_addr_is_loopback(&a));
}

static void
test_net_addr_parse_ipv6_brackets(void **state)
{
	struct net_addr a;
	char err[256], buf[64];

	assert_int_equal(net_addr_parse("[::1]:80", -1, &a, err, sizeof(err)),
	    0);
	assert_string_equal(net_addr_str(&a, buf, sizeof(buf)), "[::1]:80");
	assert_true(net_addr_is_loopback(&a));
}

static void
test_net_addr_parse_default_port(void **state)
{
	struct net_addr a;
	char err[256];

	assert_int_equal(net_addr_parse("127.0.0.1", 443, &a, err,
			     sizeof(err)),
	    0);
	assert_int_equal(net_addr_port(&a), 443);
	assert_int_equal(net_addr_parse("127.0.0.1", -1, &a, err, sizeof(err)),
	    -1);
}

static void
test_net_addr_parse_rejects_garbage(void **state)
{
	struct net_addr a;
	char err[256];

	assert_int_equal(net_addr_parse("example.com:80", -1, &a, err,
			     sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "example.com:80"));
	assert_int_equal(net_addr_parse("127.0.0.1:70000", -1, &a, err,
			     sizeof(err)),
	    -1);
	assert_int_equal(net_addr_parse("127.0.0.1:", -1, &a, err,
			     sizeof(err)),
	    -1);
}

static void
test_net_is_ip_literal(void **state)
{
	assert_true(net_is_ip_literal("127.0.1.1"));
	assert_true(net_is_ip_literal("::1"));
	assert_false(net_is_ip_literal("b1.backend.test"));
	assert_false(net_is_ip_literal("127.0.1"));
}

static void
test_net_listen_port_zero_reports_real_port(void **state)
{
	struct net_addr a, b;
	char err[256];
	int fd, fd2;

	assert_int_equal(net_addr_parse("127.0.0.1:0", -1, &a, err,
			     sizeof(err)),
	    0);
	fd = net_listen(&a, 0, 16, err, sizeof(err));
	assert_true(fd >= 0);
	assert_true(net_addr_port(&a) > 0);
	/* A second bind on the same port fails and names the address. */
	b = a;
	fd2 = net_listen(&b, 0, 16, err, sizeof(err));
	assert_int_equal(fd2, -1);
	assert_non_null(strstr(err, "127.0.0.1:"));
	assert_non_null(strstr(err, "in use"));
	close(fd);
}

static void
test_net_listen_first_never_joins_another_group(void **state)
{
	struct net_addr a, b;
	char err[256];
	int fd, fd2;

	(void)state;
	assert_int_equal(net_addr_parse("127.0.0.1:0", -1, &a, err,
			     sizeof(err)),
	    0);
	fd = net_listen(&a, NET_LISTEN_REUSEPORT, 16, err, sizeof(err));
	assert_true(fd >= 0);
	/* A second SO_REUSEPORT socket joins the group (the workers do)... */
	b = a;
	fd2 = net_listen(&b, NET_LISTEN_REUSEPORT, 16, err, sizeof(err));
	assert_true(fd2 >= 0);
	close(fd2);
	/* ...but the first of a new group finds the address taken. */
	b = a;
	fd2 = net_listen(&b, NET_LISTEN_REUSEPORT | NET_LISTEN_FIRST, 16, err,
	    sizeof(err));
	assert_int_equal(fd2, -1);
	assert_non_null(strstr(err, "in use"));
	close(fd);
	/* Once it is free, the first binds. */
	b = a;
	fd2 = net_listen(&b, NET_LISTEN_REUSEPORT | NET_LISTEN_FIRST, 16, err,
	    sizeof(err));
	assert_true(fd2 >= 0);
	close(fd2);
}

/* The server side: /doc answers 409 with a two-key document in insertion
 * order, /none with no document. */
static void
reply_server_cb(struct evhttp_request *req, void *arg)
{
	const char *path = evhttp_request_get_uri(req);

	(void)arg;
	net_http_reply_json(req, 409,
	    strcmp(path, "/doc") == 0 ? json_pack("{s:i, s:i}", "b", 1, "a", 2)
				      : NULL,
	    JSON_COMPACT | JSON_PRESERVE_ORDER);
}

struct reply_seen {
	struct event_base *base;
	int code;
	char type[64];
	char body[256];
};

static void
reply_client_cb(struct evhttp_request *req, void *arg)
{
	struct reply_seen *seen = arg;
	const char *t;
	struct evbuffer *in;
	size_t n;

	if (req != NULL) {
		seen->code = evhttp_request_get_response_code(req);
		t = evhttp_find_header(evhttp_request_get_input_headers(req),
		    "Content-Type");
		snprintf(seen->type, sizeof(seen->type), "%s", t ? t : "");
		in = evhttp_request_get_input_buffer(req);
		n = evbuffer_copyout(in, seen->body, sizeof(seen->body) - 1);
		seen->body[n] = '\0';
	}
	event_base_loopexit(seen->base, NULL);
}

static void
reply_get(struct event_base *base, int port, const char *path,
    struct reply_seen *seen)
{
	struct evhttp_connection *conn =
	    evhttp_connection_base_new(base, NULL, "127.0.0.1", (uint16_t)port);
	struct evhttp_request *req;

	memset(seen, 0, sizeof(*seen));
	seen->base = base;
	assert_non_null(conn);
	req = evhttp_request_new(reply_client_cb, seen);
	assert_int_equal(evhttp_make_request(conn, req, EVHTTP_REQ_GET, path),
	    0);
	event_base_dispatch(base);
	evhttp_connection_free(conn);
}

static void
test_net_http_reply_json(void **state)
{
	struct event_base *base = net_base_new(0);
	struct evhttp *http = evhttp_new(base);
	struct evhttp_bound_socket *bs;
	struct net_addr a;
	struct reply_seen seen;
	char err[256];
	int fd;

	(void)state;
	assert_int_equal(net_addr_parse("127.0.0.1:0", -1, &a, err,
			     sizeof(err)),
	    0);
	fd = net_listen(&a, 0, 16, err, sizeof(err));
	assert_true(fd >= 0);
	assert_non_null(bs = evhttp_accept_socket_with_handle(http, fd));
	evhttp_set_gencb(http, reply_server_cb, NULL);
	reply_get(base, net_addr_port(&a), "/doc", &seen);
	assert_int_equal(seen.code, 409);
	assert_string_equal(seen.type, "application/json");
	assert_string_equal(seen.body, "{\"b\":1,\"a\":2}\n");
	reply_get(base, net_addr_port(&a), "/none", &seen);
	assert_int_equal(seen.code, 500);
	evhttp_free(http);
	event_base_free(base);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Inside the loop: count the distinct times the loop's clock shows over
 * 20 ms of refreshes. A coarse clock (1-4 ms ticks) shows at most 21. */
static void
count_clock_steps(evutil_socket_t fd, short what, void *arg)
{
	struct event_base *base = ((void **)arg)[0];
	int *steps = ((void **)arg)[1];
	struct timeval tv, last = {0, 0};
	double t0 = now_s();

	(void)fd;
	(void)what;
	while (now_s() - t0 < 0.020) {
		event_base_update_cache_time(base);
		event_base_gettimeofday_cached(base, &tv);
		if (tv.tv_sec != last.tv_sec || tv.tv_usec != last.tv_usec)
			(*steps)++;
		last = tv;
	}
}

static void
test_net_base_new_has_a_precise_clock(void **state)
{
	struct event_base *base = net_base_new(EVENT_BASE_FLAG_NOLOCK);
	int steps = 0;
	void *arg[2];
	struct timeval zero = {0, 0};

	(void)state;
	assert_non_null(base);
	arg[0] = base;
	arg[1] = &steps;
	assert_int_equal(
	    event_base_once(base, -1, EV_TIMEOUT, count_clock_steps, arg,
		&zero),
	    0);
	event_base_dispatch(base);
	/* Microsecond steps: thousands in 20 ms, even under a sanitizer. */
	assert_true(steps > 200);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net_addr_parse_ipv4_and_port),
		cmocka_unit_test(test_net_addr_parse_ipv6_brackets),
		cmocka_unit_test(test_net_addr_parse_default_port),
		cmocka_unit_test(test_net_addr_parse_rejects_garbage),
		cmocka_unit_test(test_net_is_ip_literal),
		cmocka_unit_test(test_net_listen_port_zero_reports_real_port),
		cmocka_unit_test(test_net_listen_first_never_joins_another_group),
		cmocka_unit_test(test_net_base_new_has_a_precise_clock),
		cmocka_unit_test(test_net_http_reply_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
