/* Tests for common/space: building, unit-cube mapping and round trips,
 * grid enumeration, validation diagnostics and JSON/text output. */
#include "buf.h"
#include "diag.h"
#include "err.h"
#include "rng.h"
#include "space.h"

#include "hp_check.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TWO52 4503599627370496.0
#define TWO53 9007199254740992.0

static hp_param_t *add_float(hp_space_t *sp, const char *name, double lo, double hi, int log)
{
    hp_param_t *p = hp_space_add(sp, name, HP_PARAM_FLOAT);
    ck_assert_ptr_nonnull(p);
    p->low = lo;
    p->high = hi;
    p->log = log;
    return p;
}

static hp_param_t *add_int(hp_space_t *sp, const char *name, double lo, double hi, double step,
                           int log)
{
    hp_param_t *p = hp_space_add(sp, name, HP_PARAM_INT);
    ck_assert_ptr_nonnull(p);
    p->low = lo;
    p->high = hi;
    p->step = step;
    p->log = log;
    return p;
}

static hp_param_t *add_cat(hp_space_t *sp, const char *name, int k)
{
    static const char *names[] = {"adam", "sgd", "rmsprop", "adagrad", "lion"};
    hp_param_t *p = hp_space_add(sp, name, HP_PARAM_CATEGORICAL);
    ck_assert_ptr_nonnull(p);
    for (int i = 0; i < k; i++)
        hp_param_add_value(p, names[i], 0, 0);
    return p;
}

static void assert_valid(const hp_space_t *sp)
{
    hp_diag_t d = {0};
    int rc = hp_space_validate(sp, &d);
    ck_assert_msg(rc == 0, "valid space refused: %s", d.n ? d.items[0].text : "(no diag)");
    ck_assert_uint_eq(d.n, 0);
    hp_diag_fini(&d);
}

/* one of every kind: the space most tests run over */
static void mixed_space(hp_space_t *sp)
{
    hp_space_init(sp);
    add_float(sp, "lin", -3, 5, 0);
    add_float(sp, "lr", 1e-6, 1e-1, 1);
    hp_param_t *st = add_float(sp, "drop", 0, 0.5, 0);
    st->step = 0.05;
    add_int(sp, "units", 16, 512, 1, 0);
    add_int(sp, "stride", 0, 10, 3, 0); /* 0 3 6 9: 10 unreachable */
    add_int(sp, "batch", 1, 1024, 1, 1);
    add_int(sp, "neg", -7, -2, 1, 0);
    add_cat(sp, "opt", 3);
    add_cat(sp, "one", 1);
    assert_valid(sp);
}

/* cardinality of discrete params, 0 for continuous floats */
static uint64_t card(const hp_space_t *sp, size_t i) { return hp_param_cardinality(&sp->params[i]); }

/* ---- building ---------------------------------------------------------- */

START_TEST(test_build_find_copy)
{
    hp_space_t sp;
    hp_space_init(&sp);
    char longname[HP_PARAM_NAME_MAX + 1];
    memset(longname, 'a', sizeof longname - 1);
    longname[HP_PARAM_NAME_MAX] = '\0';
    ck_assert_ptr_null(hp_space_add(&sp, longname, HP_PARAM_FLOAT));
    longname[HP_PARAM_NAME_MAX - 1] = '\0'; /* 63 chars fit */
    ck_assert_ptr_nonnull(hp_space_add(&sp, longname, HP_PARAM_FLOAT));
    hp_param_t *n = hp_space_add(&sp, "n", HP_PARAM_INT);
    ck_assert_double_eq(n->step, 1);
    hp_param_t *c = hp_space_add(&sp, "c", HP_PARAM_CATEGORICAL);
    ck_assert_double_eq(c->step, 0);
    for (int i = 0; i < 9; i++)
        hp_param_add_value(c, i == 3 ? NULL : "x", i == 3, 2.5);
    ck_assert_uint_eq(c->n_values, 9);
    ck_assert_str_eq(c->values[3].text, "2.5");
    ck_assert_int_eq(c->values[3].is_number, 1);
    ck_assert_int_eq(hp_space_find(&sp, "n"), 1);
    ck_assert_int_eq(hp_space_find(&sp, "c"), 2);
    ck_assert_int_eq(hp_space_find(&sp, "zz"), -1);

    hp_space_t cp;
    hp_space_copy(&cp, &sp);
    ck_assert_uint_eq(cp.n, 3);
    ck_assert_ptr_ne(cp.params[2].values, sp.params[2].values);
    ck_assert_ptr_ne(cp.params[2].values[0].text, sp.params[2].values[0].text);
    cp.params[2].values[0].text[0] = 'y';
    ck_assert_str_eq(sp.params[2].values[0].text, "x");
    ck_assert_str_eq(cp.params[1].name, "n");
    hp_space_fini(&cp);
    hp_space_fini(&sp);
    hp_space_fini(&sp); /* safe twice / on zeroed memory */

    hp_space_t empty, ecp;
    hp_space_init(&empty);
    hp_space_copy(&ecp, &empty);
    ck_assert_uint_eq(ecp.n, 0);
    hp_space_fini(&ecp);

    hp_space_init(&sp);
    char name[16];
    for (int i = 0; i < HP_SPACE_MAX_PARAMS; i++) {
        snprintf(name, sizeof name, "p%d", i);
        ck_assert_ptr_nonnull(hp_space_add(&sp, name, HP_PARAM_INT));
    }
    ck_assert_ptr_null(hp_space_add(&sp, "one_too_many", HP_PARAM_INT));
    ck_assert_int_eq(hp_space_find(&sp, "p255"), 255);
    hp_space_fini(&sp);
}
END_TEST

START_TEST(test_cardinality)
{
    hp_space_t sp;
    mixed_space(&sp);
    ck_assert_uint_eq(card(&sp, 0), 0);
    ck_assert_uint_eq(card(&sp, 1), 0);
    ck_assert_uint_eq(card(&sp, 2), 11);
    ck_assert_uint_eq(card(&sp, 3), 497);
    ck_assert_uint_eq(card(&sp, 4), 4);
    ck_assert_uint_eq(card(&sp, 5), 1024);
    ck_assert_uint_eq(card(&sp, 6), 6);
    ck_assert_uint_eq(card(&sp, 7), 3);
    ck_assert_uint_eq(card(&sp, 8), 1);
    hp_space_fini(&sp);
}
END_TEST

