/*
 * settings.h — hpsearchd's configuration: one table of settings that the
 * command line and the config file both go through (redis configs[]).
 *
 *     hp_coord_config_t cfg;
 *     hp_settings_defaults(&cfg);
 *     if (hp_settings_parse_args(&cfg, argc, argv, err, sizeof err) < 0) ...
 *
 * Flags are `--name value` or `--name=value`; `--config FILE` reads lines
 * `name value` or `name = value` (# starts a comment). Flags given on the
 * command line win over the file whatever their order. Every value is
 * validated (type and range) with a message naming the setting.
 */
#ifndef HP_SETTINGS_H
#define HP_SETTINGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct hp_coord_config {
    char db[1024];
    char listen[512];
    char control[512];
    char http[512];         /* the web dashboard's URL; "" = off */
    char token_file[1024];
    char tls_ca[1024];      /* tls+tcp://: the CA that signs every peer (hp_tls) */
    char tls_cert[1024];    /* this daemon's certificate and key */
    char tls_key[1024];
    char log_level[16];
    char synchronous[16];   /* full | normal */
    int64_t heartbeat_ms;   /* workers heartbeat this often */
    int64_t lease_ms;       /* a lease not renewed for this long expires */
    int64_t worker_contexts;
    int64_t control_contexts;
    int64_t query_max_rows;
    int64_t checkpoint_s;   /* WAL checkpoint period */
    int64_t query_timeout_s; /* one QUERY may run this long */
    int64_t query_concurrency; /* QUERYs run at once, off the loop */
    char lock_owner[128];   /* "" (this process) or PROGRAM:PID:SINCE (lockfile.h) */
    /* derived */
    char token[1024];       /* the shared secret, read from token_file */
    size_t token_len;
} hp_coord_config_t;

void hp_settings_defaults(hp_coord_config_t *cfg);

/* hp_settings_set sets one setting by name from text. Returns 0, or
 * HP_EINVAL with err naming the setting and the problem. */
int hp_settings_set(hp_coord_config_t *cfg, const char *name, const char *value, char *err,
                    size_t errlen);

/* hp_settings_load_file applies `name value` lines from path. */
int hp_settings_load_file(hp_coord_config_t *cfg, const char *path, char *err, size_t errlen);

/* hp_settings_parse_args applies argv (after the program name); --config
 * is read first, then the flags. Returns 0, 1 when --help was printed, or
 * HP_EINVAL with err. */
int hp_settings_parse_args(hp_coord_config_t *cfg, int argc, char **argv, char *err,
                           size_t errlen);

/* hp_settings_finish checks the combination (a non-loopback address needs a
 * token) and reads the token file. */
int hp_settings_finish(hp_coord_config_t *cfg, char *err, size_t errlen);

/* hp_url_is_local reports whether url can only be reached from this host
 * (ipc://, inproc://, tcp on 127.0.0.0/8, localhost or [::1]). */
int hp_url_is_local(const char *url);

void hp_settings_usage(FILE *f);

#endif
