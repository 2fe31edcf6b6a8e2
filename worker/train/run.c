/* hp_train_run: data, splits, normalization, the epoch loop, metrics. */
#include "coral.h"
#include "models_int.h"
#include "train.h"

#include "clock.h"
#include "err.h"
#include "error_analysis.h"
#include "gemm.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* a size setting: < 1 is a fraction of n, otherwise a count */
static size_t size_of(double v, size_t n)
{
    if (v <= 0)
        return 0;
    if (v < 1)
        return (size_t)(v * (double)n + 0.5);
    return (size_t)v;
}

typedef struct run {
    const hp_train_config_t *cfg;
    /* the data, read only: the cache's (cfg->cache) or own_* */
    const hp_dataset_t *train, *test; /* test: fashion-mnist only (else n = 0) */
    hp_dataset_t own_train, own_test;  /* loaded for this run, or the shifted copy */
    hp_data_lease_t lease;
    hp_split_t split;
    const uint32_t *test_idx;
    size_t ntest;
    hp_split_t tsplit;         /* shift: the shifted test set into shift_val, test */
    const uint32_t *shift_idx; /* test-distribution validation (shift set) */
    size_t nshift;
    uint32_t *owned_idx;      /* identity indices for a separate test set */
    uint32_t *order;          /* shuffled training indices, per epoch */
    long *pred, *vcount;      /* classifier: predicted and true validation classes */
    double *reg;              /* regression: per-output sums (hp_trainer_evaluate_pred) */
    hp_norm_t norm;
    hp_trainer_t tr;
    hp_coral_t coral;         /* adapt=coral: maps source-distribution inputs */
    int adapt;
} run_t;

static hp_shift_kind_t shift_kind(const char *s)
{
    if (!strcmp(s, "darken"))
        return HP_SHIFT_DARKEN;
    if (!strcmp(s, "noise"))
        return HP_SHIFT_NOISE;
    if (!strcmp(s, "same"))
        return HP_SHIFT_SAME;
    return HP_SHIFT_NONE;
}

/* dataset.image_columns / feature_columns: the CSV's columns as an image
 * and a feature vector, in a copy of the data owned by this run */
static int choose_columns(run_t *r, char *err, size_t errlen)
{
    const hp_train_config_t *cfg = r->cfg;
    int img[3] = {0, 0, 0};
    if (cfg->image_columns[0] && hp_train_image_shape(cfg->image_shape, img) < 0)
        return hp_errf(err, errlen, HP_EINVAL,
                       "image_columns needs image_shape C,H,W (got '%s')", cfg->image_shape);
    hp_dataset_t sel;
    int rc = hp_dataset_columns(&sel, r->train, cfg->image_columns, img, cfg->feature_columns,
                                err, errlen);
    if (rc < 0)
        return rc;
    hp_dataset_fini(&r->own_train); /* the whole file, when not the cache's */
    r->own_train = sel;
    r->train = &r->own_train;
    return 0;
}

/* dataset.sequence_columns: the CSV's columns as T steps of F features,
 * in a copy of the data owned by this run */
static int choose_sequence(run_t *r, char *err, size_t errlen)
{
    const hp_train_config_t *cfg = r->cfg;
    int shape[2];
    if (hp_train_sequence_shape(cfg->sequence_shape, shape) < 0)
        return hp_errf(err, errlen, HP_EINVAL,
                       "sequence_columns needs sequence_shape T,F (got '%s')",
                       cfg->sequence_shape);
    if (cfg->image_columns[0] || cfg->feature_columns[0])
        return hp_errf(err, errlen, HP_EINVAL,
                       "sequence_columns cannot be combined with %s: a sequence dataset's "
                       "input is its sequence alone",
                       cfg->image_columns[0] ? "image_columns" : "feature_columns");
    hp_dataset_t sel;
    int rc = hp_dataset_sequence(&sel, r->train, cfg->sequence_columns, shape, err, errlen);
    if (rc < 0)
        return rc;
    hp_dataset_fini(&r->own_train);
    r->own_train = sel;
    r->train = &r->own_train;
    return 0;
}

