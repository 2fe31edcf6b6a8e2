/*
 * autopilot_decide.h — the decision of `hpsearch autopilot` after a round:
 * given the chosen trial's bias-variance decomposition (report_calc.h) and
 * what the round trained, what the next round changes, in the priority
 * order of ../shared/seed/troubleshooting-deep-learning.md ("Improve"),
 * with the reason in words. Pure: no I/O, no allocation, so it is tested
 * on hand-made report numbers (tests/cli/test_autopilot.c).
 *
 *     hp_ap_config_t cur;  hp_ap_config_default(&cur, HP_MODEL_MLP, 0);
 *     cur.tuned = 1;                          // lr and size were tuned
 *     hp_ap_input_t in = {.report = &r, .cur = &cur, .human_known = 1,
 *                         .objective = 0.12, .target = 0.05, .metric = "val_error"};
 *     hp_ap_decision_t d;
 *     hp_ap_decide(&in, &d);
 *     // d.action == HP_AP_BIGGER, d.next.width == 512, d.reason ==
 *     // "avoidable bias 0.0610 is the first material term → bigger model: hidden 256 → 512"
 *
 * The rules (docs/autopilot.md says why):
 *   target met                      → done
 *   the defaults were not tuned yet → tune: coarse-to-fine on lr and size
 *   the first material term, in the guide's order, whose ladder has a step left:
 *     avoidable bias  train longer (epochs ×2, up to max_epochs) while the
 *                     chosen trial's val_error was still best at its last
 *                     epoch and its second half gained a material amount
 *                     (late_gain ≥ the report's threshold) → bigger model (×2 width; then one more layer) while it
 *                     helps → less regularization → a stronger architecture
 *                     (images: MLP → LeNet → ResNet; sequences: LSTM → TCN →
 *                     attention) → tune (bayes)
 *     variance        more data (train_subset ×2, then all) → batch norm →
 *                     augmentation (images) → dropout + weight decay (twice)
 *                     → early stopping (epochs → the best validation epoch)
 *                     → tune (bayes)
 *     shift           domain adaptation (images: dataset.adapt: coral) → tune (bayes)
 *     val overfitting a larger validation set (validation_fraction ×2, up
 *                     to 0.3) → tune (bayes)
 *   no material term, or every material term's ladder used up → tune (bayes)
 * and when that bayes round did not improve either (BAYES in `failed`)
 * → stop: the best so far stands.
 * A step that was tried and did not improve the objective is in `failed`
 * and is skipped, so the ladder moves on.
 */
#ifndef HP_CLI_AUTOPILOT_DECIDE_H
#define HP_CLI_AUTOPILOT_DECIDE_H

#include "report_calc.h"
#include "spec.h"

#include <stdint.h>

/* What a round trains: the model and the settings the ladder moves. */
typedef struct hp_ap_config {
    hp_model_t model;           /* mlp, lenet, resnet; lstm, tcn, attention */
    int images;                 /* the dataset is images (LeNet applies) */
    int seq_t, seq_f;           /* a sequence CSV's T steps of F features (the
                                   sequence ladder applies); 0: not one */
    int width;                  /* mlp, lstm: hidden units per layer; lenet: fc1 width;
                                   resnet, tcn, attention: channels */
    int lenet_scale;            /* lenet: the fc1 width its convolutions and fc2 are
                                   scaled from (hp_ap_lenet_sizes), held while a round
                                   tunes fc1, so the chosen trial's config is the model
                                   it trained; moved only with the model's size (a
                                   bigger model); 0: width */
    int depth;                  /* mlp hidden layers, 1..HP_AP_MAX_DEPTH */
    double lr;                  /* the learning rate at the centre of the search */
    double dropout, weight_decay;
    int batchnorm, augment;
    int adapt;                  /* dataset.adapt: coral */
    uint64_t train_subset;      /* 0: all the training data */
    double validation_fraction; /* of the training data */
    int epochs;                 /* 0: the round's budget decides */
    int tuned;                  /* a round tuned lr and size for this model */
} hp_ap_config_t;

#define HP_AP_MAX_DEPTH 3
#define HP_AP_MAX_WIDTH_MLP 2048
#define HP_AP_MAX_WIDTH_LENET 960 /* fc1; the convolutions grow with it */
#define HP_AP_MAX_WIDTH_RESNET 64 /* first-stage channels (x4 by the last stage) */
#define HP_AP_MAX_WIDTH_SEQ 512   /* lstm hidden, tcn and attention channels */
#define HP_AP_MAX_DROPOUT 0.5
#define HP_AP_MAX_WEIGHT_DECAY 5e-3
#define HP_AP_MAX_VAL_FRACTION 0.3

