/* hpsearch validate: parse a study spec locally and report every problem. */
#include "cli.h"

#include "buf.h"
#include "diag.h"
#include "spec.h"

#include <getopt.h>
#include <string.h>

static int cmd_validate(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_validate = {
    .name = "validate",
    .usage = "validate [--format text|json] [--print] SPEC",
    .summary = "check a study spec (YAML or JSON) and print every problem",
    .help = "Prints `ok` and exits 0 for a valid spec. Otherwise prints every\n"
            "problem, one per line as FILE:LINE: FIELD: MESSAGE, on stderr and\n"
            "exits 1. SPEC `-` reads standard input. What is valid but likely not\n"
            "meant (a number too small for a double, which reads as 0) is a\n"
            "warning, FILE:LINE: FIELD: warning: MESSAGE on stderr, and does not\n"
            "fail the spec; submit, run and check print the same warnings.\n"
            "\n"
            "Options:\n"
            "  --format json  print {\"ok\": ..., \"errors\": [...]} on stdout instead\n"
            "                 (and \"warnings\": [...] when there are any)\n"
            "  --print        on success print the spec as canonical JSON, with\n"
            "                 every default filled in, instead of `ok`\n",
    .exec = cmd_validate,
};

static void print_json(const hp_cli_t *cli, const hp_diag_t *d, const hp_diag_t *warnings,
                       const hp_spec_t *spec)
{
    hp_buf_t b = {0};
    hp_buf_printf(&b, "{\"ok\":%s,\"errors\":[", d->n ? "false" : "true");
    for (size_t i = 0; i < d->n; i++) {
        const hp_diag_item_t *it = &d->items[i];
        hp_buf_puts(&b, i ? ",{\"file\":" : "{\"file\":");
        hp_buf_json_string(&b, it->file);
        hp_buf_printf(&b, ",\"line\":%d,\"path\":", it->line);
        hp_buf_json_string(&b, it->path);
        hp_buf_puts(&b, ",\"message\":");
        hp_buf_json_string(&b, it->message);
        hp_buf_puts(&b, ",\"text\":");
        hp_buf_json_string(&b, it->text);
        hp_buf_putc(&b, '}');
    }
    hp_buf_putc(&b, ']');
    if (d->dropped)
        hp_buf_printf(&b, ",\"more_errors\":%zu", d->dropped);
    if (warnings && warnings->n) {
        hp_buf_puts(&b, ",\"warnings\":[");
        for (size_t i = 0; i < warnings->n; i++) {
            const hp_diag_item_t *it = &warnings->items[i];
            hp_buf_puts(&b, i ? ",{\"file\":" : "{\"file\":");
            hp_buf_json_string(&b, it->file);
            hp_buf_printf(&b, ",\"line\":%d,\"path\":", it->line);
            hp_buf_json_string(&b, it->path);
            hp_buf_puts(&b, ",\"message\":");
            hp_buf_json_string(&b, it->message);
            hp_buf_puts(&b, ",\"text\":");
            hp_buf_json_string(&b, it->text);
            hp_buf_putc(&b, '}');
        }
        hp_buf_putc(&b, ']');
    }
    if (spec) {
        hp_buf_puts(&b, ",\"spec\":");
        hp_spec_to_json(spec, &b);
    }
    hp_buf_puts(&b, "}\n");
    fputs(b.data, cli->out);
    hp_buf_fini(&b);
}

static int cmd_validate(hp_cli_t *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"print", no_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    hp_cli_format_t fmt = HP_FORMAT_TABLE;
    int print = 0, ch;
    while ((ch = getopt_long(argc, argv, ":f:p", opts, NULL)) != -1) {
        switch (ch) {
        case 'f':
            if (hp_cli_parse_format(optarg, 1u << HP_FORMAT_TABLE | 1u << HP_FORMAT_JSON,
                                    &fmt) < 0)
                return hp_cli_usage_error(cli, &hp_cmd_validate,
                                          "unknown format '%s' (text or json)", optarg);
            break;
        case 'p':
            print = 1;
            break;
        default: return hp_cli_bad_option(cli, &hp_cmd_validate, ch, argc, argv);
        }
    }
    if (optind >= argc)
        return hp_cli_usage_error(cli, &hp_cmd_validate, "missing SPEC (a study file)");
    if (optind + 1 < argc)
        return hp_cli_usage_error(cli, &hp_cmd_validate,
                                  "one SPEC at a time (got '%s' after it)", argv[optind + 1]);

    hp_spec_t spec;
    hp_diag_t diag = {0};
    int rc = hp_spec_load(&spec, argv[optind], &diag);
    if (rc == 0 && diag.n == 0) {
        if (fmt != HP_FORMAT_JSON)
            hp_cli_print_warnings(cli, &spec.warnings);
        if (fmt == HP_FORMAT_JSON) {
            print_json(cli, &diag, &spec.warnings, print ? &spec : NULL);
        } else if (print) {
            hp_buf_t b = {0};
            hp_spec_to_json(&spec, &b);
            fprintf(cli->out, "%s\n", b.data);
            hp_buf_fini(&b);
        } else {
            fputs("ok\n", cli->out);
        }
        hp_spec_fini(&spec);
        hp_diag_fini(&diag);
        return HP_EXIT_OK;
    }
    if (fmt == HP_FORMAT_JSON) {
        print_json(cli, &diag, NULL, NULL);
    } else {
        for (size_t i = 0; i < diag.n; i++)
            fprintf(cli->err, "%s\n", diag.items[i].text);
        if (diag.dropped)
            fprintf(cli->err, "... and %zu more errors\n", diag.dropped);
    }
    hp_spec_fini(&spec);
    hp_diag_fini(&diag);
    return HP_EXIT_FAIL;
}
