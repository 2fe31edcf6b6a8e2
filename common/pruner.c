/* Early stopping rules (in common, beside curve.c's divergence check: the
 * spec's validation uses its config check, the daemon its decisions): asha, hyperband (brackets of asha) and the median
 * rule, as pruner.h states them. Values are kept "lower is better"
 * (negated when maximizing); rung and step lists are sorted arrays, so a
 * decision is a binary search and a sorted insert. */
#include "pruner.h"

#include "err.h"
#include "idx_val.h"
#include "vec.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef HP_VEC(double) dvec_t;

typedef struct {
    int64_t step;
    double v; /* signed */
} point_t;

typedef struct {
    double at_rung, last; /* signed: at the rung, and where the trial ended */
} pair_t;

typedef struct {
    int seen, stopped, completed;
    int diverged;      /* stopped for a value that was not finite */
    int64_t last_step; /* the highest step reported */
    double last;       /* the signed value at last_step */
    double best;       /* the best signed value so far */
    uint32_t next_rung;
    dvec_t rung_val; /* the signed value recorded at each rung reached */
    char *reason;    /* why it was stopped (NULL: not stopped, or no memory) */
    int64_t stop_step; /* the step it was stopped at */
    HP_VEC(point_t) curve; /* median: every step reported */
} trial_t;

typedef struct {
    int64_t step;
    dvec_t sorted; /* signed values recorded here, ascending */
    HP_VEC(pair_t) done; /* rank check: trials that reached it and completed */
    int sparing;   /* rank check: its last would-be stop was spared */
} rung_t;

typedef struct {
    int64_t step;
    uint64_t gen; /* p->gen it was computed at */
    double med;   /* signed median change from step to the end */
    uint32_t n;   /* completed trials it came from */
} proj_t;

typedef struct {
    rung_t *rungs;
    size_t n;
    uint64_t budget_end; /* the hash range [previous end, this) picks it */
} bracket_t;

struct hp_pruner {
    hp_pruner_config_t cfg;
    char metric[64];
    bracket_t *br;
    uint32_t nbr;
    uint64_t budget_total;
    HP_VEC(trial_t) trials; /* indexed by trial number */
    HP_VEC(rung_t) steps;   /* median: completed trials' values per step, by step */
    uint32_t ncompleted;
    uint64_t gen;           /* completions and forgets so far */
    HP_VEC(proj_t) proj;    /* hp_pruner_projection's changes, by step */
};

static const char *const rule_names[] = {"none", "median", "asha", "hyperband"};

int hp_prune_rule_parse(const char *name)
{
    for (int i = 0; i < (int)(sizeof rule_names / sizeof *rule_names); i++)
        if (strcmp(name, rule_names[i]) == 0)
            return i;
    return -1;
}

const char *hp_prune_rule_name(hp_prune_rule_t rule)
{
    return (unsigned)rule < sizeof rule_names / sizeof *rule_names ? rule_names[rule] : "?";
}

