/* hp_runner_run: pick the runner kind from trial_json and time the trial.
 * This file sits on top of the runner: it calls the kinds (runner_int.h)
 * and the helpers below them (cancel, outcome, trial_json, clock); none of
 * them calls back up. */
#include "runner_int.h"

#include "cancel.h"
#include "clock.h"
#include "outcome.h"
#include "trial_json.h"

#include <libfyaml.h>
#include <stdio.h>
#include <string.h>

int hp_runner_is_quick(const hp_runner_trial_t *t)
{
    const char *p = t->trial_json;
    if (!p)
        return 0;
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    if (*p++ != '{')
        return 0;
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return strncmp(p, "\"function\"", 10) == 0;
}

int hp_runner_awaits_verdict(const hp_runner_trial_t *t)
{
    if (!t->trial_json || hp_runner_is_quick(t))
        return 0;
    char err[256];
    struct fy_diag *diag;
    struct fy_document *d = hp_tj_parse(t->trial_json, &diag, err, sizeof err);
    if (!d)
        return 0;
    struct fy_node *root = fy_document_root(d);
    /* the kind hp_runner_run picks below */
    int model = !hp_tj_get(root, "command") && !hp_tj_get(root, "function") &&
                hp_tj_get(root, "model") != NULL;
    fy_document_destroy(d);
    fy_diag_destroy(diag);
    return model;
}

int hp_runner_run(const hp_runner_trial_t *t, const hp_runner_opts_t *opts,
                  hp_runner_progress_cb cb, void *data, hp_cancel_t *cancel,
                  hp_runner_outcome_t *out)
{
    static const hp_runner_opts_t defaults = {0};
    memset(out, 0, sizeof *out);
    out->status = HP_RUNNER_FAILED;
    double t0 = hp_clock_now();
    if (!opts)
        opts = &defaults;

    char err[256];
    struct fy_diag *diag;
    struct fy_document *d = hp_tj_parse(t->trial_json ? t->trial_json : "", &diag, err, sizeof err);
    if (!d) {
        hp_outcome_fail(out, "%s", err);
        return 0;
    }
    struct fy_node *root = fy_document_root(d);
    if (hp_cancel_requested(cancel)) {
        out->status = HP_RUNNER_CANCELLED;
        snprintf(out->error, sizeof out->error, "cancelled before it started");
    } else if (hp_tj_get(root, "command"))
        hp_run_external(root, t, opts, cb, data, cancel, out);
    else if (hp_tj_get(root, "function"))
        hp_run_function(root, t, cb, data, out);
    else if (hp_tj_get(root, "model"))
        hp_run_model(root, t, opts, cb, data, cancel, out);
    else
        hp_outcome_fail(out, "trial_json names no command, function or model");
    fy_document_destroy(d);
    fy_diag_destroy(diag);
    if (out->status == HP_RUNNER_COMPLETED)
        out->error[0] = '\0';
    out->duration_s = hp_clock_now() - t0;
    return 0;
}
