/* hpsearchd: the coordinator daemon. See coord.h and docs/daemon.md. */
#include "coord.h"
#include "dash.h"
#include "err.h"
#include "log.h"
#include "settings.h"

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
        hp_dash_config_t dc = {
            .db = cfg.db, .listen = cfg.http, .token = cfg.token, .token_len = cfg.token_len};
        if (hp_dash_start(&dash, &dc, err, sizeof err) < 0) {
            fprintf(stderr, "hpsearchd: --http: %s\n", err);
            return 2;
        }
        hp_log_info("dashboard on %s", hp_dash_url(dash));
    }
    rc = hp_coord_main(&cfg);
    hp_dash_stop(dash);
    return rc;
}
