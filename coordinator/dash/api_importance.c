/* /api/studies/NAME/importance: the study's parameters ranked by fANOVA on
 * a random forest (coordinator/importance), computed on the dashboard's
 * own thread from its read-only connection, never on the daemon's loop.
 * At most HP_DASH_MAX_IMPORTANCE trials (the latest completed, feasible
 * ones) enter the forest, so a page of a huge study stays quick, and a
 * ranking is kept until the study's completed trials change: a running
 * study's polls (every 1.5 s, each a new database state, so the server's
 * reply cache misses) do not refit a forest that would come out the same. */
#include "api_int.h"

#include "importance.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the inputs a ranking was computed from: the same database file, study,
 * number of completed feasible trials and highest such trial number give
 * the same trials, hence the same reply */
typedef struct imp_key {
    char file[512];
    int64_t study;
    long long completed, last;
} imp_key_t;

#define IMP_CACHE_SLOTS 8

static struct {
    pthread_mutex_t mu;
    imp_key_t key[IMP_CACHE_SLOTS];
    char *body[IMP_CACHE_SLOTS];
    int next;
} cache = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int cache_get(const imp_key_t *k, hp_buf_t *out)
{
    int hit = 0;
    pthread_mutex_lock(&cache.mu);
    for (int i = 0; i < IMP_CACHE_SLOTS && !hit; i++)
        if (cache.body[i] && memcmp(&cache.key[i], k, sizeof *k) == 0) {
            hp_buf_puts(out, cache.body[i]);
            hit = 1;
        }
    pthread_mutex_unlock(&cache.mu);
    return hit;
}

static void cache_put(const imp_key_t *k, const char *body)
{
    char *copy = strdup(body);
    if (!copy)
        return;
    pthread_mutex_lock(&cache.mu);
    free(cache.body[cache.next]);
    cache.key[cache.next] = *k;
    cache.body[cache.next] = copy;
    cache.next = (cache.next + 1) % IMP_CACHE_SLOTS;
    pthread_mutex_unlock(&cache.mu);
}

void dash_importance(sqlite3 *db, const dash_study_t *st, const hp_dash_req_t *req,
                     hp_dash_reply_t *rep)
{
    static const char *const names[] = {NULL};
    char err[512];
    if (hp_dash_req_check_names(req, names, err, sizeof err) < 0) {
        char param[33];
        snprintf(param, sizeof param, "%.*s", (int)strcspn(err, ":"), err);
        hp_dash_reply_error(rep, 400, "BAD_PARAM", param, err);
        return;
    }
    imp_key_t key;
    memset(&key, 0, sizeof key);
    const char *file = sqlite3_db_filename(db, "main");
    snprintf(key.file, sizeof key.file, "%s", file ? file : "");
    key.study = st->id;
    sqlite3_stmt *s = dash_prepare(db,
                                   "SELECT count(*), ifnull(max(number), -1) FROM trials"
                                   " WHERE study_id = ?1 AND state = 'completed'"
                                   " AND infeasible IS NULL",
                                   rep);
    if (!s)
        return;
    sqlite3_bind_int64(s, 1, st->id);
    if (dash_step(s, rep) == SQLITE_ROW) {
        key.completed = sqlite3_column_int64(s, 0);
        key.last = sqlite3_column_int64(s, 1);
    }
    sqlite3_finalize(s);
    if (rep->status != 200 || cache_get(&key, &rep->body))
        return;
    long long total = key.completed;
    s = dash_prepare(db, "SELECT spec_json FROM studies WHERE id = ?1", rep);
    if (!s)
        return;
    sqlite3_bind_int64(s, 1, st->id);
    hp_importance_input_t in = {0};
    int rc = dash_step(s, rep);
    int ok = rc == SQLITE_ROW &&
             hp_importance_input_init(&in, (const char *)sqlite3_column_text(s, 0),
                                      (size_t)sqlite3_column_bytes(s, 0), err, sizeof err) == 0;
    sqlite3_finalize(s);
    if (rep->status != 200) {
        hp_importance_input_fini(&in);
        return;
    }
    if (ok) {
        s = dash_prepare(db,
                         "SELECT params, value FROM (SELECT number, params, value FROM trials"
                         " WHERE study_id = ?1 AND state = 'completed' AND infeasible IS NULL"
                         " ORDER BY number DESC LIMIT ?2) ORDER BY number",
                         rep);
        if (!s) {
            hp_importance_input_fini(&in);
            return;
        }
        sqlite3_bind_int64(s, 1, st->id);
        sqlite3_bind_int64(s, 2, HP_DASH_MAX_IMPORTANCE);
        while ((rc = dash_step(s, rep)) == SQLITE_ROW)
            hp_importance_input_add(&in, (const char *)sqlite3_column_text(s, 0),
                                    sqlite3_column_type(s, 1) == SQLITE_NULL
                                        ? NAN
                                        : sqlite3_column_double(s, 1));
        sqlite3_finalize(s);
        if (rep->status != 200) {
            hp_importance_input_fini(&in);
            return;
        }
    }
    hp_importance_t imp;
    hp_importance_opts_t o = hp_importance_defaults();
    if (ok)
        ok = hp_importance_compute(&in, &o, &imp, err, sizeof err) == 0;
    hp_importance_input_fini(&in);
    hp_buf_t *b = &rep->body;
    hp_buf_puts(b, "{\"study\":");
    hp_buf_json_string(b, st->name);
    hp_buf_printf(b, ",\"completed\":%lld,\"limit\":%d,\"importance\":", total,
                  HP_DASH_MAX_IMPORTANCE);
    if (ok) {
        hp_importance_json(&imp, b);
        hp_importance_fini(&imp);
    } else {
        /* not a failed request: the page shows why there is no ranking */
        hp_buf_printf(b, "{\"method\":\"fANOVA (random forest, %zu trees)\",\"error\":",
                      o.n_trees);
        hp_buf_json_string(b, err);
        hp_buf_puts(b, ",\"params\":[]}");
    }
    hp_buf_puts(b, "}\n");
    cache_put(&key, b->data);
}
