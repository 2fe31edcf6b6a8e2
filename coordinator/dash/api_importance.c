/* /api/studies/NAME/importance: the study's parameters ranked by fANOVA on
 * a random forest (coordinator/importance), computed on the dashboard's
 * own thread from its read-only connection, never on the daemon's loop.
 * At most HP_DASH_MAX_IMPORTANCE trials (the latest completed, feasible
 * ones) enter the forest, so a page of a huge study stays quick. */
#include "api_int.h"

#include "importance.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void dash_importance(sqlite3 *db, const dash_study_t *st, const hp_dash_req_t *req,
                     hp_dash_reply_t *rep)
{
    static const char *const names[] = {NULL};
    char err[512];
    if (hp_dash_req_check_names(req, names, err, sizeof err) < 0) {
        char param[33];
        snprintf(param, sizeof param, "%.*s", (int)strcspn(err, ":"), err);
        hp_dash_reply_error(rep, 400, "BAD_PARAM", param, err);
        return;
    }
    sqlite3_stmt *s = dash_prepare(db, "SELECT spec_json FROM studies WHERE id = ?1", rep);
    if (!s)
        return;
    sqlite3_bind_int64(s, 1, st->id);
    hp_importance_input_t in = {0};
    int rc = dash_step(s, rep);
    int ok = rc == SQLITE_ROW &&
             hp_importance_input_init(&in, (const char *)sqlite3_column_text(s, 0),
                                      (size_t)sqlite3_column_bytes(s, 0), err, sizeof err) == 0;
    sqlite3_finalize(s);
    if (rep->status != 200) {
        hp_importance_input_fini(&in);
        return;
    }
    long long total = 0;
    if (ok) {
        s = dash_prepare(db,
                         "SELECT params, value FROM (SELECT number, params, value FROM trials"
                         " WHERE study_id = ?1 AND state = 'completed' AND infeasible IS NULL"
                         " ORDER BY number DESC LIMIT ?2) ORDER BY number",
                         rep);
        if (!s) {
            hp_importance_input_fini(&in);
            return;
        }
        sqlite3_bind_int64(s, 1, st->id);
        sqlite3_bind_int64(s, 2, HP_DASH_MAX_IMPORTANCE);
        while ((rc = dash_step(s, rep)) == SQLITE_ROW)
            hp_importance_input_add(&in, (const char *)sqlite3_column_text(s, 0),
                                    sqlite3_column_type(s, 1) == SQLITE_NULL
                                        ? NAN
                                        : sqlite3_column_double(s, 1));
        sqlite3_finalize(s);
        s = dash_prepare(db,
                         "SELECT count(*) FROM trials WHERE study_id = ?1"
                         " AND state = 'completed' AND infeasible IS NULL",
                         rep);
        if (s) {
            sqlite3_bind_int64(s, 1, st->id);
            if (dash_step(s, rep) == SQLITE_ROW)
                total = sqlite3_column_int64(s, 0);
            sqlite3_finalize(s);
        }
        if (rep->status != 200) {
            hp_importance_input_fini(&in);
            return;
        }
    }
    hp_importance_t imp;
    hp_importance_opts_t o = hp_importance_defaults();
    if (ok)
        ok = hp_importance_compute(&in, &o, &imp, err, sizeof err) == 0;
    hp_importance_input_fini(&in);
    hp_buf_t *b = &rep->body;
    hp_buf_puts(b, "{\"study\":");
    hp_buf_json_string(b, st->name);
    hp_buf_printf(b, ",\"completed\":%lld,\"limit\":%d,\"importance\":", total,
                  HP_DASH_MAX_IMPORTANCE);
    if (ok) {
        hp_importance_json(&imp, b);
        hp_importance_fini(&imp);
    } else {
        /* not a failed request: the page shows why there is no ranking */
        hp_buf_printf(b, "{\"method\":\"fANOVA (random forest, %zu trees)\",\"error\":",
                      o.n_trees);
        hp_buf_json_string(b, err);
        hp_buf_puts(b, ",\"params\":[]}");
    }
    hp_buf_puts(b, "}\n");
}
