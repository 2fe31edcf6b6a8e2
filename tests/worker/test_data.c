/* Datasets: IDX .gz loading and its errors (file + offset), CSV loading and
 * its errors (file:line + column), splits, normalization, augmentation. */
#include "cache.h"
#include "dataset.h"

#include "err.h"

#include "hp_check.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

static char dir[256];
static char err[1024];

static void mkdir_tmp(void)
{
    snprintf(dir, sizeof dir, "/tmp/hp_test_data_%d", (int)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    ck_assert(system(cmd) == 0);
}

static void rm_tmp(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert(system(cmd) == 0);
}

static const char *path(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static void write_gz(const char *p, const void *data, size_t n)
{
    gzFile g = gzopen(p, "wb");
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(gzwrite(g, data, (unsigned)n), (int)n);
    gzclose(g);
}

static void write_file(const char *p, const void *data, size_t n)
{
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* an IDX3 header for n images of h x w, then the pixels */
static size_t idx3(unsigned char *buf, unsigned n, unsigned h, unsigned w)
{
    unsigned char hdr[16] = {0, 0, 8, 3, 0, 0, 0, (unsigned char)n, 0, 0, 0, (unsigned char)h,
                             0, 0, 0, (unsigned char)w};
    memcpy(buf, hdr, 16);
    for (unsigned i = 0; i < n * h * w; i++)
        buf[16 + i] = (unsigned char)(i * 7);
    return 16 + (size_t)n * h * w;
}

START_TEST(test_idx_roundtrip)
{
    unsigned char buf[256], lab[16] = {0, 0, 8, 1, 0, 0, 0, 3, 2, 0, 4};
    size_t n = idx3(buf, 3, 4, 5);
    write_gz(path("img.gz"), buf, n);
    write_gz(path("lab.gz"), lab, 11);
    write_file(path("img.raw"), buf, n); /* plain files work too */
    hp_dataset_t ds = {0};
    ck_assert_msg(hp_idx_load_images(&ds, path("img.gz"), err, sizeof err) == 0, "%s", err);
    ck_assert_msg(hp_idx_load_labels(&ds, path("lab.gz"), err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(ds.n, 3);
    ck_assert_int_eq(ds.h, 4);
    ck_assert_int_eq(ds.w, 5);
    ck_assert_int_eq(ds.x8[21], (unsigned char)(21 * 7));
    ck_assert_int_eq(ds.y[2], 4);
    ck_assert_int_eq(ds.nclasses, 5);
    hp_dataset_fini(&ds);
    ck_assert_msg(hp_idx_load_images(&ds, path("img.raw"), err, sizeof err) == 0, "%s", err);
    hp_dataset_fini(&ds);
}
END_TEST

START_TEST(test_idx_errors_name_file_and_offset)
{
    unsigned char buf[256];
    size_t n = idx3(buf, 3, 4, 5);
    hp_dataset_t ds = {0};

    ck_assert_int_eq(hp_idx_load_images(&ds, path("missing.gz"), err, sizeof err), HP_ENOENT);
    ck_assert_msg(strstr(err, "missing.gz: cannot open"), "%s", err);

    buf[2] = 0x0d; /* float data: not what we read */
    write_gz(path("magic.gz"), buf, n);
    ck_assert_int_eq(hp_idx_load_images(&ds, path("magic.gz"), err, sizeof err), HP_ECORRUPT);
    ck_assert_msg(strstr(err, "magic.gz: offset 0: wrong magic 0x00000d03"), "%s", err);
    buf[2] = 0x08;

    /* labels given to the image loader: wrong dimension count */
    unsigned char lab[11] = {0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3};
    write_gz(path("lab.gz"), lab, 11);
    ck_assert_int_eq(hp_idx_load_images(&ds, path("lab.gz"), err, sizeof err), HP_ECORRUPT);
    ck_assert_msg(strstr(err, "lab.gz: offset 0: wrong magic"), "%s", err);

    /* header promises 3 images, the data holds 2.5 */
    write_gz(path("short.gz"), buf, n - 30);
    ck_assert_int_eq(hp_idx_load_images(&ds, path("short.gz"), err, sizeof err), HP_ECORRUPT);
    ck_assert_msg(strstr(err, "short.gz: offset 46: truncated") && strstr(err, "from offset 16"),
                  "%s", err);

    /* header too short */
    write_gz(path("hdr.gz"), buf, 10);
    ck_assert_int_eq(hp_idx_load_images(&ds, path("hdr.gz"), err, sizeof err), HP_ECORRUPT);
    ck_assert_msg(strstr(err, "hdr.gz: offset 10: truncated"), "%s", err);

    /* extra bytes: the shape in the header is wrong */
    unsigned char big[300];
    memcpy(big, buf, n);
    memset(big + n, 1, 20);
    write_gz(path("long.gz"), big, n + 20);
    ck_assert_int_eq(hp_idx_load_images(&ds, path("long.gz"), err, sizeof err), HP_ECORRUPT);
    ck_assert_msg(strstr(err, "long.gz: offset 76: unexpected data"), "%s", err);

    /* a gzip stream cut short */
    write_gz(path("ok.gz"), buf, n);
    FILE *f = fopen(path("ok.gz"), "rb");
    unsigned char gz[512];
    size_t gn = fread(gz, 1, sizeof gz, f);
    fclose(f);
    write_file(path("cut.gz"), gz, gn / 2);
    ck_assert_int_eq(hp_idx_load_images(&ds, path("cut.gz"), err, sizeof err), HP_ECORRUPT);
    ck_assert_msg(strstr(err, "cut.gz: offset "), "%s", err);

    /* corrupted compressed bytes (CRC or inflate error) */
    for (size_t i = 12; i < gn - 8; i++)
        gz[i] ^= 0x5a;
    write_file(path("bad.gz"), gz, gn);
    ck_assert_int_eq(hp_idx_load_images(&ds, path("bad.gz"), err, sizeof err), HP_ECORRUPT);
    ck_assert_msg(strstr(err, "bad.gz: offset ") && strstr(err, "corrupt gzip"), "%s", err);

    /* label count differs from the image count */
    ck_assert(hp_idx_load_images(&ds, path("ok.gz"), err, sizeof err) == 0);
    unsigned char lab2[10] = {0, 0, 8, 1, 0, 0, 0, 2, 1, 2};
    write_gz(path("lab2.gz"), lab2, 10);
    ck_assert_int_eq(hp_idx_load_labels(&ds, path("lab2.gz"), err, sizeof err), HP_ECORRUPT);
    ck_assert_msg(strstr(err, "lab2.gz: offset 4: 2 labels for 3 images"), "%s", err);
    hp_dataset_fini(&ds);
}
END_TEST

/* found by fuzz_idx: a damaged header claiming 2^31 images made the
 * loader allocate 19 GB before reading a byte. The buffer now grows with
 * the data, so the file's truncation is what is reported. The address
 * space limit makes the old behaviour fail here (ENOMEM) rather than
 * overcommit; ASan reserves terabytes of shadow, so it cannot run there. */
START_TEST(test_idx_claimed_size_costs_no_memory)
{
#if defined(__SANITIZE_ADDRESS__)
    fprintf(stderr, "test_idx_claimed_size_costs_no_memory: the address-space limit is not "
                    "possible under ASan; only the error is checked\n");
#else
    struct rlimit lim = {(rlim_t)1 << 30, (rlim_t)1 << 30};
    ck_assert(setrlimit(RLIMIT_AS, &lim) == 0); /* this test's forked child only */
#endif
    unsigned char hdr[22] = {0, 0, 8, 3, 0x80, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3, 0, 1, 2, 3, 4, 5};
    write_file(path("huge"), hdr, sizeof hdr);
    hp_dataset_t ds = {0};
    ck_assert_int_eq(hp_idx_load_images(&ds, path("huge"), err, sizeof err), HP_ECORRUPT);
    ck_assert_msg(strstr(err, "huge: offset 22: truncated file: reading 2147483650 images of 3x3"),
                  "%s", err);
}
END_TEST

START_TEST(test_fashion_mnist)
{
    hp_dataset_t tr = {0}, te = {0};
    ck_assert_msg(hp_fashion_mnist_load(&tr, &te, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(tr.n, 60000);
    ck_assert_uint_eq(te.n, 10000);
    ck_assert_int_eq(tr.nclasses, 10);
    ck_assert_uint_eq(tr.dim, 784);
    ck_assert_int_eq(tr.y[0], 9); /* the first training image is an ankle boot */
    ck_assert_ptr_nonnull(tr.x8);  /* kept as uint8 */
    ck_assert_ptr_null(tr.xf);
    hp_dataset_fini(&tr);
    hp_dataset_fini(&te);
    ck_assert_int_eq(hp_fashion_mnist_load(&tr, &te, dir, err, sizeof err), HP_ENOENT);
    ck_assert_msg(strstr(err, "train-images-idx3-ubyte.gz"), "%s", err);
}
END_TEST

/* ---- CSV ---- */

static int csv(const char *text, const char *label, hp_task_t task, hp_dataset_t *ds)
{
    write_file(path("d.csv"), text, strlen(text));
    return hp_csv_load(ds, path("d.csv"), label, task, err, sizeof err);
}

START_TEST(test_csv_load)
{
    hp_dataset_t ds = {0};
    ck_assert_msg(csv("a, b,y\r\n1,2,0\n\n3.5,-4e1,2\n", NULL, HP_TASK_CLASSIFY, &ds) == 0, "%s", err);
    ck_assert_uint_eq(ds.n, 2);
    ck_assert_uint_eq(ds.dim, 2);
    ck_assert_int_eq(ds.nclasses, 3);
    ck_assert_float_eq(ds.xf[2], 3.5f);
    ck_assert_float_eq(ds.xf[3], -40.0f);
    ck_assert_int_eq(ds.y[1], 2);
    ck_assert_str_eq(ds.feature_names[1], "b");
    hp_dataset_fini(&ds);
    /* label column by name, anywhere; regression targets */
    ck_assert_msg(csv("t,a,b\n0.5,1,2\n-1.25,3,4\n", "t", HP_TASK_REGRESS, &ds) == 0, "%s", err);
    ck_assert_float_eq(ds.yt[1], -1.25f);
    ck_assert_float_eq(ds.xf[1], 2.0f);
    ck_assert_str_eq(ds.feature_names[0], "a");
    hp_dataset_fini(&ds);
}
END_TEST

START_TEST(test_csv_errors)
{
    hp_dataset_t ds = {0};
    ck_assert_int_eq(csv("", NULL, HP_TASK_CLASSIFY, &ds), HP_EINVAL);
    ck_assert_msg(strstr(err, "d.csv: empty file"), "%s", err);
    ck_assert_int_eq(csv("a,b\n", NULL, HP_TASK_CLASSIFY, &ds), HP_EINVAL);
    ck_assert_msg(strstr(err, "d.csv: no data rows"), "%s", err);
    ck_assert_int_eq(csv("a,b,y\n1,2,0\n1,2\n", NULL, HP_TASK_CLASSIFY, &ds), HP_EINVAL);
    ck_assert_msg(strstr(err, "d.csv:3: expected 3 fields (as in the header), got 2"), "%s", err);
    ck_assert_int_eq(csv("a,b,y\n1,2,0\n1,2,3,4\n", NULL, HP_TASK_CLASSIFY, &ds), HP_EINVAL);
    ck_assert_msg(strstr(err, "d.csv:3: expected 3 fields"), "%s", err);
    ck_assert_int_eq(csv("a,b,y\n1,abc,0\n", NULL, HP_TASK_CLASSIFY, &ds), HP_EINVAL);
    ck_assert_msg(strstr(err, "d.csv:2: column 'b': not a number: 'abc'"), "%s", err);
    ck_assert_int_eq(csv("a,b,y\n1,,0\n", NULL, HP_TASK_CLASSIFY, &ds), HP_EINVAL);
    ck_assert_msg(strstr(err, "d.csv:2: column 'b': empty cell"), "%s", err);
    ck_assert_int_eq(csv("a,b,y\n1,nan,0\n", NULL, HP_TASK_CLASSIFY, &ds), HP_EINVAL);
    ck_assert_msg(strstr(err, "not a finite number"), "%s", err);
    ck_assert_int_eq(csv("a,b,c\n1,2,3\n", "label", HP_TASK_CLASSIFY, &ds), HP_EINVAL);
    ck_assert_msg(strstr(err, "d.csv: no label column named 'label' (columns: a, b, c)"), "%s", err);
    ck_assert_int_eq(csv("a,y\n1,0.5\n", NULL, HP_TASK_CLASSIFY, &ds), HP_EINVAL);
    ck_assert_msg(strstr(err, "d.csv:2: column 'y': a class label must be an integer"), "%s", err);
    ck_assert_int_eq(csv("1,2,3\n4,5,6\n", NULL, HP_TASK_CLASSIFY, &ds), HP_EINVAL);
    ck_assert_msg(strstr(err, "d.csv:1: the first row must name the columns"), "%s", err);
    ck_assert_int_eq(hp_csv_load(&ds, path("nope.csv"), NULL, HP_TASK_CLASSIFY, err, sizeof err),
                     HP_ENOENT);
    ck_assert_msg(strstr(err, "nope.csv: cannot open"), "%s", err);
    hp_dataset_fini(&ds);
}
END_TEST

/* ---- splits, normalization, gathering ---- */

static void tabular(hp_dataset_t *ds, size_t n)
{
    memset(ds, 0, sizeof *ds);
    ds->n = n;
    ds->dim = 2;
    ds->c = 2, ds->h = ds->w = 1;
    ds->xf = malloc(sizeof(float) * n * 2);
    ds->y = malloc(sizeof(int32_t) * n);
    for (size_t i = 0; i < n; i++) {
        ds->xf[2 * i] = (float)i;
        ds->xf[2 * i + 1] = 5.0f; /* constant column */
        ds->y[i] = (int32_t)(i % 3);
    }
    ds->nclasses = 3;
}

START_TEST(test_split_disjoint_and_seeded)
{
    hp_dataset_t ds;
    tabular(&ds, 100);
    hp_split_t a, b, c;
    ck_assert(hp_split_init(&a, &ds, 10, 20, 0, 42, err, sizeof err) == 0);
    ck_assert(hp_split_init(&b, &ds, 10, 20, 0, 42, err, sizeof err) == 0);
    ck_assert(hp_split_init(&c, &ds, 10, 20, 30, 43, err, sizeof err) == 0);
    ck_assert_uint_eq(a.ntest, 10);
    ck_assert_uint_eq(a.nval, 20);
    ck_assert_uint_eq(a.ntrain, 70);
    ck_assert_uint_eq(c.ntrain, 30);
    ck_assert(memcmp(a.perm, b.perm, 100 * sizeof(uint32_t)) == 0);
    ck_assert(memcmp(a.perm, c.perm, 100 * sizeof(uint32_t)) != 0);
    int seen[100] = {0};
    for (size_t i = 0; i < 100; i++)
        seen[a.perm[i]]++;
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(seen[i], 1);
    hp_split_fini(&a), hp_split_fini(&b), hp_split_fini(&c);
    ck_assert_int_eq(hp_split_init(&a, &ds, 50, 50, 0, 1, err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "leave no training samples"), "%s", err);
    ck_assert_int_eq(hp_split_init(&a, &ds, 0, 50, 60, 1, err, sizeof err), HP_EINVAL);
    ck_assert_msg(strstr(err, "train_size 60"), "%s", err);
    hp_dataset_fini(&ds);
}
END_TEST

START_TEST(test_shift_darken_and_noise)
{
    hp_dataset_t ds = {0};
    ds.n = 3;
    ds.c = 1, ds.h = 2, ds.w = 2;
    ds.dim = 4;
    ds.x8 = malloc(12);
    ck_assert_ptr_nonnull(ds.x8);
    const uint8_t px[12] = {0, 100, 200, 255, 10, 20, 30, 40, 128, 128, 128, 128};
    memcpy(ds.x8, px, 12);
    ck_assert_int_eq(hp_data_shift(&ds, HP_SHIFT_DARKEN, err, sizeof err), 0);
    const uint8_t dark[12] = {0, 40, 80, 102, 4, 8, 12, 16, 51, 51, 51, 51};
    ck_assert_mem_eq(ds.x8, dark, 12);
    /* noise: per example, the same every time */
    uint8_t a[12];
    memcpy(ds.x8, px, 12);
    ck_assert_int_eq(hp_data_shift(&ds, HP_SHIFT_NOISE, err, sizeof err), 0);
    memcpy(a, ds.x8, 12);
    ck_assert(memcmp(a, px, 12) != 0);
    memcpy(ds.x8, px, 12);
    ck_assert_int_eq(hp_data_shift(&ds, HP_SHIFT_NOISE, err, sizeof err), 0);
    ck_assert_mem_eq(ds.x8, a, 12);
    hp_dataset_fini(&ds);
    /* tabular data has no pixels to shift */
    ds.n = 1, ds.dim = 1, ds.c = ds.h = ds.w = 1;
    float v = 1;
    ds.xf = &v;
    ck_assert_int_eq(hp_data_shift(&ds, HP_SHIFT_DARKEN, err, sizeof err), HP_EINVAL);
    ck_assert_int_eq(hp_data_shift(&ds, HP_SHIFT_NONE, err, sizeof err), 0);
}
END_TEST

/* the engine splits a shifted test set into shift_val ("val") and the
 * test examples ("train"): disjoint and covering it, as a split is */
START_TEST(test_shift_split_disjoint)
{
    hp_dataset_t ds = {0};
    ds.n = 10000;
    hp_split_t s;
    ck_assert(hp_split_init(&s, &ds, 0, 2000, 0, 1, err, sizeof err) == 0);
    ck_assert_uint_eq(s.nval, 2000);
    ck_assert_uint_eq(s.ntrain, 8000);
    unsigned char *seen = calloc(ds.n, 1);
    ck_assert_ptr_nonnull(seen);
    for (size_t i = 0; i < s.nval; i++)
        seen[s.val[i]]++;
    for (size_t i = 0; i < s.ntrain; i++)
        seen[s.train[i]]++;
    for (size_t i = 0; i < ds.n; i++)
        ck_assert_int_eq(seen[i], 1);
    free(seen);
    hp_split_fini(&s);
}
END_TEST

START_TEST(test_normalization_uses_training_split_only)
{
    hp_dataset_t ds;
    tabular(&ds, 10);
    uint32_t train[4] = {0, 1, 2, 3}; /* x0 = 0..3: mean 1.5, std sqrt(1.25) */
    hp_norm_t nm;
    ck_assert(hp_norm_fit(&nm, &ds, train, 4, HP_NORM_STANDARD, err, sizeof err) == 0);
    ck_assert_float_eq_tol(nm.shift[0], 1.5f, 1e-6);
    ck_assert_float_eq_tol(nm.scale[0], 1.0f / sqrtf(1.25f), 1e-6);
    float x[4];
    int32_t y[2];
    uint32_t pick[2] = {3, 9};
    hp_data_gather(x, y, NULL, &ds, pick, 2, &nm, NULL, NULL);
    ck_assert_float_eq_tol(x[0], 1.5f / sqrtf(1.25f), 1e-5);
    ck_assert_float_eq_tol(x[1], 0.0f, 1e-6); /* constant column -> 0, not NaN */
    ck_assert_float_eq_tol(x[2], 7.5f / sqrtf(1.25f), 1e-5); /* val sample: train stats */
    ck_assert_int_eq(y[1], 0);
    hp_norm_fini(&nm);
    ck_assert(hp_norm_fit(&nm, &ds, train, 4, HP_NORM_CENTER, err, sizeof err) == 0);
    hp_data_gather(x, NULL, NULL, &ds, train, 2, &nm, NULL, NULL);
    ck_assert_float_eq_tol(x[0], -0.5f, 1e-6);
    hp_norm_fini(&nm);
    hp_dataset_fini(&ds);

    /* images: one statistic; unit scale is /255 */
    hp_dataset_t im = {0};
    im.n = 2, im.dim = 4, im.c = 1, im.h = im.w = 2;
    uint8_t px[8] = {0, 255, 0, 255, 0, 255, 0, 255};
    im.x8 = px;
    uint32_t both[2] = {0, 1};
    ck_assert(hp_norm_fit(&nm, &im, both, 2, HP_NORM_UNIT, err, sizeof err) == 0);
    hp_data_gather(x, NULL, NULL, &im, both, 1, &nm, NULL, NULL);
    ck_assert_float_eq(x[1], 1.0f);
    hp_norm_fini(&nm);
    ck_assert(hp_norm_fit(&nm, &im, both, 2, HP_NORM_STANDARD, err, sizeof err) == 0);
    hp_data_gather(x, NULL, NULL, &im, both, 1, &nm, NULL, NULL);
    ck_assert_float_eq_tol(x[0], -1.0f, 1e-6);
    ck_assert_float_eq_tol(x[1], 1.0f, 1e-6);
    hp_norm_fini(&nm);
}
END_TEST

/* the raw pixel (0..255) that gathered value x at j stands for */
static float raw_of(const hp_norm_t *nm, size_t j, float x)
{
    return x / nm->scale[j] + nm->shift[j];
}

/* Does x (c, h, w) hold exactly img moved by (dx, dy) — mirrored first
 * when flip — with raw-0 pixels where nothing moved in? Compared in raw
 * pixels, so a gather that rounds differently still matches. */
static int is_moved(const float *x, const uint8_t *img, int c, int h, int w, const hp_norm_t *nm,
                    int dx, int dy, int flip)
{
    for (int k = 0; k < c; k++)
        for (int r = 0; r < h; r++)
            for (int q = 0; q < w; q++) {
                int sr = r - dy, sq = q - dx;
                int in = sr >= 0 && sr < h && sq >= 0 && sq < w;
                if (in && flip)
                    sq = w - 1 - sq;
                size_t j = ((size_t)k * h + r) * w + q;
                float want = in ? img[((size_t)k * h + sr) * w + sq] : 0;
                if (fabsf(raw_of(nm, j, x[j]) - want) > 1e-3f)
                    return 0;
            }
    return 1;
}

START_TEST(test_augmentation)
{
    /* a 3x3 image with a bright top-left pixel: a flip moves it right,
     * shifts move it by at most 1 and keep one bright pixel or none */
    hp_dataset_t im = {0};
    im.n = 1, im.dim = 9, im.c = 1, im.h = im.w = 3;
    uint8_t px[9] = {255, 0, 0, 0, 0, 0, 0, 0, 0};
    im.x8 = px;
    uint32_t i0[1] = {0};
    hp_norm_t nm;
    ck_assert(hp_norm_fit(&nm, &im, i0, 1, HP_NORM_UNIT, err, sizeof err) == 0);
    hp_rng_t r;
    hp_rng_init(&r, 1, 2);
    hp_augment_t flip = {0, 1};
    int flipped = 0;
    for (int k = 0; k < 20; k++) {
        float x[9];
        hp_data_gather(x, NULL, NULL, &im, i0, 1, &nm, &flip, &r);
        ck_assert(x[0] == 1.0f || x[2] == 1.0f);
        flipped += x[2] == 1.0f;
    }
    ck_assert(flipped > 0 && flipped < 20);
    hp_augment_t shift = {1, 0};
    for (int k = 0; k < 20; k++) {
        float x[9], sum = 0;
        hp_data_gather(x, NULL, NULL, &im, i0, 1, &nm, &shift, &r);
        for (int j = 0; j < 9; j++)
            sum += x[j];
        ck_assert(sum == 0.0f || sum == 1.0f);
        ck_assert(x[2] == 0.0f && x[6] == 0.0f && x[8] == 0.0f);
    }
    hp_norm_fini(&nm);

    /* the shift moves the content: a 2-channel 4x6 image of distinct,
     * non-zero pixels (so every move looks different, and nothing moved in
     * looks like a 0), shifts of up to 2 under a seeded RNG. Every draw is
     * the image moved exactly by one (dx, dy) in [-2, 2]^2, both channels
     * alike, with raw 0 where nothing moved in; the draws move it both
     * ways along both axes. Standardized, so a raw 0 is not a gathered 0. */
    enum { C = 2, H = 4, W = 6, D = C * H * W, N = 2, DRAWS = 60 };
    uint8_t g[D];
    for (int j = 0; j < D; j++)
        g[j] = (uint8_t)(5 + 5 * j);
    hp_dataset_t gi = {0};
    gi.n = 1, gi.dim = D, gi.c = C, gi.h = H, gi.w = W;
    gi.x8 = g;
    ck_assert(hp_norm_fit(&nm, &gi, i0, 1, HP_NORM_STANDARD, err, sizeof err) == 0);
    for (int flip_too = 0; flip_too < 2; flip_too++) {
        hp_augment_t aug = {N, flip_too};
        int seen[2][2 * N + 1][2 * N + 1] = {{{0}}};
        int left = 0, right = 0, up = 0, down = 0, diagonal = 0, moves = 0;
        hp_rng_init(&r, 7, (uint64_t)flip_too);
        for (int k = 0; k < DRAWS; k++) {
            float x[D];
            hp_data_gather(x, NULL, NULL, &gi, i0, 1, &nm, &aug, &r);
            int found = 0;
            for (int fl = 0; fl <= flip_too && !found; fl++)
                for (int dy = -N; dy <= N && !found; dy++)
                    for (int dx = -N; dx <= N && !found; dx++)
                        if (is_moved(x, g, C, H, W, &nm, dx, dy, fl)) {
                            found = 1;
                            moves += !seen[fl][dy + N][dx + N]++ && (dx || dy);
                            left += dx < 0, right += dx > 0, up += dy < 0, down += dy > 0;
                            diagonal += dx && dy;
                        }
            ck_assert_msg(found, "draw %d (flip %d) is not the image moved by <= %d pixels", k,
                          flip_too, N);
        }
        ck_assert_msg(left && right && up && down && diagonal,
                      "moves: %d left, %d right, %d up, %d down, %d diagonal", left, right, up,
                      down, diagonal);
        ck_assert_int_ge(moves, 10); /* distinct non-zero (dx, dy), of 24 (48 with flips) */
        if (flip_too) { /* both orientations, each moved */
            int plain = 0, mirrored = 0;
            for (int dy = 0; dy <= 2 * N; dy++)
                for (int dx = 0; dx <= 2 * N; dx++) {
                    plain += seen[0][dy][dx] && (dx != N || dy != N);
                    mirrored += seen[1][dy][dx] && (dx != N || dy != N);
                }
            ck_assert(plain > 0 && mirrored > 0);
        }
    }
    hp_norm_fini(&nm);
}
END_TEST

/* ---- the worker's dataset cache ---- */

static void write_text(const char *p, const char *text)
{
    write_file(p, text, strlen(text));
}

START_TEST(test_cache_lends_one_copy)
{
    write_text(path("c.csv"), "a,b,y\n1,2,0\n3,4,1\n5,6,0\n");
    hp_data_cache_t *c = hp_data_cache_new(0);
    ck_assert_ptr_nonnull(c);
    hp_data_lease_t l1, l2, l3;
    ck_assert_msg(hp_data_cache_csv(c, path("c.csv"), NULL, HP_TASK_CLASSIFY, &l1, err,
                                    sizeof err) == 0, "%s", err);
    ck_assert_int_eq(l1.hit, 0);
    ck_assert_uint_eq(l1.train->n, 3);
    ck_assert_uint_eq(l1.test->n, 0); /* a CSV file has no test set of its own */
    ck_assert_msg(hp_data_cache_csv(c, path("c.csv"), NULL, HP_TASK_CLASSIFY, &l2, err,
                                    sizeof err) == 0, "%s", err);
    ck_assert_int_eq(l2.hit, 1);
    ck_assert_ptr_eq(l1.train, l2.train); /* the same memory, loaded once */
    /* another label column or task is another dataset */
    ck_assert_msg(hp_data_cache_csv(c, path("c.csv"), "a", HP_TASK_REGRESS, &l3, err,
                                    sizeof err) == 0, "%s", err);
    ck_assert_int_eq(l3.hit, 0);
    ck_assert_ptr_ne(l3.train, l1.train);
    size_t n, bytes;
    hp_data_cache_stats(c, &n, &bytes);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(bytes, hp_dataset_bytes(l1.train) + hp_dataset_bytes(l3.train));
    hp_data_cache_release(c, &l1);
    ck_assert_ptr_null(l1.entry);
    hp_data_cache_release(c, &l1); /* a released lease is a no-op */
    hp_data_cache_release(c, &l2);
    hp_data_cache_release(c, &l3);
    hp_data_cache_stats(c, &n, &bytes);
    ck_assert_uint_eq(n, 2); /* kept for the next trial */
    hp_data_cache_free(c);
}
END_TEST

START_TEST(test_cache_reloads_a_changed_file)
{
    write_text(path("c.csv"), "a,y\n1,0\n2,1\n");
    hp_data_cache_t *c = hp_data_cache_new(0);
    hp_data_lease_t l1, l2, l3;
    ck_assert(hp_data_cache_csv(c, path("c.csv"), NULL, HP_TASK_CLASSIFY, &l1, err, sizeof err) == 0);
    /* rewritten while a trial holds the old data: the holder keeps it, the
     * next trial gets the new file */
    write_text(path("c.csv.new"), "a,y\n1,0\n2,1\n3,1\n");
    ck_assert(rename(path("c.csv.new"), path("c.csv")) == 0);
    ck_assert(hp_data_cache_csv(c, path("c.csv"), NULL, HP_TASK_CLASSIFY, &l2, err, sizeof err) == 0);
    ck_assert_int_eq(l2.hit, 0);
    ck_assert_uint_eq(l2.train->n, 3);
    ck_assert_uint_eq(l1.train->n, 2);
    size_t n, bytes;
    hp_data_cache_stats(c, &n, &bytes);
    ck_assert_uint_eq(n, 2);
    hp_data_cache_release(c, &l1); /* the stale copy goes with its last holder */
    hp_data_cache_stats(c, &n, &bytes);
    ck_assert_uint_eq(n, 1);
    ck_assert(hp_data_cache_csv(c, path("c.csv"), NULL, HP_TASK_CLASSIFY, &l3, err, sizeof err) == 0);
    ck_assert_int_eq(l3.hit, 1);
    ck_assert_ptr_eq(l3.train, l2.train);
    hp_data_cache_release(c, &l2);
    hp_data_cache_release(c, &l3);
    /* a file that is gone: the loader's error, nothing cached */
    ck_assert(unlink(path("c.csv")) == 0);
    ck_assert_int_lt(hp_data_cache_csv(c, path("c.csv"), NULL, HP_TASK_CLASSIFY, &l1, err,
                                       sizeof err), 0);
    ck_assert_msg(strstr(err, "c.csv"), "%s", err);
    ck_assert_ptr_null(l1.entry);
    hp_data_cache_stats(c, &n, &bytes);
    ck_assert_uint_eq(n, 0);
    /* bad content is the loader's error too, naming file and line */
    write_text(path("c.csv"), "a,y\n1,x\n");
    ck_assert_int_lt(hp_data_cache_csv(c, path("c.csv"), NULL, HP_TASK_CLASSIFY, &l1, err,
                                       sizeof err), 0);
    ck_assert_msg(strstr(err, "c.csv:2"), "%s", err);
    hp_data_cache_stats(c, &n, &bytes);
    ck_assert_uint_eq(n, 0);
    hp_data_cache_free(c);
}
END_TEST

START_TEST(test_cache_evicts_unheld_lru_over_budget)
{
    write_text(path("a.csv"), "a,y\n1,0\n2,1\n");
    write_text(path("b.csv"), "a,y\n1,0\n2,1\n");
    write_text(path("d.csv"), "a,y\n1,0\n2,1\n");
    /* each holds 2 x (4 + 4) bytes: a budget of 20 keeps two unheld */
    hp_data_cache_t *c = hp_data_cache_new(20);
    hp_data_lease_t la, lb, ld, again;
    ck_assert(hp_data_cache_csv(c, path("a.csv"), NULL, HP_TASK_CLASSIFY, &la, err, sizeof err) == 0);
    ck_assert_uint_eq(hp_dataset_bytes(la.train), 16);
    ck_assert(hp_data_cache_csv(c, path("b.csv"), NULL, HP_TASK_CLASSIFY, &lb, err, sizeof err) == 0);
    ck_assert(hp_data_cache_csv(c, path("d.csv"), NULL, HP_TASK_CLASSIFY, &ld, err, sizeof err) == 0);
    size_t n, bytes;
    hp_data_cache_stats(c, &n, &bytes);
    ck_assert_uint_eq(n, 3); /* all held: over budget, nothing may go */
    hp_data_cache_release(c, &lb); /* b is unheld, but a and d are held */
    hp_data_cache_stats(c, &n, &bytes);
    ck_assert_uint_eq(n, 2);
    hp_data_cache_release(c, &la);
    hp_data_cache_release(c, &ld);
    hp_data_cache_stats(c, &n, &bytes);
    ck_assert_uint_eq(n, 1); /* a (used longest ago) went, d stays */
    ck_assert_uint_le(bytes, 20);
    ck_assert(hp_data_cache_csv(c, path("d.csv"), NULL, HP_TASK_CLASSIFY, &again, err, sizeof err) == 0);
    ck_assert_int_eq(again.hit, 1);
    hp_data_cache_release(c, &again);
    hp_data_cache_free(c);
}
END_TEST

START_TEST(test_cache_fashion_mnist)
{
    hp_data_cache_t *c = hp_data_cache_new(0);
    hp_data_lease_t l1, l2;
    ck_assert_msg(hp_data_cache_fashion(c, NULL, &l1, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(l1.train->n, 60000);
    ck_assert_uint_eq(l1.test->n, 10000);
    ck_assert_int_eq(l1.hit, 0);
    ck_assert_msg(hp_data_cache_fashion(c, "", &l2, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(l2.hit, 1); /* "" and NULL name the same directory */
    ck_assert_ptr_eq(l2.test, l1.test);
    hp_data_cache_release(c, &l1);
    hp_data_cache_release(c, &l2);
    ck_assert_int_lt(hp_data_cache_fashion(c, "/nonexistent-dir", &l1, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "/nonexistent-dir/train-images-idx3-ubyte.gz"), "%s", err);
    hp_data_cache_free(c);
}
END_TEST

/* a sequence CSV: the sequence columns alone, in header order (time-major:
 * step 0's features, then step 1's), shaped (1, T, F); normalization per
 * feature pooled over the steps; mistakes name both fields and counts */
START_TEST(test_sequence_columns)
{
    hp_dataset_t ds = {0}, sq;
    ck_assert(csv("id,s0_a,s0_b,s1_a,s1_b,s2_a,s2_b,y\n"
                  "7,1,10,2,20,3,30,0\n"
                  "8,4,40,5,50,6,60,1\n",
                  "y", HP_TASK_CLASSIFY, &ds) == 0);
    ck_assert_msg(hp_dataset_sequence(&sq, &ds, "s*", (int[2]){3, 2}, err, sizeof err) == 0, "%s",
                  err);
    ck_assert_uint_eq(sq.n, 2);
    ck_assert_uint_eq(sq.dim, 6);
    ck_assert_int_eq(sq.c, 1);
    ck_assert_int_eq(sq.h, 3);
    ck_assert_int_eq(sq.w, 2);
    ck_assert_int_eq(sq.seq_t, 3);
    ck_assert_int_eq(sq.seq_f, 2);
    ck_assert_int_eq(sq.img_c, 0);
    static const float want[12] = {1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60};
    for (int j = 0; j < 12; j++)
        ck_assert_float_eq(sq.xf[j], want[j]);
    ck_assert_int_eq(sq.y[1], 1);
    ck_assert_str_eq(sq.feature_names[0], "s0_a");
    ck_assert_str_eq(sq.feature_names[5], "s2_b");
    /* standardize: feature a's statistics over every step of both rows
     * (1..6: mean 3.5), not per column (s0_a alone: mean 2.5) */
    uint32_t idx[2] = {0, 1};
    hp_norm_t nm;
    ck_assert(hp_norm_fit(&nm, &sq, idx, 2, HP_NORM_STANDARD, err, sizeof err) == 0);
    double sd_a = sqrt(17.5 / 6), sd_b = 10 * sd_a;
    for (int t = 0; t < 3; t++) {
        ck_assert_float_eq_tol(nm.shift[2 * t], 3.5f, 1e-5f);
        ck_assert_float_eq_tol(nm.shift[2 * t + 1], 35.0f, 1e-4f);
        ck_assert_float_eq_tol(nm.scale[2 * t], (float)(1 / sd_a), 1e-5f);
        ck_assert_float_eq_tol(nm.scale[2 * t + 1], (float)(1 / sd_b), 1e-6f);
    }
    float x[12];
    int32_t y[2];
    hp_data_gather(x, y, NULL, &sq, idx, 2, &nm, NULL, NULL);
    for (int j = 0; j < 12; j++)
        ck_assert_float_eq_tol(x[j], (float)((want[j] - (j % 2 ? 35.0 : 3.5)) /
                                             (j % 2 ? sd_b : sd_a)),
                               1e-5f);
    hp_norm_fini(&nm);
    /* unit: [min, max] of the feature over every step */
    ck_assert(hp_norm_fit(&nm, &sq, idx, 2, HP_NORM_UNIT, err, sizeof err) == 0);
    ck_assert_float_eq(nm.shift[4], 1.0f);
    ck_assert_float_eq_tol(nm.scale[0], 1.0f / 5, 1e-6f);
    ck_assert_float_eq_tol(nm.scale[5], 1.0f / 50, 1e-7f);
    hp_norm_fini(&nm);
    /* a copy keeps the shape */
    hp_dataset_t cp;
    ck_assert(hp_dataset_copy(&cp, &sq, err, sizeof err) == 0);
    ck_assert_int_eq(cp.seq_t * 10 + cp.seq_f, 32);
    hp_dataset_fini(&cp);
    hp_dataset_fini(&sq);
    /* a list of names, in header order whatever the list's order */
    ck_assert(hp_dataset_sequence(&sq, &ds, "s1_b,s0_a", (int[2]){2, 1}, err, sizeof err) == 0);
    ck_assert_float_eq(sq.xf[0], 1.0f);
    ck_assert_float_eq(sq.xf[1], 20.0f);
    hp_dataset_fini(&sq);
    /* mistakes */
    ck_assert_int_eq(hp_dataset_sequence(&sq, &ds, "s*", (int[2]){2, 2}, err, sizeof err),
                     HP_EINVAL);
    ck_assert_msg(strstr(err, "sequence_columns 's*' match 6 columns; sequence_shape [2, 2] "
                              "needs T x F = 4"),
                  "%s", err);
    ck_assert_int_eq(hp_dataset_sequence(&sq, &ds, "s*,q*", (int[2]){3, 2}, err, sizeof err),
                     HP_EINVAL);
    ck_assert_msg(strstr(err, "sequence_columns: 'q*' matches no column"), "%s", err);
    hp_dataset_fini(&ds);
}
END_TEST

START_TEST(test_dataset_copy_is_deep)
{
    hp_dataset_t a = {0}, b;
    ck_assert(csv("p,q,y\n1,2,0\n3,4,1\n", NULL, HP_TASK_CLASSIFY, &a) == 0);
    ck_assert_msg(hp_dataset_copy(&b, &a, err, sizeof err) == 0, "%s", err);
    ck_assert_ptr_ne(b.xf, a.xf);
    ck_assert_ptr_ne(b.feature_names, a.feature_names);
    ck_assert_str_eq(b.feature_names[1], "q");
    b.xf[0] = 99;
    ck_assert_float_eq(a.xf[0], 1.0f);
    ck_assert_uint_eq(hp_dataset_bytes(&b), hp_dataset_bytes(&a));
    hp_dataset_fini(&a);
    hp_dataset_fini(&b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("data");
    TCase *tc = tcase_create("data");
    tcase_add_checked_fixture(tc, mkdir_tmp, rm_tmp);
    tcase_add_test(tc, test_idx_roundtrip);
    tcase_add_test(tc, test_idx_errors_name_file_and_offset);
    tcase_add_test(tc, test_idx_claimed_size_costs_no_memory);
    tcase_add_test(tc, test_fashion_mnist);
    tcase_add_test(tc, test_csv_load);
    tcase_add_test(tc, test_csv_errors);
    tcase_add_test(tc, test_split_disjoint_and_seeded);
    tcase_add_test(tc, test_shift_darken_and_noise);
    tcase_add_test(tc, test_shift_split_disjoint);
    tcase_add_test(tc, test_normalization_uses_training_split_only);
    tcase_add_test(tc, test_cache_lends_one_copy);
    tcase_add_test(tc, test_cache_reloads_a_changed_file);
    tcase_add_test(tc, test_cache_evicts_unheld_lru_over_budget);
    tcase_add_test(tc, test_cache_fashion_mnist);
    tcase_add_test(tc, test_dataset_copy_is_deep);
    tcase_add_test(tc, test_sequence_columns);
    tcase_add_test(tc, test_augmentation);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_check_run(suite());
}
