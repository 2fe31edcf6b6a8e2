/*
 * output.h — what the listing verbs print: a table of cells, each cell held
 * as a JSON value text (a number, a "string" or null — exactly what the
 * coordinator's QUERY_REPLY carries), printed as an aligned table, CSV or
 * JSON.
 *
 *     hp_table_t t;
 *     hp_table_init(&t, 3, (const char *[]){"number", "state", "value"});
 *     hp_table_add_int(&t, 0);
 *     hp_table_add_str(&t, "completed");
 *     hp_table_add_num(&t, 0.25);
 *     hp_table_print(&t, HP_FORMAT_CSV, stdout);
 *     hp_table_fini(&t);
 *
 * Formats:
 *  - table: a header line, then one line per row, columns separated by two
 *    spaces and padded to the widest cell; strings unquoted, null empty,
 *    control characters shown as spaces so a row stays one line.
 *  - csv (RFC 4180): header then rows, "\n" line ends; a field is quoted
 *    ("" for a quote) when it holds a comma, quote, CR/LF or edge blanks;
 *    null is an empty field.
 *  - json: an array of objects, one row per line:
 *        [
 *        {"number":0,"state":"completed","value":0.25}
 *        ]
 *    ("[]" when empty). A column marked with hp_table_set_raw holds JSON
 *    documents as strings (e.g. trial params); they are embedded as JSON.
 */
#ifndef HP_CLI_OUTPUT_H
#define HP_CLI_OUTPUT_H

#include "buf.h"
#include "cli.h"

#include <stdio.h>

typedef struct hp_table {
    size_t ncol;
    char **columns;
    unsigned char *raw; /* per column: string cells are JSON documents */
    size_t *maxw;       /* per column: table format cuts cells longer (0: no) */
    char **cells;       /* row-major JSON value texts */
    size_t ncells, cap;
} hp_table_t;

/* hp_table_init prepares an empty table with ncol named columns (copied). */
void hp_table_init(hp_table_t *t, size_t ncol, const char *const *names);
/* hp_table_fini frees everything; safe on zeroed memory. */
void hp_table_fini(hp_table_t *t);

/* Cells are appended in row-major order. */
void hp_table_add_json(hp_table_t *t, const char *json_value); /* copied; NULL = null */
void hp_table_add_str(hp_table_t *t, const char *s);           /* NULL = null */
void hp_table_add_int(hp_table_t *t, long long v);
void hp_table_add_num(hp_table_t *t, double v); /* non-finite: null */
void hp_table_add_null(hp_table_t *t);

/* hp_table_set_raw marks column col as holding JSON documents in strings. */
void hp_table_set_raw(hp_table_t *t, size_t col);

/* hp_table_set_max_width cuts column col's cells to n characters (ending
 * in "...") in the table format only; csv and json keep them whole. */
void hp_table_set_max_width(hp_table_t *t, size_t col, size_t n);

/* hp_table_rows returns the number of complete rows. */
size_t hp_table_rows(const hp_table_t *t);

/* hp_table_cell returns the JSON value text at (row, col). */
const char *hp_table_cell(const hp_table_t *t, size_t row, size_t col);

/* hp_table_print writes the table to f in fmt. Returns 0, or -1 if writing
 * failed. */
int hp_table_print(const hp_table_t *t, hp_cli_format_t fmt, FILE *f);

/* hp_json_text turns a JSON value text into display text in out (replacing
 * its contents): a string's content unescaped, null as "", anything else
 * as is. Returns out->data (never NULL). */
const char *hp_json_text(const char *json_value, hp_buf_t *out);

/* hp_json_is_null says whether a JSON value text is null (or NULL). */
int hp_json_is_null(const char *json_value);

#endif
