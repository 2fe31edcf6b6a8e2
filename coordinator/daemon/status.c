/* STATUS (`hpsearch status`) served from a loop-owned snapshot, never
 * from SQLite on the loop and never behind a commit.
 *
 * The snapshot — every stored study with its trial counts and best trial
 * — is read by a thread of its own on a read-only connection of its own,
 * so the loop never waits for SQLite, and a refresh never waits for the
 * loop's writes (WAL: a reader sees the last commit). The loop keeps a
 * generation: commits whose transaction changed a study or a trial
 * (hp_store_study_changes) count it up; lease renewals, heartbeats and
 * metrics do not. A STATUS is answered at once, straight from the
 * snapshot, when the snapshot was read after every such commit so far; a
 * reply acknowledges nothing, so it need not wait for the tick's commit
 * like the others do. Otherwise the request waits, without blocking
 * anything, for the refresh it starts (a few ms on the thread) and is
 * answered when that refresh began after the commits it must see: a
 * client sees its own submit or cancel, whose acknowledgement left only
 * after that commit. Refreshes only happen when a STATUS asks, one at a
 * time. */
#include "coord_int.h"

#include "err.h"
#include "log.h"
#include "suggest.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One snapshot: the studies in id order, each a StudyStatus that owns its
 * strings (state and goal are static names). */
struct coord_status_snap {
    uint64_t gen; /* the generation current when its refresh began */
    size_t n;
    Hpsearch__StudyStatus *v;
    int rc; /* the read's result: 0, or an error with err */
    char err[256];
};

/* ---- on the thread ----------------------------------------------------- */

typedef struct {
    hp_store_t *st;
    HP_VEC(Hpsearch__StudyStatus) list;
} reader_t;

static char *dup_or_die(const char *s)
{
    char *d = strdup(s ? s : "");
    HP_ASSERT(d != NULL);
    return d;
}

static int read_study(void *data, const hp_study_t *st)
{
    reader_t *r = data;
    Hpsearch__StudyStatus o;
    hpsearch__study_status__init(&o);
    o.study_id = (uint64_t)st->id;
    o.name = dup_or_die(st->name);
    o.state = (char *)hp_study_state_name(st->state);
    o.max_trials = (uint32_t)st->max_trials;
    o.goal = (char *)hp_goal_name(st->goal);
    o.metric = dup_or_die(st->metric);
    o.reason = dup_or_die(st->reason);
    int64_t counts[HP_TRIAL_STATE_COUNT_] = {0};
    char err[256];
    if (hp_store_trial_count(r->st, st->id, counts, err, sizeof err) == 0) {
        o.pending = (uint32_t)counts[HP_TRIAL_PENDING];
        o.running = (uint32_t)counts[HP_TRIAL_RUNNING];
        o.completed = (uint32_t)counts[HP_TRIAL_COMPLETED];
        o.failed = (uint32_t)counts[HP_TRIAL_FAILED];
        o.pruned = (uint32_t)counts[HP_TRIAL_PRUNED];
        o.cancelled = (uint32_t)counts[HP_TRIAL_CANCELLED];
    }
    hp_trial_t best;
    if (hp_store_trial_best(r->st, st->id, &best, err, sizeof err) == 0) {
        o.has_best = 1;
        o.best_value = best.value;
        o.best_number = (uint32_t)best.number;
        o.best_params_json = dup_or_die(best.params);
        hp_trial_fini(&best);
    } else {
        o.best_params_json = dup_or_die("");
    }
    HP_VEC_PUSH(r->list, o);
    return 0;
}

static void snap_free(struct coord_status_snap *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].name);
        free(s->v[i].metric);
        free(s->v[i].reason);
        free(s->v[i].best_params_json);
    }
    free(s->v);
    free(s);
}

/* Reads a snapshot in one read transaction, so its counts agree with each
 * other. */
static struct coord_status_snap *snap_read(hp_store_t *st, uint64_t gen)
{
    struct coord_status_snap *s = calloc(1, sizeof *s);
    HP_ASSERT(s != NULL);
    s->gen = gen;
    reader_t r = {.st = st};
    char err[256];
    int rc = hp_store_read_begin(st, err, sizeof err);
    if (rc == 0) {
        rc = hp_store_study_list(st, read_study, &r, err, sizeof err);
        hp_store_read_end(st);
    }
    s->rc = rc;
    if (rc < 0)
        snprintf(s->err, sizeof s->err, "%s", err);
    s->v = r.list.v;
    s->n = r.list.n;
    return s;
}

static void *status_thread(void *arg)
{
    coord_t *c = arg;
    coord_status_t *p = &c->status;
    /* at the loop's priority, unlike the query threads: its reads are
     * small, and a STATUS waits for them */
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->want && !p->quit)
            pthread_cond_wait(&p->cond, &p->mu);
        if (p->quit)
            break;
        uint64_t gen = p->want_gen;
        p->want = 0;
        pthread_mutex_unlock(&p->mu);
        struct coord_status_snap *s = snap_read(p->conn, gen);
        pthread_mutex_lock(&p->mu);
        snap_free(p->ready);
        p->ready = s;
        if (!p->async_closed)
            uv_async_send(&p->async);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- on the loop --------------------------------------------------------- */

static void start_refresh(coord_t *c)
{
    coord_status_t *p = &c->status;
    if (p->refreshing || !p->open)
        return;
    p->refreshing = 1;
    pthread_mutex_lock(&p->mu);
    p->want = 1;
    p->want_gen = p->gen;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->mu);
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* Answers one STATUS from the snapshot, at once: the reply acknowledges no
 * write, and the snapshot holds only committed state. */
