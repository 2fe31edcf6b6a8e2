/*
 * spec_overlay.h — write keys into a study spec's YAML document, keeping
 * everything else the user wrote (comments aside): how `hpsearch autopilot`
 * turns the user's spec, which may leave out the model, space and search,
 * into the spec of each round.
 *
 *     hp_buf_t out = {0}, filled = {0};
 *     hp_diag_t d = {0};
 *     // keys the user did not write, e.g. a model
 *     hp_spec_overlay(text, len, "study.yaml", "{trial: {model: mlp}}",
 *                     HP_OVERLAY_FILL, &out, &filled, &d);
 *     // filled.data == "trial.model\n" when the spec had no trial.model
 *
 * Mappings merge key by key; anything else (a scalar, a list, or a
 * mapping meeting a scalar) is replaced whole (HP_OVERLAY_REPLACE) or kept
 * (HP_OVERLAY_FILL). In HP_OVERLAY_REPLACE a null value (~) removes the
 * key. The output is one YAML document for hp_spec_parse.
 * Any thread.
 */
#ifndef HP_SPEC_OVERLAY_H
#define HP_SPEC_OVERLAY_H

#include "buf.h"
#include "diag.h"

#include <stddef.h>

typedef enum hp_overlay_mode {
    HP_OVERLAY_REPLACE = 0, /* the overlay's values win */
    HP_OVERLAY_FILL = 1,    /* only keys the document lacks are added */
} hp_overlay_mode_t;

/* hp_spec_overlay merges overlay (YAML or JSON text, a mapping) into the
 * document text (len bytes, named file in diagnostics) and appends the
 * result to *out. When filled is not NULL, the dotted path of every key
 * the overlay added or replaced is appended to it, one per line. Returns
 * 0, or HP_EINVAL with a diagnostic when either text is not one YAML
 * mapping. */
int hp_spec_overlay(const char *text, size_t len, const char *file, const char *overlay,
                    hp_overlay_mode_t mode, hp_buf_t *out, hp_buf_t *filled, hp_diag_t *diag);

#endif
