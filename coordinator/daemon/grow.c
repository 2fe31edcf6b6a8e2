/* Growing a study and resuming one: a resubmission of a stored study's
 * spec with only max_trials, parallelism or trial.timeout changed carries
 * on with the new values; RESUME makes a cancelled or failed study run
 * again. Both change the stored study first, then the one in memory. */
#include "coord_int.h"

#include "err.h"
#include "log.h"
#include "spec_diff.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- which differences a study may take ------------------------------- */

/* What a running study may change: how many trials, how many at once, how
 * long each may take. Nothing a trial already run depends on, and not the
 * search's own rules (algorithm, bayes' acquisition and kappa, ...): the
 * trials so far were chosen by them, and a study is one search. */
static const char *const growable[] = {"search.max_trials", "search.parallelism",
                                       "trial.timeout"};

static int is_growable(const char *key)
{
    for (size_t i = 0; i < sizeof growable / sizeof growable[0]; i++)
        if (strcmp(key, growable[i]) == 0)
            return 1;
    return 0;
}

/* A default the parser derives from max_trials moves with it: bayes'
 * n_initial (min(10, max_trials)) and coarse-to-fine's trials_per_round
 * (max_trials / rounds, rounded up). Such a change is part of the
 * max_trials change when both values are the defaults of their specs. */
static int follows_max_trials(const char *key, const hp_spec_t *a, const hp_spec_t *b)
{
    if (a->search.max_trials == b->search.max_trials)
        return 0;
    if (strcmp(key, "search.n_initial") == 0 && a->search.algorithm == HP_ALGO_BAYES) {
        uint64_t da = a->search.max_trials < 10 ? a->search.max_trials : 10;
        uint64_t db = b->search.max_trials < 10 ? b->search.max_trials : 10;
        return a->search.n_initial == da && b->search.n_initial == db;
    }
    if (strcmp(key, "search.trials_per_round") == 0 &&
        a->search.algorithm == HP_ALGO_COARSE_TO_FINE && a->search.rounds) {
        uint64_t r = a->search.rounds;
        return a->search.trials_per_round == (a->search.max_trials + r - 1) / r &&
               b->search.trials_per_round == (b->search.max_trials + r - 1) / r;
    }
    return 0;
}

/* The command that resumes study name: through this daemon, or, for the
 * private one `hpsearch run` starts (it names itself the lock's holder),
 * on the database file once run has stopped. */
static void resume_hint(const coord_t *c, const char *name, char *out, size_t n)
{
    if (strncmp(c->cfg.lock_owner, "hpsearch run:", 13) == 0)
        snprintf(out, n, "hpsearch resume --db %s %s", c->cfg.db, name);
    else
        snprintf(out, n, "hpsearch resume %s", name);
}

/* The spec key as a user says it in a note: "max_trials", "timeout". */
static const char *short_key(const char *key)
{
    const char *dot = strrchr(key, '.');
    return dot ? dot + 1 : key;
}

/* ---- resubmission ------------------------------------------------------- */

typedef struct {
    HP_VEC(char *) v;
} notes_t;

