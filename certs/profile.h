/*
 * profile: the description of a test PKI that agw-certs mints (see
 * certs/README.md for the JSON format). A profile is plain, validated,
 * immutable data: names, subjects, SANs, validity offsets, key types,
 * basic constraints, key usage, EKU, and how each item's chain is sent.
 */
#ifndef AGW_CERTS_PROFILE_H
#define AGW_CERTS_PROFILE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

enum profile_role {
	PROFILE_ROLE_ROOT,
	PROFILE_ROLE_INTERMEDIATE,
	PROFILE_ROLE_LEAF,
	PROFILE_ROLE_LISTENER
};

/* A point in time: an offset in seconds from "now", or an absolute time. */
struct profile_when {
	int absolute;
	int64_t secs;
};

struct profile_item {
	char *name;
	enum profile_role role;
	char *use;     /* one sentence */
	char *subject; /* "CN=...,O=..." with ${domain} expanded */
	int issuer;    /* index of the issuing item; -1: self-signed */
	struct profile_when not_before, not_after;
	char *key_type;      /* NULL: the profile's (or --key-type) */
	int key_from;        /* index of the item whose key is reused; -1 */
	char *digest;        /* "sha256" (default), "sha1", "sha384"... */
	int ca;              /* basicConstraints CA:TRUE */
	int path_len;        /* -1: none */
	char *key_usage;     /* "digitalSignature,keyCertSign"; "" none */
	char *ext_key_usage; /* "serverAuth,clientAuth"; "" none */
	char **sans;         /* "DNS:x", "IP:1.2.3.4", expanded */
	size_t nsans;
	int *chain; /* item indexes, in the order a server sends */
	size_t nchain;
	char *pfx_password; /* NULL: no .pfx */
};

struct profile {
	char *source;   /* the file, for errors */
	char *key_type; /* default key type of the items */
	char *domain;
	char **members;
	size_t nmembers;
	struct profile_item *items;
	size_t nitems;
};

/* The built-in default profile, as JSON text (the same text as
 * fixtures/certs/default-profile.json). Static storage. */
const char *profile_default_json(void);

/*
 * Parse and validate a profile from JSON. source names the file in errors,
 * which read "SOURCE: JSON.PATH: reason". Returns a new profile the caller
 * frees with profile_free, or NULL with err set.
 */
struct profile *profile_from_json(
    json_t *root, const char *source, char *err, size_t errlen);
/* Load a profile file (NULL: the built-in default). As profile_from_json. */
struct profile *profile_load(const char *path, char *err, size_t errlen);
/* Free a profile (NULL is fine). */
void profile_free(struct profile *p);
/*
 * Check that every item's not_after is after its not_before once resolved
 * against now (mixes of offsets and absolute times). Returns 0, or -1 with
 * err naming the source and the JSON path.
 */
int profile_check_dates(
    const struct profile *p, int64_t now, char *err, size_t errlen);
/* The index of the item called name, or -1. */
int profile_find(const struct profile *p, const char *name);

/* "root", "intermediate", "leaf", "listener". */
const char *profile_role_name(enum profile_role role);
/* True when key_type is one agw-certs can generate (rsa1024, rsa2048,
 * rsa3072, rsa4096, ec-p256, ec-p384). */
int profile_key_type_valid(const char *key_type);

/*
 * Parse "-30d", "+365d", "0", "+12h", "-90m", "+30s" (an offset) or an
 * absolute time (see profile_parse_time) into *w. Returns 0 or -1.
 */
int profile_parse_when(const char *s, struct profile_when *w);
/* Parse "2026-01-01T00:00:00Z", "2026-01-01" or "@EPOCH" into *t
 * (seconds since the epoch). Returns 0 or -1. */
int profile_parse_time(const char *s, int64_t *t);
/* The absolute time of w, given now. */
int64_t profile_when_at(const struct profile_when *w, int64_t now);
/* Format t as "2026-01-01T00:00:00Z" into buf (at least 21 bytes). */
const char *profile_format_time(int64_t t, char *buf, size_t len);

#endif
