/* The coordinator's lifecycle: start-up and recovery, the tick that ends
 * every round of callbacks (scheduling, then tick.c's commit and replies),
 * the lease timer (attempt.c expires the leases, this file the workers),
 * checkpoints, and shutdown. The top floor: see coord_int.h. */
#include "coord_int.h"

#include "err.h"
#include "log.h"
#include "rundir.h"
#include "tls.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- ticks ------------------------------------------------------------- */

static void begin_shutdown(coord_t *c, const char *why);

/* uv_check: after each round of I/O callbacks — act on a requested
 * shutdown, schedule, then commit the tick's writes and send the replies
 * that acknowledge them (tick.c). */
static void on_tick(uv_check_t *h)
{
    coord_t *c = h->data;
    if (c->shutdown_why)
        begin_shutdown(c, c->shutdown_why);
    if (c->schedule_needed && !c->shutting_down) {
        c->schedule_needed = 0;
        coord_asks_serve(c); /* before the workers: a user waits on each */
        coord_schedule(c);
        /* the schedule found the database changed under us: stop now, not
         * after the next callback, which may be a while away */
        if (c->shutdown_why)
            begin_shutdown(c, c->shutdown_why);
    }
    if (coord_tick_commit(c) < 0) {
        c->exit_code = 1;
        begin_shutdown(c, "database commit failed");
    } else {
        coord_status_committed(c);
    }
    /* the WAL is copied back long before it grows large (checkpoint.c) */
    coord_checkpoint_maybe(c, COORD_CHECKPOINT_PAGES);
}

/* How late the lease timer may fire before the lateness is logged as a
 * stall of the loop (it is taken off the lease clock whatever its size). */
#define STALL_LOG_MS 1000

static void on_lease_timer(uv_timer_t *h)
{
    coord_t *c = h->data;
    /* A timer late by D ms means the loop stood still for D ms (a callback
     * ran long, or the process was not scheduled): heartbeats that came
     * meanwhile wait in the sockets' queues, unread. Those D ms are no
     * worker's silence, so the lease clock does not count them; the
     * waiting messages are read right after this callback. */
    uint64_t raw = uv_now(c->loop);
    if (raw > c->lease_timer_due) {
        uint64_t late = raw - c->lease_timer_due;
        coord_clock_stalled(c, late);
        if (late >= STALL_LOG_MS)
            hp_log_warn("the daemon's loop was blocked for about %llu ms; leases and worker "
                        "silences do not count that time",
                        (unsigned long long)late);
    }
    uint64_t period = (uint64_t)c->cfg.lease_ms / 4;
    c->lease_timer_due = raw + (period ? period : 1);
    coord_attempts_expire(c);
    uint64_t now = coord_now_ms(c);
    for (size_t i = 0; i < c->workers.n; i++) {
        coord_worker_t *w = &c->workers.v[i];
        /* one not heard from since the restart may be redialling slowly */
        uint64_t silence = w->restored ? coord_restart_grace_ms(c) : (uint64_t)c->cfg.lease_ms;
        if (w->alive && w->last_seen_ms + silence <= now) {
            w->alive = 0;
            char err[256];
            hp_log_warn("worker %s (%s) lost: silent for %llu ms%s", w->id_str, w->host,
                        (unsigned long long)silence, w->restored ? " since the restart" : "");
            if (coord_write_begin(c) == 0) {
                hp_store_worker_set_state(c->store, w->id_str, HP_WORKER_LOST, err, sizeof err);
                hp_store_event_append(c->store, "worker_lost", 0, 0, w->id_str, NULL, err,
                                      sizeof err);
            }
        }
    }
}