static void note(notes_t *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(notes_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    char *d = strdup(line);
    HP_ASSERT(d != NULL);
    HP_VEC_PUSH(n->v, d);
}

static void notes_fini(notes_t *n)
{
    for (size_t i = 0; i < n->v.n; i++)
        free(n->v.v[i]);
    free(n->v.v);
}

/* The stored study's spec: the loop's parsed one, or its stored text
 * parsed again (a study that ended before this coordinator started). */
static int stored_spec(const hp_study_t *st, const coord_study_t *mem, hp_spec_t *out,
                       char *err, size_t errlen)
{
    if (mem) {
        *out = mem->spec; /* borrowed: the caller must not fini it */
        return 0;
    }
    hp_diag_t d = {0};
    int rc = hp_spec_parse(out, st->spec, strlen(st->spec), st->name, &d);
    if (rc < 0)
        hp_errf(err, errlen, HP_ECORRUPT, "study '%s': its stored spec no longer parses: %s",
                st->name, d.n ? d.items[0].text : "?");
    hp_diag_fini(&d);
    return rc;
}

/* How many trials the stored study has: a lower bound for max_trials. */
static int trials_created(coord_t *c, const hp_study_t *st, const coord_study_t *mem,
                          uint64_t *n, char *err, size_t errlen)
{
    if (mem) {
        *n = mem->created;
        return 0;
    }
    int64_t counts[HP_TRIAL_STATE_COUNT_] = {0};
    int rc = hp_store_trial_count(c->store, st->id, counts, err, errlen);
    *n = 0;
    for (int k = 0; rc == 0 && k < HP_TRIAL_STATE_COUNT_; k++)
        *n += (uint64_t)counts[k];
    return rc;
}

static void reply_submit(coord_t *c, hp_rep_req_t *req, const hp_study_t *st, notes_t *notes)
{
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__SubmitReply r = HPSEARCH__SUBMIT_REPLY__INIT;
    r.name = st->name;
    r.study_id = (uint64_t)st->id;
    r.existed = 1;
    r.notes = notes->v.v;
    r.n_notes = notes->v.n;
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__SUBMIT_REPLY, &r);
    coord_reply(c, req, &env);
}

/* One sentence per change the study takes, and the refusal of the others.
 * Returns 0 when every change may be taken. */
static int judge_changes(coord_t *c, hp_rep_req_t *req, const hp_study_t *st,
                         const hp_spec_t *old, const hp_spec_t *neu, const hp_spec_diff_t *d,
                         notes_t *notes)
{
    hp_spec_diff_t refused = {0};
    for (size_t i = 0; i < d->n; i++) {
        const hp_spec_change_t *ch = &d->items[i];
        if (is_growable(ch->key)) {
            /* only grid leaves max_trials out: 0, the whole grid */
            const char *unset = "the whole grid";
            note(notes, "%s %s -> %s", short_key(ch->key),
                 strcmp(ch->old_text, "unset") ? ch->old_text : unset,
                 strcmp(ch->new_text, "unset") ? ch->new_text : unset);
        } else if (follows_max_trials(ch->key, old, neu)) {
            note(notes, "%s %s -> %s (its default follows max_trials)", short_key(ch->key),
                 ch->old_text, ch->new_text);
        } else {
            if (refused.n == refused.cap) {
                refused.cap = refused.cap ? 2 * refused.cap : 4;
                refused.items = realloc(refused.items, refused.cap * sizeof *refused.items);
                HP_ASSERT(refused.items != NULL);
            }
            refused.items[refused.n++] = *ch; /* borrowed strings */
        }
    }
    if (!refused.n)
        return 0;
    hp_buf_t words = {0};
    hp_spec_diff_describe(&refused, &words);
    coord_reply_error(c, req, HP_EEXIST,
                      "a study named '%s' already exists (id %" PRId64 ") with a different "
                      "spec: it differs in %s; a study can only change search.max_trials, "
                      "search.parallelism and trial.timeout (rename the study to run this "
                      "spec)",
                      st->name, st->id, words.data);
    hp_buf_fini(&words);
    free(refused.items); /* the strings are d's */
    return HP_EEXIST;
}

/* The stored study takes the grown spec: its text, JSON and trial count. */
static int store_grown(coord_t *c, const hp_study_t *st, const coord_study_t *s,
                       const notes_t *notes, char *err, size_t errlen)
{
    hp_buf_t json = {0}, detail = {0};
    hp_spec_to_json(&s->spec, &json);
    int rc = coord_write_begin(c);
    if (rc < 0)
        hp_errf(err, errlen, rc, "the database is unavailable (the coordinator is stopping)");
    if (rc == 0)
        rc = hp_store_study_update_spec(c->store, st->id, s->spec.raw, json.data,
                                        (int64_t)s->total, err, errlen);
    for (size_t i = 0; rc == 0 && i < notes->v.n; i++)
        hp_buf_printf(&detail, "%s%s", i ? "; " : "", notes->v.v[i]);
    if (rc == 0)
        hp_store_event_append(c->store, "study_grown", st->id, 0, NULL, detail.data, err,
                              errlen);
    hp_buf_fini(&json);
    hp_buf_fini(&detail);
    return rc;
}

