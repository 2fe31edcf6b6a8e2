/* hpsearch logs: what a trial's program wrote (its stdout and stderr,
 * kept whole up to 1 MiB each per attempt), read with SQL through the
 * coordinator (QUERY) or straight from the database file. */
#include "cli.h"
#include "output.h"
#include "query.h"

#include "buf.h"
#include "err.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int cmd_logs(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_logs = {
    .name = "logs",
    .usage = "logs [--attempt N] [--stdout|--stderr] [--db PATH] STUDY NUMBER",
    .summary = "show what a trial's program wrote: its stdout and stderr",
    .help = "Prints the stdout and then the stderr of trial NUMBER's latest attempt\n"
            "(or --attempt N), each under a header line\n"
            "  ==> trial 3, attempt 2 (failed): stdout, 1234 bytes <==\n"
            "Each stream is kept whole up to 1 MiB per attempt; of a longer one the\n"
            "first and the last half MiB are kept, with a line\n"
            "  [... 1234567 bytes cut ...]\n"
            "between them. Bytes that were not UTF-8 show as U+FFFD.\n"
            "Only external programs (trial.command) have output; attempts that were\n"
            "lost (their worker vanished) have none.\n"
            "\n"
            "Options:\n"
            "  --attempt N    this attempt (1, 2, ...) instead of the latest\n"
            "  --stdout       only stdout, as written, without the header\n"
            "  --stderr       only stderr, as written, without the header\n"
            "  --db PATH      read the database file directly (read-only)\n"
            "\n"
            "Exit 0 when the output was shown (even if empty); 1 when there is none\n"
            "to show (a built-in trial, a trial that has not run or still runs, a\n"
            "lost attempt) or the study, trial or attempt does not exist.\n"
            "\n"
            "Example:\n"
            "  hpsearch logs toy-command 3\n"
            "  hpsearch logs --stderr --attempt 1 toy-command 3 | less\n",
    .exec = cmd_logs,
};

/* Bytes of a stream fetched per query: as hex, twice this, well inside a
 * QUERY_REPLY cell's bound (proto/codec.h). */
#define CHUNK (256 * 1024)

enum { BOTH = 0, ONLY_STDOUT = 1, ONLY_STDERR = 2 };

/* runs sql (one row expected) into *t; 0, or the exit code after printing
 * the error */
static int one_query(const hp_cli_t *cli, const hp_query_src_t *src, const char *sql,
                     hp_table_t *t)
{
    char err[1024];
    if (hp_query_run(src, sql, 0, t, NULL, err, sizeof err) < 0) {
        hp_table_fini(t);
        return hp_cli_fail(cli, &hp_cmd_logs, "%s", err);
    }
    return 0;
}

static long long cell_int(const hp_table_t *t, size_t row, size_t col)
{
    const char *v = hp_table_cell(t, row, col);
    return hp_json_is_null(v) ? -1 : strtoll(v, NULL, 10);
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                               : -1;
}

/* writes the column `col` (stdout or stderr) of attempt row id, len bytes,
 * to cli->out in chunks; 0 or the exit code */
static int print_stream(const hp_cli_t *cli, const hp_query_src_t *src, long long id,
                        const char *col, long long len, int *ends_nl)
{
    *ends_nl = 1;
    for (long long off = 0; off < len; off += CHUNK) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT hex(substr(CAST(%s AS BLOB), %lld, %d)) FROM trial_attempts WHERE id = "
                 "%lld",
                 col, off + 1, CHUNK, id);
        hp_table_t t;
        int rc = one_query(cli, src, sql, &t);
        if (rc)
            return rc;
        hp_buf_t hex = {0};
        hp_json_text(hp_table_rows(&t) ? hp_table_cell(&t, 0, 0) : NULL, &hex);
        hp_table_fini(&t);
        size_t n = hex.len / 2;
        char *bytes = malloc(n + 1);
        HP_ASSERT(bytes != NULL);
        for (size_t i = 0; i < n; i++) {
            int hi = hexval(hex.data[2 * i]), lo = hexval(hex.data[2 * i + 1]);
            bytes[i] = (char)(hi < 0 || lo < 0 ? '?' : hi * 16 + lo);
        }
        hp_buf_fini(&hex);
        if (n == 0) { /* the row changed under us: stop rather than loop */
            free(bytes);
            break;
        }
        fwrite(bytes, 1, n, cli->out);
        *ends_nl = bytes[n - 1] == '\n';
        free(bytes);
    }
    return 0;
}

