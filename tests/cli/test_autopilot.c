/*
 * hpsearch autopilot's decision (autopilot_decide.h) on hand-made report
 * numbers: the report's terms in, the guide's next step out; and a round's
 * size from the time left (autopilot_round.h).
 */
#include "autopilot_decide.h"
#include "autopilot_round.h"

#include "hp_check.h"
#include "spec.h"
#include "spec_overlay.h"

#include <check.h>
#include <math.h>
#include <string.h>

/* a report with human error `human` (NaN: unknown, then counted from 0 as
 * autopilot does) */
static hp_report_t rep(double human, double train, double val, double test)
{
    hp_report_errors_t e;
    hp_report_errors_init(&e);
    e.human = isfinite(human) ? human : 0;
    e.err[HP_RE_TRAIN] = train;
    e.err[HP_RE_VAL] = val;
    e.err[HP_RE_TEST] = test;
    hp_report_t r;
    hp_report_compute(&e, &r);
    return r;
}

static hp_ap_decision_t decide(const hp_report_t *r, const hp_ap_config_t *cur, unsigned failed,
                               double objective, double target)
{
    hp_ap_input_t in = {.report = r, .human_known = 1, .cur = cur, .failed = failed,
                        .metric = "val_error", .objective = objective, .has_target = 1,
                        .target = target, .best_epoch = 3, .epochs = 5};
    hp_ap_decision_t d;
    hp_ap_decide(&in, &d);
    return d;
}

static hp_ap_config_t tuned(hp_model_t m, int images)
{
    hp_ap_config_t c;
    hp_ap_config_default(&c, m, images);
    c.tuned = 1;
    return c;
}

static const char user_text[] = "name: u\nobjective: {metric: val_error, goal: minimize, "
                                "target: 0.08}\ntrial: {dataset: {name: fashion-mnist}}\n";

/* the user's spec as autopilot parses it, with what it fills in first */
static void user_spec(hp_spec_t *u)
{
    static const char filled[] = "name: u\nobjective: {metric: val_error, goal: minimize, "
                                 "target: 0.08}\nsearch: {algorithm: random, max_trials: 1}\n"
                                 "space: {lr: {type: categorical, values: [0.0003]}}\n"
                                 "trial: {model: mlp, epochs: 5, dataset: {name: fashion-mnist}}\n";
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_spec_parse(u, filled, strlen(filled), "u.yaml", &d), 0);
    hp_diag_fini(&d);
}

START_TEST(test_target_met_is_done)
{
    hp_report_t r = rep(0, 0.2, 0.21, 0.22);
    hp_ap_config_t c = tuned(HP_MODEL_MLP, 0);
    hp_ap_decision_t d = decide(&r, &c, 0, 0.049, 0.05);
    ck_assert_int_eq(d.action, HP_AP_DONE);
    ck_assert_ptr_nonnull(strstr(d.reason, "meets the target"));
    /* maximizing: at least the target */
    hp_ap_input_t in = {.report = &r, .cur = &c, .metric = "val_accuracy", .objective = 0.9,
                        .maximize = 1, .has_target = 1, .target = 0.95};
    hp_ap_decide(&in, &d);
    ck_assert_int_ne(d.action, HP_AP_DONE);
}
END_TEST

START_TEST(test_defaults_are_tuned_first)
{
    hp_report_t r = rep(0, 0.2, 0.21, 0.22);
    hp_ap_config_t c;
    hp_ap_config_default(&c, HP_MODEL_MLP, 0);
    hp_ap_decision_t d = decide(&r, &c, 0, 0.21, 0.05);
    ck_assert_int_eq(d.action, HP_AP_TUNE);
    ck_assert_int_eq(d.next.tuned, 1);
    ck_assert_ptr_nonnull(strstr(d.reason, "coarse-to-fine"));
}
END_TEST

START_TEST(test_underfit_gets_bigger_model)
{
    /* the example: avoidable bias 0.061 is the largest material term */
    hp_report_t r = rep(0.01, 0.071, 0.08, 0.085);
    ck_assert_int_eq(r.advice[0], HP_RT_BIAS);
    hp_ap_config_t c = tuned(HP_MODEL_MLP, 0);
    hp_ap_decision_t d = decide(&r, &c, 0, 0.08, 0.02);
    ck_assert_int_eq(d.action, HP_AP_BIGGER);
    ck_assert_int_eq(d.term, HP_RT_BIAS);
    ck_assert_int_eq(d.next.width, 512);
    ck_assert_msg(strstr(d.reason, "avoidable bias 0.0610") &&
                      strstr(d.reason, "bigger model: hidden 256 → 512"),
                  "reason: %s", d.reason);
}
END_TEST

