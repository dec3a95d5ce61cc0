/*
 * jsonio: jansson helpers shared by every component: loading a JSON file
 * with an error that names the file, line and column; writing one
 * atomically (temporary file, fsync, rename) so a saved file is never left
 * half-written.
 */
#ifndef AGW_JSONIO_H
#define AGW_JSONIO_H

#include <stddef.h>
#include <jansson.h>

/* Load a JSON file. On failure returns NULL and writes
 * "FILE:LINE:COL: reason" to err. Caller owns the result (json_decref). */
json_t *jsonio_load_file(const char *path, char *err, size_t errlen);

/*
 * Write v to path atomically: PATH.tmp.PID, fsync, rename, fsync the
 * folder. With keep_backup the previous file (if any) is first copied to
 * PATH.bak. flags are json_dumpf flags (0 for indented, sorted output).
 * Returns 0, or -1 with err set and path untouched.
 */
int jsonio_write_atomic(const char *path, json_t *v, size_t flags,
    int keep_backup, char *err, size_t errlen);

/* A JSON string of s, or null when s is NULL (a new reference). */
json_t *jsonio_string_or_null(const char *s);

/* Write a string to a file atomically (as above, no backup). */
int jsonio_write_text_atomic(const char *path, const char *text, char *err,
    size_t errlen);

#endif
