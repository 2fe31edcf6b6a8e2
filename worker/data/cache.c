/* The worker's dataset cache (cache.h): a list of loaded datasets, each
 * with the identity of the files it came from and a count of the trials
 * holding it. */
#include "cache.h"

#include "err.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FILES 4

typedef struct file_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} file_id_t;

struct hp_data_entry {
    hp_data_entry_t *next;
    char *key;
    file_id_t ids[MAX_FILES];
    int nids;
    hp_dataset_t train, test;
    size_t bytes;
    int refs;
    int stale;     /* its files changed: freed at its last release */
    uint64_t used; /* the cache's tick at its last loan */
};

struct hp_data_cache {
    pthread_mutex_t mu;
    hp_data_entry_t *head;
    size_t max_bytes, bytes;
    uint64_t tick;
};

hp_data_cache_t *hp_data_cache_new(size_t max_bytes)
{
    hp_data_cache_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    pthread_mutex_init(&c->mu, NULL);
    c->max_bytes = max_bytes ? max_bytes : (size_t)2 << 30;
    return c;
}

static void entry_free(hp_data_entry_t *e)
{
    hp_dataset_fini(&e->train);
    hp_dataset_fini(&e->test);
    free(e->key);
    free(e);
}

/* unlinks e (c->mu held) */
static void unlink_entry(hp_data_cache_t *c, hp_data_entry_t *e)
{
    for (hp_data_entry_t **p = &c->head; *p; p = &(*p)->next)
        if (*p == e) {
            *p = e->next;
            break;
        }
    c->bytes -= e->bytes;
}

void hp_data_cache_free(hp_data_cache_t *c)
{
    if (!c)
        return;
    while (c->head) {
        hp_data_entry_t *e = c->head;
        HP_ASSERT(e->refs == 0);
        c->head = e->next;
        entry_free(e);
    }
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static int same_ids(const hp_data_entry_t *e, const file_id_t *ids, int n)
{
    if (e->nids != n)
        return 0;
    for (int i = 0; i < n; i++)
        if (e->ids[i].dev != ids[i].dev || e->ids[i].ino != ids[i].ino ||
            e->ids[i].size != ids[i].size || e->ids[i].mtime.tv_sec != ids[i].mtime.tv_sec ||
            e->ids[i].mtime.tv_nsec != ids[i].mtime.tv_nsec)
            return 0;
    return 1;
}

/* fills ids from paths; 0 when a file cannot be stat'ed (then nothing is
 * cached and the loader reports why it cannot read it) */
static int identify(const char *const *paths, int n, file_id_t *ids)
{
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0)
            return 0;
        ids[i] = (file_id_t){st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    }
    return 1;
}

/* evicts unheld entries, least recently used first, while over budget
 * (c->mu held) */
static void trim(hp_data_cache_t *c)
{
    while (c->bytes > c->max_bytes) {
        hp_data_entry_t *lru = NULL;
        for (hp_data_entry_t *e = c->head; e; e = e->next)
            if (e->refs == 0 && (!lru || e->used < lru->used))
                lru = e;
        if (!lru)
            return;
        unlink_entry(c, lru);
        entry_free(lru);
    }
}

typedef int (*load_fn)(hp_dataset_t *train, hp_dataset_t *test, const void *arg, char *err,
                       size_t errlen);