static void on_checkpoint_timer(uv_timer_t *h)
{
    coord_checkpoint_maybe(h->data, 0);
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void on_linger_done(uv_timer_t *h)
{
    coord_t *c = h->data;
    coord_queries_drop(c); /* their requests go with the control socket */
    coord_status_drop(c);
    hp_rep_close(c->workers_rep);
    hp_rep_close(c->control_rep);
    c->workers_rep = c->control_rep = NULL;
    close_handle((uv_handle_t *)&c->lease_timer);
    close_handle((uv_handle_t *)&c->checkpoint_timer);
    close_handle((uv_handle_t *)&c->tick);
    close_handle((uv_handle_t *)&c->sigterm);
    close_handle((uv_handle_t *)&c->sigint);
    close_handle((uv_handle_t *)h);
}

static void begin_shutdown(coord_t *c, const char *why)
{
    if (c->shutting_down)
        return;
    c->shutting_down = 1;
    hp_log_info("shutting down (%s): running trials stay recorded and resume on restart", why);
    coord_held_release(c, 1);
    coord_asks_release(c, why);
    coord_queries_stop(c);
    uv_timer_stop(&c->lease_timer);
    /* let the last replies leave before the sockets close */
    uv_timer_init(c->loop, &c->linger_timer);
    c->linger_timer.data = c;
    uv_timer_start(&c->linger_timer, on_linger_done, 200, 0);
}

static void on_signal(uv_signal_t *h, int signum)
{
    coord_t *c = h->data;
    begin_shutdown(c, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* ---- start-up ---------------------------------------------------------- */

typedef struct {
    int64_t value;
} scalar_t;

static int scalar_cb(void *data, int ncol, const char *const *names, const char *const *values,
                     const int *types)
{
    (void)names;
    (void)types;
    scalar_t *s = data;
    if (values && ncol > 0 && values[0])
        s->value = strtoll(values[0], NULL, 10);
    return 0;
}

static int query_int(coord_t *c, const char *sql, int64_t *out)
{
    scalar_t s = {0};
    char err[256];
    int rc = hp_store_exec_query(c->store, sql, scalar_cb, &s, err, sizeof err);
    if (rc < 0)
        hp_log_error("%s: %s", sql, err);
    *out = s.value;
    return rc;
}

typedef struct {
    coord_t *c;
    int rc;
    char *err;
    size_t errlen;
} recover_t;

static int load_study_cb(void *data, const hp_study_t *study)
{
    recover_t *rv = data;
    if (study->state != HP_STUDY_RUNNING)
        return 0;
    char err[512];
    if (coord_study_load(rv->c, study->id, err, sizeof err) == 0)
        return 0;
    /* One bad study must not keep the others from resuming; and left
     * 'running' in the file it would keep `hpsearch wait` and `run` waiting
     * for a study nobody runs. It ends failed, with why (hpsearch resume can
     * continue it once the cause is mended). */
    hp_log_error("cannot resume study %s: %s", study->name, err);
    char reason[600], e2[256];
    snprintf(reason, sizeof reason, "cannot resume: %s", err);
    if (hp_store_study_set_state(rv->c->store, study->id, HP_STUDY_FAILED, reason, e2,
                                 sizeof e2) < 0)
        hp_log_error("cannot mark study %s failed: %s", study->name, e2);
    return 0;
}

static int load_run_cb(void *data, const hp_trial_t *t)
{
    recover_t *rv = data;
    coord_t *c = rv->c;
    coord_study_t *s = coord_study_by_id(c, t->study_id);
    if (!s)
        return 0;
    /* an asked trial has no worker and no lease to expire: it stays
     * running until the user tells its result (study.c counts it) */
    if (!t->worker_id)
        return 0;
    /* We cannot vouch for this lease: give its worker the restart grace
     * (a lease, plus its longest wait between dials) to renew it after
     * reconnecting (a worker that ran on while we were down delivers its
     * result), then the lease timer re-queues it as interrupted: our
     * stop, not the trial, ended it (attempt.c). */
    coord_run_t r = {
        .trial_id = t->id,
        .lease_id = t->lease_id,
        .attempt = t->attempts,
        .number = (uint64_t)t->number,
        .worker_id = t->worker_id ? strtoull(t->worker_id, NULL, 10) : 0,
        .expires_ms = coord_now_ms(c) + coord_restart_grace_ms(c),
        .study = s,
        /* which attempt was left to compute the baselines is not stored:
         * any might be, so none other starts until these end without */
        .baselines = s->baselines == COORD_BASELINES_NEED,
        .recovered = 1,
    };
    coord_prune_loaded(&r);
    coord_run_add(c, &r);
    return 0;
}

static int recover(coord_t *c, char *err, size_t errlen)
{
    int64_t v;
    if (query_int(c, "SELECT coalesce(max(CAST(id AS INTEGER)), 0) FROM workers", &v) < 0)
        return hp_errf(err, errlen, HP_EDB, "cannot read the last worker id");
    c->next_worker_id = (uint64_t)v + 1;
    recover_t rv = {c, 0, err, errlen};
    int rc = hp_store_study_list(c->store, load_study_cb, &rv, err, errlen);
    if (rc < 0)
        return rc;
    rc = hp_store_trial_list(c->store, 0, HP_TRIAL_MASK(HP_TRIAL_RUNNING), load_run_cb, &rv, err,
                             errlen);
    if (rc < 0)
        return rc;
    if ((rc = coord_sessions_restore(c, err, errlen)) < 0)
        return rc;
    if (c->studies.n)
        hp_log_info("resumed %zu running studies with %zu trials in flight", c->studies.n,
                    c->runs.n);
    return 0;
}

/* Takes the database's lock (lockfile.h) before anything opens the file,
 * so no second coordinator ever writes beside this one. hpsearch run
 * names itself the holder (lock-owner): the user knows it, not the
 * private hpsearchd it started. */
static int lock_db(coord_t *c)
{
    char err[1024];
    hp_lock_owner_t me;
    hp_lock_owner_self(&me, "hpsearchd");
    if (*c->cfg.lock_owner && hp_lock_owner_parse(&me, c->cfg.lock_owner, err, sizeof err) < 0) {
        hp_log_error("%s", err); /* the settings table checked it already */
        return HP_EINVAL;
    }
    int rc = hp_lockfile_acquire(&c->lock, c->cfg.db, &me, NULL, err, sizeof err);
    if (rc < 0)
        hp_log_error("%s", err);
    else
        hp_log_debug("database %s locked (%s)", c->cfg.db, c->lock.path);
    return rc;
}

/* Refuses a database that cannot be written — the file, its -wal or -shm,
 * or its folder read-only — naming which, before anything (the lock file
 * among them) is created beside it: on one, the daemon would say ready and
 * then fail every write. */
static int check_writable(coord_t *c)
{
    char err[1024];
    int rc = hp_store_check_writable(c->cfg.db, err, sizeof err);
    if (rc < 0)
        hp_log_error("cannot use the database %s: %s; the coordinator must write there "
                     "(readers need no daemon: hpsearch sql --db %s)",
                     c->cfg.db, err, c->cfg.db);
    return rc;
}

/* What a damaged database's refusal tells the user to do. */
static void damaged(const char *db, const char *what)
{
    hp_log_error("the database %s is damaged (%s); refusing to serve it. Restore it from a "
                 "backup, or salvage what is readable into a new file: sqlite3 %s .recover | "
                 "sqlite3 recovered.db, then start hpsearchd on that",
                 db, what, db);
}

/* Opens the database — refused when damaged (quick_check) — and resumes
 * the studies and leases it records; then the connections that work off
 * the loop (user queries, checkpoints). */
static int open_store(coord_t *c)
{
    const hp_coord_config_t *cfg = &c->cfg;
    char err[1024];
    unsigned flags = HP_STORE_CREATE | HP_STORE_MANUAL_CHECKPOINT;
    if (strcmp(cfg->synchronous, "normal") == 0)
        flags |= HP_STORE_SYNC_NORMAL;
    int rc = hp_store_open(&c->store, cfg->db, flags, err, sizeof err);
    if (rc == HP_ECORRUPT) {
        damaged(cfg->db, err);
        return rc;
    }
    if (rc < 0) {
        hp_log_error("cannot open the database %s: %s", cfg->db, err);
        return rc;
    }
    if ((rc = hp_store_quick_check(c->store, err, sizeof err)) < 0) {
        damaged(cfg->db, err);
        return rc;
    }
    hp_store_set_query_limit(c->store, (double)cfg->query_timeout_s);
    if ((rc = recover(c, err, sizeof err)) < 0) {
        hp_log_error("cannot recover from %s: %s", cfg->db, err);
        return rc;
    }
    if ((rc = coord_queries_open(c, err, sizeof err)) < 0 ||
        (rc = coord_status_open(c, err, sizeof err)) < 0 ||
        (rc = coord_checkpoint_open(c, err, sizeof err)) < 0)
        hp_log_error("cannot open the database %s a second time: %s", cfg->db, err);
    return rc;
}

/* Opens the workers' and the control socket, with their request handlers
 * (worker_msgs.c, control.c). */
static int open_sockets(coord_t *c)
{
    const hp_coord_config_t *cfg = &c->cfg;
    char err[1024], warn[1024];
    /* nng copies what it needs into each listener: the files are read once */
    hp_tls_t *tls = NULL;
    hp_tls_files_t files = {cfg->tls_ca, cfg->tls_cert, cfg->tls_key};
    int rc = 0;
    if (hp_tls_wanted(&files)) {
        /* an engine that names who failed a handshake, and why */
        if (hp_tls_engine_install(err, sizeof err) < 0)
            hp_log_warn("%s; refused TLS handshakes are only counted", err);
        rc = hp_tls_new(&tls, HP_TLS_SERVER, &files, warn, sizeof warn, err, sizeof err);
        if (rc < 0) {
            hp_log_error("TLS: %s", err);
            return rc;
        }
        for (char *w = warn, *nl; *w; w = nl ? nl + 1 : w + strlen(w)) {
            nl = strchr(w, '\n');
            hp_log_warn("TLS: %.*s", nl ? (int)(nl - w) : (int)strlen(w), w);
        }
    }
    rc = hp_rep_open_tls(&c->workers_rep, c->loop, "workers", cfg->listen, tls,
                         (unsigned)cfg->worker_contexts, coord_on_worker_request,
                         coord_on_worker_pipe_closed, c, err, sizeof err);
    if (rc < 0) {
        hp_tls_free(tls);
        hp_log_error("workers socket: %s", err);
        return rc;
    }
    rc = hp_rep_open_tls(&c->control_rep, c->loop, "control", cfg->control, tls,
                         (unsigned)cfg->control_contexts, coord_on_control_request, NULL, c, err,
                         sizeof err);
    hp_tls_free(tls);
    if (rc < 0) {
        hp_log_error("control socket: %s", err);
        hp_rep_close(c->workers_rep);
        c->workers_rep = NULL;
        uv_run(c->loop, UV_RUN_NOWAIT);
    }
    return rc;
}

/* Tells local clients where this daemon's token is (rundir.h), so that
 * hpsearch and hpworker on this host need no --token-file. */
static void publish_token(coord_t *c)
{
    const hp_coord_config_t *cfg = &c->cfg;
    if (cfg->token_created)
        hp_log_info("created the token file %s (mode 0600): clients on this host find it by "
                    "themselves; give it to remote ones with --token-file",
                    cfg->token_path);
    char err[1200];
    const char *urls[2] = {cfg->listen, cfg->control};
    for (int i = 0; i < 2; i++)
        if (hp_rundir_publish(urls[i], cfg->token_path, err, sizeof err) < 0) {
            hp_log_warn("cannot publish where the token is (%s); local clients need "
                        "--token-file %s",
                        err, cfg->token_path);
            break;
        }
}

static void unpublish_token(coord_t *c)
{
    hp_rundir_unpublish(c->cfg.listen);
    hp_rundir_unpublish(c->cfg.control);
}

/* Starts the tick, the lease and checkpoint timers and the signals. */
static void start_handles(coord_t *c)
{
    const hp_coord_config_t *cfg = &c->cfg;
    uv_check_init(c->loop, &c->tick);
    c->tick.data = c;
    uv_check_start(&c->tick, on_tick);
    uv_timer_init(c->loop, &c->lease_timer);
    c->lease_timer.data = c;
    uint64_t period = (uint64_t)cfg->lease_ms / 4;
    c->lease_timer_due = uv_now(c->loop) + period;
    uv_timer_start(&c->lease_timer, on_lease_timer, period, period ? period : 1);
    uv_timer_init(c->loop, &c->checkpoint_timer);
    c->checkpoint_timer.data = c;
    uv_timer_start(&c->checkpoint_timer, on_checkpoint_timer, (uint64_t)cfg->checkpoint_s * 1000,
                   (uint64_t)cfg->checkpoint_s * 1000);
    uv_signal_init(c->loop, &c->sigterm);
    c->sigterm.data = c;
    uv_signal_start(&c->sigterm, on_signal, SIGTERM);
    uv_signal_init(c->loop, &c->sigint);
    c->sigint.data = c;
    uv_signal_start(&c->sigint, on_signal, SIGINT);
}

/* After the loop: the last writes committed, the log checkpointed, and
 * everything freed once the closed handles have finished. */
static void close_all(coord_t *c)
{
    char err[1024];
    /* the loop ran every work request to its end: nothing runs on these */
    coord_queries_close(c);
    coord_status_close(c);
    coord_checkpoint_close(c);
    if (c->store) {
        if (hp_store_in_group(c->store))
            hp_store_commit(c->store, err, sizeof err);
        hp_store_checkpoint(c->store, 1, err, sizeof err);
        hp_store_close(c->store);
    }
    hp_lockfile_release(&c->lock); /* after the last write */
    for (size_t i = 0; i < c->studies.n; i++)
        coord_study_free(c->studies.v[i]);
    free(c->studies.v);
    for (size_t i = 0; i < c->runs.n; i++)
        coord_run_free(&c->runs.v[i]);
    free(c->runs.v);
    free(c->workers.v);
    free(c->held.v);
    free(c->asks.v);
    free(c->outbox.v);
    hp_ratelimit_fini(&c->auth_limit);
    uv_run(c->loop, UV_RUN_DEFAULT); /* let closed handles finish */
    uv_loop_close(c->loop);
}

int hp_coord_main(const hp_coord_config_t *cfg)
{
    coord_t *c = calloc(1, sizeof *c);
    HP_ASSERT(c != NULL);
    c->cfg = *cfg;
    hp_log_set_ident("hpsearchd");
    hp_log_set_level((hp_log_level_t)hp_log_level_parse(cfg->log_level));
    uv_loop_t loop;
    uv_loop_init(&loop);
    c->loop = &loop;
    hp_ratelimit_init(&c->auth_limit, (uint32_t)cfg->auth_fail_limit);

    if (check_writable(c) < 0 || lock_db(c) < 0 || open_store(c) < 0 || open_sockets(c) < 0) {
        c->exit_code = 1;
    } else {
        start_handles(c);
        publish_token(c);
        hp_log_info("ready: workers on %s, control on %s, database %s (token in %s)",
                    cfg->listen, cfg->control, cfg->db, cfg->token_path);
        c->schedule_needed = 1;
        uv_run(c->loop, UV_RUN_DEFAULT);
        unpublish_token(c);
    }
    close_all(c);
    int code = c->exit_code;
    free(c);
    hp_log_info("stopped");
    return code;
}
