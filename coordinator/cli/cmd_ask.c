/* hpsearch ask: a trial for your own loop (Optuna's study.ask): the
 * study's next trial, which the daemon marks running until `hpsearch tell`
 * reports its result. */
#include "cli.h"
#include "client.h"

#include "buf.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int cmd_ask(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_ask = {
    .name = "ask",
    .usage = "ask [--format text|json] STUDY",
    .summary = "take a trial to run in your own loop; report it with tell",
    .help = "Gives out the study's next trial: one waiting to run (enqueued, or given\n"
            "back by a lost worker) first, else a new point from the study's search\n"
            "(origin 'ask'). The trial is running until you `hpsearch tell` its result:\n"
            "no worker runs it, no lease expires, a daemon restart keeps it waiting,\n"
            "and the study does not finish before it is told. Asked trials count\n"
            "toward search.max_trials like any other; a study whose every trial has\n"
            "been given out refuses. A bayes suggestion takes a moment to compute: ask\n"
            "waits for it (up to the request timeout, 30 s). `hpsearch cancel` cancels\n"
            "asked trials with the study.\n"
            "\n"
            "Prints the trial's number and the parameters to run it with (the space's,\n"
            "then the spec's trial.fixed settings), one NAME=VALUE per line; with\n"
            "--format json one line {\"study\":...,\"number\":...,\"params\":{...}}.\n"
            "\n"
            "Example:\n"
            "  hpsearch ask --format json my-study\n"
            "  hpsearch tell my-study 7 --value 0.31\n",
    .exec = cmd_ask,
};

static int cmd_ask(hp_cli_t *cli, int argc, char **argv)
{
    const hp_cmd_t *cmd = &hp_cmd_ask;
    hp_cli_format_t fmt;
    int code = hp_cli_parse_format_only(cli, cmd, argc, argv,
                                        1u << HP_FORMAT_TABLE | 1u << HP_FORMAT_JSON, &fmt);
    if (code)
        return code;
    if (optind >= argc)
        return hp_cli_usage_error(cli, cmd, "missing STUDY (a study name or id)");
    if (optind + 1 < argc)
        return hp_cli_usage_error(cli, cmd, "one STUDY at a time (got '%s' after it)",
                                  argv[optind + 1]);
    const char *study = argv[optind];
    char err[2048];
    hp_client_t *cl;
    if (hp_client_open(&cl, cli, err, sizeof err) < 0)
        return hp_cli_fail(cli, cmd, "%s", err);
    Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT, *rep;
    Hpsearch__Ask q = HPSEARCH__ASK__INIT;
    q.study = (char *)study;
    hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__ASK, &q);
    int rc = hp_client_call(cl, &req, HPSEARCH__MSG_TYPE__ASK_REPLY, &rep, err, sizeof err);
    hp_client_close(cl);
    if (rc < 0)
        return hp_cli_fail(cli, cmd, "%s", err);
    const Hpsearch__AskReply *r = rep->ask_reply;
    if (fmt == HP_FORMAT_JSON) {
        hp_buf_t b = {0};
        hp_buf_puts(&b, "{\"study\":");
        hp_buf_json_string(&b, study);
        hp_buf_printf(&b, ",\"number\":%u,\"params\":%s}\n", r->number, r->params_json);
        fputs(b.data, cli->out);
        hp_buf_fini(&b);
    } else {
        fprintf(cli->out, "trial %u of study '%s'\n", r->number, study);
        for (size_t i = 0; i < r->n_params; i++)
            fprintf(cli->out, "  %s=%s\n", r->params[i]->name, r->params[i]->value);
        fprintf(cli->err, "run it, then: hpsearch tell %s %u --value V\n", study, r->number);
    }
    hp_proto_free(rep);
    return HP_EXIT_OK;
}
