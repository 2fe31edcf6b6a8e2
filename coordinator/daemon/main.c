/* hpsearchd: the coordinator daemon. See coord.h and docs/daemon.md. */
#include "coord.h"
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
    return hp_coord_main(&cfg);
}
