/*
 * control: the control API of agw-sim (HTTP on loopback, evhttp), see
 * sim/README.md: list backends and their counters, set a behaviour, rotate
 * a certificate, take a backend down and up, reset counters.
 */
#ifndef AGW_SIM_CONTROL_H
#define AGW_SIM_CONTROL_H

#include <stddef.h>

#include "backend.h"
#include "farm.h"
#include "net.h"

struct event_base;
struct evhttp;

/* The whole farm at run time. */
struct sim {
	struct event_base *base;
	struct farm *farm;
	struct backend *backends;
	size_t nbackends;
	struct evhttp *http;
	struct net_addr control; /* with the real port once bound */
};

/* Serve the control API on addr ("127.0.0.1:0" style, loopback only).
 * Returns 0, or -1 with err naming the address. */
int control_start(struct sim *s, const char *addr, char *err, size_t errlen);
/* Stop serving (NULL-safe on a sim that never started). */
void control_stop(struct sim *s);
/* The backend named name, or NULL. */
struct backend *control_find(struct sim *s, const char *name);

#endif