START_TEST(test_underfit_ladder_moves_on)
{
    hp_report_t r = rep(0, 0.1, 0.105, 0.11);
    /* at the width cap an mlp gets one more layer */
    hp_ap_config_t c = tuned(HP_MODEL_MLP, 0);
    c.width = HP_AP_MAX_WIDTH_MLP;
    hp_ap_decision_t d = decide(&r, &c, 0, 0.105, 0.02);
    ck_assert_int_eq(d.action, HP_AP_BIGGER);
    ck_assert_int_eq(d.next.depth, 2);
    /* bigger did not help, and there is regularization: less of it */
    c = tuned(HP_MODEL_MLP, 1);
    c.dropout = 0.4;
    c.weight_decay = 1e-3;
    d = decide(&r, &c, HP_AP_BIT(HP_AP_BIGGER), 0.105, 0.02);
    ck_assert_int_eq(d.action, HP_AP_LESS_REG);
    ck_assert(d.next.dropout < c.dropout && d.next.weight_decay < c.weight_decay);
    /* none: images move from the MLP to LeNet */
    c.dropout = c.weight_decay = 0;
    d = decide(&r, &c, HP_AP_BIT(HP_AP_BIGGER), 0.105, 0.02);
    ck_assert_int_eq(d.action, HP_AP_ARCH);
    ck_assert_int_eq(d.next.model, HP_MODEL_LENET);
    /* LeNet moves on to the ResNet, from its defaults (not yet tuned) */
    c = tuned(HP_MODEL_LENET, 1);
    d = decide(&r, &c, HP_AP_BIT(HP_AP_BIGGER), 0.105, 0.02);
    ck_assert_int_eq(d.action, HP_AP_ARCH);
    ck_assert_int_eq(d.next.model, HP_MODEL_RESNET);
    ck_assert_int_eq(d.next.width, 16);
    ck_assert_int_eq(d.next.tuned, 0);
    ck_assert_ptr_nonnull(strstr(d.reason, "LeNet-like CNN → ResNet-like CNN"));
    ck_assert_str_eq(hp_ap_action_name(d.action), "stronger_architecture");
    ck_assert_str_eq(hp_ap_size_param(&d.next), "channels");
    /* the ResNet is the strongest built in: tune with bayes, saying so */
    c = tuned(HP_MODEL_RESNET, 1);
    d = decide(&r, &c, HP_AP_BIT(HP_AP_BIGGER), 0.105, 0.02);
    ck_assert_int_eq(d.action, HP_AP_BAYES);
    ck_assert_ptr_nonnull(strstr(d.reason, "used up"));
    /* so is LeNet once the ResNet was tried and did not help */
    c = tuned(HP_MODEL_LENET, 1);
    d = decide(&r, &c, HP_AP_BIT(HP_AP_BIGGER) | HP_AP_BIT(HP_AP_ARCH), 0.105, 0.02);
    ck_assert_int_eq(d.action, HP_AP_BAYES);
}
END_TEST

/* a tuned LeNet's fc1 moves alone (the round held its convolutions); a
 * bigger model moves both, and says so */
START_TEST(test_lenet_convolutions_follow_the_model_not_the_tuning)
{
    hp_report_t r = rep(0.0, 0.10, 0.105, 0.11);
    hp_ap_config_t c = tuned(HP_MODEL_LENET, 1);
    c.width = 225;       /* the chosen trial's fc1 */
    c.lenet_scale = 319; /* what its round scaled the convolutions from */
    int k1, k2, f2;
    hp_ap_lenet_sizes(&c, &k1, &k2, &f2);
    ck_assert_int_eq(k1, 16);
    ck_assert_int_eq(k2, 43);
    ck_assert_int_eq(f2, 223);
    hp_ap_decision_t d = decide(&r, &c, 0, 0.105, 0.02);
    ck_assert_int_eq(d.action, HP_AP_BIGGER);
    ck_assert_int_eq(d.next.width, 450);
    ck_assert_int_eq(hp_ap_lenet_scale(&d.next), 638);
    ck_assert_msg(strstr(d.reason, "bigger model: fc1 225 → 450, convolutions 16, 43 → 32, 85"),
                  "%s", d.reason);
    /* the next round trains those convolutions, fc1 tuned around 225 */
    hp_ap_round_t rd = {.search = HP_AP_SEARCH_C2F, .parallelism = 2, .name = "u-r7", .cfg = c};
    hp_ap_round_size(&rd, 600, 50, 10, 2);
    hp_buf_t ov = {0};
    hp_spec_t u;
    user_spec(&u);
    hp_ap_round_overlay(&rd, &u, &ov);
    ck_assert_msg(strstr(ov.data, "conv1: 16, conv2: 43, fc2: 223, fc1: ~"), "%s", ov.data);
    ck_assert_msg(strstr(ov.data, "fc1: {type: int, low: 112, high: 450"), "%s", ov.data);
    hp_buf_fini(&ov);
    hp_spec_fini(&u);
    /* an untuned LeNet scales from its fc1 */
    c = tuned(HP_MODEL_LENET, 1);
    hp_ap_lenet_sizes(&c, &k1, &k2, &f2);
    ck_assert(k1 == 6 && k2 == 16 && f2 == 84);
}
END_TEST

