/*
 * hpsearch autopilot: the guide's loop (../shared/seed/troubleshooting-
 * deep-learning.md) run by the tool. Start simple, debug (sanity check,
 * baselines), tune (coarse-to-fine, then bayes), evaluate (report_calc.h),
 * improve (autopilot_decide.h), until objective.target is met or the
 * budget is spent. Every round is a study in one database, linked to the
 * round it came from (studies.parent); every decision is an
 * autopilot_step event. The rounds run through the embedded machinery of
 * `hpsearch run` (run_supervisor.c): one coordinator, N workers.
 */
#include "autopilot_decide.h"
#include "autopilot_eval.h"
#include "autopilot_round.h"
#include "cli.h"
#include "client.h"
#include "output.h"
#include "query.h"
#include "report_calc.h"
#include "run_display.h"
#include "run_supervisor.h"

#include "clock.h"
#include "err.h"
#include "lockfile.h"
#include "spec.h"
#include "spec_overlay.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmd_autopilot(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_autopilot = {
    .name = "autopilot",
    .usage = "autopilot SPEC --budget-minutes M [--workers N] [--db PATH]",
    .summary = "run the troubleshooting guide's loop: rounds of studies until objective.target",
    .help = "SPEC names the data (trial.dataset) and the objective, with objective.target\n"
            "(the requirement). The model, space and search may be left out: autopilot\n"
            "starts simple (LeNet-like for images, a one-layer LSTM for a sequence CSV, one\n"
            "hidden layer otherwise; Adam 3e-4; normalized inputs), runs the sanity check and the baselines, tunes the\n"
            "learning rate and size coarse-to-fine, evaluates the chosen trial with the\n"
            "bias-variance decomposition and improves in the guide's order (under-fitting,\n"
            "over-fitting, distribution shift, validation overfitting), then bayes, until\n"
            "the target is met or M minutes of wall time are spent. Each round is a study\n"
            "NAME-r1, NAME-r2, ... in PATH whose studies.parent is the round before; each\n"
            "decision is printed and stored as an autopilot_step event. The end names the\n"
            "chosen trial (by the objective, never by test), its test error, whether the\n"
            "target was met and the spec that reproduces it. Ctrl-C stops cleanly;\n"
            "everything stored stays. docs/autopilot.md has every rule.\n"
            "\n"
            "Options:\n"
            "  --budget-minutes M  wall time for all rounds (a number > 0, e.g. 25 or 0.5)\n"
            "  --workers N         local worker processes (default 1)\n"
            "  --db PATH           the database (default hpsearch.db)\n"
            "  --verbose           the coordinator and workers log to stderr\n"
            "\n"
            "Example:\n"
            "  hpsearch autopilot examples/autopilot-fashion-mnist.yaml --budget-minutes 25 "
            "--workers 2\n",
    .exec = cmd_autopilot,
};

#define POLL_S 0.25
#define MAX_ROUNDS 64
#define DEFAULT_EPOCHS 5
#define MAX_EPOCHS 40 /* the most "train longer" goes when the spec sets no trial.epochs */

typedef struct pilot {
    hp_cli_t *cli;
    hp_supervisor_t sup;
    hp_run_display_t display;
    const char *db;
    int workers;
    hp_spec_t user;        /* the user's spec with autopilot's defaults filled in */
    const char *user_text; /* as read */
    size_t user_len;
    const char *path;
    char base[HP_SPEC_NAME_MAX - 4]; /* room for -rNN */
    double deadline;
    hp_ap_objective_t obj;
    hp_ap_result_t best; /* across every round, by the objective */
    int max_epochs;      /* trial.epochs when the user set it, else MAX_EPOCHS */
    int user_model;      /* trial.model was given, not picked by the data */
} pilot_t;

/* ---- the user's spec ---------------------------------------------------- */

static int read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return hp_errf(err, errlen, HP_ENOENT, "%s: cannot open: %s", path, strerror(errno));
    hp_buf_t b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len <= HP_SPEC_MAX_BYTES)
        hp_buf_append(&b, chunk, n);
    fclose(f);
    if (b.len > HP_SPEC_MAX_BYTES) {
        hp_buf_fini(&b);
        return hp_errf(err, errlen, HP_EINVAL, "%s: the spec is too large", path);
    }
    hp_buf_putc(&b, '\0');
    *len = b.len - 1;
    *text = b.data;
    return 0;
}