int hp_pruner_config_check(const hp_pruner_config_t *c, char *err, size_t errlen)
{
    if ((unsigned)c->rule > HP_PRUNE_HYPERBAND)
        return hp_errf(err, errlen, HP_EINVAL, "pruning.rule: unknown rule %d", (int)c->rule);
    if (c->rule == HP_PRUNE_NONE)
        return 0;
    if (!(c->min_rank_corr >= 0 && c->min_rank_corr <= 1))
        return hp_errf(err, errlen, HP_EINVAL,
                       "pruning.min_rank_correlation: %g must be in (0, 1] (a rank correlation "
                       "below which a rung stops no trial), or 0 for no check",
                       c->min_rank_corr);
    if (c->rule == HP_PRUNE_MEDIAN && c->min_rank_corr > 0)
        return hp_errf(err, errlen, HP_EINVAL,
                       "pruning.min_rank_correlation: only applies to rules asha and hyperband "
                       "(it checks their rungs)");
    if (c->rule == HP_PRUNE_MEDIAN) {
        if (c->warmup_steps < 0)
            return hp_errf(err, errlen, HP_EINVAL,
                           "pruning.warmup_steps: %" PRId64 " is negative; it is the first step "
                           "the median rule judges",
                           c->warmup_steps);
        if (c->interval_steps < 1)
            return hp_errf(err, errlen, HP_EINVAL,
                           "pruning.interval_steps: %" PRId64 " must be at least 1",
                           c->interval_steps);
        return 0;
    }
    if (c->min_resource < 1)
        return hp_errf(err, errlen, HP_EINVAL,
                       "pruning.min_resource: %" PRId64 " must be at least 1 (the first step a "
                       "trial can be stopped at)",
                       c->min_resource);
    if (c->max_resource <= c->min_resource)
        return hp_errf(err, errlen, HP_EINVAL,
                       "pruning.min_resource (%" PRId64 ") must be below pruning.max_resource "
                       "(%" PRId64 "), the step at which a trial is complete",
                       c->min_resource, c->max_resource);
    if (c->eta < 2)
        return hp_errf(err, errlen, HP_EINVAL,
                       "pruning.reduction_factor: %" PRId64 " must be at least 2 (each rung "
                       "keeps the top 1/reduction_factor)",
                       c->eta);
    return 0;
}

/* min * eta^k, or INT64_MAX once it would pass it */
static int64_t rung_step(int64_t min, int64_t eta, uint32_t k)
{
    int64_t s = min;
    for (uint32_t i = 0; i < k; i++) {
        if (s > INT64_MAX / eta)
            return INT64_MAX;
        s *= eta;
    }
    return s;
}

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint32_t hp_pruner_schedule_brackets(int64_t min_resource, int64_t max_resource, int64_t eta)
{
    uint32_t n = 0;
    while (rung_step(min_resource, eta, n) <= max_resource)
        n++;
    return n;
}

static int build_brackets(hp_pruner_t *p)
{
    const hp_pruner_config_t *c = &p->cfg;
    /* every bracket of the full schedule, for the budgets */
    uint32_t all = c->rule == HP_PRUNE_HYPERBAND
                       ? hp_pruner_schedule_brackets(c->min_resource, c->max_resource, c->eta)
                       : 0;
    uint32_t nb = 1;
    if (c->rule == HP_PRUNE_HYPERBAND)
        nb = c->brackets && c->brackets < all ? c->brackets : all;
    p->br = calloc(nb, sizeof *p->br);
    if (!p->br)
        return HP_ENOMEM;
    p->nbr = nb;
    uint64_t end = 0;
    for (uint32_t b = 0; b < nb; b++) {
        bracket_t *br = &p->br[b];
        size_t n = 0; /* rungs: none for the median rule */
        while (c->rule != HP_PRUNE_MEDIAN &&
               rung_step(c->min_resource, c->eta, b + (uint32_t)n) < c->max_resource)
            n++;
        br->rungs = n ? calloc(n, sizeof *br->rungs) : NULL;
        if (n && !br->rungs)
            return HP_ENOMEM;
        br->n = n;
        for (size_t k = 0; k < n; k++)
            br->rungs[k].step = rung_step(c->min_resource, c->eta, b + (uint32_t)k);
        uint64_t budget = 1;
        if (c->rule == HP_PRUNE_HYPERBAND) {
            /* ceil(B * eta^s / (s + 1)), s = B - 1 - b */
            uint32_t s = all - 1 - b;
            double x = ceil((double)all * pow((double)c->eta, (double)s) / (double)(s + 1));
            budget = x < 1e12 ? (uint64_t)x : (uint64_t)1e12;
        }
        end += budget;
        br->budget_end = end;
    }
    p->budget_total = end;
    return 0;
}

