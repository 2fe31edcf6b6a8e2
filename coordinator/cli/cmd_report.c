/* hpsearch report: the bias-variance decomposition of a study's best trial
 * (or --trial N), the seed's next steps, and how the study's trials fit. */
#include "cli.h"
#include "output.h"
#include "report_front.h"
#include "report_errors.h"
#include "report_importance.h"
#include "report_pruning.h"
#include "query.h"
#include "report_calc.h"

#include "buf.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmd_report(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_report = {
    .name = "report",
    .usage = "report [--format text|json] [--trial N] [--errors] [--db PATH] STUDY",
    .summary = "evaluate a trial: bias-variance decomposition and what to try next",
    .help = "For the best completed trial (or --trial N): train_error, val_error,\n"
            "shift_val_error (test-distribution validation) and test_error, and\n"
            "  irreducible error   objective.human_error (unknown if the spec sets none)\n"
            "  avoidable bias      train_error - irreducible\n"
            "  variance            val_error - train_error\n"
            "  distribution shift  shift_val_error - val_error\n"
            "                      (dataset.adapt: coral also shows it without CORAL)\n"
            "  val overfitting     test_error - shift_val_error (or - val_error)\n"
            "A term is material when it is > 0 and >= min(0.01, 10% of the test\n"
            "error); the next steps list the seed's remedies for each material term,\n"
            "under-fitting first, then over-fitting, distribution shift, re-balancing.\n"
            "Each error is the trial's final value (step -1) if it reported one, else\n"
            "its last epoch's, from its latest attempt. Then, across the study: which\n"
            "trials under-fit (avoidable bias is the largest material term) or over-fit\n"
            "(variance is), and the learning-curve diagnoses. When the trial reported\n"
            "baselines (built-in models do), the trial's test error is compared with\n"
            "the majority class's and a linear model's on the same test set: those\n"
            "stored once for the study's dataset (the baselines table), else the\n"
            "trial's own. With a pruning rule: how many finished trials were pruned,\n"
            "at which steps, and the steps used against every one run to the end.\n"
            "Last, the parameters ranked by importance (as `hpsearch importance`).\n"
            "\n"
            "Options:\n"
            "  --trial N      report on trial number N instead of the best\n"
            "  --errors       also the trial's error analysis: the most-confused class\n"
            "                 pairs and the worst test examples (built-in classifiers;\n"
            "                 JSON: errors.confusion, errors.worst; docs/report.md)\n"
            "  --format json  one JSON object (docs/cli.md)\n"
            "  --db PATH      read the database file directly (read-only)\n"
            "\n"
            "Example:\n"
            "  hpsearch report mnist-lr\n"
            "  hpsearch report --trial 7 --format json mnist-lr\n",
    .exec = cmd_report,
};

/* the columns of the trials query */
enum { C_NUMBER, C_STATE, C_VALUE, C_DIAG, C_ERR0, C_BASE0 = C_ERR0 + HP_RE_COUNT,
       C_NOADAPT_VAL = C_BASE0 + HP_RB_COUNT, C_NOADAPT_SHIFT };

/* adapt: coral trials train once more without it (adapt_compare) and
 * report these: the distribution-shift term without adaptation */
static const char *const noadapt_metrics[2] = {"val_error_noadapt", "shift_val_error_noadapt"};

/* the learning-curve verdicts (common/curve.h), then "not diagnosed" */
static const char *const verdicts[] = {"healthy",  "goes_up", "explodes", "oscillates",
                                       "plateaus", "unknown"};
#define N_VERDICTS (sizeof verdicts / sizeof verdicts[0])

/* the fits listed across the study, in this order */
static const hp_report_fit_t fit_order[] = {HP_FIT_UNDER, HP_FIT_OVER,  HP_FIT_SHIFT,
                                            HP_FIT_VAL_OVERFIT, HP_FIT_GOOD, HP_FIT_UNKNOWN};
static const char *const fit_labels[] = {"under-fit",   "over-fit",         "shift",
                                         "val overfit", "no material term", "unknown"};
#define N_FITS (sizeof fit_order / sizeof fit_order[0])

/* Ascending trial numbers as runs, "0, 2-5, 9" (two in a row stay a
 * list, "1, 2"), the first MAX_RUNS of them and then how many more
 * trials: a study of thousands of trials gets a line, not a page. */
