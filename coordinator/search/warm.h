/*
 * warm.h — a warm start (search.warm_start): which completed trials of an
 * earlier study a new study's sampler may start from, and the sentence
 * that tells the user what was taken.
 *
 *     hp_warm_tally_t t = {0};
 *     char why[256];
 *     if (hp_warm_study_check(spec, "lr-coarse", "val_error", HP_GOAL_MINIMIZE, why,
 *                             sizeof why) < 0)
 *         note("warm start: %s", why);                  // the whole study skipped
 *     for each completed trial (number, params JSON, value) of it, by number:
 *         if (hp_warm_trial(spec, number, params, x, &t))
 *             hp_sampler_add_prior(sampler, "lr-coarse", number, value, x);
 *     hp_warm_note(&buf, "lr-coarse", &t);
 *     // warm start: 18 trials from 'lr-coarse' (3 skipped: outside the
 *     // space, first trial 7: x1 = 12 is outside [-5, 10])
 *
 * A study is compatible when it optimises the same objective metric with
 * the same goal. One of its trials is used when each of the new space's
 * parameters has a value in its params that is a point of the new space
 * (type, range, step, choices), and when it ran with the new study's
 * fixed settings (a fixed value the trial's params name with another
 * value measured another objective: skipped). Reading the store is the
 * caller's (the daemon's study.c); this is pure. Any thread.
 */
#ifndef HP_WARM_H
#define HP_WARM_H

#include "buf.h"
#include "spec.h"

#include <stddef.h>
#include <stdint.h>

typedef struct hp_warm_tally {
    size_t taken;
    size_t outside;        /* not a point of the new space */
    size_t fixed_differs;  /* ran with another value of a fixed setting */
    char first_outside[200]; /* "trial 7: x1 = 12 is outside [-5, 10]" */
    char first_fixed[200];   /* "trial 2: epochs = 5 where this study holds 20" */
} hp_warm_tally_t;

/* hp_warm_study_check returns 0 when a study named name, optimising metric
 * with goal, can warm-start spec's study; else HP_EINVAL with why, e.g.
 * "'lr-coarse' skipped: it optimises loss (minimize), this study value
 * (minimize)". */
int hp_warm_study_check(const hp_spec_t *spec, const char *name, const char *metric,
                        hp_goal_t goal, char *why, size_t cap);

/* hp_warm_trial decides on one completed trial (number, its stored params
 * JSON): returns 1 with x (spec->space.n values) its point in spec's space,
 * or 0 when it is skipped, counted in t with its reason. t->taken counts
 * the 1s. */
int hp_warm_trial(const hp_spec_t *spec, uint64_t number, const char *params, double *x,
                  hp_warm_tally_t *t);

/* hp_warm_note appends the sentence for what one earlier study gave:
 * "warm start: 18 trials from 'lr-coarse' (3 skipped: outside the space,
 * first trial 7: x1 = 12 is outside [-5, 10])", or "warm start: no trials
 * from 'x' (...)" / "warm start: 'x' has no completed trials". */
void hp_warm_note(hp_buf_t *out, const char *name, const hp_warm_tally_t *t);

#endif
