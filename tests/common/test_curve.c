/* Tests for common/curve: synthetic curves of each kind, every threshold
 * just below and just above its boundary, and the early-stop rule never
 * firing on noisy healthy curves. */
#include "curve.h"
#include "err.h"
#include "rng.h"

#include "hp_check.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAXN 64

static hp_curve_verdict_t cls(const double *l, size_t n, hp_curve_diag_t *d)
{
    return hp_curve_classify(l, n, NULL, d);
}

#define ck_verdict(l, n, want)                                                            \
    do {                                                                                  \
        hp_curve_diag_t d_;                                                               \
        hp_curve_verdict_t v_ = cls(l, n, &d_);                                           \
        ck_assert_msg(v_ == (want) && d_.verdict == v_, "%s:%d: got %s (%s), want %s",    \
                      __FILE__, __LINE__, hp_curve_verdict_name(v_), d_.evidence,         \
                      hp_curve_verdict_name(want));                                       \
    } while (0)

/* (a e^{-t/tau} + c) with multiplicative log-normal noise of deviation s:
 * what a training loss averaged per epoch (small s) or per step looks like */
static size_t noisy_decay(hp_rng_t *r, double *l, double s)
{
    size_t n = 8 + (size_t)hp_rng_below(r, MAXN - 8 + 1);
    double a = 1 + 2 * hp_rng_uniform(r);
    double c = a * (0.05 + 0.15 * hp_rng_uniform(r));
    double tau = 2 + 13 * hp_rng_uniform(r);
    for (size_t t = 0; t < n; t++)
        l[t] = (a * exp(-(double)t / tau) + c) * exp(s * hp_rng_normal(r));
    return n;
}

START_TEST(test_short_curves_unknown_unless_nonfinite)
{
    double l[3] = {2.3, 1.9, 1.7};
    for (size_t n = 0; n < 4; n++)
        ck_verdict(n ? l : NULL, n > 3 ? 3 : n, HP_CURVE_UNKNOWN);
    hp_curve_diag_t d;
    ck_assert_int_eq(cls(NULL, 0, &d), HP_CURVE_UNKNOWN);
    ck_assert_uint_eq(d.step, 0);
    ck_assert_ptr_nonnull(strstr(d.evidence, "only 0 loss values"));

    double one[1] = {NAN};
    ck_verdict(one, 1, HP_CURVE_EXPLODES);
    double two[2] = {2.3, INFINITY};
    ck_assert_int_eq(cls(two, 2, &d), HP_CURVE_EXPLODES);
    ck_assert_str_eq(d.evidence, "loss became +Inf at step 1");
    double three[3] = {2.3, 2.0, 2e6};
    ck_assert_int_eq(cls(three, 3, &d), HP_CURVE_EXPLODES);
    ck_assert_uint_eq(d.step, 2);
}
END_TEST

START_TEST(test_noisy_decay_is_healthy)
{
    double l[MAXN];
    /* per-epoch noise: 3% */
    for (uint64_t seed = 0; seed < 500; seed++) {
        hp_rng_t r;
        hp_rng_init(&r, 42, seed);
        size_t n = noisy_decay(&r, l, 0.03);
        hp_curve_diag_t d;
        hp_curve_verdict_t v = cls(l, n, &d);
        ck_assert_msg(v == HP_CURVE_HEALTHY, "seed %llu n %zu: %s: %s", (unsigned long long)seed,
                      n, hp_curve_verdict_name(v), d.evidence);
    }
    /* noise-free decay says how far it fell */
    for (size_t t = 0; t < 10; t++)
        l[t] = 2.0 * exp(-(double)t / 3);
    hp_curve_diag_t d;
    ck_assert_int_eq(cls(l, 10, &d), HP_CURVE_HEALTHY);
    ck_assert_ptr_nonnull(strstr(d.evidence, "loss fell from 2 to"));
}
END_TEST

/* per-step SGD noise (10%) swings every step and flips sign most of the
 * time; it must not read as oscillation (or anything but healthy) */
