/* search.warm_start with the real hpsearchd, hpworker and hpsearch: a
 * bayes study that starts from an earlier study's completed trials makes
 * better first suggestions than a cold start with the same seed, and a
 * coarse-to-fine one narrows its first round around them; trials
 * outside its space are skipped with a note; an unknown name is refused
 * with did-you-mean; a study of another goal is skipped with a note; and
 * a restart rebuilds the same observations, not the trials the earlier
 * study completed after it. Every wait is on a condition (a study's
 * state, a row, a file), never on a time. */
#include "harness.h"
#include "hp_it.h"

#include "hp_check.h"
#include "hp_spawn.h"

#include <check.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GUARD_S 120 /* generous guards for waits on conditions, not timings */

/* The first cell of sql on the database, read-only as any reader; NAN
 * when the query fails or gives NULL. */
static double db_num(hp_harness_t *h, const char *sql)
{
    sqlite3 *d;
    double v = NAN;
    if (sqlite3_open_v2(h->db, &d, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(d, 10000);
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(d, sql, -1, &s, NULL) == SQLITE_OK) {
            if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
                v = sqlite3_column_double(s, 0);
            sqlite3_finalize(s);
        }
    }
    sqlite3_close(d);
    return v;
}

static void wait_num(hp_harness_t *h, const char *sql, double want)
{
    double v = NAN;
    for (int i = 0; i < GUARD_S * 20 && !((v = db_num(h, sql)) >= want); i++)
        nap_ms(50);
    ck_assert_msg(v >= want, "%s: %g, waited for %g", sql, v, want);
}

/* The best value of a study's trials numbered below k. */
static double best_of_first(hp_harness_t *h, const char *study, int k)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT min(t.value) FROM trials t JOIN studies s ON s.id = t.study_id "
             "WHERE s.name = '%s' AND t.state = 'completed' AND t.number < %d",
             study, k);
    return db_num(h, sql);
}

static char spec_buf[4096];

/* A bayes study of Branin, one trial at a time (the same history gives
 * the same suggestions); x1_high widens x1 past Branin's usual 10. */
static const char *branin_spec(const char *name, double x1_high, int trials, int n_initial,
                               int seed, const char *extra)
{
    snprintf(spec_buf, sizeof spec_buf,
             "name: %s\nobjective: {metric: value, goal: minimize}\n"
             "search: {algorithm: bayes, max_trials: %d, n_initial: %d, parallelism: 1, "
             "seed: %d%s}\n"
             "space:\n  x1: {type: float, low: -5, high: %g}\n"
             "  x2: {type: float, low: 0, high: 15}\n"
             "trial: {function: branin}\n",
             name, trials, n_initial, seed, extra, x1_high);
    return spec_buf;
}

