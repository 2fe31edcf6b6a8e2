/* Learning-curve diagnosis; the rules and their order are in curve.h. */
#include "curve.h"

#include "err.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* second differences used to estimate a curve's noise: recent values only,
 * so a steep start does not count as noise, and no allocation is needed */
#define NOISE_SPAN 32
#define TINY 1e-300
/* the oscillation window's changes live on the stack */
#define OSC_WINDOW_MAX 64

static const hp_curve_opts_t defaults = HP_CURVE_OPTS_DEFAULT;

void hp_curve_opts_init(hp_curve_opts_t *o) { *o = defaults; }

int hp_curve_opts_check(const hp_curve_opts_t *o, char *err, size_t errlen)
{
    if (o->min_points < 2)
        return hp_errf(err, errlen, HP_EINVAL, "min_points: must be >= 2 (got %zu)",
                       o->min_points);
    if (!(o->scale_floor >= 0 && o->scale_floor < 1))
        return hp_errf(err, errlen, HP_EINVAL, "scale_floor: must be in [0, 1) (got %g)",
                       o->scale_floor);
    if (!(o->explode_factor > 1 && isfinite(o->explode_factor)))
        return hp_errf(err, errlen, HP_EINVAL, "explode_factor: must be > 1 (got %g)",
                       o->explode_factor);
    if (o->up_window < 2)
        return hp_errf(err, errlen, HP_EINVAL, "up_window: must be >= 2 (got %zu)",
                       o->up_window);
    if (!(o->up_rise > 0 && isfinite(o->up_rise)))
        return hp_errf(err, errlen, HP_EINVAL, "up_rise: must be > 0 (got %g)", o->up_rise);
    if (!(o->noise_k >= 0 && isfinite(o->noise_k)))
        return hp_errf(err, errlen, HP_EINVAL, "noise_k: must be >= 0 (got %g)", o->noise_k);
    if (o->osc_window < 3 || o->osc_window > OSC_WINDOW_MAX)
        return hp_errf(err, errlen, HP_EINVAL, "osc_window: must be in [3, %d] (got %zu)",
                       OSC_WINDOW_MAX, o->osc_window);
    if (!(o->osc_flip_frac > 0 && o->osc_flip_frac <= 1))
        return hp_errf(err, errlen, HP_EINVAL, "osc_flip_frac: must be in (0, 1] (got %g)",
                       o->osc_flip_frac);
    if (!(o->osc_amplitude > 0 && isfinite(o->osc_amplitude)))
        return hp_errf(err, errlen, HP_EINVAL, "osc_amplitude: must be > 0 (got %g)",
                       o->osc_amplitude);
    if (o->plateau_window < 2)
        return hp_errf(err, errlen, HP_EINVAL, "plateau_window: must be >= 2 (got %zu)",
                       o->plateau_window);
    if (!(o->plateau_rel_change > 0 && isfinite(o->plateau_rel_change)))
        return hp_errf(err, errlen, HP_EINVAL, "plateau_rel_change: must be > 0 (got %g)",
                       o->plateau_rel_change);
    if (!(o->plateau_max_drop > 0 && o->plateau_max_drop <= 1))
        return hp_errf(err, errlen, HP_EINVAL, "plateau_max_drop: must be in (0, 1] (got %g)",
                       o->plateau_max_drop);
    return 0;
}

