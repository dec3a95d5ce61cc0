/* Unit tests of sim/farm.c: the farm spec parser and validator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "farm.h"

/* Parse a farm given as JSON text, as if it were /lab/farm.json. */
static struct farm *
parse(const char *text, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loads(text, 0, &je);
	struct farm *f;

	assert_non_null(root);
	err[0] = '\0';
	f = farm_parse(root, "/lab/farm.json", err, errlen);
	json_decref(root);
	return f;
}

/* The parse fails and the error contains every needle. */
static void
expect_error(const char *text, const char *n1, const char *n2)
{
	char err[1024];
	struct farm *f = parse(text, err, sizeof(err));

	if (f != NULL)
		fail_msg("parsed, expected an error with %s", n1);
	if (strstr(err, n1) == NULL || (n2 != NULL && strstr(err, n2) == NULL))
		fail_msg("error \"%s\" lacks \"%s\" / \"%s\"", err, n1,
		    n2 != NULL ? n2 : "");
	if (strstr(err, "/lab/farm.json") == NULL)
		fail_msg("error \"%s\" does not name the file", err);
}

static void
test_farm_minimal_http_backend_gets_defaults(void **state)
{
	char err[512];
	struct farm *f = parse("{\"backends\":[{\"name\":\"b1\","
	                       "\"listen\":\"127.0.1.1:0\"}]}",
	    err, sizeof(err));

	assert_non_null(f);
	assert_int_equal(f->nbackends, 1);
	assert_string_equal(f->backends[0].name, "b1");
	assert_int_equal(f->backends[0].protocol, FARM_HTTP);
	assert_int_equal(f->backends[0].behaviour.status, 200);
	assert_null(f->backends[0].behaviour.body);
	assert_int_equal(f->backends[0].behaviour.body_bytes, -1);
	assert_null(f->manifest);
	farm_free(f);
}

static void
test_farm_https_files_resolve_against_farm_folder(void **state)
{
	char err[512];
	struct farm *f = parse("{\"backends\":[{\"name\":\"b1\","
	                       "\"listen\":\"127.0.1.1:8443\",\"protocol\":"
	                       "\"https\",\"tls\":{\"cert\":\"c.pem\",\"key\":"
	                       "\"/abs/k.pem\",\"chain\":\"x/ch.pem\"},"
	                       "\"min_tls\":\"1.2\",\"max_tls\":\"1.3\"}]}",
	    err, sizeof(err));

	assert_non_null(f);
	assert_int_equal(f->backends[0].protocol, FARM_HTTPS);
	assert_string_equal(f->backends[0].tls.cert, "/lab/c.pem");
	assert_string_equal(f->backends[0].tls.key, "/abs/k.pem");
	assert_string_equal(f->backends[0].tls.chain, "/lab/x/ch.pem");
	assert_int_equal(f->backends[0].min_tls, 0x0303);
	assert_int_equal(f->backends[0].max_tls, 0x0304);
	farm_free(f);
}

static void
test_farm_variant_resolves_through_manifest(void **state)
{
	char dir[] = "/tmp/test_farm.XXXXXX", path[256], err[512];
	struct farm *f;
	json_t *root;
	FILE *fp;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("{\"version\":1,\"items\":{\"ca-signed\":{\"cert\":"
	      "\"ca-signed.pem\",\"key\":\"ca-signed.key\",\"chain\":"
	      "\"ca-signed.chain.pem\",\"issuer_item\":\"farm-int\"},"
	      "\"farm-int\":{\"cert\":\"farm-int.pem\",\"key\":"
	      "\"farm-int.key\",\"chain\":\"farm-int.chain.pem\"}}}",
	    fp);
	fclose(fp);
	root = json_pack("{s:s,s:[{s:s,s:s,s:s,s:{s:s},s:{s:{s:s}}}]}",
	    "manifest", "manifest.json", "backends", "name", "b1", "listen",
	    "127.0.1.1:0", "protocol", "https", "tls", "variant", "ca-signed",
	    "sni", "other.test", "variant", "farm-int");
	snprintf(path, sizeof(path), "%s/farm.json", dir);
	f = farm_parse(root, path, err, sizeof(err));
	json_decref(root);
	assert_non_null(f);
	snprintf(path, sizeof(path), "%s/ca-signed.chain.pem", dir);
	assert_string_equal(f->backends[0].tls.chain, path);
	snprintf(path, sizeof(path), "%s/farm-int.key", dir);
	assert_string_equal(f->backends[0].tls.first_key, path);
	assert_string_equal(f->backends[0].tls.variant, "ca-signed");
	assert_int_equal(f->backends[0].nsni, 1);
	assert_string_equal(f->backends[0].sni[0].name, "other.test");
	snprintf(path, sizeof(path), "%s/farm-int.pem", dir);
	assert_string_equal(f->backends[0].sni[0].tls.cert, path);
	farm_free(f);
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	unlink(path);
	rmdir(dir);
}

