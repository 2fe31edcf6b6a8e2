/* The settings table: every name a trial may set, its type, default,
 * allowed values and help, in one place (redis configs[] style). */
#include "train.h"

#include "err.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { T_INT, T_U64, T_DOUBLE, T_STR, T_BOOL, T_INTLIST } stype_t;

typedef struct setting {
    const char *name;
    stype_t type;
    size_t off;
    size_t size;         /* T_STR: buffer size */
    double lo, hi;       /* numeric range, inclusive */
    const char *choices; /* T_STR: "a|b|c", or NULL for free text */
    const char *def;
    const char *help;
} setting_t;

#define OFF(f) offsetof(hp_train_config_t, f)
#define SZ(f) sizeof(((hp_train_config_t *)0)->f)

static const setting_t settings[] = {
    {"model", T_STR, OFF(model), SZ(model), 0, 0, "mlp|lenet|lstm|linear", "mlp",
     "architecture (linear: softmax / linear regression, no hidden layer)"},
    {"dataset", T_STR, OFF(dataset), SZ(dataset), 0, 0, NULL, "fashion-mnist",
     "fashion-mnist, or csv:PATH for tabular data"},
    {"data_dir", T_STR, OFF(data_dir), SZ(data_dir), 0, 0, NULL, "",
     "directory of the Fashion-MNIST .gz files (default /usr/share/datasets/fashion-mnist)"},
    {"label", T_STR, OFF(label), SZ(label), 0, 0, NULL, "", "CSV label column (default: last)"},
    {"task", T_STR, OFF(task), SZ(task), 0, 0, "classification|regression", "classification",
     "CSV task"},
    {"epochs", T_INT, OFF(epochs), 0, 1, 100000, NULL, "5", "passes over the training split"},
    {"seed", T_U64, OFF(seed), 0, 0, 0, NULL, "1", "RNG seed (init, shuffling, dropout, augmentation)"},
    {"threads", T_INT, OFF(threads), 0, 1, 256, NULL, "1", "BLAS threads (the worker's slots)"},
    {"hidden", T_INTLIST, OFF(hidden), 0, 1, 1 << 20, NULL, "",
     "hidden width, or a list 512,256 for depth (mlp default 256, lstm 128)"},
    {"activation", T_STR, OFF(activation), SZ(activation), 0, 0, "relu|tanh", "relu",
     "mlp activation (relu: He init, tanh: Glorot init)"},
    {"layers", T_INT, OFF(layers), 0, 1, 8, NULL, "1", "lstm layers"},
    {"conv1", T_INT, OFF(conv1), 0, 1, 1024, NULL, "6", "lenet first conv channels"},
    {"conv2", T_INT, OFF(conv2), 0, 1, 1024, NULL, "16", "lenet second conv channels"},
    {"fc1", T_INT, OFF(fc1), 0, 1, 1 << 16, NULL, "120", "lenet first fc width"},
    {"fc2", T_INT, OFF(fc2), 0, 1, 1 << 16, NULL, "84", "lenet second fc width"},
    {"dropout", T_DOUBLE, OFF(dropout), 0, 0, 0.99, NULL, "0", "dropout after hidden layers"},
    {"batchnorm", T_BOOL, OFF(batchnorm), 0, 0, 1, NULL, "0", "batch norm after hidden layers"},
    {"optimizer", T_STR, OFF(optimizer), SZ(optimizer), 0, 0, "adam|adamw|sgd|momentum", "adam",
     "optimizer"},
    {"lr", T_DOUBLE, OFF(lr), 0, 0, 100, NULL, "3e-4", "learning rate"},
    {"momentum", T_DOUBLE, OFF(momentum), 0, 0, 1, NULL, "0.9", "momentum (optimizer=momentum)"},
    {"beta1", T_DOUBLE, OFF(beta1), 0, 0, 0.999999, NULL, "0.9", "Adam beta1"},
    {"beta2", T_DOUBLE, OFF(beta2), 0, 0, 0.999999, NULL, "0.999", "Adam beta2"},
    {"eps", T_DOUBLE, OFF(eps), 0, 1e-30, 1, NULL, "1e-8", "Adam epsilon"},
    {"weight_decay", T_DOUBLE, OFF(weight_decay), 0, 0, 10, NULL, "0",
     "L2 penalty (decoupled for adamw)"},
    {"clip_norm", T_DOUBLE, OFF(clip_norm), 0, 0, 1e9, NULL, "0",
     "clip the global gradient norm to this (0 = off)"},
    {"schedule", T_STR, OFF(schedule), SZ(schedule), 0, 0, "constant|step|cosine", "constant",
     "learning-rate schedule"},
    {"step_epochs", T_INT, OFF(step_epochs), 0, 1, 100000, NULL, "10",
     "schedule=step: epochs between decays"},
    {"gamma", T_DOUBLE, OFF(gamma), 0, 0, 1, NULL, "0.1", "schedule=step: decay factor"},
    {"batch_size", T_INT, OFF(batch_size), 0, 1, 65536, NULL, "128", "minibatch size"},
    {"val_size", T_DOUBLE, OFF(val_size), 0, 0, 1e9, NULL, "0.1",
     "validation held out from training data (< 1: fraction, else count)"},
    {"train_size", T_DOUBLE, OFF(train_size), 0, 0, 1e9, NULL, "0",
     "use only this many training samples (< 1: fraction; 0 = all; the seed suggests 10000 to start)"},
    {"test_size", T_DOUBLE, OFF(test_size), 0, 0, 1e9, NULL, "0.2",
     "CSV: test samples held out (< 1: fraction, else count)"},
    {"normalize", T_STR, OFF(normalize), SZ(normalize), 0, 0, "standard|unit|center|none",
     "standard", "input normalization (statistics from the training split only)"},
    {"augment_shift", T_INT, OFF(augment_shift), 0, 0, 8, NULL, "0",
     "random image shift of up to N pixels"},
    {"augment_flip", T_BOOL, OFF(augment_flip), 0, 0, 1, NULL, "0", "random horizontal flip"},
    {"max_steps", T_INT, OFF(max_steps), 0, 0, 2e9, NULL, "0", "stop after N steps (0 = no limit)"},
    {"eval_every", T_INT, OFF(eval_every), 0, 1, 2e9, NULL, "1",
     "evaluate the validation sets every N epochs (and after the last)"},
    {"initial_eval", T_INT, OFF(initial_eval), 0, 0, 1, NULL, "0",
     "1: report an epoch 0 with the losses at initialization (a curve's starting point)"},
    {"shift", T_STR, OFF(shift), SZ(shift), 0, 0, "none|darken|noise|same", "none",
     "test distribution: the test images darkened (x 0.4), with Gaussian noise (sigma 0.3 x 255), "
     "or the same (a test-distribution validation set with no shift: the control)"},
    {"shift_val_size", T_DOUBLE, OFF(shift_val_size), 0, 0, 1e9, NULL, "0.2",
     "shift: test-distribution validation held out from the shifted test set (< 1: fraction)"},
    {"baselines", T_BOOL, OFF(baselines), 0, 0, 1, NULL, "0",
     "1: also report majority-class and linear-model test errors (a known result to beat)"},
};

