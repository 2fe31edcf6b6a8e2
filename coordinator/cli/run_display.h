/*
 * run_display.h — what `hpsearch run` shows while a study runs: one live
 * progress line on a terminal (redrawn with \r), a plain line every few
 * seconds otherwise, and the summary at the end. Anything else written to
 * stderr meanwhile goes through hp_run_display_fail or follows
 * hp_run_display_end_line, so it never lands in the middle of the line.
 *
 *     hp_run_display_t d = {.cli = cli, .cmd = &hp_cmd_run,
 *                           .tty = isatty(fileno(cli->err))};
 *     hp_run_display_start(&d, now);
 *     ...each status: hp_run_display_status(&d, st, now);
 *     ...at the end:  hp_run_display_summary(&d, st, now, db, study_id);
 *
 * Used from the one thread that runs the verb.
 */
#ifndef HP_CLI_RUN_DISPLAY_H
#define HP_CLI_RUN_DISPLAY_H

#include "cli.h"
#include "codec.h"

typedef struct hp_run_display {
    hp_cli_t *cli;
    const hp_cmd_t *cmd; /* names the verb in error lines */
    int tty;             /* cli->err is a terminal: one live line */
    int line_open;       /* a \r progress line is on the terminal */
    /* set by hp_run_display_start and the statuses that follow */
    double start, last_print;
    unsigned done0; /* trials already finished when we started (a resumed study) */
    unsigned last_done;
    int seen; /* a status has arrived */
} hp_run_display_t;

/* hp_run_display_end_line finishes an open progress line, so the next
 * output starts on a line of its own. */
void hp_run_display_end_line(hp_run_display_t *d);

/* hp_run_display_fail ends the line and prints "PROG VERB: message" to
 * stderr; returns HP_EXIT_FAIL. */
int hp_run_display_fail(hp_run_display_t *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* hp_run_display_start notes when the study was submitted (now, a
 * monotonic clock in seconds); elapsed time and ETA count from there. */
void hp_run_display_start(hp_run_display_t *d, double now);

/* hp_run_display_status takes the study's latest status: the final line
 * once it is no longer running, otherwise a line when one is due (every
 * 0.5 s on a terminal; otherwise when the count changed after 5 s, or
 * after a minute regardless). */
void hp_run_display_status(hp_run_display_t *d, const Hpsearch__StudyStatus *st, double now);

/* hp_run_display_summary prints the result to stdout: the counts, why it
 * ended, the best trial and where the results are; then a sanity check's
 * warning if the study's events in db hold one. */
void hp_run_display_summary(hp_run_display_t *d, const Hpsearch__StudyStatus *st, double now,
                            const char *db, unsigned long long study_id);

/* hp_run_display_interrupted, after a run stopped on a signal (the
 * workers and the coordinator gone), says on stderr how many of the
 * study's trials were running and go back to pending — those whose latest
 * attempt ended 'interrupted' since `since` (unix seconds, when the run
 * began), and those still recorded running — and how to continue:
 * "interrupted: 2 running trials go back to pending; run the same command
 * again to continue". */
void hp_run_display_interrupted(hp_run_display_t *d, const char *db, unsigned long long study_id,
                                double since);

#endif