static void
test_farm_unknown_variant_names_backend_and_path(void **state)
{
	expect_error("{\"backends\":[{\"name\":\"b1\",\"listen\":"
	             "\"127.0.1.1:0\",\"protocol\":\"https\",\"tls\":"
	             "{\"variant\":\"ca-signed\"}}]}",
	    "backend \"b1\"", "backends[0].tls.variant");
}

static void
test_farm_behaviour_parses_every_key(void **state)
{
	char err[512];
	struct farm_behaviour b;
	json_t *v = json_loads(
	    "{\"status\":503,\"headers\":{\"X-A\":\"1\"},\"body\":\"hi\","
	    "\"chunked\":true,\"delay_ms\":20,\"slow_body\":{\"bytes\":2,"
	    "\"interval_ms\":5},\"reset\":true,\"close_after_headers\":true,"
	    "\"stall_handshake\":true,\"never_read\":true,\"echo\":true,"
	    "\"down\":true,\"health\":{\"path\":\"/hc\",\"status\":500,"
	    "\"body\":\"bad\"}}",
	    0, NULL);

	assert_non_null(v);
	assert_int_equal(
	    farm_behaviour_parse(v, &b, "behaviour", err, sizeof(err)), 0);
	assert_int_equal(b.status, 503);
	assert_int_equal(b.nheaders, 1);
	assert_string_equal(b.headers[0].name, "X-A");
	assert_string_equal(b.body, "hi");
	assert_true(b.chunked && b.reset && b.close_after_headers &&
	            b.stall_handshake && b.never_read && b.echo && b.down);
	assert_int_equal(b.delay_ms, 20);
	assert_int_equal(b.slow_bytes, 2);
	assert_int_equal(b.slow_interval_ms, 5);
	assert_string_equal(b.health_path, "/hc");
	assert_int_equal(b.health_status, 500);
	assert_string_equal(b.health_body, "bad");
	farm_behaviour_clear(&b);
	json_decref(v);
}

static void
test_farm_behaviour_json_round_trips(void **state)
{
	char err[512];
	struct farm_behaviour a, b;
	json_t *v = json_loads("{\"status\":201,\"body_bytes\":100,"
	                       "\"truncate_body\":true,\"health\":{}}",
	           0, NULL),
	       *w;

	assert_int_equal(farm_behaviour_parse(v, &a, "b", err, sizeof(err)), 0);
	w = farm_behaviour_json(&a);
	assert_int_equal(farm_behaviour_parse(w, &b, "b", err, sizeof(err)), 0);
	assert_int_equal(b.status, 201);
	assert_int_equal(b.body_bytes, 100);
	assert_true(b.truncate_body);
	assert_string_equal(b.health_path, "/health");
	farm_behaviour_clear(&a);
	farm_behaviour_clear(&b);
	json_decref(v);
	json_decref(w);
}

static void
test_farm_bad_status_names_backend_and_path(void **state)
{
	expect_error("{\"backends\":[{\"name\":\"a\",\"listen\":"
	             "\"127.0.1.1:0\"},{\"name\":\"b2\",\"listen\":"
	             "\"127.0.1.2:0\",\"behaviour\":{\"status\":42}}]}",
	    "backend \"b2\"", "backends[1].behaviour.status");
}

static void
test_farm_unknown_behaviour_key_is_an_error(void **state)
{
	expect_error("{\"backends\":[{\"name\":\"b1\",\"listen\":"
	             "\"127.0.1.1:0\",\"behaviour\":{\"stauts\":200}}]}",
	    "backends[0].behaviour.stauts", "unknown key");
}