START_TEST(test_sequence_architecture_ladder)
{
    /* under-fitting sequences (an image's rows): LSTM → TCN → attention */
    hp_report_t r = rep(0.0, 0.10, 0.105, 0.11);
    hp_ap_config_t c = tuned(HP_MODEL_LSTM, 1);
    ck_assert_str_eq(hp_ap_size_param(&c), "hidden");
    hp_ap_decision_t d = decide(&r, &c, HP_AP_BIT(HP_AP_BIGGER), 0.105, 0.02);
    ck_assert_int_eq(d.action, HP_AP_ARCH);
    ck_assert_int_eq(d.next.model, HP_MODEL_TCN);
    ck_assert_int_eq(d.next.width, 64);
    ck_assert_ptr_nonnull(strstr(d.reason, "LSTM → temporal convolutions"));
    c = tuned(HP_MODEL_TCN, 1);
    d = decide(&r, &c, HP_AP_BIT(HP_AP_BIGGER), 0.105, 0.02);
    ck_assert_int_eq(d.action, HP_AP_ARCH);
    ck_assert_int_eq(d.next.model, HP_MODEL_ATTENTION);
    ck_assert_ptr_nonnull(strstr(d.reason, "→ a self-attention encoder"));
    /* attention keeps its channels (a multiple of its heads): lr only */
    ck_assert_ptr_null(hp_ap_size_param(&d.next));
    c = tuned(HP_MODEL_ATTENTION, 1);
    d = decide(&r, &c, HP_AP_BIT(HP_AP_BIGGER), 0.105, 0.02);
    ck_assert_int_eq(d.action, HP_AP_BAYES);
    /* a bigger model first: tcn channels double, up to the cap */
    c = tuned(HP_MODEL_TCN, 1);
    d = decide(&r, &c, 0, 0.105, 0.02);
    ck_assert_int_eq(d.action, HP_AP_BIGGER);
    ck_assert_int_eq(d.next.width, 128);
    ck_assert_ptr_nonnull(strstr(d.reason, "channels 64 → 128"));
}
END_TEST

/* start simple by the data: LeNet for images, the one-layer LSTM for a
 * sequence CSV, one hidden layer otherwise, each saying why; a sequence
 * CSV's ladder is the sequence one, and it carries its shape along */
START_TEST(test_start_simple_by_the_data)
{
    ck_assert_int_eq(hp_ap_start_model(1, 0), HP_MODEL_LENET);
    ck_assert_int_eq(hp_ap_start_model(0, 24), HP_MODEL_LSTM);
    ck_assert_int_eq(hp_ap_start_model(0, 0), HP_MODEL_MLP);
    char why[480];
    hp_ap_config_t c;
    hp_ap_config_default(&c, HP_MODEL_LSTM, 0);
    c.seq_t = 24;
    c.seq_f = 2;
    ck_assert_int_eq(c.width, 128);
    ck_assert_int_eq(c.depth, 1);
    hp_ap_start_reason(&c, 0, "seq.csv", why, sizeof why);
    ck_assert_msg(strncmp(why, "sequence data (24 steps x 2 features) → one-layer LSTM, hidden "
                               "128; the guide's start simple: Adam lr 0.0003",
                          strlen("sequence data (24 steps x 2 features) → one-layer LSTM, "
                                 "hidden 128; the guide's start simple: Adam lr 0.0003")) == 0,
                  "%s", why);
    c.seq_f = 1;
    hp_ap_start_reason(&c, 1, "seq.csv", why, sizeof why);
    ck_assert_msg(strstr(why, "sequence data (24 steps x 1 feature), trial.model as the spec "
                              "gives it → one-layer LSTM"),
                  "%s", why);
    hp_ap_config_default(&c, HP_MODEL_LENET, 1);
    hp_ap_start_reason(&c, 0, "fashion-mnist", why, sizeof why);
    ck_assert_msg(strstr(why, "images (fashion-mnist) → LeNet-like CNN (conv 6, conv 16, fc 120, "
                              "fc 84)"),
                  "%s", why);
    hp_ap_config_default(&c, HP_MODEL_MLP, 0);
    hp_ap_start_reason(&c, 0, "d.csv", why, sizeof why);
    ck_assert_msg(strstr(why, "tabular data (d.csv) → MLP with one hidden layer of 256"), "%s",
                  why);
    /* a tuned LSTM on a sequence CSV that under-fits moves to the TCN,
     * keeping the data's shape */
    hp_report_t r = rep(0.0, 0.10, 0.105, 0.11);
    c = tuned(HP_MODEL_LSTM, 0);
    c.seq_t = 24;
    c.seq_f = 2;
    hp_ap_decision_t d = decide(&r, &c, HP_AP_BIT(HP_AP_BIGGER), 0.105, 0.02);
    ck_assert_int_eq(d.action, HP_AP_ARCH);
    ck_assert_int_eq(d.next.model, HP_MODEL_TCN);
    ck_assert_int_eq(d.next.seq_t * 10 + d.next.seq_f, 242);
    /* an MLP the spec gave on a sequence CSV: its stronger architecture is
     * the LSTM (on a tabular CSV there is none) */
    c = tuned(HP_MODEL_MLP, 0);
    c.seq_t = 24;
    c.seq_f = 2;
    c.width = HP_AP_MAX_WIDTH_MLP;
    c.depth = HP_AP_MAX_DEPTH;
    d = decide(&r, &c, HP_AP_BIT(HP_AP_BIGGER), 0.105, 0.02);
    ck_assert_int_eq(d.action, HP_AP_ARCH);
    ck_assert_int_eq(d.next.model, HP_MODEL_LSTM);
    ck_assert_int_eq(d.next.width, 128);
    ck_assert_ptr_nonnull(strstr(d.reason, "MLP → one-layer LSTM"));
    c.seq_t = c.seq_f = 0;
    d = decide(&r, &c, HP_AP_BIT(HP_AP_BIGGER), 0.105, 0.02);
    ck_assert_int_ne(d.action, HP_AP_ARCH);
}
END_TEST