/* the image models convolve rows and columns: a sequence has neither */
static int check_model_reads(const run_t *r, char *err, size_t errlen)
{
    static const char *const image_only[] = {"lenet", "resnet", "multimodal"};
    if (!r->train->seq_t)
        return 0;
    for (size_t i = 0; i < HP_ARRAY_LEN(image_only); i++)
        if (strcmp(r->cfg->model, image_only[i]) == 0)
            return hp_errf(err, errlen, HP_EINVAL,
                           "model %s reads images, not a sequence: on a sequence dataset "
                           "(sequence_columns) use lstm, tcn or attention, or mlp (which "
                           "flattens it)",
                           r->cfg->model);
    return 0;
}

static int load(run_t *r, char *err, size_t errlen)
{
    const hp_train_config_t *cfg = r->cfg;
    int rc;
    if (strcmp(cfg->dataset, "fashion-mnist") == 0) {
        if (cfg->image_columns[0] || cfg->feature_columns[0] || cfg->sequence_columns[0])
            return hp_errf(err, errlen, HP_EINVAL,
                           "image_columns / feature_columns / sequence_columns choose a CSV's "
                           "columns; fashion-mnist has none");
        if (cfg->cache)
            rc = hp_data_cache_fashion(cfg->cache, cfg->data_dir, &r->lease, err, errlen);
        else
            rc = hp_fashion_mnist_load(&r->own_train, &r->own_test, cfg->data_dir, err, errlen);
        if (rc < 0)
            return rc;
        r->train = cfg->cache ? r->lease.train : &r->own_train;
        r->test = cfg->cache ? r->lease.test : &r->own_test;
        size_t nval = size_of(cfg->val_size, r->train->n);
        size_t ntr = size_of(cfg->train_size, r->train->n);
        rc = hp_split_init(&r->split, r->train, 0, nval, ntr, cfg->seed, err, errlen);
        if (rc < 0)
            return rc;
        r->owned_idx = malloc(sizeof(uint32_t) * r->test->n);
        if (!r->owned_idx)
            return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
        for (size_t i = 0; i < r->test->n; i++)
            r->owned_idx[i] = (uint32_t)i;
        r->test_idx = r->owned_idx;
        r->ntest = r->test->n;
        if (shift_kind(cfg->shift) != HP_SHIFT_NONE) {
            /* the shift rewrites the images: never the cache's */
            if (r->test != &r->own_test) {
                rc = hp_dataset_copy(&r->own_test, r->test, err, errlen);
                if (rc < 0)
                    return rc;
                r->test = &r->own_test;
            }
            rc = hp_data_shift(&r->own_test, shift_kind(cfg->shift), err, errlen);
            if (rc < 0)
                return rc;
            size_t nsv = size_of(cfg->shift_val_size, r->test->n);
            if (nsv == 0 || nsv >= r->test->n - 1)
                return hp_errf(err, errlen, HP_EINVAL,
                               "shift_val_size %g: must leave both a test-distribution "
                               "validation set and a test set (the test set has %zu samples)",
                               cfg->shift_val_size, r->test->n);
            /* a split of the shifted test set: shift_val is its "val",
             * the test examples its "train" part, so the two are disjoint
             * and the same for every trial of a study (seed only) */
            rc = hp_split_init(&r->tsplit, r->test, 0, nsv, 0, cfg->seed, err, errlen);
            if (rc < 0)
                return rc;
            r->shift_idx = r->tsplit.val;
            r->nshift = r->tsplit.nval;
            r->test_idx = r->tsplit.train;
            r->ntest = r->tsplit.ntrain;
        }
        return 0;
    }
    if (shift_kind(cfg->shift) != HP_SHIFT_NONE)
        return hp_errf(err, errlen, HP_EINVAL,
                       "shift: '%s' needs an image dataset (fashion-mnist), not '%s'", cfg->shift,
                       cfg->dataset);
    if (strncmp(cfg->dataset, "csv:", 4) == 0) {
        hp_task_t task = strcmp(cfg->task, "regression") == 0 ? HP_TASK_REGRESS : HP_TASK_CLASSIFY;
        const char *label = cfg->label[0] ? cfg->label : NULL;
        if (cfg->cache)
            rc = hp_data_cache_csv(cfg->cache, cfg->dataset + 4, label, task, &r->lease, err,
                                   errlen);
        else
            rc = hp_csv_load(&r->own_train, cfg->dataset + 4, label, task, err, errlen);
        if (rc < 0)
            return rc;
        r->train = cfg->cache ? r->lease.train : &r->own_train;
        r->test = cfg->cache ? r->lease.test : &r->own_test;
        if (cfg->sequence_columns[0] || cfg->sequence_shape[0]) {
            if (!cfg->sequence_columns[0])
                return hp_errf(err, errlen, HP_EINVAL,
                               "sequence_shape needs sequence_columns (the columns it shapes)");
            rc = choose_sequence(r, err, errlen);
        } else if (cfg->image_columns[0] || cfg->feature_columns[0]) {
            rc = choose_columns(r, err, errlen);
        }
        if (rc < 0 || (rc = check_model_reads(r, err, errlen)) < 0)
            return rc;
        size_t n = r->train->n;
        size_t ntest = size_of(cfg->test_size, n);
        size_t nval = size_of(cfg->val_size, n - (ntest < n ? ntest : n));
        size_t ntr = size_of(cfg->train_size, n);
        rc = hp_split_init(&r->split, r->train, ntest, nval, ntr, cfg->seed, err, errlen);
        if (rc < 0)
            return rc;
        r->test_idx = r->split.test;
        r->ntest = r->split.ntest;
        return 0;
    }
    return hp_errf(err, errlen, HP_EINVAL,
                   "dataset: unknown dataset '%s' (use fashion-mnist or csv:PATH)", cfg->dataset);
}

