#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "agw";
static enum log_level log_min = LOG_LEVEL_INFO;

static const char *const log_names[] = {
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_ERR] = "error",
	[LOG_LEVEL_QUIET] = "quiet",
};

void
log_init(const char *progname, enum log_level level)
{
	const char *slash;

	if (progname != NULL) {
		slash = strrchr(progname, '/');
		log_prog = slash != NULL ? slash + 1 : progname;
	}
	log_min = level;
}

void
log_set_level(enum log_level level)
{
	log_min = level;
}

int
log_level_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
		if (strcmp(name, log_names[i]) == 0)
			return (int)i;
	if (strcmp(name, "err") == 0)
		return LOG_LEVEL_ERR;
	return -1;
}

int
log_enabled(enum log_level level)
{
	return level >= log_min;
}

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[4096], stamp[32];
	struct timeval tv;
	struct tm tm;
	int n;

	if (level < log_min || level >= LOG_LEVEL_QUIET)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03dZ %s[%d] %s: ", stamp,
	    (int)(tv.tv_usec / 1000), log_prog, (int)getpid(),
	    log_names[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	/* One write per line, so lines of concurrent processes do not mix. */
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}

#define LOG_FN(fn, lvl)                                                        \
	void fn(const char *fmt, ...)                                          \
	{                                                                      \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_vmsg(lvl, fmt, ap);                                        \
		va_end(ap);                                                    \
	}

LOG_FN(log_debug, LOG_LEVEL_DEBUG)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_err, LOG_LEVEL_ERR)

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (log_min > LOG_LEVEL_ERR)
		log_min = LOG_LEVEL_ERR;
	log_vmsg(LOG_LEVEL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