START_TEST(test_overfit_ladder)
{
    /* variance first: train 0.01 (bias 0.01 - 0.01 human = 0), val 0.08 */
    hp_report_t r = rep(0.01, 0.01, 0.08, 0.085);
    ck_assert_int_eq(r.advice[0], HP_RT_VARIANCE);
    hp_ap_config_t c = tuned(HP_MODEL_LENET, 1);
    c.train_subset = 5000;
    hp_ap_decision_t d = decide(&r, &c, 0, 0.08, 0.02);
    ck_assert_int_eq(d.action, HP_AP_MORE_DATA);
    ck_assert_uint_eq(d.next.train_subset, 10000);
    c.train_subset = 0;
    d = decide(&r, &c, 0, 0.08, 0.02);
    ck_assert_int_eq(d.action, HP_AP_BATCHNORM);
    c.batchnorm = 1;
    d = decide(&r, &c, 0, 0.08, 0.02);
    ck_assert_int_eq(d.action, HP_AP_AUGMENT);
    c.augment = 1;
    d = decide(&r, &c, 0, 0.08, 0.02);
    ck_assert_int_eq(d.action, HP_AP_REGULARIZE);
    ck_assert(d.next.dropout > 0 && d.next.weight_decay > 0);
    d = decide(&r, &c, HP_AP_BIT(HP_AP_REGULARIZE), 0.08, 0.02);
    ck_assert_int_eq(d.action, HP_AP_EARLY_STOP);
    ck_assert_int_eq(d.next.epochs, 3);
    /* tabular data are not augmented */
    hp_ap_config_t t = tuned(HP_MODEL_MLP, 0);
    t.batchnorm = 1;
    d = decide(&r, &t, 0, 0.08, 0.02);
    ck_assert_int_eq(d.action, HP_AP_REGULARIZE);
}
END_TEST

START_TEST(test_shift_and_val_overfit)
{
    hp_report_errors_t e;
    hp_report_errors_init(&e);
    e.human = 0.01;
    e.err[HP_RE_TRAIN] = 0.011;
    e.err[HP_RE_VAL] = 0.012;
    e.err[HP_RE_SHIFT_VAL] = 0.2;
    e.err[HP_RE_TEST] = 0.2;
    hp_report_t r;
    hp_report_compute(&e, &r);
    hp_ap_config_t c = tuned(HP_MODEL_LENET, 1);
    hp_ap_decision_t d = decide(&r, &c, 0, 0.012, 0.005);
    ck_assert_int_eq(d.term, HP_RT_SHIFT);
    ck_assert_int_eq(d.action, HP_AP_ADAPT);
    ck_assert_int_eq(d.next.adapt, 1);
    ck_assert_ptr_nonnull(strstr(d.reason, "domain adaptation: CORAL (dataset.adapt: coral)"));
    ck_assert_str_eq(hp_ap_action_name(d.action), "domain_adaptation");
    /* adapted already (or tried without a gain): tune */
    c.adapt = 1;
    d = decide(&r, &c, 0, 0.012, 0.005);
    ck_assert_int_eq(d.action, HP_AP_BAYES);
    c.adapt = 0;
    /* test well above val: a larger validation set */
    r = rep(0.01, 0.011, 0.012, 0.05);
    d = decide(&r, &c, 0, 0.012, 0.005);
    ck_assert_int_eq(d.action, HP_AP_REBALANCE);
    ck_assert_double_eq_tol(d.next.validation_fraction, 0.2, 1e-12);
}
END_TEST