static void print_diag(const hp_cli_t *cli, const hp_diag_t *d, const char *path)
{
    /* lines would point into the filled-in text, not the user's file */
    for (size_t i = 0; i < d->n; i++)
        fprintf(cli->err, "%s: %s%s%s\n", path, d->items[i].path,
                *d->items[i].path ? ": " : "", d->items[i].message);
}

static int has_line(const hp_buf_t *b, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = b->data; p && *p;) {
        size_t k = strcspn(p, "\n");
        if (k == n && strncmp(p, line, n) == 0)
            return 1;
        p += k + (p[k] == '\n');
    }
    return 0;
}

/* Loads SPEC with what autopilot may fill in, checks what it needs, and
 * picks the first model. Prints the problems and returns the exit code. */
static int load_user(pilot_t *pl, hp_ap_config_t *start, int *epochs)
{
    const hp_cmd_t *cmd = &hp_cmd_autopilot;
    char err[1200];
    char *text = NULL;
    size_t len = 0;
    if (read_file(pl->path, &text, &len, err, sizeof err) < 0)
        return hp_cli_fail(pl->cli, cmd, "%s", err);
    pl->user_text = text;
    pl->user_len = len;
    hp_buf_t filled_text = {0}, filled = {0};
    hp_diag_t d = {0};
    int rc = hp_spec_overlay(text, len, pl->path,
                             "{search: {algorithm: random, max_trials: 1}, "
                             "space: {lr: {type: categorical, values: [0.0003]}}, "
                             "trial: {model: mlp, epochs: 5}}",
                             HP_OVERLAY_FILL, &filled_text, &filled, &d);
    if (rc == 0)
        rc = hp_spec_parse(&pl->user, filled_text.data, filled_text.len, pl->path, &d);
    hp_buf_fini(&filled_text);
    if (rc < 0) {
        print_diag(pl->cli, &d, pl->path);
        hp_diag_fini(&d);
        hp_buf_fini(&filled);
        return hp_cli_fail(pl->cli, cmd, "%s is not a valid autopilot spec", pl->path);
    }
    hp_diag_fini(&d);
    const hp_spec_t *s = &pl->user;
    rc = 0;
    if (!has_line(&filled, "space"))
        rc = hp_cli_fail(pl->cli, cmd,
                         "%s: space: autopilot chooses the parameters to search itself; "
                         "leave space out",
                         pl->path);
    else if (s->trial.kind != HP_TRIAL_MODEL)
        rc = hp_cli_fail(pl->cli, cmd,
                         "%s: trial: autopilot trains the built-in models; name the data with "
                         "trial.dataset (fashion-mnist or a CSV path), not a function or command",
                         pl->path);
    else if (!s->objective.has_target)
        rc = hp_cli_fail(pl->cli, cmd,
                         "%s: objective.target: autopilot needs the requirement to stop at, "
                         "e.g. target: 0.1 for %s (docs/autopilot.md)",
                         pl->path, s->objective.metric);
    else if (strncmp(s->objective.metric, "test_", 5) == 0)
        rc = hp_cli_fail(pl->cli, cmd,
                         "%s: objective.metric: autopilot chooses trials on validation, never "
                         "on test; use val_error or val_loss (got %s)",
                         pl->path, s->objective.metric);
    else if (strlen(s->name) >= sizeof pl->base)
        rc = hp_cli_fail(pl->cli, cmd,
                         "%s: name: at most %d characters for autopilot, which adds -rN", pl->path,
                         HP_SPEC_NAME_MAX - 5);
    else if (s->trial.dataset.is_path && access(s->trial.dataset.source, R_OK) != 0)
        rc = hp_cli_fail(pl->cli, cmd, "%s: trial.dataset.path: cannot read '%s': %s", pl->path,
                         s->trial.dataset.source, strerror(errno));
    int user_model = !has_line(&filled, "trial.model");
    int images = !s->trial.dataset.is_path;
    int seq[2] = {0, 0}; /* a sequence CSV's T, F (the spec checked "T,F") */
    if (s->trial.dataset.sequence_shape &&
        sscanf(s->trial.dataset.sequence_shape, "%d,%d", &seq[0], &seq[1]) != 2)
        seq[0] = seq[1] = 0;
    hp_model_t um = s->trial.model;
    int seq_model = um == HP_MODEL_LSTM || um == HP_MODEL_TCN || um == HP_MODEL_ATTENTION;
    /* the mlp reads any data; lstm, tcn and attention a sequence (a
     * sequence CSV's steps or an image's rows); the others images (the
     * spec refused them on a sequence CSV) */
    if (!rc && user_model && seq_model && !images && !seq[0])
        rc = hp_cli_fail(pl->cli, cmd,
                         "%s: trial.model: %s reads sequences: give the CSV's "
                         "trial.dataset.sequence_columns and sequence_shape [T, F], or use "
                         "images (got a tabular CSV file)",
                         pl->path, hp_model_name(um));
    else if (!rc && user_model && um != HP_MODEL_MLP && !seq_model && !images)
        rc = hp_cli_fail(pl->cli, cmd, "%s: trial.model: %s needs images (got a CSV file)",
                         pl->path, hp_model_name(um));
    if (!rc) {
        pl->user_model = user_model;
        hp_model_t m = user_model ? um : hp_ap_start_model(images, seq[0]);
        hp_ap_config_default(start, m, images);
        start->seq_t = seq[0];
        start->seq_f = seq[1];
        /* a size the user fixed is where it starts */
        const char *wname = m == HP_MODEL_LENET ? "fc1"
                            : m == HP_MODEL_RESNET || m == HP_MODEL_TCN || m == HP_MODEL_ATTENTION
                                ? "channels"
                                : "hidden";
        const hp_spec_value_t *w = hp_spec_find_fixed(s, wname);
        if (w && w->kind == HP_VALUE_NUMBER && w->num >= 1 && w->num <= HP_AP_MAX_WIDTH_MLP)
            start->width = (int)w->num;
        start->train_subset = s->trial.dataset.train_subset;
        start->adapt = s->trial.dataset.adapt == HP_ADAPT_CORAL;
        if (s->trial.dataset.validation_fraction > 0)
            start->validation_fraction = s->trial.dataset.validation_fraction;
        int user_epochs = !has_line(&filled, "trial.epochs");
        *epochs = user_epochs ? (int)s->trial.epochs : DEFAULT_EPOCHS;
        pl->max_epochs = user_epochs ? *epochs : MAX_EPOCHS;
        size_t nl = strlen(s->name); /* < sizeof pl->base: checked above */
        memcpy(pl->base, s->name, nl + 1);
        pl->obj = (hp_ap_objective_t){.metric = s->objective.metric,
                                      .maximize = s->objective.goal == HP_GOAL_MAXIMIZE,
                                      .target = s->objective.target,
                                      .has_human = s->objective.has_human_error,
                                      .human = s->objective.human_error};
    }
    hp_buf_fini(&filled);
    return rc;
}

