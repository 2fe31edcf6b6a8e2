/*
 * Tests for the store API: studies, trials and their state machine, leases
 * and exactly-once results, metrics, workers, events, write groups,
 * read-only handles and queries for people.
 */
#include "hp_check.h"
#include "store_fixture.h"

#include <math.h>
#include <sqlite3.h>

static int64_t next_lease = 100;

/* ---- studies, trials, best --------------------------------------- */

static int count_study(void *data, const hp_study_t *s)
{
    (void)s;
    (*(int *)data)++;
    return 0;
}

START_TEST(test_study_create_get_list)
{
    hp_store_t *st = open_rw();
    char err[512] = "";
    ck_assert_int_eq(hp_store_schema_version(st), HP_STORE_SCHEMA_VERSION);

    int64_t a = make_study(st, "alpha", HP_GOAL_MINIMIZE);
    int64_t b = make_study(st, "beta", HP_GOAL_MAXIMIZE);
    ck_assert_int_ne(a, b);

    hp_study_def_t dup = {.name = "alpha", .spec = "", .spec_json = "{}", .metric = "m"};
    ck_assert_int_eq(hp_store_study_create(st, &dup, NULL, err, sizeof err), HP_EEXIST);
    ck_assert_ptr_nonnull(strstr(err, "'alpha' already exists"));

    hp_study_def_t badjson = {.name = "gamma", .spec = "", .spec_json = "{nope", .metric = "m"};
    ck_assert_int_eq(hp_store_study_create(st, &badjson, NULL, err, sizeof err), HP_EINVAL);
    hp_study_def_t noname = {.spec = "", .spec_json = "{}", .metric = "m"};
    ck_assert_int_eq(hp_store_study_create(st, &noname, NULL, err, sizeof err), HP_EINVAL);

    hp_study_t s;
    ck_assert_int_eq(hp_store_study_get_by_name(st, "beta", &s, err, sizeof err), 0);
    ck_assert_int_eq(s.id, b);
    ck_assert_str_eq(s.metric, "val_loss");
    ck_assert_str_eq(s.spec_json, "{\"name\":\"x\"}");
    ck_assert_int_eq(s.goal, HP_GOAL_MAXIMIZE);
    ck_assert_int_eq(s.state, HP_STUDY_RUNNING);
    ck_assert_int_eq(s.max_trials, 10);
    ck_assert(s.created > 1.6e9 && s.ended == 0 && s.reason == NULL);
    hp_study_fini(&s);
    ck_assert_int_eq(hp_store_study_get(st, 999, &s, err, sizeof err), HP_ENOENT);
    ck_assert_int_eq(hp_store_study_get_by_name(st, "nope", &s, err, sizeof err), HP_ENOENT);

    int n = 0;
    ck_assert_int_eq(hp_store_study_list(st, count_study, &n, err, sizeof err), 0);
    ck_assert_int_eq(n, 2);

    /* ending a study: once, from running only, with a reason */
    ck_assert_int_eq(hp_store_study_set_state(st, a, HP_STUDY_STOPPED,
                                              "sanity check: loss plateaus", err, sizeof err),
                     0);
    ck_assert_int_eq(hp_store_study_set_state(st, a, HP_STUDY_COMPLETED, NULL, err, sizeof err),
                     HP_ESTATE);
    ck_assert_ptr_nonnull(strstr(err, "stopped -> completed"));
    ck_assert_int_eq(hp_store_study_set_state(st, b, HP_STUDY_RUNNING, NULL, err, sizeof err),
                     HP_ESTATE);
    ck_assert_int_eq(hp_store_study_get(st, a, &s, err, sizeof err), 0);
    ck_assert_int_eq(s.state, HP_STUDY_STOPPED);
    ck_assert_str_eq(s.reason, "sanity check: loss plateaus");
    ck_assert(s.ended >= s.created);
    hp_study_fini(&s);

    /* no new trials in an ended study */
    ck_assert_int_eq(hp_store_trial_create(st, a, "{}", NULL, NULL, err, sizeof err),
                     HP_ESTATE);
    ck_assert_ptr_nonnull(strstr(err, "stopped"));
    ck_assert_int_eq(hp_store_trial_create(st, 4242, "{}", NULL, NULL, err, sizeof err),
                     HP_ENOENT);
    hp_store_close(st);
}
END_TEST

/* finish runs a trial to completion with value v under a fresh lease. */
static void finish(hp_store_t *st, int64_t trial, double v)
{
    char err[512] = "";
    int64_t lease = next_lease++;
    ck_assert_msg(hp_store_trial_start(st, trial, "w1", lease, hp_store_now() + 30, NULL, err,
                                       sizeof err) == 0, "%s", err);
    ck_assert_msg(hp_store_trial_complete(st, trial, lease, v, err, sizeof err) == 0, "%s",
                  err);
}

