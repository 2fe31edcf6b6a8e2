/* Reading a round back, and a decision's evidence (see autopilot_eval.h). */
#include "autopilot_eval.h"

#include "output.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_number(const char *cell) { return cell && !hp_json_is_null(cell) && cell[0] != '"'; }

static double cell_num(const hp_table_t *t, size_t r, size_t c)
{
    const char *v = hp_table_cell(t, r, c);
    return is_number(v) ? strtod(v, NULL) : NAN;
}

/* a number in a flat JSON object's text ({"lr":0.001,"hidden":256}), NaN if absent */
static double json_num(const char *obj, const char *key)
{
    char pat[80];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = obj ? strstr(obj, pat) : NULL;
    return p ? strtod(p + strlen(pat), NULL) : NAN;
}

int hp_ap_better(double a, double b, int maximize)
{
    return isfinite(a) && (!isfinite(b) || (maximize ? a > b : a < b));
}

static void metric_sql(hp_buf_t *sql, const char *name)
{
    /* the final value (step -1) wins over the last epoch's, latest attempt */
    hp_buf_printf(sql,
                  ", (SELECT m.value FROM metrics m WHERE m.trial_id = t.id"
                  " AND m.attempt = t.attempts AND m.name = '%s' AND m.step >= -1"
                  " ORDER BY m.step = -1 DESC, m.step DESC LIMIT 1)",
                  name);
}

enum { C_ID, C_NUMBER, C_VALUE, C_PARAMS, C_SECONDS, C_EPOCHS, C_ERR0 };

/* The round's chosen trial: the best completed one by the objective. */
int hp_ap_evaluate(const hp_query_src_t *src_, const hp_ap_objective_t *o, const char *name,
                   long long study_id, const hp_ap_config_t *cfg, hp_ap_result_t *r, char *err,
                   size_t errlen)
{
    memset(r, 0, sizeof *r);
    snprintf(r->study, sizeof r->study, "%s", name);
    r->study_id = study_id;
    r->cfg = *cfg;
    r->base_linear = NAN;
    hp_query_src_t src = *src_;
    hp_buf_t sql = {0};
    hp_buf_printf(&sql, "SELECT t.id, t.number, t.value, t.params");
    metric_sql(&sql, "seconds");
    metric_sql(&sql, "epochs");
    for (int i = 0; i < HP_RE_COUNT; i++)
        metric_sql(&sql, hp_report_error_metric((hp_report_error_t)i));
    hp_buf_printf(&sql,
                  " FROM trials t WHERE t.study_id = %lld AND t.state = 'completed'"
                  " AND t.value IS NOT NULL ORDER BY t.number",
                  study_id);
    hp_table_t t;
    int rc = hp_query_run(&src, sql.data, 0, &t, NULL, err, errlen);
    hp_buf_fini(&sql);
    if (rc < 0) {
        hp_table_fini(&t);
        return rc;
    }
    int maximize = o->maximize;
    long best = -1;
    double secs = 0;
    size_t nsecs = 0;
    for (size_t i = 0; i < hp_table_rows(&t); i++) {
        double v = cell_num(&t, i, C_VALUE), s = cell_num(&t, i, C_SECONDS);
        if (isfinite(s)) {
            secs += s;
            nsecs++;
        }
        if (best < 0 || hp_ap_better(v, r->value, maximize)) {
            best = (long)i;
            r->value = v;
        }
    }
    r->mean_seconds = nsecs ? secs / (double)nsecs : 0;
    r->completed = (int)hp_table_rows(&t);
    if (best >= 0) {
        r->ok = 1;
        r->trial_id = (long long)cell_num(&t, (size_t)best, C_ID);
        r->number = (long)cell_num(&t, (size_t)best, C_NUMBER);
        double ep = cell_num(&t, (size_t)best, C_EPOCHS);
        r->epochs = isfinite(ep) ? (int)ep : 0;
        hp_report_errors_init(&r->e);
        r->e.human = o->has_human ? o->human : NAN;
        for (int i = 0; i < HP_RE_COUNT; i++)
            r->e.err[i] = cell_num(&t, (size_t)best, C_ERR0 + (size_t)i);
        hp_buf_t params = {0};
        hp_json_text(hp_table_cell(&t, (size_t)best, C_PARAMS), &params);
        double lr = json_num(params.data, "lr");
        const char *sp = hp_ap_size_param(cfg);
        double w = sp ? json_num(params.data, sp) : NAN;
        if (isfinite(lr))
            r->cfg.lr = lr;
        if (isfinite(w) && w >= 1) {
            /* a LeNet's convolutions stay as the round trained them */
            if (cfg->model == HP_MODEL_LENET)
                r->cfg.lenet_scale = hp_ap_lenet_scale(cfg);
            r->cfg.width = (int)w;
        }
        hp_buf_fini(&params);
    }
    hp_table_fini(&t);
    if (!r->ok)
        return 0;
    /* the best validation epoch, for early stopping */
    hp_buf_printf(&sql,
                  "SELECT m.step FROM metrics m JOIN trials t ON t.id = m.trial_id"
                  " WHERE t.id = %lld AND m.attempt = t.attempts AND m.name = 'val_error'"
                  " AND m.step >= 1 AND m.value IS NOT NULL ORDER BY m.value, m.step LIMIT 1",
                  r->trial_id);
    if (hp_query_run(&src, sql.data, 0, &t, NULL, err, errlen) == 0 && hp_table_rows(&t))
        r->best_epoch = (int)cell_num(&t, 0, 0);
    hp_table_fini(&t);
    hp_buf_reset(&sql);
    /* what the second half of its training gained, for training longer */
    r->late_gain = NAN;
    hp_buf_printf(&sql,
                  "SELECT (SELECT m.value FROM metrics m WHERE m.trial_id = t.id"
                  "   AND m.attempt = t.attempts AND m.name = 'val_error' AND m.step = %d)"
                  " - (SELECT min(m.value) FROM metrics m WHERE m.trial_id = t.id"
                  "   AND m.attempt = t.attempts AND m.name = 'val_error' AND m.step >= 1)"
                  " FROM trials t WHERE t.id = %lld",
                  r->epochs / 2 > 0 ? r->epochs / 2 : 1, r->trial_id);
    if (hp_query_run(&src, sql.data, 0, &t, NULL, err, errlen) == 0 && hp_table_rows(&t))
        r->late_gain = cell_num(&t, 0, 0);
    hp_table_fini(&t);
    hp_buf_reset(&sql);
    hp_buf_printf(&sql,
                  "SELECT b.error FROM baselines b JOIN studies s USING (dataset_key)"
                  " WHERE s.id = %lld AND b.name = '%s'",
                  study_id, hp_report_baseline_key(HP_RB_LINEAR));
    if (hp_query_run(&src, sql.data, 0, &t, NULL, err, errlen) == 0 && hp_table_rows(&t))
        r->base_linear = cell_num(&t, 0, 0);
    hp_table_fini(&t);
    hp_buf_fini(&sql);
    return 0;
}

