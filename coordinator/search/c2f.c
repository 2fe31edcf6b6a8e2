/* Coarse-to-fine search (c2f.h). */
#include "c2f.h"

#include "err.h"
#include "idx_val.h"
#include "sobol.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t per_round(const hp_sampler_t *s)
{
    uint64_t t = s->spec->search.trials_per_round;
    return t ? t : 1;
}

unsigned hp_c2f_rounds(const hp_sampler_t *s)
{
    return s->spec->search.rounds ? s->spec->search.rounds : 1;
}

unsigned hp_c2f_round_of(const hp_sampler_t *s, uint64_t number)
{
    uint64_t r = number / per_round(s);
    unsigned R = hp_c2f_rounds(s);
    return r >= R ? R - 1 : (unsigned)r;
}

uint64_t hp_c2f_round_first(const hp_sampler_t *s, unsigned round)
{
    return (uint64_t)round * per_round(s);
}

static size_t top_count(const hp_sampler_t *s)
{
    if (s->spec->search.top_k)
        return s->spec->search.top_k;
    double f = s->spec->search.top_fraction > 0 ? s->spec->search.top_fraction : 0.25;
    double k = ceil(f * (double)per_round(s));
    return k < 1 ? 1 : (size_t)k;
}

typedef struct ranked {
    double v; /* to minimise */
    uint64_t seq; /* ties: prior observations first (in their order), then trials by number */
    uint64_t number;
    int prior; /* a prior observation (warm start), index number into s->prior */
    const double *x;
} ranked_t;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked_t *p = a, *q = b;
    if (p->v != q->v)
        return p->v < q->v ? -1 : 1;
    return p->seq < q->seq ? -1 : p->seq > q->seq;
}

/* The best completed trials before `limit` and prior observations (a warm
 * start: a round before round 0), best first; *n_out of them (at most
 * top_count). Returns HP_EBUSY if one of the trials is still pending. */
static int best_before(const hp_sampler_t *s, const hp_history_t *h, uint64_t limit,
                       ranked_t **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    const hp_prior_t *pr = &s->prior;
    size_t n = pr->n;
    for (size_t i = 0; i < h->n; i++) {
        if (h->obs[i].number >= limit)
            continue;
        if (h->obs[i].state == HP_OBS_PENDING)
            return HP_EBUSY;
        if (h->obs[i].state == HP_OBS_COMPLETED && isfinite(h->obs[i].value))
            n++;
    }
    if (!n)
        return 0;
    ranked_t *r = malloc(n * sizeof *r);
    if (!r)
        return HP_ENOMEM;
    int maximize = s->spec->objective.goal == HP_GOAL_MAXIMIZE;
    size_t j = 0;
    for (size_t i = 0; i < pr->n; i++) {
        const hp_obs_t *o = &pr->obs[i];
        r[j++] = (ranked_t){maximize ? -o->value : o->value, i, i, 1, o->x};
    }
    for (size_t i = 0; i < h->n; i++) {
        const hp_obs_t *o = &h->obs[i];
        /* a trial that breaks the constraints ranks after every one that
         * meets them: the ranges shrink around feasible trials */
        if (o->number < limit && o->state == HP_OBS_COMPLETED && isfinite(o->value))
            r[j++] = (ranked_t){!hp_sampler_obs_feasible(s->spec, o) ? INFINITY
                                : maximize                         ? -o->value
                                                                   : o->value,
                                pr->n + o->number, o->number, 0, o->x};
    }
    qsort(r, n, sizeof *r, cmp_ranked);
    size_t k = top_count(s);
    *out = r;
    *n_out = k < n ? k : n;
    return 0;
}

