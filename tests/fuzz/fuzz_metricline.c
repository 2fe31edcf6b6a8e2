/* The metric-line parser: whatever a user's program prints on stdout. */
#include "fuzz.h"
#include "metricline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hp_metricline_t ml;
    if (hp_metricline_parse((const char *)data, size, &ml)) {
        if (ml.n > HP_METRICLINE_MAX)
            abort();
        for (size_t i = 0; i < ml.n; i++)
            if (!ml.m[i].name[0] || strchr(ml.m[i].name, '='))
                abort(); /* a metric always has a name without '=' */
    }
    return 0;
}
