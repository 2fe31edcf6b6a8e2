/* The bias-variance arithmetic of `hpsearch report` (see report_calc.h). */
#include "report_calc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The seed's "Improve" lists, "try first to try later". */
static const char *const underfit_steps[] = {
    "make the model bigger (add layers, more units per layer)",
    "reduce regularization",
    ("error analysis: look at the examples the model gets wrong (hpsearch report --errors, "
     "hpsearch examples)"),
    ("choose a different model architecture (closer to the state of the art, e.g. from LeNet "
     "to ResNet)"),
    "tune hyperparameters (e.g. the learning rate)",
    "add features",
};
static const char *const overfit_steps[] = {
    "add more training data (if possible)",
    "add normalization (e.g. batch norm, layer norm)",
    "add data augmentation",
    "increase regularization (e.g. dropout, L2, weight decay)",
    ("error analysis: look at the examples the model gets wrong (hpsearch report --errors, "
     "hpsearch examples)"),
    "choose a different model architecture (closer to the state of the art)",
    "tune hyperparameters",
    "early stopping (not recommended)",
    "remove features (not recommended)",
    "reduce the model size (not recommended)",
};
static const char *const shift_steps[] = {
    ("analyze the test-distribution validation errors and collect more training data to "
     "compensate"),
    ("analyze the test-distribution validation errors and synthesize more training data to "
     "compensate"),
    "apply domain adaptation techniques to the training and test distributions",
};
static const char *const rebalance_steps[] = {
    ("recollect validation data: the test error is worse than validation, so the validation "
     "set is overfit (a small validation set, or much hyperparameter tuning on it)"),
};

#define N(a) (sizeof a / sizeof a[0])

static const hp_report_advice_t advice_tab[HP_RT_COUNT] = {
    [HP_RT_BIAS] = {"under_fitting", "address under-fitting (reduce avoidable bias)",
                    underfit_steps, N(underfit_steps)},
    [HP_RT_VARIANCE] = {"over_fitting", "address over-fitting (reduce variance)", overfit_steps,
                        N(overfit_steps)},
    [HP_RT_SHIFT] = {"distribution_shift", "address distribution shift", shift_steps,
                     N(shift_steps)},
    [HP_RT_VAL_OVERFIT] = {"rebalance", "re-balance the datasets (validation overfitting)",
                           rebalance_steps, N(rebalance_steps)},
};

static const char *const metric_names[HP_RE_COUNT] = {"train_error", "val_error",
                                                      "shift_val_error", "test_error"};
static const char *const term_keys[HP_RT_COUNT] = {
    "irreducible", "avoidable_bias", "variance", "distribution_shift", "val_overfitting"};
static const char *const term_labels[HP_RT_COUNT] = {
    "irreducible error", "avoidable bias", "variance", "distribution shift",
    "val overfitting"};

void hp_report_errors_init(hp_report_errors_t *e)
{
    for (int i = 0; i < HP_RE_COUNT; i++) {
        e->err[i] = NAN;
        e->was_nan[i] = 0;
    }
    e->human = NAN;
}

const hp_report_advice_t *hp_report_advice(hp_report_term_id_t term)
{
    if ((int)term <= HP_RT_IRREDUCIBLE || term >= HP_RT_COUNT)
        return NULL;
    return &advice_tab[term];
}

const char *hp_report_error_metric(hp_report_error_t e)
{
    return (int)e >= 0 && e < HP_RE_COUNT ? metric_names[e] : "?";
}

const char *hp_report_term_key(hp_report_term_id_t t)
{
    return (int)t >= 0 && t < HP_RT_COUNT ? term_keys[t] : "?";
}

const char *hp_report_term_label(hp_report_term_id_t t)
{
    return (int)t >= 0 && t < HP_RT_COUNT ? term_labels[t] : "?";
}

