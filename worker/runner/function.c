/* The built-in benchmark function runner: x1..xd -> f(x) (+ noise). */
#include "runner_int.h"

#include "outcome.h"
#include "rng.h"
#include "spec.h"
#include "testfn.h"
#include "trial_json.h"

#include <libfyaml.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIM 256

int hp_run_function(struct fy_node *root, const hp_runner_trial_t *t, hp_runner_progress_cb cb,
                    void *data, hp_runner_outcome_t *out)
{
    char *fname = hp_tj_text(hp_tj_get(root, "function"));
    char *noise_s = hp_tj_text(hp_tj_get(root, "noise"));
    int f = -1;
    for (int i = HP_FUNC_BRANIN; i <= HP_FUNC_ACKLEY; i++)
        if (fname && strcmp(fname, hp_function_name((hp_function_t)i)) == 0)
            f = i;
    double noise = noise_s ? strtod(noise_s, NULL) : 0;
    const char *obj = t->objective ? t->objective : "";
    double x[MAX_DIM];
    size_t d = 0;

    if (f < 0) {
        hp_outcome_fail(out, "unknown benchmark function '%s' (this worker has branin, "
                             "hartmann6, rosenbrock, ackley)", fname ? fname : "");
        goto done;
    }
    if (!isfinite(noise) || noise < 0) {
        hp_outcome_fail(out, "trial.noise must be a number >= 0 (got '%s')", noise_s);
        goto done;
    }
    if (strcmp(obj, "value") != 0) {
        hp_outcome_fail(out, "benchmark functions report only the metric 'value', not the "
                             "objective '%s'", obj);
        goto done;
    }
    /* x1..xd: every x<k> param, with no gaps */
    int seen[MAX_DIM + 1] = {0};
    for (size_t i = 0; i < t->n_params; i++) {
        const char *n = t->params[i].name;
        char *end;
        if (n[0] != 'x' || n[1] < '1' || n[1] > '9')
            continue;
        long k = strtol(n + 1, &end, 10);
        if (*end || k < 1 || k > MAX_DIM)
            continue;
        char *vend;
        x[k - 1] = strtod(t->params[i].value, &vend);
        if (*vend || vend == t->params[i].value) {
            hp_outcome_fail(out, "parameter %s: not a number: '%s'", n, t->params[i].value);
            goto done;
        }
        seen[k] = 1;
        if ((size_t)k > d)
            d = (size_t)k;
    }
    for (size_t k = 1; k <= d; k++)
        if (!seen[k]) {
            hp_outcome_fail(out, "benchmark function inputs must be x1..x%zu, but x%zu is missing",
                            d, k);
            goto done;
        }
    double y;
    if (hp_testfn_eval((hp_function_t)f, x, d, &y) < 0) {
        hp_outcome_fail(out, "%s takes %s inputs, got %zu (x1..x%zu)", fname,
                        f == HP_FUNC_BRANIN ? "2" : f == HP_FUNC_HARTMANN6 ? "6" : "at least 2", d,
                        d);
        goto done;
    }
    if (noise > 0) {
        hp_rng_t r;
        hp_rng_init(&r, t->seed, 0);
        y += noise * hp_rng_normal(&r);
    }
    /* no progress report: the value arrives with the result, and a
     * separate message would double the cost of a microsecond trial */
    (void)cb;
    (void)data;
    hp_outcome_put(out, "value", y);
    out->value = y;
    out->status = HP_RUNNER_COMPLETED;
done:
    free(fname);
    free(noise_s);
    return 0;
}
