/* hpsearchd: the coordinator daemon. See coord.h and docs/daemon.md. */
#include "coord.h"
#include "dash.h"
#include "err.h"
#include "log.h"
#include "settings.h"
#include "tls.h"

#include <cblas.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    hp_log_set_ident("hpsearchd");
    hp_coord_config_t cfg;
    hp_settings_defaults(&cfg);
    char err[1024];
    int rc = hp_settings_parse_args(&cfg, argc - 1, argv + 1, err, sizeof err);
    if (rc == 1)
        return 0;
    if (rc < 0 || (rc = hp_settings_finish(&cfg, err, sizeof err)) < 0) {
        fprintf(stderr, "hpsearchd: %s\n", err);
        return 2;
    }
    /* GP fits run on a libuv work thread next to the loop: one BLAS thread
     * each, never more threads than the coordinator was given cores for */
    openblas_set_num_threads(1);
    /* the dashboard answers from its own threads and read-only connections
     * (coordinator/dash): the loop never waits for a page */
    hp_dash_t *dash = NULL;
    if (*cfg.http) {
        /* the read-only dashboard is open on loopback unless a token file
         * was named; elsewhere it asks for the daemon's token (DB.token
         * by default) */
        int ask = *cfg.token_file || !hp_url_is_local(cfg.http);
        hp_tls_t *tls = NULL; /* https://: the daemon's own certificate */
        hp_tls_files_t files = {cfg.tls_ca, cfg.tls_cert, cfg.tls_key};
        char warn[1024];
        if (hp_tls_url_is_https(cfg.http) &&
            hp_tls_new(&tls, HP_TLS_HTTPS, &files, warn, sizeof warn, err, sizeof err) < 0) {
            fprintf(stderr, "hpsearchd: --http: %s\n", err);
            return 2;
        }
        hp_dash_config_t dc = {.db = cfg.db, .listen = cfg.http, .tls = tls, .nice = 10,
                               .token = ask ? cfg.token : NULL,
                               .token_len = ask ? cfg.token_len : 0};
        if (tls && *warn && !hp_tls_url_is_tls(cfg.listen) && !hp_tls_url_is_tls(cfg.control))
            hp_log_warn("%s", warn); /* else the sockets' start says it */
        rc = hp_dash_start(&dash, &dc, err, sizeof err);
        hp_tls_free(tls); /* the server holds its own configuration */
        if (rc < 0) {
            fprintf(stderr, "hpsearchd: --http: %s\n", err);
            return 2;
        }
        hp_log_info("dashboard on %s", hp_dash_url(dash));
    }
    rc = hp_coord_main(&cfg);
    hp_dash_stop(dash);
    return rc;
}
