/*
 * http: the strict, incremental HTTP/1.1 framing (see http.h for the API).
 *
 * The rules, the strict reading of RFC 9112 and RFC 9110:
 * - Lines end in CRLF. A bare LF in the head is rejected (HTTP_E_BARE_LF),
 *   so is a CR not followed by LF (HTTP_E_BARE_CR) and a NUL anywhere in the
 *   head (HTTP_E_NUL). No empty line is accepted before the start line.
 * - Request line: exactly "method SP target SP HTTP/1.x". The method is a
 *   token; the target is 1*(0x21..0x7e): no CTL, no space, no obs-text.
 *   Only HTTP/1.0 and HTTP/1.1. Status line: "HTTP/1.x SP 3DIGIT [SP reason]"
 *   with the code in 100..999; the reason has no CTL but HTAB.
 * - The request or status line may be max_line bytes (CRLF not counted,
 *   HTTP_E_LINE_TOO_LONG), the whole head max_head bytes with its final
 *   CRLF (HTTP_E_HEADERS_TOO_LARGE), max_headers fields
 *   (HTTP_E_TOO_MANY_HEADERS).
 * - Header fields: the name is a token; white space before the colon is
 *   rejected (HTTP_E_SPACE_BEFORE_COLON); a line starting with SP or HTAB is
 *   obs-fold (HTTP_E_OBS_FOLD); the value may hold VCHAR, obs-text, SP and
 *   HTAB only, leading and trailing OWS is trimmed.
 * - Content-Length is 1*DIGIT up to 2^63-1 (no list form); duplicates with
 *   the same value are folded, differing ones rejected (HTTP_E_CL_MISMATCH).
 *   Content-Length with Transfer-Encoding is rejected (HTTP_E_CL_AND_TE).
 * - Transfer-Encoding: a list of tokens without parameters (a ";" is
 *   HTTP_E_BAD_TE), over all Transfer-Encoding fields. Rejected on HTTP/1.0
 *   messages (HTTP_E_BAD_TE), "chunked" twice (HTTP_E_BAD_TE). On a request,
 *   codings must be known (gzip, deflate, compress, x-gzip, x-compress,
 *   chunked: else HTTP_E_BAD_TE) and chunked must be last
 *   (HTTP_E_TE_NOT_CHUNKED). On a response whose last coding is not chunked
 *   the body is read until the connection closes (RFC 9112 6.3), and the
 *   connection is not kept alive.
 * - HTTP/1.1 requests need exactly one Host (HTTP_E_MISSING_HOST); two Host
 *   fields are rejected on any request (HTTP_E_DUPLICATE_HOST).
 * - Keep-alive: HTTP/1.1 on unless "Connection: close"; HTTP/1.0 off unless
 *   "Connection: keep-alive" (and no close). A response read until close is
 *   never kept alive.
 * - Bodies: requests without Content-Length or Transfer-Encoding have none;
 *   responses to HEAD, 1xx, 204 and 304 have none whatever the headers say
 *   (the headers are still validated).
 * - Chunked: the size is 1 to 16 hex digits (more is
 *   HTTP_E_CHUNK_SIZE_TOO_LONG, so it cannot overflow); extensions are
 *   validated against RFC 9112 7.1.1 (BWS ";" name ["=" token /
 *   quoted-string]) and the size line may be max_line bytes
 *   (HTTP_E_BAD_CHUNK_EXT); chunk data must end in CRLF (HTTP_E_BAD_CHUNK).
 *   Trailer fields are validated like header fields (any syntax fault is
 *   HTTP_E_BAD_TRAILER) and count against max_headers and max_head.
 * - Expect: 100-continue is reported on HTTP/1.1 requests only (RFC 9110
 *   10.1.1 says to ignore it on HTTP/1.0).
 *
 * Speed: the end of the head is found incrementally (p->scan), the head is
 * copied once into the parser's buffer and parsed in place, the headers
 * point into it. Body bytes move with evbuffer_remove_buffer (no copy).
 * Byte classes come from one table.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "http.h"

const struct http_limits http_default_limits = {
    .max_line = 8192,
    .max_head = 32768,
    .max_headers = 100,
};

/* Byte classes. */
#define CC_TOKEN   0x01 /* tchar (RFC 9110 5.6.2) */
#define CC_VALUE   0x02 /* field-vchar, SP, HTAB */
#define CC_TARGET  0x04 /* VCHAR: allowed in a request target */
#define CC_HEX     0x08 /* HEXDIG */
#define CC_QDTEXT  0x10 /* qdtext of a quoted-string */
#define CC_SPECIAL 0x20 /* NUL, CR, LF: checked once over the head */

static const unsigned char http_cc[256] = {
    0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 00 */
    0x00, 0x12, 0x20, 0x00, 0x00, 0x20, 0x00, 0x00, /* 08 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 10 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 18 */
    0x12, 0x17, 0x06, 0x17, 0x17, 0x17, 0x17, 0x17, /* 20 */
    0x16, 0x16, 0x17, 0x17, 0x16, 0x17, 0x17, 0x16, /* 28 */
    0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, /* 30 */
    0x1f, 0x1f, 0x16, 0x16, 0x16, 0x16, 0x16, 0x16, /* 38 */
    0x16, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x17, /* 40 */
    0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, /* 48 */
    0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, /* 50 */
    0x17, 0x17, 0x17, 0x16, 0x06, 0x16, 0x17, 0x17, /* 58 */
    0x17, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x17, /* 60 */
    0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, /* 68 */
    0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, /* 70 */
    0x17, 0x17, 0x17, 0x16, 0x17, 0x16, 0x17, 0x00, /* 78 */
    0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, /* 80 */
    0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, /* 88 */
    0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, /* 90 */
    0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, /* 98 */
    0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, /* a0 */
    0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, /* a8 */
    0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, /* b0 */
    0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, /* b8 */
    0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, /* c0 */
    0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, /* c8 */
    0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, /* d0 */
    0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, /* d8 */
    0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, /* e0 */
    0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, /* e8 */
    0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, /* f0 */
    0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, 0x12, /* f8 */
};

