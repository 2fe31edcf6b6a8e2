/* What early stopping did in a study (report_pruning.h). */
#include "report_pruning.h"

#include "output.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t cell_int(const hp_table_t *t, size_t row, size_t col, int64_t dflt)
{
    const char *c = hp_table_cell(t, row, col);
    if (!c || hp_json_is_null(c))
        return dflt;
    char *end;
    long long v = strtoll(c, &end, 10);
    return end == c ? dflt : (int64_t)v;
}

static void cell_text(const hp_table_t *t, size_t row, size_t col, char *out, size_t cap)
{
    hp_buf_t b = {0};
    const char *c = hp_table_cell(t, row, col);
    snprintf(out, cap, "%s", c && !hp_json_is_null(c) ? hp_json_text(c, &b) : "");
    hp_buf_fini(&b);
}

static void count_step(hp_report_pruning_t *p, int64_t step)
{
    if (step < 0) {
        p->at_other++;
        return;
    }
    size_t i = 0;
    while (i < p->n_steps && p->step[i] < step)
        i++;
    if (i < p->n_steps && p->step[i] == step) {
        p->at[i]++;
        return;
    }
    if (p->n_steps == HP_REPORT_PRUNE_STEPS) {
        p->at_other++;
        return;
    }
    memmove(p->step + i + 1, p->step + i, (p->n_steps - i) * sizeof *p->step);
    memmove(p->at + i + 1, p->at + i, (p->n_steps - i) * sizeof *p->at);
    p->step[i] = step;
    p->at[i] = 1;
    p->n_steps++;
}

/* the latest pruning_rung event of each rung ("rung 3 ..."), by rung */
static int read_rank(const hp_query_src_t *src, int64_t study, hp_report_pruning_t *out,
                     char *err, size_t errlen)
{
    char sql[768];
    snprintf(sql, sizeof sql,
             "SELECT message FROM events WHERE id IN (SELECT max(id) FROM events"
             " WHERE study_id = %" PRId64 " AND kind = 'pruning_rung'"
             " GROUP BY substr(message, 1, instr(message || ' ', ' stops')))"
             " ORDER BY CAST(substr(message, 6) AS INTEGER), message LIMIT %d",
             study, HP_REPORT_PRUNE_RUNGS);
    hp_table_t t;
    int rc = hp_query_run(src, sql, 0, &t, NULL, err, errlen);
    for (size_t i = 0; rc == 0 && i < hp_table_rows(&t); i++)
        cell_text(&t, i, 0, out->rank[out->n_rank++], sizeof out->rank[0]);
    hp_table_fini(&t);
    return rc;
}

int hp_report_pruning_read(const hp_query_src_t *src, int64_t study, hp_report_pruning_t *out,
                           char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT json_extract(spec_json, '$.pruning.rule'),"
             " json_extract(spec_json, '$.pruning.metric'),"
             " json_extract(spec_json, '$.pruning.max_resource'),"
             " json_extract(spec_json, '$.pruning.min_rank_correlation')"
             " FROM studies WHERE id = %" PRId64,
             study);
    hp_table_t t;
    int rc = hp_query_run(src, sql, 0, &t, NULL, err, errlen);
    if (rc == 0 && hp_table_rows(&t) == 1) {
        cell_text(&t, 0, 0, out->rule, sizeof out->rule);
        cell_text(&t, 0, 1, out->metric, sizeof out->metric);
        out->end = cell_int(&t, 0, 2, 0);
        const char *c = hp_table_cell(&t, 0, 3);
        out->min_rank_corr = c && !hp_json_is_null(c) ? strtod(c, NULL) : 0;
        out->on = out->rule[0] && strcmp(out->rule, "none") != 0;
    }
    hp_table_fini(&t);
    if (rc < 0 || !out->on)
        return rc;
    /* each finished trial: its state, where it was stopped, and the steps
     * it ran (its highest step, per attempt, at most max_resource: a line
     * without step=N after the last one is numbered past it, and no rule
     * grants a step beyond the end) */
    int64_t cap = out->end > 0 ? out->end : INT64_MAX;
    snprintf(sql, sizeof sql,
             "SELECT t.state, t.pruned_step,"
             " (SELECT coalesce(sum(min(mx, %" PRId64 ")), 0) FROM (SELECT max(m.step) AS mx"
             "  FROM metrics m WHERE m.trial_id = t.id AND m.step >= 0 GROUP BY m.attempt)),"
             " (SELECT max(m.step) FROM metrics m WHERE m.trial_id = t.id AND m.step >= 0"
             "  AND m.attempt = t.attempts)"
             " FROM trials t WHERE t.study_id = %" PRId64
             " AND t.state IN ('completed', 'pruned', 'failed') ORDER BY t.number",
             cap, study);
    rc = hp_query_run(src, sql, 0, &t, NULL, err, errlen);
    int64_t end_seen = 0;
    for (size_t i = 0; rc == 0 && i < hp_table_rows(&t); i++) {
        char state[16];
        cell_text(&t, i, 0, state, sizeof state);
        out->finished++;
        out->used += cell_int(&t, i, 2, 0);
        if (strcmp(state, "pruned") == 0) {
            out->pruned++;
            count_step(out, cell_int(&t, i, 1, -1));
        } else if (strcmp(state, "completed") == 0) {
            int64_t last = cell_int(&t, i, 3, 0);
            if (last > end_seen)
                end_seen = last;
        }
    }
    hp_table_fini(&t);
    if (!out->end)
        out->end = end_seen;
    out->full = (int64_t)out->finished * out->end;
    if (rc == 0 && out->min_rank_corr > 0)
        rc = read_rank(src, study, out, err, errlen);
    return rc;
}

