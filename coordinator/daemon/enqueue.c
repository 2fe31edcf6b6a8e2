/* hpsearch enqueue: a trial whose params the user chose (the guide's
 * manual tuning; Optuna's enqueue_trial). The point is checked against
 * the study's space here, the one place that holds it; the trial waits as
 * pending, so the scheduler gives it out before any newly sampled trial,
 * and its result reaches the sampler like any other. */
#include "coord_int.h"

#include "err.h"
#include "log.h"
#include "params.h"

#include <inttypes.h>
#include <stdlib.h>

void coord_enqueue(coord_t *c, hp_rep_req_t *req, const Hpsearch__Enqueue *q)
{
    coord_study_t *s = coord_study_running(c, req, q->study, "enqueue");
    if (!s)
        return;
    const char *name = s->spec.name;
    /* a grid runs every point of its grid by number: a trial of the
     * user's would take a grid point's number, and that point never ran */
    if (s->spec.search.algorithm == HP_ALGO_GRID) {
        coord_reply_error(c, req, HP_EINVAL,
                          "cannot enqueue: study '%s' is a grid search, which runs each point "
                          "of its grid once; enqueue works with random, sobol, coarse-to-fine "
                          "and bayes studies",
                          name);
        return;
    }
    if (s->created >= s->total) {
        coord_reply_error(c, req, HP_ESTATE,
                          "cannot enqueue: study '%s' has all its %" PRIu64 " trials "
                          "(search.max_trials); an enqueued trial counts as one of them: "
                          "resubmit the spec with a larger max_trials to queue more",
                          name, s->total);
        return;
    }
    size_t n = q->n_params;
    const char **names = calloc(n + 1, sizeof *names), **values = calloc(n + 1, sizeof *values);
    HP_ASSERT(names && values);
    for (size_t i = 0; i < n; i++) {
        names[i] = q->params[i]->name;
        values[i] = q->params[i]->value;
    }
    double x[HP_SPACE_MAX_PARAMS];
    char err[1024];
    int rc = hp_params_from_assignments(&s->spec, names, values, n, x, err, sizeof err);
    free(names);
    free(values);
    if (rc < 0) {
        coord_reply_error(c, req, rc, "study '%s': %s", name, err);
        return;
    }
    if (coord_write_begin(c) < 0) {
        coord_reply_error(c, req, HP_EDB, "database unavailable");
        return;
    }
    coord_pick_t p;
    rc = coord_trial_add(c, s, x, HP_TRIAL_ORIGIN_ENQUEUED, &p, err, sizeof err);
    if (rc < 0) {
        coord_reply_error(c, req, rc, "cannot enqueue: %s", err);
        return;
    }
    s->pending++;
    c->schedule_needed = 1;
    hp_buf_t pj = {0}, msg = {0};
    hp_space_point_json(&s->spec.space, x, &pj);
    hp_buf_printf(&msg, "user's params %s", pj.data);
    char e2[256];
    hp_store_event_append(c->store, "trial_enqueued", s->id, p.trial_id, NULL, msg.data, e2,
                          sizeof e2);
    hp_log_info("study %s: trial %" PRId64 " enqueued: %s", name, p.number, pj.data);

    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__EnqueueReply r = HPSEARCH__ENQUEUE_REPLY__INIT;
    r.study_id = (uint64_t)s->id;
    r.number = (uint32_t)p.number;
    r.params_json = pj.data;
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__ENQUEUE_REPLY, &r);
    coord_reply(c, req, &env);
    hp_buf_fini(&pj);
    hp_buf_fini(&msg);
}