void hp_train_config_names(char *out, size_t outlen)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < HP_ARRAY_LEN(settings) && o < outlen; i++)
        o += (size_t)snprintf(out + o, outlen - o, "%s%s", i ? ", " : "", settings[i].name);
}

void hp_train_config_help(FILE *f)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(settings); i++) {
        const setting_t *s = &settings[i];
        fprintf(f, "  %-14s %-14s %s", s->name, s->def[0] ? s->def : "-", s->help);
        if (s->choices)
            fprintf(f, " (%s)", s->choices);
        fputc('\n', f);
    }
}

static int in_choices(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        const char *e = strchr(p, '|');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && strncmp(p, v, n) == 0)
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

static int parse_num(const setting_t *s, const char *v, double *out, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *end != '\0' || errno == ERANGE || !isfinite(d))
        return hp_errf(err, errlen, HP_EINVAL, "%s: not a number: '%s'", s->name, v);
    if ((s->type == T_INT || s->type == T_U64) && d != floor(d))
        return hp_errf(err, errlen, HP_EINVAL, "%s: must be an integer (got %s)", s->name, v);
    if (s->type == T_U64 ? d < 0 : (d < s->lo || d > s->hi))
        return hp_errf(err, errlen, HP_EINVAL, "%s: must be in [%g, %g] (got %s)", s->name, s->lo,
                       s->hi, v);
    *out = d;
    return 0;
}

