/* The decision rules of `hpsearch autopilot` (see autopilot_decide.h). */
#include "autopilot_decide.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const action_names[HP_AP_ACTION_COUNT] = {
    [HP_AP_DONE] = "done",
    [HP_AP_TUNE] = "tune_coarse_to_fine",
    [HP_AP_BAYES] = "tune_bayes",
    [HP_AP_LONGER] = "longer_training",
    [HP_AP_BIGGER] = "bigger_model",
    [HP_AP_LESS_REG] = "less_regularization",
    [HP_AP_ARCH] = "stronger_architecture",
    [HP_AP_MORE_DATA] = "more_data",
    [HP_AP_BATCHNORM] = "normalization_layers",
    [HP_AP_AUGMENT] = "augmentation",
    [HP_AP_REGULARIZE] = "more_regularization",
    [HP_AP_EARLY_STOP] = "early_stopping",
    [HP_AP_REBALANCE] = "larger_validation_set",
    [HP_AP_ADAPT] = "domain_adaptation",
    [HP_AP_STOP] = "no_step_left",
};

const char *hp_ap_action_name(hp_ap_action_t a)
{
    return (int)a >= 0 && a < HP_AP_ACTION_COUNT ? action_names[a] : "?";
}

int hp_ap_target_met(double value, double target, int maximize)
{
    return isfinite(value) && (maximize ? value >= target : value <= target);
}

const char *hp_ap_size_param(const hp_ap_config_t *c)
{
    switch (c->model) {
    case HP_MODEL_LENET: return "fc1";
    case HP_MODEL_RESNET:
    case HP_MODEL_TCN: return "channels";
    case HP_MODEL_ATTENTION: return NULL;
    default: return c->depth == 1 ? "hidden" : NULL;
    }
}

static int default_width(hp_model_t m)
{
    switch (m) {
    case HP_MODEL_LENET: return 120;
    case HP_MODEL_LSTM: return 128;
    case HP_MODEL_RESNET: return 16;
    case HP_MODEL_TCN:
    case HP_MODEL_ATTENTION: return 64;
    default: return 256;
    }
}

static int width_cap(hp_model_t m)
{
    switch (m) {
    case HP_MODEL_LENET: return HP_AP_MAX_WIDTH_LENET;
    case HP_MODEL_RESNET: return HP_AP_MAX_WIDTH_RESNET;
    case HP_MODEL_LSTM:
    case HP_MODEL_TCN:
    case HP_MODEL_ATTENTION: return HP_AP_MAX_WIDTH_SEQ;
    default: return HP_AP_MAX_WIDTH_MLP;
    }
}

void hp_ap_config_default(hp_ap_config_t *c, hp_model_t model, int images)
{
    memset(c, 0, sizeof *c);
    c->model = model;
    c->images = images;
    c->width = default_width(model);
    c->depth = 1;
    c->lr = 3e-4;
    c->validation_fraction = 0.1;
}

static int scaled(int base, int width)
{
    long v = lround((double)base * width / 120);
    return v < 1 ? 1 : (int)v;
}

int hp_ap_lenet_scale(const hp_ap_config_t *c)
{
    return c->lenet_scale > 0 ? c->lenet_scale : c->width;
}

void hp_ap_grow(hp_ap_config_t *c, int k)
{
    if (c->model == HP_MODEL_LENET)
        c->lenet_scale = hp_ap_lenet_scale(c) * k;
    c->width *= k;
}

void hp_ap_lenet_sizes(const hp_ap_config_t *c, int *conv1, int *conv2, int *fc2)
{
    int width = hp_ap_lenet_scale(c);
    *conv1 = scaled(6, width);
    *conv2 = scaled(16, width);
    *fc2 = scaled(84, width);
}

hp_model_t hp_ap_start_model(int images, int seq_t)
{
    return images ? HP_MODEL_LENET : seq_t > 0 ? HP_MODEL_LSTM : HP_MODEL_MLP;
}

/* the model of a config in words, with its size */
static void model_words(const hp_ap_config_t *c, char *out, size_t cap)
{
    switch (c->model) {
    case HP_MODEL_LENET: {
        int k1, k2, f2;
        hp_ap_lenet_sizes(c, &k1, &k2, &f2);
        snprintf(out, cap, "LeNet-like CNN (conv %d, conv %d, fc %d, fc %d)", k1, k2, c->width,
                 f2);
        break;
    }
    case HP_MODEL_LSTM:
        snprintf(out, cap, "one-layer LSTM, hidden %d", c->width);
        break;
    case HP_MODEL_MLP:
        snprintf(out, cap, "MLP with one hidden layer of %d", c->width);
        break;
    default:
        snprintf(out, cap, "%s, channels %d", hp_model_name(c->model), c->width);
        break;
    }
}

