/* hpsearch importance: which parameters of a study matter, by fANOVA on a
 * random forest fitted to its completed trials (docs/importance.md). */
#include "cli.h"
#include "query.h"
#include "report_importance.h"

#include "buf.h"

#include <getopt.h>
#include <string.h>

static int cmd_importance(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_importance = {
    .name = "importance",
    .usage = "importance [--format text|json] [--db PATH] [--trees N] [--seed N] STUDY",
    .summary = "rank a study's parameters by their effect on the objective (fANOVA)",
    .help = "Fits a random forest (64 trees by default) to the completed, feasible\n"
            "trials' parameters and objective values and splits the variance of\n"
            "its prediction into each parameter's main effect (fANOVA, as Optuna's\n"
            "default importance evaluator). The importances sum to 1; `share` is\n"
            "the part of the variance a parameter's main effect explains alone,\n"
            "and what the shares leave is explained by interactions. Floats and\n"
            "ints are measured in the space the samplers use (log-scaled ones in\n"
            "log space); a conditional parameter counts where it is active. Needs\n"
            "at least 5 completed trials; more give steadier rankings (a few dozen\n"
            "per parameter). The same trials and --seed give the same ranking.\n"
            "\n"
            "Options:\n"
            "  --format json  {\"study\":...,\"metric\":...,\"goal\":...,\"importance\":\n"
            "                  {\"method\":...,\"trials\":N,\"params\":[...]}}\n"
            "  --db PATH      read the database file directly (read-only)\n"
            "  --trees N      trees in the forest (1..1024, default 64)\n"
            "  --seed N       the forest's seed (default 0)\n"
            "\n"
            "Example:\n"
            "  hpsearch importance mnist-lr\n"
            "  hpsearch importance --db study.db --format json mnist-lr\n",
    .exec = cmd_importance,
};

static int cmd_importance(hp_cli_t *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"db", required_argument, NULL, 'd'},
        {"trees", required_argument, NULL, 't'},
        {"seed", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    const hp_cmd_t *cmd = &hp_cmd_importance;
    hp_cli_format_t fmt = HP_FORMAT_TABLE;
    const char *db = NULL;
    hp_importance_opts_t o = hp_importance_defaults();
    long long v;
    int ch;
    while ((ch = getopt_long(argc, argv, ":f:d:t:s:", opts, NULL)) != -1) {
        switch (ch) {
        case 'f':
            if (hp_cli_format_opt(cli, cmd, optarg, 1u << HP_FORMAT_TABLE | 1u << HP_FORMAT_JSON,
                                  &fmt))
                return HP_EXIT_USAGE;
            break;
        case 'd': db = optarg; break;
        case 't':
            if (hp_cli_parse_uint(cli, cmd, "--trees", optarg, 1, 1024, &v))
                return HP_EXIT_USAGE;
            o.n_trees = (size_t)v;
            break;
        case 's':
            if (hp_cli_parse_uint(cli, cmd, "--seed", optarg, 0, 9007199254740992LL, &v))
                return HP_EXIT_USAGE;
            o.seed = (uint64_t)v;
            break;
        default: return hp_cli_bad_option(cli, cmd, ch, argc, argv);
        }
    }
    if (optind >= argc)
        return hp_cli_usage_error(cli, cmd, "missing STUDY (a study name or id)");
    if (optind + 1 < argc)
        return hp_cli_usage_error(cli, cmd, "one STUDY at a time (got '%s' after it)",
                                  argv[optind + 1]);

    hp_query_src_t src = {.cli = cli, .db = db};
    hp_query_study_t st;
    char err[1024];
    if (hp_query_study(&src, argv[optind], &st, err, sizeof err) < 0)
        return hp_cli_fail(cli, cmd, "%s", err);
    hp_importance_t imp;
    int truncated;
    if (hp_report_importance_read(&src, st.id, &o, &imp, &truncated, err, sizeof err) < 0)
        return hp_cli_fail(cli, cmd, "study '%s': %s", st.name, err);
    hp_buf_t b = {0};
    if (fmt == HP_FORMAT_JSON) {
        hp_buf_puts(&b, "{\"study\":");
        hp_buf_json_string(&b, st.name);
        hp_buf_printf(&b, ",\"study_id\":%lld,\"metric\":", (long long)st.id);
        hp_buf_json_string(&b, st.metric);
        hp_buf_printf(&b, ",\"goal\":\"%s\",\"importance\":", st.goal);
        hp_importance_json(&imp, &b);
        hp_buf_puts(&b, "}\n");
    } else {
        hp_buf_printf(&b, "study   %s (id %lld, %s %s)\n", st.name, (long long)st.id, st.goal,
                      st.metric);
        hp_importance_text(&imp, &b);
    }
    fputs(b.data, cli->out);
    hp_buf_fini(&b);
    hp_importance_fini(&imp);
    if (truncated)
        fprintf(cli->err, "hpsearch importance: the ranking covers only the trials within the "
                          "coordinator's row limit; use --db PATH for all\n");
    return HP_EXIT_OK;
}
