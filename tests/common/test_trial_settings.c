/*
 * The table of a built-in model trial's settings: docs/engine.md lists
 * exactly the table, the table is consistent with itself (defaults it
 * accepts, a dataset key numbered 1..n), values parse as the engine reads
 * them, and the spec's trial.dataset words all land on a setting that
 * takes them.
 */
#include "buf.h"
#include "diag.h"
#include "err.h"
#include "spec.h"
#include "trial_settings.h"

#include "hp_check.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BEGIN "<!-- settings table: common/trial_settings.def (tests/common/test_trial_settings.c) -->"
#define END "<!-- end of the settings table -->"

static const char *type_word(hp_trial_setting_type_t t)
{
    switch (t) {
    case HP_TS_INT:
        return "int";
    case HP_TS_U64:
        return "uint64";
    case HP_TS_DOUBLE:
        return "number";
    case HP_TS_STRING:
        return "string";
    case HP_TS_BOOL:
        return "boolean";
    case HP_TS_INTLIST:
        return "int list";
    }
    return "?";
}

/* cell appends text to a markdown table cell, '|' escaped */
static void cell(hp_buf_t *b, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '|')
            hp_buf_putc(b, '\\');
        hp_buf_putc(b, *p);
    }
}

/* the settings section of docs/engine.md, as the table says it must read */
static void render(hp_buf_t *b)
{
    hp_buf_puts(b, "| setting | type | values | default | |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < hp_trial_settings_n; i++) {
        const hp_trial_setting_t *s = &hp_trial_settings[i];
        char range[256];
        hp_trial_setting_range(s, range, sizeof range);
        hp_buf_printf(b, "| `%s` | %s | ", s->name, type_word(s->type));
        cell(b, range);
        if (s->aliases) {
            /* "standardize=standard|centered=center" */
            hp_buf_puts(b, "; also ");
            for (const char *p = s->aliases; *p; p++) {
                if (*p == '|')
                    hp_buf_puts(b, ", ");
                else if (*p == '=')
                    hp_buf_puts(b, " for ");
                else
                    hp_buf_putc(b, *p);
            }
        }
        hp_buf_puts(b, " | ");
        if (s->def[0])
            hp_buf_printf(b, "`%s`", s->def);
        else
            hp_buf_puts(b, "—");
        hp_buf_puts(b, " | ");
        cell(b, s->doc);
        hp_buf_puts(b, " |\n");
    }
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    hp_buf_t b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        hp_buf_append(&b, chunk, n);
    fclose(f);
    return hp_buf_steal(&b);
}

START_TEST(test_docs_list_the_table)
{
    const char *src = getenv("HP_SOURCE_DIR");
    ck_assert_ptr_nonnull(src);
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/engine.md", src);
    char *doc = read_file(path);
    char *begin = strstr(doc, BEGIN "\n"), *end = begin ? strstr(begin, END) : NULL;
    ck_assert_msg(begin && end, "docs/engine.md: no settings table between '%s' and '%s'", BEGIN,
                  END);
    begin += strlen(BEGIN) + 1;
    *end = '\0';
    hp_buf_t want = {0};
    render(&want);
    if (strcmp(begin, want.data) != 0) {
        /* name the first row that differs, and give the whole table to paste */
        const char *a = begin, *b = want.data;
        while (*a && *a == *b)
            a++, b++;
        while (b > want.data && b[-1] != '\n')
            b--;
        const char *eol = strchr(b, '\n');
        fprintf(stderr,
                "docs/engine.md's settings table differs from common/trial_settings.def; the "
                "first row that differs should be:\n  %.*s\nthe whole table should read:\n%s",
                (int)(eol ? eol - b : (long)strlen(b)), b, want.data);
    }
    ck_assert_str_eq(begin, want.data);
    hp_buf_fini(&want);
    free(doc);
}
END_TEST

START_TEST(test_table_is_consistent)
{
    int seen[64] = {0}, max_key = 0;
    for (size_t i = 0; i < hp_trial_settings_n; i++) {
        const hp_trial_setting_t *s = &hp_trial_settings[i];
        char err[256];
        hp_trial_value_t v;
        ck_assert_msg(s->doc[0] != '\0', "%s has no doc", s->name);
        ck_assert_ptr_eq(hp_trial_setting_find(s->name), s); /* names are unique */
        if (s->def[0])
            ck_assert_msg(hp_trial_setting_parse(s, s->def, &v, err, sizeof err) == 0,
                          "%s: default %s: %s", s->name, s->def, err);
        ck_assert_msg((s->choices || s->aliases) == 0 || s->type == HP_TS_STRING,
                      "%s: choices on a non-string", s->name);
        ck_assert_msg(s->lo <= s->hi, "%s: empty range", s->name);
        /* the dataset key's places are 1..n, each once */
        ck_assert_int_ge(s->data_key, 0);
        ck_assert_int_lt(s->data_key, (int)HP_ARRAY_LEN(seen));
        if (s->data_key) {
            ck_assert_msg(!seen[s->data_key], "%s: data_key %d twice", s->name, s->data_key);
            seen[s->data_key] = 1;
            if (s->data_key > max_key)
                max_key = s->data_key;
        }
    }
    for (int k = 1; k <= max_key; k++)
        ck_assert_msg(seen[k], "no setting has data_key %d", k);
    ck_assert_ptr_null(hp_trial_setting_find("hiden"));
}
END_TEST

