/* store_metric.c — metrics reported by a trial's current attempt. */
#include "store_int.h"

#include "err.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* check_attempt refuses metrics for a trial that is not running or from an
 * attempt that is not its current one. */
static int check_attempt(hp_store_t *st, const hp_metric_t *m, char *err, size_t errlen)
{
    int rc = HP_EDB;
    sqlite3_stmt *s = hp_store_stmt(st, Q_METRIC_CHECK,
                                    "SELECT state, attempts, number, study_id FROM trials "
                                    "WHERE id = ?1",
                                    &rc, err, errlen);
    if (!s)
        return rc;
    sqlite3_bind_int64(s, 1, m->trial_id);
    int src = sqlite3_step(s);
    if (src == SQLITE_DONE) {
        rc = hp_errf(err, errlen, HP_ENOENT, "metric '%s': no trial %" PRId64,
                     m->name, m->trial_id);
    } else if (src != SQLITE_ROW) {
        rc = hp_store_sqlerr(st, src, err, errlen, "metric '%s'", m->name);
    } else {
        const char *state = (const char *)sqlite3_column_text(s, 0);
        int attempts = sqlite3_column_int(s, 1);
        rc = 0;
        if (!state || strcmp(state, "running") != 0 || attempts != m->attempt)
            rc = hp_errf(err, errlen, HP_ESTATE,
                         "trial %" PRId64 " (#%" PRId64 " of study %" PRId64
                         "): metric '%s' from attempt %d refused: trial is %s at attempt %d",
                         m->trial_id, (int64_t)sqlite3_column_int64(s, 2),
                         (int64_t)sqlite3_column_int64(s, 3), m->name, m->attempt,
                         state ? state : "?", attempts);
    }
    sqlite3_reset(s);
    return rc;
}

static int insert(hp_store_t *st, const hp_metric_t *m, double now, char *err,
                  size_t errlen)
{
    int rc = HP_EDB;
    sqlite3_stmt *s = hp_store_stmt(
        st, Q_METRIC_INSERT,
        "INSERT INTO metrics (trial_id, attempt, step, name, value, time) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
        "ON CONFLICT (trial_id, name, step, attempt) "
        "DO UPDATE SET value = excluded.value, time = excluded.time",
        &rc, err, errlen);
    if (!s)
        return rc;
    sqlite3_bind_int64(s, 1, m->trial_id);
    sqlite3_bind_int(s, 2, m->attempt);
    sqlite3_bind_int64(s, 3, m->step);
    sqlite3_bind_text(s, 4, m->name, -1, SQLITE_TRANSIENT);
    hp_store_bind_real(s, 5, m->value);
    sqlite3_bind_double(s, 6, now);
    return hp_store_step_done(st, s, "append metric", err, errlen);
}

int hp_store_metrics_append(hp_store_t *st, const hp_metric_t *m, size_t n, char *err,
                            size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        if (!m[i].name || !*m[i].name)
            return hp_errf(err, errlen, HP_EINVAL,
                           "trial %" PRId64 ": metric without a name", m[i].trial_id);
    int rc = hp_store_op_begin(st, "append metrics", err, errlen);
    if (rc < 0)
        return rc;
    double now = hp_store_clock(st);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        /* a batch is usually one attempt's epoch: check each attempt once */
        if (i == 0 || m[i].trial_id != m[i - 1].trial_id || m[i].attempt != m[i - 1].attempt)
            rc = check_attempt(st, &m[i], err, errlen);
        if (rc == 0)
            rc = insert(st, &m[i], now, err, errlen);
    }
    return hp_store_op_end(st, rc, err, errlen);
}

int hp_store_metric_append(hp_store_t *st, const hp_metric_t *m, char *err, size_t errlen)
{
    return hp_store_metrics_append(st, m, 1, err, errlen);
}
