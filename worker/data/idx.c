/* IDX files (the MNIST family's format), gzip-compressed or plain.
 *
 * Layout: 0x00 0x00, a type byte (0x08 = uint8), a dimension count, that
 * many big-endian uint32 sizes, then the data. Offsets in error messages
 * are positions in the uncompressed stream. */
#include "dataset.h"

#include "err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct reader {
    gzFile gz;
    const char *path;
    size_t off;
} reader_t;

/* read n bytes or fail naming what was being read: `total` bytes from
 * offset `start`, of which these n are a part */
static int rd_part(reader_t *r, void *buf, size_t n, const char *what, size_t total, size_t start,
                   char *err, size_t errlen)
{
    size_t got = 0;
    while (got < n) {
        unsigned chunk = n - got > (1u << 30) ? (1u << 30) : (unsigned)(n - got);
        int k = gzread(r->gz, (char *)buf + got, chunk);
        if (k < 0) {
            int zerr;
            const char *msg = gzerror(r->gz, &zerr);
            return hp_errf(err, errlen, HP_ECORRUPT, "%s: offset %zu: corrupt gzip data while reading %s: %s",
                           r->path, r->off + got, what, zerr == Z_ERRNO ? strerror(errno) : msg);
        }
        if (k == 0) {
            int zerr;
            const char *msg = gzerror(r->gz, &zerr);
            if (zerr != Z_OK && zerr != Z_BUF_ERROR)
                return hp_errf(err, errlen, HP_ECORRUPT,
                               "%s: offset %zu: corrupt gzip data while reading %s: %s", r->path,
                               r->off + got, what, msg);
            return hp_errf(err, errlen, HP_ECORRUPT,
                           "%s: offset %zu: truncated file: reading %s (%zu bytes from offset %zu)",
                           r->path, r->off + got, what, total, start);
        }
        got += (size_t)k;
    }
    r->off += n;
    return 0;
}

static int rd(reader_t *r, void *buf, size_t n, const char *what, char *err, size_t errlen)
{
    return rd_part(r, buf, n, what, n, r->off, err, errlen);
}

/* reads n bytes into a new buffer that grows as the data arrives, so a
 * damaged header claiming more than the file holds costs at most the
 * file's size plus one step of memory, not what it claims */
static int rd_alloc(reader_t *r, uint8_t **out, size_t n, const char *what, char *err,
                    size_t errlen)
{
    const size_t step = (size_t)64 << 20;
    size_t have = 0, start = r->off;
    uint8_t *buf = NULL;
    do {
        size_t want = n - have < step ? n - have : step;
        uint8_t *nb = realloc(buf, have + want ? have + want : 1);
        if (!nb) {
            free(buf);
            return hp_errf(err, errlen, HP_ENOMEM, "%s: cannot allocate %zu bytes", r->path,
                           have + want);
        }
        buf = nb;
        int rc = rd_part(r, buf + have, want, what, n, start, err, errlen);
        if (rc < 0) {
            free(buf);
            return rc;
        }
        have += want;
    } while (have < n);
    *out = buf;
    return 0;
}

static int open_idx(reader_t *r, const char *path, int want_dims, uint32_t *dims, char *err,
                    size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->gz = gzopen(path, "rb");
    if (!r->gz)
        return hp_errf(err, errlen, errno == ENOENT ? HP_ENOENT : HP_EIO, "%s: cannot open: %s",
                       path, strerror(errno));
    unsigned char hdr[4];
    int rc = rd(r, hdr, 4, "the IDX header", err, errlen);
    if (rc < 0)
        return rc;
    if (hdr[0] != 0 || hdr[1] != 0 || hdr[2] != 0x08 || hdr[3] != want_dims)
        return hp_errf(err, errlen, HP_ECORRUPT,
                       "%s: offset 0: wrong magic 0x%02x%02x%02x%02x, expected 0x000008%02x "
                       "(IDX, uint8, %d dimension%s)",
                       path, hdr[0], hdr[1], hdr[2], hdr[3], want_dims, want_dims,
                       want_dims == 1 ? "" : "s");
    for (int i = 0; i < want_dims; i++) {
        unsigned char b[4];
        rc = rd(r, b, 4, "the IDX dimensions", err, errlen);
        if (rc < 0)
            return rc;
        dims[i] = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    }
    return 0;
}

static int check_end(reader_t *r, char *err, size_t errlen)
{
    unsigned char extra;
    int k = gzread(r->gz, &extra, 1);
    if (k != 0) {
        if (k < 0) {
            int zerr;
            return hp_errf(err, errlen, HP_ECORRUPT, "%s: offset %zu: corrupt gzip data: %s",
                           r->path, r->off, gzerror(r->gz, &zerr));
        }
        return hp_errf(err, errlen, HP_ECORRUPT,
                       "%s: offset %zu: unexpected data after the last item (wrong dimensions?)",
                       r->path, r->off);
    }
    return 0;
}