START_TEST(test_trials_numbering_best_counts)
{
    hp_store_t *st = open_rw();
    char err[512] = "";
    make_worker(st, "w1");
    int64_t mn = make_study(st, "min", HP_GOAL_MINIMIZE);
    int64_t mx = make_study(st, "max", HP_GOAL_MAXIMIZE);

    ck_assert_int_eq(hp_store_trial_best(st, mn, &(hp_trial_t){0}, err, sizeof err), HP_ENOENT);

    const double values[] = {0.5, 0.2, 0.9, 0.2, 0.9};
    int64_t ids[2][5];
    for (int i = 0; i < 5; i++) {
        int64_t num = -1;
        ck_assert_int_eq(hp_store_trial_create(st, mn, "{\"lr\":0.1}", &ids[0][i], &num, err,
                                               sizeof err), 0);
        ck_assert_int_eq(num, i); /* numbered 0, 1, ... per study */
        ck_assert_int_eq(hp_store_trial_create(st, mx, "{\"lr\":0.1}", &ids[1][i], &num, err,
                                               sizeof err), 0);
        ck_assert_int_eq(num, i);
    }
    int64_t extra;
    ck_assert_int_eq(hp_store_trial_create(st, mn, "{}", &extra, NULL, err, sizeof err), 0);

    /* the scheduler takes pending trials lowest number first */
    hp_trial_t t;
    ck_assert_int_eq(hp_store_trial_next_pending(st, mn, &t, err, sizeof err), 0);
    ck_assert_int_eq(t.number, 0);
    ck_assert_int_eq(t.state, HP_TRIAL_PENDING);
    ck_assert_int_eq(t.attempts, 0);
    ck_assert_ptr_null(t.worker_id);
    ck_assert(!t.has_value && isnan(t.value));
    hp_trial_fini(&t);

    for (int i = 0; i < 5; i++) {
        finish(st, ids[0][i], values[i]);
        finish(st, ids[1][i], values[i]);
    }
    /* minimize: 0.2 at #1 and #3, the tie goes to the lower number */
    ck_assert_int_eq(hp_store_trial_best(st, mn, &t, err, sizeof err), 0);
    ck_assert_int_eq(t.number, 1);
    ck_assert_double_eq(t.value, 0.2);
    ck_assert(t.has_value);
    ck_assert_str_eq(t.params, "{\"lr\":0.1}");
    ck_assert_str_eq(t.worker_id, "w1");
    ck_assert_int_eq(t.attempts, 1);
    ck_assert(t.started > 0 && t.ended >= t.started);
    hp_trial_fini(&t);
    ck_assert_int_eq(hp_store_trial_best(st, mx, &t, err, sizeof err), 0);
    ck_assert_int_eq(t.number, 2);
    ck_assert_double_eq(t.value, 0.9);
    hp_trial_fini(&t);

    ck_assert_int_eq(hp_store_trial_next_pending(st, mn, &t, err, sizeof err), 0);
    ck_assert_int_eq(t.id, extra);
    hp_trial_fini(&t);
    ck_assert_int_eq(hp_store_trial_next_pending(st, mx, &t, err, sizeof err), HP_ENOENT);

    int64_t counts[HP_TRIAL_STATE_COUNT_];
    ck_assert_int_eq(hp_store_trial_count(st, mn, counts, err, sizeof err), 0);
    ck_assert_int_eq(counts[HP_TRIAL_COMPLETED], 5);
    ck_assert_int_eq(counts[HP_TRIAL_PENDING], 1);
    ck_assert_int_eq(counts[HP_TRIAL_RUNNING], 0);

    ck_assert_int_eq(hp_store_trial_get_by_number(st, mx, 4, &t, err, sizeof err), 0);
    ck_assert_int_eq(t.id, ids[1][4]);
    hp_trial_fini(&t);
    ck_assert_int_eq(hp_store_trial_get_by_number(st, mx, 40, &t, err, sizeof err), HP_ENOENT);
    ck_assert_int_eq(hp_store_trial_get(st, 123456, &t, err, sizeof err), HP_ENOENT);

    /* params must be a JSON object */
    ck_assert_int_eq(hp_store_trial_create(st, mn, "{lr:1", NULL, NULL, err, sizeof err),
                     HP_EINVAL);
    ck_assert_int_eq(hp_store_trial_create(st, mn, "[1,2]", NULL, NULL, err, sizeof err),
                     HP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "JSON object"));
    /* a non-finite objective is refused; the trial stays running */
    int64_t nan_trial;
    ck_assert_int_eq(hp_store_trial_create(st, mx, "{}", &nan_trial, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_start(st, nan_trial, "w1", 7, 0, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_complete(st, nan_trial, 7, NAN, err, sizeof err), HP_EINVAL);
    ck_assert_int_eq(hp_store_trial_complete(st, nan_trial, 7, INFINITY, err, sizeof err),
                     HP_EINVAL);
    hp_store_close(st);
}
END_TEST

/* constraints: an infeasible trial is never the best, and its final
 * metric values come back by trial number (a restarted sampler's) */
static int final_cb(void *data, int64_t number, double value)
{
    double *v = data;
    if (number >= 0 && number < 8)
        v[number] = value;
    return 0;
}

START_TEST(test_infeasible_never_best_final_values)
{
    hp_store_t *st = open_rw();
    char err[512] = "";
    make_worker(st, "w1");
    int64_t id = make_study(st, "cons", HP_GOAL_MINIMIZE);
    double values[3] = {0.1, 0.3, 0.2}, mem[3] = {3000, 1500, 1800};
    for (int i = 0; i < 3; i++) {
        int64_t t;
        ck_assert_int_eq(hp_store_trial_create(st, id, "{}", &t, NULL, err, sizeof err), 0);
        int64_t lease = next_lease++;
        ck_assert_int_eq(hp_store_trial_start(st, t, "w1", lease, hp_store_now() + 30, NULL, err,
                                              sizeof err),
                         0);
        hp_metric_t m = {.trial_id = t, .attempt = 1, .step = -1, .name = "mem", .value = mem[i]};
        ck_assert_msg(hp_store_metric_append(st, &m, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(hp_store_trial_complete(st, t, lease, values[i], err, sizeof err), 0);
        if (mem[i] > 2000)
            ck_assert_int_eq(hp_store_trial_set_infeasible(st, t, "mem = 3000 is above max 2000",
                                                           err, sizeof err),
                             0);
    }
    hp_trial_t t;
    ck_assert_int_eq(hp_store_trial_best(st, id, &t, err, sizeof err), 0);
    ck_assert_int_eq(t.number, 2); /* 0.1 at #0 is infeasible */
    hp_trial_fini(&t);
    double got[8] = {NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    ck_assert_int_eq(hp_store_final_values(st, id, "mem", final_cb, got, err, sizeof err), 0);
    ck_assert(got[0] == 3000 && got[1] == 1500 && got[2] == 1800);
    ck_assert_int_eq(hp_store_trial_set_infeasible(st, 9999, "x", err, sizeof err), HP_ENOENT);
    hp_store_close(st);
}
END_TEST

typedef struct listed {
    int n;
    int64_t numbers[64];
    unsigned states;
} listed_t;

static int list_cb(void *data, const hp_trial_t *t)
{
    listed_t *l = data;
    l->numbers[l->n++] = t->number;
    l->states |= HP_TRIAL_MASK(t->state);
    return 0;
}

static int requeue_cb(void *data, const hp_trial_t *t)
{
    /* what the coordinator does at restart: re-queue every running trial */
    char err[512] = "";
    hp_store_t *st = data;
    int rc = hp_store_trial_requeue(st, t->id, t->lease_id, HP_ATTEMPT_LOST,
                                    "coordinator restarted", err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    return 0;
}

static int stop_cb(void *data, const hp_trial_t *t)
{
    (void)t;
    return ++*(int *)data == 2 ? 77 : 0;
}

START_TEST(test_trial_list_and_restart_requeue)
{
    hp_store_t *st = open_rw();
    char err[512] = "";
    make_worker(st, "w1");
    int64_t s1 = make_study(st, "s1", HP_GOAL_MINIMIZE);
    int64_t s2 = make_study(st, "s2", HP_GOAL_MINIMIZE);
    int64_t id;
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(hp_store_trial_create(st, i % 2 ? s2 : s1, "{}", &id, NULL, err,
                                               sizeof err), 0);
        if (i < 4)
            ck_assert_int_eq(hp_store_trial_start(st, id, "w1", next_lease++, 0, NULL, err,
                                                  sizeof err), 0);
    }
    listed_t l = {0};
    ck_assert_int_eq(hp_store_trial_list(st, s1, 0, list_cb, &l, err, sizeof err), 0);
    ck_assert_int_eq(l.n, 3);
    ck_assert(l.numbers[0] == 0 && l.numbers[1] == 1 && l.numbers[2] == 2);
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(hp_store_trial_list(st, 0, HP_TRIAL_MASK(HP_TRIAL_RUNNING), list_cb, &l,
                                         err, sizeof err), 0);
    ck_assert_int_eq(l.n, 4);
    ck_assert_uint_eq(l.states, HP_TRIAL_MASK(HP_TRIAL_RUNNING));
    memset(&l, 0, sizeof l);
    ck_assert_int_eq(hp_store_trial_list(st, s2, HP_TRIAL_MASK(HP_TRIAL_PENDING), list_cb, &l,
                                         err, sizeof err), 0);
    ck_assert_int_eq(l.n, 1);

    /* the callback may write to the listed trials */
    ck_assert_int_eq(hp_store_trial_list(st, 0, HP_TRIAL_MASK(HP_TRIAL_RUNNING), requeue_cb, st,
                                         err, sizeof err), 0);
    int64_t counts[HP_TRIAL_STATE_COUNT_];
    ck_assert_int_eq(hp_store_trial_count(st, s1, counts, err, sizeof err), 0);
    ck_assert_int_eq(counts[HP_TRIAL_PENDING], 3);
    ck_assert_int_eq(counts[HP_TRIAL_RUNNING], 0);
    ck_assert_str_eq(query(st, "SELECT count(*) FROM trial_attempts WHERE outcome = 'lost' "
                               "AND error = 'coordinator restarted'"), "4\n");
    /* a non-zero callback return stops the listing and is returned */
    int calls = 0;
    ck_assert_int_eq(hp_store_trial_list(st, 0, 0, stop_cb, &calls, err, sizeof err), 77);
    ck_assert_int_eq(calls, 2);
    hp_store_close(st);
}
END_TEST

/* ---- the state machine ------------------------------------------- */

/* legal[from][to], written out independently of the code under test */
static const int legal[HP_TRIAL_STATE_COUNT_][HP_TRIAL_STATE_COUNT_] = {
    /*              pend run comp fail prun canc */
    /* pending   */ {0, 1, 0, 0, 0, 1},
    /* running   */ {1, 0, 1, 1, 1, 1},
    /* completed */ {0, 0, 0, 0, 0, 0},
    /* failed    */ {0, 0, 0, 0, 0, 0},
    /* pruned    */ {0, 0, 0, 0, 0, 0},
    /* cancelled */ {0, 0, 0, 0, 0, 0},
};

/* in_state makes a trial in state `from` and returns its id. */
static int64_t in_state(hp_store_t *st, int64_t study, hp_trial_state_t from)
{
    char err[512] = "";
    int64_t id;
    ck_assert_int_eq(hp_store_trial_create(st, study, "{\"x\":1}", &id, NULL, err, sizeof err), 0);
    if (from == HP_TRIAL_PENDING)
        return id;
    if (from == HP_TRIAL_CANCELLED) {
        ck_assert_int_eq(hp_store_trial_cancel(st, id, "by user", err, sizeof err), 0);
        return id;
    }
    int64_t lease = next_lease++;
    ck_assert_int_eq(hp_store_trial_start(st, id, "w1", lease, hp_store_now() + 60, NULL, err,
                                          sizeof err), 0);
    int rc = 0;
    switch (from) {
    case HP_TRIAL_COMPLETED: rc = hp_store_trial_complete(st, id, lease, 1.5, err, sizeof err); break;
    case HP_TRIAL_FAILED: rc = hp_store_trial_fail(st, id, lease, "exit 1", err, sizeof err); break;
    case HP_TRIAL_PRUNED: rc = hp_store_trial_prune(st, id, lease, "median rule", err, sizeof err); break;
    default: break;
    }
    ck_assert_msg(rc == 0, "%s", err);
    return id;
}

static int go(hp_store_t *st, int64_t id, int64_t lease, hp_trial_state_t to, char *err,
              size_t errlen)
{
    switch (to) {
    case HP_TRIAL_PENDING:
        return hp_store_trial_requeue(st, id, lease, HP_ATTEMPT_LOST, "lease expired", err, errlen);
    case HP_TRIAL_RUNNING:
        return hp_store_trial_start(st, id, "w1", next_lease++, 0, NULL, err, errlen);
    case HP_TRIAL_COMPLETED:
        return hp_store_trial_complete(st, id, lease, 2.5, err, errlen);
    case HP_TRIAL_FAILED:
        return hp_store_trial_fail(st, id, lease, "boom", err, errlen);
    case HP_TRIAL_PRUNED:
        return hp_store_trial_prune(st, id, lease, NULL, err, errlen);
    case HP_TRIAL_CANCELLED:
        return hp_store_trial_cancel(st, id, NULL, err, errlen);
    default:
        return HP_EINVAL;
    }
}

/* One loop iteration per (from, to) pair: 36 cases. */
START_TEST(test_state_machine_every_pair)
{
    hp_trial_state_t from = (hp_trial_state_t)(_i / HP_TRIAL_STATE_COUNT_);
    hp_trial_state_t to = (hp_trial_state_t)(_i % HP_TRIAL_STATE_COUNT_);
    ck_assert_int_eq(hp_trial_transition_ok(from, to), legal[from][to]);

    hp_store_t *st = open_rw();
    make_worker(st, "w1");
    int64_t study = make_study(st, "sm", HP_GOAL_MINIMIZE);
    int64_t id = in_state(st, study, from);
    hp_trial_t before;
    char err[512] = "";
    ck_assert_int_eq(hp_store_trial_get(st, id, &before, err, sizeof err), 0);
    ck_assert_int_eq(before.state, from);
    /* the current lease when there is one: illegal pairs must fail on the
     * state, not on a lease mismatch */
    int64_t lease = before.attempts ? before.lease_id : 5;

    err[0] = 0;
    int rc = go(st, id, lease, to, err, sizeof err);
    hp_trial_t after;
    ck_assert_int_eq(hp_store_trial_get(st, id, &after, NULL, 0), 0);
    if (legal[from][to]) {
        ck_assert_msg(rc == 0, "%s -> %s: %s", hp_trial_state_name(from), hp_trial_state_name(to),
                      err);
        ck_assert_int_eq(after.state, to);
    } else {
        ck_assert_int_eq(rc, HP_ESTATE);
        char want[64];
        snprintf(want, sizeof want, "illegal transition %s -> %s", hp_trial_state_name(from),
                 hp_trial_state_name(to));
        ck_assert_msg(strstr(err, want), "message '%s' lacks '%s'", err, want);
        ck_assert_int_eq(after.state, from);
        ck_assert_int_eq(after.attempts, before.attempts);
        ck_assert_int_eq(after.has_value, before.has_value);
    }
    /* an attempt is closed with the trial's outcome, exactly when it ran */
    if (legal[from][to] && from == HP_TRIAL_RUNNING) {
        static const char *outcome[] = {"lost", "", "completed", "failed", "pruned", "cancelled"};
        char q[200], want[64];
        snprintf(q, sizeof q, "SELECT outcome, ended IS NOT NULL FROM trial_attempts "
                              "WHERE trial_id = %lld", (long long)id);
        snprintf(want, sizeof want, "%s|1\n", outcome[to]);
        ck_assert_str_eq(query(st, q), want);
    }
    if (to != HP_TRIAL_PENDING && to != HP_TRIAL_RUNNING && legal[from][to])
        ck_assert(after.ended > 0);
    hp_trial_fini(&before);
    hp_trial_fini(&after);
    hp_store_close(st);
}
END_TEST

START_TEST(test_state_names)
{
    for (int s = 0; s < HP_TRIAL_STATE_COUNT_; s++)
        ck_assert_int_eq(hp_trial_state_parse(hp_trial_state_name((hp_trial_state_t)s)), s);
    ck_assert_int_eq(hp_trial_state_parse("done"), -1);
    ck_assert_int_eq(hp_trial_state_parse(NULL), -1);
    ck_assert_str_eq(hp_trial_state_name((hp_trial_state_t)99), "unknown");
    for (int s = 0; s < HP_STUDY_STATE_COUNT_; s++)
        ck_assert_int_eq(hp_study_state_parse(hp_study_state_name((hp_study_state_t)s)), s);
    ck_assert_int_eq(hp_trial_transition_ok((hp_trial_state_t)-1, HP_TRIAL_RUNNING), 0);
}
END_TEST

/* ---- leases and exactly-once results ----------------------------- */

START_TEST(test_stale_lease_refused_result_stored_once)
{
    hp_store_t *st = open_rw();
    char err[512] = "";
    make_worker(st, "w1");
    make_worker(st, "w2");
    int64_t study = make_study(st, "lease", HP_GOAL_MINIMIZE);
    int64_t id;
    ck_assert_int_eq(hp_store_trial_create(st, study, "{\"lr\":0.01}", &id, NULL, err, sizeof err), 0);

    int attempt = 0;
    ck_assert_int_eq(hp_store_trial_start(st, id, "w1", 11, 1000.0, &attempt, err, sizeof err), 0);
    ck_assert_int_eq(attempt, 1);
    hp_metric_t m = {.trial_id = id, .attempt = 1, .step = 0, .name = "loss", .value = 2.0};
    ck_assert_int_eq(hp_store_metric_append(st, &m, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_renew(st, id, 11, 2000.0, err, sizeof err), 0);

    /* w1 goes silent: its lease expires and the trial goes to w2 */
    ck_assert_int_eq(hp_store_trial_requeue(st, id, 11, HP_ATTEMPT_LOST, "lease expired", err,
                                            sizeof err), 0);
    /* a lease id is never reused */
    ck_assert_int_eq(hp_store_trial_start(st, id, "w2", 11, 0, NULL, err, sizeof err), HP_EEXIST);
    ck_assert_int_eq(hp_store_trial_start(st, id, "nobody", 12, 0, NULL, err, sizeof err),
                     HP_ENOENT);
    ck_assert_ptr_nonnull(strstr(err, "unknown worker 'nobody'"));
    ck_assert_int_eq(hp_store_trial_start(st, id, "w2", 12, 3000.0, &attempt, err, sizeof err), 0);
    ck_assert_int_eq(attempt, 2);

    /* late messages from w1's attempt are refused */
    ck_assert_int_eq(hp_store_trial_complete(st, id, 11, 0.5, err, sizeof err), HP_ESTATE);
    ck_assert_ptr_nonnull(strstr(err, "stale lease 11"));
    ck_assert_int_eq(hp_store_trial_renew(st, id, 11, 9999.0, err, sizeof err), HP_ESTATE);
    ck_assert_int_eq(hp_store_trial_fail(st, id, 11, "late", err, sizeof err), HP_ESTATE);
    ck_assert_int_eq(hp_store_trial_requeue(st, id, 11, HP_ATTEMPT_LOST, NULL, err, sizeof err),
                     HP_ESTATE);
    ck_assert_int_eq(hp_store_metric_append(st, &m, err, sizeof err), HP_ESTATE);
    ck_assert_ptr_nonnull(strstr(err, "attempt 1 refused"));

    /* w2's progress and result are taken, once */
    m.attempt = 2;
    m.value = 1.0;
    ck_assert_int_eq(hp_store_metric_append(st, &m, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_complete(st, id, 12, 0.25, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_complete(st, id, 12, 0.75, err, sizeof err), HP_ESTATE);
    ck_assert_ptr_nonnull(strstr(err, "completed -> completed"));
    ck_assert_int_eq(hp_store_trial_complete(st, id, 11, 0.75, err, sizeof err), HP_ESTATE);
    m.step = 1;
    ck_assert_int_eq(hp_store_metric_append(st, &m, err, sizeof err), HP_ESTATE);

    hp_trial_t t;
    ck_assert_int_eq(hp_store_trial_get(st, id, &t, err, sizeof err), 0);
    ck_assert_int_eq(t.state, HP_TRIAL_COMPLETED);
    ck_assert_double_eq(t.value, 0.25);
    ck_assert_int_eq(t.attempts, 2);
    ck_assert_str_eq(t.worker_id, "w2");
    ck_assert_int_eq(t.lease_id, 12);
    ck_assert_double_eq(t.lease_expires, 3000.0);
    ck_assert_ptr_null(t.error);
    hp_trial_fini(&t);

    ck_assert_str_eq(query(st, "SELECT attempt, worker_id, lease_id, lease_expires, outcome, error "
                               "FROM trial_attempts ORDER BY attempt"),
                     "1|w1|11|2000|lost|lease expired\n"
                     "2|w2|12|3000|completed|NULL\n");
    ck_assert_str_eq(query(st, "SELECT attempt, step, value FROM metrics ORDER BY attempt"),
                     "1|0|2\n2|0|1\n");
    hp_store_close(st);
}
END_TEST

START_TEST(test_requeue_after_failure_and_cancel_running)
{
    hp_store_t *st = open_rw();
    char err[512] = "";
    make_worker(st, "w1");
    int64_t study = make_study(st, "retry", HP_GOAL_MINIMIZE);
    int64_t id;
    ck_assert_int_eq(hp_store_trial_create(st, study, "{}", &id, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_start(st, id, "w1", 21, 0, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_requeue(st, id, 21, HP_ATTEMPT_FAILED, "exit status 3", err,
                                            sizeof err), 0);
    hp_trial_t t;
    ck_assert_int_eq(hp_store_trial_get(st, id, &t, err, sizeof err), 0);
    ck_assert_int_eq(t.state, HP_TRIAL_PENDING);
    ck_assert_str_eq(t.error, "exit status 3");
    ck_assert(t.ended == 0);
    hp_trial_fini(&t);
    ck_assert_int_eq(hp_store_trial_requeue(st, id, 21, (hp_attempt_end_t)9, NULL, err, sizeof err),
                     HP_EINVAL);
    ck_assert_int_eq(hp_store_trial_start(st, id, "w1", 22, 0, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_cancel(st, id, "study cancelled", err, sizeof err), 0);
    ck_assert_str_eq(query(st, "SELECT attempt, outcome, error FROM trial_attempts ORDER BY attempt"),
                     "1|failed|exit status 3\n2|cancelled|study cancelled\n");
    ck_assert_int_eq(hp_store_trial_fail(st, id, 22, "", err, sizeof err), HP_EINVAL);
    hp_store_close(st);
}
END_TEST

/* trials.origin: who chose the params; an asked attempt has no worker and
 * a lease that does not expire, and is told like any other */
START_TEST(test_origin_and_asked_attempt)
{
    hp_store_t *st = open_rw();
    char err[512] = "";
    int64_t study = make_study(st, "origins", HP_GOAL_MINIMIZE);
    int64_t a, b, c, n;
    ck_assert_int_eq(hp_store_trial_create(st, study, "{}", &a, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_create_origin(st, study, "{\"x\":1}",
                                                  HP_TRIAL_ORIGIN_ENQUEUED, &b, &n, err,
                                                  sizeof err),
                     0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(hp_store_trial_create_origin(st, study, "{}", HP_TRIAL_ORIGIN_ASK, &c, NULL,
                                                  err, sizeof err),
                     0);
    ck_assert_int_eq(hp_store_trial_create_origin(st, study, "{}", (hp_trial_origin_t)7, NULL,
                                                  NULL, err, sizeof err),
                     HP_EINVAL);
    ck_assert_str_eq(query(st, "SELECT number, origin FROM trials ORDER BY number"),
                     "0|sampler\n1|enqueued\n2|ask\n");
    ck_assert_int_eq(hp_store_trial_start(st, c, NULL, 77, 0, NULL, err, sizeof err), 0);
    hp_trial_t t;
    ck_assert_int_eq(hp_store_trial_get(st, c, &t, err, sizeof err), 0);
    ck_assert_int_eq(t.origin, HP_TRIAL_ORIGIN_ASK);
    ck_assert_int_eq(t.state, HP_TRIAL_RUNNING);
    ck_assert_ptr_null(t.worker_id);
    ck_assert(t.lease_expires == 0);
    hp_trial_fini(&t);
    ck_assert_int_eq(hp_store_trial_get(st, b, &t, err, sizeof err), 0);
    ck_assert_int_eq(t.origin, HP_TRIAL_ORIGIN_ENQUEUED);
    hp_trial_fini(&t);
    hp_metric_t m = {.trial_id = c, .attempt = 1, .step = 3, .name = "loss", .value = 0.5};
    ck_assert_int_eq(hp_store_metric_append(st, &m, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_complete(st, c, 77, 0.5, err, sizeof err), 0);
    ck_assert_str_eq(query(st, "SELECT worker_id IS NULL, outcome FROM trial_attempts"),
                     "1|completed\n");
    ck_assert_str_eq(hp_trial_origin_name(HP_TRIAL_ORIGIN_ASK), "ask");
    ck_assert_int_eq(hp_trial_origin_parse("enqueued"), HP_TRIAL_ORIGIN_ENQUEUED);
    ck_assert_int_eq(hp_trial_origin_parse("user"), -1);
    (void)a;
    hp_store_close(st);
}
END_TEST

/* A study that grows and resumes: its spec replaced, an ended study
 * running again, its cancelled trials pending again (failed ones not). */
START_TEST(test_study_update_reopen_uncancel)
{
    hp_store_t *st = open_rw();
    char err[512] = "";
    make_worker(st, "w1");
    int64_t study = make_study(st, "grow", HP_GOAL_MINIMIZE);
    ck_assert_int_eq(hp_store_study_update_spec(st, study, "name: x\nmax: 20\n",
                                                "{\"name\":\"x\",\"m\":20}", 20, err,
                                                sizeof err),
                     0);
    ck_assert_str_eq(query(st, "SELECT spec, spec_json, max_trials FROM studies"),
                     "name: x\nmax: 20\n|{\"name\":\"x\",\"m\":20}|20\n");
    ck_assert_int_eq(hp_store_study_update_spec(st, 999, "a", "{}", 1, err, sizeof err),
                     HP_ENOENT);
    int64_t a, b, c;
    ck_assert_int_eq(hp_store_trial_create(st, study, "{}", &a, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_create(st, study, "{}", &b, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_create(st, study, "{}", &c, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_start(st, a, "w1", 1, 0, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_fail(st, a, 1, "boom", err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_start(st, b, "w1", 2, 0, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_cancel(st, b, "study cancelled", err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_cancel(st, c, "study cancelled", err, sizeof err), 0);

    /* running already: nothing to reopen; cancelled trials wait for it */
    ck_assert_int_eq(hp_store_study_reopen(st, study, err, sizeof err), HP_ESTATE);
    ck_assert_ptr_nonnull(strstr(err, "is running already"));
    ck_assert_int_eq(hp_store_study_set_state(st, study, HP_STUDY_CANCELLED, "by the user", err,
                                              sizeof err),
                     0);
    int64_t n = -1;
    ck_assert_int_eq(hp_store_trial_uncancel(st, study, &n, err, sizeof err), HP_ESTATE);
    ck_assert_int_eq(hp_store_study_reopen(st, study, err, sizeof err), 0);
    ck_assert_str_eq(query(st, "SELECT state, reason IS NULL, ended IS NULL FROM studies"),
                     "running|1|1\n");
    ck_assert_int_eq(hp_store_trial_uncancel(st, study, &n, err, sizeof err), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(query(st, "SELECT number, state, error IS NULL, ended IS NULL FROM trials "
                               "ORDER BY number"),
                     "0|failed|0|0\n1|pending|1|1\n2|pending|1|1\n");
    /* a re-queued trial starts a new attempt after the cancelled one */
    int attempt = 0;
    ck_assert_int_eq(hp_store_trial_start(st, b, "w1", 3, 0, &attempt, err, sizeof err), 0);
    ck_assert_int_eq(attempt, 2);
    ck_assert_int_eq(hp_store_study_reopen(st, 999, err, sizeof err), HP_ENOENT);
    hp_store_close(st);
}
END_TEST

/* An interrupted attempt (its worker was stopped) re-queues the trial and
 * is not counted against its retries; every other attempt is. */
START_TEST(test_interrupted_attempt_not_counted)
{
    hp_store_t *st = open_rw();
    char err[512] = "";
    make_worker(st, "w1");
    int64_t study = make_study(st, "stopped", HP_GOAL_MINIMIZE);
    int64_t id;
    int n = -1;
    ck_assert_int_eq(hp_store_trial_create(st, study, "{}", &id, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_counted_attempts(st, id, &n, err, sizeof err), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(hp_store_trial_start(st, id, "w1", 41, 0, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_counted_attempts(st, id, &n, err, sizeof err), 0);
    ck_assert_int_eq(n, 1); /* the running one counts */
    ck_assert_int_eq(hp_store_trial_requeue(st, id, 41, HP_ATTEMPT_INTERRUPTED,
                                            "worker stopped (SIGTERM)", err, sizeof err),
                     0);
    hp_trial_t t;
    ck_assert_int_eq(hp_store_trial_get(st, id, &t, err, sizeof err), 0);
    ck_assert_int_eq(t.state, HP_TRIAL_PENDING);
    ck_assert_int_eq(t.attempts, 1);
    hp_trial_fini(&t);
    ck_assert_int_eq(hp_store_trial_counted_attempts(st, id, &n, err, sizeof err), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(hp_store_trial_start(st, id, "w1", 42, 0, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_requeue(st, id, 42, HP_ATTEMPT_LOST, "silent", err,
                                            sizeof err),
                     0);
    ck_assert_int_eq(hp_store_trial_start(st, id, "w1", 43, 0, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_counted_attempts(st, id, &n, err, sizeof err), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(hp_store_trial_complete(st, id, 43, 1.5, err, sizeof err), 0);
    ck_assert_str_eq(query(st, "SELECT attempt, outcome, error FROM trial_attempts ORDER BY attempt"),
                     "1|interrupted|worker stopped (SIGTERM)\n2|lost|silent\n3|completed|NULL\n");
    ck_assert_int_eq(hp_store_trial_counted_attempts(st, 9999, &n, err, sizeof err), HP_ENOENT);
    /* nor does a user's cancel (a resumed study runs the trial again) */
    int64_t other;
    ck_assert_int_eq(hp_store_trial_create(st, study, "{}", &other, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_start(st, other, "w1", 44, 0, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_cancel(st, other, "study cancelled", err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_counted_attempts(st, other, &n, err, sizeof err), 0);
    ck_assert_int_eq(n, 0);
    hp_store_close(st);
}
END_TEST

/* ---- metrics, diagnosis, workers, events ------------------------- */

START_TEST(test_metrics_batch_curves_and_nan)
{
    hp_store_t *st = open_rw();
    char err[512] = "";
    make_worker(st, "w1");
    int64_t study = make_study(st, "curves", HP_GOAL_MINIMIZE);
    int64_t id, other;
    ck_assert_int_eq(hp_store_trial_create(st, study, "{}", &id, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_create(st, study, "{}", &other, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_start(st, id, "w1", 31, 0, NULL, err, sizeof err), 0);

    hp_metric_t batch[] = {
        {id, 1, 2, "val_loss", 0.5},
        {id, 1, 0, "val_loss", 0.9},
        {id, 1, 1, "val_loss", 0.7},
        {id, 1, 3, "val_loss", NAN},
        {id, 1, 4, "val_loss", INFINITY},
        {id, 1, 0, "train_loss", 1.0},
    };
    ck_assert_int_eq(hp_store_metrics_append(st, batch, HP_ARRAY_LEN(batch), err, sizeof err), 0);
    /* a resent report replaces, never duplicates */
    hp_metric_t again = {id, 1, 2, "val_loss", 0.55};
    ck_assert_int_eq(hp_store_metric_append(st, &again, err, sizeof err), 0);
    ck_assert_str_eq(query(st, "SELECT step, value FROM metrics WHERE trial_id = 1 "
                               "AND name = 'val_loss' ORDER BY step"),
                     "0|0.9\n1|0.7\n2|0.55\n3|NULL\n4|Inf\n");

    /* all or nothing: one bad metric (trial not running) drops the batch */
    hp_metric_t mixed[] = {{id, 1, 5, "val_loss", 0.4}, {other, 1, 0, "val_loss", 0.1}};
    ck_assert_int_eq(hp_store_metrics_append(st, mixed, 2, err, sizeof err), HP_ESTATE);
    ck_assert_ptr_nonnull(strstr(err, "trial is pending"));
    ck_assert_str_eq(query(st, "SELECT count(*) FROM metrics"), "6\n");
    hp_metric_t noname = {id, 1, 0, NULL, 1};
    ck_assert_int_eq(hp_store_metric_append(st, &noname, err, sizeof err), HP_EINVAL);
    hp_metric_t ghost = {999, 1, 0, "x", 1};
    ck_assert_int_eq(hp_store_metric_append(st, &ghost, err, sizeof err), HP_ENOENT);

    ck_assert_int_eq(hp_store_trial_set_diagnosis(st, id, "plateaus",
                                                  "learning rate too low?", err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_set_diagnosis(st, 999, "x", NULL, err, sizeof err), HP_ENOENT);
    ck_assert_str_eq(query(st, "SELECT diagnosis, diagnosis_detail FROM trials WHERE id = 1"),
                     "plateaus|learning rate too low?\n");
    hp_trial_t t;
    ck_assert_int_eq(hp_store_trial_get(st, id, &t, err, sizeof err), 0);
    ck_assert_str_eq(t.diagnosis, "plateaus");
    hp_trial_fini(&t);
    hp_store_close(st);
}
END_TEST

static int count_worker(void *data, const hp_worker_t *w)
{
    (void)w;
    (*(int *)data)++;
    return 0;
}

static double clock_value;
static double test_clock(void *data)
{
    (void)data;
    return clock_value;
}

START_TEST(test_workers_and_events)
{
    hp_store_t *st = open_rw();
    char err[512] = "";
    hp_store_set_clock(st, test_clock, NULL);
    clock_value = 1000.0;
    make_worker(st, "w1");
    clock_value = 1005.0;
    hp_worker_def_t again = {.id = "w1", .host = "node2", .cores = 8, .slots = 4};
    ck_assert_int_eq(hp_store_worker_upsert(st, &again, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_worker_set_state(st, "w1", HP_WORKER_LOST, err, sizeof err), 0);
    clock_value = 1010.0;
    ck_assert_int_eq(hp_store_worker_heartbeat(st, "w1", err, sizeof err), 0);
    ck_assert_int_eq(hp_store_worker_heartbeat(st, "w9", err, sizeof err), HP_ENOENT);
    ck_assert_int_eq(hp_store_worker_set_state(st, "w9", HP_WORKER_GONE, err, sizeof err),
                     HP_ENOENT);
    hp_worker_def_t bad = {.id = "w3", .host = "h", .capabilities = "{not json"};
    ck_assert_int_eq(hp_store_worker_upsert(st, &bad, err, sizeof err), HP_EINVAL);

    hp_worker_t w;
    ck_assert_int_eq(hp_store_worker_get(st, "w1", &w, err, sizeof err), 0);
    ck_assert_str_eq(w.host, "node2");
    ck_assert_int_eq(w.cores, 8);
    ck_assert_int_eq(w.slots, 4);
    ck_assert_str_eq(w.capabilities, "{}");
    ck_assert_double_eq(w.first_seen, 1000.0);
    ck_assert_double_eq(w.last_seen, 1010.0);
    ck_assert_int_eq(w.state, HP_WORKER_ALIVE);
    hp_worker_fini(&w);
    ck_assert_int_eq(hp_store_worker_get(st, "w9", &w, err, sizeof err), HP_ENOENT);
    make_worker(st, "w2");
    int n = 0;
    ck_assert_int_eq(hp_store_worker_list(st, count_worker, &n, err, sizeof err), 0);
    ck_assert_int_eq(n, 2);

    int64_t study = make_study(st, "ev", HP_GOAL_MINIMIZE);
    ck_assert_int_eq(hp_store_event_append(st, "lease_expired", study, 3, "w1",
                                           "no heartbeat for 30 s", err, sizeof err), 0);
    ck_assert_int_eq(hp_store_event_append(st, "started", 0, 0, NULL, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_event_append(st, "", 0, 0, NULL, NULL, err, sizeof err), HP_EINVAL);
    ck_assert_str_eq(query(st, "SELECT time, kind, study_id, trial_id, worker_id, message "
                               "FROM events ORDER BY id"),
                     "1010|lease_expired|1|3|w1|no heartbeat for 30 s\n"
                     "1010|started|NULL|NULL|NULL|NULL\n");
    hp_store_close(st);
}
END_TEST

/* ---- write groups ------------------------------------------------ */

START_TEST(test_groups_commit_rollback_and_savepoints)
{
    hp_store_t *st = open_rw();
    char err[512] = "";
    make_worker(st, "w1");
    int64_t study = make_study(st, "groups", HP_GOAL_MINIMIZE);

    ck_assert_int_eq(hp_store_begin(st, err, sizeof err), 0);
    ck_assert(hp_store_in_group(st));
    ck_assert_int_eq(hp_store_begin(st, err, sizeof err), HP_ESTATE);
    ck_assert_int_eq(hp_store_checkpoint(st, 0, err, sizeof err), HP_ESTATE);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(hp_store_trial_create(st, study, "{}", NULL, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_rollback(st, err, sizeof err), 0);
    ck_assert(!hp_store_in_group(st));
    ck_assert_str_eq(query(st, "SELECT count(*) FROM trials"), "0\n");

    /* one refused operation inside a tick leaves the tick's other writes */
    int64_t id;
    ck_assert_int_eq(hp_store_trial_create(st, study, "{}", &id, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_start(st, id, "w1", 41, 0, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_begin(st, err, sizeof err), 0);
    hp_metric_t m = {id, 1, 0, "loss", 1.0};
    ck_assert_int_eq(hp_store_metric_append(st, &m, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_complete(st, id, 40, 0.1, err, sizeof err), HP_ESTATE);
    hp_metric_t mixed[] = {{id, 1, 1, "loss", 0.9}, {id, 2, 1, "loss", 0.9}};
    ck_assert_int_eq(hp_store_metrics_append(st, mixed, 2, err, sizeof err), HP_ESTATE);
    ck_assert_int_eq(hp_store_trial_complete(st, id, 41, 0.1, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_commit(st, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_commit(st, err, sizeof err), HP_ESTATE);
    ck_assert_int_eq(hp_store_rollback(st, err, sizeof err), 0); /* none open: no-op */
    ck_assert_str_eq(query(st, "SELECT step FROM metrics"), "0\n");
    ck_assert_str_eq(query(st, "SELECT state, value FROM trials"), "completed|0.1\n");

    ck_assert_int_eq(hp_store_checkpoint(st, 1, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_integrity_check(st, err, sizeof err), 0);
    /* closing with a group open rolls it back */
    ck_assert_int_eq(hp_store_begin(st, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_create(st, study, "{}", NULL, NULL, err, sizeof err), 0);
    hp_store_close(st);
    st = open_rw();
    ck_assert_str_eq(query(st, "SELECT count(*) FROM trials"), "1\n");
    hp_store_close(st);
}
END_TEST

/* ---- read-only handles and queries ------------------------------- */

static int count_rows(void *data, int ncol, const char *const *names, const char *const *values,
                      const int *types)
{
    (void)ncol;
    (void)names;
    (void)types;
    if (values)
        ++*(int *)data;
    return 0;
}

START_TEST(test_runaway_query_stopped)
{
    hp_store_t *st = open_rw();
    char err[512] = "";
    int rows = 0;
    hp_store_set_query_limit(st, 0.2);
    int rc = hp_store_exec_query(st,
                                 "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                                 "SELECT count(*) FROM c",
                                 count_rows, &rows, err, sizeof err);
    ck_assert_int_eq(rc, HP_ETIMEDOUT);
    ck_assert_ptr_nonnull(strstr(err, "query stopped after 0.2 s"));
    /* the handle works on, and quick queries are untouched by the limit */
    ck_assert_int_eq(hp_store_exec_query(st, "SELECT 1", count_rows, &rows, err, sizeof err), 0);
    ck_assert_int_eq(rows, 1);
    hp_store_close(st);
}
END_TEST

START_TEST(test_readonly_refuses_writes)
{
    hp_store_t *rw = open_rw();
    char err[512] = "";
    make_worker(rw, "w1");
    int64_t study = make_study(rw, "ro", HP_GOAL_MINIMIZE);
    int64_t id;
    ck_assert_int_eq(hp_store_trial_create(rw, study, "{}", &id, NULL, err, sizeof err), 0);

    /* a reader beside the open writer (WAL) */
    hp_store_t *ro = NULL;
    ck_assert_msg(hp_store_open(&ro, dbpath, HP_STORE_READONLY, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(hp_store_schema_version(ro), HP_STORE_SCHEMA_VERSION);

    hp_study_def_t def = {.name = "x", .spec = "", .spec_json = "{}", .metric = "m"};
    ck_assert_int_eq(hp_store_study_create(ro, &def, NULL, err, sizeof err), HP_EREADONLY);
    ck_assert_ptr_nonnull(strstr(err, "read-only"));
    ck_assert_ptr_nonnull(strstr(err, dbpath));
    ck_assert_int_eq(hp_store_trial_create(ro, study, "{}", NULL, NULL, err, sizeof err),
                     HP_EREADONLY);
    ck_assert_int_eq(hp_store_trial_start(ro, id, "w1", 1, 0, NULL, err, sizeof err), HP_EREADONLY);
    ck_assert_int_eq(hp_store_trial_cancel(ro, id, NULL, err, sizeof err), HP_EREADONLY);
    ck_assert_int_eq(hp_store_worker_heartbeat(ro, "w1", err, sizeof err), HP_EREADONLY);
    ck_assert_int_eq(hp_store_event_append(ro, "x", 0, 0, NULL, NULL, err, sizeof err),
                     HP_EREADONLY);
    ck_assert_int_eq(hp_store_begin(ro, err, sizeof err), HP_EREADONLY);
    ck_assert_int_eq(hp_store_checkpoint(ro, 0, err, sizeof err), HP_EREADONLY);
    rows_t r = {0};
    ck_assert_int_eq(hp_store_exec_query(ro, "DELETE FROM trials", rows_cb, &r, err, sizeof err),
                     HP_EREADONLY);
    ck_assert_ptr_nonnull(strstr(err, "DELETE FROM trials"));
    /* reads work, and see the writer's later commits */
    hp_study_t s;
    ck_assert_int_eq(hp_store_study_get(ro, study, &s, err, sizeof err), 0);
    hp_study_fini(&s);
    ck_assert_str_eq(query(ro, "SELECT count(*) FROM trials"), "1\n");
    ck_assert_int_eq(hp_store_trial_create(rw, study, "{}", NULL, NULL, err, sizeof err), 0);
    ck_assert_str_eq(query(ro, "SELECT count(*) FROM trials"), "2\n");
    ck_assert_str_eq(query(ro, "PRAGMA query_only"), "1\n");
    hp_store_close(ro);
    hp_store_close(rw);

    /* read-only never creates */
    ck_assert_int_eq(hp_store_open(&ro, tmp_path("missing.db"), HP_STORE_READONLY | HP_STORE_CREATE,
                                   err, sizeof err), HP_ENOENT);
    ck_assert_ptr_null(ro);
    ck_assert_int_ne(access(tmp_path("missing.db"), F_OK), 0);
    ck_assert_int_eq(hp_store_open(&ro, tmp_path("missing.db"), 0, err, sizeof err), HP_ENOENT);
    ck_assert_ptr_nonnull(strstr(err, "no such database"));
}
END_TEST

static int header_first_cb(void *data, int ncol, const char *const *names,
                           const char *const *values, const int *types)
{
    rows_t *r = data;
    if (!values) {
        ck_assert_int_eq(r->nrows, 0);
        ck_assert_ptr_null(types);
        size_t len = strlen(r->text);
        for (int i = 0; i < ncol; i++)
            len += (size_t)snprintf(r->text + len, sizeof r->text - len, "%s%s", i ? "," : "",
                                    names[i]);
        snprintf(r->text + len, sizeof r->text - len, "\n");
        r->headers++;
        return 0;
    }
    ck_assert_int_eq(types[0], HP_STORE_INTEGER);
    ck_assert_int_eq(types[1], HP_STORE_FLOAT);
    ck_assert_int_eq(types[2], HP_STORE_TEXT);
    ck_assert_int_eq(types[3], HP_STORE_NULL);
    ck_assert_int_eq(types[4], HP_STORE_BLOB);
    ck_assert_str_eq(values[4], "x'00ff'");
    ck_assert_ptr_null(values[3]);
    r->nrows++;
    return 0;
}

START_TEST(test_exec_query_json_and_guards)
{
    hp_store_t *st = open_rw();
    char err[512] = "";
    make_worker(st, "w1");
    int64_t study = make_study(st, "json", HP_GOAL_MINIMIZE);
    const char *params[] = {"{\"lr\":0.1,\"layers\":2,\"act\":\"relu\"}",
                            "{\"lr\":0.001,\"layers\":3,\"act\":\"tanh\"}",
                            "{\"lr\":0.01,\"layers\":2,\"act\":\"relu\"}"};
    for (int i = 0; i < 3; i++) {
        int64_t id;
        ck_assert_int_eq(hp_store_trial_create(st, study, params[i], &id, NULL, err, sizeof err), 0);
        finish(st, id, 1.0 + i);
    }
    ck_assert_str_eq(query(st, "SELECT number, json_extract(params, '$.lr'), value FROM trials "
                               "WHERE json_extract(params, '$.act') = 'relu' "
                               "ORDER BY json_extract(params, '$.lr')"),
                     "2|0.01|3\n0|0.1|1\n");
    ck_assert_str_eq(query(st, "SELECT json_extract(params, '$.layers') AS layers, count(*) "
                               "FROM trials GROUP BY layers ORDER BY layers"),
                     "2|2\n3|1\n");

    rows_t r = {0};
    ck_assert_int_eq(hp_store_exec_query(st, "SELECT 1 AS i, 0.5 AS f, 'x' AS t, NULL AS n, "
                                             "x'00ff' AS b",
                                         header_first_cb, &r, err, sizeof err), 0);
    ck_assert_str_eq(r.text, "i,f,t,n,b\n");
    ck_assert_int_eq(r.nrows, 1);

    /* several statements; a header even for an empty result */
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(hp_store_exec_query(st, "SELECT 1; SELECT 2 WHERE 0; -- done\n", rows_cb, &r,
                                         err, sizeof err), 0);
    ck_assert_int_eq(r.headers, 2);
    ck_assert_int_eq(r.nrows, 1);
    /* the table-lookup pragmas are questions, so they are allowed */
    ck_assert_ptr_nonnull(strstr(query(st, "PRAGMA table_info(trials)"), "|params|TEXT|1|"));

    struct { const char *sql; int rc; const char *msg; } bad[] = {
        {"UPDATE trials SET value = 0", HP_EREADONLY, "read-only"},
        {"INSERT INTO events (time, kind) VALUES (1, 'x')", HP_EREADONLY, "read-only"},
        {"DROP TABLE metrics", HP_EREADONLY, "read-only"},
        {"PRAGMA foreign_keys = OFF", HP_EINVAL, "PRAGMA"},
        {"PRAGMA user_version = 99", HP_EINVAL, "PRAGMA"},
        {"SELECT * FROM pragma_journal_mode('delete')", HP_EINVAL, "unknown database"},
        {"BEGIN", HP_EINVAL, "transaction"},
        {"SELECT 1; COMMIT", HP_EINVAL, "transaction"},
        {"ATTACH 'other.db' AS o", HP_EINVAL, ""},
        {"SELEKT 1", HP_EINVAL, "syntax error"},
        {"SELECT nope FROM trials", HP_EINVAL, "no such column"},
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(bad); i++) {
        memset(&r, 0, sizeof r);
        err[0] = 0;
        int rc = hp_store_exec_query(st, bad[i].sql, rows_cb, &r, err, sizeof err);
        ck_assert_msg(rc == bad[i].rc, "%s: rc %d (%s)", bad[i].sql, rc, err);
        ck_assert_msg(strstr(err, bad[i].msg), "%s: message '%s'", bad[i].sql, err);
    }
    ck_assert_str_eq(query(st, "SELECT count(*) FROM trials WHERE value IS NOT NULL"), "3\n");
    ck_assert_str_eq(query(st, "PRAGMA foreign_keys"), "1\n");
    ck_assert(!hp_store_in_group(st));
    /* the store still writes after the refusals */
    ck_assert_int_eq(hp_store_trial_create(st, study, "{}", NULL, NULL, err, sizeof err), 0);
    hp_store_close(st);
}
END_TEST

START_TEST(test_durability_pragmas)
{
    hp_store_t *st = open_rw();
    ck_assert_str_eq(query(st, "SELECT * FROM pragma_journal_mode"), "wal\n");
    ck_assert_str_eq(query(st, "PRAGMA synchronous"), "2\n"); /* FULL */
    ck_assert_str_eq(query(st, "PRAGMA foreign_keys"), "1\n");
    hp_store_close(st);
    char err[512] = "";
    ck_assert_int_eq(hp_store_open(&st, dbpath, HP_STORE_SYNC_NORMAL | HP_STORE_MANUAL_CHECKPOINT,
                                   err, sizeof err), 0);
    ck_assert_str_eq(query(st, "PRAGMA synchronous"), "1\n"); /* NORMAL */
    ck_assert_str_eq(query(st, "PRAGMA wal_autocheckpoint"), "0\n");
    ck_assert_str_eq(hp_store_path(st), dbpath);
    hp_store_close(st);
    hp_store_close(NULL);
}
END_TEST

/* Baselines: one row per dataset key and name, the first stays; a study
 * carries its key; the table's constraints hold for plain SQL too. */
START_TEST(test_baselines_once_per_key)
{
    hp_store_t *st = open_rw();
    char err[512] = "";
    static const char key[] = "{\"name\":\"fashion-mnist\",\"seed\":0}";
    hp_study_def_t def = {.name = "a", .spec = "name: a\n", .spec_json = "{}", .metric = "val_error",
                          .max_trials = 6, .dataset_key = key};
    int64_t a, b;
    ck_assert_int_eq(hp_store_study_create(st, &def, &a, err, sizeof err), 0);
    def.name = "b";
    ck_assert_int_eq(hp_store_study_create(st, &def, &b, err, sizeof err), 0);
    def.name = "c";
    def.dataset_key = "";
    ck_assert_int_eq(hp_store_study_create(st, &def, NULL, err, sizeof err), HP_EINVAL);
    def.dataset_key = NULL;
    int64_t none = 0;
    ck_assert_int_eq(hp_store_study_create(st, &def, &none, err, sizeof err), 0);
    hp_study_t s;
    ck_assert_int_eq(hp_store_study_get(st, a, &s, err, sizeof err), 0);
    ck_assert_str_eq(s.dataset_key, key);
    hp_study_fini(&s);
    ck_assert_int_eq(hp_store_study_get_by_name(st, "c", &s, err, sizeof err), 0);
    ck_assert_ptr_null(s.dataset_key);
    hp_study_fini(&s);

    int64_t ta, tb;
    ck_assert_int_eq(hp_store_trial_create(st, a, "{}", &ta, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_create(st, b, "{}", &tb, NULL, err, sizeof err), 0);
    int64_t n = -1;
    ck_assert_int_eq(hp_store_baseline_count(st, key, &n, err, sizeof err), 0);
    ck_assert_int_eq(n, 0);

    ck_assert_str_eq(hp_store_baseline_name("baseline_majority_error"), "majority_class");
    ck_assert_str_eq(hp_store_baseline_name("baseline_linear_error"), "linear_model");
    ck_assert_ptr_null(hp_store_baseline_name("test_error"));
    ck_assert_ptr_null(hp_store_baseline_name(NULL));

    int inserted = -1;
    hp_baseline_def_t bl = {.dataset_key = key, .name = "linear_model", .error = 0.16,
                            .study_id = a, .trial_id = ta};
    ck_assert_int_eq(hp_store_baseline_put(st, &bl, &inserted, err, sizeof err), 0);
    ck_assert_int_eq(inserted, 1);
    bl.name = "majority_class";
    bl.error = 0.9;
    ck_assert_int_eq(hp_store_baseline_put(st, &bl, NULL, err, sizeof err), 0);
    /* study b computed them too (a race): the first stay */
    bl = (hp_baseline_def_t){.dataset_key = key, .name = "linear_model", .error = 0.17,
                             .study_id = b, .trial_id = tb};
    ck_assert_int_eq(hp_store_baseline_put(st, &bl, &inserted, err, sizeof err), 0);
    ck_assert_int_eq(inserted, 0);
    ck_assert_int_eq(hp_store_baseline_count(st, key, &n, err, sizeof err), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(hp_store_baseline_count(st, "other", &n, err, sizeof err), 0);
    ck_assert_int_eq(n, 0);
    /* every study on the key sees them, as docs/sql.md queries them */
    ck_assert_str_eq(query(st, "SELECT s.name, b.name, b.error, b.study_id = s.id "
                               "FROM studies s JOIN baselines b USING (dataset_key) "
                               "ORDER BY s.name, b.name"),
                     "a|linear_model|0.16|1\na|majority_class|0.9|1\n"
                     "b|linear_model|0.16|0\nb|majority_class|0.9|0\n");

    /* refused: non-finite or negative errors, empty names, unknown trials */
    bl.error = NAN;
    ck_assert_int_eq(hp_store_baseline_put(st, &bl, NULL, err, sizeof err), HP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "finite"));
    bl.error = -0.1;
    ck_assert_int_eq(hp_store_baseline_put(st, &bl, NULL, err, sizeof err), HP_EINVAL);
    bl.error = 0.5;
    bl.name = "";
    ck_assert_int_eq(hp_store_baseline_put(st, &bl, NULL, err, sizeof err), HP_EINVAL);
    bl.name = "linear_model";
    bl.dataset_key = NULL;
    ck_assert_int_eq(hp_store_baseline_put(st, &bl, NULL, err, sizeof err), HP_EINVAL);
    bl.dataset_key = "k2";
    bl.trial_id = 999;
    ck_assert_int_eq(hp_store_baseline_put(st, &bl, NULL, err, sizeof err), HP_ENOENT);
    ck_assert_int_eq(hp_store_baseline_count(st, "k2", &n, err, sizeof err), 0);
    ck_assert_int_eq(n, 0);
    hp_store_close(st);

    /* the table's own constraints, for writers that bypass the API */
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
    static const char *const bad[] = {
        "INSERT INTO baselines (dataset_key, name, error, study_id, trial_id, created) "
        "VALUES ('{\"name\":\"fashion-mnist\",\"seed\":0}', 'linear_model', 0.2, 1, 1, 0)",
        "INSERT INTO baselines (dataset_key, name, error, study_id, trial_id, created) "
        "VALUES ('k', 'linear_model', NULL, 1, 1, 0)",
        "INSERT INTO baselines (dataset_key, name, error, study_id, trial_id, created) "
        "VALUES ('k', 'linear_model', -1, 1, 1, 0)",
        "INSERT INTO baselines (dataset_key, name, error, study_id, trial_id, created) "
        "VALUES ('', 'linear_model', 0.2, 1, 1, 0)",
        "INSERT INTO baselines (dataset_key, name, error, study_id, trial_id, created) "
        "VALUES ('k', 'linear_model', 0.2, NULL, 1, 0)",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(sqlite3_exec(db, bad[i], NULL, NULL, NULL) == SQLITE_CONSTRAINT, "%s",
                      bad[i]);
    sqlite3_close(db);
}
END_TEST

typedef struct ev_log {
    char text[512];
} ev_log_t;

static int ev_cb(void *data, const hp_prune_event_t *e)
{
    ev_log_t *l = data;
    size_t n = strlen(l->text);
    if (e->kind == HP_PRUNE_EV_REPORT)
        snprintf(l->text + n, sizeof l->text - n, "r%lld@%lld=%g ", (long long)e->number,
                 (long long)e->step, e->value);
    else
        snprintf(l->text + n, sizeof l->text - n, "%c%lld.%d ",
                 e->kind == HP_PRUNE_EV_COMPLETE ? 'c' : 'f', (long long)e->number, e->attempt);
    return 0;
}

static int last_cb(void *data, int64_t number, double value)
{
    ev_log_t *l = data;
    size_t n = strlen(l->text);
    snprintf(l->text + n, sizeof l->text - n, "%lld=%g ", (long long)number, value);
    return 0;
}

static void report(hp_store_t *st, int64_t trial, int attempt, int64_t step, const char *name,
                   double v)
{
    char err[512] = "";
    hp_metric_t m = {.trial_id = trial, .attempt = attempt, .step = step, .name = name, .value = v};
    ck_assert_msg(hp_store_metric_append(st, &m, err, sizeof err) == 0, "%s", err);
}

/* What a restarted coordinator replays for its pruning rule: the pruning
 * metric's reports at steps and each attempt's end, in the order they
 * happened (a lost attempt forgotten, a pruned one kept); and a pruned
 * trial's objective at its last step, for the samplers. */
START_TEST(test_pruning_events_and_last_values)
{
    hp_store_t *st = open_rw();
    char err[512] = "";
    make_worker(st, "w1");
    int64_t sid = make_study(st, "prune", HP_GOAL_MINIMIZE);
    int64_t t0, t1;
    ck_assert_int_eq(hp_store_trial_create(st, sid, "{\"x\":1}", &t0, NULL, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_create(st, sid, "{\"x\":2}", &t1, NULL, err, sizeof err), 0);
    /* trial 0: attempt 1 reports steps 1, 2 and is lost; attempt 2 reports
     * step 1 and completes (a final metric at step -1 is not a report) */
    int64_t l = next_lease++;
    ck_assert_int_eq(hp_store_trial_start(st, t0, "w1", l, hp_store_now() + 60, NULL, err,
                                          sizeof err), 0);
    report(st, t0, 1, 1, "loss", 0.9);
    report(st, t0, 1, 2, "loss", 0.8);
    report(st, t0, 1, 2, "acc", 0.1);
    ck_assert_int_eq(hp_store_trial_requeue(st, t0, l, HP_ATTEMPT_LOST, "lost", err, sizeof err),
                     0);
    l = next_lease++;
    ck_assert_int_eq(hp_store_trial_start(st, t0, "w1", l, hp_store_now() + 60, NULL, err,
                                          sizeof err), 0);
    report(st, t0, 2, 1, "loss", 0.7);
    report(st, t0, 2, -1, "loss", 0.5);
    ck_assert_int_eq(hp_store_trial_complete(st, t0, l, 0.5, err, sizeof err), 0);
    /* trial 1: reports steps 1 and 3, pruned */
    l = next_lease++;
    ck_assert_int_eq(hp_store_trial_start(st, t1, "w1", l, hp_store_now() + 60, NULL, err,
                                          sizeof err), 0);
    report(st, t1, 1, 1, "loss", 1.5);
    report(st, t1, 1, 3, "loss", 1.25);
    ck_assert_int_eq(hp_store_trial_prune(st, t1, l, "asha", err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_set_pruned_step(st, t1, 3, err, sizeof err), 0);
    ck_assert_int_eq(hp_store_trial_set_pruned_step(st, t1, -1, err, sizeof err), HP_EINVAL);

    ev_log_t log = {""};
    ck_assert_int_eq(hp_store_prune_events(st, sid, "loss", ev_cb, &log, err, sizeof err), 0);
    ck_assert_str_eq(log.text, "r0@1=0.9 r0@2=0.8 f0.1 r0@1=0.7 c0.2 r1@1=1.5 r1@3=1.25 ");
    ev_log_t last = {""};
    ck_assert_int_eq(hp_store_pruned_last_values(st, sid, "loss", last_cb, &last, err,
                                                 sizeof err),
                     0);
    ck_assert_str_eq(last.text, "1=1.25 ");
    hp_store_close(st);
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("api");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, test_study_create_get_list);
    tcase_add_test(tc, test_trials_numbering_best_counts);
    tcase_add_test(tc, test_infeasible_never_best_final_values);
    tcase_add_test(tc, test_trial_list_and_restart_requeue);
    tcase_add_loop_test(tc, test_state_machine_every_pair, 0,
                        HP_TRIAL_STATE_COUNT_ * HP_TRIAL_STATE_COUNT_);
    tcase_add_test(tc, test_state_names);
    tcase_add_test(tc, test_stale_lease_refused_result_stored_once);
    tcase_add_test(tc, test_requeue_after_failure_and_cancel_running);
    tcase_add_test(tc, test_interrupted_attempt_not_counted);
    tcase_add_test(tc, test_origin_and_asked_attempt);
    tcase_add_test(tc, test_study_update_reopen_uncancel);
    tcase_add_test(tc, test_metrics_batch_curves_and_nan);
    tcase_add_test(tc, test_workers_and_events);
    tcase_add_test(tc, test_groups_commit_rollback_and_savepoints);
    tcase_add_test(tc, test_readonly_refuses_writes);
    tcase_add_test(tc, test_runaway_query_stopped);
    tcase_add_test(tc, test_exec_query_json_and_guards);
    tcase_add_test(tc, test_durability_pragmas);
    tcase_add_test(tc, test_baselines_once_per_key);
    tcase_add_test(tc, test_pruning_events_and_last_values);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_check_run(store_suite());
}
