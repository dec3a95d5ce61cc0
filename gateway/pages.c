#include "pages.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "http.h"

/* v2: nginx's templates with the service's signature line, byte for byte as
 * the spec writes the 502 page (LF line ends; real nginx writes CRLF, the
 * spec is the contract). */
#define V2_TAIL                                                              \
	"<hr><center>Microsoft-Azure-Application-Gateway/v2</center>\n"    \
	"</body>\n"                                                        \
	"</html>\n"
#define V2_PAGE(title)                                                       \
	"<html>\n"                                                         \
	"<head><title>" title "</title></head>\n"                          \
	"<body>\n"                                                         \
	"<center><h1>" title "</h1></center>\n" V2_TAIL

static const char v2_400[] = V2_PAGE("400 Bad Request");
static const char v2_400_large[] =
    "<html>\n"
    "<head><title>400 Request Header Or Cookie Too Large</title></head>\n"
    "<body>\n"
    "<center><h1>400 Bad Request</h1></center>\n"
    "<center>Request Header Or Cookie Too Large</center>\n" V2_TAIL;
static const char v2_404[] = V2_PAGE("404 Not Found");
static const char v2_408[] = V2_PAGE("408 Request Time-out");
static const char v2_414[] = V2_PAGE("414 Request-URI Too Large");
static const char v2_500[] = V2_PAGE("500 Internal Server Error");
static const char v2_502[] = V2_PAGE("502 Bad Gateway");
static const char v2_503[] = V2_PAGE("503 Service Temporarily Unavailable");
static const char v2_504[] = V2_PAGE("504 Gateway Time-out");

/* v1: HTTP.sys pages for framing errors, IIS/ARR pages for upstream
 * failures (emulator choice for everything but the 502 texts). */
#define V1_SYS_PAGE(title, text)                                             \
	"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\""                \
	"\"http://www.w3.org/TR/html4/strict.dtd\">\r\n"                     \
	"<HTML><HEAD><TITLE>" title "</TITLE>\r\n"                           \
	"<META HTTP-EQUIV=\"Content-Type\" Content=\"text/html; "           \
	"charset=us-ascii\"></HEAD>\r\n"                                     \
	"<BODY><h2>" title "</h2>\r\n"                                       \
	"<hr><p>" text "</p>\r\n"                                            \
	"</BODY></HTML>\r\n"
#define V1_ARR_PAGE(heading, text)                                           \
	"<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" "        \
	"\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\r\n"         \
	"<html xmlns=\"http://www.w3.org/1999/xhtml\">\r\n"                  \
	"<head>\r\n"                                                         \
	"<meta http-equiv=\"Content-Type\" content=\"text/html; "           \
	"charset=iso-8859-1\"/>\r\n"                                         \
	"<title>" heading "</title>\r\n"                                     \
	"</head>\r\n"                                                        \
	"<body>\r\n"                                                         \
	"<div id=\"header\"><h1>Server Error</h1></div>\r\n"                 \
	"<div id=\"content\">\r\n"                                           \
	" <div class=\"content-container\"><fieldset>\r\n"                   \
	"  <h2>" heading "</h2>\r\n"                                         \
	"  <h3>" text "</h3>\r\n"                                            \
	" </fieldset></div>\r\n"                                             \
	"</div>\r\n"                                                         \
	"</body>\r\n"                                                        \
	"</html>\r\n"

static const char v1_400[] = V1_SYS_PAGE("Bad Request",
    "HTTP Error 400. The request is badly formed.");
static const char v1_400_large[] = V1_SYS_PAGE("Bad Request",
    "HTTP Error 400. The size of the request headers is too long.");
static const char v1_404[] = V1_SYS_PAGE("Not Found",
    "HTTP Error 404. The requested resource is not found.");
static const char v1_408[] = V1_SYS_PAGE("Request Timeout",
    "HTTP Error 408. The request timed out.");
static const char v1_414[] = V1_SYS_PAGE("Request URL Too Long",
    "HTTP Error 414. The request URL is too long.");
