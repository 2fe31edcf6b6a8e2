/*
 * cancel.h — a cancellation flag that one thread raises and a running
 * trial notices, with a pipe so a runner waiting in poll() wakes at once.
 *
 *     hp_cancel_t c;
 *     if (hp_cancel_init(&c) < 0) fail();
 *     // runner thread: hp_runner_run(..., &c, &out) polls c.fd[0]
 *     // any other thread: hp_cancel_request(&c);
 *     hp_cancel_reset(&c);   // before the next trial
 *     hp_cancel_fini(&c);
 */
#ifndef HP_CANCEL_H
#define HP_CANCEL_H

typedef struct hp_cancel {
    _Atomic int requested; /* also the training engine's cancel flag */
    int fd[2];
} hp_cancel_t;

/* hp_cancel_init prepares c (returns HP_EIO if no pipe could be made);
 * hp_cancel_fini releases it (safe on zeroed memory after init failed). */
int hp_cancel_init(hp_cancel_t *c);
void hp_cancel_fini(hp_cancel_t *c);
/* hp_cancel_request raises the flag; any thread, any number of times. */
void hp_cancel_request(hp_cancel_t *c);
/* hp_cancel_requested reads the flag; any thread. */
int hp_cancel_requested(const hp_cancel_t *c);
/* hp_cancel_reset lowers the flag so c can be reused for the next trial. */
void hp_cancel_reset(hp_cancel_t *c);

#endif
