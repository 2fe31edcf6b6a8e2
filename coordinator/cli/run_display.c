/* `hpsearch run`'s progress line and final summary. */
#include "run_display.h"

#include "client.h"
#include "query.h"
#include "sanity.h"

#include "buf.h"
#include "report_front.h"
#include "report_pruning.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define PLAIN_EVERY_S 5.0

void hp_run_display_end_line(hp_run_display_t *d)
{
    if (d->line_open) {
        fputc('\n', d->cli->err);
        d->line_open = 0;
    }
}

int hp_run_display_fail(hp_run_display_t *d, const char *fmt, ...)
{
    hp_run_display_end_line(d);
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hp_cli_fail(d->cli, d->cmd, "%s", msg);
}

static void fmt_dur(double s, char *out, size_t n)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, n, "%02ld:%02ld", t / 60, t % 60);
}

static void progress(hp_run_display_t *d, const Hpsearch__StudyStatus *st, double elapsed,
                     int final)
{
    unsigned done = hp_study_finished(st), done0 = d->done0;
    char el[32], eta[32] = "--:--", best[96] = "-";
    fmt_dur(elapsed, el, sizeof el);
    if (done > done0 && st->max_trials > done && elapsed > 0)
        fmt_dur((double)(st->max_trials - done) * elapsed / (double)(done - done0), eta,
                sizeof eta);
    else if (st->max_trials && done >= st->max_trials)
        snprintf(eta, sizeof eta, "00:00");
    if (st->has_best)
        snprintf(best, sizeof best, "%.6g (trial %u)", st->best_value, st->best_number);
    char line[512], pruned[32] = "";
    if (st->pruned) /* early stopping is not failure */
        snprintf(pruned, sizeof pruned, ", %u pruned", st->pruned);
    snprintf(line, sizeof line,
             "%s: %u/%u done (%u failed%s), %u running, best %s %s, elapsed %s, ETA %s",
             st->name, done, st->max_trials, st->failed + st->cancelled, pruned, st->running,
             st->metric, best, el, eta);
    if (d->tty) {
        fprintf(d->cli->err, "\r%s\033[K", line);
        d->line_open = 1;
        if (final)
            hp_run_display_end_line(d);
    } else {
        fprintf(d->cli->err, "%s\n", line);
    }
    fflush(d->cli->err);
}

void hp_run_display_start(hp_run_display_t *d, double now)
{
    d->start = now;
    d->last_print = 0;
    d->done0 = 0;
    d->last_done = ~0u;
    d->seen = 0;
}

void hp_run_display_status(hp_run_display_t *d, const Hpsearch__StudyStatus *st, double now)
{
    unsigned done = hp_study_finished(st);
    /* the ETA counts only what finishes while we watch */
    if (!d->seen)
        d->done0 = done;
    d->seen = 1;
    if (strcmp(st->state, "running") != 0) {
        progress(d, st, now - d->start, 1);
        return;
    }
    if (d->tty ? now - d->last_print >= 0.5
               : (done != d->last_done && now - d->last_print >= PLAIN_EVERY_S) ||
                     now - d->last_print >= 12 * PLAIN_EVERY_S) {
        progress(d, st, now - d->start, 0);
        d->last_print = now;
        d->last_done = done;
    }
}

/* A sanity check that passed with a warning (held-out data no better than
 * chance: maybe labels that do not go with the inputs) is in the events
 * table; say it where the user looks. */
static void print_sanity_warning(hp_run_display_t *d, const char *db,
                                 unsigned long long study_id)
{
    hp_query_src_t src = {.cli = d->cli, .db = db};
    hp_buf_t b = {0};
    if (hp_query_sanity_verdict(&src, (long long)study_id, &b)) {
        const char *w = strstr(b.data, HP_SANITY_WARNING);
        if (w)
            fprintf(d->cli->out, "sanity check (overfit one batch) passed with a warning%s\n",
                    w + strlen(HP_SANITY_WARNING));
    }
    hp_buf_fini(&b);
}

