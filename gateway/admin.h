/*
 * admin: the loopback admin API of agw-gateway (evhttp on the main
 * thread's loop): GET /status, GET /config, POST /reload, GET /metrics,
 * GET /backendhealth.
 */
#ifndef AGW_ADMIN_H
#define AGW_ADMIN_H

#include <stddef.h>
#include <jansson.h>

#include "gateway.h"

struct admin;

/* What POST /reload runs (main.c's reload); returns 0 when the new
 * configuration is serving, -1 when it was refused. */
typedef int (*admin_reload_fn)(struct gateway *gw);

/*
 * Serve the admin API on gw->opts.admin (loopback addresses only) in
 * gw->base; the bound "ADDR:PORT" is written to gw->admin_addr. Returns
 * the API, or NULL with err set (naming the address).
 */
struct admin *admin_new(struct gateway *gw, admin_reload_fn reload, char *err,
    size_t errlen);
/* Stop serving and free. NULL is allowed. */
void admin_free(struct admin *a);

/* The listeners array of the ready file and /status:
 * [{"frontendPort", "configured", "address", "port"}]. New reference. */
json_t *admin_listeners_json(const struct gateway *gw);
/* The /status document. New reference. */
json_t *admin_status_json(struct gateway *gw);

#endif
