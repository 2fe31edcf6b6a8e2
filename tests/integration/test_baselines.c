/* Simple baselines end to end with real processes: for each dataset key
 * (studies.dataset_key) one trial computes the majority-class and linear
 * baselines, the coordinator stores them once in the baselines table, and
 * every other trial of that key — in the same study, in a later study on
 * the same data, after a coordinator restart — is told not to compute
 * them. `hpsearch report` shows the stored ones against the best trial. */
#include "harness.h"

#include "hp_check.h"

#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char spec[4096];

/* A built-in MLP study on a small Fashion-MNIST subset: one epoch per
 * trial keeps it quick; the baselines still train on the same splits. */
static const char *mlp_spec(const char *name, int trials, int parallelism, int seed,
                            const char *dataset_extra, const char *sanity)
{
    snprintf(spec, sizeof spec,
             "name: %s\nobjective: {metric: val_error}\n"
             "search: {algorithm: random, max_trials: %d, parallelism: %d, seed: %d%s}\n"
             "space:\n  lr: {type: float, low: 1e-3, high: 1e-2, log: true}\n"
             "  hidden: {type: int, low: 16, high: 64}\n"
             "trial:\n  model: mlp\n"
             "  dataset: {name: fashion-mnist, train_subset: 1000%s}\n"
             "  epochs: 1\n",
             name, trials, parallelism, seed, sanity, dataset_extra);
    return spec;
}

static void start_workers(hp_harness_t *h, int n)
{
    for (int i = 0; i < n; i++)
        hp_harness_spawn(h, "hpworker", "--connect", h->listen, "--slots", "1", NULL);
}

/* trials of study that reported baseline metrics (computed them) */
static long computed_by(hp_harness_t *h, const char *study)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT count(DISTINCT m.trial_id) FROM metrics m "
             "JOIN trials t ON t.id = m.trial_id JOIN studies s ON s.id = t.study_id "
             "WHERE s.name = '%s' AND m.step = -1 AND m.name IN "
             "('baseline_majority_error', 'baseline_linear_error')",
             study);
    return hp_harness_query_int(h, sql);
}

/* rows of the baselines table for study's dataset key */
static long stored_for(hp_harness_t *h, const char *study)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM baselines b JOIN studies s USING (dataset_key) "
             "WHERE s.name = '%s'",
             study);
    return hp_harness_query_int(h, sql);
}

/* a stored baseline's error in millionths, for exact comparisons */
static long stored_micro(hp_harness_t *h, const char *study, const char *name)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT CAST(round(b.error * 1e6) AS INTEGER) FROM baselines b "
             "JOIN studies s USING (dataset_key) WHERE s.name = '%s' AND b.name = '%s'",
             study, name);
    return hp_harness_query_int(h, sql);
}

/* `hpsearch report --format json STUDY`'s baselines, in millionths
 * (-1 when null): out[0] majority class, out[1] linear model */
static void report_micro(hp_harness_t *h, const char *study, long *out)
{
    char cmd[2048], text[16384];
    snprintf(cmd, sizeof cmd, "%s/hpsearch report %s --db %s --format json", h->bin, study,
             h->db);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(text, 1, sizeof text - 1, p);
    text[n] = '\0';
    ck_assert_int_eq(pclose(p), 0);
    static const char *const keys[2] = {"\"majority_class\":", "\"linear_model\":"};
    const char *b = strstr(text, "\"baselines\":{");
    ck_assert_msg(b != NULL, "no baselines in the report of %s: %s", study, text);
    for (int i = 0; i < 2; i++) {
        const char *k = strstr(b, keys[i]);
        ck_assert_msg(k != NULL, "no %s in %s", keys[i], b);
        k += strlen(keys[i]);
        out[i] = strncmp(k, "null", 4) == 0 ? -1 : lround(strtod(k, NULL) * 1e6);
    }
}

