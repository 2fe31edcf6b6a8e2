/*
 * c2f.h — coarse-to-fine search: rounds of quasi-random (scrambled Sobol)
 * sampling, each round inside a box that narrows around the best trials of
 * the rounds before it.
 *
 * Rounds: trial `number` belongs to round min(number / trials_per_round,
 * rounds - 1) (the spec guarantees rounds x trials_per_round >= max_trials).
 * Round 0 samples the whole space. Before round r >= 1 starts, every trial
 * of rounds 0..r-1 must be finished: suggest returns HP_EBUSY while any of
 * them is PENDING in the history. Then, from the completed trials of rounds
 * 0..r-1, the best k (k = top_k, or ceil(top_fraction x trials_per_round),
 * at least 1; ties broken by trial number) define round r's box, per
 * parameter, in the unit cube of space.h (so log parameters narrow in log
 * space and ints on their widened cells):
 *   - numeric: width shrink^r, centred on the median of those of the best
 *     k's coordinates that lie within half a width of the best trial's (so
 *     the box always holds the best trial and never sits between two
 *     far-apart optima), shifted (not cut) to stay inside [0,1], i.e.
 *     inside the original bounds;
 *   - categorical: only the values that appear among the best k.
 * If no trial of rounds 0..r-1 completed (all failed), round r keeps the
 * whole space. A warm start's prior observations (sampler.h) are a round
 * before round 0: they join the best k of every round, and round r's
 * width is shrink^(r+1), so round 0 already searches around them. The box depends only on the history (sorted by trial
 * number), never on the order trials arrived in; the points of a round are
 * the Sobol points of a scramble seeded by (seed, round), so the whole
 * search is deterministic given the seed and the history.
 *
 * The daemon records each round's ranges (hp_c2f_round_ranges_json) when
 * the round starts — the first time suggest succeeds for a trial of that
 * round — so users can query how the search narrowed.
 *
 * Threads: as for every sampler (sampler.h). The functions below only read
 * the sampler and history.
 */
#ifndef HP_C2F_H
#define HP_C2F_H

#include "buf.h"
#include "sampler.h"

/* hp_c2f_rounds returns the number of rounds of a coarse-to-fine sampler. */
unsigned hp_c2f_rounds(const hp_sampler_t *s);

/* hp_c2f_round_of returns the round trial `number` belongs to. */
unsigned hp_c2f_round_of(const hp_sampler_t *s, uint64_t number);

/* hp_c2f_round_first returns the number of round `round`'s first trial
 * (round * trials_per_round): when a suggestion for that number succeeds,
 * the round has started and its ranges are final — the moment to record
 * hp_c2f_round_ranges_json. */
uint64_t hp_c2f_round_first(const hp_sampler_t *s, unsigned round);

/* hp_c2f_round_box computes round `round`'s box from the history: lo[i] and
 * hi[i] in the unit cube for every parameter (categoricals: 0 and 1), and,
 * if allowed is not NULL, for categorical parameter i with k values,
 * allowed[i][j] (j < k) = 1 for values the round may use; allowed[i] must
 * point to at least k bytes for categorical i and is ignored otherwise.
 * Returns 0, HP_EBUSY if a trial of an earlier round is still PENDING, or
 * HP_ERANGE if round >= hp_c2f_rounds(s). */
int hp_c2f_round_box(const hp_sampler_t *s, unsigned round, const hp_history_t *h, double *lo,
                     double *hi, unsigned char **allowed);

/* hp_c2f_round_ranges_json appends round `round`'s ranges as one JSON
 * object (no spaces), for the daemon's events table and for users:
 *
 *   {"round":1,"first_trial":25,"last_trial":49,"best":[17,3,22],
 *    "params":{"lr":{"low":0.0001,"high":0.0031,"unit":[0.25,0.5]},
 *              "hidden":{"low":64,"high":192,"unit":[0.1,0.6]},
 *              "act":{"values":["relu","tanh"]}}}
 *
 * low/high are in the parameter's own units (the values the unit box maps
 * to: ints on their step grid), unit is the box in the unit cube, best the
 * trial numbers that defined the box (best first; empty for round 0).
 * With a warm start, "warm_best":["lr-coarse#17",...] names the prior
 * observations among them (STUDY#NUMBER), after "best".
 * Same return codes as hp_c2f_round_box; out is untouched on error. */
int hp_c2f_round_ranges_json(const hp_sampler_t *s, unsigned round, const hp_history_t *h,
                             hp_buf_t *out);

#endif