static hp_curve_verdict_t decide(hp_curve_diag_t *out, hp_curve_verdict_t v, size_t step,
                                 size_t window_start, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static hp_curve_verdict_t decide(hp_curve_diag_t *out, hp_curve_verdict_t v, size_t step,
                                 size_t window_start, const char *fmt, ...)
{
    if (out) {
        out->verdict = v;
        out->step = step;
        out->window_start = window_start;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(out->evidence, sizeof out->evidence, fmt, ap);
        va_end(ap);
    }
    return v;
}

/* the magnitude relative measures divide by: |x|, but not below floor */
static double scale_of(double x, double floor)
{
    double a = fabs(x);
    if (a < floor)
        a = floor;
    return a < TINY ? TINY : a;
}

static double mean_of(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return s / (double)n;
}

/* median of a[0..n), n > 0; reorders a */
static double median_of(double *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        double v = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > v; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
    return n % 2 ? a[n / 2] : 0.5 * (a[n / 2 - 1] + a[n / 2]);
}

/* Robust noise sigma from second differences: for independent noise of
 * standard deviation s, l[i+1] - 2 l[i] + l[i-1] has deviation sqrt(6) s,
 * while a smooth trend contributes almost nothing. */
static double noise_sigma(const double *l, size_t n)
{
    if (n < 3)
        return 0;
    double a[NOISE_SPAN];
    size_t m = 0;
    for (size_t i = n > NOISE_SPAN ? n - NOISE_SPAN : 0; i + 2 < n; i++)
        a[m++] = fabs(l[i + 2] - 2 * l[i + 1] + l[i]);
    return 1.4826 * median_of(a, m) / sqrt(6.0);
}

static const char *nonfinite_name(double x)
{
    return isnan(x) ? "NaN" : x > 0 ? "+Inf" : "-Inf";
}

/* The step value i was reported at: its stored step number, or without
 * stored steps its position. */
static long long at(const int64_t *steps, size_t i)
{
    return steps ? (long long)steps[i] : (long long)i;
}

/* Names values a..b (a <= b) of the curve in evidence: with stored steps
 * "steps 12-16" (the numbers as reported, which need not be consecutive);
 * without, by count: "the last K steps" (last) or "K steps", K = b - a. */
static const char *span(char *buf, size_t cap, const int64_t *steps, size_t a, size_t b, int last)
{
    if (steps)
        snprintf(buf, cap, "steps %lld-%lld", at(steps, a), at(steps, b));
    else
        snprintf(buf, cap, "%s%zu steps", last ? "the last " : "", b - a);
    return buf;
}

/* Finds the first explosion in l[0..n). Causal: the decision at i uses
 * only l[0..i], so the prefix seen after each epoch decides the same. */
static int find_explosion(const double *l, const int64_t *steps, size_t n,
                          const hp_curve_opts_t *o, hp_curve_diag_t *out)
{
    double peak = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(l[i])) {
            decide(out, HP_CURVE_EXPLODES, i, i, "loss became %s at step %lld",
                   nonfinite_name(l[i]), at(steps, i));
            return 1;
        }
        /* while every value so far is exactly 0 there is no scale to
         * measure a jump against; only non-finite values explode */
        if (i > 0 && peak > 0) {
            double ref = scale_of(l[i - 1], o->scale_floor * peak);
            double jump = l[i] - l[i - 1];
            if (jump > (o->explode_factor - 1) * ref) {
                decide(out, HP_CURVE_EXPLODES, i, i - 1,
                       "loss jumped %.3gx between steps %lld and %lld (%.3g to %.3g)",
                       1 + jump / ref, at(steps, i - 1), at(steps, i), l[i - 1], l[i]);
                return 1;
            }
        }
        if (fabs(l[i]) > peak)
            peak = fabs(l[i]);
    }
    return 0;
}

static double peak_of(const double *l, size_t n)
{
    double p = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(l[i]) > p)
            p = fabs(l[i]);
    return p;
}

static int goes_up(const double *l, const int64_t *steps, size_t n, const hp_curve_opts_t *o,
                   double floor, hp_curve_diag_t *out)
{
    char sp[64];
    double min_rise = o->noise_k * noise_sigma(l, n);

    /* a steady recent rise: every one of the last up_window steps rose */
    size_t w = o->up_window < n - 1 ? o->up_window : n - 1;
    size_t a = n - 1 - w;
    int steady = 1;
    for (size_t i = a + 1; i < n; i++)
        steady &= l[i] > l[i - 1];
    double rise = l[n - 1] - l[a];
    if (steady && rise >= o->up_rise * scale_of(l[a], floor) && rise >= min_rise) {
        decide(out, HP_CURVE_GOES_UP, n - 1, a, "loss rose from %.3g to %.3g over %s", l[a],
               l[n - 1], span(sp, sizeof sp, steps, a, n - 1, 1));
        return 1;
    }

    /* a noisy rise: the recent level against the lowest earlier level,
     * each the mean of wb consecutive values */
    size_t wb = o->up_window + 1 < n / 2 ? o->up_window + 1 : n / 2;
    double end = mean_of(l + n - wb, wb);
    double best = INFINITY;
    size_t bj = 0;
    for (size_t j = 0; j + 2 * wb <= n; j++) {
        double m = mean_of(l + j, wb);
        if (m < best) {
            best = m;
            bj = j;
        }
    }
    rise = end - best;
    /* a difference of two means of wb values has sqrt(2 / wb) times the
     * noise of one value */
    if (rise >= o->up_rise * scale_of(best, floor) &&
        rise >= min_rise * sqrt(2.0 / (double)wb)) {
        decide(out, HP_CURVE_GOES_UP, n - 1, bj,
               "loss level rose from %.3g (mean of steps %lld-%lld) to %.3g (mean of the last %zu)",
               best, at(steps, bj), at(steps, bj + wb - 1), end, wb);
        return 1;
    }
    return 0;
}

