/* hpsearch tell: the result of a trial `hpsearch ask` gave out (Optuna's
 * study.tell): its objective, final metrics and learning curve, read from
 * metric lines as an external program prints them. */
#include "cli.h"
#include "client.h"

#include "buf.h"
#include "err.h"
#include "metricline.h"
#include "vec.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmd_tell(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_tell = {
    .name = "tell",
    .usage = "tell STUDY NUMBER [--value V] [--metric NAME=VALUE ...] [--lines FILE|-] "
             "[--failed REASON | --pruned]",
    .summary = "report the result of a trial you took with ask",
    .help = "Completes trial NUMBER, which `hpsearch ask` gave out, and feeds its result\n"
            "to the study's search like a worker's. The objective is --value, else the\n"
            "objective metric among the --metric values, else its last value in the\n"
            "metric lines. A trial is told once; a trial a worker runs cannot be told.\n"
            "\n"
            "Options:\n"
            "  --value V            the objective's value\n"
            "  --metric NAME=VALUE  a final metric (repeat for more), e.g. test_error=0.1\n"
            "  --lines FILE         metric lines, as a trial program prints them:\n"
            "                       'name=value ... [step=N]', one per line ('-' reads\n"
            "                       stdin); stored as the trial's learning curve (a line\n"
            "                       without step=N is step K for the K-th metric line);\n"
            "                       other lines are ignored\n"
            "  --failed REASON      the trial failed (no objective needed)\n"
            "  --pruned             you stopped the trial early\n"
            "\n"
            "Examples:\n"
            "  hpsearch tell my-study 7 --value 0.31\n"
            "  python train.py --lr 0.01 | hpsearch tell my-study 7 --lines -\n"
            "  hpsearch tell my-study 8 --failed 'out of memory'\n",
    .exec = cmd_tell,
};

typedef HP_VEC(Hpsearch__Metric *) metrics_t;
typedef HP_VEC(Hpsearch__MetricStep *) steps_t;

static Hpsearch__Metric *metric_new(const char *name, double value)
{
    Hpsearch__Metric *m = malloc(sizeof *m);
    HP_ASSERT(m != NULL);
    hpsearch__metric__init(m);
    m->name = strdup(name);
    HP_ASSERT(m->name != NULL);
    m->value = value;
    return m;
}

static void metrics_free(Hpsearch__Metric **m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i]->name);
        free(m[i]);
    }
    free(m);
}

/* a whole number or a number with strtod, as the option's value */
static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return *s && end != s && *end == '\0' ? 0 : -1;
}

/* Reads metric lines from path ("-": stdin) into steps. Returns 0, or the
 * exit code after printing the error. */
static int read_lines(const hp_cli_t *cli, const char *path, steps_t *steps)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f)
        return hp_cli_fail(cli, &hp_cmd_tell, "cannot read %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int64_t metric_lines = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        hp_metricline_t ml;
        if (!hp_metricline_parse(line, (size_t)len, &ml))
            continue;
        if (ml.bad)
            fprintf(cli->err, "hpsearch tell: %s:%zu: warning: '%s' is not a number; skipped\n",
                    path, lineno, ml.first_bad);
        if (ml.n == 0 && !ml.has_step)
            continue;
        metric_lines++;
        if (ml.n == 0)
            continue;
        Hpsearch__MetricStep *st = malloc(sizeof *st);
        HP_ASSERT(st != NULL);
        hpsearch__metric_step__init(st);
        st->step = ml.has_step ? ml.step : metric_lines;
        st->n_metrics = ml.n;
        st->metrics = calloc(ml.n, sizeof *st->metrics);
        HP_ASSERT(st->metrics != NULL);
        for (size_t i = 0; i < ml.n; i++)
            st->metrics[i] = metric_new(ml.m[i].name, ml.m[i].value);
        HP_VEC_PUSH(*steps, st);
    }
    int rd_err = ferror(f);
    free(line);
    if (f != stdin)
        fclose(f);
    if (rd_err)
        return hp_cli_fail(cli, &hp_cmd_tell, "cannot read %s", path);
    return 0;
}

