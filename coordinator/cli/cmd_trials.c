/* hpsearch trials: a study's trials, as SQL over the trials table. */
#include "cli.h"
#include "objectives.h"
#include "output.h"
#include "query.h"

#include "err.h"

#include <getopt.h>
#include <string.h>

static int cmd_trials(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_trials = {
    .name = "trials",
    .usage = "trials [--format table|csv|json] [--state S[,S...]] [--sort number|value]\n"
             "               [--limit N] [--db PATH] STUDY",
    .summary = "list a study's trials: number, state, value, params, error, timing",
    .help = "Columns: number, state, value (the objective), params (JSON), error,\n"
            "started and ended (UTC, YYYY-MM-DD HH:MM:SS, of the latest attempt),\n"
            "duration_s, attempts, diagnosis (the learning-curve verdict) and\n"
            "pruned_step (where early stopping stopped a pruned trial; its error says why).\n"
            "With several objectives, one column per objective after these, named by its\n"
            "metric, holding a completed trial's value of it (value is the first's).\n"
            "csv and json add one column per parameter of the study's space,\n"
            "param_NAME (e.g. param_lr), after these; params stays the whole object.\n"
            "STUDY is the study's name or id.\n"
            "\n"
            "Options:\n"
            "  --state S      only trials in these states (pending, running, completed,\n"
            "                 failed, pruned, cancelled), comma-separated\n"
            "  --sort value   best value first (by the study's goal); default number\n"
            "  --limit N      at most N trials\n"
            "  --db PATH      read the database file directly (read-only) instead of\n"
            "                 asking the coordinator\n"
            "\n"
            "Example:\n"
            "  hpsearch trials --sort value --limit 5 mnist-lr\n"
            "  hpsearch trials --format csv --state failed 3 > failed.csv\n",
    .exec = cmd_trials,
};

static const char *const states[] = {"pending", "running",  "completed",
                                     "failed",  "pruned",   "cancelled"};

/* appends "AND state IN ('a','b')" for a comma list; -1 on an unknown state */
static int state_filter(hp_buf_t *sql, const char *list, char *bad, size_t badlen)
{
    hp_buf_puts(sql, " AND t.state IN (");
    const char *p = list;
    int first = 1;
    while (*p) {
        size_t n = strcspn(p, ",");
        size_t k = 0;
        for (; k < sizeof states / sizeof states[0]; k++)
            if (strlen(states[k]) == n && strncmp(states[k], p, n) == 0)
                break;
        if (k == sizeof states / sizeof states[0]) {
            snprintf(bad, badlen, "%.*s", (int)n, p);
            return -1;
        }
        hp_buf_printf(sql, "%s'%s'", first ? "" : ",", states[k]);
        first = 0;
        p += n;
        if (*p == ',')
            p++;
    }
    if (first) {
        snprintf(bad, badlen, "%s", list);
        return -1;
    }
    hp_buf_putc(sql, ')');
    return 0;
}

/* Appends ", json_extract(t.params, '$."lr"') AS "param_lr"" for every
 * parameter of the study's space, in the spec's order: csv and json get a
 * column per parameter next to the params object. The prefix keeps them
 * apart from the fixed columns (a parameter may be called value or state). */
static int param_columns(const hp_query_src_t *src, int64_t study, hp_buf_t *sql, char *err,
                         size_t errlen)
{
    char q[200];
    snprintf(q, sizeof q,
             "SELECT p.key FROM studies s, json_each(s.spec_json, '$.space') p WHERE s.id = %lld "
             "ORDER BY p.id",
             (long long)study);
    hp_table_t t;
    int rc = hp_query_run(src, q, 0, &t, NULL, err, errlen);
    hp_buf_t name = {0}, path = {0};
    for (size_t i = 0; rc == 0 && i < hp_table_rows(&t); i++) {
        hp_json_text(hp_table_cell(&t, i, 0), &name);
        hp_buf_reset(&path);
        hp_buf_printf(&path, "$.\"%s\"", name.data); /* names are identifiers (spec.md) */
        hp_buf_puts(sql, ", json_extract(t.params, ");
        hp_sql_quote(sql, path.data);
        hp_buf_printf(sql, ") AS \"param_%s\"", name.data);
    }
    hp_buf_fini(&name);
    hp_buf_fini(&path);
    hp_table_fini(&t);
    return rc;
}

static int cmd_trials(hp_cli_t *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"state", required_argument, NULL, 's'},
        {"sort", required_argument, NULL, 'o'},
        {"limit", required_argument, NULL, 'n'},
        {"db", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    hp_cli_format_t fmt = HP_FORMAT_TABLE;
    const char *state = NULL, *db = NULL;
    int by_value = 0;
    long long limit = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":f:s:o:n:d:", opts, NULL)) != -1) {
        switch (ch) {
        case 'f':
            if (hp_cli_format_opt(cli, &hp_cmd_trials, optarg, HP_FORMATS_ALL, &fmt))
                return HP_EXIT_USAGE;
            break;
        case 's': state = optarg; break;
        case 'o':
            if (strcmp(optarg, "value") == 0)
                by_value = 1;
            else if (strcmp(optarg, "number") != 0)
                return hp_cli_usage_error(cli, &hp_cmd_trials,
                                          "--sort: expected number or value (got '%s')", optarg);
            break;
        case 'n':
            if (hp_cli_parse_uint(cli, &hp_cmd_trials, "--limit", optarg, 1, 1000000000, &limit))
                return HP_EXIT_USAGE;
            break;
        case 'd': db = optarg; break;
        default: return hp_cli_bad_option(cli, &hp_cmd_trials, ch, argc, argv);
        }
    }
    if (optind >= argc)
        return hp_cli_usage_error(cli, &hp_cmd_trials, "missing STUDY (a study name or id)");
    if (optind + 1 < argc)
        return hp_cli_usage_error(cli, &hp_cmd_trials, "one STUDY at a time (got '%s' after it)",
                                  argv[optind + 1]);

    hp_buf_t sql = {0};
    char bad[128];
    if (state) {
        hp_buf_t f = {0};
        int bad_state = state_filter(&f, state, bad, sizeof bad) < 0;
        hp_buf_fini(&f);
        if (bad_state) {
            hp_buf_fini(&sql);
            return hp_cli_usage_error(cli, &hp_cmd_trials,
                                      "--state: unknown state '%s' (pending, running, completed, "
                                      "failed, pruned, cancelled)",
                                      bad);
        }
    }

    hp_query_src_t src = {.cli = cli, .db = db};
    hp_query_study_t st;
    char err[1024];
    if (hp_query_study(&src, argv[optind], &st, err, sizeof err) < 0) {
        hp_buf_fini(&sql);
        return hp_cli_fail(cli, &hp_cmd_trials, "%s", err);
    }
    hp_buf_puts(&sql,
                "SELECT t.number, t.state, t.value, t.params,"
                " coalesce(t.error, 'infeasible: ' || t.infeasible) AS error,"
                " strftime('%Y-%m-%d %H:%M:%S', t.started, 'unixepoch') AS started,"
                " strftime('%Y-%m-%d %H:%M:%S', t.ended, 'unixepoch') AS ended,"
                " round(t.ended - t.started, 3) AS duration_s, t.attempts, t.diagnosis,"
                " t.pruned_step");
    hp_cli_objectives_t obj; /* several: a column for each one's value */
    if (hp_cli_objectives(&src, &st, &obj, err, sizeof err) < 0) {
        hp_buf_fini(&sql);
        return hp_cli_fail(cli, &hp_cmd_trials, "%s", err);
    }
    if (obj.n > 1)
        hp_cli_objective_columns(&obj, "t", &sql);
    if (fmt != HP_FORMAT_TABLE && param_columns(&src, st.id, &sql, err, sizeof err) < 0) {
        hp_buf_fini(&sql);
        return hp_cli_fail(cli, &hp_cmd_trials, "%s", err);
    }
    hp_buf_printf(&sql, " FROM trials t WHERE t.study_id = %lld", (long long)st.id);
    if (state)
        state_filter(&sql, state, bad, sizeof bad);
    if (by_value)
        hp_buf_printf(&sql, " ORDER BY t.value IS NULL, t.value %s, t.number",
                      strcmp(st.goal, "maximize") == 0 ? "DESC" : "ASC");
    else
        hp_buf_puts(&sql, " ORDER BY t.number");
    if (limit)
        hp_buf_printf(&sql, " LIMIT %lld", limit);

    hp_table_t t;
    int truncated = 0;
    int rc = hp_query_run(&src, sql.data, 0, &t, &truncated, err, sizeof err);
    hp_buf_fini(&sql);
    if (rc < 0) {
        hp_table_fini(&t);
        return hp_cli_fail(cli, &hp_cmd_trials, "%s", err);
    }
    hp_table_set_raw(&t, 3);
    hp_table_set_max_width(&t, 3, 80);
    hp_table_set_max_width(&t, 4, 60);
    if (fmt == HP_FORMAT_TABLE && hp_table_rows(&t) == 0)
        fprintf(cli->out, "study '%s' has no %s%strials yet\n", st.name, state ? state : "",
                state ? " " : "");
    else
        hp_table_print(&t, fmt, cli->out);
    if (truncated)
        fprintf(cli->err,
                "hpsearch trials: output cut at the coordinator's row limit; use --limit or "
                "--db PATH\n");
    hp_table_fini(&t);
    return HP_EXIT_OK;
}