/* ---- unit cube --------------------------------------------------------- */

/* a random valid value of parameter p, uniform over its values (log-
 * uniform for log floats) */
static double random_value(const hp_param_t *p, hp_rng_t *r)
{
    switch (p->type) {
    case HP_PARAM_FLOAT:
        if (p->step > 0)
            return -1; /* filled in by the caller through from_unit */
        if (p->log)
            return exp(log(p->low) + hp_rng_uniform(r) * (log(p->high) - log(p->low)));
        return p->low + hp_rng_uniform(r) * (p->high - p->low);
    case HP_PARAM_INT: {
        uint64_t n = hp_param_cardinality(p);
        return p->low + (double)hp_rng_below(r, n) * p->step;
    }
    case HP_PARAM_CATEGORICAL:
        return (double)hp_rng_below(r, p->n_values);
    }
    return 0;
}

static double cont_tol(const hp_param_t *p, double x)
{
    if (p->log)
        return 1e-12 * fabs(x);
    return 1e-12 * fmax(fabs(x), fmax(fabs(p->low), fabs(p->high)));
}

/* from_unit(to_unit(x)) == x: exactly for discrete values, within 1e-12
 * (relative to the range, or to x for log) for continuous floats */
static void check_x_roundtrip(const hp_space_t *sp, const double *x)
{
    double u[HP_SPACE_MAX_PARAMS], y[HP_SPACE_MAX_PARAMS];
    ck_assert(hp_space_contains(sp, x));
    hp_space_to_unit(sp, x, u);
    hp_space_from_unit(sp, u, y);
    for (size_t i = 0; i < sp->n; i++) {
        const hp_param_t *p = &sp->params[i];
        ck_assert_msg(u[i] >= 0 && u[i] <= 1, "%s: u %.17g", p->name, u[i]);
        if (hp_param_cardinality(p))
            ck_assert_msg(y[i] == x[i], "%s: %.17g -> %.17g -> %.17g", p->name, x[i], u[i],
                          y[i]);
        else
            ck_assert_msg(fabs(y[i] - x[i]) <= cont_tol(p, x[i]), "%s: %.17g -> %.17g",
                          p->name, x[i], y[i]);
    }
    ck_assert(hp_space_contains(sp, y));
}

/* to_unit(from_unit(u)) stays in u's cell: mapping back gives the same
 * value; for continuous floats u comes back within rounding */
static void check_u_roundtrip(const hp_space_t *sp, const double *u)
{
    double x[HP_SPACE_MAX_PARAMS], u2[HP_SPACE_MAX_PARAMS], x2[HP_SPACE_MAX_PARAMS];
    hp_space_from_unit(sp, u, x);
    ck_assert(hp_space_contains(sp, x));
    hp_space_to_unit(sp, x, u2);
    hp_space_from_unit(sp, u2, x2);
    for (size_t i = 0; i < sp->n; i++) {
        const hp_param_t *p = &sp->params[i];
        uint64_t n = hp_param_cardinality(p);
        ck_assert_msg(x2[i] == x[i] || (!n && fabs(x2[i] - x[i]) <= cont_tol(p, x[i])),
                      "%s: u %.17g -> %.17g -> %.17g -> %.17g", p->name, u[i], x[i], u2[i],
                      x2[i]);
        if (!n) {
            double uc = fmin(fmax(isnan(u[i]) ? 0.5 : u[i], 0), 1);
            ck_assert_msg(fabs(u2[i] - uc) <= 1e-9, "%s: u %.17g -> %.17g", p->name, u[i],
                          u2[i]);
        } else if (p->type != HP_PARAM_INT || !p->log) {
            /* equal-width cells: the same cell index */
            double uc = isnan(u[i]) ? 0.5 : fmin(fmax(u[i], 0), 1);
            uint64_t c1 = (uint64_t)floor(uc * (double)n), c2 = (uint64_t)floor(u2[i] * (double)n);
            ck_assert_uint_eq(c1 < n ? c1 : n - 1, c2 < n ? c2 : n - 1);
        }
    }
}

START_TEST(test_roundtrip_random_u)
{
    hp_space_t sp;
    mixed_space(&sp);
    hp_rng_t r;
    hp_rng_init(&r, 7, 1);
    double u[16];
    for (int t = 0; t < 20000; t++) {
        for (size_t i = 0; i < sp.n; i++)
            u[i] = hp_rng_uniform(&r);
        check_u_roundtrip(&sp, u);
    }
    hp_space_fini(&sp);
}
END_TEST

START_TEST(test_roundtrip_random_x)
{
    hp_space_t sp;
    mixed_space(&sp);
    hp_rng_t r;
    hp_rng_init(&r, 7, 2);
    double x[16], u[16];
    for (int t = 0; t < 20000; t++) {
        for (size_t i = 0; i < sp.n; i++)
            u[i] = hp_rng_uniform(&r);
        hp_space_from_unit(&sp, u, x); /* stepped floats: a random step */
        for (size_t i = 0; i < sp.n; i++)
            if (sp.params[i].type != HP_PARAM_FLOAT || sp.params[i].step == 0)
                x[i] = random_value(&sp.params[i], &r);
        check_x_roundtrip(&sp, x);
    }
    /* every value of every discrete parameter, not just random ones */
    for (size_t i = 0; i < sp.n; i++) {
        uint64_t n = card(&sp, i);
        if (!n)
            continue;
        for (size_t j = 0; j < sp.n; j++)
            u[j] = 0.5;
        hp_space_from_unit(&sp, u, x);
        for (uint64_t k = 0; k < n; k++) {
            u[i] = ((double)k + 0.5) / (double)n;
            hp_space_from_unit(&sp, u, x);
            check_x_roundtrip(&sp, x);
        }
    }
    hp_space_fini(&sp);
}
END_TEST

