/* hp_clock_now: CLOCK_MONOTONIC as a double. */
#include "clock.h"

#include <time.h>

double hp_clock_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
