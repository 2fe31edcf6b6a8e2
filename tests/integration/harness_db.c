/* harness_db.c — what a test reads of the database: read-only, with the
 * sqlite3 library, as users' readers do while the daemon writes. */
#include "harness.h"

#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

long hp_harness_db_int(const char *db, const char *sql)
{
    char text[64];
    if (!hp_harness_db_text(db, sql, text, sizeof text))
        return -1;
    return strtol(text, NULL, 10);
}

const char *hp_harness_db_text(const char *db, const char *sql, char *out, size_t cap)
{
    sqlite3 *d;
    const char *got = NULL;
    if (sqlite3_open_v2(db, &d, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(d, 10000);
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(d, sql, -1, &s, NULL) == SQLITE_OK) {
            if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
                snprintf(out, cap, "%s", (const char *)sqlite3_column_text(s, 0));
                got = out;
            }
            sqlite3_finalize(s);
        }
    }
    sqlite3_close(d);
    return got;
}

void hp_harness_wait_db(const char *db, const char *sql, long want, int timeout_s)
{
    long v = -1;
    struct timespec ts = {0, 50 * 1000000L};
    for (int i = 0; i < timeout_s * 20 && (v = hp_harness_db_int(db, sql)) < want; i++)
        nanosleep(&ts, NULL);
    ck_assert_msg(v >= want, "%s: %ld, waited for %ld", sql, v, want);
}
