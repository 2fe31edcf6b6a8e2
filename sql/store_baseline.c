/* store_baseline.c — simple baselines, stored once per dataset key. */
#include "store_int.h"

#include "baselines.h"
#include "err.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* the final metrics a built-in trial reports for its baselines and their
 * names in the table: common/baselines.h */
const char *hp_store_baseline_name(const char *metric)
{
    int b = hp_baseline_by_metric(metric);
    return b < 0 ? NULL : hp_baseline_names[b].name;
}

int hp_store_baseline_put(hp_store_t *st, const hp_baseline_def_t *b, int *inserted,
                          char *err, size_t errlen)
{
    if (inserted)
        *inserted = 0;
    if (!b || !b->dataset_key || !*b->dataset_key || !b->name || !*b->name)
        return hp_errf(err, errlen, HP_EINVAL, "baseline: a dataset key and a name are required");
    if (!isfinite(b->error) || b->error < 0)
        return hp_errf(err, errlen, HP_EINVAL,
                       "baseline '%s' of trial %" PRId64 ": error must be finite and >= 0 "
                       "(got %g)",
                       b->name, b->trial_id, b->error);
    int rc = hp_store_op_begin(st, "store a baseline", err, errlen);
    if (rc < 0)
        return rc;
    /* OR IGNORE: another study on the same data may have stored it first;
     * the CHECK and foreign-key constraints still fail the statement */
    sqlite3_stmt *s = hp_store_stmt(
        st, Q_BASELINE_INSERT,
        "INSERT OR IGNORE INTO baselines (dataset_key, name, error, study_id, trial_id, created) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &rc, err, errlen);
    if (s) {
        sqlite3_bind_text(s, 1, b->dataset_key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 2, b->name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(s, 3, b->error);
        sqlite3_bind_int64(s, 4, b->study_id);
        sqlite3_bind_int64(s, 5, b->trial_id);
        sqlite3_bind_double(s, 6, hp_store_clock(st));
        char what[128];
        snprintf(what, sizeof what, "store baseline '%.40s' of trial %" PRId64, b->name,
                 b->trial_id);
        rc = hp_store_step_done(st, s, what, err, errlen);
        if (rc == 0 && inserted)
            *inserted = sqlite3_changes(st->db) > 0;
    }
    return hp_store_op_end(st, rc, err, errlen);
}

int hp_store_baseline_count(hp_store_t *st, const char *dataset_key, int64_t *n, char *err,
                            size_t errlen)
{
    *n = 0;
    if (!dataset_key)
        return hp_errf(err, errlen, HP_EINVAL, "baseline count: no dataset key given");
    int rc = HP_EDB;
    sqlite3_stmt *s = hp_store_stmt(st, Q_BASELINE_COUNT,
                                    "SELECT count(*) FROM baselines WHERE dataset_key = ?1", &rc,
                                    err, errlen);
    if (!s)
        return rc;
    sqlite3_bind_text(s, 1, dataset_key, -1, SQLITE_TRANSIENT);
    int src = sqlite3_step(s);
    if (src == SQLITE_ROW) {
        *n = sqlite3_column_int64(s, 0);
        rc = 0;
    } else {
        rc = hp_store_sqlerr(st, src, err, errlen, "count the baselines of a dataset key");
    }
    sqlite3_reset(s);
    return rc;
}
