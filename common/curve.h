/*
 * curve.h — learning-curve diagnosis: classify a training-loss curve the
 * way the troubleshooting seed's "overfit a single batch" list does (error
 * goes up / explodes / oscillates / plateaus), and say why with numbers.
 *
 *     hp_curve_diag_t d;
 *     hp_curve_classify(loss, n, NULL, &d);       // NULL = default thresholds
 *     printf("%s: %s (likely: %s)\n", hp_curve_verdict_name(d.verdict),
 *            d.evidence, hp_curve_causes(d.verdict));
 *     // -> "goes_up: loss rose from 0.52 to 0.91 over the last 4 steps
 *     //     (likely: a flipped sign in the loss or gradient; ...)"
 *
 *     if (hp_curve_is_diverging(loss, n, NULL))   // after each epoch
 *         stop the trial early;
 *
 * Input: loss[i] is the i-th reported value of a quantity that should go
 * DOWN (the training loss, one value per epoch or per step). Pass losses,
 * not accuracies: a rising accuracy reads as "goes_up". Pass the training
 * loss, not the validation loss: a validation loss that turns up is
 * over-fitting, which is the bias-variance report's business, not this one.
 * Negative values are allowed (e.g. a negative log-likelihood); every
 * relative measure uses magnitudes.
 *
 * Verdicts are decided in this order, the first that applies wins:
 *   explodes   a non-finite value anywhere, or one step that jumps by more
 *              than (explode_factor - 1) times the loss before it (while
 *              every earlier value is exactly 0 there is no scale, and
 *              only a non-finite value explodes);
 *   unknown    fewer than min_points values (and not exploding);
 *   goes_up    the last up_window steps all rose, by >= up_rise in total,
 *              or the mean of the last up_window+1 values is >= up_rise
 *              above the lowest such mean earlier; both rises must also
 *              exceed noise_k times their noise (estimated from the curve);
 *   oscillates the change flipped sign in >= osc_flip_frac of consecutive
 *              steps over the last osc_window steps, with a typical swing
 *              >= osc_amplitude of the loss;
 *   plateaus   the least-squares fit over the last plateau_window steps
 *              does not fall by plateau_rel_change of the loss (or falls by
 *              less than noise_k standard errors of the fit) AND the loss
 *              is still within
 *              plateau_max_drop of its first value. A flat curve that has
 *              already fallen further is converged, hence healthy. An
 *              exactly constant curve is a plateau at any value (0
 *              included): nothing was learned while it was observed;
 *   healthy    anything else.
 *
 * Thresholds are relative to the loss's own size, with a floor: near-zero
 * values after a big drop are measured against scale_floor times the
 * largest |loss| of the curve, so wiggles at 1e-5 after starting at 2.3 are
 * neither explosions nor rises.
 *
 * All functions are pure, reentrant, allocate nothing and may be called
 * from any thread. The strings returned are static.
 */
#ifndef HP_CURVE_H
#define HP_CURVE_H

#include <stddef.h>
#include <stdint.h>

/* The values are stored nowhere; the names (hp_curve_verdict_name) are. */
typedef enum hp_curve_verdict {
    HP_CURVE_UNKNOWN = 0, /* too few points to say */
    HP_CURVE_HEALTHY,
    HP_CURVE_GOES_UP,
    HP_CURVE_EXPLODES,
    HP_CURVE_OSCILLATES,
    HP_CURVE_PLATEAUS,
    HP_CURVE_VERDICT_COUNT_
} hp_curve_verdict_t;

/* Thresholds. Start from hp_curve_opts_init (or HP_CURVE_OPTS_DEFAULT) and
 * change single fields; docs/troubleshooting.md explains each default. */
typedef struct hp_curve_opts {
    /* Fewer finite values than this -> unknown (4: three changes are the
     * fewest that show a direction rather than one noisy step). */
    size_t min_points;
    /* Relative measures divide by max(|x|, scale_floor * largest |loss|)
     * (0.02: after a fall to ~0, the curve's scale is 2% of its peak). */
    double scale_floor;
    /* A single step that grows by more than (explode_factor - 1) times the
     * previous loss explodes (10: SGD noise, even at 30% per step, never
     * makes a 10x step; a learning rate that is too high does). */
    double explode_factor;
    /* goes_up looks at the last up_window steps (4) and needs a rise of
     * at least up_rise (0.10 = 10%) of the loss at the window's start. */
    size_t up_window;
    double up_rise;
    /* Rises (goes_up) must also exceed noise_k times the curve's noise,
     * estimated from the median absolute second difference of the last 32
     * values (3: a 3-sigma rise is not noise); a plateau's fitted change
     * within noise_k standard errors counts as flat. */
    double noise_k;
    /* oscillates: over the last osc_window steps (8; at most 64), the change flips
     * sign in >= osc_flip_frac (0.75, i.e. 6 of 7) of consecutive pairs,
     * and the median |change| is >= osc_amplitude (0.30) of the mean
     * |loss|. Independent noise flips 2/3 of the time, so the flip
     * fraction alone cannot separate noise; the amplitude does: noise of
     * 10% per value gives a median swing near 10%, rarely 25%. */
    size_t osc_window;
    double osc_flip_frac;
    double osc_amplitude;
    /* plateaus: least-squares change over the last plateau_window steps
     * (5) below plateau_rel_change (0.025 = 2.5%) of the mean loss there,
     * while the loss is less than plateau_max_drop (0.20 = 20%) below its
     * first value. */
    size_t plateau_window;
    double plateau_rel_change;
    double plateau_max_drop;
} hp_curve_opts_t;

