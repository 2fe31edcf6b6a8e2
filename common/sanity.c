#include "sanity.h"

#include "curve.h"

#include <math.h>
#include <stdio.h>

void hp_sanity_heldout_read(hp_sanity_heldout_t *ho, double (*metric)(const void *src,
                                                                      const char *name),
                            const void *src, double batch)
{
    double n = metric(src, "val_examples"), k = metric(src, "classes");
    *ho = (hp_sanity_heldout_t){.val_error = metric(src, "val_error"),
                                .val_chance_error = metric(src, "val_chance_error"),
                                .n = isnan(n) ? 0 : n,
                                .val_pred_corr = metric(src, "val_pred_corr"),
                                .classes = isnan(k) ? 0 : k,
                                .batch = batch};
}

void hp_sanity_overrides(hp_sanity_overrides_t *o, unsigned steps, unsigned batch)
{
    snprintf(o->steps, sizeof o->steps, "%u", steps);
    snprintf(o->batch, sizeof o->batch, "%u", batch);
    /* one batch, every step; one step per epoch, so the curve has a value
     * per step; the study's own validation split, scored once after the
     * last step (and at initialization); no dropout: regularization makes
     * memorising slower, not wrong; no baselines: they would be trained on
     * the one batch */
    const char *names[6] = {"train_size", "batch_size", "epochs",
                            "eval_every", "dropout",    "baselines"};
    const char *values[6] = {o->batch, o->batch, o->steps, o->steps, "0", "0"};
    o->n = 6;
    for (size_t i = 0; i < 6; i++) {
        o->name[i] = names[i];
        o->value[i] = values[i];
    }
}

#define CORRUPT_CAUSES                                                                     \
    "data or labels corrupted: labels shuffled or misaligned with their inputs when loading " \
    "or splitting; inputs that carry no signal (zeroed, constant, decoded or preprocessed "   \
    "wrongly); validation data prepared differently from training data"

/* Regression: with no relation between inputs and targets the
 * correlation r of held-out predictions with the targets is about 0, and
 * atanh(r) sqrt(n - 3) about standard normal (Fisher), whatever the
 * targets' scale. A model that learned something that carries over from
 * 32 examples makes it clearly positive - but not always: when many
 * inputs each carry a little of the signal (a linear target over 64
 * features), 32 examples cannot pin it down and sound data also give
 * r ~ 0. So for regression a low r is a warning, not a failure: the study
 * runs, and the user is told what it may mean. Always 1. */
static int judge_heldout_corr(const hp_sanity_heldout_t *ho, hp_buf_t *why)
{
    double r = ho->val_pred_corr;
    double need = tanh(HP_SANITY_HELDOUT_Z / sqrt(ho->n - 3.0));
    if (r > need) {
        hp_buf_printf(why, "\n  held out: predictions correlate with the targets (r = %.3f on "
                           "%.0f validation examples; unrelated ones give about 0)",
                      r, ho->n);
        return 1;
    }
    hp_buf_printf(why,
                  "\n  " HP_SANITY_WARNING ", held out: on %.0f validation examples the memorised model's "
                  "predictions correlate r = %.3f with the targets, no better than unrelated "
                  "predictions (r > %.3f would be). Either the targets do not go with the "
                  "inputs (likely causes: " CORRUPT_CAUSES "), or %.0f examples are too few to "
                  "learn anything general from these inputs (many features, each carrying a "
                  "little of the signal). If the data are right, ignore this.",
                  ho->n, r, need, ho->batch > 0 ? ho->batch : (double)HP_SANITY_BATCH);
    return 1;
}

/* The held-out half: 1 pass, 0 fail (why gets the whole FAIL text), -1
 * not applicable (why gets a line saying so). */
