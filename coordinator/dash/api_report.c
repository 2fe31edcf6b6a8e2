/* /api/studies/NAME/report: the bias-variance decomposition of the best
 * completed trial (or ?trial=N) with the guide's next steps — the
 * arithmetic of `hpsearch report` (common/report_calc.h), read here with
 * bound statements on the dashboard's read-only connection. */
#include "api_int.h"

#include "report_calc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the trial's value of metric name: its final value (step -1) over its
 * last epoch's, latest attempt; NaN and *was_nan when stored as NaN */
static double trial_metric(sqlite3 *db, int64_t tid, const char *name, unsigned char *was_nan,
                           hp_dash_reply_t *rep)
{
    sqlite3_stmt *s = dash_prepare(db,
                                   "SELECT m.value FROM metrics m JOIN trials t ON t.id = m.trial_id"
                                   " WHERE m.trial_id = ?1 AND m.attempt = t.attempts"
                                   " AND m.name = ?2 AND m.step >= -1"
                                   " ORDER BY m.step = -1 DESC, m.step DESC LIMIT 1",
                                   rep);
    double v = NAN;
    if (!s)
        return v;
    sqlite3_bind_int64(s, 1, tid);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    if (dash_step(s, rep) == SQLITE_ROW) {
        if (sqlite3_column_type(s, 0) == SQLITE_NULL) {
            if (was_nan)
                *was_nan = 1;
        } else {
            v = sqlite3_column_double(s, 0);
        }
    }
    sqlite3_finalize(s);
    return v;
}

static void term_json(hp_buf_t *b, hp_report_term_id_t i, const hp_report_term_t *term)
{
    hp_buf_puts(b, "{\"label\":");
    hp_buf_json_string(b, hp_report_term_label(i));
    hp_buf_puts(b, ",\"value\":");
    hp_buf_json_number(b, term->value);
    hp_buf_printf(b, ",\"material\":%s,\"%s\":", term->material ? "true" : "false",
                  isfinite(term->value) ? "from" : "unknown");
    hp_buf_json_string(b, term->why);
    hp_buf_putc(b, '}');
}