void coord_grow_resubmit(coord_t *c, hp_rep_req_t *req, const hp_study_t *st, coord_study_t *s)
{
    char err[512];
    coord_study_t *mem = coord_study_by_id(c, st->id);
    hp_spec_t old;
    notes_t notes = {0};
    if (stored_spec(st, mem, &old, err, sizeof err) < 0) {
        coord_reply_error(c, req, HP_ECORRUPT, "%s", err);
        coord_study_free(s);
        return;
    }
    hp_spec_diff_t d = {0};
    hp_spec_diff(&old, &s->spec, &d);
    int rc = 0;
    uint64_t created = 0;
    if (d.n == 0 && !hp_spec_equal(&old, &s->spec)) {
        /* cannot happen while the diff covers the canonical JSON */
        coord_reply_error(c, req, HP_EEXIST,
                          "a study named '%s' already exists (id %" PRId64 ") with a "
                          "different spec; rename the study",
                          st->name, st->id);
        rc = HP_EEXIST;
    } else if (d.n) {
        rc = judge_changes(c, req, st, &old, &s->spec, &d, &notes);
    }
    if (rc == 0 && d.n && (rc = trials_created(c, st, mem, &created, err, sizeof err)) < 0)
        coord_reply_error(c, req, rc, "%s", err);
    if (rc == 0 && d.n && s->total < created) {
        coord_reply_error(c, req, HP_EINVAL,
                          "study '%s' has %" PRIu64 " trials already; max_trials cannot go "
                          "below that (got %" PRIu64 ")",
                          st->name, created, s->spec.search.max_trials);
        rc = HP_EINVAL;
    }
    if (!mem)
        hp_spec_fini(&old);
    hp_spec_diff_fini(&d);
    if (rc < 0) {
        notes_fini(&notes);
        coord_study_free(s);
        return;
    }
    char hint[1400];
    resume_hint(c, st->name, hint, sizeof hint);
    if (notes.v.n == 0) { /* the same spec: the same study goes on */
        if (st->state == HP_STUDY_CANCELLED || st->state == HP_STUDY_FAILED ||
            st->state == HP_STUDY_STOPPED)
            note(&notes, "study '%s' is %s; `%s` continues it", st->name,
                 hp_study_state_name(st->state), hint);
        reply_submit(c, req, st, &notes);
        notes_fini(&notes);
        coord_study_free(s);
        return;
    }
    if (s->spec.search.algorithm == HP_ALGO_GRID && s->spec.search.max_trials != s->total)
        note(&notes, "the grid has %" PRIu64 " points, so the study runs %" PRIu64 " trials",
             s->total, s->total);
    if (store_grown(c, st, s, &notes, err, sizeof err) < 0) {
        coord_reply_error(c, req, HP_EDB, "cannot store the new spec: %s", err);
        coord_study_free(s);
        notes_fini(&notes);
        return;
    }
    int reopen = st->state == HP_STUDY_COMPLETED && s->total > created;
    uint64_t total = s->total;
    if (reopen) {
        if ((rc = hp_store_study_reopen(c->store, st->id, err, sizeof err)) < 0) {
            coord_store_failed(c, rc, "study '%s': cannot reopen it: %s", st->name, err);
            coord_reply_error(c, req, HP_EDB, "cannot reopen the study: %s", err);
            coord_study_free(s);
            notes_fini(&notes);
            return;
        }
        note(&notes, "study '%s' was completed; it runs again for %" PRIu64 " more trials",
             st->name, total - created);
    } else if (st->state != HP_STUDY_RUNNING && st->state != HP_STUDY_COMPLETED) {
        note(&notes, "study '%s' is %s; `%s` continues it with these values", st->name,
             hp_study_state_name(st->state), hint);
    }
    if (mem) {
        if (reopen)
            mem->active = 1;
        coord_study_respec(c, mem, s);
    } else {
        coord_study_free(s);
        /* an ended study from before this coordinator: the stored one, now
         * grown, is loaded when it runs again */
        if (reopen && (rc = coord_study_load(c, st->id, err, sizeof err)) < 0) {
            /* left running in the file it would keep `wait` waiting, as
             * a resume that cannot load it does */
            char reason[700], e2[256];
            snprintf(reason, sizeof reason, "cannot run it again: %s", err);
            hp_log_error("study %s: %s", st->name, reason);
            hp_store_study_set_state(c->store, st->id, HP_STUDY_FAILED, reason, e2, sizeof e2);
            note(&notes, "study '%s' could not be loaded to run again, and is failed: %s",
                 st->name, err);
        }
    }
    hp_log_info("study %s grown: %s%s", st->name, notes.v.v[0],
                notes.v.n > 1 ? " (and more)" : "");
    c->schedule_needed = 1;
    reply_submit(c, req, st, &notes);
    notes_fini(&notes);
}

