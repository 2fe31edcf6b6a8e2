/* The tick: the coordinator's unit of work. Requests arrive decoded and
 * authenticated; whatever a tick's handlers write goes into one
 * transaction; the replies they compute wait in the outbox and leave only
 * after that transaction commits, so no acknowledgement ever precedes the
 * durable write it acknowledges. coord.c runs the tick (uv_check); every
 * handler uses what is here. */
#include "coord_int.h"

#include "err.h"
#include "log.h"
#include "suggest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_auth(coord_t *c, const Hpsearch__Envelope *e)
{
    if (c->cfg.token_len == 0)
        return 1;
    return hp_proto_token_equal(&e->auth_token, c->cfg.token, c->cfg.token_len);
}

Hpsearch__Envelope *coord_decode_request(coord_t *c, hp_rep_req_t *req, const void *buf,
                                         size_t len, const char *socket)
{
    Hpsearch__Envelope *e;
    char err[512];
    int rc = hp_proto_decode(buf, len, &e, err, sizeof err);
    if (rc < 0) {
        hp_log_warn("%s socket: refused a %zu-byte message: %s", socket, len, err);
        coord_reply_error(c, req, rc, "%s", err);
        return NULL;
    }
    if (!check_auth(c, e)) {
        hp_log_warn("%s socket: %s with a missing or wrong token", socket,
                    hp_proto_type_name(e->type));
        coord_reply_error(c, req, HP_EAUTH, "missing or wrong auth token");
        hp_proto_free(e);
        return NULL;
    }
    return e;
}

/* Stops the daemon for its database: no write begins any more (so what it
 * believed can do no more harm), exit status 1, and the shutdown begins at
 * the end of this round of callbacks (coord.c). Sets shutdown_why itself:
 * state.c is beside this file, not below it. */
static void db_fault(coord_t *c, const char *why, const char *msg)
{
    hp_log_error("%s", msg);
    c->db_fault = 1;
    c->exit_code = 1;
    if (!c->shutdown_why)
        c->shutdown_why = why;
}

void coord_db_changed(coord_t *c, const char *fmt, ...)
{
    char what[1024], msg[2200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(msg, sizeof msg, "database %s changed under the coordinator: %s; stopping",
             c->cfg.db, what);
    db_fault(c, "the database changed under the coordinator", msg);
}

/* The words for a write that failed: why the daemon stops, and that
 * nothing committed is lost. */
static void write_failed(coord_t *c, const char *what)
{
    char msg[2200];
    snprintf(msg, sizeof msg,
             "cannot write to the database %s: %s; stopping (a restart recovers from the last "
             "commit)",
             c->cfg.db, what);
    db_fault(c, "a database write failed", msg);
}

int coord_store_failed(coord_t *c, int rc, const char *fmt, ...)
{
    if (rc == HP_EINVAL)
        return 0;
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (rc == HP_ESTATE || rc == HP_ENOENT || rc == HP_EEXIST)
        coord_db_changed(c, "%s", what);
    else
        write_failed(c, what);
    return 1;
}

int coord_write_begin(coord_t *c)
{
    /* refused even inside an open group: nothing more is decided on what
     * the database no longer says */
    if (c->db_fault)
        return HP_ESTATE;
    if (hp_store_in_group(c->store))
        return 0;
    char err[256];
    int rc = hp_store_begin(c->store, err, sizeof err);
    if (rc < 0) {
        char what[300];
        snprintf(what, sizeof what, "cannot begin a transaction: %s", err);
        write_failed(c, what);
    }
    return rc;
}

void coord_reply(coord_t *c, hp_rep_req_t *req, Hpsearch__Envelope *env)
{
    coord_reply_t r = {.req = req};
    int rc = hp_proto_encode(env, &r.buf);
    if (rc < 0) {
        hp_log_error("cannot encode a %s reply", hp_proto_type_name(env->type));
        hp_proto_encode_error(&r.buf, HP_EINVAL, "internal error: reply too large");
    }
    HP_VEC_PUSH(c->outbox, r);
}

void coord_reply_buf(coord_t *c, hp_rep_req_t *req, hp_buf_t *buf)
{
    coord_reply_t r = {.req = req, .buf = *buf};
    *buf = (hp_buf_t){0};
    HP_VEC_PUSH(c->outbox, r);
}

void coord_reply_error(coord_t *c, hp_rep_req_t *req, int code, const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    coord_reply_t r = {.req = req};
    hp_proto_encode_error(&r.buf, code, msg);
    HP_VEC_PUSH(c->outbox, r);
}

void coord_reply_ack(coord_t *c, hp_rep_req_t *req, int stop, const char *reason)
{
    Hpsearch__Envelope env = HPSEARCH__ENVELOPE__INIT;
    Hpsearch__Ack ack = HPSEARCH__ACK__INIT;
    ack.stop = stop;
    ack.reason = (char *)(reason ? reason : "");
    hp_proto_set_body(&env, HPSEARCH__MSG_TYPE__ACK, &ack);
    coord_reply(c, req, &env);
}

typedef HP_VEC(char *) name_list_t;

static int collect_name(void *data, const hp_study_t *st)
{
    name_list_t *l = data;
    char *n = strdup(st->name);
    HP_ASSERT(n != NULL);
    HP_VEC_PUSH(*l, n);
    return 0;
}

void coord_study_hint(coord_t *c, const char *name, char *hint, size_t cap)
{
    /* the stored studies, not only those in memory: an ended study from
     * before a restart is still a name the user may have meant */
    name_list_t names = {0};
    char err[256];
    if (cap)
        hint[0] = '\0';
    if (name && hp_store_study_list(c->store, collect_name, &names, err, sizeof err) == 0)
        hp_suggest_hint(hint, cap, name, strlen(name), (const char *const *)names.v, names.n);
    for (size_t i = 0; i < names.n; i++)
        free(names.v[i]);
    free(names.v);
}

void coord_reply_no_study(coord_t *c, hp_rep_req_t *req, const char *name)
{
    char hint[HP_SUGGEST_MAX_WORD + 32];
    coord_study_hint(c, name, hint, sizeof hint);
    coord_reply_error(c, req, HP_ENOENT, "no study named '%s'%s", name ? name : "", hint);
}

static void outbox_drop(coord_t *c)
{
    for (size_t i = 0; i < c->outbox.n; i++)
        hp_buf_fini(&c->outbox.v[i].buf);
    c->outbox.n = 0;
}

int coord_tick_commit(coord_t *c)
{
    if (hp_store_in_group(c->store)) {
        char err[256];
        int rc = hp_store_commit(c->store, err, sizeof err);
        if (rc < 0) {
            /* Without the commit the replies would acknowledge writes that
             * did not happen; a restart recovers from the last commit. */
            hp_log_error("cannot commit: %s; stopping so a restart recovers from the database",
                         err);
            hp_store_rollback(c->store, err, sizeof err);
            outbox_drop(c);
            c->db_fault = 1; /* no more writes while the daemon stops */
            return rc;
        }
    }
    for (size_t i = 0; i < c->outbox.n; i++) {
        coord_reply_t *r = &c->outbox.v[i];
        hp_rep_reply(r->req, r->buf.data, r->buf.len);
        hp_buf_fini(&r->buf);
    }
    c->outbox.n = 0;
    return 0;
}

