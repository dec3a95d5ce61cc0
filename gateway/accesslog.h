/*
 * accesslog: one JSON line per request (time, client, listener, rule, pool,
 * member, status, upstream status, bytes, durations, failure reason),
 * written with one write(2) per line so worker threads never interleave.
 */
#ifndef AGW_ACCESSLOG_H
#define AGW_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>

/* One finished request. Strings may be NULL (written as null). */
struct accesslog_entry {
	double time;		/* start, seconds since the epoch */
	const char *client;	/* "ADDR:PORT" */
	const char *listener;
	const char *rule;
	const char *pool;
	const char *member;
	const char *method;
	const char *target;
	const char *host;
	int status;		/* sent to the client */
	int upstream_status;	/* 0: no upstream response */
	uint64_t bytes_in;	/* request bytes read from the client */
	uint64_t bytes_out;	/* response bytes written to the client */
	double duration_ms;	/* whole request */
	double upstream_ms;	/* upstream connect to response head, or -1 */
	const char *reason;	/* reason.h name of a failure, or NULL */
	int attempts;		/* upstream attempts (v2 retry: 2) */
};

/* Open the access log: "off" (or NULL) for none, "-" for stdout, else a
 * file opened for appending. Returns 0, or -1 with err naming the file. */
int accesslog_open(const char *spec, char *err, size_t errlen);
/* True when lines are written (callers skip building entries otherwise). */
int accesslog_enabled(void);
/* Write one line; failures are counted, never fatal. */
void accesslog_write(const struct accesslog_entry *e);
/* Close the log (files only). */
void accesslog_close(void);

#endif
