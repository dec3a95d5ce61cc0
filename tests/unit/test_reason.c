#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reason.h"

/* The service's texts, copied from spec section 4 (byte for byte). */
static const struct {
	enum reason_code code;
	const char *text;
} spec_texts[] = {
    {REASON_V1_NOT_WHITELISTED, "Backend server certificate is not whitelisted "
                                "with Application Gateway."},
    {REASON_V1_CN_MISMATCH,
        "The Common Name (CN) of the backend certificate doesn't match."},
    {REASON_V2_CN_MISMATCH,
        "The Common Name of the leaf certificate presented by the backend "
        "server does not match the Probe or Backend Setting hostname of the "
        "application gateway."},
    {REASON_EXPIRED,
        "Backend certificate is invalid. Current date isn't within the \"Valid "
        "from\" and \"Valid to\" date range on the certificate."},
    {REASON_V2_INTERMEDIATE_MISSING,
        "The Intermediate certificate is missing from the certificate chain "
        "presented by the backend server. Ensure the certificate chain is "
        "complete and correctly ordered on the backend server."},
    {REASON_V2_LEAF_MISSING,
        "The Leaf certificate is missing from the certificate chain presented "
        "by the backend server. Ensure the chain is complete and correctly "
        "ordered on the backend server."},
    {REASON_V2_LEAF_NOT_FIRST,
        "The Leaf certificate isn't the topmost certificate in the chain "
        "presented by the backend server. Ensure the certificate chain is "
        "correctly ordered on the backend server."},
    {REASON_V2_LEAF_NOT_WELL_KNOWN,
        "The backend Server certificate isn't signed by a well-known "
        "Certificate Authority (CA). To use unknown CA certificates, its Root "
        "certificate must be uploaded to the Backend Setting of the "
        "application gateway."},
    {REASON_V2_INTERMEDIATE_NOT_WELL_KNOWN,
        "The Intermediate certificate isn't signed by a well-known Certificate "
        "Authority (CA). Ensure the certificate chain is complete and "
        "correctly ordered on the backend server."},
    {REASON_V2_ROOT_MISMATCH_NO_ROOT,
        "The Intermediate certificate not signed by any Root certificates "
        "uploaded to the application gateway. Ensure the certificate chain is "
        "complete and correctly ordered on the backend server."},
    {REASON_V2_ROOT_MISMATCH,
        "The root certificate of the server certificate used by the backend "
        "doesn't match the trusted root certificate added to the application "
        "gateway. Ensure that you add the correct root certificate to "
        "allowlist the backend."},
    {REASON_V2_OTHER,
        "The validity of the backend certificate could not be verified. To "
        "find out the reason, check OpenSSL diagnostics for the message "
        "associated with error code {errorCode}"},
    {REASON_PROBE_TIMEOUT,
        "Time taken by the backend to respond to application gateway's health "
        "probe is more than the timeout threshold in the probe setting."},
    {REASON_DNS, "Application Gateway could not create a probe for this "
                 "backend. This usually happens when the FQDN of the backend "
                 "is not entered correctly."},
    {REASON_CONNECT, "Application Gateway could not connect to the backend. "
                     "Check that the backend responds on the port used for the "
                     "probe. Also check whether any NSG/UDR/Firewall is "
                     "blocking access to the Ip and port of this backend."},
    {REASON_STATUS_MISMATCH,
        "Status code of the backend's HTTP response did not match the probe "
        "setting. Expected:{expected} Received:{received}."},
    {REASON_BODY_MISMATCH,
        "Body of the backend's HTTP response did not match the probe setting. "
        "Received response body doesn't contain {string}."},
};

#define NSPEC (sizeof(spec_texts) / sizeof(spec_texts[0]))

static void
test_reason_every_code_has_unique_name_and_text(void **state)
{
	int i, j;

	for (i = 0; i < REASON__COUNT; i++) {
		assert_non_null(reason_name((enum reason_code)i));
		assert_true(strlen(reason_name((enum reason_code)i)) > 0);
		assert_non_null(reason_template((enum reason_code)i));
		assert_true(strlen(reason_template((enum reason_code)i)) > 0);
		for (j = 0; j < i; j++)
			assert_string_not_equal(
			    reason_name((enum reason_code)i),
			    reason_name((enum reason_code)j));
	}
}

