/* hpsearch enqueue: queue a chosen configuration as a study's next trial
 * (the guide's manual tuning; Optuna's enqueue_trial). The daemon checks
 * the values against the study's space. */
#include "cli.h"
#include "client.h"

#include "buf.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int cmd_enqueue(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_enqueue = {
    .name = "enqueue",
    .usage = "enqueue [--format text|json] STUDY --set NAME=VALUE [--set NAME=VALUE ...]",
    .summary = "queue a trial with the parameters you choose, run before sampled ones",
    .help = "Give every parameter of the study's space once. Values are checked against\n"
            "the space: a float or int within its range (and on its step, if it has one;\n"
            "ints whole), a categorical one of its values as written in the spec. An\n"
            "unknown name gets the closest one. The trial is pending with origin\n"
            "'enqueued': the next free worker runs it before any newly sampled trial,\n"
            "and its result is fed to the search like any other (bayes and\n"
            "coarse-to-fine learn from it).\n"
            "\n"
            "An enqueued trial counts as one of the study's search.max_trials: the\n"
            "sampler proposes that many fewer. A study that has all its trials already\n"
            "refuses (resubmit the spec with a larger max_trials first). The study must\n"
            "be running; a grid search refuses (it runs each grid point once).\n"
            "\n"
            "Options:\n"
            "  --set NAME=VALUE    a parameter's value (repeat for each parameter)\n"
            "  --format json       print {\"study\":...,\"number\":...,\"params\":{...}}\n"
            "\n"
            "Example:\n"
            "  hpsearch enqueue mnist-lr --set lr=0.001 --set hidden=256\n",
    .exec = cmd_enqueue,
};

static int cmd_enqueue(hp_cli_t *cli, int argc, char **argv)
{
    const hp_cmd_t *cmd = &hp_cmd_enqueue;
    static const struct option opts[] = {
        {"set", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    hp_cli_format_t fmt = HP_FORMAT_TABLE;
    size_t n = 0;
    Hpsearch__Param *pv = calloc((size_t)argc + 1, sizeof *pv);
    Hpsearch__Param **pp = calloc((size_t)argc + 1, sizeof *pp);
    char **names = calloc((size_t)argc + 1, sizeof *names);
    int code = HP_EXIT_OK, ch;
    while (code == HP_EXIT_OK && (ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (ch == 'f') {
            code = hp_cli_format_opt(cli, cmd, optarg,
                                     1u << HP_FORMAT_TABLE | 1u << HP_FORMAT_JSON, &fmt);
        } else if (ch == 's') {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg) {
                code = hp_cli_usage_error(cli, cmd, "--set wants NAME=VALUE (got '%s')", optarg);
                break;
            }
            names[n] = strndup(optarg, (size_t)(eq - optarg));
            hpsearch__param__init(&pv[n]);
            pv[n].name = names[n];
            pv[n].value = (char *)eq + 1;
            pp[n] = &pv[n];
            n++;
        } else {
            code = hp_cli_bad_option(cli, cmd, ch, argc, argv);
        }
    }
    if (code == HP_EXIT_OK && optind >= argc)
        code = hp_cli_usage_error(cli, cmd, "missing STUDY (a study name or id)");
    else if (code == HP_EXIT_OK && optind + 1 < argc)
        code = hp_cli_usage_error(cli, cmd, "one STUDY at a time (got '%s' after it; values go "
                                            "with --set NAME=VALUE)",
                                  argv[optind + 1]);
    else if (code == HP_EXIT_OK && n == 0)
        code = hp_cli_usage_error(cli, cmd, "no parameters: give each with --set NAME=VALUE");
    hp_client_t *cl = NULL;
    char err[2048];
    if (code == HP_EXIT_OK && hp_client_open(&cl, cli, err, sizeof err) < 0)
        code = hp_cli_fail(cli, cmd, "%s", err);
    if (code == HP_EXIT_OK) {
        const char *study = argv[optind];
        Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT, *rep;
        Hpsearch__Enqueue q = HPSEARCH__ENQUEUE__INIT;
        q.study = (char *)study;
        q.params = pp;
        q.n_params = n;
        hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__ENQUEUE, &q);
        if (hp_client_call(cl, &req, HPSEARCH__MSG_TYPE__ENQUEUE_REPLY, &rep, err, sizeof err) <
            0) {
            code = hp_cli_fail(cli, cmd, "%s", err);
        } else {
            const Hpsearch__EnqueueReply *r = rep->enqueue_reply;
            if (fmt == HP_FORMAT_JSON) {
                hp_buf_t b = {0};
                hp_buf_puts(&b, "{\"study\":");
                hp_buf_json_string(&b, study);
                hp_buf_printf(&b, ",\"number\":%u,\"params\":%s}\n", r->number, r->params_json);
                fputs(b.data, cli->out);
                hp_buf_fini(&b);
            } else {
                fprintf(cli->out, "trial %u of study '%s' queued: %s\n", r->number, study,
                        r->params_json);
            }
            hp_proto_free(rep);
        }
    }
    hp_client_close(cl);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(pv);
    free(pp);
    return code;
}
