/* The wire decoder: any bytes a peer sends. A message that decodes must
 * encode again (the codec validates type against body both ways). */
#include "codec.h"
#include "fuzz.h"

#include "buf.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Hpsearch__Envelope *env = NULL;
    char err[256];
    if (hp_proto_decode(data, size, &env, err, sizeof err) == 0) {
        hp_buf_t out = {0};
        /* decoded and valid, yet refused on the way out (re-encoding may
         * change the size a little: unknown fields go, varints shrink) */
        if (hp_proto_encode(env, &out) != 0 && size <= HP_PROTO_MAX_MSG / 2)
            abort();
        hp_buf_fini(&out);
    }
    hp_proto_free(env);
    return 0;
}