START_TEST(test_sgd_noise_is_not_oscillation)
{
    double l[MAXN];
    for (uint64_t seed = 0; seed < 1000; seed++) {
        hp_rng_t r;
        hp_rng_init(&r, 7, seed);
        size_t n = noisy_decay(&r, l, 0.10);
        hp_curve_diag_t d;
        hp_curve_verdict_t v = cls(l, n, &d);
        ck_assert_msg(v != HP_CURVE_OSCILLATES && v != HP_CURVE_EXPLODES,
                      "seed %llu: %s: %s", (unsigned long long)seed, hp_curve_verdict_name(v),
                      d.evidence);
    }
}
END_TEST

START_TEST(test_rise_goes_up)
{
    double l[MAXN];
    for (size_t t = 0; t < 10; t++)
        l[t] = 0.5 + 0.1 * (double)t; /* flipped sign: up from the start */
    ck_verdict(l, 10, HP_CURVE_GOES_UP);

    double dip[] = {2.3, 1.0, 0.52, 0.55, 0.6, 0.75, 0.91};
    hp_curve_diag_t d;
    ck_assert_int_eq(cls(dip, HP_ARRAY_LEN(dip), &d), HP_CURVE_GOES_UP);
    ck_assert_str_eq(d.evidence, "loss rose from 0.52 to 0.91 over the last 4 steps");
    ck_assert_uint_eq(d.window_start, 2);
    ck_assert_uint_eq(d.step, 6);

    /* a noisy rise (never four rising steps in a row) is caught by level */
    double saw[] = {1.0, 0.8, 0.7, 0.75, 0.7, 0.9, 0.85, 1.0, 0.95, 1.1, 1.05, 1.2};
    ck_assert_int_eq(cls(saw, HP_ARRAY_LEN(saw), &d), HP_CURVE_GOES_UP);
    ck_assert_ptr_nonnull(strstr(d.evidence, "loss level rose from"));

    /* a 10% rise buried in 20% noise is not a rise */
    hp_rng_t r;
    hp_rng_init(&r, 3, 0);
    for (size_t t = 0; t < 30; t++)
        l[t] = 1.0 * exp(0.2 * hp_rng_normal(&r));
    l[25] = 1.0;
    for (size_t t = 26; t < 30; t++)
        l[t] = l[t - 1] * 1.03; /* 4 rising steps from the mean, 12.5% in all */
    ck_assert_msg(cls(l, 30, &d) != HP_CURVE_GOES_UP, "%s", d.evidence);
}
END_TEST

START_TEST(test_nonfinite_explodes)
{
    hp_curve_diag_t d;
    double nan3[] = {2.3, 1.5, 1.2, NAN, 1.0};
    ck_assert_int_eq(cls(nan3, 5, &d), HP_CURVE_EXPLODES);
    ck_assert_str_eq(d.evidence, "loss became NaN at step 3");
    ck_assert_uint_eq(d.step, 3);
    double minf[] = {2.3, 1.5, 1.2, 1.0, -INFINITY};
    ck_assert_int_eq(cls(minf, 5, &d), HP_CURVE_EXPLODES);
    ck_assert_str_eq(d.evidence, "loss became -Inf at step 4");
    /* the first non-finite value is the one reported */
    double two[] = {INFINITY, NAN};
    ck_assert_int_eq(cls(two, 2, &d), HP_CURVE_EXPLODES);
    ck_assert_uint_eq(d.step, 0);
}
END_TEST

START_TEST(test_jump_explodes)
{
    double l[] = {2.3, 1.2, 0.8, 0.6, 0.5, 0.05, 2.0, 1e6};
    hp_curve_diag_t d;
    ck_assert_int_eq(cls(l, HP_ARRAY_LEN(l), &d), HP_CURVE_EXPLODES);
    ck_assert_str_eq(d.evidence, "loss jumped 40x between steps 5 and 6 (0.05 to 2)");
    ck_assert_uint_eq(d.step, 6);
    ck_assert_uint_eq(d.window_start, 5);
    double big[] = {2.3, 1.2, 0.8, 0.6, 6e5};
    ck_assert_int_eq(cls(big, 5, &d), HP_CURVE_EXPLODES);
    ck_assert_ptr_nonnull(strstr(d.evidence, "1e+06x"));
}
END_TEST

