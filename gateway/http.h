/*
 * http: the strict, incremental HTTP/1.1 framing shared by agw-gateway and
 * agw-sim. It parses request and response heads from an evbuffer, frames
 * bodies (Content-Length, chunked with trailers, read-until-close), and
 * serializes heads and chunks. Every rejection has its own error code so the
 * caller can answer 400/431 and log why.
 *
 * Use:
 *   struct http_parser p;
 *   http_parser_init(&p, HTTP_REQUEST, NULL);
 *   rc = http_parse_head(&p, in);          // HTTP_AGAIN until the head is in
 *   ... p.msg holds method, target, headers, framing ...
 *   rc = http_parse_body(&p, in, out, 1);  // HTTP_AGAIN until the body ends
 *   http_parser_reset(&p);                 // next message on the connection
 *   http_parser_clear(&p);
 */
#ifndef AGW_HTTP_H
#define AGW_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

enum http_kind { HTTP_REQUEST, HTTP_RESPONSE };

/* Results. HTTP_OK and HTTP_AGAIN are not errors; every HTTP_E_* is. */
enum http_status {
	HTTP_OK = 0,
	HTTP_AGAIN = 1,
	HTTP_E_LINE_TOO_LONG = -1,     /* request/status line over the limit */
	HTTP_E_HEADERS_TOO_LARGE = -2, /* head over max_head bytes (431) */
	HTTP_E_TOO_MANY_HEADERS = -3,  /* over max_headers (431) */
	HTTP_E_BAD_METHOD = -4,	       /* empty or non-token method */
	HTTP_E_BAD_TARGET = -5,	       /* empty target, CTL or space in it */
	HTTP_E_BAD_VERSION = -6,       /* not HTTP/1.0 or HTTP/1.1 */
	HTTP_E_BAD_STATUS = -7,	       /* status code not 3 digits 100..999 */
	HTTP_E_BAD_HEADER_NAME = -8,   /* empty or non-token header name */
	HTTP_E_BAD_HEADER_VALUE = -9,  /* CTL in a header value */
	HTTP_E_OBS_FOLD = -10,	       /* line folding (obs-fold) */
	HTTP_E_BARE_CR = -11,	       /* CR not followed by LF */
	HTTP_E_BARE_LF = -12,	       /* LF not preceded by CR */
	HTTP_E_NUL = -13,	       /* NUL byte anywhere in the head */
	HTTP_E_CL_AND_TE = -14,	       /* Content-Length with Transfer-Encoding */
	HTTP_E_CL_MISMATCH = -15,      /* differing duplicate Content-Length */
	HTTP_E_BAD_CL = -16,	       /* Content-Length not 1*DIGIT or too big */
	HTTP_E_TE_NOT_CHUNKED = -17,   /* last transfer coding is not chunked */
	HTTP_E_BAD_TE = -18,	       /* chunked twice, or unknown on a request */
	HTTP_E_CHUNK_SIZE_TOO_LONG = -19, /* chunk size over 16 hex digits */
	HTTP_E_BAD_CHUNK_SIZE = -20,   /* chunk size not hex */
	HTTP_E_BAD_CHUNK = -21,	       /* missing CRLF after chunk data */
	HTTP_E_BAD_CHUNK_EXT = -22,    /* malformed chunk extension */
	HTTP_E_BAD_TRAILER = -23,      /* malformed trailer field */
	HTTP_E_SPACE_BEFORE_COLON = -24, /* "Name : value" */
	HTTP_E_MISSING_HOST = -25,     /* HTTP/1.1 request without Host */
	HTTP_E_DUPLICATE_HOST = -26,   /* more than one Host */
	HTTP_E_TRUNCATED = -27,	       /* connection closed mid-message */
	HTTP_E_NOMEM = -28,
	HTTP_E__MIN = -28
};

/* A short stable name for a result, e.g. "cl_and_te"; used in logs. */
const char *http_status_name(int rc);
/* The status code a server answers a request error with: 431 for
 * HEADERS_TOO_LARGE and TOO_MANY_HEADERS, 414 for LINE_TOO_LONG, 500 for
 * NOMEM, 400 for the others. */
int http_status_code(int rc);

struct http_limits {
	size_t max_line;    /* request or status line, default 8192 */
	size_t max_head;    /* whole head incl. headers, default 32768 */
	size_t max_headers; /* number of header fields, default 100 */
};

/* The defaults above. */
extern const struct http_limits http_default_limits;

struct http_header {
	const char *name; /* as received; compare case-insensitively */
	size_t name_len;
	const char *value; /* OWS trimmed */
	size_t value_len;
};

enum http_body {
	HTTP_BODY_NONE,	   /* no body: Content-Length 0, HEAD, 1xx/204/304 */
	HTTP_BODY_LENGTH,  /* content_length bytes */
	HTTP_BODY_CHUNKED, /* chunked transfer coding */
	HTTP_BODY_EOF	   /* response read until the connection closes */
};

/*
 * One parsed message head. Strings point into storage owned by the parser
 * (valid until http_parser_reset/clear) and are NUL-terminated.
 */