/* u at and beyond the ends, and NaN, always give a valid point: 0 and
 * below give low, 1 and above give the top value, NaN the middle */
START_TEST(test_edge_u)
{
    hp_space_t sp;
    mixed_space(&sp);
    const double edges[] = {0.0, 1.0, -0.5, 1.5, NAN, -INFINITY, INFINITY, 0.5, -0.0,
                            nextafter(1.0, 0), 4.9e-324};
    double u[16], x[16], mid[16];
    for (size_t e = 0; e < HP_ARRAY_LEN(edges); e++) {
        for (size_t i = 0; i < sp.n; i++)
            u[i] = edges[e];
        hp_space_from_unit(&sp, u, x);
        ck_assert_msg(hp_space_contains(&sp, x), "u = %g", edges[e]);
        check_u_roundtrip(&sp, u);
    }
    static const double lo[] = {-3, 1e-6, 0, 16, 0, 1, -7, 0, 0};
    static const double hi[] = {5, 1e-1, 0.5, 512, 9, 1024, -2, 2, 0};
    for (int side = 0; side < 2; side++) {
        const double vals[] = {side ? 1.0 : 0.0, side ? 1.5 : -0.5, side ? INFINITY : -INFINITY};
        for (size_t v = 0; v < HP_ARRAY_LEN(vals); v++) {
            for (size_t i = 0; i < sp.n; i++)
                u[i] = vals[v];
            hp_space_from_unit(&sp, u, x);
            for (size_t i = 0; i < sp.n; i++)
                ck_assert_msg(x[i] == (side ? hi[i] : lo[i]), "%s at u=%g: %.17g",
                              sp.params[i].name, vals[v], x[i]);
        }
    }
    for (size_t i = 0; i < sp.n; i++)
        u[i] = NAN;
    hp_space_from_unit(&sp, u, x);
    for (size_t i = 0; i < sp.n; i++)
        u[i] = 0.5;
    hp_space_from_unit(&sp, u, mid);
    ck_assert_mem_eq(x, mid, sp.n * sizeof *x);
    /* to_unit of NaN and of out-of-range x stays in [0,1] */
    for (size_t i = 0; i < sp.n; i++)
        x[i] = NAN;
    hp_space_to_unit(&sp, x, u);
    for (size_t i = 0; i < sp.n; i++)
        ck_assert_double_eq(u[i], 0.5);
    for (size_t i = 0; i < sp.n; i++)
        x[i] = 1e300;
    hp_space_to_unit(&sp, x, u);
    for (size_t i = 0; i < sp.n; i++)
        ck_assert(u[i] >= 0.5 && u[i] <= 1); /* 0.5 for the 1-choice categorical */
    hp_space_fini(&sp);
}
END_TEST

START_TEST(test_categorical_cells)
{
    hp_space_t sp;
    hp_space_init(&sp);
    add_cat(&sp, "one", 1);
    add_cat(&sp, "three", 3);
    add_cat(&sp, "five", 5);
    assert_valid(&sp);
    double u[3], x[3];
    /* 1.0 / 3 as a double is just below 1/3: still cell 0 of 3 */
    const double us[] = {0, nextafter(1.0 / 3, 1), 1.0 / 3, 0.2, 0.4, 0.61, 0.8, 0.999, 1};
    const double want3[] = {0, 1, 0, 0, 1, 1, 2, 2, 2};
    const double want5[] = {0, 1, 1, 1, 2, 3, 4, 4, 4};
    for (size_t t = 0; t < HP_ARRAY_LEN(us); t++) {
        u[0] = u[1] = u[2] = us[t];
        hp_space_from_unit(&sp, u, x);
        ck_assert_double_eq(x[0], 0);
        ck_assert_msg(x[1] == want3[t], "k=3 u=%.17g -> %g", us[t], x[1]);
        ck_assert_msg(x[2] == want5[t], "k=5 u=%.17g -> %g", us[t], x[2]);
    }
    /* to_unit puts each index in the middle of its cell */
    x[0] = 0, x[1] = 1, x[2] = 4;
    hp_space_to_unit(&sp, x, u);
    ck_assert_double_eq(u[0], 0.5);
    ck_assert_double_eq_tol(u[1], 0.5, 1e-15);
    ck_assert_double_eq_tol(u[2], 0.9, 1e-15);
    hp_space_fini(&sp);
}
END_TEST

/* int widened by half a step: with low..high spanning 1 each value owns
 * half of [0,1]; a non-dividing step ends at the last reachable value */
START_TEST(test_int_cells_and_steps)
{
    hp_space_t sp;
    hp_space_init(&sp);
    add_int(&sp, "bit", 0, 1, 1, 0);
    add_int(&sp, "st", 0, 10, 3, 0);
    add_int(&sp, "lg", 1, 2, 1, 1);
    assert_valid(&sp);
    double u[3], x[3];
    u[0] = u[1] = u[2] = nextafter(0.5, 0);
    hp_space_from_unit(&sp, u, x);
    ck_assert_double_eq(x[0], 0);
    ck_assert_double_eq(x[1], 3);
    u[0] = u[1] = u[2] = 0.5;
    hp_space_from_unit(&sp, u, x);
    ck_assert_double_eq(x[0], 1);
    ck_assert_double_eq(x[1], 6);
    x[0] = 0, x[1] = 9, x[2] = 1;
    hp_space_to_unit(&sp, x, u);
    ck_assert_double_eq(u[0], 0.25);
    ck_assert_double_eq(u[1], 0.875);
    /* log int 1..2: 1 owns [log .5, log 1.5) of [log .5, log 2.5) */
    double split = (log(1.5) - log(0.5)) / (log(2.5) - log(0.5));
    u[2] = split - 1e-9;
    hp_space_from_unit(&sp, u, x);
    ck_assert_double_eq(x[2], 1);
    u[2] = split + 1e-9;
    hp_space_from_unit(&sp, u, x);
    ck_assert_double_eq(x[2], 2);
    /* off-grid values are not contained */
    double bad[][3] = {{0.5, 0, 1}, {0, 10, 1}, {0, 4, 1}, {2, 0, 1}, {0, 0, 3}, {0, 0, 1.5}};
    for (size_t i = 0; i < HP_ARRAY_LEN(bad); i++)
        ck_assert_msg(!hp_space_contains(&sp, bad[i]), "case %zu", i);
    double good[3] = {1, 9, 2};
    ck_assert(hp_space_contains(&sp, good));
    hp_space_fini(&sp);
}
END_TEST

