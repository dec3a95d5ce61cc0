/*
 * cli_out: az's output formats (json, table, tsv) and the JMESPath subset
 * of --query. The evaluator walks the expression text directly: each step
 * consumes a field, an index, a projection or a filter and applies the rest
 * of the expression to what it selected.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int
cli_out_format_parse(const char *s)
{
	if (s == NULL || strcmp(s, "json") == 0 || strcmp(s, "jsonc") == 0)
		return CLI_OUT_JSON;
	if (strcmp(s, "table") == 0)
		return CLI_OUT_TABLE;
	if (strcmp(s, "tsv") == 0)
		return CLI_OUT_TSV;
	if (strcmp(s, "none") == 0)
		return CLI_OUT_NONE;
	return -1;
}

/* ------------------------------------------------------------- the query */

struct cli_q {
	char *err;
	size_t errlen;
	int failed;
};

static json_t *cli_out_eval(struct cli_q *q, const json_t *v, const char *p,
    const char *end);

static void
cli_out_qerr(struct cli_q *q, const char *p, const char *what)
{
	if (!q->failed)
		snprintf(q->err, q->errlen, "invalid jmespath_type value: %s "
		    "near \"%.20s\"", what, p);
	q->failed = 1;
}

static const char *
cli_out_skip_ws(const char *p, const char *end)
{
	while (p < end && isspace((unsigned char)*p))
		p++;
	return p;
}

/* The next top-level occurrence of ch in [p, end) (quotes and nested
 * brackets skipped), or end. */
static const char *
cli_out_find(const char *p, const char *end, char ch)
{
	char quote = 0;
	int depth = 0;

	for (; p < end; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (depth == 0 && *p == ch)
			return p;
		else if (*p == '\'' || *p == '`' || *p == '"')
			quote = *p;
		else if (*p == '[' || *p == '{' || *p == '(')
			depth++;
		else if (*p == ']' || *p == '}' || *p == ')')
			depth--;
	}
	return end;
}

/* The matching close of the bracket at p, or NULL. */
static const char *
cli_out_close(const char *p, const char *end)
{
	const char *c = cli_out_find(p + 1, end, *p == '[' ? ']' : '}');

	return c < end ? c : NULL;
}

/* Does [p, end) hold a projection at its top level (then a projection
 * over it flattens one level, as JMESPath's [] does)? */
static int
cli_out_has_projection(const char *p, const char *end)
{
	for (; p < end; p++) {
		if (*p == '[' && p + 1 < end &&
		    (p[1] == ']' || p[1] == '*' || p[1] == '?'))
			return 1;
		if (*p == '[' || *p == '{') {
			const char *c = cli_out_close(p, end);

			if (c == NULL)
				return 0;
			p = c;
		}
	}
	return 0;
}

/* A literal: 'raw string', `json`, "quoted field" is not a literal. */
static json_t *
cli_out_literal(struct cli_q *q, const json_t *cur, const char *p,
    const char *end)
{
	char buf[512];
	json_t *v;
	size_t n;

	p = cli_out_skip_ws(p, end);
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	n = (size_t)(end - p);
	if (n >= 2 && (*p == '\'' || *p == '`') && end[-1] == *p) {
		if (n - 2 >= sizeof(buf)) {
			cli_out_qerr(q, p, "literal too long");
			return NULL;
		}
		memcpy(buf, p + 1, n - 2);
		buf[n - 2] = '\0';
		if (*p == '\'')
			return json_string(buf);
		if ((v = json_loads(buf, JSON_DECODE_ANY, NULL)) == NULL)
			v = json_string(buf); /* `word` is a string to az */
		return v;
	}
	return cli_out_eval(q, cur, p, end);
}

static int
cli_out_truthy(const json_t *v)
{
	if (v == NULL || json_is_null(v) || json_is_false(v))
		return 0;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	if (json_is_object(v))
		return json_object_size(v) > 0;
	return 1;
}

