/* hpworker: dispatch to a subcommand. `hpworker train ...` trains once,
 * locally; `hpworker --connect URL --slots N` (the coordinator-connected
 * runner) is to be added as another entry that calls hp_train_run. */
#include "cmd.h"

#include "log.h"

#include <stdio.h>
#include <string.h>

static const hp_worker_cmd_t *const cmds[] = {&hp_worker_cmd_train};

static void usage(FILE *f)
{
    fputs("usage: hpworker COMMAND [options]\n\ncommands:\n", f);
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        fprintf(f, "  %s\n", cmds[i]->usage);
    fputs("  --connect URL --slots N   (coordinator mode: not implemented yet)\n", f);
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
    if (!strcmp(argv[1], "--connect")) {
        fprintf(stderr, "hpworker: coordinator mode is not implemented yet; use `hpworker train`\n");
        return 2;
    }
    fprintf(stderr, "hpworker: unknown command '%s' (try --help)\n", argv[1]);
    return 2;
}
