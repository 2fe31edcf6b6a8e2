/*
 * hpsearch run: the embedded default. One command starts a private
 * coordinator on a local database and N local workers as child processes
 * (run_supervisor.c), submits the study, shows progress until it ends
 * (run_display.c), prints the best trial and stops everything it started.
 */
#include "cli.h"
#include "client.h"
#include "run_display.h"
#include "run_supervisor.h"

#include "buf.h"
#include "clock.h"
#include "dash.h"
#include "err.h"
#include "lockfile.h"
#include "spec.h"

#include <ctype.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int cmd_run(hp_cli_t *cli, int argc, char **argv);

const hp_cmd_t hp_cmd_run = {
    .name = "run",
    .usage = "run [--workers N] [--slots S] [--db PATH] [--log-level L] [--verbose] [--dashboard] "
             "SPEC",
    .summary = "run a study here: a private coordinator, N local workers, live progress",
    .help = "Validates SPEC, starts hpsearchd on PATH (default ./hpsearch.db) with\n"
            "sockets in a private temporary directory and N `hpworker --connect`\n"
            "processes (found next to hpsearch), submits the study and shows progress\n"
            "until it ends: a live line on a terminal, a plain line every few seconds\n"
            "otherwise. Then prints the best trial and stops every process it started.\n"
            "Running the same spec on the same database again resumes the study; with\n"
            "only search.max_trials, search.parallelism or trial.timeout changed it\n"
            "continues with the new values (a completed study runs its new trials).\n"
            "\n"
            "Ctrl-C (or SIGTERM) stops cleanly: workers and coordinator are stopped,\n"
            "every stored result stays in the database, the trials that were running\n"
            "are interrupted and go back to pending (run the same command again: they\n"
            "run again, spending none of their retries), and the exit status is\n"
            "128 + the signal (130 for Ctrl-C). Exits 0 when the study\n"
            "completed, 1 if it failed or if the coordinator or all workers died (their\n"
            "last log lines are shown).\n"
            "\n"
            "Options:\n"
            "  --workers N    local worker processes (default 1)\n"
            "  --slots S      trials each worker runs at once (default 1)\n"
            "  --db PATH      the database (created if missing; default hpsearch.db)\n"
            "  --log-level L  the coordinator's log level (error|warn|info|debug)\n"
            "  --verbose      let the coordinator and workers log to stderr instead of\n"
            "                 private log files\n"
            "  --dashboard    serve the web dashboard of the run's database and print the\n"
            "                 URL of the study's live page (" HP_DASH_DEFAULT_LISTEN ",\n"
            "                 or a free port when that one is taken; docs/dashboard.md)\n"
            "\n"
            "Example:\n"
            "  hpsearch run examples/branin.yaml --workers 2\n",
    .exec = cmd_run,
};

#define POLL_S 0.25

static int call_status(hp_supervisor_t *s, const char *name, Hpsearch__Envelope **rep,
                       const Hpsearch__StudyStatus **st, char *err, size_t errlen)
{
    /* a short timeout so a dead daemon is noticed; a slow one gets retries */
    double end = hp_clock_now() + HP_SUPERVISOR_START_DAEMON_S;
    int rc;
    do {
        rc = hp_client_study_status(s->cl, name, rep, st, err, errlen);
        if (rc != HP_ETIMEDOUT)
            return rc;
        hp_supervisor_reap(s);
    } while (s->daemon.alive && !hp_supervisor_signal() && hp_clock_now() < end);
    return rc;
}

/* Runs the study to its end; *study_id is set once it is submitted. */
/* --dashboard: the dashboard on the run's database, read-only, from this
 * process's own threads; its default port, else any free one */
static void start_dashboard(hp_supervisor_t *s, const char *db, const char *study,
                            hp_dash_t **dash)
{
    char err[1024];
    hp_dash_config_t cfg = {.db = db, .listen = HP_DASH_DEFAULT_LISTEN, .nice = 10};
    if (hp_dash_start(dash, &cfg, err, sizeof err) < 0) {
        cfg.listen = "http://127.0.0.1:0";
        if (hp_dash_start(dash, &cfg, err, sizeof err) < 0) {
            fprintf(s->cli->err, "hpsearch run: --dashboard: %s (the run goes on without it)\n",
                    err);
            return;
        }
    }
    hp_buf_t name = {0};
    for (const unsigned char *p = (const unsigned char *)study; *p; p++)
        if (isalnum(*p) || strchr("-._~", *p))
            hp_buf_putc(&name, (char)*p);
        else
            hp_buf_printf(&name, "%%%02X", *p);
    fprintf(s->cli->err, "dashboard: %sstudies/%s\n", hp_dash_url(*dash), name.data);
    hp_buf_fini(&name);
}

