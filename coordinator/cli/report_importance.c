/* The trials of a study as hp_importance_input_t, read with SQL. */
#include "report_importance.h"

#include "buf.h"
#include "err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int hp_report_importance_read(const hp_query_src_t *src, int64_t study,
                              const hp_importance_opts_t *o, hp_importance_t *imp,
                              int *truncated, char *err, size_t errlen)
{
    memset(imp, 0, sizeof *imp);
    if (truncated)
        *truncated = 0;
    hp_buf_t sql = {0}, text = {0};
    hp_buf_printf(&sql, "SELECT spec_json FROM studies WHERE id = %lld", (long long)study);
    hp_table_t t;
    int rc = hp_query_run(src, sql.data, 0, &t, NULL, err, errlen);
    if (rc == 0 && hp_table_rows(&t) != 1)
        rc = hp_errf(err, errlen, HP_ENOENT, "no study with id %lld", (long long)study);
    hp_importance_input_t in = {0};
    if (rc == 0) {
        hp_json_text(hp_table_cell(&t, 0, 0), &text);
        rc = hp_importance_input_init(&in, text.data, text.len, err, errlen);
    }
    hp_table_fini(&t);
    if (rc < 0)
        goto out;
    /* completed and feasible: an infeasible trial's value is no evidence
     * of what the parameters do within the constraints */
    hp_buf_reset(&sql);
    hp_buf_printf(&sql,
                  "SELECT params, value FROM trials WHERE study_id = %lld"
                  " AND state = 'completed' AND infeasible IS NULL ORDER BY number",
                  (long long)study);
    rc = hp_query_run(src, sql.data, 0, &t, truncated, err, errlen);
    if (rc == 0) {
        for (size_t r = 0; r < hp_table_rows(&t); r++) {
            const char *v = hp_table_cell(&t, r, 1);
            double value = hp_json_is_null(v) || v[0] == '"' ? NAN : strtod(v, NULL);
            hp_importance_input_add(&in, hp_json_text(hp_table_cell(&t, r, 0), &text), value);
        }
        rc = hp_importance_compute(&in, o, imp, err, errlen);
    }
    hp_table_fini(&t);
out:
    hp_importance_input_fini(&in);
    hp_buf_fini(&sql);
    hp_buf_fini(&text);
    return rc;
}
