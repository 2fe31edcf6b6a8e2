/*
 * run_supervisor.h — the processes `hpsearch run` starts and stops: a
 * private hpsearchd on the user's database with its sockets in a private
 * temporary directory, and N `hpworker --connect` children; the signals
 * that ask us to stop; reaping, and telling the user when a child dies.
 *
 * The children live in their own process group (a terminal's Ctrl-C
 * reaches only us, so we stop them in order) and get PR_SET_PDEATHSIG, so
 * even a kill -9 of hpsearch does not leave them behind.
 *
 *     hp_supervisor_t s;
 *     if ((rc = hp_supervisor_init(&s, cli, &display, nworkers, verbose)))
 *         return rc;                       (signals are caught from here on)
 *     rc = hp_supervisor_start_daemon(&s, db, loglevel);
 *     if (!rc) rc = hp_supervisor_start_workers(&s, slots);
 *     ...talk to s.cl; poll hp_supervisor_check(&s) and hp_supervisor_signal()...
 *     hp_supervisor_stop(&s);
 *     hp_supervisor_fini(&s);
 *
 * Functions that can end the run return an exit status for the verb,
 * HP_EXIT_FAIL (a message was printed) or 128 + the signal that stopped
 * us, and 0 (hp_supervisor_check: -1) to go on. One supervisor per process
 * (signal handlers are process-wide), used from the verb's one thread.
 */
#ifndef HP_CLI_RUN_SUPERVISOR_H
#define HP_CLI_RUN_SUPERVISOR_H

#include "cli.h"
#include "client.h"
#include "run_display.h"

#include <limits.h>
#include <signal.h>
#include <sys/types.h>

/* How long a slow coordinator gets to answer its control socket, at the
 * start and for each status request after. */
#define HP_SUPERVISOR_START_DAEMON_S 30.0

typedef struct hp_child {
    pid_t pid;
    int alive;
    int status; /* waitpid's, once not alive; -1 once reported */
    char log[160];
    char what[32]; /* "hpsearchd", "worker 2" */
} hp_child_t;

typedef struct hp_supervisor {
    hp_cli_t *cli;
    hp_run_display_t *display; /* its line is ended before we print */
    int verbose;               /* children log to our stderr, not to files */
    char dir[96]; /* short: ipc:// paths must fit a sockaddr_un (108 bytes) */
    char listen[128], control[128];
    char token_file[PATH_MAX + 8]; /* the daemon's: DB.token (common/token.h) */
    char daemon_bin[PATH_MAX], worker_bin[PATH_MAX];
    hp_child_t daemon;
    hp_child_t *workers;
    int nworkers;
    int workers_started; /* all nworkers were spawned */
    double worker_stop_s; /* how long workers get after SIGTERM (init: 5 s; run sets more) */
    hp_client_t *cl;     /* the coordinator's control socket, once it answers */
    struct sigaction old_int, old_term, old_hup;
} hp_supervisor_t;

/* hp_supervisor_init finds hpsearchd and hpworker next to this program,
 * makes the private directory and starts catching SIGINT, SIGTERM and
 * SIGHUP. On failure it prints why, returns HP_EXIT_FAIL and leaves
 * nothing to fini. */
int hp_supervisor_init(hp_supervisor_t *s, hp_cli_t *cli, hp_run_display_t *display,
                       int nworkers, int verbose);

/* hp_supervisor_start_daemon starts hpsearchd on db and waits until its
 * control socket answers (s->cl is then open). */
int hp_supervisor_start_daemon(hp_supervisor_t *s, const char *db, const char *loglevel);

/* hp_supervisor_start_workers starts the N workers, slots trials each. */
int hp_supervisor_start_workers(hp_supervisor_t *s, int slots);

/* hp_supervisor_reap collects every child that exited. */
void hp_supervisor_reap(hp_supervisor_t *s);

/* hp_supervisor_check reaps, reports each worker that died (once, with
 * the end of its log) and ends the run when the coordinator or every
 * worker is gone: HP_EXIT_FAIL then, otherwise -1 to go on. */
int hp_supervisor_check(hp_supervisor_t *s);

/* hp_supervisor_signal returns the signal that asked us to stop, 0 if
 * none came. */
int hp_supervisor_signal(void);

/* hp_supervisor_stop stops everything we started, in order: workers
 * first (a worker that finishes its trial on SIGTERM still reaches a live
 * coordinator), then the coordinator (SHUTDOWN, or SIGTERM if it does not
 * answer), then SIGKILL for anything still there. Always reaps every
 * child and closes s->cl. A second Ctrl-C cuts the waits short. */
void hp_supervisor_stop(hp_supervisor_t *s);

/* hp_supervisor_report_stop, after a stop on a signal, says so if the
 * coordinator did not exit cleanly, with the end of its log. */
void hp_supervisor_report_stop(hp_supervisor_t *s);

/* hp_supervisor_fini restores the signal handlers, removes the private
 * directory and frees s; after hp_supervisor_stop. */
void hp_supervisor_fini(hp_supervisor_t *s);


/* hp_supervisor_nap sleeps s seconds, or less if a signal arrives. */
void hp_supervisor_nap(double s);

#endif