START_TEST(test_nothing_material_tunes)
{
    hp_report_t r = rep(0.05, 0.052, 0.053, 0.054);
    hp_ap_config_t c = tuned(HP_MODEL_MLP, 0);
    hp_ap_decision_t d = decide(&r, &c, 0, 0.053, 0.04);
    ck_assert_int_eq(d.action, HP_AP_BAYES);
    ck_assert_int_eq(d.term, -1);
    ck_assert_ptr_nonnull(strstr(d.reason, "no term"));
    /* a bayes round that did not improve ends the loop */
    d = decide(&r, &c, HP_AP_BIT(HP_AP_BAYES), 0.053, 0.04);
    ck_assert_int_eq(d.action, HP_AP_STOP);
    ck_assert_ptr_nonnull(strstr(d.reason, "stop"));
}
END_TEST

START_TEST(test_unknown_human_error_is_an_upper_bound)
{
    hp_report_t r = rep(NAN, 0.071, 0.075, 0.08);
    hp_ap_config_t c = tuned(HP_MODEL_MLP, 0);
    hp_ap_input_t in = {.report = &r, .human_known = 0, .cur = &c, .metric = "val_error",
                        .objective = 0.075, .has_target = 1, .target = 0.01};
    hp_ap_decision_t d;
    hp_ap_decide(&in, &d);
    ck_assert_int_eq(d.action, HP_AP_BIGGER);
    ck_assert_msg(strstr(d.reason, "≤ 0.0710") && strstr(d.reason, "human_error"), "%s",
                  d.reason);
}
END_TEST

START_TEST(test_still_improving_trains_longer)
{
    hp_report_t r = rep(0, 0.08, 0.1, 0.105);
    hp_ap_config_t c = tuned(HP_MODEL_LENET, 1);
    hp_ap_input_t in = {.report = &r, .human_known = 1, .cur = &c, .metric = "val_error",
                        .objective = 0.1, .has_target = 1, .target = 0.05, .best_epoch = 5,
                        .epochs = 5, .late_gain = 0.02, .max_epochs = 40};
    hp_ap_decision_t d;
    hp_ap_decide(&in, &d);
    ck_assert_int_eq(d.action, HP_AP_LONGER);
    ck_assert_int_eq(d.term, HP_RT_BIAS);
    ck_assert_int_eq(d.next.epochs, 10);
    ck_assert_str_eq(hp_ap_action_name(d.action), "longer_training");
    ck_assert_msg(strstr(d.reason, "still at its best on the last epoch (5 of 5) and fell 0.0200 "
                                   "over the second half, epochs 5 → 10"),
                  "%s", d.reason);
    /* at its best on the last epoch but flat (under the report's
     * threshold), or not known: converged enough, a bigger model */
    in.late_gain = r.threshold / 2;
    hp_ap_decide(&in, &d);
    ck_assert_int_eq(d.action, HP_AP_BIGGER);
    in.late_gain = NAN;
    hp_ap_decide(&in, &d);
    ck_assert_int_eq(d.action, HP_AP_BIGGER);
    in.late_gain = 0.02;
    /* never past the most a trial may train */
    in.max_epochs = 8;
    hp_ap_decide(&in, &d);
    ck_assert_int_eq(d.next.epochs, 8);
    /* at it (trial.epochs set by the user), or tried and it did not help:
     * the ladder goes on */
    in.max_epochs = 5;
    hp_ap_decide(&in, &d);
    ck_assert_int_eq(d.action, HP_AP_BIGGER);
    in.max_epochs = 40;
    in.failed = HP_AP_BIT(HP_AP_LONGER);
    hp_ap_decide(&in, &d);
    ck_assert_int_eq(d.action, HP_AP_BIGGER);
    /* best before the last epoch: it had converged */
    in.failed = 0;
    in.best_epoch = 4;
    hp_ap_decide(&in, &d);
    ck_assert_int_eq(d.action, HP_AP_BIGGER);
}
END_TEST

START_TEST(test_used_up_term_hands_on_to_the_next)
{
    /* bias 0.05 and variance 0.04 both material, LeNet at its cap, the
     * ResNet tried: the under-fitting ladder is used up, so the
     * over-fitting one decides rather than a last bayes and a stop */
    hp_report_t r = rep(0, 0.05, 0.09, 0.095);
    ck_assert_int_eq(r.advice[0], HP_RT_BIAS);
    ck_assert_int_eq(r.advice[1], HP_RT_VARIANCE);
    hp_ap_config_t c = tuned(HP_MODEL_LENET, 1);
    c.width = HP_AP_MAX_WIDTH_LENET;
    hp_ap_decision_t d = decide(&r, &c, HP_AP_BIT(HP_AP_ARCH), 0.09, 0.02);
    ck_assert_int_eq(d.action, HP_AP_BATCHNORM);
    ck_assert_int_eq(d.term, HP_RT_VARIANCE);
    ck_assert_msg(strstr(d.reason, "avoidable bias 0.0500 is the first material term") &&
                      strstr(d.reason, "used up, and variance 0.0400 is the next → "
                                       "normalization layers"),
                  "%s", d.reason);
    /* both used up: bayes, saying so */
    c.batchnorm = c.augment = 1;
    d = decide(&r, &c,
               HP_AP_BIT(HP_AP_ARCH) | HP_AP_BIT(HP_AP_REGULARIZE) | HP_AP_BIT(HP_AP_EARLY_STOP),
               0.09, 0.02);
    ck_assert_int_eq(d.action, HP_AP_BAYES);
    ck_assert_msg(strstr(d.reason, "for each are used up → tune"), "%s", d.reason);
}
END_TEST

