/* hpsearch dashboard: serve a study database's web dashboard, read-only,
 * with no daemon (coordinator/dash). */
#include "cli.h"

#include "dash.h"
#include "err.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static int cmd_dashboard(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_dashboard = {
    .name = "dashboard",
    .usage = "dashboard --db FILE [--listen URL]",
    .summary = "serve the web dashboard of a database file (read-only, no daemon needed)",
    .help = "Serves the pages / (every study: state, progress, best value) and\n"
            "/studies/NAME (history, learning curves, parallel coordinates, slices,\n"
            "worker timeline, trial table, report) and the JSON API under /api/\n"
            "(docs/dashboard.md) until Ctrl-C. The file is opened read-only: it may\n"
            "be one a running hpsearchd or `hpsearch run` is writing, and the pages\n"
            "follow the study live. Prints the URL on standard output.\n"
            "\n"
            "Options:\n"
            "  --db FILE     the study database (hpsearch.db of `hpsearch run`)\n"
            "  --listen URL  where to serve (default " HP_DASH_DEFAULT_LISTEN ";\n"
            "                port 0 picks a free one); only loopback addresses:\n"
            "                serving other hosts needs the daemon's token (hpsearchd --http)\n"
            "\n"
            "Example:\n"
            "  hpsearch dashboard --db hpsearch.db      # then open http://127.0.0.1:7523/\n",
    .exec = cmd_dashboard,
};

static int cmd_dashboard(hp_cli_t *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *listen = HP_DASH_DEFAULT_LISTEN;
    int ch;
    while ((ch = getopt_long(argc, argv, ":d:l:", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 'l': listen = optarg; break;
        default: return hp_cli_bad_option(cli, &hp_cmd_dashboard, ch, argc, argv);
        }
    }
    if (!db || !*db)
        return hp_cli_usage_error(cli, &hp_cmd_dashboard, "missing --db FILE");
    if (optind < argc)
        return hp_cli_usage_error(cli, &hp_cmd_dashboard, "unexpected argument '%s'",
                                  argv[optind]);
    FILE *probe = fopen(db, "rb");
    if (!probe)
        return hp_cli_fail(cli, &hp_cmd_dashboard, "%s: %s", db, strerror(errno));
    fclose(probe);

    /* the server's threads start with these blocked; this thread waits for them */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    hp_dash_config_t cfg = {.db = db, .listen = listen};
    hp_dash_t *d;
    char err[1024];
    if (hp_dash_start(&d, &cfg, err, sizeof err) < 0)
        return hp_cli_fail(cli, &hp_cmd_dashboard, "%s", err);
    fprintf(cli->out, "dashboard: %s (serving %s read-only; Ctrl-C stops)\n", hp_dash_url(d), db);
    fflush(cli->out);
    int sig = 0;
    sigwait(&stop, &sig);
    hp_dash_stop(d);
    return HP_EXIT_OK;
}
