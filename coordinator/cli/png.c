/* PNG encoding: the signature, IHDR, one zlib-compressed IDAT, IEND. */
#include "png.h"

#include "err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void put32(hp_buf_t *b, uint32_t v)
{
    uint8_t q[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    hp_buf_append(b, q, 4);
}

/* a chunk: length, type, data, CRC over type and data */
static void chunk(hp_buf_t *b, const char type[4], const uint8_t *data, size_t n)
{
    put32(b, (uint32_t)n);
    hp_buf_append(b, type, 4);
    if (n)
        hp_buf_append(b, data, n);
    uLong crc = crc32(0L, (const Bytef *)type, 4);
    if (n)
        crc = crc32(crc, data, (uInt)n);
    put32(b, (uint32_t)crc);
}

int hp_png_encode(hp_buf_t *out, const uint8_t *px, int c, int h, int w, int scale, char *err,
                  size_t errlen)
{
    if (c < 1 || h < 1 || w < 1 || scale < 1 || scale > 64 || (long)h * scale > 65536 ||
        (long)w * scale > 65536)
        return hp_errf(err, errlen, HP_EINVAL,
                       "png: cannot encode a %dx%dx%d image at scale %d", c, h, w, scale);
    int rgb = c == 3, ch = rgb ? 3 : 1;
    size_t W = (size_t)w * (size_t)scale, H = (size_t)h * (size_t)scale;
    size_t row = 1 + W * (size_t)ch, raw_n = row * H;
    uint8_t *raw = malloc(raw_n);
    uLongf zn = compressBound((uLong)raw_n);
    uint8_t *z = malloc(zn);
    if (!raw || !z) {
        free(raw);
        free(z);
        return hp_errf(err, errlen, HP_ENOMEM, "png: out of memory");
    }
    size_t plane = (size_t)h * (size_t)w;
    for (size_t y = 0; y < H; y++) {
        uint8_t *r = raw + y * row;
        r[0] = 0; /* filter: none */
        size_t sy = y / (size_t)scale;
        for (size_t x = 0; x < W; x++) {
            size_t sx = x / (size_t)scale, at = sy * (size_t)w + sx;
            for (int k = 0; k < ch; k++)
                r[1 + x * (size_t)ch + (size_t)k] = px[(size_t)k * plane + at];
        }
    }
    int zrc = compress2(z, &zn, raw, (uLong)raw_n, 9);
    free(raw);
    if (zrc != Z_OK) {
        free(z);
        return hp_errf(err, errlen, HP_ENOMEM, "png: deflate failed (zlib %d)", zrc);
    }
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    hp_buf_append(out, sig, sizeof sig);
    uint8_t ihdr[13];
    uint32_t dims[2] = {(uint32_t)W, (uint32_t)H};
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 4; k++)
            ihdr[4 * i + k] = (uint8_t)(dims[i] >> (24 - 8 * k));
    ihdr[8] = 8;              /* bit depth */
    ihdr[9] = rgb ? 2 : 0;    /* colour type: truecolour or grayscale */
    ihdr[10] = ihdr[11] = ihdr[12] = 0; /* deflate, adaptive filters, no interlace */
    chunk(out, "IHDR", ihdr, sizeof ihdr);
    chunk(out, "IDAT", z, zn);
    chunk(out, "IEND", NULL, 0);
    free(z);
    return 0;
}

int hp_png_write(const char *path, const uint8_t *px, int c, int h, int w, int scale, char *err,
                 size_t errlen)
{
    hp_buf_t b = {0};
    int rc = hp_png_encode(&b, px, c, h, w, scale, err, errlen);
    if (rc < 0) {
        hp_buf_fini(&b);
        return rc;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        int e = errno;
        hp_buf_fini(&b);
        return hp_errf(err, errlen, HP_EIO, "%s: %s", path, strerror(e));
    }
    size_t len = b.len, n = fwrite(b.data, 1, len, f);
    int e = errno;
    int closed = fclose(f);
    hp_buf_fini(&b);
    if (n != len || closed != 0)
        return hp_errf(err, errlen, HP_EIO, "%s: %s", path, strerror(closed ? errno : e));
    return 0;
}