START_TEST(test_unknown_bias_yields_to_a_larger_variance)
{
    /* human error unknown: bias 0.04 is an upper bound, variance 0.057 is
     * larger and goes first; with the human error known, the guide's order */
    hp_report_t r = rep(NAN, 0.04, 0.097, 0.1);
    hp_ap_config_t c = tuned(HP_MODEL_LENET, 1);
    hp_ap_input_t in = {.report = &r, .human_known = 0, .cur = &c, .metric = "val_error",
                        .objective = 0.097, .has_target = 1, .target = 0.08};
    hp_ap_decision_t d;
    hp_ap_decide(&in, &d);
    ck_assert_int_eq(d.action, HP_AP_BATCHNORM);
    ck_assert_int_eq(d.term, HP_RT_VARIANCE);
    ck_assert_msg(strstr(d.reason, "variance 0.0570 is larger than avoidable bias ≤ 0.0400"),
                  "%s", d.reason);
    /* its ladder used up: back to the bias */
    c.batchnorm = c.augment = 1;
    in.failed = HP_AP_BIT(HP_AP_REGULARIZE) | HP_AP_BIT(HP_AP_EARLY_STOP);
    hp_ap_decide(&in, &d);
    ck_assert_int_eq(d.action, HP_AP_BIGGER);
    ck_assert_int_eq(d.term, HP_RT_BIAS);
    /* a smaller variance does not jump the queue */
    r = rep(NAN, 0.06, 0.09, 0.1);
    c.batchnorm = c.augment = 0;
    in.failed = 0;
    hp_ap_decide(&in, &d);
    ck_assert_int_eq(d.action, HP_AP_BIGGER);
    /* nor does a larger one when the bias is known */
    r = rep(0.0, 0.04, 0.097, 0.1);
    in.human_known = 1;
    hp_ap_decide(&in, &d);
    ck_assert_int_eq(d.action, HP_AP_BIGGER);
}
END_TEST

START_TEST(test_cost_scales_with_the_model)
{
    hp_ap_config_t a = tuned(HP_MODEL_LENET, 1), b = a;
    b.width = 240; /* fc1 and both convolutions doubled: conv2's work x4, the rest not;
                      a step measured 3.2x the time (fc1 243, autopilot_round.c) */
    double k = hp_ap_cost_scale(&a, &b, 10) / 10;
    ck_assert_msg(k > 2.6 && k < 3.6, "lenet x2: %g", k);
    hp_ap_config_t m = tuned(HP_MODEL_MLP, 1), m2 = m;
    m2.width = 512;
    k = hp_ap_cost_scale(&m, &m2, 10) / 10;
    ck_assert_msg(k > 1.2 && k < 2, "mlp x2: %g", k);
    m2 = m;
    m2.depth = 2;
    ck_assert(hp_ap_cost_scale(&m, &m2, 10) > 10);
    /* twice the data: twice the cost; from a subset to all of the images */
    hp_ap_config_t s = m, s2 = m;
    s.train_subset = 10000;
    s2.train_subset = 20000;
    ck_assert_double_eq_tol(hp_ap_cost_scale(&s, &s2, 10), 20, 1e-9);
    s2.train_subset = 0;
    ck_assert_double_eq_tol(hp_ap_cost_scale(&s, &s2, 10), 54, 1e-9);
    /* the same config: the same cost */
    ck_assert_double_eq_tol(hp_ap_cost_scale(&a, &a, 10), 10, 1e-9);
    /* a CSV from a subset to all: unknown */
    s.images = s2.images = 0;
    ck_assert(hp_ap_cost_scale(&s, &s2, 10) == 0);
    /* across models, as the engine bench measured them (samples/s: LeNet
     * 13833, ResNet 276, LSTM 3105, MLP 87599): within 2x */
    hp_ap_config_t res = tuned(HP_MODEL_RESNET, 1), ls = tuned(HP_MODEL_LSTM, 1);
    double kr = hp_ap_cost_scale(&a, &res, 1), kl = hp_ap_cost_scale(&a, &ls, 1),
           km = hp_ap_cost_scale(&a, &m, 1);
    ck_assert_msg(kr > 13833.0 / 276 / 2 && kr < 13833.0 / 276 * 2, "resnet: %g", kr);
    ck_assert_msg(kl > 13833.0 / 3105 / 2 && kl < 13833.0 / 3105 * 2, "lstm: %g", kl);
    ck_assert_msg(km > 13833.0 / 87599 / 2 && km < 13833.0 / 87599 * 2, "mlp: %g", km);
    ck_assert(hp_ap_cost_scale(&a, &b, 0) == 0);
}
END_TEST