const char *hp_report_fit_name(hp_report_fit_t f)
{
    switch (f) {
    case HP_FIT_GOOD: return "good";
    case HP_FIT_UNDER: return "under_fit";
    case HP_FIT_OVER: return "over_fit";
    case HP_FIT_SHIFT: return "shift";
    case HP_FIT_VAL_OVERFIT: return "val_overfit";
    case HP_FIT_UNKNOWN: break;
    }
    return "unknown";
}

/* what is wrong with error e, appended to t->why: "no X" or "a non-finite X" */
static void missing_part(const hp_report_errors_t *in, hp_report_error_t e, hp_report_term_t *t)
{
    size_t n = strlen(t->why);
    snprintf(t->why + n, sizeof t->why - n, "%s%s %s", n ? " and " : "the trial reported ",
             in->was_nan[e] ? "a non-finite" : "no", metric_names[e]);
}

static void missing(const hp_report_errors_t *in, hp_report_error_t e, hp_report_term_t *t)
{
    t->value = NAN;
    t->why[0] = '\0';
    missing_part(in, e, t);
}

/* t = in[a] - in[b], or unknown naming every missing input in metric order */
static void diff(const hp_report_errors_t *in, hp_report_error_t a, hp_report_error_t b,
                 hp_report_term_t *t)
{
    if (isfinite(in->err[a]) && isfinite(in->err[b])) {
        t->value = in->err[a] - in->err[b];
        snprintf(t->why, sizeof t->why, "%s - %s", metric_names[a], metric_names[b]);
        return;
    }
    t->value = NAN;
    t->why[0] = '\0';
    hp_report_error_t lo = a < b ? a : b, hi = a < b ? b : a;
    if (!isfinite(in->err[lo]))
        missing_part(in, lo, t);
    if (!isfinite(in->err[hi]))
        missing_part(in, hi, t);
}

void hp_report_compute(const hp_report_errors_t *in, hp_report_t *out)
{
    hp_report_term_t *t = out->term;
    for (int i = 0; i < HP_RT_COUNT; i++) {
        t[i].value = NAN;
        t[i].material = 0;
        t[i].why[0] = '\0';
    }

    /* irreducible and avoidable bias */
    if (isfinite(in->human)) {
        t[HP_RT_IRREDUCIBLE].value = in->human;
        snprintf(t[HP_RT_IRREDUCIBLE].why, sizeof t->why, "objective.human_error");
        if (isfinite(in->err[HP_RE_TRAIN])) {
            t[HP_RT_BIAS].value = in->err[HP_RE_TRAIN] - in->human;
            snprintf(t[HP_RT_BIAS].why, sizeof t->why, "train_error - objective.human_error");
        } else {
            missing(in, HP_RE_TRAIN, &t[HP_RT_BIAS]);
        }
    } else {
        snprintf(t[HP_RT_IRREDUCIBLE].why, sizeof t->why,
                 "the spec sets no objective.human_error");
        if (isfinite(in->err[HP_RE_TRAIN]))
            snprintf(t[HP_RT_BIAS].why, sizeof t->why,
                     "the spec sets no objective.human_error (at most train_error)");
        else
            missing(in, HP_RE_TRAIN, &t[HP_RT_BIAS]);
    }

    diff(in, HP_RE_VAL, HP_RE_TRAIN, &t[HP_RT_VARIANCE]);

    int has_shift = isfinite(in->err[HP_RE_SHIFT_VAL]);
    if (has_shift)
        diff(in, HP_RE_SHIFT_VAL, HP_RE_VAL, &t[HP_RT_SHIFT]);
    else if (in->was_nan[HP_RE_SHIFT_VAL])
        missing(in, HP_RE_SHIFT_VAL, &t[HP_RT_SHIFT]);
    else
        snprintf(t[HP_RT_SHIFT].why, sizeof t->why,
                 "the trial reported no shift_val_error (no test-distribution validation set)");

    diff(in, HP_RE_TEST, has_shift ? HP_RE_SHIFT_VAL : HP_RE_VAL, &t[HP_RT_VAL_OVERFIT]);

    /* what "material" means for this trial */
    double ref = isfinite(in->err[HP_RE_TEST]) ? in->err[HP_RE_TEST] : in->err[HP_RE_VAL];
    out->threshold = HP_REPORT_ABS_THRESHOLD;
    if (isfinite(ref) && ref > 0 && HP_REPORT_REL_THRESHOLD * ref < out->threshold)
        out->threshold = HP_REPORT_REL_THRESHOLD * ref;
    for (int i = HP_RT_BIAS; i < HP_RT_COUNT; i++)
        t[i].material = isfinite(t[i].value) && t[i].value > 0 &&
                        t[i].value >= out->threshold - 1e-12;

    /* the seed's priorities: under-fitting, over-fitting, shift, re-balancing */
    out->n_advice = 0;
    for (int i = HP_RT_BIAS; i < HP_RT_COUNT; i++)
        if (t[i].material)
            out->advice[out->n_advice++] = (hp_report_term_id_t)i;

    /* the largest term decides the fit; ties go to the earlier priority */
    if (!isfinite(t[HP_RT_BIAS].value) || !isfinite(t[HP_RT_VARIANCE].value)) {
        out->fit = HP_FIT_UNKNOWN;
        return;
    }
    int best = HP_RT_BIAS;
    for (int i = HP_RT_VARIANCE; i < HP_RT_COUNT; i++)
        if (isfinite(t[i].value) && t[i].value > t[best].value)
            best = i;
    static const hp_report_fit_t fits[HP_RT_COUNT] = {
        HP_FIT_UNKNOWN, HP_FIT_UNDER, HP_FIT_OVER, HP_FIT_SHIFT, HP_FIT_VAL_OVERFIT};
    out->fit = t[best].material ? fits[best] : HP_FIT_GOOD;
}

