/*
 * fuzz_http: libFuzzer target for gateway/http.c.
 *
 * The first two bytes of the input steer the run: byte 0 picks raw mode
 * (bit 0), a HEAD request for the response parser (bit 1), small limits
 * (bit 2) and a piece size (bits 3..7); byte 1 the split point. The rest is
 * fed to a request parser and a response parser, whole, split in two and in
 * small pieces, as many messages as it holds (pipelining). Invariants:
 * - the three feeds give the same transcript (heads, body bytes, result);
 * - strings of a parsed head are NUL-terminated at their length, and limits
 *   hold;
 * - in raw mode the heads and bodies taken are exactly the input consumed;
 * - a parsed head serialized again parses back to the same fields, and the
 *   payload written as chunks parses back to the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_MSGS 64

#define FUZZ_CHECK(cond)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_http: %s:%d: %s\n", __FILE__,    \
			    __LINE__, #cond);                                  \
			abort();                                               \
		}                                                              \
	} while (0)

struct fuzz_opts {
	enum http_kind kind;
	int raw;
	int head_req;
	struct http_limits limits;
};

static void
fuzz_check_str(const char *s, size_t len)
{
	FUZZ_CHECK(s != NULL);
	FUZZ_CHECK(strlen(s) == len);
}

/* The fields of a head hold together and within the limits. */
static void
fuzz_check_msg(const struct http_parser *p)
{
	const struct http_msg *m = &p->msg;
	size_t i;

	FUZZ_CHECK(m->head_len <= p->limits.max_head);
	FUZZ_CHECK(m->nheaders <= p->limits.max_headers);
	FUZZ_CHECK(m->minor == 0 || m->minor == 1);
	if (m->kind == HTTP_REQUEST) {
		fuzz_check_str(m->method, m->method_len);
		fuzz_check_str(m->target, m->target_len);
		FUZZ_CHECK(m->method_len > 0 && m->target_len > 0);
		FUZZ_CHECK(m->body != HTTP_BODY_EOF);
	} else {
		FUZZ_CHECK(m->status >= 100 && m->status <= 999);
		FUZZ_CHECK(m->reason != NULL);
	}
	for (i = 0; i < m->nheaders; i++) {
		fuzz_check_str(m->headers[i].name, m->headers[i].name_len);
		fuzz_check_str(m->headers[i].value, m->headers[i].value_len);
	}
	FUZZ_CHECK((m->body == HTTP_BODY_LENGTH) == (m->content_length > 0));
	if (m->body == HTTP_BODY_EOF)
		FUZZ_CHECK(!m->keep_alive);
}

/* Serialize the head again; it must parse back to the same fields. */
static void
fuzz_roundtrip_head(const struct fuzz_opts *o, const struct http_msg *m)
{
	struct http_limits big = { 1 << 20, 1 << 20, 1 << 16 };
	struct evbuffer *b = evbuffer_new();
	struct http_parser q;
	size_t i;

	FUZZ_CHECK(b != NULL);
	if (m->kind == HTTP_REQUEST)
		FUZZ_CHECK(http_write_request_line(b, m->method, m->target,
			       m->minor) == 0);
	else
		FUZZ_CHECK(http_write_status_line(b, m->status, m->reason,
			       m->minor) == 0);
	for (i = 0; i < m->nheaders; i++)
		FUZZ_CHECK(http_write_headern(b, m->headers[i].name,
			       m->headers[i].name_len, m->headers[i].value,
			       m->headers[i].value_len) == 0);
	FUZZ_CHECK(http_write_end_head(b) == 0);
	http_parser_init(&q, m->kind, &big);
	http_parser_set_head_request(&q, o->head_req);
	FUZZ_CHECK(http_parse_head(&q, b) == HTTP_OK);
	FUZZ_CHECK(evbuffer_get_length(b) == 0);
	FUZZ_CHECK(q.msg.nheaders == m->nheaders);
	FUZZ_CHECK(q.msg.body == m->body);
	FUZZ_CHECK(q.msg.content_length == m->content_length);
	FUZZ_CHECK(q.msg.keep_alive == m->keep_alive);
	FUZZ_CHECK(q.msg.status == m->status);
	if (m->kind == HTTP_REQUEST)
		FUZZ_CHECK(strcmp(q.msg.target, m->target) == 0);
	for (i = 0; i < m->nheaders; i++)
		FUZZ_CHECK(strcmp(q.msg.headers[i].value,
			       m->headers[i].value) == 0);
	http_parser_clear(&q);
	evbuffer_free(b);
}

/* Write the payload as chunks and parse it back. */
static void
fuzz_roundtrip_chunks(const unsigned char *pay, size_t len)
{
	struct evbuffer *b = evbuffer_new(), *out = evbuffer_new();
	struct http_parser q;
	size_t off, n;

	FUZZ_CHECK(b != NULL && out != NULL);
	FUZZ_CHECK(http_write_request_line(b, "POST", "/", 1) == 0);
	FUZZ_CHECK(http_write_header(b, "Host", "h") == 0);
	FUZZ_CHECK(http_write_header(b, "Transfer-Encoding", "chunked") == 0);
	FUZZ_CHECK(http_write_end_head(b) == 0);
	for (off = 0; off < len; off += n) {
		n = len - off < 7 ? len - off : 7;
		FUZZ_CHECK(http_write_chunk(b, pay + off, n) == 0);
	}
	FUZZ_CHECK(http_write_last_chunk(b) == 0);
	http_parser_init(&q, HTTP_REQUEST, NULL);
	FUZZ_CHECK(http_parse_head(&q, b) == HTTP_OK);
	FUZZ_CHECK(http_parse_body(&q, b, out, 0) == HTTP_OK);
	FUZZ_CHECK(evbuffer_get_length(out) == len);
	FUZZ_CHECK(len == 0 || memcmp(evbuffer_pullup(out, -1), pay, len) == 0);
	http_parser_clear(&q);
	evbuffer_free(b);
	evbuffer_free(out);
}