/* the largest int ranges the space allows still round-trip exactly */
START_TEST(test_huge_int_ranges)
{
    hp_space_t sp;
    hp_space_init(&sp);
    add_int(&sp, "wide", -TWO52, TWO52 - 1, 1, 0); /* exactly 2^53 values */
    add_int(&sp, "top", TWO53 - 20, TWO53, 1, 0);
    add_int(&sp, "bot", -TWO53, -TWO53 + 7, 1, 0);
    add_int(&sp, "big_step", -TWO53, TWO53, TWO52, 0); /* 5 values */
    add_int(&sp, "lg", 1, 1099511627776.0, 1, 1);     /* log up to 2^40 */
    assert_valid(&sp);
    ck_assert_uint_eq(card(&sp, 0), UINT64_C(1) << 53);
    ck_assert_uint_eq(card(&sp, 3), 5);
    double x[5];
    const double wide[] = {-TWO52, -TWO52 + 1, -1, 0, 1, TWO52 - 2, TWO52 - 1, 123456789012345};
    const double lg[] = {1, 2, 3, 1000, 1099511627775.0, 1099511627776.0, 1099511627000.0,
                         549755813888.0, 549755813889.0};
    hp_rng_t r;
    hp_rng_init(&r, 3, 3);
    for (int t = 0; t < 5000; t++) {
        x[0] = t < (int)HP_ARRAY_LEN(wide) ? wide[t]
                                           : -TWO52 + (double)hp_rng_below(&r, UINT64_C(1) << 53);
        x[1] = TWO53 - (double)hp_rng_below(&r, 21);
        x[2] = -TWO53 + (double)hp_rng_below(&r, 8);
        x[3] = -TWO53 + (double)hp_rng_below(&r, 5) * TWO52;
        x[4] = t < (int)HP_ARRAY_LEN(lg) ? lg[t]
                                         : 1 + (double)hp_rng_below(&r, UINT64_C(1) << 40);
        check_x_roundtrip(&sp, x);
    }
    double u[5] = {1, 1, 1, 1, 1};
    hp_space_from_unit(&sp, u, x);
    ck_assert_double_eq(x[0], TWO52 - 1);
    ck_assert_double_eq(x[1], TWO53);
    ck_assert_double_eq(x[3], TWO53);
    ck_assert_double_eq(x[4], 1099511627776.0);
    for (int i = 0; i < 5; i++)
        u[i] = nextafter(1.0, 0);
    hp_space_from_unit(&sp, u, x);
    ck_assert_double_eq(x[0], TWO52 - 1);
    ck_assert_double_eq(x[1], TWO53);
    for (int t = 0; t < 5000; t++) {
        for (int i = 0; i < 5; i++)
            u[i] = hp_rng_uniform(&r);
        check_u_roundtrip(&sp, u);
    }
    hp_space_fini(&sp);
}
END_TEST

START_TEST(test_float_extremes)
{
    hp_space_t sp;
    hp_space_init(&sp);
    add_float(&sp, "huge", -1.7e308, 1.7e308, 0);
    add_float(&sp, "lg", 1e-300, 1e300, 1);
    add_float(&sp, "tiny", 1e-310, 3e-310, 0);
    assert_valid(&sp);
    hp_rng_t r;
    hp_rng_init(&r, 4, 4);
    double x[3], u[3];
    for (int t = 0; t < 5000; t++) {
        for (int i = 0; i < 3; i++)
            u[i] = hp_rng_uniform(&r);
        check_u_roundtrip(&sp, u);
        hp_space_from_unit(&sp, u, x);
        check_x_roundtrip(&sp, x);
    }
    u[0] = u[1] = u[2] = 1;
    hp_space_from_unit(&sp, u, x);
    ck_assert_double_eq(x[0], 1.7e308);
    ck_assert_double_eq(x[1], 1e300);
    ck_assert_double_eq(x[2], 3e-310);
    hp_space_fini(&sp);
}
END_TEST

