/*
 * hpsearch importance and report's importance section: the real binary
 * ($HP_BIN_DIR/hpsearch) on a database built with the store library —
 * an inert parameter ranked last, failed and infeasible trials left out,
 * a conditional parameter counted where active, too few trials refused
 * with a message, text and JSON, the same output for the same seed.
 */
#include "err.h"
#include "rng.h"
#include "space.h"
#include "spec.h"
#include "store.h"

#include "hp_check.h"
#include "hp_spawn.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GUARD_SECONDS 120

static char tmpdir[128];
static char dbpath[320];
static int64_t next_lease = 1;

typedef struct run {
    int status;
    char *out, *err;
} run_t;

static run_t hpsearch(const char *const *args)
{
    const char *bin = getenv("HP_BIN_DIR");
    ck_assert_ptr_nonnull(bin);
    char exe[512];
    snprintf(exe, sizeof exe, "%s/hpsearch", bin);
    const char *outp = hp_check_in(tmpdir, "stdout"), *errp = hp_check_in(tmpdir, "stderr");
    hp_spawn_opts_t o = {.in = "/dev/null", .out = outp, .err = errp,
                         .env = (const char *const[]){"HPSEARCH_COORDINATOR", NULL}};
    pid_t pid = hp_spawn(exe, args, &o);
    alarm(GUARD_SECONDS); /* a hang kills this test process, failing it */
    int st = hp_spawn_wait(pid);
    alarm(0);
    return (run_t){.status = st, .out = hp_check_slurp(outp, 0), .err = hp_check_slurp(errp, 0)};
}

static void run_free(run_t *r)
{
    free(r->out);
    free(r->err);
}

/* x0 matters most, x1 less, sgd's momentum some; x2 is inert */
static const char spec_yaml[] =
    "name: imp\n"
    "objective: {metric: loss}\n"
    "search: {algorithm: random, max_trials: 200}\n"
    "space:\n"
    "  x0: {type: float, low: -1, high: 1}\n"
    "  x1: {type: float, low: -1, high: 1}\n"
    "  x2: {type: int, low: 1, high: 100, log: true}\n"
    "  opt: {type: categorical, values: [sgd, adam]}\n"
    "  momentum: {type: float, low: 0.5, high: 0.99, when: {opt: sgd}}\n"
    "trial: {command: [./train]}\n";

static double loss(const hp_space_t *sp, const double *x)
{
    double v = 10 * x[0] * x[0] + 2 * x[1];
    int m = hp_space_find(sp, "momentum");
    if (!isnan(x[m]))
        v += 20 * (x[m] - 0.5);
    return v;
}

static int64_t study(hp_store_t *st, const char *name, hp_spec_t *spec)
{
    hp_buf_t json = {0};
    hp_spec_to_json(spec, &json);
    hp_study_def_t def = {.name = name, .spec = spec_yaml, .spec_json = json.data,
                          .metric = "loss", .goal = HP_GOAL_MINIMIZE};
    int64_t id = 0;
    char err[512] = "";
    ck_assert_msg(hp_store_study_create(st, &def, &id, err, sizeof err) == 0, "%s", err);
    hp_buf_fini(&json);
    return id;
}

/* a trial at a random point of spec's space, run to `how`: 'c' completed
 * with its loss, 'f' failed, 'i' completed but infeasible with a loss
 * that only x2 explains (were it counted, x2 would matter) */
static void trial(hp_store_t *st, int64_t sid, const hp_spec_t *spec, hp_rng_t *r, char how)
{
    const hp_space_t *sp = &spec->space;
    double u[8], x[8];
    for (size_t j = 0; j < sp->n; j++)
        u[j] = hp_rng_uniform(r);
    hp_space_from_unit(sp, u, x);
    hp_space_deactivate(sp, x);
    hp_buf_t params = {0};
    hp_space_point_json(sp, x, &params);
    char err[512] = "";
    int64_t id, lease = next_lease++;
    int attempt;
    ck_assert_msg(hp_store_trial_create(st, sid, params.data, &id, NULL, err, sizeof err) == 0,
                  "%s", err);
    ck_assert_msg(hp_store_trial_start(st, id, "w1", lease, hp_store_now() + 60, &attempt, err,
                                       sizeof err) == 0,
                  "%s", err);
    if (how == 'f') {
        ck_assert_int_eq(hp_store_trial_fail(st, id, lease, "exit 1", err, sizeof err), 0);
    } else {
        double v = how == 'i' ? 1000 * x[2] : loss(sp, x);
        ck_assert_msg(hp_store_trial_complete(st, id, lease, v, err, sizeof err) == 0, "%s", err);
        if (how == 'i')
            ck_assert_int_eq(hp_store_trial_set_infeasible(st, id, "memory_mb above 2000", err,
                                                           sizeof err),
                             0);
    }
    hp_buf_fini(&params);
}

static void setup(void)
{
    hp_check_tmpdir(tmpdir, sizeof tmpdir, "hp_test_importance");
    snprintf(dbpath, sizeof dbpath, "%s/hp.db", tmpdir);
    hp_store_t *st = NULL;
    char err[512] = "";
    ck_assert_msg(hp_store_open(&st, dbpath, HP_STORE_CREATE | HP_STORE_SYNC_NORMAL, err,
                                sizeof err) == 0,
                  "%s", err);
    hp_worker_def_t w = {.id = "w1", .host = "h", .cores = 1, .slots = 1};
    ck_assert_int_eq(hp_store_worker_upsert(st, &w, err, sizeof err), 0);
    hp_spec_t spec;
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_spec_parse(&spec, spec_yaml, strlen(spec_yaml), "s.yaml", &d), 0);
    hp_diag_fini(&d);
    hp_rng_t r;
    hp_rng_init(&r, 5, 0);
    int64_t sid = study(st, "imp", &spec);
    for (int i = 0; i < 90; i++)
        trial(st, sid, &spec, &r, i % 10 == 3 ? 'f' : i % 10 == 7 ? 'i' : 'c');
    sid = study(st, "few", &spec);
    for (int i = 0; i < 4; i++)
        trial(st, sid, &spec, &r, i == 0 ? 'f' : 'c');
    hp_spec_fini(&spec);
    hp_store_close(st);
}