#define MAX_RUNS 12
static void print_numbers(FILE *f, const long *v, size_t n)
{
    size_t runs = 0, shown = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && v[j + 1] == v[j] + 1)
            j++;
        if (runs < MAX_RUNS) {
            fputs(runs ? ", " : " ", f);
            if (j == i)
                fprintf(f, "%ld", v[i]);
            else if (j == i + 1)
                fprintf(f, "%ld, %ld", v[i], v[j]);
            else
                fprintf(f, "%ld-%ld", v[i], v[j]);
            shown = j + 1;
        }
        runs++;
        i = j + 1;
    }
    if (shown < n)
        fprintf(f, ", and %zu more", n - shown);
}

static int is_number(const char *cell)
{
    return cell && !hp_json_is_null(cell) && cell[0] != '"';
}

/* a row's errors: null = not reported, a string ("NaN", "Inf") = non-finite */
static void row_errors(const hp_table_t *t, size_t row, double human, hp_report_errors_t *e)
{
    hp_report_errors_init(e);
    e->human = human;
    for (int i = 0; i < HP_RE_COUNT; i++) {
        const char *c = hp_table_cell(t, row, C_ERR0 + (size_t)i);
        if (is_number(c))
            e->err[i] = strtod(c, NULL);
        else if (!hp_json_is_null(c))
            e->was_nan[i] = 1;
    }
}

/* a row's baselines: those stored for the study's dataset (stored[i],
 * NaN when none), else the ones the trial reported (NaN: neither) */
static void row_baselines(const hp_table_t *t, size_t row, const double *stored, double *base)
{
    for (int i = 0; i < HP_RB_COUNT; i++) {
        const char *c = hp_table_cell(t, row, C_BASE0 + (size_t)i);
        base[i] = isfinite(stored[i]) ? stored[i] : is_number(c) ? strtod(c, NULL) : NAN;
    }
}

/* The baselines stored once for the study's dataset key (computed by one
 * trial of it or of another study on the same data). Leaves stored[] NaN
 * when there are none, the study has no key, or the database or
 * coordinator predates the table: the trials' own metrics are used then. */
static void stored_baselines(const hp_query_src_t *src, long long study, double *stored)
{
    for (int i = 0; i < HP_RB_COUNT; i++)
        stored[i] = NAN;
    hp_buf_t sql = {0};
    hp_buf_printf(&sql,
                  "SELECT b.name, b.error FROM baselines b JOIN studies s USING (dataset_key)"
                  " WHERE s.id = %lld",
                  study);
    hp_table_t t;
    char err[512];
    if (hp_query_run(src, sql.data, 0, &t, NULL, err, sizeof err) == 0) {
        hp_buf_t name = {0};
        for (size_t r = 0; r < hp_table_rows(&t); r++) {
            hp_json_text(hp_table_cell(&t, r, 0), &name);
            const char *v = hp_table_cell(&t, r, 1);
            for (int i = 0; i < HP_RB_COUNT; i++)
                if (strcmp(name.data, hp_report_baseline_key((hp_report_baseline_t)i)) == 0 &&
                    is_number(v))
                    stored[i] = strtod(v, NULL);
        }
        hp_buf_fini(&name);
    }
    hp_table_fini(&t);
    hp_buf_fini(&sql);
}

static void metric_sql(hp_buf_t *sql, const char *name)
{
    /* the final value (step -1) wins over the last epoch's, latest attempt */
    hp_buf_printf(sql,
                  ", (SELECT ifnull(m.value, 'NaN') FROM metrics m WHERE m.trial_id = t.id"
                  " AND m.attempt = t.attempts AND m.name = '%s' AND m.step >= -1"
                  " ORDER BY m.step = -1 DESC, m.step DESC LIMIT 1) AS %s",
                  name, name);
}

/* the best completed (feasible) trial's row, or -1 */
static long best_row(const hp_table_t *t, int maximize)
{
    long best = -1;
    double bv = 0;
    for (size_t r = 0; r < hp_table_rows(t); r++) {
        const char *v = hp_table_cell(t, r, C_VALUE);
        if (strcmp(hp_table_cell(t, r, C_STATE), "\"completed\"") != 0 || !is_number(v))
            continue;
        double x = strtod(v, NULL);
        if (best < 0 || (maximize ? x > bv : x < bv)) { /* rows are by number: ties stay */
            best = (long)r;
            bv = x;
        }
    }
    return best;
}