/* With a pruning rule: what it stopped and the steps it saved (as report
 * prints them). */
static void print_pruning(hp_run_display_t *d, const char *db, unsigned long long study_id)
{
    hp_query_src_t src = {.cli = d->cli, .db = db};
    hp_report_pruning_t p;
    char err[256];
    if (hp_report_pruning_read(&src, (int64_t)study_id, &p, err, sizeof err) < 0 || !p.on)
        return;
    hp_buf_t b = {0};
    hp_report_pruning_text(&p, &b);
    fputs(b.data, d->cli->out);
    hp_buf_fini(&b);
}

/* With several objectives: the size of the Pareto front, which stands
 * for the best trial. 1 if printed. */
static int print_front(hp_run_display_t *d, const char *db, const char *name)
{
    hp_query_src_t src = {.cli = d->cli, .db = db};
    hp_query_study_t qs;
    hp_report_front_t f = {0};
    char err[256];
    if (hp_query_study(&src, name, &qs, err, sizeof err) < 0 ||
        hp_report_front_read(&src, &qs, &f, err, sizeof err) < 0 || !f.on) {
        hp_report_front_fini(&f);
        return 0;
    }
    fprintf(d->cli->out, "Pareto front: %zu trials (hpsearch best --db %s %s lists them)\n",
            f.n_front, db, name);
    hp_report_front_fini(&f);
    return 1;
}

void hp_run_display_summary(hp_run_display_t *d, const Hpsearch__StudyStatus *st, double now,
                            const char *db, unsigned long long study_id)
{
    FILE *o = d->cli->out;
    char el[32];
    fmt_dur(now - d->start, el, sizeof el);
    fprintf(o, "study '%s' %s: %u/%u trials done (%u completed, %u failed, %u pruned, %u "
               "cancelled) in %s\n",
            st->name, st->state, hp_study_finished(st), st->max_trials, st->completed,
            st->failed, st->pruned, st->cancelled, el);
    if (strcmp(st->state, "completed") != 0 && st->reason && *st->reason)
        fprintf(o, "why: %s\n", st->reason);
    int front = st->has_best && print_front(d, db, st->name);
    if (st->has_best && !front)
        fprintf(o, "best trial %u: %s = %.10g (%s)\nparams %s\n", st->best_number, st->metric,
                st->best_value, st->goal, st->best_params_json);
    else if (!st->has_best)
        fprintf(o, "no trial completed\n");
    print_pruning(d, db, study_id);
    fprintf(o, "results: %s (hpsearch sql --db %s \"SELECT ...\")\n", db, db);
    print_sanity_warning(d, db, study_id);
}

void hp_run_display_interrupted(hp_run_display_t *d, const char *db, unsigned long long study_id,
                                double since)
{
    char sql[640], err[256];
    /* a trial handed out by `hpsearch ask` runs in the user's loop, not here */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM trials t JOIN trial_attempts a ON a.trial_id = t.id AND "
             "a.attempt = t.attempts WHERE t.study_id = %llu AND a.worker_id IS NOT NULL AND "
             "(t.state = 'running' OR (t.state = 'pending' AND a.outcome = 'interrupted' AND "
             "a.ended >= %.3f))",
             study_id, since);
    hp_query_src_t src = {.cli = d->cli, .db = db};
    hp_table_t t;
    long long n = -1;
    if (hp_query_run(&src, sql, 1, &t, NULL, err, sizeof err) == 0 && hp_table_rows(&t) == 1)
        n = strtoll(hp_table_cell(&t, 0, 0), NULL, 10);
    hp_table_fini(&t);
    hp_run_display_end_line(d);
    FILE *e = d->cli->err;
    if (n < 0)
        fprintf(e, "interrupted: the trials that were running go back to pending");
    else if (n == 0)
        fprintf(e, "interrupted: no trial was running");
    else
        fprintf(e, "interrupted: %lld running trial%s back to pending", n,
                n == 1 ? " goes" : "s go");
    fprintf(e, "; run the same command again to continue\n");
}
