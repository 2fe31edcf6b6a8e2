#include "sanity.h"

#include "curve.h"

#include <math.h>
#include <stdio.h>

void hp_sanity_overrides(hp_sanity_overrides_t *o, unsigned steps, unsigned batch)
{
    snprintf(o->steps, sizeof o->steps, "%u", steps);
    snprintf(o->batch, sizeof o->batch, "%u", batch);
    /* one batch, every step; a small validation split (this is about
     * training); one step per epoch, so the curve has a value per step;
     * no dropout: regularization makes memorising slower, not wrong */
    const char *names[5] = {"train_size", "batch_size", "val_size", "epochs", "dropout"};
    const char *values[5] = {o->batch, o->batch, o->batch, o->steps, "0"};
    o->n = 5;
    for (size_t i = 0; i < 5; i++) {
        o->name[i] = names[i];
        o->value[i] = values[i];
    }
}

int hp_sanity_judge(const double *loss, size_t n, double threshold, hp_buf_t *why)
{
    size_t steps = n ? n - 1 : 0;
    double last = n ? loss[n - 1] : NAN;
    if (n >= 2 && isfinite(last) && last < threshold) {
        hp_buf_printf(why, "PASS: train_loss fell from %.4g to %.4g in %zu steps (threshold %g)",
                      loss[0], last, steps, threshold);
        return 1;
    }
    if (n == 0) {
        hp_buf_puts(why, "FAIL: the run reported no train_loss");
        return 0;
    }
    hp_buf_printf(why, "FAIL: train_loss %s after %zu steps (threshold %g)",
                  isfinite(last) ? "did not fall below the threshold" : "became non-finite",
                  steps, threshold);
    hp_curve_diag_t cd;
    hp_curve_verdict_t v = hp_curve_classify(loss, n, NULL, &cd);
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
