/*
 * log.h — leveled, timestamped logging to stderr.
 *
 *     hp_log_set_level(HP_LOG_DEBUG);
 *     hp_log_info("listening on %s", url);
 *
 * Lines look like `2026-11-27T07:50:01.123Z hpsearchd INFO listening on ...`.
 * A message is always one line: control characters and invalid UTF-8 in it
 * are written as \xNN (hp_utf8_escape), so strings from peers cannot forge
 * a line. Thread-safe: each line is written with one fwrite.
 */
#ifndef HP_LOG_H
#define HP_LOG_H

typedef enum hp_log_level {
    HP_LOG_ERROR = 0,
    HP_LOG_WARN = 1,
    HP_LOG_INFO = 2,
    HP_LOG_DEBUG = 3,
} hp_log_level_t;

/* hp_log_set_level sets the most verbose level printed (default INFO). */
void hp_log_set_level(hp_log_level_t level);
hp_log_level_t hp_log_get_level(void);
/* hp_log_set_ident names the program in every line (default "hpsearch");
 * the string must outlive all logging. */
void hp_log_set_ident(const char *ident);
/* hp_log_level_parse maps "error|warn|info|debug" to a level; -1 if unknown. */
int hp_log_level_parse(const char *name);

void hp_log(hp_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define hp_log_error(...) hp_log(HP_LOG_ERROR, __VA_ARGS__)
#define hp_log_warn(...) hp_log(HP_LOG_WARN, __VA_ARGS__)
#define hp_log_info(...) hp_log(HP_LOG_INFO, __VA_ARGS__)
#define hp_log_debug(...) hp_log(HP_LOG_DEBUG, __VA_ARGS__)

#endif
