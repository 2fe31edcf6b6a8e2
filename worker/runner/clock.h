/* clock.h — monotonic seconds, for a trial's duration and an external
 * program's deadlines (wall-clock jumps must not time a trial out). Any
 * thread. */
#ifndef HP_RUNNER_CLOCK_H
#define HP_RUNNER_CLOCK_H

/* hp_runner_now returns CLOCK_MONOTONIC in seconds. */
double hp_runner_now(void);

#endif
