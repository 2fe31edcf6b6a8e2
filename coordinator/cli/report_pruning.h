/*
 * report_pruning.h — what early stopping did in a study, for `hpsearch
 * report` (and `run`'s end): how many finished trials were pruned and at
 * which steps, and the steps used against running every finished trial to
 * the end. Read with SQL (query.h) from trials.pruned_step and the
 * metrics' steps.
 *
 * The end is pruning.max_resource when the spec has one (asha, hyperband),
 * else the highest step a completed trial reported (median). Steps used
 * are each finished trial's highest step reported, summed over its
 * attempts (a re-run costs again).
 *
 * With the rank check (pruning.min_rank_correlation), the latest
 * pruning_rung event of each rung says whether it cuts now, and why.
 */
#ifndef HP_CLI_REPORT_PRUNING_H
#define HP_CLI_REPORT_PRUNING_H

#include "buf.h"
#include "query.h"

#include <stddef.h>
#include <stdint.h>

#define HP_REPORT_PRUNE_STEPS 16 /* distinct stop steps listed; the rest as "other" */
#define HP_REPORT_PRUNE_RUNGS 8  /* rank check: rungs whose latest event is listed */

typedef struct hp_report_pruning {
    int on;             /* the study has a pruning rule */
    char rule[16];      /* "asha", ... */
    char metric[128];
    int64_t end;        /* the step a trial is complete at; 0 = unknown */
    size_t finished;    /* completed, pruned or failed trials */
    size_t pruned;
    size_t n_steps;     /* distinct steps pruned trials were stopped at */
    int64_t step[HP_REPORT_PRUNE_STEPS];
    size_t at[HP_REPORT_PRUNE_STEPS]; /* pruned trials stopped at step[i] */
    size_t at_other;                  /* beyond the steps listed, or step unknown */
    int64_t used;       /* steps the finished trials ran */
    int64_t full;       /* finished x end: had none been stopped */
    double min_rank_corr;  /* the rank check's threshold; 0 = no check */
    size_t n_rank;         /* rungs with a pruning_rung event */
    char rank[HP_REPORT_PRUNE_RUNGS][256]; /* each one's latest message, by rung */
} hp_report_pruning_t;

/* hp_report_pruning_read fills *out for study. 0, or the query's error. */
int hp_report_pruning_read(const hp_query_src_t *src, int64_t study, hp_report_pruning_t *out,
                           char *err, size_t errlen);

/* The summary as text lines (each starting with two spaces, after a
 * "pruning (...)" header line) and as a JSON object; "null" when off. */
void hp_report_pruning_text(const hp_report_pruning_t *p, hp_buf_t *out);
void hp_report_pruning_json(const hp_report_pruning_t *p, hp_buf_t *out);

#endif
