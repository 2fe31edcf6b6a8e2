/*
 * ratelimit.h — failed authentications counted per peer, so a wrong token
 * cannot be guessed at network speed.
 *
 * A peer (an IP address, or the uid behind an ipc:// connection: rep.h's
 * hp_rep_req_peer) may fail `limit` times in a window of
 * HP_RATELIMIT_WINDOW_MS; after that every request from it is refused
 * unchecked until the window ends, the right token included (checking it
 * would tell a guesser when it is right).
 *
 *     hp_ratelimit_t rl;
 *     hp_ratelimit_init(&rl, 10);
 *     if (hp_ratelimit_blocked(&rl, peer, now_ms)) refuse("rate limited");
 *     else if (!token_ok) hp_ratelimit_fail(&rl, peer, now_ms);
 *     hp_ratelimit_fini(&rl);
 *
 * The table holds at most HP_RATELIMIT_PEERS peers; beyond that the
 * oldest window is forgotten. Loop thread only (no locking).
 */
#ifndef HP_RATELIMIT_H
#define HP_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define HP_RATELIMIT_WINDOW_MS 60000u
#define HP_RATELIMIT_PEERS 4096u

typedef struct hp_ratelimit_peer {
    char key[64];
    uint64_t window_start_ms;
    uint32_t failures;
    int reported; /* the refusal was logged in this window */
} hp_ratelimit_peer_t;

typedef struct hp_ratelimit {
    uint32_t limit;
    hp_ratelimit_peer_t *peers;
    size_t n, cap;
} hp_ratelimit_t;

void hp_ratelimit_init(hp_ratelimit_t *rl, uint32_t limit);
void hp_ratelimit_fini(hp_ratelimit_t *rl);

/* hp_ratelimit_blocked returns the seconds left in peer's window (>= 1)
 * when it has used up its failures, else 0. *first_report (may be NULL)
 * is set to 1 the first time a window refuses, so the caller logs once. */
unsigned hp_ratelimit_blocked(hp_ratelimit_t *rl, const char *peer, uint64_t now_ms,
                              int *first_report);

/* hp_ratelimit_fail counts one failed authentication of peer; returns the
 * failures in its window so far. */
uint32_t hp_ratelimit_fail(hp_ratelimit_t *rl, const char *peer, uint64_t now_ms);

#endif
