/*
 * opt: the option tables of agw-sim's command lines (see opt.h).
 */
#include "opt.h"

#include <stdio.h>
#include <string.h>

int
opt_take(const struct opt *t, size_t n, const char **val, int argc, char **argv,
    int *i, char *err, size_t errlen)
{
	const char *o = argv[*i];
	size_t k;

	for (k = 0; k < n && strcmp(o, t[k].name) != 0; k++)
		;
	if (k == n)
		return 0;
	if (*i + 1 >= argc) {
		snprintf(err, errlen, "%s needs %s", o, t[k].value);
		return -1;
	}
	(*i)++;
	if (val[k] != NULL) {
		snprintf(err, errlen, "%s given twice (%s, %s)", o, val[k],
		    argv[*i]);
		return -1;
	}
	val[k] = argv[*i];
	return 1;
}
