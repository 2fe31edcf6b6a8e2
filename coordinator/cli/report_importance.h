/*
 * report_importance.h — a study's parameter importance (coordinator/
 * importance) for `hpsearch importance` and the importance section of
 * `hpsearch report`: the stored spec and the completed, feasible trials'
 * params and values read with SQL (query.h), through the coordinator or
 * the database file, then ranked.
 *
 *     hp_importance_t imp;
 *     hp_importance_opts_t o = hp_importance_defaults();
 *     if (hp_report_importance_read(&src, study_id, &o, &imp, &trunc, err, sizeof err) < 0)
 *         ... err says why (too few trials, unreadable spec, the query's error)
 *     hp_importance_fini(&imp);
 */
#ifndef HP_CLI_REPORT_IMPORTANCE_H
#define HP_CLI_REPORT_IMPORTANCE_H

#include "importance.h"
#include "query.h"

#include <stdint.h>

/* hp_report_importance_read ranks study's parameters into *imp (zeroed on
 * failure). *truncated (may be NULL) is set when the coordinator's row
 * limit cut the trials (the ranking then covers the first ones). Returns
 * 0, or a negative hp_err with err a sentence. */
int hp_report_importance_read(const hp_query_src_t *src, int64_t study,
                              const hp_importance_opts_t *o, hp_importance_t *imp,
                              int *truncated, char *err, size_t errlen);

#endif