static int cmd_tell(hp_cli_t *cli, int argc, char **argv)
{
    const hp_cmd_t *cmd = &hp_cmd_tell;
    static const struct option opts[] = {
        {"value", required_argument, NULL, 'v'}, {"metric", required_argument, NULL, 'm'},
        {"lines", required_argument, NULL, 'l'}, {"failed", required_argument, NULL, 'F'},
        {"pruned", no_argument, NULL, 'P'},      {NULL, 0, NULL, 0},
    };
    Hpsearch__Tell q = HPSEARCH__TELL__INIT;
    q.outcome = HPSEARCH__TRIAL_OUTCOME__COMPLETED;
    metrics_t finals = {0};
    steps_t steps = {0};
    const char *lines = NULL, *value_arg = NULL;
    int code = HP_EXIT_OK, ch, failed = 0, pruned = 0;
    /* operands may come before or after the options */
    while (code == HP_EXIT_OK && (ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (ch) {
        case 'v':
            value_arg = optarg;
            if (parse_double(optarg, &q.value) < 0)
                code = hp_cli_usage_error(cli, cmd, "--value wants a number (got '%s')", optarg);
            q.has_value = 1;
            break;
        case 'm': {
            const char *eq = strchr(optarg, '=');
            double v;
            if (!eq || eq == optarg || parse_double(eq + 1, &v) < 0) {
                code = hp_cli_usage_error(cli, cmd, "--metric wants NAME=NUMBER (got '%s')",
                                          optarg);
                break;
            }
            char *name = strndup(optarg, (size_t)(eq - optarg));
            HP_VEC_PUSH(finals, metric_new(name, v));
            free(name);
            break;
        }
        case 'l':
            lines = optarg;
            break;
        case 'F':
            failed = 1;
            q.error = optarg;
            break;
        case 'P':
            pruned = 1;
            break;
        default:
            code = hp_cli_bad_option(cli, cmd, ch, argc, argv);
        }
    }
    if (code == HP_EXIT_OK && failed && pruned)
        code = hp_cli_usage_error(cli, cmd, "--failed and --pruned: a trial ends one way");
    if (code == HP_EXIT_OK && value_arg && (failed || pruned))
        code = hp_cli_usage_error(cli, cmd, "--value is the objective of a completed trial; not "
                                            "with --%s",
                                  failed ? "failed" : "pruned");
    if (code == HP_EXIT_OK && argc - optind != 2)
        code = hp_cli_usage_error(cli, cmd, argc - optind < 2
                                                ? "missing %s (see: hpsearch tell --help)"
                                                : "unexpected '%s'; give STUDY NUMBER once",
                                  argc - optind < 2
                                      ? (argc - optind == 0 ? "STUDY and NUMBER" : "NUMBER")
                                      : argv[optind + 2]);
    long long number = 0;
    if (code == HP_EXIT_OK)
        code = hp_cli_parse_uint(cli, cmd, "NUMBER", argv[optind + 1], 0, UINT32_MAX, &number);
    if (code == HP_EXIT_OK && lines)
        code = read_lines(cli, lines, &steps);
    if (code == HP_EXIT_OK && !failed && !pruned && !q.has_value && !finals.n && !steps.n)
        code = hp_cli_usage_error(cli, cmd, "nothing to tell: give --value, --metric, --lines, "
                                            "--failed or --pruned");
    hp_client_t *cl = NULL;
    char err[2048];
    if (code == HP_EXIT_OK && hp_client_open(&cl, cli, err, sizeof err) < 0)
        code = hp_cli_fail(cli, cmd, "%s", err);
    if (code == HP_EXIT_OK) {
        q.study = argv[optind];
        q.number = (uint32_t)number;
        if (failed)
            q.outcome = HPSEARCH__TRIAL_OUTCOME__FAILED;
        else if (pruned)
            q.outcome = HPSEARCH__TRIAL_OUTCOME__PRUNED;
        q.metrics = finals.v;
        q.n_metrics = finals.n;
        q.steps = steps.v;
        q.n_steps = steps.n;
        Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT, *rep;
        hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__TELL, &q);
        if (hp_client_call(cl, &req, HPSEARCH__MSG_TYPE__ACK, &rep, err, sizeof err) < 0) {
            code = hp_cli_fail(cli, cmd, "%s", err);
        } else {
            const char *what = rep->ack->reason && *rep->ack->reason ? rep->ack->reason : "told";
            fprintf(cli->out, "study '%s': %s\n", q.study, what);
            hp_proto_free(rep);
        }
    }
    hp_client_close(cl);
    metrics_free(finals.v, finals.n);
    for (size_t i = 0; i < steps.n; i++) {
        metrics_free(steps.v[i]->metrics, steps.v[i]->n_metrics);
        free(steps.v[i]);
    }
    free(steps.v);
    return code;
}
