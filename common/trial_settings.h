/*
 * trial_settings.h — the settings of a built-in model trial, in one table:
 * every name a trial may set (in the spec's trial.fixed or space, or with
 * `hpworker train --set name=value`), its type, range, default and a line
 * of documentation. The list itself is trial_settings.def.
 *
 * Who reads it: the spec validator (common/spec_trial.c) checks a model
 * trial's fixed values and space parameters against it; the engine
 * (worker/train/config.c) parses values with it and stores them in its
 * hp_train_config_t; `hpworker train --help` prints it; docs/engine.md
 * lists it (a test compares the two).
 *
 *     const hp_trial_setting_t *s = hp_trial_setting_find("optimizer");
 *     hp_trial_value_t v;
 *     char err[256];
 *     if (hp_trial_setting_parse(s, "adamm", &v, err, sizeof err) < 0)
 *         puts(err);   // unknown value 'adamm' (choose adam|adamw|sgd|momentum)
 *
 * The spec's trial.dataset keys are a vocabulary of their own (docs/spec.md);
 * hp_trial_dataset_keys says which setting each one sets.
 *
 * Everything here is constant: any thread may call it.
 */
#ifndef HP_TRIAL_SETTINGS_H
#define HP_TRIAL_SETTINGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HP_TRIAL_LIST_MAX 8 /* items of an INTLIST value (hidden layers) */

typedef enum hp_trial_setting_type {
    HP_TS_INT,     /* whole number in [lo, hi] */
    HP_TS_U64,     /* unsigned 64-bit whole number */
    HP_TS_DOUBLE,  /* finite number in [lo, hi] */
    HP_TS_STRING,  /* one of choices (or an alias), or free text; at most hi bytes */
    HP_TS_BOOL,    /* 1/true/yes/on or 0/false/no/off */
    HP_TS_INTLIST, /* "256", "512,256" or "[512, 256]": 1..HP_TRIAL_LIST_MAX items in [lo, hi] */
} hp_trial_setting_type_t;

typedef struct hp_trial_setting {
    const char *name;
    hp_trial_setting_type_t type;
    double lo, hi;       /* see trial_settings.def */
    const char *choices; /* HP_TS_STRING: "a|b|c", or NULL for free text */
    const char *aliases; /* HP_TS_STRING: "other=choice|...", or NULL */
    const char *def;     /* default as text; "" = the engine decides */
    int data_key;        /* > 0: changes the data; its place in a dataset key */
    const char *doc;
} hp_trial_setting_t;

/* The table, in trial_settings.def's order. */
extern const hp_trial_setting_t hp_trial_settings[];
extern const size_t hp_trial_settings_n;

/* A parsed value. */
typedef struct hp_trial_value {
    double num;        /* INT, DOUBLE; BOOL: 0 or 1 */
    uint64_t u64;      /* U64 */
    const char *text;  /* STRING: the value as stored (a choice for an alias), */
    size_t len;        /*   len bytes, pointing into the input or the table */
    int list[HP_TRIAL_LIST_MAX]; /* INTLIST */
    int nlist;
} hp_trial_value_t;

/* hp_trial_setting_find returns the setting called name, or NULL. */
const hp_trial_setting_t *hp_trial_setting_find(const char *name);

/* hp_trial_setting_parse reads text (a value as `--set` or a trial sends
 * it: numbers as text, booleans true/false or 1/0, lists as "512,256" or
 * JSON) as a value of s. Returns 0 with *v set, or HP_EINVAL with a message
 * that says what is allowed and does not name the setting (the caller
 * does: "optimizer: unknown value 'x' (choose adam|adamw|sgd|momentum)"). */
int hp_trial_setting_parse(const hp_trial_setting_t *s, const char *text, hp_trial_value_t *v,
                           char *err, size_t errlen);

/* hp_trial_setting_range writes s's allowed values in words, e.g.
 * "[0, 0.99]", "1..65536", "adam|adamw|sgd|momentum", "true or false". */
void hp_trial_setting_range(const hp_trial_setting_t *s, char *out, size_t outlen);

/* hp_trial_settings_names writes every setting name, comma-separated. */
void hp_trial_settings_names(char *out, size_t outlen);

/* hp_trial_settings_help prints one line per setting: name, default, doc
 * and choices (what `hpworker train --help` shows). */
void hp_trial_settings_help(FILE *f);

/* How a key of the spec's trial.dataset mapping (docs/spec.md) becomes a
 * setting: its value (as text) sets `setting`, after `prefix` if there is
 * one. A boolean key with `when_true` sets the setting to that when true
 * and nothing when false (the defaults are off). A key may set several
 * settings (augment), so look at every row. */
typedef struct hp_trial_dataset_key {
    const char *key;
    const char *setting;
    const char *prefix;    /* or NULL */
    const char *when_true; /* or NULL */
} hp_trial_dataset_key_t;

extern const hp_trial_dataset_key_t hp_trial_dataset_keys[];
extern const size_t hp_trial_dataset_keys_n;

/* hp_trial_dataset_is_path says whether trial.dataset's short form s (n
 * bytes) names a CSV file (contains '/' or ends in .csv) rather than a
 * built-in dataset. */
int hp_trial_dataset_is_path(const char *s, size_t n);

#endif
