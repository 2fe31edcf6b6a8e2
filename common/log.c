#include "log.h"

#include "utf8.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static _Atomic int current_level = HP_LOG_INFO;
static const char *_Atomic current_ident = "hpsearch";

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void hp_log_set_level(hp_log_level_t level) { current_level = (int)level; }
hp_log_level_t hp_log_get_level(void) { return (hp_log_level_t)current_level; }
void hp_log_set_ident(const char *ident) { current_ident = ident; }

int hp_log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    if (strcasecmp(name, "warning") == 0)
        return HP_LOG_WARN;
    return -1;
}

void hp_log(hp_log_level_t level, const char *fmt, ...)
{
    if ((int)level > current_level)
        return;
    char line[4096];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03ldZ %s %s ",
                  ts.tv_nsec / 1000000, current_ident, level_names[level]);
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t mlen = m < 0 ? 0 : (size_t)m < sizeof msg ? (size_t)m : sizeof msg - 1;
    /* one line per message, whatever a peer's strings in it hold: no
     * forged lines, no terminal escapes (utf8.h) */
    size_t len = (size_t)n + hp_utf8_escape(line + n, sizeof line - (size_t)n - 1, msg, mlen);
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
}
