#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "http.h"

#define REQ    HTTP_REQUEST
#define RSP    HTTP_RESPONSE
#define S(lit) lit, sizeof(lit) - 1

/*
 * The driver: feed a message to a fresh parser whole, split in two at a
 * byte, or byte by byte (each piece its own evbuffer chain), then the end
 * of the connection. The result is the first error, or HTTP_OK once head
 * and body are in.
 */
struct feed {
	struct http_parser p;
	struct evbuffer *in;
	struct evbuffer *out;
	int head_done;
};

enum { FEED_WHOLE, FEED_SPLIT, FEED_BYTES };

static void
feed_init(struct feed *f, enum http_kind kind, const struct http_limits *l,
    int head_req)
{
	memset(f, 0, sizeof(*f));
	http_parser_init(&f->p, kind, l);
	http_parser_set_head_request(&f->p, head_req);
	f->in = evbuffer_new();
	f->out = evbuffer_new();
	assert_non_null(f->in);
	assert_non_null(f->out);
}

static void
feed_clear(struct feed *f)
{
	http_parser_clear(&f->p);
	evbuffer_free(f->in);
	evbuffer_free(f->out);
}

static int
feed_step(struct feed *f, int raw)
{
	int rc;

	if (!f->head_done) {
		rc = http_parse_head(&f->p, f->in);
		if (rc != HTTP_OK)
			return rc;
		f->head_done = 1;
	}
	return http_parse_body(&f->p, f->in, f->out, raw);
}

static int
feed_run(
    struct feed *f, const char *data, size_t len, int mode, size_t cut, int raw)
{
	size_t off = 0, n;
	int rc = HTTP_AGAIN;

	while (off < len) {
		if (mode == FEED_BYTES)
			n = 1;
		else if (mode == FEED_SPLIT && off == 0)
			n = cut;
		else
			n = len - off;
		assert_int_equal(
		    evbuffer_add_reference(f->in, data + off, n, NULL, NULL),
		    0);
		off += n;
		rc = feed_step(f, raw);
		if (rc != HTTP_AGAIN)
			return rc;
	}
	return rc == HTTP_AGAIN ? http_parse_eof(&f->p) : rc;
}

/* Every way of cutting the input gives the same result. */
static void
check_bad(enum http_kind kind, const struct http_limits *l, const char *data,
    size_t len, int want)
{
	struct feed f;
	size_t cut;
	int raw;

	for (raw = 0; raw < 2; raw++) {
		feed_init(&f, kind, l, 0);
		assert_int_equal(
		    feed_run(&f, data, len, FEED_WHOLE, 0, raw), want);
		feed_clear(&f);
		feed_init(&f, kind, l, 0);
		assert_int_equal(
		    feed_run(&f, data, len, FEED_BYTES, 0, raw), want);
		feed_clear(&f);
		for (cut = 1; cut < len; cut++) {
			feed_init(&f, kind, l, 0);
			assert_int_equal(
			    feed_run(&f, data, len, FEED_SPLIT, cut, raw),
			    want);
			feed_clear(&f);
		}
	}
}

/* ---- malformed messages: one test each, run whole/split/byte by byte */

#define H11   "GET / HTTP/1.1\r\nHost: a\r\n"
#define POSTC "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"

