/*
 * png.h — writing 8-bit grayscale and RGB images as PNG files, with zlib's
 * deflate and crc32 (for `hpsearch examples`).
 *
 *     uint8_t px[28 * 28] = ...;                    // (c, h, w), c = 1 or 3
 *     if (hp_png_write("x.png", px, 1, 28, 28, 4, err, sizeof err) < 0) ...
 *
 * The file is one IHDR, one IDAT and IEND; every row uses filter 0. Any
 * thread.
 */
#ifndef HP_CLI_PNG_H
#define HP_CLI_PNG_H

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

/* hp_png_encode appends the PNG of a (c, h, w) image, c = 1 (gray) or 3
 * (RGB, planes as stored in a (3, h, w) tensor), each pixel repeated
 * scale x scale times (1..64), to out. Other channel counts show the first
 * channel as gray. HP_EINVAL for an empty or oversized image; HP_ENOMEM. */
int hp_png_encode(hp_buf_t *out, const uint8_t *px, int c, int h, int w, int scale, char *err,
                  size_t errlen);

/* hp_png_write encodes as hp_png_encode and writes path (replacing it);
 * HP_EIO names the path and the system's reason. */
int hp_png_write(const char *path, const uint8_t *px, int c, int h, int w, int scale, char *err,
                 size_t errlen);

#endif