/*
 * Feed data in pieces of step bytes (0: whole; the first piece is first
 * bytes when non-zero), parsing every message, and write a transcript to
 * log. With check, also verify raw pass-through and round trips. Returns
 * the final result.
 */
static int
fuzz_run(const struct fuzz_opts *o, const uint8_t *data, size_t size,
    size_t first, size_t step, int check, struct evbuffer *log)
{
	struct http_parser p;
	struct evbuffer *in = evbuffer_new(), *body = evbuffer_new();
	size_t off = 0, pos = 0, n, blen;
	int rc = HTTP_AGAIN, head_done = 0, nmsg = 0;

	FUZZ_CHECK(in != NULL && body != NULL);
	http_parser_init(&p, o->kind, &o->limits);
	http_parser_set_head_request(&p, o->head_req);
	for (;;) {
		for (;;) {
			if (!head_done) {
				rc = http_parse_head(&p, in);
				if (rc != HTTP_OK)
					break;
				head_done = 1;
				fuzz_check_msg(&p);
				evbuffer_add_printf(log, "H%d %d %d %llu %d %zu|",
				    p.msg.status, p.msg.minor, (int)p.msg.body,
				    (unsigned long long)p.msg.content_length,
				    p.msg.keep_alive, p.msg.nheaders);
				if (check)
					fuzz_roundtrip_head(o, &p.msg);
			}
			rc = http_parse_body(&p, in, body, o->raw);
			if (rc != HTTP_OK)
				break;
			blen = evbuffer_get_length(body);
			if (check && o->raw) {
				/* what was taken is exactly the input */
				pos += p.msg.head_len;
				FUZZ_CHECK(pos + blen <= size);
				FUZZ_CHECK(blen == 0 ||
				    memcmp(evbuffer_pullup(body, -1),
					data + pos, blen) == 0);
				pos += blen;
			}
			if (check && !o->raw)
				fuzz_roundtrip_chunks(evbuffer_pullup(body, -1),
				    blen);
			evbuffer_add_buffer(log, body);
			evbuffer_add(log, "E|", 2);
			http_parser_reset(&p);
			http_parser_set_head_request(&p, o->head_req);
			head_done = 0;
			if (++nmsg == FUZZ_MAX_MSGS)
				break;
		}
		if (rc < 0 || nmsg == FUZZ_MAX_MSGS || off == size)
			break;
		n = step == 0 ? size - off : step;
		if (off == 0 && first != 0)
			n = first;
		if (n > size - off)
			n = size - off;
		FUZZ_CHECK(evbuffer_add(in, data + off, n) == 0);
		off += n;
	}
	if (rc == HTTP_AGAIN) {
		/* body bytes of a message read until close */
		evbuffer_add_buffer(log, body);
		rc = http_parse_eof(&p);
	}
	evbuffer_add_printf(log, "R%d", rc);
	http_parser_clear(&p);
	evbuffer_free(in);
	evbuffer_free(body);
	return rc;
}

static void
fuzz_same(struct evbuffer *a, struct evbuffer *b)
{
	size_t len = evbuffer_get_length(a);

	FUZZ_CHECK(len == evbuffer_get_length(b));
	FUZZ_CHECK(memcmp(evbuffer_pullup(a, -1), evbuffer_pullup(b, -1),
		       len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct http_limits small = { 64, 256, 8 };
	struct evbuffer *whole, *split, *pieces;
	struct fuzz_opts o;
	size_t cut, step;
	int k, a, b, c;

	if (size < 2)
		return 0;
	memset(&o, 0, sizeof(o));
	o.raw = data[0] & 1;
	o.head_req = (data[0] >> 1) & 1;
	o.limits = (data[0] & 4) ? small : http_default_limits;
	step = (size_t)(data[0] >> 3) + 1;
	cut = data[1];
	data += 2;
	size -= 2;
	if (size > 0)
		cut = cut % size;
	for (k = 0; k < 2; k++) {
		o.kind = k == 0 ? HTTP_REQUEST : HTTP_RESPONSE;
		whole = evbuffer_new();
		split = evbuffer_new();
		pieces = evbuffer_new();
		FUZZ_CHECK(whole != NULL && split != NULL && pieces != NULL);
		a = fuzz_run(&o, data, size, 0, 0, 1, whole);
		b = fuzz_run(&o, data, size, cut, 0, 0, split);
		c = fuzz_run(&o, data, size, 0, step, 0, pieces);
		FUZZ_CHECK(a == b && b == c);
		FUZZ_CHECK(a <= HTTP_AGAIN && a >= HTTP_E__MIN);
		FUZZ_CHECK(http_status_name(a) != NULL);
		fuzz_same(whole, split);
		fuzz_same(whole, pieces);
		evbuffer_free(whole);
		evbuffer_free(split);
		evbuffer_free(pieces);
	}
	return 0;
}
