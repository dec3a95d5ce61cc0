/*
 * pages: the responses the gateway makes itself (400, 414, 431, 502, 504,
 * ...), byte for byte as each SKU writes them: v2 nginx style, v1 IIS/ARR
 * style (texts documented in gateway/README.md), with the SKU's Server
 * header.
 */
#ifndef AGW_PAGES_H
#define AGW_PAGES_H

#include <stddef.h>

#include "config.h"

struct evbuffer;

/* Options of one gateway-made response. */
struct pages_opts {
	int minor;		/* client's HTTP/1.<minor> */
	int keep_alive;		/* 0 adds Connection: close */
	int head;		/* HEAD request: headers only */
	const char *reason;	/* X-AGW-Reason value, or NULL */
	const char *member;	/* X-AGW-Member value, or NULL */
};

/* The Server header value of a SKU's own pages. */
const char *pages_server(enum config_sku sku);

/* The HTML body of a SKU's page for status (static storage); *len gets its
 * length. Statuses without a page of their own get a generic one. */
const char *pages_body(enum config_sku sku, int status, size_t *len);

/* The status a SKU answers a request framing error (http.h HTTP_E_*) with:
 * v1 400/414 as HTTP.sys does, v2 400 for oversized heads as nginx does. */
int pages_status_for_error(enum config_sku sku, int http_rc);

/* Append a complete response (status line, headers, body) to out.
 * Returns 0, or -1 when out of memory. */
int pages_write(struct evbuffer *out, enum config_sku sku, int status,
    int http_rc, const struct pages_opts *o);

#endif
