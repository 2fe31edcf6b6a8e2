/*
 * trial_json.h — reading a trial's `trial_json` (the spec's `trial` section
 * as canonical JSON) with libfyaml, quietly: a bad document becomes the
 * trial's error, never a message on stderr. Private to the runners.
 *
 *     struct fy_diag *diag;
 *     struct fy_document *d = hp_tj_parse(json, &diag, err, sizeof err);
 *     if (!d) fail(err);
 *     char *cmd = hp_tj_text(hp_tj_get(fy_document_root(d), "workdir"));
 *     free(cmd);
 *     fy_document_destroy(d);
 *     fy_diag_destroy(diag);
 */
#ifndef HP_TRIAL_JSON_H
#define HP_TRIAL_JSON_H

#include <stddef.h>

struct fy_diag;
struct fy_document;
struct fy_node;

/* hp_tj_parse parses json quietly; NULL (with err) if it is not a JSON
 * mapping. On success destroy the document, then *diag. */
struct fy_document *hp_tj_parse(const char *json, struct fy_diag **diag, char *err,
                                size_t errlen);
/* hp_tj_get returns the node at key in mapping n, or NULL (also when n is
 * NULL or not a mapping). The node belongs to n's document. */
struct fy_node *hp_tj_get(struct fy_node *n, const char *key);
/* hp_tj_text returns a malloc'd text form of a node: a scalar's value, or
 * compact JSON for lists and mappings. NULL for a missing node. */
char *hp_tj_text(struct fy_node *n);

#endif