int hp_pruner_new(const hp_pruner_config_t *cfg, hp_pruner_t **out, char *err, size_t errlen)
{
    *out = NULL;
    int rc = hp_pruner_config_check(cfg, err, errlen);
    if (rc < 0)
        return rc;
    hp_pruner_t *p = calloc(1, sizeof *p);
    if (!p)
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    p->cfg = *cfg;
    snprintf(p->metric, sizeof p->metric, "%s", cfg->metric ? cfg->metric : "value");
    p->cfg.metric = p->metric;
    if (build_brackets(p) < 0) {
        hp_pruner_free(p);
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    }
    *out = p;
    return 0;
}

static void trial_clear(trial_t *t)
{
    free(t->reason);
    free(t->rung_val.v);
    free(t->curve.v);
    memset(t, 0, sizeof *t);
}

void hp_pruner_free(hp_pruner_t *p)
{
    if (!p)
        return;
    for (uint32_t b = 0; b < p->nbr; b++) {
        for (size_t k = 0; k < p->br[b].n; k++) {
            free(p->br[b].rungs[k].sorted.v);
            free(p->br[b].rungs[k].done.v);
        }
        free(p->br[b].rungs);
    }
    free(p->br);
    for (size_t i = 0; i < p->trials.n; i++)
        trial_clear(&p->trials.v[i]);
    free(p->trials.v);
    for (size_t i = 0; i < p->steps.n; i++)
        free(p->steps.v[i].sorted.v);
    free(p->steps.v);
    free(p->proj.v);
    free(p);
}

const char *hp_pruner_stopped(const hp_pruner_t *p, uint64_t trial, int64_t *step)
{
    if (trial >= p->trials.n || !p->trials.v[trial].stopped)
        return NULL;
    if (step)
        *step = p->trials.v[trial].stop_step;
    return p->trials.v[trial].reason ? p->trials.v[trial].reason : "pruned";
}

uint32_t hp_pruner_brackets(const hp_pruner_t *p)
{
    return p->nbr;
}

uint32_t hp_pruner_bracket(const hp_pruner_t *p, uint64_t trial)
{
    if (p->nbr <= 1)
        return 0;
    uint64_t h = splitmix64(trial) % p->budget_total;
    for (uint32_t b = 0; b < p->nbr; b++)
        if (h < p->br[b].budget_end)
            return b;
    return p->nbr - 1;
}

size_t hp_pruner_rungs(const hp_pruner_t *p, uint32_t bracket, int64_t *steps, size_t *counts,
                       size_t cap)
{
    if (bracket >= p->nbr)
        return 0;
    const bracket_t *b = &p->br[bracket];
    size_t n = b->n < cap ? b->n : cap;
    for (size_t k = 0; k < n; k++) {
        steps[k] = b->rungs[k].step;
        counts[k] = b->rungs[k].sorted.n;
    }
    return n;
}

/* --- sorted arrays ---------------------------------------------------- */

/* the first index whose value is > v (so equal values keep arrival order) */
static size_t upper_bound(const dvec_t *s, double v)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->v[mid] <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int sorted_insert(dvec_t *s, double v)
{
    double *g = hp_vec_try_grow(s->v, &s->cap, s->n + 1, sizeof *s->v, HP_VEC_MIN_CAP);
    if (!g)
        return HP_ENOMEM;
    s->v = g;
    size_t i = upper_bound(s, v);
    memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof *s->v);
    s->v[i] = v;
    s->n++;
    return 0;
}

static void sorted_remove(dvec_t *s, double v)
{
    size_t i = upper_bound(s, v);
    if (i == 0 || s->v[i - 1] != v)
        return;
    memmove(s->v + i - 1, s->v + i, (s->n - i) * sizeof *s->v);
    s->n--;
}

/* p->steps entry for step: its index, or where it goes (*found = 0) */
static size_t step_find(const hp_pruner_t *p, int64_t step, int *found)
{
    size_t lo = 0, hi = p->steps.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->steps.v[mid].step < step)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < p->steps.n && p->steps.v[lo].step == step;
    return lo;
}

/* --- reports ---------------------------------------------------------- */