/* ---- resume ------------------------------------------------------------ */

static int get_stored(coord_t *c, const char *name_or_id, hp_study_t *st, char *err,
                      size_t errlen)
{
    char *end;
    long long id = strtoll(name_or_id, &end, 10);
    return *name_or_id && *end == '\0'
               ? hp_store_study_get(c->store, id, st, err, errlen)
               : hp_store_study_get_by_name(c->store, name_or_id, st, err, errlen);
}

/* The resumed study in memory: the loop's, counted again, or loaded. */
static int resume_in_memory(coord_t *c, const hp_study_t *st, char *err, size_t errlen)
{
    coord_study_t *s = coord_study_by_id(c, st->id);
    return s ? coord_study_recount(c, s, err, errlen) : coord_study_load(c, st->id, err, errlen);
}

void coord_grow_resume(coord_t *c, hp_rep_req_t *req, const Hpsearch__ResumeStudy *q)
{
    char err[512];
    hp_study_t st;
    const char *name = q->study ? q->study : "";
    int rc = get_stored(c, name, &st, err, sizeof err);
    if (rc == HP_ENOENT) {
        coord_reply_no_study(c, req, name);
        return;
    }
    if (rc < 0) {
        coord_reply_error(c, req, rc, "%s", err);
        return;
    }
    const coord_study_t *mem = coord_study_by_id(c, st.id);
    char note[300];
    if (st.state != HP_STUDY_RUNNING && st.state != HP_STUDY_COMPLETED && mem &&
        (mem->running || mem->sanity == 2)) {
        coord_reply_error(c, req, HP_EBUSY,
                          "study '%s' is still stopping %u running trial%s; resume it once "
                          "they have ended (hpsearch status %s shows them)",
                          st.name, mem->running + (mem->sanity == 2),
                          mem->running + (mem->sanity == 2) == 1 ? "" : "s", st.name);
    } else if ((rc = coord_write_begin(c)) < 0) {
        coord_reply_error(c, req, HP_EDB, "database unavailable");
    } else if ((rc = hp_store_study_resume(c->store, st.id, NULL, note, sizeof note, err,
                                           sizeof err)) < 0) {
        if (rc == HP_ESTATE || rc == HP_ENOENT)
            coord_reply_error(c, req, rc, "%s", err);
        else {
            coord_store_failed(c, rc, "study '%s': cannot resume it: %s", st.name, err);
            coord_reply_error(c, req, HP_EDB, "cannot resume: %s", err);
        }
    } else {
        if ((rc = resume_in_memory(c, &st, err, sizeof err)) < 0) {
            /* left running in the file it would keep `wait` waiting */
            char reason[600], e2[256];
            snprintf(reason, sizeof reason, "cannot resume: %s", err);
            hp_store_study_set_state(c->store, st.id, HP_STUDY_FAILED, reason, e2, sizeof e2);
            coord_reply_error(c, req, rc, "study '%s': %s", st.name, reason);
        } else {
            hp_log_info("study %s resumed (%s)", st.name, note);
            coord_reply_ack(c, req, 0, note);
        }
    }
    hp_study_fini(&st);
}
