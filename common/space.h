/*
 * space.h — search spaces: the parameters a study tunes, their mapping to
 * and from the unit cube, and grid enumeration.
 *
 * A point in a space is an array of doubles, one per parameter, in the
 * space's order:
 *   float        the value itself
 *   int          the integer value (exactly representable, |v| < 2^53)
 *   categorical  the index of the chosen value in `values`
 *
 * The unit cube [0,1]^d is what samplers work in. Log-scaled parameters are
 * mapped in log space; ints are widened by half a step on each side before
 * mapping and rounded back to the step grid, so every integer gets an equal
 * share of [0,1]; categorical index i of k owns [i/k, (i+1)/k).
 *
 *     hp_space_t sp;
 *     hp_space_init(&sp);
 *     hp_param_t *lr = hp_space_add(&sp, "lr", HP_PARAM_FLOAT);
 *     lr->low = 1e-5; lr->high = 1e-1; lr->log = 1;
 *     ...
 *     if (hp_space_validate(&sp, &diag) < 0) ...
 *     double u[2] = {0.5, 0.1}, x[2];
 *     hp_space_from_unit(&sp, u, x);
 *     hp_buf_t json = {0};
 *     hp_space_point_json(&sp, x, &json);   // {"lr":0.000316...,"hidden":64}
 *     hp_space_fini(&sp);
 *
 * Spaces are built once (by the spec parser) and then read-only: any number
 * of threads may map points concurrently. Mapping, grid and output
 * functions assume a space that passed hp_space_validate.
 *
 * Semantics worth knowing:
 *  - int step: the values are low, low+step, ... up to the last one <= high;
 *    a step that does not divide high - low is accepted and the last
 *    reachable value stands in for high (Optuna does the same). A float may
 *    have a step too (linear only): then it is discrete like an int, its
 *    values rounded to 15 significant digits (0 + 3*0.1 gives 0.3).
 *  - u outside [0,1] is clamped and NaN counts as 0.5 (the middle), so
 *    hp_space_from_unit always returns a valid point. u = 1 gives high (the
 *    last int step, the last category).
 *  - Round trips are exact for discrete values: from_unit(to_unit(x)) == x
 *    for every valid int, stepped float and category (to_unit gives the
 *    middle of the value's cell), and within 1e-12 of the range for
 *    continuous floats. to_unit(from_unit(u)) lands in u's cell.
 *  - Limits: int bounds and steps within +-2^53, at most 2^53 values per
 *    parameter, and a log-scaled int's high <= 2^40 (above that some
 *    integers own no double in [0,1]).
 */
#ifndef HP_SPACE_H
#define HP_SPACE_H

#include "buf.h"
#include "diag.h"

#include <stddef.h>
#include <stdint.h>

#define HP_PARAM_NAME_MAX 64 /* including the NUL */
#define HP_SPACE_MAX_PARAMS 256

typedef enum hp_param_type {
    HP_PARAM_FLOAT = 0,
    HP_PARAM_INT = 1,
    HP_PARAM_CATEGORICAL = 2,
} hp_param_type_t;

/* A categorical choice (or an explicit grid value): its text as written in
 * the spec, and whether it is a number (then `num` holds it). */
typedef struct hp_choice {
    char *text;
    int is_number;
    double num;
} hp_choice_t;

typedef struct hp_param {
    char name[HP_PARAM_NAME_MAX];
    hp_param_type_t type;
    double low, high;      /* float/int: inclusive bounds */
    int log;               /* float/int: map in log space (low > 0) */
    double step;           /* int: step >= 1 (default 1); float: 0 = continuous */
    uint32_t grid_points;  /* float: points for grid search (0 = unset) */
    hp_choice_t *values;   /* categorical: the choices; float/int: optional
                              explicit grid values */
    size_t n_values;
    /* conditional (`when:`): the parameter is active only while the
     * categorical parameter number when_parent takes one of the choices
     * when_values (indices into its values), and that parent is active
     * itself; has_when 0: always active */
    int has_when;
    size_t when_parent;
    size_t *when_values;
    size_t n_when_values;
    /* `default:` of a conditional parameter: the text that fills its
     * {name} placeholders while it is inactive */
    int has_default;
    hp_choice_t def;
} hp_param_t;

typedef struct hp_space {
    hp_param_t *params;
    size_t n;
} hp_space_t;

void hp_space_init(hp_space_t *sp);
void hp_space_fini(hp_space_t *sp); /* safe on zeroed memory */
/* hp_space_add appends a parameter with defaults (step 1 for int, else 0)
 * and returns it; the pointer is valid until the next add. Returns NULL if
 * the name is too long or there are already HP_SPACE_MAX_PARAMS. */
hp_param_t *hp_space_add(hp_space_t *sp, const char *name, hp_param_type_t type);
/* hp_param_add_value appends a choice (text copied) to p->values. text may
 * be NULL for a number (then it is formatted from num). */
