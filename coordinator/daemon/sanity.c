/* The study's sanity check (search.sanity_check, on by default for
 * built-in models): before its first trial, one worker overfits a single
 * batch with the study's default configuration, and the memorised model is
 * scored on the study's validation split (it must beat chance: shuffled
 * labels are memorised too, but teach nothing). A model that fails stops
 * the study before any search compute is spent, in state 'stopped' with
 * the diagnosis as its reason (common/sanity.h). */
#include "coord_int.h"

#include "err.h"
#include "log.h"
#include "sanity.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void coord_sanity_dispatch(coord_t *c, coord_study_t *s, const coord_held_t *h)
{
    coord_worker_t *w = coord_worker_by_id(c, h->worker_id);
    coord_run_t r = {
        .trial_id = COORD_SANITY_TRIAL_ID(s->id),
        .lease_id = coord_lease_new(c),
        .attempt = (int)++s->sanity_attempts,
        .worker_id = h->worker_id,
        .expires_ms = coord_lease_deadline_ms(c),
        .study = s,
        .sanity = 1,
    };
    coord_run_add(c, &r);
    s->sanity = 2;
    unsigned steps = s->sanity_long ? HP_SANITY_STEPS * HP_SANITY_LONGER : HP_SANITY_STEPS;

    /* the study's trial as a worker gets it, with its fixed settings and
     * then the one-batch overrides (last, so they win) */
    const hp_spec_t *spec = &s->spec;
    hp_sanity_overrides_t o;
    hp_sanity_overrides(&o, steps, HP_SANITY_BATCH);
    size_t np = spec->trial.n_fixed + o.n;
    Hpsearch__Param *pv = calloc(np, sizeof *pv);
    Hpsearch__Param **pp = calloc(np, sizeof *pp);
    HP_ASSERT(pv && pp);
    for (size_t i = 0; i < np; i++) {
        hpsearch__param__init(&pv[i]);
        pp[i] = &pv[i];
        if (i < spec->trial.n_fixed) {
            pv[i].name = spec->trial.fixed[i].name;
            pv[i].value = spec->trial.fixed[i].text;
        } else {
            pv[i].name = (char *)o.name[i - spec->trial.n_fixed];
            pv[i].value = (char *)o.value[i - spec->trial.n_fixed];
        }
    }
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Trial t = HPSEARCH__TRIAL__INIT;
    Hpsearch__Ack ack;
    t.study_id = (uint64_t)s->id;
    t.study_name = (char *)spec->name;
    t.trial_id = (uint64_t)r.trial_id;
    t.lease_id = (uint64_t)r.lease_id;
    t.attempt = (uint32_t)r.attempt;
    t.params_json = "{}";
    t.params = pp;
    t.n_params = np;
    t.trial_json = s->trial_json;
    t.objective = "train_loss";
    t.timeout_s = spec->trial.timeout;
    t.kill_grace_s = spec->trial.kill_grace;
    t.seed = spec->search.seed;
    t.study_seed = spec->search.seed;
    t.result_ack = coord_held_ack(h, &ack);
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__TRIAL, &t);
    coord_reply(c, h->req, &env);
    free(pv);
    free(pp);
    hp_log_info("study %s: sanity check (overfit one batch of %u for %u steps) on worker %s",
                spec->name, HP_SANITY_BATCH, steps, w ? w->id_str : "?");
}

static void record(coord_t *c, coord_study_t *s, const char *text)
{
    char err[256];
    if (coord_write_begin(c) == 0)
        hp_store_event_append(c->store, "sanity_check", s->id, 0, NULL, text, err, sizeof err);
}

static void stop_study(coord_t *c, coord_study_t *s, const char *reason)
{
    char err[256];
    s->active = 0;
    s->sanity = 0;
    int rc;
    /* HP_ESTATE: the stored study is not running any more */
    if (coord_write_begin(c) == 0 &&
        (rc = hp_store_study_set_state(c->store, s->id, HP_STUDY_STOPPED, reason, err,
                                       sizeof err)) < 0 &&
        !coord_store_failed(c, rc, "study '%s': cannot mark it stopped: %s", s->spec.name, err))
        hp_log_error("study %s: cannot mark stopped: %s", s->spec.name, err);
    hp_log_warn("study %s stopped before its first trial: %s", s->spec.name, reason);
}

