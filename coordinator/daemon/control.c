/* The control socket: what the hpsearch CLI asks of the daemon. */
#include "coord_int.h"

#include "err.h"
#include "log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Parses a SUBMIT's spec, the one parse of this submission: what it gives
 * is handed on to the study. On failure it replies with every diagnostic
 * and returns HP_EINVAL. */
static int parse_submission(coord_t *c, hp_rep_req_t *req, const Hpsearch__Submit *sub,
                            const char *file, hp_spec_t *spec)
{
    hp_diag_t d = {0};
    int rc = hp_spec_parse(spec, sub->spec_text, strlen(sub->spec_text), file, &d);
    if (rc < 0) {
        hp_buf_t all = {0};
        for (size_t i = 0; i < d.n; i++) {
            if (i)
                hp_buf_putc(&all, '\n');
            hp_buf_puts(&all, d.items[i].text);
        }
        coord_reply_error(c, req, HP_EINVAL, "%s", all.data ? all.data : "invalid spec");
        hp_buf_fini(&all);
    }
    hp_diag_fini(&d);
    return rc;
}

static int get_stored_study(coord_t *c, const char *name_or_id, hp_study_t *st, char *err,
                            size_t errlen)
{
    char *end;
    long long id = strtoll(name_or_id, &end, 10);
    return *end == '\0' ? hp_store_study_get(c->store, id, st, err, errlen)
                        : hp_store_study_get_by_name(c->store, name_or_id, st, err, errlen);
}

/* Stores the new study s (its parent's id, 0 for none) and records its
 * submission; sets *id. */
static int store_submission(coord_t *c, const coord_study_t *s, const char *file,
                            const char *dataset_key, int64_t parent, int64_t *id, char *err,
                            size_t errlen)
{
    hp_buf_t json = {0};
    hp_spec_to_json(&s->spec, &json);
    hp_study_def_t def = {.name = s->spec.name, .spec = s->spec.raw, .spec_json = json.data,
                          .metric = s->spec.objective.metric, .goal = s->spec.objective.goal,
                          .max_trials = (int64_t)s->total, .dataset_key = dataset_key,
                          .parent = parent};
    if (coord_write_begin(c) < 0 || hp_store_study_create(c->store, &def, id, err, errlen) < 0) {
        hp_buf_fini(&json);
        return HP_EDB;
    }
    hp_buf_fini(&json);
    hp_store_event_append(c->store, "study_submitted", *id, 0, NULL, file, err, errlen);
    return 0;
}

static void on_submit(coord_t *c, hp_rep_req_t *req, const Hpsearch__Submit *sub)
{
    const char *file = sub->filename && *sub->filename ? sub->filename : "spec";
    hp_spec_t spec;
    if (parse_submission(c, req, sub, file, &spec) < 0)
        return;
    /* a study must be runnable before it is stored: the study built here,
     * with its sampler, is the one that runs */
    coord_study_t *s;
    char err[512];
    if (coord_study_new(&spec, &s, err, sizeof err) < 0) {
        coord_reply_error(c, req, HP_EINVAL, "%s: %s", file, err);
        return;
    }
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__SubmitReply r = HPSEARCH__SUBMIT_REPLY__INIT;
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__SUBMIT_REPLY, &r);
    r.name = s->spec.name;

    hp_study_t existing;
    int rc = hp_store_study_get_by_name(c->store, s->spec.name, &existing, err, sizeof err);
    if (rc == 0) {
        /* the same spec goes on with the same study; one that only grew
         * it changes the study (grow.c) */
        coord_grow_resubmit(c, req, &existing, s);
        hp_study_fini(&existing);
        return;
    }
    if (rc != HP_ENOENT) {
        coord_reply_error(c, req, rc, "%s", err);
        coord_study_free(s);
        return;
    }
    /* the earlier studies it starts from, before it is stored: a name that
     * names none refuses the submission */
    coord_notes_t notes = {0};
    if ((rc = coord_study_warm_start(c, s, 0, &notes, err, sizeof err)) < 0) {
        coord_reply_error(c, req, rc, "%s: %s", file, err);
        coord_notes_fini(&notes);
        coord_study_free(s);
        return;
    }
    /* the round of `hpsearch autopilot` it came from */
    int64_t parent = 0;
    if (sub->parent && *sub->parent) {
        hp_study_t ps;
        if ((rc = get_stored_study(c, sub->parent, &ps, err, sizeof err)) < 0) {
            if (rc == HP_ENOENT)
                coord_reply_error(c, req, rc, "%s: parent study '%s' does not exist", file,
                                  sub->parent);
            else
                coord_reply_error(c, req, rc, "%s", err);
            coord_notes_fini(&notes);
            coord_study_free(s);
            return;
        }
        parent = ps.id;
        hp_study_fini(&ps);
    }
    /* studies on the same data share their baselines (computed once) */
    hp_buf_t key = {0};
    const char *dataset_key = hp_spec_dataset_key(&s->spec, &key) == 0 ? key.data : NULL;
    int64_t id;
    if (store_submission(c, s, file, dataset_key, parent, &id, err, sizeof err) < 0) {
        coord_reply_error(c, req, HP_EDB, "cannot store the study: %s", err);
        coord_study_free(s);
    } else if ((rc = coord_study_add(c, s, id, dataset_key, err, sizeof err)) < 0) {
        coord_reply_error(c, req, rc, "cannot load the new study: %s", err);
    } else {
        hp_log_info("study %s submitted (id %" PRId64 ", %" PRIu64 " trials, %s, parallelism %u)",
                    s->spec.name, id, s->total, hp_algo_name(s->spec.search.algorithm),
                    s->spec.search.parallelism);
        for (size_t i = 0; i < notes.n; i++)
            hp_store_event_append(c->store, "warm_start", id, 0, NULL, notes.v[i], err,
                                  sizeof err);
        c->schedule_needed = 1;
        r.study_id = (uint64_t)id;
        r.notes = notes.v;
        r.n_notes = notes.n;
        coord_reply(c, req, &env);
    }
    coord_notes_fini(&notes);
    hp_buf_fini(&key);
}


