/*
 * pruner.h — early stopping of hopeless trials (the spec's `pruning:`
 * section), decided from the values trials report at steps. The step is the
 * resource: the epoch for built-in models, `step=N` of an external
 * program's metric lines.
 *
 * Every value is judged in "lower is better" form: with `maximize` the
 * pruner negates what it is given and un-negates what it prints.
 *
 * Rules (docs/pruning.md has the same in a user's words):
 *
 *  - asha: asynchronous successive halving, the stopping variant (Li et al.,
 *    "A System for Massively Parallel Hyperparameter Tuning", 2018; the
 *    decision is the one Optuna's SuccessiveHalvingPruner makes). Rung k is
 *    at step min_resource * eta^k, for every such step below max_resource
 *    (reaching max_resource completes a trial; there is nothing left to
 *    save). The first time a trial reports a step >= rung k's, the value of
 *    that report is recorded at rung k (a report that jumps over several
 *    rungs is recorded at each), and the trial continues only if the value
 *    is among the best max(1, floor(n / eta)) of the n values recorded at
 *    rung k so far, its own included; a value equal to the cut-off
 *    continues. So the first trials at a rung continue while they are the
 *    best there (no trial waits for a rung to fill), and later ones must be
 *    in the top 1/eta.
 *
 *  - hyperband: brackets b = 0 .. B-1, B = floor(log_eta(max_resource /
 *    min_resource)) + 1, or `brackets` if smaller. Bracket b is an asha of
 *    its own whose first rung is at min_resource * eta^b; trials compete
 *    only with trials of their bracket. A trial's bracket is fixed by its
 *    number: a hash of it, split in proportion to the trials Hyperband's
 *    schedule gives each bracket, ceil(B * eta^s / (s + 1)) with
 *    s = B - 1 - b (Li et al., "Hyperband", JMLR 2018, Algorithm 1; as
 *    Optuna's HyperbandPruner splits them).
 *
 *  - the rank check (asha and hyperband, min_rank_correlation > 0): a rung
 *    stops a trial only while its values predict the end. For rung k, the
 *    pairs (value at rung k, last value reported) of the trials that
 *    reached rung k and then completed give Spearman's rank correlation
 *    (average ranks for ties); once there are at least min_trials pairs
 *    and it is below min_rank_correlation, a trial the rung would stop goes
 *    on (its value is still recorded there). With fewer pairs the rung
 *    stops trials as plain asha does. The verdict says when a rung starts
 *    or stops sparing trials (flips), so the daemon writes it down once. A
 *    rung that was sparing and can no longer compute the correlation
 *    (fewer than min_trials pairs after a forget, or one side all equal)
 *    cuts again, and says so. A trial stopped by the rule that completes
 *    anyway (its stop came after its last step) gives no pair: it did not
 *    pass the rung.
 *
 *  - median: Optuna's MedianPruner. At a step >= warmup_steps that is the
 *    first of its interval (interval_steps), once min_trials trials have
 *    completed, a trial stops when its best value so far is worse than the
 *    median of the values completed trials reported at that same step
 *    (linear interpolation between the middle two). A step no completed
 *    trial reported is not judged, nor a step at or past max_resource when
 *    it is known (> 0): the trial is complete there.
 *
 * Every rule stops a trial whose value is not finite (NaN or infinite),
 * at any step, the grace period too: judged as diverged, it cannot recover.
 *
 * Decisions depend only on the order of reports, so replaying the stored
 * reports in the order they were stored rebuilds the same state and makes
 * the same decisions. A trial re-run after its worker died is forgotten
 * (hp_pruner_forget) and judged again from its first step.
 *
 * Threads: none of its own; one owner (the coordinator's loop). Reports
 * cost O(log n + n) in the trials at a rung (a sorted insert); nothing is
 * allocated except to grow.
 */
#ifndef HP_PRUNER_H
#define HP_PRUNER_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    HP_PRUNE_NONE = 0,
    HP_PRUNE_MEDIAN,
    HP_PRUNE_ASHA,
    HP_PRUNE_HYPERBAND,
} hp_prune_rule_t;

typedef struct hp_pruner_config {
    hp_prune_rule_t rule;
    const char *metric; /* for the reasons it writes; copied */
    int maximize;
    int64_t min_resource;   /* >= 1: no trial stops before this step */
    int64_t max_resource;   /* > min_resource: a trial there is complete
                             * (median: 0 = not known) */
    int64_t eta;            /* reduction factor, >= 2 */
    uint32_t brackets;      /* hyperband: at most this many; 0 = all */
    int64_t warmup_steps;   /* median: no judgement before this step */
    int64_t interval_steps; /* median: judge once per this many steps, >= 1 */
    uint32_t min_trials;    /* median: completed trials before any judgement;
                             * rank check: completed trials at a rung before
                             * its correlation counts */
    double min_rank_corr;   /* asha, hyperband: the rank check's threshold,
                             * (0, 1]; 0 = no check */
} hp_pruner_config_t;

