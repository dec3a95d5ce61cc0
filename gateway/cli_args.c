/*
 * cli_args: az-style command line splitting. Leading words name the group
 * and verb; each option takes every following token up to the next option
 * (so "--servers 127.0.1.1 b.test" gives two values), as az's argparse
 * does with nargs='+'.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char *s, *l;
} cli_args_short[] = {
	{ "-g", "--resource-group" },
	{ "-n", "--name" },
	{ "-o", "--output" },
	{ "-h", "--help" },
	{ "-l", "--location" },
};

#define NSHORT (sizeof(cli_args_short) / sizeof(cli_args_short[0]))

/* The long name of an option token, or NULL when tok is a value. */
static const char *
cli_args_option(const char *tok)
{
	size_t i;

	if (strncmp(tok, "--", 2) == 0 && tok[2] != '\0')
		return tok;
	for (i = 0; i < NSHORT; i++)
		if (strcmp(tok, cli_args_short[i].s) == 0)
			return cli_args_short[i].l;
	return NULL;
}

static struct cli_opt *
cli_args_add(struct cli_args *a, const char *name, size_t namelen,
    int argc)
{
	struct cli_opt *o;
	char *n;

	if ((n = strndup(name, namelen)) == NULL)
		return NULL;
	o = realloc(a->opts, (a->nopts + 1) * sizeof(*o));
	if (o == NULL) {
		free(n);
		return NULL;
	}
	a->opts = o;
	o = &a->opts[a->nopts];
	memset(o, 0, sizeof(*o));
	o->name = n;
	if ((o->vals = calloc((size_t)argc + 1, sizeof(*o->vals))) == NULL) {
		free(n);
		return NULL;
	}
	a->nopts++;
	return o;
}

int
cli_args_parse(struct cli_args *a, int argc, char **argv, char *err,
    size_t errlen)
{
	struct cli_opt *cur = NULL;
	const char *name, *eq;
	int i;

	memset(a, 0, sizeof(*a));
	if ((a->words = calloc((size_t)argc + 1, sizeof(*a->words))) == NULL)
		goto oom;
	for (i = 0; i < argc; i++) {
		if ((name = cli_args_option(argv[i])) == NULL) {
			if (cur != NULL)
				cur->vals[cur->nvals++] = argv[i];
			else if (a->nopts == 0)
				a->words[a->nwords++] = argv[i];
			else {
				snprintf(err, errlen, "unrecognized arguments: "
				    "%s", argv[i]);
				return -1;
			}
			continue;
		}
		if (strcmp(name, "--help") == 0) {
			a->help = 1;
			cur = NULL;
			continue;
		}
		eq = strchr(name, '=');
		cur = cli_args_add(a, name, eq != NULL ? (size_t)(eq - name)
		    : strlen(name), argc);
		if (cur == NULL)
			goto oom;
		if (eq != NULL) {
			cur->vals[cur->nvals++] = eq + 1;
			cur = NULL;
		}
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

void
cli_args_clear(struct cli_args *a)
{
	size_t i;

	for (i = 0; i < a->nopts; i++) {
		free(a->opts[i].name);
		free(a->opts[i].vals);
	}
	free(a->opts);
	free(a->words);
	memset(a, 0, sizeof(*a));
}

const struct cli_opt *
cli_args_get(const struct cli_args *a, const char *name)
{
	size_t i;

	/* the last one given wins, as with argparse */
	for (i = a->nopts; i > 0; i--)
		if (strcmp(a->opts[i - 1].name, name) == 0)
			return &a->opts[i - 1];
	return NULL;
}

const char *
cli_args_value(const struct cli_args *a, const char *name, int *bad)
{
	const struct cli_opt *o = cli_args_get(a, name);

	if (o == NULL)
		return NULL;
	if (o->nvals != 1) {
		*bad = 1;
		return NULL;
	}
	return o->vals[0];
}
