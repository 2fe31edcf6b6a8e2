/* api_int.h — what the API's files share: statements that write rows as
 * JSON, and the study a path names. Private to coordinator/dash. */
#ifndef HP_DASH_API_INT_H
#define HP_DASH_API_INT_H

#include "api.h"

#include <sqlite3.h>
#include <stdint.h>

/* A study the path named. */
typedef struct dash_study {
    int64_t id;
    char name[HP_DASH_MAX_VALUE + 1];
    char metric[256];
    int maximize;
} dash_study_t;

/* dash_prepare prepares sql on db; on failure sets a 503 reply and
 * returns NULL. */
sqlite3_stmt *dash_prepare(sqlite3 *db, const char *sql, hp_dash_reply_t *rep);

/* dash_step steps s; SQLITE_ROW / SQLITE_DONE, or sets a 503 reply and
 * returns another code. */
int dash_step(sqlite3_stmt *s, hp_dash_reply_t *rep);

/* dash_json_col appends column i of the current row: NULL -> null,
 * numbers as numbers, text as a string, or as it is when the column's name
 * starts with "j:" (text that is JSON already, e.g. params). */
void dash_json_col(hp_buf_t *b, sqlite3_stmt *s, int i);

/* dash_json_row appends the current row as an object keyed by column name
 * (less any "j:" prefix). */
void dash_json_row(hp_buf_t *b, sqlite3_stmt *s);

/* dash_report answers /api/studies/NAME/report (api_report.c); the rest
 * of this header is api_rows.c. */
void dash_report(sqlite3 *db, const dash_study_t *st, const hp_dash_req_t *req,
                 hp_dash_reply_t *rep);

/* dash_importance answers /api/studies/NAME/importance (api_importance.c). */
void dash_importance(sqlite3 *db, const dash_study_t *st, const hp_dash_req_t *req,
                     hp_dash_reply_t *rep);

#endif
