/* store_errors.c — a classifier trial's error analysis: trial_errors and
 * trial_worst. */
#include "store_int.h"

#include "buf.h"
#include "err.h"
#include "error_analysis.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

/* the confusion matrix as JSON rows */
static void confusion_json(hp_buf_t *b, const hp_ea_t *ea)
{
    int k = ea->nclasses;
    hp_buf_putc(b, '[');
    for (int i = 0; i < k; i++) {
        hp_buf_puts(b, i ? ",[" : "[");
        for (int j = 0; j < k; j++)
            hp_buf_printf(b, "%s%" PRIu64, j ? "," : "", ea->confusion[(size_t)i * (size_t)k + (size_t)j]);
        hp_buf_putc(b, ']');
    }
    hp_buf_putc(b, ']');
}

int hp_store_trial_errors_put(hp_store_t *st, int64_t trial_id, int attempt, const hp_ea_t *ea,
                              char *err, size_t errlen)
{
    if (!ea || ea->nclasses < 1 || !ea->confusion)
        return hp_errf(err, errlen, HP_EINVAL, "error analysis of trial %" PRId64 ": empty",
                       trial_id);
    int rc = hp_store_op_begin(st, "store an error analysis", err, errlen);
    if (rc < 0)
        return rc;
    hp_buf_t conf = {0};
    confusion_json(&conf, ea);
    char what[128];
    snprintf(what, sizeof what, "store the error analysis of trial %" PRId64, trial_id);
    sqlite3_stmt *s = hp_store_stmt(
        st, Q_ERRORS_PUT,
        "INSERT OR REPLACE INTO trial_errors (trial_id, attempt, classes, examples, confusion,"
        " image_c, image_h, image_w) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        &rc, err, errlen);
    if (s) {
        int px = hp_ea_pixel_bytes(ea) > 0;
        sqlite3_bind_int64(s, 1, trial_id);
        sqlite3_bind_int(s, 2, attempt);
        sqlite3_bind_int(s, 3, ea->nclasses);
        sqlite3_bind_int64(s, 4, (sqlite3_int64)ea->n);
        sqlite3_bind_text(s, 5, conf.data, (int)conf.len, SQLITE_TRANSIENT);
        sqlite3_bind_int(s, 6, px ? ea->c : 0);
        sqlite3_bind_int(s, 7, px ? ea->h : 0);
        sqlite3_bind_int(s, 8, px ? ea->w : 0);
        rc = hp_store_step_done(st, s, what, err, errlen);
    }
    if (rc == 0 && (s = hp_store_stmt(st, Q_WORST_DELETE,
                                      "DELETE FROM trial_worst WHERE trial_id = ?1", &rc, err,
                                      errlen)) != NULL) {
        sqlite3_bind_int64(s, 1, trial_id);
        rc = hp_store_step_done(st, s, what, err, errlen);
    }
    size_t px = hp_ea_pixel_bytes(ea);
    for (size_t i = 0; rc == 0 && i < ea->nworst; i++) {
        s = hp_store_stmt(st, Q_WORST_INSERT,
                          "INSERT INTO trial_worst (trial_id, rank, idx, label, predicted, loss,"
                          " pixels) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                          &rc, err, errlen);
        if (!s)
            break;
        const hp_ea_example_t *w = &ea->worst[i];
        sqlite3_bind_int64(s, 1, trial_id);
        sqlite3_bind_int64(s, 2, (sqlite3_int64)i + 1);
        sqlite3_bind_int64(s, 3, w->index);
        sqlite3_bind_int(s, 4, w->label);
        sqlite3_bind_int(s, 5, w->predicted);
        if (isfinite(w->loss))
            sqlite3_bind_double(s, 6, w->loss);
        else
            sqlite3_bind_null(s, 6);
        if (px)
            sqlite3_bind_blob(s, 7, hp_ea_pixels(ea, i), (int)px, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(s, 7);
        rc = hp_store_step_done(st, s, what, err, errlen);
    }
    hp_buf_fini(&conf);
    return hp_store_op_end(st, rc, err, errlen);
}
