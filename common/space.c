#include "space_int.h"

#include "err.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest integer magnitude a double holds exactly: int bounds, steps and
 * value counts stay within it so every int is exact and every value of a
 * discrete parameter owns at least one double in [0,1]. */
#define TWO53 9007199254740992.0
/* A log-scaled int near 2^46 owns less than a few doubles of [0,1]; 2^40
 * leaves every value ~100 doubles wide, enough for exp/log rounding. */
#define LOG_INT_MAX 1099511627776.0
/* A stepped float's (high - low) / step this close to an integer counts as
 * that integer: 0..1 by 0.1 must give 11 values, not 10. */
#define STEP_SLACK 1e-9

static char *dupstr(const char *s)
{
    char *p = strdup(s ? s : "");
    HP_ASSERT(p != NULL);
    return p;
}

/* fmtnum formats v for a message so that it reads back as the same double
 * (a user looking at "got 0.1" must not wonder whether it was 0.1000001). */
static const char *fmtnum(char buf[40], double v)
{
    if (isnan(v))
        return "nan";
    if (isinf(v))
        return v > 0 ? "inf" : "-inf";
    snprintf(buf, 40, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, 40, "%.17g", v);
    return buf;
}

/* ---- building ---------------------------------------------------------- */

void hp_space_init(hp_space_t *sp) { memset(sp, 0, sizeof *sp); }

static void param_free_values(hp_param_t *p)
{
    for (size_t i = 0; i < p->n_values; i++)
        free(p->values[i].text);
    free(p->values);
    p->values = NULL;
    p->n_values = 0;
}

void hp_space_fini(hp_space_t *sp)
{
    for (size_t i = 0; i < sp->n; i++) {
        param_free_values(&sp->params[i]);
        free(sp->params[i].when_values);
        free(sp->params[i].def.text);
    }
    free(sp->params);
    memset(sp, 0, sizeof *sp);
}

hp_param_t *hp_space_add(hp_space_t *sp, const char *name, hp_param_type_t type)
{
    if (!name || strlen(name) >= HP_PARAM_NAME_MAX || sp->n >= HP_SPACE_MAX_PARAMS)
        return NULL;
    /* at most 256 params: growing by one each time costs nothing */
    hp_param_t *ps = realloc(sp->params, (sp->n + 1) * sizeof *ps);
    HP_ASSERT(ps != NULL);
    sp->params = ps;
    hp_param_t *p = &ps[sp->n++];
    memset(p, 0, sizeof *p);
    strcpy(p->name, name);
    p->type = type;
    p->step = type == HP_PARAM_INT ? 1 : 0;
    return p;
}

void hp_param_add_value(hp_param_t *p, const char *text, int is_number, double num)
{
    size_t n = p->n_values;
    /* capacity is implicit: 4, then doubling, so it is never stored */
    if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
        size_t cap = n == 0 ? 4 : 2 * n;
        hp_choice_t *v = realloc(p->values, cap * sizeof *v);
        HP_ASSERT(v != NULL);
        p->values = v;
    }
    hp_choice_t *c = &p->values[n];
    if (text) {
        c->text = dupstr(text);
    } else if (is_number) {
        char buf[40];
        c->text = dupstr(fmtnum(buf, num));
    } else {
        c->text = dupstr("");
    }
    c->is_number = is_number ? 1 : 0;
    c->num = is_number ? num : 0;
    p->n_values = n + 1;
}

void hp_space_copy(hp_space_t *dst, const hp_space_t *src)
{
    hp_space_init(dst);
    if (src->n == 0)
        return;
    dst->params = malloc(src->n * sizeof *dst->params);
    HP_ASSERT(dst->params != NULL);
    dst->n = src->n;
    for (size_t i = 0; i < src->n; i++) {
        const hp_param_t *s = &src->params[i];
        hp_param_t *d = &dst->params[i];
        *d = *s;
        d->values = NULL;
        d->n_values = 0;
        for (size_t j = 0; j < s->n_values; j++)
            hp_param_add_value(d, s->values[j].text, s->values[j].is_number,
                               s->values[j].num);
        d->when_values = NULL;
        d->n_when_values = 0;
        for (size_t j = 0; j < s->n_when_values; j++)
            hp_space_when_add(d, s->when_parent, s->when_values[j]);
        d->has_when = s->has_when;
        if (s->has_default)
            d->def.text = dupstr(s->def.text);
    }
}

