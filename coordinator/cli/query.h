/*
 * query.h — read-only SQL for the verbs that read results (`sql`, `trials`,
 * `best`): through the coordinator (QUERY on the control socket) or, with
 * --db PATH, straight from the database file opened read-only. Either way
 * the rows land in an hp_table_t whose cells are JSON value texts.
 *
 *     hp_table_t t;
 *     hp_query_src_t src = {.cli = cli, .db = db_path_or_NULL};
 *     if (hp_query_run(&src, "SELECT number, value FROM trials", 0, &t, &trunc,
 *                      err, sizeof err) < 0) ...
 *
 * A study is named by its spec's name or its id (hp_query_study).
 */
#ifndef HP_CLI_QUERY_H
#define HP_CLI_QUERY_H

#include "buf.h"
#include "cli.h"
#include "output.h"

#include <stdint.h>

typedef struct hp_query_src {
    const hp_cli_t *cli;
    const char *db; /* --db PATH, or NULL for the coordinator */
} hp_query_src_t;

/* hp_query_run runs sql and fills *t (initialised here; hp_table_fini it,
 * also on failure). max_rows 0 = no limit locally / the coordinator's limit.
 * *truncated (may be NULL) says whether rows were cut. Returns 0 or a
 * negative hp_err with err a sentence: HP_EREADONLY for a writing
 * statement, HP_EINVAL for bad SQL, HP_ECONNREFUSED / HP_ETIMEDOUT for an
 * unreachable coordinator, HP_ENOENT for a missing database file. */
int hp_query_run(const hp_query_src_t *src, const char *sql, uint32_t max_rows, hp_table_t *t,
                 int *truncated, char *err, size_t errlen);

/* What the verbs need to know about a study. */
typedef struct hp_query_study {
    int64_t id;
    char name[256];
    char state[32];
    char goal[16]; /* "minimize" | "maximize" */
    char metric[256];
    int64_t max_trials;
} hp_query_study_t;

/* hp_query_study finds the study called name_or_id (an all-digit argument
 * is tried as an id first, then as a name). HP_ENOENT: "no study named
 * 'X'", followed by " (did you mean 'Y'?)" when a stored name is close. */
int hp_query_study(const hp_query_src_t *src, const char *name_or_id, hp_query_study_t *out,
                   char *err, size_t errlen);

/* hp_query_no_study returns HP_ENOENT with err "no study named 'NAME'" and,
 * when a stored name is close (common/suggest.h), " (did you mean 'X'?)" —
 * the words the daemon uses (coord_reply_no_study), so --db says the same. */
int hp_query_no_study(const hp_query_src_t *src, const char *name, char *err, size_t errlen);

/* hp_query_sanity_verdict puts the study's latest sanity-check verdict
 * (the events table, kind sanity_check: "PASS: ..." or "FAIL: ...", with
 * any warning) in out; 1 if there is one, 0 if not or unreadable. */
int hp_query_sanity_verdict(const hp_query_src_t *src, long long study, hp_buf_t *out);

/* hp_sql_quote appends s as an SQL string literal ('it''s'). */
void hp_sql_quote(hp_buf_t *b, const char *s);

#endif
