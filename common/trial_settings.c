/* The table of a built-in model trial's settings (trial_settings.def), how
 * one value is read, and how the spec's trial.dataset keys map onto it. */
#include "trial_settings.h"

#include "err.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const hp_trial_setting_t hp_trial_settings[] = {
#define HP_TRIAL_SETTING(name, type, lo, hi, choices, aliases, def, data_key, doc)           \
    {#name, HP_TS_##type, lo, hi, choices, aliases, def, data_key, doc},
#include "trial_settings.def"
#undef HP_TRIAL_SETTING
};
const size_t hp_trial_settings_n = HP_ARRAY_LEN(hp_trial_settings);

/* The spec's trial.dataset keys in docs/spec.md's order. The spec checks
 * each key's value in its own terms (train_subset is a count,
 * validation_fraction a fraction) before it gets here; the worker's
 * runner applies the rows in order, after the defaults and before
 * trial.fixed. */
const hp_trial_dataset_key_t hp_trial_dataset_keys[] = {
    {"name", "dataset", NULL, NULL},
    {"path", "dataset", "csv:", NULL},
    {"label", "label", NULL, NULL},
    {"task", "task", NULL, NULL},
    {"train_subset", "train_size", NULL, NULL},
    {"validation_fraction", "val_size", NULL, NULL},
    {"normalize", "normalize", NULL, NULL}, /* the spec's words are the setting's aliases */
    {"shift", "shift", NULL, NULL},
    {"adapt", "adapt", NULL, NULL},
    {"image_columns", "image_columns", NULL, NULL},
    {"image_shape", "image_shape", NULL, NULL},
    {"feature_columns", "feature_columns", NULL, NULL},
    {"sequence_columns", "sequence_columns", NULL, NULL},
    {"sequence_shape", "sequence_shape", NULL, NULL},
    /* "random shifts/flips": the spec has one switch for both */
    {"augment", "augment_shift", NULL, "2"},
    {"augment", "augment_flip", NULL, "1"},
};
const size_t hp_trial_dataset_keys_n = HP_ARRAY_LEN(hp_trial_dataset_keys);

int hp_trial_dataset_is_path(const char *s, size_t n)
{
    return memchr(s, '/', n) != NULL || (n > 4 && memcmp(s + n - 4, ".csv", 4) == 0);
}

const hp_trial_setting_t *hp_trial_setting_find(const char *name)
{
    for (size_t i = 0; i < hp_trial_settings_n; i++)
        if (strcmp(hp_trial_settings[i].name, name) == 0)
            return &hp_trial_settings[i];
    return NULL;
}

void hp_trial_settings_names(char *out, size_t outlen)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < hp_trial_settings_n && o < outlen; i++)
        o += (size_t)snprintf(out + o, outlen - o, "%s%s", i ? ", " : "", hp_trial_settings[i].name);
}

void hp_trial_settings_help(FILE *f)
{
    for (size_t i = 0; i < hp_trial_settings_n; i++) {
        const hp_trial_setting_t *s = &hp_trial_settings[i];
        fprintf(f, "  %-14s %-14s %s", s->name, s->def[0] ? s->def : "-", s->doc);
        if (s->choices)
            fprintf(f, " (%s)", s->choices);
        fputc('\n', f);
    }
}

void hp_trial_setting_range(const hp_trial_setting_t *s, char *out, size_t outlen)
{
    switch (s->type) {
    case HP_TS_INT:
        snprintf(out, outlen, "%.0f..%.0f", s->lo, s->hi);
        return;
    case HP_TS_U64:
        snprintf(out, outlen, "0..2^64-1");
        return;
    case HP_TS_DOUBLE:
        snprintf(out, outlen, "[%g, %g]", s->lo, s->hi);
        return;
    case HP_TS_BOOL:
        snprintf(out, outlen, "true or false");
        return;
    case HP_TS_INTLIST:
        snprintf(out, outlen, "%.0f..%.0f, or a list of up to %d", s->lo, s->hi, HP_TRIAL_LIST_MAX);
        return;
    case HP_TS_STRING:
        if (s->choices)
            snprintf(out, outlen, "%s", s->choices);
        else
            snprintf(out, outlen, "text, at most %.0f bytes", s->hi);
        return;
    }
    snprintf(out, outlen, "?");
}

