/* hpsearch sql: read-only SQL over the study database. */
#include "cli.h"
#include "output.h"
#include "query.h"

#include "buf.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static int cmd_sql(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_sql = {
    .name = "sql",
    .usage = "sql [--format table|csv|json] [--db PATH] [--max-rows N] QUERY",
    .summary = "run read-only SQL over studies, trials, metrics, workers, events",
    .help = "QUERY is one or more SQL statements (`-` reads them from standard\n"
            "input); only statements that read are run, anything that writes is\n"
            "refused. Without --db the coordinator runs the query; with --db the\n"
            "database file is opened read-only here (no daemon needed). The\n"
            "schema is in docs/sql.md. Values print as stored; null is empty in\n"
            "table and csv output, null in json.\n"
            "\n"
            "Options:\n"
            "  --db PATH     read this database file directly\n"
            "  --max-rows N  stop after N rows (a note on stderr says so)\n"
            "\n"
            "Example:\n"
            "  hpsearch sql \"SELECT number, value, json_extract(params, '$.lr') AS lr\n"
            "                FROM trials WHERE state = 'completed' ORDER BY value LIMIT 5\"\n"
            "  hpsearch sql --db hpsearch.db --format csv \"SELECT * FROM metrics\"\n",
    .exec = cmd_sql,
};

static int read_stdin(hp_buf_t *b)
{
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        hp_buf_append(b, chunk, n);
    hp_buf_puts(b, "");
    return ferror(stdin) ? -1 : 0;
}

static int cmd_sql(hp_cli_t *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"db", required_argument, NULL, 'd'},
        {"max-rows", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0},
    };
    hp_cli_format_t fmt = HP_FORMAT_TABLE;
    const char *db = NULL;
    long long max_rows = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":f:d:m:", opts, NULL)) != -1) {
        switch (ch) {
        case 'f':
            if (hp_cli_format_opt(cli, &hp_cmd_sql, optarg, HP_FORMATS_ALL, &fmt))
                return HP_EXIT_USAGE;
            break;
        case 'd': db = optarg; break;
        case 'm':
            if (hp_cli_parse_uint(cli, &hp_cmd_sql, "--max-rows", optarg, 1, 4000000000LL,
                                  &max_rows))
                return HP_EXIT_USAGE;
            break;
        default: return hp_cli_bad_option(cli, &hp_cmd_sql, ch, argc, argv);
        }
    }
    if (optind >= argc)
        return hp_cli_usage_error(cli, &hp_cmd_sql, "missing QUERY (e.g. \"SELECT * FROM studies\")");
    if (optind + 1 < argc)
        return hp_cli_usage_error(cli, &hp_cmd_sql,
                                  "one QUERY argument (quote it; got '%s' after it)",
                                  argv[optind + 1]);
    hp_buf_t text = {0};
    const char *sql = argv[optind];
    if (strcmp(sql, "-") == 0) {
        if (read_stdin(&text) < 0) {
            hp_buf_fini(&text);
            return hp_cli_fail(cli, &hp_cmd_sql, "cannot read the query from standard input");
        }
        sql = text.data;
    }
    hp_query_src_t src = {.cli = cli, .db = db};
    hp_table_t t;
    int truncated = 0;
    char err[1024];
    int rc = hp_query_run(&src, sql, (uint32_t)max_rows, &t, &truncated, err, sizeof err);
    hp_buf_fini(&text);
    if (rc < 0) {
        hp_table_fini(&t);
        return hp_cli_fail(cli, &hp_cmd_sql, "%s", err);
    }
    hp_table_print(&t, fmt, cli->out);
    if (truncated)
        fprintf(cli->err, "hpsearch sql: output cut after %zu rows (%s)\n", hp_table_rows(&t),
                max_rows ? "--max-rows" : "the coordinator's query-max-rows; use --db PATH for all");
    hp_table_fini(&t);
    return HP_EXIT_OK;
}
