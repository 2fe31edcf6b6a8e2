/* The study-spec parser (YAML and JSON): any text a user or a client
 * submits. A spec that parses must print as canonical JSON that parses
 * again into an equal spec (hp_spec_to_json's promise). */
#include "fuzz.h"

#include "buf.h"
#include "diag.h"
#include "spec.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hp_spec_t a, b;
    hp_diag_t d = {0};
    if (hp_spec_parse(&a, (const char *)data, size, "fuzz.yaml", &d) == 0) {
        hp_buf_t js = {0};
        hp_spec_to_json(&a, &js);
        hp_diag_t d2 = {0};
        if (hp_spec_parse(&b, js.data, js.len, "fuzz.json", &d2) != 0 || !hp_spec_equal(&a, &b))
            abort();
        hp_spec_fini(&b);
        hp_diag_fini(&d2);
        hp_buf_fini(&js);
        hp_spec_fini(&a);
    }
    hp_diag_fini(&d);
    return 0;
}
