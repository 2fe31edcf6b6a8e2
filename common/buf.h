/*
 * buf.h — a growable byte/string buffer, always NUL-terminated.
 *
 *     hp_buf_t b = {0};
 *     hp_buf_printf(&b, "{\"lr\":%g}", lr);
 *     puts(b.data);
 *     hp_buf_fini(&b);
 *
 * Allocation failure aborts (HP_ASSERT): buffers are used for text the
 * program builds itself, where running out of memory is not recoverable.
 */
#ifndef HP_BUF_H
#define HP_BUF_H

#include <stddef.h>

typedef struct hp_buf {
    char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
} hp_buf_t;

void hp_buf_fini(hp_buf_t *b); /* safe on zeroed memory */
void hp_buf_reset(hp_buf_t *b); /* len = 0, keeps the allocation */
void hp_buf_append(hp_buf_t *b, const void *p, size_t n);
void hp_buf_puts(hp_buf_t *b, const char *s);
void hp_buf_putc(hp_buf_t *b, char c);
void hp_buf_printf(hp_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* hp_buf_extend appends n uninitialised bytes and returns where they start,
 * for producers that write in place (e.g. a protobuf packer). */
void *hp_buf_extend(hp_buf_t *b, size_t n);
/* hp_buf_json_string appends s as a JSON string literal (quoted, escaped). */
void hp_buf_json_string(hp_buf_t *b, const char *s);
/* hp_buf_json_number appends v so that strtod reads back the same double;
 * non-finite values become null (JSON has no NaN). */
void hp_buf_json_number(hp_buf_t *b, double v);
/* hp_buf_steal returns the data (caller frees) and resets b to empty. */
char *hp_buf_steal(hp_buf_t *b);

#endif
