/* Helpers shared by the hpsearch verbs. */
#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <string.h>

const hp_cmd_t *hp_cli_find(const char *name)
{
    for (size_t i = 0; hp_cli_commands[i]; i++)
        if (strcmp(hp_cli_commands[i]->name, name) == 0)
            return hp_cli_commands[i];
    return NULL;
}

void hp_cli_help(const hp_cli_t *cli, const hp_cmd_t *cmd, FILE *f)
{
    fprintf(f, "usage: %s %s\n\n%s\n", cli->prog, cmd->usage, cmd->summary);
    if (cmd->help)
        fprintf(f, "\n%s", cmd->help);
}

static void vmsg(const hp_cli_t *cli, const hp_cmd_t *cmd, const char *fmt, va_list ap)
{
    fprintf(cli->err, "%s %s: ", cli->prog, cmd->name);
    vfprintf(cli->err, fmt, ap);
    fputc('\n', cli->err);
}

int hp_cli_usage_error(const hp_cli_t *cli, const hp_cmd_t *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(cli, cmd, fmt, ap);
    va_end(ap);
    fprintf(cli->err, "usage: %s %s\n", cli->prog, cmd->usage);
    return HP_EXIT_USAGE;
}

int hp_cli_fail(const hp_cli_t *cli, const hp_cmd_t *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(cli, cmd, fmt, ap);
    va_end(ap);
    return HP_EXIT_FAIL;
}

int hp_cli_parse_format(const char *s, unsigned allowed, hp_cli_format_t *out)
{
    static const struct {
        const char *name;
        hp_cli_format_t f;
    } names[] = {{"table", HP_FORMAT_TABLE},
                 {"text", HP_FORMAT_TABLE},
                 {"csv", HP_FORMAT_CSV},
                 {"json", HP_FORMAT_JSON}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0 && (allowed & (1u << names[i].f))) {
            *out = names[i].f;
            return 0;
        }
    return -1;
}

void hp_cli_getopt_reset(void)
{
    optind = 0; /* glibc: 0 also resets getopt's internal state */
    opterr = 0; /* verbs report unknown options themselves */
}
