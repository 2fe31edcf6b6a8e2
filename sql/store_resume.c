/* store_resume.c — resuming a study: the study and its trials together,
 * so it sits above store_study.c and store_trial.c (each calls the other
 * not). */
#include "store_int.h"

#include "err.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct stale {
    hp_store_t *st;
    int64_t n;
    char *err;
    size_t errlen;
} stale_t;

/* A trial still `running` in an ended study has no attempt any
 * coordinator watches (it stopped before the attempt ended): back to
 * pending, its attempt interrupted. One the user's own loop runs (ask, no
 * worker) waits for its tell as before. */
static int requeue_stale(void *data, const hp_trial_t *t)
{
    stale_t *sd = data;
    if (!t->worker_id)
        return 0;
    int rc = hp_store_trial_requeue(sd->st, t->id, t->lease_id, HP_ATTEMPT_INTERRUPTED,
                                    "the coordinator stopped before this attempt ended; the "
                                    "study was resumed",
                                    sd->err, sd->errlen);
    if (rc == 0)
        sd->n++;
    return rc;
}

int hp_store_study_resume(hp_store_t *st, int64_t id, hp_study_state_t *was, char *note,
                          size_t notelen, char *err, size_t errlen)
{
    int rc = hp_store_op_begin(st, "resume a study", err, errlen);
    if (rc < 0)
        return rc;
    hp_study_state_t state = HP_STUDY_RUNNING;
    hp_goal_t goal;
    char name[128];
    rc = hp_store_study_brief(st, id, &state, &goal, name, sizeof name, err, errlen);
    if (rc == 0 && state == HP_STUDY_RUNNING)
        rc = hp_errf(err, errlen, HP_ESTATE,
                     "study '%s' is running; only a cancelled or failed study can be resumed",
                     name);
    else if (rc == 0 && state == HP_STUDY_COMPLETED)
        rc = hp_errf(err, errlen, HP_ESTATE,
                     "study '%s' is completed; raise max_trials to continue it (submit or run "
                     "its spec again with a larger search.max_trials)",
                     name);
    int64_t requeued = 0, counts[HP_TRIAL_STATE_COUNT_];
    if (rc == 0)
        rc = hp_store_study_reopen(st, id, err, errlen);
    if (rc == 0)
        rc = hp_store_trial_uncancel(st, id, &requeued, err, errlen);
    stale_t stale = {st, 0, err, errlen};
    if (rc == 0)
        rc = hp_store_trial_list(st, id, HP_TRIAL_MASK(HP_TRIAL_RUNNING), requeue_stale, &stale,
                                 err, errlen);
    if (rc == 0)
        rc = hp_store_trial_count(st, id, counts, err, errlen);
    char text[256] = "";
    if (rc == 0) {
        int64_t pending = counts[HP_TRIAL_PENDING];
        snprintf(text, sizeof text, "it was %s; %" PRId64 " trial%s pending", hp_study_state_name(state),
                 pending, pending == 1 ? " is" : "s are");
        size_t n = strlen(text);
        if (requeued)
            snprintf(text + n, sizeof text - n, ", %" PRId64 " of them cancelled before", requeued);
        n = strlen(text);
        if (stale.n)
            snprintf(text + n, sizeof text - n,
                     ", %" PRId64 " whose attempt no coordinator saw end", stale.n);
        rc = hp_store_event_append(st, "study_resumed", id, 0, NULL, text, err, errlen);
    }
    rc = hp_store_op_end(st, rc, err, errlen);
    if (rc == 0) {
        if (was)
            *was = state;
        if (note)
            snprintf(note, notelen, "%s", text);
    }
    return rc;
}
