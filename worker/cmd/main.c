/* hpworker: dispatch to a subcommand. `hpworker train ...` trains once,
 * locally; `hpworker --connect URL --slots N` runs the coordinator-connected
 * worker (agent/), and so does `hpworker [OPTIONS]` with the coordinator's
 * URL in HPSEARCH_COORDINATOR (how a scheduler starts it). */
#include "cmd.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const hp_worker_cmd_t *const cmds[] = {&hp_worker_cmd_train, &hp_worker_cmd_connect};

static void usage(FILE *f)
{
    fputs("usage: hpworker COMMAND [options]\n\ncommands:\n", f);
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        fprintf(f, "  %s\n", cmds[i]->usage);
    fputs("\nWith HPSEARCH_COORDINATOR set, `hpworker [OPTIONS]` is `hpworker --connect "
          "$HPSEARCH_COORDINATOR [OPTIONS]`.\n`hpworker --connect --help` lists the worker's "
          "options and environment; `hpworker train --help` the engine's.\n",
          f);
}

int main(int argc, char **argv)
{
    hp_log_set_ident("hpworker");
    const char *coord = getenv("HPSEARCH_COORDINATOR");
    int have_env = coord && *coord;
    if (argc < 2 && have_env)
        return hp_worker_cmd_connect.exec(argc - 1, argv + 1);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(argv[1], cmds[i]->name))
            return cmds[i]->exec(argc - 1, argv + 1);
    /* `hpworker --slots 2 --connect URL`: the connect options in another
     * order are still the connect command (it reads them in any order) */
    if (!strncmp(argv[1], "--", 2))
        for (int i = 2; i < argc; i++)
            if (!strcmp(argv[i], hp_worker_cmd_connect.name))
                return hp_worker_cmd_connect.exec(argc - 1, argv + 1);
    static const char *const connect_opts[] = {"--slots", "--cores", "--token-file",
                                               "--heartbeat-ms",   "--kill-grace-ms",
                                               "--log-level",      "--exit-when-idle",
                                               "--max-trials"};
    int is_connect_opt = 0;
    for (size_t i = 0; i < sizeof connect_opts / sizeof connect_opts[0]; i++)
        is_connect_opt |= !strcmp(argv[1], connect_opts[i]);
    if (is_connect_opt && have_env)
        return hp_worker_cmd_connect.exec(argc - 1, argv + 1);
    if (is_connect_opt) {
        fprintf(stderr,
                "hpworker: %s without --connect URL: a worker needs the coordinator's URL "
                "(hpworker --connect URL [--slots N] ..., or set HPSEARCH_COORDINATOR; try "
                "--help)\n",
                argv[1]);
        return 2;
    }
    fprintf(stderr, "hpworker: unknown command '%s' (try --help)\n", argv[1]);
    return 2;
}