START_TEST(test_warm_bayes_beats_cold_start)
{
    hp_harness_t h;
    hp_harness_init(&h, "warm-bayes");
    hp_harness_start_daemon(&h, NULL);
    hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "1", NULL);

    /* A: a bayes study over a wider x1, [-5, 15]. Its 8 Sobol points put
     * one in each eighth of x1's range, so at least the two in the last
     * quarter (x1 > 10) lie outside B's space; 6 lie inside */
    hp_harness_submit(&h, branin_spec("warm-a", 15, 24, 8, 1, ""));
    ck_assert_str_eq(hp_harness_wait_study(&h, "warm-a", GUARD_S * 2), "completed");
    double a_best = best_of_first(&h, "warm-a", 24);
    long a_inside = hp_harness_query_int(
        &h, "SELECT count(*) FROM trials t JOIN studies s ON s.id = t.study_id WHERE "
            "s.name = 'warm-a' AND t.state = 'completed' AND "
            "json_extract(t.params, '$.x1') <= 10");
    long a_outside = hp_harness_query_int(
        &h, "SELECT count(*) FROM trials t JOIN studies s ON s.id = t.study_id WHERE "
            "s.name = 'warm-a' AND t.state = 'completed' AND "
            "json_extract(t.params, '$.x1') > 10");
    ck_assert_int_ge(a_outside, 2);
    ck_assert_int_ge(a_inside, 6);
    ck_assert_int_eq(a_inside + a_outside, 24);

    /* B: x1 in [-5, 10], warm-started from A; C: the same without */
    const char *b = hp_harness_write_file(
        &h, "b.yaml", branin_spec("warm-b", 10, 5, 5, 2, ", warm_start: [warm-a]"));
    res_t r = CLI(&h, "submit", b);
    OK(r);
    char want[256];
    snprintf(want, sizeof want,
             "warm start: %ld trials from 'warm-a' (%ld skipped: outside the space, first trial ",
             a_inside, a_outside);
    HAS(r.out, want);
    HAS(r.out, " is outside [-5, 10])");
    res_free(&r);
    hp_harness_submit(&h, branin_spec("warm-c", 10, 5, 5, 2, ""));
    ck_assert_str_eq(hp_harness_wait_study(&h, "warm-b", GUARD_S), "completed");
    ck_assert_str_eq(hp_harness_wait_study(&h, "warm-c", GUARD_S), "completed");

    /* A's trials are observations of B, not its trials */
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials t JOIN studies s ON "
                                              "s.id = t.study_id WHERE s.name = 'warm-b'"),
                     5);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM events e JOIN studies s ON "
                                              "s.id = e.study_id WHERE s.name = 'warm-b' AND "
                                              "e.kind = 'warm_start'"),
                     1);
    /* With at least 6 observations (>= n_initial 5) B's very first trial
     * comes from the model, not from the Sobol design C starts with (the
     * same seed: without the warm start B's trials would be C's). The
     * model knows where A found a minimum, so within 3 trials B is about
     * as good as A was after 24, while C's 3 Sobol points, spread over the
     * whole space, are far from any minimum. */
    double b0 = best_of_first(&h, "warm-b", 1), b3 = best_of_first(&h, "warm-b", 3);
    double c0 = best_of_first(&h, "warm-c", 1), c3 = best_of_first(&h, "warm-c", 3);
    fprintf(stderr, "A best %g; B first %g, best of 3 %g; C first %g, best of 3 %g\n", a_best,
            b0, b3, c0, c3);
    ck_assert(isfinite(b0) && isfinite(b3) && isfinite(c3));
    ck_assert_msg(b0 != c0, "B's first trial is C's: the warm start changed nothing");
    ck_assert_double_lt(a_best, 1.0);      /* 24 bayes trials found a minimum (0.398) */
    ck_assert_double_lt(b3, a_best + 0.5); /* B refined next to one at once */
    ck_assert_double_lt(b3 + 1.0, c3);     /* and is better than a cold start */

    /* coarse-to-fine takes A's trials as a round before round 0: round 0
     * already searches a box half as wide as the space, around A's best,
     * and its recorded ranges name them */
    snprintf(spec_buf, sizeof spec_buf,
             "name: warm-d\nobjective: {metric: value}\n"
             "search: {algorithm: coarse-to-fine, max_trials: 8, rounds: 2, top_k: 3, seed: 2, "
             "warm_start: [warm-a]}\n"
             "space:\n  x1: {type: float, low: -5, high: 10}\n"
             "  x2: {type: float, low: 0, high: 15}\n"
             "trial: {function: branin}\n");
    hp_harness_submit(&h, spec_buf);
    ck_assert_str_eq(hp_harness_wait_study(&h, "warm-d", GUARD_S), "completed");
    ck_assert_int_eq(
        hp_harness_query_int(&h, "SELECT count(*) FROM events e JOIN studies s ON s.id = "
                                 "e.study_id WHERE s.name = 'warm-d' AND e.kind = 'c2f_round' "
                                 "AND e.message LIKE '{\"round\":0,%\"best\":[],"
                                 "\"warm_best\":[\"warm-a#%'"),
        1);
    double span = db_num(&h, "SELECT max(json_extract(t.params, '$.x1')) - "
                             "min(json_extract(t.params, '$.x1')) FROM trials t JOIN studies s "
                             "ON s.id = t.study_id WHERE s.name = 'warm-d' AND t.number < 4");
    ck_assert_double_le(span, 7.5 + 1e-9);
    hp_harness_fini(&h);
}
END_TEST

START_TEST(test_warm_unknown_and_incompatible_studies)
{
    hp_harness_t h;
    hp_harness_init(&h, "warm-names");
    hp_harness_start_daemon(&h, NULL);
    hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "1", NULL);
    hp_harness_submit(&h, branin_spec("lr-coarse", 10, 4, 4, 1, ""));
    ck_assert_str_eq(hp_harness_wait_study(&h, "lr-coarse", GUARD_S), "completed");

    /* a misspelt name: refused, with the closest stored name; nothing stored */
    const char *typo = hp_harness_write_file(
        &h, "typo.yaml", branin_spec("typo", 10, 3, 3, 1, ", warm_start: [lr-corase]"));
    res_t r = CLI(&h, "submit", typo);
    ck_assert_int_ne(r.status, 0);
    HAS(r.err, "search.warm_start: no study named 'lr-corase' (did you mean 'lr-coarse'?)");
    res_free(&r);
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM studies"), 1);

    /* a study of the other goal measures the opposite: skipped, with why */
    snprintf(spec_buf, sizeof spec_buf,
             "name: maxer\nobjective: {metric: value, goal: maximize}\n"
             "search: {algorithm: coarse-to-fine, max_trials: 4, warm_start: lr-coarse}\n"
             "space:\n  x1: {type: float, low: -5, high: 10}\n"
             "  x2: {type: float, low: 0, high: 15}\n"
             "trial: {function: branin}\n");
    const char *maxer = hp_harness_write_file(&h, "maxer.yaml", spec_buf);
    r = CLI(&h, "submit", "--format", "json", maxer);
    OK(r);
    HAS(r.out, "\"notes\":[\"warm start: 'lr-coarse' skipped: it optimises value (minimize), "
               "this study value (maximize)\"]");
    res_free(&r);
    ck_assert_str_eq(hp_harness_wait_study(&h, "maxer", GUARD_S), "completed");

    /* grid, random and sobol cannot use it: hpsearch refuses the spec */
    snprintf(spec_buf, sizeof spec_buf,
             "name: rnd\nobjective: {metric: value}\n"
             "search: {algorithm: random, max_trials: 4, warm_start: [lr-coarse]}\n"
             "space:\n  x1: {type: float, low: -5, high: 10}\n"
             "  x2: {type: float, low: 0, high: 15}\n"
             "trial: {function: branin}\n");
    const char *rnd = hp_harness_write_file(&h, "rnd.yaml", spec_buf);
    r = CLI(&h, "validate", rnd);
    ck_assert_int_ne(r.status, 0);
    HAS(r.err, "search.warm_start: only bayes and coarse-to-fine learn from earlier trials");
    res_free(&r);
    hp_harness_fini(&h);
}
END_TEST

