/* The sanity check's judgement (common/sanity.h): memorising the batch,
 * then beating chance on held-out data, each with its own explanation. */
#include "hp_check.h"
#include "sanity.h"

#include <check.h>
#include <math.h>
#include <string.h>

static const double memorised[] = {2.3, 1.1, 0.4, 0.05, 0.004};
#define NMEM (sizeof memorised / sizeof memorised[0])

static int judge(const double *loss, size_t n, const hp_sanity_heldout_t *ho, hp_buf_t *why)
{
    memset(why, 0, sizeof *why);
    return hp_sanity_judge(loss, n, HP_SANITY_THRESHOLD, ho, why);
}

START_TEST(test_memorised_and_above_chance_passes)
{
    /* 10 balanced classes: chance 0.1; 0.5 accuracy on 1000 is far above */
    hp_sanity_heldout_t ho = {.val_error = 0.5, .val_chance_error = 0.9, .n = 1000};
    hp_buf_t why;
    ck_assert_int_eq(judge(memorised, NMEM, &ho, &why), 1);
    ck_assert_msg(strncmp(why.data, "PASS: train_loss fell from 2.3 to 0.004 in 4 steps", 50) == 0,
                  "%s", why.data);
    ck_assert_ptr_nonnull(strstr(why.data, "held out: accuracy 0.500 on 1000 validation examples"));
    hp_buf_fini(&why);
}
END_TEST

START_TEST(test_memorised_but_chance_fails_as_corrupted_labels)
{
    /* what a model trained on shuffled labels does: memorises, then
     * scores chance on validation */
    hp_sanity_heldout_t ho = {.val_error = 0.9, .val_chance_error = 0.9, .n = 1000};
    hp_buf_t why;
    ck_assert_int_eq(judge(memorised, NMEM, &ho, &why), 0);
    ck_assert_msg(strncmp(why.data, "FAIL: train_loss fell from 2.3 to 0.004 in 4 steps, but "
                                    "nothing learned from it carries over",
                          90) == 0,
                  "%s", why.data);
    ck_assert_ptr_nonnull(strstr(why.data, "no better than chance (0.100"));
    ck_assert_ptr_nonnull(strstr(why.data, "labels shuffled or misaligned"));
    ck_assert_ptr_null(strstr(why.data, "PASS"));
    hp_buf_fini(&why);
}
END_TEST

START_TEST(test_threshold_is_three_standard_deviations)
{
    /* chance 0.1, n 900: sd = sqrt(0.1 * 0.9 / 900) = 0.01, so the bar is
     * accuracy > 0.13; at most 0.12 (2 sd) fails, in between warns */
    hp_sanity_heldout_t ho = {.val_error = 1 - 0.131, .val_chance_error = 0.9, .n = 900};
    hp_buf_t why;
    ck_assert_int_eq(judge(memorised, NMEM, &ho, &why), 1);
    ck_assert_ptr_null(strstr(why.data, "WARNING"));
    hp_buf_fini(&why);
    ho.val_error = 1 - 0.129;
    ck_assert_int_eq(judge(memorised, NMEM, &ho, &why), 1);
    ck_assert_ptr_nonnull(strstr(why.data, "WARNING, held out: accuracy 0.129 on 900 validation "
                                           "examples, not clearly above chance (0.100"));
    ck_assert_ptr_nonnull(strstr(why.data, "> 0.130 would be"));
    ck_assert_ptr_nonnull(strstr(why.data, "the inputs carry too little signal"));
    hp_buf_fini(&why);
    ho.val_error = 1 - 0.119;
    ck_assert_int_eq(judge(memorised, NMEM, &ho, &why), 0);
    ck_assert_ptr_nonnull(strstr(why.data, "it needs > 0.130"));
    hp_buf_fini(&why);
    /* an imbalanced task: chance from the predicted and true class
     * frequencies (0.82), not from the number of classes */
    ho = (hp_sanity_heldout_t){.val_error = 1 - 0.83, .val_chance_error = 0.18, .n = 400};
    ck_assert_int_eq(judge(memorised, NMEM, &ho, &why), 0); /* bar 0.82 + 3 * 0.0192 */
    hp_buf_fini(&why);
    ho.val_error = 1 - 0.90;
    ck_assert_int_eq(judge(memorised, NMEM, &ho, &why), 1);
    hp_buf_fini(&why);
}
END_TEST