int hp_space_find(const hp_space_t *sp, const char *name)
{
    for (size_t i = 0; i < sp->n; i++)
        if (strcmp(sp->params[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* ---- discrete parameters: values and cells ----------------------------- */

static int is_integer(double v) { return isfinite(v) && v == floor(v); }

/* float_steps returns how many values a stepped float has: low + k*step
 * for k = 0..K with low + K*step <= high (up to STEP_SLACK). Assumes a
 * validated parameter; returns 1 for nonsense rather than misbehave. */
uint64_t space_float_steps(const hp_param_t *p)
{
    double q = (p->high - p->low) / p->step;
    if (!(q >= 0 && q < TWO53))
        return 1;
    double r = nearbyint(q);
    double k = fabs(q - r) <= STEP_SLACK * fmax(1.0, r) ? r : floor(q);
    return (uint64_t)k + 1;
}

/* int_steps: values low + k*step, k = 0..K, K = floor((high-low)/step):
 * when step does not divide the range, the last value is below high. */
uint64_t space_int_steps(const hp_param_t *p)
{
    if (!(fabs(p->low) <= TWO53 && fabs(p->high) <= TWO53 && p->low <= p->high &&
          p->step >= 1 && p->step <= TWO53))
        return 1;
    int64_t lo = (int64_t)p->low, hi = (int64_t)p->high;
    uint64_t s = (uint64_t)p->step;
    return (uint64_t)(hi - lo) / s + 1;
}

/* float_step_value is value k of a stepped float. low + k*step collects
 * binary noise (0 + 3*0.1 = 0.30000000000000004); rounding to 15 significant
 * digits gives back the decimal the user meant, and the exact high when the
 * step divides the range. */
double space_float_step_value(const hp_param_t *p, uint64_t k)
{
    if (k == 0)
        return p->low;
    double v = p->low + (double)k * p->step;
    if (fabs(v - p->high) <= STEP_SLACK * p->step)
        return p->high;
    char buf[40];
    snprintf(buf, sizeof buf, "%.15g", v);
    double c = strtod(buf, NULL);
    if (fabs(c - v) <= 1e-12 * p->step)
        v = c;
    return fmin(fmax(v, p->low), p->high);
}

double space_int_step_value(const hp_param_t *p, uint64_t k)
{
    int64_t lo = (int64_t)p->low;
    return (double)(lo + (int64_t)(k * (uint64_t)p->step));
}

/* cell_of returns floor(u * n) computed exactly (u's 53-bit mantissa times
 * n in 128 bits), so cell boundaries never depend on rounding; u outside
 * [0,1] is clamped and NaN counts as 0.5. */
static uint64_t cell_of(double u, uint64_t n)
{
    if (isnan(u))
        u = 0.5;
    if (!(u > 0))
        return 0;
    if (u >= 1)
        return n - 1;
    int e;
    double f = frexp(u, &e); /* u = f * 2^e, f in [0.5, 1), e <= 0 */
    uint64_t m = (uint64_t)ldexp(f, 53);
    unsigned shift = (unsigned)(53 - e);
    if (shift >= 128)
        return 0;
    uint64_t k = (uint64_t)(((unsigned __int128)m * n) >> shift);
    return k < n ? k : n - 1;
}

/* cell_center returns a u with cell_of(u, n) == k, as near the middle of
 * the cell as rounding allows. For n <= 2^53 every cell is at least one
 * double wide, so a few nudges always land inside. */
static double cell_center(uint64_t k, uint64_t n)
{
    double u = ((double)k + 0.5) / (double)n;
    for (int i = 0; i < 8; i++) {
        uint64_t c = cell_of(u, n);
        if (c == k)
            break;
        u = nextafter(u, c < k ? 1.0 : 0.0);
    }
    return u;
}

uint64_t hp_param_cardinality(const hp_param_t *p)
{
    switch (p->type) {
    case HP_PARAM_FLOAT:
        return p->step > 0 ? space_float_steps(p) : 0;
    case HP_PARAM_INT:
        return space_int_steps(p);
    case HP_PARAM_CATEGORICAL:
        return p->n_values;
    }
    return 0;
}

/* ---- unit cube --------------------------------------------------------- */

static double clamp01(double u)
{
    if (isnan(u))
        return 0.5;
    return u < 0 ? 0 : u > 1 ? 1 : u;
}

/* continuous float, and the log-int curve: interpolate in (log) space with
 * the endpoints pinned, so u = 0 and u = 1 give low and high exactly */
double space_float_from_unit(const hp_param_t *p, double u)
{
    u = clamp01(u);
    if (u == 0)
        return p->low;
    if (u == 1)
        return p->high;
    double x;
    if (p->log)
        x = exp(log(p->low) * (1 - u) + log(p->high) * u);
    else
        x = p->low * (1 - u) + p->high * u;
    return fmin(fmax(x, p->low), p->high);
}

static double float_to_unit(const hp_param_t *p, double x)
{
    if (isnan(x))
        return 0.5;
    x = fmin(fmax(x, p->low), p->high);
    double u;
    if (p->log) {
        double l = log(p->low);
        u = (log(x) - l) / (log(p->high) - l);
    } else {
        /* halves: high - low may overflow for bounds near DBL_MAX */
        u = (x * 0.5 - p->low * 0.5) / (p->high * 0.5 - p->low * 0.5);
    }
    return clamp01(u);
}

/* log int: every integer v owns [log(v - 0.5), log(v + 0.5)) of the log
 * range, so rounding exp(...) to the nearest integer is the inverse */
static double int_log_from_unit(const hp_param_t *p, double u)
{
    u = clamp01(u);
    double l = log(p->low - 0.5), h = log(p->high + 0.5);
    double v = nearbyint(exp(l * (1 - u) + h * u));
    return fmin(fmax(v, p->low), p->high);
}

static double int_log_to_unit(const hp_param_t *p, double x)
{
    if (isnan(x))
        return 0.5;
    x = fmin(fmax(nearbyint(x), p->low), p->high);
    double l = log(p->low - 0.5), h = log(p->high + 0.5);
    double u = clamp01((log(x) - l) / (h - l));
    /* log(x) sits well inside x's cell; the nudge only guards against
     * exp/log rounding at the top of the 2^40 range */
    for (int i = 0; i < 64; i++) {
        double y = int_log_from_unit(p, u);
        if (y == x)
            break;
        u = nextafter(u, y < x ? 1.0 : 0.0);
    }
    return u;
}

static double param_from_unit(const hp_param_t *p, double u)
{
    switch (p->type) {
    case HP_PARAM_FLOAT:
        if (p->step > 0)
            return space_float_step_value(p, cell_of(u, space_float_steps(p)));
        return space_float_from_unit(p, u);
    case HP_PARAM_INT:
        if (p->log)
            return int_log_from_unit(p, u);
        return space_int_step_value(p, cell_of(u, space_int_steps(p)));
    case HP_PARAM_CATEGORICAL:
        return p->n_values ? (double)cell_of(u, p->n_values) : 0;
    }
    return 0;
}

static double param_to_unit(const hp_param_t *p, double x)
{
    if (isnan(x))
        return 0.5;
    switch (p->type) {
    case HP_PARAM_FLOAT:
        if (p->step > 0) {
            uint64_t n = space_float_steps(p);
            double k = nearbyint((fmin(fmax(x, p->low), p->high) - p->low) / p->step);
            k = fmin(fmax(k, 0), (double)(n - 1));
            return cell_center((uint64_t)k, n);
        }
        return float_to_unit(p, x);
    case HP_PARAM_INT: {
        if (p->log)
            return int_log_to_unit(p, x);
        uint64_t n = space_int_steps(p);
        if (n == 1)
            return 0.5;
        int64_t lo = (int64_t)p->low;
        int64_t xi = (int64_t)nearbyint(fmin(fmax(x, p->low), p->high));
        uint64_t s = (uint64_t)p->step;
        uint64_t k = ((uint64_t)(xi - lo) + s / 2) / s;
        return cell_center(k < n ? k : n - 1, n);
    }
    case HP_PARAM_CATEGORICAL: {
        if (p->n_values == 0)
            return 0.5;
        double k = fmin(fmax(nearbyint(x), 0), (double)(p->n_values - 1));
        return cell_center((uint64_t)k, p->n_values);
    }
    }
    return 0.5;
}

void hp_space_to_unit(const hp_space_t *sp, const double *x, double *u)
{
    for (size_t i = 0; i < sp->n; i++)
        u[i] = param_to_unit(&sp->params[i], x[i]);
}

void hp_space_from_unit(const hp_space_t *sp, const double *u, double *x)
{
    for (size_t i = 0; i < sp->n; i++)
        x[i] = param_from_unit(&sp->params[i], u[i]);
}

/* on_float_step: x is one of the stepped float's values (within a hair, so
 * a value written back from JSON still counts) */
static int on_float_step(const hp_param_t *p, double x)
{
    uint64_t n = space_float_steps(p);
    double k = nearbyint((x - p->low) / p->step);
    if (!(k >= 0 && k < (double)n))
        return 0;
    return fabs(x - space_float_step_value(p, (uint64_t)k)) <= STEP_SLACK * p->step;
}

static int on_int_step(const hp_param_t *p, double x)
{
    int64_t d = (int64_t)x - (int64_t)p->low;
    return d >= 0 && (uint64_t)d % (uint64_t)p->step == 0 &&
           (uint64_t)d / (uint64_t)p->step < space_int_steps(p);
}

static int param_contains(const hp_param_t *p, double x)
{
    switch (p->type) {
    case HP_PARAM_FLOAT:
        if (!(isfinite(x) && x >= p->low && x <= p->high))
            return 0;
        return p->step > 0 ? on_float_step(p, x) : 1;
    case HP_PARAM_INT:
        return is_integer(x) && x >= p->low && x <= p->high && on_int_step(p, x);
    case HP_PARAM_CATEGORICAL:
        return is_integer(x) && x >= 0 && x < (double)p->n_values;
    }
    return 0;
}

int hp_space_contains(const hp_space_t *sp, const double *x)
{
    for (size_t i = 0; i < sp->n; i++) {
        int active = !sp->params[i].has_when || hp_space_param_active(sp, x, i);
        if (active ? !param_contains(&sp->params[i], x[i]) : !isnan(x[i]))
            return 0;
    }
    return 1;
}

/* ---- validation -------------------------------------------------------- */

/* The checks read as a list of rules; each problem gets its own line so a
 * user fixes them all in one pass. BAD(field, fmt, ...) reports on
 * "space.<p->name>.<field>" and counts into `bad`: it expects p, diag and
 * bad in scope, which keeps every rule on one or two lines. */

#define BAD(field, ...)                                                      \
    do {                                                                     \
        char path_[HP_PARAM_NAME_MAX + 48];                                  \
        snprintf(path_, sizeof path_, "space.%s.%s", p->name, field);        \
        if (diag)                                                            \
            hp_diag_add(diag, "", 0, path_, __VA_ARGS__);                    \
        bad++;                                                               \
    } while (0)

/* check_bound: a finite number (an int within ±2^53) */
static int check_bound(const hp_param_t *p, const char *field, double v, hp_diag_t *diag)
{
    int bad = 0;
    char b[40];
    if (!isfinite(v))
        BAD(field, "must be a finite number (got %s)", fmtnum(b, v));
    else if (p->type == HP_PARAM_INT && v != floor(v))
        BAD(field, "must be an integer for an int parameter (got %s)", fmtnum(b, v));
    else if (p->type == HP_PARAM_INT && fabs(v) > TWO53)
        BAD(field, "must be within +-2^53 = 9007199254740992 for an int parameter (got %s)",
            fmtnum(b, v));
    return bad;
}

static int check_range(const hp_param_t *p, hp_diag_t *diag)
{
    int bad = check_bound(p, "low", p->low, diag);
    bad += check_bound(p, "high", p->high, diag);
    if (bad)
        return bad;
    char b1[40], b2[40];
    if (p->low == p->high)
        BAD("low", "must be < high (got low = high = %s); a constant belongs in "
                   "trial.fixed", fmtnum(b1, p->low));
    else if (p->low > p->high)
        BAD("low", "must be < high (got low %s, high %s)", fmtnum(b1, p->low),
            fmtnum(b2, p->high));
    else if (p->log && p->low <= 0)
        BAD("low", "must be > 0 for a log-scaled parameter (got %s)", fmtnum(b1, p->low));
    else if (p->log && p->type == HP_PARAM_INT && p->high > LOG_INT_MAX)
        BAD("high", "must be <= 2^40 = 1099511627776 for a log-scaled int (got %s)",
            fmtnum(b1, p->high));
    return bad;
}

static int check_step(const hp_param_t *p, int range_ok, hp_diag_t *diag)
{
    int bad = 0;
    char b1[40], b2[40];
    double s = p->step;
    if (p->type == HP_PARAM_INT) {
        if (!is_integer(s) || s < 1 || s > TWO53)
            BAD("step", "must be a positive integer for an int parameter (got %s)",
                fmtnum(b1, s));
        else if (p->log && s != 1)
            BAD("step", "must be 1 for a log-scaled int (got %s)", fmtnum(b1, s));
        else if (range_ok && s > p->high - p->low)
            BAD("step", "must be <= high - low = %s (got %s): only low would be reachable",
                fmtnum(b1, p->high - p->low), fmtnum(b2, s));
        else if (range_ok && space_int_steps(p) > (uint64_t)TWO53)
            BAD("high", "the range [low, high] holds more than 2^53 values (got %s..%s)",
                fmtnum(b1, p->low), fmtnum(b2, p->high));
        return bad;
    }
    if (s == 0)
        return 0;
    if (!isfinite(s) || s < 0)
        BAD("step", "must be a finite number >= 0 (0 = continuous) (got %s)", fmtnum(b1, s));
    else if (p->log)
        BAD("step", "a log-scaled float cannot have a step (got %s): drop log, or use an "
                    "int or explicit values", fmtnum(b1, s));
    else if (range_ok && s > p->high - p->low)
        BAD("step", "must be <= high - low = %s (got %s): only low would be reachable",
            fmtnum(b1, p->high - p->low), fmtnum(b2, s));
    else if (range_ok && !((p->high - p->low) / s < TWO53))
        BAD("step", "is too small: [low, high] holds more than 2^53 steps (got %s)",
            fmtnum(b1, s));
    return bad;
}

static int same_choice(const hp_choice_t *a, const hp_choice_t *b)
{
    if (a->is_number != b->is_number)
        return 0;
    return a->is_number ? a->num == b->num : strcmp(a->text, b->text) == 0;
}

/* check_values: categorical choices, or a float/int's explicit grid values */
static int check_values(const hp_param_t *p, int numeric_ok, hp_diag_t *diag)
{
    int bad = 0;
    char b1[40], b2[40], b3[40], f[40];
    for (size_t i = 0; i < p->n_values; i++) {
        const hp_choice_t *c = &p->values[i];
        snprintf(f, sizeof f, "values[%zu]", i);
        if (p->type != HP_PARAM_CATEGORICAL) {
            if (!c->is_number) {
                BAD(f, "must be a number for a%s parameter (got \"%s\")",
                    p->type == HP_PARAM_INT ? "n int" : " float", c->text);
                continue;
            }
            if (!isfinite(c->num)) {
                BAD(f, "must be a finite number (got %s)", fmtnum(b1, c->num));
                continue;
            }
            if (p->type == HP_PARAM_INT && c->num != floor(c->num)) {
                BAD(f, "must be an integer for an int parameter (got %s)", fmtnum(b1, c->num));
                continue;
            }
            if (numeric_ok && (c->num < p->low || c->num > p->high)) {
                BAD(f, "must be within [low, high] = [%s, %s] (got %s)", fmtnum(b1, p->low),
                    fmtnum(b2, p->high), fmtnum(b3, c->num));
                continue;
            }
            if (numeric_ok && p->type == HP_PARAM_INT && !on_int_step(p, c->num)) {
                BAD(f, "must be low + a multiple of step (low %s, step %s) (got %s)",
                    fmtnum(b1, p->low), fmtnum(b2, p->step), fmtnum(b3, c->num));
                continue;
            }
            if (numeric_ok && p->type == HP_PARAM_FLOAT && p->step > 0 &&
                !on_float_step(p, c->num)) {
                BAD(f, "must be low + a multiple of step (low %s, step %s) (got %s)",
                    fmtnum(b1, p->low), fmtnum(b2, p->step), fmtnum(b3, c->num));
                continue;
            }
        } else if (c->is_number && !isfinite(c->num)) {
            BAD(f, "must be a finite number (got %s)", fmtnum(b1, c->num));
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            if (same_choice(c, &p->values[j])) {
                if (c->is_number)
                    BAD(f, "duplicate value %s (same as values[%zu])", fmtnum(b1, c->num), j);
                else
                    BAD(f, "duplicate choice \"%s\" (same as values[%zu])", c->text, j);
                break;
            }
        }
    }
    return bad;
}

static int check_param(const hp_param_t *p, hp_diag_t *diag)
{
    int bad = 0;
    char b1[40];
    switch (p->type) {
    case HP_PARAM_FLOAT:
    case HP_PARAM_INT: {
        int rbad = check_range(p, diag);
        bad += rbad;
        int sbad = check_step(p, rbad == 0, diag);
        bad += sbad;
        if (p->grid_points && p->type == HP_PARAM_INT)
            BAD("grid_points", "applies only to continuous floats; an int's grid is every "
                               "step (or give values)");
        else if (p->grid_points && p->step > 0)
            BAD("grid_points", "does not apply to a stepped float, whose grid is every step "
                               "(got grid_points %" PRIu32 " and step %s)",
                p->grid_points, fmtnum(b1, p->step));
        else if (p->grid_points == 1)
            BAD("grid_points", "must be >= 2 so the grid holds low and high (got 1)");
        else if (p->grid_points && p->n_values)
            BAD("grid_points", "conflicts with values: give one of them");
        bad += check_values(p, rbad == 0 && sbad == 0, diag);
        break;
    }
    case HP_PARAM_CATEGORICAL:
        if (p->n_values == 0)
            BAD("values", "must list at least one choice");
        if (p->log)
            BAD("log", "does not apply to a categorical parameter");
        if (p->step != 0)
            BAD("step", "does not apply to a categorical parameter (got %s)",
                fmtnum(b1, p->step));
        if (p->grid_points)
            BAD("grid_points", "does not apply to a categorical parameter: its grid is "
                               "every choice");
        bad += check_values(p, 0, diag);
        break;
    default:
        BAD("type", "unknown parameter type %d", (int)p->type);
    }
    return bad;
}

#undef BAD

int hp_space_validate(const hp_space_t *sp, hp_diag_t *diag)
{
    int bad = 0;
    for (size_t i = 0; i < sp->n; i++) {
        const hp_param_t *p = &sp->params[i];
        if (p->name[0] == '\0') {
            if (diag)
                hp_diag_add(diag, "", 0, "space", "parameter #%zu has an empty name", i + 1);
            bad++;
            continue;
        }
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++) {
            if (strcmp(sp->params[j].name, p->name) == 0) {
                char path[HP_PARAM_NAME_MAX + 8];
                snprintf(path, sizeof path, "space.%s", p->name);
                if (diag)
                    hp_diag_add(diag, "", 0, path, "duplicate parameter name (parameters "
                                "#%zu and #%zu)", j + 1, i + 1);
                dup = 1;
            }
        }
        bad += dup;
        bad += check_param(p, diag);
    }
    bad += space_check_when(sp, diag);
    return bad ? HP_EINVAL : 0;
}

/* ---- output ------------------------------------------------------------ */

static size_t cat_index(const hp_param_t *p, double v)
{
    if (!(v > 0))
        return 0;
    if (v >= (double)(p->n_values - 1))
        return p->n_values - 1;
    return (size_t)nearbyint(v);
}

/* ints are printed with %.0f: hp_buf_json_number switches to exponent form
 * above 1e15, and an int must stay an integer; + 0.0 turns -0 into 0 */
static void put_int(hp_buf_t *out, double v) { hp_buf_printf(out, "%.0f", v + 0.0); }

void hp_space_point_json(const hp_space_t *sp, const double *x, hp_buf_t *out)
{
    hp_buf_putc(out, '{');
    int first = 1;
    for (size_t i = 0; i < sp->n; i++) {
        const hp_param_t *p = &sp->params[i];
        if (p->has_when && isnan(x[i]))
            continue; /* inactive */
        if (!first)
            hp_buf_putc(out, ',');
        first = 0;
        hp_buf_json_string(out, p->name);
        hp_buf_putc(out, ':');
        switch (p->type) {
        case HP_PARAM_INT:
            if (isfinite(x[i]))
                put_int(out, x[i]);
            else
                hp_buf_puts(out, "null");
            break;
        case HP_PARAM_CATEGORICAL:
            if (p->n_values == 0) {
                hp_buf_puts(out, "null");
            } else {
                const hp_choice_t *c = &p->values[cat_index(p, x[i])];
                if (c->is_number)
                    hp_buf_json_number(out, c->num);
                else
                    hp_buf_json_string(out, c->text);
            }
            break;
        default:
            hp_buf_json_number(out, x[i]);
        }
    }
    hp_buf_putc(out, '}');
}

void hp_space_format_value(const hp_param_t *p, double v, hp_buf_t *out)
{
    char b[40];
    switch (p->type) {
    case HP_PARAM_INT:
        if (isfinite(v))
            put_int(out, v);
        else
            hp_buf_puts(out, fmtnum(b, v));
        break;
    case HP_PARAM_CATEGORICAL:
        if (p->n_values)
            hp_buf_puts(out, p->values[cat_index(p, v)].text);
        break;
    default:
        if (isfinite(v))
            hp_buf_json_number(out, v);
        else
            hp_buf_puts(out, fmtnum(b, v));
    }
}