static void text_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.4f", v);
    else
        fputs("-", f);
}

/* What a report shows: the study, the chosen trial and its computed
 * report, the whole study's fits and diagnoses, and the sanity check. */
typedef struct view {
    const hp_query_study_t *st;
    const hp_table_t *t; /* every trial, C_* columns */
    size_t row;          /* the chosen trial */
    int chosen;          /* by --trial (else the best) */
    const hp_report_errors_t *e;
    const double *base; /* HP_RB_COUNT baselines */
    const hp_report_t *r;
    const hp_report_fit_t *fits; /* per trial */
    const size_t *diag;          /* per verdict */
    size_t diag_none, diag_other;
    const char *sanity; /* the latest sanity-check verdict, or NULL */
    const hp_report_pruning_t *pruning;
    const hp_importance_t *imp; /* the parameters ranked, or NULL: imp_err says why */
    const char *imp_err;
    const hp_report_front_t *front; /* several objectives (front->on) */
    const hp_report_ea_t *ea; /* --errors, else NULL */
    double shift_noadapt;     /* the shift term without adaptation, NaN: not measured */
    const char *db;           /* --db PATH, or NULL: through the coordinator */
} view_t;

/* text as lines of at most 80 columns: the first after `first`, the rest
 * after `indent` */
static void print_wrapped(FILE *f, const char *first, const char *indent, const char *text)
{
    fputs(first, f);
    size_t col = strlen(first), start = col;
    while (*text) {
        size_t w = strcspn(text, " ");
        if (col > start) {
            if (col + 1 + w > 80) {
                fprintf(f, "\n%s", indent);
                col = start = strlen(indent);
            } else {
                fputc(' ', f);
                col++;
            }
        }
        fprintf(f, "%.*s", (int)w, text);
        col += w;
        text += w;
        while (*text == ' ')
            text++;
    }
    fputc('\n', f);
}