START_TEST(test_few_examples_per_class_only_warn)
{
    /* 20 classes, one batch of 32: fewer than 3 examples per class, so
     * chance-level held-out accuracy cannot tell shuffled labels from a
     * batch too small to generalise from; with 10 classes it can */
    hp_sanity_heldout_t ho = {.val_error = 0.95, .val_chance_error = 0.95, .n = 1000,
                              .classes = 20, .batch = 32};
    hp_buf_t why;
    ck_assert_int_eq(judge(memorised, NMEM, &ho, &why), 1);
    ck_assert_ptr_nonnull(strstr(why.data, "WARNING, held out: accuracy 0.050"));
    ck_assert_ptr_nonnull(
        strstr(why.data, "one batch of 32 examples is too few to learn anything general about "
                         "20 classes"));
    ck_assert_ptr_nonnull(strstr(why.data, "labels shuffled or misaligned"));
    hp_buf_fini(&why);
    ho = (hp_sanity_heldout_t){.val_error = 0.9, .val_chance_error = 0.9, .n = 1000,
                               .classes = 10, .batch = 32};
    ck_assert_int_eq(judge(memorised, NMEM, &ho, &why), 0);
    ck_assert_ptr_nonnull(strstr(why.data, "the labels do not go with the inputs"));
    hp_buf_fini(&why);
}
END_TEST

START_TEST(test_slow_but_steady_memorising_passes)
{
    /* a loss still falling steadily, 43x lower after 300 steps but not yet
     * below 0.05: the guide's failures are a loss that goes up, explodes,
     * oscillates or plateaus, not one that needs more steps */
    double loss[301], little[301];
    for (int i = 0; i <= 300; i++) {
        loss[i] = 2.9 * exp(-log(43.5) * i / 300.0);
        little[i] = 2.9 * exp(-log(5.0) * i / 300.0);
    }
    hp_sanity_heldout_t ho = {.val_error = 0.5, .val_chance_error = 0.9, .n = 1000};
    hp_buf_t why;
    ck_assert_int_eq(judge(loss, 301, &ho, &why), 1);
    ck_assert_msg(strstr(why.data, "PASS: train_loss fell from 2.9 to 0.06667 in 300 steps, not "
                                   "yet below the threshold 0.05 but still falling steadily "
                                   "(43x lower): memorising, slowly") != NULL,
                  "%s", why.data);
    ck_assert_ptr_nonnull(strstr(why.data, "held out: accuracy 0.500"));
    hp_buf_fini(&why);
    /* the held-out test still applies */
    ho.val_error = 0.9;
    ck_assert_int_eq(judge(loss, 301, &ho, &why), 0);
    ck_assert_ptr_nonnull(strstr(why.data, "the labels do not go with the inputs"));
    hp_buf_fini(&why);
    /* only 5x lower: too slow */
    ho.val_error = 0.5;
    ck_assert_int_eq(judge(little, 301, &ho, &why), 0);
    ck_assert_ptr_nonnull(strstr(why.data, "FAIL: train_loss did not fall below the threshold"));
    ck_assert_ptr_nonnull(strstr(why.data, "diagnosis: too slow"));
    hp_buf_fini(&why);
}
END_TEST

START_TEST(test_heldout_not_applicable_is_said)
{
    hp_buf_t why;
    /* neither a chance level nor a correlation reported */
    hp_sanity_heldout_t ho = {.val_error = 0.3, .val_chance_error = NAN, .n = 1000,
                              .val_pred_corr = NAN};
    ck_assert_int_eq(judge(memorised, NMEM, &ho, &why), 1);
    ck_assert_ptr_nonnull(strstr(why.data, "held-out check skipped: neither a chance level"));
    hp_buf_fini(&why);
    /* too few validation examples to tell */
    ho = (hp_sanity_heldout_t){.val_error = 0.9, .val_chance_error = 0.9, .n = 40};
    ck_assert_int_eq(judge(memorised, NMEM, &ho, &why), 1);
    ck_assert_ptr_nonnull(strstr(why.data, "only 40 validation examples (it needs 100)"));
    hp_buf_fini(&why);
    /* no validation split, or no held-out data given at all */
    ho = (hp_sanity_heldout_t){.val_error = NAN, .val_chance_error = NAN, .n = 0};
    ck_assert_int_eq(judge(memorised, NMEM, &ho, &why), 1);
    ck_assert_ptr_nonnull(strstr(why.data, "no validation split was scored"));
    hp_buf_fini(&why);
    ck_assert_int_eq(judge(memorised, NMEM, NULL, &why), 1);
    hp_buf_fini(&why);
}
END_TEST