static void answer(coord_t *c, hp_rep_req_t *req, const char *study)
{
    const struct coord_status_snap *s = c->status.snap;
    hp_buf_t buf = {0};
    if (s->rc < 0) {
        hp_proto_encode_error(&buf, s->rc, s->err);
        hp_rep_reply(req, buf.data, buf.len);
        hp_buf_fini(&buf);
        return;
    }
    Hpsearch__StudyStatus **pv = calloc(s->n + 1, sizeof *pv);
    HP_ASSERT(pv != NULL);
    size_t n = 0;
    int by_id = study && all_digits(study);
    uint64_t id = by_id ? strtoull(study, NULL, 10) : 0;
    for (size_t i = 0; i < s->n; i++)
        if (!study || (by_id ? s->v[i].study_id == id : strcmp(s->v[i].name, study) == 0))
            pv[n++] = &s->v[i];
    if (study && n == 0) {
        const char **names = calloc(s->n + 1, sizeof *names);
        HP_ASSERT(names != NULL);
        for (size_t i = 0; i < s->n; i++)
            names[i] = s->v[i].name;
        char hint[HP_SUGGEST_MAX_WORD + 32];
        hp_suggest_hint(hint, sizeof hint, study, strlen(study), names, s->n);
        free(names);
        char msg[HP_SUGGEST_MAX_WORD + 600];
        snprintf(msg, sizeof msg, "no study named '%s'%s", study, hint);
        hp_proto_encode_error(&buf, HP_ENOENT, msg);
    } else {
        Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
        Hpsearch__StatusReply r = HPSEARCH__STATUS_REPLY__INIT;
        r.studies = pv;
        r.n_studies = n;
        hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__STATUS_REPLY, &r);
        if (hp_proto_encode(&env, &buf) < 0)
            hp_proto_encode_error(&buf, HP_EINVAL, "the status of every study is larger than a "
                                                   "reply may be; ask for one study by name");
    }
    free(pv);
    double total, queued;
    hp_rep_req_age(req, &total, &queued);
    hp_log_debug("status answered %.2f ms after it arrived (%.2f ms before the loop read it)",
                 total, queued);
    hp_rep_reply(req, buf.data, buf.len);
    hp_buf_fini(&buf);
}

static void answer_waiting(coord_t *c)
{
    coord_status_t *p = &c->status;
    size_t k = 0;
    for (size_t i = 0; i < p->waiting.n; i++) {
        coord_status_wait_t *w = &p->waiting.v[i];
        if (p->snap && p->snap->gen >= w->need) {
            answer(c, w->req, w->study);
            free(w->study);
        } else {
            p->waiting.v[k++] = *w;
        }
    }
    p->waiting.n = k;
    if (k)
        start_refresh(c); /* commits they must see came after the last one began */
}

static void on_refreshed(uv_async_t *h)
{
    coord_t *c = h->data;
    coord_status_t *p = &c->status;
    pthread_mutex_lock(&p->mu);
    struct coord_status_snap *s = p->ready;
    p->ready = NULL;
    pthread_mutex_unlock(&p->mu);
    if (!s)
        return;
    p->refreshing = 0;
    if (s->rc < 0)
        hp_log_warn("status: cannot read the studies: %s", s->err);
    snap_free(p->snap);
    p->snap = s;
    answer_waiting(c);
}

int coord_status_open(coord_t *c, char *err, size_t errlen)
{
    coord_status_t *p = &c->status;
    int rc = hp_store_open(&p->conn, c->cfg.db, HP_STORE_READONLY, err, errlen);
    if (rc < 0)
        return rc;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cond, NULL);
    uv_async_init(c->loop, &p->async, on_refreshed);
    p->async.data = c;
    p->open = 1;
    p->changes_seen = hp_store_study_changes(c->store);
    if ((rc = pthread_create(&p->tid, NULL, status_thread, c)) != 0)
        return hp_errf(err, errlen, HP_ENOMEM, "cannot start the status thread: %s",
                       strerror(rc));
    p->started = 1;
    return 0;
}

void coord_status_committed(coord_t *c)
{
    coord_status_t *p = &c->status;
    uint64_t now = hp_store_study_changes(c->store);
    if (now != p->changes_seen) {
        p->changes_seen = now;
        p->gen++;
    }
}

void coord_status_request(coord_t *c, hp_rep_req_t *req, const char *study)
{
    coord_status_t *p = &c->status;
    /* a snapshot whose read failed answered those who waited for it; the
     * next request reads again */
    if (p->snap && p->snap->rc == 0 && p->snap->gen >= p->gen) {
        answer(c, req, study && *study ? study : NULL);
        return;
    }
    coord_status_wait_t w = {.req = req, .need = p->gen, .study = NULL};
    if (study && *study)
        w.study = dup_or_die(study);
    HP_VEC_PUSH(p->waiting, w);
    start_refresh(c);
}

void coord_status_drop(coord_t *c)
{
    coord_status_t *p = &c->status;
    for (size_t i = 0; i < p->waiting.n; i++)
        free(p->waiting.v[i].study);
    p->waiting.n = 0;
    if (p->open && !uv_is_closing((uv_handle_t *)&p->async)) {
        pthread_mutex_lock(&p->mu);
        p->async_closed = 1;
        pthread_mutex_unlock(&p->mu);
        uv_close((uv_handle_t *)&p->async, NULL);
    }
}

void coord_status_close(coord_t *c)
{
    coord_status_t *p = &c->status;
    if (!p->open)
        return;
    coord_status_drop(c);
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
    if (p->started)
        pthread_join(p->tid, NULL);
    snap_free(p->ready);
    snap_free(p->snap);
    p->ready = p->snap = NULL;
    free(p->waiting.v);
    p->waiting.v = NULL;
    hp_store_close(p->conn);
    p->conn = NULL;
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->mu);
    p->open = 0;
}
