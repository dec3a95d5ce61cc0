/* agw-gateway: entry point. Not built yet: prints its usage only (see README). */
#include <stdio.h>
#include <string.h>

static const char usage[] =
"usage: agw-gateway --config FILE [options]\n"
    "Application Gateway v1/v2 emulator: a reverse proxy and load balancer\n"
    "configured with one Microsoft.Network/applicationGateways resource.\n";

int
main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	fputs(usage, stderr);
	fprintf(stderr, "agw-gateway: not implemented yet\n");
	return 2;
}