static int set_one(hp_train_config_t *cfg, const setting_t *s, const char *v, char *err,
                   size_t errlen)
{
    char *base = (char *)cfg + s->off;
    double d = 0;
    int rc;
    switch (s->type) {
    case T_STR:
        if (s->choices && !in_choices(s->choices, v))
            return hp_errf(err, errlen, HP_EINVAL, "%s: unknown value '%s' (choose %s)", s->name, v,
                           s->choices);
        if (strlen(v) >= s->size)
            return hp_errf(err, errlen, HP_EINVAL, "%s: value too long (max %zu characters)",
                           s->name, s->size - 1);
        memcpy(base, v, strlen(v) + 1);
        return 0;
    case T_BOOL:
        if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
            *(int *)base = 1;
        else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
            *(int *)base = 0;
        else
            return hp_errf(err, errlen, HP_EINVAL, "%s: expected true or false (got '%s')", s->name, v);
        return 0;
    case T_INT:
        if ((rc = parse_num(s, v, &d, err, errlen)) < 0)
            return rc;
        *(int *)base = (int)d;
        return 0;
    case T_U64: {
        char *end;
        errno = 0;
        unsigned long long u = strtoull(v, &end, 10);
        if (end == v || *end || errno || v[0] == '-')
            return hp_errf(err, errlen, HP_EINVAL, "%s: expected a non-negative integer (got '%s')",
                           s->name, v);
        *(uint64_t *)base = u;
        return 0;
    }
    case T_DOUBLE:
        if ((rc = parse_num(s, v, &d, err, errlen)) < 0)
            return rc;
        *(double *)base = d;
        return 0;
    case T_INTLIST: {
        /* "256", "512,256", "[512, 256]" (JSON from a study spec) */
        char tmp[256];
        if (strlen(v) >= sizeof tmp)
            return hp_errf(err, errlen, HP_EINVAL, "%s: value too long", s->name);
        strcpy(tmp, v);
        int n = 0, vals[HP_TRAIN_MAX_HIDDEN];
        char *p = tmp;
        if (*p == '[')
            p++;
        char *close = strchr(p, ']');
        if (close)
            *close = '\0';
        for (char *tok = strtok(p, ", "); tok; tok = strtok(NULL, ", ")) {
            if (n == HP_TRAIN_MAX_HIDDEN)
                return hp_errf(err, errlen, HP_EINVAL, "%s: at most %d layers", s->name,
                               HP_TRAIN_MAX_HIDDEN);
            if ((rc = parse_num(s, tok, &d, err, errlen)) < 0)
                return rc;
            vals[n++] = (int)d;
        }
        if (n == 0)
            return hp_errf(err, errlen, HP_EINVAL, "%s: expected a width or a list of widths", s->name);
        memcpy(cfg->hidden, vals, sizeof(int) * (size_t)n);
        cfg->nhidden = n;
        return 0;
    }
    }
    return HP_EINVAL;
}

int hp_train_config_set(hp_train_config_t *cfg, const char *name, const char *value, char *err,
                        size_t errlen)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(settings); i++)
        if (strcmp(settings[i].name, name) == 0)
            return set_one(cfg, &settings[i], value, err, errlen);
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
    memset(cfg, 0, sizeof *cfg);
    char e[256];
    for (size_t i = 0; i < HP_ARRAY_LEN(settings); i++)
        if (settings[i].def[0])
            HP_ASSERT(set_one(cfg, &settings[i], settings[i].def, e, sizeof e) == 0);
}