static int run_study(hp_supervisor_t *s, hp_run_display_t *d, hp_spec_t *spec, const char *db,
                     int slots, const char *loglevel, unsigned long long *study_id_out,
                     hp_dash_t **dash)
{
    int rc = hp_supervisor_start_daemon(s, db, loglevel);
    if (rc)
        return rc;
    if ((rc = hp_supervisor_start_workers(s, slots)))
        return rc;

    /* the study */
    char err[4608];
    Hpsearch__Envelope req = HPSEARCH__ENVELOPE__INIT, *rep;
    Hpsearch__Submit sub = HPSEARCH__SUBMIT__INIT;
    sub.spec_text = spec->raw;
    sub.filename = spec->source && *spec->source ? spec->source : (char *)"spec";
    hp_proto_set_body(&req, HPSEARCH__MSG_TYPE__SUBMIT, &sub);
    do {
        rc = hp_client_call(s->cl, &req, HPSEARCH__MSG_TYPE__SUBMIT_REPLY, &rep, err, sizeof err);
        hp_supervisor_reap(s);
    } while (rc == HP_ETIMEDOUT && s->daemon.alive && !hp_supervisor_signal());
    if (rc < 0) {
        int ex = hp_supervisor_check(s);
        if (ex >= 0)
            return ex;
        if (hp_supervisor_signal())
            return 128 + hp_supervisor_signal();
        hp_run_display_end_line(d);
        return hp_cli_fail_lines(s->cli, &hp_cmd_run, err);
    }
    fprintf(s->cli->err, "%s study '%s' (id %llu) on %s with %d worker%s\n",
            rep->submit_reply->existed ? "resuming" : "running", rep->submit_reply->name,
            (unsigned long long)rep->submit_reply->study_id, db, s->nworkers,
            s->nworkers == 1 ? "" : "s");
    for (size_t i = 0; i < rep->submit_reply->n_notes; i++)
        fprintf(s->cli->err, "  %s\n", rep->submit_reply->notes[i]);
    unsigned long long study_id = (unsigned long long)rep->submit_reply->study_id;
    *study_id_out = study_id;
    if (dash)
        start_dashboard(s, db, rep->submit_reply->name, dash);
    hp_proto_free(rep);

    /* progress until the study ends */
    hp_run_display_start(d, hp_clock_now());
    for (;;) {
        if (hp_supervisor_signal())
            return 128 + hp_supervisor_signal();
        int ex = hp_supervisor_check(s);
        if (ex >= 0)
            return ex;
        const Hpsearch__StudyStatus *st;
        rc = call_status(s, spec->name, &rep, &st, err, sizeof err);
        if (rc < 0) {
            if (hp_supervisor_signal())
                return 128 + hp_supervisor_signal();
            ex = hp_supervisor_check(s);
            /* a coordinator that died resets the connection before the
             * kernel lets us reap it: its end, not the reset, is the news
             * (a few seconds at most for the exit to be reapable) */
            for (int i = 0; ex < 0 && i < 150 && (rc == HP_ECLOSED || rc == HP_ECONNREFUSED) &&
                            !hp_supervisor_signal();
                 i++) {
                hp_supervisor_nap(0.02);
                ex = hp_supervisor_check(s);
            }
            return ex >= 0 ? ex : hp_run_display_fail(d, "%s", err);
        }
        double t = hp_clock_now();
        hp_run_display_status(d, st, t);
        if (strcmp(st->state, "running") != 0) {
            hp_run_display_summary(d, st, t, db, study_id);
            int ok = strcmp(st->state, "completed") == 0;
            hp_proto_free(rep);
            return ok ? HP_EXIT_OK : HP_EXIT_FAIL;
        }
        hp_proto_free(rep);
        hp_supervisor_nap(POLL_S);
    }
}

