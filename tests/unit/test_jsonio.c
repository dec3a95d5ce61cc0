#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonio.h"

static char dir[] = "/tmp/agw-test-jsonio-XXXXXX";

static int
setup(void **state)
{
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_jsonio_load_names_file_line_and_column(void **state)
{
	char path[256], err[512];

	snprintf(path, sizeof(path), "%s/bad.json", dir);
	write_file(path, "{\n  \"a\": 1,\n  \"b\": }\n");
	assert_null(jsonio_load_file(path, err, sizeof(err)));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, ":3:"));
}

static void
test_jsonio_load_rejects_duplicate_keys(void **state)
{
	char path[256], err[512];

	snprintf(path, sizeof(path), "%s/dup.json", dir);
	write_file(path, "{\"a\": 1, \"a\": 2}");
	assert_null(jsonio_load_file(path, err, sizeof(err)));
	assert_non_null(strstr(err, "duplicate"));
}

static void
test_jsonio_load_missing_file_names_it(void **state)
{
	char err[512];

	assert_null(jsonio_load_file("/nonexistent/x.json", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/x.json"));
}

static void
test_jsonio_write_atomic_keeps_backup(void **state)
{
	char path[256], bak[300], err[512];
	json_t *v, *back;

	snprintf(path, sizeof(path), "%s/state.json", dir);
	snprintf(bak, sizeof(bak), "%s.bak", path);
	v = json_pack("{s:i}", "gen", 1);
	assert_int_equal(jsonio_write_atomic(path, v, 0, 1, err, sizeof(err)),
	    0);
	json_object_set_new(v, "gen", json_integer(2));
	assert_int_equal(jsonio_write_atomic(path, v, 0, 1, err, sizeof(err)),
	    0);
	back = jsonio_load_file(bak, err, sizeof(err));
	assert_non_null(back);
	assert_int_equal(json_integer_value(json_object_get(back, "gen")), 1);
	json_decref(back);
	back = jsonio_load_file(path, err, sizeof(err));
	assert_int_equal(json_integer_value(json_object_get(back, "gen")), 2);
	json_decref(back);
	json_decref(v);
}

static void
test_jsonio_write_atomic_failure_leaves_file(void **state)
{
	char err[512];
	json_t *v = json_pack("{s:i}", "a", 1);

	assert_int_equal(jsonio_write_atomic("/nonexistent/dir/x.json", v, 0,
			     0, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "/nonexistent/dir/x.json"));
	json_decref(v);
}

static void
test_jsonio_string_or_null(void **state)
{
	json_t *a = jsonio_string_or_null("x"), *b = jsonio_string_or_null(NULL);

	(void)state;
	assert_string_equal(json_string_value(a), "x");
	assert_true(json_is_null(b));
	json_decref(a);
	json_decref(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jsonio_load_names_file_line_and_column),
		cmocka_unit_test(test_jsonio_load_rejects_duplicate_keys),
		cmocka_unit_test(test_jsonio_load_missing_file_names_it),
		cmocka_unit_test(test_jsonio_write_atomic_keeps_backup),
		cmocka_unit_test(test_jsonio_write_atomic_failure_leaves_file),
		cmocka_unit_test(test_jsonio_string_or_null),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
