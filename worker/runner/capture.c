/* A trial's output stream, kept whole up to a cap (capture.h). */
#include "capture.h"

#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* what is kept of the stream: the bytes up to keep, and past it the first
 * head bytes and the last keep - head */
static size_t keep_of(const hp_capture_t *c) { return c->max - HP_CAPTURE_MARK_ROOM; }
static size_t head_of(const hp_capture_t *c) { return keep_of(c) / 2; }

void hp_capture_init(hp_capture_t *c, size_t max)
{
    memset(c, 0, sizeof *c);
    if (max == 0)
        max = HP_CAPTURE_MAX;
    if (max < 2 * HP_CAPTURE_MARK_ROOM)
        max = 2 * HP_CAPTURE_MARK_ROOM;
    c->max = max;
}

static void reserve(hp_capture_t *c, size_t need)
{
    if (need <= c->alloc)
        return;
    size_t a = c->alloc ? c->alloc : 4096;
    while (a < need)
        a *= 2;
    if (a > keep_of(c))
        a = keep_of(c);
    c->buf = realloc(c->buf, a);
    HP_ASSERT(c->buf != NULL);
    c->alloc = a;
}

void hp_capture_add(hp_capture_t *c, const void *data, size_t n)
{
    const char *p = data;
    size_t keep = keep_of(c);
    c->total += n;
    if (c->len < keep) { /* still whole: fill up to keep */
        size_t take = n < keep - c->len ? n : keep - c->len;
        reserve(c, c->len + take);
        memcpy(c->buf + c->len, p, take);
        c->len += take;
        p += take;
        n -= take;
    }
    /* over the cap: the region after the head is a ring of the latest
     * bytes; when it first filled it held bytes head..keep-1 in order, so
     * the oldest is at ring_pos 0 */
    size_t head = head_of(c), ring = keep - head;
    if (n > ring) { /* only the last `ring` bytes can stay */
        p += n - ring;
        n = ring;
    }
    while (n) {
        size_t room = ring - c->ring_pos, take = n < room ? n : room;
        memcpy(c->buf + head + c->ring_pos, p, take);
        c->ring_pos = (c->ring_pos + take) % ring;
        p += take;
        n -= take;
    }
}

char *hp_capture_take(hp_capture_t *c, size_t *len)
{
    size_t keep = keep_of(c);
    if (c->total <= keep) {
        char *t = malloc(c->len + 1);
        HP_ASSERT(t != NULL);
        if (c->len)
            memcpy(t, c->buf, c->len);
        t[c->len] = '\0';
        *len = c->len;
        return t;
    }
    size_t head = head_of(c), ring = keep - head;
    char mark[HP_CAPTURE_MARK_ROOM];
    int ml = snprintf(mark, sizeof mark, "\n[... %llu bytes cut ...]\n",
                      (unsigned long long)(c->total - keep));
    HP_ASSERT(ml > 0 && (size_t)ml < sizeof mark);
    size_t n = head + (size_t)ml + ring;
    char *t = malloc(n + 1), *o = t;
    HP_ASSERT(t != NULL);
    memcpy(o, c->buf, head);
    o += head;
    memcpy(o, mark, (size_t)ml);
    o += ml;
    memcpy(o, c->buf + head + c->ring_pos, ring - c->ring_pos);
    o += ring - c->ring_pos;
    memcpy(o, c->buf + head, c->ring_pos);
    t[n] = '\0';
    *len = n;
    return t;
}

void hp_capture_fini(hp_capture_t *c)
{
    free(c->buf);
    memset(c, 0, sizeof *c);
}
