/*
 * cache.h — datasets loaded once per worker process and shared, read-only,
 * by every trial that trains on them.
 *
 * Reading and decompressing Fashion-MNIST takes about 0.3 s, a quarter of
 * an epoch of the default MLP and most of a trial that early stopping ends
 * after its first epoch. A worker runs its trials as threads of one
 * process, so it loads each dataset once and lends it out:
 *
 *     hp_data_cache_t *c = hp_data_cache_new(0);
 *     hp_data_lease_t l;
 *     if (hp_data_cache_fashion(c, dir, &l, err, errlen) == 0) {
 *         train(l.train, l.test);            // read only
 *         hp_data_cache_release(c, &l);
 *     }
 *     hp_data_cache_free(c);                  // after every release
 *
 * An entry is keyed by what was asked (directory, or CSV path, label
 * column and task) and by the files' identity (device, inode, size,
 * modification time): a file replaced or rewritten is loaded again. Entries
 * no trial holds are evicted, least recently used first, once the cache
 * holds more than its byte budget. Loading happens under the cache's lock,
 * so two slots asking for the same dataset at once load it once.
 * Thread-safe.
 */
#ifndef HP_DATA_CACHE_H
#define HP_DATA_CACHE_H

#include "dataset.h"

#include <stddef.h>

typedef struct hp_data_cache hp_data_cache_t;
typedef struct hp_data_entry hp_data_entry_t;

/* A loan of one entry: train is always set; test is Fashion-MNIST's own
 * test set, or an empty dataset (n = 0) for CSV. */
typedef struct hp_data_lease {
    const hp_dataset_t *train;
    const hp_dataset_t *test;
    int hit;                 /* 1: served from memory, 0: loaded now */
    hp_data_entry_t *entry;  /* owned by the cache */
} hp_data_lease_t;

/* max_bytes: the budget for entries no trial holds (0: 2 GiB). Returns
 * NULL when out of memory. */
hp_data_cache_t *hp_data_cache_new(size_t max_bytes);
/* Frees every entry; no lease may be outstanding. NULL is a no-op. */
void hp_data_cache_free(hp_data_cache_t *c);

/* The Fashion-MNIST train and test sets of dir (NULL or "": as
 * hp_fashion_mnist_load). Errors are the loader's. */
int hp_data_cache_fashion(hp_data_cache_t *c, const char *dir, hp_data_lease_t *l, char *err,
                          size_t errlen);
/* A CSV file as hp_csv_load(path, label, task) reads it. */
int hp_data_cache_csv(hp_data_cache_t *c, const char *path, const char *label, hp_task_t task,
                      hp_data_lease_t *l, char *err, size_t errlen);
/* Ends the loan; l is zeroed. Safe on a zeroed lease. */
void hp_data_cache_release(hp_data_cache_t *c, hp_data_lease_t *l);

/* For tests and logs: entries held in memory and their bytes. */
void hp_data_cache_stats(hp_data_cache_t *c, size_t *entries, size_t *bytes);

#endif
