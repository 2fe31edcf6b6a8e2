/* WAL checkpoints, mostly off the loop. The loop's connection never
 * checkpoints by itself (HP_STORE_MANUAL_CHECKPOINT): copying a large WAL
 * back into the database, with its fsyncs, would stall the loop. Instead,
 * when the WAL has grown to COORD_CHECKPOINT_PAGES after a commit (and
 * every checkpoint-s seconds), a work thread runs a PASSIVE checkpoint on
 * a read-write connection of its own. PASSIVE never takes the write lock
 * and never waits for readers, so the loop keeps writing meanwhile. Once
 * every frame is copied and no reader holds an older snapshot, the loop's
 * next commit starts the WAL again from its beginning, and a WAL file that
 * grew past HP_STORE_WAL_LIMIT is truncated then (journal_size_limit). A
 * reader (a user query, within its time budget) only delays that. Under a
 * steady stream of commits the loop copies the last few frames itself
 * (coord_checkpoint_maybe). */
#include "coord_int.h"

#include "err.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

/* on the work thread: the checkpointer's connection only */
static void run_checkpoint(uv_work_t *w)
{
    coord_checkpointer_t *k = w->data;
    k->err[0] = '\0';
    k->rc = hp_store_checkpoint_stats(k->conn, &k->log, &k->done, k->err, sizeof k->err);
}

static void checkpoint_done(uv_work_t *w, int status)
{
    (void)status;
    coord_checkpointer_t *k = w->data;
    k->running = 0;
    /* everything up to its start is in the database: what the loop wrote
     * meanwhile is all that keeps the WAL from restarting */
    k->caught_up = k->rc == 0 && k->log > 0 && k->done == k->log;
    if (k->rc < 0)
        hp_log_debug("checkpoint: %s", k->err);
    else if (k->log > 0)
        hp_log_debug("checkpoint: %d of %d WAL frames in the database", k->done, k->log);
}

int coord_checkpoint_open(coord_t *c, char *err, size_t errlen)
{
    unsigned flags = HP_STORE_MANUAL_CHECKPOINT;
    if (strcmp(c->cfg.synchronous, "normal") == 0)
        flags |= HP_STORE_SYNC_NORMAL;
    c->ckpt.work.data = &c->ckpt;
    return hp_store_open(&c->ckpt.conn, c->cfg.db, flags, err, errlen);
}

void coord_checkpoint_maybe(coord_t *c, unsigned min_pages)
{
    coord_checkpointer_t *k = &c->ckpt;
    unsigned pages = hp_store_wal_pages(c->store);
    if (pages > k->peak_pages)
        k->peak_pages = pages;
    if (!k->conn || k->running || c->shutting_down || pages == 0 || pages < min_pages)
        return;
    /* Under a steady stream of commits a checkpoint off the loop never
     * finds the WAL still: it copies what was there when it began while
     * the loop appends more, so the WAL never restarts and grows on. Once
     * it has caught up with its start, the loop copies the few frames
     * written since itself (a short PASSIVE checkpoint between ticks),
     * and its next commit restarts the WAL. */
    if (k->caught_up && min_pages && !hp_store_in_group(c->store)) {
        k->caught_up = 0;
        int log = -1, done = -1;
        char err[256];
        if (hp_store_checkpoint_stats(c->store, &log, &done, err, sizeof err) < 0)
            hp_log_debug("checkpoint on the loop: %s", err);
        else
            hp_log_debug("checkpoint on the loop: %d of %d WAL frames in the database", done,
                         log);
        return;
    }
    /* a WAL a reader keeps from restarting stays large: check again only
     * once it has grown by a quarter step more (or restarted) */
    if (min_pages && pages >= k->started_pages && pages < k->started_pages + min_pages / 4)
        return;
    if (uv_queue_work(c->loop, &k->work, run_checkpoint, checkpoint_done) == 0) {
        k->running = 1;
        k->started_pages = pages;
    }
}

void coord_checkpoint_close(coord_t *c)
{
    HP_ASSERT(!c->ckpt.running);
    if (c->ckpt.peak_pages)
        hp_log_info("WAL peak: %u pages after a commit", c->ckpt.peak_pages);
    hp_store_close(c->ckpt.conn);
    c->ckpt.conn = NULL;
}