static void
test_reason_service_texts_are_byte_exact(void **state)
{
	size_t i;
	int n = 0, c;

	for (i = 0; i < NSPEC; i++) {
		assert_string_equal(
		    reason_template(spec_texts[i].code), spec_texts[i].text);
		assert_true(reason_is_service_text(spec_texts[i].code));
	}
	/* Every other code is marked as an emulator text. */
	for (c = 0; c < REASON__COUNT; c++)
		n += reason_is_service_text((enum reason_code)c);
	assert_int_equal(n, (int)NSPEC);
}

static void
test_reason_texts_match_spec_file(void **state)
{
	const char *src = getenv("AGW_SRC");
	char path[4096], *text;
	size_t i, len;
	FILE *f;
	long size;

	if (src == NULL)
		src = ".";
	snprintf(path, sizeof(path), "%s/../shared/spec/backend-tls.md", src);
	if ((f = fopen(path, "rb")) == NULL)
		skip();
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	rewind(f);
	assert_true(size > 0);
	text = malloc((size_t)size + 1);
	assert_non_null(text);
	len = fread(text, 1, (size_t)size, f);
	text[len] = '\0';
	fclose(f);
	for (i = 0; i < NSPEC; i++) {
		char quoted[1024];

		snprintf(quoted, sizeof(quoted), "| \"%s\" |",
		    reason_template(spec_texts[i].code));
		if (strstr(text, quoted) == NULL)
			fail_msg("not in %s: %s", path, quoted);
	}
	free(text);
}

static void
test_reason_name_round_trip(void **state)
{
	int i;

	for (i = 0; i < REASON__COUNT; i++)
		assert_int_equal(
		    reason_from_name(reason_name((enum reason_code)i)), i);
	assert_string_equal(reason_name(REASON_V2_INTERMEDIATE_MISSING),
	    "v2.intermediate_missing");
	assert_int_equal(reason_from_name("cert.expired"), REASON_EXPIRED);
	assert_int_equal(reason_from_name("no.such"), -1);
	assert_int_equal(reason_from_name(NULL), -1);
	assert_string_equal(reason_name(REASON__COUNT), "invalid");
}

static void
test_reason_text_substitutes_arguments(void **state)
{
	struct reason_args a = {.error_code = 20,
	    .expected = "200-399",
	    .received = 404,
	    .body = "healthy"};
	char buf[512];

	reason_text(REASON_V2_OTHER, &a, buf, sizeof(buf));
	assert_non_null(strstr(buf, "associated with error code 20"));
	assert_null(strchr(buf, '{'));
	reason_text(REASON_STATUS_MISMATCH, &a, buf, sizeof(buf));
	assert_non_null(
	    strstr(buf, "probe setting. Expected:200-399 Received:404."));
	reason_text(REASON_BODY_MISMATCH, &a, buf, sizeof(buf));
	assert_non_null(strstr(buf, "doesn't contain healthy."));
	reason_text(REASON_OK, &a, buf, sizeof(buf));
	assert_string_equal(buf, "Success. Received 404 status code");
}

static void
test_reason_text_without_args_keeps_placeholders(void **state)
{
	char buf[512];

	reason_text(REASON_V2_OTHER, NULL, buf, sizeof(buf));
	assert_string_equal(buf, reason_template(REASON_V2_OTHER));
	reason_text(REASON_OK, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "Success.");
}

static void
test_reason_text_truncates_safely(void **state)
{
	struct reason_args a = {.expected = "200-399", .received = 500};
	char buf[16];

	memset(buf, 'x', sizeof(buf));
	reason_text(REASON_STATUS_MISMATCH, &a, buf, sizeof(buf));
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_memory_equal(buf, "Status code of ", 15);
	reason_text(REASON__COUNT, &a, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reason_every_code_has_unique_name_and_text),
	    cmocka_unit_test(test_reason_service_texts_are_byte_exact),
	    cmocka_unit_test(test_reason_texts_match_spec_file),
	    cmocka_unit_test(test_reason_name_round_trip),
	    cmocka_unit_test(test_reason_text_substitutes_arguments),
	    cmocka_unit_test(test_reason_text_without_args_keeps_placeholders),
	    cmocka_unit_test(test_reason_text_truncates_safely),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
