/* Failed authentications per peer (ratelimit.h). */
#include "ratelimit.h"

#include "err.h"

#include <stdlib.h>
#include <string.h>

void hp_ratelimit_init(hp_ratelimit_t *rl, uint32_t limit)
{
    memset(rl, 0, sizeof *rl);
    rl->limit = limit ? limit : 1;
}

void hp_ratelimit_fini(hp_ratelimit_t *rl)
{
    free(rl->peers);
    memset(rl, 0, sizeof *rl);
}

/* peer's entry with a current window, or NULL (create: a new one) */
static hp_ratelimit_peer_t *find(hp_ratelimit_t *rl, const char *peer, uint64_t now,
                                 int create)
{
    hp_ratelimit_peer_t *oldest = NULL;
    for (size_t i = 0; i < rl->n; i++) {
        hp_ratelimit_peer_t *p = &rl->peers[i];
        if (strncmp(p->key, peer, sizeof p->key - 1) == 0) {
            if (now - p->window_start_ms >= HP_RATELIMIT_WINDOW_MS) {
                if (!create)
                    return NULL;
                p->window_start_ms = now;
                p->failures = 0;
                p->reported = 0;
            }
            return p;
        }
        if (!oldest || p->window_start_ms < oldest->window_start_ms)
            oldest = p;
    }
    if (!create)
        return NULL;
    hp_ratelimit_peer_t *p;
    if (rl->n < rl->cap) {
        p = &rl->peers[rl->n++];
    } else if (rl->cap < HP_RATELIMIT_PEERS) {
        size_t cap = rl->cap ? rl->cap * 2 : 16;
        hp_ratelimit_peer_t *v = realloc(rl->peers, cap * sizeof *v);
        HP_ASSERT(v != NULL);
        rl->peers = v;
        rl->cap = cap;
        p = &rl->peers[rl->n++];
    } else {
        p = oldest; /* full: the oldest window is forgotten */
    }
    memset(p, 0, sizeof *p);
    strncpy(p->key, peer, sizeof p->key - 1);
    p->window_start_ms = now;
    return p;
}

unsigned hp_ratelimit_blocked(hp_ratelimit_t *rl, const char *peer, uint64_t now_ms,
                              int *first_report)
{
    if (first_report)
        *first_report = 0;
    hp_ratelimit_peer_t *p = find(rl, peer, now_ms, 0);
    if (!p || p->failures < rl->limit)
        return 0;
    if (first_report && !p->reported)
        *first_report = 1;
    p->reported = 1;
    uint64_t left = p->window_start_ms + HP_RATELIMIT_WINDOW_MS - now_ms;
    return (unsigned)((left + 999) / 1000);
}

uint32_t hp_ratelimit_fail(hp_ratelimit_t *rl, const char *peer, uint64_t now_ms)
{
    hp_ratelimit_peer_t *p = find(rl, peer, now_ms, 1);
    return ++p->failures;
}