/* A program trial that reports value = x1 at once for the first two
 * trials of the study (counted in DIR/done.N files) and waits for
 * DIR/GATE before the others. */
static const char *gated_spec(hp_harness_t *h, const char *name, const char *algo, int trials,
                              const char *gate, int free_trials, const char *extra)
{
    snprintf(spec_buf, sizeof spec_buf,
             "name: %s\nobjective: {metric: value}\n"
             "search: {algorithm: %s, max_trials: %d, parallelism: 1, seed: 4%s}\n"
             "space:\n  x1: {type: float, low: -5, high: 10}\n"
             "  x2: {type: float, low: 0, high: 15}\n"
             "trial:\n  command: [sh, -c, 'n=$(ls %s | grep -c \"^%s-done\"); "
             "if [ $n -ge %d ]; then while [ ! -e %s/%s ]; do sleep 0.05; done; fi; "
             "touch %s/%s-done.$$; echo value={x1}']\n  timeout: 300\n",
             name, algo, trials, extra, h->dir, name, free_trials, h->dir, gate, h->dir, name);
    return spec_buf;
}

static int file_has(const char *path, const char *needle)
{
    char *t = hp_check_slurp(path, 1);
    int found = strstr(t, needle) != NULL;
    free(t);
    return found;
}

START_TEST(test_warm_restart_rebuilds_the_same_start)
{
    hp_harness_t h;
    hp_harness_init(&h, "warm-restart");
    pid_t d1 = hp_harness_start_daemon(&h, NULL);
    hp_harness_spawn(&h, "hpworker", "--connect", h.listen, "--slots", "1", NULL);
    /* A completes two trials, then waits at its gate with two to go */
    hp_harness_submit(&h, gated_spec(&h, "early", "random", 4, "gate-a", 2, ""));
    wait_num(&h,
            "SELECT count(*) FROM trials t JOIN studies s ON s.id = t.study_id WHERE "
            "s.name = 'early' AND t.state = 'completed'",
            2);
    /* B starts from those two; its own trials wait at their gate */
    const char *b = hp_harness_write_file(
        &h, "late.yaml",
        gated_spec(&h, "late", "bayes", 3, "gate-b", 0, ", n_initial: 2, warm_start: [early]"));
    res_t r = CLI(&h, "submit", b);
    OK(r);
    HAS(r.out, "warm start: 2 trials from 'early'");
    res_free(&r);
    /* A finishes; B has not run a trial yet (its first waits at gate-b) */
    hp_harness_write_file(&h, "gate-a", "open\n");
    ck_assert_str_eq(hp_harness_wait_study(&h, "early", GUARD_S), "completed");
    ck_assert_int_eq(hp_harness_query_int(&h, "SELECT count(*) FROM trials t JOIN studies s ON "
                                              "s.id = t.study_id WHERE s.name = 'late' AND "
                                              "t.state = 'completed'"),
                     0);
    /* a restart loads B again: from A's two trials that had completed when
     * B was submitted, not the four A has now */
    hp_harness_kill(&h, d1, SIGTERM);
    pid_t d2 = hp_harness_start_daemon(&h, NULL);
    char log[800];
    snprintf(log, sizeof log, "%s/hpsearchd-%d.log", h.dir, (int)d2);
    ck_assert_msg(file_has(log, "study late: warm start: 2 trials from 'early'"),
                  "the restarted daemon's log lacks B's warm start:\n%s",
                  hp_check_slurp(log, 1));
    hp_harness_write_file(&h, "gate-b", "open\n");
    ck_assert_str_eq(hp_harness_wait_study(&h, "late", GUARD_S), "completed");
    hp_harness_fini(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("integration_warm");
    TCase *tc = tcase_create("warm");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_warm_bayes_beats_cold_start);
    tcase_add_test(tc, test_warm_unknown_and_incompatible_studies);
    tcase_add_test(tc, test_warm_restart_rebuilds_the_same_start);
    tcase_add_checked_fixture(tc, NULL, hp_harness_teardown);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
