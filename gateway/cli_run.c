/*
 * cli_run: the running gateway behind agw start/stop/show-backend-health
 * and the reload after every saved change. agw-gateway runs detached
 * (setsid, output to <gw>.log beside the state); what agw needs to find it
 * again is kept in <gw>.run.json (pid, admin address, listeners).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "cli.h"
#include "jsonio.h"
#include "net.h"

#define CLI_RUN_WAIT_MS 30000

static void
cli_run_nap(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* Decode a chunked body in place; returns its new length. */
static size_t
cli_run_unchunk(char *b, size_t len)
{
	size_t in = 0, out = 0, n;
	char *end;

	while (in < len) {
		n = strtoul(b + in, &end, 16);
		if (end == b + in || (end = strstr(end, "\r\n")) == NULL)
			break;
		in = (size_t)(end - b) + 2;
		if (n == 0 || in + n > len)
			break;
		memmove(b + out, b + in, n);
		out += n;
		in += n + 2;
	}
	b[out] = '\0';
	return out;
}

int
cli_run_http(const char *admin, const char *method, const char *path,
    char **body, char *err, size_t errlen)
{
	struct timeval tv = { 30, 0 };
	struct net_addr a;
	char req[512], *buf = NULL, *hend, *nb;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd = -1, status;

	*body = NULL;
	if (net_addr_parse(admin, -1, &a, err, errlen) != 0)
		return -1;
	if ((fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(fd, (struct sockaddr *)&a.ss, a.len) != 0) {
		snprintf(err, errlen, "%s: %s", admin, strerror(errno));
		goto fail;
	}
	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: %s\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n", method, path,
	    admin);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		snprintf(err, errlen, "%s: %s", admin, strerror(errno));
		goto fail;
	}
	for (;;) {
		if (cap - len < 4096) {
			cap = cap * 2 + 8192;
			if ((nb = realloc(buf, cap)) == NULL) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			buf = nb;
		}
		if ((n = read(fd, buf + len, cap - len - 1)) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", admin, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	fd = -1;
	if (buf == NULL)
		goto short_answer;
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1 ||
	    (hend = strstr(buf, "\r\n\r\n")) == NULL)
		goto short_answer;
	*hend = '\0';
	hend += 4;
	len -= (size_t)(hend - buf);
	if (strcasestr(buf, "transfer-encoding: chunked") != NULL)
		len = cli_run_unchunk(hend, len);
	memmove(buf, hend, len + 1);
	*body = buf;
	return status;
short_answer:
	snprintf(err, errlen, "%s: not an HTTP answer", admin);
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return -1;
}

