/* A trial's stored error analysis: read, as text, as JSON. */
#include "report_errors.h"

#include "err.h"
#include "output.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fashion-MNIST's classes, as its authors name them */
static const char *const fashion_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                              "Coat",        "Sandal",  "Shirt",    "Sneaker",
                                              "Bag",         "Ankle boot"};

static int is_number(const char *cell)
{
    return cell && !hp_json_is_null(cell) && cell[0] != '"';
}

/* the confusion JSON's k * k counts, row-major: any other shape is an error */
static int parse_confusion(const char *json, int k, uint64_t *out)
{
    size_t n = 0, want = (size_t)k * (size_t)k;
    int depth = 0;
    for (const char *p = json; *p;) {
        if (*p == '[') {
            depth++;
            p++;
        } else if (*p == ']') {
            depth--;
            p++;
        } else if (isdigit((unsigned char)*p)) {
            if (depth != 2 || n >= want)
                return -1;
            char *end;
            out[n++] = strtoull(p, &end, 10);
            p = end;
        } else if (*p == ',' || isspace((unsigned char)*p)) {
            p++;
        } else {
            return -1;
        }
    }
    return n == want && depth == 0 ? 0 : -1;
}

/* "x'0a1b...'" or a hex string from hex(): n bytes into out */
static int parse_hex(const char *cell, uint8_t *out, size_t n)
{
    const char *p = cell;
    if (*p == '"')
        p++;
    size_t len = strspn(p, "0123456789abcdefABCDEF");
    if (len != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char b[3] = {p[2 * i], p[2 * i + 1], 0};
        out[i] = (uint8_t)strtoul(b, NULL, 16);
    }
    return 0;
}

void hp_report_ea_fini(hp_report_ea_t *r)
{
    hp_ea_fini(&r->ea);
    r->confusion = NULL;
    r->found = 0;
}