static void print_text(FILE *f, const view_t *vw)
{
    const hp_query_study_t *st = vw->st;
    const hp_table_t *t = vw->t;
    size_t row = vw->row;
    const hp_report_errors_t *e = vw->e;
    const double *base = vw->base;
    const hp_report_t *r = vw->r;
    hp_buf_t a = {0}, b = {0};
    fprintf(f, "study   %s (id %lld, %s %s", st->name, (long long)st->id, st->goal, st->metric);
    /* several objectives: every one, as `hpsearch best` heads its front */
    for (size_t j = 1; vw->front && vw->front->on && j < vw->front->o.n; j++)
        fprintf(f, ", %s %s", vw->front->o.maximize[j] ? "maximize" : "minimize",
                vw->front->o.metric[j]);
    fputs(")\n", f);
    fprintf(f, "trial   %s (%s; %s, value %s, diagnosis %s)\n", hp_table_cell(t, row, C_NUMBER),
            vw->chosen ? "--trial" : "best", hp_json_text(hp_table_cell(t, row, C_STATE), &a),
            hp_json_is_null(hp_table_cell(t, row, C_VALUE)) ? "none"
                                                            : hp_table_cell(t, row, C_VALUE),
            hp_json_is_null(hp_table_cell(t, row, C_DIAG))
                ? "none"
                : hp_json_text(hp_table_cell(t, row, C_DIAG), &b));
    /* the guide's first step, before any tuning */
    fprintf(f, "sanity  %s\n", vw->sanity ? vw->sanity : "not run (search.sanity_check off, or "
                                                           "not a built-in model)");

    fputs("\nerrors\n", f);
    for (int i = 0; i < HP_RE_COUNT; i++) {
        fprintf(f, "  %-16s ", hp_report_error_metric((hp_report_error_t)i));
        if (isfinite(e->err[i]))
            text_num(f, e->err[i]);
        else
            fputs(e->was_nan[i] ? "non-finite" : "not reported", f);
        fputc('\n', f);
    }

    double gap;
    int against;
    int have_base = 0;
    for (int i = 0; i < HP_RB_COUNT; i++)
        have_base |= isfinite(base[i]);
    if (have_base) {
        fputs("\ncompare to a known result (test error)\n", f);
        for (int i = 0; i < HP_RB_COUNT; i++) {
            fprintf(f, "  %-16s ", hp_report_baseline_label((hp_report_baseline_t)i));
            text_num(f, base[i]);
            fputc('\n', f);
        }
        fprintf(f, "  trial %-10s ", hp_table_cell(t, row, C_NUMBER));
        text_num(f, e->err[HP_RE_TEST]);
        if (hp_report_vs_baselines(base, e->err[HP_RE_TEST], &against, &gap) == 0) {
            const char *lbl = hp_report_baseline_label((hp_report_baseline_t)against);
            if (gap < 0)
                fprintf(f, "  beats the %s by %.4f\n", lbl, -gap);
            else
                fprintf(f, "  does not beat the %s (%.4f worse): look for a bug before tuning\n",
                        lbl, gap);
        } else {
            fputs("  (no test_error to compare)\n", f);
        }
    }

    fputs("\ndecomposition (test error = irreducible + avoidable bias + variance"
          " + distribution shift + val overfitting)\n",
          f);
    for (int i = 0; i < HP_RT_COUNT; i++) {
        const hp_report_term_t *term = &r->term[i];
        fprintf(f, "  %-19s ", hp_report_term_label((hp_report_term_id_t)i));
        if (!isfinite(term->value)) {
            fprintf(f, "unknown — %s\n", term->why);
            continue;
        }
        const char *mark = term->material ? "material"
                           : i == HP_RT_IRREDUCIBLE ? ""
                           : term->value < 0        ? "negative"
                                                    : "small";
        fprintf(f, "%7.4f  %-8s  %s\n", term->value, mark, term->why);
        if (i == HP_RT_SHIFT && isfinite(vw->shift_noadapt))
            fprintf(f, "    without CORAL     %7.4f            the same trial trained without "
                       "adaptation (shift_val_error_noadapt - val_error_noadapt)\n",
                    vw->shift_noadapt);
    }
    fprintf(f, "  material: > 0 and >= %.4f (1 percentage point, or 10%% of the test error"
               " when smaller)\n",
            r->threshold);
    static const char *const fit_why[] = {
        [HP_FIT_UNKNOWN] = "avoidable bias or variance is unknown",
        [HP_FIT_GOOD] = "no term is material",
        [HP_FIT_UNDER] = "avoidable bias is the largest material term",
        [HP_FIT_OVER] = "variance is the largest material term",
        [HP_FIT_SHIFT] = "distribution shift is the largest material term",
        [HP_FIT_VAL_OVERFIT] = "val overfitting is the largest material term",
    };
    fprintf(f, "  fit: %s (%s)\n", hp_report_fit_name(r->fit), fit_why[r->fit]);

    fputs("\nnext steps (most important first; try each list top to bottom)\n", f);
    int unknown = 0;
    for (int i = HP_RT_BIAS; i < HP_RT_COUNT; i++)
        unknown |= !isfinite(r->term[i].value);
    if (r->n_advice == 0)
        fputs(unknown ? "  none from the known terms; the unknown ones may hide some\n"
                      : "  none: no term is material\n",
              f);
    const char *why_order = hp_report_order_reason(r);
    if (why_order)
        print_wrapped(f, "  why this order: ", "  ", why_order);
    for (size_t k = 0; k < r->n_advice; k++) {
        const hp_report_advice_t *adv = hp_report_advice(r->advice[k]);
        fprintf(f, "  %zu. %s: %s %.4f\n", k + 1, adv->title,
                hp_report_term_label(r->advice[k]), r->term[r->advice[k]].value);
        for (size_t s = 0; s < adv->n_steps; s++)
            fprintf(f, "     %c. %s\n", (int)('a' + s), adv->steps[s]);
    }

    size_t n = hp_table_rows(t);
    fprintf(f, "\nacross the study (%zu trial%s)\n", n, n == 1 ? "" : "s");
    long *nums = malloc((n ? n : 1) * sizeof *nums);
    for (size_t k = 0; nums && k < N_FITS; k++) {
        fprintf(f, "  %-17s", fit_labels[k]);
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (vw->fits[i] == fit_order[k])
                nums[m++] = strtol(hp_table_cell(t, i, C_NUMBER), NULL, 10);
        if (m)
            print_numbers(f, nums, m); /* the query returns trials by number */
        fputs(m ? "\n" : " -\n", f);
    }
    if (!nums)
        fputs("  (out of memory listing the trials)\n", f);
    free(nums);
    fputs("  diagnosis        ", f);
    for (size_t k = 0; k < N_VERDICTS; k++)
        fprintf(f, " %s %zu,", verdicts[k], vw->diag[k]);
    if (vw->diag_other)
        fprintf(f, " other %zu,", vw->diag_other);
    fprintf(f, " not diagnosed %zu\n", vw->diag_none);
    if (vw->front->on) {
        hp_buf_t fr = {0};
        hp_report_front_text(vw->front, hp_table_cell(t, row, C_NUMBER), &fr);
        fprintf(f, "\n%s", fr.data);
        hp_buf_fini(&fr);
    }
    if (vw->pruning->on) {
        hp_buf_reset(&a);
        hp_report_pruning_text(vw->pruning, &a);
        fprintf(f, "\n%s", a.data);
    }
    fputs("\nparameter importance (hpsearch importance; docs/importance.md)\n", f);
    if (vw->imp) {
        hp_buf_reset(&a);
        hp_importance_text(vw->imp, &a);
        fputs(a.data, f);
    } else {
        fprintf(f, "  not ranked: %s\n", vw->imp_err);
    }
    if (vw->ea) {
        hp_buf_reset(&a);
        hp_report_ea_text(vw->ea, vw->st->name, vw->db, &a);
        fputs(a.data, f);
    }
    hp_buf_fini(&a);
    hp_buf_fini(&b);
}