/* True while pid runs (a zombie nobody reaps does not count). */
static int
cli_run_alive(pid_t pid)
{
	char path[64], st[512];
	FILE *f;
	char *p;
	int alive = 1;

	if (pid <= 0 || kill(pid, 0) != 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	if (fgets(st, sizeof(st), f) != NULL && (p = strrchr(st, ')')) != NULL &&
	    (p[2] == 'Z' || p[2] == 'X'))
		alive = 0;
	fclose(f);
	return alive;
}

json_t *
cli_run_info(const char *rg, const char *gw)
{
	char path[4096], err[512];
	json_t *info;

	cli_state_path(path, sizeof(path), rg, gw, ".run.json");
	if (access(path, F_OK) != 0)
		return NULL;
	if ((info = jsonio_load_file(path, err, sizeof(err))) == NULL)
		return NULL;
	if (!cli_run_alive((pid_t)json_integer_value(json_object_get(info,
		"pid")))) {
		json_decref(info);
		return NULL;
	}
	return info;
}

/* agw-gateway: $AGW_GATEWAY, else beside this program. */
static void
cli_run_gateway_path(char *buf, size_t len)
{
	const char *env = getenv("AGW_GATEWAY");
	char self[4096];
	ssize_t n;
	char *slash;

	if (env != NULL && env[0] != '\0') {
		snprintf(buf, len, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		snprintf(buf, len, "agw-gateway");
		return;
	}
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	if (strlen(self) + sizeof("/agw-gateway") > len) {
		snprintf(buf, len, "agw-gateway");
		return;
	}
	memcpy(buf, self, strlen(self));
	memcpy(buf + strlen(self), "/agw-gateway", sizeof("/agw-gateway"));
}

static void
cli_run_log_tail(const char *log)
{
	char buf[2048];
	size_t n;
	FILE *f;

	if ((f = fopen(log, "r")) == NULL)
		return;
	if (fseek(f, -(long)(sizeof(buf) - 1), SEEK_END) != 0)
		rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	fprintf(stderr, "%s", buf);
}

int
cli_run_start(const char *rg, const char *gw, const struct cli_args *a,
    enum cli_format fmt, const char *query)
{
	char state[4096], ready[4096], log[4096], runp[4096], exe[4096];
	char err[1024], *out;
	const char *argv[64];
	const struct cli_opt *o;
	json_t *info = NULL, *rj = NULL, *shown = NULL, *lsn;
	size_t i, argc = 0;
	int logfd, status, rc = CLI_EXIT_SERVICE, waited;
	pid_t pid;

	cli_state_path(state, sizeof(state), rg, gw, ".json");
	cli_state_path(ready, sizeof(ready), rg, gw, ".ready");
	cli_state_path(log, sizeof(log), rg, gw, ".log");
	cli_state_path(runp, sizeof(runp), rg, gw, ".run.json");
	if ((info = cli_run_info(rg, gw)) != NULL) {
		fprintf(stderr, "gateway %s/%s is already running (pid %lld)\n",
		    rg, gw, (long long)json_integer_value(json_object_get(info,
		    "pid")));
		rj = json_incref(info);
		goto print;
	}
	cli_run_gateway_path(exe, sizeof(exe));
	argv[argc++] = exe;
	argv[argc++] = "--config";
	argv[argc++] = state;
	argv[argc++] = "--admin";
	argv[argc++] = "127.0.0.1:0";
	argv[argc++] = "--ready-file";
	argv[argc++] = ready;
	if (cli_args_get(a, "--fixed-ports") == NULL)
		argv[argc++] = "--ephemeral-ports";
	if ((o = cli_args_get(a, "--well-known-cas")) != NULL && o->nvals > 0) {
		argv[argc++] = "--well-known-cas";
		argv[argc++] = o->vals[0];
	}
	if ((o = cli_args_get(a, "--resolve")) != NULL)
		for (i = 0; i < o->nvals && argc + 3 < 64; i++) {
			argv[argc++] = "--resolve";
			argv[argc++] = o->vals[i];
		}
	argv[argc] = NULL;
	unlink(ready);
	if ((logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		 0644)) < 0) {
		fprintf(stderr, "ERROR: %s: %s\n", log, strerror(errno));
		return CLI_EXIT_SERVICE;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		fprintf(stderr, "ERROR: fork: %s\n", strerror(errno));
		close(logfd);
		return CLI_EXIT_SERVICE;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		setsid();
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		execv(exe, (char *const *)(uintptr_t)argv);
		fprintf(stderr, "agw: %s: %s\n", exe, strerror(errno));
		_exit(127);
	}
	close(logfd);
	for (waited = 0; waited < CLI_RUN_WAIT_MS; waited += 10) {
		struct stat sb;

		if (stat(ready, &sb) == 0 && sb.st_size > 0)
			break;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "ERROR: agw-gateway exited before it "
			    "was ready; the end of %s:\n", log);
			cli_run_log_tail(log);
			return CLI_EXIT_SERVICE;
		}
		cli_run_nap();
	}
	if ((rj = jsonio_load_file(ready, err, sizeof(err))) == NULL) {
		fprintf(stderr, "ERROR: agw-gateway was not ready within %d s: "
		    "%s\n", CLI_RUN_WAIT_MS / 1000, err);
		kill(pid, SIGTERM);
		return CLI_EXIT_SERVICE;
	}
	json_object_set_new(rj, "pid", json_integer(pid));
	json_object_set_new(rj, "log", json_string(log));
	json_object_set_new(rj, "config", json_string(state));
	if (jsonio_write_atomic(runp, rj, JSON_INDENT(2), 0, err,
		sizeof(err)) != 0) {
		fprintf(stderr, "ERROR: %s\n", err);
		kill(pid, SIGTERM);
		goto done;
	}