/* ---- talking to the coordinator ------------------------------------------ */

static int submit(pilot_t *pl, const char *text, const char *name, const char *parent,
                  long long *id)
{
    char err[4608];
    Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT, *rep;
    Hpsearch__Submit sub = HPSEARCH__SUBMIT__INIT;
    sub.spec_text = (char *)text;
    sub.filename = (char *)name;
    sub.parent = (char *)(parent ? parent : "");
    hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__SUBMIT, &sub);
    int rc;
    do {
        rc = hp_client_call(pl->sup.cl, &req, HPSEARCH__MSG_TYPE__SUBMIT_REPLY, &rep, err,
                            sizeof err);
        hp_supervisor_reap(&pl->sup);
    } while (rc == HP_ETIMEDOUT && pl->sup.daemon.alive && !hp_supervisor_signal());
    if (rc < 0) {
        if (hp_supervisor_signal())
            return 128 + hp_supervisor_signal();
        int ex = hp_supervisor_check(&pl->sup);
        return ex >= 0 ? ex : hp_cli_fail_lines(pl->cli, &hp_cmd_autopilot, err);
    }
    if (rep->submit_reply->existed) {
        hp_proto_free(rep);
        return hp_cli_fail(pl->cli, &hp_cmd_autopilot,
                           "study '%s' already exists in %s: autopilot starts a new chain; use "
                           "another name or database",
                           name, pl->db);
    }
    *id = (long long)rep->submit_reply->study_id;
    hp_proto_free(rep);
    return 0;
}

static void cancel(pilot_t *pl, const char *name)
{
    char err[512];
    Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT, *rep = NULL;
    Hpsearch__CancelStudy body = HPSEARCH__CANCEL_STUDY__INIT;
    body.study = (char *)name;
    hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__CANCEL_STUDY, &body);
    hp_client_call(pl->sup.cl, &req, HPSEARCH__MSG_TYPE__ACK, &rep, err, sizeof err);
    hp_proto_free(rep);
}