#define HP_CURVE_OPTS_DEFAULT                                                  \
    {                                                                          \
        .min_points = 4, .scale_floor = 0.02, .explode_factor = 10.0,          \
        .up_window = 4, .up_rise = 0.10, .noise_k = 3.0, .osc_window = 8,      \
        .osc_flip_frac = 0.75, .osc_amplitude = 0.30, .plateau_window = 5,     \
        .plateau_rel_change = 0.025, .plateau_max_drop = 0.20                   \
    }

#define HP_CURVE_EVIDENCE_MAX 160

typedef struct hp_curve_diag {
    hp_curve_verdict_t verdict;
    /* Index of the value that decided the verdict: the non-finite value or
     * the top of the jump for explodes, otherwise the last value (n - 1);
     * 0 for an empty curve. */
    size_t step;
    /* First index of the values the evidence talks about. */
    size_t window_start;
    /* One sentence with numbers, e.g. "loss became NaN at step 3". */
    char evidence[HP_CURVE_EVIDENCE_MAX];
} hp_curve_diag_t;

/* hp_curve_opts_init fills o with the defaults. */
void hp_curve_opts_init(hp_curve_opts_t *o);

/* hp_curve_opts_check returns 0 if o is usable, else HP_EINVAL with the
 * offending field named in err. Call it where thresholds come from a user
 * (a config file); classify asserts it. */
int hp_curve_opts_check(const hp_curve_opts_t *o, char *err, size_t errlen);

/* hp_curve_classify diagnoses loss[0..n) (loss may be NULL when n == 0)
 * with opts (NULL = defaults) and returns the verdict; if out is non-NULL
 * it also gets the verdict, the deciding step and the evidence. Call it on
 * a finished trial's curve, or on the curve so far. */
hp_curve_verdict_t hp_curve_classify(const double *loss, size_t n,
                                     const hp_curve_opts_t *opts,
                                     hp_curve_diag_t *out);

/* hp_curve_classify_steps is hp_curve_classify for a curve whose values
 * were reported at steps[0..n) — the step numbers as stored (an epoch, a
 * program's step=N), which need not start at 0 nor be consecutive. The
 * evidence names those steps ("loss jumped 40x between steps 4 and 5",
 * "loss rose ... over steps 10-50") instead of positions; out->step and
 * out->window_start stay indices into loss. steps NULL is
 * hp_curve_classify: positions, and "over the last 4 steps". */
hp_curve_verdict_t hp_curve_classify_steps(const double *loss, const int64_t *steps, size_t n,
                                           const hp_curve_opts_t *opts, hp_curve_diag_t *out);

/* hp_curve_is_diverging is the early-stop rule: 1 if loss[0..n) holds a
 * non-finite value or an explosive jump (the "explodes" verdict), else 0.
 * It looks only at values up to each jump, so calling it after every epoch
 * stops a trial at the first epoch classify would call "explodes". It is
 * conservative: noise never trips it, and it works from 1 value on. */
int hp_curve_is_diverging(const double *loss, size_t n, const hp_curve_opts_t *opts);

/* hp_curve_verdict_name returns "unknown", "healthy", "goes_up",
 * "explodes", "oscillates" or "plateaus" (stored in SQL: never change
 * them), or "invalid" for a value outside the enum. */
const char *hp_curve_verdict_name(hp_curve_verdict_t v);

/* hp_curve_verdict_parse maps a name back; 0 on success, HP_EINVAL if the
 * name is not one of hp_curve_verdict_name's. */
int hp_curve_verdict_parse(const char *name, hp_curve_verdict_t *out);

/* hp_curve_causes returns the seed's likely causes for v as one sentence
 * (for unknown and healthy, a sentence saying there is nothing to fix). */
const char *hp_curve_causes(hp_curve_verdict_t v);

#endif
