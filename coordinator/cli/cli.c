/* Helpers shared by the hpsearch verbs. */
#include "cli.h"

#include "diag.h"
#include "spec.h"
#include "suggest.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
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

int hp_cli_fail_lines(const hp_cli_t *cli, const hp_cmd_t *cmd, const char *msg)
{
    size_t first = strcspn(msg, "\n");
    fprintf(cli->err, "%s %s: %.*s\n", cli->prog, cmd->name, (int)first, msg);
    if (msg[first])
        fprintf(cli->err, "%s\n", msg + first + 1);
    return HP_EXIT_FAIL;
}

int hp_cli_format_opt(const hp_cli_t *cli, const hp_cmd_t *cmd, const char *arg,
                      unsigned allowed, hp_cli_format_t *out)
{
    if (hp_cli_parse_format(arg, allowed, out) == 0)
        return 0;
    /* the choices as the verb's usage line spells them ("text|json" for
     * report, "table|csv|json" for trials), so the error and the usage
     * line under it agree; built from `allowed` when the usage has none */
    char names[32] = "";
    const char *u = cmd->usage ? strstr(cmd->usage, "--format ") : NULL;
    if (u) {
        u += strlen("--format ");
        size_t n = strspn(u, "abcdefghijklmnopqrstuvwxyz|");
        if (n > 0 && n < sizeof names)
            snprintf(names, sizeof names, "%.*s", (int)n, u);
    }
    if (!*names) {
        static const char *const n[] = {"table", "csv", "json"};
        for (int i = 0; i < 3; i++)
            if (allowed & (1u << i)) {
                if (*names)
                    strcat(names, "|");
                strcat(names, n[i]);
            }
    }
    return hp_cli_usage_error(cli, cmd, "unknown format '%s' (%s)", arg, names);
}

int hp_cli_bad_option(const hp_cli_t *cli, const hp_cmd_t *cmd, int ch, int argc, char **argv)
{
    const char *opt = optind >= 1 && optind - 1 < argc ? argv[optind - 1] : "?";
    if (ch == ':')
        return hp_cli_usage_error(cli, cmd, "option '%s' needs a value", opt);
    /* the global options go before the verb; say so rather than "unknown" */
    static const char *const globals[][2] = {{"--coordinator", "URL"},
                                             {"--token-file", "FILE"},
                                             {"--tls-ca", "FILE"},
                                             {"--tls-cert", "FILE"},
                                             {"--tls-key", "FILE"}};
    for (size_t i = 0; i < sizeof globals / sizeof globals[0]; i++) {
        size_t n = strlen(globals[i][0]);
        if (strncmp(opt, globals[i][0], n) == 0 && (opt[n] == '\0' || opt[n] == '='))
            return hp_cli_usage_error(cli, cmd,
                                      "%s is a global option: give it before the command "
                                      "(hpsearch %s %s %s ...)",
                                      globals[i][0], globals[i][0], globals[i][1], cmd->name);
    }
    /* a near miss of one of the verb's options (its usage line names them) */
    char words[32][40];
    const char *known[32];
    size_t nk = 0;
    for (const char *u = cmd->usage ? strstr(cmd->usage, "--") : NULL; u && nk < 32;
         u = strstr(u, "--")) {
        size_t n = 2 + strspn(u + 2, "abcdefghijklmnopqrstuvwxyz0123456789-");
        if (n > 2 && n < sizeof words[0]) {
            snprintf(words[nk], sizeof words[0], "%.*s", (int)n, u);
            known[nk] = words[nk];
            nk++;
        }
        u += n;
    }
    size_t olen = strcspn(opt, "=");
    char hint[64];
    hp_suggest_hint(hint, sizeof hint, opt, olen, known, nk);
    return hp_cli_usage_error(cli, cmd, "unknown option '%s'%s", opt, hint);
}

int hp_cli_parse_uint(const hp_cli_t *cli, const hp_cmd_t *cmd, const char *name,
                      const char *arg, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(arg, &end, 10);
    if (errno || end == arg || *end || v < lo || v > hi)
        return hp_cli_usage_error(cli, cmd, "%s: expected a whole number in %lld..%lld (got '%s')",
                                  name, lo, hi, arg);
    *out = v;
    return 0;
}