/* with stored step numbers the evidence names them, not positions: a
 * program that reports step=1.. (or every 10th step) jumps "between steps
 * 4 and 5", where positions would say 3 and 4; the verdicts and indices
 * are the same as without */
START_TEST(test_evidence_names_stored_steps)
{
    double l[] = {2.3, 1.2, 0.8, 40.0};
    int64_t from1[] = {1, 2, 3, 4};
    hp_curve_diag_t d;
    ck_assert_int_eq(hp_curve_classify_steps(l, from1, 4, NULL, &d), HP_CURVE_EXPLODES);
    ck_assert_str_eq(d.evidence, "loss jumped 50x between steps 3 and 4 (0.8 to 40)");
    ck_assert_uint_eq(d.step, 3);
    ck_assert_uint_eq(d.window_start, 2);
    double j[] = {2.3, 1.2, 0.8, 0.6, 30.0};
    int64_t s5[] = {1, 2, 3, 4, 5};
    ck_assert_int_eq(hp_curve_classify_steps(j, s5, 5, NULL, &d), HP_CURVE_EXPLODES);
    ck_assert_str_eq(d.evidence, "loss jumped 50x between steps 4 and 5 (0.6 to 30)");
    ck_assert_int_eq(hp_curve_classify(j, 5, NULL, &d), HP_CURVE_EXPLODES);
    ck_assert_str_eq(d.evidence, "loss jumped 50x between steps 3 and 4 (0.6 to 30)");
    double nan_at[] = {2.3, 1.2, NAN};
    int64_t tens[] = {10, 20, 30};
    ck_assert_int_eq(hp_curve_classify_steps(nan_at, tens, 3, NULL, &d), HP_CURVE_EXPLODES);
    ck_assert_str_eq(d.evidence, "loss became NaN at step 30");

    /* spans: a rise over the stored steps 40-80, not "the last 4 steps" */
    double up[] = {1.0, 0.8, 0.6, 0.52, 0.6, 0.7, 0.8, 0.91};
    int64_t by10[] = {10, 20, 30, 40, 50, 60, 70, 80};
    ck_assert_int_eq(hp_curve_classify_steps(up, by10, 8, NULL, &d), HP_CURVE_GOES_UP);
    ck_assert_str_eq(d.evidence, "loss rose from 0.52 to 0.91 over steps 40-80");
    ck_assert_int_eq(hp_curve_classify(up, 8, NULL, &d), HP_CURVE_GOES_UP);
    ck_assert_str_eq(d.evidence, "loss rose from 0.52 to 0.91 over the last 4 steps");
    double flat[20];
    int64_t at[20];
    for (size_t t = 0; t < 20; t++) {
        flat[t] = 2.30 - 0.0005 * (double)t;
        at[t] = 101 + (int64_t)t;
    }
    ck_assert_int_eq(hp_curve_classify_steps(flat, at, 20, NULL, &d), HP_CURVE_PLATEAUS);
    ck_assert_msg(strstr(d.evidence, "relative change 0.11% over steps 115-120"), "%s",
                  d.evidence);
    double osc[12];
    for (size_t t = 0; t < 12; t++) {
        osc[t] = t % 2 ? 2.5 : 0.5;
        at[t] = 2 * (int64_t)t;
    }
    ck_assert_int_eq(hp_curve_classify_steps(osc, at, 12, NULL, &d), HP_CURVE_OSCILLATES);
    ck_assert_str_eq(d.evidence, "sign of the change flipped 7 times in 8 changes over steps "
                                 "6-22 (median swing 124% of the loss)");
    double down[] = {2.0, 1.5, 1.1, 0.8, 0.6, 0.45};
    ck_assert_int_eq(hp_curve_classify_steps(down, at, 6, NULL, &d), HP_CURVE_HEALTHY);
    ck_assert_msg(strstr(d.evidence, "over steps 0-10"), "%s", d.evidence);
}
END_TEST

