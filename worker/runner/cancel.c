/* hp_cancel: the flag and the wake-up pipe behind it. */
#define _GNU_SOURCE /* pipe2 */
#include "cancel.h"

#include "err.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

int hp_cancel_init(hp_cancel_t *c)
{
    memset(c, 0, sizeof *c);
    c->fd[0] = c->fd[1] = -1;
    if (pipe2(c->fd, O_CLOEXEC | O_NONBLOCK) < 0) {
        c->fd[0] = c->fd[1] = -1;
        return HP_EIO;
    }
    return 0;
}

void hp_cancel_fini(hp_cancel_t *c)
{
    for (int i = 0; i < 2; i++)
        if (c->fd[i] > 2)
            close(c->fd[i]);
    c->fd[0] = c->fd[1] = -1;
}

void hp_cancel_request(hp_cancel_t *c)
{
    atomic_store(&c->requested, 1);
    if (c->fd[1] >= 0) {
        char b = 1;
        /* full pipe = already woken; nothing else can go wrong worth handling */
        ssize_t r = write(c->fd[1], &b, 1);
        (void)r;
    }
}

int hp_cancel_requested(const hp_cancel_t *c)
{
    return atomic_load(&c->requested);
}

void hp_cancel_reset(hp_cancel_t *c)
{
    atomic_store(&c->requested, 0);
    char buf[64];
    if (c->fd[0] >= 0)
        while (read(c->fd[0], buf, sizeof buf) > 0)
            ;
}