static hp_norm_kind_t norm_kind(const char *s)
{
    if (!strcmp(s, "unit"))
        return HP_NORM_UNIT;
    if (!strcmp(s, "center"))
        return HP_NORM_CENTER;
    if (!strcmp(s, "none"))
        return HP_NORM_NONE;
    return HP_NORM_STANDARD;
}

/* mean loss and error over idx[0..n) in evaluation mode; source: the
 * inputs are of the training distribution (the training and validation
 * splits), which domain adaptation maps as it maps training batches */
static void evaluate(run_t *r, const hp_dataset_t *ds, const uint32_t *idx, size_t n,
                     int source, double *loss, double *error)
{
    r->tr.coral = source && r->adapt ? &r->coral : NULL;
    hp_trainer_evaluate(&r->tr, r->cfg->batch_size, ds, idx, n, &r->norm, loss, error);
    r->tr.coral = NULL;
}

/* the validation split; for a classifier also the error its predictions
 * would have by chance (hp_train_result_t.val_chance_error), for a
 * regression model how its predictions correlate with the targets
 * (val_pred_corr) */
static void evaluate_val(run_t *r, double *loss, double *error, hp_train_result_t *res)
{
    size_t n = r->split.nval;
    r->tr.coral = r->adapt ? &r->coral : NULL;
    hp_trainer_evaluate_pred(&r->tr, r->cfg->batch_size, r->train, r->split.val, n, &r->norm,
                             loss, error, r->pred, r->reg);
    r->tr.coral = NULL;
    if (n == 0)
        return;
    if (r->pred) {
        double agree = 0;
        for (int k = 0; k < r->train->nclasses; k++)
            agree += (double)r->pred[k] * (double)r->vcount[k];
        res->val_chance_error = 1.0 - agree / ((double)n * (double)n);
    }
    if (r->reg) {
        /* Pearson's r per output, averaged; NAN if an output's predictions
         * or targets are constant */
        double sum = 0, dn = (double)n;
        int nout = r->tr.nout;
        for (int k = 0; k < nout; k++) {
            const double *s = r->reg + 5 * (size_t)k;
            double cpp = s[2] - s[0] * s[0] / dn, ctt = s[3] - s[1] * s[1] / dn;
            double cpt = s[4] - s[0] * s[1] / dn;
            sum += cpp > 0 && ctt > 0 ? cpt / sqrt(cpp * ctt) : NAN;
        }
        res->val_pred_corr = sum / nout;
    }
}