typedef HP_VEC(int64_t) id_list_t;

static int collect_id(void *data, const hp_trial_t *t)
{
    id_list_t *l = data;
    HP_VEC_PUSH(*l, t->id);
    return 0;
}

static void on_cancel_study(coord_t *c, hp_rep_req_t *req, const Hpsearch__CancelStudy *q)
{
    coord_study_t *s = coord_study_find(c, q->study);
    char err[256];
    if (!s || !s->active) {
        hp_study_t st;
        if (get_stored_study(c, q->study, &st, err, sizeof err) < 0) {
            coord_reply_no_study(c, req, q->study);
            return;
        }
        coord_reply_error(c, req, HP_ESTATE, "study '%s' is already %s", st.name,
                          hp_study_state_name(st.state));
        hp_study_fini(&st);
        return;
    }
    if (coord_write_begin(c) < 0) {
        coord_reply_error(c, req, HP_EDB, "database unavailable");
        return;
    }
    id_list_t pend = {0};
    hp_store_trial_list(c->store, s->id, HP_TRIAL_MASK(HP_TRIAL_PENDING), collect_id, &pend, err,
                        sizeof err);
    for (size_t i = 0; i < pend.n; i++)
        if (hp_store_trial_cancel(c->store, pend.v[i], "study cancelled", err, sizeof err) == 0)
            s->done++;
    free(pend.v);
    s->pending = 0;
    size_t asked = coord_ask_cancel(c, s);
    size_t stopping = 0;
    for (size_t i = 0; i < c->runs.n; i++)
        if (c->runs.v[i].study == s) {
            c->runs.v[i].stop = 1;
            snprintf(c->runs.v[i].stop_reason, sizeof c->runs.v[i].stop_reason,
                     "study cancelled");
            stopping++;
        }
    s->active = 0;
    int rc = hp_store_study_set_state(c->store, s->id, HP_STUDY_CANCELLED,
                                      "cancelled by the user", err, sizeof err);
    if (rc < 0) {
        /* HP_ESTATE: the stored study is not running, though ours is */
        coord_store_failed(c, rc, "study '%s': cannot mark it cancelled: %s", s->spec.name, err);
        coord_reply_error(c, req, HP_EDB, "cannot cancel: %s", err);
        return;
    }
    hp_store_event_append(c->store, "study_cancelled", s->id, 0, NULL, NULL, err, sizeof err);
    hp_log_info("study %s cancelled: %zu pending and %zu asked trials cancelled, %zu running "
                "told to stop",
                s->spec.name, pend.n, asked, stopping);
    char msg[160];
    if (asked)
        snprintf(msg, sizeof msg, "cancelled %zu pending and %zu asked trials; %zu running trials "
                                  "are stopping",
                 pend.n, asked, stopping);
    else
        snprintf(msg, sizeof msg, "cancelled %zu pending trials; %zu running trials are stopping",
                 pend.n, stopping);
    coord_reply_ack(c, req, 0, msg);
}