static int log_event(pilot_t *pl, const char *study, const char *message, const char *detail)
{
    char err[1024];
    Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT, *rep = NULL;
    Hpsearch__LogEvent body = HPSEARCH__LOG_EVENT__INIT;
    body.study = (char *)study;
    body.kind = "autopilot_step";
    body.message = (char *)message;
    body.detail = (char *)detail;
    hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__LOG_EVENT, &body);
    int rc = hp_client_call(pl->sup.cl, &req, HPSEARCH__MSG_TYPE__ACK, &rep, err, sizeof err);
    hp_proto_free(rep);
    if (rc < 0)
        fprintf(pl->cli->err, "hpsearch autopilot: cannot record the decision: %s\n", err);
    return rc;
}

/* Waits for the study to end; cancels it when the budget is spent. 0 when
 * it ended (*state set), else the exit code. */
static int wait_round(pilot_t *pl, const char *name, char *state, size_t cap)
{
    char err[4608];
    int cancelled = 0;
    hp_run_display_start(&pl->display, hp_clock_now());
    for (;;) {
        if (hp_supervisor_signal())
            return 128 + hp_supervisor_signal();
        int ex = hp_supervisor_check(&pl->sup);
        if (ex >= 0)
            return ex;
        Hpsearch__Envelope *rep;
        const Hpsearch__StudyStatus *st;
        int rc = hp_client_study_status(pl->sup.cl, name, &rep, &st, err, sizeof err);
        if (rc == HP_ETIMEDOUT)
            continue;
        if (rc < 0) {
            if (hp_supervisor_signal())
                return 128 + hp_supervisor_signal();
            return hp_run_display_fail(&pl->display, "%s", err);
        }
        hp_run_display_status(&pl->display, st, hp_clock_now());
        if (strcmp(st->state, "running") != 0) {
            snprintf(state, cap, "%s", st->state);
            hp_proto_free(rep);
            hp_run_display_end_line(&pl->display);
            return 0;
        }
        hp_proto_free(rep);
        if (!cancelled && hp_clock_now() >= pl->deadline) {
            hp_run_display_end_line(&pl->display);
            fprintf(pl->cli->err, "hpsearch autopilot: the budget is spent: cancelling %s (its "
                                  "completed trials count)\n",
                    name);
            cancel(pl, name);
            cancelled = 1;
        }
        hp_supervisor_nap(POLL_S);
    }
}

/* ---- evaluating a round --------------------------------------------------- */

/* the decomposition autopilot decides on: with no human error, bias is
 * counted from 0 (an upper bound) */
static void decompose(const pilot_t *pl, const hp_ap_result_t *r, hp_report_t *rep)
{
    hp_report_errors_t e = r->e;
    if (!pl->user.objective.has_human_error)
        e.human = 0;
    hp_report_compute(&e, rep);
}

/* ---- the loop ---------------------------------------------------------- */

static const char *search_name(hp_ap_search_t s)
{
    return s == HP_AP_SEARCH_SIMPLE ? "start simple (the defaults, sanity check, baselines)"
           : s == HP_AP_SEARCH_C2F     ? "coarse-to-fine on lr and size"
           : s == HP_AP_SEARCH_CONFIRM ? "the best so far again with the change, lr within x"
                                         HP_AP_CONFIRM_LR_TEXT
                                       : "bayes on lr and size";
}

/* the share of the time left a round gets (docs/autopilot.md) */
static double share(hp_ap_search_t s) { return s == HP_AP_SEARCH_BAYES ? 0.5 : 0.4; }

static void print_final(pilot_t *pl, int met, const char *why)
{
    FILE *o = pl->cli->out;
    const hp_ap_result_t *b = &pl->best;
    if (!b->ok) {
        fprintf(o, "autopilot: no trial completed (%s); target not met\n", why);
        return;
    }
    hp_report_t rep;
    hp_report_compute(&b->e, &rep);
    fprintf(o, "\nchosen   trial %ld of study %s (on %s %.4f, never on test)\n", b->number,
            b->study, pl->user.objective.metric, b->value);
    fprintf(o, "test     test_error ");
    if (isfinite(b->e.err[HP_RE_TEST]))
        fprintf(o, "%.4f\n", b->e.err[HP_RE_TEST]);
    else
        fprintf(o, "not reported\n");
    fprintf(o, "target   %s %g: %s (%s)\n", pl->user.objective.metric, pl->user.objective.target,
            met ? "met" : "not met", why);
    fputs("decomposition\n", o);
    for (int i = 0; i < HP_RT_COUNT; i++) {
        fprintf(o, "  %-19s ", hp_report_term_label((hp_report_term_id_t)i));
        if (isfinite(rep.term[i].value))
            fprintf(o, "%7.4f%s\n", rep.term[i].value, rep.term[i].material ? "  material" : "");
        else
            fprintf(o, "unknown — %s\n", rep.term[i].why);
    }
    fprintf(o, "reproduce: the spec of study %s below (hpsearch run it); the trial alone:\n"
               "  hpsearch report --db %s --trial %ld %s\n",
            b->study, pl->db, b->number, b->study);
    hp_query_src_t src = {.cli = pl->cli, .db = pl->db};
    hp_buf_t sql = {0}, spec = {0};
    hp_buf_printf(&sql, "SELECT spec FROM studies WHERE id = %lld", b->study_id);
    hp_table_t t;
    char err[512];
    if (hp_query_run(&src, sql.data, 0, &t, NULL, err, sizeof err) == 0 && hp_table_rows(&t)) {
        hp_json_text(hp_table_cell(&t, 0, 0), &spec);
        fprintf(o, "--- %s\n%s", b->study, spec.data ? spec.data : "");
        if (spec.len && spec.data[spec.len - 1] != '\n')
            fputc('\n', o);
    }
    hp_table_fini(&t);
    hp_buf_fini(&sql);
    hp_buf_fini(&spec);
}

