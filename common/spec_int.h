/*
 * spec_int.h — private to the spec module:
 *   spec_yaml.c   the walking layer: scalars, mappings, typed getters that
 *                 report a diagnostic with file:line: path
 *   spec.c        the document: loading, name, objective, search
 *   spec_space.c  space: parameters into an hp_space_t
 *   spec_when.c   space: conditions (when:) and their defaults
 *   spec_trial.c  trial: model / function / command, fixed, env
 *   spec_pruning.c pruning: the early-stopping rule and its settings
 *   spec_constraints.c constraints: metric bounds, and judging a trial
 *   spec_names.c  the name tables of the spec's enums, hp_*_name
 *   spec_base.c   the hp_spec_t value: init/fini, find_fixed, equality
 *   spec_json.c   canonical JSON and the dataset key
 * Every getter reports its own error and returns -1, so callers just move
 * on to the next field: all mistakes are collected.
 */
#ifndef HP_SPEC_INT_H
#define HP_SPEC_INT_H

#include "spec.h"

#include <libfyaml.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_KEYS 1000        /* pairs looked at in one mapping */
#define MAX_LIST 10000       /* items looked at in one list */
#define MAX_FIXED 256
#define MAX_ENV 256
#define MAX_ARGS 4096
#define MAX_WARM_START 100 /* search.warm_start names */
#define MAX_CONSTRAINTS 16 /* constraints: entries */
#define MAX_TEXT 4096        /* longest string field */
#define INT_EXACT 9007199254740992.0 /* 2^53 */

typedef struct ctx {
    const char *file;
    hp_diag_t *diag;
    int errors;
    hp_spec_t *spec;
} ctx_t;

typedef enum kind {
    K_NULL,
    K_BOOL,
    K_NUMBER,
    K_STRING,
    K_SEQ,
    K_MAP,
    K_BAD, /* alias, tag or NUL: already reported */
} kind_t;

typedef struct val {
    kind_t kind;
    const char *text; /* scalar text (not NUL-terminated) */
    size_t len;
    double num;       /* K_NUMBER; K_BOOL: 0/1 */
    int line;
    int quoted;
    int overflow; /* K_NUMBER: the text is beyond the largest double (num = inf) */
} val_t;

typedef struct entry {
    char *key;
    size_t klen;
    int line;
    struct fy_node *val;
    int used;
} entry_t;

typedef struct map {
    entry_t *e;
    size_t n;
    int line; /* of the mapping's own key (for "missing" errors) */
    char path[256];
} map_t;

/* A parameter's `when:` and `default:` as written (spec_when.c): read
 * with the parameter, resolved against the whole space after it. */
typedef struct spec_when {
    int line;                     /* of `when:`; 0: none given */
    int ok;                       /* it read cleanly */
    char parent[HP_PARAM_NAME_MAX];
    hp_choice_t *values;          /* the parent's choices it names */
    size_t n_values;
    int default_line;             /* of `default:`; 0: none */
    int has_default;
    hp_choice_t def;
} spec_when_t;

typedef struct space_lines {
    int space;  /* line of the `space:` key */
    int *param; /* per space.params[i] */
    spec_when_t *when; /* per space.params[i] (n_when allocated) */
    size_t n_when;
    /* names of the space's entries that had errors and so are not in
     * space.params: later checks do not call them missing as well */
    char (*dropped)[HP_PARAM_NAME_MAX];
    size_t n_dropped;
} space_lines_t;

