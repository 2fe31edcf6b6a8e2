/*
 * clock.h — monotonic time in seconds, the one clock for durations,
 * deadlines and timeouts (a wall-clock jump must neither time a trial out
 * nor stretch a wait). Any thread.
 *
 *     double end = hp_clock_now() + timeout_s;
 *     while (hp_clock_now() < end) ...
 */
#ifndef HP_CLOCK_H
#define HP_CLOCK_H

/* hp_clock_now returns CLOCK_MONOTONIC in seconds. */
double hp_clock_now(void);

#endif