/* word_at finds v (n bytes) among the '|'-separated words of list; for
 * "alias=value" words it matches the alias and returns the value. */
static const char *word_at(const char *list, const char *v, size_t n, size_t *outlen)
{
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, '|');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        const char *eq = memchr(p, '=', l);
        size_t kl = eq ? (size_t)(eq - p) : l;
        if (kl == n && strncmp(p, v, n) == 0) {
            *outlen = eq ? l - kl - 1 : l;
            return eq ? eq + 1 : p;
        }
        p = e ? e + 1 : NULL;
    }
    return NULL;
}

static int parse_num(const hp_trial_setting_t *s, const char *v, double *out, char *err,
                     size_t errlen)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *end != '\0' || errno == ERANGE || !isfinite(d))
        return hp_errf(err, errlen, HP_EINVAL, "not a number: '%s'", v);
    if (s->type != HP_TS_DOUBLE && d != floor(d))
        return hp_errf(err, errlen, HP_EINVAL, "must be an integer (got %s)", v);
    if (d < s->lo || d > s->hi)
        return hp_errf(err, errlen, HP_EINVAL, "must be in [%g, %g] (got %s)", s->lo, s->hi, v);
    *out = d;
    return 0;
}

/* "256", "512,256", "[512, 256]" (JSON from a study spec) */
static int parse_list(const hp_trial_setting_t *s, const char *v, hp_trial_value_t *out, char *err,
                      size_t errlen)
{
    char tmp[256];
    if (strlen(v) >= sizeof tmp)
        return hp_errf(err, errlen, HP_EINVAL, "value too long");
    strcpy(tmp, v);
    char *p = tmp;
    if (*p == '[')
        p++;
    char *close = strchr(p, ']');
    if (close)
        *close = '\0';
    out->nlist = 0;
    char *save = NULL;
    for (char *tok = strtok_r(p, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        if (out->nlist == HP_TRIAL_LIST_MAX)
            return hp_errf(err, errlen, HP_EINVAL, "at most %d layers", HP_TRIAL_LIST_MAX);
        double d = 0; /* hp_errf()'s result is opaque to the optimiser */
        int rc = parse_num(s, tok, &d, err, errlen);
        if (rc < 0)
            return rc;
        out->list[out->nlist++] = (int)d;
    }
    if (out->nlist == 0)
        return hp_errf(err, errlen, HP_EINVAL, "expected a width or a list of widths");
    return 0;
}

int hp_trial_setting_parse(const hp_trial_setting_t *s, const char *v, hp_trial_value_t *out,
                           char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    switch (s->type) {
    case HP_TS_STRING:
        out->text = v;
        out->len = strlen(v);
        if (s->choices && !(out->text = word_at(s->choices, v, out->len, &out->len)) &&
            !(s->aliases && (out->text = word_at(s->aliases, v, strlen(v), &out->len))))
            return hp_errf(err, errlen, HP_EINVAL, "unknown value '%s' (choose %s)", v, s->choices);
        if (strlen(v) > (size_t)s->hi)
            return hp_errf(err, errlen, HP_EINVAL, "value too long (max %zu characters)",
                           (size_t)s->hi);
        return 0;
    case HP_TS_BOOL:
        if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
            out->num = 1;
        else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
            out->num = 0;
        else
            return hp_errf(err, errlen, HP_EINVAL, "expected true or false (got '%s')", v);
        return 0;
    case HP_TS_INT:
    case HP_TS_DOUBLE:
        return parse_num(s, v, &out->num, err, errlen);
    case HP_TS_U64: {
        char *end;
        errno = 0;
        unsigned long long u = strtoull(v, &end, 10);
        if (end == v || *end || errno || v[0] == '-')
            return hp_errf(err, errlen, HP_EINVAL, "expected a non-negative integer (got '%s')", v);
        out->u64 = u;
        return 0;
    }
    case HP_TS_INTLIST:
        return parse_list(s, v, out, err, errlen);
    }
    return hp_errf(err, errlen, HP_EINVAL, "unknown setting type");
}
