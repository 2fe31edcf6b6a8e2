/* The engine's side of the settings table: where each setting of
 * common/trial_settings.def lives in hp_train_config_t. The names, types,
 * ranges, defaults and help are the table's; this file only stores what
 * hp_trial_setting_parse read. */
#include "train.h"

#include "err.h"
#include "trial_settings.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define FIELD(f) (((hp_train_config_t *)0)->f)

/* Each setting's field must hold its type: checked when this compiles, so
 * a setting added to the table without a field (or with the wrong one)
 * does not build. (x + 0 turns a char array into char *.) */
enum { STORE_INT = 1, STORE_BOOL = 1, STORE_U64 = 2, STORE_DOUBLE = 3, STORE_STRING = 4, STORE_INTLIST = 5 };
#define STORAGE(f)                                                                                 \
    _Generic(FIELD(f) + 0, int: 1, uint64_t: 2, double: 3, char *: 4, int *: 5, default: 0)
#define HP_TRIAL_SETTING(name, type, lo, hi, choices, aliases, def, data_key, doc)               \
    _Static_assert(STORAGE(name) == STORE_##type, "hp_train_config_t." #name                     \
                                                  " is not a " #type " field");
#include "trial_settings.def"
#undef HP_TRIAL_SETTING

/* in the table's order: fields[i] stores hp_trial_settings[i] */
static const struct {
    size_t off, size;
} fields[] = {
#define HP_TRIAL_SETTING(name, type, lo, hi, choices, aliases, def, data_key, doc)               \
    {offsetof(hp_train_config_t, name), sizeof(FIELD(name))},
#include "trial_settings.def"
#undef HP_TRIAL_SETTING
};

_Static_assert(HP_TRAIN_MAX_HIDDEN == HP_TRIAL_LIST_MAX, "hidden holds a list setting's items");

void hp_train_config_names(char *out, size_t outlen)
{
    hp_trial_settings_names(out, outlen);
}

void hp_train_config_help(FILE *f)
{
    hp_trial_settings_help(f);
}

static void store(hp_train_config_t *cfg, size_t i, const hp_trial_value_t *v)
{
    const hp_trial_setting_t *s = &hp_trial_settings[i];
    char *base = (char *)cfg + fields[i].off;
    switch (s->type) {
    case HP_TS_STRING:
        /* the table's longest value fits the field (hp_train_config_defaults checks) */
        memcpy(base, v->text, v->len);
        base[v->len] = '\0';
        return;
    case HP_TS_BOOL:
    case HP_TS_INT:
        *(int *)base = (int)v->num;
        return;
    case HP_TS_U64:
        *(uint64_t *)base = v->u64;
        return;
    case HP_TS_DOUBLE:
        *(double *)base = v->num;
        return;
    case HP_TS_INTLIST:
        /* the one list setting; its count is beside it */
        HP_ASSERT(base == (char *)cfg->hidden);
        memcpy(cfg->hidden, v->list, sizeof(int) * (size_t)v->nlist);
        cfg->nhidden = v->nlist;
        return;
    }
}

static int set_one(hp_train_config_t *cfg, size_t i, const char *value, char *err, size_t errlen)
{
    hp_trial_value_t v;
    char why[512];
    if (hp_trial_setting_parse(&hp_trial_settings[i], value, &v, why, sizeof why) < 0)
        return hp_errf(err, errlen, HP_EINVAL, "%s: %s", hp_trial_settings[i].name, why);
    store(cfg, i, &v);
    return 0;
}

int hp_train_config_set(hp_train_config_t *cfg, const char *name, const char *value, char *err,
                        size_t errlen)
{
    const hp_trial_setting_t *s = hp_trial_setting_find(name);
    if (s)
        return set_one(cfg, (size_t)(s - hp_trial_settings), value, err, errlen);
    char known[1024];
    hp_train_config_names(known, sizeof known);
    return hp_errf(err, errlen, HP_EINVAL, "unknown hyperparameter '%s' (known: %s)", name, known);
}

int hp_train_config_set_kv(hp_train_config_t *cfg, const char *kv, char *err, size_t errlen)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return hp_errf(err, errlen, HP_EINVAL, "expected name=value (got '%s')", kv);
    char name[64];
    size_t n = (size_t)(eq - kv);
    if (n >= sizeof name)
        return hp_errf(err, errlen, HP_EINVAL, "name too long in '%s'", kv);
    memcpy(name, kv, n);
    name[n] = '\0';
    return hp_train_config_set(cfg, name, eq + 1, err, errlen);
}

void hp_train_config_defaults(hp_train_config_t *cfg)
{
    HP_ASSERT(HP_ARRAY_LEN(fields) == hp_trial_settings_n);
    memset(cfg, 0, sizeof *cfg);
    char e[256];
    for (size_t i = 0; i < hp_trial_settings_n; i++) {
        const hp_trial_setting_t *s = &hp_trial_settings[i];
        HP_ASSERT(s->type != HP_TS_STRING || fields[i].size == (size_t)s->hi + 1);
        if (s->def[0])
            HP_ASSERT(set_one(cfg, i, s->def, e, sizeof e) == 0);
    }
}