static void json_term(hp_buf_t *b, const hp_report_term_t *term)
{
    hp_buf_puts(b, "{\"value\":");
    hp_buf_json_number(b, term->value);
    hp_buf_printf(b, ",\"material\":%s,\"%s\":", term->material ? "true" : "false",
                  isfinite(term->value) ? "from" : "unknown");
    hp_buf_json_string(b, term->why);
    hp_buf_putc(b, '}');
}

static void print_json(FILE *f, const view_t *vw)
{
    const hp_query_study_t *st = vw->st;
    const hp_table_t *t = vw->t;
    size_t row = vw->row;
    const hp_report_errors_t *e = vw->e;
    const double *base = vw->base;
    const hp_report_t *r = vw->r;
    hp_buf_t b = {0};
    hp_buf_puts(&b, "{\"study\":");
    hp_buf_json_string(&b, st->name);
    hp_buf_printf(&b, ",\"study_id\":%lld,\"metric\":", (long long)st->id);
    hp_buf_json_string(&b, st->metric);
    hp_buf_printf(&b, ",\"goal\":\"%s\",\"trial\":{\"number\":%s,\"state\":%s,\"value\":%s,"
                      "\"diagnosis\":%s,\"errors\":{",
                  st->goal, hp_table_cell(t, row, C_NUMBER), hp_table_cell(t, row, C_STATE),
                  hp_table_cell(t, row, C_VALUE), hp_table_cell(t, row, C_DIAG));
    for (int i = 0; i < HP_RE_COUNT; i++) {
        hp_buf_printf(&b, "%s\"%s\":", i ? "," : "",
                      hp_report_error_metric((hp_report_error_t)i));
        hp_buf_json_number(&b, e->err[i]);
    }
    /* "compare to a known result": null when the trial reported no baseline */
    double gap;
    int against, have_base = 0;
    for (int i = 0; i < HP_RB_COUNT; i++)
        have_base |= isfinite(base[i]);
    hp_buf_puts(&b, "},\"baselines\":");
    if (!have_base) {
        hp_buf_puts(&b, "null");
    } else {
        hp_buf_putc(&b, '{');
        for (int i = 0; i < HP_RB_COUNT; i++) {
            hp_buf_printf(&b, "\"%s\":", hp_report_baseline_key((hp_report_baseline_t)i));
            hp_buf_json_number(&b, base[i]);
            hp_buf_putc(&b, ',');
        }
        hp_buf_puts(&b, "\"trial_test_error\":");
        hp_buf_json_number(&b, e->err[HP_RE_TEST]);
        if (hp_report_vs_baselines(base, e->err[HP_RE_TEST], &against, &gap) == 0) {
            hp_buf_printf(&b, ",\"against\":\"%s\",\"gap\":",
                          hp_report_baseline_key((hp_report_baseline_t)against));
            hp_buf_json_number(&b, gap);
            hp_buf_printf(&b, ",\"beats\":%s}", gap < 0 ? "true" : "false");
        } else {
            hp_buf_puts(&b, ",\"against\":null,\"gap\":null,\"beats\":null}");
        }
    }
    hp_buf_puts(&b, ",\"terms\":{");
    for (int i = 0; i < HP_RT_COUNT; i++) {
        hp_buf_printf(&b, "%s\"%s\":", i ? "," : "",
                      hp_report_term_key((hp_report_term_id_t)i));
        json_term(&b, &r->term[i]);
    }
    hp_buf_puts(&b, "},\"shift_without_adaptation\":");
    hp_buf_json_number(&b, vw->shift_noadapt);
    hp_buf_puts(&b, ",\"threshold\":");
    hp_buf_json_number(&b, r->threshold);
    hp_buf_printf(&b, ",\"fit\":\"%s\",\"next_steps\":[", hp_report_fit_name(r->fit));
    for (size_t k = 0; k < r->n_advice; k++) {
        const hp_report_advice_t *adv = hp_report_advice(r->advice[k]);
        hp_buf_printf(&b, "%s{\"address\":\"%s\",\"term\":\"%s\",\"title\":", k ? "," : "",
                      adv->key, hp_report_term_key(r->advice[k]));
        hp_buf_json_string(&b, adv->title);
        hp_buf_puts(&b, ",\"steps\":[");
        for (size_t s = 0; s < adv->n_steps; s++) {
            if (s)
                hp_buf_putc(&b, ',');
            hp_buf_json_string(&b, adv->steps[s]);
        }
        hp_buf_puts(&b, "]}");
    }
    size_t n = hp_table_rows(t);
    const char *why_order = hp_report_order_reason(r);
    hp_buf_puts(&b, "],\"order_reason\":");
    if (why_order)
        hp_buf_json_string(&b, why_order);
    else
        hp_buf_puts(&b, "null");
    hp_buf_puts(&b, "},\"sanity_check\":");
    if (vw->sanity)
        hp_buf_json_string(&b, vw->sanity);
    else
        hp_buf_puts(&b, "null");
    hp_buf_printf(&b, ",\"trials\":{\"count\":%zu", n);
    for (size_t k = 0; k < N_FITS; k++) {
        hp_buf_printf(&b, ",\"%s\":[", hp_report_fit_name(fit_order[k]));
        int any = 0;
        for (size_t i = 0; i < n; i++)
            if (vw->fits[i] == fit_order[k]) {
                hp_buf_printf(&b, "%s%s", any ? "," : "", hp_table_cell(t, i, C_NUMBER));
                any = 1;
            }
        hp_buf_putc(&b, ']');
    }
    hp_buf_puts(&b, ",\"diagnosis\":{");
    for (size_t k = 0; k < N_VERDICTS; k++)
        hp_buf_printf(&b, "\"%s\":%zu,", verdicts[k], vw->diag[k]);
    if (vw->diag_other)
        hp_buf_printf(&b, "\"other\":%zu,", vw->diag_other);
    hp_buf_printf(&b, "\"none\":%zu}},\"pruning\":", vw->diag_none);
    hp_report_pruning_json(vw->pruning, &b);
    hp_buf_puts(&b, ",\"importance\":");
    if (vw->imp) {
        hp_importance_json(vw->imp, &b);
    } else {
        /* the method it would use, and why it did not rank */
        hp_importance_opts_t o = hp_importance_defaults();
        hp_buf_printf(&b, "{\"method\":\"fANOVA (random forest, %zu trees)\",\"error\":",
                      o.n_trees);
        hp_buf_json_string(&b, vw->imp_err);
        hp_buf_puts(&b, ",\"params\":[]}");
    }
    if (vw->front->on)
        hp_report_front_json(vw->front, hp_table_cell(t, row, C_NUMBER), &b);
    if (vw->ea) {
        hp_buf_puts(&b, ",\"errors\":");
        hp_report_ea_json(vw->ea, &b);
    }
    hp_buf_puts(&b, "}\n");
    fputs(b.data, f);
    hp_buf_fini(&b);
}

