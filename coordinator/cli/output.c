/* Tables, CSV and JSON for the listing verbs. */
#include "output.h"

#include "err.h"
#include "vec.h"

#include <stdlib.h>
#include <string.h>

void hp_table_init(hp_table_t *t, size_t ncol, const char *const *names)
{
    memset(t, 0, sizeof *t);
    t->ncol = ncol;
    t->columns = calloc(ncol + 1, sizeof *t->columns);
    t->raw = calloc(ncol + 1, 1);
    t->maxw = calloc(ncol + 1, sizeof *t->maxw);
    HP_ASSERT(t->columns && t->raw && t->maxw);
    for (size_t i = 0; i < ncol; i++) {
        t->columns[i] = strdup(names[i] ? names[i] : "");
        HP_ASSERT(t->columns[i] != NULL);
    }
}

void hp_table_fini(hp_table_t *t)
{
    for (size_t i = 0; i < t->ncol && t->columns; i++)
        free(t->columns[i]);
    free(t->columns);
    free(t->raw);
    free(t->maxw);
    for (size_t i = 0; i < t->ncells; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

static void push(hp_table_t *t, char *cell)
{
    HP_ASSERT(cell != NULL);
    t->cells = hp_vec_grow(t->cells, &t->cap, t->ncells + 1, sizeof *t->cells, 64);
    t->cells[t->ncells++] = cell;
}

void hp_table_add_json(hp_table_t *t, const char *json_value)
{
    push(t, strdup(json_value ? json_value : "null"));
}

void hp_table_add_str(hp_table_t *t, const char *s)
{
    if (!s) {
        hp_table_add_null(t);
        return;
    }
    hp_buf_t b = {0};
    hp_buf_json_string(&b, s);
    push(t, hp_buf_steal(&b));
}

void hp_table_add_int(hp_table_t *t, long long v)
{
    hp_buf_t b = {0};
    hp_buf_printf(&b, "%lld", v);
    push(t, hp_buf_steal(&b));
}

void hp_table_add_num(hp_table_t *t, double v)
{
    hp_buf_t b = {0};
    hp_buf_json_number(&b, v);
    push(t, hp_buf_steal(&b));
}

void hp_table_add_null(hp_table_t *t) { push(t, strdup("null")); }

void hp_table_set_raw(hp_table_t *t, size_t col)
{
    if (col < t->ncol)
        t->raw[col] = 1;
}

void hp_table_set_max_width(hp_table_t *t, size_t col, size_t n)
{
    if (col < t->ncol)
        t->maxw[col] = n < 4 ? 4 : n;
}

size_t hp_table_rows(const hp_table_t *t) { return t->ncol ? t->ncells / t->ncol : 0; }

const char *hp_table_cell(const hp_table_t *t, size_t row, size_t col)
{
    return t->cells[row * t->ncol + col];
}

int hp_json_is_null(const char *v) { return !v || strcmp(v, "null") == 0; }

static unsigned hex4(const char *p, int *ok)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else {
            *ok = 0;
            return 0;
        }
    }
    return v;
}

static void put_utf8(hp_buf_t *b, unsigned cp)
{
    if (cp < 0x80) {
        hp_buf_putc(b, (char)cp);
    } else if (cp < 0x800) {
        hp_buf_putc(b, (char)(0xc0 | (cp >> 6)));
        hp_buf_putc(b, (char)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        hp_buf_putc(b, (char)(0xe0 | (cp >> 12)));
        hp_buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
        hp_buf_putc(b, (char)(0x80 | (cp & 0x3f)));
    } else {
        hp_buf_putc(b, (char)(0xf0 | (cp >> 18)));
        hp_buf_putc(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
        hp_buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
        hp_buf_putc(b, (char)(0x80 | (cp & 0x3f)));
    }
}

const char *hp_json_text(const char *v, hp_buf_t *out)
{
    hp_buf_reset(out);
    hp_buf_puts(out, ""); /* data is never NULL */
    if (hp_json_is_null(v))
        return out->data;
    size_t n = strlen(v);
    if (n < 2 || v[0] != '"' || v[n - 1] != '"') {
        hp_buf_puts(out, v);
        return out->data;
    }
    for (size_t i = 1; i + 1 < n; i++) {
        char c = v[i];
        if (c != '\\' || i + 2 >= n) {
            hp_buf_putc(out, c);
            continue;
        }
        c = v[++i];
        switch (c) {
        case 'n': hp_buf_putc(out, '\n'); break;
        case 'r': hp_buf_putc(out, '\r'); break;
        case 't': hp_buf_putc(out, '\t'); break;
        case 'b': hp_buf_putc(out, '\b'); break;
        case 'f': hp_buf_putc(out, '\f'); break;
        case 'u': {
            int ok = i + 5 < n;
            unsigned cp = ok ? hex4(v + i + 1, &ok) : 0;
            if (!ok) {
                hp_buf_putc(out, 'u');
                break;
            }
            i += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && i + 7 < n && v[i + 1] == '\\' &&
                v[i + 2] == 'u') {
                unsigned lo = hex4(v + i + 3, &ok);
                if (ok && lo >= 0xdc00 && lo < 0xe000) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    i += 6;
                }
            }
            put_utf8(out, cp);
            break;
        }
        default: hp_buf_putc(out, c); break; /* \" \\ \/ */
        }
    }
    return out->data;
}