void dash_report(sqlite3 *db, const dash_study_t *st, const hp_dash_req_t *req,
                 hp_dash_reply_t *rep)
{
    static const char *const names[] = {"trial", NULL};
    char err[512];
    long long want;
    if (hp_dash_req_check_names(req, names, err, sizeof err) < 0 ||
        hp_dash_req_int(req, "trial", -1, 0, 1000000000LL, &want, err, sizeof err) < 0) {
        char param[33];
        snprintf(param, sizeof param, "%.*s", (int)strcspn(err, ":"), err);
        hp_dash_reply_error(rep, 400, "BAD_PARAM", param, err);
        return;
    }
    sqlite3_stmt *s = dash_prepare(
        db,
        want >= 0 ? "SELECT id, number, state, value, diagnosis FROM trials"
                    " WHERE study_id = ?1 AND number = ?2"
                  : "SELECT id, number, state, value, diagnosis FROM trials"
                    " WHERE study_id = ?1 AND state = 'completed'"
                    " ORDER BY CASE WHEN ?3 THEN -value ELSE value END, number LIMIT 1",
        rep);
    if (!s)
        return;
    sqlite3_bind_int64(s, 1, st->id);
    if (want >= 0)
        sqlite3_bind_int64(s, 2, want);
    else
        sqlite3_bind_int(s, 3, st->maximize);
    int rc = dash_step(s, rep);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE) {
            if (want >= 0)
                snprintf(err, sizeof err, "no trial %lld in study '%s'", want, st->name);
            else
                snprintf(err, sizeof err, "study '%s' has no completed trial yet", st->name);
            hp_dash_reply_error(rep, 404, "NOT_FOUND", NULL, err);
        }
        sqlite3_finalize(s);
        return;
    }
    int64_t tid = sqlite3_column_int64(s, 0);
    hp_buf_t *b = &rep->body;
    hp_buf_puts(b, "{\"study\":");
    hp_buf_json_string(b, st->name);
    hp_buf_puts(b, ",\"metric\":");
    hp_buf_json_string(b, st->metric);
    hp_buf_printf(b, ",\"goal\":\"%s\",\"chosen\":\"%s\",\"trial\":{\"number\":",
                  st->maximize ? "maximize" : "minimize", want >= 0 ? "trial" : "best");
    dash_json_col(b, s, 1);
    hp_buf_puts(b, ",\"state\":");
    dash_json_col(b, s, 2);
    hp_buf_puts(b, ",\"value\":");
    dash_json_col(b, s, 3);
    hp_buf_puts(b, ",\"diagnosis\":");
    dash_json_col(b, s, 4);
    sqlite3_finalize(s);

    hp_report_errors_t e;
    hp_report_errors_init(&e);
    s = dash_prepare(db,
                     "SELECT json_extract(spec_json, '$.objective.human_error') FROM studies"
                     " WHERE id = ?1",
                     rep);
    if (!s)
        return;
    sqlite3_bind_int64(s, 1, st->id);
    if (dash_step(s, rep) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
        e.human = sqlite3_column_double(s, 0);
    sqlite3_finalize(s);
    if (rep->status != 200)
        return;

    hp_buf_puts(b, ",\"errors\":{");
    for (int i = 0; i < HP_RE_COUNT; i++) {
        const char *m = hp_report_error_metric((hp_report_error_t)i);
        e.err[i] = trial_metric(db, tid, m, &e.was_nan[i], rep);
        if (rep->status != 200)
            return; /* a read failed: the reply is its error */
        hp_buf_printf(b, "%s\"%s\":", i ? "," : "", m);
        hp_buf_json_number(b, e.err[i]);
    }
    hp_buf_puts(b, "}},\"human_error\":");
    hp_buf_json_number(b, e.human);

    hp_report_t r;
    hp_report_compute(&e, &r);
    hp_buf_puts(b, ",\"terms\":{");
    for (int i = 0; i < HP_RT_COUNT; i++) {
        hp_buf_printf(b, "%s\"%s\":", i ? "," : "", hp_report_term_key((hp_report_term_id_t)i));
        term_json(b, (hp_report_term_id_t)i, &r.term[i]);
    }
    hp_buf_puts(b, "},\"threshold\":");
    hp_buf_json_number(b, r.threshold);
    hp_buf_printf(b, ",\"fit\":\"%s\",\"order_reason\":", hp_report_fit_name(r.fit));
    const char *why = hp_report_order_reason(&r);
    if (why)
        hp_buf_json_string(b, why);
    else
        hp_buf_puts(b, "null");
    hp_buf_puts(b, ",\"next_steps\":[");
    for (size_t k = 0; k < r.n_advice; k++) {
        const hp_report_advice_t *adv = hp_report_advice(r.advice[k]);
        hp_buf_printf(b, "%s{\"key\":\"%s\",\"title\":", k ? "," : "", adv->key);
        hp_buf_json_string(b, adv->title);
        hp_buf_printf(b, ",\"term\":\"%s\",\"value\":", hp_report_term_key(r.advice[k]));
        hp_buf_json_number(b, r.term[r.advice[k]].value);
        hp_buf_puts(b, ",\"steps\":[");
        for (size_t j = 0; j < adv->n_steps; j++) {
            if (j)
                hp_buf_putc(b, ',');
            hp_buf_json_string(b, adv->steps[j]);
        }
        hp_buf_puts(b, "]}");
    }
    hp_buf_puts(b, "],\"diagnoses\":");
    s = dash_prepare(db,
                     "SELECT ifnull(diagnosis, 'not_diagnosed') AS diagnosis, count(*) AS trials"
                     " FROM trials WHERE study_id = ?1 GROUP BY 1 ORDER BY 2 DESC, 1",
                     rep);
    if (!s)
        return;
    sqlite3_bind_int64(s, 1, st->id);
    hp_buf_putc(b, '[');
    int n = 0;
    while ((rc = dash_step(s, rep)) == SQLITE_ROW) {
        if (n++)
            hp_buf_putc(b, ',');
        dash_json_row(b, s);
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_DONE && rep->status == 200)
        hp_buf_puts(b, "]}\n");
}
