/*
 * The dataset key (hp_spec_dataset_key): studies whose trials train and
 * test on the same data get the same key, whatever else differs; a change
 * to the data — dataset, shift, seed, a fixed split setting — changes it;
 * a study whose space varies the data, or that trains no built-in model,
 * has none.
 */
#include "buf.h"
#include "diag.h"
#include "spec.h"

#include "hp_check.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#define SEARCH(extra) "search: {algorithm: random, max_trials: 6" extra "}\n"
#define SPACE_LR "space:\n  lr: {type: float, low: 1e-4, high: 1e-1, log: true}\n"
#define MLP(dataset, rest) "trial:\n  model: mlp\n  dataset: " dataset "\n" rest

/* key_of parses yaml and returns its key ("" when it has none; static). */
static const char *key_of(const char *yaml)
{
    static char out[2048];
    hp_spec_t s;
    hp_diag_t d = {0};
    int rc = hp_spec_parse(&s, yaml, strlen(yaml), "k.yaml", &d);
    ck_assert_msg(rc == 0, "%s\n%s", yaml, d.n ? d.items[0].text : "?");
    hp_diag_fini(&d);
    hp_buf_t b = {0};
    hp_buf_puts(&b, "prefix:"); /* appends; -1 appends nothing */
    if (hp_spec_dataset_key(&s, &b) < 0) {
        ck_assert_str_eq(b.data, "prefix:");
        out[0] = '\0';
    } else {
        ck_assert_uint_lt(b.len, sizeof out);
        strcpy(out, b.data + strlen("prefix:"));
    }
    hp_buf_fini(&b);
    hp_spec_fini(&s);
    return out;
}

START_TEST(test_key_of_a_default_dataset)
{
    ck_assert_str_eq(key_of("name: a\nobjective: {metric: val_error}\n" SEARCH("") SPACE_LR
                                MLP("fashion-mnist", "")),
                     "{\"name\":\"fashion-mnist\",\"train_subset\":0,\"validation_fraction\":0.1,"
                     "\"normalize\":\"standardize\",\"shift\":\"none\",\"seed\":0}");
    ck_assert_str_eq(key_of("name: a\nobjective: {metric: val_error}\n" SEARCH(", seed: 7") SPACE_LR
                                MLP("{name: fashion-mnist, train_subset: 2000, shift: darken, "
                                    "normalize: unit, validation_fraction: 0.2}",
                                    "")),
                     "{\"name\":\"fashion-mnist\",\"train_subset\":2000,\"validation_fraction\":0.2,"
                     "\"normalize\":\"unit\",\"shift\":\"darken\",\"seed\":7}");
    /* a CSV file: its label column and task too */
    ck_assert_str_eq(key_of("name: a\nobjective: {metric: val_error}\n" SEARCH("") SPACE_LR
                                MLP("{path: data/houses.csv, label: price, task: regression}", "")),
                     "{\"path\":\"data/houses.csv\",\"label\":\"price\",\"task\":\"regression\","
                     "\"train_subset\":0,\"validation_fraction\":0.1,"
                     "\"normalize\":\"standardize\",\"shift\":\"none\",\"seed\":0}");
}
END_TEST

START_TEST(test_same_data_same_key)
{
    char a[2048];
    strcpy(a, key_of("name: a\nobjective: {metric: val_error}\n" SEARCH(", seed: 3") SPACE_LR
                         MLP("{name: fashion-mnist, train_subset: 1000}", "  epochs: 1\n")));
    /* another name, model, objective, algorithm, space, epochs, sanity
     * check, augmentation and non-data fixed settings: the same data */
    ck_assert_str_eq(
        key_of("name: b\nobjective: {metric: test_error, human_error: 0.05}\n"
               "search: {algorithm: sobol, max_trials: 20, parallelism: 4, seed: 3, "
               "sanity_check: false}\n"
               "space:\n  batch_size: {type: int, low: 32, high: 256}\n"
               "trial:\n  model: lenet\n  dataset: {name: fashion-mnist, train_subset: 1000, "
               "augment: true}\n  epochs: 5\n  fixed: {lr: 0.001, dropout: 0.2, baselines: 1}\n"),
        a);
    /* fixed data settings in any order give one key */
    char b[2048];
    strcpy(b, key_of("name: a\nobjective: {metric: val_error}\n" SEARCH("") SPACE_LR
                         MLP("fashion-mnist", "  fixed: {val_size: 5000, dropout: 0.1, shift: noise}\n")));
    ck_assert_str_eq(b, "{\"name\":\"fashion-mnist\",\"train_subset\":0,\"validation_fraction\":0.1,"
                        "\"normalize\":\"standardize\",\"shift\":\"none\",\"seed\":0,"
                        "\"fixed\":{\"val_size\":5000,\"shift\":\"noise\"}}");
    ck_assert_str_eq(key_of("name: a\nobjective: {metric: val_error}\n" SEARCH("") SPACE_LR
                                MLP("fashion-mnist", "  fixed: {shift: noise, val_size: 5000}\n")),
                     b);
}
END_TEST

