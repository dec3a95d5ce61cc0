/* agw-sim: entry point. Not built yet: prints its usage only (see README). */
#include <stdio.h>
#include <string.h>

static const char usage[] =
"usage: agw-sim --farm FILE [--control ADDR:PORT] [--ready-file F]\n"
    "A farm of simulated TLS backends in one process.\n";

int
main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	fputs(usage, stderr);
	fprintf(stderr, "agw-sim: not implemented yet\n");
	return 2;
}
