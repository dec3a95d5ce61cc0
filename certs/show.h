/*
 * show: `agw-certs show`: a concise summary of certificate files (PEM,
 * DER, base64 .cer, PFX, chains): subject, issuer, SANs, validity, key,
 * thumbprints, CA or leaf, and whether a chain is in server order and how
 * far up it goes.
 */
#ifndef AGW_CERTS_SHOW_H
#define AGW_CERTS_SHOW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include <openssl/x509.h>

/*
 * Load every certificate of a file in any of the forms above (password is
 * for PFX; NULL means none). *format is "pem", "der", "cer" or "pfx".
 * Returns a stack the caller frees with sk_X509_pop_free, or NULL with err
 * naming the file.
 */
STACK_OF(X509) * show_load(const char *path, const char *password,
                     const char **format, char *err, size_t errlen);

/* The summary of one file's certificates as JSON (see certs/README.md).
 * Returns a new reference, or NULL when out of memory. */
json_t *show_summary(
    const char *path, const char *format, STACK_OF(X509) * certs, int64_t now);

/* Print a summary (from show_summary) as text to out. */
void show_print(FILE *out, json_t *summary);

#endif