/* a final metric of the result (a Hpsearch__Result); NAN if it is not there */
static double result_metric(const void *src, const char *name)
{
    const Hpsearch__Result *res = src;
    for (size_t i = 0; i < res->n_metrics; i++)
        if (res->metrics[i]->name && strcmp(res->metrics[i]->name, name) == 0)
            return res->metrics[i]->value;
    return NAN;
}

void coord_sanity_result(coord_t *c, coord_run_t *r, const Hpsearch__Result *res)
{
    coord_study_t *s = r->study;
    hp_buf_t why = {0};
    int passed = 0;
    int ran = !(res->outcome == HPSEARCH__TRIAL_OUTCOME__FAILED && r->loss.n == 0);
    if (!ran) {
        hp_buf_printf(&why, "FAIL: the model does not run: %s",
                      res->error && *res->error ? res->error : "(no error given)");
    } else {
        hp_sanity_heldout_t ho;
        hp_sanity_heldout_read(&ho, result_metric, res, HP_SANITY_BATCH);
        passed = hp_sanity_judge_steps(r->loss.v, r->loss_step.v, r->loss.n, HP_SANITY_THRESHOLD,
                                       &ho, &why);
        if (!passed && res->outcome == HPSEARCH__TRIAL_OUTCOME__COMPLETED && !s->sanity_long &&
            s->active &&
            hp_sanity_wants_longer(r->loss.v, r->loss_step.v, r->loss.n, HP_SANITY_THRESHOLD)) {
            /* still memorising when the steps ran out: a longer run decides */
            hp_buf_reset(&why);
            hp_buf_printf(&why,
                          "still memorising after %u steps (train_loss %.4g -> %.4g, falling "
                          "steadily): checking again with %u steps",
                          HP_SANITY_STEPS, r->loss.v[0], r->loss.v[r->loss.n - 1],
                          HP_SANITY_STEPS * HP_SANITY_LONGER);
            record(c, s, why.data);
            hp_log_info("study %s: sanity check %s", s->spec.name, why.data);
            hp_buf_fini(&why);
            s->sanity_long = 1;
            s->sanity = 1;
            c->schedule_needed = 1;
            coord_run_remove(c, r);
            return;
        }
        if (!passed && res->error && *res->error)
            hp_buf_printf(&why, "\n  the run stopped: %s", res->error);
    }
    if (s->active) {
        record(c, s, why.data);
        if (passed) {
            s->sanity = 0;
            hp_log_info("study %s: sanity check %s", s->spec.name, why.data);
        } else {
            hp_buf_t reason = {0};
            /* a model that trained but did not pass: say how to look
             * closer or go on; one that does not run needs its spec fixed,
             * and every trial would fail the same way */
            hp_buf_printf(&reason, "sanity check (overfit one batch) %s%s", why.data,
                          ran ? "\n  next: `hpsearch check SPEC` reruns the check alone "
                                "(--steps N to give it longer); `search.sanity_check: false` "
                                "in the spec skips it"
                              : "");
            stop_study(c, s, reason.data);
            hp_buf_fini(&reason);
        }
    }
    hp_buf_fini(&why);
    if (!s->active)
        s->sanity = 0; /* cancelled meanwhile: a resume checks again (coord_study_recount) */
    coord_run_remove(c, r);
}

void coord_sanity_lost(coord_t *c, coord_run_t *r, const char *why)
{
    coord_study_t *s = r->study;
    if (s->active) {
        if (s->sanity_attempts - (unsigned)s->sanity_long <= s->spec.trial.retries) {
            s->sanity = 1; /* another worker tries */
            hp_log_info("study %s: sanity check lost (%s); again", s->spec.name, why);
        } else {
            char reason[400];
            snprintf(reason, sizeof reason, "sanity check never finished: %s (attempt %u of %u)",
                     why, s->sanity_attempts - (unsigned)s->sanity_long,
                     s->spec.trial.retries + 1);
            record(c, s, reason);
            stop_study(c, s, reason);
        }
    } else {
        s->sanity = 0; /* cancelled meanwhile: a resume checks again */
    }
    coord_run_remove(c, r);
}

void coord_sanity_interrupted(coord_t *c, coord_run_t *r, const char *why)
{
    coord_study_t *s = r->study;
    if (s->active) {
        s->sanity = 1; /* another worker runs it */
        if (s->sanity_attempts)
            s->sanity_attempts--; /* an interruption spends no retry */
        hp_log_info("study %s: sanity check interrupted (%s); again", s->spec.name, why);
    } else {
        s->sanity = 0; /* cancelled meanwhile: a resume checks again */
    }
    coord_run_remove(c, r);
}