/* a stepped float's values are the decimals the user meant */
START_TEST(test_float_step_values)
{
    hp_space_t sp;
    hp_space_init(&sp);
    hp_param_t *p = add_float(&sp, "d", 0, 1, 0);
    p->step = 0.1;
    p = add_float(&sp, "e", 0.1, 0.45, 0); /* 0.1 .. 0.4: 0.45 unreachable */
    p->step = 0.1;
    assert_valid(&sp);
    ck_assert_uint_eq(card(&sp, 0), 11);
    ck_assert_uint_eq(card(&sp, 1), 4);
    const double want[] = {0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
    double x[2];
    for (uint64_t k = 0; k < 11; k++) {
        ck_assert_int_eq(hp_space_grid_point(&sp, k * 4, x), 0);
        ck_assert_msg(x[0] == want[k], "value %llu: %.17g", (unsigned long long)k, x[0]);
    }
    ck_assert_int_eq(hp_space_grid_point(&sp, 3, x), 0);
    ck_assert_double_eq(x[1], 0.4);
    double u[2] = {1, 1};
    hp_space_from_unit(&sp, u, x);
    ck_assert_double_eq(x[0], 1.0);
    ck_assert_double_eq(x[1], 0.4);
    double off[2] = {0.15, 0.1};
    ck_assert(!hp_space_contains(&sp, off));
    hp_space_fini(&sp);
}
END_TEST

/* ---- grid -------------------------------------------------------------- */

START_TEST(test_grid_size_product_and_values)
{
    hp_space_t sp;
    hp_space_init(&sp);
    hp_param_t *f = add_float(&sp, "f", 0, 1, 0);
    f->grid_points = 5;
    add_int(&sp, "n", 1, 10, 3, 0); /* 1 4 7 10 */
    add_cat(&sp, "opt", 3);
    hp_param_t *v = add_float(&sp, "v", 0, 1, 0);
    hp_param_add_value(v, "0.5", 1, 0.5);
    hp_param_add_value(v, "0.125", 1, 0.125);
    hp_param_t *iv = add_int(&sp, "iv", 0, 100, 1, 0);
    hp_param_add_value(iv, "64", 1, 64);
    assert_valid(&sp);
    uint64_t size = 0;
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_space_grid_size(&sp, &size, &d), 0);
    ck_assert_uint_eq(size, 5 * 4 * 3 * 2 * 1);
    ck_assert_uint_eq(d.n, 0);
    double x[5];
    /* the last parameter varies fastest, explicit values in given order */
    ck_assert_int_eq(hp_space_grid_point(&sp, 0, x), 0);
    const double first[] = {0, 1, 0, 0.5, 64};
    ck_assert_mem_eq(x, first, sizeof first);
    ck_assert_int_eq(hp_space_grid_point(&sp, 1, x), 0);
    const double second[] = {0, 1, 0, 0.125, 64};
    ck_assert_mem_eq(x, second, sizeof second);
    ck_assert_int_eq(hp_space_grid_point(&sp, 2, x), 0);
    const double third[] = {0, 1, 1, 0.5, 64};
    ck_assert_mem_eq(x, third, sizeof third);
    ck_assert_int_eq(hp_space_grid_point(&sp, 6, x), 0);
    const double seventh[] = {0, 4, 0, 0.5, 64};
    ck_assert_mem_eq(x, seventh, sizeof seventh);
    ck_assert_int_eq(hp_space_grid_point(&sp, size - 1, x), 0);
    const double last[] = {1, 10, 2, 0.125, 64};
    ck_assert_mem_eq(x, last, sizeof last);
    ck_assert_int_eq(hp_space_grid_point(&sp, size, x), HP_ERANGE);
    ck_assert_int_eq(hp_space_grid_point(&sp, UINT64_MAX, x), HP_ERANGE);
    ck_assert_int_eq(hp_space_grid_size(&sp, &size, NULL), 0);

    /* every grid point is distinct, contained, and the same on a second
     * pass (the order is stable) */
    double (*all)[5] = malloc(size * sizeof *all);
    for (uint64_t i = 0; i < size; i++) {
        ck_assert_int_eq(hp_space_grid_point(&sp, i, all[i]), 0);
        ck_assert(hp_space_contains(&sp, all[i]));
        for (uint64_t j = 0; j < i; j++)
            ck_assert(memcmp(all[i], all[j], sizeof all[i]) != 0);
    }
    for (uint64_t i = 0; i < size; i++) {
        ck_assert_int_eq(hp_space_grid_point(&sp, i, x), 0);
        ck_assert_mem_eq(x, all[i], sizeof x);
    }
    free(all);
    hp_diag_fini(&d);
    hp_space_fini(&sp);
}
END_TEST

/* grid_points are evenly spaced in log space and hit both ends exactly */
START_TEST(test_grid_points_log_and_linear)
{
    hp_space_t sp;
    hp_space_init(&sp);
    hp_param_t *lr = add_float(&sp, "lr", 1e-5, 1e-1, 1);
    lr->grid_points = 5;
    hp_param_t *m = add_float(&sp, "m", 0.1, 0.7, 0);
    m->grid_points = 7;
    hp_param_t *l2 = add_float(&sp, "l2", 3e-7, 0.37, 1);
    l2->grid_points = 2;
    add_int(&sp, "lgi", 1, 8, 1, 1);
    assert_valid(&sp);
    uint64_t size;
    ck_assert_int_eq(hp_space_grid_size(&sp, &size, NULL), 0);
    ck_assert_uint_eq(size, 5 * 7 * 2 * 8);
    const double lrs[] = {1e-5, 1e-4, 1e-3, 1e-2, 1e-1};
    double x[4];
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(hp_space_grid_point(&sp, (uint64_t)i * 7 * 2 * 8, x), 0);
        if (i == 0 || i == 4)
            ck_assert_msg(x[0] == lrs[i], "end %d: %.17g", i, x[0]);
        else
            ck_assert_double_eq_tol(x[0], lrs[i], 1e-12 * lrs[i]);
    }
    for (int i = 0; i < 7; i++) {
        ck_assert_int_eq(hp_space_grid_point(&sp, (uint64_t)i * 2 * 8, x), 0);
        ck_assert_double_eq_tol(x[1], 0.1 + 0.1 * i, 1e-15);
        if (i == 6)
            ck_assert_double_eq(x[1], 0.7);
    }
    ck_assert_int_eq(hp_space_grid_point(&sp, 0, x), 0);
    ck_assert_double_eq(x[2], 3e-7);
    ck_assert_double_eq(x[3], 1);
    ck_assert_int_eq(hp_space_grid_point(&sp, 15, x), 0);
    ck_assert_double_eq(x[2], 0.37);
    ck_assert_double_eq(x[3], 8);
    hp_space_fini(&sp);
}
END_TEST

START_TEST(test_grid_needs_values_for_floats)
{
    hp_space_t sp;
    hp_space_init(&sp);
    add_float(&sp, "lr", 1e-5, 1e-1, 1);
    add_int(&sp, "n", 1, 3, 1, 0);
    add_float(&sp, "mom", 0, 1, 0);
    assert_valid(&sp);
    uint64_t size = 99;
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_space_grid_size(&sp, &size, &d), HP_EINVAL);
    ck_assert_uint_eq(size, 0);
    ck_assert_uint_eq(d.n, 2);
    const hp_diag_item_t *it = hp_diag_find(&d, "space.lr");
    ck_assert_ptr_nonnull(it);
    ck_assert_ptr_nonnull(strstr(it->message, "grid_points"));
    ck_assert_ptr_nonnull(strstr(it->message, "lr"));
    ck_assert_ptr_nonnull(hp_diag_find(&d, "space.mom"));
    double x[3];
    ck_assert_int_eq(hp_space_grid_point(&sp, 0, x), HP_EINVAL);
    hp_diag_fini(&d);
    hp_space_fini(&sp);
}
END_TEST