START_TEST(test_alternation_oscillates)
{
    double l[12];
    for (size_t t = 0; t < 12; t++)
        l[t] = t % 2 ? 2.5 : 0.5;
    hp_curve_diag_t d;
    ck_assert_int_eq(cls(l, 12, &d), HP_CURVE_OSCILLATES);
    ck_assert_str_eq(d.evidence,
                     "sign of the change flipped 7 times in 8 steps (median swing 124% of the loss)");
    ck_assert_uint_eq(d.window_start, 3);
}
END_TEST

START_TEST(test_flat_near_start_plateaus)
{
    double l[20];
    for (size_t t = 0; t < 20; t++)
        l[t] = 2.30 - 0.0005 * (double)t; /* lr 1e-7: barely moves */
    hp_curve_diag_t d;
    ck_assert_int_eq(cls(l, 20, &d), HP_CURVE_PLATEAUS);
    ck_assert_ptr_nonnull(strstr(d.evidence, "relative change 0.11% over the last 5 steps"));

    /* stuck at the start under 1% noise is still stuck */
    hp_rng_t r;
    for (uint64_t seed = 0; seed < 100; seed++) {
        hp_rng_init(&r, 11, seed);
        for (size_t t = 0; t < 20; t++)
            l[t] = 2.3 * exp(0.01 * hp_rng_normal(&r));
        hp_curve_verdict_t v = cls(l, 20, &d);
        ck_assert_msg(v == HP_CURVE_PLATEAUS, "seed %llu: %s: %s", (unsigned long long)seed,
                      hp_curve_verdict_name(v), d.evidence);
    }
}
END_TEST

START_TEST(test_converged_flat_is_healthy)
{
    double l[20];
    for (size_t t = 0; t < 20; t++)
        l[t] = t < 8 ? 2.3 * exp(-(double)t) + 0.05 : 0.05 + 1e-5 * (double)(t % 2);
    hp_curve_diag_t d;
    ck_assert_int_eq(cls(l, 20, &d), HP_CURVE_HEALTHY);
    ck_assert_ptr_nonnull(strstr(d.evidence, "converged: loss settled at 0.05"));
    /* overfitting one batch: down to ~0, wiggling at 1e-6 */
    for (size_t t = 0; t < 20; t++)
        l[t] = 2.3 * exp(-(double)t) + 1e-6 * (double)(t % 3);
    ck_verdict(l, 20, HP_CURVE_HEALTHY);
}
END_TEST

START_TEST(test_constant_plateaus)
{
    static const double vals[] = {0.7, 0.0, -1.0, 1e-300};
    double l[10];
    for (size_t i = 0; i < HP_ARRAY_LEN(vals); i++) {
        for (size_t t = 0; t < 10; t++)
            l[t] = vals[i];
        hp_curve_diag_t d;
        ck_assert_int_eq(cls(l, 10, &d), HP_CURVE_PLATEAUS);
        ck_assert_ptr_nonnull(strstr(d.evidence, "stayed exactly"));
    }
}
END_TEST

START_TEST(test_negative_losses)
{
    double l[10];
    for (size_t t = 0; t < 10; t++)
        l[t] = -1.0 - 4.0 * (1 - exp(-(double)t / 2)); /* NLL going down */
    ck_verdict(l, 10, HP_CURVE_HEALTHY);
    for (size_t t = 0; t < 10; t++)
        l[t] = -5.0 + 0.4 * (double)t; /* going up through zero */
    ck_verdict(l, 10, HP_CURVE_GOES_UP);
    for (size_t t = 0; t < 10; t++)
        l[t] = 0.9 * (double)t / 9; /* an accuracy is not a loss: it "goes up" */
    ck_verdict(l, 10, HP_CURVE_GOES_UP);
}
END_TEST

/* ---- thresholds just below and just above their boundaries ---- */