START_TEST(test_baselines_computed_once_per_dataset)
{
    hp_harness_t h;
    hp_harness_init(&h, "baselines");
    hp_harness_start_daemon(&h, NULL);
    start_workers(&h, 2);

    /* six trials, two at a time: exactly one computes the baselines */
    hp_harness_submit(&h, mlp_spec("first", 6, 2, 3, "", ", sanity_check: false"));
    ck_assert_str_eq(hp_harness_wait_study(&h, "first", 300), "completed");
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials t JOIN studies s ON "
                                              "s.id = t.study_id WHERE s.name = 'first' AND "
                                              "t.state = 'completed'"),
                     6);
    ck_assert_int_eq(computed_by(&h, "first"), 1);
    ck_assert_int_eq(stored_for(&h, "first"), 2);
    /* the rows name that trial, which keeps the same numbers as metrics */
    ck_assert_int_eq(hp_harness_query_int(
                         &h, "SELECT count(*) FROM baselines b JOIN metrics m ON "
                             "m.trial_id = b.trial_id AND m.step = -1 AND m.value = b.error AND "
                             "m.name = CASE b.name WHEN 'majority_class' THEN "
                             "'baseline_majority_error' ELSE 'baseline_linear_error' END "
                             "JOIN studies s ON s.id = b.study_id WHERE s.name = 'first'"),
                     2);
    long maj = stored_micro(&h, "first", "majority_class");
    long lin = stored_micro(&h, "first", "linear_model");
    ck_assert_msg(maj > 500000 && maj < 950000, "majority-class error %ld ppm", maj);
    ck_assert_msg(lin > 0 && lin < maj, "linear-model error %ld ppm", lin);
    long rep[2];
    report_micro(&h, "first", rep);
    ck_assert_int_eq(rep[0], maj);
    ck_assert_int_eq(rep[1], lin);

    /* the same data and seed with another model and space (and the sanity
     * check on, which computes none either): nothing computed again, the
     * report shows the same numbers */
    snprintf(spec, sizeof spec,
             "name: second\nobjective: {metric: val_error}\n"
             "search: {algorithm: sobol, max_trials: 6, parallelism: 2, seed: 3}\n"
             "space:\n  lr: {type: float, low: 1e-3, high: 1e-2, log: true}\n"
             "trial:\n  model: mlp\n"
             "  dataset: {name: fashion-mnist, train_subset: 1000}\n"
             "  epochs: 1\n  fixed: {hidden: 32}\n");
    hp_harness_submit(&h, spec);
    ck_assert_str_eq(hp_harness_wait_study(&h, "second", 300), "completed");
    ck_assert_int_eq(computed_by(&h, "second"), 0);
    ck_assert_int_eq(stored_for(&h, "second"), 2);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM baselines"), 2);
    report_micro(&h, "second", rep);
    ck_assert_int_eq(rep[0], maj);
    ck_assert_int_eq(rep[1], lin);

    /* another shift, another seed: other data, their own key and rows */
    hp_harness_submit(&h, mlp_spec("dark", 2, 2, 3, ", shift: darken", ", sanity_check: false"));
    hp_harness_submit(&h, mlp_spec("seed4", 2, 2, 4, "", ", sanity_check: false"));
    ck_assert_str_eq(hp_harness_wait_study(&h, "dark", 300), "completed");
    ck_assert_str_eq(hp_harness_wait_study(&h, "seed4", 300), "completed");
    ck_assert_int_eq(computed_by(&h, "dark"), 1);
    ck_assert_int_eq(computed_by(&h, "seed4"), 1);
    ck_assert_int_eq(stored_for(&h, "dark"), 2);
    ck_assert_int_eq(stored_for(&h, "seed4"), 2);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM baselines"), 6);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(DISTINCT dataset_key) FROM studies"),
                     3);
    hp_harness_fini(&h);
}
END_TEST

/* The coordinator is killed while the trial computing the baselines runs:
 * after the restart that trial's result still stores them, and no other
 * trial computes them, in this study or a later one on the same data. */
START_TEST(test_baselines_across_a_restart)
{
    hp_harness_t h;
    hp_harness_init(&h, "baselines-restart");
    hp_harness_start_daemon(&h, "--lease-ms", "3000", "--heartbeat-ms", "200", NULL);
    start_workers(&h, 1);
    hp_harness_submit(&h, mlp_spec("before", 4, 1, 5, "", ", sanity_check: false"));
    long running = 0;
    for (int i = 0; i < 600 && running < 1; i++) {
        running = hp_harness_query_int(&h, "SELECT count(*) FROM trials WHERE state = "
                                           "'running' OR state = 'completed'");
        if (running < 1)
            usleep(20000);
    }
    ck_assert_int_ge(running, 1);
    hp_harness_kill(&h, h.daemon, SIGKILL);
    usleep(300000);
    hp_harness_start_daemon(&h, "--lease-ms", "3000", "--heartbeat-ms", "200", NULL);
    ck_assert_str_eq(hp_harness_wait_study(&h, "before", 300), "completed");
    ck_assert_int_eq(computed_by(&h, "before"), 1);
    ck_assert_int_eq(stored_for(&h, "before"), 2);

    /* stopped cleanly and started again: the table is read at load */
    hp_harness_kill(&h, h.daemon, SIGTERM);
    hp_harness_start_daemon(&h, "--lease-ms", "3000", "--heartbeat-ms", "200", NULL);
    hp_harness_submit(&h, mlp_spec("after", 2, 1, 5, "", ", sanity_check: false"));
    ck_assert_str_eq(hp_harness_wait_study(&h, "after", 300), "completed");
    ck_assert_int_eq(computed_by(&h, "after"), 0);
    ck_assert_int_eq(stored_for(&h, "after"), 2);
    long rep[2];
    report_micro(&h, "after", rep);
    ck_assert_int_eq(rep[0], stored_micro(&h, "before", "majority_class"));
    ck_assert_int_eq(rep[1], stored_micro(&h, "before", "linear_model"));
    hp_harness_fini(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("integration_baselines");
    TCase *tc = tcase_create("baselines");
    tcase_add_test(tc, test_baselines_computed_once_per_dataset);
    tcase_add_test(tc, test_baselines_across_a_restart);
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