int hp_idx_load_images(hp_dataset_t *ds, const char *path, char *err, size_t errlen)
{
    reader_t r;
    uint32_t dims[3] = {0};
    int rc = open_idx(&r, path, 3, dims, err, errlen);
    if (rc < 0)
        goto out;
    if (dims[0] == 0 || dims[1] == 0 || dims[2] == 0 || dims[1] > 4096 || dims[2] > 4096) {
        rc = hp_errf(err, errlen, HP_ECORRUPT, "%s: offset 4: implausible shape %u x %u x %u", path,
                     dims[0], dims[1], dims[2]);
        goto out;
    }
    size_t dim = (size_t)dims[1] * dims[2], bytes = (size_t)dims[0] * dim;
    char what[64];
    snprintf(what, sizeof what, "%u images of %ux%u", dims[0], dims[1], dims[2]);
    uint8_t *x = NULL;
    rc = rd_alloc(&r, &x, bytes, what, err, errlen);
    if (rc < 0)
        goto out;
    rc = check_end(&r, err, errlen);
    if (rc < 0) {
        free(x);
        goto out;
    }
    free(ds->x8);
    ds->x8 = x;
    ds->n = dims[0];
    ds->c = 1;
    ds->h = (int)dims[1];
    ds->w = (int)dims[2];
    ds->dim = dim;
out:
    if (r.gz)
        gzclose(r.gz);
    return rc;
}

int hp_idx_load_labels(hp_dataset_t *ds, const char *path, char *err, size_t errlen)
{
    reader_t r;
    uint32_t dims[1] = {0};
    int rc = open_idx(&r, path, 1, dims, err, errlen);
    if (rc < 0)
        goto out;
    if (dims[0] != ds->n) {
        rc = hp_errf(err, errlen, HP_ECORRUPT, "%s: offset 4: %u labels for %zu images", path,
                     dims[0], ds->n);
        goto out;
    }
    uint8_t *raw = malloc(dims[0] ? dims[0] : 1);
    int32_t *y = malloc(sizeof(int32_t) * (dims[0] ? dims[0] : 1));
    if (!raw || !y) {
        free(raw);
        free(y);
        rc = hp_errf(err, errlen, HP_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    rc = rd(&r, raw, dims[0], "the labels", err, errlen);
    if (rc == 0)
        rc = check_end(&r, err, errlen);
    int mx = 0;
    for (uint32_t i = 0; rc == 0 && i < dims[0]; i++) {
        y[i] = raw[i];
        mx = raw[i] > mx ? raw[i] : mx;
    }
    free(raw);
    if (rc < 0) {
        free(y);
        goto out;
    }
    free(ds->y);
    ds->y = y;
    ds->nclasses = mx + 1;
    ds->task = HP_TASK_CLASSIFY;
out:
    if (r.gz)
        gzclose(r.gz);
    return rc;
}

static int load_pair(hp_dataset_t *ds, const char *dir, const char *prefix, char *err,
                     size_t errlen)
{
    char ip[1024], lp[1024];
    hp_fashion_mnist_paths(dir, prefix, ip, lp, sizeof ip);
    int rc = hp_idx_load_images(ds, ip, err, errlen);
    if (rc == 0)
        rc = hp_idx_load_labels(ds, lp, err, errlen);
    if (rc == 0 && (ds->h != 28 || ds->w != 28))
        rc = hp_errf(err, errlen, HP_ECORRUPT, "%s: offset 8: images are %dx%d, Fashion-MNIST is 28x28",
                     ip, ds->h, ds->w);
    if (rc == 0) {
        for (size_t i = 0; i < ds->n; i++)
            if (ds->y[i] > 9) {
                rc = hp_errf(err, errlen, HP_ECORRUPT,
                             "%s: offset %zu: label %d, Fashion-MNIST has classes 0-9", lp, 8 + i,
                             (int)ds->y[i]);
                break;
            }
        ds->nclasses = 10;
    }
    if (rc < 0)
        hp_dataset_fini(ds);
    return rc;
}

const char *hp_fashion_mnist_dir(const char *dir)
{
    if (!dir || !*dir)
        dir = getenv("HP_FASHION_MNIST_DIR");
    if (!dir || !*dir)
        dir = "/usr/share/datasets/fashion-mnist";
    return dir;
}

void hp_fashion_mnist_paths(const char *dir, const char *prefix, char *images, char *labels,
                            size_t len)
{
    snprintf(images, len, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    snprintf(labels, len, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
}

int hp_fashion_mnist_load(hp_dataset_t *train, hp_dataset_t *test, const char *dir, char *err,
                          size_t errlen)
{
    dir = hp_fashion_mnist_dir(dir);
    int rc = load_pair(train, dir, "train", err, errlen);
    if (rc == 0 && test) {
        rc = load_pair(test, dir, "t10k", err, errlen);
        if (rc < 0)
            hp_dataset_fini(train);
    }
    return rc;
}