static int cmd_report(hp_cli_t *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"trial", required_argument, NULL, 't'},
        {"db", required_argument, NULL, 'd'},
        {"errors", no_argument, NULL, 'e'},
        {NULL, 0, NULL, 0},
    };
    hp_cli_format_t fmt = HP_FORMAT_TABLE;
    const char *db = NULL;
    long long want = -1;
    int ch, errors = 0;
    while ((ch = getopt_long(argc, argv, ":f:t:d:e", opts, NULL)) != -1) {
        switch (ch) {
        case 'f':
            if (hp_cli_format_opt(cli, &hp_cmd_report, optarg,
                                  1u << HP_FORMAT_TABLE | 1u << HP_FORMAT_JSON, &fmt))
                return HP_EXIT_USAGE;
            break;
        case 't':
            if (hp_cli_parse_uint(cli, &hp_cmd_report, "--trial", optarg, 0, 1000000000000LL,
                                  &want))
                return HP_EXIT_USAGE;
            break;
        case 'd': db = optarg; break;
        case 'e': errors = 1; break;
        default: return hp_cli_bad_option(cli, &hp_cmd_report, ch, argc, argv);
        }
    }
    if (optind >= argc)
        return hp_cli_usage_error(cli, &hp_cmd_report, "missing STUDY (a study name or id)");
    if (optind + 1 < argc)
        return hp_cli_usage_error(cli, &hp_cmd_report, "one STUDY at a time (got '%s' after it)",
                                  argv[optind + 1]);

    hp_query_src_t src = {.cli = cli, .db = db};
    hp_query_study_t st;
    char err[1024];
    if (hp_query_study(&src, argv[optind], &st, err, sizeof err) < 0)
        return hp_cli_fail(cli, &hp_cmd_report, "%s", err);

    hp_buf_t sql = {0};
    hp_buf_printf(&sql,
                  "SELECT coalesce(json_extract(spec_json, '$.objective.human_error'),"
                  " json_extract(spec_json, '$.objective[0].human_error')) FROM studies"
                  " WHERE id = %lld",
                  (long long)st.id);
    hp_table_t t;
    int rc = hp_query_run(&src, sql.data, 0, &t, NULL, err, sizeof err);
    double human = NAN;
    if (rc == 0 && hp_table_rows(&t) == 1 && is_number(hp_table_cell(&t, 0, 0)))
        human = strtod(hp_table_cell(&t, 0, 0), NULL);
    hp_table_fini(&t);
    if (rc < 0) {
        hp_buf_fini(&sql);
        return hp_cli_fail(cli, &hp_cmd_report, "%s", err);
    }

    hp_buf_reset(&sql);
    /* an infeasible trial (constraints) is no candidate for the best */
    hp_buf_puts(&sql, "SELECT t.number, CASE WHEN t.infeasible IS NULL THEN t.state ELSE "
                      "'completed (infeasible)' END AS state, t.value, t.diagnosis");
    for (int i = 0; i < HP_RE_COUNT; i++)
        metric_sql(&sql, hp_report_error_metric((hp_report_error_t)i));
    for (int i = 0; i < HP_RB_COUNT; i++)
        metric_sql(&sql, hp_report_baseline_metric((hp_report_baseline_t)i));
    for (int i = 0; i < 2; i++)
        metric_sql(&sql, noadapt_metrics[i]);
    hp_buf_printf(&sql, " FROM trials t WHERE t.study_id = %lld ORDER BY t.number",
                  (long long)st.id);
    int truncated = 0;
    rc = hp_query_run(&src, sql.data, 0, &t, &truncated, err, sizeof err);
    hp_buf_fini(&sql);
    if (rc < 0) {
        hp_table_fini(&t);
        return hp_cli_fail(cli, &hp_cmd_report, "%s", err);
    }

    size_t n = hp_table_rows(&t);
    long row = -1;
    if (want >= 0) {
        char num[32];
        snprintf(num, sizeof num, "%lld", want);
        for (size_t i = 0; i < n && row < 0; i++)
            if (strcmp(hp_table_cell(&t, i, C_NUMBER), num) == 0)
                row = (long)i;
        if (row < 0) {
            hp_table_fini(&t);
            return hp_cli_fail(cli, &hp_cmd_report, "study '%s' has no trial %lld", st.name,
                               want);
        }
    } else if ((row = best_row(&t, strcmp(st.goal, "maximize") == 0)) < 0) {
        hp_table_fini(&t);
        return hp_cli_fail(cli, &hp_cmd_report,
                           "study '%s' has no completed trial yet (it is %s); use --trial N",
                           st.name, st.state);
    }

    hp_report_front_t front;
    if (hp_report_front_read(&src, &st, &front, err, sizeof err) < 0) {
        fprintf(cli->err, "hpsearch report: cannot read the objectives' values: %s\n", err);
        hp_report_front_fini(&front);
    }
    /* several objectives: the best by the first of the trials on the front
     * (the best by the first alone may be beaten on all the others) */
    const char *pick = want < 0 && front.on ? hp_report_front_first(&front) : NULL;
    for (size_t i = 0; pick && i < n; i++)
        if (strcmp(hp_table_cell(&t, i, C_NUMBER), pick) == 0)
            row = (long)i;

    /* every trial's fit, and the diagnoses */
    hp_report_fit_t *fits = calloc(n ? n : 1, sizeof *fits);
    size_t diag[N_VERDICTS] = {0}, diag_none = 0, diag_other = 0;
    hp_buf_t v = {0};
    for (size_t i = 0; i < n; i++) {
        hp_report_errors_t e;
        hp_report_t r;
        row_errors(&t, i, human, &e);
        hp_report_compute(&e, &r);
        fits[i] = r.fit;
        const char *d = hp_table_cell(&t, i, C_DIAG);
        if (hp_json_is_null(d)) {
            diag_none++;
            continue;
        }
        hp_json_text(d, &v);
        size_t k = 0;
        while (k < N_VERDICTS && strcmp(verdicts[k], v.data) != 0)
            k++;
        if (k < N_VERDICTS)
            diag[k]++;
        else
            diag_other++;
    }
    hp_buf_fini(&v);

    hp_report_errors_t e;
    hp_report_t r;
    row_errors(&t, (size_t)row, human, &e);
    hp_report_compute(&e, &r);
    double stored[HP_RB_COUNT], base[HP_RB_COUNT];
    stored_baselines(&src, (long long)st.id, stored);
    row_baselines(&t, (size_t)row, stored, base);
    hp_buf_t sanity = {0};
    int have_sanity = hp_query_sanity_verdict(&src, (long long)st.id, &sanity);
    hp_report_pruning_t pruning;
    if (hp_report_pruning_read(&src, st.id, &pruning, err, sizeof err) < 0) {
        fprintf(cli->err, "hpsearch report: cannot read what pruning did: %s\n", err);
        pruning.on = 0;
    }
    hp_importance_t imp;
    hp_importance_opts_t io = hp_importance_defaults();
    char imp_err[512];
    int have_imp =
        hp_report_importance_read(&src, st.id, &io, &imp, NULL, imp_err, sizeof imp_err) == 0;
    hp_report_ea_t ea = {0};
    if (errors) {
        long long number = strtoll(hp_table_cell(&t, (size_t)row, C_NUMBER), NULL, 10);
        if (hp_report_ea_read(&src, st.id, number, 0, &ea, err, sizeof err) < 0) {
            hp_buf_fini(&sanity);
            hp_importance_fini(&imp);
            free(fits);
            hp_table_fini(&t);
            return hp_cli_fail(cli, &hp_cmd_report, "cannot read the error analysis: %s", err);
        }
    }
    view_t vw = {&st, &t, (size_t)row, want >= 0, &e, base, &r, fits, diag, diag_none,
                 diag_other, have_sanity ? sanity.data : NULL, &pruning,
                 have_imp ? &imp : NULL, imp_err, &front, errors ? &ea : NULL, NAN, db};
    const char *nv = hp_table_cell(&t, (size_t)row, C_NOADAPT_VAL),
               *ns = hp_table_cell(&t, (size_t)row, C_NOADAPT_SHIFT);
    if (is_number(nv) && is_number(ns))
        vw.shift_noadapt = strtod(ns, NULL) - strtod(nv, NULL);
    if (fmt == HP_FORMAT_JSON)
        print_json(cli->out, &vw);
    else
        print_text(cli->out, &vw);
    hp_report_ea_fini(&ea);
    hp_buf_fini(&sanity);
    hp_importance_fini(&imp);
    hp_report_front_fini(&front);
    if (truncated)
        fprintf(cli->err,
                "hpsearch report: the study summary covers only the trials within the "
                "coordinator's row limit; use --db PATH for all\n");
    free(fits);
    hp_table_fini(&t);
    return HP_EXIT_OK;
}