static int oscillates(const double *l, const int64_t *steps, size_t n,
                      const hp_curve_opts_t *o, double floor, hp_curve_diag_t *out)
{
    size_t m = o->osc_window < n - 1 ? o->osc_window : n - 1; /* steps looked at */
    if (m < 3)
        return 0;
    size_t s = n - 1 - m;
    double absd[OSC_WINDOW_MAX];
    double sum_abs_loss = fabs(l[s]);
    size_t flips = 0;
    int prev = 0;
    for (size_t i = s + 1; i < n; i++) {
        double d = l[i] - l[i - 1];
        int sign = (d > 0) - (d < 0);
        if (sign && prev && sign != prev)
            flips++;
        if (sign)
            prev = sign;
        absd[i - s - 1] = fabs(d);
        sum_abs_loss += fabs(l[i]);
    }
    double level = scale_of(sum_abs_loss / (double)(m + 1), floor);
    double swing = median_of(absd, m) / level;
    if ((double)flips >= o->osc_flip_frac * (double)(m - 1) && swing >= o->osc_amplitude) {
        if (steps)
            decide(out, HP_CURVE_OSCILLATES, n - 1, s,
                   "sign of the change flipped %zu times in %zu changes over steps %lld-%lld "
                   "(median swing %.0f%% of the loss)",
                   flips, m, at(steps, s), at(steps, n - 1), 100 * swing);
        else
            decide(out, HP_CURVE_OSCILLATES, n - 1, s,
                   "sign of the change flipped %zu times in %zu steps (median swing %.0f%% of "
                   "the loss)",
                   flips, m, 100 * swing);
        return 1;
    }
    return 0;
}

static hp_curve_verdict_t flat_or_healthy(const double *l, const int64_t *steps, size_t n,
                                          const hp_curve_opts_t *o, double floor,
                                          hp_curve_diag_t *out)
{
    char sp[64];
    size_t k = o->plateau_window + 1 < n ? o->plateau_window + 1 : n; /* points */
    size_t s = n - k;
    double tbar = 0.5 * (double)(k - 1);
    double ybar = mean_of(l + s, k);
    double sxy = 0, sxx = 0;
    for (size_t i = 0; i < k; i++) {
        double t = (double)i - tbar;
        sxy += t * (l[s + i] - ybar);
        sxx += t * t;
    }
    double change = sxy / sxx * (double)(k - 1);
    double rel = fabs(change) / scale_of(ybar, floor);
    double drop = (l[0] - ybar) / scale_of(l[0], floor);
    /* flat = no meaningful decrease: a fall smaller than
     * plateau_rel_change, or within noise_k standard errors of the fit (a
     * noisy curve stuck at its start is still stuck). A small rise that
     * goes_up did not catch is no progress either. */
    double change_se = noise_sigma(l, n) * (double)(k - 1) / sqrt(sxx);

    if (change > -o->plateau_rel_change * scale_of(ybar, floor) ||
        -change < o->noise_k * change_se) {
        int constant = 1;
        for (size_t i = 1; i < n; i++)
            constant &= l[i] == l[0];
        if (constant)
            return decide(out, HP_CURVE_PLATEAUS, n - 1, 0,
                          "loss stayed exactly %.3g for all %zu values", l[0], n);
        if (drop < o->plateau_max_drop)
            return decide(out, HP_CURVE_PLATEAUS, n - 1, s,
                          "relative change %.2g%% over %s at %.3g, "
                          "%.0f%% below its first value %.3g",
                          100 * rel, span(sp, sizeof sp, steps, s, n - 1, 1), ybar, 100 * drop,
                          l[0]);
        return decide(out, HP_CURVE_HEALTHY, n - 1, s,
                      "converged: loss settled at %.3g (relative change %.2g%% over %s) after "
                      "falling %.0f%% from %.3g",
                      ybar, 100 * rel, span(sp, sizeof sp, steps, s, n - 1, 1), 100 * drop, l[0]);
    }
    if (l[n - 1] < l[0])
        return decide(out, HP_CURVE_HEALTHY, n - 1, 0, "loss fell from %.3g to %.3g over %s",
                      l[0], l[n - 1], span(sp, sizeof sp, steps, 0, n - 1, 0));
    return decide(out, HP_CURVE_HEALTHY, n - 1, 0,
                  "loss went from %.3g to %.3g over %s without a rise, swing or plateau", l[0],
                  l[n - 1], span(sp, sizeof sp, steps, 0, n - 1, 0));
}

