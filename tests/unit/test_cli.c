/* Unit tests of agw's modules: arguments, --query, output, ids, etags. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli.h"

static json_t *
doc(void)
{
	json_t *d = json_loads("{\"items\": ["
	    "{\"name\": \"a\", \"port\": 80, \"tags\": [\"x\", \"y\"],"
	    " \"sub\": {\"v\": 1}},"
	    "{\"name\": \"b\", \"port\": 443, \"tags\": [\"z\"],"
	    " \"sub\": {\"v\": 2}}]}", 0, NULL);

	assert_non_null(d);
	return d;
}

/* Query d and compare with the JSON text want. */
static void
check_query(const char *expr, const char *want)
{
	json_t *d = doc(), *r, *w;
	char err[256];

	r = cli_out_query(d, expr, err, sizeof(err));
	assert_non_null(r);
	w = json_loads(want, JSON_DECODE_ANY, NULL);
	assert_non_null(w);
	if (!json_equal(r, w)) {
		char *s = json_dumps(r, JSON_ENCODE_ANY);

		fail_msg("%s gave %s, want %s", expr, s, want);
	}
	json_decref(w);
	json_decref(r);
	json_decref(d);
}

static void
test_cli_args_multi_values(void **state)
{
	static const char *const words[] = { "auth-cert", "create", "-g", "rg",
		"--servers", "a", "b", "--name=n1", "-h" };
	char *argv[9];
	struct cli_args a;
	const struct cli_opt *o;
	char err[128];
	int bad = 0;
	size_t i;

	(void)state;
	for (i = 0; i < 9; i++)
		assert_non_null(argv[i] = strdup(words[i]));
	assert_int_equal(cli_args_parse(&a, 9, argv, err, sizeof(err)), 0);
	assert_int_equal(a.nwords, 2);
	assert_string_equal(cli_args_value(&a, "--resource-group", &bad),
	    "rg");
	o = cli_args_get(&a, "--servers");
	assert_non_null(o);
	assert_int_equal(o->nvals, 2);
	assert_string_equal(cli_args_value(&a, "--name", &bad), "n1");
	assert_int_equal(bad, 0);
	assert_true(a.help);
	assert_null(cli_args_value(&a, "--servers", &bad));
	assert_int_equal(bad, 1);
	cli_args_clear(&a);
	for (i = 0; i < 9; i++)
		free(argv[i]);
}

static void
test_cli_query_field_path(void **state)
{
	(void)state;
	check_query("items[0].sub.v", "1");
	check_query("items[-1].name", "\"b\"");
	check_query("nothing.here", "null");
}

static void
test_cli_query_projection(void **state)
{
	(void)state;
	check_query("items[].name", "[\"a\", \"b\"]");
	check_query("items[*].port", "[80, 443]");
	check_query("items[].tags[]", "[\"x\", \"y\", \"z\"]");
}

static void
test_cli_query_filter(void **state)
{
	(void)state;
	check_query("items[?name=='b'].port", "[443]");
	check_query("items[?port==`80`].name", "[\"a\"]");
	check_query("items[?name!='b'].name", "[\"a\"]");
}

static void
test_cli_query_multiselect(void **state)
{
	(void)state;
	check_query("items[].{n: name, p: port}",
	    "[{\"n\": \"a\", \"p\": 80}, {\"n\": \"b\", \"p\": 443}]");
	check_query("items[0].[name, port]", "[\"a\", 80]");
}

static void
test_cli_query_syntax_error(void **state)
{
	json_t *d = doc();
	char err[256];

	(void)state;
	assert_null(cli_out_query(d, "items[0", err, sizeof(err)));
	assert_non_null(strstr(err, "unbalanced"));
	json_decref(d);
}

static void
test_cli_out_tsv_sorted_values(void **state)
{
	json_t *v = json_loads("[{\"b\": 2, \"a\": \"x\", \"c\": true},"
	    "{\"a\": \"y\", \"b\": 3, \"c\": false}]", 0, NULL);
	char *s = cli_out_render(v, CLI_OUT_TSV);

	(void)state;
	assert_string_equal(s, "x\t2\tTrue\ny\t3\tFalse\n");
	free(s);
	json_decref(v);
}

static void
test_cli_out_table_headers(void **state)
{
	json_t *v = json_loads("[{\"name\": \"a\", \"port\": 80, "
	    "\"sub\": {}}]", 0, NULL);
	char *s = cli_out_render(v, CLI_OUT_TABLE);

	(void)state;
	assert_string_equal(s, "Name  Port\n----  ----\na     80\n");
	free(s);
	json_decref(v);
}

static void
test_cli_out_format_parse(void **state)
{
	(void)state;
	assert_int_equal(cli_out_format_parse("table"), CLI_OUT_TABLE);
	assert_int_equal(cli_out_format_parse(NULL), CLI_OUT_JSON);
	assert_int_equal(cli_out_format_parse("yaml"), -1);
}

static void
test_cli_state_id_shape(void **state)
{
	char id[512];

	(void)state;
	cli_state_id(id, sizeof(id), "rg", "gw", "probes", "p1");
	assert_string_equal(id, "/subscriptions/00000000-0000-0000-0000-"
	    "000000000000/resourceGroups/rg/providers/Microsoft.Network/"
	    "applicationGateways/gw/probes/p1");
}

static void
test_cli_state_etag_changes(void **state)
{
	char a[64], b[64];

	(void)state;
	cli_state_etag(a, sizeof(a));
	cli_state_etag(b, sizeof(b));
	assert_int_equal(strlen(a), 40);
	assert_memory_equal(a, "W/\"", 3);
	assert_int_equal(a[11], '-');
	assert_string_not_equal(a, b);
}

static void
test_cli_state_ipv4_or_fqdn(void **state)
{
	(void)state;
	assert_true(cli_state_is_ipv4("127.0.1.1"));
	assert_false(cli_state_is_ipv4("b1.backend.test"));
	assert_false(cli_state_is_ipv4("::1"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_args_multi_values),
		cmocka_unit_test(test_cli_query_field_path),
		cmocka_unit_test(test_cli_query_projection),
		cmocka_unit_test(test_cli_query_filter),
		cmocka_unit_test(test_cli_query_multiselect),
		cmocka_unit_test(test_cli_query_syntax_error),
		cmocka_unit_test(test_cli_out_tsv_sorted_values),
		cmocka_unit_test(test_cli_out_table_headers),
		cmocka_unit_test(test_cli_out_format_parse),
		cmocka_unit_test(test_cli_state_id_shape),
		cmocka_unit_test(test_cli_state_etag_changes),
		cmocka_unit_test(test_cli_state_ipv4_or_fqdn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