#define CC(c, cls) (http_cc[(unsigned char)(c)] & (cls))

/* Parser states. */
enum { HTTP_ST_HEAD, HTTP_ST_BODY, HTTP_ST_DONE, HTTP_ST_ERROR };

/* Chunked body states. */
enum {
	CH_SIZE,
	CH_SIZE_LF,
	CH_EXT_BWS,
	CH_EXT_NAME_START,
	CH_EXT_NAME,
	CH_EXT_NAME_BWS,
	CH_EXT_VAL_START,
	CH_EXT_TOKVAL,
	CH_EXT_QUOTED,
	CH_EXT_QESC,
	CH_EXT_AFTER_Q,
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TR_START,
	CH_TR_NAME,
	CH_TR_VALUE,
	CH_TR_LF,
	CH_TR_END_LF
};

/* What the header fields say about framing, gathered while parsing. */
struct http_fields {
	int cl_seen;
	uint64_t cl;
	int te_seen;
	int te_chunked;      /* times "chunked" appeared */
	int te_last_chunked; /* the last coding is chunked */
	int te_unknown;      /* a coding we do not know */
	int hosts;
	int conn_close;
	int conn_keep_alive;
	int expect_continue;
};

static const char *const http_status_names[] = {
    "ok",
    "line_too_long",
    "headers_too_large",
    "too_many_headers",
    "bad_method",
    "bad_target",
    "bad_version",
    "bad_status",
    "bad_header_name",
    "bad_header_value",
    "obs_fold",
    "bare_cr",
    "bare_lf",
    "nul",
    "cl_and_te",
    "cl_mismatch",
    "bad_cl",
    "te_not_chunked",
    "bad_te",
    "chunk_size_too_long",
    "bad_chunk_size",
    "bad_chunk",
    "bad_chunk_ext",
    "bad_trailer",
    "space_before_colon",
    "missing_host",
    "duplicate_host",
    "truncated",
    "nomem",
};

const char *
http_status_name(int rc)
{
	if (rc == HTTP_AGAIN)
		return "again";
	if (rc > 0 || rc < HTTP_E__MIN)
		return "unknown";
	return http_status_names[-rc];
}

int
http_status_code(int rc)
{
	switch (rc) {
	case HTTP_E_HEADERS_TOO_LARGE:
	case HTTP_E_TOO_MANY_HEADERS:
		return 431;
	case HTTP_E_LINE_TOO_LONG:
		return 414;
	case HTTP_E_NOMEM:
		return 500;
	default:
		return 400;
	}
}

static int
http_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Case-insensitive comparison of a counted string with a C string. */
static int
http_ieq(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen; i++)
		if (b[i] == '\0' || http_lower((unsigned char)a[i]) !=
		                        http_lower((unsigned char)b[i]))
			return 0;
	return b[alen] == '\0';
}

