/* hpsearch wait: block until a study ends. */
#include "cli.h"
#include "client.h"
#include "clock.h"

#include <getopt.h>
#include <string.h>
#include <time.h>

static int cmd_wait(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_wait = {
    .name = "wait",
    .usage = "wait [--timeout S] [--interval S] [--quiet] STUDY",
    .summary = "wait until a study ends; exit 0 only if it completed",
    .help = "Asks the coordinator for the study's state every --interval seconds\n"
            "(default 1) until it is no longer running, then prints one line with\n"
            "the outcome, and for a study that did not complete a second with why\n"
            "(a failed study's first trial error). Exits 0 if the study completed,\n"
            "1 if it failed, was cancelled or stopped, if --timeout seconds passed\n"
            "first (default: no limit), or if the coordinator cannot be reached.\n"
            "\n"
            "Example:\n"
            "  hpsearch submit study.yaml && hpsearch wait --timeout 3600 mnist-lr\n",
    .exec = cmd_wait,
};

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int cmd_wait(hp_cli_t *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"timeout", required_argument, NULL, 't'},
        {"interval", required_argument, NULL, 'i'},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    double timeout = 0, interval = 1;
    int quiet = 0, ch;
    while ((ch = getopt_long(argc, argv, ":t:i:q", opts, NULL)) != -1) {
        switch (ch) {
        case 't':
            if (hp_cli_parse_seconds(cli, &hp_cmd_wait, "--timeout", optarg, &timeout))
                return HP_EXIT_USAGE;
            break;
        case 'i':
            if (hp_cli_parse_seconds(cli, &hp_cmd_wait, "--interval", optarg, &interval))
                return HP_EXIT_USAGE;
            if (interval < 0.01)
                interval = 0.01;
            break;
        case 'q': quiet = 1; break;
        default: return hp_cli_bad_option(cli, &hp_cmd_wait, ch, argc, argv);
        }
    }
    if (optind >= argc)
        return hp_cli_usage_error(cli, &hp_cmd_wait, "missing STUDY (a study name or id)");
    if (optind + 1 < argc)
        return hp_cli_usage_error(cli, &hp_cmd_wait, "one STUDY at a time (got '%s' after it)",
                                  argv[optind + 1]);
    const char *study = argv[optind];
    char err[1024];
    hp_client_t *cl;
    if (hp_client_open(&cl, cli, err, sizeof err) < 0)
        return hp_cli_fail(cli, &hp_cmd_wait, "%s", err);
    double start = hp_clock_now();
    int rc;
    for (;;) {
        Hpsearch__Envelope *rep;
        const Hpsearch__StudyStatus *st;
        if (hp_client_study_status(cl, study, &rep, &st, err, sizeof err) < 0) {
            rc = hp_cli_fail(cli, &hp_cmd_wait, "%s", err);
            break;
        }
        if (strcmp(st->state, "running") != 0) {
            int ok = strcmp(st->state, "completed") == 0;
            FILE *o = ok ? cli->out : cli->err;
            if (!quiet) {
                fprintf(o, "%sstudy '%s' %s: %u/%u trials done (%u completed, %u failed, %u pruned, %u cancelled)",
                        ok ? "" : "hpsearch wait: ", st->name, st->state, hp_study_finished(st),
                        st->max_trials, st->completed, st->failed, st->pruned, st->cancelled);
                if (st->has_best)
                    fprintf(o, "; best %s %.10g (trial %u)", st->metric, st->best_value,
                            st->best_number);
                fputc('\n', o);
                if (!ok && st->reason && *st->reason)
                    fprintf(o, "hpsearch wait: why: %s\n", st->reason);
            }
            rc = ok ? HP_EXIT_OK : HP_EXIT_FAIL;
            hp_proto_free(rep);
            break;
        }
        unsigned done = hp_study_finished(st), total = st->max_trials;
        hp_proto_free(rep);
        if (timeout > 0 && hp_clock_now() - start >= timeout) {
            rc = hp_cli_fail(cli, &hp_cmd_wait,
                             "timed out after %g s: study '%s' is still running (%u/%u trials done)",
                             timeout, study, done, total);
            break;
        }
        double left = timeout > 0 ? timeout - (hp_clock_now() - start) : interval;
        sleep_s(left < interval ? (left > 0 ? left : 0) : interval);
    }
    hp_client_close(cl);
    return rc;
}
