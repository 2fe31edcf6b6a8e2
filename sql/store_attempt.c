/* store_attempt.c — what an attempt's program wrote: trial_attempts.stdout
 * and .stderr (schema 4), shown by `hpsearch logs`. */
#include "store_int.h"

#include "err.h"

#include <inttypes.h>

static int bind_text(sqlite3_stmt *s, int i, const char *text, size_t len)
{
    if (!text)
        return sqlite3_bind_null(s, i);
    return sqlite3_bind_text64(s, i, text, len, SQLITE_STATIC, SQLITE_UTF8);
}

int hp_store_attempt_set_output(hp_store_t *st, int64_t lease_id, const char *out,
                                size_t out_len, const char *err_text, size_t err_len, char *err,
                                size_t errlen)
{
    int rc = hp_store_op_begin(st, "store an attempt's output", err, errlen);
    if (rc < 0)
        return rc;
    sqlite3_stmt *s = hp_store_stmt(st, Q_ATTEMPT_SET_OUTPUT,
                                    "UPDATE trial_attempts SET stdout = ?2, stderr = ?3 "
                                    "WHERE lease_id = ?1",
                                    &rc, err, errlen);
    if (s) {
        sqlite3_bind_int64(s, 1, lease_id);
        bind_text(s, 2, out, out_len);
        bind_text(s, 3, err_text, err_len);
        rc = hp_store_step_done(st, s, "store an attempt's output", err, errlen);
        if (rc == 0 && sqlite3_changes(st->db) == 0)
            rc = hp_errf(err, errlen, HP_ENOENT, "no attempt holds lease %" PRId64, lease_id);
    }
    return hp_store_op_end(st, rc, err, errlen);
}

int hp_store_trial_counted_attempts(hp_store_t *st, int64_t trial_id, int *n, char *err,
                                    size_t errlen)
{
    *n = 0;
    int rc;
    /* the trial's row first, so a missing trial is told from one whose
     * every attempt was interrupted */
    sqlite3_stmt *s = hp_store_stmt(st, Q_ATTEMPT_COUNTED,
                                    "SELECT (SELECT count(*) FROM trial_attempts a "
                                    "        WHERE a.trial_id = t.id AND a.outcome NOT IN "
                                    "('interrupted', 'cancelled')) FROM trials t "
                                    "WHERE t.id = ?1",
                                    &rc, err, errlen);
    if (!s)
        return rc;
    sqlite3_bind_int64(s, 1, trial_id);
    int src = sqlite3_step(s);
    if (src == SQLITE_ROW) {
        *n = sqlite3_column_int(s, 0);
        rc = 0;
    } else if (src == SQLITE_DONE) {
        rc = hp_errf(err, errlen, HP_ENOENT, "no trial %" PRId64, trial_id);
    } else {
        rc = hp_store_sqlerr(st, src, err, errlen, "count a trial's attempts");
    }
    sqlite3_reset(s);
    return rc;
}
