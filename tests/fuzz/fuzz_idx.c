/* The IDX readers (plain or gzip): the image and label files of a
 * dataset directory. The first byte picks images or labels; labels are
 * read against a dataset of 1 + data[1] % 16 samples. */
#include "dataset.h"
#include "fuzz.h"

#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    char path[64], err[512];
    int fd = hp_fuzz_memfile(data + 2, size - 2, path, sizeof path);
    hp_dataset_t ds = {0};
    if (data[0] & 1) {
        ds.n = 1 + data[1] % 16u;
        if (hp_idx_load_labels(&ds, path, err, sizeof err) == 0)
            for (size_t i = 0; i < ds.n; i++)
                if (ds.y[i] < 0 || ds.y[i] >= ds.nclasses)
                    abort();
    } else if (hp_idx_load_images(&ds, path, err, sizeof err) == 0) {
        if (ds.dim != (size_t)ds.c * (size_t)ds.h * (size_t)ds.w || (ds.n && !ds.x8))
            abort();
    }
    hp_dataset_fini(&ds);
    close(fd);
    return 0;
}
