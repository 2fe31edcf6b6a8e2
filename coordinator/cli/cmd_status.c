/* hpsearch status: every study (or one) with its trial counts and best value. */
#include "cli.h"
#include "client.h"
#include "output.h"

#include <getopt.h>

static int cmd_status(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_status = {
    .name = "status",
    .usage = "status [--format table|csv|json] [STUDY]",
    .summary = "show studies: state, trial counts, best value so far",
    .help = "STUDY is a study's name or id; without it every study is listed.\n"
            "`done` counts trials that reached a final state (completed, failed,\n"
            "pruned, cancelled) out of the study's max_trials.\n"
            "csv and json carry every field: id, name, state, metric, goal,\n"
            "max_trials, the count per trial state, best_value, best_number and\n"
            "best_params (null when no trial completed yet).\n"
            "\n"
            "Example:\n"
            "  hpsearch status\n"
            "  hpsearch status --format json mnist-lr\n",
    .exec = cmd_status,
};

static void table_row(hp_table_t *t, const Hpsearch__StudyStatus *s)
{
    char done[64];
    unsigned fin = s->completed + s->failed + s->pruned + s->cancelled;
    snprintf(done, sizeof done, "%u/%u", fin, s->max_trials);
    hp_table_add_int(t, (long long)s->study_id);
    hp_table_add_str(t, s->name);
    hp_table_add_str(t, s->state);
    hp_table_add_str(t, done);
    hp_table_add_int(t, s->running);
    hp_table_add_int(t, s->pending);
    hp_table_add_int(t, s->completed);
    hp_table_add_int(t, s->failed);
    if (s->has_best)
        hp_table_add_num(t, s->best_value);
    else
        hp_table_add_null(t);
    if (s->has_best)
        hp_table_add_int(t, s->best_number);
    else
        hp_table_add_null(t);
    char obj[300];
    snprintf(obj, sizeof obj, "%s %s", s->goal, s->metric);
    hp_table_add_str(t, obj);
}

static void full_row(hp_table_t *t, const Hpsearch__StudyStatus *s)
{
    hp_table_add_int(t, (long long)s->study_id);
    hp_table_add_str(t, s->name);
    hp_table_add_str(t, s->state);
    hp_table_add_str(t, s->metric);
    hp_table_add_str(t, s->goal);
    hp_table_add_int(t, s->max_trials);
    hp_table_add_int(t, s->pending);
    hp_table_add_int(t, s->running);
    hp_table_add_int(t, s->completed);
    hp_table_add_int(t, s->failed);
    hp_table_add_int(t, s->pruned);
    hp_table_add_int(t, s->cancelled);
    if (s->has_best) {
        hp_table_add_num(t, s->best_value);
        hp_table_add_int(t, s->best_number);
        hp_table_add_str(t, s->best_params_json);
    } else {
        hp_table_add_null(t);
        hp_table_add_null(t);
        hp_table_add_null(t);
    }
}

static int cmd_status(hp_cli_t *cli, int argc, char **argv)
{
    hp_cli_format_t fmt;
    int rc_opt = hp_cli_parse_format_only(cli, &hp_cmd_status, argc, argv, HP_FORMATS_ALL, &fmt);
    if (rc_opt)
        return rc_opt;
    if (optind + 1 < argc)
        return hp_cli_usage_error(cli, &hp_cmd_status, "one STUDY at a time (got '%s' after it)",
                                  argv[optind + 1]);
    const char *study = optind < argc ? argv[optind] : "";

    char err[1024];
    hp_client_t *cl;
    if (hp_client_open(&cl, cli, err, sizeof err) < 0)
        return hp_cli_fail(cli, &hp_cmd_status, "%s", err);
    Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT, *rep;
    Hpsearch__StatusRequest q = HPSEARCH__STATUS_REQUEST__INIT;
    q.study = (char *)study;
    hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__STATUS, &q);
    int rc = hp_client_call(cl, &req, HPSEARCH__MSG_TYPE__STATUS_REPLY, &rep, err, sizeof err);
    hp_client_close(cl);
    if (rc < 0)
        return hp_cli_fail(cli, &hp_cmd_status, "%s", err);

    hp_table_t t;
    if (fmt == HP_FORMAT_TABLE) {
        static const char *const cols[] = {"id",        "name",   "state", "done",
                                           "running",   "pending", "completed",
                                           "failed",    "best",   "best_trial", "objective"};
        hp_table_init(&t, sizeof cols / sizeof cols[0], cols);
    } else {
        static const char *const cols[] = {
            "id",      "name",      "state",     "metric",    "goal",
            "max_trials", "pending", "running",  "completed", "failed",
            "pruned",  "cancelled", "best_value", "best_number", "best_params"};
        hp_table_init(&t, sizeof cols / sizeof cols[0], cols);
        hp_table_set_raw(&t, 14);
    }
    const Hpsearch__StatusReply *r = rep->status_reply;
    for (size_t i = 0; i < r->n_studies; i++)
        (fmt == HP_FORMAT_TABLE ? table_row : full_row)(&t, r->studies[i]);
    if (fmt == HP_FORMAT_TABLE && r->n_studies == 0)
        fputs("no studies yet (submit one with `hpsearch submit SPEC`)\n", cli->out);
    else
        hp_table_print(&t, fmt, cli->out);
    hp_table_fini(&t);
    hp_proto_free(rep);
    return HP_EXIT_OK;
}