hp_curve_verdict_t hp_curve_classify_steps(const double *loss, const int64_t *steps, size_t n,
                                           const hp_curve_opts_t *opts, hp_curve_diag_t *out)
{
    const hp_curve_opts_t *o = opts ? opts : &defaults;
    HP_ASSERT(hp_curve_opts_check(o, NULL, 0) == 0);
    HP_ASSERT(loss || n == 0);
    if (out)
        memset(out, 0, sizeof *out);

    if (find_explosion(loss, steps, n, o, out))
        return HP_CURVE_EXPLODES;
    if (n < o->min_points)
        return decide(out, HP_CURVE_UNKNOWN, n ? n - 1 : 0, 0,
                      "only %zu loss values; %zu are needed to judge a curve", n, o->min_points);

    double floor = o->scale_floor * peak_of(loss, n);
    if (goes_up(loss, steps, n, o, floor, out))
        return HP_CURVE_GOES_UP;
    if (oscillates(loss, steps, n, o, floor, out))
        return HP_CURVE_OSCILLATES;
    return flat_or_healthy(loss, steps, n, o, floor, out);
}

hp_curve_verdict_t hp_curve_classify(const double *loss, size_t n, const hp_curve_opts_t *opts,
                                     hp_curve_diag_t *out)
{
    return hp_curve_classify_steps(loss, NULL, n, opts, out);
}

int hp_curve_is_diverging(const double *loss, size_t n, const hp_curve_opts_t *opts)
{
    const hp_curve_opts_t *o = opts ? opts : &defaults;
    HP_ASSERT(hp_curve_opts_check(o, NULL, 0) == 0);
    HP_ASSERT(loss || n == 0);
    return find_explosion(loss, NULL, n, o, NULL);
}

static const char *const names[HP_CURVE_VERDICT_COUNT_] = {
    [HP_CURVE_UNKNOWN] = "unknown",       [HP_CURVE_HEALTHY] = "healthy",
    [HP_CURVE_GOES_UP] = "goes_up",       [HP_CURVE_EXPLODES] = "explodes",
    [HP_CURVE_OSCILLATES] = "oscillates", [HP_CURVE_PLATEAUS] = "plateaus",
};

/* the seed's "overfit a single batch" lists, most likely cause first */
static const char *const causes[HP_CURVE_VERDICT_COUNT_] = {
    [HP_CURVE_UNKNOWN] = "too few loss values to diagnose; nothing to fix yet",
    [HP_CURVE_HEALTHY] = "none: the loss falls or has converged",
    [HP_CURVE_GOES_UP] = "a flipped sign somewhere in the loss function or gradient; "
                         "learning rate too high; softmax taken over the wrong dimension",
    [HP_CURVE_EXPLODES] = "a numerical issue (check every exp, log and div operation); "
                          "learning rate too high",
    [HP_CURVE_OSCILLATES] = "corrupted data or labels (e.g. zeroed, incorrectly shuffled or "
                            "preprocessed incorrectly); learning rate too high",
    [HP_CURVE_PLATEAUS] = "learning rate too low; gradient not flowing through the whole "
                          "model; too much regularization; incorrect input to the loss "
                          "function (e.g. softmax outputs instead of logits, a ReLU on the "
                          "output); corrupted data or labels",
};

const char *hp_curve_verdict_name(hp_curve_verdict_t v)
{
    return (unsigned)v < HP_CURVE_VERDICT_COUNT_ ? names[v] : "invalid";
}

int hp_curve_verdict_parse(const char *name, hp_curve_verdict_t *out)
{
    for (int v = 0; v < HP_CURVE_VERDICT_COUNT_; v++)
        if (name && strcmp(name, names[v]) == 0) {
            *out = (hp_curve_verdict_t)v;
            return 0;
        }
    return HP_EINVAL;
}

const char *hp_curve_causes(hp_curve_verdict_t v)
{
    return (unsigned)v < HP_CURVE_VERDICT_COUNT_ ? causes[v] : "invalid verdict";
}