START_TEST(test_values_parse_as_the_engine_reads_them)
{
    char err[256];
    hp_trial_value_t v;
    const hp_trial_setting_t *norm = hp_trial_setting_find("normalize");
    ck_assert_ptr_nonnull(norm);
    /* the spec's words are aliases of the engine's */
    ck_assert_int_eq(hp_trial_setting_parse(norm, "standardize", &v, err, sizeof err), 0);
    ck_assert_int_eq((int)v.len, 8);
    ck_assert_int_eq(strncmp(v.text, "standard", v.len), 0);
    ck_assert_int_eq(hp_trial_setting_parse(norm, "centered", &v, err, sizeof err), 0);
    ck_assert_int_eq(strncmp(v.text, "center", v.len), 0);
    ck_assert_int_eq((int)v.len, 6);
    ck_assert_int_eq(hp_trial_setting_parse(norm, "unit", &v, err, sizeof err), 0);
    ck_assert_int_eq(hp_trial_setting_parse(norm, "stand", &v, err, sizeof err), HP_EINVAL);
    ck_assert_str_eq(err, "unknown value 'stand' (choose standard|unit|center|none)");
    /* free text up to the field's size */
    const hp_trial_setting_t *label = hp_trial_setting_find("label");
    char long_label[80];
    memset(long_label, 'y', sizeof long_label - 1);
    long_label[sizeof long_label - 1] = '\0';
    ck_assert_int_eq(hp_trial_setting_parse(label, long_label, &v, err, sizeof err), HP_EINVAL);
    ck_assert_str_eq(err, "value too long (max 63 characters)");
    long_label[63] = '\0';
    ck_assert_int_eq(hp_trial_setting_parse(label, long_label, &v, err, sizeof err), 0);
    /* lists: from --set and as a spec's JSON */
    const hp_trial_setting_t *hidden = hp_trial_setting_find("hidden");
    ck_assert_int_eq(hp_trial_setting_parse(hidden, "[512,256]", &v, err, sizeof err), 0);
    ck_assert_int_eq(v.nlist, 2);
    ck_assert_int_eq(v.list[1], 256);
    ck_assert_int_eq(hp_trial_setting_parse(hidden, "1,2,3,4,5,6,7,8,9", &v, err, sizeof err),
                     HP_EINVAL);
    ck_assert_str_eq(err, "at most 8 layers");
    ck_assert_int_eq(hp_trial_setting_parse(hidden, "[]", &v, err, sizeof err), HP_EINVAL);
    ck_assert_str_eq(err, "expected a width or a list of widths");
    /* numbers */
    const hp_trial_setting_t *seed = hp_trial_setting_find("seed");
    ck_assert_int_eq(hp_trial_setting_parse(seed, "18446744073709551615", &v, err, sizeof err), 0);
    ck_assert(v.u64 == UINT64_MAX);
    ck_assert_int_eq(hp_trial_setting_parse(seed, "-1", &v, err, sizeof err), HP_EINVAL);
    ck_assert_str_eq(err, "expected a non-negative integer (got '-1')");
    const hp_trial_setting_t *lr = hp_trial_setting_find("lr");
    ck_assert_int_eq(hp_trial_setting_parse(lr, "inf", &v, err, sizeof err), HP_EINVAL);
    ck_assert_str_eq(err, "not a number: 'inf'");
    ck_assert_int_eq(hp_trial_setting_parse(lr, "1e-3", &v, err, sizeof err), 0);
    ck_assert_double_eq(v.num, 1e-3);
    const hp_trial_setting_t *bn = hp_trial_setting_find("batchnorm");
    ck_assert_int_eq(hp_trial_setting_parse(bn, "true", &v, err, sizeof err), 0);
    ck_assert_double_eq(v.num, 1);
}
END_TEST

static const char *normalize_word(int x) { return hp_normalize_name((hp_normalize_t)x); }
static const char *shift_word(int x) { return hp_shift_name((hp_shift_t)x); }
static const char *adapt_word(int x) { return hp_adapt_name((hp_adapt_t)x); }
static const char *task_word(int x) { return hp_task_name((hp_task_t)x); }
static const char *model_word(int x) { return hp_model_name((hp_model_t)x); }

/* the spec's trial.dataset words (docs/spec.md) each reach a setting that
 * takes them: the one place the two vocabularies meet */
