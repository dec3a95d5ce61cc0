/* agw-certs: entry point. Not built yet: prints its usage only (see README). */
#include <stdio.h>
#include <string.h>

static const char usage[] =
"usage: agw-certs generate --out DIR [--profile FILE] [--now TIME]\n"
    "       agw-certs show FILE... [-o json]\n"
    "The certificate factory: mints a complete test PKI.\n";

int
main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	fputs(usage, stderr);
	fprintf(stderr, "agw-certs: not implemented yet\n");
	return 2;
}
