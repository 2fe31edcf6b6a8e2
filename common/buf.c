#include "buf.h"

#include "err.h"
#include "vec.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reserve(hp_buf_t *b, size_t extra)
{
    HP_ASSERT(extra < SIZE_MAX - b->len - 1);
    b->data = hp_vec_grow(b->data, &b->cap, b->len + extra + 1, 1, 64);
}

void hp_buf_fini(hp_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void hp_buf_reset(hp_buf_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void hp_buf_append(hp_buf_t *b, const void *p, size_t n)
{
    reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void *hp_buf_extend(hp_buf_t *b, size_t n)
{
    reserve(b, n);
    char *p = b->data + b->len;
    b->len += n;
    b->data[b->len] = '\0';
    return p;
}

void hp_buf_puts(hp_buf_t *b, const char *s) { hp_buf_append(b, s, strlen(s)); }
void hp_buf_putc(hp_buf_t *b, char c) { hp_buf_append(b, &c, 1); }

void hp_buf_printf(hp_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    HP_ASSERT(n >= 0);
    if ((size_t)n < sizeof small) {
        hp_buf_append(b, small, (size_t)n);
        return;
    }
    reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* the length of s's leading run that JSON carries as it is */
static size_t json_plain_run(const unsigned char *s)
{
    size_t n = 0;
    while (s[n] >= 0x20 && s[n] != '"' && s[n] != '\\')
        n++;
    return n;
}

void hp_buf_json_string(hp_buf_t *b, const char *s)
{
    hp_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        size_t run = json_plain_run(p); /* most text: appended in one piece */
        if (run) {
            hp_buf_append(b, p, run);
            p += run;
            if (!*p)
                break;
        }
        switch (*p) {
        case '"': hp_buf_puts(b, "\\\""); break;
        case '\\': hp_buf_puts(b, "\\\\"); break;
        case '\n': hp_buf_puts(b, "\\n"); break;
        case '\r': hp_buf_puts(b, "\\r"); break;
        case '\t': hp_buf_puts(b, "\\t"); break;
        default:
            if (*p < 0x20)
                hp_buf_printf(b, "\\u%04x", *p);
            else
                hp_buf_putc(b, (char)*p);
        }
    }
    hp_buf_putc(b, '"');
}

void hp_buf_json_number(hp_buf_t *b, double v)
{
    if (!isfinite(v)) {
        hp_buf_puts(b, "null");
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        hp_buf_printf(b, "%.0f", v);
        return;
    }
    /* shortest of %.15g/%.17g that round-trips */
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.15g", v);
    if (strtod(tmp, NULL) != v)
        snprintf(tmp, sizeof tmp, "%.17g", v);
    hp_buf_puts(b, tmp);
}

char *hp_buf_steal(hp_buf_t *b)
{
    char *p = b->data;
    if (!p) {
        p = malloc(1);
        HP_ASSERT(p != NULL);
        p[0] = '\0';
    }
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