static const char v1_500[] = V1_ARR_PAGE(
    "500 - Internal server error.",
    "There is a problem with the resource you are looking for, and it "
    "cannot be displayed.");
static const char v1_502[] = V1_ARR_PAGE(
    "502 - Web server received an invalid response while acting as a "
    "gateway or proxy server.",
    "There is a problem with the page you are looking for, and it cannot "
    "be displayed. When the Web server (while acting as a gateway or proxy) "
    "contacted the upstream content server, it received an invalid "
    "response from the content server.");
static const char v1_503[] = V1_SYS_PAGE("Service Unavailable",
    "HTTP Error 503. The service is unavailable.");
static const char v1_504[] = V1_ARR_PAGE(
    "504 - Gateway timeout.",
    "The Web server, while acting as a gateway or proxy, did not receive a "
    "timely response from the upstream content server.");

const char *
pages_server(enum config_sku sku)
{
	return sku == CONFIG_SKU_V1 ? "Microsoft-Azure-Application-Gateway/v1"
				    : "Microsoft-Azure-Application-Gateway/v2";
}

static int
pages_is_large(int http_rc)
{
	return http_rc == HTTP_E_HEADERS_TOO_LARGE ||
	    http_rc == HTTP_E_TOO_MANY_HEADERS;
}

static const char *
pages_pick(enum config_sku sku, int status, int http_rc)
{
	int v1 = sku == CONFIG_SKU_V1;

	switch (status) {
	case 400:
		if (pages_is_large(http_rc))
			return v1 ? v1_400_large : v2_400_large;
		return v1 ? v1_400 : v2_400;
	case 404:
		return v1 ? v1_404 : v2_404;
	case 408:
		return v1 ? v1_408 : v2_408;
	case 414:
		return v1 ? v1_414 : v2_414;
	case 502:
		return v1 ? v1_502 : v2_502;
	case 503:
		return v1 ? v1_503 : v2_503;
	case 504:
		return v1 ? v1_504 : v2_504;
	case 431:
		return v1 ? v1_400_large : v2_400_large;
	default:
		return v1 ? v1_500 : v2_500;
	}
}

const char *
pages_body(enum config_sku sku, int status, size_t *len)
{
	const char *b = pages_pick(sku, status, 0);

	*len = strlen(b);
	return b;
}

int
pages_status_for_error(enum config_sku sku, int http_rc)
{
	int code = http_status_code(http_rc);

	/* nginx answers an oversized head with 400 "Request Header Or Cookie
	 * Too Large"; HTTP.sys with 400 too. Neither sends 431. */
	if (code == 431)
		return 400;
	if (code == 414 || code == 400)
		return code;
	(void)sku;
	return 400;
}

int
pages_write(struct evbuffer *out, enum config_sku sku, int status,
    int http_rc, const struct pages_opts *o)
{
	const char *body = pages_pick(sku, status, http_rc);
	size_t blen = strlen(body);
	char date[64], num[32];
	struct tm tm;
	time_t now = time(NULL);

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(num, sizeof(num), "%zu", blen);
	/* Always HTTP/1.1 on the status line, as nginx and IIS answer. */
	if (http_write_status_line(out, status, http_reason(status), 1) !=
		0 ||
	    http_write_header(out, "Server", pages_server(sku)) != 0 ||
	    http_write_header(out, "Date", date) != 0 ||
	    http_write_header(out, "Content-Type", "text/html") != 0 ||
	    http_write_header(out, "Content-Length", num) != 0)
		return -1;
	if (!o->keep_alive &&
	    http_write_header(out, "Connection", "close") != 0)
		return -1;
	if (o->keep_alive && o->minor == 0 &&
	    http_write_header(out, "Connection", "keep-alive") != 0)
		return -1;
	if (o->reason != NULL &&
	    http_write_header(out, "X-AGW-Reason", o->reason) != 0)
		return -1;
	if (o->member != NULL &&
	    http_write_header(out, "X-AGW-Member", o->member) != 0)
		return -1;
	if (http_write_end_head(out) != 0)
		return -1;
	if (!o->head && evbuffer_add(out, body, blen) != 0)
		return -1;
	return 0;
}
