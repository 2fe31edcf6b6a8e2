/* search.max_failures: a study in which no trial can succeed gives up,
 * loudly, instead of failing every trial it was asked for and ending
 * 'completed'.
 *
 * Trials count in the order they end. A trial that failed (its retries
 * used up, or a non-finite objective) adds to the study's run of
 * failures; one that completed ends the run. Pruned and cancelled trials
 * do neither. The study gives up when the run reaches max_failures, or,
 * while no trial of the study has ever completed, min(3, max_failures):
 * a program that cannot start is known after three tries. max_failures 0
 * never gives up.
 *
 * Giving up marks the study failed with the first error of the run as its
 * reason, starts no further trial, leaves pending trials pending and asks
 * the running ones to stop: those come back to pending too (attempt.c),
 * so `hpsearch resume` continues with every trial that did not run to its
 * end. The counters live in memory: a study loaded at start-up or resumed
 * starts a new run (coord_failures_reset), knowing only whether some
 * trial ever completed. */
#include "coord_int.h"

#include "err.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void coord_failures_reset(coord_study_t *s)
{
    free(s->fails.first);
    s->fails.first = NULL;
    s->fails.streak = 0;
    s->fails.gave_up = 0;
}

void coord_failures_completed(coord_study_t *s)
{
    s->fails.succeeded = 1;
    s->fails.streak = 0;
    free(s->fails.first);
    s->fails.first = NULL;
}

static void give_up(coord_t *c, coord_study_t *s, uint32_t limit)
{
    char reason[1200], err[256];
    snprintf(reason, sizeof reason,
             "%" PRIu32 " trials failed in a row%s, the first (trial %" PRIu64 ") with: %s",
             s->fails.streak, s->fails.succeeded ? "" : " and none has completed",
             s->fails.first_number, s->fails.first ? s->fails.first : "(no error given)");
    s->active = 0;
    s->fails.gave_up = 1;
    size_t stopping = 0;
    for (size_t i = 0; i < c->runs.n; i++) {
        coord_run_t *r = &c->runs.v[i];
        if (r->study != s || r->stop)
            continue;
        r->stop = 1;
        snprintf(r->stop_reason, sizeof r->stop_reason,
                 "the study failed; this trial goes back to pending");
        stopping++;
    }
    hp_log_error("study %s failed (search.max_failures: %" PRIu32 "; %zu running trials told "
                 "to stop): %s",
                 s->spec.name, limit, stopping, reason);
    if (coord_write_begin(c) < 0)
        return;
    int rc = hp_store_study_set_state(c->store, s->id, HP_STUDY_FAILED, reason, err, sizeof err);
    if (rc < 0) {
        /* HP_ESTATE: the stored study is not running, though ours is */
        if (!coord_store_failed(c, rc, "study '%s': cannot mark it failed: %s", s->spec.name,
                                err))
            hp_log_error("study %s: cannot mark failed: %s", s->spec.name, err);
        return;
    }
    hp_store_event_append(c->store, "study_failed", s->id, 0, NULL, reason, err, sizeof err);
}

void coord_failures_failed(coord_t *c, coord_study_t *s, uint64_t number, const char *error)
{
    if (!s->active)
        return; /* cancelled, or given up already: nothing more to decide */
    if (s->fails.streak++ == 0) {
        free(s->fails.first);
        s->fails.first = strdup(error && *error ? error : "(no error given)");
        HP_ASSERT(s->fails.first != NULL);
        s->fails.first_number = number;
    }
    uint32_t max = s->spec.search.max_failures;
    if (max == 0)
        return;
    uint32_t limit = s->fails.succeeded ? max : (max < 3 ? max : 3);
    if (s->fails.streak >= limit)
        give_up(c, s, max);
}