/* One filter condition "a == 'b'", "a != `1`", "a" on element e. */
static int
cli_out_cond(struct cli_q *q, const json_t *e, const char *p,
    const char *end)
{
	const char *op = NULL, *s;
	json_t *l, *r;
	int eq, res;

	for (s = p; s + 1 < end; s++) {
		if (*s == '\'' || *s == '`') {
			const char *c = memchr(s + 1, *s, (size_t)(end - s - 1));

			if (c == NULL)
				break;
			s = c;
			continue;
		}
		if ((s[0] == '=' || s[0] == '!') && s[1] == '=') {
			op = s;
			break;
		}
	}
	if (op == NULL) {
		l = cli_out_eval(q, e, p, end);
		res = cli_out_truthy(l);
		json_decref(l);
		return res;
	}
	eq = op[0] == '=';
	l = cli_out_literal(q, e, p, op);
	r = cli_out_literal(q, e, op + 2, end);
	res = (l != NULL && r != NULL && json_equal(l, r)) ||
	    ((l == NULL || json_is_null(l)) && (r == NULL || json_is_null(r)));
	json_decref(l);
	json_decref(r);
	return eq ? res : !res;
}

/* Project rest over the elements of arr (filtered by [cond_p, cond_end)
 * when cond_p is set). */
static json_t *
cli_out_project(struct cli_q *q, const json_t *arr, const char *cond_p,
    const char *cond_end, const char *rest, const char *end)
{
	int flatten = cli_out_has_projection(rest, end);
	json_t *out, *r;
	const json_t *e;
	size_t i;

	if (!json_is_array(arr))
		return json_null();
	if ((out = json_array()) == NULL)
		return NULL;
	json_array_foreach(arr, i, e) {
		if (cond_p != NULL && !cli_out_cond(q, e, cond_p, cond_end))
			continue;
		if ((r = cli_out_eval(q, e, rest, end)) == NULL)
			continue;
		if (json_is_null(r))
			json_decref(r);
		else if (flatten && json_is_array(r)) {
			json_array_extend(out, r);
			json_decref(r);
		} else
			json_array_append_new(out, r);
	}
	return out;
}

/* {k: expr, ...} or [expr, ...] on v; the rest applies to the result. */
static json_t *
cli_out_multi(struct cli_q *q, const json_t *v, const char *p,
    const char *close)
{
	int hash = *p == '{';
	const char *s = p + 1, *comma, *colon;
	char key[128];
	json_t *out, *r;
	size_t n;

	if (v == NULL || json_is_null(v))
		return json_null();
	out = hash ? json_object() : json_array();
	while (out != NULL && s < close) {
		comma = cli_out_find(s, close, ',');
		if (hash) {
			colon = cli_out_find(s, comma, ':');
			if (colon == comma) {
				cli_out_qerr(q, s, "expected key: expression");
				break;
			}
			s = cli_out_skip_ws(s, colon);
			n = (size_t)(colon - s);
			while (n > 0 && isspace((unsigned char)s[n - 1]))
				n--;
			snprintf(key, sizeof(key), "%.*s", (int)n, s);
			r = cli_out_eval(q, v, colon + 1, comma);
			json_object_set_new(out, key, r != NULL ? r : json_null());
		} else {
			r = cli_out_eval(q, v, s, comma);
			json_array_append_new(out, r != NULL ? r : json_null());
		}
		s = comma + 1;
	}
	return out;
}