START_TEST(test_grid_overflow)
{
    hp_space_t sp;
    hp_space_init(&sp);
    char name[8];
    for (int i = 0; i < 6; i++) { /* 1000^6 = 1e18 < 2^64 ~ 1.8e19 */
        snprintf(name, sizeof name, "p%d", i);
        add_int(&sp, name, 0, 999, 1, 0);
    }
    uint64_t size;
    ck_assert_int_eq(hp_space_grid_size(&sp, &size, NULL), 0);
    ck_assert_uint_eq(size, UINT64_C(1000000000000000000));
    double x[8];
    ck_assert_int_eq(hp_space_grid_point(&sp, size - 1, x), 0);
    for (int i = 0; i < 6; i++)
        ck_assert_double_eq(x[i], 999);
    add_int(&sp, "p6", 0, 999, 1, 0);
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_space_grid_size(&sp, &size, &d), HP_ERANGE);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.items[0].path, "space");
    ck_assert_ptr_nonnull(strstr(d.items[0].message, "2^64"));
    /* points are still addressable by a 64-bit index */
    ck_assert_int_eq(hp_space_grid_point(&sp, UINT64_MAX, x), 0);
    ck_assert(hp_space_contains(&sp, x));
    hp_diag_fini(&d);
    hp_space_fini(&sp);
}
END_TEST

/* ---- validation -------------------------------------------------------- */

typedef struct bad_case {
    const char *path;
    const char *msg; /* substring of the message */
} bad_case_t;

static void expect_one(hp_space_t *sp, const char *path, const char *msg)
{
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_space_validate(sp, &d), HP_EINVAL);
    ck_assert_msg(d.n == 1, "expected one diagnostic for %s, got %zu%s%s", path, d.n,
                  d.n ? ": " : "", d.n ? d.items[0].text : "");
    ck_assert_str_eq(d.items[0].path, path);
    ck_assert_msg(strstr(d.items[0].message, msg) != NULL, "%s: message \"%s\" lacks \"%s\"",
                  path, d.items[0].message, msg);
    ck_assert_str_eq(d.items[0].file, "");
    ck_assert_int_eq(d.items[0].line, 0);
    ck_assert_int_eq(hp_space_validate(sp, NULL), HP_EINVAL);
    hp_diag_fini(&d);
    hp_space_fini(sp);
    hp_space_init(sp);
}

START_TEST(test_validate_bounds)
{
    hp_space_t sp;
    hp_space_init(&sp);
    add_float(&sp, "lr", -1, 1, 1);
    expect_one(&sp, "space.lr.low", "must be > 0 for a log-scaled parameter (got -1)");
    add_float(&sp, "x", 1, 0, 0);
    expect_one(&sp, "space.x.low", "must be < high (got low 1, high 0)");
    add_float(&sp, "x", 0.5, 0.5, 0);
    expect_one(&sp, "space.x.low", "must be < high (got low = high = 0.5)");
    add_int(&sp, "n", 3, 3, 1, 0);
    expect_one(&sp, "space.n.low", "low = high = 3");
    add_float(&sp, "x", -INFINITY, 1, 0);
    expect_one(&sp, "space.x.low", "must be a finite number (got -inf)");
    add_float(&sp, "x", 0, NAN, 0);
    expect_one(&sp, "space.x.high", "must be a finite number (got nan)");
    add_int(&sp, "n", 1.5, 4, 1, 0);
    expect_one(&sp, "space.n.low", "must be an integer for an int parameter (got 1.5)");
    add_int(&sp, "n", 0, 1e16, 1, 0);
    expect_one(&sp, "space.n.high", "+-2^53 = 9007199254740992 for an int parameter (got 1e+16)");
    add_int(&sp, "n", 0, TWO53 + 2, 1, 0);
    expect_one(&sp, "space.n.high", "(got 9007199254740994)");
    add_int(&sp, "n", 0, 10, 1, 1);
    expect_one(&sp, "space.n.low", "must be > 0 for a log-scaled parameter (got 0)");
    add_int(&sp, "n", 1, 2199023255552.0, 1, 1);
    expect_one(&sp, "space.n.high", "must be <= 2^40 = 1099511627776 for a log-scaled int "
                                    "(got 2199023255552)");
    add_int(&sp, "n", -TWO53, TWO53, 1, 0);
    expect_one(&sp, "space.n.high", "more than 2^53 values");
    add_float(&sp, "x", 0, 0.1, 0)->low = 0.30000000000000004;
    expect_one(&sp, "space.x.low", "(got low 0.30000000000000004, high 0.1)");
}
END_TEST

START_TEST(test_validate_steps)
{
    hp_space_t sp;
    hp_space_init(&sp);
    add_int(&sp, "n", 0, 10, 0, 0);
    expect_one(&sp, "space.n.step", "must be a positive integer for an int parameter (got 0)");
    add_int(&sp, "n", 0, 10, 1.5, 0);
    expect_one(&sp, "space.n.step", "(got 1.5)");
    add_int(&sp, "n", 0, 10, -2, 0);
    expect_one(&sp, "space.n.step", "(got -2)");
    add_int(&sp, "n", 0, 10, NAN, 0);
    expect_one(&sp, "space.n.step", "(got nan)");
    add_int(&sp, "n", 1, 64, 2, 1);
    expect_one(&sp, "space.n.step", "must be 1 for a log-scaled int (got 2)");
    add_int(&sp, "n", 0, 5, 10, 0);
    expect_one(&sp, "space.n.step", "must be <= high - low = 5 (got 10)");
    add_float(&sp, "lr", 1e-4, 1, 1)->step = 0.1;
    expect_one(&sp, "space.lr.step", "a log-scaled float cannot have a step (got 0.1)");
    add_float(&sp, "x", 0, 1, 0)->step = -0.5;
    expect_one(&sp, "space.x.step", "must be a finite number >= 0 (0 = continuous) (got -0.5)");
    add_float(&sp, "x", 0, 1, 0)->step = 2;
    expect_one(&sp, "space.x.step", "must be <= high - low = 1 (got 2)");
    add_float(&sp, "x", 0, 1, 0)->step = 1e-300;
    expect_one(&sp, "space.x.step", "more than 2^53 steps");
    /* a step that does not divide the range is fine: the last reachable
     * value stands in for high */
    add_int(&sp, "n", 0, 10, 3, 0);
    add_float(&sp, "x", 0, 1, 0)->step = 0.3;
    assert_valid(&sp);
    hp_space_fini(&sp);
}
END_TEST

