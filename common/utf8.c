/* Bytes to valid UTF-8 (utf8.h). */
#include "utf8.h"

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

size_t hp_utf8_valid_len(const unsigned char *s, size_t n)
{
    if (n == 0 || s[0] == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned lo = 0x80, hi = 0xBF; /* the second byte's range (RFC 3629) */
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlongs */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if ((s[k] & 0xC0) != 0x80)
            return 0;
    return len;
}

size_t hp_utf8_repair(hp_buf_t *out, const void *data, size_t n)
{
    const unsigned char *s = data;
    size_t replaced = 0, i = 0, run = 0; /* run: valid bytes not yet copied */
    hp_buf_puts(out, "");                /* NUL-terminated even when n == 0 */
    while (i < n) {
        size_t l = hp_utf8_valid_len(s + i, n - i);
        if (l) {
            i += l;
            run += l;
            continue;
        }
        hp_buf_append(out, s + i - run, run);
        run = 0;
        hp_buf_puts(out, REPLACEMENT);
        replaced++;
        i++;
    }
    hp_buf_append(out, s + i - run, run);
    return replaced;
}

size_t hp_utf8_escape(char *out, size_t cap, const void *data, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *s = data;
    size_t o = 0;
    if (cap == 0)
        return 0;
    for (size_t i = 0; i < n;) {
        size_t l = hp_utf8_valid_len(s + i, n - i);
        int c1 = l == 2 && s[i] == 0xC2 && s[i + 1] <= 0x9F;
        if (l && !c1 && s[i] >= 0x20 && s[i] != 0x7F) {
            if (o + l >= cap)
                break;
            for (size_t k = 0; k < l; k++)
                out[o++] = (char)s[i + k];
            i += l;
            continue;
        }
        size_t esc = c1 ? 2 : 1; /* a C1 control: both its bytes, escaped */
        if (o + 4 * esc >= cap)
            break;
        for (size_t k = 0; k < esc; k++) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = digits[s[i + k] >> 4];
            out[o++] = digits[s[i + k] & 15];
        }
        i += esc;
    }
    out[o] = '\0';
    return o;
}
