/*
 * harness.h — integration-test support: real hpsearchd / hpworker child
 * processes on private ipc:// sockets in a fresh temp dir, and a minimal
 * protocol client, so tests exercise exactly what users run.
 *
 *     hp_harness_t h;
 *     hp_harness_init(&h, "kill-worker");          // temp dir, socket paths, db path
 *     hp_harness_start_daemon(&h, "--lease-ms", "1500", NULL);
 *     pid_t w = hp_harness_spawn(&h, "hpworker", "--connect", h.listen, NULL);
 *     ...
 *     hp_harness_fini(&h);                          // kills children, removes the dir
 *
 * Children are tracked and killed (SIGKILL) in fini even when a test fails.
 * Every child finds its daemon's token by itself, as on a user's host:
 * the harness points $HPSEARCH_RUNTIME_DIR at DIR/run (common/rundir.h).
 * Not thread-safe; one harness per test.
 */
#ifndef HP_TEST_HARNESS_H
#define HP_TEST_HARNESS_H

#include "codec.h"

#include <stddef.h>
#include <sys/types.h>

#define HP_HARNESS_MAX_CHILDREN 256

typedef struct hp_harness {
    char dir[512];
    char db[600];
    char listen[600];   /* ipc:// URL for workers */
    char control[600];  /* ipc:// URL for the CLI */
    char bin[512];      /* directory holding the binaries */
    pid_t daemon;
    /* the daemon's token (DB.token, read once it answers; empty when it
     * was started with another --token-file) */
    char token[1100];
    size_t token_len;
    pid_t children[HP_HARNESS_MAX_CHILDREN];
    int nchildren;
} hp_harness_t;

void hp_harness_init(hp_harness_t *h, const char *name);
void hp_harness_fini(hp_harness_t *h);
/* hp_harness_teardown finis every harness a failed test left behind;
 * register it as the test case's checked teardown. */
void hp_harness_teardown(void);

/* hp_harness_spawn starts bin/PROGRAM with the NULL-terminated arguments,
 * stdout/stderr appended to DIR/PROGRAM-<pid>.log; returns its pid. */
pid_t hp_harness_spawn(hp_harness_t *h, const char *program, ...);
/* hp_harness_spawn_wrapped is hp_harness_spawn with the NULL-terminated
 * command wrap in front, a command that execs the rest of its argv in
 * place (`/usr/sbin/ip netns exec NS`, `/usr/bin/env NAME=VALUE`), so the
 * pid returned is the program's own; the log is still DIR/PROGRAM-<pid>.log.
 * A wrapped child gets SIGKILL when the test process dies. */
pid_t hp_harness_spawn_wrapped(hp_harness_t *h, const char *const *wrap, const char *program,
                               ...);
/* hp_harness_start_daemon starts hpsearchd on the harness's db and sockets
 * (extra flags NULL-terminated) and waits until it answers STATUS. */
pid_t hp_harness_start_daemon(hp_harness_t *h, ...);
/* hp_harness_kill sends sig to pid and, for SIGKILL/SIGTERM/SIGINT, reaps
 * it; returns the wait status (-1 if pid was not a child left to reap). */
int hp_harness_kill(hp_harness_t *h, pid_t pid, int sig);

/* hp_harness_request sends env to url over a fresh REQ socket and returns
 * the decoded reply (caller frees with hp_proto_free) or NULL on timeout.
 * It speaks as a well-behaved client of the daemon last started: an env
 * without a token gets that daemon's (hp_harness_t.token), and a worker
 * message without a session gets the one a HELLO_REPLY seen here gave its
 * worker id. hp_harness_request_raw sends exactly what it is given. */
Hpsearch__Envelope *hp_harness_request(const char *url, Hpsearch__Envelope *env, int timeout_ms);
/* hp_harness_request_raw sends raw bytes and returns the decoded reply. */
Hpsearch__Envelope *hp_harness_request_raw(const char *url, const void *buf, size_t len,
                                           int timeout_ms);

/* hp_harness_token returns the token of the daemon last started (len 0:
 * none known), for tests that build their own messages. */
const char *hp_harness_token(size_t *len);

/* hp_harness_write_file writes text to DIR/name and returns the path. */
const char *hp_harness_write_file(hp_harness_t *h, const char *name, const char *text);

/* hp_harness_submit submits spec text over the control socket; returns the
 * study id (> 0) or fails the test. */
long hp_harness_submit(hp_harness_t *h, const char *spec_text);
/* hp_harness_wait_study polls STATUS until the study leaves 'running' or
 * timeout_s passes; returns the final state text (static) or NULL. If the
 * daemon dies meanwhile the test fails at once, quoting its log. */
const char *hp_harness_wait_study(hp_harness_t *h, const char *study, int timeout_s);
/* hp_harness_wait_completed polls until at least n trials (of any study)
 * are completed or timeout_s passes; returns the last count seen. */
long hp_harness_wait_completed(hp_harness_t *h, long n, int timeout_s);
/* hp_harness_query_int runs SQL via the control socket and returns the
 * first cell as an integer (or -1). */
long hp_harness_query_int(hp_harness_t *h, const char *sql);

/* Reading the database file directly, read-only (harness_db.c), as users'
 * readers do while the daemon writes: the first cell of sql as an integer
 * (-1 when the query fails or gives NULL) or as text (NULL then); and
 * waiting until sql gives at least want, failing the test after
 * timeout_s. */
long hp_harness_db_int(const char *db, const char *sql);
const char *hp_harness_db_text(const char *db, const char *sql, char *out, size_t cap);
void hp_harness_wait_db(const char *db, const char *sql, long want, int timeout_s);

#endif
