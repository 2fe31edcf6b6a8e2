/* Metric lines: `name=value name=value ... [step=N]` on a program's stdout. */
#include "metricline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static void note_bad(hp_metricline_t *ml, const char *tok, size_t len)
{
    if (ml->bad++ == 0) {
        size_t n = len < sizeof ml->first_bad - 1 ? len : sizeof ml->first_bad - 1;
        memcpy(ml->first_bad, tok, n);
        ml->first_bad[n] = '\0';
    }
}

int hp_metricline_parse(const char *line, size_t len, hp_metricline_t *ml)
{
    memset(ml, 0, sizeof *ml);
    size_t i = 0, ntok = 0;
    /* first pass: is every token name=value? (a log line is not a metric line) */
    while (i < len) {
        while (i < len && is_space(line[i]))
            i++;
        if (i == len)
            break;
        size_t s = i;
        while (i < len && !is_space(line[i]))
            i++;
        const char *eq = memchr(line + s, '=', i - s);
        if (!eq || eq == line + s)
            return 0;
        ntok++;
    }
    if (ntok == 0)
        return 0;

    i = 0;
    while (i < len) {
        while (i < len && is_space(line[i]))
            i++;
        if (i == len)
            break;
        size_t s = i;
        while (i < len && !is_space(line[i]))
            i++;
        const char *tok = line + s;
        size_t tlen = i - s;
        const char *eq = memchr(tok, '=', tlen);
        size_t nlen = (size_t)(eq - tok), vlen = tlen - nlen - 1;
        char val[128];
        if (nlen >= HP_METRIC_NAME_MAX || vlen == 0 || vlen >= sizeof val) {
            note_bad(ml, tok, tlen);
            continue;
        }
        memcpy(val, eq + 1, vlen);
        val[vlen] = '\0';
        char *end;
        errno = 0;
        if (nlen == 4 && memcmp(tok, "step", 4) == 0) {
            long long st = strtoll(val, &end, 10);
            if (*end || errno) {
                note_bad(ml, tok, tlen);
                continue;
            }
            ml->has_step = 1;
            ml->step = st;
            continue;
        }
        double v = strtod(val, &end);
        /* ERANGE on underflow still gives a usable value; overflow gives inf */
        if (*end || end == val || memchr(tok, '\0', nlen)) {
            note_bad(ml, tok, tlen);
            continue;
        }
        if (ml->n == HP_METRICLINE_MAX)
            continue;
        hp_runner_metric_t *m = &ml->m[ml->n++];
        memcpy(m->name, tok, nlen);
        m->name[nlen] = '\0';
        m->value = v;
    }
    return 1;
}
