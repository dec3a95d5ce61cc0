/*
 * reason: the one table of outcomes. Texts of the service's own (spec
 * section 4) are copied byte for byte; the gateway-side codes have texts of
 * agw-lab's own, marked as such below.
 */
#include "reason.h"

#include <stdio.h>
#include <string.h>

struct reason_entry {
	const char *name;
	const char *text;
	int service; /* 1: the service's own text; 0: an emulator text */
};

static const struct reason_entry reason_table[REASON__COUNT] = {
    [REASON_OK] = {"ok", "Success. Received {received} status code", 0},
    [REASON_V1_NOT_WHITELISTED] = {"v1.not_whitelisted",
        "Backend server certificate is not whitelisted with Application "
        "Gateway.",
        1},
    [REASON_V1_CN_MISMATCH] = {"v1.cn_mismatch",
        "The Common Name (CN) of the backend certificate doesn't match.", 1},
    [REASON_V2_CN_MISMATCH] = {"v2.cn_mismatch",
        "The Common Name of the leaf certificate presented by the backend "
        "server does not match the Probe or Backend Setting hostname of "
        "the application gateway.",
        1},
    [REASON_V2_INTERMEDIATE_MISSING] = {"v2.intermediate_missing",
        "The Intermediate certificate is missing from the certificate "
        "chain presented by the backend server. Ensure the certificate "
        "chain is complete and correctly ordered on the backend server.",
        1},
    [REASON_V2_LEAF_MISSING] = {"v2.leaf_missing",
        "The Leaf certificate is missing from the certificate chain "
        "presented by the backend server. Ensure the chain is complete "
        "and correctly ordered on the backend server.",
        1},
    [REASON_V2_LEAF_NOT_FIRST] = {"v2.leaf_not_first",
        "The Leaf certificate isn't the topmost certificate in the chain "
        "presented by the backend server. Ensure the certificate chain "
        "is correctly ordered on the backend server.",
        1},
    [REASON_V2_LEAF_NOT_WELL_KNOWN] = {"v2.leaf_not_well_known",
        "The backend Server certificate isn't signed by a well-known "
        "Certificate Authority (CA). To use unknown CA certificates, its "
        "Root certificate must be uploaded to the Backend Setting of the "
        "application gateway.",
        1},
    [REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN] = {"v2.intermediate_not_well_known",
        "The Intermediate certificate isn't signed by a well-known "
        "Certificate Authority (CA). Ensure the certificate chain is "
        "complete and correctly ordered on the backend server.",
        1},
    [REASON_V2_ROOT_MISMATCH_NO_ROOT] = {"v2.root_mismatch_no_root",
        "The Intermediate certificate not signed by any Root "
        "certificates uploaded to the application gateway. Ensure the "
        "certificate chain is complete and correctly ordered on the "
        "backend server.",
        1},
    [REASON_V2_ROOT_MISMATCH] = {"v2.root_mismatch",
        "The root certificate of the server certificate used by the "
        "backend doesn't match the trusted root certificate added to the "
        "application gateway. Ensure that you add the correct root "
        "certificate to allowlist the backend.",
        1},
    [REASON_V2_OTHER] = {"v2.verify_failed",
        "The validity of the backend certificate could not be verified. "
        "To find out the reason, check OpenSSL diagnostics for the "
        "message associated with error code {errorCode}",
        1},
    [REASON_EXPIRED] = {"cert.expired",
        "Backend certificate is invalid. Current date isn't within the "
        "\"Valid from\" and \"Valid to\" date range on the certificate.",
        1},
    [REASON_PROBE_TIMEOUT] = {"probe.timeout",
        "Time taken by the backend to respond to application gateway's "
        "health probe is more than the timeout threshold in the probe "
        "setting.",
        1},
    [REASON_DNS] = {"probe.dns",
        "Application Gateway could not create a probe for this backend. "
        "This usually happens when the FQDN of the backend is not "
        "entered correctly.",
        1},
    [REASON_CONNECT] = {"connect.failed",
        "Application Gateway could not connect to the backend. Check "
        "that the backend responds on the port used for the probe. Also "
        "check whether any NSG/UDR/Firewall is blocking access to the Ip "
        "and port of this backend.",
        1},
    [REASON_STATUS_MISMATCH] = {"probe.status_mismatch",
        "Status code of the backend's HTTP response did not match the "
        "probe setting. Expected:{expected} Received:{received}.",
        1},
    [REASON_BODY_MISMATCH] = {"probe.body_mismatch",
        "Body of the backend's HTTP response did not match the probe "
        "setting. Received response body doesn't contain {string}.",
        1},
    /* Gateway-side outcomes: the service documents no text for these;
     * the texts are agw-lab's own (emulator texts). */
    [REASON_TLS_HANDSHAKE] = {"tls.handshake_failed",
        "The TLS handshake with the backend failed before its "
        "certificate could be checked (protocol version, cipher or "
        "alert).",
        0},
    [REASON_UPSTREAM_RESET] = {"upstream.reset",
        "The backend closed or reset the connection before sending a "
        "complete response.",
        0},
    [REASON_UPSTREAM_INVALID] = {"upstream.invalid_response",
        "The backend sent an invalid HTTP response.", 0},
    [REASON_UPSTREAM_TIMEOUT] = {"upstream.timeout",
        "The backend did not respond within the request timeout of the "
        "Backend Setting.",
        0},
    [REASON_NO_HEALTHY_MEMBER] = {"pool.no_healthy_member",
        "No healthy backend server in the backend pool.", 0},
    [REASON_UNKNOWN] = {"unknown",
        "The health of this backend is not known yet: no probe has "
        "completed.",
        0},
};

