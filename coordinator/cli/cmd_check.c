/* hpsearch check: the troubleshooting guide's "get your model to run" and
 * "overfit a single batch" as one command, before spending a search on a
 * study. It trains the study's model, with the study's fixed settings and
 * otherwise the engine's sensible defaults, on one small batch for a fixed
 * step budget, through the same runner a worker uses; the loss must fall
 * below a threshold, or the learning curve's verdict says what is wrong. */
#include "cli.h"

#include "diag.h"
#include "err.h"
#include "runner.h"
#include "sanity.h"
#include "spec.h"
#include "vec.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmd_check(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_check = {
    .name = "check",
    .usage = "check [--steps N] [--batch B] [--threshold T] SPEC",
    .summary = "sanity-check a study: get its model to run and overfit a single batch",
    .help = "Trains the study's built-in model with its fixed settings (and the\n"
            "engine's defaults for everything the search would vary) on ONE batch\n"
            "of B training examples for N steps. A correct model and pipeline can\n"
            "memorise one batch: the training loss must fall below T. If it does\n"
            "not, the learning curve is diagnosed (goes up, explodes, oscillates,\n"
            "plateaus) with the likely causes from the troubleshooting guide.\n"
            "Then the memorised model is scored on the study's validation split:\n"
            "its accuracy must beat chance (predictions with the same class\n"
            "frequencies that ignore the inputs) by three standard deviations, or\n"
            "the labels do not go with the inputs (a network memorises shuffled\n"
            "labels too, but learns nothing from them).\n"
            "Exit 0 if the check passes, 1 if it fails or the model cannot run.\n"
            "A study without a built-in model (trial.function or trial.command) has\n"
            "nothing to train: check says so and exits 0.\n"
            "\n"
            "Options:\n"
            "  --steps N      training steps on the batch (default 300)\n"
            "  --batch B      examples in the batch (default 32)\n"
            "  --threshold T  the loss to reach (default 0.05)\n",
    .exec = cmd_check,
};

/* the train_loss curve, and the step each value was reported at */
typedef struct {
    double *loss;
    int64_t *step;
    size_t n, cap, step_cap;
} curve_t;

static void on_progress(int64_t step, const hp_runner_metric_t *m, size_t n, void *data)
{
    curve_t *c = data;
    for (size_t i = 0; i < n; i++)
        if (strcmp(m[i].name, "train_loss") == 0) {
            c->loss = hp_vec_grow(c->loss, &c->cap, c->n + 1, sizeof *c->loss, 256);
            c->step = hp_vec_grow(c->step, &c->step_cap, c->n + 1, sizeof *c->step, 256);
            c->step[c->n] = step;
            c->loss[c->n++] = m[i].value;
        }
}

/* a final metric of the outcome (an hp_runner_outcome_t); NAN if not there */
static double final_metric(const void *out, const char *name)
{
    const hp_runner_metric_t *m = hp_outcome_find(out, name);
    return m ? m->value : NAN;
}

static int parse_pos(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v > 0) || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* A study that trains no built-in model has nothing for check to train:
 * say what check does and what to do instead. Not a failure — the spec
 * may be fine — so the exit status is 0 (docs/cli.md). */
static void not_a_model(const hp_cli_t *cli, const hp_spec_t *spec, const char *path)
{
    fprintf(cli->out,
            "%s: nothing to check: %s trains no built-in model.\n"
            "check overfits one batch with a study's built-in model (trial.model) to show the\n"
            "model and its data pipeline can learn before a search is spent on them;\n",
            spec->name, path);
    if (spec->trial.kind == HP_TRIAL_FUNCTION)
        fprintf(cli->out,
                "this study evaluates the benchmark function %s (trial.function), which has\n"
                "no model or data to check: submit or run it as it is.\n",
                hp_function_name(spec->trial.function));
    else
        fprintf(cli->out,
                "this study runs an external program (trial.command: %s ...): run it once by\n"
                "hand with one configuration and check that it prints the objective, e.g.\n"
                "`%s=0.25` on stdout.\n",
                spec->trial.argc ? spec->trial.argv[0] : "?", spec->objective.metric);
}

/* One overfit-one-batch run of spec for steps steps, its verdict printed
 * and *exit_code set. Returns 1, printing why, when may_repeat and the run
 * ended still memorising (hp_sanity_wants_longer): the caller runs it
 * again, longer. */
