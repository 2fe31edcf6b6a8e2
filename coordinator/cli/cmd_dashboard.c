/* hpsearch dashboard: serve a study database's web dashboard, read-only,
 * with no daemon (coordinator/dash). */
#include "cli.h"

#include "dash.h"
#include "err.h"
#include "tls.h"
#include "token.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int cmd_dashboard(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_dashboard = {
    .name = "dashboard",
    .usage = "dashboard --db FILE [--listen URL]  (https://: with --tls-cert/--tls-key)",
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
            "                port 0 picks a free one), http:// or https://\n"
            "\n"
            "https:// takes hpsearch's global --tls-cert FILE and --tls-key FILE (and\n"
            "--tls-ca FILE to check the certificate against; `hpsearch certs`). An\n"
            "address off loopback asks every request for a token: --token-file FILE,\n"
            "else DB.token beside the database (hpsearchd's default).\n"
            "\n"
            "Example:\n"
            "  hpsearch dashboard --db hpsearch.db      # then open http://127.0.0.1:7523/\n"
            "  hpsearch --tls-cert pki/head.crt --tls-key pki/head.key \\\n"
            "      dashboard --db hpsearch.db --listen https://0.0.0.0:7523\n",
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

    char err[1024], warn[1024] = "";
    const char *urls[1] = {listen};
    hp_tls_files_t files = {cli->tls_ca, cli->tls_cert, cli->tls_key};
    if (hp_tls_check_flags(&files, urls, 1, err, sizeof err) < 0)
        return hp_cli_usage_error(cli, &hp_cmd_dashboard, "%s", err);
    hp_tls_t *tls = NULL;
    if (hp_tls_url_is_https(listen) &&
        hp_tls_new(&tls, HP_TLS_HTTPS, &files, warn, sizeof warn, err, sizeof err) < 0)
        return hp_cli_fail(cli, &hp_cmd_dashboard, "%s", err);
    if (*warn)
        fprintf(cli->err, "hpsearch dashboard: warning: %s\n", warn);
    /* off loopback: the token of --token-file, else the daemon's DB.token */
    char token[1024] = "", path[4096];
    size_t token_len = 0;
    if (!hp_dash_is_loopback(listen) || cli->token_file) {
        const char *tf = cli->token_file;
        if (!tf && hp_token_path_for_db(db, path, sizeof path) == 0 && access(path, R_OK) == 0)
            tf = path;
        if (tf && hp_token_read(tf, token, sizeof token, &token_len, err, sizeof err) < 0) {
            hp_tls_free(tls);
            return hp_cli_fail(cli, &hp_cmd_dashboard, "%s", err);
        }
    }
    hp_dash_config_t cfg = {.db = db, .listen = listen, .tls = tls,
                            .token = token_len ? token : NULL, .token_len = token_len};
    hp_dash_t *d;
    int rc = hp_dash_start(&d, &cfg, err, sizeof err);
    hp_tls_free(tls);
    memset(token, 0, sizeof token);
    if (rc < 0)
        return hp_cli_fail(cli, &hp_cmd_dashboard, "%s", err);
    fprintf(cli->out, "dashboard: %s (serving %s read-only; Ctrl-C stops)\n", hp_dash_url(d), db);
    fflush(cli->out);
    int sig = 0;
    sigwait(&stop, &sig);
    hp_dash_stop(d);
    return HP_EXIT_OK;
}
