/*
 * runner.h — run one trial: an external program, a built-in benchmark
 * function or a built-in model, chosen by the trial's `trial_json` (the
 * spec's `trial` section as canonical JSON, as sent in a TRIAL message).
 *
 *     hp_cancel_t cancel;
 *     hp_cancel_init(&cancel);
 *     hp_runner_trial_t t = {.number = 7, .seed = 42, .params = p, .n_params = 2,
 *                            .params_json = "{\"x1\":1,\"x2\":2}",
 *                            .trial_json = "{\"function\":\"branin\",\"noise\":0}",
 *                            .objective = "value"};
 *     hp_runner_outcome_t out;
 *     hp_runner_run(&t, NULL, on_progress, ctx, &cancel, &out);
 *     if (out.status == HP_RUNNER_COMPLETED) use(out.value);
 *     else puts(out.error);
 *     hp_runner_outcome_fini(&out);
 *     hp_cancel_fini(&cancel);
 *
 * hp_runner_run blocks the calling thread until the trial ends; progress is
 * reported from that thread. Another thread stops it with
 * hp_cancel_request (cancel.h); what the trial came to is an outcome
 * (outcome.h). Runners never touch nng (the external runner spawns
 * children with posix_spawn, which runs no fork handlers), so they are safe
 * in a process that uses nng.
 */
#ifndef HP_RUNNER_H
#define HP_RUNNER_H

#include "cancel.h"
#include "outcome.h"

#include <stddef.h>
#include <stdint.h>

typedef struct hp_runner_param {
    const char *name;
    const char *value; /* text form, as substituted into a command line */
} hp_runner_param_t;

typedef struct hp_runner_trial {
    uint32_t number; /* per-study trial number (HPSEARCH_TRIAL_NUMBER) */
    uint64_t seed;   /* seed for this trial's randomness */
    uint64_t study_seed; /* shared by every trial of the study: built-in
                            models draw their data splits from it */
    const hp_runner_param_t *params;
    size_t n_params;
    /* the defaults of inactive conditional parameters: they fill {name}
     * in a command (after params), never the environment */
    const hp_runner_param_t *defaults;
    size_t n_defaults;
    const char *params_json; /* {"lr": 0.001, ...} */
    const char *trial_json;  /* the spec's `trial` section */
    const char *objective;   /* the metric that is the objective */
    double timeout_s;        /* 0 = none */
} hp_runner_trial_t;

typedef struct hp_runner_opts {
    int kill_grace_ms; /* SIGTERM -> SIGKILL grace for external programs; 0 = 5000 */
    int blas_threads;  /* built-in training; 0 = 1 */
    size_t output_cap; /* external programs: bytes kept of each stream; 0 = HP_CAPTURE_MAX */
    struct hp_data_cache *data_cache; /* built-in training: the worker's datasets, shared by
                                         its slots (cache.h); NULL = load per trial */
} hp_runner_opts_t;

/* Called from the runner's thread for every step: step is the epoch, the
 * program's step=N, or the count of metric lines so far. The metrics are
 * only valid during the call. Must not block for long, except for a
 * built-in model (hp_runner_awaits_verdict). */
typedef void (*hp_runner_progress_cb)(int64_t step, const hp_runner_metric_t *metrics, size_t n,
                                      void *data);

/* hp_runner_run runs t to the end and fills out (always initialised, also
 * when the trial cannot start: bad trial_json is a failed trial). opts
 * may be NULL. Returns 0; the trial's fate is in out->status. */
int hp_runner_run(const hp_runner_trial_t *t, const hp_runner_opts_t *opts,
                  hp_runner_progress_cb cb, void *data, hp_cancel_t *cancel,
                  hp_runner_outcome_t *out);

/* hp_runner_is_quick reports whether t is evaluated in-process in
 * microseconds (a built-in benchmark function), so a caller may run it on
 * its own thread rather than start one per trial. It reads the first key
 * of the trial JSON, which names the kind in the coordinator's canonical
 * form; for anything else it answers 0, the safe choice. */
int hp_runner_is_quick(const hp_runner_trial_t *t);

/* hp_runner_awaits_verdict reports whether t is a built-in model, whose
 * progress callback is called between two epochs and may block there: a
 * caller that waits in it for the coordinator's answer to the epoch's
 * report makes a stop (pruning) take effect before the next epoch starts
 * instead of epochs later. An external program's callback must not block
 * (it would stall reading the program's output). */
int hp_runner_awaits_verdict(const hp_runner_trial_t *t);

#endif
