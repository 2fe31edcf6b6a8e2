/*
 * sampler.h — the interface every search algorithm implements, and the
 * registry that picks one from a spec's `search.algorithm`.
 *
 * A sampler proposes the parameters of trial number `number` from the
 * study's history. Samplers are deterministic: the same spec (seed
 * included) and the same history give the same suggestion, so a restarted
 * coordinator continues a study exactly where it was.
 *
 *     hp_sampler_t *s;
 *     if (hp_sampler_new(&s, spec, err, sizeof err) < 0) ...
 *     double x[HP_SPACE_MAX_PARAMS];
 *     int rc = hp_sampler_suggest(s, number, &history, x, err, sizeof err);
 *     // 0: x holds a point of spec->space
 *     // HP_ENOENT: the search is exhausted (grid done)
 *     // HP_EBUSY: it must wait for running trials to finish first
 *     //           (a coarse-to-fine round barrier)
 *     hp_sampler_free(s);
 *
 * Threads: a sampler is used by one thread at a time. Cheap samplers
 * (grid, random, sobol) run on the coordinator's loop; expensive ones
 * (hp_sampler_is_expensive) run in uv_queue_work on a snapshot of the
 * history, the loop not touching the sampler until the work completes.
 * The spec must outlive the sampler.
 */
#ifndef HP_SAMPLER_H
#define HP_SAMPLER_H

#include "spec.h"

#include <stddef.h>
#include <stdint.h>

typedef enum hp_obs_state {
    HP_OBS_COMPLETED = 0, /* value is the objective */
    HP_OBS_FAILED = 1,    /* failed, pruned or non-finite: no value */
    HP_OBS_PENDING = 2,   /* pending or running: params known, value not yet */
    HP_OBS_PRUNED = 3,    /* stopped early (pruning): value is the objective as
                             last reported at a step, NaN if it never was */
} hp_obs_state_t;

/* One trial as a sampler sees it. */
typedef struct hp_obs {
    uint64_t number;
    hp_obs_state_t state;
    double value; /* HP_OBS_COMPLETED, HP_OBS_PRUNED; as stored (not negated) */
    const double *x; /* space.n values */
    /* HP_OBS_COMPLETED of a study with constraints: the final values of
     * the constraints' metrics, in spec order (NaN: never reported); NULL
     * when not known */
    const double *cv;
    /* HP_OBS_COMPLETED of a study with several objectives: every
     * objective's value in spec order, as stored (ov[0] == value); NULL
     * otherwise (one objective, or not completed) */
    const double *ov;
    /* HP_OBS_PRUNED: value is the trial's projection to its end
     * (pruning.pruned_value projected), not the value it was stopped at */
    int projected;
} hp_obs_t;

typedef struct hp_history {
    const hp_obs_t *obs;
    size_t n;
} hp_history_t;

typedef struct hp_sampler hp_sampler_t;

typedef struct hp_sampler_vt {
    const char *name;
    int expensive; /* run suggest off the loop thread */
    int (*init)(hp_sampler_t *s, char *err, size_t errlen);
    int (*suggest)(hp_sampler_t *s, uint64_t number, const hp_history_t *h, double *x,
                   char *err, size_t errlen);
    void (*fini)(hp_sampler_t *s);
} hp_sampler_vt_t;

/* Prior observations (search.warm_start): completed trials of earlier
 * studies, known to the sampler before this study's first trial as if it
 * had observed them. They are not trials of the study: they have no
 * number in it and do not count toward max_trials. bayes models them with
 * its own trials; coarse-to-fine treats them as a round before round 0.
 * The other samplers ignore them. */
typedef struct hp_prior {
    hp_obs_t *obs;  /* n, each HP_OBS_COMPLETED with a finite value; number
                       is the trial's number in its own study */
    double *x;      /* n x space.n */
    double *cv;     /* n x spec->n_constraints: the constraints' final
                       values in the earlier study (NaN: never reported) */
    unsigned *src;  /* n: index into study */
    size_t n, cap;
    char **study;   /* the earlier studies' names, in the order first added */
    size_t n_study;
} hp_prior_t;

struct hp_sampler {
    const hp_sampler_vt_t *vt;
    const hp_spec_t *spec;
    uint64_t total; /* trials the study will run (max_trials, or the grid size) */
    void *state;    /* the algorithm's own */
    hp_prior_t prior;
};

/* hp_sampler_new creates the sampler spec->search.algorithm names. Fails
 * with HP_EINVAL and a sentence (e.g. a grid over a space that has no grid)
 * or HP_ENOSYS-like HP_EINVAL for algorithms not built yet. */
int hp_sampler_new(hp_sampler_t **out, const hp_spec_t *spec, char *err, size_t errlen);
/* hp_sampler_suggest writes trial number's point to x; in a conditional
 * space the inactive parameters' coordinates are NaN (space.h). */
int hp_sampler_suggest(hp_sampler_t *s, uint64_t number, const hp_history_t *h, double *x,
                       char *err, size_t errlen);
/* hp_sampler_obs_feasible: whether completed observation o met spec's
 * constraints (its cv values within their bounds; an observation without
 * known values counts as feasible). Any thread. */
int hp_sampler_obs_feasible(const hp_spec_t *spec, const hp_obs_t *o);
int hp_sampler_is_expensive(const hp_sampler_t *s);
/* hp_sampler_total returns how many trials the study runs in all. */
uint64_t hp_sampler_total(const hp_sampler_t *s);
void hp_sampler_free(hp_sampler_t *s); /* NULL ok */

/* hp_sampler_add_prior adds a prior observation: trial `number` of the
 * earlier study named `study`, with objective `value` (as stored, finite)
 * at point x of spec->space and, when spec has constraints, the final
 * values cv of their metrics in spec order (NaN: never reported, which
 * makes it infeasible as for the study's own trials; cv NULL: not known,
 * counted as feasible). Add them all before the first suggestion,
 * on the thread that owns the sampler; their order is part of the
 * sampler's state, so add them in a fixed order (study by study, trials
 * by number) to keep suggestions deterministic. */
void hp_sampler_add_prior(hp_sampler_t *s, const char *study, uint64_t number, double value,
                          const double *x, const double *cv);
/* hp_sampler_move_prior hands from's prior observations to `to`, a sampler
 * of a spec with the same space (a study's respecified sampler); from keeps
 * none. */
void hp_sampler_move_prior(hp_sampler_t *to, hp_sampler_t *from);
/* hp_sampler_prior_study names the study prior observation i came from. */
const char *hp_sampler_prior_study(const hp_sampler_t *s, size_t i);

/* The algorithms, for the registry (sampler.c) and tests. */
extern const hp_sampler_vt_t hp_sampler_grid;
extern const hp_sampler_vt_t hp_sampler_random;
extern const hp_sampler_vt_t hp_sampler_sobol;
extern const hp_sampler_vt_t hp_sampler_c2f;   /* c2f.h: coarse-to-fine */
extern const hp_sampler_vt_t hp_sampler_bayes; /* bayes.c: GP-BO, expensive */

#endif
