#define _GNU_SOURCE /* asprintf */
/* The built-in model runner: trial_json + params -> hp_train_config_t ->
 * hp_train_run, with one PROGRESS per epoch. */
#include "runner_int.h"

#include "baselines.h"
#include "cancel.h"
#include "err.h"
#include "error_analysis.h"
#include "outcome.h"
#include "train.h"
#include "trial_json.h"
#include "trial_settings.h"

#include <libfyaml.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct model_ctx {
    hp_runner_progress_cb cb;
    void *data;
    hp_cancel_t *cancel;
    hp_runner_outcome_t *out;
} model_ctx_t;

static void add(hp_runner_metric_t *m, size_t *n, const char *name, double v)
{
    if (isnan(v)) /* not measured (e.g. no validation split) */
        return;
    snprintf(m[*n].name, sizeof m[*n].name, "%s", name);
    m[(*n)++].value = v;
}

static size_t epoch_metrics(const hp_train_epoch_t *e, hp_runner_metric_t *m)
{
    size_t n = 0;
    add(m, &n, "train_loss", e->train_loss);
    add(m, &n, "train_error", e->train_error);
    add(m, &n, "val_loss", e->val_loss);
    add(m, &n, "val_error", e->val_error);
    add(m, &n, "shift_val_loss", e->shift_val_loss); /* NAN (left out) without a shift */
    add(m, &n, "shift_val_error", e->shift_val_error);
    add(m, &n, "lr", e->lr);
    add(m, &n, "samples_per_sec", e->samples_per_sec);
    add(m, &n, "seconds", e->seconds);
    return n;
}

static int on_epoch(const hp_train_epoch_t *e, void *data)
{
    model_ctx_t *c = data;
    hp_runner_metric_t m[16];
    size_t n = epoch_metrics(e, m);
    HP_ASSERT(n <= HP_ARRAY_LEN(m));
    for (size_t i = 0; i < n; i++)
        hp_outcome_put(c->out, m[i].name, m[i].value);
    if (c->cb)
        c->cb(e->epoch, m, n, c->data);
    return hp_cancel_requested(c->cancel);
}

/* set one engine setting; the engine's message names the problem */
static int set(hp_train_config_t *cfg, const char *name, const char *value,
               hp_runner_outcome_t *out)
{
    char err[1024];
    if (hp_train_config_set(cfg, name, value, err, sizeof err) < 0) {
        hp_outcome_fail(out, "%s", err);
        return -1;
    }
    return 0;
}

static int set_node(hp_train_config_t *cfg, const char *name, struct fy_node *n,
                    hp_runner_outcome_t *out)
{
    if (!n)
        return 0;
    char *v = hp_tj_text(n);
    int rc = set(cfg, name, v, out);
    free(v);
    return rc;
}

/* dataset_config applies the spec's trial.dataset: each key sets the
 * settings hp_trial_dataset_keys says (the spec's words are the table's
 * to translate, not this file's) */
