/*
 * autopilot_round.h — one round of `hpsearch autopilot` as a study: its
 * spec (what autopilot writes over the user's, spec_overlay.h) and its
 * size from the time left. Pure: no I/O.
 *
 *     hp_ap_round_t r = {.search = HP_AP_SEARCH_C2F, .cfg = cur, .parallelism = 2};
 *     snprintf(r.name, sizeof r.name, "%s-r%d", base, k);
 *     hp_ap_round_size(&r, share_s, est_trial_s, epochs, workers);
 *     hp_buf_t overlay = {0};
 *     hp_ap_round_overlay(&r, &user_spec, &overlay);   // YAML flow text
 */
#ifndef HP_CLI_AUTOPILOT_ROUND_H
#define HP_CLI_AUTOPILOT_ROUND_H

#include "autopilot_decide.h"
#include "buf.h"
#include "spec.h"

typedef enum hp_ap_search {
    HP_AP_SEARCH_SIMPLE = 0, /* one trial with the defaults, sanity check on */
    HP_AP_SEARCH_C2F,        /* coarse-to-fine on lr and size */
    HP_AP_SEARCH_BAYES,      /* bayes on lr and size, narrower */
    HP_AP_SEARCH_CONFIRM,    /* the best config with one step's change (train
                                longer): random on lr within ×/÷1.5 of the
                                best, its size fixed, one trial per worker */
} hp_ap_search_t;

/* how far a confirm round's lr moves from the best's, each way; _TEXT is
 * the same number in words (one literal, stringized) */
#define HP_AP_CONFIRM_LR 1.5
#define HP_AP_STR_(x) #x
#define HP_AP_STR(x) HP_AP_STR_(x)
#define HP_AP_CONFIRM_LR_TEXT HP_AP_STR(HP_AP_CONFIRM_LR)

typedef struct hp_ap_round {
    char name[HP_SPEC_NAME_MAX];
    hp_ap_search_t search;
    hp_ap_config_t cfg;
    uint64_t max_trials;
    uint32_t parallelism;
    int epochs;
} hp_ap_round_t;

/* hp_ap_round_size sets r->max_trials and r->epochs so the round fits in
 * share_s seconds of wall time (in whole waves of `workers` trials, the
 * nearest number of them, at least one) with `workers` trials at once, when one
 * trial of `epochs` epochs takes est_trial_s (<= 0: unknown, then one
 * trial per worker, at least 2). A round runs at most 4 trials per worker
 * (24 in all; the simple round one; a confirm round one per worker, at
 * least 2), and epochs shrink (never below 1) when fewer than `workers`
 * trials would fit, except a confirm round's: its epochs are its step. */
void hp_ap_round_size(hp_ap_round_t *r, double share_s, double est_trial_s, int epochs,
                      int workers);

/* hp_ap_round_plan sizes r for `left` seconds of budget and says whether
 * to start it (1) or stop because the budget is spent (0). The round gets
 * `share` of the time left (hp_ap_round_size), or all of it when its share
 * would cut the step's `epochs` (a result that would not judge the step).
 * It is not started, except as the first round (which measures the cost),
 * when no time is left, when one trial of its epochs would not fit
 * (est_trial_s: one trial of `epochs` epochs, <= 0 unknown), or when its
 * epochs would still be cut and a best trial exists (have_best): it could
 * only lose to that trial by training less, not beat it on its step's
 * merit. Pure: the caller reads the clock. */
int hp_ap_round_plan(hp_ap_round_t *r, double left, double share, double est_trial_s, int epochs,
                     int workers, int first, int have_best);

/* hp_ap_affordable is 0 when a step's one trial (trial_s, > 0 known)
 * would not finish in the `left` seconds there are (> 0): the ladder then
 * skips that step. Bayes is always affordable (its rounds shrink to the
 * time), and an unknown cost or a spent budget skips nothing (the round
 * plan stops the run instead). */
int hp_ap_affordable(hp_ap_action_t a, double trial_s, double left);

/* hp_ap_cost_scale: what one trial of `to` costs when one of `from` cost
 * est_s (same epochs): est_s scaled by the models' multiply-adds per
 * sample over the engine's speed on them (LeNet's convolutions grow with
 * fc1, so doubling it costs about 3x; LeNet to the ResNet about 50x) and
 * by the training data's size; 0 (unknown: the next round measures it)
 * when est_s is unknown or the data size is not known (a CSV going from a
 * subset to all of it). */
double hp_ap_cost_scale(const hp_ap_config_t *from, const hp_ap_config_t *to, double est_s);

/* hp_ap_round_overlay appends the keys the round writes over the user's
 * spec: name, search, space, trial.model, trial.epochs, the dataset's
 * train_subset, validation_fraction and augment, and trial.fixed (the
 * model's sizes, dropout, weight_decay, batchnorm, baselines). */
void hp_ap_round_overlay(const hp_ap_round_t *r, const hp_spec_t *user, hp_buf_t *out);

#endif