static trial_t *trial_get(hp_pruner_t *p, uint64_t number)
{
    if (number >= p->trials.n) {
        if (number >= SIZE_MAX / sizeof(trial_t) - 1)
            return NULL;
        trial_t *g = hp_vec_try_grow(p->trials.v, &p->trials.cap, (size_t)number + 1,
                                     sizeof *p->trials.v, HP_VEC_MIN_CAP);
        if (!g)
            return NULL;
        p->trials.v = g;
        memset(g + p->trials.n, 0, ((size_t)number + 1 - p->trials.n) * sizeof *g);
        p->trials.n = (size_t)number + 1;
    }
    return &p->trials.v[number];
}

/* what the metric reads, from the signed form */
static double unsign(const hp_pruner_t *p, double v)
{
    return p->cfg.maximize ? -v : v;
}

static void stop_with(hp_prune_verdict_t *v, trial_t *t, int64_t step, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void stop_with(hp_prune_verdict_t *v, trial_t *t, int64_t step, const char *fmt, ...)
{
    t->stop_step = step;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->reason, sizeof v->reason, fmt, ap);
    va_end(ap);
    v->stop = 1;
    t->stopped = 1;
    free(t->reason);
    t->reason = strdup(v->reason); /* NULL on no memory: only the text is lost */
}

/* --- the rank check -------------------------------------------------- */

/* rank[i] of x[i] in 1..n, ties at their average rank; tmp holds n */
static void ranks(const pair_t *pairs, size_t n, int second, hp_idx_val_t *tmp, double *rank)
{
    for (size_t i = 0; i < n; i++)
        tmp[i] = (hp_idx_val_t){second ? pairs[i].last : pairs[i].at_rung, i};
    qsort(tmp, n, sizeof *tmp, hp_cmp_idx_val);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && tmp[j].v == tmp[i].v)
            j++;
        double avg = (double)(i + j + 1) / 2.0; /* ranks i+1 .. j */
        for (size_t k = i; k < j; k++)
            rank[tmp[k].i] = avg;
        i = j;
    }
}

/* the pairs a rung needs before its correlation counts: min_trials, and
 * at least 2 (one pair has no rank order) */
static size_t rank_need(const hp_pruner_t *p)
{
    return p->cfg.min_trials < 2 ? 2 : p->cfg.min_trials;
}

/* Spearman's rank correlation of a rung's (value there, last value)
 * pairs: NAN when there are fewer than rank_need of them or either side
 * is constant; HP_ENOMEM. */
static int rank_corr(const hp_pruner_t *p, const rung_t *r, double *out)
{
    size_t n = r->done.n;
    *out = NAN;
    if (n < rank_need(p))
        return 0;
    hp_idx_val_t *tmp = malloc(n * sizeof *tmp);
    double *ra = malloc(2 * n * sizeof *ra);
    if (!tmp || !ra) {
        free(tmp);
        free(ra);
        return HP_ENOMEM;
    }
    double *rb = ra + n;
    ranks(r->done.v, n, 0, tmp, ra);
    ranks(r->done.v, n, 1, tmp, rb);
    double mean = (double)(n + 1) / 2.0, sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        double a = ra[i] - mean, b = rb[i] - mean;
        sab += a * b;
        saa += a * a;
        sbb += b * b;
    }
    free(tmp);
    free(ra);
    if (saa > 0 && sbb > 0)
        *out = sab / sqrt(saa * sbb);
    return 0;
}

/* The rung turned its cutting off (spare) or on again: one note for the
 * daemon's event (beyond HP_PRUNE_NOTES in one report only the state
 * changes). */