/* Case-insensitive comparison of two counted strings. */
static int
http_ieqn(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i;

	if (alen != blen)
		return 0;
	for (i = 0; i < alen; i++)
		if (http_lower((unsigned char)a[i]) !=
		    http_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

/*
 * The next element of a comma-separated list in [*s, e): OWS trimmed, empty
 * elements skipped. Returns 1 with tok/len set, 0 at the end.
 */
static int
http_list_next(const char **s, const char *e, const char **tok, size_t *len)
{
	const char *c = *s, *t, *te;

	for (;;) {
		while (c < e && (*c == ' ' || *c == '\t' || *c == ','))
			c++;
		if (c == e) {
			*s = c;
			return 0;
		}
		t = c;
		while (c < e && *c != ',')
			c++;
		te = c;
		while (te > t && (te[-1] == ' ' || te[-1] == '\t'))
			te--;
		if (te > t) {
			*tok = t;
			*len = (size_t)(te - t);
			*s = c;
			return 1;
		}
	}
}

void
http_parser_init(struct http_parser *p, enum http_kind kind,
    const struct http_limits *limits)
{
	memset(p, 0, sizeof(*p));
	p->msg.kind = kind;
	p->limits = limits != NULL ? *limits : http_default_limits;
	if (p->limits.max_line == 0)
		p->limits.max_line = http_default_limits.max_line;
	if (p->limits.max_head == 0)
		p->limits.max_head = http_default_limits.max_head;
	if (p->limits.max_headers == 0)
		p->limits.max_headers = http_default_limits.max_headers;
}

void
http_parser_reset(struct http_parser *p)
{
	struct http_parser keep = *p;

	/* HTTP_ST_HEAD and CH_SIZE are 0; the allocations are kept */
	memset(p, 0, sizeof(*p));
	p->msg.kind = keep.msg.kind;
	p->msg.headers = keep.msg.headers;
	p->limits = keep.limits;
	p->buf = keep.buf;
	p->buf_cap = keep.buf_cap;
	p->hdr_cap = keep.hdr_cap;
	p->head_method_is_head = keep.prev_1xx ? keep.head_method_is_head : 0;
}

void
http_parser_clear(struct http_parser *p)
{
	free(p->buf);
	free(p->msg.headers);
	memset(p, 0, sizeof(*p));
}

void
http_parser_set_head_request(struct http_parser *p, int is_head)
{
	p->head_method_is_head = is_head != 0;
}

static int
http_fail(struct http_parser *p, int rc)
{
	p->state = HTTP_ST_ERROR;
	p->error = rc;
	return rc;
}

/* The limits, checked the same way whether the head came whole or split. */
static int
http_scan_limits(const struct http_parser *p, size_t scanned, size_t end)
{
	size_t line = p->first_lf != 0 ? p->first_lf - 1 : scanned;

	if (line > p->limits.max_line + 1)
		return HTTP_E_LINE_TOO_LONG;
	if ((end != 0 ? end : scanned) > p->limits.max_head)
		return HTTP_E_HEADERS_TOO_LARGE;
	return end != 0 ? HTTP_OK : HTTP_AGAIN;
}

/*
 * Look for the empty line that ends the head, from p->scan on. Returns
 * HTTP_OK with *endp the head's length, HTTP_AGAIN, or a limit error.
 */
static int
http_scan_head(struct http_parser *p, struct evbuffer *in, size_t *endp)
{
	size_t len = evbuffer_get_length(in), off = p->scan;
	struct evbuffer_iovec v[8];
	struct evbuffer_ptr pos;
	int st = p->scan_state, i, n, rc;

	while (off < len) {
		if (evbuffer_ptr_set(in, &pos, off, EVBUFFER_PTR_SET) < 0)
			return HTTP_E_NOMEM;
		n = evbuffer_peek(in, -1, &pos, v, 8);
		if (n > 8)
			n = 8;
		if (n <= 0)
			break;
		for (i = 0; i < n; i++) {
			const unsigned char *b = v[i].iov_base, *c = b;
			const unsigned char *e = b + v[i].iov_len;

			while (c < e) {
				unsigned char ch;

				if (st == 0) {
					c = memchr(c, '\n', (size_t)(e - c));
					if (c == NULL)
						break;
				}
				ch = *c++;
				if (ch == '\n') {
					size_t at = off + (size_t)(c - b);

					if (p->first_lf == 0)
						p->first_lf = at;
					if (st != 0) {
						*endp = at;
						return http_scan_limits(
						    p, at, at);
					}
					st = 1;
				} else if (st == 1 && ch == '\r') {
					st = 2;
				} else {
					st = 0;
				}
			}
			off += v[i].iov_len;
			rc = http_scan_limits(p, off, 0);
			if (rc != HTTP_AGAIN)
				return rc;
		}
	}
	p->scan = off;
	p->scan_state = st;
	return HTTP_AGAIN;
}

/* Content-Length: 1*DIGIT, at most 2^63-1. */
static int
http_field_cl(struct http_fields *f, const struct http_header *h)
{
	uint64_t v = 0;
	size_t i;

	if (h->value_len == 0)
		return HTTP_E_BAD_CL;
	for (i = 0; i < h->value_len; i++) {
		unsigned d = (unsigned char)h->value[i] - '0';

		if (d > 9 || v > ((uint64_t)INT64_MAX - d) / 10)
			return HTTP_E_BAD_CL;
		v = v * 10 + d;
	}
	if (f->cl_seen && f->cl != v)
		return HTTP_E_CL_MISMATCH;
	f->cl_seen = 1;
	f->cl = v;
	return HTTP_OK;
}

/* Transfer-Encoding: a list of tokens, no parameters. */
static int
http_field_te(struct http_fields *f, const struct http_header *h)
{
	static const char *const known[] = {
	    "gzip", "deflate", "compress", "x-gzip", "x-compress"};
	const char *s = h->value, *e = h->value + h->value_len, *tok;
	size_t len, i, k;
	int n = 0;

	while (http_list_next(&s, e, &tok, &len)) {
		for (i = 0; i < len; i++)
			if (!CC(tok[i], CC_TOKEN))
				return HTTP_E_BAD_TE;
		n++;
		f->te_last_chunked = http_ieq(tok, len, "chunked");
		if (f->te_last_chunked) {
			f->te_chunked++;
			continue;
		}
		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (http_ieq(tok, len, known[k]))
				break;
		if (k == sizeof(known) / sizeof(known[0]))
			f->te_unknown = 1;
	}
	if (n == 0)
		return HTTP_E_BAD_TE;
	f->te_seen = 1;
	return HTTP_OK;
}

static void
http_field_connection(struct http_fields *f, const struct http_header *h)
{
	const char *s = h->value, *e = h->value + h->value_len, *tok;
	size_t len;

	while (http_list_next(&s, e, &tok, &len)) {
		if (http_ieq(tok, len, "close"))
			f->conn_close = 1;
		else if (http_ieq(tok, len, "keep-alive"))
			f->conn_keep_alive = 1;
	}
}

/* The fields that decide framing; the others pass through untouched. */
static int
http_field(struct http_fields *f, const struct http_header *h)
{
	switch (h->name_len) {
	case 4:
		if (http_ieq(h->name, 4, "host"))
			f->hosts++;
		break;
	case 6:
		if (http_ieq(h->name, 6, "expect") &&
		    http_ieq(h->value, h->value_len, "100-continue"))
			f->expect_continue = 1;
		break;
	case 10:
		if (http_ieq(h->name, 10, "connection"))
			http_field_connection(f, h);
		break;
	case 14:
		if (http_ieq(h->name, 14, "content-length"))
			return http_field_cl(f, h);
		break;
	case 17:
		if (http_ieq(h->name, 17, "transfer-encoding"))
			return http_field_te(f, h);
		break;
	}
	return HTTP_OK;
}

/*
 * NUL, bare CR and bare LF: the first offending byte decides. memchr does
 * the walking (it is vectorised); counts the CRLF lines.
 */
static int
http_check_line_ends(const char *buf, size_t len, size_t *nlines)
{
	const char *e = buf + len, *c;
	size_t first = len, n = 0;
	int rc = HTTP_OK;

	if ((c = memchr(buf, '\0', len)) != NULL) {
		first = (size_t)(c - buf);
		rc = HTTP_E_NUL;
	}
	for (c = buf; (c = memchr(c, '\n', (size_t)(e - c))) != NULL; c++) {
		if (c == buf || c[-1] != '\r') {
			if ((size_t)(c - buf) < first) {
				first = (size_t)(c - buf);
				rc = HTTP_E_BARE_LF;
			}
			break;
		}
		n++;
	}
	for (c = buf; (c = memchr(c, '\r', first - (size_t)(c - buf))) != NULL;
	     c++) {
		if (c + 1 == e || c[1] != '\n') {
			rc = HTTP_E_BARE_CR;
			break;
		}
	}
	*nlines = n;
	return rc;
}

/*
 * "method SP target SP HTTP/1.x": the version is taken from the end of the
 * line, so a space inside the target is reported as a bad target.
 */
static int
http_parse_request_line(struct http_msg *m, char **cp)
{
	char *c = *cp, *s, *e;

	for (s = c; CC(*c, CC_TOKEN); c++)
		;
	if (c == s || *c != ' ')
		return HTTP_E_BAD_METHOD;
	*c++ = '\0';
	m->method = s;
	m->method_len = (size_t)(c - 1 - s);
	e = strchr(c, '\r'); /* there is one: the line ends were checked */
	if (e == NULL || e - c < 9 || memcmp(e - 9, " HTTP/1.", 8) != 0 ||
	    (e[-1] != '0' && e[-1] != '1'))
		return HTTP_E_BAD_VERSION;
	m->minor = e[-1] - '0';
	*e = '\0';
	e -= 9;
	for (s = c; c < e && CC(*c, CC_TARGET); c++)
		;
	if (c == s || c != e)
		return HTTP_E_BAD_TARGET;
	*e = '\0';
	m->target = s;
	m->target_len = (size_t)(e - s);
	*cp = e + 11;
	return HTTP_OK;
}

static int
http_parse_status_line(struct http_msg *m, char **cp)
{
	char *c = *cp, *s;

	if (strncmp(c, "HTTP/1.", 7) != 0 || (c[7] != '0' && c[7] != '1'))
		return HTTP_E_BAD_VERSION;
	if (c[8] != ' ')
		return c[8] == '\r' ? HTTP_E_BAD_STATUS : HTTP_E_BAD_VERSION;
	m->minor = c[7] - '0';
	c += 9;
	if (c[0] < '1' || c[0] > '9' || c[1] < '0' || c[1] > '9' ||
	    c[2] < '0' || c[2] > '9' || (c[3] != ' ' && c[3] != '\r'))
		return HTTP_E_BAD_STATUS;
	m->status = (c[0] - '0') * 100 + (c[1] - '0') * 10 + (c[2] - '0');
	c += 3;
	if (*c == ' ')
		c++;
	for (s = c; CC(*c, CC_VALUE); c++)
		;
	if (*c != '\r')
		return HTTP_E_BAD_STATUS;
	*c = '\0';
	m->reason = s;
	*cp = c + 2;
	return HTTP_OK;
}

/* One header line at *cp into h. */
static int
http_parse_header_line(struct http_header *h, char **cp)
{
	char *c = *cp, *s, *e;

	if (*c == ' ' || *c == '\t')
		return HTTP_E_OBS_FOLD;
	for (s = c; CC(*c, CC_TOKEN); c++)
		;
	if (*c != ':') {
		if (c != s && (*c == ' ' || *c == '\t'))
			return HTTP_E_SPACE_BEFORE_COLON;
		return HTTP_E_BAD_HEADER_NAME;
	}
	if (c == s)
		return HTTP_E_BAD_HEADER_NAME;
	*c++ = '\0';
	h->name = s;
	h->name_len = (size_t)(c - 1 - s);
	while (*c == ' ' || *c == '\t')
		c++;
	for (s = c; CC(*c, CC_VALUE); c++)
		;
	if (*c != '\r')
		return HTTP_E_BAD_HEADER_VALUE;
	for (e = c; e > s && (e[-1] == ' ' || e[-1] == '\t'); e--)
		;
	*e = '\0';
	h->value = s;
	h->value_len = (size_t)(e - s);
	*cp = c + 2;
	return HTTP_OK;
}

/* Decide the body framing and keep-alive from the fields. */
static int
http_framing(struct http_parser *p, const struct http_fields *f)
{
	struct http_msg *m = &p->msg;
	int req = m->kind == HTTP_REQUEST;

	if (req && f->hosts > 1)
		return HTTP_E_DUPLICATE_HOST;
	if (req && m->minor == 1 && f->hosts == 0)
		return HTTP_E_MISSING_HOST;
	if (f->te_seen) {
		if (f->cl_seen)
			return HTTP_E_CL_AND_TE;
		if (m->minor == 0 || f->te_chunked > 1)
			return HTTP_E_BAD_TE;
		if (req && f->te_unknown)
			return HTTP_E_BAD_TE;
		if (f->te_last_chunked)
			m->body = HTTP_BODY_CHUNKED;
		else if (req)
			return HTTP_E_TE_NOT_CHUNKED;
		else
			m->body = HTTP_BODY_EOF;
	} else if (f->cl_seen) {
		m->body = f->cl != 0 ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
		m->content_length = f->cl;
	} else {
		m->body = req ? HTTP_BODY_NONE : HTTP_BODY_EOF;
	}
	if (!req && (p->head_method_is_head || m->status < 200 ||
	                m->status == 204 || m->status == 304)) {
		m->body = HTTP_BODY_NONE;
		m->content_length = 0;
	}
	if (m->body != HTTP_BODY_LENGTH)
		m->content_length = 0;
	if (m->minor == 1)
		m->keep_alive = !f->conn_close;
	else
		m->keep_alive = f->conn_keep_alive && !f->conn_close;
	if (m->body == HTTP_BODY_EOF)
		m->keep_alive = 0;
	m->expect_continue = req && m->minor == 1 && f->expect_continue;
	return HTTP_OK;
}

/* Parse the head now in p->buf (len bytes, NUL-terminated) in place. */
static int
http_parse_buf(struct http_parser *p, size_t len)
{
	struct http_msg *m = &p->msg;
	struct http_fields f;
	size_t nlines, n = 0;
	char *c = p->buf;
	int rc;

	rc = http_check_line_ends(p->buf, len, &nlines);
	if (rc != HTTP_OK)
		return rc;
	rc = m->kind == HTTP_REQUEST ? http_parse_request_line(m, &c)
	                             : http_parse_status_line(m, &c);
	if (rc != HTTP_OK)
		return rc;
	if (nlines > p->hdr_cap) {
		struct http_header *h =
		    realloc(m->headers, nlines * sizeof(*h));

		if (h == NULL)
			return HTTP_E_NOMEM;
		m->headers = h;
		p->hdr_cap = nlines;
	}
	memset(&f, 0, sizeof(f));
	while (*c != '\r') {
		if (n == p->limits.max_headers)
			return HTTP_E_TOO_MANY_HEADERS;
		rc = http_parse_header_line(&m->headers[n], &c);
		if (rc != HTTP_OK)
			return rc;
		rc = http_field(&f, &m->headers[n]);
		if (rc != HTTP_OK)
			return rc;
		n++;
	}
	m->nheaders = n;
	m->head_len = len;
	return http_framing(p, &f);
}

int
http_parse_head(struct http_parser *p, struct evbuffer *in)
{
	size_t end = 0;
	int rc;

	if (p->state == HTTP_ST_ERROR)
		return p->error;
	if (p->state != HTTP_ST_HEAD)
		return HTTP_OK;
	rc = http_scan_head(p, in, &end);
	if (rc != HTTP_OK)
		return rc == HTTP_AGAIN ? rc : http_fail(p, rc);
	if (end + 1 > p->buf_cap) {
		size_t cap = p->buf_cap != 0 ? p->buf_cap : 1024;
		char *b;

		while (cap < end + 1)
			cap *= 2;
		if ((b = realloc(p->buf, cap)) == NULL)
			return http_fail(p, HTTP_E_NOMEM);
		p->buf = b;
		p->buf_cap = cap;
	}
	if (evbuffer_copyout(in, p->buf, end) != (ev_ssize_t)end ||
	    evbuffer_drain(in, end) != 0)
		return http_fail(p, HTTP_E_NOMEM);
	p->buf[end] = '\0';
	rc = http_parse_buf(p, end);
	if (rc != HTTP_OK)
		return http_fail(p, rc);
	p->prev_1xx = p->msg.kind == HTTP_RESPONSE && p->msg.status < 200;
	p->remaining = p->msg.content_length;
	p->chunk_state = CH_SIZE;
	p->state = p->msg.body == HTTP_BODY_NONE ? HTTP_ST_DONE : HTTP_ST_BODY;
	return HTTP_OK;
}

/* Move n bytes from in to out, or drop them when out is NULL. */
static int
http_move(struct evbuffer *in, struct evbuffer *out, size_t n)
{
	if (n == 0)
		return 0;
	if (out == NULL)
		return evbuffer_drain(in, n);
	return evbuffer_remove_buffer(in, out, n) == (int)n ? 0 : -1;
}

/* At most this much is moved per call, so the int of libevent holds it. */
#define HTTP_MOVE_MAX ((size_t)1 << 30)

/* Body bytes of a Content-Length body or a chunk's data. */
static int
http_body_data(struct http_parser *p, struct evbuffer *in, struct evbuffer *out)
{
	size_t avail = evbuffer_get_length(in), n;

	while (p->remaining > 0 && avail > 0) {
		n = avail < p->remaining ? avail : (size_t)p->remaining;
		if (n > HTTP_MOVE_MAX)
			n = HTTP_MOVE_MAX;
		if (http_move(in, out, n) < 0)
			return HTTP_E_NOMEM;
		p->remaining -= n;
		avail -= n;
	}
	return p->remaining > 0 ? HTTP_AGAIN : HTTP_OK;
}

static int
http_hexval(unsigned char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* After a chunk-size line's LF. */
static int
http_chunk_size_done(struct http_parser *p)
{
	p->line_len = 0;
	p->chunk_digits = 0;
	p->remaining = p->chunk_size;
	p->chunk_state = p->chunk_size != 0 ? CH_DATA : CH_TR_START;
	p->chunk_size = 0;
	return HTTP_AGAIN;
}

/* A chunk extension byte, in the states after the size. */
static int
http_chunk_ext_byte(struct http_parser *p, unsigned char c)
{
	int ws = c == ' ' || c == '\t', tok = CC(c, CC_TOKEN) != 0;
	int *st = &p->chunk_state;

	switch (*st) {
	case CH_EXT_BWS:
		if (c == ';')
			*st = CH_EXT_NAME_START;
		else if (!ws)
			return HTTP_E_BAD_CHUNK_EXT;
		return HTTP_AGAIN;
	case CH_EXT_NAME_START:
	case CH_EXT_VAL_START:
		if (tok)
			*st = *st == CH_EXT_NAME_START ? CH_EXT_NAME
			                               : CH_EXT_TOKVAL;
		else if (c == '"' && *st == CH_EXT_VAL_START)
			*st = CH_EXT_QUOTED;
		else if (!ws)
			return HTTP_E_BAD_CHUNK_EXT;
		return HTTP_AGAIN;
	case CH_EXT_NAME_BWS:
		if (c == '=')
			*st = CH_EXT_VAL_START;
		else if (c == ';')
			*st = CH_EXT_NAME_START;
		else if (!ws)
			return HTTP_E_BAD_CHUNK_EXT;
		return HTTP_AGAIN;
	case CH_EXT_QUOTED:
		if (c == '"')
			*st = CH_EXT_AFTER_Q;
		else if (c == '\\')
			*st = CH_EXT_QESC;
		else if (!CC(c, CC_QDTEXT))
			return HTTP_E_BAD_CHUNK_EXT;
		return HTTP_AGAIN;
	case CH_EXT_QESC:
		if (!CC(c, CC_VALUE))
			return HTTP_E_BAD_CHUNK_EXT;
		*st = CH_EXT_QUOTED;
		return HTTP_AGAIN;
	}
	/* CH_EXT_NAME, CH_EXT_TOKVAL, CH_EXT_AFTER_Q: may end the line */
	if (tok && *st != CH_EXT_AFTER_Q)
		return HTTP_AGAIN;
	if (c == '\r')
		*st = CH_SIZE_LF;
	else if (c == '\n')
		return HTTP_E_BARE_LF;
	else if (c == ';')
		*st = CH_EXT_NAME_START;
	else if (c == '=' && *st == CH_EXT_NAME)
		*st = CH_EXT_VAL_START;
	else if (ws)
		*st = *st == CH_EXT_NAME ? CH_EXT_NAME_BWS : CH_EXT_BWS;
	else
		return HTTP_E_BAD_CHUNK_EXT;
	return HTTP_AGAIN;
}

/* A trailer section byte. */
static int
http_chunk_trailer_byte(struct http_parser *p, unsigned char c)
{
	if (++p->trailer_bytes + p->msg.head_len > p->limits.max_head)
		return HTTP_E_HEADERS_TOO_LARGE;
	switch (p->chunk_state) {
	case CH_TR_START:
		if (c == '\r') {
			p->chunk_state = CH_TR_END_LF;
		} else if (c == '\n') {
			return HTTP_E_BARE_LF;
		} else if (CC(c, CC_TOKEN)) {
			if (p->msg.nheaders + ++p->trailers >
			    p->limits.max_headers)
				return HTTP_E_TOO_MANY_HEADERS;
			p->chunk_state = CH_TR_NAME;
		} else {
			return HTTP_E_BAD_TRAILER;
		}
		return HTTP_AGAIN;
	case CH_TR_NAME:
		if (c == ':')
			p->chunk_state = CH_TR_VALUE;
		else if (!CC(c, CC_TOKEN))
			return HTTP_E_BAD_TRAILER;
		return HTTP_AGAIN;
	case CH_TR_VALUE:
		if (c == '\r')
			p->chunk_state = CH_TR_LF;
		else if (c == '\n')
			return HTTP_E_BARE_LF;
		else if (!CC(c, CC_VALUE))
			return HTTP_E_BAD_TRAILER;
		return HTTP_AGAIN;
	case CH_TR_LF:
		if (c != '\n')
			return HTTP_E_BARE_CR;
		p->chunk_state = CH_TR_START;
		return HTTP_AGAIN;
	default: /* CH_TR_END_LF */
		if (c != '\n')
			return HTTP_E_BARE_CR;
		return HTTP_OK;
	}
}

/*
 * One byte of chunked framing (not data). Returns HTTP_AGAIN to go on,
 * HTTP_OK at the end of the message, or an error.
 */
static int
http_chunk_byte(struct http_parser *p, unsigned char c)
{
	switch (p->chunk_state) {
	case CH_DATA_CR:
		if (c != '\r')
			return HTTP_E_BAD_CHUNK;
		p->chunk_state = CH_DATA_LF;
		return HTTP_AGAIN;
	case CH_DATA_LF:
		if (c != '\n')
			return HTTP_E_BAD_CHUNK;
		p->chunk_state = CH_SIZE;
		return HTTP_AGAIN;
	case CH_TR_START:
	case CH_TR_NAME:
	case CH_TR_VALUE:
	case CH_TR_LF:
	case CH_TR_END_LF:
		return http_chunk_trailer_byte(p, c);
	}
	if (++p->line_len > p->limits.max_line + 2) /* CRLF not counted */
		return HTTP_E_BAD_CHUNK_EXT;
	if (p->chunk_state == CH_SIZE_LF) {
		if (c != '\n')
			return HTTP_E_BARE_CR;
		return http_chunk_size_done(p);
	}
	if (p->chunk_state != CH_SIZE)
		return http_chunk_ext_byte(p, c);
	if (CC(c, CC_HEX)) {
		if (++p->chunk_digits > 16)
			return HTTP_E_CHUNK_SIZE_TOO_LONG;
		p->chunk_size = p->chunk_size << 4 | (uint64_t)http_hexval(c);
		return HTTP_AGAIN;
	}
	if (p->chunk_digits == 0)
		return HTTP_E_BAD_CHUNK_SIZE;
	if (c == '\r')
		p->chunk_state = CH_SIZE_LF;
	else if (c == ';')
		p->chunk_state = CH_EXT_NAME_START;
	else if (c == ' ' || c == '\t')
		p->chunk_state = CH_EXT_BWS;
	else if (c == '\n')
		return HTTP_E_BARE_LF;
	else
		return HTTP_E_BAD_CHUNK_SIZE;
	return HTTP_AGAIN;
}

/* The first non-empty extent of in, or NULL when in is empty. */
static const unsigned char *
http_first_extent(struct evbuffer *in, size_t *len)
{
	struct evbuffer_iovec v[4];
	int i, n;

	n = evbuffer_peek(in, -1, NULL, v, 4);
	if (n > 4)
		n = 4;
	for (i = 0; i < n; i++) {
		if (v[i].iov_len > 0) {
			*len = v[i].iov_len;
			return v[i].iov_base;
		}
	}
	if (evbuffer_get_length(in) == 0)
		return NULL;
	*len = 1;
	return evbuffer_pullup(in, 1);
}

static int
http_body_chunked(
    struct http_parser *p, struct evbuffer *in, struct evbuffer *out, int raw)
{
	const unsigned char *b;
	size_t len, i;
	int rc;

	for (;;) {
		if (p->chunk_state == CH_DATA) {
			rc = http_body_data(p, in, out);
			if (rc != HTTP_OK)
				return rc;
			p->chunk_state = CH_DATA_CR;
		}
		if ((b = http_first_extent(in, &len)) == NULL)
			return HTTP_AGAIN;
		rc = HTTP_AGAIN;
		for (i = 0;
		     i < len && rc == HTTP_AGAIN && p->chunk_state != CH_DATA;)
			rc = http_chunk_byte(p, b[i++]);
		if (rc < 0)
			return rc;
		if (http_move(in, raw ? out : NULL, i) < 0)
			return HTTP_E_NOMEM;
		if (rc == HTTP_OK)
			return HTTP_OK;
	}
}

int
http_parse_body(
    struct http_parser *p, struct evbuffer *in, struct evbuffer *out, int raw)
{
	int rc;

	switch (p->state) {
	case HTTP_ST_ERROR:
		return p->error;
	case HTTP_ST_HEAD:
		return HTTP_AGAIN;
	case HTTP_ST_DONE:
		return HTTP_OK;
	}
	switch (p->msg.body) {
	case HTTP_BODY_LENGTH:
		rc = http_body_data(p, in, out);
		break;
	case HTTP_BODY_CHUNKED:
		rc = http_body_chunked(p, in, out, raw);
		break;
	case HTTP_BODY_EOF:
		rc = http_move(in, out, evbuffer_get_length(in)) < 0
		         ? HTTP_E_NOMEM
		         : HTTP_AGAIN;
		break;
	default:
		rc = HTTP_OK;
		break;
	}
	if (rc == HTTP_OK)
		p->state = HTTP_ST_DONE;
	else if (rc < 0)
		http_fail(p, rc);
	return rc;
}

int
http_parse_eof(struct http_parser *p)
{
	switch (p->state) {
	case HTTP_ST_ERROR:
		return p->error;
	case HTTP_ST_HEAD:
		return p->scan == 0 ? HTTP_OK : HTTP_E_TRUNCATED;
	case HTTP_ST_BODY:
		if (p->msg.body != HTTP_BODY_EOF)
			return HTTP_E_TRUNCATED;
		p->state = HTTP_ST_DONE;
		return HTTP_OK;
	default:
		return HTTP_OK;
	}
}

const struct http_header *
http_msg_header(const struct http_msg *m, const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < m->nheaders; i++)
		if (m->headers[i].name_len == len &&
		    http_ieq(m->headers[i].name, len, name))
			return &m->headers[i];
	return NULL;
}

int
http_msg_has_token(
    const struct http_msg *m, const char *name, const char *token)
{
	size_t i, nlen = strlen(name), tlen;
	const char *s, *e, *tok;

	for (i = 0; i < m->nheaders; i++) {
		const struct http_header *h = &m->headers[i];

		if (h->name_len != nlen || !http_ieq(h->name, nlen, name))
			continue;
		s = h->value;
		e = h->value + h->value_len;
		while (http_list_next(&s, e, &tok, &tlen))
			if (http_ieq(tok, tlen, token))
				return 1;
	}
	return 0;
}

int
http_msg_is_hop_by_hop(const struct http_msg *m, const struct http_header *h)
{
	static const char *const hop[] = {"connection", "keep-alive",
	    "proxy-connection", "proxy-authenticate", "proxy-authorization",
	    "te", "trailer", "transfer-encoding", "upgrade"};
	size_t i, tlen;
	const char *s, *e, *tok;

	for (i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (http_ieq(h->name, h->name_len, hop[i]))
			return 1;
	for (i = 0; i < m->nheaders; i++) {
		const struct http_header *c = &m->headers[i];

		if (!http_ieq(c->name, c->name_len, "connection"))
			continue;
		s = c->value;
		e = c->value + c->value_len;
		while (http_list_next(&s, e, &tok, &tlen))
			if (http_ieqn(tok, tlen, h->name, h->name_len))
				return 1;
	}
	return 0;
}

const char *
http_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 203:
		return "Non-Authoritative Information";
	case 204:
		return "No Content";
	case 205:
		return "Reset Content";
	case 206:
		return "Partial Content";
	case 300:
		return "Multiple Choices";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 303:
		return "See Other";
	case 304:
		return "Not Modified";
	case 307:
		return "Temporary Redirect";
	case 308:
		return "Permanent Redirect";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 406:
		return "Not Acceptable";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 410:
		return "Gone";
	case 411:
		return "Length Required";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 416:
		return "Range Not Satisfiable";
	case 417:
		return "Expectation Failed";
	case 421:
		return "Misdirected Request";
	case 422:
		return "Unprocessable Content";
	case 426:
		return "Upgrade Required";
	case 428:
		return "Precondition Required";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "";
	}
}

/* True when s[0..len) is all of class cls (and not empty if nonempty). */
static int
http_all(const char *s, size_t len, int cls, int nonempty)
{
	size_t i;

	if (nonempty && len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!CC(s[i], cls))
			return 0;
	return 1;
}

/*
 * Append n pieces to out with one evbuffer_add when they are small, so a
 * line costs one call.
 */
static int
http_add(
    struct evbuffer *out, const char *const *part, const size_t *len, int n)
{
	char line[512];
	size_t total = 0, off = 0;
	int i;

	for (i = 0; i < n; i++)
		total += len[i];
	if (total <= sizeof(line)) {
		for (i = 0; i < n; i++) {
			memcpy(line + off, part[i], len[i]);
			off += len[i];
		}
		return evbuffer_add(out, line, total);
	}
	if (evbuffer_expand(out, total) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (evbuffer_add(out, part[i], len[i]) != 0)
			return -1;
	return 0;
}

int
http_write_request_line(
    struct evbuffer *out, const char *method, const char *target, int minor)
{
	const char *part[] = {method, " ", target,
	    minor == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n"};
	size_t len[] = {strlen(method), 1, strlen(target), 11};

	if (!http_all(method, len[0], CC_TOKEN, 1) ||
	    !http_all(target, len[2], CC_TARGET, 1) ||
	    (minor != 0 && minor != 1))
		return -1;
	return http_add(out, part, len, 4);
}

int
http_write_status_line(
    struct evbuffer *out, int status, const char *reason, int minor)
{
	char code[8];
	const char *r = reason != NULL ? reason : http_reason(status);
	const char *part[] = {
	    minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ", code, r, "\r\n"};
	size_t len[] = {9, 4, strlen(r), 2};

	if (status < 100 || status > 999 || (minor != 0 && minor != 1) ||
	    !http_all(r, len[2], CC_VALUE, 0))
		return -1;
	snprintf(code, sizeof(code), "%d ", status);
	return http_add(out, part, len, 4);
}

int
http_write_header(struct evbuffer *out, const char *name, const char *value)
{
	return http_write_headern(
	    out, name, strlen(name), value, strlen(value));
}

int
http_write_headern(struct evbuffer *out, const char *name, size_t name_len,
    const char *value, size_t value_len)
{
	const char *part[] = {name, ": ", value, "\r\n"};
	size_t len[] = {name_len, 2, value_len, 2};

	if (!http_all(name, name_len, CC_TOKEN, 1) ||
	    !http_all(value, value_len, CC_VALUE, 0))
		return -1;
	return http_add(out, part, len, 4);
}

int
http_write_end_head(struct evbuffer *out)
{
	return evbuffer_add(out, "\r\n", 2);
}

int
http_write_chunk_size(struct evbuffer *out, size_t len)
{
	char line[24];
	int n = snprintf(line, sizeof(line), "%zx\r\n", len);

	return evbuffer_add(out, line, (size_t)n);
}

int
http_write_chunk(struct evbuffer *out, const void *data, size_t len)
{
	char size[24];
	const char *part[3];
	size_t plen[3];

	if (len == 0)
		return 0;
	plen[0] = (size_t)snprintf(size, sizeof(size), "%zx\r\n", len);
	part[0] = size;
	part[1] = data;
	plen[1] = len;
	part[2] = "\r\n";
	plen[2] = 2;
	return http_add(out, part, plen, 3);
}

int
http_write_chunk_buffer(struct evbuffer *out, struct evbuffer *data)
{
	size_t len = evbuffer_get_length(data);

	if (len == 0)
		return 0;
	if (http_write_chunk_size(out, len) != 0 ||
	    evbuffer_add_buffer(out, data) != 0 ||
	    evbuffer_add(out, "\r\n", 2) != 0)
		return -1;
	return 0;
}

int
http_write_last_chunk(struct evbuffer *out)
{
	return evbuffer_add(out, "0\r\n\r\n", 5);
}