static int lend(hp_data_cache_t *c, const char *key, const char *const *paths, int npaths,
                load_fn load, const void *arg, hp_data_lease_t *l, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    file_id_t ids[MAX_FILES];
    int known = identify(paths, npaths, ids);
    pthread_mutex_lock(&c->mu);
    hp_data_entry_t *e = NULL;
    for (hp_data_entry_t *x = c->head, *next; x; x = next) {
        next = x->next;
        if (x->stale || strcmp(x->key, key) != 0)
            continue;
        if (known && same_ids(x, ids, npaths)) {
            e = x;
            break;
        }
        /* the files changed (or vanished) since it was loaded */
        x->stale = 1;
        if (x->refs == 0) {
            unlink_entry(c, x);
            entry_free(x);
        }
    }
    if (e) {
        l->hit = 1;
    } else {
        e = calloc(1, sizeof *e);
        int rc = e ? 0 : hp_errf(err, errlen, HP_ENOMEM, "out of memory");
        if (rc == 0 && !(e->key = strdup(key)))
            rc = hp_errf(err, errlen, HP_ENOMEM, "out of memory");
        if (rc == 0)
            rc = load(&e->train, &e->test, arg, err, errlen);
        if (rc < 0) {
            if (e)
                entry_free(e);
            pthread_mutex_unlock(&c->mu);
            return rc;
        }
        memcpy(e->ids, ids, sizeof(file_id_t) * (size_t)npaths);
        e->nids = npaths;
        /* a file that could not be identified is never matched again */
        e->stale = !known;
        e->bytes = hp_dataset_bytes(&e->train) + hp_dataset_bytes(&e->test);
        e->next = c->head;
        c->head = e;
        c->bytes += e->bytes;
    }
    e->refs++;
    e->used = ++c->tick;
    trim(c);
    pthread_mutex_unlock(&c->mu);
    l->train = &e->train;
    l->test = &e->test;
    l->entry = e;
    return 0;
}

static int load_fashion(hp_dataset_t *train, hp_dataset_t *test, const void *arg, char *err,
                        size_t errlen)
{
    return hp_fashion_mnist_load(train, test, arg, err, errlen);
}

int hp_data_cache_fashion(hp_data_cache_t *c, const char *dir, hp_data_lease_t *l, char *err,
                          size_t errlen)
{
    dir = hp_fashion_mnist_dir(dir);
    char p[4][1024];
    hp_fashion_mnist_paths(dir, "train", p[0], p[1], sizeof p[0]);
    hp_fashion_mnist_paths(dir, "t10k", p[2], p[3], sizeof p[0]);
    const char *paths[4] = {p[0], p[1], p[2], p[3]};
    char key[1100];
    snprintf(key, sizeof key, "fashion-mnist:%s", dir);
    return lend(c, key, paths, 4, load_fashion, dir, l, err, errlen);
}

typedef struct csv_arg {
    const char *path, *label;
    hp_task_t task;
} csv_arg_t;

static int load_csv(hp_dataset_t *train, hp_dataset_t *test, const void *arg, char *err,
                    size_t errlen)
{
    const csv_arg_t *a = arg;
    (void)test; /* a CSV file has no separate test set */
    return hp_csv_load(train, a->path, a->label, a->task, err, errlen);
}

int hp_data_cache_csv(hp_data_cache_t *c, const char *path, const char *label, hp_task_t task,
                      hp_data_lease_t *l, char *err, size_t errlen)
{
    csv_arg_t a = {path, label, task};
    /* the key separates its parts with a byte no path or column holds */
    size_t n = strlen(path) + (label ? strlen(label) : 0) + 32;
    char *key = malloc(n);
    if (!key)
        return hp_errf(err, errlen, HP_ENOMEM, "out of memory");
    snprintf(key, n, "csv:%s\x1f%s\x1f%d", path, label ? label : "", (int)task);
    const char *paths[1] = {path};
    int rc = lend(c, key, paths, 1, load_csv, &a, l, err, errlen);
    free(key);
    return rc;
}

void hp_data_cache_release(hp_data_cache_t *c, hp_data_lease_t *l)
{
    hp_data_entry_t *e = l->entry;
    memset(l, 0, sizeof *l);
    if (!e)
        return;
    pthread_mutex_lock(&c->mu);
    HP_ASSERT(e->refs > 0);
    if (--e->refs == 0 && e->stale) {
        unlink_entry(c, e);
        entry_free(e);
    } else {
        trim(c);
    }
    pthread_mutex_unlock(&c->mu);
}

void hp_data_cache_stats(hp_data_cache_t *c, size_t *entries, size_t *bytes)
{
    pthread_mutex_lock(&c->mu);
    size_t n = 0;
    for (hp_data_entry_t *e = c->head; e; e = e->next)
        n++;
    *entries = n;
    *bytes = c->bytes;
    pthread_mutex_unlock(&c->mu);
}
