/* The registry of hpsearch verbs: add one line per cmd_<name>.c
 * (and its extern in cli.h). */
#include "cli.h"

const hp_cmd_t *const hp_cli_commands[] = {
    &hp_cmd_validate,
    NULL,
};