void hp_param_add_value(hp_param_t *p, const char *text, int is_number, double num);
/* hp_space_copy deep-copies src into dst (dst uninitialised). */
void hp_space_copy(hp_space_t *dst, const hp_space_t *src);
/* hp_space_find returns the index of the parameter called name, or -1. */
int hp_space_find(const hp_space_t *sp, const char *name);

/* hp_space_validate checks every parameter (low < high, log needs low > 0,
 * steps that fit, non-empty categorical lists, unique names and choices...)
 * and adds one diagnostic per problem with path "space.NAME.FIELD" (file and
 * line left empty: the spec parser adds its own with positions). Returns 0 or
 * HP_EINVAL. diag may be NULL. Paths used: space.NAME.{low,high,step,
 * grid_points,log,type,values}, space.NAME.values[I] for one bad choice or
 * grid value (0-based I), space.NAME for a duplicate name (reported on the
 * second one), "space" for an empty name. low >= high is reported on low. */
int hp_space_validate(const hp_space_t *sp, hp_diag_t *diag);

/* Conditional parameters. In a point, an inactive parameter's coordinate
 * is NaN; hp_space_contains requires exactly that, hp_space_point_json
 * leaves it out, and the grid enumerates each distinct configuration once
 * (inactive parameters do not multiply it).
 *
 * hp_space_when_add appends choice index v to p's condition on parameter
 * number parent (setting has_when). */
void hp_space_when_add(hp_param_t *p, size_t parent, size_t v);
/* hp_space_is_conditional: whether any parameter has a condition. */
int hp_space_is_conditional(const hp_space_t *sp);
/* hp_space_param_active reports whether parameter i is active at x: its
 * condition holds (the parent's coordinate is one of its choices) and the
 * parent is active, up the chain. Only categorical coordinates are read,
 * so x may be a sampler's encoding in which they are choice indices. */
int hp_space_param_active(const hp_space_t *sp, const double *x, size_t i);
/* hp_space_deactivate sets the coordinate of every inactive parameter of
 * x to NaN: what a sampler does to the point it drew. */
void hp_space_deactivate(const hp_space_t *sp, double *x);

/* hp_space_to_unit maps point x to u in [0,1]^n. */
void hp_space_to_unit(const hp_space_t *sp, const double *x, double *u);
/* hp_space_from_unit maps u (values outside [0,1] are clamped) to a valid
 * point x: ints rounded to their step grid, categoricals to an index. */
void hp_space_from_unit(const hp_space_t *sp, const double *u, double *x);
/* hp_space_contains reports whether x is a valid point of the space: every
 * active coordinate valid, every inactive one NaN. */
int hp_space_contains(const hp_space_t *sp, const double *x);

/* hp_space_grid_size sets *size to the number of grid points (product of
 * per-parameter counts; with conditional parameters, the number of distinct
 * configurations of the tree). Fails with a diagnostic when a float has neither
 * `values` nor `grid_points`, or HP_ERANGE when the product overflows
 * uint64. diag may be NULL.
 * Per parameter: explicit `values` in the order given if any; else a
 * continuous float's grid_points evenly spaced in its (log) space with low
 * and high exactly; an int's or stepped float's every step; a categorical's
 * every choice. */
int hp_space_grid_size(const hp_space_t *sp, uint64_t *size, hp_diag_t *diag);
/* hp_space_grid_point writes grid point number idx (0 <= idx < size) to x.
 * The order is stable: the last parameter varies fastest (with conditional
 * parameters: a categorical's choices in order, each followed by every
 * configuration of the parameters active under it). Returns 0,
 * HP_ERANGE for idx >= size, HP_EINVAL when the space has no grid. */
int hp_space_grid_point(const hp_space_t *sp, uint64_t idx, double *x);

/* hp_param_cardinality returns how many values a discrete parameter takes
 * (int, stepped float, categorical), or 0 for a continuous float. Samplers
 * use it to tell discrete dimensions from continuous ones. */
uint64_t hp_param_cardinality(const hp_param_t *p);

/* hp_space_point_json appends x as a JSON object {"name": value, ...}:
 * floats as numbers, ints as integers, categoricals as their value (a
 * number if it is one, else a string). No spaces: {"lr":0.01,"opt":"adam"}.
 * Inactive parameters (NaN coordinates of conditional ones) are left out.
 * A non-finite float or int becomes null; a categorical index out of range
 * is clamped. */
void hp_space_point_json(const hp_space_t *sp, const double *x, hp_buf_t *out);
/* hp_space_format_value appends one parameter's value as text (for argv
 * placeholders and environment variables: numbers without quotes). Floats
 * in shortest round-trip form, ints as integers, categoricals as the
 * choice's text as written in the spec (strings unquoted). */
void hp_space_format_value(const hp_param_t *p, double v, hp_buf_t *out);

#endif
