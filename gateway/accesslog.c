#include "accesslog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "jsonio.h"

static int accesslog_fd = -1;
static int accesslog_owned;

int
accesslog_open(const char *spec, char *err, size_t errlen)
{
	accesslog_close();
	if (spec == NULL || strcmp(spec, "off") == 0)
		return 0;
	if (strcmp(spec, "-") == 0) {
		accesslog_fd = STDOUT_FILENO;
		return 0;
	}
	accesslog_fd = open(spec, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0644);
	if (accesslog_fd < 0) {
		snprintf(err, errlen, "--access-log %s: %s", spec,
		    strerror(errno));
		return -1;
	}
	accesslog_owned = 1;
	return 0;
}

int
accesslog_enabled(void)
{
	return accesslog_fd >= 0;
}

void
accesslog_write(const struct accesslog_entry *e)
{
	char when[64];
	struct tm tm;
	time_t secs;
	json_t *o;
	char *line;
	size_t len;

	if (accesslog_fd < 0)
		return;
	secs = (time_t)e->time;
	gmtime_r(&secs, &tm);
	len = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + len, sizeof(when) - len, ".%03dZ",
	    (int)((e->time - (double)secs) * 1000.0));
	o = json_object();
	if (o == NULL)
		return;
	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "client", jsonio_string_or_null(e->client));
	json_object_set_new(o, "listener", jsonio_string_or_null(e->listener));
	json_object_set_new(o, "rule", jsonio_string_or_null(e->rule));
	json_object_set_new(o, "pool", jsonio_string_or_null(e->pool));
	json_object_set_new(o, "member", jsonio_string_or_null(e->member));
	json_object_set_new(o, "method", jsonio_string_or_null(e->method));
	json_object_set_new(o, "target", jsonio_string_or_null(e->target));
	json_object_set_new(o, "host", jsonio_string_or_null(e->host));
	json_object_set_new(o, "status", json_integer(e->status));
	json_object_set_new(o, "upstream_status",
	    e->upstream_status ? json_integer(e->upstream_status)
			       : json_null());
	json_object_set_new(o, "bytes_in", json_integer((json_int_t)e->bytes_in));
	json_object_set_new(o, "bytes_out",
	    json_integer((json_int_t)e->bytes_out));
	json_object_set_new(o, "duration_ms", json_real(e->duration_ms));
	json_object_set_new(o, "upstream_ms",
	    e->upstream_ms >= 0 ? json_real(e->upstream_ms) : json_null());
	json_object_set_new(o, "attempts", json_integer(e->attempts));
	json_object_set_new(o, "reason", jsonio_string_or_null(e->reason));
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (line == NULL)
		return;
	len = strlen(line);
	line[len] = '\n'; /* replaces the NUL; written with its length */
	if (write(accesslog_fd, line, len + 1) < 0) {
		/* nothing sensible to do: the log is best effort */
	}
	free(line);
}

void
accesslog_close(void)
{
	if (accesslog_owned && accesslog_fd >= 0)
		close(accesslog_fd);
	accesslog_fd = -1;
	accesslog_owned = 0;
}