struct http_msg {
	enum http_kind kind;
	const char *method; /* requests */
	size_t method_len;
	const char *target;
	size_t target_len;
	int status; /* responses */
	const char *reason;
	int minor; /* HTTP/1.<minor> */
	struct http_header *headers;
	size_t nheaders;
	enum http_body body;
	uint64_t content_length; /* HTTP_BODY_LENGTH */
	int keep_alive;		 /* per version and Connection header */
	int expect_continue;	 /* request has Expect: 100-continue */
	size_t head_len;	 /* bytes of the head as received */
};

struct http_parser {
	struct http_msg msg;
	struct http_limits limits;
	/* private below */
	int state;
	int head_method_is_head; /* response to a HEAD request: no body */
	char *buf;		 /* copy of the head, the strings point here */
	size_t buf_cap;
	size_t scan;	      /* bytes of the input already scanned */
	size_t hdr_cap;
	uint64_t remaining;   /* bytes left in a chunk or in the body */
	size_t line_len;      /* current chunk-size/trailer line length */
	int chunk_state;
	size_t trailer_bytes;
	size_t trailers;
	int scan_state;	      /* head scan: 0 in a line, 1 after LF, 2 LF CR */
	size_t first_lf;      /* 1 + offset of the first LF, 0 before */
	int error;	      /* the HTTP_E_* that stopped the parser, or 0 */
	int chunk_digits;     /* hex digits of the current chunk size */
	uint64_t chunk_size;  /* the chunk size being read */
	int prev_1xx;	      /* the last head was an interim 1xx response */
};

/* Prepare a parser for requests or responses; limits NULL for defaults. */
void http_parser_init(struct http_parser *p, enum http_kind kind,
    const struct http_limits *limits);
/* Make ready for the next message on the same connection. */
void http_parser_reset(struct http_parser *p);
/* Free what the parser holds. */
void http_parser_clear(struct http_parser *p);
/* For a response parser: the request was HEAD, so the response has no body.
 * Call before http_parse_head of that response. http_parser_reset clears it,
 * except after an interim 1xx response (the final response follows). */
void http_parser_set_head_request(struct http_parser *p, int is_head);

/*
 * Parse a message head from in. Returns HTTP_AGAIN when more bytes are
 * needed (in is left untouched), HTTP_OK when the head is complete (it is
 * drained from in and p->msg is filled), or an HTTP_E_* code. Interim 1xx
 * responses are returned as complete heads with body NONE; the caller
 * resets and parses again.
 */
int http_parse_head(struct http_parser *p, struct evbuffer *in);

/*
 * Move body bytes from in to out (out may be NULL to discard). With raw the
 * bytes are copied as framed (chunk sizes, extensions, trailers: verbatim,
 * for a proxy passing chunked through); without raw only the payload is.
 * Returns HTTP_AGAIN when the body continues, HTTP_OK when it has ended
 * (bytes after it stay in in), or an HTTP_E_* code.
 */
int http_parse_body(struct http_parser *p, struct evbuffer *in,
    struct evbuffer *out, int raw);

/*
 * The connection closed: HTTP_OK when that ends the current message (a body
 * read until close, or nothing started), HTTP_E_TRUNCATED otherwise.
 */
int http_parse_eof(struct http_parser *p);

/* The first header with that name (case-insensitive), or NULL. */
const struct http_header *http_msg_header(const struct http_msg *m,
    const char *name);
/* True when a comma-separated header (e.g. Connection) has that token. */
int http_msg_has_token(const struct http_msg *m, const char *name,
    const char *token);
/* True for hop-by-hop headers (RFC 9110 7.6.1, plus those named in the
 * message's Connection header). */
int http_msg_is_hop_by_hop(const struct http_msg *m,
    const struct http_header *h);

/* The standard reason phrase of a status code ("Bad Gateway"), or "". */
const char *http_reason(int status);

/* Serializers: append to out; return 0, or -1 when out of memory or when
 * an argument would break the framing (a method or header name that is not
 * a token, a target with CTL or space, a CTL other than HTAB in a value or
 * reason, a minor version other than 0 or 1, a status outside 100..999).
 * A NULL reason is http_reason(status). */
int http_write_request_line(struct evbuffer *out, const char *method,
    const char *target, int minor);
int http_write_status_line(struct evbuffer *out, int status,
    const char *reason, int minor);
int http_write_header(struct evbuffer *out, const char *name,
    const char *value);
int http_write_headern(struct evbuffer *out, const char *name,
    size_t name_len, const char *value, size_t value_len);
int http_write_end_head(struct evbuffer *out);
/* One chunk of a chunked body; len 0 writes nothing. */
int http_write_chunk(struct evbuffer *out, const void *data, size_t len);
/* The size line of a chunk of len bytes ("1a\r\n"); the caller adds the
 * data and its CRLF. */
int http_write_chunk_size(struct evbuffer *out, size_t len);
/* All of data as one chunk, moved without copying (data is left empty);
 * an empty data writes nothing. */
int http_write_chunk_buffer(struct evbuffer *out, struct evbuffer *data);
/* The last chunk with no trailers. */
int http_write_last_chunk(struct evbuffer *out);

#endif