START_TEST(test_validate_grid_points)
{
    hp_space_t sp;
    hp_space_init(&sp);
    add_float(&sp, "x", 0, 1, 0)->grid_points = 1;
    expect_one(&sp, "space.x.grid_points", "must be >= 2 so the grid holds low and high (got 1)");
    add_int(&sp, "n", 0, 10, 1, 0)->grid_points = 3;
    expect_one(&sp, "space.n.grid_points", "applies only to continuous floats");
    hp_param_t *p = add_float(&sp, "x", 0, 1, 0);
    p->grid_points = 3;
    p->step = 0.25;
    expect_one(&sp, "space.x.grid_points", "does not apply to a stepped float");
    p = add_float(&sp, "x", 0, 1, 0);
    p->grid_points = 3;
    hp_param_add_value(p, "0.5", 1, 0.5);
    expect_one(&sp, "space.x.grid_points", "conflicts with values");
    add_cat(&sp, "c", 2)->grid_points = 2;
    expect_one(&sp, "space.c.grid_points", "does not apply to a categorical parameter");
}
END_TEST

START_TEST(test_validate_values)
{
    hp_space_t sp;
    hp_space_init(&sp);
    add_cat(&sp, "opt", 0);
    expect_one(&sp, "space.opt.values", "must list at least one choice");
    hp_param_t *p = add_cat(&sp, "opt", 3);
    hp_param_add_value(p, "adam", 0, 0);
    expect_one(&sp, "space.opt.values[3]", "duplicate choice \"adam\" (same as values[0])");
    p = add_cat(&sp, "bs", 0);
    hp_param_add_value(p, "1", 1, 1);
    hp_param_add_value(p, "1.0", 1, 1.0);
    expect_one(&sp, "space.bs.values[1]", "duplicate value 1 (same as values[0])");
    p = add_cat(&sp, "mixed", 0); /* the number 1 and the string "1" differ */
    hp_param_add_value(p, "1", 1, 1);
    hp_param_add_value(p, "1", 0, 0);
    assert_valid(&sp);
    hp_space_fini(&sp);
    hp_space_init(&sp);
    p = add_cat(&sp, "c", 0);
    hp_param_add_value(p, ".inf", 1, INFINITY);
    expect_one(&sp, "space.c.values[0]", "must be a finite number (got inf)");
    add_cat(&sp, "c", 2)->log = 1;
    expect_one(&sp, "space.c.log", "does not apply to a categorical parameter");
    add_cat(&sp, "c", 2)->step = 1;
    expect_one(&sp, "space.c.step", "does not apply to a categorical parameter (got 1)");

    p = add_float(&sp, "x", 0, 1, 0);
    hp_param_add_value(p, "0.5", 1, 0.5);
    hp_param_add_value(p, "2", 1, 2);
    expect_one(&sp, "space.x.values[1]", "must be within [low, high] = [0, 1] (got 2)");
    p = add_float(&sp, "x", 0, 1, 0);
    hp_param_add_value(p, "abc", 0, 0);
    expect_one(&sp, "space.x.values[0]", "must be a number for a float parameter (got \"abc\")");
    p = add_float(&sp, "x", 0, 1, 0);
    hp_param_add_value(p, "0.25", 1, 0.25);
    hp_param_add_value(p, "0.25", 1, 0.25);
    expect_one(&sp, "space.x.values[1]", "duplicate value 0.25");
    p = add_float(&sp, "x", 0, 1, 0);
    p->step = 0.25;
    hp_param_add_value(p, "0.3", 1, 0.3);
    expect_one(&sp, "space.x.values[0]", "must be low + a multiple of step (low 0, step 0.25) "
                                         "(got 0.3)");
    p = add_int(&sp, "n", 0, 10, 5, 0);
    hp_param_add_value(p, "5", 1, 5);
    hp_param_add_value(p, "7", 1, 7);
    expect_one(&sp, "space.n.values[1]", "must be low + a multiple of step (low 0, step 5) "
                                         "(got 7)");
    p = add_int(&sp, "n", 0, 10, 1, 0);
    hp_param_add_value(p, "2.5", 1, 2.5);
    expect_one(&sp, "space.n.values[0]", "must be an integer for an int parameter (got 2.5)");
    p = add_int(&sp, "n", 0, 10, 1, 0);
    hp_param_add_value(p, "x", 0, 0);
    expect_one(&sp, "space.n.values[0]", "must be a number for an int parameter (got \"x\")");
}
END_TEST