int hp_c2f_round_box(const hp_sampler_t *s, unsigned round, const hp_history_t *h, double *lo,
                     double *hi, unsigned char **allowed)
{
    const hp_space_t *sp = &s->spec->space;
    if (round >= hp_c2f_rounds(s))
        return HP_ERANGE;
    ranked_t *best = NULL;
    size_t nb = 0;
    /* a warm start's observations are a round before round 0 */
    unsigned warm = s->prior.n > 0;
    int rc = round || warm ? best_before(s, h, (uint64_t)round * per_round(s), &best, &nb) : 0;
    if (rc < 0)
        return rc;
    double width = pow(s->spec->search.shrink > 0 ? s->spec->search.shrink : 0.5, round + warm);
    double *coord = nb ? malloc(nb * sizeof *coord) : NULL;
    double u[HP_SPACE_MAX_PARAMS];
    if (nb && !coord) {
        free(best);
        return HP_ENOMEM;
    }
    for (size_t i = 0; i < sp->n; i++) {
        const hp_param_t *p = &sp->params[i];
        lo[i] = 0;
        hi[i] = 1;
        if (p->type == HP_PARAM_CATEGORICAL) {
            if (!allowed)
                continue;
            memset(allowed[i], nb ? 0 : 1, p->n_values);
            for (size_t j = 0; j < nb; j++) {
                double v = best[j].x[i];
                size_t c = v >= 0 && v < (double)p->n_values ? (size_t)v : 0;
                allowed[i][c] = 1;
            }
            continue;
        }
        if (!nb)
            continue;
        /* the median of the best k's coordinates among those within half a
         * width of the best trial's: around the best trials, yet never
         * between two far-apart optima */
        hp_space_to_unit(sp, best[0].x, u);
        double c0 = u[i];
        size_t nn = 0;
        for (size_t j = 0; j < nb; j++) {
            hp_space_to_unit(sp, best[j].x, u);
            if (fabs(u[i] - c0) <= 0.5 * width)
                coord[nn++] = u[i];
        }
        qsort(coord, nn, sizeof *coord, hp_cmp_double);
        double c = nn % 2 ? coord[nn / 2] : 0.5 * (coord[nn / 2 - 1] + coord[nn / 2]);
        double a = c - 0.5 * width, b = c + 0.5 * width;
        if (a < 0) {
            b -= a;
            a = 0;
        }
        if (b > 1) {
            a -= b - 1;
            b = 1;
        }
        lo[i] = a < 0 ? 0 : a;
        hi[i] = b;
    }
    free(coord);
    free(best);
    return 0;
}

