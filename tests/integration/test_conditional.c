/*
 * Conditional parameters through the real service: `hpsearch run` with a
 * program that writes down its arguments and environment. No inactive
 * parameter reaches it — no HPSEARCH_PARAM_ variable, no key in
 * HPSEARCH_PARAMS or in the stored params — and a placeholder of an
 * inactive parameter gets its default.
 */
#include "hp_it.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes "ARGS <argv>" and the HPSEARCH_ variables to DIR/t<N>.txt, then
 * reports a loss that depends on the branch. */
static const char script[] =
    "f=\"$0/t$HPSEARCH_TRIAL_NUMBER.txt\"; "
    "echo \"ARGS $*\" > \"$f\"; env | grep ^HPSEARCH_PARAM | sort >> \"$f\"; "
    "echo loss=0.5";

START_TEST(test_inactive_params_never_reach_the_program)
{
    static hp_harness_t h; /* static: a failed check leaves this frame before the teardown */
    hp_harness_init(&h, "cond-run");
    char spec[4096];
    snprintf(spec, sizeof spec,
             "name: cond\nobjective: {metric: loss}\n"
             "search: {algorithm: grid, parallelism: 2}\n"
             "space:\n"
             "  opt: {type: categorical, values: [sgd, adam]}\n"
             "  momentum: {type: float, values: [0.5, 0.9], when: {opt: sgd}, default: none}\n"
             "  beta2: {type: float, values: [0.99, 0.999], when: {opt: adam}}\n"
             "  layers: {type: categorical, values: [1, 2]}\n"
             "  w2: {type: int, low: 8, high: 16, step: 8, when: {layers: 2}, default: 0}\n"
             "trial:\n"
             "  command: [sh, -c, '%s', '%s', '--momentum={momentum}', '--w2={w2}']\n"
             "  retries: 0\n",
             script, h.dir);
    const char *path = hp_harness_write_file(&h, "cond.yaml", spec);
    /* (sgd: 2 + adam: 2) x (1 + 2) = 12 configurations */
    ck_assert_int_eq(RUN(&h, "run", "run", "--workers", "2", "--db", h.db, path), 0);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE state = 'completed'"), 12);
    /* stored params: only the active ones */
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE "
                                  "json_extract(params, '$.opt') = 'adam' AND "
                                  "json_type(params, '$.momentum') IS NOT NULL"),
                     0);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE "
                                  "json_extract(params, '$.opt') = 'sgd' AND "
                                  "(json_type(params, '$.beta2') IS NOT NULL OR "
                                  "json_type(params, '$.momentum') IS NULL)"),
                     0);
    ck_assert_int_eq(db_int(h.db, "SELECT count(*) FROM trials WHERE "
                                  "json_extract(params, '$.layers') = 1 AND "
                                  "json_type(params, '$.w2') IS NOT NULL"),
                     0);
    int sgd = 0, adam = 0;
    for (int n = 0; n < 12; n++) {
        char f[800];
        snprintf(f, sizeof f, "%s/t%d.txt", h.dir, n);
        char *t = hp_check_slurp(f, 0);
        HAS(t, "HPSEARCH_PARAM_OPT=");
        if (strstr(t, "HPSEARCH_PARAM_OPT=sgd")) {
            sgd++;
            HAS(t, "HPSEARCH_PARAM_MOMENTUM=");
            LACKS(t, "HPSEARCH_PARAM_BETA2");
            LACKS(t, "beta2");
            LACKS(t, "--momentum=none");
        } else {
            adam++;
            HAS(t, "HPSEARCH_PARAM_BETA2=0.99");
            LACKS(t, "HPSEARCH_PARAM_MOMENTUM");
            LACKS(t, "\"momentum\""); /* not in HPSEARCH_PARAMS */
            HAS(t, "--momentum=none"); /* the default fills the placeholder */
        }
        if (strstr(t, "HPSEARCH_PARAM_LAYERS=1")) {
            LACKS(t, "HPSEARCH_PARAM_W2");
            LACKS(t, "\"w2\"");
            HAS(t, "--w2=0");
        } else {
            HAS(t, "HPSEARCH_PARAM_W2=");
            LACKS(t, "--w2=0");
        }
        free(t);
    }
    ck_assert_int_eq(sgd, 6);
    ck_assert_int_eq(adam, 6);
    /* best and trials show the params as stored */
    ck_assert_int_eq(RUN(&h, "trials", "trials", "--db", h.db, "cond"), 0);
    char *out = cli_output(&h, "trials", "out");
    HAS(out, "momentum");
    free(out);
    hp_harness_fini(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("integration_conditional");
    TCase *tc = tcase_create("conditional");
    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    tcase_add_test(tc, test_inactive_params_never_reach_the_program);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