static void json_num_or_null(hp_buf_t *b, double v)
{
    if (isfinite(v))
        hp_buf_json_number(b, v);
    else
        hp_buf_puts(b, "null");
}

void hp_ap_evidence(const hp_ap_objective_t *o, int round, const hp_ap_result_t *r,
                    const hp_report_t *rep, const char *action, int term, const char *next,
                    hp_buf_t *b)
{
    hp_buf_printf(b, "{\"round\":%d,\"study\":", round);
    hp_buf_json_string(b, r->study);
    hp_buf_printf(b, ",\"trial\":%ld,\"action\":", r->number);
    hp_buf_json_string(b, action);
    hp_buf_puts(b, ",\"term\":");
    if (term >= 0)
        hp_buf_json_string(b, hp_report_term_key((hp_report_term_id_t)term));
    else
        hp_buf_puts(b, "null");
    hp_buf_puts(b, ",\"objective\":{\"metric\":");
    hp_buf_json_string(b, o->metric);
    hp_buf_puts(b, ",\"value\":");
    json_num_or_null(b, r->value);
    hp_buf_puts(b, ",\"target\":");
    json_num_or_null(b, o->target);
    hp_buf_printf(b, ",\"met\":%s},\"errors\":{",
                  hp_ap_target_met(r->value, o->target,
                                   o->maximize)
                      ? "true"
                      : "false");
    for (int i = 0; i < HP_RE_COUNT; i++) {
        hp_buf_printf(b, "%s\"%s\":", i ? "," : "", hp_report_error_metric((hp_report_error_t)i));
        json_num_or_null(b, r->e.err[i]);
    }
    hp_buf_puts(b, "},\"terms\":{");
    for (int i = 0; i < HP_RT_COUNT; i++) {
        hp_buf_printf(b, "%s\"%s\":", i ? "," : "", hp_report_term_key((hp_report_term_id_t)i));
        json_num_or_null(b, rep->term[i].value);
    }
    hp_buf_puts(b, "},\"threshold\":");
    json_num_or_null(b, rep->threshold);
    hp_buf_printf(b, ",\"fit\":\"%s\",\"human_error_known\":%s,\"baseline_linear_error\":",
                  hp_report_fit_name(rep->fit),
                  o->has_human ? "true" : "false");
    json_num_or_null(b, r->base_linear);
    hp_buf_printf(b, ",\"best_epoch\":%d,\"late_gain\":", r->best_epoch);
    json_num_or_null(b, r->late_gain);
    hp_buf_puts(b, ",\"next_study\":");
    if (next)
        hp_buf_json_string(b, next);
    else
        hp_buf_puts(b, "null");
    hp_buf_puts(b, "}");
}


void hp_ap_start_evidence(const hp_ap_objective_t *o, const char *study, const hp_ap_config_t *c,
                          int user_model, hp_buf_t *b)
{
    hp_buf_puts(b, "{\"round\":1,\"study\":");
    hp_buf_json_string(b, study);
    hp_buf_puts(b, ",\"trial\":null,\"action\":\"start_simple\",\"term\":null,"
                   "\"objective\":{\"metric\":");
    hp_buf_json_string(b, o->metric);
    hp_buf_puts(b, ",\"value\":null,\"target\":");
    json_num_or_null(b, o->target);
    hp_buf_puts(b, ",\"met\":false},\"model\":");
    hp_buf_json_string(b, hp_model_name(c->model));
    hp_buf_printf(b, ",\"width\":%d,\"lr\":", c->width);
    hp_buf_json_number(b, c->lr);
    hp_buf_printf(b, ",\"picked_by\":\"%s\",\"data\":{\"kind\":\"%s\"",
                  user_model ? "spec" : "data",
                  c->seq_t > 0 ? "sequence" : c->images ? "images" : "tabular");
    if (c->seq_t > 0)
        hp_buf_printf(b, ",\"steps\":%d,\"features\":%d", c->seq_t, c->seq_f);
    hp_buf_puts(b, "},\"next_study\":");
    hp_buf_json_string(b, study);
    hp_buf_puts(b, "}");
}