START_TEST(test_boundary_explode_factor)
{
    double l[] = {1, 1, 1, 1, 0};
    l[4] = 1 + 9 * 0.99;
    ck_assert_int_eq(hp_curve_is_diverging(l, 5, NULL), 0);
    l[4] = 1 + 9 * 1.01;
    ck_assert_int_eq(hp_curve_is_diverging(l, 5, NULL), 1);
    ck_verdict(l, 5, HP_CURVE_EXPLODES);
    /* scale_floor: after falling to 0.01 from 1, a jump is measured against
     * 2% of 1 = 0.02, so 0.01 -> 0.19 (19x) is not an explosion, 0.21 is */
    double f[] = {1, 0.01, 0.01 + 9 * 0.02 * 0.99};
    ck_assert_int_eq(hp_curve_is_diverging(f, 3, NULL), 0);
    f[2] = 0.01 + 9 * 0.02 * 1.01;
    ck_assert_int_eq(hp_curve_is_diverging(f, 3, NULL), 1);
}
END_TEST

START_TEST(test_boundary_up_rise)
{
    /* flat, then four equal rising steps totalling r */
    for (int above = 0; above < 2; above++) {
        double r = above ? 0.101 : 0.099;
        double l[] = {1.0, 1.0, 1.0 + r / 4, 1.0 + r / 2, 1.0 + 3 * r / 4, 1.0 + r};
        hp_curve_verdict_t v = cls(l, 6, NULL);
        ck_assert_msg((v == HP_CURVE_GOES_UP) == above, "r %g: %s", r, hp_curve_verdict_name(v));
    }
}
END_TEST

START_TEST(test_boundary_osc_flips)
{
    /* 8 steps of +-0.5 around 1, summing to 0: 5 flips of 7 is below 0.75,
     * 6 of 7 is above */
    static const int five[8] = {+1, -1, +1, +1, -1, -1, +1, -1};
    static const int six[8] = {+1, -1, +1, -1, +1, -1, -1, +1};
    for (int k = 0; k < 2; k++) {
        const int *s = k ? six : five;
        double l[9] = {1.0};
        for (int i = 0; i < 8; i++)
            l[i + 1] = l[i] + 0.5 * s[i];
        hp_curve_diag_t d;
        hp_curve_verdict_t v = cls(l, 9, &d);
        ck_assert_msg((v == HP_CURVE_OSCILLATES) == k, "%s flips: %s: %s", k ? "six" : "five",
                      hp_curve_verdict_name(v), d.evidence);
    }
}
END_TEST

START_TEST(test_boundary_osc_amplitude)
{
    /* 9 values lo, hi, lo, ..., lo: swing (hi - lo) over mean (5 lo + 4 hi)/9
     * equals rho when hi = (9 + 5 rho) / (9 - 4 rho), lo = 1 */
    for (int above = 0; above < 2; above++) {
        double rho = above ? 0.301 : 0.299;
        double hi = (9 + 5 * rho) / (9 - 4 * rho);
        double l[9];
        for (int i = 0; i < 9; i++)
            l[i] = i % 2 ? hi : 1.0;
        hp_curve_diag_t d;
        hp_curve_verdict_t v = cls(l, 9, &d);
        ck_assert_msg((v == HP_CURVE_OSCILLATES) == above, "rho %g: %s: %s", rho,
                      hp_curve_verdict_name(v), d.evidence);
    }
}
END_TEST

START_TEST(test_boundary_plateau_rel_change)
{
    /* a straight line over the 6-value window: fitted change 5 delta over
     * mean L - 2.5 delta equals rho when delta = rho L / (5 + 2.5 rho) */
    for (int above = 0; above < 2; above++) {
        double rho = above ? 0.0251 : 0.0249, L = 2.0;
        double delta = rho * L / (5 + 2.5 * rho);
        double l[6];
        for (int t = 0; t < 6; t++)
            l[t] = L - delta * t;
        hp_curve_diag_t d;
        hp_curve_verdict_t v = cls(l, 6, &d);
        ck_assert_msg(v == (above ? HP_CURVE_HEALTHY : HP_CURVE_PLATEAUS), "rho %g: %s: %s", rho,
                      hp_curve_verdict_name(v), d.evidence);
    }
}
END_TEST