const char *hp_report_order_reason(const hp_report_t *r)
{
    if (r->n_advice < 2)
        return NULL;
    hp_report_term_id_t first = r->advice[0];
    switch (r->fit) {
    case HP_FIT_OVER:
        if (first != HP_RT_BIAS)
            return NULL;
        return "The guide addresses under-fitting first although variance is larger: variance "
               "is measured from the training error (val_error - train_error), and the "
               "under-fitting remedies (a bigger model, less regularization) move the training "
               "error and so the variance, while the over-fitting remedies (more "
               "regularization, a smaller model) would add to the avoidable bias again. Reduce "
               "the bias, then run the report again and address the variance that is left.";
    case HP_FIT_SHIFT:
        if (first != HP_RT_BIAS && first != HP_RT_VARIANCE)
            return NULL;
        return "The guide addresses how the model fits its own distribution before the shift "
               "although the shift is larger: the shift is measured from the validation error "
               "(shift_val_error - val_error), which moves with every fix of bias or variance. "
               "Fix those first, then run the report again and address the shift that is left.";
    case HP_FIT_VAL_OVERFIT:
        if (first == HP_RT_VAL_OVERFIT)
            return NULL;
        return "The guide re-balances the validation set last although val overfitting is "
               "larger: it is measured from the validation error, which every earlier fix "
               "moves. Fix the earlier terms first, then run the report again.";
    default:
        return NULL;
    }
}

const char *hp_report_baseline_metric(hp_report_baseline_t b) { return hp_baseline_names[b].metric; }
const char *hp_report_baseline_key(hp_report_baseline_t b) { return hp_baseline_names[b].name; }
const char *hp_report_baseline_label(hp_report_baseline_t b) { return hp_baseline_names[b].label; }

int hp_report_vs_baselines(const double *base, double test, int *against, double *gap)
{
    *against = -1;
    *gap = NAN;
    for (int i = 0; i < HP_RB_COUNT; i++)
        if (isfinite(base[i]) && (*against < 0 || base[i] < base[*against]))
            *against = i;
    if (*against < 0 || !isfinite(test)) {
        *against = -1;
        return -1;
    }
    *gap = test - base[*against];
    return 0;
}