static int dataset_config(hp_train_config_t *cfg, struct fy_node *ds, hp_runner_outcome_t *out)
{
    if (!ds) {
        hp_outcome_fail(out, "trial.dataset is missing");
        return -1;
    }
    if (fy_node_is_scalar(ds)) { /* the spec's short form */
        char *s = hp_tj_text(ds);
        char *v = s;
        if (hp_trial_dataset_is_path(s, strlen(s)) && asprintf(&v, "csv:%s", s) < 0)
            v = NULL;
        HP_ASSERT(v);
        int rc = set(cfg, "dataset", v, out);
        if (v != s)
            free(v);
        free(s);
        return rc;
    }
    if (!hp_tj_get(ds, "name") && !hp_tj_get(ds, "path")) {
        hp_outcome_fail(out, "trial.dataset names neither a dataset nor a path");
        return -1;
    }
    for (size_t i = 0; i < hp_trial_dataset_keys_n; i++) {
        const hp_trial_dataset_key_t *k = &hp_trial_dataset_keys[i];
        char *v = hp_tj_text(hp_tj_get(ds, k->key)), *pv = NULL;
        int rc = 0;
        if (!v)
            continue;
        if (k->when_true) {
            if (!strcmp(v, "true"))
                rc = set(cfg, k->setting, k->when_true, out);
        } else if (k->prefix) {
            HP_ASSERT(asprintf(&pv, "%s%s", k->prefix, v) >= 0);
            rc = set(cfg, k->setting, pv, out);
        } else {
            rc = set(cfg, k->setting, v, out);
        }
        free(pv);
        free(v);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* adapt=coral with adapt_compare: the same trial (seed, stream,
 * hyperparameters) trained without adaptation, so the report can set the
 * distribution-shift term with CORAL against the one without it. Its
 * validation errors go in as *_noadapt metrics. A failure of this second
 * run costs the trial nothing but those metrics. */
static int without_adaptation(const hp_train_config_t *cfg, hp_runner_outcome_t *out, char *err,
                              size_t errlen)
{
    hp_train_config_t twin = *cfg;
    snprintf(twin.adapt, sizeof twin.adapt, "none");
    twin.baselines = 0;
    twin.initial_eval = 0;
    twin.errors = NULL;
    hp_train_result_t res;
    int rc = hp_train_run(&twin, NULL, NULL, &res, err, errlen);
    if (rc < 0)
        return rc;
    static const struct {
        const char *name;
        size_t off;
    } m[] = {
        {"val_error_noadapt", offsetof(hp_train_result_t, last.val_error)},
        {"shift_val_error_noadapt", offsetof(hp_train_result_t, shift_val_error)},
        {"test_error_noadapt", offsetof(hp_train_result_t, test_error)},
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(m); i++) {
        double v = *(const double *)((const char *)&res + m[i].off);
        if (!isnan(v))
            hp_outcome_put(out, m[i].name, v);
    }
    return 0;
}

int hp_run_model(struct fy_node *root, const hp_runner_trial_t *t, const hp_runner_opts_t *o,
                 hp_runner_progress_cb cb, void *data, hp_cancel_t *cancel,
                 hp_runner_outcome_t *out)
{
    hp_train_config_t cfg;
    hp_train_config_defaults(&cfg);
    /* the coordinator diagnoses each trial's curve: give it the starting
     * point (a spec may still turn it off with fixed: {initial_eval: 0}) */
    cfg.initial_eval = 1;
    /* and "compare to a known result": the report sets the best trial
     * against these (fixed: {baselines: 0} turns them off) */
    cfg.baselines = 1;
    /* the study's seed with the trial's number as the stream: every trial
     * trains and is scored on the same splits (and the baselines are the
     * same for all), while its initialization, shuffling, dropout and
     * augmentation are its own */
    cfg.seed = t->study_seed;
    cfg.stream = t->number;
    cfg.threads = o->blas_threads > 0 ? o->blas_threads : 1;
    cfg.cache = o->data_cache;

    if (set_node(&cfg, "model", hp_tj_get(root, "model"), out) < 0 ||
        dataset_config(&cfg, hp_tj_get(root, "dataset"), out) < 0 ||
        set_node(&cfg, "epochs", hp_tj_get(root, "epochs"), out) < 0)
        return 0;
    struct fy_node *fixed = hp_tj_get(root, "fixed");
    if (fixed && fy_node_is_mapping(fixed)) {
        void *it = NULL;
        struct fy_node_pair *p;
        while ((p = fy_node_mapping_iterate(fixed, &it)) != NULL) {
            char *k = hp_tj_text(fy_node_pair_key(p));
            int rc = set_node(&cfg, k, fy_node_pair_value(p), out);
            free(k);
            if (rc < 0)
                return 0;
        }
    }
    for (size_t i = 0; i < t->n_params; i++)
        if (set(&cfg, t->params[i].name, t->params[i].value, out) < 0)
            return 0;

    /* the engine polls the flag before every step, so a cancel (or a
     * diverging trial stopped by the coordinator) ends the run within one
     * step instead of at the end of an epoch */
    if (cancel)
        cfg.cancel = &cancel->requested;
    model_ctx_t c = {.cb = cb, .data = data, .cancel = cancel, .out = out};
    hp_train_result_t res;
    memset(&res, 0, sizeof res);
    char err[1024] = "";
    /* error analysis of a classifier's test set goes with the result */
    hp_ea_t *ea = calloc(1, sizeof *ea);
    cfg.errors = ea;
    int rc = hp_train_run(&cfg, on_epoch, &c, &res, err, sizeof err);
    if (ea && rc == 0 && ea->nclasses > 0) {
        out->errors = ea;
    } else if (ea) {
        hp_ea_fini(ea);
        free(ea);
    }
    if (rc == HP_ECANCELED) {
        out->status = HP_RUNNER_CANCELLED;
        snprintf(out->error, sizeof out->error, "cancelled after %d epochs", res.epochs_done);
        return 0;
    }
    if (rc < 0) {
        hp_outcome_fail(out, "%s", err[0] ? err : hp_strerror(rc));
        return 0;
    }
    if (strcmp(cfg.adapt, "coral") == 0 && cfg.adapt_compare) {
        rc = without_adaptation(&cfg, out, err, sizeof err);
        if (rc == HP_ECANCELED) {
            out->status = HP_RUNNER_CANCELLED;
            snprintf(out->error, sizeof out->error, "cancelled while training without adaptation");
            return 0;
        }
    }
    if (!isnan(res.test_loss))
        hp_outcome_put(out, "test_loss", res.test_loss);
    if (!isnan(res.test_error))
        hp_outcome_put(out, "test_error", res.test_error);
    /* the final train_loss / train_error are the final model's on the
     * training split in evaluation mode (hp_train_result_t), not the last
     * epoch's running average: the report's training error */
    if (!isnan(res.final_train_error)) {
        hp_outcome_put(out, "train_loss", res.final_train_loss);
        hp_outcome_put(out, "train_error", res.final_train_error);
    }
    /* final values: the coordinator stores these at step -1, where the
     * report reads shift_val_error and the baselines */
    static const struct {
        const char *name;
        size_t off;
    } finals[] = {
        {"shift_val_loss", offsetof(hp_train_result_t, shift_val_loss)},
        {"shift_val_error", offsetof(hp_train_result_t, shift_val_error)},
        {HP_BASELINE_MAJORITY_METRIC, offsetof(hp_train_result_t, baseline_majority_error)},
        {HP_BASELINE_LINEAR_METRIC, offsetof(hp_train_result_t, baseline_linear_error)},
        /* chance level on the validation set (the sanity check's held-out
         * test compares val_error with it) */
        {"val_chance_error", offsetof(hp_train_result_t, val_chance_error)},
        /* regression's counterpart: do predictions go with the targets */
        {"val_pred_corr", offsetof(hp_train_result_t, val_pred_corr)},
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(finals); i++) {
        double v = *(const double *)((const char *)&res + finals[i].off);
        if (!isnan(v))
            hp_outcome_put(out, finals[i].name, v);
    }
    if (res.nval)
        hp_outcome_put(out, "val_examples", (double)res.nval);
    if (res.nclasses)
        hp_outcome_put(out, "classes", res.nclasses);
    hp_outcome_put(out, "epochs", res.epochs_done);
    hp_outcome_put(out, "steps", (double)res.steps);
    hp_outcome_put(out, "nparams", (double)res.nparams);
    hp_outcome_put(out, "train_gflops", res.train_gflops);
    hp_outcome_put(out, "seconds", res.seconds);

    const char *obj = t->objective ? t->objective : "";
    const hp_runner_metric_t *m = hp_outcome_find(out, obj);
    if (!m) {
        hp_outcome_fail(out, "the built-in model never reported the objective '%s' (it reports "
                             "train_loss, train_error, val_loss, val_error, test_loss, test_error, and "
                             "shift_val_loss, shift_val_error with a dataset shift)",
                        obj);
        return 0;
    }
    out->value = m->value;
    out->status = HP_RUNNER_COMPLETED;
    return 0;
}