int hp_cli_parse_seconds(const hp_cli_t *cli, const hp_cmd_t *cmd, const char *name,
                         const char *arg, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno || end == arg || *end || !isfinite(v) || v < 0)
        return hp_cli_usage_error(cli, cmd, "%s: expected seconds >= 0 (got '%s')", name, arg);
    *out = v;
    return 0;
}

void hp_cli_print_warnings(const hp_cli_t *cli, const hp_diag_t *w)
{
    for (size_t i = 0; i < w->n; i++) {
        const hp_diag_item_t *it = &w->items[i];
        /* the text is "FILE:LINE: PATH: MESSAGE": warning goes before the message */
        size_t head = strlen(it->text) - strlen(it->message);
        fprintf(cli->err, "%.*swarning: %s\n", (int)head, it->text, it->message);
    }
    if (w->dropped)
        fprintf(cli->err, "... and %zu more warnings\n", w->dropped);
}

int hp_cli_load_spec(const hp_cli_t *cli, const hp_cmd_t *cmd, int argc, char **argv,
                     int optind_, hp_spec_t *spec, const char **path, const char *consequence)
{
    hp_spec_init(spec);
    if (optind_ >= argc)
        return hp_cli_usage_error(cli, cmd, "missing SPEC (a study file)");
    if (optind_ + 1 < argc)
        return hp_cli_usage_error(cli, cmd, "one SPEC at a time (got '%s' after it)",
                                  argv[optind_ + 1]);
    *path = argv[optind_];
    hp_diag_t diag = {0};
    if (hp_spec_load(spec, *path, &diag) < 0 || diag.n) {
        for (size_t i = 0; i < diag.n; i++)
            fprintf(cli->err, "%s\n", diag.items[i].text);
        if (diag.dropped)
            fprintf(cli->err, "... and %zu more errors\n", diag.dropped);
        size_t n = diag.dropped; /* the problems: warnings go with them, uncounted */
        for (size_t i = 0; i < diag.n; i++)
            n += strncmp(diag.items[i].message, "warning: ", 9) != 0;
        hp_spec_fini(spec);
        hp_diag_fini(&diag);
        return hp_cli_fail(cli, cmd, "%s is not a valid study spec (%zu problem%s)%s%s", *path, n,
                           n == 1 ? "" : "s", consequence ? "; " : "",
                           consequence ? consequence : "");
    }
    hp_diag_fini(&diag);
    hp_cli_print_warnings(cli, &spec->warnings);
    return 0;
}

/* --format, and --db when db is given */
static int parse_format_db(const hp_cli_t *cli, const hp_cmd_t *cmd, int argc, char **argv,
                           unsigned allowed, hp_cli_format_t *fmt, const char **db)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"db", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    static const struct option format_only[] = {
        {"format", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    *fmt = HP_FORMAT_TABLE;
    if (db)
        *db = NULL;
    int ch;
    while ((ch = getopt_long(argc, argv, db ? ":f:d:" : ":f:", db ? opts : format_only, NULL)) !=
           -1) {
        if (ch == 'd' && db)
            *db = optarg;
        else if (ch != 'f')
            return hp_cli_bad_option(cli, cmd, ch, argc, argv);
        else if (hp_cli_format_opt(cli, cmd, optarg, allowed, fmt))
            return HP_EXIT_USAGE;
    }
    return 0;
}

int hp_cli_parse_format_only(const hp_cli_t *cli, const hp_cmd_t *cmd, int argc, char **argv,
                             unsigned allowed, hp_cli_format_t *fmt)
{
    return parse_format_db(cli, cmd, argc, argv, allowed, fmt, NULL);
}

int hp_cli_parse_format_db(const hp_cli_t *cli, const hp_cmd_t *cmd, int argc, char **argv,
                           unsigned allowed, hp_cli_format_t *fmt, const char **db)
{
    return parse_format_db(cli, cmd, argc, argv, allowed, fmt, db);
}
