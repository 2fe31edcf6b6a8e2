/*
 * coord.h — hpsearchd, the coordinator: one libuv loop owning every study,
 * trial lease and worker, the SQLite store, and two nng REP sockets (workers
 * and the CLI).
 *
 *     hp_coord_config_t cfg;            // settings.h
 *     hp_settings_defaults(&cfg); ...
 *     return hp_coord_main(&cfg);       // runs until SIGTERM/SIGINT or SHUTDOWN
 *
 * Start-up reopens the database and resumes every running study: trials
 * that were running keep their lease for one lease period, so workers that
 * survived the restart can renew them; the rest are re-queued.
 */
#ifndef HP_COORD_H
#define HP_COORD_H

#include "settings.h"

/* hp_coord_main runs the coordinator; returns the process exit status. */
int hp_coord_main(const hp_coord_config_t *cfg);

#endif
