/* Early stopping of a BUILT-IN model trial through the real hpsearchd and
 * hpworker: the coordinator's stop reaches the training engine between two
 * epochs, so a pruned MLP trial trains no epoch past the one it was judged
 * at (the engine waits for each epoch's verdict before it starts the next).
 *
 * The decisions are fixed by construction, never by timing: one worker
 * slot runs the grid in order; asha with reduction_factor 3 and rungs at
 * epochs 1 and 3 (max_resource 9):
 *   trial 0 lr 1e-2 (Adam): alone at each rung, completes its 9 epochs
 *   trial 1 lr 2e-2: the 2nd at rung 1 keeps the best 1
 *           of 2: it may go on or stop (not asserted beyond its state)
 *   trial 2 lr 1e-7: after one epoch its val_loss is still the untrained
 *           network's, far above the trained ones: not in the top 1/3 of 3
 *           (keep 1), pruned at epoch 1.
 * Four well separated Gaussian blobs: one epoch at lr 1e-2 takes the loss
 * from about ln 4 = 1.39 to well under 1; at lr 1e-7 it does not move. */
#include "harness.h"

#include "hp_blobs.h"
#include "hp_check.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#define GUARD_S 300

static char spec[4096];

static const char *model_spec(const char *csv)
{
    snprintf(spec, sizeof spec,
             "name: prune-mlp\nobjective: {metric: val_loss}\n"
             "search: {algorithm: grid, parallelism: 1, sanity_check: false}\n"
             "space:\n  lr: {type: categorical, values: [1.0e-2, 2.0e-2, 1.0e-7]}\n"
             "trial:\n  model: mlp\n  dataset: %s\n  epochs: 9\n"
             "  fixed: {hidden: 32, batch_size: 32, baselines: 0}\n"
             "pruning: {rule: asha, metric: val_loss, min_resource: 1, max_resource: 9, "
             "reduction_factor: 3}\n",
             csv);
    return spec;
}

/* the largest epoch trial number reported val_loss at, in its last attempt */
static long last_val_epoch(hp_harness_t *h, int number)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT max(m.step) FROM metrics m JOIN trials t ON t.id = m.trial_id "
             "WHERE t.number = %d AND m.name = 'val_loss' AND m.step >= 0 "
             "AND m.attempt = t.attempts",
             number);
    return hp_harness_db_int(h->db, sql);
}

START_TEST(test_model_trial_pruned_between_epochs)
{
    static hp_harness_t h;
    hp_harness_init(&h, "prune-model");
    char csv[700];
    snprintf(csv, sizeof csv, "%s/blobs.csv", h.dir);
    ck_assert_int_eq(hp_blobs_write(csv, 4000, 16, 4, 0, 7), 0);
    hp_harness_start_daemon(&h, NULL);
    hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "1", NULL);
    hp_harness_submit(&h, model_spec(csv));
    const char *state = hp_harness_wait_study(&h, "prune-mlp", GUARD_S);
    ck_assert_ptr_nonnull(state);
    ck_assert_str_eq(state, "completed");

    char got[512];
    ck_assert_ptr_nonnull(
        hp_harness_db_text(h.db, "SELECT state FROM trials WHERE number = 0", got, sizeof got));
    ck_assert_str_eq(got, "completed");
    ck_assert_int_eq(last_val_epoch(&h, 0), 9);

    ck_assert_ptr_nonnull(
        hp_harness_db_text(h.db, "SELECT state FROM trials WHERE number = 2", got, sizeof got));
    ck_assert_str_eq(got, "pruned");
    ck_assert_int_eq(hp_harness_db_int(h.db, "SELECT pruned_step FROM trials WHERE number = 2"), 1);
    ck_assert_ptr_nonnull(
        hp_harness_db_text(h.db, "SELECT error FROM trials WHERE number = 2", got, sizeof got));
    ck_assert_msg(strncmp(got, "pruned at step 1 by asha: val_loss ", 35) == 0 &&
                      strstr(got, "of 3 trials at rung 1") != NULL,
                  "trial 2's reason: %s", got);
    /* it stopped between epochs 1 and 2: the engine waited for epoch 1's
     * verdict, so epochs 2..9 never ran (however fast an epoch is) */
    long last = last_val_epoch(&h, 2);
    ck_assert_msg(last == 1, "the pruned trial reported val_loss up to epoch %ld", last);
    ck_assert_int_eq(hp_harness_db_int(h.db, "SELECT count(*) FROM metrics m JOIN trials t ON "
                                             "t.id = m.trial_id WHERE t.number = 2 AND m.step "
                                             "> 1"),
                     0);
    ck_assert_int_eq(hp_harness_db_int(h.db, "SELECT count(*) FROM events WHERE kind = "
                                             "'trial_pruned' AND trial_id = (SELECT id FROM "
                                             "trials WHERE number = 2)"),
                     1);
    hp_harness_fini(&h);
}
END_TEST

static Suite *prune_model_suite(void)
{
    Suite *s = suite_create("integration_prune_model");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 0);
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    tcase_add_test(tc, test_model_trial_pruned_between_epochs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return hp_check_run(prune_model_suite()); }