const char *
reason_name(enum reason_code code)
{
	if ((int)code < 0 || code >= REASON__COUNT)
		return "invalid";
	return reason_table[code].name;
}

int
reason_from_name(const char *name)
{
	int i;

	if (name == NULL)
		return -1;
	for (i = 0; i < REASON__COUNT; i++)
		if (strcmp(reason_table[i].name, name) == 0)
			return i;
	return -1;
}

const char *
reason_template(enum reason_code code)
{
	if ((int)code < 0 || code >= REASON__COUNT)
		return NULL;
	return reason_table[code].text;
}

int
reason_is_service_text(enum reason_code code)
{
	if ((int)code < 0 || code >= REASON__COUNT)
		return 0;
	return reason_table[code].service;
}

/* Append s to buf (of len, used so far *used), truncating; always
 * NUL-terminated. */
static void
reason_append(char *buf, size_t len, size_t *used, const char *s, size_t n)
{
	if (*used + 1 >= len)
		return;
	if (n > len - 1 - *used)
		n = len - 1 - *used;
	memcpy(buf + *used, s, n);
	*used += n;
	buf[*used] = '\0';
}

const char *
reason_text(enum reason_code code, const struct reason_args *args, char *buf,
    size_t len)
{
	const char *t, *p, *close;
	char num[24];
	size_t used = 0;

	if (buf == NULL || len == 0)
		return buf;
	buf[0] = '\0';
	if ((t = reason_template(code)) == NULL)
		return buf;
	/* Without a status the OK text has nothing to say but success. */
	if (code == REASON_OK && (args == NULL || args->received <= 0))
		t = "Success.";
	for (p = t; *p != '\0';) {
		const char *val = NULL;

		if (*p != '{' || args == NULL ||
		    (close = strchr(p, '}')) == NULL) {
			reason_append(buf, len, &used, p, 1);
			p++;
			continue;
		}
		if (strncmp(p, "{errorCode}", 11) == 0) {
			snprintf(num, sizeof(num), "%d", args->error_code);
			val = num;
		} else if (strncmp(p, "{received}", 10) == 0) {
			snprintf(num, sizeof(num), "%d", args->received);
			val = num;
		} else if (strncmp(p, "{expected}", 10) == 0) {
			val = args->expected ? args->expected : "";
		} else if (strncmp(p, "{string}", 8) == 0) {
			val = args->body ? args->body : "";
		}
		if (val == NULL) {
			reason_append(buf, len, &used, p, 1);
			p++;
			continue;
		}
		reason_append(buf, len, &used, val, strlen(val));
		p = close + 1;
	}
	return buf;
}
