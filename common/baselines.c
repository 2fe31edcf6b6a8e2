/* baselines.c — the baselines' names (baselines.h). */
#include "baselines.h"

#include <string.h>

const hp_baseline_names_t hp_baseline_names[HP_BASELINE_COUNT] = {
    [HP_BASELINE_MAJORITY] = {HP_BASELINE_MAJORITY_METRIC, "majority_class", "majority class"},
    [HP_BASELINE_LINEAR] = {HP_BASELINE_LINEAR_METRIC, "linear_model", "linear model"},
};

int hp_baseline_by_metric(const char *metric)
{
    for (int i = 0; metric && i < HP_BASELINE_COUNT; i++)
        if (strcmp(metric, hp_baseline_names[i].metric) == 0)
            return i;
    return -1;
}