static int cmd_run(hp_cli_t *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"workers", required_argument, NULL, 'w'},
        {"slots", required_argument, NULL, 's'},
        {"db", required_argument, NULL, 'd'},
        {"log-level", required_argument, NULL, 'l'},
        {"verbose", no_argument, NULL, 'v'},
        {"dashboard", no_argument, NULL, 'D'},
        {NULL, 0, NULL, 0},
    };
    long long nworkers = 1, slots = 1;
    const char *db = "hpsearch.db", *loglevel = "info";
    int verbose = 0, want_dash = 0, ch;
    while ((ch = getopt_long(argc, argv, ":w:s:d:l:vD", opts, NULL)) != -1) {
        switch (ch) {
        case 'w':
            if (hp_cli_parse_uint(cli, &hp_cmd_run, "--workers", optarg, 1, 1024, &nworkers))
                return HP_EXIT_USAGE;
            break;
        case 's':
            if (hp_cli_parse_uint(cli, &hp_cmd_run, "--slots", optarg, 1, 1024, &slots))
                return HP_EXIT_USAGE;
            break;
        case 'd':
            if (!*optarg)
                return hp_cli_usage_error(cli, &hp_cmd_run, "--db needs a PATH");
            db = optarg;
            break;
        case 'l':
            if (strcmp(optarg, "error") && strcmp(optarg, "warn") && strcmp(optarg, "info") &&
                strcmp(optarg, "debug"))
                return hp_cli_usage_error(
                    cli, &hp_cmd_run, "--log-level: expected error, warn, info or debug (got '%s')",
                    optarg);
            loglevel = optarg;
            break;
        case 'v': verbose = 1; break;
        case 'D': want_dash = 1; break;
        default: return hp_cli_bad_option(cli, &hp_cmd_run, ch, argc, argv);
        }
    }
    hp_spec_t spec;
    const char *path;
    int rc0 = hp_cli_load_spec(cli, &hp_cmd_run, argc, argv, optind, &spec, &path, NULL);
    if (rc0)
        return rc0;
    /* one coordinator per database (lockfile.h): say who holds it before
     * any child starts, rather than show the log of one that refused */
    char lerr[1200];
    if (hp_lockfile_probe(db, NULL, lerr, sizeof lerr) == HP_EBUSY) {
        hp_spec_fini(&spec);
        return hp_cli_fail(cli, &hp_cmd_run, "%s", lerr);
    }

    hp_run_display_t display = {.cli = cli, .cmd = &hp_cmd_run};
    display.tty = isatty(fileno(cli->err));
    hp_supervisor_t sup;
    int rc = hp_supervisor_init(&sup, cli, &display, (int)nworkers, verbose);
    if (rc) {
        hp_spec_fini(&spec);
        return rc;
    }
    /* a stopped worker gives each program the study's kill_grace to exit
     * after SIGTERM before it SIGKILLs it: wait that long and a margin
     * before SIGKILLing the worker itself */
    if (isfinite(spec.trial.kill_grace) && spec.trial.kill_grace > 0)
        sup.worker_stop_s = spec.trial.kill_grace + 5.0;

    unsigned long long study_id = 0;
    struct timespec began;
    clock_gettime(CLOCK_REALTIME, &began);
    hp_dash_t *dash = NULL;
    rc = run_study(&sup, &display, &spec, db, (int)slots, loglevel, &study_id,
                   want_dash ? &dash : NULL);
    hp_dash_stop(dash);
    if (rc >= 128) {
        hp_run_display_end_line(&display);
        fprintf(cli->err, "hpsearch run: %s; stopping the workers and the coordinator (every "
                          "stored result stays in %s; run again to resume)\n",
                strsignal(rc - 128), db);
    }
    hp_supervisor_stop(&sup);
    if (rc >= 128) {
        hp_supervisor_report_stop(&sup);
        /* the trials the stop interrupted are pending, not cancelled */
        if (study_id)
            hp_run_display_interrupted(&display, db, study_id,
                                       (double)began.tv_sec + began.tv_nsec / 1e9);
    }
    hp_supervisor_fini(&sup);
    hp_spec_fini(&spec);
    return rc;
}
