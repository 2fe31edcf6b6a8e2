/*
 * params.h — a trial's parameters as the store keeps them (a flat JSON
 * object, e.g. {"lr":0.001,"hidden":256,"act":"relu"}) and back to a point
 * of the search space.
 *
 *     double x[HP_SPACE_MAX_PARAMS];
 *     if (hp_params_to_point(&spec->space, trial->params, x, err, sizeof err) < 0) ...
 *
 * hp_space_point_json writes the JSON; this reads it. Used when the
 * coordinator re-dispatches a re-queued trial and when samplers rebuild
 * their history after a restart.
 */
#ifndef HP_PARAMS_H
#define HP_PARAMS_H

#include "buf.h"
#include "space.h"
#include "spec.h"

#include <stddef.h>

/* hp_params_to_point reads every parameter of sp from json into x. Keys
 * not in the space are ignored (fixed values may be merged in). Fails with
 * HP_EINVAL naming the parameter when one is missing, has the wrong type,
 * or lies outside the space. */
int hp_params_to_point(const hp_space_t *sp, const char *json, double *x, char *err,
                       size_t errlen);

/* hp_params_json_with_fixed appends x as a JSON object followed by the
 * spec's fixed values: the full parameter set a trial runs with. */
void hp_params_json_with_fixed(const hp_spec_t *spec, const double *x, hp_buf_t *out);

/* hp_params_from_assignments reads a chosen point of spec's space from n
 * name = value texts (hpsearch enqueue --set name=value): every parameter
 * of the space exactly once; floats and ints as numbers within the range
 * (and on the step grid, if stepped; ints whole), categoricals as one of
 * their values as written in the spec (a numeric choice also by value).
 * Fails with HP_EINVAL and one sentence naming the parameter: an unknown
 * name (with did-you-mean, or "held fixed by trial.fixed"), one given
 * twice, a value that is not a number or lies outside the range ("lr: 0.5
 * is outside its range [1e-05, 0.1] (log scale)"), a choice that is not
 * one (with did-you-mean), or the names left out. Pure; any thread. */
int hp_params_from_assignments(const hp_spec_t *spec, const char *const *names,
                               const char *const *values, size_t n, double *x, char *err,
                               size_t errlen);

#endif