void hp_ap_start_reason(const hp_ap_config_t *c, int user_model, const char *source, char *out,
                        size_t cap)
{
    char data[160], model[120];
    if (c->seq_t > 0)
        snprintf(data, sizeof data, "sequence data (%d steps x %d feature%s)", c->seq_t, c->seq_f,
                 c->seq_f == 1 ? "" : "s");
    else if (c->images)
        snprintf(data, sizeof data, "images (%s)", source);
    else
        snprintf(data, sizeof data, "tabular data (%s)", source);
    model_words(c, model, sizeof model);
    snprintf(out, cap,
             "%s%s → %s; the guide's start simple: Adam lr %g, no regularization, normalized "
             "inputs, the sanity check and the baselines",
             data, user_model ? ", trial.model as the spec gives it" : "", model, c->lr);
}

/* the reason: the evidence, an arrow, then the step */
typedef struct words {
    char *s;
    size_t cap, n;
} words_t;

static void say(words_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(words_t *w, const char *fmt, ...)
{
    if (w->n >= w->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(w->s + w->n, w->cap - w->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        w->n = w->n + (size_t)k < w->cap ? w->n + (size_t)k : w->cap - 1;
}

static int tried(const hp_ap_input_t *in, hp_ap_action_t a)
{
    return (in->failed & HP_AP_BIT(a)) != 0;
}

static const char *size_name(const hp_ap_config_t *c)
{
    switch (c->model) {
    case HP_MODEL_LENET: return "fc1";
    case HP_MODEL_RESNET:
    case HP_MODEL_TCN:
    case HP_MODEL_ATTENTION: return "channels";
    default: return "hidden";
    }
}

/* the guide's "an architecture closer to the state of the art", one step
 * at a time: MLP → LeNet → ResNet for images, (MLP →) LSTM → TCN →
 * attention for sequences (a sequence CSV, or an image's rows from a given
 * lstm); -1 at the end of the line */
static int stronger(const hp_ap_config_t *c, const char **words)
{
    switch (c->model) {
    case HP_MODEL_MLP:
        if (c->seq_t > 0) {
            *words = "MLP → one-layer LSTM";
            return HP_MODEL_LSTM;
        }
        *words = "MLP → LeNet-like CNN";
        return c->images ? HP_MODEL_LENET : -1;
    case HP_MODEL_LENET:
        *words = "LeNet-like CNN → ResNet-like CNN (residual blocks with batch norm and "
                 "projection shortcuts)";
        return HP_MODEL_RESNET;
    case HP_MODEL_LSTM:
        *words = "LSTM → temporal convolutions (a WaveNet-like stack of causal dilated "
                 "convolutions)";
        return HP_MODEL_TCN;
    case HP_MODEL_TCN:
        *words = "temporal convolutions → a self-attention encoder";
        return HP_MODEL_ATTENTION;
    default:
        return -1;
    }
}

/* the under-fitting ladder; 0 when no step is left */
static int underfit(const hp_ap_input_t *in, hp_ap_decision_t *d, words_t *w)
{
    const hp_ap_config_t *c = in->cur;
    hp_ap_config_t *n = &d->next;
    int cap = width_cap(c->model);
    /* a model whose validation error was still at its best on the last
     * epoch, and still falling by a material amount, had not converged:
     * part of its bias is unfinished training, and judging its size on it
     * would be premature (a curve at its best by noise, or flattening,
     * goes on to a bigger model) */
    if (!tried(in, HP_AP_LONGER) && in->best_epoch > 0 && in->best_epoch >= in->epochs &&
        in->epochs < in->max_epochs && isfinite(in->late_gain) &&
        in->late_gain >= in->report->threshold) {
        n->epochs = in->epochs * 2 < in->max_epochs ? in->epochs * 2 : in->max_epochs;
        d->action = HP_AP_LONGER;
        say(w, "train longer: val_error was still at its best on the last epoch (%d of %d) "
               "and fell %.4f over the second half, epochs %d → %d",
            in->best_epoch, in->epochs, in->late_gain, in->epochs, n->epochs);
        return 1;
    }
    if (!tried(in, HP_AP_BIGGER)) {
        if (c->width * 2 <= cap) {
            hp_ap_grow(n, 2);
            d->action = HP_AP_BIGGER;
            if (c->model == HP_MODEL_LENET) {
                int a1, a2, f2, b1, b2;
                hp_ap_lenet_sizes(c, &a1, &a2, &f2);
                hp_ap_lenet_sizes(n, &b1, &b2, &f2);
                say(w, "bigger model: fc1 %d → %d, convolutions %d, %d → %d, %d", c->width,
                    n->width, a1, a2, b1, b2);
            } else {
                say(w, "bigger model: %s %d → %d", size_name(c), c->width, n->width);
            }
            return 1;
        }
        if (c->model == HP_MODEL_MLP && c->depth < HP_AP_MAX_DEPTH) {
            n->depth = c->depth + 1;
            d->action = HP_AP_BIGGER;
            say(w, "bigger model: %d → %d hidden layers of %d (the width is at its cap %d)",
                c->depth, n->depth, c->width, cap);
            return 1;
        }
    }
    if (!tried(in, HP_AP_LESS_REG) && (c->dropout > 0 || c->weight_decay > 0)) {
        n->dropout = c->dropout / 2 < 0.05 ? 0 : c->dropout / 2;
        n->weight_decay = c->weight_decay / 4 < 1e-5 ? 0 : c->weight_decay / 4;
        d->action = HP_AP_LESS_REG;
        say(w, "less regularization: dropout %g → %g, weight_decay %g → %g", c->dropout,
            n->dropout, c->weight_decay, n->weight_decay);
        return 1;
    }
    const char *words = "";
    int next = stronger(c, &words);
    if (!tried(in, HP_AP_ARCH) && next >= 0) {
        hp_ap_config_default(n, (hp_model_t)next, c->images);
        n->seq_t = c->seq_t;
        n->seq_f = c->seq_f;
        n->lr = c->lr;
        n->train_subset = c->train_subset;
        n->validation_fraction = c->validation_fraction;
        n->epochs = c->epochs;
        d->action = HP_AP_ARCH;
        say(w, "a stronger architecture: %s (tuned again from its defaults)", words);
        return 1;
    }
    return 0;
}

/* the over-fitting ladder; 0 when no step is left */
static int overfit(const hp_ap_input_t *in, hp_ap_decision_t *d, words_t *w)
{
    const hp_ap_config_t *c = in->cur;
    hp_ap_config_t *n = &d->next;
    if (!tried(in, HP_AP_MORE_DATA) && c->train_subset > 0) {
        n->train_subset = c->train_subset * 2;
        d->action = HP_AP_MORE_DATA;
        say(w, "more training data: train_subset %llu → %llu",
            (unsigned long long)c->train_subset, (unsigned long long)n->train_subset);
        return 1;
    }
    if (!tried(in, HP_AP_BATCHNORM) && !c->batchnorm) {
        n->batchnorm = 1;
        d->action = HP_AP_BATCHNORM;
        say(w, "normalization layers: batch norm after the hidden layers");
        return 1;
    }
    if (!tried(in, HP_AP_AUGMENT) && c->images && !c->augment) {
        n->augment = 1;
        d->action = HP_AP_AUGMENT;
        say(w, "data augmentation: random shifts and flips of the training images");
        return 1;
    }
    if (!tried(in, HP_AP_REGULARIZE) &&
        (c->dropout < HP_AP_MAX_DROPOUT || c->weight_decay < HP_AP_MAX_WEIGHT_DECAY)) {
        n->dropout = fmin(HP_AP_MAX_DROPOUT, c->dropout + 0.2);
        n->weight_decay = c->weight_decay > 0 ? fmin(HP_AP_MAX_WEIGHT_DECAY, c->weight_decay * 5)
                                              : 2e-4;
        d->action = HP_AP_REGULARIZE;
        say(w, "more regularization: dropout %g → %g, weight_decay %g → %g", c->dropout,
            n->dropout, c->weight_decay, n->weight_decay);
        return 1;
    }
    if (!tried(in, HP_AP_EARLY_STOP) && in->best_epoch > 0 && in->best_epoch < in->epochs) {
        n->epochs = in->best_epoch;
        d->action = HP_AP_EARLY_STOP;
        say(w, "early stopping: epochs %d → %d, where val_error was lowest", in->epochs,
            in->best_epoch);
        return 1;
    }
    return 0;
}

/* one term's ladder; 0 when no step is left for it */
static int term_step(const hp_ap_input_t *in, hp_ap_decision_t *out, words_t *w,
                     hp_report_term_id_t t)
{
    switch (t) {
    case HP_RT_BIAS: return underfit(in, out, w);
    case HP_RT_VARIANCE: return overfit(in, out, w);
    case HP_RT_SHIFT:
        /* a shift term is measured on a synthesized test distribution of
         * images (dataset.shift), whose unlabeled inputs CORAL uses */
        if (!tried(in, HP_AP_ADAPT) && !in->cur->adapt && in->cur->images) {
            out->next.adapt = 1;
            out->action = HP_AP_ADAPT;
            say(w, "domain adaptation: CORAL (dataset.adapt: coral) aligns the training "
                   "inputs' mean and covariance with the unlabeled test-distribution "
                   "validation inputs");
            return 1;
        }
        return 0;
    case HP_RT_VAL_OVERFIT:
        if (!tried(in, HP_AP_REBALANCE) &&
            in->cur->validation_fraction * 2 <= HP_AP_MAX_VAL_FRACTION + 1e-9) {
            out->next.validation_fraction = in->cur->validation_fraction * 2;
            out->action = HP_AP_REBALANCE;
            say(w, "re-balance: a larger validation set, validation_fraction %g → %g",
                in->cur->validation_fraction, out->next.validation_fraction);
            return 1;
        }
        return 0;
    default: return 0;
    }
}

static void bayes(const hp_ap_input_t *in, hp_ap_decision_t *d, words_t *w, const char *why)
{
    if (tried(in, HP_AP_BAYES)) {
        d->action = HP_AP_STOP;
        say(w, "%s → stop: Bayesian optimisation around the best did not improve it and no "
               "remedy is left; the best so far stands",
            why);
        return;
    }
    d->action = HP_AP_BAYES;
    say(w, "%s → tune: Bayesian optimisation of the learning rate and size around the best so "
           "far",
        why);
}

void hp_ap_decide(const hp_ap_input_t *in, hp_ap_decision_t *out)
{
    memset(out, 0, sizeof *out);
    out->term = -1;
    out->next = *in->cur;
    words_t w = {out->reason, sizeof out->reason, 0};
    const hp_report_t *r = in->report;

    if (in->has_target && hp_ap_target_met(in->objective, in->target, in->maximize)) {
        out->action = HP_AP_DONE;
        say(&w, "%s %.4f meets the target %g (%s) → done", in->metric, in->objective,
            in->target, in->maximize ? "at least" : "at most");
        return;
    }
    if (!in->cur->tuned) {
        out->action = HP_AP_TUNE;
        out->next.tuned = 1;
        say(&w, "%s %.4f", in->metric, in->objective);
        if (in->has_target)
            say(&w, " misses the target %g", in->target);
        say(&w, " with the defaults (Adam lr %g, %s %d) → tune: coarse-to-fine on the learning "
                "rate and %s, the hyperparameters the guide names most sensitive",
            in->cur->lr, size_name(in->cur), in->cur->width, size_name(in->cur));
        return;
    }
    if (r->n_advice == 0) {
        char why[160];
        snprintf(why, sizeof why, "no term of the decomposition is material (threshold %.4f)",
                 r->threshold);
        bayes(in, out, &w, why);
        return;
    }
    /* the first material term in the guide's order decides; when its
     * ladder is used up the next one does (an under-fitting that no
     * remedy here reduces does not stop the over-fitting remedies).
     * Without a human error the bias is only an upper bound (counted from
     * 0), so a material variance larger than it goes first: the guide
     * puts bias first because it is avoidable, which is not known here */
    hp_report_term_id_t order[4];
    size_t n = r->n_advice < 4 ? r->n_advice : 4;
    memcpy(order, r->advice, n * sizeof order[0]);
    int swapped = 0;
    if (!in->human_known && n > 1 && order[0] == HP_RT_BIAS && order[1] == HP_RT_VARIANCE &&
        r->term[HP_RT_VARIANCE].value > r->term[HP_RT_BIAS].value) {
        order[0] = HP_RT_VARIANCE;
        order[1] = HP_RT_BIAS;
        swapped = 1;
    }
    int ok = 0;
    for (size_t k = 0; k < n && !ok; k++) {
        hp_report_term_id_t t = order[k];
        const char *label = hp_report_term_label(t);
        if (k == 0 && swapped) {
            say(&w, "%s %.4f is larger than avoidable bias ≤ %.4f (no objective.human_error: "
                    "counted from 0, an upper bound), so it goes first",
                label, r->term[t].value, r->term[HP_RT_BIAS].value);
        } else if (k == 0) {
            say(&w, "%s %s%.4f is the %s material term", label,
                t == HP_RT_BIAS && !in->human_known ? "≤ " : "", r->term[t].value,
                n == 1 ? "only" : "first");
            if (t == HP_RT_BIAS && !in->human_known)
                say(&w, " (no objective.human_error: counted from 0)");
            if (n > 1)
                say(&w, " (of %zu, in the guide's order)", n);
        } else {
            say(&w, "; its remedies here are used up, and %s %.4f is the next", label,
                r->term[t].value);
        }
        size_t mark = w.n;
        say(&w, " → ");
        if ((ok = term_step(in, out, &w, t)))
            out->term = (int)t;
        else {
            w.n = mark;
            out->reason[w.n] = '\0';
        }
    }
    if (!ok)
        bayes(in, out, &w,
              r->n_advice > 1 ? "; the remedies hpsearch has for each are used up"
                              : "; the remedies hpsearch has for it are used up");
}
