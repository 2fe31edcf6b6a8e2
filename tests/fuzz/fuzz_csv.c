/* The CSV reader: a user's data file. The first byte picks the task and
 * whether the label column is named. */
#include "dataset.h"
#include "fuzz.h"

#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    hp_task_t task = data[0] & 1 ? HP_TASK_REGRESS : HP_TASK_CLASSIFY;
    const char *label = data[0] & 2 ? "y" : NULL;
    char path[64], err[512];
    int fd = hp_fuzz_memfile(data + 1, size - 1, path, sizeof path);
    hp_dataset_t ds = {0};
    if (hp_csv_load(&ds, path, label, task, err, sizeof err) == 0) {
        if (ds.n == 0 || ds.dim == 0 || !ds.xf)
            abort(); /* a dataset that loads has samples and features */
        if (task == HP_TASK_CLASSIFY)
            for (size_t i = 0; i < ds.n; i++)
                if (ds.y[i] < 0 || ds.y[i] >= ds.nclasses)
                    abort();
    }
    hp_dataset_fini(&ds);
    close(fd);
    return 0;
}
