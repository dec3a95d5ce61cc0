/*
 * agw-sim: the simulated backend farm (see sim/README.md).
 *   agw-sim --farm FILE [--control ADDR:PORT] [--ready-file FILE]
 *   agw-sim ctl --control ADDR:PORT VERB ... [-o json]   (ctl.c)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include <event2/event.h>

#include "backend.h"
#include "control.h"
#include "ctl.h"
#include "farm.h"
#include "jsonio.h"
#include "log.h"
#include "net.h"
#include "opt.h"

static void
main_stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *base = arg;

	log_info("signal %d: stopping", (int)sig);
	event_base_loopexit(base, NULL);
}

/* Many backends need many descriptors: raise the soft limit. */
static void
main_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int
main_ready_file(struct sim *s, const char *path, char *err, size_t errlen)
{
	json_t *o, *a;
	char addr[80], *text;
	size_t i;
	int rc;

	a = json_array();
	for (i = 0; i < s->nbackends; i++) {
		struct backend *b = &s->backends[i];

		json_array_append_new(
		    a, json_pack("{s:s,s:s,s:i,s:s}", "name", b->conf->name,
		           "address", b->addr_str, "port", b->port, "protocol",
		           b->conf->protocol == FARM_HTTPS ? "https" : "http"));
	}
	o = json_pack("{s:i,s:s,s:o}", "pid", (int)getpid(), "control",
	    net_addr_str(&s->control, addr, sizeof(addr)), "backends", a);
	if (o == NULL || (text = json_dumps(o, JSON_INDENT(2))) == NULL) {
		json_decref(o);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	rc = net_write_ready_file(path, text, err, errlen);
	free(text);
	json_decref(o);
	return rc;
}

static int
main_run(const char *farmfile, const char *control, const char *ready)
{
	struct backend_ctx_cache cache = {0};
	struct sim s = {0};
	struct event *sigterm = NULL, *sigint = NULL;
	char err[2048];
	size_t i;
	int rc = 1;

	main_raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	if ((s.farm = farm_load(farmfile, err, sizeof(err))) == NULL) {
		log_err("%s", err);
		return 1;
	}
	if ((s.base = net_base_new(0)) == NULL) {
		log_err("cannot create the event loop");
		goto out;
	}
	s.backends = calloc(s.farm->nbackends + 1, sizeof(*s.backends));
	if (s.backends == NULL) {
		log_err("out of memory");
		goto out;
	}
	for (i = 0; i < s.farm->nbackends; i++) {
		s.nbackends++;
		if (backend_init(&s.backends[i], &s.farm->backends[i], s.base,
		        &cache, err, sizeof(err)) != 0 ||
		    backend_listen(&s.backends[i], err, sizeof(err)) != 0) {
			log_err("%s: %s", farmfile, err);
			goto out;
		}
		if (s.backends[i].beh.down &&
		    backend_set_up(&s.backends[i], 0, err, sizeof(err)) != 0) {
			log_err("%s: %s", farmfile, err);
			goto out;
		}
	}
	backend_ctx_cache_clear(&cache);
	if (control_start(&s, control != NULL ? control : "127.0.0.1:0", err,
	        sizeof(err)) != 0) {
		log_err("%s", err);
		goto out;
	}
	sigterm = evsignal_new(s.base, SIGTERM, main_stop_cb, s.base);
	sigint = evsignal_new(s.base, SIGINT, main_stop_cb, s.base);
	if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) ||
	    evsignal_add(sigint, NULL)) {
		log_err("cannot watch signals");
		goto out;
	}
	{
		char a[80];

		log_info("control API on %s",
		    net_addr_str(&s.control, a, sizeof(a)));
	}
	/* Logged before the ready file, so a reader of it finds the line. */
	log_info("farm ready: %zu backends", s.nbackends);
	if (ready != NULL &&
	    main_ready_file(&s, ready, err, sizeof(err)) != 0) {
		log_err("--ready-file %s", err);
		goto out;
	}
	if (event_base_dispatch(s.base) < 0) {
		log_err("event loop failed");
		goto out;
	}
	log_info("farm stopped");
	rc = 0;
out:
	backend_ctx_cache_clear(&cache);
	if (sigterm != NULL)
		event_free(sigterm);
	if (sigint != NULL)
		event_free(sigint);
	control_stop(&s);
	for (i = 0; i < s.nbackends; i++)
		backend_clear(&s.backends[i]);
	free(s.backends);
	if (s.base != NULL)
		event_base_free(s.base);
	farm_free(s.farm);
	farm_cache_clear();
	return rc;
}

enum main_run_opt {
	MAIN_RUN_FARM,
	MAIN_RUN_CONTROL,
	MAIN_RUN_READY,
	MAIN_RUN_LOG_LEVEL,
	MAIN_RUN_NOPTS
};

static const struct opt main_run_opts[MAIN_RUN_NOPTS] = {
    [MAIN_RUN_FARM] = {"--farm", "FILE", NULL, 0},
    [MAIN_RUN_CONTROL] = {"--control", "ADDR:PORT", NULL, 0},
    [MAIN_RUN_READY] = {"--ready-file", "FILE", NULL, 0},
    [MAIN_RUN_LOG_LEVEL] = {"--log-level", "debug|info|warn|error", NULL, 0},
};

static void
main_usage(FILE *f)
{
	fputs("usage: agw-sim --farm FILE [--control ADDR:PORT] "
	      "[--ready-file FILE]\n"
	      "               [--log-level debug|info|warn|error]\n"
	      "       agw-sim ctl --control ADDR:PORT VERB [ARGS] [-o json]\n"
	      "A farm of simulated TLS backends in one process; ctl talks to "
	      "its control API.\n"
	      "ctl verbs:\n",
	    f);
	ctl_verb_list(f);
}

int
main(int argc, char **argv)
{
	const char *val[MAIN_RUN_NOPTS] = {NULL};
	const char *lvl_name;
	char err[256];
	int i, r, lvl;

	log_init(argv[0], LOG_LEVEL_INFO);
	if (argc > 1 && strcmp(argv[1], "ctl") == 0)
		return ctl_main(argc - 1, argv + 1);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			main_usage(stdout);
			return 0;
		}
		r = opt_take(main_run_opts, MAIN_RUN_NOPTS, val, argc, argv, &i,
		    err, sizeof(err));
		if (r == 0)
			snprintf(err, sizeof(err), "unknown argument %s%s",
			    argv[i],
			    argv[i][0] != '-'
			        ? " (a farm file goes after --farm)"
			        : "");
		if (r <= 0) {
			fprintf(
			    stderr, "agw-sim: %s; see agw-sim --help\n", err);
			return 2;
		}
	}
	if ((lvl_name = val[MAIN_RUN_LOG_LEVEL]) != NULL) {
		if ((lvl = log_level_parse(lvl_name)) < 0) {
			fprintf(stderr,
			    "agw-sim: --log-level %s: unknown level (debug, "
			    "info, warn or error)\n",
			    lvl_name);
			return 2;
		}
		log_set_level((enum log_level)lvl);
	}
	if (val[MAIN_RUN_FARM] == NULL) {
		fprintf(stderr,
		    "agw-sim: --farm FILE needed; see agw-sim --help\n");
		return 2;
	}
	return main_run(
	    val[MAIN_RUN_FARM], val[MAIN_RUN_CONTROL], val[MAIN_RUN_READY]);
}