static uint64_t round_seed(uint64_t seed, unsigned round)
{
    /* splitmix64 of (seed, round): unrelated scrambles per round */
    uint64_t z = seed + 0x9E3779B97F4A7C15ull * (round + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct box {
    double lo[HP_SPACE_MAX_PARAMS], hi[HP_SPACE_MAX_PARAMS];
    unsigned char *allowed[HP_SPACE_MAX_PARAMS];
    unsigned char *mem;
} box_t;

static int box_alloc(const hp_space_t *sp, box_t *b)
{
    size_t total = 0;
    for (size_t i = 0; i < sp->n; i++)
        if (sp->params[i].type == HP_PARAM_CATEGORICAL)
            total += sp->params[i].n_values;
    b->mem = malloc(total ? total : 1);
    if (!b->mem)
        return HP_ENOMEM;
    size_t off = 0;
    for (size_t i = 0; i < sp->n; i++) {
        b->allowed[i] = NULL;
        if (sp->params[i].type == HP_PARAM_CATEGORICAL) {
            b->allowed[i] = b->mem + off;
            off += sp->params[i].n_values;
        }
    }
    return 0;
}

static int c2f_suggest(hp_sampler_t *s, uint64_t number, const hp_history_t *h, double *x,
                       char *err, size_t errlen)
{
    const hp_space_t *sp = &s->spec->space;
    unsigned round = hp_c2f_round_of(s, number);
    box_t b;
    if (box_alloc(sp, &b) < 0)
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    int rc = hp_c2f_round_box(s, round, h, b.lo, b.hi, b.allowed);
    if (rc == HP_EBUSY) {
        free(b.mem);
        return hp_errf(err, errlen, HP_EBUSY,
                       "coarse-to-fine round %u waits for the trials of round %u to finish",
                       round, round - 1);
    }
    if (rc < 0) {
        free(b.mem);
        return hp_errf(err, errlen, rc, "coarse-to-fine: %s", hp_strerror(rc));
    }
    hp_sobol_t q;
    rc = hp_sobol_init(&q, (unsigned)sp->n, 1, round_seed(s->spec->search.seed, round));
    if (rc < 0) {
        free(b.mem);
        return hp_errf(err, errlen, rc, "sobol: cannot build a sequence in %zu dimensions",
                       sp->n);
    }
    hp_sobol_skip(&q, number - (uint64_t)round * per_round(s));
    double qu[HP_SPACE_MAX_PARAMS], u[HP_SPACE_MAX_PARAMS];
    hp_sobol_next(&q, qu);
    hp_sobol_fini(&q);
    for (size_t i = 0; i < sp->n; i++) {
        const hp_param_t *p = &sp->params[i];
        if (p->type != HP_PARAM_CATEGORICAL) {
            u[i] = b.lo[i] + qu[i] * (b.hi[i] - b.lo[i]);
            continue;
        }
        size_t m = 0, k = p->n_values;
        for (size_t j = 0; j < k; j++)
            m += b.allowed[i][j];
        size_t pick = (size_t)(qu[i] * (double)m), c = 0;
        if (pick >= m)
            pick = m - 1;
        for (size_t j = 0; j < k; j++)
            if (b.allowed[i][j] && pick-- == 0) {
                c = j;
                break;
            }
        u[i] = ((double)c + 0.5) / (double)k;
    }
    free(b.mem);
    hp_space_from_unit(sp, u, x);
    return 0;
}

int hp_c2f_round_ranges_json(const hp_sampler_t *s, unsigned round, const hp_history_t *h,
                             hp_buf_t *out)
{
    const hp_space_t *sp = &s->spec->space;
    box_t b;
    if (box_alloc(sp, &b) < 0)
        return HP_ENOMEM;
    int rc = hp_c2f_round_box(s, round, h, b.lo, b.hi, b.allowed);
    ranked_t *best = NULL;
    size_t nb = 0;
    if (rc == 0 && (round || s->prior.n))
        rc = best_before(s, h, (uint64_t)round * per_round(s), &best, &nb);
    if (rc < 0) {
        free(b.mem);
        return rc;
    }
    uint64_t first = (uint64_t)round * per_round(s);
    uint64_t last = round + 1 == hp_c2f_rounds(s) ? s->total - 1 : first + per_round(s) - 1;
    if (last >= s->total && s->total)
        last = s->total - 1;
    hp_buf_printf(out, "{\"round\":%u,\"first_trial\":%llu,\"last_trial\":%llu,\"best\":[", round,
                  (unsigned long long)first, (unsigned long long)last);
    int nbest = 0;
    for (size_t j = 0; j < nb; j++)
        if (!best[j].prior)
            hp_buf_printf(out, "%s%llu", nbest++ ? "," : "", (unsigned long long)best[j].number);
    hp_buf_putc(out, ']');
    if (s->prior.n) {
        /* the warm start's observations among the best, as STUDY#NUMBER */
        hp_buf_puts(out, ",\"warm_best\":[");
        nbest = 0;
        for (size_t j = 0; j < nb; j++) {
            if (!best[j].prior)
                continue;
            char label[HP_SPEC_NAME_MAX + 24];
            snprintf(label, sizeof label, "%s#%llu", hp_sampler_prior_study(s, best[j].number),
                     (unsigned long long)s->prior.obs[best[j].number].number);
            if (nbest++)
                hp_buf_putc(out, ',');
            hp_buf_json_string(out, label);
        }
        hp_buf_putc(out, ']');
    }
    hp_buf_puts(out, ",\"params\":{");
    double ulo[HP_SPACE_MAX_PARAMS], uhi[HP_SPACE_MAX_PARAMS];
    double xlo[HP_SPACE_MAX_PARAMS], xhi[HP_SPACE_MAX_PARAMS];
    memcpy(ulo, b.lo, sp->n * sizeof *ulo);
    memcpy(uhi, b.hi, sp->n * sizeof *uhi);
    hp_space_from_unit(sp, ulo, xlo);
    hp_space_from_unit(sp, uhi, xhi);
    for (size_t i = 0; i < sp->n; i++) {
        const hp_param_t *p = &sp->params[i];
        if (i)
            hp_buf_putc(out, ',');
        hp_buf_json_string(out, p->name);
        hp_buf_putc(out, ':');
        if (p->type == HP_PARAM_CATEGORICAL) {
            hp_buf_puts(out, "{\"values\":[");
            int any = 0;
            for (size_t j = 0; j < p->n_values; j++) {
                if (!b.allowed[i][j])
                    continue;
                if (any++)
                    hp_buf_putc(out, ',');
                if (p->values[j].is_number)
                    hp_buf_json_number(out, p->values[j].num);
                else
                    hp_buf_json_string(out, p->values[j].text);
            }
            hp_buf_puts(out, "]}");
            continue;
        }
        hp_buf_puts(out, "{\"low\":");
        hp_buf_json_number(out, xlo[i]);
        hp_buf_puts(out, ",\"high\":");
        hp_buf_json_number(out, xhi[i]);
        hp_buf_puts(out, ",\"unit\":[");
        hp_buf_json_number(out, b.lo[i]);
        hp_buf_putc(out, ',');
        hp_buf_json_number(out, b.hi[i]);
        hp_buf_puts(out, "]}");
    }
    hp_buf_puts(out, "}}");
    free(best);
    free(b.mem);
    return 0;
}

const hp_sampler_vt_t hp_sampler_c2f = {
    .name = "coarse-to-fine",
    .suggest = c2f_suggest,
};
