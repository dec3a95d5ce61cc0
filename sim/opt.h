/*
 * opt: the option tables of agw-sim's command lines (the farm runner's and
 * ctl's). A table is an array of struct opt; a command line fills one value
 * slot per entry.
 */
#ifndef AGW_SIM_OPT_H
#define AGW_SIM_OPT_H

#include <stddef.h>

/* An option that takes a value. The ctl tls ones go into the body of
 * PUT /backends/NAME/tls under json_key (files as absolute paths). */
struct opt {
	const char *name;
	const char *value; /* what it takes, for help and messages */
	const char *json_key;
	int file;
};

/* If argv[*i] is one of the n options of t, store its value in val[] (n
 * slots, NULL until given; the value points into argv) and step *i over
 * it. Returns 1 (taken), 0 (not an option of t), or -1 with the reason in
 * err (no value, or given twice). */
int opt_take(const struct opt *t, size_t n, const char **val, int argc,
    char **argv, int *i, char *err, size_t errlen);

#endif