START_TEST(test_boundary_plateau_max_drop)
{
    /* one step down by `drop`, then flat: within 20% of the start is a
     * plateau, further down is converged */
    for (int above = 0; above < 2; above++) {
        double drop = above ? 0.201 : 0.199;
        double l[8] = {1.0};
        for (int t = 1; t < 8; t++)
            l[t] = 1.0 - drop;
        hp_curve_diag_t d;
        hp_curve_verdict_t v = cls(l, 8, &d);
        ck_assert_msg(v == (above ? HP_CURVE_HEALTHY : HP_CURVE_PLATEAUS), "drop %g: %s: %s",
                      drop, hp_curve_verdict_name(v), d.evidence);
    }
}
END_TEST

START_TEST(test_boundary_min_points)
{
    double l[] = {2.3, 1.5, 1.0, 0.8};
    ck_verdict(l, 3, HP_CURVE_UNKNOWN);
    ck_verdict(l, 4, HP_CURVE_HEALTHY);
    hp_curve_opts_t o;
    hp_curve_opts_init(&o);
    o.min_points = 5;
    ck_assert_int_eq(hp_curve_classify(l, 4, &o, NULL), HP_CURVE_UNKNOWN);
}
END_TEST

/* ---- the early-stop rule ---- */

START_TEST(test_diverging_never_on_noisy_healthy)
{
    double l[MAXN];
    for (uint64_t seed = 0; seed < 1000; seed++) {
        hp_rng_t r;
        hp_rng_init(&r, 2024, seed);
        double s = 0.3 * hp_rng_uniform(&r); /* up to 30% per-step noise */
        size_t n = noisy_decay(&r, l, s);
        for (size_t k = 1; k <= n; k++) /* evaluated after every epoch */
            ck_assert_msg(!hp_curve_is_diverging(l, k, NULL), "seed %llu s %g k %zu",
                          (unsigned long long)seed, s, k);
    }
}
END_TEST

START_TEST(test_diverging_on_explosions)
{
    double l[MAXN];
    for (uint64_t seed = 0; seed < 100; seed++) {
        hp_rng_t r;
        hp_rng_init(&r, 5, seed);
        size_t n = noisy_decay(&r, l, 0.05);
        size_t at = 1 + (size_t)hp_rng_below(&r, n - 1);
        l[at] = seed % 3 == 0 ? NAN : seed % 3 == 1 ? INFINITY : l[at - 1] * 1e6;
        ck_assert(!hp_curve_is_diverging(l, at, NULL));
        ck_assert(hp_curve_is_diverging(l, at + 1, NULL));
        ck_assert(hp_curve_is_diverging(l, n, NULL));
        hp_curve_diag_t d;
        ck_assert_int_eq(cls(l, n, &d), HP_CURVE_EXPLODES);
        ck_assert_uint_eq(d.step, at);
    }
    ck_assert(!hp_curve_is_diverging(NULL, 0, NULL));
    double one = NAN;
    ck_assert(hp_curve_is_diverging(&one, 1, NULL));
}
END_TEST

/* ---- names, causes, options ---- */

