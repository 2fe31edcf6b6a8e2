/*
 * capture.h — one output stream of a trial's program (its stdout or its
 * stderr) kept whole up to a cap: beyond it, the head and the tail with a
 * marked cut between them, so `hpsearch logs` shows how it began and how it
 * ended.
 *
 *     hp_capture_t c;
 *     hp_capture_init(&c, 0);                  // 0: HP_CAPTURE_MAX
 *     hp_capture_add(&c, buf, n);              // as the pipe is read
 *     size_t len;
 *     char *text = hp_capture_take(&c, &len);  // caller frees
 *     hp_capture_fini(&c);
 *
 * The text is the bytes as written — not necessarily UTF-8: the
 * coordinator makes it valid text before storing it. Over the cap it is
 *     HEAD "\n[... 1234567 bytes cut ...]\n" TAIL
 * and never longer than the cap. Memory grows with the output, up to
 * the cap. One thread at a time (the runner's).
 */
#ifndef HP_CAPTURE_H
#define HP_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

/* A stream's kept text at most, the cut's mark included: two of them and
 * the rest of a RESULT stay far inside the protocol's message limit
 * (worker/agent/slot.c checks at compile time). */
#define HP_CAPTURE_MAX (1u << 20)
/* Room kept for the mark "\n[... N bytes cut ...]\n" (N up to 20 digits). */
#define HP_CAPTURE_MARK_ROOM 64u

typedef struct hp_capture {
    size_t max;      /* the cap; > HP_CAPTURE_MARK_ROOM */
    char *buf;       /* the first bytes, then (once over) head + tail ring */
    size_t len, alloc;
    uint64_t total;  /* bytes seen */
    size_t ring_pos; /* once over: where the oldest tail byte is */
} hp_capture_t;

/* hp_capture_init prepares c with cap max (0: HP_CAPTURE_MAX; smaller than
 * twice the mark's room is raised to it). Allocates nothing yet. */
void hp_capture_init(hp_capture_t *c, size_t max);

/* hp_capture_add takes the next n bytes of the stream. */
void hp_capture_add(hp_capture_t *c, const void *p, size_t n);

/* hp_capture_take returns the kept text (malloc'd, NUL-terminated; the
 * caller frees it) and its length in *len, which is at most the cap. c
 * stays usable only for hp_capture_fini. */
char *hp_capture_take(hp_capture_t *c, size_t *len);

/* hp_capture_fini frees what c holds; safe on zeroed memory. */
void hp_capture_fini(hp_capture_t *c);

#endif