static int judge_heldout(const hp_sanity_heldout_t *ho, const char *memorised, hp_buf_t *why)
{
    if (!ho || isnan(ho->val_error)) {
        hp_buf_puts(why, "\n  held-out check skipped: no validation split was scored");
        return -1;
    }
    int regress = isnan(ho->val_chance_error);
    if (regress && isnan(ho->val_pred_corr)) {
        hp_buf_puts(why, "\n  held-out check skipped: neither a chance level (classification) "
                         "nor a correlation of predictions with targets (regression) was "
                         "reported");
        return -1;
    }
    if (!(ho->n >= HP_SANITY_MIN_HELDOUT)) {
        hp_buf_printf(why, "\n  held-out check skipped: only %.0f validation examples (it needs "
                           "%d)",
                      ho->n, HP_SANITY_MIN_HELDOUT);
        return -1;
    }
    if (regress)
        return judge_heldout_corr(ho, why);
    double chance = 1.0 - ho->val_chance_error, acc = 1.0 - ho->val_error;
    double sd = sqrt(chance * (1.0 - chance) / ho->n);
    double need = chance + HP_SANITY_HELDOUT_Z * sd;
    if (acc > need) {
        hp_buf_printf(why, "\n  held out: accuracy %.3f on %.0f validation examples, above "
                           "chance (%.3f for predictions with the same class frequencies)",
                      acc, ho->n, chance);
        return 1;
    }
    int few = ho->classes > 0 && ho->batch > 0 &&
              ho->batch < HP_SANITY_MIN_PER_CLASS * ho->classes;
    if (few || acc > chance + HP_SANITY_FAIL_SD * sd) {
        char other[160];
        if (few)
            snprintf(other, sizeof other, "one batch of %.0f examples is too few to learn "
                     "anything general about %.0f classes", ho->batch, ho->classes);
        else
            snprintf(other, sizeof other, "the inputs carry too little signal for one batch "
                     "to show it");
        hp_buf_printf(why,
                      "\n  " HP_SANITY_WARNING ", held out: accuracy %.3f on %.0f validation examples, not "
                      "clearly above chance (%.3f for predictions with the same class "
                      "frequencies; > %.3f would be). Either the labels do not go with the "
                      "inputs (likely causes: " CORRUPT_CAUSES "), or %s. If the data are "
                      "right, ignore this.",
                      acc, ho->n, chance, need, other);
        return 1;
    }
    hp_buf_printf(why,
                  "FAIL: %s, but nothing learned from it carries over: accuracy %.3f on %.0f "
                  "held-out validation examples is no better than chance (%.3f for predictions "
                  "with the same class frequencies; it needs > %.3f)\n"
                  "  diagnosis: the labels do not go with the inputs — it memorises, but cannot "
                  "learn\n"
                  "  likely causes: " CORRUPT_CAUSES,
                  memorised, acc, ho->n, chance, need);
    return 0;
}

int hp_sanity_wants_longer(const double *loss, const int64_t *at, size_t n, double threshold)
{
    if (n < 2 || !isfinite(loss[0]) || !isfinite(loss[n - 1]))
        return 0;
    double last = loss[n - 1];
    if (last < threshold || last * HP_SANITY_SLOW_FACTOR <= loss[0] || !(last < loss[0]))
        return 0;
    /* still falling at the end: by 2% over its last third (a loss
     * that settled above the threshold would not get there with more) */
    if (!(last <= (1.0 - HP_SANITY_LATE_FALL) * loss[n - 1 - (n - 1) / 3]))
        return 0;
    hp_curve_diag_t cd;
    return hp_curve_classify_steps(loss, at, n, NULL, &cd) == HP_CURVE_HEALTHY;
}

int hp_sanity_judge(const double *loss, size_t n, double threshold,
                    const hp_sanity_heldout_t *ho, hp_buf_t *why)
{
    return hp_sanity_judge_steps(loss, NULL, n, threshold, ho, why);
}

int hp_sanity_judge_steps(const double *loss, const int64_t *at, size_t n, double threshold,
                          const hp_sanity_heldout_t *ho, hp_buf_t *why)
{
    size_t steps = n ? n - 1 : 0;
    double last = n ? loss[n - 1] : NAN;
    hp_curve_diag_t cd;
    hp_curve_verdict_t v = hp_curve_classify_steps(loss, at, n, NULL, &cd);
    /* not below the threshold yet, but still falling steadily and far
     * below where it started: the guide's failure modes are a loss that
     * goes up, explodes, oscillates or plateaus, not one that needs more
     * steps */
    int slow = n >= 2 && isfinite(last) && !(last < threshold) && v == HP_CURVE_HEALTHY &&
               last * HP_SANITY_SLOW_FACTOR <= loss[0];
    if (n >= 2 && isfinite(last) && (last < threshold || slow)) {
        char memorised[160];
        snprintf(memorised, sizeof memorised, "train_loss fell from %.4g to %.4g in %zu steps",
                 loss[0], last, steps);
        hp_buf_t held = {0};
        int h = judge_heldout(ho, memorised, &held);
        if (h != 0 && slow)
            hp_buf_printf(why, "PASS: %s, not yet below the threshold %g but still falling "
                               "steadily (%.0fx lower): memorising, slowly — more steps or a "
                               "higher learning rate would get there",
                          memorised, threshold, loss[0] / last);
        else if (h != 0)
            hp_buf_printf(why, "PASS: %s (threshold %g)", memorised, threshold);
        hp_buf_puts(why, held.data ? held.data : "");
        hp_buf_fini(&held);
        return h != 0;
    }
    if (n == 0) {
        hp_buf_puts(why, "FAIL: the run reported no train_loss");
        return 0;
    }
    hp_buf_printf(why, "FAIL: train_loss %s after %zu steps (threshold %g)",
                  isfinite(last) ? "did not fall below the threshold" : "became non-finite",
                  steps, threshold);
    if (v == HP_CURVE_HEALTHY || v == HP_CURVE_UNKNOWN)
        hp_buf_printf(why,
                      "\n  diagnosis: too slow — %s. Likely causes: learning rate too low; too "
                      "much regularization; a model too small to memorise one batch",
                      cd.evidence);
    else
        hp_buf_printf(why, "\n  diagnosis: %s — %s\n  likely causes: %s",
                      hp_curve_verdict_name(v), cd.evidence, hp_curve_causes(v));
    return 0;
}
