/* agw: entry point. Not built yet: prints its usage only (see README). */
#include <stdio.h>
#include <string.h>

static const char usage[] =
"usage: agw [network application-gateway] GROUP VERB [args]\n"
    "az-compatible commands over a local gateway's ARM JSON.\n";

int
main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	fputs(usage, stderr);
	fprintf(stderr, "agw: not implemented yet\n");
	return 2;
}
