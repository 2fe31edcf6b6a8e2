#include "diag.h"

#include "buf.h"
#include "err.h"
#include "vec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dupstr(const char *s)
{
    char *p = strdup(s ? s : "");
    HP_ASSERT(p != NULL);
    return p;
}

void hp_diag_add(hp_diag_t *d, const char *file, int line, const char *path,
                 const char *fmt, ...)
{
    size_t limit = d->limit ? d->limit : 1000;
    if (d->n >= limit) {
        d->dropped++;
        return;
    }
    d->items = hp_vec_grow(d->items, &d->cap, d->n + 1, sizeof *d->items, 8);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    hp_buf_t t = {0};
    if (file && *file) {
        hp_buf_puts(&t, file);
        if (line > 0)
            hp_buf_printf(&t, ":%d", line);
        hp_buf_puts(&t, ": ");
    }
    if (path && *path)
        hp_buf_printf(&t, "%s: ", path);
    hp_buf_puts(&t, msg);

    hp_diag_item_t *it = &d->items[d->n++];
    it->file = dupstr(file);
    it->line = line;
    it->path = dupstr(path);
    it->message = dupstr(msg);
    it->text = hp_buf_steal(&t);
}

void hp_diag_fini(hp_diag_t *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->items[i].file);
        free(d->items[i].path);
        free(d->items[i].message);
        free(d->items[i].text);
    }
    free(d->items);
    memset(d, 0, sizeof *d);
}

const hp_diag_item_t *hp_diag_find(const hp_diag_t *d, const char *path)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->items[i].path, path) == 0)
            return &d->items[i];
    return NULL;
}