static json_t *
cli_out_eval(struct cli_q *q, const json_t *v, const char *p,
    const char *end)
{
	const char *s, *close;
	json_t *sub, *r;
	char name[128];
	long idx;
	size_t n;

	p = cli_out_skip_ws(p, end);
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (q->failed)
		return NULL;
	if (p >= end)
		return v != NULL ? json_incref((json_t *)(uintptr_t)v)
				 : json_null();
	if (*p == '.')
		return cli_out_eval(q, v, p + 1, end);
	if (v == NULL || json_is_null(v))
		return json_null();
	if (*p == '{' || (*p == '[' && p + 1 < end &&
	    (isalpha((unsigned char)p[1]) || p[1] == '_'))) {
		if ((close = cli_out_close(p, end)) == NULL) {
			cli_out_qerr(q, p, "unbalanced bracket");
			return NULL;
		}
		sub = cli_out_multi(q, v, p, close);
		r = cli_out_eval(q, sub, close + 1, end);
		json_decref(sub);
		return r;
	}
	if (*p == '[') {
		if ((close = cli_out_close(p, end)) == NULL) {
			cli_out_qerr(q, p, "unbalanced bracket");
			return NULL;
		}
		s = cli_out_skip_ws(p + 1, close);
		if (s == close || (*s == '*' && s + 1 == close)) {
			json_t *flat = NULL;
			const json_t *src = v;
			const json_t *e;
			size_t i;

			if (s == close && json_is_array(v)) {
				/* [] flattens one level first */
				if ((flat = json_array()) == NULL)
					return NULL;
				json_array_foreach(v, i, e) {
					if (json_is_array(e))
						json_array_extend(flat,
						    (json_t *)(uintptr_t)e);
					else
						json_array_append(flat,
						    (json_t *)(uintptr_t)e);
				}
				src = flat;
			}
			if (*s == '*' && json_is_object(v)) {
				const char *k;
				json_t *vals = json_array(), *ov;

				json_object_foreach((json_t *)(uintptr_t)v, k,
				    ov)
					json_array_append(vals, ov);
				r = cli_out_project(q, vals, NULL, NULL,
				    close + 1, end);
				json_decref(vals);
				return r;
			}
			r = cli_out_project(q, src, NULL, NULL, close + 1, end);
			json_decref(flat);
			return r;
		}
		if (*s == '?')
			return cli_out_project(q, v, s + 1, close, close + 1,
			    end);
		idx = strtol(s, (char **)(uintptr_t)&s, 10);
		s = cli_out_skip_ws(s, close);
		if (s != close) {
			cli_out_qerr(q, p, "bad index");
			return NULL;
		}
		if (!json_is_array(v))
			return json_null();
		if (idx < 0)
			idx += (long)json_array_size(v);
		if (idx < 0 || (size_t)idx >= json_array_size(v))
			return json_null();
		return cli_out_eval(q, json_array_get(v, (size_t)idx), close + 1,
		    end);
	}
	/* a field name, bare or "quoted" */
	if (*p == '"') {
		s = memchr(p + 1, '"', (size_t)(end - p - 1));
		if (s == NULL) {
			cli_out_qerr(q, p, "unterminated quote");
			return NULL;
		}
		n = (size_t)(s - p - 1);
		snprintf(name, sizeof(name), "%.*s", (int)n, p + 1);
		s++;
	} else {
		for (s = p; s < end && (isalnum((unsigned char)*s) ||
		    *s == '_' || *s == '-' || *s == '@'); s++)
			;
		if (s == p) {
			cli_out_qerr(q, p, "unexpected character");
			return NULL;
		}
		n = (size_t)(s - p);
		snprintf(name, sizeof(name), "%.*s", (int)n, p);
	}
	if (strcmp(name, "@") == 0)
		return cli_out_eval(q, v, s, end);
	if (!json_is_object(v))
		return json_null();
	return cli_out_eval(q, json_object_get(v, name), s, end);
}

json_t *
cli_out_query(const json_t *v, const char *expr, char *err, size_t errlen)
{
	struct cli_q q = { err, errlen, 0 };
	json_t *r;

	r = cli_out_eval(&q, v, expr, expr + strlen(expr));
	if (q.failed) {
		json_decref(r);
		return NULL;
	}
	return r != NULL ? r : json_null();
}

/* ---------------------------------------------------------- the formats */

/* A scalar as az's Python prints it: True/False, numbers, strings. */
static char *
cli_out_scalar(const json_t *v)
{
	char *s = NULL;

	if (json_is_string(v))
		s = strdup(json_string_value(v));
	else if (json_is_true(v))
		s = strdup("True");
	else if (json_is_false(v))
		s = strdup("False");
	else if (json_is_null(v) || v == NULL)
		s = strdup("");
	else if (json_is_integer(v)) {
		if (asprintf(&s, "%lld", (long long)json_integer_value(v)) < 0)
			s = NULL;
	} else if (json_is_real(v)) {
		if (asprintf(&s, "%g", json_real_value(v)) < 0)
			s = NULL;
	} else if (json_is_array(v)) {
		if (asprintf(&s, "%zu", json_array_size(v)) < 0)
			s = NULL;
	} else
		s = strdup("");
	return s;
}

