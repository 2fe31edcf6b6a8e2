/* runner_int.h — the kinds of trial hp_runner_run dispatches to, one entry
 * point each, chosen by trial_json's first key. Each runs on the caller's
 * thread, reads its section of root (trial_json.h), reports through cb and
 * fills out (outcome.h); out arrives zeroed with status FAILED, and the
 * entry point sets the status. root belongs to the caller. */
#ifndef HP_RUNNER_INT_H
#define HP_RUNNER_INT_H

#include "runner.h"

struct fy_node;

/* external.c: trial.command, a program that prints metric lines */
int hp_run_external(struct fy_node *root, const hp_runner_trial_t *t, const hp_runner_opts_t *o,
                    hp_runner_progress_cb cb, void *data, hp_cancel_t *cancel,
                    hp_runner_outcome_t *out);
/* function.c: trial.function, a built-in benchmark function */
int hp_run_function(struct fy_node *root, const hp_runner_trial_t *t, hp_runner_progress_cb cb,
                    void *data, hp_runner_outcome_t *out);
/* run_model.c: trial.model, the built-in training engine */
int hp_run_model(struct fy_node *root, const hp_runner_trial_t *t, const hp_runner_opts_t *o,
                 hp_runner_progress_cb cb, void *data, hp_cancel_t *cancel,
                 hp_runner_outcome_t *out);

#endif