/* A round with no completed trial: the guide's debug step when the sanity
 * check says the loss plateaus (lr × 10, then size × 4: -1, go on with
 * *cur), else the end (the exit code). */
static int no_trial(pilot_t *pl, int round, const char *name, long long id, const char *state,
                    hp_ap_result_t *res, hp_ap_config_t *cur, int *debug_retries)
{
    hp_query_src_t src = {.cli = pl->cli, .db = pl->db};
    hp_buf_t verdict = {0};
    int sane = !hp_query_sanity_verdict(&src, id, &verdict) || strncmp(verdict.data, "FAIL", 4) != 0;
    /* the guide's "error plateaus: learning rate too low" */
    int slow = !sane && strstr(verdict.data, "learning rate too low") && *debug_retries < 2;
    /* first the learning rate, then "a model too small to memorise one batch" */
    int raise_lr = slow && *debug_retries == 0 && cur->lr * 10 <= 3e-2;
    char msg[900];
    const char *first = verdict.data ? verdict.data : "";
    int fl = (int)strcspn(first, "\n");
    const char *sp = hp_ap_size_param(cur);
    if (raise_lr)
        snprintf(msg, sizeof msg,
                 "%s: the sanity check says %.*s → debug: the loss plateaus, so the learning "
                 "rate is too low: lr %g → %g, check again",
                 name, fl, first, cur->lr, cur->lr * 10);
    else if (slow)
        snprintf(msg, sizeof msg,
                 "%s: the sanity check says %.*s → debug: the loss plateaus, so the model is "
                 "too small to memorise one batch: %s %d → %d, check again",
                 name, fl, first, sp ? sp : "width", cur->width, cur->width * 4);
    else
        snprintf(msg, sizeof msg, "%s ended %s with no completed trial%s%.*s → stop: %s", name,
                 state, sane ? "" : "; the sanity check says ", sane ? 0 : fl, first,
                 sane ? "look at its trials (hpsearch trials) and fix the cause"
                      : "a model that cannot overfit one batch has a bug to fix first (the "
                        "guide's debug step)");
    hp_buf_fini(&verdict);
    fprintf(pl->cli->out, "decision %s\n", msg);
    hp_report_t rep;
    hp_report_errors_init(&res->e);
    hp_report_compute(&res->e, &rep);
    char next[HP_SPEC_NAME_MAX + 16]; /* a round number of any size */
    snprintf(next, sizeof next, "%s-r%d", pl->base, round + 1);
    hp_buf_t detail = {0};
    hp_ap_evidence(&pl->obj, round, res, &rep,
                   raise_lr ? "debug_raise_lr" : slow ? "debug_bigger_model" : "stop", -1,
                   slow ? next : NULL, &detail);
    log_event(pl, name, msg, detail.data);
    hp_buf_fini(&detail);
    if (!slow) {
        print_final(pl, 0, "a round had no completed trial");
        return HP_EXIT_FAIL;
    }
    if (raise_lr)
        cur->lr *= 10;
    else
        hp_ap_grow(cur, 4);
    (*debug_retries)++;
    return -1;
}

/* hp_ap_decide, skipping the steps whose one trial would not finish in
 * the time left (a stronger architecture 50x the cost, a bigger model at
 * many epochs): each is marked failed in *in and the ladder moves on;
 * `skipped` says which ("a stronger architecture: about 2400 s a trial,
 * 700 s left: skipped; "). est: seconds per trial of epochs0 epochs of
 * `measured`, 0 when unknown (then nothing is skipped). */