print:
	/* what start prints is the listeners, as the ready file maps them */
	snprintf(err, sizeof(err), "the ready file has no listeners");
	if ((lsn = json_object_get(rj, "listeners")) == NULL)
		shown = NULL;
	else if (query != NULL)
		shown = cli_out_query(lsn, query, err, sizeof(err));
	else
		shown = json_incref(lsn);
	if (shown == NULL) {
		fprintf(stderr, "ERROR: %s\n", err);
		rc = CLI_EXIT_USAGE;
		goto done;
	}
	if (fmt != CLI_OUT_NONE && (out = cli_out_render(shown, fmt)) != NULL) {
		fputs(out, stdout);
		free(out);
	}
	rc = CLI_EXIT_OK;
done:
	json_decref(shown);
	json_decref(rj);
	json_decref(info);
	return rc;
}

int
cli_run_stop(const char *rg, const char *gw)
{
	char runp[4096], ready[4096];
	json_t *info;
	pid_t pid;
	int waited;

	cli_state_path(runp, sizeof(runp), rg, gw, ".run.json");
	cli_state_path(ready, sizeof(ready), rg, gw, ".ready");
	if ((info = cli_run_info(rg, gw)) == NULL) {
		unlink(runp);
		return CLI_EXIT_OK; /* az: stopping a stopped gateway is fine */
	}
	pid = (pid_t)json_integer_value(json_object_get(info, "pid"));
	json_decref(info);
	if (kill(pid, SIGTERM) != 0 && errno != ESRCH) {
		fprintf(stderr, "ERROR: kill %d: %s\n", (int)pid,
		    strerror(errno));
		return CLI_EXIT_SERVICE;
	}
	for (waited = 0; waited < CLI_RUN_WAIT_MS && cli_run_alive(pid);
	     waited += 10)
		cli_run_nap();
	if (cli_run_alive(pid)) {
		fprintf(stderr, "ERROR: agw-gateway (pid %d) did not stop "
		    "within %d s of SIGTERM\n", (int)pid,
		    CLI_RUN_WAIT_MS / 1000);
		return CLI_EXIT_SERVICE;
	}
	unlink(runp);
	unlink(ready);
	return CLI_EXIT_OK;
}

/* Print the errors of a refused reload: strings, or objects with
 * code/message/path. */
static void
cli_run_print_refusal(const json_t *resp, const char *raw)
{
	const json_t *errs = json_object_get(resp, "errors"), *e;
	size_t i;

	if (errs == NULL)
		errs = json_object_get(json_object_get(resp, "last_reload"),
		    "errors");

	if (!json_is_array(errs) || json_array_size(errs) == 0) {
		const json_t *m = json_object_get(resp, "error");

		cli_state_error("ApplicationGatewayReloadRefused",
		    json_is_string(m) ? json_string_value(m)
		    : raw != NULL ? raw : "", "");
		return;
	}
	json_array_foreach(errs, i, e) {
		const char *code, *msg, *path;

		if (json_is_string(e)) {
			cli_state_error("ApplicationGatewayReloadRefused",
			    json_string_value(e), "");
			continue;
		}
		code = json_string_value(json_object_get(e, "code"));
		msg = json_string_value(json_object_get(e, "message"));
		path = json_string_value(json_object_get(e, "path"));
		cli_state_error(code != NULL && code[0] != '\0' ? code
		    : "ApplicationGatewayReloadRefused", msg != NULL ? msg : "",
		    path);
	}
}

/* Whether arr has listener l (a /status "listeners" entry): the same
 * socket (address and port) or, with same, the same entry. */