void hp_report_pruning_text(const hp_report_pruning_t *p, hp_buf_t *b)
{
    if (!p->on)
        return;
    hp_buf_printf(b, "pruning (%s on %s", p->rule, p->metric);
    if (p->end)
        hp_buf_printf(b, ", trials complete at step %" PRId64, p->end);
    hp_buf_puts(b, ")\n");
    hp_buf_printf(b, "  pruned            %zu of %zu finished trials", p->pruned, p->finished);
    for (size_t i = 0; i < p->n_steps; i++)
        hp_buf_printf(b, "%s at step %" PRId64 ": %zu", i ? "," : ";", p->step[i], p->at[i]);
    if (p->at_other)
        hp_buf_printf(b, "%s elsewhere: %zu", p->n_steps ? "," : ";", p->at_other);
    hp_buf_putc(b, '\n');
    if (p->full > 0)
        hp_buf_printf(b,
                      "  steps used        %" PRId64 " of the %" PRId64
                      " had every finished trial run to step %" PRId64 " (%.0f%%)\n",
                      p->used, p->full, p->end, 100.0 * (double)p->used / (double)p->full);
    else
        hp_buf_printf(b, "  steps used        %" PRId64 "\n", p->used);
    if (p->min_rank_corr > 0 && !p->n_rank)
        hp_buf_printf(b, "  rank check        every rung cuts (min_rank_correlation %.2f)\n",
                      p->min_rank_corr);
    for (size_t i = 0; i < p->n_rank; i++)
        hp_buf_printf(b, "  %-17s %s\n", i ? "" : "rank check", p->rank[i]);
}

void hp_report_pruning_json(const hp_report_pruning_t *p, hp_buf_t *b)
{
    if (!p->on) {
        hp_buf_puts(b, "null");
        return;
    }
    hp_buf_puts(b, "{\"rule\":");
    hp_buf_json_string(b, p->rule);
    hp_buf_puts(b, ",\"metric\":");
    hp_buf_json_string(b, p->metric);
    hp_buf_printf(b, ",\"end_step\":%" PRId64 ",\"finished\":%zu,\"pruned\":%zu,\"stopped_at\":{",
                  p->end, p->finished, p->pruned);
    for (size_t i = 0; i < p->n_steps; i++)
        hp_buf_printf(b, "%s\"%" PRId64 "\":%zu", i ? "," : "", p->step[i], p->at[i]);
    hp_buf_printf(b, "},\"stopped_elsewhere\":%zu,\"steps_used\":%" PRId64
                     ",\"steps_without_pruning\":%" PRId64 ",\"rank_check\":",
                  p->at_other, p->used, p->full);
    if (p->min_rank_corr > 0) {
        hp_buf_puts(b, "{\"min_rank_correlation\":");
        hp_buf_json_number(b, p->min_rank_corr);
        hp_buf_puts(b, ",\"latest\":[");
        for (size_t i = 0; i < p->n_rank; i++) {
            if (i)
                hp_buf_putc(b, ',');
            hp_buf_json_string(b, p->rank[i]);
        }
        hp_buf_puts(b, "]}");
    } else {
        hp_buf_puts(b, "null");
    }
    hp_buf_putc(b, '}');
}