static void on_list_workers(coord_t *c, hp_rep_req_t *req)
{
    size_t n = c->workers.n;
    Hpsearch__WorkerInfo *wi = calloc(n + 1, sizeof *wi);
    Hpsearch__WorkerInfo **wp = calloc(n + 1, sizeof *wp);
    HP_ASSERT(wi && wp);
    uint64_t now = coord_now_ms(c);
    for (size_t i = 0; i < n; i++) {
        coord_worker_t *w = &c->workers.v[i];
        hpsearch__worker_info__init(&wi[i]);
        wi[i].worker_id = w->id;
        wi[i].hostname = w->host;
        wi[i].pid = w->pid;
        wi[i].slots = w->slots;
        uint32_t running = 0;
        for (size_t k = 0; k < c->runs.n; k++)
            running += c->runs.v[k].worker_id == w->id;
        wi[i].running = running;
        wi[i].last_seen_s = (double)(now - w->last_seen_ms) / 1000.0;
        wi[i].state = w->alive ? "alive" : "lost";
        wp[i] = &wi[i];
    }
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__WorkersReply r = HPSEARCH__WORKERS_REPLY__INIT;
    r.workers = wp;
    r.n_workers = n;
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__WORKERS_REPLY, &r);
    coord_reply(c, req, &env);
    free(wi);
    free(wp);
}

/* The event kinds a client may record (LogEvent): decisions taken outside
 * the coordinator, kept with the study they are about. */
static const char *const client_event_kinds[] = {"autopilot_step"};

static void on_log_event(coord_t *c, hp_rep_req_t *req, const Hpsearch__LogEvent *q)
{
    int known = 0;
    for (size_t i = 0; i < HP_ARRAY_LEN(client_event_kinds); i++)
        known |= strcmp(q->kind, client_event_kinds[i]) == 0;
    if (!known) {
        coord_reply_error(c, req, HP_EINVAL,
                          "event kind '%s' cannot be recorded by a client (known: autopilot_step)",
                          q->kind);
        return;
    }
    char err[512];
    hp_study_t st;
    int rc = get_stored_study(c, q->study, &st, err, sizeof err);
    if (rc == HP_ENOENT) {
        coord_reply_no_study(c, req, q->study);
        return;
    }
    if (rc < 0) {
        coord_reply_error(c, req, rc, "%s", err);
        return;
    }
    const char *detail = q->detail && *q->detail ? q->detail : NULL;
    if (coord_write_begin(c) < 0) {
        coord_reply_error(c, req, HP_EDB, "database unavailable");
    } else if ((rc = hp_store_event_append_detail(c->store, q->kind, st.id, 0, NULL, q->message,
                                                  detail, err, sizeof err)) < 0) {
        coord_reply_error(c, req, rc, "cannot record the %s event of study '%s': %s%s", q->kind,
                          st.name, err, detail ? " (is its detail valid JSON?)" : "");
    } else {
        coord_reply_ack(c, req, 0, "recorded");
    }
    hp_study_fini(&st);
}

void coord_on_control_request(void *data, hp_rep_req_t *req, const void *buf, size_t len,
                              uint32_t pipe_id)
{
    (void)pipe_id;
    coord_t *c = data;
    Hpsearch__Envelope *e = coord_decode_request(c, req, buf, len, "control");
    if (!e)
        return;
    switch (e->type) {
    case HPSEARCH__MSG_TYPE__SUBMIT:
        on_submit(c, req, e->submit);
        break;
    case HPSEARCH__MSG_TYPE__STATUS:
        coord_status_request(c, req, e->status_request->study);
        break;
    case HPSEARCH__MSG_TYPE__CANCEL_STUDY:
        on_cancel_study(c, req, e->cancel_study);
        break;
    case HPSEARCH__MSG_TYPE__RESUME:
        coord_grow_resume(c, req, e->resume_study);
        break;
    case HPSEARCH__MSG_TYPE__LIST_WORKERS:
        on_list_workers(c, req);
        break;
    case HPSEARCH__MSG_TYPE__QUERY:
        coord_query(c, req, e->query);
        break;
    case HPSEARCH__MSG_TYPE__ENQUEUE:
        coord_enqueue(c, req, e->enqueue);
        break;
    case HPSEARCH__MSG_TYPE__ASK:
        coord_ask(c, req, e->ask);
        break;
    case HPSEARCH__MSG_TYPE__TELL:
        coord_tell(c, req, e->tell);
        break;
    case HPSEARCH__MSG_TYPE__LOG_EVENT:
        on_log_event(c, req, e->log_event);
        break;
    case HPSEARCH__MSG_TYPE__SHUTDOWN:
        coord_reply_ack(c, req, 0, "shutting down");
        coord_shutdown_request(c, "SHUTDOWN request");
        break;
    default:
        coord_reply_error(c, req, HP_EPROTO, "%s is not a request the control socket serves",
                          hp_proto_type_name(e->type));
        break;
    }
    hp_proto_free(e);
}
