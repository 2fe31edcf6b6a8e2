/*
 * hpsearch — the command line client: global options, then one verb.
 *
 *     hpsearch [--coordinator URL] [--token-file FILE]
 *              [--tls-ca FILE --tls-cert FILE --tls-key FILE] VERB [ARGS...]
 *     hpsearch --help | --version | help [VERB]
 */
#include "cli.h"
#include "client.h"

#include "err.h"
#include "suggest.h"

#include <stdlib.h>
#include <string.h>

#ifndef HP_VERSION
#define HP_VERSION "unknown"
#endif

static void usage(const hp_cli_t *cli, FILE *f)
{
    fprintf(f,
            "usage: %s [--coordinator URL] [--token-file FILE]\n"
            "       [--tls-ca FILE --tls-cert FILE --tls-key FILE] COMMAND [ARGS...]\n"
            "\n"
            "Distributed hyperparameter search: submit studies, read results.\n"
            "\n"
            "Commands:\n",
            cli->prog);
    for (size_t i = 0; hp_cli_commands[i]; i++)
        fprintf(f, "  %-10s %s\n", hp_cli_commands[i]->name, hp_cli_commands[i]->summary);
    fprintf(f,
            "\n"
            "Options:\n"
            "  --coordinator URL  the daemon's control socket (as given to hpsearchd\n"
            "                     --control); default $HPSEARCH_COORDINATOR, else\n"
            "                     " HP_CLIENT_DEFAULT_URL "\n"
            "  --token-file FILE  the daemon's shared token (hpsearchd --token-file);\n"
            "                     default $HPSEARCH_TOKEN_FILE\n"
            "  --tls-ca FILE      for a tls+tcp:// coordinator: the CA that signed its\n"
            "                     certificate (hpsearch certs init)\n"
            "  --tls-cert FILE    this client's certificate, signed by that CA\n"
            "  --tls-key FILE     its key (hpsearch certs issue DIR NAME)\n"
            "  --help             show this help; `%s COMMAND --help` for a command\n"
            "  --version          print the version\n",
            cli->prog);
}

/* nearest verb name for "did you mean": a verb the name begins (at least
 * two letters typed), else the closest by common/suggest.h */
static const char *suggest(const char *name)
{
    size_t n = strlen(name), nverbs = 0;
    const char *verbs[64];
    for (size_t i = 0; hp_cli_commands[i] && nverbs < HP_ARRAY_LEN(verbs); i++) {
        const char *v = hp_cli_commands[i]->name;
        if (n >= 2 && strncmp(v, name, n) == 0)
            return v;
        verbs[nverbs++] = v;
    }
    return hp_suggest_closest(name, n, verbs, nverbs);
}

static hp_cli_t cli = {.prog = "hpsearch"};

/* where --tls-ca/--tls-cert/--tls-key (or --tls-ca=FILE...) goes, or NULL */
static const char **tls_flag(const char *a)
{
    static const struct {
        const char *name;
        const char **slot;
    } flags[] = {{"--tls-ca", &cli.tls_ca}, {"--tls-cert", &cli.tls_cert},
                 {"--tls-key", &cli.tls_key}};
    for (size_t i = 0; i < HP_ARRAY_LEN(flags); i++) {
        size_t n = strlen(flags[i].name);
        if (strncmp(a, flags[i].name, n) == 0 && (a[n] == '\0' || a[n] == '='))
            return flags[i].slot;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    cli.out = stdout;
    cli.err = stderr;
    cli.coordinator = getenv("HPSEARCH_COORDINATOR");
    if (cli.coordinator && !*cli.coordinator)
        cli.coordinator = NULL;
    cli.token_file = getenv("HPSEARCH_TOKEN_FILE");
    if (cli.token_file && !*cli.token_file)
        cli.token_file = NULL;

    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(&cli, stdout);
            return HP_EXIT_OK;
        } else if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
            printf("hpsearch %s\n", HP_VERSION);
            return HP_EXIT_OK;
        } else if (strcmp(a, "--coordinator") == 0) {
            if (i + 1 >= argc || !*argv[i + 1]) {
                fprintf(stderr, "hpsearch: --coordinator needs a URL (e.g. tcp://head:7522)\n");
                return HP_EXIT_USAGE;
            }
            cli.coordinator = argv[++i];
        } else if (strncmp(a, "--coordinator=", 14) == 0 && a[14]) {
            cli.coordinator = a + 14;
        } else if (strcmp(a, "--token-file") == 0) {
            if (i + 1 >= argc || !*argv[i + 1]) {
                fprintf(stderr, "hpsearch: --token-file needs a FILE\n");
                return HP_EXIT_USAGE;
            }
            cli.token_file = argv[++i];
        } else if (strncmp(a, "--token-file=", 13) == 0 && a[13]) {
            cli.token_file = a + 13;
        } else if (tls_flag(a)) {
            size_t eq = strcspn(a, "=");
            const char *file = a[eq] ? a + eq + 1 : i + 1 < argc ? argv[++i] : "";
            if (!*file) {
                fprintf(stderr, "hpsearch: %.*s needs a FILE\n", (int)eq, a);
                return HP_EXIT_USAGE;
            }
            *tls_flag(a) = file;
        } else if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else {
            fprintf(stderr, "hpsearch: unknown option '%s' (try hpsearch --help)\n", a);
            return HP_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        usage(&cli, stderr);
        return HP_EXIT_USAGE;
    }
    const char *verb = argv[i];
    if (strcmp(verb, "help") == 0) {
        if (i + 1 >= argc) {
            usage(&cli, stdout);
            return HP_EXIT_OK;
        }
        const hp_cmd_t *cmd = hp_cli_find(argv[i + 1]);
        if (!cmd) {
            fprintf(stderr, "hpsearch: unknown command '%s' (try hpsearch --help)\n",
                    argv[i + 1]);
            return HP_EXIT_USAGE;
        }
        hp_cli_help(&cli, cmd, stdout);
        return HP_EXIT_OK;
    }
    const hp_cmd_t *cmd = hp_cli_find(verb);
    if (!cmd) {
        const char *s = suggest(verb);
        if (s)
            fprintf(stderr, "hpsearch: unknown command '%s' (did you mean '%s'? try hpsearch --help)\n",
                    verb, s);
        else
            fprintf(stderr, "hpsearch: unknown command '%s' (try hpsearch --help)\n", verb);
        return HP_EXIT_USAGE;
    }
    /* --help anywhere before a "--" asks for the verb's help */
    for (int k = i + 1; k < argc && strcmp(argv[k], "--") != 0; k++)
        if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
            hp_cli_help(&cli, cmd, stdout);
            return HP_EXIT_OK;
        }
    hp_cli_getopt_reset();
    int rc = cmd->exec(&cli, argc - i, argv + i);
    if (fflush(stdout) != 0 && rc == HP_EXIT_OK)
        rc = HP_EXIT_FAIL;
    return rc;
}
