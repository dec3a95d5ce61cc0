/*
 * generate: `agw-certs generate`: mint a profile and write its files
 * (NAME.pem, NAME.key, NAME.chain.pem, NAME.cer, NAME.pfx,
 * well-known-cas.pem) and manifest.json into a folder, all or nothing.
 */
#ifndef AGW_CERTS_GENERATE_H
#define AGW_CERTS_GENERATE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "mint.h"
#include "profile.h"

/*
 * The manifest of minted items (see certs/README.md). key_type is the
 * run's default key type. Returns a new reference, or NULL when out of
 * memory.
 */
json_t *generate_manifest(const struct profile *p,
    const struct mint_item *items, const char *key_type, int64_t now);

/*
 * Mint p and write everything into out_dir: first into a temporary folder
 * beside it, renamed into place at the end, so a failure leaves nothing
 * half-written. An existing out_dir is replaced only when it is empty or a
 * previous output (holds manifest.json). key_type overrides the profile's
 * default when not NULL. Returns 0, or -1 with err naming the file.
 */
int generate_run(const struct profile *p, const char *out_dir,
    const char *key_type, int64_t now, char *err, size_t errlen);

#endif