static void
test_farm_missing_listen_is_an_error(void **state)
{
	expect_error("{\"backends\":[{\"name\":\"b1\"}]}", "backend \"b1\"",
	    "backends[0].listen");
}

static void
test_farm_non_loopback_listen_is_refused(void **state)
{
	expect_error("{\"backends\":[{\"name\":\"b1\",\"listen\":"
	             "\"10.0.0.1:80\"}]}",
	    "backends[0].listen", "loopback");
}

static void
test_farm_duplicate_name_is_an_error(void **state)
{
	expect_error("{\"backends\":[{\"name\":\"b1\",\"listen\":"
	             "\"127.0.1.1:0\"},{\"name\":\"b1\",\"listen\":"
	             "\"127.0.1.2:0\"}]}",
	    "backends[1].name", "duplicate");
}

static void
test_farm_https_without_tls_is_an_error(void **state)
{
	expect_error("{\"backends\":[{\"name\":\"b1\",\"listen\":"
	             "\"127.0.1.1:0\",\"protocol\":\"https\"}]}",
	    "backend \"b1\"", "backends[0].tls");
}

static void
test_farm_tls_key_missing_is_an_error(void **state)
{
	expect_error("{\"backends\":[{\"name\":\"b1\",\"listen\":"
	             "\"127.0.1.1:0\",\"protocol\":\"https\",\"tls\":"
	             "{\"cert\":\"c.pem\"}}]}",
	    "backend \"b1\"", "backends[0].tls.key");
}

static void
test_farm_bad_tls_version_is_an_error(void **state)
{
	expect_error("{\"backends\":[{\"name\":\"b1\",\"listen\":"
	             "\"127.0.1.1:0\",\"min_tls\":\"1.9\"}]}",
	    "backend \"b1\"", "backends[0].min_tls");
}

static void
test_farm_body_and_body_bytes_are_exclusive(void **state)
{
	expect_error("{\"backends\":[{\"name\":\"b1\",\"listen\":"
	             "\"127.0.1.1:0\",\"behaviour\":{\"body\":\"x\","
	             "\"body_bytes\":3}}]}",
	    "backends[0].behaviour", "exclusive");
}

static void
test_farm_header_with_line_break_is_refused(void **state)
{
	expect_error("{\"backends\":[{\"name\":\"b1\",\"listen\":"
	             "\"127.0.1.1:0\",\"behaviour\":{\"headers\":{\"X\":"
	             "\"a\\r\\nY: b\"}}}]}",
	    "backends[0].behaviour.headers.X", "line breaks");
}

static void
test_farm_backends_not_a_list_is_an_error(void **state)
{
	expect_error("{\"backends\":{}}", "backends", NULL);
}

static void
test_farm_load_reports_json_syntax_with_file(void **state)
{
	char path[] = "/tmp/test_farm_bad.XXXXXX", err[512];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"backends\": [", 14), 14);
	close(fd);
	assert_null(farm_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, path));
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_farm_minimal_http_backend_gets_defaults),
	    cmocka_unit_test(test_farm_https_files_resolve_against_farm_folder),
	    cmocka_unit_test(test_farm_variant_resolves_through_manifest),
	    cmocka_unit_test(test_farm_unknown_variant_names_backend_and_path),
	    cmocka_unit_test(test_farm_behaviour_parses_every_key),
	    cmocka_unit_test(test_farm_behaviour_json_round_trips),
	    cmocka_unit_test(test_farm_bad_status_names_backend_and_path),
	    cmocka_unit_test(test_farm_unknown_behaviour_key_is_an_error),
	    cmocka_unit_test(test_farm_missing_listen_is_an_error),
	    cmocka_unit_test(test_farm_non_loopback_listen_is_refused),
	    cmocka_unit_test(test_farm_duplicate_name_is_an_error),
	    cmocka_unit_test(test_farm_https_without_tls_is_an_error),
	    cmocka_unit_test(test_farm_tls_key_missing_is_an_error),
	    cmocka_unit_test(test_farm_bad_tls_version_is_an_error),
	    cmocka_unit_test(test_farm_body_and_body_bytes_are_exclusive),
	    cmocka_unit_test(test_farm_header_with_line_break_is_refused),
	    cmocka_unit_test(test_farm_backends_not_a_list_is_an_error),
	    cmocka_unit_test(test_farm_load_reports_json_syntax_with_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
