/* The bottom floor, beside tick.c: the loop's clock, and finding, adding
 * and removing entries of the tables coord_t holds (studies, runs,
 * workers). Nothing here calls another coordinator file. */
#include "coord_int.h"

#include "err.h"
#include "log.h"
#include "token.h"

#include <stdlib.h>
#include <string.h>

uint64_t coord_now_ms(coord_t *c)
{
    /* never backwards: a stall is found (and taken off) only after the
     * messages read right after it were stamped with the loop's time */
    uint64_t t = uv_now(c->loop) - c->stalled_ms;
    if (t < c->clock_last)
        t = c->clock_last;
    c->clock_last = t;
    return t;
}

void coord_clock_stalled(coord_t *c, uint64_t ms) { c->stalled_ms += ms; }

int64_t coord_lease_new(coord_t *c)
{
    (void)c;
    uint64_t v = 0;
    char err[128];
    while (v == 0)
        if (hp_random_bytes(&v, sizeof v, err, sizeof err) < 0) {
            /* getrandom does not fail on Linux >= 3.17 once seeded */
            hp_log_error("%s", err);
            HP_ASSERT(!"no random bytes for a lease id");
        }
    return (int64_t)v;
}

uint64_t coord_lease_deadline_ms(coord_t *c) { return coord_now_ms(c) + (uint64_t)c->cfg.lease_ms; }

uint64_t coord_restart_grace_ms(const coord_t *c)
{
    return (uint64_t)c->cfg.lease_ms + HP_PROTO_REDIAL_MAX_MS;
}

coord_study_t *coord_study_by_id(coord_t *c, int64_t id)
{
    for (size_t i = 0; i < c->studies.n; i++)
        if (c->studies.v[i]->id == id)
            return c->studies.v[i];
    return NULL;
}

coord_study_t *coord_study_find(coord_t *c, const char *name_or_id)
{
    char *end;
    long long id = strtoll(name_or_id, &end, 10);
    for (size_t i = 0; i < c->studies.n; i++) {
        coord_study_t *s = c->studies.v[i];
        if ((*end == '\0' && s->id == id) || strcmp(s->spec.name, name_or_id) == 0)
            return s;
    }
    return NULL;
}

coord_worker_t *coord_worker_by_id(coord_t *c, uint64_t id)
{
    for (size_t i = 0; i < c->workers.n; i++)
        if (c->workers.v[i].id == id)
            return &c->workers.v[i];
    return NULL;
}

coord_run_t *coord_run_by_trial(coord_t *c, int64_t trial_id)
{
    for (size_t i = 0; i < c->runs.n; i++)
        if (c->runs.v[i].trial_id == trial_id)
            return &c->runs.v[i];
    return NULL;
}

void coord_run_add(coord_t *c, const coord_run_t *r)
{
    HP_VEC_PUSH(c->runs, *r);
    r->study->running++;
}

void coord_run_free(coord_run_t *r)
{
    free(r->loss.v);
    free(r->loss_step.v);
}

void coord_run_remove(coord_t *c, coord_run_t *r)
{
    size_t i = (size_t)(r - c->runs.v);
    HP_ASSERT(i < c->runs.n);
    r->study->running--;
    coord_run_free(r);
    c->runs.v[i] = c->runs.v[--c->runs.n];
    c->schedule_needed = 1; /* a slot of the study's parallelism is free */
}

void coord_shutdown_request(coord_t *c, const char *why)
{
    if (!c->shutdown_why)
        c->shutdown_why = why;
}