/* display width: code points, not bytes (UTF-8 continuation bytes don't count) */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

static void one_line(hp_buf_t *b)
{
    for (size_t i = 0; i < b->len; i++)
        if ((unsigned char)b->data[i] < 0x20)
            b->data[i] = ' ';
}

/* cut b to at most n code points, the last three being "..." */
static void cut(hp_buf_t *b, size_t n)
{
    if (!n || width(b->data) <= n)
        return;
    size_t cps = 0, i = 0;
    for (; i < b->len; i++) {
        if (((unsigned char)b->data[i] & 0xc0) != 0x80) {
            if (cps == n - 3)
                break;
            cps++;
        }
    }
    b->len = i;
    b->data[i] = '\0';
    hp_buf_puts(b, "...");
}

static void print_table(const hp_table_t *t, FILE *f)
{
    size_t rows = hp_table_rows(t);
    size_t *w = calloc(t->ncol + 1, sizeof *w);
    HP_ASSERT(w != NULL);
    hp_buf_t b = {0};
    for (size_t c = 0; c < t->ncol; c++)
        w[c] = width(t->columns[c]);
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < t->ncol; c++) {
            hp_json_text(hp_table_cell(t, r, c), &b);
            cut(&b, t->maxw[c]);
            size_t cw = width(b.data);
            if (cw > w[c])
                w[c] = cw;
        }
    hp_buf_t line = {0};
    for (size_t r = 0; r <= rows; r++) {
        hp_buf_reset(&line);
        for (size_t c = 0; c < t->ncol; c++) {
            if (r == 0) {
                hp_buf_reset(&b);
                hp_buf_puts(&b, t->columns[c]);
            } else {
                hp_json_text(hp_table_cell(t, r - 1, c), &b);
                cut(&b, t->maxw[c]);
            }
            one_line(&b);
            hp_buf_puts(&line, b.data);
            if (c + 1 < t->ncol)
                for (size_t k = w[c] - width(b.data) + 2; k--;)
                    hp_buf_putc(&line, ' ');
        }
        while (line.len && line.data[line.len - 1] == ' ')
            line.data[--line.len] = '\0'; /* no trailing blanks */
        fputs(line.data ? line.data : "", f);
        fputc('\n', f);
    }
    hp_buf_fini(&line);
    hp_buf_fini(&b);
    free(w);
}

static void csv_field(const char *s, FILE *f)
{
    size_t n = strlen(s);
    int quote = n && (s[0] == ' ' || s[n - 1] == ' ');
    if (strpbrk(s, ",\"\r\n"))
        quote = 1;
    if (!quote) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void print_csv(const hp_table_t *t, FILE *f)
{
    hp_buf_t b = {0};
    size_t rows = hp_table_rows(t);
    for (size_t r = 0; r <= rows; r++) {
        for (size_t c = 0; c < t->ncol; c++) {
            if (c)
                fputc(',', f);
            csv_field(r == 0 ? t->columns[c] : hp_json_text(hp_table_cell(t, r - 1, c), &b),
                      f);
        }
        fputc('\n', f);
    }
    hp_buf_fini(&b);
}

static void print_json(const hp_table_t *t, FILE *f)
{
    size_t rows = hp_table_rows(t);
    if (rows == 0) {
        fputs("[]\n", f);
        return;
    }
    hp_buf_t b = {0}, text = {0};
    fputs("[\n", f);
    for (size_t r = 0; r < rows; r++) {
        hp_buf_reset(&b);
        hp_buf_putc(&b, '{');
        for (size_t c = 0; c < t->ncol; c++) {
            if (c)
                hp_buf_putc(&b, ',');
            hp_buf_json_string(&b, t->columns[c]);
            hp_buf_putc(&b, ':');
            const char *v = hp_table_cell(t, r, c);
            if (t->raw[c] && v[0] == '"' && *hp_json_text(v, &text))
                hp_buf_puts(&b, text.data);
            else
                hp_buf_puts(&b, v);
        }
        hp_buf_puts(&b, r + 1 < rows ? "},\n" : "}\n");
        fputs(b.data, f);
    }
    fputs("]\n", f);
    hp_buf_fini(&b);
    hp_buf_fini(&text);
}

int hp_table_print(const hp_table_t *t, hp_cli_format_t fmt, FILE *f)
{
    switch (fmt) {
    case HP_FORMAT_CSV: print_csv(t, f); break;
    case HP_FORMAT_JSON: print_json(t, f); break;
    default: print_table(t, f); break;
    }
    return ferror(f) ? -1 : 0;
}
