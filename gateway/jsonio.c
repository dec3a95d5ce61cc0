#include "jsonio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

json_t *
jsonio_load_file(const char *path, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *v;

	v = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (v == NULL) {
		if (jerr.line < 0 || errno == ENOENT)
			snprintf(err, errlen, "%s: %s", path, jerr.text);
		else
			snprintf(err, errlen, "%s:%d:%d: %s", path, jerr.line,
			    jerr.column, jerr.text);
	}
	return v;
}

static int
jsonio_fsync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = 0;

	if (copy == NULL)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	free(copy);
	return rc;
}

static int
jsonio_copy(const char *from, const char *to)
{
	char buf[65536];
	FILE *in, *out;
	size_t n;
	int rc = 0;

	if ((in = fopen(from, "rb")) == NULL)
		return errno == ENOENT ? 0 : -1;
	if ((out = fopen(to, "wb")) == NULL) {
		fclose(in);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = -1;
	if (ferror(in) || fflush(out) != 0 || fsync(fileno(out)) != 0)
		rc = -1;
	fclose(in);
	if (fclose(out) != 0)
		rc = -1;
	return rc;
}

static int
jsonio_write_bytes(const char *path, const char *data, size_t len,
    int keep_backup, char *err, size_t errlen)
{
	char tmp[4096], bak[4096];
	int fd = -1;
	size_t off = 0;
	ssize_t n;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >=
		(int)sizeof(tmp) ||
	    snprintf(bak, sizeof(bak), "%s.bak", path) >= (int)sizeof(bak)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create: %s", tmp,
		    strerror(errno));
		return -1;
	}
	while (off < len) {
		n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (keep_backup && jsonio_copy(path, bak) != 0) {
		snprintf(err, errlen, "%s: cannot keep a backup: %s", bak,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0)
		goto fail;
	jsonio_fsync_dir(path);
	return 0;
fail:
	snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

int
jsonio_write_atomic(const char *path, json_t *v, size_t flags,
    int keep_backup, char *err, size_t errlen)
{
	char *text, *nl;
	size_t len;
	int rc;

	if (flags == 0)
		flags = JSON_INDENT(2) | JSON_SORT_KEYS;
	if ((text = json_dumps(v, flags)) == NULL) {
		snprintf(err, errlen, "%s: cannot serialize JSON", path);
		return -1;
	}
	/* End the file with a newline, as editors do. */
	len = strlen(text);
	if ((nl = realloc(text, len + 2)) == NULL) {
		free(text);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	nl[len] = '\n';
	nl[len + 1] = '\0';
	rc = jsonio_write_bytes(path, nl, len + 1, keep_backup, err, errlen);
	free(nl);
	return rc;
}

int
jsonio_write_text_atomic(const char *path, const char *text, char *err,
    size_t errlen)
{
	return jsonio_write_bytes(path, text, strlen(text), 0, err, errlen);
}

json_t *
jsonio_string_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}
