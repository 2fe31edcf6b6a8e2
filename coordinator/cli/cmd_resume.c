/* hpsearch resume: continue a cancelled or failed study. */
#include "cli.h"
#include "client.h"

#include <getopt.h>

static int cmd_resume(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_resume = {
    .name = "resume",
    .usage = "resume STUDY",
    .summary = "continue a cancelled or failed study",
    .help = "STUDY is the study's name or id. The study runs again: its state goes\n"
            "back to running and its reason is cleared; the trials that were\n"
            "cancelled with it (pending, or stopped while running) are pending again,\n"
            "with their numbers and parameters, and run before new ones. Completed\n"
            "and failed trials stay as they are. A completed study is continued by\n"
            "raising its max_trials instead (submit or run its spec again). Exits 1\n"
            "if the study does not exist, is running or completed, or still has\n"
            "trials stopping from the cancel (wait for them, then resume).\n"
            "\n"
            "Example:\n"
            "  hpsearch cancel mnist-lr && hpsearch resume mnist-lr\n",
    .exec = cmd_resume,
};

static int cmd_resume(hp_cli_t *cli, int argc, char **argv)
{
    static const struct option opts[] = {{NULL, 0, NULL, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1)
        return hp_cli_bad_option(cli, &hp_cmd_resume, ch, argc, argv);
    if (optind >= argc)
        return hp_cli_usage_error(cli, &hp_cmd_resume, "missing STUDY (a study name or id)");
    if (optind + 1 < argc)
        return hp_cli_usage_error(cli, &hp_cmd_resume, "one STUDY at a time (got '%s' after it)",
                                  argv[optind + 1]);
    const char *study = argv[optind];
    char err[1024];
    hp_client_t *cl;
    if (hp_client_open(&cl, cli, err, sizeof err) < 0)
        return hp_cli_fail(cli, &hp_cmd_resume, "%s", err);
    Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT, *rep;
    Hpsearch__ResumeStudy q = HPSEARCH__RESUME_STUDY__INIT;
    q.study = (char *)study;
    hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__RESUME, &q);
    int rc = hp_client_call(cl, &req, HPSEARCH__MSG_TYPE__ACK, &rep, err, sizeof err);
    hp_client_close(cl);
    if (rc < 0)
        return hp_cli_fail(cli, &hp_cmd_resume, "%s", err);
    const char *why = rep->ack->reason && *rep->ack->reason ? rep->ack->reason : "done";
    fprintf(cli->out, "study '%s' resumed: %s\n", study, why);
    hp_proto_free(rep);
    return HP_EXIT_OK;
}