int hp_report_ea_read(const hp_query_src_t *src, int64_t study, int64_t trial, int with_pixels,
                      hp_report_ea_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->trial = trial;
    hp_buf_t sql = {0}, v = {0};
    hp_buf_printf(&sql,
                  "SELECT coalesce(json_extract(s.spec_json, '$.trial.dataset.name'),"
                  " json_extract(s.spec_json, '$.trial.dataset.path'),"
                  " json_extract(s.spec_json, '$.trial.dataset')),"
                  " e.classes, e.confusion, e.image_c, e.image_h, e.image_w, e.examples"
                  " FROM studies s JOIN trials t ON t.study_id = s.id"
                  " LEFT JOIN trial_errors e ON e.trial_id = t.id"
                  " WHERE s.id = %lld AND t.number = %lld",
                  (long long)study, (long long)trial);
    hp_table_t t;
    int rc = hp_query_run(src, sql.data, 0, &t, NULL, err, errlen);
    if (rc < 0 && strstr(err, "trial_errors")) {
        /* a coordinator from before error analysis (schema 7) answered:
         * nothing stored, as for a trial that has none */
        hp_table_fini(&t);
        hp_buf_fini(&sql);
        hp_buf_fini(&v);
        return 0;
    }
    if (rc == 0 && hp_table_rows(&t) == 1) {
        const char *ds = hp_table_cell(&t, 0, 0);
        if (!hp_json_is_null(ds))
            snprintf(out->dataset, sizeof out->dataset, "%s", hp_json_text(ds, &v));
        if (strcmp(out->dataset, "fashion-mnist") == 0)
            out->class_names = fashion_names;
        const char *k = hp_table_cell(&t, 0, 1);
        if (is_number(k)) {
            int classes = atoi(k);
            int c = with_pixels ? atoi(hp_table_cell(&t, 0, 3)) : 0;
            int h = atoi(hp_table_cell(&t, 0, 4)), w = atoi(hp_table_cell(&t, 0, 5));
            rc = hp_ea_init(&out->ea, classes, c, h, w, err, errlen);
            if (rc == 0 && !with_pixels) {
                /* the shape, without room for pixels */
                out->ea.c = atoi(hp_table_cell(&t, 0, 3));
                out->ea.h = h;
                out->ea.w = w;
            }
            if (rc == 0 &&
                parse_confusion(hp_json_text(hp_table_cell(&t, 0, 2), &v), classes,
                                out->ea.confusion) < 0)
                rc = hp_errf(err, errlen, HP_ECORRUPT,
                             "trial %lld: its stored confusion matrix is not %d x %d counts",
                             (long long)trial, classes, classes);
            out->ea.n = strtoull(hp_table_cell(&t, 0, 6), NULL, 10);
            out->confusion = out->ea.confusion;
            out->found = rc == 0;
        }
    }
    hp_table_fini(&t);
    if (rc == 0 && out->found) {
        hp_buf_reset(&sql);
        hp_buf_printf(&sql,
                      "SELECT w.rank, w.idx, w.label, w.predicted, w.loss, %s FROM trial_worst w"
                      " JOIN trials t ON t.id = w.trial_id WHERE t.study_id = %lld AND"
                      " t.number = %lld ORDER BY w.rank LIMIT %d",
                      with_pixels ? "hex(w.pixels)" : "NULL", (long long)study,
                      (long long)trial, HP_EA_WORST);
        rc = hp_query_run(src, sql.data, 0, &t, NULL, err, errlen);
        size_t px = with_pixels ? hp_ea_pixel_bytes(&out->ea) : 0;
        for (size_t i = 0; rc == 0 && i < hp_table_rows(&t); i++) {
            hp_ea_example_t *w = &out->ea.worst[i];
            w->index = (uint32_t)strtoul(hp_table_cell(&t, i, 1), NULL, 10);
            w->label = atoi(hp_table_cell(&t, i, 2));
            w->predicted = atoi(hp_table_cell(&t, i, 3));
            const char *l = hp_table_cell(&t, i, 4);
            w->loss = is_number(l) ? strtof(l, NULL) : NAN;
            if (px && parse_hex(hp_table_cell(&t, i, 5), hp_ea_pixels(&out->ea, i), px) < 0)
                rc = hp_errf(err, errlen, HP_ECORRUPT,
                             "trial %lld: worst example %zu has no %zu-byte image stored",
                             (long long)trial, i + 1, px);
            out->ea.nworst = i + 1;
        }
        hp_table_fini(&t);
    }
    hp_buf_fini(&sql);
    hp_buf_fini(&v);
    if (rc < 0)
        hp_report_ea_fini(out);
    return rc;
}

const char *hp_report_ea_class(const hp_report_ea_t *r, int k, char *buf, size_t len)
{
    if (r->class_names && k >= 0 && k < 10)
        snprintf(buf, len, "%d (%s)", k, r->class_names[k]);
    else
        snprintf(buf, len, "%d", k);
    return buf;
}

