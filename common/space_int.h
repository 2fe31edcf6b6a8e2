/*
 * space_int.h — private to the space module:
 *   space.c       parameters, the unit cube, validation, JSON
 *   space_cond.c  conditional parameters: activity and their validation
 *   space_grid.c  the grid, plain or of a conditional space (a tree)
 */
#ifndef HP_SPACE_INT_H
#define HP_SPACE_INT_H

#include "space.h"

#include <stdint.h>

/* The values of a discrete parameter (space.c): how many a stepped float
 * or an int has, value k of each, and a continuous float's value at unit
 * coordinate u. */
uint64_t space_float_steps(const hp_param_t *p);
uint64_t space_int_steps(const hp_param_t *p);
double space_float_step_value(const hp_param_t *p, uint64_t k);
double space_int_step_value(const hp_param_t *p, uint64_t k);
double space_float_from_unit(const hp_param_t *p, double u);

/* space_when_holds: whether p's condition holds for its parent's
 * coordinate v (space_cond.c). */
int space_when_holds(const hp_param_t *p, double v);

/* space_check_when checks every condition (parent in range, categorical,
 * choices in range, no cycle) with one diagnostic each at
 * "space.NAME.when"; returns how many problems. diag may be NULL. */
int space_check_when(const hp_space_t *sp, hp_diag_t *diag);

#endif