START_TEST(test_names_and_causes)
{
    static const char *const want[] = {"unknown", "healthy", "goes_up",
                                       "explodes", "oscillates", "plateaus"};
    ck_assert_uint_eq(HP_ARRAY_LEN(want), HP_CURVE_VERDICT_COUNT_);
    for (int v = 0; v < HP_CURVE_VERDICT_COUNT_; v++) {
        ck_assert_str_eq(hp_curve_verdict_name((hp_curve_verdict_t)v), want[v]);
        ck_assert(strlen(hp_curve_causes((hp_curve_verdict_t)v)) > 10);
        hp_curve_verdict_t back = HP_CURVE_HEALTHY;
        ck_assert_int_eq(hp_curve_verdict_parse(want[v], &back), 0);
        ck_assert_int_eq(back, v);
    }
    hp_curve_verdict_t x;
    ck_assert_int_eq(hp_curve_verdict_parse("diverges", &x), HP_EINVAL);
    ck_assert_int_eq(hp_curve_verdict_parse(NULL, &x), HP_EINVAL);
    ck_assert_str_eq(hp_curve_verdict_name((hp_curve_verdict_t)99), "invalid");
    ck_assert_ptr_nonnull(strstr(hp_curve_causes(HP_CURVE_GOES_UP), "flipped sign"));
    ck_assert_ptr_nonnull(strstr(hp_curve_causes(HP_CURVE_GOES_UP), "softmax"));
    ck_assert_ptr_nonnull(strstr(hp_curve_causes(HP_CURVE_EXPLODES), "exp, log and div"));
    ck_assert_ptr_nonnull(strstr(hp_curve_causes(HP_CURVE_OSCILLATES), "corrupted data"));
    ck_assert_ptr_nonnull(strstr(hp_curve_causes(HP_CURVE_PLATEAUS), "learning rate too low"));
    ck_assert_ptr_nonnull(strstr(hp_curve_causes(HP_CURVE_PLATEAUS), "regularization"));
}
END_TEST

START_TEST(test_opts)
{
    hp_curve_opts_t o;
    hp_curve_opts_init(&o);
    char err[128];
    ck_assert_int_eq(hp_curve_opts_check(&o, err, sizeof err), 0);
    ck_assert(o.explode_factor == 10.0 && o.up_rise == 0.10 && o.plateau_rel_change == 0.025);
    o.explode_factor = 1.0;
    ck_assert_int_eq(hp_curve_opts_check(&o, err, sizeof err), HP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "explode_factor: must be > 1 (got 1)"));
    hp_curve_opts_init(&o);
    o.osc_window = 1000;
    ck_assert_int_eq(hp_curve_opts_check(&o, err, sizeof err), HP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "osc_window"));
    hp_curve_opts_init(&o);
    o.plateau_rel_change = NAN;
    ck_assert_int_eq(hp_curve_opts_check(&o, err, sizeof err), HP_EINVAL);

    /* a looser explode factor changes the verdict */
    double l[] = {1, 1, 1, 1, 15};
    hp_curve_opts_init(&o);
    ck_assert_int_eq(hp_curve_classify(l, 5, &o, NULL), HP_CURVE_EXPLODES);
    o.explode_factor = 20;
    ck_assert_int_ne(hp_curve_classify(l, 5, &o, NULL), HP_CURVE_EXPLODES);
    ck_assert(!hp_curve_is_diverging(l, 5, &o));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("common_curve");
    TCase *tc = tcase_create("curve");
    tcase_add_test(tc, test_short_curves_unknown_unless_nonfinite);
    tcase_add_test(tc, test_noisy_decay_is_healthy);
    tcase_add_test(tc, test_sgd_noise_is_not_oscillation);
    tcase_add_test(tc, test_rise_goes_up);
    tcase_add_test(tc, test_nonfinite_explodes);
    tcase_add_test(tc, test_jump_explodes);
    tcase_add_test(tc, test_alternation_oscillates);
    tcase_add_test(tc, test_flat_near_start_plateaus);
    tcase_add_test(tc, test_converged_flat_is_healthy);
    tcase_add_test(tc, test_constant_plateaus);
    tcase_add_test(tc, test_negative_losses);
    tcase_add_test(tc, test_boundary_explode_factor);
    tcase_add_test(tc, test_boundary_up_rise);
    tcase_add_test(tc, test_boundary_osc_flips);
    tcase_add_test(tc, test_boundary_osc_amplitude);
    tcase_add_test(tc, test_boundary_plateau_rel_change);
    tcase_add_test(tc, test_boundary_plateau_max_drop);
    tcase_add_test(tc, test_boundary_min_points);
    tcase_add_test(tc, test_diverging_never_on_noisy_healthy);
    tcase_add_test(tc, test_diverging_on_explosions);
    tcase_add_test(tc, test_names_and_causes);
    tcase_add_test(tc, test_opts);
    tcase_add_test(tc, test_evidence_names_stored_steps);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_check_run(suite());
}