START_TEST(test_other_data_other_key)
{
    char base[2048];
#define SPEC(search_extra, dataset, rest)                                                          \
    "name: a\nobjective: {metric: val_error}\n" SEARCH(search_extra) SPACE_LR MLP(dataset, rest)
    strcpy(base, key_of(SPEC("", "{name: fashion-mnist, train_subset: 1000}", "")));
    static const char *const others[] = {
        SPEC(", seed: 1", "{name: fashion-mnist, train_subset: 1000}", ""),
        SPEC("", "{name: fashion-mnist, train_subset: 1000, shift: darken}", ""),
        SPEC("", "{name: fashion-mnist, train_subset: 1000, shift: same}", ""),
        SPEC("", "{name: fashion-mnist, train_subset: 2000}", ""),
        SPEC("", "{name: fashion-mnist, train_subset: 1000, validation_fraction: 0.2}", ""),
        SPEC("", "{name: fashion-mnist, train_subset: 1000, normalize: none}", ""),
        SPEC("", "{path: fm.csv, train_subset: 1000}", ""),
        SPEC("", "{name: fashion-mnist, train_subset: 1000}", "  fixed: {seed: 5}\n"),
        SPEC("", "{name: fashion-mnist, train_subset: 1000}", "  fixed: {train_size: 500}\n"),
        SPEC("", "{name: fashion-mnist, train_subset: 1000}", "  fixed: {shift_val_size: 0.5}\n"),
        SPEC("", "{name: fashion-mnist, train_subset: 1000}", "  fixed: {data_dir: /data/fm}\n"),
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        char k[2048];
        strcpy(k, key_of(others[i]));
        ck_assert_msg(*k && strcmp(k, base) != 0, "same key for\n%s", others[i]);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(k, key_of(others[j])) != 0, "same key for\n%s\n%s", others[i],
                          others[j]);
    }
#undef SPEC
}
END_TEST

START_TEST(test_no_key)
{
    /* the space varies the data: each trial has its own */
    static const char *const varies[] = {"train_size", "val_size", "shift_val_size", "seed",
                                         "test_size"};
    for (size_t i = 0; i < sizeof varies / sizeof varies[0]; i++) {
        char yaml[1024];
        snprintf(yaml, sizeof yaml,
                 "name: a\nobjective: {metric: val_error}\n" SEARCH("")
                 "space:\n  %s: {type: int, low: 100, high: 1000}\n" MLP("fashion-mnist", ""),
                 varies[i]);
        ck_assert_msg(*key_of(yaml) == '\0', "a key for a space over %s", varies[i]);
    }
    ck_assert_str_eq(key_of("name: a\nobjective: {metric: val_error}\n" SEARCH("")
                            "space:\n  normalize: {type: categorical, values: [standard, unit]}\n"
                            MLP("fashion-mnist", "")),
                     "");
    /* no built-in model: no baselines to share */
    ck_assert_str_eq(key_of("name: a\nobjective: {metric: value}\n" SEARCH("")
                            "space:\n  x1: {type: float, low: -5, high: 10}\n"
                            "  x2: {type: float, low: 0, high: 15}\n"
                            "trial:\n  function: branin\n"),
                     "");
    ck_assert_str_eq(key_of("name: a\nobjective: {metric: loss}\n" SEARCH("") SPACE_LR
                            "trial:\n  command: [train, --lr, '{lr}']\n"),
                     "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("common_dataset_key");
    TCase *tc = tcase_create("key");
    tcase_add_test(tc, test_key_of_a_default_dataset);
    tcase_add_test(tc, test_same_data_same_key);
    tcase_add_test(tc, test_other_data_other_key);
    tcase_add_test(tc, test_no_key);
    suite_add_tcase(s, tc);
    return hp_check_run(s);
}
