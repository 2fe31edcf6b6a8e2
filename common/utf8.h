/*
 * utf8.h — making bytes into text: what a program wrote may be anything,
 * but protobuf strings, SQLite TEXT, JSON and terminals want UTF-8.
 *
 *     hp_buf_t b = {0};
 *     hp_utf8_repair(&b, bytes, n);   // b.data: valid UTF-8, NUL-terminated
 *     hp_buf_fini(&b);
 *
 * Each byte that starts no well-formed sequence (a stray continuation, an
 * overlong form, a surrogate, beyond U+10FFFF, a sequence cut short) and
 * each NUL becomes U+FFFD, the replacement character; everything else is
 * copied as it is. Pure; any thread.
 */
#ifndef HP_UTF8_H
#define HP_UTF8_H

#include "buf.h"

#include <stddef.h>

/* hp_utf8_valid_len returns the length of the well-formed sequence (1-4
 * bytes) at s[0..n), or 0 when s[0] starts none (NUL counts as none). */
size_t hp_utf8_valid_len(const unsigned char *s, size_t n);

/* hp_utf8_repair appends s[0..n) to out as valid UTF-8 without NULs,
 * replacing what is not (above) with U+FFFD. Returns how many bytes were
 * replaced. */
size_t hp_utf8_repair(hp_buf_t *out, const void *s, size_t n);

/* hp_utf8_escape writes s[0..n) into out (cap bytes, NUL-terminated,
 * cut at a whole character) as one line of printable text for a log or a
 * table: control characters (C0, DEL and the C1 range U+0080..U+009F,
 * which terminals also obey) and bytes that start no well-formed sequence
 * become \xNN, so what a peer sent can neither end a line nor move a
 * terminal's cursor. Everything else is copied. Returns the length
 * written. */
size_t hp_utf8_escape(char *out, size_t cap, const void *s, size_t n);

#endif