static int
cli_out_keycmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One tsv row: an object's values by sorted key, a list's in order. */
static void
cli_out_tsv_row(FILE *f, const json_t *v)
{
	const char **keys = NULL, *k;
	const json_t *e;
	size_t i, n = 0;
	char *s;

	if (json_is_object(v)) {
		keys = calloc(json_object_size(v) + 1, sizeof(*keys));
		json_object_foreach((json_t *)(uintptr_t)v, k, e)
			if (keys != NULL)
				keys[n++] = k;
		if (keys != NULL)
			qsort(keys, n, sizeof(*keys), cli_out_keycmp);
		for (i = 0; i < n; i++) {
			s = cli_out_scalar(json_object_get(v, keys[i]));
			fprintf(f, "%s%s", i > 0 ? "\t" : "", s != NULL ? s : "");
			free(s);
		}
		free(keys);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			s = cli_out_scalar(e);
			fprintf(f, "%s%s", i > 0 ? "\t" : "", s != NULL ? s : "");
			free(s);
		}
	} else {
		s = cli_out_scalar(v);
		fputs(s != NULL ? s : "", f);
		free(s);
	}
	fputc('\n', f);
}

#define MAXCOLS 64

/* az's table: one row per object, columns its scalar fields (first-seen
 * order), headers capitalized, dashes under them, two spaces between. */
static void
cli_out_table(FILE *f, const json_t *v)
{
	const char *cols[MAXCOLS], *k;
	size_t w[MAXCOLS], ncols = 0, i, j, nrows;
	const json_t *row, *e;
	json_t *rows;
	char *s;

	if (json_is_array(v))
		rows = json_incref((json_t *)(uintptr_t)v);
	else if ((rows = json_array()) != NULL)
		json_array_append(rows, (json_t *)(uintptr_t)v);
	if (rows == NULL)
		return;
	nrows = json_array_size(rows);
	json_array_foreach(rows, i, row) {
		if (!json_is_object(row)) {
			if (ncols == 0) {
				cols[ncols] = "Result";
				w[ncols++] = 6;
			}
			continue;
		}
		json_object_foreach((json_t *)(uintptr_t)row, k, e) {
			/* as az's tables, leave out what fills a screen */
			if (json_is_object(e) || json_is_array(e) ||
			    strcmp(k, "id") == 0 || strcmp(k, "etag") == 0 ||
			    strcmp(k, "type") == 0)
				continue;
			for (j = 0; j < ncols && strcmp(cols[j], k) != 0; j++)
				;
			if (j == ncols && ncols < MAXCOLS) {
				cols[ncols] = k;
				w[ncols++] = strlen(k);
			}
		}
	}
	for (i = 0; i < nrows; i++)
		for (j = 0; j < ncols; j++) {
			row = json_array_get(rows, i);
			e = json_is_object(row) ? json_object_get(row, cols[j])
						: row;
			s = cli_out_scalar(e);
			if (s != NULL && strlen(s) > w[j])
				w[j] = strlen(s);
			free(s);
		}
	for (j = 0; j < ncols; j++)
		fprintf(f, "%s%c%-*s", j > 0 ? "  " : "",
		    toupper((unsigned char)cols[j][0]),
		    j + 1 < ncols ? (int)w[j] - 1 : 0, cols[j] + 1);
	if (ncols > 0)
		fputc('\n', f);
	for (j = 0; j < ncols; j++) {
		fputs(j > 0 ? "  " : "", f);
		for (i = 0; i < w[j]; i++)
			fputc('-', f);
	}
	if (ncols > 0)
		fputc('\n', f);
	for (i = 0; i < nrows; i++) {
		row = json_array_get(rows, i);
		for (j = 0; j < ncols; j++) {
			e = json_is_object(row) ? json_object_get(row, cols[j])
						: row;
			s = cli_out_scalar(e);
			fprintf(f, "%s%-*s", j > 0 ? "  " : "",
			    j + 1 < ncols ? (int)w[j] : 0, s != NULL ? s : "");
			free(s);
		}
		fputc('\n', f);
	}
	json_decref(rows);
}

char *
cli_out_render(const json_t *v, enum cli_format fmt)
{
	char *buf = NULL, *js;
	size_t len = 0, i;
	const json_t *e;
	FILE *f;

	if (fmt == CLI_OUT_JSON) {
		js = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
		if (js != NULL && asprintf(&buf, "%s\n", js) < 0)
			buf = NULL;
		free(js);
		return buf;
	}
	if ((f = open_memstream(&buf, &len)) == NULL)
		return NULL;
	if (fmt == CLI_OUT_TSV) {
		if (json_is_array(v))
			json_array_foreach(v, i, e)
				cli_out_tsv_row(f, e);
		else if (!json_is_null(v))
			cli_out_tsv_row(f, v);
	} else if (fmt == CLI_OUT_TABLE && !json_is_null(v))
		cli_out_table(f, v);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
