/*
 * log: the one logging API of agw-lab.
 *
 * Lines go to stderr as
 *   2026-11-28T16:50:00.123Z agw-gateway[1234] info: message
 * State changes log one stable line each, so tests can wait on them.
 */
#ifndef AGW_LOG_H
#define AGW_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERR,
	LOG_LEVEL_QUIET
};

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Set the program name shown on every line and the lowest level printed. */
void log_init(const char *progname, enum log_level level);
/* Change the lowest level printed. */
void log_set_level(enum log_level level);
/* Parse "debug", "info", "warn", "error", "quiet"; -1 when unknown. */
int log_level_parse(const char *name);
/* True when lines of that level are printed (to skip costly formatting). */
int log_enabled(enum log_level level);

void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_err(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
    LOG_PRINTF(2, 0);
/* Log at error level and exit(1). Only for start-up failures. */
void fatal(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

#endif
