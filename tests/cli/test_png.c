/* PNG files as `hpsearch examples` writes them (png.h): decoded here with
 * zlib, every chunk's CRC checked, every pixel compared. */
#include "png.h"

#include "err.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* decodes a PNG of ours into rows (without their filter byte); returns the
 * pixel bytes, fills w, h, colour type */
static uint8_t *decode(const uint8_t *b, size_t n, uint32_t *w, uint32_t *h, int *ct)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    ck_assert(n > 8 && memcmp(b, sig, 8) == 0);
    size_t p = 8, zn = 0;
    uint8_t *z = malloc(n);
    const char *types[3] = {"IHDR", "IDAT", "IEND"};
    int k = 0;
    while (p < n) {
        uint32_t len = be32(b + p);
        ck_assert(p + 12 + len <= n);
        const uint8_t *t = b + p + 4, *d = b + p + 8;
        ck_assert_msg(k < 3 && memcmp(t, types[k], 4) == 0, "chunk %d is %.4s", k, (const char *)t);
        uLong crc = crc32(crc32(0L, t, 4), d, len);
        ck_assert_uint_eq(crc, be32(d + len));
        if (k == 0) {
            ck_assert_uint_eq(len, 13);
            *w = be32(d);
            *h = be32(d + 4);
            ck_assert_int_eq(d[8], 8);
            *ct = d[9];
            ck_assert_int_eq(d[10] | d[11] | d[12], 0);
        } else if (k == 1) {
            memcpy(z + zn, d, len);
            zn += len;
        }
        k++;
        p += 12 + len;
    }
    ck_assert_int_eq(k, 3);
    int ch = *ct == 2 ? 3 : 1;
    uLongf rn = (uLongf)(*h) * (1 + *w * (uLongf)ch);
    uint8_t *raw = malloc(rn), *px = malloc(rn);
    uLongf got = rn;
    ck_assert_int_eq(uncompress(raw, &got, z, zn), Z_OK);
    ck_assert_uint_eq(got, rn);
    size_t row = 1 + *w * (size_t)ch;
    for (uint32_t y = 0; y < *h; y++) {
        ck_assert_int_eq(raw[y * row], 0); /* filter none */
        memcpy(px + y * (row - 1), raw + y * row + 1, row - 1);
    }
    free(z);
    free(raw);
    return px;
}

START_TEST(test_gray_scaled)
{
    uint8_t img[6] = {0, 50, 100, 150, 200, 255}; /* (1, 2, 3) */
    hp_buf_t b = {0};
    char err[256];
    ck_assert_int_eq(hp_png_encode(&b, img, 1, 2, 3, 2, err, sizeof err), 0);
    uint32_t w, h;
    int ct;
    uint8_t *px = decode((const uint8_t *)b.data, b.len, &w, &h, &ct);
    ck_assert_uint_eq(w, 6);
    ck_assert_uint_eq(h, 4);
    ck_assert_int_eq(ct, 0);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            ck_assert_int_eq(px[y * w + x], img[(y / 2) * 3 + x / 2]);
    free(px);
    hp_buf_fini(&b);
}
END_TEST

START_TEST(test_rgb_planes)
{
    /* (3, 1, 2): red plane, green plane, blue plane */
    uint8_t img[6] = {255, 10, 0, 20, 7, 30};
    hp_buf_t b = {0};
    char err[256];
    ck_assert_int_eq(hp_png_encode(&b, img, 3, 1, 2, 1, err, sizeof err), 0);
    uint32_t w, h;
    int ct;
    uint8_t *px = decode((const uint8_t *)b.data, b.len, &w, &h, &ct);
    ck_assert_int_eq(ct, 2);
    uint8_t want[6] = {255, 0, 7, 10, 20, 30};
    ck_assert(memcmp(px, want, 6) == 0);
    free(px);
    hp_buf_fini(&b);
}
END_TEST

START_TEST(test_errors_name_the_problem)
{
    uint8_t img[4] = {0};
    hp_buf_t b = {0};
    char err[256];
    ck_assert_int_eq(hp_png_encode(&b, img, 1, 0, 4, 1, err, sizeof err), HP_EINVAL);
    ck_assert_int_eq(hp_png_encode(&b, img, 1, 2, 2, 65, err, sizeof err), HP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "at scale 65"));
    ck_assert_int_eq(hp_png_write("/nonexistent-dir/x.png", img, 1, 2, 2, 1, err, sizeof err),
                     HP_EIO);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent-dir/x.png: "));
    hp_buf_fini(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("png");
    TCase *tc = tcase_create("png");
    tcase_add_test(tc, test_gray_scaled);
    tcase_add_test(tc, test_rgb_planes);
    tcase_add_test(tc, test_errors_name_the_problem);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
