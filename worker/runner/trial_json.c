/* hp_tj: quiet libfyaml access to a trial's JSON. */
#include "trial_json.h"

#include "err.h"

#include <libfyaml.h>
#include <stdlib.h>
#include <string.h>

static void fy_quiet(struct fy_diag *d, void *user, const char *buf, size_t len) {}

struct fy_document *hp_tj_parse(const char *json, struct fy_diag **diag, char *err, size_t errlen)
{
    /* libfyaml's messages would go to stderr; the trial's error says it */
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = fy_quiet;
    dcfg.colorize = false;
    *diag = fy_diag_create(&dcfg);
    HP_ASSERT(*diag);
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_JSON_FORCE, .diag = *diag};
    struct fy_document *d = fy_document_build_from_string(&cfg, json, strlen(json));
    if (!d || !fy_document_root(d) || !fy_node_is_mapping(fy_document_root(d))) {
        if (d)
            fy_document_destroy(d);
        fy_diag_destroy(*diag);
        *diag = NULL;
        hp_errf(err, errlen, HP_EINVAL, "trial_json is not a JSON object");
        return NULL;
    }
    return d;
}

struct fy_node *hp_tj_get(struct fy_node *n, const char *key)
{
    if (!n || !fy_node_is_mapping(n))
        return NULL;
    return fy_node_mapping_lookup_by_string(n, key, strlen(key));
}

char *hp_tj_text(struct fy_node *n)
{
    if (!n)
        return NULL;
    if (fy_node_is_scalar(n)) {
        size_t len;
        const char *s = fy_node_get_scalar(n, &len);
        char *r = malloc(len + 1);
        HP_ASSERT(r);
        memcpy(r, s ? s : "", s ? len : 0);
        r[s ? len : 0] = '\0';
        return r;
    }
    char *s = fy_emit_node_to_string(n, FYECF_MODE_JSON_ONELINE | FYECF_NO_ENDING_NEWLINE);
    HP_ASSERT(s);
    return s;
}
