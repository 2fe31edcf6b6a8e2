/* hpsearch certs: a private CA and the certificates for mutual TLS
 * (common/certs.h writes them; this file is only the command line). */
#include "certs.h"
#include "cli.h"
#include "err.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int cmd_certs(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_certs = {
    .name = "certs",
    .usage = "certs init DIR [--force] | certs issue DIR NAME [--san HOST-OR-IP,...] [--force]",
    .summary = "make a private CA and certificates for tls+tcp:// (mutual TLS)",
    .help = "certs init DIR writes DIR/ca.crt and DIR/ca.key (0600), a new CA valid\n"
            "for 10 years. certs issue DIR NAME writes DIR/NAME.crt and DIR/NAME.key\n"
            "(0600), signed by DIR's CA and valid for 825 days, with subjectAltName\n"
            "entries for NAME and every --san name (a DNS name, or an IP address).\n"
            "Keys are EC P-256. Existing files are never replaced without --force.\n"
            "\n"
            "The daemon's certificate must name the host workers and the CLI dial\n"
            "(the host part of their URLs); workers' and the CLI's certificates are\n"
            "checked only for being signed by the CA. Give every process\n"
            "--tls-ca DIR/ca.crt and its own --tls-cert/--tls-key; keep ca.key off\n"
            "the cluster's hosts (whoever holds it can let anyone in).\n"
            "\n"
            "Example:\n"
            "  hpsearch certs init pki\n"
            "  hpsearch certs issue pki head --san head.cluster,10.0.0.5\n"
            "  hpsearch certs issue pki worker\n"
            "  hpsearch certs issue pki cli\n",
    .exec = cmd_certs,
};

/* the comma-separated --san lists into sans (up to max names) */
static int split_sans(const hp_cli_t *cli, char *list, const char **sans, size_t max, size_t *n)
{
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        if (!*t)
            continue;
        if (*n >= max)
            return hp_cli_usage_error(cli, &hp_cmd_certs, "at most %zu --san names", max);
        sans[(*n)++] = t;
    }
    return 0;
}

static int cmd_certs(hp_cli_t *cli, int argc, char **argv)
{
    const hp_cmd_t *cmd = &hp_cmd_certs;
    if (argc < 2)
        return hp_cli_usage_error(cli, cmd, "missing init or issue");
    const char *sub = argv[1];
    int issue = strcmp(sub, "issue") == 0;
    if (!issue && strcmp(sub, "init") != 0)
        return hp_cli_usage_error(cli, cmd, "unknown certs command '%s' (expected init or issue)",
                                  sub);
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
                                         {"san", required_argument, NULL, 's'},
                                         {NULL, 0, NULL, 0}};
    int force = 0, ch;
    const char *sans[63];
    size_t nsans = 0;
    char *lists[16];
    size_t nlists = 0;
    hp_cli_getopt_reset();
    while ((ch = getopt_long(argc - 1, argv + 1, ":", opts, NULL)) != -1) {
        if (ch == 'f')
            force = 1;
        else if (ch == 's' && issue && nlists < HP_ARRAY_LEN(lists))
            lists[nlists++] = optarg;
        else if (ch == 's')
            return hp_cli_usage_error(cli, cmd, issue ? "too many --san options"
                                                      : "--san is for certs issue");
        else
            return hp_cli_bad_option(cli, cmd, ch, argc - 1, argv + 1);
    }
    int want = issue ? 2 : 1, have = argc - 1 - optind;
    if (have < want)
        return hp_cli_usage_error(cli, cmd, issue ? "certs issue needs DIR and NAME"
                                                  : "certs init needs DIR");
    if (have > want)
        return hp_cli_usage_error(cli, cmd, "unexpected argument '%s'",
                                  argv[1 + optind + want]);
    const char *dir = argv[1 + optind];
    char *copies[16] = {0};
    int rc = 0;
    for (size_t i = 0; i < nlists && rc == 0; i++) {
        copies[i] = strdup(lists[i]);
        rc = copies[i] ? split_sans(cli, copies[i], sans, HP_ARRAY_LEN(sans), &nsans)
                       : hp_cli_fail(cli, cmd, "out of memory");
    }
    char err[1024];
    if (rc == 0 && !issue) {
        if (hp_certs_init(dir, force, err, sizeof err) < 0)
            rc = hp_cli_fail(cli, cmd, "%s", err);
        else
            fprintf(cli->out, "wrote %s/ca.crt and %s/ca.key (keep ca.key private)\n", dir, dir);
    } else if (rc == 0) {
        const char *name = argv[2 + optind];
        if (hp_certs_issue(dir, name, sans, nsans, force, err, sizeof err) < 0)
            rc = hp_cli_fail(cli, cmd, "%s", err);
        else
            fprintf(cli->out, "wrote %s/%s.crt and %s/%s.key, signed by %s/ca.crt\n", dir, name,
                    dir, name, dir);
    }
    for (size_t i = 0; i < nlists; i++)
        free(copies[i]);
    return rc;
}