/* the test-distribution validation set; NAN without a shift */
static void evaluate_shift(run_t *r, double *loss, double *error)
{
    *loss = *error = NAN;
    if (r->nshift)
        evaluate(r, r->test, r->shift_idx, r->nshift, 0, loss, error);
}

/* adapt=coral: the map from the training split's inputs to the shifted
 * test distribution's, estimated from the test-distribution validation
 * set's inputs without their labels (the test set stays unseen) */
static int fit_coral(run_t *r, char *err, size_t errlen)
{
    if (r->nshift == 0)
        return hp_errf(err, errlen, HP_EINVAL,
                       "adapt: coral needs unlabeled inputs of the test distribution: set shift "
                       "(darken | noise | same), whose test-distribution validation set's inputs "
                       "it aligns the training inputs with");
    int rc = hp_coral_fit(&r->coral, r->train, r->split.train, r->split.ntrain, r->test,
                          r->shift_idx, r->nshift, &r->norm, r->cfg->batch_size, err, errlen);
    r->adapt = rc == 0;
    return rc;
}

/* validation sets at epochs that are multiples of eval_every (epoch 0
 * included) and after the last epoch */
static int eval_due(const hp_train_config_t *cfg, int epoch)
{
    return cfg->eval_every <= 1 || epoch % cfg->eval_every == 0 || epoch >= cfg->epochs;
}

/* the test set's confusion matrix and worst examples, into cfg->errors;
 * a class count beyond what the analysis keeps leaves it empty */
static int analyze(run_t *r, const hp_dataset_t *tds, char *err, size_t errlen)
{
    int k = r->train->nclasses;
    if (k > HP_EA_MAX_CLASSES)
        return 0;
    int c = 0, h = 0, w = 0;
    if (tds->x8) {
        c = tds->c;
        h = tds->h;
        w = tds->w;
    } else if (tds->img_c > 0) {
        c = tds->img_c;
        h = tds->img_h;
        w = tds->img_w;
    }
    int rc = hp_ea_init(r->cfg->errors, k, c, h, w, err, errlen);
    if (rc == 0)
        hp_train_analyze(&r->tr, r->cfg->batch_size, tds, r->test_idx, r->ntest, &r->norm,
                         r->cfg->errors);
    return rc;
}

/* CPU time of the whole process (every BLAS thread), in seconds */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void run_fini(run_t *r)
{
    hp_trainer_fini(&r->tr);
    hp_coral_fini(&r->coral);
    hp_norm_fini(&r->norm);
    hp_split_fini(&r->split);
    hp_split_fini(&r->tsplit);
    free(r->owned_idx);
    free(r->order);
    free(r->pred);
    free(r->vcount);
    free(r->reg);
    if (r->lease.entry)
        hp_data_cache_release(r->cfg->cache, &r->lease);
    hp_dataset_fini(&r->own_train);
    hp_dataset_fini(&r->own_test);
}

