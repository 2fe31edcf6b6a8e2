/*
 * cli.h — the hpsearch command line: one descriptor per verb (tmux cmd-*.c
 * style) and the helpers the verbs share.
 *
 * A verb lives in its own file cmd_<name>.c and exports
 *
 *     const hp_cmd_t hp_cmd_validate = {
 *         .name = "validate",
 *         .usage = "validate [--format text|json] SPEC",
 *         .summary = "check a study spec and print every problem",
 *         .help = "...",          // extra lines for --help (may be NULL)
 *         .exec = cmd_validate,
 *     };
 *
 * and is listed once in commands.c. main.c handles the global options
 * (--help, --version, --coordinator URL or HPSEARCH_COORDINATOR) and then
 * calls exec with argv[0] = the verb name, so verbs parse their own options
 * with getopt_long.
 *
 * Exit codes: HP_EXIT_OK (0) success, HP_EXIT_FAIL (1) the operation failed
 * (an invalid spec, an unreachable coordinator...), HP_EXIT_USAGE (2) bad
 * command line.
 */
#ifndef HP_CLI_H
#define HP_CLI_H

#include <stdio.h>

#define HP_EXIT_OK 0
#define HP_EXIT_FAIL 1
#define HP_EXIT_USAGE 2

typedef enum hp_cli_format {
    HP_FORMAT_TABLE = 0, /* human-readable (the default) */
    HP_FORMAT_CSV = 1,
    HP_FORMAT_JSON = 2,
} hp_cli_format_t;

/* What every verb gets: global options, resolved once by main. */
typedef struct hp_cli {
    const char *prog;        /* "hpsearch" */
    const char *coordinator; /* --coordinator, else $HPSEARCH_COORDINATOR, else NULL */
    const char *token_file;  /* --token-file, else $HPSEARCH_TOKEN_FILE, else NULL */
    const char *tls_ca;      /* --tls-ca/--tls-cert/--tls-key for tls+tcp://, else NULL */
    const char *tls_cert;
    const char *tls_key;
    int timeout_ms;          /* reply timeout for control requests; 0 = default */
    FILE *out;               /* stdout: results */
    FILE *err;               /* stderr: errors and progress */
} hp_cli_t;

typedef struct hp_cmd {
    const char *name;
    const char *usage;   /* after "hpsearch ", e.g. "validate SPEC" */
    const char *summary; /* one line for `hpsearch --help` */
    const char *help;    /* more lines for `hpsearch VERB --help`, or NULL */
    /* exec runs the verb; argv[0] is the verb name. Returns an exit code. */
    int (*exec)(hp_cli_t *cli, int argc, char **argv);
} hp_cmd_t;

/* The registry (commands.c): every verb, NULL-terminated. */
extern const hp_cmd_t *const hp_cli_commands[];

/* The verbs, one per cmd_<name>.c. */
extern const hp_cmd_t hp_cmd_validate;
extern const hp_cmd_t hp_cmd_run;
extern const hp_cmd_t hp_cmd_submit;
extern const hp_cmd_t hp_cmd_status;
extern const hp_cmd_t hp_cmd_trials;
extern const hp_cmd_t hp_cmd_best;
extern const hp_cmd_t hp_cmd_wait;
extern const hp_cmd_t hp_cmd_cancel;
extern const hp_cmd_t hp_cmd_resume;
extern const hp_cmd_t hp_cmd_workers;
extern const hp_cmd_t hp_cmd_sql;
extern const hp_cmd_t hp_cmd_report;
extern const hp_cmd_t hp_cmd_importance;
extern const hp_cmd_t hp_cmd_check;
extern const hp_cmd_t hp_cmd_logs;
extern const hp_cmd_t hp_cmd_enqueue;
extern const hp_cmd_t hp_cmd_ask;
extern const hp_cmd_t hp_cmd_tell;
extern const hp_cmd_t hp_cmd_autopilot;
extern const hp_cmd_t hp_cmd_dashboard;
extern const hp_cmd_t hp_cmd_certs;
extern const hp_cmd_t hp_cmd_examples;

/* hp_cli_find returns the verb called name, or NULL. */
const hp_cmd_t *hp_cli_find(const char *name);

/* hp_cli_help prints a verb's usage, summary and help to f. */
void hp_cli_help(const hp_cli_t *cli, const hp_cmd_t *cmd, FILE *f);