void hp_report_ea_text(const hp_report_ea_t *r, const char *study, const char *db,
                       hp_buf_t *out)
{
    hp_buf_printf(out, "\nerror analysis (trial %lld, test set)\n", (long long)r->trial);
    if (!r->found) {
        hp_buf_puts(out, "  none stored: only built-in classification trials that completed"
                         " keep a confusion matrix and worst examples\n");
        return;
    }
    const hp_ea_t *ea = &r->ea;
    int k = ea->nclasses;
    uint64_t right = 0;
    for (int i = 0; i < k; i++)
        right += r->confusion[(size_t)i * (size_t)k + (size_t)i];
    hp_buf_printf(out, "  %" PRIu64 " examples, %" PRIu64 " misclassified (%.2f%%), %d classes\n",
                  ea->n, ea->n - right, ea->n ? 100.0 * (double)(ea->n - right) / (double)ea->n : 0,
                  k);
    hp_ea_pair_t pairs[HP_REPORT_EA_PAIRS];
    size_t np = hp_ea_pairs(r->confusion, k, pairs, HP_REPORT_EA_PAIRS);
    hp_buf_puts(out, "  most confused (true -> predicted: examples, share of the true class)\n");
    if (np == 0)
        hp_buf_puts(out, "    none: every example is right\n");
    char a[64], b[64];
    for (size_t i = 0; i < np; i++)
        hp_buf_printf(out, "    %-18s -> %-18s %6" PRIu64 "  %5.1f%%\n",
                      hp_report_ea_class(r, pairs[i].label, a, sizeof a),
                      hp_report_ea_class(r, pairs[i].predicted, b, sizeof b), pairs[i].count,
                      100.0 * pairs[i].share);
    /* what `index` counts (docs/errors.md): a CSV's data row, else the
     * position in the built-in dataset's test file */
    hp_buf_printf(out, "  worst examples (highest loss first; %s)\n",
                  r->class_names ? "index in the test set's file"
                  : r->dataset[0] ? "index: the CSV's data row, 0-based, header not counted"
                                  : "index in the test set");
    hp_buf_puts(out, "    rank  index   label              predicted          loss\n");
    for (size_t i = 0; i < ea->nworst; i++) {
        const hp_ea_example_t *w = &ea->worst[i];
        hp_buf_printf(out, "    %4zu  %-6" PRIu32 "  %-18s %-18s %.4f\n", i + 1, w->index,
                      hp_report_ea_class(r, w->label, a, sizeof a),
                      hp_report_ea_class(r, w->predicted, b, sizeof b), (double)w->loss);
    }
    if (ea->c > 0)
        hp_buf_printf(out, "  see them: hpsearch examples%s%s %s %lld --out DIR\n",
                      db ? " --db " : "", db ? db : "", study, (long long)r->trial);
}

void hp_report_ea_json(const hp_report_ea_t *r, hp_buf_t *out)
{
    if (!r->found) {
        hp_buf_puts(out, "null");
        return;
    }
    const hp_ea_t *ea = &r->ea;
    int k = ea->nclasses;
    hp_buf_printf(out, "{\"trial\":%lld,\"set\":\"test\",\"examples\":%" PRIu64 ",\"classes\":%d",
                  (long long)r->trial, ea->n, k);
    hp_buf_puts(out, ",\"class_names\":");
    if (r->class_names) {
        hp_buf_putc(out, '[');
        for (int i = 0; i < k && i < 10; i++) {
            if (i)
                hp_buf_putc(out, ',');
            hp_buf_json_string(out, r->class_names[i]);
        }
        hp_buf_putc(out, ']');
    } else {
        hp_buf_puts(out, "null");
    }
    hp_buf_puts(out, ",\"confusion\":[");
    for (int i = 0; i < k; i++) {
        hp_buf_puts(out, i ? ",[" : "[");
        for (int j = 0; j < k; j++)
            hp_buf_printf(out, "%s%" PRIu64, j ? "," : "", r->confusion[(size_t)i * (size_t)k + (size_t)j]);
        hp_buf_putc(out, ']');
    }
    hp_ea_pair_t pairs[HP_REPORT_EA_PAIRS];
    size_t np = hp_ea_pairs(r->confusion, k, pairs, HP_REPORT_EA_PAIRS);
    hp_buf_puts(out, "],\"confused_pairs\":[");
    for (size_t i = 0; i < np; i++) {
        hp_buf_printf(out, "%s{\"label\":%d,\"predicted\":%d,\"count\":%" PRIu64 ",\"share\":",
                      i ? "," : "", pairs[i].label, pairs[i].predicted, pairs[i].count);
        hp_buf_json_number(out, pairs[i].share);
        hp_buf_putc(out, '}');
    }
    hp_buf_puts(out, "],\"worst\":[");
    for (size_t i = 0; i < ea->nworst; i++) {
        const hp_ea_example_t *w = &ea->worst[i];
        hp_buf_printf(out, "%s{\"rank\":%zu,\"index\":%" PRIu32 ",\"label\":%d,\"predicted\":%d,"
                           "\"loss\":",
                      i ? "," : "", i + 1, w->index, w->label, w->predicted);
        hp_buf_json_number(out, w->loss);
        hp_buf_putc(out, '}');
    }
    hp_buf_printf(out, "],\"image_shape\":");
    if (ea->c > 0)
        hp_buf_printf(out, "[%d,%d,%d]}", ea->c, ea->h, ea->w);
    else
        hp_buf_puts(out, "null}");
}
