/*
 * cli: the agw command line (az network application-gateway, locally).
 *
 * cli.c parses the command line and runs the verbs; the modules below are
 * split out so the unit tests can link them without main():
 *   cli_args.c  az-style arguments (--name value, --servers a b c)
 *   cli_state.c the state file under $AGW_HOME: load, ids, etags, validate
 *               with config_load_json, write atomically with a .bak
 *   cli_out.c   output: json, table, tsv, and the --query JMESPath subset
 *   cli_run.c   start/stop the gateway, POST /reload, GET /backendhealth
 *
 * Exit codes, as az: 0 done, 1 service error (refused), 2 usage error,
 * 3 resource not found.
 */
#ifndef AGW_CLI_H
#define AGW_CLI_H

#include <stddef.h>
#include <jansson.h>

#define CLI_EXIT_OK	   0
#define CLI_EXIT_SERVICE   1
#define CLI_EXIT_USAGE	   2
#define CLI_EXIT_NOT_FOUND 3

#define CLI_SUBSCRIPTION "00000000-0000-0000-0000-000000000000"

/* ------------------------------------------------------------ cli_args.c */

/* One "--option v1 v2 ..." of the command line (values borrowed from
 * argv). */
struct cli_opt {
	char *name; /* canonical long form: "--resource-group" */
	const char **vals;
	size_t nvals;
};

struct cli_args {
	const char **words; /* positionals before the first option */
	size_t nwords;
	struct cli_opt *opts;
	size_t nopts;
	int help;
};

/*
 * Split argv (without the program name) into leading words and options.
 * Short forms -g, -n, -o, -h and "--opt=value" are accepted. Returns 0, or
 * -1 with err set (a value before any option that is not a word, out of
 * memory). Free with cli_args_clear.
 */
int cli_args_parse(struct cli_args *a, int argc, char **argv, char *err,
    size_t errlen);
void cli_args_clear(struct cli_args *a);
/* The option of that long name, or NULL. */
const struct cli_opt *cli_args_get(const struct cli_args *a,
    const char *name);
/* Its single value; NULL when absent. *bad is set to 1 when it was given
 * with no value or with several. */
const char *cli_args_value(const struct cli_args *a, const char *name,
    int *bad);

/* ----------------------------------------------------------- cli_state.c */

/* The folder of the state: $AGW_HOME, default "./.agw". */
const char *cli_state_home(void);
/* "<home>/<rg>/<gw><suffix>" into buf; returns buf. */
const char *cli_state_path(char *buf, size_t len, const char *rg,
    const char *gw, const char *suffix);
/* The gateway's ARM id, and a sub-resource's ("coll" NULL: the gateway). */
void cli_state_id(char *buf, size_t len, const char *rg, const char *gw,
    const char *coll, const char *name);
/* A fresh etag W/"8-4-4-4-12" into buf (33+ bytes). */
void cli_state_etag(char *buf, size_t len);

/* Load a gateway's state. NULL when there is none (*missing = 1) or it does
 * not parse (err set). Caller decrefs. */
json_t *cli_state_load(const char *rg, const char *gw, int *missing,
    char *err, size_t errlen);

/*
 * Stamp ids, etags, types and provisioningState on the document and every
 * entry, validate it with config_load_json, and when it passes write it
 * atomically (previous file kept as .bak). Refusals are printed to stderr
 * in the service's style. Returns 0, or -1 (nothing written).
 */
int cli_state_save(json_t *doc, const char *rg, const char *gw);

/* Print one service error in az's style to stderr. */
void cli_state_error(const char *code, const char *message,
    const char *target);

/* IPv4 dotted literal? (address-pool --servers: ipAddress, else fqdn) */
int cli_state_is_ipv4(const char *s);

/* ------------------------------------------------------------- cli_out.c */

enum cli_format { CLI_OUT_JSON, CLI_OUT_TABLE, CLI_OUT_TSV, CLI_OUT_NONE };

/* "json", "jsonc", "table", "tsv", "none"; -1 when unknown. */
int cli_out_format_parse(const char *s);

/*
 * Evaluate the JMESPath subset on v: field paths (a.b.c), [] and [*]
 * projections, [N] indexes, [?x=='lit'] / [?x!=`lit`] / [?x] filters,
 * multiselect {k: expr, ...} and [expr, ...]. Returns a new reference
 * (json null when nothing matches), or NULL with err set on a syntax error.
 */
json_t *cli_out_query(const json_t *v, const char *expr, char *err,
    size_t errlen);

/* Render v in a format into a malloc'd string (caller frees); NULL on
 * allocation failure. */
char *cli_out_render(const json_t *v, enum cli_format fmt);

/* ------------------------------------------------------------- cli_run.c */

/*
 * One HTTP/1.1 request to a loopback admin address ("127.0.0.1:PORT").
 * Returns the status and the body (malloc'd, caller frees) in *body, or -1
 * with err set.
 */
int cli_run_http(const char *admin, const char *method, const char *path,
    char **body, char *err, size_t errlen);

/* Start agw-gateway on the state (see cli.c's start). Returns an exit
 * code; prints the run JSON on success. */
int cli_run_start(const char *rg, const char *gw, const struct cli_args *a,
    enum cli_format fmt, const char *query);
/* Stop the running gateway: SIGTERM and wait. Returns an exit code. */
int cli_run_stop(const char *rg, const char *gw);
/* The run JSON (pid, admin, listeners) of a live gateway, or NULL. */
json_t *cli_run_info(const char *rg, const char *gw);
/* After a saved change: POST /reload to a running gateway and report on
 * stderr. Returns 0 (not running, or reloaded) or -1 (refused). */
int cli_run_reload(const char *rg, const char *gw);

#endif