/* hp_cli_usage_error prints "hpsearch VERB: MESSAGE" and the verb's usage
 * line to cli->err and returns HP_EXIT_USAGE. */
int hp_cli_usage_error(const hp_cli_t *cli, const hp_cmd_t *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* hp_cli_fail prints "hpsearch VERB: MESSAGE" to cli->err and returns
 * HP_EXIT_FAIL. */
int hp_cli_fail(const hp_cli_t *cli, const hp_cmd_t *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* hp_cli_parse_format maps "table|text|csv|json" to *out; -1 if unknown.
 * `allowed` is a bitmask of (1 << HP_FORMAT_*) the verb supports. */
int hp_cli_parse_format(const char *s, unsigned allowed, hp_cli_format_t *out);

/* hp_cli_fail_lines prints a multi-line message as "hpsearch VERB: LINE1"
 * and the following lines as they are, to cli->err; returns HP_EXIT_FAIL. */
int hp_cli_fail_lines(const hp_cli_t *cli, const hp_cmd_t *cmd, const char *msg);

/* hp_cli_format_opt parses a --format argument for cmd (allowed as in
 * hp_cli_parse_format); on failure prints a usage error and returns
 * HP_EXIT_USAGE, else 0. */
int hp_cli_format_opt(const hp_cli_t *cli, const hp_cmd_t *cmd, const char *arg,
                      unsigned allowed, hp_cli_format_t *out);

#define HP_FORMATS_ALL (1u << HP_FORMAT_TABLE | 1u << HP_FORMAT_CSV | 1u << HP_FORMAT_JSON)

/* hp_cli_parse_format_only parses the options of a verb whose only option
 * is --format (allowed as in hp_cli_parse_format) into *fmt, leaving
 * optind at the first operand. Returns 0, or the exit code after printing
 * the usage error. */
int hp_cli_parse_format_only(const hp_cli_t *cli, const hp_cmd_t *cmd, int argc, char **argv,
                             unsigned allowed, hp_cli_format_t *fmt);
/* hp_cli_parse_format_db is hp_cli_parse_format_only for a verb that also
 * reads the database file itself with --db PATH (*db, NULL without it). */
int hp_cli_parse_format_db(const hp_cli_t *cli, const hp_cmd_t *cmd, int argc, char **argv,
                           unsigned allowed, hp_cli_format_t *fmt, const char **db);

struct hp_spec;
struct hp_diag;
/* hp_cli_print_warnings prints a spec's warnings (hp_spec_t.warnings) to
 * cli->err, one per line: "FILE:LINE: PATH: warning: MESSAGE". */
void hp_cli_print_warnings(const hp_cli_t *cli, const struct hp_diag *w);

/* hp_cli_load_spec takes the verb's one positional argument (after
 * getopt: argv[optind]) as a spec file and loads it into spec. On a usage
 * problem or an invalid spec it prints every error (one per line) and a
 * last line "hpsearch VERB: FILE is not a valid study spec (N problems)"
 * followed by `consequence` if not NULL, and returns the exit code
 * (spec left empty); on success prints the spec's warnings
 * (hp_cli_print_warnings) and returns 0, and *path names the file. */
int hp_cli_load_spec(const hp_cli_t *cli, const hp_cmd_t *cmd, int argc, char **argv,
                     int optind_, struct hp_spec *spec, const char **path,
                     const char *consequence);

/* hp_cli_bad_option reports what getopt_long returned ch ('?' unknown
 * option, ':' missing value — use an optstring starting "+:") as a usage
 * error; returns HP_EXIT_USAGE. */
int hp_cli_bad_option(const hp_cli_t *cli, const hp_cmd_t *cmd, int ch, int argc, char **argv);

/* hp_cli_parse_uint parses a whole number in [lo, hi] for option `name`;
 * on failure prints a usage error and returns HP_EXIT_USAGE, else 0. */
int hp_cli_parse_uint(const hp_cli_t *cli, const hp_cmd_t *cmd, const char *name,
                      const char *arg, long long lo, long long hi, long long *out);

/* hp_cli_parse_seconds parses a duration in seconds (a number >= 0, e.g.
 * 1.5) for option `name`; usage error as above. */
int hp_cli_parse_seconds(const hp_cli_t *cli, const hp_cmd_t *cmd, const char *name,
                         const char *arg, double *out);

/* hp_cli_getopt_reset prepares getopt_long for a verb's own options. */
void hp_cli_getopt_reset(void);

#endif
