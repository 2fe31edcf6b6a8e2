/*
 * A chosen point from name=value texts (hpsearch enqueue): every parameter
 * once, values checked against type, range, step and choices, and each
 * mistake named with the parameter (and a did-you-mean where one helps).
 */
#include "diag.h"
#include "err.h"
#include "params.h"
#include "spec.h"

#include "hp_check.h"

#include <check.h>
#include <math.h>
#include <string.h>

static const char spec_yaml[] =
    "name: t\nobjective: {metric: loss}\nsearch: {algorithm: random, max_trials: 4}\n"
    "space:\n"
    "  lr: {type: float, low: 1e-5, high: 0.1, log: true}\n"
    "  hidden: {type: int, low: 32, high: 256, step: 32}\n"
    "  act: {type: categorical, values: [relu, tanh]}\n"
    "  drop: {type: categorical, values: [0, 0.5]}\n"
    "trial: {command: [prog], fixed: {epochs: 3}}\n";

static hp_spec_t spec;

static void setup(void)
{
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_spec_parse(&spec, spec_yaml, strlen(spec_yaml), "t.yaml", &d), 0);
    hp_diag_fini(&d);
}

static void teardown(void) { hp_spec_fini(&spec); }

/* parses the NULL-terminated "name", "value", ... pairs */
static int parse(double *x, char *err, size_t errlen, const char *const *kv)
{
    const char *names[16], *values[16];
    size_t n = 0;
    for (; kv[2 * n]; n++) {
        names[n] = kv[2 * n];
        values[n] = kv[2 * n + 1];
    }
    return hp_params_from_assignments(&spec, names, values, n, x, err, errlen);
}

#define PARSE(x, err, ...) parse((x), (err), sizeof(err), (const char *const[]){__VA_ARGS__, NULL})

START_TEST(test_valid_point)
{
    double x[4];
    char err[512] = "";
    ck_assert_int_eq(PARSE(x, err, "act", "tanh", "lr", "0.001", "hidden", "64", "drop", "0.50"),
                     0);
    ck_assert(x[0] == 0.001);
    ck_assert(x[1] == 64);
    ck_assert(x[2] == 1); /* tanh */
    ck_assert(x[3] == 1); /* 0.5 by value */
    ck_assert_int_eq(PARSE(x, err, "act", "relu", "lr", "1e-5", "hidden", "256", "drop", "0"), 0);
    ck_assert(x[0] == 1e-5 && x[1] == 256 && x[2] == 0 && x[3] == 0);
}
END_TEST

typedef struct bad {
    const char *kv[10];
    const char *msg;
} bad_t;

static const bad_t bad[] = {
    {{"lrr", "0.01", "hidden", "64", "act", "relu", "drop", "0"},
     "no parameter 'lrr' in the space (did you mean 'lr'?); its parameters: lr, hidden, act, "
     "drop"},
    {{"epochs", "5", "lr", "0.01", "hidden", "64", "act", "relu", "drop", "0"},
     "epochs is held fixed by trial.fixed"},
    {{"lr", "0.5", "hidden", "64", "act", "relu", "drop", "0"},
     "lr: 0.5 is outside its range [1e-05, 0.1] (log scale)"},
    {{"lr", "0", "hidden", "64", "act", "relu", "drop", "0"}, "lr: 0 is outside its range"},
    {{"lr", "fast", "hidden", "64", "act", "relu", "drop", "0"}, "lr: 'fast' is not a number"},
    {{"lr", "nan", "hidden", "64", "act", "relu", "drop", "0"},
     "lr: 'nan' is not a finite number"},
    {{"lr", "0.01", "hidden", "64.5", "act", "relu", "drop", "0"},
     "hidden: '64.5' is not an integer"},
    {{"lr", "0.01", "hidden", "65", "act", "relu", "drop", "0"},
     "hidden: 65 is not one of its steps (low 32, step 32)"},
    {{"lr", "0.01", "hidden", "512", "act", "relu", "drop", "0"},
     "hidden: 512 is outside its range [32, 256]"},
    {{"lr", "0.01", "hidden", "64", "act", "rellu", "drop", "0"},
     "act: 'rellu' is not one of its values: relu, tanh (did you mean 'relu'?)"},
    {{"lr", "0.01", "hidden", "64", "act", "relu", "drop", "0.25"},
     "drop: '0.25' is not one of its values: 0, 0.5"},
    {{"lr", "0.01", "lr", "0.02", "hidden", "64", "act", "relu", "drop", "0"},
     "lr is given twice"},
    {{"lr", "0.01", "act", "relu"},
     "missing hidden, drop: give every parameter of the space once"},
    {{"lr", "", "hidden", "64", "act", "relu", "drop", "0"}, "lr: '' is not a number"},
    {{"lr", "1e-400", "hidden", "64", "act", "relu", "drop", "0"},
     "lr: '1e-400' underflows: it is too close to 0 for a double"},
};

START_TEST(test_bad_point)
{
    const bad_t *b = &bad[_i];
    double x[4];
    char err[512] = "";
    ck_assert_int_eq(parse(x, err, sizeof err, b->kv), HP_EINVAL);
    ck_assert_msg(strstr(err, b->msg) != NULL, "case %d: expected '%s' in '%s'", _i, b->msg, err);
}
END_TEST

static Suite *params_suite(void)
{
    Suite *s = suite_create("common_params");
    TCase *tc = tcase_create("assignments");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_valid_point);
    tcase_add_loop_test(tc, test_bad_point, 0, (int)(sizeof bad / sizeof bad[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return hp_check_run(params_suite()); }
