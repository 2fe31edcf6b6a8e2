/*
 * autopilot_eval.h — what `hpsearch autopilot` reads back after a round:
 * the round's chosen trial (the best completed one by the objective) with
 * its errors, cost, params and best epoch, from the database (read-only,
 * query.h), and the evidence of a decision as the JSON of its
 * autopilot_step event (docs/autopilot.md, "What it records").
 *
 *     hp_ap_objective_t o = {.metric = "val_error", .target = 0.1};
 *     hp_ap_result_t r;
 *     if (hp_ap_evaluate(&src, &o, "fm-r2", 7, &cfg, &r, err, sizeof err) == 0 && r.ok) ...
 *     hp_ap_evidence(&o, 2, &r, &report, "bigger_model", HP_RT_BIAS, "fm-r3", &json);
 */
#ifndef HP_CLI_AUTOPILOT_EVAL_H
#define HP_CLI_AUTOPILOT_EVAL_H

#include "autopilot_decide.h"
#include "buf.h"
#include "query.h"
#include "report_calc.h"

/* The user's objective, as the rounds share it. */
typedef struct hp_ap_objective {
    const char *metric;
    int maximize;
    double target;
    int has_human; /* objective.human_error set */
    double human;
} hp_ap_objective_t;

/* A round's chosen trial and what it found. */
typedef struct hp_ap_result {
    int ok;                /* a completed trial was chosen */
    char study[64];
    long long study_id, trial_id;
    long number;
    double value;
    hp_report_errors_t e; /* its errors (human error NaN when unknown) */
    double base_linear;   /* the linear baseline's test error, NaN: none */
    double mean_seconds;  /* per completed trial of the round */
    int completed;        /* the round's completed trials */
    int best_epoch;       /* its lowest-val_error epoch; 0: unknown */
    int epochs;           /* the epochs it trained */
    double late_gain;     /* val_error at half its epochs minus its lowest: what the
                             second half of training gained; NaN: unknown */
    hp_ap_config_t cfg;   /* the round's config with the chosen lr and size */
} hp_ap_result_t;

/* hp_ap_better: whether a is a better objective value than b (b NaN:
 * any finite a is). */
int hp_ap_better(double a, double b, int maximize);

/* hp_ap_evaluate reads study study_id (called name) into *r; r->ok is 0
 * when it has no completed trial. Returns 0, or a negative hp_err with
 * err set when the database cannot be read. */
int hp_ap_evaluate(const hp_query_src_t *src, const hp_ap_objective_t *o, const char *name,
                   long long study_id, const hp_ap_config_t *cfg, hp_ap_result_t *r, char *err,
                   size_t errlen);

/* hp_ap_evidence appends a decision's evidence as one JSON object: the
 * round, the study and trial, action, the term addressed (term < 0:
 * null), the objective, the errors and the decomposition rep it was taken
 * on, the linear baseline, the best epoch and next_study (NULL: null). */
void hp_ap_evidence(const hp_ap_objective_t *o, int round, const hp_ap_result_t *r,
                    const hp_report_t *rep, const char *action, int term, const char *next,
                    hp_buf_t *b);

/* hp_ap_start_evidence appends the evidence of round 1's decision (action
 * start_simple) as one JSON object: round 1, its study, the objective,
 * the model and its size, whether the data picked it (picked_by:
 * "data" or "spec"), the data's kind (images, sequence, tabular) and a
 * sequence's steps and features, and next_study (the study itself). */
void hp_ap_start_evidence(const hp_ap_objective_t *o, const char *study, const hp_ap_config_t *c,
                          int user_model, hp_buf_t *b);

#endif