START_TEST(test_regression_warns_when_predictions_do_not_go_with_the_targets)
{
    /* regression: the held-out predictions should correlate with the
     * targets; with n = 1000 the bar is tanh(3 / sqrt(997)) = 0.0947. Below
     * it the check still passes (32 examples may be too few for sound
     * data) but says what it may mean. */
    hp_sanity_heldout_t ho = {.val_error = 0.8, .val_chance_error = NAN, .n = 1000,
                              .val_pred_corr = 0.62};
    hp_buf_t why;
    ck_assert_int_eq(judge(memorised, NMEM, &ho, &why), 1);
    ck_assert_ptr_nonnull(
        strstr(why.data, "held out: predictions correlate with the targets (r = 0.620 on 1000"));
    ck_assert_ptr_null(strstr(why.data, "WARNING"));
    hp_buf_fini(&why);
    ho.val_pred_corr = 0.096;
    ck_assert_int_eq(judge(memorised, NMEM, &ho, &why), 1);
    ck_assert_ptr_null(strstr(why.data, "WARNING"));
    hp_buf_fini(&why);
    /* what shuffled targets give: about 0, either sign */
    for (int k = 0; k < 2; k++) {
        ho.val_pred_corr = k ? -0.4 : 0.093;
        ck_assert_int_eq(judge(memorised, NMEM, &ho, &why), 1);
        ck_assert_msg(strncmp(why.data, "PASS: train_loss fell from 2.3 to 0.004 in 4 steps", 50) ==
                          0,
                      "%s", why.data);
        ck_assert_ptr_nonnull(strstr(why.data, "WARNING, held out: on 1000 validation examples"));
        ck_assert_ptr_nonnull(strstr(why.data, k ? "correlate r = -0.400" : "correlate r = 0.093"));
        ck_assert_ptr_nonnull(strstr(why.data, "(r > 0.095 would be)"));
        ck_assert_ptr_nonnull(strstr(why.data, "the targets do not go with the inputs"));
        ck_assert_ptr_nonnull(strstr(why.data, "labels shuffled or misaligned"));
        ck_assert_ptr_nonnull(strstr(why.data, "32 examples are too few"));
        hp_buf_fini(&why);
    }
    /* the warning names the batch the run memorised (hpsearch check --batch) */
    ho.val_pred_corr = 0.0;
    ho.batch = 64;
    ck_assert_int_eq(judge(memorised, NMEM, &ho, &why), 1);
    ck_assert_ptr_nonnull(strstr(why.data, "or 64 examples are too few"));
    hp_buf_fini(&why);
    /* too few examples: skipped, as for classification */
    ho = (hp_sanity_heldout_t){.val_error = 0.8, .val_chance_error = NAN, .n = 50,
                               .val_pred_corr = 0.0};
    ck_assert_int_eq(judge(memorised, NMEM, &ho, &why), 1);
    ck_assert_ptr_nonnull(strstr(why.data, "only 50 validation examples (it needs 100)"));
    hp_buf_fini(&why);
}
END_TEST

START_TEST(test_not_memorised_fails_with_curve_diagnosis)
{
    /* the held-out score does not rescue a batch that was not memorised */
    static const double flat[] = {2.302, 2.301, 2.302, 2.301, 2.302, 2.301, 2.302};
    hp_sanity_heldout_t ho = {.val_error = 0.2, .val_chance_error = 0.9, .n = 1000};
    hp_buf_t why;
    ck_assert_int_eq(judge(flat, 7, &ho, &why), 0);
    ck_assert_ptr_nonnull(strstr(why.data, "FAIL: train_loss did not fall below the threshold"));
    ck_assert_ptr_nonnull(strstr(why.data, "diagnosis: plateaus"));
    hp_buf_fini(&why);
    static const double boom[] = {2.3, 1.5, INFINITY};
    ck_assert_int_eq(judge(boom, 3, &ho, &why), 0);
    ck_assert_ptr_nonnull(strstr(why.data, "became non-finite"));
    hp_buf_fini(&why);
    ck_assert_int_eq(judge(NULL, 0, &ho, &why), 0);
    ck_assert_str_eq(why.data, "FAIL: the run reported no train_loss");
    hp_buf_fini(&why);
}
END_TEST

