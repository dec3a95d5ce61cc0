/* agw-certs: the certificate factory (generate) and certificate facts
 * (show). See certs/README.md. Exit codes: 0 ok, 1 error, 2 usage. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "generate.h"
#include "log.h"
#include "profile.h"
#include "show.h"

static const char usage[] =
    "usage: agw-certs generate --out DIR [--profile FILE] [--now TIME]\n"
    "                          [--key-type rsa2048|ec-p256]\n"
    "       agw-certs show FILE... [-o text|json] [--password PW] "
    "[--now TIME]\n"
    "       agw-certs profile      (print the built-in default profile)\n"
    "The certificate factory: mints a complete test PKI with dates relative\n"
    "to now, and summarises certificate files. `agw-certs VERB --help`.\n";

static const char usage_generate[] =
    "usage: agw-certs generate --out DIR [--profile FILE] [--now TIME]\n"
    "                          [--key-type rsa2048|ec-p256]\n"
    "Mint every item of the profile (default: the built-in one, the same\n"
    "as fixtures/certs/default-profile.json) into DIR: NAME.pem, NAME.key\n"
    "(0600), NAME.chain.pem, NAME.cer, NAME.pfx (listeners),\n"
    "well-known-cas.pem and manifest.json. DIR is written whole or not at\n"
    "all; an existing DIR is replaced only if empty or a previous output.\n"
    "  --out DIR        the output folder\n"
    "  --profile FILE   a profile (JSON, see certs/README.md)\n"
    "  --now TIME       the time dates are relative to: 2026-01-01T00:00:00Z"
    "\n                   or @EPOCH (default: now)\n"
    "  --key-type T     the default key type: rsa2048 (default), ec-p256,\n"
    "                   rsa3072, rsa4096, ec-p384\n";

static const char usage_show[] =
    "usage: agw-certs show FILE... [-o text|json] [--password PW] "
    "[--now TIME]\n"
    "Summarise PEM, DER, base64 .cer and PFX files and chains: subject,\n"
    "issuer, SANs, validity, key, thumbprints, CA or leaf, and whether a\n"
    "chain is in server order and complete up to which root.\n"
    "  -o, --output F   text (default) or json\n"
    "  --password PW    the PFX password\n"
    "  --now TIME       judge validity at TIME instead of now\n";

static const char usage_profile[] =
    "usage: agw-certs profile\n"
    "Print the built-in default profile (JSON) on stdout.\n";

static int
main_now(const char *s, int64_t *now)
{
	if (s == NULL) {
		*now = (int64_t)time(NULL);
		return 0;
	}
	if (profile_parse_time(s, now) != 0) {
		fprintf(stderr,
		    "agw-certs: --now: '%s' is not "
		    "2026-01-01T00:00:00Z or @EPOCH\n",
		    s);
		return -1;
	}
	return 0;
}

static int
main_generate(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"out", required_argument, NULL, 'O'},
	    {"profile", required_argument, NULL, 'p'},
	    {"now", required_argument, NULL, 'n'},
	    {"key-type", required_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	const char *out = NULL, *prof = NULL, *nows = NULL, *kt = NULL;
	struct profile *p;
	char err[1024];
	int64_t now;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'O':
			out = optarg;
			break;
		case 'p':
			prof = optarg;
			break;
		case 'n':
			nows = optarg;
			break;
		case 'k':
			kt = optarg;
			break;
		case 'h':
			fputs(usage_generate, stdout);
			return 0;
		default:
			fputs(usage_generate, stderr);
			return 2;
		}
	}
	if (optind != argc || out == NULL) {
		fprintf(stderr, "agw-certs: generate: %s\n%s",
		    out == NULL ? "--out is required" : "unexpected argument",
		    usage_generate);
		return 2;
	}
	if (kt != NULL && !profile_key_type_valid(kt)) {
		fprintf(stderr,
		    "agw-certs: --key-type: '%s' is not rsa2048, "
		    "ec-p256, rsa3072, rsa4096 or ec-p384\n",
		    kt);
		return 2;
	}
	if (main_now(nows, &now) != 0)
		return 2;
	if ((p = profile_load(prof, err, sizeof(err))) == NULL) {
		fprintf(stderr, "agw-certs: %s\n", err);
		return 1;
	}
	rc = generate_run(p, out, kt, now, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "agw-certs: %s\n", err);
	else
		printf("%s: %zu items, manifest.json\n", out, p->nitems);
	profile_free(p);
	return rc == 0 ? 0 : 1;
}

static int
main_show(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"password", required_argument, NULL, 'P'},
	    {"now", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	const char *outfmt = "text", *pw = NULL, *nows = NULL, *fmt;
	STACK_OF(X509) * certs;
	json_t *all = NULL, *one;
	char err[1024];
	int64_t now;
	int c, i, rc = 0;

	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			outfmt = optarg;
			break;
		case 'P':
			pw = optarg;
			break;
		case 'n':
			nows = optarg;
			break;
		case 'h':
			fputs(usage_show, stdout);
			return 0;
		default:
			fputs(usage_show, stderr);
			return 2;
		}
	}
	if (optind == argc ||
	    (strcmp(outfmt, "json") != 0 && strcmp(outfmt, "text") != 0)) {
		fprintf(stderr, "agw-certs: show: %s\n%s",
		    optind == argc ? "a FILE is required"
		                   : "-o takes text or json",
		    usage_show);
		return 2;
	}
	if (main_now(nows, &now) != 0)
		return 2;
	if ((all = json_array()) == NULL)
		return 1;
	for (i = optind; i < argc; i++) {
		certs = show_load(argv[i], pw, &fmt, err, sizeof(err));
		if (certs == NULL) {
			fprintf(stderr, "agw-certs: %s\n", err);
			rc = 1;
			continue;
		}
		one = show_summary(argv[i], fmt, certs, now);
		sk_X509_pop_free(certs, X509_free);
		if (one == NULL) {
			fprintf(
			    stderr, "agw-certs: %s: out of memory\n", argv[i]);
			rc = 1;
			continue;
		}
		if (strcmp(outfmt, "text") == 0)
			show_print(stdout, one);
		json_array_append_new(all, one);
	}
	if (strcmp(outfmt, "json") == 0) {
		json_dumpf(all, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	}
	json_decref(all);
	return rc;
}

int
main(int argc, char **argv)
{
	log_init("agw-certs", LOG_LEVEL_WARN);
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "generate") == 0)
		return main_generate(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return main_show(argc - 1, argv + 1);
	if (strcmp(argv[1], "profile") == 0) {
		if (argc > 2 && (strcmp(argv[2], "--help") == 0 ||
		                    strcmp(argv[2], "-h") == 0)) {
			fputs(usage_profile, stdout);
			return 0;
		}
		if (argc > 2) {
			fputs(usage_profile, stderr);
			return 2;
		}
		fputs(profile_default_json(), stdout);
		return 0;
	}
	fprintf(stderr, "agw-certs: unknown verb '%s'\n%s", argv[1], usage);
	return 2;
}