static void decide_affordable(const pilot_t *pl, hp_ap_input_t *in,
                              const hp_ap_config_t *measured, double est, int epochs0,
                              hp_ap_decision_t *dec, char *skipped, size_t cap)
{
    size_t n = 0;
    for (int k = 0; k < HP_AP_ACTION_COUNT; k++) {
        hp_ap_decide(in, dec);
        if (dec->action == HP_AP_DONE || dec->action == HP_AP_STOP)
            return;
        double per = hp_ap_cost_scale(measured, &dec->next, est);
        int ep = dec->next.epochs > 0 ? dec->next.epochs : epochs0;
        double trial = per * ep / epochs0, left = pl->deadline - hp_clock_now();
        if (hp_ap_affordable(dec->action, trial, left))
            return;
        int k2 = snprintf(skipped + n, cap - n, "%s: about %.0f s a trial, %.0f s left: skipped; ",
                          hp_ap_action_name(dec->action), trial, left);
        if (k2 > 0 && n + (size_t)k2 < cap)
            n += (size_t)k2;
        in->failed |= HP_AP_BIT(dec->action);
    }
}

static int run_loop(pilot_t *pl, hp_ap_config_t start, int epochs0)
{
    hp_ap_config_t cur = start;
    hp_ap_search_t search = HP_AP_SEARCH_SIMPLE;
    unsigned failed = 0;
    hp_ap_action_t last = HP_AP_TUNE;
    double est = 0; /* seconds per trial of epochs0 epochs of `cur`; 0: unknown */
    char parent[HP_SPEC_NAME_MAX] = "";
    int maximize = pl->user.objective.goal == HP_GOAL_MAXIMIZE;
    int debug_retries = 0;
    for (int round = 1; round <= MAX_ROUNDS; round++) {
        double left = pl->deadline - hp_clock_now();
        hp_ap_round_t r = {.search = search, .cfg = cur, .parallelism = (uint32_t)pl->workers};
        snprintf(r.name, sizeof r.name, "%s-r%d", pl->base, round);
        /* early stopping and training longer set the epochs of the configs
         * that carry them */
        int epochs = cur.epochs > 0 ? cur.epochs : epochs0;
        if (!hp_ap_round_plan(&r, left, share(search), est * epochs / epochs0, epochs,
                              pl->workers, round == 1, pl->best.ok)) {
            print_final(pl, 0, "the budget is spent");
            return HP_EXIT_OK;
        }
        hp_buf_t overlay = {0}, text = {0};
        hp_ap_round_overlay(&r, &pl->user, &overlay);
        hp_diag_t d = {0};
        int rc = hp_spec_overlay(pl->user_text, pl->user_len, pl->path, overlay.data,
                                 HP_OVERLAY_REPLACE, &text, NULL, &d);
        hp_spec_t check;
        if (rc == 0 && (rc = hp_spec_parse(&check, text.data, text.len, r.name, &d)) == 0)
            hp_spec_fini(&check);
        if (rc < 0) {
            print_diag(pl->cli, &d, r.name);
            hp_diag_fini(&d);
            hp_buf_fini(&overlay);
            hp_buf_fini(&text);
            return hp_cli_fail(pl->cli, &hp_cmd_autopilot,
                               "round %d's spec is invalid (a bug: please report it)", round);
        }
        hp_diag_fini(&d);
        hp_buf_fini(&overlay);
        char why[480] = "";
        if (round == 1) {
            hp_ap_start_reason(&cur, pl->user_model, pl->user.trial.dataset.source, why,
                               sizeof why);
            fprintf(pl->cli->out, "decision start simple: %s\n", why);
        }
        fprintf(pl->cli->out, "round %d  %s: %s, %llu trial%s of %d epoch%s (%.0f s left)\n",
                round, r.name, search_name(search), (unsigned long long)r.max_trials,
                r.max_trials == 1 ? "" : "s", r.epochs, r.epochs == 1 ? "" : "s",
                left > 0 ? left : 0);
        fflush(pl->cli->out);
        long long id = 0;
        rc = submit(pl, text.data, r.name, *parent ? parent : NULL, &id);
        hp_buf_fini(&text);
        if (rc)
            return rc;
        if (round == 1) { /* the first decision: what to start with, and why */
            hp_buf_t detail = {0};
            hp_ap_start_evidence(&pl->obj, r.name, &cur, pl->user_model, &detail);
            log_event(pl, r.name, why, detail.data);
            hp_buf_fini(&detail);
        }
        char state[32];
        double began = hp_clock_now();
        if ((rc = wait_round(pl, r.name, state, sizeof state)))
            return rc;
        double wall = hp_clock_now() - began;
        hp_ap_result_t res;
        hp_query_src_t src = {.cli = pl->cli, .db = pl->db};
        char qerr[1024];
        if (hp_ap_evaluate(&src, &pl->obj, r.name, id, &r.cfg, &res, qerr, sizeof qerr) < 0)
            return hp_cli_fail(pl->cli, &hp_cmd_autopilot, "cannot read study %s: %s", r.name,
                               qerr);
        res.cfg.tuned = search != HP_AP_SEARCH_SIMPLE;
        /* one trial's cost: what trials measured, or what the round took
         * per trial with its workers busy (sanity check, scheduling and a
         * loaded machine included), whichever is larger */
        if (res.completed > 0) {
            int busy = (int)(r.max_trials < (uint64_t)pl->workers ? r.max_trials
                                                                  : (uint64_t)pl->workers);
            double per = wall * busy / res.completed;
            double cost = res.mean_seconds > per ? res.mean_seconds : per;
            est = cost * epochs0 / (r.epochs ? r.epochs : 1);
        }
        if (!res.ok) {
            rc = no_trial(pl, round, r.name, id, state, &res, &cur, &debug_retries);
            if (rc < 0) {
                snprintf(parent, sizeof parent, "%s", r.name);
                continue;
            }
            return rc;
        }
        /* the decision is taken on the best round so far: a step that did
         * not improve is marked failed and the ladder moves on */
        if (!pl->best.ok || hp_ap_better(res.value, pl->best.value, maximize)) {
            pl->best = res;
            failed = 0;
        } else {
            failed |= HP_AP_BIT(last);
            fprintf(pl->cli->out, "         %s %.4f did not improve on %.4f (%s): back to it\n",
                    pl->user.objective.metric, res.value, pl->best.value, pl->best.study);
        }
        if (search != HP_AP_SEARCH_SIMPLE)
            pl->best.cfg.tuned = 1; /* tuning was tried, even if it lost */
        hp_report_t rep;
        hp_buf_t detail = {0};
        decompose(pl, &pl->best, &rep);
        hp_ap_input_t in = {.report = &rep,
                            .human_known = pl->user.objective.has_human_error,
                            .cur = &pl->best.cfg,
                            .failed = failed,
                            .metric = pl->user.objective.metric,
                            .objective = pl->best.value,
                            .maximize = maximize,
                            .has_target = 1,
                            .target = pl->user.objective.target,
                            .best_epoch = pl->best.best_epoch,
                            .epochs = pl->best.epochs,
                            .late_gain = pl->best.late_gain,
                            .max_epochs = pl->max_epochs};
        hp_ap_decision_t dec;
        char skipped[400] = "";
        decide_affordable(pl, &in, &r.cfg, est, epochs0, &dec, skipped, sizeof skipped);
        failed = in.failed; /* what cannot be afforded now will not be later */
        char next[HP_SPEC_NAME_MAX];
        snprintf(next, sizeof next, "%s-r%d", pl->base, round + 1);
        int done = dec.action == HP_AP_DONE, stuck = dec.action == HP_AP_STOP;
        int out_of_time = !done && pl->deadline - hp_clock_now() <= 0;
        char msg[1280];
        snprintf(msg, sizeof msg, "%s%s%s", skipped, dec.reason,
                 out_of_time ? " — but the budget is spent: stop" : "");
        fprintf(pl->cli->out, "decision %s\n", msg);
        fflush(pl->cli->out);
        hp_ap_evidence(&pl->obj, round, &pl->best, &rep,
                 out_of_time ? "budget_spent" : hp_ap_action_name(dec.action), dec.term,
                 done || stuck || out_of_time ? NULL : next, &detail);
        log_event(pl, r.name, msg, detail.data);
        hp_buf_fini(&detail);
        if (done || stuck || out_of_time) {
            print_final(pl, done,
                        done    ? "the target is met"
                        : stuck ? "no step is left"
                                : "the budget is spent");
            return HP_EXIT_OK;
        }
        snprintf(parent, sizeof parent, "%s", r.name);
        /* what a trial of the next config costs, from what this round's
         * cost: scaled by the cost per sample of the two models and by the
         * data size (autopilot_round.h) */
        est = hp_ap_cost_scale(&r.cfg, &dec.next, est);
        cur = dec.next;
        last = dec.action;
        /* training longer changes nothing but the epochs: the best so far
         * run again says whether they help, at a trial per worker instead
         * of a tuning round's several (docs/autopilot.md) */
        search = dec.action == HP_AP_BAYES    ? HP_AP_SEARCH_BAYES
                 : dec.action == HP_AP_LONGER ? HP_AP_SEARCH_CONFIRM
                                              : HP_AP_SEARCH_C2F;
    }
    print_final(pl, 0, "the round limit is reached");
    return HP_EXIT_OK;
}