static int
cli_run_has_listener(json_t *arr, json_t *l, int same)
{
	size_t i;
	json_t *x;

	json_array_foreach (arr, i, x)
		if (same ? json_equal(x, l)
			 : json_equal(json_object_get(x, "address"),
			       json_object_get(l, "address")) &&
			json_equal(json_object_get(x, "port"),
			    json_object_get(l, "port")))
			return 1;
	return 0;
}

/* Print each listener of a that b does not have, after what. */
static void
cli_run_print_new_listeners(json_t *a, json_t *b, int same, const char *what)
{
	json_t *l;
	size_t i;

	json_array_foreach (a, i, l)
		if (!cli_run_has_listener(b, l, same))
			fprintf(stderr, "%s %s:%lld (frontendPort %s, port "
			    "%lld, %s)\n",
			    what,
			    json_string_value(json_object_get(l, "address")),
			    (long long)json_integer_value(
				json_object_get(l, "port")),
			    json_string_value(
				json_object_get(l, "frontendPort")),
			    (long long)json_integer_value(
				json_object_get(l, "configured")),
			    json_string_value(json_object_get(l, "protocol")));
}

/* A reload changed the frontend ports: say what listens where now, and
 * keep <gw>.run.json's listeners (what `agw start` shows) true. */
static void
cli_run_listeners_changed(const char *rg, const char *gw, json_t *info,
    json_t *now)
{
	json_t *before = json_object_get(info, "listeners");
	char path[4096], err[512];

	/* new or changed (renamed, Http <-> Https) sockets, then gone ones */
	cli_run_print_new_listeners(now, before, 1, "listening on");
	cli_run_print_new_listeners(before, now, 0, "no longer listening on");
	json_object_set(info, "listeners", now);
	cli_state_path(path, sizeof(path), rg, gw, ".run.json");
	if (jsonio_write_atomic(path, info, JSON_INDENT(2), 0, err,
		sizeof(err)) != 0)
		fprintf(stderr, "WARNING: %s\n", err);
}

int
cli_run_reload(const char *rg, const char *gw)
{
	const char *admin;
	char err[512], *body = NULL, *sbody = NULL;
	json_t *info, *resp = NULL, *st = NULL, *gen, *last, *lsn;
	int status, rc = -1;

	if ((info = cli_run_info(rg, gw)) == NULL)
		return 0;
	admin = json_string_value(json_object_get(info, "admin"));
	if (admin == NULL) {
		fprintf(stderr, "ERROR: %s/%s.run.json has no admin address\n",
		    rg, gw);
		goto done;
	}
	if ((status = cli_run_http(admin, "POST", "/reload", &body, err,
		 sizeof(err))) < 0) {
		fprintf(stderr, "ERROR: the change was saved, but the running "
		    "gateway could not be asked to reload: %s\n", err);
		goto done;
	}
	resp = json_loads(body, 0, NULL);
	/* the answer is GET /status's, with last_reload {ok, errors} */
	last = json_object_get(resp, "last_reload");
	if (status / 100 != 2 || !(json_is_true(json_object_get(resp, "ok")) ||
	    json_is_true(json_object_get(last, "ok")))) {
		fprintf(stderr, "ERROR: the change was saved, but the running "
		    "gateway refused it (HTTP %d):\n", status);
		cli_run_print_refusal(resp, body);
		goto done;
	}
	gen = json_object_get(resp, "generation");
	if (!json_is_integer(gen) && cli_run_http(admin, "GET", "/status",
		&sbody, err, sizeof(err)) / 100 == 2) {
		st = json_loads(sbody, 0, NULL);
		gen = json_object_get(st, "generation");
	}
	if (json_is_integer(gen))
		fprintf(stderr, "gateway reloaded (generation %lld)\n",
		    (long long)json_integer_value(gen));
	else
		fprintf(stderr, "gateway reloaded\n");
	lsn = json_object_get(resp, "listeners");
	if (json_is_array(lsn) &&
	    !json_equal(lsn, json_object_get(info, "listeners")))
		cli_run_listeners_changed(rg, gw, info, lsn);
	rc = 0;
done:
	free(body);
	free(sbody);
	json_decref(resp);
	json_decref(st);
	json_decref(info);
	return rc;
}