#define BAD_CASES(X)                                                           \
	X(rejects_bare_lf_after_request_line, REQ,                             \
	    "GET / HTTP/1.1\nHost: a\r\n\r\n", HTTP_E_BARE_LF)                 \
	X(rejects_bare_lf_ending_head, REQ, "GET / HTTP/1.1\r\nHost: a\n\n",   \
	    HTTP_E_BARE_LF)                                                    \
	X(rejects_bare_cr_in_value, REQ, H11 "X: a\rb\r\n\r\n",                \
	    HTTP_E_BARE_CR)                                                    \
	X(rejects_nul_in_value, REQ, H11 "X: a\0b\r\n\r\n", HTTP_E_NUL)        \
	X(rejects_nul_in_target, REQ, "GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n",   \
	    HTTP_E_NUL)                                                        \
	X(rejects_obs_fold, REQ, H11 "X: a\r\n b\r\n\r\n", HTTP_E_OBS_FOLD)    \
	X(rejects_obs_fold_tab, REQ, H11 "X: a\r\n\tb\r\n\r\n",                \
	    HTTP_E_OBS_FOLD)                                                   \
	X(rejects_space_before_colon, REQ, H11 "X : a\r\n\r\n",                \
	    HTTP_E_SPACE_BEFORE_COLON)                                         \
	X(rejects_tab_before_colon, REQ, H11 "X\t: a\r\n\r\n",                 \
	    HTTP_E_SPACE_BEFORE_COLON)                                         \
	X(rejects_non_token_header_name, REQ, H11 "X(y): a\r\n\r\n",           \
	    HTTP_E_BAD_HEADER_NAME)                                            \
	X(rejects_empty_header_name, REQ, H11 ": a\r\n\r\n",                   \
	    HTTP_E_BAD_HEADER_NAME)                                            \
	X(rejects_header_without_colon, REQ, H11 "X\r\n\r\n",                  \
	    HTTP_E_BAD_HEADER_NAME)                                            \
	X(rejects_ctl_in_value, REQ, H11 "X: a\x01z\r\n\r\n",                  \
	    HTTP_E_BAD_HEADER_VALUE)                                           \
	X(rejects_del_in_value, REQ, H11 "X: a\x7fz\r\n\r\n",                  \
	    HTTP_E_BAD_HEADER_VALUE)                                           \
	X(rejects_non_token_method, REQ, "G@T / HTTP/1.1\r\nHost: a\r\n\r\n",  \
	    HTTP_E_BAD_METHOD)                                                 \
	X(rejects_empty_method, REQ, " / HTTP/1.1\r\nHost: a\r\n\r\n",         \
	    HTTP_E_BAD_METHOD)                                                 \
	X(rejects_empty_line_before_request, REQ,                              \
	    "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_BAD_METHOD)        \
	X(rejects_space_in_target, REQ,                                        \
	    "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_BAD_TARGET)         \
	X(rejects_ctl_in_target, REQ, "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", \
	    HTTP_E_BAD_TARGET)                                                 \
	X(rejects_obs_text_in_target, REQ,                                     \
	    "GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_BAD_TARGET)    \
	X(rejects_empty_target, REQ, "GET  HTTP/1.1\r\nHost: a\r\n\r\n",       \
	    HTTP_E_BAD_TARGET)                                                 \
	X(rejects_http09_request, REQ, "GET /\r\n\r\n", HTTP_E_BAD_VERSION)    \
	X(rejects_http2_version, REQ, "GET / HTTP/2.0\r\nHost: a\r\n\r\n",     \
	    HTTP_E_BAD_VERSION)                                                \
	X(rejects_http12_version, REQ, "GET / HTTP/1.2\r\nHost: a\r\n\r\n",    \
	    HTTP_E_BAD_VERSION)                                                \
	X(rejects_lowercase_version, REQ, "GET / http/1.1\r\nHost: a\r\n\r\n", \
	    HTTP_E_BAD_VERSION)                                                \
	X(rejects_response_bad_version, RSP, "HTTP/2 200 OK\r\n\r\n",          \
	    HTTP_E_BAD_VERSION)                                                \
	X(rejects_two_digit_status, RSP, "HTTP/1.1 20 OK\r\n\r\n",             \
	    HTTP_E_BAD_STATUS)                                                 \
	X(rejects_four_digit_status, RSP, "HTTP/1.1 2000 OK\r\n\r\n",          \
	    HTTP_E_BAD_STATUS)                                                 \
	X(rejects_status_below_100, RSP, "HTTP/1.1 099 X\r\n\r\n",             \
	    HTTP_E_BAD_STATUS)                                                 \
	X(rejects_missing_status, RSP, "HTTP/1.1\r\n\r\n", HTTP_E_BAD_STATUS)  \
	X(rejects_ctl_in_reason, RSP, "HTTP/1.1 200 O\x01K\r\n\r\n",           \
	    HTTP_E_BAD_STATUS)                                                 \
	X(rejects_cl_and_te, REQ,                                              \
	    H11 "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",     \
	    HTTP_E_CL_AND_TE)                                                  \
	X(rejects_te_and_cl_on_response, RSP,                                  \
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"                \
	    "Content-Length: 3\r\n\r\n",                                       \
	    HTTP_E_CL_AND_TE)                                                  \
	X(rejects_differing_content_lengths, REQ,                              \
	    H11 "Content-Length: 3\r\nContent-Length: 4\r\n\r\n",              \
	    HTTP_E_CL_MISMATCH)                                                \
	X(rejects_non_digit_content_length, REQ,                               \
	    H11 "Content-Length: 3a\r\n\r\n", HTTP_E_BAD_CL)                   \
	X(rejects_negative_content_length, REQ,                                \
	    H11 "Content-Length: -1\r\n\r\n", HTTP_E_BAD_CL)                   \
	X(rejects_content_length_list, REQ,                                    \
	    H11 "Content-Length: 3, 3\r\n\r\n", HTTP_E_BAD_CL)                 \
	X(rejects_empty_content_length, REQ, H11 "Content-Length:\r\n\r\n",    \
	    HTTP_E_BAD_CL)                                                     \
	X(rejects_overflowing_content_length, REQ,                             \
	    H11 "Content-Length: 9223372036854775808\r\n\r\n", HTTP_E_BAD_CL)  \
	X(rejects_te_gzip_request, REQ, H11 "Transfer-Encoding: gzip\r\n\r\n", \
	    HTTP_E_TE_NOT_CHUNKED)                                             \
	X(rejects_te_chunked_not_last_request, REQ,                            \
	    H11 "Transfer-Encoding: chunked, gzip\r\n\r\n",                    \
	    HTTP_E_TE_NOT_CHUNKED)                                             \
	X(rejects_te_chunked_twice, REQ,                                       \
	    H11 "Transfer-Encoding: chunked, chunked\r\n\r\n", HTTP_E_BAD_TE)  \
	X(rejects_te_chunked_in_two_fields, REQ,                               \
	    H11 "Transfer-Encoding: chunked\r\n"                               \
	        "Transfer-Encoding: chunked\r\n\r\n",                          \
	    HTTP_E_BAD_TE)                                                     \
	X(rejects_te_unknown_coding_request, REQ,                              \
	    H11 "Transfer-Encoding: foo, chunked\r\n\r\n", HTTP_E_BAD_TE)      \
	X(rejects_te_with_parameter, REQ,                                      \
	    H11 "Transfer-Encoding: chunked;q=1\r\n\r\n", HTTP_E_BAD_TE)       \
	X(rejects_te_empty, REQ, H11 "Transfer-Encoding: \r\n\r\n",            \
	    HTTP_E_BAD_TE)                                                     \
	X(rejects_te_on_http10_request, REQ,                                   \
	    "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",           \
	    HTTP_E_BAD_TE)                                                     \
	X(rejects_te_on_http10_response, RSP,                                  \
	    "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",           \
	    HTTP_E_BAD_TE)                                                     \
	X(rejects_http11_request_without_host, REQ, "GET / HTTP/1.1\r\n\r\n",  \
	    HTTP_E_MISSING_HOST)                                               \
	X(rejects_two_hosts, REQ, H11 "Host: b\r\n\r\n",                       \
	    HTTP_E_DUPLICATE_HOST)                                             \
	X(rejects_two_hosts_http10, REQ,                                       \
	    "GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n",                    \
	    HTTP_E_DUPLICATE_HOST)                                             \
	X(rejects_17_hex_digit_chunk_size, REQ,                                \
	    POSTC "00000000000000001\r\nx\r\n0\r\n\r\n",                       \
	    HTTP_E_CHUNK_SIZE_TOO_LONG)                                        \
	X(rejects_non_hex_chunk_size, REQ, POSTC "x\r\n",                      \
	    HTTP_E_BAD_CHUNK_SIZE)                                             \
	X(rejects_negative_chunk_size, REQ, POSTC "-1\r\n",                    \
	    HTTP_E_BAD_CHUNK_SIZE)                                             \
	X(rejects_chunk_ext_without_size, REQ, POSTC ";a\r\n",                 \
	    HTTP_E_BAD_CHUNK_SIZE)                                             \
	X(rejects_chunk_data_without_crlf, REQ, POSTC "3\r\nabcX\r\n",         \
	    HTTP_E_BAD_CHUNK)                                                  \
	X(rejects_chunk_data_with_bare_lf, REQ, POSTC "3\r\nabc\n0\r\n\r\n",   \
	    HTTP_E_BAD_CHUNK)                                                  \
	X(rejects_chunk_ext_empty_name, REQ, POSTC "3;\r\nabc\r\n",            \
	    HTTP_E_BAD_CHUNK_EXT)                                              \
	X(rejects_chunk_ext_empty_value, REQ, POSTC "3;a=\r\nabc\r\n",         \
	    HTTP_E_BAD_CHUNK_EXT)                                              \
	X(rejects_chunk_ext_open_quote, REQ, POSTC "3;a=\"x\r\nabc\r\n",       \
	    HTTP_E_BAD_CHUNK_EXT)                                              \
	X(rejects_chunk_size_trailing_space, REQ, POSTC "3 \r\nabc\r\n",       \
	    HTTP_E_BAD_CHUNK_EXT)                                              \
	X(rejects_chunk_ext_two_names, REQ, POSTC "3;a b\r\nabc\r\n",          \
	    HTTP_E_BAD_CHUNK_EXT)                                              \
	X(rejects_chunk_ext_ctl, REQ, POSTC "3;a=\"\x01\"\r\nabc\r\n",         \
	    HTTP_E_BAD_CHUNK_EXT)                                              \
	X(rejects_bare_lf_in_chunk_size_line, REQ, POSTC "3\nabc\r\n",         \
	    HTTP_E_BARE_LF)                                                    \
	X(rejects_bare_cr_in_chunk_size_line, REQ, POSTC "3\rabc\r\n",         \
	    HTTP_E_BARE_CR)                                                    \
	X(rejects_trailer_space_before_colon, REQ, POSTC "0\r\nX : y\r\n\r\n", \
	    HTTP_E_BAD_TRAILER)                                                \
	X(rejects_trailer_obs_fold, REQ, POSTC "0\r\nX: y\r\n z\r\n\r\n",      \
	    HTTP_E_BAD_TRAILER)                                                \
	X(rejects_trailer_ctl_in_value, REQ, POSTC "0\r\nX: \x01\r\n\r\n",     \
	    HTTP_E_BAD_TRAILER)                                                \
	X(rejects_trailer_without_colon, REQ, POSTC "0\r\nX\r\n\r\n",          \
	    HTTP_E_BAD_TRAILER)                                                \
	X(rejects_trailer_bare_lf, REQ, POSTC "0\r\nX: y\n\r\n",               \
	    HTTP_E_BARE_LF)                                                    \
	X(rejects_truncated_head, REQ, "GET / HTTP/1.1\r\nHo",                 \
	    HTTP_E_TRUNCATED)                                                  \
	X(rejects_truncated_length_body, REQ,                                  \
	    H11 "Content-Length: 5\r\n\r\nabc", HTTP_E_TRUNCATED)              \
	X(rejects_truncated_chunked_body, REQ, POSTC "5\r\nabc",               \
	    HTTP_E_TRUNCATED)                                                  \
	X(rejects_truncated_trailers, RSP,                                     \
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: "    \
	    "y\r\n",                                                           \
	    HTTP_E_TRUNCATED)

#define BAD_TEST(name, kind, lit, want)                                        \
	static void test_http_##name(void **state)                             \
	{                                                                      \
		(void)state;                                                   \
		check_bad(kind, NULL, S(lit), want);                           \
	}
BAD_CASES(BAD_TEST)

/* ---- valid messages: fields, payload (non-raw), framing bytes (raw) */

struct good {
	enum http_kind kind;
	int head_req;
	const char *in;
	size_t len;
	int minor;
	const char *method; /* or status line "200 OK" for responses */
	const char *target;
	int status;
	enum http_body body;
	uint64_t cl;
	int keep_alive;
	const char *payload;
};

static void
check_good_msg(const struct good *g, struct feed *f, int raw)
{
	const struct http_msg *m = &f->p.msg;
	size_t got = evbuffer_get_length(f->out);
	const char *want = raw ? g->in + m->head_len : g->payload;
	size_t wlen = raw ? g->len - m->head_len : strlen(g->payload);

	assert_int_equal(m->minor, g->minor);
	if (g->kind == REQ) {
		assert_string_equal(m->method, g->method);
		assert_int_equal(m->method_len, strlen(g->method));
		assert_string_equal(m->target, g->target);
		assert_int_equal(m->target_len, strlen(g->target));
	} else {
		assert_int_equal(m->status, g->status);
	}
	assert_int_equal(m->body, g->body);
	assert_int_equal(m->content_length, g->cl);
	assert_int_equal(m->keep_alive, g->keep_alive);
	assert_int_equal(got, wlen);
	assert_memory_equal(evbuffer_pullup(f->out, -1), want, wlen);
}

static void
check_good(const struct good *g)
{
	struct feed f;
	size_t cut;
	int raw;

	for (raw = 0; raw < 2; raw++) {
		feed_init(&f, g->kind, NULL, g->head_req);
		assert_int_equal(
		    feed_run(&f, g->in, g->len, FEED_WHOLE, 0, raw), HTTP_OK);
		check_good_msg(g, &f, raw);
		feed_clear(&f);
		feed_init(&f, g->kind, NULL, g->head_req);
		assert_int_equal(
		    feed_run(&f, g->in, g->len, FEED_BYTES, 0, raw), HTTP_OK);
		check_good_msg(g, &f, raw);
		feed_clear(&f);
		for (cut = 1; cut < g->len; cut++) {
			feed_init(&f, g->kind, NULL, g->head_req);
			assert_int_equal(
			    feed_run(&f, g->in, g->len, FEED_SPLIT, cut, raw),
			    HTTP_OK);
			check_good_msg(g, &f, raw);
			feed_clear(&f);
		}
	}
}

#define CHUNKED_BODY                                                           \
	"5;a=b;c=\"q\\\"x\" ; d\r\nhello\r\n6\r\n world\r\n"                   \
	"0\r\nX-T: 1\r\nY:2\r\n\r\n"

/* X(name, kind, head_req, input, minor, method, target, status, body, cl,
 *   keep_alive, payload) */
#define GOOD_CASES(X)                                                          \
	X(parses_get, REQ, 0, H11 "\r\n", 1, "GET", "/", 0, HTTP_BODY_NONE, 0, \
	    1, "")                                                             \
	X(parses_http10_get_without_host, REQ, 0,                              \
	    "GET /x?y=1 HTTP/1.0\r\n\r\n", 0, "GET", "/x?y=1", 0,              \
	    HTTP_BODY_NONE, 0, 0, "")                                          \
	X(keeps_http10_alive_on_keep_alive, REQ, 0,                            \
	    "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 0, "GET", "/", \
	    0, HTTP_BODY_NONE, 0, 1, "")                                       \
	X(closes_http11_on_connection_close, REQ, 0,                           \
	    H11 "Connection: foo, close\r\n\r\n", 1, "GET", "/", 0,            \
	    HTTP_BODY_NONE, 0, 0, "")                                          \
	X(parses_absolute_form_target, REQ, 0,                                 \
	    "OPTIONS http://a:80/p HTTP/1.1\r\nHost: a:80\r\n\r\n", 1,         \
	    "OPTIONS", "http://a:80/p", 0, HTTP_BODY_NONE, 0, 1, "")           \
	X(parses_content_length_body, REQ, 0,                                  \
	    "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",   \
	    1, "POST", "/u", 0, HTTP_BODY_LENGTH, 5, 1, "hello")               \
	X(folds_identical_content_lengths, REQ, 0,                             \
	    H11 "Content-Length: 2\r\ncontent-length: 2\r\n\r\nhi", 1, "GET",  \
	    "/", 0, HTTP_BODY_LENGTH, 2, 1, "hi")                              \
	X(parses_zero_content_length, REQ, 0, H11 "Content-Length: 0\r\n\r\n", \
	    1, "GET", "/", 0, HTTP_BODY_NONE, 0, 1, "")                        \
	X(parses_chunked_request, REQ, 0, POSTC CHUNKED_BODY, 1, "POST", "/",  \
	    0, HTTP_BODY_CHUNKED, 0, 1, "hello world")                         \
	X(accepts_gzip_then_chunked, REQ, 0,                                   \
	    H11 "Transfer-Encoding: gzip\r\nTransfer-Encoding: Chunked\r\n"    \
	        "\r\n3\r\nabc\r\n0\r\n\r\n",                                   \
	    1, "GET", "/", 0, HTTP_BODY_CHUNKED, 0, 1, "abc")                  \
	X(parses_uppercase_hex_chunk_size, REQ, 0,                             \
	    POSTC "A\r\n0123456789\r\n0000000000000000\r\n\r\n", 1, "POST",    \
	    "/", 0, HTTP_BODY_CHUNKED, 0, 1, "0123456789")                     \
	X(parses_response_with_length, RSP, 0,                                 \
	    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", 1, NULL, NULL,  \
	    200, HTTP_BODY_LENGTH, 3, 1, "abc")                                \
	X(parses_chunked_response, RSP, 0,                                     \
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: "                           \
	    "chunked\r\n\r\n" CHUNKED_BODY,                                    \
	    1, NULL, NULL, 200, HTTP_BODY_CHUNKED, 0, 1, "hello world")        \
	X(reads_response_until_close, RSP, 0, "HTTP/1.1 200 OK\r\n\r\nabc", 1, \
	    NULL, NULL, 200, HTTP_BODY_EOF, 0, 0, "abc")                       \
	X(reads_until_close_when_te_not_chunked, RSP, 0,                       \
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc", 1, NULL,  \
	    NULL, 200, HTTP_BODY_EOF, 0, 0, "abc")                             \
	X(reads_http10_response_until_close, RSP, 0,                           \
	    "HTTP/1.0 200 OK\r\n\r\nabc", 0, NULL, NULL, 200, HTTP_BODY_EOF,   \
	    0, 0, "abc")                                                       \
	X(gives_204_no_body, RSP, 0,                                           \
	    "HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n", 1, NULL,   \
	    NULL, 204, HTTP_BODY_NONE, 0, 1, "")                               \
	X(gives_304_no_body, RSP, 0,                                           \
	    "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", \
	    1, NULL, NULL, 304, HTTP_BODY_NONE, 0, 1, "")                      \
	X(gives_1xx_no_body, RSP, 0, "HTTP/1.1 100 Continue\r\n\r\n", 1, NULL, \
	    NULL, 100, HTTP_BODY_NONE, 0, 1, "")                               \
	X(gives_head_response_no_body, RSP, 1,                                 \
	    "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", 1, NULL, NULL,    \
	    200, HTTP_BODY_NONE, 0, 1, "")                                     \
	X(accepts_status_without_reason, RSP, 0,                               \
	    "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", 1, NULL, NULL, 404,   \
	    HTTP_BODY_NONE, 0, 1, "")

#define GOOD_TEST(name, k, hr, lit, mi, me, ta, st, bo, cl, ka, pay)           \
	static void test_http_##name(void **state)                             \
	{                                                                      \
		const struct good g = {                                        \
		    k, hr, S(lit), mi, me, ta, st, bo, cl, ka, pay};           \
		(void)state;                                                   \
		check_good(&g);                                                \
	}
GOOD_CASES(GOOD_TEST)

/* ---- single behaviours */

static struct feed *
parse_one(struct feed *f, enum http_kind kind, const char *data, size_t len)
{
	feed_init(f, kind, NULL, 0);
	assert_int_equal(feed_run(f, data, len, FEED_WHOLE, 0, 0), HTTP_OK);
	return f;
}

static void
test_http_trims_header_value_ows(void **state)
{
	struct feed f;
	const struct http_header *h;

	parse_one(&f, REQ, S(H11 "X-A:  \t va l \t \r\nX-B:\r\n\r\n"));
	assert_int_equal(f.p.msg.nheaders, 3);
	h = http_msg_header(&f.p.msg, "x-a");
	assert_non_null(h);
	assert_string_equal(h->name, "X-A");
	assert_string_equal(h->value, "va l");
	assert_int_equal(h->value_len, 4);
	h = http_msg_header(&f.p.msg, "X-B");
	assert_non_null(h);
	assert_int_equal(h->value_len, 0);
	assert_null(http_msg_header(&f.p.msg, "X-C"));
	feed_clear(&f);
}

static void
test_http_reports_reason_and_head_len(void **state)
{
	static const char in[] = "HTTP/1.1 502 Bad Gateway\r\n"
	                         "Content-Length: 0\r\n\r\n";
	struct feed f;

	parse_one(&f, RSP, S(in));
	assert_string_equal(f.p.msg.reason, "Bad Gateway");
	assert_int_equal(f.p.msg.head_len, sizeof(in) - 1);
	feed_clear(&f);
}

static void
test_http_sets_expect_continue_on_http11_only(void **state)
{
	struct feed f;

	parse_one(&f, REQ, S(H11 "Expect: 100-Continue\r\n\r\n"));
	assert_true(f.p.msg.expect_continue);
	feed_clear(&f);
	parse_one(&f, REQ, S("GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"));
	assert_false(f.p.msg.expect_continue);
	feed_clear(&f);
}

static void
test_http_has_token_across_fields(void **state)
{
	struct feed f;

	parse_one(&f, REQ,
	    S(H11 "Connection: keep-alive\r\nconnection: ,Upgrade ,\r\n\r\n"));
	assert_true(http_msg_has_token(&f.p.msg, "Connection", "upgrade"));
	assert_true(http_msg_has_token(&f.p.msg, "connection", "Keep-Alive"));
	assert_false(http_msg_has_token(&f.p.msg, "Connection", "close"));
	assert_false(http_msg_has_token(&f.p.msg, "Host", "up"));
	feed_clear(&f);
}

static void
test_http_hop_by_hop_includes_connection_tokens(void **state)
{
	struct feed f;
	const struct http_msg *m;

	parse_one(&f, REQ,
	    S(H11 "Connection: X-Private\r\nX-Private: 1\r\nKeep-Alive: 5\r\n"
	          "X-Public: 2\r\nTE: trailers\r\n\r\n"));
	m = &f.p.msg;
	assert_true(http_msg_is_hop_by_hop(m, http_msg_header(m, "x-private")));
	assert_true(
	    http_msg_is_hop_by_hop(m, http_msg_header(m, "keep-alive")));
	assert_true(http_msg_is_hop_by_hop(m, http_msg_header(m, "te")));
	assert_true(
	    http_msg_is_hop_by_hop(m, http_msg_header(m, "connection")));
	assert_false(http_msg_is_hop_by_hop(m, http_msg_header(m, "x-public")));
	assert_false(http_msg_is_hop_by_hop(m, http_msg_header(m, "host")));
	feed_clear(&f);
}

static void
test_http_pipelines_two_requests(void **state)
{
	static const char msgs[] =
	    "POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
	    "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
	    "POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "1\r\nz\r\n0\r\n\r\nGET /4";
	struct http_parser p;
	struct evbuffer *in = evbuffer_new(), *out = evbuffer_new();

	http_parser_init(&p, REQ, NULL);
	assert_int_equal(evbuffer_add(in, S(msgs)), 0);
	assert_int_equal(http_parse_head(&p, in), HTTP_OK);
	assert_string_equal(p.msg.target, "/1");
	assert_int_equal(http_parse_body(&p, in, out, 0), HTTP_OK);
	http_parser_reset(&p);
	assert_int_equal(http_parse_head(&p, in), HTTP_OK);
	assert_string_equal(p.msg.target, "/2");
	assert_int_equal(http_parse_body(&p, in, out, 0), HTTP_OK);
	http_parser_reset(&p);
	assert_int_equal(http_parse_head(&p, in), HTTP_OK);
	assert_string_equal(p.msg.target, "/3");
	assert_int_equal(http_parse_body(&p, in, out, 0), HTTP_OK);
	assert_int_equal(evbuffer_get_length(out), 4);
	assert_memory_equal(evbuffer_pullup(out, -1), "abcz", 4);
	http_parser_reset(&p);
	assert_int_equal(http_parse_head(&p, in), HTTP_AGAIN);
	assert_int_equal(evbuffer_get_length(in), 6);
	assert_int_equal(http_parse_eof(&p), HTTP_E_TRUNCATED);
	http_parser_clear(&p);
	evbuffer_free(in);
	evbuffer_free(out);
}

static void
test_http_interim_100_then_final_keeps_head_flag(void **state)
{
	static const char msgs[] =
	    "HTTP/1.1 100 Continue\r\n\r\n"
	    "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n";
	struct http_parser p;
	struct evbuffer *in = evbuffer_new();

	http_parser_init(&p, RSP, NULL);
	http_parser_set_head_request(&p, 1);
	assert_int_equal(evbuffer_add(in, S(msgs)), 0);
	assert_int_equal(http_parse_head(&p, in), HTTP_OK);
	assert_int_equal(p.msg.status, 100);
	assert_int_equal(http_parse_body(&p, in, NULL, 0), HTTP_OK);
	http_parser_reset(&p);
	assert_int_equal(http_parse_head(&p, in), HTTP_OK);
	assert_int_equal(p.msg.status, 200);
	assert_int_equal(p.msg.body, HTTP_BODY_NONE);
	http_parser_reset(&p);
	assert_int_equal(p.head_method_is_head, 0);
	http_parser_clear(&p);
	evbuffer_free(in);
}

static void
test_http_body_discarded_when_out_is_null(void **state)
{
	struct http_parser p;
	struct evbuffer *in = evbuffer_new();

	http_parser_init(&p, REQ, NULL);
	assert_int_equal(
	    evbuffer_add(in, S(POSTC "3\r\nabc\r\n0\r\n\r\nNEXT")), 0);
	assert_int_equal(http_parse_head(&p, in), HTTP_OK);
	assert_int_equal(http_parse_body(&p, in, NULL, 1), HTTP_OK);
	assert_int_equal(evbuffer_get_length(in), 4);
	http_parser_clear(&p);
	evbuffer_free(in);
}

static void
test_http_error_is_sticky(void **state)
{
	struct http_parser p;
	struct evbuffer *in = evbuffer_new();

	http_parser_init(&p, REQ, NULL);
	assert_int_equal(evbuffer_add(in, S("GET / HTTP/1.1\r\n\r\n")), 0);
	assert_int_equal(http_parse_head(&p, in), HTTP_E_MISSING_HOST);
	assert_int_equal(http_parse_head(&p, in), HTTP_E_MISSING_HOST);
	assert_int_equal(http_parse_body(&p, in, NULL, 0), HTTP_E_MISSING_HOST);
	assert_int_equal(http_parse_eof(&p), HTTP_E_MISSING_HOST);
	http_parser_clear(&p);
	evbuffer_free(in);
}

static void
test_http_eof_before_any_byte_is_ok(void **state)
{
	struct http_parser p;
	struct evbuffer *in = evbuffer_new();

	http_parser_init(&p, REQ, NULL);
	assert_int_equal(http_parse_head(&p, in), HTTP_AGAIN);
	assert_int_equal(http_parse_eof(&p), HTTP_OK);
	http_parser_clear(&p);
	evbuffer_free(in);
}

/* ---- limits */

static const struct http_limits small = {
    .max_line = 20,
    .max_head = 64,
    .max_headers = 3,
};

static void
test_http_request_line_at_limit_is_accepted(void **state)
{
	/* "GET /xxxxxx HTTP/1.0" is 20 bytes */
	check_bad(REQ, &small, S("GET /xxxxxx HTTP/1.0\r\n\r\n"), HTTP_OK);
}

static void
test_http_request_line_over_limit_is_414(void **state)
{
	check_bad(REQ, &small, S("GET /xxxxxxx HTTP/1.0\r\n\r\n"),
	    HTTP_E_LINE_TOO_LONG);
	check_bad(REQ, &small, S("GET /xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
	    HTTP_E_LINE_TOO_LONG);
	assert_int_equal(http_status_code(HTTP_E_LINE_TOO_LONG), 414);
}

static void
test_http_status_line_over_limit(void **state)
{
	check_bad(RSP, &small, S("HTTP/1.1 200 OKOKOKOKO\r\n\r\n"),
	    HTTP_E_LINE_TOO_LONG);
}

static void
test_http_head_at_limit_is_accepted(void **state)
{
	/* 64 bytes: 16 + 9 + 37 + 2 */
	check_bad(REQ, &small,
	    S("GET / HTTP/1.1\r\nHost: a\r\nX: 01234567890123456789012345678901"
	      "\r\n\r\n"),
	    HTTP_OK);
}

static void
test_http_head_over_limit_is_431(void **state)
{
	check_bad(REQ, &small,
	    S("GET / HTTP/1.1\r\nHost: a\r\nX: "
	      "012345678901234567890123456789012"
	      "\r\n\r\n"),
	    HTTP_E_HEADERS_TOO_LARGE);
	check_bad(REQ, &small,
	    S("GET / HTTP/1.1\r\nX: 0123456789012345678901234567890123456789012"
	      "3456789"),
	    HTTP_E_HEADERS_TOO_LARGE);
	assert_int_equal(http_status_code(HTTP_E_HEADERS_TOO_LARGE), 431);
}

static void
test_http_header_count_at_limit_is_accepted(void **state)
{
	check_bad(REQ, &small, S(H11 "A: 1\r\nB: 2\r\n\r\n"), HTTP_OK);
}

static void
test_http_header_count_over_limit_is_431(void **state)
{
	check_bad(REQ, &small, S(H11 "A: 1\r\nB: 2\r\nC: 3\r\n\r\n"),
	    HTTP_E_TOO_MANY_HEADERS);
	assert_int_equal(http_status_code(HTTP_E_TOO_MANY_HEADERS), 431);
}

static void
test_http_trailers_count_against_header_limit(void **state)
{
	static const struct http_limits l = {100, 4096, 3};

	check_bad(REQ, &l,
	    S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	      "0\r\nT: 1\r\n\r\n"),
	    HTTP_OK);
	check_bad(REQ, &l,
	    S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	      "0\r\nT: 1\r\nU: 2\r\n\r\n"),
	    HTTP_E_TOO_MANY_HEADERS);
}

static void
test_http_trailers_count_against_head_size(void **state)
{
	static const struct http_limits l = {100, 84, 100};

	/* head 56 bytes, so 28 bytes of trailer section at most */
	check_bad(
	    REQ, &l, S(POSTC "0\r\nT: 012345678901234567890\r\n\r\n"), HTTP_OK);
	check_bad(REQ, &l, S(POSTC "0\r\nT: 0123456789012345678901\r\n\r\n"),
	    HTTP_E_HEADERS_TOO_LARGE);
}

static void
test_http_chunk_line_over_limit(void **state)
{
	/* the size line may be max_line (20) bytes, CRLF not counted */
	check_bad(REQ, &small,
	    S(POSTC "1;aaaaaaaaaaaaaaaaaa\r\nx\r\n0\r\n\r\n"), HTTP_OK);
	check_bad(REQ, &small,
	    S(POSTC "1;aaaaaaaaaaaaaaaaaaa\r\nx\r\n0\r\n\r\n"),
	    HTTP_E_BAD_CHUNK_EXT);
}

static void
test_http_16_hex_digit_chunk_size_is_accepted(void **state)
{
	struct http_parser p;
	struct evbuffer *in = evbuffer_new();

	http_parser_init(&p, REQ, NULL);
	assert_int_equal(
	    evbuffer_add(in, S(POSTC "FFFFFFFFFFFFFFFF\r\nab")), 0);
	assert_int_equal(http_parse_head(&p, in), HTTP_OK);
	assert_int_equal(http_parse_body(&p, in, NULL, 0), HTTP_AGAIN);
	assert_true(p.remaining == UINT64_MAX - 2);
	assert_int_equal(http_parse_eof(&p), HTTP_E_TRUNCATED);
	http_parser_clear(&p);
	evbuffer_free(in);
}

/* ---- status names and codes */

static void
test_http_status_names_are_distinct(void **state)
{
	int i, j;

	assert_string_equal(http_status_name(HTTP_OK), "ok");
	assert_string_equal(http_status_name(HTTP_AGAIN), "again");
	assert_string_equal(http_status_name(HTTP_E_CL_AND_TE), "cl_and_te");
	assert_string_equal(http_status_name(-999), "unknown");
	for (i = HTTP_E__MIN; i < 0; i++)
		for (j = i + 1; j < 0; j++)
			assert_string_not_equal(
			    http_status_name(i), http_status_name(j));
}

static void
test_http_status_code_400_for_syntax(void **state)
{
	assert_int_equal(http_status_code(HTTP_E_CL_AND_TE), 400);
	assert_int_equal(http_status_code(HTTP_E_BAD_METHOD), 400);
	assert_int_equal(http_status_code(HTTP_E_OBS_FOLD), 400);
}

static void
test_http_reason_phrases(void **state)
{
	assert_string_equal(http_reason(502), "Bad Gateway");
	assert_string_equal(http_reason(504), "Gateway Timeout");
	assert_string_equal(
	    http_reason(431), "Request Header Fields Too Large");
	assert_string_equal(http_reason(799), "");
}

/* ---- serializer */

static void
assert_buf(struct evbuffer *b, const char *want)
{
	size_t len = strlen(want);

	assert_int_equal(evbuffer_get_length(b), len);
	assert_memory_equal(evbuffer_pullup(b, -1), want, len);
	evbuffer_drain(b, len);
}

static void
test_http_writes_request_head(void **state)
{
	struct evbuffer *b = evbuffer_new();

	assert_int_equal(http_write_request_line(b, "GET", "/a?b", 1), 0);
	assert_int_equal(http_write_header(b, "Host", "x"), 0);
	assert_int_equal(http_write_headern(b, "X-Yz", 2, "valuexx", 5), 0);
	assert_int_equal(http_write_end_head(b), 0);
	assert_buf(b, "GET /a?b HTTP/1.1\r\nHost: x\r\nX-: value\r\n\r\n");
	assert_int_equal(http_write_request_line(b, "HEAD", "*", 0), 0);
	assert_buf(b, "HEAD * HTTP/1.0\r\n");
	evbuffer_free(b);
}

static void
test_http_writes_status_line(void **state)
{
	struct evbuffer *b = evbuffer_new();

	assert_int_equal(http_write_status_line(b, 502, NULL, 1), 0);
	assert_buf(b, "HTTP/1.1 502 Bad Gateway\r\n");
	assert_int_equal(http_write_status_line(b, 299, "Odd", 0), 0);
	assert_buf(b, "HTTP/1.0 299 Odd\r\n");
	assert_int_equal(http_write_status_line(b, 799, NULL, 1), 0);
	assert_buf(b, "HTTP/1.1 799 \r\n");
	evbuffer_free(b);
}

static void
test_http_writes_long_header(void **state)
{
	struct evbuffer *b = evbuffer_new();
	char v[2000], want[2100];

	memset(v, 'v', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	snprintf(want, sizeof(want), "Cookie: %s\r\n", v);
	assert_int_equal(http_write_header(b, "Cookie", v), 0);
	assert_buf(b, want);
	evbuffer_free(b);
}

static void
test_http_writer_refuses_injection(void **state)
{
	struct evbuffer *b = evbuffer_new();

	assert_int_equal(http_write_header(b, "X", "a\r\nEvil: 1"), -1);
	assert_int_equal(http_write_header(b, "X Y", "a"), -1);
	assert_int_equal(http_write_header(b, "", "a"), -1);
	assert_int_equal(http_write_request_line(b, "GET", "/a b", 1), -1);
	assert_int_equal(http_write_request_line(b, "G T", "/", 1), -1);
	assert_int_equal(http_write_request_line(b, "GET", "/", 2), -1);
	assert_int_equal(http_write_status_line(b, 200, "O\nK", 1), -1);
	assert_int_equal(http_write_status_line(b, 99, NULL, 1), -1);
	assert_int_equal(evbuffer_get_length(b), 0);
	evbuffer_free(b);
}

static void
test_http_writes_chunks(void **state)
{
	struct evbuffer *b = evbuffer_new(), *d = evbuffer_new();
	char big[300];

	assert_int_equal(http_write_chunk(b, "hello", 5), 0);
	assert_int_equal(http_write_chunk(b, "x", 0), 0);
	assert_int_equal(http_write_last_chunk(b), 0);
	assert_buf(b, "5\r\nhello\r\n0\r\n\r\n");
	memset(big, 'b', sizeof(big));
	assert_int_equal(http_write_chunk(b, big, sizeof(big)), 0);
	assert_int_equal(evbuffer_get_length(b), 5 + 300 + 2);
	assert_memory_equal(evbuffer_pullup(b, 5), "12c\r\n", 5);
	evbuffer_drain(b, 5 + 300 + 2);
	assert_int_equal(evbuffer_add(d, "abcdefghijklmnopq", 17), 0);
	assert_int_equal(http_write_chunk_buffer(b, d), 0);
	assert_int_equal(evbuffer_get_length(d), 0);
	assert_int_equal(http_write_chunk_buffer(b, d), 0);
	assert_buf(b, "11\r\nabcdefghijklmnopq\r\n");
	assert_int_equal(http_write_chunk_size(b, 0xabc), 0);
	assert_buf(b, "abc\r\n");
	evbuffer_free(b);
	evbuffer_free(d);
}

static void
test_http_written_message_parses_back(void **state)
{
	struct evbuffer *b = evbuffer_new(), *out = evbuffer_new();
	struct http_parser p;

	assert_int_equal(http_write_request_line(b, "PUT", "/r", 1), 0);
	assert_int_equal(http_write_header(b, "Host", "h"), 0);
	assert_int_equal(
	    http_write_header(b, "Transfer-Encoding", "chunked"), 0);
	assert_int_equal(http_write_end_head(b), 0);
	assert_int_equal(http_write_chunk(b, "abc", 3), 0);
	assert_int_equal(http_write_last_chunk(b), 0);
	http_parser_init(&p, REQ, NULL);
	assert_int_equal(http_parse_head(&p, b), HTTP_OK);
	assert_string_equal(p.msg.method, "PUT");
	assert_int_equal(http_parse_body(&p, b, out, 0), HTTP_OK);
	assert_buf(out, "abc");
	http_parser_clear(&p);
	evbuffer_free(b);
	evbuffer_free(out);
}

#define BAD_ENTRY(name, kind, lit, want) cmocka_unit_test(test_http_##name),
#define GOOD_ENTRY(name, ...)            cmocka_unit_test(test_http_##name),

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    BAD_CASES(BAD_ENTRY) GOOD_CASES(GOOD_ENTRY)
	        cmocka_unit_test(test_http_trims_header_value_ows),
	    cmocka_unit_test(test_http_reports_reason_and_head_len),
	    cmocka_unit_test(test_http_sets_expect_continue_on_http11_only),
	    cmocka_unit_test(test_http_has_token_across_fields),
	    cmocka_unit_test(test_http_hop_by_hop_includes_connection_tokens),
	    cmocka_unit_test(test_http_pipelines_two_requests),
	    cmocka_unit_test(test_http_interim_100_then_final_keeps_head_flag),
	    cmocka_unit_test(test_http_body_discarded_when_out_is_null),
	    cmocka_unit_test(test_http_error_is_sticky),
	    cmocka_unit_test(test_http_eof_before_any_byte_is_ok),
	    cmocka_unit_test(test_http_request_line_at_limit_is_accepted),
	    cmocka_unit_test(test_http_request_line_over_limit_is_414),
	    cmocka_unit_test(test_http_status_line_over_limit),
	    cmocka_unit_test(test_http_head_at_limit_is_accepted),
	    cmocka_unit_test(test_http_head_over_limit_is_431),
	    cmocka_unit_test(test_http_header_count_at_limit_is_accepted),
	    cmocka_unit_test(test_http_header_count_over_limit_is_431),
	    cmocka_unit_test(test_http_trailers_count_against_header_limit),
	    cmocka_unit_test(test_http_trailers_count_against_head_size),
	    cmocka_unit_test(test_http_chunk_line_over_limit),
	    cmocka_unit_test(test_http_16_hex_digit_chunk_size_is_accepted),
	    cmocka_unit_test(test_http_status_names_are_distinct),
	    cmocka_unit_test(test_http_status_code_400_for_syntax),
	    cmocka_unit_test(test_http_reason_phrases),
	    cmocka_unit_test(test_http_writes_request_head),
	    cmocka_unit_test(test_http_writes_status_line),
	    cmocka_unit_test(test_http_writes_long_header),
	    cmocka_unit_test(test_http_writer_refuses_injection),
	    cmocka_unit_test(test_http_writes_chunks),
	    cmocka_unit_test(test_http_written_message_parses_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
