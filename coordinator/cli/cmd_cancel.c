/* hpsearch cancel: stop a study; stored results stay. */
#include "cli.h"
#include "client.h"

#include <getopt.h>

static int cmd_cancel(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_cancel = {
    .name = "cancel",
    .usage = "cancel STUDY",
    .summary = "cancel a running study (pending trials cancelled, running ones stopped)",
    .help = "STUDY is the study's name or id. Completed trials and every stored\n"
            "metric are kept. Exits 1 if the study does not exist or already ended.\n"
            "\n"
            "Example:\n"
            "  hpsearch cancel mnist-lr\n",
    .exec = cmd_cancel,
};

static int cmd_cancel(hp_cli_t *cli, int argc, char **argv)
{
    static const struct option opts[] = {{NULL, 0, NULL, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1)
        return hp_cli_bad_option(cli, &hp_cmd_cancel, ch, argc, argv);
    if (optind >= argc)
        return hp_cli_usage_error(cli, &hp_cmd_cancel, "missing STUDY (a study name or id)");
    if (optind + 1 < argc)
        return hp_cli_usage_error(cli, &hp_cmd_cancel, "one STUDY at a time (got '%s' after it)",
                                  argv[optind + 1]);
    const char *study = argv[optind];
    char err[1024];
    hp_client_t *cl;
    if (hp_client_open(&cl, cli, err, sizeof err) < 0)
        return hp_cli_fail(cli, &hp_cmd_cancel, "%s", err);
    Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT, *rep;
    Hpsearch__CancelStudy q = HPSEARCH__CANCEL_STUDY__INIT;
    q.study = (char *)study;
    hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__CANCEL_STUDY, &q);
    int rc = hp_client_call(cl, &req, HPSEARCH__MSG_TYPE__ACK, &rep, err, sizeof err);
    hp_client_close(cl);
    if (rc < 0)
        return hp_cli_fail(cli, &hp_cmd_cancel, "%s", err);
    const char *why = rep->ack->reason && *rep->ack->reason ? rep->ack->reason : "done";
    fprintf(cli->out, "study '%s' cancelled: %s\n", study, why);
    hp_proto_free(rep);
    return HP_EXIT_OK;
}