START_TEST(test_dataset_keys_reach_settings)
{
    for (size_t i = 0; i < hp_trial_dataset_keys_n; i++) {
        const hp_trial_dataset_key_t *k = &hp_trial_dataset_keys[i];
        const hp_trial_setting_t *s = hp_trial_setting_find(k->setting);
        ck_assert_msg(s != NULL, "trial.dataset.%s sets unknown setting %s", k->key, k->setting);
        char err[256];
        hp_trial_value_t v;
        if (k->when_true)
            ck_assert_msg(hp_trial_setting_parse(s, k->when_true, &v, err, sizeof err) == 0,
                          "%s=%s: %s", k->setting, k->when_true, err);
    }
    /* every word of the spec's enums is a value of its setting */
    static const struct {
        const char *setting;
        const char *(*name)(int);
    } enums[] = {
        {"normalize", normalize_word},
        {"shift", shift_word},
        {"adapt", adapt_word},
        {"task", task_word},
        {"model", model_word}, /* trial.model, which fixed: {model: ...} overrides */
    };
    for (size_t e = 0; e < HP_ARRAY_LEN(enums); e++) {
        const hp_trial_setting_t *s = hp_trial_setting_find(enums[e].setting);
        for (int x = 0; strcmp(enums[e].name(x), "?") != 0; x++) {
            char err[256];
            hp_trial_value_t v;
            ck_assert_msg(hp_trial_setting_parse(s, enums[e].name(x), &v, err, sizeof err) == 0,
                          "%s: the spec's '%s': %s", s->name, enums[e].name(x), err);
        }
    }
    /* and the spec accepts every key the table maps (and only those: an
     * unknown one is refused, so a new row cannot pass unchecked) */
    static const char *const specs[] = {
        "name: a\nobjective: {metric: val_error}\nsearch: {max_trials: 2}\n"
        "space: {lr: {type: float, low: 0.001, high: 0.1}}\n"
        "trial:\n  model: mlp\n  dataset: {name: fashion-mnist, train_subset: 100,"
        " validation_fraction: 0.2, normalize: centered, shift: noise, augment: true,"
        " adapt: coral}\n",
        "name: a\nobjective: {metric: val_error}\nsearch: {max_trials: 2}\n"
        "space: {lr: {type: float, low: 0.001, high: 0.1}}\n"
        "trial:\n  model: mlp\n  dataset: {path: d.csv, label: y, task: regression}\n",
        "name: a\nobjective: {metric: val_error}\nsearch: {max_trials: 2}\n"
        "space: {lr: {type: float, low: 0.001, high: 0.1}}\n"
        "trial:\n  model: multimodal\n  dataset: {path: d.csv, label: y, image_columns: \"px*\","
        " image_shape: [1, 8, 8], feature_columns: [f1, f2]}\n",
        "name: a\nobjective: {metric: val_error}\nsearch: {max_trials: 2}\n"
        "space: {lr: {type: float, low: 0.001, high: 0.1}}\n"
        "trial:\n  model: lstm\n  dataset: {path: d.csv, label: y, sequence_columns: \"s*\","
        " sequence_shape: [20, 2]}\n",
    };
    for (size_t i = 0; i < hp_trial_dataset_keys_n; i++) {
        char want[64], first[64];
        snprintf(want, sizeof want, " %s: ", hp_trial_dataset_keys[i].key);
        snprintf(first, sizeof first, "{%s: ", hp_trial_dataset_keys[i].key);
        int found = 0;
        for (size_t k = 0; k < HP_ARRAY_LEN(specs); k++)
            found |= strstr(specs[k], want) != NULL || strstr(specs[k], first) != NULL;
        ck_assert_msg(found, "no spec here uses trial.dataset.%s", hp_trial_dataset_keys[i].key);
    }
    for (size_t k = 0; k < HP_ARRAY_LEN(specs); k++) {
        hp_spec_t spec;
        hp_diag_t d = {0};
        int rc = hp_spec_parse(&spec, specs[k], strlen(specs[k]), "d.yaml", &d);
        for (size_t i = 0; i < d.n; i++)
            fprintf(stderr, "%s\n", d.items[i].text);
        ck_assert_int_eq(rc, 0);
        hp_spec_fini(&spec);
        hp_diag_fini(&d);
    }
    ck_assert(hp_trial_dataset_is_path("data/x", 6));
    ck_assert(hp_trial_dataset_is_path("x.csv", 5));
    ck_assert(!hp_trial_dataset_is_path("fashion-mnist", 13));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trial_settings");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, test_docs_list_the_table);
    tcase_add_test(tc, test_table_is_consistent);
    tcase_add_test(tc, test_values_parse_as_the_engine_reads_them);
    tcase_add_test(tc, test_dataset_keys_reach_settings);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return hp_check_run(suite());
}