static int check_once(hp_cli_t *cli, const hp_spec_t *spec, const hp_buf_t *tj, unsigned steps,
                      double batch, double threshold, int may_repeat, int *exit_code)
{
    hp_sanity_overrides_t o;
    hp_sanity_overrides(&o, steps, (unsigned)batch);
    hp_runner_param_t params[HP_ARRAY_LEN(o.name)];
    for (size_t i = 0; i < o.n; i++)
        params[i] = (hp_runner_param_t){o.name[i], o.value[i]};
    hp_runner_trial_t t = {.number = 0,
                           .seed = spec->search.seed,
                           .study_seed = spec->search.seed,
                           .params = params,
                           .n_params = o.n,
                           .params_json = "{}",
                           .trial_json = tj->data,
                           .objective = "train_loss"};
    curve_t curve = {0};
    hp_cancel_t cancel;
    hp_runner_outcome_t out;
    int longer = 0;
    *exit_code = HP_EXIT_FAIL;
    if (hp_cancel_init(&cancel) < 0) {
        fprintf(cli->err, "%s check: cannot set up cancellation\n", cli->prog);
        return 0;
    }
    fprintf(cli->out, "%s: overfitting one batch of %s examples for %s steps (%s on %s)\n",
            spec->name, o.batch, o.steps, hp_model_name(spec->trial.model),
            spec->trial.dataset.source ? spec->trial.dataset.source : "?");
    hp_runner_run(&t, NULL, on_progress, &curve, &cancel, &out);
    hp_cancel_fini(&cancel);

    if (out.status != HP_RUNNER_COMPLETED && curve.n == 0) {
        /* the model did not even run: the guide's first step failed */
        fprintf(cli->out, "FAIL: the model does not run: %s\n", out.error);
    } else {
        hp_sanity_heldout_t ho;
        hp_sanity_heldout_read(&ho, final_metric, &out, batch);
        hp_buf_t why = {0};
        if (hp_sanity_judge_steps(curve.loss, curve.step, curve.n, threshold, &ho, &why)) {
            *exit_code = HP_EXIT_OK;
        } else if (may_repeat && out.status == HP_RUNNER_COMPLETED &&
                   hp_sanity_wants_longer(curve.loss, curve.step, curve.n, threshold)) {
            longer = 1;
            hp_buf_reset(&why);
            hp_buf_printf(&why,
                          "still memorising after %u steps (train_loss %.4g -> %.4g, falling "
                          "steadily): checking again with %u steps",
                          steps, curve.loss[0], curve.loss[curve.n - 1],
                          steps * HP_SANITY_LONGER);
        } else if (out.status != HP_RUNNER_COMPLETED && out.error[0]) {
            hp_buf_printf(&why, "\n  the run stopped: %s", out.error);
        }
        fprintf(cli->out, "%s\n", why.data);
        hp_buf_fini(&why);
    }
    hp_runner_outcome_fini(&out);
    free(curve.loss);
    free(curve.step);
    return longer;
}

static int cmd_check(hp_cli_t *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"steps", required_argument, NULL, 's'},
        {"batch", required_argument, NULL, 'b'},
        {"threshold", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    double steps = HP_SANITY_STEPS, batch = HP_SANITY_BATCH, threshold = HP_SANITY_THRESHOLD;
    int ch, steps_given = 0;
    while ((ch = getopt_long(argc, argv, ":s:b:t:", opts, NULL)) != -1) {
        double *dst = ch == 's' ? &steps : ch == 'b' ? &batch : ch == 't' ? &threshold : NULL;
        if (!dst)
            return hp_cli_bad_option(cli, &hp_cmd_check, ch, argc, argv);
        steps_given |= ch == 's';
        if (parse_pos(optarg, dst) < 0 || (ch != 't' && (*dst != floor(*dst) || *dst > 1e7)))
            return hp_cli_usage_error(cli, &hp_cmd_check, "--%s: expected a positive %s, got '%s'",
                                      ch == 's' ? "steps" : ch == 'b' ? "batch" : "threshold",
                                      ch == 't' ? "number" : "whole number", optarg);
    }
    hp_spec_t spec;
    const char *path;
    int rc0 = hp_cli_load_spec(cli, &hp_cmd_check, argc, argv, optind, &spec, &path,
                               "nothing was trained");
    if (rc0)
        return rc0;
    if (spec.trial.kind != HP_TRIAL_MODEL) {
        not_a_model(cli, &spec, path);
        hp_spec_fini(&spec);
        return HP_EXIT_OK;
    }

    /* the study's trial section as a worker gets it; the one-batch
     * settings go last, as parameters, so they override the study's own */
    hp_buf_t tj = {0};
    hp_spec_trial_to_json(&spec, &tj);
    int exit_code = HP_EXIT_FAIL;
    /* the coordinator's rule: a default-length run that ends still
     * memorising is run again, HP_SANITY_LONGER times as long, and that run
     * decides; --steps N is run as asked */
    for (int again = !steps_given;;) {
        int longer = check_once(cli, &spec, &tj, (unsigned)steps, batch, threshold, again,
                                &exit_code);
        if (!longer)
            break;
        steps *= HP_SANITY_LONGER;
        again = 0;
    }
    hp_buf_fini(&tj);
    hp_spec_fini(&spec);
    return exit_code;
}