/* spec_err adds one diagnostic (file from the context) and counts it. */
void spec_err(ctx_t *c, int line, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* spec_warn adds one warning (spec->warnings: the spec is still valid). */
void spec_warn(ctx_t *c, int line, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
char *spec_strndup(const char *s, size_t n); /* aborts on OOM */
char *spec_strdup(const char *s);
/* spec_show copies user text for a message: short, non-printables escaped. */
const char *spec_show(char *out, size_t cap, const char *s, size_t n);
void spec_join(char *out, size_t cap, const char *const *words, size_t n);
/* spec_suggest writes the hint after an unknown word s (n bytes):
 * " (did you mean 'w'?)" for the closest word of known (common/suggest.h),
 * else " (known: a, b, ...)". */
void spec_suggest(char *out, size_t cap, const char *s, size_t n, const char *const *known,
                  size_t nknown);
/* spec_word_in: index of s (n bytes) in words, or -1. */
int spec_word_in(const char *s, size_t n, const char *const *words, size_t nw);
int spec_is_ident(const char *s, size_t n);
void spec_number_text(double v, char **out); /* canonical number text */

/* spec_classify says what node is (YAML 1.2 core schema for plain
 * scalars); aliases, tags and NULs are reported here and come back K_BAD.
 * line is used when the node has none of its own (collections). */
val_t spec_classify(ctx_t *c, struct fy_node *n, const char *path, int line);
void spec_type_err(ctx_t *c, const val_t *v, const char *path, const char *want);
/* Getters: 0 and *out set, or -1 after reporting at path. */
int spec_get_number(ctx_t *c, const val_t *v, const char *path, double lo, double hi,
                    const char *range_desc, double *out);
int spec_get_uint(ctx_t *c, const val_t *v, const char *path, uint64_t lo, uint64_t hi,
                  uint64_t *out);
int spec_get_u32(ctx_t *c, const val_t *v, const char *path, uint32_t lo, uint32_t hi,
                 uint32_t *out);
int spec_get_bool(ctx_t *c, const val_t *v, const char *path, int *out);
int spec_get_string(ctx_t *c, const val_t *v, const char *path, char **out);
int spec_get_enum(ctx_t *c, const val_t *v, const char *path, const char *what,
                  const char *const *words, size_t nw, int *out);

/* Mappings: spec_map_open collects the pairs (reporting duplicate and
 * non-scalar keys); spec_map_get takes a key; spec_map_unknown reports every
 * key not taken, with a "did you mean". */
int spec_map_open(ctx_t *c, struct fy_node *n, const char *path, int line, map_t *m);
void spec_map_fini(map_t *m);
entry_t *spec_map_get(map_t *m, const char *key);
val_t spec_entry_val(ctx_t *c, const map_t *m, const entry_t *e, char *path, size_t cap);
void spec_map_unknown(ctx_t *c, map_t *m, const char *const *known, size_t nknown);
void spec_missing(ctx_t *c, const map_t *m, const char *key, const char *why);
void spec_subpath(char *out, size_t cap, const char *parent, const char *k, size_t kl);

/* The sections (each reports its own errors). */
void spec_parse_space(ctx_t *c, map_t *root, space_lines_t *sl);
/* 1 if the space has an entry NAME that had errors (not in space.params) */
int spec_space_dropped(const space_lines_t *sl, const char *name);
void spec_space_lines_fini(space_lines_t *sl);
/* spec_when_read reads the `when:` and `default:` of parameter map m
 * (path "space.NAME") into w; spec_when_resolve checks every condition
 * against the whole space (parents, their choices, cycles) and puts the
 * good ones into it; spec_when_fini frees w. */
void spec_when_read(ctx_t *c, map_t *m, const char *path, spec_when_t *w);
void spec_when_resolve(ctx_t *c, space_lines_t *sl);
void spec_when_fini(spec_when_t *w);
void spec_space_check(ctx_t *c, const space_lines_t *sl);
void spec_check_grid(ctx_t *c, const space_lines_t *sl);
void spec_parse_trial(ctx_t *c, map_t *root, const space_lines_t *sl);
/* spec_check_objective refuses objective i's metric (given on line; 0: not
 * given) when the trial can never report it (spec_objective.c). Call it
 * once the trial section is parsed. */
void spec_check_objective(ctx_t *c, size_t i, int line);
/* spec_parse_objective_list reads `objective:` given as a list (entry e),
 * setting lines[i] to the line of entry i's metric (spec_objective.c). */
void spec_parse_objective_list(ctx_t *c, entry_t *e, int *lines);
/* spec_check_several refuses what several objectives cannot go with
 * (coarse-to-fine, pruning, warm_start); e is the `objective` entry.
 * Call it once every section is parsed. */
void spec_check_several(ctx_t *c, const entry_t *e);
/* spec_get_metric: a string that is a valid metric name (no spaces or
 * '=', 1..63 characters), or -1 after reporting at path. */
int spec_get_metric(ctx_t *c, const val_t *v, const char *path, char **out);
/* after objective and trial: their settings are its defaults */
void spec_parse_pruning(ctx_t *c, map_t *root);
/* constraints: the list of metric bounds (spec_constraints.c) */
void spec_parse_constraints(ctx_t *c, map_t *root);

/* The name tables (spec_names.c), in enum order. */
extern const char *const hp_spec_goal_names[2];
extern const char *const hp_spec_algo_names[5];
extern const char *const hp_spec_acquisition_names[2];
extern const char *const hp_spec_model_names[7];
extern const char *const hp_spec_function_names[4];
extern const char *const hp_spec_task_names[2];
extern const char *const hp_spec_normalize_names[4];
extern const char *const hp_spec_shift_names[4];
extern const char *const hp_spec_adapt_names[2];
extern const char *const hp_spec_param_type_names[3];

/* Built-in dataset names accepted by trial.dataset. */
extern const char *const hp_spec_datasets[1];

/* Defaults (docs/spec.md lists the same values). */
#define HP_SPEC_DEFAULT_EPOCHS 10
#define HP_SPEC_DEFAULT_RETRIES 2
#define HP_SPEC_DEFAULT_KILL_GRACE 10.0 /* seconds: SIGTERM -> SIGKILL */
#define HP_SPEC_DEFAULT_MAX_FAILURES 5
#define HP_SPEC_DEFAULT_ROUNDS 4
#define HP_SPEC_DEFAULT_TOP_FRACTION 0.25
#define HP_SPEC_DEFAULT_SHRINK 0.5
#define HP_SPEC_DEFAULT_N_INITIAL 10
#define HP_SPEC_DEFAULT_KAPPA 1.0
#define HP_SPEC_DEFAULT_VAL_FRACTION 0.1

/* hp_spec_values_free frees the strings of n values and the array. */
void hp_spec_values_free(hp_spec_value_t *v, size_t n);

#endif