/* the round plan: the share, the rest of the budget when the share would
 * cut the step's epochs, and when a round is not started at all */
START_TEST(test_round_plan_and_the_budget)
{
    hp_ap_round_t r = {.search = HP_AP_SEARCH_C2F};
    /* 500 s left, 40% share, 20 s a 10-epoch trial, 2 workers: 200 s fit
     * 20 trials, capped at 8, epochs kept */
    ck_assert_int_eq(hp_ap_round_plan(&r, 500, 0.4, 20, 10, 2, 0, 1), 1);
    ck_assert_int_eq(r.epochs, 10);
    ck_assert_uint_eq(r.max_trials, 8);
    /* 40 s left: the 16 s share would cut the epochs to 8; the round takes
     * all 40 s instead, at the step's 10 epochs: two waves of 2 */
    ck_assert_int_eq(hp_ap_round_plan(&r, 40, 0.4, 20, 10, 2, 0, 1), 1);
    ck_assert_int_eq(r.epochs, 10);
    ck_assert_uint_eq(r.max_trials, 4);
    /* 15 s left: even all of it cuts the epochs (7): with a best trial to
     * lose to, not started; with none yet, started at 7 */
    ck_assert_int_eq(hp_ap_round_plan(&r, 15, 0.4, 20, 10, 2, 0, 1), 0);
    ck_assert_int_eq(hp_ap_round_plan(&r, 15, 0.4, 20, 10, 2, 0, 0), 1);
    ck_assert_int_eq(r.epochs, 7);
    /* under one epoch's worth (1 s) left: not started even without a best */
    ck_assert_int_eq(hp_ap_round_plan(&r, 1, 0.4, 20, 10, 2, 0, 0), 0);
    /* nothing left: stop; but the first round always runs (it measures) */
    ck_assert_int_eq(hp_ap_round_plan(&r, 0, 0.4, 20, 10, 2, 0, 0), 0);
    ck_assert_int_eq(hp_ap_round_plan(&r, -5, 0.4, 20, 10, 2, 0, 1), 0);
    ck_assert_int_eq(hp_ap_round_plan(&r, 0, 0.4, 20, 10, 2, 1, 0), 1);
    /* an unknown cost never stops a round that has time */
    ck_assert_int_eq(hp_ap_round_plan(&r, 10, 0.4, 0, 10, 2, 0, 1), 1);
    ck_assert_int_eq(r.epochs, 10);
    /* affordable: a step whose one trial outlasts the time left is skipped,
     * except bayes; unknown costs and a spent budget skip nothing */
    ck_assert_int_eq(hp_ap_affordable(HP_AP_ARCH, 2400, 700), 0);
    ck_assert_int_eq(hp_ap_affordable(HP_AP_ARCH, 700, 700), 1);
    ck_assert_int_eq(hp_ap_affordable(HP_AP_BAYES, 2400, 700), 1);
    ck_assert_int_eq(hp_ap_affordable(HP_AP_BIGGER, 0, 700), 1);
    ck_assert_int_eq(hp_ap_affordable(HP_AP_BIGGER, 2400, 0), 1);
}
END_TEST

START_TEST(test_round_size)
{
    hp_ap_round_t r = {.search = HP_AP_SEARCH_C2F};
    /* 60 s, 2 workers, 5 s a trial: 24 fit, the cap is 4 a worker */
    hp_ap_round_size(&r, 60, 5, 5, 2);
    ck_assert_uint_eq(r.max_trials, 8);
    ck_assert_int_eq(r.epochs, 5);
    /* 10 s for 2 workers, 20 s a trial of 10 epochs: epochs shrink */
    hp_ap_round_size(&r, 10, 20, 10, 2);
    ck_assert_int_eq(r.epochs, 5);
    ck_assert_uint_eq(r.max_trials, 2); /* a wave: one per worker */
    /* whole waves: 5 trials' worth on 2 workers is 3 waves (6), 4.8 is 2
     * waves (4); the other worker never idles for a part wave */
    hp_ap_round_size(&r, 50, 20, 5, 2);
    ck_assert_uint_eq(r.max_trials, 6);
    hp_ap_round_size(&r, 48, 20, 5, 2);
    ck_assert_uint_eq(r.max_trials, 4);
    hp_ap_round_size(&r, 30, 20, 5, 3); /* 4.5 trials on 3 workers: 2 waves */
    ck_assert_uint_eq(r.max_trials, 6);
    /* unknown cost: one trial a worker, at least 2 */
    hp_ap_round_size(&r, 100, 0, 5, 1);
    ck_assert_uint_eq(r.max_trials, 2);
    r.search = HP_AP_SEARCH_SIMPLE;
    hp_ap_round_size(&r, 100, 1, 5, 4);
    ck_assert_uint_eq(r.max_trials, 1);
    /* a confirm round: one trial per worker however many fit, and its
     * epochs are its step's, never cut to fit */
    r.search = HP_AP_SEARCH_CONFIRM;
    hp_ap_round_size(&r, 600, 5, 20, 2);
    ck_assert_uint_eq(r.max_trials, 2);
    ck_assert_int_eq(r.epochs, 20);
    hp_ap_round_size(&r, 600, 5, 20, 1); /* one worker: still two to compare */
    ck_assert_uint_eq(r.max_trials, 2);
    hp_ap_round_size(&r, 10, 20, 20, 2); /* one does not fit its share: still a wave */
    ck_assert_uint_eq(r.max_trials, 2);
    ck_assert_int_eq(r.epochs, 20);
    hp_ap_round_size(&r, 100, 0, 20, 3); /* unknown cost */
    ck_assert_uint_eq(r.max_trials, 3);
}
END_TEST