/* the trial (id, state, attempts) and what its study runs; 0 or the exit
 * code after saying why there is nothing to show */
static int find_trial(const hp_cli_t *cli, const hp_query_src_t *src, const hp_query_study_t *st,
                      long long number, long long *trial_id, long long *attempts)
{
    char sql[600];
    snprintf(sql, sizeof sql,
             "SELECT t.id, t.state, t.attempts, json_type(s.spec_json, '$.trial.command'),"
             " json_extract(s.spec_json, '$.trial.model'),"
             " json_extract(s.spec_json, '$.trial.function')"
             " FROM trials t JOIN studies s ON s.id = t.study_id"
             " WHERE t.study_id = %lld AND t.number = %lld",
             (long long)st->id, number);
    hp_table_t t;
    int rc = one_query(cli, src, sql, &t);
    if (rc)
        return rc;
    if (hp_table_rows(&t) == 0) {
        hp_table_fini(&t);
        snprintf(sql, sizeof sql,
                 "SELECT count(*), min(number), max(number) FROM trials WHERE study_id = %lld",
                 (long long)st->id);
        if ((rc = one_query(cli, src, sql, &t)))
            return rc;
        long long n = cell_int(&t, 0, 0), lo = cell_int(&t, 0, 1), hi = cell_int(&t, 0, 2);
        hp_table_fini(&t);
        if (n <= 0)
            return hp_cli_fail(cli, &hp_cmd_logs, "study '%s' has no trials yet", st->name);
        return hp_cli_fail(cli, &hp_cmd_logs, "study '%s' has no trial %lld (its trials are %lld-%lld)",
                           st->name, number, lo, hi);
    }
    hp_buf_t state = {0}, kind = {0};
    hp_json_text(hp_table_cell(&t, 0, 1), &state);
    *trial_id = cell_int(&t, 0, 0);
    *attempts = cell_int(&t, 0, 2);
    rc = 0;
    if (hp_json_is_null(hp_table_cell(&t, 0, 3))) {
        int model = !hp_json_is_null(hp_table_cell(&t, 0, 4));
        hp_json_text(hp_table_cell(&t, 0, model ? 4 : 5), &kind);
        rc = hp_cli_fail(cli, &hp_cmd_logs,
                         "trial %lld of study '%s' ran the built-in %s %s (trial.%s): it has no "
                         "program output; its metrics are in `hpsearch sql` (the metrics table)",
                         number, st->name, model ? "model" : "benchmark function", kind.data,
                         model ? "model" : "function");
    } else if (*attempts <= 0) {
        rc = hp_cli_fail(cli, &hp_cmd_logs, "trial %lld of study '%s' has not run yet (it is %s)",
                         number, st->name, state.data);
    }
    hp_buf_fini(&state);
    hp_buf_fini(&kind);
    hp_table_fini(&t);
    return rc;
}