int hp_train_run(const hp_train_config_t *cfg, hp_train_epoch_cb cb, void *data,
                 hp_train_result_t *res, char *err, size_t errlen)
{
    run_t r;
    memset(&r, 0, sizeof r);
    memset(res, 0, sizeof *res);
    res->test_loss = res->test_error = NAN;
    res->final_train_loss = res->final_train_error = NAN;
    res->shift_val_loss = res->shift_val_error = NAN;
    res->baseline_majority_error = res->baseline_linear_error = NAN;
    res->val_chance_error = res->val_pred_corr = NAN;
    if (cfg->errors)
        memset(cfg->errors, 0, sizeof *cfg->errors);
    r.cfg = cfg;
    r.train = &r.own_train; /* until load() lends or loads the data */
    r.test = &r.own_test;
    double t0 = hp_clock_now();
    hp_nn_set_threads(cfg->threads);
    int rc = load(&r, err, errlen);
    if (rc == 0)
        rc = hp_norm_fit(&r.norm, r.train, r.split.train, r.split.ntrain,
                         norm_kind(cfg->normalize), err, errlen);
    if (rc == 0 && (cfg->augment_shift || cfg->augment_flip) && !r.train->x8)
        rc = hp_errf(err, errlen, HP_EINVAL, "augment_shift / augment_flip need an image dataset");
    if (rc == 0 && strcmp(cfg->adapt, "coral") == 0)
        rc = fit_coral(&r, err, errlen);
    if (rc == 0)
        rc = hp_trainer_init(&r.tr, cfg, r.train->c, r.train->h, r.train->w, r.train->nclasses,
                             r.train->task, err, errlen);
    if (rc == 0 && !(r.order = malloc(sizeof(uint32_t) * r.split.ntrain)))
        rc = hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    if (rc == 0 && r.train->task == HP_TASK_CLASSIFY && r.split.nval) {
        r.pred = calloc((size_t)r.train->nclasses, sizeof *r.pred);
        r.vcount = calloc((size_t)r.train->nclasses, sizeof *r.vcount);
        if (!r.pred || !r.vcount)
            rc = hp_errf(err, errlen, HP_ENOMEM, "out of memory");
        for (size_t i = 0; rc == 0 && i < r.split.nval; i++)
            r.vcount[r.train->y[r.split.val[i]]]++;
    }
    if (rc == 0 && r.train->task == HP_TASK_REGRESS && r.split.nval &&
        !(r.reg = calloc(5 * (size_t)r.tr.nout, sizeof *r.reg)))
        rc = hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    if (rc < 0) {
        run_fini(&r);
        return rc;
    }
    res->nparams = r.tr.model.nparams;
    res->nclasses = r.train->task == HP_TASK_CLASSIFY ? r.train->nclasses : 0;
    res->ntrain = r.split.ntrain;
    res->nval = r.split.nval;
    res->ntest = r.ntest;
    res->nshift_val = r.nshift;
    memcpy(r.order, r.split.train, sizeof(uint32_t) * r.split.ntrain);
    hp_rng_t shuf, aug_rng;
    hp_rng_init(&shuf, cfg->seed, cfg->stream * 8 + 4);
    hp_rng_init(&aug_rng, cfg->seed, cfg->stream * 8 + 5);
    hp_augment_t aug = {cfg->augment_shift, cfg->augment_flip};
    int Bmax = cfg->batch_size;
    size_t ntr = r.split.ntrain;
    long steps_per_epoch = (long)((ntr + (size_t)Bmax - 1) / (size_t)Bmax);
    r.tr.sched.total_steps = steps_per_epoch * cfg->epochs;
    double train_time = 0;
    uint64_t flops = 0;
    int stop = 0;
    if (cfg->initial_eval) {
        /* Where the curve starts: a loss that explodes within the first
         * epoch shows only as a huge epoch-1 average unless the starting
         * value is known. Up to 4096 training examples keep it cheap. */
        hp_train_epoch_t m = {0};
        size_t n0 = ntr < 4096 ? ntr : 4096;
        evaluate(&r, r.train, r.split.train, n0, 1, &m.train_loss, &m.train_error);
        m.val_loss = m.val_error = m.shift_val_loss = m.shift_val_error = NAN;
        if (eval_due(cfg, 0)) {
            evaluate_val(&r, &m.val_loss, &m.val_error, res);
            evaluate_shift(&r, &m.shift_val_loss, &m.shift_val_error);
        }
        m.lr = hp_opt_schedule_lr(&r.tr.sched, 0, 0);
        m.seconds = hp_clock_now() - t0;
        if (cb && cb(&m, data))
            rc = hp_errf(err, errlen, HP_ECANCELED, "stopped before training at the caller's "
                                                    "request");
    }
    for (int ep = 0; ep < cfg->epochs && !stop && rc == 0; ep++) {
        hp_rng_shuffle_u32(&shuf, r.order, (uint32_t)ntr);
        double te = hp_clock_now(), ce = cpu_now(), ls = 0;
        uint64_t f0 = hp_nn_flops();
        long correct = 0;
        size_t seen = 0;
        float lr = 0;
        for (size_t i = 0; i < ntr; i += (size_t)Bmax) {
            if (cfg->max_steps && r.tr.step >= cfg->max_steps) {
                stop = 1;
                break;
            }
            if (cfg->cancel && atomic_load_explicit(cfg->cancel, memory_order_relaxed)) {
                rc = hp_errf(err, errlen, HP_ECANCELED, "cancelled in epoch %d after step %ld",
                             ep + 1, r.tr.step);
                break;
            }
            int B = ntr - i < (size_t)Bmax ? (int)(ntr - i) : Bmax;
            hp_data_gather(r.tr.model.input, r.tr.labels, r.tr.targets, r.train, r.order + i, B,
                           &r.norm, &aug, &aug_rng);
            if (r.adapt)
                hp_coral_apply(&r.coral, r.tr.model.input, B);
            lr = hp_opt_schedule_lr(&r.tr.sched, ep, r.tr.step);
            float l;
            int c;
            rc = hp_trainer_step(&r.tr, B, lr, &l, &c, err, errlen);
            if (rc < 0) {
                /* name the epoch too: "epoch 3, step 1234: ..." */
                char tmp[512];
                snprintf(tmp, sizeof tmp, "%s", err ? err : "");
                hp_errf(err, errlen, rc, "epoch %d, %s", ep + 1, tmp);
                break;
            }
            ls += (double)l * B;
            correct += c;
            seen += (size_t)B;
        }
        double dt = hp_clock_now() - te, dc = cpu_now() - ce;
        train_time += dt;
        flops += hp_nn_flops() - f0;
        if (rc < 0 || seen == 0)
            break;
        hp_train_epoch_t m = {0};
        m.epoch = ep + 1;
        m.step = r.tr.step;
        m.train_loss = ls / (double)seen;
        m.train_error = r.train->task == HP_TASK_CLASSIFY ? 1.0 - (double)correct / (double)seen
                                                        : sqrt(m.train_loss);
        m.val_loss = m.val_error = m.shift_val_loss = m.shift_val_error = NAN;
        if (eval_due(cfg, m.epoch)) {
            evaluate_val(&r, &m.val_loss, &m.val_error, res);
            evaluate_shift(&r, &m.shift_val_loss, &m.shift_val_error);
        }
        m.lr = lr;
        m.samples_per_sec = dt > 0 ? (double)seen / dt : 0;
        m.cpu_samples_per_sec = dc > 0 ? (double)seen / dc : 0;
        m.seconds = hp_clock_now() - t0;
        res->last = m;
        res->epochs_done = m.epoch;
        res->steps = m.step;
        if (cb && cb(&m, data)) {
            rc = hp_errf(err, errlen, HP_ECANCELED, "stopped after epoch %d at the caller's request",
                         m.epoch);
            break;
        }
    }
    if (rc == 0) {
        const hp_dataset_t *tds = r.test->n ? r.test : r.train;
        evaluate(&r, tds, r.test_idx, r.ntest, 0, &res->test_loss, &res->test_error);
        /* the split's order is already random (hp_split), so its first
         * examples are a fair sample */
        size_t nfin = ntr < HP_TRAIN_FINAL_EVAL ? ntr : HP_TRAIN_FINAL_EVAL;
        evaluate(&r, r.train, r.split.train, nfin, 1, &res->final_train_loss,
                 &res->final_train_error);
        evaluate_shift(&r, &res->shift_val_loss, &res->shift_val_error);
        if (cfg->errors && r.train->task == HP_TASK_CLASSIFY && r.ntest)
            rc = analyze(&r, tds, err, errlen);
        if (rc == 0 && cfg->baselines)
            rc = hp_train_baselines(cfg, r.train, r.split.train, r.split.ntrain, tds, r.test_idx,
                                    r.ntest, &r.norm, res, err, errlen);
    }
    res->seconds = hp_clock_now() - t0;
    res->train_gflops = train_time > 0 ? (double)flops / train_time * 1e-9 : 0;
    res->blas_core = hp_nn_blas_core();
    res->gemm = hp_nn_gemm_kernel();
    res->precision = r.tr.model.bf16 ? "bf16" : "fp32";
    run_fini(&r);
    return rc;
}