static void flip(hp_pruner_t *p, rung_t *r, const char *where, hp_prune_verdict_t *v, int spare,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void flip(hp_pruner_t *p, rung_t *r, const char *where, hp_prune_verdict_t *v, int spare,
                 const char *fmt, ...)
{
    r->sparing = spare;
    if (v->flips >= HP_PRUNE_NOTES)
        return;
    char *n = v->note[v->flips++];
    int k = snprintf(n, sizeof v->note[0], "rung %" PRId64 "%s %s: its %s ", r->step, where,
                     spare ? "stops no trial for now" : "stops trials again", p->metric);
    if (k < 0 || (size_t)k >= sizeof v->note[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n + k, sizeof v->note[0] - (size_t)k, fmt, ap);
    va_end(ap);
}

/* rho as printed: rounded down to 3 decimals, so a value just below the
 * threshold never reads as equal to it */
static double shown(double rho)
{
    return floor(rho * 1000.0 + 1e-9) / 1000.0;
}

/* A trial at rung r is not in its top 1/eta: with the rank check on, does
 * the rung spare it? 1 yes, 0 no (then *why says the evidence, or is
 * empty), HP_ENOMEM. */
static int rank_spares(hp_pruner_t *p, rung_t *r, const char *where, hp_prune_verdict_t *v,
                       char *why, size_t whylen)
{
    why[0] = '\0';
    if (!(p->cfg.min_rank_corr > 0))
        return 0;
    double rho;
    if (rank_corr(p, r, &rho) < 0)
        return HP_ENOMEM;
    v->rank_n = (uint32_t)r->done.n;
    v->rank_corr = rho;
    if (!isfinite(rho)) { /* no evidence (any more): cut as plain asha */
        size_t need = rank_need(p);
        if (r->sparing) {
            if (r->done.n < need)
                flip(p, r, where, v, 0,
                     "ranks %zu trials that completed after it, too few to check "
                     "(pruning.min_trials %zu)",
                     r->done.n, need);
            else
                flip(p, r, where, v, 0,
                     "is the same for all %zu trials that completed after it (or their ends "
                     "are): no rank to check",
                     r->done.n);
        }
        return 0;
    }
    int spare = rho < p->cfg.min_rank_corr;
    if (spare != r->sparing)
        flip(p, r, where, v, spare,
             "ranks the %zu trials that completed after it at Spearman %.3f, %s "
             "pruning.min_rank_correlation %g",
             r->done.n, shown(rho), spare ? "below" : "at least", p->cfg.min_rank_corr);
    if (spare) {
        v->spared = 1;
        return 1;
    }
    snprintf(why, whylen, "; the rung ranks %zu completed trials at Spearman %.3f", r->done.n,
             shown(rho));
    return 0;
}

static int judge_rungs(hp_pruner_t *p, uint64_t number, trial_t *t, int64_t step, double sv,
                       hp_prune_verdict_t *v)
{
    uint32_t b = hp_pruner_bracket(p, number);
    bracket_t *br = &p->br[b];
    v->bracket = b;
    while (t->next_rung < br->n && step >= br->rungs[t->next_rung].step) {
        rung_t *r = &br->rungs[t->next_rung];
        double *g = hp_vec_try_grow(t->rung_val.v, &t->rung_val.cap, t->rung_val.n + 1,
                                    sizeof *t->rung_val.v, 4);
        if (!g || sorted_insert(&r->sorted, sv) < 0) {
            if (g)
                t->rung_val.v = g;
            return HP_ENOMEM;
        }
        t->rung_val.v = g;
        t->rung_val.v[t->rung_val.n++] = sv;
        t->next_rung++;
        size_t n = r->sorted.n, keep = n / (size_t)p->cfg.eta;
        if (keep < 1)
            keep = 1;
        double cut = r->sorted.v[keep - 1];
        v->judged = 1;
        v->rung_step = r->step;
        v->n = (uint32_t)n;
        v->cutoff = unsign(p, cut);
        if (sv <= cut)
            continue;
        const char *rule = hp_prune_rule_name(p->cfg.rule);
        char where[48] = "", why[96];
        if (p->nbr > 1)
            snprintf(where, sizeof where, " (bracket %u)", b);
        int spare = rank_spares(p, r, where, v, why, sizeof why);
        if (spare < 0)
            return spare;
        if (spare)
            continue;
        if (keep == 1 && n < (size_t)p->cfg.eta)
            stop_with(v, t, step,
                      "pruned at step %" PRId64 " by %s: %s %.6g is not the best of the %zu "
                      "trials at rung %" PRId64 "%s, best %.6g%s",
                      step, rule, p->metric, unsign(p, sv), n, r->step, where, v->cutoff, why);
        else
            stop_with(v, t, step,
                      "pruned at step %" PRId64 " by %s: %s %.6g not in the top 1/%" PRId64
                      " of %zu trials at rung %" PRId64 "%s, cut-off %.6g%s",
                      step, rule, p->metric, unsign(p, sv), p->cfg.eta, n, r->step, where,
                      v->cutoff, why);
        return 0;
    }
    return 0;
}

/* numpy's default percentile (linear between the nearest ranks) of a
 * sorted array */
static double percentile(const dvec_t *s, double q)
{
    double pos = q / 100.0 * (double)(s->n - 1);
    size_t lo = (size_t)floor(pos);
    if (lo + 1 >= s->n)
        return s->v[s->n - 1];
    return s->v[lo] + (s->v[lo + 1] - s->v[lo]) * (pos - (double)lo);
}

static void judge_median(hp_pruner_t *p, trial_t *t, int64_t step, hp_prune_verdict_t *v)
{
    const hp_pruner_config_t *c = &p->cfg;
    if (step < c->warmup_steps || p->ncompleted == 0 || p->ncompleted < c->min_trials)
        return;
    /* at max_resource the trial is complete: stopping it would save nothing
     * and lose its result */
    if (c->max_resource > 0 && step >= c->max_resource)
        return;
    /* only the first report in each interval after the warm-up is judged */
    int64_t nearest = (step - c->warmup_steps) / c->interval_steps * c->interval_steps +
                      c->warmup_steps;
    int64_t before = t->curve.n >= 2 ? t->curve.v[t->curve.n - 2].step : -1;
    if (before >= nearest)
        return;
    int found;
    size_t i = step_find(p, step, &found);
    if (!found || p->steps.v[i].sorted.n == 0)
        return;
    const dvec_t *s = &p->steps.v[i].sorted;
    double med = percentile(s, 50.0);
    v->judged = 1;
    v->n = (uint32_t)s->n;
    v->cutoff = unsign(p, med);
    if (t->best > med)
        stop_with(v, t, step,
                  "pruned at step %" PRId64 " by median: best %s so far %.6g is worse than the "
                  "median %.6g of %zu completed trials at step %" PRId64,
                  step, p->metric, unsign(p, t->best), v->cutoff, s->n, step);
}

int hp_pruner_report(hp_pruner_t *p, uint64_t number, int64_t step, double value,
                     hp_prune_verdict_t *v)
{
    memset(v, 0, sizeof *v);
    if (p->cfg.rule == HP_PRUNE_NONE)
        return 0;
    trial_t *t = trial_get(p, number);
    if (!t)
        return HP_ENOMEM;
    if (t->stopped || t->completed)
        return 0;
    v->bracket = hp_pruner_bracket(p, number);
    if (!isfinite(value)) {
        t->diverged = 1;
        stop_with(v, t, step, "pruned at step %" PRId64 " by %s: %s is %s (judged as diverged)", step,
                  hp_prune_rule_name(p->cfg.rule), p->metric,
                  isnan(value) ? "nan" : value > 0 ? "inf" : "-inf");
        return 0;
    }
    if (t->seen && step <= t->last_step)
        return 0; /* a repeated step */
    double sv = p->cfg.maximize ? -value : value;
    if (p->cfg.rule == HP_PRUNE_MEDIAN) {
        point_t pt = {step, sv};
        point_t *g = hp_vec_try_grow(t->curve.v, &t->curve.cap, t->curve.n + 1,
                                     sizeof *t->curve.v, HP_VEC_MIN_CAP);
        if (!g)
            return HP_ENOMEM;
        t->curve.v = g;
        t->curve.v[t->curve.n++] = pt;
    }
    t->best = t->seen && t->best < sv ? t->best : sv;
    t->seen = 1;
    t->last_step = step;
    t->last = sv;
    if (p->cfg.rule == HP_PRUNE_MEDIAN) {
        judge_median(p, t, step, v);
        return 0;
    }
    return judge_rungs(p, number, t, step, sv, v);
}

int hp_pruner_complete(hp_pruner_t *p, uint64_t number)
{
    if (p->cfg.rule == HP_PRUNE_NONE)
        return 0;
    trial_t *t = trial_get(p, number);
    if (!t)
        return HP_ENOMEM;
    if (t->completed)
        return 0;
    for (size_t k = 0; k < t->curve.n; k++) {
        int found;
        size_t i = step_find(p, t->curve.v[k].step, &found);
        if (!found) {
            rung_t e = {.step = t->curve.v[k].step};
            rung_t *g = hp_vec_try_grow(p->steps.v, &p->steps.cap, p->steps.n + 1,
                                        sizeof *p->steps.v, HP_VEC_MIN_CAP);
            if (!g)
                return HP_ENOMEM;
            p->steps.v = g;
            memmove(g + i + 1, g + i, (p->steps.n - i) * sizeof *g);
            g[i] = e;
            p->steps.n++;
        }
        if (sorted_insert(&p->steps.v[i].sorted, t->curve.v[k].v) < 0)
            return HP_ENOMEM;
    }
    /* the rank check's pairs: not from a trial the rule stopped that
     * completed anyway (it did not pass the rung, and its last value is
     * where it was stopped); room on every rung first, so no memory
     * leaves no pair behind */
    if (t->rung_val.n && !t->stopped) {
        bracket_t *br = &p->br[hp_pruner_bracket(p, number)];
        size_t nr = t->rung_val.n < br->n ? t->rung_val.n : br->n;
        for (size_t k = 0; k < nr; k++) {
            rung_t *r = &br->rungs[k];
            pair_t *g = hp_vec_try_grow(r->done.v, &r->done.cap, r->done.n + 1,
                                        sizeof *r->done.v, HP_VEC_MIN_CAP);
            if (!g)
                return HP_ENOMEM;
            r->done.v = g;
        }
        for (size_t k = 0; k < nr; k++) {
            rung_t *r = &br->rungs[k];
            r->done.v[r->done.n++] = (pair_t){t->rung_val.v[k], t->last};
        }
    }
    t->completed = 1;
    p->ncompleted++;
    p->gen++;
    return 0;
}

/* the value completed trial j reported at step (median rule: its curve) */
static int curve_at(const trial_t *j, int64_t step, double *out)
{
    for (size_t k = 0; k < j->curve.n && j->curve.v[k].step <= step; k++)
        if (j->curve.v[k].step == step) {
            *out = j->curve.v[k].v;
            return 1;
        }
    return 0;
}

/* The median change from step to the end of the trials that passed step
 * and completed, computed once per step until the next completion or
 * forget; 0 when fewer than HP_PRUNE_PROJECT_MIN give one, or no memory. */
static int step_delta(hp_pruner_t *p, int64_t at, double *med, uint32_t *n)
{
    size_t e = 0; /* the step's cache entry, or where it goes */
    while (e < p->proj.n && p->proj.v[e].step != at)
        e++;
    if (e < p->proj.n && p->proj.v[e].gen == p->gen) {
        *med = p->proj.v[e].med;
        *n = p->proj.v[e].n;
        return *n >= HP_PRUNE_PROJECT_MIN;
    }
    size_t cap = 0, nd = 0;
    if (p->cfg.rule == HP_PRUNE_MEDIAN) {
        cap = p->ncompleted;
    } else {
        for (uint32_t b = 0; b < p->nbr; b++)
            for (size_t k = 0; k < p->br[b].n; k++)
                if (p->br[b].rungs[k].step == at)
                    cap += p->br[b].rungs[k].done.n;
    }
    double *d = cap >= HP_PRUNE_PROJECT_MIN ? malloc(cap * sizeof *d) : NULL;
    if (d && p->cfg.rule == HP_PRUNE_MEDIAN) {
        for (size_t i = 0; i < p->trials.n && nd < cap; i++) {
            const trial_t *j = &p->trials.v[i];
            double v;
            if (j->completed && !j->stopped && j->seen && curve_at(j, at, &v))
                d[nd++] = j->last - v;
        }
    } else if (d) {
        for (uint32_t b = 0; b < p->nbr; b++)
            for (size_t k = 0; k < p->br[b].n; k++) {
                const rung_t *r = &p->br[b].rungs[k];
                for (size_t i = 0; r->step == at && i < r->done.n; i++)
                    d[nd++] = r->done.v[i].last - r->done.v[i].at_rung;
            }
    }
    if (cap >= HP_PRUNE_PROJECT_MIN && !d)
        return 0; /* no memory: nothing cached, tried again next time */
    *med = 0;
    if (nd >= HP_PRUNE_PROJECT_MIN) {
        qsort(d, nd, sizeof *d, hp_cmp_double);
        *med = percentile(&(dvec_t){.v = d, .n = nd}, 50.0);
    }
    *n = (uint32_t)nd;
    free(d);
    if (e == p->proj.n) {
        proj_t *g = hp_vec_try_grow(p->proj.v, &p->proj.cap, p->proj.n + 1, sizeof *p->proj.v,
                                    HP_VEC_MIN_CAP);
        if (!g)
            return nd >= HP_PRUNE_PROJECT_MIN;
        p->proj.v = g;
        p->proj.n++;
    }
    p->proj.v[e] = (proj_t){at, p->gen, *med, *n};
    return nd >= HP_PRUNE_PROJECT_MIN;
}

int hp_pruner_projection(hp_pruner_t *p, uint64_t number, double *value, uint32_t *n)
{
    *n = 0;
    if (p->cfg.rule == HP_PRUNE_NONE || number >= p->trials.n)
        return 0;
    const trial_t *t = &p->trials.v[number];
    /* a stop for a non-finite value is the only one not made at the
     * trial's last, finite report */
    if (!t->stopped || t->diverged)
        return 0;
    /* asha, hyperband: from the rung that stopped it, pooled over brackets */
    int64_t at = t->stop_step;
    if (p->cfg.rule != HP_PRUNE_MEDIAN) {
        const bracket_t *own = &p->br[hp_pruner_bracket(p, number)];
        if (t->rung_val.n == 0 || t->rung_val.n > own->n)
            return 0;
        at = own->rungs[t->rung_val.n - 1].step;
    }
    double med;
    if (!step_delta(p, at, &med, n))
        return 0;
    *value = unsign(p, t->last + med);
    return 1;
}

void hp_pruner_forget(hp_pruner_t *p, uint64_t number)
{
    if (number >= p->trials.n)
        return;
    trial_t *t = &p->trials.v[number];
    if (t->rung_val.n) {
        bracket_t *br = &p->br[hp_pruner_bracket(p, number)];
        for (size_t k = 0; k < t->rung_val.n && k < br->n; k++) {
            rung_t *r = &br->rungs[k];
            sorted_remove(&r->sorted, t->rung_val.v[k]);
            for (size_t i = 0; t->completed && !t->stopped && i < r->done.n; i++)
                if (r->done.v[i].at_rung == t->rung_val.v[k] && r->done.v[i].last == t->last) {
                    r->done.v[i] = r->done.v[--r->done.n];
                    break;
                }
        }
    }
    if (t->completed) {
        for (size_t k = 0; k < t->curve.n; k++) {
            int found;
            size_t i = step_find(p, t->curve.v[k].step, &found);
            if (found)
                sorted_remove(&p->steps.v[i].sorted, t->curve.v[k].v);
        }
        p->ncompleted--;
    }
    p->gen++;
    trial_clear(t);
}