typedef struct hp_pruner hp_pruner_t;

#define HP_PRUNE_NOTES 4 /* rank-check changes one report can carry (one per rung
                          * it passes; a report jumps over rungs rarely) */

/* What a report decided. */
typedef struct {
    int stop;          /* 1: stop the trial */
    int judged;        /* 1: a rung or the median was consulted */
    int64_t rung_step; /* asha/hyperband: the rung's step that decided */
    uint32_t bracket;  /* hyperband: the trial's bracket (else 0) */
    uint32_t n;        /* trials compared (at the rung / completed at the step) */
    double cutoff;     /* the value it had to match, as the metric reads */
    char reason[320];  /* when stop: "pruned at step 9 by asha: ..." */
    int spared;        /* rank check: the rung would have stopped it */
    uint32_t flips;    /* rank check: rungs that just started or stopped
                        * sparing trials; note[i] says why, one per rung */
    uint32_t rank_n;   /* rank check: completed trials the correlation used */
    double rank_corr;  /* ... and the correlation (NAN below min_trials);
                        * both 0 when the check was not consulted */
    char note[HP_PRUNE_NOTES][256];
} hp_prune_verdict_t;

/* hp_pruner_config_check returns 0 or HP_EINVAL with a message naming the
 * field (pruning.reduction_factor, ...). */
int hp_pruner_config_check(const hp_pruner_config_t *cfg, char *err, size_t errlen);

/* hp_pruner_new makes a pruner for a checked config; HP_EINVAL as above,
 * HP_ENOMEM. */
int hp_pruner_new(const hp_pruner_config_t *cfg, hp_pruner_t **out, char *err, size_t errlen);
void hp_pruner_free(hp_pruner_t *p);

/* hp_pruner_report judges trial's value at step. Steps of one trial are
 * expected to grow; a report at or below a step the trial already reported
 * is ignored (as a repeated step). A trial stopped once is not
 * judged again until forgotten: later reports return stop = 0, judged = 0.
 * Returns 0, or HP_ENOMEM (the verdict is then "continue"). */
int hp_pruner_report(hp_pruner_t *p, uint64_t trial, int64_t step, double value,
                     hp_prune_verdict_t *v);

/* hp_pruner_complete says trial finished normally: its curve counts for
 * the median rule from now on. HP_ENOMEM or 0. */
int hp_pruner_complete(hp_pruner_t *p, uint64_t trial);

/* hp_pruner_forget drops everything trial reported (its rung values too),
 * for a re-run: the new attempt is judged afresh. */
void hp_pruner_forget(hp_pruner_t *p, uint64_t trial);

/* hp_pruner_stopped returns why trial was stopped (the verdict's reason)
 * and the step (if step is not NULL), or NULL while it may go on. Valid
 * until the next call that changes p. */
const char *hp_pruner_stopped(const hp_pruner_t *p, uint64_t trial, int64_t *step);

/* hp_pruner_projection estimates where a trial the rule stopped would
 * have ended: its value at the step it was stopped at, plus the median
 * change from that step to the end of the trials that passed the same
 * point and completed (asha, hyperband: the rung's step, pooled over
 * brackets; median: the same step of their curves). Returns 1 with *value
 * as the metric reads and *n the completed trials it used, or 0 when the
 * trial was not stopped by the rule at a finite value or fewer than
 * HP_PRUNE_PROJECT_MIN trials completed from that point. The change per
 * step is kept until the next completion or forget, so projecting every
 * pruned trial costs a sort per distinct step, not per trial. */
#define HP_PRUNE_PROJECT_MIN 3
int hp_pruner_projection(hp_pruner_t *p, uint64_t trial, double *value, uint32_t *n);

/* hp_pruner_bracket returns trial's hyperband bracket (0 for other rules). */
uint32_t hp_pruner_bracket(const hp_pruner_t *p, uint64_t trial);

/* hp_pruner_schedule_brackets: how many brackets a full hyperband schedule
 * has, one per rung min_resource * eta^k <= max_resource (min_resource >= 1,
 * eta >= 2); pruning.brackets takes at most this many. */
uint32_t hp_pruner_schedule_brackets(int64_t min_resource, int64_t max_resource, int64_t eta);

/* For reports: the number of brackets (1 unless hyperband), and bracket
 * b's rungs: *steps and *counts (values recorded) for rung 0..n-1. Returns
 * the number of rungs written (at most cap). */
uint32_t hp_pruner_brackets(const hp_pruner_t *p);
size_t hp_pruner_rungs(const hp_pruner_t *p, uint32_t bracket, int64_t *steps, size_t *counts,
                       size_t cap);

/* hp_prune_rule_parse maps "none" | "median" | "asha" | "hyperband" to a
 * rule; -1 if unknown. hp_prune_rule_name is the reverse. */
int hp_prune_rule_parse(const char *name);
const char *hp_prune_rule_name(hp_prune_rule_t rule);

#endif