START_TEST(test_too_short_runs_again_longer)
{
    /* only 5x lower and still falling steadily: the check runs again,
     * HP_SANITY_LONGER times as long, rather than fail */
    double little[301], settled[301], wiggle[301];
    for (int i = 0; i <= 300; i++) {
        little[i] = 2.9 * exp(-log(5.0) * i / 300.0);
        settled[i] = 0.3 + 2.6 * exp(-i / 10.0);
        wiggle[i] = 1.0 + 0.8 * (i % 2) - 0.001 * i;
    }
    ck_assert_int_eq(hp_sanity_wants_longer(little, NULL, 301, HP_SANITY_THRESHOLD), 1);
    /* not for a run that passes (below the threshold, or 10x lower) */
    static const double low[] = {2.3, 1.0, 0.5, 0.2, 0.04};
    ck_assert_int_eq(hp_sanity_wants_longer(low, NULL, 5, HP_SANITY_THRESHOLD), 0);
    double fast[301];
    for (int i = 0; i <= 300; i++)
        fast[i] = 2.9 * exp(-log(43.5) * i / 300.0);
    ck_assert_int_eq(hp_sanity_wants_longer(fast, NULL, 301, HP_SANITY_THRESHOLD), 0);
    /* nor for the guide's failures: a plateau, an oscillation, a
     * divergence, a loss that never fell, a run too short to tell */
    static const double flat[] = {2.302, 2.301, 2.302, 2.301, 2.302, 2.301, 2.302};
    ck_assert_int_eq(hp_sanity_wants_longer(flat, NULL, 7, HP_SANITY_THRESHOLD), 0);
    ck_assert_int_eq(hp_sanity_wants_longer(settled, NULL, 301, HP_SANITY_THRESHOLD), 0);
    ck_assert_int_eq(hp_sanity_wants_longer(wiggle, NULL, 301, HP_SANITY_THRESHOLD), 0);
    static const double boom[] = {2.3, 1.5, INFINITY};
    ck_assert_int_eq(hp_sanity_wants_longer(boom, NULL, 3, HP_SANITY_THRESHOLD), 0);
    static const double up[] = {1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6};
    ck_assert_int_eq(hp_sanity_wants_longer(up, NULL, 7, HP_SANITY_THRESHOLD), 0);
    ck_assert_int_eq(hp_sanity_wants_longer(little, NULL, 1, HP_SANITY_THRESHOLD), 0);
    ck_assert_int_eq(hp_sanity_wants_longer(NULL, NULL, 0, HP_SANITY_THRESHOLD), 0);
}
END_TEST

START_TEST(test_overrides)
{
    hp_sanity_overrides_t o;
    hp_sanity_overrides(&o, 300, 32);
    const char *want[][2] = {{"train_size", "32"}, {"batch_size", "32"}, {"epochs", "300"},
                             {"eval_every", "300"}, {"dropout", "0"},    {"baselines", "0"}};
    ck_assert_uint_eq(o.n, 6);
    for (size_t i = 0; i < 6; i++) {
        ck_assert_str_eq(o.name[i], want[i][0]);
        ck_assert_str_eq(o.value[i], want[i][1]);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("common_sanity");
    TCase *tc = tcase_create("judge");
    tcase_add_test(tc, test_memorised_and_above_chance_passes);
    tcase_add_test(tc, test_memorised_but_chance_fails_as_corrupted_labels);
    tcase_add_test(tc, test_threshold_is_three_standard_deviations);
    tcase_add_test(tc, test_heldout_not_applicable_is_said);
    tcase_add_test(tc, test_few_examples_per_class_only_warn);
    tcase_add_test(tc, test_slow_but_steady_memorising_passes);
    tcase_add_test(tc, test_too_short_runs_again_longer);
    tcase_add_test(tc, test_regression_warns_when_predictions_do_not_go_with_the_targets);
    tcase_add_test(tc, test_not_memorised_fails_with_curve_diagnosis);
    tcase_add_test(tc, test_overrides);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
