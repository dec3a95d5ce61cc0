/*
 * ctl: agw-sim ctl, the command-line client of the control API (see "ctl"
 * in sim/README.md): the verb table, its options and help texts, one HTTP
 * request per command, and the list table.
 */
#ifndef AGW_SIM_CTL_H
#define AGW_SIM_CTL_H

#include <stdio.h>

/* Run one ctl command line: argv[0] is "ctl", the verb and its arguments
 * follow. Prints the answer on stdout, errors on stderr. Returns the exit
 * code: 0 ok (also --help), 1 no answer or an error answer, 2 usage. */
int ctl_main(int argc, char **argv);
/* The verbs, one "  NAME  SUMMARY" line each, and where to read more. */
void ctl_verb_list(FILE *f);

#endif