START_TEST(test_validate_names_types_and_collects_all)
{
    hp_space_t sp;
    hp_space_init(&sp);
    add_float(&sp, "lr", 0, 1, 0);
    add_int(&sp, "n", 0, 1, 1, 0);
    add_float(&sp, "lr", 0, 1, 0);
    expect_one(&sp, "space.lr", "duplicate parameter name (parameters #1 and #3)");
    add_float(&sp, "", 0, 1, 0);
    expect_one(&sp, "space", "parameter #1 has an empty name");
    add_float(&sp, "x", 0, 1, 0)->type = (hp_param_type_t)7;
    expect_one(&sp, "space.x.type", "unknown parameter type 7");

    /* every problem is reported, not just the first */
    add_float(&sp, "lr", -1, 1, 1);
    add_int(&sp, "n", 0.5, 10, 0, 0);
    add_cat(&sp, "opt", 0);
    add_float(&sp, "lr", 0, 1, 0)->grid_points = 1;
    hp_diag_t d = {0};
    ck_assert_int_eq(hp_space_validate(&sp, &d), HP_EINVAL);
    ck_assert_uint_eq(d.n, 6);
    ck_assert_ptr_nonnull(hp_diag_find(&d, "space.lr.low"));
    ck_assert_ptr_nonnull(hp_diag_find(&d, "space.n.low"));
    ck_assert_ptr_nonnull(hp_diag_find(&d, "space.n.step"));
    ck_assert_ptr_nonnull(hp_diag_find(&d, "space.opt.values"));
    ck_assert_ptr_nonnull(hp_diag_find(&d, "space.lr"));
    ck_assert_ptr_nonnull(hp_diag_find(&d, "space.lr.grid_points"));
    ck_assert_str_eq(hp_diag_find(&d, "space.lr.low")->text,
                     "space.lr.low: must be > 0 for a log-scaled parameter (got -1)");
    hp_diag_fini(&d);
    hp_space_fini(&sp);

    /* an empty space is valid (the spec parser decides whether to allow it) */
    hp_space_init(&sp);
    assert_valid(&sp);
}
END_TEST

/* ---- output ------------------------------------------------------------ */

static void assert_json(const hp_space_t *sp, const double *x, const char *want)
{
    hp_buf_t b = {0};
    hp_space_point_json(sp, x, &b);
    ck_assert_str_eq(b.data, want);
    hp_buf_fini(&b);
}

static void assert_text(const hp_param_t *p, double v, const char *want)
{
    hp_buf_t b = {0};
    hp_space_format_value(p, v, &b);
    ck_assert_str_eq(b.data ? b.data : "", want);
    hp_buf_fini(&b);
}

START_TEST(test_json_and_text)
{
    hp_space_t sp;
    hp_space_init(&sp);
    add_float(&sp, "lr", 1e-5, 1e-1, 1);
    add_int(&sp, "hidden", 16, 1024, 16, 0);
    add_cat(&sp, "opt", 3);
    hp_param_t *bs = add_cat(&sp, "bs", 0);
    hp_param_add_value(bs, "32", 1, 32);
    hp_param_add_value(bs, "1e-3", 1, 1e-3);
    hp_param_t *q = add_cat(&sp, "we\"ird\\", 0);
    hp_param_add_value(q, "a\tb\n", 0, 0);
    add_int(&sp, "big", -TWO53, TWO53, 1024, 0);
    add_float(&sp, "third", 0, 1, 0);
    assert_valid(&sp);

    double x[] = {1e-3, 64, 0, 0, 0, TWO53, 1.0 / 3};
    assert_json(&sp, x, "{\"lr\":0.001,\"hidden\":64,\"opt\":\"adam\",\"bs\":32,"
                        "\"we\\\"ird\\\\\":\"a\\tb\\n\",\"big\":9007199254740992,"
                        "\"third\":0.33333333333333331}");
    double y[] = {1e-5, 1024, 2, 1, 0, -TWO53, 0};
    assert_json(&sp, y, "{\"lr\":1e-05,\"hidden\":1024,\"opt\":\"rmsprop\",\"bs\":0.001,"
                        "\"we\\\"ird\\\\\":\"a\\tb\\n\",\"big\":-9007199254740992,"
                        "\"third\":0}");
    double z[] = {NAN, -0.0, 7, -3, 0, 0, -0.0};
    assert_json(&sp, z, "{\"lr\":null,\"hidden\":0,\"opt\":\"rmsprop\",\"bs\":32,"
                        "\"we\\\"ird\\\\\":\"a\\tb\\n\",\"big\":0,\"third\":-0}");

    assert_text(&sp.params[0], 1e-3, "0.001");
    assert_text(&sp.params[0], 0.1, "0.1");
    assert_text(&sp.params[0], 1.0 / 3, "0.33333333333333331");
    assert_text(&sp.params[1], 64, "64");
    assert_text(&sp.params[2], 1, "sgd");
    assert_text(&sp.params[3], 1, "1e-3"); /* as written in the spec */
    assert_text(&sp.params[4], 0, "a\tb\n");
    assert_text(&sp.params[5], TWO53, "9007199254740992");
    assert_text(&sp.params[6], NAN, "nan");

    hp_space_t empty;
    hp_space_init(&empty);
    assert_json(&empty, x, "{}");
    hp_space_fini(&sp);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("common_space");
    TCase *tc = tcase_create("build");
    tcase_add_test(tc, test_build_find_copy);
    tcase_add_test(tc, test_cardinality);
    suite_add_tcase(s, tc);

    tc = tcase_create("unit");
    tcase_add_test(tc, test_roundtrip_random_u);
    tcase_add_test(tc, test_roundtrip_random_x);
    tcase_add_test(tc, test_edge_u);
    tcase_add_test(tc, test_categorical_cells);
    tcase_add_test(tc, test_int_cells_and_steps);
    tcase_add_test(tc, test_huge_int_ranges);
    tcase_add_test(tc, test_float_extremes);
    tcase_add_test(tc, test_float_step_values);
    suite_add_tcase(s, tc);

    tc = tcase_create("grid");
    tcase_add_test(tc, test_grid_size_product_and_values);
    tcase_add_test(tc, test_grid_points_log_and_linear);
    tcase_add_test(tc, test_grid_needs_values_for_floats);
    tcase_add_test(tc, test_grid_overflow);
    suite_add_tcase(s, tc);

    tc = tcase_create("validate");
    tcase_add_test(tc, test_validate_bounds);
    tcase_add_test(tc, test_validate_steps);
    tcase_add_test(tc, test_validate_grid_points);
    tcase_add_test(tc, test_validate_values);
    tcase_add_test(tc, test_validate_names_types_and_collects_all);
    suite_add_tcase(s, tc);

    tc = tcase_create("output");
    tcase_add_test(tc, test_json_and_text);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_check_run(suite());
}