static int cmd_logs(hp_cli_t *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"attempt", required_argument, NULL, 'a'},
        {"stdout", no_argument, NULL, 'o'},
        {"stderr", no_argument, NULL, 'e'},
        {"db", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL;
    long long want = 0, number;
    int only = BOTH, ch;
    while ((ch = getopt_long(argc, argv, ":a:oed:", opts, NULL)) != -1) {
        switch (ch) {
        case 'a':
            if (hp_cli_parse_uint(cli, &hp_cmd_logs, "--attempt", optarg, 1, 1000000, &want))
                return HP_EXIT_USAGE;
            break;
        case 'o':
        case 'e':
            if (only != BOTH && only != (ch == 'o' ? ONLY_STDOUT : ONLY_STDERR))
                return hp_cli_usage_error(cli, &hp_cmd_logs,
                                          "--stdout and --stderr: one or the other (neither "
                                          "shows both)");
            only = ch == 'o' ? ONLY_STDOUT : ONLY_STDERR;
            break;
        case 'd': db = optarg; break;
        default: return hp_cli_bad_option(cli, &hp_cmd_logs, ch, argc, argv);
        }
    }
    if (optind >= argc)
        return hp_cli_usage_error(cli, &hp_cmd_logs, "missing STUDY (a study name or id)");
    if (optind + 1 >= argc)
        return hp_cli_usage_error(cli, &hp_cmd_logs,
                                  "missing NUMBER (the trial's number, as `hpsearch trials` "
                                  "lists it)");
    if (optind + 2 < argc)
        return hp_cli_usage_error(cli, &hp_cmd_logs, "one trial at a time (got '%s' after it)",
                                  argv[optind + 2]);
    if (hp_cli_parse_uint(cli, &hp_cmd_logs, "NUMBER", argv[optind + 1], 0, 4000000000LL,
                          &number))
        return HP_EXIT_USAGE;

    hp_query_src_t src = {.cli = cli, .db = db};
    hp_query_study_t st;
    char err[1024];
    if (hp_query_study(&src, argv[optind], &st, err, sizeof err) < 0)
        return hp_cli_fail(cli, &hp_cmd_logs, "%s", err);
    long long trial_id = 0, attempts = 0;
    int rc = find_trial(cli, &src, &st, number, &trial_id, &attempts);
    if (rc)
        return rc;
    long long attempt = want ? want : attempts;
    if (attempt > attempts)
        return hp_cli_fail(cli, &hp_cmd_logs,
                           "trial %lld of study '%s' has %lld attempt%s (got --attempt %lld)",
                           number, st.name, attempts, attempts == 1 ? "" : "s", attempt);

    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT id, outcome, error, stdout IS NOT NULL, length(CAST(stdout AS BLOB)),"
             " length(CAST(stderr AS BLOB)) FROM trial_attempts"
             " WHERE trial_id = %lld AND attempt = %lld",
             trial_id, attempt);
    hp_table_t t;
    if ((rc = one_query(cli, &src, sql, &t)))
        return rc;
    if (hp_table_rows(&t) == 0) {
        hp_table_fini(&t);
        return hp_cli_fail(cli, &hp_cmd_logs, "trial %lld of study '%s' has no attempt %lld",
                           number, st.name, attempt);
    }
    hp_buf_t outcome = {0}, why = {0};
    hp_json_text(hp_table_cell(&t, 0, 1), &outcome);
    hp_json_text(hp_table_cell(&t, 0, 2), &why);
    long long id = cell_int(&t, 0, 0), has = cell_int(&t, 0, 3);
    long long out_len = cell_int(&t, 0, 4), err_len = cell_int(&t, 0, 5);
    hp_table_fini(&t);
    rc = 0;
    if (strcmp(outcome.data, "running") == 0)
        rc = hp_cli_fail(cli, &hp_cmd_logs,
                         "attempt %lld of trial %lld is still running; its output is stored when "
                         "it ends",
                         attempt, number);
    else if (has != 1 && strcmp(outcome.data, "lost") == 0)
        rc = hp_cli_fail(cli, &hp_cmd_logs,
                         "attempt %lld of trial %lld was lost (%s): its output never reached "
                         "the coordinator",
                         attempt, number, *why.data ? why.data : "its worker vanished");
    else if (has != 1 && strcmp(outcome.data, "interrupted") == 0)
        rc = hp_cli_fail(cli, &hp_cmd_logs,
                         "attempt %lld of trial %lld was interrupted before its output "
                         "reached the coordinator (%s)",
                         attempt, number, *why.data ? why.data : "its worker was stopped");
    else if (has != 1)
        rc = hp_cli_fail(cli, &hp_cmd_logs,
                         "attempt %lld of trial %lld (%s) has no stored output", attempt,
                         number, outcome.data);
    for (int s = 0; rc == 0 && s < 2; s++) {
        if ((s == 0 && only == ONLY_STDERR) || (s == 1 && only == ONLY_STDOUT))
            continue;
        long long len = s == 0 ? out_len : err_len;
        if (len < 0)
            len = 0;
        if (only == BOTH)
            fprintf(cli->out, "%s==> trial %lld, attempt %lld (%s): %s, %lld byte%s <==\n",
                    s == 1 && only == BOTH ? "\n" : "", number, attempt, outcome.data,
                    s == 0 ? "stdout" : "stderr", len, len == 1 ? "" : "s");
        int nl;
        rc = print_stream(cli, &src, id, s == 0 ? "stdout" : "stderr", len, &nl);
        if (rc == 0 && only == BOTH && !nl)
            fputc('\n', cli->out); /* the next header on its own line */
    }
    hp_buf_fini(&outcome);
    hp_buf_fini(&why);
    return rc;
}