typedef enum hp_ap_action {
    HP_AP_DONE = 0,     /* the target is met */
    HP_AP_TUNE,         /* coarse-to-fine on lr and size */
    HP_AP_BAYES,        /* Bayesian optimisation around the best */
    HP_AP_LONGER,       /* under-fitting: still improving at its last epoch */
    HP_AP_BIGGER,
    HP_AP_LESS_REG,
    HP_AP_ARCH,
    HP_AP_MORE_DATA,    /* over-fitting */
    HP_AP_BATCHNORM,
    HP_AP_AUGMENT,
    HP_AP_REGULARIZE,
    HP_AP_EARLY_STOP,
    HP_AP_REBALANCE,    /* validation overfitting */
    HP_AP_ADAPT,        /* distribution shift */
    HP_AP_STOP,         /* nothing left: bayes around the best did not improve */
    HP_AP_ACTION_COUNT
} hp_ap_action_t;

#define HP_AP_BIT(a) (1u << (a))

typedef struct hp_ap_input {
    const hp_report_t *report; /* of the chosen trial (human error 0 when unknown) */
    int human_known;           /* objective.human_error was set */
    const hp_ap_config_t *cur; /* what the chosen trial's round trained */
    unsigned failed;           /* HP_AP_BIT(action): steps tried that did not help */
    const char *metric;        /* the objective, for the words */
    double objective;          /* the chosen trial's value */
    int maximize;
    int has_target;
    double target;
    int best_epoch; /* the chosen trial's best validation epoch; 0: unknown */
    int epochs;     /* the epochs it trained */
    double late_gain; /* val_error at half its epochs minus its lowest; NaN: unknown */
    int max_epochs; /* the most a trial may train (trial.epochs when the user set
                       it); 0: no longer training */
} hp_ap_input_t;

typedef struct hp_ap_decision {
    hp_ap_action_t action;
    int term;           /* the hp_report_term_id_t it addresses, -1 for none */
    hp_ap_config_t next; /* what the next round trains */
    char reason[768];   /* "avoidable bias 0.0610 is ... → bigger model: hidden 256 → 512" */
} hp_ap_decision_t;

/* hp_ap_config_default: the guide's "start simple" for a model: one
 * hidden layer of 256 (mlp), LeNet-5's sizes, a one-layer LSTM of 128,
 * the later architectures' default channels; Adam 3e-4, no
 * regularization, all the data, a 10% validation split. */
void hp_ap_config_default(hp_ap_config_t *c, hp_model_t model, int images);

/* hp_ap_start_model: the guide's "start simple" model for the data:
 * LeNet-like for images, a one-layer LSTM for a sequence (seq_t > 0), an
 * MLP with one hidden layer otherwise. */
hp_model_t hp_ap_start_model(int images, int seq_t);

/* hp_ap_start_reason writes why round 1 trains c (its model picked by the
 * data, or given by the spec's trial.model when user_model), e.g.
 * "sequence data (24 steps x 2 features) → one-layer LSTM, hidden 128";
 * source names the data (the dataset's name or path). */
void hp_ap_start_reason(const hp_ap_config_t *c, int user_model, const char *source, char *out,
                        size_t cap);

/* hp_ap_lenet_sizes: LeNet-5's other widths as autopilot trains them,
 * scaled with c's lenet_scale (else its fc1 width): conv 6, conv 16, fc2
 * 84 at 120; each at least 1. */
void hp_ap_lenet_sizes(const hp_ap_config_t *c, int *conv1, int *conv2, int *fc2);

/* hp_ap_lenet_scale: the fc1 width c's convolutions are scaled from */
int hp_ap_lenet_scale(const hp_ap_config_t *c);

/* hp_ap_grow multiplies c's size by k: its width, and a LeNet's
 * convolutions with it (lenet_scale) — the model grows, not just fc1 */
void hp_ap_grow(hp_ap_config_t *c, int k);

/* hp_ap_size_param: the space parameter a round tunes for the config's
 * size ("hidden" for an mlp of one layer or an lstm, "fc1" for lenet,
 * "channels" for resnet and tcn), or NULL (a deeper mlp: its widths are
 * fixed; attention: its channels must stay a multiple of its heads). */
const char *hp_ap_size_param(const hp_ap_config_t *c);

/* hp_ap_decide fills *out from *in (the rules above). Any thread. */
void hp_ap_decide(const hp_ap_input_t *in, hp_ap_decision_t *out);

/* hp_ap_action_name: the action's stable word in events ("bigger_model"). */
const char *hp_ap_action_name(hp_ap_action_t a);

/* hp_ap_target_met: whether value reaches target for the goal. */
int hp_ap_target_met(double value, double target, int maximize);

#endif