static int cmd_autopilot(hp_cli_t *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"budget-minutes", required_argument, NULL, 'b'},
        {"workers", required_argument, NULL, 'w'},
        {"db", required_argument, NULL, 'd'},
        {"verbose", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    const hp_cmd_t *cmd = &hp_cmd_autopilot;
    long long nworkers = 1;
    double budget = NAN;
    const char *db = "hpsearch.db";
    int verbose = 0, ch;
    while ((ch = getopt_long(argc, argv, ":b:w:d:v", opts, NULL)) != -1) {
        switch (ch) {
        case 'b': {
            char *end;
            errno = 0;
            budget = strtod(optarg, &end);
            if (end == optarg || *end || errno || !isfinite(budget) || budget <= 0)
                return hp_cli_usage_error(
                    cli, cmd, "--budget-minutes: expected a number of minutes > 0 (got '%s')",
                    optarg);
            break;
        }
        case 'w':
            if (hp_cli_parse_uint(cli, cmd, "--workers", optarg, 1, 1024, &nworkers))
                return HP_EXIT_USAGE;
            break;
        case 'd':
            if (!*optarg)
                return hp_cli_usage_error(cli, cmd, "--db needs a PATH");
            db = optarg;
            break;
        case 'v': verbose = 1; break;
        default: return hp_cli_bad_option(cli, cmd, ch, argc, argv);
        }
    }
    if (optind >= argc)
        return hp_cli_usage_error(cli, cmd, "missing SPEC");
    if (optind + 1 < argc)
        return hp_cli_usage_error(cli, cmd, "one SPEC only (got '%s' too)", argv[optind + 1]);
    if (!isfinite(budget))
        return hp_cli_usage_error(cli, cmd, "--budget-minutes M is required");

    static pilot_t pl; /* large; one per process */
    memset(&pl, 0, sizeof pl);
    pl.cli = cli;
    pl.db = db;
    pl.workers = (int)nworkers;
    pl.path = argv[optind];
    hp_ap_config_t start;
    int epochs = DEFAULT_EPOCHS;
    int rc = load_user(&pl, &start, &epochs);
    if (rc) {
        hp_spec_fini(&pl.user);
        free((char *)pl.user_text);
        return rc;
    }
    char lerr[1200];
    if (hp_lockfile_probe(db, NULL, lerr, sizeof lerr) == HP_EBUSY) {
        hp_spec_fini(&pl.user);
        free((char *)pl.user_text);
        return hp_cli_fail(cli, cmd, "%s", lerr);
    }
    pl.display.cli = cli;
    pl.display.cmd = cmd;
    pl.display.tty = isatty(fileno(cli->err));
    if ((rc = hp_supervisor_init(&pl.sup, cli, &pl.display, pl.workers, verbose))) {
        hp_spec_fini(&pl.user);
        free((char *)pl.user_text);
        return rc;
    }
    pl.deadline = hp_clock_now() + budget * 60;
    fprintf(cli->out, "autopilot %s on %s: %s %s, target %g, budget %g min, %d worker%s\n",
            pl.base, db, pl.user.objective.goal == HP_GOAL_MAXIMIZE ? "maximize" : "minimize",
            pl.user.objective.metric, pl.user.objective.target, budget, pl.workers,
            pl.workers == 1 ? "" : "s");
    rc = hp_supervisor_start_daemon(&pl.sup, db, "warn");
    if (!rc)
        rc = hp_supervisor_start_workers(&pl.sup, 1);
    if (!rc)
        rc = run_loop(&pl, start, epochs);
    if (rc >= 128) {
        hp_run_display_end_line(&pl.display);
        fprintf(cli->err, "hpsearch autopilot: %s; stopping the workers and the coordinator "
                          "(every round so far stays in %s)\n",
                strsignal(rc - 128), db);
    }
    hp_supervisor_stop(&pl.sup);
    if (rc >= 128)
        hp_supervisor_report_stop(&pl.sup);
    hp_supervisor_fini(&pl.sup);
    hp_spec_fini(&pl.user);
    free((char *)pl.user_text);
    return rc;
}
