/* hpsearch best: a study's best completed trial, or with several
 * objectives its Pareto front. */
#include "cli.h"
#include "objectives.h"
#include "output.h"
#include "query.h"

#include "buf.h"
#include "err.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* Why no trial is the best although some completed: they all break the
 * study's constraints. "" when none does. */
static const char *infeasible_note(hp_query_src_t *src, long long study)
{
    static char note[160];
    note[0] = '\0';
    char sql[200], err[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM trials WHERE study_id = %lld AND state = 'completed' AND "
             "infeasible IS NOT NULL",
             study);
    hp_table_t t;
    if (hp_query_run(src, sql, 0, &t, NULL, err, sizeof err) == 0 && hp_table_rows(&t) == 1 &&
        strcmp(hp_table_cell(&t, 0, 0), "0") != 0)
        snprintf(note, sizeof note, "; %s completed trials break its constraints (trials.infeasible)",
                 hp_table_cell(&t, 0, 0));
    hp_table_fini(&t);
    return note;
}

static int cmd_best(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_best = {
    .name = "best",
    .usage = "best [--format table|csv|json] [--db PATH] STUDY",
    .summary = "show a study's best completed trial (several objectives: its Pareto front)",
    .help = "The best trial is the completed trial with the lowest (minimize) or\n"
            "highest (maximize) objective value; ties go to the lower number. With\n"
            "constraints in the spec, only feasible trials count.\n"
            "With several objectives there is no one best: it lists the Pareto front,\n"
            "every completed feasible trial that no other beats on every objective\n"
            "(at least as good on all, better on one), ordered by the first objective.\n"
            "Exits 1 when no trial has completed yet (or none is feasible).\n"
            "\n"
            "Options:\n"
            "  --format json  {\"study\":...,\"study_id\":N,\"metric\":...,\"goal\":...,\n"
            "                  \"number\":N,\"value\":V,\"params\":{...}}; several objectives:\n"
            "                  {\"study\":...,\"study_id\":N,\"objectives\":[{\"metric\":...,\n"
            "                  \"goal\":...}],\"front\":[{\"number\":N,\"values\":{METRIC:V},\n"
            "                  \"params\":{...}}]}\n"
            "  --db PATH      read the database file directly (read-only)\n"
            "\n"
            "Example:\n"
            "  hpsearch best mnist-lr\n",
    .exec = cmd_best,
};

/* The Pareto front of study st with several objectives o. */
static int best_front(hp_cli_t *cli, hp_query_src_t *src, const hp_query_study_t *st,
                      const hp_cli_objectives_t *o, hp_cli_format_t fmt)
{
    hp_buf_t sql = {0};
    hp_buf_puts(&sql, "SELECT t.number");
    hp_cli_objective_columns(o, "t", &sql);
    hp_buf_printf(&sql,
                  ", t.params FROM trials t WHERE t.study_id = %lld AND t.state = 'completed' "
                  "AND t.infeasible IS NULL AND t.objectives IS NOT NULL ORDER BY 2 %s, t.number",
                  (long long)st->id, o->maximize[0] ? "DESC" : "ASC");
    hp_table_t t;
    char err[1024];
    int rc = hp_query_run(src, sql.data, 0, &t, NULL, err, sizeof err);
    hp_buf_fini(&sql);
    if (rc < 0) {
        hp_table_fini(&t);
        return hp_cli_fail(cli, &hp_cmd_best, "%s", err);
    }
    size_t n = hp_table_rows(&t), m = o->n;
    if (n == 0) {
        hp_table_fini(&t);
        return hp_cli_fail(cli, &hp_cmd_best, "study '%s' has no completed trial yet (it is %s)%s",
                           st->name, st->state, infeasible_note(src, st->id));
    }
    unsigned char *on = malloc(n);
    long k = on ? hp_cli_pareto_rows(o, &t, 1, on) : HP_ENOMEM;
    if (k < 0) {
        free(on);
        hp_table_fini(&t);
        return hp_cli_fail(cli, &hp_cmd_best, "out of memory");
    }
    const char *names[2 + HP_SPEC_MAX_OBJECTIVES];
    names[0] = "number";
    for (size_t j = 0; j < m; j++)
        names[1 + j] = o->metric[j];
    names[1 + m] = "params";
    hp_table_t f;
    hp_table_init(&f, m + 2, names);
    hp_table_set_raw(&f, m + 1);
    hp_buf_t b = {0}, p = {0};
    if (fmt == HP_FORMAT_JSON) {
        hp_buf_puts(&b, "{\"study\":");
        hp_buf_json_string(&b, st->name);
        hp_buf_printf(&b, ",\"study_id\":%lld,\"objectives\":[", (long long)st->id);
        for (size_t j = 0; j < m; j++) {
            hp_buf_puts(&b, j ? ",{\"metric\":" : "{\"metric\":");
            hp_buf_json_string(&b, o->metric[j]);
            hp_buf_printf(&b, ",\"goal\":\"%s\"}", o->maximize[j] ? "maximize" : "minimize");
        }
        hp_buf_puts(&b, "],\"front\":[");
    }
    int first = 1;
    for (size_t r = 0; r < n; r++) {
        if (!on[r])
            continue;
        for (size_t c = 0; c < m + 2; c++)
            hp_table_add_json(&f, hp_table_cell(&t, r, c));
        if (fmt != HP_FORMAT_JSON)
            continue;
        hp_buf_printf(&b, "%s{\"number\":%s,\"values\":{", first ? "" : ",",
                      hp_table_cell(&t, r, 0));
        for (size_t j = 0; j < m; j++) {
            if (j)
                hp_buf_putc(&b, ',');
            hp_buf_json_string(&b, o->metric[j]);
            hp_buf_printf(&b, ":%s", hp_table_cell(&t, r, 1 + j));
        }
        hp_buf_printf(&b, "},\"params\":%s}", hp_json_text(hp_table_cell(&t, r, m + 1), &p));
        first = 0;
    }
    if (fmt == HP_FORMAT_JSON) {
        hp_buf_puts(&b, "]}\n");
        fputs(b.data, cli->out);
    } else {
        if (fmt == HP_FORMAT_TABLE) {
            fprintf(cli->out, "study   %s (id %lld", st->name, (long long)st->id);
            for (size_t j = 0; j < m; j++)
                fprintf(cli->out, ", %s %s", o->maximize[j] ? "maximize" : "minimize",
                        o->metric[j]);
            fprintf(cli->out, ")\nPareto front: %ld of %zu completed feasible trials\n", k, n);
        }
        hp_table_print(&f, fmt, cli->out);
    }
    hp_buf_fini(&b);
    hp_buf_fini(&p);
    hp_table_fini(&f);
    hp_table_fini(&t);
    free(on);
    return HP_EXIT_OK;
}

static int cmd_best(hp_cli_t *cli, int argc, char **argv)
{
    hp_cli_format_t fmt;
    const char *db;
    int code = hp_cli_parse_format_db(cli, &hp_cmd_best, argc, argv, HP_FORMATS_ALL, &fmt, &db);
    if (code)
        return code;
    if (optind >= argc)
        return hp_cli_usage_error(cli, &hp_cmd_best, "missing STUDY (a study name or id)");
    if (optind + 1 < argc)
        return hp_cli_usage_error(cli, &hp_cmd_best, "one STUDY at a time (got '%s' after it)",
                                  argv[optind + 1]);

    hp_query_src_t src = {.cli = cli, .db = db};
    hp_query_study_t st;
    char err[1024];
    if (hp_query_study(&src, argv[optind], &st, err, sizeof err) < 0)
        return hp_cli_fail(cli, &hp_cmd_best, "%s", err);
    hp_cli_objectives_t obj;
    if (hp_cli_objectives(&src, &st, &obj, err, sizeof err) < 0)
        return hp_cli_fail(cli, &hp_cmd_best, "%s", err);
    if (obj.n > 1)
        return best_front(cli, &src, &st, &obj, fmt);
    hp_buf_t sql = {0};
    hp_buf_printf(&sql,
                  "SELECT number, value, params FROM trials WHERE study_id = %lld AND state = "
                  "'completed' AND value IS NOT NULL AND infeasible IS NULL ORDER BY value %s, "
                  "number LIMIT 1",
                  (long long)st.id, strcmp(st.goal, "maximize") == 0 ? "DESC" : "ASC");
    hp_table_t t;
    int rc = hp_query_run(&src, sql.data, 0, &t, NULL, err, sizeof err);
    hp_buf_fini(&sql);
    if (rc < 0) {
        hp_table_fini(&t);
        return hp_cli_fail(cli, &hp_cmd_best, "%s", err);
    }
    if (hp_table_rows(&t) == 0) {
        hp_table_fini(&t);
        return hp_cli_fail(cli, &hp_cmd_best, "study '%s' has no completed trial yet (it is %s)%s",
                           st.name, st.state, infeasible_note(&src, st.id));
    }
    hp_table_set_raw(&t, 2);
    hp_buf_t b = {0}, v = {0}, p = {0};
    if (fmt == HP_FORMAT_JSON) {
        hp_buf_puts(&b, "{\"study\":");
        hp_buf_json_string(&b, st.name);
        hp_buf_printf(&b, ",\"study_id\":%lld,\"metric\":", (long long)st.id);
        hp_buf_json_string(&b, st.metric);
        hp_buf_printf(&b, ",\"goal\":\"%s\",\"number\":%s,\"value\":%s,\"params\":%s}\n", st.goal,
                      hp_table_cell(&t, 0, 0), hp_table_cell(&t, 0, 1),
                      hp_json_text(hp_table_cell(&t, 0, 2), &p));
        fputs(b.data, cli->out);
    } else if (fmt == HP_FORMAT_CSV) {
        hp_table_print(&t, fmt, cli->out);
    } else {
        fprintf(cli->out, "study   %s (id %lld, %s %s)\ntrial   %s\nvalue   %s\nparams  %s\n",
                st.name, (long long)st.id, st.goal, st.metric, hp_table_cell(&t, 0, 0),
                hp_json_text(hp_table_cell(&t, 0, 1), &v),
                hp_json_text(hp_table_cell(&t, 0, 2), &p));
    }
    hp_buf_fini(&b);
    hp_buf_fini(&v);
    hp_buf_fini(&p);
    hp_table_fini(&t);
    return HP_EXIT_OK;
}
