/* hpsearch examples: a trial's worst test examples as PNG files. */
#include "cli.h"
#include "png.h"
#include "query.h"
#include "report_errors.h"

#include "err.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cmd_examples(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_examples = {
    .name = "examples",
    .usage = "examples STUDY NUMBER --out DIR [--scale N] [--db PATH]",
    .summary = "write a trial's worst test examples as PNG images",
    .help = "Writes the worst examples (highest loss first) of trial NUMBER's test set\n"
            "as PNG files in DIR (created if missing), one per example, named so the\n"
            "true and the predicted class show:\n"
            "  rank01_index4527_label6-shirt_pred0-t-shirt-top.png\n"
            "(Fashion-MNIST's class names; other datasets show the class numbers).\n"
            "The images are what the model saw (a dataset.shift test set is shifted),\n"
            "as the worker sent them with the trial's result, so neither the dataset\n"
            "files nor a worker are needed. Only image datasets have pictures: for\n"
            "tabular data use `hpsearch report --errors`, which lists the same\n"
            "examples by their row.\n"
            "\n"
            "Options:\n"
            "  --out DIR   where the files go (required)\n"
            "  --scale N   enlarge each pixel to N x N (1..16, default 4)\n"
            "  --db PATH   read the database file directly (read-only)\n"
            "\n"
            "Example:\n"
            "  hpsearch examples fmnist-lenet 3 --out worst/\n",
    .exec = cmd_examples,
};

/* a class for a file name: "6-shirt" (lower case, [a-z0-9-] only) or "6" */
static void class_tag(const hp_report_ea_t *r, int k, char *out, size_t len)
{
    int n = snprintf(out, len, "%d", k);
    if (!r->class_names || k < 0 || k >= 10 || n < 0 || (size_t)n + 2 >= len)
        return;
    size_t at = (size_t)n;
    out[at++] = '-';
    int dash = 0;
    for (const char *p = r->class_names[k]; *p && at + 1 < len; p++) {
        char ch = *p;
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
            out[at++] = ch;
            dash = 0;
        } else if (!dash) {
            out[at++] = '-';
            dash = 1;
        }
    }
    while (at > 0 && out[at - 1] == '-')
        at--;
    out[at] = '\0';
}

static int cmd_examples(hp_cli_t *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"scale", required_argument, NULL, 's'},
        {"db", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *dir = NULL;
    long long scale = 4;
    int ch;
    while ((ch = getopt_long(argc, argv, ":o:s:d:", opts, NULL)) != -1) {
        switch (ch) {
        case 'o': dir = optarg; break;
        case 's':
            if (hp_cli_parse_uint(cli, &hp_cmd_examples, "--scale", optarg, 1, 16, &scale))
                return HP_EXIT_USAGE;
            break;
        case 'd': db = optarg; break;
        default: return hp_cli_bad_option(cli, &hp_cmd_examples, ch, argc, argv);
        }
    }
    if (optind + 2 > argc)
        return hp_cli_usage_error(cli, &hp_cmd_examples,
                                  "missing STUDY and NUMBER (a study name or id, a trial number)");
    if (optind + 2 < argc)
        return hp_cli_usage_error(cli, &hp_cmd_examples, "unexpected '%s' after NUMBER",
                                  argv[optind + 2]);
    if (!dir)
        return hp_cli_usage_error(cli, &hp_cmd_examples, "missing --out DIR");
    if (!*dir)
        return hp_cli_usage_error(cli, &hp_cmd_examples, "--out: the directory name is empty");
    long long number;
    if (hp_cli_parse_uint(cli, &hp_cmd_examples, "NUMBER", argv[optind + 1], 0, 1000000000000LL,
                          &number))
        return HP_EXIT_USAGE;

    hp_query_src_t src = {.cli = cli, .db = db};
    hp_query_study_t st;
    char err[1024];
    if (hp_query_study(&src, argv[optind], &st, err, sizeof err) < 0)
        return hp_cli_fail(cli, &hp_cmd_examples, "%s", err);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM trials WHERE study_id = %lld AND number = %lld",
             (long long)st.id, number);
    hp_table_t t;
    int rc = hp_query_run(&src, sql, 0, &t, NULL, err, sizeof err);
    int exists = rc == 0 && hp_table_rows(&t) == 1 && strcmp(hp_table_cell(&t, 0, 0), "0") != 0;
    hp_table_fini(&t);
    if (rc < 0)
        return hp_cli_fail(cli, &hp_cmd_examples, "%s", err);
    if (!exists)
        return hp_cli_fail(cli, &hp_cmd_examples, "study '%s' has no trial %lld", st.name, number);

    hp_report_ea_t r;
    if (hp_report_ea_read(&src, st.id, number, 1, &r, err, sizeof err) < 0)
        return hp_cli_fail(cli, &hp_cmd_examples, "cannot read the error analysis: %s", err);
    if (!r.found) {
        hp_report_ea_fini(&r);
        return hp_cli_fail(cli, &hp_cmd_examples,
                           "trial %lld of study '%s' has no error analysis stored (only "
                           "built-in classification trials that completed keep one)",
                           number, st.name);
    }
    if (r.ea.c == 0 || !r.ea.pixels) {
        int c = r.ea.c;
        hp_report_ea_fini(&r);
        return hp_cli_fail(cli, &hp_cmd_examples,
                           "study '%s' trains on %s, which is not an image dataset%s: there "
                           "is nothing to draw; `hpsearch report --errors --trial %lld %s` "
                           "lists its worst examples by row",
                           st.name, r.dataset[0] ? r.dataset : "its dataset",
                           c ? " (its images are larger than the analysis keeps)" : "", number,
                           st.name);
    }
    if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
        int e = errno;
        hp_report_ea_fini(&r);
        return hp_cli_fail(cli, &hp_cmd_examples, "--out %s: %s", dir, strerror(e));
    }
    struct stat sb;
    if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
        hp_report_ea_fini(&r);
        return hp_cli_fail(cli, &hp_cmd_examples, "--out %s: exists and is not a directory", dir);
    }
    /* `--out worst/` names worst/rank01_...png, not worst//rank01_...png */
    int dlen = (int)strlen(dir);
    while (dlen > 1 && dir[dlen - 1] == '/')
        dlen--;
    rc = 0;
    for (size_t i = 0; rc == 0 && i < r.ea.nworst; i++) {
        const hp_ea_example_t *w = &r.ea.worst[i];
        char lab[48], pred[48], path[4096];
        class_tag(&r, w->label, lab, sizeof lab);
        class_tag(&r, w->predicted, pred, sizeof pred);
        snprintf(path, sizeof path, "%.*s%srank%02zu_index%u_label%s_pred%s.png", dlen, dir,
                 dlen > 0 && dir[dlen - 1] == '/' ? "" : "/", i + 1,
                 (unsigned)w->index, lab, pred);
        rc = hp_png_write(path, hp_ea_pixels(&r.ea, i), r.ea.c, r.ea.h, r.ea.w, (int)scale, err,
                          sizeof err);
        if (rc == 0)
            fprintf(cli->out, "%s\n", path);
    }
    hp_report_ea_fini(&r);
    if (rc < 0)
        return hp_cli_fail(cli, &hp_cmd_examples, "%s", err);
    return HP_EXIT_OK;
}