/* the spec a round writes over the user's, parsed as the daemon would */
static void round_spec(const hp_ap_round_t *r, hp_spec_t *out)
{
    hp_spec_t u;
    hp_diag_t d = {0};
    user_spec(&u);
    hp_buf_t ov = {0}, text = {0};
    hp_ap_round_overlay(r, &u, &ov);
    ck_assert_int_eq(hp_spec_overlay(user_text, strlen(user_text), "u.yaml", ov.data, HP_OVERLAY_REPLACE,
                                     &text, NULL, &d),
                     0);
    int rc = hp_spec_parse(out, text.data, text.len, r->name, &d);
    ck_assert_msg(rc == 0, "%s", text.data);
    hp_diag_fini(&d);
    hp_buf_fini(&ov);
    hp_buf_fini(&text);
    hp_spec_fini(&u);
}

START_TEST(test_confirm_round_keeps_the_best_size)
{
    hp_ap_round_t r = {.search = HP_AP_SEARCH_CONFIRM, .parallelism = 2, .name = "u-r5"};
    hp_ap_config_default(&r.cfg, HP_MODEL_LENET, 1);
    r.cfg.width = 168;
    r.cfg.lr = 2e-3;
    r.cfg.tuned = 1;
    hp_ap_round_size(&r, 600, 50, 20, 2);
    hp_spec_t s;
    round_spec(&r, &s);
    ck_assert_int_eq(s.search.algorithm, HP_ALGO_RANDOM);
    ck_assert_uint_eq(s.search.max_trials, 2);
    ck_assert_uint_eq(s.trial.epochs, 20);
    /* lr only, within x/1.5 of the best; fc1 fixed at the best's */
    ck_assert_uint_eq(s.space.n, 1);
    ck_assert_str_eq(s.space.params[0].name, "lr");
    ck_assert_double_eq_tol(s.space.params[0].low, 2e-3 / 1.5, 1e-8);
    ck_assert_double_eq_tol(s.space.params[0].high, 2e-3 * 1.5, 1e-8);
    const hp_spec_value_t *fc1 = hp_spec_find_fixed(&s, "fc1");
    ck_assert_ptr_nonnull(fc1);
    ck_assert_double_eq(fc1->num, 168);
    hp_spec_fini(&s);
    /* a tuning round of the same config searches the size too */
    r.search = HP_AP_SEARCH_C2F;
    hp_ap_round_size(&r, 600, 50, 20, 2);
    round_spec(&r, &s);
    ck_assert_uint_eq(s.space.n, 2);
    ck_assert_ptr_null(hp_spec_find_fixed(&s, "fc1"));
    hp_spec_fini(&s);
}
END_TEST

static Suite *autopilot_suite(void)
{
    Suite *s = suite_create("autopilot");
    TCase *tc = tcase_create("decide");
    tcase_add_test(tc, test_target_met_is_done);
    tcase_add_test(tc, test_defaults_are_tuned_first);
    tcase_add_test(tc, test_underfit_gets_bigger_model);
    tcase_add_test(tc, test_lenet_convolutions_follow_the_model_not_the_tuning);
    tcase_add_test(tc, test_sequence_architecture_ladder);
    tcase_add_test(tc, test_start_simple_by_the_data);
    tcase_add_test(tc, test_underfit_ladder_moves_on);
    tcase_add_test(tc, test_overfit_ladder);
    tcase_add_test(tc, test_shift_and_val_overfit);
    tcase_add_test(tc, test_nothing_material_tunes);
    tcase_add_test(tc, test_unknown_human_error_is_an_upper_bound);
    tcase_add_test(tc, test_still_improving_trains_longer);
    tcase_add_test(tc, test_used_up_term_hands_on_to_the_next);
    tcase_add_test(tc, test_unknown_bias_yields_to_a_larger_variance);
    tcase_add_test(tc, test_cost_scales_with_the_model);
    tcase_add_test(tc, test_round_size);
    tcase_add_test(tc, test_round_plan_and_the_budget);
    tcase_add_test(tc, test_confirm_round_keeps_the_best_size);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return hp_check_run(autopilot_suite()); }