static void teardown(void)
{
    hp_check_rmdir(tmpdir);
}

/* the parameter names of a JSON ranking, in order, as "a,b,c" */
static void names(const char *json, char *out, size_t cap)
{
    out[0] = '\0';
    const char *p = strstr(json, "\"params\":[");
    ck_assert_ptr_nonnull(p);
    while ((p = strstr(p, "{\"name\":\"")) != NULL) {
        p += 9;
        size_t n = strcspn(p, "\"");
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%.*s", len ? "," : "", (int)n, p);
    }
}

START_TEST(test_importance_text)
{
    run_t r = hpsearch((const char *[]){"importance", "--db", dbpath, "imp", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "study   imp (id 1, minimize loss)\n"));
    /* 90 trials: 9 failed and 9 infeasible left out */
    ck_assert_ptr_nonnull(strstr(r.out, "method  fANOVA (random forest, 64 trees), on 72 "
                                        "completed trials\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "main effects explain "));
    char *x0 = strstr(r.out, "  x0 "), *x2 = strstr(r.out, "  x2 ");
    ck_assert_ptr_nonnull(x0);
    ck_assert_ptr_nonnull(x2);
    ck_assert(x0 < x2); /* the inert x2 after x0 */
    ck_assert_ptr_nonnull(strstr(r.out, "(active in "));
    run_free(&r);
}
END_TEST

START_TEST(test_importance_json)
{
    run_t r = hpsearch(
        (const char *[]){"importance", "--format", "json", "imp", "--db", dbpath, NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "{\"study\":\"imp\",\"study_id\":1,\"metric\":\"loss\","
                                        "\"goal\":\"minimize\",\"importance\":{\"method\":"
                                        "\"fANOVA (random forest, 64 trees)\",\"trials\":72,"
                                        "\"skipped\":0,"));
    char order[256];
    names(r.out, order, sizeof order);
    ck_assert_msg(strncmp(order, "x0,", 3) == 0 || strncmp(order, "opt,x0,", 7) == 0, "%s",
                  order);
    size_t n = strlen(order);
    ck_assert_msg(n > 3 && strcmp(order + n - 3, ",x2") == 0, "inert x2 not last: %s", order);
    /* the same trials and seed: the same answer; another seed runs */
    run_t again = hpsearch(
        (const char *[]){"importance", "--format", "json", "--db", dbpath, "imp", NULL});
    ck_assert_str_eq(again.out, r.out);
    run_free(&again);
    again = hpsearch((const char *[]){"importance", "--db", dbpath, "--seed", "3", "--trees",
                                      "8", "imp", NULL});
    ck_assert_msg(again.status == 0, "%s", again.err);
    ck_assert_ptr_nonnull(strstr(again.out, "fANOVA (random forest, 8 trees)"));
    run_free(&again);
    run_free(&r);
}
END_TEST

START_TEST(test_importance_in_report)
{
    run_t r = hpsearch((const char *[]){"report", "--db", dbpath, "imp", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "\nparameter importance (hpsearch importance; "
                                        "docs/importance.md)\nmethod  fANOVA (random forest, 64 "
                                        "trees), on 72 completed trials\n"));
    run_free(&r);
    r = hpsearch((const char *[]){"report", "--format", "json", "--db", dbpath, "imp", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    const char *imp = strstr(r.out, ",\"importance\":{\"method\":\"fANOVA (random forest, 64 "
                                    "trees)\",\"trials\":72,");
    ck_assert_ptr_nonnull(imp);
    char order[256];
    names(imp, order, sizeof order);
    ck_assert_msg(strcmp(order + strlen(order) - 3, ",x2") == 0, "%s", order);
    run_free(&r);
    /* too few trials: the report still answers, saying why */
    r = hpsearch((const char *[]){"report", "--format", "json", "--db", dbpath, "few", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_ptr_nonnull(strstr(r.out, ",\"importance\":{\"method\":\"fANOVA (random forest, "
                                        "64 trees)\",\"error\":\"importance needs at least 5 "
                                        "completed trials with a finite objective (got 3; "));
    run_free(&r);
}
END_TEST

START_TEST(test_importance_errors)
{
    run_t r = hpsearch((const char *[]){"importance", "--db", dbpath, "few", NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.err, "hpsearch importance: study 'few': importance needs at least 5 "
                            "completed trials with a finite objective (got 3; failed, pruned, "
                            "running and infeasible trials do not count)\n");
    run_free(&r);
    r = hpsearch((const char *[]){"importance", "--db", dbpath, "imq", NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "no study named 'imq' (did you mean 'imp'?)"));
    run_free(&r);
    r = hpsearch((const char *[]){"importance", "--db", dbpath, "--trees", "0", "imp", NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "--trees"));
    run_free(&r);
    r = hpsearch((const char *[]){"importance", "--db", dbpath, NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "missing STUDY"));
    run_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli_importance");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 0);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_importance_text);
    tcase_add_test(tc, test_importance_json);
    tcase_add_test(tc, test_importance_in_report);
    tcase_add_test(tc, test_importance_errors);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
