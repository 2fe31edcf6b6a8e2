/* hpworker: dispatch to a subcommand. `hpworker train ...` trains once,
 * locally; `hpworker --connect URL --slots N` runs the coordinator-connected
 * worker (agent/). */
#include "cmd.h"

#include "log.h"

#include <stdio.h>
#include <string.h>

static const hp_worker_cmd_t *const cmds[] = {&hp_worker_cmd_train, &hp_worker_cmd_connect};

static void usage(FILE *f)
{
    fputs("usage: hpworker COMMAND [options]\n\ncommands:\n", f);
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        fprintf(f, "  %s\n", cmds[i]->usage);
}

int main(int argc, char **argv)
{
    hp_log_set_ident("hpworker");
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
    fprintf(stderr, "hpworker: unknown command '%s' (try --help)\n", argv[1]);
    return 2;
}
